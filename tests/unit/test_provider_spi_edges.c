/* Provider SPI v2, third part: edges of the interface a provider can reach - failing the run from
 * inside sign, canceling a task with deferred calls pending, the hard bound on submitted jobs
 * (and the reason a provider failing on it gets),
 * the task deadline inside a callback, untagged rows, submits to a committed scope, listing
 * limits, bodiless POSTs, imgsync_ctx_errmsg after each call. Test kinds in
 * tests/support/spi_provider.c, driven by the replay harness. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "imgsync.h"
#include "imgsync/sys/provider.h"
#include "support/replay.h"
#include "support/spi_provider.h"

Suite *provider_spi_edges_suite(void);

#define EP "https://api.example.com"
#define D1 "sha256:1111111111111111111111111111111111111111111111111111111111111111"
#define D2 "sha256:2222222222222222222222222222222222222222222222222222222222222222"

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

static void answer_200(void *ud, const fake_request *q, fake_reply *out)
{
    (void)ud;
    (void)q;
    out->status = 200;
    out->body = "{}";
}

static int count_response(imgsync_run *run, imgsync_job *job, const imgsync_response *resp)
{
    (void)run;
    (void)job;
    spi_state.responses++;
    spi_state.last_status = imgsync_response_status(resp);
    spi_state.last_error = imgsync_response_error(resp);
    return 0;
}

/* ---- the run failed from inside sign ----------------------------------------------------------- */

static int failsign_start(imgsync_run *run)
{
    for (int i = 0; i < 3; i++) {
        char path[32];
        snprintf(path, sizeof(path), "/j%d", i);
        imgsync_job *job = imgsync_job_new(run, "GET", path);
        ck_assert_ptr_nonnull(job);
        ck_assert_int_eq(imgsync_job_set_auth(job, IMGSYNC_AUTH_PROVIDER), 0);
        ck_assert_int_eq(imgsync_job_submit(job), 0);
    }
    return 0;
}

static int failsign_sign(imgsync_run *run, const imgsync_job *job, imgsync_attempt *a)
{
    spi_note_sign(job, a);
    imgsync_run_fail(run, IMGSYNC_EAUTH, "the signing key was refused");
    return IMGSYNC_EAUTH;
}

START_TEST(run_failed_inside_sign)
{
    static const spi_hooks h = {failsign_start, count_response, failsign_sign, NULL};
    spi_hooks_set(&h);
    ck_assert_ptr_nonnull(replay_add_provider(R, SPI2_KIND, "fs", EP));
    fake_set_fallback(replay_transport(R), answer_200, NULL);
    uint64_t id;
    ck_assert_int_eq(replay_sync(R, NULL, &id), 0);
    ck_assert_uint_eq(replay_nrequests(R), 0); /* nothing was sent */
    ck_assert_int_eq(spi_state.nsigns, 1);     /* the other jobs were dropped with the run */
    ck_assert_int_eq(spi_state.responses, 0);  /* a failed run gets no more responses */
    spi_task t = spi_task_get(R, id);
    ck_assert_int_eq(t.state, IMGSYNC_TASK_FAILED);
    ck_assert_int_eq(t.registry_error, IMGSYNC_EAUTH);
    ck_assert(spi_task_mentions(&t, "signing key"));
    spi_task_clear(&t);
}
END_TEST

/* ---- cancel with deferred calls pending ------------------------------------------------------ */

static void counted_free(void *p)
{
    spi_state.ints[0]++;
    free(p);
}

static int endless_step(imgsync_run *run, void *data)
{
    int *next = data;
    spi_state.deferred_calls++;
    while (imgsync_run_has_room(run)) {
        char path[32];
        snprintf(path, sizeof(path), "/m/%d", (*next)++);
        imgsync_job *job = imgsync_job_new(run, "GET", path);
        ck_assert_ptr_nonnull(job);
        ck_assert_int_eq(imgsync_job_set_scope(job, "", "big/repo"), 0);
        imgsync_job_set_data(job, malloc(8), counted_free);
        ck_assert_int_eq(imgsync_job_submit(job), 0);
        spi_state.submitted++;
    }
    return 1; /* never done */
}

static int endless_start(imgsync_run *run)
{
    int *next = calloc(1, sizeof(*next));
    ck_assert_ptr_nonnull(next);
    ck_assert_int_eq(imgsync_run_scope_begin(run, "", "big/repo"), 0);
    ck_assert_int_eq(imgsync_run_defer(run, "", "big/repo", endless_step, next, counted_free), 0);
    return imgsync_run_scope_listed(run, "", "big/repo");
}

