/*
 * Bodies and the sign hook on the fake transport: POST/PUT bodies and their Content-Type go on
 * the wire; the sign hook runs before every attempt of a credentialed request (first, retries,
 * the replay after a Bearer token, after a same-origin redirect) and sees exactly what is about
 * to be sent (method, final URL, every header, body); what it adds goes out; its failure fails
 * the request once.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "engine/engine.h"
#include "imgsync/errors.h"
#include "support/engine_harness.h"

Suite *engine_sign_suite(void);

#define REG "https://reg.example"
#define IAM REG "/v3/auth/tokens"
#define BODY "{\"auth\":{\"identity\":{\"password\":\"pw\"}}}"

static const imgsync__policy k_alice = {"alice", "s3cret", NULL, 0, 0, 0, NULL, NULL};

static void start(eh *h, const imgsync__engine_opts *o, const imgsync__policy *p)
{
    eh_init(h, o);
    ck_assert_int_eq(eh_group(h, p), 0);
    ck_assert_int_eq(imgsync__group_allow_origin(h->g, REG), 0);
}

static void submit_body(eh *h, eh_req *r, const char *method, const char *url, int cred, int idempotent)
{
    static const char *const lines[] = {"X-Project: p1"};
    imgsync__ereq_spec spec;
    memset(&spec, 0, sizeof(spec));
    spec.method = method;
    spec.url = url;
    spec.headers = lines;
    spec.nheaders = 1;
    spec.body = BODY;
    spec.body_len = strlen(BODY);
    spec.content_type = "application/json;charset=utf8";
    spec.cred = cred;
    spec.idempotent = idempotent;
    ck_assert_int_eq(eh_submit(h, r, &spec), 0);
}

/* The recorded request's headers as a dump, without the one named `skip` (NULL: none). */
static char *wire_dump(const fake_request *q, const char *skip)
{
    size_t cap = 1;
    for (size_t i = 0; i < q->nheaders; i++)
        cap += strlen(q->headers[i].name) + strlen(q->headers[i].value) + 3;
    char *s = malloc(cap);
    ck_assert_ptr_nonnull(s);
    size_t n = 0;
    s[0] = '\0';
    for (size_t i = 0; i < q->nheaders; i++)
        if (!skip || strcmp(q->headers[i].name, skip) != 0)
            n += (size_t)sprintf(s + n, "%s: %s\n", q->headers[i].name, q->headers[i].value);
    return s;
}

START_TEST(test_post_body_on_the_wire)
{
    static const char *const methods[] = {"POST", "PUT"};
    for (size_t m = 0; m < 2; m++) {
        eh h;
        start(&h, NULL, &k_alice);
        fake_set_simple(h.ft, methods[m], IAM, 201, "X-Subject-Token: abc", "{}");
        eh_req r = EH_REQ_INIT;
        r.sign_header = "X-Sdk-Signature";
        submit_body(&h, &r, methods[m], IAM, IMGSYNC__CRED_PROVIDER, 0);
        eh_run(&h);
        ck_assert_int_eq(r.status, 201);
        ck_assert_uint_eq(fake_nrequests(h.ft), 1);
        const fake_request *q = fake_request_at(h.ft, 0);
        ck_assert_str_eq(q->method, methods[m]);
        ck_assert_uint_eq(q->body_len, strlen(BODY));
        ck_assert_str_eq(q->body, BODY);
        ck_assert_str_eq(fake_request_header(q, "Content-Type"), "application/json;charset=utf8");
        ck_assert_str_eq(fake_request_header(q, "Content-Length"), "39");
        ck_assert_str_eq(fake_request_header(q, "X-Project"), "p1");
        ck_assert_str_eq(fake_request_header(q, "X-Sdk-Signature"), "sig-1");
        /* the sign hook saw the method, the URL, the body and every header that went out, in
         * order, except only the one it added itself */
        ck_assert_uint_eq(h.nsigns, 1);
        const eh_sign *s = &h.signs[0];
        ck_assert_str_eq(s->method, methods[m]);
        ck_assert_str_eq(s->url, IAM);
        ck_assert_str_eq(s->body, BODY);
        ck_assert_uint_eq(s->body_len, strlen(BODY));
        char *sent = wire_dump(q, "X-Sdk-Signature");
        ck_assert_str_eq(s->headers, sent);
        free(sent);
        ck_assert_str_eq(eh_dump_value(s->headers, "Host"), "reg.example");
        ck_assert_str_eq(eh_dump_value(s->headers, "Content-Type"), "application/json;charset=utf8");
        ck_assert_str_eq(eh_dump_value(s->headers, "Content-Length"), "39");
        ck_assert(eh_dump_has(s->headers, "User-Agent"));
        ck_assert(eh_dump_has(s->headers, "Accept"));
        eh_req_clear(&r);
        eh_free(&h);
    }
}
END_TEST

