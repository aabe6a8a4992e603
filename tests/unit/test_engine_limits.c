/*
 * Engine limits on the fake transport: response body cap (the engine's, and each group's own),
 * header line and header count limits, conflicting Content-Length, connection limits (global and per origin) with round-robin between
 * origins, and the time settings each attempt carries. The response limits live in the response
 * builders (engine/response.c) that every transport, the fake one included, fills responses
 * through.
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine.h"
#include "imgsync/errors.h"
#include "support/engine_harness.h"

Suite *engine_limits_suite(void);

#define URL "https://reg.example/v2/app/tags/list"

static void start(eh *h, const imgsync__engine_opts *o)
{
    eh_init(h, o);
    ck_assert_int_eq(eh_group(h, NULL), 0);
}

/* GET URL answered 200 with `headers` and `body`; run; the request's record in *r. */
static void get_with(eh *h, eh_req *r, const char *headers, const char *body)
{
    fake_set_simple(h->ft, "GET", URL, 200, headers, body);
    ck_assert_int_eq(eh_get(h, r, URL, IMGSYNC__CRED_NONE), 0);
    eh_run(h);
    ck_assert_int_eq(r->done_calls, 1);
}

START_TEST(test_body_cap)
{
    imgsync__engine_opts o;
    imgsync__engine_default_opts(&o);
    o.max_response_bytes = 1000;
    char *body = malloc(1002);
    ck_assert_ptr_nonnull(body);
    memset(body, 'x', 1001);
    body[1001] = '\0';
    /* over the cap: ETOOBIG with the limit named, not retried */
    eh h;
    start(&h, &o);
    eh_req r = EH_REQ_INIT;
    get_with(&h, &r, NULL, body);
    ck_assert_int_eq(r.error, IMGSYNC_ETOOBIG);
    ck_assert_int_eq(r.status, 0);
    ck_assert_str_eq(r.detail, "response body larger than 1000 bytes");
    ck_assert_uint_eq(fake_nrequests(h.ft), 1);
    eh_req_clear(&r);
    eh_free(&h);
    /* exactly the cap: delivered whole */
    body[1000] = '\0';
    start(&h, &o);
    eh_req r2 = EH_REQ_INIT;
    get_with(&h, &r2, NULL, body);
    ck_assert_int_eq(r2.error, 0);
    ck_assert_int_eq(r2.status, 200);
    ck_assert_uint_eq(r2.body_len, 1000);
    eh_req_clear(&r2);
    eh_free(&h);
    free(body);
}
END_TEST

/* "X-Big: " followed by filler up to a line of `len` bytes. */
static char *big_header(size_t len)
{
    char *line = malloc(len + 1);
    ck_assert_ptr_nonnull(line);
    memcpy(line, "X-Big: ", 7);
    memset(line + 7, 'a', len - 7);
    line[len] = '\0';
    return line;
}

START_TEST(test_header_line_too_large)
{
    /* issue 6 item 12: an oversized header line is "too large", not "out of memory" */
    eh h;
    start(&h, NULL);
    char *line = big_header(1u << 20);
    eh_req r = EH_REQ_INIT;
    get_with(&h, &r, line, "{}");
    free(line);
    ck_assert_int_eq(r.error, IMGSYNC_ETOOBIG);
    ck_assert_ptr_nonnull(strstr(r.detail, "header"));
    ck_assert_ptr_nonnull(strstr(r.detail, "larger than"));
    ck_assert_ptr_null(strstr(r.detail, "memory"));
    ck_assert_uint_eq(fake_nrequests(h.ft), 1); /* not retried */
    eh_req_clear(&r);
    eh_free(&h);
    /* the limit is 64 KiB per line */
    start(&h, NULL);
    line = big_header(65536);
    eh_req r2 = EH_REQ_INIT;
    get_with(&h, &r2, line, "{}");
    ck_assert_int_eq(r2.error, 0);
    ck_assert_int_eq(r2.status, 200);
    ck_assert_uint_eq(strlen(eh_dump_value(r2.headers, "X-Big")), 4095); /* the harness's buffer */
    free(line);
    eh_req_clear(&r2);
    eh_free(&h);
    start(&h, NULL);
    line = big_header(65537);
    eh_req r3 = EH_REQ_INIT;
    get_with(&h, &r3, line, "{}");
    ck_assert_int_eq(r3.error, IMGSYNC_ETOOBIG);
    free(line);
    eh_req_clear(&r3);
    eh_free(&h);
}
END_TEST

