/*
 * Integration tests of the "jfrog" provider against the Artifactory emulator
 * (tests/emulators/jfrog_emulator.py, written from shared/reference/swr-jfrog-oci-api.md §4,
 * §4.1, §5).
 *
 * One emulator for the suite (unchecked fixture): the sample dataset plus a generated local
 * repository "gen-local" (images at depths 1..4, one image with 120 tags). Each test starts from
 * POST /_emulator/reset; what is expected comes from GET /_emulator/inventory (default time
 * field: the manifest file's "modified", as the provider reads it).
 * Run from the repository root (as `make` does): ./build/tests/test_jfrog
 */
#include <check.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "imgsync.h"
#include "support/emulator_fixture.h"
#include "support/emulator_suite.h"
#include "util/buf.h"

Suite *jfrog_suite(void);

#define SCRIPT "tests/emulators/jfrog_emulator.py"
#define DATASET "tests/emulators/jfrog_dataset.json"
#define GENERATE "images=40,tags=2,big_tags=120"
#define WAIT_MS 120000
#define PROV "jf"
/* the dataset's users (emulator docstring) */
#define ADMIN_USER "admin"
#define ADMIN_PASS "admin-pass"
#define ADMIN_TOKEN "atk-admin-3f8a2b6c4d"
#define LIMITED_USER "limited" /* may not read team-local */
#define LIMITED_PASS "limited-pass"

static ef_emulator EMU;

static void emulator_start(void) { es_start(&EMU, SCRIPT, DATASET, GENERATE); }

static void emulator_stop(void) { ef_stop(&EMU); }

static imgsync_ctx *CTX;
static imgsync_provider *P;

static void setup(void) { es_setup(&EMU, &CTX); }

static void teardown(void) { es_teardown(&EMU, &CTX); }

static void set(const char *k, const char *v) { es_set(CTX, P, k, v); }

static void ctx_set(const char *k, const char *v) { ck_assert_int_eq(imgsync_ctx_set(CTX, k, v), 0); }

/* A jfrog provider on the emulator's platform URL (no path: "/artifactory" is implied). */
static void provider(const char *mode, const char *user, const char *pass)
{
    ck_assert_int_eq(imgsync_provider_new(&P, CTX, "jfrog", PROV), 0);
    set("endpoint", EMU.url);
    set("mode", mode);
    if (user) {
        set("username", user);
        set("password", pass);
    }
}

static imgsync_task *sync_now(void) { return es_sync(CTX, NULL, WAIT_MS); }

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


/* One row as compared: partition = namespace = key, and everything the emulator publishes. */
static char *row_line(const char *partition, const char *ns, const char *repository, const char *tag,
                      const char *digest, long long size, long long ms, const char *media_type, int multi,
                      const char *host)
{
    return imgsync__asprintf("%s|%s|%s|%s|%s|%lld|%lld|%s|%d|%s", partition, ns, repository, tag, digest, size, ms,
                             media_type, multi, host);
}

static long long num(yajl_val row, const char *key)
{
    yajl_val v = ef_member(row, key, yajl_t_number);
    return v && YAJL_IS_INTEGER(v) ? YAJL_GET_INTEGER(v) : -1;
}

/* The emulator's rows for repo_types `types`, without those of key `skip` (NULL: none). */
static void expected_rows(const char *types, const char *skip, lines *out)
{
    char target[160], *text = NULL;
    snprintf(target, sizeof(target), "/_emulator/inventory?repo_types=%s", types);
    ck_assert_int_eq(ef_control(&EMU, "GET", target, NULL, &text), 0);
    yajl_val rows = ef_parse_json(text, target);
    free(text);
    ck_assert(rows && YAJL_IS_ARRAY(rows));
    for (size_t i = 0; i < rows->u.array.len; i++) {
        yajl_val r = rows->u.array.values[i];
        const char *ns = ef_str(ef_member(r, "namespace", yajl_t_string));
        if (skip && !strcmp(ns, skip))
            continue;
        yajl_val multi = ef_member(r, "multi_arch", yajl_t_any);
        lines_add(out, row_line(ns, ns, ef_str(ef_member(r, "repository", yajl_t_string)),
                                ef_str(ef_member(r, "tag", yajl_t_string)), ef_str(ef_member(r, "digest", yajl_t_string)),
                                num(r, "size"), num(r, "update_time"), ef_str(ef_member(r, "media_type", yajl_t_string)),
                                YAJL_IS_TRUE(multi), ef_str(ef_member(r, "host", yajl_t_string))));
    }
    yajl_tree_free(rows);
}

