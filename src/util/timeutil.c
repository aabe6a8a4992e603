/*
 * Clocks and timestamp parsing.
 *
 * Dates are converted with our own civil-calendar arithmetic (proleptic Gregorian, UTC), so the
 * result never depends on the process time zone or on mktime/TZ state.
 */
#include "timeutil.h"

#include <stddef.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "imgsync.h"

static int64_t timespec_ms(const struct timespec *ts)
{
    return (int64_t)ts->tv_sec * 1000 + ts->tv_nsec / 1000000;
}

int64_t imgsync__system_now_ms(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
        return 0;
    return timespec_ms(&ts);
}

int64_t imgsync__system_mono_ms(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
        return 0;
    return timespec_ms(&ts);
}

/* ---- civil calendar ---------------------------------------------------------------------- */

static int is_leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

static int days_in_month(int y, int m)
{
    static const unsigned char dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : dim[m - 1];
}

/* Number of leap years in [1, y], for y >= 0. */
static int64_t leaps_through(int64_t y) { return y / 4 - y / 100 + y / 400; }

/* Days from 1970-01-01 to y-m-d (negative before); fields already validated, y >= 1. */
static int64_t days_from_civil(int y, int m, int d)
{
    static const short before[12] = {0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334};
    int64_t days = 365 * (int64_t)(y - 1970) + leaps_through(y - 1) - leaps_through(1969);
    days += before[m - 1] + (m > 2 && is_leap(y)) + d - 1;
    return days;
}

/* A broken-down UTC time as parsed, before range checks. */
typedef struct civil {
    int year, mon, day, hour, min, sec;
    int ms;         /* fraction of a second, truncated to ms */
    int off_min;    /* zone offset east of UTC in minutes */
} civil;

/* 1 when every date and time field is in range (sec 60 allows a leap second). */
static int civil_valid(const civil *c)
{
    return c->year >= 1 && c->mon >= 1 && c->mon <= 12 && c->day >= 1 &&
           c->day <= days_in_month(c->year, c->mon) && c->hour <= 23 && c->min <= 59 &&
           c->sec <= 60;
}

/* Range-check the fields and convert to ms since the epoch; 0 or IMGSYNC_EINVAL. */
static int civil_to_ms(const civil *c, int64_t *out)
{
    if (!civil_valid(c))
        return IMGSYNC_EINVAL;
    int64_t days = days_from_civil(c->year, c->mon, c->day);
    int64_t secs = ((days * 24 + c->hour) * 60 + c->min) * 60 + c->sec;
    int64_t ms = secs * 1000 + c->ms - (int64_t)c->off_min * 60000;
    if (ms < 0)
        return IMGSYNC_EINVAL; /* before the epoch: nothing we deal with is that old */
    *out = ms;
    return 0;
}

/* ---- small scanners: advance *sp only on success ----------------------------------------- */

static int is_digit(char c) { return c >= '0' && c <= '9'; }

/* Exactly n decimal digits. */
static int scan_num(const char **sp, int n, int *out)
{
    const char *p = *sp;
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!is_digit(p[i]))
            return 0;
        v = v * 10 + (p[i] - '0');
    }
    *sp = p + n;
    *out = v;
    return 1;
}

static int scan_char(const char **sp, char c)
{
    if (**sp != c)
        return 0;
    (*sp)++;
    return 1;
}

/* "hh:mm:ss" */
static int scan_hms(const char **sp, civil *c)
{
    return scan_num(sp, 2, &c->hour) && scan_char(sp, ':') && scan_num(sp, 2, &c->min) &&
           scan_char(sp, ':') && scan_num(sp, 2, &c->sec);
}

/* A case-insensitive word from `names` (matched as a whole run of letters); index or -1. */
static int scan_name(const char **sp, const char *const *names, int count)
{
    const char *p = *sp;
    size_t n = 0;
    while ((p[n] >= 'a' && p[n] <= 'z') || (p[n] >= 'A' && p[n] <= 'Z'))
        n++;
    for (int i = 0; i < count; i++) {
        if (strlen(names[i]) == n && strncasecmp(p, names[i], n) == 0) {
            *sp = p + n;
            return i;
        }
    }
    return -1;
}

/* ---- RFC 3339 ------------------------------------------------------------------------------ */

