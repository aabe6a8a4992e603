/* Integration suites against an emulator: see emulator_suite.h. */
#include "support/emulator_suite.h"

#include <check.h>
#include <stdint.h>

void es_start(ef_emulator *e, const char *script, const char *dataset, const char *generate)
{
    ck_assert_msg(ef_start(e, script, dataset, generate, NULL, NULL) == 0, "cannot start %s", script);
}

void es_setup(ef_emulator *e, imgsync_ctx **ctx)
{
    ck_assert_int_eq(ef_reset(e), 0);
    ck_assert_int_eq(imgsync_ctx_new(ctx, NULL), 0);
}

void es_teardown(ef_emulator *e, imgsync_ctx **ctx)
{
    imgsync_ctx_free(*ctx);
    *ctx = NULL;
    long leaks = ef_leaks(e);
    ck_assert_msg(leaks == 0 || leaks == -2, "the emulator saw %ld secrets where they do not belong", leaks);
}

void es_set(imgsync_ctx *ctx, imgsync_provider *p, const char *key, const char *value)
{
    int rc = imgsync_provider_set(p, key, value);
    ck_assert_msg(rc == 0, "set %s: %s", key, imgsync_ctx_errmsg(ctx));
}

imgsync_task *es_sync(imgsync_ctx *ctx, const imgsync_request *req, int wait_ms)
{
    uint64_t id = 0;
    int rc = imgsync_sync_start(ctx, req, &id);
    ck_assert_msg(rc == 0, "imgsync_sync_start: %s", imgsync_ctx_errmsg(ctx));
    ck_assert_int_eq(imgsync_task_wait(ctx, id, wait_ms), 0);
    imgsync_task *t = NULL;
    ck_assert_int_eq(imgsync_task_get(&t, ctx, id), 0);
    return t;
}

void es_expect_state(const imgsync_task *t, int state)
{
    ck_assert_msg(imgsync_task_state_of(t) == state, "task %s, want %s: %s (%zu errors, first '%s')",
                  imgsync_task_state_name(imgsync_task_state_of(t)), imgsync_task_state_name(state),
                  imgsync_task_registry_reason(t, 0), imgsync_task_error_count(t),
                  imgsync_task_error_count(t) ? imgsync_task_error_message(t, 0) : "");
}
