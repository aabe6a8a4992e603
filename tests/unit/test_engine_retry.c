/*
 * Engine retries on the fake transport and the fake clock: which outcomes are retried (per
 * status, per transport failure class, per method), how many attempts, the backoff between
 * them, Retry-After (seconds and HTTP-date, capped) and the total retry time cap. Time is the
 * fake clock's: nothing sleeps.
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine.h"
#include "imgsync/errors.h"
#include "support/engine_harness.h"

Suite *engine_retry_suite(void);

#define URL "https://reg.example/v2/app/tags/list"

/* realloc is wrapped for this program (Makefile: -Wl,--wrap=realloc): while fail_heap is set,
 * the first allocation of a new backoff heap (64 request pointers) fails. */
void *__real_realloc(void *p, size_t n);
void *__wrap_realloc(void *p, size_t n);
static int fail_heap, heap_failures;

void *__wrap_realloc(void *p, size_t n)
{
    if (fail_heap && !p && n == 64 * sizeof(void *)) {
        fail_heap = 0;
        heap_failures++;
        return NULL;
    }
    return __real_realloc(p, n);
}

/* Engine options: retries and backoff as given, no total cap unless set. */
static void opts(imgsync__engine_opts *o, int max_retries, int64_t base_ms, int64_t max_ms, int64_t total_ms)
{
    imgsync__engine_default_opts(o);
    o->retry.max_retries = max_retries;
    o->retry.base_ms = base_ms;
    o->retry.max_ms = max_ms;
    o->retry.total_ms = total_ms;
}

static void start(eh *h, const imgsync__engine_opts *o)
{
    eh_init(h, o);
    ck_assert_int_eq(eh_group(h, NULL), 0);
}

/* Fake time of each attempt, recorded as it goes on the wire. */
typedef struct times {
    const eh *h;
    int64_t at[64];
    size_t n;
} times;

static void record_time(void *ctx, fake_request *q, const imgsync__wire *w)
{
    (void)q;
    (void)w;
    times *t = ctx;
    if (t->n < sizeof(t->at) / sizeof(t->at[0]))
        t->at[t->n++] = t->h->fc.mono_ms;
}

/* Submit `method` URL (body for POST/PUT), run to the end, return the number of attempts. */
static size_t run_one(eh *h, eh_req *r, const char *method, int idempotent)
{
    imgsync__ereq_spec spec;
    memset(&spec, 0, sizeof(spec));
    spec.method = method;
    spec.url = URL;
    spec.idempotent = idempotent;
    if (!strcmp(method, "POST") || !strcmp(method, "PUT")) {
        spec.body = "{\"q\":1}";
        spec.body_len = 7;
        spec.content_type = "application/json";
    }
    ck_assert_int_eq(eh_submit(h, r, &spec), 0);
    eh_run(h);
    ck_assert_int_eq(r->done_calls, 1);
    return fake_count(h->ft, method, URL);
}

START_TEST(test_transient_statuses_retried)
{
    /* 500 too: Harbor answers it for database timeouts that pass (issue 6) */
    static const int statuses[] = {429, 500, 502, 503, 504};
    static const char *const methods[] = {"GET", "HEAD"};
    imgsync__engine_opts o;
    opts(&o, 3, 100, 1000, 0);
    for (size_t m = 0; m < 2; m++) {
        for (size_t i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++) {
            eh h;
            start(&h, &o);
            fake_set_simple(h.ft, methods[m], URL, statuses[i], NULL, "busy");
            eh_req r = EH_REQ_INIT;
            size_t attempts = run_one(&h, &r, methods[m], 1);
            /* a 429 does not use up max_retries (throttle.c): 32 more at most */
            size_t want = statuses[i] == 429 ? 33 : 4;
            ck_assert_msg(attempts == want, "%s %d: %zu attempts", methods[m], statuses[i], attempts);
            ck_assert_int_eq(r.status, statuses[i]); /* the last answer is delivered */
            ck_assert_int_eq(r.error, 0);
            ck_assert_int_eq(h.ev_sent, (int)want);
            ck_assert_int_eq(h.ev_retry, (int)want - 1);
            ck_assert_uint_eq(fake_unexpected(h.ft), 0);
            eh_req_clear(&r);
            eh_free(&h);
        }
    }
}
END_TEST

