/* Provider SPI v2 (include/imgsync/sys/provider.h) exercised through small test providers that
 * are registered with imgsync_provider_register() like a third-party kind, and driven by the
 * replay harness (real context and engine, scripted transport, fake clock): registration, a
 * version-1 provider, bodies, per-job credentials, allowed origins, redirects, the sign hook.
 * Rows, partitions, new fields, validation, secrets and deferral are in test_provider_spi_rows.c. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "imgsync.h"
#include "imgsync/sys/provider.h"
#include "support/replay.h"
#include "support/spi_provider.h"

Suite *provider_spi_suite(void);

#define EP "https://api.example.com"
#define IAM "https://iam.example.com"
#define CDN "https://cdn.example.net"
/* base64("alice:pw-1") */
#define BASIC_ALICE "Basic YWxpY2U6cHctMQ=="

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

/* ---- registration ----------------------------------------------------------------------------- */

static int reg_start(imgsync_run *run)
{
    (void)run;
    return 0;
}

static int reg_on_response(imgsync_run *run, imgsync_job *job, const imgsync_response *resp)
{
    (void)run;
    (void)job;
    (void)resp;
    return 0;
}

START_TEST(register_rules)
{
    static const int types_ok[] = {IMGSYNC_TYPE_OCI, IMGSYNC_TYPE_JFROG, 0};
    static const int types_unknown[] = {IMGSYNC_TYPE_OCI, 99, 0};
    static const int types_without_default[] = {IMGSYNC_TYPE_JFROG, 0};
    static const int types_empty[] = {0};
    imgsync_provider_vtable vt = {2, "spi-reg-ok", IMGSYNC_TYPE_OCI, NULL, reg_start, reg_on_response, NULL,
                                  NULL, types_ok, NULL};

    imgsync_provider_vtable bad = vt;
    bad.version = 0;
    ck_assert_int_eq(imgsync_provider_register(&bad), IMGSYNC_EVERSION);
    bad.version = IMGSYNC_PROVIDER_VTABLE_VERSION + 1;
    ck_assert_int_eq(imgsync_provider_register(&bad), IMGSYNC_EVERSION);
    ck_assert_int_eq(imgsync_provider_register(NULL), IMGSYNC_EINVAL);

    bad = vt;
    bad.start = NULL;
    ck_assert_int_eq(imgsync_provider_register(&bad), IMGSYNC_EINVAL);
    bad = vt;
    bad.on_response = NULL;
    ck_assert_int_eq(imgsync_provider_register(&bad), IMGSYNC_EINVAL);

    const char *bad_kinds[] = {NULL, "", "Upper", "with space", "dot.ted", "a/b",
                               "k23456789012345678901234567890123" /* 33 chars */};
    for (size_t i = 0; i < sizeof(bad_kinds) / sizeof(bad_kinds[0]); i++) {
        bad = vt;
        bad.kind = bad_kinds[i];
        ck_assert_msg(imgsync_provider_register(&bad) == IMGSYNC_EINVAL, "kind %zu accepted", i);
    }

    bad = vt;
    bad.type = 0;
    bad.types = NULL;
    ck_assert_int_eq(imgsync_provider_register(&bad), IMGSYNC_EINVAL);
    bad.type = 99;
    ck_assert_int_eq(imgsync_provider_register(&bad), IMGSYNC_EINVAL);
    bad = vt;
    bad.types = types_unknown;
    ck_assert_int_eq(imgsync_provider_register(&bad), IMGSYNC_EINVAL);
    bad.types = types_without_default;
    ck_assert_int_eq(imgsync_provider_register(&bad), IMGSYNC_EINVAL);
    bad.types = types_empty;
    ck_assert_int_eq(imgsync_provider_register(&bad), IMGSYNC_EINVAL);

    /* none of the refused tables got in */
    imgsync_provider *p = NULL;
    ck_assert_int_eq(imgsync_provider_new(&p, replay_ctx(R), "spi-reg-ok", "x"), IMGSYNC_ENOTFOUND);

    /* a kind name of exactly 32 characters is fine; the vtable must outlive the process, so
     * these tables are static */
    static imgsync_provider_vtable ok32 = {2, "k2345678901234567890123456789012", IMGSYNC_TYPE_OCI, NULL, reg_start,
                                           reg_on_response, NULL, NULL, NULL, NULL};
    ck_assert_int_eq(imgsync_provider_register(&ok32), 0);
    static imgsync_provider_vtable good;
    good = vt;
    ck_assert_int_eq(imgsync_provider_register(&good), 0);
    ck_assert_int_eq(imgsync_provider_register(&good), 0); /* the same table again: a no-op */
    static imgsync_provider_vtable dup;
    dup = vt; /* another table, same kind */
    ck_assert_int_eq(imgsync_provider_register(&dup), IMGSYNC_EEXISTS);
    dup.kind = "oci";
    ck_assert_int_eq(imgsync_provider_register(&dup), IMGSYNC_EEXISTS);
    dup.kind = SPI2_KIND;
    ck_assert_int_eq(imgsync_provider_register(&dup), IMGSYNC_EEXISTS);

    ck_assert_int_eq(imgsync_provider_new(&p, replay_ctx(R), "spi-reg-ok", "x"), 0);
    ck_assert_int_eq(imgsync_provider_type(p), IMGSYNC_TYPE_OCI);
    ck_assert_str_eq(imgsync_provider_kind(p), "spi-reg-ok");
}
END_TEST

/* ---- a version-1 provider ------------------------------------------------------------------- */

enum { V1_BASIC = 1, V1_BEARER, V1_ANON, V1_REDIRECT };

static int v1_start(imgsync_run *run)
{
    static const struct {
        int kind;
        const char *path;
    } jobs[] = {{V1_BASIC, "/v2/basic"}, {V1_BEARER, "/v2/bearer"}, {V1_ANON, "/v2/anon"}, {V1_REDIRECT, "/v2/redir"}};
    ck_assert_int_eq(imgsync_run_repository_begin(run, "team/app"), 0);
    for (size_t i = 0; i < 4; i++) {
        imgsync_job *job = imgsync_job_new(run, "GET", jobs[i].path);
        ck_assert_ptr_nonnull(job);
        ck_assert_int_eq(imgsync_job_auth(job), IMGSYNC_AUTH_REGISTRY); /* version 1 default */
        imgsync_job_set_kind(job, jobs[i].kind);
        if (jobs[i].kind == V1_ANON)
            imgsync_job_set_anonymous(job, 1);
        ck_assert_int_eq(imgsync_job_set_repository(job, "team/app"), 0);
        ck_assert_int_eq(imgsync_job_submit(job), 0);
    }
    return 0;
}