/* Headers the caller set itself are not listed a second time by the engine: a signature covers
 * every listed line, and a duplicate would not go out as signed. */
START_TEST(test_caller_headers_not_doubled)
{
    static const char *const lines[] = {"Accept-Encoding: identity", "Content-Type: text/plain"};
    eh h;
    start(&h, NULL, &k_alice);
    fake_set_simple(h.ft, "POST", IAM, 200, NULL, "{}");
    eh_req r = EH_REQ_INIT;
    imgsync__ereq_spec spec;
    memset(&spec, 0, sizeof(spec));
    spec.method = "POST";
    spec.url = IAM;
    spec.headers = lines;
    spec.nheaders = 2;
    spec.body = "items.find()";
    spec.body_len = 12;
    spec.content_type = "application/json";
    spec.cred = IMGSYNC__CRED_PROVIDER;
    ck_assert_int_eq(eh_submit(&h, &r, &spec), 0);
    eh_run(&h);
    ck_assert_int_eq(r.status, 200);
    ck_assert_uint_eq(h.nsigns, 1);
    const char *dump = h.signs[0].headers;
    ck_assert_str_eq(eh_dump_value(dump, "Accept-Encoding"), "identity");
    ck_assert_str_eq(eh_dump_value(dump, "Content-Type"), "text/plain");
    ck_assert_ptr_eq(strstr(strstr(dump, "Accept-Encoding:") + 1, "Accept-Encoding:"), NULL);
    ck_assert_ptr_eq(strstr(strstr(dump, "Content-Type:") + 1, "Content-Type:"), NULL);
    const fake_request *q = fake_request_at(h.ft, 0);
    size_t n = 0;
    for (size_t i = 0; i < q->nheaders; i++)
        n += !strcasecmp(q->headers[i].name, "Content-Type") + !strcasecmp(q->headers[i].name, "Accept-Encoding");
    ck_assert_uint_eq(n, 2);
    eh_req_clear(&r);
    eh_free(&h);
}
END_TEST

START_TEST(test_bodyless_requests)
{
    /* POST without a body says Content-Length: 0; GET says nothing of a body */
    eh h;
    start(&h, NULL, NULL);
    fake_set_simple(h.ft, "POST", REG "/api/refresh", 204, NULL, NULL);
    fake_set_simple(h.ft, "GET", REG "/api/x", 200, NULL, "{}");
    imgsync__ereq_spec spec;
    memset(&spec, 0, sizeof(spec));
    spec.method = "POST";
    spec.url = REG "/api/refresh";
    spec.cred = IMGSYNC__CRED_PROVIDER;
    eh_req r1 = EH_REQ_INIT, r2 = EH_REQ_INIT;
    ck_assert_int_eq(eh_submit(&h, &r1, &spec), 0);
    ck_assert_int_eq(eh_get(&h, &r2, REG "/api/x", IMGSYNC__CRED_PROVIDER), 0);
    eh_run(&h);
    ck_assert_int_eq(r1.status, 204);
    ck_assert_int_eq(r2.status, 200);
    const fake_request *post = fake_request_at(h.ft, 0), *get = fake_request_at(h.ft, 1);
    ck_assert_str_eq(post->method, "POST");
    ck_assert_str_eq(fake_request_header(post, "Content-Length"), "0");
    ck_assert_ptr_null(fake_request_header(post, "Content-Type"));
    ck_assert_uint_eq(post->body_len, 0);
    ck_assert_ptr_null(fake_request_header(get, "Content-Length"));
    ck_assert_ptr_null(fake_request_header(get, "Content-Type"));
    ck_assert_uint_eq(h.nsigns, 2);
    ck_assert_str_eq(eh_dump_value(h.signs[0].headers, "Content-Length"), "0");
    ck_assert_uint_eq(h.signs[0].body_len, 0);
    eh_req_clear(&r1);
    eh_req_clear(&r2);
    eh_free(&h);
}
END_TEST

