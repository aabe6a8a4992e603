/*
 * Engine credentials on the fake transport and the fake clock: which request carries which
 * Authorization, where credentialed requests may go, and the Bearer challenge flow (token request
 * to the realm, replay, tokens cached per group, realm, service and scope, expiry, limits).
 */
#include <check.h>
#include <malloc.h>
#if defined(__has_include)
#if __has_include(<valgrind/memcheck.h>)
#include <valgrind/memcheck.h>
#endif
#endif
#ifndef VALGRIND_MAKE_MEM_DEFINED
#define VALGRIND_MAKE_MEM_DEFINED(p, n) ((void)(p), (void)(n))
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "engine/engine.h"
#include "imgsync/errors.h"
#include "support/engine_harness.h"

Suite *engine_auth_suite(void);

#define REG "https://reg.example"
#define MIRROR "https://mirror.example"
#define TAGS REG "/v2/app/tags/list"
#define MANIFEST REG "/v2/app/manifests/latest"
#define OTHER_TAGS REG "/v2/other/tags/list"
#define BASIC "Basic YWxpY2U6czNjcmV0" /* alice:s3cret */
#define CHALLENGE(scope)                                                                                     \
    "WWW-Authenticate: Bearer realm=\"https://auth.example/token\",service=\"reg.example\",scope=\"" scope "\""
#define TOKEN_URL(scope) "https://auth.example/token?service=reg.example&scope=" scope
#define APP_SCOPE "repository:app:pull"
#define APP_TOKEN_URL TOKEN_URL("repository%3Aapp%3Apull")
#define OTHER_TOKEN_URL TOKEN_URL("repository%3Aother%3Apull")

static const imgsync__policy k_alice = {"alice", "s3cret", NULL, 0, 0, 0, NULL, NULL};

/* An engine with one group (policy p) allowed to send credentials to REG. */
static void start(eh *h, const imgsync__policy *p)
{
    eh_init(h, NULL);
    ck_assert_int_eq(eh_group(h, p), 0);
    ck_assert_int_eq(imgsync__group_allow_origin(h->g, REG), 0);
}

/* Script: url answers 401 (challenge) to its first attempt, then 200. */
static void script_challenged(eh *h, const char *url, const char *challenge)
{
    fake_add_simple(h->ft, "GET", url, 401, challenge, "{\"errors\":[{\"code\":\"UNAUTHORIZED\"}]}");
    fake_add_simple(h->ft, "GET", url, 200, "Content-Type: application/json", "{\"ok\":true}");
}

static void script_token(eh *h, const char *token_url, const char *token, int expires_in)
{
    char body[256];
    snprintf(body, sizeof(body), "{\"token\":\"%s\",\"expires_in\":%d}", token, expires_in);
    fake_add_simple(h->ft, "GET", token_url, 200, "Content-Type: application/json", body);
}

static const char *auth_of(const eh *h, size_t i)
{
    const fake_request *q = fake_request_at(h->ft, i);
    ck_assert_ptr_nonnull(q);
    return fake_request_header(q, "Authorization");
}

/* free is wrapped for this program (Makefile: -Wl,--wrap=free): while `watched` is set, every
 * block the library (or the test support code) frees is searched for it before it goes. libcurl's
 * and yajl's own frees are not seen (shared libraries). */
void __real_free(void *p);
void __wrap_free(void *p);
static const char *watched;
static int watched_hits;

void __wrap_free(void *p)
{
    if (p && watched) {
        size_t n = malloc_usable_size(p), w = strlen(watched);
        VALGRIND_MAKE_MEM_DEFINED(p, n); /* the unwritten rest of a block is read too */
        for (size_t i = 0; i + w <= n; i++)
            if (!memcmp((const char *)p + i, watched, w)) {
                watched_hits++;
                break;
            }
    }
    __real_free(p);
}

static const char *url_of(const eh *h, size_t i)
{
    const fake_request *q = fake_request_at(h->ft, i);
    ck_assert_ptr_nonnull(q);
    return q->url;
}

START_TEST(test_bearer_flow)
{
    eh h;
    start(&h, &k_alice);
    script_challenged(&h, TAGS, CHALLENGE(APP_SCOPE));
    script_token(&h, APP_TOKEN_URL, "tok-1", 300);
    eh_req r = EH_REQ_INIT;
    ck_assert_int_eq(eh_get(&h, &r, TAGS, IMGSYNC__CRED_REGISTRY), 0);
    eh_run(&h);
    ck_assert_int_eq(r.done_calls, 1);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(r.body, "{\"ok\":true}");
    ck_assert_uint_eq(fake_nrequests(h.ft), 3);
    ck_assert_uint_eq(fake_unexpected(h.ft), 0);
    /* 1: the request with Basic (a username is set) */
    ck_assert_str_eq(url_of(&h, 0), TAGS);
    ck_assert_str_eq(auth_of(&h, 0), BASIC);
    /* 2: the token request to the realm, with Basic, asking for JSON */
    ck_assert_str_eq(url_of(&h, 1), APP_TOKEN_URL);
    ck_assert_str_eq(auth_of(&h, 1), BASIC);
    ck_assert_str_eq(fake_request_header(fake_request_at(h.ft, 1), "Accept"), "application/json");
    /* 3: the replay with the token */
    ck_assert_str_eq(url_of(&h, 2), TAGS);
    ck_assert_str_eq(auth_of(&h, 2), "Bearer tok-1");
    /* SENT counts the token request too; no retry */
    ck_assert_int_eq(h.ev_sent, 3);
    ck_assert_int_eq(h.ev_retry, 0);
    eh_req_clear(&r);
    eh_free(&h);
}
END_TEST

/* The token is a secret: the token response's body, the request's Bearer copy and the header
 * lines it went out in are wiped before the engine frees them (the token cache when the group
 * goes). Searched in every block freed while the flow runs and while the group is freed. */
/* The challenge flow of one `cred` request answered with token `tok`, then the group freed, with
 * every freed block searched for `secret`: the number of blocks that held it. r is the caller's. */
static int flow_freeing(eh *h, eh_req *r, int cred, const char *tok, const char *secret)
{
    script_challenged(h, TAGS, CHALLENGE(APP_SCOPE));
    script_token(h, APP_TOKEN_URL, tok, 300);
    ck_assert_int_eq(eh_get(h, r, TAGS, cred), 0);
    watched_hits = 0;
    watched = secret;
    eh_run(h);
    imgsync__group_free(h->g);
    h->g = NULL;
    watched = NULL;
    ck_assert_int_eq(r->status, 200);
    return watched_hits;
}

START_TEST(test_token_wiped_before_free)
{
    static const char tok[] = "tok-5ecret-5ecret-5ecret-5ecret-5ecret";
    eh h;
    start(&h, &k_alice);
    eh_req r = EH_REQ_INIT;
    int hits = flow_freeing(&h, &r, IMGSYNC__CRED_REGISTRY, tok, tok);
    ck_assert_str_eq(auth_of(&h, 2), "Bearer tok-5ecret-5ecret-5ecret-5ecret-5ecret");
    ck_assert_msg(hits == 0, "%d freed blocks held the token", hits);
    eh_req_clear(&r);
    eh_free(&h); /* the fake transport's log holds it too: test code, not watched */
}
END_TEST

/* review2 reproducer: a request that carried a cached token and is challenged again waits for a
 * new token; release_waiters (and answer) then free its old Bearer copy with a plain free(),
 * leaving the token in freed memory (every other copy is wiped: imgsync__wipe_free). */
