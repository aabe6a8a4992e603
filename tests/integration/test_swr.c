/*
 * Integration tests of the "swr-private" and "swr-shared" providers against the SWR emulator
 * (tests/emulators/swr_emulator.py, written from shared/reference/swr-jfrog-oci-api.md; it
 * verifies AK/SK signatures and IAM tokens with its own implementation).
 *
 * One emulator for the suite (unchecked fixture): the sample dataset plus a generated account
 * "gen" (1,200 repositories, one of them with 150 tags). Each test starts from POST
 * /_emulator/reset; what is expected comes from the emulator's GET /_emulator/inventory.
 * Run from the repository root (as `make` does): ./build/tests/test_swr
 */
#include <check.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "imgsync.h"
#include "imgsync/sys/clock.h"
#include "support/emulator_fixture.h"
#include "support/emulator_suite.h"
#include "util/buf.h"

Suite *swr_suite(void);

#define SCRIPT "tests/emulators/swr_emulator.py"
#define DATASET "tests/emulators/swr_dataset.json"
#define GENERATE "repos=1200,tags=2,big_tags=150"
#define BIG_TAGS_PATH "/v2/manage/namespaces/gen-ns1/repos/big$many-tags/tags"
#define WAIT_MS 120000
#define PROV "swr"
/* the sample dataset's accounts (emulator docstring) */
#define ACME_AK "ACMEAKEXAMPLE0000001"
#define ACME_SK "acme-sk-0001-AbCdEfGhIjKlMnOpQrStUv"
#define ACME_PROJECT "0a1b2c3d4e5f60718293a4b5c6d7e8f9"
#define ACME_USER "acme-admin"
#define ACME_PASS "Acme#Admin-Pass1"
#define HOOLI_AK "HOOLIAK0000000000001" /* valid credentials, no SWR permission */
#define HOOLI_SK "hooli-sk-0001-AsDfGhJkL"
/* the generated account (--generate) */
#define GEN_AK "GENAK0000000000000001"
#define GEN_SK "gen-secret-key"
#define GEN_USER "gen-ops"
#define GEN_PASS "gen-pass"

static ef_emulator EMU;

static void emulator_start(void) { es_start(&EMU, SCRIPT, DATASET, GENERATE); }

static void emulator_stop(void) { ef_stop(&EMU); }

static imgsync_ctx *CTX;
static imgsync_provider *P;

static void setup(void) { es_setup(&EMU, &CTX); }

static void teardown(void) { es_teardown(&EMU, &CTX); }

static void set(const char *k, const char *v) { es_set(CTX, P, k, v); }

static void ctx_set(const char *k, const char *v) { ck_assert_int_eq(imgsync_ctx_set(CTX, k, v), 0); }

static void provider(const char *kind, const char *page_size)
{
    ck_assert_int_eq(imgsync_provider_new(&P, CTX, kind, PROV), 0);
    set("endpoint", EMU.url);
    set("region", "cn-north-4");
    if (page_size)
        set("page_size", page_size);
}

static void aksk(const char *ak, const char *sk)
{
    set("ak", ak);
    set("sk", sk);
}

static void password(const char *user, const char *pass, const char *domain)
{
    set("username", user);
    set("password", pass);
    set("domain", domain);
    set("iam_endpoint", EMU.url);
}

static imgsync_task *sync_request(const imgsync_request *req) { return es_sync(CTX, req, WAIT_MS); }

static imgsync_task *sync_now(void) { return sync_request(NULL); }

static void expect_state(imgsync_task *t, int state) { es_expect_state(t, state); }

static void sync_expect(int state)
{
    imgsync_task *t = sync_now();
    expect_state(t, state);
    imgsync_task_free(t);
}

/* ---- inventories as sorted lines ----------------------------------------------------------- */

typedef ef_lines lines;

static void lines_add(lines *l, char *s) { ck_assert_int_eq(ef_lines_add(l, s), 0); }

