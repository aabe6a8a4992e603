/* Driving a context from several threads: the api lock that a driver holds while it works
 * (also while it waits for the network) and hands over to any thread that wants to change the
 * context, and the optional background worker thread (imgsync_ctx_start / imgsync_ctx_stop). */
#include <errno.h>
#include <stdint.h>
#include <time.h>

#include "core/ctx.h"
#include "core/history.h"
#include "util/clock.h"

/* Who holds a context's api lock is kept in the context (no per-thread table to run out of: a
 * callback of one context may use another, to any depth). A thread is named by the address of
 * its own thread-local marker; only the holder writes it, so a thread sees itself there exactly
 * while it holds the lock. */
static __thread char self_marker;

static uintptr_t self(void) { return (uintptr_t)&self_marker; }

int imgsync__ctx_held(const imgsync_ctx *ctx)
{
    return __atomic_load_n(&ctx->holder, __ATOMIC_RELAXED) == self();
}

/* holder and waiters are sequentially consistent: a caller announces itself in `waiters` and
 * then reads `holder`, the worker sets `holder` and then reads `waiters`; weaker orders would let
 * both miss the other (the caller would then wait out a whole network wait). */
static void hold(imgsync_ctx *ctx)
{
    __atomic_store_n(&ctx->holder, self(), __ATOMIC_SEQ_CST);
    ctx->hold_depth = 1;
}

/* The holder lets go for a wait on api_cond (it holds the lock again when the wait returns). */
static void unhold(imgsync_ctx *ctx) { __atomic_store_n(&ctx->holder, 0, __ATOMIC_RELAXED); }

void imgsync__ctx_enter(imgsync_ctx *ctx)
{
    if (imgsync__ctx_held(ctx)) {
        ctx->hold_depth++;
        return;
    }
    /* announce first, then wake the thread driving the network, if one holds the lock: waking
     * an engine nobody waits in would cut short this thread's own next wait (a caller polling
     * the task state between performs would spin) */
    __atomic_add_fetch(&ctx->waiters, 1, __ATOMIC_SEQ_CST);
    if (ctx->engine && __atomic_load_n(&ctx->holder, __ATOMIC_SEQ_CST) != 0)
        imgsync__engine_wakeup(ctx->engine);
    pthread_mutex_lock(&ctx->api_lock);
    __atomic_sub_fetch(&ctx->waiters, 1, __ATOMIC_ACQ_REL);
    hold(ctx);
}

void imgsync__ctx_leave(imgsync_ctx *ctx)
{
    if (!imgsync__ctx_held(ctx))
        return;
    if (ctx->hold_depth > 1) {
        ctx->hold_depth--;
        return;
    }
    imgsync__evloop_left(ctx); /* may call the timer callback: still the holder, depth 1 */
    ctx->hold_depth = 0;
    unhold(ctx);
    pthread_cond_broadcast(&ctx->api_cond); /* an idle worker looks again */
    pthread_mutex_unlock(&ctx->api_lock);
}

/* ---- the worker ----------------------------------------------------------------------------- */

static void idle_wait(imgsync_ctx *ctx, int64_t ms)
{
    struct timespec ts = imgsync__real_deadline(ms);
    pthread_cond_timedwait(&ctx->api_cond, &ctx->api_lock, &ts);
}

/* Cancel what runs and is queued, record it, tell the callback. */
static void wind_down(imgsync_ctx *ctx)
{
    /* again while an event callback of the last step started more */
    for (int round = 0; round < 16; round++) {
        int active = 0;
        for (size_t i = 0; i < ctx->ntasks; i++) {
            active |= imgsync__task_active(ctx->tasks[i]);
            imgsync__task_cancel(ctx->tasks[i], IMGSYNC_ECANCELED, "the worker stopped");
        }
        if (!active)
            break;
        imgsync__ctx_drive(ctx, 0);
    }
}

static void *worker_main(void *arg)
{
    imgsync_ctx *ctx = arg;
    pthread_mutex_lock(&ctx->api_lock);
    hold(ctx);
    while (!ctx->stopping) {
        if (__atomic_load_n(&ctx->waiters, __ATOMIC_SEQ_CST) > 0) {
            unhold(ctx); /* the waiter holds it while we sleep */
            pthread_cond_wait(&ctx->api_cond, &ctx->api_lock);
            hold(ctx);
            continue;
        }
        int active = imgsync__ctx_drive(ctx, 1000);
        if (!active && !ctx->stopping && __atomic_load_n(&ctx->waiters, __ATOMIC_ACQUIRE) == 0) {
            unhold(ctx);
            idle_wait(ctx, imgsync__sched_idle_ms(ctx));
            hold(ctx);
        }
    }
    wind_down(ctx);
    unhold(ctx);
    pthread_mutex_unlock(&ctx->api_lock);
    return NULL;
}

int imgsync_ctx_start(imgsync_ctx *ctx)
{
    if (!ctx)
        return IMGSYNC_EINVAL;
    imgsync__ctx_enter(ctx);
    int rc = ctx->worker_running ? IMGSYNC_EBUSY : 0;
    if (!rc && (ctx->in_perform || ctx->socket_fn))
        rc = IMGSYNC_EBUSY;
    if (!rc)
        imgsync__sched_restart(ctx);
    if (!rc && pthread_create(&ctx->worker, NULL, worker_main, ctx) != 0)
        rc = IMGSYNC_EINTERNAL;
    if (!rc)
        ctx->worker_running = 1;
    imgsync__ctx_leave(ctx);
    if (rc == IMGSYNC_EBUSY)
        return imgsync__ctx_fail(ctx, rc, "the context is already driven (worker started, event loop, or inside perform)");
    return rc ? imgsync__ctx_fail(ctx, rc, "cannot start the worker thread") : imgsync__ctx_ok(ctx);
}

int imgsync_ctx_stop(imgsync_ctx *ctx)
{
    if (!ctx)
        return IMGSYNC_EINVAL;
    imgsync__ctx_enter(ctx);
    int running = ctx->worker_running;
    if (running && pthread_equal(pthread_self(), ctx->worker)) {
        imgsync__ctx_leave(ctx);
        return imgsync__ctx_fail(ctx, IMGSYNC_EBUSY, "imgsync_ctx_stop called on the worker thread");
    }
    int joiner = running && !ctx->stopping; /* of two threads stopping at once, one joins */
    if (joiner)
        ctx->stopping = 1;
    imgsync__ctx_leave(ctx);
    if (joiner) {
        pthread_join(ctx->worker, NULL);
        imgsync__ctx_enter(ctx);
        ctx->worker_running = ctx->stopping = 0;
        imgsync__ctx_leave(ctx);
    }
    while (running && !joiner) { /* the other one joins: wait until it did */
        imgsync__ctx_enter(ctx);
        running = ctx->worker_running;
        imgsync__ctx_leave(ctx);
        struct timespec ts = {0, 5 * 1000000L};
        if (running)
            nanosleep(&ts, NULL);
    }
    return imgsync__ctx_ok(ctx);
}