START_TEST(test_transient_then_success)
{
    imgsync__engine_opts o;
    opts(&o, 4, 100, 1000, 0);
    eh h;
    start(&h, &o);
    fake_add_simple(h.ft, "GET", URL, 500, NULL, "db timeout");
    fake_add_simple(h.ft, "GET", URL, 502, NULL, "bad gateway");
    fake_add_simple(h.ft, "GET", URL, 200, "Content-Type: application/json", "{\"tags\":[]}");
    eh_req r = EH_REQ_INIT;
    ck_assert_uint_eq(run_one(&h, &r, "GET", 1), 3);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(r.body, "{\"tags\":[]}");
    ck_assert_int_eq(h.ev_sent, 3);
    ck_assert_int_eq(h.ev_retry, 2);
    /* each attempt is numbered */
    for (size_t i = 0; i < 3; i++)
        ck_assert_int_eq(fake_request_at(h.ft, i)->attempt, (int)i + 1);
    eh_req_clear(&r);
    eh_free(&h);
}
END_TEST

START_TEST(test_other_statuses_not_retried)
{
    static const int statuses[] = {200, 204, 304, 400, 401, 403, 404, 405, 408, 409, 413, 422, 501, 505};
    imgsync__engine_opts o;
    opts(&o, 3, 100, 1000, 0);
    for (size_t i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++) {
        eh h;
        start(&h, &o);
        fake_set_simple(h.ft, "GET", URL, statuses[i], NULL, "x");
        eh_req r = EH_REQ_INIT;
        size_t attempts = run_one(&h, &r, "GET", 1);
        ck_assert_msg(attempts == 1, "status %d: %zu attempts", statuses[i], attempts);
        ck_assert_int_eq(r.status, statuses[i]);
        ck_assert_int_eq(h.ev_retry, 0);
        ck_assert_int_eq(eh_elapsed(&h), 0);
        eh_req_clear(&r);
        eh_free(&h);
    }
}
END_TEST

START_TEST(test_post_retried_only_when_idempotent)
{
    imgsync__engine_opts o;
    opts(&o, 2, 100, 1000, 0);
    static const int statuses[] = {500, 502, 504};
    for (size_t i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++) {
        /* a POST the caller marked idempotent (a search): retried, with its body every time */
        eh h;
        start(&h, &o);
        fake_set_simple(h.ft, "POST", URL, statuses[i], NULL, "x");
        eh_req r = EH_REQ_INIT;
        ck_assert_uint_eq(run_one(&h, &r, "POST", 1), 3);
        for (size_t k = 0; k < 3; k++) {
            ck_assert_str_eq(fake_request_at(h.ft, k)->body, "{\"q\":1}");
            ck_assert_str_eq(fake_request_header(fake_request_at(h.ft, k), "Content-Type"), "application/json");
        }
        eh_req_clear(&r);
        eh_free(&h);
        /* a POST that is not idempotent (a login, a create): never after the server may have
         * taken it */
        start(&h, &o);
        fake_set_simple(h.ft, "POST", URL, statuses[i], NULL, "x");
        eh_req r2 = EH_REQ_INIT;
        ck_assert_uint_eq(run_one(&h, &r2, "POST", 0), 1);
        ck_assert_int_eq(r2.status, statuses[i]);
        ck_assert_int_eq(h.ev_retry, 0);
        eh_req_clear(&r2);
        eh_free(&h);
        /* PUT likewise */
        start(&h, &o);
        fake_set_simple(h.ft, "PUT", URL, statuses[i], NULL, "x");
        eh_req r3 = EH_REQ_INIT;
        ck_assert_uint_eq(run_one(&h, &r3, "PUT", 0), 1);
        eh_req_clear(&r3);
        eh_free(&h);
    }
}
END_TEST

START_TEST(test_post_429_503_not_retried)
{
    /* engine/retry.h: a request that is not idempotent is never sent twice on an answer, not
     * even 429 or 503; an idempotent POST is */
    imgsync__engine_opts o;
    opts(&o, 2, 100, 1000, 0);
    static const int statuses[] = {429, 503};
    for (size_t i = 0; i < 2; i++) {
        eh h;
        start(&h, &o);
        fake_set_simple(h.ft, "POST", URL, statuses[i], NULL, "x");
        eh_req r = EH_REQ_INIT;
        ck_assert_uint_eq(run_one(&h, &r, "POST", 0), 1);
        ck_assert_int_eq(r.status, statuses[i]);
        ck_assert_int_eq(h.ev_retry, 0);
        eh_req_clear(&r);
        eh_free(&h);
        start(&h, &o);
        fake_set_simple(h.ft, "POST", URL, statuses[i], NULL, "x");
        eh_req r2 = EH_REQ_INIT;
        ck_assert_uint_eq(run_one(&h, &r2, "POST", 1), statuses[i] == 429 ? 33 : 3);
        eh_req_clear(&r2);
        eh_free(&h);
    }
}
END_TEST

