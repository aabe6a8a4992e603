/* No secret in any log line (imgsync_ctx_set_log_callback at DEBUG), whatever the provider kind:
 * a sync of every built-in kind with its credentials (password, SK, token, security token), on
 * scripted responses (replay harness: real context and engine, no network) where the logins
 * succeed (an OCI Bearer token, an IAM token) and then every request is first answered 503 (a
 * retry is logged) and then refused with a body that quotes every secret and the request's own
 * credential headers, so that each error line carries them unless they are redacted. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "imgsync.h"
#include "support/replay.h"
#include "support/secrets.h"

Suite *log_secrets_suite(void);

#define AUTH "https://auth.example"
#define IAM "https://iam.cn-north-4.myhuaweicloud.com/v3/auth/tokens"
#define PROJECT "0a1b2c3d4e5f60718293a4b5c6d7e8f9"

static char *PASS, *SK, *TOKEN;
static replay *R;
/* The secrets the provider under test holds: the server quotes these (a secret the library
 * was never given cannot be known to be one). */
static const char *held[3];
static int refusal = 403; /* the status of the quoting answer */

/* ---- the log ----------------------------------------------------------------------------- */

static struct {
    char *text; /* every line, "\n"-terminated */
    size_t len;
    int per_level[5];
} logged;

static void on_log(imgsync_ctx *ctx, int level, const char *message, void *payload)
{
    (void)ctx;
    (void)payload;
    size_t n = strlen(message);
    char *t = realloc(logged.text, logged.len + n + 2);
    ck_assert_ptr_nonnull(t);
    memcpy(t + logged.len, message, n);
    t[logged.len + n] = '\n';
    t[logged.len + n + 1] = '\0';
    logged.text = t;
    logged.len += n + 1;
    ck_assert(level >= IMGSYNC_LOG_ERROR && level <= IMGSYNC_LOG_DEBUG);
    logged.per_level[level]++;
}

static void expect_clean_log(const char *kind)
{
    const char *text = logged.text ? logged.text : "";
    const char *secrets[] = {PASS, SK, TOKEN};
    for (size_t i = 0; i < 3; i++)
        if (ts_holds_part_of(text, secrets[i])) {
            char *a = ts_mask(text, PASS), *b = a ? ts_mask(a, SK) : NULL, *c = b ? ts_mask(b, TOKEN) : NULL;
            ck_abort_msg("%s: secret %zu in the log:\n%s", kind, i, c ? c : "");
        }
    /* not vacuous: requests were logged, and the secrets the server quoted were taken out */
    ck_assert_msg(logged.per_level[IMGSYNC_LOG_DEBUG] > 0, "%s: no request line:\n%s", kind, text);
    ck_assert_msg(strstr(text, "; retry in "), "%s: no retry line:\n%s", kind, text);
    ck_assert_msg(strstr(text, "***"), "%s: nothing redacted:\n%s", kind, text);
}

/* ---- the server ---------------------------------------------------------------------------- */

/* First attempt 503; then a refusal quoting every secret and the credential headers sent. */
static void echo(void *ud, const fake_request *q, fake_reply *out)
{
    (void)ud;
    static char body[4096];
    const char *auth = fake_request_header(q, "Authorization");
    const char *xauth = fake_request_header(q, "X-Auth-Token");
    const char *xtok = fake_request_header(q, "X-Security-Token");
    const char *jf = fake_request_header(q, "X-JFrog-Art-Api");
    char msg[1024];
    /* the secrets first: providers cut a server's message short */
    snprintf(msg, sizeof(msg), "denied: [%s] [%s] [%s] auth [%s] x-auth [%s] x-sec [%s] jf [%s]", held[0] ? held[0] : "",
             held[1] ? held[1] : "", held[2] ? held[2] : "", auth ? auth : "", xauth ? xauth : "", xtok ? xtok : "",
             jf ? jf : "");
    snprintf(body, sizeof(body),
             "{\"errors\":[{\"code\":\"DENIED\",\"message\":\"%s\",\"detail\":null}],\"error_code\":\"SVCSTG.SWR.4010001\","
             "\"error_msg\":\"%s\",\"message\":\"%s\",\"status\":403}",
             msg, msg, msg);
    memset(out, 0, sizeof(*out));
    out->status = q->attempt == 1 ? 503 : refusal;
    out->headers = "Content-Type: application/json";
    out->body = q->attempt == 1 ? "busy" : body;
}

static void setup(void)
{
    PASS = ts_random_secret("Pw-");
    SK = ts_random_secret("sk-");
    TOKEN = ts_random_secret("tok.");
    ck_assert(PASS && SK && TOKEN);
    memset(&logged, 0, sizeof(logged));
    memset(held, 0, sizeof(held));
    refusal = 403;
    R = replay_new();
    ck_assert_ptr_nonnull(R);
    imgsync_ctx *ctx = replay_ctx(R);
    ck_assert_int_eq(imgsync_ctx_set(ctx, "max_retries", "1"), 0);
    ck_assert_int_eq(imgsync_ctx_set(ctx, "retry_base_ms", "100"), 0);
    ck_assert_int_eq(imgsync_ctx_set_log_callback(ctx, IMGSYNC_LOG_DEBUG, on_log, NULL), 0);
    fake_set_fallback(replay_transport(R), echo, NULL);
}

static void teardown(void)
{
    replay_free(R);
    R = NULL;
    free(logged.text);
    free(PASS);
    free(SK);
    free(TOKEN);
    PASS = SK = TOKEN = NULL;
}

