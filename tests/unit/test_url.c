/* Unit tests for src/util/url.c. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "imgsync.h"
#include "util/url.h"

Suite *url_suite(void);

/* Resolve and compare; NULL `want` means resolution must fail. */
static void check_resolve(const char *base, const char *ref, const char *want)
{
    char *got = imgsync__url_resolve(base, ref);
    if (want) {
        ck_assert_msg(got != NULL, "resolve(%s, %s) failed", base, ref);
        ck_assert_msg(strcmp(got, want) == 0, "resolve(%s, %s) = %s, want %s", base, ref, got, want);
    } else {
        ck_assert_msg(got == NULL, "resolve(%s, %s) = %s, want failure", base, ref, got);
    }
    free(got);
}

START_TEST(test_parse_basic)
{
    imgsync__url u;
    ck_assert_int_eq(imgsync__url_parse(&u, "HTTPS://Registry.Example.COM:5000/v2/_catalog?n=2&last=a#frag"), 0);
    ck_assert_str_eq(u.scheme, "https");
    ck_assert_str_eq(u.host, "registry.example.com");
    ck_assert_int_eq(u.port, 5000);
    ck_assert_str_eq(u.path, "/v2/_catalog");
    ck_assert_str_eq(u.query, "n=2&last=a");
    ck_assert_int_eq(imgsync__url_effective_port(&u), 5000);
    imgsync__url_clear(&u);
    ck_assert_ptr_null(u.host);

    ck_assert_int_eq(imgsync__url_parse(&u, "http://registry"), 0);
    ck_assert_str_eq(u.scheme, "http");
    ck_assert_str_eq(u.host, "registry");
    ck_assert_int_eq(u.port, -1);
    ck_assert_str_eq(u.path, "/");
    ck_assert_ptr_null(u.query);
    ck_assert_int_eq(imgsync__url_effective_port(&u), 80);
    imgsync__url_clear(&u);

    ck_assert_int_eq(imgsync__url_parse(&u, "https://r?"), 0);
    ck_assert_str_eq(u.path, "/");
    ck_assert_str_eq(u.query, ""); /* present but empty */
    ck_assert_int_eq(imgsync__url_effective_port(&u), 443);
    imgsync__url_clear(&u);

    /* Path kept as written (escapes and dot segments are not touched). */
    ck_assert_int_eq(imgsync__url_parse(&u, "http://my_registry:5000/v2/a%2Fb/./c"), 0);
    ck_assert_str_eq(u.host, "my_registry");
    ck_assert_str_eq(u.path, "/v2/a%2Fb/./c");
    imgsync__url_clear(&u);

    /* Port limits and leading zeros. */
    ck_assert_int_eq(imgsync__url_parse(&u, "http://h:65535/"), 0);
    ck_assert_int_eq(u.port, 65535);
    imgsync__url_clear(&u);
    ck_assert_int_eq(imgsync__url_parse(&u, "http://h:1"), 0);
    ck_assert_int_eq(u.port, 1);
    imgsync__url_clear(&u);
    ck_assert_int_eq(imgsync__url_parse(&u, "http://h:080"), 0);
    ck_assert_int_eq(u.port, 80);
    imgsync__url_clear(&u);
}
END_TEST

START_TEST(test_parse_ipv6)
{
    imgsync__url u;
    ck_assert_int_eq(imgsync__url_parse(&u, "http://[::1]:5000/v2/"), 0);
    ck_assert_str_eq(u.host, "::1");
    ck_assert_int_eq(u.port, 5000);
    ck_assert_str_eq(u.path, "/v2/");
    imgsync__url_clear(&u);

    ck_assert_int_eq(imgsync__url_parse(&u, "https://[2001:DB8::A]/x"), 0);
    ck_assert_str_eq(u.host, "2001:db8::a");
    ck_assert_int_eq(u.port, -1);
    imgsync__url_clear(&u);

    ck_assert_int_eq(imgsync__url_parse(&u, "http://[::ffff:10.0.0.1]"), 0);
    ck_assert_str_eq(u.host, "::ffff:10.0.0.1");
    imgsync__url_clear(&u);
}
END_TEST

