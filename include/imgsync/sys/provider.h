/*
 * libimgsync provider SPI: the versioned vtable that built-in and third-party providers implement.
 *
 * Providers are sans-I/O. They never open a socket: they turn a sync into HTTP jobs submitted to
 * the engine and turn responses into image records and further jobs. The engine does all I/O,
 * limits, retries, Basic auth and Bearer-token challenges; the core applies the request's filters
 * and commits the inventory per repository scope.
 *
 * Scopes: every job belongs to the registry scope or to one repository scope
 * (imgsync_job_set_repository). A repository scope is committed when the provider has called
 * imgsync_run_repository_listed() for it and none of its jobs are pending; its rows then replace
 * the previous rows of that repository (only rows selected by the request). A failed scope keeps
 * its previous rows. imgsync_run_catalog_complete() says the list of repositories is complete, so
 * that repositories which disappeared are removed from the inventory.
 *
 * Thread rules: every function here is called by the engine's thread, from inside a callback,
 * and may only be used there with the handles that callback received.
 */
#ifndef IMGSYNC_SYS_PROVIDER_H
#define IMGSYNC_SYS_PROVIDER_H

#include "../../imgsync.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Version of the vtable layout this header describes. Members are only ever appended. */
#define IMGSYNC_PROVIDER_VTABLE_VERSION 1

typedef struct imgsync_run imgsync_run;           /* one provider's part of one task */
typedef struct imgsync_job imgsync_job;           /* one HTTP request */
typedef struct imgsync_response imgsync_response; /* the final response to a job */
typedef struct imgsync_record imgsync_record;     /* an image row under construction */

typedef enum imgsync_run_mode {
    IMGSYNC_RUN_SYNC = 0,  /* enumerate images */
    IMGSYNC_RUN_CHECK = 1  /* only test connection and authorization, emit nothing */
} imgsync_run_mode;

typedef struct imgsync_provider_vtable {
    unsigned int version; /* IMGSYNC_PROVIDER_VTABLE_VERSION the provider was built with */
    const char *kind;     /* "oci", "harbor": [a-z0-9_-], unique per process */
    int type;             /* imgsync_type: gives registry_type and image_type of its images */
    /*
     * Validate one kind-specific option. Return 0 to accept, IMGSYNC_ENOTFOUND for a key the kind
     * does not know, IMGSYNC_EINVAL with a message in err (no secrets) for a bad value.
     * May be NULL when the kind has no options of its own.
     */
    int (*check_option)(const char *key, const char *value, char *err, size_t errlen);
    /*
     * Begin a run: allocate run state (imgsync_run_set_data) and submit the first jobs, usually an
     * authorization check. Return 0, or an error code after imgsync_run_fail().
     */
    int (*start)(imgsync_run *run);
    /*
     * One job finished: `resp` carries its final HTTP status, headers and body (after the engine's
     * retries and auth challenges), or a transport error (imgsync_response_error() != 0, status 0).
     * Parse it, emit records, submit follow-up jobs, mark scopes listed or failed.
     * A non-zero return fails the job's scope with that code (give detail with a fail call first).
     */
    int (*on_response)(imgsync_run *run, imgsync_job *job, const imgsync_response *resp);
    /* Optional: add credentials or a signature just before a job is sent (may be NULL). */
    int (*prepare)(imgsync_run *run, imgsync_job *job);
} imgsync_provider_vtable;

/*
 * Register a provider kind for every context of the process. The vtable must stay valid until the
 * process ends (it is not copied). Built-in kinds are registered the same way.
 * Errors: EVERSION (version 0 or newer than IMGSYNC_PROVIDER_VTABLE_VERSION), EINVAL (missing
 * members or bad kind), EEXISTS (kind taken), ENOMEM. Thread-safe.
 */
IMGSYNC_EXTERN int imgsync_provider_register(const imgsync_provider_vtable *vt);

/* ---- run ---------------------------------------------------------------------------------- */
IMGSYNC_EXTERN int imgsync_run_mode_of(const imgsync_run *run);
/* Option value of the provider (copied at run start), or NULL when unset. */
IMGSYNC_EXTERN const char *imgsync_run_option(const imgsync_run *run, const char *key);
/* Endpoint without trailing '/', e.g. "https://reg.example.com:5000" (never NULL in a run). */
IMGSYNC_EXTERN const char *imgsync_run_endpoint(const imgsync_run *run);
/* Provider's private per-run data, freed with free_fn when the run ends. */
IMGSYNC_EXTERN void imgsync_run_set_data(imgsync_run *run, void *data, void (*free_fn)(void *));
IMGSYNC_EXTERN void *imgsync_run_data(const imgsync_run *run);

