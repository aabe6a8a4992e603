/*
 * Integration tests of the HTTP engine (src/engine/engine.c) against tests/tools/fault_server.py.
 *
 * A tiny provider kind "enginetest" (registered with imgsync_provider_register) submits one GET
 * per path of its "paths" option and records what on_response sees in a global array. The fault
 * server, started once per test case (unchecked fixture), misbehaves deterministically per path
 * and reports what it received at GET /_stats, which the tests read back with libcurl + yajl.
 *
 * Provider options of the test kind:
 *   paths      comma-separated paths (joined to the endpoint) submitted by start()
 *   then       comma-separated paths submitted once, after the first response has arrived
 *   fail       "true": a response that is not a clean 200 fails the job's scope via
 *              imgsync_run_fail_response()
 *   try_cross  "true": after a /link/ response, also try to submit a credentialed job to
 *              https://evil.invalid/x and record the return code
 *   anon_paths comma-separated paths submitted by start() as anonymous jobs
 *              (imgsync_job_set_anonymous)
 *   headers    "true": every job carries "Accept: application/json" and
 *              "X-Auth-Token: secret" (imgsync_job_add_header)
 * Responses of /link/ paths follow imgsync_response_next_url() (at most 10 pages).
 *
 * The kind "enginetest-prep" is the same provider with a prepare hook, which records the URL of
 * every job it is called for (g_prep) and knows two more options:
 *   prepare_fail   "N": on its N-th call (over the run) the hook fails the run with
 *                  imgsync_run_fail(IMGSYNC_EAUTH, PREP_FAIL_MSG) and returns 0
 *   prepare_header "true": the hook adds "X-Prepared: yes" to the job
 *
 * Run from the repository root (the server script is found at tests/tools/fault_server.py, or
 * at $FAULT_SERVER).
 */
#include <arpa/inet.h>
#include <check.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <yajl/yajl_tree.h>

#include "imgsync.h"
#include "imgsync/sys/provider.h"

Suite *engine_suite(void);

#define WAIT_MS 20000

/* ---- the test provider ------------------------------------------------------------------- */

#define MAX_RESULTS 64
#define MAX_FOLLOW 10

typedef struct tp_result {
    char path[256];     /* job URL relative to the endpoint (the whole URL when elsewhere) */
    char resp_url[512]; /* imgsync_response_url */
    int status;
    int error;
    char detail[256];   /* imgsync_response_error_detail */
    size_t body_len;
    char body[256];     /* first bytes of the body */
    int next_rc;        /* imgsync_response_next_url (for /link/ paths) */
    char next_url[512]; /* "" when none */
    int cross_rc;       /* imgsync_job_submit of a cross-host job (try_cross), 1 when not tried */
} tp_result;

static tp_result g_res[MAX_RESULTS];
static size_t g_nres;

typedef struct tp_state {
    int then_done;
    int follows;
} tp_state;

static int opt_true(const imgsync_run *run, const char *key)
{
    const char *v = imgsync_run_option(run, key);
    return v && strcmp(v, "true") == 0;
}

static int tp_check_option(const char *key, const char *value, char *err, size_t errlen)
{
    if (!strcmp(key, "paths") || !strcmp(key, "then") || !strcmp(key, "fail") || !strcmp(key, "try_cross") ||
        !strcmp(key, "anon_paths") || !strcmp(key, "headers") || !strcmp(key, "prepare_fail") ||
        !strcmp(key, "prepare_header"))
        return 0;
    return IMGSYNC_ENOTFOUND;
}

static int submit_job(imgsync_run *run, const char *url, int anonymous)
{
    imgsync_job *job = imgsync_job_new(run, "GET", url);
    if (!job)
        return IMGSYNC_EINVAL;
    imgsync_job_set_anonymous(job, anonymous);
    if (opt_true(run, "headers")) {
        int rc = imgsync_job_add_header(job, "Accept: application/json");
        if (!rc)
            rc = imgsync_job_add_header(job, "X-Auth-Token: secret");
        if (rc) {
            imgsync_job_free(job);
            return rc;
        }
    }
    return imgsync_job_submit(job);
}

static int submit_url(imgsync_run *run, const char *url) { return submit_job(run, url, 0); }

static int submit_csv(imgsync_run *run, const char *csv, int anonymous)
{
    char *copy = strdup(csv), *save = NULL;
    if (!copy)
        return IMGSYNC_ENOMEM;
    int rc = 0;
    for (char *p = strtok_r(copy, ",", &save); p && !rc; p = strtok_r(NULL, ",", &save))
        rc = submit_job(run, p, anonymous);
    free(copy);
    return rc;
}

static int submit_paths(imgsync_run *run, const char *csv) { return submit_csv(run, csv, 0); }

static int tp_start(imgsync_run *run)
{
    tp_state *st = calloc(1, sizeof(*st));
    if (!st)
        return IMGSYNC_ENOMEM;
    imgsync_run_set_data(run, st, free);
    const char *paths = imgsync_run_option(run, "paths");
    if (!paths) {
        imgsync_run_fail(run, IMGSYNC_EINVAL, "option 'paths' is required");
        return IMGSYNC_EINVAL;
    }
    int rc = submit_paths(run, paths);
    const char *anon = imgsync_run_option(run, "anon_paths");
    if (!rc && anon)
        rc = submit_csv(run, anon, 1);
    return rc;
}

static int tp_on_response(imgsync_run *run, imgsync_job *job, const imgsync_response *resp)
{
    tp_state *st = imgsync_run_data(run);
    static tp_result overflow;
    tp_result *r = g_nres < MAX_RESULTS ? &g_res[g_nres++] : &overflow;
    memset(r, 0, sizeof(*r));
    r->cross_rc = 1;

    const char *url = imgsync_job_url(job), *ep = imgsync_run_endpoint(run);
    size_t eplen = strlen(ep);
    snprintf(r->path, sizeof(r->path), "%s", strncmp(url, ep, eplen) == 0 ? url + eplen : url);
    snprintf(r->resp_url, sizeof(r->resp_url), "%s", imgsync_response_url(resp));
    r->status = imgsync_response_status(resp);
    r->error = imgsync_response_error(resp);
    snprintf(r->detail, sizeof(r->detail), "%s", imgsync_response_error_detail(resp));
    const char *body = imgsync_response_body(resp, &r->body_len);
    snprintf(r->body, sizeof(r->body), "%s", body);

    if (strncmp(r->path, "/link/", 6) == 0) {
        const char *next = NULL;
        r->next_rc = imgsync_response_next_url(resp, &next);
        if (next) {
            snprintf(r->next_url, sizeof(r->next_url), "%s", next);
            if (st->follows++ < MAX_FOLLOW) {
                int rc = submit_url(run, next);
                if (rc)
                    return rc;
            }
        }
        if (opt_true(run, "try_cross"))
            r->cross_rc = submit_url(run, "https://evil.invalid/x");
    }
    const char *then = imgsync_run_option(run, "then");
    if (then && !st->then_done) {
        st->then_done = 1;
        int rc = submit_paths(run, then);
        if (rc)
            return rc;
    }
    if ((r->status != 200 || r->error) && opt_true(run, "fail"))
        return imgsync_run_fail_response(run, job, resp);
    return 0;
}

/* A version-1 provider: the engine's version-1 defaults (Basic when a username is set, Bearer
 * challenges answered) apply to its jobs; the version-2 members are never read. */
static const imgsync_provider_vtable tp_vtable = {
    1, "enginetest", IMGSYNC_TYPE_OCI, tp_check_option, tp_start, tp_on_response, NULL, NULL, NULL, NULL,
};

/* ---- the same provider with a prepare hook ("enginetest-prep") ---------------------------- */

#define PREP_FAIL_MSG "the prepare hook refused the second job"

static char g_prep[MAX_RESULTS][256]; /* job URLs (relative to the endpoint) prepare was called for */
static size_t g_nprep;                /* calls, also beyond MAX_RESULTS */

static int tp_prepare(imgsync_run *run, imgsync_job *job)
{
    const char *url = imgsync_job_url(job), *ep = imgsync_run_endpoint(run);
    size_t eplen = strlen(ep);
    if (g_nprep < MAX_RESULTS)
        snprintf(g_prep[g_nprep], sizeof(g_prep[0]), "%s", strncmp(url, ep, eplen) == 0 ? url + eplen : url);
    g_nprep++;
    const char *fail_at = imgsync_run_option(run, "prepare_fail");
    if (fail_at && (size_t)atoi(fail_at) == g_nprep) {
        imgsync_run_fail(run, IMGSYNC_EAUTH, PREP_FAIL_MSG);
        return 0; /* the run is failed, but the hook itself says "fine" */
    }
    if (opt_true(run, "prepare_header"))
        return imgsync_job_add_header(job, "X-Prepared: yes");
    return 0;
}

static const imgsync_provider_vtable tp_prep_vtable = {
    1, "enginetest-prep", IMGSYNC_TYPE_OCI, tp_check_option, tp_start, tp_on_response, tp_prepare, NULL, NULL, NULL,
};

static const tp_result *result_for(const char *path)
{
    for (size_t i = 0; i < g_nres; i++)
        if (strcmp(g_res[i].path, path) == 0)
            return &g_res[i];
    ck_abort_msg("the provider saw no response for %s (%zu responses)", path, g_nres);
    return NULL;
}

/* ---- the fault server ------------------------------------------------------------------- */

static FILE *g_server;
static int g_port;
static char g_origin[64];

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static size_t collect(char *p, size_t size, size_t n, void *ud)
{
    char **buf = ud;
    size_t old = *buf ? strlen(*buf) : 0, len = size * n;
    char *nb = realloc(*buf, old + len + 1);
    if (!nb)
        return 0;
    memcpy(nb + old, p, len);
    nb[old + len] = '\0';
    *buf = nb;
    return len;
}

/* GET /_stats of the fault server, parsed; NULL when it does not answer. */
static yajl_val stats_fetch(void)
{
    if (!g_port)
        return NULL;
    char url[128], *body = NULL, err[128];
    snprintf(url, sizeof(url), "%s/_stats", g_origin);
    CURL *h = curl_easy_init();
    if (!h)
        return NULL;
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &body);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 5000L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    CURLcode cc = curl_easy_perform(h);
    curl_easy_cleanup(h);
    yajl_val root = cc == CURLE_OK && body ? yajl_tree_parse(body, err, sizeof(err)) : NULL;
    free(body);
    return root;
}