static int v1_prepare(imgsync_run *run, imgsync_job *job)
{
    (void)run;
    spi_state.prepare_calls++;
    return imgsync_job_add_header(job, "X-Prepared: yes");
}

static int v1_on_response(imgsync_run *run, imgsync_job *job, const imgsync_response *resp)
{
    static const char *tags[] = {"", "basic", "bearer", "anon", "redir"};
    ck_assert_int_eq(imgsync_response_status(resp), 200);
    ck_assert_str_eq(imgsync_job_partition(job), "");
    imgsync_record *r = imgsync_record_new(run, "team/app", tags[imgsync_job_kind(job)]);
    ck_assert_ptr_nonnull(r);
    ck_assert_int_eq(imgsync_record_emit(run, r), 0);
    if (++spi_state.responses == 4) {
        ck_assert_int_eq(imgsync_run_repository_listed(run, "team/app"), 0);
        ck_assert_int_eq(imgsync_run_catalog_complete(run), 0);
    }
    return 0;
}

START_TEST(version1_provider_still_works)
{
    static const spi_hooks h = {v1_start, v1_on_response, NULL, v1_prepare};
    spi_hooks_set(&h);
    imgsync_provider *p = replay_add_provider(R, SPI1_KIND, "old", EP);
    ck_assert_ptr_nonnull(p);
    ck_assert_int_eq(imgsync_provider_set(p, "username", "alice"), 0);
    ck_assert_int_eq(imgsync_provider_set(p, "password", "pw-1"), 0);
    ck_assert_int_eq(imgsync_provider_type(p), IMGSYNC_TYPE_JFROG);

    fake_transport *ft = replay_transport(R);
    ck_assert_int_eq(replay_respond(R, "GET", EP "/v2/basic", 200, NULL, "{}"), 0);
    ck_assert_int_eq(fake_add_simple(ft, "GET", EP "/v2/bearer", 401,
                                     "WWW-Authenticate: Bearer realm=\"" EP "/token\",service=\"reg\"", NULL),
                     0);
    ck_assert_int_eq(fake_add_simple(ft, "GET", EP "/v2/bearer", 200, NULL, "{}"), 0);
    ck_assert_int_eq(replay_respond(R, "GET", EP "/token?service=reg", 200, "Content-Type: application/json",
                                    "{\"token\":\"tok-v1\",\"expires_in\":300}"),
                     0);
    ck_assert_int_eq(replay_respond(R, "GET", EP "/v2/anon", 200, NULL, "{}"), 0);
    ck_assert_int_eq(replay_respond(R, "GET", EP "/v2/redir", 302, "Location: " CDN "/blob", NULL), 0);
    ck_assert_int_eq(replay_respond(R, "GET", CDN "/blob", 200, NULL, "{}"), 0);

    uint64_t id;
    ck_assert_int_eq(replay_sync(R, NULL, &id), 0);
    char *log = replay_log_text(R);
    ck_assert_msg(replay_unexpected(R) == 0, "%s", log);
    ck_assert_msg(replay_nrequests(R) == 7, "%s", log);
    free(log);

    const replay_request *q = replay_find(R, "GET", EP "/v2/basic");
    ck_assert_ptr_nonnull(q);
    ck_assert_pstr_eq(replay_request_header(q, "Authorization"), BASIC_ALICE);
    ck_assert_pstr_eq(replay_request_header(q, "X-Prepared"), "yes");

    /* the Bearer flow: Basic first, the token with Basic, the replay with the token */
    size_t first = replay_index_of(R, "GET", EP "/v2/bearer");
    ck_assert_uint_ne(first, (size_t)-1);
    ck_assert_pstr_eq(replay_request_header(replay_request_at(R, first), "Authorization"), BASIC_ALICE);
    const replay_request *tq = replay_find(R, "GET", EP "/token?service=reg");
    ck_assert_ptr_nonnull(tq);
    ck_assert_pstr_eq(replay_request_header(tq, "Authorization"), BASIC_ALICE);
    ck_assert_ptr_null(replay_request_header(tq, "X-Prepared")); /* the engine's own request */
    size_t second = (size_t)-1;
    for (size_t i = first + 1; i < replay_nrequests(R); i++)
        if (!strcmp(replay_request_at(R, i)->url, EP "/v2/bearer"))
            second = i;
    ck_assert_uint_ne(second, (size_t)-1);
    ck_assert_pstr_eq(replay_request_header(replay_request_at(R, second), "Authorization"), "Bearer tok-v1");
    ck_assert_pstr_eq(replay_request_header(replay_request_at(R, second), "X-Prepared"), "yes");

    q = replay_find(R, "GET", EP "/v2/anon");
    ck_assert_ptr_nonnull(q);
    ck_assert_ptr_null(replay_request_header(q, "Authorization"));
    ck_assert_ptr_null(replay_request_header(q, "X-Prepared"));
    /* a redirect to another origin: no credentials, no prepare */
    q = replay_find(R, "GET", CDN "/blob");
    ck_assert_ptr_nonnull(q);
    ck_assert_ptr_null(replay_request_header(q, "Authorization"));
    ck_assert_ptr_null(replay_request_header(q, "X-Prepared"));
    ck_assert_pstr_eq(replay_request_header(replay_find(R, "GET", EP "/v2/redir"), "X-Prepared"), "yes");
    /* basic, bearer twice, the redirected job's first attempt; never the anonymous job */
    ck_assert_int_eq(spi_state.prepare_calls, 4);

    spi_task t = spi_task_get(R, id);
    ck_assert_int_eq(t.state, IMGSYNC_TASK_SUCCEEDED);
    spi_task_clear(&t);
    ck_assert_uint_eq(imgsync_inventory_count(replay_ctx(R)), 4);
    imgsync_iter *it = NULL;
    const imgsync_image *im = spi_find_row(&it, replay_ctx(R), "", "team/app", "bearer");
    ck_assert_ptr_nonnull(im);
    ck_assert_str_eq(imgsync_image_partition(im), "");
    ck_assert_int_eq(imgsync_image_type(im), IMGSYNC_TYPE_JFROG);
    ck_assert_str_eq(imgsync_image_registry_type(im), "Jfrog");
    ck_assert_str_eq(imgsync_image_host(im), "api.example.com");
    ck_assert_str_eq(imgsync_image_namespace(im), "team");
    imgsync_iter_free(it);
}
END_TEST

/* ---- bodies ------------------------------------------------------------------------------------- */

static const char AQL[] = "items.find({\"repo\":\"docker-local\"})";
static const char PUT_JSON[] = "{\"auth\":{\"identity\":{\"methods\":[\"password\"]}}}";
static const char BINARY[] = {'a', '\0', 'b', '\n', 'c'};