/* One row as the tests compare it: everything SWR publishes about a tag. */
static char *row_line(const char *partition, const char *repository, const char *tag, const char *digest,
                      long long size, long long ms, int multi, const char *ns, const char *type, const char *owner,
                      const char *share)
{
    return imgsync__asprintf("%s|%s|%s|%s|%lld|%lld|%d|%s|%s|%s|%s", partition, repository, tag, digest, size, ms,
                             multi, ns, type, owner ? owner : "", share ? share : "");
}

static long long num(yajl_val row, const char *key)
{
    yajl_val v = ef_member(row, key, yajl_t_number);
    return v && YAJL_IS_INTEGER(v) ? YAJL_GET_INTEGER(v) : -1;
}

/* The rows `account` can list, of kind "private" or "shared", as the emulator publishes them;
 * only those of namespace `only_ns` / repository `only_repo` when not NULL. */
static void expected_rows_of(const char *account, const char *kind, const char *only_ns, const char *only_repo,
                             lines *out)
{
    char target[128], *text = NULL;
    snprintf(target, sizeof(target), "/_emulator/inventory?account=%s&kind=%s", account, kind);
    ck_assert_int_eq(ef_control(&EMU, "GET", target, NULL, &text), 0);
    yajl_val rows = ef_parse_json(text, target);
    free(text);
    ck_assert(rows && YAJL_IS_ARRAY(rows));
    int shared = !strcmp(kind, "shared");
    for (size_t i = 0; i < rows->u.array.len; i++) {
        yajl_val r = rows->u.array.values[i];
        const char *ns = ef_str(ef_member(r, "namespace", yajl_t_string));
        char *repo = imgsync__asprintf("%s/%s", ns, ef_str(ef_member(r, "repository", yajl_t_string)));
        ck_assert_ptr_nonnull(repo);
        if ((only_ns && strcmp(ns, only_ns)) || (only_repo && strcmp(repo, only_repo))) {
            free(repo);
            continue;
        }
        const char *owner = shared ? ef_str(ef_member(r, "owner", yajl_t_string)) : "";
        lines_add(out, row_line(owner, repo, ef_str(ef_member(r, "tag", yajl_t_string)),
                                ef_str(ef_member(r, "digest", yajl_t_string)), num(r, "size"), num(r, "updated_ms"),
                                num(r, "tag_type") == 1, ns, shared ? "shared_image" : "private_image", owner,
                                shared ? ef_str(ef_member(r, "share_status", yajl_t_string)) : ""));
        free(repo);
    }
    yajl_tree_free(rows);
}

static void actual_rows(lines *out)
{
    imgsync_iter *it = NULL;
    ck_assert_int_eq(imgsync_iter_new(&it, CTX, NULL), 0);
    const imgsync_image *im;
    while ((im = imgsync_iter_next(it)) != NULL)
        lines_add(out, row_line(imgsync_image_partition(im), imgsync_image_repository(im), imgsync_image_tag(im),
                                imgsync_image_digest(im), (long long)imgsync_image_size(im),
                                (long long)imgsync_image_update_ms(im), imgsync_image_multi_arch(im),
                                imgsync_image_namespace(im), imgsync_image_image_type(im), imgsync_image_owner(im),
                                imgsync_image_share_status(im)));
    imgsync_iter_free(it);
}

/* The context's inventory equals the emulator's rows of (account, kind), restricted to a
 * namespace or a repository when not NULL; returns their number. */
static size_t expect_inventory_of(const char *account, const char *kind, const char *only_ns, const char *only_repo)
{
    lines want = {NULL, 0}, got = {NULL, 0};
    expected_rows_of(account, kind, only_ns, only_repo, &want);
    actual_rows(&got);
    ck_assert_msg(ef_lines_diff(&want, &got, account) == 0, "the inventory differs from the emulator's (stderr)");
    size_t n = want.n;
    ck_assert_uint_gt(n, 0);
    ef_lines_free(&want);
    ef_lines_free(&got);
    return n;
}