START_TEST(cancel_frees_deferred_data_and_jobs)
{
    static const spi_hooks h = {endless_start, count_response, NULL, NULL};
    spi_hooks_set(&h);
    imgsync_ctx *ctx = replay_ctx(R);
    ck_assert_int_eq(imgsync_ctx_set(ctx, "max_pending_jobs", "16"), 0);
    ck_assert_ptr_nonnull(replay_add_provider(R, SPI2_KIND, "c", EP));
    fake_set_fallback(replay_transport(R), answer_200, NULL);
    uint64_t id;
    ck_assert_int_eq(imgsync_sync_start(ctx, NULL, &id), 0);
    for (int i = 0; i < 20; i++)
        ck_assert_int_ge(imgsync_ctx_perform(ctx, 0), 0);
    ck_assert_int_gt(spi_state.submitted, 16);
    ck_assert_int_eq(imgsync_task_cancel(ctx, id), 0);
    spi_task t = spi_task_get(R, id);
    ck_assert_int_eq(t.state, IMGSYNC_TASK_CANCELED);
    spi_task_clear(&t);
    /* every job's data and the deferral's data were freed by the cancel */
    ck_assert_int_eq(spi_state.ints[0], spi_state.submitted + 1);
    ck_assert_uint_eq(imgsync_inventory_count(ctx), 0);
    ck_assert_int_eq(imgsync_ctx_perform(ctx, 0), 0);
}
END_TEST

/* ---- the hard bound on pending jobs ------------------------------------------------------------ */

static int flood_start(imgsync_run *run)
{
    int rc = 0;
    ck_assert_int_eq(imgsync_run_has_room(run), 1);
    for (int i = 0; i < 100000 && !rc; i++) {
        imgsync_job *job = imgsync_job_new(run, "GET", "/flood");
        ck_assert_ptr_nonnull(job);
        imgsync_job_set_data(job, malloc(4), counted_free);
        rc = imgsync_job_submit(job);
        if (!rc)
            spi_state.submitted++;
    }
    ck_assert_int_eq(rc, IMGSYNC_ETOOBIG);
    ck_assert_int_eq(imgsync_run_has_room(run), 0);
    return 0;
}

START_TEST(submits_beyond_the_hard_bound_fail)
{
    static const spi_hooks h = {flood_start, count_response, NULL, NULL};
    spi_hooks_set(&h);
    imgsync_ctx *ctx = replay_ctx(R);
    ck_assert_int_eq(imgsync_ctx_set(ctx, "max_pending_jobs", "16"), 0);
    ck_assert_ptr_nonnull(replay_add_provider(R, SPI2_KIND, "fl", EP));
    ck_assert_int_eq(replay_respond(R, "GET", EP "/flood", 200, NULL, "{}"), 0);
    uint64_t id;
    ck_assert_int_eq(replay_sync(R, NULL, &id), 0);
    /* far above the soft bound, and bounded */
    ck_assert_int_gt(spi_state.submitted, 16);
    ck_assert_int_le(spi_state.submitted, 16 * 1024);
    ck_assert_int_eq(spi_state.responses, spi_state.submitted);
    ck_assert_uint_eq(replay_nrequests(R), (size_t)spi_state.submitted);
    ck_assert_int_eq(spi_state.ints[0], spi_state.submitted + 1); /* the refused job's data too */
}
END_TEST

/* A provider that returns the ETOOBIG of the hard bound fails with a reason naming the bound,
 * not ETOOBIG's generic text "response too large": the Harbor provider, before it deferred its
 * walks, failed large registries with "provider error: response too large". From on_response,
 * as Harbor did, and from start. */
static int flood(imgsync_run *run)
{
    int rc = 0;
    for (int i = 0; i < 100000 && !rc; i++) {
        imgsync_job *job = imgsync_job_new(run, "GET", "/flood");
        ck_assert_ptr_nonnull(job);
        rc = imgsync_job_submit(job);
    }
    return rc;
}

static int one_job_start(imgsync_run *run)
{
    imgsync_job *job = imgsync_job_new(run, "GET", "/first");
    ck_assert_ptr_nonnull(job);
    return imgsync_job_submit(job);
}

static int flood_on_first_response(imgsync_run *run, imgsync_job *job, const imgsync_response *resp)
{
    (void)job;
    (void)resp;
    return ++spi_state.responses == 1 ? flood(run) : 0;
}

static void expect_too_many_pending(const spi_hooks *h)
{
    spi_hooks_set(h);
    ck_assert_int_eq(imgsync_ctx_set(replay_ctx(R), "max_pending_jobs", "16"), 0);
    ck_assert_ptr_nonnull(replay_add_provider(R, SPI2_KIND, "fl", EP));
    fake_set_fallback(replay_transport(R), answer_200, NULL);
    uint64_t id;
    ck_assert_int_eq(replay_sync(R, NULL, &id), 0);
    spi_task t = spi_task_get(R, id);
    ck_assert_int_eq(t.state, IMGSYNC_TASK_FAILED);
    ck_assert_int_eq(t.registry_error, IMGSYNC_ETOOBIG);
    ck_assert_msg(spi_task_mentions(&t, "too many jobs pending (64 x max_pending_jobs)"), "%s", t.registry_reason);
    ck_assert_msg(!spi_task_mentions(&t, "response too large"), "%s", t.registry_reason);
    spi_task_clear(&t);
}

