/* Tasks: creation, lifecycle, status snapshots and the public task API. */
#include "task.h"

#include <stdlib.h>
#include <string.h>

#include "core/ctx.h"
#include "core/run.h"
#include "util/buf.h"

int imgsync__task_active(const imgsync__task *t)
{
    return t->state == IMGSYNC_TASK_QUEUED || t->state == IMGSYNC_TASK_RUNNING;
}

int imgsync__task_new(imgsync__task **out, const imgsync__env *env, const imgsync_request *req, int mode,
                      imgsync_provider *const *providers, size_t n)
{
    imgsync__task *t = calloc(1, sizeof(*t));
    if (!t)
        return IMGSYNC_ENOMEM;
    t->env = env;
    t->mode = mode;
    t->state = IMGSYNC_TASK_QUEUED;
    t->trigger = IMGSYNC_TRIGGER_MANUAL;
    t->created_ms = imgsync__env_now(env);
    int rc = imgsync__request_clone(&t->req, req);
    if (!rc && !(t->runs = calloc(n + 1, sizeof(*t->runs))))
        rc = IMGSYNC_ENOMEM;
    for (size_t i = 0; !rc && i < n; i++) {
        rc = imgsync__run_new(&t->runs[t->nruns], t, providers[i], mode);
        if (!rc)
            t->nruns++;
    }
    if (rc) {
        imgsync__task_free(t);
        return rc;
    }
    t->runs_left = t->nruns;
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

void imgsync__task_count(imgsync__task *t, int counter, uint64_t n)
{
    pthread_mutex_lock(t->env->status_lock);
    t->counters[counter] += n;
    pthread_mutex_unlock(t->env->status_lock);
}

void imgsync__task_add_error(imgsync__task *t, const char *registry, const char *repository, int code,
                             const char *message)
{
    pthread_mutex_lock(t->env->status_lock);
    if (t->nerrors < IMGSYNC__MAX_ERRORS) {
        imgsync__task_error *e = &t->errors[t->nerrors];
        e->registry = imgsync__strdup(registry);
        e->repository = imgsync__strdup(repository ? repository : "");
        e->message = imgsync__strdup(message ? message : imgsync_strerror(code));
        e->code = code;
        if (e->registry && e->repository && e->message) {
            t->nerrors++;
        } else {
            free(e->registry);
            free(e->repository);
            free(e->message);
        }
    }
    pthread_mutex_unlock(t->env->status_lock);
}

void imgsync__task_run_ended(imgsync__task *t)
{
    if (t->runs_left)
        t->runs_left--;
}

int imgsync__task_uses(const imgsync__task *t, const char *provider)
{
    for (size_t i = 0; imgsync__task_active(t) && i < t->nruns; i++)
        if (!t->runs[i]->ended && !strcmp(t->runs[i]->name, provider))
            return 1;
    return 0;
}

int imgsync__task_expired(const imgsync__task *t)
{
    return t->deadline_mono && imgsync__env_mono(t->env) >= t->deadline_mono;
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

static void begin(imgsync__task *t)
{
    const imgsync__env *env = t->env;
    pthread_mutex_lock(env->status_lock);
    t->state = IMGSYNC_TASK_RUNNING;
    t->started_ms = imgsync__env_now(env);
    pthread_mutex_unlock(env->status_lock);
    int64_t limit = t->mode == IMGSYNC_RUN_CHECK ? env->check_timeout_ms : env->task_timeout_ms;
    if (limit > 0)
        t->deadline_mono = imgsync__env_mono(env) + limit;
    for (size_t i = 0; i < t->nruns; i++)
        imgsync__run_start(t->runs[i]);
}

int imgsync__task_step(imgsync__task *t)
{
    if (!imgsync__task_active(t))
        return 0;
    if (t->state == IMGSYNC_TASK_QUEUED)
        begin(t);
    if (imgsync__task_expired(t))
        for (size_t i = 0; i < t->nruns; i++)
            imgsync__run_abort(t->runs[i], IMGSYNC_ETIMEOUT, "task timeout reached");
    if (t->runs_left)
        return 1;
    pthread_mutex_lock(t->env->status_lock);
    t->state = final_state(t);
    t->finished_ms = imgsync__env_now(t->env);
    pthread_mutex_unlock(t->env->status_lock);
    return 0;
}

void imgsync__task_cancel(imgsync__task *t, int code, const char *why)
{
    if (!imgsync__task_active(t))
        return;
    for (size_t i = 0; i < t->nruns; i++)
        imgsync__run_abort(t->runs[i], code, why);
    pthread_mutex_lock(t->env->status_lock);
    if (!t->started_ms)
        t->started_ms = imgsync__env_now(t->env);
    t->state = IMGSYNC_TASK_CANCELED;
    t->finished_ms = imgsync__env_now(t->env);
    pthread_mutex_unlock(t->env->status_lock);
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

int imgsync__task_snapshot(imgsync_task **out, const imgsync__task *t)
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
    if (!ctx)
        return IMGSYNC_EINVAL;
    if (!out)
        return imgsync__ctx_fail(ctx, IMGSYNC_EINVAL, "imgsync_task_get: out is required");
    *out = NULL;
    pthread_mutex_lock(&ctx->status_lock);
    imgsync__task *t = imgsync__ctx_task(ctx, task_id);
    int rc = t ? imgsync__task_snapshot(out, t) : IMGSYNC_ENOTFOUND;
    pthread_mutex_unlock(&ctx->status_lock);
    if (rc == IMGSYNC_ENOTFOUND)
        return imgsync__ctx_fail(ctx, rc, "no task %llu", (unsigned long long)task_id);
    return rc ? imgsync__ctx_fail(ctx, rc, "out of memory") : imgsync__ctx_ok(ctx);
}

int imgsync_task_get_latest(imgsync_task **out, imgsync_ctx *ctx)
{
    if (!ctx)
        return IMGSYNC_EINVAL;
    if (!out)
        return imgsync__ctx_fail(ctx, IMGSYNC_EINVAL, "imgsync_task_get_latest: out is required");
    *out = NULL;
    pthread_mutex_lock(&ctx->status_lock);
    int rc = ctx->ntasks ? imgsync__task_snapshot(out, ctx->tasks[ctx->ntasks - 1]) : IMGSYNC_ENOTFOUND;
    pthread_mutex_unlock(&ctx->status_lock);
    if (rc == IMGSYNC_ENOTFOUND)
        return imgsync__ctx_fail(ctx, rc, "no task yet");
    return rc ? imgsync__ctx_fail(ctx, rc, "out of memory") : imgsync__ctx_ok(ctx);
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
