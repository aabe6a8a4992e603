/* The context's log (internal): messages made by the core, filtered by level, bounded,
 * sanitized, and handed to the embedder's callback. Runs and tasks reach it through their env. */
#ifndef IMGSYNC_CORE_LOG_H
#define IMGSYNC_CORE_LOG_H

#include "imgsync/ctx.h"

#define IMGSYNC__LOG_MAX 1024 /* bytes of a message with its NUL */

typedef struct imgsync__log {
    imgsync_ctx *ctx;     /* given to the callback */
    imgsync_log_callback fn;
    void *payload;
    int max_level;        /* 0 when fn is NULL: nothing wanted */
    int in_callback;      /* the callback runs (re-entry guard) */
} imgsync__log;

/* Is a message of this level wanted? (Test it before formatting one.) */
static inline int imgsync__log_wants(const imgsync__log *log, int level)
{
    return log && level <= log->max_level;
}

/* Hand text to the callback when its level is wanted: cut to IMGSYNC__LOG_MAX - 1 bytes (never
 * inside a UTF-8 sequence) and sanitized. The caller took secrets out. */
void imgsync__log_text(imgsync__log *log, int level, const char *text);
/* printf, then imgsync__log_text (for texts without secrets: counts, states, names). */
void imgsync__log_printf(imgsync__log *log, int level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
