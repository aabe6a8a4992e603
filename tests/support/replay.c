/* Replay harness: see replay.h. */
#include "replay.h"

#include <stdlib.h>
#include <string.h>

#include "core/ctx.h"
#include "imgsync/sys/provider.h"
#include "util/buf.h"

#define REPLAY_MAX_REQUESTS 100000

struct replay {
    imgsync_ctx *ctx;
    fake_transport *ft;
    fake_clock clock;
};

/* Note each request's repository scope while its job is alive. */
static void observe(void *ctx, fake_request *q, const imgsync__wire *w)
{
    (void)ctx;
    const char *repo = w->ud ? imgsync_job_repository((const imgsync_job *)w->ud) : NULL;
    q->note = repo ? imgsync__strdup(repo) : NULL;
}

replay *replay_new(void) { return replay_new_with_store(NULL); }

replay *replay_new_with_store(const char *store_uri)
{
    replay *r = calloc(1, sizeof(*r));
    if (!r)
        return NULL;
    fake_clock_init(&r->clock);
    if (imgsync_ctx_new(&r->ctx, store_uri) != 0 || !(r->ft = fake_new(&r->clock)) ||
        imgsync__ctx_set_transport(r->ctx, fake_base(r->ft)) != 0 || imgsync_ctx_set_clock(r->ctx, &r->clock.clock) ||
        imgsync_ctx_set(r->ctx, "max_retries", "0") || imgsync_ctx_set(r->ctx, "max_connections", "1")) {
        imgsync_ctx_free(r->ctx);
        free(r);
        return NULL;
    }
    fake_set_observer(r->ft, observe, r);
    return r;
}

void replay_free(replay *r)
{
    if (!r)
        return;
    imgsync_ctx_free(r->ctx); /* frees the transport too */
    free(r);
}

imgsync_ctx *replay_ctx(replay *r) { return r->ctx; }
fake_transport *replay_transport(replay *r) { return r->ft; }
fake_clock *replay_clock(replay *r) { return &r->clock; }

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

/* ---- canned responses ----------------------------------------------------------------------- */

int replay_respond(replay *r, const char *method, const char *url, int status, const char *headers,
                   const char *body)
{
    return fake_set_simple(r->ft, method, url, status, headers, body);
}

int replay_respond_n(replay *r, const char *method, const char *url, int status, const char *headers,
                     const char *body, size_t len)
{
    fake_reply rep = {status, headers, body ? body : "", len, 0, 0, NULL, 0, NULL};
    if (!len)
        rep.body = NULL;
    return fake_set(r->ft, method, url, &rep);
}

int replay_respond_error(replay *r, const char *method, const char *url, int error)
{
    fake_reply rep = {0, NULL, NULL, 0, error, 0, "scripted transport failure", 0, NULL};
    return fake_set(r->ft, method, url, &rep);
}

int replay_set_effective_url(replay *r, const char *method, const char *url, const char *effective)
{
    return fake_set_effective(r->ft, method, url, effective);
}

void replay_clear_responses(replay *r) { fake_clear_scripts(r->ft); }

void replay_clear_log(replay *r) { fake_clear_log(r->ft); }

/* ---- driving ------------------------------------------------------------------------------ */

int replay_sync(replay *r, const imgsync_request *req, uint64_t *task_id)
{
    uint64_t id = 0;
    replay_clear_log(r);
    int rc = imgsync_sync_start(r->ctx, req, &id);
    if (rc)
        return rc;
    if (task_id)
        *task_id = id;
    for (;;) {
        int active = imgsync_ctx_perform(r->ctx, 1000);
        if (active < 0)
            return IMGSYNC_EINTERNAL;
        imgsync_task *t = NULL;
        if (imgsync_task_get(&t, r->ctx, id))
            return IMGSYNC_EINTERNAL;
        int state = imgsync_task_state_of(t);
        imgsync_task_free(t);
        if (state != IMGSYNC_TASK_QUEUED && state != IMGSYNC_TASK_RUNNING)
            return 0;
        if (fake_nrequests(r->ft) >= REPLAY_MAX_REQUESTS) {
            imgsync_task_cancel(r->ctx, id);
            return IMGSYNC_EINTERNAL;
        }
        if (!imgsync__ctx_pending_requests(r->ctx) && imgsync_ctx_perform(r->ctx, 0) > 0) {
            imgsync_task_cancel(r->ctx, id); /* nothing left to answer, yet not ended */
            return IMGSYNC_EINTERNAL;
        }
    }
}

/* ---- the log -------------------------------------------------------------------------------- */

size_t replay_nrequests(const replay *r) { return fake_nrequests(r->ft); }

const replay_request *replay_request_at(const replay *r, size_t i) { return fake_request_at(r->ft, i); }

const char *replay_request_repository(const replay_request *q) { return q ? q->note : NULL; }

size_t replay_unexpected(const replay *r) { return fake_unexpected(r->ft); }

static int method_matches(const replay_request *q, const char *method) { return !method || !strcmp(q->method, method); }

size_t replay_count(const replay *r, const char *method, const char *url) { return fake_count(r->ft, method, url); }

size_t replay_count_containing(const replay *r, const char *method, const char *needle)
{
    size_t n = 0;
    for (size_t i = 0; i < replay_nrequests(r); i++) {
        const replay_request *q = replay_request_at(r, i);
        n += method_matches(q, method) && strstr(q->url, needle) != NULL;
    }
    return n;
}

size_t replay_index_of(const replay *r, const char *method, const char *url)
{
    for (size_t i = 0; i < replay_nrequests(r); i++) {
        const replay_request *q = replay_request_at(r, i);
        if (method_matches(q, method) && !strcmp(q->url, url))
            return i;
    }
    return (size_t)-1;
}

const replay_request *replay_find(const replay *r, const char *method, const char *url)
{
    size_t i = replay_index_of(r, method, url);
    return i == (size_t)-1 ? NULL : replay_request_at(r, i);
}

const char *replay_request_header(const replay_request *q, const char *name) { return fake_request_header(q, name); }

char *replay_log_text(const replay *r)
{
    imgsync__buf b;
    imgsync__buf_init(&b);
    imgsync__buf_appends(&b, "");
    for (size_t i = 0; i < replay_nrequests(r); i++) {
        const replay_request *q = replay_request_at(r, i);
        imgsync__buf_printf(&b, "%s %s%s\n", q->method, q->url, q->unexpected ? " (unexpected)" : "");
    }
    return imgsync__buf_steal(&b);
}
