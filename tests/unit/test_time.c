/* Unit tests for src/util/timeutil.c (clocks, RFC 3339 and HTTP-date parsing). */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "imgsync.h"
#include "util/timeutil.h"

Suite *time_suite(void);

/* Sentinel written into outputs to prove a failed parse leaves them untouched. */
#define UNTOUCHED INT64_C(-777)

#define RFC_OK(str, want)                                                                          \
    do {                                                                                           \
        int64_t v_ = UNTOUCHED;                                                                    \
        ck_assert_msg(imgsync__parse_rfc3339_ms((str), &v_) == 0, "rfc3339 rejected \"%s\"", (str)); \
        ck_assert_msg(v_ == (want), "rfc3339 \"%s\" gave %lld", (str), (long long)v_);            \
    } while (0)

#define RFC_BAD(str)                                                                               \
    do {                                                                                           \
        int64_t v_ = UNTOUCHED;                                                                    \
        ck_assert_msg(imgsync__parse_rfc3339_ms((str), &v_) == IMGSYNC_EINVAL,                     \
                      "rfc3339 accepted \"%s\"", (str));                                           \
        ck_assert_msg(v_ == UNTOUCHED, "rfc3339 \"%s\" wrote out", (str));                        \
    } while (0)

#define HTTP_OK(str, want)                                                                         \
    do {                                                                                           \
        int64_t v_ = UNTOUCHED;                                                                    \
        ck_assert_msg(imgsync__parse_http_date((str), &v_) == 0, "http-date rejected \"%s\"", (str)); \
        ck_assert_msg(v_ == (want), "http-date \"%s\" gave %lld", (str), (long long)v_);          \
    } while (0)

#define HTTP_BAD(str)                                                                              \
    do {                                                                                           \
        int64_t v_ = UNTOUCHED;                                                                    \
        ck_assert_msg(imgsync__parse_http_date((str), &v_) == IMGSYNC_EINVAL,                      \
                      "http-date accepted \"%s\"", (str));                                         \
        ck_assert_msg(v_ == UNTOUCHED, "http-date \"%s\" wrote out", (str));                      \
    } while (0)

/* 1994-11-06T08:49:37Z, the RFC 9110 example date. */
#define RFC_EXAMPLE_MS INT64_C(784111777000)

START_TEST(test_clocks)
{
    int64_t now = imgsync__system_now_ms();
    ck_assert(now > INT64_C(1577836800000)); /* after 2020-01-01 */
    ck_assert(now < INT64_C(32503680000000)); /* before 3000-01-01 */
    int64_t a = imgsync__system_mono_ms();
    int64_t b = imgsync__system_mono_ms();
    ck_assert(a >= 0);
    ck_assert(b >= a);
}
END_TEST

START_TEST(test_rfc3339_examples)
{
    RFC_OK("1970-01-01T00:00:00Z", 0);
    RFC_OK("2020-06-11T15:08:50.890Z", INT64_C(1591888130890));
    RFC_OK("2017-09-11T03:00:02.542841141Z", INT64_C(1505098802542));
    RFC_OK("2020-06-25T10:21:17.488+03:00", INT64_C(1593069677488));
    RFC_OK("2018-07-06T06:18:55Z", INT64_C(1530857935000));
    RFC_OK("9999-12-31T23:59:59.999Z", INT64_C(253402300799999));
}
END_TEST

START_TEST(test_rfc3339_separators)
{
    RFC_OK("2018-07-06t06:18:55z", INT64_C(1530857935000));
    RFC_OK("2018-07-06 06:18:55Z", INT64_C(1530857935000));
    RFC_OK("2018-07-06T06:18:55z", INT64_C(1530857935000));
    RFC_BAD("2018-07-06_06:18:55Z");
    RFC_BAD("2018-07-06T06:18:55");    /* no zone */
    RFC_BAD("2018-07-06T06:18:55 Z");  /* space before zone */
    RFC_BAD("2018-07-06T06:18Z");      /* no seconds */
    RFC_BAD("2018-07-06");             /* date only */
    RFC_BAD("2018/07/06T06:18:55Z");
    RFC_BAD("2018-7-06T06:18:55Z");    /* single-digit month */
    RFC_BAD("18-07-06T06:18:55Z");     /* two-digit year */
    RFC_BAD("+2018-07-06T06:18:55Z");
    RFC_BAD("20180706T061855Z");       /* ISO basic format */
}
END_TEST