/* One scripted transport failure for `method`; returns the attempts made. */
static size_t failing(const char *method, int idempotent, int code, int retry_class, eh_req *r, eh *h)
{
    imgsync__engine_opts o;
    opts(&o, 3, 100, 1000, 0);
    start(h, &o);
    memset(r, 0, sizeof(*r)); /* the caller cleared it */
    fake_reply fail = {0, NULL, NULL, 0, code, retry_class, "scripted failure", 0, NULL};
    fake_set(h->ft, method, URL, &fail);
    return run_one(h, r, method, idempotent);
}

START_TEST(test_transport_failures)
{
    eh h;
    eh_req r = EH_REQ_INIT;
    /* reset / timeout: the request may have reached the server: retried when idempotent */
    ck_assert_uint_eq(failing("GET", 1, IMGSYNC_ENETWORK, IMGSYNC__RETRY_IDEMPOTENT, &r, &h), 4);
    ck_assert_int_eq(r.error, IMGSYNC_ENETWORK);
    ck_assert_int_eq(r.status, 0);
    ck_assert_str_eq(r.detail, "scripted failure");
    ck_assert_int_eq(h.ev_retry, 3);
    eh_req_clear(&r);
    eh_free(&h);
    ck_assert_uint_eq(failing("GET", 1, IMGSYNC_ETIMEOUT, IMGSYNC__RETRY_IDEMPOTENT, &r, &h), 4);
    ck_assert_int_eq(r.error, IMGSYNC_ETIMEOUT);
    eh_req_clear(&r);
    eh_free(&h);
    ck_assert_uint_eq(failing("HEAD", 1, IMGSYNC_ENETWORK, IMGSYNC__RETRY_IDEMPOTENT, &r, &h), 4);
    eh_req_clear(&r);
    eh_free(&h);
    ck_assert_uint_eq(failing("POST", 1, IMGSYNC_ENETWORK, IMGSYNC__RETRY_IDEMPOTENT, &r, &h), 4);
    eh_req_clear(&r);
    eh_free(&h);
    ck_assert_uint_eq(failing("POST", 0, IMGSYNC_ENETWORK, IMGSYNC__RETRY_IDEMPOTENT, &r, &h), 1);
    ck_assert_int_eq(r.error, IMGSYNC_ENETWORK);
    eh_req_clear(&r);
    eh_free(&h);
    ck_assert_uint_eq(failing("POST", 0, IMGSYNC_ETIMEOUT, IMGSYNC__RETRY_IDEMPOTENT, &r, &h), 1);
    eh_req_clear(&r);
    eh_free(&h);
    /* connection refused: nothing was sent, so any request may go again */
    ck_assert_uint_eq(failing("GET", 1, IMGSYNC_ENETWORK, IMGSYNC__RETRY_SAFE, &r, &h), 4);
    eh_req_clear(&r);
    eh_free(&h);
    ck_assert_uint_eq(failing("POST", 0, IMGSYNC_ENETWORK, IMGSYNC__RETRY_SAFE, &r, &h), 4);
    eh_req_clear(&r);
    eh_free(&h);
}
END_TEST

START_TEST(test_dns_failure_not_retried)
{
    /* issue 6: a name that does not resolve will not resolve a second later (was 4 retries,
     * 6.3 s). The curl transport gives DNS failures the NEVER class (curl_transport.c map_error);
     * here the engine must honour it without waiting. */
    eh h;
    eh_req r = EH_REQ_INIT;
    ck_assert_uint_eq(failing("GET", 1, IMGSYNC_ENETWORK, IMGSYNC__RETRY_NEVER, &r, &h), 1);
    ck_assert_int_eq(r.error, IMGSYNC_ENETWORK);
    ck_assert_int_eq(h.ev_sent, 1);
    ck_assert_int_eq(h.ev_retry, 0);
    ck_assert_int_eq(eh_elapsed(&h), 0);
    eh_req_clear(&r);
    eh_free(&h);
    /* nor are TLS, too-big or protocol failures */
    static const int codes[] = {IMGSYNC_EINSECURE, IMGSYNC_ETOOBIG, IMGSYNC_EPROTOCOL};
    for (size_t i = 0; i < 3; i++) {
        ck_assert_uint_eq(failing("GET", 1, codes[i], IMGSYNC__RETRY_NEVER, &r, &h), 1);
        ck_assert_int_eq(r.error, codes[i]);
        eh_req_clear(&r);
        eh_free(&h);
    }
}
END_TEST

