/* A poll() event loop driving a context through its socket and timer callbacks only. */
#include "support/poll_loop.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

int64_t pl_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int slot(const pl_loop *l, int fd)
{
    for (size_t i = 0; i < l->n; i++)
        if (l->fds[i] == fd)
            return (int)i;
    return -1;
}

int pl_watching(const pl_loop *l, int fd) { return slot(l, fd) >= 0; }

static int on_socket(imgsync_ctx *ctx, int fd, int what, void *payload)
{
    pl_loop *l = payload;
    int i = slot(l, fd);
    l->socket_calls++;
    if (what < IMGSYNC_POLL_IN || what > IMGSYNC_POLL_REMOVE)
        l->bad_what = 1;
    if (l->reenter)
        l->reenter_rc = imgsync_ctx_socket_action(ctx, IMGSYNC_SOCKET_TIMEOUT, 0);
    if (what == IMGSYNC_POLL_REMOVE) {
        if (i >= 0) {
            l->n--;
            l->fds[i] = l->fds[l->n];
            l->what[i] = l->what[l->n];
        }
        return 0;
    }
    if (i < 0 && l->n < PL_MAX_FDS)
        i = (int)l->n++;
    if (i >= 0) {
        l->fds[i] = fd;
        l->what[i] = what;
    }
    return 0;
}

static int on_timer(imgsync_ctx *ctx, int timeout_ms, void *payload)
{
    pl_loop *l = payload;
    l->timer_calls++;
    l->zero_timers += timeout_ms == 0;
    if (l->reenter)
        l->reenter_rc = imgsync_ctx_perform(ctx, 0);
    l->timer_due = timeout_ms < 0 ? -1 : pl_mono_ms() + timeout_ms;
    return 0;
}

int pl_attach(pl_loop *l, imgsync_ctx *ctx)
{
    l->ctx = ctx;
    l->timer_due = -1;
    int rc = imgsync_ctx_set_socket_callback(ctx, on_socket, l);
    return rc ? rc : imgsync_ctx_set_timer_callback(ctx, on_timer, l);
}

static int act(pl_loop *l, int fd, int events, int *last)
{
    l->actions++;
    *last = imgsync_ctx_socket_action(l->ctx, fd, events);
    return *last;
}

int pl_run_once(pl_loop *l, int max_wait_ms)
{
    struct pollfd p[PL_MAX_FDS];
    size_t n = l->n;
    int wait = max_wait_ms, last = 0;
    if (l->timer_due >= 0) {
        int64_t left = l->timer_due - pl_mono_ms();
        wait = left < 0 ? 0 : left < wait ? (int)left : wait;
    }
    for (size_t i = 0; i < n; i++) {
        p[i].fd = l->fds[i];
        p[i].events = (short)(((l->what[i] & IMGSYNC_POLL_IN) ? POLLIN : 0) | ((l->what[i] & IMGSYNC_POLL_OUT) ? POLLOUT : 0));
        p[i].revents = 0;
    }
    int ready = poll(p, n, wait);
    for (size_t i = 0; ready > 0 && i < n; i++) {
        if (!p[i].revents || !pl_watching(l, p[i].fd))
            continue; /* removed by an earlier action of this round */
        int ev = ((p[i].revents & (POLLIN | POLLHUP | POLLERR)) ? IMGSYNC_POLL_IN : 0) |
                 ((p[i].revents & POLLOUT) ? IMGSYNC_POLL_OUT : 0);
        if (act(l, p[i].fd, ev, &last) < 0)
            return last;
    }
    if (l->timer_due >= 0 && pl_mono_ms() >= l->timer_due) {
        l->timer_due = -1; /* one shot, like uv_timer_start(..., 0) */
        act(l, IMGSYNC_SOCKET_TIMEOUT, 0, &last);
    }
    return last;
}

int pl_start_all(pl_loop *l, uint64_t *task_id)
{
    imgsync_request *req = NULL;
    int rc = imgsync_request_new(&req);
    if (!rc)
        rc = imgsync_sync_start(l->ctx, req, task_id);
    imgsync_request_free(req);
    return rc;
}

int pl_run_until_watching(pl_loop *l, size_t n, int timeout_ms)
{
    int64_t end = pl_mono_ms() + timeout_ms;
    while (l->n < n && pl_mono_ms() < end)
        if (pl_run_once(l, 100) < 0)
            return -1;
    return l->n >= n ? 0 : -1;
}

int pl_run_task(pl_loop *l, uint64_t task_id, int timeout_ms)
{
    int64_t end = pl_mono_ms() + timeout_ms;
    while (pl_mono_ms() < end) {
        imgsync_task *t = NULL;
        int state = imgsync_task_get(&t, l->ctx, task_id) == 0 ? imgsync_task_state_of(t) : -1;
        imgsync_task_free(t);
        if (state > IMGSYNC_TASK_RUNNING)
            return state;
        int rc = pl_run_once(l, 1000);
        if (rc < 0) {
            fprintf(stderr, "poll_loop: imgsync_ctx_socket_action = %d: %s\n", rc, imgsync_ctx_errmsg(l->ctx));
            return -1;
        }
    }
    fprintf(stderr, "poll_loop: task %llu did not end in %d ms\n", (unsigned long long)task_id, timeout_ms);
    return -1;
}

int pl_listen_silent(char *endpoint, size_t n)
{
    struct sockaddr_in a;
    socklen_t len = sizeof(a);
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    if (bind(fd, (struct sockaddr *)&a, sizeof(a)) || listen(fd, 64) || getsockname(fd, (struct sockaddr *)&a, &len)) {
        close(fd);
        return -1;
    }
    snprintf(endpoint, n, "http://127.0.0.1:%d", ntohs(a.sin_port));
    return fd;
}
