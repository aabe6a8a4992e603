/* Provider "oci": any OCI distribution / Docker Registry HTTP API v2 registry.
 * /v2/ check -> _catalog (n/last/Link) -> tags/list (paged or not) -> manifest per tag for the
 * digest (HEAD, or GET when the size is wanted) -> child manifests of an index for its size. */
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "imgsync/sys/provider.h"
#include "util/buf.h"
#include "util/json.h"
#include "util/map.h"
#include "util/url.h"

enum { K_PING = 1, K_CATALOG, K_TAGS, K_MANIFEST, K_CHILD };
enum { RESOLVE_NONE, RESOLVE_DIGEST, RESOLVE_FULL };

#define ACCEPT_MANIFESTS                                                                          \
    "Accept: application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, " \
    "application/vnd.docker.distribution.manifest.list.v2+json, "                                 \
    "application/vnd.docker.distribution.manifest.v2+json"

#define MT_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define MT_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"

typedef struct oci_run {
    int resolve;
    long page_size;
    imgsync__map listed; /* repositories already taken from the catalog (pages may repeat one) */
    imgsync__map pages;  /* next-page URLs already followed (a Link that loops is refused) */
} oci_run;

/* An index whose size waits for its children. Shared by the child jobs (reference counted). */
typedef struct pending_index {
    int refs;
    imgsync_record *rec;
    char *repository;
    int64_t size;
    int remaining;
    int unknown; /* a child could not be sized */
} pending_index;

/* ---- options ------------------------------------------------------------------------------ */

static int parse_resolve(const char *v, int *out)
{
    if (!strcmp(v, "full"))
        *out = RESOLVE_FULL;
    else if (!strcmp(v, "digest"))
        *out = RESOLVE_DIGEST;
    else if (!strcmp(v, "none"))
        *out = RESOLVE_NONE;
    else
        return IMGSYNC_EINVAL;
    return 0;
}

static int oci_check_option(const char *key, const char *value, char *err, size_t errlen)
{
    if (!strcmp(key, "resolve")) {
        int r;
        if (parse_resolve(value, &r)) {
            snprintf(err, errlen, "must be full, digest or none");
            return IMGSYNC_EINVAL;
        }
        return 0;
    }
    if (!strcmp(key, "page_size")) {
        long long n;
        if (imgsync__parse_i64(value, 1, 1000, &n)) { /* registry 2.8 refuses n above 1000 */
            snprintf(err, errlen, "must be an integer from 1 to 1000");
            return IMGSYNC_EINVAL;
        }
        return 0;
    }
    return IMGSYNC_ENOTFOUND;
}

/* ---- names -------------------------------------------------------------------------------- */

/* Repository names per the distribution spec: lower-case path components of [a-z0-9] joined by
 * '.', '_', '__' or '-' runs, separated by '/'. Anything else is refused before it goes in a URL. */
static int repo_name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 255)
        return 0;
    int start = 1;
    for (const char *p = s; *p; p++) {
        char c = *p;
        int alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
        if (alnum) {
            start = 0;
        } else if (c == '/') {
            if (start)
                return 0;
            start = 1;
        } else if (c == '.' || c == '_' || c == '-') {
            if (start)
                return 0;
        } else {
            return 0;
        }
    }
    return !start;
}

static int tag_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 128)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
                 (i > 0 && (c == '.' || c == '-'));
        if (!ok)
            return 0;
    }
    return 1;
}

