/* The context: construction, engine settings and error detail. */
#include "ctx.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "core/authfile.h"
#include "core/history.h"
#include "core/kinds.h"
#include "core/run.h"
#include "util/buf.h"
#include "util/clock.h"

/*
 * Error details are kept per thread (as libgit2 does): imgsync_task_get() may run on any thread
 * beside the one driving the context, and each thread must read the detail of its own last call.
 * A thread keeps the details of its last few contexts; contexts are told apart by a serial
 * number, never by an address that a new context could reuse.
 */
#define ERR_SLOTS 4

typedef struct err_slot {
    uint64_t serial;
    uint64_t used; /* for least-recently-used replacement */
    char msg[512];
} err_slot;

static __thread err_slot err_slots[ERR_SLOTS];
static __thread uint64_t err_clock;
static uint64_t next_serial = 1;
static pthread_mutex_t serial_lock = PTHREAD_MUTEX_INITIALIZER;

static err_slot *thread_slot(const imgsync_ctx *ctx, int create)
{
    err_slot *lru = &err_slots[0];
    for (size_t i = 0; i < ERR_SLOTS; i++) {
        if (err_slots[i].serial == ctx->serial) {
            err_slots[i].used = ++err_clock;
            return &err_slots[i];
        }
        if (err_slots[i].used < lru->used)
            lru = &err_slots[i];
    }
    if (!create)
        return NULL;
    lru->serial = ctx->serial;
    lru->used = ++err_clock;
    lru->msg[0] = '\0';
    return lru;
}

int imgsync__ctx_fail(imgsync_ctx *ctx, int code, const char *fmt, ...)
{
    if (ctx) {
        err_slot *slot = thread_slot(ctx, 1);
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(slot->msg, sizeof(slot->msg), fmt, ap);
        va_end(ap);
    }
    return code;
}

int imgsync__ctx_ok(imgsync_ctx *ctx)
{
    err_slot *slot = ctx ? thread_slot(ctx, 0) : NULL;
    if (slot)
        slot->msg[0] = '\0';
    return 0;
}

const char *imgsync_ctx_errmsg(const imgsync_ctx *ctx)
{
    err_slot *slot = ctx ? thread_slot(ctx, 0) : NULL;
    return slot ? slot->msg : "";
}

int64_t imgsync__env_now(const imgsync__env *env) { return imgsync__clock_now(env->clock); }
int64_t imgsync__env_mono(const imgsync__env *env) { return imgsync__clock_mono(env->clock); }

/* curl_global_init is not thread-safe before curl 7.84: run it once, whatever the threads. */
static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_result = CURLE_FAILED_INIT;

static void init_curl(void) { curl_init_result = curl_global_init(CURL_GLOBAL_DEFAULT); }

int imgsync_ctx_new(imgsync_ctx **out, const char *store_uri) { return imgsync_ctx_open(out, store_uri, NULL, 0); }

int imgsync_ctx_open(imgsync_ctx **out, const char *store_uri, char *errbuf, size_t errbuf_len)
{
    if (errbuf && errbuf_len)
        errbuf[0] = '\0';
    if (!out)
        return IMGSYNC_EINVAL;
    *out = NULL;
    pthread_once(&curl_once, init_curl);
    if (curl_init_result != CURLE_OK)
        return IMGSYNC_ENETWORK;
    imgsync__builtin_kinds();
    imgsync_ctx *ctx = calloc(1, sizeof(*ctx));
    if (!ctx)
        return IMGSYNC_ENOMEM;
    pthread_mutex_init(&ctx->status_lock, NULL);
    pthread_mutex_init(&ctx->api_lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC); /* an idle worker's timed wait ignores wall-clock jumps */
    pthread_cond_init(&ctx->api_cond, &ca);
    pthread_condattr_destroy(&ca);
    imgsync__history_owner(ctx->owner, sizeof(ctx->owner));
    ctx->retention = 100;
    ctx->wake_rd = ctx->wake_wr = -1;
    ctx->catch_up = 1;
    pthread_mutex_lock(&serial_lock);
    ctx->serial = next_serial++;
    pthread_mutex_unlock(&serial_lock);
    imgsync__map_init(&ctx->provider_names);
    imgsync__map_init(&ctx->kept);
    ctx->clock = imgsync__system_clock;
    imgsync__engine_default_opts(&ctx->eopts);
    int rc = imgsync__store_open_msg(&ctx->store, store_uri, errbuf, errbuf_len);
    if (!rc)
        rc = imgsync__engine_new(&ctx->engine, &ctx->eopts, &ctx->clock, NULL);
    if (rc) {
        imgsync_ctx_free(ctx);
        return rc;
    }
    ctx->env.store = ctx->store;
    ctx->env.engine = ctx->engine;
    ctx->env.clock = &ctx->clock;
    ctx->env.status_lock = &ctx->status_lock;
    ctx->env.check_timeout_ms = 20000;
    ctx->env.max_pending = 4096;
    ctx->env.owner = ctx->owner;
    ctx->env.kept = &ctx->kept;
    ctx->log.ctx = ctx;
    ctx->env.log = &ctx->log;
    rc = imgsync__history_recover(ctx);
    if (rc) {
        if (errbuf && errbuf_len)
            snprintf(errbuf, errbuf_len, "%s", imgsync__store_errmsg(ctx->store));
        imgsync_ctx_free(ctx);
        return rc;
    }
    *out = ctx;
    return 0;
}

