/*
 * Integration tests of the "harbor" provider against the Harbor emulator
 * (tests/emulators/harbor_emulator.py, built from shared/reference/harbor-api.md).
 *
 * Each TCase starts its own emulator once (unchecked fixture) and every test begins with
 * POST /_emulator/reset (dataset, faults, stats and config restored), so tests are independent.
 * What is expected comes from the emulator's GET /_emulator/inventory (see harbor_fixture.h):
 * one row per tag of every listed IMAGE artifact, the tag's push_time as update time.
 * Run from the repository root (as `make` does): ./build/tests/test_harbor
 */
#include <check.h>

#include <yajl/yajl_tree.h>

#include <fcntl.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "imgsync.h"
#include "support/harbor_fixture.h"

Suite *harbor_suite(void);

#define PROVIDER "h"
#define SAMPLE_DATASET "tests/emulators/harbor_dataset.json"
#define WAIT_MS 30000
#define TCASE_TIMEOUT 60

/* The sample dataset: 17 repositories; 34 tags of listed IMAGE artifacts. */
#define SAMPLE_REPOS 17
#define SAMPLE_ROWS 34

/* Secrets of the sample dataset (masked in everything the tests print). */
#define ALICE "alice"
#define ALICE_PW "alice-pass"
#define CAROL "carol"
#define CAROL_PW "carol-pass"
#define CI_ROBOT "robot$private-team+ci"
#define CI_SECRET "ci-secret"
#define LISTER_ROBOT "robot$private-team+lister"
#define LISTER_SECRET "lister-secret"
#define SYNC_ALL_ROBOT "robot$sync-all"
#define SYNC_ALL_SECRET "sync-all-secret"
/* Added by the "credentials" overlay: every private project but private-team, where it may only
 * read the project (so its repository list answers 403). */
#define PARTIAL_ROBOT "robot$all-but-private-team"
#define PARTIAL_SECRET "abpt-secret-7"

#define CLI_PASSWORD_ENV "IMGSYNC_IT_HARBOR_PASSWORD"

static const char *const public_projects[] = {"empty-public", "library", "team-01", "team-03", "team-05", "team-07", NULL};
static const char *const alice_projects[] = {"empty-public", "library", "team-01", "team-03", "team-05",
                                             "team-07", "private-team", "ml-models", "team-02", NULL};
static const char *const ci_robot_projects[] = {"empty-public", "library", "team-01", "team-03", "team-05",
                                                "team-07", "private-team", NULL};
static const char *const private_team_only[] = {"private-team", NULL};

static const char credentials_overlay[] =
    "{\"robots\":[{\"id\":20,\"name\":\"" PARTIAL_ROBOT "\",\"secret\":\"" PARTIAL_SECRET "\","
    "\"level\":\"system\",\"disabled\":false,\"expires_at\":-1,\"permissions\":["
    "{\"kind\":\"project\",\"namespace\":\"private-team\",\"access\":[\"project:read\"]},"
    "{\"kind\":\"project\",\"namespace\":\"ml-models\",\"access\":[\"repository:list\",\"artifact:list\",\"artifact:read\",\"tag:list\"]},"
    "{\"kind\":\"project\",\"namespace\":\"proxy-dockerhub\",\"access\":[\"repository:list\",\"artifact:list\",\"artifact:read\",\"tag:list\"]},"
    "{\"kind\":\"project\",\"namespace\":\"team-02\",\"access\":[\"repository:list\",\"artifact:list\",\"artifact:read\",\"tag:list\"]},"
    "{\"kind\":\"project\",\"namespace\":\"team-04\",\"access\":[\"repository:list\",\"artifact:list\",\"artifact:read\",\"tag:list\"]},"
    "{\"kind\":\"project\",\"namespace\":\"team-06\",\"access\":[\"repository:list\",\"artifact:list\",\"artifact:read\",\"tag:list\"]},"
    "{\"kind\":\"project\",\"namespace\":\"team-08\",\"access\":[\"repository:list\",\"artifact:list\",\"artifact:read\",\"tag:list\"]}"
    "]}]}";

/* OIDC authentication: users log in to the API with their CLI secret, on an allow-list of
 * paths that has neither users/current nor the project artifact list (reference 2.1). */
#define OIDC_USER "oidc-dev"
#define OIDC_SECRET "Oidc-Cli-Secret-7"
static const char oidc_overlay[] =
    "{\"auth_mode\":\"oidc_auth\",\"users\":[{\"user_id\":10,\"username\":\"" OIDC_USER "\","
    "\"cli_secret\":\"" OIDC_SECRET "\"}],"
    "\"members\":[{\"project\":\"private-team\",\"username\":\"" OIDC_USER "\",\"role\":\"developer\"}]}";

/* ---- fixtures: one emulator per TCase ---------------------------------------------------------------- */

typedef struct emu_case {
    const char *label;
    const char *dataset;
    const char *generate;
    const char *overlay;
    ef_emulator emu;
    int ok;
} emu_case;

static emu_case ec_sample = {"sample", SAMPLE_DATASET, NULL, NULL, {0, 0, {0}, {0}, NULL}, 0};
static emu_case ec_creds = {"credentials", SAMPLE_DATASET, NULL, credentials_overlay, {0, 0, {0}, {0}, NULL}, 0};
static emu_case ec_faults = {"faults", SAMPLE_DATASET, NULL, NULL, {0, 0, {0}, {0}, NULL}, 0};
static emu_case ec_oidc = {"oidc", SAMPLE_DATASET, NULL, oidc_overlay, {0, 0, {0}, {0}, NULL}, 0};
static emu_case ec_paging = {"paging", NULL, "projects=105,repos=1,artifacts=1", NULL, {0, 0, {0}, {0}, NULL}, 0};

static void case_setup(emu_case *c)
{
    c->ok = hf_start(&c->emu, c->dataset, c->generate, c->overlay, NULL) == 0;
    if (!c->ok)
        fprintf(stderr, "%s: the Harbor emulator did not start\n", c->label);
}

static void case_teardown(emu_case *c)
{
    ef_stop(&c->emu);
    c->ok = 0;
}

static void sample_setup(void) { case_setup(&ec_sample); }
static void sample_teardown(void) { case_teardown(&ec_sample); }
static void creds_setup(void) { case_setup(&ec_creds); }
static void creds_teardown(void) { case_teardown(&ec_creds); }
static void faults_setup(void) { case_setup(&ec_faults); }
static void faults_teardown(void) { case_teardown(&ec_faults); }
static void oidc_setup(void) { case_setup(&ec_oidc); }
static void oidc_teardown(void) { case_teardown(&ec_oidc); }
static void paging_setup(void) { case_setup(&ec_paging); }
static void paging_teardown(void) { case_teardown(&ec_paging); }

/* The emulator of the TCase, reset to its initial state. */
static ef_emulator *fresh(emu_case *c)
{
    ck_assert_msg(c->ok, "the emulator of '%s' did not start (see stderr)", c->label);
    ck_assert_msg(ef_reset(&c->emu) == 0, "POST /_emulator/reset failed (see stderr)");
    return &c->emu;
}

/* ---- helpers ------------------------------------------------------------------------------------------- */

#define COUNTER(t, name) imgsync_task_counter((t), IMGSYNC_COUNT_##name)

static int64_t mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int contains(const char *haystack, const char *needle)
{
    return haystack != NULL && needle != NULL && *needle && strstr(haystack, needle) != NULL;
}

/* Every secret of the datasets plus the random ones of the running test. */
static const char *secrets[16] = {HF_ADMIN_PASSWORD, ALICE_PW, CAROL_PW, CI_SECRET, LISTER_SECRET, SYNC_ALL_SECRET,
                                  PARTIAL_SECRET, OIDC_SECRET, "bob-pass", "ml-reader-secret", "disabled-secret",
                                  "expired-secret", "gen-dev-pass", "gen-sync-secret", "not-the-secret",
                                  "nobody-pass"};

static void note_secret(const char *s)
{
    size_t i;

    for (i = 0; i < sizeof secrets / sizeof secrets[0]; i++)
        if (secrets[i] == NULL || secrets[i] == s) {
            secrets[i] = s;
            return;
        }
}

static void forget_secret(const char *s)
{
    size_t i;

    for (i = 0; i < sizeof secrets / sizeof secrets[0]; i++)
        if (secrets[i] == s)
            secrets[i] = NULL;
}

/* Copy of text with every known secret replaced by "***" (malloc'd). */
static char *masked(const char *text)
{
    char *out = ts_mask(text, NULL), *next;
    size_t i;

    for (i = 0; out != NULL && i < sizeof secrets / sizeof secrets[0]; i++) {
        if (secrets[i] == NULL)
            continue;
        next = ts_mask(out, secrets[i]);
        free(out);
        out = next;
    }
    return out;
}

/* Does text contain any known secret? */
static int leaks_secret(const char *text)
{
    size_t i;

    for (i = 0; i < sizeof secrets / sizeof secrets[0]; i++)
        if (secrets[i] != NULL && contains(text, secrets[i]))
            return 1;
    return 0;
}

static imgsync_ctx *new_ctx(void)
{
    imgsync_ctx *ctx = NULL;

    ck_assert_int_eq(imgsync_ctx_new(&ctx, NULL), 0);
    ck_assert_ptr_nonnull(ctx);
    return ctx;
}

static void ctx_set(imgsync_ctx *ctx, const char *key, const char *value)
{
    int rc = imgsync_ctx_set(ctx, key, value);

    ck_assert_msg(rc == 0, "imgsync_ctx_set(%s, %s) = %d: %s", key, value, rc, imgsync_ctx_errmsg(ctx));
}

static void prov_set(imgsync_ctx *ctx, imgsync_provider *p, const char *key, const char *value)
{
    int rc = imgsync_provider_set(p, key, value);
    char *detail;

    if (rc == 0)
        return;
    detail = masked(imgsync_ctx_errmsg(ctx)); /* the value is not printed: it may be a password */
    fprintf(stderr, "imgsync_provider_set(%s) = %d: %s\n", key, rc, detail ? detail : "");
    free(detail);
    ck_abort_msg("imgsync_provider_set(%s) failed with %d (detail on stderr)", key, rc);
}

/* A "harbor" provider for the emulator; credentials when user is non-NULL. */
static imgsync_provider *add_harbor(imgsync_ctx *ctx, const char *name, const ef_emulator *e, const char *user,
                                    const char *password)
{
    imgsync_provider *p = NULL;
    int rc = imgsync_provider_new(&p, ctx, "harbor", name);

    ck_assert_msg(rc == 0, "imgsync_provider_new(harbor, %s) = %d: %s", name, rc, imgsync_ctx_errmsg(ctx));
    ck_assert_str_eq(imgsync_provider_kind(p), "harbor");
    ck_assert_int_eq(imgsync_provider_type(p), IMGSYNC_TYPE_HARBOR);
    prov_set(ctx, p, "endpoint", e->url);
    if (user != NULL) {
        prov_set(ctx, p, "username", user);
        prov_set(ctx, p, "password", password);
    }
    return p;
}

static void set_credentials(imgsync_ctx *ctx, imgsync_provider *p, const char *user, const char *password)
{
    prov_set(ctx, p, "username", user);
    prov_set(ctx, p, "password", password);
}

static imgsync_request *new_request(void)
{
    imgsync_request *req = NULL;

    ck_assert_int_eq(imgsync_request_new(&req), 0);
    return req;
}