START_TEST(test_parse_rejects)
{
    static const char *bad[] = {
        "",
        "registry:5000/v2/",
        "/v2/_catalog",
        "//host/x",
        "ftp://host/x",
        "file:///etc/passwd",
        "http:/host/x",
        "http:host",
        "http://",
        "http:///x",
        "http://:5000/",
        "http://user:pw@host/x",
        "http://user@host/",
        "http://@host/",
        "http://host:0/",
        "http://host:65536/",
        "http://host:99999999999999999999/",
        "http://host:/",
        "http://host:-1/",
        "http://host:+80/",
        "http://host:80a/",
        "http://host:8 0/",
        "http://host:80:81/",
        "http://ho st/",
        "http://host/a b",
        "http://host/a\tb",
        "http://host/a\r\nX-Injected: 1",
        "http://host/\x7f",
        "http://host/\x01",
        " http://host/",
        "http://host/ ",
        "http://ho%73t/",
        "http://host\\@evil/",
        "http://evil\\.good/",
        "http://[::1/",
        "http://[::1]x/",
        "http://[]/",
        "http://[not-ipv6]/",
        "http://[1.2.3.4]/",
        "http://[fe80::1%25eth0]/",
        "http://::1/",
        "http://[::1]:/",
        "http://[::1]:70000/",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        imgsync__url u;
        memset(&u, 0xAB, sizeof(u)); /* garbage in, must come back cleared */
        int rc = imgsync__url_parse(&u, bad[i]);
        ck_assert_msg(rc == IMGSYNC_EINVAL, "parse(%s) = %d, want EINVAL", bad[i], rc);
        ck_assert_ptr_null(u.scheme);
        ck_assert_ptr_null(u.host);
        ck_assert_ptr_null(u.path);
        ck_assert_ptr_null(u.query);
        imgsync__url_clear(&u); /* harmless on a cleared struct */
    }
    imgsync__url u;
    ck_assert_int_eq(imgsync__url_parse(&u, NULL), IMGSYNC_EINVAL);
    ck_assert_int_eq(imgsync__url_parse(NULL, "http://h/"), IMGSYNC_EINVAL);
    imgsync__url_clear(NULL);
    ck_assert_int_eq(imgsync__url_effective_port(NULL), -1);
}
END_TEST

START_TEST(test_parse_long)
{
    /* A very long but valid URL, then the same with a space at the very end. */
    size_t n = 200000;
    char *s = malloc(n + 32);
    ck_assert_ptr_nonnull(s);
    strcpy(s, "http://h/");
    memset(s + 9, 'a', n);
    s[9 + n] = '\0';
    imgsync__url u;
    ck_assert_int_eq(imgsync__url_parse(&u, s), 0);
    ck_assert_uint_eq(strlen(u.path), n + 1);
    imgsync__url_clear(&u);
    strcat(s, " ");
    ck_assert_int_eq(imgsync__url_parse(&u, s), IMGSYNC_EINVAL);
    free(s);
}
END_TEST

/* RFC 3986 section 5.4.1, with fragments dropped. */
START_TEST(test_resolve_rfc_normal)
{
    const char *b = "http://a/b/c/d;p?q";
    check_resolve(b, "g", "http://a/b/c/g");
    check_resolve(b, "./g", "http://a/b/c/g");
    check_resolve(b, "g/", "http://a/b/c/g/");
    check_resolve(b, "/g", "http://a/g");
    check_resolve(b, "//g", "http://g");
    check_resolve(b, "?y", "http://a/b/c/d;p?y");
    check_resolve(b, "g?y", "http://a/b/c/g?y");
    check_resolve(b, "#s", "http://a/b/c/d;p?q");
    check_resolve(b, "g#s", "http://a/b/c/g");
    check_resolve(b, "g?y#s", "http://a/b/c/g?y");
    check_resolve(b, ";x", "http://a/b/c/;x");
    check_resolve(b, "g;x", "http://a/b/c/g;x");
    check_resolve(b, "g;x?y#s", "http://a/b/c/g;x?y");
    check_resolve(b, "", "http://a/b/c/d;p?q");
    check_resolve(b, ".", "http://a/b/c/");
    check_resolve(b, "./", "http://a/b/c/");
    check_resolve(b, "..", "http://a/b/");
    check_resolve(b, "../", "http://a/b/");
    check_resolve(b, "../g", "http://a/b/g");
    check_resolve(b, "../..", "http://a/");
    check_resolve(b, "../../", "http://a/");
    check_resolve(b, "../../g", "http://a/g");
}
END_TEST

