/* A fake clock for tests: time moves only when the test (or the fake transport) moves it. */
#ifndef IMGSYNC_TESTS_FAKE_CLOCK_H
#define IMGSYNC_TESTS_FAKE_CLOCK_H

#include <stdint.h>

#include "imgsync/sys/clock.h"

typedef struct fake_clock {
    int64_t wall_ms; /* ms since the epoch */
    int64_t mono_ms;
    imgsync_clock clock; /* points at this struct: give &fc->clock to imgsync_ctx_set_clock */
} fake_clock;

/* Start at wall 2026-01-01T00:00:00Z, mono 1000000. */
void fake_clock_init(fake_clock *fc);
void fake_clock_advance(fake_clock *fc, int64_t ms);

#endif
