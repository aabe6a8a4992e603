/* The context's log (imgsync_ctx_set_log_callback): the exact lines of HTTP attempts (a 200, a
 * retried 503, a 401 answered with a Bearer token, a signed request, credentials in a URL),
 * task and registry lines, server text with control characters, level filtering, turning it
 * off, and re-entry from the callback. A test provider (SPI2_KIND) submits the jobs; the
 * replay harness answers them on a scripted transport and a fake clock (no network). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "imgsync.h"
#include "imgsync/sys/provider.h"
#include "support/replay.h"
#include "support/secrets.h"
#include "support/spi_provider.h"
#include "core/ctx.h"
#include "engine/internal.h"
#include "engine/retry.h"
#include "util/url.h"

Suite *log_suite(void);

#define EP "https://reg.example"
#define AUTH "https://auth.example"
#define PASS "pw-Log-5ecret-77"
#define TOKEN "tok-Log-Bearer-9f8e7d6c5b4a"
#define SK "sk-Log-Signing-0a1b2c3d"

/* ---- what the callback saw ------------------------------------------------------------------- */

#define MAX_LINES 64
static struct {
    int n;
    int level[MAX_LINES];
    char *line[MAX_LINES];
    int held[MAX_LINES]; /* the context's lock was held by the calling thread */
    imgsync_ctx *ctx;
    /* called on every message before it is recorded (NULL: none) */
    void (*action)(imgsync_ctx *ctx, int level, const char *message);
    int reenter;            /* call back into the context from the callback */
    int reenter_rc[2];      /* what set_log_callback and perform answered there */
} seen;

static void on_log(imgsync_ctx *ctx, int level, const char *message, void *payload)
{
    ck_assert_ptr_eq(payload, &seen);
    ck_assert_ptr_eq(ctx, seen.ctx);
    if (seen.action)
        seen.action(ctx, level, message);
    if (seen.reenter) {
        seen.reenter = 0;
        seen.reenter_rc[0] = imgsync_ctx_set_log_callback(ctx, IMGSYNC_LOG_DEBUG, NULL, NULL);
        seen.reenter_rc[1] = imgsync_ctx_perform(ctx, 0);
    }
    if (seen.n < MAX_LINES) {
        seen.held[seen.n] = imgsync__ctx_held(ctx);
        seen.level[seen.n] = level;
        seen.line[seen.n++] = strdup(message);
    }
}

static void forget_lines(void)
{
    for (int i = 0; i < seen.n; i++)
        free(seen.line[i]);
    seen.n = 0;
}

/* The lines of one level (0: all), "\n"-terminated each (static buffer). */
static const char *lines_of(int level)
{
    static char out[16384];
    out[0] = '\0';
    for (int i = 0; i < seen.n; i++)
        if ((!level || seen.level[i] == level) && strlen(out) + strlen(seen.line[i]) + 2 < sizeof(out)) {
            strcat(out, seen.line[i]);
            strcat(out, "\n");
        }
    return out;
}

static int any_line_has(const char *needle)
{
    for (int i = 0; i < seen.n; i++)
        if (strstr(seen.line[i], needle))
            return 1;
    return 0;
}

/* ---- the test provider: submits the jobs of `jobs`, fails on what `on_response` is told ----- */

typedef struct job_spec {
    const char *method, *url;
    int auth;
} job_spec;

static const job_spec *jobs;
static int fail_with_body; /* on_response: fail the registry with the response body */
static int fail_scope;     /* on_response: fail repository "team/app" on a status >= 400 */
static int do_sign;        /* sign credentialed attempts with the "sk" option */
static int per_endpoint;   /* start: one job, GET <endpoint>/v2/team/app/tags/list, instead of jobs */

static int start(imgsync_run *run)
{
    if (per_endpoint) {
        char url[256];
        snprintf(url, sizeof(url), "%s/v2/team/app/tags/list", imgsync_run_endpoint(run));
        imgsync_job *job = imgsync_job_new(run, "GET", url);
        ck_assert_ptr_nonnull(job);
        ck_assert_int_eq(imgsync_job_submit(job), 0);
        return 0;
    }
    for (const job_spec *j = jobs; j && j->url; j++) {
        imgsync_job *job = imgsync_job_new(run, j->method, j->url);
        ck_assert_ptr_nonnull(job);
        ck_assert_int_eq(imgsync_job_set_auth(job, j->auth), 0);
        ck_assert_int_eq(imgsync_job_submit(job), 0);
    }
    return 0;
}

static int on_response(imgsync_run *run, imgsync_job *job, const imgsync_response *resp)
{
    (void)job;
    int st = imgsync_response_status(resp);
    if (fail_with_body && st >= 400)
        return imgsync_run_fail(run, IMGSYNC_EHTTP, imgsync_response_body(resp, NULL)), IMGSYNC_EHTTP;
    if (fail_scope && st >= 400)
        imgsync_run_repository_fail(run, "team/app", IMGSYNC_EHTTP, imgsync_response_body(resp, NULL));
    return 0;
}

