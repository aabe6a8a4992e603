/*
 * Delivery on the fake transport: the done hook is called exactly once per submitted request on
 * every path - success, failure, group_cancel and group_free in each request state (queued,
 * backing off, waiting for a token, in flight, being signed), cancellation from inside a hook -
 * and canceled requests report ECANCELED (or the code given). Engine teardown with requests left
 * calls no hook. Hooks that free their group (or another one), cancel again or submit while a
 * group is canceled or freed find nothing of a freed group used afterwards.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine.h"
#include "imgsync/errors.h"
#include "support/engine_harness.h"

Suite *engine_cancel_suite(void);

#define A "https://a.example"
#define B "https://b.example"
#define C "https://c.example"

static const imgsync__policy k_alice = {"alice", "s3cret", NULL, 0, 0, 0, NULL, NULL};

static void start(eh *h)
{
    imgsync__engine_opts o;
    imgsync__engine_default_opts(&o);
    o.max_host_connections = 1; /* a second request to an origin waits in its queue */
    eh_init(h, &o);
    ck_assert_int_eq(eh_group(h, &k_alice), 0);
    ck_assert_int_eq(imgsync__group_allow_origin(h->g, C), 0);
}

enum { R_SENDING, R_QUEUED, R_BACKOFF, R_TOKEN, R_N };

/* Four requests, one in each waiting state after 100 ms of fake time. */
static void into_every_state(eh *h, eh_req *r)
{
    fake_reply slow = {200, NULL, "{}", 0, 0, 0, NULL, 5000, NULL};
    fake_set(h->ft, "GET", A "/slow", &slow);
    fake_set_simple(h->ft, "GET", A "/next", 200, NULL, "{}");
    fake_set_simple(h->ft, "GET", B "/busy", 503, "Retry-After: 20", "busy");
    fake_set_simple(h->ft, "GET", C "/v2/app/tags/list", 401,
                    "WWW-Authenticate: Bearer realm=\"https://auth.example/t\",scope=\"repository:app:pull\"", "");
    fake_reply slow_token = {200, NULL, "{\"token\":\"t\"}", 0, 0, 0, NULL, 5000, NULL};
    fake_set(h->ft, "GET", "https://auth.example/t?scope=repository%3Aapp%3Apull", &slow_token);
    ck_assert_int_eq(eh_get(h, &r[R_SENDING], A "/slow", IMGSYNC__CRED_NONE), 0);
    ck_assert_int_eq(eh_get(h, &r[R_QUEUED], A "/next", IMGSYNC__CRED_NONE), 0);
    ck_assert_int_eq(eh_get(h, &r[R_BACKOFF], B "/busy", IMGSYNC__CRED_NONE), 0);
    ck_assert_int_eq(eh_get(h, &r[R_TOKEN], C "/v2/app/tags/list", IMGSYNC__CRED_REGISTRY), 0);
    ck_assert_uint_eq(imgsync__engine_perform(h->e, 100), 0);
    ck_assert_uint_eq(imgsync__engine_perform(h->e, 100), 0);
    /* slow (in flight), token request (in flight), the others waiting */
    ck_assert_uint_eq(fake_inflight(h->ft), 2);
    ck_assert_uint_eq(fake_nrequests(h->ft), 4);
    /* the engine's own token request counts as pending too */
    ck_assert_uint_eq(imgsync__engine_pending(h->e), 5);
    ck_assert_uint_eq(imgsync__group_pending(h->g), 5);
    for (int i = 0; i < R_N; i++)
        ck_assert_int_eq(r[i].done_calls, 0);
}

static void assert_all_canceled(eh *h, eh_req *r, int code)
{
    for (int i = 0; i < R_N; i++) {
        ck_assert_msg(r[i].done_calls == 1, "request %d: %d done calls", i, r[i].done_calls);
        ck_assert_msg(r[i].error == code, "request %d: error %d", i, r[i].error);
        ck_assert_int_eq(r[i].status, 0);
    }
    ck_assert_uint_eq(imgsync__engine_pending(h->e), 0);
    ck_assert_uint_eq(fake_inflight(h->ft), 0); /* the transfers were aborted */
    /* nothing is delivered twice nor sent again afterwards */
    size_t sent = fake_nrequests(h->ft);
    int64_t t = h->fc.mono_ms;
    ck_assert_uint_eq(imgsync__engine_perform(h->e, 60000), 0);
    ck_assert_uint_eq(fake_nrequests(h->ft), sent);
    ck_assert(h->fc.mono_ms == t);
    for (int i = 0; i < R_N; i++) {
        ck_assert_int_eq(r[i].done_calls, 1);
        eh_req_clear(&r[i]);
    }
}

