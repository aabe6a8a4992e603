/*
 * bench_million - one million images into a SQLite inventory (`make bench-million`, and the last
 * step of `make bench`).
 *
 *   bench_million [IMAGES]      (default 1000000; e.g. `build/bench_million 100000` for a quick run)
 *
 * The registry is a synthetic provider kind, "bench-synth", registered through the public SPI
 * (imgsync_provider_register) and written like a real provider: a paged catalog
 * (GET /v2/_catalog?n=1000, Link rel="next") read with the library's streaming string-array
 * parser, then per repository a paged tag listing with details (GET /v2/REPO/tags/detail?n=100:
 * name, digest, size, update time of each tag) parsed into a yajl tree with the library's JSON
 * helpers, one imgsync_record_* row per tag, the scope marked listed after its last page; the
 * catalog is expanded through the bounded job queue (has_room/defer). The jobs are answered by
 * the scripted in-process transport of tests/support/fake_transport.c (no sockets), whose fallback
 * generates every page deterministically: IMAGES / 100 repositories "nsNNN/appNNNNNN" of 100 tags
 * "1.0.N", each with a sha256 digest, a size and an RFC 3339 update time derived from a hash of
 * (repository, tag).
 *
 * Phases, on a fresh "sqlite:" file in a temporary directory (removed at the end with its -wal
 * and -shm, also on SIGINT/SIGTERM):
 *   1. first sync: images/s (wall), library CPU per image, peak RSS;
 *   2. re-sync of the unchanged registry: added/updated/removed must be IMAGES/0/0 for sync 1
 *      and 0/0/0 for sync 2;
 *   3. every row read back with imgsync_iter_new/imgsync_iter_next: rows/s and the RSS (and
 *      malloc heap) growth during the iteration, sampled every 10,000 rows.
 *
 * Library CPU = getrusage(RUSAGE_SELF) user+sys across imgsync_sync_start .. imgsync_task_wait,
 * minus the CPU of generating the responses. That generator cost is measured alone before the
 * syncs: the same code generates every page of the walk once, following its own Link headers,
 * timed with getrusage; it is the figure subtracted. As a cross-check, the CPU the generator
 * takes inside the transport during each sync is also measured (CLOCK_THREAD_CPUTIME_ID around
 * each call) and printed. The scripted transport's own copying of requests and replies is
 * counted as library CPU (it stands in for libcurl).
 *
 * Targets (PASS/FAIL printed, exit status 0 either way: this is a measurement): peak RSS of the
 * syncs <= 64 MiB (ru_maxrss before the iteration; the whole run's is printed too), library CPU
 * <= 10 us per image for parse + store (sync 1), and a flat iteration: RSS growth <= 16 MiB.
 *
 * Under callgrind (`make bench-million-callgrind`) each phase is dumped on its own
 * (CALLGRIND_DUMP_STATS_AT: setup and generator, sync 1, sync 2, iterate). The exit status is 1 when a sync
 * fails, the counters or the row count are wrong, or a sampled row differs from what the
 * registry served; 2 for a bad command line.
 */
#include <imgsync.h>
#include <imgsync/sys/provider.h>

#include <errno.h>
#include <malloc.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#if defined(__has_include)
#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#endif
#endif
#ifndef CALLGRIND_DUMP_STATS_AT
#define CALLGRIND_DUMP_STATS_AT(what) ((void)0)
#endif

#include "core/ctx.h"
#include "providers/common.h"
#include "support/fake_clock.h"
#include "support/fake_transport.h"
#include "util/buf.h"
#include "util/json.h"
#include "util/names.h"
#include "util/timeutil.h"

#define KIND "bench-synth"
#define ENDPOINT "https://synth.example.com"
#define TAGS_PER_REPO 100
#ifndef CATALOG_PAGE
#define CATALOG_PAGE 1000
#endif
#ifndef TAG_PAGE
#define TAG_PAGE 100 /* -DTAG_PAGE=N to page the tag listings too */
#endif
#define TARGET_RSS_MIB 64.0
#define TARGET_US_PER_IMAGE 10.0
#define TARGET_ITER_GROWTH_MIB 16.0 /* "flat": a cursor's caches, not a copy of the rows */

/* ==== the synthetic provider (what a third-party kind would ship) ==================================== */

enum { K_CATALOG = 1, K_TAGS = 2 };

/* Harness hook called after each response (the bench empties the transport's request log there,
 * which would otherwise grow by ~1 KB per request); not something a provider does. */
static void (*synth_after_response)(void);

typedef struct synth_run {
    imgsync__pager catalog;
    int pager_ready;
} synth_run;

/* The tag listing of one repository, shared by its page jobs. */
typedef struct tag_walk {
    int refs;
    char *repo;
    imgsync__pager pager;
} tag_walk;

static void synth_run_free(void *p)
{
    synth_run *st = p;
    if (st && st->pager_ready)
        imgsync__pager_clear(&st->catalog);
    free(st);
}