START_TEST(test_backoff_exponential_with_jitter)
{
    /* d = base * 2^(n-1) capped at max; the wait is in [d/2, d] (equal jitter) */
    imgsync__engine_opts o;
    opts(&o, 5, 1000, 10000, 0);
    for (int round = 0; round < 8; round++) { /* jitter is not seedable: several engines */
        eh h;
        start(&h, &o);
        times t = {&h, {0}, 0};
        fake_set_observer(h.ft, record_time, &t);
        fake_set_simple(h.ft, "GET", URL, 503, NULL, "busy");
        eh_req r = EH_REQ_INIT;
        ck_assert_uint_eq(run_one(&h, &r, "GET", 1), 6);
        ck_assert_uint_eq(t.n, 6);
        ck_assert(t.at[0] == h.start_mono); /* the first attempt goes at once */
        static const int64_t d[] = {1000, 2000, 4000, 8000, 10000};
        for (size_t k = 1; k < 6; k++) {
            int64_t gap = t.at[k] - t.at[k - 1];
            ck_assert_msg(gap >= d[k - 1] / 2 && gap <= d[k - 1], "retry %zu waited %lld ms (d = %lld)", k,
                          (long long)gap, (long long)d[k - 1]);
        }
        /* delivered right after the last attempt */
        ck_assert(r.done_mono == t.at[5]);
        eh_req_clear(&r);
        eh_free(&h);
    }
}
END_TEST

START_TEST(test_backoff_waits_for_nothing_else)
{
    /* while a request backs off, another one is served at once */
    imgsync__engine_opts o;
    opts(&o, 2, 5000, 10000, 0);
    eh h;
    start(&h, &o);
    fake_set_simple(h.ft, "GET", URL, 503, NULL, "busy");
    fake_set_simple(h.ft, "GET", "https://other.example/v2/", 200, NULL, "{}");
    eh_req slow = EH_REQ_INIT, quick = EH_REQ_INIT;
    ck_assert_int_eq(eh_get(&h, &slow, URL, IMGSYNC__CRED_NONE), 0);
    ck_assert_int_eq(eh_get(&h, &quick, "https://other.example/v2/", IMGSYNC__CRED_NONE), 0);
    ck_assert_uint_eq(imgsync__engine_perform(h.e, 60000), 1);
    ck_assert_int_eq(quick.done_calls, 1);
    ck_assert_int_eq(slow.done_calls, 0);
    ck_assert_int_eq(eh_elapsed(&h), 0);
    ck_assert_uint_eq(imgsync__engine_pending(h.e), 1);
    eh_run(&h);
    ck_assert_int_eq(slow.done_calls, 1);
    ck_assert_int_eq(slow.status, 503);
    ck_assert(eh_elapsed(&h) >= 2500 + 5000);
    eh_req_clear(&slow);
    eh_req_clear(&quick);
    eh_free(&h);
}
END_TEST

/* One 503 with Retry-After `ra`, then 200; returns the wait between the two attempts. */
static int64_t retry_after_wait(const char *ra, int64_t max_ms, size_t *attempts, int *status)
{
    imgsync__engine_opts o;
    opts(&o, 3, 100, max_ms, 0);
    eh h;
    start(&h, &o);
    times t = {&h, {0}, 0};
    fake_set_observer(h.ft, record_time, &t);
    char hdr[128];
    snprintf(hdr, sizeof(hdr), "Retry-After: %s", ra);
    fake_add_simple(h.ft, "GET", URL, 503, hdr, "busy");
    fake_add_simple(h.ft, "GET", URL, 200, NULL, "{}");
    eh_req r = EH_REQ_INIT;
    *attempts = run_one(&h, &r, "GET", 1);
    *status = r.status;
    int64_t wait = t.n >= 2 ? t.at[1] - t.at[0] : -1;
    ck_assert(r.done_mono - h.start_mono == (t.n >= 2 ? wait : 0));
    eh_req_clear(&r);
    eh_free(&h);
    return wait;
}

START_TEST(test_retry_after_seconds)
{
    size_t n;
    int st;
    ck_assert(retry_after_wait("7", 30000, &n, &st) == 7000);
    ck_assert_uint_eq(n, 2);
    ck_assert_int_eq(st, 200);
    ck_assert(retry_after_wait("0", 30000, &n, &st) == 0);
    ck_assert_uint_eq(n, 2);
    ck_assert(retry_after_wait("30", 30000, &n, &st) == 30000); /* exactly the cap: waited */
    ck_assert_int_eq(st, 200);
    /* malformed: the backoff instead (100 ms base: [50, 100]) */
    int64_t w = retry_after_wait("soon", 30000, &n, &st);
    ck_assert(w >= 50 && w <= 100);
    w = retry_after_wait("-5", 30000, &n, &st);
    ck_assert(w >= 50 && w <= 100);
}
END_TEST

