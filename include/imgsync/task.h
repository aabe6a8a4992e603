/* libimgsync: sync tasks and their status snapshots. */
#ifndef IMGSYNC_TASK_H
#define IMGSYNC_TASK_H

#include <stddef.h>
#include <stdint.h>

#include "ctx.h"
#include "export.h"
#include "request.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum imgsync_task_state {
    IMGSYNC_TASK_QUEUED = 0,
    IMGSYNC_TASK_RUNNING = 1,
    IMGSYNC_TASK_SUCCEEDED = 2,
    IMGSYNC_TASK_PARTIAL = 3,   /* some registries or repositories failed, the others synced */
    IMGSYNC_TASK_FAILED = 4,
    IMGSYNC_TASK_CANCELED = 5,
    IMGSYNC_TASK_SKIPPED = 6    /* a scheduled run not started: the schedule's previous run still ran */
} imgsync_task_state;

typedef enum imgsync_trigger {
    IMGSYNC_TRIGGER_MANUAL = 0,
    IMGSYNC_TRIGGER_SCHEDULED = 1
} imgsync_trigger;

typedef enum imgsync_registry_state {
    IMGSYNC_REGISTRY_RUNNING = 0,
    IMGSYNC_REGISTRY_FINISHED = 1,
    IMGSYNC_REGISTRY_FAILED = 2
} imgsync_registry_state;

typedef enum imgsync_counter {
    IMGSYNC_COUNT_REPOSITORIES_TOTAL = 0,
    IMGSYNC_COUNT_REPOSITORIES_DONE = 1,
    IMGSYNC_COUNT_REPOSITORIES_FAILED = 2,
    IMGSYNC_COUNT_IMAGES_FOUND = 3,
    IMGSYNC_COUNT_IMAGES_ADDED = 4,
    IMGSYNC_COUNT_IMAGES_UPDATED = 5,
    IMGSYNC_COUNT_IMAGES_REMOVED = 6,
    IMGSYNC_COUNT_REQUESTS = 7,
    IMGSYNC_COUNT_RETRIES = 8
} imgsync_counter;

/*
 * Start a manual sync of `req` (copied; may be freed right after). The task is queued and runs
 * as the context is driven (imgsync_ctx_perform, or the worker of imgsync_ctx_start). At most one
 * task syncs a registry at a time: a task selecting a registry that an earlier task is still
 * syncing stays queued until that one ends. `*task_id` (> 0) identifies it; with a SQLite store
 * ids are unique in the database (across processes and restarts) and the task is recorded there.
 * Safe from any thread, also while another thread drives the context.
 * Errors: ENOTFOUND (a named provider does not exist), EINVAL, ENOMEM, ESTORE (the task could not
 * be recorded).
 * A request that selects no provider gives a task that succeeds with nothing to do.
 */
IMGSYNC_EXTERN int imgsync_sync_start(imgsync_ctx *ctx, const imgsync_request *req, uint64_t *task_id);
/*
 * Drive ctx until the task ends or `timeout_ms` elapses (-1 = no limit). Returns 0 when the task
 * has ended (whatever its state; read it with imgsync_task_get), ETIMEOUT, ENOTFOUND, EBUSY (from
 * a callback, or while an event loop drives ctx: imgsync_ctx_set_socket_callback).
 */
IMGSYNC_EXTERN int imgsync_task_wait(imgsync_ctx *ctx, uint64_t task_id, int timeout_ms);
/* Stop a task now: in-flight requests are aborted, the state becomes IMGSYNC_TASK_CANCELED before
 * this returns, completed scopes stay committed, unfinished ones keep their previous inventory.
 * Safe from any thread. ENOTFOUND (also for a task of another process); 0 if it had already
 * ended. While an event loop drives ctx, a cancel from another thread reaches the loop through
 * its wakeup descriptor (the removal of the task's sockets is told on the loop's thread); from
 * the loop's socket or timer callback itself it answers EBUSY (cancel after it returns). */
IMGSYNC_EXTERN int imgsync_task_cancel(imgsync_ctx *ctx, uint64_t task_id);

typedef struct imgsync_task imgsync_task;  /* immutable snapshot of a task's status */

/* Snapshot the status of a task; safe from any thread. With a SQLite store, tasks of earlier
 * processes (and of other processes on the same file, as last recorded) are found too, as long
 * as the retention keeps them. `*out` is freed with imgsync_task_free. ENOTFOUND, ENOMEM, ESTORE. */
IMGSYNC_EXTERN int imgsync_task_get(imgsync_task **out, imgsync_ctx *ctx, uint64_t task_id);
/* Snapshot of the most recent task (highest id); ENOTFOUND when there is none. Any thread. */
IMGSYNC_EXTERN int imgsync_task_get_latest(imgsync_task **out, imgsync_ctx *ctx);
IMGSYNC_EXTERN void imgsync_task_free(imgsync_task *t);

