/* Unit tests for src/util/link.c. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "imgsync.h"
#include "util/link.h"

Suite *link_suite(void);

/* link_find must return rc; on success *out must equal want (NULL: no such link). */
static void check_find(const char *header, const char *rel, int want_rc, const char *want)
{
    char *out = (char *)"sentinel";
    int rc = imgsync__link_find(header, rel, &out);
    ck_assert_msg(rc == want_rc, "find(%s, %s) = %d, want %d", header, rel, rc, want_rc);
    if (rc != 0 || !want) {
        ck_assert_msg(out == NULL, "find(%s, %s) left %s", header, rel, out ? out : "?");
        return;
    }
    ck_assert_msg(out != NULL, "find(%s, %s) found nothing", header, rel);
    ck_assert_str_eq(out, want);
    free(out);
}

static void check_next(const char *header, const char *req, int want_rc, const char *want)
{
    char *out = (char *)"sentinel";
    int rc = imgsync__link_next(header, req, &out);
    ck_assert_msg(rc == want_rc, "next(%s, %s) = %d, want %d", header, req, rc, want_rc);
    if (rc != 0 || !want) {
        ck_assert_msg(out == NULL, "next(%s) left a result", header);
        return;
    }
    ck_assert_msg(out != NULL, "next(%s) found nothing", header);
    ck_assert_str_eq(out, want);
    free(out);
}

START_TEST(test_find_registry_forms)
{
    check_find("</v2/_catalog?last=b&n=2>; rel=\"next\"", "next", 0, "/v2/_catalog?last=b&n=2");
    check_find("</v2/_catalog?last=b&n=2>; rel=next", "next", 0, "/v2/_catalog?last=b&n=2");
    check_find("</v2/_catalog?last=b&n=2>;rel=next", "next", 0, "/v2/_catalog?last=b&n=2");
    check_find("</v2/_catalog?last=b&n=2>  ;  rel = \"next\"  ", "next", 0, "/v2/_catalog?last=b&n=2");
    /* Harbor: two links, space before the comma. */
    const char *harbor = "</api/v2.0/projects?page=1&page_size=10>; rel=\"prev\" , "
                         "</api/v2.0/projects?page=3&page_size=10>; rel=\"next\"";
    check_find(harbor, "next", 0, "/api/v2.0/projects?page=3&page_size=10");
    check_find(harbor, "prev", 0, "/api/v2.0/projects?page=1&page_size=10");
    check_find(harbor, "last", 0, NULL);
    /* Absolute reference returned exactly as written. */
    check_find("<https://r.example/v2/_catalog?n=2&last=x%2Fy>; rel=\"next\"", "next", 0,
               "https://r.example/v2/_catalog?n=2&last=x%2Fy");
}
END_TEST

START_TEST(test_find_rel_matching)
{
    /* Case-insensitive rel values and parameter names. */
    check_find("</a>; rel=\"NEXT\"", "next", 0, "/a");
    check_find("</a>; REL=Next", "next", 0, "/a");
    check_find("</a>; Rel=\"next\"", "NeXt", 0, "/a");
    /* Several space-separated relation types. */
    check_find("</a>; rel=\"next last\"", "next", 0, "/a");
    check_find("</a>; rel=\"next last\"", "last", 0, "/a");
    check_find("</a>; rel=\"  prev\tnext  \"", "next", 0, "/a");
    check_find("</a>; rel=\"nextpage\"", "next", 0, NULL);
    check_find("</a>; rel=\"nex\"", "next", 0, NULL);
    check_find("</a>; rel=\"\"", "next", 0, NULL);
    /* Other parameters around rel, including a value that mentions next. */
    check_find("</a>; title=\"next, please; ok\"; rel=prev, </b>; type=\"text/html\"; rel=next", "next", 0,
               "/b");
    check_find("</a>; title=next", "next", 0, NULL);
    check_find("</a>; title*=UTF-8'de'n%c3%a4chstes; rel=next", "next", 0, "/a");
    /* Escapes inside quoted values. */
    check_find("</a>; rel=\"n\\ext\"", "next", 0, "/a");
    check_find("</a>; title=\"say \\\"hi\\\", rel=next\"; rel=prev", "next", 0, NULL);
    /* Only the first rel parameter counts (RFC 8288 3.3). */
    check_find("</a>; rel=prev; rel=next", "next", 0, NULL);
    check_find("</a>; rel; rel=next", "next", 0, NULL);
    /* The first matching link wins. */
    check_find("</a>; rel=next, </b>; rel=next", "next", 0, "/a");
    /* Commas inside <...> do not split. */
    check_find("</a?x=1,2>; rel=next", "next", 0, "/a?x=1,2");
    check_find("</a?x=1,2>; rel=prev, </b,c>; rel=next", "next", 0, "/b,c");
    /* Empty list elements and a link without parameters. */
    check_find(" , ,</a>, </b>; rel=next ,,", "next", 0, "/b");
    check_find("</a>", "next", 0, NULL);
    check_find("<>; rel=next", "next", 0, "");
}
END_TEST