START_TEST(test_success_and_failure_once)
{
    eh h;
    start(&h);
    fake_set_simple(h.ft, "GET", A "/ok", 200, NULL, "{}");
    fake_reply fail = {0, NULL, NULL, 0, IMGSYNC_ENETWORK, IMGSYNC__RETRY_NEVER, "no such host", 0, NULL};
    fake_set(h.ft, "GET", B "/down", &fail);
    eh_req ok = EH_REQ_INIT, bad = EH_REQ_INIT;
    ck_assert_int_eq(eh_get(&h, &ok, A "/ok", IMGSYNC__CRED_NONE), 0);
    ck_assert_int_eq(eh_get(&h, &bad, B "/down", IMGSYNC__CRED_NONE), 0);
    eh_run(&h);
    ck_assert_int_eq(ok.done_calls, 1);
    ck_assert_int_eq(ok.status, 200);
    ck_assert_int_eq(bad.done_calls, 1);
    ck_assert_int_eq(bad.error, IMGSYNC_ENETWORK);
    ck_assert_str_eq(bad.detail, "no such host");
    ck_assert_str_eq(bad.url, B "/down");
    ck_assert_uint_eq(imgsync__engine_perform(h.e, 1000), 0);
    ck_assert_int_eq(ok.done_calls, 1);
    ck_assert_int_eq(bad.done_calls, 1);
    eh_req_clear(&ok);
    eh_req_clear(&bad);
    eh_free(&h);
}
END_TEST

START_TEST(test_group_cancel_in_every_state)
{
    eh h;
    start(&h);
    eh_req r[R_N];
    memset(r, 0, sizeof(r));
    into_every_state(&h, r);
    imgsync__group_cancel(h.g, IMGSYNC_ECANCELED);
    assert_all_canceled(&h, r, IMGSYNC_ECANCELED);
    ck_assert_uint_eq(imgsync__group_pending(h.g), 0);
    /* the group stays usable, and its token cache too */
    fake_set_simple(h.ft, "GET", A "/after", 200, NULL, "{}");
    eh_req again = EH_REQ_INIT;
    ck_assert_int_eq(eh_get(&h, &again, A "/after", IMGSYNC__CRED_NONE), 0);
    eh_run(&h);
    ck_assert_int_eq(again.done_calls, 1);
    ck_assert_int_eq(again.status, 200);
    eh_req_clear(&again);
    eh_free(&h);
}
END_TEST

START_TEST(test_group_cancel_with_code)
{
    /* a deadline cancels with its own code */
    eh h;
    start(&h);
    eh_req r[R_N];
    memset(r, 0, sizeof(r));
    into_every_state(&h, r);
    imgsync__group_cancel(h.g, IMGSYNC_ETIMEOUT);
    assert_all_canceled(&h, r, IMGSYNC_ETIMEOUT);
    eh_free(&h);
}
END_TEST

START_TEST(test_group_free_in_flight)
{
    eh h;
    start(&h);
    eh_req r[R_N];
    memset(r, 0, sizeof(r));
    into_every_state(&h, r);
    imgsync__group_free(h.g);
    h.g = NULL;
    assert_all_canceled(&h, r, IMGSYNC_ECANCELED);
    eh_free(&h);
}
END_TEST

START_TEST(test_other_group_untouched)
{
    eh h;
    start(&h);
    imgsync__group *g1 = h.g;
    ck_assert_int_eq(eh_group(&h, NULL), 0);
    imgsync__group *g2 = h.g;
    fake_reply slow = {200, NULL, "{}", 0, 0, 0, NULL, 1000, NULL};
    fake_set(h.ft, "GET", A "/1", &slow);
    fake_set(h.ft, "GET", B "/2", &slow);
    eh_req r1 = EH_REQ_INIT, r2 = EH_REQ_INIT;
    h.g = g1;
    ck_assert_int_eq(eh_get(&h, &r1, A "/1", IMGSYNC__CRED_NONE), 0);
    h.g = g2;
    ck_assert_int_eq(eh_get(&h, &r2, B "/2", IMGSYNC__CRED_NONE), 0);
    ck_assert_uint_eq(imgsync__engine_perform(h.e, 10), 0);
    imgsync__group_free(g1);
    ck_assert_int_eq(r1.done_calls, 1);
    ck_assert_int_eq(r1.error, IMGSYNC_ECANCELED);
    ck_assert_int_eq(r2.done_calls, 0);
    eh_run(&h);
    ck_assert_int_eq(r2.done_calls, 1);
    ck_assert_int_eq(r2.status, 200);
    ck_assert_int_eq(r1.done_calls, 1);
    eh_req_clear(&r1);
    eh_req_clear(&r2);
    eh_free(&h);
}
END_TEST

