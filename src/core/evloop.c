/* Driving a context from the embedder's event loop, libcurl's multi socket model: the socket
 * and timer callbacks, imgsync_ctx_socket_action, imgsync_ctx_timeout, and the wakeup (which
 * also serves imgsync_ctx_perform and the worker). */
#define _GNU_SOURCE /* pipe2 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "core/ctx.h"
#include "util/clock.h"

/* A task record the store refused is offered again after this long. */
#define PERSIST_RETRY_MS 1000

/* A socket change the engine made on a thread other than the loop's. */
struct imgsync__io_change {
    int fd, what;
};

static int on_loop_thread(const imgsync_ctx *ctx)
{
    return ctx->socket_fn && pthread_equal(ctx->loop_thread, pthread_self());
}

/* Call the socket callback; the API refuses to be re-entered meanwhile. */
static void tell_socket(imgsync_ctx *ctx, int fd, int what)
{
    int outer = ctx->in_io;
    ctx->in_io = 1;
    ctx->socket_fn(ctx, fd, what, ctx->socket_payload);
    ctx->in_io = outer;
}

static void wake_loop(imgsync_ctx *ctx)
{
    int fd = __atomic_load_n(&ctx->wake_wr, __ATOMIC_ACQUIRE);
    if (fd >= 0 && write(fd, "w", 1) < 0) {
        /* EAGAIN: the pipe is full, so already readable */
    }
}

static void flush_changes(imgsync_ctx *ctx)
{
    for (size_t i = 0; i < ctx->nio; i++)
        tell_socket(ctx, ctx->io_queue[i].fd, ctx->io_queue[i].what);
    ctx->nio = 0;
}

/* The engine's sockets (api_lock held): told at once on the loop's thread; from another one
 * (a cancel aborting transfers) kept for the loop, which is woken to hear of them. */
static void on_engine_socket(void *ud, int fd, int what)
{
    imgsync_ctx *ctx = ud;
    if (on_loop_thread(ctx)) {
        flush_changes(ctx);
        tell_socket(ctx, fd, what);
        return;
    }
    if (ctx->nio == ctx->iocap) {
        size_t cap = ctx->iocap ? ctx->iocap * 2 : 16;
        struct imgsync__io_change *q = realloc(ctx->io_queue, cap * sizeof(*q));
        if (!q)
            return; /* the loop keeps watching a closed fd: events on it are refused (EINVAL) */
        ctx->io_queue = q;
        ctx->iocap = cap;
    }
    ctx->io_queue[ctx->nio++] = (struct imgsync__io_change){fd, what};
    wake_loop(ctx);
}

/* ---- time ------------------------------------------------------------------------------------- */

static int lower(int a, int64_t b)
{
    if (b < 0)
        return a;
    if (b > 0x7fffffff)
        b = 0x7fffffff;
    return a < 0 || b < a ? (int)b : a;
}

/* What the context next does on its own time (api_lock held). */
static int next_timeout(imgsync_ctx *ctx)
{
    int best = lower(-1, imgsync__engine_timeout(ctx->engine));
    int64_t now = imgsync__env_mono(&ctx->env);
    int active = 0;
    for (size_t i = 0; i < ctx->ntasks; i++) {
        imgsync__task *t = ctx->tasks[i];
        if (t->state != t->ev_state || (t->state != t->rec_state && !t->persist_failed))
            return 0; /* a change (cancel, start) to record and tell */
        if (t->state != t->rec_state) /* the store refused it: again in a while, not in a spin */
            best = lower(best, PERSIST_RETRY_MS);
        if (t->state == IMGSYNC_TASK_QUEUED && imgsync__task_may_start(t, ctx->tasks, ctx->ntasks))
            return 0;
        if (imgsync__task_active(t) && t->deadline_mono)
            best = lower(best, t->deadline_mono > now ? t->deadline_mono - now : 0);
        active |= imgsync__task_active(t);
    }
    if (active && !imgsync__engine_pending(ctx->engine))
        return 0; /* its runs are done: the next step ends it */
    return lower(best, imgsync__sched_next_ms(ctx));
}

/* Tell the timer callback when the context next wants to act, if that changed. */
static void tell_timer(imgsync_ctx *ctx)
{
    if (!ctx->timer_fn || ctx->in_io)
        return;
    int ms = next_timeout(ctx);
    int64_t due = ms < 0 ? -1 : imgsync__real_mono_ms() + ms;
    if (due == ctx->timer_told || (due > 0 && ctx->timer_told > 0 && ms > 0 && (due > ctx->timer_told ? due - ctx->timer_told : ctx->timer_told - due) <= 1))
        return; /* the same time, give or take the millisecond this call took */
    ctx->timer_told = due;
    ctx->in_io = 1;
    ctx->timer_fn(ctx, ms, ctx->timer_payload);
    ctx->in_io = 0;
}

