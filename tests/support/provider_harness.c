/* Scripted-response provider suites: see provider_harness.h. */
#include "support/provider_harness.h"

#include <check.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "providers/swr_sign.h"
#include "util/buf.h"

#define CT_JSON "application/json;charset=utf-8"

static replay *R;
static imgsync_task **TASKS; /* grows: a test may sync many times */
static size_t NTASKS;
static char *KEPT[512];
static size_t NKEPT;

replay *ph_setup(void)
{
    R = replay_new();
    ck_assert_ptr_nonnull(R);
    return R;
}

replay *ph_renew(void)
{
    replay_free(R);
    return ph_setup();
}

void ph_teardown(void)
{
    for (size_t i = 0; i < NTASKS; i++)
        imgsync_task_free(TASKS[i]);
    free(TASKS);
    TASKS = NULL;
    NTASKS = 0;
    replay_free(R);
    R = NULL;
    for (size_t i = 0; i < NKEPT; i++)
        free(KEPT[i]);
    NKEPT = 0;
}

const char *ph_printf(const char *f, ...)
{
    va_list ap;
    va_start(ap, f);
    char *s = imgsync__vasprintf(f, ap);
    va_end(ap);
    ck_assert_ptr_nonnull(s);
    ck_assert_uint_lt(NKEPT, sizeof(KEPT) / sizeof(KEPT[0]));
    KEPT[NKEPT++] = s;
    return s;
}

imgsync_task *ph_sync(imgsync_request *req)
{
    uint64_t id = 0;
    int rc = replay_sync(R, req, &id);
    imgsync_request_free(req);
    ck_assert_msg(rc == 0, "replay_sync: %s", imgsync_strerror(rc));
    imgsync_task *t = NULL;
    ck_assert_int_eq(imgsync_task_get(&t, replay_ctx(R), id), 0);
    imgsync_task **grown = realloc(TASKS, (NTASKS + 1) * sizeof(*grown));
    ck_assert_ptr_nonnull(grown);
    TASKS = grown;
    TASKS[NTASKS++] = t;
    return t;
}

void ph_expect_state(const imgsync_task *t, int state)
{
    ck_assert_msg(imgsync_task_state_of(t) == state, "task is %s, want %s (reason '%s', %zu errors, first '%s')",
                  imgsync_task_state_name(imgsync_task_state_of(t)), imgsync_task_state_name(state),
                  imgsync_task_registry_reason(t, 0), imgsync_task_error_count(t),
                  imgsync_task_error_count(t) ? imgsync_task_error_message(t, 0) : "");
}

void ph_expect_reason(const imgsync_task *t, const char *needle)
{
    ck_assert_msg(strstr(imgsync_task_registry_reason(t, 0), needle) != NULL, "reason '%s' lacks '%s'",
                  imgsync_task_registry_reason(t, 0), needle);
}

void ph_expect_no_unexpected(void)
{
    if (replay_unexpected(R)) {
        char *log = replay_log_text(R);
        ck_abort_msg("requests without a scripted response:\n%s", log ? log : "");
        free(log);
    }
}

void ph_expect_not_in_status(const imgsync_task *t, const char *secret)
{
    ck_assert_ptr_null(strstr(imgsync_task_registry_reason(t, 0), secret));
    ck_assert_ptr_null(strstr(imgsync_task_reason(t), secret));
    for (size_t i = 0; i < imgsync_task_error_count(t); i++)
        ck_assert_ptr_null(strstr(imgsync_task_error_message(t, i), secret));
}

void ph_expect_not_in_request(const replay_request *q, const char *s)
{
    ck_assert_ptr_null(strstr(q->url, s));
    for (size_t i = 0; i < q->nheaders; i++)
        ck_assert_msg(!strstr(q->headers[i].value, s), "%s carries a secret in %s", q->url, q->headers[i].name);
    size_t n = strlen(s);
    for (size_t i = 0; q->body_len >= n && i + n <= q->body_len; i++)
        ck_assert_msg(memcmp(q->body + i, s, n) != 0, "%s carries a secret in its body", q->url);
}

void ph_expect_signed(const replay_request *q, const char *ak, const char *sk, const char *sdk_date,
                      const char *project)
{
    const char *auth = replay_request_header(q, "Authorization");
    ck_assert_msg(auth != NULL, "%s has no Authorization", q->url);
    ck_assert_str_eq(replay_request_header(q, "X-Sdk-Date"), sdk_date);
    ck_assert_str_eq(replay_request_header(q, "X-Project-Id"), project);
    ck_assert_str_eq(replay_request_header(q, "Content-Type"), CT_JSON);
    const char *names[32], *values[32];
    size_t n = 0;
    for (size_t i = 0; i < q->nheaders; i++) {
        if (!strcasecmp(q->headers[i].name, "Authorization"))
            continue;
        ck_assert_uint_lt(n, 32);
        names[n] = q->headers[i].name;
        values[n++] = q->headers[i].value;
    }
    imgsync__swr_sign_req req = {q->method, q->url, names, values, n, q->body, q->body_len, ak, sk, sdk_date};
    char *want = NULL;
    ck_assert_int_eq(imgsync__swr_sign(&req, &want), 0);
    ck_assert_str_eq(auth, want);
    free(want);
    ph_expect_not_in_request(q, sk);
}
