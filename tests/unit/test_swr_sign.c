/* Unit tests for src/providers/swr_sign.c: the SDK-HMAC-SHA256 vectors of the reference
 * (shared/reference/swr-jfrog-oci-api.md section 3.2) bit for bit, and the canonicalization
 * rules around them. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "imgsync.h"
#include "providers/swr_sign.h"

Suite *swr_sign_suite(void);

#define EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define GO_DATE "20060102T150405Z"
#define V3_DATE "20240101T000000Z"
#define V3_HOST "swr-api.cn-north-4.myhuaweicloud.com"
#define V3_PROJECT "0123456789abcdef0123456789abcdef"

/* A request with up to 8 headers, AK/SK of the reference's vectors. */
typedef struct req_fixture {
    const char *names[8];
    const char *values[8];
    imgsync__swr_sign_req req;
} req_fixture;

static void fixture(req_fixture *f, const char *method, const char *url, const char *date)
{
    memset(f, 0, sizeof(*f));
    f->req.method = method;
    f->req.url = url;
    f->req.header_names = f->names;
    f->req.header_values = f->values;
    f->req.ak = "AccessKey";
    f->req.sk = "SecretKey";
    f->req.sdk_date = date;
}

static void add_header(req_fixture *f, const char *name, const char *value)
{
    ck_assert_uint_lt(f->req.header_count, 8);
    f->names[f->req.header_count] = name;
    f->values[f->req.header_count] = value;
    f->req.header_count++;
}

/* The canonical request, string to sign and Authorization of a request (all checked non-NULL);
 * the caller frees the three. */
static void sign_all(const req_fixture *f, char **creq, char **sts, char **auth)
{
    ck_assert_int_eq(imgsync__swr_sign_parts(&f->req, creq, sts, NULL), 0);
    ck_assert_int_eq(imgsync__swr_sign(&f->req, auth), 0);
    ck_assert_ptr_nonnull(*creq);
    ck_assert_ptr_nonnull(*sts);
    ck_assert_ptr_nonnull(*auth);
}

static char *auth_of(const req_fixture *f)
{
    char *auth = NULL;
    ck_assert_int_eq(imgsync__swr_sign(&f->req, &auth), 0);
    return auth;
}

static char *creq_of(const req_fixture *f)
{
    char *creq = NULL;
    ck_assert_int_eq(imgsync__swr_sign_parts(&f->req, &creq, NULL, NULL), 0);
    return creq;
}

static void check_query(const char *raw, const char *want)
{
    char *got = NULL;
    ck_assert_int_eq(imgsync__swr_canonical_query(raw, &got), 0);
    ck_assert_msg(strcmp(got, want) == 0, "query %s -> %s, want %s", raw ? raw : "(null)", got, want);
    free(got);
}

static void check_uri(const char *raw, const char *want)
{
    char *got = NULL;
    ck_assert_int_eq(imgsync__swr_canonical_uri(raw, &got), 0);
    ck_assert_msg(strcmp(got, want) == 0, "uri %s -> %s, want %s", raw, got, want);
    free(got);
}

static void check_date(int64_t ms, const char *want)
{
    char out[IMGSYNC__SWR_SDK_DATE_LEN + 1];
    ck_assert_int_eq(imgsync__swr_sdk_date(ms, out), 0);
    ck_assert_str_eq(out, want);
}

/* ---- the reference's vectors ---------------------------------------------------------------- */

