/* Unit tests of the "swr-enterprise" provider (src/providers/swr_ee.c) on scripted SWR EE API
 * v2 and IAM responses (facts: shared/reference/swr-jfrog-oci-api.md, "ref §x"), driven by the
 * replay harness (tests/support/replay.c) and its fake clock: no network. */
#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "imgsync.h"
#include "imgsync/sys/provider.h"
#include "providers/swr_sign.h"
#include "util/buf.h"
#include "support/provider_harness.h"
#include "support/replay.h"

Suite *swr_ee_provider_suite(void);

#define EP "https://swr-api.cn-north-4.myhuaweicloud.com"
#define IAM "https://iam.cn-north-4.myhuaweicloud.com/v3/auth/tokens"
#define PROV "ee"
#define AK "ACMEEEAK000000000001"
#define SK "acme-ee-sk-0001-AbCdEfGhIjKlMnOp"
#define PROJECT "3f2e1d0c9b8a79685746352413021f0e"
#define TOKEN1 "MIIToken-ee-one-XXXXXXXXXXXXXXXXXXXXXXXXXXXXXX"
#define CT_JSON "application/json;charset=utf-8"
#define SDK_DATE "20260101T000000Z" /* the fake clock starts at 2026-01-01T00:00:00Z */
#define H_JSON "Content-Type: application/json;charset=utf-8\n"

#define PROD "2c9b6f2e-7d1a-4c52-9f0e-0a1b2c3d4e01"
#define STG "7e4d2a91-3b6c-4f8e-a1d0-0a1b2c3d4e02"
#define OLD "b0f1e2d3-c4b5-4a69-8788-0a1b2c3d4e03"
#define PROD_HOST "acme-prod-2c9b6f2e.swr.cn-north-4.myhuaweicloud.com"
#define STG_HOST "acme-staging-7e4d2a91.swr.cn-north-4.myhuaweicloud.com"

#define D1 "sha256:1111111111111111111111111111111111111111111111111111111111111111"
#define D2 "sha256:2222222222222222222222222222222222222222222222222222222222222222"
#define D3 "sha256:3333333333333333333333333333333333333333333333333333333333333333"
#define D4 "sha256:4444444444444444444444444444444444444444444444444444444444444444"
#define MT_V2 "application/vnd.docker.distribution.manifest.v2+json"
#define MT_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define MT_CONFIG "application/vnd.docker.container.image.v1+json"

#define T_A "2025-03-01T10:00:00Z"
#define MS_A INT64_C(1740823200000)
#define T_B "2025-03-02T10:00:00.123456789Z"
#define MS_B INT64_C(1740909600123)
#define T_C "2025-03-03T10:00:00.5Z"
#define MS_C INT64_C(1740996000500)

static replay *R;
static imgsync_provider *P;


static void setup(void) { R = ph_setup(); }

static void teardown(void)
{
    ph_teardown();
    R = NULL;
    P = NULL;
}

/* ---- SWR EE JSON models (ref §2) --------------------------------------------------------------- */

static const char *instance_json(const char *id, const char *name, const char *status, const char *host)
{
    return ph_printf("{\"id\":\"%s\",\"name\":\"%s\",\"description\":\"\",\"spec\":\"swr_ee_pro\","
                   "\"version\":\"v2.9.0\",\"charge_mode\":\"postPaid\",\"access_address\":\"%s\","
                   "\"created_at\":\"2025-01-10T02:00:00Z\",\"updated_at\":\"2025-01-10T02:00:00Z\","
                   "\"expires_at\":\"\",\"status\":\"%s\",\"project_id\":\"" PROJECT "\"}",
                   id, name, host, status);
}

static const char *repo_json(const char *ns, const char *name)
{
    return ph_printf("{\"id\":1,\"name\":\"%s\",\"namespace_name\":\"%s\",\"namespace_id\":1,\"tag_count\":2,"
                   "\"pull_count\":0,\"artifact_count\":2,\"description\":\"\",\"created_at\":\"" T_A "\","
                   "\"updated_at\":\"" T_A "\"}",
                   name, ns);
}

/* tags: the JSON of the "tags" member ("[]", "null"), or NULL to leave it out. */
static const char *artifact_json(const char *digest, long long size, const char *push, const char *mmt,
                                 const char *tags)
{
    return ph_printf("{\"digest\":\"%s\",\"id\":1,\"repository_id\":1,\"repository_name\":\"x\",\"type\":\"IMAGE\","
                   "\"namespace_id\":1,\"media_type\":\"%s\",\"manifest_media_type\":\"%s\","
                   "\"pull_time\":\"0001-01-01T00:00:00Z\",\"push_time\":\"%s\",\"size\":%lld%s%s}",
                   digest, !strcmp(mmt, MT_LIST) ? MT_LIST : MT_CONFIG, mmt, push, size, tags ? ",\"tags\":" : "",
                   tags ? tags : "");
}

static const char *tag_ref(const char *name, const char *push)
{
    return ph_printf("{\"id\":7,\"repository_id\":1,\"artifact_id\":1,\"name\":\"%s\",\"push_time\":\"%s\","
                   "\"pull_time\":\"0001-01-01T00:00:00Z\"}",
                   name, push);
}

/* One page {"<member>":[items],"total":total} (total < 0: none). */
static void add_page(const char *url, const char *member, long total, const char *const *items, size_t n)
{
    imgsync__buf b;
    imgsync__buf_init(&b);
    ck_assert_int_eq(imgsync__buf_printf(&b, "{\"%s\":[", member), 0);
    for (size_t i = 0; i < n; i++)
        ck_assert_int_eq(imgsync__buf_printf(&b, "%s%s", i ? "," : "", items[i]), 0);
    ck_assert_int_eq(imgsync__buf_appends(&b, "]"), 0);
    if (total >= 0)
        ck_assert_int_eq(imgsync__buf_printf(&b, ",\"total\":%ld", total), 0);
    ck_assert_int_eq(imgsync__buf_appends(&b, "}"), 0);
    char *body = imgsync__buf_steal(&b);
    ck_assert_int_eq(replay_respond(R, "GET", url, 200, H_JSON, body), 0);
    free(body);
}

static const char *u_instances(long limit, long offset)
{
    return ph_printf(EP "/v2/" PROJECT "/instances?limit=%ld&offset=%ld", limit, offset);
}
static const char *u_repos(const char *iid, long limit, long offset)
{
    return ph_printf(EP "/v2/" PROJECT "/instances/%s/repositories?order_column=created_at&order_type=asc"
                      "&limit=%ld&offset=%ld",
                   iid, limit, offset);
}
static const char *u_ns_repos(const char *iid, const char *ns, long limit, long offset)
{
    return ph_printf(EP "/v2/" PROJECT "/instances/%s/namespaces/%s/repositories?order_column=created_at"
                      "&order_type=asc&limit=%ld&offset=%ld",
                   iid, ns, limit, offset);
}
static const char *u_arts(const char *iid, const char *ns, const char *enc, long limit, long offset)
{
    return ph_printf(EP "/v2/" PROJECT "/instances/%s/namespaces/%s/repositories/%s/artifacts?limit=%ld&offset=%ld",
                   iid, ns, enc, limit, offset);
}

/* acme: instances in 2 pages of 2 (prod, staging | legacy Unavailable); prod's repositories in
 * 2 pages (library/nginx, library/team/app | apps/api), staging's in one (library/nginx).
 * prod nginx: 3 artifacts over 2 pages (one untagged); team/app: a multi-arch list with 2 tags;
 * apps/api: one artifact, total reached on a full page; staging nginx: one artifact. */