void imgsync_ctx_free(imgsync_ctx *ctx)
{
    if (!ctx)
        return;
    imgsync_ctx_stop(ctx);
    imgsync__ctx_enter(ctx); /* the log callback runs with the lock held, here too */
    for (size_t i = 0; i < ctx->ntasks; i++) {
        imgsync__task_cancel(ctx->tasks[i], IMGSYNC_ECANCELED, "context freed");
        if (ctx->store)
            imgsync__history_persist(ctx, ctx->tasks[i], 1);
    }
    imgsync__ctx_leave(ctx);
    for (size_t i = 0; i < ctx->ntasks; i++)
        imgsync__task_free(ctx->tasks[i]);
    imgsync__evloop_free(ctx);
    imgsync__sched_free(ctx);
    free(ctx->tasks);
    imgsync__engine_free(ctx->engine);
    imgsync__store_close(ctx->store);
    for (size_t i = 0; i < ctx->nproviders; i++)
        imgsync__provider_destroy(ctx->providers[i]);
    free(ctx->providers);
    imgsync__map_clear(&ctx->provider_names);
    imgsync__kept_clear(&ctx->kept);
    free(ctx->auth_file);
    pthread_mutex_destroy(&ctx->status_lock);
    pthread_mutex_destroy(&ctx->api_lock);
    pthread_cond_destroy(&ctx->api_cond);
    free(ctx);
}

imgsync_provider *imgsync__ctx_provider(const imgsync_ctx *ctx, const char *name)
{
    return name ? imgsync__map_get(&ctx->provider_names, name) : NULL;
}