START_TEST(test_replaced_bearer_wiped_before_free)
{
    static const char tok1[] = "tok-0ld-0ld-0ld-0ld-0ld-0ld-0ld-0ld";
    eh h;
    start(&h, &k_alice);
    script_challenged(&h, TAGS, CHALLENGE(APP_SCOPE));
    script_token(&h, APP_TOKEN_URL, tok1, 300);
    eh_req r1 = EH_REQ_INIT, r2 = EH_REQ_INIT;
    ck_assert_int_eq(eh_get(&h, &r1, TAGS, IMGSYNC__CRED_REGISTRY), 0);
    eh_run(&h);
    ck_assert_int_eq(r1.status, 200);
    /* same scope: tok1 goes with the first attempt from the cache, the registry refuses it
     * (revoked) and asks again; a new token is fetched and the request replayed with it */
    script_challenged(&h, MANIFEST, CHALLENGE(APP_SCOPE));
    script_token(&h, APP_TOKEN_URL, "tok-new-new-new-new-new-new-new-new", 300);
    ck_assert_int_eq(eh_get(&h, &r2, MANIFEST, IMGSYNC__CRED_REGISTRY), 0);
    watched_hits = 0;
    watched = tok1;
    eh_run(&h);
    watched = NULL;
    ck_assert_int_eq(r2.status, 200);
    ck_assert_str_eq(auth_of(&h, 3), "Bearer tok-0ld-0ld-0ld-0ld-0ld-0ld-0ld-0ld");
    ck_assert_msg(watched_hits == 0, "%d freed blocks held the replaced token", watched_hits);
    eh_req_clear(&r1);
    eh_req_clear(&r2);
    eh_free(&h);
}
END_TEST

START_TEST(test_bearer_anonymous)
{
    /* no username: neither the request nor the token request carries Authorization */
    eh h;
    start(&h, NULL);
    script_challenged(&h, TAGS, CHALLENGE(APP_SCOPE));
    script_token(&h, APP_TOKEN_URL, "anon-1", 300);
    eh_req r = EH_REQ_INIT;
    ck_assert_int_eq(eh_get(&h, &r, TAGS, IMGSYNC__CRED_REGISTRY), 0);
    eh_run(&h);
    ck_assert_int_eq(r.status, 200);
    ck_assert_uint_eq(fake_nrequests(h.ft), 3);
    ck_assert_ptr_null(auth_of(&h, 0));
    ck_assert_ptr_null(auth_of(&h, 1));
    ck_assert_str_eq(auth_of(&h, 2), "Bearer anon-1");
    eh_req_clear(&r);
    eh_free(&h);
}
END_TEST

START_TEST(test_token_cached_per_scope)
{
    eh h;
    start(&h, &k_alice);
    script_challenged(&h, TAGS, CHALLENGE(APP_SCOPE));
    script_token(&h, APP_TOKEN_URL, "tok-app", 300);
    eh_req r1 = EH_REQ_INIT, r2 = EH_REQ_INIT, r3 = EH_REQ_INIT;
    ck_assert_int_eq(eh_get(&h, &r1, TAGS, IMGSYNC__CRED_REGISTRY), 0);
    eh_run(&h);
    ck_assert_int_eq(r1.status, 200);
    /* same scope (repository:app:pull, guessed from the URL): the cached token goes with the
     * first attempt, no 401 round trip, no second token request */
    fake_set_simple(h.ft, "GET", MANIFEST, 200, NULL, "{}");
    ck_assert_int_eq(eh_get(&h, &r2, MANIFEST, IMGSYNC__CRED_REGISTRY), 0);
    eh_run(&h);
    ck_assert_int_eq(r2.status, 200);
    ck_assert_uint_eq(fake_nrequests(h.ft), 4);
    ck_assert_str_eq(auth_of(&h, 3), "Bearer tok-app");
    ck_assert_uint_eq(fake_count(h.ft, "GET", APP_TOKEN_URL), 1);
    /* another scope: a token of its own */
    script_challenged(&h, OTHER_TAGS, CHALLENGE("repository:other:pull"));
    script_token(&h, OTHER_TOKEN_URL, "tok-other", 300);
    ck_assert_int_eq(eh_get(&h, &r3, OTHER_TAGS, IMGSYNC__CRED_REGISTRY), 0);
    eh_run(&h);
    ck_assert_int_eq(r3.status, 200);
    ck_assert_uint_eq(fake_nrequests(h.ft), 7);
    ck_assert_str_eq(auth_of(&h, 4), BASIC); /* tok-app is not sent for another scope */
    ck_assert_str_eq(url_of(&h, 5), OTHER_TOKEN_URL);
    ck_assert_str_eq(auth_of(&h, 6), "Bearer tok-other");
    ck_assert_uint_eq(fake_count(h.ft, "GET", APP_TOKEN_URL), 1);
    ck_assert_uint_eq(fake_count(h.ft, "GET", OTHER_TOKEN_URL), 1);
    eh_req_clear(&r1);
    eh_req_clear(&r2);
    eh_req_clear(&r3);
    eh_free(&h);
}
END_TEST

START_TEST(test_token_reused_after_challenge)
{
    /* a URL whose scope cannot be guessed: its 401 names a scope the group holds a token for,
     * and the request is replayed with it without a token request */
    eh h;
    start(&h, &k_alice);
    script_challenged(&h, TAGS, CHALLENGE(APP_SCOPE));
    script_token(&h, APP_TOKEN_URL, "tok-app", 300);
    eh_req r1 = EH_REQ_INIT, r2 = EH_REQ_INIT;
    ck_assert_int_eq(eh_get(&h, &r1, TAGS, IMGSYNC__CRED_REGISTRY), 0);
    eh_run(&h);
    script_challenged(&h, REG "/extensions/app", CHALLENGE(APP_SCOPE));
    ck_assert_int_eq(eh_get(&h, &r2, REG "/extensions/app", IMGSYNC__CRED_REGISTRY), 0);
    eh_run(&h);
    ck_assert_int_eq(r2.status, 200);
    ck_assert_uint_eq(fake_nrequests(h.ft), 5);
    ck_assert_str_eq(auth_of(&h, 3), BASIC);
    ck_assert_str_eq(auth_of(&h, 4), "Bearer tok-app");
    ck_assert_uint_eq(fake_count(h.ft, "GET", APP_TOKEN_URL), 1);
    eh_req_clear(&r1);
    eh_req_clear(&r2);
    eh_free(&h);
}
END_TEST

START_TEST(test_one_token_request_for_concurrent_requests)
{
    eh h;
    start(&h, &k_alice);
    eh_req r[4] = {EH_REQ_INIT, EH_REQ_INIT, EH_REQ_INIT, EH_REQ_INIT};
    static const char *const urls[] = {TAGS, MANIFEST, REG "/v2/app/manifests/v1", REG "/v2/app/manifests/v2"};
    for (size_t i = 0; i < 4; i++) {
        script_challenged(&h, urls[i], CHALLENGE(APP_SCOPE));
        ck_assert_int_eq(eh_get(&h, &r[i], urls[i], IMGSYNC__CRED_REGISTRY), 0);
    }
    script_token(&h, APP_TOKEN_URL, "tok-shared", 300);
    eh_run(&h);
    for (size_t i = 0; i < 4; i++) {
        ck_assert_int_eq(r[i].done_calls, 1);
        ck_assert_int_eq(r[i].status, 200);
        ck_assert_uint_eq(fake_count(h.ft, "GET", urls[i]), 2);
        eh_req_clear(&r[i]);
    }
    ck_assert_uint_eq(fake_count(h.ft, "GET", APP_TOKEN_URL), 1);
    ck_assert_uint_eq(fake_nrequests(h.ft), 9);
    eh_free(&h);
}
END_TEST