static void walk_unref(void *p)
{
    tag_walk *w = p;
    if (!w || --w->refs > 0)
        return;
    imgsync__pager_clear(&w->pager);
    free(w->repo);
    free(w);
}

static int submit_tags(imgsync_run *run, tag_walk *w, const char *url)
{
    w->refs++;
    imgsync__pv_job j = {"GET", url, K_TAGS, "", w->repo, "Accept: application/json", IMGSYNC_AUTH_NONE, w,
                         walk_unref, NULL};
    return imgsync__pv_submit(run, &j);
}

static int submit_catalog(imgsync_run *run, const char *url)
{
    imgsync__pv_job j = {"GET", url, K_CATALOG, NULL, NULL, "Accept: application/json", IMGSYNC_AUTH_NONE, NULL,
                         NULL, NULL};
    return imgsync__pv_submit(run, &j);
}

static int synth_start(imgsync_run *run)
{
    synth_run *st = calloc(1, sizeof(*st));
    if (!st)
        return IMGSYNC_ENOMEM;
    imgsync__pager_init(&st->catalog, run);
    st->pager_ready = 1;
    imgsync_run_set_data(run, st, synth_run_free);
    if (imgsync_run_mode_of(run) == IMGSYNC_RUN_CHECK)
        return 0;
    char url[64];
    snprintf(url, sizeof(url), "/v2/_catalog?n=%d", CATALOG_PAGE);
    return submit_catalog(run, url);
}

/* One repository of a catalog page: declare its scope and ask for its first tag page. */
static int catalog_item(imgsync_run *run, void *ctx, const char *name)
{
    (void)ctx;
    if (!imgsync__name_repository_ok(name))
        return imgsync_run_scope_fail(run, "", name, IMGSYNC_EPROTOCOL, "the catalog lists an invalid repository name");
    if (!imgsync_run_wants_repository(run, name))
        return 0;
    int rc = imgsync_run_scope_begin(run, "", name);
    tag_walk *w = rc ? NULL : calloc(1, sizeof(*w));
    if (rc || !w || !(w->repo = imgsync__strdup(name))) {
        free(w);
        return rc ? rc : IMGSYNC_ENOMEM;
    }
    w->refs = 1;
    imgsync__pager_init(&w->pager, run);
    char *url = imgsync__asprintf("/v2/%s/tags/detail?n=%d", name, TAG_PAGE);
    rc = url ? submit_tags(run, w, url) : IMGSYNC_ENOMEM;
    free(url);
    walk_unref(w);
    return rc;
}

static int on_catalog(imgsync_run *run, const imgsync_job *job, const imgsync_response *resp)
{
    synth_run *st = imgsync_run_data(run);
    if (imgsync_response_error(resp) || imgsync_response_status(resp) != 200)
        return imgsync_run_fail_response(run, job, resp);
    size_t len;
    const char *body = imgsync_response_body(resp, &len);
    uint64_t room = st->catalog.max_items > st->catalog.items ? st->catalog.max_items - st->catalog.items : 0;
    imgsync__strlist items = {0};
    int present = 0;
    char err[96], why[300];
    int rc = imgsync__json_string_array(body, len, "repositories", (size_t)room, &items, &present, err, sizeof(err));
    if (rc == IMGSYNC_ENOMEM)
        return rc;
    if (rc || !present) {
        snprintf(why, sizeof(why), "GET /v2/_catalog: not a repository list (%s)", rc ? err : "member missing");
        imgsync_run_fail(run, rc ? rc : IMGSYNC_EPROTOCOL, why);
        return 0;
    }
    const char *next = NULL;
    rc = imgsync__pager_read(&st->catalog, imgsync_job_url(job), items.n, why, sizeof(why));
    if (!rc)
        rc = imgsync__pager_next(&st->catalog, resp, &next, why, sizeof(why));
    if (rc) {
        imgsync__strlist_free(&items);
        if (rc != IMGSYNC_ENOMEM)
            imgsync_run_fail(run, rc, why);
        return rc == IMGSYNC_ENOMEM ? rc : 0;
    }
    if (next) {
        char *copy = imgsync__strdup(next); /* borrowed from resp */
        rc = copy ? submit_catalog(run, copy) : IMGSYNC_ENOMEM;
        free(copy);
    } else {
        rc = imgsync_run_catalog_complete(run);
    }
    int frc = imgsync__pv_foreach(run, "", NULL, &items, catalog_item, NULL, NULL);
    return rc ? rc : frc;
}

static int64_t time_ms(const char *s)
{
    int64_t ms = 0;
    return s && !imgsync__parse_rfc3339_ms(s, &ms) ? ms : 0;
}