START_TEST(test_vector_v1)
{
    req_fixture f;
    fixture(&f, "GET", "https://example.huaweicloud.com/path?limit=1", GO_DATE);
    add_header(&f, "X-Sdk-Date", GO_DATE);
    add_header(&f, "TEST_UNDERSCORE", "TEST_VALUE");
    char *creq, *sts, *auth, *signed_list;
    sign_all(&f, &creq, &sts, &auth);
    ck_assert_str_eq(creq, "GET\n/path/\nlimit=1\nx-sdk-date:" GO_DATE "\n\nx-sdk-date\n" EMPTY_SHA256);
    ck_assert_str_eq(sts, "SDK-HMAC-SHA256\n" GO_DATE
                          "\n85c3b7730f308aee452b16138a42a914397e43a8f0d732dfa521c0ef2afa98a4");
    ck_assert_str_eq(auth, "SDK-HMAC-SHA256 Access=AccessKey, SignedHeaders=x-sdk-date, "
                           "Signature=5a2ce64c865e0e6046321c6f3d5a77ba8413eeaf355c3166c03d58d02ac79624");
    ck_assert_int_eq(imgsync__swr_sign_parts(&f.req, NULL, NULL, &signed_list), 0);
    ck_assert_str_eq(signed_list, "x-sdk-date");
    free(signed_list);
    /* the header not sent yet: the signer signs the date all the same */
    free(auth);
    f.names[0] = "Accept_Encoding";
    auth = auth_of(&f);
    ck_assert_str_eq(auth, "SDK-HMAC-SHA256 Access=AccessKey, SignedHeaders=x-sdk-date, "
                           "Signature=5a2ce64c865e0e6046321c6f3d5a77ba8413eeaf355c3166c03d58d02ac79624");
    free(creq);
    free(sts);
    free(auth);
}
END_TEST

START_TEST(test_vector_v2)
{
    static const char body[] = "{\"Name\":\"test\",\"Id\":1}\n"; /* Go's json.Encoder adds '\n' */
    req_fixture f;
    fixture(&f, "POST", "https://example.huaweicloud.com/path?key=value", GO_DATE);
    add_header(&f, "Content-Type", "application/json");
    add_header(&f, "X-Sdk-Date", GO_DATE);
    f.req.body = body;
    f.req.body_len = strlen(body);
    char *creq, *sts, *auth;
    sign_all(&f, &creq, &sts, &auth);
    ck_assert_str_eq(creq, "POST\n/path/\nkey=value\nx-sdk-date:" GO_DATE "\n\nx-sdk-date\n"
                           "a29d7b4c5efd1a22011d69fd7b7aee76fe51e4083c609244228de258afd61289");
    ck_assert_str_eq(sts, "SDK-HMAC-SHA256\n" GO_DATE
                          "\n13f75ff5f5216199f986c7e7f2f77834d5e160ad9e46f37319816dc72ba7eeab");
    ck_assert_str_eq(auth, "SDK-HMAC-SHA256 Access=AccessKey, SignedHeaders=x-sdk-date, "
                           "Signature=cecc2af119b18ab70b4d094c0750f3b42c02f254903179a0fc2cc72fc9db4f59");
    free(creq);
    free(sts);
    free(auth);
    /* without the trailing newline it is another signature */
    f.req.body_len--;
    auth = auth_of(&f);
    ck_assert_ptr_null(strstr(auth, "cecc2af119b18ab70b4d094c0750f3b42c02f254903179a0fc2cc72fc9db4f59"));
    free(auth);
}
END_TEST

static void check_v3(const char *url)
{
    req_fixture f;
    fixture(&f, "GET", url, V3_DATE);
    add_header(&f, "Host", V3_HOST);
    add_header(&f, "X-Sdk-Date", V3_DATE);
    add_header(&f, "X-Project-Id", V3_PROJECT);
    add_header(&f, "Content-Type", "application/json;charset=utf-8");
    char *creq, *sts, *auth;
    sign_all(&f, &creq, &sts, &auth);
    ck_assert_str_eq(creq, "GET\n/v2/manage/repos/\n"
                           "filter=namespace%3A%3Ans1%7Climit%3A%3A100%7Coffset%3A%3A0\n"
                           "host:" V3_HOST "\nx-project-id:" V3_PROJECT "\nx-sdk-date:" V3_DATE "\n\n"
                           "host;x-project-id;x-sdk-date\n" EMPTY_SHA256);
    ck_assert_str_eq(sts, "SDK-HMAC-SHA256\n" V3_DATE
                          "\n85417716d331f113d821e4c56cbc20ed7904cdc7ab630c9ecc25861686394e4b");
    ck_assert_str_eq(auth, "SDK-HMAC-SHA256 Access=AccessKey, SignedHeaders=host;x-project-id;x-sdk-date, "
                           "Signature=6a8b5a913d618cea8d457d23ae14e6ea3e137ee5976e8771ae22e2845ed06b5b");
    free(creq);
    free(sts);
    free(auth);
}

