/* Regression tests for the hostile-server battery of issue 6 ("Reliability fixes", items 1-4,
 * 6-10): each case is a server answer that the code before the fixes mishandled, replayed on
 * the replay harness (tests/support/replay.c): a real context on a scripted transport and a
 * fake clock, no network. The comment of each test names the item and what went wrong before. */
#include <check.h>
#include <openssl/sha.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/run.h"
#include "imgsync.h"
#include "imgsync/sys/clock.h"
#include "support/replay.h"
#include "support/secrets.h"
#include "util/base64.h"

Suite *hostile_suite(void);

#define OEP "https://reg.example.com"
#define HEP "https://harbor.example.com"
#define PROV "r"

#define MT_S2 "application/vnd.docker.distribution.manifest.v2+json"
#define MT_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define JSON_HEADERS "Content-Type: application/json; charset=utf-8\nDocker-Distribution-Api-Version: registry/2.0\n"

static replay *R;
static imgsync_provider *P;

static void teardown(void)
{
    replay_free(R);
    R = NULL;
    P = NULL;
}

static void setup_oci(void)
{
    R = replay_new();
    ck_assert_ptr_nonnull(R);
    P = replay_add_provider(R, "oci", PROV, OEP);
    ck_assert_msg(P != NULL, "provider: %s", imgsync_ctx_errmsg(replay_ctx(R)));
}

static void setup_harbor(void)
{
    R = replay_new();
    ck_assert_ptr_nonnull(R);
    P = replay_add_provider(R, "harbor", PROV, HEP);
    ck_assert_msg(P != NULL, "provider: %s", imgsync_ctx_errmsg(replay_ctx(R)));
}

static char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static char *fmt(const char *f, ...)
{
    static char buf[8][1024];
    static int k;
    char *b = buf[k++ & 7];
    va_list ap;
    va_start(ap, f);
    vsnprintf(b, sizeof(buf[0]), f, ap);
    va_end(ap);
    return b;
}

static void sha256_digest(const char *body, size_t len, char out[72])
{
    unsigned char md[SHA256_DIGEST_LENGTH];
    SHA256((const unsigned char *)body, len, md);
    memcpy(out, "sha256:", 7);
    for (int i = 0; i < SHA256_DIGEST_LENGTH; i++)
        snprintf(out + 7 + 2 * i, 3, "%02x", md[i]);
}

/* A JSON answer with an optional extra header block. */
static void add_json(const char *url, int status, const char *extra, const char *body)
{
    ck_assert_int_eq(replay_respond(R, "GET", url, status,
                                    fmt(JSON_HEADERS "Content-Length: %zu\n%s", strlen(body), extra ? extra : ""),
                                    body),
                     0);
}

/* The same with a body of len bytes. */
static void add_json_n(const char *url, int status, const char *body, size_t len)
{
    ck_assert_int_eq(replay_respond_n(R, "GET", url, status, fmt(JSON_HEADERS "Content-Length: %zu\n", len), body, len),
                     0);
}

/* A manifest GET (and HEAD) with its true digest header. */
static void add_manifest(const char *repo, const char *ref, const char *ctype, const char *body)
{
    char d[72];
    sha256_digest(body, strlen(body), d);
    const char *url = fmt(OEP "/v2/%s/manifests/%s", repo, ref);
    const char *h = fmt("Content-Length: %zu\nContent-Type: %s\nDocker-Content-Digest: %s\n", strlen(body), ctype, d);
    ck_assert_int_eq(replay_respond(R, "GET", url, 200, h, body), 0);
    ck_assert_int_eq(replay_respond(R, "HEAD", url, 200, h, NULL), 0);
}

static const char IMG[] = "{\"schemaVersion\":2,\"mediaType\":\"" MT_S2 "\","
                          "\"config\":{\"mediaType\":\"application/vnd.docker.container.image.v1+json\",\"size\":10,"
                          "\"digest\":\"sha256:1111111111111111111111111111111111111111111111111111111111111111\"},"
                          "\"layers\":[{\"mediaType\":\"application/vnd.docker.image.rootfs.diff.tar.gzip\",\"size\":20,"
                          "\"digest\":\"sha256:2222222222222222222222222222222222222222222222222222222222222222\"}]}";

/* Run one sync to its end; the status snapshot (caller frees). */
static imgsync_task *run_sync(const imgsync_request *req)
{
    uint64_t id = 0;
    int rc = replay_sync(R, req, &id);
    ck_assert_msg(rc == 0, "replay_sync: %s", imgsync_strerror(rc));
    imgsync_task *t = NULL;
    ck_assert_int_eq(imgsync_task_get(&t, replay_ctx(R), id), 0);
    return t;
}

static void expect_state(const imgsync_task *t, int state)
{
    ck_assert_msg(imgsync_task_state_of(t) == state, "task is %s, want %s (row reason: '%s')",
                  imgsync_task_state_name(imgsync_task_state_of(t)), imgsync_task_state_name(state),
                  imgsync_task_registry_reason(t, 0));
}

/* Index of the first task error about `repository` ("" = registry scope) with code, or -1. */
static long error_for(const imgsync_task *t, const char *repository, int code)
{
    for (size_t i = 0; i < imgsync_task_error_count(t); i++)
        if (!strcmp(imgsync_task_error_repository(t, i), repository) && imgsync_task_error_code(t, i) == code)
            return (long)i;
    return -1;
}

/* All error texts, the row reason and the error scopes, joined (malloc'd). */
static char *all_texts(const imgsync_task *t)
{
    size_t cap = 1;
    for (size_t i = 0; i < imgsync_task_error_count(t); i++)
        cap += strlen(imgsync_task_error_message(t, i)) + strlen(imgsync_task_error_repository(t, i)) + 2;
    cap += strlen(imgsync_task_registry_reason(t, 0)) + 1;
    char *s = calloc(1, cap);
    ck_assert_ptr_nonnull(s);
    for (size_t i = 0; i < imgsync_task_error_count(t); i++) {
        strcat(s, imgsync_task_error_repository(t, i));
        strcat(s, "\n");
        strcat(s, imgsync_task_error_message(t, i));
        strcat(s, "\n");
    }
    strcat(s, imgsync_task_registry_reason(t, 0));
    return s;
}

/* Number of inventory rows, and whether one has this repository (NULL: any) and tag (NULL: any). */
static size_t rows_matching(const char *repository, const char *tag)
{
    imgsync_iter *it = NULL;
    ck_assert_int_eq(imgsync_iter_new(&it, replay_ctx(R), NULL), 0);
    size_t n = 0;
    const imgsync_image *im;
    while ((im = imgsync_iter_next(it)) != NULL)
        n += (!repository || !strcmp(imgsync_image_repository(im), repository)) &&
             (!tag || !strcmp(imgsync_image_tag(im), tag));
    imgsync_iter_free(it);
    return n;
}

