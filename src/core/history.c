/* The task history: public task snapshots (of a live task, or of the store's record), the task
 * list, and keeping the store's records true: written when a task changes, pruned to the
 * retention, and tasks of a process that died recorded as interrupted. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/ctx.h"
#include "core/history.h"
#include "util/buf.h"

/* Progress of a running task reaches the store at most this often (state changes at once). */
#define PERSIST_INTERVAL_MS 1000

struct imgsync_task {
    imgsync__task_rec rec;
};

struct imgsync_task_list {
    imgsync_task *items;
    size_t n;
};

/* ---- this process, as task records name it -------------------------------------------------- */

/* Start time of process pid in clock ticks since boot (field 22 of /proc/PID/stat), or -1. */
static long long start_time(long pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *p = strrchr(buf, ')'); /* the command name may hold spaces and parentheses */
    long long v = -1;
    for (int field = 2; p && *p; p++) {
        if (*p != ' ')
            continue;
        if (++field == 22) {
            v = strtoll(p + 1, NULL, 10);
            break;
        }
    }
    return v;
}

void imgsync__history_owner(char *out, size_t len)
{
    long pid = (long)getpid();
    snprintf(out, len, "%ld:%lld", pid, start_time(pid));
}

/* Is the process an owner string names still running? (Same start time: not a reused pid.) */
int imgsync__history_owner_alive(const char *owner)
{
    long pid = 0;
    long long start = -1;
    if (!owner || sscanf(owner, "%ld:%lld", &pid, &start) != 2 || pid <= 0)
        return 0;
    if (kill((pid_t)pid, 0) != 0 && errno != EPERM)
        return 0;
    return start < 0 || start_time(pid) == start;
}

/* ---- writing records -------------------------------------------------------------------------- */

int imgsync__history_insert(imgsync_ctx *ctx, imgsync__task *t)
{
    imgsync__task_rec r;
    pthread_mutex_lock(&ctx->status_lock);
    int rc = imgsync__task_record(&r, t);
    pthread_mutex_unlock(&ctx->status_lock);
    if (!rc)
        rc = imgsync__store_task_insert(ctx->store, &r);
    if (!rc) {
        t->id = r.id;
        t->rec_state = r.state;
        t->persisted_mono = imgsync__env_mono(&ctx->env);
    }
    imgsync__task_rec_clear(&r);
    return rc;
}

void imgsync__history_persist(imgsync_ctx *ctx, imgsync__task *t, int force)
{
    if (!t->dirty || (!force && imgsync__env_mono(&ctx->env) - t->persisted_mono < PERSIST_INTERVAL_MS))
        return;
    imgsync__task_rec r;
    pthread_mutex_lock(&ctx->status_lock);
    int rc = imgsync__task_record(&r, t);
    t->dirty = rc != 0;
    pthread_mutex_unlock(&ctx->status_lock);
    t->persist_failed = 0;
    if (!rc && imgsync__store_task_update(ctx->store, &r))
        t->dirty = t->persist_failed = 1; /* a busy database: try again at the next step */
    else if (!rc)
        t->rec_state = r.state;
    t->persisted_mono = imgsync__env_mono(&ctx->env);
    imgsync__task_rec_clear(&r);
}

void imgsync__history_prune(imgsync_ctx *ctx) { imgsync__store_task_prune(ctx->store, ctx->retention, NULL); }

/* The one error of a task that failed before it could start (its code is the failure's). */
static int add_error(imgsync__task_rec *r, int code, const char *registry, const char *message)
{
    if (!(r->errors = calloc(1, sizeof(*r->errors))))
        return IMGSYNC_ENOMEM;
    imgsync__task_rec_error *e = &r->errors[0];
    e->registry = imgsync__strdup(registry ? registry : "");
    e->repository = imgsync__strdup("");
    e->message = imgsync__strdup(message);
    e->code = code;
    r->nerrors = 1;
    return e->registry && e->repository && e->message ? 0 : IMGSYNC_ENOMEM;
}

