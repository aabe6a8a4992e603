/*
 * minimal - the smallest complete libimgsync program: sync one OCI registry, print its images.
 *
 *   minimal NAME ENDPOINT [USERNAME]      e.g.  minimal local http://127.0.0.1:5000
 *
 * The password, if any, comes from $IMGSYNC_PASSWORD (never from argv, which `ps` shows).
 * imgsync_task_wait() drives the engine in this thread; the README's program and
 * src/cli/commands.c drive it from their own loop.
 */
#include <imgsync.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    const char *password = getenv("IMGSYNC_PASSWORD");
    imgsync_ctx *ctx = NULL;
    imgsync_provider *registry = NULL;
    imgsync_request *everything = NULL;
    imgsync_task *task = NULL;
    imgsync_iter *it = NULL;
    const imgsync_image *im;
    uint64_t id = 0;
    size_t i;
    int rc, state, status = 1;

    if (argc < 3 || argc > 4) {
        fprintf(stderr, "usage: %s NAME ENDPOINT [USERNAME]  (password in $IMGSYNC_PASSWORD)\n",
                argv[0]);
        return 2;
    }
    if ((rc = imgsync_ctx_new(&ctx, NULL)) != 0) { /* NULL: in-memory inventory */
        fprintf(stderr, "imgsync_ctx_new: %s\n", imgsync_strerror(rc));
        return 1;
    }
    /* Each step runs only if the previous ones succeeded; one error report covers them all. */
    rc = imgsync_provider_new(&registry, ctx, "oci", argv[1]);
    if (rc == 0)
        rc = imgsync_provider_set(registry, "endpoint", argv[2]);
    if (rc == 0 && argc == 4)
        rc = imgsync_provider_set(registry, "username", argv[3]);
    if (rc == 0 && password != NULL)
        rc = imgsync_provider_set(registry, "password", password);
    if (rc == 0)
        rc = imgsync_request_new(&everything); /* empty request = every registry, completely */
    if (rc == 0)
        rc = imgsync_sync_start(ctx, everything, &id);
    if (rc == 0)
        rc = imgsync_task_wait(ctx, id, -1); /* 0 once the task has ended, however it ended */
    if (rc == 0)
        rc = imgsync_task_get(&task, ctx, id);
    if (rc == 0)
        rc = imgsync_iter_new(&it, ctx, NULL); /* NULL: the whole inventory */
    if (rc != 0) {
        fprintf(stderr, "error: %s: %s\n", imgsync_strerror(rc), imgsync_ctx_errmsg(ctx));
        goto out;
    }

    state = imgsync_task_state_of(task);
    printf("task %" PRIu64 ": %s\n", id, imgsync_task_state_name(state));
    for (i = 0; i < imgsync_task_registry_count(task); i++) /* why a registry failed, if it did */
        if (*imgsync_task_registry_reason(task, i))
            printf("  %s: %s\n", imgsync_task_registry_name(task, i),
                   imgsync_task_registry_reason(task, i));
    while ((im = imgsync_iter_next(it)) != NULL)
        printf("%s:%s %s %" PRId64 "\n", imgsync_image_repository(im), imgsync_image_tag(im),
               imgsync_image_digest(im), imgsync_image_size(im));
    status = state == IMGSYNC_TASK_SUCCEEDED ? 0 : 1;
out:
    imgsync_iter_free(it);
    imgsync_task_free(task);
    imgsync_request_free(everything);
    imgsync_ctx_free(ctx); /* also frees the provider */
    return status;
}