START_TEST(hard_bound_failure_names_the_bound)
{
    static const spi_hooks from_response = {one_job_start, flood_on_first_response, NULL, NULL};
    expect_too_many_pending(&from_response);
}
END_TEST

START_TEST(hard_bound_failure_at_start_names_the_bound)
{
    static const spi_hooks from_start = {flood, count_response, NULL, NULL};
    expect_too_many_pending(&from_start);
}
END_TEST

/* ---- the task deadline inside a long callback -------------------------------------------------- */

static int slow_start(imgsync_run *run)
{
    ck_assert_int_eq(imgsync_run_scope_begin(run, "", "team/app"), 0);
    int rc = 0, i;
    for (i = 0; i < 1000 && !rc; i++) {
        char tag[16];
        snprintf(tag, sizeof(tag), "t%d", i);
        imgsync_record *r = imgsync_record_new(run, "team/app", tag);
        ck_assert_ptr_nonnull(r);
        rc = imgsync_record_emit(run, r);
        if (i == 10)
            fake_clock_advance(replay_clock(R), 60000); /* a minute spent in this callback */
    }
    spi_state.ints[0] = i;
    spi_state.rc[0] = rc;
    if (!rc)
        imgsync_run_scope_listed(run, "", "team/app");
    return rc;
}

START_TEST(deadline_checked_inside_callbacks)
{
    static const spi_hooks h = {slow_start, count_response, NULL, NULL};
    spi_hooks_set(&h);
    imgsync_ctx *ctx = replay_ctx(R);
    ck_assert_int_eq(imgsync_ctx_set(ctx, "task_timeout_ms", "20000"), 0);
    ck_assert_ptr_nonnull(replay_add_provider(R, SPI2_KIND, "slow", EP));
    uint64_t id;
    ck_assert_int_eq(replay_sync(R, NULL, &id), 0);
    ck_assert_int_eq(spi_state.rc[0], IMGSYNC_ETIMEOUT);
    ck_assert_int_eq(spi_state.ints[0], 12); /* the first emit after the deadline said stop */
    spi_task t = spi_task_get(R, id);
    ck_assert_int_eq(t.state, IMGSYNC_TASK_FAILED);
    ck_assert_int_eq(t.registry_error, IMGSYNC_ETIMEOUT);
    spi_task_clear(&t);
    ck_assert_uint_eq(imgsync_inventory_count(ctx), 0);
}
END_TEST

/* ---- untagged rows, committed scopes, limits, bodiless POST --------------------------------- */

static int misc_start(imgsync_run *run)
{
    ck_assert_int_eq(imgsync_run_list_limit(run, IMGSYNC_LIMIT_PAGES), 7);
    ck_assert_int_eq(imgsync_run_list_limit(run, IMGSYNC_LIMIT_ITEMS), 1000000);
    ck_assert_int_eq(imgsync_run_list_limit(run, 99), 0);
    ck_assert_int_eq(imgsync_run_mode_of(run), IMGSYNC_RUN_SYNC);
    ck_assert_str_eq(imgsync_run_name(run), "misc");
    ck_assert_ptr_null(imgsync_run_option(run, "region"));
    ck_assert_int_ge(imgsync_run_now_ms(run), 1767225600000); /* the fake clock: 2026-01-01 */

    /* two untagged artifacts of one repository are two rows, told apart by digest */
    ck_assert_int_eq(imgsync_run_scope_begin(run, "", "team/app"), 0);
    const char *digests[] = {D1, D2, D1};
    for (int i = 0; i < 3; i++) {
        imgsync_record *r = imgsync_record_new(run, "team/app", "");
        ck_assert_ptr_nonnull(r);
        ck_assert_int_eq(imgsync_record_set_digest(r, digests[i]), 0);
        imgsync_record_set_size(r, 100 + i);
        ck_assert_int_eq(imgsync_record_emit(run, r), 0);
    }
    ck_assert_int_eq(imgsync_run_scope_listed(run, "", "team/app"), 0);
    /* committed: no more jobs for it */
    imgsync_job *job = imgsync_job_new(run, "GET", "/late");
    ck_assert_ptr_nonnull(job);
    ck_assert_int_eq(imgsync_job_set_scope(job, "", "team/app"), 0);
    ck_assert_int_eq(imgsync_job_submit(job), IMGSYNC_EINVAL);

    /* a POST without a body: Content-Length 0, no Content-Type; sign sees an empty body */
    job = imgsync_job_new(run, "POST", "/empty");
    ck_assert_ptr_nonnull(job);
    ck_assert_int_eq(imgsync_job_set_auth(job, IMGSYNC_AUTH_PROVIDER), 0);
    ck_assert_int_eq(imgsync_job_submit(job), 0);
    job = imgsync_job_new(run, "DELETE", "/gone");
    ck_assert_ptr_nonnull(job);
    ck_assert_int_eq(imgsync_job_submit(job), 0);
    return imgsync_run_catalog_complete(run);
}

