/* A scripted transport: see fake_transport.h. */
#include "fake_transport.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "imgsync/errors.h"
#include "util/buf.h"

#define NOT_FOUND_BODY                                                                            \
    "{\"errors\":[{\"code\":\"NAME_UNKNOWN\",\"message\":\"repository name not known to registry\"," \
    "\"detail\":\"no recorded response\"}]}\n"

typedef struct reply_copy {
    int status, error, retry_class;
    char *headers, *body, *detail, *effective_url;
    size_t body_len;
    int64_t delay_ms;
} reply_copy;

typedef struct script {
    char *method, *url;
    reply_copy *replies;
    size_t n, next;
} script;

typedef struct flight {
    struct flight *next;
    imgsync__xfer *x;
    int64_t due;
    reply_copy reply;
} flight;

struct fake_transport {
    imgsync__transport base;
    fake_clock *clock;
    script *scripts;
    size_t nscripts;
    void (*fallback)(void *ud, const fake_request *q, fake_reply *out);
    void *fallback_ud;
    void (*observer)(void *ctx, fake_request *q, const imgsync__wire *w);
    void *observer_ctx;
    flight *flights; /* in start order */
    size_t ninflight, max_inflight;
    fake_request *log;
    size_t nlog, unexpected;
};

/* ---- copies ------------------------------------------------------------------------------- */

/* Replies are wiped before they are freed (a token body is a secret): a test looking for a
 * secret in what is freed (test_engine_auth) then finds only what the library left. */
static void reply_clear(reply_copy *r)
{
    free(r->headers);
    if (r->body)
        imgsync__wipe(r->body, r->body_len);
    free(r->body);
    free(r->detail);
    free(r->effective_url);
    memset(r, 0, sizeof(*r));
}

static int reply_copy_of(reply_copy *dst, const fake_reply *r)
{
    memset(dst, 0, sizeof(*dst));
    dst->status = r->status;
    dst->error = r->error;
    dst->retry_class = r->retry_class;
    dst->delay_ms = r->delay_ms;
    dst->body_len = r->body ? (r->body_len ? r->body_len : strlen(r->body)) : 0;
    dst->headers = r->headers ? imgsync__strdup(r->headers) : NULL;
    dst->detail = r->detail ? imgsync__strdup(r->detail) : NULL;
    dst->effective_url = r->effective_url ? imgsync__strdup(r->effective_url) : NULL;
    dst->body = r->body ? malloc(dst->body_len + 1) : NULL;
    if (dst->body) {
        memcpy(dst->body, r->body, dst->body_len);
        dst->body[dst->body_len] = '\0';
    }
    if ((r->headers && !dst->headers) || (r->body && !dst->body) || (r->detail && !dst->detail) ||
        (r->effective_url && !dst->effective_url)) {
        reply_clear(dst);
        return IMGSYNC_ENOMEM;
    }
    return 0;
}

static fake_reply view_of(const reply_copy *c)
{
    fake_reply r = {c->status, c->headers, c->body, c->body_len, c->error, c->retry_class, c->detail, c->delay_ms,
                    c->effective_url};
    return r;
}

/* ---- scripts -------------------------------------------------------------------------------- */

static script *find_script(fake_transport *ft, const char *method, const char *url)
{
    for (size_t i = 0; i < ft->nscripts; i++)
        if (!strcmp(ft->scripts[i].method, method) && !strcmp(ft->scripts[i].url, url))
            return &ft->scripts[i];
    return NULL;
}

static script *get_script(fake_transport *ft, const char *method, const char *url)
{
    script *s = find_script(ft, method, url);
    if (s)
        return s;
    script *arr = realloc(ft->scripts, (ft->nscripts + 1) * sizeof(*arr));
    if (!arr)
        return NULL;
    ft->scripts = arr;
    s = &arr[ft->nscripts];
    memset(s, 0, sizeof(*s));
    s->method = imgsync__strdup(method);
    s->url = imgsync__strdup(url);
    if (!s->method || !s->url) {
        free(s->method);
        free(s->url);
        return NULL;
    }
    ft->nscripts++;
    return s;
}

static void script_clear_replies(script *s)
{
    for (size_t i = 0; i < s->n; i++)
        reply_clear(&s->replies[i]);
    free(s->replies);
    s->replies = NULL;
    s->n = s->next = 0;
}

int fake_add(fake_transport *ft, const char *method, const char *url, const fake_reply *r)
{
    script *s = get_script(ft, method, url);
    reply_copy *arr = s ? realloc(s->replies, (s->n + 1) * sizeof(*arr)) : NULL;
    if (!arr)
        return IMGSYNC_ENOMEM;
    s->replies = arr;
    if (reply_copy_of(&arr[s->n], r))
        return IMGSYNC_ENOMEM;
    s->n++;
    return 0;
}

int fake_set(fake_transport *ft, const char *method, const char *url, const fake_reply *r)
{
    script *s = get_script(ft, method, url);
    if (!s)
        return IMGSYNC_ENOMEM;
    script_clear_replies(s);
    return fake_add(ft, method, url, r);
}

