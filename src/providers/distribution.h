/* The OCI distribution walk, shared by the providers that list a /v2/ API (internal to
 * src/providers): catalog (n/last/Link) -> tags/list (paged or not) -> manifest per tag for the
 * digest (HEAD, or GET when the size is wanted) -> child manifests of an index, fetched by
 * digest and verified, for its size. Parameterized by base URL and partition, so that one run
 * can walk several /v2/ roots (JFrog's per-repository-key APIs). */
#ifndef IMGSYNC_PROVIDERS_DISTRIBUTION_H
#define IMGSYNC_PROVIDERS_DISTRIBUTION_H

#include "imgsync/sys/provider.h"

enum { IMGSYNC__RESOLVE_NONE = 0, IMGSYNC__RESOLVE_DIGEST = 1, IMGSYNC__RESOLVE_FULL = 2 };

/* Job kinds used by a walk: kind_base + 0..3. */
#define IMGSYNC__DIST_KINDS 4

typedef struct imgsync__dist imgsync__dist;

typedef struct imgsync__dist_config {
    const char *base;      /* absolute URL of the API root ending in "/v2", no trailing '/' */
    const char *partition; /* "" or the partition of every scope (a JFrog repository key) */
    const char *ns;        /* namespace of every row, NULL = first path segment of the repository */
    int auth;              /* imgsync_auth of every job */
    int resolve;           /* IMGSYNC__RESOLVE_* */
    long page_size;        /* catalog page size */
    int kind_base;
    /* The catalog walk ended: complete = 1 when every page was read. NULL = call
     * imgsync_run_catalog_complete() when complete. */
    void (*catalog_done)(imgsync_run *run, void *ud, int complete);
    void *ud;
    /* ---- optional (zero = off) ---- */
    /* Prefix of scope and row names ("key/" for JFrog: the API knows "img", the row is
     * "key/img"); URLs keep the API's name. */
    const char *repo_prefix;
    /* Drop tags/list entries that are digests (sha256:<hex>, sha256__<hex>: Artifactory lists
     * them among the tags; they are not tags and give no row). */
    int skip_digest_tags;
    /* A Link whose path starts at the host's "/v2/" (not under the base) is taken under the
     * base: Artifactory 6.x drops "/artifactory/api/docker/{key}" from its Link headers. */
    int rebase_root_links;
    /* A row is complete: the hook takes it (always consumes rec) to add fields it must fetch
     * first (JFrog's update time) and emits it, with jobs on the row's scope so that the scope
     * waits for them. image = the API's repository name. NULL = imgsync_record_emit. */
    int (*emit)(imgsync_run *run, void *ud, imgsync_record *rec, const char *image, const char *tag, int multi_arch);
} imgsync__dist_config;

/* "full" | "digest" | "none" -> IMGSYNC__RESOLVE_*. 0 or EINVAL. */
int imgsync__dist_parse_resolve(const char *v, int *out);
/* 1 for sha256:<hex> and sha256__<hex>: digests some registries (Artifactory) list among the
 * tags (ref 4.1); not tags. */
int imgsync__dist_is_digest_tag(const char *tag);
/* A walk (strings copied; reference counted, one reference for the caller). NULL on ENOMEM. */
imgsync__dist *imgsync__dist_new(const imgsync__dist_config *c);
void imgsync__dist_unref(imgsync__dist *d);
/* Walk the catalog, listing every repository the request wants. */
int imgsync__dist_catalog(imgsync_run *run, imgsync__dist *d);
/* List one repository named by the request (a 404 is then "not found", not "gone"). */
int imgsync__dist_repository(imgsync_run *run, imgsync__dist *d, const char *repository);
/* 1 when the job is one of the walk's kinds (then *rc is its on_response result), else 0. */
int imgsync__dist_on_response(imgsync_run *run, imgsync_job *job, const imgsync_response *resp, int kind_base,
                              int *rc);

#endif
