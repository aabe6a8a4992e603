/*
 * libimgsync provider SPI: the versioned vtable that built-in and third-party providers implement.
 *
 * Providers are sans-I/O. They never open a socket: they turn a sync into HTTP jobs submitted to
 * the engine and turn responses into image records and further jobs. The engine does all I/O,
 * limits, retries, redirects and the credentials a job asks for; the core applies the request's
 * filters, validates rows and commits the inventory per scope.
 *
 * Scopes: a scope is one repository of one partition, keyed (partition, repository). The
 * partition is "" for registries without one; SWR EE instances, SWR shared-image owners and
 * JFrog repository keys are partitions, so the same repository path in two of them is two
 * scopes. Every job belongs to the registry scope or to one repository scope
 * (imgsync_job_set_scope). A scope is committed when the provider has called
 * imgsync_run_scope_listed() for it and none of its jobs or deferred calls are pending; its rows
 * then replace the previous rows of that scope (only rows selected by the request). A failed
 * scope keeps its previous rows. imgsync_run_catalog_complete() says the list of repositories is
 * complete, so that scopes which disappeared are removed from the inventory - except in
 * partitions and namespaces the provider reported as failed.
 *
 * Version 1 providers keep working: their jobs are sent with Basic credentials when the
 * "username" option is set and answer Bearer challenges (IMGSYNC_AUTH_REGISTRY) unless marked
 * anonymous, and the repository_* calls work on partition "".
 *
 * Thread rules: every function here is called by the thread driving the context, from inside a
 * callback, and may only be used there with the handles that callback received.
 */
#ifndef IMGSYNC_SYS_PROVIDER_H
#define IMGSYNC_SYS_PROVIDER_H

#include <stddef.h>
#include <stdint.h>

#include "../../imgsync.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Version of the vtable layout this header describes. Members are only ever appended. */
#define IMGSYNC_PROVIDER_VTABLE_VERSION 2

typedef struct imgsync_run imgsync_run;           /* one provider's part of one task */
typedef struct imgsync_job imgsync_job;           /* one HTTP request */
typedef struct imgsync_attempt imgsync_attempt;   /* one sending of a job (sign hook) */
typedef struct imgsync_response imgsync_response; /* the final response to a job */
typedef struct imgsync_record imgsync_record;     /* an image row under construction */

typedef enum imgsync_run_mode {
    IMGSYNC_RUN_SYNC = 0,  /* enumerate images */
    IMGSYNC_RUN_CHECK = 1  /* only test connection and authorization, emit nothing */
} imgsync_run_mode;

typedef struct imgsync_provider_vtable {
    /* ---- version 1 ---- */
    unsigned int version; /* IMGSYNC_PROVIDER_VTABLE_VERSION the provider was built with */
    const char *kind;     /* "oci", "harbor": [a-z0-9_-], 1..32 chars, unique per process */
    int type;             /* imgsync_type: default type of its rows and of its task rows */
    /*
     * Validate one kind-specific option. Return 0 to accept, IMGSYNC_ENOTFOUND for a key the kind
     * does not know, IMGSYNC_EINVAL with a message in err (no secrets) for a bad value.
     * May be NULL when the kind has no options of its own.
     */
    int (*check_option)(const char *key, const char *value, char *err, size_t errlen);
    /*
     * Begin a run: allocate run state (imgsync_run_set_data) and submit the first jobs, usually an
     * authorization check. Return 0, or an error code (after imgsync_run_fail() for detail).
     */
    int (*start)(imgsync_run *run);
    /*
     * One job finished: `resp` carries its final HTTP status, headers and body (after the engine's
     * retries, redirects and auth challenges), or a transport error (imgsync_response_error() != 0,
     * status 0). Parse it, emit records, submit follow-up jobs, mark scopes listed or failed.
     * A non-zero return fails the job's scope with that code (give detail with a fail call first).
     */
    int (*on_response)(imgsync_run *run, imgsync_job *job, const imgsync_response *resp);
    /* Optional (may be NULL): called before each attempt of a credentialed job that stays on its
     * origin; imgsync_job_add_header() inside it adds a header to that attempt only. Kept for
     * version 1 providers: version 2 providers sign in `sign`, which sees the whole request. */
    int (*prepare)(imgsync_run *run, imgsync_job *job);
    /* ---- version 2 ---- */
    /*
     * Optional: sign or add credentials to one attempt, just before it is sent. Called on every
     * attempt (retries, redirects on the same origin, replays after a token refresh) of every
     * job whose auth is not IMGSYNC_AUTH_NONE, never for an attempt redirected to another origin.
     * The attempt shows the method, the final URL and every header about to be sent (Host,
     * User-Agent, Accept, Content-Type, Content-Length ...) and the body. A non-zero return fails
     * the job with that code (it is delivered to on_response as a transport error).
     */
    int (*sign)(imgsync_run *run, const imgsync_job *job, imgsync_attempt *attempt);
    /* Every imgsync_type the kind's rows may carry, 0-terminated (e.g. {SWR_PRIVATE, SWR_SHARED,
     * 0}); NULL = only `type`. A request for a type selects providers whose list holds it. */
    const int *types;
    /* Option keys whose values are secrets, NULL-terminated, beyond the common "password",
     * "token", "sk", "security_token" (NULL = none). Secret values are redacted from every
     * error and status text, and wiped from memory when the task that copied them ends. */
    const char *const *secret_options;
} imgsync_provider_vtable;

