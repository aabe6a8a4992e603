/* review2 reproducer: a secret shorter than "***" (1 or 2 bytes) is redacted in place by
 * imgsync__text_redact, which writes 3 bytes over 1 and shifts the rest of the string right,
 * past the end of its allocation (heap-buffer-overflow under ASan). Reached through the SPI:
 * imgsync_run_add_secret accepts any non-empty value (and so does a 1-character password
 * option), and every error / row reason / note goes through imgsync__run_clean. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "imgsync.h"
#include "imgsync/sys/provider.h"
#include "support/replay.h"
#include "support/spi_provider.h"
#include "util/buf.h"
#include "util/text.h"

Suite *review2_redact_short_suite(void);

#define EP "https://api.example.com"

START_TEST(redact_one_byte_secret_stays_in_bounds)
{
    /* exactly the allocation imgsync__run_clean makes: strdup of the message */
    char *s = imgsync__strdup("x");
    ck_assert_ptr_nonnull(s);
    imgsync__text_redact(s, "x"); /* "***" + NUL into a 2-byte buffer */
    ck_assert_str_eq(s, "***");
    free(s);
}
END_TEST

static int short_secret_start(imgsync_run *run)
{
    ck_assert_int_eq(imgsync_run_add_secret(run, "e"), 0);
    imgsync_run_fail(run, IMGSYNC_EAUTH, "the registry refused the request: see the server log");
    return 0;
}

static int no_response(imgsync_run *run, imgsync_job *job, const imgsync_response *resp)
{
    (void)run;
    (void)job;
    (void)resp;
    return 0;
}

START_TEST(short_secret_in_run_error)
{
    replay *R = replay_new();
    ck_assert_ptr_nonnull(R);
    spi_reset();
    ck_assert_int_eq(spi_register_kinds(), 0);
    static const spi_hooks h = {short_secret_start, no_response, NULL, NULL};
    spi_hooks_set(&h);
    ck_assert_ptr_nonnull(replay_add_provider(R, SPI2_KIND, "short", EP));
    uint64_t id;
    ck_assert_int_eq(replay_sync(R, NULL, &id), 0); /* ASan: heap-buffer-overflow in text_redact */
    spi_task t = spi_task_get(R, id);
    ck_assert_int_eq(t.state, IMGSYNC_TASK_FAILED);
    spi_task_clear(&t);
    replay_free(R);
    spi_reset();
}
END_TEST

Suite *review2_redact_short_suite(void)
{
    Suite *s = suite_create("review2_redact_short");
    TCase *tc = tcase_create("redact");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, redact_one_byte_secret_stays_in_bounds);
    tcase_add_test(tc, short_secret_in_run_error);
    suite_add_tcase(s, tc);
    return s;
}

IMGSYNC_TEST_MAIN(review2_redact_short_suite)
