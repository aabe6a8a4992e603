/* Tasks: creation, lifecycle, status snapshots and the public task API. */
#include "task.h"

#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/timeutil.h"

/* Implemented in run.c. */
int imgsync__run_new(imgsync_run **out, imgsync__task *t, imgsync_provider *p, int mode);
void imgsync__run_start(imgsync_run *run);
void imgsync__run_abort(imgsync_run *run, int code, const char *why);
void imgsync__run_free(imgsync_run *run);

int imgsync__task_active(const imgsync__task *t)
{
    return t->state == IMGSYNC_TASK_QUEUED || t->state == IMGSYNC_TASK_RUNNING;
}

int imgsync__task_new(imgsync__task **out, imgsync_ctx *ctx, const imgsync_request *req, int mode,
                      imgsync_provider *only)
{
    imgsync__task *t = calloc(1, sizeof(*t));
    if (!t)
        return IMGSYNC_ENOMEM;
    t->ctx = ctx;
    t->state = IMGSYNC_TASK_QUEUED;
    t->trigger = IMGSYNC_TRIGGER_MANUAL;
    t->created_ms = imgsync__now_ms();
    int rc = imgsync__request_clone(&t->req, req);
    for (size_t i = 0; !rc && i < ctx->nproviders; i++) {
        imgsync_provider *p = ctx->providers[i];
        if (only ? p != only : !imgsync__request_selects_provider(t->req, p->name, p->vt->type))
            continue;
        imgsync_run **arr = realloc(t->runs, (t->nruns + 1) * sizeof(*arr));
        if (!arr) {
            rc = IMGSYNC_ENOMEM;
            break;
        }
        t->runs = arr;
        rc = imgsync__run_new(&t->runs[t->nruns], t, p, mode);
        if (!rc)
            t->nruns++;
    }
    if (rc) {
        imgsync__task_free(t);
        return rc;
    }
    t->counters[IMGSYNC_COUNT_REPOSITORIES_TOTAL] = 0;
    *out = t;
    return 0;
}

void imgsync__task_free(imgsync__task *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->nruns; i++)
        imgsync__run_free(t->runs[i]);
    free(t->runs);
    for (size_t i = 0; i < t->nerrors; i++) {
        free(t->errors[i].registry);
        free(t->errors[i].repository);
        free(t->errors[i].message);
    }
    imgsync_request_free(t->req);
    free(t);
}

/* Final state from the registry rows. */
static int final_state(const imgsync__task *t)
{
    size_t failed = 0;
    for (size_t i = 0; i < t->nruns; i++)
        failed += t->runs[i]->row_state == IMGSYNC_REGISTRY_FAILED;
    if (failed == 0)
        return IMGSYNC_TASK_SUCCEEDED;
    if (failed < t->nruns || t->committed_any)
        return IMGSYNC_TASK_PARTIAL;
    return IMGSYNC_TASK_FAILED;
}

int imgsync__task_step(imgsync__task *t)
{
    if (!imgsync__task_active(t))
        return 0;
    imgsync_ctx *ctx = t->ctx;
    if (t->state == IMGSYNC_TASK_QUEUED) {
        pthread_mutex_lock(&ctx->status_lock);
        t->state = IMGSYNC_TASK_RUNNING;
        t->started_ms = imgsync__now_ms();
        pthread_mutex_unlock(&ctx->status_lock);
        if (ctx->task_timeout_ms > 0)
            t->deadline_mono = imgsync__mono_ms() + ctx->task_timeout_ms;
        for (size_t i = 0; i < t->nruns; i++)
            imgsync__run_start(t->runs[i]);
    }
    if (t->deadline_mono && imgsync__mono_ms() >= t->deadline_mono) {
        for (size_t i = 0; i < t->nruns; i++)
            imgsync__run_abort(t->runs[i], IMGSYNC_ETIMEOUT, "task timeout reached");
    }
    for (size_t i = 0; i < t->nruns; i++)
        if (!t->runs[i]->ended)
            return 1;
    pthread_mutex_lock(&ctx->status_lock);
    t->state = final_state(t);
    t->finished_ms = imgsync__now_ms();
    pthread_mutex_unlock(&ctx->status_lock);
    return 0;
}

void imgsync__task_cancel(imgsync__task *t, int code, const char *why)
{
    if (!imgsync__task_active(t))
        return;
    for (size_t i = 0; i < t->nruns; i++)
        imgsync__run_abort(t->runs[i], code, why);
    pthread_mutex_lock(&t->ctx->status_lock);
    if (!t->started_ms)
        t->started_ms = imgsync__now_ms();
    t->state = IMGSYNC_TASK_CANCELED;
    t->finished_ms = imgsync__now_ms();
    pthread_mutex_unlock(&t->ctx->status_lock);
}

static imgsync__task *find_task(imgsync_ctx *ctx, uint64_t id)
{
    for (size_t i = 0; ctx && i < ctx->ntasks; i++)
        if (ctx->tasks[i]->id == id)
            return ctx->tasks[i];
    return NULL;
}

