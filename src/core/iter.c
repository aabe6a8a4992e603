/* Inventory iterator: a snapshot of the store filtered by a request. */
#include <stdlib.h>

#include "core/ctx.h"
#include "core/image.h"
#include "core/request.h"

struct imgsync_iter {
    struct imgsync_image **rows;
    size_t n;
    size_t pos;
};

int imgsync_iter_new(imgsync_iter **out, imgsync_ctx *ctx, const imgsync_request *req)
{
    if (!out || !ctx)
        return IMGSYNC_EINVAL;
    *out = NULL;
    for (size_t i = 0; req && i < req->nproviders; i++)
        if (!imgsync__ctx_provider(ctx, req->providers[i]))
            return imgsync__ctx_fail(ctx, IMGSYNC_ENOTFOUND, "no provider named '%.64s'", req->providers[i]);
    imgsync_iter *it = calloc(1, sizeof(*it));
    if (!it)
        return IMGSYNC_ENOMEM;
    int rc = imgsync__store_snapshot(ctx->store, &it->rows, &it->n);
    if (rc) {
        free(it);
        return rc;
    }
    if (req) {
        /* keep only what the request selects, in place */
        size_t m = 0;
        for (size_t i = 0; i < it->n; i++) {
            struct imgsync_image *im = it->rows[i];
            imgsync_provider *p = imgsync__ctx_provider(ctx, im->registry);
            int keep = p && imgsync__request_selects_provider(req, im->registry, p->vt->type) &&
                       imgsync__request_selects_repository(req, im->registry, im->namespace_, im->repository) &&
                       imgsync__request_selects_tag(req, im->tag);
            if (keep)
                it->rows[m++] = im;
            else
                imgsync__image_unref(im);
        }
        it->n = m;
    }
    *out = it;
    imgsync__ctx_ok(ctx);
    return 0;
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

size_t imgsync_inventory_count(imgsync_ctx *ctx) { return ctx ? imgsync__store_count(ctx->store) : 0; }
