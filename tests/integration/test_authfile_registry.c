/*
 * Credentials from Docker/Podman auth files against a real docker-registry with htpasswd Basic
 * auth (tests/registry/registry.py): the provider sets no username or password, only
 * "auth_file" (or the context's), and the file gives them directly or through a credential
 * helper (tests/support/bin/docker-credential-fake, put on PATH). The secret never shows in
 * errmsg, task status or the imgsync program's output. Run from the repository root.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check_main.h"
#include "imgsync.h"
#include "support/registry_fixture.h"

Suite *authfile_registry_suite(void);

#define USER "imgsync"
#define PASSWORD_ENV "IMGSYNC_IT_AF_PASSWORD"
#define WAIT_MS 30000

static rf_registry reg;
static rf_rows initial;
static char *password;
static int fixture_ok;

static void setup(void)
{
    char bin[4096], path[8192];
    fixture_ok = 0;
    if (!realpath("tests/support/bin", bin))
        return;
    snprintf(path, sizeof(path), "%s:%s", bin, getenv("PATH") ? getenv("PATH") : "/usr/bin:/bin");
    setenv("PATH", path, 1);
    if (!(password = ts_random_secret("Af-Pw-")) || setenv(PASSWORD_ENV, password, 1) ||
        rf_registry_start(&reg, "authfile", USER, PASSWORD_ENV))
        return;
    snprintf(path, sizeof(path), "%s", rf_registry_path(&reg, "initial.json"));
    if (rf_registry_seed(&reg, "initial", path) || rf_rows_load(&initial, path) || initial.n == 0)
        return;
    fixture_ok = 1;
}

static void teardown(void)
{
    rf_rows_free(&initial);
    rf_registry_destroy(&reg);
    if (password) {
        memset(password, 0, strlen(password));
        free(password);
        password = NULL;
    }
    unsetenv(PASSWORD_ENV);
}

/* An auth file in the registry's directory: its path (static until the next call). */
static const char *auth_file(const char *name, const char *text)
{
    static char path[4096];
    snprintf(path, sizeof(path), "%s", rf_registry_path(&reg, name));
    ck_assert_int_eq(rf_write_file(path, text), 0);
    return path;
}

/* {"auths": {"HOST": {"auth": base64(USER:pw)}}} written with the shell's base64. */
static const char *basic_auth_file(const char *name, const char *pw)
{
    char cmd[8192], *q = rf_shell_quote(pw), *b64;
    ck_assert_ptr_nonnull(q);
    snprintf(cmd, sizeof(cmd), "printf '%%s' " USER ":%s | base64 -w0 >%s", q, rf_registry_path(&reg, "b64"));
    free(q);
    ck_assert_int_eq(rf_run(cmd), 0);
    ck_assert_ptr_nonnull(b64 = rf_read_file(rf_registry_path(&reg, "b64"), NULL));
    char text[1024];
    snprintf(text, sizeof(text), "{\"auths\": {\"https://%s/v1/\": {\"auth\": \"%s\"}}}", reg.host, b64);
    free(b64);
    return auth_file(name, text);
}

static imgsync_provider *provider(imgsync_ctx *ctx, const char *auth)
{
    imgsync_provider *p = NULL;
    ck_assert_int_eq(imgsync_provider_new(&p, ctx, "oci", "local"), 0);
    ck_assert_int_eq(imgsync_provider_set(p, "endpoint", reg.url), 0);
    if (auth)
        ck_assert_msg(imgsync_provider_set(p, "auth_file", auth) == 0, "%s", imgsync_ctx_errmsg(ctx));
    return p;
}

static int has(const char *s, const char *needle) { return s && needle && *needle && strstr(s, needle); }

/* Sync everything; the task snapshot. */
static imgsync_task *sync_all(imgsync_ctx *ctx)
{
    imgsync_request *req = NULL;
    imgsync_task *t = NULL;
    uint64_t id = 0;
    ck_assert_int_eq(imgsync_request_new(&req), 0);
    ck_assert_int_eq(imgsync_sync_start(ctx, req, &id), 0);
    imgsync_request_free(req);
    ck_assert_int_eq(imgsync_task_wait(ctx, id, WAIT_MS), 0);
    ck_assert_int_eq(imgsync_task_get(&t, ctx, id), 0);
    return t;
}

/* No text of the task holds the secret. */
static void no_secret_in_task(const imgsync_task *t, const char *secret)
{
    for (size_t i = 0; i < imgsync_task_registry_count(t); i++)
        ck_assert_msg(!has(imgsync_task_registry_reason(t, i), secret), "a registry reason holds the secret");
    for (size_t i = 0; i < imgsync_task_error_count(t); i++)
        ck_assert_msg(!has(imgsync_task_error_message(t, i), secret), "an error message holds the secret");
}