static int bodies_start(imgsync_run *run)
{
    imgsync_job *g = imgsync_job_new(run, "GET", "/get");
    imgsync_job *h = imgsync_job_new(run, "HEAD", "/head");
    ck_assert_ptr_nonnull(g);
    ck_assert_ptr_nonnull(h);
    ck_assert_int_eq(imgsync_job_set_body(g, "text/plain", "x", 1), IMGSYNC_EINVAL);
    ck_assert_int_eq(imgsync_job_set_body(h, "text/plain", "x", 1), IMGSYNC_EINVAL);
    imgsync_job_free(g);
    imgsync_job_free(h);
    ck_assert_ptr_null(imgsync_job_new(run, "PATCH", "/x"));
    ck_assert_ptr_null(imgsync_job_new(run, "get", "/x"));

    imgsync_job *post = imgsync_job_new(run, "POST", "/api/search/aql");
    ck_assert_ptr_nonnull(post);
    ck_assert_int_eq(imgsync_job_set_body(post, NULL, AQL, strlen(AQL)), IMGSYNC_EINVAL);
    ck_assert_int_eq(imgsync_job_set_body(post, "text/plain\r\nX-Evil: 1", AQL, strlen(AQL)), IMGSYNC_EINVAL);
    ck_assert_int_eq(imgsync_job_set_body(post, "text/plain", AQL, strlen(AQL)), 0);
    ck_assert_str_eq(imgsync_job_method(post), "POST");
    ck_assert_int_eq(imgsync_job_submit(post), 0);

    imgsync_job *put = imgsync_job_new(run, "PUT", EP "/v3/put");
    ck_assert_ptr_nonnull(put);
    ck_assert_int_eq(imgsync_job_set_body(put, "application/json;charset=utf8", PUT_JSON, strlen(PUT_JSON)), 0);
    ck_assert_int_eq(imgsync_job_submit(put), 0);

    imgsync_job *bin = imgsync_job_new(run, "POST", "/bin");
    ck_assert_ptr_nonnull(bin);
    ck_assert_int_eq(imgsync_job_set_body(bin, "application/octet-stream", BINARY, sizeof(BINARY)), 0);
    ck_assert_int_eq(imgsync_job_submit(bin), 0);
    return 0;
}

static int count_on_response(imgsync_run *run, imgsync_job *job, const imgsync_response *resp)
{
    (void)run;
    (void)job;
    spi_state.responses++;
    spi_state.last_status = imgsync_response_status(resp);
    spi_state.last_error = imgsync_response_error(resp);
    return 0;
}

static void assert_body(const replay_request *q, const char *ct, const void *body, size_t len)
{
    ck_assert_ptr_nonnull(q);
    ck_assert_pstr_eq(replay_request_header(q, "Content-Type"), ct);
    char n[32];
    snprintf(n, sizeof(n), "%zu", len);
    ck_assert_pstr_eq(replay_request_header(q, "Content-Length"), n);
    ck_assert_uint_eq(q->body_len, len);
    ck_assert_int_eq(memcmp(q->body, body, len), 0);
}

START_TEST(post_and_put_bodies_on_the_wire)
{
    static const spi_hooks h = {bodies_start, count_on_response, NULL, NULL};
    spi_hooks_set(&h);
    ck_assert_ptr_nonnull(replay_add_provider(R, SPI2_KIND, "b", EP));
    ck_assert_int_eq(replay_respond(R, "POST", EP "/api/search/aql", 200, NULL, "{}"), 0);
    ck_assert_int_eq(replay_respond(R, "PUT", EP "/v3/put", 201, NULL, "{}"), 0);
    ck_assert_int_eq(replay_respond(R, "POST", EP "/bin", 200, NULL, "{}"), 0);
    ck_assert_int_eq(replay_sync(R, NULL, NULL), 0);
    ck_assert_uint_eq(replay_unexpected(R), 0);
    ck_assert_uint_eq(replay_nrequests(R), 3);
    ck_assert_int_eq(spi_state.responses, 3);
    assert_body(replay_find(R, "POST", EP "/api/search/aql"), "text/plain", AQL, strlen(AQL));
    assert_body(replay_find(R, "PUT", EP "/v3/put"), "application/json;charset=utf8", PUT_JSON, strlen(PUT_JSON));
    assert_body(replay_find(R, "POST", EP "/bin"), "application/octet-stream", BINARY, sizeof(BINARY));
}
END_TEST

/* ---- retries of POST ------------------------------------------------------------------------- */

static int retry_start(imgsync_run *run)
{
    const char *paths[] = {"/once-502", "/idem-502", "/once-500", "/idem-500"};
    for (size_t i = 0; i < 4; i++) {
        imgsync_job *job = imgsync_job_new(run, "POST", paths[i]);
        ck_assert_ptr_nonnull(job);
        ck_assert_int_eq(imgsync_job_set_body(job, "application/json", "{}", 2), 0);
        if (strstr(paths[i], "idem"))
            imgsync_job_set_idempotent(job, 1);
        imgsync_job_set_kind(job, (int)i);
        ck_assert_int_eq(imgsync_job_submit(job), 0);
    }
    imgsync_job *put = imgsync_job_new(run, "PUT", "/put-502"); /* idempotent by default */
    ck_assert_ptr_nonnull(put);
    ck_assert_int_eq(imgsync_job_set_body(put, "application/json", "{}", 2), 0);
    imgsync_job_set_kind(put, 4);
    ck_assert_int_eq(imgsync_job_submit(put), 0);
    return 0;
}

static int retry_on_response(imgsync_run *run, imgsync_job *job, const imgsync_response *resp)
{
    (void)run;
    spi_state.statuses[imgsync_job_kind(job)] = imgsync_response_status(resp);
    spi_state.responses++;
    return 0;
}

/* A POST is retried only when marked idempotent (502 and 500 here; 429 and 503 likewise in
 * tests/unit/test_engine_retry.c); PUT is idempotent by default. */