static int misc_sign(imgsync_run *run, const imgsync_job *job, imgsync_attempt *a)
{
    (void)run;
    spi_note_sign(job, a);
    size_t len = 99;
    const char *body = imgsync_attempt_body(a, &len);
    ck_assert_uint_eq(len, 0);
    ck_assert_str_eq(body, "");
    ck_assert_ptr_null(imgsync_attempt_header(a, "Content-Type"));
    ck_assert_pstr_eq(imgsync_attempt_header(a, "Content-Length"), "0");
    ck_assert_str_eq(imgsync_job_target_url(job), imgsync_attempt_url(a));
    return 0;
}

START_TEST(untagged_rows_limits_and_empty_bodies)
{
    static const spi_hooks h = {misc_start, count_response, misc_sign, NULL};
    spi_hooks_set(&h);
    imgsync_ctx *ctx = replay_ctx(R);
    imgsync_provider *p = replay_add_provider(R, SPI2_KIND, "misc", EP);
    ck_assert_ptr_nonnull(p);
    ck_assert_int_eq(imgsync_provider_set(p, "max_list_pages", "7"), 0);
    ck_assert_int_eq(replay_respond(R, "POST", EP "/empty", 200, NULL, "{}"), 0);
    ck_assert_int_eq(replay_respond(R, "DELETE", EP "/gone", 204, NULL, NULL), 0);
    uint64_t id;
    ck_assert_int_eq(replay_sync(R, NULL, &id), 0);
    ck_assert_uint_eq(replay_unexpected(R), 0);
    ck_assert_uint_eq(replay_nrequests(R), 2);
    ck_assert_int_eq(spi_state.nsigns, 1);
    ck_assert_int_eq(spi_state.responses, 2);
    const replay_request *q = replay_find(R, "POST", EP "/empty");
    ck_assert_ptr_nonnull(q);
    ck_assert_uint_eq(q->body_len, 0);
    ck_assert_pstr_eq(replay_request_header(q, "Content-Length"), "0");
    ck_assert_ptr_null(replay_request_header(q, "Content-Type"));
    spi_task t = spi_task_get(R, id);
    ck_assert_int_eq(t.state, IMGSYNC_TASK_SUCCEEDED);
    ck_assert_uint_eq(t.added, 2);
    spi_task_clear(&t);
    ck_assert_uint_eq(imgsync_inventory_count(ctx), 2);
    imgsync_iter *it;
    ck_assert_int_eq(imgsync_iter_new(&it, ctx, NULL), 0);
    const imgsync_image *im;
    int seen = 0;
    while ((im = imgsync_iter_next(it))) {
        ck_assert_str_eq(imgsync_image_tag(im), "");
        if (!strcmp(imgsync_image_digest(im), D1)) {
            ck_assert_int_eq(imgsync_image_size(im), 102); /* the later row of the same digest */
            seen |= 1;
        } else {
            ck_assert_str_eq(imgsync_image_digest(im), D2);
            seen |= 2;
        }
    }
    ck_assert_int_eq(seen, 3);
    imgsync_iter_free(it);
}
END_TEST

/* ---- provider_check runs the kind in check mode ------------------------------------------------ */

static int check_start(imgsync_run *run)
{
    spi_state.ints[1] = imgsync_run_mode_of(run);
    imgsync_job *job = imgsync_job_new(run, "GET", "/v2/");
    ck_assert_ptr_nonnull(job);
    ck_assert_int_eq(imgsync_job_set_auth(job, IMGSYNC_AUTH_BASIC), 0);
    ck_assert_int_eq(imgsync_job_submit(job), 0);
    /* rows are not stored in check mode */
    imgsync_record *r = imgsync_record_new(run, "team/app", "1");
    ck_assert_ptr_nonnull(r);
    ck_assert_int_eq(imgsync_record_emit(run, r), 0);
    return 0;
}

static int check_response(imgsync_run *run, imgsync_job *job, const imgsync_response *resp)
{
    spi_state.responses++;
    if (imgsync_response_status(resp) != 200)
        return imgsync_run_fail_response(run, job, resp);
    return 0;
}

