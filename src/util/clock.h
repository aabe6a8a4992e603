/* Clocks: the system clock object and reads through any imgsync_clock (internal). */
#ifndef IMGSYNC_UTIL_CLOCK_H
#define IMGSYNC_UTIL_CLOCK_H

#include <stdint.h>
#include <time.h>

#include "imgsync/sys/clock.h"

/* The system clocks (CLOCK_REALTIME, CLOCK_MONOTONIC). */
extern const imgsync_clock imgsync__system_clock;

/* Wall time (ms since the epoch, UTC) and monotonic time (ms) of clock c (NULL = system). */
int64_t imgsync__clock_now(const imgsync_clock *c);
int64_t imgsync__clock_mono(const imgsync_clock *c);
/* Thread waits are real: another thread's progress does not follow a fake clock. Monotonic ms
 * of the system, and the absolute CLOCK_MONOTONIC time `ms` from now (for a condition variable
 * set up with that clock). */
int64_t imgsync__real_mono_ms(void);
struct timespec imgsync__real_deadline(int64_t ms);
/* 0 when c is a usable clock (version 1, both functions), else IMGSYNC_EINVAL. */
int imgsync__clock_valid(const imgsync_clock *c);

#endif
