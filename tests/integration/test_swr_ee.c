/*
 * Integration tests of the "swr-enterprise" provider against the SWR EE emulator
 * (tests/emulators/swr_ee_emulator.py, written from shared/reference/swr-jfrog-oci-api.md §2 and
 * §3; it verifies AK/SK signatures and IAM tokens with its own implementation).
 *
 * One emulator for the suite (unchecked fixture): the sample dataset plus a generated account
 * "gen" (120 instances, the first Running with 30 repositories, one of them with 150 artifacts).
 * Each test starts from POST /_emulator/reset; what is expected comes from the emulator's
 * GET /_emulator/inventory. Run from the repository root (as `make` does): ./build/tests/test_swr_ee
 */
#include <check.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "imgsync.h"
#include "support/emulator_fixture.h"
#include "support/emulator_suite.h"
#include "util/buf.h"

Suite *swr_ee_suite(void);

#define SCRIPT "tests/emulators/swr_ee_emulator.py"
#define DATASET "tests/emulators/swr_ee_dataset.json"
#define GENERATE "instances=120,repos=30,big=150"
#define WAIT_MS 120000
#define PROV "ee"
/* the sample dataset's accounts (emulator docstring); project ids of accounts without one are
 * md5("p:" + account) */
#define ACME_AK "ACMEEEAK000000000001"
#define ACME_SK "acme-ee-sk-0001-AbCdEfGhIjKlMnOp"
#define ACME_PROJECT "3f2e1d0c9b8a79685746352413021f0e"
#define ACME_PROD "2c9b6f2e-7d1a-4c52-9f0e-0a1b2c3d4e01"
#define ACME_STAGING "7e4d2a91-3b6c-4f8e-a1d0-0a1b2c3d4e02"
#define ACME_LEGACY "b0f1e2d3-c4b5-4a69-8788-0a1b2c3d4e03"
#define INITECH_USER "initech-ops"
#define INITECH_PASS "Initech#EE-Ops-Pass3"
#define HOOLI_AK "HOOLIEEAK00000000001" /* valid credentials, no SWR EE permission */
#define HOOLI_SK "hooli-ee-sk-0001-AsDfGhJkL"
#define HOOLI_PROJECT "46387705cef429ddf4d7c4f9b3f73628"
#define GEN_AK "GENEEAK0000000000001"
#define GEN_SK "gen-ee-secret-key"
#define GEN_PROJECT "91f7fdbf933b1d5e5b95dd74b4bd5164"

static ef_emulator EMU;

static void emulator_start(void) { es_start(&EMU, SCRIPT, DATASET, GENERATE); }

static void emulator_stop(void) { ef_stop(&EMU); }

static imgsync_ctx *CTX;
static imgsync_provider *P;

static void setup(void) { es_setup(&EMU, &CTX); }

static void teardown(void) { es_teardown(&EMU, &CTX); }

static void set(const char *k, const char *v) { es_set(CTX, P, k, v); }

static void ctx_set(const char *k, const char *v) { ck_assert_int_eq(imgsync_ctx_set(CTX, k, v), 0); }

static void provider(const char *project, const char *page_size)
{
    ck_assert_int_eq(imgsync_provider_new(&P, CTX, "swr-enterprise", PROV), 0);
    set("endpoint", EMU.url);
    set("region", "cn-north-4");
    if (project)
        set("project_id", project);
    if (page_size)
        set("page_size", page_size);
}

static void aksk(const char *ak, const char *sk)
{
    set("ak", ak);
    set("sk", sk);
}

static imgsync_task *sync_now(void) { return es_sync(CTX, NULL, WAIT_MS); }

static void expect_state(imgsync_task *t, int state) { es_expect_state(t, state); }

static void sync_expect(int state)
{
    imgsync_task *t = sync_now();
    expect_state(t, state);
    imgsync_task_free(t);
}

static void expect_reason_has(imgsync_task *t, const char *needle)
{
    ck_assert_msg(strstr(imgsync_task_registry_reason(t, 0), needle) != NULL, "registry reason '%s' lacks '%s'",
                  imgsync_task_registry_reason(t, 0), needle);
}

/* ---- inventories as sorted lines ----------------------------------------------------------- */

typedef ef_lines lines;