static size_t expect_inventory(const char *account, const char *kind)
{
    return expect_inventory_of(account, kind, NULL, NULL);
}

/* ---- emulator statistics ---------------------------------------------------------------------- */

static long stats_number(const char *key, const char *sub) { return ef_stats_number(&EMU, key, sub); }

static long requests_of(const char *path) { return ef_requests_of(&EMU, path); }

/* ---- the sample dataset --------------------------------------------------------------------- */

START_TEST(test_private_aksk)
{
    provider("swr-private", "2"); /* acme: 6 repositories, 3 tags in team/app: several pages */
    aksk(ACME_AK, ACME_SK);
    set("project_id", ACME_PROJECT);
    sync_expect(IMGSYNC_TASK_SUCCEEDED);
    expect_inventory("acme", "private");
    ck_assert_int_gt(stats_number("auth", "aksk"), 0);
    ck_assert_int_eq(stats_number("auth", "token"), 0);
}
END_TEST

START_TEST(test_private_password)
{
    provider("swr-private", "2");
    password(ACME_USER, ACME_PASS, "acme");
    sync_expect(IMGSYNC_TASK_SUCCEEDED);
    expect_inventory("acme", "private");
    ck_assert_int_eq(stats_number("iam_tokens", NULL), 1); /* one token for the whole sync */
    ck_assert_int_eq(stats_number("auth", "aksk"), 0);
}
END_TEST

/* The IAM token is kept across syncs of the registry (until 5 minutes before it expires): IAM
 * is asked once for several syncs; a token SWR no longer accepts is replaced (the refused pages
 * are sent again); other options (another password, say) never reuse it. */
START_TEST(test_token_kept_across_syncs)
{
    provider("swr-private", "2");
    password(ACME_USER, ACME_PASS, "acme");
    sync_expect(IMGSYNC_TASK_SUCCEEDED);
    sync_expect(IMGSYNC_TASK_SUCCEEDED);
    ck_assert_int_eq(stats_number("iam_tokens", NULL), 1);
    ck_assert_int_eq(ef_control(&EMU, "POST", "/_emulator/tokens/expire", "{}", NULL), 0);
    sync_expect(IMGSYNC_TASK_SUCCEEDED);
    ck_assert_int_eq(stats_number("iam_tokens", NULL), 2);
    ck_assert_int_gt(stats_number("status", "401"), 0);
    expect_inventory("acme", "private");
    set("page_size", "3");
    sync_expect(IMGSYNC_TASK_SUCCEEDED);
    ck_assert_int_eq(stats_number("iam_tokens", NULL), 3);
    expect_inventory("acme", "private");
}
END_TEST

START_TEST(test_shared_aksk)
{
    provider("swr-shared", "2");
    aksk(ACME_AK, ACME_SK);
    sync_expect(IMGSYNC_TASK_SUCCEEDED);
    expect_inventory("acme", "shared");
    /* two owners, one expired share (the dataset's promise, checked on what was synced) */
    size_t expired = 0, globex = 0, umbrella = 0;
    imgsync_iter *it = NULL;
    ck_assert_int_eq(imgsync_iter_new(&it, CTX, NULL), 0);
    const imgsync_image *im;
    while ((im = imgsync_iter_next(it)) != NULL) {
        expired += !strcmp(imgsync_image_share_status(im), "expired");
        globex += !strcmp(imgsync_image_owner(im), "globex");
        umbrella += !strcmp(imgsync_image_owner(im), "umbrella");
    }
    imgsync_iter_free(it);
    ck_assert_uint_gt(expired, 0);
    ck_assert_uint_gt(globex, 0);
    ck_assert_uint_gt(umbrella, 0);
}
END_TEST