/* What put_headers lists for each method, with and without a body: a Content-Length exactly where
 * a body goes out (POST and PUT always, 0 without a body; any method with a body), none for
 * GET, HEAD and a DELETE without a body. The libcurl transport sends a body (and with it a
 * Content-Length) exactly where one is listed (tests/integration/test_engine_wire.c). */
START_TEST(test_content_length_listed)
{
    static const struct {
        const char *method, *body, *length;
    } cases[] = {{"GET", NULL, NULL},   {"HEAD", NULL, NULL}, {"DELETE", NULL, NULL}, {"POST", NULL, "0"},
                 {"PUT", NULL, "0"},    {"POST", "ab", "2"},  {"PUT", "abc", "3"},    {"DELETE", "x", "1"},
                 {"POST", "", "0"}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        eh h;
        start(&h, NULL, NULL);
        fake_set_simple(h.ft, cases[i].method, REG "/api/x", 204, NULL, NULL);
        imgsync__ereq_spec spec;
        memset(&spec, 0, sizeof(spec));
        spec.method = cases[i].method;
        spec.url = REG "/api/x";
        spec.cred = IMGSYNC__CRED_PROVIDER;
        if (cases[i].body) {
            spec.body = cases[i].body;
            spec.body_len = strlen(cases[i].body);
            spec.content_type = "text/plain";
        }
        eh_req r = EH_REQ_INIT;
        ck_assert_int_eq(eh_submit(&h, &r, &spec), 0);
        eh_run(&h);
        ck_assert_int_eq(r.status, 204);
        ck_assert_uint_eq(h.nsigns, 1);
        const char *signed_len = eh_dump_value(h.signs[0].headers, "Content-Length");
        const fake_request *q = fake_request_at(h.ft, 0);
        const char *sent_len = fake_request_header(q, "Content-Length");
        if (cases[i].length) {
            ck_assert_msg(signed_len && !strcmp(signed_len, cases[i].length), "%s: signed Content-Length %s",
                          cases[i].method, signed_len ? signed_len : "(none)");
            ck_assert_str_eq(sent_len, cases[i].length);
        } else {
            ck_assert_msg(!signed_len, "%s without a body lists Content-Length: %s", cases[i].method, signed_len);
            ck_assert_ptr_null(sent_len);
        }
        ck_assert_int_eq(eh_dump_has(h.signs[0].headers, "Content-Type"), cases[i].body != NULL);
        eh_req_clear(&r);
        eh_free(&h);
    }
}
END_TEST

START_TEST(test_signed_on_every_retry)
{
    imgsync__engine_opts o;
    imgsync__engine_default_opts(&o);
    o.retry.base_ms = 10;
    eh h;
    start(&h, &o, NULL);
    fake_add_simple(h.ft, "POST", REG "/api/search", 503, NULL, "busy");
    fake_add_simple(h.ft, "POST", REG "/api/search", 502, NULL, "busy");
    fake_add_simple(h.ft, "POST", REG "/api/search", 200, NULL, "[]");
    eh_req r = EH_REQ_INIT;
    r.sign_header = "X-Sig";
    submit_body(&h, &r, "POST", REG "/api/search", IMGSYNC__CRED_PROVIDER, 1);
    eh_run(&h);
    ck_assert_int_eq(r.status, 200);
    ck_assert_uint_eq(fake_nrequests(h.ft), 3);
    ck_assert_uint_eq(h.nsigns, 3);
    for (size_t i = 0; i < 3; i++) {
        char want[16];
        snprintf(want, sizeof(want), "sig-%zu", i + 1);
        ck_assert_int_eq(h.signs[i].attempt, (int)i + 1);
        ck_assert_str_eq(h.signs[i].body, BODY);
        /* a new signature each time, not the previous attempt's left over */
        ck_assert_str_eq(fake_request_header(fake_request_at(h.ft, i), "X-Sig"), want);
        ck_assert(!eh_dump_has(h.signs[i].headers, "X-Sig"));
        ck_assert_str_eq(fake_request_at(h.ft, i)->body, BODY);
    }
    ck_assert_int_eq(h.ev_sent, 3);
    ck_assert_int_eq(h.ev_retry, 2);
    eh_req_clear(&r);
    eh_free(&h);
}
END_TEST

