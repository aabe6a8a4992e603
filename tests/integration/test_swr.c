/*
 * Integration tests of the "swr-private" and "swr-shared" providers against the SWR emulator
 * (tests/emulators/swr_emulator.py, written from shared/reference/swr-jfrog-oci-api.md; it
 * verifies AK/SK signatures and IAM tokens with its own implementation).
 *
 * One emulator for the suite (unchecked fixture) on the sample dataset; what is expected comes
 * from the emulator's --dump-inventory of the same dataset.
 * Run from the repository root (as `make` does): ./build/tests/test_swr
 */
#include <check.h>

#include <yajl/yajl_tree.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
#if defined(__linux__)
#include <sys/prctl.h>
#endif

#include "imgsync.h"

Suite *swr_suite(void);

#define SCRIPT "tests/emulators/swr_emulator.py"
#define DATASET "tests/emulators/swr_dataset.json"
#define WAIT_MS 60000
#define PROV "swr"
/* the sample dataset's accounts (emulator docstring) */
#define ACME_AK "ACMEAKEXAMPLE0000001"
#define ACME_SK "acme-sk-0001-AbCdEfGhIjKlMnOpQrStUv"
#define ACME_PROJECT "0a1b2c3d4e5f60718293a4b5c6d7e8f9"
#define ACME_USER "acme-admin"
#define ACME_PASS "Acme#Admin-Pass1"
#define HOOLI_AK "HOOLIAK0000000000001" /* valid credentials, no SWR permission */
#define HOOLI_SK "hooli-sk-0001-AsDfGhJkL"

static pid_t EMU_PID;
static char URL[64];
static yajl_val INVENTORY; /* the emulator's dump: {account: [rows]} */
static char *INVENTORY_TEXT;