START_TEST(post_retried_only_when_idempotent)
{
    static const spi_hooks h = {retry_start, retry_on_response, NULL, NULL};
    spi_hooks_set(&h);
    /* the replay harness turns retries off; this test turns them back on for its context */
    ck_assert_int_eq(imgsync_ctx_set(replay_ctx(R), "max_retries", "2"), 0);
    ck_assert_ptr_nonnull(replay_add_provider(R, SPI2_KIND, "r", EP));
    fake_transport *ft = replay_transport(R);
    const char *paths[] = {EP "/once-502", EP "/idem-502", EP "/once-500", EP "/idem-500"};
    for (size_t i = 0; i < 4; i++) {
        ck_assert_int_eq(fake_add_simple(ft, "POST", paths[i], i < 2 ? 502 : 500, NULL, "busy"), 0);
        ck_assert_int_eq(fake_add_simple(ft, "POST", paths[i], 200, NULL, "{}"), 0);
    }
    ck_assert_int_eq(fake_add_simple(ft, "PUT", EP "/put-502", 502, NULL, "busy"), 0);
    ck_assert_int_eq(fake_add_simple(ft, "PUT", EP "/put-502", 200, NULL, "{}"), 0);
    uint64_t id;
    ck_assert_int_eq(replay_sync(R, NULL, &id), 0);
    ck_assert_int_eq(spi_state.responses, 5);
    ck_assert_uint_eq(replay_count(R, "PUT", EP "/put-502"), 2);
    ck_assert_int_eq(spi_state.statuses[4], 200);
    ck_assert_uint_eq(replay_count(R, "POST", EP "/once-502"), 1);
    ck_assert_int_eq(spi_state.statuses[0], 502);
    ck_assert_uint_eq(replay_count(R, "POST", EP "/idem-502"), 2);
    ck_assert_int_eq(spi_state.statuses[1], 200);
    ck_assert_uint_eq(replay_count(R, "POST", EP "/once-500"), 1);
    ck_assert_int_eq(spi_state.statuses[2], 500);
    ck_assert_uint_eq(replay_count(R, "POST", EP "/idem-500"), 2);
    ck_assert_int_eq(spi_state.statuses[3], 200);
    /* the retried attempt carries the same body */
    const replay_request *last = NULL;
    for (size_t i = 0; i < replay_nrequests(R); i++)
        if (!strcmp(replay_request_at(R, i)->url, EP "/idem-502"))
            last = replay_request_at(R, i);
    ck_assert_ptr_nonnull(last);
    ck_assert_int_eq(last->attempt, 2);
    ck_assert_uint_eq(last->body_len, 2);
    ck_assert_int_eq(memcmp(last->body, "{}", 2), 0);
    spi_task t = spi_task_get(R, id);
    ck_assert_uint_eq(t.retries, 3);
    spi_task_clear(&t);
}
END_TEST

/* ---- per-job credentials -------------------------------------------------------------------- */

enum { C_NONE = 1, C_BASIC, C_PROVIDER, C_REGISTRY };

static int creds_start(imgsync_run *run)
{
    static const struct {
        int kind;
        const char *path;
        int auth;
    } jobs[] = {{C_NONE, "/none", -1},
                {C_BASIC, "/basic", IMGSYNC_AUTH_BASIC},
                {C_PROVIDER, "/provider", IMGSYNC_AUTH_PROVIDER},
                {C_REGISTRY, "/registry", IMGSYNC_AUTH_REGISTRY}};
    for (size_t i = 0; i < 4; i++) {
        imgsync_job *job = imgsync_job_new(run, "GET", jobs[i].path);
        ck_assert_ptr_nonnull(job);
        ck_assert_int_eq(imgsync_job_auth(job), IMGSYNC_AUTH_NONE); /* version 2 default */
        if (jobs[i].auth >= 0)
            ck_assert_int_eq(imgsync_job_set_auth(job, jobs[i].auth), 0);
        ck_assert_int_eq(imgsync_job_set_auth(job, 5), IMGSYNC_EINVAL);
        ck_assert_int_eq(imgsync_job_set_auth(job, -1), IMGSYNC_EINVAL);
        if (jobs[i].kind == C_PROVIDER) {
            ck_assert_int_eq(imgsync_job_add_header(job, "X-Auth-Token: tok-provider"), 0);
            ck_assert_int_eq(imgsync_job_add_header(job, "X-Bad: a\r\nX-Injected: 1"), IMGSYNC_EINVAL);
            ck_assert_int_eq(imgsync_job_add_header(job, "no colon"), IMGSYNC_EINVAL);
        }
        imgsync_job_set_kind(job, jobs[i].kind);
        ck_assert_int_eq(imgsync_job_submit(job), 0);
    }
    return 0;
}

static int creds_sign(imgsync_run *run, const imgsync_job *job, imgsync_attempt *a)
{
    (void)run;
    spi_note_sign(job, a);
    if (imgsync_job_kind(job) == C_PROVIDER)
        return imgsync_attempt_add_header(a, "X-Signed", "sig");
    return 0;
}

START_TEST(per_job_credentials)
{
    static const spi_hooks h = {creds_start, count_on_response, creds_sign, NULL};
    spi_hooks_set(&h);
    imgsync_provider *p = replay_add_provider(R, SPI2_KIND, "c", EP);
    ck_assert_ptr_nonnull(p);
    ck_assert_int_eq(imgsync_provider_set(p, "username", "alice"), 0);
    ck_assert_int_eq(imgsync_provider_set(p, "password", "pw-1"), 0);
    fake_transport *ft = replay_transport(R);
    ck_assert_int_eq(replay_respond(R, "GET", EP "/none", 200, NULL, "{}"), 0);
    ck_assert_int_eq(replay_respond(R, "GET", EP "/basic", 200, NULL, "{}"), 0);
    ck_assert_int_eq(replay_respond(R, "GET", EP "/provider", 200, NULL, "{}"), 0);
    ck_assert_int_eq(fake_add_simple(ft, "GET", EP "/registry", 401,
                                     "WWW-Authenticate: Bearer realm=\"" EP "/token\",service=\"reg\"", NULL),
                     0);
    ck_assert_int_eq(fake_add_simple(ft, "GET", EP "/registry", 200, NULL, "{}"), 0);
    ck_assert_int_eq(replay_respond(R, "GET", EP "/token?service=reg", 200, NULL, "{\"token\":\"tok-reg\"}"), 0);
    ck_assert_int_eq(replay_sync(R, NULL, NULL), 0);
    char *log = replay_log_text(R);
    ck_assert_msg(replay_unexpected(R) == 0 && replay_nrequests(R) == 6, "%s", log);
    free(log);
    ck_assert_int_eq(spi_state.responses, 4);

    const replay_request *q = replay_find(R, "GET", EP "/none");
    ck_assert_ptr_null(replay_request_header(q, "Authorization"));
    q = replay_find(R, "GET", EP "/basic");
    ck_assert_pstr_eq(replay_request_header(q, "Authorization"), BASIC_ALICE);
    q = replay_find(R, "GET", EP "/provider");
    ck_assert_ptr_null(replay_request_header(q, "Authorization"));
    ck_assert_pstr_eq(replay_request_header(q, "X-Auth-Token"), "tok-provider");
    ck_assert_pstr_eq(replay_request_header(q, "X-Signed"), "sig");
    ck_assert_ptr_null(replay_request_header(q, "X-Injected"));
    size_t n_registry = 0;
    for (size_t i = 0; i < replay_nrequests(R); i++) {
        q = replay_request_at(R, i);
        if (strcmp(q->url, EP "/registry"))
            continue;
        ck_assert_pstr_eq(replay_request_header(q, "Authorization"), n_registry ? "Bearer tok-reg" : BASIC_ALICE);
        n_registry++;
    }
    ck_assert_uint_eq(n_registry, 2);

    /* sign: never for the NONE job; for the others on every attempt */
    ck_assert_int_eq(spi_state.nsigns, 4);
    int seen[5] = {0};
    for (int i = 0; i < spi_state.nsigns; i++)
        seen[spi_state.signs[i].kind]++;
    ck_assert_int_eq(seen[C_NONE], 0);
    ck_assert_int_eq(seen[C_BASIC], 1);
    ck_assert_int_eq(seen[C_PROVIDER], 1);
    ck_assert_int_eq(seen[C_REGISTRY], 2);
    /* sign sees what the engine added: Basic for BASIC, nothing for PROVIDER */
    for (int i = 0; i < spi_state.nsigns; i++) {
        if (spi_state.signs[i].kind == C_BASIC)
            ck_assert_str_eq(spi_state.signs[i].authorization, BASIC_ALICE);
        if (spi_state.signs[i].kind == C_PROVIDER) {
            ck_assert_str_eq(spi_state.signs[i].authorization, "");
            ck_assert_str_eq(spi_state.signs[i].x_auth_token, "tok-provider");
        }
    }
}
END_TEST

