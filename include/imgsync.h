/*
 * libimgsync - keep an inventory of the images held in container registries.
 *
 * This header is the specification of the public API. Conventions:
 *  - opaque handles only; every fallible call returns 0 or a negative IMGSYNC_E* code;
 *  - out-parameters come first; `**out` results belong to the caller and are released with the
 *    matching `_free()`, which accepts NULL;
 *  - a returned `const char *` is borrowed: valid until its parent handle is freed (or, for the
 *    error message, until the next call on the same context);
 *  - thread rules are libcurl's: a handle is used by one thread at a time. Task snapshots are
 *    immutable and may be read from any thread; imgsync_task_get() may be called from any thread
 *    while another thread drives the context.
 *  - no call ever puts a password, token or secret key in an error message or status text.
 */
#ifndef IMGSYNC_H
#define IMGSYNC_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32)
#define IMGSYNC_EXTERN __declspec(dllexport)
#elif defined(__GNUC__)
#define IMGSYNC_EXTERN __attribute__((visibility("default")))
#else
#define IMGSYNC_EXTERN
#endif

/* ---------------------------------------------------------------------------------------------
 * Version
 * ------------------------------------------------------------------------------------------- */
#define IMGSYNC_VERSION_MAJOR 0
#define IMGSYNC_VERSION_MINOR 1
#define IMGSYNC_VERSION_PATCH 0
#define IMGSYNC_VERSION_STRING "0.1.0"
/* MAJOR*10000 + MINOR*100 + PATCH, comparable with imgsync_version_num(). */
#define IMGSYNC_VERSION_NUM (IMGSYNC_VERSION_MAJOR * 10000 + IMGSYNC_VERSION_MINOR * 100 + IMGSYNC_VERSION_PATCH)

/* Product version of the library actually loaded, e.g. "0.1.0" (static string). */
IMGSYNC_EXTERN const char *imgsync_version(void);
/* Same, as IMGSYNC_VERSION_NUM of the loaded library. */
IMGSYNC_EXTERN int imgsync_version_num(void);

/* ---------------------------------------------------------------------------------------------
 * Errors (append-only; values are never renumbered)
 * ------------------------------------------------------------------------------------------- */
typedef enum imgsync_error {
    IMGSYNC_OK = 0,
    IMGSYNC_EINVAL = -1,      /* invalid argument or option value */
    IMGSYNC_ENOMEM = -2,      /* out of memory */
    IMGSYNC_ENOTFOUND = -3,   /* no such provider, task, kind or resource */
    IMGSYNC_EEXISTS = -4,     /* name already in use */
    IMGSYNC_EAUTH = -5,       /* the registry rejected the credentials or denied access */
    IMGSYNC_ENETWORK = -6,    /* connection, DNS or TLS failure */
    IMGSYNC_ETIMEOUT = -7,    /* a request or wait timed out */
    IMGSYNC_EPROTOCOL = -8,   /* malformed or unexpected response */
    IMGSYNC_EHTTP = -9,       /* unexpected HTTP status */
    IMGSYNC_ETOOBIG = -10,    /* response larger than the configured cap */
    IMGSYNC_ECANCELED = -11,  /* canceled by the caller */
    IMGSYNC_EUNSUPPORTED = -12, /* not supported by this registry or build */
    IMGSYNC_EVERSION = -13,   /* vtable or structure version not supported */
    IMGSYNC_EBUSY = -14,      /* handle in use (e.g. provider referenced by a running task) */
    IMGSYNC_ESTORE = -15,     /* inventory store failure */
    IMGSYNC_EINSECURE = -16,  /* plain http or disabled TLS verification not explicitly allowed */
    IMGSYNC_EPARTIAL = -17,   /* some scopes failed; the others completed */
    IMGSYNC_EINTERNAL = -18   /* a bug in libimgsync */
} imgsync_error;

/* Static English text for an error code; never NULL (unknown codes give "unknown error"). */
IMGSYNC_EXTERN const char *imgsync_strerror(int code);

