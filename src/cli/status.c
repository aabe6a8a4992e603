/* imgsync: the task status (stderr). */
#include "cli/output.h"

#include <inttypes.h>
#include <stdlib.h>
#include <unistd.h>

int task_ended(int state)
{
    return state == IMGSYNC_TASK_SUCCEEDED || state == IMGSYNC_TASK_PARTIAL ||
           state == IMGSYNC_TASK_FAILED || state == IMGSYNC_TASK_CANCELED ||
           state == IMGSYNC_TASK_SKIPPED;
}

/* repositories done/total as a percentage (100 when there is nothing to do) */
static unsigned percent_done(const imgsync_task *t)
{
    uint64_t done = imgsync_task_counter(t, IMGSYNC_COUNT_REPOSITORIES_DONE);
    uint64_t total = imgsync_task_counter(t, IMGSYNC_COUNT_REPOSITORIES_TOTAL);

    if (total == 0) /* nothing to list: done only when that was a success */
        return imgsync_task_state_of(t) == IMGSYNC_TASK_SUCCEEDED ? 100 : 0;
    return (unsigned)(done >= total ? 100 : done * 100 / total);
}

/* Images found per second since the start. */
static double image_rate(const imgsync_task *t, int64_t elapsed_ms)
{
    uint64_t images = imgsync_task_counter(t, IMGSYNC_COUNT_IMAGES_FOUND);

    return elapsed_ms > 0 ? (double)images * 1000.0 / (double)elapsed_ms : 0.0;
}

void progress_begin(progress *p, int summary)
{
    p->tty = isatty(STDERR_FILENO);
    p->summary = summary;
    p->began = monotonic_ms();
    p->last_draw = -PROGRESS_REDRAW_MS;
    p->draws = 0;
}

void progress_update(progress *p, const imgsync_task *t)
{
    int64_t now = monotonic_ms(), elapsed = now - p->began;
    char line[256];

    if (!p->tty || t == NULL || now - p->last_draw < PROGRESS_REDRAW_MS)
        return;
    snprintf(line, sizeof line,
             "syncing: %u%% (%" PRIu64 "/%" PRIu64 " repositories), %" PRIu64
             " images, %.1f images/s, %" PRIu64 " requests",
             percent_done(t), imgsync_task_counter(t, IMGSYNC_COUNT_REPOSITORIES_DONE),
             imgsync_task_counter(t, IMGSYNC_COUNT_REPOSITORIES_TOTAL),
             imgsync_task_counter(t, IMGSYNC_COUNT_IMAGES_FOUND), image_rate(t, elapsed),
             imgsync_task_counter(t, IMGSYNC_COUNT_REQUESTS));
    show_progress_line(line);
    p->last_draw = now;
    p->draws++;
}

void progress_end(progress *p, const imgsync_task *t)
{
    int64_t elapsed = monotonic_ms() - p->began;

    clear_progress();
    if (p->tty || !p->summary || t == NULL)
        return;
    int state = imgsync_task_state_of(t);
    char what[48];
    /* "synced" only for a success: a failed or canceled sync says what it ended as */
    if (state == IMGSYNC_TASK_SUCCEEDED)
        snprintf(what, sizeof what, "synced");
    else
        snprintf(what, sizeof what, "sync %s:", imgsync_task_state_name(state));
    emit(stderr,
         "imgsync: %s %u%% (%" PRIu64 "/%" PRIu64 " repositories), %" PRIu64
         " images in %.1f s (%.1f images/s), %" PRIu64 " requests",
         what, percent_done(t), imgsync_task_counter(t, IMGSYNC_COUNT_REPOSITORIES_DONE),
         imgsync_task_counter(t, IMGSYNC_COUNT_REPOSITORIES_TOTAL),
         imgsync_task_counter(t, IMGSYNC_COUNT_IMAGES_FOUND), (double)elapsed / 1000.0,
         image_rate(t, elapsed), imgsync_task_counter(t, IMGSYNC_COUNT_REQUESTS));
}

const char *registry_state_name(int state)
{
    switch (state) {
    case IMGSYNC_REGISTRY_RUNNING:
        return "running";
    case IMGSYNC_REGISTRY_FINISHED:
        return "finished";
    case IMGSYNC_REGISTRY_FAILED:
        return "failed";
    default:
        return "unknown";
    }
}

const char *state_name(int state)
{
    const char *s = imgsync_task_state_name(state);

    return s ? s : "unknown";
}

const char *trigger_name(int trigger)
{
    return trigger == IMGSYNC_TRIGGER_SCHEDULED ? "scheduled" : "manual";
}

