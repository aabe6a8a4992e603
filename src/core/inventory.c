/* The inventory as users read it: iterators over a store cursor that the request's filters are
 * pushed into, the row count, and the change feed. */
#include <stdlib.h>

#include "core/ctx.h"
#include "core/request.h"
#include "inventory/image.h"

struct imgsync_iter {
    imgsync__cursor *cur;
};

static int cursor_fail(imgsync_ctx *ctx, int rc, const char *what)
{
    const char *why = imgsync__store_errmsg(ctx->store);
    return imgsync__ctx_fail(ctx, rc, "cannot read %s: %s", what, why[0] ? why : imgsync_strerror(rc));
}

static int iter_open(imgsync_iter **out, imgsync_ctx *ctx, const imgsync_request *req, int check_providers)
{
    if (!ctx)
        return IMGSYNC_EINVAL;
    if (!out)
        return imgsync__ctx_fail(ctx, IMGSYNC_EINVAL, "imgsync_iter_new: out is required");
    *out = NULL;
    for (size_t i = 0; check_providers && req && i < req->nproviders; i++)
        if (!imgsync__ctx_provider(ctx, req->providers[i]))
            return imgsync__ctx_fail(ctx, IMGSYNC_ENOTFOUND, "no provider named '%.64s'", req->providers[i]);
    imgsync__query q;
    imgsync_iter *it = calloc(1, sizeof(*it));
    if (!it || imgsync__request_query(&q, req)) {
        free(it);
        return imgsync__ctx_fail(ctx, IMGSYNC_ENOMEM, "out of memory");
    }
    int rc = imgsync__store_query(ctx->store, &q, &it->cur);
    imgsync__request_query_free(&q);
    if (rc) {
        free(it);
        return cursor_fail(ctx, rc, "the inventory");
    }
    *out = it;
    return imgsync__ctx_ok(ctx);
}

int imgsync_iter_new(imgsync_iter **out, imgsync_ctx *ctx, const imgsync_request *req)
{
    return iter_open(out, ctx, req, 1);
}

int imgsync_iter_new_stored(imgsync_iter **out, imgsync_ctx *ctx, const imgsync_request *req)
{
    return iter_open(out, ctx, req, 0);
}

/* A store failure in the middle ends the iteration (there is no context to report it to). */
const imgsync_image *imgsync_iter_next(imgsync_iter *it)
{
    imgsync__change_row r = {0};
    if (!it || !it->cur || imgsync__cursor_next(it->cur, &r))
        return NULL;
    return r.row;
}

void imgsync_iter_free(imgsync_iter *it)
{
    if (!it)
        return;
    imgsync__cursor_free(it->cur);
    free(it);
}

size_t imgsync_inventory_count(imgsync_ctx *ctx)
{
    if (!ctx)
        return 0;
    imgsync__ctx_ok(ctx);
    return imgsync__store_count(ctx->store);
}

/* ---- the change feed ------------------------------------------------------------------------- */

struct imgsync_change {
    imgsync__change_row r;
};

struct imgsync_changes {
    imgsync__cursor *cur;
    imgsync_change cur_change;
};

int imgsync_changes_new(imgsync_changes **out, imgsync_ctx *ctx, uint64_t task_id, int since)
{
    if (!ctx)
        return IMGSYNC_EINVAL;
    if (!out)
        return imgsync__ctx_fail(ctx, IMGSYNC_EINVAL, "imgsync_changes_new: out is required");
    *out = NULL;
    imgsync_changes *it = calloc(1, sizeof(*it));
    if (!it)
        return imgsync__ctx_fail(ctx, IMGSYNC_ENOMEM, "out of memory");
    int rc = imgsync__store_changes(ctx->store, task_id, since ? 1 : 0, &it->cur);
    if (rc) {
        free(it);
        return cursor_fail(ctx, rc, "the change feed");
    }
    *out = it;
    return imgsync__ctx_ok(ctx);
}

const imgsync_change *imgsync_changes_next(imgsync_changes *it)
{
    if (!it || !it->cur || imgsync__cursor_next(it->cur, &it->cur_change.r) || !it->cur_change.r.row)
        return NULL;
    return &it->cur_change;
}

void imgsync_changes_free(imgsync_changes *it)
{
    if (!it)
        return;
    imgsync__cursor_free(it->cur);
    free(it);
}

int imgsync_change_kind_of(const imgsync_change *c) { return c ? c->r.kind : 0; }
uint64_t imgsync_change_task_id(const imgsync_change *c) { return c ? c->r.task_id : 0; }
const imgsync_image *imgsync_change_image(const imgsync_change *c) { return c ? c->r.row : NULL; }
const char *imgsync_change_old_digest(const imgsync_change *c)
{
    return c && c->r.kind == IMGSYNC__CHANGE_UPDATED && c->r.old_digest ? c->r.old_digest : "";
}
int64_t imgsync_change_old_size(const imgsync_change *c)
{
    return c && c->r.kind == IMGSYNC__CHANGE_UPDATED ? c->r.old_size : -1;
}
