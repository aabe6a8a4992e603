/* The context's log: the public setter and the one place messages reach the callback. */
#include "core/log.h"

#include <stdarg.h>
#include <stdio.h>

#include "core/ctx.h"
#include "util/text.h"

int imgsync_ctx_set_log_callback(imgsync_ctx *ctx, int max_level, imgsync_log_callback cb, void *payload)
{
    if (!ctx)
        return IMGSYNC_EINVAL;
    if (cb && (max_level < IMGSYNC_LOG_ERROR || max_level > IMGSYNC_LOG_DEBUG))
        return imgsync__ctx_fail(ctx, IMGSYNC_EINVAL, "log level %d is not one of IMGSYNC_LOG_ERROR..DEBUG", max_level);
    if (imgsync__ctx_held(ctx) && ctx->log.in_callback) /* the flag is the holder's */
        return imgsync__ctx_fail(ctx, IMGSYNC_EBUSY, "imgsync_ctx_set_log_callback called from the log callback");
    imgsync__ctx_enter(ctx);
    ctx->log.fn = cb;
    ctx->log.payload = payload;
    ctx->log.max_level = cb ? max_level : 0;
    /* attempts are traced only when their lines (DEBUG, WARN when one gives up) may be wanted:
     * otherwise an attempt costs one branch */
    imgsync__engine_set_trace(ctx->engine, cb && max_level >= IMGSYNC_LOG_WARN);
    imgsync__ctx_leave(ctx);
    return imgsync__ctx_ok(ctx);
}

void imgsync__log_text(imgsync__log *log, int level, const char *text)
{
    if (!imgsync__log_wants(log, level) || log->in_callback)
        return; /* a message made while the callback runs (it called us back) is dropped */
    char line[IMGSYNC__LOG_MAX];
    imgsync__text_copy(line, sizeof(line), text ? text : "");
    log->in_callback = 1;
    log->fn(log->ctx, level, line, log->payload);
    log->in_callback = 0;
}

void imgsync__log_printf(imgsync__log *log, int level, const char *fmt, ...)
{
    if (!imgsync__log_wants(log, level))
        return;
    char text[IMGSYNC__LOG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    imgsync__log_text(log, level, text);
}
