/* Redaction of secrets in place (util/text.c) and through the SPI. A secret shorter than "***"
 * once made the redaction write past the end of its buffer (heap-buffer-overflow under ASan):
 * imgsync_run_add_secret accepts any non-empty value, so does a 1-character password option, and
 * every error, row reason and note goes through the run's redaction. */
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

Suite *redact_suite(void);

#define EP "https://api.example.com"

/* `pattern` with every "HEX" replaced by 64 hex digits (malloc'd). */
static char *with_hex(const char *pattern)
{
    static const char hex[] = "0123456789abcdef0123456789ABCDEF0123456789abcdef0123456789abcdef";
    imgsync__buf b;
    imgsync__buf_init(&b);
    for (const char *p = pattern; *p;) {
        if (!strncmp(p, "HEX", 3)) {
            imgsync__buf_appends(&b, hex);
            p += 3;
        } else {
            imgsync__buf_appendc(&b, *p++);
        }
    }
    char *out = imgsync__buf_steal(&b);
    return out ? out : imgsync__strdup("");
}

/* Runs of 64+ hex digits (a request signature a server quotes back) go; digests, shorter runs
 * and runs inside words stay. */
START_TEST(hex_runs_redacted_but_digests_kept)
{
    static const char *const cases[][2] = {
        {"signature HEX does not match", "signature *** does not match"},
        {"Signature=HEX, x", "Signature=***, x"},
        {"HEX", "***"},
        {"HEXHEX", "***"},
        {"HEX and HEX.", "*** and ***."},
        {"manifest sha256:HEX unknown", "manifest sha256:HEX unknown"},
        {"tag sha256__HEX", "tag sha256__HEX"},
        {"id gHEX", "id gHEX"},
        {"short 0123456789abcdef0123456789abcdef ok", "short 0123456789abcdef0123456789abcdef ok"},
        {"", ""},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
        char *in = with_hex(cases[i][0]), *want = with_hex(cases[i][1]);
        ck_assert_str_eq(imgsync__text_redact_hex(in), want);
        free(in);
        free(want);
    }
}
END_TEST

START_TEST(redact_one_byte_secret_stays_in_bounds)
{
    /* exactly the allocation imgsync__run_clean makes: strdup of the message */
    char *s = imgsync__strdup("x");
    ck_assert_ptr_nonnull(s);
    imgsync__text_redact(s, "x"); /* once "***" + NUL into a 2-byte buffer */
    ck_assert_str_eq(s, "*");
    free(s);
}
END_TEST

static void expect_redacted(const char *text, const char *secret, const char *want)
{
    char *s = imgsync__strdup(text);
    ck_assert_ptr_nonnull(s);
    imgsync__text_redact(s, secret);
    ck_assert_msg(!strcmp(s, want), "'%s' without '%s': '%s', not '%s'", text, secret, s, want);
    free(s);
}

START_TEST(short_secrets_only_where_they_stand_alone)
{
    expect_redacted("HTTP 401: bad password 1 (user 1)", "1", "HTTP 401: bad password * (user *)");
    expect_redacted("ab abc xab ab", "ab", "** abc xab **");
    expect_redacted("Zq7 is wrong, Zq7x is not", "Zq7", "*** is wrong, Zq7x is not");
    /* four bytes and more: everywhere, even inside a word */
    expect_redacted("xxpw-1xx pw-1", "pw-1", "xx***xx ***");
    expect_redacted("aaaaaaaa", "aaaa", "******");
    expect_redacted("", "secret", "");
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
    /* "e" inside words is left alone: the message stays readable */
    ck_assert_msg(spi_task_mentions(&t, "the registry refused the request"), "%s", t.registry_reason);
    spi_task_clear(&t);
    replay_free(R);
    spi_reset();
}
END_TEST

Suite *redact_suite(void)
{
    Suite *s = suite_create("redact");
    TCase *tc = tcase_create("redact");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, redact_one_byte_secret_stays_in_bounds);
    tcase_add_test(tc, short_secrets_only_where_they_stand_alone);
    tcase_add_test(tc, short_secret_in_run_error);
    tcase_add_test(tc, hex_runs_redacted_but_digests_kept);
    suite_add_tcase(s, tc);
    return s;
}

IMGSYNC_TEST_MAIN(redact_suite)
