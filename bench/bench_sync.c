/*
 * bench_sync - throughput and memory benchmark of a full sync against a seeded registry.
 *
 *   bench_sync [--only LIST] [--no-fork] ENDPOINT EXPECTED.json
 *
 * ENDPOINT is a registry already running and seeded (bench/run.sh starts one and seeds it with
 * `registry.py seed-bulk`); EXPECTED.json is the inventory that seed-bulk wrote. Configurations:
 *   a  default engine settings (16 requests in flight, 8 per host), resolve=full
 *   b  max_connections=1, max_host_connections=1: the sequential "skopeo/crane loop" baseline
 *   c  resolve=digest (HEAD per tag, no size)
 *   d  a second, incremental sync on the context of (a), nothing changed on the registry
 * --only takes letters, e.g. "--only a" (d implies a). Every configuration verifies the
 * inventory against EXPECTED.json (row count and digests; sizes, media types and multi-arch
 * flags too when resolved) and the process exits 1 when anything differs or a sync fails.
 *
 * Each configuration runs in a child process (a and d share one) so that its peak RSS
 * (getrusage ru_maxrss) is its own; --no-fork runs everything in this process (for callgrind).
 * CPU is user+sys of the process over the sync only (libimgsync, libcurl, yajl, OpenSSL).
 */
#include <imgsync.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <yajl/yajl_tree.h>

#define SYNC_TIMEOUT_MS (20 * 60 * 1000)
#define MAX_REPORTED_DIFFS 5

typedef struct expected_row {
    char *repository;
    char *tag;
    char *digest;
    char *media_type;
    int64_t size;
    int multi_arch;
} expected_row;

typedef struct expected {
    expected_row *rows;
    size_t n;
    size_t repositories;
} expected;

typedef struct result {
    char config;
    int ok;
    double wall_ms;
    uint64_t requests, retries, images, added, updated, removed;
    double cpu_ms;
    long maxrss_kib, rss_before_kib;
} result;

/* ---- helpers --------------------------------------------------------------------------------- */

static double mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

static double cpu_ms(const struct rusage *ru)
{
    return (double)(ru->ru_utime.tv_sec + ru->ru_stime.tv_sec) * 1000.0 +
           (double)(ru->ru_utime.tv_usec + ru->ru_stime.tv_usec) / 1000.0;
}

static char *xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = malloc(n);
    if (!p) {
        fprintf(stderr, "bench_sync: out of memory\n");
        exit(1);
    }
    return memcpy(p, s, n);
}

static int row_cmp(const void *pa, const void *pb)
{
    const expected_row *a = pa, *b = pb;
    int c = strcmp(a->repository, b->repository);
    return c ? c : strcmp(a->tag, b->tag);
}

/* ---- expected inventory ------------------------------------------------------------------- */

static const char *json_str(yajl_val obj, const char *key)
{
    const char *path[] = {key, NULL};
    yajl_val v = yajl_tree_get(obj, path, yajl_t_string);
    return v ? YAJL_GET_STRING(v) : NULL;
}

