/* Providers "swr-private" and "swr-shared": Huawei Cloud SWR (basic edition) API v2 (see
 * shared/reference/swr-jfrog-oci-api.md sections 1 and 3).
 *
 * One implementation for both kinds. Authentication (AK/SK signing or an IAM token, and the
 * classification of 401/403 answers) is huawei_auth.h's; this file is the listing.
 *
 * Private: GET /v2/manage/repos?limit=N&offset=O (bare JSON array), then per repository
 * GET /v2/manage/namespaces/{ns}/repos/{name, '/' written '$'}/tags?limit=N&offset=O.
 * Shared: GET /v2/manage/shared-repositories?center=thirdparty&limit=N&offset=O, tags through
 * the owner's namespace; the partition of a shared scope is the owner (domain_name).
 * Paging: offset a multiple of limit; the total from Content-Range ("{offset}-{count}/{total}":
 * the number after '/') or the items' total_range; a walk stops on a short page or when the
 * total is reached. One row per tag. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "imgsync/sys/provider.h"
#include "providers/common.h"
#include "providers/huawei_auth.h"
#include "providers/huawei_list.h"
#include "util/buf.h"
#include "util/json.h"
#include "util/map.h"
#include "util/names.h"
#include "util/timeutil.h"
#include "util/url.h"

enum { K_TOKEN = 1, K_REPOS, K_TAGS };

#define MAX_PAGE 1000
#define SWR_ITEM_SEP '\t'

typedef struct swr_run {
    imgsync__huawei_auth auth;
    int shared;            /* swr-shared */
    long page_size;
    char *default_host;    /* swr.{region}.myhuaweicloud.com */
    int repo_walks;        /* repository list walks still running (hinted lists: several) */
    int repos_started;     /* every repository walk has been submitted */
    int catalog_broken;    /* an item of the repository list was unusable: nothing is pruned */
    imgsync__map started;  /* "partition\trepository" of tag walks already started */
} swr_run;

/* What a tags list is of (the payload of its imgsync__huawei_list; a repository list has none). */
typedef struct tags_of {
    char *repository;  /* "namespace/name" */
    char *ns;
    char *partition;   /* shared: the owner; else "" */
    char *host;
    int expired;       /* shared: the share has expired */
    int named;         /* named in the request (fetched directly) */
} tags_of;

static int swr_check_option(const char *key, const char *value, char *err, size_t errlen)
{
    if (!strcmp(key, "page_size"))
        return imgsync__huawei_list_check_page_size(value, MAX_PAGE, err, errlen);
    return imgsync__huawei_auth_check_option(key, value, err, errlen);
}

/* ---- pages ------------------------------------------------------------------------------- */

/* The total of a page: Content-Range's number after '/', else the first item's total_range. */
static void read_total(imgsync__huawei_list *l, const imgsync_response *resp, yajl_val root)
{
    const char *cr = imgsync_response_header(resp, "Content-Range");
    const char *slash = cr ? strchr(cr, '/') : NULL;
    long long t;
    if (slash) {
        char num[32];
        size_t n = strcspn(slash + 1, " \t");
        if (n < sizeof(num)) {
            memcpy(num, slash + 1, n);
            num[n] = '\0';
            if (!imgsync__parse_i64(num, 0, INT64_MAX, &t)) {
                l->total = t;
                return;
            }
        }
    }
    int64_t tr;
    if (root && root->u.array.len && !imgsync__json_int(root->u.array.values[0], "total_range", &tr) && tr >= 0)
        l->total = tr;
}

/* The page's JSON array of at most page_size items, or NULL (freed) when it is not one. */
static yajl_val page_items(const swr_run *st, const imgsync_response *resp)
{
    yajl_val root = imgsync__pv_json_body(resp);
    if (root && YAJL_IS_ARRAY(root) && root->u.array.len <= (size_t)st->page_size)
        return root;
    imgsync__json_free(root);
    return NULL;
}

/* ---- listing ------------------------------------------------------------------------------ */

#define SERVICE "SWR" /* in "not authorized for SWR" */

/* Name in the tags path: every segment escaped, '/' written as '$' (SWR FAQ, reference 1.1). */
static char *dollar_name(const char *name)
{
    imgsync__buf b;
    imgsync__buf_init(&b);
    int rc = 0;
    for (const char *p = name; !rc;) {
        size_t n = strcspn(p, "/");
        char *seg = imgsync__strndup(p, n);
        char *esc = seg ? imgsync__url_escape_segment(seg) : NULL;
        rc = esc ? imgsync__buf_appends(&b, esc) : IMGSYNC_ENOMEM;
        free(seg);
        free(esc);
        if (!p[n])
            break;
        if (!rc)
            rc = imgsync__buf_appendc(&b, '$');
        p += n + 1;
    }
    if (rc) {
        imgsync__buf_free(&b);
        return NULL;
    }
    return imgsync__buf_steal(&b);
}

