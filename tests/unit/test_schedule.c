/* Schedules and the worker thread (issue 7) through the public API, on recorded OCI responses
 * and a fake clock in a time zone with daylight saving time (Europe/Berlin): the 01:00 default
 * across midnight, the spring-forward gap and the repeated autumn hour, every-N-minutes,
 * catch-up of a time missed while no process ran (and catch-up off), a run skipped while the
 * previous one still runs, schedules kept in the SQLite store; the worker: start, tasks from
 * another thread, EBUSY rules, stop cancelling what runs. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "check_main.h"
#include "imgsync.h"
#include "support/registry_script.h"
#include "support/replay.h"

Suite *schedule_suite(void);

#define H (3600 * 1000LL)
#define MIN (60 * 1000LL)
#define JUN01_2100Z 1780347600000LL /* 23:00 in Berlin (CEST) */
#define JUN01_2300Z 1780354800000LL /* 01:00 on 2 June in Berlin */
#define JUN02_2300Z 1780441200000LL
#define MAR28_2200Z 1774735200000LL /* 23:00 CET, the night clocks go 02:00 -> 03:00 */
#define MAR29_0100Z 1774746000000LL /* 03:00 CEST: when 02:30 is due that night */
#define MAR30_0030Z 1774830600000LL /* 02:30 CEST the next day */
#define OCT24_2200Z 1792879200000LL /* 00:00 CEST, the night clocks go 03:00 -> 02:00 */
#define OCT25_0030Z 1792888200000LL /* 02:30 CEST (first occurrence) */
#define OCT26_0130Z 1792978200000LL /* 02:30 CET the next day */

static replay *R;
static const char *uri; /* the sqlite: fixture's database (NULL: memory) */

static void open_replay(void) { ck_assert_ptr_nonnull(R = rs_open(uri, NULL)); }

static void setup_common(int sqlite)
{
    setenv("TZ", "Europe/Berlin", 1);
    tzset();
    uri = NULL;
    if (sqlite)
        ck_assert_ptr_nonnull(uri = rs_db_make("s.db"));
    open_replay();
}

static void setup_memory(void) { setup_common(0); }
static void setup_sqlite(void) { setup_common(1); }

static void teardown(void)
{
    replay_free(R);
    R = NULL;
    rs_db_remove();
}

static void set_now(int64_t wall) { replay_clock(R)->wall_ms = wall; }

/* Number of tasks in the history with this state and trigger (-1: any). */
static size_t count_tasks(int state, int trigger) { return rs_count_tasks(replay_ctx(R), state, trigger); }

/* next_ms and last task of the only schedule. */
static int64_t next_of(uint64_t *last_task)
{
    imgsync_schedule_list *l = NULL;
    ck_assert_int_eq(imgsync_schedule_list_new(&l, replay_ctx(R)), 0);
    ck_assert_uint_eq(imgsync_schedule_list_count(l), 1);
    int64_t next = imgsync_schedule_next_ms(l, 0);
    if (last_task)
        *last_task = imgsync_schedule_last_task(l, 0);
    imgsync_schedule_list_free(l);
    return next;
}

static void drive(void)
{
    for (int i = 0; i < 100000 && imgsync_ctx_perform(replay_ctx(R), 0) > 0; i++)
        ;
}

/* ---- due times -------------------------------------------------------------------------------- */

