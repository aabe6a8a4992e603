/* Provider SPI: secrets kept across runs (imgsync_run_keep_secret / imgsync_run_kept_secret):
 * found again by a later run of the same registry with the same options only, until they
 * expire (the context's clock), forgotten on request, redacted like run secrets, keys checked.
 * Test kind SPI2_KIND (tests/support/spi_provider.c), driven by the replay harness. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "imgsync.h"
#include "imgsync/sys/provider.h"
#include "support/replay.h"
#include "support/spi_provider.h"

Suite *kept_secrets_suite(void);

#define EP "https://api.example.com"
#define TOKEN "tok-7f3a9c2e41d8"
#define HOUR_MS (3600 * 1000)

static replay *R;

static void setup(void)
{
    R = replay_new();
    ck_assert_ptr_nonnull(R);
    spi_reset();
    ck_assert_int_eq(spi_register_kinds(), 0);
}

static void teardown(void)
{
    replay_free(R);
    R = NULL;
    spi_reset();
}

/* What the start hook of the next run does, and what it found. */
static struct {
    const char *keep;     /* value to keep under "iam_token" (NULL: keep nothing) */
    int64_t keep_for_ms;  /* its lifetime from now */
    int forget;           /* forget "iam_token" */
    int fail_with_found;  /* fail the run with a message quoting what it found */
    char found[64];       /* what imgsync_run_kept_secret gave ("" = NULL) */
    int64_t found_expires;
    int keep_rc;
} K;

static int kept_start(imgsync_run *run)
{
    int64_t exp = -1;
    const char *v = imgsync_run_kept_secret(run, "iam_token", &exp);
    snprintf(K.found, sizeof(K.found), "%s", v ? v : "");
    K.found_expires = v ? exp : -1;
    if (K.keep)
        K.keep_rc = imgsync_run_keep_secret(run, "iam_token", K.keep, imgsync_run_now_ms(run) + K.keep_for_ms);
    if (K.forget)
        K.keep_rc = imgsync_run_keep_secret(run, "iam_token", NULL, 0);
    if (K.fail_with_found) {
        char msg[128];
        snprintf(msg, sizeof(msg), "IAM said: token %s is bad", K.found);
        imgsync_run_fail(run, IMGSYNC_EAUTH, msg);
        return IMGSYNC_EAUTH;
    }
    return 0;
}

static const spi_hooks HOOKS = {kept_start, NULL, NULL, NULL};

static imgsync_provider *P;

static void add(const char *name)
{
    spi_hooks_set(&HOOKS);
    P = replay_add_provider(R, SPI2_KIND, name, EP);
    ck_assert_ptr_nonnull(P);
    ck_assert_int_eq(imgsync_provider_set(P, "region", "cn-north-4"), 0);
}

static void run_once(void)
{
    uint64_t id;
    K.found[0] = '\0';
    K.found_expires = -1;
    ck_assert_int_eq(replay_sync(R, NULL, &id), 0);
}

START_TEST(kept_for_the_next_run)
{
    add("reg");
    K.keep = TOKEN;
    K.keep_for_ms = HOUR_MS;
    run_once();
    ck_assert_str_eq(K.found, ""); /* nothing kept before the first run */
    ck_assert_int_eq(K.keep_rc, 0);
    K.keep = NULL;
    run_once();
    ck_assert_str_eq(K.found, TOKEN);
    ck_assert_int_eq(K.found_expires, replay_clock(R)->wall_ms + HOUR_MS);
    run_once(); /* still there: reading does not consume it */
    ck_assert_str_eq(K.found, TOKEN);
}
END_TEST

START_TEST(other_options_or_registry_miss)
{
    add("reg");
    ck_assert_int_eq(imgsync_provider_set(P, "sk", "first-secret"), 0);
    K.keep = TOKEN;
    K.keep_for_ms = HOUR_MS;
    run_once();
    K.keep = NULL;
    ck_assert_int_eq(imgsync_provider_set(P, "sk", "another-secret"), 0); /* e.g. another password */
    run_once();
    ck_assert_str_eq(K.found, "");
    ck_assert_int_eq(imgsync_provider_set(P, "mode", "x"), 0); /* one option more */
    ck_assert_int_eq(imgsync_provider_set(P, "sk", "first-secret"), 0);
    run_once();
    ck_assert_str_eq(K.found, "");
    ck_assert_int_eq(imgsync_provider_set(P, "mode", NULL), 0); /* the options of the first run again */
    run_once();
    ck_assert_str_eq(K.found, TOKEN);
    /* a second registry with the same options but another name */
    ck_assert_int_eq(imgsync_provider_free(P), 0);
    add("reg2");
    run_once();
    ck_assert_str_eq(K.found, "");
}
END_TEST