/* ---------------------------------------------------------------------------------------------
 * Context
 * ------------------------------------------------------------------------------------------- */
typedef struct imgsync_ctx imgsync_ctx;

/*
 * Create a context. `store_uri` is NULL (in-memory inventory) or a store URI; this version
 * supports only NULL and "memory:" (EUNSUPPORTED for others, e.g. "sqlite:PATH" before the
 * persistent store lands). The context owns an HTTP engine (one curl multi handle); it starts
 * no thread. Errors: EINVAL, ENOMEM, EUNSUPPORTED, ENETWORK (curl initialisation failed).
 */
IMGSYNC_EXTERN int imgsync_ctx_new(imgsync_ctx **out, const char *store_uri);
/* Cancel running tasks, free every provider, task and image of the context. Accepts NULL. */
IMGSYNC_EXTERN void imgsync_ctx_free(imgsync_ctx *ctx);
/*
 * Detail of the last failed call on this context (e.g. "provider 'x': option 'endpoint' is not
 * an http(s) URL"), or "" when the last call succeeded. Borrowed until the next call on ctx.
 */
IMGSYNC_EXTERN const char *imgsync_ctx_errmsg(const imgsync_ctx *ctx);

/*
 * Context-wide engine options (strings, like provider options):
 *   "max_connections"          global limit of requests in flight (default "16", 1..1024)
 *   "max_host_connections"     per-host limit (default "8", 1..1024)
 *   "request_timeout_ms"       one request, connect to last byte (default "30000")
 *   "connect_timeout_ms"       (default "10000")
 *   "task_timeout_ms"          whole task, 0 = none (default "0")
 *   "max_retries"              retries after the first attempt (default "4", 0..20)
 *   "retry_base_ms"            first backoff delay, doubled each attempt (default "500")
 *   "retry_max_ms"             cap of one backoff delay, also caps Retry-After (default "30000")
 *   "max_response_bytes"       body cap (default "67108864")
 *   "user_agent"               (default "libimgsync/VERSION")
 * Errors: EINVAL (unknown key or bad value, detail in errmsg), EBUSY while a task runs.
 */
IMGSYNC_EXTERN int imgsync_ctx_set(imgsync_ctx *ctx, const char *key, const char *value);

/*
 * Drive the engine: perform network I/O and provider callbacks for at most `timeout_ms`
 * milliseconds (0 = do what is ready without waiting). Returns the number of tasks still queued
 * or running (>= 0), or a negative error. No hidden threads: call it from your own loop.
 */
IMGSYNC_EXTERN int imgsync_ctx_perform(imgsync_ctx *ctx, int timeout_ms);

/* ---------------------------------------------------------------------------------------------
 * Providers (one configured registry each)
 * ------------------------------------------------------------------------------------------- */
typedef struct imgsync_provider imgsync_provider;

/*
 * Create a provider of `kind` ("oci", or a kind registered with imgsync_provider_register())
 * named `name` (unique in ctx; [A-Za-z0-9._-], 1..64 chars). The provider belongs to ctx and is
 * freed with it or with imgsync_provider_free(). `*out` is borrowed from ctx.
 * Errors: EINVAL (bad name), ENOTFOUND (unknown kind), EEXISTS (name taken), ENOMEM.
 */
IMGSYNC_EXTERN int imgsync_provider_new(imgsync_provider **out, imgsync_ctx *ctx, const char *kind,
                                        const char *name);
/*
 * Set a string option. Options common to every kind:
 *   "endpoint"   registry base URL (https://host[:port][/path]); required
 *   "username", "password"  Basic credentials (also used to obtain Bearer tokens)
 *   "ca_file"    PEM bundle to verify TLS with
 *   "insecure"   "true" turns TLS verification off (must be explicit); "false" (default)
 *   "allow_http" "true" accepts http:// for non-loopback hosts; "false" (default)
 *   (booleans also accept 1/0, yes/no, on/off)
 * Kind-specific options are documented with each kind (OCI: "resolve" = "full" | "digest" |
 * "none", default "full"; "page_size", default "100").
 * A NULL value resets the option. Values are copied. Passwords are never echoed anywhere.
 * Errors: EINVAL (unknown key or bad value), EBUSY (provider used by a running task).
 */
