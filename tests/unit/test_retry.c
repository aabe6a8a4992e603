/* Unit tests for src/engine/retry.c. Pure functions: a fixed clock and fixed jitter, no sleeping. */
#include <check.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/retry.h"
#include "imgsync.h"

Suite *retry_suite(void);

/* The fake clock: Sun, 06 Nov 1994 08:49:37 GMT. */
#define NOW INT64_C(784111777000)

static const imgsync__retry_policy k_policy = {5, 1000, 30000, 0};

/* Delay for the default policy with no Retry-After. */
static int64_t backoff(int attempt, double rnd)
{
    return imgsync__retry_delay_ms(&k_policy, attempt, NULL, NOW, rnd);
}

/* Delay for the default policy, attempt 1, rnd 0.5, with a Retry-After value. */
static int64_t with_header(const char *retry_after)
{
    return imgsync__retry_delay_ms(&k_policy, 1, retry_after, NOW, 0.5);
}

START_TEST(test_should_statuses)
{
    /* idempotent requests: 429, 500 (Harbor's database timeouts), 502, 503, 504 */
    static const int again[] = {429, 500, 502, 503, 504};
    for (size_t i = 0; i < sizeof(again) / sizeof(again[0]); i++)
        ck_assert_msg(imgsync__retry_should(again[i], 0, 1) == 1, "status %d", again[i]);
    static const int never[] = {200, 201, 204, 301, 304, 400, 401, 403, 404, 405, 408, 409, 413,
                                416, 499, 501, 505, 511, 599, -1, 1000};
    for (size_t i = 0; i < sizeof(never) / sizeof(never[0]); i++) {
        ck_assert_msg(imgsync__retry_should(never[i], 0, 1) == 0, "status %d", never[i]);
        ck_assert_msg(imgsync__retry_should(never[i], 0, 0) == 0, "status %d (POST)", never[i]);
    }
    /* a request that is not idempotent: never on an answer, even 429 and 503 */
    ck_assert_int_eq(imgsync__retry_should(429, 0, 0), 0);
    ck_assert_int_eq(imgsync__retry_should(503, 0, 0), 0);
    ck_assert_int_eq(imgsync__retry_should(500, 0, 0), 0);
    ck_assert_int_eq(imgsync__retry_should(502, 0, 0), 0);
    ck_assert_int_eq(imgsync__retry_should(504, 0, 0), 0);
}
END_TEST

START_TEST(test_should_transport)
{
    /* status 0: the transport's class decides */
    ck_assert_int_eq(imgsync__retry_should(0, IMGSYNC__RETRY_SAFE, 1), 1);
    ck_assert_int_eq(imgsync__retry_should(0, IMGSYNC__RETRY_SAFE, 0), 1);    /* nothing was sent */
    ck_assert_int_eq(imgsync__retry_should(0, IMGSYNC__RETRY_IDEMPOTENT, 1), 1);
    ck_assert_int_eq(imgsync__retry_should(0, IMGSYNC__RETRY_IDEMPOTENT, 0), 0); /* may have been taken */
    ck_assert_int_eq(imgsync__retry_should(0, IMGSYNC__RETRY_NEVER, 1), 0);   /* DNS, TLS, too big */
    ck_assert_int_eq(imgsync__retry_should(0, IMGSYNC__RETRY_NEVER, 0), 0);
    ck_assert_int_eq(imgsync__retry_should(0, 99, 1), 0);
}
END_TEST

START_TEST(test_backoff_jitter)
{
    /* d = 1000 * 2^(attempt-1), result = d/2 + rnd*d/2 */
    ck_assert(backoff(1, 0.0) == 500);
    ck_assert(backoff(1, 0.5) == 750);
    ck_assert(backoff(1, 0.999) == 999);
    ck_assert(backoff(2, 0.0) == 1000);
    ck_assert(backoff(2, 0.5) == 1500);
    ck_assert(backoff(2, 0.999) == 1999);
    ck_assert(backoff(3, 0.0) == 2000);
    ck_assert(backoff(4, 0.5) == 6000);
    ck_assert(backoff(5, 0.0) == 8000);
    ck_assert(backoff(5, 0.999) == 15992);
}
END_TEST