START_TEST(test_header_count_limit)
{
    char *hdrs = malloc(300 * 16);
    ck_assert_ptr_nonnull(hdrs);
    size_t n = 0;
    for (int i = 0; i < 256; i++)
        n += (size_t)sprintf(hdrs + n, "X-H%d: %d\n", i, i);
    eh h;
    start(&h, NULL);
    eh_req r = EH_REQ_INIT;
    get_with(&h, &r, hdrs, "{}");
    ck_assert_int_eq(r.error, 0); /* 256 accepted */
    ck_assert_str_eq(eh_dump_value(r.headers, "X-H255"), "255");
    eh_req_clear(&r);
    eh_free(&h);
    /* one more: refused rather than silently dropped (a lost Link would end a listing early) */
    sprintf(hdrs + n, "X-H256: 256");
    start(&h, NULL);
    eh_req r2 = EH_REQ_INIT;
    get_with(&h, &r2, hdrs, "{}");
    ck_assert_int_eq(r2.error, IMGSYNC_EPROTOCOL);
    ck_assert_str_eq(r2.detail, "more than 256 response headers");
    ck_assert_uint_eq(fake_nrequests(h.ft), 1);
    eh_req_clear(&r2);
    eh_free(&h);
    free(hdrs);
}
END_TEST

START_TEST(test_conflicting_content_length)
{
    /* issue 6 item 11: two Content-Length headers that disagree make the body length
     * ambiguous: the response is refused as a protocol error, and not retried */
    static const char *const conflicting[] = {
        "Content-Length: 5\nContent-Length: 6",
        "Content-Length: 6\ncontent-length: 5",
        "Content-Length: 5\nX-Other: 1\nCONTENT-LENGTH: 05",
    };
    for (size_t i = 0; i < sizeof(conflicting) / sizeof(conflicting[0]); i++) {
        eh h;
        start(&h, NULL);
        eh_req r = EH_REQ_INIT;
        get_with(&h, &r, conflicting[i], "hello");
        ck_assert_msg(r.error == IMGSYNC_EPROTOCOL, "case %zu: error %d", i, r.error);
        ck_assert_str_eq(r.detail, "conflicting Content-Length headers");
        ck_assert_int_eq(r.status, 0);
        ck_assert_uint_eq(fake_nrequests(h.ft), 1);
        eh_req_clear(&r);
        eh_free(&h);
    }
    /* equal duplicates are harmless and accepted */
    static const char *const equal[] = {
        "Content-Length: 5\nContent-Length: 5",
        "Content-Length: 5\ncontent-length:   5  ",
        /* one per response: a redirect or 100 Continue the transport followed starts afresh */
        "Content-Length: 0\nHTTP/1.1 200 OK\nContent-Length: 5",
    };
    for (size_t i = 0; i < sizeof(equal) / sizeof(equal[0]); i++) {
        eh h;
        start(&h, NULL);
        eh_req r = EH_REQ_INIT;
        get_with(&h, &r, equal[i], "hello");
        ck_assert_msg(r.error == 0, "case %zu: error %d (%s)", i, r.error, r.detail);
        ck_assert_int_eq(r.status, 200);
        ck_assert_str_eq(r.body, "hello");
        eh_req_clear(&r);
        eh_free(&h);
    }
}
END_TEST

