/*
 * libimgsync sys tier: the clock seam.
 *
 * Every time the library reads - task timestamps, sync times, deadlines, retry backoff and
 * Retry-After, token lifetimes - comes from its context's clock. An embedder (or a test) can
 * replace it: a fake clock makes timing behaviour deterministic and lets a test "wait" for a
 * backoff without sleeping.
 */
#ifndef IMGSYNC_SYS_CLOCK_H
#define IMGSYNC_SYS_CLOCK_H

#include <stdint.h>

#include "../ctx.h"
#include "../export.h"

#ifdef __cplusplus
extern "C" {
#endif

#define IMGSYNC_CLOCK_VERSION 1

typedef struct imgsync_clock {
    unsigned int version; /* IMGSYNC_CLOCK_VERSION */
    /* Wall clock: ms since the epoch (UTC). */
    int64_t (*now_ms)(void *payload);
    /* Monotonic clock in ms (any origin; never goes back). */
    int64_t (*mono_ms)(void *payload);
    void *payload;
} imgsync_clock;

/*
 * Use `clock` (copied; the payload must outlive the context) for every later time read on ctx;
 * NULL restores the system clocks. Network waits still happen in real time: a fake clock only
 * moves when its owner moves it. Errors: EINVAL (bad version or missing member), EBUSY while a
 * task runs.
 */
IMGSYNC_EXTERN int imgsync_ctx_set_clock(imgsync_ctx *ctx, const imgsync_clock *clock);

#ifdef __cplusplus
}
#endif
#endif /* IMGSYNC_SYS_CLOCK_H */