imgsync__task *imgsync__ctx_task(const imgsync_ctx *ctx, uint64_t id)
{
    /* ids are given in increasing order and tasks are only appended */
    size_t lo = 0, hi = ctx ? ctx->ntasks : 0;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (ctx->tasks[mid]->id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return ctx && lo < ctx->ntasks && ctx->tasks[lo]->id == id ? ctx->tasks[lo] : NULL;
}

int imgsync__ctx_busy(const imgsync_ctx *ctx)
{
    for (size_t i = 0; i < ctx->ntasks; i++)
        if (imgsync__task_active(ctx->tasks[i]))
            return 1;
    return 0;
}

int imgsync__ctx_add_task(imgsync_ctx *ctx, imgsync__task *t)
{
    int rc = imgsync__history_insert(ctx, t); /* the store gives the id */
    /* the task list is read by imgsync_task_get from other threads: grow it under the lock */
    pthread_mutex_lock(&ctx->status_lock);
    imgsync__task **arr = rc ? NULL : realloc(ctx->tasks, (ctx->ntasks + 1) * sizeof(*arr));
    if (arr) {
        ctx->tasks = arr;
        ctx->tasks[ctx->ntasks++] = t;
    }
    pthread_mutex_unlock(&ctx->status_lock);
    if (!arr) {
        if (!rc) { /* recorded but not kept: the record must not stay queued */
            t->state = IMGSYNC_TASK_FAILED;
            t->dirty = 1;
            imgsync__history_persist(ctx, t, 1);
        }
        imgsync__task_free(t);
        return rc ? rc : IMGSYNC_ENOMEM;
    }
    return 0;
}

/* Forget ended tasks whose last state is recorded and told: the store has them now. */
void imgsync__ctx_reap(imgsync_ctx *ctx)
{
    size_t k = 0;
    imgsync__task *gone[64];
    size_t ngone = 0;
    pthread_mutex_lock(&ctx->status_lock);
    for (size_t i = 0; i < ctx->ntasks; i++) {
        imgsync__task *t = ctx->tasks[i];
        if (!imgsync__task_active(t) && !t->dirty && t->ev_state == t->state && ngone < 64)
            gone[ngone++] = t;
        else
            ctx->tasks[k++] = t;
    }
    ctx->ntasks = k;
    pthread_mutex_unlock(&ctx->status_lock);
    for (size_t i = 0; i < ngone; i++)
        imgsync__task_free(gone[i]);
}

int imgsync__ctx_set_transport(imgsync_ctx *ctx, imgsync__transport *t)
{
    if (imgsync__ctx_busy(ctx))
        return IMGSYNC_EBUSY;
    imgsync__engine *e;
    int rc = imgsync__engine_new(&e, &ctx->eopts, &ctx->clock, t);
    if (rc)
        return rc;
    imgsync__engine_free(ctx->engine);
    ctx->engine = ctx->env.engine = e;
    imgsync__engine_set_trace(e, ctx->log.max_level >= IMGSYNC_LOG_WARN);
    return 0;
}

size_t imgsync__ctx_pending_requests(const imgsync_ctx *ctx) { return imgsync__engine_pending(ctx->engine); }

/* ---- options ------------------------------------------------------------------------------ */

typedef struct ctx_option {
    const char *key;
    long long min, max;
} ctx_option;

static const ctx_option ctx_options[] = {
    {"max_connections", 1, 1024},       {"max_host_connections", 1, 1024},
    {"request_timeout_ms", 100, 86400000}, {"connect_timeout_ms", 100, 3600000},
    {"low_speed_bytes", 0, 1LL << 30},  {"low_speed_time_ms", 1000, 3600000},
    {"task_timeout_ms", 0, 7LL * 86400000}, {"check_timeout_ms", 100, 3600000},
    {"max_retries", 0, 20},             {"retry_base_ms", 0, 600000},
    {"retry_max_ms", 0, 3600000},       {"retry_total_ms", 0, 86400000},
    {"max_response_bytes", 1024, 1LL << 32}, {"max_pending_jobs", 16, 1000000},
    {"task_retention", 1, 1000000},     {"schedule_catch_up", 0, 1},
};

/* Store a parsed value in its place. */
static void apply(imgsync_ctx *ctx, imgsync__engine_opts *o, const char *key, long long v)
{
    if (!strcmp(key, "max_connections")) o->max_connections = (long)v;
    else if (!strcmp(key, "max_host_connections")) o->max_host_connections = (long)v;
    else if (!strcmp(key, "request_timeout_ms")) o->request_timeout_ms = (long)v;
    else if (!strcmp(key, "connect_timeout_ms")) o->connect_timeout_ms = (long)v;
    else if (!strcmp(key, "low_speed_bytes")) o->low_speed_bytes = (long)v;
    else if (!strcmp(key, "low_speed_time_ms")) o->low_speed_time_ms = (long)v;
    else if (!strcmp(key, "task_timeout_ms")) ctx->env.task_timeout_ms = v;
    else if (!strcmp(key, "check_timeout_ms")) ctx->env.check_timeout_ms = v;
    else if (!strcmp(key, "max_retries")) o->retry.max_retries = (int)v;
    else if (!strcmp(key, "retry_base_ms")) o->retry.base_ms = v;
    else if (!strcmp(key, "retry_max_ms")) o->retry.max_ms = v;
    else if (!strcmp(key, "retry_total_ms")) o->retry.total_ms = v;
    else if (!strcmp(key, "max_response_bytes")) o->max_response_bytes = (size_t)v;
    else if (!strcmp(key, "max_pending_jobs")) ctx->env.max_pending = (size_t)v;
    else if (!strcmp(key, "task_retention")) ctx->retention = (size_t)v;
    else if (!strcmp(key, "schedule_catch_up")) ctx->catch_up = (int)v;
}

/* The default auth file of providers that name none ("" = none). */
static int set_auth_file(imgsync_ctx *ctx, const char *value)
{
    char err[300];
    if (value[0] && imgsync__authfile_check_value(value, err, sizeof(err)))
        return imgsync__ctx_fail(ctx, IMGSYNC_EINVAL, "context option 'auth_file': %s", err);
    char *copy = value[0] ? imgsync__strdup(value) : NULL;
    if (value[0] && !copy)
        return imgsync__ctx_fail(ctx, IMGSYNC_ENOMEM, "out of memory");
    free(ctx->auth_file);
    ctx->auth_file = copy;
    ctx->env.auth_file = copy;
    return imgsync__ctx_ok(ctx);
}

int imgsync_ctx_set(imgsync_ctx *ctx, const char *key, const char *value)
{
    if (!ctx)
        return IMGSYNC_EINVAL;
    if (!key || !value)
        return imgsync__ctx_fail(ctx, IMGSYNC_EINVAL, "context option key and value are required");
    if (imgsync__ctx_busy(ctx))
        return imgsync__ctx_fail(ctx, IMGSYNC_EBUSY, "context settings cannot change while a task runs");
    if (!strcmp(key, "auth_file"))
        return set_auth_file(ctx, value);
    imgsync__engine_opts o = ctx->eopts;
    if (!strcmp(key, "user_agent")) {
        if (strlen(value) >= sizeof(o.user_agent) || strpbrk(value, "\r\n"))
            return imgsync__ctx_fail(ctx, IMGSYNC_EINVAL, "bad value for context option 'user_agent'");
        snprintf(o.user_agent, sizeof(o.user_agent), "%s", value);
    } else {
        const ctx_option *opt = NULL;
        for (size_t i = 0; i < sizeof(ctx_options) / sizeof(ctx_options[0]) && !opt; i++)
            if (!strcmp(ctx_options[i].key, key))
                opt = &ctx_options[i];
        if (!opt)
            return imgsync__ctx_fail(ctx, IMGSYNC_EINVAL, "unknown context option '%.64s'", key);
        long long v;
        if (imgsync__parse_i64(value, opt->min, opt->max, &v))
            return imgsync__ctx_fail(ctx, IMGSYNC_EINVAL, "context option '%s' must be an integer from %lld to %lld",
                                     key, opt->min, opt->max);
        apply(ctx, &o, key, v);
    }
    ctx->eopts = o;
    imgsync__engine_set_opts(ctx->engine, &o);
    return imgsync__ctx_ok(ctx);
}