START_TEST(test_conflicting_content_length_list)
{
    /* the same conflict written as one list-valued header (RFC 9110 8.6): libcurl reads the
     * first number and ignores the rest, so the engine must refuse it as well */
    eh h;
    start(&h, NULL);
    eh_req r = EH_REQ_INIT;
    get_with(&h, &r, "Content-Length: 5, 6", "hello");
    ck_assert_int_eq(r.error, IMGSYNC_EPROTOCOL);
    ck_assert_str_eq(r.detail, "conflicting Content-Length headers");
    eh_req_clear(&r);
    eh_free(&h);
    /* identical members may be accepted */
    start(&h, NULL);
    eh_req r2 = EH_REQ_INIT;
    get_with(&h, &r2, "Content-Length: 5, 5", "hello");
    ck_assert_int_eq(r2.error, 0);
    ck_assert_int_eq(r2.status, 200);
    eh_req_clear(&r2);
    eh_free(&h);
    /* a list in one header disagreeing with a second header */
    start(&h, NULL);
    eh_req r3 = EH_REQ_INIT;
    get_with(&h, &r3, "Content-Length: 5,5\nContent-Length: 6", "hello");
    ck_assert_int_eq(r3.error, IMGSYNC_EPROTOCOL);
    eh_req_clear(&r3);
    eh_free(&h);
}
END_TEST

START_TEST(test_new_response_forgets_headers)
{
    eh h;
    start(&h, NULL);
    eh_req r = EH_REQ_INIT;
    get_with(&h, &r, "X-First: 1\nHTTP/1.1 200 OK\nX-Second: 2", "{}");
    ck_assert_int_eq(r.status, 200);
    ck_assert(!eh_dump_has(r.headers, "X-First"));
    ck_assert_str_eq(eh_dump_value(r.headers, "X-Second"), "2");
    eh_req_clear(&r);
    eh_free(&h);
}
END_TEST

/* ---- connection limits ---------------------------------------------------------------------- */

/* Start times of every attempt, per origin index (0 = a.example, 1 = b.example, 2 = c.example). */
typedef struct starts {
    const eh *h;
    int64_t at[3][64];
    size_t n[3];
    int order[256]; /* origin index of each attempt, in start order */
    size_t norder;
} starts;

static int origin_index(const char *url)
{
    return strstr(url, "//a.") ? 0 : strstr(url, "//b.") ? 1 : 2;
}

static void record_start(void *ctx, fake_request *q, const imgsync__wire *w)
{
    (void)w;
    starts *s = ctx;
    int o = origin_index(q->url);
    ck_assert(s->n[o] < 64 && s->norder < 256);
    s->at[o][s->n[o]++] = s->h->fc.mono_ms;
    s->order[s->norder++] = o;
}

/* Most attempts of origin o in flight at once, each taking `dur` ms. */
static size_t max_overlap(const starts *s, int o, int64_t dur)
{
    size_t best = 0;
    for (size_t i = 0; i < s->n[o]; i++) {
        size_t k = 0;
        for (size_t j = 0; j < s->n[o]; j++)
            k += s->at[o][j] <= s->at[o][i] && s->at[o][i] < s->at[o][j] + dur;
        if (k > best)
            best = k;
    }
    return best;
}

static void submit_many(eh *h, eh_req *r, const char *origin, size_t n, int64_t delay)
{
    for (size_t i = 0; i < n; i++) {
        char url[128];
        snprintf(url, sizeof(url), "%s/v2/r%zu/tags/list", origin, i);
        fake_reply ok = {200, NULL, "{}", 0, 0, 0, NULL, delay, NULL};
        fake_set(h->ft, "GET", url, &ok);
        ck_assert_int_eq(eh_get(h, &r[i], url, IMGSYNC__CRED_NONE), 0);
    }
}