static int on_tags(imgsync_run *run, const imgsync_job *job, const imgsync_response *resp)
{
    tag_walk *w = imgsync_job_data(job);
    if (imgsync_response_error(resp) || imgsync_response_status(resp) != 200) {
        imgsync_run_fail_response(run, job, resp); /* fails this scope */
        return 0;
    }
    size_t len;
    const char *body = imgsync_response_body(resp, &len);
    char err[64];
    yajl_val root = imgsync__json_parse(body, len, err, sizeof(err));
    yajl_val tags = root && YAJL_IS_OBJECT(root) ? imgsync__json_array(root, "tags") : NULL;
    if (!tags) {
        imgsync__json_free(root);
        return imgsync_run_scope_fail(run, "", w->repo, IMGSYNC_EPROTOCOL, "tag list is not a JSON object with tags"),
               0;
    }
    int rc = 0;
    for (size_t i = 0; i < tags->u.array.len && !rc; i++) {
        yajl_val t = tags->u.array.values[i];
        const char *name = imgsync__json_string(t, "name");
        if (!name || !*name || !imgsync_run_wants_tag(run, name))
            continue;
        imgsync_record *r = imgsync_record_new(run, w->repo, name);
        if (!r) {
            rc = IMGSYNC_ENOMEM;
            break;
        }
        int64_t size = -1;
        imgsync__json_int(t, "size", &size);
        rc = imgsync_record_set_digest(r, imgsync__json_string(t, "digest"));
        imgsync_record_set_size(r, size);
        imgsync_record_set_update_ms(r, time_ms(imgsync__json_string(t, "updated")));
        if (rc)
            imgsync_record_free(r);
        else
            rc = imgsync_record_emit(run, r);
    }
    size_t n = tags->u.array.len;
    imgsync__json_free(root);
    if (rc)
        return rc;
    char why[300];
    const char *next = NULL;
    rc = imgsync__pager_read(&w->pager, imgsync_job_url(job), n, why, sizeof(why));
    if (!rc)
        rc = imgsync__pager_next(&w->pager, resp, &next, why, sizeof(why));
    if (rc && rc != IMGSYNC_ENOMEM)
        return imgsync_run_scope_fail(run, "", w->repo, rc, why), 0;
    if (rc)
        return rc;
    if (!next)
        return imgsync_run_scope_listed(run, "", w->repo);
    char *copy = imgsync__strdup(next);
    rc = copy ? submit_tags(run, w, copy) : IMGSYNC_ENOMEM;
    free(copy);
    return rc;
}

static int synth_on_response(imgsync_run *run, imgsync_job *job, const imgsync_response *resp)
{
    int rc;
    switch (imgsync_job_kind(job)) {
    case K_CATALOG: rc = on_catalog(run, job, resp); break;
    case K_TAGS: rc = on_tags(run, job, resp); break;
    default: rc = IMGSYNC_EINTERNAL; break;
    }
    if (synth_after_response)
        synth_after_response();
    return rc;
}

static const imgsync_provider_vtable synth_vtable = {
    .version = IMGSYNC_PROVIDER_VTABLE_VERSION,
    .kind = KIND,
    .type = IMGSYNC_TYPE_OCI,
    .start = synth_start,
    .on_response = synth_on_response,
};

/* ==== the synthetic registry (the generator behind the scripted transport) ============================= */

typedef struct dataset {
    long images, repos;
} dataset;

static long tags_of(const dataset *ds, long repo)
{
    long left = ds->images - repo * TAGS_PER_REPO;
    return left < TAGS_PER_REPO ? left : TAGS_PER_REPO;
}

static uint64_t mix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

/* What the registry holds for tag t of repository r. */
typedef struct tag_info {
    char digest[72];
    int64_t size;
    int64_t update_ms;
} tag_info;

#define BASE_MS 1735689600000LL /* 2025-01-01T00:00:00Z */

static void tag_info_of(long r, long t, tag_info *ti)
{
    static const char hex[] = "0123456789abcdef";
    uint64_t h = mix(((uint64_t)r << 20) ^ (uint64_t)t);
    memcpy(ti->digest, "sha256:", 7);
    for (int i = 0; i < 4; i++) {
        uint64_t v = h = mix(h + (uint64_t)i);
        for (int k = 0; k < 16; k++, v >>= 4)
            ti->digest[7 + 16 * i + k] = hex[v & 15];
    }
    ti->digest[71] = '\0';
    ti->size = 1000000 + (int64_t)(h % 500000000);
    ti->update_ms = BASE_MS + (int64_t)(mix(h) % (365LL * 86400000));
}

static void repo_name(long r, char *out, size_t n) { snprintf(out, n, "ns%03ld/app%06ld", r % 100, r); }

/* Repository index of "nsNNN/appNNNNNN", -1 for anything else. */
static long repo_index(const char *name, size_t len)
{
    char buf[32];
    long r = -1;
    if (len >= sizeof(buf))
        return -1;
    memcpy(buf, name, len);
    buf[len] = '\0';
    const char *a = strstr(buf, "/app");
    if (!a || sscanf(a + 4, "%ld", &r) != 1)
        return -1;
    char check[32];
    repo_name(r, check, sizeof(check));
    return strcmp(check, buf) ? -1 : r;
}

