/* Inventory reads and task snapshots from a second thread while the main thread drives syncs
 * (issue 7, thread safety): imgsync_iter_*, imgsync_inventory_count and imgsync_task_get* run in
 * a loop beside replay_sync, on the memory store and on the SQLite store. Every sync changes
 * every digest and the number of repositories, so scopes are replaced and pruned while the
 * reader takes snapshots. Meant to run under ThreadSanitizer (make tsan) as well as plainly and
 * under valgrind. */
#include <check.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check_main.h"
#include "imgsync.h"
#include "support/replay.h"

Suite *threads_suite(void);

#define EP "https://harbor.example.com"
#define API EP "/api/v2.0"
#define H_JSON "Content-Type: application/json\n"
#define NPROJ 3
#define MIN_REPOS 3 /* sync g lists MIN_REPOS + g % 3 repositories per project */
#define MAX_REPOS (MIN_REPOS + 2)
#define NTAGS 2
#define NSYNCS 6
#define MAX_ROWS (NPROJ * MAX_REPOS * NTAGS)

static replay *R;
static char tmpdir[64];

/* What the reader saw; written by the reader only, read after it is joined. */
typedef struct reader_stats {
    unsigned long iterations, rows, bad_rows, mixed_scopes, bad_counts, bad_tasks;
} reader_stats;

static int stop_flag;    /* set by the main thread (atomics: the reader polls it) */
static int reader_ready; /* set by the reader after its first pass */

/* Artifact digest of generation g for project i, repository k, tag t: the generation in the
 * first 8 hex digits, so that a reader can tell which sync wrote a row. */
static void digest_of(char *out, size_t len, int g, int i, int k, int t)
{
    snprintf(out, len, "sha256:%08x%056x", (unsigned)g, (unsigned)(i * 100 + k * 10 + t));
}

static void respond_list(const char *url, int total, const char *body)
{
    char headers[128];
    snprintf(headers, sizeof(headers), H_JSON "X-Total-Count: %d\n", total);
    ck_assert_int_eq(replay_respond(R, "GET", url, 200, headers, body), 0);
}

static void script_artifacts(int g, int i, int k)
{
    char url[256], body[512], d[80];
    size_t len = 0;
    len += (size_t)snprintf(body, sizeof(body), "[");
    for (int t = 0; t < NTAGS; t++) {
        digest_of(d, sizeof(d), g, i, k, t);
        len += (size_t)snprintf(body + len, sizeof(body) - len,
                                "%s{\"id\":%d,\"type\":\"IMAGE\",\"digest\":\"%s\",\"size\":%d,"
                                "\"tags\":[{\"name\":\"v%d\"}]}",
                                t ? "," : "", t + 1, d, 100 + g, t);
    }
    snprintf(body + len, sizeof(body) - len, "]");
    snprintf(url, sizeof(url), API "/projects/p%d/repositories/r%d/artifacts?with_tag=true&page=1&page_size=100", i,
             k);
    respond_list(url, NTAGS, body);
}

static void script_project(int g, int i, int nrepo)
{
    char url[256], repos[MAX_REPOS * 32 + 8];
    size_t len = (size_t)snprintf(repos, sizeof(repos), "[");
    for (int k = 0; k < nrepo; k++) {
        len += (size_t)snprintf(repos + len, sizeof(repos) - len, "%s{\"name\":\"p%d/r%d\"}", k ? "," : "", i, k);
        script_artifacts(g, i, k);
    }
    snprintf(repos + len, sizeof(repos) - len, "]");
    snprintf(url, sizeof(url), API "/projects/p%d/repositories?page=1&page_size=100", i);
    respond_list(url, nrepo, repos);
}

/* The whole registry as sync g sees it. */
static void script_generation(int g)
{
    char projects[NPROJ * 40 + 8];
    size_t len = (size_t)snprintf(projects, sizeof(projects), "[");
    replay_clear_responses(R);
    ck_assert_int_eq(replay_respond(R, "GET", EP "/api/version", 200, H_JSON, "{\"version\":\"v2.0\"}"), 0);
    ck_assert_int_eq(replay_respond(R, "GET", API "/systeminfo", 200, H_JSON,
                                    "{\"auth_mode\":\"db_auth\",\"harbor_version\":\"v2.11.1\"}"),
                     0);
    for (int i = 0; i < NPROJ; i++) {
        len += (size_t)snprintf(projects + len, sizeof(projects) - len, "%s{\"name\":\"p%d\",\"project_id\":%d}",
                                i ? "," : "", i, i + 1);
        script_project(g, i, MIN_REPOS + g % 3);
    }
    snprintf(projects + len, sizeof(projects) - len, "]");
    respond_list(API "/projects?page=1&page_size=100&with_detail=false", NPROJ, projects);
}