START_TEST(test_connection_limits)
{
    imgsync__engine_opts o;
    imgsync__engine_default_opts(&o);
    o.max_connections = 4;
    o.max_host_connections = 2;
    eh h;
    start(&h, &o);
    starts s;
    memset(&s, 0, sizeof(s));
    s.h = &h;
    fake_set_observer(h.ft, record_start, &s);
    eh_req r[3][12];
    memset(r, 0, sizeof(r));
    submit_many(&h, r[0], "https://a.example", 12, 100);
    submit_many(&h, r[1], "https://b.example", 12, 100);
    submit_many(&h, r[2], "https://c.example", 12, 100);
    eh_run(&h);
    ck_assert_uint_eq(fake_nrequests(h.ft), 36);
    ck_assert_uint_le(fake_max_inflight(h.ft), 4);
    ck_assert_uint_eq(fake_max_inflight(h.ft), 4); /* and the limit is used */
    ck_assert_uint_eq(fake_inflight(h.ft), 0);
    for (int k = 0; k < 3; k++) {
        ck_assert_uint_le(max_overlap(&s, k, 100), 2);
        for (size_t i = 0; i < 12; i++) {
            ck_assert_int_eq(r[k][i].done_calls, 1);
            eh_req_clear(&r[k][i]);
        }
    }
    /* 36 requests of 100 ms, 4 at a time: 900 ms */
    ck_assert_int_eq(eh_elapsed(&h), 900);
    eh_free(&h);
}
END_TEST

START_TEST(test_round_robin_between_origins)
{
    /* origin a has many slow requests queued before b's two: b is served in the first round,
     * not after a's backlog */
    imgsync__engine_opts o;
    imgsync__engine_default_opts(&o);
    o.max_connections = 2;
    o.max_host_connections = 2;
    eh h;
    start(&h, &o);
    starts s;
    memset(&s, 0, sizeof(s));
    s.h = &h;
    fake_set_observer(h.ft, record_start, &s);
    eh_req ra[40], rb[2];
    memset(ra, 0, sizeof(ra));
    memset(rb, 0, sizeof(rb));
    submit_many(&h, ra, "https://a.example", 40, 1000);
    submit_many(&h, rb, "https://b.example", 2, 10);
    eh_run(&h);
    ck_assert_uint_eq(fake_nrequests(h.ft), 42);
    size_t seen_b = 0, pos = 0;
    for (; pos < s.norder && seen_b < 2; pos++)
        seen_b += s.order[pos] == 1;
    ck_assert_msg(pos <= 4, "b's requests started only at position %zu", pos);
    for (size_t i = 0; i < 2; i++) {
        ck_assert_int_eq(rb[i].done_calls, 1);
        ck_assert(rb[i].done_mono - h.start_mono <= 1010);
        eh_req_clear(&rb[i]);
    }
    for (size_t i = 0; i < 40; i++) {
        ck_assert_int_eq(ra[i].done_calls, 1);
        eh_req_clear(&ra[i]);
    }
    eh_free(&h);
}
END_TEST

START_TEST(test_slow_origin_does_not_starve_another)
{
    /* a is slow and at its per-origin limit: b's requests use the free global slots */
    imgsync__engine_opts o;
    imgsync__engine_default_opts(&o);
    o.max_connections = 4;
    o.max_host_connections = 2;
    eh h;
    start(&h, &o);
    eh_req ra[20], rb[20];
    memset(ra, 0, sizeof(ra));
    memset(rb, 0, sizeof(rb));
    submit_many(&h, ra, "https://a.example", 20, 10000);
    submit_many(&h, rb, "https://b.example", 20, 10);
    eh_run(&h);
    int64_t b_last = 0, a_first = INT64_MAX;
    for (size_t i = 0; i < 20; i++) {
        ck_assert_int_eq(rb[i].done_calls, 1);
        ck_assert_int_eq(ra[i].done_calls, 1);
        if (rb[i].done_mono > b_last)
            b_last = rb[i].done_mono;
        if (ra[i].done_mono < a_first)
            a_first = ra[i].done_mono;
        eh_req_clear(&ra[i]);
        eh_req_clear(&rb[i]);
    }
    /* b: 20 requests of 10 ms, 2 at a time: done in 100 ms, long before a's first answer */
    ck_assert_int_eq(b_last - h.start_mono, 100);
    ck_assert(b_last < a_first);
    eh_free(&h);
}
END_TEST

/* ---- time settings -------------------------------------------------------------------------- */

typedef struct wire_times {
    long timeout_ms, connect_timeout_ms, low_speed_bytes, low_speed_time_ms;
    size_t max_body;
} wire_times;