START_TEST(test_token_cache_per_group)
{
    /* two runs (groups) with the same registry do not share tokens */
    eh h;
    start(&h, &k_alice);
    imgsync__group *g1 = h.g;
    ck_assert_int_eq(eh_group(&h, &k_alice), 0);
    imgsync__group *g2 = h.g;
    ck_assert_int_eq(imgsync__group_allow_origin(g2, REG), 0);
    fake_add_simple(h.ft, "GET", TAGS, 401, CHALLENGE(APP_SCOPE), "no");
    fake_add_simple(h.ft, "GET", TAGS, 200, NULL, "{}");
    fake_add_simple(h.ft, "GET", TAGS, 401, CHALLENGE(APP_SCOPE), "no");
    fake_add_simple(h.ft, "GET", TAGS, 200, NULL, "{}");
    script_token(&h, APP_TOKEN_URL, "tok-g1", 300);
    script_token(&h, APP_TOKEN_URL, "tok-g2", 300);
    eh_req r1 = EH_REQ_INIT, r2 = EH_REQ_INIT;
    h.g = g1;
    ck_assert_int_eq(eh_get(&h, &r1, TAGS, IMGSYNC__CRED_REGISTRY), 0);
    eh_run(&h);
    h.g = g2;
    ck_assert_int_eq(eh_get(&h, &r2, TAGS, IMGSYNC__CRED_REGISTRY), 0);
    eh_run(&h);
    ck_assert_int_eq(r1.status, 200);
    ck_assert_int_eq(r2.status, 200);
    ck_assert_uint_eq(fake_count(h.ft, "GET", APP_TOKEN_URL), 2);
    ck_assert_str_eq(auth_of(&h, 2), "Bearer tok-g1");
    ck_assert_str_eq(auth_of(&h, 3), BASIC); /* g2 does not get g1's token */
    ck_assert_str_eq(auth_of(&h, 5), "Bearer tok-g2");
    /* each group redacts the tokens it holds */
    char text[] = "echo tok-g1 tok-g2";
    imgsync__group_redact(g2, text);
    ck_assert_str_eq(text, "echo tok-g1 ***");
    imgsync__group_free(g1);
    eh_req_clear(&r1);
    eh_req_clear(&r2);
    eh_free(&h);
}
END_TEST

START_TEST(test_token_expiry)
{
    /* a token lives expires_in seconds less a 10 s margin, on the fake monotonic clock */
    eh h;
    start(&h, &k_alice);
    script_challenged(&h, TAGS, CHALLENGE(APP_SCOPE));
    script_token(&h, APP_TOKEN_URL, "tok-1", 60);
    script_token(&h, APP_TOKEN_URL, "tok-2", 60);
    eh_req r1 = EH_REQ_INIT, r2 = EH_REQ_INIT, r3 = EH_REQ_INIT;
    ck_assert_int_eq(eh_get(&h, &r1, TAGS, IMGSYNC__CRED_REGISTRY), 0);
    eh_run(&h);
    ck_assert_int_eq(r1.status, 200);
    /* 49 s later: still valid, sent up front */
    fake_clock_advance(&h.fc, 49000);
    fake_set_simple(h.ft, "GET", MANIFEST, 200, NULL, "{}");
    ck_assert_int_eq(eh_get(&h, &r2, MANIFEST, IMGSYNC__CRED_REGISTRY), 0);
    eh_run(&h);
    ck_assert_uint_eq(fake_nrequests(h.ft), 4);
    ck_assert_str_eq(auth_of(&h, 3), "Bearer tok-1");
    /* 51 s after it was issued: expired (60 s - 10 s margin): not sent, a new token is fetched */
    fake_clock_advance(&h.fc, 2000);
    fake_clear_scripts(h.ft);
    script_challenged(&h, MANIFEST, CHALLENGE(APP_SCOPE));
    script_token(&h, APP_TOKEN_URL, "tok-2", 60);
    ck_assert_int_eq(eh_get(&h, &r3, MANIFEST, IMGSYNC__CRED_REGISTRY), 0);
    eh_run(&h);
    ck_assert_int_eq(r3.status, 200);
    ck_assert_uint_eq(fake_nrequests(h.ft), 7);
    ck_assert_str_eq(auth_of(&h, 4), BASIC);
    ck_assert_str_eq(url_of(&h, 5), APP_TOKEN_URL);
    ck_assert_str_eq(auth_of(&h, 6), "Bearer tok-2");
    eh_req_clear(&r1);
    eh_req_clear(&r2);
    eh_req_clear(&r3);
    eh_free(&h);
}
END_TEST

START_TEST(test_token_default_and_capped_lifetime)
{
    /* no expires_in: 60 s; expires_in over a day: one day */
    static const struct {
        const char *body;
        int64_t valid_ms;
    } cases[] = {{"{\"token\":\"t\"}", 50000}, {"{\"access_token\":\"t\",\"expires_in\":0}", 50000},
                 {"{\"token\":\"t\",\"expires_in\":99999999}", 86400000 - 10000}};
    for (size_t i = 0; i < 3; i++) {
        eh h;
        start(&h, &k_alice);
        script_challenged(&h, TAGS, CHALLENGE(APP_SCOPE));
        fake_set_simple(h.ft, "GET", APP_TOKEN_URL, 200, NULL, cases[i].body);
        eh_req r1 = EH_REQ_INIT, r2 = EH_REQ_INIT, r3 = EH_REQ_INIT;
        ck_assert_int_eq(eh_get(&h, &r1, TAGS, IMGSYNC__CRED_REGISTRY), 0);
        eh_run(&h);
        ck_assert_str_eq(auth_of(&h, 2), "Bearer t");
        int64_t issued = h.fc.mono_ms;
        fake_set_simple(h.ft, "GET", MANIFEST, 200, NULL, "{}");
        fake_clock_advance(&h.fc, cases[i].valid_ms - 1);
        ck_assert_int_eq(eh_get(&h, &r2, MANIFEST, IMGSYNC__CRED_REGISTRY), 0);
        eh_run(&h);
        ck_assert_msg(auth_of(&h, 3) && !strcmp(auth_of(&h, 3), "Bearer t"), "case %zu", i);
        fake_clock_advance(&h.fc, issued + cases[i].valid_ms - h.fc.mono_ms);
        ck_assert_int_eq(eh_get(&h, &r3, MANIFEST, IMGSYNC__CRED_REGISTRY), 0);
        eh_run(&h);
        ck_assert_msg(!strcmp(auth_of(&h, 4), BASIC), "case %zu: expired token still sent", i);
        eh_req_clear(&r1);
        eh_req_clear(&r2);
        eh_req_clear(&r3);
        eh_free(&h);
    }
}
END_TEST

START_TEST(test_rejected_cached_token_refreshed)
{
    /* the registry refuses a token the cache still holds (revoked, or issued long ago): one new
     * token request, one replay */
    eh h;
    start(&h, &k_alice);
    script_challenged(&h, TAGS, CHALLENGE(APP_SCOPE));
    script_token(&h, APP_TOKEN_URL, "old", 300);
    script_token(&h, APP_TOKEN_URL, "new", 300);
    eh_req r1 = EH_REQ_INIT, r2 = EH_REQ_INIT;
    ck_assert_int_eq(eh_get(&h, &r1, TAGS, IMGSYNC__CRED_REGISTRY), 0);
    eh_run(&h);
    script_challenged(&h, MANIFEST, CHALLENGE(APP_SCOPE));
    ck_assert_int_eq(eh_get(&h, &r2, MANIFEST, IMGSYNC__CRED_REGISTRY), 0);
    eh_run(&h);
    ck_assert_int_eq(r2.status, 200);
    ck_assert_uint_eq(fake_nrequests(h.ft), 6);
    ck_assert_str_eq(auth_of(&h, 3), "Bearer old");
    ck_assert_str_eq(url_of(&h, 4), APP_TOKEN_URL);
    ck_assert_str_eq(auth_of(&h, 5), "Bearer new");
    eh_req_clear(&r1);
    eh_req_clear(&r2);
    eh_free(&h);
}
END_TEST

