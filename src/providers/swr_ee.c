/* Provider "swr-enterprise": Huawei Cloud SWR Enterprise Edition (see
 * shared/reference/swr-jfrog-oci-api.md sections 2 and 3).
 *
 * Authentication (AK/SK signing or an IAM token, the classification of 401/403 answers) is
 * huawei_auth.h's, with service "SWR Enterprise Edition"; this file is the listing:
 *   (without option project_id: GET {iam_endpoint}/v3/projects?name={region} first, §3.1)
 *   GET /v2/{project_id}/instances?limit&offset          {"instances":[…],"total":N}
 *     (or GET /v2/{project_id}/instances/{id} with option instance_id)
 *   per Running instance:
 *   GET /v2/{project_id}/instances/{id}/repositories?…   {"total":N,"repositories":[…]}
 *     (GET …/namespaces/{ns}/repositories per namespace the request is limited to)
 *   per repository:
 *   GET …/namespaces/{ns}/repositories/{name, '/' as %2F}/artifacts?limit&offset
 *                                                        {"artifacts":[…],"total":N}
 * Paging: offset a multiple of limit (limit <= 100); a walk stops on a short page or when the
 * body's total is reached. One row per tag (untagged artifacts with include_untagged).
 *
 * Why not the namespace list: every repository item carries its namespace_name, so the
 * instance-wide repository list gives the same repositories without 1 + one-per-namespace
 * requests. Why not the instance-wide artifact list (next_marker): its items name no namespace
 * (only namespace_id), it cannot be narrowed to named repositories or namespaces, a failed page
 * would fail the whole instance instead of one repository, and no repository is complete
 * (committed) before the last page of a strictly sequential walk.
 *
 * Partitions are instance ids, so the same ns/repo in two instances are two scopes. An
 * instance that is not Running is skipped with a note (its rows are kept); an instance whose
 * repository list fails fails alone (its rows are kept). */
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

enum { K_TOKEN = 1, K_PROJECT, K_INSTANCES, K_INSTANCE, K_REPOS, K_ARTIFACTS };

#define MAX_PAGE 100 /* §2: limit at most 100 everywhere */
#define SERVICE "SWR Enterprise Edition"
#define MT_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define MT_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"

typedef struct ee_run {
    imgsync__huawei_auth auth;
    long page_size;
    int include_untagged;
    const char *only;      /* option instance_id */
    char *project;         /* project id found by the IAM lookup (option project_id unset) */
    int lists;             /* instance and repository list walks still running */
    int named;             /* repositories named in the request: fetched, nothing listed */
    int catalog_broken;    /* an unusable instance item: nothing is pruned */
    imgsync__map started;  /* "instance\trepository" of artifact walks already started */
    imgsync__map instances; /* ids of the instances seen (a page shifted by a new instance
                             * repeats one: it is listed, or noted, once) */
} ee_run;

/* An instance as its rows name it. */
typedef struct ee_instance {
    char *id, *name, *host;
} ee_instance;

/* What an instance's repository list or a repository's artifact list is of (the payload of its
 * imgsync__huawei_list; the instance list and the lookups have none). */
typedef struct ee_of {
    ee_instance in;
    char *ns;         /* K_REPOS: the hinted namespace (NULL: all of them); K_ARTIFACTS */
    char *repository; /* K_ARTIFACTS: "ns/name" */
    int named;        /* K_ARTIFACTS: named in the request (a 404 is "no tags") */
} ee_of;

static const char *opt(const imgsync_run *run, const char *key)
{
    const char *v = imgsync_run_option(run, key);
    return v && *v ? v : NULL;
}

static int ee_check_option(const char *key, const char *value, char *err, size_t errlen)
{
    int b;
    if (!strcmp(key, "page_size") && imgsync__huawei_list_check_page_size(value, MAX_PAGE, err, errlen))
        return IMGSYNC_EINVAL;
    if (!strcmp(key, "include_untagged") && imgsync__parse_bool(value, &b)) {
        snprintf(err, errlen, "must be true or false");
        return IMGSYNC_EINVAL;
    }
    if (!strcmp(key, "instance_id") && !imgsync__name_label_ok(value)) {
        snprintf(err, errlen, "must be an instance id (letters, digits, '-', '_', '.')");
        return IMGSYNC_EINVAL;
    }
    if (!strcmp(key, "page_size") || !strcmp(key, "include_untagged") || !strcmp(key, "instance_id"))
        return 0;
    return imgsync__huawei_auth_check_option(key, value, err, errlen);
}