/* Decimal digits of v at p; returns the end. */
static char *put_u64(char *p, uint64_t v)
{
    char tmp[24];
    int n = 0;
    do
        tmp[n++] = (char)('0' + v % 10);
    while ((v /= 10));
    while (n)
        *p++ = tmp[--n];
    return p;
}

static char *put_2(char *p, int v)
{
    *p++ = (char)('0' + v / 10);
    *p++ = (char)('0' + v % 10);
    return p;
}

/* RFC 3339 with milliseconds of an update time (always in 2025, a common year: BASE_MS + less
 * than 365 days), written by hand: the generator must cost little next to the library. */
static char *put_time(char *p, int64_t ms)
{
    static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int64_t off = ms - BASE_MS;
    int day = (int)(off / 86400000), month = 0;
    int64_t in_day = off % 86400000;
    while (day >= mdays[month])
        day -= mdays[month++];
    memcpy(p, "2025-", 5);
    p = put_2(p + 5, month + 1);
    *p++ = '-';
    p = put_2(p, day + 1);
    *p++ = 'T';
    p = put_2(p, (int)(in_day / 3600000));
    *p++ = ':';
    p = put_2(p, (int)(in_day / 60000 % 60));
    *p++ = ':';
    p = put_2(p, (int)(in_day / 1000 % 60));
    *p++ = '.';
    *p++ = (char)('0' + in_day % 1000 / 100);
    p = put_2(p, (int)(in_day % 100));
    *p++ = 'Z';
    return p;
}

typedef struct generator {
    dataset ds;
    char *body;
    size_t len, cap;
    char headers[512];
    long pages;
    uint64_t bytes;
    int64_t inline_ns; /* CPU inside the transport's fallback (CLOCK_THREAD_CPUTIME_ID) */
} generator;

static void put(generator *g, const char *s, size_t n)
{
    if (g->len + n + 1 > g->cap) {
        size_t cap = g->cap ? g->cap : 65536;
        while (g->len + n + 1 > cap)
            cap *= 2;
        char *b = realloc(g->body, cap);
        if (!b) {
            fprintf(stderr, "bench_million: out of memory\n");
            exit(1);
        }
        g->body = b;
        g->cap = cap;
    }
    memcpy(g->body + g->len, s, n);
    g->len += n;
    g->body[g->len] = '\0';
}

static void puts_(generator *g, const char *s) { put(g, s, strlen(s)); }

/* Value of query parameter `key` in url (up to '&' or the end) in out; 0 when absent. */
static int query_param(const char *url, const char *key, char *out, size_t n)
{
    const char *q = strchr(url, '?');
    size_t klen = strlen(key);
    for (const char *p = q; p && *p; p = strchr(p + 1, '&')) {
        if (!strncmp(p + 1, key, klen) && p[1 + klen] == '=') {
            const char *v = p + 2 + klen;
            size_t vlen = strcspn(v, "&");
            if (vlen >= n)
                return 0;
            memcpy(out, v, vlen);
            out[vlen] = '\0';
            return 1;
        }
    }
    return 0;
}

/* Generate the page at url (absolute or a path): status 200 with g->body and g->headers, or 404. */
static int generate(generator *g, const char *url)
{
    const char *path = strstr(url, "/v2/");
    g->len = 0;
    g->headers[0] = '\0';
    if (g->body)
        g->body[0] = '\0';
    if (!path)
        return 404;
    char last[64], nbuf[16];
    long per = query_param(path, "n", nbuf, sizeof(nbuf)) ? strtol(nbuf, NULL, 10) : 100;
    if (per < 1 || per > 10000)
        per = 100;
    char item[512];
    if (!strncmp(path, "/v2/_catalog", 12)) {
        long first = 0;
        if (query_param(path, "last", last, sizeof(last))) {
            long r = repo_index(last, strlen(last));
            if (r < 0)
                return 404;
            first = r + 1;
        }
        puts_(g, "{\"repositories\":[");
        long end = first + per < g->ds.repos ? first + per : g->ds.repos;
        for (long r = first; r < end; r++) {
            char name[32];
            repo_name(r, name, sizeof(name));
            int n = snprintf(item, sizeof(item), "%s\"%s\"", r > first ? "," : "", name);
            put(g, item, (size_t)n);
        }
        puts_(g, "]}");
        int n = snprintf(g->headers, sizeof(g->headers), "Content-Type: application/json");
        if (end < g->ds.repos) {
            char name[32];
            repo_name(end - 1, name, sizeof(name));
            snprintf(g->headers + n, sizeof(g->headers) - (size_t)n,
                     "\nLink: </v2/_catalog?n=%ld&last=%s>; rel=\"next\"", per, name);
        }
    } else {
        const char *rs = path + 4, *re = strstr(rs, "/tags/detail");
        long r = re ? repo_index(rs, (size_t)(re - rs)) : -1;
        if (r < 0 || r >= g->ds.repos)
            return 404;
        long first = 0, ntags = tags_of(&g->ds, r);
        if (query_param(path, "last", last, sizeof(last))) {
            long t = -1;
            if (sscanf(last, "1.0.%ld", &t) != 1 || t < 0 || t >= ntags)
                return 404;
            first = t + 1;
        }
        long end = first + per < ntags ? first + per : ntags;
        char name[32];
        repo_name(r, name, sizeof(name));
        puts_(g, "{\"name\":\"");
        puts_(g, name);
        puts_(g, "\",\"tags\":[");
        for (long t = first; t < end; t++) {
            tag_info ti;
            tag_info_of(r, t, &ti);
            char *p = item;
            if (t > first)
                *p++ = ',';
            memcpy(p, "{\"name\":\"1.0.", 13);
            p = put_u64(p + 13, (uint64_t)t);
            memcpy(p, "\",\"digest\":\"", 12);
            memcpy(p + 12, ti.digest, 71);
            memcpy(p + 83, "\",\"size\":", 9);
            p = put_u64(p + 92, (uint64_t)ti.size);
            memcpy(p, ",\"updated\":\"", 12);
            p = put_time(p + 12, ti.update_ms);
            memcpy(p, "\"}", 2);
            put(g, item, (size_t)(p + 2 - item));
        }
        puts_(g, "]}");
        int n = snprintf(g->headers, sizeof(g->headers), "Content-Type: application/json");
        if (end < ntags)
            snprintf(g->headers + n, sizeof(g->headers) - (size_t)n,
                     "\nLink: </v2/%s/tags/detail?n=%ld&last=1.0.%ld>; rel=\"next\"", name, per, end - 1);
    }
    g->pages++;
    g->bytes += g->len;
    return 200;
}

