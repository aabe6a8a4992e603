/*
 * bench_registries - cost of a sync in the number of registries (issue 6, item 14).
 *
 *   bench_registries N [N ...]
 *
 * For each N: a context with N "oci" providers (https://rK.example.com), each answering GET /v2/
 * and a catalog of one repository with one tag (resolve=none: no manifest) from the scripted
 * transport of tests/support/fake_transport.c - no network, no server, a fake clock - then one
 * sync of all of them. Prints the client CPU (user+sys, getrusage) of creating the providers and
 * of the sync, and the CPU per registry: with a cost linear in N the per-registry figure stays
 * flat as N grows. The process exits 1 when a sync does not succeed or rows are missing.
 */
#include <imgsync.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "core/ctx.h"
#include "support/fake_clock.h"
#include "support/fake_transport.h"

static double cpu_ms(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000.0 +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1000.0;
}

/* Every registry: /v2/ -> {}, the catalog -> one repository "app", its tags -> one tag. */
static void answer(void *ud, const fake_request *q, fake_reply *out)
{
    (void)ud;
    out->status = 200;
    out->headers = "Content-Type: application/json\nDocker-Distribution-Api-Version: registry/2.0";
    if (strstr(q->url, "/v2/_catalog"))
        out->body = "{\"repositories\":[\"app\"]}";
    else if (strstr(q->url, "/v2/app/tags/list"))
        out->body = "{\"name\":\"app\",\"tags\":[\"1.0\"]}";
    else if (q->url[strlen(q->url) - 1] == '/')
        out->body = "{}";
    else
        out->status = 404;
}

static int run(long n)
{
    fake_clock clock;
    fake_clock_init(&clock);
    imgsync_ctx *ctx = NULL;
    fake_transport *ft = NULL;
    if (imgsync_ctx_new(&ctx, NULL) || !(ft = fake_new(&clock)) || imgsync__ctx_set_transport(ctx, fake_base(ft)) ||
        imgsync_ctx_set_clock(ctx, &clock.clock)) {
        fprintf(stderr, "bench_registries: cannot set up a context\n");
        imgsync_ctx_free(ctx);
        return 1;
    }
    fake_set_fallback(ft, answer, NULL);
    double t0 = cpu_ms();
    for (long i = 0; i < n; i++) {
        char name[32], endpoint[64];
        snprintf(name, sizeof(name), "r%ld", i);
        snprintf(endpoint, sizeof(endpoint), "https://r%ld.example.com", i);
        imgsync_provider *p = NULL;
        if (imgsync_provider_new(&p, ctx, "oci", name) || imgsync_provider_set(p, "endpoint", endpoint) ||
            imgsync_provider_set(p, "resolve", "none")) {
            fprintf(stderr, "bench_registries: provider %ld: %s\n", i, imgsync_ctx_errmsg(ctx));
            imgsync_ctx_free(ctx);
            return 1;
        }
    }
    double t1 = cpu_ms();
    uint64_t id = 0;
    int rc = imgsync_sync_start(ctx, NULL, &id);
    if (!rc)
        rc = imgsync_task_wait(ctx, id, -1);
    double t2 = cpu_ms();
    imgsync_task *t = NULL;
    int ok = !rc && !imgsync_task_get(&t, ctx, id) && imgsync_task_state_of(t) == IMGSYNC_TASK_SUCCEEDED &&
             imgsync_inventory_count(ctx) == (size_t)n;
    printf("%7ld registries: providers %8.1f ms CPU, sync %8.1f ms CPU (%6.1f us per registry), %llu requests%s\n", n,
           t1 - t0, t2 - t1, (t2 - t1) * 1000.0 / (double)n,
           (unsigned long long)(t ? imgsync_task_counter(t, IMGSYNC_COUNT_REQUESTS) : 0), ok ? "" : "  FAILED");
    imgsync_task_free(t);
    imgsync_ctx_free(ctx);
    return ok ? 0 : 1;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: bench_registries N [N ...]\n");
        return 2;
    }
    int status = 0;
    for (int i = 1; i < argc; i++) {
        long n = strtol(argv[i], NULL, 10);
        if (n < 1) {
            fprintf(stderr, "bench_registries: N must be a positive integer\n");
            return 2;
        }
        status |= run(n);
    }
    return status;
}