/*
 * Register a provider kind for every context of the process. The vtable must stay valid until the
 * process ends (it is not copied). Built-in kinds are registered the same way.
 * Errors: EVERSION (version 0 or newer than IMGSYNC_PROVIDER_VTABLE_VERSION), EINVAL (missing
 * members or bad kind, type or types), EEXISTS (kind taken), ENOMEM. Thread-safe.
 */
IMGSYNC_EXTERN int imgsync_provider_register(const imgsync_provider_vtable *vt);

/* ---- run ---------------------------------------------------------------------------------- */
IMGSYNC_EXTERN int imgsync_run_mode_of(const imgsync_run *run);
/* Name of the provider (the registry's name in rows and status). */
IMGSYNC_EXTERN const char *imgsync_run_name(const imgsync_run *run);
/* Option value of the provider (copied at task start), or NULL when unset. */
IMGSYNC_EXTERN const char *imgsync_run_option(const imgsync_run *run, const char *key);
/* Endpoint without trailing '/', e.g. "https://reg.example.com:5000"; "" when the provider has
 * none yet (a version 2 kind may compute it, see imgsync_run_set_endpoint). */
IMGSYNC_EXTERN const char *imgsync_run_endpoint(const imgsync_run *run);
/* Set the endpoint (copied): the origin credentialed jobs go to by default, the base of relative
 * job URLs and the default host of rows. Version 2 kinds whose endpoint is derived (from a
 * region, say) call it in start(). EINVAL (not an absolute http(s) URL without query),
 * EINSECURE (plain http to a non-loopback host without allow_http), ENOMEM. */
IMGSYNC_EXTERN int imgsync_run_set_endpoint(imgsync_run *run, const char *url);
/* Let credentialed jobs of this run go to the origin of `url` too (an IAM service beside the API,
 * say). Same rules as the endpoint: https, or http to loopback or with allow_http. A redirect
 * never carries credentials to another origin, allowed or not. EINVAL, EINSECURE, ENOMEM. */
IMGSYNC_EXTERN int imgsync_run_allow_origin(imgsync_run *run, const char *url);
/* Wall-clock time of the context's clock, ms since the epoch (UTC): for signing dates and token
 * lifetimes, so that tests with a fake clock see the same time. */
IMGSYNC_EXTERN int64_t imgsync_run_now_ms(const imgsync_run *run);
/* A secret the provider obtained itself (an IAM token it sends as X-Auth-Token, say): taken out
 * of every error and status text of the run, like secret options, and wiped when the run ends.
 * Copied. EINVAL (NULL or ""), ENOMEM. */
IMGSYNC_EXTERN int imgsync_run_add_secret(imgsync_run *run, const char *value);
/* Keep a secret the provider obtained (an IAM token valid for hours, say) for later runs of the
 * same registry, until expires_ms (the context's clock, ms since the epoch). In memory only, in
 * the context, never in the store; found again only by runs of the same registry name with
 * exactly the same options, so a changed password or endpoint never reuses it. `key` names it
 * ([a-z0-9_.-], 1..64 chars). A NULL or "" value, or an expires_ms already past, forgets the
 * key. The value also becomes a run secret. 0, EINVAL (bad key), ENOMEM. */