START_TEST(provider_check_uses_check_mode)
{
    static const spi_hooks h = {check_start, check_response, NULL, NULL};
    spi_hooks_set(&h);
    imgsync_ctx *ctx = replay_ctx(R);
    imgsync_provider *p = replay_add_provider(R, SPI2_KIND, "chk", EP);
    ck_assert_ptr_nonnull(p);
    ck_assert_int_eq(imgsync_provider_set(p, "username", "alice"), 0);
    ck_assert_int_eq(imgsync_provider_set(p, "password", "pw-CHECK-1"), 0);
    ck_assert_int_eq(replay_respond(R, "GET", EP "/v2/", 401, NULL, "{\"errors\":[{\"message\":\"pw-CHECK-1 wrong\"}]}"),
                     0);
    ck_assert_int_eq(imgsync_provider_check(p), IMGSYNC_EAUTH);
    ck_assert_int_eq(spi_state.ints[1], IMGSYNC_RUN_CHECK);
    ck_assert_str_ne(imgsync_ctx_errmsg(ctx), "");
    ck_assert_ptr_null(strstr(imgsync_ctx_errmsg(ctx), "pw-CHECK-1"));
    ck_assert_int_eq(replay_respond(R, "GET", EP "/v2/", 200, NULL, "{}"), 0);
    ck_assert_int_eq(imgsync_provider_check(p), 0);
    ck_assert_str_eq(imgsync_ctx_errmsg(ctx), "");
    ck_assert_int_eq(spi_state.responses, 2);
    ck_assert_uint_eq(imgsync_inventory_count(ctx), 0);
}
END_TEST


/* ---- redirects of bodies and to plain http ----------------------------------------------------- */

enum { RB_CROSS = 1, RB_SAME307, RB_SAME302, RB_DOWNGRADE };

static int rbody_start(imgsync_run *run)
{
    static const struct {
        int kind;
        const char *path;
    } jobs[] = {{RB_CROSS, "/post-cross"}, {RB_SAME307, "/post-307"}, {RB_SAME302, "/post-302"}, {RB_DOWNGRADE, "/get-http"}};
    for (size_t i = 0; i < 4; i++) {
        imgsync_job *job = imgsync_job_new(run, jobs[i].kind == RB_DOWNGRADE ? "GET" : "POST", jobs[i].path);
        ck_assert_ptr_nonnull(job);
        if (jobs[i].kind != RB_DOWNGRADE)
            ck_assert_int_eq(imgsync_job_set_body(job, "application/json", "{\"pw\":1}", 8), 0);
        ck_assert_int_eq(imgsync_job_set_auth(job, IMGSYNC_AUTH_BASIC), 0);
        imgsync_job_set_kind(job, jobs[i].kind);
        ck_assert_int_eq(imgsync_job_submit(job), 0);
    }
    return 0;
}

static int rbody_response(imgsync_run *run, imgsync_job *job, const imgsync_response *resp)
{
    (void)run;
    int k = imgsync_job_kind(job);
    spi_state.statuses[k] = imgsync_response_status(resp);
    spi_state.errors[k] = imgsync_response_error(resp);
    spi_state.responses++;
    return 0;
}

START_TEST(bodies_and_downgrades_are_not_redirected)
{
    static const spi_hooks h = {rbody_start, rbody_response, NULL, NULL};
    spi_hooks_set(&h);
    imgsync_provider *p = replay_add_provider(R, SPI2_KIND, "rb", EP);
    ck_assert_ptr_nonnull(p);
    ck_assert_int_eq(imgsync_provider_set(p, "username", "alice"), 0);
    ck_assert_int_eq(imgsync_provider_set(p, "password", "pw-1"), 0);
    ck_assert_int_eq(replay_respond(R, "POST", EP "/post-cross", 307, "Location: https://other.example.com/x", NULL), 0);
    ck_assert_int_eq(replay_respond(R, "POST", EP "/post-307", 307, "Location: /post-new", NULL), 0);
    ck_assert_int_eq(replay_respond(R, "POST", EP "/post-new", 200, NULL, "{}"), 0);
    ck_assert_int_eq(replay_respond(R, "POST", EP "/post-302", 302, "Location: /post-new", NULL), 0);
    ck_assert_int_eq(replay_respond(R, "GET", EP "/get-http", 302, "Location: http://api.example.com/get-http", NULL), 0);
    ck_assert_int_eq(replay_sync(R, NULL, NULL), 0);
    char *log = replay_log_text(R);
    ck_assert_msg(replay_unexpected(R) == 0 && replay_nrequests(R) == 5, "%s", log);
    free(log);
    ck_assert_int_eq(spi_state.responses, 4);
    ck_assert_int_eq(spi_state.statuses[RB_CROSS], 307); /* the body does not go to another origin */
    ck_assert_int_eq(spi_state.statuses[RB_SAME307], 200);
    ck_assert_int_eq(spi_state.statuses[RB_SAME302], 302); /* 302 would turn a POST into a GET */
    ck_assert_int_eq(spi_state.statuses[RB_DOWNGRADE], 0);
    ck_assert_int_eq(spi_state.errors[RB_DOWNGRADE], IMGSYNC_EINSECURE);
    ck_assert_uint_eq(replay_count(R, NULL, "http://api.example.com/get-http"), 0);
    const replay_request *q = replay_find(R, "POST", EP "/post-new");
    ck_assert_ptr_nonnull(q);
    ck_assert_uint_eq(q->body_len, 8);
    ck_assert_int_eq(memcmp(q->body, "{\"pw\":1}", 8), 0);
    ck_assert_pstr_eq(replay_request_header(q, "Authorization"), "Basic YWxpY2U6cHctMQ==");
}
END_TEST

