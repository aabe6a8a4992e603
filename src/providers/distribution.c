/* The OCI distribution walk by base URL and partition (see distribution.h). */
#include "distribution.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "providers/common.h"
#include "providers/platform.h"
#include "util/buf.h"
#include "util/json.h"
#include "util/map.h"
#include "util/names.h"

enum { K_CATALOG = 0, K_TAGS, K_MANIFEST, K_CHILD };

#define ACCEPT_JSON "Accept: application/json"
#define ACCEPT_MANIFESTS                                                                          \
    "Accept: application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, " \
    "application/vnd.docker.distribution.manifest.list.v2+json, "                                 \
    "application/vnd.docker.distribution.manifest.v2+json"
#define MT_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define MT_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"

struct imgsync__dist {
    int refs;
    imgsync__dist_config c; /* strings owned */
    imgsync__map listed;    /* repositories already taken from the catalog (pages may repeat one) */
    imgsync__pager catalog;
    int pager_ready;
};

/* The tags listing of one repository, shared by its pages and manifest jobs. */
typedef struct tags_walk {
    int refs;
    imgsync__dist *d;
    char *repo; /* the name in the API's URLs */
    char *name; /* the name of the scope and rows: repo_prefix + repo */
    int named;  /* asked for by name: a 404 means "not found" */
    imgsync__pager pager;
} tags_walk;

/* An index whose size waits for its children. */
typedef struct pending_index {
    int refs;
    imgsync_record *rec;
    char *tag;
    int64_t size;
    int remaining;
    int unknown; /* a child could not be sized */
} pending_index;

/* Data of every job of a walk. */
typedef struct djob {
    imgsync__dist *d;      /* catalog */
    tags_walk *tw;         /* tags, manifest, child */
    char *ref;             /* manifest: the tag; child: the digest */
    pending_index *pi;     /* child */
} djob;

int imgsync__dist_parse_resolve(const char *v, int *out)
{
    if (!strcmp(v, "full"))
        *out = IMGSYNC__RESOLVE_FULL;
    else if (!strcmp(v, "digest"))
        *out = IMGSYNC__RESOLVE_DIGEST;
    else if (!strcmp(v, "none"))
        *out = IMGSYNC__RESOLVE_NONE;
    else
        return IMGSYNC_EINVAL;
    return 0;
}

/* ---- lifetimes ------------------------------------------------------------------------------ */

imgsync__dist *imgsync__dist_new(const imgsync__dist_config *c)
{
    imgsync__dist *d = calloc(1, sizeof(*d));
    if (!d)
        return NULL;
    d->refs = 1;
    d->c = *c;
    d->c.base = imgsync__strdup(c->base);
    d->c.partition = imgsync__strdup(c->partition ? c->partition : "");
    d->c.ns = c->ns ? imgsync__strdup(c->ns) : NULL;
    d->c.repo_prefix = imgsync__strdup(c->repo_prefix ? c->repo_prefix : "");
    imgsync__map_init(&d->listed);
    if (!d->c.base || !d->c.partition || (c->ns && !d->c.ns) || !d->c.repo_prefix) {
        imgsync__dist_unref(d);
        return NULL;
    }
    return d;
}

void imgsync__dist_unref(imgsync__dist *d)
{
    if (!d || --d->refs > 0)
        return;
    imgsync__map_clear(&d->listed);
    if (d->pager_ready)
        imgsync__pager_clear(&d->catalog);
    free((char *)d->c.base);
    free((char *)d->c.partition);
    free((char *)d->c.ns);
    free((char *)d->c.repo_prefix);
    free(d);
}

static void dist_release(void *p) { imgsync__dist_unref(p); }

static void tags_unref(void *p)
{
    tags_walk *tw = p;
    if (!tw || --tw->refs > 0)
        return;
    imgsync__pager_clear(&tw->pager);
    imgsync__dist_unref(tw->d);
    free(tw->repo);
    free(tw->name);
    free(tw);
}

static void pending_unref(pending_index *pi)
{
    if (!pi || --pi->refs > 0)
        return;
    imgsync_record_free(pi->rec);
    free(pi->tag);
    free(pi);
}

static void djob_free(void *p)
{
    djob *j = p;
    imgsync__dist_unref(j->d);
    tags_unref(j->tw);
    pending_unref(j->pi);
    free(j->ref);
    free(j);
}