IMGSYNC_EXTERN int imgsync_run_keep_secret(imgsync_run *run, const char *key, const char *value,
                                           int64_t expires_ms);
/* The secret an earlier run kept under `key` (see imgsync_run_keep_secret) while it has not
 * expired, with its expiry in *expires_ms (may be NULL); NULL when there is none. The string is
 * the run's (a run secret), valid until the run ends. */
IMGSYNC_EXTERN const char *imgsync_run_kept_secret(imgsync_run *run, const char *key, int64_t *expires_ms);
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
/* 1 when the request's type restrictions (if any) select rows of imgsync_type `type`. */
IMGSYNC_EXTERN int imgsync_run_wants_type(const imgsync_run *run, int type);
/* Literal namespace names the request is limited to (every namespace include filter is a plain
 * name): a provider may list just these (e.g. Harbor projects by name). 0 when unrestricted. */
IMGSYNC_EXTERN size_t imgsync_run_namespace_hint_count(const imgsync_run *run);
IMGSYNC_EXTERN const char *imgsync_run_namespace_hint(const imgsync_run *run, size_t i);
/* 1 when the request asked for non-image artifacts too (imgsync_request_set_include_non_images). */
IMGSYNC_EXTERN int imgsync_run_include_non_images(const imgsync_run *run);

typedef enum imgsync_list_limit {
    IMGSYNC_LIMIT_PAGES = 1, /* pages one listing may take ("max_list_pages") */
    IMGSYNC_LIMIT_ITEMS = 2  /* items one listing may hold ("max_list_items") */
} imgsync_list_limit;
/* The provider's limit for one listing (its option, or the default). 0 for an unknown limit. */
IMGSYNC_EXTERN uint64_t imgsync_run_list_limit(const imgsync_run *run, int limit);

/* Declare a scope (idempotent; counted in repositories_total). EINVAL (bad name), ENOMEM. */
IMGSYNC_EXTERN int imgsync_run_scope_begin(imgsync_run *run, const char *partition, const char *repository);
/* Every tag of the scope has been listed: commit once its pending jobs and deferred calls are
 * done. */
IMGSYNC_EXTERN int imgsync_run_scope_listed(imgsync_run *run, const char *partition, const char *repository);
/* Fail a scope: its previous rows are kept; the error is recorded (no secrets; server text in
 * `message` is sanitized). */
IMGSYNC_EXTERN int imgsync_run_scope_fail(imgsync_run *run, const char *partition, const char *repository,
                                          int code, const char *message);
/* A namespace (project, organization) of a partition could not be listed: its repositories keep
 * their previous rows (they are not removed by catalog_complete); the error is recorded. */
IMGSYNC_EXTERN int imgsync_run_scope_namespace_fail(imgsync_run *run, const char *partition, const char *ns,
                                                    int code, const char *message);
/* A whole partition could not be listed (an SWR EE instance that is not running, say): every
 * row of it is kept. A non-zero `code` records an error and makes the registry row partial;
 * code 0 only notes `message` in the registry row (a deliberate skip). */
IMGSYNC_EXTERN int imgsync_run_partition_fail(imgsync_run *run, const char *partition, int code,
                                              const char *message);
/* The same as the scope_* calls on partition "" (version 1). */
IMGSYNC_EXTERN int imgsync_run_repository_begin(imgsync_run *run, const char *repository);
IMGSYNC_EXTERN int imgsync_run_repository_listed(imgsync_run *run, const char *repository);
IMGSYNC_EXTERN int imgsync_run_repository_fail(imgsync_run *run, const char *repository, int code,
                                               const char *message);
IMGSYNC_EXTERN int imgsync_run_namespace_fail(imgsync_run *run, const char *ns, int code, const char *message);
/* The catalog (every partition and repository this run could see) is complete. */
IMGSYNC_EXTERN int imgsync_run_catalog_complete(imgsync_run *run);
/* Fail the whole run (e.g. not authorized): pending jobs are dropped, uncommitted scopes kept. */
IMGSYNC_EXTERN int imgsync_run_fail(imgsync_run *run, int code, const char *message);
/* Standard failure from an unexpected HTTP response: 401/403 give EAUTH, a transport error its
 * own code, other statuses EHTTP; the registry's error code and text are quoted (sanitized,
 * shortened). Fails the job's scope, or the run when the job has none. Returns the code used. */