START_TEST(test_signed_after_token_replay)
{
    /* the replay with the Bearer token is signed again and the signature covers the token; the
     * engine's own token request is not given to the hook */
    eh h;
    start(&h, NULL, &k_alice);
    const char *url = REG "/v2/app/tags/list";
    fake_add_simple(h.ft, "GET", url, 401,
                    "WWW-Authenticate: Bearer realm=\"https://auth.example/t\",scope=\"repository:app:pull\"", "");
    fake_add_simple(h.ft, "GET", url, 200, NULL, "{}");
    fake_set_simple(h.ft, "GET", "https://auth.example/t?scope=repository%3Aapp%3Apull", 200, NULL,
                    "{\"token\":\"tok\"}");
    eh_req r = EH_REQ_INIT;
    r.sign_header = "X-Sig";
    ck_assert_int_eq(eh_get(&h, &r, url, IMGSYNC__CRED_REGISTRY), 0);
    eh_run(&h);
    ck_assert_int_eq(r.status, 200);
    ck_assert_uint_eq(fake_nrequests(h.ft), 3);
    ck_assert_uint_eq(h.nsigns, 2);
    ck_assert_str_eq(eh_dump_value(h.signs[0].headers, "Authorization"), "Basic YWxpY2U6czNjcmV0");
    ck_assert_str_eq(eh_dump_value(h.signs[1].headers, "Authorization"), "Bearer tok");
    ck_assert_str_eq(h.signs[1].url, url);
    ck_assert_ptr_null(fake_request_header(fake_request_at(h.ft, 1), "X-Sig")); /* token request */
    ck_assert_str_eq(fake_request_header(fake_request_at(h.ft, 2), "X-Sig"), "sig-2");
    eh_req_clear(&r);
    eh_free(&h);
}
END_TEST

START_TEST(test_signed_after_same_origin_redirect)
{
    eh h;
    start(&h, NULL, NULL);
    fake_set_simple(h.ft, "PUT", REG "/api/a", 308, "Location: /api/b?x=1", "");
    fake_set_simple(h.ft, "PUT", REG "/api/b?x=1", 200, NULL, "{}");
    eh_req r = EH_REQ_INIT;
    r.sign_header = "X-Sig";
    submit_body(&h, &r, "PUT", REG "/api/a", IMGSYNC__CRED_PROVIDER, 0);
    eh_run(&h);
    ck_assert_int_eq(r.status, 200);
    ck_assert_uint_eq(h.nsigns, 2);
    ck_assert_str_eq(h.signs[1].method, "PUT");
    ck_assert_str_eq(h.signs[1].url, REG "/api/b?x=1");
    ck_assert_str_eq(h.signs[1].body, BODY);
    ck_assert_str_eq(fake_request_header(fake_request_at(h.ft, 1), "X-Sig"), "sig-2");
    char *sent = wire_dump(fake_request_at(h.ft, 1), "X-Sig");
    ck_assert_str_eq(h.signs[1].headers, sent);
    free(sent);
    eh_req_clear(&r);
    eh_free(&h);
}
END_TEST

