/* Review of the log callback (imgsync_ctx_set_log_callback, issue 11): each test shows a defect
 * found in review and FAILS until it is fixed. Same harness as test_log.c: a test provider
 * (SPI2_KIND) submits the jobs, the replay harness answers them on a scripted transport and a
 * fake clock (no network). */
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

Suite *log_review_suite(void);

#define EP "https://reg.example"

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
} seen;

static void on_log(imgsync_ctx *ctx, int level, const char *message, void *payload)
{
    ck_assert_ptr_eq(payload, &seen);
    if (seen.action)
        seen.action(ctx, level, message);
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

static char *all_lines(void)
{
    static char out[16384];
    out[0] = '\0';
    for (int i = 0; i < seen.n; i++)
        if (strlen(out) + strlen(seen.line[i]) + 2 < sizeof(out)) {
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

/* ---- the test provider: submits the jobs of `jobs` ------------------------------------------ */

typedef struct job_spec {
    const char *method, *url;
    int auth;
} job_spec;

static const job_spec *jobs;
static int per_endpoint; /* start: one job, GET <endpoint>/v2/team/app/tags/list, instead of jobs */

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
    if (per_endpoint && imgsync_response_status(resp) >= 400) /* the repository failed */
        imgsync_run_repository_fail(run, "team/app", IMGSYNC_EHTTP, "gone");
    return 0;
}

static replay *R;
static imgsync_provider *P;

static void setup(void)
{
    R = replay_new();
    ck_assert_ptr_nonnull(R);
    spi_reset();
    ck_assert_int_eq(spi_register_kinds(), 0);
    static const spi_hooks h = {start, on_response, NULL, NULL};
    spi_hooks_set(&h);
    jobs = NULL;
    per_endpoint = 0;
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
    ck_assert_msg(perform_rc != 12345, "no 'task 1: canceled' line:\n%s", all_lines());
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
    ck_assert_msg(set_rc != 12345, "no line of the cancel by imgsync_ctx_free:\n%s", all_lines());
    int unlocked = 0;
    for (int i = 0; i < seen.n; i++)
        if (strstr(seen.line[i], "context freed") && !seen.held[i])
            unlocked++;
    ck_assert_msg(unlocked == 0 && set_rc == IMGSYNC_EBUSY,
                  "%d line(s) of imgsync_ctx_free's cancel delivered without the context's lock; "
                  "imgsync_ctx_set_log_callback from the callback there answered %d, not EBUSY:\n%s",
                  unlocked, set_rc, all_lines());
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
    ck_assert_msg(any_line_has("https://cdn.example/artifactory/blob"), "the redirect was not followed:\n%s", all_lines());
    if (any_line_has(SESSION)) {
        char *masked = ts_mask(all_lines(), SESSION); /* never print what is asserted secret */
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
    per_endpoint = 1;
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
    ck_assert_msg(errors > 0, "registry 'a' failed (its row is FAILED) but no ERROR line names it:\n%s", all_lines());
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
    int sk_leaked = ts_holds_part_of(all_lines(), sk);
    free(sk);
    ck_assert_msg(!sk_leaked, "the SK is in the log");
    if (ts_holds_part_of(all_lines(), quoted_sig)) {
        char *masked = ts_mask(all_lines(), quoted_sig); /* never print what is asserted secret */
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
    ck_assert_msg(!any_line_has("task 0"), "a check is logged as a task with id 0:\n%s", all_lines());
}
END_TEST

Suite *log_review_suite(void)
{
    Suite *s = suite_create("log_review");
    TCase *tc = tcase_create("log_review");
    tcase_set_timeout(tc, 60);
    tcase_add_checked_fixture(tc, setup, teardown);
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

IMGSYNC_TEST_MAIN(log_review_suite)
