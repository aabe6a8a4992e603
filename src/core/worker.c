/* Driving a context from several threads: the api lock that a driver holds while it works
 * (also while it waits for the network) and hands over to any thread that wants to change the
 * context, and the optional background worker thread (imgsync_ctx_start / imgsync_ctx_stop). */
#include <errno.h>
#include <time.h>

#include "core/ctx.h"
#include "core/history.h"
#include "util/clock.h"

/* Contexts whose api lock this thread holds (a callback of one context may use another). */
#define HELD_MAX 4
static __thread const imgsync_ctx *held[HELD_MAX];
static __thread int held_depth[HELD_MAX];

int imgsync__ctx_held(const imgsync_ctx *ctx)
{
    for (int i = 0; i < HELD_MAX; i++)
        if (held[i] == ctx)
            return 1;
    return 0;
}

static int held_slot(const imgsync_ctx *ctx)
{
    for (int i = 0; i < HELD_MAX; i++)
        if (held[i] == ctx)
            return i;
    return -1;
}

static void hold(const imgsync_ctx *ctx)
{
    for (int i = 0; i < HELD_MAX; i++)
        if (!held[i]) {
            held[i] = ctx;
            held_depth[i] = 1;
            return;
        }
}

void imgsync__ctx_enter(imgsync_ctx *ctx)
{
    int i = held_slot(ctx);
    if (i >= 0) {
        held_depth[i]++;
        return;
    }
    /* announce first, then wake: the driver sees the waiter when its network wait returns */
    __atomic_add_fetch(&ctx->waiters, 1, __ATOMIC_ACQ_REL);
    if (ctx->engine)
        imgsync__engine_wakeup(ctx->engine);
    pthread_mutex_lock(&ctx->api_lock);
    __atomic_sub_fetch(&ctx->waiters, 1, __ATOMIC_ACQ_REL);
    hold(ctx);
}

void imgsync__ctx_leave(imgsync_ctx *ctx)
{
    int i = held_slot(ctx);
    if (i < 0 || --held_depth[i] > 0)
        return;
    held[i] = NULL;
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
    for (size_t i = 0; i < ctx->ntasks; i++)
        imgsync__task_cancel(ctx->tasks[i], IMGSYNC_ECANCELED, "canceled: the worker stopped");
    imgsync__ctx_drive(ctx, 0);
}

static void *worker_main(void *arg)
{
    imgsync_ctx *ctx = arg;
    pthread_mutex_lock(&ctx->api_lock);
    hold(ctx);
    while (!ctx->stopping) {
        if (__atomic_load_n(&ctx->waiters, __ATOMIC_ACQUIRE) > 0) {
            held[held_slot(ctx)] = NULL; /* the waiter holds it while we sleep */
            pthread_cond_wait(&ctx->api_cond, &ctx->api_lock);
            hold(ctx);
            continue;
        }
        int active = imgsync__ctx_drive(ctx, 1000);
        if (!active && !ctx->stopping && __atomic_load_n(&ctx->waiters, __ATOMIC_ACQUIRE) == 0) {
            held[held_slot(ctx)] = NULL;
            idle_wait(ctx, imgsync__sched_idle_ms(ctx));
            hold(ctx);
        }
    }
    wind_down(ctx);
    held[held_slot(ctx)] = NULL;
    pthread_mutex_unlock(&ctx->api_lock);
    return NULL;
}

int imgsync_ctx_start(imgsync_ctx *ctx)
{
    if (!ctx)
        return IMGSYNC_EINVAL;
    imgsync__ctx_enter(ctx);
    int rc = ctx->worker_running ? IMGSYNC_EBUSY : 0;
    if (!rc && ctx->in_perform)
        rc = IMGSYNC_EBUSY;
    if (!rc && pthread_create(&ctx->worker, NULL, worker_main, ctx) != 0)
        rc = IMGSYNC_EINTERNAL;
    if (!rc)
        ctx->worker_running = 1;
    imgsync__ctx_leave(ctx);
    if (rc == IMGSYNC_EBUSY)
        return imgsync__ctx_fail(ctx, rc, "the context is already driven (worker started, or inside perform)");
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
    ctx->stopping = running;
    imgsync__ctx_leave(ctx);
    if (running)
        pthread_join(ctx->worker, NULL);
    imgsync__ctx_enter(ctx);
    ctx->worker_running = ctx->stopping = 0;
    imgsync__ctx_leave(ctx);
    return imgsync__ctx_ok(ctx);
}