/* done hooks that act on the group */
static void cancel_group(eh_req *r) { imgsync__group_cancel(r->h->g, IMGSYNC_ECANCELED); }
static void free_group(eh_req *r)
{
    imgsync__group_free(r->h->g);
    r->h->g = NULL;
}

static void submit_follow_up(eh_req *r)
{
    eh_req *next = r->extra;
    if (next && !next->h)
        ck_assert_int_eq(eh_get(r->h, next, A "/follow-up", IMGSYNC__CRED_NONE), 0);
}

START_TEST(test_cancel_from_done_hook)
{
    static void (*const actions[])(eh_req *) = {cancel_group, free_group};
    for (size_t k = 0; k < 2; k++) {
        eh h;
        start(&h);
        fake_set_simple(h.ft, "GET", B "/first", 500, NULL, "x");
        fake_reply slow = {200, NULL, "{}", 0, 0, 0, NULL, 1000, NULL};
        fake_set(h.ft, "GET", A "/slow", &slow);
        fake_set(h.ft, "GET", A "/queued", &slow);
        imgsync__engine_opts o;
        imgsync__engine_default_opts(&o);
        o.max_host_connections = 1;
        o.retry.max_retries = 0;
        imgsync__engine_set_opts(h.e, &o);
        eh_req first = EH_REQ_INIT, other[2] = {EH_REQ_INIT, EH_REQ_INIT};
        first.on_done = actions[k];
        ck_assert_int_eq(eh_get(&h, &other[0], A "/slow", IMGSYNC__CRED_NONE), 0);
        ck_assert_int_eq(eh_get(&h, &other[1], A "/queued", IMGSYNC__CRED_NONE), 0);
        ck_assert_int_eq(eh_get(&h, &first, B "/first", IMGSYNC__CRED_NONE), 0);
        eh_run(&h);
        ck_assert_int_eq(first.done_calls, 1);
        ck_assert_int_eq(first.status, 500);
        for (int i = 0; i < 2; i++) {
            ck_assert_int_eq(other[i].done_calls, 1);
            ck_assert_int_eq(other[i].error, IMGSYNC_ECANCELED);
            eh_req_clear(&other[i]);
        }
        ck_assert_uint_eq(fake_count(h.ft, "GET", A "/queued"), 0);
        eh_req_clear(&first);
        eh_free(&h);
    }
}
END_TEST

START_TEST(test_submit_from_done_hook)
{
    eh h;
    start(&h);
    fake_set_simple(h.ft, "GET", A "/first", 200, NULL, "{}");
    fake_set_simple(h.ft, "GET", A "/follow-up", 200, NULL, "{\"n\":2}");
    eh_req first = EH_REQ_INIT, next = EH_REQ_INIT;
    first.on_done = submit_follow_up;
    first.extra = &next;
    ck_assert_int_eq(eh_get(&h, &first, A "/first", IMGSYNC__CRED_NONE), 0);
    eh_run(&h);
    ck_assert_int_eq(first.done_calls, 1);
    ck_assert_int_eq(next.done_calls, 1);
    ck_assert_str_eq(next.body, "{\"n\":2}");
    eh_req_clear(&first);
    eh_req_clear(&next);
    eh_free(&h);
}
END_TEST

/* sign hooks that cancel or free the group while their request is being signed */
static void cancel_in_sign(eh_req *r) { imgsync__group_cancel(r->h->g, IMGSYNC_ECANCELED); }