static yajl_val stats(void)
{
    yajl_val s = stats_fetch();
    ck_assert_msg(s != NULL, "the fault server did not answer GET /_stats (port %d)", g_port);
    return s;
}

static long stat_count(yajl_val s, const char *path)
{
    const char *p[] = {"counts", path, NULL};
    yajl_val v = yajl_tree_get(s, p, yajl_t_number);
    return v ? (long)YAJL_GET_INTEGER(v) : 0;
}

static yajl_val stat_list(yajl_val s, const char *what, const char *path, size_t i)
{
    const char *p[] = {what, path, NULL};
    yajl_val a = yajl_tree_get(s, p, yajl_t_array);
    ck_assert_msg(a && i < a->u.array.len, "/_stats has no %s[%s][%zu]", what, path, i);
    return a->u.array.values[i];
}

/* Server arrival time (ms, monotonic) of the i-th request of path. */
static double stat_time(yajl_val s, const char *path, size_t i) { return YAJL_GET_DOUBLE(stat_list(s, "times", path, i)); }

/* 1 when the i-th request of path carried an Authorization header. */
static int stat_auth(yajl_val s, const char *path, size_t i) { return YAJL_IS_TRUE(stat_list(s, "auth", path, i)); }

static const char *stat_host(yajl_val s, const char *path, size_t i)
{
    const char *h = YAJL_GET_STRING(stat_list(s, "hosts", path, i));
    return h ? h : "";
}

/* Value of header `name` (lower case) in the i-th request of path, NULL when it was not sent. */
static const char *stat_header(yajl_val s, const char *path, size_t i, const char *name)
{
    yajl_val h = stat_list(s, "headers", path, i);
    ck_assert_msg(YAJL_IS_OBJECT(h), "/_stats headers[%s][%zu] is not an object", path, i);
    for (size_t k = 0; k < h->u.object.len; k++)
        if (strcmp(h->u.object.keys[k], name) == 0)
            return YAJL_GET_STRING(h->u.object.values[k]);
    return NULL;
}

static long stat_max_inflight(yajl_val s, const char *id)
{
    const char *p[] = {"max_inflight", id, NULL};
    yajl_val v = yajl_tree_get(s, p, yajl_t_number);
    return v ? (long)YAJL_GET_INTEGER(v) : 0;
}

static void server_start(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const char *script = getenv("FAULT_SERVER");
    if (!script)
        script = "tests/tools/fault_server.py";
    char cmd[1024], line[64];
    snprintf(cmd, sizeof(cmd), "exec python3 '%s' --max-seconds 120 --user user --password pass --slow-seconds 3",
             script);
    g_port = 0;
    g_server = popen(cmd, "r");
    if (g_server && fgets(line, sizeof(line), g_server))
        g_port = atoi(line);
    snprintf(g_origin, sizeof(g_origin), "http://127.0.0.1:%d", g_port);
    if (!g_port)
        fprintf(stderr, "test_engine: could not start %s (run from the repository root)\n", script);
}

static void server_stop(void)
{
    yajl_val s = stats_fetch();
    const char *p[] = {"pid", NULL};
    yajl_val pid = s ? yajl_tree_get(s, p, yajl_t_number) : NULL;
    if (pid && YAJL_GET_INTEGER(pid) > 1) {
        kill((pid_t)YAJL_GET_INTEGER(pid), SIGTERM);
        if (g_server)
            pclose(g_server); /* reaps it; without the pid it exits by itself (--max-seconds) */
        g_server = NULL;
    }
    yajl_tree_free(s);
    curl_global_cleanup();
}

static void per_test_setup(void)
{
    ck_assert_int_eq(imgsync_provider_register(&tp_vtable), 0);
    ck_assert_int_eq(imgsync_provider_register(&tp_prep_vtable), 0);
    memset(g_res, 0, sizeof(g_res));
    g_nres = 0;
    memset(g_prep, 0, sizeof(g_prep));
    g_nprep = 0;
    ck_assert_msg(g_port > 0, "the fault server is not running (python3 tests/tools/fault_server.py)");
}

/* ---- running one task ------------------------------------------------------------------- */

typedef struct outcome {
    int state;
    uint64_t requests, retries;
    int row_state, row_error;
    size_t nerrors;
    int error0;
    char message0[512];
    char reason[512];
    int64_t elapsed_ms;
} outcome;

/*
 * Create a context with the engine options ctx_opts (key, value, ..., NULL), one provider "t" of
 * `kind` on the fault server with the options prov_opts (its "endpoint" may be overridden
 * there), sync, wait for the end and free everything. g_res holds what the provider saw.
 */
static outcome sync_kind(const char *kind, const char *const *ctx_opts, const char *const *prov_opts)
{
    outcome o;
    memset(&o, 0, sizeof(o));
    imgsync_ctx *ctx = NULL;
    ck_assert_int_eq(imgsync_ctx_new(&ctx, NULL), 0);
    for (const char *const *kv = ctx_opts; kv && kv[0]; kv += 2)
        ck_assert_msg(imgsync_ctx_set(ctx, kv[0], kv[1]) == 0, "ctx option %s=%s: %s", kv[0], kv[1],
                      imgsync_ctx_errmsg(ctx));
    imgsync_provider *p = NULL;
    ck_assert_int_eq(imgsync_provider_new(&p, ctx, kind, "t"), 0);
    ck_assert_int_eq(imgsync_provider_set(p, "endpoint", g_origin), 0);
    for (const char *const *kv = prov_opts; kv && kv[0]; kv += 2)
        ck_assert_msg(imgsync_provider_set(p, kv[0], kv[1]) == 0, "provider option %s: %s", kv[0],
                      imgsync_ctx_errmsg(ctx));
    uint64_t id = 0;
    int64_t t0 = mono_ms();
    ck_assert_int_eq(imgsync_sync_start(ctx, NULL, &id), 0);
    int rc = imgsync_task_wait(ctx, id, WAIT_MS);
    o.elapsed_ms = mono_ms() - t0;
    ck_assert_msg(rc == 0, "task did not end within %d ms: %s", WAIT_MS, imgsync_strerror(rc));
    imgsync_task *t = NULL;
    ck_assert_int_eq(imgsync_task_get(&t, ctx, id), 0);
    o.state = imgsync_task_state_of(t);
    o.requests = imgsync_task_counter(t, IMGSYNC_COUNT_REQUESTS);
    o.retries = imgsync_task_counter(t, IMGSYNC_COUNT_RETRIES);
    ck_assert_uint_eq(imgsync_task_registry_count(t), 1);
    o.row_state = imgsync_task_registry_state(t, 0);
    o.row_error = imgsync_task_registry_error(t, 0);
    snprintf(o.reason, sizeof(o.reason), "%s", imgsync_task_registry_reason(t, 0));
    o.nerrors = imgsync_task_error_count(t);
    if (o.nerrors) {
        o.error0 = imgsync_task_error_code(t, 0);
        snprintf(o.message0, sizeof(o.message0), "%s", imgsync_task_error_message(t, 0));
    }
    imgsync_task_free(t);
    imgsync_ctx_free(ctx);
    return o;
}

/* The same with the plain "enginetest" kind. */
static outcome sync_once(const char *const *ctx_opts, const char *const *prov_opts)
{
    return sync_kind("enginetest", ctx_opts, prov_opts);
}

/* A port on 127.0.0.1 that nothing listens on (bound, then closed). */
static int closed_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_ge(fd, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(a);
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    close(fd);
    return ntohs(a.sin_port);
}

/* Engine options shared by most tests: fast backoff. */
#define FAST_RETRY "retry_base_ms", "5", "retry_max_ms", "50"

/* ---- tests ------------------------------------------------------------------------------ */

START_TEST(test_plain_get)
{
    const char *const copts[] = {FAST_RETRY, NULL};
    const char *const popts[] = {"paths", "/v2/", NULL};
    outcome o = sync_once(copts, popts);
    ck_assert_int_eq(o.state, IMGSYNC_TASK_SUCCEEDED);
    ck_assert_uint_eq(g_nres, 1);
    const tp_result *r = result_for("/v2/");
    ck_assert_int_eq(r->status, 200);
    ck_assert_int_eq(r->error, 0);
    ck_assert_uint_eq(r->body_len, 2);
    ck_assert_str_eq(r->body, "{}");
    char want[128];
    snprintf(want, sizeof(want), "%s/v2/", g_origin);
    ck_assert_str_eq(r->resp_url, want);
    ck_assert_uint_eq(o.requests, 1);
    ck_assert_uint_eq(o.retries, 0);
    yajl_val s = stats();
    ck_assert_int_eq(stat_count(s, "/v2/"), 1);
    yajl_tree_free(s);
}
END_TEST

static const int k_retry_status[] = {503, 502, 504, 429};

/* n failures with a retryable status, then 200: the provider sees only the 200. */
START_TEST(test_retry_then_ok)
{
    int status = k_retry_status[_i], n = 1 + _i % 3; /* 1, 2, 3, 1 */
    char path[128];
    snprintf(path, sizeof(path), "/flaky/%d/%d/then-ok-%d", n, status, _i);
    const char *const copts[] = {FAST_RETRY, "max_retries", "4", NULL};
    const char *const popts[] = {"paths", path, NULL};
    outcome o = sync_once(copts, popts);
    const tp_result *r = result_for(path);
    ck_assert_int_eq(r->status, 200);
    ck_assert_int_eq(r->error, 0);
    ck_assert_str_eq(r->body, "{\"repositories\":[\"a\"]}");
    ck_assert_uint_eq(g_nres, 1);
    ck_assert_uint_eq(o.retries, (uint64_t)n);
    ck_assert_uint_eq(o.requests, (uint64_t)n + 1);
    ck_assert_int_eq(o.state, IMGSYNC_TASK_SUCCEEDED);
    yajl_val s = stats();
    ck_assert_int_eq(stat_count(s, path), n + 1);
    yajl_tree_free(s);
}
END_TEST

/* More failures than max_retries: the last error status is delivered, after max_retries retries
 * (a 429 paces rather than fails: 32 retries whatever max_retries, unless that is 0). */
