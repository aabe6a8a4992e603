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
/* Advance a task: start it when queued, enforce its deadline, finish it when its runs ended.
 * Returns 1 while it is still active. */
int imgsync__task_step(imgsync__task *t);
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
/* An immutable public snapshot (under the status lock). */
int imgsync__task_snapshot(imgsync_task **out, const imgsync__task *t);
/* A run ended (called by the run). */
void imgsync__task_run_ended(imgsync__task *t);

#endif