/* Print a task's status, secrets masked. */
static void dump_task(const imgsync_task *t)
{
    size_t i;

    fprintf(stderr,
            "task %" PRIu64 ": %s, repositories %" PRIu64 "/%" PRIu64 " (%" PRIu64 " failed), images %" PRIu64
            " found +%" PRIu64 " ~%" PRIu64 " -%" PRIu64 ", %" PRIu64 " requests, %" PRIu64 " retries\n",
            imgsync_task_id(t), imgsync_task_state_name(imgsync_task_state_of(t)), COUNTER(t, REPOSITORIES_DONE),
            COUNTER(t, REPOSITORIES_TOTAL), COUNTER(t, REPOSITORIES_FAILED), COUNTER(t, IMAGES_FOUND),
            COUNTER(t, IMAGES_ADDED), COUNTER(t, IMAGES_UPDATED), COUNTER(t, IMAGES_REMOVED), COUNTER(t, REQUESTS),
            COUNTER(t, RETRIES));
    for (i = 0; i < imgsync_task_registry_count(t); i++) {
        char *reason = masked(imgsync_task_registry_reason(t, i));
        fprintf(stderr, "  registry %s (%s): state %d error %d reason: %s\n", imgsync_task_registry_name(t, i),
                imgsync_task_registry_type(t, i), imgsync_task_registry_state(t, i),
                imgsync_task_registry_error(t, i), reason ? reason : "?");
        free(reason);
    }
    for (i = 0; i < imgsync_task_error_count(t); i++) {
        char *msg = masked(imgsync_task_error_message(t, i));
        fprintf(stderr, "  error %s [%s] %d: %s\n", imgsync_task_error_registry(t, i),
                imgsync_task_error_repository(t, i), imgsync_task_error_code(t, i), msg ? msg : "?");
        free(msg);
    }
    fflush(stderr);
}

/* Start a sync of req (NULL: everything), wait for its end, return its snapshot. */
static imgsync_task *sync_wait(imgsync_ctx *ctx, const imgsync_request *req)
{
    imgsync_request *all = NULL;
    imgsync_task *t = NULL;
    uint64_t id = 0;
    int rc;

    if (req == NULL)
        req = all = new_request();
    rc = imgsync_sync_start(ctx, req, &id);
    imgsync_request_free(all);
    ck_assert_msg(rc == 0, "imgsync_sync_start = %d: %s", rc, imgsync_ctx_errmsg(ctx));
    ck_assert_uint_gt(id, 0);
    rc = imgsync_task_wait(ctx, id, WAIT_MS);
    ck_assert_msg(rc == 0, "imgsync_task_wait = %d (%s)", rc, imgsync_strerror(rc));
    ck_assert_int_eq(imgsync_task_get(&t, ctx, id), 0);
    ck_assert_uint_eq(imgsync_task_id(t), id);
    if (getenv("IMGSYNC_IT_VERBOSE") != NULL)
        dump_task(t);
    return t;
}

/* No registry reason, error message or errmsg of the task repeats a secret. */
static void assert_no_secret_in_task(const imgsync_task *t)
{
    size_t i;

    for (i = 0; i < imgsync_task_registry_count(t); i++)
        ck_assert_msg(!leaks_secret(imgsync_task_registry_reason(t, i)), "registry row %zu's reason holds a password", i);
    for (i = 0; i < imgsync_task_error_count(t); i++)
        ck_assert_msg(!leaks_secret(imgsync_task_error_message(t, i)), "error %zu holds a password", i);
}

/* The task succeeded with one clean "Harbor" row per provider (count rows). */
static void assert_succeeded_n(const imgsync_task *t, size_t rows)
{
    size_t i;

    if (imgsync_task_state_of(t) != IMGSYNC_TASK_SUCCEEDED || imgsync_task_error_count(t) != 0)
        dump_task(t);
    ck_assert_msg(imgsync_task_state_of(t) == IMGSYNC_TASK_SUCCEEDED, "task state \"%s\", expected \"succeeded\"",
                  imgsync_task_state_name(imgsync_task_state_of(t)));
    ck_assert_uint_eq(imgsync_task_registry_count(t), rows);
    for (i = 0; i < rows; i++) {
        ck_assert_str_eq(imgsync_task_registry_type(t, i), "Harbor");
        ck_assert_int_eq(imgsync_task_registry_state(t, i), IMGSYNC_REGISTRY_FINISHED);
        ck_assert_int_eq(imgsync_task_registry_error(t, i), 0);
        ck_assert_str_eq(imgsync_task_registry_reason(t, i), "");
    }
    ck_assert_uint_eq(imgsync_task_error_count(t), 0);
    ck_assert_uint_eq(COUNTER(t, REPOSITORIES_FAILED), 0);
}

static void assert_succeeded(const imgsync_task *t)
{
    assert_succeeded_n(t, 1);
    ck_assert_str_eq(imgsync_task_registry_name(t, 0), PROVIDER);
}

/* The task failed as a whole: one FAILED row with `code` and a reason (containing `needle`). */
static void assert_failed(const imgsync_task *t, int code, const char *needle)
{
    if (imgsync_task_state_of(t) != IMGSYNC_TASK_FAILED || imgsync_task_registry_count(t) != 1 ||
        imgsync_task_registry_error(t, 0) != code)
        dump_task(t);
    ck_assert_msg(imgsync_task_state_of(t) == IMGSYNC_TASK_FAILED, "task state \"%s\", expected \"failed\"",
                  imgsync_task_state_name(imgsync_task_state_of(t)));
    ck_assert_uint_eq(imgsync_task_registry_count(t), 1);
    ck_assert_str_eq(imgsync_task_registry_type(t, 0), "Harbor");
    ck_assert_int_eq(imgsync_task_registry_state(t, 0), IMGSYNC_REGISTRY_FAILED);
    ck_assert_msg(imgsync_task_registry_error(t, 0) == code, "registry error %d (%s), expected %d (%s)",
                  imgsync_task_registry_error(t, 0), imgsync_strerror(imgsync_task_registry_error(t, 0)), code,
                  imgsync_strerror(code));
    ck_assert_msg(imgsync_task_registry_reason(t, 0)[0] != '\0', "the failed registry row has no reason");
    if (needle != NULL)
        ck_assert_msg(contains(imgsync_task_registry_reason(t, 0), needle), "the reason does not mention \"%s\"",
                      needle);
    assert_no_secret_in_task(t);
}

/* The task partially succeeded: the registry row is FAILED with `code`; an error with `code` is
 * recorded against `scope` (a project or a repository) or names it in its message. */
static void assert_partial(const imgsync_task *t, int code, const char *scope)
{
    size_t i;
    int found = 0;

    if (imgsync_task_state_of(t) != IMGSYNC_TASK_PARTIAL)
        dump_task(t);
    ck_assert_msg(imgsync_task_state_of(t) == IMGSYNC_TASK_PARTIAL,
                  "task state \"%s\", expected \"partially succeeded\"",
                  imgsync_task_state_name(imgsync_task_state_of(t)));
    ck_assert_uint_eq(imgsync_task_registry_count(t), 1);
    ck_assert_int_eq(imgsync_task_registry_state(t, 0), IMGSYNC_REGISTRY_FAILED);
    ck_assert_msg(imgsync_task_registry_error(t, 0) == code, "registry error %d (%s), expected %d (%s)",
                  imgsync_task_registry_error(t, 0), imgsync_strerror(imgsync_task_registry_error(t, 0)), code,
                  imgsync_strerror(code));
    ck_assert_uint_ge(COUNTER(t, REPOSITORIES_FAILED), 1);
    for (i = 0; i < imgsync_task_error_count(t); i++)
        if (imgsync_task_error_code(t, i) == code && (strcmp(imgsync_task_error_repository(t, i), scope) == 0 ||
                                                      contains(imgsync_task_error_message(t, i), scope)))
            found = 1;
    if (!found)
        dump_task(t);
    ck_assert_msg(found, "no error with code %d names '%s'", code, scope);
    ck_assert_msg(imgsync_task_registry_reason(t, 0)[0] != '\0', "the failed registry row has no reason");
    assert_no_secret_in_task(t);
}

/* The expected inventory of the emulator now (as admin sees it). */
static void expected_now(const ef_emulator *e, hf_rows *out)
{
    ck_assert_msg(hf_expected(e, out) == 0, "cannot read the expected inventory (see stderr)");
}

static void assert_inventory(imgsync_ctx *ctx, const char *provider, const ef_emulator *e, const hf_rows *want)
{
    size_t diffs = hf_compare_inventory(ctx, provider, e->host, want);

    ck_assert_msg(diffs == 0, "the inventory of '%s' differs from the expected one in %zu place(s) (see stderr)",
                  provider, diffs);
}

static void faults(const ef_emulator *e, const char *json)
{
    ck_assert_msg(ef_faults_add(e, json) == 0, "cannot add fault rules %s", json);
}

static void push(const ef_emulator *e, const char *json)
{
    ck_assert_msg(hf_push(e, json) == 0, "cannot push %s", json);
}

static void probe(const ef_emulator *e, const char *pattern)
{
    ck_assert_msg(ef_probe(e, pattern) == 0, "cannot add probe %s", pattern);
}

static long seen(const ef_emulator *e, const char *pattern)
{
    long n = ef_rule_seen(e, pattern);

    ck_assert_msg(n >= 0, "cannot read the fault rule %s", pattern);
    return n;
}

static void stats_of(const ef_emulator *e, ef_stats *s)
{
    ck_assert_msg(ef_stats_get(e, s) == 0, "cannot read the emulator's stats");
    if (getenv("IMGSYNC_IT_VERBOSE") != NULL)
        ef_stats_print(s, stderr);
}

/* Rows of the provider, for spot checks. */
static void rows_of(imgsync_ctx *ctx, const char *provider, hf_rows *out)
{
    ck_assert_msg(hf_rows_from_ctx(out, ctx, provider) == 0, "cannot read the inventory");
}

/* ---- 1) admin, sample dataset ------------------------------------------------------------------------ */

