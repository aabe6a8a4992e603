/* Schedules: the public API, and the scheduler that starts due syncs while the context is
 * driven. Schedules live in the store; the scheduler reads them again every few seconds, so a
 * schedule added by another process on the same database is seen, and claims each due time in
 * the store so that of several processes exactly one runs it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/ctx.h"
#include "core/history.h"
#include "util/buf.h"
#include "util/wallclock.h"

#define RELOAD_MS 5000         /* how often the schedules are read again from the store */
#define MAX_EVERY_MINUTES 44640 /* 31 days */

struct imgsync__sched {
    imgsync__schedule_rec *v;
    size_t n;
    int loaded, failed;  /* failed: the last read was refused */
    int64_t loaded_mono; /* the last read, or the last failed one */
    int64_t driving_since; /* wall time of the first tick: due times before it were missed */
};

struct imgsync_schedule_list {
    imgsync__schedule_rec *v;
    size_t n;
};

static void free_recs(imgsync__schedule_rec *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        imgsync__schedule_rec_clear(&v[i]);
    free(v);
}

void imgsync__sched_free(imgsync_ctx *ctx)
{
    if (!ctx->sched)
        return;
    free_recs(ctx->sched->v, ctx->sched->n);
    free(ctx->sched);
    ctx->sched = NULL;
}

/* The next due time after `after` (ms since the epoch). */
static int64_t next_due(const imgsync__schedule_rec *r, int64_t after)
{
    if (r->kind == IMGSYNC_SCHEDULE_DAILY)
        return imgsync__next_daily_ms(after, r->hour, r->minute);
    int64_t step = (int64_t)r->every_minutes * 60000;
    int64_t next = r->next_ms;
    if (next <= after)
        next += ((after - next) / step + 1) * step;
    return next;
}

/* ---- adding, removing, listing ----------------------------------------------------------------- */

static int add(imgsync_ctx *ctx, const imgsync_request *req, imgsync__schedule_rec *r, uint64_t *id)
{
    int busy = imgsync__evloop_refuse(ctx, "imgsync_schedule_daily/every");
    if (busy)
        return busy;
    int64_t now = imgsync__env_now(&ctx->env);
    r->created_ms = now;
    r->next_ms = r->kind == IMGSYNC_SCHEDULE_DAILY ? next_due(r, now) : now + (int64_t)r->every_minutes * 60000;
    r->request = imgsync__request_to_json(req);
    int rc = r->request ? 0 : IMGSYNC_ENOMEM;
    imgsync_request *back = NULL;
    if (!rc && imgsync__request_from_json(&back, r->request))
        rc = IMGSYNC_EINVAL; /* e.g. a name that is not UTF-8: it could not be read back */
    imgsync_request_free(back);
    if (!rc && r->next_ms < 0)
        rc = IMGSYNC_EINVAL; /* the C library could not convert the local time */
    imgsync__ctx_enter(ctx);
    if (!rc)
        rc = imgsync__store_schedule_insert(ctx->store, r);
    if (!rc && ctx->sched)
        ctx->sched->loaded = 0; /* read again at the next tick */
    imgsync__ctx_leave(ctx);
    if (!rc && id)
        *id = r->id;
    imgsync__schedule_rec_clear(r);
    if (rc == IMGSYNC_ESTORE)
        return imgsync__ctx_fail(ctx, rc, "cannot record the schedule: %s", imgsync__store_errmsg(ctx->store));
    return rc ? imgsync__ctx_fail(ctx, rc, "cannot add the schedule: %s", imgsync_strerror(rc)) : imgsync__ctx_ok(ctx);
}

int imgsync_schedule_daily(imgsync_ctx *ctx, const imgsync_request *req, int hour, int minute, uint64_t *schedule_id)
{
    if (!ctx)
        return IMGSYNC_EINVAL;
    if (hour < 0 || hour > 23 || minute < 0 || minute > 59)
        return imgsync__ctx_fail(ctx, IMGSYNC_EINVAL, "a daily schedule needs hour 0..23 and minute 0..59");
    imgsync__schedule_rec r = {0};
    r.kind = IMGSYNC_SCHEDULE_DAILY;
    r.hour = hour;
    r.minute = minute;
    return add(ctx, req, &r, schedule_id);
}