static void actual_rows(lines *out)
{
    imgsync_iter *it = NULL;
    ck_assert_int_eq(imgsync_iter_new(&it, CTX, NULL), 0);
    const imgsync_image *im;
    while ((im = imgsync_iter_next(it)) != NULL) {
        ck_assert_str_eq(imgsync_image_registry_type(im), "Jfrog");
        ck_assert_str_eq(imgsync_image_image_type(im), "jfrog");
        lines_add(out, row_line(imgsync_image_partition(im), imgsync_image_namespace(im), imgsync_image_repository(im),
                                imgsync_image_tag(im), imgsync_image_digest(im), (long long)imgsync_image_size(im),
                                (long long)imgsync_image_update_ms(im), imgsync_image_media_type(im),
                                imgsync_image_multi_arch(im), imgsync_image_host(im)));
    }
    imgsync_iter_free(it);
}

/* The context's inventory equals the emulator's rows; returns their number. */
static size_t expect_inventory_without(const char *types, const char *skip)
{
    lines want = {NULL, 0}, got = {NULL, 0};
    expected_rows(types, skip, &want);
    actual_rows(&got);
    ck_assert_msg(ef_lines_diff(&want, &got, "jfrog") == 0, "the inventory differs from the emulator's (stderr)");
    size_t n = want.n;
    ck_assert_uint_gt(n, 0);
    ef_lines_free(&want);
    ef_lines_free(&got);
    return n;
}

static size_t expect_inventory(const char *types) { return expect_inventory_without(types, NULL); }

/* Rows whose repository starts with `prefix`. */
static size_t rows_under(const char *prefix)
{
    imgsync_iter *it = NULL;
    ck_assert_int_eq(imgsync_iter_new(&it, CTX, NULL), 0);
    size_t n = 0;
    const imgsync_image *im;
    while ((im = imgsync_iter_next(it)) != NULL)
        n += !strncmp(imgsync_image_repository(im), prefix, strlen(prefix));
    imgsync_iter_free(it);
    return n;
}

/* Requests the emulator counted: AQL searches, and Docker API requests whose path ends with
 * `suffix` ("/_catalog", "/tags/list"). */
static long emulator_count(const char *suffix)
{
    ef_stats st;
    ck_assert_int_eq(ef_stats_get(&EMU, &st), 0);
    long n = suffix ? ef_stats_sum(&st, "/artifactory/api/docker/", NULL, suffix)
                    : ef_stats_path(&st, "/artifactory/api/search/aql");
    ef_stats_free(&st);
    return n;
}

/* ---- v2 mode --------------------------------------------------------------------------------- */

START_TEST(test_v2_basic)
{
    provider("v2", ADMIN_USER, ADMIN_PASS);
    sync_expect(IMGSYNC_TASK_SUCCEEDED);
    expect_inventory("local,remote");
    ck_assert_uint_eq(rows_under("docker-virtual/"), 0); /* virtual: not by default */
    ck_assert_uint_eq(rows_under("docker-fed/"), 0);
    ck_assert_uint_gt(rows_under("dockerhub-remote/"), 0); /* a remote's key, never "-cache" */
    ck_assert_uint_eq(rows_under("dockerhub-remote-cache/"), 0);
}
END_TEST

START_TEST(test_v2_bearer_token)
{
    provider("v2", NULL, NULL);
    set("token", ADMIN_TOKEN);
    sync_expect(IMGSYNC_TASK_SUCCEEDED);
    expect_inventory("local,remote");
}
END_TEST

START_TEST(test_v2_artifactory_path_endpoint)
{
    provider("v2", ADMIN_USER, ADMIN_PASS);
    char *ep = imgsync__asprintf("%s/artifactory/", EMU.url);
    set("endpoint", ep);
    free(ep);
    sync_expect(IMGSYNC_TASK_SUCCEEDED);
    expect_inventory("local,remote");
}
END_TEST

/* Wrong password: EAUTH, no rows, never an empty success (the emulator allows anonymous reads
 * of docker-local, so an anonymous fallback would "succeed"). */