START_TEST(test_retry_exhausted)
{
    static const int max_retries[] = {2, 1, 0, 3};
    int status = k_retry_status[_i], m = max_retries[_i];
    if (status == 429 && m > 0)
        m = 32;
    char path[128], mr[8];
    snprintf(path, sizeof(path), "/flaky/%d/%d/exhausted-%d", m + 3, status, _i);
    snprintf(mr, sizeof(mr), "%d", max_retries[_i]);
    const char *const copts[] = {FAST_RETRY, "max_retries", mr, NULL};
    const char *const popts[] = {"paths", path, "fail", "true", NULL};
    outcome o = sync_once(copts, popts);
    ck_assert_uint_eq(g_nres, 1);
    const tp_result *r = result_for(path);
    ck_assert_int_eq(r->status, status);
    ck_assert_int_eq(r->error, 0);
    ck_assert_ptr_nonnull(strstr(r->body, "try again"));
    ck_assert_uint_eq(o.retries, (uint64_t)m);
    ck_assert_uint_eq(o.requests, (uint64_t)m + 1);
    /* imgsync_run_fail_response maps an unexpected status to EHTTP */
    ck_assert_int_eq(o.state, IMGSYNC_TASK_FAILED);
    ck_assert_int_eq(o.row_state, IMGSYNC_REGISTRY_FAILED);
    ck_assert_int_eq(o.row_error, IMGSYNC_EHTTP);
    yajl_val s = stats();
    ck_assert_int_eq(stat_count(s, path), m + 1);
    yajl_tree_free(s);
}
END_TEST

/* 501 and 4xx are delivered at once: one request each; a transient 500 (Harbor's database
 * timeouts) is retried like 502/503/504. */
START_TEST(test_not_retried)
{
    const char *const copts[] = {FAST_RETRY, "max_retries", "4", NULL};
    const char *const popts[] = {"paths", "/flaky/1/500/never,/flaky/1/501/never,/flaky/1/400/never", NULL};
    outcome o = sync_once(copts, popts);
    ck_assert_uint_eq(g_nres, 3);
    ck_assert_int_eq(result_for("/flaky/1/500/never")->status, 200);
    ck_assert_int_eq(result_for("/flaky/1/501/never")->status, 501);
    ck_assert_int_eq(result_for("/flaky/1/400/never")->status, 400);
    ck_assert_uint_eq(o.retries, 1);
    ck_assert_uint_eq(o.requests, 4);
    yajl_val s = stats();
    ck_assert_int_eq(stat_count(s, "/flaky/1/500/never"), 2);
    ck_assert_int_eq(stat_count(s, "/flaky/1/501/never"), 1);
    ck_assert_int_eq(stat_count(s, "/flaky/1/400/never"), 1);
    yajl_tree_free(s);
}
END_TEST

/* Retry-After: 1 wins over a 1 ms backoff base. */
START_TEST(test_retry_after_honoured)
{
    const char *path = "/flaky/1/429/retry-after/honoured";
    const char *const copts[] = {"retry_base_ms", "1", "retry_max_ms", "30000", "max_retries", "2", NULL};
    const char *const popts[] = {"paths", path, NULL};
    outcome o = sync_once(copts, popts);
    ck_assert_int_eq(result_for(path)->status, 200);
    ck_assert_uint_eq(o.retries, 1);
    yajl_val s = stats();
    ck_assert_int_eq(stat_count(s, path), 2);
    double gap = stat_time(s, path, 1) - stat_time(s, path, 0);
    yajl_tree_free(s);
    ck_assert_msg(gap >= 900.0, "second request %.1f ms after the first; Retry-After: 1 asks for 1000", gap);
    ck_assert_msg(gap < 5000.0, "second request %.1f ms after the first", gap);
    ck_assert_int_ge(o.elapsed_ms, 900);
}
END_TEST

/* A Retry-After longer than retry_max_ms is not waited for (documented in imgsync/ctx.h): the
 * 429 is delivered at once, so a hostile "retry in an hour" cannot stall a sync. */
START_TEST(test_retry_after_capped)
{
    const char *path = "/flaky/1/429/retry-after/capped";
    const char *const copts[] = {"retry_base_ms", "1", "retry_max_ms", "100", "max_retries", "2", NULL};
    const char *const popts[] = {"paths", path, NULL};
    outcome o = sync_once(copts, popts);
    ck_assert_int_eq(result_for(path)->status, 429);
    ck_assert_uint_eq(o.retries, 0);
    ck_assert_int_lt(o.elapsed_ms, 900);
    yajl_val s = stats();
    ck_assert_int_eq(stat_count(s, path), 1);
    yajl_tree_free(s);
}
END_TEST

/* Backoff without Retry-After: equal jitter in [d/2, d], d doubling from retry_base_ms. */
START_TEST(test_backoff_doubles)
{
    const char *path = "/flaky/2/503/backoff";
    const char *const copts[] = {"retry_base_ms", "200", "retry_max_ms", "10000", "max_retries", "3", NULL};
    const char *const popts[] = {"paths", path, NULL};
    outcome o = sync_once(copts, popts);
    ck_assert_int_eq(result_for(path)->status, 200);
    ck_assert_uint_eq(o.retries, 2);
    yajl_val s = stats();
    ck_assert_int_eq(stat_count(s, path), 3);
    double gap1 = stat_time(s, path, 1) - stat_time(s, path, 0);
    double gap2 = stat_time(s, path, 2) - stat_time(s, path, 1);
    yajl_tree_free(s);
    ck_assert_msg(gap1 >= 95.0 && gap1 < 1000.0, "first retry after %.1f ms, want 100..200", gap1);
    ck_assert_msg(gap2 >= 195.0 && gap2 < 1500.0, "second retry after %.1f ms, want 200..400", gap2);
}
END_TEST

/* Several jobs of one Bearer scope share one token request; a later job reuses the cached token. */
START_TEST(test_bearer_shared_token)
{
    const char *const copts[] = {FAST_RETRY, NULL};
    const char *const popts[] = {"paths", "/bearer/bt1/a,/bearer/bt1/b,/bearer/bt1/c,/bearer/bt1/d,/bearer/bt1/e",
                                 "then", "/bearer/bt1/later", "username", "user", "password", "pass", NULL};
    outcome o = sync_once(copts, popts);
    ck_assert_int_eq(o.state, IMGSYNC_TASK_SUCCEEDED);
    ck_assert_uint_eq(g_nres, 6);
    static const char *paths[] = {"/bearer/bt1/a", "/bearer/bt1/b", "/bearer/bt1/c",
                                  "/bearer/bt1/d", "/bearer/bt1/e", "/bearer/bt1/later"};
    yajl_val s = stats();
    for (size_t i = 0; i < 6; i++) {
        const tp_result *r = result_for(paths[i]);
        ck_assert_msg(r->status == 200 && r->error == 0, "%s: status %d error %d", paths[i], r->status, r->error);
        ck_assert_str_eq(r->body, "{\"repositories\":[\"b\"]}");
        /* the first five all start before any token exists: the challenge, then the request with
         * the token; the later one may have the cached token attached up front */
        long n = stat_count(s, paths[i]);
        if (i < 5)
            ck_assert_int_eq(n, 2);
        else
            ck_assert_msg(n == 1 || n == 2, "%s: %ld requests", paths[i], n);
    }
    ck_assert_int_eq(stat_count(s, "/token/bt1"), 1);
    ck_assert_int_eq(stat_auth(s, "/token/bt1", 0), 1); /* Basic credentials went to the realm */
    yajl_tree_free(s);
    ck_assert_uint_eq(o.retries, 0);
}
END_TEST

/* Wrong credentials: the token endpoint refuses, the provider sees the 401, the row fails EAUTH. */
START_TEST(test_bearer_wrong_credentials)
{
    const char *const copts[] = {FAST_RETRY, NULL};
    const char *const popts[] = {"paths", "/bearer/bt2/a", "fail", "true", "username", "user",
                                 "password", "s3cr3t-wrong", NULL};
    outcome o = sync_once(copts, popts);
    ck_assert_uint_eq(g_nres, 1);
    const tp_result *r = result_for("/bearer/bt2/a");
    ck_assert_int_eq(r->status, 401);
    ck_assert_int_eq(r->error, 0);
    ck_assert_int_eq(o.state, IMGSYNC_TASK_FAILED);
    ck_assert_int_eq(o.row_state, IMGSYNC_REGISTRY_FAILED);
    ck_assert_int_eq(o.row_error, IMGSYNC_EAUTH);
    ck_assert_uint_ge(o.nerrors, 1);
    ck_assert_int_eq(o.error0, IMGSYNC_EAUTH);
    ck_assert_ptr_null(strstr(o.message0, "s3cr3t"));
    ck_assert_ptr_null(strstr(o.reason, "s3cr3t"));
    ck_assert_uint_eq(o.retries, 0);
    yajl_val s = stats();
    ck_assert_int_eq(stat_count(s, "/token/bt2"), 1);
    ck_assert_int_ge(stat_count(s, "/bearer/bt2/a"), 1);
    yajl_tree_free(s);
}
END_TEST

/* The token request itself is retried on 503; the waiting job then gets its token. */
START_TEST(test_bearer_token_endpoint_retried)
{
    const char *const copts[] = {FAST_RETRY, "max_retries", "2", NULL};
    const char *const popts[] = {"paths", "/bearer/flaky-tok/a", "username", "user", "password", "pass", NULL};
    outcome o = sync_once(copts, popts);
    ck_assert_uint_eq(g_nres, 1);
    ck_assert_int_eq(result_for("/bearer/flaky-tok/a")->status, 200);
    ck_assert_int_eq(o.state, IMGSYNC_TASK_SUCCEEDED);
    yajl_val s = stats();
    ck_assert_int_eq(stat_count(s, "/token/flaky-tok"), 2);
    ck_assert_int_eq(stat_count(s, "/bearer/flaky-tok/a"), 2);
    yajl_tree_free(s);
}
END_TEST

/* Token responses that use "access_token" instead of "token" are understood. */
START_TEST(test_bearer_access_token)
{
    const char *const copts[] = {FAST_RETRY, NULL};
    const char *const popts[] = {"paths", "/bearer/access-tok/a", "username", "user", "password", "pass", NULL};
    sync_once(copts, popts);
    ck_assert_uint_eq(g_nres, 1);
    ck_assert_int_eq(result_for("/bearer/access-tok/a")->status, 200);
    yajl_val s = stats();
    ck_assert_int_eq(stat_count(s, "/token/access-tok"), 1);
    yajl_tree_free(s);
}
END_TEST

