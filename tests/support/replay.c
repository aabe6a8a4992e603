/* Replay harness: see replay.h. */
#include "replay.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/ctx.h"
#include "core/task.h"
#include "engine/engine.h"
#include "engine/job.h"
#include "util/buf.h"

#define REPLAY_MAX_JOBS 100000

#define NOT_FOUND_BODY                                                                            \
    "{\"errors\":[{\"code\":\"NAME_UNKNOWN\",\"message\":\"repository name not known to registry\"," \
    "\"detail\":\"no recorded response\"}]}\n"

typedef struct replay_entry {
    char *method;
    char *url;
    int status;
    int error;
    replay_header *headers;
    size_t nheaders;
    char *body;
    size_t body_len;
    char *effective_url; /* NULL: the request URL */
} replay_entry;

struct replay {
    imgsync_ctx *ctx;
    replay_entry *entries;
    size_t nentries;
    replay_request *log;
    size_t nlog;
    size_t unexpected;
};

/* ---- small helpers ------------------------------------------------------------------------ */

static char *dup_n(const char *s, size_t n)
{
    char *c = malloc(n + 1);
    if (!c)
        return NULL;
    if (n)
        memcpy(c, s, n);
    c[n] = '\0';
    return c;
}

static char *dup_s(const char *s) { return s ? dup_n(s, strlen(s)) : NULL; }

static void headers_free(replay_header *h, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(h[i].name);
        free(h[i].value);
    }
    free(h);
}

/* Append "Name: value" (or "Name:value") as a header; blank lines are skipped. 0 or ENOMEM;
 * a line without ':' gives EINVAL. */
static int header_push(replay_header **arr, size_t *n, const char *line, size_t len)
{
    while (len > 0 && (line[len - 1] == '\r' || line[len - 1] == ' ' || line[len - 1] == '\t'))
        len--;
    if (len == 0)
        return 0;
    const char *colon = memchr(line, ':', len);
    if (!colon)
        return IMGSYNC_EINVAL;
    const char *v = colon + 1;
    const char *end = line + len;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    replay_header *grown = realloc(*arr, (*n + 1) * sizeof(**arr));
    if (!grown)
        return IMGSYNC_ENOMEM;
    *arr = grown;
    char *name = dup_n(line, (size_t)(colon - line));
    char *value = dup_n(v, (size_t)(end - v));
    if (!name || !value) {
        free(name);
        free(value);
        return IMGSYNC_ENOMEM;
    }
    grown[*n].name = name;
    grown[*n].value = value;
    (*n)++;
    return 0;
}

static int headers_parse(const char *text, replay_header **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    for (const char *p = text; p && *p;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        int rc = header_push(out, n, p, len);
        if (rc) {
            headers_free(*out, *n);
            *out = NULL;
            *n = 0;
            return rc;
        }
        p = nl ? nl + 1 : p + len;
    }
    return 0;
}

static void entry_clear(replay_entry *e)
{
    free(e->method);
    free(e->url);
    headers_free(e->headers, e->nheaders);
    free(e->body);
    free(e->effective_url);
}

static void request_clear(replay_request *q)
{
    free(q->method);
    free(q->url);
    free(q->repository);
    headers_free(q->headers, q->nheaders);
}

/* ---- lifecycle ---------------------------------------------------------------------------- */

replay *replay_new(void)
{
    replay *r = calloc(1, sizeof(*r));
    if (!r)
        return NULL;
    if (imgsync_ctx_new(&r->ctx, NULL) != 0) {
        free(r);
        return NULL;
    }
    return r;
}

void replay_clear_responses(replay *r)
{
    for (size_t i = 0; i < r->nentries; i++)
        entry_clear(&r->entries[i]);
    free(r->entries);
    r->entries = NULL;
    r->nentries = 0;
}

void replay_clear_log(replay *r)
{
    for (size_t i = 0; i < r->nlog; i++)
        request_clear(&r->log[i]);
    free(r->log);
    r->log = NULL;
    r->nlog = 0;
    r->unexpected = 0;
}

void replay_free(replay *r)
{
    if (!r)
        return;
    replay_clear_responses(r);
    replay_clear_log(r);
    imgsync_ctx_free(r->ctx);
    free(r);
}

imgsync_ctx *replay_ctx(replay *r) { return r->ctx; }

imgsync_provider *replay_add_provider(replay *r, const char *kind, const char *name, const char *endpoint)
{
    imgsync_provider *p = NULL;
    if (imgsync_provider_new(&p, r->ctx, kind, name) != 0)
        return NULL;
    if (imgsync_provider_set(p, "endpoint", endpoint) != 0) {
        imgsync_provider_free(p);
        return NULL;
    }
    return p;
}

/* ---- canned responses ------------------------------------------------------------------------ */