START_TEST(test_backoff_cap)
{
    imgsync__retry_policy p = {100, 1000, 30000, 0};
    /* 2^5 * 1000 = 32000 > 30000: capped from attempt 6 on */
    ck_assert(imgsync__retry_delay_ms(&p, 5, NULL, NOW, 0.0) == 8000);
    ck_assert(imgsync__retry_delay_ms(&p, 6, NULL, NOW, 0.0) == 15000);
    ck_assert(imgsync__retry_delay_ms(&p, 6, NULL, NOW, 0.999) == 29985);
    ck_assert(imgsync__retry_delay_ms(&p, 100, NULL, NOW, 0.5) == 22500);
    /* base above the cap */
    imgsync__retry_policy big = {3, 60000, 30000, 0};
    ck_assert(imgsync__retry_delay_ms(&big, 1, NULL, NOW, 0.0) == 15000);
    /* odd delays: integer d/2 plus the truncated rnd*d/2, so within [d/2, d] */
    imgsync__retry_policy odd = {3, 5, 1000, 0};
    ck_assert(imgsync__retry_delay_ms(&odd, 1, NULL, NOW, 0.0) == 2);
    ck_assert(imgsync__retry_delay_ms(&odd, 1, NULL, NOW, 0.7) == 3); /* 2 + trunc(0.7 * 2.5) */
    ck_assert(imgsync__retry_delay_ms(&odd, 1, NULL, NOW, 0.999) == 4);
    ck_assert(imgsync__retry_delay_ms(&odd, 1, NULL, NOW, 1.0) == 4);
    imgsync__retry_policy one = {3, 1, 1000, 0};
    ck_assert(imgsync__retry_delay_ms(&one, 1, NULL, NOW, 0.0) == 0);
    ck_assert(imgsync__retry_delay_ms(&one, 1, NULL, NOW, 0.999) == 0);
}
END_TEST

START_TEST(test_backoff_overflow)
{
    imgsync__retry_policy p = {INT_MAX, 1000, 30000, 0};
    ck_assert(imgsync__retry_delay_ms(&p, INT_MAX, NULL, NOW, 0.0) == 15000);
    ck_assert(imgsync__retry_delay_ms(&p, INT_MAX, NULL, NOW, 0.999) == 29985);
    ck_assert(imgsync__retry_delay_ms(&p, 64, NULL, NOW, 0.0) == 15000);
    ck_assert(imgsync__retry_delay_ms(&p, 65, NULL, NOW, 0.0) == 15000);

    /* no effective cap: doubling must saturate at INT64_MAX instead of wrapping */
    imgsync__retry_policy huge = {INT_MAX, 1, INT64_MAX, 0};
    ck_assert(imgsync__retry_delay_ms(&huge, 63, NULL, NOW, 0.0) == INT64_C(1) << 61);
    ck_assert(imgsync__retry_delay_ms(&huge, 64, NULL, NOW, 0.0) == INT64_MAX / 2);
    ck_assert(imgsync__retry_delay_ms(&huge, INT_MAX, NULL, NOW, 0.0) == INT64_MAX / 2);
    int64_t hi = imgsync__retry_delay_ms(&huge, INT_MAX, NULL, NOW, 0.999);
    ck_assert(hi >= INT64_MAX / 2);
    ck_assert(hi <= INT64_MAX);
    hi = imgsync__retry_delay_ms(&huge, INT_MAX, NULL, NOW, 1.0);
    ck_assert(hi == INT64_MAX);

    imgsync__retry_policy big_base = {INT_MAX, INT64_MAX, INT64_MAX, 0};
    ck_assert(imgsync__retry_delay_ms(&big_base, 1, NULL, NOW, 0.0) == INT64_MAX / 2);
    ck_assert(imgsync__retry_delay_ms(&big_base, INT_MAX, NULL, NOW, 0.0) == INT64_MAX / 2);

    /* base 0 stays 0 at every attempt (and the doubling loop must not spin 2^31 times) */
    imgsync__retry_policy zero = {INT_MAX, 0, 30000, 0};
    ck_assert(imgsync__retry_delay_ms(&zero, 1, NULL, NOW, 0.999) == 0);
    ck_assert(imgsync__retry_delay_ms(&zero, INT_MAX, NULL, NOW, 0.999) == 0);
}
END_TEST