START_TEST(test_challenge_answered_once)
{
    /* a registry that keeps refusing: one token request, the second 401 is delivered */
    eh h;
    start(&h, &k_alice);
    fake_set_simple(h.ft, "GET", TAGS, 401, CHALLENGE(APP_SCOPE), "denied");
    script_token(&h, APP_TOKEN_URL, "tok", 300);
    eh_req r = EH_REQ_INIT;
    ck_assert_int_eq(eh_get(&h, &r, TAGS, IMGSYNC__CRED_REGISTRY), 0);
    eh_run(&h);
    ck_assert_int_eq(r.done_calls, 1);
    ck_assert_int_eq(r.status, 401);
    ck_assert_str_eq(r.body, "denied");
    ck_assert_uint_eq(fake_nrequests(h.ft), 3);
    eh_req_clear(&r);
    eh_free(&h);
    /* the token endpoint refuses the credentials: the request's own 401 is delivered */
    start(&h, &k_alice);
    fake_set_simple(h.ft, "GET", TAGS, 401, CHALLENGE(APP_SCOPE), "denied");
    fake_set_simple(h.ft, "GET", APP_TOKEN_URL, 401, NULL, "bad password");
    eh_req r2 = EH_REQ_INIT;
    ck_assert_int_eq(eh_get(&h, &r2, TAGS, IMGSYNC__CRED_REGISTRY), 0);
    eh_run(&h);
    ck_assert_int_eq(r2.done_calls, 1);
    ck_assert_int_eq(r2.status, 401);
    ck_assert_int_eq(r2.error, 0);
    ck_assert_uint_eq(fake_count(h.ft, "GET", APP_TOKEN_URL), 1);
    eh_req_clear(&r2);
    eh_free(&h);
}
END_TEST

START_TEST(test_token_endpoint_failures)
{
    /* a token endpoint failing otherwise: the waiting request fails with a reason */
    eh h;
    start(&h, &k_alice);
    fake_set_simple(h.ft, "GET", TAGS, 401, CHALLENGE(APP_SCOPE), "denied");
    fake_set_simple(h.ft, "GET", APP_TOKEN_URL, 404, NULL, "nope");
    eh_req r = EH_REQ_INIT;
    ck_assert_int_eq(eh_get(&h, &r, TAGS, IMGSYNC__CRED_REGISTRY), 0);
    eh_run(&h);
    ck_assert_int_eq(r.done_calls, 1);
    ck_assert_int_eq(r.error, IMGSYNC_EAUTH);
    ck_assert_str_eq(r.detail, "the token endpoint answered HTTP 404");
    eh_req_clear(&r);
    eh_free(&h);
    /* a token that would inject a header line */
    start(&h, &k_alice);
    fake_set_simple(h.ft, "GET", TAGS, 401, CHALLENGE(APP_SCOPE), "denied");
    fake_set_simple(h.ft, "GET", APP_TOKEN_URL, 200, NULL, "{\"token\":\"a\\r\\nX-Evil: 1\"}");
    eh_req r2 = EH_REQ_INIT;
    ck_assert_int_eq(eh_get(&h, &r2, TAGS, IMGSYNC__CRED_REGISTRY), 0);
    eh_run(&h);
    ck_assert_int_eq(r2.done_calls, 1);
    ck_assert_int_eq(r2.error, IMGSYNC_EPROTOCOL);
    ck_assert_uint_eq(fake_count(h.ft, "GET", TAGS), 1);
    eh_req_clear(&r2);
    eh_free(&h);
}
END_TEST

START_TEST(test_token_too_large)
{
    /* issue 6 item 12: a huge token is reported as such, not as "out of memory" */
    eh h;
    start(&h, &k_alice);
    fake_set_simple(h.ft, "GET", TAGS, 401, CHALLENGE(APP_SCOPE), "denied");
    size_t n = 20000;
    char *body = malloc(n + 32);
    ck_assert_ptr_nonnull(body);
    strcpy(body, "{\"token\":\"");
    memset(body + 10, 'A', n);
    strcpy(body + 10 + n, "\"}");
    fake_set_simple(h.ft, "GET", APP_TOKEN_URL, 200, NULL, body);
    free(body);
    eh_req r = EH_REQ_INIT;
    ck_assert_int_eq(eh_get(&h, &r, TAGS, IMGSYNC__CRED_REGISTRY), 0);
    eh_run(&h);
    ck_assert_int_eq(r.done_calls, 1);
    ck_assert_int_eq(r.error, IMGSYNC_ETOOBIG);
    ck_assert_str_eq(r.detail, "the registry's token is larger than 16384 bytes");
    ck_assert_uint_eq(fake_count(h.ft, "GET", TAGS), 1); /* never sent */
    eh_req_clear(&r);
    eh_free(&h);
    /* a token answer over 1 MiB is not even read whole */
    start(&h, &k_alice);
    fake_set_simple(h.ft, "GET", TAGS, 401, CHALLENGE(APP_SCOPE), "denied");
    n = (2u << 20);
    body = malloc(n + 32);
    ck_assert_ptr_nonnull(body);
    strcpy(body, "{\"token\":\"");
    memset(body + 10, 'A', n);
    strcpy(body + 10 + n, "\"}");
    fake_set_simple(h.ft, "GET", APP_TOKEN_URL, 200, NULL, body);
    free(body);
    eh_req r2 = EH_REQ_INIT;
    ck_assert_int_eq(eh_get(&h, &r2, TAGS, IMGSYNC__CRED_REGISTRY), 0);
    eh_run(&h);
    ck_assert_int_eq(r2.done_calls, 1);
    ck_assert_int_eq(r2.error, IMGSYNC_ETOOBIG);
    ck_assert_ptr_nonnull(strstr(r2.detail, "token"));
    ck_assert_ptr_null(strstr(r2.detail, "memory"));
    ck_assert_uint_eq(fake_count(h.ft, "GET", APP_TOKEN_URL), 1); /* too big is not retried */
    eh_req_clear(&r2);
    eh_free(&h);
}
END_TEST

START_TEST(test_plain_http_realm_refused)
{
    /* a realm on plain http below an https registry would expose the password: not asked */
    eh h;
    start(&h, &k_alice);
    fake_set_simple(h.ft, "GET", TAGS, 401,
                    "WWW-Authenticate: Bearer realm=\"http://auth.example/token\",service=\"reg.example\"", "denied");
    eh_req r = EH_REQ_INIT;
    ck_assert_int_eq(eh_get(&h, &r, TAGS, IMGSYNC__CRED_REGISTRY), 0);
    eh_run(&h);
    ck_assert_int_eq(r.status, 401);
    ck_assert_uint_eq(fake_nrequests(h.ft), 1);
    eh_req_clear(&r);
    eh_free(&h);
}
END_TEST

START_TEST(test_token_not_sent_to_other_origin)
{
    /* the mirror is allowed credentials (Basic) but never gets the registry's token up front */
    eh h;
    start(&h, &k_alice);
    ck_assert_int_eq(imgsync__group_allow_origin(h.g, MIRROR), 0);
    script_challenged(&h, TAGS, CHALLENGE(APP_SCOPE));
    script_token(&h, APP_TOKEN_URL, "tok-reg", 300);
    fake_set_simple(h.ft, "GET", MIRROR "/v2/app/tags/list", 200, NULL, "{}");
    eh_req r1 = EH_REQ_INIT, r2 = EH_REQ_INIT;
    ck_assert_int_eq(eh_get(&h, &r1, TAGS, IMGSYNC__CRED_REGISTRY), 0);
    eh_run(&h);
    ck_assert_int_eq(eh_get(&h, &r2, MIRROR "/v2/app/tags/list", IMGSYNC__CRED_REGISTRY), 0);
    eh_run(&h);
    ck_assert_int_eq(r2.status, 200);
    ck_assert_str_eq(auth_of(&h, 3), BASIC);
    eh_req_clear(&r1);
    eh_req_clear(&r2);
    eh_free(&h);
}
END_TEST

