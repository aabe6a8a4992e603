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