START_TEST(test_retry_after_http_date)
{
    /* the fake wall clock starts at Thu, 01 Jan 2026 00:00:00 GMT */
    size_t n;
    int st;
    ck_assert(retry_after_wait("Thu, 01 Jan 2026 00:00:12 GMT", 30000, &n, &st) == 12000);
    ck_assert_uint_eq(n, 2);
    ck_assert_int_eq(st, 200);
    /* a date already past: at once */
    ck_assert(retry_after_wait("Wed, 31 Dec 2025 23:00:00 GMT", 30000, &n, &st) == 0);
    ck_assert_uint_eq(n, 2);
}
END_TEST

START_TEST(test_retry_after_over_cap_delivered_at_once)
{
    /* issue 6 item 5: a huge or far-future Retry-After is not waited for (was: capped to max_ms
     * and waited, ~120 s per request). The response is delivered at once with a reason. */
    static const char *const values[] = {"120", "31", "99999999999999999999", "Fri, 02 Jan 2026 00:00:00 GMT",
                                         "Fri, 31 Dec 9999 23:59:59 GMT"};
    for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
        imgsync__engine_opts o;
        opts(&o, 3, 100, 30000, 0);
        eh h;
        start(&h, &o);
        char hdr[128];
        snprintf(hdr, sizeof(hdr), "Retry-After: %s", values[i]);
        fake_add_simple(h.ft, "GET", URL, 429, hdr, "slow down");
        fake_add_simple(h.ft, "GET", URL, 200, NULL, "{}");
        eh_req r = EH_REQ_INIT;
        ck_assert_msg(run_one(&h, &r, "GET", 1) == 1, "Retry-After: %s", values[i]);
        ck_assert_int_eq(r.status, 429);
        ck_assert_int_eq(r.error, 0);
        ck_assert_str_eq(r.body, "slow down");
        ck_assert_ptr_nonnull(strstr(r.detail, "retry after more than 30000 ms"));
        ck_assert_int_eq(eh_elapsed(&h), 0);
        ck_assert_int_eq(h.ev_retry, 0);
        eh_req_clear(&r);
        eh_free(&h);
    }
}
END_TEST

START_TEST(test_total_retry_time_cap)
{
    /* no retry starts later than retry.total_ms after the first attempt */
    imgsync__engine_opts o;
    opts(&o, 100, 1000, 1000, 5000);
    for (int round = 0; round < 4; round++) {
        eh h;
        start(&h, &o);
        times t = {&h, {0}, 0};
        fake_set_observer(h.ft, record_time, &t);
        fake_set_simple(h.ft, "GET", URL, 503, NULL, "busy");
        eh_req r = EH_REQ_INIT;
        size_t n = run_one(&h, &r, "GET", 1);
        /* waits in [500, 1000]: at least 5 and at most 10 retries fit in 5 s */
        ck_assert_msg(n >= 6 && n <= 11, "%zu attempts", n);
        ck_assert(t.at[t.n - 1] - t.at[0] <= 5000);
        ck_assert(eh_elapsed(&h) <= 5000);
        ck_assert_int_eq(h.ev_retry, (int)n - 1);
        eh_req_clear(&r);
        eh_free(&h);
    }
    /* the cap counts the time the attempts take too: three slow 504s of 2 s each */
    eh h;
    start(&h, &o);
    fake_reply slow = {504, NULL, "timeout", 0, 0, 0, NULL, 2000, NULL};
    fake_set(h.ft, "GET", URL, &slow);
    eh_req r = EH_REQ_INIT;
    size_t n = run_one(&h, &r, "GET", 1);
    ck_assert_msg(n == 2 || n == 3, "%zu attempts", n); /* 2000 + <=1000 + 2000 + ... <= 5000 */
    ck_assert(eh_elapsed(&h) <= 5000 + 2000);
    eh_req_clear(&r);
    eh_free(&h);
    /* a Retry-After within max_ms but beyond the total cap is not waited for */
    start(&h, &o);
    o.retry.max_ms = 30000;
    imgsync__engine_set_opts(h.e, &o);
    fake_add_simple(h.ft, "GET", URL, 503, "Retry-After: 20", "busy");
    fake_add_simple(h.ft, "GET", URL, 200, NULL, "{}");
    eh_req r2 = EH_REQ_INIT;
    ck_assert_uint_eq(run_one(&h, &r2, "GET", 1), 1);
    ck_assert_int_eq(r2.status, 503);
    ck_assert_int_eq(eh_elapsed(&h), 0);
    ck_assert_msg(strstr(r2.detail, "more than 5000 ms after the first") != NULL, "detail '%s'", r2.detail);
    eh_req_clear(&r2);
    eh_free(&h);
}
END_TEST