START_TEST(test_token_cached_per_service)
{
    /* the same realm and scope for two services: two tokens */
    eh h;
    start(&h, &k_alice);
    ck_assert_int_eq(imgsync__group_allow_origin(h.g, MIRROR), 0);
    const char *mirror_tags = MIRROR "/v2/app/tags/list";
    script_challenged(&h, TAGS, CHALLENGE(APP_SCOPE));
    script_challenged(&h, mirror_tags,
                      "WWW-Authenticate: Bearer realm=\"https://auth.example/token\",service=\"mirror.example\","
                      "scope=\"" APP_SCOPE "\"");
    script_token(&h, APP_TOKEN_URL, "tok-reg", 300);
    script_token(&h, "https://auth.example/token?service=mirror.example&scope=repository%3Aapp%3Apull", "tok-mirror",
                 300);
    eh_req r1 = EH_REQ_INIT, r2 = EH_REQ_INIT;
    ck_assert_int_eq(eh_get(&h, &r1, TAGS, IMGSYNC__CRED_REGISTRY), 0);
    eh_run(&h);
    ck_assert_int_eq(eh_get(&h, &r2, mirror_tags, IMGSYNC__CRED_REGISTRY), 0);
    eh_run(&h);
    ck_assert_int_eq(r1.status, 200);
    ck_assert_int_eq(r2.status, 200);
    ck_assert_uint_eq(fake_nrequests(h.ft), 6);
    ck_assert_str_eq(auth_of(&h, 2), "Bearer tok-reg");
    ck_assert_str_eq(auth_of(&h, 3), BASIC);
    ck_assert_str_eq(auth_of(&h, 5), "Bearer tok-mirror");
    ck_assert_uint_eq(fake_unexpected(h.ft), 0);
    eh_req_clear(&r1);
    eh_req_clear(&r2);
    eh_free(&h);
}
END_TEST

START_TEST(test_token_request_retried)
{
    /* a token endpoint that is briefly unavailable: its request is retried like any GET; the
     * events count every attempt sent, but retries only of the group's own requests */
    eh h;
    start(&h, &k_alice);
    script_challenged(&h, TAGS, CHALLENGE(APP_SCOPE));
    fake_add_simple(h.ft, "GET", APP_TOKEN_URL, 503, NULL, "busy");
    script_token(&h, APP_TOKEN_URL, "tok", 300);
    eh_req r = EH_REQ_INIT;
    ck_assert_int_eq(eh_get(&h, &r, TAGS, IMGSYNC__CRED_REGISTRY), 0);
    eh_run(&h);
    ck_assert_int_eq(r.done_calls, 1);
    ck_assert_int_eq(r.status, 200);
    ck_assert_uint_eq(fake_count(h.ft, "GET", APP_TOKEN_URL), 2);
    ck_assert_str_eq(auth_of(&h, 3), "Bearer tok");
    ck_assert_int_eq(h.ev_sent, 4);
    ck_assert_int_eq(h.ev_retry, 0);
    eh_req_clear(&r);
    eh_free(&h);
}
END_TEST

/* ---- IMGSYNC__CRED_BEARER: an access token instead of Basic ---------------------------------- */

#define ACCESS "atk-7c1e9d"
/* auth.example is allowed too: the realm must be an allowed origin for the access token */
static const imgsync__policy k_access = {NULL, NULL, NULL, 0, 0, 0, ACCESS, NULL};

static void start_access(eh *h, const char *realm_origin)
{
    start(h, &k_access);
    if (realm_origin)
        ck_assert_int_eq(imgsync__group_allow_origin(h->g, realm_origin), 0);
}

START_TEST(test_access_token_flow)
{
    eh h;
    start_access(&h, "https://auth.example");
    script_challenged(&h, TAGS, CHALLENGE(APP_SCOPE));
    script_token(&h, APP_TOKEN_URL, "tok-b", 300);
    fake_add_simple(h.ft, "GET", MANIFEST, 200, NULL, "{}");
    eh_req r = EH_REQ_INIT, m = EH_REQ_INIT;
    ck_assert_int_eq(eh_get(&h, &r, TAGS, IMGSYNC__CRED_BEARER), 0);
    eh_run(&h);
    ck_assert_int_eq(r.status, 200);
    /* the access token first, then to the realm, then the registry's token */
    ck_assert_str_eq(auth_of(&h, 0), "Bearer " ACCESS);
    ck_assert_str_eq(url_of(&h, 1), APP_TOKEN_URL);
    ck_assert_str_eq(auth_of(&h, 1), "Bearer " ACCESS);
    ck_assert_str_eq(auth_of(&h, 2), "Bearer tok-b");
    /* a later request of the same scope goes with the cached registry token at once */
    ck_assert_int_eq(eh_get(&h, &m, MANIFEST, IMGSYNC__CRED_BEARER), 0);
    eh_run(&h);
    ck_assert_int_eq(m.status, 200);
    ck_assert_str_eq(auth_of(&h, 3), "Bearer tok-b");
    ck_assert_uint_eq(fake_nrequests(h.ft), 4);
    eh_req_clear(&r);
    eh_req_clear(&m);
    eh_free(&h);
}
END_TEST

/* Accepted as it is (no challenge): one request; never Basic, even with a username set. */
START_TEST(test_access_token_direct)
{
    eh h;
    imgsync__policy p = k_alice;
    p.token = ACCESS;
    start(&h, &p);
    fake_add_simple(h.ft, "GET", TAGS, 200, NULL, "{}");
    eh_req r = EH_REQ_INIT;
    ck_assert_int_eq(eh_get(&h, &r, TAGS, IMGSYNC__CRED_BEARER), 0);
    eh_run(&h);
    ck_assert_int_eq(r.status, 200);
    ck_assert_uint_eq(fake_nrequests(h.ft), 1);
    ck_assert_str_eq(auth_of(&h, 0), "Bearer " ACCESS);
    eh_req_clear(&r);
    eh_free(&h);
}
END_TEST

/* A realm on an origin the group does not allow gets nothing: the 401 is delivered as it is. */
START_TEST(test_access_token_not_to_foreign_realm)
{
    eh h;
    start_access(&h, NULL);
    fake_set_simple(h.ft, "GET", TAGS, 401, CHALLENGE(APP_SCOPE), "denied");
    eh_req r = EH_REQ_INIT;
    ck_assert_int_eq(eh_get(&h, &r, TAGS, IMGSYNC__CRED_BEARER), 0);
    eh_run(&h);
    ck_assert_int_eq(r.done_calls, 1);
    ck_assert_int_eq(r.status, 401);
    ck_assert_uint_eq(fake_nrequests(h.ft), 1);
    ck_assert_uint_eq(fake_count(h.ft, "GET", APP_TOKEN_URL), 0);
    eh_req_clear(&r);
    eh_free(&h);
}
END_TEST

/* The realm refusing the access token: the request's own 401 is delivered, once. */
START_TEST(test_access_token_refused_by_realm)
{
    eh h;
    start_access(&h, "https://auth.example");
    fake_set_simple(h.ft, "GET", TAGS, 401, CHALLENGE(APP_SCOPE), "denied");
    fake_set_simple(h.ft, "GET", APP_TOKEN_URL, 401, NULL, "bad token");
    eh_req r = EH_REQ_INIT;
    ck_assert_int_eq(eh_get(&h, &r, TAGS, IMGSYNC__CRED_BEARER), 0);
    eh_run(&h);
    ck_assert_int_eq(r.done_calls, 1);
    ck_assert_int_eq(r.status, 401);
    ck_assert_uint_le(fake_count(h.ft, "GET", TAGS), 2);
    ck_assert_uint_eq(fake_count(h.ft, "GET", APP_TOKEN_URL), 1);
    eh_req_clear(&r);
    eh_free(&h);
}
END_TEST