static void add_base(void)
{
    const char *i1[] = {instance_json(PROD, "acme-prod", "Running", PROD_HOST),
                        instance_json(STG, "acme-staging", "Running", "https://" STG_HOST "/")};
    const char *i2[] = {instance_json(OLD, "acme-legacy", "Unavailable", "")};
    add_page(u_instances(2, 0), "instances", 3, i1, 2);
    add_page(u_instances(2, 2), "instances", 3, i2, 1);
    const char *r1[] = {repo_json("library", "nginx"), repo_json("library", "team/app")};
    const char *r2[] = {repo_json("apps", "api")};
    add_page(u_repos(PROD, 2, 0), "repositories", 3, r1, 2);
    add_page(u_repos(PROD, 2, 2), "repositories", 3, r2, 1);
    const char *r3[] = {repo_json("library", "nginx")};
    add_page(u_repos(STG, 2, 0), "repositories", 1, r3, 1);
    const char *n1[] = {artifact_json(D1, 100, T_A, MT_V2,
                                      ph_printf("[%s,%s]", tag_ref("1.25", T_A), tag_ref("latest", T_C))),
                        artifact_json(D2, 200, T_B, MT_V2, ph_printf("[%s]", tag_ref("1.24", T_B)))};
    const char *n2[] = {artifact_json(D3, 300, T_A, MT_V2, "[]")};
    add_page(u_arts(PROD, "library", "nginx", 2, 0), "artifacts", 3, n1, 2);
    add_page(u_arts(PROD, "library", "nginx", 2, 2), "artifacts", 3, n2, 1);
    const char *app[] = {artifact_json(D4, 400, T_C, MT_LIST,
                                       ph_printf("[%s,%s]", tag_ref("v2", T_C), tag_ref("stable", T_C)))};
    add_page(u_arts(PROD, "library", "team%2Fapp", 2, 0), "artifacts", 1, app, 1);
    const char *api[] = {artifact_json(D1, 500, T_B, MT_V2, ph_printf("[%s]", tag_ref("2024.12", T_B))),
                         artifact_json(D2, 600, T_B, MT_V2, ph_printf("[%s]", tag_ref("2024.11", T_A)))};
    add_page(u_arts(PROD, "apps", "api", 2, 0), "artifacts", 2, api, 2);
    const char *sn[] = {artifact_json(D3, 700, T_C, MT_V2, ph_printf("[%s]", tag_ref("1.25", T_C)))};
    add_page(u_arts(STG, "library", "nginx", 2, 0), "artifacts", 1, sn, 1);
}

typedef struct want_row {
    const char *partition, *repository, *tag, *digest;
    int64_t size, update_ms;
    int multi;
} want_row;

/* in inventory order: provider, partition, repository, tag */
static const want_row BASE_ROWS[] = {
    {PROD, "apps/api", "2024.11", D2, 600, MS_A, 0},
    {PROD, "apps/api", "2024.12", D1, 500, MS_B, 0},
    {PROD, "library/nginx", "1.24", D2, 200, MS_B, 0},
    {PROD, "library/nginx", "1.25", D1, 100, MS_A, 0},
    {PROD, "library/nginx", "latest", D1, 100, MS_C, 0},
    {PROD, "library/team/app", "stable", D4, 400, MS_C, 1},
    {PROD, "library/team/app", "v2", D4, 400, MS_C, 1},
    {STG, "library/nginx", "1.25", D3, 700, MS_C, 0},
};
#define NBASE (sizeof(BASE_ROWS) / sizeof(BASE_ROWS[0]))

static void expect_rows(const want_row *want, size_t n)
{
    imgsync_iter *it = NULL;
    ck_assert_int_eq(imgsync_iter_new(&it, replay_ctx(R), NULL), 0);
    size_t i = 0;
    const imgsync_image *im;
    while ((im = imgsync_iter_next(it)) != NULL) {
        ck_assert_msg(i < n, "extra row %s %s:%s", imgsync_image_partition(im), imgsync_image_repository(im),
                      imgsync_image_tag(im));
        const want_row *w = &want[i++];
        int prod = !strcmp(w->partition, PROD);
        ck_assert_str_eq(imgsync_image_partition(im), w->partition);
        ck_assert_str_eq(imgsync_image_repository(im), w->repository);
        ck_assert_str_eq(imgsync_image_tag(im), w->tag);
        ck_assert_str_eq(imgsync_image_digest(im), w->digest);
        ck_assert_int_eq(imgsync_image_size(im), w->size);
        ck_assert_msg(imgsync_image_update_ms(im) == w->update_ms, "%s:%s update %lld", w->repository, w->tag,
                      (long long)imgsync_image_update_ms(im));
        ck_assert_int_eq(imgsync_image_multi_arch(im), w->multi);
        ck_assert_str_eq(imgsync_image_media_type(im), w->multi ? MT_LIST : MT_V2);
        ck_assert_str_eq(imgsync_image_instance_id(im), w->partition);
        ck_assert_str_eq(imgsync_image_instance_name(im), prod ? "acme-prod" : "acme-staging");
        ck_assert_str_eq(imgsync_image_host(im), prod ? PROD_HOST : STG_HOST);
        ck_assert_str_eq(imgsync_image_registry_type(im), "SwrEnterprise");
        ck_assert_str_eq(imgsync_image_image_type(im), "instance_image");
        size_t nslen = strcspn(w->repository, "/");
        ck_assert_int_eq(strncmp(imgsync_image_namespace(im), w->repository, nslen), 0);
        ck_assert_uint_eq(strlen(imgsync_image_namespace(im)), nslen);
    }
    imgsync_iter_free(it);
    ck_assert_uint_eq(i, n);
}

/* ---- driving ------------------------------------------------------------------------------- */

static imgsync_provider *make(int aksk)
{
    imgsync_provider *p = replay_add_provider(R, "swr-enterprise", PROV, EP);
    ck_assert_msg(p != NULL, "provider: %s", imgsync_ctx_errmsg(replay_ctx(R)));
    ck_assert_int_eq(imgsync_provider_set(p, "region", "cn-north-4"), 0);
    ck_assert_int_eq(imgsync_provider_set(p, "page_size", "2"), 0);
    ck_assert_int_eq(imgsync_provider_set(p, "project_id", PROJECT), 0);
    if (aksk) {
        ck_assert_int_eq(imgsync_provider_set(p, "ak", AK), 0);
        ck_assert_int_eq(imgsync_provider_set(p, "sk", SK), 0);
    } else {
        ck_assert_int_eq(imgsync_provider_set(p, "username", "acme-admin"), 0);
        ck_assert_int_eq(imgsync_provider_set(p, "password", "Acme#EE-Admin-Pass1"), 0);
        ck_assert_int_eq(imgsync_provider_set(p, "domain", "acme"), 0);
    }
    return p;
}








/* Recompute the request's signature from what went on the wire (ref §3.2). */
static void expect_signed(const replay_request *q) { ph_expect_signed(q, AK, SK, SDK_DATE, PROJECT); }

/* ---- syncs ---------------------------------------------------------------------------------- */

START_TEST(test_aksk_sync_paged)
{
    P = make(1);
    add_base();
    imgsync_task *t = ph_sync(NULL);
    ph_expect_state(t, IMGSYNC_TASK_SUCCEEDED);
    ph_expect_no_unexpected();
    expect_rows(BASE_ROWS, NBASE);
    ph_expect_reason(t, "instance acme-legacy skipped: status Unavailable");
    ck_assert_str_eq(imgsync_task_registry_type(t, 0), "SwrEnterprise");
    /* instances 2 pages, prod repos 2, staging repos 1, nginx 2, team/app 1, api 1 (total
     * reached on a full page), staging nginx 1; nothing of the skipped instance */
    ck_assert_uint_eq(replay_nrequests(R), 10);
    ck_assert_uint_eq(replay_count_containing(R, "GET", OLD), 0);
    ck_assert_uint_eq(replay_count_containing(R, "GET", "apps/repositories/api/artifacts?limit=2&offset=2"), 0);
    for (size_t i = 0; i < replay_nrequests(R); i++)
        expect_signed(replay_request_at(R, i));
}
END_TEST