/* ---- walks -------------------------------------------------------------------------------- */

static void instance_clear(ee_instance *in)
{
    free(in->id);
    free(in->name);
    free(in->host);
}

static int instance_copy(ee_instance *to, const ee_instance *from)
{
    to->id = imgsync__strdup(from->id);
    to->name = imgsync__strdup(from->name);
    to->host = imgsync__strdup(from->host);
    return to->id && to->name && to->host ? 0 : IMGSYNC_ENOMEM;
}

static void of_free(void *p)
{
    ee_of *of = p;
    if (!of)
        return;
    instance_clear(&of->in);
    free(of->ns);
    free(of->repository);
    free(of);
}

/* A list of `base` (taken, NULL = ENOMEM) of what `tmpl` says (copied), on the scope of its
 * instance and repository; NULL on ENOMEM. */
static imgsync__huawei_list *of_list_new(imgsync_run *run, int kind, char *base, const ee_of *tmpl)
{
    ee_run *st = imgsync_run_data(run);
    ee_of *of = calloc(1, sizeof(*of));
    if (!of || instance_copy(&of->in, &tmpl->in) || (tmpl->ns && !(of->ns = imgsync__strdup(tmpl->ns))) ||
        (tmpl->repository && !(of->repository = imgsync__strdup(tmpl->repository)))) {
        of_free(of);
        free(base);
        return NULL;
    }
    of->named = tmpl->named;
    imgsync__huawei_list *l = imgsync__huawei_list_new(run, &st->auth, kind, base, st->page_size);
    return imgsync__huawei_list_hold(l, of, of_free, of->in.id, of->repository);
}

/* The page's array `member` of at most page_size items (and its "total" into l), or NULL when
 * the body is not such an envelope. *root gets the document to free. */
static yajl_val page_items(const ee_run *st, imgsync__huawei_list *l, const imgsync_response *resp, const char *member,
                           yajl_val *root)
{
    *root = imgsync__pv_json_body(resp);
    yajl_val items = imgsync__json_array(*root, member);
    if (!items || items->u.array.len > (size_t)st->page_size)
        return NULL;
    int64_t total;
    if (!imgsync__json_int(*root, "total", &total) && total >= 0)
        l->total = total;
    return items;
}

/* ---- catalog ------------------------------------------------------------------------------ */

/* A listing walk ended (done or failed): once none runs, the catalog is complete - unless the
 * request named repositories (nothing was listed) or an instance item was unusable. */
static void list_done(imgsync_run *run)
{
    ee_run *st = imgsync_run_data(run);
    if (--st->lists == 0 && !st->named && !st->catalog_broken)
        imgsync_run_catalog_complete(run);
}

static void catalog_broken(imgsync_run *run, const char *message)
{
    ee_run *st = imgsync_run_data(run);
    imgsync__pv_catalog_broken(run, &st->catalog_broken, message);
}

/* Fail one instance (its rows are kept): the reason names it. */
static void instance_fail(imgsync_run *run, const ee_instance *in, int code, const char *why)
{
    char msg[600];
    snprintf(msg, sizeof(msg), "registry '%s': instance %s (%s): %s", imgsync_run_name(run), in->name, in->id, why);
    imgsync_run_partition_fail(run, in->id, code, msg);
}

/* A listing job of one instance answered something else than 200: 401 fails the run (wrong
 * credentials), anything else that instance only. */
static void instance_fail_http(imgsync_run *run, const ee_instance *in, const imgsync_job *job,
                               const imgsync_response *resp, const char *what)
{
    int status = imgsync_response_status(resp);
    if (!imgsync_response_error(resp) && status == 401) {
        imgsync__huawei_auth_fail_http(run, job, resp, what, SERVICE);
        return;
    }
    char why[300];
    int code = imgsync__huawei_auth_describe(resp, what, SERVICE, why, sizeof(why));
    instance_fail(run, in, code, why);
}