START_TEST(test_attempt_limits)
{
    ck_assert(backoff(5, 0.0) >= 0); /* == max_retries: still allowed */
    ck_assert(backoff(6, 0.0) == -1);
    ck_assert(backoff(INT_MAX, 0.0) == -1);
    ck_assert(backoff(0, 0.0) == -1);
    ck_assert(backoff(-1, 0.0) == -1);
    ck_assert(backoff(INT_MIN, 0.0) == -1);
    /* exceeded attempts are refused even when the server names a delay */
    ck_assert(imgsync__retry_delay_ms(&k_policy, 6, "1", NOW, 0.0) == -1);
    imgsync__retry_policy none = {0, 1000, 30000, 0};
    ck_assert(imgsync__retry_delay_ms(&none, 1, NULL, NOW, 0.0) == -1);
    imgsync__retry_policy neg = {-3, 1000, 30000, 0};
    ck_assert(imgsync__retry_delay_ms(&neg, 1, NULL, NOW, 0.0) == -1);
    ck_assert(imgsync__retry_delay_ms(NULL, 1, NULL, NOW, 0.0) == -1);
}
END_TEST

START_TEST(test_policy_edges)
{
    imgsync__retry_policy zero_cap = {3, 1000, 0, 0};
    ck_assert(imgsync__retry_delay_ms(&zero_cap, 1, NULL, NOW, 0.5) == 0);
    ck_assert(imgsync__retry_delay_ms(&zero_cap, 1, "10", NOW, 0.5) == -2);
    ck_assert(imgsync__retry_delay_ms(&zero_cap, 1, "0", NOW, 0.5) == 0);
    imgsync__retry_policy neg = {3, -1000, -5, 0};
    ck_assert(imgsync__retry_delay_ms(&neg, 1, NULL, NOW, 0.5) == 0);
    ck_assert(imgsync__retry_delay_ms(&neg, 3, "10", NOW, 0.5) == -2);
    imgsync__retry_policy neg_base = {3, -1000, 30000, 0};
    ck_assert(imgsync__retry_delay_ms(&neg_base, 3, NULL, NOW, 0.5) == 0);
}
END_TEST

START_TEST(test_rnd_out_of_range)
{
    ck_assert(backoff(1, -1.0) == 500);
    ck_assert(backoff(1, -0.0) == 500);
    ck_assert(backoff(1, 1.0) == 1000);
    ck_assert(backoff(1, 2.0) == 1000);
    ck_assert(backoff(1, 1e300) == 1000);
    ck_assert(backoff(1, -1e300) == 500);
    ck_assert(backoff(1, NAN) == 500);
    ck_assert(backoff(1, INFINITY) == 1000);
}
END_TEST

START_TEST(test_retry_after_seconds)
{
    ck_assert(with_header("3") == 3000);
    ck_assert(with_header("0") == 0);
    ck_assert(with_header("000") == 0);
    ck_assert(with_header("30") == 30000);
    ck_assert(with_header("31") == -2); /* longer than the cap: not waited for */
    ck_assert(with_header("120") == -2);
    ck_assert(with_header(" 3") == 3000); /* optional whitespace around the value */
    ck_assert(with_header("3 \t") == 3000);
    ck_assert(with_header("\t 7 ") == 7000);
    /* huge values saturate instead of overflowing, and are not waited for */
    ck_assert(with_header("9223372036854775") == -2);
    ck_assert(with_header("9223372036854775807") == -2);
    ck_assert(with_header("9223372036854775808") == -2);
    ck_assert(with_header("99999999999999999999999999999999999999999999999999") == -2);
    imgsync__retry_policy nocap = {3, 1000, INT64_MAX, 0};
    ck_assert(imgsync__retry_delay_ms(&nocap, 1, "9223372036854775", NOW, 0.0) ==
              INT64_C(9223372036854775000));
    ck_assert(imgsync__retry_delay_ms(&nocap, 1, "9223372036854776", NOW, 0.0) == INT64_MAX);
    ck_assert(imgsync__retry_delay_ms(&nocap, 1, "99999999999999999999999", NOW, 0.0) ==
              INT64_MAX);
    /* the same value for any attempt: no backoff on top */
    ck_assert(imgsync__retry_delay_ms(&k_policy, 4, "2", NOW, 0.999) == 2000);
}
END_TEST

