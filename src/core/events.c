/* Events: what changed in the live tasks since the callback was last told - task state,
 * registry rows, counters - delivered between driving steps, where any call is safe. */
#include <string.h>

#include "core/ctx.h"
#include "core/run.h"

struct imgsync_event {
    int type;
    uint64_t task_id;
    int task_state;
    const char *registry;
    int registry_state;
    uint64_t counters[IMGSYNC__COUNTERS];
};

int imgsync_event_type_of(const imgsync_event *ev) { return ev ? ev->type : 0; }
uint64_t imgsync_event_task_id(const imgsync_event *ev) { return ev ? ev->task_id : 0; }
int imgsync_event_task_state(const imgsync_event *ev) { return ev ? ev->task_state : -1; }
const char *imgsync_event_registry(const imgsync_event *ev) { return ev && ev->registry ? ev->registry : ""; }
int imgsync_event_registry_state(const imgsync_event *ev) { return ev ? ev->registry_state : -1; }
uint64_t imgsync_event_counter(const imgsync_event *ev, int c)
{
    return ev && c >= 0 && c < IMGSYNC__COUNTERS ? ev->counters[c] : 0;
}

int imgsync_ctx_set_event_callback(imgsync_ctx *ctx, imgsync_event_fn fn, void *payload)
{
    if (!ctx)
        return IMGSYNC_EINVAL;
    imgsync__ctx_enter(ctx);
    ctx->event_fn = fn;
    ctx->event_payload = payload;
    imgsync__ctx_leave(ctx);
    return imgsync__ctx_ok(ctx);
}

static void emit(imgsync_ctx *ctx, imgsync_event *ev)
{
    if (!ctx->event_fn)
        return;
    ctx->in_event = 1;
    ctx->event_fn(ev, ctx->event_payload);
    ctx->in_event = 0;
}

/* A fresh event of task i (the callback may add tasks: always index ctx->tasks afresh). */
static imgsync_event event_of(imgsync_ctx *ctx, size_t i, int type)
{
    imgsync__task *t = ctx->tasks[i];
    imgsync_event ev = {type, t->id, t->state, NULL, -1, {0}};
    pthread_mutex_lock(&ctx->status_lock);
    memcpy(ev.counters, t->counters, sizeof(ev.counters));
    pthread_mutex_unlock(&ctx->status_lock);
    return ev;
}

static void tell_state(imgsync_ctx *ctx, size_t i, int state)
{
    imgsync_event ev = event_of(ctx, i, IMGSYNC_EVENT_TASK_STATE);
    ctx->tasks[i]->ev_state = ev.task_state = state;
    emit(ctx, &ev);
}

static void tell_rows(imgsync_ctx *ctx, size_t i)
{
    for (size_t k = 0; k < ctx->tasks[i]->nruns; k++) {
        imgsync__task *t = ctx->tasks[i];
        int state = t->runs[k]->row_state;
        if (t->ev_rows[k] == state || state == IMGSYNC_REGISTRY_RUNNING)
            continue;
        t->ev_rows[k] = state;
        imgsync_event ev = event_of(ctx, i, IMGSYNC_EVENT_REGISTRY_STATE);
        ev.registry = t->runs[k]->name;
        ev.registry_state = state;
        emit(ctx, &ev);
    }
}

static void tell_progress(imgsync_ctx *ctx, size_t i)
{
    imgsync_event ev = event_of(ctx, i, IMGSYNC_EVENT_PROGRESS);
    imgsync__task *t = ctx->tasks[i];
    if (memcmp(t->ev_counters, ev.counters, sizeof(ev.counters)) == 0)
        return;
    memcpy(t->ev_counters, ev.counters, sizeof(ev.counters));
    emit(ctx, &ev);
}

/* In order: queued, running, registry rows and progress, the end - none left out when several
 * happened in one step. */
static void deliver_task(imgsync_ctx *ctx, size_t i)
{
    if (ctx->tasks[i]->ev_state == -1)
        tell_state(ctx, i, IMGSYNC_TASK_QUEUED);
    if (ctx->tasks[i]->ev_state == IMGSYNC_TASK_QUEUED && ctx->tasks[i]->begun)
        tell_state(ctx, i, IMGSYNC_TASK_RUNNING);
    tell_rows(ctx, i);
    tell_progress(ctx, i);
    if (ctx->tasks[i]->ev_state != ctx->tasks[i]->state)
        tell_state(ctx, i, ctx->tasks[i]->state);
}

void imgsync__events_deliver(imgsync_ctx *ctx)
{
    for (size_t i = 0; i < ctx->ntasks; i++)
        deliver_task(ctx, i);
}

void imgsync__events_tell_record(imgsync_ctx *ctx, uint64_t id, int state)
{
    imgsync_event ev = {IMGSYNC_EVENT_TASK_STATE, id, state, NULL, -1, {0}};
    emit(ctx, &ev);
}
