/* Local wall-clock times for schedules: see wallclock.h. */
#include "wallclock.h"

#include <time.h>

/* The local calendar fields of an instant (seconds), or 0 when they cannot be had. */
static int local_of(time_t t, struct tm *out) { return localtime_r(&t, out) != NULL; }

/* The instant of day `base` (its date fields) at hour:minute with the given DST flag, when the
 * local time of that instant really is that date and time; else -1 (a gap, or the flag does not
 * apply that day). */
static time_t exact(const struct tm *base, int hour, int minute, int isdst)
{
    struct tm tm = *base, back;
    tm.tm_hour = hour;
    tm.tm_min = minute;
    tm.tm_sec = 0;
    tm.tm_isdst = isdst;
    time_t t = mktime(&tm);
    if (t == (time_t)-1 || !local_of(t, &back))
        return -1;
    int same = back.tm_year == base->tm_year && back.tm_mon == base->tm_mon && back.tm_mday == base->tm_mday &&
               back.tm_hour == hour && back.tm_min == minute;
    return same ? t : -1;
}

/* Minutes since local midnight of day `base`, or a large value once the date is past it. */
static long wall_minutes(time_t t, const struct tm *base)
{
    struct tm tm;
    if (!local_of(t, &tm))
        return -1;
    if (tm.tm_year != base->tm_year || tm.tm_yday != base->tm_yday)
        return tm.tm_year > base->tm_year || (tm.tm_year == base->tm_year && tm.tm_yday > base->tm_yday) ? 100000
                                                                                                         : -1;
    return tm.tm_hour * 60L + tm.tm_min;
}

/* In a spring-forward gap: the first instant near `near` whose wall time on that day is at or
 * past the target. Within hours of a gap the wall time only moves forward, so bisection holds. */
static time_t gap_end(const struct tm *base, time_t near, long target)
{
    time_t lo = near - 3 * 3600, hi = near + 3 * 3600;
    while (hi - lo > 1) {
        time_t mid = lo + (hi - lo) / 2;
        if (wall_minutes(mid, base) >= target)
            hi = mid;
        else
            lo = mid;
    }
    return hi;
}

/* The due instant on the day of `base`, or -1. */
static time_t due_on(const struct tm *base, int hour, int minute, time_t after)
{
    time_t first = -1;
    for (int isdst = 0; isdst <= 1; isdst++) {
        time_t t = exact(base, hour, minute, isdst);
        if (t != (time_t)-1 && (first == -1 || t < first))
            first = t;
    }
    if (first != -1) /* a repeated hour counts once: the day is done once its first has passed */
        return first > after ? first : -1;
    struct tm tm = *base;
    tm.tm_hour = hour;
    tm.tm_min = minute;
    tm.tm_sec = 0;
    tm.tm_isdst = -1;
    time_t near = mktime(&tm);
    if (near == (time_t)-1)
        return -1;
    time_t t = gap_end(base, near, hour * 60L + minute);
    return t > after ? t : -1;
}

int64_t imgsync__next_daily_ms(int64_t now_ms, int hour, int minute)
{
    if (hour < 0 || hour > 23 || minute < 0 || minute > 59)
        return -1;
    time_t now = (time_t)(now_ms >= 0 ? now_ms / 1000 : (now_ms - 999) / 1000);
    struct tm day;
    if (!local_of(now, &day))
        return -1;
    for (int i = 0; i < 3; i++) { /* today, else tomorrow (the day after covers odd zones) */
        struct tm d = day;
        d.tm_mday += i;
        d.tm_hour = 12; /* noon: never in a gap, so the date normalizes cleanly */
        d.tm_min = d.tm_sec = 0;
        d.tm_isdst = -1;
        time_t noon = mktime(&d);
        if (noon == (time_t)-1 || !local_of(noon, &d))
            return -1;
        time_t t = due_on(&d, hour, minute, now);
        if (t != (time_t)-1)
            return (int64_t)t * 1000;
    }
    return -1;
}
