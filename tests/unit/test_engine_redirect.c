/*
 * Redirects, followed by the engine on the fake transport: on the same origin the request goes
 * on as it was (credentials, provider headers, sign hook on the final URL); to another origin it
 * goes on without any of them; never down to plain http; a limited number of times; bodies only
 * where they were meant to go.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine.h"
#include "imgsync/errors.h"
#include "support/engine_harness.h"

Suite *engine_redirect_suite(void);

#define REG "https://reg.example"
#define CDN "https://cdn.example"
#define BASIC "Basic YWxpY2U6czNjcmV0" /* alice:s3cret */
#define OCI_ACCEPT "application/vnd.oci.image.manifest.v1+json"

static const imgsync__policy k_alice = {"alice", "s3cret", NULL, 0, 0, 0, NULL, NULL};

static void start(eh *h, const imgsync__policy *p)
{
    eh_init(h, NULL);
    ck_assert_int_eq(eh_group(h, p ? p : &k_alice), 0);
    ck_assert_int_eq(imgsync__group_allow_origin(h->g, REG), 0);
}

/* GET url with the provider's headers Accept and X-Provider, signed with X-Sig. */
static void submit_get(eh *h, eh_req *r, const char *url, int cred)
{
    static const char *const lines[] = {"Accept: " OCI_ACCEPT, "X-Provider: secret-ish"};
    imgsync__ereq_spec spec;
    memset(&spec, 0, sizeof(spec));
    spec.method = "GET";
    spec.url = url;
    spec.headers = lines;
    spec.nheaders = 2;
    spec.cred = cred;
    spec.idempotent = 1;
    r->sign_header = "X-Sig";
    ck_assert_int_eq(eh_submit(h, r, &spec), 0);
}

static const fake_request *req_at(const eh *h, size_t i)
{
    const fake_request *q = fake_request_at(h->ft, i);
    ck_assert_ptr_nonnull(q);
    return q;
}

START_TEST(test_same_origin_redirect_keeps_everything)
{
    eh h;
    start(&h, NULL);
    fake_set_simple(h.ft, "GET", REG "/v2/app/manifests/a", 302, "Location: /v2/app/manifests/b", "");
    fake_set_simple(h.ft, "GET", REG "/v2/app/manifests/b", 200, NULL, "manifest");
    eh_req r = EH_REQ_INIT;
    submit_get(&h, &r, REG "/v2/app/manifests/a", IMGSYNC__CRED_BASIC);
    eh_run(&h);
    ck_assert_int_eq(r.done_calls, 1);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(r.body, "manifest");
    ck_assert_str_eq(r.url, REG "/v2/app/manifests/b");
    ck_assert_uint_eq(fake_nrequests(h.ft), 2);
    for (size_t i = 0; i < 2; i++) {
        const fake_request *q = req_at(&h, i);
        ck_assert_str_eq(fake_request_header(q, "Authorization"), BASIC);
        ck_assert_str_eq(fake_request_header(q, "X-Provider"), "secret-ish");
        ck_assert_str_eq(fake_request_header(q, "Accept"), OCI_ACCEPT);
        ck_assert_str_eq(fake_request_header(q, "Host"), "reg.example");
    }
    ck_assert_str_eq(fake_request_header(req_at(&h, 1), "X-Sig"), "sig-2");
    /* the sign hook saw each attempt's final URL */
    ck_assert_uint_eq(h.nsigns, 2);
    ck_assert_str_eq(h.signs[0].url, REG "/v2/app/manifests/a");
    ck_assert_str_eq(h.signs[1].url, REG "/v2/app/manifests/b");
    ck_assert_int_eq(h.signs[1].attempt, 2);
    ck_assert_str_eq(eh_dump_value(h.signs[1].headers, "Authorization"), BASIC);
    /* a redirect is not a retry */
    ck_assert_int_eq(h.ev_sent, 2);
    ck_assert_int_eq(h.ev_retry, 0);
    eh_req_clear(&r);
    eh_free(&h);
}
END_TEST