/* ---- tokens are per run ------------------------------------------------------------------------- */

static int token_start(imgsync_run *run)
{
    imgsync_job *job = imgsync_job_new(run, "GET", "/v2/");
    ck_assert_ptr_nonnull(job);
    ck_assert_int_eq(imgsync_job_set_auth(job, IMGSYNC_AUTH_REGISTRY), 0);
    return imgsync_job_submit(job);
}

START_TEST(bearer_tokens_are_not_shared_between_runs)
{
    static const spi_hooks h = {token_start, count_response, NULL, NULL};
    spi_hooks_set(&h);
    imgsync_ctx *ctx = replay_ctx(R);
    const char *names[] = {"alice", "bob"};
    imgsync_provider *p[2];
    for (int i = 0; i < 2; i++) {
        p[i] = replay_add_provider(R, SPI2_KIND, names[i], EP);
        ck_assert_ptr_nonnull(p[i]);
        ck_assert_int_eq(imgsync_provider_set(p[i], "username", names[i]), 0);
        ck_assert_int_eq(imgsync_provider_set(p[i], "password", "pw"), 0);
    }
    fake_transport *ft = replay_transport(R);
    ck_assert_int_eq(fake_add_simple(ft, "GET", EP "/v2/", 401,
                                     "WWW-Authenticate: Bearer realm=\"" EP "/token\",service=\"reg\"", NULL),
                     0);
    ck_assert_int_eq(fake_add_simple(ft, "GET", EP "/v2/", 200, NULL, "{}"), 0);
    ck_assert_int_eq(replay_respond(R, "GET", EP "/token?service=reg", 200, NULL, "{\"token\":\"tok-x\",\"expires_in\":3600}"),
                     0);
    /* one provider per task, one after the other (a new run may reuse the old one's memory) */
    for (int i = 0; i < 2; i++) {
        imgsync_request *req;
        ck_assert_int_eq(imgsync_request_new(&req), 0);
        ck_assert_int_eq(imgsync_request_add_provider(req, names[i]), 0);
        ck_assert_int_eq(replay_sync(R, req, NULL), 0);
        imgsync_request_free(req);
        /* each run asks for its own token with its own credentials */
        const replay_request *tq = replay_find(R, "GET", EP "/token?service=reg");
        ck_assert_msg(tq != NULL, "run %d reused a token", i);
        ck_assert_pstr_eq(replay_request_header(tq, "Authorization"),
                          i ? "Basic Ym9iOnB3" /* bob:pw */ : "Basic YWxpY2U6cHc=" /* alice:pw */);
        fake_clear_scripts(ft);
        ck_assert_int_eq(fake_add_simple(ft, "GET", EP "/v2/", 401,
                                         "WWW-Authenticate: Bearer realm=\"" EP "/token\",service=\"reg\"", NULL),
                         0);
        ck_assert_int_eq(fake_add_simple(ft, "GET", EP "/v2/", 200, NULL, "{}"), 0);
        ck_assert_int_eq(
            replay_respond(R, "GET", EP "/token?service=reg", 200, NULL, "{\"token\":\"tok-y\",\"expires_in\":3600}"), 0);
    }
    ck_assert_int_eq(spi_state.responses, 2);
    (void)ctx;
}
END_TEST

/* ---- a deferred call of the registry scope that fails ----------------------------------------- */

static int failing_step(imgsync_run *run, void *data)
{
    (void)run;
    (void)data;
    return IMGSYNC_EPROTOCOL;
}

static int regdefer_start(imgsync_run *run)
{
    int *x = malloc(sizeof(*x));
    ck_assert_int_eq(imgsync_run_defer(run, NULL, NULL, failing_step, x, counted_free), 0);
    return 0;
}

START_TEST(failed_registry_deferral_fails_the_run)
{
    static const spi_hooks h = {regdefer_start, count_response, NULL, NULL};
    spi_hooks_set(&h);
    ck_assert_ptr_nonnull(replay_add_provider(R, SPI2_KIND, "rd", EP));
    uint64_t id;
    ck_assert_int_eq(replay_sync(R, NULL, &id), 0);
    spi_task t = spi_task_get(R, id);
    ck_assert_int_eq(t.state, IMGSYNC_TASK_FAILED);
    ck_assert_int_eq(t.registry_error, IMGSYNC_EPROTOCOL);
    spi_task_clear(&t);
    ck_assert_int_eq(spi_state.ints[0], 1);
}
END_TEST