START_TEST(test_wrong_password)
{
    provider("v2", ADMIN_USER, "wrong-pass");
    imgsync_task *t = sync_now();
    expect_state(t, IMGSYNC_TASK_FAILED);
    ck_assert_uint_gt(imgsync_task_error_count(t), 0);
    ck_assert_int_eq(imgsync_task_error_code(t, 0), IMGSYNC_EAUTH);
    ck_assert_ptr_null(strstr(imgsync_task_registry_reason(t, 0), "wrong-pass"));
    imgsync_task_free(t);
    ck_assert_uint_eq(imgsync_inventory_count(CTX), 0);
    ck_assert_int_eq(imgsync_provider_check(P), IMGSYNC_EAUTH);
}
END_TEST

START_TEST(test_check_ok)
{
    provider("v2", ADMIN_USER, ADMIN_PASS);
    ck_assert_int_eq(imgsync_provider_check(P), 0);
}
END_TEST

/* A key the user may not read fails alone and keeps its rows: synced as admin, then as "limited"
 * (403 from team-local's Docker and storage APIs; AQL would just leave its items out). */
static void forbidden_key_kept(const char *mode)
{
    provider(mode, ADMIN_USER, ADMIN_PASS);
    sync_expect(IMGSYNC_TASK_SUCCEEDED);
    size_t team = rows_under("team-local/");
    ck_assert_uint_gt(team, 0);
    set("username", LIMITED_USER);
    set("password", LIMITED_PASS);
    sync_expect(IMGSYNC_TASK_PARTIAL);
    ck_assert_uint_eq(rows_under("team-local/"), team);
    expect_inventory("local,remote");
}

START_TEST(test_key_forbidden_fails_alone) { forbidden_key_kept("v2"); }
END_TEST

/* 503 on a key's catalog after the retries: that key fails, its rows kept, others sync. */
START_TEST(test_key_5xx_fails_alone)
{
    provider("v2", ADMIN_USER, ADMIN_PASS);
    sync_expect(IMGSYNC_TASK_SUCCEEDED);
    ctx_set("retry_base_ms", "5");
    ctx_set("retry_max_ms", "20");
    ctx_set("max_retries", "2");
    ck_assert_int_eq(ef_faults_add(&EMU, "{\"type\":\"503\",\"pattern\":\"^/artifactory/api/docker/gen-local/v2/_catalog\","
                                         "\"count\":-1}"),
                     0);
    size_t gen = rows_under("gen-local/");
    sync_expect(IMGSYNC_TASK_PARTIAL);
    ck_assert_uint_eq(rows_under("gen-local/"), gen);
    expect_inventory("local,remote");
}
END_TEST

START_TEST(test_repo_types)
{
    provider("v2", ADMIN_USER, ADMIN_PASS);
    set("repo_types", "local");
    sync_expect(IMGSYNC_TASK_SUCCEEDED);
    expect_inventory("local");
    set("repo_types", "federated,virtual");
    sync_expect(IMGSYNC_TASK_SUCCEEDED);
    expect_inventory("federated,virtual");
}
END_TEST

START_TEST(test_repos_option)
{
    provider("v2", ADMIN_USER, ADMIN_PASS);
    set("repos", "team-local,dockerhub-remote");
    sync_expect(IMGSYNC_TASK_SUCCEEDED);
    ck_assert_uint_eq(rows_under("docker-local/"), 0);
    ck_assert_uint_gt(rows_under("team-local/"), 0);
    ck_assert_uint_gt(rows_under("dockerhub-remote/"), 0);
}
END_TEST

/* Small catalog pages (Link paging), nested names up to 4 levels, digest "tags" give no row. */
START_TEST(test_paged_nested_digest_tags)
{
    provider("v2", ADMIN_USER, ADMIN_PASS);
    set("page_size", "7");
    sync_expect(IMGSYNC_TASK_SUCCEEDED);
    size_t n = expect_inventory("local,remote");
    ck_assert_uint_gt(n, 120);
    imgsync_iter *it = NULL;
    ck_assert_int_eq(imgsync_iter_new(&it, CTX, NULL), 0);
    const imgsync_image *im;
    size_t depth4 = 0;
    while ((im = imgsync_iter_next(it)) != NULL) {
        ck_assert_msg(strncmp(imgsync_image_tag(im), "sha256", 6) != 0, "digest tag %s", imgsync_image_tag(im));
        size_t slashes = 0;
        for (const char *c = imgsync_image_repository(im); *c; c++)
            slashes += *c == '/';
        depth4 += slashes == 4; /* "key/a/b/c/d": an image name of 4 levels */
    }
    imgsync_iter_free(it);
    ck_assert_uint_gt(depth4, 0);
}
END_TEST