/* A realm on plain http at a non-loopback host is not contacted: the 401 is delivered. */
START_TEST(test_bearer_insecure_realm)
{
    const char *const copts[] = {FAST_RETRY, NULL};
    const char *const popts[] = {"paths", "/bearer/insecure-realm1/a", "username", "user", "password", "pass", NULL};
    outcome o = sync_once(copts, popts);
    ck_assert_uint_eq(g_nres, 1);
    ck_assert_int_eq(result_for("/bearer/insecure-realm1/a")->status, 401);
    ck_assert_uint_eq(o.requests, 1); /* no token request was started */
    yajl_val s = stats();
    ck_assert_int_eq(stat_count(s, "/bearer/insecure-realm1/a"), 1);
    yajl_tree_free(s);
}
END_TEST

/* Link rel="next": relative path, absolute same-origin URL, several links in one header. */
START_TEST(test_link_pagination)
{
    const char *const copts[] = {FAST_RETRY, NULL};
    const char *const popts[] = {"paths", "/link/lk1/p1", NULL};
    outcome o = sync_once(copts, popts);
    ck_assert_int_eq(o.state, IMGSYNC_TASK_SUCCEEDED);
    ck_assert_uint_eq(g_nres, 4);
    char want[256];
    const tp_result *r = result_for("/link/lk1/p1");
    ck_assert_int_eq(r->next_rc, 0);
    snprintf(want, sizeof(want), "%s/link/lk1/p2?n=1&last=a", g_origin);
    ck_assert_str_eq(r->next_url, want);
    r = result_for("/link/lk1/p2?n=1&last=a");
    ck_assert_int_eq(r->status, 200);
    ck_assert_int_eq(r->next_rc, 0);
    snprintf(want, sizeof(want), "%s/link/lk1/p3", g_origin);
    ck_assert_str_eq(r->next_url, want);
    r = result_for("/link/lk1/p3");
    ck_assert_int_eq(r->next_rc, 0);
    snprintf(want, sizeof(want), "%s/link/lk1/p4", g_origin); /* rel="next", not the rel="prev" before it */
    ck_assert_str_eq(r->next_url, want);
    r = result_for("/link/lk1/p4");
    ck_assert_int_eq(r->status, 200);
    ck_assert_int_eq(r->next_rc, 0);
    ck_assert_str_eq(r->next_url, "");
    ck_assert_uint_eq(o.requests, 4);
    yajl_val s = stats();
    ck_assert_int_eq(stat_count(s, "/link/lk1/p1"), 1);
    ck_assert_int_eq(stat_count(s, "/link/lk1/p2"), 1);
    ck_assert_int_eq(stat_count(s, "/link/lk1/p3"), 1);
    ck_assert_int_eq(stat_count(s, "/link/lk1/p4"), 1);
    yajl_tree_free(s);
}
END_TEST

/* A next link to another host is refused (EPROTOCOL) and nothing is sent there. */
START_TEST(test_link_cross_host)
{
    const char *const copts[] = {FAST_RETRY, NULL};
    const char *const popts[] = {"paths", "/link/lk2/evil", "try_cross", "true", NULL};
    outcome o = sync_once(copts, popts);
    ck_assert_uint_eq(g_nres, 1);
    const tp_result *r = result_for("/link/lk2/evil");
    ck_assert_int_eq(r->status, 200);
    ck_assert_int_eq(r->next_rc, IMGSYNC_EPROTOCOL);
    ck_assert_str_eq(r->next_url, "");
    /* a credentialed job for another origin is refused at submission */
    ck_assert_int_eq(r->cross_rc, IMGSYNC_EINVAL);
    ck_assert_uint_eq(o.requests, 1);
    ck_assert_int_eq(o.state, IMGSYNC_TASK_SUCCEEDED);
    yajl_val s = stats();
    ck_assert_int_eq(stat_count(s, "/link/lk2/evil"), 1);
    ck_assert_int_eq(stat_count(s, "/x"), 0);
    yajl_tree_free(s);
}
END_TEST

/* Two Link header fields are one comma-joined list (RFC 7230 3.2.2): rel="next" in the first
 * field must be found although the last field holds only rel="prev". */
START_TEST(test_link_split_fields)
{
    const char *const copts[] = {FAST_RETRY, NULL};
    const char *const popts[] = {"paths", "/link/lk3/split", NULL};
    sync_once(copts, popts);
    const tp_result *r = result_for("/link/lk3/split");
    ck_assert_int_eq(r->status, 200);
    ck_assert_int_eq(r->next_rc, 0);
    char want[256];
    snprintf(want, sizeof(want), "%s/link/lk3/p4", g_origin);
    ck_assert_msg(strcmp(r->next_url, want) == 0, "next of two Link fields: got \"%s\", want \"%s\"", r->next_url,
                  want);
    ck_assert_uint_eq(g_nres, 2);
    ck_assert_int_eq(result_for("/link/lk3/p4")->status, 200);
}
END_TEST

/* A body over max_response_bytes gives ETOOBIG (with and without Content-Length), not retried. */
START_TEST(test_too_big)
{
    const char *const copts[] = {FAST_RETRY, "max_retries", "3", "max_response_bytes", "1048576", NULL};
    const char *const popts[] = {"paths", "/big,/big-chunked", NULL};
    outcome o = sync_once(copts, popts);
    ck_assert_uint_eq(g_nres, 2);
    const tp_result *r = result_for("/big");
    ck_assert_int_eq(r->error, IMGSYNC_ETOOBIG);
    ck_assert_int_eq(r->status, 0);
    r = result_for("/big-chunked");
    ck_assert_int_eq(r->error, IMGSYNC_ETOOBIG);
    ck_assert_int_eq(r->status, 0);
    ck_assert_uint_eq(o.retries, 0);
    yajl_val s = stats();
    ck_assert_int_eq(stat_count(s, "/big"), 1);
    ck_assert_int_eq(stat_count(s, "/big-chunked"), 1);
    yajl_tree_free(s);
}
END_TEST

/* The cap is inclusive: exactly max_response_bytes is fine, one byte more is ETOOBIG. */
START_TEST(test_body_cap_boundary)
{
    const char *const copts[] = {FAST_RETRY, "max_response_bytes", "4096", NULL};
    const char *const popts[] = {"paths", "/big/4096,/big/4097,/big-chunked/4096,/big-chunked/4097", NULL};
    sync_once(copts, popts);
    ck_assert_uint_eq(g_nres, 4);
    const tp_result *r = result_for("/big/4096");
    ck_assert_int_eq(r->status, 200);
    ck_assert_int_eq(r->error, 0);
    ck_assert_uint_eq(r->body_len, 4096);
    r = result_for("/big-chunked/4096");
    ck_assert_int_eq(r->status, 200);
    ck_assert_int_eq(r->error, 0);
    ck_assert_uint_eq(r->body_len, 4096);
    ck_assert_int_eq(result_for("/big/4097")->error, IMGSYNC_ETOOBIG);
    ck_assert_int_eq(result_for("/big-chunked/4097")->error, IMGSYNC_ETOOBIG);
}
END_TEST

/* request_timeout_ms: the slow answer is abandoned, retried, then delivered as ETIMEOUT. */
START_TEST(test_timeout)
{
    const char *path = "/slow/timeout";
    const char *const copts[] = {FAST_RETRY, "request_timeout_ms", "300", "max_retries", "1", NULL};
    const char *const popts[] = {"paths", path, "fail", "true", NULL};
    outcome o = sync_once(copts, popts);
    ck_assert_uint_eq(g_nres, 1);
    const tp_result *r = result_for(path);
    ck_assert_int_eq(r->error, IMGSYNC_ETIMEOUT);
    ck_assert_int_eq(r->status, 0);
    ck_assert_uint_eq(o.retries, 1);
    ck_assert_uint_eq(o.requests, 2);
    ck_assert_int_eq(o.row_error, IMGSYNC_ETIMEOUT);
    /* two attempts of 300 ms, far less than the server's 3 s */
    ck_assert_msg(o.elapsed_ms >= 550 && o.elapsed_ms < 2500, "took %lld ms", (long long)o.elapsed_ms);
    yajl_val s = stats();
    ck_assert_int_eq(stat_count(s, path), 2);
    yajl_tree_free(s);
}
END_TEST

/* Basic credentials go to the endpoint host but not across a redirect to another host name. */
START_TEST(test_redirect_basic_not_forwarded)
{
    const char *const copts[] = {FAST_RETRY, NULL};
    const char *const popts[] = {"paths", "/redirect-other-host/rd1", "username", "user", "password", "pass", NULL};
    outcome o = sync_once(copts, popts);
    ck_assert_uint_eq(g_nres, 1);
    const tp_result *r = result_for("/redirect-other-host/rd1");
    ck_assert_int_eq(r->status, 200);
    ck_assert_ptr_nonnull(strstr(r->body, "{\"authorization\":false,\"host\":\"localhost:"));
    ck_assert_ptr_nonnull(strstr(r->resp_url, "://localhost:"));
    ck_assert_ptr_nonnull(strstr(r->resp_url, "/echo-auth/rd1"));
    ck_assert_int_eq(o.state, IMGSYNC_TASK_SUCCEEDED);
    yajl_val s = stats();
    ck_assert_int_eq(stat_count(s, "/redirect-other-host/rd1"), 1);
    ck_assert_int_eq(stat_auth(s, "/redirect-other-host/rd1", 0), 1); /* sent to the endpoint */
    ck_assert_int_eq(stat_count(s, "/echo-auth/rd1"), 1);
    ck_assert_int_eq(stat_auth(s, "/echo-auth/rd1", 0), 0);           /* not to the other host */
    ck_assert_int_eq(strncmp(stat_host(s, "/echo-auth/rd1", 0), "localhost:", 10), 0);
    yajl_tree_free(s);
}
END_TEST