static void print_summary(const imgsync_task *t)
{
    int64_t started = imgsync_task_started_ms(t), finished = imgsync_task_finished_ms(t);
    int64_t elapsed = 0;

    if (started > 0)
        elapsed = (finished >= started ? finished : wall_ms()) - started;
    emit(stderr,
         "task %" PRIu64 " %s in %" PRId64 " ms: repositories %" PRIu64 "/%" PRIu64 " (%" PRIu64
         " failed), images %" PRIu64 " found, %" PRIu64 " added, %" PRIu64 " updated, %" PRIu64
         " removed, %" PRIu64 " requests, %" PRIu64 " retries",
         imgsync_task_id(t), state_name(imgsync_task_state_of(t)), elapsed,
         imgsync_task_counter(t, IMGSYNC_COUNT_REPOSITORIES_DONE),
         imgsync_task_counter(t, IMGSYNC_COUNT_REPOSITORIES_TOTAL),
         imgsync_task_counter(t, IMGSYNC_COUNT_REPOSITORIES_FAILED),
         imgsync_task_counter(t, IMGSYNC_COUNT_IMAGES_FOUND),
         imgsync_task_counter(t, IMGSYNC_COUNT_IMAGES_ADDED),
         imgsync_task_counter(t, IMGSYNC_COUNT_IMAGES_UPDATED),
         imgsync_task_counter(t, IMGSYNC_COUNT_IMAGES_REMOVED),
         imgsync_task_counter(t, IMGSYNC_COUNT_REQUESTS),
         imgsync_task_counter(t, IMGSYNC_COUNT_RETRIES));
}

void print_status(const imgsync_task *t)
{
    const char *task_reason = imgsync_task_reason(t);
    size_t i, n;

    print_summary(t);
    if (*task_reason)
        emit(stderr, "  reason: %s", task_reason);
    n = imgsync_task_registry_count(t);
    for (i = 0; i < n; i++) {
        const char *reason = imgsync_task_registry_reason(t, i);
        emit(stderr, "  registry %s (%s): %s%s%s", imgsync_task_registry_name(t, i),
             imgsync_task_registry_type(t, i),
             registry_state_name(imgsync_task_registry_state(t, i)), *reason ? ": " : "", reason);
    }
    n = imgsync_task_error_count(t);
    for (i = 0; i < n; i++) {
        const char *repository = imgsync_task_error_repository(t, i);
        const char *message = imgsync_task_error_message(t, i);
        emit(stderr, "  error %s%s%s: %s", imgsync_task_error_registry(t, i),
             *repository ? " " : "", repository,
             *message ? message : imgsync_strerror(imgsync_task_error_code(t, i)));
    }
}

char *task_first_reason(const imgsync_task *t)
{
    const char *repository, *message;
    size_t i, n = imgsync_task_registry_count(t);

    if (*imgsync_task_reason(t))
        return format("%s", imgsync_task_reason(t));
    for (i = 0; i < n; i++) {
        const char *reason = imgsync_task_registry_reason(t, i);
        int code = imgsync_task_registry_error(t, i);
        if (*reason || code != 0)
            return format("registry '%s': %s", imgsync_task_registry_name(t, i),
                          *reason ? reason : imgsync_strerror(code));
    }
    if (imgsync_task_error_count(t) == 0)
        return format("%s", "");
    repository = imgsync_task_error_repository(t, 0);
    message = imgsync_task_error_message(t, 0);
    return format("registry '%s'%s%s%s: %s", imgsync_task_error_registry(t, 0),
                  *repository ? " repository '" : "", repository, *repository ? "'" : "",
                  *message ? message : imgsync_strerror(imgsync_task_error_code(t, 0)));
}

/* The first reason of an ended task's failure; 0 when there is none. */
static int print_first_error(const imgsync_task *t, const char *state)
{
    char *reason = task_first_reason(t);
    int found = reason != NULL && *reason != '\0';

    if (found)
        errorf("sync %s: %s", state, reason);
    free(reason);
    return found;
}

void print_failure(const imgsync_task *t, enum stop_reason why, unsigned long timeout_ms)
{
    const char *state;

    if (t == NULL) {
        errorf("sync failed: the task status is not available");
        return;
    }
    state = state_name(imgsync_task_state_of(t));
    if (!task_ended(imgsync_task_state_of(t)))
        errorf("sync did not finish (state %s)", state);
    else if (why == STOP_TIMEOUT)
        errorf("sync %s: timed out after %lu ms (--timeout-ms)", state, timeout_ms);
    else if (why == STOP_SIGNAL)
        errorf("sync %s: interrupted", state);
    else if (!print_first_error(t, state))
        errorf("sync %s", state);
}