static void lines_add(lines *l, char *s) { ck_assert_int_eq(ef_lines_add(l, s), 0); }

/* One row as the tests compare it: everything SWR EE publishes about a tag. */
static char *row_line(const char *partition, const char *repository, const char *tag, const char *digest,
                      long long size, long long ms, int multi, const char *ns, const char *iid, const char *iname,
                      const char *host, const char *media_type)
{
    return imgsync__asprintf("%s|%s|%s|%s|%lld|%lld|%d|%s|%s|%s|%s|%s", partition, repository, tag, digest, size, ms,
                             multi, ns, iid, iname, host, media_type);
}

static long long num(yajl_val row, const char *key)
{
    yajl_val v = ef_member(row, key, yajl_t_number);
    return v && YAJL_IS_INTEGER(v) ? YAJL_GET_INTEGER(v) : -1;
}

static void rows_of(yajl_val rows, lines *out)
{
    for (size_t i = 0; rows && i < rows->u.array.len; i++) {
        yajl_val r = rows->u.array.values[i];
        const char *ns = ef_str(ef_member(r, "namespace", yajl_t_string));
        const char *iid = ef_str(ef_member(r, "instance_id", yajl_t_string));
        char *repo = imgsync__asprintf("%s/%s", ns, ef_str(ef_member(r, "repository", yajl_t_string)));
        ck_assert_ptr_nonnull(repo);
        lines_add(out, row_line(iid, repo, ef_str(ef_member(r, "tag", yajl_t_string)),
                                ef_str(ef_member(r, "digest", yajl_t_string)), num(r, "size"), num(r, "updated_ms"),
                                YAJL_IS_TRUE(ef_member(r, "multi_arch", yajl_t_any)), ns, iid,
                                ef_str(ef_member(r, "instance_name", yajl_t_string)),
                                ef_str(ef_member(r, "host", yajl_t_string)),
                                ef_str(ef_member(r, "manifest_media_type", yajl_t_string))));
        free(repo);
    }
}

/* The rows `account` (one instance when `instance` is set) can list, as the emulator publishes
 * them; with untagged artifacts when `untagged`. */
static void expected_rows(const char *account, const char *instance, int untagged, lines *out)
{
    char target[200], *text = NULL;
    snprintf(target, sizeof(target), "/_emulator/inventory?account=%s%s%s", account, instance ? "&instance=" : "",
             instance ? instance : "");
    ck_assert_int_eq(ef_control(&EMU, "GET", target, NULL, &text), 0);
    yajl_val root = ef_parse_json(text, target);
    free(text);
    ck_assert_ptr_nonnull(root);
    rows_of(ef_member(root, "rows", yajl_t_array), out);
    if (untagged)
        rows_of(ef_member(root, "untagged", yajl_t_array), out);
    yajl_tree_free(root);
}

static void actual_rows(lines *out)
{
    imgsync_iter *it = NULL;
    ck_assert_int_eq(imgsync_iter_new(&it, CTX, NULL), 0);
    const imgsync_image *im;
    while ((im = imgsync_iter_next(it)) != NULL) {
        ck_assert_str_eq(imgsync_image_registry_type(im), "SwrEnterprise");
        ck_assert_str_eq(imgsync_image_image_type(im), "instance_image");
        lines_add(out, row_line(imgsync_image_partition(im), imgsync_image_repository(im), imgsync_image_tag(im),
                                imgsync_image_digest(im), (long long)imgsync_image_size(im),
                                (long long)imgsync_image_update_ms(im), imgsync_image_multi_arch(im),
                                imgsync_image_namespace(im), imgsync_image_instance_id(im),
                                imgsync_image_instance_name(im), imgsync_image_host(im),
                                imgsync_image_media_type(im)));
    }
    imgsync_iter_free(it);
}

/* want (taken) equals the context's inventory; returns the number of rows. */
static size_t expect_lines(lines *want)
{
    lines got = {NULL, 0};
    actual_rows(&got);
    ck_assert_msg(ef_lines_diff(want, &got, "swr-ee") == 0, "the inventory differs from the emulator's (stderr)");
    size_t n = want->n;
    ck_assert_uint_gt(n, 0);
    ef_lines_free(want);
    ef_lines_free(&got);
    return n;
}