static int64_t thread_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* The transport's fallback: every request the bench did not script (all of them). */
static void answer(void *ud, const fake_request *q, fake_reply *out)
{
    generator *g = ud;
    int64_t t0 = thread_cpu_ns();
    out->status = strcmp(q->method, "GET") ? 405 : generate(g, q->url);
    out->headers = g->headers[0] ? g->headers : "Content-Type: application/json";
    out->body = out->status == 200 ? g->body : "{\"errors\":[{\"code\":\"NAME_UNKNOWN\",\"message\":\"not found\"}]}";
    out->body_len = out->status == 200 ? g->len : 0;
    g->inline_ns += thread_cpu_ns() - t0;
}

/* The rel="next" path of headers ("</v2/...>; rel=\"next\"") into out; 0 when there is none. */
static int next_link(const char *headers, char *out, size_t n)
{
    const char *l = strstr(headers, "Link: <"), *e = l ? strchr(l + 7, '>') : NULL;
    if (!e || (size_t)(e - (l + 7)) >= n)
        return 0;
    memcpy(out, l + 7, (size_t)(e - (l + 7)));
    out[e - (l + 7)] = '\0';
    return 1;
}

static double sys_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static double cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) + (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/* Generate every page of the walk once, following the Link headers, as the sync will ask for them:
 * the CPU seconds that takes. */
static double time_generator_alone(generator *g)
{
    char url[256];
    long pages0 = g->pages;
    uint64_t bytes0 = g->bytes;
    double t0 = cpu_s();
    snprintf(url, sizeof(url), "/v2/_catalog?n=%d", CATALOG_PAGE);
    for (long page = 0;; page++) {
        if (generate(g, url) != 200)
            return -1;
        int more = next_link(g->headers, url, sizeof(url));
        /* then the tag pages of the repositories this catalog page lists */
        long end = (page + 1) * CATALOG_PAGE < g->ds.repos ? (page + 1) * CATALOG_PAGE : g->ds.repos;
        for (long r = page * CATALOG_PAGE; r < end; r++) {
            char name[32], turl[256];
            repo_name(r, name, sizeof(name));
            snprintf(turl, sizeof(turl), "/v2/%s/tags/detail?n=%d", name, TAG_PAGE);
            do {
                if (generate(g, turl) != 200)
                    return -1;
            } while (next_link(g->headers, turl, sizeof(turl)));
        }
        if (!more)
            break;
    }
    double t = cpu_s() - t0;
    g->pages = pages0; /* the counts are those of the syncs */
    g->bytes = bytes0;
    return t;
}

/* ==== measurements ===================================================================================== */

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double maxrss_mib(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_maxrss / 1024.0; /* kB on Linux */
}

/* A "Vm...:  N kB" line of /proc/self/status in MiB, -1 when unreadable. */
static double proc_status_mib(const char *key)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    double v = -1;
    size_t klen = strlen(key);
    while (f && fgets(line, sizeof(line), f))
        if (!strncmp(line, key, klen) && line[klen] == ':') {
            v = strtod(line + klen + 1, NULL) / 1024.0;
            break;
        }
    if (f)
        fclose(f);
    return v;
}