START_TEST(test_vector_v3)
{
    /* the query raw and percent-encoded on the wire sign alike */
    check_v3("https://" V3_HOST "/v2/manage/repos?filter=namespace::ns1|limit::100|offset::0");
    check_v3("https://" V3_HOST "/v2/manage/repos?filter=namespace%3A%3Ans1%7Climit%3A%3A100%7Coffset%3A%3A0");
    check_v3("https://" V3_HOST "/v2/manage/repos?filter=namespace%3a%3ans1%7climit::100|offset%3A%3A0");
    check_v3("https://" V3_HOST "/v2/manage/repos/?filter=namespace::ns1|limit::100|offset::0");
    /* the default port written in the URL changes nothing (the Host header is what is signed) */
    check_v3("https://" V3_HOST ":443/v2/manage/repos?filter=namespace::ns1|limit::100|offset::0");
}
END_TEST

START_TEST(test_vector_query)
{
    static const char want[] = "enable=true&limit=1&multi=1&multi=2&multi=3&path=%2Ftmp%2F123&"
                               "test=%E4%B8%80%20%28%26%3D%3F%21%23%25.%2A%29";
    /* as the SDK would send it (its own escaping, parameters in any order) */
    check_query("limit=1&enable=true&test=%E4%B8%80%20%28%26%3D%3F%21%23%25.%2A%29&path=%2Ftmp%2F123"
                "&multi=3&multi=1&multi=2", want);
    /* form encoding: '+' for the space, lower-case hex, raw UTF-8 and unescaped reserved bytes
     * where they cannot be taken for a separator */
    check_query("multi=2&test=\xE4\xB8\x80+(%26%3d?!%23%25.*)&path=/tmp/123&multi=3&limit=1&"
                "enable=true&multi=1", want);
    char *out = NULL;
    ck_assert_int_eq(imgsync__swr_canonical_query(want, &out), 0);
    ck_assert_str_eq(out, want); /* canonical is a fixed point */
    free(out);
}
END_TEST

/* ---- parts ---------------------------------------------------------------------------------- */

START_TEST(test_sdk_date)
{
    check_date(0, "19700101T000000Z");
    check_date(999, "19700101T000000Z");
    check_date(1136214245000LL, GO_DATE);
    check_date(1704067200000LL, V3_DATE);
    check_date(1709210096000LL, "20240229T123456Z");   /* leap day */
    check_date(951782400000LL, "20000229T000000Z");    /* 2000 is a leap year */
    check_date(4107542400000LL, "21000301T000000Z");   /* 2100 is not */
    check_date(4107542400000LL - 1, "21000228T235959Z");
    check_date(1704067199999LL, "20231231T235959Z");   /* end of year */
    check_date(253402300799000LL, "99991231T235959Z");
    check_date(-1, "19691231T235959Z");
    check_date(-2208988800000LL, "19000101T000000Z");
    char out[IMGSYNC__SWR_SDK_DATE_LEN + 1];
    ck_assert_int_eq(imgsync__swr_sdk_date(253402300800000LL, out), IMGSYNC_EINVAL);
    ck_assert_str_eq(out, "");
    ck_assert_int_eq(imgsync__swr_sdk_date(INT64_MAX, out), IMGSYNC_EINVAL);
    ck_assert_int_eq(imgsync__swr_sdk_date(INT64_MIN, out), IMGSYNC_EINVAL);
}
END_TEST

START_TEST(test_canonical_uri)
{
    check_uri("/v2/manage/repos", "/v2/manage/repos/");
    check_uri("/v2/manage/repos/", "/v2/manage/repos/");
    check_uri("", "/");
    check_uri("/", "/");
    /* SWR writes '/' in a repository name as '$' */
    check_uri("/v2/manage/namespaces/ns1/repos/team$app/tags", "/v2/manage/namespaces/ns1/repos/team%24app/tags/");
    check_uri("/v2/manage/namespaces/ns1/repos/team%24app/tags", "/v2/manage/namespaces/ns1/repos/team%24app/tags/");
    /* an escaped '/' stays inside its segment */
    check_uri("/v2/manage/namespaces/ns1/repos/a%2Fb/tags", "/v2/manage/namespaces/ns1/repos/a%2Fb/tags/");
    check_uri("/v2/manage/namespaces/ns1/repos/a%2fb", "/v2/manage/namespaces/ns1/repos/a%2Fb/");
    check_uri("/a%41%7e~b/%E4%B8%80/\xE4\xB8\x80", "/aA~~b/%E4%B8%80/%E4%B8%80/");
    check_uri("/a b/c:d/e+f/./..", "/a%20b/c%3Ad/e%2Bf/./../");
    check_uri("//x//", "//x//");
}
END_TEST