/* ---- artifacts ---------------------------------------------------------------------------- */

/* What every row of one artifact shares. */
typedef struct artifact_info {
    const char *digest, *media_type, *type;
    int64_t size, push_ms;
    int multi;
} artifact_info;

static int emit_row(imgsync_run *run, const ee_of *of, const artifact_info *ai, const char *tag, int64_t push_ms)
{
    imgsync_record *r = imgsync_record_new(run, of->repository, tag);
    if (!r)
        return IMGSYNC_ENOMEM;
    imgsync_record_set_partition(r, of->in.id);
    imgsync_record_set_namespace(r, of->ns);
    imgsync_record_set_host(r, of->in.host);
    imgsync_record_set_instance_id(r, of->in.id);
    imgsync_record_set_instance_name(r, of->in.name);
    imgsync_record_set_digest(r, ai->digest);
    imgsync_record_set_media_type(r, ai->media_type);
    imgsync_record_set_artifact_type(r, ai->type);
    imgsync_record_set_size(r, ai->size);
    imgsync_record_set_update_ms(r, push_ms ? push_ms : ai->push_ms);
    imgsync_record_set_multi_arch(r, ai->multi);
    return imgsync_record_emit(run, r);
}

/* One row per tag, or one untagged row (tag "") when asked and there is none. A tag without a
 * usable name (absent, not a string, a NUL) is EPROTOCOL: never stored under another name. */
static int emit_tags(imgsync_run *run, const ee_of *of, const artifact_info *ai, yajl_val a)
{
    ee_run *st = imgsync_run_data(run);
    yajl_val tags = imgsync__json_array(a, "tags");
    yajl_val given = imgsync__json_member(a, "tags");
    if (!tags && given && !YAJL_IS_NULL(given))
        return IMGSYNC_EPROTOCOL; /* tags of another type: not "untagged" (its rows would go) */
    size_t n = tags ? tags->u.array.len : 0;
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        yajl_val t = tags->u.array.values[i];
        const char *tag = imgsync__json_string(t, "name");
        if (!tag || !*tag)
            return IMGSYNC_EPROTOCOL;
        rc = emit_row(run, of, ai, tag, imgsync__pv_time_ms(imgsync__json_string(t, "push_time")));
    }
    if (!rc && n == 0 && st->include_untagged)
        rc = emit_row(run, of, ai, "", 0);
    return rc;
}

/* The rows of one artifact (non-images only when the request asks for them). */
static int emit_artifact(imgsync_run *run, const ee_of *of, yajl_val a)
{
    const char *type = imgsync__json_string(a, "type");
    if (type && strcmp(type, "IMAGE") != 0 && !imgsync_run_include_non_images(run))
        return 0;
    const char *digest = imgsync__json_string(a, "digest");
    if (!imgsync__name_digest_ok(digest))
        return IMGSYNC_EPROTOCOL;
    /* the manifest's media type says what the tag is (media_type is the config's for images) */
    const char *mt = imgsync__json_string(a, "manifest_media_type");
    if (!mt || !*mt)
        mt = imgsync__json_string(a, "media_type");
    artifact_info ai = {digest, mt ? mt : "", type ? type : "", -1, 0, 0};
    imgsync__json_int(a, "size", &ai.size);
    ai.push_ms = imgsync__pv_time_ms(imgsync__json_string(a, "push_time"));
    ai.multi = mt && (!strcmp(mt, MT_OCI_INDEX) || !strcmp(mt, MT_DOCKER_LIST));
    return emit_tags(run, of, &ai, a);
}