IMGSYNC_EXTERN int imgsync_provider_set(imgsync_provider *p, const char *key, const char *value);
/* Name and kind (borrowed for the provider's lifetime). */
IMGSYNC_EXTERN const char *imgsync_provider_name(const imgsync_provider *p);
IMGSYNC_EXTERN const char *imgsync_provider_kind(const imgsync_provider *p);
/* The imgsync_type of the provider's images (what imgsync_request_add_type selects on). */
IMGSYNC_EXTERN int imgsync_provider_type(const imgsync_provider *p);
/*
 * Test the connection and the authorization of the credentials, blocking up to the request
 * timeout (drives the context's engine internally; do not call while another thread performs).
 * Returns 0 when the registry answered and accepted the credentials; EAUTH when it did not
 * authorize access; ENETWORK / ETIMEOUT / EPROTOCOL / EHTTP / EINSECURE otherwise (detail in
 * imgsync_ctx_errmsg()).
 */
IMGSYNC_EXTERN int imgsync_provider_check(imgsync_provider *p);
/* Remove a provider from its context. EBUSY while a task uses it. Accepts NULL (returns 0). */
IMGSYNC_EXTERN int imgsync_provider_free(imgsync_provider *p);

/* ---------------------------------------------------------------------------------------------
 * Sync requests (the three HSS sync types: all, by type, by repositories and conditions)
 * ------------------------------------------------------------------------------------------- */
typedef enum imgsync_type {
    IMGSYNC_TYPE_SWR_PRIVATE = 1,   /* registry_type "SwrPrivate", image_type "private_image" */
    IMGSYNC_TYPE_SWR_SHARED = 2,    /* "SwrShared", "shared_image" */
    IMGSYNC_TYPE_SWR_ENTERPRISE = 3,/* "SwrEnterprise", "instance_image" */
    IMGSYNC_TYPE_HARBOR = 4,        /* "Harbor", "harbor" */
    IMGSYNC_TYPE_JFROG = 5,         /* "Jfrog", "jfrog" */
    IMGSYNC_TYPE_OCI = 6            /* "Oci", "oci" */
} imgsync_type;

/* "SwrPrivate", "Oci", ... ; NULL for an unknown value. */
IMGSYNC_EXTERN const char *imgsync_type_registry_name(int type);
/* Parse "Oci", "oci", "harbor", "SwrShared", "shared_image" ... into a type; ENOTFOUND. */
IMGSYNC_EXTERN int imgsync_type_from_string(int *out, const char *s);

typedef enum imgsync_filter_field {
    IMGSYNC_FILTER_NAMESPACE = 1,  /* first path segment / project / organization */
    IMGSYNC_FILTER_REPOSITORY = 2, /* full repository path, e.g. "team/app" */
    IMGSYNC_FILTER_TAG = 3
} imgsync_filter_field;

typedef enum imgsync_filter_mode {
    IMGSYNC_INCLUDE = 1,
    IMGSYNC_EXCLUDE = 2
} imgsync_filter_mode;

typedef struct imgsync_request imgsync_request;

/*
 * An empty request syncs every registry of the context completely. Restrictions of different
 * kinds combine with AND (a provider must match the types, if any, and the names, if any);
 * several values of one kind combine with OR. ENOMEM.
 * Calls on a request report only a code (a request has no context for a message).
 */
IMGSYNC_EXTERN int imgsync_request_new(imgsync_request **out);
IMGSYNC_EXTERN void imgsync_request_free(imgsync_request *req);
/* Restrict to providers of the given type (may be called several times: union). EINVAL. */
IMGSYNC_EXTERN int imgsync_request_add_type(imgsync_request *req, int type);
/* Restrict to the named provider (union with other names). EINVAL. */
IMGSYNC_EXTERN int imgsync_request_add_provider(imgsync_request *req, const char *provider);
/*
 * Restrict `provider` to one repository (exact full path); the provider fetches it directly
 * without walking the catalog. Implies add_provider(provider). EINVAL.
 */