int fake_add_simple(fake_transport *ft, const char *method, const char *url, int status, const char *headers,
                    const char *body)
{
    fake_reply r = {status, headers, body, 0, 0, 0, NULL, 0, NULL};
    return fake_add(ft, method, url, &r);
}

int fake_set_simple(fake_transport *ft, const char *method, const char *url, int status, const char *headers,
                    const char *body)
{
    fake_reply r = {status, headers, body, 0, 0, 0, NULL, 0, NULL};
    return fake_set(ft, method, url, &r);
}

int fake_set_effective(fake_transport *ft, const char *method, const char *url, const char *effective)
{
    script *s = find_script(ft, method, url);
    if (!s || !s->n)
        return IMGSYNC_ENOTFOUND;
    for (size_t i = 0; i < s->n; i++) {
        char *copy = imgsync__strdup(effective);
        if (!copy)
            return IMGSYNC_ENOMEM;
        free(s->replies[i].effective_url);
        s->replies[i].effective_url = copy;
    }
    return 0;
}

void fake_clear_scripts(fake_transport *ft)
{
    for (size_t i = 0; i < ft->nscripts; i++) {
        script_clear_replies(&ft->scripts[i]);
        free(ft->scripts[i].method);
        free(ft->scripts[i].url);
    }
    free(ft->scripts);
    ft->scripts = NULL;
    ft->nscripts = 0;
}

void fake_set_fallback(fake_transport *ft, void (*fn)(void *ud, const fake_request *q, fake_reply *out), void *ud)
{
    ft->fallback = fn;
    ft->fallback_ud = ud;
}

/* ---- the log ---------------------------------------------------------------------------------- */

static void request_clear(fake_request *q)
{
    for (size_t i = 0; i < q->nheaders; i++) {
        free(q->headers[i].name);
        free(q->headers[i].value);
    }
    free(q->headers);
    free(q->method);
    free(q->url);
    free(q->body);
    free(q->note);
}

void fake_clear_log(fake_transport *ft)
{
    for (size_t i = 0; i < ft->nlog; i++)
        request_clear(&ft->log[i]);
    free(ft->log);
    ft->log = NULL;
    ft->nlog = ft->unexpected = 0;
}

static fake_request *record(fake_transport *ft, const imgsync__wire *w)
{
    fake_request *arr = realloc(ft->log, (ft->nlog + 1) * sizeof(*arr));
    if (!arr)
        return NULL;
    ft->log = arr;
    fake_request *q = &arr[ft->nlog];
    memset(q, 0, sizeof(*q));
    q->method = imgsync__strdup(w->method);
    q->url = imgsync__strdup(w->url);
    q->attempt = w->attempt;
    q->headers = calloc(w->n + 1, sizeof(*q->headers));
    q->body = malloc(w->body_len + 1);
    int oom = !q->method || !q->url || !q->headers || !q->body;
    if (q->body) {
        memcpy(q->body, w->body ? w->body : "", w->body ? w->body_len : 0);
        q->body[w->body ? w->body_len : 0] = '\0';
        q->body_len = w->body ? w->body_len : 0;
    }
    for (size_t i = 0; !oom && i < w->n; i++) {
        q->headers[i].name = imgsync__strdup(w->h[i].name);
        q->headers[i].value = imgsync__strdup(w->h[i].value);
        q->nheaders = i + 1;
        oom = !q->headers[i].name || !q->headers[i].value;
    }
    if (oom) {
        request_clear(q);
        return NULL;
    }
    ft->nlog++;
    if (ft->observer)
        ft->observer(ft->observer_ctx, q, w);
    return q;
}

void fake_set_observer(fake_transport *ft, void (*fn)(void *ctx, fake_request *q, const imgsync__wire *w), void *ctx)
{
    ft->observer = fn;
    ft->observer_ctx = ctx;
}

size_t fake_nrequests(const fake_transport *ft) { return ft->nlog; }
const fake_request *fake_request_at(const fake_transport *ft, size_t i) { return i < ft->nlog ? &ft->log[i] : NULL; }
size_t fake_unexpected(const fake_transport *ft) { return ft->unexpected; }
size_t fake_inflight(const fake_transport *ft) { return ft->ninflight; }
size_t fake_max_inflight(const fake_transport *ft) { return ft->max_inflight; }

const char *fake_request_header(const fake_request *q, const char *name)
{
    for (size_t i = q ? q->nheaders : 0; i-- > 0;)
        if (!strcasecmp(q->headers[i].name, name))
            return q->headers[i].value;
    return NULL;
}

size_t fake_count(const fake_transport *ft, const char *method, const char *url)
{
    size_t n = 0;
    for (size_t i = 0; i < ft->nlog; i++)
        n += (!method || !strcmp(ft->log[i].method, method)) && !strcmp(ft->log[i].url, url);
    return n;
}

/* ---- the transport ------------------------------------------------------------------------ */

static int64_t now_of(const fake_transport *ft) { return ft->clock ? ft->clock->mono_ms : 0; }

static void default_fallback(void *ud, const fake_request *q, fake_reply *out)
{
    (void)ud;
    (void)q;
    out->status = 404;
    out->headers = "Content-Type: application/json; charset=utf-8\nDocker-Distribution-Api-Version: registry/2.0";
    out->body = NOT_FOUND_BODY;
}