/* Text is valid UTF-8 holding no C0, DEL or C1 control (newline allowed: all_texts joins). */
static int clean_text(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        unsigned c = *p;
        if (c == '\n') {
            p++;
            continue;
        }
        if (c < 0x20 || c == 0x7f)
            return 0;
        if (c < 0x80) {
            p++;
            continue;
        }
        int n = c >= 0xf0 && c <= 0xf4 ? 3 : c >= 0xe0 ? (c <= 0xef ? 2 : -1) : c >= 0xc2 ? 1 : -1;
        if (n < 0)
            return 0;
        unsigned cp = c & (0x3f >> n);
        for (int i = 1; i <= n; i++) {
            if ((p[i] & 0xc0) != 0x80)
                return 0;
            cp = (cp << 6) | (p[i] & 0x3f);
        }
        if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
            (cp >= 0xd800 && cp <= 0xdfff) || (cp >= 0x80 && cp <= 0x9f))
            return 0;
        p += n + 1;
    }
    return 1;
}

/* ==== item 1: a huge tags/list ================================================================= */

/* The largest number of jobs the run had pending when a request went out. */
static size_t max_pending_seen;

static void watch_pending(void *ctx, fake_request *q, const imgsync__wire *w)
{
    (void)ctx;
    (void)q;
    const imgsync_job *job = w->ud;
    if (job && job->run->pending > max_pending_seen)
        max_pending_seen = job->run->pending;
}

/* Manifest HEADs of the huge repository, answered without a script each. */
static void answer_head(void *ud, const fake_request *q, fake_reply *out)
{
    (void)ud;
    static char headers[256];
    if (strcmp(q->method, "HEAD") != 0 || !strstr(q->url, "/v2/big/manifests/t")) {
        out->status = 404;
        return;
    }
    snprintf(headers, sizeof(headers),
             "Content-Type: " MT_S2 "\nDocker-Content-Digest: sha256:%064x\nContent-Length: 100\n",
             (unsigned)strtoul(strstr(q->url, "/manifests/t") + 12, NULL, 10));
    out->status = 200;
    out->headers = headers;
}

/* A tags/list body of n tags "t0".."t<n-1>" (malloc'd). */
static char *tags_body(size_t n, size_t *len)
{
    size_t cap = 64 + n * 12;
    char *b = malloc(cap);
    ck_assert_ptr_nonnull(b);
    size_t k = (size_t)snprintf(b, cap, "{\"name\":\"big\",\"tags\":[");
    for (size_t i = 0; i < n; i++)
        k += (size_t)snprintf(b + k, cap - k, "%s\"t%zu\"", i ? "," : "", i);
    k += (size_t)snprintf(b + k, cap - k, "]}");
    *len = k;
    return b;
}

/* Tags of the huge listing: one HEAD each for the bounded test (the replay harness stops at
 * 100000 requests; 10,000 is still ten times the hard bound of 64 x max_pending_jobs 16 and
 * keeps valgrind runs short), none for the deadline test (it stops early). */
#define HUGE_TAGS 10000
#define HUGER_TAGS 200000

/* Item 1: on_tags submitted one job per tag at once (5701d55 src/providers/oci.c on_tags, the
 * loop over tags->u.array calling submit() for every tag): 5.8 M jobs in memory. Now the jobs
 * pending stay under max_pending_jobs and the sync still lists every tag. */
START_TEST(test_huge_tags_list_bounded)
{
    ck_assert_int_eq(imgsync_ctx_set(replay_ctx(R), "max_pending_jobs", "16"), 0);
    ck_assert_int_eq(imgsync_provider_set(P, "resolve", "digest"), 0);
    add_json(OEP "/v2/", 200, NULL, "{}");
    add_json(OEP "/v2/_catalog?n=100", 200, NULL, "{\"repositories\":[\"big\"]}");
    size_t len;
    char *body = tags_body(HUGE_TAGS, &len);
    add_json_n(OEP "/v2/big/tags/list", 200, body, len);
    free(body);
    fake_set_fallback(replay_transport(R), answer_head, NULL);
    fake_set_observer(replay_transport(R), watch_pending, NULL);
    max_pending_seen = 0;

    imgsync_task *t = run_sync(NULL);
    expect_state(t, IMGSYNC_TASK_SUCCEEDED);
    ck_assert_uint_eq(imgsync_task_counter(t, IMGSYNC_COUNT_IMAGES_FOUND), HUGE_TAGS);
    ck_assert_uint_eq(imgsync_task_counter(t, IMGSYNC_COUNT_IMAGES_ADDED), HUGE_TAGS);
    imgsync_task_free(t);
    ck_assert_uint_eq(replay_count_containing(R, "HEAD", "/v2/big/manifests/t"), HUGE_TAGS);
    ck_assert_uint_eq(replay_unexpected(R), HUGE_TAGS); /* every HEAD, through the fallback */
    ck_assert_msg(max_pending_seen >= 1 && max_pending_seen <= 16, "up to %zu jobs pending, max_pending_jobs is 16",
                  max_pending_seen);
    ck_assert_uint_eq(rows_matching("big", NULL), HUGE_TAGS);
    ck_assert_uint_eq(rows_matching("big", "t0"), 1);
    ck_assert_uint_eq(rows_matching("big", fmt("t%d", HUGE_TAGS - 1)), 1);
}
END_TEST

/* A clock whose monotonic (and wall) time moves 1 ms at every monotonic read: work done inside
 * one callback takes fake time. */
static int64_t tick_mono(void *p)
{
    fake_clock *fc = p;
    fake_clock_advance(fc, 1);
    return fc->mono_ms;
}

static int64_t tick_wall(void *p) { return ((fake_clock *)p)->wall_ms; }

/* Item 1: the task deadline was checked only between perform calls (5701d55 src/core/task.c:99,
 * imgsync__task_tick), so one long callback ran to its end past the deadline (34 s for 20 s).
 * Now a resolve=none sync of one huge tags/list - every row emitted inside one on_tags callback
 * - stops at the deadline, in the middle of that callback. */
START_TEST(test_deadline_inside_long_callback)
{
    imgsync_clock c = {IMGSYNC_CLOCK_VERSION, tick_wall, tick_mono, replay_clock(R)};
    ck_assert_int_eq(imgsync_ctx_set_clock(replay_ctx(R), &c), 0);
    ck_assert_int_eq(imgsync_ctx_set(replay_ctx(R), "task_timeout_ms", "3000"), 0);
    ck_assert_int_eq(imgsync_provider_set(P, "resolve", "none"), 0);
    add_json(OEP "/v2/", 200, NULL, "{}");
    add_json(OEP "/v2/_catalog?n=100", 200, NULL, "{\"repositories\":[\"big\"]}");
    size_t len;
    char *body = tags_body(HUGER_TAGS, &len);
    add_json_n(OEP "/v2/big/tags/list", 200, body, len);
    free(body);

    int64_t before = replay_clock(R)->mono_ms;
    imgsync_task *t = run_sync(NULL);
    int64_t spent = replay_clock(R)->mono_ms - before;
    expect_state(t, IMGSYNC_TASK_FAILED);
    ck_assert_int_eq(imgsync_task_registry_error(t, 0), IMGSYNC_ETIMEOUT);
    ck_assert_msg(error_for(t, "", IMGSYNC_ETIMEOUT) >= 0, "no task timeout error");
    int64_t took = imgsync_task_finished_ms(t) - imgsync_task_started_ms(t);
    imgsync_task_free(t);
    /* the listing was reached (3 requests), the deadline hit inside its callback: well before
     * the HUGER_TAGS emits (at least one clock read each) were all done */
    ck_assert_uint_eq(replay_nrequests(R), 3);
    ck_assert_msg(took >= 3000 && took < 3000 + 500, "the task took %lld ms of a 3000 ms deadline", (long long)took);
    ck_assert_msg(spent < HUGER_TAGS / 2, "%lld clock reads: the callback ran on past the deadline", (long long)spent);
    ck_assert_uint_eq(imgsync_inventory_count(replay_ctx(R)), 0);
}
END_TEST