#define TOKEN_BODY "{\"token\":{\"expires_at\":\"2026-01-02T00:00:00.000000Z\",\"methods\":[\"password\"]}}"

START_TEST(test_password_token_on_every_request)
{
    P = make(0);
    ck_assert_int_eq(replay_respond(R, "POST", IAM, 201, H_JSON "X-Subject-Token: " TOKEN1 "\n", TOKEN_BODY), 0);
    add_base();
    imgsync_task *t = ph_sync(NULL);
    ph_expect_state(t, IMGSYNC_TASK_SUCCEEDED);
    ph_expect_no_unexpected();
    expect_rows(BASE_ROWS, NBASE);
    ck_assert_uint_eq(replay_count(R, "POST", IAM), 1);
    for (size_t i = 1; i < replay_nrequests(R); i++) {
        const replay_request *q = replay_request_at(R, i);
        ck_assert_str_eq(replay_request_header(q, "X-Auth-Token"), TOKEN1);
        ck_assert_ptr_null(replay_request_header(q, "Authorization"));
    }
}
END_TEST

/* Untagged artifacts whatever form "tags" takes ([], null, absent): rows with tag "" when
 * include_untagged, else none. */
START_TEST(test_untagged)
{
    static const char *const forms[] = {"[]", "null", NULL};
    for (size_t k = 0; k < 3; k++) {
        R = ph_renew();
        P = make(1);
        ck_assert_int_eq(imgsync_provider_set(P, "include_untagged", "true"), 0);
        add_base();
        const char *n2[] = {artifact_json(D3, 300, T_A, MT_V2, forms[k])};
        add_page(u_arts(PROD, "library", "nginx", 2, 2), "artifacts", 3, n2, 1);
        imgsync_task *t = ph_sync(NULL);
        ph_expect_state(t, IMGSYNC_TASK_SUCCEEDED);
        ck_assert_uint_eq(imgsync_inventory_count(replay_ctx(R)), NBASE + 1);
        imgsync_iter *it = NULL;
        ck_assert_int_eq(imgsync_iter_new(&it, replay_ctx(R), NULL), 0);
        const imgsync_image *im;
        int found = 0;
        while ((im = imgsync_iter_next(it)) != NULL)
            if (!strcmp(imgsync_image_tag(im), "")) {
                found++;
                ck_assert_str_eq(imgsync_image_digest(im), D3);
                ck_assert_str_eq(imgsync_image_repository(im), "library/nginx");
                ck_assert_int_eq(imgsync_image_update_ms(im), MS_A);
            }
        imgsync_iter_free(it);
        ck_assert_int_eq(found, 1);
    }
    ck_assert_int_eq(imgsync_provider_set(P, "include_untagged", "false"), 0);
    ph_sync(NULL);
    expect_rows(BASE_ROWS, NBASE);
}
END_TEST

/* The same path in two instances is two scopes: staging's nginx failing keeps its row and does
 * not touch prod's. */
START_TEST(test_partitions_separate)
{
    P = make(1);
    add_base();
    ph_sync(NULL);
    ck_assert_int_eq(
        replay_respond(R, "GET", u_arts(STG, "library", "nginx", 2, 0), 200, H_JSON, "{\"artifacts\":7}"), 0);
    const char *n1[] = {artifact_json(D1, 100, T_A, MT_V2, ph_printf("[%s]", tag_ref("1.25", T_A)))};
    add_page(u_arts(PROD, "library", "nginx", 2, 0), "artifacts", 1, n1, 1);
    imgsync_task *t = ph_sync(NULL);
    ph_expect_state(t, IMGSYNC_TASK_PARTIAL);
    ck_assert_uint_eq(imgsync_inventory_count(replay_ctx(R)), NBASE - 2); /* prod nginx: 1.25 only */
    ck_assert_uint_eq(imgsync_task_error_count(t), 1);
    ck_assert_str_eq(imgsync_task_error_repository(t, 0), STG "/library/nginx");
    ck_assert_int_eq(imgsync_task_error_code(t, 0), IMGSYNC_EPROTOCOL);
}
END_TEST

/* An instance created meanwhile shifts the pages: one seen again is listed (or noted) once. */
START_TEST(test_instance_repeated_across_pages)
{
    P = make(1);
    add_base();
    const char *i2[] = {instance_json(STG, "acme-staging", "Running", STG_HOST),
                        instance_json(OLD, "acme-legacy", "Unavailable", "")};
    add_page(u_instances(2, 2), "instances", 4, i2, 2);
    ck_assert_int_eq(replay_respond(R, "GET", u_instances(2, 4), 200, H_JSON,
                                    ph_printf("{\"instances\":[%s],\"total\":4}",
                                            instance_json(OLD, "acme-legacy", "Unavailable", ""))),
                     0);
    imgsync_task *t = ph_sync(NULL);
    ph_expect_state(t, IMGSYNC_TASK_SUCCEEDED);
    expect_rows(BASE_ROWS, NBASE);
    ck_assert_uint_eq(replay_count(R, "GET", u_repos(STG, 2, 0)), 1);
    const char *reason = imgsync_task_registry_reason(t, 0);
    const char *first = strstr(reason, "acme-legacy skipped");
    ck_assert_ptr_nonnull(first);
    ck_assert_ptr_null(strstr(first + 1, "acme-legacy skipped"));
}
END_TEST

/* ---- failures ---------------------------------------------------------------------------------- */

START_TEST(test_not_authorized)
{
    P = make(1);
    ck_assert_int_eq(replay_respond(R, "GET", u_instances(2, 0), 403, H_JSON,
                                    "{\"error_code\":\"SVCSTG.SWR.4030170\",\"error_msg\":\"Insufficient "
                                    "permissions\",\"encoded_authorization_message\":\"\"}"),
                     0);
    imgsync_task *t = ph_sync(NULL);
    ph_expect_state(t, IMGSYNC_TASK_FAILED);
    ck_assert_int_eq(imgsync_task_registry_error(t, 0), IMGSYNC_EAUTH);
    ph_expect_reason(t, "registry '" PROV "' is not authorized for SWR Enterprise Edition");
    ph_expect_reason(t, "SVCSTG.SWR.4030170");
    ck_assert_ptr_null(strstr(imgsync_task_registry_reason(t, 0), "Insufficient"));
    ck_assert_uint_eq(imgsync_inventory_count(replay_ctx(R)), 0);
}
END_TEST

START_TEST(test_wrong_sk_keeps_rows)
{
    P = make(1);
    add_base();
    ph_sync(NULL);
    ck_assert_int_eq(replay_respond(R, "GET", u_instances(2, 0), 401, H_JSON,
                                    "{\"error_code\":\"APIGW.0301\",\"error_msg\":\"verify aksk signature fail\"}"),
                     0);
    imgsync_task *t = ph_sync(NULL);
    ph_expect_state(t, IMGSYNC_TASK_FAILED);
    ck_assert_int_eq(imgsync_task_registry_error(t, 0), IMGSYNC_EAUTH);
    ph_expect_reason(t, "APIGW.0301");
    expect_rows(BASE_ROWS, NBASE);
}
END_TEST