/* Host of a "host/ns/repo" path, when it looks like one; else NULL. */
static char *host_of_path(const char *path)
{
    if (!path)
        return NULL;
    size_t n = strcspn(path, "/");
    return path[n] ? imgsync__pv_host_dup(path, n) : NULL;
}

/* An item of the lazy list of tag walks: "repository\thost\tpartition\texpired\tnamed" (a
 * string, so that long lists cost no walk until their turn comes). */
enum { F_REPOSITORY, F_HOST, F_PARTITION, F_EXPIRED, F_NAMED, F_COUNT };

static void tags_of_free(void *p)
{
    tags_of *t = p;
    if (!t)
        return;
    free(t->repository);
    free(t->ns);
    free(t->partition);
    free(t->host);
    free(t);
}

/* The tags path of "ns/name": /v2/manage/namespaces/{ns}/repos/{dollar name}/tags, or NULL. */
static char *tags_base(const char *repository)
{
    size_t nslen = strcspn(repository, "/");
    char *ns = imgsync__strndup(repository, nslen);
    char *ens = ns ? imgsync__url_escape_segment(ns) : NULL;
    char *dn = ens ? dollar_name(repository + nslen + 1) : NULL;
    char *base = dn ? imgsync__asprintf("/v2/manage/namespaces/%s/repos/%s/tags", ens, dn) : NULL;
    free(ns);
    free(ens);
    free(dn);
    return base;
}

/* The tags list of an item's fields (its scope: partition, repository), NULL on ENOMEM. */
static imgsync__huawei_list *item_list_new(imgsync_run *run, char *const f[F_COUNT])
{
    swr_run *st = imgsync_run_data(run);
    tags_of *t = calloc(1, sizeof(*t));
    if (!t)
        return NULL;
    t->repository = imgsync__strdup(f[F_REPOSITORY]);
    t->ns = imgsync__strndup(f[F_REPOSITORY], strcspn(f[F_REPOSITORY], "/"));
    t->partition = imgsync__strdup(f[F_PARTITION]);
    t->host = imgsync__strdup(f[F_HOST][0] ? f[F_HOST] : st->default_host);
    t->expired = f[F_EXPIRED][0] == '1';
    t->named = f[F_NAMED][0] == '1';
    if (!t->repository || !t->ns || !t->partition || !t->host) {
        tags_of_free(t);
        return NULL;
    }
    imgsync__huawei_list *l = imgsync__huawei_list_new(run, &st->auth, K_TAGS, tags_base(t->repository), st->page_size);
    return imgsync__huawei_list_hold(l, t, tags_of_free, t->partition, t->repository);
}

/* imgsync__pv_foreach's callback: begin the item's scope and walk its tags. */
static int start_tags(imgsync_run *run, void *ctx, const char *item)
{
    (void)ctx;
    char *copy = imgsync__strdup(item);
    if (!copy)
        return IMGSYNC_ENOMEM;
    char *f[F_COUNT] = {0};
    int rc = imgsync__pv_split(copy, SWR_ITEM_SEP, f, F_COUNT);
    if (!rc)
        rc = imgsync__huawei_list_begin(run, item_list_new(run, f));
    free(copy);
    return rc;
}

/* Queue the tags walk of one repository (once per scope in the run). */
static int queue_repository(imgsync_run *run, imgsync__strlist *todo, const char *repository, const char *host,
                            const char *partition, int expired, int named)
{
    swr_run *st = imgsync_run_data(run);
    int rc = imgsync__pv_scope_first(&st->started, partition, repository);
    if (rc <= 0)
        return rc;
    char *item = imgsync__asprintf("%s\t%s\t%s\t%d\t%d", repository, host ? host : "", partition, expired, named);
    rc = item ? imgsync__strlist_add(todo, item, strlen(item)) : IMGSYNC_ENOMEM;
    free(item);
    return rc;
}

static void maybe_catalog_complete(imgsync_run *run)
{
    swr_run *st = imgsync_run_data(run);
    if (st->repos_started && st->repo_walks == 0 && !st->catalog_broken)
        imgsync_run_catalog_complete(run);
}