/* ==== item 2: escaped NUL in names ============================================================= */

#define NUL_NAME "ap\\u0000p"

/* Item 2 (OCI catalog): yajl cut "ap\u0000p" at the NUL and the old oci.c synced repository
 * "ap" (5701d55 src/providers/oci.c on_catalog took YAJL_GET_STRING as a C string). Now the
 * JSON layer refuses it: nothing is asked or stored for "ap". */
START_TEST(test_nul_in_catalog)
{
    add_json(OEP "/v2/", 200, NULL, "{}");
    add_json(OEP "/v2/_catalog?n=100", 200, NULL, "{\"repositories\":[\"" NUL_NAME "\",\"b\"]}");
    add_json(OEP "/v2/ap/tags/list", 200, NULL, "{\"name\":\"ap\",\"tags\":[\"1\"]}");
    add_json(OEP "/v2/b/tags/list", 200, NULL, "{\"name\":\"b\",\"tags\":[\"1\"]}");
    add_manifest("ap", "1", MT_S2, IMG);
    add_manifest("b", "1", MT_S2, IMG);
    imgsync_task *t = run_sync(NULL);
    ck_assert_msg(imgsync_task_state_of(t) != IMGSYNC_TASK_SUCCEEDED, "a catalog with a NUL name succeeded");
    ck_assert_msg(error_for(t, "(invalid)", IMGSYNC_EPROTOCOL) >= 0, "the NUL name did not fail");
    /* the status counts make sense: 1 of 2 failed (b synced) */
    ck_assert_uint_eq(imgsync_task_counter(t, IMGSYNC_COUNT_REPOSITORIES_FAILED), 1);
    ck_assert_uint_eq(imgsync_task_counter(t, IMGSYNC_COUNT_REPOSITORIES_TOTAL), 2);
    ck_assert_msg(strstr(imgsync_task_registry_reason(t, 0), "1 of 2 repositories failed") != NULL, "row reason '%s'",
                  imgsync_task_registry_reason(t, 0));
    imgsync_task_free(t);
    ck_assert_uint_eq(replay_count_containing(R, NULL, "/v2/ap/"), 0);
    ck_assert_uint_eq(rows_matching("ap", NULL), 0);
    ck_assert_uint_eq(rows_matching("b", "1"), 1);
}
END_TEST

/* Item 2 (OCI tags/list): "v\u0000x" was tag "v" before. */
START_TEST(test_nul_in_tags)
{
    add_json(OEP "/v2/", 200, NULL, "{}");
    add_json(OEP "/v2/_catalog?n=100", 200, NULL, "{\"repositories\":[\"a\",\"b\"]}");
    add_json(OEP "/v2/a/tags/list", 200, NULL, "{\"name\":\"a\",\"tags\":[\"v\\u0000x\",\"1\"]}");
    add_json(OEP "/v2/b/tags/list", 200, NULL, "{\"name\":\"b\",\"tags\":[\"1\"]}");
    add_manifest("a", "v", MT_S2, IMG);
    add_manifest("a", "1", MT_S2, IMG);
    add_manifest("b", "1", MT_S2, IMG);
    imgsync_task *t = run_sync(NULL);
    expect_state(t, IMGSYNC_TASK_PARTIAL);
    ck_assert_msg(error_for(t, "a", IMGSYNC_EPROTOCOL) >= 0, "repository a did not fail EPROTOCOL");
    imgsync_task_free(t);
    ck_assert_uint_eq(replay_count_containing(R, NULL, "/v2/a/manifests/"), 0);
    ck_assert_uint_eq(rows_matching("a", NULL), 0);
    ck_assert_uint_eq(rows_matching("b", "1"), 1);
}
END_TEST

/* ---- Harbor fixture ---------------------------------------------------------------------------- */

#define H_VERSION "{\"version\":\"v2.0\"}"
#define H_SYSINFO "{\"auth_mode\":\"db_auth\",\"harbor_version\":\"v2.11.1-6b7ecba1\"}"
#define H_API HEP "/api/v2.0"
#define D_A "sha256:81a5b580161cbb7faef40e99c824e7bb12d4e81eb2d7ea5bfbf48b8d06e134da"
#define D_B "sha256:42de49d302127345f707bb48515f5318bc4f4f88e9dbec069926913f47d909f5"

static const char *u_projects(long ps) { return fmt(H_API "/projects?page=1&page_size=%ld&with_detail=false", ps); }
static const char *u_repos(const char *p, long ps) { return fmt(H_API "/projects/%s/repositories?page=1&page_size=%ld", p, ps); }
static const char *u_artifacts(const char *p, const char *r, long ps)
{
    return fmt(H_API "/projects/%s/repositories/%s/artifacts?with_tag=true&page=1&page_size=%ld", p, r, ps);
}

static void harbor_json(const char *url, long total, const char *link, const char *body)
{
    char extra[512];
    int n = snprintf(extra, sizeof(extra), "%s", "");
    if (total >= 0)
        n += snprintf(extra + n, sizeof(extra) - (size_t)n, "X-Total-Count: %ld\n", total);
    if (link)
        snprintf(extra + n, sizeof(extra) - (size_t)n, "Link: %s\n", link);
    add_json(url, 200, extra, body);
}

static void harbor_base(void)
{
    add_json(HEP "/api/version", 200, NULL, H_VERSION);
    add_json(H_API "/systeminfo", 200, NULL, H_SYSINFO);
}

static const char *h_project(int id, const char *name)
{
    return fmt("{\"project_id\":%d,\"name\":\"%s\",\"repo_count\":1}", id, name);
}

static const char *h_repo(int id, const char *name) { return fmt("{\"id\":%d,\"name\":\"%s\",\"artifact_count\":1}", id, name); }

static const char *h_artifact(int id, const char *digest, const char *tag)
{
    return fmt("{\"id\":%d,\"digest\":\"%s\",\"type\":\"IMAGE\",\"manifest_media_type\":\"" MT_S2 "\","
               "\"media_type\":\"application/vnd.docker.container.image.v1+json\",\"size\":1000,"
               "\"push_time\":\"2024-11-20T08:15:30.123Z\",\"tags\":[{\"id\":%d,\"name\":\"%s\","
               "\"push_time\":\"2024-11-20T08:15:30.123Z\"}]}",
               id, digest, id * 10, tag);
}

