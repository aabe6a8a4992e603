/* Provider "harbor": Harbor REST API v2.0 (see shared/reference/harbor-api.md).
 *
 * GET /api/version (404 = Harbor 1.x) -> GET /api/v2.0/systeminfo (no harbor_version = the
 * credentials were rejected: Harbor answers bad credentials as anonymous) -> projects ->
 * repositories -> artifacts?with_tag=true, every list paged with page/page_size, following Link
 * and cross-checked against X-Total-Count (offset paging shifts when someone pushes during the
 * walk: items are deduplicated and a short walk is repeated; a walk still short after that fails
 * its scope, so that a listing known to be incomplete never allows pruning). One row per tag.
 * Project and repository walks start as the run has room for more jobs (see "lazy expansion"). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "imgsync/sys/provider.h"
#include "providers/common.h"
#include "providers/platform.h"
#include "util/buf.h"
#include "util/json.h"
#include "util/map.h"
#include "util/names.h"
#include "util/timeutil.h"
#include "util/url.h"

enum { K_VERSION = 1, K_SYSINFO, K_PROJECTS, K_REPOS, K_ARTIFACTS };

#define API "/api/v2.0"
#define MAX_WALKS 3 /* a list walk is repeated at most this many times when items went missing */
#define MT_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define MT_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"

typedef struct harbor_run {
    long page_size;
    int include_untagged;
    int project_walks; /* project repository walks still running */
    int projects_listed;
    imgsync__map started; /* "p:NAME" projects and "r:NAME" repositories already walked */
} harbor_run;

/* One paged list being walked (projects, a project's repositories or a repository's
 * artifacts), shared by the jobs of its pages. */
typedef struct walk {
    int refs;
    int kind;
    char *project;     /* K_REPOS, K_ARTIFACTS */
    char *repository;  /* K_ARTIFACTS: full name "project/path" */
    char *first_url;   /* page 1, to walk again */
    imgsync__map seen; /* ids already handled */
    imgsync__pager pager; /* pages of this pass (a Link that loops is refused) and the limits */
    int64_t total;     /* last X-Total-Count, -1 unknown */
    int attempts;
} walk;

/* ---- options ------------------------------------------------------------------------------ */

static int harbor_check_option(const char *key, const char *value, char *err, size_t errlen)
{
    if (!strcmp(key, "page_size")) {
        long long n;
        if (imgsync__parse_i64(value, 1, 100, &n)) { /* Harbor answers 422 above 100 */
            snprintf(err, errlen, "must be an integer from 1 to 100");
            return IMGSYNC_EINVAL;
        }
        return 0;
    }
    if (!strcmp(key, "include_untagged")) {
        int b;
        if (imgsync__parse_bool(value, &b)) {
            snprintf(err, errlen, "must be true or false");
            return IMGSYNC_EINVAL;
        }
        return 0;
    }
    return IMGSYNC_ENOTFOUND;
}

/* ---- walks -------------------------------------------------------------------------------- */

static void walk_unref(void *p)
{
    walk *w = p;
    if (!w || --w->refs > 0)
        return;
    imgsync__map_clear(&w->seen);
    imgsync__pager_clear(&w->pager);
    free(w->project);
    free(w->repository);
    free(w->first_url);
    free(w);
}

static walk *walk_new(const imgsync_run *run, int kind, const char *project, const char *repository,
                      const char *first_url)
{
    walk *w = calloc(1, sizeof(*w));
    if (!w)
        return NULL;
    w->refs = 1;
    w->kind = kind;
    w->total = -1;
    imgsync__map_init(&w->seen);
    imgsync__pager_init(&w->pager, run);
    w->project = imgsync__strdup(project);
    w->repository = imgsync__strdup(repository);
    w->first_url = imgsync__strdup(first_url);
    if ((project && !w->project) || (repository && !w->repository) || !w->first_url) {
        walk_unref(w);
        return NULL;
    }
    return w;
}