START_TEST(test_daily_default_across_midnight)
{
    imgsync_ctx *ctx = replay_ctx(R);
    set_now(JUN01_2100Z);
    imgsync_request *req = NULL;
    ck_assert_int_eq(imgsync_request_new(&req), 0);
    ck_assert_int_eq(imgsync_request_add_provider(req, RS_PROV), 0);
    ck_assert_int_eq(imgsync_request_add_filter(req, IMGSYNC_FILTER_TAG, "*", IMGSYNC_INCLUDE), 0);
    uint64_t sid = 0;
    ck_assert_int_eq(imgsync_schedule_daily(ctx, req, 1, 0, &sid), 0);
    imgsync_request_free(req);
    ck_assert(sid > 0);
    ck_assert_int_eq(imgsync_schedule_daily(ctx, NULL, 24, 0, NULL), IMGSYNC_EINVAL);
    ck_assert_int_eq(imgsync_schedule_daily(ctx, NULL, 1, 60, NULL), IMGSYNC_EINVAL);

    imgsync_schedule_list *l = NULL;
    ck_assert_int_eq(imgsync_schedule_list_new(&l, ctx), 0);
    ck_assert_uint_eq(imgsync_schedule_list_count(l), 1);
    ck_assert_uint_eq(imgsync_schedule_id(l, 0), sid);
    ck_assert_int_eq(imgsync_schedule_kind_of(l, 0), IMGSYNC_SCHEDULE_DAILY);
    ck_assert_int_eq(imgsync_schedule_hour(l, 0), 1);
    ck_assert_int_eq(imgsync_schedule_minute(l, 0), 0);
    ck_assert_int_eq(imgsync_schedule_next_ms(l, 0), JUN01_2300Z);
    ck_assert_uint_eq(imgsync_schedule_last_task(l, 0), 0);
    ck_assert_ptr_nonnull(strstr(imgsync_schedule_request_json(l, 0), "\"providers\":[\"" RS_PROV "\"]"));
    ck_assert_ptr_nonnull(strstr(imgsync_schedule_request_json(l, 0), "\"pattern\":\"*\""));
    imgsync_schedule_list_free(l);

    ck_assert_int_eq(imgsync_ctx_perform(ctx, 0), 0);
    set_now(JUN01_2300Z - 1);
    ck_assert_int_eq(imgsync_ctx_perform(ctx, 0), 0);
    ck_assert_uint_eq(count_tasks(-1, -1), 0);
    set_now(JUN01_2300Z);
    ck_assert_int_eq(imgsync_ctx_perform(ctx, 0), 1);
    drive();
    uint64_t last = 0;
    ck_assert_int_eq(next_of(&last), JUN02_2300Z);
    imgsync_task *t = NULL;
    ck_assert_int_eq(imgsync_task_get(&t, ctx, last), 0);
    ck_assert_int_eq(imgsync_task_trigger(t), IMGSYNC_TRIGGER_SCHEDULED);
    ck_assert_uint_eq(imgsync_task_schedule_id(t), sid);
    ck_assert_int_eq(imgsync_task_state_of(t), IMGSYNC_TASK_SUCCEEDED);
    ck_assert_uint_eq(imgsync_task_counter(t, IMGSYNC_COUNT_IMAGES_FOUND), RS_BASE_ROWS);
    imgsync_task_free(t);
    ck_assert_uint_eq(count_tasks(-1, IMGSYNC_TRIGGER_SCHEDULED), 1);

    ck_assert_int_eq(imgsync_schedule_remove(ctx, sid), 0);
    ck_assert_int_eq(imgsync_schedule_remove(ctx, sid), IMGSYNC_ENOTFOUND);
    set_now(JUN02_2300Z);
    ck_assert_int_eq(imgsync_ctx_perform(ctx, 0), 0);
    ck_assert_uint_eq(count_tasks(-1, -1), 1);
}
END_TEST

START_TEST(test_daily_spring_forward_gap)
{
    imgsync_ctx *ctx = replay_ctx(R);
    set_now(MAR28_2200Z);
    ck_assert_int_eq(imgsync_schedule_daily(ctx, NULL, 2, 30, NULL), 0);
    ck_assert_int_eq(next_of(NULL), MAR29_0100Z); /* 02:30 does not exist that night: 03:00 */
    set_now(MAR29_0100Z);
    ck_assert_int_eq(imgsync_ctx_perform(ctx, 0), 1);
    drive();
    ck_assert_int_eq(next_of(NULL), MAR30_0030Z);
    ck_assert_uint_eq(count_tasks(IMGSYNC_TASK_SUCCEEDED, IMGSYNC_TRIGGER_SCHEDULED), 1);
}
END_TEST

START_TEST(test_daily_repeated_hour_runs_once)
{
    imgsync_ctx *ctx = replay_ctx(R);
    set_now(OCT24_2200Z);
    ck_assert_int_eq(imgsync_schedule_daily(ctx, NULL, 2, 30, NULL), 0);
    ck_assert_int_eq(next_of(NULL), OCT25_0030Z);
    set_now(OCT25_0030Z);
    ck_assert_int_eq(imgsync_ctx_perform(ctx, 0), 1);
    drive();
    ck_assert_int_eq(next_of(NULL), OCT26_0130Z);
    set_now(OCT25_0030Z + H); /* 02:30 again, now CET */
    ck_assert_int_eq(imgsync_ctx_perform(ctx, 0), 0);
    ck_assert_uint_eq(count_tasks(-1, -1), 1);
}
END_TEST

