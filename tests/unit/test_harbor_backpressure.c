/* The Harbor provider keeps the jobs it submits bounded (issue 6, hostile item 1: "jobs a
 * provider submits must be bounded in memory").
 *
 * Every project of a projects page starts a repositories walk and every repository of a
 * repositories page an artifacts walk. The provider used to submit them all at once, without
 * imgsync_run_has_room() / imgsync_run_defer(): max_pending_jobs was not honoured, and once the
 * run had 64 x max_pending_jobs jobs pending imgsync_job_submit() answered ETOOBIG and the whole
 * registry failed with "provider error: response too large" (with the default settings from
 * about 260,000 repositories; here 30 projects x 40 repositories with max_pending_jobs 16, above
 * the hard bound of 1,024). Now the walks start as the run has room (imgsync__pv_foreach), and
 * the listing keeps what it did before: every repository synced, deleted ones pruned, a project
 * that cannot be listed keeping its rows. Driven by the replay harness (no network); the pending
 * jobs are read from the core's run, as each request goes out. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "core/run.h"
#include "imgsync.h"
#include "support/replay.h"

Suite *harbor_backpressure_suite(void);

#define EP "https://harbor.example.com"
#define API EP "/api/v2.0"
#define NPROJ 30
#define NREPO 40 /* 1,200 repositories: above the hard bound 64 x 16 = 1,024 */
#define FEW_REPOS 10 /* 300 repositories: still far above max_pending_jobs, and quicker under valgrind */
#define MAX_PENDING 16
#define H_JSON "Content-Type: application/json\n"

static replay *R;
static imgsync_provider *P;

/* The largest number of jobs the run had pending when a request went out. */
static size_t max_pending_seen;

static void watch_pending(void *ctx, fake_request *q, const imgsync__wire *w)
{
    (void)ctx;
    (void)q;
    const imgsync_job *job = w->ud;
    if (job && job->run->pending > max_pending_seen)
        max_pending_seen = job->run->pending;
}

static void setup(void)
{
    R = replay_new();
    ck_assert_ptr_nonnull(R);
    ck_assert_int_eq(imgsync_ctx_set(replay_ctx(R), "max_pending_jobs", "16"), 0);
    P = replay_add_provider(R, "harbor", "hb", EP);
    ck_assert_ptr_nonnull(P);
    fake_set_observer(replay_transport(R), watch_pending, NULL);
    max_pending_seen = 0;
    ck_assert_int_eq(replay_respond(R, "GET", EP "/api/version", 200, H_JSON, "{\"version\":\"v2.0\"}"), 0);
    ck_assert_int_eq(replay_respond(R, "GET", API "/systeminfo", 200, H_JSON,
                                    "{\"auth_mode\":\"db_auth\",\"harbor_version\":\"v2.11.1\"}"),
                     0);
}

static void teardown(void)
{
    replay_free(R);
    R = NULL;
}

static void respond_list(const char *url, int total, const char *body)
{
    char headers[128];
    snprintf(headers, sizeof(headers), H_JSON "X-Total-Count: %d\n", total);
    ck_assert_int_eq(replay_respond(R, "GET", url, 200, headers, body), 0);
}

/* Repository i/k holds one artifact tagged "v1" (digest from i and k). */
static void script_artifacts(int i, int k)
{
    char url[256], body[256];
    snprintf(url, sizeof(url), API "/projects/p%d/repositories/r%d/artifacts?with_tag=true&page=1&page_size=100", i, k);
    snprintf(body, sizeof(body),
             "[{\"id\":1,\"type\":\"IMAGE\",\"digest\":\"sha256:%064x\",\"size\":100,\"tags\":[{\"name\":\"v1\"}]}]",
             (unsigned)(i * 1000 + k));
    respond_list(url, 1, body);
}

/* Project i with nrepo repositories "p<i>/r<k>", each with its artifacts. */
static void script_project(int i, int nrepo)
{
    static char repos[NREPO * 32 + 8];
    char url[256];
    ck_assert_int_le(nrepo, NREPO);
    strcpy(repos, "[");
    for (int k = 0; k < nrepo; k++) {
        snprintf(repos + strlen(repos), 32, "%s{\"name\":\"p%d/r%d\"}", k ? "," : "", i, k);
        script_artifacts(i, k);
    }
    strcat(repos, "]");
    snprintf(url, sizeof(url), API "/projects/p%d/repositories?page=1&page_size=100", i);
    respond_list(url, nrepo, repos);
}

/* The projects p0 .. p<nproj - 1>, one page. */
static void script_projects(int nproj)
{
    static char projects[NPROJ * 40 + 8];
    strcpy(projects, "[");
    for (int i = 0; i < nproj; i++)
        snprintf(projects + strlen(projects), 40, "%s{\"name\":\"p%d\",\"project_id\":%d}", i ? "," : "", i, i + 1);
    strcat(projects, "]");
    respond_list(API "/projects?page=1&page_size=100&with_detail=false", nproj, projects);
}

static imgsync_task *sync_task(const imgsync_request *req)
{
    uint64_t id = 0;
    ck_assert_int_eq(replay_sync(R, req, &id), 0);
    imgsync_task *t = NULL;
    ck_assert_int_eq(imgsync_task_get(&t, replay_ctx(R), id), 0);
    return t;
}

static void expect_state(const imgsync_task *t, int state)
{
    ck_assert_msg(imgsync_task_state_of(t) == state, "task %s: %s (error %d)",
                  imgsync_task_state_name(imgsync_task_state_of(t)), imgsync_task_registry_reason(t, 0),
                  imgsync_task_registry_error(t, 0));
}

