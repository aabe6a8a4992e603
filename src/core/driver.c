/* The driver: one step of a context (schedules, tasks, network, records, events), run by
 * imgsync_ctx_perform in the embedder's loop or by the worker thread (worker.c). */
#include "core/ctx.h"
#include "core/history.h"

/* Advance every task; a queued one starts when no running task syncs one of its registries. */
static int step_all(imgsync_ctx *ctx)
{
    int active = 0;
    for (size_t i = 0; i < ctx->ntasks; i++) {
        imgsync__task *t = ctx->tasks[i];
        int may = t->state != IMGSYNC_TASK_QUEUED || imgsync__task_may_start(t, ctx->tasks, ctx->ntasks);
        active += imgsync__task_step(t, may);
    }
    return active;
}

/* Write what changed to the store (a state change at once, progress at most once a second);
 * keep the retention when a task ended. */
static void record_all(imgsync_ctx *ctx)
{
    int ended = 0;
    for (size_t i = 0; i < ctx->ntasks; i++) {
        imgsync__task *t = ctx->tasks[i];
        int changed = t->state != t->rec_state; /* not ev_state: a callback may cancel after it was told */
        imgsync__history_persist(ctx, t, changed);
        ended |= changed && !imgsync__task_active(t);
    }
    if (ended)
        imgsync__history_prune(ctx);
}

int imgsync__ctx_step(imgsync_ctx *ctx, imgsync__io_fn io, void *arg)
{
    ctx->in_perform = 1;
    imgsync__sched_tick(ctx);
    int active = step_all(ctx);
    if (io(ctx, active, arg))
        active = step_all(ctx);
    ctx->in_perform = 0;
    record_all(ctx);
    imgsync__events_deliver(ctx); /* may start or cancel tasks */
    imgsync__ctx_reap(ctx);
    active = 0;
    for (size_t i = 0; i < ctx->ntasks; i++)
        active += imgsync__task_active(ctx->tasks[i]);
    return active;
}

/* perform's network part: wait for it while a task is active. */
static int wait_io(imgsync_ctx *ctx, int active, void *arg)
{
    int timeout_ms = *(const int *)arg;
    if (!active)
        return 0;
    /* another thread waits for the lock: it woke the engine only if it saw a holder (worker.c),
     * and it may have looked just before this thread took the lock (between two performs of
     * an embedder's loop): then it must not wait out a whole network wait. holder was set
     * (seq_cst) before this load, so the caller saw it or this sees the caller. */
    if (__atomic_load_n(&ctx->waiters, __ATOMIC_SEQ_CST) > 0)
        timeout_ms = 0;
    imgsync__engine_perform(ctx->engine, timeout_ms < 0 ? 0 : timeout_ms);
    return 1;
}

int imgsync__ctx_drive(imgsync_ctx *ctx, int timeout_ms) { return imgsync__ctx_step(ctx, wait_io, &timeout_ms); }

int imgsync_ctx_perform(imgsync_ctx *ctx, int timeout_ms)
{
    if (!ctx)
        return IMGSYNC_EINVAL;
    if (imgsync__ctx_held(ctx) && (ctx->in_perform || ctx->in_event || ctx->in_io || ctx->log.in_callback)) /* the holder's */
        return imgsync__ctx_fail(ctx, IMGSYNC_EBUSY, "imgsync_ctx_perform called from a callback");
    imgsync__ctx_enter(ctx);
    if (ctx->worker_running || ctx->socket_fn) {
        const char *why = ctx->socket_fn ? "an event loop (socket callback set)" : "its worker thread";
        imgsync__ctx_leave(ctx);
        return imgsync__ctx_fail(ctx, IMGSYNC_EBUSY, "the context is driven by %s", why);
    }
    int active = imgsync__ctx_drive(ctx, timeout_ms);
    imgsync__ctx_leave(ctx);
    imgsync__ctx_ok(ctx);
    return active;
}