/* SWR's way: an AK/SK signature over the attempt, in headers only. */
static int sign(imgsync_run *run, const imgsync_job *job, imgsync_attempt *a)
{
    (void)job;
    const char *sk = imgsync_run_option(run, "sk");
    if (!do_sign || !sk)
        return 0;
    char value[160];
    snprintf(value, sizeof(value), "SDK-HMAC-SHA256 Access=AK1, SignedHeaders=host, Signature=%s-%d", sk,
             imgsync_attempt_number(a));
    ck_assert_int_eq(imgsync_attempt_add_header(a, "X-Sdk-Date", "20261203T200000Z"), 0);
    return imgsync_attempt_add_header(a, "Authorization", value);
}

static replay *R;
static imgsync_provider *P;

static void setup(void)
{
    R = replay_new();
    ck_assert_ptr_nonnull(R);
    spi_reset();
    ck_assert_int_eq(spi_register_kinds(), 0);
    static const spi_hooks h = {start, on_response, sign, NULL};
    spi_hooks_set(&h);
    jobs = NULL;
    fail_with_body = fail_scope = do_sign = per_endpoint = 0;
    memset(&seen, 0, sizeof(seen));
    seen.ctx = replay_ctx(R);
    P = replay_add_provider(R, SPI2_KIND, "lt", EP);
    ck_assert_ptr_nonnull(P);
    ck_assert_int_eq(imgsync_ctx_set_log_callback(replay_ctx(R), IMGSYNC_LOG_DEBUG, on_log, &seen), 0);
}

static void teardown(void)
{
    replay_free(R);
    R = NULL;
    forget_lines();
    spi_reset();
}

static void sync_ok(int state)
{
    uint64_t id;
    ck_assert_int_eq(replay_sync(R, NULL, &id), 0);
    spi_task t = spi_task_get(R, id);
    ck_assert_msg(t.state == state, "task state %d, not %d: %s", t.state, state,
                  t.registry_reason ? t.registry_reason : "");
    spi_task_clear(&t);
}

#define EXPECT_LINES(level, want)                                                                         \
    do {                                                                                                  \
        const char *got_ = lines_of(level);                                                               \
        ck_assert_msg(!strcmp(got_, want), "level %d lines:\n%s\nwanted:\n%s", level, got_, want);       \
    } while (0)

/* ---- HTTP attempts ------------------------------------------------------------------------------ */

START_TEST(get_200)
{
    static const job_spec j[] = {{"GET", EP "/v2/_catalog?n=100", IMGSYNC_AUTH_NONE}, {0}};
    jobs = j;
    fake_reply ok = {200, "Content-Type: application/json", "{\"repositories\":[]}", 0, 0, 0, NULL, 41, NULL};
    ck_assert_int_eq(fake_set(replay_transport(R), "GET", EP "/v2/_catalog?n=100", &ok), 0);
    sync_ok(IMGSYNC_TASK_SUCCEEDED);
    EXPECT_LINES(IMGSYNC_LOG_DEBUG, "registry 'lt': GET https://reg.example/v2/_catalog?n=100 -> 200, 19 bytes, "
                                    "41 ms, attempt 1\n");
    EXPECT_LINES(IMGSYNC_LOG_INFO, "task 1: sync of 1 registry started\n"
                                   "registry 'lt' (spi2, https://reg.example): sync started\n"
                                   "registry 'lt': finished, 0 repositories listed, 0 failed\n"
                                   "task 1: succeeded; repositories 0/0, 0 failed; images 0 found, 0 added, "
                                   "0 updated, 0 removed; 1 requests, 0 retries\n");
    EXPECT_LINES(IMGSYNC_LOG_WARN, "");
    EXPECT_LINES(IMGSYNC_LOG_ERROR, "");
}
END_TEST

START_TEST(retried_503)
{
    ck_assert_int_eq(imgsync_ctx_set(replay_ctx(R), "max_retries", "1"), 0);
    static const job_spec j[] = {{"GET", EP "/v2/a/tags/list", IMGSYNC_AUTH_NONE},
                                 {"GET", EP "/v2/b/tags/list", IMGSYNC_AUTH_NONE}, {0}};
    jobs = j;
    fake_transport *ft = replay_transport(R);
    /* a: 503 then 200; b: 503 twice, so that the one retry allowed is used up */
    ck_assert_int_eq(fake_add_simple(ft, "GET", EP "/v2/a/tags/list", 503, "Retry-After: 2", "busy"), 0);
    ck_assert_int_eq(fake_add_simple(ft, "GET", EP "/v2/a/tags/list", 200, NULL, "{}"), 0);
    ck_assert_int_eq(fake_add_simple(ft, "GET", EP "/v2/b/tags/list", 503, "Retry-After: 1", "busy"), 0);
    sync_ok(IMGSYNC_TASK_SUCCEEDED); /* the provider ignores the 503 */
    EXPECT_LINES(IMGSYNC_LOG_DEBUG,
                 "registry 'lt': GET https://reg.example/v2/a/tags/list -> 503, 4 bytes, 0 ms, attempt 1; retry in 2000 ms\n"
                 "registry 'lt': GET https://reg.example/v2/b/tags/list -> 503, 4 bytes, 0 ms, attempt 1; retry in 1000 ms\n"
                 "registry 'lt': GET https://reg.example/v2/a/tags/list -> 200, 2 bytes, 0 ms, attempt 2\n");
    EXPECT_LINES(IMGSYNC_LOG_WARN,
                 "registry 'lt': GET https://reg.example/v2/b/tags/list -> 503, 4 bytes, 0 ms, attempt 2; gave up "
                 "after 2 attempts\n");
    ck_assert_msg(strstr(lines_of(IMGSYNC_LOG_INFO), "; 4 requests, 2 retries\n"), "%s", lines_of(IMGSYNC_LOG_INFO));
}
END_TEST