START_TEST(test_cancel_from_sign_hook)
{
    eh h;
    start(&h);
    fake_set_simple(h.ft, "GET", C "/api/x", 200, NULL, "{}");
    fake_reply slow = {200, NULL, "{}", 0, 0, 0, NULL, 1000, NULL};
    fake_set(h.ft, "GET", A "/slow", &slow);
    eh_req signing = EH_REQ_INIT, other = EH_REQ_INIT;
    signing.on_sign = cancel_in_sign;
    ck_assert_int_eq(eh_get(&h, &other, A "/slow", IMGSYNC__CRED_NONE), 0);
    ck_assert_int_eq(eh_get(&h, &signing, C "/api/x", IMGSYNC__CRED_PROVIDER), 0);
    eh_run(&h);
    ck_assert_int_eq(signing.sign_calls, 1);
    ck_assert_int_eq(signing.done_calls, 1);
    ck_assert_int_eq(signing.error, IMGSYNC_ECANCELED);
    ck_assert_str_eq(signing.detail, "canceled");
    ck_assert_int_eq(other.done_calls, 1);
    ck_assert_int_eq(other.error, IMGSYNC_ECANCELED);
    ck_assert_uint_eq(fake_count(h.ft, "GET", C "/api/x"), 0); /* never went out */
    ck_assert_uint_eq(imgsync__engine_pending(h.e), 0);
    eh_req_clear(&signing);
    eh_req_clear(&other);
    eh_free(&h);
}
END_TEST

/* A done hook that frees its group while group_cancel delivers: the remaining requests are still
 * delivered once each, nothing of the freed group is touched afterwards (ASan, valgrind). */
static void free_group_once(eh_req *r)
{
    if (r->h->g)
        free_group(r);
}

static void submit_three(eh *h, eh_req *r, const char *const *paths)
{
    fake_reply slow = {200, NULL, "{}", 0, 0, 0, NULL, 1000, NULL};
    for (int i = 0; i < 3; i++) {
        char url[128];
        snprintf(url, sizeof(url), A "%s", paths[i]);
        fake_set(h->ft, "GET", url, &slow);
        ck_assert_int_eq(eh_get(h, &r[i], url, IMGSYNC__CRED_NONE), 0);
    }
}

START_TEST(test_done_hook_frees_group_during_cancel)
{
    static const char *const paths[] = {"/v2/a/tags/list", "/v2/b/tags/list", "/v2/c/tags/list"};
    eh h;
    start(&h);
    eh_req r[3] = {EH_REQ_INIT, EH_REQ_INIT, EH_REQ_INIT};
    for (int i = 0; i < 3; i++)
        r[i].on_done = free_group_once; /* whichever is delivered first frees the group */
    submit_three(&h, r, paths);
    imgsync__group_cancel(h.g, IMGSYNC_ECANCELED);
    ck_assert_ptr_null(h.g);
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(r[i].done_calls, 1);
        ck_assert_int_eq(r[i].error, IMGSYNC_ECANCELED);
        eh_req_clear(&r[i]);
    }
    ck_assert_uint_eq(imgsync__engine_pending(h.e), 0);
    ck_assert_uint_eq(fake_inflight(h.ft), 0);
    eh_free(&h);
}
END_TEST

/* group_free whose done hooks free the same group again (the owner tearing down from done):
 * the second free is a no-op, nothing is freed twice */
START_TEST(test_done_hook_frees_group_during_free)
{
    static const char *const paths[] = {"/1", "/2", "/3"};
    eh h;
    start(&h);
    eh_req r[3] = {EH_REQ_INIT, EH_REQ_INIT, EH_REQ_INIT};
    for (int i = 0; i < 3; i++)
        r[i].on_done = free_group_once;
    submit_three(&h, r, paths);
    ck_assert_uint_eq(imgsync__engine_perform(h.e, 10), 0);
    imgsync__group_free(h.g); /* h.g still set: the first done hook frees it again */
    ck_assert_ptr_null(h.g);
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(r[i].done_calls, 1);
        ck_assert_int_eq(r[i].error, IMGSYNC_ECANCELED);
        eh_req_clear(&r[i]);
    }
    ck_assert_uint_eq(imgsync__engine_pending(h.e), 0);
    eh_free(&h);
}
END_TEST

/* While one group is canceled, a done hook frees another group (with requests of its own, whose
 * hooks run nested) and cancels the first one again. */
typedef struct two_groups {
    imgsync__group *other;
    int acted;
} two_groups;

