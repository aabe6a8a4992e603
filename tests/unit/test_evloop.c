/*
 * Driving a context from the embedder's event loop (imgsync_ctx_socket_action and the socket /
 * timer callbacks) and imgsync_ctx_wakeup, on the real libcurl transport against a loopback
 * listener that accepts connections (the kernel's backlog) and never answers: a request stays
 * in flight as long as a test wants. The syncs against a real registry are in
 * tests/integration/test_evloop_sync.c.
 */
#include <check.h>

#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/ctx.h"
#include "imgsync.h"
#include "support/fake_transport.h"
#include "support/poll_loop.h"

Suite *evloop_suite(void);

static int listener = -1;
static char endpoint[64];
static imgsync_ctx *ctx;
static pl_loop loop;

static void setup(void)
{
    listener = pl_listen_silent(endpoint, sizeof(endpoint));
    ck_assert_int_ge(listener, 0);
    memset(&loop, 0, sizeof(loop));
    ck_assert_int_eq(imgsync_ctx_new(&ctx, NULL), 0);
    imgsync_provider *p = NULL;
    ck_assert_int_eq(imgsync_provider_new(&p, ctx, "oci", "silent"), 0);
    ck_assert_int_eq(imgsync_provider_set(p, "endpoint", endpoint), 0);
}

static void teardown(void)
{
    imgsync_ctx_free(ctx);
    ctx = NULL;
    close(listener);
}

static uint64_t start_sync(void)
{
    uint64_t id = 0;
    loop.ctx = ctx; /* also before pl_attach */
    int rc = pl_start_all(&loop, &id);
    ck_assert_msg(rc == 0, "imgsync_sync_start = %d: %s", rc, imgsync_ctx_errmsg(ctx));
    return id;
}

static int state_of(uint64_t id)
{
    imgsync_task *t = NULL;
    ck_assert_int_eq(imgsync_task_get(&t, ctx, id), 0);
    int state = imgsync_task_state_of(t);
    imgsync_task_free(t);
    return state;
}