static int load_expected(expected *ex, const char *file)
{
    FILE *f = fopen(file, "rb");
    if (!f) {
        fprintf(stderr, "bench_sync: %s: %s\n", file, strerror(errno));
        return -1;
    }
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap);
    for (size_t got; buf && (got = fread(buf + len, 1, cap - len - 1, f)) > 0;) {
        len += got;
        if (cap - len < 2) {
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
    }
    fclose(f);
    if (!buf) {
        fprintf(stderr, "bench_sync: out of memory reading %s\n", file);
        return -1;
    }
    buf[len] = '\0';
    char err[256];
    yajl_val root = yajl_tree_parse(buf, err, sizeof(err));
    free(buf);
    if (!root || !YAJL_IS_ARRAY(root)) {
        fprintf(stderr, "bench_sync: %s: not a JSON array%s%s\n", file, root ? "" : ": ", root ? "" : err);
        if (root)
            yajl_tree_free(root);
        return -1;
    }
    size_t n = root->u.array.len;
    ex->rows = calloc(n + 1, sizeof(*ex->rows));
    ex->n = 0;
    for (size_t i = 0; ex->rows && i < n; i++) {
        yajl_val o = root->u.array.values[i];
        const char *repo = json_str(o, "repository"), *tag = json_str(o, "tag");
        const char *digest = json_str(o, "digest"), *mt = json_str(o, "media_type");
        const char *size_path[] = {"size", NULL}, *multi_path[] = {"multi_arch", NULL};
        yajl_val size = yajl_tree_get(o, size_path, yajl_t_number);
        yajl_val multi = yajl_tree_get(o, multi_path, yajl_t_any);
        if (!repo || !tag || !digest || !mt || !size || !YAJL_IS_INTEGER(size) || !multi ||
            !(YAJL_IS_TRUE(multi) || YAJL_IS_FALSE(multi))) {
            fprintf(stderr, "bench_sync: %s: row %zu lacks repository/tag/digest/size/media_type/multi_arch\n",
                    file, i);
            yajl_tree_free(root);
            return -1;
        }
        expected_row *r = &ex->rows[ex->n++];
        r->repository = xstrdup(repo);
        r->tag = xstrdup(tag);
        r->digest = xstrdup(digest);
        r->media_type = xstrdup(mt);
        r->size = YAJL_GET_INTEGER(size);
        r->multi_arch = YAJL_IS_TRUE(multi);
    }
    yajl_tree_free(root);
    if (!ex->rows) {
        fprintf(stderr, "bench_sync: out of memory\n");
        return -1;
    }
    qsort(ex->rows, ex->n, sizeof(*ex->rows), row_cmp);
    ex->repositories = 0;
    for (size_t i = 0; i < ex->n; i++)
        if (i == 0 || strcmp(ex->rows[i].repository, ex->rows[i - 1].repository) != 0)
            ex->repositories++;
    return 0;
}

static void free_expected(expected *ex)
{
    for (size_t i = 0; i < ex->n; i++) {
        free(ex->rows[i].repository);
        free(ex->rows[i].tag);
        free(ex->rows[i].digest);
        free(ex->rows[i].media_type);
    }
    free(ex->rows);
    ex->rows = NULL;
    ex->n = 0;
}

/* ---- verification ------------------------------------------------------------------------ */

/* 0 when the inventory of ctx is exactly `ex` (digests always; sizes only if `sized`). */
static int verify_inventory(imgsync_ctx *ctx, const expected *ex, int sized, const char *label)
{
    imgsync_iter *it = NULL;
    int rc = imgsync_iter_new(&it, ctx, NULL);
    if (rc) {
        fprintf(stderr, "bench_sync: %s: imgsync_iter_new: %s\n", label, imgsync_strerror(rc));
        return -1;
    }
    size_t i = 0, diffs = 0, count = 0;
    const imgsync_image *im;
    while ((im = imgsync_iter_next(it)) != NULL) {
        count++;
        const expected_row *want = i < ex->n ? &ex->rows[i] : NULL;
        const char *why = NULL;
        if (!want)
            why = "unexpected extra row";
        else if (strcmp(imgsync_image_repository(im), want->repository) || strcmp(imgsync_image_tag(im), want->tag))
            why = "row is not the expected repository:tag";
        else if (strcmp(imgsync_image_digest(im), want->digest))
            why = "digest differs";
        else if (strcmp(imgsync_image_media_type(im), want->media_type))
            why = "media type differs";
        else if (imgsync_image_multi_arch(im) != want->multi_arch)
            why = "multi-arch flag differs";
        else if (sized && imgsync_image_size(im) != want->size)
            why = "size differs";
        else if (!sized && imgsync_image_size(im) != -1)
            why = "size resolved although resolve=digest";
        if (why && diffs++ < MAX_REPORTED_DIFFS)
            fprintf(stderr, "bench_sync: %s: row %zu %s:%s (%s %" PRId64 "): %s; expected %s:%s (%s %" PRId64 ")\n",
                    label, i, imgsync_image_repository(im), imgsync_image_tag(im), imgsync_image_digest(im),
                    imgsync_image_size(im), why, want ? want->repository : "-", want ? want->tag : "-",
                    want ? want->digest : "-", want ? want->size : (int64_t)0);
        i++;
    }
    imgsync_iter_free(it);
    if (count != ex->n) {
        fprintf(stderr, "bench_sync: %s: the inventory holds %zu rows, expected %zu\n", label, count, ex->n);
        diffs++;
    }
    if (imgsync_inventory_count(ctx) != count) {
        fprintf(stderr, "bench_sync: %s: imgsync_inventory_count() = %zu but the iterator gave %zu rows\n", label,
                imgsync_inventory_count(ctx), count);
        diffs++;
    }
    if (diffs)
        fprintf(stderr, "bench_sync: %s: %zu difference(s) from the expected inventory\n", label, diffs);
    return diffs ? -1 : 0;
}

