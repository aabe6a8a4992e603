/* Review of the task/schedule/worker change: reproducers of defects found in src/core (worker.c,
 * sync.c, schedule.c, driver.c), on the scripted OCI registry and a fake clock. */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check_main.h"
#include "core/ctx.h"
#include "imgsync.h"
#include "support/registry_script.h"
#include "support/replay.h"

Suite *review_core_suite(void);

#define MIN (60 * 1000LL)
#define JUN01_2100Z 1780347600000LL

static replay *R;
static imgsync_provider *P;

static void setup_common(int sqlite)
{
    setenv("TZ", "Europe/Berlin", 1);
    tzset();
    const char *uri = sqlite ? rs_db_make("r.db") : NULL;
    ck_assert(!sqlite || uri);
    ck_assert_ptr_nonnull(R = rs_open(uri, &P));
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

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static size_t count_tasks(int state, int trigger) { return rs_count_tasks(replay_ctx(R), state, trigger); }

/* Start a task that stays running (its replies never come) on the worker. */
static uint64_t worker_with_running_task(imgsync_ctx *ctx)
{
    ck_assert_int_eq(replay_sync(R, NULL, NULL), 0);
    rs_script_base(R, 1);
    rs_set_delay(R, 1000LL * 1000 * 1000 * 1000 * 1000); /* millennia of fake time: never reached */
    ck_assert_int_eq(imgsync_ctx_start(ctx), 0);
    uint64_t id;
    ck_assert_int_eq(imgsync_sync_start(ctx, NULL, &id), 0);
    for (int i = 0; i < 500 && rs_task_state(ctx, id) != IMGSYNC_TASK_RUNNING; i++)
        sleep_ms(10);
    ck_assert_int_eq(rs_task_state(ctx, id), IMGSYNC_TASK_RUNNING);
    return id;
}

/* ---- worker.c / sync.c ---------------------------------------------------------------------- */

/* imgsync_provider_check from the embedder's thread while the worker drives a running task: the
 * check takes the api lock from the worker like any other call, yet it reads the worker's
 * in_perform flag without the lock and answers EBUSY "called from a callback" whenever the worker
 * is inside a driving step (a data race, and a refusal the worker design does not call for). */
START_TEST(test_check_beside_busy_worker)
{
    imgsync_ctx *ctx = replay_ctx(R);
    imgsync_provider *p = P;
    ck_assert_int_eq(imgsync_ctx_set(ctx, "check_timeout_ms", "100"), 0);
    uint64_t id = worker_with_running_task(ctx);
    int busy = 0;
    for (int i = 0; i < 20; i++) {
        busy += imgsync_provider_check(p) == IMGSYNC_EBUSY;
        sleep_ms(5);
    }
    ck_assert_int_eq(rs_task_state(ctx, id), IMGSYNC_TASK_RUNNING);
    ck_assert_int_eq(imgsync_ctx_stop(ctx), 0);
    ck_assert_msg(busy == 0, "imgsync_provider_check answered EBUSY %d times of 20 beside the worker", busy);
}
END_TEST

static struct {
    uint64_t task;
    int wait_rc, called;
    long waited_ms;
} cb;

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static void wait_in_callback(const imgsync_event *e, void *payload)
{
    imgsync_ctx *ctx = payload;
    if (cb.called || imgsync_event_type_of(e) != IMGSYNC_EVENT_TASK_STATE ||
        imgsync_event_task_state(e) != IMGSYNC_TASK_RUNNING)
        return;
    cb.called = 1;
    long t0 = now_ms();
    cb.wait_rc = imgsync_task_wait(ctx, imgsync_event_task_id(e), 1000);
    cb.waited_ms = now_ms() - t0;
}

/* event.h: imgsync_task_wait inside the callback answers EBUSY. On the worker thread it polls the
 * task's state instead - a state only the worker (now stuck in the callback) can change: with
 * timeout -1 the worker hangs for ever, with a timeout it blocks every caller of the context. */
START_TEST(test_wait_in_callback_on_worker)
{
    imgsync_ctx *ctx = replay_ctx(R);
    memset(&cb, 0, sizeof(cb));
    ck_assert_int_eq(imgsync_ctx_set_event_callback(ctx, wait_in_callback, ctx), 0);
    ck_assert_int_eq(imgsync_ctx_start(ctx), 0);
    uint64_t id;
    ck_assert_int_eq(imgsync_sync_start(ctx, NULL, &id), 0);
    ck_assert_int_eq(imgsync_task_wait(ctx, id, 20000), 0);
    ck_assert_int_eq(imgsync_ctx_stop(ctx), 0);
    ck_assert_int_eq(cb.called, 1);
    ck_assert_msg(cb.wait_rc == IMGSYNC_EBUSY, "imgsync_task_wait in a worker callback: %d after %ld ms", cb.wait_rc,
                  cb.waited_ms);
}
END_TEST

/* ---- schedule.c ------------------------------------------------------------------------------ */

/* A pid that no process has now: a child that already exited and was reaped. */
static long dead_pid(void)
{
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0)
        _exit(0);
    ck_assert_int_eq(waitpid(pid, NULL, 0), pid);
    return (long)pid;
}

