/* Review reproducer: the sign hook does not see every header that is sent. For a DELETE (or any
 * method but GET/HEAD/POST/PUT) without a body, engine/transfer.c put_headers() lists no
 * Content-Length, but engine/curl_transport.c set_method() gives curl POSTFIELDS "" so that
 * "Content-Length: 0" goes on the wire. The SPI says the attempt shows "every header about to
 * be sent". Runs the real libcurl transport against tests/tools/review_echo_server.py (python3,
 * loopback), which answers with the request headers it received. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "imgsync.h"
#include "imgsync/sys/provider.h"

Suite *review_sign_delete_suite(void);

static char signed_h[2048], got[4096];

static int t_start(imgsync_run *run)
{
    imgsync_job *j = imgsync_job_new(run, "DELETE", "/x");
    imgsync_job_set_auth(j, IMGSYNC_AUTH_PROVIDER);
    return imgsync_job_submit(j);
}

static int t_sign(imgsync_run *run, const imgsync_job *job, imgsync_attempt *a)
{
    for (size_t i = 0; i < imgsync_attempt_header_count(a); i++) {
        strncat(signed_h, imgsync_attempt_header_name(a, i), sizeof(signed_h) - strlen(signed_h) - 2);
        strcat(signed_h, ",");
    }
    return 0;
}

static int t_resp(imgsync_run *run, imgsync_job *job, const imgsync_response *r)
{
    snprintf(got, sizeof(got), "%s", imgsync_response_body(r, NULL));
    return 0;
}

static const imgsync_provider_vtable vt = {.version = 2, .kind = "review-sign-delete", .type = IMGSYNC_TYPE_OCI,
                                           .start = t_start, .on_response = t_resp, .sign = t_sign};

START_TEST(test_delete_content_length_not_signed)
{
    FILE *srv = popen("exec python3 tests/tools/review_echo_server.py", "r");
    ck_assert_ptr_nonnull(srv);
    int port = 0;
    ck_assert_int_eq(fscanf(srv, "%d", &port), 1);
    char ep[64];
    snprintf(ep, sizeof(ep), "http://127.0.0.1:%d", port);
    ck_assert_int_eq(imgsync_provider_register(&vt), 0);
    imgsync_ctx *ctx;
    imgsync_provider *p;
    uint64_t id;
    ck_assert_int_eq(imgsync_ctx_new(&ctx, NULL), 0);
    ck_assert_int_eq(imgsync_provider_new(&p, ctx, "review-sign-delete", "d"), 0);
    ck_assert_int_eq(imgsync_provider_set(p, "endpoint", ep), 0);
    ck_assert_int_eq(imgsync_sync_start(ctx, NULL, &id), 0);
    ck_assert_int_eq(imgsync_task_wait(ctx, id, 10000), 0);
    imgsync_ctx_free(ctx);
    pclose(srv); /* it served its one request and exited */
    /* the server saw Content-Length: 0; the signer must have seen it too */
    ck_assert_msg(strstr(got, "\"Content-Length\"") != NULL, "server did not report Content-Length: %s", got);
    ck_assert_msg(strstr(signed_h, "Content-Length") != NULL, "sign saw [%s] but the server got %s", signed_h, got);
}
END_TEST

Suite *review_sign_delete_suite(void)
{
    Suite *s = suite_create("review_sign_delete");
    TCase *tc = tcase_create("engine");
    tcase_add_test(tc, test_delete_content_length_not_signed);
    suite_add_tcase(s, tc);
    return s;
}

IMGSYNC_TEST_MAIN(review_sign_delete_suite)