int imgsync_sync_start(imgsync_ctx *ctx, const imgsync_request *req, uint64_t *task_id)
{
    if (!ctx || !task_id)
        return IMGSYNC_EINVAL;
    for (size_t i = 0; req && i < req->nproviders; i++)
        if (!imgsync__ctx_provider(ctx, req->providers[i]))
            return imgsync__ctx_fail(ctx, IMGSYNC_ENOTFOUND, "no provider named '%.64s'", req->providers[i]);
    imgsync__task *t;
    int rc = imgsync__task_new(&t, ctx, req, IMGSYNC_RUN_SYNC, NULL);
    if (rc)
        return imgsync__ctx_fail(ctx, rc, "cannot create the task: %s", imgsync_strerror(rc));
    /* the task list is read by imgsync_task_get from other threads: grow it under the lock */
    pthread_mutex_lock(&ctx->status_lock);
    imgsync__task **arr = realloc(ctx->tasks, (ctx->ntasks + 1) * sizeof(*arr));
    if (arr) {
        ctx->tasks = arr;
        t->id = ctx->next_task_id++;
        ctx->tasks[ctx->ntasks++] = t;
    }
    pthread_mutex_unlock(&ctx->status_lock);
    if (!arr) {
        imgsync__task_free(t);
        return IMGSYNC_ENOMEM;
    }
    *task_id = t->id;
    imgsync__ctx_ok(ctx);
    return 0;
}

int imgsync_task_wait(imgsync_ctx *ctx, uint64_t task_id, int timeout_ms)
{
    imgsync__task *t = find_task(ctx, task_id);
    if (!t)
        return imgsync__ctx_fail(ctx, IMGSYNC_ENOTFOUND, "no task %llu", (unsigned long long)task_id);
    int64_t deadline = timeout_ms < 0 ? 0 : imgsync__mono_ms() + timeout_ms;
    while (imgsync__task_active(t)) {
        int slice = 100;
        if (deadline) {
            int64_t left = deadline - imgsync__mono_ms();
            if (left <= 0)
                return imgsync__ctx_fail(ctx, IMGSYNC_ETIMEOUT, "task %llu still running", (unsigned long long)task_id);
            if (left < slice)
                slice = (int)left;
        }
        int rc = imgsync_ctx_perform(ctx, slice);
        if (rc < 0)
            return rc;
    }
    imgsync__ctx_ok(ctx);
    return 0;
}

int imgsync_task_cancel(imgsync_ctx *ctx, uint64_t task_id)
{
    imgsync__task *t = find_task(ctx, task_id);
    if (!t)
        return imgsync__ctx_fail(ctx, IMGSYNC_ENOTFOUND, "no task %llu", (unsigned long long)task_id);
    imgsync__task_cancel(t, IMGSYNC_ECANCELED, "canceled by the caller");
    return 0;
}

/* ---- snapshots -------------------------------------------------------------------------- */

typedef struct snap_row {
    char *name;
    const char *type;
    int state;
    int error;
    char *reason;
} snap_row;

struct imgsync_task {
    uint64_t id;
    int state, trigger;
    int64_t created_ms, started_ms, finished_ms;
    uint64_t counters[IMGSYNC__COUNTERS];
    snap_row *rows;
    size_t nrows;
    imgsync__task_error *errors;
    size_t nerrors;
};

void imgsync_task_free(imgsync_task *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->nrows; i++) {
        free(s->rows[i].name);
        free(s->rows[i].reason);
    }
    for (size_t i = 0; i < s->nerrors; i++) {
        free(s->errors[i].registry);
        free(s->errors[i].repository);
        free(s->errors[i].message);
    }
    free(s->rows);
    free(s->errors);
    free(s);
}

static int snapshot(imgsync_task **out, imgsync__task *t)
{
    imgsync_task *s = calloc(1, sizeof(*s));
    if (!s)
        return IMGSYNC_ENOMEM;
    int oom = 0;
    s->id = t->id;
    s->state = t->state;
    s->trigger = t->trigger;
    s->created_ms = t->created_ms;
    s->started_ms = t->started_ms;
    s->finished_ms = t->finished_ms;
    memcpy(s->counters, t->counters, sizeof(s->counters));
    s->rows = calloc(t->nruns + 1, sizeof(*s->rows));
    s->errors = calloc(t->nerrors + 1, sizeof(*s->errors));
    oom = !s->rows || !s->errors;
    for (size_t i = 0; !oom && i < t->nruns; i++, s->nrows++) {
        imgsync_run *r = t->runs[i];
        s->rows[i].name = imgsync__strdup(r->name);
        s->rows[i].type = imgsync_type_registry_name(r->vt->type);
        s->rows[i].state = r->row_state;
        s->rows[i].error = r->error;
        s->rows[i].reason = imgsync__strdup(r->reason ? r->reason : "");
        oom = !s->rows[i].name || !s->rows[i].reason;
    }
    for (size_t i = 0; !oom && i < t->nerrors; i++, s->nerrors++) {
        s->errors[i].registry = imgsync__strdup(t->errors[i].registry);
        s->errors[i].repository = imgsync__strdup(t->errors[i].repository);
        s->errors[i].message = imgsync__strdup(t->errors[i].message);
        s->errors[i].code = t->errors[i].code;
        oom = !s->errors[i].registry || !s->errors[i].repository || !s->errors[i].message;
    }
    if (oom) {
        imgsync_task_free(s);
        return IMGSYNC_ENOMEM;
    }
    *out = s;
    return 0;
}