START_TEST(bearer_flow_logs_no_token)
{
    ck_assert_int_eq(imgsync_provider_set(P, "username", "alice"), 0);
    ck_assert_int_eq(imgsync_provider_set(P, "password", PASS), 0);
    static const job_spec j[] = {{"GET", EP "/v2/", IMGSYNC_AUTH_REGISTRY}, {0}};
    jobs = j;
    fake_transport *ft = replay_transport(R);
    ck_assert_int_eq(fake_add_simple(ft, "GET", EP "/v2/", 401,
                                     "WWW-Authenticate: Bearer realm=\"" AUTH "/token\",service=\"reg.example\"",
                                     "{\"errors\":[]}"),
                     0);
    ck_assert_int_eq(fake_add_simple(ft, "GET", EP "/v2/", 200, NULL, "{}"), 0);
    ck_assert_int_eq(fake_set_simple(ft, "GET", AUTH "/token?service=reg.example", 200, NULL,
                                     "{\"token\":\"" TOKEN "\",\"expires_in\":300}"),
                     0);
    sync_ok(IMGSYNC_TASK_SUCCEEDED);
    ck_assert_int_eq(replay_unexpected(R), 0);
    /* the token was used */
    const replay_request *q = replay_request_at(R, 2);
    ck_assert_str_eq(replay_request_header(q, "Authorization"), "Bearer " TOKEN);
    EXPECT_LINES(IMGSYNC_LOG_DEBUG,
                 "registry 'lt': GET https://reg.example/v2/ -> 401, 13 bytes, 0 ms, attempt 1; answering the Bearer "
                 "challenge\n"
                 "registry 'lt': token GET https://auth.example/token?service=reg.example -> 200, 56 bytes, 0 ms, "
                 "attempt 1\n"
                 "registry 'lt': GET https://reg.example/v2/ -> 200, 2 bytes, 0 ms, attempt 2\n");
    ck_assert(!any_line_has(TOKEN));
    ck_assert(!any_line_has(PASS));
    ck_assert(!any_line_has("Authorization"));
    ck_assert(!any_line_has("Basic "));
}
END_TEST

START_TEST(signed_request_logs_no_signature)
{
    ck_assert_int_eq(imgsync_provider_set(P, "sk", SK), 0);
    do_sign = 1;
    static const job_spec j[] = {{"GET", EP "/v2/manage/namespaces?limit=2&offset=0", IMGSYNC_AUTH_PROVIDER}, {0}};
    jobs = j;
    ck_assert_int_eq(fake_set_simple(replay_transport(R), "GET", EP "/v2/manage/namespaces?limit=2&offset=0", 200,
                                     NULL, "[]"),
                     0);
    sync_ok(IMGSYNC_TASK_SUCCEEDED);
    const replay_request *q = replay_request_at(R, 0);
    ck_assert_ptr_nonnull(strstr(replay_request_header(q, "Authorization"), SK)); /* signed, as sent */
    EXPECT_LINES(IMGSYNC_LOG_DEBUG, "registry 'lt': GET https://reg.example/v2/manage/namespaces?limit=2&offset=0 -> "
                                    "200, 2 bytes, 0 ms, attempt 1\n");
    ck_assert(!any_line_has(SK));
    ck_assert(!any_line_has("Signature"));
    ck_assert(!any_line_has("20261203T200000Z"));
}
END_TEST

START_TEST(credentials_in_query_redacted)
{
    ck_assert_int_eq(imgsync_provider_set(P, "password", PASS), 0);
    static const job_spec j[] = {
        {"GET", EP "/v2/_catalog?n=10&access_token=T0ps3cr3t&last=b&X-Amz-Signature=abc123", IMGSYNC_AUTH_NONE},
        {"GET", EP "/v2/" PASS "/tags/list", IMGSYNC_AUTH_NONE}, /* a secret where no one expects it */
        {0}};
    jobs = j;
    fake_transport *ft = replay_transport(R);
    ck_assert_int_eq(fake_set_simple(ft, "GET", j[0].url, 200, NULL, "{}"), 0);
    ck_assert_int_eq(fake_set_simple(ft, "GET", j[1].url, 200, NULL, "{}"), 0);
    sync_ok(IMGSYNC_TASK_SUCCEEDED);
    EXPECT_LINES(IMGSYNC_LOG_DEBUG,
                 "registry 'lt': GET https://reg.example/v2/_catalog?n=10&access_token=***&last=b&X-Amz-Signature=*** "
                 "-> 200, 2 bytes, 0 ms, attempt 1\n"
                 "registry 'lt': GET https://reg.example/v2/***/tags/list -> 200, 2 bytes, 0 ms, attempt 1\n");
    ck_assert(!any_line_has("T0ps3cr3t"));
    ck_assert(!any_line_has(PASS));
}
END_TEST