/* Item 2 (Harbor): a NUL in a project, repository or tag name. */
START_TEST(test_nul_in_harbor_names)
{
    harbor_base();
    harbor_json(u_projects(100), -1, NULL, fmt("[%s,%s]", h_project(1, NUL_NAME), h_project(2, "lib")));
    harbor_json(u_repos("ap", 100), 1, NULL, fmt("[%s]", h_repo(1, "ap/x")));
    harbor_json(u_repos("lib", 100), -1, NULL,
                fmt("[%s,%s,%s]", h_repo(2, "lib/ap" "\\u0000" "p"), h_repo(3, "lib/t"), h_repo(4, "lib/ok")));
    harbor_json(u_artifacts("lib", "ap", 100), 1, NULL, fmt("[%s]", h_artifact(1, D_A, "1")));
    harbor_json(u_artifacts("lib", "t", 100), 1, NULL, fmt("[%s]", h_artifact(2, D_A, "v\\u0000x")));
    harbor_json(u_artifacts("lib", "ok", 100), 1, NULL, fmt("[%s]", h_artifact(3, D_B, "1")));
    imgsync_task *t = run_sync(NULL);
    ck_assert_msg(imgsync_task_state_of(t) != IMGSYNC_TASK_SUCCEEDED, "NUL names synced");
    ck_assert_msg(error_for(t, "lib/t", IMGSYNC_EPROTOCOL) >= 0, "lib/t with a NUL tag did not fail");
    /* the project and the repository with a NUL fail as unnamed items */
    ck_assert_msg(error_for(t, "(invalid)", IMGSYNC_EPROTOCOL) >= 0, "the NUL project/repository did not fail");
    ck_assert_uint_le(imgsync_task_counter(t, IMGSYNC_COUNT_REPOSITORIES_FAILED),
                      imgsync_task_counter(t, IMGSYNC_COUNT_REPOSITORIES_TOTAL));
    char *all = all_texts(t);
    imgsync_task_free(t);
    ck_assert_uint_eq(replay_count_containing(R, NULL, "/projects/ap/"), 0);
    ck_assert_uint_eq(replay_count_containing(R, NULL, "/repositories/ap/"), 0);
    ck_assert_uint_eq(rows_matching("lib/ap", NULL), 0);
    ck_assert_uint_eq(rows_matching("ap/x", NULL), 0);
    ck_assert_uint_eq(rows_matching("lib/t", NULL), 0);
    ck_assert_uint_eq(rows_matching("lib/ok", "1"), 1);
    ck_assert_msg(clean_text(all), "error texts hold raw controls");
    free(all);
}
END_TEST

/* Item 2 (found in review): Harbor reports a project and a repository whose names hold a NUL
 * with the same scope name ""; counted once per name, the second item's failure was neither
 * counted nor recorded. */
START_TEST(test_nul_items_each_counted)
{
    harbor_base();
    harbor_json(u_projects(100), -1, NULL, fmt("[%s,%s]", h_project(1, NUL_NAME), h_project(2, "lib")));
    harbor_json(u_repos("lib", 100), -1, NULL,
                fmt("[%s,%s]", h_repo(2, "lib/ap" "\\u0000" "p"), h_repo(4, "lib/ok")));
    harbor_json(u_artifacts("lib", "ok", 100), 1, NULL, fmt("[%s]", h_artifact(3, D_B, "1")));
    imgsync_task *t = run_sync(NULL);
    char *all = all_texts(t);
    uint64_t failed = imgsync_task_counter(t, IMGSYNC_COUNT_REPOSITORIES_FAILED);
    imgsync_task_free(t);
    ck_assert_msg(strstr(all, "project name with a NUL") != NULL, "the NUL project's failure is not recorded");
    ck_assert_msg(strstr(all, "repository name with a NUL") != NULL, "the NUL repository's failure is not recorded");
    ck_assert_uint_eq(failed, 2); /* two items failed */
    free(all);
}
END_TEST

/* ==== item 3: Harbor listing known to be short ================================================= */

/* Item 3: full pages, X-Total-Count 1000000, no Link: the old walk gave up after 3 passes and
 * ended as complete (5701d55 src/providers/harbor.c walk_continue: "if (++w->attempts <
 * MAX_WALKS) ... return 0"), so the listing counted as whole and rows not on it were pruned. */
START_TEST(test_harbor_short_listing_fails)
{
    ck_assert_int_eq(imgsync_provider_set(P, "page_size", "2"), 0);
    harbor_base();
    harbor_json(u_projects(2), 1, NULL, fmt("[%s]", h_project(1, "lib")));
    harbor_json(u_repos("lib", 2), 1, NULL, fmt("[%s]", h_repo(1, "lib/app")));
    /* the previous sync saw 3 rows; the third is on a page the hostile walk never reaches */
    harbor_json(u_artifacts("lib", "app", 2), 3, "<" "/api/v2.0/projects/lib/repositories/app/artifacts?with_tag=true&page=2&page_size=2>; rel=\"next\"",
                fmt("[%s,%s]", h_artifact(1, D_A, "old"), h_artifact(2, D_B, "keep")));
    harbor_json(H_API "/projects/lib/repositories/app/artifacts?with_tag=true&page=2&page_size=2", 3, NULL,
                fmt("[%s]", h_artifact(3, D_A, "third")));
    imgsync_task *t = run_sync(NULL);
    expect_state(t, IMGSYNC_TASK_SUCCEEDED);
    imgsync_task_free(t);
    ck_assert_uint_eq(rows_matching("lib/app", NULL), 3);

    /* now: every page full, the total far away, no Link */
    harbor_json(u_artifacts("lib", "app", 2), 1000000, NULL,
                fmt("[%s,%s]", h_artifact(1, D_A, "old"), h_artifact(2, D_B, "keep")));
    t = run_sync(NULL);
    ck_assert_msg(imgsync_task_state_of(t) == IMGSYNC_TASK_FAILED || imgsync_task_state_of(t) == IMGSYNC_TASK_PARTIAL,
                  "a listing short of its X-Total-Count ended %s", imgsync_task_state_name(imgsync_task_state_of(t)));
    long e = error_for(t, "lib/app", IMGSYNC_EPROTOCOL);
    ck_assert_msg(e >= 0, "lib/app did not fail");
    ck_assert_ptr_nonnull(strstr(imgsync_task_error_message(t, (size_t)e), "1000000"));
    ck_assert_uint_eq(imgsync_task_counter(t, IMGSYNC_COUNT_IMAGES_REMOVED), 0);
    imgsync_task_free(t);
    /* a bounded number of passes over page 1 */
    ck_assert_uint_le(replay_count(R, "GET", u_artifacts("lib", "app", 2)), 3);
    ck_assert_uint_eq(rows_matching("lib/app", NULL), 3);
    ck_assert_uint_eq(rows_matching("lib/app", "third"), 1);
}
END_TEST

/* ==== item 4: pagination that never ends ======================================================= */

/* Every catalog / projects page links to a new page. */
static void endless_pages(void *ud, const fake_request *q, fake_reply *out)
{
    (void)ud;
    static char headers[512];
    const char *p = strstr(q->url, "page=");
    const char *l = strstr(q->url, "last=");
    if (strstr(q->url, "/v2/_catalog")) {
        unsigned long k = l ? strtoul(l + 6, NULL, 10) : 0;
        snprintf(headers, sizeof(headers), JSON_HEADERS "Link: </v2/_catalog?last=r%lu&n=100>; rel=\"next\"\n", k + 1);
        out->status = 200;
        out->headers = headers;
        out->body = "{\"repositories\":[]}";
    } else if (strstr(q->url, "/api/v2.0/projects?") && p) {
        unsigned long k = strtoul(p + 5, NULL, 10);
        snprintf(headers, sizeof(headers),
                 JSON_HEADERS "Link: </api/v2.0/projects?page=%lu&page_size=100&with_detail=false>; rel=\"next\"\n",
                 k + 1);
        out->status = 200;
        out->headers = headers;
        out->body = "[]";
    } else {
        out->status = 404;
    }
}