/* The schedule's last task was running in a process that died (SIGKILL, OOM) while this
 * long-lived process keeps driving the database. still_runs() trusts the stored state "running"
 * without looking at the record's owner, so every later due time is recorded as SKIPPED - for
 * ever, until some process happens to open the file again and recover the record. */
START_TEST(test_schedule_not_blocked_by_dead_process)
{
    imgsync_ctx *ctx = replay_ctx(R);
    set_now(JUN01_2100Z);
    uint64_t sid = 0;
    ck_assert_int_eq(imgsync_schedule_every(ctx, NULL, 1, &sid), 0);
    /* what the dead process left: its scheduled task, running, and the schedule's claim of it */
    imgsync__task_rec r;
    memset(&r, 0, sizeof(r));
    r.state = IMGSYNC_TASK_RUNNING;
    r.trigger = IMGSYNC_TRIGGER_SCHEDULED;
    r.schedule_id = sid;
    r.created_ms = r.started_ms = JUN01_2100Z + MIN;
    char owner[64];
    snprintf(owner, sizeof(owner), "%ld:12345", dead_pid());
    r.reason = strdup("");
    r.owner = strdup(owner);
    ck_assert_int_eq(imgsync__store_task_insert(ctx->store, &r), 0);
    uint64_t dead_task = r.id;
    imgsync__task_rec_clear(&r);
    int claimed = 0;
    ck_assert_int_eq(imgsync__store_schedule_claim(ctx->store, sid, JUN01_2100Z + MIN, JUN01_2100Z + 2 * MIN,
                                                   dead_task, &claimed), 0);
    ck_assert_int_eq(claimed, 1);

    set_now(JUN01_2100Z + 2 * MIN);
    for (int i = 0; i < 1000 && imgsync_ctx_perform(ctx, 0) > 0; i++)
        ;
    ck_assert_uint_eq(count_tasks(IMGSYNC_TASK_SKIPPED, -1), 0);
    ck_assert_uint_eq(count_tasks(IMGSYNC_TASK_SUCCEEDED, IMGSYNC_TRIGGER_SCHEDULED), 1);
}
END_TEST

/* ---- schedule.c: records the scheduler adds -------------------------------------------------- */

/* task.h: the store keeps the last `task_retention` tasks, older ones removed when a task ends.
 * The tasks the scheduler records as ended at once (SKIPPED, or FAILED for a provider that is
 * gone) never trigger the pruning (only a live task ending does, in record_all): a daemon whose
 * schedule names a removed provider, or whose previous run hangs (no task timeout by default),
 * grows the history by one record per due time, for months. */