IMGSYNC_EXTERN int imgsync_run_fail_response(imgsync_run *run, const imgsync_job *job,
                                             const imgsync_response *resp);

/*
 * Jobs in flight are bounded: a listing that would submit many jobs (one per tag of a huge
 * repository) submits while imgsync_run_has_room() says 1, then defers the rest with
 * imgsync_run_defer(). The core calls `fn(run, data)` once jobs of the run have finished; fn
 * submits more and returns 1 to be called again later (data kept), 0 when it is done, or a
 * negative error, which fails the scope (partition, repository) - or the run when repository is
 * NULL. data is freed with free_fn after the last call, or when the run ends first. The scope
 * is not committed while a deferred call is pending. EINVAL, ECANCELED (the run failed),
 * ENOMEM; data is freed on error too.
 */
IMGSYNC_EXTERN int imgsync_run_has_room(const imgsync_run *run);
IMGSYNC_EXTERN int imgsync_run_defer(imgsync_run *run, const char *partition, const char *repository,
                                     int (*fn)(imgsync_run *run, void *data), void *data,
                                     void (*free_fn)(void *));

/* ---- records --------------------------------------------------------------------------------- */
/* New image row for repository:tag (tag "" for an untagged artifact: such rows are told apart
 * by digest); NULL on ENOMEM. Type defaults to the kind's type, partition to "", namespace to the
 * first path segment of the repository, host to the endpoint's host[:port]. Names, tags and
 * digests are validated when the row is emitted. */
IMGSYNC_EXTERN imgsync_record *imgsync_record_new(imgsync_run *run, const char *repository,
                                                  const char *tag);
/* Row type (imgsync_type; must be one of the kind's types). EINVAL. */
IMGSYNC_EXTERN int imgsync_record_set_type(imgsync_record *r, int type);
/* String fields (copied; NULL or "" clears). 0 or ENOMEM. */
IMGSYNC_EXTERN int imgsync_record_set_partition(imgsync_record *r, const char *partition);
IMGSYNC_EXTERN int imgsync_record_set_namespace(imgsync_record *r, const char *ns);
IMGSYNC_EXTERN int imgsync_record_set_host(imgsync_record *r, const char *host);
IMGSYNC_EXTERN int imgsync_record_set_digest(imgsync_record *r, const char *digest);
IMGSYNC_EXTERN int imgsync_record_set_media_type(imgsync_record *r, const char *media_type);
IMGSYNC_EXTERN int imgsync_record_set_artifact_type(imgsync_record *r, const char *artifact_type);
IMGSYNC_EXTERN int imgsync_record_set_owner(imgsync_record *r, const char *owner);
IMGSYNC_EXTERN int imgsync_record_set_share_status(imgsync_record *r, const char *share_status);
IMGSYNC_EXTERN int imgsync_record_set_instance_id(imgsync_record *r, const char *instance_id);
IMGSYNC_EXTERN int imgsync_record_set_instance_name(imgsync_record *r, const char *instance_name);
IMGSYNC_EXTERN int imgsync_record_set_platforms(imgsync_record *r, const char *platforms);
/* Number fields: a size below 0 means unknown (-1); times below 0 give 0. */
IMGSYNC_EXTERN void imgsync_record_set_size(imgsync_record *r, int64_t size);
IMGSYNC_EXTERN void imgsync_record_set_update_ms(imgsync_record *r, int64_t ms);
IMGSYNC_EXTERN void imgsync_record_set_created_ms(imgsync_record *r, int64_t ms);
IMGSYNC_EXTERN void imgsync_record_set_multi_arch(imgsync_record *r, int multi_arch);
/* Hand the row to the core, which validates it (repository, namespace and partition names, tag,
 * digest; an invalid row fails its scope with EPROTOCOL and is never stored under another name)
 * and applies the request's filters; always consumes r. EINVAL, EPROTOCOL, ENOMEM, ETIMEOUT (the
 * task's deadline passed: stop and return). */