static int on_artifacts(imgsync_run *run, const imgsync_job *job, const imgsync_response *resp)
{
    imgsync__huawei_list *l = imgsync_job_data(job);
    const ee_of *of = l->data;
    ee_run *st = imgsync_run_data(run);
    int status = imgsync_response_status(resp);
    if (!imgsync_response_error(resp) && status == 404 && of->named) /* named, does not exist: no tags */
        return imgsync_run_scope_listed(run, of->in.id, of->repository);
    if (imgsync_response_error(resp) || status != 200)
        return imgsync__huawei_auth_fail_http(run, job, resp, "GET artifacts", SERVICE);
    yajl_val root, items = page_items(st, l, resp, "artifacts", &root);
    int rc = items ? 0 : IMGSYNC_EPROTOCOL;
    size_t n = items ? items->u.array.len : 0;
    for (size_t i = 0; i < n && !rc; i++)
        rc = emit_artifact(run, of, items->u.array.values[i]);
    imgsync__json_free(root);
    if (rc == IMGSYNC_EPROTOCOL) {
        imgsync_run_scope_fail(run, of->in.id, of->repository, rc,
                               items ? "SWR EE listed an artifact without a valid digest or tag name"
                                     : "the artifact list is not {\"artifacts\":[...]} of at most page_size items");
        return 0;
    }
    return rc ? rc : imgsync__huawei_list_scope_next(run, l, job, n);
}

/* ---- repositories ------------------------------------------------------------------------- */

/* An item of the lazy list of artifact walks: "id\tname\thost\tns\trepository\tnamed" (a string,
 * so that long lists cost no walk until their turn comes). */
enum { F_ID, F_NAME, F_HOST, F_NS, F_REPOSITORY, F_NAMED, F_COUNT };

/* The artifacts walk of the item's repository:
 * /v2/{project}/instances/{id}/namespaces/{ns}/repositories/{name with '/' as %2F}/artifacts. */
static imgsync__huawei_list *artifacts_list_new(imgsync_run *run, char *const f[F_COUNT])
{
    ee_run *st = imgsync_run_data(run);
    const char *name = f[F_REPOSITORY] + strlen(f[F_NS]) + 1;
    char *ens = imgsync__url_escape_segment(f[F_NS]);
    char *ename = imgsync__url_escape_segment(name); /* §2: "a/b" is sent as "a%2Fb" */
    char *base = ens && ename ? imgsync__asprintf("/v2/%s/instances/%s/namespaces/%s/repositories/%s/artifacts",
                                                  st->auth.project_id, f[F_ID], ens, ename)
                              : NULL;
    free(ens);
    free(ename);
    ee_of of = {{f[F_ID], f[F_NAME], f[F_HOST]}, f[F_NS], f[F_REPOSITORY], f[F_NAMED][0] == '1'};
    return of_list_new(run, K_ARTIFACTS, base, &of);
}

/* imgsync__pv_foreach's callback: begin the item's scope and walk its artifacts. */
static int start_artifacts(imgsync_run *run, void *ctx, const char *item)
{
    (void)ctx;
    char *copy = imgsync__strdup(item);
    char *f[F_COUNT] = {0};
    int rc = copy ? imgsync__pv_split(copy, '\t', f, F_COUNT) : IMGSYNC_ENOMEM;
    if (!rc)
        rc = imgsync__huawei_list_begin(run, artifacts_list_new(run, f));
    free(copy);
    return rc;
}

/* Queue the artifacts walk of one repository of one instance (once per scope in the run). */
static int queue_repository(imgsync_run *run, imgsync__strlist *todo, const ee_instance *in, const char *ns,
                            const char *repository, int named)
{
    ee_run *st = imgsync_run_data(run);
    int rc = imgsync__pv_scope_first(&st->started, in->id, repository);
    if (rc <= 0)
        return rc;
    char *item = imgsync__asprintf("%s\t%s\t%s\t%s\t%s\t%d", in->id, in->name, in->host, ns, repository, named);
    rc = item ? imgsync__strlist_add(todo, item, strlen(item)) : IMGSYNC_ENOMEM;
    free(item);
    return rc;
}

/* One repository item: its artifacts walk queued when the request wants it. An item without a
 * usable namespace or name fails its instance (whose rows are then all kept). */
