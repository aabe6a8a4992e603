/* Tasks and runs (a provider's part of a task) (internal). */
#ifndef IMGSYNC_CORE_TASK_H
#define IMGSYNC_CORE_TASK_H

#include <stdint.h>

#include "core/ctx.h"
#include "core/image.h"
#include "core/request.h"
#include "util/map.h"

#define IMGSYNC__COUNTERS 9
#define IMGSYNC__MAX_ERRORS 32

typedef struct imgsync__task_error {
    char *registry;
    char *repository;
    int code;
    char *message;
} imgsync__task_error;

typedef struct imgsync__task {
    imgsync_ctx *ctx;
    uint64_t id;
    int state;
    int trigger;
    int64_t created_ms, started_ms, finished_ms;
    int64_t deadline_mono; /* 0 = none */
    uint64_t counters[IMGSYNC__COUNTERS];
    imgsync_request *req;
    imgsync_run **runs;
    size_t nruns;
    imgsync__task_error errors[IMGSYNC__MAX_ERRORS];
    size_t nerrors;
    int committed_any;
} imgsync__task;

/* One repository scope of a run. */
typedef struct imgsync__scope {
    char *repository;
    int listed, failed, committed;
    size_t pending;
    imgsync__map records; /* tag ("@digest" when untagged) -> struct imgsync_image */
} imgsync__scope;

struct imgsync_run {
    imgsync_ctx *ctx;
    imgsync__task *task;
    imgsync_provider *provider;
    const imgsync_provider_vtable *vt;
    char *name;
    int mode;
    imgsync__option *opts; /* copy taken at run start */
    size_t nopts;
    char *endpoint;        /* normalised, no trailing '/' */
    char *host;            /* host[:port] */
    void *data;
    void (*data_free)(void *);
    imgsync__map scopes;   /* repository -> imgsync__scope */
    imgsync__map failed_ns; /* namespaces that could not be listed -> (void *)1 */
    const char **ns_hints; /* literal namespace include filters */
    size_t nns_hints;
    size_t pending;        /* jobs submitted and not finished */
    int started, ended, failed, catalog_complete, in_callback;
    int row_state;         /* imgsync_registry_state */
    int error;             /* first error code */
    char *reason;          /* row reason */
    uint64_t scopes_failed;
};

/* Create a task for `req` with one run per selected provider. */
int imgsync__task_new(imgsync__task **out, imgsync_ctx *ctx, const imgsync_request *req, int mode,
                      imgsync_provider *only);
void imgsync__task_free(imgsync__task *t);
/* Advance a task: start it when queued, enforce its deadline, finish it when its runs ended.
 * Returns 1 while it is still active. */
int imgsync__task_step(imgsync__task *t);
void imgsync__task_cancel(imgsync__task *t, int code, const char *why);
int imgsync__task_active(const imgsync__task *t);

/* Called by the engine with a finished job (the run takes the job and frees it). */
void imgsync__run_job_finished(imgsync_run *run, imgsync_job *job);
/* Credentials and transport settings of a run (option values). */
const char *imgsync__run_username(const imgsync_run *run);
const char *imgsync__run_password(const imgsync_run *run);
const char *imgsync__run_ca_file(const imgsync_run *run);
int imgsync__run_insecure(const imgsync_run *run);
int imgsync__run_allow_http(const imgsync_run *run);
/* Call the provider's prepare hook. */
int imgsync__run_prepare(imgsync_run *run, imgsync_job *job);
void imgsync__run_count(imgsync_run *run, int counter);
/* Is this URL acceptable for this run (http only for loopback or allow_http)? 0 or EINSECURE. */
int imgsync__run_url_allowed(const imgsync_run *run, const char *url);

#endif