/* An item of the repository list names no usable repository (or owner): the list is not known
 * to be complete, so no repository is removed; the error is recorded once. */
static void catalog_broken(imgsync_run *run, const char *message)
{
    swr_run *st = imgsync_run_data(run);
    imgsync__pv_catalog_broken(run, &st->catalog_broken, message);
}

/* Repositories named in the request, fetched directly without listing. */
static int start_named(imgsync_run *run)
{
    imgsync__strlist todo = {0};
    int rc = 0;
    for (size_t i = 0; i < imgsync_run_repository_count(run) && !rc; i++) {
        const char *name = imgsync_run_repository(run, i);
        if (!imgsync__name_repository_ok(name) || !strchr(name, '/')) {
            imgsync_run_repository_fail(run, name, IMGSYNC_EINVAL,
                                        "not an SWR repository name (namespace/repository)");
            continue;
        }
        rc = queue_repository(run, &todo, name, NULL, "", 0, 1);
    }
    if (rc) {
        imgsync__strlist_free(&todo);
        return rc;
    }
    return imgsync__pv_foreach(run, NULL, NULL, &todo, start_tags, NULL, NULL);
}

/* Base URL of a repository list walk: the whole list, or one hinted namespace's. */
static char *repos_base(imgsync_run *run, const char *hint)
{
    swr_run *st = imgsync_run_data(run);
    const char *path = st->shared ? "/v2/manage/shared-repositories?center=thirdparty" : "/v2/manage/repos";
    if (!hint)
        return imgsync__strdup(path);
    char *ns = imgsync__url_escape(hint, NULL);
    char *base = ns ? imgsync__asprintf("%s%cnamespace=%s", path, st->shared ? '&' : '?', ns) : NULL;
    free(ns);
    return base;
}

/* Walk the repository list: once, or once per namespace the request's filters name. */
static int start_repo_walks(imgsync_run *run)
{
    swr_run *st = imgsync_run_data(run);
    size_t hints = imgsync_run_mode_of(run) == IMGSYNC_RUN_SYNC ? imgsync_run_namespace_hint_count(run) : 0;
    for (size_t i = 0; i < (hints ? hints : 1); i++) {
        char *base = repos_base(run, hints ? imgsync_run_namespace_hint(run, i) : NULL);
        imgsync__huawei_list *l = imgsync__huawei_list_new(run, &st->auth, K_REPOS, base, st->page_size);
        int rc = l ? imgsync__huawei_list_submit(run, l) : IMGSYNC_ENOMEM;
        imgsync__huawei_list_unref(l);
        if (rc)
            return rc;
        st->repo_walks++;
    }
    st->repos_started = 1;
    return 0;
}

static int start_listing(imgsync_run *run)
{
    swr_run *st = imgsync_run_data(run);
    if (imgsync_run_mode_of(run) == IMGSYNC_RUN_CHECK) {
        /* one page of the repository list tells whether the credentials may use SWR */
        st->page_size = 1;
    }
    /* a shared repository needs its owner, which only the shared list tells, so swr-shared
     * always lists */
    if (imgsync_run_repository_count(run) && !st->shared && imgsync_run_mode_of(run) == IMGSYNC_RUN_SYNC)
        return start_named(run);
    return start_repo_walks(run);
}

/* The owner (domain_name) and share status of a shared-list item. 0, or 1 when it has no valid
 * owner (the catalog is then broken). */
static int shared_owner(imgsync_run *run, yajl_val it, const char **owner, int *expired)
{
    *owner = imgsync__json_string(it, "domain_name");
    /* [INFER] reference 1.2: for thirdparty shares `status` tells whether the share has expired
     * (true = expired) */
    yajl_val status = imgsync__json_member(it, "status");
    *expired = status && YAJL_IS_TRUE(status);
    if (*owner && imgsync__name_label_ok(*owner))
        return 0;
    catalog_broken(run, "SWR listed a shared repository without a valid owner (domain_name): nothing is removed");
    return 1;
}

/* One item of a repository list: its tags walk queued on todo when the request wants it.
 * Unusable items are reported and skipped. 0 or ENOMEM. */