/* The access token is wiped from every block the engine frees (request copies, the group). */
START_TEST(test_access_token_wiped_before_free)
{
    /* a token no other test used: their freed fake-transport logs (not wiped, test code) may
     * still hold theirs when the tests share a process (CK_FORK=no) */
    static const char access[] = "atk-only-in-this-test-51f0";
    const imgsync__policy p = {NULL, NULL, NULL, 0, 0, 0, access, NULL};
    eh h;
    start(&h, &p);
    ck_assert_int_eq(imgsync__group_allow_origin(h.g, "https://auth.example"), 0);
    eh_req r = EH_REQ_INIT;
    int hits = flow_freeing(&h, &r, IMGSYNC__CRED_BEARER, "tok-c", access);
    ck_assert_msg(hits == 0, "%d freed blocks held the access token", hits);
    eh_req_clear(&r);
    eh_free(&h);
}
END_TEST

/* ---- review10: defects of the bearer credential kind and around it --------------------------- */

/* The first request (if any) after request 0 whose URL is plain http (any spelling of the scheme)
 * and which carries Authorization: its index, or 0. */
static size_t plain_http_credentialed(const eh *h)
{
    for (size_t i = 1; i < fake_nrequests(h->ft); i++) {
        const fake_request *q = fake_request_at(h->ft, i);
        if (!strncasecmp(q->url, "http:", 5) && fake_request_header(q, "Authorization"))
            return i;
    }
    return 0;
}

/* review10 defect 1 (bearer.c token_url): the "never a plain http realm below an https registry"
 * rule compares the realm's scheme case-sensitively (strncmp "http:"), while the URL parser and
 * curl take "HTTP:" as plain http. A registry answering with realm="HTTP://..." gets the access
 * token sent in clear text to a plain-http origin the run allowed (here a loopback mirror). */
START_TEST(test_access_token_not_to_http_realm_any_case)
{
    static const char *const realms[] = {"http://127.0.0.1:8080/token", "HTTP://127.0.0.1:8080/token"};
    for (size_t i = 0; i < 2; i++) {
        eh h;
        start_access(&h, "http://127.0.0.1:8080"); /* a local plain-http origin the run allows */
        char challenge[256];
        snprintf(challenge, sizeof(challenge),
                 "WWW-Authenticate: Bearer realm=\"%s\",service=\"reg.example\",scope=\"" APP_SCOPE "\"", realms[i]);
        fake_set_simple(h.ft, "GET", TAGS, 401, challenge, "denied");
        eh_req r = EH_REQ_INIT;
        ck_assert_int_eq(eh_get(&h, &r, TAGS, IMGSYNC__CRED_BEARER), 0);
        eh_run(&h);
        size_t leak = plain_http_credentialed(&h);
        ck_assert_msg(leak == 0, "realm %s below an https registry: request %zu to %s carried \"%s\"", realms[i], leak,
                      leak ? url_of(&h, leak) : "", leak ? auth_of(&h, leak) : "");
        ck_assert_uint_eq(fake_nrequests(h.ft), 1);
        ck_assert_int_eq(r.status, 401);
        eh_req_clear(&r);
        eh_free(&h);
    }
}
END_TEST

/* review10 defect 1, registry flow: the same case-sensitive test lets Basic credentials go to a
 * plain-http realm below an https registry where the group allows http (allow_http), and to a
 * loopback plain-http realm with no allowance at all. */
START_TEST(test_basic_not_to_http_realm_any_case)
{
    static const struct {
        const char *realm;
        int allow_http;
    } cases[] = {{"http://auth.example/token", 1},
                 {"HTTP://auth.example/token", 1},
                 {"http://127.0.0.1:8080/token", 0},
                 {"HTTP://127.0.0.1:8080/token", 0}};
    char fails[1024] = "";
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        eh h;
        imgsync__policy p = k_alice;
        p.allow_http = cases[i].allow_http;
        start(&h, &p);
        char challenge[256];
        snprintf(challenge, sizeof(challenge),
                 "WWW-Authenticate: Bearer realm=\"%s\",service=\"reg.example\",scope=\"" APP_SCOPE "\"",
                 cases[i].realm);
        fake_set_simple(h.ft, "GET", TAGS, 401, challenge, "denied");
        eh_req r = EH_REQ_INIT;
        ck_assert_int_eq(eh_get(&h, &r, TAGS, IMGSYNC__CRED_REGISTRY), 0);
        eh_run(&h);
        size_t leak = plain_http_credentialed(&h);
        if (leak || fake_nrequests(h.ft) != 1)
            snprintf(fails + strlen(fails), sizeof(fails) - strlen(fails),
                     "[realm %s (allow_http=%d): request %zu to %s carried \"%s\"] ", cases[i].realm,
                     cases[i].allow_http, leak, leak ? url_of(&h, leak) : "", leak ? auth_of(&h, leak) : "");
        eh_req_clear(&r);
        eh_free(&h);
    }
    ck_assert_msg(fails[0] == '\0', "Basic to a plain-http realm below an https registry: %s", fails);
}
END_TEST

/* review10 defect 2 (redirect.c): the downgrade rule "never from https to plain http (not even to
 * loopback) unless the group allows http" compares both schemes case-sensitively (strncmp
 * "https:" on the current URL, "http:" on the target as imgsync__url_resolve spelled it): a
 * remote https registry answering "Location: HTTP://127.0.0.1:5000/..." sends the client down to a
 * local plain-http service, and so does any Location from a request whose URL is spelled
 * "HTTPS://" (the lower-case spellings are refused with EINSECURE). */
START_TEST(test_redirect_downgrade_any_case_refused)
{
    /* {request URL, Location}: the first is the lower-case control (refused today) */
    static const char *const cases[][2] = {{TAGS, "http://127.0.0.1:5000/v2/"},
                                           {TAGS, "HTTP://127.0.0.1:5000/v2/"},
                                           {TAGS, "Http://localhost/admin"},
                                           {"HTTPS://reg.example/v2/app/tags/list", "http://127.0.0.1:5000/v2/"}};
    char fails[1024] = "";
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        eh h;
        start_access(&h, NULL);
        char loc[128];
        snprintf(loc, sizeof(loc), "Location: %s", cases[i][1]);
        fake_set_simple(h.ft, "GET", cases[i][0], 302, loc, "");
        fake_set_simple(h.ft, "GET", cases[i][1], 200, NULL, "local secrets");
        eh_req r = EH_REQ_INIT;
        ck_assert_int_eq(eh_get(&h, &r, cases[i][0], IMGSYNC__CRED_BEARER), 0);
        eh_run(&h);
        ck_assert_int_eq(r.done_calls, 1);
        if (r.error != IMGSYNC_EINSECURE || fake_nrequests(h.ft) != 1)
            snprintf(fails + strlen(fails), sizeof(fails) - strlen(fails),
                     "[%s -> %s: error %d status %d, %zu requests, the 2nd to %s] ", cases[i][0], cases[i][1], r.error,
                     r.status, fake_nrequests(h.ft), fake_nrequests(h.ft) > 1 ? url_of(&h, 1) : "-");
        eh_req_clear(&r);
        eh_free(&h);
    }
    ck_assert_msg(fails[0] == '\0', "https registry sent down to plain http: %s", fails);
}
END_TEST

/* A registry that takes only the token minted for the access token on MANIFEST (the token an
 * anonymous caller gets is good for TAGS only); the realm mints by the Authorization it sees. The
 * first answers to MANIFEST come 10 ms late and the token requests take 50 ms, so that the
 * BEARER request is challenged while the REGISTRY request's token request is in flight. */
static void mixed_creds_fallback(void *ud, const fake_request *q, fake_reply *out)
{
    (void)ud;
    memset(out, 0, sizeof(*out));
    const char *auth = fake_request_header(q, "Authorization");
    out->headers = "Content-Type: application/json";
    if (!strncmp(q->url, "https://auth.example/token", strlen("https://auth.example/token"))) {
        int access = auth && !strcmp(auth, "Bearer " ACCESS);
        out->status = 200;
        out->body = access ? "{\"token\":\"tok-access\",\"expires_in\":300}" : "{\"token\":\"tok-anon\",\"expires_in\":300}";
        out->delay_ms = 50;
        return;
    }
    int ok = auth && (!strcmp(auth, "Bearer tok-access") || (!strcmp(q->url, TAGS) && !strcmp(auth, "Bearer tok-anon")));
    if (ok) {
        out->status = 200;
        out->body = "{}";
        return;
    }
    out->status = 401;
    out->headers = CHALLENGE(APP_SCOPE);
    out->body = "denied";
    out->delay_ms = !strcmp(q->url, MANIFEST) ? 10 : 0;
}