/* A row is whole: a repository, a digest of one of our generations, our registry. */
static int row_ok(const imgsync_image *im)
{
    const char *digest = imgsync_image_digest(im);
    return imgsync_image_repository(im)[0] && strncmp(digest, "sha256:", 7) == 0 && strlen(digest) == 7 + 64 &&
           strcmp(imgsync_image_registry(im), "hb") == 0 && imgsync_image_tag(im)[0] == 'v' &&
           imgsync_image_size(im) >= 100;
}

/* One snapshot: rows come sorted by repository, and a scope is committed whole, so every row of
 * one repository has the digest generation of the same sync. */
static void read_inventory(imgsync_ctx *ctx, reader_stats *st)
{
    imgsync_iter *it = NULL;
    if (imgsync_iter_new(&it, ctx, NULL) != 0) {
        st->bad_counts++;
        return;
    }
    const imgsync_image *im;
    char repo[64] = "", gen[16] = "";
    size_t n = 0;
    while ((im = imgsync_iter_next(it)) != NULL) {
        n++;
        if (!row_ok(im)) {
            st->bad_rows++;
            continue;
        }
        const char *d = imgsync_image_digest(im) + 7;
        if (strcmp(repo, imgsync_image_repository(im)) != 0) {
            snprintf(repo, sizeof(repo), "%s", imgsync_image_repository(im));
            snprintf(gen, sizeof(gen), "%.8s", d);
        } else if (strncmp(gen, d, 8) != 0) {
            st->mixed_scopes++;
        }
    }
    imgsync_iter_free(it);
    st->rows += n;
    if (n > MAX_ROWS || imgsync_inventory_count(ctx) > MAX_ROWS)
        st->bad_counts++;
}

/* The latest task and the same one by id, read through their getters. */
static void read_tasks(imgsync_ctx *ctx, reader_stats *st)
{
    imgsync_task *t = NULL, *again = NULL;
    if (imgsync_task_get_latest(&t, ctx) != 0)
        return; /* no task yet */
    uint64_t id = imgsync_task_id(t);
    if (id == 0 || id > NSYNCS || imgsync_task_registry_count(t) != 1 ||
        strcmp(imgsync_task_registry_name(t, 0), "hb") != 0 || imgsync_task_registry_reason(t, 0) == NULL ||
        imgsync_task_counter(t, IMGSYNC_COUNT_REPOSITORIES_DONE) > NPROJ * MAX_REPOS ||
        imgsync_task_state_name(imgsync_task_state_of(t)) == NULL)
        st->bad_tasks++;
    if (imgsync_task_get(&again, ctx, id) != 0 || imgsync_task_id(again) != id ||
        imgsync_task_counter(again, IMGSYNC_COUNT_IMAGES_FOUND) < imgsync_task_counter(t, IMGSYNC_COUNT_IMAGES_FOUND))
        st->bad_tasks++; /* counters only grow */
    imgsync_task_free(again);
    imgsync_task_free(t);
}

static void *reader(void *arg)
{
    reader_stats *st = arg;
    imgsync_ctx *ctx = replay_ctx(R);
    /* bounded: the main thread normally stops it long before */
    for (unsigned long i = 0; i < 1000000 && !__atomic_load_n(&stop_flag, __ATOMIC_ACQUIRE); i++) {
        read_inventory(ctx, st);
        read_tasks(ctx, st);
        st->iterations++;
        __atomic_store_n(&reader_ready, 1, __ATOMIC_RELEASE);
        sched_yield();
    }
    return NULL;
}

/* Sync generation g: driven by this thread (replay_sync), or by the context's worker thread
 * while this one waits (the scripts change only while the worker is idle: before sync_start,
 * which hands them over under the context's lock). */
static void sync_generation(int g, int worker)
{
    uint64_t id = 0;
    script_generation(g);
    if (worker) {
        ck_assert_int_eq(imgsync_sync_start(replay_ctx(R), NULL, &id), 0);
        ck_assert_int_eq(imgsync_task_wait(replay_ctx(R), id, 60000), 0);
    } else {
        ck_assert_int_eq(replay_sync(R, NULL, &id), 0);
    }
    imgsync_task *t = NULL;
    ck_assert_int_eq(imgsync_task_get(&t, replay_ctx(R), id), 0);
    ck_assert_msg(imgsync_task_state_of(t) == IMGSYNC_TASK_SUCCEEDED, "sync %d: %s", g,
                  imgsync_task_registry_reason(t, 0));
    imgsync_task_free(t);
    ck_assert_uint_eq(replay_unexpected(R), 0);
}