/* Request hints. Repositories named explicitly for this provider (fetch them directly): */
IMGSYNC_EXTERN size_t imgsync_run_repository_count(const imgsync_run *run);
IMGSYNC_EXTERN const char *imgsync_run_repository(const imgsync_run *run, size_t i);
/* 1 when the request's namespace/repository filters can select `repository`, else 0. */
IMGSYNC_EXTERN int imgsync_run_wants_repository(const imgsync_run *run, const char *repository);
/* 1 when the namespace filters can select namespace `ns`, else 0. */
IMGSYNC_EXTERN int imgsync_run_wants_namespace(const imgsync_run *run, const char *ns);
/* 1 when the tag filters select `tag`, else 0. */
IMGSYNC_EXTERN int imgsync_run_wants_tag(const imgsync_run *run, const char *tag);

/* Literal namespace names the request is limited to (every namespace include filter is a plain
 * name): a provider may list just these (e.g. Harbor projects by name). 0 when unrestricted. */
IMGSYNC_EXTERN size_t imgsync_run_namespace_hint_count(const imgsync_run *run);
IMGSYNC_EXTERN const char *imgsync_run_namespace_hint(const imgsync_run *run, size_t i);
/* 1 when the request asked for non-image artifacts too (imgsync_request_set_include_non_images). */
IMGSYNC_EXTERN int imgsync_run_include_non_images(const imgsync_run *run);

/* Declare a repository scope (idempotent; counted in repositories_total). EINVAL, ENOMEM. */
IMGSYNC_EXTERN int imgsync_run_repository_begin(imgsync_run *run, const char *repository);
/* Every tag of the repository has been listed: commit once its pending jobs are done. */
IMGSYNC_EXTERN int imgsync_run_repository_listed(imgsync_run *run, const char *repository);
/* Fail a repository scope: its previous rows are kept; the error is recorded (no secrets). */
IMGSYNC_EXTERN int imgsync_run_repository_fail(imgsync_run *run, const char *repository, int code,
                                               const char *message);
/* A namespace (project, organization) could not be listed: its repositories keep their previous
 * rows (they are not removed by catalog_complete) and the error is recorded against it. */
IMGSYNC_EXTERN int imgsync_run_namespace_fail(imgsync_run *run, const char *ns, int code, const char *message);
/* The catalog (all repositories this run could see) is complete. */
IMGSYNC_EXTERN int imgsync_run_catalog_complete(imgsync_run *run);
/* Fail the whole run (e.g. not authorized): pending jobs are dropped, uncommitted scopes kept. */
IMGSYNC_EXTERN int imgsync_run_fail(imgsync_run *run, int code, const char *message);
/* Standard failure from an unexpected HTTP response: 401/403 give EAUTH, a transport error its
 * own code, other statuses EHTTP; the registry's error text is quoted when it is short. Fails the
 * job's repository scope, or the run when the job has none. Returns the code used. */
IMGSYNC_EXTERN int imgsync_run_fail_response(imgsync_run *run, const imgsync_job *job,
                                             const imgsync_response *resp);

/* ---- records --------------------------------------------------------------------------------- */
/* New image row for repository:tag (tag "" for an untagged artifact: such rows are told apart
 * by digest); NULL on ENOMEM. Namespace defaults to the first path
 * segment of the repository, host to the endpoint's host[:port]. */
IMGSYNC_EXTERN imgsync_record *imgsync_record_new(imgsync_run *run, const char *repository,
                                                  const char *tag);