START_TEST(test_not_authorized_for_swr)
{
    provider("swr-private", NULL);
    aksk(HOOLI_AK, HOOLI_SK);
    imgsync_task *t = sync_now();
    expect_state(t, IMGSYNC_TASK_FAILED);
    ck_assert_ptr_nonnull(strstr(imgsync_task_registry_reason(t, 0), "not authorized for SWR"));
    ck_assert_ptr_nonnull(strstr(imgsync_task_registry_reason(t, 0), "SVCSTG.SWR.403"));
    ck_assert_ptr_nonnull(strstr(imgsync_task_registry_reason(t, 0), "'" PROV "'"));
    imgsync_task_free(t);
    ck_assert_uint_eq(imgsync_inventory_count(CTX), 0);
}
END_TEST

/* A wrong SK after a good sync: EAUTH, the secret nowhere, the previous rows kept. */
START_TEST(test_wrong_sk_keeps_rows)
{
    provider("swr-private", NULL);
    aksk(ACME_AK, ACME_SK);
    sync_expect(IMGSYNC_TASK_SUCCEEDED);
    size_t before = imgsync_inventory_count(CTX);
    ck_assert_uint_gt(before, 0);
    set("sk", "not-the-secret-key");
    imgsync_task *t = sync_now();
    expect_state(t, IMGSYNC_TASK_FAILED);
    ck_assert_int_eq(imgsync_task_registry_error(t, 0), IMGSYNC_EAUTH);
    ck_assert_ptr_nonnull(strstr(imgsync_task_registry_reason(t, 0), "APIGW.0301"));
    ck_assert_ptr_null(strstr(imgsync_task_registry_reason(t, 0), "not-the-secret-key"));
    imgsync_task_free(t);
    expect_inventory("acme", "private");
}
END_TEST

/* A request altered after it was signed (a proxy adds a query parameter to the third tag list):
 * SWR refuses the signature (401 APIGW.0301); the registry fails with EAUTH (the repositories
 * committed before stay synced: the task is partial), the SK is nowhere, no row is lost. */
START_TEST(test_tampered_signature)
{
    provider("swr-private", NULL);
    aksk(ACME_AK, ACME_SK);
    sync_expect(IMGSYNC_TASK_SUCCEEDED);
    ck_assert_int_eq(ef_faults_add(&EMU, "{\"type\":\"tamper\",\"pattern\":\"/tags\",\"after\":2}"), 0);
    imgsync_task *t = sync_now();
    expect_state(t, IMGSYNC_TASK_PARTIAL);
    ck_assert_int_eq(imgsync_task_registry_error(t, 0), IMGSYNC_EAUTH);
    ck_assert_ptr_nonnull(strstr(imgsync_task_registry_reason(t, 0), "APIGW.0301"));
    ck_assert_ptr_null(strstr(imgsync_task_registry_reason(t, 0), ACME_SK));
    imgsync_task_free(t);
    ck_assert_int_eq(ef_rule_fired(&EMU, "/tags"), 1);
    ck_assert_int_eq(stats_number("status", "401"), 1);
    expect_inventory("acme", "private");
}
END_TEST

START_TEST(test_wrong_password)
{
    provider("swr-private", NULL);
    password(ACME_USER, "Wrong#Pass", "acme");
    imgsync_task *t = sync_now();
    expect_state(t, IMGSYNC_TASK_FAILED);
    ck_assert_int_eq(imgsync_task_registry_error(t, 0), IMGSYNC_EAUTH);
    ck_assert_ptr_null(strstr(imgsync_task_registry_reason(t, 0), "Wrong#Pass"));
    imgsync_task_free(t);
    ck_assert_uint_eq(imgsync_inventory_count(CTX), 0);
}
END_TEST

/* A client clock 20 minutes ahead: SWR refuses X-Sdk-Date (more than 15 minutes off). */
static int64_t skewed_now(void *payload)
{
    (void)payload;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + 20 * 60 * 1000;
}