static size_t expect_inventory(const char *account, const char *instance, int untagged)
{
    lines want = {NULL, 0};
    expected_rows(account, instance, untagged, &want);
    return expect_lines(&want);
}

static long stats_number(const char *key, const char *sub) { return ef_stats_number(&EMU, key, sub); }

static long requests_of(const char *path) { return ef_requests_of(&EMU, path); }

/* Rows of one partition in the context's inventory. */
static size_t rows_in(const char *partition)
{
    size_t n = 0;
    imgsync_iter *it = NULL;
    ck_assert_int_eq(imgsync_iter_new(&it, CTX, NULL), 0);
    const imgsync_image *im;
    while ((im = imgsync_iter_next(it)) != NULL)
        n += !strcmp(imgsync_image_partition(im), partition);
    imgsync_iter_free(it);
    return n;
}

/* ---- the sample dataset --------------------------------------------------------------------- */

/* acme: 2 Running instances (several pages of 2 everywhere), 3 skipped ones in the row. */
START_TEST(test_aksk_sync)
{
    provider(ACME_PROJECT, "2");
    aksk(ACME_AK, ACME_SK);
    imgsync_task *t = sync_now();
    expect_state(t, IMGSYNC_TASK_SUCCEEDED);
    expect_reason_has(t, "instance acme-legacy skipped: status Unavailable");
    expect_reason_has(t, "instance acme-new skipped: status Creating");
    expect_reason_has(t, "instance acme-init skipped: status Initial");
    imgsync_task_free(t);
    expect_inventory("acme", NULL, 0);
    ck_assert_int_gt(stats_number("auth", "aksk"), 0);
    ck_assert_int_eq(stats_number("auth", "token"), 0);
    /* 5 instances in pages of 2 */
    ck_assert_int_eq(requests_of("/v2/" ACME_PROJECT "/instances"), 3);
}
END_TEST

/* initech gives no project_id: it is looked up in IAM (GET /v3/projects?name=cn-north-4). */
START_TEST(test_password_sync)
{
    provider(NULL, NULL);
    set("username", INITECH_USER);
    set("password", INITECH_PASS);
    set("domain", "initech");
    set("iam_endpoint", EMU.url);
    sync_expect(IMGSYNC_TASK_SUCCEEDED);
    expect_inventory("initech", NULL, 0);
    ck_assert_int_eq(requests_of("/v3/projects"), 1);
    ck_assert_int_eq(stats_number("iam_tokens", NULL), 1);
    ck_assert_int_eq(stats_number("auth", "aksk"), 0);
}
END_TEST

/* library/nginx in acme-prod and acme-staging: two scopes, each with its instance's rows. */
START_TEST(test_same_path_two_instances)
{
    provider(ACME_PROJECT, NULL);
    aksk(ACME_AK, ACME_SK);
    sync_expect(IMGSYNC_TASK_SUCCEEDED);
    size_t prod = 0, staging = 0;
    imgsync_iter *it = NULL;
    ck_assert_int_eq(imgsync_iter_new(&it, CTX, NULL), 0);
    const imgsync_image *im;
    while ((im = imgsync_iter_next(it)) != NULL) {
        if (strcmp(imgsync_image_repository(im), "library/nginx") != 0)
            continue;
        int is_prod = !strcmp(imgsync_image_partition(im), ACME_PROD);
        prod += is_prod;
        staging += !is_prod;
        ck_assert_str_eq(imgsync_image_instance_name(im), is_prod ? "acme-prod" : "acme-staging");
        ck_assert_str_eq(imgsync_image_host(im), is_prod ? "acme-prod-2c9b6f2e.swr.cn-north-4.myhuaweicloud.com"
                                                         : "acme-staging-7e4d2a91.swr.cn-north-4.myhuaweicloud.com");
        ck_assert_str_eq(imgsync_image_namespace(im), "library");
    }
    imgsync_iter_free(it);
    ck_assert_uint_eq(prod, 3);
    ck_assert_uint_eq(staging, 2);
}
END_TEST