IMGSYNC_EXTERN int imgsync_record_set_namespace(imgsync_record *r, const char *ns);
IMGSYNC_EXTERN int imgsync_record_set_host(imgsync_record *r, const char *host);
IMGSYNC_EXTERN int imgsync_record_set_digest(imgsync_record *r, const char *digest);
IMGSYNC_EXTERN int imgsync_record_set_media_type(imgsync_record *r, const char *media_type);
IMGSYNC_EXTERN int imgsync_record_set_artifact_type(imgsync_record *r, const char *artifact_type);
IMGSYNC_EXTERN void imgsync_record_set_size(imgsync_record *r, int64_t size);
IMGSYNC_EXTERN void imgsync_record_set_update_ms(imgsync_record *r, int64_t ms);
IMGSYNC_EXTERN void imgsync_record_set_multi_arch(imgsync_record *r, int multi_arch);
/* Hand the row to the core (which applies the tag filters); always consumes r. EINVAL, ENOMEM. */
IMGSYNC_EXTERN int imgsync_record_emit(imgsync_run *run, imgsync_record *r);
IMGSYNC_EXTERN void imgsync_record_free(imgsync_record *r);

/* ---- jobs ------------------------------------------------------------------------------------ */
/* New GET/HEAD job for an absolute URL or a path ("/v2/_catalog", joined to the endpoint).
 * NULL on ENOMEM or a bad URL (a fail call explains). */
IMGSYNC_EXTERN imgsync_job *imgsync_job_new(imgsync_run *run, const char *method, const char *url);
/* Add a request header line "Name: value". EINVAL, ENOMEM. */
IMGSYNC_EXTERN int imgsync_job_add_header(imgsync_job *job, const char *line);
/* Attribute the job to a repository scope (copied). */
IMGSYNC_EXTERN int imgsync_job_set_repository(imgsync_job *job, const char *repository);
/* Provider-defined kind and data, given back in on_response; data freed with free_fn. */
IMGSYNC_EXTERN void imgsync_job_set_kind(imgsync_job *job, int kind);
IMGSYNC_EXTERN void imgsync_job_set_data(imgsync_job *job, void *data, void (*free_fn)(void *));
/* Send no credentials with this job (e.g. a URL on another service). */
IMGSYNC_EXTERN void imgsync_job_set_anonymous(imgsync_job *job, int anonymous);
/* Queue the job; always consumes it. EINVAL (cross-host URL for a credentialed job), ENOMEM. */
IMGSYNC_EXTERN int imgsync_job_submit(imgsync_job *job);
IMGSYNC_EXTERN void imgsync_job_free(imgsync_job *job);

IMGSYNC_EXTERN int imgsync_job_kind(const imgsync_job *job);
IMGSYNC_EXTERN void *imgsync_job_data(const imgsync_job *job);
/* The URL the provider asked for (unchanged by redirects). */
IMGSYNC_EXTERN const char *imgsync_job_url(const imgsync_job *job);
/* The URL this attempt is sent to: differs from imgsync_job_url after a redirect (a prepare hook
 * that signs requests signs this one). */
IMGSYNC_EXTERN const char *imgsync_job_target_url(const imgsync_job *job);
IMGSYNC_EXTERN const char *imgsync_job_method(const imgsync_job *job);
IMGSYNC_EXTERN const char *imgsync_job_repository(const imgsync_job *job); /* NULL if none */

/* ---- responses ------------------------------------------------------------------------------- */
/* HTTP status, 0 when the transport failed. */
IMGSYNC_EXTERN int imgsync_response_status(const imgsync_response *resp);
/* Transport error after retries (ENETWORK, ETIMEOUT, ETOOBIG, ECANCELED), 0 otherwise. */
IMGSYNC_EXTERN int imgsync_response_error(const imgsync_response *resp);
/* Last value of a header (case-insensitive name), or NULL. */
IMGSYNC_EXTERN const char *imgsync_response_header(const imgsync_response *resp, const char *name);
/* Body, NUL-terminated (len excludes the NUL); "" for none. */
IMGSYNC_EXTERN const char *imgsync_response_body(const imgsync_response *resp, size_t *len);
/* Effective URL of the response (after redirects). */
IMGSYNC_EXTERN const char *imgsync_response_url(const imgsync_response *resp);
/*
 * The rel="next" target of the Link header resolved against the response URL, in *url (borrowed
 * from resp), or NULL when there is none. EPROTOCOL when the link is malformed or leaves the
 * host of the request.
 */
IMGSYNC_EXTERN int imgsync_response_next_url(const imgsync_response *resp, const char **url);

#ifdef __cplusplus
}
#endif
#endif /* IMGSYNC_SYS_PROVIDER_H */
