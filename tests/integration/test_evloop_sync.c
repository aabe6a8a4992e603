/*
 * Full syncs driven from a poll() loop through the socket and timer callbacks only
 * (tests/support/poll_loop.c): against a real docker-registry (tests/registry/registry.py), the
 * inventory equals a perform-driven sync's and a schedule comes due through the timer; against
 * the Harbor emulator, retries back off through the timer, a slow server is waited for without
 * spinning, and a sync is canceled mid-way.
 * Run from the repository root (as `make` does): ./build/tests/test_evloop_sync
 */
#include <check.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "imgsync.h"
#include "imgsync/sys/clock.h"
#include "support/harbor_fixture.h"
#include "support/poll_loop.h"
#include "support/registry_fixture.h"

Suite *evloop_sync_suite(void);

#define WAIT_MS 30000
#define HARBOR "h"
#define OCI "local"

static rf_registry reg;
static rf_rows initial;
static int reg_ok;
static ef_emulator emu;
static int emu_ok;

static imgsync_ctx *ctx;
static pl_loop loop;

/* ---- fixtures ------------------------------------------------------------------------------- */

static void registry_start(void)
{
    char path[4096];
    reg_ok = rf_registry_start(&reg, "evloop", NULL, NULL) == 0;
    snprintf(path, sizeof(path), "%s", reg_ok ? rf_registry_path(&reg, "initial.json") : "");
    reg_ok = reg_ok && rf_registry_seed(&reg, "initial", path) == 0 && rf_rows_load(&initial, path) == 0 && initial.n > 0;
}

static void registry_stop(void)
{
    rf_rows_free(&initial);
    rf_registry_destroy(&reg);
}

static void emulator_start(void)
{
    emu_ok = hf_start(&emu, "tests/emulators/harbor_dataset.json", NULL, NULL, NULL) == 0;
}

static void emulator_stop(void) { ef_stop(&emu); }

static void setup(void)
{
    memset(&loop, 0, sizeof(loop));
    ck_assert_int_eq(imgsync_ctx_new(&ctx, NULL), 0);
}

static void harbor_setup(void)
{
    ck_assert_msg(emu_ok, "the Harbor emulator did not start (see stderr)");
    ck_assert_int_eq(ef_reset(&emu), 0);
    setup();
}

static void teardown(void)
{
    imgsync_ctx_free(ctx);
    ctx = NULL;
}

/* ---- helpers --------------------------------------------------------------------------------- */

static void ctx_set(imgsync_ctx *c, const char *key, const char *value)
{
    int rc = imgsync_ctx_set(c, key, value);
    ck_assert_msg(rc == 0, "imgsync_ctx_set(%s) = %d: %s", key, rc, imgsync_ctx_errmsg(c));
}

static imgsync_provider *add_provider(imgsync_ctx *c, const char *kind, const char *name, const char *endpoint,
                                      int admin)
{
    imgsync_provider *p = NULL;
    ck_assert_int_eq(imgsync_provider_new(&p, c, kind, name), 0);
    ck_assert_int_eq(imgsync_provider_set(p, "endpoint", endpoint), 0);
    if (admin) {
        ck_assert_int_eq(imgsync_provider_set(p, "username", HF_ADMIN_USER), 0);
        ck_assert_int_eq(imgsync_provider_set(p, "password", HF_ADMIN_PASSWORD), 0);
    }
    return p;
}

static uint64_t start_sync(imgsync_ctx *c)
{
    pl_loop l = {0};
    uint64_t id = 0;
    l.ctx = c;
    int rc = pl_start_all(&l, &id);
    ck_assert_msg(rc == 0, "imgsync_sync_start = %d: %s", rc, imgsync_ctx_errmsg(c));
    return id;
}

static uint64_t counter(uint64_t id, int which)
{
    imgsync_task *t = NULL;
    ck_assert_int_eq(imgsync_task_get(&t, ctx, id), 0);
    uint64_t v = imgsync_task_counter(t, which);
    imgsync_task_free(t);
    return v;
}