/* ---- origins ------------------------------------------------------------------------------------ */

static int origins_start(imgsync_run *run)
{
    /* credentialed to another origin: refused until allowed */
    imgsync_job *job = imgsync_job_new(run, "POST", IAM "/v3/auth/tokens");
    ck_assert_ptr_nonnull(job);
    ck_assert_int_eq(imgsync_job_set_auth(job, IMGSYNC_AUTH_PROVIDER), 0);
    ck_assert_int_eq(imgsync_job_set_body(job, "application/json", "{}", 2), 0);
    ck_assert_int_eq(imgsync_job_submit(job), IMGSYNC_EINVAL);
    job = imgsync_job_new(run, "GET", IAM "/v3/basic");
    ck_assert_ptr_nonnull(job);
    ck_assert_int_eq(imgsync_job_set_auth(job, IMGSYNC_AUTH_BASIC), 0);
    ck_assert_int_eq(imgsync_job_submit(job), IMGSYNC_EINVAL);
    /* without credentials anything https goes */
    job = imgsync_job_new(run, "GET", CDN "/public");
    ck_assert_ptr_nonnull(job);
    ck_assert_int_eq(imgsync_job_submit(job), 0);
    /* plain http: refused even without credentials */
    job = imgsync_job_new(run, "GET", "http://plain.example.com/x");
    ck_assert_ptr_nonnull(job);
    ck_assert_int_eq(imgsync_job_submit(job), IMGSYNC_EINSECURE);

    ck_assert_int_eq(imgsync_run_allow_origin(run, "http://iam.example.com"), IMGSYNC_EINSECURE);
    ck_assert_int_eq(imgsync_run_allow_origin(run, "not a url"), IMGSYNC_EINVAL);
    ck_assert_int_eq(imgsync_run_allow_origin(run, "http://127.0.0.1:8080/x"), 0);
    ck_assert_int_eq(imgsync_run_allow_origin(run, IAM "/v3"), 0);

    job = imgsync_job_new(run, "POST", IAM "/v3/auth/tokens");
    ck_assert_ptr_nonnull(job);
    ck_assert_int_eq(imgsync_job_set_auth(job, IMGSYNC_AUTH_PROVIDER), 0);
    ck_assert_int_eq(imgsync_job_add_header(job, "X-Auth-Token: tok-iam"), 0);
    ck_assert_int_eq(imgsync_job_set_body(job, "application/json", "{}", 2), 0);
    ck_assert_int_eq(imgsync_job_submit(job), 0);
    job = imgsync_job_new(run, "GET", IAM "/v3/basic");
    ck_assert_ptr_nonnull(job);
    ck_assert_int_eq(imgsync_job_set_auth(job, IMGSYNC_AUTH_BASIC), 0);
    ck_assert_int_eq(imgsync_job_submit(job), 0);
    /* the allowed origin is scheme, host and port: another port is another origin */
    job = imgsync_job_new(run, "GET", "https://iam.example.com:8443/v3/basic");
    ck_assert_ptr_nonnull(job);
    ck_assert_int_eq(imgsync_job_set_auth(job, IMGSYNC_AUTH_BASIC), 0);
    ck_assert_int_eq(imgsync_job_submit(job), IMGSYNC_EINVAL);
    job = imgsync_job_new(run, "GET", "http://127.0.0.1:8080/loop");
    ck_assert_ptr_nonnull(job);
    ck_assert_int_eq(imgsync_job_set_auth(job, IMGSYNC_AUTH_BASIC), 0);
    ck_assert_int_eq(imgsync_job_submit(job), 0);
    return 0;
}

START_TEST(credentialed_jobs_need_an_allowed_origin)
{
    static const spi_hooks h = {origins_start, count_on_response, NULL, NULL};
    spi_hooks_set(&h);
    imgsync_provider *p = replay_add_provider(R, SPI2_KIND, "o", EP);
    ck_assert_ptr_nonnull(p);
    ck_assert_int_eq(imgsync_provider_set(p, "username", "alice"), 0);
    ck_assert_int_eq(imgsync_provider_set(p, "password", "pw-1"), 0);
    ck_assert_int_eq(replay_respond(R, "POST", IAM "/v3/auth/tokens", 201, NULL, "{}"), 0);
    ck_assert_int_eq(replay_respond(R, "GET", IAM "/v3/basic", 200, NULL, "{}"), 0);
    ck_assert_int_eq(replay_respond(R, "GET", CDN "/public", 200, NULL, "{}"), 0);
    ck_assert_int_eq(replay_respond(R, "GET", "http://127.0.0.1:8080/loop", 200, NULL, "{}"), 0);
    ck_assert_int_eq(replay_sync(R, NULL, NULL), 0);
    char *log = replay_log_text(R);
    ck_assert_msg(replay_unexpected(R) == 0 && replay_nrequests(R) == 4, "%s", log);
    free(log);
    ck_assert_pstr_eq(replay_request_header(replay_find(R, "POST", IAM "/v3/auth/tokens"), "X-Auth-Token"), "tok-iam");
    ck_assert_ptr_null(replay_request_header(replay_find(R, "POST", IAM "/v3/auth/tokens"), "Authorization"));
    ck_assert_pstr_eq(replay_request_header(replay_find(R, "GET", IAM "/v3/basic"), "Authorization"), BASIC_ALICE);
    ck_assert_pstr_eq(replay_request_header(replay_find(R, "GET", "http://127.0.0.1:8080/loop"), "Authorization"),
                      BASIC_ALICE);
    ck_assert_ptr_null(replay_request_header(replay_find(R, "GET", CDN "/public"), "Authorization"));
}
END_TEST