static int add_entry(replay *r, const char *method, const char *url, int status, int error, const char *headers,
                     const char *body, size_t len)
{
    if (!method || !url)
        return IMGSYNC_EINVAL;
    replay_entry *grown = realloc(r->entries, (r->nentries + 1) * sizeof(*grown));
    if (!grown)
        return IMGSYNC_ENOMEM;
    r->entries = grown;
    replay_entry *e = &grown[r->nentries];
    memset(e, 0, sizeof(*e));
    e->status = status;
    e->error = error;
    e->method = dup_s(method);
    e->url = dup_s(url);
    e->body = dup_n(body ? body : "", body ? len : 0);
    e->body_len = body ? len : 0;
    int rc = (!e->method || !e->url || !e->body) ? IMGSYNC_ENOMEM : headers_parse(headers, &e->headers, &e->nheaders);
    if (rc) {
        entry_clear(e);
        return rc;
    }
    r->nentries++;
    return 0;
}

int replay_respond(replay *r, const char *method, const char *url, int status, const char *headers,
                   const char *body)
{
    return add_entry(r, method, url, status, 0, headers, body, body ? strlen(body) : 0);
}

int replay_respond_n(replay *r, const char *method, const char *url, int status, const char *headers,
                     const char *body, size_t len)
{
    return add_entry(r, method, url, status, 0, headers, body, len);
}

int replay_respond_error(replay *r, const char *method, const char *url, int error)
{
    return add_entry(r, method, url, 0, error, NULL, NULL, 0);
}

/* The latest entry for (method, url), or NULL. */
static const replay_entry *lookup(const replay *r, const char *method, const char *url)
{
    for (size_t i = r->nentries; i-- > 0;)
        if (!strcmp(r->entries[i].method, method) && !strcmp(r->entries[i].url, url))
            return &r->entries[i];
    return NULL;
}

int replay_set_effective_url(replay *r, const char *method, const char *url, const char *effective)
{
    replay_entry *e = (replay_entry *)lookup(r, method, url);
    if (!e)
        return IMGSYNC_ENOTFOUND;
    char *copy = dup_s(effective);
    if (!copy)
        return IMGSYNC_ENOMEM;
    free(e->effective_url);
    e->effective_url = copy;
    return 0;
}

/* ---- driving ------------------------------------------------------------------------------ */

static imgsync__task *find_task(imgsync_ctx *ctx, uint64_t id)
{
    for (size_t i = 0; i < ctx->ntasks; i++)
        if (ctx->tasks[i]->id == id)
            return ctx->tasks[i];
    return NULL;
}

/* Record the request the engine would send: the provider's headers, then what the provider's
 * prepare hook adds (run on a copy, as the engine does before each attempt). */
static int record(replay *r, imgsync_job *job, int unexpected)
{
    replay_request *grown = realloc(r->log, (r->nlog + 1) * sizeof(*grown));
    if (!grown)
        return IMGSYNC_ENOMEM;
    r->log = grown;
    replay_request *q = &grown[r->nlog];
    memset(q, 0, sizeof(*q));
    q->method = dup_s(job->method);
    q->url = dup_s(job->url);
    q->repository = job->repository ? dup_s(job->repository) : NULL;
    q->unexpected = unexpected;
    int rc = (!q->method || !q->url || (job->repository && !q->repository)) ? IMGSYNC_ENOMEM : 0;

    struct curl_slist *copy = NULL;
    for (struct curl_slist *l = job->headers; !rc && l; l = l->next) {
        struct curl_slist *n = curl_slist_append(copy, l->data);
        if (!n)
            rc = IMGSYNC_ENOMEM;
        else
            copy = n;
    }
    if (!rc) {
        struct curl_slist *orig = job->headers;
        job->headers = copy;
        imgsync__run_prepare(job->run, job);
        copy = job->headers;
        job->headers = orig;
    }
    for (struct curl_slist *l = copy; !rc && l; l = l->next)
        rc = header_push(&q->headers, &q->nheaders, l->data, strlen(l->data));
    curl_slist_free_all(copy);
    if (rc) {
        request_clear(q);
        return rc;
    }
    r->nlog++;
    if (unexpected)
        r->unexpected++;
    return 0;
}

static int set_header(imgsync_response *resp, const char *name, const char *value)
{
    imgsync__header *grown = realloc(resp->headers, (resp->nheaders + 1) * sizeof(*grown));
    if (!grown)
        return IMGSYNC_ENOMEM;
    resp->headers = grown;
    char *n = dup_s(name), *v = dup_s(value);
    if (!n || !v) {
        free(n);
        free(v);
        return IMGSYNC_ENOMEM;
    }
    grown[resp->nheaders].name = n;
    grown[resp->nheaders].value = v;
    resp->nheaders++;
    return 0;
}

