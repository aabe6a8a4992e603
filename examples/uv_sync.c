/*
 * uv_sync - sync one OCI registry from a libuv event loop: the context tells the loop which
 * sockets to watch and when to call it back (imgsync_ctx_set_socket_callback /
 * imgsync_ctx_set_timer_callback), the loop reports readiness (imgsync_ctx_socket_action).
 * Nothing polls: the process sleeps in the loop between network events.
 *
 *   uv_sync NAME ENDPOINT [USERNAME]      e.g.  uv_sync local http://127.0.0.1:5000
 *
 * The password, if any, comes from $IMGSYNC_PASSWORD (never from argv, which `ps` shows).
 * Prints the task's state, then one line per image: repository:tag digest size. Exit status 0
 * when the sync succeeded, 1 otherwise, 2 for a usage error.
 */
#include <imgsync.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <uv.h>

/* One watched socket: libuv allows a single poll handle per descriptor. */
typedef struct watch {
    uv_poll_t poll;
    int fd;
    struct watch *next;
} watch;

typedef struct app {
    uv_loop_t *loop;
    uv_timer_t timer;
    imgsync_ctx *ctx;
    uint64_t task_id;
    watch *watches;
    int failed; /* imgsync_ctx_socket_action reported an error */
    int done;   /* finish ran: the timer is closed */
} app;

static void on_closed(uv_handle_t *h) { free(h->data); }

/* The task ended (or driving failed): stop watching, so that uv_run returns. */
static void finish(app *a)
{
    if (a->done)
        return;
    a->done = 1;
    /* after an error the task may still run: canceled, it no longer holds the loop */
    imgsync_task_cancel(a->ctx, a->task_id);
    imgsync_ctx_set_socket_callback(a->ctx, NULL, NULL); /* removes every descriptor (on_socket) */
    imgsync_ctx_set_timer_callback(a->ctx, NULL, NULL);
    uv_close((uv_handle_t *)&a->timer, NULL);
}

static void act(app *a, int fd, int events)
{
    int rc = imgsync_ctx_socket_action(a->ctx, fd, events);
    if (rc == IMGSYNC_EINVAL && fd >= 0)
        return; /* an event of a descriptor removed meanwhile (the header says to ignore it) */
    if (rc < 0) {
        fprintf(stderr, "imgsync_ctx_socket_action: %s: %s\n", imgsync_strerror(rc), imgsync_ctx_errmsg(a->ctx));
        a->failed = 1;
    }
    if (rc <= 0) /* no task left (or an error): done */
        finish(a);
}

static void on_poll(uv_poll_t *p, int status, int events)
{
    watch *w = p->data;
    app *a = p->loop->data;
    int what = 0;
    if (status < 0) /* an error on the socket: let the context find out what */
        what = IMGSYNC_POLL_IN | IMGSYNC_POLL_OUT;
    if (events & UV_READABLE)
        what |= IMGSYNC_POLL_IN;
    if (events & UV_WRITABLE)
        what |= IMGSYNC_POLL_OUT;
    act(a, w->fd, what);
}

static void on_timeout(uv_timer_t *t)
{
    app *a = t->data;
    act(a, IMGSYNC_SOCKET_TIMEOUT, 0);
}

static int on_socket(imgsync_ctx *ctx, int fd, int what, void *payload)
{
    app *a = payload;
    watch **pp = &a->watches, *w;
    while (*pp && (*pp)->fd != fd)
        pp = &(*pp)->next;
    w = *pp;
    if (what == IMGSYNC_POLL_REMOVE) {
        if (w) {
            *pp = w->next;
            uv_poll_stop(&w->poll); /* before the context closes fd */
            uv_close((uv_handle_t *)&w->poll, on_closed);
        }
        return 0;
    }
    if (!w) {
        if (!(w = calloc(1, sizeof(*w))) || uv_poll_init_socket(a->loop, &w->poll, fd) != 0) {
            free(w);
            fprintf(stderr, "uv_sync: cannot watch descriptor %d\n", fd);
            a->failed = 1;
            return 0;
        }
        w->fd = fd;
        w->poll.data = w;
        w->next = a->watches;
        a->watches = w;
    }
    uv_poll_start(&w->poll, ((what & IMGSYNC_POLL_IN) ? UV_READABLE : 0) | ((what & IMGSYNC_POLL_OUT) ? UV_WRITABLE : 0),
                  on_poll);
    return 0;
}

