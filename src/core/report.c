/* What a run reports: its errors, its registry row and its log lines. Every text is sanitized
 * (server text may hold terminal controls) and has the run's secrets and tokens taken out before
 * it is stored or logged. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/run.h"
#include "util/buf.h"
#include "util/text.h"

/* A clean copy of a message, or NULL on ENOMEM. */
char *imgsync__run_clean(const imgsync_run *run, const char *message)
{
    char *s = imgsync__strdup(message);
    if (!s)
        return NULL;
    /* secrets first: sanitizing could alter one (a TAB, a control) so that it no longer matches */
    for (size_t i = 0; i < run->nsecrets; i++)
        imgsync__text_redact(s, run->secrets[i]);
    imgsync__group_redact(run->group, s);
    imgsync__text_redact_hex(s);
    imgsync__text_sanitize(s);
    return s;
}

void imgsync__run_log(const imgsync_run *run, int level, const char *fmt, ...)
{
    if (!imgsync__log_wants(run->env->log, level))
        return;
    va_list ap;
    va_start(ap, fmt);
    char *text = imgsync__vasprintf(fmt, ap); /* whole: a secret is redacted before any cut */
    va_end(ap);
    char *clean = text ? imgsync__run_clean(run, text) : NULL;
    imgsync__log_text(run->env->log, level, clean ? clean : "(a message was lost: out of memory)");
    free(clean);
    imgsync__wipe_free(text);
}

void imgsync__run_error(imgsync_run *run, const char *scope_name, int code, const char *message)
{
    char *msg = imgsync__run_clean(run, message ? message : imgsync_strerror(code));
    char *where = scope_name ? imgsync__run_clean(run, scope_name) : NULL;
    if (where)
        imgsync__run_log(run, IMGSYNC_LOG_WARN, "registry '%s': repository '%s' failed: %s", run->name, where,
                         msg ? msg : imgsync_strerror(code));
    else /* a cancellation is the embedder's wish, not a failure of the registry */
        imgsync__run_log(run, code == IMGSYNC_ECANCELED ? IMGSYNC_LOG_WARN : IMGSYNC_LOG_ERROR, "registry '%s' failed: %s",
                         run->name, msg ? msg : imgsync_strerror(code));
    imgsync__task_add_error(run->task, run->name, where, code, msg ? msg : imgsync_strerror(code));
    free(msg);
    free(where);
    pthread_mutex_lock(run->env->status_lock);
    if (!run->error)
        run->error = code;
    run->task->dirty = 1;
    pthread_mutex_unlock(run->env->status_lock);
}

void imgsync__run_set_row(imgsync_run *run, int state, const char *reason)
{
    char *copy = reason ? imgsync__run_clean(run, reason) : NULL;
    pthread_mutex_lock(run->env->status_lock);
    run->row_state = state;
    run->task->dirty = 1;
    if (copy) {
        free(run->reason);
        run->reason = copy;
    }
    pthread_mutex_unlock(run->env->status_lock);
}

void imgsync__run_note(imgsync_run *run, const char *note)
{
    char *n = imgsync__run_clean(run, note);
    if (!n)
        return;
    char *joined = run->notes ? imgsync__asprintf("%s; %s", run->notes, n) : n;
    if (joined != n)
        free(n);
    if (joined) {
        free(run->notes);
        run->notes = joined;
    }
}

/* The first error message recorded for this run. */
static const char *first_error(const imgsync_run *run)
{
    const imgsync__task *t = run->task;
    for (size_t i = 0; i < t->nerrors; i++)
        if (!strcmp(t->errors[i].registry, run->name))
            return t->errors[i].message;
    return "";
}

static void count_phrase(imgsync__buf *b, uint64_t n, const char *one, const char *many)
{
    if (!n)
        return;
    if (b->len)
        imgsync__buf_appends(b, ", ");
    imgsync__buf_printf(b, "%llu %s", (unsigned long long)n, n == 1 ? one : many);
}

/* The row of a run that did not fail as a whole: finished, or failed with what failed. */
void imgsync__run_summarize(imgsync_run *run)
{
    if (!run->scopes_failed && !run->ns_failed && !run->parts_failed) {
        imgsync__run_set_row(run, IMGSYNC_REGISTRY_FINISHED, run->notes);
        return;
    }
    imgsync__buf b;
    imgsync__buf_init(&b);
    if (run->scopes_failed)
        imgsync__buf_printf(&b, "%llu of %zu repositories failed", (unsigned long long)run->scopes_failed,
                            run->scopes.count + run->failed_items.count + (size_t)run->nameless_failed);
    count_phrase(&b, run->ns_failed, "namespace could not be listed", "namespaces could not be listed");
    count_phrase(&b, run->parts_failed, "partition could not be listed", "partitions could not be listed");
    pthread_mutex_lock(run->env->status_lock);
    imgsync__buf_printf(&b, "; first: %s", first_error(run));
    pthread_mutex_unlock(run->env->status_lock);
    if (run->notes)
        imgsync__buf_printf(&b, "; %s", run->notes);
    char *msg = imgsync__buf_steal(&b);
    imgsync__run_set_row(run, IMGSYNC_REGISTRY_FAILED, msg ? msg : "some repositories failed");
    free(msg);
}