/* A server that echoes the SK or the password in its error text: no status text quotes them. */
START_TEST(test_secrets_never_in_status)
{
    static const char *const secrets[] = {"Acme#EE-Admin-Pass1", SK}; /* by aksk */
    for (int aksk = 0; aksk < 2; aksk++) {
        R = ph_renew();
        P = make(aksk);
        ck_assert_int_eq(replay_respond(R, "POST", IAM, 201, H_JSON "X-Subject-Token: " TOKEN1 "\n", TOKEN_BODY), 0);
        add_base();
        const char *body = ph_printf("{\"error_code\":\"SVCSTG.SWR.5000003\",\"error_msg\":\"bad %s\"}", secrets[aksk]);
        ck_assert_int_eq(replay_respond(R, "GET", u_arts(STG, "library", "nginx", 2, 0), 500, H_JSON, body), 0);
        ck_assert_int_eq(replay_respond(R, "GET", u_repos(PROD, 2, 2), 502, H_JSON, body), 0);
        imgsync_task *t = ph_sync(NULL);
        ph_expect_state(t, IMGSYNC_TASK_PARTIAL);
        ck_assert_ptr_null(strstr(imgsync_task_registry_reason(t, 0), secrets[aksk]));
        ck_assert_uint_ge(imgsync_task_error_count(t), 2);
        for (size_t i = 0; i < imgsync_task_error_count(t); i++)
            ck_assert_msg(!strstr(imgsync_task_error_message(t, i), secrets[aksk]), "aksk %d: %s", aksk,
                          imgsync_task_error_message(t, i));
    }
}
END_TEST

/* An instance whose repository list fails (403, an SVCSTG.SWR.403xx code with another status,
 * a 500, a transport error) fails alone: partial, its rows kept, the other one complete. */
START_TEST(test_instance_fails_alone)
{
    static const struct {
        int status;
        const char *body, *needle;
        int code;
    } cases[] = {
        {403, "{\"error_code\":\"SVCSTG.SWR.4030170\"}", "not authorized for SWR Enterprise Edition", IMGSYNC_EAUTH},
        {400, "{\"error_code\":\"SVCSTG.SWR.4030001\"}", "not authorized for SWR Enterprise Edition", IMGSYNC_EAUTH},
        {500, "{\"error_code\":\"SVCSTG.SWR.5000003\"}", "answered HTTP 500, error_code 'SVCSTG.SWR.5000003'",
         IMGSYNC_EHTTP},
        {0, NULL, "GET repositories failed", IMGSYNC_ENETWORK},
    };
    P = make(1);
    add_base();
    ph_sync(NULL);
    for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        if (cases[k].status)
            ck_assert_int_eq(replay_respond(R, "GET", u_repos(STG, 2, 0), cases[k].status, H_JSON, cases[k].body), 0);
        else
            ck_assert_int_eq(replay_respond_error(R, "GET", u_repos(STG, 2, 0), IMGSYNC_ENETWORK), 0);
        imgsync_task *t = ph_sync(NULL);
        ph_expect_state(t, IMGSYNC_TASK_PARTIAL);
        ph_expect_reason(t, "instance acme-staging (" STG ")");
        ph_expect_reason(t, cases[k].needle);
        ck_assert_int_eq(imgsync_task_registry_error(t, 0), cases[k].code);
        expect_rows(BASE_ROWS, NBASE);
    }
}
END_TEST

/* A Running instance with no usable access_address: its rows would name no registry host. */
START_TEST(test_running_without_access_address)
{
    P = make(1);
    add_base();
    ph_sync(NULL);
    const char *i1[] = {instance_json(PROD, "acme-prod", "Running", PROD_HOST),
                        instance_json(STG, "acme-staging", "Running", "")};
    add_page(u_instances(2, 0), "instances", 3, i1, 2);
    imgsync_task *t = ph_sync(NULL);
    ph_expect_state(t, IMGSYNC_TASK_PARTIAL);
    ph_expect_reason(t, "access_address");
    expect_rows(BASE_ROWS, NBASE);
    ck_assert_uint_eq(replay_count_containing(R, "GET", STG), 0);
}
END_TEST

/* ---- hostile and malformed bodies: clear errors, no rows lost ------------------------------------ */

START_TEST(test_malformed_instances)
{
    static const char *const bodies[] = {"[]", "{\"instances\":{}}", "not json", "{\"instances\":[1,2,3]}",
                                         "{\"instances\":[{\"id\":\"a b\",\"status\":\"Running\"}]}",
                                         "{\"instances\":[{\"id\":\"x\\u0000y\",\"status\":\"Running\"}]}"};
    P = make(1);
    add_base();
    ph_sync(NULL);
    for (size_t k = 0; k < sizeof(bodies) / sizeof(bodies[0]); k++) {
        ck_assert_int_eq(replay_respond(R, "GET", u_instances(2, 0), 200, H_JSON, bodies[k]), 0);
        imgsync_task *t = ph_sync(NULL);
        ck_assert_msg(imgsync_task_state_of(t) != IMGSYNC_TASK_SUCCEEDED, "body %s succeeded", bodies[k]);
        ck_assert_int_eq(imgsync_task_registry_error(t, 0), IMGSYNC_EPROTOCOL);
        expect_rows(BASE_ROWS, NBASE);
    }
}
END_TEST

START_TEST(test_malformed_repositories_and_artifacts)
{
    P = make(1);
    add_base();
    ph_sync(NULL);
    /* a repository without namespace_name fails prod (all of it kept); staging's nginx has an
     * artifact without a digest, prod's team/app a tag named with a NUL, api a page too long */
    const char *r1[] = {"{\"name\":\"nginx\",\"namespace_name\":null}", repo_json("library", "team/app")};
    add_page(u_repos(PROD, 2, 0), "repositories", 3, r1, 2);
    ck_assert_int_eq(replay_respond(R, "GET", u_arts(STG, "library", "nginx", 2, 0), 200, H_JSON,
                                    "{\"artifacts\":[{\"digest\":\"md5:00\",\"tags\":[{\"name\":\"1.25\"}]}],"
                                    "\"total\":1}"),
                     0);
    ck_assert_int_eq(replay_respond(R, "GET", u_arts(PROD, "library", "team%2Fapp", 2, 0), 200, H_JSON,
                                    ph_printf("{\"artifacts\":[%s],\"total\":1}",
                                            artifact_json(D4, 1, T_A, MT_V2, "[{\"name\":\"v\\u0000x\"}]"))),
                     0);
    const char *three[] = {artifact_json(D1, 1, T_A, MT_V2, "[]"), artifact_json(D2, 1, T_A, MT_V2, "[]"),
                           artifact_json(D3, 1, T_A, MT_V2, "[]")};
    add_page(u_arts(PROD, "apps", "api", 2, 0), "artifacts", 3, three, 3);
    imgsync_task *t = ph_sync(NULL);
    ph_expect_state(t, IMGSYNC_TASK_FAILED); /* every repository listed failed, each one on its own */
    size_t eproto = 0;
    for (size_t i = 0; i < imgsync_task_error_count(t); i++)
        eproto += imgsync_task_error_code(t, i) == IMGSYNC_EPROTOCOL;
    ck_assert_uint_eq(eproto, 4);
    expect_rows(BASE_ROWS, NBASE);
}
END_TEST

/* ---- request hints, options --------------------------------------------------------------------- */