/* Bytes the malloc heap has handed out (glibc), 0 elsewhere. */
static double heap_mib(void)
{
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
    struct mallinfo2 mi = mallinfo2();
    return (double)(mi.uordblks + mi.hblkhd) / 1048576.0;
#else
    return 0;
#endif
}

static void print_rss(const char *phase)
{
    printf("%-8s RSS: ru_maxrss %.1f MiB, VmHWM %.1f MiB, VmRSS %.1f MiB at the end of the phase\n", phase,
           maxrss_mib(), proc_status_mib("VmHWM"), proc_status_mib("VmRSS"));
}

/* ==== temporary store =================================================================================== */

static char tmpdir[512], dbpath[600];

static void remove_store(void)
{
    static const char *const suffix[] = {"", "-wal", "-shm", "-journal"};
    char p[640];
    if (!dbpath[0])
        return;
    for (size_t i = 0; i < sizeof(suffix) / sizeof(suffix[0]); i++) {
        snprintf(p, sizeof(p), "%s%s", dbpath, suffix[i]);
        unlink(p);
    }
    rmdir(tmpdir);
    dbpath[0] = '\0';
}

static void on_signal(int sig)
{
    remove_store(); /* unlink and rmdir are async-signal-safe; snprintf on a fixed format is not
                     * strictly, but the process ends right here */
    signal(sig, SIG_DFL);
    raise(sig);
}

/* Size of the database file and its WAL, MiB. */
static void print_store(const char *phase)
{
    struct stat st;
    char wal[640];
    double db = stat(dbpath, &st) ? -1 : (double)st.st_size / 1048576.0;
    snprintf(wal, sizeof(wal), "%s-wal", dbpath);
    double w = stat(wal, &st) ? 0 : (double)st.st_size / 1048576.0;
    printf("%-8s store: database %.1f MiB, WAL %.1f MiB\n", phase, db, w);
}

/* ==== the phases ======================================================================================== */

static fake_transport *ft_global;

static void clear_request_log(void)
{
    if (ft_global && fake_nrequests(ft_global) >= 256)
        fake_clear_log(ft_global);
}

typedef struct sync_result {
    int ok;
    double wall, cpu, sys, gen_inline;
    uint64_t found, added, updated, removed, requests, repos_failed;
    int state;
    size_t rows;
} sync_result;

static sync_result run_sync(imgsync_ctx *ctx, generator *g)
{
    sync_result s;
    memset(&s, 0, sizeof(s));
    g->inline_ns = 0;
    uint64_t id = 0;
    double w0 = mono_s(), c0 = cpu_s(), k0 = sys_s();
    int rc = imgsync_sync_start(ctx, NULL, &id);
    if (!rc)
        rc = imgsync_task_wait(ctx, id, -1);
    s.cpu = cpu_s() - c0;
    s.sys = sys_s() - k0;
    s.wall = mono_s() - w0;
    s.gen_inline = (double)g->inline_ns / 1e9;
    if (rc) {
        fprintf(stderr, "bench_million: sync: %s (%s)\n", imgsync_strerror(rc), imgsync_ctx_errmsg(ctx));
        return s;
    }
    imgsync_task *t = NULL;
    if ((rc = imgsync_task_get(&t, ctx, id))) {
        fprintf(stderr, "bench_million: task: %s\n", imgsync_strerror(rc));
        return s;
    }
    s.state = imgsync_task_state_of(t);
    s.found = imgsync_task_counter(t, IMGSYNC_COUNT_IMAGES_FOUND);
    s.added = imgsync_task_counter(t, IMGSYNC_COUNT_IMAGES_ADDED);
    s.updated = imgsync_task_counter(t, IMGSYNC_COUNT_IMAGES_UPDATED);
    s.removed = imgsync_task_counter(t, IMGSYNC_COUNT_IMAGES_REMOVED);
    s.requests = imgsync_task_counter(t, IMGSYNC_COUNT_REQUESTS);
    s.repos_failed = imgsync_task_counter(t, IMGSYNC_COUNT_REPOSITORIES_FAILED);
    if (s.state != IMGSYNC_TASK_SUCCEEDED) {
        fprintf(stderr, "bench_million: the sync %s", imgsync_task_state_name(s.state));
        for (size_t i = 0; i < imgsync_task_error_count(t) && i < 5; i++)
            fprintf(stderr, "%s %s: %s", i ? ";" : ":", imgsync_task_error_repository(t, i),
                    imgsync_task_error_message(t, i));
        if (imgsync_task_registry_count(t) && *imgsync_task_registry_reason(t, 0))
            fprintf(stderr, " (%s)", imgsync_task_registry_reason(t, 0));
        fprintf(stderr, "\n");
    }
    imgsync_task_free(t);
    s.rows = imgsync_inventory_count(ctx);
    s.ok = s.state == IMGSYNC_TASK_SUCCEEDED;
    return s;
}