START_TEST(test_every_minutes)
{
    imgsync_ctx *ctx = replay_ctx(R);
    set_now(JUN01_2100Z);
    ck_assert_int_eq(imgsync_schedule_every(ctx, NULL, 0, NULL), IMGSYNC_EINVAL);
    ck_assert_int_eq(imgsync_schedule_every(ctx, NULL, 44641, NULL), IMGSYNC_EINVAL);
    ck_assert_int_eq(imgsync_schedule_every(ctx, NULL, 90, NULL), 0);
    ck_assert_int_eq(next_of(NULL), JUN01_2100Z + 90 * MIN);
    set_now(JUN01_2100Z + 90 * MIN + 5 * MIN);
    ck_assert_int_eq(imgsync_ctx_perform(ctx, 0), 1);
    drive();
    ck_assert_int_eq(next_of(NULL), JUN01_2100Z + 180 * MIN); /* keeps its phase */
    ck_assert_uint_eq(count_tasks(IMGSYNC_TASK_SUCCEEDED, IMGSYNC_TRIGGER_SCHEDULED), 1);
}
END_TEST

/* A scheduled task still runs when the schedule comes due again: that run is skipped, recorded. */
START_TEST(test_skip_while_previous_runs)
{
    imgsync_ctx *ctx = replay_ctx(R);
    set_now(JUN01_2100Z);
    uint64_t sid = 0, first = 0, last = 0;
    ck_assert_int_eq(imgsync_schedule_every(ctx, NULL, 1, &sid), 0);
    rs_set_delay(R, 30 * MIN);
    set_now(JUN01_2100Z + MIN);
    ck_assert_int_eq(imgsync_ctx_perform(ctx, 0), 1);
    next_of(&first);
    ck_assert(first > 0);
    set_now(JUN01_2100Z + 2 * MIN);
    ck_assert_int_eq(imgsync_ctx_perform(ctx, 0), 1);
    ck_assert_int_eq(next_of(&last), JUN01_2100Z + 3 * MIN);
    ck_assert_uint_eq(last, first); /* still the running one */
    imgsync_task_list *l = NULL;
    ck_assert_int_eq(imgsync_task_list_new(&l, ctx, IMGSYNC_TASK_SKIPPED, -1, 0), 0);
    ck_assert_uint_eq(imgsync_task_list_count(l), 1);
    const imgsync_task *t = imgsync_task_list_at(l, 0);
    ck_assert_int_eq(imgsync_task_trigger(t), IMGSYNC_TRIGGER_SCHEDULED);
    ck_assert_uint_eq(imgsync_task_schedule_id(t), sid);
    ck_assert_ptr_nonnull(strstr(imgsync_task_reason(t), "still running"));
    ck_assert_str_eq(imgsync_task_state_name(imgsync_task_state_of(t)), "skipped");
    imgsync_task_list_free(l);
    ck_assert_int_eq(imgsync_task_cancel(ctx, first), 0);
}
END_TEST

/* ---- catch-up (SQLite: the schedule outlives the process) --------------------------------------- */

static void missed_while_down(int catch_up)
{
    set_now(JUN01_2100Z);
    ck_assert_int_eq(imgsync_schedule_daily(replay_ctx(R), NULL, 1, 0, NULL), 0);
    replay_free(R); /* the process ends before 01:00 ... */
    open_replay();  /* ... and starts again three days later */
    if (!catch_up)
        ck_assert_int_eq(imgsync_ctx_set(replay_ctx(R), "schedule_catch_up", "0"), 0);
    set_now(JUN01_2300Z + 3 * 24 * H + 5 * H);
    imgsync_ctx_perform(replay_ctx(R), 0);
    drive();
    ck_assert_uint_eq(count_tasks(-1, IMGSYNC_TRIGGER_SCHEDULED), catch_up ? 1 : 0);
    ck_assert_int_eq(next_of(NULL), JUN01_2300Z + 4 * 24 * H);
    imgsync_ctx_perform(replay_ctx(R), 0); /* once, not once per missed day */
    ck_assert_uint_eq(count_tasks(-1, IMGSYNC_TRIGGER_SCHEDULED), catch_up ? 1 : 0);
}

START_TEST(test_catch_up_once) { missed_while_down(1); }
END_TEST
START_TEST(test_catch_up_off) { missed_while_down(0); }
END_TEST

/* Two contexts on one database (as two processes) both driving one schedule: one run per due
 * time. */
START_TEST(test_one_run_per_due_time)
{
    set_now(JUN01_2100Z);
    ck_assert_int_eq(imgsync_schedule_every(replay_ctx(R), NULL, 60, NULL), 0);
    replay *other = rs_open(uri, NULL);
    ck_assert_ptr_nonnull(other);
    replay_clock(other)->wall_ms = JUN01_2100Z + 61 * MIN;
    set_now(JUN01_2100Z + 61 * MIN);
    imgsync_ctx_perform(replay_ctx(other), 0);
    imgsync_ctx_perform(replay_ctx(R), 0);
    for (int i = 0; i < 100000 && (imgsync_ctx_perform(replay_ctx(other), 0) > 0); i++)
        ;
    drive();
    ck_assert_uint_eq(count_tasks(-1, IMGSYNC_TRIGGER_SCHEDULED), 1);
    replay_free(other);
}
END_TEST

