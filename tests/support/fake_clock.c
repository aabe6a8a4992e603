/* A fake clock for tests. */
#include "fake_clock.h"

static int64_t fc_now(void *p) { return ((fake_clock *)p)->wall_ms; }
static int64_t fc_mono(void *p) { return ((fake_clock *)p)->mono_ms; }

void fake_clock_init(fake_clock *fc)
{
    fc->wall_ms = 1767225600000LL; /* 2026-01-01T00:00:00Z */
    fc->mono_ms = 1000000;
    fc->clock.version = IMGSYNC_CLOCK_VERSION;
    fc->clock.now_ms = fc_now;
    fc->clock.mono_ms = fc_mono;
    fc->clock.payload = fc;
}

void fake_clock_advance(fake_clock *fc, int64_t ms)
{
    if (ms > 0) {
        fc->wall_ms += ms;
        fc->mono_ms += ms;
    }
}