START_TEST(test_faults_complete)
{
    ck_assert_int_eq(ef_faults_add(&EMU, "[{\"type\":\"503\",\"pattern\":\"^/artifactory/api\",\"rate\":0.1,\"seed\":1},"
                                         "{\"type\":\"429\",\"pattern\":\"^/artifactory/api\",\"rate\":0.05,\"seed\":2,"
                                         "\"retry_after\":\"0\"},"
                                         "{\"type\":\"slow\",\"pattern\":\"^/artifactory/api\",\"rate\":0.05,\"seed\":3,"
                                         "\"delay_ms\":200}]"),
                     0);
    ctx_set("retry_base_ms", "5");
    ctx_set("retry_max_ms", "50");
    ctx_set("max_retries", "12");
    provider("v2", ADMIN_USER, ADMIN_PASS);
    sync_expect(IMGSYNC_TASK_SUCCEEDED);
    expect_inventory("local,remote");
}
END_TEST

static imgsync_task *sync_request(const imgsync_request *req)
{
    uint64_t id = 0;
    int rc = imgsync_sync_start(CTX, req, &id);
    ck_assert_msg(rc == 0, "imgsync_sync_start: %s", imgsync_ctx_errmsg(CTX));
    ck_assert_int_eq(imgsync_task_wait(CTX, id, WAIT_MS), 0);
    imgsync_task *t = NULL;
    ck_assert_int_eq(imgsync_task_get(&t, CTX, id), 0);
    return t;
}

/* A namespace filter (a repository key) syncs that key only; a named repository ("key/image")
 * is listed directly, in either mode, and other rows stay. */
START_TEST(test_request_namespace_and_repository)
{
    provider("auto", ADMIN_USER, ADMIN_PASS);
    imgsync_request *req = NULL;
    ck_assert_int_eq(imgsync_request_new(&req), 0);
    ck_assert_int_eq(imgsync_request_add_filter(req, IMGSYNC_FILTER_NAMESPACE, "team-local", IMGSYNC_INCLUDE), 0);
    imgsync_task *t = sync_request(req);
    expect_state(t, IMGSYNC_TASK_SUCCEEDED);
    imgsync_task_free(t);
    imgsync_request_free(req);
    ck_assert_uint_eq(imgsync_inventory_count(CTX), rows_under("team-local/"));
    ck_assert_uint_gt(imgsync_inventory_count(CTX), 0);
    ck_assert_int_eq(imgsync_request_new(&req), 0);
    ck_assert_int_eq(imgsync_request_add_repository(req, PROV, "docker-local/team/app/api/server"), 0);
    ck_assert_int_eq(ef_stats_reset(&EMU), 0);
    t = sync_request(req);
    expect_state(t, IMGSYNC_TASK_SUCCEEDED);
    imgsync_task_free(t);
    imgsync_request_free(req);
    ck_assert_uint_eq(rows_under("docker-local/team/app/api/server"), 2); /* 1.0.0, 1.1.0; no digest row */
    ck_assert_uint_gt(rows_under("team-local/"), 0);
    ck_assert_int_eq(emulator_count("/_catalog"), 0);
}
END_TEST

/* No credentials (the dataset allows anonymous reads of docker-local): auto goes to the v2 walk
 * (AQL refuses anonymous callers) and syncs what an anonymous caller may read. */
START_TEST(test_anonymous_auto)
{
    provider("auto", NULL, NULL);
    set("repos", "docker-local");
    sync_expect(IMGSYNC_TASK_SUCCEEDED);
    ck_assert_uint_gt(rows_under("docker-local/"), 0);
    ck_assert_uint_eq(imgsync_inventory_count(CTX), rows_under("docker-local/"));
    ck_assert_int_eq(emulator_count(NULL), 0);
}
END_TEST

/* ---- AQL mode --------------------------------------------------------------------------------- */

/* The inventory's rows with their created time too (the emulator does not publish it: compared
 * between the two modes only). */