static void free_other_and_recancel(eh_req *r)
{
    two_groups *tg = r->extra;
    if (tg->acted++)
        return;
    imgsync__group *other = tg->other;
    tg->other = NULL;
    imgsync__group_free(other);
    imgsync__group_cancel(r->h->g, IMGSYNC_ETIMEOUT);
}

START_TEST(test_done_hook_frees_other_group_during_cancel)
{
    static const char *const paths[] = {"/x", "/y", "/z"};
    eh h;
    start(&h);
    imgsync__group *g1 = h.g;
    ck_assert_int_eq(eh_group(&h, NULL), 0);
    two_groups tg = {h.g, 0};
    eh_req o[3] = {EH_REQ_INIT, EH_REQ_INIT, EH_REQ_INIT};
    submit_three(&h, o, paths); /* into the other group */
    h.g = g1;
    static const char *const mine[] = {"/1", "/2", "/3"};
    eh_req r[3] = {EH_REQ_INIT, EH_REQ_INIT, EH_REQ_INIT};
    for (int i = 0; i < 3; i++) {
        r[i].on_done = free_other_and_recancel;
        r[i].extra = &tg;
    }
    submit_three(&h, r, mine);
    ck_assert_uint_eq(imgsync__engine_perform(h.e, 10), 0);
    imgsync__group_cancel(g1, IMGSYNC_ECANCELED);
    ck_assert_int_eq(tg.acted, 3);
    ck_assert_ptr_null(tg.other);
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(r[i].done_calls, 1);
        ck_assert_int_eq(r[i].error, IMGSYNC_ECANCELED);
        ck_assert_int_eq(o[i].done_calls, 1);
        ck_assert_int_eq(o[i].error, IMGSYNC_ECANCELED);
        eh_req_clear(&r[i]);
        eh_req_clear(&o[i]);
    }
    ck_assert_uint_eq(imgsync__engine_pending(h.e), 0);
    ck_assert_uint_eq(fake_inflight(h.ft), 0);
    eh_free(&h);
}
END_TEST

/* A done hook that submits while its group is canceled: the new request is the group's and is
 * served (the group stays usable); while the group is being freed, the submission is refused
 * (ECANCELED, no hook) instead of outliving the group. */
typedef struct follow {
    eh_req *next;
    int rc;
} follow;

static void submit_during(eh_req *r)
{
    follow *f = r->extra;
    if (f->next->h)
        return;
    f->rc = eh_get(r->h, f->next, A "/follow-up", IMGSYNC__CRED_NONE);
}

START_TEST(test_submit_from_done_hook_during_cancel)
{
    for (int freeing = 0; freeing < 2; freeing++) {
        eh h;
        start(&h);
        fake_set_simple(h.ft, "GET", A "/follow-up", 200, NULL, "{\"n\":2}");
        fake_reply slow = {200, NULL, "{}", 0, 0, 0, NULL, 1000, NULL};
        fake_set(h.ft, "GET", A "/first", &slow);
        eh_req first = EH_REQ_INIT, next = EH_REQ_INIT;
        follow f = {&next, -1};
        first.on_done = submit_during;
        first.extra = &f;
        ck_assert_int_eq(eh_get(&h, &first, A "/first", IMGSYNC__CRED_NONE), 0);
        ck_assert_uint_eq(imgsync__engine_perform(h.e, 10), 0);
        if (freeing) {
            imgsync__group_free(h.g);
            h.g = NULL;
            ck_assert_int_eq(f.rc, IMGSYNC_ECANCELED);
            ck_assert_uint_eq(imgsync__engine_pending(h.e), 0);
            ck_assert_int_eq(next.done_calls, 0);
        } else {
            imgsync__group_cancel(h.g, IMGSYNC_ECANCELED);
            ck_assert_int_eq(f.rc, 0);
            ck_assert_uint_eq(imgsync__group_pending(h.g), 1);
            eh_run(&h);
            ck_assert_int_eq(next.done_calls, 1);
            ck_assert_int_eq(next.status, 200);
        }
        ck_assert_int_eq(first.done_calls, 1);
        ck_assert_int_eq(first.error, IMGSYNC_ECANCELED);
        eh_req_clear(&first);
        eh_req_clear(&next);
        eh_free(&h);
    }
}
END_TEST

/* A sign hook that frees its own group: every request is delivered once with ECANCELED (the one
 * being signed after its hook returned), the request never goes out, the group is freed once. */