START_TEST(test_named_repositories_fetched_directly)
{
    P = make(1);
    add_base();
    ck_assert_int_eq(replay_respond(R, "GET", u_arts(STG, "library", "team%2Fapp", 2, 0), 404, H_JSON,
                                    "{\"error_code\":\"SVCSTG.SWR.4040010\"}"),
                     0);
    imgsync_request *req = NULL;
    ck_assert_int_eq(imgsync_request_new(&req), 0);
    ck_assert_int_eq(imgsync_request_add_repository(req, PROV, "library/team/app"), 0);
    imgsync_task *t = ph_sync(req);
    ph_expect_state(t, IMGSYNC_TASK_SUCCEEDED);
    ph_expect_no_unexpected();
    ck_assert_uint_eq(replay_count_containing(R, "GET", "/repositories?"), 0);
    ck_assert_uint_eq(replay_count(R, "GET", u_arts(PROD, "library", "team%2Fapp", 2, 0)), 1);
    ck_assert_uint_eq(imgsync_inventory_count(replay_ctx(R)), 2);
}
END_TEST

START_TEST(test_namespace_hint)
{
    P = make(1);
    add_base();
    const char *api[] = {repo_json("apps", "api")};
    add_page(u_ns_repos(PROD, "apps", 2, 0), "repositories", 1, api, 1);
    ck_assert_int_eq(replay_respond(R, "GET", u_ns_repos(STG, "apps", 2, 0), 404, H_JSON,
                                    "{\"error_code\":\"SVCSTG.SWR.4040010\"}"),
                     0);
    imgsync_request *req = NULL;
    ck_assert_int_eq(imgsync_request_new(&req), 0);
    ck_assert_int_eq(imgsync_request_add_filter(req, IMGSYNC_FILTER_NAMESPACE, "apps", IMGSYNC_INCLUDE), 0);
    imgsync_task *t = ph_sync(req);
    ph_expect_state(t, IMGSYNC_TASK_SUCCEEDED);
    ph_expect_no_unexpected();
    ck_assert_uint_eq(replay_count(R, "GET", u_repos(PROD, 2, 0)), 0);
    ck_assert_uint_eq(imgsync_inventory_count(replay_ctx(R)), 2);
}
END_TEST

START_TEST(test_instance_id_option)
{
    P = make(1);
    add_base();
    ck_assert_int_eq(imgsync_provider_set(P, "instance_id", STG), 0);
    ck_assert_int_eq(replay_respond(R, "GET", EP "/v2/" PROJECT "/instances/" STG, 200, H_JSON,
                                    instance_json(STG, "acme-staging", "Running", STG_HOST)),
                     0);
    imgsync_task *t = ph_sync(NULL);
    ph_expect_state(t, IMGSYNC_TASK_SUCCEEDED);
    ph_expect_no_unexpected();
    expect_rows(BASE_ROWS + NBASE - 1, 1);
    ck_assert_uint_eq(replay_count_containing(R, "GET", "/instances?"), 0);
    ck_assert_int_eq(replay_respond(R, "GET", EP "/v2/" PROJECT "/instances/" STG, 404, H_JSON,
                                    "{\"error_code\":\"SVCSTG.SWR.4040010\"}"),
                     0);
    t = ph_sync(NULL);
    ph_expect_state(t, IMGSYNC_TASK_FAILED);
    ck_assert_int_eq(imgsync_task_registry_error(t, 0), IMGSYNC_ENOTFOUND);
    ph_expect_reason(t, "no instance '" STG "'");
}
END_TEST

START_TEST(test_check_one_small_page)
{
    P = make(1);
    const char *one[] = {instance_json(PROD, "acme-prod", "Running", PROD_HOST)};
    add_page(u_instances(1, 0), "instances", 3, one, 1);
    ck_assert_int_eq(imgsync_provider_check(P), 0);
    ck_assert_uint_eq(replay_nrequests(R), 1);
    expect_signed(replay_request_at(R, 0));
}
END_TEST

START_TEST(test_option_values)
{
    P = replay_add_provider(R, "swr-enterprise", PROV, EP);
    ck_assert_ptr_nonnull(P);
    ck_assert_int_eq(imgsync_provider_set(P, "page_size", "0"), IMGSYNC_EINVAL);
    ck_assert_int_eq(imgsync_provider_set(P, "page_size", "101"), IMGSYNC_EINVAL);
    ck_assert_int_eq(imgsync_provider_set(P, "page_size", "100"), 0);
    ck_assert_int_eq(imgsync_provider_set(P, "include_untagged", "maybe"), IMGSYNC_EINVAL);
    ck_assert_int_eq(imgsync_provider_set(P, "include_untagged", "true"), 0);
    ck_assert_int_eq(imgsync_provider_set(P, "instance_id", "a/b"), IMGSYNC_EINVAL);
    ck_assert_int_eq(imgsync_provider_set(P, "instance_id", STG), 0);
    ck_assert_int_eq(imgsync_provider_set(P, "region", "cn_north_4"), IMGSYNC_EINVAL);
    ck_assert_int_eq(imgsync_provider_set(P, "no_such_option", "1"), IMGSYNC_EINVAL);
}
END_TEST

#define IAM_PROJECTS "https://iam.cn-north-4.myhuaweicloud.com/v3/projects?name=cn-north-4"

static imgsync_provider *make_without_project(void)
{
    imgsync_provider *p = replay_add_provider(R, "swr-enterprise", PROV, EP);
    ck_assert_ptr_nonnull(p);
    ck_assert_int_eq(imgsync_provider_set(p, "region", "cn-north-4"), 0);
    ck_assert_int_eq(imgsync_provider_set(p, "page_size", "2"), 0);
    ck_assert_int_eq(imgsync_provider_set(p, "ak", AK), 0);
    ck_assert_int_eq(imgsync_provider_set(p, "sk", SK), 0);
    return p;
}

/* No project_id: IAM's GET /v3/projects?name={region} (ref §3.1), signed, gives it; the SWR EE
 * requests then carry it in their paths and as X-Project-Id. */
START_TEST(test_project_id_looked_up)
{
    P = make_without_project();
    ck_assert_int_eq(replay_respond(R, "GET", IAM_PROJECTS, 200, H_JSON,
                                    "{\"projects\":[{\"id\":\"0000\",\"name\":\"cn-north-4_sub\"},"
                                    "{\"id\":\"" PROJECT "\",\"name\":\"cn-north-4\"}]}"),
                     0);
    add_base();
    imgsync_task *t = ph_sync(NULL);
    ph_expect_state(t, IMGSYNC_TASK_SUCCEEDED);
    ph_expect_no_unexpected();
    expect_rows(BASE_ROWS, NBASE);
    const replay_request *q = replay_request_at(R, 0);
    ck_assert_str_eq(q->url, IAM_PROJECTS);
    ck_assert_ptr_nonnull(strstr(replay_request_header(q, "Authorization"), "SDK-HMAC-SHA256 Access=" AK));
    ck_assert_ptr_null(replay_request_header(q, "X-Project-Id"));
    for (size_t i = 1; i < replay_nrequests(R); i++)
        expect_signed(replay_request_at(R, i));
}
END_TEST

START_TEST(test_project_lookup_fails)
{
    P = make_without_project();
    ck_assert_int_eq(replay_respond(R, "GET", IAM_PROJECTS, 200, H_JSON, "{\"projects\":[]}"), 0);
    imgsync_task *t = ph_sync(NULL);
    ph_expect_state(t, IMGSYNC_TASK_FAILED);
    ck_assert_int_eq(imgsync_task_registry_error(t, 0), IMGSYNC_ENOTFOUND);
    ph_expect_reason(t, "IAM lists no project named cn-north-4; set option 'project_id'");
    ck_assert_int_eq(replay_respond(R, "GET", IAM_PROJECTS, 403, H_JSON, "{\"error_code\":\"IAM.0003\"}"), 0);
    t = ph_sync(NULL);
    ph_expect_state(t, IMGSYNC_TASK_FAILED);
    ck_assert_int_eq(imgsync_task_registry_error(t, 0), IMGSYNC_EAUTH);
    ph_expect_reason(t, "cannot look up the project id of region cn-north-4");
    ph_expect_reason(t, "IAM.0003");
    ck_assert_uint_eq(replay_nrequests(R), 1);
}
END_TEST