int imgsync__history_add_ended(imgsync_ctx *ctx, int state, uint64_t schedule_id, int code, const char *registry,
                               const char *reason, uint64_t *id)
{
    imgsync__task_rec r;
    memset(&r, 0, sizeof(r));
    r.state = state;
    r.trigger = IMGSYNC_TRIGGER_SCHEDULED;
    r.schedule_id = schedule_id;
    r.created_ms = r.started_ms = r.finished_ms = imgsync__env_now(&ctx->env);
    r.reason = imgsync__strdup(reason);
    r.owner = imgsync__strdup("");
    int rc = r.reason && r.owner ? 0 : IMGSYNC_ENOMEM;
    if (!rc && code)
        rc = add_error(&r, code, registry, reason);
    if (!rc)
        rc = imgsync__store_task_insert(ctx->store, &r);
    *id = rc ? 0 : r.id;
    imgsync__task_rec_clear(&r);
    if (!rc) /* an ended task like any other: a schedule that only skips or fails must not grow the history */
        imgsync__history_prune(ctx);
    return rc;
}

/* A task of a process that is gone: failed, "interrupted"; its running registries too. */
static void interrupt(imgsync_ctx *ctx, imgsync__task_rec *r)
{
    char *why = imgsync__strdup("interrupted");
    if (!why)
        return;
    free(r->reason);
    r->reason = why;
    r->owner[0] = '\0';
    r->state = IMGSYNC_TASK_FAILED;
    r->finished_ms = imgsync__env_now(&ctx->env);
    for (size_t i = 0; i < r->nregistries; i++) {
        imgsync__task_rec_registry *g = &r->registries[i];
        if (g->state != IMGSYNC_REGISTRY_RUNNING)
            continue;
        g->state = IMGSYNC_REGISTRY_FAILED;
        g->error = IMGSYNC_ECANCELED;
        if (!g->reason[0] && (why = imgsync__strdup("interrupted"))) {
            free(g->reason);
            g->reason = why;
        }
    }
    imgsync__store_task_update(ctx->store, r);
}

int imgsync__history_recover(imgsync_ctx *ctx)
{
    for (int state = IMGSYNC_TASK_QUEUED; state <= IMGSYNC_TASK_RUNNING; state++) {
        imgsync__task_rec *v = NULL;
        size_t n = 0;
        int rc = imgsync__store_task_list(ctx->store, state, -1, 0, &v, &n);
        if (rc)
            return rc;
        for (size_t i = 0; i < n; i++) {
            if (!imgsync__history_owner_alive(v[i].owner))
                interrupt(ctx, &v[i]);
            imgsync__task_rec_clear(&v[i]);
        }
        free(v);
    }
    return 0;
}

/* ---- snapshots ---------------------------------------------------------------------------------- */

/* The live task's record, or the store's: *found says whether either exists. */
static int fetch(imgsync_ctx *ctx, uint64_t id, imgsync__task_rec *r)
{
    pthread_mutex_lock(&ctx->status_lock);
    imgsync__task *t = imgsync__ctx_task(ctx, id);
    int rc = t ? imgsync__task_record(r, t) : IMGSYNC_ENOTFOUND;
    pthread_mutex_unlock(&ctx->status_lock);
    if (rc == IMGSYNC_ENOTFOUND)
        rc = imgsync__store_task_get(ctx->store, id, r);
    return rc;
}

static int report(imgsync_ctx *ctx, int rc, uint64_t id)
{
    if (!rc)
        return imgsync__ctx_ok(ctx);
    if (rc == IMGSYNC_ENOTFOUND)
        return id ? imgsync__ctx_fail(ctx, rc, "no task %llu", (unsigned long long)id)
                  : imgsync__ctx_fail(ctx, rc, "no task yet");
    const char *why = imgsync__store_errmsg(ctx->store);
    return imgsync__ctx_fail(ctx, rc, "cannot read the task history: %s", why[0] ? why : imgsync_strerror(rc));
}