START_TEST(test_cross_origin_redirect_is_anonymous)
{
    static const int statuses[] = {301, 302, 303, 307, 308};
    for (size_t i = 0; i < 5; i++) {
        eh h;
        start(&h, NULL);
        char loc[128];
        snprintf(loc, sizeof(loc), "Location: " CDN "/blobs/sha256:1?sig=abc");
        fake_set_simple(h.ft, "GET", REG "/v2/app/blobs/sha256:1", statuses[i], loc, "");
        fake_set_simple(h.ft, "GET", CDN "/blobs/sha256:1?sig=abc", 200, NULL, "blob");
        eh_req r = EH_REQ_INIT;
        submit_get(&h, &r, REG "/v2/app/blobs/sha256:1", IMGSYNC__CRED_BASIC);
        eh_run(&h);
        ck_assert_int_eq(r.done_calls, 1);
        ck_assert_int_eq(r.status, 200);
        ck_assert_str_eq(r.url, CDN "/blobs/sha256:1?sig=abc");
        ck_assert_uint_eq(fake_nrequests(h.ft), 2);
        const fake_request *q = req_at(&h, 1);
        ck_assert_str_eq(q->url, CDN "/blobs/sha256:1?sig=abc");
        /* no credentials, no provider header, no signature; Accept kept */
        ck_assert_ptr_null(fake_request_header(q, "Authorization"));
        ck_assert_ptr_null(fake_request_header(q, "X-Provider"));
        ck_assert_ptr_null(fake_request_header(q, "X-Sig"));
        ck_assert_str_eq(fake_request_header(q, "Accept"), OCI_ACCEPT);
        ck_assert_str_eq(fake_request_header(q, "Host"), "cdn.example");
        ck_assert_uint_eq(h.nsigns, 1); /* only the first attempt was signed */
        eh_req_clear(&r);
        eh_free(&h);
    }
}
END_TEST

START_TEST(test_cross_origin_redirect_even_to_allowed_origin)
{
    /* an origin allowed for credentials is still another origin after a redirect */
    eh h;
    start(&h, NULL);
    ck_assert_int_eq(imgsync__group_allow_origin(h.g, CDN), 0);
    fake_set_simple(h.ft, "GET", REG "/v2/", 302, "Location: " CDN "/v2/", "");
    fake_set_simple(h.ft, "GET", CDN "/v2/", 200, NULL, "{}");
    eh_req r = EH_REQ_INIT;
    submit_get(&h, &r, REG "/v2/", IMGSYNC__CRED_BASIC);
    eh_run(&h);
    ck_assert_int_eq(r.status, 200);
    ck_assert_ptr_null(fake_request_header(req_at(&h, 1), "Authorization"));
    ck_assert_ptr_null(fake_request_header(req_at(&h, 1), "X-Sig"));
    eh_req_clear(&r);
    eh_free(&h);
}
END_TEST

START_TEST(test_bearer_does_not_cross)
{
    /* a request holding a Bearer token, redirected to the blob store: the token stays home, and
     * a 401 from there is not answered with the group's credentials */
    eh h;
    start(&h, NULL);
    const char *url = REG "/v2/app/blobs/sha256:2";
    fake_add_simple(h.ft, "GET", url, 401,
                    "WWW-Authenticate: Bearer realm=\"https://auth.example/token\",service=\"reg\","
                    "scope=\"repository:app:pull\"",
                    "");
    fake_add_simple(h.ft, "GET", url, 307, "Location: " CDN "/b/2", "");
    fake_set_simple(h.ft, "GET", "https://auth.example/token?service=reg&scope=repository%3Aapp%3Apull", 200, NULL,
                    "{\"token\":\"tok-1\"}");
    fake_set_simple(h.ft, "GET", CDN "/b/2", 401, "WWW-Authenticate: Basic realm=\"cdn\"", "");
    eh_req r = EH_REQ_INIT;
    submit_get(&h, &r, url, IMGSYNC__CRED_REGISTRY);
    eh_run(&h);
    ck_assert_int_eq(r.done_calls, 1);
    ck_assert_int_eq(r.status, 401);
    ck_assert_uint_eq(fake_nrequests(h.ft), 4);
    ck_assert_str_eq(fake_request_header(req_at(&h, 2), "Authorization"), "Bearer tok-1");
    ck_assert_str_eq(req_at(&h, 3)->url, CDN "/b/2");
    ck_assert_ptr_null(fake_request_header(req_at(&h, 3), "Authorization"));
    eh_req_clear(&r);
    eh_free(&h);
}
END_TEST

