/* libimgsync: scheduled syncs (HSS syncs every day at 01:00 by default). */
#ifndef IMGSYNC_SCHEDULE_H
#define IMGSYNC_SCHEDULE_H

#include <stddef.h>
#include <stdint.h>

#include "ctx.h"
#include "export.h"
#include "request.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum imgsync_schedule_kind {
    IMGSYNC_SCHEDULE_DAILY = 1, /* every day at hour:minute, local time of the process (TZ) */
    IMGSYNC_SCHEDULE_EVERY = 2  /* every N minutes from when it was added */
} imgsync_schedule_kind;

/*
 * Add a schedule that starts a sync of `req` (copied) with trigger IMGSYNC_TRIGGER_SCHEDULED.
 * Schedules fire while the context is driven (imgsync_ctx_perform or the worker) and, with a
 * SQLite store, are kept in the database: a later context (another process) on the file runs them.
 * Providers are named in `req` and looked up when the schedule fires (a missing one fails that
 * task with ENOTFOUND).
 *
 * Daily: the HSS default is imgsync_schedule_daily(ctx, req, 1, 0, &id) - 01:00. A time that a
 * daylight-saving change skips (02:30 on a spring-forward night) runs when the gap ends (03:00);
 * a repeated hour runs once. Every: `minutes` 1..44640 (31 days) after the schedule was added,
 * then after each due time.
 *
 * A due time that passed while no context drove the schedule (the process was down) runs once as
 * soon as the context is driven again, when the context option "schedule_catch_up" is "1" (the
 * default); with "0" it is not run and the next due time is the following one. A schedule that
 * comes due while its previous task is still queued or running gives a task in state
 * IMGSYNC_TASK_SKIPPED (recorded, with the reason) instead of a second run.
 * When several processes drive one database, each due time starts one task in one of them.
 * Safe from any thread. Errors: EINVAL (bad time or interval), ENOMEM, ESTORE.
 */
IMGSYNC_EXTERN int imgsync_schedule_daily(imgsync_ctx *ctx, const imgsync_request *req, int hour, int minute,
                                          uint64_t *schedule_id);
IMGSYNC_EXTERN int imgsync_schedule_every(imgsync_ctx *ctx, const imgsync_request *req, unsigned int minutes,
                                          uint64_t *schedule_id);
/* Remove a schedule (a task it started goes on). ENOTFOUND, ESTORE. Any thread. */
IMGSYNC_EXTERN int imgsync_schedule_remove(imgsync_ctx *ctx, uint64_t schedule_id);

/* A snapshot of the schedules, in id order. Any thread. ENOMEM, ESTORE. */
typedef struct imgsync_schedule_list imgsync_schedule_list;
IMGSYNC_EXTERN int imgsync_schedule_list_new(imgsync_schedule_list **out, imgsync_ctx *ctx);
IMGSYNC_EXTERN size_t imgsync_schedule_list_count(const imgsync_schedule_list *l);
/* Fields of the i-th schedule (0 / "" past the end). */
IMGSYNC_EXTERN uint64_t imgsync_schedule_id(const imgsync_schedule_list *l, size_t i);
IMGSYNC_EXTERN int imgsync_schedule_kind_of(const imgsync_schedule_list *l, size_t i); /* imgsync_schedule_kind */
IMGSYNC_EXTERN int imgsync_schedule_hour(const imgsync_schedule_list *l, size_t i);   /* daily */
IMGSYNC_EXTERN int imgsync_schedule_minute(const imgsync_schedule_list *l, size_t i); /* daily */
IMGSYNC_EXTERN unsigned int imgsync_schedule_every_minutes(const imgsync_schedule_list *l, size_t i);
/* Next due time, ms since the epoch (UTC). */
IMGSYNC_EXTERN int64_t imgsync_schedule_next_ms(const imgsync_schedule_list *l, size_t i);
/* The last task the schedule started, 0 before its first run (a skipped run does not change it:
 * it names the run that was still going). */
IMGSYNC_EXTERN uint64_t imgsync_schedule_last_task(const imgsync_schedule_list *l, size_t i);
/* The schedule's request as JSON, e.g. {"types":["Harbor"],"providers":["prod"],
 * "filters":[{"field":"tag","mode":"exclude","pattern":"*-rc*"}]} (borrowed). */
IMGSYNC_EXTERN const char *imgsync_schedule_request_json(const imgsync_schedule_list *l, size_t i);
IMGSYNC_EXTERN void imgsync_schedule_list_free(imgsync_schedule_list *l);

#ifdef __cplusplus
}
#endif
#endif /* IMGSYNC_SCHEDULE_H */