/* RFC 3986 section 5.4.2. */
START_TEST(test_resolve_rfc_abnormal)
{
    const char *b = "http://a/b/c/d;p?q";
    check_resolve(b, "../../../g", "http://a/g");
    check_resolve(b, "../../../../g", "http://a/g");
    check_resolve(b, "/./g", "http://a/g");
    check_resolve(b, "/../g", "http://a/g");
    check_resolve(b, "g.", "http://a/b/c/g.");
    check_resolve(b, ".g", "http://a/b/c/.g");
    check_resolve(b, "g..", "http://a/b/c/g..");
    check_resolve(b, "..g", "http://a/b/c/..g");
    check_resolve(b, "./../g", "http://a/b/g");
    check_resolve(b, "./g/.", "http://a/b/c/g/");
    check_resolve(b, "g/./h", "http://a/b/c/g/h");
    check_resolve(b, "g/../h", "http://a/b/c/h");
    check_resolve(b, "g;x=1/./y", "http://a/b/c/g;x=1/y");
    check_resolve(b, "g;x=1/../y", "http://a/b/c/y");
    check_resolve(b, "g?y/./x", "http://a/b/c/g?y/./x");
    check_resolve(b, "g?y/../x", "http://a/b/c/g?y/../x");
    check_resolve(b, "g#s/./x", "http://a/b/c/g");
    check_resolve(b, "g#s/../x", "http://a/b/c/g");
    /* Strict parser: "http:g" is an absolute reference, and not a valid http URL. */
    check_resolve(b, "http:g", NULL);
    /* Non-http schemes cannot be a target. */
    check_resolve(b, "g:h", NULL);
}
END_TEST

START_TEST(test_resolve_registry)
{
    /* docker-registry and Harbor pagination links. */
    check_resolve("http://127.0.0.1:5000/v2/_catalog?n=2", "/v2/_catalog?last=b&n=2",
                  "http://127.0.0.1:5000/v2/_catalog?last=b&n=2");
    check_resolve("https://harbor.example/api/v2.0/projects?page=1&page_size=10",
                  "/api/v2.0/projects?page=3&page_size=10",
                  "https://harbor.example/api/v2.0/projects?page=3&page_size=10");
    check_resolve("http://[::1]:5000/v2/x/tags/list", "list?n=1", "http://[::1]:5000/v2/x/tags/list?n=1");
    /* Absolute and network-path references. */
    check_resolve("http://a/b", "https://c:8443/d/../e?f", "https://c:8443/e?f");
    check_resolve("http://a/b", "//c/d", "http://c/d");
    /* Base without a path. */
    check_resolve("http://a", "g", "http://a/g");
    check_resolve("http://a", "?x", "http://a?x");
    check_resolve("http://a", "", "http://a");
    /* Escapes are left alone. */
    check_resolve("http://a/b/", "c%2Fd?x=%20", "http://a/b/c%2Fd?x=%20");
}
END_TEST

START_TEST(test_resolve_rejects)
{
    const char *b = "http://a/b/c";
    check_resolve(b, "//user:pw@evil/x", NULL);
    check_resolve(b, "http://user@a/x", NULL);
    check_resolve(b, "g h", NULL);
    check_resolve(b, "g\r\nHost: evil", NULL);
    check_resolve(b, "///x", NULL);
    check_resolve(b, "//:80/x", NULL);
    check_resolve(b, "//a:0/x", NULL);
    check_resolve(b, "mailto:x@y", NULL);
    check_resolve(b, "javascript:alert(1)", NULL);
    check_resolve("/relative/base", "g", NULL);
    check_resolve("ftp://a/b", "g", NULL);
    check_resolve("http://u@a/b", "g", NULL);
    check_resolve(NULL, "g", NULL);
    check_resolve(b, NULL, NULL);
}
END_TEST

