/* The inventory as users read it: iterators over a snapshot of the store filtered by a request,
 * and the row count. */
#include <stdlib.h>

#include "core/ctx.h"
#include "core/request.h"
#include "inventory/image.h"

struct imgsync_iter {
    struct imgsync_image **rows;
    size_t n;
    size_t pos;
};

static int keep(const imgsync_request *req, const struct imgsync_image *im)
{
    const char *registry = im->v[IMGSYNC__F_registry].s;
    return imgsync__request_selects_provider(req, registry, &im->type, 1) &&
           imgsync__request_selects_repository(req, registry, im->v[IMGSYNC__F_namespace].s,
                                               im->v[IMGSYNC__F_repository].s) &&
           imgsync__request_selects_tag(req, im->v[IMGSYNC__F_tag].s);
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
    imgsync_iter *it = calloc(1, sizeof(*it));
    if (!it)
        return imgsync__ctx_fail(ctx, IMGSYNC_ENOMEM, "out of memory");
    int rc = imgsync__store_snapshot(ctx->store, &it->rows, &it->n);
    if (rc) {
        free(it);
        return imgsync__ctx_fail(ctx, rc, "cannot read the inventory: %s", imgsync_strerror(rc));
    }
    if (req) { /* keep only what the request selects, in place */
        size_t m = 0;
        for (size_t i = 0; i < it->n; i++) {
            if (keep(req, it->rows[i]))
                it->rows[m++] = it->rows[i];
            else
                imgsync__image_unref(it->rows[i]);
        }
        it->n = m;
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

const imgsync_image *imgsync_iter_next(imgsync_iter *it)
{
    if (!it || it->pos >= it->n)
        return NULL;
    return it->rows[it->pos++];
}

void imgsync_iter_free(imgsync_iter *it)
{
    if (!it)
        return;
    for (size_t i = 0; i < it->n; i++)
        imgsync__image_unref(it->rows[i]);
    free(it->rows);
    free(it);
}

size_t imgsync_inventory_count(imgsync_ctx *ctx)
{
    if (!ctx)
        return 0;
    imgsync__ctx_ok(ctx);
    return imgsync__store_count(ctx->store);
}