START_TEST(test_downgrade_to_http_refused)
{
    static const char *const targets[] = {"http://reg.example/v2/", "http://cdn.example/v2/"};
    for (size_t i = 0; i < 2; i++) {
        eh h;
        start(&h, NULL);
        char loc[128];
        snprintf(loc, sizeof(loc), "Location: %s", targets[i]);
        fake_set_simple(h.ft, "GET", REG "/v2/", 301, loc, "");
        eh_req r = EH_REQ_INIT;
        submit_get(&h, &r, REG "/v2/", IMGSYNC__CRED_NONE);
        eh_run(&h);
        ck_assert_int_eq(r.done_calls, 1);
        ck_assert_int_eq(r.error, IMGSYNC_EINSECURE);
        ck_assert_str_eq(r.detail, "redirected to plain http");
        ck_assert_uint_eq(fake_nrequests(h.ft), 1);
        ck_assert_uint_eq(fake_unexpected(h.ft), 0);
        eh_req_clear(&r);
        eh_free(&h);
    }
    /* allow_http: followed, but as another origin (the scheme differs): anonymous */
    imgsync__policy p = k_alice;
    p.allow_http = 1;
    eh h;
    start(&h, &p);
    fake_set_simple(h.ft, "GET", REG "/v2/", 301, "Location: http://reg.example/v2/", "");
    fake_set_simple(h.ft, "GET", "http://reg.example/v2/", 200, NULL, "{}");
    eh_req r = EH_REQ_INIT;
    submit_get(&h, &r, REG "/v2/", IMGSYNC__CRED_BASIC);
    eh_run(&h);
    ck_assert_int_eq(r.status, 200);
    ck_assert_uint_eq(fake_nrequests(h.ft), 2);
    ck_assert_str_eq(fake_request_header(req_at(&h, 0), "Authorization"), BASIC);
    ck_assert_ptr_null(fake_request_header(req_at(&h, 1), "Authorization"));
    ck_assert_ptr_null(fake_request_header(req_at(&h, 1), "X-Provider"));
    eh_req_clear(&r);
    eh_free(&h);
}
END_TEST

START_TEST(test_downgrade_to_loopback_http_refused)
{
    /* plain http to loopback is allowed for requests made there on purpose (a local registry),
     * but a remote https server must not be able to send the client down to a local plain-http
     * service */
    static const char *const targets[] = {"http://127.0.0.1:5000/v2/", "http://localhost/admin"};
    for (size_t i = 0; i < 2; i++) {
        eh h;
        start(&h, NULL);
        char loc[128];
        snprintf(loc, sizeof(loc), "Location: %s", targets[i]);
        fake_set_simple(h.ft, "GET", REG "/v2/", 302, loc, "");
        fake_set_simple(h.ft, "GET", targets[i], 200, NULL, "local secrets");
        eh_req r = EH_REQ_INIT;
        submit_get(&h, &r, REG "/v2/", IMGSYNC__CRED_NONE);
        eh_run(&h);
        ck_assert_int_eq(r.done_calls, 1);
        ck_assert_msg(r.error == IMGSYNC_EINSECURE, "%s: error %d status %d", targets[i], r.error, r.status);
        ck_assert_uint_eq(fake_nrequests(h.ft), 1);
        eh_req_clear(&r);
        eh_free(&h);
    }
    /* a loopback registry on plain http redirecting within itself is fine */
    eh h;
    start(&h, NULL);
    fake_set_simple(h.ft, "GET", "http://127.0.0.1:5000/v2/a", 307, "Location: /v2/b", "");
    fake_set_simple(h.ft, "GET", "http://127.0.0.1:5000/v2/b", 200, NULL, "{}");
    eh_req r = EH_REQ_INIT;
    submit_get(&h, &r, "http://127.0.0.1:5000/v2/a", IMGSYNC__CRED_NONE);
    eh_run(&h);
    ck_assert_int_eq(r.status, 200);
    eh_req_clear(&r);
    eh_free(&h);
}
END_TEST