static void inventory_lines(lines *out)
{
    actual_rows(out);
    imgsync_iter *it = NULL;
    ck_assert_int_eq(imgsync_iter_new(&it, CTX, NULL), 0);
    const imgsync_image *im;
    while ((im = imgsync_iter_next(it)) != NULL) {
        ck_assert_int_gt(imgsync_image_created_ms(im), 0);
        lines_add(out, imgsync__asprintf("created|%s|%s|%lld", imgsync_image_repository(im), imgsync_image_tag(im),
                                         (long long)imgsync_image_created_ms(im)));
    }
    imgsync_iter_free(it);
}

/* AQL and the v2 walk give the same inventory, row by row, on the same dataset. */
START_TEST(test_aql_equals_v2)
{
    provider("v2", ADMIN_USER, ADMIN_PASS);
    sync_expect(IMGSYNC_TASK_SUCCEEDED);
    lines v2 = {NULL, 0}, aql = {NULL, 0};
    inventory_lines(&v2);
    imgsync_ctx_free(CTX);
    ck_assert_int_eq(imgsync_ctx_new(&CTX, NULL), 0);
    ck_assert_int_eq(ef_stats_reset(&EMU), 0);
    provider("aql", ADMIN_USER, ADMIN_PASS);
    set("page_size", "9"); /* several AQL pages per key */
    sync_expect(IMGSYNC_TASK_SUCCEEDED);
    inventory_lines(&aql);
    ck_assert_uint_gt(v2.n, 100);
    ck_assert_msg(ef_lines_diff(&v2, &aql, "v2 vs aql") == 0, "AQL and v2 inventories differ (stderr)");
    ef_lines_free(&v2);
    ef_lines_free(&aql);
    expect_inventory("local,remote");
    ck_assert_int_gt(emulator_count(NULL), 4);
    ck_assert_int_eq(emulator_count("/tags/list"), 0); /* no tag lists in AQL mode */
}
END_TEST

/* auto: an account without AQL rights (403) falls back to the v2 walk. */
START_TEST(test_auto_falls_back_without_aql)
{
    provider("auto", "noaql", "noaql-pass");
    sync_expect(IMGSYNC_TASK_SUCCEEDED);
    expect_inventory("local,remote");
    ck_assert_int_gt(emulator_count(NULL), 0);
    ck_assert_int_gt(emulator_count("/tags/list"), 0);
}
END_TEST

/* aql: the same account fails (no silent switch when the user asked for AQL). */
START_TEST(test_aql_mode_without_aql_fails)
{
    provider("aql", "noaql", "noaql-pass");
    sync_expect(IMGSYNC_TASK_FAILED);
    ck_assert_uint_eq(imgsync_inventory_count(CTX), 0);
}
END_TEST

/* AQL leaves out what a user may not read: the key fails alone instead of looking empty. */
START_TEST(test_aql_unreadable_key_fails_alone) { forbidden_key_kept("aql"); }
END_TEST

/* A virtual key stores nothing (AQL finds none of its items): it is walked through its Docker
 * API in every mode, and gives the same rows as in v2 mode. */
START_TEST(test_aql_virtual_key_walked)
{
    provider("aql", ADMIN_USER, ADMIN_PASS);
    set("repo_types", "virtual,federated"); /* federated: stored, found by AQL like local */
    sync_expect(IMGSYNC_TASK_SUCCEEDED);
    expect_inventory("virtual,federated");
}
END_TEST

START_TEST(test_aql_faults_complete)
{
    ck_assert_int_eq(ef_faults_add(&EMU, "[{\"type\":\"503\",\"pattern\":\"^/artifactory/api\",\"rate\":0.15,\"seed\":5},"
                                         "{\"type\":\"429\",\"pattern\":\"^/artifactory/api/search\",\"rate\":0.2,"
                                         "\"seed\":6,\"retry_after\":\"0\"}]"),
                     0);
    ctx_set("retry_base_ms", "5");
    ctx_set("retry_max_ms", "50");
    ctx_set("max_retries", "12");
    provider("aql", NULL, NULL);
    set("token", ADMIN_TOKEN);
    set("page_size", "25");
    sync_expect(IMGSYNC_TASK_SUCCEEDED);
    expect_inventory("local,remote");
}
END_TEST