static int on_timer(imgsync_ctx *ctx, int timeout_ms, void *payload)
{
    app *a = payload;
    if (timeout_ms < 0)
        uv_timer_stop(&a->timer);
    else
        uv_timer_start(&a->timer, on_timeout, (uint64_t)timeout_ms, 0);
    return 0;
}

/* Server-supplied text without control characters (they could drive the terminal). */
static void print_safe(const char *s)
{
    for (; *s; s++)
        putchar((unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s);
}

static int report(imgsync_ctx *ctx, uint64_t id)
{
    imgsync_task *task = NULL;
    imgsync_iter *it = NULL;
    const imgsync_image *im;
    int rc = imgsync_task_get(&task, ctx, id);
    if (rc == 0)
        rc = imgsync_iter_new(&it, ctx, NULL);
    if (rc != 0) {
        fprintf(stderr, "error: %s: %s\n", imgsync_strerror(rc), imgsync_ctx_errmsg(ctx));
        imgsync_task_free(task);
        return 1;
    }
    int state = imgsync_task_state_of(task);
    printf("task %" PRIu64 ": %s\n", id, imgsync_task_state_name(state));
    for (size_t i = 0; i < imgsync_task_registry_count(task); i++) {
        if (!*imgsync_task_registry_reason(task, i))
            continue;
        printf("  %s: ", imgsync_task_registry_name(task, i));
        print_safe(imgsync_task_registry_reason(task, i));
        putchar('\n');
    }
    while ((im = imgsync_iter_next(it)) != NULL) {
        print_safe(imgsync_image_repository(im));
        putchar(':');
        print_safe(imgsync_image_tag(im));
        printf(" %s %" PRId64 "\n", imgsync_image_digest(im), imgsync_image_size(im));
    }
    imgsync_iter_free(it);
    imgsync_task_free(task);
    return state == IMGSYNC_TASK_SUCCEEDED ? 0 : 1;
}

int main(int argc, char **argv)
{
    const char *password = getenv("IMGSYNC_PASSWORD");
    imgsync_provider *registry = NULL;
    imgsync_request *everything = NULL;
    app a = {0};
    int rc, status = 1;

    if (argc < 3 || argc > 4) {
        fprintf(stderr, "usage: %s NAME ENDPOINT [USERNAME]  (password in $IMGSYNC_PASSWORD)\n", argv[0]);
        return 2;
    }
    a.loop = uv_default_loop();
    a.loop->data = &a;
    uv_timer_init(a.loop, &a.timer);
    a.timer.data = &a;
    if ((rc = imgsync_ctx_new(&a.ctx, NULL)) != 0) {
        fprintf(stderr, "imgsync_ctx_new: %s\n", imgsync_strerror(rc));
        return 1;
    }
    rc = imgsync_provider_new(&registry, a.ctx, "oci", argv[1]);
    if (rc == 0)
        rc = imgsync_provider_set(registry, "endpoint", argv[2]);
    if (rc == 0 && argc == 4)
        rc = imgsync_provider_set(registry, "username", argv[3]);
    if (rc == 0 && password != NULL)
        rc = imgsync_provider_set(registry, "password", password);
    /* the callbacks first: the sync started next asks the loop for a 0 ms timer at once */
    if (rc == 0)
        rc = imgsync_ctx_set_socket_callback(a.ctx, on_socket, &a);
    if (rc == 0)
        rc = imgsync_ctx_set_timer_callback(a.ctx, on_timer, &a);
    if (rc == 0)
        rc = imgsync_request_new(&everything);
    if (rc == 0)
        rc = imgsync_sync_start(a.ctx, everything, &a.task_id);
    if (rc != 0) {
        fprintf(stderr, "error: %s: %s\n", imgsync_strerror(rc), imgsync_ctx_errmsg(a.ctx));
        uv_close((uv_handle_t *)&a.timer, NULL);
        imgsync_ctx_set_socket_callback(a.ctx, NULL, NULL);
    }
    uv_run(a.loop, UV_RUN_DEFAULT); /* returns when nothing is watched any more (finish) */
    if (rc == 0 && !a.failed)
        status = report(a.ctx, a.task_id);
    imgsync_request_free(everything);
    imgsync_ctx_free(a.ctx);
    uv_loop_close(a.loop);
    return status;
}