START_TEST(redirect_and_transport_error)
{
    static const job_spec j[] = {{"GET", EP "/v2/a/blobs/sha256:1", IMGSYNC_AUTH_NONE},
                                 {"GET", EP "/v2/b/tags/list", IMGSYNC_AUTH_NONE}, {0}};
    jobs = j;
    fake_transport *ft = replay_transport(R);
    ck_assert_int_eq(fake_set_simple(ft, "GET", j[0].url, 307,
                                     "Location: https://cdn.example/blob?X-Amz-Credential=AKIA1&X-Amz-Signature=f00d", NULL),
                     0);
    ck_assert_int_eq(fake_set_simple(ft, "GET", "https://cdn.example/blob?X-Amz-Credential=AKIA1&X-Amz-Signature=f00d",
                                     200, NULL, "ok"),
                     0);
    fake_reply refused = {0, NULL, NULL, 0, IMGSYNC_ENETWORK, IMGSYNC__RETRY_SAFE, "connection \x1b[2Jrefused", 7, NULL};
    ck_assert_int_eq(fake_set(ft, "GET", j[1].url, &refused), 0);
    sync_ok(IMGSYNC_TASK_SUCCEEDED);
    EXPECT_LINES(IMGSYNC_LOG_DEBUG,
                 "registry 'lt': GET https://reg.example/v2/a/blobs/sha256:1 -> 307, 0 bytes, 0 ms, attempt 1; redirected\n"
                 "registry 'lt': GET https://cdn.example/blob?X-Amz-Credential=***&X-Amz-Signature=*** -> 200, 2 bytes, "
                 "0 ms, attempt 2\n");
    /* retries are off in the replay harness: a transient failure is given up at once */
    EXPECT_LINES(IMGSYNC_LOG_WARN, "registry 'lt': GET https://reg.example/v2/b/tags/list -> network error: "
                                   "connection ?[2Jrefused, 7 ms, attempt 1; gave up after 1 attempt\n");
}
END_TEST

/* URLs with userinfo never reach the engine (imgsync__url_parse refuses them): the log's URL
 * form takes it out anyway, and keeps only listing parameters' values. */
START_TEST(url_for_log_forms)
{
    static const char *const cases[][2] = {
        {"https://user:pw@reg.example:5000/v2/?n=1&token=abc#frag", "https://reg.example:5000/v2/?n=1&token=***"},
        {"https://a@b@reg.example?x", "https://reg.example?x"},
        {"https://reg.example/v2/_catalog", "https://reg.example/v2/_catalog"},
        {"https://reg.example/p?service=s&scope=repository:a:pull&account=bob&=v&&sig=",
         "https://reg.example/p?service=s&scope=repository:a:pull&account=***&=***&&sig=***"},
        {"https://reg.example/p?", "https://reg.example/p?"},
        /* path parameters (a servlet session id) and ';' between query parameters */
        {"https://cdn.example/blob;jsessionid=ABC/x;v;k=1?n=2;token=t&last=b",
         "https://cdn.example/blob;jsessionid=***/x;***;k=***?n=2;token=***&last=b"},
        {"https://reg.example/a;", "https://reg.example/a;***"},
        {"", ""},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *got = imgsync__url_for_log(cases[i][0]);
        ck_assert_ptr_nonnull(got);
        ck_assert_msg(!strcmp(got, cases[i][1]), "%s -> %s, not %s", cases[i][0], got, cases[i][1]);
        free(got);
    }
}
END_TEST

/* ---- server text, failures ------------------------------------------------------------------- */

START_TEST(control_characters_in_server_error)
{
    fail_with_body = 1;
    ck_assert_int_eq(imgsync_provider_set(P, "password", PASS), 0);
    static const job_spec j[] = {{"GET", EP "/v2/", IMGSYNC_AUTH_NONE}, {0}};
    jobs = j;
    ck_assert_int_eq(fake_set_simple(replay_transport(R), "GET", EP "/v2/", 500, NULL,
                                     "boom \x1b[31mred\x1b[0m\r\nLine2\x07 bad " PASS " \xc2\x9b"),
                     0);
    sync_ok(IMGSYNC_TASK_FAILED);
    EXPECT_LINES(IMGSYNC_LOG_ERROR, "registry 'lt' failed: boom ?[31mred?[0m??Line2? bad *** ?\n"
                                    "task 1: failed; repositories 0/0, 0 failed; images 0 found, 0 added, 0 updated, "
                                    "0 removed; 1 requests, 0 retries\n");
    for (int i = 0; i < seen.n; i++)
        for (const unsigned char *p = (const unsigned char *)seen.line[i]; *p; p++)
            ck_assert_msg(*p >= 0x20 && *p != 0x7f, "control 0x%02x in '%s'", *p, seen.line[i]);
    ck_assert(!any_line_has(PASS));
}
END_TEST

START_TEST(scope_failure_is_a_warning)
{
    fail_scope = 1;
    static const job_spec j[] = {{"GET", EP "/v2/team/app/tags/list", IMGSYNC_AUTH_NONE}, {0}};
    jobs = j;
    ck_assert_int_eq(fake_set_simple(replay_transport(R), "GET", EP "/v2/team/app/tags/list", 404, NULL, "gone"), 0);
    sync_ok(IMGSYNC_TASK_FAILED);
    EXPECT_LINES(IMGSYNC_LOG_WARN, "registry 'lt': repository 'team/app' failed: gone\n");
    /* every repository failed: the registry's end line is an ERROR (none said so before) */
    ck_assert_msg(strstr(lines_of(IMGSYNC_LOG_ERROR), "registry 'lt': failed, 1 repositories listed, 1 failed: 1 of 1 "
                                                      "repositories failed; first: gone\n"),
                  "%s", lines_of(IMGSYNC_LOG_ERROR));
}
END_TEST