IMGSYNC_EXTERN int imgsync_record_emit(imgsync_run *run, imgsync_record *r);
IMGSYNC_EXTERN void imgsync_record_free(imgsync_record *r);

/* ---- jobs ------------------------------------------------------------------------------------ */
/* How a job is authenticated. */
typedef enum imgsync_auth {
    IMGSYNC_AUTH_NONE = 0,     /* no credentials (default for version 2 providers) */
    IMGSYNC_AUTH_BASIC = 1,    /* Basic from the "username"/"password" options */
    IMGSYNC_AUTH_REGISTRY = 2, /* the registry flow: Basic when a username is set, and Bearer
                                * challenges answered with a token from the realm (cached per
                                * run, realm, service and scope). The token request carries the
                                * Basic credentials to the realm the registry names, on any
                                * https origin (Docker Hub's token service is on another host);
                                * plain http realms only where the endpoint's rules allow http */
    IMGSYNC_AUTH_PROVIDER = 3, /* the provider carries its own credentials (a header such as
                                * X-Auth-Token, a signature from `sign`, a body): the engine adds
                                * none, but the job is credentialed */
    IMGSYNC_AUTH_BEARER = 4    /* (since ABI 1.0 additions, issue 10) the "token" option as
                                * "Authorization: Bearer"; a Bearer challenge is answered with a
                                * token from the realm, requested with that same access token and
                                * only from the endpoint's origin or one the run allowed */
} imgsync_auth;

/* New job for an absolute URL or a path ("/v2/_catalog", joined to the endpoint). Methods: GET,
 * HEAD, POST, PUT, DELETE. NULL on ENOMEM, a bad method or a bad URL. */
IMGSYNC_EXTERN imgsync_job *imgsync_job_new(imgsync_run *run, const char *method, const char *url);
/* Add a request header "Name: value" (no CR/LF). Inside prepare, adds to that attempt only.
 * EINVAL, ENOMEM. */
IMGSYNC_EXTERN int imgsync_job_add_header(imgsync_job *job, const char *line);
/* Body of a POST/PUT (copied) with its Content-Type. EINVAL (GET/HEAD, NULL content type),
 * ENOMEM. */
IMGSYNC_EXTERN int imgsync_job_set_body(imgsync_job *job, const char *content_type, const void *data, size_t len);
/* Credentials of the job (imgsync_auth). Credentialed jobs (anything but NONE) may only go to the
 * endpoint's origin and origins allowed with imgsync_run_allow_origin. EINVAL. */
IMGSYNC_EXTERN int imgsync_job_set_auth(imgsync_job *job, int auth);
/* Version 1 form: anonymous = 1 is IMGSYNC_AUTH_NONE, 0 the version 1 default (REGISTRY). */
IMGSYNC_EXTERN void imgsync_job_set_anonymous(imgsync_job *job, int anonymous);
/* GET, HEAD, PUT and DELETE are retried on transient failures; a POST only when it is marked
 * idempotent here (a search, a token request). */
IMGSYNC_EXTERN void imgsync_job_set_idempotent(imgsync_job *job, int idempotent);
/* Attribute the job to a scope (copied; partition NULL = ""). EINVAL, ENOMEM. */
IMGSYNC_EXTERN int imgsync_job_set_scope(imgsync_job *job, const char *partition, const char *repository);
/* Version 1 form: partition "". */
IMGSYNC_EXTERN int imgsync_job_set_repository(imgsync_job *job, const char *repository);
/* Provider-defined kind and data, given back in on_response; data freed with free_fn. */
IMGSYNC_EXTERN void imgsync_job_set_kind(imgsync_job *job, int kind);
IMGSYNC_EXTERN void imgsync_job_set_data(imgsync_job *job, void *data, void (*free_fn)(void *));
/* Queue the job; always consumes it. EINVAL (a credentialed job to an origin the run does not
 * allow, a committed scope), EINSECURE (plain http not allowed), ETOOBIG (far too many jobs
 * pending: see imgsync_run_has_room), ETIMEOUT (the task's deadline passed), ECANCELED (the run
 * failed or ended), ENOMEM. */
IMGSYNC_EXTERN int imgsync_job_submit(imgsync_job *job);
IMGSYNC_EXTERN void imgsync_job_free(imgsync_job *job);