/* Item 4 (OCI catalog): 132,084 catalog pages before, stopped only by a task deadline (5701d55
 * src/providers/oci.c follow_next refused only a Link back to a page already read). */
START_TEST(test_endless_catalog_pages)
{
    ck_assert_int_eq(imgsync_provider_set(P, "max_list_pages", "7"), 0);
    add_json(OEP "/v2/", 200, NULL, "{}");
    fake_set_fallback(replay_transport(R), endless_pages, NULL);
    imgsync_task *t = run_sync(NULL);
    expect_state(t, IMGSYNC_TASK_FAILED);
    ck_assert_int_eq(imgsync_task_registry_error(t, 0), IMGSYNC_ETOOBIG);
    long e = error_for(t, "", IMGSYNC_ETOOBIG);
    ck_assert_msg(e >= 0, "no ETOOBIG error");
    ck_assert_ptr_nonnull(strstr(imgsync_task_error_message(t, (size_t)e), "max_list_pages"));
    imgsync_task_free(t);
    ck_assert_uint_le(replay_count_containing(R, "GET", "/v2/_catalog"), 8);
}
END_TEST

/* Item 4 (Harbor projects): 156,167 project pages before (5701d55 src/providers/harbor.c
 * walk_continue: no page limit). */
START_TEST(test_endless_harbor_projects)
{
    ck_assert_int_eq(imgsync_provider_set(P, "max_list_pages", "5"), 0);
    harbor_base();
    fake_set_fallback(replay_transport(R), endless_pages, NULL);
    imgsync_task *t = run_sync(NULL);
    expect_state(t, IMGSYNC_TASK_FAILED);
    ck_assert_int_eq(imgsync_task_registry_error(t, 0), IMGSYNC_ETOOBIG);
    ck_assert_ptr_nonnull(strstr(imgsync_task_registry_reason(t, 0), "max_list_pages"));
    imgsync_task_free(t);
    ck_assert_uint_le(replay_count_containing(R, "GET", "/api/v2.0/projects?"), 6);
}
END_TEST

/* Item 4 (items): a catalog longer than max_list_items fails with ETOOBIG, no repository of it
 * is walked past the limit, and nothing is pruned. */
START_TEST(test_catalog_max_list_items)
{
    ck_assert_int_eq(imgsync_provider_set(P, "max_list_items", "3"), 0);
    add_json(OEP "/v2/", 200, NULL, "{}");
    add_json(OEP "/v2/_catalog?n=100", 200, NULL, "{\"repositories\":[\"a\",\"b\",\"c\",\"d\",\"e\"]}");
    imgsync_task *t = run_sync(NULL);
    expect_state(t, IMGSYNC_TASK_FAILED);
    ck_assert_int_eq(imgsync_task_registry_error(t, 0), IMGSYNC_ETOOBIG);
    ck_assert_ptr_nonnull(strstr(imgsync_task_registry_reason(t, 0), "max_list_items"));
    imgsync_task_free(t);
    ck_assert_uint_eq(replay_count_containing(R, NULL, "/tags/list"), 0);
}
END_TEST

/* Item 4 (items, tags): a tags/list over max_list_items fails its repository only. */
START_TEST(test_tags_max_list_items)
{
    ck_assert_int_eq(imgsync_provider_set(P, "max_list_items", "3"), 0);
    add_json(OEP "/v2/", 200, NULL, "{}");
    add_json(OEP "/v2/_catalog?n=100", 200, NULL, "{\"repositories\":[\"a\",\"b\"]}");
    add_json(OEP "/v2/a/tags/list", 200, NULL, "{\"name\":\"a\",\"tags\":[\"1\",\"2\",\"3\",\"4\"]}");
    add_json(OEP "/v2/b/tags/list", 200, NULL, "{\"name\":\"b\",\"tags\":[\"1\"]}");
    add_manifest("b", "1", MT_S2, IMG);
    imgsync_task *t = run_sync(NULL);
    expect_state(t, IMGSYNC_TASK_PARTIAL);
    long e = error_for(t, "a", IMGSYNC_ETOOBIG);
    ck_assert_msg(e >= 0, "a did not fail ETOOBIG");
    ck_assert_ptr_nonnull(strstr(imgsync_task_error_message(t, (size_t)e), "max_list_items"));
    imgsync_task_free(t);
    ck_assert_uint_eq(replay_count_containing(R, NULL, "/v2/a/manifests/"), 0);
    ck_assert_uint_eq(rows_matching("b", "1"), 1);
}
END_TEST

/* ==== item 6: controls and invalid UTF-8 in server text ======================================== */

/* Item 6: only C0 and DEL were filtered (5701d55 src/core/run.c:550, registry_error_text:
 * "*p < 0x20 || *p == 0x7f"), so CSI (C2 9B) and NEL (C2 85) reached task errors and the row. */
START_TEST(test_server_text_sanitized)
{
    add_json(OEP "/v2/", 200, NULL, "{}");
    add_json(OEP "/v2/_catalog?n=100", 200, NULL, "{\"repositories\":[\"a\",\"b\",\"c\"]}");
    /* a: CSI (escaped and raw), ESC, NEL in a registry error */
    add_json(OEP "/v2/a/tags/list", 500, NULL,
             "{\"errors\":[{\"code\":\"DENIED\\u009b31m\",\"message\":\"no \xc2\x9b" "2J way \\u001b[5m \\u0085 end\"}]}");
    /* b: bytes that are not UTF-8 in a registry error */
    add_json(OEP "/v2/b/tags/list", 500, NULL,
             "{\"errors\":[{\"code\":\"DENIED\",\"message\":\"bad \xff\xfe here \xc0\xaf end\"}]}");
    /* c: a tag list whose invalid tag holds a C1 control */
    add_json(OEP "/v2/c/tags/list", 200, NULL, "{\"name\":\"c\",\"tags\":[\"x\xc2\x9b" "1\"]}");
    imgsync_task *t = run_sync(NULL);
    expect_state(t, IMGSYNC_TASK_FAILED);
    ck_assert_msg(error_for(t, "a", IMGSYNC_EHTTP) >= 0, "a did not fail EHTTP");
    ck_assert_msg(error_for(t, "b", IMGSYNC_EHTTP) >= 0, "b did not fail EHTTP");
    ck_assert_msg(error_for(t, "c", IMGSYNC_EPROTOCOL) >= 0, "c did not fail EPROTOCOL");
    char *all = all_texts(t);
    imgsync_task_free(t);
    ck_assert_msg(clean_text(all), "raw server text (controls or bytes that are not UTF-8) in the status");
    ck_assert_ptr_null(strstr(all, "\xc2\x9b"));
    ck_assert_ptr_null(strstr(all, "\xc2\x85"));
    /* the readable rest of the registry's text is kept */
    ck_assert_msg(strstr(all, "DENIED") && strstr(all, "2J way") && strstr(all, " end"), "text lost: %s", all);
    free(all);
    ck_assert_uint_eq(imgsync_inventory_count(replay_ctx(R)), 0);
}
END_TEST

