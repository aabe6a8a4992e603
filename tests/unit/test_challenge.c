/* Unit tests for src/engine/challenge.c. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "engine/challenge.h"
#include "imgsync.h"

Suite *challenge_suite(void);

static void assert_opt_str(const char *what, const char *got, const char *want)
{
    if (!want) {
        ck_assert_msg(got == NULL, "%s = \"%s\", want NULL", what, got ? got : "");
        return;
    }
    ck_assert_msg(got != NULL, "%s is NULL, want \"%s\"", what, want);
    ck_assert_msg(strcmp(got, want) == 0, "%s = \"%s\", want \"%s\"", what, got, want);
}

/* Parse `value` and compare every field; the result is always freed. */
static void check_ok(const char *value, const char *scheme, const char *realm, const char *service,
                     const char *scope, const char *error)
{
    imgsync__challenge c;
    int rc = imgsync__challenge_parse(value, &c);
    ck_assert_msg(rc == 0, "parse(%s) = %d", value, rc);
    assert_opt_str("scheme", c.scheme, scheme);
    assert_opt_str("realm", c.realm, realm);
    assert_opt_str("service", c.service, service);
    assert_opt_str("scope", c.scope, scope);
    assert_opt_str("error", c.error, error);
    imgsync__challenge_clear(&c);
    ck_assert_ptr_null(c.scheme);
    ck_assert_ptr_null(c.realm);
}

static void check_bad(const char *value)
{
    imgsync__challenge c;
    memset(&c, 0xAB, sizeof(c)); /* must come back cleared */
    int rc = imgsync__challenge_parse(value, &c);
    ck_assert_msg(rc == IMGSYNC_EPROTOCOL, "parse(%s) = %d, want EPROTOCOL", value ? value : "NULL", rc);
    ck_assert_ptr_null(c.scheme);
    ck_assert_ptr_null(c.realm);
    ck_assert_ptr_null(c.service);
    ck_assert_ptr_null(c.scope);
    ck_assert_ptr_null(c.error);
}

START_TEST(test_docker_hub)
{
    check_ok("Bearer realm=\"https://auth.docker.io/token\",service=\"registry.docker.io\","
             "scope=\"repository:samalba/my-app:pull,push\"",
             "bearer", "https://auth.docker.io/token", "registry.docker.io", "repository:samalba/my-app:pull,push",
             NULL);
    /* With spaces, an error parameter and unknown parameters. */
    check_ok("Bearer realm=\"https://auth.example/token\", service=\"r\", scope=\"repository:a/b:pull\", "
             "error=\"insufficient_scope\", foo=bar",
             "bearer", "https://auth.example/token", "r", "repository:a/b:pull", "insufficient_scope");
    check_ok("Bearer realm=\"https://auth.example/token\",error=\"invalid_token\"", "bearer",
             "https://auth.example/token", NULL, NULL, "invalid_token");
}
END_TEST

START_TEST(test_basic_and_case)
{
    check_ok("Basic realm=\"basic-realm\"", "basic", "basic-realm", NULL, NULL, NULL);
    check_ok("Basic realm=basic-realm", "basic", "basic-realm", NULL, NULL, NULL);
    check_ok("BASIC REALM=\"x\"", "basic", "x", NULL, NULL, NULL);
    check_ok("bEaReR Realm=\"r\", SERVICE=\"s\", ScOpE=\"p\", Error=\"e\"", "bearer", "r", "s", "p", "e");
    /* BWS around '=' and surrounding OWS. */
    check_ok("  Bearer   realm = \"r\" ,  service= s  ", "bearer", "r", "s", NULL, NULL);
    /* Scheme alone. */
    check_ok("Bearer", "bearer", NULL, NULL, NULL, NULL);
    check_ok("Negotiate", "negotiate", NULL, NULL, NULL, NULL);
    /* Unquoted URL realm (not a token, but seen in the wild). */
    check_ok("Bearer realm=https://auth.example:8443/token?x=1,service=reg", "bearer",
             "https://auth.example:8443/token?x=1", "reg", NULL, NULL);
}
END_TEST

START_TEST(test_quoting)
{
    /* Escapes and commas inside quotes. */
    check_ok("Bearer realm=\"a\\\"b\\\\c\",scope=\"repository:x/y:pull,push,delete\"", "bearer", "a\"b\\c", NULL,
             "repository:x/y:pull,push,delete", NULL);
    check_ok("Basic realm=\"\\a\\b\\c\"", "basic", "abc", NULL, NULL, NULL);
    check_ok("Basic realm=\"\"", "basic", "", NULL, NULL, NULL);
    check_ok("Basic realm=\"with space\ttab\"", "basic", "with space\ttab", NULL, NULL, NULL);
    /* Something that looks like another parameter inside a quoted value. */
    check_ok("Bearer realm=\"x, service=evil\", service=\"good\"", "bearer", "x, service=evil", "good", NULL,
             NULL);
    /* Repeated parameter: the first one is kept. */
    check_ok("Bearer realm=\"first\", realm=\"second\"", "bearer", "first", NULL, NULL, NULL);
}
END_TEST