/* A task whose one request takes 10 fake minutes: it runs until canceled. */
static uint64_t start_slow_task(void)
{
    static const job_spec j[] = {{"GET", EP "/v2/slow", IMGSYNC_AUTH_NONE}, {0}};
    jobs = j;
    fake_reply slow = {200, NULL, "{}", 0, 0, 0, NULL, 600000, NULL};
    ck_assert_int_eq(fake_set(replay_transport(R), "GET", EP "/v2/slow", &slow), 0);
    imgsync_ctx *ctx = replay_ctx(R);
    uint64_t id;
    ck_assert_int_eq(imgsync_sync_start(ctx, NULL, &id), 0);
    ck_assert_int_eq(imgsync_ctx_perform(ctx, 0), 1);
    return id;
}

START_TEST(cancel_is_a_warning)
{
    imgsync_ctx *ctx = replay_ctx(R);
    uint64_t id = start_slow_task();
    ck_assert_int_eq(imgsync_task_cancel(ctx, id), 0);
    for (int i = 0; i < 100 && imgsync_ctx_perform(ctx, 0) > 0; i++)
        ;
    EXPECT_LINES(IMGSYNC_LOG_ERROR, "");
    EXPECT_LINES(IMGSYNC_LOG_WARN, "registry 'lt' failed: canceled by the caller\n");
    ck_assert_msg(strstr(lines_of(IMGSYNC_LOG_INFO), "task 1: canceled: canceled by the caller; repositories 0/0"), "%s",
                  lines_of(IMGSYNC_LOG_INFO));
}
END_TEST

/* ---- levels, off, re-entry --------------------------------------------------------------------- */

static void script_one(void)
{
    static const job_spec j[] = {{"GET", EP "/v2/", IMGSYNC_AUTH_NONE}, {0}};
    jobs = j;
    ck_assert_int_eq(fake_set_simple(replay_transport(R), "GET", EP "/v2/", 200, NULL, "{}"), 0);
}

START_TEST(level_filtering)
{
    script_one();
    ck_assert_int_eq(imgsync_ctx_set_log_callback(replay_ctx(R), IMGSYNC_LOG_INFO, on_log, &seen), 0);
    sync_ok(IMGSYNC_TASK_SUCCEEDED);
    ck_assert_int_eq(seen.n, 4); /* task and registry, started and finished */
    for (int i = 0; i < seen.n; i++)
        ck_assert_int_eq(seen.level[i], IMGSYNC_LOG_INFO);
    forget_lines();
    ck_assert_int_eq(imgsync_ctx_set_log_callback(replay_ctx(R), IMGSYNC_LOG_ERROR, on_log, &seen), 0);
    sync_ok(IMGSYNC_TASK_SUCCEEDED);
    ck_assert_int_eq(seen.n, 0);
    /* out of range with a callback */
    ck_assert_int_eq(imgsync_ctx_set_log_callback(replay_ctx(R), 0, on_log, &seen), IMGSYNC_EINVAL);
    ck_assert_int_eq(imgsync_ctx_set_log_callback(replay_ctx(R), 5, on_log, &seen), IMGSYNC_EINVAL);
    ck_assert_int_eq(imgsync_ctx_set_log_callback(NULL, IMGSYNC_LOG_DEBUG, on_log, &seen), IMGSYNC_EINVAL);
    ck_assert_int_eq(imgsync_ctx_set_log_callback(replay_ctx(R), IMGSYNC_LOG_DEBUG, on_log, &seen), 0);
    sync_ok(IMGSYNC_TASK_SUCCEEDED);
    ck_assert_int_eq(seen.n, 5);
}
END_TEST

/* The engine traces attempts only when a line of them may be wanted (DEBUG, or WARN for a
 * request that gives up): otherwise an attempt costs the one test of e->trace. */
static int traced(void) { return replay_ctx(R)->engine->trace; }

START_TEST(null_callback_turns_it_off)
{
    script_one();
    ck_assert(traced());
    ck_assert_int_eq(imgsync_ctx_set_log_callback(replay_ctx(R), IMGSYNC_LOG_INFO, on_log, &seen), 0);
    ck_assert(traced());
    ck_assert_int_eq(imgsync_ctx_set_log_callback(replay_ctx(R), IMGSYNC_LOG_ERROR, on_log, &seen), 0);
    ck_assert(!traced());
    ck_assert_int_eq(imgsync_ctx_set_log_callback(replay_ctx(R), IMGSYNC_LOG_DEBUG, NULL, &seen), 0);
    ck_assert(!traced());
    sync_ok(IMGSYNC_TASK_SUCCEEDED);
    ck_assert_int_eq(seen.n, 0);
    /* max_level is ignored without a callback */
    ck_assert_int_eq(imgsync_ctx_set_log_callback(replay_ctx(R), 99, NULL, NULL), 0);
    sync_ok(IMGSYNC_TASK_SUCCEEDED);
    ck_assert_int_eq(seen.n, 0);
}
END_TEST

