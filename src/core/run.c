/* Runs: one provider's part of a task. Implements the provider SPI (scopes, records, jobs) and
 * commits each repository scope to the store when its listing is complete. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/task.h"
#include "engine/engine.h"
#include "util/buf.h"
#include "util/json.h"
#include "util/timeutil.h"
#include "util/url.h"

int imgsync__run_new(imgsync_run **out, imgsync__task *t, imgsync_provider *p, int mode);
void imgsync__run_start(imgsync_run *run);
void imgsync__run_abort(imgsync_run *run, int code, const char *why);
void imgsync__run_free(imgsync_run *run);

struct imgsync_record {
    imgsync_run *run;
    struct imgsync_image *img;
};

/* ---- status helpers (guarded: read by imgsync_task_get from any thread) ------------------- */

static void count_add(imgsync_run *run, int counter, uint64_t n)
{
    pthread_mutex_lock(&run->ctx->status_lock);
    run->task->counters[counter] += n;
    pthread_mutex_unlock(&run->ctx->status_lock);
}

void imgsync__run_count(imgsync_run *run, int counter) { count_add(run, counter, 1); }

static void add_error(imgsync_run *run, const char *repository, int code, const char *message)
{
    imgsync__task *t = run->task;
    pthread_mutex_lock(&run->ctx->status_lock);
    if (t->nerrors < IMGSYNC__MAX_ERRORS) {
        imgsync__task_error *e = &t->errors[t->nerrors];
        e->registry = imgsync__strdup(run->name);
        e->repository = imgsync__strdup(repository ? repository : "");
        e->message = imgsync__strdup(message ? message : imgsync_strerror(code));
        e->code = code;
        if (e->registry && e->repository && e->message) {
            t->nerrors++;
        } else {
            free(e->registry);
            free(e->repository);
            free(e->message);
        }
    }
    if (!run->error)
        run->error = code;
    pthread_mutex_unlock(&run->ctx->status_lock);
}

static void set_row(imgsync_run *run, int state, const char *reason)
{
    char *copy = reason ? imgsync__strdup(reason) : NULL;
    pthread_mutex_lock(&run->ctx->status_lock);
    run->row_state = state;
    if (reason) {
        free(run->reason);
        run->reason = copy;
    }
    pthread_mutex_unlock(&run->ctx->status_lock);
}

/* ---- construction ----------------------------------------------------------------------- */

static const char *opt(const imgsync__option *opts, size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(opts[i].key, key) == 0)
            return opts[i].value;
    return NULL;
}

int imgsync__run_new(imgsync_run **out, imgsync__task *t, imgsync_provider *p, int mode)
{
    imgsync_run *run = calloc(1, sizeof(*run));
    if (!run)
        return IMGSYNC_ENOMEM;
    run->ctx = t->ctx;
    run->task = t;
    run->provider = p;
    run->vt = p->vt;
    run->mode = mode;
    run->row_state = IMGSYNC_REGISTRY_RUNNING;
    imgsync__map_init(&run->scopes);
    imgsync__map_init(&run->failed_ns);
    run->nns_hints = imgsync__request_namespace_literals(t->req, &run->ns_hints);
    int oom = !(run->name = imgsync__strdup(p->name));
    run->opts = calloc(p->nopts + 1, sizeof(*run->opts));
    oom |= !run->opts;
    for (size_t i = 0; !oom && i < p->nopts; i++) {
        char *k = imgsync__strdup(p->opts[i].key), *v = imgsync__strdup(p->opts[i].value);
        if (!k || !v) {
            free(k);
            free(v);
            oom = 1;
            break;
        }
        run->opts[i].key = k;
        run->opts[i].value = v;
        run->nopts++;
    }
    const char *ep = opt(p->opts, p->nopts, "endpoint");
    if (!oom && ep) {
        size_t n = strlen(ep);
        while (n > 0 && ep[n - 1] == '/')
            n--;
        oom = !(run->endpoint = imgsync__strndup(ep, n));
        if (!oom)
            run->host = imgsync__url_hostport(run->endpoint);
    }
    p->runs++; /* imgsync__run_free gives it back */
    if (oom) {
        imgsync__run_free(run);
        return IMGSYNC_ENOMEM;
    }
    *out = run;
    return 0;
}

static void scope_free(imgsync__scope *s)
{
    size_t pos = 0;
    imgsync__map_entry *e;
    while ((e = imgsync__map_next(&s->records, &pos)))
        imgsync__image_unref(e->value);
    imgsync__map_clear(&s->records);
    free(s->repository);
    free(s);
}