static int digest_ok(const char *d)
{
    if (!d || strncmp(d, "sha256:", 7) != 0 || strlen(d) != 71)
        return 0;
    for (const char *p = d + 7; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
            return 0;
    return 1;
}

/* ---- jobs --------------------------------------------------------------------------------- */

static int submit(imgsync_run *run, const char *method, const char *url, int kind, const char *repository,
                  const char *accept, void *data, void (*free_fn)(void *))
{
    imgsync_job *job = imgsync_job_new(run, method, url);
    if (!job) {
        if (free_fn && data)
            free_fn(data);
        return IMGSYNC_ENOMEM;
    }
    imgsync_job_set_kind(job, kind);
    imgsync_job_set_data(job, data, free_fn);
    int rc = repository ? imgsync_job_set_repository(job, repository) : 0;
    if (!rc && accept)
        rc = imgsync_job_add_header(job, accept);
    if (rc) {
        imgsync_job_free(job);
        return rc;
    }
    return imgsync_job_submit(job);
}

static int submit_tags(imgsync_run *run, const char *repository)
{
    int rc = imgsync_run_repository_begin(run, repository);
    if (rc)
        return rc;
    char *path = imgsync__asprintf("/v2/%s/tags/list", repository);
    if (!path)
        return IMGSYNC_ENOMEM;
    rc = submit(run, "GET", path, K_TAGS, repository, "Accept: application/json", NULL, NULL);
    free(path);
    return rc;
}

static void pending_unref(void *p)
{
    pending_index *pi = p;
    if (!pi || --pi->refs > 0)
        return;
    imgsync_record_free(pi->rec);
    free(pi->repository);
    free(pi);
}

/* ---- vtable: start ------------------------------------------------------------------------ */

static void oci_run_free(void *p)
{
    oci_run *st = p;
    imgsync__map_clear(&st->listed);
    imgsync__map_clear(&st->pages);
    free(st);
}

static int oci_start(imgsync_run *run)
{
    oci_run *st = calloc(1, sizeof(*st));
    if (!st)
        return IMGSYNC_ENOMEM;
    st->resolve = RESOLVE_FULL;
    st->page_size = 100;
    const char *v = imgsync_run_option(run, "resolve");
    if (v)
        parse_resolve(v, &st->resolve);
    long long n;
    v = imgsync_run_option(run, "page_size");
    if (v && !imgsync__parse_i64(v, 1, 1000, &n))
        st->page_size = (long)n;
    imgsync__map_init(&st->listed);
    imgsync__map_init(&st->pages);
    imgsync_run_set_data(run, st, oci_run_free);
    return submit(run, "GET", "/v2/", K_PING, NULL, NULL, NULL, NULL);
}

/* ---- responses ---------------------------------------------------------------------------- */

static int on_ping(imgsync_run *run, const imgsync_job *job, const imgsync_response *resp)
{
    int status = imgsync_response_status(resp);
    if (imgsync_response_error(resp) || status == 401 || status == 403)
        return imgsync_run_fail_response(run, job, resp);
    if (status != 200) {
        char msg[160];
        snprintf(msg, sizeof(msg), "GET /v2/ gave HTTP %d: not an OCI distribution registry endpoint", status);
        imgsync_run_fail(run, status == 404 ? IMGSYNC_EUNSUPPORTED : IMGSYNC_EHTTP, msg);
        return 0;
    }
    if (imgsync_run_mode_of(run) == IMGSYNC_RUN_CHECK)
        return 0;
    size_t n = imgsync_run_repository_count(run);
    if (n) { /* specific repositories: no catalog walk */
        for (size_t i = 0; i < n; i++) {
            const char *repo = imgsync_run_repository(run, i);
            if (!repo_name_ok(repo)) {
                imgsync_run_repository_fail(run, repo, IMGSYNC_EINVAL, "not a valid repository name");
                continue;
            }
            int rc = submit_tags(run, repo);
            if (rc)
                return rc;
        }
        return 0;
    }
    const oci_run *st = imgsync_run_data(run);
    char path[64];
    snprintf(path, sizeof(path), "/v2/_catalog?n=%ld", st->page_size);
    return submit(run, "GET", path, K_CATALOG, NULL, "Accept: application/json", NULL, NULL);
}

static int follow_next(imgsync_run *run, const imgsync_job *job, const imgsync_response *resp, int kind,
                       const char *repository, int *followed)
{
    const char *next = NULL;
    *followed = 0;
    oci_run *st = imgsync_run_data(run);
    /* the page just read counts as visited, so a link back to it is caught at once */
    if (!imgsync__map_get(&st->pages, imgsync_job_url(job)) &&
        imgsync__map_put(&st->pages, imgsync_job_url(job), (void *)1, NULL))
        return IMGSYNC_ENOMEM;
    if (imgsync_response_next_url(resp, &next)) {
        const char *msg = "the registry sent a malformed or cross-host Link header";
        if (repository)
            imgsync_run_repository_fail(run, repository, IMGSYNC_EPROTOCOL, msg);
        else
            imgsync_run_fail(run, IMGSYNC_EPROTOCOL, msg);
        return IMGSYNC_EPROTOCOL;
    }
    if (!next)
        return 0;
    if (imgsync__map_get(&st->pages, next)) {
        const char *msg = "the registry's Link pagination loops back to a page already read";
        if (repository)
            imgsync_run_repository_fail(run, repository, IMGSYNC_EPROTOCOL, msg);
        else
            imgsync_run_fail(run, IMGSYNC_EPROTOCOL, msg);
        return IMGSYNC_EPROTOCOL;
    }
    if (imgsync__map_put(&st->pages, next, (void *)1, NULL))
        return IMGSYNC_ENOMEM;
    *followed = 1;
    return submit(run, "GET", next, kind, repository, "Accept: application/json", NULL, NULL);
}

static int on_catalog(imgsync_run *run, const imgsync_job *job, const imgsync_response *resp)
{
    if (imgsync_response_error(resp) || imgsync_response_status(resp) != 200)
        return imgsync_run_fail_response(run, job, resp);
    size_t len;
    const char *body = imgsync_response_body(resp, &len);
    char err[64];
    yajl_val root = imgsync__json_parse(body, len, err, sizeof(err));
    yajl_val repos = imgsync__json_array(root, "repositories");
    if (!root || (!repos && !(imgsync__json_member(root, "repositories") &&
                              YAJL_IS_NULL(imgsync__json_member(root, "repositories"))))) {
        if (root)
            yajl_tree_free(root);
        imgsync_run_fail(run, IMGSYNC_EPROTOCOL, "GET /v2/_catalog: response is not a repository list");
        return 0;
    }
    int rc = 0;
    for (size_t i = 0; repos && i < repos->u.array.len && !rc; i++) {
        yajl_val v = repos->u.array.values[i];
        const char *name = YAJL_IS_STRING(v) ? YAJL_GET_STRING(v) : NULL;
        if (!name || !repo_name_ok(name)) {
            imgsync_run_repository_fail(run, name && *name ? name : "(invalid)", IMGSYNC_EPROTOCOL,
                                        "the catalog lists an invalid repository name");
            continue;
        }
        oci_run *st = imgsync_run_data(run);
        if (imgsync__map_get(&st->listed, name))
            continue; /* named again on a later page: already being listed */
        if (imgsync__map_put(&st->listed, name, (void *)1, NULL))
            rc = IMGSYNC_ENOMEM;
        else if (imgsync_run_wants_repository(run, name))
            rc = submit_tags(run, name);
    }
    yajl_tree_free(root);
    if (rc)
        return rc;
    int followed;
    rc = follow_next(run, job, resp, K_CATALOG, NULL, &followed);
    if (!rc && !followed)
        imgsync_run_catalog_complete(run);
    return rc == IMGSYNC_EPROTOCOL ? 0 : rc;
}

static int emit_plain(imgsync_run *run, const char *repository, const char *tag)
{
    imgsync_record *r = imgsync_record_new(run, repository, tag);
    return r ? imgsync_record_emit(run, r) : IMGSYNC_ENOMEM;
}

static int on_tags(imgsync_run *run, const imgsync_job *job, const imgsync_response *resp)
{
    const char *repo = imgsync_job_repository(job);
    int status = imgsync_response_status(resp);
    if (!imgsync_response_error(resp) && status == 404) {
        /* asked for by name: say it does not exist; found in the catalog: it went away since */
        if (imgsync_run_repository_count(run) > 0)
            return imgsync_run_repository_fail(run, repo, IMGSYNC_ENOTFOUND, "repository not found (HTTP 404)");
        return imgsync_run_repository_listed(run, repo);
    }
    if (imgsync_response_error(resp) || status != 200) {
        imgsync_run_fail_response(run, job, resp);
        return 0;
    }
    size_t len;
    const char *body = imgsync_response_body(resp, &len);
    char err[64];
    yajl_val root = imgsync__json_parse(body, len, err, sizeof(err));
    yajl_val tags = imgsync__json_array(root, "tags");
    yajl_val raw = imgsync__json_member(root, "tags");
    if (!root || (!tags && raw && !YAJL_IS_NULL(raw)) || !YAJL_IS_OBJECT(root)) {
        if (root)
            yajl_tree_free(root);
        imgsync_run_repository_fail(run, repo, IMGSYNC_EPROTOCOL, "tags/list: response is not a tag list");
        return 0;
    }
    const oci_run *st = imgsync_run_data(run);
    int rc = 0;
    for (size_t i = 0; tags && i < tags->u.array.len && !rc; i++) {
        yajl_val v = tags->u.array.values[i];
        const char *tag = YAJL_IS_STRING(v) ? YAJL_GET_STRING(v) : NULL;
        if (!tag || !tag_ok(tag)) {
            imgsync_run_repository_fail(run, repo, IMGSYNC_EPROTOCOL, "tags/list holds an invalid tag");
            break;
        }
        if (!imgsync_run_wants_tag(run, tag))
            continue;
        if (st->resolve == RESOLVE_NONE) {
            rc = emit_plain(run, repo, tag);
            continue;
        }
        char *path = imgsync__asprintf("/v2/%s/manifests/%s", repo, tag);
        char *tag_copy = imgsync__strdup(tag);
        if (!path || !tag_copy) {
            free(path);
            free(tag_copy);
            rc = IMGSYNC_ENOMEM;
            break;
        }
        rc = submit(run, st->resolve == RESOLVE_FULL ? "GET" : "HEAD", path, K_MANIFEST, repo, ACCEPT_MANIFESTS,
                    tag_copy, free);
        free(path);
    }
    yajl_tree_free(root);
    if (rc)
        return rc;
    int followed;
    rc = follow_next(run, job, resp, K_TAGS, repo, &followed);
    if (!rc && !followed)
        rc = imgsync_run_repository_listed(run, repo);
    return rc == IMGSYNC_EPROTOCOL ? 0 : rc;
}

/* Media type from Content-Type without parameters, else the manifest's own mediaType. */
static void media_type_of(const imgsync_response *resp, yajl_val manifest, char *out, size_t n)
{
    const char *ct = imgsync_response_header(resp, "Content-Type");
    const char *mt = imgsync__json_string(manifest, "mediaType");
    if (mt && *mt) {
        snprintf(out, n, "%s", mt);
        return;
    }
    out[0] = '\0';
    if (ct) {
        size_t len = strcspn(ct, "; ");
        snprintf(out, n, "%.*s", (int)len, ct);
    }
}

static void sha256_digest(const char *body, size_t len, char out[72])
{
    unsigned char md[SHA256_DIGEST_LENGTH];
    SHA256((const unsigned char *)body, len, md);
    static const char hex[] = "0123456789abcdef";
    memcpy(out, "sha256:", 7);
    for (int i = 0; i < SHA256_DIGEST_LENGTH; i++) {
        out[7 + 2 * i] = hex[md[i] >> 4];
        out[8 + 2 * i] = hex[md[i] & 15];
    }
    out[7 + 2 * SHA256_DIGEST_LENGTH] = '\0';
}

/* config.size + sum(layers[].size); -1 when the manifest has no such fields. */
static int64_t image_size(yajl_val manifest)
{
    yajl_val config = imgsync__json_member(manifest, "config");
    yajl_val layers = imgsync__json_array(manifest, "layers");
    int64_t total = 0, s = 0;
    if (!config || imgsync__json_int(config, "size", &s) || s < 0)
        return -1;
    total = s;
    for (size_t i = 0; layers && i < layers->u.array.len; i++) {
        if (imgsync__json_int(layers->u.array.values[i], "size", &s) || s < 0 || total > INT64_MAX - s)
            return -1;
        total += s;
    }
    return total;
}

static int is_index(const char *media_type, yajl_val manifest)
{
    return !strcmp(media_type, MT_OCI_INDEX) || !strcmp(media_type, MT_DOCKER_LIST) ||
           (imgsync__json_array(manifest, "manifests") && !imgsync__json_member(manifest, "layers"));
}

static void pending_finish(imgsync_run *run, pending_index *pi)
{
    if (--pi->remaining > 0)
        return;
    imgsync_record_set_size(pi->rec, pi->unknown ? -1 : pi->size);
    imgsync_record *rec = pi->rec;
    pi->rec = NULL;
    int rc = imgsync_record_emit(run, rec);
    if (rc) /* a lost row must not pass for a complete listing */
        imgsync_run_repository_fail(run, pi->repository, rc, "could not record an index's row");
}

/* An index: its size is the sum of its children's image sizes, fetched by digest. */
static int start_index(imgsync_run *run, const char *repo, imgsync_record *rec, yajl_val manifest)
{
    yajl_val children = imgsync__json_array(manifest, "manifests");
    size_t n = children ? children->u.array.len : 0;
    if (n == 0) {
        imgsync_record_set_size(rec, 0);
        return imgsync_record_emit(run, rec);
    }
    pending_index *pi = calloc(1, sizeof(*pi));
    if (!pi || !(pi->repository = imgsync__strdup(repo))) {
        free(pi);
        imgsync_record_free(rec);
        return IMGSYNC_ENOMEM;
    }
    pi->rec = rec;
    pi->refs = 1;
    pi->remaining = (int)n;
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        const char *d = imgsync__json_string(children->u.array.values[i], "digest");
        if (!digest_ok(d)) {
            pi->unknown = 1;
            pending_finish(run, pi);
            continue;
        }
        char *path = imgsync__asprintf("/v2/%s/manifests/%s", repo, d);
        if (!path) {
            rc = IMGSYNC_ENOMEM;
            break;
        }
        pi->refs++;
        rc = submit(run, "GET", path, K_CHILD, repo, ACCEPT_MANIFESTS, pi, pending_unref);
        free(path);
    }
    pending_unref(pi);
    return rc;
}