int imgsync_task_get(imgsync_task **out, imgsync_ctx *ctx, uint64_t task_id)
{
    if (!out || !ctx)
        return IMGSYNC_EINVAL;
    *out = NULL;
    pthread_mutex_lock(&ctx->status_lock);
    imgsync__task *t = find_task(ctx, task_id);
    int rc = t ? snapshot(out, t) : IMGSYNC_ENOTFOUND;
    pthread_mutex_unlock(&ctx->status_lock);
    return rc;
}

int imgsync_task_get_latest(imgsync_task **out, imgsync_ctx *ctx)
{
    if (!out || !ctx)
        return IMGSYNC_EINVAL;
    *out = NULL;
    pthread_mutex_lock(&ctx->status_lock);
    int rc = ctx->ntasks ? snapshot(out, ctx->tasks[ctx->ntasks - 1]) : IMGSYNC_ENOTFOUND;
    pthread_mutex_unlock(&ctx->status_lock);
    return rc;
}

uint64_t imgsync_task_id(const imgsync_task *s) { return s ? s->id : 0; }
int imgsync_task_state_of(const imgsync_task *s) { return s ? s->state : IMGSYNC_TASK_FAILED; }
int imgsync_task_trigger(const imgsync_task *s) { return s ? s->trigger : 0; }
int64_t imgsync_task_created_ms(const imgsync_task *s) { return s ? s->created_ms : 0; }
int64_t imgsync_task_started_ms(const imgsync_task *s) { return s ? s->started_ms : 0; }
int64_t imgsync_task_finished_ms(const imgsync_task *s) { return s ? s->finished_ms : 0; }

uint64_t imgsync_task_counter(const imgsync_task *s, int c)
{
    return (s && c >= 0 && c < IMGSYNC__COUNTERS) ? s->counters[c] : 0;
}

const char *imgsync_task_state_name(int state)
{
    static const char *names[] = {"queued", "running", "succeeded", "partially succeeded", "failed", "canceled"};
    return (state >= 0 && state <= IMGSYNC_TASK_CANCELED) ? names[state] : "unknown";
}

size_t imgsync_task_registry_count(const imgsync_task *s) { return s ? s->nrows : 0; }

static const snap_row *row_at(const imgsync_task *s, size_t i) { return s && i < s->nrows ? &s->rows[i] : NULL; }

const char *imgsync_task_registry_name(const imgsync_task *s, size_t i)
{
    const snap_row *r = row_at(s, i);
    return r ? r->name : "";
}
const char *imgsync_task_registry_type(const imgsync_task *s, size_t i)
{
    const snap_row *r = row_at(s, i);
    return r && r->type ? r->type : "";
}
int imgsync_task_registry_state(const imgsync_task *s, size_t i)
{
    const snap_row *r = row_at(s, i);
    return r ? r->state : IMGSYNC_REGISTRY_FAILED;
}
const char *imgsync_task_registry_reason(const imgsync_task *s, size_t i)
{
    const snap_row *r = row_at(s, i);
    return r ? r->reason : "";
}
int imgsync_task_registry_error(const imgsync_task *s, size_t i)
{
    const snap_row *r = row_at(s, i);
    return r ? r->error : IMGSYNC_ENOTFOUND;
}

size_t imgsync_task_error_count(const imgsync_task *s) { return s ? s->nerrors : 0; }

static const imgsync__task_error *err_at(const imgsync_task *s, size_t i)
{
    return s && i < s->nerrors ? &s->errors[i] : NULL;
}
const char *imgsync_task_error_registry(const imgsync_task *s, size_t i)
{
    const imgsync__task_error *e = err_at(s, i);
    return e ? e->registry : "";
}
const char *imgsync_task_error_repository(const imgsync_task *s, size_t i)
{
    const imgsync__task_error *e = err_at(s, i);
    return e ? e->repository : "";
}
int imgsync_task_error_code(const imgsync_task *s, size_t i)
{
    const imgsync__task_error *e = err_at(s, i);
    return e ? e->code : 0;
}
const char *imgsync_task_error_message(const imgsync_task *s, size_t i)
{
    const imgsync__task_error *e = err_at(s, i);
    return e ? e->message : "";
}