/* A server that takes only the single encoding (%2F) of nested names: team/app, a/b/c, ci/runner. */
START_TEST(test_nested_names_single_encoding)
{
    ck_assert_int_eq(ef_config(&EMU, "{\"nested_names\":\"single\"}"), 0);
    provider(ACME_PROJECT, NULL);
    aksk(ACME_AK, ACME_SK);
    sync_expect(IMGSYNC_TASK_SUCCEEDED);
    expect_inventory("acme", NULL, 0);
    ck_assert_int_eq(requests_of("/v2/" ACME_PROJECT "/instances/" ACME_PROD
                                 "/namespaces/library/repositories/a%2Fb%2Fc/artifacts"),
                     1);
    ck_assert_int_eq(requests_of("/v2/" ACME_PROJECT "/instances/" ACME_STAGING
                                 "/namespaces/tools/repositories/ci%2Frunner/artifacts"),
                     1);
}
END_TEST

/* A server that takes only the double encoding (%252F, the reference's "curl" form): the
 * provider sends the reference's %2F, so the nested repositories fail (404 APIGW.0101), each
 * alone, keeping their rows; the others sync. */
START_TEST(test_nested_names_double_encoding_fail_alone)
{
    provider(ACME_PROJECT, NULL);
    aksk(ACME_AK, ACME_SK);
    sync_expect(IMGSYNC_TASK_SUCCEEDED);
    ck_assert_int_eq(ef_config(&EMU, "{\"nested_names\":\"double\"}"), 0);
    imgsync_task *t = sync_now();
    expect_state(t, IMGSYNC_TASK_PARTIAL);
    expect_reason_has(t, "3 of 7 repositories failed");
    expect_reason_has(t, "APIGW.0101");
    imgsync_task_free(t);
    expect_inventory("acme", NULL, 0);
}
END_TEST

/* include_untagged: one row with tag "" per untagged artifact, whatever form "tags" has. */
START_TEST(test_untagged)
{
    static const char *const forms[] = {"{\"untagged_tags\":\"empty\"}", "{\"untagged_tags\":\"null\"}",
                                        "{\"untagged_tags\":\"absent\"}"};
    for (size_t i = 0; i < 3; i++) {
        ck_assert_int_eq(ef_config(&EMU, forms[i]), 0);
        provider(ACME_PROJECT, NULL);
        aksk(ACME_AK, ACME_SK);
        set("include_untagged", "true");
        sync_expect(IMGSYNC_TASK_SUCCEEDED);
        ck_assert_uint_eq(expect_inventory("acme", NULL, 1), 13);
        ck_assert_int_eq(imgsync_provider_free(P), 0);
    }
}
END_TEST

START_TEST(test_untagged_left_out_by_default)
{
    provider(ACME_PROJECT, NULL);
    aksk(ACME_AK, ACME_SK);
    sync_expect(IMGSYNC_TASK_SUCCEEDED);
    ck_assert_uint_eq(expect_inventory("acme", NULL, 0), 11);
}
END_TEST

START_TEST(test_not_authorized)
{
    provider(HOOLI_PROJECT, NULL);
    aksk(HOOLI_AK, HOOLI_SK);
    imgsync_task *t = sync_now();
    expect_state(t, IMGSYNC_TASK_FAILED);
    ck_assert_int_eq(imgsync_task_registry_error(t, 0), IMGSYNC_EAUTH);
    expect_reason_has(t, "not authorized for SWR Enterprise Edition");
    expect_reason_has(t, "SVCSTG.SWR.403");
    expect_reason_has(t, "'" PROV "'");
    imgsync_task_free(t);
    ck_assert_uint_eq(imgsync_inventory_count(CTX), 0);
}
END_TEST

/* acme without project_id, AK/SK: the signed IAM lookup gives it. */
START_TEST(test_aksk_project_looked_up)
{
    provider(NULL, "100");
    aksk(ACME_AK, ACME_SK);
    set("iam_endpoint", EMU.url);
    sync_expect(IMGSYNC_TASK_SUCCEEDED);
    expect_inventory("acme", NULL, 0);
    ck_assert_int_eq(requests_of("/v3/projects"), 1);
}
END_TEST