/* Job data holding new references. NULL on ENOMEM. */
static djob *djob_new(imgsync__dist *d, tags_walk *tw, const char *ref, pending_index *pi)
{
    djob *j = calloc(1, sizeof(*j));
    if (!j || (ref && !(j->ref = imgsync__strdup(ref)))) {
        free(j);
        return NULL;
    }
    if ((j->d = d))
        d->refs++;
    if ((j->tw = tw))
        tw->refs++;
    if ((j->pi = pi))
        pi->refs++;
    return j;
}

/* ---- jobs ----------------------------------------------------------------------------------- */

static int submit(imgsync_run *run, imgsync__dist *d, const char *method, const char *url, int kind,
                  const char *repo, const char *accept, djob *data)
{
    if (!data)
        return IMGSYNC_ENOMEM;
    imgsync__pv_job j = {method, url, d->c.kind_base + kind, d->c.partition, repo, accept, d->c.auth, data, djob_free,
                         NULL};
    return imgsync__pv_submit(run, &j);
}

static int fail_registry(imgsync_run *run, const imgsync__dist *d, int code, const char *msg)
{
    if (d->c.partition[0])
        return imgsync_run_partition_fail(run, d->c.partition, code, msg), code;
    return imgsync_run_fail(run, code, msg), code;
}

static int start_tags(imgsync_run *run, imgsync__dist *d, const char *repo, int named)
{
    char *name = imgsync__asprintf("%s%s", d->c.repo_prefix, repo);
    int rc = name ? imgsync_run_scope_begin(run, d->c.partition, name) : IMGSYNC_ENOMEM;
    tags_walk *tw = rc ? NULL : calloc(1, sizeof(*tw));
    if (rc || !tw || !(tw->repo = imgsync__strdup(repo))) {
        free(tw);
        free(name);
        return rc ? rc : IMGSYNC_ENOMEM;
    }
    tw->name = name;
    tw->refs = 1;
    tw->d = d;
    d->refs++;
    tw->named = named;
    imgsync__pager_init(&tw->pager, run);
    char *url = imgsync__asprintf("%s/%s/tags/list", d->c.base, repo);
    rc = url ? submit(run, d, "GET", url, K_TAGS, tw->name, ACCEPT_JSON, djob_new(NULL, tw, NULL, NULL)) : IMGSYNC_ENOMEM;
    free(url);
    tags_unref(tw);
    return rc;
}

int imgsync__dist_repository(imgsync_run *run, imgsync__dist *d, const char *repository)
{
    if (!imgsync__name_repository_ok(repository)) {
        char *name = imgsync__asprintf("%s%s", d->c.repo_prefix, repository);
        int rc = name ? imgsync_run_scope_fail(run, d->c.partition, name, IMGSYNC_EINVAL, "not a valid repository name")
                      : IMGSYNC_ENOMEM;
        free(name);
        return rc;
    }
    return start_tags(run, d, repository, 1);
}

int imgsync__dist_catalog(imgsync_run *run, imgsync__dist *d)
{
    if (!d->pager_ready) {
        imgsync__pager_init(&d->catalog, run);
        d->pager_ready = 1;
    }
    char *url = imgsync__asprintf("%s/_catalog?n=%ld", d->c.base, d->c.page_size);
    int rc = url ? submit(run, d, "GET", url, K_CATALOG, NULL, ACCEPT_JSON, djob_new(d, NULL, NULL, NULL)) : IMGSYNC_ENOMEM;
    free(url);
    return rc;
}

/* ---- catalog -------------------------------------------------------------------------------- */

static void catalog_end(imgsync_run *run, imgsync__dist *d, int complete)
{
    if (d->c.catalog_done)
        d->c.catalog_done(run, d->c.ud, complete);
    else if (complete)
        imgsync_run_catalog_complete(run);
}

/* The next page's URL (malloc'd). With rebase_root_links, a Link to the host's /v2/ root
 * (Artifactory 6.x drops its "/artifactory/api/docker/{key}" prefix from Link) is taken under
 * the walk's base instead. */
static char *next_url(const imgsync__dist *d, const char *next)
{
    const char *host = strstr(next, "://");
    const char *path = host ? strchr(host + 3, '/') : NULL;
    const char *base_host = strstr(d->c.base, "://");
    const char *base_path = base_host ? strchr(base_host + 3, '/') : NULL;
    if (!d->c.rebase_root_links || !path || !base_path || strncmp(path, "/v2/", 4) || !strcmp(base_path, "/v2"))
        return imgsync__strdup(next);
    return imgsync__asprintf("%s%s", d->c.base, path + 3);
}