static void free_scopes(imgsync_run *run)
{
    size_t pos = 0;
    imgsync__map_entry *e;
    while ((e = imgsync__map_next(&run->scopes, &pos)))
        scope_free(e->value);
    imgsync__map_clear(&run->scopes);
}

static void release_provider_data(imgsync_run *run)
{
    if (run->data_free && run->data)
        run->data_free(run->data);
    run->data = NULL;
    run->data_free = NULL;
}

void imgsync__run_free(imgsync_run *run)
{
    if (!run)
        return;
    if (!run->ended && run->provider)
        run->provider->runs--;
    release_provider_data(run);
    free_scopes(run);
    imgsync__map_clear(&run->failed_ns);
    free(run->ns_hints);
    for (size_t i = 0; i < run->nopts; i++) {
        memset(run->opts[i].value, 0, strlen(run->opts[i].value));
        free(run->opts[i].key);
        free(run->opts[i].value);
    }
    free(run->opts);
    free(run->name);
    free(run->endpoint);
    free(run->host);
    free(run->reason);
    free(run);
}

/* ---- scopes -------------------------------------------------------------------------------- */

static imgsync__scope *scope_get(imgsync_run *run, const char *repository, int create)
{
    imgsync__scope *s = imgsync__map_get(&run->scopes, repository);
    if (s || !create)
        return s;
    s = calloc(1, sizeof(*s));
    if (!s || !(s->repository = imgsync__strdup(repository))) {
        free(s);
        return NULL;
    }
    imgsync__map_init(&s->records);
    if (imgsync__map_put(&run->scopes, repository, s, NULL)) {
        scope_free(s);
        return NULL;
    }
    count_add(run, IMGSYNC_COUNT_REPOSITORIES_TOTAL, 1);
    return s;
}

/* Newest first: update time, then tag name (descending) so "v10" style ties are stable. */
static int newest_first(const void *pa, const void *pb)
{
    const struct imgsync_image *a = *(const struct imgsync_image *const *)pa;
    const struct imgsync_image *b = *(const struct imgsync_image *const *)pb;
    if (a->update_ms != b->update_ms)
        return a->update_ms > b->update_ms ? -1 : 1;
    return strcmp(b->tag, a->tag);
}

static void scope_fail(imgsync_run *run, imgsync__scope *s, int code, const char *message)
{
    if (s->failed || s->committed)
        return;
    s->failed = 1;
    run->scopes_failed++;
    count_add(run, IMGSYNC_COUNT_REPOSITORIES_FAILED, 1);
    add_error(run, s->repository, code, message);
}

static void scope_commit(imgsync_run *run, imgsync__scope *s)
{
    char *ns = imgsync__namespace_of(s->repository);
    int selected = !ns || imgsync__request_selects_repository(run->task->req, run->name, ns, s->repository);
    free(ns);
    if (!selected) {
        /* a provider listed a repository the request does not cover: its rows are not ours to
         * replace (emit dropped its records already) */
        s->committed = 1;
        return;
    }
    size_t n = s->records.count, m = 0, pos = 0;
    struct imgsync_image **rows = malloc((n + 1) * sizeof(*rows));
    if (!rows) {
        scope_fail(run, s, IMGSYNC_ENOMEM, "out of memory while committing");
        return;
    }
    imgsync__map_entry *e;
    int64_t now = imgsync__now_ms();
    while ((e = imgsync__map_next(&s->records, &pos))) {
        struct imgsync_image *im = e->value;
        im->sync_ms = now;
        rows[m++] = im;
    }
    unsigned int max = run->task->req->max_tags;
    if (max && m > max) {
        /* newest N tags; untagged rows (kept only on request) are not tags and stay */
        qsort(rows, m, sizeof(*rows), newest_first);
        size_t kept = 0, tagged = 0;
        for (size_t i = 0; i < m; i++)
            if (!rows[i]->tag[0] || tagged++ < max)
                rows[kept++] = rows[i];
        m = kept;
    }
    imgsync__store_counts c = {0, 0, 0};
    int rc = imgsync__store_replace(run->ctx->store, run->name, s->repository, rows, m, run->task->req, &c);
    free(rows);
    if (rc) {
        scope_fail(run, s, IMGSYNC_ESTORE, "the inventory store refused the commit");
        return;
    }
    s->committed = 1;
    pthread_mutex_lock(&run->ctx->status_lock);
    uint64_t *k = run->task->counters;
    k[IMGSYNC_COUNT_REPOSITORIES_DONE]++;
    k[IMGSYNC_COUNT_IMAGES_FOUND] += m;
    k[IMGSYNC_COUNT_IMAGES_ADDED] += c.added;
    k[IMGSYNC_COUNT_IMAGES_UPDATED] += c.updated;
    k[IMGSYNC_COUNT_IMAGES_REMOVED] += c.removed;
    run->task->committed_any = 1;
    pthread_mutex_unlock(&run->ctx->status_lock);
    /* the records now live in the store; drop the scope's own references */
    pos = 0;
    while ((e = imgsync__map_next(&s->records, &pos)))
        imgsync__image_unref(e->value);
    imgsync__map_clear(&s->records);
}

