/*
 * How the libcurl transport reports libcurl's failures (imgsync__curl_map_error): the engine
 * error, the retry class the engine's retry policy acts on, and the detail. A pure function:
 * no server, no network.
 */
#include <check.h>
#include <curl/curl.h>
#include <string.h>

#include "engine/internal.h" /* imgsync__eresp_reset */
#include "engine/retry.h"
#include "engine/transport.h"
#include "imgsync/errors.h"

Suite *engine_curl_errors_suite(void);

typedef struct outcome {
    int error, retry_class;
    char detail[256];
} outcome;

static outcome map(CURLcode c, const char *errbuf, int in_headers)
{
    imgsync__eresp r;
    memset(&r, 0, sizeof(r));
    imgsync__curl_map_error((int)c, errbuf, in_headers, &r);
    outcome o;
    o.error = r.error;
    o.retry_class = r.retry_class;
    memcpy(o.detail, r.detail, sizeof(o.detail));
    imgsync__eresp_reset(&r);
    return o;
}

START_TEST(test_dns_not_retried)
{
    /* issue 6: a name that does not resolve is not retried (was 4 retries, 6.3 s) */
    outcome o = map(CURLE_COULDNT_RESOLVE_HOST, "Could not resolve host: nope.invalid", 0);
    ck_assert_int_eq(o.error, IMGSYNC_ENETWORK);
    ck_assert_int_eq(o.retry_class, IMGSYNC__RETRY_NEVER);
    ck_assert_str_eq(o.detail, "Could not resolve host: nope.invalid");
    ck_assert_int_eq(imgsync__retry_should(0, o.retry_class, 1), 0);
    o = map(CURLE_COULDNT_RESOLVE_PROXY, "", 0);
    ck_assert_int_eq(o.retry_class, IMGSYNC__RETRY_NEVER);
}
END_TEST

START_TEST(test_connection_failures)
{
    /* refused: nothing was sent, any request may go again */
    outcome o = map(CURLE_COULDNT_CONNECT, "Failed to connect", 0);
    ck_assert_int_eq(o.error, IMGSYNC_ENETWORK);
    ck_assert_int_eq(o.retry_class, IMGSYNC__RETRY_SAFE);
    /* timeouts (also the low-speed limit) and resets: retried for idempotent requests only */
    o = map(CURLE_OPERATION_TIMEDOUT, "Operation too slow", 1);
    ck_assert_int_eq(o.error, IMGSYNC_ETIMEOUT);
    ck_assert_int_eq(o.retry_class, IMGSYNC__RETRY_IDEMPOTENT);
    ck_assert_str_eq(o.detail, "Operation too slow");
    static const CURLcode resets[] = {CURLE_SEND_ERROR, CURLE_RECV_ERROR, CURLE_GOT_NOTHING, CURLE_PARTIAL_FILE,
                                      CURLE_HTTP2, CURLE_HTTP2_STREAM};
    for (size_t i = 0; i < sizeof(resets) / sizeof(resets[0]); i++) {
        o = map(resets[i], "", 0);
        ck_assert_int_eq(o.error, IMGSYNC_ENETWORK);
        ck_assert_int_eq(o.retry_class, IMGSYNC__RETRY_IDEMPOTENT);
        ck_assert_str_eq(o.detail, curl_easy_strerror(resets[i])); /* no error buffer: curl's text */
    }
}
END_TEST

START_TEST(test_tls_keeps_curl_reason)
{
    /* TLS failures keep libcurl's detailed reason and are not retried */
    outcome o = map(CURLE_PEER_FAILED_VERIFICATION, "SSL certificate problem: self-signed certificate", 0);
    ck_assert_int_eq(o.error, IMGSYNC_ENETWORK);
    ck_assert_int_eq(o.retry_class, IMGSYNC__RETRY_NEVER);
    ck_assert_str_eq(o.detail, "SSL certificate problem: self-signed certificate");
    o = map(CURLE_SSL_CONNECT_ERROR, "", 0);
    ck_assert_int_eq(o.retry_class, IMGSYNC__RETRY_NEVER);
}
END_TEST

START_TEST(test_headers_too_large)
{
    /* issue 6 item 12: libcurl 7.x ends a header line over its 100 KB limit with "out of memory"
     * and an empty error buffer; while headers are being read that is a header too large */
    outcome o = map(CURLE_OUT_OF_MEMORY, "", 1);
    ck_assert_int_eq(o.error, IMGSYNC_ETOOBIG);
    ck_assert_int_eq(o.retry_class, IMGSYNC__RETRY_NEVER);
    ck_assert_str_eq(o.detail, "response header too large");
    o = map(CURLE_OUT_OF_MEMORY, "Rejected 1048576 bytes header (max is 102400)!", 0);
    ck_assert_int_eq(o.error, IMGSYNC_ETOOBIG);
    /* all headers over libcurl's 300 KB: not a network error to retry */
    o = map(CURLE_RECV_ERROR, "Too large response headers: 307437 > 307200", 1);
    ck_assert_int_eq(o.error, IMGSYNC_ETOOBIG);
    ck_assert_int_eq(o.retry_class, IMGSYNC__RETRY_NEVER);
    ck_assert_str_eq(o.detail, "response header too large");
    /* out of memory anywhere else is what it says */
    o = map(CURLE_OUT_OF_MEMORY, "", 0);
    ck_assert_int_eq(o.error, IMGSYNC_ENOMEM);
    ck_assert_int_eq(o.retry_class, IMGSYNC__RETRY_NEVER);
}
END_TEST

START_TEST(test_first_error_kept)
{
    /* a limit the response builder enforced first (and stopped the transfer for) is the reason,
     * not the write error libcurl reports afterwards */
    imgsync__eresp r;
    memset(&r, 0, sizeof(r));
    r.max_body = 4;
    ck_assert_int_eq(imgsync__eresp_append(&r, "12345", 5), IMGSYNC_ETOOBIG);
    imgsync__curl_map_error((int)CURLE_WRITE_ERROR, "Failure writing output to destination", 0, &r);
    ck_assert_int_eq(r.error, IMGSYNC_ETOOBIG);
    ck_assert_str_eq(r.detail, "response body larger than 4 bytes");
    imgsync__eresp_reset(&r);
}
END_TEST

Suite *engine_curl_errors_suite(void)
{
    Suite *s = suite_create("engine_curl_errors");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_dns_not_retried);
    tcase_add_test(tc, test_connection_failures);
    tcase_add_test(tc, test_tls_keeps_curl_reason);
    tcase_add_test(tc, test_headers_too_large);
    tcase_add_test(tc, test_first_error_kept);
    suite_add_tcase(s, tc);
    return s;
}

#include "check_main.h"
IMGSYNC_TEST_MAIN(engine_curl_errors_suite)