IMGSYNC_EXTERN uint64_t imgsync_task_id(const imgsync_task *t);
IMGSYNC_EXTERN int imgsync_task_state_of(const imgsync_task *t);           /* imgsync_task_state */
/* "queued", "running", "succeeded", "partially succeeded", "failed", "canceled", "skipped";
 * "unknown" else. */
IMGSYNC_EXTERN const char *imgsync_task_state_name(int state);
IMGSYNC_EXTERN int imgsync_task_trigger(const imgsync_task *t);           /* imgsync_trigger */
/* Milliseconds since the epoch (UTC); 0 when not reached yet. */
IMGSYNC_EXTERN int64_t imgsync_task_created_ms(const imgsync_task *t);
IMGSYNC_EXTERN int64_t imgsync_task_started_ms(const imgsync_task *t);
IMGSYNC_EXTERN int64_t imgsync_task_finished_ms(const imgsync_task *t);
/* Why the task failed, was canceled or skipped, as a whole: "interrupted" (its process ended while
 * it ran; found when the store is next opened), "canceled", "skipped: the previous run of
 * schedule 3 (task 41) is still running", "task timeout reached" ...; "" otherwise. */
IMGSYNC_EXTERN const char *imgsync_task_reason(const imgsync_task *t);
/* The schedule that started the task (IMGSYNC_TRIGGER_SCHEDULED), 0 for a manual task. */
IMGSYNC_EXTERN uint64_t imgsync_task_schedule_id(const imgsync_task *t);
/* A counter (imgsync_counter); 0 for an unknown one. */
IMGSYNC_EXTERN uint64_t imgsync_task_counter(const imgsync_task *t, int counter);

/* One row per registry of the task, in start order. Strings are borrowed from the snapshot. */
IMGSYNC_EXTERN size_t imgsync_task_registry_count(const imgsync_task *t);
IMGSYNC_EXTERN const char *imgsync_task_registry_name(const imgsync_task *t, size_t i);
IMGSYNC_EXTERN const char *imgsync_task_registry_type(const imgsync_task *t, size_t i); /* "Oci" */
IMGSYNC_EXTERN int imgsync_task_registry_state(const imgsync_task *t, size_t i); /* imgsync_registry_state */
/* Failure reason of the registry row ("" unless it failed or partly failed). */
IMGSYNC_EXTERN const char *imgsync_task_registry_reason(const imgsync_task *t, size_t i);
/* Error code of the registry row (0 when it finished cleanly). */
IMGSYNC_EXTERN int imgsync_task_registry_error(const imgsync_task *t, size_t i);

/* The first errors of the task (at most 32 are kept; the counters and registry rows still count
 * every failure), oldest first. */
IMGSYNC_EXTERN size_t imgsync_task_error_count(const imgsync_task *t);
IMGSYNC_EXTERN const char *imgsync_task_error_registry(const imgsync_task *t, size_t i);
IMGSYNC_EXTERN const char *imgsync_task_error_repository(const imgsync_task *t, size_t i); /* "" if none */
IMGSYNC_EXTERN int imgsync_task_error_code(const imgsync_task *t, size_t i);
IMGSYNC_EXTERN const char *imgsync_task_error_message(const imgsync_task *t, size_t i);

/*
 * The task list (HSS's "Manage Task" view): the retained tasks, newest first (highest id
 * first), as snapshots. `state` (imgsync_task_state) and `trigger` (imgsync_trigger) filter, -1
 * = any; `limit` caps the number of tasks, 0 = every retained task. The store keeps the last
 * `task_retention` tasks (context option, default 100) with their registry rows, errors and
 * change feed; older ones are removed when a task ends (a queued or running task never is).
 * Safe from any thread. Errors: EINVAL, ENOMEM, ESTORE.
 */
typedef struct imgsync_task_list imgsync_task_list;
IMGSYNC_EXTERN int imgsync_task_list_new(imgsync_task_list **out, imgsync_ctx *ctx, int state, int trigger,
                                         size_t limit);
IMGSYNC_EXTERN size_t imgsync_task_list_count(const imgsync_task_list *l);
/* The i-th task (borrowed from the list, NULL past the end). */
IMGSYNC_EXTERN const imgsync_task *imgsync_task_list_at(const imgsync_task_list *l, size_t i);
IMGSYNC_EXTERN void imgsync_task_list_free(imgsync_task_list *l);

#ifdef __cplusplus
}
#endif
#endif /* IMGSYNC_TASK_H */
