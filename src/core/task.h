/* Tasks: one sync (or check) of some providers, with the status other threads read (internal). */
#ifndef IMGSYNC_CORE_TASK_H
#define IMGSYNC_CORE_TASK_H

#include <stddef.h>
#include <stdint.h>

#include "core/env.h"
#include "core/provider.h"
#include "core/request.h"

#define IMGSYNC__COUNTERS 9
#define IMGSYNC__MAX_ERRORS 32

typedef struct imgsync__task_error {
    char *registry;
    char *repository;
    int code;
    char *message;
} imgsync__task_error;

typedef struct imgsync__task {
    const imgsync__env *env;
    uint64_t id;
    int state;
    int trigger;
    uint64_t schedule_id;  /* 0: manual */
    char *reason;          /* task-level reason ("canceled", "task timeout reached"), NULL = none */
    int64_t persisted_mono; /* when the record was last written to the store */
    int persist_failed;     /* the store refused the last record: tried again later, not at once */
    int dirty;              /* the record changed since (state, counters, rows) */
    int rec_state;          /* the state the store has (a change is written at once) */
    int begun;              /* its runs were started */
    /* what the event callback was last told (events.c) */
    int ev_state;
    uint64_t ev_counters[IMGSYNC__COUNTERS];
    int *ev_rows;
    int mode; /* imgsync_run_mode */
    int64_t created_ms, started_ms, finished_ms;
    int64_t deadline_mono; /* 0 = none */
    uint64_t counters[IMGSYNC__COUNTERS];
    imgsync_request *req;
    imgsync_run **runs;
    size_t nruns;
    size_t runs_left; /* runs not ended yet */
    imgsync__task_error errors[IMGSYNC__MAX_ERRORS];
    size_t nerrors;
    int committed_any;
} imgsync__task;

/* A task for `req` with one run per provider of providers[0..n) (the caller selected them);
 * each run copies what it needs of its provider. */
int imgsync__task_new(imgsync__task **out, const imgsync__env *env, const imgsync_request *req, int mode,
                      imgsync_provider *const *providers, size_t n);
void imgsync__task_free(imgsync__task *t);
/* Advance a task: start it when queued and `may_start`, enforce its deadline, finish it when its
 * runs ended. Returns 1 while it is still active. */
int imgsync__task_step(imgsync__task *t, int may_start);
void imgsync__task_cancel(imgsync__task *t, int code, const char *why);
int imgsync__task_active(const imgsync__task *t);
/* 1 when a run of the task that has not ended works for the provider with this name. */
int imgsync__task_uses(const imgsync__task *t, const char *provider);
/* 1 when the task's deadline has passed. */
int imgsync__task_expired(const imgsync__task *t);
/* Counters and errors, under the status lock. */
void imgsync__task_count(imgsync__task *t, int counter, uint64_t n);
void imgsync__task_add_error(imgsync__task *t, const char *registry, const char *repository, int code,
                             const char *message);
/* The task as a store record (under the status lock): strings copied. 0 or ENOMEM. */
int imgsync__task_record(imgsync__task_rec *r, const imgsync__task *t);
/* Can the task start now: no other task of `tasks[0..n)` that is running works for one of its
 * providers (one running task per registry; queued tasks start in the order of tasks[]). */
int imgsync__task_may_start(const imgsync__task *t, imgsync__task *const *tasks, size_t n);
/* A run ended (called by the run). */
void imgsync__task_run_ended(imgsync__task *t);

#endif