START_TEST(test_several_challenges)
{
    /* Bearer preferred wherever it is. */
    check_ok("Basic realm=\"b\", Bearer realm=\"https://a/token\",service=\"s\"", "bearer", "https://a/token", "s",
             NULL, NULL);
    check_ok("Bearer realm=\"https://a/token\", Basic realm=\"b\"", "bearer", "https://a/token", NULL, NULL, NULL);
    check_ok("Newauth realm=\"apps\", type=1, title=\"Login to \\\"apps\\\"\", Basic realm=\"simple\"", "newauth",
             "apps", NULL, NULL, NULL);
    /* First Bearer of several. */
    check_ok("Bearer realm=\"one\", Bearer realm=\"two\"", "bearer", "one", NULL, NULL, NULL);
    /* Schemes without parameters between others. */
    check_ok("Negotiate, NTLM, Basic realm=\"r\"", "negotiate", NULL, NULL, NULL, NULL);
    check_ok("Negotiate,Bearer realm=\"r\",Basic", "bearer", "r", NULL, NULL, NULL);
    /* token68 forms are tolerated. */
    check_ok("Negotiate YIIBhgYGKwYBBQUCoIIBejCCAXY=, Bearer realm=\"r\"", "bearer", "r", NULL, NULL, NULL);
    check_ok("Negotiate abc+/def==", "negotiate", NULL, NULL, NULL, NULL);
    check_ok("Basic realm=\"r\", Custom token68~value.x-y_z", "basic", "r", NULL, NULL, NULL);
    check_ok("Custom abc=  , Basic realm=x", "custom", NULL, NULL, NULL, NULL);
    /* "realm=" alone is grammatically a token68, not an empty parameter. */
    check_ok("Bearer realm=", "bearer", NULL, NULL, NULL, NULL);
    /* Empty list elements. */
    check_ok(", ,Basic realm=\"r\",, ,Bearer realm=\"t\" ,", "bearer", "t", NULL, NULL, NULL);
}
END_TEST

START_TEST(test_malformed)
{
    check_bad(NULL);
    check_bad("");
    check_bad("   ");
    check_bad(" , ,");
    check_bad("Bearer realm=\"unterminated");
    check_bad("Bearer realm=\"ends with backslash\\");
    check_bad("Bearer realm=\"escaped quote\\\"");
    check_bad("Bearer realm=\"ctl\x01\"");
    check_bad("Bearer realm=\"del\x7f\"");
    check_bad("Bearer realm= , service=s"); /* token68, then a stray parameter */
    check_bad("Bearer service=s, realm=");
    check_bad("Bearer realm=,service=x");
    check_bad("Bearer realm=\"r\" junk");
    check_bad("Bearer realm=\"r\"\"s\"");
    check_bad("Bearer foo bar");
    check_bad("Bearer realm=\"r\", =x");
    check_bad("Bearer \"quoted\"");
    check_bad("Bearer\"x\"");
    check_bad("Bearer=x");
    check_bad("=Bearer");
    check_bad("\"Bearer\"");
    check_bad("Bearer realm=r\x01");
    check_bad("Bearer abc, realm=x"); /* token68 then a stray parameter */
    /* A later malformed challenge spoils the whole value. */
    check_bad("Bearer realm=\"r\", Basic realm=\"open");
    check_bad("Basic realm=\"r\", Bearer realm=\"t\", ;");
    /* On error, an earlier result must not leak into *c (and must be freed). */
    check_bad("Basic realm=\"r\", Bearer realm=\"t\", service=\"s\" x");
}
END_TEST

START_TEST(test_long)
{
    /* Huge quoted value, then the same unterminated. */
    size_t n = 300000;
    char *v = malloc(n + 64);
    ck_assert_ptr_nonnull(v);
    strcpy(v, "Bearer realm=\"");
    size_t off = strlen(v);
    memset(v + off, 'a', n);
    v[off + n] = '\0';
    check_bad(v);
    strcpy(v + off + n, "\",service=\"s\"");
    imgsync__challenge c;
    ck_assert_int_eq(imgsync__challenge_parse(v, &c), 0);
    ck_assert_uint_eq(strlen(c.realm), n);
    ck_assert_str_eq(c.service, "s");
    imgsync__challenge_clear(&c);
    free(v);

    /* Very many challenges and parameters. */
    const char *item = "Basic realm=\"r\", x=y, ";
    size_t reps = 10000, il = strlen(item);
    char *h = malloc(reps * il + 64);
    ck_assert_ptr_nonnull(h);
    for (size_t i = 0; i < reps; i++)
        memcpy(h + i * il, item, il);
    strcpy(h + reps * il, "Bearer realm=\"last\"");
    check_ok(h, "bearer", "last", NULL, NULL, NULL);
    free(h);

    /* Very many commas. */
    char *commas = malloc(n + 1);
    ck_assert_ptr_nonnull(commas);
    memset(commas, ',', n);
    commas[n] = '\0';
    check_bad(commas);
    free(commas);
}
END_TEST

START_TEST(test_args)
{
    ck_assert_int_eq(imgsync__challenge_parse("Basic realm=x", NULL), IMGSYNC_EINVAL);
    imgsync__challenge_clear(NULL);
    imgsync__challenge c;
    memset(&c, 0, sizeof(c));
    imgsync__challenge_clear(&c); /* clearing a cleared struct is fine */
    imgsync__challenge_clear(&c);
}
END_TEST

Suite *challenge_suite(void)
{
    Suite *s = suite_create("challenge");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_docker_hub);
    tcase_add_test(tc, test_basic_and_case);
    tcase_add_test(tc, test_quoting);
    tcase_add_test(tc, test_several_challenges);
    tcase_add_test(tc, test_malformed);
    tcase_add_test(tc, test_long);
    tcase_add_test(tc, test_args);
    suite_add_tcase(s, tc);
    return s;
}

#include "check_main.h"
IMGSYNC_TEST_MAIN(challenge_suite)