/* Same with a Bearer token (a custom Authorization header): not sent to the other host either. */
START_TEST(test_redirect_bearer_not_forwarded)
{
    const char *path = "/bearer/rd2/redirect-other-host";
    const char *const copts[] = {FAST_RETRY, NULL};
    const char *const popts[] = {"paths", path, "username", "user", "password", "pass", NULL};
    sync_once(copts, popts);
    ck_assert_uint_eq(g_nres, 1);
    const tp_result *r = result_for(path);
    ck_assert_int_eq(r->status, 200);
    ck_assert_ptr_nonnull(strstr(r->body, "\"authorization\":false"));
    yajl_val s = stats();
    ck_assert_int_eq(stat_count(s, "/token/rd2"), 1);
    ck_assert_int_eq(stat_count(s, path), 2);
    ck_assert_int_eq(stat_auth(s, path, 1), 1); /* the token went to the endpoint */
    ck_assert_int_eq(stat_count(s, "/echo-auth/rd2/redirect-other-host"), 1);
    ck_assert_int_eq(stat_auth(s, "/echo-auth/rd2/redirect-other-host", 0), 0);
    yajl_tree_free(s);
}
END_TEST

/* A host the request was redirected to may challenge, but the endpoint's credentials must not
 * reach it: neither directly nor through a token realm that host names. */
START_TEST(test_redirect_challenge_no_credentials)
{
    const char *path = "/redirect-to-bearer/rb1/x";
    const char *const copts[] = {FAST_RETRY, NULL};
    const char *const popts[] = {"paths", path, "username", "user", "password", "pass", NULL};
    sync_once(copts, popts);
    ck_assert_uint_eq(g_nres, 1);
    const tp_result *r = result_for(path);
    ck_assert_int_eq(r->error, 0);
    ck_assert_int_eq(r->status, 401);
    yajl_val s = stats();
    int endpoint_auth = stat_auth(s, path, 0);
    long n = stat_count(s, "/bearer/rb1/x"), target_auth = 0, tokens = stat_count(s, "/token/rb1"), token_auth = 0;
    for (long i = 0; i < n; i++)
        target_auth += stat_auth(s, "/bearer/rb1/x", (size_t)i);
    char realm_host[64] = "";
    for (long i = 0; i < tokens; i++)
        if (stat_auth(s, "/token/rb1", (size_t)i)) {
            token_auth++;
            snprintf(realm_host, sizeof(realm_host), "%s", stat_host(s, "/token/rb1", (size_t)i));
        }
    yajl_tree_free(s);
    ck_assert_int_eq(endpoint_auth, 1); /* the endpoint got the credentials */
    ck_assert_int_ge(n, 1);
    ck_assert_msg(target_auth == 0, "credentials were sent to the redirect target");
    ck_assert_msg(token_auth == 0, "Basic credentials were sent %ld time(s) to the realm %s named by a redirect target",
                  token_auth, realm_host);
}
END_TEST

static void concurrency_run(const char *id, int jobs, const char *max_conn, const char *max_host, long limit)
{
    char paths[2048] = "";
    for (int i = 0; i < jobs; i++) {
        size_t len = strlen(paths);
        snprintf(paths + len, sizeof(paths) - len, "%s/concurrency/%s/%d", i ? "," : "", id, i);
    }
    const char *const copts[] = {FAST_RETRY, "max_connections", max_conn, "max_host_connections", max_host, NULL};
    const char *const popts[] = {"paths", paths, NULL};
    outcome o = sync_once(copts, popts);
    ck_assert_int_eq(o.state, IMGSYNC_TASK_SUCCEEDED);
    ck_assert_uint_eq(g_nres, (size_t)jobs);
    for (size_t i = 0; i < g_nres; i++)
        ck_assert_msg(g_res[i].status == 200, "%s: %d/%d", g_res[i].path, g_res[i].status, g_res[i].error);
    yajl_val s = stats();
    long m = stat_max_inflight(s, id);
    yajl_tree_free(s);
    ck_assert_msg(m <= limit, "the server saw %ld requests in flight at once, limit %ld", m, limit);
    ck_assert_msg(m > 1, "the server never saw two requests in flight at once");
    /* each request takes 200 ms: ceil(jobs / limit) rounds at least */
    long rounds = (jobs + limit - 1) / limit;
    ck_assert_msg(o.elapsed_ms >= rounds * 200 - 50, "%d jobs took %lld ms", jobs, (long long)o.elapsed_ms);
}

START_TEST(test_host_connection_limit) { concurrency_run("host3", 20, "16", "3", 3); }
END_TEST

START_TEST(test_global_connection_limit) { concurrency_run("global2", 10, "2", "8", 2); }
END_TEST

/* A slow response must not hold back other requests to the same host (plain http). */
START_TEST(test_no_head_of_line_blocking)
{
    const char *const copts[] = {FAST_RETRY, "request_timeout_ms", "1200", "max_retries", "0", NULL};
    const char *const popts[] = {"paths", "/slow/hol,/flaky/0/200/hol-fast", NULL};
    sync_once(copts, popts);
    ck_assert_uint_eq(g_nres, 2);
    ck_assert_int_eq(result_for("/slow/hol")->error, IMGSYNC_ETIMEOUT);
    const tp_result *r = result_for("/flaky/0/200/hol-fast");
    ck_assert_msg(r->status == 200 && r->error == 0,
                  "the fast request behind a slow one ended with status %d, error %s", r->status,
                  imgsync_strerror(r->error));
    yajl_val s = stats();
    ck_assert_int_eq(stat_count(s, "/flaky/0/200/hol-fast"), 1);
    double gap = stat_time(s, "/flaky/0/200/hol-fast", 0) - stat_time(s, "/slow/hol", 0);
    yajl_tree_free(s);
    ck_assert_msg(gap < 500.0, "the fast request reached the server %.0f ms after the slow one", gap);
}
END_TEST

/* Nothing listens: ENETWORK after the configured retries. */
START_TEST(test_connection_refused)
{
    char ep[64];
    snprintf(ep, sizeof(ep), "http://127.0.0.1:%d", closed_port());
    const char *const copts[] = {FAST_RETRY, "max_retries", "2", NULL};
    const char *const popts[] = {"endpoint", ep, "paths", "/v2/", "fail", "true", NULL};
    outcome o = sync_once(copts, popts);
    ck_assert_uint_eq(g_nres, 1);
    ck_assert_int_eq(g_res[0].error, IMGSYNC_ENETWORK);
    ck_assert_int_eq(g_res[0].status, 0);
    ck_assert_uint_eq(o.retries, 2);
    ck_assert_uint_eq(o.requests, 3);
    ck_assert_int_eq(o.state, IMGSYNC_TASK_FAILED);
    ck_assert_int_eq(o.row_error, IMGSYNC_ENETWORK);
}
END_TEST

/* Cancel while a (slow) token request is in flight and jobs wait for it: nothing is delivered,
 * the task is CANCELED, and the engine is clean enough to run the next task. */
START_TEST(test_cancel_in_flight)
{
    imgsync_ctx *ctx = NULL;
    ck_assert_int_eq(imgsync_ctx_new(&ctx, NULL), 0);
    ck_assert_int_eq(imgsync_ctx_set(ctx, "retry_base_ms", "5"), 0);
    ck_assert_int_eq(imgsync_ctx_set(ctx, "max_host_connections", "4"), 0);
    imgsync_provider *p = NULL;
    ck_assert_int_eq(imgsync_provider_new(&p, ctx, "enginetest", "t"), 0);
    ck_assert_int_eq(imgsync_provider_set(p, "endpoint", g_origin), 0);
    ck_assert_int_eq(imgsync_provider_set(p, "username", "user"), 0);
    ck_assert_int_eq(imgsync_provider_set(p, "password", "pass"), 0);
    ck_assert_int_eq(imgsync_provider_set(p, "paths", "/bearer/slow-tok/a,/bearer/slow-tok/b"), 0);
    uint64_t id = 0;
    ck_assert_int_eq(imgsync_sync_start(ctx, NULL, &id), 0);
    int64_t until = mono_ms() + 400;
    while (mono_ms() < until)
        ck_assert_int_ge(imgsync_ctx_perform(ctx, 50), 0);
    yajl_val s = stats();
    ck_assert_int_eq(stat_count(s, "/bearer/slow-tok/a"), 1);
    ck_assert_int_eq(stat_count(s, "/bearer/slow-tok/b"), 1);
    ck_assert_int_eq(stat_count(s, "/token/slow-tok"), 1); /* asked, not answered yet (1 s) */
    yajl_tree_free(s);
    ck_assert_int_eq(imgsync_task_cancel(ctx, id), 0);
    ck_assert_int_eq(imgsync_task_wait(ctx, id, 1000), 0);
    imgsync_task *t = NULL;
    ck_assert_int_eq(imgsync_task_get(&t, ctx, id), 0);
    ck_assert_int_eq(imgsync_task_state_of(t), IMGSYNC_TASK_CANCELED);
    imgsync_task_free(t);
    ck_assert_uint_eq(g_nres, 0);

    /* the same context and provider work afterwards (no connection slot or job left over) */
    ck_assert_int_eq(imgsync_provider_set(p, "paths", "/flaky/1/503/after-cancel,/v2/"), 0);
    ck_assert_int_eq(imgsync_sync_start(ctx, NULL, &id), 0);
    ck_assert_int_eq(imgsync_task_wait(ctx, id, WAIT_MS), 0);
    ck_assert_int_eq(imgsync_task_get(&t, ctx, id), 0);
    ck_assert_int_eq(imgsync_task_state_of(t), IMGSYNC_TASK_SUCCEEDED);
    ck_assert_uint_eq(imgsync_task_counter(t, IMGSYNC_COUNT_RETRIES), 1);
    imgsync_task_free(t);
    ck_assert_uint_eq(g_nres, 2);
    ck_assert_int_eq(result_for("/flaky/1/503/after-cancel")->status, 200);
    imgsync_ctx_free(ctx);
}
END_TEST

/* task_timeout_ms aborts a task whose request would take longer (request timeout far away). */
START_TEST(test_task_timeout)
{
    const char *const copts[] = {FAST_RETRY, "task_timeout_ms", "300", NULL};
    const char *const popts[] = {"paths", "/slow/task-timeout", NULL};
    outcome o = sync_once(copts, popts);
    ck_assert_uint_eq(g_nres, 0);
    ck_assert_int_eq(o.row_state, IMGSYNC_REGISTRY_FAILED);
    ck_assert_int_eq(o.row_error, IMGSYNC_ETIMEOUT);
    ck_assert_int_eq(o.state, IMGSYNC_TASK_FAILED);
    ck_assert_msg(o.elapsed_ms >= 250 && o.elapsed_ms < 2000, "took %lld ms", (long long)o.elapsed_ms);
}
END_TEST