START_TEST(test_no_retries_configured)
{
    imgsync__engine_opts o;
    opts(&o, 0, 100, 1000, 0);
    eh h;
    start(&h, &o);
    fake_set_simple(h.ft, "GET", URL, 503, NULL, "busy");
    eh_req r = EH_REQ_INIT;
    ck_assert_uint_eq(run_one(&h, &r, "GET", 1), 1);
    ck_assert_int_eq(r.status, 503);
    eh_req_clear(&r);
    eh_free(&h);
}
END_TEST

/* Without memory for the backoff heap, the retry goes out at once (through the one transition
 * function, QUEUED instead of BACKOFF) rather than being lost; the next retry waits as usual. */
START_TEST(test_backoff_without_memory_retries_at_once)
{
    imgsync__engine_opts o;
    opts(&o, 4, 1000, 30000, 0);
    eh h;
    start(&h, &o);
    times t = {&h, {0}, 0};
    fake_set_observer(h.ft, record_time, &t);
    fake_add_simple(h.ft, "GET", URL, 503, NULL, "busy");
    fake_add_simple(h.ft, "GET", URL, 503, NULL, "busy");
    fake_add_simple(h.ft, "GET", URL, 200, NULL, "{}");
    eh_req r = EH_REQ_INIT;
    ck_assert_int_eq(eh_get(&h, &r, URL, IMGSYNC__CRED_NONE), 0);
    fail_heap = 1;
    heap_failures = 0;
    eh_run(&h);
    fail_heap = 0;
    ck_assert_int_eq(heap_failures, 1);
    ck_assert_int_eq(r.done_calls, 1);
    ck_assert_int_eq(r.status, 200);
    ck_assert_uint_eq(t.n, 3);
    ck_assert_int_eq(h.ev_retry, 2);
    ck_assert(t.at[1] == t.at[0]);     /* no heap: no wait */
    ck_assert(t.at[2] - t.at[1] >= 1000); /* second retry: heap allocated, backoff 1000..2000 ms */
    ck_assert_uint_eq(imgsync__engine_pending(h.e), 0);
    eh_req_clear(&r);
    eh_free(&h);
}
END_TEST

/* ---- throttling (throttle.c) ---------------------------------------------------------------- */

#define ORIGIN "https://reg.example"

/* URL and fake time of each attempt, recorded as it goes on the wire. */
typedef struct starts {
    const eh *h;
    char url[64][80];
    int64_t at[64];
    size_t n;
} starts;

static void record_start(void *ctx, fake_request *q, const imgsync__wire *w)
{
    (void)w;
    starts *t = ctx;
    if (t->n < 64) {
        snprintf(t->url[t->n], sizeof(t->url[0]), "%s", q->url);
        t->at[t->n++] = t->h->fc.mono_ms - t->h->start_mono;
    }
}

static void submit_get(eh *h, eh_req *r, const char *url)
{
    imgsync__ereq_spec spec;
    memset(&spec, 0, sizeof(spec));
    spec.method = "GET";
    spec.url = url;
    spec.idempotent = 1;
    ck_assert_int_eq(eh_submit(h, r, &spec), 0);
}

/* A 429 with Retry-After holds every later attempt to that origin until then, not those to
 * other origins; the refused request is retried once the pause is over. */