IMGSYNC_EXTERN int imgsync_request_add_repository(imgsync_request *req, const char *provider,
                                                  const char *repository);
/*
 * Add a glob filter. Glob syntax: `*` any run of characters except '/', `**` any run including
 * '/', `?` one character except '/', `[a-z]`/`[!a-z]` a class, `{a,b}` alternatives.
 * An item is selected when it matches at least one INCLUDE filter of the field (or the field has
 * none) and no EXCLUDE filter of the field. EINVAL for a malformed pattern.
 */
IMGSYNC_EXTERN int imgsync_request_add_filter(imgsync_request *req, int field, const char *pattern,
                                              int mode);
/* Also list artifacts that are not container images (Helm charts, CNAB, WASM ... on registries
 * that type their artifacts, such as Harbor). Off by default: such rows are then neither listed
 * nor replaced nor removed by the sync (rows kept from an earlier sync that included them stay,
 * and the inventory iterator shows them). EINVAL. */
IMGSYNC_EXTERN int imgsync_request_set_include_non_images(imgsync_request *req, int include);
/* Keep only the newest `n` tags per repository (by update time, then tag name descending);
 * 0 = all. Applied when a sync commits; the inventory iterator does not apply it again. */
IMGSYNC_EXTERN int imgsync_request_set_max_tags(imgsync_request *req, unsigned int n);

/* ---------------------------------------------------------------------------------------------
 * Tasks
 * ------------------------------------------------------------------------------------------- */