/* An instance that is gone (deleted) loses its rows; one that is not Running keeps them. */
START_TEST(test_deleted_instance_pruned)
{
    P = make(1);
    add_base();
    ph_sync(NULL);
    const char *i1[] = {instance_json(PROD, "acme-prod", "Running", PROD_HOST),
                        instance_json(STG, "acme-staging", "Unavailable", STG_HOST)};
    add_page(u_instances(2, 0), "instances", 2, i1, 2);
    imgsync_task *t = ph_sync(NULL);
    ph_expect_state(t, IMGSYNC_TASK_SUCCEEDED);
    expect_rows(BASE_ROWS, NBASE);
    const char *i2[] = {instance_json(PROD, "acme-prod", "Running", PROD_HOST)};
    add_page(u_instances(2, 0), "instances", 1, i2, 1);
    t = ph_sync(NULL);
    ph_expect_state(t, IMGSYNC_TASK_SUCCEEDED);
    expect_rows(BASE_ROWS, NBASE - 1);
}
END_TEST


/* ---- review9: paging under change, lying totals, hostile values ------------------------------ */

/* Rows of prod's library/nginx with D3 tagged "1.23" (instead of untagged), for the shift tests. */
static const want_row ROWS_123[] = {
    {PROD, "apps/api", "2024.11", D2, 600, MS_A, 0},
    {PROD, "apps/api", "2024.12", D1, 500, MS_B, 0},
    {PROD, "library/nginx", "1.23", D3, 300, MS_A, 0},
    {PROD, "library/nginx", "1.24", D2, 200, MS_B, 0},
    {PROD, "library/nginx", "1.25", D1, 100, MS_A, 0},
    {PROD, "library/nginx", "latest", D1, 100, MS_C, 0},
    {PROD, "library/team/app", "stable", D4, 400, MS_C, 1},
    {PROD, "library/team/app", "v2", D4, 400, MS_C, 1},
    {STG, "library/nginx", "1.25", D3, 700, MS_C, 0},
};
#define N123 (sizeof(ROWS_123) / sizeof(ROWS_123[0]))

/* Was a defect (review of issue 9): page shift on deletion in the repository walk. prod's repositories are [nginx,
 * team/app, api]; page 1 (offset 0) is read, then nginx is deleted: api moves to offset 1, the
 * page at offset 2 is empty and total drops from 3 to 2. apps/api exists (its artifacts answer)
 * but is never listed; the walk ends "complete" and the catalog prunes its rows. The only sound
 * outcomes are listing api or failing prod (rows kept); here its 2 rows are removed. */
START_TEST(test_repository_deleted_mid_walk_keeps_rows)
{
    P = make(1);
    add_base();
    ph_sync(NULL);
    expect_rows(BASE_ROWS, NBASE);
    add_page(u_repos(PROD, 2, 2), "repositories", 2, NULL, 0);
    imgsync_task *t = ph_sync(NULL);
    ck_assert_uint_eq(replay_count(R, "GET", u_arts(PROD, "apps", "api", 2, 0)), 0); /* never asked for */
    size_t api = 0;
    imgsync_iter *it = NULL;
    ck_assert_int_eq(imgsync_iter_new(&it, replay_ctx(R), NULL), 0);
    const imgsync_image *im;
    while ((im = imgsync_iter_next(it)) != NULL)
        api += !strcmp(imgsync_image_repository(im), "apps/api");
    imgsync_iter_free(it);
    ck_assert_msg(api == 2, "apps/api rows after a repository list that shrank mid-walk: %zu (state %d)", api,
                  imgsync_task_state_of(t));
}
END_TEST

/* Was a defect (review of issue 9): page shift on deletion in the instance walk. The instance list is [legacy, prod,
 * staging]; page 1 (offset 0) gives legacy and prod, then legacy is deleted: staging moves to
 * offset 1, the page at offset 2 is empty, total 2. staging still exists and is Running but is
 * never seen; the listing is declared complete and every row of staging is pruned. */
START_TEST(test_instance_deleted_mid_walk_keeps_rows)
{
    P = make(1);
    add_base();
    ph_sync(NULL);
    expect_rows(BASE_ROWS, NBASE);
    const char *i1[] = {instance_json(OLD, "acme-legacy", "Unavailable", ""),
                        instance_json(PROD, "acme-prod", "Running", PROD_HOST)};
    add_page(u_instances(2, 0), "instances", 3, i1, 2);
    add_page(u_instances(2, 2), "instances", 2, NULL, 0);
    imgsync_task *t = ph_sync(NULL);
    ck_assert_msg(imgsync_inventory_count(replay_ctx(R)) == NBASE,
                  "rows after an instance list that shrank mid-walk: %zu of %zu (state %d, reason %s)",
                  (size_t)imgsync_inventory_count(replay_ctx(R)), NBASE, imgsync_task_state_of(t),
                  imgsync_task_registry_reason(t, 0));
    expect_rows(BASE_ROWS, NBASE);
}
END_TEST

/* Was a defect (review of issue 9): page shift on deletion in an artifact walk. prod's nginx holds [D1, D2, D3 "1.23"];
 * page 1 (offset 0) gives D1 and D2, then D1 is deleted: D3 moves to offset 1, the page at
 * offset 2 is empty, total 2. The scope is committed as listed without D3: tag 1.23, still in
 * the repository, is removed (and 1.25/latest with D1 legitimately). Sound: fail the scope (keep
 * its rows) when total shrinks between pages of one walk, or restart the walk. */
START_TEST(test_artifact_deleted_mid_walk_keeps_rows)
{
    P = make(1);
    add_base();
    const char *n2[] = {artifact_json(D3, 300, T_A, MT_V2, ph_printf("[%s]", tag_ref("1.23", T_A)))};
    add_page(u_arts(PROD, "library", "nginx", 2, 2), "artifacts", 3, n2, 1);
    ph_sync(NULL);
    expect_rows(ROWS_123, N123);
    add_page(u_arts(PROD, "library", "nginx", 2, 2), "artifacts", 2, NULL, 0);
    imgsync_task *t = ph_sync(NULL);
    int found = 0;
    imgsync_iter *it = NULL;
    ck_assert_int_eq(imgsync_iter_new(&it, replay_ctx(R), NULL), 0);
    const imgsync_image *im;
    while ((im = imgsync_iter_next(it)) != NULL)
        found += !strcmp(imgsync_image_repository(im), "library/nginx") && !strcmp(imgsync_image_tag(im), "1.23") &&
                 !strcmp(imgsync_image_partition(im), PROD);
    imgsync_iter_free(it);
    ck_assert_msg(found == 1, "prod library/nginx:1.23 removed by a shifted page (state %d)",
                  imgsync_task_state_of(t));
}
END_TEST

/* Was a defect (review of issue 9): a lying total. prod's first repository page is full (2 items, limit 2) but says
 * total 1: offset + n > total cannot come from an honest server, yet the walk stops there,
 * declares the catalog complete and prunes apps/api (listed on the next page, which is never
 * asked for). Sound: distrust a total below offset + n (continue to a short page, or fail the
 * instance). */
START_TEST(test_total_below_items_seen_not_trusted)
{
    P = make(1);
    add_base();
    ph_sync(NULL);
    expect_rows(BASE_ROWS, NBASE);
    const char *r1[] = {repo_json("library", "nginx"), repo_json("library", "team/app")};
    add_page(u_repos(PROD, 2, 0), "repositories", 1, r1, 2);
    imgsync_task *t = ph_sync(NULL);
    ck_assert_msg(imgsync_inventory_count(replay_ctx(R)) == NBASE, "rows %zu of %zu after total 1 on a page of 2 "
                  "(state %d)", (size_t)imgsync_inventory_count(replay_ctx(R)), NBASE, imgsync_task_state_of(t));
}
END_TEST