/* Submit one page of a walk (the job holds a reference). */
static int submit_page(imgsync_run *run, walk *w, const char *url)
{
    imgsync_job *job = imgsync_job_new(run, "GET", url);
    if (!job)
        return IMGSYNC_ENOMEM;
    imgsync_job_set_kind(job, w->kind);
    w->refs++;
    imgsync_job_set_data(job, w, walk_unref);
    int rc = imgsync_job_add_header(job, "Accept: application/json");
    if (!rc)
        rc = imgsync_job_set_auth(job, IMGSYNC_AUTH_BASIC);
    if (!rc && w->repository && w->kind == K_ARTIFACTS)
        rc = imgsync_job_set_repository(job, w->repository);
    if (rc) {
        imgsync_job_free(job);
        return rc;
    }
    return imgsync_job_submit(job);
}

/* After a page of n items: 1 when a next page or a repeat walk was submitted, 0 when the walk
 * is done, negative on error with the reason in why (the caller fails the walk's scope). */
static int walk_continue(imgsync_run *run, walk *w, const imgsync_job *job, const imgsync_response *resp, size_t n,
                         char *why, size_t whylen)
{
    const char *total = imgsync_response_header(resp, "X-Total-Count");
    long long t;
    if (total && !imgsync__parse_i64(total, 0, INT64_MAX, &t))
        w->total = t;
    const char *next = NULL;
    int rc = imgsync__pager_read(&w->pager, imgsync_job_url(job), n, why, whylen);
    if (!rc)
        rc = imgsync__pager_next(&w->pager, resp, &next, why, whylen);
    if (rc)
        return rc;
    if (next) {
        rc = submit_page(run, w, next);
        return rc ? rc : 1;
    }
    /* The walk ended: if fewer distinct items than the server counts were seen, something was
     * pushed while paging (offset pages shifted); walk again, the seen set skips duplicates. */
    if (w->total < 0 || (int64_t)w->seen.count >= w->total)
        return 0;
    if (++w->attempts < MAX_WALKS) {
        imgsync__pager_restart(&w->pager); /* a new pass reads the pages again */
        rc = submit_page(run, w, w->first_url);
        return rc ? rc : 1;
    }
    snprintf(why, whylen, "the listing stayed short: %zu items seen of the %lld Harbor counts, after %d passes",
             w->seen.count, (long long)w->total, MAX_WALKS);
    return IMGSYNC_EPROTOCOL;
}

/* Remember an item id; 1 when it is new (also when it cannot be remembered for want of memory:
 * handling an item twice is harmless, the core keeps one row per tag; skipping it is not). */
static int walk_first_time(walk *w, const char *id)
{
    if (imgsync__map_get(&w->seen, id))
        return 0;
    imgsync__map_put(&w->seen, id, (void *)1, NULL);
    return 1;
}

/* ---- URLs --------------------------------------------------------------------------------- */

/* `name` without its project prefix, URL-encoded twice as Harbor's router requires (a/b ->
 * a%252Fb); the project name is encoded once. */
static char *artifacts_url(const char *project, const char *repository, long page_size)
{
    const char *rest = repository + strlen(project) + 1;
    char *p = imgsync__url_escape_segment(project);
    char *once = imgsync__url_escape(rest, NULL);
    char *twice = once ? imgsync__url_escape(once, NULL) : NULL;
    char *url = p && twice ? imgsync__asprintf(API "/projects/%s/repositories/%s/artifacts?with_tag=true&page=1"
                                                   "&page_size=%ld",
                                               p, twice, page_size)
                           : NULL;
    free(p);
    free(once);
    free(twice);
    return url;
}

/* 1 the first time `name` of this kind ("p" or "r") is started in the run, 0 afterwards (two
 * hinted project lists, or pages that repeat an item, can name it again), negative on ENOMEM. */
static int first_start(harbor_run *st, char kind, const char *name)
{
    char *key = imgsync__asprintf("%c:%s", kind, name);
    if (!key)
        return IMGSYNC_ENOMEM;
    int rc = 0;
    if (!imgsync__map_get(&st->started, key))
        rc = imgsync__map_put(&st->started, key, (void *)1, NULL) ? IMGSYNC_ENOMEM : 1;
    free(key);
    return rc;
}