int imgsync_task_get(imgsync_task **out, imgsync_ctx *ctx, uint64_t task_id)
{
    if (!ctx)
        return IMGSYNC_EINVAL;
    if (!out)
        return imgsync__ctx_fail(ctx, IMGSYNC_EINVAL, "imgsync_task_get: out is required");
    *out = NULL;
    imgsync_task *s = calloc(1, sizeof(*s));
    int rc = s ? fetch(ctx, task_id, &s->rec) : IMGSYNC_ENOMEM;
    if (rc)
        free(s);
    else
        *out = s;
    return report(ctx, rc, task_id);
}

int imgsync_task_get_latest(imgsync_task **out, imgsync_ctx *ctx)
{
    if (!ctx)
        return IMGSYNC_EINVAL;
    if (!out)
        return imgsync__ctx_fail(ctx, IMGSYNC_EINVAL, "imgsync_task_get_latest: out is required");
    *out = NULL;
    imgsync__task_rec *v = NULL;
    size_t n = 0;
    int rc = imgsync__store_task_list(ctx->store, -1, -1, 1, &v, &n);
    uint64_t id = !rc && n ? v[0].id : 0;
    for (size_t i = 0; i < n; i++)
        imgsync__task_rec_clear(&v[i]);
    free(v);
    if (!rc && !id)
        rc = IMGSYNC_ENOTFOUND;
    if (rc)
        return report(ctx, rc, 0);
    return imgsync_task_get(out, ctx, id);
}

void imgsync_task_free(imgsync_task *s)
{
    if (!s)
        return;
    imgsync__task_rec_clear(&s->rec);
    free(s);
}

/* ---- the task list ----------------------------------------------------------------------------- */

/* Replace stored records of tasks this process runs by their live state (fresher progress). */
static void overlay_live(imgsync_ctx *ctx, imgsync_task_list *l)
{
    pthread_mutex_lock(&ctx->status_lock);
    for (size_t i = 0; i < l->n; i++) {
        imgsync__task *t = imgsync__ctx_task(ctx, l->items[i].rec.id);
        imgsync__task_rec r;
        if (t && imgsync__task_record(&r, t) == 0) {
            imgsync__task_rec_clear(&l->items[i].rec);
            l->items[i].rec = r;
        }
    }
    pthread_mutex_unlock(&ctx->status_lock);
}

int imgsync_task_list_new(imgsync_task_list **out, imgsync_ctx *ctx, int state, int trigger, size_t limit)
{
    if (!ctx)
        return IMGSYNC_EINVAL;
    if (!out || state < -1 || state > IMGSYNC_TASK_SKIPPED || trigger < -1 || trigger > IMGSYNC_TRIGGER_SCHEDULED)
        return imgsync__ctx_fail(ctx, IMGSYNC_EINVAL, "imgsync_task_list_new: bad argument");
    *out = NULL;
    imgsync_task_list *l = calloc(1, sizeof(*l));
    imgsync__task_rec *v = NULL;
    int rc = l ? imgsync__store_task_list(ctx->store, state, trigger, limit, &v, &l->n) : IMGSYNC_ENOMEM;
    if (!rc && !(l->items = calloc(l->n + 1, sizeof(*l->items)))) {
        for (size_t i = 0; i < l->n; i++)
            imgsync__task_rec_clear(&v[i]);
        rc = IMGSYNC_ENOMEM;
    }
    for (size_t i = 0; !rc && i < l->n; i++)
        l->items[i].rec = v[i]; /* moved */
    free(v);
    if (rc) {
        free(l);
        return report(ctx, rc, 0);
    }
    overlay_live(ctx, l);
    *out = l;
    return imgsync__ctx_ok(ctx);
}

size_t imgsync_task_list_count(const imgsync_task_list *l) { return l ? l->n : 0; }

const imgsync_task *imgsync_task_list_at(const imgsync_task_list *l, size_t i)
{
    return l && i < l->n ? &l->items[i] : NULL;
}