static void record_wire(void *ctx, fake_request *q, const imgsync__wire *w)
{
    (void)q;
    wire_times *t = ctx;
    t->timeout_ms = w->timeout_ms;
    t->connect_timeout_ms = w->connect_timeout_ms;
    t->low_speed_bytes = w->low_speed_bytes;
    t->low_speed_time_ms = w->low_speed_time_ms;
    t->max_body = w->max_body;
}

START_TEST(test_attempt_carries_time_limits)
{
    /* the request timeout and the low-speed limit are enforced by the transport (libcurl's
     * CURLOPT_TIMEOUT_MS and CURLOPT_LOW_SPEED_*); the engine hands them over with each attempt,
     * and the transport's timeout failure (ETIMEOUT, retried when idempotent) is tested in
     * test_engine_retry */
    imgsync__engine_opts o;
    imgsync__engine_default_opts(&o);
    o.request_timeout_ms = 20000;
    o.connect_timeout_ms = 3000;
    o.low_speed_bytes = 512;
    o.low_speed_time_ms = 15000;
    o.max_response_bytes = 4096;
    eh h;
    start(&h, &o);
    wire_times t;
    memset(&t, 0, sizeof(t));
    fake_set_observer(h.ft, record_wire, &t);
    eh_req r = EH_REQ_INIT;
    get_with(&h, &r, NULL, "{}");
    ck_assert_int_eq(t.timeout_ms, 20000);
    ck_assert_int_eq(t.connect_timeout_ms, 3000);
    ck_assert_int_eq(t.low_speed_bytes, 512);
    ck_assert_int_eq(t.low_speed_time_ms, 15000);
    ck_assert_uint_eq(t.max_body, 4096);
    eh_req_clear(&r);
    eh_free(&h);
}
END_TEST

typedef struct caps {
    size_t cap[8];
    char host[8]; /* first letter of the host */
    size_t n;
} caps;

static void record_cap(void *ctx, fake_request *q, const imgsync__wire *w)
{
    caps *c = ctx;
    if (c->n < 8) {
        c->cap[c->n] = w->max_body;
        c->host[c->n++] = q->url[8];
    }
}

/* The body cap is the group's policy: each group's responses are held to its own cap (0: the
 * engine's), above or below the engine's, and the cap each attempt carries says so. */
START_TEST(test_body_cap_per_group)
{
    imgsync__engine_opts o;
    imgsync__engine_default_opts(&o);
    o.max_response_bytes = 1000;
    eh h;
    eh_init(&h, &o);
    caps c;
    memset(&c, 0, sizeof(c));
    fake_set_observer(h.ft, record_cap, &c);
    imgsync__policy small, large, deflt;
    memset(&small, 0, sizeof(small));
    memset(&large, 0, sizeof(large));
    memset(&deflt, 0, sizeof(deflt));
    small.max_response_bytes = 100;
    large.max_response_bytes = 2000;
    imgsync__group *gs, *gl, *gd;
    ck_assert_int_eq(eh_group(&h, &small), 0);
    gs = h.g;
    ck_assert_int_eq(eh_group(&h, &large), 0);
    gl = h.g;
    ck_assert_int_eq(eh_group(&h, &deflt), 0);
    gd = h.g;
    char body[1501];
    memset(body, 'x', 1500);
    body[1500] = '\0';
    fake_set_simple(h.ft, "GET", "https://s.example/b", 200, NULL, body);
    fake_set_simple(h.ft, "GET", "https://l.example/b", 200, NULL, body);
    fake_set_simple(h.ft, "GET", "https://d.example/b", 200, NULL, body);
    fake_set_simple(h.ft, "GET", "https://s.example/small", 200, NULL, "0123456789");
    eh_req rs = EH_REQ_INIT, rl = EH_REQ_INIT, rd = EH_REQ_INIT, rok = EH_REQ_INIT;
    h.g = gs;
    ck_assert_int_eq(eh_get(&h, &rs, "https://s.example/b", IMGSYNC__CRED_NONE), 0);
    ck_assert_int_eq(eh_get(&h, &rok, "https://s.example/small", IMGSYNC__CRED_NONE), 0);
    h.g = gl;
    ck_assert_int_eq(eh_get(&h, &rl, "https://l.example/b", IMGSYNC__CRED_NONE), 0);
    h.g = gd;
    ck_assert_int_eq(eh_get(&h, &rd, "https://d.example/b", IMGSYNC__CRED_NONE), 0);
    eh_run(&h);
    ck_assert_int_eq(rs.error, IMGSYNC_ETOOBIG);
    ck_assert_str_eq(rs.detail, "response body larger than 100 bytes");
    ck_assert_int_eq(rok.status, 200);
    ck_assert_uint_eq(rok.body_len, 10);
    ck_assert_int_eq(rl.error, 0);
    ck_assert_int_eq(rl.status, 200);
    ck_assert_uint_eq(rl.body_len, 1500);
    ck_assert_int_eq(rd.error, IMGSYNC_ETOOBIG);
    ck_assert_str_eq(rd.detail, "response body larger than 1000 bytes");
    ck_assert_uint_eq(c.n, 4);
    for (size_t i = 0; i < c.n; i++) /* each attempt carries its group's cap */
        ck_assert_uint_eq(c.cap[i], c.host[i] == 's' ? 100 : c.host[i] == 'l' ? 2000 : 1000);
    eh_req_clear(&rs);
    eh_req_clear(&rl);
    eh_req_clear(&rd);
    eh_req_clear(&rok);
    imgsync__group_free(gs);
    imgsync__group_free(gl);
    h.g = gd;
    eh_free(&h);
}
END_TEST