int imgsync_schedule_every(imgsync_ctx *ctx, const imgsync_request *req, unsigned int minutes, uint64_t *schedule_id)
{
    if (!ctx)
        return IMGSYNC_EINVAL;
    if (minutes < 1 || minutes > MAX_EVERY_MINUTES)
        return imgsync__ctx_fail(ctx, IMGSYNC_EINVAL, "a schedule interval must be 1..%d minutes", MAX_EVERY_MINUTES);
    imgsync__schedule_rec r = {0};
    r.kind = IMGSYNC_SCHEDULE_EVERY;
    r.every_minutes = minutes;
    return add(ctx, req, &r, schedule_id);
}

int imgsync_schedule_remove(imgsync_ctx *ctx, uint64_t schedule_id)
{
    if (!ctx)
        return IMGSYNC_EINVAL;
    int busy = imgsync__evloop_refuse(ctx, "imgsync_schedule_remove");
    if (busy)
        return busy;
    imgsync__ctx_enter(ctx);
    int rc = imgsync__store_schedule_remove(ctx->store, schedule_id);
    if (!rc && ctx->sched)
        ctx->sched->loaded = 0;
    imgsync__ctx_leave(ctx);
    if (rc == IMGSYNC_ENOTFOUND)
        return imgsync__ctx_fail(ctx, rc, "no schedule %llu", (unsigned long long)schedule_id);
    return rc ? imgsync__ctx_fail(ctx, rc, "cannot remove the schedule: %s", imgsync__store_errmsg(ctx->store))
              : imgsync__ctx_ok(ctx);
}

int imgsync_schedule_list_new(imgsync_schedule_list **out, imgsync_ctx *ctx)
{
    if (!ctx)
        return IMGSYNC_EINVAL;
    if (!out)
        return imgsync__ctx_fail(ctx, IMGSYNC_EINVAL, "imgsync_schedule_list_new: out is required");
    *out = NULL;
    imgsync_schedule_list *l = calloc(1, sizeof(*l));
    int rc = l ? imgsync__store_schedule_list(ctx->store, &l->v, &l->n) : IMGSYNC_ENOMEM;
    if (rc) {
        free(l);
        return imgsync__ctx_fail(ctx, rc, "cannot read the schedules: %s", imgsync__store_errmsg(ctx->store));
    }
    *out = l;
    return imgsync__ctx_ok(ctx);
}

void imgsync_schedule_list_free(imgsync_schedule_list *l)
{
    if (!l)
        return;
    free_recs(l->v, l->n);
    free(l);
}

size_t imgsync_schedule_list_count(const imgsync_schedule_list *l) { return l ? l->n : 0; }

static const imgsync__schedule_rec *at(const imgsync_schedule_list *l, size_t i)
{
    return l && i < l->n ? &l->v[i] : NULL;
}

uint64_t imgsync_schedule_id(const imgsync_schedule_list *l, size_t i) { return at(l, i) ? at(l, i)->id : 0; }
int imgsync_schedule_kind_of(const imgsync_schedule_list *l, size_t i) { return at(l, i) ? at(l, i)->kind : 0; }
int imgsync_schedule_hour(const imgsync_schedule_list *l, size_t i) { return at(l, i) ? at(l, i)->hour : 0; }
int imgsync_schedule_minute(const imgsync_schedule_list *l, size_t i) { return at(l, i) ? at(l, i)->minute : 0; }
unsigned int imgsync_schedule_every_minutes(const imgsync_schedule_list *l, size_t i)
{
    return at(l, i) ? at(l, i)->every_minutes : 0;
}
int64_t imgsync_schedule_next_ms(const imgsync_schedule_list *l, size_t i) { return at(l, i) ? at(l, i)->next_ms : 0; }
uint64_t imgsync_schedule_last_task(const imgsync_schedule_list *l, size_t i)
{
    return at(l, i) ? at(l, i)->last_task_id : 0;
}
const char *imgsync_schedule_request_json(const imgsync_schedule_list *l, size_t i)
{
    return at(l, i) && at(l, i)->request ? at(l, i)->request : "";
}