/* Passes: a negative size from the server is never stored as the image size (bytes, -1 =
 * unknown). */
START_TEST(test_negative_size_not_stored)
{
    P = make(1);
    add_base();
    const char *sn[] = {artifact_json(D3, -5, T_C, MT_V2, ph_printf("[%s]", tag_ref("1.25", T_C)))};
    add_page(u_arts(STG, "library", "nginx", 2, 0), "artifacts", 1, sn, 1);
    ph_sync(NULL);
    imgsync_iter *it = NULL;
    ck_assert_int_eq(imgsync_iter_new(&it, replay_ctx(R), NULL), 0);
    const imgsync_image *im;
    while ((im = imgsync_iter_next(it)) != NULL)
        ck_assert_msg(imgsync_image_size(im) >= -1, "%s %s:%s stored with size %lld", imgsync_image_partition(im),
                      imgsync_image_repository(im), imgsync_image_tag(im), (long long)imgsync_image_size(im));
    imgsync_iter_free(it);
}
END_TEST

/* Passes: a server whose instance pages are always full and carry no total stops at
 * max_list_pages (ETOOBIG), keeping every row. */
START_TEST(test_endless_full_instance_pages_bounded)
{
    P = make(1);
    add_base();
    ph_sync(NULL);
    ck_assert_int_eq(imgsync_provider_set(P, "max_list_pages", "4"), 0);
    const char *i1[] = {instance_json(PROD, "acme-prod", "Running", PROD_HOST),
                        instance_json(STG, "acme-staging", "Running", STG_HOST)};
    for (long off = 0; off <= 20; off += 2)
        add_page(u_instances(2, off), "instances", -1, i1, 2);
    imgsync_task *t = ph_sync(NULL);
    ck_assert_int_ne(imgsync_task_state_of(t), IMGSYNC_TASK_SUCCEEDED);
    ck_assert_int_eq(imgsync_task_registry_error(t, 0), IMGSYNC_ETOOBIG);
    ck_assert_uint_le(replay_count_containing(R, "GET", "/instances?"), 5);
    expect_rows(BASE_ROWS, NBASE);
}
END_TEST

/* Passes: hostile instance values: a status with ESC/CR/LF and a name with control characters
 * never reach the task status raw; the skipped instance keeps its partition. */
START_TEST(test_hostile_instance_status_sanitized)
{
    P = make(1);
    add_base();
    const char *i2[] = {"{\"id\":\"" OLD "\",\"name\":\"evil\\u001b[2J\",\"status\":\"Unavail\\u001b[31m\\r\\nable\","
                        "\"access_address\":\"\"}"};
    add_page(u_instances(2, 2), "instances", 3, i2, 1);
    imgsync_task *t = ph_sync(NULL);
    ph_expect_state(t, IMGSYNC_TASK_SUCCEEDED);
    const char *reason = imgsync_task_registry_reason(t, 0);
    ck_assert_ptr_nonnull(strstr(reason, "instance " OLD " skipped"));
    for (const unsigned char *p = (const unsigned char *)reason; *p; p++)
        ck_assert_msg(*p >= 0x20 && *p != 0x7f, "raw control character 0x%02x in reason %s", *p, reason);
    expect_rows(BASE_ROWS, NBASE);
}
END_TEST

/* Passes: a tag whose push_time is Go's zero time (year 0001) or carries an offset and a
 * fraction: the zero time falls back to the artifact's push_time, the offset is applied. */
START_TEST(test_times_zero_and_offsets)
{
    P = make(1);
    add_base();
    const char *sn[] = {artifact_json(D3, 700, "2025-03-03T18:00:00.5+08:00", MT_V2,
                                      ph_printf("[%s]", tag_ref("1.25", "0001-01-01T00:00:00Z")))};
    add_page(u_arts(STG, "library", "nginx", 2, 0), "artifacts", 1, sn, 1);
    imgsync_task *t = ph_sync(NULL);
    ph_expect_state(t, IMGSYNC_TASK_SUCCEEDED);
    expect_rows(BASE_ROWS, NBASE); /* staging nginx 1.25: MS_C */
}
END_TEST

/* Passes: an artifact pushed during the walk shifts the later pages forward (the server lists
 * push_time desc): D2 is seen twice, the new artifact not at all; the scope still commits with
 * every row it had (nothing lost, no duplicate row). */
START_TEST(test_artifact_pushed_mid_walk)
{
    P = make(1);
    add_base();
    const char *n2[] = {artifact_json(D3, 300, T_A, MT_V2, ph_printf("[%s]", tag_ref("1.23", T_A)))};
    add_page(u_arts(PROD, "library", "nginx", 2, 2), "artifacts", 3, n2, 1);
    ph_sync(NULL);
    expect_rows(ROWS_123, N123);
    const char *shifted[] = {artifact_json(D2, 200, T_B, MT_V2, ph_printf("[%s]", tag_ref("1.24", T_B))),
                             artifact_json(D3, 300, T_A, MT_V2, ph_printf("[%s]", tag_ref("1.23", T_A)))};
    add_page(u_arts(PROD, "library", "nginx", 2, 2), "artifacts", 4, shifted, 2);
    imgsync_task *t = ph_sync(NULL);
    ph_expect_state(t, IMGSYNC_TASK_SUCCEEDED);
    expect_rows(ROWS_123, N123);
}
END_TEST

/* Passes: hostile repository names from the server ("..", "%2F", a space, upper case, an
 * empty component, unicode, a leading '/') fail their instance alone, keep its rows, and never
 * reach a request path. */
START_TEST(test_hostile_repository_names)
{
    static const char *const names[] = {"../../../instances", "a%2Fb", "a b", "UPPER", "a//b", "caf\\u00e9", "/abs",
                                        "x/..", "x\\u0000y"};
    P = make(1);
    add_base();
    ph_sync(NULL);
    for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
        const char *r1[] = {repo_json("library", names[k]), repo_json("library", "team/app")};
        add_page(u_repos(PROD, 2, 0), "repositories", 3, r1, 2);
        imgsync_task *t = ph_sync(NULL);
        ck_assert_msg(imgsync_task_state_of(t) == IMGSYNC_TASK_PARTIAL, "name %s: state %d", names[k],
                      imgsync_task_state_of(t));
        ph_expect_reason(t, "instance acme-prod (" PROD ")");
        expect_rows(BASE_ROWS, NBASE);
        for (size_t i = 0; i < replay_nrequests(R); i++) {
            const char *u = replay_request_at(R, i)->url;
            ck_assert_msg(!strstr(u, "..") && !strstr(u, " ") && !strstr(u, "//v2") && !strstr(u, "%25"),
                          "name %s: request %s", names[k], u);
        }
    }
}
END_TEST

/* Was a defect (review of issue 9): a truncated list declared complete. prod's first repository page holds 1 item where
 * 2 were asked for, and says total 3 (a server capping limit below ours, or cutting the page):
 * offset + n < total, yet the short page ends the walk, the catalog is declared complete and
 * library/team/app and apps/api (4 rows) are pruned. Sound: a short page that contradicts the
 * total is not the end of the list (fail the instance, keeping its rows). Same in
 * on_artifacts: a short artifacts page below total commits the scope without the rest. */