START_TEST(test_admin_full_sync_and_resync)
{
    ef_emulator *e = fresh(&ec_sample);
    imgsync_ctx *ctx = new_ctx();
    hf_rows want, got;
    ef_stats st;
    const hf_row *r;
    imgsync_task *t, *t2;
    size_t i;

    add_harbor(ctx, PROVIDER, e, HF_ADMIN_USER, HF_ADMIN_PASSWORD);
    t = sync_wait(ctx, NULL);
    assert_succeeded(t);

    stats_of(e, &st);
    ck_assert_int_ge(ef_stats_path(&st, "/api/version"), 1);
    ck_assert_int_ge(ef_stats_path(&st, "/api/v2.0/systeminfo"), 1);
    /* repository names are encoded twice in artifact URLs (reference 1.5) */
    ck_assert_int_ge(ef_stats_path(&st, "/api/v2.0/projects/private-team/repositories/services%252Fapi%252Fgateway/artifacts"), 1);
    ck_assert_int_ge(ef_stats_path(&st, "/api/v2.0/projects/library/repositories/tools%252Fbuilder%252Fbase/artifacts"), 1);
    ck_assert_int_eq(ef_stats_sum(&st, "/api/v2.0/", "%2F", NULL), 0); /* never encoded only once */
    ck_assert_int_eq(ef_stats_sum(&st, "/api/v2.0/users", NULL, NULL), 0);
    ef_stats_free(&st);

    expected_now(e, &want);
    ck_assert_uint_eq(want.n, SAMPLE_ROWS); /* the dataset as documented above */
    assert_inventory(ctx, PROVIDER, e, &want);
    ck_assert_uint_eq(COUNTER(t, IMAGES_FOUND), want.n);
    ck_assert_uint_eq(COUNTER(t, IMAGES_ADDED), want.n);
    ck_assert_uint_eq(COUNTER(t, IMAGES_UPDATED), 0);
    ck_assert_uint_eq(COUNTER(t, IMAGES_REMOVED), 0);
    ck_assert_uint_eq(COUNTER(t, REPOSITORIES_DONE), SAMPLE_REPOS);
    ck_assert_uint_eq(COUNTER(t, REPOSITORIES_TOTAL), SAMPLE_REPOS);
    ck_assert_uint_ge(COUNTER(t, REQUESTS), 2 + 1 + 13 + SAMPLE_REPOS);
    ck_assert_uint_eq(imgsync_inventory_count(ctx), want.n);

    /* spot checks, for readable failures */
    rows_of(ctx, PROVIDER, &got);
    ck_assert_ptr_nonnull(hf_rows_find(&got, "private-team/services/api/gateway", "v1.0.11"));
    ck_assert_ptr_nonnull(hf_rows_find(&got, "library/tools/builder/base", "2024.03"));
    r = hf_rows_find(&got, "proxy-dockerhub/library/busybox", "1.36");
    ck_assert_ptr_nonnull(r);
    ck_assert_str_eq(r->namespace_, "proxy-dockerhub");
    r = hf_rows_find(&got, "library/alpine", "3.19");
    ck_assert_msg(r != NULL && r->multi_arch == 1, "library/alpine:3.19 (an OCI index) is not multi-arch");
    ck_assert_str_eq(r->media_type, "application/vnd.oci.image.index.v1+json");
    r = hf_rows_find(&got, "library/alpine", "latest");
    ck_assert_msg(r != NULL && r->multi_arch == 1, "library/alpine:latest (an OCI index) is not multi-arch");
    r = hf_rows_find(&got, "library/alpine", "3.19-armv7"); /* a tagged child of the index */
    ck_assert_msg(r != NULL && r->multi_arch == 0, "library/alpine:3.19-armv7 missing or multi-arch");
    r = hf_rows_find(&got, "library/nginx", "latest"); /* tag pushed 3 s after its artifact */
    ck_assert_msg(r != NULL && r->update_ms == INT64_C(1709632803000), "library/nginx:latest update time %" PRId64,
                  r ? r->update_ms : -1);
    ck_assert_int_eq(r->size, 67380123);
    ck_assert_str_eq(r->artifact_type, "IMAGE");
    for (i = 0; i < got.n; i++) {
        ck_assert_msg(got.v[i].tag[0] != '\0', "an untagged row in %s", got.v[i].repository);
        ck_assert_msg(!contains(got.v[i].tag, ".sig"), "an accessory (signature) row %s:%s", got.v[i].repository,
                      got.v[i].tag);
    }
    ck_assert_uint_eq(hf_rows_count_repository(&got, "library/charts/redis"), 0);    /* CHART */
    ck_assert_uint_eq(hf_rows_count_repository(&got, "private-team/services/worker"), 0); /* WASM, SBOM */
    ck_assert_uint_eq(hf_rows_count_namespace(&got, "ml-models"), 0);                 /* CNAI, UNKNOWN */
    ck_assert_uint_eq(hf_rows_count_repository(&got, "library/nginx"), 5);
    hf_rows_free(&got);

    /* the second sync changes nothing */
    t2 = sync_wait(ctx, NULL);
    assert_succeeded(t2);
    ck_assert_uint_eq(COUNTER(t2, IMAGES_ADDED), 0);
    ck_assert_uint_eq(COUNTER(t2, IMAGES_UPDATED), 0);
    ck_assert_uint_eq(COUNTER(t2, IMAGES_REMOVED), 0);
    ck_assert_uint_eq(COUNTER(t2, IMAGES_FOUND), want.n);
    assert_inventory(ctx, PROVIDER, e, &want);

    hf_rows_free(&want);
    imgsync_task_free(t);
    imgsync_task_free(t2);
    imgsync_ctx_free(ctx);
}
END_TEST

/* ---- 8) Harbor 1.x ------------------------------------------------------------------------------------- */

START_TEST(test_harbor_1x_unsupported)
{
    ef_emulator *e = fresh(&ec_sample);
    imgsync_ctx *ctx = new_ctx();
    imgsync_provider *p = add_harbor(ctx, PROVIDER, e, HF_ADMIN_USER, HF_ADMIN_PASSWORD);
    imgsync_task *t;
    ef_stats st;
    int rc;

    ck_assert_int_eq(ef_config(e, "{\"api_version_404\": true}"), 0);
    t = sync_wait(ctx, NULL);
    assert_failed(t, IMGSYNC_EUNSUPPORTED, "Harbor 1.x");
    ck_assert_uint_eq(imgsync_inventory_count(ctx), 0);
    stats_of(e, &st);
    ck_assert_int_eq(ef_stats_path(&st, "/api/version"), 1);
    ck_assert_int_eq(ef_stats_sum(&st, "/api/v2.0/projects", NULL, NULL), 0);
    ef_stats_free(&st);

    rc = imgsync_provider_check(p);
    ck_assert_msg(rc == IMGSYNC_EUNSUPPORTED, "provider_check = %d (%s)", rc, imgsync_strerror(rc));
    ck_assert_msg(contains(imgsync_ctx_errmsg(ctx), "Harbor 1.x"), "errmsg: %s", imgsync_ctx_errmsg(ctx));

    imgsync_task_free(t);
    imgsync_ctx_free(ctx);
}
END_TEST

/* ---- 7) requests: one repository, a namespace, tags ----------------------------------------------------- */

#define GATEWAY "private-team/services/api/gateway"
#define GATEWAY_ARTIFACTS "/api/v2.0/projects/private-team/repositories/services%252Fapi%252Fgateway/artifacts"

START_TEST(test_filter_single_repository)
{
    ef_emulator *e = fresh(&ec_sample);
    imgsync_ctx *ctx = new_ctx();
    imgsync_request *req = new_request();
    hf_rows all, want;
    ef_stats st;
    imgsync_task *t;

    add_harbor(ctx, PROVIDER, e, HF_ADMIN_USER, HF_ADMIN_PASSWORD);
    ck_assert_int_eq(imgsync_request_add_repository(req, PROVIDER, GATEWAY), 0);
    t = sync_wait(ctx, req);
    assert_succeeded(t);

    stats_of(e, &st);
    ck_assert_int_eq(ef_stats_path(&st, "/api/v2.0/projects"), 0);             /* no project list */
    ck_assert_int_eq(ef_stats_sum(&st, "/api/v2.0/", NULL, "/repositories"), 0); /* no repository list */
    ck_assert_int_ge(ef_stats_path(&st, GATEWAY_ARTIFACTS), 1);
    ck_assert_int_eq(ef_stats_sum(&st, "/api/v2.0/projects/", NULL, "/artifacts"), ef_stats_path(&st, GATEWAY_ARTIFACTS));
    ef_stats_free(&st);

    expected_now(e, &all);
    ck_assert_int_eq(hf_rows_filter(&want, &all, hf_in_repository, (void *)GATEWAY), 0);
    ck_assert_uint_eq(want.n, 12);
    assert_inventory(ctx, PROVIDER, e, &want);
    ck_assert_uint_eq(COUNTER(t, REPOSITORIES_TOTAL), 1);

    /* a repository Harbor does not have: 200 [] (reference 1.2), so nothing and no failure */
    {
        imgsync_request *req2 = new_request();
        imgsync_task *t2;
        ck_assert_int_eq(imgsync_request_add_repository(req2, PROVIDER, "library/does/not/exist"), 0);
        t2 = sync_wait(ctx, req2);
        assert_succeeded(t2);
        ck_assert_uint_eq(COUNTER(t2, IMAGES_FOUND), 0);
        ck_assert_uint_eq(COUNTER(t2, IMAGES_REMOVED), 0);
        assert_inventory(ctx, PROVIDER, e, &want); /* the gateway's rows are left alone */
        imgsync_task_free(t2);
        imgsync_request_free(req2);
    }

    hf_rows_free(&all);
    hf_rows_free(&want);
    imgsync_task_free(t);
    imgsync_request_free(req);
    imgsync_ctx_free(ctx);
}
END_TEST

START_TEST(test_filter_namespace_library)
{
    static const char *const library[] = {"library", NULL};
    ef_emulator *e = fresh(&ec_sample);
    imgsync_ctx *ctx = new_ctx();
    imgsync_request *req = new_request();
    hf_rows before, after, want;
    ef_stats st;
    imgsync_task *t0, *t;

    add_harbor(ctx, PROVIDER, e, HF_ADMIN_USER, HF_ADMIN_PASSWORD);
    t0 = sync_wait(ctx, NULL);
    assert_succeeded(t0);
    expected_now(e, &before);

    /* new tags in library and in team-01; only library is synced again */
    push(e, "{\"repository\":\"library/nginx\",\"count\":1,\"tags\":[\"1.27.0\"]}");
    push(e, "{\"repository\":\"team-01/service\",\"count\":1,\"tags\":[\"2.0\"]}");
    ck_assert_int_eq(ef_stats_reset(e), 0);
    probe(e, "^/api/v2\\.0/projects\\?(.*&)?name=library(&|$)");

    ck_assert_int_eq(imgsync_request_add_filter(req, IMGSYNC_FILTER_NAMESPACE, "library", IMGSYNC_INCLUDE), 0);
    t = sync_wait(ctx, req);
    assert_succeeded(t);
    ck_assert_int_ge(seen(e, "^/api/v2\\.0/projects\\?(.*&)?name=library(&|$)"), 1);
    stats_of(e, &st);
    /* only library's repositories and artifacts were listed */
    ck_assert_int_ge(ef_stats_path(&st, "/api/v2.0/projects/library/repositories"), 1);
    ck_assert_int_eq(ef_stats_sum(&st, "/api/v2.0/projects/", NULL, "/repositories"),
                     ef_stats_path(&st, "/api/v2.0/projects/library/repositories"));
    ck_assert_int_eq(ef_stats_sum(&st, "/api/v2.0/projects/", NULL, "/artifacts"),
                     ef_stats_sum(&st, "/api/v2.0/projects/library/", NULL, "/artifacts"));
    ef_stats_free(&st);
    ck_assert_int_eq(ef_faults_clear(e), 0);

    /* library is current; the rows the request did not select (team-01 ...) are left alone */
    expected_now(e, &after);
    ck_assert_ptr_nonnull(hf_rows_find(&after, "team-01/service", "2.0"));
    ck_assert_int_eq(hf_rows_filter(&want, &after, hf_in_namespaces, (void *)library), 0);
    ck_assert_int_eq(hf_rows_append(&want, &before, hf_not_in_namespaces, (void *)library), 0);
    ck_assert_ptr_nonnull(hf_rows_find(&want, "library/nginx", "1.27.0"));
    assert_inventory(ctx, PROVIDER, e, &want);
    ck_assert_uint_eq(COUNTER(t, IMAGES_ADDED), 1);
    ck_assert_uint_eq(COUNTER(t, IMAGES_REMOVED), 0);

    hf_rows_free(&before);
    hf_rows_free(&after);
    hf_rows_free(&want);
    imgsync_task_free(t0);
    imgsync_task_free(t);
    imgsync_request_free(req);
    imgsync_ctx_free(ctx);
}
END_TEST

static int tag_matches(const hf_row *row, void *arg) { return fnmatch((const char *)arg, row->tag, FNM_PATHNAME) == 0; }
static int tag_not_matches(const hf_row *row, void *arg) { return !tag_matches(row, arg); }