START_TEST(test_perform_returns_at_its_deadline)
{
    /* a slow answer: perform gives up at its timeout (on the fake clock) with nothing delivered */
    eh h;
    start(&h, NULL);
    fake_reply slow = {200, NULL, "{}", 0, 0, 0, NULL, 5000, NULL};
    fake_set(h.ft, "GET", URL, &slow);
    eh_req r = EH_REQ_INIT;
    ck_assert_int_eq(eh_get(&h, &r, URL, IMGSYNC__CRED_NONE), 0);
    ck_assert_uint_eq(imgsync__engine_perform(h.e, 1000), 0);
    ck_assert_int_eq(eh_elapsed(&h), 1000);
    ck_assert_int_eq(r.done_calls, 0);
    ck_assert_uint_eq(imgsync__engine_pending(h.e), 1);
    ck_assert_uint_eq(imgsync__engine_perform(h.e, 10000), 1);
    ck_assert_int_eq(eh_elapsed(&h), 5000);
    ck_assert_int_eq(r.done_calls, 1);
    ck_assert_uint_eq(imgsync__engine_perform(h.e, 1000), 0); /* nothing left: at once */
    ck_assert_int_eq(eh_elapsed(&h), 5000);
    eh_req_clear(&r);
    eh_free(&h);
}
END_TEST

Suite *engine_limits_suite(void)
{
    Suite *s = suite_create("engine_limits");
    TCase *tc = tcase_create("responses");
    tcase_add_test(tc, test_body_cap);
    tcase_add_test(tc, test_header_line_too_large);
    tcase_add_test(tc, test_header_count_limit);
    tcase_add_test(tc, test_conflicting_content_length);
    tcase_add_test(tc, test_conflicting_content_length_list);
    tcase_add_test(tc, test_new_response_forgets_headers);
    suite_add_tcase(s, tc);
    TCase *tc2 = tcase_create("scheduling");
    tcase_add_test(tc2, test_connection_limits);
    tcase_add_test(tc2, test_round_robin_between_origins);
    tcase_add_test(tc2, test_slow_origin_does_not_starve_another);
    tcase_add_test(tc2, test_attempt_carries_time_limits);
    tcase_add_test(tc2, test_body_cap_per_group);
    tcase_add_test(tc2, test_perform_returns_at_its_deadline);
    suite_add_tcase(s, tc2);
    return s;
}

#include "check_main.h"
IMGSYNC_TEST_MAIN(engine_limits_suite)
