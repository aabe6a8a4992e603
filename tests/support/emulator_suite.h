/*
 * Check suites that sync a context against one of the API emulators (test_swr.c, test_swr_ee.c,
 * test_jfrog.c): one emulator per suite (an unchecked fixture), a fresh context per test after
 * resetting the emulator, and the calls every such test makes. Every function fails the current
 * Check test on error.
 */
#ifndef IMGSYNC_TESTS_EMULATOR_SUITE_H
#define IMGSYNC_TESTS_EMULATOR_SUITE_H

#include "imgsync.h"
#include "support/emulator_fixture.h"

/* Start `script` on `dataset` (and a --generate spec, or NULL). */
void es_start(ef_emulator *e, const char *script, const char *dataset, const char *generate);
/* Reset the emulator (dataset, faults, stats, config) and make a new context in *ctx. */
void es_setup(ef_emulator *e, imgsync_ctx **ctx);
/* Free *ctx; the emulator saw no secret where it does not belong (when it checks). */
void es_teardown(ef_emulator *e, imgsync_ctx **ctx);
/* imgsync_provider_set that must succeed. */
void es_set(imgsync_ctx *ctx, imgsync_provider *p, const char *key, const char *value);
/* Start a sync of `req` (NULL: everything), wait up to wait_ms for it, return its status. */
imgsync_task *es_sync(imgsync_ctx *ctx, const imgsync_request *req, int wait_ms);
/* The task is in `state` (else its state, reason and first error are shown). */
void es_expect_state(const imgsync_task *t, int state);

#endif