void imgsync__evloop_left(imgsync_ctx *ctx)
{
    if (!ctx->socket_fn || ctx->in_perform || ctx->in_io)
        return;
    if (!on_loop_thread(ctx)) {
        wake_loop(ctx);
        return;
    }
    flush_changes(ctx);
    tell_timer(ctx);
}

/* ---- the wakeup pipe ------------------------------------------------------------------------ */

/* Made once and kept until the context is freed: imgsync_ctx_wakeup from another thread may
 * write to it at any time, and a closed number could meanwhile be another file's. */
static int pipe_open(imgsync_ctx *ctx)
{
    int p[2];
    if (ctx->wake_rd >= 0)
        return 0;
    if (pipe2(p, O_CLOEXEC | O_NONBLOCK) != 0) /* close-on-exec from the start: no window */
        return IMGSYNC_ENETWORK;
    ctx->wake_rd = p[0];
    __atomic_store_n(&ctx->wake_wr, p[1], __ATOMIC_RELEASE);
    return 0;
}

static void pipe_close(imgsync_ctx *ctx)
{
    int wr = __atomic_exchange_n(&ctx->wake_wr, -1, __ATOMIC_ACQ_REL);
    if (wr >= 0)
        close(wr);
    if (ctx->wake_rd >= 0)
        close(ctx->wake_rd);
    ctx->wake_rd = -1;
}

static void pipe_drain(imgsync_ctx *ctx)
{
    char buf[64];
    while (read(ctx->wake_rd, buf, sizeof(buf)) > 0) {
    }
}

/* Back to imgsync_ctx_perform: the loop forgets every fd (socket_fn still set). */
static void unwatch(imgsync_ctx *ctx)
{
    flush_changes(ctx);
    imgsync__engine_watch(ctx->engine, NULL, NULL);
    if (ctx->wake_rd >= 0)
        tell_socket(ctx, ctx->wake_rd, IMGSYNC_POLL_REMOVE);
    ctx->socket_fn = NULL;
    if (ctx->timer_fn && ctx->timer_told != -1) { /* a timer left armed would act on nothing */
        ctx->timer_told = -1;
        ctx->in_io = 1;
        ctx->timer_fn(ctx, -1, ctx->timer_payload);
        ctx->in_io = 0;
    }
}

void imgsync__evloop_free(imgsync_ctx *ctx)
{
    if (ctx->socket_fn) {
        ctx->loop_thread = pthread_self(); /* the freeing thread hears of the last removals */
        unwatch(ctx);
    }
    pipe_close(ctx);
    free(ctx->io_queue);
    ctx->io_queue = NULL;
}

/* ---- the API --------------------------------------------------------------------------------- */

/* A callback of this thread is running (socket, timer, event, or inside a step). */
static int in_callback(const imgsync_ctx *ctx)
{
    return imgsync__ctx_held(ctx) && (ctx->in_perform || ctx->in_event || ctx->in_io || ctx->log.in_callback);
}

int imgsync__evloop_refuse(imgsync_ctx *ctx, const char *what)
{
    if (imgsync__ctx_held(ctx) && ctx->in_io)
        return imgsync__ctx_fail(ctx, IMGSYNC_EBUSY, "%s called from the socket or timer callback", what);
    return 0;
}

static int active_tasks(const imgsync_ctx *ctx)
{
    int n = 0;
    for (size_t i = 0; i < ctx->ntasks; i++)
        n += imgsync__task_active(ctx->tasks[i]);
    return n;
}

/* Into event-loop mode with cb (api_lock held). */
static int watch(imgsync_ctx *ctx, imgsync_socket_callback cb, void *payload)
{
    if (ctx->socket_fn) { /* another callback: only the receiver changes */
        ctx->socket_fn = cb;
        ctx->socket_payload = payload;
        return 0;
    }
    /* the sockets of requests already in flight were never told: the loop could not see them */
    if (active_tasks(ctx))
        return imgsync__ctx_fail(ctx, IMGSYNC_EBUSY, "a task is queued or running: set the socket callback before starting it");
    int rc = pipe_open(ctx);
    if (!rc)
        rc = imgsync__engine_watch(ctx->engine, on_engine_socket, ctx);
    if (rc)
        return rc;
    ctx->socket_fn = cb;
    ctx->socket_payload = payload;
    ctx->loop_thread = pthread_self();
    ctx->timer_told = -2;
    tell_socket(ctx, ctx->wake_rd, IMGSYNC_POLL_IN);
    return 0;
}