static int pick_reply(fake_transport *ft, fake_request *q, reply_copy *out)
{
    script *s = find_script(ft, q->method, q->url);
    if (s && s->n) {
        const reply_copy *c = &s->replies[s->next < s->n ? s->next : s->n - 1];
        if (s->next < s->n)
            s->next++;
        fake_reply v = view_of(c);
        return reply_copy_of(out, &v);
    }
    q->unexpected = 1;
    ft->unexpected++;
    fake_reply r;
    memset(&r, 0, sizeof(r));
    (ft->fallback ? ft->fallback : default_fallback)(ft->fallback_ud, q, &r);
    return reply_copy_of(out, &r);
}

static int ft_start(imgsync__transport *t, imgsync__xfer *x)
{
    fake_transport *ft = (fake_transport *)t;
    fake_request *q = record(ft, x->wire);
    flight *f = q ? calloc(1, sizeof(*f)) : NULL;
    if (!f || pick_reply(ft, q, &f->reply)) {
        free(f);
        return IMGSYNC_ENOMEM;
    }
    f->x = x;
    f->due = now_of(ft) + (ft->clock ? f->reply.delay_ms : 0);
    flight **pp = &ft->flights;
    while (*pp)
        pp = &(*pp)->next;
    *pp = f;
    if (++ft->ninflight > ft->max_inflight)
        ft->max_inflight = ft->ninflight;
    return 0;
}

static void flight_free(flight *f)
{
    reply_clear(&f->reply);
    free(f);
}

static void ft_abort(imgsync__transport *t, imgsync__xfer *x)
{
    fake_transport *ft = (fake_transport *)t;
    for (flight **pp = &ft->flights; *pp; pp = &(*pp)->next) {
        if ((*pp)->x == x) {
            flight *f = *pp;
            *pp = f->next;
            ft->ninflight--;
            flight_free(f);
            return;
        }
    }
}

/* Fill the response through the engine's builders, as libcurl's callbacks would. */
static void answer(const imgsync__xfer *x, const reply_copy *r)
{
    imgsync__eresp *resp = x->resp;
    if (r->error) {
        imgsync__eresp_fail(resp, r->error, r->retry_class, r->detail ? r->detail : "scripted failure");
    } else {
        int rc = 0;
        for (const char *p = r->headers; !rc && p && *p;) {
            size_t len = strcspn(p, "\n");
            rc = imgsync__eresp_header_line(resp, p, len);
            p += len + (p[len] == '\n');
        }
        if (!rc && r->body && strcmp(x->wire->method, "HEAD") != 0)
            rc = imgsync__eresp_append(resp, r->body, r->body_len);
        if (!rc)
            imgsync__eresp_set_status(resp, r->status);
    }
    imgsync__eresp_set_url(resp, r->effective_url ? r->effective_url : x->wire->url);
}

/* Deliver every flight due now, in start order. Returns how many. */
static size_t deliver_due(fake_transport *ft)
{
    size_t n = 0;
    int64_t now = now_of(ft);
    flight **pp = &ft->flights;
    while (*pp) {
        flight *f = *pp;
        if (f->due > now) {
            pp = &f->next;
            continue;
        }
        *pp = f->next;
        ft->ninflight--;
        answer(f->x, &f->reply);
        imgsync__xfer *x = f->x;
        flight_free(f);
        ft->base.done(ft->base.owner, x); /* may start or abort others: the list is re-read */
        n++;
        pp = &ft->flights;
    }
    return n;
}

static void ft_wait(imgsync__transport *t, int timeout_ms)
{
    fake_transport *ft = (fake_transport *)t;
    if (deliver_due(ft) || !ft->clock)
        return;
    int64_t step = timeout_ms;
    for (const flight *f = ft->flights; f; f = f->next)
        if (f->due - ft->clock->mono_ms < step)
            step = f->due - ft->clock->mono_ms;
    fake_clock_advance(ft->clock, step);
    deliver_due(ft);
}

static void ft_set_limits(imgsync__transport *t, long total, long per_host)
{
    (void)t;
    (void)total;
    (void)per_host;
}

static void ft_free(imgsync__transport *t)
{
    fake_transport *ft = (fake_transport *)t;
    while (ft->flights) {
        flight *f = ft->flights;
        ft->flights = f->next;
        flight_free(f);
    }
    fake_clear_scripts(ft);
    fake_clear_log(ft);
    free(ft);
}

/* no event-loop mode: it has no sockets (imgsync_ctx_set_socket_callback answers EUNSUPPORTED) */
static const imgsync__transport_ops fake_ops = {ft_start, ft_abort, ft_wait, ft_set_limits, ft_free, NULL, NULL, NULL, NULL};

fake_transport *fake_new(fake_clock *clock)
{
    fake_transport *ft = calloc(1, sizeof(*ft));
    if (!ft)
        return NULL;
    ft->base.ops = &fake_ops;
    ft->clock = clock;
    return ft;
}

imgsync__transport *fake_base(fake_transport *ft) { return &ft->base; }