/* ==== item 7: secrets echoed by a registry ===================================================== */

#define USER "imgsync"

static char *SECRET_PASS, *SECRET_TOKEN;

/* Fail with a message that shows text with the secrets masked. */
static void expect_no_secret(const char *text, const char *secret, const char *what)
{
    if (strstr(text, secret)) {
        char *a = ts_mask(text, SECRET_PASS);
        char *b = a ? ts_mask(a, SECRET_TOKEN) : NULL;
        ck_abort_msg("%s in the status: %s", what, b ? b : "");
        free(a);
        free(b);
    }
}

static void secrets_setup(void)
{
    setup_oci();
    SECRET_PASS = ts_random_secret("Pw-");
    SECRET_TOKEN = ts_random_secret("tok.");
    ck_assert_ptr_nonnull(SECRET_PASS);
    ck_assert_ptr_nonnull(SECRET_TOKEN);
    ck_assert_int_eq(imgsync_provider_set(P, "username", USER), 0);
    ck_assert_int_eq(imgsync_provider_set(P, "password", SECRET_PASS), 0);
}

static void secrets_teardown(void)
{
    teardown();
    free(SECRET_PASS);
    free(SECRET_TOKEN);
    SECRET_PASS = SECRET_TOKEN = NULL;
}

/* Item 7: error bodies were stored as the registry sent them (5701d55 src/core/run.c
 * imgsync_run_fail_response copied the registry's message into the error), password and
 * Authorization value included. */
START_TEST(test_secrets_redacted)
{
    char cred[128];
    snprintf(cred, sizeof(cred), "%s:%s", USER, SECRET_PASS);
    char *basic = imgsync__base64(cred, strlen(cred));
    ck_assert_ptr_nonnull(basic);
    add_json(OEP "/v2/", 200, NULL, "{}");
    add_json(OEP "/v2/_catalog?n=100", 200, NULL, "{\"repositories\":[\"a\",\"b\"]}");
    /* a: the password in the message */
    add_json(OEP "/v2/a/tags/list", 403, NULL,
             fmt("{\"errors\":[{\"code\":\"DENIED\",\"message\":\"bad password %s for " USER "\"}]}", SECRET_PASS));
    /* b: the Authorization value echoed */
    add_json(OEP "/v2/b/tags/list", 400, NULL,
             fmt("{\"errors\":[{\"code\":\"BAD\",\"message\":\"header Basic %s refused\"}]}", basic));
    imgsync_task *t = run_sync(NULL);
    char *all = all_texts(t);
    ck_assert_msg(error_for(t, "a", IMGSYNC_EAUTH) >= 0, "a did not fail EAUTH");
    ck_assert_msg(error_for(t, "b", IMGSYNC_EHTTP) >= 0, "b did not fail EHTTP");
    imgsync_task_free(t);
    /* the credentials were sent (Basic, as no challenge asked for more) */
    const char *sent = replay_request_header(replay_find(R, "GET", OEP "/v2/b/tags/list"), "Authorization");
    ck_assert_ptr_nonnull(sent);
    ck_assert_msg(!strcmp(sent + 6, basic), "b was not sent the Basic credentials");
    expect_no_secret(all, SECRET_PASS, "the password");
    expect_no_secret(all, basic, "the Basic credentials");
    ck_assert_ptr_nonnull(strstr(all, "bad password *** for"));
    ck_assert_ptr_nonnull(strstr(all, "header Basic *** refused"));
    free(all);
    free(basic);
}
END_TEST

/* Item 7 (cut secrets): a registry message is cut to its first 127 bytes; a password that
 * straddles the cut must not leave its first half in the status. */
START_TEST(test_secret_cut_by_truncation)
{
    add_json(OEP "/v2/", 200, NULL, "{}");
    add_json(OEP "/v2/_catalog?n=100", 200, NULL, "{\"repositories\":[\"a\",\"b\"]}");
    char pad[128];
    memset(pad, 'x', sizeof(pad));
    /* a: the password starts 20 bytes before the cut; b: the Basic form does */
    pad[107] = '\0';
    add_json(OEP "/v2/a/tags/list", 403, NULL,
             fmt("{\"errors\":[{\"code\":\"DENIED\",\"message\":\"%s %s\"}]}", pad, SECRET_PASS));
    char cred[128];
    snprintf(cred, sizeof(cred), "%s:%s", USER, SECRET_PASS);
    char *basic = imgsync__base64(cred, strlen(cred));
    ck_assert_ptr_nonnull(basic);
    add_json(OEP "/v2/b/tags/list", 400, NULL,
             fmt("{\"errors\":[{\"code\":\"BAD\",\"message\":\"%s %s\"}]}", pad, basic));
    imgsync_task *t = run_sync(NULL);
    char *all = all_texts(t);
    ck_assert_msg(error_for(t, "a", IMGSYNC_EAUTH) >= 0, "a did not fail EAUTH");
    ck_assert_msg(error_for(t, "b", IMGSYNC_EHTTP) >= 0, "b did not fail EHTTP");
    imgsync_task_free(t);
    ck_assert_msg(strstr(all, "xxxxxxxx") != NULL, "the message was dropped");
    ck_assert_msg(!ts_holds_part_of(all, SECRET_PASS), "part of the password is in the status");
    ck_assert_msg(!ts_holds_part_of(all, basic), "part of the Basic credentials is in the status");
    free(all);
    free(basic);
}
END_TEST

/* Sync an OCI registry whose /v2/ answers 403 echoing `json_message`, with this password; every
 * error message and the row reason, joined (malloc'd). */
static char *texts_after_echo(const char *password, const char *json_message)
{
    replay *r = replay_new();
    ck_assert_ptr_nonnull(r);
    imgsync_provider *p = replay_add_provider(r, "oci", "reg", OEP);
    ck_assert_ptr_nonnull(p);
    ck_assert_int_eq(imgsync_provider_set(p, "username", USER), 0);
    ck_assert_int_eq(imgsync_provider_set(p, "password", password), 0);
    ck_assert_int_eq(replay_respond(r, "GET", OEP "/v2/", 403, JSON_HEADERS,
                                    fmt("{\"errors\":[{\"code\":\"DENIED\",\"message\":\"%s\"}]}", json_message)),
                     0);
    uint64_t id = 0;
    ck_assert_int_eq(replay_sync(r, NULL, &id), 0);
    imgsync_task *t = NULL;
    ck_assert_int_eq(imgsync_task_get(&t, replay_ctx(r), id), 0);
    char *all = all_texts(t);
    imgsync_task_free(t);
    replay_free(r);
    return all;
}

/* Item 7 (gaps found in review): a short password was never searched for, and a password
 * holding a TAB was sanitized ('?') before the redaction looked for it. */
START_TEST(test_short_and_odd_secrets_redacted)
{
    char *all = texts_after_echo("Zq7", "bad password Zq7 for admin");
    ck_assert_msg(strstr(all, "Zq7") == NULL && strstr(all, "DENIED"), "short password in '%s'", all);
    free(all);
    /* the registry echoes it JSON-escaped: the message then holds a real TAB */
    all = texts_after_echo("Secret\tPassword42", "bad password Secret\\tPassword42");
    ck_assert_msg(strstr(all, "Password42") == NULL && strstr(all, "bad password ***"), "TAB password in '%s'", all);
    free(all);
}
END_TEST

