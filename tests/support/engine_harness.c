/* The engine test harness: see engine_harness.h. */
#include "engine_harness.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/buf.h"

static char *dump_wire(const imgsync__wire *w)
{
    imgsync__buf b;
    imgsync__buf_init(&b);
    b.secret = 1; /* Authorization lines: leave no copy in freed memory (test_engine_auth looks) */
    for (size_t i = 0; i < imgsync__wire_header_count(w); i++)
        imgsync__buf_printf(&b, "%s: %s\n", imgsync__wire_header_name(w, i), imgsync__wire_header_value(w, i));
    char *s = imgsync__buf_steal(&b);
    return s ? s : imgsync__strdup("");
}

static char *dump_resp(const imgsync__eresp *r)
{
    imgsync__buf b;
    imgsync__buf_init(&b);
    for (size_t i = 0; i < imgsync__eresp_header_count(r); i++)
        imgsync__buf_printf(&b, "%s: %s\n", imgsync__eresp_header_name(r, i), imgsync__eresp_header_value(r, i));
    char *s = imgsync__buf_steal(&b);
    return s ? s : imgsync__strdup("");
}

static int on_sign(void *req_ud, imgsync__wire *w)
{
    eh_req *r = req_ud;
    eh *h = r->h;
    eh_sign *arr = realloc(h->signs, (h->nsigns + 1) * sizeof(*arr));
    ck_assert_ptr_nonnull(arr);
    h->signs = arr;
    eh_sign *s = &arr[h->nsigns++];
    memset(s, 0, sizeof(*s));
    s->req = r;
    s->method = imgsync__strdup(imgsync__wire_method(w));
    s->url = imgsync__strdup(imgsync__wire_url(w));
    s->attempt = imgsync__wire_attempt(w);
    s->headers = dump_wire(w);
    size_t len = 0;
    const void *body = imgsync__wire_body(w, &len);
    s->body = malloc(len + 1);
    ck_assert_ptr_nonnull(s->body);
    memcpy(s->body, body, len);
    s->body[len] = '\0';
    s->body_len = len;
    r->sign_calls++;
    if (r->sign_header) {
        char value[32];
        snprintf(value, sizeof(value), "sig-%d", imgsync__wire_attempt(w));
        ck_assert_int_eq(imgsync__wire_add_header(w, r->sign_header, value), 0);
    }
    if (r->on_sign)
        r->on_sign(r);
    return r->sign_rc;
}

static void on_done(void *req_ud, const imgsync__eresp *resp)
{
    eh_req *r = req_ud;
    r->done_calls++;
    r->status = imgsync__eresp_status(resp);
    r->error = imgsync__eresp_error(resp);
    snprintf(r->detail, sizeof(r->detail), "%s", imgsync__eresp_detail(resp));
    snprintf(r->url, sizeof(r->url), "%s", imgsync__eresp_url(resp));
    free(r->body);
    free(r->headers);
    size_t len = 0;
    const char *body = imgsync__eresp_body(resp, &len);
    r->body = malloc(len + 1);
    ck_assert_ptr_nonnull(r->body);
    memcpy(r->body, body, len);
    r->body[len] = '\0';
    r->body_len = len;
    r->headers = dump_resp(resp);
    r->done_mono = r->h->fc.mono_ms;
    if (r->on_done)
        r->on_done(r);
}

static void on_event(void *group_ud, int event)
{
    eh *h = group_ud;
    if (event == IMGSYNC__EV_SENT)
        h->ev_sent++;
    else if (event == IMGSYNC__EV_RETRY)
        h->ev_retry++;
}

void eh_init(eh *h, const imgsync__engine_opts *o)
{
    memset(h, 0, sizeof(*h));
    fake_clock_init(&h->fc);
    if (o)
        h->o = *o;
    else
        imgsync__engine_default_opts(&h->o);
    h->ft = fake_new(&h->fc);
    ck_assert_ptr_nonnull(h->ft);
    ck_assert_int_eq(imgsync__engine_new(&h->e, &h->o, &h->fc.clock, fake_base(h->ft)), 0);
    h->start_mono = h->fc.mono_ms;
}

int eh_group(eh *h, const imgsync__policy *p)
{
    imgsync__policy none;
    memset(&none, 0, sizeof(none));
    imgsync__hooks hooks = {on_sign, on_done, on_event, NULL};
    return imgsync__group_new(&h->g, h->e, p ? p : &none, &hooks, h);
}

void eh_free(eh *h)
{
    imgsync__group_free(h->g);
    h->g = NULL;
    imgsync__engine_free(h->e); /* frees the fake transport */
    h->e = NULL;
    h->ft = NULL;
    for (size_t i = 0; i < h->nsigns; i++) {
        free(h->signs[i].method);
        free(h->signs[i].url);
        free(h->signs[i].headers);
        free(h->signs[i].body);
    }
    free(h->signs);
    h->signs = NULL;
    h->nsigns = 0;
}

int eh_submit(eh *h, eh_req *r, imgsync__ereq_spec *spec)
{
    r->h = h;
    spec->ud = r;
    return imgsync__group_submit(h->g, spec);
}

int eh_get(eh *h, eh_req *r, const char *url, int cred)
{
    imgsync__ereq_spec spec;
    memset(&spec, 0, sizeof(spec));
    spec.method = "GET";
    spec.url = url;
    spec.cred = cred;
    spec.idempotent = 1;
    return eh_submit(h, r, &spec);
}

void eh_run(eh *h)
{
    int rounds = 0;
    while (imgsync__engine_pending(h->e)) {
        imgsync__engine_perform(h->e, 600000);
        ck_assert_msg(++rounds < 10000, "the engine does not finish");
    }
}

void eh_req_clear(eh_req *r)
{
    free(r->body);
    free(r->headers);
    r->body = NULL;
    r->headers = NULL;
}

int64_t eh_elapsed(const eh *h) { return h->fc.mono_ms - h->start_mono; }

const char *eh_dump_value(const char *dump, const char *name)
{
    static char value[4096];
    size_t n = strlen(name);
    for (const char *p = dump; p && *p;) {
        const char *eol = strchr(p, '\n');
        size_t len = eol ? (size_t)(eol - p) : strlen(p);
        if (len >= n + 1 && !strncasecmp(p, name, n) && p[n] == ':') {
            const char *v = p + n + 1;
            while (*v == ' ')
                v++;
            size_t vl = (size_t)(p + len - v);
            if (vl >= sizeof(value))
                vl = sizeof(value) - 1;
            memcpy(value, v, vl);
            value[vl] = '\0';
            return value;
        }
        p += len + (eol != NULL);
    }
    return NULL;
}

int eh_dump_has(const char *dump, const char *name) { return eh_dump_value(dump, name) != NULL; }