static int repo_item(imgsync_run *run, const ee_of *of, imgsync__strlist *todo, yajl_val it)
{
    const char *ns = imgsync__json_string(it, "namespace_name");
    const char *name = imgsync__json_string(it, "name");
    char *repository = ns && name ? imgsync__asprintf("%s/%s", ns, name) : NULL;
    int rc = 0;
    if (!ns || !name || !imgsync__name_component_ok(ns) || !imgsync__name_repository_ok(repository)) {
        if (ns && name && !repository)
            return IMGSYNC_ENOMEM;
        instance_fail(run, &of->in, IMGSYNC_EPROTOCOL, "SWR EE listed a repository without a valid namespace_name "
                                                       "and name: nothing of this instance is removed");
    } else if (imgsync_run_wants_repository(run, repository)) {
        rc = queue_repository(run, todo, &of->in, ns, repository, 0);
    }
    free(repository);
    return rc;
}

/* After a repository list page of n items: its next page, or the end of the walk. */
static int repos_continue(imgsync_run *run, imgsync__huawei_list *l, const imgsync_job *job, size_t n)
{
    const ee_of *of = l->data;
    char why[300] = "";
    int rc = imgsync__huawei_list_next(run, l, job, n, why, sizeof(why));
    if (rc == IMGSYNC_ENOMEM)
        return rc;
    if (rc < 0)
        instance_fail(run, &of->in, rc, why);
    if (rc <= 0)
        list_done(run);
    return 0;
}

static int on_repos(imgsync_run *run, const imgsync_job *job, const imgsync_response *resp)
{
    imgsync__huawei_list *l = imgsync_job_data(job);
    const ee_of *of = l->data;
    ee_run *st = imgsync_run_data(run);
    int status = imgsync_response_status(resp);
    if (!imgsync_response_error(resp) && status == 404 && of->ns) { /* a hinted namespace it does not have */
        list_done(run);
        return 0;
    }
    if (imgsync_response_error(resp) || status != 200) {
        instance_fail_http(run, &of->in, job, resp, "GET repositories");
        list_done(run);
        return 0;
    }
    yajl_val root, items = page_items(st, l, resp, "repositories", &root);
    int rc = 0;
    imgsync__strlist todo = {0};
    for (size_t i = 0; items && i < items->u.array.len && !rc; i++)
        rc = repo_item(run, of, &todo, items->u.array.values[i]);
    size_t n = items ? items->u.array.len : 0;
    imgsync__json_free(root);
    if (!items) {
        instance_fail(run, &of->in, IMGSYNC_EPROTOCOL, "the repository list is not {\"repositories\":[...]} of at "
                                                      "most page_size items");
        list_done(run);
        return 0;
    }
    if (!rc)
        rc = imgsync__pv_foreach(run, of->in.id, NULL, &todo, start_artifacts, NULL, NULL);
    imgsync__strlist_free(&todo);
    return rc ? rc : repos_continue(run, l, job, n);
}

/* ---- instances ---------------------------------------------------------------------------- */

/* The repository walk of a Running instance: the whole instance, or one hinted namespace
 * (created_at ascending, so that repositories created meanwhile come last, not in between). */
static int start_repo_walk(imgsync_run *run, const ee_instance *in, const char *ns)
{
    ee_run *st = imgsync_run_data(run);
    char *ens = ns ? imgsync__url_escape_segment(ns) : NULL;
    char *base = imgsync__asprintf("/v2/%s/instances/%s/%s%s%srepositories?order_column=created_at&order_type=asc",
                                   st->auth.project_id, in->id, ns ? "namespaces/" : "", ens ? ens : "",
                                   ns ? "/" : "");
    free(ens);
    ee_of of = {*in, (char *)ns, NULL, 0};
    imgsync__huawei_list *l = of_list_new(run, K_REPOS, base, &of);
    int rc = l ? imgsync__huawei_list_submit(run, l) : IMGSYNC_ENOMEM;
    imgsync__huawei_list_unref(l);
    if (!rc)
        st->lists++;
    return rc;
}

/* Repositories named in the request, in this instance: fetched directly without listing. */
static int start_named(imgsync_run *run, const ee_instance *in)
{
    imgsync__strlist todo = {0};
    int rc = 0;
    for (size_t i = 0; i < imgsync_run_repository_count(run) && !rc; i++) {
        const char *name = imgsync_run_repository(run, i);
        size_t nslen = strcspn(name, "/");
        char *ns = imgsync__strndup(name, nslen);
        if (!ns)
            rc = IMGSYNC_ENOMEM;
        else if (!imgsync__name_repository_ok(name) || !name[nslen])
            imgsync_run_scope_fail(run, in->id, name, IMGSYNC_EINVAL,
                                   "not an SWR EE repository name (namespace/repository)");
        else
            rc = queue_repository(run, &todo, in, ns, name, 1);
        free(ns);
    }
    if (rc) {
        imgsync__strlist_free(&todo);
        return rc;
    }
    return imgsync__pv_foreach(run, in->id, NULL, &todo, start_artifacts, NULL, NULL);
}