static void scope_maybe_commit(imgsync_run *run, imgsync__scope *s)
{
    if (s && s->listed && !s->pending && !s->failed && !s->committed && !run->failed)
        scope_commit(run, s);
}

/* ---- run lifecycle ------------------------------------------------------------------------ */

static void run_maybe_end(imgsync_run *run)
{
    if (run->ended || !run->started || run->pending || run->in_callback)
        return;
    size_t pos = 0;
    imgsync__map_entry *e;
    if (!run->failed) {
        while ((e = imgsync__map_next(&run->scopes, &pos))) {
            imgsync__scope *s = e->value;
            if (s->listed)
                scope_maybe_commit(run, s);
            else if (!s->failed && !s->committed)
                scope_fail(run, s, IMGSYNC_EINTERNAL, "the provider never completed this repository's listing");
        }
        if (run->catalog_complete && run->mode == IMGSYNC_RUN_SYNC) {
            imgsync__store_counts c = {0, 0, 0};
            if (imgsync__store_prune(run->ctx->store, run->name, &run->scopes, &run->failed_ns, run->task->req,
                                     &c) == 0)
                count_add(run, IMGSYNC_COUNT_IMAGES_REMOVED, c.removed);
        }
    }
    run->ended = 1;
    run->provider->runs--;
    imgsync__engine_drop_run(run->ctx->engine, run); /* no jobs remain: this forgets its tokens */
    if (run->failed) {
        set_row(run, IMGSYNC_REGISTRY_FAILED, NULL);
    } else if (run->scopes_failed) {
        char msg[512];
        const char *first = "";
        for (size_t i = 0; i < run->task->nerrors; i++)
            if (!strcmp(run->task->errors[i].registry, run->name)) {
                first = run->task->errors[i].message;
                break;
            }
        snprintf(msg, sizeof(msg), "%llu of %zu repositories or namespaces failed; first: %s",
                 (unsigned long long)run->scopes_failed, run->scopes.count, first);
        set_row(run, IMGSYNC_REGISTRY_FAILED, msg);
    } else {
        set_row(run, IMGSYNC_REGISTRY_FINISHED, NULL);
    }
    release_provider_data(run);
    free_scopes(run);
}

int imgsync__run_url_allowed(const imgsync_run *run, const char *url)
{
    imgsync__url u;
    if (imgsync__url_parse(&u, url))
        return IMGSYNC_EINVAL;
    int ok = strcmp(u.scheme, "https") == 0 || imgsync__url_is_loopback_host(u.host) ||
             imgsync__run_allow_http(run);
    imgsync__url_clear(&u);
    return ok ? 0 : IMGSYNC_EINSECURE;
}

void imgsync__run_start(imgsync_run *run)
{
    run->started = 1;
    if (!run->endpoint) {
        imgsync_run_fail(run, IMGSYNC_EINVAL, "option 'endpoint' is required");
    } else if (imgsync__run_url_allowed(run, run->endpoint)) {
        imgsync_run_fail(run, IMGSYNC_EINSECURE,
                         "plain http is accepted only for loopback hosts or with allow_http=true");
    } else {
        run->in_callback = 1;
        int rc = run->vt->start(run);
        run->in_callback = 0;
        if (rc && !run->failed)
            imgsync_run_fail(run, rc, "the provider could not start");
    }
    run_maybe_end(run);
}

void imgsync__run_abort(imgsync_run *run, int code, const char *why)
{
    if (run->ended)
        return;
    run->started = 1;
    imgsync_run_fail(run, code, why);
    run_maybe_end(run);
}