/* One repository name of a catalog page. */
static int catalog_item(imgsync_run *run, void *ctx, const char *name)
{
    imgsync__dist *d = ctx;
    if (!imgsync__name_repository_ok(name))
        return imgsync_run_scope_fail(run, d->c.partition, name, IMGSYNC_EPROTOCOL,
                                      "the catalog lists an invalid repository name");
    if (imgsync__map_get(&d->listed, name))
        return 0; /* named again on a later page: already being listed */
    if (imgsync__map_put(&d->listed, name, (void *)1, NULL))
        return IMGSYNC_ENOMEM;
    char *full = imgsync__asprintf("%s%s", d->c.repo_prefix, name);
    if (!full)
        return IMGSYNC_ENOMEM;
    int wanted = imgsync_run_wants_repository(run, full);
    free(full);
    return wanted ? start_tags(run, d, name, 0) : 0;
}

/* Parse a list page into items, the pager counting it. 0, or the scope/registry was failed. */
static int read_list(imgsync__pager *pg, const imgsync_job *job, const imgsync_response *resp, const char *key,
                     int required, const char *not_a_list, imgsync__strlist *items, char *why, size_t whylen)
{
    size_t len;
    const char *body = imgsync_response_body(resp, &len);
    uint64_t room = pg->max_items > pg->items ? pg->max_items - pg->items : 0;
    int present = 0;
    char err[96];
    int rc = imgsync__json_string_array(body, len, key, (size_t)room, items, &present, err, sizeof(err));
    if (rc == IMGSYNC_ETOOBIG)
        snprintf(why, whylen, "the listing holds more than %llu items (max_list_items)", (unsigned long long)pg->max_items);
    else if (rc == IMGSYNC_EPROTOCOL || (!rc && required && !present))
        snprintf(why, whylen, "%s (%s)", not_a_list, rc ? err : "member missing");
    if (!rc && required && !present)
        rc = IMGSYNC_EPROTOCOL;
    if (!rc)
        rc = imgsync__pager_read(pg, imgsync_job_url(job), items->n, why, whylen);
    if (rc)
        imgsync__strlist_free(items);
    return rc;
}

static int on_catalog(imgsync_run *run, const imgsync_job *job, const imgsync_response *resp)
{
    djob *j = imgsync_job_data(job);
    imgsync__dist *d = j->d;
    if (imgsync_response_error(resp) || imgsync_response_status(resp) != 200) {
        if (d->c.partition[0]) {
            imgsync_run_partition_fail(run, d->c.partition, imgsync_response_error(resp) ? imgsync_response_error(resp) : IMGSYNC_EHTTP,
                                       "the catalog could not be read");
            catalog_end(run, d, 0);
            return 0;
        }
        return imgsync_run_fail_response(run, job, resp);
    }
    imgsync__strlist items;
    char why[200];
    int rc = read_list(&d->catalog, job, resp, "repositories", 1, "GET /v2/_catalog: response is not a repository list",
                       &items, why, sizeof(why));
    const char *next = NULL;
    if (!rc)
        rc = imgsync__pager_next(&d->catalog, resp, &next, why, sizeof(why));
    if (rc) {
        imgsync__strlist_free(&items);
        catalog_end(run, d, 0);
        return rc == IMGSYNC_ENOMEM ? rc : (fail_registry(run, d, rc, why), 0);
    }
    if (next) {
        char *copy = next_url(d, next);
        rc = copy ? submit(run, d, "GET", copy, K_CATALOG, NULL, ACCEPT_JSON, djob_new(d, NULL, NULL, NULL)) : IMGSYNC_ENOMEM;
        free(copy);
    } else {
        catalog_end(run, d, 1);
    }
    d->refs++;
    int frc = imgsync__pv_foreach(run, d->c.partition, NULL, &items, catalog_item, d, dist_release);
    return rc ? rc : frc;
}

/* ---- tags ----------------------------------------------------------------------------------- */

/* Hand a finished row to the walk's owner (which may add to it first), or emit it. */
static int dist_emit(imgsync_run *run, tags_walk *tw, imgsync_record *rec, const char *tag, int multi_arch)
{
    const imgsync__dist_config *c = &tw->d->c;
    if (c->emit)
        return c->emit(run, c->ud, rec, tw->repo, tag, multi_arch);
    return imgsync_record_emit(run, rec);
}