static int64_t real_mono(void *payload)
{
    (void)payload;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

START_TEST(test_sdk_date_skew)
{
    imgsync_clock clock = {IMGSYNC_CLOCK_VERSION, skewed_now, real_mono, NULL};
    ck_assert_int_eq(imgsync_ctx_set_clock(CTX, &clock), 0);
    provider("swr-private", NULL);
    aksk(ACME_AK, ACME_SK);
    imgsync_task *t = sync_now();
    expect_state(t, IMGSYNC_TASK_FAILED);
    ck_assert_int_eq(imgsync_task_registry_error(t, 0), IMGSYNC_EAUTH);
    ck_assert_ptr_nonnull(strstr(imgsync_task_registry_reason(t, 0), "APIGW.0301"));
    imgsync_task_free(t);
    ck_assert_uint_eq(imgsync_inventory_count(CTX), 0);
}
END_TEST

/* CPU time of this process (the emulator is a child: not counted), in ms. */
static long cpu_ms(void)
{
    struct rusage ru;
    ck_assert_int_eq(getrusage(RUSAGE_SELF, &ru), 0);
    return (long)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000 + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1000;
}

/* imgsync_task_wait while the server takes 1.5 s to answer sleeps in the network wait: it does
 * not spin (it used to wake its own engine on every poll of the task state: ~100 % CPU). */
START_TEST(test_wait_does_not_spin)
{
    ck_assert_int_eq(ef_faults_add(&EMU, "{\"type\":\"slow\",\"delay_ms\":1500,\"pattern\":\"^/v2/manage/repos\"}"), 0);
    provider("swr-private", NULL);
    aksk(ACME_AK, ACME_SK);
    long before = cpu_ms();
    sync_expect(IMGSYNC_TASK_SUCCEEDED);
    long used = cpu_ms() - before;
    ck_assert_int_eq(ef_rule_fired(&EMU, "^/v2/manage/repos"), 1);
    ck_assert_msg(used < 700, "%ld ms of CPU for a sync that waited 1.5 s for one answer", used);
    expect_inventory("acme", "private");
}
END_TEST

/* A namespace filter becomes the list's `namespace` hint: only that organization is listed. */
START_TEST(test_namespace_hint)
{
    ck_assert_int_eq(ef_probe(&EMU, "^/v2/manage/repos\\?namespace=acme-dev&"), 0);
    provider("swr-private", NULL);
    aksk(ACME_AK, ACME_SK);
    imgsync_request *req = NULL;
    ck_assert_int_eq(imgsync_request_new(&req), 0);
    ck_assert_int_eq(imgsync_request_add_filter(req, IMGSYNC_FILTER_NAMESPACE, "acme-dev", IMGSYNC_INCLUDE), 0);
    imgsync_task *t = sync_request(req);
    expect_state(t, IMGSYNC_TASK_SUCCEEDED);
    imgsync_task_free(t);
    imgsync_request_free(req);
    ck_assert_uint_eq(expect_inventory_of("acme", "private", "acme-dev", NULL), 3);
    ck_assert_int_eq(ef_rule_seen(&EMU, "^/v2/manage/repos\\?namespace=acme-dev&"), 1);
    ck_assert_int_eq(requests_of("/v2/manage/repos"), 1);
}
END_TEST

/* A repository named in the request is fetched directly: no repository list at all. */
START_TEST(test_named_repository)
{
    provider("swr-private", "2");
    aksk(ACME_AK, ACME_SK);
    imgsync_request *req = NULL;
    ck_assert_int_eq(imgsync_request_new(&req), 0);
    ck_assert_int_eq(imgsync_request_add_repository(req, PROV, "acme/team/app"), 0);
    imgsync_task *t = sync_request(req);
    expect_state(t, IMGSYNC_TASK_SUCCEEDED);
    imgsync_task_free(t);
    imgsync_request_free(req);
    ck_assert_uint_eq(expect_inventory_of("acme", "private", NULL, "acme/team/app"), 3);
    ck_assert_int_eq(requests_of("/v2/manage/repos"), 0);
    ck_assert_int_eq(requests_of("/v2/manage/namespaces/acme/repos/team$app/tags"), 2);
}
END_TEST

/* An embedder drives the context with imgsync_ctx_perform(ctx, 4000) in a loop while the server
 * takes 2.5 s to answer; another thread's API call must get the context promptly (its wakeup cuts
 * the network wait short), not after the driver's whole wait. */
typedef struct driver_arg {
    uint64_t id;
    volatile int done;
} driver_arg;

static void *drive_until_done(void *arg)
{
    driver_arg *d = arg;
    for (;;) {
        imgsync_task *t = NULL;
        if (imgsync_task_get(&t, CTX, d->id) == 0) {
            int st = imgsync_task_state_of(t);
            imgsync_task_free(t);
            if (st == IMGSYNC_TASK_SUCCEEDED || st == IMGSYNC_TASK_FAILED || st == IMGSYNC_TASK_CANCELED)
                break;
        }
        if (imgsync_ctx_perform(CTX, 4000) < 0)
            break;
    }
    __atomic_store_n(&d->done, 1, __ATOMIC_SEQ_CST);
    return NULL;
}

START_TEST(test_api_call_beside_perform_loop_is_prompt)
{
    ck_assert_int_eq(ef_faults_add(&EMU, "{\"type\":\"slow\",\"delay_ms\":2500,\"pattern\":\"^/v2/manage/repos\"}"), 0);
    provider("swr-private", NULL);
    aksk(ACME_AK, ACME_SK);
    driver_arg d = {0, 0};
    ck_assert_int_eq(imgsync_sync_start(CTX, NULL, &d.id), 0);
    pthread_t th;
    ck_assert_int_eq(pthread_create(&th, NULL, drive_until_done, &d), 0);
    struct timespec pause = {0, 300 * 1000000L};
    nanosleep(&pause, NULL); /* the driver is in the network wait by now */
    int64_t worst = 0;
    for (int i = 0; i < 5 && !__atomic_load_n(&d.done, __ATOMIC_SEQ_CST); i++) {
        int64_t t0 = real_mono(NULL);
        ck_assert_int_eq(imgsync_ctx_set_event_callback(CTX, NULL, NULL), 0);
        int64_t took = real_mono(NULL) - t0;
        if (took > worst)
            worst = took;
        struct timespec gap = {0, 50 * 1000000L};
        nanosleep(&gap, NULL);
    }
    pthread_join(th, NULL);
    ck_assert_msg(worst < 500, "an API call beside imgsync_ctx_perform(4000) blocked %lld ms", (long long)worst);
    expect_inventory("acme", "private");
}
END_TEST

/* Two threads wait for the same sync with imgsync_task_wait (no worker: each drives the context
 * in turn) while the server takes 1.5 s to answer: they must not wake each other's network wait
 * back and forth (a spin). */
static void *wait_task(void *arg)
{
    driver_arg *d = arg;
    d->done = imgsync_task_wait(CTX, d->id, WAIT_MS) == 0 ? 1 : -1;
    return NULL;
}

START_TEST(test_two_waiters_do_not_spin)
{
    ck_assert_int_eq(ef_faults_add(&EMU, "{\"type\":\"slow\",\"delay_ms\":1500,\"pattern\":\"^/v2/manage/repos\"}"), 0);
    provider("swr-private", NULL);
    aksk(ACME_AK, ACME_SK);
    driver_arg a = {0, 0}, b = {0, 0};
    ck_assert_int_eq(imgsync_sync_start(CTX, NULL, &a.id), 0);
    b.id = a.id;
    long before = cpu_ms();
    pthread_t ta, tb;
    ck_assert_int_eq(pthread_create(&ta, NULL, wait_task, &a), 0);
    ck_assert_int_eq(pthread_create(&tb, NULL, wait_task, &b), 0);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    long used = cpu_ms() - before;
    ck_assert_int_eq(a.done, 1);
    ck_assert_int_eq(b.done, 1);
    ck_assert_msg(used < 300, "%ld ms of CPU for two threads waiting 1.5 s for one answer", used);
    expect_inventory("acme", "private");
}
END_TEST

/* A second thread's imgsync_task_wait with a short timeout, while a first thread waits for the
 * same sync (no worker) and the server takes 2.5 s to answer, returns after its own timeout: it
 * does not stay blocked on the context until the first waiter's sync ends. */
START_TEST(test_second_waiter_timeout_honoured)
{
    ck_assert_int_eq(ef_faults_add(&EMU, "{\"type\":\"slow\",\"delay_ms\":2500,\"pattern\":\"^/v2/manage/repos\"}"), 0);
    provider("swr-private", NULL);
    aksk(ACME_AK, ACME_SK);
    driver_arg a = {0, 0};
    ck_assert_int_eq(imgsync_sync_start(CTX, NULL, &a.id), 0);
    pthread_t ta;
    ck_assert_int_eq(pthread_create(&ta, NULL, wait_task, &a), 0);
    struct timespec pause = {0, 300 * 1000000L};
    nanosleep(&pause, NULL);
    int64_t t0 = real_mono(NULL);
    int rc = imgsync_task_wait(CTX, a.id, 500);
    int64_t took = real_mono(NULL) - t0;
    pthread_join(ta, NULL);
    ck_assert_int_eq(a.done, 1);
    ck_assert_msg(rc == IMGSYNC_ETIMEOUT && took < 1500,
                  "imgsync_task_wait(500 ms) beside another waiter: rc %d after %lld ms", rc, (long long)took);
}
END_TEST

/* ---- the generated account: paging, token expiry, faults, throttling --------------------------- */

/* 1,200 repositories in pages of 100 (12 pages), 150 tags in one repository (2 pages). */
START_TEST(test_large_paged)
{
    provider("swr-private", "100");
    aksk(GEN_AK, GEN_SK);
    sync_expect(IMGSYNC_TASK_SUCCEEDED);
    ck_assert_uint_eq(expect_inventory("gen", "private"), 1199 * 2 + 150);
    ck_assert_int_eq(requests_of("/v2/manage/repos"), 12);
    ck_assert_int_eq(requests_of(BIG_TAGS_PATH), 2);
}
END_TEST

/* The default page size (1000): 2 pages of repositories, the 150 tags in one. */
START_TEST(test_large_default_pages)
{
    provider("swr-private", NULL);
    aksk(GEN_AK, GEN_SK);
    sync_expect(IMGSYNC_TASK_SUCCEEDED);
    ck_assert_uint_eq(expect_inventory("gen", "private"), 1199 * 2 + 150);
    ck_assert_int_eq(requests_of("/v2/manage/repos"), 2);
    ck_assert_int_eq(requests_of(BIG_TAGS_PATH), 1);
}
END_TEST

/* Every IAM token expires in the middle of the tag walks: the pages refused with 401 are sent
 * again with one new token, the inventory is complete. */
START_TEST(test_token_expiry_mid_sync)
{
    ck_assert_int_eq(ef_faults_add(&EMU, "{\"type\":\"expire_tokens\",\"pattern\":\"/tags\",\"after\":300,"
                                         "\"count\":1}"),
                     0);
    provider("swr-private", NULL);
    password(GEN_USER, GEN_PASS, "gen");
    sync_expect(IMGSYNC_TASK_SUCCEEDED);
    expect_inventory("gen", "private");
    ck_assert_int_eq(ef_rule_fired(&EMU, "/tags"), 1);
    ck_assert_int_eq(stats_number("iam_tokens", NULL), 2);
    ck_assert_int_gt(stats_number("status", "401"), 0); /* the expiry was seen mid-sync */
}
END_TEST

/* 10 % of SWR's answers are 500, 503, 429 or a reset connection: everything is retried. */
START_TEST(test_faults_complete)
{
    ck_assert_int_eq(ef_faults_add(&EMU, "[{\"type\":\"500\",\"pattern\":\"^/v2/manage\",\"rate\":0.04,\"seed\":1},"
                                         "{\"type\":\"503\",\"pattern\":\"^/v2/manage\",\"rate\":0.04,\"seed\":2},"
                                         "{\"type\":\"429\",\"pattern\":\"^/v2/manage\",\"rate\":0.01,\"seed\":3,"
                                         "\"retry_after\":\"0\"},"
                                         "{\"type\":\"reset\",\"pattern\":\"^/v2/manage\",\"rate\":0.01,\"seed\":4}]"),
                     0);
    ctx_set("retry_base_ms", "5");
    ctx_set("retry_max_ms", "50");
    ctx_set("max_retries", "12"); /* 10 % per attempt: a request fails 13 times with p = 1e-13 */
    provider("swr-private", "100");
    aksk(GEN_AK, GEN_SK);
    sync_expect(IMGSYNC_TASK_SUCCEEDED);
    expect_inventory("gen", "private");
    ck_assert_int_gt(ef_rule_fired(&EMU, "^/v2/manage"), 10); /* the first rule (500) fired */
    ck_assert_int_gt(stats_number("status", "503"), 10);
    ck_assert_int_gt(stats_number("status", "429"), 3);
}
END_TEST

/* SWR throttles the account (token bucket, 429 + Retry-After: 1): a sync of 1,200 repositories
 * ends complete with no 429 left unretried. */
START_TEST(test_throttled_complete)
{
    ck_assert_int_eq(ef_config(&EMU, "{\"throttle\":{\"gen\":{\"rate\":400,\"burst\":20}}}"), 0);
    provider("swr-private", "100");
    aksk(GEN_AK, GEN_SK);
    sync_expect(IMGSYNC_TASK_SUCCEEDED);
    expect_inventory("gen", "private");
    ck_assert_int_gt(stats_number("throttled", NULL), 0);
}
END_TEST

Suite *swr_suite(void)
{
    Suite *s = suite_create("swr");
    TCase *tc = tcase_create("emulator");
    tcase_add_unchecked_fixture(tc, emulator_start, emulator_stop);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 180);
    tcase_add_test(tc, test_private_aksk);
    tcase_add_test(tc, test_private_password);
    tcase_add_test(tc, test_token_kept_across_syncs);
    tcase_add_test(tc, test_shared_aksk);
    tcase_add_test(tc, test_not_authorized_for_swr);
    tcase_add_test(tc, test_wrong_sk_keeps_rows);
    tcase_add_test(tc, test_wrong_password);
    tcase_add_test(tc, test_tampered_signature);
    tcase_add_test(tc, test_sdk_date_skew);
    tcase_add_test(tc, test_wait_does_not_spin);
    tcase_add_test(tc, test_namespace_hint);
    tcase_add_test(tc, test_named_repository);
    tcase_add_test(tc, test_api_call_beside_perform_loop_is_prompt);
    tcase_add_test(tc, test_two_waiters_do_not_spin);
    tcase_add_test(tc, test_second_waiter_timeout_honoured);
    tcase_add_test(tc, test_large_paged);
    tcase_add_test(tc, test_large_default_pages);
    tcase_add_test(tc, test_token_expiry_mid_sync);
    tcase_add_test(tc, test_faults_complete);
    tcase_add_test(tc, test_throttled_complete);
    suite_add_tcase(s, tc);
    return s;
}

#include "check_main.h"
IMGSYNC_TEST_MAIN(swr_suite)