/* Sync everything from the loop; the task must end in `state`. */
static uint64_t loop_sync(int state)
{
    ck_assert_int_eq(pl_attach(&loop, ctx), 0);
    uint64_t id = start_sync(ctx);
    ck_assert_int_eq(pl_run_task(&loop, id, WAIT_MS), state);
    ck_assert_int_eq(loop.bad_what, 0);
    ck_assert_int_eq(pl_run_once(&loop, 0), 0); /* nothing left: no task */
    return id;
}

static void expect_harbor_inventory(void)
{
    hf_rows want = {0};
    ck_assert_msg(hf_expected(&emu, &want) == 0, "no expected inventory (see stderr)");
    size_t diffs = hf_compare_inventory(ctx, HARBOR, emu.host, &want);
    hf_rows_free(&want);
    ck_assert_msg(diffs == 0, "the inventory differs from the emulator's in %zu place(s) (see stderr)", diffs);
}

static long cpu_ms(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (long)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000 + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1000;
}

/* ---- docker-registry --------------------------------------------------------------------------- */

/* The loop-driven inventory is the registry's, row for row the same as a perform-driven one; a
 * provider check (blocking) still works while the loop drives. */
START_TEST(test_registry_sync_equals_perform)
{
    ck_assert_msg(reg_ok, "the registry fixture failed to start or seed (see stderr)");
    imgsync_provider *p = add_provider(ctx, "oci", OCI, reg.url, 0);
    uint64_t id = loop_sync(IMGSYNC_TASK_SUCCEEDED);
    ck_assert_int_eq(imgsync_provider_check(p), 0);
    ck_assert_int_eq(pl_run_once(&loop, 0), 0);
    ck_assert_int_eq(loop.n, 1); /* the check's socket came and went */
    ck_assert_uint_eq(counter(id, IMGSYNC_COUNT_IMAGES_FOUND), initial.n);
    ck_assert_uint_eq(rf_compare_inventory(ctx, OCI, reg.host, &initial, RF_ALL), 0);

    imgsync_ctx *other = NULL;
    ck_assert_int_eq(imgsync_ctx_new(&other, NULL), 0);
    add_provider(other, "oci", OCI, reg.url, 0);
    uint64_t oid = start_sync(other);
    ck_assert_int_eq(imgsync_task_wait(other, oid, WAIT_MS), 0);
    rf_rows a = {0}, b = {0};
    ck_assert_int_eq(rf_rows_from_ctx(&a, ctx, OCI), 0);
    ck_assert_int_eq(rf_rows_from_ctx(&b, other, OCI), 0);
    ck_assert_uint_eq(a.n, initial.n);
    size_t diffs = rf_rows_diff(&b, &a, RF_ALL, "loop vs perform");
    rf_rows_free(&a);
    rf_rows_free(&b);
    imgsync_ctx_free(other);
    ck_assert_uint_eq(diffs, 0);
}
END_TEST

/* A clock running `offset` ms ahead of the system's wall clock. */
static int64_t offset;

static int64_t ahead_now(void *payload)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + offset;
}

static int64_t real_mono(void *payload) { return pl_mono_ms(); }

/* A schedule comes due while the loop sleeps: the timer callback was told its time, the loop
 * wakes for it and the scheduled sync runs. */