static int start_artifacts(imgsync_run *run, const char *repository)
{
    harbor_run *st = imgsync_run_data(run);
    int first = first_start(st, 'r', repository);
    if (first <= 0)
        return first;
    const char *slash = strchr(repository, '/');
    if (!slash || slash == repository || !slash[1] || !imgsync__name_repository_ok(repository))
        return imgsync_run_repository_fail(run, repository, IMGSYNC_EPROTOCOL,
                                           "not a valid Harbor repository name (project/name)");
    char *project = imgsync__strndup(repository, (size_t)(slash - repository));
    char *url = project ? artifacts_url(project, repository, st->page_size) : NULL;
    walk *w = url ? walk_new(run, K_ARTIFACTS, project, repository, url) : NULL;
    int rc = w ? imgsync_run_repository_begin(run, repository) : IMGSYNC_ENOMEM;
    if (!rc)
        rc = submit_page(run, w, url);
    walk_unref(w);
    free(url);
    free(project);
    return rc;
}

/* Walk the repositories of a project that queue_project counted. */
static int start_project(imgsync_run *run, const char *project)
{
    harbor_run *st = imgsync_run_data(run);
    char *p = imgsync__url_escape_segment(project);
    char *url = p ? imgsync__asprintf(API "/projects/%s/repositories?page=1&page_size=%ld", p, st->page_size) : NULL;
    walk *w = url ? walk_new(run, K_REPOS, project, NULL, url) : NULL;
    int rc = w ? submit_page(run, w, url) : IMGSYNC_ENOMEM;
    walk_unref(w);
    free(url);
    free(p);
    return rc;
}

/* ---- lazy expansion ------------------------------------------------------------------------
 * Every project of a projects page and every repository of a repositories page (or of the
 * request) starts a walk, i.e. a job. Submitted all at once, a large Harbor took the run past
 * the hard bound on pending jobs (imgsync_job_submit: ETOOBIG, the registry failed) and held
 * every job in memory. The names are collected instead and expanded by imgsync__pv_foreach,
 * which starts walks while the run has room (max_pending_jobs) and defers the rest. */

static int project_item(imgsync_run *run, void *ctx, const char *project)
{
    (void)ctx;
    return start_project(run, project);
}

static int repository_item(imgsync_run *run, void *ctx, const char *repository)
{
    (void)ctx;
    return start_artifacts(run, repository);
}

/* Add a project to walk (once per run: two hinted lists can name it). It counts as a running
 * walk from now on, so that the catalog is not complete while it waits for room. */
static int queue_project(imgsync_run *run, imgsync__strlist *todo, const char *name)
{
    harbor_run *st = imgsync_run_data(run);
    int first = first_start(st, 'p', name);
    if (first <= 0)
        return first;
    int rc = imgsync__strlist_add(todo, name, strlen(name));
    if (!rc)
        st->project_walks++;
    return rc;
}

/* Start the walks of todo now or as the run has room (takes the list). Jobs that fail to
 * start fail the run, as they did when submitted at once. */
static int expand(imgsync_run *run, imgsync__strlist *todo, imgsync__pv_item_fn fn)
{
    return imgsync__pv_foreach(run, NULL, NULL, todo, fn, NULL, NULL);
}

/* The repositories the request names, each fetched directly. */
static int start_named_repositories(imgsync_run *run)
{
    imgsync__strlist todo = {0};
    for (size_t i = 0; i < imgsync_run_repository_count(run); i++) {
        const char *name = imgsync_run_repository(run, i);
        if (imgsync__strlist_add(&todo, name, strlen(name))) {
            imgsync__strlist_free(&todo);
            return IMGSYNC_ENOMEM;
        }
    }
    return expand(run, &todo, repository_item);
}

/* The repository list is complete once the project list and every project's walk ended. */
static void maybe_catalog_complete(imgsync_run *run)
{
    harbor_run *st = imgsync_run_data(run);
    if (st->projects_listed && st->project_walks == 0)
        imgsync_run_catalog_complete(run);
}

/* ---- vtable: start ------------------------------------------------------------------------ */

static void harbor_run_free(void *p)
{
    harbor_run *st = p;
    imgsync__map_clear(&st->started);
    free(st);
}

