/* The task history kept in the store (internal): see history.c. */
#ifndef IMGSYNC_CORE_HISTORY_H
#define IMGSYNC_CORE_HISTORY_H

#include <stddef.h>
#include <stdint.h>

#include "core/task.h"

/* "pid:start-time" of this process, as task records name their owner. */
void imgsync__history_owner(char *out, size_t len);
/* Is the process an owner string ("pid:start-time") names still running? */
int imgsync__history_owner_alive(const char *owner);
/* Record a new task; sets t->id from the store. 0, ESTORE, ENOMEM. */
int imgsync__history_insert(imgsync_ctx *ctx, imgsync__task *t);
/* Write the task's record when it changed: at once with `force`, else at most once a second. */
void imgsync__history_persist(imgsync_ctx *ctx, imgsync__task *t, int force);
/* Keep the context's retention of ended tasks. */
void imgsync__history_prune(imgsync_ctx *ctx);
/* Record a scheduled task that never ran (skipped, or failed before it could start: then `code`,
 * non-zero, and `registry` (NULL: none) make its one error). */
int imgsync__history_add_ended(imgsync_ctx *ctx, int state, uint64_t schedule_id, int code, const char *registry,
                               const char *reason, uint64_t *id);
/* Record queued or running tasks whose process is gone as failed, reason "interrupted". */
int imgsync__history_recover(imgsync_ctx *ctx);

#endif