/* A provider that passes the refusal on: the run reports it. */
static int refused_start(imgsync_run *run)
{
    ck_assert_int_eq(imgsync_run_scope_begin(run, "", "team/app"), 0);
    imgsync_job *job = imgsync_job_new(run, "GET", IAM "/v3/projects");
    ck_assert_ptr_nonnull(job);
    ck_assert_int_eq(imgsync_job_set_auth(job, IMGSYNC_AUTH_BASIC), 0);
    return imgsync_job_submit(job);
}

START_TEST(refused_origin_is_reported)
{
    static const spi_hooks h = {refused_start, count_on_response, NULL, NULL};
    spi_hooks_set(&h);
    ck_assert_ptr_nonnull(replay_add_provider(R, SPI2_KIND, "o", EP));
    uint64_t id;
    ck_assert_int_eq(replay_sync(R, NULL, &id), 0);
    ck_assert_uint_eq(replay_nrequests(R), 0);
    spi_task t = spi_task_get(R, id);
    ck_assert_int_eq(t.state, IMGSYNC_TASK_FAILED);
    ck_assert_int_eq(t.registry_state, IMGSYNC_REGISTRY_FAILED);
    ck_assert_int_eq(t.registry_error, IMGSYNC_EINVAL);
    ck_assert_uint_ge(t.nerrors, 1);
    ck_assert_int_eq(t.error_code[0], IMGSYNC_EINVAL);
    /* the reason says what was refused, not only that the provider could not start */
    ck_assert_msg(spi_task_mentions(&t, "origin the run does not allow"), "%s", t.registry_reason);
    spi_task_clear(&t);
}
END_TEST

/* ---- redirects ---------------------------------------------------------------------------------- */

enum { RD_PROVIDER = 1, RD_BASIC, RD_SAME };

static int redirect_start(imgsync_run *run)
{
    static const struct {
        int kind;
        const char *path;
        int auth;
    } jobs[] = {{RD_PROVIDER, "/blob-p", IMGSYNC_AUTH_PROVIDER},
                {RD_BASIC, "/blob-b", IMGSYNC_AUTH_BASIC},
                {RD_SAME, "/moved", IMGSYNC_AUTH_PROVIDER}};
    /* even an allowed origin gets no credentials through a redirect */
    ck_assert_int_eq(imgsync_run_allow_origin(run, CDN), 0);
    for (size_t i = 0; i < 3; i++) {
        imgsync_job *job = imgsync_job_new(run, "GET", jobs[i].path);
        ck_assert_ptr_nonnull(job);
        ck_assert_int_eq(imgsync_job_set_auth(job, jobs[i].auth), 0);
        ck_assert_int_eq(imgsync_job_add_header(job, "X-Auth-Token: tok-secret"), 0);
        ck_assert_int_eq(imgsync_job_add_header(job, "Accept: application/json"), 0);
        imgsync_job_set_kind(job, jobs[i].kind);
        ck_assert_int_eq(imgsync_job_submit(job), 0);
    }
    return 0;
}

static int redirect_sign(imgsync_run *run, const imgsync_job *job, imgsync_attempt *a)
{
    (void)run;
    spi_note_sign(job, a);
    return imgsync_attempt_add_header(a, "X-Signature", "signed");
}

static int redirect_on_response(imgsync_run *run, imgsync_job *job, const imgsync_response *resp)
{
    (void)run;
    ck_assert_int_eq(imgsync_response_status(resp), 200);
    ck_assert_str_eq(imgsync_response_url(resp), imgsync_job_kind(job) == RD_SAME ? EP "/new" : CDN "/data");
    ck_assert_str_eq(imgsync_job_url(job), imgsync_job_kind(job) == RD_PROVIDER ? EP "/blob-p"
                                           : imgsync_job_kind(job) == RD_BASIC  ? EP "/blob-b"
                                                                                : EP "/moved");
    spi_state.responses++;
    return 0;
}

START_TEST(redirect_to_another_origin_drops_credentials)
{
    static const spi_hooks h = {redirect_start, redirect_on_response, redirect_sign, NULL};
    spi_hooks_set(&h);
    imgsync_provider *p = replay_add_provider(R, SPI2_KIND, "rd", EP);
    ck_assert_ptr_nonnull(p);
    ck_assert_int_eq(imgsync_provider_set(p, "username", "alice"), 0);
    ck_assert_int_eq(imgsync_provider_set(p, "password", "pw-1"), 0);
    ck_assert_int_eq(replay_respond(R, "GET", EP "/blob-p", 302, "Location: " CDN "/data", NULL), 0);
    ck_assert_int_eq(replay_respond(R, "GET", EP "/blob-b", 307, "Location: " CDN "/data", NULL), 0);
    ck_assert_int_eq(replay_respond(R, "GET", EP "/moved", 301, "Location: /new", NULL), 0);
    ck_assert_int_eq(replay_respond(R, "GET", CDN "/data", 200, NULL, "{}"), 0);
    ck_assert_int_eq(replay_respond(R, "GET", EP "/new", 200, NULL, "{}"), 0);
    ck_assert_int_eq(replay_sync(R, NULL, NULL), 0);
    char *log = replay_log_text(R);
    ck_assert_msg(replay_unexpected(R) == 0 && replay_nrequests(R) == 6, "%s", log);
    free(log);
    ck_assert_int_eq(spi_state.responses, 3);

    for (size_t i = 0; i < replay_nrequests(R); i++) {
        const replay_request *q = replay_request_at(R, i);
        int on_cdn = !strncmp(q->url, CDN, strlen(CDN));
        if (on_cdn) {
            ck_assert_ptr_null(replay_request_header(q, "Authorization"));
            ck_assert_ptr_null(replay_request_header(q, "X-Auth-Token"));
            ck_assert_ptr_null(replay_request_header(q, "X-Signature"));
            ck_assert_pstr_eq(replay_request_header(q, "Accept"), "application/json");
        } else {
            ck_assert_pstr_eq(replay_request_header(q, "X-Auth-Token"), "tok-secret");
            ck_assert_pstr_eq(replay_request_header(q, "X-Signature"), "signed");
        }
    }
    ck_assert_pstr_eq(replay_request_header(replay_find(R, "GET", EP "/blob-b"), "Authorization"), BASIC_ALICE);
    ck_assert_pstr_eq(replay_request_header(replay_find(R, "GET", EP "/new"), "X-Signature"), "signed");

    /* sign: once for each cross-origin job (its first attempt only), twice for the same-origin
     * redirect, the second time with the final URL */
    ck_assert_int_eq(spi_state.nsigns, 4);
    int same = 0;
    for (int i = 0; i < spi_state.nsigns; i++) {
        const spi_sign_note *s = &spi_state.signs[i];
        ck_assert_msg(strncmp(s->url, CDN, strlen(CDN)) != 0, "sign called for %s", s->url);
        if (s->kind == RD_SAME) {
            ck_assert_int_eq(s->attempt, same + 1);
            ck_assert_str_eq(s->url, same ? EP "/new" : EP "/moved");
            same++;
        } else {
            ck_assert_int_eq(s->attempt, 1);
        }
    }
    ck_assert_int_eq(same, 2);
}
END_TEST

