/* Syncs: start, wait, cancel, and the connection check (a task in check mode). */
#include <stdlib.h>
#include <time.h>

#include "core/ctx.h"
#include "core/kinds.h"
#include "core/run.h"
#include "util/clock.h"

#define MAX_KIND_TYPES 16

/* Providers the request selects, in registration order (malloc'd array, may be empty). */
static int select_providers(imgsync_ctx *ctx, const imgsync_request *req, imgsync_provider ***out, size_t *n)
{
    *out = malloc((ctx->nproviders + 1) * sizeof(**out));
    *n = 0;
    if (!*out)
        return IMGSYNC_ENOMEM;
    for (size_t i = 0; i < ctx->nproviders; i++) {
        imgsync_provider *p = ctx->providers[i];
        int types[MAX_KIND_TYPES];
        size_t nt = imgsync__kind_types(p->vt, types, MAX_KIND_TYPES);
        if (imgsync__request_selects_provider(req, p->name, types, nt < MAX_KIND_TYPES ? nt : MAX_KIND_TYPES))
            (*out)[(*n)++] = p;
    }
    return 0;
}

int imgsync__ctx_new_task(imgsync_ctx *ctx, const imgsync_request *req, imgsync__task **out)
{
    imgsync_provider **selected;
    size_t n;
    int rc = select_providers(ctx, req, &selected, &n);
    if (!rc)
        rc = imgsync__task_new(out, &ctx->env, req, IMGSYNC_RUN_SYNC, selected, n);
    free(selected);
    return rc;
}

static int start_locked(imgsync_ctx *ctx, const imgsync_request *req, uint64_t *task_id)
{
    for (size_t i = 0; req && i < req->nproviders; i++)
        if (!imgsync__ctx_provider(ctx, req->providers[i]))
            return imgsync__ctx_fail(ctx, IMGSYNC_ENOTFOUND, "no provider named '%.64s'", req->providers[i]);
    imgsync__task *t = NULL;
    int rc = imgsync__ctx_new_task(ctx, req, &t);
    if (!rc)
        rc = imgsync__ctx_add_task(ctx, t);
    if (rc == IMGSYNC_ESTORE)
        return imgsync__ctx_fail(ctx, rc, "cannot record the task: %s", imgsync__store_errmsg(ctx->store));
    if (rc)
        return imgsync__ctx_fail(ctx, rc, "cannot create the task: %s", imgsync_strerror(rc));
    *task_id = t->id;
    return imgsync__ctx_ok(ctx);
}

int imgsync_sync_start(imgsync_ctx *ctx, const imgsync_request *req, uint64_t *task_id)
{
    if (!ctx)
        return IMGSYNC_EINVAL;
    if (!task_id)
        return imgsync__ctx_fail(ctx, IMGSYNC_EINVAL, "imgsync_sync_start: task_id is required");
    int busy = imgsync__evloop_refuse(ctx, "imgsync_sync_start");
    if (busy)
        return busy;
    imgsync__ctx_enter(ctx);
    int rc = start_locked(ctx, req, task_id);
    imgsync__ctx_leave(ctx);
    return rc;
}

/* The state of a task as this process knows it: live, or recorded; -1 when unknown. */
static int task_state(imgsync_ctx *ctx, uint64_t id)
{
    imgsync_task *s = NULL;
    int state = imgsync_task_get(&s, ctx, id) == 0 ? imgsync_task_state_of(s) : -1;
    imgsync_task_free(s);
    return state;
}

static int ended(int state) { return state > IMGSYNC_TASK_RUNNING; }

/* The worker drives: watch the task's state until it ends or timeout_ms pass (in real time: the
 * context's clock belongs to the worker's thread). */
static int wait_for_worker(imgsync_ctx *ctx, uint64_t id, int timeout_ms)
{
    int state;
    int64_t deadline = timeout_ms < 0 ? 0 : imgsync__real_mono_ms() + timeout_ms;
    while (!ended(state = task_state(ctx, id))) {
        if (state < 0)
            return imgsync__ctx_fail(ctx, IMGSYNC_ENOTFOUND, "no task %llu", (unsigned long long)id);
        if (deadline && imgsync__real_mono_ms() >= deadline)
            return imgsync__ctx_fail(ctx, IMGSYNC_ETIMEOUT, "task %llu still running", (unsigned long long)id);
        struct timespec ts = {0, 10 * 1000000L};
        nanosleep(&ts, NULL);
    }
    return imgsync__ctx_ok(ctx);
}

