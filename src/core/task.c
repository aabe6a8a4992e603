/* Tasks: creation, lifecycle and their store record (the public snapshots are in history.c). */
#include "task.h"

#include <stdio.h>
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
    t->ev_state = -1; /* nothing told yet: the first event says "queued" */
    if (!(t->ev_rows = calloc(t->nruns + 1, sizeof(*t->ev_rows)))) {
        imgsync__task_free(t);
        return IMGSYNC_ENOMEM;
    }
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
    free(t->reason);
    free(t->ev_rows);
    free(t);
}

void imgsync__task_count(imgsync__task *t, int counter, uint64_t n)
{
    pthread_mutex_lock(t->env->status_lock);
    t->counters[counter] += n;
    t->dirty = 1;
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
            t->dirty = 1;
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

/* The task-level reason (first one wins), under the status lock. */
static void set_reason(imgsync__task *t, const char *why)
{
    pthread_mutex_lock(t->env->status_lock);
    if (!t->reason && why)
        t->reason = imgsync__strdup(why);
    pthread_mutex_unlock(t->env->status_lock);
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

/* "task 12", or "check" for imgsync_provider_check's task, which has no id. */
static const char *label(const imgsync__task *t, char *buf, size_t n)
{
    if (t->mode == IMGSYNC_RUN_CHECK)
        return "check";
    snprintf(buf, n, "task %llu", (unsigned long long)t->id);
    return buf;
}

static void log_begin(const imgsync__task *t)
{
    char buf[32];
    const char *what = t->mode == IMGSYNC_RUN_CHECK ? "" : ": sync"; /* "check of 1 registry started" */
    imgsync__log_printf(t->env->log, IMGSYNC_LOG_INFO, "%s%s of %zu %s started", label(t, buf, sizeof(buf)), what,
                        t->nruns, t->nruns == 1 ? "registry" : "registries");
}

/* The end with the counters: ERROR when the task failed, WARN when it partially succeeded. */
static void log_end(const imgsync__task *t)
{
    int level = t->state == IMGSYNC_TASK_FAILED ? IMGSYNC_LOG_ERROR
              : t->state == IMGSYNC_TASK_PARTIAL ? IMGSYNC_LOG_WARN : IMGSYNC_LOG_INFO;
    const uint64_t *c = t->counters; /* the driving thread is the only writer: no lock to read */
    char buf[32];
    imgsync__log_printf(t->env->log, level,
                        "%s: %s%s%s; repositories %llu/%llu, %llu failed; images %llu found, %llu added, "
                        "%llu updated, %llu removed; %llu requests, %llu retries",
                        label(t, buf, sizeof(buf)), imgsync_task_state_name(t->state), t->reason ? ": " : "",
                        t->reason ? t->reason : "", (unsigned long long)c[IMGSYNC_COUNT_REPOSITORIES_DONE],
                        (unsigned long long)c[IMGSYNC_COUNT_REPOSITORIES_TOTAL],
                        (unsigned long long)c[IMGSYNC_COUNT_REPOSITORIES_FAILED],
                        (unsigned long long)c[IMGSYNC_COUNT_IMAGES_FOUND], (unsigned long long)c[IMGSYNC_COUNT_IMAGES_ADDED],
                        (unsigned long long)c[IMGSYNC_COUNT_IMAGES_UPDATED],
                        (unsigned long long)c[IMGSYNC_COUNT_IMAGES_REMOVED],
                        (unsigned long long)c[IMGSYNC_COUNT_REQUESTS], (unsigned long long)c[IMGSYNC_COUNT_RETRIES]);
}

static void begin(imgsync__task *t)
{
    const imgsync__env *env = t->env;
    pthread_mutex_lock(env->status_lock);
    t->state = IMGSYNC_TASK_RUNNING;
    t->started_ms = imgsync__env_now(env);
    t->dirty = 1;
    t->begun = 1;
    pthread_mutex_unlock(env->status_lock);
    int64_t limit = t->mode == IMGSYNC_RUN_CHECK ? env->check_timeout_ms : env->task_timeout_ms;
    if (limit > 0)
        t->deadline_mono = imgsync__env_mono(env) + limit;
    log_begin(t);
    for (size_t i = 0; i < t->nruns; i++)
        imgsync__run_start(t->runs[i]);
}

int imgsync__task_may_start(const imgsync__task *t, imgsync__task *const *tasks, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (tasks[i] == t || tasks[i]->state != IMGSYNC_TASK_RUNNING)
            continue;
        for (size_t k = 0; k < t->nruns; k++)
            if (imgsync__task_uses(tasks[i], t->runs[k]->name))
                return 0;
    }
    return 1;
}

int imgsync__task_step(imgsync__task *t, int may_start)
{
    if (!imgsync__task_active(t))
        return 0;
    if (t->state == IMGSYNC_TASK_QUEUED && !may_start)
        return 1;
    if (t->state == IMGSYNC_TASK_QUEUED)
        begin(t);
    if (imgsync__task_expired(t)) {
        for (size_t i = 0; i < t->nruns; i++)
            imgsync__run_abort(t->runs[i], IMGSYNC_ETIMEOUT, "task timeout reached");
        set_reason(t, "task timeout reached");
    }
    if (t->runs_left)
        return 1;
    pthread_mutex_lock(t->env->status_lock);
    t->state = final_state(t);
    t->finished_ms = imgsync__env_now(t->env);
    t->dirty = 1;
    pthread_mutex_unlock(t->env->status_lock);
    log_end(t);
    return 0;
}

void imgsync__task_cancel(imgsync__task *t, int code, const char *why)
{
    if (!imgsync__task_active(t))
        return;
    for (size_t i = 0; i < t->nruns; i++)
        imgsync__run_abort(t->runs[i], code, why);
    set_reason(t, why);
    pthread_mutex_lock(t->env->status_lock);
    t->state = IMGSYNC_TASK_CANCELED; /* a queued task was never started: started_ms stays 0 */
    t->finished_ms = imgsync__env_now(t->env);
    t->dirty = 1;
    pthread_mutex_unlock(t->env->status_lock);
    log_end(t);
}

/* ---- the store record ------------------------------------------------------------------- */

static int record_registries(imgsync__task_rec *r, const imgsync__task *t)
{
    if (!(r->registries = calloc(t->nruns + 1, sizeof(*r->registries))))
        return IMGSYNC_ENOMEM;
    for (size_t i = 0; i < t->nruns; i++, r->nregistries++) {
        const imgsync_run *run = t->runs[i];
        imgsync__task_rec_registry *g = &r->registries[i];
        const char *type = imgsync_type_registry_name(run->vt->type);
        g->name = imgsync__strdup(run->name);
        g->type = imgsync__strdup(type ? type : "");
        g->reason = imgsync__strdup(run->reason ? run->reason : "");
        g->state = run->row_state;
        g->error = run->error;
        if (!g->name || !g->type || !g->reason)
            return IMGSYNC_ENOMEM; /* the caller clears what was made */
    }
    return 0;
}

static int record_errors(imgsync__task_rec *r, const imgsync__task *t)
{
    if (!(r->errors = calloc(t->nerrors + 1, sizeof(*r->errors))))
        return IMGSYNC_ENOMEM;
    for (size_t i = 0; i < t->nerrors; i++, r->nerrors++) {
        imgsync__task_rec_error *e = &r->errors[i];
        e->registry = imgsync__strdup(t->errors[i].registry);
        e->repository = imgsync__strdup(t->errors[i].repository);
        e->message = imgsync__strdup(t->errors[i].message);
        e->code = t->errors[i].code;
        if (!e->registry || !e->repository || !e->message)
            return IMGSYNC_ENOMEM;
    }
    return 0;
}

int imgsync__task_record(imgsync__task_rec *r, const imgsync__task *t)
{
    memset(r, 0, sizeof(*r));
    r->id = t->id;
    r->state = t->state;
    r->trigger = t->trigger;
    r->schedule_id = t->schedule_id;
    r->created_ms = t->created_ms;
    r->started_ms = t->started_ms;
    r->finished_ms = t->finished_ms;
    memcpy(r->counters, t->counters, sizeof(r->counters));
    r->reason = imgsync__strdup(t->reason ? t->reason : "");
    r->owner = imgsync__strdup(imgsync__task_active(t) && t->env->owner ? t->env->owner : "");
    int rc = r->reason && r->owner ? 0 : IMGSYNC_ENOMEM;
    if (!rc)
        rc = record_registries(r, t);
    if (!rc)
        rc = record_errors(r, t);
    if (rc)
        imgsync__task_rec_clear(r);
    return rc;
}