START_TEST(test_schedule_comes_due)
{
    ck_assert_msg(reg_ok, "the registry fixture failed to start or seed (see stderr)");
    imgsync_clock clock = {IMGSYNC_CLOCK_VERSION, ahead_now, real_mono, NULL};
    offset = 0;
    ck_assert_int_eq(imgsync_ctx_set_clock(ctx, &clock), 0);
    add_provider(ctx, "oci", OCI, reg.url, 0);
    ck_assert_int_eq(pl_attach(&loop, ctx), 0);
    imgsync_request *req = NULL;
    uint64_t sid = 0;
    ck_assert_int_eq(imgsync_request_new(&req), 0);
    ck_assert_int_eq(imgsync_schedule_every(ctx, req, 1, &sid), 0);
    imgsync_request_free(req);
    imgsync_schedule_list *l = NULL;
    ck_assert_int_eq(imgsync_schedule_list_new(&l, ctx), 0);
    ck_assert_uint_eq(imgsync_schedule_list_count(l), 1);
    int64_t due = imgsync_schedule_next_ms(l, 0);
    imgsync_schedule_list_free(l);
    offset = due - ahead_now(NULL) - 700; /* due in 0.7 s */
    ck_assert_int_eq(pl_run_once(&loop, 0), 0); /* the scheduler looks, and asks for its time */
    ck_assert_msg(loop.timer_due >= 0 && loop.timer_due - pl_mono_ms() <= 700,
                  "the timer was not asked for the schedule's time (%lld ms)", (long long)(loop.timer_due - pl_mono_ms()));
    int64_t t0 = pl_mono_ms();
    imgsync_task *t = NULL;
    while (!t && pl_mono_ms() - t0 < 5000) {
        ck_assert_int_ge(pl_run_once(&loop, 5000), 0);
        if (imgsync_task_get_latest(&t, ctx) != 0)
            t = NULL;
    }
    ck_assert_ptr_nonnull(t);
    int64_t waited = pl_mono_ms() - t0;
    ck_assert_int_eq(imgsync_task_trigger(t), IMGSYNC_TRIGGER_SCHEDULED);
    ck_assert_uint_eq(imgsync_task_schedule_id(t), sid);
    uint64_t id = imgsync_task_id(t);
    imgsync_task_free(t);
    ck_assert_msg(waited >= 500 && waited < 2500, "the scheduled task started after %lld ms (due in 700)", (long long)waited);
    ck_assert_int_eq(pl_run_task(&loop, id, WAIT_MS), IMGSYNC_TASK_SUCCEEDED);
    ck_assert_uint_eq(rf_compare_inventory(ctx, OCI, reg.host, &initial, RF_ALL), 0);
}
END_TEST

/* ---- Harbor emulator ----------------------------------------------------------------------------- */

/* Two 500s on one repository's artifacts: the retries wait out their backoff on the loop's timer
 * (500 ms and 1 s here, at least half of each with the engine's equal jitter), and the inventory
 * is complete. */
START_TEST(test_retries_through_timer)
{
    ck_assert_int_eq(ef_faults_add(&emu, "{\"type\":\"500\",\"pattern\":\"^/api/v2\\\\.0/projects/library/repositories/nginx/artifacts\",\"count\":2}"), 0);
    ctx_set(ctx, "retry_base_ms", "500");
    add_provider(ctx, "harbor", HARBOR, emu.url, 1);
    int64_t t0 = pl_mono_ms();
    uint64_t id = loop_sync(IMGSYNC_TASK_SUCCEEDED);
    ck_assert_uint_eq(counter(id, IMGSYNC_COUNT_RETRIES), 2);
    ck_assert_msg(pl_mono_ms() - t0 >= 750, "the backoff (>= 750 ms in all) was not waited for");
    expect_harbor_inventory();
}
END_TEST

/* With the fault `rule` on the projects list, a sync of the emulator waits at least `wait_ms`
 * and completes; the loop sleeps meanwhile: CPU far below wall time, and few rounds (a cheap spin
 * costs little CPU: a 0 ms timer repeated through a 429 pause made tens of thousands). */