/* Loop until a socket besides the wakeup descriptor is watched (the request is out). */
static void until_in_flight(void)
{
    ck_assert_msg(pl_run_until_watching(&loop, 2, 5000) == 0, "no socket besides the wakeup descriptor after 5 s");
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* ---- wakeup --------------------------------------------------------------------------------- */

static void *wake_later(void *arg)
{
    sleep_ms(300);
    imgsync_ctx_wakeup(arg);
    return NULL;
}

/* A perform blocked on a request that is never answered returns soon after the wakeup from
 * another thread, far before its 10 s timeout. */
START_TEST(test_wakeup_interrupts_perform)
{
    uint64_t id = start_sync();
    ck_assert_int_eq(imgsync_ctx_perform(ctx, 0), 1); /* the task starts, its request goes out */
    pthread_t th;
    ck_assert_int_eq(pthread_create(&th, NULL, wake_later, ctx), 0);
    int64_t t0 = pl_mono_ms();
    ck_assert_int_eq(imgsync_ctx_perform(ctx, 10000), 1);
    int64_t took = pl_mono_ms() - t0;
    pthread_join(th, NULL);
    ck_assert_msg(took >= 250 && took < 3000, "perform returned after %lld ms (wakeup at 300 ms)", (long long)took);
    ck_assert_int_eq(state_of(id), IMGSYNC_TASK_RUNNING);
    ck_assert_int_eq(imgsync_task_cancel(ctx, id), 0);
    ck_assert_int_eq(imgsync_ctx_perform(ctx, 0), 0);
    ck_assert_int_eq(state_of(id), IMGSYNC_TASK_CANCELED);
    imgsync_ctx_wakeup(NULL); /* accepted */
}
END_TEST

/* ---- the loop's timer ------------------------------------------------------------------------ */

/* A sync started on the loop's thread asks for a 0 ms timer at once (no guessing by the loop),
 * and the loop alone (socket and timer callbacks) gets the request out. */
START_TEST(test_start_asks_zero_timer)
{
    ck_assert_int_eq(pl_attach(&loop, ctx), 0);
    ck_assert_int_eq(loop.n, 1); /* the wakeup descriptor, told at once */
    ck_assert_int_eq(imgsync_ctx_timeout(ctx), 0); /* the scheduler has not looked yet */
    ck_assert_int_eq(pl_run_once(&loop, 0), 0);
    ck_assert_int_eq(imgsync_ctx_timeout(ctx), -1); /* nothing to do on its own time */
    ck_assert_int_eq(loop.timer_due, -1);
    long zeros = loop.zero_timers;
    uint64_t id = start_sync();
    ck_assert_int_eq(loop.zero_timers, zeros + 1);
    ck_assert_int_eq(imgsync_ctx_timeout(ctx), 0);
    until_in_flight();
    ck_assert_int_eq(state_of(id), IMGSYNC_TASK_RUNNING);
    ck_assert_int_eq(loop.bad_what, 0);
    /* in flight, nothing due but curl's own timeouts (seconds away) */
    /* waiting for the answer: the loop sleeps between libcurl's own timers (its low-speed
     * check once a second, ...): a handful of actions in 2 s, not a spin */
    long actions = loop.actions;
    int64_t end = pl_mono_ms() + 2000;
    while (pl_mono_ms() < end)
        ck_assert_int_ge(pl_run_once(&loop, (int)(end - pl_mono_ms())), 0);
    ck_assert_msg(loop.actions - actions < 40, "%ld actions in 2 s of waiting", loop.actions - actions);
    ck_assert_int_eq(state_of(id), IMGSYNC_TASK_RUNNING);
    ck_assert_int_eq(imgsync_task_cancel(ctx, id), 0);
    ck_assert_int_eq(pl_run_task(&loop, id, 5000), IMGSYNC_TASK_CANCELED);
    ck_assert_int_eq(loop.n, 1); /* the aborted transfer's socket was removed */
}
END_TEST

/* The task deadline reaches the loop through the timer: a sync whose request is never answered
 * fails at its 1 s task timeout, not at the 30 s request timeout. */
START_TEST(test_task_deadline_through_timer)
{
    ck_assert_int_eq(imgsync_ctx_set(ctx, "task_timeout_ms", "1000"), 0);
    ck_assert_int_eq(imgsync_ctx_set(ctx, "low_speed_bytes", "0"), 0); /* no libcurl timer each second */
    ck_assert_int_eq(pl_attach(&loop, ctx), 0);
    int64_t t0 = pl_mono_ms();
    uint64_t id = start_sync();
    ck_assert_int_eq(pl_run_task(&loop, id, 10000), IMGSYNC_TASK_FAILED);
    int64_t took = pl_mono_ms() - t0;
    ck_assert_msg(took >= 900 && took < 3000, "the 1 s task timeout ended the task after %lld ms", (long long)took);
}
END_TEST

/* ---- other threads ----------------------------------------------------------------------------- */

typedef struct other_call {
    uint64_t id;
    int cancel;
    int rc;
} other_call;

static void *call_from_other_thread(void *arg)
{
    other_call *c = arg;
    if (c->cancel) {
        c->rc = imgsync_task_cancel(ctx, c->id);
    } else {
        imgsync_request *req = NULL;
        c->rc = imgsync_request_new(&req);
        if (!c->rc)
            c->rc = imgsync_sync_start(ctx, req, &c->id);
        imgsync_request_free(req);
    }
    return NULL;
}

static void run_other(other_call *c)
{
    pthread_t th;
    ck_assert_int_eq(pthread_create(&th, NULL, call_from_other_thread, c), 0);
    pthread_join(th, NULL);
    ck_assert_int_eq(c->rc, 0);
}

/* A sync started and canceled from another thread reaches the loop through the wakeup
 * descriptor: the callbacks are only called on the loop's thread. */
START_TEST(test_other_thread_wakes_loop)
{
    ck_assert_int_eq(pl_attach(&loop, ctx), 0);
    ck_assert_int_eq(pl_run_once(&loop, 0), 0);
    long calls = loop.socket_calls + loop.timer_calls;
    other_call c = {0, 0, 0};
    run_other(&c);
    ck_assert_int_eq(loop.socket_calls + loop.timer_calls, calls); /* nothing on the other thread */
    int64_t t0 = pl_mono_ms();
    ck_assert_int_eq(pl_run_once(&loop, 5000), 1); /* the wakeup descriptor is readable */
    ck_assert_msg(pl_mono_ms() - t0 < 1000, "the loop was not woken");
    until_in_flight();
    size_t watched = loop.n;
    c.cancel = 1;
    run_other(&c);
    ck_assert_int_eq(loop.n, watched); /* the removal waits for the loop's thread */
    ck_assert_int_eq(pl_run_task(&loop, c.id, 5000), IMGSYNC_TASK_CANCELED); /* at once */
    ck_assert_int_eq(pl_run_once(&loop, 5000), 0); /* woken: told of the removal */
    ck_assert_int_eq(loop.n, 1);
}
END_TEST

/* ---- errors ------------------------------------------------------------------------------------- */

START_TEST(test_errors)
{
    ck_assert_int_eq(imgsync_ctx_socket_action(NULL, 0, 0), IMGSYNC_EINVAL);
    ck_assert_int_eq(imgsync_ctx_set_socket_callback(NULL, NULL, NULL), IMGSYNC_EINVAL);
    ck_assert_int_eq(imgsync_ctx_set_timer_callback(NULL, NULL, NULL), IMGSYNC_EINVAL);
    ck_assert_int_eq(imgsync_ctx_timeout(NULL), -1);
    ck_assert_int_eq(imgsync_ctx_socket_action(ctx, IMGSYNC_SOCKET_TIMEOUT, 0), IMGSYNC_EINVAL);
    ck_assert_ptr_nonnull(strstr(imgsync_ctx_errmsg(ctx), "no socket callback"));
    ck_assert_int_eq(imgsync_ctx_set_socket_callback(ctx, NULL, NULL), 0); /* already none */
    ck_assert_int_eq(pl_attach(&loop, ctx), 0);
    ck_assert_int_eq(imgsync_ctx_socket_action(ctx, 9999, IMGSYNC_POLL_IN), IMGSYNC_EINVAL);
    ck_assert_ptr_nonnull(strstr(imgsync_ctx_errmsg(ctx), "not a descriptor"));
    ck_assert_int_eq(imgsync_ctx_socket_action(ctx, -7, 0), IMGSYNC_EINVAL);
    /* the other ways of driving are refused while the loop drives */
    ck_assert_int_eq(imgsync_ctx_perform(ctx, 0), IMGSYNC_EBUSY);
    ck_assert_ptr_nonnull(strstr(imgsync_ctx_errmsg(ctx), "event loop"));
    ck_assert_int_eq(imgsync_ctx_start(ctx), IMGSYNC_EBUSY);
    uint64_t id = start_sync();
    ck_assert_int_eq(imgsync_task_wait(ctx, id, 10), IMGSYNC_EBUSY);
    /* callbacks re-entering the loop's calls are refused */
    loop.reenter = 1;
    until_in_flight();
    loop.reenter = 0;
    ck_assert_int_eq(loop.reenter_rc, IMGSYNC_EBUSY);
    ck_assert_int_eq(imgsync_ctx_set_socket_callback(ctx, NULL, NULL), IMGSYNC_EBUSY); /* a task runs */
    ck_assert_int_eq(imgsync_task_cancel(ctx, id), 0);
    ck_assert_int_eq(pl_run_task(&loop, id, 5000), IMGSYNC_TASK_CANCELED);
    /* callbacks removed: every descriptor told is removed, the loop's calls are refused */
    ck_assert_int_eq(imgsync_ctx_set_socket_callback(ctx, NULL, NULL), 0);
    ck_assert_int_eq(loop.n, 0);
    ck_assert_int_eq(imgsync_ctx_socket_action(ctx, IMGSYNC_SOCKET_TIMEOUT, 0), IMGSYNC_EINVAL);
    ck_assert_int_eq(imgsync_ctx_set_timer_callback(ctx, NULL, NULL), 0);
    ck_assert_int_eq(imgsync_ctx_perform(ctx, 0), 0); /* back to perform */
}
END_TEST

/* imgsync_ctx_free removes every descriptor it told and stops the timer, also with a request in
 * flight. */
START_TEST(test_free_removes_descriptors)
{
    ck_assert_int_eq(pl_attach(&loop, ctx), 0);
    start_sync();
    until_in_flight();
    ck_assert_int_ge(loop.timer_due, 0); /* libcurl's timeouts of the request */
    imgsync_ctx_free(ctx);
    ctx = NULL;
    ck_assert_int_eq(loop.n, 0);
    ck_assert_int_eq(loop.timer_due, -1); /* and the timer was stopped */
}
END_TEST

/* The scripted test transport has no sockets: refused clearly. */
START_TEST(test_unsupported_transport)
{
    fake_clock fc;
    fake_clock_init(&fc);
    fake_transport *ft = fake_new(&fc);
    ck_assert_ptr_nonnull(ft);
    ck_assert_int_eq(imgsync__ctx_set_transport(ctx, fake_base(ft)), 0);
    ck_assert_int_eq(imgsync_ctx_set_socket_callback(ctx, NULL, NULL), 0);
    ck_assert_int_eq(pl_attach(&loop, ctx), IMGSYNC_EUNSUPPORTED);
    ck_assert_ptr_nonnull(strstr(imgsync_ctx_errmsg(ctx), "cannot be driven"));
    ck_assert_int_eq(loop.n, 0);
    ck_assert_int_eq(imgsync_ctx_perform(ctx, 0), 0);
}
END_TEST

Suite *evloop_suite(void)
{
    Suite *s = suite_create("evloop");
    TCase *tc = tcase_create("loopback");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_wakeup_interrupts_perform);
    tcase_add_test(tc, test_start_asks_zero_timer);
    tcase_add_test(tc, test_task_deadline_through_timer);
    tcase_add_test(tc, test_other_thread_wakes_loop);
    tcase_add_test(tc, test_errors);
    tcase_add_test(tc, test_free_removes_descriptors);
    tcase_add_test(tc, test_unsupported_transport);
    suite_add_tcase(s, tc);
    return s;
}

#include "check_main.h"
IMGSYNC_TEST_MAIN(evloop_suite)