/* review10 defect 3 (bearer.c token_request/answer): g->token_reqs and g->tokens are keyed by
 * realm|service|scope only, not by the credential the token was requested with. A BEARER request
 * challenged while a REGISTRY request of the same run waits for the same key's (anonymous or
 * Basic) token request joins that request instead of asking with the access token: it is replayed
 * with a token that was never requested with the access token, and its 401 is delivered although
 * the realm would have given it a good token. */
START_TEST(test_bearer_does_not_wait_for_basic_token_request)
{
    eh h;
    start_access(&h, "https://auth.example"); /* token only, no username: REGISTRY is anonymous */
    fake_set_fallback(h.ft, mixed_creds_fallback, NULL);
    eh_req r1 = EH_REQ_INIT, r2 = EH_REQ_INIT;
    ck_assert_int_eq(eh_get(&h, &r1, TAGS, IMGSYNC__CRED_REGISTRY), 0);
    ck_assert_int_eq(eh_get(&h, &r2, MANIFEST, IMGSYNC__CRED_BEARER), 0);
    eh_run(&h);
    ck_assert_int_eq(r1.status, 200);
    size_t with_access = 0;
    for (size_t i = 0; i < fake_nrequests(h.ft); i++) {
        const fake_request *q = fake_request_at(h.ft, i);
        const char *a = fake_request_header(q, "Authorization");
        if (!strncmp(q->url, "https://auth.example/", 21) && a && !strcmp(a, "Bearer " ACCESS))
            with_access++;
    }
    ck_assert_msg(r2.status == 200 && with_access == 1,
                  "BEARER request: status %d; token requests carrying the access token: %zu; its last attempt "
                  "carried \"%s\"",
                  r2.status, with_access, auth_of(&h, fake_nrequests(h.ft) - 1));
    eh_req_clear(&r1);
    eh_req_clear(&r2);
    eh_free(&h);
}
END_TEST

/* A registry where the anonymous token reads TAGS only and MANIFEST is refused to it with 403
 * (an authenticated caller without the right: no challenge); the access token itself gets the
 * Bearer challenge and the token minted for it reads both. */
static void mixed_creds_403_fallback(void *ud, const fake_request *q, fake_reply *out)
{
    (void)ud;
    memset(out, 0, sizeof(*out));
    const char *auth = fake_request_header(q, "Authorization");
    out->headers = "Content-Type: application/json";
    if (!strncmp(q->url, "https://auth.example/token", strlen("https://auth.example/token"))) {
        int access = auth && !strcmp(auth, "Bearer " ACCESS);
        out->status = 200;
        out->body = access ? "{\"token\":\"tok-access\",\"expires_in\":300}" : "{\"token\":\"tok-anon\",\"expires_in\":300}";
        return;
    }
    if (auth && (!strcmp(auth, "Bearer tok-access") || (!strcmp(q->url, TAGS) && !strcmp(auth, "Bearer tok-anon")))) {
        out->status = 200;
        out->body = "{}";
    } else if (auth && !strcmp(auth, "Bearer tok-anon")) {
        out->status = 403;
        out->body = "{\"errors\":[{\"code\":\"DENIED\",\"message\":\"requested access to the resource is denied\"}]}";
    } else {
        out->status = 401;
        out->headers = CHALLENGE(APP_SCOPE);
        out->body = "denied";
    }
}

/* review10 defect 3, without concurrency: a token the group cached for a REGISTRY request (here
 * requested anonymously) is attached up front to a later BEARER request of the same scope
 * (imgsync__bearer_attach_cached looks up realm|service|scope only). The BEARER request goes out
 * with the anonymous caller's token instead of the access token, and a registry that answers that
 * caller 403 (no challenge, so no token request) fails it. */
START_TEST(test_bearer_first_attempt_not_basic_token)
{
    eh h;
    start_access(&h, "https://auth.example");
    fake_set_fallback(h.ft, mixed_creds_403_fallback, NULL);
    eh_req r1 = EH_REQ_INIT, r2 = EH_REQ_INIT;
    ck_assert_int_eq(eh_get(&h, &r1, TAGS, IMGSYNC__CRED_REGISTRY), 0);
    eh_run(&h);
    ck_assert_int_eq(r1.status, 200);
    ck_assert_str_eq(auth_of(&h, 2), "Bearer tok-anon");
    size_t first = fake_nrequests(h.ft);
    ck_assert_int_eq(eh_get(&h, &r2, MANIFEST, IMGSYNC__CRED_BEARER), 0);
    eh_run(&h);
    ck_assert_msg(strcmp(auth_of(&h, first), "Bearer tok-anon") != 0 && r2.status == 200,
                  "BEARER request: first attempt carried \"%s\" (the anonymous caller's token), status %d",
                  auth_of(&h, first), r2.status);
    eh_req_clear(&r1);
    eh_req_clear(&r2);
    eh_free(&h);
}
END_TEST

START_TEST(test_cred_none_never_authorized)
{
    /* CRED_NONE: no Authorization even though the group has a username, any https origin, and
     * no sign hook; a Bearer challenge is not answered */
    eh h;
    start(&h, &k_alice);
    fake_set_simple(h.ft, "GET", "https://elsewhere.example/x", 401, CHALLENGE(APP_SCOPE), "no");
    fake_set_simple(h.ft, "GET", TAGS, 200, NULL, "{}");
    eh_req r1 = EH_REQ_INIT, r2 = EH_REQ_INIT;
    r1.sign_header = r2.sign_header = "X-Sig";
    ck_assert_int_eq(eh_get(&h, &r1, "https://elsewhere.example/x", IMGSYNC__CRED_NONE), 0);
    ck_assert_int_eq(eh_get(&h, &r2, TAGS, IMGSYNC__CRED_NONE), 0);
    eh_run(&h);
    ck_assert_int_eq(r1.status, 401);
    ck_assert_int_eq(r2.status, 200);
    ck_assert_uint_eq(fake_nrequests(h.ft), 2);
    ck_assert_ptr_null(auth_of(&h, 0));
    ck_assert_ptr_null(auth_of(&h, 1));
    ck_assert_ptr_null(fake_request_header(fake_request_at(h.ft, 0), "X-Sig"));
    ck_assert_uint_eq(h.nsigns, 0);
    eh_req_clear(&r1);
    eh_req_clear(&r2);
    eh_free(&h);
}
END_TEST