/* ---- the scheduler ------------------------------------------------------------------------------ */

/* Is task id queued or running (here, or as recorded by another process)? */
static int still_runs(imgsync_ctx *ctx, uint64_t id)
{
    if (!id)
        return 0;
    imgsync__task *t = imgsync__ctx_task(ctx, id);
    if (t)
        return imgsync__task_active(t);
    imgsync__task_rec r;
    /* a record left "running" by a process that died is not running: recovery only happens when
     * a context opens the file, and this one may drive it for months */
    int active = imgsync__store_task_get(ctx->store, id, &r) == 0 && r.state <= IMGSYNC_TASK_RUNNING &&
                 imgsync__history_owner_alive(r.owner);
    imgsync__task_rec_clear(&r);
    return active;
}

/* Start the schedule's task; a request that cannot run here is recorded as a failed task. */
static uint64_t start(imgsync_ctx *ctx, const imgsync__schedule_rec *s)
{
    imgsync_request *req = NULL;
    imgsync__task *t = NULL;
    char why[160] = "";
    const char *missing = NULL;
    uint64_t id = 0;
    int code = imgsync__request_from_json(&req, s->request) ? IMGSYNC_EINVAL : 0;
    if (code)
        snprintf(why, sizeof(why), "schedule %llu: its request cannot be read", (unsigned long long)s->id);
    for (size_t i = 0; req && !code && i < req->nproviders; i++)
        if (!imgsync__ctx_provider(ctx, req->providers[i])) {
            code = IMGSYNC_ENOTFOUND;
            missing = req->providers[i];
            snprintf(why, sizeof(why), "no provider named '%.64s'", missing);
        }
    if (!code && (code = imgsync__ctx_new_task(ctx, req, &t)) != 0)
        snprintf(why, sizeof(why), "cannot create the task");
    if (t) {
        t->trigger = IMGSYNC_TRIGGER_SCHEDULED;
        t->schedule_id = s->id;
        if (imgsync__ctx_add_task(ctx, t) == 0)
            id = t->id;
    } else {
        if (imgsync__history_add_ended(ctx, IMGSYNC_TASK_FAILED, s->id, code, missing, why, &id) == 0)
            imgsync__events_tell_record(ctx, id, IMGSYNC_TASK_FAILED); /* no live task will tell it */
    }
    imgsync_request_free(req);
    return id;
}

/* A due time of schedule s has come: claim it, then run, skip or (missed, no catch-up) pass. */
static void fire(imgsync_ctx *ctx, imgsync__schedule_rec *s, int64_t now)
{
    int64_t due = s->next_ms, next = next_due(s, now);
    int claimed = 0;
    if (next < 0) /* the C library cannot convert this local time: try again in a day, not at once */
        next = now + 24 * 3600 * 1000LL;
    if (imgsync__store_schedule_claim(ctx->store, s->id, due, next, s->last_task_id, &claimed) ||
        !claimed) {
        ctx->sched->loaded = 0; /* another process ran it, or it is gone: read again */
        return;
    }
    s->next_ms = next;
    if (due < ctx->sched->driving_since && !ctx->catch_up)
        return; /* missed while no process ran it, and catch-up is off */
    uint64_t id = 0;
    if (still_runs(ctx, s->last_task_id)) {
        char why[160];
        snprintf(why, sizeof(why), "skipped: the previous run of schedule %llu (task %llu) is still running",
                 (unsigned long long)s->id, (unsigned long long)s->last_task_id);
        if (imgsync__history_add_ended(ctx, IMGSYNC_TASK_SKIPPED, s->id, 0, NULL, why, &id) == 0)
            imgsync__events_tell_record(ctx, id, IMGSYNC_TASK_SKIPPED);
        return; /* last_task_id stays the running one */
    }
    if ((id = start(ctx, s)) != 0 &&
        imgsync__store_schedule_claim(ctx->store, s->id, next, next, id, &claimed) == 0 && claimed)
        s->last_task_id = id;
}