/* Artifactory 6.x (emulator --version 6): tag lists need Accept: application/json (406
 * otherwise) and Link headers lack the "/artifactory/api/docker/{key}" prefix. Its own emulator,
 * so the suite's one is left as it is. */
/* A sync of a second emulator started with `args` (v2 mode, pages of 2): its inventory equals the
 * emulator's own. `token`: the access token instead of Basic. Returns the emulator's count of
 * requests to `path` (NULL: 0) before it stops. */
static long sync_other_emulator(const char *const *args, int token, const char *path)
{
    ef_emulator e;
    memset(&e, 0, sizeof(e));
    ck_assert_int_eq(ef_start(&e, SCRIPT, DATASET, NULL, NULL, args), 0);
    ck_assert_int_eq(imgsync_provider_new(&P, CTX, "jfrog", PROV), 0);
    set("endpoint", e.url);
    set(token ? "token" : "username", token ? ADMIN_TOKEN : ADMIN_USER);
    if (!token)
        set("password", ADMIN_PASS);
    set("mode", "v2");
    set("page_size", "2"); /* catalog pages: Link followed */
    imgsync_task *t = sync_now();
    int state = imgsync_task_state_of(t);
    const char *reason = imgsync_task_registry_reason(t, 0);
    char *why = imgsync__strdup(reason ? reason : "");
    imgsync_task_free(t);
    char *text = NULL;
    int rc = ef_control(&e, "GET", "/_emulator/inventory?repo_types=local,remote", NULL, &text);
    long hits = path ? ef_requests_of(&e, path) : 0;
    ef_stop(&e);
    ck_assert_msg(state == IMGSYNC_TASK_SUCCEEDED, "task %s: %s", imgsync_task_state_name(state), why);
    free(why);
    ck_assert_int_eq(rc, 0);
    yajl_val rows = ef_parse_json(text, "inventory");
    free(text);
    ck_assert(rows && YAJL_IS_ARRAY(rows));
    ck_assert_uint_eq(imgsync_inventory_count(CTX), rows->u.array.len);
    yajl_tree_free(rows);
    return hits;
}

START_TEST(test_artifactory6)
{
    static const char *const args[] = {"--version", "6", NULL};
    sync_other_emulator(args, 0, NULL);
}
END_TEST

/* A Docker API that takes only docker tokens: the access token gets one from the key's realm. */
START_TEST(test_token_docker_token_auth)
{
    static const char *const args[] = {"--docker-token-auth", NULL};
    long tokens = sync_other_emulator(args, 1, "/artifactory/api/docker/docker-local/v2/token");
    ck_assert_int_ge(tokens, 1);
}
END_TEST

Suite *jfrog_suite(void)
{
    Suite *s = suite_create("jfrog");
    TCase *tc = tcase_create("emulator");
    tcase_add_unchecked_fixture(tc, emulator_start, emulator_stop);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 180);
    tcase_add_test(tc, test_v2_basic);
    tcase_add_test(tc, test_v2_bearer_token);
    tcase_add_test(tc, test_v2_artifactory_path_endpoint);
    tcase_add_test(tc, test_wrong_password);
    tcase_add_test(tc, test_check_ok);
    tcase_add_test(tc, test_key_forbidden_fails_alone);
    tcase_add_test(tc, test_key_5xx_fails_alone);
    tcase_add_test(tc, test_repo_types);
    tcase_add_test(tc, test_repos_option);
    tcase_add_test(tc, test_paged_nested_digest_tags);
    tcase_add_test(tc, test_faults_complete);
    tcase_add_test(tc, test_aql_equals_v2);
    tcase_add_test(tc, test_auto_falls_back_without_aql);
    tcase_add_test(tc, test_aql_mode_without_aql_fails);
    tcase_add_test(tc, test_aql_unreadable_key_fails_alone);
    tcase_add_test(tc, test_aql_faults_complete);
    tcase_add_test(tc, test_aql_virtual_key_walked);
    tcase_add_test(tc, test_artifactory6);
    tcase_add_test(tc, test_token_docker_token_auth);
    tcase_add_test(tc, test_request_namespace_and_repository);
    tcase_add_test(tc, test_anonymous_auto);
    suite_add_tcase(s, tc);
    return s;
}

#include "check_main.h"
IMGSYNC_TEST_MAIN(jfrog_suite)