/* ---- one sync ------------------------------------------------------------------------------- */

static void print_task_failure(const imgsync_task *t, const char *label)
{
    fprintf(stderr, "bench_sync: %s: task ended %s\n", label, imgsync_task_state_name(imgsync_task_state_of(t)));
    for (size_t i = 0; i < imgsync_task_registry_count(t); i++)
        if (*imgsync_task_registry_reason(t, i))
            fprintf(stderr, "  registry %s: %s\n", imgsync_task_registry_name(t, i), imgsync_task_registry_reason(t, i));
    for (size_t i = 0; i < imgsync_task_error_count(t); i++)
        fprintf(stderr, "  error %s %s: %s\n", imgsync_task_error_registry(t, i),
                imgsync_task_error_repository(t, i), imgsync_task_error_message(t, i));
}

/* Run one full sync on ctx, fill r, verify. 0 on success. */
static int run_sync(imgsync_ctx *ctx, const expected *ex, int sized, const char *label, result *r)
{
    imgsync_request *req = NULL;
    imgsync_task *t = NULL;
    uint64_t id = 0;
    struct rusage ru0, ru1;

    int rc = imgsync_request_new(&req); /* empty request: everything */
    getrusage(RUSAGE_SELF, &ru0);
    r->rss_before_kib = ru0.ru_maxrss;
    double t0 = mono_ms();
    if (!rc)
        rc = imgsync_sync_start(ctx, req, &id);
    if (!rc)
        rc = imgsync_task_wait(ctx, id, SYNC_TIMEOUT_MS);
    double t1 = mono_ms();
    getrusage(RUSAGE_SELF, &ru1);
    imgsync_request_free(req);
    if (!rc)
        rc = imgsync_task_get(&t, ctx, id);
    if (rc) {
        fprintf(stderr, "bench_sync: %s: %s: %s\n", label, imgsync_strerror(rc), imgsync_ctx_errmsg(ctx));
        return -1;
    }
    r->wall_ms = t1 - t0;
    r->cpu_ms = cpu_ms(&ru1) - cpu_ms(&ru0);
    r->maxrss_kib = ru1.ru_maxrss;
    r->requests = imgsync_task_counter(t, IMGSYNC_COUNT_REQUESTS);
    r->retries = imgsync_task_counter(t, IMGSYNC_COUNT_RETRIES);
    r->images = imgsync_task_counter(t, IMGSYNC_COUNT_IMAGES_FOUND);
    r->added = imgsync_task_counter(t, IMGSYNC_COUNT_IMAGES_ADDED);
    r->updated = imgsync_task_counter(t, IMGSYNC_COUNT_IMAGES_UPDATED);
    r->removed = imgsync_task_counter(t, IMGSYNC_COUNT_IMAGES_REMOVED);
    int ok = imgsync_task_state_of(t) == IMGSYNC_TASK_SUCCEEDED;
    if (!ok)
        print_task_failure(t, label);
    if (ok && r->images != ex->n) {
        fprintf(stderr, "bench_sync: %s: the task found %" PRIu64 " images, expected %zu\n", label, r->images, ex->n);
        ok = 0;
    }
    imgsync_task_free(t);
    if (verify_inventory(ctx, ex, sized, label))
        ok = 0;
    r->ok = ok;
    return ok ? 0 : -1;
}