int imgsync__dist_is_digest_tag(const char *tag) { return !strncmp(tag, "sha256:", 7) || !strncmp(tag, "sha256__", 8); }

static int emit_plain(imgsync_run *run, tags_walk *tw, const char *tag)
{
    imgsync_record *r = imgsync_record_new(run, tw->name, tag);
    if (!r)
        return IMGSYNC_ENOMEM;
    imgsync_record_set_partition(r, tw->d->c.partition);
    if (tw->d->c.ns)
        imgsync_record_set_namespace(r, tw->d->c.ns);
    return dist_emit(run, tw, r, tag, 0);
}

static int manifest_job(imgsync_run *run, tags_walk *tw, const char *method, const char *tag)
{
    char *url = imgsync__asprintf("%s/%s/manifests/%s", tw->d->c.base, tw->repo, tag);
    int rc = url ? submit(run, tw->d, method, url, K_MANIFEST, tw->name, ACCEPT_MANIFESTS, djob_new(NULL, tw, tag, NULL))
                 : IMGSYNC_ENOMEM;
    free(url);
    return rc;
}

/* One tag of a tags/list page. */
static int tag_item(imgsync_run *run, void *ctx, const char *tag)
{
    tags_walk *tw = ctx;
    if ((tw->d->c.skip_digest_tags && imgsync__dist_is_digest_tag(tag)) || !imgsync_run_wants_tag(run, tag))
        return 0;
    if (tw->d->c.resolve == IMGSYNC__RESOLVE_NONE)
        return emit_plain(run, tw, tag);
    return manifest_job(run, tw, tw->d->c.resolve == IMGSYNC__RESOLVE_FULL ? "GET" : "HEAD", tag);
}

static int first_invalid_tag(const imgsync__dist *d, const imgsync__strlist *tags)
{
    for (size_t i = 0; i < tags->n; i++) {
        const char *tag = imgsync__strlist_at(tags, i);
        if (!imgsync__name_tag_ok(tag) && !(d->c.skip_digest_tags && imgsync__dist_is_digest_tag(tag)))
            return 1;
    }
    return 0;
}

static int on_tags(imgsync_run *run, const imgsync_job *job, const imgsync_response *resp)
{
    tags_walk *tw = ((djob *)imgsync_job_data(job))->tw;
    const char *part = tw->d->c.partition;
    int status = imgsync_response_status(resp);
    if (!imgsync_response_error(resp) && status == 404) {
        /* asked for by name: say it does not exist; found in the catalog: it went away since */
        if (tw->named)
            return imgsync_run_scope_fail(run, part, tw->name, IMGSYNC_ENOTFOUND, "repository not found (HTTP 404)");
        return imgsync_run_scope_listed(run, part, tw->name);
    }
    if (imgsync_response_error(resp) || status != 200)
        return imgsync_run_fail_response(run, job, resp), 0;
    imgsync__strlist tags;
    char why[200];
    int rc = read_list(&tw->pager, job, resp, "tags", 0, "tags/list: response is not a tag list", &tags, why, sizeof(why));
    if (!rc && first_invalid_tag(tw->d, &tags)) {
        snprintf(why, sizeof(why), "tags/list holds an invalid tag");
        rc = IMGSYNC_EPROTOCOL;
    }
    const char *next = NULL;
    if (!rc)
        rc = imgsync__pager_next(&tw->pager, resp, &next, why, sizeof(why));
    if (rc) {
        imgsync__strlist_free(&tags);
        return rc == IMGSYNC_ENOMEM ? rc : (imgsync_run_scope_fail(run, part, tw->name, rc, why), 0);
    }
    /* the tags first: the scope must not commit before their jobs are pending */
    tw->refs++;
    int frc = imgsync__pv_foreach(run, part, tw->name, &tags, tag_item, tw, tags_unref);
    if (frc)
        return frc;
    if (!next)
        return imgsync_run_scope_listed(run, part, tw->name); /* commits once the rest is done */
    char *copy = next_url(tw->d, next);
    rc = copy ? submit(run, tw->d, "GET", copy, K_TAGS, tw->name, ACCEPT_JSON, djob_new(NULL, tw, NULL, NULL))
              : IMGSYNC_ENOMEM;
    free(copy);
    return rc;
}

