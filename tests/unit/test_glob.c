/* Unit tests for src/util/glob.c (doublestar glob matching). */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "imgsync.h"
#include "util/glob.h"

Suite *glob_suite(void);

/* Assert that pattern/text give `want`, with both in the failure message. */
#define MATCH(pat, txt, want)                                                                      \
    ck_assert_msg(imgsync__glob_match((pat), (txt)) == (want), "glob_match(\"%s\", \"%s\") != %d", \
                  (pat), (txt), (want))

/* A malloc'd string of n copies of c. */
static char *repeat(char c, size_t n)
{
    char *s = malloc(n + 1);
    ck_assert_ptr_nonnull(s);
    memset(s, c, n);
    s[n] = '\0';
    return s;
}

/* A malloc'd string of `count` copies of `unit` followed by `tail`. */
static char *repeat_str(const char *unit, size_t count, const char *tail)
{
    size_t ul = strlen(unit), tl = strlen(tail);
    char *s = malloc(ul * count + tl + 1);
    ck_assert_ptr_nonnull(s);
    for (size_t i = 0; i < count; i++)
        memcpy(s + i * ul, unit, ul);
    memcpy(s + ul * count, tail, tl + 1);
    return s;
}

START_TEST(test_harbor_vectors)
{
    MATCH("*", "library/hello-world", 0);
    MATCH("**", "library/hello-world", 1);
    MATCH("library/*", "library/hello-world", 1);
    MATCH("{library,harbor}/**", "library/a/b", 1);
    MATCH("{library,harbor}/**", "harbor/x", 1);
    MATCH("{library,harbor}/**", "other/x", 0);
    MATCH("1.?", "1.01", 0);
    MATCH("1.?", "1.0", 1);
    MATCH("v2.[4-6].*", "v2.5.1", 1);
    MATCH("v2.[4-6].*", "v2.7.1", 0);
    MATCH("a/**", "a/b/c", 1);
    MATCH("**/app", "team/app", 1);
    MATCH("**/app", "org/team/app", 1);
    MATCH("[!a]", "/", 0);
}
END_TEST

START_TEST(test_empty_and_literal)
{
    MATCH("", "", 1);
    MATCH("", "a", 0);
    MATCH("a", "", 0);
    MATCH("abc", "abc", 1);
    MATCH("abc", "abd", 0);
    MATCH("abc", "ab", 0);
    MATCH("ab", "abc", 0);
    MATCH("Library", "library", 0); /* case-sensitive */
    /* '}' and ',' outside braces are ordinary bytes */
    MATCH("a}b", "a}b", 1);
    MATCH("a,b", "a,b", 1);
    MATCH("a]b", "a]b", 1);
    MATCH("}", "}", 1);
}
END_TEST

START_TEST(test_star)
{
    MATCH("*", "", 1);
    MATCH("*", "abc", 1);
    MATCH("*", "/", 0);
    MATCH("*", "a/b", 0);
    MATCH("a*", "a", 1);
    MATCH("a*c", "abbbc", 1);
    MATCH("a*c", "abbb", 0);
    MATCH("a*c", "ab/c", 0);
    MATCH("*/*", "a/b", 1);
    MATCH("*/*", "a/b/c", 0);
    MATCH("*.tar.gz", "x.tar.gz", 1);
    MATCH("*a*b", "xaxxb", 1);
    MATCH("*a*b", "xaxxbc", 0);
    MATCH("library/*", "library/", 1);
}
END_TEST

START_TEST(test_doublestar)
{
    MATCH("**", "", 1);
    MATCH("**", "/", 1);
    MATCH("**", "a/b/c/d", 1);
    MATCH("***", "a/b", 1); /* any run of two or more stars is a doublestar */
    MATCH("a/**", "a", 0);  /* the header says so: the pattern needs the slash */
    MATCH("a/**", "a/", 1);
    MATCH("a/**", "b/c", 0);
    MATCH("a/**/b", "a/x/y/b", 1);
    MATCH("a/**/b", "a/x/b", 1);
    MATCH("a/**/b", "a/b", 0); /* "**" is a run of characters, so both '/' must be present */
    MATCH("**/app", "app", 0);
    MATCH("**/app", "/app", 1);
    MATCH("**/app", "team/app/x", 0);
    MATCH("a**z", "a/b/z", 1);
    MATCH("**.json", "x/y/z.json", 1);
    MATCH("**/*.json", "x/y/z.json", 1);
    MATCH("**/*.json", "z.json", 0);
}
END_TEST

