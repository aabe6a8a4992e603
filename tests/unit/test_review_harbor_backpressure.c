/* Review reproducer: the Harbor provider submits one artifacts walk per repository straight from
 * each repositories page (on_repos -> start_artifacts), without imgsync_run_has_room() /
 * imgsync_run_defer() / imgsync__pv_foreach(), so the "max_pending_jobs" soft bound is not
 * honoured; once the pending jobs reach the hard bound (64 x max_pending_jobs) imgsync_job_submit
 * returns ETOOBIG and the whole registry fails. The same listing through the OCI provider pauses
 * and completes. Issue 6, hostile item 1 ("jobs a provider submits must be bounded"). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "imgsync.h"
#include "support/replay.h"

Suite *review_harbor_backpressure_suite(void);

#define EP "https://harbor.example.com"
#define API EP "/api/v2.0"
#define NPROJ 30
#define NREPO 40 /* 1200 repositories: above the hard bound 64 x 16 = 1024 */

START_TEST(test_harbor_many_repositories_small_pending_bound)
{
    replay *r = replay_new();
    ck_assert_ptr_nonnull(r);
    ck_assert_int_eq(imgsync_ctx_set(replay_ctx(r), "max_pending_jobs", "16"), 0);
    imgsync_provider *p = replay_add_provider(r, "harbor", "hb", EP);
    ck_assert_ptr_nonnull(p);
    ck_assert_int_eq(replay_respond(r, "GET", EP "/api/version", 200, "Content-Type: application/json", "{\"version\":\"v2.0\"}"), 0);
    ck_assert_int_eq(replay_respond(r, "GET", API "/systeminfo", 200, "Content-Type: application/json",
                                    "{\"auth_mode\":\"db_auth\",\"harbor_version\":\"v2.11.1\"}"), 0);
    static char projects[8192], repos[8192];
    strcpy(projects, "[");
    for (int i = 0; i < NPROJ; i++) {
        char item[64], url[256];
        snprintf(item, sizeof(item), "%s{\"name\":\"p%d\",\"project_id\":%d}", i ? "," : "", i, i + 1);
        strcat(projects, item);
        strcpy(repos, "[");
        for (int k = 0; k < NREPO; k++) {
            snprintf(item, sizeof(item), "%s{\"name\":\"p%d/r%d\"}", k ? "," : "", i, k);
            strcat(repos, item);
            snprintf(url, sizeof(url), API "/projects/p%d/repositories/r%d/artifacts?with_tag=true&page=1&page_size=100", i, k);
            ck_assert_int_eq(replay_respond(r, "GET", url, 200, "Content-Type: application/json\nX-Total-Count: 0", "[]"), 0);
        }
        strcat(repos, "]");
        snprintf(url, sizeof(url), API "/projects/p%d/repositories?page=1&page_size=100", i);
        char total[64];
        snprintf(total, sizeof(total), "Content-Type: application/json\nX-Total-Count: %d", NREPO);
        ck_assert_int_eq(replay_respond(r, "GET", url, 200, total, repos), 0);
    }
    strcat(projects, "]");
    char total[64];
    snprintf(total, sizeof(total), "Content-Type: application/json\nX-Total-Count: %d", NPROJ);
    ck_assert_int_eq(replay_respond(r, "GET", API "/projects?page=1&page_size=100&with_detail=false", 200, total, projects), 0);
    uint64_t id = 0;
    ck_assert_int_eq(replay_sync(r, NULL, &id), 0);
    ck_assert_uint_eq(replay_unexpected(r), 0);
    imgsync_task *t = NULL;
    ck_assert_int_eq(imgsync_task_get(&t, replay_ctx(r), id), 0);
    ck_assert_msg(imgsync_task_state_of(t) == IMGSYNC_TASK_SUCCEEDED, "task %s: %s (error %d)",
                  imgsync_task_state_name(imgsync_task_state_of(t)), imgsync_task_registry_reason(t, 0),
                  imgsync_task_registry_error(t, 0));
    imgsync_task_free(t);
    replay_free(r);
}
END_TEST

Suite *review_harbor_backpressure_suite(void)
{
    Suite *s = suite_create("review_harbor_backpressure");
    TCase *tc = tcase_create("harbor");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_harbor_many_repositories_small_pending_bound);
    suite_add_tcase(s, tc);
    return s;
}

IMGSYNC_TEST_MAIN(review_harbor_backpressure_suite)