static int set_socket_locked(imgsync_ctx *ctx, imgsync_socket_callback cb, void *payload)
{
    if (ctx->worker_running)
        return imgsync__ctx_fail(ctx, IMGSYNC_EBUSY, "the context is driven by its worker thread");
    if (cb)
        return watch(ctx, cb, payload);
    if (!ctx->socket_fn)
        return 0;
    if (active_tasks(ctx))
        return imgsync__ctx_fail(ctx, IMGSYNC_EBUSY, "a task is queued or running: the loop must drive it to its end");
    ctx->loop_thread = pthread_self();
    unwatch(ctx);
    return 0;
}

int imgsync_ctx_set_socket_callback(imgsync_ctx *ctx, imgsync_socket_callback cb, void *payload)
{
    if (!ctx)
        return IMGSYNC_EINVAL;
    if (in_callback(ctx))
        return imgsync__ctx_fail(ctx, IMGSYNC_EBUSY, "imgsync_ctx_set_socket_callback called from a callback");
    imgsync__ctx_enter(ctx);
    int rc = set_socket_locked(ctx, cb, payload);
    imgsync__ctx_leave(ctx);
    if (rc == IMGSYNC_EUNSUPPORTED)
        return imgsync__ctx_fail(ctx, rc, "the HTTP transport of this context cannot be driven by an event loop");
    if (rc == IMGSYNC_ENETWORK || rc == IMGSYNC_ENOMEM)
        return imgsync__ctx_fail(ctx, rc, "cannot make the wakeup descriptor of the event loop");
    return rc ? rc : imgsync__ctx_ok(ctx);
}

int imgsync_ctx_set_timer_callback(imgsync_ctx *ctx, imgsync_timer_callback cb, void *payload)
{
    if (!ctx)
        return IMGSYNC_EINVAL;
    if (in_callback(ctx))
        return imgsync__ctx_fail(ctx, IMGSYNC_EBUSY, "imgsync_ctx_set_timer_callback called from a callback");
    imgsync__ctx_enter(ctx);
    ctx->timer_fn = cb;
    ctx->timer_payload = payload;
    ctx->timer_told = -2;
    imgsync__ctx_leave(ctx); /* tells cb the current time on the loop's thread */
    return imgsync__ctx_ok(ctx);
}

typedef struct event_arg {
    int fd, events, rc;
} event_arg;

/* socket_action's network part: the one event, whether or not a task runs (curl may close
 * idle connections). */
static int event_io(imgsync_ctx *ctx, int active, void *arg)
{
    event_arg *a = arg;
    a->rc = imgsync__engine_action(ctx->engine, a->fd, a->events);
    return 1;
}

int imgsync_ctx_socket_action(imgsync_ctx *ctx, int fd, int events)
{
    if (!ctx)
        return IMGSYNC_EINVAL;
    if (in_callback(ctx))
        return imgsync__ctx_fail(ctx, IMGSYNC_EBUSY, "imgsync_ctx_socket_action called from a callback");
    imgsync__ctx_enter(ctx);
    if (!ctx->socket_fn) {
        imgsync__ctx_leave(ctx);
        return imgsync__ctx_fail(ctx, IMGSYNC_EINVAL, "imgsync_ctx_socket_action: no socket callback is set");
    }
    ctx->loop_thread = pthread_self();
    ctx->timer_told = -2; /* the timer may have fired: ask for the next one anyway */
    flush_changes(ctx);
    event_arg a = {fd, events, 0};
    if (fd == ctx->wake_rd) {
        pipe_drain(ctx);
        a.fd = IMGSYNC__IO_NONE;
    } else if (fd < 0 && fd != IMGSYNC_SOCKET_TIMEOUT) {
        a.rc = IMGSYNC_EINVAL;
    }
    int active = a.rc ? 0 : imgsync__ctx_step(ctx, event_io, &a);
    imgsync__ctx_leave(ctx); /* tells the timer callback */
    if (a.rc)
        return imgsync__ctx_fail(ctx, a.rc, "imgsync_ctx_socket_action: fd %d is not a descriptor told to the socket callback", fd);
    imgsync__ctx_ok(ctx);
    return active;
}

int imgsync_ctx_timeout(imgsync_ctx *ctx)
{
    if (!ctx)
        return -1;
    imgsync__ctx_enter(ctx);
    int ms = next_timeout(ctx);
    imgsync__ctx_leave(ctx);
    return ms;
}

void imgsync_ctx_wakeup(imgsync_ctx *ctx)
{
    if (!ctx)
        return;
    imgsync__engine_wakeup(ctx->engine);
    wake_loop(ctx);
}