/* Every log line (DEBUG and up), joined. */
static char logged[1 << 16];

static void on_log(imgsync_ctx *ctx, int level, const char *message, void *payload)
{
    (void)ctx;
    (void)level;
    (void)payload;
    size_t n = strlen(logged);
    snprintf(logged + n, sizeof(logged) - n, "%s\n", message);
}

static void synced_everything(imgsync_ctx *ctx)
{
    imgsync_task *t = sync_all(ctx);
    ck_assert_msg(imgsync_task_state_of(t) == IMGSYNC_TASK_SUCCEEDED, "task state %d: %s", imgsync_task_state_of(t),
                  imgsync_task_registry_count(t) ? imgsync_task_registry_reason(t, 0) : "");
    ck_assert_uint_eq(imgsync_task_counter(t, IMGSYNC_COUNT_IMAGES_ADDED), initial.n);
    no_secret_in_task(t, password);
    imgsync_task_free(t);
    ck_assert_uint_eq(rf_compare_inventory(ctx, "local", reg.host, &initial, RF_ALL), 0);
}

START_TEST(sync_with_an_auth_file_only)
{
    ck_assert_msg(fixture_ok, "the registry fixture failed (see stderr)");
    imgsync_ctx *ctx = NULL;
    ck_assert_int_eq(imgsync_ctx_new(&ctx, NULL), 0);
    const char *path = basic_auth_file("auth.json", password);
    char want[4200];
    snprintf(want, sizeof(want), "auth file %s", path);
    imgsync_provider *p = provider(ctx, path);
    ck_assert_int_eq(imgsync_provider_check(p), 0);
    ck_assert_str_eq(imgsync_provider_credential_source(p), want);
    synced_everything(ctx);
    imgsync_ctx_free(ctx);
}
END_TEST

START_TEST(sync_with_a_credential_helper_only)
{
    ck_assert_msg(fixture_ok, "the registry fixture failed (see stderr)");
    char text[512];
    snprintf(text, sizeof(text), "{\"auths\": {}, \"credHelpers\": {\"%s\": \"fake\"}}", reg.host);
    const char *path = auth_file("helpers.json", text);
    setenv("FAKE_HELPER_MODE", "ok", 1);
    setenv("FAKE_HELPER_USER", USER, 1);
    setenv("FAKE_HELPER_SECRET", password, 1);
    imgsync_ctx *ctx = NULL;
    ck_assert_int_eq(imgsync_ctx_new(&ctx, NULL), 0);
    ck_assert_int_eq(imgsync_ctx_set(ctx, "auth_file", path), 0); /* the context's default */
    logged[0] = '\0';
    ck_assert_int_eq(imgsync_ctx_set_log_callback(ctx, IMGSYNC_LOG_DEBUG, on_log, NULL), 0);
    imgsync_provider *p = provider(ctx, NULL);
    ck_assert_msg(imgsync_provider_check(p) == 0, "%s", imgsync_ctx_errmsg(ctx));
    ck_assert(has(imgsync_provider_credential_source(p), "credential helper docker-credential-fake (auth file "));
    synced_everything(ctx);
    /* the log names the source at INFO, and never holds the secret */
    ck_assert_msg(has(logged, "registry 'local': credentials: credential helper docker-credential-fake (auth file "),
                  "no credentials line in the log");
    ck_assert_msg(!has(logged, password), "the log holds the password");
    /* the helper fails, printing the secret: neither errmsg nor the task shows it */
    setenv("FAKE_HELPER_MODE", "fail", 1);
    ck_assert_int_eq(imgsync_provider_check(p), IMGSYNC_EAUTH);
    ck_assert(has(imgsync_ctx_errmsg(ctx), "docker-credential-fake failed (exit status 3)"));
    ck_assert(!has(imgsync_ctx_errmsg(ctx), password));
    imgsync_task *t = sync_all(ctx);
    ck_assert_int_eq(imgsync_task_state_of(t), IMGSYNC_TASK_FAILED);
    ck_assert(has(imgsync_task_registry_reason(t, 0), "docker-credential-fake"));
    no_secret_in_task(t, password);
    imgsync_task_free(t);
    ck_assert_msg(!has(logged, password), "the log holds the password");
    /* the provider's own credentials win: the helper is not asked */
    ck_assert_int_eq(imgsync_provider_set(p, "username", USER), 0);
    ck_assert_int_eq(imgsync_provider_set(p, "password", password), 0);
    ck_assert_int_eq(imgsync_provider_check(p), 0);
    ck_assert_str_eq(imgsync_provider_credential_source(p), "options");
    unsetenv("FAKE_HELPER_MODE");
    imgsync_ctx_free(ctx);
}
END_TEST