START_TEST(test_question)
{
    MATCH("?", "a", 1);
    MATCH("?", "", 0);
    MATCH("?", "ab", 0);
    MATCH("?", "/", 0);
    MATCH("a?c", "abc", 1);
    MATCH("a?c", "a/c", 0);
    MATCH("??", "ab", 1);
    MATCH("?*", "", 0);
    MATCH("?*", "x", 1);
}
END_TEST

START_TEST(test_class)
{
    MATCH("[abc]", "b", 1);
    MATCH("[abc]", "d", 0);
    MATCH("[abc]", "", 0);
    MATCH("[abc]", "ab", 0);
    MATCH("[a-z]", "q", 1);
    MATCH("[a-z]", "A", 0);
    MATCH("[a-z0-9]", "7", 1);
    MATCH("[!a-z]", "Q", 1);
    MATCH("[!a-z]", "q", 0);
    MATCH("[^a-z]", "Q", 1);
    MATCH("[^a-z]", "q", 0);
    MATCH("[/]", "/", 0);  /* never '/' */
    MATCH("[!x]", "/", 0); /* not even negated */
    MATCH("[]a]", "]", 1); /* leading ']' is a member */
    MATCH("[]a]", "a", 1);
    MATCH("[!]]", "]", 0);
    MATCH("[!]]", "a", 1);
    MATCH("[a-]", "-", 1); /* trailing '-' is literal */
    MATCH("[-a]", "-", 1);
    MATCH("[a-]", "b", 0);
    MATCH("[\\]]", "]", 1); /* escaped member */
    MATCH("[\\-]", "-", 1);
    MATCH("[a\\-z]", "b", 0); /* escaped '-' is not a range */
    MATCH("[a\\-z]", "z", 1);
    MATCH("[z-a]", "m", 0); /* reversed range matches nothing */
    MATCH("[*?{]", "*", 1); /* specials are plain inside a class */
    MATCH("[*?{]", "{", 1);
    MATCH("[*?{]", "x", 0);
    MATCH("x[0-9][0-9]", "x42", 1);
    MATCH("x[0-9][0-9]", "x4", 0);
}
END_TEST

START_TEST(test_braces)
{
    MATCH("{a,b}", "a", 1);
    MATCH("{a,b}", "b", 1);
    MATCH("{a,b}", "c", 0);
    MATCH("{a,b}", "ab", 0);
    MATCH("{a,b}", "", 0);
    MATCH("{,x}y", "y", 1); /* empty alternative */
    MATCH("{,x}y", "xy", 1);
    MATCH("{x,}", "", 1);
    MATCH("{}", "", 1);
    MATCH("a{}b", "ab", 1);
    MATCH("{a}", "a", 1);
    MATCH("{a,b{c,d}}e", "ae", 1); /* nested */
    MATCH("{a,b{c,d}}e", "bce", 1);
    MATCH("{a,b{c,d}}e", "bde", 1);
    MATCH("{a,b{c,d}}e", "be", 0);
    MATCH("{a*,b?}", "axyz", 1); /* alternatives contain globs */
    MATCH("{a*,b?}", "bx", 1);
    MATCH("{a*,b?}", "bxy", 0);
    MATCH("{a*,b?}", "a/x", 0);
    MATCH("{**/x,y}", "p/q/x", 1);
    MATCH("{[,]x,y}", ",x", 1); /* ',' inside a class does not split alternatives */
    MATCH("{[,]x,y}", "y", 1);
    MATCH("{[}]x,y}", "}x", 1);
    MATCH("{a\\,b,c}", "a,b", 1); /* escaped ',' does not split either */
    MATCH("{a\\,b,c}", "a", 0);
    MATCH("{a\\}b}", "a}b", 1);
    MATCH("{a,b}/{c,d}", "b/c", 1);
    MATCH("{a,b}/{c,d}", "b/e", 0);
    MATCH("{{{x}}}", "x", 1);
}
END_TEST