static int new_ctx(imgsync_ctx **ctx, const char *endpoint, const char *conns, const char *host_conns,
                   const char *resolve)
{
    imgsync_provider *p = NULL;
    int rc = imgsync_ctx_new(ctx, NULL);
    if (rc) {
        fprintf(stderr, "bench_sync: imgsync_ctx_new: %s\n", imgsync_strerror(rc));
        return -1;
    }
    if (conns)
        rc = imgsync_ctx_set(*ctx, "max_connections", conns);
    if (!rc && host_conns)
        rc = imgsync_ctx_set(*ctx, "max_host_connections", host_conns);
    if (!rc)
        rc = imgsync_provider_new(&p, *ctx, "oci", "bench");
    if (!rc)
        rc = imgsync_provider_set(p, "endpoint", endpoint);
    if (!rc && resolve)
        rc = imgsync_provider_set(p, "resolve", resolve);
    if (rc) {
        fprintf(stderr, "bench_sync: setting up the context: %s: %s\n", imgsync_strerror(rc), imgsync_ctx_errmsg(*ctx));
        imgsync_ctx_free(*ctx);
        *ctx = NULL;
        return -1;
    }
    return 0;
}

/* ---- reporting -------------------------------------------------------------------------- */

static const char *config_name(char c)
{
    switch (c) {
    case 'a': return "a default 16/8";
    case 'b': return "b sequential 1/1";
    case 'c': return "c resolve=digest";
    case 'd': return "d incremental (a's ctx)";
    default: return "?";
    }
}

static void print_result(const result *r)
{
    double s = r->wall_ms / 1000.0;
    printf("%-24s wall %8.1f ms  requests %6" PRIu64 "  %8.0f req/s  %8.0f images/s  peak RSS %7ld KiB (+%ld)"
           "  cpu %7.1f ms = %6.1f us/image",
           config_name(r->config), r->wall_ms, r->requests, s > 0 ? (double)r->requests / s : 0.0,
           s > 0 ? (double)r->images / s : 0.0, r->maxrss_kib, r->maxrss_kib - r->rss_before_kib, r->cpu_ms,
           r->images ? r->cpu_ms * 1000.0 / (double)r->images : 0.0);
    if (r->retries)
        printf("  retries %" PRIu64, r->retries);
    if (r->config == 'd')
        printf("  added/updated/removed %" PRIu64 "/%" PRIu64 "/%" PRIu64, r->added, r->updated, r->removed);
    printf("%s\n", r->ok ? "" : "  FAILED");
    fflush(stdout);
}

/* ---- configurations ------------------------------------------------------------------------- */

/* Run configuration `c` (and 'd' after 'a' when want_d); send each result to `out`. */
static int run_config(char c, int want_d, const char *endpoint, const expected *ex, int out)
{
    imgsync_ctx *ctx = NULL;
    const char *conns = NULL, *host_conns = NULL, *resolve = NULL;
    if (c == 'b')
        conns = host_conns = "1";
    if (c == 'c')
        resolve = "digest";
    if (new_ctx(&ctx, endpoint, conns, host_conns, resolve))
        return -1;
    int status = 0;
    result r;
    memset(&r, 0, sizeof(r));
    r.config = c;
    if (run_sync(ctx, ex, c != 'c', config_name(c), &r))
        status = -1;
    print_result(&r);
    if (write(out, &r, sizeof(r)) != (ssize_t)sizeof(r))
        status = -1;
    if (c == 'a' && want_d && status == 0) {
        memset(&r, 0, sizeof(r));
        r.config = 'd';
        if (run_sync(ctx, ex, 1, config_name('d'), &r))
            status = -1;
        if (r.ok && (r.added || r.removed || r.updated))
            fprintf(stderr, "bench_sync: warning: d: nothing changed on the registry, yet the task counts "
                            "%" PRIu64 " added, %" PRIu64 " updated, %" PRIu64 " removed\n",
                    r.added, r.updated, r.removed);
        print_result(&r);
        if (write(out, &r, sizeof(r)) != (ssize_t)sizeof(r))
            status = -1;
    }
    imgsync_ctx_free(ctx);
    return status;
}