/* ---- an endpoint computed in start() --------------------------------------------------------- */

static int endpoint_start(imgsync_run *run)
{
    ck_assert_str_eq(imgsync_run_endpoint(run), "");
    ck_assert_ptr_null(imgsync_job_new(run, "GET", "/v2/")); /* no endpoint to join a path to */
    ck_assert_int_eq(imgsync_run_set_endpoint(run, "http://swr.r1.example.com"), IMGSYNC_EINSECURE);
    ck_assert_int_eq(imgsync_run_set_endpoint(run, "https://swr.r1.example.com/?x=1"), IMGSYNC_EINVAL);
    ck_assert_int_eq(imgsync_run_set_endpoint(run, "swr.r1.example.com"), IMGSYNC_EINVAL);
    char url[128];
    snprintf(url, sizeof(url), "https://swr.%s.example.com/", imgsync_run_option(run, "region"));
    ck_assert_int_eq(imgsync_run_set_endpoint(run, url), 0);
    ck_assert_str_eq(imgsync_run_endpoint(run), "https://swr.r1.example.com");
    ck_assert_int_eq(imgsync_run_scope_begin(run, "", "team/app"), 0);
    imgsync_job *job = imgsync_job_new(run, "GET", "/v2/team/app/tags/list");
    ck_assert_ptr_nonnull(job);
    ck_assert_str_eq(imgsync_job_url(job), "https://swr.r1.example.com/v2/team/app/tags/list");
    ck_assert_int_eq(imgsync_job_set_auth(job, IMGSYNC_AUTH_BASIC), 0);
    ck_assert_int_eq(imgsync_job_set_scope(job, NULL, "team/app"), 0);
    ck_assert_int_eq(imgsync_job_submit(job), 0);
    return 0;
}

static int endpoint_on_response(imgsync_run *run, imgsync_job *job, const imgsync_response *resp)
{
    ck_assert_int_eq(imgsync_response_status(resp), 200);
    imgsync_record *r = imgsync_record_new(run, imgsync_job_repository(job), "1.0");
    ck_assert_ptr_nonnull(r);
    ck_assert_int_eq(imgsync_record_emit(run, r), 0);
    return imgsync_run_scope_listed(run, "", "team/app");
}

START_TEST(endpoint_set_in_start)
{
    static const spi_hooks h = {endpoint_start, endpoint_on_response, NULL, NULL};
    spi_hooks_set(&h);
    imgsync_provider *p = NULL;
    ck_assert_int_eq(imgsync_provider_new(&p, replay_ctx(R), SPI2_KIND, "swr"), 0);
    ck_assert_int_eq(imgsync_provider_set(p, "region", "r1"), 0);
    ck_assert_int_eq(imgsync_provider_set(p, "username", "alice"), 0);
    ck_assert_int_eq(imgsync_provider_set(p, "password", "pw-1"), 0);
    ck_assert_int_eq(replay_respond(R, "GET", "https://swr.r1.example.com/v2/team/app/tags/list", 200, NULL, "{}"), 0);
    uint64_t id;
    ck_assert_int_eq(replay_sync(R, NULL, &id), 0);
    ck_assert_uint_eq(replay_unexpected(R), 0);
    ck_assert_uint_eq(replay_nrequests(R), 1);
    ck_assert_pstr_eq(replay_request_header(replay_request_at(R, 0), "Authorization"), BASIC_ALICE);
    ck_assert_pstr_eq(replay_request_header(replay_request_at(R, 0), "Host"), "swr.r1.example.com");
    spi_task t = spi_task_get(R, id);
    ck_assert_int_eq(t.state, IMGSYNC_TASK_SUCCEEDED);
    spi_task_clear(&t);
    imgsync_iter *it = NULL;
    const imgsync_image *im = spi_find_row(&it, replay_ctx(R), "", "team/app", "1.0");
    ck_assert_ptr_nonnull(im);
    ck_assert_str_eq(imgsync_image_host(im), "swr.r1.example.com");
    imgsync_iter_free(it);
}
END_TEST

/* ---- the sign hook ------------------------------------------------------------------------------ */

static const char SIGN_BODY[] = "{\"query\":\"x\"}";

static int sign_start(imgsync_run *run)
{
    imgsync_job *job = imgsync_job_new(run, "POST", "/api/sign?b=2&a=1");
    ck_assert_ptr_nonnull(job);
    ck_assert_int_eq(imgsync_job_set_auth(job, IMGSYNC_AUTH_PROVIDER), 0);
    ck_assert_int_eq(imgsync_job_add_header(job, "X-Project-Id: p-1"), 0);
    ck_assert_int_eq(imgsync_job_set_body(job, "application/json", SIGN_BODY, strlen(SIGN_BODY)), 0);
    imgsync_job_set_idempotent(job, 1);
    imgsync_job_set_kind(job, 1);
    ck_assert_int_eq(imgsync_job_submit(job), 0);

    job = imgsync_job_new(run, "GET", "/api/unsignable");
    ck_assert_ptr_nonnull(job);
    ck_assert_int_eq(imgsync_job_set_auth(job, IMGSYNC_AUTH_BASIC), 0);
    imgsync_job_set_kind(job, 2);
    ck_assert_int_eq(imgsync_job_submit(job), 0);
    return 0;
}