static int on_manifest(imgsync_run *run, const imgsync_job *job, const imgsync_response *resp)
{
    const char *repo = imgsync_job_repository(job);
    const char *tag = imgsync_job_data(job);
    int status = imgsync_response_status(resp);
    if (!imgsync_response_error(resp) && status == 404)
        return 0; /* the tag was deleted after it was listed */
    if (imgsync_response_error(resp) || status != 200) {
        imgsync_run_fail_response(run, job, resp);
        return 0;
    }
    const char *header_digest = imgsync_response_header(resp, "Docker-Content-Digest");
    int is_head = !strcmp(imgsync_job_method(job), "HEAD");
    if (is_head && !digest_ok(header_digest)) {
        /* no usable digest header: fetch the manifest and hash it */
        char *path = imgsync__asprintf("/v2/%s/manifests/%s", repo, tag);
        char *tag_copy = imgsync__strdup(tag);
        if (!path || !tag_copy) {
            free(path);
            free(tag_copy);
            return IMGSYNC_ENOMEM;
        }
        int rc = submit(run, "GET", path, K_MANIFEST, repo, ACCEPT_MANIFESTS, tag_copy, free);
        free(path);
        return rc;
    }
    imgsync_record *rec = imgsync_record_new(run, repo, tag);
    if (!rec)
        return IMGSYNC_ENOMEM;
    char digest[72], media_type[128];
    if (is_head) {
        snprintf(digest, sizeof(digest), "%s", header_digest);
        media_type_of(resp, NULL, media_type, sizeof(media_type));
        imgsync_record_set_digest(rec, digest);
        imgsync_record_set_media_type(rec, media_type);
        imgsync_record_set_multi_arch(rec, !strcmp(media_type, MT_OCI_INDEX) || !strcmp(media_type, MT_DOCKER_LIST));
        return imgsync_record_emit(run, rec);
    }
    size_t len;
    const char *body = imgsync_response_body(resp, &len);
    sha256_digest(body, len, digest);
    if (header_digest && digest_ok(header_digest) && strcmp(header_digest, digest) != 0) {
        imgsync_record_free(rec);
        imgsync_run_repository_fail(run, repo, IMGSYNC_EPROTOCOL,
                                    "manifest body does not match its Docker-Content-Digest");
        return 0;
    }
    char err[64];
    yajl_val m = imgsync__json_parse(body, len, err, sizeof(err));
    if (!m || !YAJL_IS_OBJECT(m)) {
        if (m)
            yajl_tree_free(m);
        imgsync_record_free(rec);
        imgsync_run_repository_fail(run, repo, IMGSYNC_EPROTOCOL, "manifest is not a JSON object");
        return 0;
    }
    media_type_of(resp, m, media_type, sizeof(media_type));
    imgsync_record_set_digest(rec, digest);
    imgsync_record_set_media_type(rec, media_type);
    int rc;
    if (is_index(media_type, m)) {
        imgsync_record_set_multi_arch(rec, 1);
        rc = start_index(run, repo, rec, m);
    } else {
        imgsync_record_set_size(rec, image_size(m));
        rc = imgsync_record_emit(run, rec);
    }
    yajl_tree_free(m);
    return rc;
}