START_TEST(test_find_empty_and_args)
{
    check_find(NULL, "next", 0, NULL);
    check_find("", "next", 0, NULL);
    check_find("   ", "next", 0, NULL);
    char *out = (char *)"x";
    ck_assert_int_eq(imgsync__link_find("</a>; rel=next", NULL, &out), IMGSYNC_EINVAL);
    ck_assert_ptr_null(out);
    ck_assert_int_eq(imgsync__link_find("</a>; rel=next", "", &out), IMGSYNC_EINVAL);
    ck_assert_int_eq(imgsync__link_find("</a>; rel=next", "next", NULL), IMGSYNC_EINVAL);
}
END_TEST

START_TEST(test_find_malformed)
{
    static const char *bad[] = {
        "/v2/_catalog?n=2; rel=next",
        "v2/_catalog>; rel=next",
        "</v2/_catalog?n=2; rel=next",
        "</v2/_catalog?n=2",
        "<",
        ">",
        "rel=next",
        "</a>; rel=\"next",
        "</a>; rel=\"next\\",
        "</a>; rel=\"next\\\"",
        "</a>; rel=\"ne\x01xt\"",
        "</a>; rel=next, </b",
        "</a>; rel=next, junk",
        "</a> junk; rel=next",
        "</a>; rel=next junk",
        "</a>; rel=",
        "</a>; rel=;",
        "</a>; =next",
        "</a>;",
        "</a>; ; rel=next",
        "</a>; rel=\"next\"x",
        "</a>; rel=next\x01",
        "</a>\x01",
        "</a>; rel=prev, <https://x/>; rel=\"unterminated",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        check_find(bad[i], "next", IMGSYNC_EPROTOCOL, NULL);
}
END_TEST

START_TEST(test_find_long)
{
    /* Many links, the match last; and a huge unterminated one. */
    const char *item = "</v2/_catalog?n=1&last=aaaaaaaa>; rel=\"prev\", ";
    size_t reps = 5000, il = strlen(item);
    char *h = malloc(reps * il + 64);
    ck_assert_ptr_nonnull(h);
    for (size_t i = 0; i < reps; i++)
        memcpy(h + i * il, item, il);
    strcpy(h + reps * il, "</last>; rel=\"next\"");
    check_find(h, "next", 0, "/last");
    strcpy(h + reps * il, "</last; rel=\"next\"");
    check_find(h, "next", IMGSYNC_EPROTOCOL, NULL);
    free(h);

    size_t n = 300000;
    char *q = malloc(n + 16);
    ck_assert_ptr_nonnull(q);
    strcpy(q, "</a>; rel=\"");
    memset(q + 11, 'x', n);
    q[11 + n] = '\0';
    check_find(q, "next", IMGSYNC_EPROTOCOL, NULL);
    free(q);
}
END_TEST

START_TEST(test_next_resolution)
{
    check_next("</v2/_catalog?last=b&n=2>; rel=\"next\"", "http://127.0.0.1:5000/v2/_catalog?n=2", 0,
               "http://127.0.0.1:5000/v2/_catalog?last=b&n=2");
    check_next("</api/v2.0/projects?page=1&page_size=10>; rel=\"prev\" , "
               "</api/v2.0/projects?page=3&page_size=10>; rel=\"next\"",
               "https://harbor.example/api/v2.0/projects?page=2&page_size=10", 0,
               "https://harbor.example/api/v2.0/projects?page=3&page_size=10");
    /* Relative path and query-only references. */
    check_next("<list?n=2&last=v1>; rel=next", "http://[::1]:5000/v2/lib/app/tags/list?n=2", 0,
               "http://[::1]:5000/v2/lib/app/tags/list?n=2&last=v1");
    check_next("<?n=2&last=v1>; rel=next", "http://r/v2/app/tags/list?n=2", 0,
               "http://r/v2/app/tags/list?n=2&last=v1");
    check_next("<../../_catalog?last=z>; rel=next", "http://r/v2/a/b?n=1", 0, "http://r/_catalog?last=z");
    /* Absolute on the same origin, default port spelled out or not. */
    check_next("<https://r.example:443/v2/_catalog?last=b>; rel=next", "https://r.example/v2/_catalog", 0,
               "https://r.example:443/v2/_catalog?last=b");
    check_next("<HTTP://R/v2/_catalog?last=b>; rel=next", "http://r:80/v2/_catalog", 0,
               "HTTP://R/v2/_catalog?last=b");
    /* No next link. */
    check_next("</a>; rel=prev", "http://r/v2/_catalog", 0, NULL);
    check_next(NULL, "http://r/v2/_catalog", 0, NULL);
    check_next("", "http://r/v2/_catalog", 0, NULL);
}
END_TEST

START_TEST(test_next_cross_origin)
{
    const char *req = "http://127.0.0.1:5000/v2/_catalog";
    check_next("<https://evil.example/v2/_catalog?n=2>; rel=\"next\"", req, IMGSYNC_EPROTOCOL, NULL);
    check_next("<//evil.example/v2/_catalog?n=2>; rel=\"next\"", req, IMGSYNC_EPROTOCOL, NULL);
    check_next("<https://127.0.0.1:5000/v2/_catalog?n=2>; rel=next", req, IMGSYNC_EPROTOCOL, NULL);
    check_next("<http://127.0.0.1:5001/v2/_catalog?n=2>; rel=next", req, IMGSYNC_EPROTOCOL, NULL);
    check_next("<http://127.0.0.1/v2/_catalog?n=2>; rel=next", req, IMGSYNC_EPROTOCOL, NULL);
    check_next("<http://localhost:5000/v2/_catalog?n=2>; rel=next", req, IMGSYNC_EPROTOCOL, NULL);
    check_next("<http://127.0.0.1:5000.evil/v2/>; rel=next", req, IMGSYNC_EPROTOCOL, NULL);
    /* Userinfo tricks and invalid targets. */
    check_next("<http://127.0.0.1:5000@evil.example/v2/>; rel=next", req, IMGSYNC_EPROTOCOL, NULL);
    check_next("<//user:pw@127.0.0.1:5000/v2/>; rel=next", req, IMGSYNC_EPROTOCOL, NULL);
    check_next("<ftp://127.0.0.1:5000/v2/>; rel=next", req, IMGSYNC_EPROTOCOL, NULL);
    /* Harbor sends its queries unescaped: they are re-encoded, not refused. */
    check_next("</v2/_catalog?last=a b>; rel=next", req, 0, "http://127.0.0.1:5000/v2/_catalog?last=a%20b");
    check_next("</api/v2.0/projects/p/repositories/r/artifacts?page=2&page_size=10&q=tags=~v 1>; rel=\"next\"",
               req, 0, "http://127.0.0.1:5000/api/v2.0/projects/p/repositories/r/artifacts?page=2&page_size=10&q=tags=~v%201");
    check_next("</v2/_catalog\r\nX: y>; rel=next", req, IMGSYNC_EPROTOCOL, NULL);
    /* A cross-origin link with another rel is irrelevant. */
    check_next("<https://evil.example/>; rel=prev, </v2/_catalog?last=b>; rel=next", req, 0,
               "http://127.0.0.1:5000/v2/_catalog?last=b");
    /* Malformed header. */
    check_next("</v2/_catalog?last=b; rel=next", req, IMGSYNC_EPROTOCOL, NULL);
    check_next("/v2/_catalog?last=b; rel=next", req, IMGSYNC_EPROTOCOL, NULL);
}
END_TEST

START_TEST(test_next_bad_request_url)
{
    check_next("</a>; rel=next", "/v2/_catalog", IMGSYNC_EINVAL, NULL);
    check_next("</a>; rel=next", NULL, IMGSYNC_EINVAL, NULL);
    ck_assert_int_eq(imgsync__link_next("</a>; rel=next", "http://r/", NULL), IMGSYNC_EINVAL);
}
END_TEST

Suite *link_suite(void)
{
    Suite *s = suite_create("link");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_find_registry_forms);
    tcase_add_test(tc, test_find_rel_matching);
    tcase_add_test(tc, test_find_empty_and_args);
    tcase_add_test(tc, test_find_malformed);
    tcase_add_test(tc, test_find_long);
    tcase_add_test(tc, test_next_resolution);
    tcase_add_test(tc, test_next_cross_origin);
    tcase_add_test(tc, test_next_bad_request_url);
    suite_add_tcase(s, tc);
    return s;
}

#include "check_main.h"
IMGSYNC_TEST_MAIN(link_suite)