static int repo_item(imgsync_run *run, imgsync__strlist *todo, yajl_val it)
{
    swr_run *st = imgsync_run_data(run);
    const char *ns = imgsync__json_string(it, "namespace");
    const char *name = imgsync__json_string(it, "name");
    if (!ns || !name) {
        catalog_broken(run, "SWR listed a repository without a namespace or name: nothing is removed");
        return 0;
    }
    const char *owner = "";
    int expired = 0;
    if (st->shared && shared_owner(run, it, &owner, &expired))
        return 0;
    char *repository = imgsync__asprintf("%s/%s", ns, name);
    if (!repository)
        return IMGSYNC_ENOMEM;
    int rc = 0;
    if (!imgsync__name_component_ok(ns) || !imgsync__name_repository_ok(repository)) {
        imgsync_run_scope_fail(run, owner, "", IMGSYNC_EPROTOCOL, "SWR listed an invalid repository name");
    } else if (imgsync_run_wants_repository(run, repository)) {
        char *host = host_of_path(imgsync__json_string(it, "path"));
        rc = queue_repository(run, todo, repository, host, owner, expired, 0);
        free(host);
    }
    free(repository);
    return rc;
}

/* The items of a repository list page: their tag walks started (or deferred). */
static int repo_items(imgsync_run *run, yajl_val root)
{
    int rc = 0;
    imgsync__strlist todo = {0};
    for (size_t i = 0; i < root->u.array.len && !rc; i++)
        rc = repo_item(run, &todo, root->u.array.values[i]);
    if (rc) {
        imgsync__strlist_free(&todo);
        return rc;
    }
    return imgsync__pv_foreach(run, NULL, NULL, &todo, start_tags, NULL, NULL);
}

/* After a repository list page of n items: its next page, or the end of the walk (the catalog
 * is complete once every walk ended). */
static int repos_continue(imgsync_run *run, imgsync__huawei_list *l, const imgsync_job *job, size_t n,
                          const char *what)
{
    swr_run *st = imgsync_run_data(run);
    int rc = imgsync__huawei_list_run_next(run, l, job, n, what);
    if (rc == 1) {
        st->repo_walks--;
        maybe_catalog_complete(run);
    }
    return rc < 0 ? rc : 0;
}

static int on_repos(imgsync_run *run, const imgsync_job *job, const imgsync_response *resp)
{
    imgsync__huawei_list *l = imgsync_job_data(job);
    swr_run *st = imgsync_run_data(run);
    const char *what = st->shared ? "GET /v2/manage/shared-repositories" : "GET /v2/manage/repos";
    if (imgsync_response_error(resp) || imgsync_response_status(resp) != 200)
        return imgsync__huawei_auth_fail_http(run, job, resp, what, SERVICE);
    if (imgsync_run_mode_of(run) == IMGSYNC_RUN_CHECK)
        return 0;
    yajl_val root = page_items(st, resp);
    if (!root) {
        char msg[200];
        snprintf(msg, sizeof(msg), "%s: the response is not a JSON array of at most %ld repositories", what,
                 st->page_size);
        imgsync_run_fail(run, IMGSYNC_EPROTOCOL, msg);
        return 0;
    }
    read_total(l, resp, root);
    int rc = repo_items(run, root);
    size_t n = root->u.array.len;
    imgsync__json_free(root);
    return rc ? rc : repos_continue(run, l, job, n, what);
}

static int emit_tag(imgsync_run *run, const tags_of *of, yajl_val t)
{
    swr_run *st = imgsync_run_data(run);
    const char *tag = imgsync__json_string(t, "Tag");
    if (!tag) /* SWR names every tag: an item without one (or with a NUL) is a listing we cannot trust */
        return IMGSYNC_EPROTOCOL;
    imgsync_record *r = imgsync_record_new(run, of->repository, tag);
    if (!r)
        return IMGSYNC_ENOMEM;
    int64_t size = -1, tag_type = 0;
    imgsync__json_int(t, "size", &size);
    imgsync__json_int(t, "tag_type", &tag_type);
    imgsync_record_set_type(r, st->shared ? IMGSYNC_TYPE_SWR_SHARED : IMGSYNC_TYPE_SWR_PRIVATE);
    imgsync_record_set_namespace(r, of->ns);
    imgsync_record_set_host(r, of->host);
    const char *digest = imgsync__json_string(t, "digest");
    if (digest)
        imgsync_record_set_digest(r, digest);
    imgsync_record_set_size(r, size);
    imgsync_record_set_update_ms(r, imgsync__pv_time_ms(imgsync__json_string(t, "updated")));
    imgsync_record_set_created_ms(r, imgsync__pv_time_ms(imgsync__json_string(t, "created")));
    imgsync_record_set_multi_arch(r, tag_type == 1);
    if (st->shared) {
        imgsync_record_set_partition(r, of->partition);
        imgsync_record_set_owner(r, of->partition);
        imgsync_record_set_share_status(r, of->expired ? "expired" : "effective");
    }
    return imgsync_record_emit(run, r);
}