void imgsync__run_job_finished(imgsync_run *run, imgsync_job *job)
{
    imgsync__scope *s = job->repository ? scope_get(run, job->repository, 0) : NULL;
    if (run->pending)
        run->pending--;
    if (s && s->pending)
        s->pending--;
    if (!run->failed && !run->ended && !(s && (s->failed || s->committed))) {
        run->in_callback = 1;
        int rc = run->vt->on_response(run, job, &job->resp);
        run->in_callback = 0;
        if (rc && !run->failed) {
            char msg[160];
            snprintf(msg, sizeof(msg), "provider error: %s", imgsync_strerror(rc));
            if (s)
                scope_fail(run, s, rc, msg);
            else
                imgsync_run_fail(run, rc, msg);
        }
        scope_maybe_commit(run, s);
    }
    imgsync__job_free(job);
    run_maybe_end(run);
}

/* ---- SPI: run ------------------------------------------------------------------------------- */

int imgsync_run_mode_of(const imgsync_run *run) { return run->mode; }

const char *imgsync_run_option(const imgsync_run *run, const char *key) { return opt(run->opts, run->nopts, key); }

const char *imgsync_run_endpoint(const imgsync_run *run) { return run->endpoint ? run->endpoint : ""; }

void imgsync_run_set_data(imgsync_run *run, void *data, void (*free_fn)(void *))
{
    release_provider_data(run);
    run->data = data;
    run->data_free = free_fn;
}

void *imgsync_run_data(const imgsync_run *run) { return run->data; }

size_t imgsync_run_repository_count(const imgsync_run *run)
{
    return imgsync__request_repo_count(run->task->req, run->name);
}

const char *imgsync_run_repository(const imgsync_run *run, size_t i)
{
    return imgsync__request_repo_at(run->task->req, run->name, i);
}

int imgsync_run_wants_repository(const imgsync_run *run, const char *repository)
{
    char *ns = imgsync__namespace_of(repository);
    if (!ns)
        return 1; /* out of memory: list it; the core filters the rows it gets anyway */
    int r = imgsync__request_selects_repository(run->task->req, run->name, ns, repository);
    free(ns);
    return r;
}

int imgsync_run_wants_namespace(const imgsync_run *run, const char *ns)
{
    return imgsync__request_selects_namespace(run->task->req, ns);
}

int imgsync_run_wants_tag(const imgsync_run *run, const char *tag)
{
    return imgsync__request_selects_tag(run->task->req, tag);
}

int imgsync_run_repository_begin(imgsync_run *run, const char *repository)
{
    if (!repository || !*repository)
        return IMGSYNC_EINVAL;
    return scope_get(run, repository, 1) ? 0 : IMGSYNC_ENOMEM;
}

int imgsync_run_repository_listed(imgsync_run *run, const char *repository)
{
    imgsync__scope *s = repository ? scope_get(run, repository, 1) : NULL;
    if (!s)
        return repository ? IMGSYNC_ENOMEM : IMGSYNC_EINVAL;
    s->listed = 1;
    scope_maybe_commit(run, s);
    return 0;
}

int imgsync_run_repository_fail(imgsync_run *run, const char *repository, int code, const char *message)
{
    imgsync__scope *s = repository ? scope_get(run, repository, 1) : NULL;
    if (!s)
        return repository ? IMGSYNC_ENOMEM : IMGSYNC_EINVAL;
    scope_fail(run, s, code ? code : IMGSYNC_EINTERNAL, message);
    return 0;
}

size_t imgsync_run_namespace_hint_count(const imgsync_run *run) { return run->nns_hints; }

const char *imgsync_run_namespace_hint(const imgsync_run *run, size_t i)
{
    return i < run->nns_hints ? run->ns_hints[i] : NULL;
}

int imgsync_run_include_non_images(const imgsync_run *run) { return run->task->req->include_non_images; }

int imgsync_run_namespace_fail(imgsync_run *run, const char *ns, int code, const char *message)
{
    if (!ns)
        return IMGSYNC_EINVAL;
    if (imgsync__map_get(&run->failed_ns, ns))
        return 0;
    int rc = imgsync__map_put(&run->failed_ns, ns, (void *)1, NULL);
    if (rc)
        return rc;
    run->scopes_failed++;
    count_add(run, IMGSYNC_COUNT_REPOSITORIES_FAILED, 1);
    add_error(run, ns, code ? code : IMGSYNC_EINTERNAL, message);
    return 0;
}

int imgsync_run_catalog_complete(imgsync_run *run)
{
    run->catalog_complete = 1;
    return 0;
}

