/* libimgsync: events - task and registry state changes and progress, pushed to the embedder. */
#ifndef IMGSYNC_EVENT_H
#define IMGSYNC_EVENT_H

#include <stdint.h>

#include "ctx.h"
#include "export.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum imgsync_event_type {
    IMGSYNC_EVENT_TASK_STATE = 1,     /* a task was queued, started, ended or skipped */
    IMGSYNC_EVENT_REGISTRY_STATE = 2, /* a registry row of a running task finished or failed */
    IMGSYNC_EVENT_PROGRESS = 3        /* a running task's counters moved */
} imgsync_event_type;

typedef struct imgsync_event imgsync_event; /* borrowed for the duration of the callback */

IMGSYNC_EXTERN int imgsync_event_type_of(const imgsync_event *ev);  /* imgsync_event_type */
IMGSYNC_EXTERN uint64_t imgsync_event_task_id(const imgsync_event *ev);
IMGSYNC_EXTERN int imgsync_event_task_state(const imgsync_event *ev); /* imgsync_task_state, now */
/* REGISTRY_STATE: the registry (provider name) and its row's imgsync_registry_state; "" / -1
 * for the other events. */
IMGSYNC_EXTERN const char *imgsync_event_registry(const imgsync_event *ev);
IMGSYNC_EXTERN int imgsync_event_registry_state(const imgsync_event *ev);
/* The task's counters (imgsync_counter) when the event was made, e.g. repositories done/total
 * and images found for PROGRESS. */
IMGSYNC_EXTERN uint64_t imgsync_event_counter(const imgsync_event *ev, int counter);

typedef void (*imgsync_event_fn)(const imgsync_event *ev, void *payload);

/*
 * Call fn(ev, payload) on every event of ctx's tasks (NULL fn: no more calls). Events are made
 * on the thread driving the context (inside imgsync_ctx_perform, or on the worker thread of
 * imgsync_ctx_start), between network steps, in order; PROGRESS events are coalesced (at most
 * one per task per perform step). Inside the callback, any call on ctx is allowed except
 * imgsync_ctx_perform, imgsync_task_wait, imgsync_ctx_stop and imgsync_ctx_free (EBUSY, or
 * undefined for free): e.g. imgsync_task_get, imgsync_iter_new, imgsync_changes_new,
 * imgsync_sync_start and imgsync_task_cancel work there. Keep it short: the sync waits for it.
 * Set it from the driving thread, or before imgsync_ctx_start. 0, EINVAL.
 */
IMGSYNC_EXTERN int imgsync_ctx_set_event_callback(imgsync_ctx *ctx, imgsync_event_fn fn, void *payload);

#ifdef __cplusplus
}
#endif
#endif /* IMGSYNC_EVENT_H */