/* After the last sync: exactly its rows, all of its generation. */
static void expect_final(int g)
{
    imgsync_ctx *ctx = replay_ctx(R);
    size_t want = NPROJ * (MIN_REPOS + g % 3) * NTAGS, n = 0;
    ck_assert_uint_eq(imgsync_inventory_count(ctx), want);
    imgsync_iter *it = NULL;
    ck_assert_int_eq(imgsync_iter_new(&it, ctx, NULL), 0);
    const imgsync_image *im;
    char gen[16];
    snprintf(gen, sizeof(gen), "%08x", (unsigned)g);
    while ((im = imgsync_iter_next(it)) != NULL) {
        n++;
        ck_assert(row_ok(im));
        ck_assert_msg(strncmp(imgsync_image_digest(im) + 7, gen, 8) == 0, "%s", imgsync_image_digest(im));
    }
    imgsync_iter_free(it);
    ck_assert_uint_eq(n, want);
}

static void run_with_reader(int worker)
{
    reader_stats st;
    memset(&st, 0, sizeof(st));
    __atomic_store_n(&stop_flag, 0, __ATOMIC_RELEASE);
    __atomic_store_n(&reader_ready, 0, __ATOMIC_RELEASE);
    ck_assert_ptr_nonnull(replay_add_provider(R, "harbor", "hb", EP));
    pthread_t th;
    ck_assert_int_eq(pthread_create(&th, NULL, reader, &st), 0);
    while (!__atomic_load_n(&reader_ready, __ATOMIC_ACQUIRE))
        sched_yield(); /* the reader is running before the first sync starts */
    if (worker)
        ck_assert_int_eq(imgsync_ctx_start(replay_ctx(R)), 0);
    for (int g = 1; g <= NSYNCS; g++)
        sync_generation(g, worker);
    if (worker)
        ck_assert_int_eq(imgsync_ctx_stop(replay_ctx(R)), 0);
    __atomic_store_n(&stop_flag, 1, __ATOMIC_RELEASE);
    ck_assert_int_eq(pthread_join(th, NULL), 0);
    ck_assert_uint_ge(st.iterations, 1);
    ck_assert_msg(st.bad_rows == 0 && st.mixed_scopes == 0 && st.bad_counts == 0 && st.bad_tasks == 0,
                  "reader: %lu passes, %lu rows, %lu bad rows, %lu mixed scopes, %lu bad counts, %lu bad tasks",
                  st.iterations, st.rows, st.bad_rows, st.mixed_scopes, st.bad_counts, st.bad_tasks);
    expect_final(NSYNCS);
}

START_TEST(test_reader_beside_syncs_memory)
{
    R = replay_new();
    ck_assert_ptr_nonnull(R);
    run_with_reader(0);
    replay_free(R);
    R = NULL;
}
END_TEST

/* The same with the worker thread driving: three threads on one context. */
START_TEST(test_reader_beside_worker_memory)
{
    R = replay_new();
    ck_assert_ptr_nonnull(R);
    run_with_reader(1);
    replay_free(R);
    R = NULL;
}
END_TEST

START_TEST(test_reader_beside_syncs_sqlite)
{
    char uri[128];
    ck_assert(tmpdir[0]);
    snprintf(uri, sizeof(uri), "sqlite:%s/inv%d.db", tmpdir, _i); /* task ids start at 1 in each */
    R = replay_new_with_store(uri);
    ck_assert_ptr_nonnull(R);
    run_with_reader(_i);
    replay_free(R);
    R = NULL;
}
END_TEST

/* The database's directory is made and removed outside the forked test process (unchecked
 * fixture), so that it goes away even when a sanitizer report ends the test process. */
static void make_tmpdir(void)
{
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/imgsync-threads-XXXXXX");
    if (!mkdtemp(tmpdir))
        tmpdir[0] = '\0';
}

/* Remove the database and its WAL files, whatever the test did. */
static void remove_tmpdir(void)
{
    static const char *const files[] = {"inv%d.db", "inv%d.db-wal", "inv%d.db-shm"};
    char name[32], path[128];
    if (!tmpdir[0])
        return;
    for (int k = 0; k < 2; k++)
        for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
            snprintf(name, sizeof(name), files[i], k);
            snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
            unlink(path);
        }
    rmdir(tmpdir);
    tmpdir[0] = '\0';
}

Suite *threads_suite(void)
{
    Suite *s = suite_create("threads");
    TCase *tc = tcase_create("reader beside syncs");
    tcase_add_unchecked_fixture(tc, make_tmpdir, remove_tmpdir);
    tcase_set_timeout(tc, 120); /* TSan and valgrind slow the syncs down */
    tcase_add_test(tc, test_reader_beside_syncs_memory);
    tcase_add_loop_test(tc, test_reader_beside_syncs_sqlite, 0, 2); /* 1: the worker drives */
    tcase_add_test(tc, test_reader_beside_worker_memory);
    suite_add_tcase(s, tc);
    return s;
}

IMGSYNC_TEST_MAIN(threads_suite)