static int harbor_start(imgsync_run *run)
{
    harbor_run *st = calloc(1, sizeof(*st));
    if (!st)
        return IMGSYNC_ENOMEM;
    imgsync__map_init(&st->started);
    st->page_size = 100;
    long long n;
    const char *v = imgsync_run_option(run, "page_size");
    if (v && !imgsync__parse_i64(v, 1, 100, &n))
        st->page_size = (long)n;
    v = imgsync_run_option(run, "include_untagged");
    if (v)
        imgsync__parse_bool(v, &st->include_untagged);
    imgsync_run_set_data(run, st, harbor_run_free);
    imgsync__pv_job version = {"GET", "/api/version", K_VERSION, NULL, NULL, NULL, IMGSYNC_AUTH_BASIC, NULL, NULL, NULL};
    return imgsync__pv_submit(run, &version);
}

/* ---- responses ---------------------------------------------------------------------------- */

static yajl_val parse_body(const imgsync_response *resp)
{
    size_t len;
    const char *body = imgsync_response_body(resp, &len);
    char err[64];
    return imgsync__json_parse(body, len, err, sizeof(err));
}

/* A string member holding an escaped NUL (the JSON layer types it neither string nor null). */
static int holds_nul(yajl_val obj, const char *key)
{
    yajl_val v = imgsync__json_member(obj, key);
    return v && v->type == yajl_t_any;
}

/* A page longer than the page size asked for is not Harbor's: refuse it before walking it. */
static int page_ok(const harbor_run *st, yajl_val root)
{
    return root && YAJL_IS_ARRAY(root) && root->u.array.len <= (size_t)st->page_size;
}

static int on_version(imgsync_run *run, const imgsync_job *job, const imgsync_response *resp)
{
    int status = imgsync_response_status(resp);
    if (!imgsync_response_error(resp) && status == 404) {
        imgsync_run_fail(run, IMGSYNC_EUNSUPPORTED,
                         "Harbor 1.x is not supported (GET /api/version gave 404; API v2.0 is required)");
        return 0;
    }
    if (imgsync_response_error(resp) || status != 200)
        return imgsync_run_fail_response(run, job, resp);
    imgsync__pv_job sysinfo = {"GET", API "/systeminfo", K_SYSINFO, NULL, NULL, "Accept: application/json",
                               IMGSYNC_AUTH_BASIC, NULL, NULL, NULL};
    return imgsync__pv_submit(run, &sysinfo);
}

static int on_sysinfo(imgsync_run *run, const imgsync_job *job, const imgsync_response *resp)
{
    if (imgsync_response_error(resp) || imgsync_response_status(resp) != 200)
        return imgsync_run_fail_response(run, job, resp);
    yajl_val root = parse_body(resp);
    if (!root || !YAJL_IS_OBJECT(root)) {
        imgsync__json_free(root);
        imgsync_run_fail(run, IMGSYNC_EPROTOCOL, "GET " API "/systeminfo: not a JSON object (is this Harbor?)");
        return 0;
    }
    /* Harbor fills harbor_version only for authenticated callers. */
    int authenticated = imgsync__json_string(root, "harbor_version") != NULL;
    imgsync__json_free(root);
    if (imgsync_run_option(run, "username") && !authenticated) {
        imgsync_run_fail(run, IMGSYNC_EAUTH,
                         "Harbor did not accept the credentials (systeminfo answered as for an anonymous "
                         "caller); check the username, password or robot secret");
        return 0;
    }
    if (imgsync_run_mode_of(run) == IMGSYNC_RUN_CHECK)
        return 0;
    if (imgsync_run_repository_count(run)) /* specific repositories: fetched directly, no walk */
        return start_named_repositories(run);
    harbor_run *st = imgsync_run_data(run);
    size_t hints = imgsync_run_namespace_hint_count(run);
    if (hints) { /* namespace filters name the projects: ask for those only */
        for (size_t i = 0; i < hints; i++) {
            char *name = imgsync__url_escape(imgsync_run_namespace_hint(run, i), NULL);
            char *url = name ? imgsync__asprintf(API "/projects?name=%s&page=1&page_size=%ld&with_detail=false", name,
                                                 st->page_size)
                             : NULL;
            walk *w = url ? walk_new(run, K_PROJECTS, NULL, NULL, url) : NULL;
            int rc = w ? submit_page(run, w, url) : IMGSYNC_ENOMEM;
            walk_unref(w);
            free(url);
            free(name);
            if (rc)
                return rc;
            st->project_walks++; /* each hinted list counts as a walk that must end */
        }
        st->projects_listed = 1;
        return 0;
    }
    char url[128];
    snprintf(url, sizeof(url), API "/projects?page=1&page_size=%ld&with_detail=false", st->page_size);
    walk *w = walk_new(run, K_PROJECTS, NULL, NULL, url);
    int rc = w ? submit_page(run, w, url) : IMGSYNC_ENOMEM;
    walk_unref(w);
    return rc;
}