/* ---- manifests ------------------------------------------------------------------------------ */

/* Media type: the manifest's own mediaType, else Content-Type without parameters. */
static void media_type_of(const imgsync_response *resp, yajl_val manifest, char *out, size_t n)
{
    const char *mt = imgsync__json_string(manifest, "mediaType");
    const char *ct = imgsync_response_header(resp, "Content-Type");
    if (mt && *mt)
        snprintf(out, n, "%s", mt);
    else if (ct)
        snprintf(out, n, "%.*s", (int)strcspn(ct, "; "), ct);
    else
        out[0] = '\0';
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

static int is_list_type(const char *mt) { return !strcmp(mt, MT_OCI_INDEX) || !strcmp(mt, MT_DOCKER_LIST); }

static int is_index(const char *media_type, yajl_val manifest)
{
    return is_list_type(media_type) ||
           (imgsync__json_array(manifest, "manifests") && !imgsync__json_member(manifest, "layers"));
}

static void pending_finish(imgsync_run *run, tags_walk *tw, pending_index *pi)
{
    if (--pi->remaining > 0)
        return;
    imgsync_record_set_size(pi->rec, pi->unknown ? -1 : pi->size);
    imgsync_record *rec = pi->rec;
    pi->rec = NULL;
    int rc = dist_emit(run, tw, rec, pi->tag, 1);
    if (rc && rc != IMGSYNC_EPROTOCOL) /* a lost row must not pass for a complete listing */
        imgsync_run_scope_fail(run, tw->d->c.partition, tw->name, rc, "could not record an index's row");
}

/* An index: its size is the sum of its children's image sizes, fetched by digest. */
static int start_index(imgsync_run *run, tags_walk *tw, imgsync_record *rec, const char *tag, yajl_val manifest)
{
    yajl_val children = imgsync__json_array(manifest, "manifests");
    size_t n = children ? children->u.array.len : 0;
    char *platforms = imgsync__pv_platforms(children);
    if (platforms)
        imgsync_record_set_platforms(rec, platforms);
    free(platforms);
    if (n == 0) {
        imgsync_record_set_size(rec, 0);
        return dist_emit(run, tw, rec, tag, 1);
    }
    pending_index *pi = calloc(1, sizeof(*pi));
    if (!pi || !(pi->tag = imgsync__strdup(tag))) {
        free(pi);
        imgsync_record_free(rec);
        return IMGSYNC_ENOMEM;
    }
    pi->rec = rec;
    pi->refs = 1;
    pi->remaining = (int)n;
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        const char *dg = imgsync__json_string(children->u.array.values[i], "digest");
        if (!imgsync__name_digest_ok(dg) || strncmp(dg, "sha256:", 7)) {
            pi->unknown = 1;
            pending_finish(run, tw, pi);
            continue;
        }
        char *url = imgsync__asprintf("%s/%s/manifests/%s", tw->d->c.base, tw->repo, dg);
        rc = url ? submit(run, tw->d, "GET", url, K_CHILD, tw->name, ACCEPT_MANIFESTS, djob_new(NULL, tw, dg, pi))
                 : IMGSYNC_ENOMEM;
        free(url);
    }
    pending_unref(pi);
    return rc;
}

/* A manifest fetched by HEAD: the digest header is all there is. */
static int on_head(imgsync_run *run, tags_walk *tw, const char *tag, const imgsync_response *resp)
{
    const char *digest = imgsync_response_header(resp, "Docker-Content-Digest");
    if (!imgsync__name_digest_ok(digest)) /* no usable digest header: fetch the manifest and hash it */
        return manifest_job(run, tw, "GET", tag);
    imgsync_record *rec = imgsync_record_new(run, tw->name, tag);
    if (!rec)
        return IMGSYNC_ENOMEM;
    char media_type[128];
    media_type_of(resp, NULL, media_type, sizeof(media_type));
    imgsync_record_set_partition(rec, tw->d->c.partition);
    if (tw->d->c.ns)
        imgsync_record_set_namespace(rec, tw->d->c.ns);
    imgsync_record_set_digest(rec, digest);
    imgsync_record_set_media_type(rec, media_type);
    imgsync_record_set_multi_arch(rec, is_list_type(media_type));
    return dist_emit(run, tw, rec, tag, is_list_type(media_type));
}

