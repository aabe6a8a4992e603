/* Unit tests for the tree builder of src/util/json.c (imgsync__json_parse / imgsync__json_free):
 * the yajl tree it hands out, its refusals and their reasons, large and deep documents, and every
 * allocation failing in turn. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "util/json.h"

Suite *json_suite(void);

/* malloc and realloc are wrapped for this program (Makefile: -Wl,--wrap=malloc,--wrap=realloc):
 * while fail_countdown is positive, the call that brings it to 0 fails. yajl's own allocations
 * are not seen (shared library); the library's are. */
void *__real_malloc(size_t n);
void *__real_realloc(void *p, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_realloc(void *p, size_t n);
static long fail_countdown;

static int fail_now(void) { return fail_countdown > 0 && --fail_countdown == 0; }
void *__wrap_malloc(size_t n) { return fail_now() ? NULL : __real_malloc(n); }
void *__wrap_realloc(void *p, size_t n) { return fail_now() ? NULL : __real_realloc(p, n); }

static yajl_val parse(const char *s)
{
    char err[128];
    yajl_val v = imgsync__json_parse(s, strlen(s), err, sizeof(err));
    ck_assert_msg(v != NULL, "parse failed: %s", err);
    return v;
}

/* The parse must fail with reason `why`. */
static void refused(const char *s, size_t len, const char *why)
{
    char err[128] = "";
    yajl_val v = imgsync__json_parse(s, len, err, sizeof(err));
    ck_assert_ptr_null(v);
    ck_assert_str_eq(err, why);
}

/* A malloc'd "[" + n copies of open... innermost ... closes "]". */
static char *nested(int depth, const char *inner)
{
    size_t len = 2 * (size_t)depth + strlen(inner) + 1;
    char *s = malloc(len);
    ck_assert_ptr_nonnull(s);
    memset(s, '[', (size_t)depth);
    strcpy(s + depth, inner);
    memset(s + depth + strlen(inner), ']', (size_t)depth);
    s[len - 1] = '\0';
    return s;
}

START_TEST(test_types)
{
    yajl_val v = parse("{\"s\":\"x\\u00e9y\",\"i\":-42,\"d\":1.5,\"big\":123456789012345678901234,\"t\":true,"
                       "\"f\":false,\"n\":null,\"a\":[1,\"two\",[],{}],\"o\":{\"k\":\"v\"},\"e\":{}}");
    ck_assert(YAJL_IS_OBJECT(v));
    ck_assert_uint_eq(v->u.object.len, 10);
    ck_assert_str_eq(imgsync__json_string(v, "s"), "x\xc3\xa9y");
    int64_t i = 0;
    ck_assert_int_eq(imgsync__json_int(v, "i", &i), 0);
    ck_assert_int_eq(i, -42);
    yajl_val d = imgsync__json_member(v, "d");
    ck_assert(YAJL_IS_DOUBLE(d) && !YAJL_IS_INTEGER(d));
    ck_assert(YAJL_GET_DOUBLE(d) == 1.5);
    ck_assert_str_eq(YAJL_GET_NUMBER(d), "1.5");
    yajl_val big = imgsync__json_member(v, "big");
    ck_assert(YAJL_IS_NUMBER(big) && !YAJL_IS_INTEGER(big) && YAJL_IS_DOUBLE(big));
    ck_assert(YAJL_IS_TRUE(imgsync__json_member(v, "t")));
    ck_assert(YAJL_IS_FALSE(imgsync__json_member(v, "f")));
    ck_assert(YAJL_IS_NULL(imgsync__json_member(v, "n")));
    yajl_val a = imgsync__json_array(v, "a");
    ck_assert_ptr_nonnull(a);
    ck_assert_uint_eq(a->u.array.len, 4);
    ck_assert(YAJL_IS_INTEGER(a->u.array.values[0]) && YAJL_GET_INTEGER(a->u.array.values[0]) == 1);
    ck_assert_str_eq(YAJL_GET_STRING(a->u.array.values[1]), "two");
    ck_assert(YAJL_IS_ARRAY(a->u.array.values[2]) && a->u.array.values[2]->u.array.len == 0);
    ck_assert(YAJL_IS_OBJECT(a->u.array.values[3]) && a->u.array.values[3]->u.object.len == 0);
    ck_assert_str_eq(imgsync__json_string(imgsync__json_member(v, "o"), "k"), "v");
    ck_assert_ptr_null(imgsync__json_member(v, "absent"));
    ck_assert_str_eq(v->u.object.keys[9], "e");
    imgsync__json_free(v);
    imgsync__json_free(NULL);
}
END_TEST

/* Numbers get the values strtoll and strtod give their text, small integers included (the
 * builder converts those itself): same flags, same integer, same double bit for bit. */
START_TEST(test_numbers)
{
    static const char *const nums[] = {
        "0", "-0", "7", "-7", "42", "999999999999999", "-999999999999999", "1000000000000000",
        "-1000000000000000", "9007199254740993", "9223372036854775807", "9223372036854775808",
        "-9223372036854775808", "-9223372036854775809", "123456789012345678901234", "1.5", "-0.0",
        "1e3", "1E-2", "2.5e+10", "1e400", "-1e400", "4.9e-330", "0.1",
    };
    for (size_t k = 0; k < sizeof(nums) / sizeof(nums[0]); k++) {
        char doc[64];
        snprintf(doc, sizeof(doc), "[%s]", nums[k]);
        yajl_val v = parse(doc);
        yajl_val n = v->u.array.values[0];
        ck_assert(YAJL_IS_NUMBER(n));
        ck_assert_str_eq(YAJL_GET_NUMBER(n), nums[k]);
        char *end;
        errno = 0;
        long long i = strtoll(nums[k], &end, 10);
        int int_ok = !errno && *end == '\0';
        errno = 0;
        double d = strtod(nums[k], &end);
        int double_ok = !errno && *end == '\0';
        ck_assert_msg(int_ok == !!YAJL_IS_INTEGER(n), "%s: integer flag", nums[k]);
        ck_assert_msg(double_ok == !!YAJL_IS_DOUBLE(n), "%s: double flag", nums[k]);
        if (int_ok)
            ck_assert_msg(YAJL_GET_INTEGER(n) == i, "%s: integer value", nums[k]);
        if (double_ok)
            ck_assert_msg(!memcmp(&d, &n->u.number.d, sizeof(d)), "%s: double value", nums[k]);
        imgsync__json_free(v);
    }
}
END_TEST

/* A scalar can be the whole document: the root is still freed with the document. */
START_TEST(test_scalar_roots)
{
    yajl_val v = parse("\"just a string\"");
    ck_assert_str_eq(YAJL_GET_STRING(v), "just a string");
    imgsync__json_free(v);
    v = parse(" 7 ");
    ck_assert(YAJL_IS_INTEGER(v) && YAJL_GET_INTEGER(v) == 7);
    imgsync__json_free(v);
    v = parse("null");
    ck_assert(YAJL_IS_NULL(v));
    imgsync__json_free(v);
    v = parse("true");
    ck_assert(YAJL_IS_TRUE(v));
    imgsync__json_free(v);
    v = parse("[]");
    ck_assert(YAJL_IS_ARRAY(v) && v->u.array.len == 0 && !v->u.array.values);
    imgsync__json_free(v);
    v = parse("{}");
    ck_assert(YAJL_IS_OBJECT(v) && v->u.object.len == 0 && !v->u.object.keys && !v->u.object.values);
    imgsync__json_free(v);
}
END_TEST

START_TEST(test_refusals)
{
    refused("{\"a\":", 5, "malformed JSON");
    refused("", 0, "malformed JSON");
    refused("[1,]", 4, "malformed JSON");
    refused("{} {}", 5, "malformed JSON");
    refused("\"a\xff\"", 4, "malformed JSON");      /* invalid UTF-8 */
    refused("[\"a\0b\"]", 7, "malformed JSON");     /* a raw NUL */
    refused("{\"a\\u0000\":1}", 13, "object key with a NUL character");
    char err[16];
    ck_assert_ptr_null(imgsync__json_parse(NULL, 0, err, sizeof(err)));
    ck_assert_str_eq(err, "no body");
}
END_TEST

/* An escaped NUL is not cut short: the node has no usable type. */
START_TEST(test_escaped_nul)
{
    yajl_val v = parse("{\"a\":\"x\\u0000y\",\"b\":[\"\\u0000\"]}");
    yajl_val a = imgsync__json_member(v, "a");
    ck_assert_int_eq(a->type, yajl_t_any);
    ck_assert_ptr_null(imgsync__json_string(v, "a"));
    ck_assert_int_eq(imgsync__json_array(v, "b")->u.array.values[0]->type, yajl_t_any);
    imgsync__json_free(v);
}
END_TEST

/* 100,000 array items (many vectors and blocks), each read back. */
START_TEST(test_many_items)
{
    enum { N = 100000 };
    char *s = malloc((size_t)N * 12 + 16);
    ck_assert_ptr_nonnull(s);
    size_t n = 0;
    s[n++] = '[';
    for (int i = 0; i < N; i++)
        n += (size_t)sprintf(s + n, i % 2 ? "%d," : "\"s%d\",", i);
    s[n - 1] = ']';
    s[n] = '\0';
    yajl_val v = parse(s);
    ck_assert(YAJL_IS_ARRAY(v));
    ck_assert_uint_eq(v->u.array.len, N);
    char want[16];
    for (int i = 0; i < N; i++) {
        yajl_val it = v->u.array.values[i];
        if (i % 2) {
            ck_assert(YAJL_IS_INTEGER(it) && YAJL_GET_INTEGER(it) == i);
        } else {
            snprintf(want, sizeof(want), "s%d", i);
            ck_assert(YAJL_IS_STRING(it));
            ck_assert_str_eq(YAJL_GET_STRING(it), want);
        }
    }
    imgsync__json_free(v);
    free(s);
}
END_TEST

/* An object of 10,000 members, each holding a small object: keys, values and order kept. */
START_TEST(test_many_keys)
{
    enum { N = 10000 };
    char *s = malloc((size_t)N * 40 + 16);
    ck_assert_ptr_nonnull(s);
    size_t n = 0;
    s[n++] = '{';
    for (int i = 0; i < N; i++)
        n += (size_t)sprintf(s + n, "\"key%d\":{\"n\":%d,\"v\":[%d]},", i, i, -i);
    s[n - 1] = '}';
    s[n] = '\0';
    yajl_val v = parse(s);
    ck_assert(YAJL_IS_OBJECT(v));
    ck_assert_uint_eq(v->u.object.len, N);
    char key[16];
    for (int i = 0; i < N; i++) {
        snprintf(key, sizeof(key), "key%d", i);
        ck_assert_str_eq(v->u.object.keys[i], key);
        yajl_val m = v->u.object.values[i];
        int64_t x = -1;
        ck_assert_int_eq(imgsync__json_int(m, "n", &x), 0);
        ck_assert_int_eq(x, i);
        yajl_val a = imgsync__json_array(m, "v");
        ck_assert(a && a->u.array.len == 1 && YAJL_GET_INTEGER(a->u.array.values[0]) == -i);
    }
    ck_assert_ptr_eq(imgsync__json_member(v, "key9999"), v->u.object.values[N - 1]);
    imgsync__json_free(v);
    free(s);
}
END_TEST

/* Strings longer than a block (a block of their own), as root and as items. */
START_TEST(test_long_strings)
{
    size_t len = 300000;
    char *s = malloc(len + 16);
    ck_assert_ptr_nonnull(s);
    s[0] = '"';
    memset(s + 1, 'x', len);
    strcpy(s + 1 + len, "\"");
    yajl_val v = parse(s);
    ck_assert(YAJL_IS_STRING(v));
    ck_assert_uint_eq(strlen(v->u.string), len);
    imgsync__json_free(v);

    s[0] = '[';
    memset(s + 1, ' ', len);
    strcpy(s + len - 60000, "\"");
    memset(s + len - 59999, 'y', 50000);
    strcpy(s + len - 9999, "\",1,\"z\"]");
    v = parse(s);
    ck_assert_uint_eq(v->u.array.len, 3);
    ck_assert(YAJL_IS_STRING(v->u.array.values[0]));
    ck_assert_uint_eq(strlen(v->u.array.values[0]->u.string), 50000);
    ck_assert_str_eq(YAJL_GET_STRING(v->u.array.values[2]), "z");
    imgsync__json_free(v);
    free(s);
}
END_TEST

/* Nesting up to the limit is accepted and walks down to the innermost value; one more is not. */
START_TEST(test_deep)
{
    char *s = nested(IMGSYNC__JSON_MAX_DEPTH, "\"deep\",{\"k\":1}");
    refused(s, strlen(s), "JSON nested too deeply"); /* the object is level 65 */
    free(s);
    s = nested(IMGSYNC__JSON_MAX_DEPTH, "\"deep\",2");
    yajl_val v = parse(s);
    yajl_val p = v;
    for (int d = 1; d < IMGSYNC__JSON_MAX_DEPTH; d++) {
        ck_assert(YAJL_IS_ARRAY(p) && p->u.array.len == 1);
        p = p->u.array.values[0];
    }
    ck_assert_uint_eq(p->u.array.len, 2);
    ck_assert_str_eq(YAJL_GET_STRING(p->u.array.values[0]), "deep");
    imgsync__json_free(v);
    free(s);
    s = nested(IMGSYNC__JSON_MAX_DEPTH + 1, "");
    refused(s, strlen(s), "JSON nested too deeply");
    free(s);
}
END_TEST

/* Every allocation of the parse fails in turn: NULL and "out of memory" each time, no leak (the
 * valgrind and ASan runs check), then the same body parses. */
START_TEST(test_out_of_memory)
{
    char *s = malloc(200000);
    ck_assert_ptr_nonnull(s);
    size_t n = (size_t)sprintf(s, "{\"big\":\"%040000d\",\"items\":[", 0);
    for (int i = 0; i < 3000; i++)
        n += (size_t)sprintf(s + n, "{\"name\":\"tag%d\",\"size\":%d},", i, i);
    strcpy(s + n - 1, "]}");
    char err[64];
    yajl_val v = NULL;
    long k;
    for (k = 1; k < 1000 && !v; k++) {
        strcpy(err, "");
        fail_countdown = k;
        v = imgsync__json_parse(s, strlen(s), err, sizeof(err));
        int failed = fail_countdown == 0;
        fail_countdown = 0;
        if (!v)
            ck_assert_str_eq(err, "out of memory");
        ck_assert_msg(!v || !failed, "allocation %ld failed yet the parse succeeded", k);
    }
    ck_assert_ptr_nonnull(v);
    ck_assert_msg(k > 10, "only %ld allocations: the document should need several blocks", k - 1);
    ck_assert_uint_eq(imgsync__json_array(v, "items")->u.array.len, 3000);
    imgsync__json_free(v);
    free(s);
}
END_TEST

Suite *json_suite(void)
{
    Suite *s = suite_create("json");
    TCase *tc = tcase_create("tree");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_types);
    tcase_add_test(tc, test_numbers);
    tcase_add_test(tc, test_scalar_roots);
    tcase_add_test(tc, test_refusals);
    tcase_add_test(tc, test_escaped_nul);
    tcase_add_test(tc, test_many_items);
    tcase_add_test(tc, test_many_keys);
    tcase_add_test(tc, test_long_strings);
    tcase_add_test(tc, test_deep);
    tcase_add_test(tc, test_out_of_memory);
    suite_add_tcase(s, tc);
    return s;
}

IMGSYNC_TEST_MAIN(json_suite)