/* ---- overall bounds against a misbehaving server (issue 6, reliability item 5) -------------
 * Each of these would take a minute or more (or hang until the fault server's --max-seconds)
 * without the limit it tests; the bounds are generous on purpose (valgrind, a busy CI box). */

/* A body trickling in at 2 bytes/s is abandoned by the low-speed limit after about
 * low_speed_time_ms, although request_timeout_ms (30 s by default) is far away; the timeout is
 * retried like any other (max_retries 1: two attempts), then delivered as ETIMEOUT. */
START_TEST(test_low_speed_trickle)
{
    const char *path = "/trickle/lowspeed/x";
    const char *const copts[] = {FAST_RETRY, "low_speed_bytes", "1024", "low_speed_time_ms", "1000",
                                 "max_retries", "1", NULL};
    const char *const popts[] = {"paths", path, "fail", "true", NULL};
    outcome o = sync_once(copts, popts);
    ck_assert_uint_eq(g_nres, 1);
    const tp_result *r = result_for(path);
    ck_assert_int_eq(r->error, IMGSYNC_ETIMEOUT);
    ck_assert_int_eq(r->status, 0);
    ck_assert_msg(strstr(r->detail, "too slow") != NULL, "detail of the low-speed abort: \"%s\"", r->detail);
    ck_assert_uint_eq(o.retries, 1);
    ck_assert_uint_eq(o.requests, 2);
    ck_assert_int_eq(o.state, IMGSYNC_TASK_FAILED);
    ck_assert_int_eq(o.row_error, IMGSYNC_ETIMEOUT);
    ck_assert_msg(strstr(o.reason, "too slow") != NULL, "row reason: \"%s\"", o.reason);
    /* two attempts of about 1 s each; without the limit one attempt alone takes 30 s */
    ck_assert_msg(o.elapsed_ms >= 1500 && o.elapsed_ms < 8000, "took %lld ms", (long long)o.elapsed_ms);
    yajl_val s = stats();
    ck_assert_int_eq(stat_count(s, path), 2);
    yajl_tree_free(s);
}
END_TEST

/* A server that never answers (or stops in the middle of its status line), request_timeout_ms
 * 1 s, max_retries 20: retry_total_ms 2500 stops the retries after about 3 attempts (the third
 * ends after ~3 s, later than the cap), where max_retries alone would allow 21 (> 20 s). */
START_TEST(test_retry_total_cap_silent)
{
    const char *silent = "/silent/total/x", *stall = "/stall-headers/total";
    const char *const copts[] = {FAST_RETRY, "request_timeout_ms", "1000", "retry_total_ms", "2500",
                                 "max_retries", "20", NULL};
    char paths[128];
    snprintf(paths, sizeof(paths), "%s,%s", silent, stall);
    const char *const popts[] = {"paths", paths, NULL};
    outcome o = sync_once(copts, popts);
    ck_assert_uint_eq(g_nres, 2);
    const char *const both[] = {silent, stall};
    yajl_val s = stats();
    for (size_t i = 0; i < 2; i++) {
        const tp_result *r = result_for(both[i]);
        ck_assert_int_eq(r->error, IMGSYNC_ETIMEOUT);
        ck_assert_int_eq(r->status, 0);
        long n = stat_count(s, both[i]);
        ck_assert_msg(n >= 2 && n <= 4, "%s was sent %ld times, want 3 (2..4) within retry_total_ms", both[i], n);
    }
    ck_assert_uint_eq(o.requests, (uint64_t)(stat_count(s, silent) + stat_count(s, stall)));
    ck_assert_uint_eq(o.retries, o.requests - 2);
    yajl_tree_free(s);
    ck_assert_msg(o.elapsed_ms >= 2000 && o.elapsed_ms < 6000, "took %lld ms", (long long)o.elapsed_ms);
}
END_TEST

/* 503 + Retry-After an hour away (delta-seconds, or an HTTP-date in 2099) with the default
 * retry policy: delivered at once, not retried, the detail says why; the run's failure (row
 * reason) carries it. Waiting would take an hour. */
START_TEST(test_retry_after_far_future)
{
    /* %2C: the comma would split the "paths" option */
    static const char *const paths[] = {"/retry-after/far-secs/3600",
                                        "/retry-after/far-date/Thu%2C%2001%20Jan%202099%2000:00:00%20GMT"};
    const char *path = paths[_i];
    const char *const popts[] = {"paths", path, "fail", "true", NULL};
    outcome o = sync_once(NULL, popts); /* the defaults: retry_max_ms 30000 */
    ck_assert_uint_eq(g_nres, 1);
    const tp_result *r = result_for(path);
    ck_assert_int_eq(r->status, 503);
    ck_assert_int_eq(r->error, 0);
    ck_assert_msg(strstr(r->detail, "asked to retry after more than 30000 ms") != NULL, "detail: \"%s\"",
                  r->detail);
    ck_assert_uint_eq(o.retries, 0);
    ck_assert_uint_eq(o.requests, 1);
    ck_assert_int_eq(o.state, IMGSYNC_TASK_FAILED);
    ck_assert_int_eq(o.row_error, IMGSYNC_EHTTP);
    ck_assert_msg(strstr(o.reason, "HTTP 503") && strstr(o.reason, "asked to retry after more than"),
                  "row reason: \"%s\"", o.reason);
    ck_assert_msg(o.elapsed_ms < 2000, "took %lld ms", (long long)o.elapsed_ms);
    yajl_val s = stats();
    ck_assert_int_eq(stat_count(s, path), 1);
    yajl_tree_free(s);
}
END_TEST

/* imgsync_provider_check() of a provider of `kind` whose endpoint is `endpoint` (NULL: the fault
 * server) and whose options are popts, with check_timeout_ms 1500 and every other option at its
 * default. Returns the code; *elapsed_ms and errmsg are filled. */
static int check_silent(const char *kind, const char *endpoint, const char *const *popts, int64_t *elapsed_ms,
                        char *errmsg, size_t errlen)
{
    imgsync_ctx *ctx = NULL;
    ck_assert_int_eq(imgsync_ctx_new(&ctx, NULL), 0);
    ck_assert_int_eq(imgsync_ctx_set(ctx, "check_timeout_ms", "1500"), 0);
    imgsync_provider *p = NULL;
    ck_assert_int_eq(imgsync_provider_new(&p, ctx, kind, "t"), 0);
    ck_assert_msg(imgsync_provider_set(p, "endpoint", endpoint ? endpoint : g_origin) == 0, "endpoint: %s",
                  imgsync_ctx_errmsg(ctx));
    for (const char *const *kv = popts; kv && kv[0]; kv += 2)
        ck_assert_int_eq(imgsync_provider_set(p, kv[0], kv[1]), 0);
    int64_t t0 = mono_ms();
    int rc = imgsync_provider_check(p);
    *elapsed_ms = mono_ms() - t0;
    snprintf(errmsg, errlen, "%s", imgsync_ctx_errmsg(ctx));
    imgsync_ctx_free(ctx);
    return rc;
}

/* imgsync_provider_check() against a server that never answers ends after check_timeout_ms
 * with ETIMEOUT, for the test kind and for the built-in "oci" kind (whose check is GET /v2/
 * below the endpoint). Without the deadline: 30 s per attempt (20 s low-speed), 5 attempts. */
START_TEST(test_check_timeout_silent)
{
    int64_t ms = 0;
    char msg[512];
    const char *const popts[] = {"paths", "/silent/check/x", NULL};
    int rc = check_silent("enginetest", NULL, popts, &ms, msg, sizeof(msg));
    ck_assert_msg(rc == IMGSYNC_ETIMEOUT, "check gave %s (%s)", imgsync_strerror(rc), msg);
    ck_assert_msg(strstr(msg, "timeout") != NULL, "errmsg: \"%s\"", msg);
    ck_assert_msg(ms >= 1400 && ms < 3500, "check took %lld ms", (long long)ms);

    char ep[128];
    snprintf(ep, sizeof(ep), "%s/silent/oci-check", g_origin);
    rc = check_silent("oci", ep, NULL, &ms, msg, sizeof(msg));
    ck_assert_msg(rc == IMGSYNC_ETIMEOUT, "oci check gave %s (%s)", imgsync_strerror(rc), msg);
    ck_assert_msg(ms >= 1400 && ms < 3500, "oci check took %lld ms", (long long)ms);
    yajl_val s = stats();
    ck_assert_int_eq(stat_count(s, "/silent/check/x"), 1);
    ck_assert_int_eq(stat_count(s, "/silent/oci-check/v2/"), 1);
    yajl_tree_free(s);
}
END_TEST

/* task_timeout_ms 1500 against a server that never answers, every other option at its default
 * (request_timeout_ms 30 s, low speed 20 s): the task ends FAILED with ETIMEOUT close to the
 * deadline, the one request abandoned. Without it: 20 s or more per attempt, 5 attempts. */
START_TEST(test_task_timeout_silent)
{
    const char *path = "/silent/task/x";
    const char *const copts[] = {"task_timeout_ms", "1500", NULL};
    const char *const popts[] = {"paths", path, NULL};
    outcome o = sync_once(copts, popts);
    ck_assert_int_eq(o.state, IMGSYNC_TASK_FAILED);
    ck_assert_int_eq(o.row_state, IMGSYNC_REGISTRY_FAILED);
    ck_assert_int_eq(o.row_error, IMGSYNC_ETIMEOUT);
    ck_assert_msg(strstr(o.reason, "task timeout") != NULL, "row reason: \"%s\"", o.reason);
    ck_assert_msg(o.elapsed_ms >= 1400 && o.elapsed_ms < 3000, "took %lld ms", (long long)o.elapsed_ms);
    ck_assert_uint_eq(g_nres, 0); /* aborted with the run: never delivered */
    yajl_val s = stats();
    ck_assert_int_eq(stat_count(s, path), 1);
    yajl_tree_free(s);
}
END_TEST

/* ---- review fixes ------------------------------------------------------------------------ */

/* A prepare hook that fails the run on the 2nd of 6 queued jobs (and returns 0): the other jobs
 * are gone with the run (no crash, no use of freed jobs: run this under ASan or valgrind), the
 * job being prepared is not sent, nothing of the run reaches the server afterwards, and the task
 * ends FAILED with the hook's reason. */