static int on_get(imgsync_run *run, tags_walk *tw, const char *tag, const imgsync_response *resp)
{
    const char *part = tw->d->c.partition;
    size_t len;
    const char *body = imgsync_response_body(resp, &len);
    char digest[72], media_type[128], err[64];
    imgsync__pv_sha256(body, len, digest);
    const char *header_digest = imgsync_response_header(resp, "Docker-Content-Digest");
    if (header_digest && imgsync__name_digest_ok(header_digest) && !strncmp(header_digest, "sha256:", 7) &&
        strcmp(header_digest, digest) != 0)
        return imgsync_run_scope_fail(run, part, tw->name, IMGSYNC_EPROTOCOL,
                                      "manifest body does not match its Docker-Content-Digest"), 0;
    yajl_val m = imgsync__json_parse(body, len, err, sizeof(err));
    if (!m || !YAJL_IS_OBJECT(m)) {
        imgsync__json_free(m);
        return imgsync_run_scope_fail(run, part, tw->name, IMGSYNC_EPROTOCOL, "manifest is not a JSON object"), 0;
    }
    imgsync_record *rec = imgsync_record_new(run, tw->name, tag);
    if (!rec) {
        imgsync__json_free(m);
        return IMGSYNC_ENOMEM;
    }
    media_type_of(resp, m, media_type, sizeof(media_type));
    imgsync_record_set_partition(rec, part);
    if (tw->d->c.ns)
        imgsync_record_set_namespace(rec, tw->d->c.ns);
    imgsync_record_set_digest(rec, digest);
    imgsync_record_set_media_type(rec, media_type);
    int rc;
    if (is_index(media_type, m)) {
        imgsync_record_set_multi_arch(rec, 1);
        rc = start_index(run, tw, rec, tag, m);
    } else {
        imgsync_record_set_size(rec, image_size(m));
        rc = dist_emit(run, tw, rec, tag, 0);
    }
    imgsync__json_free(m);
    return rc;
}

static int on_manifest(imgsync_run *run, const imgsync_job *job, const imgsync_response *resp)
{
    djob *j = imgsync_job_data(job);
    int status = imgsync_response_status(resp);
    if (!imgsync_response_error(resp) && status == 404)
        return 0; /* the tag was deleted after it was listed */
    if (imgsync_response_error(resp) || status != 200)
        return imgsync_run_fail_response(run, job, resp), 0;
    if (!strcmp(imgsync_job_method(job), "HEAD"))
        return on_head(run, j->tw, j->ref, resp);
    return on_get(run, j->tw, j->ref, resp);
}

/* A child of an index, fetched by digest: verified against it before its size counts. */
static int on_child(imgsync_run *run, const imgsync_job *job, const imgsync_response *resp)
{
    djob *j = imgsync_job_data(job);
    int status = imgsync_response_status(resp);
    if (imgsync_response_error(resp) || (status != 200 && status != 404))
        return imgsync_run_fail_response(run, job, resp), 0;
    int64_t size = -1;
    if (status == 200) {
        size_t len;
        const char *body = imgsync_response_body(resp, &len);
        char digest[72], err[64];
        imgsync__pv_sha256(body, len, digest);
        if (strcmp(digest, j->ref) != 0)
            return imgsync_run_scope_fail(run, j->tw->d->c.partition, j->tw->name, IMGSYNC_EPROTOCOL,
                                          "a child manifest of an index does not match its digest"), 0;
        yajl_val m = imgsync__json_parse(body, len, err, sizeof(err));
        size = m ? image_size(m) : -1;
        imgsync__json_free(m);
    }
    pending_index *pi = j->pi;
    if (size < 0 || pi->size > INT64_MAX - size)
        pi->unknown = 1;
    else
        pi->size += size;
    pending_finish(run, j->tw, pi);
    return 0;
}

int imgsync__dist_on_response(imgsync_run *run, imgsync_job *job, const imgsync_response *resp, int kind_base,
                              int *rc)
{
    switch (imgsync_job_kind(job) - kind_base) {
    case K_CATALOG: *rc = on_catalog(run, job, resp); return 1;
    case K_TAGS: *rc = on_tags(run, job, resp); return 1;
    case K_MANIFEST: *rc = on_manifest(run, job, resp); return 1;
    case K_CHILD: *rc = on_child(run, job, resp); return 1;
    default: return 0;
    }
}