START_TEST(test_redirect_to_other_scheme_refused)
{
    /* not http(s) at all: not followed, and not reported as plain http */
    eh h;
    start(&h, NULL);
    fake_set_simple(h.ft, "GET", REG "/v2/", 302, "Location: ftp://files.example/v2/", "");
    eh_req r = EH_REQ_INIT;
    submit_get(&h, &r, REG "/v2/", IMGSYNC__CRED_NONE);
    eh_run(&h);
    ck_assert_int_eq(r.done_calls, 1);
    ck_assert_uint_eq(fake_nrequests(h.ft), 1);
    ck_assert_msg(r.error != 0 || r.status == 302, "error %d status %d", r.error, r.status);
    ck_assert_msg(strstr(r.detail, "plain http") == NULL, "detail: %s", r.detail);
    eh_req_clear(&r);
    eh_free(&h);
}
END_TEST

START_TEST(test_redirect_limit)
{
    /* a loop between two URLs: five redirects followed, the sixth answer delivered as it is */
    eh h;
    start(&h, NULL);
    fake_set_simple(h.ft, "GET", REG "/a", 302, "Location: /b", "");
    fake_set_simple(h.ft, "GET", REG "/b", 302, "Location: /a", "");
    eh_req r = EH_REQ_INIT;
    submit_get(&h, &r, REG "/a", IMGSYNC__CRED_NONE);
    eh_run(&h);
    ck_assert_int_eq(r.done_calls, 1);
    ck_assert_int_eq(r.status, 302);
    ck_assert_uint_eq(fake_nrequests(h.ft), 6);
    ck_assert_uint_eq(fake_count(h.ft, "GET", REG "/a"), 3);
    ck_assert_uint_eq(fake_count(h.ft, "GET", REG "/b"), 3);
    eh_req_clear(&r);
    eh_free(&h);
    /* a self-redirect likewise */
    start(&h, NULL);
    fake_set_simple(h.ft, "GET", REG "/self", 307, "Location: " REG "/self", "");
    eh_req r2 = EH_REQ_INIT;
    submit_get(&h, &r2, REG "/self", IMGSYNC__CRED_NONE);
    eh_run(&h);
    ck_assert_int_eq(r2.done_calls, 1);
    ck_assert_int_eq(r2.status, 307);
    ck_assert_uint_eq(fake_nrequests(h.ft), 6);
    eh_req_clear(&r2);
    eh_free(&h);
}
END_TEST