static int on_projects(imgsync_run *run, const imgsync_job *job, const imgsync_response *resp)
{
    walk *w = imgsync_job_data(job);
    harbor_run *st = imgsync_run_data(run);
    int hinted = imgsync_run_namespace_hint_count(run) > 0;
    if (imgsync_response_error(resp) || imgsync_response_status(resp) != 200)
        return imgsync_run_fail_response(run, job, resp);
    yajl_val root = parse_body(resp);
    if (!page_ok(st, root)) {
        imgsync__json_free(root);
        imgsync_run_fail(run, IMGSYNC_EPROTOCOL,
                         "GET " API "/projects: response is not a project list of at most page_size items");
        return 0;
    }
    int rc = 0;
    imgsync__strlist todo = {0};
    for (size_t i = 0; i < root->u.array.len && !rc; i++) {
        const char *name = imgsync__json_string(root->u.array.values[i], "name");
        if (holds_nul(root->u.array.values[i], "name")) { /* never another name */
            imgsync_run_repository_fail(run, "", IMGSYNC_EPROTOCOL, "Harbor listed a project name with a NUL");
            continue;
        }
        if (!name || !walk_first_time(w, name))
            continue;
        if (!imgsync__name_component_ok(name)) { /* "..", "a/b", controls: never in a URL */
            imgsync_run_namespace_fail(run, name, IMGSYNC_EPROTOCOL, "Harbor listed a project with an invalid name");
            continue;
        }
        /* `name` is a fuzzy filter: keep exact matches of the hinted projects only */
        int exact = !hinted;
        for (size_t k = 0; !exact && k < imgsync_run_namespace_hint_count(run); k++)
            exact = !strcmp(name, imgsync_run_namespace_hint(run, k));
        if (!exact)
            continue;
        if (imgsync_run_wants_namespace(run, name))
            rc = queue_project(run, &todo, name);
    }
    size_t n = root->u.array.len;
    imgsync__json_free(root);
    if (rc)
        imgsync__strlist_free(&todo);
    else
        rc = expand(run, &todo, project_item);
    if (rc)
        return rc;
    char why[300];
    rc = walk_continue(run, w, job, resp, n, why, sizeof(why));
    if (rc < 0 && rc != IMGSYNC_ENOMEM) {
        char msg[400];
        snprintf(msg, sizeof(msg), "GET " API "/projects: %s", why);
        imgsync_run_fail(run, rc, msg);
        return 0;
    }
    if (rc == 0) {
        if (hinted)
            st->project_walks--;
        else
            st->projects_listed = 1;
        maybe_catalog_complete(run);
    }
    return rc < 0 ? rc : 0;
}

static void fail_project(imgsync_run *run, const char *project, const imgsync_response *resp)
{
    char msg[400];
    int status = imgsync_response_status(resp);
    int code = imgsync_response_error(resp) ? imgsync_response_error(resp)
                                            : (status == 401 || status == 403) ? IMGSYNC_EAUTH
                                            : status == 404 ? IMGSYNC_ENOTFOUND : IMGSYNC_EHTTP;
    if (imgsync_response_error(resp))
        snprintf(msg, sizeof(msg), "project '%s': listing its repositories failed: %s", project,
                 imgsync_strerror(code));
    else
        snprintf(msg, sizeof(msg), "project '%s': listing its repositories gave HTTP %d%s", project, status,
                 code == IMGSYNC_EAUTH ? " (access denied)" : "");
    imgsync_run_namespace_fail(run, project, code, msg);
}