/* Fill job->resp from the canned response (or the 404 for an unexpected request). */
static int answer(replay *r, imgsync_job *job)
{
    const replay_entry *e = lookup(r, job->method, job->url);
    int rc = record(r, job, e == NULL);
    if (rc)
        return rc;
    imgsync_response *resp = &job->resp;
    imgsync__response_reset(resp);
    resp->request_url = job->url; /* as the engine does: links must stay on this origin */
    imgsync__run_count(job->run, IMGSYNC_COUNT_REQUESTS);
    if (!(resp->url = dup_s(e && e->effective_url ? e->effective_url : job->url)))
        return IMGSYNC_ENOMEM;
    int is_head = !strcmp(job->method, "HEAD");
    if (!e) {
        resp->status = 404;
        rc = set_header(resp, "Content-Type", "application/json; charset=utf-8");
        if (!rc)
            rc = set_header(resp, "Docker-Distribution-Api-Version", "registry/2.0");
        if (!rc && !is_head)
            rc = imgsync__buf_appends(&resp->body, NOT_FOUND_BODY);
        return rc;
    }
    resp->status = e->status;
    resp->error = e->error;
    for (size_t i = 0; !rc && i < e->nheaders; i++)
        rc = set_header(resp, e->headers[i].name, e->headers[i].value);
    if (!rc && !is_head && e->body_len)
        rc = imgsync__buf_append(&resp->body, e->body, e->body_len);
    return rc;
}

int replay_sync(replay *r, const imgsync_request *req, uint64_t *task_id)
{
    uint64_t id = 0;
    replay_clear_log(r);
    int rc = imgsync_sync_start(r->ctx, req, &id);
    if (rc)
        return rc;
    if (task_id)
        *task_id = id;
    imgsync__task *t = find_task(r->ctx, id);
    if (!t)
        return IMGSYNC_EINTERNAL;
    imgsync_ctx *ctx = r->ctx;
    ctx->in_perform = 1; /* provider callbacks run "inside perform", as with the real engine */
    imgsync__task_step(t);
    size_t taken = 0;
    imgsync_job *job;
    rc = 0;
    while ((job = imgsync__engine_take(ctx->engine)) != NULL) {
        int arc = answer(r, job);
        if (arc) {
            /* could not build the response: deliver a transport failure instead */
            imgsync__response_reset(&job->resp);
            job->resp.error = IMGSYNC_ENOMEM;
            rc = arc;
        }
        imgsync__run_job_finished(job->run, job);
        if (++taken >= REPLAY_MAX_JOBS) {
            imgsync__task_cancel(t, IMGSYNC_ECANCELED, "replay: too many jobs");
            rc = IMGSYNC_EINTERNAL;
            break;
        }
    }
    imgsync__task_step(t);
    ctx->in_perform = 0;
    if (!rc && imgsync__task_active(t))
        rc = IMGSYNC_EINTERNAL;
    return rc;
}

/* ---- the log -------------------------------------------------------------------------------- */

size_t replay_nrequests(const replay *r) { return r->nlog; }

const replay_request *replay_request_at(const replay *r, size_t i) { return i < r->nlog ? &r->log[i] : NULL; }

size_t replay_unexpected(const replay *r) { return r->unexpected; }

static int method_matches(const replay_request *q, const char *method)
{
    return !method || !strcmp(q->method, method);
}

size_t replay_count(const replay *r, const char *method, const char *url)
{
    size_t n = 0;
    for (size_t i = 0; i < r->nlog; i++)
        n += method_matches(&r->log[i], method) && !strcmp(r->log[i].url, url);
    return n;
}

size_t replay_count_containing(const replay *r, const char *method, const char *needle)
{
    size_t n = 0;
    for (size_t i = 0; i < r->nlog; i++)
        n += method_matches(&r->log[i], method) && strstr(r->log[i].url, needle) != NULL;
    return n;
}

size_t replay_index_of(const replay *r, const char *method, const char *url)
{
    for (size_t i = 0; i < r->nlog; i++)
        if (method_matches(&r->log[i], method) && !strcmp(r->log[i].url, url))
            return i;
    return (size_t)-1;
}

const replay_request *replay_find(const replay *r, const char *method, const char *url)
{
    size_t i = replay_index_of(r, method, url);
    return i == (size_t)-1 ? NULL : &r->log[i];
}

const char *replay_request_header(const replay_request *q, const char *name)
{
    if (!q || !name)
        return NULL;
    for (size_t i = q->nheaders; i-- > 0;)
        if (!strcasecmp(q->headers[i].name, name))
            return q->headers[i].value;
    return NULL;
}

char *replay_log_text(const replay *r)
{
    imgsync__buf b;
    imgsync__buf_init(&b);
    imgsync__buf_appends(&b, "");
    for (size_t i = 0; i < r->nlog; i++)
        imgsync__buf_printf(&b, "%s %s%s\n", r->log[i].method, r->log[i].url,
                            r->log[i].unexpected ? " (unexpected)" : "");
    return imgsync__buf_steal(&b);
}