/* Set from the embedder's thread while the worker thread drives: the worker logs the task. */
START_TEST(set_while_the_worker_runs)
{
    script_one();
    imgsync_ctx *ctx = replay_ctx(R);
    ck_assert_int_eq(imgsync_ctx_set_log_callback(ctx, IMGSYNC_LOG_DEBUG, NULL, NULL), 0);
    ck_assert_int_eq(imgsync_ctx_start(ctx), 0);
    ck_assert_int_eq(imgsync_ctx_set_log_callback(ctx, IMGSYNC_LOG_INFO, on_log, &seen), 0);
    uint64_t id;
    ck_assert_int_eq(imgsync_sync_start(ctx, NULL, &id), 0);
    ck_assert_int_eq(imgsync_task_wait(ctx, id, 20000), 0);
    ck_assert_int_eq(imgsync_ctx_set_log_callback(ctx, IMGSYNC_LOG_INFO, NULL, NULL), 0);
    ck_assert_int_eq(imgsync_ctx_stop(ctx), 0);
    ck_assert_int_eq(seen.n, 4);
    ck_assert_str_eq(seen.line[0], "task 1: sync of 1 registry started");
}
END_TEST

START_TEST(reentry_is_refused)
{
    script_one();
    seen.reenter = 1;
    sync_ok(IMGSYNC_TASK_SUCCEEDED);
    ck_assert_int_eq(seen.reenter_rc[0], IMGSYNC_EBUSY);
    ck_assert_int_eq(seen.reenter_rc[1], IMGSYNC_EBUSY);
    ck_assert_int_eq(seen.n, 5); /* still on, every line delivered */
}
END_TEST

/* ---- found by review (each failed before its fix) ----------------------------------------- */


/* ---- re-entry: the callback during a cancel ------------------------------------------------- */

/* include/imgsync/ctx.h: the callback runs "on a thread that cancels tasks (imgsync_task_cancel,
 * ...)" and there "imgsync_ctx_perform and imgsync_ctx_set_log_callback answer EBUSY". The
 * perform guard (driver.c) tests only in_perform / in_event, which a cancel outside perform does
 * not set: a perform from the callback runs a whole nested step of the context in the middle of
 * imgsync__task_cancel (it may end, record, tell and reap the very task being canceled). */
static int perform_rc = 12345;

static void perform_on_task_line(imgsync_ctx *ctx, int level, const char *message)
{
    (void)level;
    if (perform_rc == 12345 && !strncmp(message, "task 1: canceled", 16))
        perform_rc = imgsync_ctx_perform(ctx, 0);
}

START_TEST(perform_from_callback_during_task_cancel_is_not_refused)
{
    uint64_t id = start_slow_task();
    seen.action = perform_on_task_line;
    ck_assert_int_eq(imgsync_task_cancel(replay_ctx(R), id), 0);
    seen.action = NULL;
    ck_assert_msg(perform_rc != 12345, "no 'task 1: canceled' line:\n%s", lines_of(0));
    ck_assert_msg(perform_rc == IMGSYNC_EBUSY,
                  "imgsync_ctx_perform from the log callback inside imgsync_task_cancel answered %d, not EBUSY (%d): "
                  "a nested step of the context ran inside the cancel",
                  perform_rc, IMGSYNC_EBUSY);
}
END_TEST

/* include/imgsync/ctx.h: "The callback is called with the context's lock held ... on a thread that
 * cancels tasks (... imgsync_ctx_free, before they return)". imgsync_ctx_free cancels the live
 * tasks without taking the lock (ctx.c), so the callback runs unlocked and its re-entry guard
 * (imgsync__ctx_held && in_callback) does not hold: set_log_callback from it is accepted. */
static int set_rc = 12345;

static void set_on_free(imgsync_ctx *ctx, int level, const char *message)
{
    (void)level;
    if (set_rc == 12345 && strstr(message, "context freed"))
        set_rc = imgsync_ctx_set_log_callback(ctx, IMGSYNC_LOG_DEBUG, on_log, &seen);
}

START_TEST(callback_during_ctx_free_runs_without_the_lock)
{
    start_slow_task();
    seen.action = set_on_free;
    replay_free(R); /* imgsync_ctx_free cancels the running task: its lines are logged */
    R = NULL;
    seen.action = NULL;
    ck_assert_msg(set_rc != 12345, "no line of the cancel by imgsync_ctx_free:\n%s", lines_of(0));
    int unlocked = 0;
    for (int i = 0; i < seen.n; i++)
        if (strstr(seen.line[i], "context freed") && !seen.held[i])
            unlocked++;
    ck_assert_msg(unlocked == 0 && set_rc == IMGSYNC_EBUSY,
                  "%d line(s) of imgsync_ctx_free's cancel delivered without the context's lock; "
                  "imgsync_ctx_set_log_callback from the callback there answered %d, not EBUSY:\n%s",
                  unlocked, set_rc, lines_of(0));
}
END_TEST


/* ---- secrets in URLs --------------------------------------------------------------------------- */

