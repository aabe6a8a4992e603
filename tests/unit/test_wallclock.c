/* Unit tests of local wall-clock schedule times (src/util/wallclock.c): midnight, month ends and
 * both daylight saving changes of Europe/Berlin (2026-03-29 02:00 CET -> 03:00 CEST, 2026-10-25
 * 03:00 CEST -> 02:00 CET), and a zone without DST. */
#include <check.h>
#include <stdlib.h>
#include <time.h>

#include "check_main.h"
#include "util/timeutil.h"
#include "util/wallclock.h"

Suite *wallclock_suite(void);

static void zone(const char *tz)
{
    ck_assert_int_eq(setenv("TZ", tz, 1), 0);
    tzset();
}

static int64_t at(const char *rfc3339)
{
    int64_t ms = 0;
    ck_assert_msg(imgsync__parse_rfc3339_ms(rfc3339, &ms) == 0, "bad time %s", rfc3339);
    return ms;
}

/* next(now, h:m) must be want (all given in UTC). */
static void expect_next(const char *now, int hour, int minute, const char *want)
{
    int64_t got = imgsync__next_daily_ms(at(now), hour, minute);
    ck_assert_msg(got == at(want), "after %s at %02d:%02d: %lld, not %s (%lld)", now, hour, minute, (long long)got,
                  want, (long long)at(want));
}

START_TEST(test_plain_days_and_midnight)
{
    zone("Europe/Berlin");
    /* January, CET = UTC+1: 01:00 local is 00:00 UTC */
    expect_next("2026-01-10T12:00:00Z", 1, 0, "2026-01-11T00:00:00Z");
    expect_next("2026-01-10T23:30:00Z", 1, 0, "2026-01-11T00:00:00Z"); /* local 00:30: later today */
    expect_next("2026-01-11T00:00:00Z", 1, 0, "2026-01-12T00:00:00Z"); /* strictly after */
    expect_next("2026-01-10T23:59:59.999Z", 1, 0, "2026-01-11T00:00:00Z");
    expect_next("2026-01-31T12:00:00Z", 0, 0, "2026-01-31T23:00:00Z");  /* into February */
    expect_next("2026-12-31T23:30:00Z", 23, 59, "2027-01-01T22:59:00Z"); /* new year */
    /* July, CEST = UTC+2 */
    expect_next("2026-07-01T00:00:00Z", 1, 0, "2026-07-01T23:00:00Z");
}
END_TEST

START_TEST(test_spring_forward)
{
    zone("Europe/Berlin");
    /* 01:00 exists that day (CET): 00:00 UTC */
    expect_next("2026-03-28T12:00:00Z", 1, 0, "2026-03-29T00:00:00Z");
    /* 02:30 does not exist on 2026-03-29: due when the gap ends, 03:00 CEST = 01:00 UTC */
    expect_next("2026-03-28T12:00:00Z", 2, 30, "2026-03-29T01:00:00Z");
    expect_next("2026-03-28T12:00:00Z", 2, 0, "2026-03-29T01:00:00Z");
    /* the next day it exists again: 02:30 CEST = 00:30 UTC */
    expect_next("2026-03-29T01:00:00Z", 2, 30, "2026-03-30T00:30:00Z");
    /* 03:00 exists: 01:00 UTC */
    expect_next("2026-03-28T12:00:00Z", 3, 0, "2026-03-29T01:00:00Z");
}
END_TEST

START_TEST(test_fall_back)
{
    zone("Europe/Berlin");
    /* 02:30 happens twice on 2026-10-25: first 02:30 CEST = 00:30 UTC */
    expect_next("2026-10-24T12:00:00Z", 2, 30, "2026-10-25T00:30:00Z");
    /* once: after the first, the next is the following day (02:30 CET = 01:30 UTC) */
    expect_next("2026-10-25T00:30:00Z", 2, 30, "2026-10-26T01:30:00Z");
    expect_next("2026-10-25T01:00:00Z", 2, 30, "2026-10-26T01:30:00Z"); /* between the two */
    /* 01:00 CEST = 23:00 UTC the day before; 04:00 CET = 03:00 UTC */
    expect_next("2026-10-24T12:00:00Z", 1, 0, "2026-10-24T23:00:00Z");
    expect_next("2026-10-24T12:00:00Z", 4, 0, "2026-10-25T03:00:00Z");
}
END_TEST

START_TEST(test_utc_and_bad_input)
{
    zone("UTC");
    expect_next("2026-03-29T00:59:00Z", 1, 0, "2026-03-29T01:00:00Z");
    expect_next("2026-03-29T01:00:00Z", 1, 0, "2026-03-30T01:00:00Z");
    ck_assert_int_eq(imgsync__next_daily_ms(0, 24, 0), -1);
    ck_assert_int_eq(imgsync__next_daily_ms(0, -1, 0), -1);
    ck_assert_int_eq(imgsync__next_daily_ms(0, 1, 60), -1);
    ck_assert_int_eq(imgsync__next_daily_ms(0, 0, 0), 86400000);
}
END_TEST

Suite *wallclock_suite(void)
{
    Suite *s = suite_create("wallclock");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_plain_days_and_midnight);
    tcase_add_test(tc, test_spring_forward);
    tcase_add_test(tc, test_fall_back);
    tcase_add_test(tc, test_utc_and_bad_input);
    suite_add_tcase(s, tc);
    return s;
}

IMGSYNC_TEST_MAIN(wallclock_suite)