/* List a Running instance: named repositories, hinted namespaces, or everything. */
static int list_instance(imgsync_run *run, const ee_instance *in)
{
    ee_run *st = imgsync_run_data(run);
    if (st->named)
        return start_named(run, in);
    size_t hints = imgsync_run_namespace_hint_count(run);
    int rc = hints ? 0 : start_repo_walk(run, in, NULL);
    for (size_t i = 0; i < hints && !rc; i++)
        rc = start_repo_walk(run, in, imgsync_run_namespace_hint(run, i));
    return rc;
}

/* The registry host of access_address (a scheme and path, if any, dropped), or NULL. */
static char *access_host(const char *addr)
{
    if (!addr)
        return NULL;
    const char *p = strstr(addr, "://");
    p = p ? p + 3 : addr;
    return imgsync__pv_host_dup(p, strcspn(p, "/"));
}

/* An instance name fit for a row and a message (printable, no tab), else the id. */
static const char *display_name(const char *name, const char *id)
{
    if (!name || !*name || strlen(name) > 128)
        return id;
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return id;
    return name;
}

/* One instance item: Running ones are listed, the others noted (their rows are kept). */
static int instance_item(imgsync_run *run, yajl_val it)
{
    const char *id = imgsync__json_string(it, "id");
    const char *status = imgsync__json_string(it, "status");
    if (!imgsync__name_label_ok(id) || !status) {
        catalog_broken(run, "SWR EE listed an instance without a valid id or status: nothing is removed");
        return 0;
    }
    ee_run *st = imgsync_run_data(run);
    if (imgsync__map_get(&st->instances, id))
        return 0;
    if (imgsync__map_put(&st->instances, id, (void *)1, NULL))
        return IMGSYNC_ENOMEM;
    ee_instance in = {(char *)id, (char *)display_name(imgsync__json_string(it, "name"), id), NULL};
    char msg[400];
    if (strcmp(status, "Running") != 0) {
        snprintf(msg, sizeof(msg), "instance %s skipped: status %.40s", in.name, status);
        return imgsync_run_partition_fail(run, id, 0, msg);
    }
    if (!(in.host = access_host(imgsync__json_string(it, "access_address")))) {
        instance_fail(run, &in, IMGSYNC_EPROTOCOL, "Running without a usable access_address");
        return 0;
    }
    int rc = list_instance(run, &in);
    free(in.host);
    return rc;
}

/* After an instance list page of n items: its next page, or the end of that listing walk. */
static int instances_continue(imgsync_run *run, imgsync__huawei_list *l, const imgsync_job *job, size_t n)
{
    int rc = imgsync__huawei_list_run_next(run, l, job, n, "GET instances");
    if (rc == 1)
        list_done(run);
    return rc < 0 ? rc : 0;
}

static int on_instances(imgsync_run *run, const imgsync_job *job, const imgsync_response *resp)
{
    imgsync__huawei_list *l = imgsync_job_data(job);
    ee_run *st = imgsync_run_data(run);
    if (imgsync_response_error(resp) || imgsync_response_status(resp) != 200)
        return imgsync__huawei_auth_fail_http(run, job, resp, "GET instances", SERVICE);
    if (imgsync_run_mode_of(run) == IMGSYNC_RUN_CHECK)
        return 0;
    yajl_val root, items = page_items(st, l, resp, "instances", &root);
    if (!items) {
        imgsync__json_free(root);
        imgsync_run_fail(run, IMGSYNC_EPROTOCOL,
                         "GET instances: the response is not {\"instances\":[...]} of at most page_size items");
        return 0;
    }
    int rc = 0;
    size_t n = items->u.array.len;
    for (size_t i = 0; i < n && !rc; i++)
        rc = instance_item(run, items->u.array.values[i]);
    imgsync__json_free(root);
    return rc ? rc : instances_continue(run, l, job, n);
}