START_TEST(test_filter_tags)
{
    ef_emulator *e = fresh(&ec_sample);
    imgsync_ctx *ctx = new_ctx(), *ctx2 = new_ctx();
    imgsync_request *req = new_request(), *req2 = new_request();
    hf_rows all, want, want2;
    imgsync_task *t, *t2;

    /* include: v1.0.1, v1.0.10, v1.0.11 of the gateway */
    add_harbor(ctx, PROVIDER, e, HF_ADMIN_USER, HF_ADMIN_PASSWORD);
    ck_assert_int_eq(imgsync_request_add_filter(req, IMGSYNC_FILTER_TAG, "v1.0.1*", IMGSYNC_INCLUDE), 0);
    t = sync_wait(ctx, req);
    assert_succeeded(t);
    expected_now(e, &all);
    ck_assert_int_eq(hf_rows_filter(&want, &all, tag_matches, (void *)"v1.0.1*"), 0);
    ck_assert_uint_eq(want.n, 3);
    assert_inventory(ctx, PROVIDER, e, &want);

    /* exclude: everything but the "latest" tags */
    add_harbor(ctx2, PROVIDER, e, HF_ADMIN_USER, HF_ADMIN_PASSWORD);
    ck_assert_int_eq(imgsync_request_add_filter(req2, IMGSYNC_FILTER_TAG, "latest", IMGSYNC_EXCLUDE), 0);
    t2 = sync_wait(ctx2, req2);
    assert_succeeded(t2);
    ck_assert_int_eq(hf_rows_filter(&want2, &all, tag_not_matches, (void *)"latest"), 0);
    ck_assert_uint_eq(want2.n, SAMPLE_ROWS - 3);
    assert_inventory(ctx2, PROVIDER, e, &want2);

    hf_rows_free(&all);
    hf_rows_free(&want);
    hf_rows_free(&want2);
    imgsync_task_free(t);
    imgsync_task_free(t2);
    imgsync_request_free(req);
    imgsync_request_free(req2);
    imgsync_ctx_free(ctx);
    imgsync_ctx_free(ctx2);
}
END_TEST

static int in_team_projects(const hf_row *row, void *arg) { return strncmp(row->namespace_, "team-0", 6) == 0; }

START_TEST(test_filter_namespace_glob_and_fuzzy)
{
    ef_emulator *e = fresh(&ec_sample);
    imgsync_ctx *ctx = new_ctx(), *ctx2 = new_ctx();
    imgsync_request *req = new_request(), *req2 = new_request();
    hf_rows all, want;
    ef_stats st;
    imgsync_task *t, *t2;

    /* a glob: every project is listed, only the matching ones are walked */
    add_harbor(ctx, PROVIDER, e, HF_ADMIN_USER, HF_ADMIN_PASSWORD);
    ck_assert_int_eq(imgsync_request_add_filter(req, IMGSYNC_FILTER_NAMESPACE, "team-0*", IMGSYNC_INCLUDE), 0);
    t = sync_wait(ctx, req);
    assert_succeeded(t);
    stats_of(e, &st);
    ck_assert_int_eq(ef_stats_path(&st, "/api/v2.0/projects"), 1);
    ck_assert_int_eq(ef_stats_sum(&st, "/api/v2.0/projects/", NULL, "/repositories"), 8);
    ck_assert_int_eq(ef_stats_sum(&st, "/api/v2.0/projects/team-0", NULL, "/repositories"), 8);
    ef_stats_free(&st);
    expected_now(e, &all);
    ck_assert_int_eq(hf_rows_filter(&want, &all, in_team_projects, NULL), 0);
    ck_assert_uint_eq(want.n, 8);
    assert_inventory(ctx, PROVIDER, e, &want);

    /* a literal that is no project: Harbor's name= is fuzzy (team-01 ... private-team match), the
     * provider keeps exact names only */
    ck_assert_int_eq(ef_stats_reset(e), 0);
    probe(e, "^/api/v2\\.0/projects\\?(.*&)?name=team(&|$)");
    add_harbor(ctx2, PROVIDER, e, HF_ADMIN_USER, HF_ADMIN_PASSWORD);
    ck_assert_int_eq(imgsync_request_add_filter(req2, IMGSYNC_FILTER_NAMESPACE, "team", IMGSYNC_INCLUDE), 0);
    t2 = sync_wait(ctx2, req2);
    assert_succeeded(t2);
    ck_assert_int_eq(seen(e, "^/api/v2\\.0/projects\\?(.*&)?name=team(&|$)"), 1);
    stats_of(e, &st);
    ck_assert_int_eq(ef_stats_sum(&st, "/api/v2.0/projects/", NULL, NULL), 0);
    ef_stats_free(&st);
    ck_assert_uint_eq(imgsync_inventory_count(ctx2), 0);

    hf_rows_free(&all);
    hf_rows_free(&want);
    imgsync_task_free(t);
    imgsync_task_free(t2);
    imgsync_request_free(req);
    imgsync_request_free(req2);
    imgsync_ctx_free(ctx);
    imgsync_ctx_free(ctx2);
}
END_TEST

START_TEST(test_non_images_and_untagged)
{
    ef_emulator *e = fresh(&ec_sample);
    imgsync_ctx *ctx = new_ctx();
    imgsync_provider *p = add_harbor(ctx, PROVIDER, e, HF_ADMIN_USER, HF_ADMIN_PASSWORD);
    imgsync_request *req = new_request();
    hf_rows want, got;
    imgsync_task *t;
    const hf_row *r;
    size_t i, untagged = 0;

    ck_assert_int_eq(imgsync_provider_set(p, "include_untagged", "maybe"), IMGSYNC_EINVAL);
    prov_set(ctx, p, "include_untagged", "true");
    ck_assert_int_eq(imgsync_request_set_include_non_images(req, 1), 0);
    t = sync_wait(ctx, req);
    assert_succeeded(t);
    ck_assert_msg(hf_expected_ex(e, &want, HF_NON_IMAGES | HF_UNTAGGED) == 0, "no expected inventory");
    ck_assert_uint_eq(want.n, SAMPLE_ROWS + 6); /* chart, wasm, cnai, unknown; untagged nginx and sbom */
    assert_inventory(ctx, PROVIDER, e, &want);

    rows_of(ctx, PROVIDER, &got);
    r = hf_rows_find(&got, "library/charts/redis", "18.1.0");
    ck_assert_msg(r != NULL && strcmp(r->artifact_type, "CHART") == 0, "library/charts/redis:18.1.0 missing or not a CHART");
    ck_assert_ptr_nonnull(hf_rows_find(&got, "ml-models/llm/tiny", "v1"));
    r = hf_rows_find(&got, "library/nginx", "");
    ck_assert_msg(r != NULL && strncmp(r->digest, "sha256:10dd854c", 15) == 0, "the untagged nginx artifact is missing");
    for (i = 0; i < got.n; i++) {
        ck_assert_msg(!contains(got.v[i].tag, ".sig"), "an accessory (signature) row %s:%s", got.v[i].repository,
                      got.v[i].tag);
        untagged += got.v[i].tag[0] == '\0';
    }
    ck_assert_uint_eq(untagged, 2); /* the index's untagged children stay hidden (reference 1.6) */

    hf_rows_free(&want);
    hf_rows_free(&got);
    imgsync_task_free(t);
    imgsync_request_free(req);
    imgsync_ctx_free(ctx);
}
END_TEST

/* ---- 9) the imgsync command ------------------------------------------------------------------------------ */

static const char *cli_path(void)
{
    const char *s = getenv("IMGSYNC_CLI");

    return s && *s ? s : "build/imgsync";
}

