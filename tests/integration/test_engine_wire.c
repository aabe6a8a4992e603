/*
 * What the sign hook is shown is exactly what goes on the wire: for each method, with and
 * without a body, a provider's sign hook records every header of the attempt and the real
 * libcurl transport sends it to tests/tools/echo_server.py (loopback), which answers with the
 * headers it received. Both lists must be the same, value for value: a header curl adds on its
 * own (a Content-Length: 0 for a DELETE without body, a form Content-Type, Expect) would be
 * outside the signature.
 *
 * Run from the repository root (python3 needed).
 */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check_main.h"
#include "imgsync.h"
#include "imgsync/sys/provider.h"

Suite *engine_wire_suite(void);

typedef struct wire_case {
    const char *method;
    const char *body; /* NULL: none */
    const char *content_length; /* what both sides must show, NULL: no Content-Length at all */
} wire_case;

static const wire_case k_cases[] = {
    {"DELETE", NULL, NULL}, {"POST", NULL, "0"},       {"PUT", NULL, "0"},
    {"GET", NULL, NULL},    {"POST", "{\"a\":1}", "7"}, {"PUT", "abc", "3"},
    {"DELETE", "xy", "2"},
};

static const wire_case *g_case;
static char g_signed[4096], g_got[4096];
static int g_sign_calls, g_status;

static int t_start(imgsync_run *run)
{
    imgsync_job *j = imgsync_job_new(run, g_case->method, "/x");
    if (!j)
        return IMGSYNC_EINVAL;
    imgsync_job_set_auth(j, IMGSYNC_AUTH_PROVIDER);
    if (g_case->body && imgsync_job_set_body(j, "text/plain", g_case->body, strlen(g_case->body))) {
        imgsync_job_free(j);
        return IMGSYNC_EINVAL;
    }
    return imgsync_job_submit(j);
}

static int cmp_lines(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* The attempt as the echo server reports a request: method, sorted "name: value" lines. */
static int t_sign(imgsync_run *run, const imgsync_job *job, imgsync_attempt *a)
{
    (void)run;
    (void)job;
    size_t n = imgsync_attempt_header_count(a);
    char **lines = calloc(n ? n : 1, sizeof(*lines));
    ck_assert_ptr_nonnull(lines);
    for (size_t i = 0; i < n; i++) {
        const char *name = imgsync_attempt_header_name(a, i), *value = imgsync_attempt_header_value(a, i);
        lines[i] = malloc(strlen(name) + strlen(value) + 3);
        ck_assert_ptr_nonnull(lines[i]);
        size_t k = 0;
        for (; name[k]; k++)
            lines[i][k] = (char)(name[k] >= 'A' && name[k] <= 'Z' ? name[k] - 'A' + 'a' : name[k]);
        sprintf(lines[i] + k, ": %s", value);
    }
    qsort(lines, n, sizeof(*lines), cmp_lines);
    size_t len = 0;
    imgsync_attempt_body(a, &len);
    int off = snprintf(g_signed, sizeof(g_signed), "%s\n", imgsync_attempt_method(a));
    for (size_t i = 0; i < n; i++) {
        off += snprintf(g_signed + off, sizeof(g_signed) - (size_t)off, "%s\n", lines[i]);
        free(lines[i]);
    }
    snprintf(g_signed + off, sizeof(g_signed) - (size_t)off, "body-bytes: %zu\n", len);
    free(lines);
    g_sign_calls++;
    return 0;
}

static int t_resp(imgsync_run *run, imgsync_job *job, const imgsync_response *r)
{
    (void)run;
    (void)job;
    g_status = imgsync_response_status(r);
    snprintf(g_got, sizeof(g_got), "%s", imgsync_response_body(r, NULL));
    return 0;
}

static const imgsync_provider_vtable k_vt = {.version = 2, .kind = "enginewire", .type = IMGSYNC_TYPE_OCI,
                                             .start = t_start, .on_response = t_resp, .sign = t_sign};

static pid_t g_pid;
static int g_port;

static void server_start(void)
{
    int fds[2];
    ck_assert_int_eq(pipe(fds), 0);
    g_pid = fork();
    ck_assert_int_ge(g_pid, 0);
    if (g_pid == 0) {
        dup2(fds[1], 1);
        close(fds[0]);
        close(fds[1]);
        execlp("python3", "python3", "tests/tools/echo_server.py", (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    FILE *f = fdopen(fds[0], "r");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(fscanf(f, "%d", &g_port), 1);
    fclose(f);
    int rc = imgsync_provider_register(&k_vt);
    ck_assert(rc == 0 || rc == IMGSYNC_EEXISTS);
}

static void server_stop(void)
{
    if (g_pid > 0) {
        kill(g_pid, SIGTERM);
        waitpid(g_pid, NULL, 0);
        g_pid = 0;
    }
}

static const char *line_value(const char *dump, const char *name)
{
    static char v[256];
    size_t n = strlen(name);
    for (const char *p = dump; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
        if (!strncmp(p, name, n) && p[n] == ':') {
            const char *b = p + n + 2, *e = strchr(b, '\n');
            snprintf(v, sizeof(v), "%.*s", (int)(e ? e - b : (long)strlen(b)), b);
            return v;
        }
    return NULL;
}

START_TEST(test_sign_sees_what_is_sent)
{
    g_case = &k_cases[_i];
    g_signed[0] = g_got[0] = '\0';
    g_sign_calls = g_status = 0;
    char ep[64];
    snprintf(ep, sizeof(ep), "http://127.0.0.1:%d", g_port);
    imgsync_ctx *ctx;
    imgsync_provider *p;
    uint64_t id;
    ck_assert_int_eq(imgsync_ctx_new(&ctx, NULL), 0);
    ck_assert_int_eq(imgsync_provider_new(&p, ctx, "enginewire", "w"), 0);
    ck_assert_int_eq(imgsync_provider_set(p, "endpoint", ep), 0);
    ck_assert_int_eq(imgsync_sync_start(ctx, NULL, &id), 0);
    ck_assert_int_eq(imgsync_task_wait(ctx, id, 10000), 0);
    imgsync_ctx_free(ctx);
    ck_assert_int_eq(g_sign_calls, 1);
    ck_assert_int_eq(g_status, 200);
    ck_assert_msg(!strcmp(g_signed, g_got), "%s %s: the sign hook saw\n%s\nthe server got\n%s", g_case->method,
                  g_case->body ? "with a body" : "without a body", g_signed, g_got);
    const char *cl = line_value(g_got, "content-length");
    if (g_case->content_length)
        ck_assert_msg(cl && !strcmp(cl, g_case->content_length), "%s: Content-Length %s", g_case->method,
                      cl ? cl : "(none)");
    else
        ck_assert_msg(!cl, "%s without a body sent Content-Length: %s", g_case->method, cl);
}
END_TEST

Suite *engine_wire_suite(void)
{
    Suite *s = suite_create("engine_wire");
    TCase *tc = tcase_create("sign");
    tcase_add_unchecked_fixture(tc, server_start, server_stop);
    tcase_add_loop_test(tc, test_sign_sees_what_is_sent, 0, (int)(sizeof(k_cases) / sizeof(k_cases[0])));
    suite_add_tcase(s, tc);
    return s;
}

IMGSYNC_TEST_MAIN(engine_wire_suite)