START_TEST(test_canonical_query_edges)
{
    check_query(NULL, "");
    check_query("", "");
    check_query("&&", "");
    check_query("a", "a=");
    check_query("b&a=", "a=&b=");
    check_query("a==1", "a=%3D1");
    check_query("k=b&k=a&K=c", "K=c&k=a&k=b"); /* byte order: upper case first */
    check_query("a%20b=1&a-b=2", "a%20b=1&a-b=2");
    check_query("x=%2B&x=+", "x=%20&x=%2B");
    check_query("q=~%7E", "q=~~");
    check_query("namespace=ns1&filter=center::thirdparty", "filter=center%3A%3Athirdparty&namespace=ns1");
    /* decoded bytes are sorted, as Go sorts strings: F0.. before FF, whatever UTF-8 says */
    check_query("k%FF=1&k%F0%9F%98%80=2", "k%F0%9F%98%80=2&k%FF=1");
    check_query("a=1;b=2", "a=1%3Bb%3D2"); /* ';' separates nothing */
}
END_TEST

START_TEST(test_empty_query)
{
    req_fixture f;
    fixture(&f, "GET", "https://" V3_HOST "/v2/manage/repos", GO_DATE);
    char *a = creq_of(&f);
    f.req.url = "https://" V3_HOST "/v2/manage/repos?";
    char *b = creq_of(&f);
    ck_assert_str_eq(a, "GET\n/v2/manage/repos/\n\nx-sdk-date:" GO_DATE "\n\nx-sdk-date\n" EMPTY_SHA256);
    ck_assert_str_eq(a, b);
    free(a);
    free(b);
}
END_TEST

START_TEST(test_header_trim_and_case)
{
    req_fixture f;
    fixture(&f, "GET", "https://" V3_HOST "/v2/manage/repos", V3_DATE);
    add_header(&f, "X-Project-Id", V3_PROJECT);
    add_header(&f, "User-Agent", "imgsync/0.1");
    char *a = creq_of(&f);
    f.values[0] = " \t" V3_PROJECT "\t ";
    f.names[0] = "x-PROJECT-id";
    f.names[1] = "USER-AGENT";
    add_header(&f, "x-sdk-date", "  " V3_DATE " ");
    char *b = creq_of(&f);
    ck_assert_str_eq(a, b);
    ck_assert_str_eq(a, "GET\n/v2/manage/repos/\n\nuser-agent:imgsync/0.1\nx-project-id:" V3_PROJECT
                        "\nx-sdk-date:" V3_DATE "\n\nuser-agent;x-project-id;x-sdk-date\n" EMPTY_SHA256);
    free(a);
    free(b);
    /* Content-Type variants and names with '_' are never signed; empty values are */
    add_header(&f, "Content-Type-Options", "x");
    add_header(&f, "X_Custom", "y");
    add_header(&f, "Accept", "");
    char *list = NULL;
    ck_assert_int_eq(imgsync__swr_sign_parts(&f.req, NULL, NULL, &list), 0);
    ck_assert_str_eq(list, "accept;user-agent;x-project-id;x-sdk-date");
    free(list);
}
END_TEST

START_TEST(test_duplicate_headers)
{
    req_fixture f;
    fixture(&f, "GET", "https://" V3_HOST "/v2/manage/repos", V3_DATE);
    add_header(&f, "X-Project-Id", "first");
    add_header(&f, "Accept", "*/*");
    add_header(&f, "x-project-id", V3_PROJECT);
    char *creq = creq_of(&f);
    ck_assert_str_eq(creq, "GET\n/v2/manage/repos/\n\naccept:*/*\nx-project-id:" V3_PROJECT
                           "\nx-sdk-date:" V3_DATE "\n\naccept;x-project-id;x-sdk-date\n" EMPTY_SHA256);
    free(creq);
}
END_TEST

