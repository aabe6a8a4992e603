/* A consumer of the installed library: an in-memory context with one provider, an empty
 * inventory read back. Prints "consumer: libimgsync VERSION, N images" and exits 0, or the
 * error and 1. Built by tests/tools/install-check.sh (pkg-config, static, CMake). */
#include <imgsync.h>

#include <stdio.h>

int main(void)
{
    imgsync_ctx *ctx = NULL;
    imgsync_provider *p = NULL;
    imgsync_iter *it = NULL;
    int rc, n = 0;

    rc = imgsync_ctx_new(&ctx, NULL);
    if (rc == 0)
        rc = imgsync_provider_new(&p, ctx, "oci", "local");
    if (rc == 0)
        rc = imgsync_provider_set(p, "endpoint", "https://registry.example.com");
    if (rc == 0)
        rc = imgsync_iter_new(&it, ctx, NULL);
    while (rc == 0 && imgsync_iter_next(it) != NULL)
        n++;
    if (rc == 0)
        printf("consumer: libimgsync %s, %d images\n", imgsync_version(), n);
    else
        fprintf(stderr, "consumer: %s: %s\n", imgsync_strerror(rc), ctx ? imgsync_ctx_errmsg(ctx) : "");
    imgsync_iter_free(it);
    imgsync_ctx_free(ctx);
    return rc == 0 ? 0 : 1;
}