static void emulator_start(void)
{
    char dump[] = "/tmp/imgsync-swr-inv-XXXXXX";
    int fd = mkstemp(dump);
    ck_assert_int_ge(fd, 0);
    close(fd);
    char cmd[512];
    snprintf(cmd, sizeof(cmd), "python3 " SCRIPT " --dataset " DATASET " --dump-inventory %s", dump);
    ck_assert_int_eq(system(cmd), 0);
    FILE *f = fopen(dump, "rb");
    ck_assert_ptr_nonnull(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    INVENTORY_TEXT = malloc((size_t)n + 1);
    ck_assert_ptr_nonnull(INVENTORY_TEXT);
    ck_assert_uint_eq(fread(INVENTORY_TEXT, 1, (size_t)n, f), (size_t)n);
    INVENTORY_TEXT[n] = '\0';
    fclose(f);
    unlink(dump);
    char err[128];
    INVENTORY = yajl_tree_parse(INVENTORY_TEXT, err, sizeof(err));
    ck_assert_ptr_nonnull(INVENTORY);

    int out[2];
    ck_assert_int_eq(pipe(out), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
#if defined(__linux__)
        prctl(PR_SET_PDEATHSIG, SIGTERM);
#endif
        dup2(out[1], 1);
        close(out[0]);
        close(out[1]);
        execlp("python3", "python3", SCRIPT, "--dataset", DATASET, "--port", "0", "--max-seconds", "300",
               (char *)NULL);
        _exit(127);
    }
    close(out[1]);
    EMU_PID = pid;
    char line[32] = "";
    size_t got = 0;
    while (got < sizeof(line) - 1) {
        ssize_t r = read(out[0], line + got, 1);
        if (r <= 0 || line[got] == '\n')
            break;
        got++;
    }
    line[got] = '\0';
    close(out[0]);
    int port = atoi(line);
    ck_assert_msg(port > 0, "the emulator printed no port ('%s')", line);
    snprintf(URL, sizeof(URL), "http://127.0.0.1:%d", port);
}

static void emulator_stop(void)
{
    if (EMU_PID > 0) {
        kill(EMU_PID, SIGTERM);
        waitpid(EMU_PID, NULL, 0);
        EMU_PID = 0;
    }
    yajl_tree_free(INVENTORY);
    INVENTORY = NULL;
    free(INVENTORY_TEXT);
    INVENTORY_TEXT = NULL;
}

static imgsync_ctx *CTX;
static imgsync_provider *P;

static void setup(void) { ck_assert_int_eq(imgsync_ctx_new(&CTX, NULL), 0); }
static void teardown(void)
{
    imgsync_ctx_free(CTX);
    CTX = NULL;
}

static void set(const char *k, const char *v)
{
    int rc = imgsync_provider_set(P, k, v);
    ck_assert_msg(rc == 0, "set %s: %s", k, imgsync_ctx_errmsg(CTX));
}

static void provider(const char *kind)
{
    ck_assert_int_eq(imgsync_provider_new(&P, CTX, kind, PROV), 0);
    set("endpoint", URL);
    set("region", "cn-north-4");
    set("page_size", "2"); /* acme has 6 repositories and 3 tags in team/app: several pages */
}

static imgsync_task *sync_now(void)
{
    uint64_t id = 0;
    int rc = imgsync_sync_start(CTX, NULL, &id);
    ck_assert_msg(rc == 0, "imgsync_sync_start: %s", imgsync_ctx_errmsg(CTX));
    ck_assert_int_eq(imgsync_task_wait(CTX, id, WAIT_MS), 0);
    imgsync_task *t = NULL;
    ck_assert_int_eq(imgsync_task_get(&t, CTX, id), 0);
    return t;
}

static const char *str(yajl_val row, const char *key)
{
    const char *path[] = {key, NULL};
    yajl_val v = yajl_tree_get(row, path, yajl_t_any);
    return YAJL_IS_STRING(v) ? YAJL_GET_STRING(v) : "";
}

static long long num(yajl_val row, const char *key)
{
    const char *path[] = {key, NULL};
    yajl_val v = yajl_tree_get(row, path, yajl_t_number);
    return v && YAJL_IS_INTEGER(v) ? YAJL_GET_INTEGER(v) : -1;
}

/* The context's rows equal the emulator's rows of `kind` ("private"/"shared") for acme. */
static void expect_acme_inventory(const char *kind)
{
    const char *path[] = {"acme", NULL};
    yajl_val rows = yajl_tree_get(INVENTORY, path, yajl_t_array);
    ck_assert_ptr_nonnull(rows);
    size_t want = 0;
    for (size_t i = 0; i < rows->u.array.len; i++) {
        yajl_val r = rows->u.array.values[i];
        if (strcmp(str(r, "kind"), kind) != 0)
            continue;
        want++;
        char repo[300];
        snprintf(repo, sizeof(repo), "%s/%s", str(r, "namespace"), str(r, "repository"));
        imgsync_iter *it = NULL;
        ck_assert_int_eq(imgsync_iter_new(&it, CTX, NULL), 0);
        const imgsync_image *im, *found = NULL;
        while ((im = imgsync_iter_next(it)) != NULL)
            if (!strcmp(imgsync_image_repository(im), repo) && !strcmp(imgsync_image_tag(im), str(r, "tag")) &&
                !strcmp(imgsync_image_partition(im), !strcmp(kind, "shared") ? str(r, "owner") : ""))
                found = im;
        ck_assert_msg(found != NULL, "missing %s:%s", repo, str(r, "tag"));
        ck_assert_str_eq(imgsync_image_digest(found), str(r, "digest"));
        ck_assert_int_eq(imgsync_image_size(found), num(r, "size"));
        ck_assert_int_eq(imgsync_image_update_ms(found), num(r, "updated_ms"));
        ck_assert_int_eq(imgsync_image_multi_arch(found), num(r, "tag_type") == 1);
        ck_assert_str_eq(imgsync_image_namespace(found), str(r, "namespace"));
        if (!strcmp(kind, "shared")) {
            ck_assert_str_eq(imgsync_image_owner(found), str(r, "owner"));
            ck_assert_str_eq(imgsync_image_share_status(found), str(r, "share_status"));
            ck_assert_str_eq(imgsync_image_image_type(found), "shared_image");
        } else {
            ck_assert_str_eq(imgsync_image_image_type(found), "private_image");
        }
        imgsync_iter_free(it);
    }
    ck_assert_uint_gt(want, 0);
    ck_assert_uint_eq(imgsync_inventory_count(CTX), want);
}

static void expect_state(imgsync_task *t, int state)
{
    ck_assert_msg(imgsync_task_state_of(t) == state, "task %s, want %s: %s",
                  imgsync_task_state_name(imgsync_task_state_of(t)), imgsync_task_state_name(state),
                  imgsync_task_registry_reason(t, 0));
}

START_TEST(test_private_aksk)
{
    provider("swr-private");
    set("ak", ACME_AK);
    set("sk", ACME_SK);
    set("project_id", ACME_PROJECT);
    imgsync_task *t = sync_now();
    expect_state(t, IMGSYNC_TASK_SUCCEEDED);
    imgsync_task_free(t);
    expect_acme_inventory("private");
}
END_TEST

START_TEST(test_private_password)
{
    provider("swr-private");
    set("username", ACME_USER);
    set("password", ACME_PASS);
    set("domain", "acme");
    set("iam_endpoint", URL);
    imgsync_task *t = sync_now();
    expect_state(t, IMGSYNC_TASK_SUCCEEDED);
    imgsync_task_free(t);
    expect_acme_inventory("private");
}
END_TEST

START_TEST(test_shared_aksk)
{
    provider("swr-shared");
    set("ak", ACME_AK);
    set("sk", ACME_SK);
    imgsync_task *t = sync_now();
    expect_state(t, IMGSYNC_TASK_SUCCEEDED);
    imgsync_task_free(t);
    expect_acme_inventory("shared");
}
END_TEST

START_TEST(test_not_authorized_for_swr)
{
    provider("swr-private");
    set("ak", HOOLI_AK);
    set("sk", HOOLI_SK);
    imgsync_task *t = sync_now();
    expect_state(t, IMGSYNC_TASK_FAILED);
    ck_assert_ptr_nonnull(strstr(imgsync_task_registry_reason(t, 0), "not authorized for SWR"));
    ck_assert_ptr_nonnull(strstr(imgsync_task_registry_reason(t, 0), "SVCSTG.SWR.403"));
    imgsync_task_free(t);
    ck_assert_uint_eq(imgsync_inventory_count(CTX), 0);
}
END_TEST

START_TEST(test_wrong_sk)
{
    provider("swr-private");
    set("ak", ACME_AK);
    set("sk", "not-the-secret-key");
    imgsync_task *t = sync_now();
    expect_state(t, IMGSYNC_TASK_FAILED);
    ck_assert_int_eq(imgsync_task_registry_error(t, 0), IMGSYNC_EAUTH);
    ck_assert_ptr_null(strstr(imgsync_task_registry_reason(t, 0), "not-the-secret-key"));
    imgsync_task_free(t);
}
END_TEST

Suite *swr_suite(void)
{
    Suite *s = suite_create("swr");
    TCase *tc = tcase_create("emulator");
    tcase_add_unchecked_fixture(tc, emulator_start, emulator_stop);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_private_aksk);
    tcase_add_test(tc, test_private_password);
    tcase_add_test(tc, test_shared_aksk);
    tcase_add_test(tc, test_not_authorized_for_swr);
    tcase_add_test(tc, test_wrong_sk);
    suite_add_tcase(s, tc);
    return s;
}

#include "check_main.h"
IMGSYNC_TEST_MAIN(swr_suite)