/* ShowInstance (option instance_id): that instance alone. */
static int on_instance(imgsync_run *run, const imgsync_job *job, const imgsync_response *resp)
{
    ee_run *st = imgsync_run_data(run);
    if (!imgsync_response_error(resp) && imgsync_response_status(resp) == 404) {
        char msg[300];
        snprintf(msg, sizeof(msg), "registry '%s': SWR EE has no instance '%s' (option instance_id)",
                 imgsync_run_name(run), st->only);
        imgsync_run_fail(run, IMGSYNC_ENOTFOUND, msg);
        return 0;
    }
    if (imgsync_response_error(resp) || imgsync_response_status(resp) != 200)
        return imgsync__huawei_auth_fail_http(run, job, resp, "GET instance", SERVICE);
    if (imgsync_run_mode_of(run) == IMGSYNC_RUN_CHECK)
        return 0;
    yajl_val root = imgsync__pv_json_body(resp);
    const char *id = imgsync__json_string(root, "id");
    int rc = 0;
    if (!id || strcmp(id, st->only) != 0)
        imgsync_run_fail(run, IMGSYNC_EPROTOCOL, "GET instance: the answer is not the instance asked for");
    else
        rc = instance_item(run, root);
    imgsync__json_free(root);
    if (!rc)
        list_done(run);
    return rc;
}

/* ---- vtable ------------------------------------------------------------------------------- */

static void ee_run_free(void *p)
{
    ee_run *st = p;
    imgsync__huawei_auth_clear(&st->auth);
    imgsync__map_clear(&st->started);
    imgsync__map_clear(&st->instances);
    free(st->project);
    free(st);
}

/* The first listing: the instance list (one item for a connection check), or the instance the
 * options name. */
static int start_listing(imgsync_run *run)
{
    ee_run *st = imgsync_run_data(run);
    if (imgsync_run_mode_of(run) == IMGSYNC_RUN_CHECK)
        st->page_size = 1; /* one small page tells whether the credentials may use SWR EE */
    st->named = imgsync_run_mode_of(run) == IMGSYNC_RUN_SYNC && imgsync_run_repository_count(run) > 0;
    char *base = st->only ? imgsync__asprintf("/v2/%s/instances/%s", st->auth.project_id, st->only)
                          : imgsync__asprintf("/v2/%s/instances", st->auth.project_id);
    /* ShowInstance answers one object: no limit/offset */
    imgsync__huawei_list *l = st->only ? imgsync__huawei_list_new(run, &st->auth, K_INSTANCE, base, 0)
                                       : imgsync__huawei_list_new(run, &st->auth, K_INSTANCES, base, st->page_size);
    if (!l)
        return IMGSYNC_ENOMEM;
    st->lists = 1;
    int rc = imgsync__huawei_list_submit(run, l);
    imgsync__huawei_list_unref(l);
    return rc;
}

/* No project_id option: GET {iam}/v3/projects?name={region} first (signed, or with the token). */
static int start_lookup(imgsync_run *run)
{
    ee_run *st = imgsync_run_data(run);
    char *url = NULL;
    int rc = imgsync__huawei_auth_projects_url(run, &st->auth, &url);
    if (rc)
        return rc;
    imgsync__huawei_list *l = imgsync__huawei_list_new(run, &st->auth, K_PROJECT, url, 0); /* one answer */
    rc = l ? imgsync__huawei_list_submit(run, l) : IMGSYNC_ENOMEM;
    imgsync__huawei_list_unref(l);
    return rc;
}

/* The id of the project named after the region in an IAM project list, or NULL. */
static const char *project_of(yajl_val root, const char *region)
{
    yajl_val projects = imgsync__json_array(root, "projects");
    for (size_t i = 0; projects && i < projects->u.array.len; i++) {
        yajl_val p = projects->u.array.values[i];
        const char *name = imgsync__json_string(p, "name"), *id = imgsync__json_string(p, "id");
        if (name && !strcmp(name, region) && imgsync__name_label_ok(id) && strlen(id) <= 64)
            return id;
    }
    return NULL;
}