static int on_child(imgsync_run *run, const imgsync_job *job, const imgsync_response *resp)
{
    pending_index *pi = imgsync_job_data(job);
    int status = imgsync_response_status(resp);
    if (imgsync_response_error(resp) || (status != 200 && status != 404)) {
        imgsync_run_fail_response(run, job, resp);
        return 0;
    }
    int64_t size = -1;
    if (status == 200) {
        size_t len;
        const char *body = imgsync_response_body(resp, &len);
        char err[64];
        yajl_val m = imgsync__json_parse(body, len, err, sizeof(err));
        size = m ? image_size(m) : -1;
        if (m)
            yajl_tree_free(m);
    }
    if (size < 0 || pi->size > INT64_MAX - size)
        pi->unknown = 1;
    else
        pi->size += size;
    pending_finish(run, pi);
    return 0;
}

static int oci_on_response(imgsync_run *run, imgsync_job *job, const imgsync_response *resp)
{
    switch (imgsync_job_kind(job)) {
    case K_PING: return on_ping(run, job, resp);
    case K_CATALOG: return on_catalog(run, job, resp);
    case K_TAGS: return on_tags(run, job, resp);
    case K_MANIFEST: return on_manifest(run, job, resp);
    case K_CHILD: return on_child(run, job, resp);
    default: return IMGSYNC_EINTERNAL;
    }
}

const imgsync_provider_vtable imgsync__oci_provider = {
    .version = IMGSYNC_PROVIDER_VTABLE_VERSION,
    .kind = "oci",
    .type = IMGSYNC_TYPE_OCI,
    .check_option = oci_check_option,
    .start = oci_start,
    .on_response = oci_on_response,
    .prepare = NULL,
};