START_TEST(test_retry_after_garbage)
{
    /* anything that is neither delta-seconds nor an HTTP-date falls back to backoff(1, 0.5) */
    static const char *const bad[] = {
        "", " ", "\t", "-5", "-0", "+5", "1.5", "3x", "x3", "3 4", "0x10", "1e3", "soon",
        "Sun, 06 Nov 1994 08:49:37", "Sun, 31 Feb 1994 08:49:37 GMT",
        "Wed, 31 Dec 1969 23:59:59 GMT", "2030-01-01T00:00:00Z", "\xff\xfe",
        "Sun, 06 Nov 1994 08:49:37 GMT Sun, 06 Nov 1994 08:49:37 GMT Sun, 06 Nov 1994 08:49:37 GMT",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ck_assert_msg(with_header(bad[i]) == 750, "Retry-After \"%s\"", bad[i]);
    ck_assert(with_header(NULL) == 750);
    /* a very long run of junk */
    char *junk = malloc(100001);
    ck_assert_ptr_nonnull(junk);
    memset(junk, '9', 100000);
    junk[100000] = '\0';
    ck_assert(with_header(junk) == -2); /* all digits: saturates, too long to wait */
    junk[50000] = 'x';
    ck_assert(with_header(junk) == 750);
    free(junk);
}
END_TEST

START_TEST(test_retry_after_date)
{
    ck_assert(with_header("Sun, 06 Nov 1994 08:49:47 GMT") == 10000); /* now + 10 s */
    ck_assert(with_header("Sun, 06 Nov 1994 08:49:38 GMT") == 1000);
    ck_assert(with_header(" Sun, 06 Nov 1994 08:49:47 GMT ") == 10000);
    ck_assert(with_header("Sunday, 06-Nov-94 08:49:47 GMT") == 10000);
    ck_assert(with_header("Sun Nov  6 08:49:47 1994") == 10000);
    ck_assert(with_header("Sun, 06 Nov 1994 09:49:37 GMT") == -2); /* an hour: not waited for */
    ck_assert(with_header("Fri, 31 Dec 9999 23:59:59 GMT") == -2);
    /* now or past: retry at once (0), not backoff */
    ck_assert(with_header("Sun, 06 Nov 1994 08:49:37 GMT") == 0);
    ck_assert(with_header("Sun, 06 Nov 1994 08:49:36 GMT") == 0);
    ck_assert(with_header("Thu, 01 Jan 1970 00:00:00 GMT") == 0);
    /* extreme fake clocks must not overflow the subtraction */
    ck_assert(imgsync__retry_delay_ms(&k_policy, 1, "Fri, 31 Dec 9999 23:59:59 GMT", INT64_MIN,
                                      0.0) == -2);
    imgsync__retry_policy nocap = {3, 1000, INT64_MAX, 0};
    ck_assert(imgsync__retry_delay_ms(&nocap, 1, "Fri, 31 Dec 9999 23:59:59 GMT", INT64_MIN,
                                      0.0) == INT64_MAX);
    ck_assert(imgsync__retry_delay_ms(&nocap, 1, "Thu, 01 Jan 1970 00:00:01 GMT", -1, 0.0) ==
              1001);
    ck_assert(imgsync__retry_delay_ms(&nocap, 1, "Fri, 31 Dec 9999 23:59:59 GMT", INT64_MAX,
                                      0.0) == 0);
}
END_TEST

Suite *retry_suite(void)
{
    Suite *s = suite_create("retry");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_should_statuses);
    tcase_add_test(tc, test_should_transport);
    tcase_add_test(tc, test_backoff_jitter);
    tcase_add_test(tc, test_backoff_cap);
    tcase_add_test(tc, test_backoff_overflow);
    tcase_add_test(tc, test_attempt_limits);
    tcase_add_test(tc, test_policy_edges);
    tcase_add_test(tc, test_rnd_out_of_range);
    tcase_add_test(tc, test_retry_after_seconds);
    tcase_add_test(tc, test_retry_after_garbage);
    tcase_add_test(tc, test_retry_after_date);
    suite_add_tcase(s, tc);
    return s;
}

#include "check_main.h"
IMGSYNC_TEST_MAIN(retry_suite)