/* The soft bound, plus the next page of a listing, which is read even when the run is full (one
 * job per walk in progress, and walks only start when there is room). */
static void expect_bounded(void)
{
    ck_assert_msg(max_pending_seen >= 1 && max_pending_seen <= MAX_PENDING + 1,
                  "up to %zu jobs pending, max_pending_jobs is %d", max_pending_seen, MAX_PENDING);
}

START_TEST(test_many_repositories_small_pending_bound)
{
    for (int i = 0; i < NPROJ; i++)
        script_project(i, NREPO);
    script_projects(NPROJ);
    imgsync_task *t = sync_task(NULL);
    expect_state(t, IMGSYNC_TASK_SUCCEEDED);
    ck_assert_uint_eq(imgsync_task_counter(t, IMGSYNC_COUNT_REPOSITORIES_DONE), NPROJ * NREPO);
    ck_assert_uint_eq(imgsync_task_counter(t, IMGSYNC_COUNT_IMAGES_FOUND), NPROJ * NREPO);
    imgsync_task_free(t);
    ck_assert_uint_eq(replay_unexpected(R), 0);
    ck_assert_uint_eq(replay_nrequests(R), 2 + 1 + NPROJ + NPROJ * NREPO); /* each list read once */
    expect_bounded();
}
END_TEST

/* With the walks deferred, the catalog is still complete only once every project was walked:
 * a project gone from Harbor is pruned, and one whose repositories cannot be listed keeps its
 * rows (the task is then partially succeeded). */
START_TEST(test_deferred_projects_prune_and_keep)
{
    for (int i = 0; i < NPROJ; i++)
        script_project(i, FEW_REPOS);
    script_projects(NPROJ);
    imgsync_task *t = sync_task(NULL);
    expect_state(t, IMGSYNC_TASK_SUCCEEDED);
    imgsync_task_free(t);

    /* p29 deleted; p0 (walked first) and p28 (walked last) forbidden */
    script_projects(NPROJ - 1);
    ck_assert_int_eq(replay_respond(R, "GET", API "/projects/p0/repositories?page=1&page_size=100", 403, H_JSON,
                                    "{\"errors\":[{\"code\":\"FORBIDDEN\",\"message\":\"forbidden\"}]}"),
                     0);
    ck_assert_int_eq(replay_respond(R, "GET", API "/projects/p28/repositories?page=1&page_size=100", 403, H_JSON,
                                    "{\"errors\":[{\"code\":\"FORBIDDEN\",\"message\":\"forbidden\"}]}"),
                     0);
    max_pending_seen = 0;
    t = sync_task(NULL);
    expect_state(t, IMGSYNC_TASK_PARTIAL);
    ck_assert_uint_eq(imgsync_task_counter(t, IMGSYNC_COUNT_IMAGES_REMOVED), FEW_REPOS); /* p29 only */
    ck_assert_uint_eq(imgsync_task_counter(t, IMGSYNC_COUNT_REPOSITORIES_DONE), (NPROJ - 3) * FEW_REPOS);
    imgsync_task_free(t);
    ck_assert_uint_eq(replay_unexpected(R), 0);
    expect_bounded();

    imgsync_iter *it = NULL;
    ck_assert_int_eq(imgsync_iter_new(&it, replay_ctx(R), NULL), 0);
    size_t rows = 0, p0 = 0, p28 = 0, p29 = 0;
    const imgsync_image *img;
    while ((img = imgsync_iter_next(it))) {
        const char *repo = imgsync_image_repository(img);
        rows++;
        p0 += !strncmp(repo, "p0/", 3);
        p28 += !strncmp(repo, "p28/", 4);
        p29 += !strncmp(repo, "p29/", 4);
    }
    imgsync_iter_free(it);
    ck_assert_uint_eq(rows, (NPROJ - 1) * FEW_REPOS);
    ck_assert_uint_eq(p0, FEW_REPOS);
    ck_assert_uint_eq(p28, FEW_REPOS);
    ck_assert_uint_eq(p29, 0);
}
END_TEST

/* Named repositories are fetched directly, also as the run has room. */
START_TEST(test_many_named_repositories)
{
    imgsync_request *req = NULL;
    ck_assert_int_eq(imgsync_request_new(&req), 0);
    for (int i = 0; i < NPROJ; i++)
        for (int k = 0; k < FEW_REPOS; k++) {
            char name[32];
            snprintf(name, sizeof(name), "p%d/r%d", i, k);
            ck_assert_int_eq(imgsync_request_add_repository(req, "hb", name), 0);
            script_artifacts(i, k);
        }
    imgsync_task *t = sync_task(req);
    imgsync_request_free(req);
    expect_state(t, IMGSYNC_TASK_SUCCEEDED);
    ck_assert_uint_eq(imgsync_task_counter(t, IMGSYNC_COUNT_IMAGES_FOUND), NPROJ * FEW_REPOS);
    imgsync_task_free(t);
    ck_assert_uint_eq(replay_unexpected(R), 0);
    ck_assert_uint_eq(replay_count_containing(R, "GET", "/repositories?"), 0); /* no walk */
    expect_bounded();
}
END_TEST

Suite *harbor_backpressure_suite(void)
{
    Suite *s = suite_create("harbor_backpressure");
    TCase *tc = tcase_create("harbor");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_many_repositories_small_pending_bound);
    tcase_add_test(tc, test_deferred_projects_prune_and_keep);
    tcase_add_test(tc, test_many_named_repositories);
    suite_add_tcase(s, tc);
    return s;
}

IMGSYNC_TEST_MAIN(harbor_backpressure_suite)