static void reload(imgsync_ctx *ctx)
{
    imgsync__schedule_rec *v = NULL;
    size_t n = 0;
    if (imgsync__store_schedule_list(ctx->store, &v, &n)) {
        ctx->sched->loaded_mono = imgsync__env_mono(&ctx->env); /* again in RELOAD_MS, not at once */
        ctx->sched->failed = 1;
        return; /* a busy database: keep the old list, try again later */
    }
    ctx->sched->failed = 0;
    free_recs(ctx->sched->v, ctx->sched->n);
    ctx->sched->v = v;
    ctx->sched->n = n;
    ctx->sched->loaded = 1;
    ctx->sched->loaded_mono = imgsync__env_mono(&ctx->env);
}

/* A due time more than one period ahead was claimed while the wall clock ran ahead (then set
 * back): pull it in, or the schedule would sleep for the size of the jump. */
static void pull_in(imgsync_ctx *ctx, imgsync__schedule_rec *s, int64_t now)
{
    int daily = s->kind == IMGSYNC_SCHEDULE_DAILY;
    int64_t period = daily ? 25 * 3600000LL : (int64_t)s->every_minutes * 60000; /* a day may have 25 h */
    if (s->next_ms - now <= period)
        return;
    int64_t next = daily ? next_due(s, now) : now + period;
    int claimed = 0;
    if (next >= 0 && !imgsync__store_schedule_claim(ctx->store, s->id, s->next_ms, next, s->last_task_id, &claimed) &&
        claimed)
        s->next_ms = next;
    else
        ctx->sched->loaded = 0;
}

void imgsync__sched_tick(imgsync_ctx *ctx)
{
    if (!ctx->sched && !(ctx->sched = calloc(1, sizeof(*ctx->sched))))
        return;
    int64_t now = imgsync__env_now(&ctx->env);
    if (!ctx->sched->driving_since)
        ctx->sched->driving_since = now;
    int64_t since = imgsync__env_mono(&ctx->env) - ctx->sched->loaded_mono;
    if ((!ctx->sched->loaded && !ctx->sched->failed) || since >= RELOAD_MS)
        reload(ctx);
    for (size_t i = 0; i < ctx->sched->n; i++) {
        pull_in(ctx, &ctx->sched->v[i], now);
        if (ctx->sched->v[i].next_ms <= now)
            fire(ctx, &ctx->sched->v[i], now);
    }
}

void imgsync__sched_restart(imgsync_ctx *ctx)
{
    if (ctx->sched)
        ctx->sched->driving_since = 0; /* the next tick's time: what came due before was missed */
}

int64_t imgsync__sched_next_ms(imgsync_ctx *ctx)
{
    if (!ctx->sched || (!ctx->sched->loaded && !ctx->sched->failed))
        return 0;
    /* a refused read is tried again, and another process may add schedules to a database:
     * both are looked at every RELOAD_MS, as the worker does */
    if (ctx->sched->failed || (!ctx->sched->n && imgsync__store_persistent(ctx->store))) {
        int64_t left = RELOAD_MS - (imgsync__env_mono(&ctx->env) - ctx->sched->loaded_mono);
        return left > 0 ? left : 0;
    }
    return ctx->sched->n ? imgsync__sched_idle_ms(ctx) : -1;
}

int64_t imgsync__sched_idle_ms(imgsync_ctx *ctx)
{
    int64_t wait = RELOAD_MS, now = imgsync__env_now(&ctx->env);
    for (size_t i = 0; ctx->sched && i < ctx->sched->n; i++) {
        int64_t left = ctx->sched->v[i].next_ms - now;
        if (left < wait)
            wait = left < 1 ? 1 : left;
    }
    return wait;
}
