/* Clocks: the system clock object and reads through any imgsync_clock (internal). */
#ifndef IMGSYNC_UTIL_CLOCK_H
#define IMGSYNC_UTIL_CLOCK_H

#include <stdint.h>

#include "imgsync/sys/clock.h"

/* The system clocks (CLOCK_REALTIME, CLOCK_MONOTONIC). */
extern const imgsync_clock imgsync__system_clock;

/* Wall time (ms since the epoch, UTC) and monotonic time (ms) of clock c (NULL = system). */
int64_t imgsync__clock_now(const imgsync_clock *c);
int64_t imgsync__clock_mono(const imgsync_clock *c);
/* 0 when c is a usable clock (version 1, both functions), else IMGSYNC_EINVAL. */
int imgsync__clock_valid(const imgsync_clock *c);

#endif