IMGSYNC_EXTERN int imgsync_job_kind(const imgsync_job *job);
IMGSYNC_EXTERN void *imgsync_job_data(const imgsync_job *job);
/* The URL the provider asked for (unchanged by redirects). */
IMGSYNC_EXTERN const char *imgsync_job_url(const imgsync_job *job);
/* Inside sign/prepare: the URL the current attempt goes to (differs from imgsync_job_url after a
 * redirect). Elsewhere the job URL; in on_response the final URL is imgsync_response_url. */
IMGSYNC_EXTERN const char *imgsync_job_target_url(const imgsync_job *job);
IMGSYNC_EXTERN const char *imgsync_job_method(const imgsync_job *job);
IMGSYNC_EXTERN const char *imgsync_job_repository(const imgsync_job *job); /* NULL if none */
IMGSYNC_EXTERN const char *imgsync_job_partition(const imgsync_job *job);  /* "" if none */
IMGSYNC_EXTERN int imgsync_job_auth(const imgsync_job *job);

/* ---- attempts (inside sign) ------------------------------------------------------------------ */
IMGSYNC_EXTERN const char *imgsync_attempt_method(const imgsync_attempt *a);
/* The final URL of this attempt, exactly as it goes on the wire. */
IMGSYNC_EXTERN const char *imgsync_attempt_url(const imgsync_attempt *a);
/* 1 for the first sending of the job, then 2, 3 ... (retries, redirects, token replays). */
IMGSYNC_EXTERN int imgsync_attempt_number(const imgsync_attempt *a);
/* Every header about to be sent, in order (names as written; borrowed until sign returns). */
IMGSYNC_EXTERN size_t imgsync_attempt_header_count(const imgsync_attempt *a);
IMGSYNC_EXTERN const char *imgsync_attempt_header_name(const imgsync_attempt *a, size_t i);
IMGSYNC_EXTERN const char *imgsync_attempt_header_value(const imgsync_attempt *a, size_t i);
/* Last value of a header (case-insensitive name), or NULL. */
IMGSYNC_EXTERN const char *imgsync_attempt_header(const imgsync_attempt *a, const char *name);
/* The body (len 0 and "" for none). */
IMGSYNC_EXTERN const void *imgsync_attempt_body(const imgsync_attempt *a, size_t *len);
/* Add a header to this attempt (copied; no CR/LF; not Host, Content-Length). EINVAL, ENOMEM. */
IMGSYNC_EXTERN int imgsync_attempt_add_header(imgsync_attempt *a, const char *name, const char *value);

/* ---- responses ------------------------------------------------------------------------------- */
/* HTTP status, 0 when the transport failed. */
IMGSYNC_EXTERN int imgsync_response_status(const imgsync_response *resp);
/* Transport error after retries (ENETWORK, ETIMEOUT, ETOOBIG, EPROTOCOL, EINSECURE, ECANCELED ...),
 * 0 otherwise. */
IMGSYNC_EXTERN int imgsync_response_error(const imgsync_response *resp);
/* Short reason of a transport error (libcurl's, e.g. "SSL certificate problem: unable to get
 * local issuer certificate"), "" otherwise. Never a secret. */
IMGSYNC_EXTERN const char *imgsync_response_error_detail(const imgsync_response *resp);
/* Last value of a header (case-insensitive name), or NULL. */
IMGSYNC_EXTERN const char *imgsync_response_header(const imgsync_response *resp, const char *name);
/* Body, NUL-terminated (len excludes the NUL; the body itself may hold NUL bytes); "" for none. */
IMGSYNC_EXTERN const char *imgsync_response_body(const imgsync_response *resp, size_t *len);
/* Effective URL of the response (after redirects). */
IMGSYNC_EXTERN const char *imgsync_response_url(const imgsync_response *resp);
/*
 * The rel="next" target of the Link header resolved against the response URL, in *url (borrowed
 * from resp), or NULL when there is none. EPROTOCOL when the link is malformed or leaves the
 * origin of the request.
 */
IMGSYNC_EXTERN int imgsync_response_next_url(const imgsync_response *resp, const char **url);

#ifdef __cplusplus
}
#endif
#endif /* IMGSYNC_SYS_PROVIDER_H */