/* The project lookup's answer: the listing starts with the id found (also sent as X-Project-Id
 * from then on, as the SDK does). */
static int on_project(imgsync_run *run, const imgsync_job *job, const imgsync_response *resp)
{
    ee_run *st = imgsync_run_data(run);
    char why[300], msg[500];
    if (!imgsync_response_error(resp) && imgsync_response_status(resp) == 401)
        return imgsync__huawei_auth_fail_http(run, job, resp, "IAM (GET /v3/projects)", SERVICE);
    if (imgsync_response_error(resp) || imgsync_response_status(resp) != 200) {
        int code = imgsync__huawei_auth_describe(resp, "IAM (GET /v3/projects)", "IAM", why, sizeof(why));
        snprintf(msg, sizeof(msg), "registry '%s': cannot look up the project id of region %s: %s; set option "
                 "'project_id'", imgsync_run_name(run), st->auth.region, why);
        imgsync_run_fail(run, code, msg);
        return 0;
    }
    yajl_val root = imgsync__pv_json_body(resp);
    const char *id = project_of(root, st->auth.region);
    if (id && !(st->project = imgsync__strdup(id))) {
        imgsync__json_free(root);
        return IMGSYNC_ENOMEM;
    }
    imgsync__json_free(root);
    if (!id) {
        snprintf(msg, sizeof(msg), "registry '%s': IAM lists no project named %s; set option 'project_id'",
                 imgsync_run_name(run), st->auth.region);
        imgsync_run_fail(run, IMGSYNC_ENOTFOUND, msg);
        return 0;
    }
    st->auth.project_id = st->project;
    return start_listing(run);
}

static int ee_start(imgsync_run *run)
{
    ee_run *st = calloc(1, sizeof(*st));
    if (!st)
        return IMGSYNC_ENOMEM;
    imgsync__map_init(&st->started);
    imgsync__map_init(&st->instances);
    imgsync_run_set_data(run, st, ee_run_free);
    st->page_size = imgsync__huawei_list_page_size(run, MAX_PAGE);
    const char *v = opt(run, "include_untagged");
    if (v)
        imgsync__parse_bool(v, &st->include_untagged);
    st->only = opt(run, "instance_id");
    int rc = imgsync__huawei_list_start(run, &st->auth, SERVICE, "swr-api", K_TOKEN);
    if (rc)
        return rc;
    if (!st->auth.project_id) /* every SWR EE path holds it (§2): ask IAM (§3.1) */
        return start_lookup(run);
    return start_listing(run);
}

static int ee_on_response(imgsync_run *run, imgsync_job *job, const imgsync_response *resp)
{
    ee_run *st = imgsync_run_data(run);
    int kind = imgsync_job_kind(job), rc;
    if (kind != K_TOKEN && (kind < K_PROJECT || kind > K_ARTIFACTS || !imgsync_job_data(job)))
        return IMGSYNC_EINTERNAL;
    if (imgsync__huawei_list_handled(run, &st->auth, job, resp, &rc))
        return rc;
    switch (kind) {
    case K_PROJECT:
        return on_project(run, job, resp);
    case K_INSTANCES:
        return on_instances(run, job, resp);
    case K_INSTANCE:
        return on_instance(run, job, resp);
    case K_REPOS:
        return on_repos(run, job, resp);
    default:
        return on_artifacts(run, job, resp);
    }
}

static int ee_sign(imgsync_run *run, const imgsync_job *job, imgsync_attempt *a)
{
    ee_run *st = imgsync_run_data(run);
    return imgsync__huawei_list_sign(run, job, a, &st->auth);
}

const imgsync_provider_vtable imgsync__swr_enterprise_provider = {
    .version = IMGSYNC_PROVIDER_VTABLE_VERSION,
    .kind = "swr-enterprise",
    .type = IMGSYNC_TYPE_SWR_ENTERPRISE,
    .check_option = ee_check_option,
    .start = ee_start,
    .on_response = ee_on_response,
    .sign = ee_sign,
    /* its secrets (password, sk, security_token) are among the common ones: no secret_options */
};