/* Print a sync's figures; 1 when its counters are what they must be. */
static int report_sync(const char *label, const sync_result *s, double gen_alone, long images, uint64_t want_added,
                       int *cpu_pass)
{
    double lib = s->cpu - gen_alone;
    double us = lib * 1e6 / (double)images;
    printf("%-8s %ld images in %.3f s wall: %.0f images/s; CPU %.3f s - generator %.3f s = %.3f s library: "
           "%.2f us/image  %s (target <= %.0f us/image)\n",
           label, images, s->wall, (double)images / s->wall, s->cpu, gen_alone, lib, us,
           us <= TARGET_US_PER_IMAGE ? "PASS" : "FAIL", TARGET_US_PER_IMAGE);
    printf("%-8s CPU split: user %.3f s, sys %.3f s; generator inside the transport during this sync: %.3f s "
           "CPU (cross-check of the %.3f s measured alone)\n",
           label, s->cpu - s->sys, s->sys, s->gen_inline, gen_alone);
    int counts_ok = s->ok && s->added == want_added && s->updated == 0 && s->removed == 0 && s->found == (uint64_t)images &&
                    s->rows == (size_t)images && s->repos_failed == 0;
    printf("%-8s added/updated/removed %llu/%llu/%llu (want %llu/0/0), found %llu, %llu requests, %zu rows in "
           "the inventory  %s\n",
           label, (unsigned long long)s->added, (unsigned long long)s->updated, (unsigned long long)s->removed,
           (unsigned long long)want_added, (unsigned long long)s->found, (unsigned long long)s->requests, s->rows,
           counts_ok ? "OK" : "WRONG");
    print_rss(label);
    print_store(label);
    if (cpu_pass)
        *cpu_pass = us <= TARGET_US_PER_IMAGE;
    return counts_ok;
}

/* Phase 3: read every row back. 1 when the count and the sampled rows are right; *growth gets the
 * RSS growth (MiB). */
static int iterate(imgsync_ctx *ctx, const dataset *ds, double *growth)
{
#ifdef __GLIBC__
    malloc_trim(0); /* return what the syncs freed, so that growth shows in VmRSS */
#endif
    double rss0 = proc_status_mib("VmRSS"), heap0 = heap_mib(), rss_max = rss0, heap_max = heap0;
    double w0 = mono_s(), c0 = cpu_s();
    imgsync_iter *it = NULL;
    int rc = imgsync_iter_new(&it, ctx, NULL);
    if (rc) {
        fprintf(stderr, "bench_million: imgsync_iter_new: %s (%s)\n", imgsync_strerror(rc), imgsync_ctx_errmsg(ctx));
        return 0;
    }
    double first_row = -1;
    long rows = 0, bad = 0;
    const imgsync_image *im;
    while ((im = imgsync_iter_next(it))) {
        if (!rows)
            first_row = mono_s() - w0;
        if (rows % 1000 == 0) { /* a sample of the rows against what the registry served */
            const char *repo = imgsync_image_repository(im), *tag = imgsync_image_tag(im);
            long r = repo_index(repo, strlen(repo)), t = -1;
            tag_info ti;
            if (r >= 0 && sscanf(tag, "1.0.%ld", &t) == 1 && t >= 0)
                tag_info_of(r, t, &ti);
            if (r < 0 || t < 0 || strcmp(imgsync_image_digest(im), ti.digest) || imgsync_image_size(im) != ti.size ||
                imgsync_image_update_ms(im) != ti.update_ms) {
                if (!bad)
                    fprintf(stderr, "bench_million: row %ld (%s:%s) differs from what the registry served\n", rows,
                            repo, tag);
                bad++;
            }
        }
        if (++rows % 10000 == 0) {
            double v = proc_status_mib("VmRSS"), h = heap_mib();
            rss_max = v > rss_max ? v : rss_max;
            heap_max = h > heap_max ? h : heap_max;
        }
    }
    double v = proc_status_mib("VmRSS"), h = heap_mib();
    rss_max = v > rss_max ? v : rss_max;
    heap_max = h > heap_max ? h : heap_max;
    imgsync_iter_free(it);
    double wall = mono_s() - w0, cpu = cpu_s() - c0;
    int ok = rows == ds->images && !bad;
    printf("iterate  %ld rows in %.2f s wall (first row after %.3f s): %.0f rows/s, %.2f us CPU/row  %s\n", rows, wall,
           first_row, (double)rows / wall, cpu * 1e6 / (double)(rows ? rows : 1), ok ? "OK" : "WRONG");
    *growth = rss_max - rss0;
    printf("iterate  RSS growth during the iteration: +%.1f MiB (VmRSS %.1f MiB before, %.1f MiB max, sampled every "
           "10,000 rows); malloc heap +%.1f MiB (%.1f -> %.1f MiB max)  %s (flat: target <= +%.0f MiB)\n",
           rss_max - rss0, rss0, rss_max, heap_max - heap0, heap0, heap_max,
           *growth <= TARGET_ITER_GROWTH_MIB ? "PASS" : "FAIL", TARGET_ITER_GROWTH_MIB);
    print_rss("iterate");
    return ok;
}