static int on_tags(imgsync_run *run, const imgsync_job *job, const imgsync_response *resp)
{
    imgsync__huawei_list *l = imgsync_job_data(job);
    const tags_of *of = l->data;
    swr_run *st = imgsync_run_data(run);
    int status = imgsync_response_status(resp);
    if (!imgsync_response_error(resp) && status == 404 && of->named) {
        /* a repository named in the request that does not exist: it has no tags */
        return imgsync_run_scope_listed(run, of->partition, of->repository);
    }
    if (imgsync_response_error(resp) || status != 200)
        return imgsync__huawei_auth_fail_http(run, job, resp, "GET tags", SERVICE);
    yajl_val root = page_items(st, resp);
    if (!root) {
        char msg[200];
        snprintf(msg, sizeof(msg), "tag list is not a JSON array of at most %ld tags", st->page_size);
        imgsync_run_scope_fail(run, of->partition, of->repository, IMGSYNC_EPROTOCOL, msg);
        return 0;
    }
    read_total(l, resp, root);
    int rc = 0;
    for (size_t i = 0; i < root->u.array.len && !rc; i++)
        rc = emit_tag(run, of, root->u.array.values[i]);
    size_t n = root->u.array.len;
    imgsync__json_free(root);
    if (rc == IMGSYNC_EPROTOCOL) {
        imgsync_run_scope_fail(run, of->partition, of->repository, rc, "SWR listed an invalid tag");
        return 0;
    }
    return rc ? rc : imgsync__huawei_list_scope_next(run, l, job, n);
}

/* ---- vtable ------------------------------------------------------------------------------- */

static void swr_run_free(void *p)
{
    swr_run *st = p;
    imgsync__huawei_auth_clear(&st->auth);
    free(st->default_host);
    imgsync__map_clear(&st->started);
    free(st);
}

static int swr_start_kind(imgsync_run *run, int shared)
{
    swr_run *st = calloc(1, sizeof(*st));
    if (!st)
        return IMGSYNC_ENOMEM;
    imgsync__map_init(&st->started);
    imgsync_run_set_data(run, st, swr_run_free);
    st->shared = shared;
    st->page_size = imgsync__huawei_list_page_size(run, MAX_PAGE);
    int rc = imgsync__huawei_list_start(run, &st->auth, SERVICE, "swr-api", K_TOKEN);
    if (rc)
        return rc;
    if (!(st->default_host = imgsync__asprintf("swr.%s.myhuaweicloud.com", st->auth.region)))
        return IMGSYNC_ENOMEM;
    return start_listing(run);
}

static int swr_private_start(imgsync_run *run) { return swr_start_kind(run, 0); }
static int swr_shared_start(imgsync_run *run) { return swr_start_kind(run, 1); }

static int swr_on_response(imgsync_run *run, imgsync_job *job, const imgsync_response *resp)
{
    swr_run *st = imgsync_run_data(run);
    int kind = imgsync_job_kind(job), rc;
    if (kind != K_TOKEN && kind != K_REPOS && kind != K_TAGS)
        return IMGSYNC_EINTERNAL;
    if (imgsync__huawei_list_handled(run, &st->auth, job, resp, &rc))
        return rc;
    return kind == K_REPOS ? on_repos(run, job, resp) : on_tags(run, job, resp);
}

static int swr_sign(imgsync_run *run, const imgsync_job *job, imgsync_attempt *a)
{
    swr_run *st = imgsync_run_data(run);
    return imgsync__huawei_list_sign(run, job, a, &st->auth);
}

static const char *const swr_secrets[] = {"password", "sk", "security_token", NULL};

const imgsync_provider_vtable imgsync__swr_private_provider = {
    .version = IMGSYNC_PROVIDER_VTABLE_VERSION,
    .kind = "swr-private",
    .type = IMGSYNC_TYPE_SWR_PRIVATE,
    .check_option = swr_check_option,
    .start = swr_private_start,
    .on_response = swr_on_response,
    .sign = swr_sign,
    .secret_options = swr_secrets,
};

const imgsync_provider_vtable imgsync__swr_shared_provider = {
    .version = IMGSYNC_PROVIDER_VTABLE_VERSION,
    .kind = "swr-shared",
    .type = IMGSYNC_TYPE_SWR_SHARED,
    .check_option = swr_check_option,
    .start = swr_shared_start,
    .on_response = swr_on_response,
    .sign = swr_sign,
    .secret_options = swr_secrets,
};