START_TEST(expired_or_forgotten)
{
    add("reg");
    K.keep = TOKEN;
    K.keep_for_ms = 10000;
    run_once();
    K.keep = NULL;
    fake_clock_advance(replay_clock(R), 9000);
    run_once();
    ck_assert_str_eq(K.found, TOKEN);
    fake_clock_advance(replay_clock(R), 1000); /* expires_ms reached */
    run_once();
    ck_assert_str_eq(K.found, "");
    /* kept again, then forgotten */
    K.keep = TOKEN;
    K.keep_for_ms = HOUR_MS;
    run_once();
    K.keep = NULL;
    K.forget = 1;
    run_once();
    ck_assert_str_eq(K.found, TOKEN);
    ck_assert_int_eq(K.keep_rc, 0);
    K.forget = 0;
    run_once();
    ck_assert_str_eq(K.found, "");
    /* a lifetime already over keeps nothing */
    K.keep = TOKEN;
    K.keep_for_ms = 0;
    run_once();
    K.keep = NULL;
    run_once();
    ck_assert_str_eq(K.found, "");
}
END_TEST

/* A kept value is a secret of every run that reads it: redacted from its texts. */
START_TEST(kept_value_redacted)
{
    add("reg");
    K.keep = TOKEN;
    K.keep_for_ms = HOUR_MS;
    run_once();
    K.keep = NULL;
    K.fail_with_found = 1;
    uint64_t id;
    ck_assert_int_eq(replay_sync(R, NULL, &id), 0);
    ck_assert_str_eq(K.found, TOKEN);
    spi_task t = spi_task_get(R, id);
    ck_assert_int_eq(t.state, IMGSYNC_TASK_FAILED);
    ck_assert(spi_task_mentions(&t, "IAM said"));
    ck_assert(!spi_task_mentions(&t, TOKEN));
    spi_task_clear(&t);
}
END_TEST

static int bad_keys_start(imgsync_run *run)
{
    char long_key[80];
    memset(long_key, 'a', 65);
    long_key[65] = '\0';
    const char *bad[] = {"", "Token", "a b", "tok\n", long_key, NULL};
    int i = 0;
    for (; bad[i]; i++) {
        spi_state.rc[i] = imgsync_run_keep_secret(run, bad[i], "v", imgsync_run_now_ms(run) + 1000);
        ck_assert_ptr_null(imgsync_run_kept_secret(run, bad[i], NULL));
    }
    spi_state.rc[i] = imgsync_run_keep_secret(run, NULL, "v", imgsync_run_now_ms(run) + 1000);
    spi_state.rc[i + 1] = imgsync_run_keep_secret(run, "a-z_0.9", "v", imgsync_run_now_ms(run) + 1000);
    return 0;
}

START_TEST(bad_keys_refused)
{
    static const spi_hooks h = {bad_keys_start, NULL, NULL, NULL};
    spi_hooks_set(&h);
    ck_assert_ptr_nonnull(replay_add_provider(R, SPI2_KIND, "reg", EP));
    uint64_t id;
    ck_assert_int_eq(replay_sync(R, NULL, &id), 0);
    for (int i = 0; i < 6; i++)
        ck_assert_int_eq(spi_state.rc[i], IMGSYNC_EINVAL);
    ck_assert_int_eq(spi_state.rc[6], 0);
}
END_TEST

Suite *kept_secrets_suite(void)
{
    Suite *s = suite_create("kept_secrets");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, kept_for_the_next_run);
    tcase_add_test(tc, other_options_or_registry_miss);
    tcase_add_test(tc, expired_or_forgotten);
    tcase_add_test(tc, kept_value_redacted);
    tcase_add_test(tc, bad_keys_refused);
    suite_add_tcase(s, tc);
    return s;
}

IMGSYNC_TEST_MAIN(kept_secrets_suite)