/* ---- calls after the run failed ----------------------------------------------------------------- */

static int afterfail_start(imgsync_run *run)
{
    ck_assert_int_eq(imgsync_run_fail(run, IMGSYNC_EAUTH, "not authorized"), 0);
    imgsync_job *job = imgsync_job_new(run, "GET", "/after");
    ck_assert_ptr_nonnull(job);
    imgsync_job_set_data(job, malloc(4), counted_free);
    ck_assert_int_eq(imgsync_job_submit(job), IMGSYNC_ECANCELED);
    ck_assert_int_eq(spi_state.ints[0], 1);
    ck_assert_int_eq(imgsync_run_defer(run, "", "team/app", failing_step, malloc(4), counted_free), IMGSYNC_ECANCELED);
    ck_assert_int_eq(spi_state.ints[0], 2);
    imgsync_record *r = imgsync_record_new(run, "team/app", "1");
    ck_assert_ptr_nonnull(r);
    ck_assert_int_eq(imgsync_record_emit(run, r), 0); /* dropped */
    return IMGSYNC_EAUTH;
}

START_TEST(calls_after_the_run_failed)
{
    static const spi_hooks h = {afterfail_start, count_response, NULL, NULL};
    spi_hooks_set(&h);
    ck_assert_ptr_nonnull(replay_add_provider(R, SPI2_KIND, "af", EP));
    uint64_t id;
    ck_assert_int_eq(replay_sync(R, NULL, &id), 0);
    ck_assert_uint_eq(replay_nrequests(R), 0);
    ck_assert_uint_eq(imgsync_inventory_count(replay_ctx(R)), 0);
    spi_task t = spi_task_get(R, id);
    ck_assert_int_eq(t.state, IMGSYNC_TASK_FAILED);
    ck_assert_int_eq(t.registry_error, IMGSYNC_EAUTH);
    ck_assert_uint_eq(t.nerrors, 1); /* the provider's own reason, not "could not start" on top */
    ck_assert_str_eq(t.error_message[0], "not authorized");
    spi_task_clear(&t);
}
END_TEST

/* ---- errmsg ------------------------------------------------------------------------------------- */

static int empty_start(imgsync_run *run)
{
    (void)run;
    return 0;
}

