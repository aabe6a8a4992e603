/* Local wall-clock times for schedules (internal): "every day at 01:00" in the process's time
 * zone (TZ), correct across midnight and daylight saving changes. Pure functions of the instant
 * they are given: the caller reads it from the context's clock. */
#ifndef IMGSYNC_UTIL_WALLCLOCK_H
#define IMGSYNC_UTIL_WALLCLOCK_H

#include <stdint.h>

/*
 * The first instant strictly after now_ms (ms since the epoch, UTC) at which the local time is
 * hour:minute (0..23, 0..59). A time that a spring-forward change skips that day (02:30 when
 * clocks go from 02:00 to 03:00) is due when the gap ends (03:00), so a day is never missed; a
 * time that a fall-back change repeats is due once, at its first occurrence. -1 for a bad hour or
 * minute, or when the C library cannot convert the time.
 */
int64_t imgsync__next_daily_ms(int64_t now_ms, int hour, int minute);

#endif