int imgsync_run_fail(imgsync_run *run, int code, const char *message)
{
    if (run->failed || run->ended)
        return 0;
    run->failed = 1;
    if (!code)
        code = IMGSYNC_EINTERNAL;
    add_error(run, NULL, code, message);
    set_row(run, IMGSYNC_REGISTRY_RUNNING, message ? message : imgsync_strerror(code));
    imgsync__engine_drop_run(run->ctx->engine, run);
    run->pending = 0;
    size_t pos = 0;
    imgsync__map_entry *e;
    while ((e = imgsync__map_next(&run->scopes, &pos)))
        ((imgsync__scope *)e->value)->pending = 0;
    return 0;
}

/* Path of a URL for messages: never the query (it could carry tokens on some registries). */
static void url_path_for_message(const char *url, char *out, size_t n)
{
    imgsync__url u;
    if (imgsync__url_parse(&u, url) == 0) {
        snprintf(out, n, "%s", u.path);
        imgsync__url_clear(&u);
    } else {
        snprintf(out, n, "(bad URL)");
    }
}

/* Copy a short, printable error text from a registry's JSON error body into out. */
static void registry_error_text(const imgsync_response *resp, char *out, size_t n)
{
    out[0] = '\0';
    size_t len = 0;
    const char *body = imgsync_response_body(resp, &len);
    if (len == 0 || len > 65536 || body[0] != '{')
        return;
    char err[64];
    yajl_val root = imgsync__json_parse(body, len, err, sizeof(err));
    if (!root)
        return;
    const char *code = NULL, *message = NULL;
    yajl_val errs = imgsync__json_array(root, "errors");
    if (errs && errs->u.array.len > 0) {
        code = imgsync__json_string(errs->u.array.values[0], "code");
        message = imgsync__json_string(errs->u.array.values[0], "message");
    } else {
        code = imgsync__json_string(root, "error_code");
        message = imgsync__json_string(root, "error_msg");
    }
    if (code || message)
        snprintf(out, n, "%.40s%s%.120s", code ? code : "", code && message ? " " : "", message ? message : "");
    yajl_tree_free(root);
    for (char *p = out; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = ' ';
}

int imgsync_run_fail_response(imgsync_run *run, const imgsync_job *job, const imgsync_response *resp)
{
    char path[256], detail[200], msg[600];
    url_path_for_message(job->url, path, sizeof(path));
    int status = imgsync_response_status(resp);
    int code;
    if (imgsync_response_error(resp)) {
        code = imgsync_response_error(resp);
        snprintf(msg, sizeof(msg), "%s %s: %s%s%s%s", job->method, path, imgsync_strerror(code),
                 resp->error_detail ? " (" : "", resp->error_detail ? resp->error_detail : "",
                 resp->error_detail ? ")" : "");
    } else {
        code = (status == 401 || status == 403) ? IMGSYNC_EAUTH : IMGSYNC_EHTTP;
        registry_error_text(resp, detail, sizeof(detail));
        snprintf(msg, sizeof(msg), "%s %s gave HTTP %d%s%s%s", job->method, path, status,
                 code == IMGSYNC_EAUTH ? " (credentials rejected or access denied)" : "", detail[0] ? ": " : "",
                 detail);
    }
    if (job->repository)
        imgsync_run_repository_fail(run, job->repository, code, msg);
    else
        imgsync_run_fail(run, code, msg);
    return code;
}

/* ---- SPI: records ------------------------------------------------------------------------- */

imgsync_record *imgsync_record_new(imgsync_run *run, const char *repository, const char *tag)
{
    if (!run || !repository || !tag)
        return NULL;
    imgsync_record *r = calloc(1, sizeof(*r));
    if (!r)
        return NULL;
    r->run = run;
    r->img = imgsync__image_new(run->name, repository, tag);
    char *ns = imgsync__namespace_of(repository);
    if (!r->img || !ns || imgsync__image_set(&r->img->namespace_, ns) ||
        imgsync__image_set(&r->img->host, run->host)) {
        free(ns);
        imgsync_record_free(r);
        return NULL;
    }
    free(ns);
    r->img->registry_type = imgsync_type_registry_name(run->vt->type);
    r->img->image_type = imgsync__type_image_name(run->vt->type);
    return r;
}

int imgsync_record_set_namespace(imgsync_record *r, const char *ns) { return imgsync__image_set(&r->img->namespace_, ns); }
int imgsync_record_set_host(imgsync_record *r, const char *host) { return imgsync__image_set(&r->img->host, host); }
int imgsync_record_set_digest(imgsync_record *r, const char *d) { return imgsync__image_set(&r->img->digest, d); }
int imgsync_record_set_media_type(imgsync_record *r, const char *mt) { return imgsync__image_set(&r->img->media_type, mt); }
int imgsync_record_set_artifact_type(imgsync_record *r, const char *t) { return imgsync__image_set(&r->img->artifact_type, t); }
void imgsync_record_set_size(imgsync_record *r, int64_t size) { r->img->size = size < 0 ? -1 : size; }
void imgsync_record_set_update_ms(imgsync_record *r, int64_t ms) { r->img->update_ms = ms < 0 ? 0 : ms; }
void imgsync_record_set_multi_arch(imgsync_record *r, int m) { r->img->multi_arch = m ? 1 : 0; }

void imgsync_record_free(imgsync_record *r)
{
    if (!r)
        return;
    imgsync__image_unref(r->img);
    free(r);
}

int imgsync_record_emit(imgsync_run *run, imgsync_record *r)
{
    if (!run || !r)
        return IMGSYNC_EINVAL;
    struct imgsync_image *im = r->img;
    int rc = 0;
    if (run->mode != IMGSYNC_RUN_SYNC || run->failed) {
        rc = 0;
    } else if (!im->repository[0]) {
        rc = IMGSYNC_EINVAL;
    } else if (imgsync__request_selects_repository(run->task->req, run->name, im->namespace_, im->repository) &&
               imgsync__request_selects_row(run->task->req, im->tag, im->artifact_type)) {
        imgsync__scope *s = scope_get(run, im->repository, 1);
        if (!s) {
            rc = IMGSYNC_ENOMEM;
        } else if (!s->failed && !s->committed) {
            /* one row per tag; untagged artifacts are told apart by digest */
            char *key = im->tag[0] ? imgsync__strdup(im->tag) : imgsync__asprintf("@%s", im->digest);
            void *old = NULL;
            rc = key ? imgsync__map_put(&s->records, key, im, &old) : IMGSYNC_ENOMEM;
            if (!rc) {
                imgsync__image_unref(old);
                r->img = NULL;
            }
            free(key);
        }
    }
    imgsync_record_free(r);
    return rc;
}

/* ---- SPI: job submission ---------------------------------------------------------------- */

int imgsync__run_prepare(imgsync_run *run, imgsync_job *job)
{
    if (!run->vt->prepare)
        return 0;
    run->in_callback = 1;
    int rc = run->vt->prepare(run, job);
    run->in_callback = 0;
    if (run->failed)
        run_maybe_end(run); /* the hook failed the run: nothing of it is pending any more */
    return rc;
}

const char *imgsync__run_username(const imgsync_run *run) { return opt(run->opts, run->nopts, "username"); }
const char *imgsync__run_password(const imgsync_run *run) { return opt(run->opts, run->nopts, "password"); }
const char *imgsync__run_ca_file(const imgsync_run *run) { return opt(run->opts, run->nopts, "ca_file"); }

static int bool_opt(const imgsync_run *run, const char *key)
{
    int b = 0;
    const char *v = opt(run->opts, run->nopts, key);
    return v && imgsync__parse_bool(v, &b) == 0 && b;
}

int imgsync__run_insecure(const imgsync_run *run) { return bool_opt(run, "insecure"); }
int imgsync__run_allow_http(const imgsync_run *run) { return bool_opt(run, "allow_http"); }

int imgsync_job_submit(imgsync_job *job)
{
    if (!job)
        return IMGSYNC_EINVAL;
    imgsync_run *run = job->run;
    if (run->failed || run->ended) {
        imgsync__job_free(job);
        return IMGSYNC_ECANCELED;
    }
    int rc = imgsync__run_url_allowed(run, job->url);
    if (!rc && !job->anonymous && !imgsync__url_same_origin(job->url, run->endpoint))
        rc = IMGSYNC_EINVAL; /* credentials only go to the configured endpoint */
    imgsync__scope *s = NULL;
    if (!rc && job->repository) {
        s = scope_get(run, job->repository, 1);
        if (!s)
            rc = IMGSYNC_ENOMEM;
        else if (s->committed)
            rc = IMGSYNC_EINVAL;
    }
    if (rc) {
        imgsync__job_free(job);
        return rc;
    }
    job->submitted = 1;
    rc = imgsync__engine_submit(run->ctx->engine, job);
    if (rc)
        return rc;
    run->pending++;
    if (s)
        s->pending++;
    return 0;
}