START_TEST(test_prepare_fails_run)
{
    const char *const copts[] = {FAST_RETRY, NULL};
    const char *const popts[] = {"paths",
                                 "/flaky/0/200/prep-fail/1,/flaky/0/200/prep-fail/2,/flaky/0/200/prep-fail/3,"
                                 "/flaky/0/200/prep-fail/4,/flaky/0/200/prep-fail/5,/flaky/0/200/prep-fail/6",
                                 "prepare_fail", "2", NULL};
    outcome o = sync_kind("enginetest-prep", copts, popts);
    ck_assert_int_eq(o.state, IMGSYNC_TASK_FAILED);
    ck_assert_int_eq(o.row_state, IMGSYNC_REGISTRY_FAILED);
    ck_assert_int_eq(o.row_error, IMGSYNC_EAUTH);
    ck_assert_str_eq(o.reason, PREP_FAIL_MSG);
    ck_assert_uint_ge(o.nerrors, 1);
    ck_assert_int_eq(o.error0, IMGSYNC_EAUTH);
    ck_assert_str_eq(o.message0, PREP_FAIL_MSG);
    /* the hook saw the first two jobs only; no response was delivered to the failed run */
    ck_assert_uint_eq(g_nprep, 2);
    ck_assert_str_eq(g_prep[0], "/flaky/0/200/prep-fail/1");
    ck_assert_str_eq(g_prep[1], "/flaky/0/200/prep-fail/2");
    ck_assert_uint_eq(g_nres, 0);
    /* a moment for anything still sent to arrive */
    usleep(200 * 1000);
    yajl_val s = stats();
    long first = stat_count(s, "/flaky/0/200/prep-fail/1");
    long later[5];
    for (int i = 2; i <= 6; i++) {
        char path[64];
        snprintf(path, sizeof(path), "/flaky/0/200/prep-fail/%d", i);
        later[i - 2] = stat_count(s, path);
    }
    yajl_tree_free(s);
    ck_assert_msg(first <= 1, "the first job reached the server %ld times", first);
    for (int i = 2; i <= 6; i++)
        ck_assert_msg(later[i - 2] == 0, "job %d of the failed run reached the server %ld time(s)", i, later[i - 2]);
}
END_TEST

/* prepare adds credentials or signatures: it is not called for anonymous jobs. */
START_TEST(test_prepare_skips_anonymous_jobs)
{
    const char *const copts[] = {FAST_RETRY, NULL};
    const char *const popts[] = {"paths", "/flaky/0/200/prep-named", "anon_paths", "/flaky/0/200/prep-anon",
                                 "prepare_header", "true", NULL};
    outcome o = sync_kind("enginetest-prep", copts, popts);
    ck_assert_int_eq(o.state, IMGSYNC_TASK_SUCCEEDED);
    ck_assert_uint_eq(g_nres, 2);
    ck_assert_int_eq(result_for("/flaky/0/200/prep-named")->status, 200);
    ck_assert_int_eq(result_for("/flaky/0/200/prep-anon")->status, 200);
    ck_assert_msg(g_nprep == 1, "prepare was called %zu times (second: %s)", g_nprep, g_prep[1]);
    ck_assert_str_eq(g_prep[0], "/flaky/0/200/prep-named");
    yajl_val s = stats();
    const char *named = stat_header(s, "/flaky/0/200/prep-named", 0, "x-prepared");
    const char *anon = stat_header(s, "/flaky/0/200/prep-anon", 0, "x-prepared");
    int named_ok = named && !strcmp(named, "yes"), anon_ok = anon == NULL;
    yajl_tree_free(s);
    ck_assert_msg(named_ok, "the named job lacks the prepare hook's header");
    ck_assert_msg(anon_ok, "the anonymous job carries the prepare hook's header");
}
END_TEST

/* A 302 to another origin (127.0.0.1 -> localhost) goes there without the provider's headers
 * (imgsync_job_add_header, prepare) and without credentials, but keeps Accept; a same-origin
 * redirect keeps them all. The provider sees the final response and its own job URL. */
START_TEST(test_redirect_provider_headers)
{
    const char *const copts[] = {FAST_RETRY, NULL};
    const char *const popts[] = {"paths", "/redirect-other-host/hdr1,/redirect-same-host/hdr2", "headers", "true",
                                 "prepare_header", "true", "username", "user", "password", "pass", NULL};
    outcome o = sync_kind("enginetest-prep", copts, popts);
    ck_assert_int_eq(o.state, IMGSYNC_TASK_SUCCEEDED);
    ck_assert_uint_eq(g_nres, 2);
    /* imgsync_job_url() is still what the provider asked for (result_for looks it up by that) */
    const tp_result *r = result_for("/redirect-other-host/hdr1");
    ck_assert_int_eq(r->status, 200);
    ck_assert_int_eq(r->error, 0);
    ck_assert_ptr_nonnull(strstr(r->resp_url, "://localhost:"));
    ck_assert_ptr_nonnull(strstr(r->resp_url, "/echo-auth/hdr1"));
    ck_assert_ptr_nonnull(strstr(r->body, "\"authorization\":false"));
    r = result_for("/redirect-same-host/hdr2");
    ck_assert_int_eq(r->status, 200);
    ck_assert_int_eq(r->error, 0);
    char want[128];
    snprintf(want, sizeof(want), "%s/echo-auth/hdr2", g_origin);
    ck_assert_str_eq(r->resp_url, want);

    yajl_val s = stats();
    /* the endpoint got everything */
    const char *tok0 = stat_header(s, "/redirect-other-host/hdr1", 0, "x-auth-token");
    const char *prep0 = stat_header(s, "/redirect-other-host/hdr1", 0, "x-prepared");
    int ep_ok = tok0 && !strcmp(tok0, "secret") && prep0 && !strcmp(prep0, "yes");
    /* the other origin: Accept only */
    long n_other = stat_count(s, "/echo-auth/hdr1");
    const char *host = n_other ? stat_host(s, "/echo-auth/hdr1", 0) : "";
    int other_localhost = strncmp(host, "localhost:", 10) == 0;
    const char *tok1 = n_other ? stat_header(s, "/echo-auth/hdr1", 0, "x-auth-token") : NULL;
    const char *prep1 = n_other ? stat_header(s, "/echo-auth/hdr1", 0, "x-prepared") : NULL;
    const char *acc1 = n_other ? stat_header(s, "/echo-auth/hdr1", 0, "accept") : NULL;
    int auth1 = n_other ? stat_auth(s, "/echo-auth/hdr1", 0) : 0;
    char tok1c[64], prep1c[64], acc1c[128];
    snprintf(tok1c, sizeof(tok1c), "%s", tok1 ? tok1 : "(none)");
    snprintf(prep1c, sizeof(prep1c), "%s", prep1 ? prep1 : "(none)");
    snprintf(acc1c, sizeof(acc1c), "%s", acc1 ? acc1 : "(none)");
    /* the same origin: everything */
    long n_same = stat_count(s, "/echo-auth/hdr2");
    const char *tok2 = n_same ? stat_header(s, "/echo-auth/hdr2", 0, "x-auth-token") : NULL;
    const char *prep2 = n_same ? stat_header(s, "/echo-auth/hdr2", 0, "x-prepared") : NULL;
    const char *acc2 = n_same ? stat_header(s, "/echo-auth/hdr2", 0, "accept") : NULL;
    int same_ok = tok2 && !strcmp(tok2, "secret") && prep2 && !strcmp(prep2, "yes") && acc2 &&
                  !strcmp(acc2, "application/json") && stat_auth(s, "/echo-auth/hdr2", 0);
    yajl_tree_free(s);

    ck_assert_msg(ep_ok, "the endpoint did not get the provider's headers");
    ck_assert_int_eq(n_other, 1);
    ck_assert_msg(other_localhost, "the redirect target was reached as '%s'", host);
    ck_assert_msg(!strcmp(tok1c, "(none)"), "X-Auth-Token: %s was sent to another origin", tok1c);
    ck_assert_msg(!strcmp(prep1c, "(none)"), "the prepare hook's X-Prepared: %s was sent to another origin", prep1c);
    ck_assert_msg(auth1 == 0, "credentials were sent to another origin");
    ck_assert_msg(!strcmp(acc1c, "application/json"), "Accept at the other origin: %s", acc1c);
    ck_assert_int_eq(n_same, 1);
    ck_assert_msg(same_ok, "a same-origin redirect lost the provider's headers or credentials");
}
END_TEST

/* A redirect to plain http on a non-loopback host is not followed (no DNS, no connection): the
 * job ends with IMGSYNC_EINSECURE, not retried. */
START_TEST(test_redirect_to_insecure_http_refused)
{
    const char *const copts[] = {FAST_RETRY, "max_retries", "2", NULL};
    const char *const popts[] = {"paths", "/redirect-insecure/ri1", "headers", "true", NULL};
    outcome o = sync_once(copts, popts);
    ck_assert_uint_eq(g_nres, 1);
    const tp_result *r = result_for("/redirect-insecure/ri1");
    ck_assert_msg(r->error == IMGSYNC_EINSECURE, "redirect to http://example.invalid: status %d, error %s", r->status,
                  imgsync_strerror(r->error));
    ck_assert_int_eq(r->status, 0);
    ck_assert_uint_eq(o.requests, 1);
    ck_assert_uint_eq(o.retries, 0);
    yajl_val s = stats();
    ck_assert_int_eq(stat_count(s, "/redirect-insecure/ri1"), 1);
    ck_assert_int_eq(stat_count(s, "/echo-auth/ri1"), 0);
    yajl_tree_free(s);
}
END_TEST

/* Five redirects are followed; a sixth 3xx is delivered as it is. */
START_TEST(test_redirect_limit)
{
    const char *const copts[] = {FAST_RETRY, NULL};
    const char *const popts[] = {"paths", "/redirect-chain/5/rc5,/redirect-chain/6/rc6", NULL};
    outcome o = sync_once(copts, popts);
    ck_assert_int_eq(o.state, IMGSYNC_TASK_SUCCEEDED);
    ck_assert_uint_eq(g_nres, 2);
    char want[128];
    const tp_result *r = result_for("/redirect-chain/5/rc5");
    ck_assert_int_eq(r->status, 200);
    ck_assert_int_eq(r->error, 0);
    snprintf(want, sizeof(want), "%s/redirect-chain/0/rc5", g_origin);
    ck_assert_str_eq(r->resp_url, want);
    r = result_for("/redirect-chain/6/rc6");
    ck_assert_msg(r->status == 302 && r->error == 0, "six redirects: status %d, error %s (want the 302)", r->status,
                  imgsync_strerror(r->error));
    snprintf(want, sizeof(want), "%s/redirect-chain/1/rc6", g_origin);
    ck_assert_str_eq(r->resp_url, want);
    yajl_val s = stats();
    ck_assert_int_eq(stat_count(s, "/redirect-chain/1/rc6"), 1);
    ck_assert_int_eq(stat_count(s, "/redirect-chain/0/rc6"), 0);
    yajl_tree_free(s);
}
END_TEST

