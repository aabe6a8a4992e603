/* The perform driver: advances tasks and runs the engine from the embedder's loop. */
#include "core/ctx.h"

static int step_all(imgsync_ctx *ctx)
{
    int active = 0;
    for (size_t i = 0; i < ctx->ntasks; i++)
        active += imgsync__task_step(ctx->tasks[i]);
    return active;
}

int imgsync_ctx_perform(imgsync_ctx *ctx, int timeout_ms)
{
    if (!ctx)
        return IMGSYNC_EINVAL;
    if (ctx->in_perform)
        return imgsync__ctx_fail(ctx, IMGSYNC_EBUSY, "imgsync_ctx_perform called from a callback");
    ctx->in_perform = 1;
    int active = step_all(ctx);
    if (active) {
        imgsync__engine_perform(ctx->engine, timeout_ms < 0 ? 0 : timeout_ms);
        active = step_all(ctx);
    }
    ctx->in_perform = 0;
    imgsync__ctx_ok(ctx);
    return active;
}