START_TEST(test_resolve_long)
{
    /* Many dot segments: must terminate and clamp at the root. */
    size_t reps = 20000;
    char *ref = malloc(reps * 3 + 2);
    ck_assert_ptr_nonnull(ref);
    for (size_t i = 0; i < reps; i++)
        memcpy(ref + i * 3, "../", 3);
    strcpy(ref + reps * 3, "g");
    check_resolve("http://a/b/c/d", ref, "http://a/g");
    free(ref);
}
END_TEST

START_TEST(test_same_origin)
{
    ck_assert_int_eq(imgsync__url_same_origin("http://a/x", "http://a/y?z"), 1);
    ck_assert_int_eq(imgsync__url_same_origin("http://A:80/x", "HTTP://a/y"), 1);
    ck_assert_int_eq(imgsync__url_same_origin("https://a/x", "https://a:443/"), 1);
    ck_assert_int_eq(imgsync__url_same_origin("http://[::1]:5000/", "http://[0:0::1]:5000/v2/"), 0);
    ck_assert_int_eq(imgsync__url_same_origin("http://[::1]:5000/", "http://[::1]:5000/v2/"), 1);
    ck_assert_int_eq(imgsync__url_same_origin("http://a/", "https://a/"), 0);
    ck_assert_int_eq(imgsync__url_same_origin("http://a/", "http://a:8080/"), 0);
    ck_assert_int_eq(imgsync__url_same_origin("https://a/", "http://a:443/"), 0);
    ck_assert_int_eq(imgsync__url_same_origin("http://a/", "http://b/"), 0);
    ck_assert_int_eq(imgsync__url_same_origin("http://a/", "http://a.evil/"), 0);
    ck_assert_int_eq(imgsync__url_same_origin("http://a/", "/relative"), 0);
    ck_assert_int_eq(imgsync__url_same_origin("http://a/", "http://u@a/"), 0);
    ck_assert_int_eq(imgsync__url_same_origin(NULL, "http://a/"), 0);
    ck_assert_int_eq(imgsync__url_same_origin("http://a/", NULL), 0);
}
END_TEST

static void check_hostport(const char *url, const char *want)
{
    char *got = imgsync__url_hostport(url);
    if (want) {
        ck_assert_msg(got != NULL, "hostport(%s) failed", url);
        ck_assert_str_eq(got, want);
    } else {
        ck_assert_ptr_null(got);
    }
    free(got);
}