START_TEST(test_escape)
{
    MATCH("\\*", "*", 1);
    MATCH("\\*", "a", 0);
    MATCH("\\?", "?", 1);
    MATCH("\\?", "a", 0);
    MATCH("\\[a]", "[a]", 1);
    MATCH("a\\{b", "a{b", 1);
    MATCH("\\\\", "\\", 1);
    MATCH("\\a", "a", 1);
    MATCH("a\\**", "a*bc", 1);
    MATCH("a\\**", "abc", 0);
}
END_TEST

START_TEST(test_malformed)
{
    static const char *const bad[] = {
        "[abc", "[", "[!", "[]", "[!]", "[a-", "[a\\", "[a\\]",  /* unclosed classes */
        "{", "{a,b", "{a,{b}", "a{b{c}", "\\{a,b}{",               /* unclosed braces */
        "\\", "abc\\", "a*\\", "{a,b}\\",                          /* trailing backslash */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ck_assert_msg(imgsync__glob_valid(bad[i]) == IMGSYNC_EINVAL, "valid(\"%s\")", bad[i]);
        ck_assert_msg(imgsync__glob_match(bad[i], bad[i]) == 0, "match(\"%s\")", bad[i]);
        ck_assert_msg(imgsync__glob_match(bad[i], "") == 0, "match(\"%s\", \"\")", bad[i]);
    }
    static const char *const good[] = {
        "", "a", "*", "**", "?", "[a]", "[]]", "[!]]", "{}", "{a,{b,c}}", "a}b", "a,b",
        "}{,}", "\\\\", "\\[", "[\\]]", "]", "{[}]}",
    };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        ck_assert_msg(imgsync__glob_valid(good[i]) == 0, "valid(\"%s\")", good[i]);
    ck_assert_int_eq(imgsync__glob_valid(NULL), IMGSYNC_EINVAL);
    ck_assert_int_eq(imgsync__glob_match(NULL, "a"), 0);
    ck_assert_int_eq(imgsync__glob_match("a", NULL), 0);
    ck_assert_int_eq(imgsync__glob_match(NULL, NULL), 0);
}
END_TEST

START_TEST(test_length_limit)
{
    char *p1024 = repeat('a', 1024);
    char *p1025 = repeat('a', 1025);
    ck_assert_int_eq(imgsync__glob_valid(p1024), 0);
    ck_assert_int_eq(imgsync__glob_match(p1024, p1024), 1);
    ck_assert_int_eq(imgsync__glob_is_literal(p1024), 1);
    ck_assert_int_eq(imgsync__glob_valid(p1025), IMGSYNC_EINVAL);
    ck_assert_int_eq(imgsync__glob_match(p1025, p1025), 0);
    ck_assert_int_eq(imgsync__glob_is_literal(p1025), 0);
    /* the longest pattern made only of braces: 512 nested levels */
    char *nest = malloc(1025);
    ck_assert_ptr_nonnull(nest);
    memset(nest, '{', 512);
    memset(nest + 512, '}', 512);
    nest[1024] = '\0';
    ck_assert_int_eq(imgsync__glob_valid(nest), 0);
    ck_assert_int_eq(imgsync__glob_match(nest, ""), 1);
    ck_assert_int_eq(imgsync__glob_match(nest, "x"), 0);
    free(nest);
    free(p1024);
    free(p1025);
}
END_TEST