START_TEST(wrong_password_in_the_auth_file)
{
    ck_assert_msg(fixture_ok, "the registry fixture failed (see stderr)");
    char *wrong = ts_random_secret("Wrong-");
    imgsync_ctx *ctx = NULL;
    ck_assert_int_eq(imgsync_ctx_new(&ctx, NULL), 0);
    imgsync_provider *p = provider(ctx, basic_auth_file("wrong.json", wrong));
    ck_assert_int_eq(imgsync_provider_check(p), IMGSYNC_EAUTH);
    ck_assert(!has(imgsync_ctx_errmsg(ctx), wrong));
    ck_assert(has(imgsync_provider_credential_source(p), "wrong.json"));
    imgsync_task *t = sync_all(ctx);
    ck_assert_int_eq(imgsync_task_state_of(t), IMGSYNC_TASK_FAILED);
    no_secret_in_task(t, wrong);
    imgsync_task_free(t);
    imgsync_ctx_free(ctx);
    free(wrong);
}
END_TEST

/* `imgsync check` with a registry that gives no credentials: the user's docker config (found
 * through $DOCKER_CONFIG) is used, and named, without the secret. */
START_TEST(cli_check_names_the_source)
{
    ck_assert_msg(fixture_ok, "the registry fixture failed (see stderr)");
    char dir[4096], cfg[4096], text[1024], cmd[16384];
    snprintf(dir, sizeof(dir), "%s", rf_registry_path(&reg, "docker"));
    snprintf(cmd, sizeof(cmd), "mkdir -p '%s'", dir);
    ck_assert_int_eq(rf_run(cmd), 0);
    basic_auth_file("docker/config.json", password);
    snprintf(cfg, sizeof(cfg), "%s", rf_registry_path(&reg, "cli.json"));
    snprintf(text, sizeof(text), "{\"registries\": [{\"name\": \"local\", \"type\": \"oci\", \"endpoint\": \"%s\"}]}",
             reg.url);
    ck_assert_int_eq(rf_write_file(cfg, text), 0);
    const char *cli = getenv("IMGSYNC_CLI") && *getenv("IMGSYNC_CLI") ? getenv("IMGSYNC_CLI") : "build/imgsync";
    ck_assert_msg(access(cli, X_OK) == 0, "%s is not built", cli);
    snprintf(cmd, sizeof(cmd),
             "env -u REGISTRY_AUTH_FILE -u XDG_RUNTIME_DIR DOCKER_CONFIG='%s' %s check --config '%s' local >'%s' 2>&1",
             dir, cli, cfg, rf_registry_path(&reg, "cli.out"));
    int st = rf_run(cmd);
    char *out = rf_read_file(rf_registry_path(&reg, "cli.out"), NULL);
    ck_assert_ptr_nonnull(out);
    ck_assert_msg(!has(out, password), "the CLI printed the password");
    char want[8192];
    snprintf(want, sizeof(want), "registry local: OK (credentials: auth file %s/config.json)\n", dir);
    ck_assert_msg(st == 0 && !strcmp(out, want), "exit %d, output: %s", st, out);
    free(out);
    /* "auth_file": "none" in the settings: nothing is read, the registry refuses */
    snprintf(text, sizeof(text), "{\"registries\": [{\"name\": \"local\", \"type\": \"oci\", \"endpoint\": \"%s\"}],"
             " \"settings\": {\"auth_file\": \"none\"}}", reg.url);
    ck_assert_int_eq(rf_write_file(cfg, text), 0);
    snprintf(cmd, sizeof(cmd),
             "env DOCKER_CONFIG='%s' %s check --format json --config '%s' local >'%s' 2>/dev/null", dir, cli, cfg,
             rf_registry_path(&reg, "cli.out"));
    st = rf_run(cmd);
    out = rf_read_file(rf_registry_path(&reg, "cli.out"), NULL);
    ck_assert_ptr_nonnull(out);
    ck_assert_msg(st == 1 && has(out, "\"credentials\": \"none\""), "exit %d, output: %s", st, out);
    free(out);
}
END_TEST

Suite *authfile_registry_suite(void)
{
    Suite *s = suite_create("authfile_registry");
    TCase *tc = tcase_create("htpasswd");
    tcase_set_timeout(tc, 120);
    tcase_add_unchecked_fixture(tc, setup, teardown);
    tcase_add_test(tc, sync_with_an_auth_file_only);
    tcase_add_test(tc, sync_with_a_credential_helper_only);
    tcase_add_test(tc, wrong_password_in_the_auth_file);
    tcase_add_test(tc, cli_check_names_the_source);
    suite_add_tcase(s, tc);
    return s;
}

IMGSYNC_TEST_MAIN(authfile_registry_suite)