/* include/imgsync/ctx.h: a message is "never a secret: URLs lose their userinfo and every query
 * value but those of known listing parameters". url_for_log (src/util/url.c) treats only the
 * query: path parameters (RFC 3986 ';name=value', the servlet containers' ";jsessionid=" that
 * Tomcat-based registries such as Artifactory put in redirect URLs) are kept verbatim, and a
 * session id is a credential. A redirect Location is the server's text, logged at DEBUG. */
#define SESSION "0F1E2D3C4B5A69788796A5B4C3D2E1F0"
START_TEST(redirect_path_parameter_session_id_is_logged)
{
    static const job_spec j[] = {{"GET", EP "/v2/a/blobs/sha256:1", IMGSYNC_AUTH_NONE}, {0}};
    jobs = j;
    fake_transport *ft = replay_transport(R);
    const char *target = "https://cdn.example/artifactory/blob;jsessionid=" SESSION "?X-Amz-Signature=f00d";
    char loc[256];
    snprintf(loc, sizeof(loc), "Location: %s", target);
    ck_assert_int_eq(fake_set_simple(ft, "GET", j[0].url, 307, loc, NULL), 0);
    ck_assert_int_eq(fake_set_simple(ft, "GET", target, 200, NULL, "ok"), 0);
    uint64_t id;
    ck_assert_int_eq(replay_sync(R, NULL, &id), 0);
    ck_assert_msg(any_line_has("https://cdn.example/artifactory/blob"), "the redirect was not followed:\n%s", lines_of(0));
    if (any_line_has(SESSION)) {
        char *masked = ts_mask(lines_of(0), SESSION); /* never print what is asserted secret */
        ck_abort_msg("the session id of a path parameter (shown here as ***) is in the log:\n%s", masked ? masked : "");
    }
}
END_TEST

/* The query is split on '&' only: "n=100;access_token=..." is one parameter named "n" (a listing
 * parameter), kept whole, although ';' separates parameters for many servers (the W3C's HTML 4
 * recommendation, CGI.pm, Python's parse_qsl before 3.9.2). The value of access_token reaches the
 * log (at DEBUG, when such a URL comes in a Link or a redirect of the server). */
#define QTOKEN "qtok-7c6b5a4f3e2d1c0b"
START_TEST(query_semicolon_separator_keeps_secret_value)
{
    char *got = imgsync__url_for_log("https://reg.example/v2/_catalog?n=100;access_token=" QTOKEN "&last=b");
    ck_assert_ptr_nonnull(got);
    int leaked = strstr(got, QTOKEN) != NULL;
    char *masked = ts_mask(got, QTOKEN); /* never print what is asserted secret */
    free(got);
    char copy[512];
    snprintf(copy, sizeof(copy), "%s", masked ? masked : "");
    free(masked);
    ck_assert_msg(!leaked, "imgsync__url_for_log kept a ';'-separated secret value (shown here as ***): %s", copy);
}
END_TEST

/* ---- levels ------------------------------------------------------------------------------------ */

/* README: "`WARN` a failed repository ... `ERROR` a failed registry or task"; ctx.h: ERROR "a
 * task, or a registry of it, failed as a whole". A registry whose every repository failed ends
 * with its row FAILED (imgsync__run_summarize), yet its end line "registry 'a': failed, ..." is
 * INFO (run.c log_end) and no ERROR line names it: with a second registry that succeeded the
 * task is PARTIAL (WARN), so an embedder logging at ERROR sees nothing at all while the task
 * status shows registry 'a' failed. */
START_TEST(failed_registry_has_no_error_line)
{
    per_endpoint = fail_scope = 1;
    ck_assert_ptr_nonnull(replay_add_provider(R, SPI2_KIND, "a", "https://a.example"));
    fake_transport *ft = replay_transport(R);
    ck_assert_int_eq(fake_set_simple(ft, "GET", "https://a.example/v2/team/app/tags/list", 404, NULL, "gone"), 0);
    ck_assert_int_eq(fake_set_simple(ft, "GET", EP "/v2/team/app/tags/list", 200, NULL, "{}"), 0);
    uint64_t id;
    ck_assert_int_eq(replay_sync(R, NULL, &id), 0);
    imgsync_task *t = NULL;
    ck_assert_int_eq(imgsync_task_get(&t, replay_ctx(R), id), 0);
    int state = imgsync_task_state_of(t);
    int row = -1;
    for (size_t i = 0; i < imgsync_task_registry_count(t); i++)
        if (!strcmp(imgsync_task_registry_name(t, i), "a"))
            row = imgsync_task_registry_state(t, i);
    imgsync_task_free(t);
    ck_assert_int_eq(state, IMGSYNC_TASK_PARTIAL);
    ck_assert_int_eq(row, IMGSYNC_REGISTRY_FAILED);
    int errors = 0;
    for (int i = 0; i < seen.n; i++)
        errors += seen.level[i] == IMGSYNC_LOG_ERROR && strstr(seen.line[i], "'a'") != NULL;
    ck_assert_msg(errors > 0, "registry 'a' failed (its row is FAILED) but no ERROR line names it:\n%s", lines_of(0));
}
END_TEST

/* ---- SWR: the request signature a server quotes ------------------------------------------------- */