static void free_in_sign(eh_req *r)
{
    imgsync__group *g = r->h->g;
    r->h->g = NULL;
    imgsync__group_free(g);
    imgsync__group_free(g); /* a second free while the signer holds it: still a no-op */
}

START_TEST(test_free_from_sign_hook)
{
    eh h;
    start(&h);
    fake_set_simple(h.ft, "GET", C "/api/x", 200, NULL, "{}");
    fake_reply slow = {200, NULL, "{}", 0, 0, 0, NULL, 1000, NULL};
    fake_set(h.ft, "GET", A "/slow", &slow);
    eh_req signing = EH_REQ_INIT, other = EH_REQ_INIT;
    signing.on_sign = free_in_sign;
    ck_assert_int_eq(eh_get(&h, &other, A "/slow", IMGSYNC__CRED_NONE), 0);
    ck_assert_int_eq(eh_get(&h, &signing, C "/api/x", IMGSYNC__CRED_PROVIDER), 0);
    for (int i = 0; i < 10 && imgsync__engine_pending(h.e); i++)
        imgsync__engine_perform(h.e, 1000);
    ck_assert_int_eq(signing.sign_calls, 1);
    ck_assert_int_eq(signing.done_calls, 1);
    ck_assert_int_eq(signing.error, IMGSYNC_ECANCELED);
    ck_assert_int_eq(other.done_calls, 1);
    ck_assert_int_eq(other.error, IMGSYNC_ECANCELED);
    ck_assert_uint_eq(fake_count(h.ft, "GET", C "/api/x"), 0);
    ck_assert_uint_eq(imgsync__engine_pending(h.e), 0);
    eh_req_clear(&signing);
    eh_req_clear(&other);
    eh_free(&h);
}
END_TEST

START_TEST(test_engine_free_with_requests_left)
{
    /* the core's groups are gone (a leak of its own): requests are freed, no hook is called */
    eh h;
    start(&h);
    eh_req r[R_N];
    memset(r, 0, sizeof(r));
    into_every_state(&h, r);
    h.g = NULL; /* not freed by eh_free: the engine must drop it */
    eh_free(&h);
    for (int i = 0; i < R_N; i++)
        ck_assert_int_eq(r[i].done_calls, 0);
}
END_TEST

START_TEST(test_cancel_empty_and_null)
{
    eh h;
    start(&h);
    imgsync__group_cancel(h.g, IMGSYNC_ECANCELED);
    imgsync__group_cancel(NULL, IMGSYNC_ECANCELED);
    imgsync__group_free(NULL);
    ck_assert_uint_eq(imgsync__group_pending(NULL), 0);
    ck_assert_int_eq(imgsync__group_submit(NULL, NULL), IMGSYNC_EINVAL);
    ck_assert_int_eq(imgsync__group_submit(h.g, NULL), IMGSYNC_EINVAL);
    ck_assert_uint_eq(imgsync__engine_perform(h.e, 1000), 0);
    ck_assert_int_eq(eh_elapsed(&h), 0); /* nothing to wait for: no time passes */
    eh_free(&h);
}
END_TEST

Suite *engine_cancel_suite(void)
{
    Suite *s = suite_create("engine_cancel");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_success_and_failure_once);
    tcase_add_test(tc, test_group_cancel_in_every_state);
    tcase_add_test(tc, test_group_cancel_with_code);
    tcase_add_test(tc, test_group_free_in_flight);
    tcase_add_test(tc, test_other_group_untouched);
    tcase_add_test(tc, test_cancel_from_done_hook);
    tcase_add_test(tc, test_submit_from_done_hook);
    tcase_add_test(tc, test_cancel_from_sign_hook);
    tcase_add_test(tc, test_done_hook_frees_group_during_cancel);
    tcase_add_test(tc, test_done_hook_frees_group_during_free);
    tcase_add_test(tc, test_done_hook_frees_other_group_during_cancel);
    tcase_add_test(tc, test_submit_from_done_hook_during_cancel);
    tcase_add_test(tc, test_free_from_sign_hook);
    tcase_add_test(tc, test_engine_free_with_requests_left);
    tcase_add_test(tc, test_cancel_empty_and_null);
    suite_add_tcase(s, tc);
    return s;
}

#include "check_main.h"
IMGSYNC_TEST_MAIN(engine_cancel_suite)