START_TEST(test_sign_failure_fails_once)
{
    /* refused at the first attempt: nothing goes out, done once with that code */
    eh h;
    start(&h, NULL, NULL);
    fake_set_simple(h.ft, "POST", IAM, 201, NULL, "{}");
    eh_req r = EH_REQ_INIT;
    r.sign_rc = IMGSYNC_EAUTH;
    submit_body(&h, &r, "POST", IAM, IMGSYNC__CRED_PROVIDER, 0);
    eh_run(&h);
    ck_assert_int_eq(r.done_calls, 1);
    ck_assert_int_eq(r.error, IMGSYNC_EAUTH);
    ck_assert_int_eq(r.status, 0);
    ck_assert_str_eq(r.detail, "the request could not be signed");
    ck_assert_int_eq(r.sign_calls, 1);
    ck_assert_uint_eq(fake_nrequests(h.ft), 0);
    ck_assert_int_eq(h.ev_sent, 0);
    ck_assert_uint_eq(imgsync__engine_pending(h.e), 0);
    eh_req_clear(&r);
    eh_free(&h);
}
END_TEST

/* Fails the signing from the second attempt on. */
static void fail_from_second(eh_req *r)
{
    if (r->sign_calls >= 2)
        r->sign_rc = IMGSYNC_ENOMEM;
}

START_TEST(test_sign_failure_on_retry)
{
    imgsync__engine_opts o;
    imgsync__engine_default_opts(&o);
    o.retry.base_ms = 10;
    eh h;
    start(&h, &o, NULL);
    fake_set_simple(h.ft, "GET", REG "/api/x", 503, NULL, "busy");
    eh_req r = EH_REQ_INIT;
    r.on_sign = fail_from_second;
    ck_assert_int_eq(eh_get(&h, &r, REG "/api/x", IMGSYNC__CRED_PROVIDER), 0);
    eh_run(&h);
    ck_assert_int_eq(r.done_calls, 1);
    ck_assert_int_eq(r.error, IMGSYNC_ENOMEM);
    ck_assert_int_eq(r.sign_calls, 2);
    ck_assert_uint_eq(fake_nrequests(h.ft), 1);
    eh_req_clear(&r);
    eh_free(&h);
}
END_TEST

/* Tries headers the hook may not add, then one it may; *ud = 1 when each was judged right. */
static int sign_forbidden(void *ud, imgsync__wire *w)
{
    int *ok = ud;
    *ok = imgsync__wire_add_header(w, "Host", "evil.example") == IMGSYNC_EINVAL &&
          imgsync__wire_add_header(w, "content-length", "1") == IMGSYNC_EINVAL &&
          imgsync__wire_add_header(w, "X-A", "v\r\nX-Injected: 1") == IMGSYNC_EINVAL &&
          imgsync__wire_add_header(w, "X-A", "v\nX") == IMGSYNC_EINVAL &&
          imgsync__wire_add_header(w, "Bad Name", "v") == IMGSYNC_EINVAL &&
          imgsync__wire_add_header(w, "", "v") == IMGSYNC_EINVAL &&
          imgsync__wire_add_header(w, "X-A", NULL) == IMGSYNC_EINVAL &&
          imgsync__wire_add_header(w, "X-Date", "20260101T000000Z") == 0 &&
          imgsync__wire_header(w, "x-date") != NULL;
    return 0;
}

static void done_nothing(void *ud, const imgsync__eresp *resp)
{
    (void)ud;
    (void)resp;
}