START_TEST(test_origin)
{
    static const char *const cases[][2] = {
        {"https://reg.example/v2/x?y", "https://reg.example:443"},
        {"HTTP://Reg.Example/", "http://reg.example:80"},
        {"http://127.0.0.1:5000/a", "http://127.0.0.1:5000"},
        {"https://[::1]:8443/v2/", "https://[::1]:8443"},
        {"https://[::1]/", "https://[::1]:443"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *o = imgsync__url_origin(cases[i][0]);
        ck_assert_msg(o && !strcmp(o, cases[i][1]), "%s: %s", cases[i][0], o ? o : "(null)");
        free(o);
    }
    ck_assert_ptr_null(imgsync__url_origin("not a url"));
    ck_assert_ptr_null(imgsync__url_origin("/relative"));
}
END_TEST

START_TEST(test_hostport)
{
    check_hostport("http://Registry.Example/v2/", "registry.example");
    check_hostport("http://127.0.0.1:5000/v2/", "127.0.0.1:5000");
    check_hostport("https://r:443/", "r:443"); /* written, so kept */
    check_hostport("http://[::1]:5000/v2/", "[::1]:5000");
    check_hostport("https://[2001:db8::1]/", "[2001:db8::1]");
    check_hostport("registry:5000", NULL);
    check_hostport("http://u:p@r/", NULL);
    check_hostport(NULL, NULL);
}
END_TEST

START_TEST(test_loopback)
{
    ck_assert_int_eq(imgsync__url_is_loopback_host("localhost"), 1);
    ck_assert_int_eq(imgsync__url_is_loopback_host("LocalHost"), 1);
    ck_assert_int_eq(imgsync__url_is_loopback_host("localhost."), 1);
    ck_assert_int_eq(imgsync__url_is_loopback_host("registry.localhost"), 1);
    ck_assert_int_eq(imgsync__url_is_loopback_host("a.b.LOCALHOST"), 1);
    ck_assert_int_eq(imgsync__url_is_loopback_host("127.0.0.1"), 1);
    ck_assert_int_eq(imgsync__url_is_loopback_host("127.255.3.4"), 1);
    ck_assert_int_eq(imgsync__url_is_loopback_host("::1"), 1);
    ck_assert_int_eq(imgsync__url_is_loopback_host("0:0:0:0:0:0:0:1"), 1);
    ck_assert_int_eq(imgsync__url_is_loopback_host("[::1]"), 1);
    ck_assert_int_eq(imgsync__url_is_loopback_host("::ffff:127.0.0.1"), 1);

    ck_assert_int_eq(imgsync__url_is_loopback_host(NULL), 0);
    ck_assert_int_eq(imgsync__url_is_loopback_host(""), 0);
    ck_assert_int_eq(imgsync__url_is_loopback_host("."), 0);
    ck_assert_int_eq(imgsync__url_is_loopback_host("localhost.evil.com"), 0);
    ck_assert_int_eq(imgsync__url_is_loopback_host("evillocalhost"), 0);
    ck_assert_int_eq(imgsync__url_is_loopback_host("localhostx"), 0);
    ck_assert_int_eq(imgsync__url_is_loopback_host("128.0.0.1"), 0);
    ck_assert_int_eq(imgsync__url_is_loopback_host("10.127.0.1"), 0);
    ck_assert_int_eq(imgsync__url_is_loopback_host("127.0.0.1.evil.com"), 0);
    ck_assert_int_eq(imgsync__url_is_loopback_host("::2"), 0);
    ck_assert_int_eq(imgsync__url_is_loopback_host("::"), 0);
    ck_assert_int_eq(imgsync__url_is_loopback_host("::ffff:10.0.0.1"), 0);
    ck_assert_int_eq(imgsync__url_is_loopback_host("0.0.0.0"), 0);
    ck_assert_int_eq(imgsync__url_is_loopback_host("registry"), 0);
}
END_TEST

static void check_escape(const char *s, const char *keep, const char *want)
{
    char *got = imgsync__url_escape(s, keep);
    ck_assert_ptr_nonnull(got);
    ck_assert_str_eq(got, want);
    free(got);
}

START_TEST(test_escape)
{
    check_escape("", NULL, "");
    check_escape("AZaz09-._~", NULL, "AZaz09-._~");
    check_escape("library/alpine:3.19", NULL, "library%2Falpine%3A3.19");
    check_escape("library/alpine:3.19", "/:", "library/alpine:3.19");
    check_escape("repository:x/y:pull,push", "", "repository%3Ax%2Fy%3Apull%2Cpush");
    check_escape("a b+c&d=e?f#g%", NULL, "a%20b%2Bc%26d%3De%3Ff%23g%25");
    check_escape("\x01\x7f\x80\xff", NULL, "%01%7F%80%FF");
    check_escape("caf\xc3\xa9", NULL, "caf%C3%A9");
    ck_assert_ptr_null(imgsync__url_escape(NULL, NULL));
}
END_TEST

Suite *url_suite(void)
{
    Suite *s = suite_create("url");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_parse_basic);
    tcase_add_test(tc, test_parse_ipv6);
    tcase_add_test(tc, test_parse_rejects);
    tcase_add_test(tc, test_parse_long);
    tcase_add_test(tc, test_resolve_rfc_normal);
    tcase_add_test(tc, test_resolve_rfc_abnormal);
    tcase_add_test(tc, test_resolve_registry);
    tcase_add_test(tc, test_resolve_rejects);
    tcase_add_test(tc, test_resolve_long);
    tcase_add_test(tc, test_same_origin);
    tcase_add_test(tc, test_origin);
    tcase_add_test(tc, test_hostport);
    tcase_add_test(tc, test_loopback);
    tcase_add_test(tc, test_escape);
    suite_add_tcase(s, tc);
    return s;
}

#include "check_main.h"
IMGSYNC_TEST_MAIN(url_suite)