/* Run the CLI with argv (after the program name), stdout and stderr captured; the exit status. */
static int run_cli(const char *const *args, char **out, char **err)
{
    char *outp = ef_temp_file("cli-out", ""), *errp = ef_temp_file("cli-err", "");
    const char *argv[16];
    size_t n = 0, i;
    pid_t pid;
    int st = -1;

    ck_assert_msg(access(cli_path(), X_OK) == 0, "%s is not built (make build/imgsync)", cli_path());
    ck_assert(outp != NULL && errp != NULL);
    argv[n++] = cli_path();
    for (i = 0; args[i] != NULL && n < sizeof argv / sizeof argv[0] - 1; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    fflush(stdout);
    fflush(stderr);
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        int fo = open(outp, O_WRONLY | O_TRUNC), fe = open(errp, O_WRONLY | O_TRUNC), fi = open("/dev/null", O_RDONLY);
        if (fo < 0 || fe < 0 || fi < 0 || dup2(fo, 1) < 0 || dup2(fe, 2) < 0 || dup2(fi, 0) < 0)
            _exit(126);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    if (waitpid(pid, &st, 0) == pid && WIFEXITED(st))
        st = WEXITSTATUS(st);
    else
        st = -1;
    *out = ef_read_file(outp, NULL);
    *err = ef_read_file(errp, NULL);
    unlink(outp);
    unlink(errp);
    free(outp);
    free(errp);
    ck_assert(*out != NULL && *err != NULL);
    return st;
}

static char *write_cli_config(const ef_emulator *e, const char *user)
{
    char text[1024], *path;

    snprintf(text, sizeof text,
             "{\"registries\": [{\"name\": \"%s\", \"type\": \"harbor\", \"endpoint\": \"%s\",\n"
             "  \"username\": \"%s\", \"password_env\": \"%s\", \"page_size\": 10}],\n"
             " \"settings\": {\"max_retries\": 1, \"retry_base_ms\": 10}}\n",
             PROVIDER, e->url, user, CLI_PASSWORD_ENV);
    path = ef_temp_file("cli-config", text);
    ck_assert_ptr_nonnull(path);
    return path;
}

static yajl_val jmember(yajl_val obj, const char *key, yajl_type type)
{
    const char *path[] = {key, NULL};

    return yajl_tree_get(obj, path, type);
}

START_TEST(test_cli_check_and_sync_json)
{
    ef_emulator *e = fresh(&ec_sample);
    char *config = write_cli_config(e, HF_ADMIN_USER), *out, *err, *m, perr[256];
    const char *check_args[] = {"check", "--config", config, PROVIDER, NULL};
    const char *sync_args[] = {"sync", "--config", config, "--format", "json", NULL};
    hf_rows want, got = {NULL, 0};
    yajl_val root;
    size_t i, diffs;
    int st;

    ck_assert_int_eq(setenv(CLI_PASSWORD_ENV, HF_ADMIN_PASSWORD, 1), 0);
    st = run_cli(check_args, &out, &err);
    ck_assert_msg(!leaks_secret(out) && !leaks_secret(err), "imgsync check printed a password");
    m = masked(err);
    ck_assert_msg(st == 0, "imgsync check exited %d: %s", st, m);
    ck_assert_str_eq(out, "registry " PROVIDER ": OK (credentials: options)\n");
    free(m);
    free(out);
    free(err);

    st = run_cli(sync_args, &out, &err);
    ck_assert_msg(!leaks_secret(out) && !leaks_secret(err), "imgsync sync printed a password");
    m = masked(err);
    ck_assert_msg(st == 0, "imgsync sync exited %d: %s", st, m);
    free(m);
    root = yajl_tree_parse(out, perr, sizeof perr);
    ck_assert_msg(root != NULL && YAJL_IS_ARRAY(root), "stdout is not a JSON array: %s", perr);
    expected_now(e, &want);
    ck_assert_uint_eq(root->u.array.len, want.n);
    for (i = 0; i < root->u.array.len; i++) {
        yajl_val o = root->u.array.values[i];
        yajl_val size = jmember(o, "size", yajl_t_number), upd = jmember(o, "latest_update_time", yajl_t_number);
        yajl_val multi = jmember(o, "multi_arch", yajl_t_any);
        const char *keys[] = {"repository", "tag", "namespace", "digest", "media_type", "artifact_type",
                              "registry_type", "image_type"};
        size_t k;
        for (k = 0; k < sizeof keys / sizeof keys[0]; k++)
            ck_assert_msg(jmember(o, keys[k], yajl_t_string) != NULL, "element %zu has no string \"%s\"", i, keys[k]);
        ck_assert_msg(size && upd && multi && YAJL_IS_INTEGER(size) && YAJL_IS_INTEGER(upd), "element %zu", i);
        ck_assert_str_eq(YAJL_GET_STRING(jmember(o, "registry_type", yajl_t_string)), "Harbor");
        ck_assert_str_eq(YAJL_GET_STRING(jmember(o, "image_type", yajl_t_string)), "harbor");
        ck_assert_int_eq(hf_rows_add(&got, YAJL_GET_STRING(jmember(o, "repository", yajl_t_string)),
                                     YAJL_GET_STRING(jmember(o, "tag", yajl_t_string)),
                                     YAJL_GET_STRING(jmember(o, "namespace", yajl_t_string)),
                                     YAJL_GET_STRING(jmember(o, "digest", yajl_t_string)),
                                     YAJL_GET_STRING(jmember(o, "media_type", yajl_t_string)),
                                     YAJL_GET_STRING(jmember(o, "artifact_type", yajl_t_string)),
                                     (int64_t)YAJL_GET_INTEGER(size), (int64_t)YAJL_GET_INTEGER(upd),
                                     YAJL_IS_TRUE(multi)),
                         0);
    }
    diffs = hf_rows_diff(&want, &got, "imgsync sync --format json");
    ck_assert_msg(diffs == 0, "the CLI's rows differ from the expected inventory (%zu)", diffs);

    yajl_tree_free(root);
    hf_rows_free(&want);
    hf_rows_free(&got);
    free(out);
    free(err);
    unlink(config);
    free(config);
    unsetenv(CLI_PASSWORD_ENV);
}
END_TEST

START_TEST(test_cli_wrong_password)
{
    ef_emulator *e = fresh(&ec_sample);
    char *config = write_cli_config(e, HF_ADMIN_USER), *out, *err, *wrong = ts_random_secret("Hb-Wrong-"), *m;
    const char *check_args[] = {"check", "--config", config, PROVIDER, NULL};
    const char *sync_args[] = {"sync", "--config", config, "--format", "json", NULL};
    int st;

    ck_assert_ptr_nonnull(wrong);
    note_secret(wrong);
    ck_assert_int_eq(setenv(CLI_PASSWORD_ENV, wrong, 1), 0);
    st = run_cli(check_args, &out, &err);
    m = masked(err);
    ck_assert_msg(!leaks_secret(out) && !leaks_secret(err), "imgsync check printed a password");
    ck_assert_msg(st != 0, "imgsync check with a wrong password exited 0");
    ck_assert_msg(contains(err, PROVIDER), "the reason does not name the registry: %s", m);
    ck_assert_str_eq(out, "");
    free(m);
    free(out);
    free(err);

    st = run_cli(sync_args, &out, &err);
    ck_assert_msg(!leaks_secret(out) && !leaks_secret(err), "imgsync sync printed a password");
    ck_assert_msg(st != 0, "imgsync sync with a wrong password exited 0");
    ck_assert_msg(!contains(out, "\"repository\""), "imgsync sync printed images after a rejected login");
    free(out);
    free(err);

    forget_secret(wrong);
    free(wrong);
    unlink(config);
    free(config);
    unsetenv(CLI_PASSWORD_ENV);
}
END_TEST

/* ---- 3) credentials ------------------------------------------------------------------------------------- */

START_TEST(test_member_users)
{
    ef_emulator *e = fresh(&ec_creds);
    imgsync_ctx *ctx = new_ctx();
    hf_rows all, want_alice, want_carol;
    imgsync_task *t;

    /* two providers in one task: alice (member of private-team, ml-models, team-02) and carol
     * (no membership): each sees the public projects plus its member projects */
    add_harbor(ctx, "alice", e, ALICE, ALICE_PW);
    add_harbor(ctx, "carol", e, CAROL, CAROL_PW);
    t = sync_wait(ctx, NULL);
    assert_succeeded_n(t, 2);
    expected_now(e, &all);
    ck_assert_int_eq(hf_rows_filter(&want_alice, &all, hf_in_namespaces, (void *)alice_projects), 0);
    ck_assert_int_eq(hf_rows_filter(&want_carol, &all, hf_in_namespaces, (void *)public_projects), 0);
    ck_assert_uint_gt(want_alice.n, want_carol.n);
    ck_assert_uint_lt(want_alice.n, all.n);
    assert_inventory(ctx, "alice", e, &want_alice);
    assert_inventory(ctx, "carol", e, &want_carol);

    hf_rows_free(&all);
    hf_rows_free(&want_alice);
    hf_rows_free(&want_carol);
    imgsync_task_free(t);
    imgsync_ctx_free(ctx);
}
END_TEST

START_TEST(test_project_robot)
{
    ef_emulator *e = fresh(&ec_creds);
    imgsync_ctx *ctx = new_ctx();
    imgsync_provider *p = add_harbor(ctx, PROVIDER, e, CI_ROBOT, CI_SECRET);
    hf_rows all, want;
    ef_stats st;
    imgsync_task *t;
    long status = 0;
    int rc;

    t = sync_wait(ctx, NULL);
    assert_succeeded(t);
    stats_of(e, &st);
    ck_assert_int_eq(ef_stats_sum(&st, "/api/v2.0/users", NULL, NULL), 0); /* 412 for robots: not used */
    ef_stats_free(&st);
    expected_now(e, &all);
    ck_assert_int_eq(hf_rows_filter(&want, &all, hf_in_namespaces, (void *)ci_robot_projects), 0);
    ck_assert_uint_gt(hf_rows_count_namespace(&want, "private-team"), 0);
    assert_inventory(ctx, PROVIDER, e, &want);

    rc = imgsync_provider_check(p);
    ck_assert_msg(rc == 0, "provider_check for a project robot = %d (%s)", rc, imgsync_strerror(rc));

    /* the emulator answers users/current with 412 for a robot, like Harbor >= 2.3 (reference 2.3) */
    ck_assert_int_eq(ef_http(e, "GET", "/api/v2.0/users/current", NULL, CI_ROBOT, CI_SECRET, NULL, &status, NULL), 0);
    ck_assert_int_eq(status, 412);

    hf_rows_free(&all);
    hf_rows_free(&want);
    imgsync_task_free(t);
    imgsync_ctx_free(ctx);
}
END_TEST

START_TEST(test_system_robot_all_projects)
{
    ef_emulator *e = fresh(&ec_creds);
    imgsync_ctx *ctx = new_ctx();
    hf_rows all;
    imgsync_task *t;

    add_harbor(ctx, PROVIDER, e, SYNC_ALL_ROBOT, SYNC_ALL_SECRET);
    t = sync_wait(ctx, NULL);
    assert_succeeded(t);
    expected_now(e, &all);
    ck_assert_uint_eq(all.n, SAMPLE_ROWS);
    assert_inventory(ctx, PROVIDER, e, &all);

    hf_rows_free(&all);
    imgsync_task_free(t);
    imgsync_ctx_free(ctx);
}
END_TEST

START_TEST(test_wrong_password_keeps_inventory)
{
    ef_emulator *e = fresh(&ec_creds);
    imgsync_ctx *ctx = new_ctx();
    imgsync_provider *p = add_harbor(ctx, PROVIDER, e, HF_ADMIN_USER, HF_ADMIN_PASSWORD);
    char *wrong = ts_random_secret("Hb-Wrong-");
    hf_rows all;
    imgsync_task *t0, *t;
    int rc;

    ck_assert_ptr_nonnull(wrong);
    note_secret(wrong);
    t0 = sync_wait(ctx, NULL);
    assert_succeeded(t0);
    expected_now(e, &all);
    assert_inventory(ctx, PROVIDER, e, &all);

    /* Harbor answers a wrong password as anonymous (public projects, 200): it must not become an
     * empty or public-only success */
    prov_set(ctx, p, "password", wrong);
    t = sync_wait(ctx, NULL);
    assert_failed(t, IMGSYNC_EAUTH, NULL);
    ck_assert_msg(!contains(imgsync_task_registry_reason(t, 0), wrong), "the reason holds the password");
    ck_assert_uint_eq(COUNTER(t, IMAGES_REMOVED), 0);
    ck_assert_uint_eq(COUNTER(t, IMAGES_ADDED), 0);
    assert_inventory(ctx, PROVIDER, e, &all); /* unchanged */

    rc = imgsync_provider_check(p);
    ck_assert_msg(rc == IMGSYNC_EAUTH, "provider_check with a wrong password = %d (%s)", rc, imgsync_strerror(rc));
    ck_assert_msg(imgsync_ctx_errmsg(ctx)[0] != '\0', "no detail for the failed check");
    ck_assert_msg(!leaks_secret(imgsync_ctx_errmsg(ctx)), "errmsg holds a password");

    prov_set(ctx, p, "password", HF_ADMIN_PASSWORD);
    rc = imgsync_provider_check(p);
    ck_assert_msg(rc == 0, "provider_check with the right password = %d (%s)", rc, imgsync_strerror(rc));

    forget_secret(wrong);
    free(wrong);
    hf_rows_free(&all);
    imgsync_task_free(t0);
    imgsync_task_free(t);
    imgsync_ctx_free(ctx);
}
END_TEST

START_TEST(test_rejected_robots)
{
    /* a wrong secret, a disabled robot, an expired robot: Harbor falls back to anonymous */
    static const char *const users[][2] = {{SYNC_ALL_ROBOT, "not-the-secret"},
                                           {"robot$private-team+disabled", "disabled-secret"},
                                           {"robot$private-team+expired", "expired-secret"},
                                           {"nobody", "nobody-pass"}};
    ef_emulator *e = fresh(&ec_creds);
    size_t i;

    for (i = 0; i < sizeof users / sizeof users[0]; i++) {
        imgsync_ctx *ctx = new_ctx();
        imgsync_provider *p = add_harbor(ctx, PROVIDER, e, users[i][0], users[i][1]);
        imgsync_task *t = sync_wait(ctx, NULL);
        int rc;
        assert_failed(t, IMGSYNC_EAUTH, NULL);
        ck_assert_msg(!contains(imgsync_task_registry_reason(t, 0), users[i][1]), "the reason holds the secret");
        ck_assert_uint_eq(imgsync_inventory_count(ctx), 0);
        rc = imgsync_provider_check(p);
        ck_assert_msg(rc == IMGSYNC_EAUTH, "%s: provider_check = %d (%s)", users[i][0], rc, imgsync_strerror(rc));
        ck_assert_msg(!contains(imgsync_ctx_errmsg(ctx), users[i][1]), "errmsg holds the secret");
        imgsync_task_free(t);
        imgsync_ctx_free(ctx);
    }
}
END_TEST

START_TEST(test_no_credentials_public_only)
{
    ef_emulator *e = fresh(&ec_creds);
    imgsync_ctx *ctx = new_ctx();
    imgsync_provider *p = add_harbor(ctx, PROVIDER, e, NULL, NULL);
    hf_rows all, want;
    imgsync_task *t;
    int rc;

    t = sync_wait(ctx, NULL);
    assert_succeeded(t);
    expected_now(e, &all);
    ck_assert_int_eq(hf_rows_filter(&want, &all, hf_in_namespaces, (void *)public_projects), 0);
    ck_assert_uint_gt(want.n, 0);
    assert_inventory(ctx, PROVIDER, e, &want);
    rc = imgsync_provider_check(p);
    ck_assert_msg(rc == 0, "provider_check without credentials = %d (%s)", rc, imgsync_strerror(rc));

    hf_rows_free(&all);
    hf_rows_free(&want);
    imgsync_task_free(t);
    imgsync_ctx_free(ctx);
}
END_TEST

/* ---- 4) a project the robot may not list ------------------------------------------------------------------ */

START_TEST(test_forbidden_project_partial)
{
    ef_emulator *e = fresh(&ec_creds);
    imgsync_ctx *ctx = new_ctx();
    hf_rows all, want;
    imgsync_task *t;
    long status = 0;

    /* the emulator: the robot sees private-team in its project list but may not list it */
    ck_assert_int_eq(ef_http(e, "GET", "/api/v2.0/projects/private-team/repositories", NULL, PARTIAL_ROBOT,
                             PARTIAL_SECRET, NULL, &status, NULL),
                     0);
    ck_assert_int_eq(status, 403);
    ck_assert_int_eq(ef_stats_reset(e), 0);

    add_harbor(ctx, PROVIDER, e, PARTIAL_ROBOT, PARTIAL_SECRET);
    t = sync_wait(ctx, NULL);
    assert_partial(t, IMGSYNC_EAUTH, "private-team");
    expected_now(e, &all);
    ck_assert_int_eq(hf_rows_filter(&want, &all, hf_not_in_namespaces, (void *)private_team_only), 0);
    ck_assert_uint_eq(want.n, SAMPLE_ROWS - 13);
    assert_inventory(ctx, PROVIDER, e, &want);

    hf_rows_free(&all);
    hf_rows_free(&want);
    imgsync_task_free(t);
    imgsync_ctx_free(ctx);
}
END_TEST

START_TEST(test_forbidden_project_keeps_rows)
{
    ef_emulator *e = fresh(&ec_creds);
    imgsync_ctx *ctx = new_ctx();
    imgsync_provider *p = add_harbor(ctx, PROVIDER, e, SYNC_ALL_ROBOT, SYNC_ALL_SECRET);
    hf_rows before, after, want;
    imgsync_task *t0, *t;

    t0 = sync_wait(ctx, NULL);
    assert_succeeded(t0);
    expected_now(e, &before);
    assert_inventory(ctx, PROVIDER, e, &before);

    /* new tags in private-team and team-02; then the provider's robot loses private-team */
    push(e, "{\"repository\":\"private-team/app\",\"count\":1,\"tags\":[\"v2\"]}");
    push(e, "{\"repository\":\"team-02/service\",\"count\":1,\"tags\":[\"2.0\"]}");
    set_credentials(ctx, p, PARTIAL_ROBOT, PARTIAL_SECRET);
    t = sync_wait(ctx, NULL);
    assert_partial(t, IMGSYNC_EAUTH, "private-team");
    ck_assert_uint_eq(COUNTER(t, IMAGES_REMOVED), 0);

    expected_now(e, &after);
    ck_assert_int_eq(hf_rows_filter(&want, &after, hf_not_in_namespaces, (void *)private_team_only), 0);
    ck_assert_int_eq(hf_rows_append(&want, &before, hf_in_namespaces, (void *)private_team_only), 0);
    ck_assert_ptr_nonnull(hf_rows_find(&want, "team-02/service", "2.0"));
    ck_assert_ptr_null(hf_rows_find(&want, "private-team/app", "v2"));
    assert_inventory(ctx, PROVIDER, e, &want);

    hf_rows_free(&before);
    hf_rows_free(&after);
    hf_rows_free(&want);
    imgsync_task_free(t0);
    imgsync_task_free(t);
    imgsync_ctx_free(ctx);
}
END_TEST

START_TEST(test_repository_list_500_keeps_rows)
{
    ef_emulator *e = fresh(&ec_creds);
    imgsync_ctx *ctx = new_ctx();
    hf_rows before, after, want;
    imgsync_task *t0, *t;

    add_harbor(ctx, PROVIDER, e, SYNC_ALL_ROBOT, SYNC_ALL_SECRET);
    ctx_set(ctx, "retry_base_ms", "10");
    t0 = sync_wait(ctx, NULL);
    assert_succeeded(t0);
    expected_now(e, &before);

    push(e, "{\"repository\":\"private-team/app\",\"count\":1,\"tags\":[\"v2\"]}");
    push(e, "{\"repository\":\"team-02/service\",\"count\":1,\"tags\":[\"2.0\"]}");
    faults(e, "{\"type\":\"500\",\"pattern\":\"^/api/v2\\\\.0/projects/private-team/repositories\\\\?\",\"count\":-1}");
    t = sync_wait(ctx, NULL);
    assert_partial(t, IMGSYNC_EHTTP, "private-team");
    /* Harbor's 500 (database timeouts) is retried like 502/503/504, then the project fails */
    ck_assert_uint_eq(COUNTER(t, RETRIES), 4);
    ck_assert_uint_eq(COUNTER(t, IMAGES_REMOVED), 0);
    ck_assert_int_eq(ef_faults_clear(e), 0);

    expected_now(e, &after);
    ck_assert_int_eq(hf_rows_filter(&want, &after, hf_not_in_namespaces, (void *)private_team_only), 0);
    ck_assert_int_eq(hf_rows_append(&want, &before, hf_in_namespaces, (void *)private_team_only), 0);
    assert_inventory(ctx, PROVIDER, e, &want);

    hf_rows_free(&before);
    hf_rows_free(&after);
    hf_rows_free(&want);
    imgsync_task_free(t0);
    imgsync_task_free(t);
    imgsync_ctx_free(ctx);
}
END_TEST

START_TEST(test_artifact_list_forbidden)
{
    /* robot$private-team+lister may list private-team's repositories but not their artifacts */
    ef_emulator *e = fresh(&ec_creds);
    imgsync_ctx *ctx = new_ctx();
    hf_rows all, want;
    imgsync_task *t;
    size_t i, n = 0;

    add_harbor(ctx, PROVIDER, e, LISTER_ROBOT, LISTER_SECRET);
    t = sync_wait(ctx, NULL);
    assert_partial(t, IMGSYNC_EAUTH, "private-team/");
    for (i = 0; i < imgsync_task_error_count(t); i++) {
        ck_assert_int_eq(imgsync_task_error_code(t, i), IMGSYNC_EAUTH);
        ck_assert_msg(strncmp(imgsync_task_error_repository(t, i), "private-team/", 13) == 0,
                      "error %zu is about '%s'", i, imgsync_task_error_repository(t, i));
        n++;
    }
    ck_assert_uint_eq(n, 3); /* app, services/api/gateway, services/worker */
    ck_assert_uint_eq(COUNTER(t, REPOSITORIES_FAILED), 3);
    expected_now(e, &all);
    ck_assert_int_eq(hf_rows_filter(&want, &all, hf_in_namespaces, (void *)public_projects), 0);
    assert_inventory(ctx, PROVIDER, e, &want);

    hf_rows_free(&all);
    hf_rows_free(&want);
    imgsync_task_free(t);
    imgsync_ctx_free(ctx);
}
END_TEST

/* ---- OIDC --------------------------------------------------------------------------------------------------- */

START_TEST(test_oidc_cli_secret)
{
    ef_emulator *e = fresh(&ec_oidc);
    imgsync_ctx *ctx = new_ctx(), *ctx2 = new_ctx();
    imgsync_provider *p = add_harbor(ctx, PROVIDER, e, OIDC_USER, OIDC_SECRET);
    hf_rows all, want;
    imgsync_task *t, *t2;
    long status = 0;
    int rc;

    /* the emulator: users/current gives a false 401 to a CLI secret */
    ck_assert_int_eq(ef_http(e, "GET", "/api/v2.0/users/current", NULL, OIDC_USER, OIDC_SECRET, NULL, &status, NULL), 0);
    ck_assert_int_eq(status, 401);
    ck_assert_int_eq(ef_stats_reset(e), 0);

    t = sync_wait(ctx, NULL);
    assert_succeeded(t);
    expected_now(e, &all);
    ck_assert_int_eq(hf_rows_filter(&want, &all, hf_in_namespaces, (void *)ci_robot_projects), 0);
    assert_inventory(ctx, PROVIDER, e, &want);
    rc = imgsync_provider_check(p);
    ck_assert_msg(rc == 0, "provider_check with an OIDC CLI secret = %d (%s)", rc, imgsync_strerror(rc));

    /* the admin (user 1) still logs in with a password; a wrong CLI secret is rejected */
    add_harbor(ctx2, "admin", e, HF_ADMIN_USER, HF_ADMIN_PASSWORD);
    add_harbor(ctx2, "wrong", e, OIDC_USER, "not-the-secret");
    t2 = sync_wait(ctx2, NULL);
    ck_assert_int_eq(imgsync_task_state_of(t2), IMGSYNC_TASK_PARTIAL);
    ck_assert_int_eq(imgsync_task_registry_state(t2, 0), IMGSYNC_REGISTRY_FINISHED);
    ck_assert_int_eq(imgsync_task_registry_error(t2, 1), IMGSYNC_EAUTH);
    assert_inventory(ctx2, "admin", e, &all);
    assert_no_secret_in_task(t2);

    hf_rows_free(&all);
    hf_rows_free(&want);
    imgsync_task_free(t);
    imgsync_task_free(t2);
    imgsync_ctx_free(ctx);
    imgsync_ctx_free(ctx2);
}
END_TEST

/* ---- 5) retries and server errors ------------------------------------------------------------------------- */

#define NGINX_ARTIFACTS "/api/v2.0/projects/library/repositories/nginx/artifacts"

/* A sync as admin with fast backoff; checks success, `retries` retries and the full inventory. */
static void sync_with_retries(ef_emulator *e, const char *rule, const char *pattern, uint64_t retries,
                              int64_t min_ms)
{
    imgsync_ctx *ctx = new_ctx();
    hf_rows all;
    imgsync_task *t;
    int64_t t0;

    add_harbor(ctx, PROVIDER, e, HF_ADMIN_USER, HF_ADMIN_PASSWORD);
    ctx_set(ctx, "retry_base_ms", "10");
    faults(e, rule);
    t0 = mono_ms();
    t = sync_wait(ctx, NULL);
    assert_succeeded(t);
    ck_assert_msg(mono_ms() - t0 >= min_ms, "took %" PRId64 " ms, Retry-After asks for %" PRId64, mono_ms() - t0,
                  min_ms);
    ck_assert_uint_eq(COUNTER(t, RETRIES), retries);
    ck_assert_int_eq(ef_rule_fired(e, pattern), (long)retries);
    ck_assert_int_eq(ef_faults_clear(e), 0);
    expected_now(e, &all);
    ck_assert_uint_eq(all.n, SAMPLE_ROWS);
    assert_inventory(ctx, PROVIDER, e, &all);
    hf_rows_free(&all);
    imgsync_task_free(t);
    imgsync_ctx_free(ctx);
}

START_TEST(test_retry_429_retry_after)
{
    ef_emulator *e = fresh(&ec_faults);

    /* a reverse proxy's 429 with Retry-After: 1, twice: two retries, each after >= 1 s */
    sync_with_retries(e,
                      "{\"type\":\"429\",\"pattern\":\"^/api/v2\\\\.0/projects/library/repositories/nginx/artifacts\","
                      "\"count\":2,\"retry_after\":\"1\"}",
                      "^/api/v2\\.0/projects/library/repositories/nginx/artifacts", 2, 1900);
}
END_TEST

START_TEST(test_retry_503)
{
    ef_emulator *e = fresh(&ec_faults);

    sync_with_retries(e,
                      "{\"type\":\"nginx\",\"status\":503,\"pattern\":\"services%252Fapi%252Fgateway/artifacts\","
                      "\"count\":3}",
                      "services%252Fapi%252Fgateway/artifacts", 3, 0);
}
END_TEST

START_TEST(test_retry_504_repositories)
{
    ef_emulator *e = fresh(&ec_faults);

    /* nginx's HTML 504 Gateway Time-out on a project's repository list (reference 4) */
    sync_with_retries(e, "{\"type\":\"504\",\"pattern\":\"^/api/v2\\\\.0/projects/library/repositories\\\\?\",\"count\":3}",
                      "^/api/v2\\.0/projects/library/repositories\\?", 3, 0);
}
END_TEST

START_TEST(test_500_fails_one_repository)
{
    ef_emulator *e = fresh(&ec_faults);
    imgsync_ctx *ctx = new_ctx();
    hf_rows before, after, want;
    ef_stats st;
    imgsync_task *t0, *t;
    size_t i;
    int named = 0;

    add_harbor(ctx, PROVIDER, e, HF_ADMIN_USER, HF_ADMIN_PASSWORD);
    ctx_set(ctx, "retry_base_ms", "10");
    t0 = sync_wait(ctx, NULL);
    assert_succeeded(t0);
    expected_now(e, &before);

    push(e, "{\"repository\":\"library/nginx\",\"count\":1,\"tags\":[\"1.27.0\"]}");
    push(e, "{\"repository\":\"library/alpine\",\"count\":1,\"tags\":[\"3.20\"]}");
    faults(e, "{\"type\":\"500\",\"pattern\":\"^/api/v2\\\\.0/projects/library/repositories/nginx/artifacts\",\"count\":-1}");
    ck_assert_int_eq(ef_stats_reset(e), 0);
    t = sync_wait(ctx, NULL);
    assert_partial(t, IMGSYNC_EHTTP, "library/nginx");
    for (i = 0; i < imgsync_task_error_count(t); i++)
        if (strcmp(imgsync_task_error_repository(t, i), "library/nginx") == 0 &&
            contains(imgsync_task_error_message(t, i), "500"))
            named = 1;
    ck_assert_msg(named, "no error for library/nginx mentions HTTP 500");
    ck_assert_uint_eq(COUNTER(t, REPOSITORIES_FAILED), 1);
    ck_assert_uint_eq(COUNTER(t, REPOSITORIES_DONE), SAMPLE_REPOS - 1);
    ck_assert_uint_eq(COUNTER(t, RETRIES), 4);
    ck_assert_uint_eq(COUNTER(t, IMAGES_REMOVED), 0);
    stats_of(e, &st);
    ck_assert_int_eq(ef_stats_path(&st, NGINX_ARTIFACTS), 5); /* a lasting 500: the first try and 4 retries */
    ef_stats_free(&st);
    ck_assert_int_eq(ef_faults_clear(e), 0);

    expected_now(e, &after);
    ck_assert_int_eq(hf_rows_filter(&want, &after, hf_not_in_repository, (void *)"library/nginx"), 0);
    ck_assert_int_eq(hf_rows_append(&want, &before, hf_in_repository, (void *)"library/nginx"), 0);
    ck_assert_ptr_nonnull(hf_rows_find(&want, "library/alpine", "3.20"));
    ck_assert_ptr_null(hf_rows_find(&want, "library/nginx", "1.27.0"));
    assert_inventory(ctx, PROVIDER, e, &want);

    hf_rows_free(&before);
    hf_rows_free(&after);
    hf_rows_free(&want);
    imgsync_task_free(t0);
    imgsync_task_free(t);
    imgsync_ctx_free(ctx);
}
END_TEST

START_TEST(test_retries_exhausted_keep_rows)
{
    ef_emulator *e = fresh(&ec_faults);
    imgsync_ctx *ctx = new_ctx();
    hf_rows before;
    ef_stats st;
    imgsync_task *t0, *t;

    add_harbor(ctx, PROVIDER, e, HF_ADMIN_USER, HF_ADMIN_PASSWORD);
    ctx_set(ctx, "retry_base_ms", "10");
    ctx_set(ctx, "max_retries", "2");
    t0 = sync_wait(ctx, NULL);
    assert_succeeded(t0);
    expected_now(e, &before);

    faults(e, "{\"type\":\"504\",\"pattern\":\"^/api/v2\\\\.0/projects/library/repositories/alpine/artifacts\",\"count\":-1}");
    ck_assert_int_eq(ef_stats_reset(e), 0);
    t = sync_wait(ctx, NULL);
    assert_partial(t, IMGSYNC_EHTTP, "library/alpine");
    ck_assert_uint_eq(COUNTER(t, RETRIES), 2);
    ck_assert_uint_eq(COUNTER(t, REPOSITORIES_FAILED), 1);
    stats_of(e, &st);
    ck_assert_int_eq(ef_stats_path(&st, "/api/v2.0/projects/library/repositories/alpine/artifacts"), 3);
    ef_stats_free(&st);
    ck_assert_int_eq(ef_faults_clear(e), 0);
    assert_inventory(ctx, PROVIDER, e, &before); /* alpine's rows are kept */

    hf_rows_free(&before);
    imgsync_task_free(t0);
    imgsync_task_free(t);
    imgsync_ctx_free(ctx);
}
END_TEST

START_TEST(test_slow_answer_and_reset_connection)
{
    ef_emulator *e = fresh(&ec_faults);
    imgsync_ctx *ctx = new_ctx();
    hf_rows all;
    imgsync_task *t;

    /* nginx gives up on a slow Harbor after proxy_read_timeout (60 s, here 300 ms) with a 504;
     * a connection closed without an answer is a network error: both are retried */
    ck_assert_int_eq(ef_config(e, "{\"proxy_read_timeout_ms\": 300}"), 0);
    faults(e, "[{\"type\":\"slow\",\"delay_ms\":400,\"pattern\":\"^/api/v2\\\\.0/projects/team-01/repositories\\\\?\",\"count\":1},"
              "{\"type\":\"reset\",\"pattern\":\"^/api/v2\\\\.0/projects/team-02/repositories/service/artifacts\",\"count\":2}]");
    add_harbor(ctx, PROVIDER, e, HF_ADMIN_USER, HF_ADMIN_PASSWORD);
    ctx_set(ctx, "retry_base_ms", "10");
    t = sync_wait(ctx, NULL);
    assert_succeeded(t);
    ck_assert_int_eq(ef_rule_fired(e, "^/api/v2\\.0/projects/team-01/repositories\\?"), 1);
    ck_assert_int_eq(ef_rule_fired(e, "^/api/v2\\.0/projects/team-02/repositories/service/artifacts"), 2);
    /* the 504 is retried by the engine; curl itself may retry a request that died on a reused
     * connection, so the resets give 0 to 2 engine retries */
    ck_assert_uint_ge(COUNTER(t, RETRIES), 1);
    ck_assert_uint_le(COUNTER(t, RETRIES), 3);
    ck_assert_int_eq(ef_faults_clear(e), 0);
    expected_now(e, &all);
    assert_inventory(ctx, PROVIDER, e, &all);

    hf_rows_free(&all);
    imgsync_task_free(t);
    imgsync_ctx_free(ctx);
}
END_TEST

/* ---- 6) pushes during the enumeration ------------------------------------------------------------------------ */

/* Sync with page_size `page_size` while the push fault `rule` fires once; the result must be the
 * emulator's inventory after the push, without duplicates, nothing of `before` lost. */
static void sync_during_push(ef_emulator *e, const char *page_size, const char *rule, const char *pattern,
                             const char *new_repo, const char *new_tag)
{
    imgsync_ctx *ctx = new_ctx();
    imgsync_provider *p = add_harbor(ctx, PROVIDER, e, HF_ADMIN_USER, HF_ADMIN_PASSWORD);
    hf_rows before, after, got;
    imgsync_task *t;
    size_t i;

    prov_set(ctx, p, "page_size", page_size);
    expected_now(e, &before);
    ck_assert_int_eq(ef_stats_reset(e), 0);
    faults(e, rule);
    t = sync_wait(ctx, NULL);
    assert_succeeded(t);
    ck_assert_int_eq(ef_rule_fired(e, pattern), 1); /* the push happened during the sync */
    ck_assert_int_eq(ef_faults_clear(e), 0);

    expected_now(e, &after);
    ck_assert_uint_gt(after.n, before.n);
    ck_assert_ptr_nonnull(hf_rows_find(&after, new_repo, new_tag));
    assert_inventory(ctx, PROVIDER, e, &after); /* also reports duplicates */
    rows_of(ctx, PROVIDER, &got);
    for (i = 0; i < before.n; i++)
        ck_assert_msg(hf_rows_find(&got, before.v[i].repository, before.v[i].tag) != NULL, "%s:%s was lost",
                      before.v[i].repository, before.v[i].tag);
    ck_assert_uint_eq(COUNTER(t, IMAGES_FOUND), after.n);

    hf_rows_free(&before);
    hf_rows_free(&after);
    hf_rows_free(&got);
    imgsync_task_free(t);
    imgsync_ctx_free(ctx);
}

START_TEST(test_push_during_artifact_pages)
{
    ef_emulator *e = fresh(&ec_faults);

    /* the gateway has 12 artifacts: pages of 5; after page 1, three newer artifacts (5 tags)
     * arrive and shift every offset page by 3 */
    sync_during_push(e, "5",
                     "{\"type\":\"push\",\"pattern\":\"services%252Fapi%252Fgateway/artifacts\",\"after\":1,\"count\":1,"
                     "\"push\":{\"repository\":\"" GATEWAY "\",\"artifacts\":["
                     "{\"tags\":[\"v2.0.0\",\"stable\"],\"size\":42000000},{\"tags\":[\"v2.0.1\"],\"size\":42000001},"
                     "{\"tags\":[\"v2.0.2\",\"canary\"],\"size\":42000002}]}}",
                     "services%252Fapi%252Fgateway/artifacts", GATEWAY, "canary");
}
END_TEST

START_TEST(test_push_during_repository_pages)
{
    ef_emulator *e = fresh(&ec_faults);

    /* library has 4 repositories: pages of 2; after page 1 a new repository appears first */
    sync_during_push(e, "2",
                     "{\"type\":\"push\",\"pattern\":\"^/api/v2\\\\.0/projects/library/repositories\\\\?\",\"after\":1,"
                     "\"count\":1,\"push\":{\"repository\":\"library/zz/fresh\",\"count\":1,\"tags\":[\"new\"]}}",
                     "^/api/v2\\.0/projects/library/repositories\\?", "library/zz/fresh", "new");
}
END_TEST

START_TEST(test_push_during_project_pages)
{
    ef_emulator *e = fresh(&ec_faults);

    /* 13 projects by name: pages of 2; after page 1 a project sorting first appears */
    sync_during_push(e, "2",
                     "{\"type\":\"push\",\"pattern\":\"^/api/v2\\\\.0/projects\\\\?\",\"after\":1,\"count\":1,"
                     "\"push\":{\"repository\":\"aaa-new/app\",\"public\":true,\"count\":1,\"tags\":[\"1.0\"]}}",
                     "^/api/v2\\.0/projects\\?", "aaa-new/app", "1.0");
}
END_TEST

START_TEST(test_push_storm_invariants)
{
    /* a push after every artifact page (6 in all): the walk cannot be a snapshot, but no row may
     * be duplicated, invented or lost, and the new rows seen must be right */
    ef_emulator *e = fresh(&ec_faults);
    imgsync_ctx *ctx = new_ctx();
    imgsync_provider *p = add_harbor(ctx, PROVIDER, e, HF_ADMIN_USER, HF_ADMIN_PASSWORD);
    hf_rows before, after, got, pushed;
    imgsync_task *t;
    size_t i, diffs;

    prov_set(ctx, p, "page_size", "5");
    expected_now(e, &before);
    faults(e, "{\"type\":\"push\",\"pattern\":\"services%252Fapi%252Fgateway/artifacts\",\"after\":1,\"every\":1,"
              "\"count\":6,\"push\":{\"repository\":\"" GATEWAY "\",\"count\":1}}");
    t = sync_wait(ctx, NULL);
    assert_succeeded(t);
    ck_assert_int_eq(ef_rule_fired(e, "services%252Fapi%252Fgateway/artifacts"), 6);
    ck_assert_int_eq(ef_faults_clear(e), 0);
    expected_now(e, &after);
    ck_assert_uint_eq(after.n, before.n + 6);
    rows_of(ctx, PROVIDER, &got);
    /* every row is one of the emulator's (fields equal), each once: compare got with the
     * expected rows that have the same keys */
    pushed.v = NULL;
    pushed.n = 0;
    for (i = 0; i < got.n; i++) {
        const hf_row *w = hf_rows_find(&after, got.v[i].repository, got.v[i].tag);
        ck_assert_msg(w != NULL, "invented row %s:%s", got.v[i].repository, got.v[i].tag);
        ck_assert_int_eq(hf_rows_add(&pushed, w->repository, w->tag, w->namespace_, w->digest, w->media_type,
                                     w->artifact_type, w->size, w->update_ms, w->multi_arch),
                         0);
    }
    diffs = hf_rows_diff(&pushed, &got, "rows after a push storm");
    ck_assert_msg(diffs == 0, "%zu differences (see stderr)", diffs);
    for (i = 0; i < before.n; i++)
        ck_assert_msg(hf_rows_find(&got, before.v[i].repository, before.v[i].tag) != NULL, "%s:%s was lost",
                      before.v[i].repository, before.v[i].tag);
    if (getenv("IMGSYNC_IT_VERBOSE") != NULL)
        fprintf(stderr, "push storm: %zu of 6 pushed rows seen, %" PRIu64 " requests\n", got.n - before.n,
            COUNTER(t, REQUESTS));

    hf_rows_free(&before);
    hf_rows_free(&after);
    hf_rows_free(&got);
    hf_rows_free(&pushed);
    imgsync_task_free(t);
    imgsync_ctx_free(ctx);
}
END_TEST

/* ---- 2) more than 100 items at every level ------------------------------------------------------------------ */

#define DEEP_REPO "gen-p0003/deep/nested/path/app"
#define DEEP_ARTIFACTS "^/api/v2\\.0/projects/gen-p0003/repositories/deep%252Fnested%252Fpath%252Fapp/artifacts\\?"
#define P0001_REPOS "^/api/v2\\.0/projects/gen-p0001/repositories\\?"
#define PROJECTS "^/api/v2\\.0/projects\\?"
#define PAGE(n) "(.*&)?page=" #n "(&|$)"

/* 105 generated projects (one repository each, one artifact tagged "v0" and "latest"); 110 more
 * repositories in gen-p0001 (one tagged artifact each); 121 artifacts (123 tags) in a nested
 * repository of gen-p0003. The 120 are listed one by one: the emulator's {"count": K} push gives
 * all K artifacts the same tag (see the report), which would leave 119 of them untagged. */
static void populate_large(const ef_emulator *e)
{
    char *json = malloc(120 * 64 + 256), *o;
    int i;

    ck_assert_ptr_nonnull(json);
    push(e, "{\"project\":\"gen-p0001\",\"new_repositories\":110,\"artifacts_per_repo\":1}");
    o = json + sprintf(json, "{\"repository\":\"" DEEP_REPO "\",\"artifacts\":[");
    for (i = 0; i < 120; i++)
        o += sprintf(o, "%s{\"tags\":[\"b-%03d\"],\"size\":%d}", i ? "," : "", i, 5000 + i);
    strcpy(o, "]}");
    push(e, json);
    free(json);
    push(e, "{\"repository\":\"" DEEP_REPO "\",\"artifacts\":[{\"tags\":[\"multi-a\",\"multi-b\",\"multi-c\"],"
            "\"size\":7777}]}");
}

static void sync_large(ef_emulator *e, const char *page_size, int project_pages, int repo_pages, int artifact_pages)
{
    imgsync_ctx *ctx = new_ctx();
    imgsync_provider *p = add_harbor(ctx, PROVIDER, e, HF_ADMIN_USER, HF_ADMIN_PASSWORD);
    char last[512], beyond[512];
    hf_rows all;
    ef_stats st;
    imgsync_task *t;

    if (page_size != NULL)
        prov_set(ctx, p, "page_size", page_size);
    populate_large(e);
    ck_assert_int_eq(ef_stats_reset(e), 0);
    /* probes: the last page of each walk is asked for, the one after it is not */
    snprintf(last, sizeof last, "%s(.*&)?page=%d(&|$)", PROJECTS, project_pages);
    snprintf(beyond, sizeof beyond, "%s(.*&)?page=%d(&|$)", PROJECTS, project_pages + 1);
    probe(e, last);
    probe(e, beyond);
    probe(e, PROJECTS PAGE(2));
    probe(e, P0001_REPOS PAGE(2));
    probe(e, DEEP_ARTIFACTS PAGE(2));
    {
        char r[512], a[512];
        snprintf(r, sizeof r, "%s(.*&)?page=%d(&|$)", P0001_REPOS, repo_pages);
        snprintf(a, sizeof a, "%s(.*&)?page=%d(&|$)", DEEP_ARTIFACTS, artifact_pages);
        probe(e, r);
        probe(e, a);
        t = sync_wait(ctx, NULL);
        assert_succeeded(t);
        ck_assert_int_eq(seen(e, r), 1);
        ck_assert_int_eq(seen(e, a), 1);
    }
    ck_assert_int_eq(seen(e, last), 1);
    ck_assert_int_eq(seen(e, beyond), 0);
    ck_assert_int_eq(seen(e, PROJECTS PAGE(2)), 1);
    ck_assert_int_eq(seen(e, P0001_REPOS PAGE(2)), 1);
    ck_assert_int_eq(seen(e, DEEP_ARTIFACTS PAGE(2)), 1);
    stats_of(e, &st);
    ck_assert_int_eq(ef_stats_path(&st, "/api/v2.0/projects"), project_pages); /* each page once */
    ck_assert_int_eq(ef_stats_path(&st, "/api/v2.0/projects/gen-p0001/repositories"), repo_pages);
    ck_assert_int_eq(ef_stats_path(&st, "/api/v2.0/projects/gen-p0003/repositories/deep%252Fnested%252Fpath%252Fapp/artifacts"),
                     artifact_pages);
    ef_stats_free(&st);
    ck_assert_int_eq(ef_faults_clear(e), 0);

    expected_now(e, &all);
    ck_assert_uint_eq(all.n, 2 * 105 + 110 + 123);
    ck_assert_uint_eq(hf_rows_count_repositories(&all), 105 + 110 + 1);
    assert_inventory(ctx, PROVIDER, e, &all);
    ck_assert_uint_eq(COUNTER(t, REPOSITORIES_DONE), 105 + 110 + 1);

    hf_rows_free(&all);
    imgsync_task_free(t);
    imgsync_ctx_free(ctx);
}

START_TEST(test_paging_default_page_size)
{
    ef_emulator *e = fresh(&ec_paging);

    sync_large(e, NULL, 2, 2, 2); /* 105 projects, 111 repositories, 121 artifacts by 100 */
}
END_TEST

START_TEST(test_paging_page_size_7)
{
    ef_emulator *e = fresh(&ec_paging);
    imgsync_ctx *ctx = new_ctx();
    imgsync_provider *p;
    int rc;

    /* Harbor answers 422 above 100 (reference 1.3): the option refuses such values */
    ck_assert_int_eq(imgsync_provider_new(&p, ctx, "harbor", "x"), 0);
    rc = imgsync_provider_set(p, "page_size", "101");
    ck_assert_msg(rc == IMGSYNC_EINVAL, "page_size=101 accepted (%d)", rc);
    rc = imgsync_provider_set(p, "page_size", "0");
    ck_assert_msg(rc == IMGSYNC_EINVAL, "page_size=0 accepted (%d)", rc);
    imgsync_ctx_free(ctx);

    sync_large(e, "7", 15, 16, 18); /* ceil(105/7), ceil(111/7), ceil(121/7) */
}
END_TEST

/* ---- suite ------------------------------------------------------------------------------------------------ */

static TCase *emu_tcase(const char *name, void (*setup)(void), void (*teardown)(void))
{
    TCase *tc = tcase_create(name);

    tcase_add_unchecked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, TCASE_TIMEOUT);
    return tc;
}