/* Item 7 (Bearer): a registry that echoes the token it was given. */
static void echo_token(void *ud, const fake_request *q, fake_reply *out)
{
    (void)ud;
    static char body[512];
    const char *a = fake_request_header(q, "Authorization");
    out->headers = JSON_HEADERS;
    if (strstr(q->url, "/v2/c/tags/list") && a && !strncmp(a, "Bearer ", 7)) {
        snprintf(body, sizeof(body), "{\"errors\":[{\"code\":\"DENIED\",\"message\":\"token %s has no pull\"}]}", a + 7);
        out->status = 403;
        out->body = body;
    } else if (strstr(q->url, "/v2/c/tags/list")) {
        out->status = 401;
        out->headers = JSON_HEADERS "WWW-Authenticate: Bearer realm=\"" OEP "/token\",service=\"reg\","
                                    "scope=\"repository:c:pull\"\n";
        out->body = "{\"errors\":[{\"code\":\"UNAUTHORIZED\",\"message\":\"authentication required\"}]}";
    } else {
        out->status = 404;
    }
}

START_TEST(test_bearer_token_redacted)
{
    add_json(OEP "/v2/", 200, NULL, "{}");
    add_json(OEP "/v2/_catalog?n=100", 200, NULL, "{\"repositories\":[\"c\"]}");
    add_json(OEP "/token?service=reg&scope=repository%3Ac%3Apull", 200, NULL,
             fmt("{\"token\":\"%s\",\"expires_in\":300}", SECRET_TOKEN));
    fake_set_fallback(replay_transport(R), echo_token, NULL);
    imgsync_task *t = run_sync(NULL);
    char *all = all_texts(t);
    ck_assert_msg(error_for(t, "c", IMGSYNC_EAUTH) >= 0, "c did not fail EAUTH");
    imgsync_task_free(t);
    ck_assert_uint_eq(replay_count_containing(R, "GET", "/token?"), 1);
    /* the token went out once and came back in the error body */
    ck_assert_uint_eq(replay_count(R, "GET", OEP "/v2/c/tags/list"), 2);
    const char *sent = replay_request_header(replay_request_at(R, replay_nrequests(R) - 1), "Authorization");
    ck_assert_ptr_nonnull(sent);
    ck_assert_msg(!strncmp(sent, "Bearer ", 7) && !strcmp(sent + 7, SECRET_TOKEN), "the token was not sent");
    expect_no_secret(all, SECRET_TOKEN, "the Bearer token");
    expect_no_secret(all, SECRET_PASS, "the password");
    ck_assert_ptr_nonnull(strstr(all, "token *** has no pull"));
    free(all);
}
END_TEST

/* ==== item 8: index children verified against their digest ===================================== */

/* Item 8: a child fetched by digest was sized without hashing it (5701d55 src/providers/oci.c
 * on_child: image_size of whatever body came back), so a forged child gave 1,000,000,000,007. */
START_TEST(test_forged_index_child)
{
    static const char child[] = "{\"schemaVersion\":2,\"mediaType\":\"" MT_S2 "\","
                                "\"config\":{\"mediaType\":\"application/vnd.docker.container.image.v1+json\",\"size\":7,"
                                "\"digest\":\"sha256:3333333333333333333333333333333333333333333333333333333333333333\"},"
                                "\"layers\":[]}";
    static const char forged[] = "{\"schemaVersion\":2,\"mediaType\":\"" MT_S2 "\","
                                 "\"config\":{\"mediaType\":\"application/vnd.docker.container.image.v1+json\","
                                 "\"size\":1000000000007,"
                                 "\"digest\":\"sha256:3333333333333333333333333333333333333333333333333333333333333333\"},"
                                 "\"layers\":[]}";
    char dchild[72];
    sha256_digest(child, strlen(child), dchild);
    const char *list = fmt("{\"schemaVersion\":2,\"mediaType\":\"" MT_LIST "\",\"manifests\":[{\"mediaType\":\"" MT_S2
                           "\",\"size\":%zu,\"digest\":\"%s\",\"platform\":{\"architecture\":\"amd64\",\"os\":\"linux\"}}]}",
                           strlen(child), dchild);
    char *list_copy = strdup(list);
    add_json(OEP "/v2/", 200, NULL, "{}");
    add_json(OEP "/v2/_catalog?n=100", 200, NULL, "{\"repositories\":[\"m\",\"b\"]}");
    add_json(OEP "/v2/m/tags/list", 200, NULL, "{\"name\":\"m\",\"tags\":[\"multi\"]}");
    add_json(OEP "/v2/b/tags/list", 200, NULL, "{\"name\":\"b\",\"tags\":[\"1\"]}");
    add_manifest("m", "multi", MT_LIST, list_copy);
    add_manifest("b", "1", MT_S2, IMG);
    /* the child by digest: a body that is not the one the digest names (its own digest header
     * even matches the forged body, as a hostile server would send it) */
    char dforged[72];
    sha256_digest(forged, strlen(forged), dforged);
    ck_assert_int_eq(replay_respond(R, "GET", fmt(OEP "/v2/m/manifests/%s", dchild), 200,
                                    fmt("Content-Type: " MT_S2 "\nDocker-Content-Digest: %s\n", dforged), forged),
                     0);
    free(list_copy);
    imgsync_task *t = run_sync(NULL);
    expect_state(t, IMGSYNC_TASK_PARTIAL);
    ck_assert_msg(error_for(t, "m", IMGSYNC_EPROTOCOL) >= 0, "m did not fail EPROTOCOL");
    imgsync_task_free(t);
    ck_assert_uint_eq(replay_count(R, "GET", fmt(OEP "/v2/m/manifests/%s", dchild)), 1);
    ck_assert_uint_eq(rows_matching("m", NULL), 0);
    imgsync_iter *it = NULL;
    ck_assert_int_eq(imgsync_iter_new(&it, replay_ctx(R), NULL), 0);
    const imgsync_image *im;
    while ((im = imgsync_iter_next(it)) != NULL)
        ck_assert_int_lt(imgsync_image_size(im), 1000000000LL);
    imgsync_iter_free(it);
    ck_assert_uint_eq(rows_matching("b", "1"), 1);
}
END_TEST

/* ==== item 9: Harbor rows validated like OCI rows ============================================== */

/* Item 9: Harbor rows were stored as listed (5701d55 src/providers/harbor.c emit_artifact: no
 * check of the digest, the repository name or the tag). Each hostile repository fails
 * EPROTOCOL, none is stored; a clean repository next to them syncs. */
