/* The context's clock (imgsync/sys/clock.h). */
#include "core/ctx.h"
#include "util/clock.h"

int imgsync_ctx_set_clock(imgsync_ctx *ctx, const imgsync_clock *clock)
{
    if (!ctx)
        return IMGSYNC_EINVAL;
    if (clock && imgsync__clock_valid(clock))
        return imgsync__ctx_fail(ctx, IMGSYNC_EINVAL, "clock: version must be %d and both functions set",
                                 IMGSYNC_CLOCK_VERSION);
    if (imgsync__ctx_busy(ctx))
        return imgsync__ctx_fail(ctx, IMGSYNC_EBUSY, "the clock cannot change while a task runs");
    ctx->clock = clock ? *clock : imgsync__system_clock;
    imgsync__engine_set_clock(ctx->engine, &ctx->clock);
    return imgsync__ctx_ok(ctx);
}