START_TEST(test_429_pauses_the_origin)
{
    imgsync__engine_opts o;
    opts(&o, 3, 100, 30000, 0);
    o.max_host_connections = 1; /* one at a time: the order of starts is the queue's */
    eh h;
    start(&h, &o);
    starts t = {&h, {{0}}, {0}, 0};
    fake_set_observer(h.ft, record_start, &t);
    fake_add_simple(h.ft, "GET", ORIGIN "/v2/a/tags/list", 429, "Retry-After: 5", "slow down");
    fake_add_simple(h.ft, "GET", ORIGIN "/v2/a/tags/list", 200, NULL, "{}");
    fake_set_simple(h.ft, "GET", ORIGIN "/v2/b/tags/list", 200, NULL, "{}");
    fake_set_simple(h.ft, "GET", ORIGIN "/v2/c/tags/list", 200, NULL, "{}");
    fake_set_simple(h.ft, "GET", "https://other.example/v2/d/tags/list", 200, NULL, "{}");
    eh_req r[4] = {EH_REQ_INIT, EH_REQ_INIT, EH_REQ_INIT, EH_REQ_INIT};
    submit_get(&h, &r[0], ORIGIN "/v2/a/tags/list");
    submit_get(&h, &r[1], ORIGIN "/v2/b/tags/list");
    submit_get(&h, &r[2], ORIGIN "/v2/c/tags/list");
    submit_get(&h, &r[3], "https://other.example/v2/d/tags/list");
    eh_run(&h);
    ck_assert_uint_eq(t.n, 5);
    for (size_t i = 0; i < 4; i++) {
        ck_assert_int_eq(r[i].status, 200);
        eh_req_clear(&r[i]);
    }
    for (size_t i = 0; i < t.n; i++) {
        int other = strstr(t.url[i], "other.example") != NULL;
        int first_a = i == 0;
        ck_assert_msg(other || first_a ? t.at[i] < 5000 : t.at[i] >= 5000, "%s started at %lld ms", t.url[i],
                      (long long)t.at[i]);
    }
    eh_free(&h);
}
END_TEST

/* After a 429 the origin is paced at half the rate of its answers before it: with answers
 * taking 10 ms each (100/s) attempts start every 20-ish ms instead of every 10 ms, the rate
 * creeping up by one per second with each answer. */
START_TEST(test_429_paces_the_origin)
{
    imgsync__engine_opts o;
    opts(&o, 3, 100, 30000, 0);
    o.max_host_connections = 1;
    eh h;
    start(&h, &o);
    starts t = {&h, {{0}}, {0}, 0};
    fake_set_observer(h.ft, record_start, &t);
    char urls[30][64];
    eh_req r[30];
    for (int i = 0; i < 30; i++) {
        snprintf(urls[i], sizeof(urls[i]), ORIGIN "/v2/r%d/tags/list", i);
        fake_reply ok = {200, NULL, "{}", 0, 0, 0, NULL, 10, NULL};
        fake_reply busy = {429, "Retry-After: 1", "slow down", 0, 0, 0, NULL, 10, NULL};
        if (i == 15)
            fake_add(h.ft, "GET", urls[i], &busy);
        fake_add(h.ft, "GET", urls[i], &ok);
        r[i] = (eh_req)EH_REQ_INIT;
        submit_get(&h, &r[i], urls[i]);
    }
    eh_run(&h);
    ck_assert_uint_eq(t.n, 31);
    for (size_t i = 1; i < 16; i++) /* before the 429: back to back */
        ck_assert_int_eq(t.at[i] - t.at[i - 1], 10);
    ck_assert_int_ge(t.at[16] - t.at[15], 1000); /* the pause */
    for (size_t i = 17; i < t.n; i++) {
        int64_t gap = t.at[i] - t.at[i - 1];
        ck_assert_msg(gap >= 16 && gap <= 22, "gap %lld ms before attempt %zu", (long long)gap, i);
    }
    for (int i = 0; i < 30; i++) {
        ck_assert_int_eq(r[i].status, 200);
        eh_req_clear(&r[i]);
    }
    eh_free(&h);
}
END_TEST

/* max_retries 0 means no retry at all, a 429 included; 429s do not use up the retries of other
 * failures. */
START_TEST(test_429_retry_budget)
{
    imgsync__engine_opts o;
    opts(&o, 0, 100, 1000, 0);
    eh h;
    start(&h, &o);
    fake_set_simple(h.ft, "GET", URL, 429, NULL, "x");
    eh_req r = EH_REQ_INIT;
    ck_assert_uint_eq(run_one(&h, &r, "GET", 1), 1);
    ck_assert_int_eq(r.status, 429);
    eh_req_clear(&r);
    eh_free(&h);
    opts(&o, 2, 100, 1000, 0);
    start(&h, &o);
    for (int i = 0; i < 5; i++)
        fake_add_simple(h.ft, "GET", URL, 429, "Retry-After: 0", "x");
    fake_add_simple(h.ft, "GET", URL, 503, NULL, "x");
    fake_add_simple(h.ft, "GET", URL, 503, NULL, "x");
    fake_add_simple(h.ft, "GET", URL, 200, NULL, "{}");
    eh_req r2 = EH_REQ_INIT;
    ck_assert_uint_eq(run_one(&h, &r2, "GET", 1), 8); /* 5 x 429, then 2 retries left for the 503s */
    ck_assert_int_eq(r2.status, 200);
    eh_req_clear(&r2);
    eh_free(&h);
}
END_TEST

