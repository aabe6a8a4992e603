/*
 * A poll() event loop for tests of imgsync_ctx_socket_action: it watches what the socket
 * callback asks for, keeps the time the timer callback asks for, and drives the context only
 * through imgsync_ctx_socket_action (never imgsync_ctx_perform or imgsync_ctx_timeout).
 */
#ifndef IMGSYNC_TESTS_POLL_LOOP_H
#define IMGSYNC_TESTS_POLL_LOOP_H

#include <stddef.h>
#include <stdint.h>

#include <imgsync.h>

#define PL_MAX_FDS 256

typedef struct pl_loop {
    imgsync_ctx *ctx;
    int fds[PL_MAX_FDS];
    int what[PL_MAX_FDS];
    size_t n;
    int64_t timer_due;    /* real monotonic ms the timer fires, -1 none */
    long socket_calls, timer_calls, actions, zero_timers;
    int bad_what;         /* the socket callback got a `what` outside IMGSYNC_POLL_* */
    int reenter;          /* callbacks try to re-enter the API ... */
    int reenter_rc;       /* ... and the last answer is kept here (0 before any) */
} pl_loop;

/* A loopback listener nobody accepts on: connections complete (the kernel's backlog), requests
 * are never answered, so one stays in flight as long as a test wants. Its URL goes to endpoint
 * ("http://127.0.0.1:PORT"). The socket, or -1. */
int pl_listen_silent(char *endpoint, size_t n);
/* Set both callbacks of ctx to l. 0, or the error of imgsync_ctx_set_*_callback. */
int pl_attach(pl_loop *l, imgsync_ctx *ctx);
/* Wait up to max_wait_ms (less when the timer is due sooner) and act on what is ready. Returns
 * the last imgsync_ctx_socket_action result (tasks left, or an error), or 0 when nothing was
 * ready. */
int pl_run_once(pl_loop *l, int max_wait_ms);
/* Run until task_id ended or timeout_ms passed. The task's final state, or -1 (timeout or an
 * error of imgsync_ctx_socket_action, printed on stderr). */
int pl_run_task(pl_loop *l, uint64_t task_id, int timeout_ms);
/* Start a sync of everything on l's context: 0, or the error of imgsync_sync_start. */
int pl_start_all(pl_loop *l, uint64_t *task_id);
/* Run until at least `n` descriptors are watched (the wakeup descriptor is one), up to
 * timeout_ms. 0, or -1. */
int pl_run_until_watching(pl_loop *l, size_t n, int timeout_ms);
/* Is fd watched (told and not removed)? */
int pl_watching(const pl_loop *l, int fd);
/* Real monotonic ms. */
int64_t pl_mono_ms(void);

#endif