START_TEST(test_relative_locations)
{
    static const struct {
        const char *location, *target;
    } cases[] = {
        {"/v2/x/tags/list?n=2", REG "/v2/x/tags/list?n=2"},
        {"list?last=b", REG "/v2/app/tags/list?last=b"},
        {"../manifests/v1", REG "/v2/app/manifests/v1"},
        {"?n=100", REG "/v2/app/tags/list?n=100"},
        {"//cdn.example/p", CDN "/p"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        eh h;
        start(&h, NULL);
        char loc[128];
        snprintf(loc, sizeof(loc), "Location: %s", cases[i].location);
        fake_set_simple(h.ft, "GET", REG "/v2/app/tags/list", 302, loc, "");
        fake_set_simple(h.ft, "GET", cases[i].target, 200, NULL, "{}");
        eh_req r = EH_REQ_INIT;
        submit_get(&h, &r, REG "/v2/app/tags/list", IMGSYNC__CRED_NONE);
        eh_run(&h);
        ck_assert_msg(r.status == 200, "Location %s: status %d", cases[i].location, r.status);
        ck_assert_str_eq(req_at(&h, 1)->url, cases[i].target);
        ck_assert_str_eq(r.url, cases[i].target);
        eh_req_clear(&r);
        eh_free(&h);
    }
}
END_TEST

START_TEST(test_redirect_without_location_delivered)
{
    eh h;
    start(&h, NULL);
    fake_set_simple(h.ft, "GET", REG "/v2/", 302, NULL, "moved somewhere");
    eh_req r = EH_REQ_INIT;
    submit_get(&h, &r, REG "/v2/", IMGSYNC__CRED_NONE);
    eh_run(&h);
    ck_assert_int_eq(r.status, 302);
    ck_assert_uint_eq(fake_nrequests(h.ft), 1);
    eh_req_clear(&r);
    eh_free(&h);
}
END_TEST

/* POST url with a JSON body. */
static void submit_post(eh *h, eh_req *r, const char *url)
{
    imgsync__ereq_spec spec;
    memset(&spec, 0, sizeof(spec));
    spec.method = "POST";
    spec.url = url;
    spec.body = "{\"password\":\"pw\"}";
    spec.body_len = strlen(spec.body);
    spec.content_type = "application/json";
    spec.cred = IMGSYNC__CRED_PROVIDER;
    r->sign_header = "X-Sig";
    ck_assert_int_eq(eh_submit(h, r, &spec), 0);
}

START_TEST(test_body_follows_only_307_308_same_origin)
{
    /* 307/308 on the same origin: the body goes again, signed again on the final URL */
    static const int keep[] = {307, 308};
    for (size_t i = 0; i < 2; i++) {
        eh h;
        start(&h, NULL);
        fake_set_simple(h.ft, "POST", REG "/v3/auth/tokens", keep[i], "Location: /v3/auth/tokens2", "");
        fake_set_simple(h.ft, "POST", REG "/v3/auth/tokens2", 201, "X-Subject-Token: t", "{}");
        eh_req r = EH_REQ_INIT;
        submit_post(&h, &r, REG "/v3/auth/tokens");
        eh_run(&h);
        ck_assert_int_eq(r.status, 201);
        ck_assert_uint_eq(fake_nrequests(h.ft), 2);
        ck_assert_str_eq(req_at(&h, 1)->body, "{\"password\":\"pw\"}");
        ck_assert_str_eq(fake_request_header(req_at(&h, 1), "Content-Type"), "application/json");
        ck_assert_uint_eq(h.nsigns, 2);
        ck_assert_str_eq(h.signs[1].url, REG "/v3/auth/tokens2");
        ck_assert_str_eq(h.signs[1].body, "{\"password\":\"pw\"}");
        eh_req_clear(&r);
        eh_free(&h);
    }
    /* 301/302/303 with a body, or any redirect to another origin: delivered as they are */
    static const struct {
        int status;
        const char *location;
    } stop[] = {{301, "/v3/x"}, {302, "/v3/x"}, {303, "/v3/x"}, {307, CDN "/v3/x"}, {308, CDN "/v3/x"}};
    for (size_t i = 0; i < 5; i++) {
        eh h;
        start(&h, NULL);
        char loc[128];
        snprintf(loc, sizeof(loc), "Location: %s", stop[i].location);
        fake_set_simple(h.ft, "POST", REG "/v3/auth/tokens", stop[i].status, loc, "");
        eh_req r = EH_REQ_INIT;
        submit_post(&h, &r, REG "/v3/auth/tokens");
        eh_run(&h);
        ck_assert_int_eq(r.done_calls, 1);
        ck_assert_int_eq(r.status, stop[i].status);
        ck_assert_uint_eq(fake_nrequests(h.ft), 1);
        eh_req_clear(&r);
        eh_free(&h);
    }
}
END_TEST

Suite *engine_redirect_suite(void)
{
    Suite *s = suite_create("engine_redirect");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_same_origin_redirect_keeps_everything);
    tcase_add_test(tc, test_cross_origin_redirect_is_anonymous);
    tcase_add_test(tc, test_cross_origin_redirect_even_to_allowed_origin);
    tcase_add_test(tc, test_bearer_does_not_cross);
    tcase_add_test(tc, test_downgrade_to_http_refused);
    tcase_add_test(tc, test_downgrade_to_loopback_http_refused);
    tcase_add_test(tc, test_redirect_to_other_scheme_refused);
    tcase_add_test(tc, test_redirect_limit);
    tcase_add_test(tc, test_relative_locations);
    tcase_add_test(tc, test_redirect_without_location_delivered);
    tcase_add_test(tc, test_body_follows_only_307_308_same_origin);
    suite_add_tcase(s, tc);
    return s;
}

#include "check_main.h"
IMGSYNC_TEST_MAIN(engine_redirect_suite)
