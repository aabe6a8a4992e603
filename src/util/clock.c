/* Clocks: the system clock object and reads through any imgsync_clock. */
#include "clock.h"

#include <stddef.h>

#include "imgsync/errors.h"
#include "util/timeutil.h"

static int64_t system_now(void *payload)
{
    (void)payload;
    return imgsync__system_now_ms();
}

static int64_t system_mono(void *payload)
{
    (void)payload;
    return imgsync__system_mono_ms();
}

const imgsync_clock imgsync__system_clock = {IMGSYNC_CLOCK_VERSION, system_now, system_mono, NULL};

int64_t imgsync__clock_now(const imgsync_clock *c)
{
    if (!c)
        c = &imgsync__system_clock;
    return c->now_ms(c->payload);
}

int64_t imgsync__clock_mono(const imgsync_clock *c)
{
    if (!c)
        c = &imgsync__system_clock;
    return c->mono_ms(c->payload);
}

int imgsync__clock_valid(const imgsync_clock *c)
{
    return c && c->version == IMGSYNC_CLOCK_VERSION && c->now_ms && c->mono_ms ? 0 : IMGSYNC_EINVAL;
}

int64_t imgsync__real_mono_ms(void) { return imgsync__system_clock.mono_ms(NULL); }

struct timespec imgsync__real_deadline(int64_t ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += (time_t)(ms / 1000);
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    return ts;
}