int main(int argc, char **argv)
{
    long images = 1000000;
    if (argc > 2 || (argc == 2 && (images = strtol(argv[1], NULL, 10)) < 1)) {
        fprintf(stderr, "usage: bench_million [IMAGES]   (a positive number, default 1000000)\n");
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    generator g;
    memset(&g, 0, sizeof(g));
    g.ds.images = images;
    g.ds.repos = (images + TAGS_PER_REPO - 1) / TAGS_PER_REPO;

    const char *tmp = getenv("TMPDIR");
    snprintf(tmpdir, sizeof(tmpdir), "%s/imgsync-million.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(tmpdir)) {
        fprintf(stderr, "bench_million: mkdtemp %s: %s\n", tmpdir, strerror(errno));
        return 1;
    }
    snprintf(dbpath, sizeof(dbpath), "%s/inventory.db", tmpdir);
    atexit(remove_store);
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);

    int rc = imgsync_provider_register(&synth_vtable);
    if (rc) {
        fprintf(stderr, "bench_million: imgsync_provider_register: %s\n", imgsync_strerror(rc));
        return 1;
    }
    char uri[640];
    snprintf(uri, sizeof(uri), "sqlite:%s", dbpath);
    fake_clock clock;
    fake_clock_init(&clock);
    imgsync_ctx *ctx = NULL;
    fake_transport *ft = NULL;
    imgsync_provider *p = NULL;
    if ((rc = imgsync_ctx_new(&ctx, uri))) {
        fprintf(stderr, "bench_million: %s: %s\n", uri, imgsync_strerror(rc));
        return 1;
    }
    if (!(ft = fake_new(&clock)) || imgsync__ctx_set_transport(ctx, fake_base(ft)) ||
        imgsync_ctx_set_clock(ctx, &clock.clock) || imgsync_provider_new(&p, ctx, KIND, "synth") ||
        imgsync_provider_set(p, "endpoint", ENDPOINT)) {
        fprintf(stderr, "bench_million: cannot set up the context: %s\n", imgsync_ctx_errmsg(ctx));
        imgsync_ctx_free(ctx);
        return 1;
    }
    fake_set_fallback(ft, answer, &g);
    ft_global = ft;
    synth_after_response = clear_request_log;

    printf("bench_million: %ld images = %ld repositories x up to %d tags (catalog pages of %d, tag pages of %d), "
           "store %s\n",
           images, g.ds.repos, TAGS_PER_REPO, CATALOG_PAGE, TAG_PAGE, uri);
    print_rss("start");
    double gen_alone = time_generator_alone(&g);
    if (gen_alone < 0) {
        fprintf(stderr, "bench_million: the generator failed on its own walk\n");
        imgsync_ctx_free(ctx);
        return 1;
    }
    printf("generator: every page of the walk generated once alone: %.3f s CPU (getrusage user+sys), "
           "%.2f us/image; subtracted from each sync's CPU\n",
           gen_alone, gen_alone * 1e6 / (double)images);

    /* under callgrind, one dump per phase (no-ops otherwise) */
    CALLGRIND_DUMP_STATS_AT("setup and the generator alone");
    int ok = 1, cpu_pass = 0, iterated = 0;
    double growth = 0;
    sync_result s1 = run_sync(ctx, &g);
    CALLGRIND_DUMP_STATS_AT("sync 1");
    printf("sync 1: %ld pages, %.1f MB of JSON generated\n", g.pages, (double)g.bytes / 1e6);
    ok &= report_sync("sync 1", &s1, gen_alone, images, (uint64_t)images, &cpu_pass);
    if (ok) {
        sync_result s2 = run_sync(ctx, &g);
        CALLGRIND_DUMP_STATS_AT("sync 2 (unchanged)");
        ok &= report_sync("sync 2", &s2, gen_alone, images, 0, NULL);
    }
    double peak_syncs = maxrss_mib();
    if (ok) {
        ok &= iterate(ctx, &g.ds, &growth);
        CALLGRIND_DUMP_STATS_AT("iterate");
        iterated = 1;
    }
    imgsync_ctx_free(ctx);
    remove_store();

    double peak = maxrss_mib();
    int rss_pass = peak_syncs <= TARGET_RSS_MIB, flat_pass = iterated && growth <= TARGET_ITER_GROWTH_MIB;
    printf("peak RSS of the syncs %.1f MiB (ru_maxrss before the iteration)  %s (target <= %.0f MiB); whole run "
           "%.1f MiB\n",
           peak_syncs, rss_pass ? "PASS" : "FAIL", TARGET_RSS_MIB, peak);
    printf("result: counts %s; targets: sync peak RSS %s, library CPU per image (sync 1) %s, flat iteration %s\n",
           ok ? "OK" : "WRONG", rss_pass ? "PASS" : "FAIL", cpu_pass ? "PASS" : "FAIL",
           !iterated ? "not run" : flat_pass ? "PASS" : "FAIL");
    return ok ? 0 : 1;
}