/* ---- the worker ------------------------------------------------------------------------------ */

START_TEST(test_worker_runs_tasks)
{
    imgsync_ctx *ctx = replay_ctx(R);
    ck_assert_int_eq(imgsync_ctx_start(ctx), 0);
    ck_assert_int_eq(imgsync_ctx_start(ctx), IMGSYNC_EBUSY);
    ck_assert_int_eq(imgsync_ctx_perform(ctx, 0), IMGSYNC_EBUSY);
    uint64_t a, b;
    ck_assert_int_eq(imgsync_sync_start(ctx, NULL, &a), 0);
    ck_assert_int_eq(imgsync_task_wait(ctx, a, 20000), 0);
    ck_assert_int_eq(rs_task_state(ctx, a), IMGSYNC_TASK_SUCCEEDED);
    ck_assert_uint_eq(imgsync_inventory_count(ctx), RS_BASE_ROWS);
    ck_assert_int_eq(imgsync_sync_start(ctx, NULL, &b), 0); /* the idle worker wakes for it */
    ck_assert_int_eq(imgsync_task_wait(ctx, b, 20000), 0);
    ck_assert_int_eq(rs_task_state(ctx, b), IMGSYNC_TASK_SUCCEEDED);
    ck_assert_int_eq(imgsync_ctx_stop(ctx), 0);
    ck_assert_int_eq(imgsync_ctx_stop(ctx), 0);
    ck_assert_int_eq(imgsync_ctx_perform(ctx, 0), 0); /* the caller drives again */
}
END_TEST

START_TEST(test_worker_stop_cancels_running_task)
{
    imgsync_ctx *ctx = replay_ctx(R);
    ck_assert_int_eq(replay_sync(R, NULL, NULL), 0);
    rs_script_base(R, 1);
    rs_set_delay(R, 1000LL * 1000 * 1000 * 1000 * 1000); /* never answered: millennia of fake time */
    ck_assert_int_eq(imgsync_ctx_start(ctx), 0);
    uint64_t id;
    ck_assert_int_eq(imgsync_sync_start(ctx, NULL, &id), 0);
    for (int i = 0; i < 500 && rs_task_state(ctx, id) != IMGSYNC_TASK_RUNNING; i++) {
        struct timespec ts = {0, 10 * 1000000L};
        nanosleep(&ts, NULL);
    }
    ck_assert_int_eq(rs_task_state(ctx, id), IMGSYNC_TASK_RUNNING);
    ck_assert_int_eq(imgsync_task_wait(ctx, id, 50), IMGSYNC_ETIMEOUT);
    ck_assert_int_eq(imgsync_ctx_stop(ctx), 0);
    imgsync_task *t = NULL;
    ck_assert_int_eq(imgsync_task_get(&t, ctx, id), 0);
    ck_assert_int_eq(imgsync_task_state_of(t), IMGSYNC_TASK_CANCELED);
    ck_assert_str_eq(imgsync_task_reason(t), "the worker stopped");
    imgsync_task_free(t);
    ck_assert_uint_eq(imgsync_inventory_count(ctx), RS_BASE_ROWS); /* the previous inventory */
}
END_TEST

Suite *schedule_suite(void)
{
    Suite *s = suite_create("schedule");
    const char *names[] = {"memory", "sqlite"};
    void (*setups[])(void) = {setup_memory, setup_sqlite};
    for (int i = 0; i < 2; i++) {
        TCase *tc = tcase_create(names[i]);
        tcase_add_checked_fixture(tc, setups[i], teardown);
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, test_daily_default_across_midnight);
        tcase_add_test(tc, test_daily_spring_forward_gap);
        tcase_add_test(tc, test_daily_repeated_hour_runs_once);
        tcase_add_test(tc, test_every_minutes);
        tcase_add_test(tc, test_skip_while_previous_runs);
        tcase_add_test(tc, test_worker_runs_tasks);
        tcase_add_test(tc, test_worker_stop_cancels_running_task);
        suite_add_tcase(s, tc);
    }
    TCase *tc = tcase_create("sqlite-only");
    tcase_add_checked_fixture(tc, setup_sqlite, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_catch_up_once);
    tcase_add_test(tc, test_catch_up_off);
    tcase_add_test(tc, test_one_run_per_due_time);
    suite_add_tcase(s, tc);
    return s;
}

IMGSYNC_TEST_MAIN(schedule_suite)