START_TEST(test_wrong_sk_keeps_rows)
{
    provider(ACME_PROJECT, NULL);
    aksk(ACME_AK, ACME_SK);
    sync_expect(IMGSYNC_TASK_SUCCEEDED);
    set("sk", "not-the-secret-key");
    imgsync_task *t = sync_now();
    expect_state(t, IMGSYNC_TASK_FAILED);
    ck_assert_int_eq(imgsync_task_registry_error(t, 0), IMGSYNC_EAUTH);
    ck_assert_ptr_null(strstr(imgsync_task_registry_reason(t, 0), "not-the-secret-key"));
    imgsync_task_free(t);
    expect_inventory("acme", NULL, 0);
}
END_TEST

/* option instance_id: that instance only (ShowInstance, no instance list). */
START_TEST(test_instance_id_only)
{
    provider(ACME_PROJECT, NULL);
    aksk(ACME_AK, ACME_SK);
    set("instance_id", ACME_STAGING);
    sync_expect(IMGSYNC_TASK_SUCCEEDED);
    expect_inventory("acme", ACME_STAGING, 0);
    ck_assert_int_eq(requests_of("/v2/" ACME_PROJECT "/instances"), 0);
}
END_TEST

/* acme-legacy synced while Running, then found Unavailable: noted, its rows kept. (The
 * emulator cannot change an instance's state: the first sync is against a second emulator
 * whose dataset has acme-legacy Running.) */
START_TEST(test_skipped_instance_keeps_rows)
{
    char *text = ef_read_file(DATASET, NULL);
    ck_assert_ptr_nonnull(text);
    char *at = strstr(text, "\"status\": \"Unavailable\"");
    ck_assert_ptr_nonnull(at);
    memcpy(at, "\"status\": \"Running\"    ", strlen("\"status\": \"Unavailable\""));
    char *path = ef_temp_file("swr-ee-running", text);
    free(text);
    ck_assert_ptr_nonnull(path);
    ef_emulator other = {0};
    int started = ef_start(&other, SCRIPT, path, NULL, NULL, NULL);
    unlink(path);
    free(path);
    ck_assert_int_eq(started, 0);
    provider(ACME_PROJECT, NULL);
    aksk(ACME_AK, ACME_SK);
    set("endpoint", other.url);
    sync_expect(IMGSYNC_TASK_SUCCEEDED);
    ef_stop(&other);
    ck_assert_uint_eq(rows_in(ACME_LEGACY), 1);
    set("endpoint", EMU.url);
    imgsync_task *t = sync_now();
    expect_state(t, IMGSYNC_TASK_SUCCEEDED);
    expect_reason_has(t, "instance acme-legacy skipped: status Unavailable");
    imgsync_task_free(t);
    ck_assert_uint_eq(rows_in(ACME_LEGACY), 1);
    ck_assert_uint_eq(imgsync_inventory_count(CTX), 12);
}
END_TEST

/* acme-staging's repository list fails (500 every time): partial, that instance alone; its
 * previous rows are kept, acme-prod's are complete. */
START_TEST(test_instance_listing_fails_alone)
{
    provider(ACME_PROJECT, NULL);
    aksk(ACME_AK, ACME_SK);
    sync_expect(IMGSYNC_TASK_SUCCEEDED);
    size_t staging = rows_in(ACME_STAGING);
    ck_assert_uint_eq(staging, 3);
    ck_assert_int_eq(ef_faults_add(&EMU, "{\"type\":\"500\",\"pattern\":\"/instances/" ACME_STAGING
                                         "/repositories\",\"count\":-1,\"rate\":1}"),
                     0);
    ctx_set("retry_base_ms", "5");
    ctx_set("retry_max_ms", "20");
    ctx_set("max_retries", "2");
    imgsync_task *t = sync_now();
    expect_state(t, IMGSYNC_TASK_PARTIAL);
    expect_reason_has(t, "acme-staging");
    ck_assert_int_eq(imgsync_task_registry_error(t, 0), IMGSYNC_EHTTP);
    imgsync_task_free(t);
    expect_inventory("acme", NULL, 0); /* prod listed again, staging kept */
    ck_assert_uint_eq(rows_in(ACME_STAGING), staging);
}
END_TEST

/* ---- the generated account: paging, faults ---------------------------------------------------- */