static int on_repos(imgsync_run *run, const imgsync_job *job, const imgsync_response *resp)
{
    walk *w = imgsync_job_data(job);
    harbor_run *st = imgsync_run_data(run);
    int rc = 0, done = 0;
    imgsync__strlist todo = {0};
    if (imgsync_response_error(resp) || imgsync_response_status(resp) != 200) {
        fail_project(run, w->project, resp);
        done = 1;
    } else {
        yajl_val root = parse_body(resp);
        if (!page_ok(st, root)) {
            imgsync_run_namespace_fail(run, w->project, IMGSYNC_EPROTOCOL,
                                       "repository list is not a JSON array of at most page_size items");
            done = 1;
        }
        for (size_t i = 0; !done && i < root->u.array.len && !rc; i++) {
            const char *name = imgsync__json_string(root->u.array.values[i], "name");
            size_t plen = strlen(w->project);
            if (holds_nul(root->u.array.values[i], "name")) { /* never another name */
                imgsync_run_repository_fail(run, "", IMGSYNC_EPROTOCOL, "Harbor listed a repository name with a NUL");
                continue;
            }
            /* Repository.name is the full path including the project */
            if (!name || strncmp(name, w->project, plen) != 0 || name[plen] != '/' || !name[plen + 1])
                continue;
            if (!walk_first_time(w, name) || !imgsync_run_wants_repository(run, name))
                continue;
            rc = imgsync__strlist_add(&todo, name, strlen(name));
        }
        size_t n = root ? root->u.array.len : 0;
        imgsync__json_free(root);
        if (!done && !rc)
            rc = expand(run, &todo, repository_item);
        imgsync__strlist_free(&todo); /* left when not expanded */
        if (!done && !rc) {
            char why[300];
            int c = walk_continue(run, w, job, resp, n, why, sizeof(why));
            if (c < 0 && c != IMGSYNC_ENOMEM)
                imgsync_run_namespace_fail(run, w->project, c, why);
            else if (c < 0)
                rc = c;
            done = c != 1;
        }
    }
    if (done) {
        st->project_walks--;
        maybe_catalog_complete(run);
    }
    return rc;
}

/* What every row of one artifact shares. */
typedef struct artifact_info {
    const char *digest, *media_type, *type;
    int64_t size, push_ms, created_ms;
    int multi;
    char *platforms;
} artifact_info;

static int emit_row(imgsync_run *run, const walk *w, const artifact_info *ai, const char *tag, int64_t push)
{
    imgsync_record *r = imgsync_record_new(run, w->repository, tag);
    if (!r)
        return IMGSYNC_ENOMEM;
    imgsync_record_set_namespace(r, w->project);
    imgsync_record_set_digest(r, ai->digest);
    imgsync_record_set_media_type(r, ai->media_type);
    imgsync_record_set_artifact_type(r, ai->type);
    imgsync_record_set_size(r, ai->size);
    imgsync_record_set_update_ms(r, push ? push : ai->push_ms);
    imgsync_record_set_multi_arch(r, ai->multi);
    imgsync_record_set_platforms(r, ai->platforms);
    imgsync_record_set_created_ms(r, ai->created_ms);
    return imgsync_record_emit(run, r);
}

/* One row per tag (or one untagged row when asked and there is no tag). */
static int emit_tags(imgsync_run *run, const walk *w, const artifact_info *ai, yajl_val tags, int include_untagged)
{
    size_t ntags = tags ? tags->u.array.len : 0;
    int rc = 0, emitted = 0;
    for (size_t i = 0; i < ntags && !rc; i++) {
        yajl_val t = tags->u.array.values[i];
        const char *tag = imgsync__json_string(t, "name");
        if (holds_nul(t, "name")) /* never stored as another tag */
            return imgsync_run_repository_fail(run, w->repository, IMGSYNC_EPROTOCOL,
                                               "Harbor listed a tag name with a NUL"),
                   IMGSYNC_EPROTOCOL;
        if (!tag || !*tag)
            continue;
        rc = emit_row(run, w, ai, tag, imgsync__pv_time_ms(imgsync__json_string(t, "push_time")));
        emitted++;
    }
    if (!rc && !emitted && include_untagged)
        rc = emit_row(run, w, ai, "", 0);
    return rc;
}