/* A token holding CR LF is not used: it would inject header lines into the registry request.
 * The job fails with a protocol error saying the token endpoint gave no usable token. */
START_TEST(test_bearer_token_header_injection)
{
    const char *path = "/bearer/inject-tok/a";
    const char *const copts[] = {FAST_RETRY, NULL};
    const char *const popts[] = {"paths", path, "username", "user", "password", "pass", NULL};
    sync_once(copts, popts);
    ck_assert_uint_eq(g_nres, 1);
    const tp_result *r = result_for(path);
    ck_assert_int_eq(r->error, IMGSYNC_EPROTOCOL);
    ck_assert_int_eq(r->status, 0);
    yajl_val s = stats();
    long tokens = stat_count(s, "/token/inject-tok"), n = stat_count(s, path), injected = 0, bad_bearer = 0;
    for (long i = 0; i < n; i++) {
        injected += stat_header(s, path, (size_t)i, "x-injected") != NULL;
        const char *a = stat_header(s, path, (size_t)i, "authorization");
        bad_bearer += a && !strncmp(a, "Bearer good", 11);
    }
    yajl_tree_free(s);
    ck_assert_int_eq(tokens, 1);
    ck_assert_int_ge(n, 1);
    ck_assert_msg(injected == 0, "the token's CR LF injected a header into %ld request(s)", injected);
    ck_assert_msg(bad_bearer == 0, "the malformed token was sent %ld time(s)", bad_bearer);
}
END_TEST

/* "expires_in": INT64_MAX neither overflows (UBSan) nor makes the token unusable: a later job
 * reuses it instead of asking again. */
START_TEST(test_bearer_token_huge_lifetime)
{
    const char *const copts[] = {FAST_RETRY, NULL};
    const char *const popts[] = {"paths", "/bearer/forever-tok/a", "then", "/bearer/forever-tok/b", "username", "user",
                                 "password", "pass", NULL};
    outcome o = sync_once(copts, popts);
    ck_assert_int_eq(o.state, IMGSYNC_TASK_SUCCEEDED);
    ck_assert_uint_eq(g_nres, 2);
    ck_assert_int_eq(result_for("/bearer/forever-tok/a")->status, 200);
    ck_assert_int_eq(result_for("/bearer/forever-tok/b")->status, 200);
    yajl_val s = stats();
    long tokens = stat_count(s, "/token/forever-tok");
    yajl_tree_free(s);
    ck_assert_msg(tokens == 1, "%ld token requests: the cached token was taken for expired", tokens);
}
END_TEST

/* More response headers than the engine keeps (256) fail the transfer with EPROTOCOL instead of
 * silently dropping the last ones (here the Link); 200 are fine. */
START_TEST(test_too_many_response_headers)
{
    const char *const copts[] = {FAST_RETRY, "max_retries", "2", NULL};
    const char *const popts[] = {"paths", "/many-headers/300/mh1,/many-headers/200/mh2", NULL};
    outcome o = sync_once(copts, popts);
    ck_assert_uint_eq(g_nres, 2);
    const tp_result *r = result_for("/many-headers/300/mh1");
    ck_assert_msg(r->error == IMGSYNC_EPROTOCOL, "300 headers: status %d, error %s", r->status,
                  imgsync_strerror(r->error));
    ck_assert_int_eq(r->status, 0);
    r = result_for("/many-headers/200/mh2");
    ck_assert_int_eq(r->status, 200);
    ck_assert_int_eq(r->error, 0);
    ck_assert_uint_eq(o.retries, 0);
    yajl_val s = stats();
    ck_assert_int_eq(stat_count(s, "/many-headers/300/mh1"), 1);
    yajl_tree_free(s);
}
END_TEST

/* Head-of-line blocking across hosts and providers: 600 slow jobs queued for host A (2 at a time,
 * 200 ms each: a minute of work) must not hold back the one job another provider has for host B. */
START_TEST(test_busy_host_does_not_block_other_host)
{
    enum { NJOBS = 600 };
    size_t cap = NJOBS * 32, len = 0;
    char *paths = malloc(cap);
    ck_assert_ptr_nonnull(paths);
    paths[0] = '\0';
    for (int i = 0; i < NJOBS; i++)
        len += (size_t)snprintf(paths + len, cap - len, "%s/concurrency/hol-a/%d", i ? "," : "", i);
    imgsync_ctx *ctx = NULL;
    ck_assert_int_eq(imgsync_ctx_new(&ctx, NULL), 0);
    ck_assert_int_eq(imgsync_ctx_set(ctx, "retry_base_ms", "5"), 0);
    ck_assert_int_eq(imgsync_ctx_set(ctx, "max_host_connections", "2"), 0);
    imgsync_provider *a = NULL, *b = NULL;
    ck_assert_int_eq(imgsync_provider_new(&a, ctx, "enginetest", "a"), 0);
    ck_assert_int_eq(imgsync_provider_set(a, "endpoint", g_origin), 0);
    ck_assert_int_eq(imgsync_provider_set(a, "paths", paths), 0);
    free(paths);
    char other[64];
    snprintf(other, sizeof(other), "http://localhost:%d", g_port);
    ck_assert_int_eq(imgsync_provider_new(&b, ctx, "enginetest", "b"), 0);
    ck_assert_int_eq(imgsync_provider_set(b, "endpoint", other), 0);
    ck_assert_int_eq(imgsync_provider_set(b, "paths", "/v2/"), 0);
    uint64_t id = 0;
    int64_t t0 = mono_ms(), b_ms = -1;
    ck_assert_int_eq(imgsync_sync_start(ctx, NULL, &id), 0);
    size_t a_done = 0;
    while (b_ms < 0 && mono_ms() - t0 < 3000) {
        ck_assert_int_ge(imgsync_ctx_perform(ctx, 20), 0);
        for (size_t i = 0; i < g_nres && i < MAX_RESULTS; i++)
            if (!strcmp(g_res[i].path, "/v2/")) {
                b_ms = mono_ms() - t0;
                ck_assert_int_eq(g_res[i].status, 200);
                ck_assert_ptr_nonnull(strstr(g_res[i].resp_url, "://localhost:"));
                a_done = g_nres - 1;
            }
    }
    ck_assert_int_eq(imgsync_task_cancel(ctx, id), 0);
    ck_assert_int_eq(imgsync_task_wait(ctx, id, 5000), 0);
    imgsync_ctx_free(ctx);
    ck_assert_msg(b_ms >= 0, "host B's only job did not complete within 3 s behind %d jobs for host A", NJOBS);
    ck_assert_msg(b_ms < 1000, "host B's only job took %lld ms", (long long)b_ms);
    ck_assert_msg(a_done < 20, "host A had already done %zu jobs", a_done);
}
END_TEST

Suite *engine_suite(void)
{
    Suite *s = suite_create("engine");
    TCase *tc = tcase_create("fault_server");
    tcase_add_unchecked_fixture(tc, server_start, server_stop);
    tcase_add_checked_fixture(tc, per_test_setup, NULL);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_plain_get);
    tcase_add_loop_test(tc, test_retry_then_ok, 0, 4);
    tcase_add_loop_test(tc, test_retry_exhausted, 0, 4);
    tcase_add_test(tc, test_not_retried);
    tcase_add_test(tc, test_retry_after_honoured);
    tcase_add_test(tc, test_retry_after_capped);
    tcase_add_test(tc, test_backoff_doubles);
    tcase_add_test(tc, test_bearer_shared_token);
    tcase_add_test(tc, test_bearer_wrong_credentials);
    tcase_add_test(tc, test_bearer_token_endpoint_retried);
    tcase_add_test(tc, test_bearer_access_token);
    tcase_add_test(tc, test_bearer_insecure_realm);
    tcase_add_test(tc, test_link_pagination);
    tcase_add_test(tc, test_link_cross_host);
    tcase_add_test(tc, test_link_split_fields);
    tcase_add_test(tc, test_too_big);
    tcase_add_test(tc, test_body_cap_boundary);
    tcase_add_test(tc, test_timeout);
    tcase_add_test(tc, test_redirect_basic_not_forwarded);
    tcase_add_test(tc, test_redirect_bearer_not_forwarded);
    tcase_add_test(tc, test_redirect_challenge_no_credentials);
    tcase_add_test(tc, test_host_connection_limit);
    tcase_add_test(tc, test_global_connection_limit);
    tcase_add_test(tc, test_no_head_of_line_blocking);
    tcase_add_test(tc, test_connection_refused);
    tcase_add_test(tc, test_cancel_in_flight);
    tcase_add_test(tc, test_task_timeout);
    tcase_add_test(tc, test_prepare_fails_run);
    tcase_add_test(tc, test_prepare_skips_anonymous_jobs);
    tcase_add_test(tc, test_redirect_provider_headers);
    tcase_add_test(tc, test_redirect_to_insecure_http_refused);
    tcase_add_test(tc, test_redirect_limit);
    tcase_add_test(tc, test_bearer_token_header_injection);
    tcase_add_test(tc, test_bearer_token_huge_lifetime);
    tcase_add_test(tc, test_too_many_response_headers);
    tcase_add_test(tc, test_busy_host_does_not_block_other_host);
    tcase_add_test(tc, test_low_speed_trickle);
    tcase_add_test(tc, test_retry_total_cap_silent);
    tcase_add_loop_test(tc, test_retry_after_far_future, 0, 2);
    tcase_add_test(tc, test_check_timeout_silent);
    tcase_add_test(tc, test_task_timeout_silent);
    suite_add_tcase(s, tc);
    return s;
}

#include "check_main.h"
IMGSYNC_TEST_MAIN(engine_suite)