START_TEST(test_sign_hook_header_rules)
{
    eh h;
    eh_init(&h, NULL);
    imgsync__policy p;
    memset(&p, 0, sizeof(p));
    imgsync__hooks hooks = {sign_forbidden, done_nothing, NULL, NULL};
    ck_assert_int_eq(imgsync__group_new(&h.g, h.e, &p, &hooks, NULL), 0);
    ck_assert_int_eq(imgsync__group_allow_origin(h.g, REG), 0);
    fake_set_simple(h.ft, "GET", REG "/api/x", 200, NULL, "{}");
    int ok = -1;
    imgsync__ereq_spec spec;
    memset(&spec, 0, sizeof(spec));
    spec.method = "GET";
    spec.url = REG "/api/x";
    spec.cred = IMGSYNC__CRED_PROVIDER;
    spec.ud = &ok;
    ck_assert_int_eq(imgsync__group_submit(h.g, &spec), 0);
    eh_run(&h);
    ck_assert_int_eq(ok, 1);
    const fake_request *q = fake_request_at(h.ft, 0);
    ck_assert_str_eq(fake_request_header(q, "Host"), "reg.example");
    ck_assert_str_eq(fake_request_header(q, "X-Date"), "20260101T000000Z");
    ck_assert_ptr_null(fake_request_header(q, "X-Injected"));
    ck_assert_ptr_null(fake_request_header(q, "X-A"));
    eh_free(&h);
}
END_TEST

START_TEST(test_provider_header_injection_refused)
{
    /* a provider header line with CR/LF fails the request instead of going out */
    eh h;
    start(&h, NULL, NULL);
    static const char *const lines[] = {"X-Token: a\r\nX-Injected: 1"};
    imgsync__ereq_spec spec;
    memset(&spec, 0, sizeof(spec));
    spec.method = "GET";
    spec.url = REG "/api/x";
    spec.headers = lines;
    spec.nheaders = 1;
    spec.cred = IMGSYNC__CRED_PROVIDER;
    eh_req r = EH_REQ_INIT;
    ck_assert_int_eq(eh_submit(&h, &r, &spec), 0);
    eh_run(&h);
    ck_assert_int_eq(r.done_calls, 1);
    ck_assert_int_eq(r.error, IMGSYNC_EINVAL);
    ck_assert_uint_eq(fake_nrequests(h.ft), 0);
    eh_req_clear(&r);
    eh_free(&h);
}
END_TEST

START_TEST(test_provider_reserved_headers_refused)
{
    /* Host and Content-Length are the engine's: a provider line naming them is refused as the
     * sign hook's would be, rather than sent twice (the Host another than the URL's) */
    static const char *const bad[] = {"Host: evil.example", "content-length: 1"};
    for (size_t i = 0; i < 2; i++) {
        eh h;
        start(&h, NULL, NULL);
        fake_set_simple(h.ft, "POST", REG "/api/x", 200, NULL, "{}");
        imgsync__ereq_spec spec;
        memset(&spec, 0, sizeof(spec));
        spec.method = "POST";
        spec.url = REG "/api/x";
        spec.headers = &bad[i];
        spec.nheaders = 1;
        spec.body = "{}";
        spec.body_len = 2;
        spec.content_type = "application/json";
        spec.cred = IMGSYNC__CRED_NONE;
        eh_req r = EH_REQ_INIT;
        ck_assert_int_eq(eh_submit(&h, &r, &spec), 0);
        eh_run(&h);
        ck_assert_int_eq(r.done_calls, 1);
        ck_assert_msg(r.error == IMGSYNC_EINVAL, "%s: error %d", bad[i], r.error);
        ck_assert_uint_eq(fake_nrequests(h.ft), 0);
        eh_req_clear(&r);
        eh_free(&h);
    }
}
END_TEST

Suite *engine_sign_suite(void)
{
    Suite *s = suite_create("engine_sign");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_post_body_on_the_wire);
    tcase_add_test(tc, test_caller_headers_not_doubled);
    tcase_add_test(tc, test_bodyless_requests);
    tcase_add_test(tc, test_content_length_listed);
    tcase_add_test(tc, test_signed_on_every_retry);
    tcase_add_test(tc, test_signed_after_token_replay);
    tcase_add_test(tc, test_signed_after_same_origin_redirect);
    tcase_add_test(tc, test_sign_failure_fails_once);
    tcase_add_test(tc, test_sign_failure_on_retry);
    tcase_add_test(tc, test_sign_hook_header_rules);
    tcase_add_test(tc, test_provider_header_injection_refused);
    tcase_add_test(tc, test_provider_reserved_headers_refused);
    suite_add_tcase(s, tc);
    return s;
}

#include "check_main.h"
IMGSYNC_TEST_MAIN(engine_sign_suite)