/* Emit the rows of one artifact. */
static int emit_artifact(imgsync_run *run, const walk *w, yajl_val a, int include_untagged)
{
    const char *digest = imgsync__json_string(a, "digest");
    if (!digest && !holds_nul(a, "digest"))
        return 0; /* not an artifact */
    const char *type = imgsync__json_string(a, "type");
    if (type && strcmp(type, "IMAGE") != 0 && !imgsync_run_include_non_images(run))
        return 0; /* not wanted: its digest does not matter */
    if (!imgsync__name_digest_ok(digest)) /* "", md5:, uppercase, a NUL ...: never stored */
        return imgsync_run_repository_fail(run, w->repository, IMGSYNC_EPROTOCOL,
                                           "Harbor listed an artifact without a valid digest"),
               IMGSYNC_EPROTOCOL;
    const char *mt = imgsync__json_string(a, "manifest_media_type");
    if (!mt || !*mt)
        mt = imgsync__json_string(a, "media_type");
    yajl_val refs = imgsync__json_array(a, "references");
    artifact_info ai = {digest, mt ? mt : "", type ? type : "", -1, 0, 0, 0, NULL};
    imgsync__json_int(a, "size", &ai.size);
    ai.multi = (refs && refs->u.array.len > 0) || (mt && (!strcmp(mt, MT_OCI_INDEX) || !strcmp(mt, MT_DOCKER_LIST)));
    ai.push_ms = imgsync__pv_time_ms(imgsync__json_string(a, "push_time"));
    /* an image's config creation time (processor/image); an index's children name platforms */
    ai.created_ms = imgsync__pv_time_ms(imgsync__json_string(imgsync__json_member(a, "extra_attrs"), "created"));
    if (!(ai.platforms = imgsync__pv_platforms(refs)))
        return IMGSYNC_ENOMEM;
    int rc = emit_tags(run, w, &ai, imgsync__json_array(a, "tags"), include_untagged);
    free(ai.platforms);
    return rc;
}

static int on_artifacts(imgsync_run *run, const imgsync_job *job, const imgsync_response *resp)
{
    walk *w = imgsync_job_data(job);
    const harbor_run *st = imgsync_run_data(run);
    if (imgsync_response_error(resp) || imgsync_response_status(resp) != 200) {
        imgsync_run_fail_response(run, job, resp);
        return 0;
    }
    yajl_val root = parse_body(resp);
    if (!page_ok(st, root)) {
        imgsync__json_free(root);
        imgsync_run_repository_fail(run, w->repository, IMGSYNC_EPROTOCOL,
                                    "artifact list is not a JSON array of at most page_size items");
        return 0;
    }
    int rc = 0;
    for (size_t i = 0; i < root->u.array.len && !rc; i++) {
        yajl_val a = root->u.array.values[i];
        int64_t id = 0;
        const char *digest = imgsync__json_string(a, "digest");
        char key[96];
        if (!imgsync__json_int(a, "id", &id))
            snprintf(key, sizeof(key), "%lld", (long long)id);
        else if (digest)
            snprintf(key, sizeof(key), "%.90s", digest);
        else
            continue;
        if (walk_first_time(w, key))
            rc = emit_artifact(run, w, a, st->include_untagged);
    }
    size_t n = root->u.array.len;
    imgsync__json_free(root);
    if (rc)
        return rc;
    char why[300];
    int c = walk_continue(run, w, job, resp, n, why, sizeof(why));
    if (c < 0 && c != IMGSYNC_ENOMEM) {
        imgsync_run_repository_fail(run, w->repository, c, why);
        return 0;
    }
    if (c < 0)
        return c;
    if (c == 0)
        return imgsync_run_repository_listed(run, w->repository);
    return 0;
}

static int harbor_on_response(imgsync_run *run, imgsync_job *job, const imgsync_response *resp)
{
    switch (imgsync_job_kind(job)) {
    case K_VERSION: return on_version(run, job, resp);
    case K_SYSINFO: return on_sysinfo(run, job, resp);
    case K_PROJECTS: return on_projects(run, job, resp);
    case K_REPOS: return on_repos(run, job, resp);
    case K_ARTIFACTS: return on_artifacts(run, job, resp);
    default: return IMGSYNC_EINTERNAL;
    }
}

const imgsync_provider_vtable imgsync__harbor_provider = {
    .version = IMGSYNC_PROVIDER_VTABLE_VERSION,
    .kind = "harbor",
    .type = IMGSYNC_TYPE_HARBOR,
    .check_option = harbor_check_option,
    .start = harbor_start,
    .on_response = harbor_on_response,
};