typedef enum imgsync_task_state {
    IMGSYNC_TASK_QUEUED = 0,
    IMGSYNC_TASK_RUNNING = 1,
    IMGSYNC_TASK_SUCCEEDED = 2,
    IMGSYNC_TASK_PARTIAL = 3,   /* some registries or repositories failed, the others synced */
    IMGSYNC_TASK_FAILED = 4,
    IMGSYNC_TASK_CANCELED = 5
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
 * as imgsync_ctx_perform() is called. `*task_id` (> 0) identifies it for the life of ctx.
 * Errors: ENOTFOUND (a named provider does not exist), EINVAL, ENOMEM.
 * A request that selects no provider gives a task that succeeds with nothing to do.
 */
IMGSYNC_EXTERN int imgsync_sync_start(imgsync_ctx *ctx, const imgsync_request *req, uint64_t *task_id);
/*
 * Drive ctx until the task ends or `timeout_ms` elapses (-1 = no limit). Returns 0 when the task
 * has ended (whatever its state; read it with imgsync_task_get), ETIMEOUT, ENOTFOUND.
 */
IMGSYNC_EXTERN int imgsync_task_wait(imgsync_ctx *ctx, uint64_t task_id, int timeout_ms);
/* Stop a task now: in-flight requests are aborted, the state becomes IMGSYNC_TASK_CANCELED before
 * this returns, completed scopes stay committed, unfinished ones keep their previous inventory.
 * ENOTFOUND; 0 if it had already ended. */
IMGSYNC_EXTERN int imgsync_task_cancel(imgsync_ctx *ctx, uint64_t task_id);

typedef struct imgsync_task imgsync_task;  /* immutable snapshot of a task's status */

/* Snapshot the status of a task; safe from any thread. `*out` is freed with imgsync_task_free.
 * ENOTFOUND, ENOMEM. */
IMGSYNC_EXTERN int imgsync_task_get(imgsync_task **out, imgsync_ctx *ctx, uint64_t task_id);
/* Snapshot of the most recent task (highest id); ENOTFOUND when there is none. */
IMGSYNC_EXTERN int imgsync_task_get_latest(imgsync_task **out, imgsync_ctx *ctx);
IMGSYNC_EXTERN void imgsync_task_free(imgsync_task *t);

IMGSYNC_EXTERN uint64_t imgsync_task_id(const imgsync_task *t);
IMGSYNC_EXTERN int imgsync_task_state_of(const imgsync_task *t);           /* imgsync_task_state */
/* "queued", "running", "succeeded", "partially succeeded", "failed", "canceled"; "unknown" else. */
IMGSYNC_EXTERN const char *imgsync_task_state_name(int state);
IMGSYNC_EXTERN int imgsync_task_trigger(const imgsync_task *t);           /* imgsync_trigger */
/* Milliseconds since the epoch (UTC); 0 when not reached yet. */
IMGSYNC_EXTERN int64_t imgsync_task_created_ms(const imgsync_task *t);
IMGSYNC_EXTERN int64_t imgsync_task_started_ms(const imgsync_task *t);
IMGSYNC_EXTERN int64_t imgsync_task_finished_ms(const imgsync_task *t);
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

/* ---------------------------------------------------------------------------------------------
 * Inventory
 * ------------------------------------------------------------------------------------------- */
typedef struct imgsync_image imgsync_image;
typedef struct imgsync_iter imgsync_iter;

/*
 * Iterate over the inventory, optionally restricted to one provider (NULL = all) and to the
 * filters of `req` (NULL = everything; its providers, types, repositories and filters apply).
 * The iterator holds a snapshot: later syncs do not change what it yields. Order: provider,
 * repository, tag. ENOMEM, ENOTFOUND (unknown provider).
 */
IMGSYNC_EXTERN int imgsync_iter_new(imgsync_iter **out, imgsync_ctx *ctx, const imgsync_request *req);
/* Next image (borrowed until the next call or iter_free), or NULL at the end. */
IMGSYNC_EXTERN const imgsync_image *imgsync_iter_next(imgsync_iter *it);
IMGSYNC_EXTERN void imgsync_iter_free(imgsync_iter *it);
/* Number of images in the inventory. */
IMGSYNC_EXTERN size_t imgsync_inventory_count(imgsync_ctx *ctx);

/* Image getters: strings are borrowed from the image ("" when unknown, never NULL). */
IMGSYNC_EXTERN const char *imgsync_image_registry(const imgsync_image *im);      /* provider name */
IMGSYNC_EXTERN const char *imgsync_image_registry_type(const imgsync_image *im); /* "Oci" ... */
IMGSYNC_EXTERN const char *imgsync_image_image_type(const imgsync_image *im);    /* "oci" ... */
IMGSYNC_EXTERN const char *imgsync_image_host(const imgsync_image *im);          /* "host:port" */
IMGSYNC_EXTERN const char *imgsync_image_namespace(const imgsync_image *im);
IMGSYNC_EXTERN const char *imgsync_image_repository(const imgsync_image *im);
IMGSYNC_EXTERN const char *imgsync_image_tag(const imgsync_image *im); /* "" for an untagged artifact */
IMGSYNC_EXTERN const char *imgsync_image_digest(const imgsync_image *im);
IMGSYNC_EXTERN const char *imgsync_image_media_type(const imgsync_image *im);
/* Artifact kind where the registry types artifacts (Harbor: "IMAGE", "CHART", ...), else "". */
IMGSYNC_EXTERN const char *imgsync_image_artifact_type(const imgsync_image *im);
/* Size in bytes, -1 when not resolved. */
IMGSYNC_EXTERN int64_t imgsync_image_size(const imgsync_image *im);
/* Milliseconds since the epoch (UTC); 0 when the registry does not say. */
IMGSYNC_EXTERN int64_t imgsync_image_update_ms(const imgsync_image *im);
IMGSYNC_EXTERN int64_t imgsync_image_sync_ms(const imgsync_image *im);
/* 1 for a manifest list / OCI index, 0 otherwise. */
IMGSYNC_EXTERN int imgsync_image_multi_arch(const imgsync_image *im);

#ifdef __cplusplus
}
#endif
#endif /* IMGSYNC_H */