static imgsync_provider *add(const char *kind, const char *endpoint, const char *const *options)
{
    imgsync_provider *p = replay_add_provider(R, kind, "sec", endpoint);
    ck_assert_msg(p != NULL, "%s: %s", kind, imgsync_ctx_errmsg(replay_ctx(R)));
    for (size_t i = 0; options[i]; i += 2)
        ck_assert_msg(imgsync_provider_set(p, options[i], options[i + 1]) == 0, "%s: option %s: %s", kind, options[i],
                      imgsync_ctx_errmsg(replay_ctx(R)));
    return p;
}

static void sync_and_check(const char *kind)
{
    uint64_t id;
    ck_assert_int_eq(replay_sync(R, NULL, &id), 0);
    expect_clean_log(kind);
}

/* ---- one test per kind ------------------------------------------------------------------------ */

START_TEST(oci_basic_and_bearer)
{
    const char *opts[] = {"username", "reader", "password", PASS, NULL};
    held[0] = PASS;
    held[1] = TOKEN;
    add("oci", "https://reg.example", opts);
    fake_transport *ft = replay_transport(R);
    ck_assert_int_eq(fake_add_simple(ft, "GET", "https://reg.example/v2/", 401,
                                     "WWW-Authenticate: Bearer realm=\"" AUTH "/token\",service=\"reg.example\"", "{}"),
                     0);
    ck_assert_int_eq(fake_add_simple(ft, "GET", "https://reg.example/v2/", 200, NULL, "{}"), 0);
    char body[256];
    snprintf(body, sizeof(body), "{\"token\":\"%s\",\"access_token\":\"%s\",\"expires_in\":300}", TOKEN, TOKEN);
    ck_assert_int_eq(fake_set_simple(ft, "GET", AUTH "/token?service=reg.example", 200, NULL, body), 0);
    sync_and_check("oci");
    ck_assert_ptr_nonnull(strstr(logged.text, "token GET " AUTH "/token?service=reg.example -> 200"));
}
END_TEST

START_TEST(harbor_basic)
{
    const char *opts[] = {"username", "admin", "password", PASS, NULL};
    held[0] = PASS;
    add("harbor", "https://harbor.example", opts);
    sync_and_check("harbor");
}
END_TEST

START_TEST(swr_private_password_login)
{
    const char *opts[] = {"region", "cn-north-4", "username", "acme-user", "password", PASS, "domain", "acme", NULL};
    held[0] = PASS;
    held[1] = TOKEN;
    refusal = 400; /* SWR quotes the message of a 400, not of a 403 */
    add("swr-private", "https://swr-api.cn-north-4.myhuaweicloud.com", opts);
    fake_reply r = {0};
    char headers[256];
    snprintf(headers, sizeof(headers), "Content-Type: application/json\nX-Subject-Token: %s", TOKEN);
    r.status = 201;
    r.headers = headers;
    r.body = "{\"token\":{\"expires_at\":\"2099-01-02T00:00:00.000000Z\",\"issued_at\":\"2026-01-01T00:00:00.000000Z\","
             "\"methods\":[\"password\"],\"project\":{\"id\":\"" PROJECT "\",\"name\":\"cn-north-4\"}}}";
    ck_assert_int_eq(fake_add(replay_transport(R), "POST", IAM, &r), 0);
    sync_and_check("swr-private");
    ck_assert_ptr_nonnull(strstr(logged.text, "POST " IAM " -> 201"));
}
END_TEST

/* An SWR kind signing with AK/SK and a security token. */
static void swr_aksk(const char *kind)
{
    const char *opts[] = {"region", "cn-north-4", "ak", "ACMEAKEXAMPLE0000001", "sk", SK, "project_id", PROJECT,
                          "security_token", TOKEN, NULL};
    held[0] = SK;
    held[1] = TOKEN;
    refusal = 400;
    add(kind, "https://swr-api.cn-north-4.myhuaweicloud.com", opts);
    sync_and_check(kind);
}

START_TEST(swr_shared_aksk)
{
    swr_aksk("swr-shared");
}
END_TEST

START_TEST(swr_enterprise_aksk)
{
    swr_aksk("swr-enterprise");
}
END_TEST

START_TEST(jfrog_token)
{
    const char *opts[] = {"token", TOKEN, NULL};
    held[0] = TOKEN;
    add("jfrog", "https://acme.jfrog.io", opts);
    sync_and_check("jfrog");
}
END_TEST

START_TEST(jfrog_password)
{
    const char *opts[] = {"username", "admin", "password", PASS, NULL};
    held[0] = PASS;
    add("jfrog", "https://acme.jfrog.io", opts);
    sync_and_check("jfrog");
}
END_TEST

Suite *log_secrets_suite(void)
{
    Suite *s = suite_create("log_secrets");
    TCase *tc = tcase_create("log_secrets");
    tcase_set_timeout(tc, 60);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, oci_basic_and_bearer);
    tcase_add_test(tc, harbor_basic);
    tcase_add_test(tc, swr_private_password_login);
    tcase_add_test(tc, swr_shared_aksk);
    tcase_add_test(tc, swr_enterprise_aksk);
    tcase_add_test(tc, jfrog_token);
    tcase_add_test(tc, jfrog_password);
    suite_add_tcase(s, tc);
    return s;
}

IMGSYNC_TEST_MAIN(log_secrets_suite)