START_TEST(test_rfc3339_fraction)
{
    static const struct {
        const char *s;
        int64_t ms;
    } cases[] = {
        {"2018-07-06T06:18:55.1Z", 100},
        {"2018-07-06T06:18:55.12Z", 120},
        {"2018-07-06T06:18:55.123Z", 123},
        {"2018-07-06T06:18:55.1234Z", 123},
        {"2018-07-06T06:18:55.12345Z", 123},
        {"2018-07-06T06:18:55.123456Z", 123},
        {"2018-07-06T06:18:55.1234567Z", 123},
        {"2018-07-06T06:18:55.12345678Z", 123},
        {"2018-07-06T06:18:55.999999999Z", 999}, /* truncated, never rounded up */
        {"2018-07-06T06:18:55.000000000000000001Z", 0},
        {"2018-07-06T06:18:55.05Z", 50},
        {"2018-07-06T06:18:55.0Z", 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        RFC_OK(cases[i].s, INT64_C(1530857935000) + cases[i].ms);
    RFC_BAD("2018-07-06T06:18:55.Z");
    RFC_BAD("2018-07-06T06:18:55.+01:00");
    RFC_BAD("2018-07-06T06:18:55,5Z");
    RFC_BAD("2018-07-06T06:18:55.5.5Z");
    RFC_BAD("2018-07-06T06:18:55.5a");
}
END_TEST

START_TEST(test_rfc3339_offsets)
{
    /* 2020-06-25T07:21:17.488Z expressed in several zones */
    const int64_t want = INT64_C(1593069677488);
    RFC_OK("2020-06-25T07:21:17.488Z", want);
    RFC_OK("2020-06-25T07:21:17.488+00:00", want);
    RFC_OK("2020-06-25T07:21:17.488-00:00", want);
    RFC_OK("2020-06-25T10:21:17.488+03:00", want);
    RFC_OK("2020-06-25T01:51:17.488-05:30", want);
    RFC_OK("2020-06-25T20:06:17.488+12:45", want);
    RFC_OK("2020-06-24T08:21:17.488-23:00", want); /* crosses the date line */
    RFC_OK("2020-06-26T07:20:17.488+23:59", want);
    RFC_OK("2020-01-01T00:00:00-05:30", INT64_C(1577856600000));
    RFC_BAD("2020-06-25T10:21:17+0300");  /* colon required */
    RFC_BAD("2020-06-25T10:21:17+03");
    RFC_BAD("2020-06-25T10:21:17+3:00");
    RFC_BAD("2020-06-25T10:21:17+24:00");
    RFC_BAD("2020-06-25T10:21:17+03:60");
    RFC_BAD("2020-06-25T10:21:17+03:00Z");
    RFC_BAD("2020-06-25T10:21:17*03:00");
    RFC_BAD("2020-06-25T10:21:17+");
}
END_TEST

START_TEST(test_rfc3339_ranges)
{
    RFC_OK("2020-02-29T12:00:00Z", INT64_C(1582977600000)); /* leap year */
    RFC_OK("2000-02-29T00:00:00Z", INT64_C(951782400000));  /* divisible by 400 */
    RFC_OK("2024-12-31T23:59:59Z", INT64_C(1735689599000)); /* day 366 */
    RFC_OK("2016-12-31T23:59:60Z", INT64_C(1483228800000)); /* leap second = next second */
    RFC_BAD("2019-02-29T00:00:00Z");
    RFC_BAD("2100-02-29T00:00:00Z"); /* divisible by 100, not 400 */
    RFC_BAD("2020-02-30T00:00:00Z");
    RFC_BAD("2020-04-31T00:00:00Z");
    RFC_BAD("2020-06-31T00:00:00Z");
    RFC_BAD("2020-01-32T00:00:00Z");
    RFC_BAD("2020-01-00T00:00:00Z");
    RFC_BAD("2020-00-10T00:00:00Z");
    RFC_BAD("2020-13-10T00:00:00Z");
    RFC_BAD("2020-01-10T24:00:00Z");
    RFC_BAD("2020-01-10T23:60:00Z");
    RFC_BAD("2020-01-10T23:59:61Z");
    RFC_BAD("2020-01-10T99:99:99Z");
}
END_TEST

START_TEST(test_rfc3339_epoch_edges)
{
    RFC_OK("0001-01-01T00:00:00Z", 0); /* Harbor's "never" */
    RFC_OK("0001-01-01T00:00:00.000000000Z", 0);
    RFC_OK("0001-06-15T12:30:00+02:00", 0);
    RFC_BAD("0001-02-29T00:00:00Z"); /* year 1 is still validated */
    RFC_BAD("0001-01-01T00:00:00");
    RFC_BAD("0000-01-01T00:00:00Z");
    RFC_BAD("0002-01-01T00:00:00Z");
    RFC_BAD("1969-12-31T23:59:59Z");
    RFC_BAD("1969-12-31T23:59:59.999Z");
    RFC_BAD("1970-01-01T00:30:00+01:00"); /* pre-epoch only after applying the offset */
    RFC_OK("1970-01-01T01:00:00+01:00", 0);
    RFC_OK("1969-12-31T23:00:00-01:00", 0);
    RFC_OK("1970-01-01T00:00:00.001Z", 1);
}
END_TEST

START_TEST(test_rfc3339_garbage)
{
    RFC_BAD("");
    RFC_BAD("Z");
    RFC_BAD("now");
    RFC_BAD(" 2018-07-06T06:18:55Z");
    RFC_BAD("2018-07-06T06:18:55Z ");
    RFC_BAD("2018-07-06T06:18:55Zjunk");
    RFC_BAD("2018-07-06T06:18:55ZZ");
    RFC_BAD("2018-07-06T06:1a:55Z");
    RFC_BAD("2018-07-06T06:18:55\n");
    RFC_BAD("Sun, 06 Nov 1994 08:49:37 GMT");
    int64_t v = UNTOUCHED;
    ck_assert_int_eq(imgsync__parse_rfc3339_ms(NULL, &v), IMGSYNC_EINVAL);
    ck_assert(v == UNTOUCHED);
    ck_assert_int_eq(imgsync__parse_rfc3339_ms("2018-07-06T06:18:55Z", NULL), IMGSYNC_EINVAL);
    /* a long run of fraction digits is fine; a long string of junk is not */
    char big[5000];
    memcpy(big, "2018-07-06T06:18:55.", 20);
    memset(big + 20, '7', sizeof(big) - 22);
    big[sizeof(big) - 2] = 'Z';
    big[sizeof(big) - 1] = '\0';
    RFC_OK(big, INT64_C(1530857935777));
    big[sizeof(big) - 2] = 'x';
    RFC_BAD(big);
}
END_TEST

/* Dates spread over 1970..2200 (every 5th day, varying time of day) must agree with the C
 * library's own UTC conversion. */
START_TEST(test_rfc3339_vs_gmtime)
{
    for (time_t t = 0; t < (time_t)7289654400; t += 5 * 86400 + 3723) {
        struct tm tm;
        ck_assert_ptr_nonnull(gmtime_r(&t, &tm));
        char s[64];
        snprintf(s, sizeof(s), "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
        RFC_OK(s, (int64_t)t * 1000);
    }
}
END_TEST

START_TEST(test_http_date_forms)
{
    HTTP_OK("Sun, 06 Nov 1994 08:49:37 GMT", RFC_EXAMPLE_MS);  /* IMF-fixdate */
    HTTP_OK("Sunday, 06-Nov-94 08:49:37 GMT", RFC_EXAMPLE_MS); /* RFC 850 */
    HTTP_OK("Sun Nov  6 08:49:37 1994", RFC_EXAMPLE_MS);       /* asctime */
    HTTP_OK("Sun Nov 06 08:49:37 1994", RFC_EXAMPLE_MS);
    HTTP_OK("Wed Nov 16 08:49:37 1994", RFC_EXAMPLE_MS + INT64_C(10) * 86400000);
    HTTP_OK("Thu, 01 Jan 1970 00:00:00 GMT", 0);
    HTTP_OK("Fri, 31 Dec 9999 23:59:59 GMT", INT64_C(253402300799000));
    HTTP_OK("Thu, 29 Feb 2024 00:00:00 GMT", INT64_C(1709164800000));
    /* RFC 850 two-digit years: 70-99 -> 19xx, 00-69 -> 20xx */
    HTTP_OK("Saturday, 06-Nov-10 08:49:37 GMT", INT64_C(1289033377000));
    HTTP_OK("Thursday, 01-Jan-70 00:00:00 GMT", 0);
    HTTP_OK("Wednesday, 06-Nov-69 08:49:37 GMT", INT64_C(3150953377000));
    /* names are matched case-insensitively; the weekday is not cross-checked */
    HTTP_OK("sun, 06 nov 1994 08:49:37 gmt", RFC_EXAMPLE_MS);
    HTTP_OK("Mon, 06 Nov 1994 08:49:37 GMT", RFC_EXAMPLE_MS);
    /* all month names */
    static const char *const months[12] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                           "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    for (int m = 0; m < 12; m++) {
        char s[64], r[64];
        snprintf(s, sizeof(s), "Tue, 15 %s 2030 12:00:00 GMT", months[m]);
        snprintf(r, sizeof(r), "2030-%02d-15T12:00:00Z", m + 1);
        int64_t a = 0, b = 1;
        ck_assert_int_eq(imgsync__parse_http_date(s, &a), 0);
        ck_assert_int_eq(imgsync__parse_rfc3339_ms(r, &b), 0);
        ck_assert(a == b);
    }
}
END_TEST

START_TEST(test_http_date_bad)
{
    HTTP_BAD("");
    HTTP_BAD("120");
    HTTP_BAD("Sun, 06 Nov 1994 08:49:37");      /* no zone */
    HTTP_BAD("Sun, 06 Nov 1994 08:49:37 UTC");  /* only GMT */
    HTTP_BAD("Sun, 06 Nov 1994 08:49:37 GMT "); /* trailing space */
    HTTP_BAD(" Sun, 06 Nov 1994 08:49:37 GMT");
    HTTP_BAD("Sun, 06 Nov 1994 08:49:37 GMTX");
    HTTP_BAD("Sun 06 Nov 1994 08:49:37 GMT");   /* missing comma */
    HTTP_BAD("Sun,06 Nov 1994 08:49:37 GMT");
    HTTP_BAD("Sun, 6 Nov 1994 08:49:37 GMT");   /* IMF-fixdate needs 2 digits */
    HTTP_BAD("Sun, 06 Nov 94 08:49:37 GMT");
    HTTP_BAD("Sun, 06 November 1994 08:49:37 GMT");
    HTTP_BAD("Sun, 06 Foo 1994 08:49:37 GMT");
    HTTP_BAD("Fun, 06 Nov 1994 08:49:37 GMT");
    HTTP_BAD("Sunday, 06 Nov 1994 08:49:37 GMT"); /* long name with IMF layout */
    HTTP_BAD("Sun, 06-Nov-94 08:49:37 GMT");      /* short name with RFC 850 layout */
    HTTP_BAD("Sunday, 06-Nov-1994 08:49:37 GMT");
    HTTP_BAD("Sun, 31 Feb 2020 08:49:37 GMT");
    HTTP_BAD("Sat, 29 Feb 2100 00:00:00 GMT");
    HTTP_BAD("Sun, 06 Nov 1994 24:00:00 GMT");
    HTTP_BAD("Sun, 06 Nov 1994 08:60:00 GMT");
    HTTP_BAD("Sun, 06 Nov 1994 08:49:61 GMT");
    HTTP_BAD("Sun, 06 Nov 1994 8:49:37 GMT");
    HTTP_BAD("Wed, 31 Dec 1969 23:59:59 GMT");    /* before the epoch */
    HTTP_BAD("Sunday, 06-Nov-69 08:49:37");      /* RFC 850 needs GMT */
    HTTP_BAD("Sun Nov  6 08:49:37 1994 GMT");     /* asctime has no zone */
    HTTP_BAD("Sun Nov   6 08:49:37 1994");
    HTTP_BAD("Sun Nov  6 08:49:37 94");
    HTTP_BAD("Sun Nov 32 08:49:37 1994");
    HTTP_BAD("2018-07-06T06:18:55Z");
    int64_t v = UNTOUCHED;
    ck_assert_int_eq(imgsync__parse_http_date(NULL, &v), IMGSYNC_EINVAL);
    ck_assert(v == UNTOUCHED);
    ck_assert_int_eq(imgsync__parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT", NULL),
                     IMGSYNC_EINVAL);
}
END_TEST

Suite *time_suite(void)
{
    Suite *s = suite_create("time");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_clocks);
    tcase_add_test(tc, test_rfc3339_examples);
    tcase_add_test(tc, test_rfc3339_separators);
    tcase_add_test(tc, test_rfc3339_fraction);
    tcase_add_test(tc, test_rfc3339_offsets);
    tcase_add_test(tc, test_rfc3339_ranges);
    tcase_add_test(tc, test_rfc3339_epoch_edges);
    tcase_add_test(tc, test_rfc3339_garbage);
    tcase_add_test(tc, test_rfc3339_vs_gmtime);
    tcase_add_test(tc, test_http_date_forms);
    tcase_add_test(tc, test_http_date_bad);
    suite_add_tcase(s, tc);
    return s;
}

#include "check_main.h"
IMGSYNC_TEST_MAIN(time_suite)