/* test_log_secrets' premise: a server may quote the request's credential headers in its error
 * text, so every such line must come out redacted. For SWR (AK/SK) the Authorization header is
 * "SDK-HMAC-SHA256 Access=AK, SignedHeaders=..., Signature=<hex>": the SK is redacted, but the
 * Signature is neither a registered secret nor a token of the group, and it reaches the ERROR
 * line (and the task's errors). With X-Sdk-Date it authorizes that very request again for the
 * gateway's 15-minute window: a credential in the log. */
static char quoted_sig[128];

static void quote_signature(void *ud, const fake_request *q, fake_reply *out)
{
    (void)ud;
    static char body[512];
    const char *auth = fake_request_header(q, "Authorization");
    const char *sig = auth ? strstr(auth, "Signature=") : NULL;
    if (sig)
        snprintf(quoted_sig, sizeof(quoted_sig), "%s", sig + strlen("Signature="));
    snprintf(body, sizeof(body), "{\"error_code\":\"SWR.0106\",\"error_msg\":\"signature %s does not match\"}", quoted_sig);
    memset(out, 0, sizeof(*out));
    out->status = 400;
    out->headers = "Content-Type: application/json";
    out->body = body;
}

START_TEST(swr_request_signature_quoted_by_server_is_logged)
{
    char *sk = ts_random_secret("sk-");
    ck_assert_ptr_nonnull(sk);
    imgsync_provider *p = replay_add_provider(R, "swr-shared", "swr", "https://swr-api.cn-north-4.myhuaweicloud.com");
    ck_assert_ptr_nonnull(p);
    const char *opts[] = {"region", "cn-north-4", "ak", "ACMEAKEXAMPLE0000001", "sk", sk, "project_id",
                          "0a1b2c3d4e5f60718293a4b5c6d7e8f9", NULL};
    for (size_t i = 0; opts[i]; i += 2)
        ck_assert_int_eq(imgsync_provider_set(p, opts[i], opts[i + 1]), 0);
    imgsync_request *req = NULL;
    ck_assert_int_eq(imgsync_request_new(&req), 0);
    ck_assert_int_eq(imgsync_request_add_provider(req, "swr"), 0);
    fake_set_fallback(replay_transport(R), quote_signature, NULL);
    uint64_t id;
    ck_assert_int_eq(replay_sync(R, req, &id), 0);
    imgsync_request_free(req);
    ck_assert_msg(strlen(quoted_sig) >= 32, "no signed request");
    int sk_leaked = ts_holds_part_of(lines_of(0), sk);
    free(sk);
    ck_assert_msg(!sk_leaked, "the SK is in the log");
    if (ts_holds_part_of(lines_of(0), quoted_sig)) {
        char *masked = ts_mask(lines_of(0), quoted_sig); /* never print what is asserted secret */
        ck_abort_msg("the request's Signature (%zu hex digits, shown here as ***) is in the log:\n%s", strlen(quoted_sig),
                     masked ? masked : "");
    }
}
END_TEST

/* imgsync_provider_check runs a check task that is never added to the context (no id: task.c's
 * log_begin/log_end print t->id, 0): its lines read "task 0: check of 1 registry started" and
 * "task 0: succeeded; ...", naming a task imgsync_task_get cannot find, the same for every check. */
START_TEST(provider_check_is_logged_as_task_0)
{
    static const job_spec j[] = {{"GET", EP "/v2/", IMGSYNC_AUTH_NONE}, {0}};
    jobs = j;
    ck_assert_int_eq(fake_set_simple(replay_transport(R), "GET", EP "/v2/", 200, NULL, "{}"), 0);
    ck_assert_int_eq(imgsync_provider_check(P), 0);
    ck_assert_msg(seen.n > 0, "no line for the check");
    ck_assert_msg(!any_line_has("task 0"), "a check is logged as a task with id 0:\n%s", lines_of(0));
}
END_TEST

Suite *log_suite(void)
{
    Suite *s = suite_create("log");
    TCase *tc = tcase_create("log");
    tcase_set_timeout(tc, 60);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, get_200);
    tcase_add_test(tc, retried_503);
    tcase_add_test(tc, bearer_flow_logs_no_token);
    tcase_add_test(tc, signed_request_logs_no_signature);
    tcase_add_test(tc, credentials_in_query_redacted);
    tcase_add_test(tc, redirect_and_transport_error);
    tcase_add_test(tc, url_for_log_forms);
    tcase_add_test(tc, control_characters_in_server_error);
    tcase_add_test(tc, scope_failure_is_a_warning);
    tcase_add_test(tc, cancel_is_a_warning);
    tcase_add_test(tc, level_filtering);
    tcase_add_test(tc, null_callback_turns_it_off);
    tcase_add_test(tc, set_while_the_worker_runs);
    tcase_add_test(tc, reentry_is_refused);
    tcase_add_test(tc, perform_from_callback_during_task_cancel_is_not_refused);
    tcase_add_test(tc, callback_during_ctx_free_runs_without_the_lock);
    tcase_add_test(tc, redirect_path_parameter_session_id_is_logged);
    tcase_add_test(tc, query_semicolon_separator_keeps_secret_value);
    tcase_add_test(tc, failed_registry_has_no_error_line);
    tcase_add_test(tc, swr_request_signature_quoted_by_server_is_logged);
    tcase_add_test(tc, provider_check_is_logged_as_task_0);
    suite_add_tcase(s, tc);
    return s;
}

IMGSYNC_TEST_MAIN(log_suite)