int imgsync__parse_rfc3339_ms(const char *s, int64_t *out)
{
    civil c = {0};
    const char *p = s;
    if (!s || !out)
        return IMGSYNC_EINVAL;
    if (!scan_num(&p, 4, &c.year) || !scan_char(&p, '-') || !scan_num(&p, 2, &c.mon) ||
        !scan_char(&p, '-') || !scan_num(&p, 2, &c.day))
        return IMGSYNC_EINVAL;
    if (!scan_char(&p, 'T') && !scan_char(&p, 't') && !scan_char(&p, ' '))
        return IMGSYNC_EINVAL;
    if (!scan_hms(&p, &c))
        return IMGSYNC_EINVAL;
    if (scan_char(&p, '.')) {
        /* Any number of digits (at least one); keep the first three, truncating. */
        if (!is_digit(*p))
            return IMGSYNC_EINVAL;
        int scale = 100;
        for (; is_digit(*p); p++) {
            c.ms += (*p - '0') * scale;
            scale /= 10;
        }
    }
    if (scan_char(&p, 'Z') || scan_char(&p, 'z')) {
        c.off_min = 0;
    } else if (*p == '+' || *p == '-') {
        int sign = *p == '-' ? -1 : 1;
        int oh, om;
        p++;
        if (!scan_num(&p, 2, &oh) || !scan_char(&p, ':') || !scan_num(&p, 2, &om) || oh > 23 ||
            om > 59)
            return IMGSYNC_EINVAL;
        c.off_min = sign * (oh * 60 + om);
    } else {
        return IMGSYNC_EINVAL; /* RFC 3339 requires a zone */
    }
    if (*p != '\0')
        return IMGSYNC_EINVAL;

    if (c.year == 1) {
        /* Year 1 is Go's zero time, which Harbor uses for "never": map it to 0 instead of
         * rejecting it as pre-epoch, but only when the rest of the timestamp is valid. */
        if (!civil_valid(&c))
            return IMGSYNC_EINVAL;
        *out = 0;
        return 0;
    }
    int64_t ms;
    if (civil_to_ms(&c, &ms))
        return IMGSYNC_EINVAL;
    *out = ms;
    return 0;
}

/* ---- HTTP-date (RFC 9110 section 5.6.7) ---------------------------------------------------- */

static const char *const k_wkday[7] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
static const char *const k_weekday[7] = {"Monday", "Tuesday",  "Wednesday", "Thursday",
                                         "Friday", "Saturday", "Sunday"};
static const char *const k_month[12] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

static int scan_month(const char **sp, civil *c)
{
    int m = scan_name(sp, k_month, 12);
    if (m < 0)
        return 0;
    c->mon = m + 1;
    return 1;
}

static int scan_gmt(const char **sp)
{
    static const char *const gmt[1] = {"GMT"};
    return scan_char(sp, ' ') && scan_name(sp, gmt, 1) == 0;
}

/* The weekday name is required to be a real one but not checked against the date: senders
 * that get it wrong still mean the date they wrote. */
int imgsync__parse_http_date(const char *s, int64_t *out)
{
    civil c = {0};
    const char *p = s;
    int ok;
    if (!s || !out)
        return IMGSYNC_EINVAL;
    if (scan_name(&p, k_wkday, 7) >= 0) {
        if (scan_char(&p, ',')) {
            /* IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT" */
            ok = scan_char(&p, ' ') && scan_num(&p, 2, &c.day) && scan_char(&p, ' ') &&
                 scan_month(&p, &c) && scan_char(&p, ' ') && scan_num(&p, 4, &c.year) &&
                 scan_char(&p, ' ') && scan_hms(&p, &c) && scan_gmt(&p);
        } else {
            /* asctime: "Sun Nov  6 08:49:37 1994" (day space-padded; "Nov 06" also taken) */
            ok = scan_char(&p, ' ') && scan_month(&p, &c) && scan_char(&p, ' ');
            if (ok) {
                scan_char(&p, ' ');
                if (!scan_num(&p, 2, &c.day))
                    ok = scan_num(&p, 1, &c.day);
            }
            ok = ok && scan_char(&p, ' ') && scan_hms(&p, &c) && scan_char(&p, ' ') &&
                 scan_num(&p, 4, &c.year);
        }
    } else if (scan_name(&p, k_weekday, 7) >= 0) {
        /* RFC 850: "Sunday, 06-Nov-94 08:49:37 GMT". Two-digit years 70-99 are 19xx and
         * 00-69 are 20xx: a fixed pivot keeps the parser pure, and years before 1970 would be
         * rejected anyway. */
        int yy = 0;
        ok = scan_char(&p, ',') && scan_char(&p, ' ') && scan_num(&p, 2, &c.day) &&
             scan_char(&p, '-') && scan_month(&p, &c) && scan_char(&p, '-') &&
             scan_num(&p, 2, &yy) && scan_char(&p, ' ') && scan_hms(&p, &c) && scan_gmt(&p);
        c.year = yy >= 70 ? 1900 + yy : 2000 + yy;
    } else {
        return IMGSYNC_EINVAL;
    }
    if (!ok || *p != '\0')
        return IMGSYNC_EINVAL;
    int64_t ms;
    if (civil_to_ms(&c, &ms))
        return IMGSYNC_EINVAL;
    *out = ms;
    return 0;
}