int imgsync_task_wait(imgsync_ctx *ctx, uint64_t task_id, int timeout_ms)
{
    if (!ctx)
        return IMGSYNC_EINVAL;
    /* a callback of the driving thread (the worker's too) would wait for the step it blocks */
    if (imgsync__ctx_held(ctx))
        return imgsync__ctx_fail(ctx, IMGSYNC_EBUSY, "imgsync_task_wait called from a callback");
    int state = task_state(ctx, task_id);
    if (state < 0)
        return imgsync__ctx_fail(ctx, IMGSYNC_ENOTFOUND, "no task %llu", (unsigned long long)task_id);
    imgsync__ctx_enter(ctx);
    int worker = ctx->worker_running, live = imgsync__ctx_task(ctx, task_id) != NULL, loop = ctx->socket_fn != NULL;
    imgsync__ctx_leave(ctx);
    if (loop)
        return imgsync__ctx_fail(ctx, IMGSYNC_EBUSY, "imgsync_task_wait: the context is driven by an event loop");
    if (worker)
        return wait_for_worker(ctx, task_id, timeout_ms);
    int64_t deadline = timeout_ms < 0 ? 0 : imgsync__env_mono(&ctx->env) + timeout_ms;
    if (!live && !ended(state))
        return imgsync__ctx_fail(ctx, IMGSYNC_ENOTFOUND, "task %llu runs in another process", (unsigned long long)task_id);
    while (!ended(task_state(ctx, task_id))) {
        int slice = 100;
        if (deadline) {
            int64_t left = deadline - imgsync__env_mono(&ctx->env);
            if (left <= 0)
                return imgsync__ctx_fail(ctx, IMGSYNC_ETIMEOUT, "task %llu still running", (unsigned long long)task_id);
            if (left < slice)
                slice = (int)left;
        }
        /* another thread drives (it waits in imgsync_task_wait or its own perform loop): watch
         * as wait_for_worker does; performing here would wake its network wait, and it ours, in
         * turn (a spin). It ended or lets go: this thread drives. */
        if (__atomic_load_n(&ctx->holder, __ATOMIC_SEQ_CST) != 0) {
            struct timespec ts = {0, (slice < 10 ? slice : 10) * 1000000L};
            nanosleep(&ts, NULL);
            continue;
        }
        int rc = imgsync_ctx_perform(ctx, slice);
        if (rc < 0)
            return rc;
    }
    return imgsync__ctx_ok(ctx);
}

int imgsync_task_cancel(imgsync_ctx *ctx, uint64_t task_id)
{
    if (!ctx)
        return IMGSYNC_EINVAL;
    int busy = imgsync__evloop_refuse(ctx, "imgsync_task_cancel");
    if (busy)
        return busy;
    imgsync__ctx_enter(ctx);
    imgsync__task *t = imgsync__ctx_task(ctx, task_id);
    if (t)
        imgsync__task_cancel(t, IMGSYNC_ECANCELED, "canceled by the caller");
    imgsync__ctx_leave(ctx);
    if (t)
        return imgsync__ctx_ok(ctx);
    int state = task_state(ctx, task_id);
    if (ended(state))
        return imgsync__ctx_ok(ctx);
    return imgsync__ctx_fail(ctx, IMGSYNC_ENOTFOUND, state < 0 ? "no task %llu" : "task %llu runs in another process",
                             (unsigned long long)task_id);
}

int imgsync_provider_check(imgsync_provider *p)
{
    if (!p)
        return IMGSYNC_EINVAL;
    imgsync_ctx *ctx = p->ctx;
    /* in_perform is the holder's: another thread (the worker) may be driving, then we wait for
     * the lock below; only a callback of the driving thread must not nest a check in its step */
    if (imgsync__ctx_held(ctx) && (ctx->in_perform || ctx->in_io || ctx->log.in_callback))
        return imgsync__ctx_fail(ctx, IMGSYNC_EBUSY, "imgsync_provider_check called from a callback");
    imgsync__ctx_enter(ctx); /* the engine and the clock are the driver's: a worker waits meanwhile */
    imgsync__task *t;
    int rc = imgsync__task_new(&t, &ctx->env, NULL, IMGSYNC_RUN_CHECK, &p, 1);
    if (rc) {
        imgsync__ctx_leave(ctx);
        return imgsync__ctx_fail(ctx, rc, "cannot create the check: %s", imgsync_strerror(rc));
    }
    int was = ctx->in_perform;
    ctx->in_perform = 1;
    while (imgsync__task_step(t, 1))
        imgsync__engine_perform(ctx->engine, 100);
    ctx->in_perform = was;
    imgsync_run *run = t->runs[0];
    free(p->cred_source);
    p->cred_source = run->cred_source; /* a check's run is the provider's own: its source moves */
    run->cred_source = NULL;
    rc = run->error;
    if (rc)
        imgsync__ctx_fail(ctx, rc, "%s", run->reason ? run->reason : imgsync_strerror(rc));
    else
        imgsync__ctx_ok(ctx);
    imgsync__task_free(t);
    imgsync__ctx_leave(ctx);
    return rc;
}