START_TEST(test_is_literal)
{
    ck_assert_int_eq(imgsync__glob_is_literal("library/hello-world"), 1);
    ck_assert_int_eq(imgsync__glob_is_literal(""), 1);
    ck_assert_int_eq(imgsync__glob_is_literal("a}b"), 1);
    ck_assert_int_eq(imgsync__glob_is_literal("a,b"), 1);
    ck_assert_int_eq(imgsync__glob_is_literal("a]b"), 1);
    ck_assert_int_eq(imgsync__glob_is_literal("v1.0"), 1);
    ck_assert_int_eq(imgsync__glob_is_literal("a*"), 0);
    ck_assert_int_eq(imgsync__glob_is_literal("**"), 0);
    ck_assert_int_eq(imgsync__glob_is_literal("a?"), 0);
    ck_assert_int_eq(imgsync__glob_is_literal("[a]"), 0);
    ck_assert_int_eq(imgsync__glob_is_literal("{a}"), 0);
    ck_assert_int_eq(imgsync__glob_is_literal("a\\b"), 0);
    ck_assert_int_eq(imgsync__glob_is_literal("[abc"), 0);
    ck_assert_int_eq(imgsync__glob_is_literal(NULL), 0);
}
END_TEST

/* Inputs that make naive backtracking matchers take exponential time. Each must finish quickly;
 * Check's per-test timeout catches a regression. */
START_TEST(test_no_blowup)
{
    char *as = repeat('a', 3000); /* plenty: naive backtracking is O(n^7) here */
    MATCH("*a*a*a*a*a*a*a*b", as, 0);
    MATCH("**a**a**a**a**a**a**a**b", as, 0);
    MATCH("*a*a*a*a*a*a*a*a", as, 1);
    MATCH("{*a,a*}{*a,a*}{*a,a*}{*a,a*}{*a,a*}{*a,a*}b", as, 0);

    /* 200 alternatives in a row expand to 2^200 strings; simulated in parallel it is cheap. */
    char *alts = repeat_str("{a,b}", 200, "");
    char *a200 = repeat('a', 200);
    char *a201 = repeat('a', 201);
    MATCH(alts, a200, 1);
    MATCH(alts, a201, 0);
    free(alts);

    /* Near-maximal patterns: work is text length x pattern length, so keep the text moderate. */
    char *as1k = repeat('a', 1000);
    char *stars = repeat_str("*a", 500, "b"); /* 1001 bytes */
    MATCH(stars, as1k, 0);
    free(as1k);
    free(stars);
    char *dstars = repeat_str("**/", 300, "x"); /* 901 bytes */
    char *path = repeat_str("a/", 1000, "x");
    MATCH(dstars, path, 1); /* 300 of the 1000 slashes anchor the 300 doublestar units */
    free(dstars);
    dstars = repeat_str("**/", 300, "y");
    MATCH(dstars, path, 0);
    free(dstars);
    free(path);

    free(a200);
    free(a201);
    free(as);
}
END_TEST

START_TEST(test_long_text)
{
    char *path = repeat_str("seg/", 50000, "end");
    MATCH("**", path, 1);
    MATCH("seg/**/end", path, 1);
    MATCH("seg/**/nope", path, 0);
    MATCH("*", path, 0);
    MATCH("**/*", path, 1);
    MATCH("{seg,x}/**{end,y}", path, 1);
    free(path);
}
END_TEST

Suite *glob_suite(void)
{
    Suite *s = suite_create("glob");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_harbor_vectors);
    tcase_add_test(tc, test_empty_and_literal);
    tcase_add_test(tc, test_star);
    tcase_add_test(tc, test_doublestar);
    tcase_add_test(tc, test_question);
    tcase_add_test(tc, test_class);
    tcase_add_test(tc, test_braces);
    tcase_add_test(tc, test_escape);
    tcase_add_test(tc, test_malformed);
    tcase_add_test(tc, test_length_limit);
    tcase_add_test(tc, test_is_literal);
    tcase_add_test(tc, test_no_blowup);
    tcase_add_test(tc, test_long_text);
    suite_add_tcase(s, tc);
    return s;
}

#include "check_main.h"
IMGSYNC_TEST_MAIN(glob_suite)
