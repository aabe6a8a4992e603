/*
 * Scripted-response suites of one provider (test_swr_provider.c, test_swr_ee_provider.c): a
 * replay (tests/support/replay.h) per test, strings and tasks kept until the test ends, the
 * checks such suites share (task state and reason, unscripted requests, secrets never in a
 * status text or a request) and the Huawei AK/SK signature recomputed from what went on the wire.
 * Every function fails the current Check test on error.
 */
#ifndef IMGSYNC_TESTS_PROVIDER_HARNESS_H
#define IMGSYNC_TESTS_PROVIDER_HARNESS_H

#include <stddef.h>

#include "imgsync.h"
#include "support/replay.h"

/* A new replay for the test (checked fixture setup) / free it and everything kept (teardown). */
replay *ph_setup(void);
void ph_teardown(void);
/* A fresh replay in place of the test's (a second context within one test). */
replay *ph_renew(void);
/* A formatted string kept until ph_teardown. */
const char *ph_printf(const char *f, ...) __attribute__((format(printf, 1, 2)));
/* Sync with `req` (taken and freed; NULL = everything); the task's status, kept until teardown. */
imgsync_task *ph_sync(imgsync_request *req);

void ph_expect_state(const imgsync_task *t, int state);
/* The registry row's reason contains needle. */
void ph_expect_reason(const imgsync_task *t, const char *needle);
/* Every request had a scripted response (else the log is printed). */
void ph_expect_no_unexpected(void);
/* No status text quotes `secret`. */
void ph_expect_not_in_status(const imgsync_task *t, const char *secret);
/* The request never carries `s` in its URL, headers or body. */
void ph_expect_not_in_request(const replay_request *q, const char *s);
/* The request's Authorization is the SDK-HMAC-SHA256 signature of what went on the wire with
 * ak/sk at sdk_date, and it carries that X-Sdk-Date, X-Project-Id `project` and the JSON
 * Content-Type; the SK appears nowhere in it. */
void ph_expect_signed(const replay_request *q, const char *ak, const char *sk, const char *sdk_date,
                      const char *project);

#endif