START_TEST(test_scheduler_records_keep_retention)
{
    imgsync_ctx *ctx = replay_ctx(R);
    ck_assert_int_eq(imgsync_ctx_set(ctx, "task_retention", "3"), 0);
    set_now(JUN01_2100Z);
    imgsync_request *req = NULL;
    ck_assert_int_eq(imgsync_request_new(&req), 0);
    ck_assert_int_eq(imgsync_request_add_provider(req, "gone"), 0);
    ck_assert_int_eq(imgsync_schedule_every(ctx, req, 1, NULL), 0);
    imgsync_request_free(req);
    for (int m = 1; m <= 10; m++) {
        set_now(JUN01_2100Z + m * MIN);
        imgsync_ctx_perform(ctx, 0);
    }
    ck_assert_uint_eq(count_tasks(IMGSYNC_TASK_FAILED, IMGSYNC_TRIGGER_SCHEDULED), 3);
}
END_TEST

/* ---- driver.c / events.c --------------------------------------------------------------------- */

static void cancel_when_running(const imgsync_event *e, void *payload)
{
    if (imgsync_event_type_of(e) == IMGSYNC_EVENT_TASK_STATE && imgsync_event_task_state(e) == IMGSYNC_TASK_RUNNING)
        cb.wait_rc = imgsync_task_cancel((imgsync_ctx *)payload, imgsync_event_task_id(e));
}

/* A task canceled from the event callback: the callback is told CANCELED at once, but
 * record_all decides "state changed" by comparing with ev_state (what the callback was told),
 * which events.c has already moved to CANCELED - so the record is not forced: the store keeps
 * "running" until the next progress write (PERSIST_INTERVAL_MS later, and only if the context is
 * driven again), and another process (or the task list after a crash) sees a running task. */
START_TEST(test_cancel_in_callback_recorded_at_once)
{
    imgsync_ctx *ctx = replay_ctx(R);
    memset(&cb, 0, sizeof(cb));
    rs_set_delay(R, 500);
    rs_script_base(R, 0);
    ck_assert_int_eq(imgsync_ctx_set_event_callback(ctx, cancel_when_running, ctx), 0);
    uint64_t id;
    ck_assert_int_eq(imgsync_sync_start(ctx, NULL, &id), 0);
    imgsync_ctx_perform(ctx, 0); /* starts it; the callback cancels it */
    ck_assert_int_eq(cb.wait_rc, 0);
    imgsync_ctx_perform(ctx, 0); /* one more step, no time passes */
    ck_assert_int_eq(imgsync_ctx_set_event_callback(ctx, NULL, NULL), 0);
    imgsync__task_rec r;
    ck_assert_int_eq(imgsync__store_task_get(ctx->store, id, &r), 0);
    int stored = r.state;
    imgsync__task_rec_clear(&r);
    ck_assert_int_eq(stored, IMGSYNC_TASK_CANCELED);
}
END_TEST

/* ---- schedule.c: missed due times ------------------------------------------------------------ */

/* ctx.h / schedule.h: with schedule_catch_up "0" a due time that passed while no context drove the
 * schedule is not run. "Missed" is decided by driving_since, the wall time of the context's very
 * first tick, never reset: a worker stopped (imgsync_ctx_stop) for three days and started again
 * runs the time it missed anyway. (A perform loop that pauses for days is the same case, but what
 * counts as "not driven" there is a design question: see the review report.) */
START_TEST(test_catch_up_off_after_worker_pause)
{
    imgsync_ctx *ctx = replay_ctx(R);
    ck_assert_int_eq(imgsync_ctx_set(ctx, "schedule_catch_up", "0"), 0);
    set_now(JUN01_2100Z);
    ck_assert_int_eq(imgsync_schedule_daily(ctx, NULL, 1, 0, NULL), 0);
    ck_assert_int_eq(imgsync_ctx_start(ctx), 0); /* driven at 23:00 ... */
    sleep_ms(100);
    ck_assert_int_eq(imgsync_ctx_stop(ctx), 0);
    set_now(JUN01_2100Z + 3 * 24 * 60 * MIN); /* ... then not for three days */
    ck_assert_int_eq(imgsync_ctx_start(ctx), 0);
    sleep_ms(300);
    ck_assert_int_eq(imgsync_ctx_stop(ctx), 0);
    ck_assert_uint_eq(count_tasks(-1, IMGSYNC_TRIGGER_SCHEDULED), 0);
}
END_TEST