static void usage(const char *argv0)
{
    fprintf(stderr, "usage: %s [--only abcd] [--no-fork] ENDPOINT EXPECTED.json\n", argv0);
}

int main(int argc, char **argv)
{
    const char *only = "abcd";
    int no_fork = 0, i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (!strcmp(argv[i], "--only") && i + 1 < argc) {
            only = argv[++i];
        } else if (!strcmp(argv[i], "--no-fork")) {
            no_fork = 1;
        } else {
            usage(argv[0]);
            return 2;
        }
    }
    if (argc - i != 2 || !*only || strspn(only, "abcd") != strlen(only)) {
        usage(argv[0]);
        return 2;
    }
    const char *endpoint = argv[i], *file = argv[i + 1];
    int want[4] = {0, 0, 0, 0};
    for (const char *p = only; *p; p++)
        want[*p - 'a'] = 1;
    if (want[3])
        want[0] = 1; /* d is the second sync on a's context */

    expected ex = {NULL, 0, 0};
    if (load_expected(&ex, file))
        return 1;
    printf("libimgsync %s: %s, expected %zu tags in %zu repositories%s\n", imgsync_version(), endpoint, ex.n,
           ex.repositories, no_fork ? " (one process)" : "");
    fflush(stdout);

    result res[4];
    int have[4] = {0, 0, 0, 0}, status = 0;
    static const char order[] = "abc";
    for (const char *c = order; *c; c++) {
        if (!want[*c - 'a'])
            continue;
        int fds[2];
        if (pipe(fds)) {
            perror("bench_sync: pipe");
            return 1;
        }
        int rc;
        if (no_fork) {
            rc = run_config(*c, want[3], endpoint, &ex, fds[1]);
        } else {
            fflush(NULL);
            pid_t pid = fork();
            if (pid < 0) {
                perror("bench_sync: fork");
                return 1;
            }
            if (pid == 0) {
                close(fds[0]);
                rc = run_config(*c, want[3], endpoint, &ex, fds[1]);
                fflush(NULL);
                _exit(rc ? 1 : 0);
            }
            int ws = 0;
            while (waitpid(pid, &ws, 0) < 0 && errno == EINTR)
                ;
            rc = (WIFEXITED(ws) && WEXITSTATUS(ws) == 0) ? 0 : -1;
            if (WIFSIGNALED(ws))
                fprintf(stderr, "bench_sync: configuration %c died of signal %d\n", *c, WTERMSIG(ws));
        }
        close(fds[1]);
        result r;
        while (read(fds[0], &r, sizeof(r)) == (ssize_t)sizeof(r))
            if (r.config >= 'a' && r.config <= 'd') {
                res[r.config - 'a'] = r;
                have[r.config - 'a'] = 1;
            }
        close(fds[0]);
        if (rc)
            status = 1;
    }
    for (int k = 0; k < 4; k++)
        if (want[k] && (!have[k] || !res[k].ok))
            status = 1;
    if (have[0] && have[1] && res[0].ok && res[1].ok && res[0].wall_ms > 0)
        printf("speedup of (a) over (b): %.2fx (%.0f ms vs %.0f ms)\n", res[1].wall_ms / res[0].wall_ms,
               res[0].wall_ms, res[1].wall_ms);
    if (status)
        printf("bench_sync: FAILED (see the messages above)\n");
    free_expected(&ex);
    return status;
}