static int sign_sign(imgsync_run *run, const imgsync_job *job, imgsync_attempt *a)
{
    (void)run;
    spi_note_sign(job, a);
    if (imgsync_job_kind(job) == 2)
        return IMGSYNC_EAUTH; /* e.g. no key to sign with */
    ck_assert_int_eq(imgsync_attempt_add_header(a, "X-Bad", "a\r\nX-Injected: 1"), IMGSYNC_EINVAL);
    ck_assert_int_eq(imgsync_attempt_add_header(a, "X-Bad", "a\nb"), IMGSYNC_EINVAL);
    ck_assert_int_eq(imgsync_attempt_add_header(a, "X-Bad\r\nX-Injected", "1"), IMGSYNC_EINVAL);
    ck_assert_int_eq(imgsync_attempt_add_header(a, "Host", "evil.example.com"), IMGSYNC_EINVAL);
    ck_assert_int_eq(imgsync_attempt_add_header(a, "Content-Length", "1"), IMGSYNC_EINVAL);
    ck_assert_int_eq(imgsync_attempt_add_header(a, "", "1"), IMGSYNC_EINVAL);
    char sig[32];
    snprintf(sig, sizeof(sig), "sig-%d", imgsync_attempt_number(a));
    ck_assert_int_eq(imgsync_attempt_add_header(a, "X-Sdk-Date", "20261203T094000Z"), 0);
    ck_assert_int_eq(imgsync_attempt_add_header(a, "Authorization", sig), 0);
    /* an added header is visible to the rest of the hook */
    ck_assert_pstr_eq(imgsync_attempt_header(a, "authorization"), sig);
    return 0;
}

static int sign_on_response(imgsync_run *run, imgsync_job *job, const imgsync_response *resp)
{
    (void)run;
    int k = imgsync_job_kind(job);
    spi_state.statuses[k] = imgsync_response_status(resp);
    spi_state.errors[k] = imgsync_response_error(resp);
    spi_state.responses++;
    return 0;
}

START_TEST(sign_sees_every_attempt)
{
    static const spi_hooks h = {sign_start, sign_on_response, sign_sign, NULL};
    spi_hooks_set(&h);
    ck_assert_int_eq(imgsync_ctx_set(replay_ctx(R), "max_retries", "1"), 0);
    ck_assert_int_eq(imgsync_ctx_set(replay_ctx(R), "user_agent", "spi-test/1"), 0);
    ck_assert_ptr_nonnull(replay_add_provider(R, SPI2_KIND, "s", EP));
    fake_transport *ft = replay_transport(R);
    ck_assert_int_eq(fake_add_simple(ft, "POST", EP "/api/sign?b=2&a=1", 503, NULL, "busy"), 0);
    ck_assert_int_eq(fake_add_simple(ft, "POST", EP "/api/sign?b=2&a=1", 200, NULL, "{}"), 0);
    uint64_t id;
    ck_assert_int_eq(replay_sync(R, NULL, &id), 0);
    char *log = replay_log_text(R);
    ck_assert_msg(replay_unexpected(R) == 0 && replay_nrequests(R) == 2, "%s", log);
    free(log);

    /* the job whose sign failed: never sent, delivered once as a transport error with that code */
    ck_assert_uint_eq(replay_count(R, NULL, EP "/api/unsignable"), 0);
    ck_assert_int_eq(spi_state.responses, 2);
    ck_assert_int_eq(spi_state.statuses[2], 0);
    ck_assert_int_eq(spi_state.errors[2], IMGSYNC_EAUTH);
    ck_assert_int_eq(spi_state.statuses[1], 200);

    int n1 = 0;
    for (int i = 0; i < spi_state.nsigns; i++) {
        const spi_sign_note *s = &spi_state.signs[i];
        if (s->kind != 1)
            continue;
        n1++;
        ck_assert_int_eq(s->attempt, n1);
        ck_assert_str_eq(s->method, "POST");
        ck_assert_str_eq(s->url, EP "/api/sign?b=2&a=1");
        ck_assert_str_eq(s->content_type, "application/json");
        ck_assert_str_eq(s->x_project, "p-1");
        ck_assert_str_eq(s->host, "api.example.com");
        ck_assert_str_eq(s->user_agent, "spi-test/1");
        ck_assert_str_eq(s->body, SIGN_BODY);
        ck_assert_uint_eq(s->body_len, strlen(SIGN_BODY));
        ck_assert_str_eq(s->authorization, ""); /* AUTH_PROVIDER: nothing from the engine */
        /* what sign saw is what went on the wire, plus the headers it added */
        const replay_request *q = NULL;
        for (size_t j = 0, k = 0; j < replay_nrequests(R); j++)
            if (!strcmp(replay_request_at(R, j)->url, EP "/api/sign?b=2&a=1") && ++k == (size_t)n1)
                q = replay_request_at(R, j);
        ck_assert_ptr_nonnull(q);
        ck_assert_int_eq(q->attempt, n1);
        ck_assert_uint_eq(q->nheaders, s->nheaders + 2);
        for (size_t j = 0; j < s->nheaders; j++) {
            ck_assert_str_eq(q->headers[j].name, s->hnames[j]);
            ck_assert_str_eq(q->headers[j].value, s->hvalues[j]);
        }
        char sig[32];
        snprintf(sig, sizeof(sig), "sig-%d", n1);
        ck_assert_pstr_eq(replay_request_header(q, "Authorization"), sig);
        ck_assert_pstr_eq(replay_request_header(q, "X-Sdk-Date"), "20261203T094000Z");
        ck_assert_pstr_eq(replay_request_header(q, "Content-Length"), "13");
        ck_assert_ptr_null(replay_request_header(q, "X-Injected"));
    }
    ck_assert_int_eq(n1, 2); /* first attempt and the retry after 503 */
    ck_assert_int_eq(spi_state.nsigns, 3);

    spi_task t = spi_task_get(R, id);
    ck_assert_uint_eq(t.requests, 2);
    ck_assert_uint_eq(t.retries, 1);
    spi_task_clear(&t);
}
END_TEST

Suite *provider_spi_suite(void)
{
    Suite *s = suite_create("provider_spi");
    TCase *tc = tcase_create("spi");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, register_rules);
    tcase_add_test(tc, version1_provider_still_works);
    tcase_add_test(tc, post_and_put_bodies_on_the_wire);
    tcase_add_test(tc, post_retried_only_when_idempotent);
    tcase_add_test(tc, per_job_credentials);
    tcase_add_test(tc, credentialed_jobs_need_an_allowed_origin);
    tcase_add_test(tc, refused_origin_is_reported);
    tcase_add_test(tc, redirect_to_another_origin_drops_credentials);
    tcase_add_test(tc, endpoint_set_in_start);
    tcase_add_test(tc, sign_sees_every_attempt);
    suite_add_tcase(s, tc);
    return s;
}

IMGSYNC_TEST_MAIN(provider_spi_suite)