/* Two registries (two groups, two accounts) on one origin, as two SWR accounts of one region
 * share swr-api.{region}.myhuaweicloud.com: SWR throttles per account (issue 8), so a 429 to one
 * account must not hold the other's requests for its Retry-After. Registry B walks three pages
 * one after the other (each submitted when the previous one is done) while registry A's request
 * is refused with Retry-After: 5. */
static imgsync__group *page_group;
static int pages_left;

static void next_page(eh_req *r)
{
    if (--pages_left <= 0)
        return;
    imgsync__ereq_spec spec;
    memset(&spec, 0, sizeof(spec));
    spec.method = "GET";
    spec.url = ORIGIN "/v2/manage/repos?account=b";
    spec.idempotent = 1;
    spec.ud = r;
    ck_assert_int_eq(imgsync__group_submit(page_group, &spec), 0);
}

START_TEST(test_429_pauses_only_the_refused_registry)
{
    imgsync__engine_opts o;
    opts(&o, 3, 100, 30000, 0);
    eh h;
    start(&h, &o);
    imgsync__group *ga = h.g;
    ck_assert_int_eq(eh_group(&h, NULL), 0); /* h.g: registry B */
    page_group = h.g;
    pages_left = 3;
    fake_reply busy = {429, "Retry-After: 5", "{\"error_code\":\"APIGW.0308\"}", 0, 0, 0, NULL, 10, NULL};
    fake_reply ok_a = {200, NULL, "[]", 0, 0, 0, NULL, 10, NULL};
    fake_reply ok_b = {200, NULL, "[]", 0, 0, 0, NULL, 50, NULL};
    fake_add(h.ft, "GET", ORIGIN "/v2/manage/repos?account=a", &busy);
    fake_add(h.ft, "GET", ORIGIN "/v2/manage/repos?account=a", &ok_a);
    fake_set(h.ft, "GET", ORIGIN "/v2/manage/repos?account=b", &ok_b);
    eh_req a = EH_REQ_INIT, b = EH_REQ_INIT;
    b.on_done = next_page;
    imgsync__ereq_spec spec;
    memset(&spec, 0, sizeof(spec));
    spec.method = "GET";
    spec.idempotent = 1;
    spec.url = ORIGIN "/v2/manage/repos?account=a";
    spec.ud = &a;
    a.h = &h;
    ck_assert_int_eq(imgsync__group_submit(ga, &spec), 0);
    spec.url = ORIGIN "/v2/manage/repos?account=b";
    spec.ud = &b;
    b.h = &h;
    ck_assert_int_eq(imgsync__group_submit(page_group, &spec), 0);
    eh_run(&h);
    ck_assert_int_eq(a.status, 200);
    ck_assert_int_eq(b.status, 200);
    ck_assert_int_eq(b.done_calls, 3);
    ck_assert_msg(b.done_mono - h.start_mono < 1000, "registry B's last page done after %lld ms (A's Retry-After: 5 s)",
                  (long long)(b.done_mono - h.start_mono));
    eh_req_clear(&a);
    eh_req_clear(&b);
    imgsync__group_free(ga);
    eh_free(&h);
}
END_TEST

Suite *engine_retry_suite(void)
{
    Suite *s = suite_create("engine_retry");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_transient_statuses_retried);
    tcase_add_test(tc, test_transient_then_success);
    tcase_add_test(tc, test_other_statuses_not_retried);
    tcase_add_test(tc, test_post_retried_only_when_idempotent);
    tcase_add_test(tc, test_post_429_503_not_retried);
    tcase_add_test(tc, test_transport_failures);
    tcase_add_test(tc, test_dns_failure_not_retried);
    tcase_add_test(tc, test_backoff_exponential_with_jitter);
    tcase_add_test(tc, test_backoff_waits_for_nothing_else);
    tcase_add_test(tc, test_retry_after_seconds);
    tcase_add_test(tc, test_retry_after_http_date);
    tcase_add_test(tc, test_retry_after_over_cap_delivered_at_once);
    tcase_add_test(tc, test_total_retry_time_cap);
    tcase_add_test(tc, test_no_retries_configured);
    tcase_add_test(tc, test_429_pauses_the_origin);
    tcase_add_test(tc, test_429_paces_the_origin);
    tcase_add_test(tc, test_429_retry_budget);
    tcase_add_test(tc, test_429_pauses_only_the_refused_registry);
    tcase_add_test(tc, test_backoff_without_memory_retries_at_once);
    suite_add_tcase(s, tc);
    return s;
}

#include "check_main.h"
IMGSYNC_TEST_MAIN(engine_retry_suite)