Suite *harbor_suite(void)
{
    Suite *s = suite_create("harbor");
    TCase *tc;

    tc = emu_tcase("sample_admin", sample_setup, sample_teardown);
    tcase_add_test(tc, test_admin_full_sync_and_resync);
    tcase_add_test(tc, test_harbor_1x_unsupported);
    tcase_add_test(tc, test_filter_single_repository);
    tcase_add_test(tc, test_filter_namespace_library);
    tcase_add_test(tc, test_filter_tags);
    tcase_add_test(tc, test_filter_namespace_glob_and_fuzzy);
    tcase_add_test(tc, test_non_images_and_untagged);
    tcase_add_test(tc, test_cli_check_and_sync_json);
    tcase_add_test(tc, test_cli_wrong_password);
    suite_add_tcase(s, tc);

    tc = emu_tcase("credentials", creds_setup, creds_teardown);
    tcase_add_test(tc, test_member_users);
    tcase_add_test(tc, test_project_robot);
    tcase_add_test(tc, test_system_robot_all_projects);
    tcase_add_test(tc, test_wrong_password_keeps_inventory);
    tcase_add_test(tc, test_rejected_robots);
    tcase_add_test(tc, test_no_credentials_public_only);
    tcase_add_test(tc, test_forbidden_project_partial);
    tcase_add_test(tc, test_forbidden_project_keeps_rows);
    tcase_add_test(tc, test_repository_list_500_keeps_rows);
    tcase_add_test(tc, test_artifact_list_forbidden);
    suite_add_tcase(s, tc);

    tc = emu_tcase("oidc", oidc_setup, oidc_teardown);
    tcase_add_test(tc, test_oidc_cli_secret);
    suite_add_tcase(s, tc);

    tc = emu_tcase("faults", faults_setup, faults_teardown);
    tcase_add_test(tc, test_retry_429_retry_after);
    tcase_add_test(tc, test_retry_503);
    tcase_add_test(tc, test_retry_504_repositories);
    tcase_add_test(tc, test_500_fails_one_repository);
    tcase_add_test(tc, test_retries_exhausted_keep_rows);
    tcase_add_test(tc, test_slow_answer_and_reset_connection);
    tcase_add_test(tc, test_push_during_artifact_pages);
    tcase_add_test(tc, test_push_during_repository_pages);
    tcase_add_test(tc, test_push_during_project_pages);
    tcase_add_test(tc, test_push_storm_invariants);
    suite_add_tcase(s, tc);

    tc = emu_tcase("paging", paging_setup, paging_teardown);
    tcase_add_test(tc, test_paging_default_page_size);
    tcase_add_test(tc, test_paging_page_size_7);
    suite_add_tcase(s, tc);

    return s;
}

#include "check_main.h"
IMGSYNC_TEST_MAIN(harbor_suite)
