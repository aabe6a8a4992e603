/* The context: construction, engine settings, error detail and the perform loop. */
#include "ctx.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/task.h"
#include "util/buf.h"

int imgsync__ctx_fail(imgsync_ctx *ctx, int code, const char *fmt, ...)
{
    if (ctx) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(ctx->errmsg, sizeof(ctx->errmsg), fmt, ap);
        va_end(ap);
    }
    return code;
}

void imgsync__ctx_ok(imgsync_ctx *ctx)
{
    if (ctx)
        ctx->errmsg[0] = '\0';
}

const char *imgsync_ctx_errmsg(const imgsync_ctx *ctx) { return ctx ? ctx->errmsg : ""; }

/* curl_global_init is not thread-safe before curl 7.84: run it once, whatever the threads. */
static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_result = CURLE_FAILED_INIT;

static void init_curl(void) { curl_init_result = curl_global_init(CURL_GLOBAL_DEFAULT); }

int imgsync_ctx_new(imgsync_ctx **out, const char *store_uri)
{
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
    ctx->next_task_id = 1;
    imgsync__engine_default_opts(&ctx->eopts);
    int rc = imgsync__store_open(&ctx->store, store_uri);
    if (!rc)
        rc = imgsync__engine_new(&ctx->engine, &ctx->eopts);
    if (rc) {
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
    for (size_t i = 0; i < ctx->ntasks; i++)
        imgsync__task_cancel(ctx->tasks[i], IMGSYNC_ECANCELED, "context freed");
    imgsync__engine_free(ctx->engine);
    for (size_t i = 0; i < ctx->ntasks; i++)
        imgsync__task_free(ctx->tasks[i]);
    free(ctx->tasks);
    while (ctx->nproviders) {
        ctx->providers[ctx->nproviders - 1]->runs = 0;
        imgsync_provider_free(ctx->providers[ctx->nproviders - 1]);
    }
    free(ctx->providers);
    imgsync__store_close(ctx->store);
    pthread_mutex_destroy(&ctx->status_lock);
    free(ctx);
}

imgsync_provider *imgsync__ctx_provider(const imgsync_ctx *ctx, const char *name)
{
    for (size_t i = 0; i < ctx->nproviders; i++)
        if (strcmp(ctx->providers[i]->name, name) == 0)
            return ctx->providers[i];
    return NULL;
}

static int ctx_busy(const imgsync_ctx *ctx)
{
    for (size_t i = 0; i < ctx->ntasks; i++)
        if (imgsync__task_active(ctx->tasks[i]))
            return 1;
    return 0;
}

int imgsync_ctx_set(imgsync_ctx *ctx, const char *key, const char *value)
{
    if (!ctx || !key || !value)
        return IMGSYNC_EINVAL;
    if (ctx_busy(ctx))
        return imgsync__ctx_fail(ctx, IMGSYNC_EBUSY, "context settings cannot change while a task runs");
    imgsync__engine_opts o = ctx->eopts;
    long long v = 0;
    int rc = 0;
    if (!strcmp(key, "user_agent")) {
        if (strlen(value) >= sizeof(o.user_agent) || strpbrk(value, "\r\n"))
            rc = IMGSYNC_EINVAL;
        else
            snprintf(o.user_agent, sizeof(o.user_agent), "%s", value);
    } else if (!strcmp(key, "max_connections")) {
        if (!(rc = imgsync__parse_i64(value, 1, 1024, &v)))
            o.max_connections = (long)v;
    } else if (!strcmp(key, "max_host_connections")) {
        if (!(rc = imgsync__parse_i64(value, 1, 1024, &v)))
            o.max_host_connections = (long)v;
    } else if (!strcmp(key, "request_timeout_ms")) {
        if (!(rc = imgsync__parse_i64(value, 100, 86400000, &v)))
            o.request_timeout_ms = (long)v;
    } else if (!strcmp(key, "connect_timeout_ms")) {
        if (!(rc = imgsync__parse_i64(value, 100, 3600000, &v)))
            o.connect_timeout_ms = (long)v;
    } else if (!strcmp(key, "task_timeout_ms")) {
        if (!(rc = imgsync__parse_i64(value, 0, 7LL * 86400000, &v)))
            ctx->task_timeout_ms = v;
    } else if (!strcmp(key, "max_retries")) {
        if (!(rc = imgsync__parse_i64(value, 0, 20, &v)))
            o.retry.max_retries = (int)v;
    } else if (!strcmp(key, "retry_base_ms")) {
        if (!(rc = imgsync__parse_i64(value, 0, 600000, &v)))
            o.retry.base_ms = v;
    } else if (!strcmp(key, "retry_max_ms")) {
        if (!(rc = imgsync__parse_i64(value, 0, 3600000, &v)))
            o.retry.max_ms = v;
    } else if (!strcmp(key, "max_response_bytes")) {
        if (!(rc = imgsync__parse_i64(value, 1024, 1LL << 32, &v)))
            o.max_response_bytes = (size_t)v;
    } else {
        return imgsync__ctx_fail(ctx, IMGSYNC_EINVAL, "unknown context option '%.64s'", key);
    }
    if (rc)
        return imgsync__ctx_fail(ctx, IMGSYNC_EINVAL, "bad value for context option '%s'", key);
    ctx->eopts = o;
    imgsync__engine_set_opts(ctx->engine, &o);
    imgsync__ctx_ok(ctx);
    return 0;
}

int imgsync_ctx_perform(imgsync_ctx *ctx, int timeout_ms)
{
    if (!ctx)
        return IMGSYNC_EINVAL;
    if (ctx->in_perform)
        return imgsync__ctx_fail(ctx, IMGSYNC_EBUSY, "imgsync_ctx_perform called from a callback");
    ctx->in_perform = 1;
    int active = 0;
    for (size_t i = 0; i < ctx->ntasks; i++)
        active += imgsync__task_step(ctx->tasks[i]);
    if (active) {
        imgsync__engine_perform(ctx->engine, timeout_ms < 0 ? 0 : timeout_ms);
        active = 0;
        for (size_t i = 0; i < ctx->ntasks; i++)
            active += imgsync__task_step(ctx->tasks[i]);
    }
    ctx->in_perform = 0;
    return active;
}