static void sync_waiting(const char *rule, int64_t wait_ms)
{
    ck_assert_int_eq(ef_faults_add(&emu, rule), 0);
    add_provider(ctx, "harbor", HARBOR, emu.url, 1);
    long cpu0 = cpu_ms();
    int64_t t0 = pl_mono_ms();
    loop_sync(IMGSYNC_TASK_SUCCEEDED);
    long cpu = cpu_ms() - cpu0;
    int64_t wall = pl_mono_ms() - t0;
    ck_assert_int_eq(ef_rule_fired(&emu, "^/api/v2\\.0/projects\\?"), 1);
    ck_assert_msg(wall >= wait_ms, "the sync took %lld ms, less than its %lld ms wait", (long long)wall, (long long)wait_ms);
    ck_assert_msg(cpu < 700, "%ld ms of CPU for a %lld ms sync that waited %lld ms", cpu, (long long)wall, (long long)wait_ms);
    ck_assert_msg(loop.actions < 500, "%ld rounds of the loop for one sync", loop.actions);
    expect_harbor_inventory();
}

/* A 429 with Retry-After: 1 pauses the registry for a second, on the loop's timer. */
START_TEST(test_throttle_pause_through_timer)
{
    sync_waiting("{\"type\":\"429\",\"retry_after\":\"1\",\"pattern\":\"^/api/v2\\\\.0/projects\\\\?\",\"count\":1}", 1000);
}
END_TEST

/* The projects list takes 1.5 s: the loop sleeps in poll() meanwhile. */
START_TEST(test_slow_server_does_not_spin)
{
    sync_waiting("{\"type\":\"slow\",\"delay_ms\":1500,\"pattern\":\"^/api/v2\\\\.0/projects\\\\?\",\"count\":1}", 1500);
}
END_TEST

/* Canceled while its first request waits for a slow answer: the task ends canceled at once, its
 * socket is removed, nothing was stored. */
START_TEST(test_cancel_mid_sync)
{
    ck_assert_int_eq(ef_faults_add(&emu, "{\"type\":\"slow\",\"delay_ms\":5000,\"pattern\":\"^/api/v2\\\\.0/projects\\\\?\",\"count\":1}"), 0);
    add_provider(ctx, "harbor", HARBOR, emu.url, 1);
    ck_assert_int_eq(pl_attach(&loop, ctx), 0);
    uint64_t id = start_sync(ctx);
    ck_assert_msg(pl_run_until_watching(&loop, 2, 5000) == 0, "no request went out");
    pl_run_once(&loop, 200);
    int64_t t0 = pl_mono_ms();
    ck_assert_int_eq(imgsync_task_cancel(ctx, id), 0);
    ck_assert_int_eq(pl_run_task(&loop, id, WAIT_MS), IMGSYNC_TASK_CANCELED);
    ck_assert_msg(pl_mono_ms() - t0 < 1000, "the cancel took %lld ms", (long long)(pl_mono_ms() - t0));
    ck_assert_int_eq(pl_run_once(&loop, 0), 0);
    ck_assert_int_eq(loop.n, 1); /* only the wakeup descriptor */
    hf_rows rows = {0};
    ck_assert_int_eq(hf_rows_from_ctx(&rows, ctx, HARBOR), 0);
    ck_assert_uint_eq(rows.n, 0);
    hf_rows_free(&rows);
}
END_TEST

Suite *evloop_sync_suite(void)
{
    Suite *s = suite_create("evloop_sync");
    TCase *tc = tcase_create("registry");
    tcase_add_unchecked_fixture(tc, registry_start, registry_stop);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_registry_sync_equals_perform);
    tcase_add_test(tc, test_schedule_comes_due);
    suite_add_tcase(s, tc);
    tc = tcase_create("harbor");
    tcase_add_unchecked_fixture(tc, emulator_start, emulator_stop);
    tcase_add_checked_fixture(tc, harbor_setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_retries_through_timer);
    tcase_add_test(tc, test_throttle_pause_through_timer);
    tcase_add_test(tc, test_slow_server_does_not_spin);
    tcase_add_test(tc, test_cancel_mid_sync);
    suite_add_tcase(s, tc);
    return s;
}

#include "check_main.h"
IMGSYNC_TEST_MAIN(evloop_sync_suite)