START_TEST(test_harbor_rows_validated)
{
    static const struct {
        const char *repo, *enc2, *digest, *tag;
    } bad[] = {
        {"lib/d1", "d1", "not-a-digest", "1"},
        {"lib/d2", "d2", "", "1"},
        {"lib/d3", "d3", "md5:0123456789abcdef0123456789abcdef", "1"},
        {"lib/d4", "d4", "sha256:81A5B580161CBB7FAEF40E99C824E7BB12D4E81EB2D7EA5BFBF48B8D06E134DA", "1"},
        {"lib/t1", "t1", D_A, "v1\\r\\n"},
        {"lib/t2", "t2", D_A, "\\u001b[31mred"},
        {"lib/t3", "t3", D_A, "a\\nb"},
        {"lib/t4", "t4", D_A, "x\\u009b31m"}, /* item 6: a C1 control (CSI) in a tag */
    };
    size_t nbad = sizeof(bad) / sizeof(bad[0]);
    harbor_base();
    harbor_json(u_projects(100), 1, NULL, fmt("[%s]", h_project(1, "lib")));
    char repos[4096] = "[";
    for (size_t i = 0; i < nbad; i++) {
        strcat(repos, h_repo((int)i + 1, bad[i].repo));
        strcat(repos, ",");
        harbor_json(u_artifacts("lib", bad[i].enc2, 100), 1, NULL, fmt("[%s]", h_artifact((int)i + 1, bad[i].digest, bad[i].tag)));
    }
    /* repository names that are no names: never walked */
    strcat(repos, h_repo(20, "lib/a\\nb"));
    strcat(repos, ",");
    strcat(repos, h_repo(21, "lib/../x"));
    strcat(repos, ",");
    strcat(repos, h_repo(23, "lib/c1\\u009b2Jx")); /* item 6: CSI in a repository name */
    strcat(repos, ",");
    strcat(repos, h_repo(22, "lib/ok"));
    strcat(repos, "]");
    harbor_json(u_repos("lib", 100), (long)nbad + 3, NULL, repos);
    harbor_json(u_artifacts("lib", "ok", 100), 1, NULL, fmt("[%s]", h_artifact(30, D_B, "1")));
    imgsync_task *t = run_sync(NULL);
    expect_state(t, IMGSYNC_TASK_PARTIAL);
    for (size_t i = 0; i < nbad; i++)
        ck_assert_msg(error_for(t, bad[i].repo, IMGSYNC_EPROTOCOL) >= 0, "%s (digest '%s', tag '%s') did not fail",
                      bad[i].repo, bad[i].digest, bad[i].tag);
    ck_assert_uint_eq(imgsync_task_counter(t, IMGSYNC_COUNT_IMAGES_ADDED), 1);
    char *all = all_texts(t);
    imgsync_task_free(t);
    ck_assert_msg(clean_text(all), "raw controls in the status");
    free(all);
    ck_assert_uint_eq(replay_count_containing(R, NULL, "/repositories/a"), 0);
    ck_assert_uint_eq(replay_count_containing(R, NULL, "/repositories/c1"), 0);
    ck_assert_uint_eq(replay_count_containing(R, NULL, "/x/"), 0);
    ck_assert_uint_eq(replay_count_containing(R, NULL, "/x?"), 0);
    ck_assert_uint_eq(imgsync_inventory_count(replay_ctx(R)), 1);
    ck_assert_uint_eq(rows_matching("lib/ok", "1"), 1);
}
END_TEST

/* ==== item 10: Harbor project names "." and ".." ============================================== */

/* Item 10: "." and ".." went into the URL as they are and libcurl removed the dot-segments, so
 * the repositories of ".." were asked at /api/v2.0/repositories (5701d55 src/providers/harbor.c
 * start_project: imgsync__url_escape keeps '.'), and the row said "2 of 1 repositories or
 * namespaces failed". */
START_TEST(test_harbor_dot_projects)
{
    harbor_base();
    harbor_json(u_projects(100), 3, NULL, fmt("[%s,%s,%s]", h_project(1, "."), h_project(2, ".."), h_project(3, "lib")));
    harbor_json(u_repos("lib", 100), 1, NULL, fmt("[%s]", h_repo(1, "lib/app")));
    harbor_json(u_artifacts("lib", "app", 100), 1, NULL, fmt("[%s]", h_artifact(1, D_A, "1")));
    imgsync_task *t = run_sync(NULL);
    for (size_t i = 0; i < replay_nrequests(R); i++) {
        const char *u = replay_request_at(R, i)->url;
        ck_assert_msg(strncmp(u, H_API "/repositories", strlen(H_API "/repositories")) != 0, "request to %s", u);
        ck_assert_msg(!strstr(u, "/./") && !strstr(u, "/../") && !strstr(u, "/projects/repositories"),
                      "dot segment in %s", u);
        if (!strncmp(u, H_API "/projects/", strlen(H_API "/projects/")))
            ck_assert_msg(!strncmp(u, H_API "/projects/lib/", strlen(H_API "/projects/lib/")), "project path left: %s", u);
    }
    expect_state(t, IMGSYNC_TASK_PARTIAL);
    ck_assert_uint_eq(rows_matching("lib/app", "1"), 1);
    uint64_t total = imgsync_task_counter(t, IMGSYNC_COUNT_REPOSITORIES_TOTAL);
    uint64_t failed = imgsync_task_counter(t, IMGSYNC_COUNT_REPOSITORIES_FAILED);
    ck_assert_msg(failed <= total, "%llu of %llu repositories failed", (unsigned long long)failed,
                  (unsigned long long)total);
    const char *reason = imgsync_task_registry_reason(t, 0);
    unsigned long a = 0, b = 0;
    const char *of = strstr(reason, " of ");
    if (of && sscanf(of - 1, "%lu of %lu", &a, &b) == 2)
        ck_assert_msg(a <= b, "row reason '%s'", reason);
    ck_assert_msg(error_for(t, ".", IMGSYNC_EPROTOCOL) >= 0 && error_for(t, "..", IMGSYNC_EPROTOCOL) >= 0,
                  "the dot projects did not fail: %s", reason);
    imgsync_task_free(t);
}
END_TEST

Suite *hostile_suite(void)
{
    Suite *s = suite_create("hostile");
    TCase *tc = tcase_create("oci");
    tcase_add_checked_fixture(tc, setup_oci, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_huge_tags_list_bounded);
    tcase_add_test(tc, test_deadline_inside_long_callback);
    tcase_add_test(tc, test_nul_in_catalog);
    tcase_add_test(tc, test_nul_in_tags);
    tcase_add_test(tc, test_endless_catalog_pages);
    tcase_add_test(tc, test_catalog_max_list_items);
    tcase_add_test(tc, test_tags_max_list_items);
    tcase_add_test(tc, test_server_text_sanitized);
    tcase_add_test(tc, test_forged_index_child);
    suite_add_tcase(s, tc);
    tc = tcase_create("secrets");
    tcase_add_checked_fixture(tc, secrets_setup, secrets_teardown);
    tcase_add_test(tc, test_secrets_redacted);
    tcase_add_test(tc, test_bearer_token_redacted);
    tcase_add_test(tc, test_secret_cut_by_truncation);
    tcase_add_test(tc, test_short_and_odd_secrets_redacted);
    suite_add_tcase(s, tc);
    tc = tcase_create("harbor");
    tcase_add_checked_fixture(tc, setup_harbor, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_nul_in_harbor_names);
    tcase_add_test(tc, test_nul_items_each_counted);
    tcase_add_test(tc, test_harbor_short_listing_fails);
    tcase_add_test(tc, test_endless_harbor_projects);
    tcase_add_test(tc, test_harbor_rows_validated);
    tcase_add_test(tc, test_harbor_dot_projects);
    suite_add_tcase(s, tc);
    return s;
}

#include "check_main.h"
IMGSYNC_TEST_MAIN(hostile_suite)
