/* Runs (one provider's part of a task), their scopes, jobs and deferred calls (internal). The
 * SPI of imgsync/sys/provider.h is implemented over these by run.c, scope.c, record.c, job.c,
 * dispatch.c, response.c and attempt.c. */
#ifndef IMGSYNC_CORE_RUN_H
#define IMGSYNC_CORE_RUN_H

#include <stddef.h>
#include <stdint.h>

#include "core/env.h"
#include "core/options.h"
#include "core/task.h"
#include "engine/engine.h"
#include "imgsync/sys/provider.h"
#include "inventory/image.h"
#include "util/map.h"

/* One scope: a repository of a partition. */
typedef struct imgsync__scope {
    char *partition;
    char *repository;
    int listed, failed, committed;
    int names_ok;          /* partition and repository are names the inventory can hold */
    size_t pending;        /* jobs and deferred calls not finished */
    imgsync__map records;  /* row key (tag, "@digest") -> struct imgsync_image */
} imgsync__scope;

/* A deferred provider call (imgsync_run_defer). */
typedef struct imgsync__deferral {
    struct imgsync__deferral *next;
    imgsync__scope *scope; /* NULL: the registry scope */
    int (*fn)(imgsync_run *run, void *data);
    void *data;
    void (*free_fn)(void *);
} imgsync__deferral;

struct imgsync_run {
    imgsync__task *task;
    const imgsync__env *env;
    const imgsync_provider_vtable *vt;
    char *name;
    int mode;
    imgsync__options opts; /* copy taken when the task was created; wiped when the run ends */
    char *endpoint;        /* normalised, no trailing '/'; NULL until known */
    char *host;            /* host[:port] of the endpoint */
    imgsync__group *group; /* the engine's side of the run */
    void *data;
    void (*data_free)(void *);
    imgsync__map scopes;       /* scope key -> imgsync__scope */
    struct imgsync__scope *last_scope; /* the one imgsync__scope_get gave last (rows come in runs) */
    imgsync__map failed_parts; /* partitions that could not be listed */
    imgsync__map failed_ns;    /* scope keys (partition, namespace) that could not be listed */
    imgsync__map failed_items; /* scope keys of failed items whose names cannot be scopes */
    const char **ns_hints;
    size_t nns_hints;
    size_t pending;            /* jobs submitted and not finished */
    imgsync__deferral *deferred, *deferred_tail;
    int started, ended, failed, catalog_complete, in_callback;
    int row_state;             /* imgsync_registry_state */
    int error;                 /* first error code */
    char *reason;              /* row reason */
    char *notes;               /* deliberate skips, shown in the row */
    uint64_t nameless_failed;  /* items failed with no name (not in failed_items) */
    const char *refused;       /* why the engine refused the last job (static text), or NULL */
    uint64_t scopes_failed, ns_failed, parts_failed;
    char *cred_source;         /* where the credentials came from (authfile.c), NULL before the start */
    char **secrets;            /* values to redact from every text */
    size_t nsecrets;
};

struct imgsync_job {
    imgsync_run *run;
    char *method, *url;
    char **headers;
    size_t nheaders;
    void *body;
    size_t body_len;
    char *content_type;
    int auth, idempotent;
    imgsync__scope *scope;      /* set at submit from partition/repository */
    char *partition, *repository;
    int kind;
    void *data;
    void (*data_free)(void *);
    imgsync__wire *attempt;     /* during prepare/sign: the attempt being built */
};

/* ---- run.c ---- */
int imgsync__run_new(imgsync_run **out, imgsync__task *t, const imgsync_provider *p, int mode);
void imgsync__run_start(imgsync_run *run);
void imgsync__run_abort(imgsync_run *run, int code, const char *why);
void imgsync__run_free(imgsync_run *run);
/* End the run when nothing of it is pending (commits, prune, row, release). */
void imgsync__run_maybe_end(imgsync_run *run);
/* The deadline passed inside a callback: fail the run. Returns ETIMEOUT. */
int imgsync__run_deadline(imgsync_run *run);
int imgsync__run_allowed_url(const imgsync_run *run, const char *url);
/* The run's own copy of a secret it holds (imgsync_run_add_secret), or NULL. */
const char *imgsync__run_secret(const imgsync_run *run, const char *value);

/* ---- kept.c: secrets kept across runs ---- */
/* Wipe and free every kept secret (the context ends). */
void imgsync__kept_clear(imgsync__map *m);

/* ---- report.c: errors and the registry row, sanitized and with secrets redacted ---- */
/* A malloc'd copy of server text, sanitized and with the run's secrets and tokens redacted
 * (NULL on ENOMEM); redact before cutting a text short. */
char *imgsync__run_clean(const imgsync_run *run, const char *message);
void imgsync__run_error(imgsync_run *run, const char *scope_name, int code, const char *message);
/* A line for the context's log (imgsync_log_level), cleaned like the texts above; nothing is
 * formatted when the level is not wanted. */
void imgsync__run_log(const imgsync_run *run, int level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void imgsync__run_set_row(imgsync_run *run, int state, const char *reason);
void imgsync__run_note(imgsync_run *run, const char *note);
/* The row's reason once the run ended with failed scopes. */
void imgsync__run_summarize(imgsync_run *run);

/* ---- scope.c ---- */
imgsync__scope *imgsync__scope_get(imgsync_run *run, const char *partition, const char *repository, int create);
/* 1 when (partition, repository) is the scope imgsync__scope_get gave last. */
int imgsync__scope_is_last(const imgsync_run *run, const char *partition, const char *repository);
/* 1 when it is, and its names were found valid when it was made: a row of it needs no check. */
int imgsync__scope_names_known(const imgsync_run *run, const char *partition, const char *repository);
void imgsync__scope_fail(imgsync_run *run, imgsync__scope *s, int code, const char *message);
void imgsync__scope_maybe_commit(imgsync_run *run, imgsync__scope *s);
void imgsync__scopes_free(imgsync_run *run);
/* At the end of a run that did not fail: commit what is listed, fail what is not, prune. */
void imgsync__scopes_finish(imgsync_run *run);

/* ---- job.c ---- */
void imgsync__job_free(imgsync_job *job);

/* ---- dispatch.c: provider jobs to engine requests ---- */
int imgsync__dispatch_open(imgsync_run *run);
void imgsync__dispatch_close(imgsync_run *run);
int imgsync__dispatch_submit(imgsync_run *run, imgsync_job *job);
/* Run deferred calls while the run has room. */
void imgsync__dispatch_resume(imgsync_run *run);
void imgsync__deferrals_free(imgsync_run *run);

#endif