static void check_host(const char *url, const char *want)
{
    req_fixture f;
    fixture(&f, "GET", url, V3_DATE);
    add_header(&f, "Host", "");
    char *creq = creq_of(&f);
    char line[256];
    snprintf(line, sizeof(line), "\nhost:%s\n", want);
    ck_assert_msg(strstr(creq, line) != NULL, "%s: %s", url, creq);
    ck_assert_ptr_nonnull(strstr(creq, "\nhost;x-sdk-date\n"));
    free(creq);
}

START_TEST(test_host)
{
    check_host("https://" V3_HOST "/v2/manage/repos", V3_HOST);
    check_host("https://" V3_HOST ":443/v2/manage/repos", V3_HOST);
    check_host("https://" V3_HOST ":8443/v2/manage/repos", V3_HOST ":8443");
    check_host("http://127.0.0.1:80/v2", "127.0.0.1");
    check_host("http://127.0.0.1:443/v2", "127.0.0.1:443");
    check_host("http://[::1]:5000/v2", "[::1]:5000");
    check_host("https://SWR.Example.COM/v2", "swr.example.com");
    /* a Host header given is signed as it goes out */
    req_fixture f;
    fixture(&f, "GET", "https://127.0.0.1:8443/v2/manage/repos", V3_DATE);
    add_header(&f, "Host", V3_HOST);
    char *creq = creq_of(&f);
    ck_assert_ptr_nonnull(strstr(creq, "\nhost:" V3_HOST "\nx-sdk-date:"));
    free(creq);
}
END_TEST

START_TEST(test_unsigned_payload)
{
    req_fixture f;
    fixture(&f, "PUT", "https://" V3_HOST "/v2/x", V3_DATE);
    add_header(&f, "Content-Type", "application/octet-stream");
    add_header(&f, "X-Sdk-Content-Sha256", "UNSIGNED-PAYLOAD");
    f.req.body = "abc";
    f.req.body_len = 3;
    char *creq = creq_of(&f);
    ck_assert_str_eq(creq, "PUT\n/v2/x/\n\nx-sdk-content-sha256:UNSIGNED-PAYLOAD\nx-sdk-date:" V3_DATE
                           "\n\nx-sdk-content-sha256;x-sdk-date\nUNSIGNED-PAYLOAD");
    free(creq);
}
END_TEST

/* ---- errors --------------------------------------------------------------------------------- */

static void check_fails(const req_fixture *f, int want)
{
    char *auth = (char *)"untouched", *creq = (char *)"untouched", *sts = (char *)"untouched";
    ck_assert_int_eq(imgsync__swr_sign(&f->req, &auth), want);
    ck_assert_ptr_null(auth);
    ck_assert_int_eq(imgsync__swr_sign_parts(&f->req, &creq, &sts, NULL), want);
    ck_assert_ptr_null(creq);
    ck_assert_ptr_null(sts);
}

/* AK and SK are needed by the signature only, not by its parts. */
static void check_sign_fails(const req_fixture *f)
{
    char *auth = (char *)"untouched";
    ck_assert_int_eq(imgsync__swr_sign(&f->req, &auth), IMGSYNC_EINVAL);
    ck_assert_ptr_null(auth);
}

START_TEST(test_errors_escapes)
{
    static const char *bad[] = {"%zz", "%", "%4", "a%4g", "%00", "x%0"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char *out = (char *)"untouched";
        char q[32];
        snprintf(q, sizeof(q), "a=%s", bad[i]);
        ck_assert_int_eq(imgsync__swr_canonical_query(q, &out), IMGSYNC_EINVAL);
        ck_assert_ptr_null(out);
        snprintf(q, sizeof(q), "%s=1", bad[i]);
        ck_assert_int_eq(imgsync__swr_canonical_query(q, &out), IMGSYNC_EINVAL);
        out = (char *)"untouched";
        snprintf(q, sizeof(q), "/v2/%s/x", bad[i]);
        ck_assert_int_eq(imgsync__swr_canonical_uri(q, &out), IMGSYNC_EINVAL);
        ck_assert_ptr_null(out);
    }
    req_fixture f;
    fixture(&f, "GET", "https://" V3_HOST "/v2/manage/repos?filter=%zz", V3_DATE);
    check_fails(&f, IMGSYNC_EINVAL);
    f.req.url = "https://" V3_HOST "/v2/%zz/repos";
    check_fails(&f, IMGSYNC_EINVAL);
}
END_TEST