/* schedule.h: a missing provider "fails that task with ENOTFOUND". The recorded task is FAILED
 * with a reason, but ENOTFOUND is nowhere in it: no error row, no registry row - an embedder
 * that sorts failures by code (imgsync_task_error_code) sees nothing. */
START_TEST(test_missing_provider_task_has_enotfound)
{
    imgsync_ctx *ctx = replay_ctx(R);
    set_now(JUN01_2100Z);
    imgsync_request *req = NULL;
    ck_assert_int_eq(imgsync_request_new(&req), 0);
    ck_assert_int_eq(imgsync_request_add_provider(req, "gone"), 0);
    ck_assert_int_eq(imgsync_schedule_every(ctx, req, 1, NULL), 0);
    imgsync_request_free(req);
    set_now(JUN01_2100Z + MIN);
    imgsync_ctx_perform(ctx, 0);
    imgsync_task *t = NULL;
    ck_assert_int_eq(imgsync_task_get_latest(&t, ctx), 0);
    ck_assert_int_eq(imgsync_task_state_of(t), IMGSYNC_TASK_FAILED);
    ck_assert_ptr_nonnull(strstr(imgsync_task_reason(t), "gone"));
    int code = imgsync_task_error_count(t) ? imgsync_task_error_code(t, 0) : 0;
    imgsync_task_free(t);
    ck_assert_int_eq(code, IMGSYNC_ENOTFOUND);
}
END_TEST

/* A wall clock that jumps far ahead (a bad RTC at boot, a mistyped date) and is then corrected:
 * the due time claimed while it was wrong stays in the stored schedule, so an every-60-minutes
 * schedule does not run again for the size of the jump (here ten years). next_due() only moves
 * forward; a stored next_ms more than one period ahead of now is never pulled back. */
START_TEST(test_every_after_clock_jump_back)
{
    imgsync_ctx *ctx = replay_ctx(R);
    set_now(JUN01_2100Z);
    ck_assert_int_eq(imgsync_schedule_every(ctx, NULL, 60, NULL), 0);
    int64_t year = 365 * 24 * 60 * MIN;
    set_now(JUN01_2100Z + 10 * year); /* the clock is wrong for a moment */
    for (int i = 0; i < 1000 && imgsync_ctx_perform(ctx, 0) > 0; i++)
        ;
    set_now(JUN01_2100Z + 30 * MIN); /* and corrected */
    imgsync_ctx_perform(ctx, 0);
    set_now(JUN01_2100Z + 3 * 60 * MIN); /* hours later */
    for (int i = 0; i < 1000 && imgsync_ctx_perform(ctx, 0) > 0; i++)
        ;
    ck_assert_uint_eq(count_tasks(-1, IMGSYNC_TRIGGER_SCHEDULED), 2);
}
END_TEST

/* ---- events.c: skipped tasks ----------------------------------------------------------------- */

static int skipped_events;
static void count_skipped(const imgsync_event *e, void *payload)
{
    if (imgsync_event_type_of(e) == IMGSYNC_EVENT_TASK_STATE && imgsync_event_task_state(e) == IMGSYNC_TASK_SKIPPED)
        skipped_events++;
}

/* event.h: TASK_STATE events tell that "a task was queued, started, ended or skipped". A skipped
 * run (and a scheduled run that failed before it started) is only a store record made by
 * imgsync__history_add_ended, never a live task, and events.c only walks ctx->tasks: the callback
 * never hears of it. */
START_TEST(test_skip_is_told)
{
    imgsync_ctx *ctx = replay_ctx(R);
    skipped_events = 0;
    ck_assert_int_eq(imgsync_ctx_set_event_callback(ctx, count_skipped, NULL), 0);
    set_now(JUN01_2100Z);
    ck_assert_int_eq(imgsync_schedule_every(ctx, NULL, 1, NULL), 0);
    rs_set_delay(R, 30 * MIN);
    rs_script_base(R, 0);
    set_now(JUN01_2100Z + MIN);
    ck_assert_int_eq(imgsync_ctx_perform(ctx, 0), 1);
    set_now(JUN01_2100Z + 2 * MIN);
    ck_assert_int_eq(imgsync_ctx_perform(ctx, 0), 1);
    ck_assert_uint_eq(count_tasks(IMGSYNC_TASK_SKIPPED, -1), 1);
    ck_assert_int_eq(imgsync_ctx_set_event_callback(ctx, NULL, NULL), 0);
    ck_assert_int_eq(skipped_events, 1);
}
END_TEST