/* 120 instances in pages of 100 (2 pages), 150 artifacts of big/many in 2 pages. */
START_TEST(test_large_paged)
{
    provider(GEN_PROJECT, NULL);
    aksk(GEN_AK, GEN_SK);
    imgsync_task *t = sync_now();
    expect_state(t, IMGSYNC_TASK_SUCCEEDED);
    expect_reason_has(t, "instance gen-ee-120 skipped");
    imgsync_task_free(t);
    expect_inventory("gen", NULL, 0);
    ck_assert_int_eq(requests_of("/v2/" GEN_PROJECT "/instances"), 2);
    ef_stats s;
    ck_assert_int_eq(ef_stats_get(&EMU, &s), 0);
    ck_assert_int_eq(ef_stats_sum(&s, "/v2/" GEN_PROJECT "/instances/", "big%2Fmany", "/artifacts"), 2);
    ef_stats_free(&s);
}
END_TEST

/* Every IAM token expires in the middle of the artifact walks: the refused pages are sent again
 * with one new token, the inventory is complete. */
START_TEST(test_token_expiry_mid_sync)
{
    ck_assert_int_eq(ef_faults_add(&EMU, "{\"type\":\"expire_tokens\",\"pattern\":\"/artifacts\",\"after\":10,"
                                         "\"count\":1}"),
                     0);
    provider(GEN_PROJECT, "10");
    set("username", "gen-ops");
    set("password", "gen-pass");
    set("domain", "gen");
    set("iam_endpoint", EMU.url);
    sync_expect(IMGSYNC_TASK_SUCCEEDED);
    expect_inventory("gen", NULL, 0);
    ck_assert_int_eq(ef_rule_fired(&EMU, "/artifacts"), 1);
    ck_assert_int_eq(stats_number("iam_tokens", NULL), 2);
    ck_assert_int_gt(stats_number("status", "401"), 0);
}
END_TEST

/* 10 % of SWR EE's answers are 500, 503 or 429: everything is retried, the sync is complete. */
START_TEST(test_faults_complete)
{
    ck_assert_int_eq(ef_faults_add(&EMU, "[{\"type\":\"500\",\"pattern\":\"^/v2/\",\"rate\":0.04,\"seed\":1},"
                                         "{\"type\":\"503\",\"pattern\":\"^/v2/\",\"rate\":0.04,\"seed\":2},"
                                         "{\"type\":\"429\",\"pattern\":\"^/v2/\",\"rate\":0.02,\"seed\":3,"
                                         "\"retry_after\":\"0\"}]"),
                     0);
    ctx_set("retry_base_ms", "5");
    ctx_set("retry_max_ms", "50");
    ctx_set("max_retries", "12");
    provider(GEN_PROJECT, "10");
    aksk(GEN_AK, GEN_SK);
    sync_expect(IMGSYNC_TASK_SUCCEEDED);
    expect_inventory("gen", NULL, 0);
    ck_assert_int_gt(ef_rule_fired(&EMU, "^/v2/"), 0);
    ck_assert_int_gt(stats_number("status", "503"), 0);
    ck_assert_int_gt(stats_number("status", "429"), 0);
}
END_TEST

Suite *swr_ee_suite(void)
{
    Suite *s = suite_create("swr_ee");
    TCase *tc = tcase_create("emulator");
    tcase_add_unchecked_fixture(tc, emulator_start, emulator_stop);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 180);
    tcase_add_test(tc, test_aksk_sync);
    tcase_add_test(tc, test_password_sync);
    tcase_add_test(tc, test_same_path_two_instances);
    tcase_add_test(tc, test_nested_names_single_encoding);
    tcase_add_test(tc, test_nested_names_double_encoding_fail_alone);
    tcase_add_test(tc, test_untagged);
    tcase_add_test(tc, test_untagged_left_out_by_default);
    tcase_add_test(tc, test_not_authorized);
    tcase_add_test(tc, test_aksk_project_looked_up);
    tcase_add_test(tc, test_wrong_sk_keeps_rows);
    tcase_add_test(tc, test_instance_id_only);
    tcase_add_test(tc, test_skipped_instance_keeps_rows);
    tcase_add_test(tc, test_instance_listing_fails_alone);
    tcase_add_test(tc, test_large_paged);
    tcase_add_test(tc, test_token_expiry_mid_sync);
    tcase_add_test(tc, test_faults_complete);
    suite_add_tcase(s, tc);
    return s;
}

#include "check_main.h"
IMGSYNC_TEST_MAIN(swr_ee_suite)