START_TEST(test_credentials_only_to_allowed_origins)
{
    eh h;
    start(&h, &k_alice);
    static const int creds[] = {IMGSYNC__CRED_BASIC, IMGSYNC__CRED_REGISTRY, IMGSYNC__CRED_PROVIDER};
    for (size_t i = 0; i < 3; i++) {
        /* not allowed: EINVAL, nothing queued, no hook */
        eh_req r = EH_REQ_INIT;
        ck_assert_int_eq(eh_get(&h, &r, MIRROR "/v2/", creds[i]), IMGSYNC_EINVAL);
        ck_assert_int_eq(eh_get(&h, &r, "https://reg.example:444/v2/", creds[i]), IMGSYNC_EINVAL); /* port */
        ck_assert_int_eq(eh_get(&h, &r, "http://reg.example/v2/", creds[i]), IMGSYNC_EINSECURE);   /* scheme */
        ck_assert_uint_eq(imgsync__engine_pending(h.e), 0);
        eh_run(&h);
        ck_assert_int_eq(r.done_calls, 0);
    }
    ck_assert_uint_eq(fake_nrequests(h.ft), 0);
    ck_assert_int_eq(imgsync__group_check_url(h.g, MIRROR "/v2/", 1), IMGSYNC_EINVAL);
    ck_assert_int_eq(imgsync__group_check_url(h.g, MIRROR "/v2/", 0), 0);
    ck_assert_int_eq(imgsync__group_check_url(h.g, "ftp://reg.example/", 0), IMGSYNC_EINVAL);
    ck_assert_int_eq(imgsync__group_check_url(h.g, "/v2/", 0), IMGSYNC_EINVAL);
    /* allowed: Basic for BASIC and REGISTRY, only the sign hook for PROVIDER */
    ck_assert_int_eq(imgsync__group_allow_origin(h.g, MIRROR "/some/path"), 0);
    fake_set_simple(h.ft, "GET", MIRROR "/v2/", 200, NULL, "{}");
    eh_req ok[3] = {EH_REQ_INIT, EH_REQ_INIT, EH_REQ_INIT};
    for (size_t i = 0; i < 3; i++) {
        ok[i].sign_header = "X-Sig";
        ck_assert_int_eq(eh_get(&h, &ok[i], MIRROR "/v2/", creds[i]), 0);
        eh_run(&h);
        ck_assert_int_eq(ok[i].done_calls, 1);
        ck_assert_int_eq(ok[i].status, 200);
        ck_assert_int_eq(ok[i].sign_calls, 1);
    }
    ck_assert_str_eq(auth_of(&h, 0), BASIC);
    ck_assert_str_eq(auth_of(&h, 1), BASIC);
    ck_assert_ptr_null(auth_of(&h, 2));
    for (size_t i = 0; i < 3; i++) {
        ck_assert_str_eq(fake_request_header(fake_request_at(h.ft, i), "X-Sig"), "sig-1");
        eh_req_clear(&ok[i]);
    }
    eh_free(&h);
}
END_TEST

START_TEST(test_provider_credentials)
{
    /* CRED_PROVIDER: the provider's own header, no Basic even with a username, the sign hook,
     * and a Bearer challenge is not answered by the engine */
    eh h;
    start(&h, &k_alice);
    fake_set_simple(h.ft, "GET", REG "/api/v2/projects", 401, CHALLENGE(APP_SCOPE), "no");
    const char *lines[] = {"X-Auth-Token: iam-token-1"};
    imgsync__ereq_spec spec;
    memset(&spec, 0, sizeof(spec));
    spec.method = "GET";
    spec.url = REG "/api/v2/projects";
    spec.headers = lines;
    spec.nheaders = 1;
    spec.cred = IMGSYNC__CRED_PROVIDER;
    spec.idempotent = 1;
    eh_req r = EH_REQ_INIT;
    ck_assert_int_eq(eh_submit(&h, &r, &spec), 0);
    eh_run(&h);
    ck_assert_int_eq(r.status, 401);
    ck_assert_uint_eq(fake_nrequests(h.ft), 1);
    ck_assert_ptr_null(auth_of(&h, 0));
    ck_assert_str_eq(fake_request_header(fake_request_at(h.ft, 0), "X-Auth-Token"), "iam-token-1");
    ck_assert_uint_eq(h.nsigns, 1);
    ck_assert_str_eq(eh_dump_value(h.signs[0].headers, "X-Auth-Token"), "iam-token-1");
    ck_assert(!eh_dump_has(h.signs[0].headers, "Authorization"));
    eh_req_clear(&r);
    eh_free(&h);
}
END_TEST

START_TEST(test_basic_without_username)
{
    /* CRED_BASIC on a group without a username: nothing to send */
    eh h;
    start(&h, NULL);
    fake_set_simple(h.ft, "GET", TAGS, 200, NULL, "{}");
    eh_req r = EH_REQ_INIT;
    ck_assert_int_eq(eh_get(&h, &r, TAGS, IMGSYNC__CRED_BASIC), 0);
    eh_run(&h);
    ck_assert_int_eq(r.status, 200);
    ck_assert_ptr_null(auth_of(&h, 0));
    eh_req_clear(&r);
    eh_free(&h);
}
END_TEST

START_TEST(test_allow_origin_rules)
{
    eh h;
    start(&h, &k_alice);
    ck_assert_int_eq(imgsync__group_allow_origin(h.g, "http://reg.example"), IMGSYNC_EINSECURE);
    ck_assert_int_eq(imgsync__group_allow_origin(h.g, "not a url"), IMGSYNC_EINVAL);
    ck_assert_int_eq(imgsync__group_allow_origin(h.g, "http://127.0.0.1:5000"), 0); /* loopback */
    ck_assert_int_eq(imgsync__group_check_url(h.g, "http://127.0.0.1:5000/v2/", 1), 0);
    ck_assert_int_eq(imgsync__group_check_url(h.g, "http://127.0.0.1:5001/v2/", 1), IMGSYNC_EINVAL);
    eh_free(&h);
    /* allow_http: plain http allowed, still per origin */
    imgsync__policy p = k_alice;
    p.allow_http = 1;
    start(&h, &p);
    ck_assert_int_eq(imgsync__group_allow_origin(h.g, "http://reg.example"), 0);
    ck_assert_int_eq(imgsync__group_check_url(h.g, "http://reg.example/v2/", 1), 0);
    ck_assert_int_eq(imgsync__group_check_url(h.g, "http://reg.example:8080/v2/", 1), IMGSYNC_EINVAL);
    eh_free(&h);
}
END_TEST

Suite *engine_auth_suite(void)
{
    Suite *s = suite_create("engine_auth");
    TCase *tc = tcase_create("bearer");
    tcase_add_test(tc, test_bearer_flow);
    tcase_add_test(tc, test_token_wiped_before_free);
    tcase_add_test(tc, test_replaced_bearer_wiped_before_free);
    tcase_add_test(tc, test_bearer_anonymous);
    tcase_add_test(tc, test_token_cached_per_scope);
    tcase_add_test(tc, test_token_reused_after_challenge);
    tcase_add_test(tc, test_one_token_request_for_concurrent_requests);
    tcase_add_test(tc, test_token_cache_per_group);
    tcase_add_test(tc, test_token_expiry);
    tcase_add_test(tc, test_token_default_and_capped_lifetime);
    tcase_add_test(tc, test_rejected_cached_token_refreshed);
    tcase_add_test(tc, test_challenge_answered_once);
    tcase_add_test(tc, test_token_endpoint_failures);
    tcase_add_test(tc, test_token_too_large);
    tcase_add_test(tc, test_plain_http_realm_refused);
    tcase_add_test(tc, test_token_not_sent_to_other_origin);
    tcase_add_test(tc, test_token_cached_per_service);
    tcase_add_test(tc, test_token_request_retried);
    tcase_add_test(tc, test_access_token_flow);
    tcase_add_test(tc, test_access_token_direct);
    tcase_add_test(tc, test_access_token_not_to_foreign_realm);
    tcase_add_test(tc, test_access_token_refused_by_realm);
    tcase_add_test(tc, test_access_token_wiped_before_free);
    tcase_add_test(tc, test_access_token_not_to_http_realm_any_case);
    tcase_add_test(tc, test_basic_not_to_http_realm_any_case);
    tcase_add_test(tc, test_redirect_downgrade_any_case_refused);
    tcase_add_test(tc, test_bearer_does_not_wait_for_basic_token_request);
    tcase_add_test(tc, test_bearer_first_attempt_not_basic_token);
    suite_add_tcase(s, tc);
    TCase *tc2 = tcase_create("credentials");
    tcase_add_test(tc2, test_cred_none_never_authorized);
    tcase_add_test(tc2, test_credentials_only_to_allowed_origins);
    tcase_add_test(tc2, test_provider_credentials);
    tcase_add_test(tc2, test_basic_without_username);
    tcase_add_test(tc2, test_allow_origin_rules);
    suite_add_tcase(s, tc2);
    return s;
}

#include "check_main.h"
IMGSYNC_TEST_MAIN(engine_auth_suite)