START_TEST(test_errors_headers)
{
    req_fixture f;
    fixture(&f, "GET", "https://" V3_HOST "/v2/manage/repos", V3_DATE);
    add_header(&f, "X-Project-Id", "a\r\nX-Evil: 1");
    check_fails(&f, IMGSYNC_EINVAL);
    f.values[0] = "a\n";
    check_fails(&f, IMGSYNC_EINVAL);
    f.values[0] = "a\r";
    check_fails(&f, IMGSYNC_EINVAL);
    f.values[0] = "ok";
    f.names[0] = "X Project";
    check_fails(&f, IMGSYNC_EINVAL);
    f.names[0] = "";
    check_fails(&f, IMGSYNC_EINVAL);
    f.names[0] = "X-Sdk-Date"; /* a date other than the one signed */
    f.values[0] = "20240101T000001Z";
    check_fails(&f, IMGSYNC_EINVAL);
    f.names[0] = "Content-Type"; /* not signed, but still no CR/LF */
    f.values[0] = "text/plain\r\n";
    check_fails(&f, IMGSYNC_EINVAL);
}
END_TEST

START_TEST(test_errors_request)
{
    req_fixture f;
    fixture(&f, "GET", "https://" V3_HOST "/v2/manage/repos", V3_DATE);
    f.req.ak = "";
    check_sign_fails(&f);
    f.req.ak = NULL;
    check_sign_fails(&f);
    f.req.ak = "Access Key";
    check_sign_fails(&f);
    f.req.ak = "AK,Signature=x";
    check_sign_fails(&f);
    f.req.ak = "AccessKey";
    f.req.sk = "";
    check_sign_fails(&f);
    f.req.sk = NULL;
    check_sign_fails(&f);
    f.req.sk = "SecretKey";
    f.req.sdk_date = "2024-01-01T00:00:00Z";
    check_fails(&f, IMGSYNC_EINVAL);
    f.req.sdk_date = NULL;
    check_fails(&f, IMGSYNC_EINVAL);
    f.req.sdk_date = V3_DATE;
    f.req.method = "";
    check_fails(&f, IMGSYNC_EINVAL);
    f.req.method = "GET /x";
    check_fails(&f, IMGSYNC_EINVAL);
    f.req.method = "GET";
    f.req.url = "/v2/manage/repos"; /* not absolute */
    check_fails(&f, IMGSYNC_EINVAL);
    f.req.url = "https://user:pw@" V3_HOST "/";
    check_fails(&f, IMGSYNC_EINVAL);
    f.req.url = "https://" V3_HOST "/";
    f.req.body_len = 3; /* a length without a body */
    check_fails(&f, IMGSYNC_EINVAL);
}
END_TEST

START_TEST(test_sk_not_in_output)
{
    req_fixture f;
    fixture(&f, "GET", "https://" V3_HOST "/v2/manage/repos", V3_DATE);
    char *creq, *sts, *auth;
    sign_all(&f, &creq, &sts, &auth);
    ck_assert_ptr_null(strstr(creq, "SecretKey"));
    ck_assert_ptr_null(strstr(sts, "SecretKey"));
    ck_assert_ptr_null(strstr(auth, "SecretKey"));
    free(creq);
    free(sts);
    free(auth);
}
END_TEST

Suite *swr_sign_suite(void)
{
    Suite *s = suite_create("swr_sign");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_vector_v1);
    tcase_add_test(tc, test_vector_v2);
    tcase_add_test(tc, test_vector_v3);
    tcase_add_test(tc, test_vector_query);
    tcase_add_test(tc, test_sdk_date);
    tcase_add_test(tc, test_canonical_uri);
    tcase_add_test(tc, test_canonical_query_edges);
    tcase_add_test(tc, test_empty_query);
    tcase_add_test(tc, test_header_trim_and_case);
    tcase_add_test(tc, test_duplicate_headers);
    tcase_add_test(tc, test_host);
    tcase_add_test(tc, test_unsigned_payload);
    tcase_add_test(tc, test_errors_escapes);
    tcase_add_test(tc, test_errors_headers);
    tcase_add_test(tc, test_errors_request);
    tcase_add_test(tc, test_sk_not_in_output);
    suite_add_tcase(s, tc);
    return s;
}

#include "check_main.h"
IMGSYNC_TEST_MAIN(swr_sign_suite)