void imgsync_task_list_free(imgsync_task_list *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->n; i++)
        imgsync__task_rec_clear(&l->items[i].rec);
    free(l->items);
    free(l);
}

/* ---- getters ------------------------------------------------------------------------------------ */

uint64_t imgsync_task_id(const imgsync_task *s) { return s ? s->rec.id : 0; }
int imgsync_task_state_of(const imgsync_task *s) { return s ? s->rec.state : IMGSYNC_TASK_FAILED; }
int imgsync_task_trigger(const imgsync_task *s) { return s ? s->rec.trigger : 0; }
int64_t imgsync_task_created_ms(const imgsync_task *s) { return s ? s->rec.created_ms : 0; }
int64_t imgsync_task_started_ms(const imgsync_task *s) { return s ? s->rec.started_ms : 0; }
int64_t imgsync_task_finished_ms(const imgsync_task *s) { return s ? s->rec.finished_ms : 0; }
const char *imgsync_task_reason(const imgsync_task *s) { return s && s->rec.reason ? s->rec.reason : ""; }
uint64_t imgsync_task_schedule_id(const imgsync_task *s) { return s ? s->rec.schedule_id : 0; }

uint64_t imgsync_task_counter(const imgsync_task *s, int c)
{
    return (s && c >= 0 && c < IMGSYNC__COUNTERS) ? s->rec.counters[c] : 0;
}

const char *imgsync_task_state_name(int state)
{
    static const char *names[] = {"queued", "running", "succeeded", "partially succeeded", "failed", "canceled",
                                  "skipped"};
    return (state >= 0 && state <= IMGSYNC_TASK_SKIPPED) ? names[state] : "unknown";
}

size_t imgsync_task_registry_count(const imgsync_task *s) { return s ? s->rec.nregistries : 0; }

static const imgsync__task_rec_registry *row_at(const imgsync_task *s, size_t i)
{
    return s && i < s->rec.nregistries ? &s->rec.registries[i] : NULL;
}
const char *imgsync_task_registry_name(const imgsync_task *s, size_t i)
{
    const imgsync__task_rec_registry *r = row_at(s, i);
    return r ? r->name : "";
}
const char *imgsync_task_registry_type(const imgsync_task *s, size_t i)
{
    const imgsync__task_rec_registry *r = row_at(s, i);
    return r ? r->type : "";
}
int imgsync_task_registry_state(const imgsync_task *s, size_t i)
{
    const imgsync__task_rec_registry *r = row_at(s, i);
    return r ? r->state : IMGSYNC_REGISTRY_FAILED;
}
const char *imgsync_task_registry_reason(const imgsync_task *s, size_t i)
{
    const imgsync__task_rec_registry *r = row_at(s, i);
    return r ? r->reason : "";
}
int imgsync_task_registry_error(const imgsync_task *s, size_t i)
{
    const imgsync__task_rec_registry *r = row_at(s, i);
    return r ? r->error : IMGSYNC_ENOTFOUND;
}

size_t imgsync_task_error_count(const imgsync_task *s) { return s ? s->rec.nerrors : 0; }

static const imgsync__task_rec_error *err_at(const imgsync_task *s, size_t i)
{
    return s && i < s->rec.nerrors ? &s->rec.errors[i] : NULL;
}
const char *imgsync_task_error_registry(const imgsync_task *s, size_t i)
{
    const imgsync__task_rec_error *e = err_at(s, i);
    return e ? e->registry : "";
}
const char *imgsync_task_error_repository(const imgsync_task *s, size_t i)
{
    const imgsync__task_rec_error *e = err_at(s, i);
    return e ? e->repository : "";
}
int imgsync_task_error_code(const imgsync_task *s, size_t i)
{
    const imgsync__task_rec_error *e = err_at(s, i);
    return e ? e->code : 0;
}
const char *imgsync_task_error_message(const imgsync_task *s, size_t i)
{
    const imgsync__task_rec_error *e = err_at(s, i);
    return e ? e->message : "";
}