START_TEST(errmsg_follows_every_call)
{
    static const spi_hooks h = {empty_start, count_response, NULL, NULL};
    spi_hooks_set(&h);
    imgsync_ctx *ctx = replay_ctx(R);
    imgsync_provider *p = replay_add_provider(R, SPI2_KIND, "e", EP);
    ck_assert_ptr_nonnull(p);
    ck_assert_str_eq(imgsync_ctx_errmsg(ctx), "");

    imgsync_task *t = NULL;
    ck_assert_int_eq(imgsync_task_get(&t, ctx, 999), IMGSYNC_ENOTFOUND);
    ck_assert_ptr_nonnull(strstr(imgsync_ctx_errmsg(ctx), "999"));
    uint64_t id;
    ck_assert_int_eq(replay_sync(R, NULL, &id), 0); /* imgsync_sync_start succeeded */
    ck_assert_int_eq(imgsync_task_get(&t, ctx, id), 0);
    ck_assert_str_eq(imgsync_ctx_errmsg(ctx), "");
    imgsync_task_free(t);

    ck_assert_int_eq(imgsync_task_cancel(ctx, 999), IMGSYNC_ENOTFOUND);
    ck_assert_ptr_nonnull(strstr(imgsync_ctx_errmsg(ctx), "999"));
    ck_assert_int_eq(imgsync_task_cancel(ctx, id), 0); /* already ended: fine */
    ck_assert_str_eq(imgsync_ctx_errmsg(ctx), "");

    ck_assert_int_eq(imgsync_task_wait(ctx, 998, 0), IMGSYNC_ENOTFOUND);
    ck_assert_str_ne(imgsync_ctx_errmsg(ctx), "");
    ck_assert_int_eq(imgsync_task_wait(ctx, id, 0), 0);
    ck_assert_str_eq(imgsync_ctx_errmsg(ctx), "");

    ck_assert_int_eq(imgsync_provider_set(p, "no_such_option", "1"), IMGSYNC_EINVAL);
    ck_assert_ptr_nonnull(strstr(imgsync_ctx_errmsg(ctx), "no_such_option"));
    ck_assert_int_eq(imgsync_provider_set(p, "region", "r2"), 0);
    ck_assert_str_eq(imgsync_ctx_errmsg(ctx), "");

    imgsync_provider *q = NULL;
    ck_assert_int_eq(imgsync_provider_new(&q, ctx, SPI2_KIND, "e"), IMGSYNC_EEXISTS);
    ck_assert_str_ne(imgsync_ctx_errmsg(ctx), "");
    ck_assert_int_eq(imgsync_task_get_latest(&t, ctx), 0);
    ck_assert_str_eq(imgsync_ctx_errmsg(ctx), "");
    imgsync_task_free(t);

    ck_assert_int_eq(imgsync_ctx_set(ctx, "max_retries", "x"), IMGSYNC_EINVAL);
    ck_assert_str_ne(imgsync_ctx_errmsg(ctx), "");
    ck_assert_int_eq(imgsync_ctx_set(ctx, "max_retries", "1"), 0);
    ck_assert_str_eq(imgsync_ctx_errmsg(ctx), "");

    imgsync_request *req = NULL;
    ck_assert_int_eq(imgsync_request_new(&req), 0);
    ck_assert_int_eq(imgsync_request_add_provider(req, "nobody"), 0);
    ck_assert_int_eq(imgsync_sync_start(ctx, req, &id), IMGSYNC_ENOTFOUND);
    ck_assert_ptr_nonnull(strstr(imgsync_ctx_errmsg(ctx), "nobody"));
    imgsync_request_free(req);
    ck_assert_int_eq(imgsync_sync_start(ctx, NULL, &id), 0);
    ck_assert_str_eq(imgsync_ctx_errmsg(ctx), "");
    ck_assert_int_eq(imgsync_task_wait(ctx, id, 10000), 0);
    ck_assert_str_eq(imgsync_ctx_errmsg(ctx), "");

    /* each of these succeeds right after a failure */
    imgsync_iter *it = NULL;
    ck_assert_int_eq(imgsync_request_new(&req), 0);
    ck_assert_int_eq(imgsync_request_add_provider(req, "nobody"), 0);
    ck_assert_int_eq(imgsync_iter_new(&it, ctx, req), IMGSYNC_ENOTFOUND);
    ck_assert_str_ne(imgsync_ctx_errmsg(ctx), "");
    imgsync_request_free(req);
    ck_assert_int_eq(imgsync_iter_new(&it, ctx, NULL), 0);
    ck_assert_str_eq(imgsync_ctx_errmsg(ctx), "");
    imgsync_iter_free(it);

    ck_assert_int_eq(imgsync_provider_new(&q, ctx, "no-such-kind", "n"), IMGSYNC_ENOTFOUND);
    ck_assert_str_ne(imgsync_ctx_errmsg(ctx), "");
    ck_assert_int_eq(imgsync_provider_new(&q, ctx, SPI2_KIND, "n"), 0);
    ck_assert_str_eq(imgsync_ctx_errmsg(ctx), "");

    ck_assert_int_eq(imgsync_provider_set(q, "endpoint", "ftp://x"), IMGSYNC_EINVAL);
    ck_assert_str_ne(imgsync_ctx_errmsg(ctx), "");
    ck_assert_int_eq(imgsync_provider_free(q), 0);
    ck_assert_str_eq(imgsync_ctx_errmsg(ctx), "");

    ck_assert_int_eq(imgsync_task_get(&t, ctx, 12345), IMGSYNC_ENOTFOUND);
    ck_assert_str_ne(imgsync_ctx_errmsg(ctx), "");
    ck_assert_int_ge(imgsync_ctx_perform(ctx, 0), 0);
    ck_assert_str_eq(imgsync_ctx_errmsg(ctx), "");
}
END_TEST

Suite *provider_spi_edges_suite(void)
{
    Suite *s = suite_create("provider_spi_edges");
    TCase *tc = tcase_create("edges");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, run_failed_inside_sign);
    tcase_add_test(tc, cancel_frees_deferred_data_and_jobs);
    tcase_add_test(tc, submits_beyond_the_hard_bound_fail);
    tcase_add_test(tc, hard_bound_failure_names_the_bound);
    tcase_add_test(tc, hard_bound_failure_at_start_names_the_bound);
    tcase_add_test(tc, deadline_checked_inside_callbacks);
    tcase_add_test(tc, untagged_rows_limits_and_empty_bodies);
    tcase_add_test(tc, provider_check_uses_check_mode);
    tcase_add_test(tc, bodies_and_downgrades_are_not_redirected);
    tcase_add_test(tc, bearer_tokens_are_not_shared_between_runs);
    tcase_add_test(tc, failed_registry_deferral_fails_the_run);
    tcase_add_test(tc, calls_after_the_run_failed);
    tcase_add_test(tc, errmsg_follows_every_call);
    suite_add_tcase(s, tc);
    return s;
}

IMGSYNC_TEST_MAIN(provider_spi_edges_suite)