START_TEST(test_short_page_below_total_not_complete)
{
    P = make(1);
    add_base();
    ph_sync(NULL);
    expect_rows(BASE_ROWS, NBASE);
    const char *r1[] = {repo_json("library", "nginx")};
    add_page(u_repos(PROD, 2, 0), "repositories", 3, r1, 1);
    imgsync_task *t = ph_sync(NULL);
    ck_assert_msg(imgsync_inventory_count(replay_ctx(R)) == NBASE,
                  "rows %zu of %zu after a short page with total 3 (state %d)",
                  (size_t)imgsync_inventory_count(replay_ctx(R)), NBASE, imgsync_task_state_of(t));
}
END_TEST

/* Was a defect (review of issue 9): an artifact whose "tags" is neither an array nor null/absent ({"name":..}, a string, a
 * number) is taken as untagged: its tags are dropped silently, the scope commits as listed and
 * the rows of those tags (library/nginx 1.25 and latest) are removed - with include_untagged a
 * row with tag "" even appears in their place. Sound: a "tags" member of another type is
 * EPROTOCOL for the scope (rows kept), as for a tag without a name. */
START_TEST(test_tags_of_wrong_type_not_untagged)
{
    static const char *const forms[] = {"{\"name\":\"1.25\"}", "\"1.25\"", "7", "true"};
    for (size_t k = 0; k < sizeof(forms) / sizeof(forms[0]); k++) {
        R = ph_renew();
        P = make(1);
        add_base();
        ph_sync(NULL);
        expect_rows(BASE_ROWS, NBASE);
        const char *n1[] = {artifact_json(D1, 100, T_A, MT_V2, forms[k]),
                            artifact_json(D2, 200, T_B, MT_V2, ph_printf("[%s]", tag_ref("1.24", T_B)))};
        add_page(u_arts(PROD, "library", "nginx", 2, 0), "artifacts", 3, n1, 2);
        imgsync_task *t = ph_sync(NULL);
        ck_assert_msg(imgsync_inventory_count(replay_ctx(R)) == NBASE,
                      "tags %s: rows %zu of %zu (state %d)", forms[k], (size_t)imgsync_inventory_count(replay_ctx(R)),
                      NBASE, imgsync_task_state_of(t));
    }
}
END_TEST

/* Passes: a namespace-hinted sync ("apps") after a full one prunes nothing outside apps in
 * either instance (library/... of prod and staging keep their rows). */
START_TEST(test_namespace_hint_prunes_only_its_namespace)
{
    P = make(1);
    add_base();
    ph_sync(NULL);
    const char *api[] = {repo_json("apps", "api")};
    add_page(u_ns_repos(PROD, "apps", 2, 0), "repositories", 1, api, 1);
    add_page(u_ns_repos(STG, "apps", 2, 0), "repositories", 0, NULL, 0);
    imgsync_request *req = NULL;
    ck_assert_int_eq(imgsync_request_new(&req), 0);
    ck_assert_int_eq(imgsync_request_add_filter(req, IMGSYNC_FILTER_NAMESPACE, "apps", IMGSYNC_INCLUDE), 0);
    imgsync_task *t = ph_sync(req);
    ph_expect_state(t, IMGSYNC_TASK_SUCCEEDED);
    expect_rows(BASE_ROWS, NBASE);
}
END_TEST

/* Passes: option instance_id naming an instance that is not Running: noted, its rows kept. */
START_TEST(test_instance_id_not_running_keeps_rows)
{
    P = make(1);
    add_base();
    ph_sync(NULL);
    ck_assert_int_eq(imgsync_provider_set(P, "instance_id", STG), 0);
    ck_assert_int_eq(replay_respond(R, "GET", EP "/v2/" PROJECT "/instances/" STG, 200, H_JSON,
                                    instance_json(STG, "acme-staging", "Unavailable", STG_HOST)),
                     0);
    imgsync_task *t = ph_sync(NULL);
    ph_expect_state(t, IMGSYNC_TASK_SUCCEEDED);
    ph_expect_reason(t, "instance acme-staging skipped: status Unavailable");
    size_t stg = 0;
    imgsync_iter *it = NULL;
    ck_assert_int_eq(imgsync_iter_new(&it, replay_ctx(R), NULL), 0);
    const imgsync_image *im;
    while ((im = imgsync_iter_next(it)) != NULL)
        stg += !strcmp(imgsync_image_partition(im), STG);
    imgsync_iter_free(it);
    ck_assert_uint_eq(stg, 1);
}
END_TEST

/* Passes: IAM answering 401 to the project lookup is EAUTH naming the credentials. */
START_TEST(test_project_lookup_401)
{
    P = make_without_project();
    ck_assert_int_eq(replay_respond(R, "GET", IAM_PROJECTS, 401, H_JSON, "{\"error_code\":\"APIGW.0301\"}"), 0);
    imgsync_task *t = ph_sync(NULL);
    ph_expect_state(t, IMGSYNC_TASK_FAILED);
    ck_assert_int_eq(imgsync_task_registry_error(t, 0), IMGSYNC_EAUTH);
    ph_expect_reason(t, "APIGW.0301");
    ph_expect_not_in_status(t, SK);
    ck_assert_uint_eq(replay_nrequests(R), 1);
}
END_TEST

Suite *swr_ee_provider_suite(void)
{
    Suite *s = suite_create("swr_ee_provider");
    TCase *tc = tcase_create("sync");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_aksk_sync_paged);
    tcase_add_test(tc, test_password_token_on_every_request);
    tcase_add_test(tc, test_untagged);
    tcase_add_test(tc, test_partitions_separate);
    tcase_add_test(tc, test_instance_repeated_across_pages);
    tcase_add_test(tc, test_not_authorized);
    tcase_add_test(tc, test_wrong_sk_keeps_rows);
    tcase_add_test(tc, test_instance_fails_alone);
    tcase_add_test(tc, test_secrets_never_in_status);
    tcase_add_test(tc, test_running_without_access_address);
    tcase_add_test(tc, test_malformed_instances);
    tcase_add_test(tc, test_malformed_repositories_and_artifacts);
    tcase_add_test(tc, test_named_repositories_fetched_directly);
    tcase_add_test(tc, test_namespace_hint);
    tcase_add_test(tc, test_instance_id_option);
    tcase_add_test(tc, test_check_one_small_page);
    tcase_add_test(tc, test_option_values);
    tcase_add_test(tc, test_project_id_looked_up);
    tcase_add_test(tc, test_project_lookup_fails);
    tcase_add_test(tc, test_deleted_instance_pruned);
    tcase_add_test(tc, test_repository_deleted_mid_walk_keeps_rows);
    tcase_add_test(tc, test_instance_deleted_mid_walk_keeps_rows);
    tcase_add_test(tc, test_artifact_deleted_mid_walk_keeps_rows);
    tcase_add_test(tc, test_total_below_items_seen_not_trusted);
    tcase_add_test(tc, test_negative_size_not_stored);
    tcase_add_test(tc, test_endless_full_instance_pages_bounded);
    tcase_add_test(tc, test_hostile_instance_status_sanitized);
    tcase_add_test(tc, test_times_zero_and_offsets);
    tcase_add_test(tc, test_artifact_pushed_mid_walk);
    tcase_add_test(tc, test_hostile_repository_names);
    tcase_add_test(tc, test_short_page_below_total_not_complete);
    tcase_add_test(tc, test_tags_of_wrong_type_not_untagged);
    tcase_add_test(tc, test_namespace_hint_prunes_only_its_namespace);
    tcase_add_test(tc, test_instance_id_not_running_keeps_rows);
    tcase_add_test(tc, test_project_lookup_401);
    suite_add_tcase(s, tc);
    return s;
}

#include "check_main.h"
IMGSYNC_TEST_MAIN(swr_ee_provider_suite)