/* ---- worker.c: the per-thread list of held contexts ------------------------------------------ */

#define CHAIN 5
static replay *chain[CHAIN];

/* The callback of context i drives context i + 1 (a callback of one context may use another). */
static void drive_next(const imgsync_event *e, void *payload)
{
    size_t i = (size_t)payload;
    if (i + 1 < CHAIN && imgsync_event_type_of(e) == IMGSYNC_EVENT_TASK_STATE &&
        imgsync_event_task_state(e) == IMGSYNC_TASK_QUEUED)
        imgsync_ctx_perform(replay_ctx(chain[i + 1]), 0);
}

/* A thread holds at most HELD_MAX (4) contexts' api locks in held[]; the fifth nested one is
 * locked by imgsync__ctx_enter but hold() finds no slot and says nothing, so
 * imgsync__ctx_leave does not find it and never unlocks: that context's api lock stays taken for
 * ever and the next call on it from another thread (or the next enter on this one) deadlocks. */
START_TEST(test_five_nested_contexts_unlock)
{
    for (size_t i = 0; i < CHAIN; i++) {
        chain[i] = replay_new();
        ck_assert_ptr_nonnull(chain[i]);
        ck_assert_int_eq(imgsync_ctx_set_event_callback(replay_ctx(chain[i]), drive_next, (void *)i), 0);
    }
    for (size_t i = 1; i < CHAIN; i++) {
        uint64_t id;
        ck_assert_int_eq(imgsync_sync_start(replay_ctx(chain[i]), NULL, &id), 0);
    }
    uint64_t id;
    ck_assert_int_eq(imgsync_sync_start(replay_ctx(chain[0]), NULL, &id), 0);
    imgsync_ctx_perform(replay_ctx(chain[0]), 0);
    int locked = 0;
    for (size_t i = 0; i < CHAIN; i++) {
        imgsync_ctx *c = replay_ctx(chain[i]);
        if (pthread_mutex_trylock(&c->api_lock) == 0)
            pthread_mutex_unlock(&c->api_lock);
        else
            locked++;
    }
    for (size_t i = 0; i < CHAIN; i++)
        if (!locked)
            replay_free(chain[i]); /* a leaked lock would hang the free */
    ck_assert_int_eq(locked, 0);
}
END_TEST

Suite *review_core_suite(void)
{
    Suite *s = suite_create("review_core");
    const char *names[] = {"memory", "sqlite"};
    void (*setups[])(void) = {setup_memory, setup_sqlite};
    for (int i = 0; i < 2; i++) {
        TCase *tc = tcase_create(names[i]);
        tcase_add_checked_fixture(tc, setups[i], teardown);
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, test_check_beside_busy_worker);
        tcase_add_test(tc, test_wait_in_callback_on_worker);
        tcase_add_test(tc, test_scheduler_records_keep_retention);
        tcase_add_test(tc, test_cancel_in_callback_recorded_at_once);
        tcase_add_test(tc, test_catch_up_off_after_worker_pause);
        tcase_add_test(tc, test_missing_provider_task_has_enotfound);
        tcase_add_test(tc, test_every_after_clock_jump_back);
        tcase_add_test(tc, test_skip_is_told);
        suite_add_tcase(s, tc);
    }
    TCase *tc = tcase_create("sqlite-only");
    tcase_add_checked_fixture(tc, setup_sqlite, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_schedule_not_blocked_by_dead_process);
    tcase_add_test(tc, test_five_nested_contexts_unlock);
    suite_add_tcase(s, tc);
    return s;
}

IMGSYNC_TEST_MAIN(review_core_suite)
