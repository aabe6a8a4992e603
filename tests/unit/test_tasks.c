/* Tasks of issue 7 through the public API, on recorded OCI responses (no network) and a fake
 * clock, with the memory and the SQLite store: the task history (ids, list, filters, snapshots
 * of ended tasks, retention), the change feed and first_seen, one running task per registry,
 * events and what may be called inside them, cancel, tasks interrupted by a killed process, and
 * two contexts on one database. Schedules and the worker: test_schedule.c. */
#include <check.h>
#include <openssl/sha.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check_main.h"
#include "imgsync.h"
#include "support/registry_script.h"
#include "support/replay.h"

Suite *tasks_suite(void);

static replay *R;
static const char *uri; /* the sqlite: fixture's database (NULL: memory) */

static void setup_common(int sqlite)
{
    uri = NULL;
    if (sqlite)
        ck_assert_ptr_nonnull(uri = rs_db_make("t.db"));
    ck_assert_ptr_nonnull(R = rs_open(uri, NULL));
}

static void setup_memory(void) { setup_common(0); }
static void setup_sqlite(void) { setup_common(1); }

static void teardown(void)
{
    replay_free(R);
    R = NULL;
    rs_db_remove();
}

static uint64_t sync_ok(replay *r)
{
    uint64_t id = 0;
    ck_assert_int_eq(replay_sync(r, NULL, &id), 0);
    imgsync_task *t = NULL;
    ck_assert_int_eq(imgsync_task_get(&t, replay_ctx(r), id), 0);
    ck_assert_msg(imgsync_task_state_of(t) == IMGSYNC_TASK_SUCCEEDED, "task %llu: %s (%s)", (unsigned long long)id,
                  imgsync_task_state_name(imgsync_task_state_of(t)), imgsync_task_registry_reason(t, 0));
    imgsync_task_free(t);
    fake_clock_advance(replay_clock(r), 60000);
    return id;
}

/* ---- the task history ---------------------------------------------------------------------- */

START_TEST(test_history_list_and_get)
{
    imgsync_ctx *ctx = replay_ctx(R);
    uint64_t id[3];
    for (int i = 0; i < 3; i++)
        id[i] = sync_ok(R);
    ck_assert(id[0] > 0 && id[1] > id[0] && id[2] > id[1]);

    imgsync_task_list *l = NULL;
    ck_assert_int_eq(imgsync_task_list_new(&l, ctx, -1, -1, 0), 0);
    ck_assert_uint_eq(imgsync_task_list_count(l), 3);
    for (size_t i = 0; i < 3; i++) {
        const imgsync_task *t = imgsync_task_list_at(l, i);
        ck_assert_uint_eq(imgsync_task_id(t), id[2 - i]); /* newest first */
        ck_assert_int_eq(imgsync_task_trigger(t), IMGSYNC_TRIGGER_MANUAL);
        ck_assert_uint_eq(imgsync_task_registry_count(t), 1);
        ck_assert_str_eq(imgsync_task_registry_name(t, 0), RS_PROV);
        ck_assert_str_eq(imgsync_task_registry_type(t, 0), "Oci");
        ck_assert_int_eq(imgsync_task_registry_state(t, 0), IMGSYNC_REGISTRY_FINISHED);
        ck_assert_uint_eq(imgsync_task_counter(t, IMGSYNC_COUNT_IMAGES_FOUND), RS_BASE_ROWS);
        ck_assert(imgsync_task_finished_ms(t) >= imgsync_task_started_ms(t) && imgsync_task_started_ms(t) > 0);
    }
    ck_assert_ptr_null(imgsync_task_list_at(l, 3));
    imgsync_task_list_free(l);

    ck_assert_int_eq(imgsync_task_list_new(&l, ctx, IMGSYNC_TASK_SUCCEEDED, IMGSYNC_TRIGGER_MANUAL, 2), 0);
    ck_assert_uint_eq(imgsync_task_list_count(l), 2);
    ck_assert_uint_eq(imgsync_task_id(imgsync_task_list_at(l, 0)), id[2]);
    imgsync_task_list_free(l);
    ck_assert_int_eq(imgsync_task_list_new(&l, ctx, IMGSYNC_TASK_FAILED, -1, 0), 0);
    ck_assert_uint_eq(imgsync_task_list_count(l), 0);
    imgsync_task_list_free(l);
    ck_assert_int_eq(imgsync_task_list_new(&l, ctx, -1, IMGSYNC_TRIGGER_SCHEDULED, 0), 0);
    ck_assert_uint_eq(imgsync_task_list_count(l), 0);
    imgsync_task_list_free(l);
    ck_assert_int_eq(imgsync_task_list_new(&l, ctx, 42, -1, 0), IMGSYNC_EINVAL);

    imgsync_task *t = NULL;
    ck_assert_int_eq(imgsync_task_get_latest(&t, ctx), 0);
    ck_assert_uint_eq(imgsync_task_id(t), id[2]);
    ck_assert_str_eq(imgsync_task_reason(t), "");
    ck_assert_uint_eq(imgsync_task_schedule_id(t), 0);
    imgsync_task_free(t);
    ck_assert_int_eq(imgsync_task_get(&t, ctx, id[2] + 100), IMGSYNC_ENOTFOUND);
    ck_assert_ptr_null(t);
    ck_assert_int_eq(imgsync_task_wait(ctx, id[0], 0), 0); /* ended: found in the history */
    ck_assert_int_eq(imgsync_task_cancel(ctx, id[0]), 0);
}
END_TEST

START_TEST(test_retention)
{
    imgsync_ctx *ctx = replay_ctx(R);
    ck_assert_int_eq(imgsync_ctx_set(ctx, "task_retention", "2"), 0);
    ck_assert_int_eq(imgsync_ctx_set(ctx, "task_retention", "0"), IMGSYNC_EINVAL);
    uint64_t id[4];
    for (int i = 0; i < 4; i++)
        id[i] = sync_ok(R);
    imgsync_task_list *l = NULL;
    ck_assert_int_eq(imgsync_task_list_new(&l, ctx, -1, -1, 0), 0);
    ck_assert_uint_eq(imgsync_task_list_count(l), 2);
    ck_assert_uint_eq(imgsync_task_id(imgsync_task_list_at(l, 1)), id[2]);
    imgsync_task_list_free(l);
    imgsync_task *t = NULL;
    ck_assert_int_eq(imgsync_task_get(&t, ctx, id[0]), IMGSYNC_ENOTFOUND);
    /* the first task's change feed (every row added) went with it */
    imgsync_changes *c = NULL;
    ck_assert_int_eq(imgsync_changes_new(&c, ctx, id[0], 0), 0);
    ck_assert_ptr_null(imgsync_changes_next(c));
    imgsync_changes_free(c);
    ck_assert_int_eq(imgsync_changes_new(&c, ctx, 0, 1), 0);
    ck_assert_ptr_null(imgsync_changes_next(c)); /* the kept syncs changed nothing */
    imgsync_changes_free(c);
}
END_TEST

/* ---- the change feed ------------------------------------------------------------------------ */

typedef struct change_count {
    int added, updated, removed;
    char old_digest[80];
    int64_t old_size, first_seen, sync_ms;
} change_count;

static change_count count_changes(imgsync_ctx *ctx, uint64_t id, int since, const char *watch_tag)
{
    change_count n = {0, 0, 0, "", -2, 0, 0};
    imgsync_changes *c = NULL;
    ck_assert_int_eq(imgsync_changes_new(&c, ctx, id, since), 0);
    const imgsync_change *ch;
    uint64_t last_task = 0;
    while ((ch = imgsync_changes_next(c))) {
        ck_assert(imgsync_change_task_id(ch) >= last_task); /* ordered by task */
        last_task = imgsync_change_task_id(ch);
        const imgsync_image *im = imgsync_change_image(ch);
        ck_assert_ptr_nonnull(im);
        ck_assert_str_eq(imgsync_image_registry(im), RS_PROV);
        int kind = imgsync_change_kind_of(ch);
        n.added += kind == IMGSYNC_CHANGE_ADDED;
        n.updated += kind == IMGSYNC_CHANGE_UPDATED;
        n.removed += kind == IMGSYNC_CHANGE_REMOVED;
        if (kind != IMGSYNC_CHANGE_UPDATED) {
            ck_assert_str_eq(imgsync_change_old_digest(ch), "");
            ck_assert_int_eq(imgsync_change_old_size(ch), -1);
        }
        if (watch_tag && strcmp(imgsync_image_tag(im), watch_tag) == 0 && kind == IMGSYNC_CHANGE_UPDATED) {
            snprintf(n.old_digest, sizeof(n.old_digest), "%s", imgsync_change_old_digest(ch));
            n.old_size = imgsync_change_old_size(ch);
            n.first_seen = imgsync_image_first_seen_ms(im);
            n.sync_ms = imgsync_image_sync_ms(im);
        }
    }
    imgsync_changes_free(c);
    return n;
}

START_TEST(test_change_feed)
{
    imgsync_ctx *ctx = replay_ctx(R);
    uint64_t first = sync_ok(R);
    int64_t t1 = 0; /* when the first sync stored a:2 */
    imgsync_iter *it = NULL;
    ck_assert_int_eq(imgsync_iter_new(&it, ctx, NULL), 0);
    for (const imgsync_image *im; (im = imgsync_iter_next(it));)
        if (!strcmp(imgsync_image_tag(im), "2")) {
            t1 = imgsync_image_sync_ms(im);
            ck_assert_int_eq(imgsync_image_first_seen_ms(im), t1);
        }
    imgsync_iter_free(it);
    ck_assert(t1 > 0);
    change_count n = count_changes(ctx, first, 0, NULL);
    ck_assert_int_eq(n.added, RS_BASE_ROWS);
    ck_assert_int_eq(n.updated + n.removed, 0);

    rs_script_base(R, 1); /* a:2 gets a new manifest, a:3 appears, b is gone */
    uint64_t second = sync_ok(R);
    imgsync_task *t = NULL;
    ck_assert_int_eq(imgsync_task_get(&t, ctx, second), 0);
    ck_assert_uint_eq(imgsync_task_counter(t, IMGSYNC_COUNT_IMAGES_ADDED), 1);
    ck_assert_uint_eq(imgsync_task_counter(t, IMGSYNC_COUNT_IMAGES_UPDATED), 1);
    ck_assert_uint_eq(imgsync_task_counter(t, IMGSYNC_COUNT_IMAGES_REMOVED), 1);
    imgsync_task_free(t);
    n = count_changes(ctx, second, 0, "2");
    ck_assert_int_eq(n.added, 1);
    ck_assert_int_eq(n.updated, 1);
    ck_assert_int_eq(n.removed, 1);
    ck_assert_str_eq(n.old_digest, rs_digest("a", "2", 0));
    ck_assert_int_eq(n.old_size, rs_size("a", "2", 0));
    ck_assert_int_eq(n.first_seen, t1); /* kept from the first sync */
    ck_assert(n.sync_ms > t1);
    n = count_changes(ctx, first, 1, NULL); /* since the first: the second's only */
    ck_assert_int_eq(n.added + n.updated + n.removed, 3);
    n = count_changes(ctx, 0, 1, NULL);
    ck_assert_int_eq(n.added, RS_BASE_ROWS + 1);

    uint64_t third = sync_ok(R); /* nothing changed */
    n = count_changes(ctx, third, 0, NULL);
    ck_assert_int_eq(n.added + n.updated + n.removed, 0);
    n = count_changes(ctx, third + 7, 0, NULL); /* unknown task: empty, not an error */
    ck_assert_int_eq(n.added + n.updated + n.removed, 0);
}
END_TEST

/* ---- one running task per registry ----------------------------------------------------------- */

START_TEST(test_queue_behind_running_task)
{
    imgsync_ctx *ctx = replay_ctx(R);
    ck_assert_ptr_nonnull(replay_add_provider(R, "oci", "other", RS_EP2));
    rs_script_registry(R, RS_EP2, 0);
    rs_set_delay(R, 500); /* every reply takes 0.5 s of fake time: tasks stay running */
    imgsync_request *only = NULL, *other = NULL;
    ck_assert_int_eq(imgsync_request_new(&only), 0);
    ck_assert_int_eq(imgsync_request_add_provider(only, RS_PROV), 0);
    ck_assert_int_eq(imgsync_request_new(&other), 0);
    ck_assert_int_eq(imgsync_request_add_provider(other, "other"), 0);
    uint64_t a, b, c;
    ck_assert_int_eq(imgsync_sync_start(ctx, only, &a), 0);
    ck_assert_int_eq(imgsync_sync_start(ctx, NULL, &b), 0);  /* both registries: waits for a */
    ck_assert_int_eq(imgsync_sync_start(ctx, other, &c), 0); /* waits for b, which holds "other" */
    ck_assert_int_eq(imgsync_ctx_perform(ctx, 0), 3);
    ck_assert_int_eq(rs_task_state(ctx, a), IMGSYNC_TASK_RUNNING);
    ck_assert_int_eq(rs_task_state(ctx, b), IMGSYNC_TASK_QUEUED);
    ck_assert_int_eq(rs_task_state(ctx, c), IMGSYNC_TASK_RUNNING); /* b has not started: "other" is free */
    for (int i = 0; i < 100000 && imgsync_ctx_perform(ctx, 100) > 0; i++)
        ;
    imgsync_task *ta = NULL, *tb = NULL, *tc = NULL;
    ck_assert_int_eq(imgsync_task_get(&ta, ctx, a), 0);
    ck_assert_int_eq(imgsync_task_get(&tb, ctx, b), 0);
    ck_assert_int_eq(imgsync_task_get(&tc, ctx, c), 0);
    ck_assert_int_eq(imgsync_task_state_of(ta), IMGSYNC_TASK_SUCCEEDED);
    ck_assert_int_eq(imgsync_task_state_of(tb), IMGSYNC_TASK_SUCCEEDED);
    ck_assert_int_eq(imgsync_task_state_of(tc), IMGSYNC_TASK_SUCCEEDED);
    ck_assert(imgsync_task_started_ms(tb) >= imgsync_task_finished_ms(ta));
    ck_assert(imgsync_task_started_ms(tb) >= imgsync_task_finished_ms(tc));
    ck_assert_uint_eq(imgsync_task_registry_count(tb), 2);
    imgsync_task_free(ta);
    imgsync_task_free(tb);
    imgsync_task_free(tc);
    imgsync_request_free(only);
    imgsync_request_free(other);
}
END_TEST

START_TEST(test_cancel_keeps_inventory)
{
    imgsync_ctx *ctx = replay_ctx(R);
    sync_ok(R);
    size_t before = imgsync_inventory_count(ctx);
    rs_script_base(R, 1);
    rs_set_delay(R, 500);
    uint64_t id;
    ck_assert_int_eq(imgsync_sync_start(ctx, NULL, &id), 0);
    ck_assert_int_eq(imgsync_ctx_perform(ctx, 0), 1);
    ck_assert_int_eq(imgsync_task_cancel(ctx, id), 0);
    imgsync_task *t = NULL;
    ck_assert_int_eq(imgsync_task_get(&t, ctx, id), 0);
    ck_assert_int_eq(imgsync_task_state_of(t), IMGSYNC_TASK_CANCELED);
    ck_assert_str_eq(imgsync_task_reason(t), "canceled by the caller");
    imgsync_task_free(t);
    ck_assert_int_eq(imgsync_ctx_perform(ctx, 0), 0);
    ck_assert_uint_eq(imgsync_inventory_count(ctx), before);
    ck_assert_int_eq(rs_task_state(ctx, id), IMGSYNC_TASK_CANCELED); /* also as recorded */
}
END_TEST

/* ---- events ---------------------------------------------------------------------------------- */

#define MAX_EV 256
static struct {
    int n;
    int type[MAX_EV], state[MAX_EV], reg_state[MAX_EV];
    uint64_t task[MAX_EV], found[MAX_EV];
    int get_rc, perform_rc, start_rc, stop_rc;
    uint64_t started;
} ev;

static void on_event(const imgsync_event *e, void *payload)
{
    imgsync_ctx *ctx = payload;
    if (ev.n < MAX_EV) {
        ev.type[ev.n] = imgsync_event_type_of(e);
        ev.state[ev.n] = imgsync_event_task_state(e);
        ev.reg_state[ev.n] = imgsync_event_registry_state(e);
        ev.task[ev.n] = imgsync_event_task_id(e);
        ev.found[ev.n] = imgsync_event_counter(e, IMGSYNC_COUNT_IMAGES_FOUND);
        ev.n++;
    }
    if (imgsync_event_type_of(e) == IMGSYNC_EVENT_TASK_STATE && imgsync_event_task_state(e) > IMGSYNC_TASK_RUNNING &&
        !ev.started) {
        imgsync_task *t = NULL;
        ev.get_rc = imgsync_task_get(&t, ctx, imgsync_event_task_id(e));
        imgsync_task_free(t);
        ev.perform_rc = imgsync_ctx_perform(ctx, 0);
        ev.stop_rc = imgsync_ctx_stop(ctx);
        ev.start_rc = imgsync_sync_start(ctx, NULL, &ev.started);
    }
}

/* Index of the first event of task id with this type and state (-1 = any), from `from`. */
static int find_event(uint64_t id, int type, int state, int from)
{
    for (int i = from; i < ev.n; i++)
        if (ev.task[i] == id && ev.type[i] == type && (state < 0 || ev.state[i] == state))
            return i;
    return -1;
}

START_TEST(test_events)
{
    imgsync_ctx *ctx = replay_ctx(R);
    memset(&ev, 0, sizeof(ev));
    ck_assert_int_eq(imgsync_ctx_set_event_callback(ctx, on_event, ctx), 0);
    uint64_t id;
    ck_assert_int_eq(replay_sync(R, NULL, &id), 0);
    for (int i = 0; i < 1000 && imgsync_ctx_perform(ctx, 100) > 0; i++)
        ;
    int q = find_event(id, IMGSYNC_EVENT_TASK_STATE, IMGSYNC_TASK_QUEUED, 0);
    int r = find_event(id, IMGSYNC_EVENT_TASK_STATE, IMGSYNC_TASK_RUNNING, 0);
    int row = find_event(id, IMGSYNC_EVENT_REGISTRY_STATE, -1, 0);
    int p = find_event(id, IMGSYNC_EVENT_PROGRESS, -1, 0);
    int end = find_event(id, IMGSYNC_EVENT_TASK_STATE, IMGSYNC_TASK_SUCCEEDED, 0);
    ck_assert_msg(q >= 0 && r > q && row > r && p > r && end > row && end > p, "order q%d r%d row%d p%d end%d", q, r,
                  row, p, end);
    ck_assert_int_eq(ev.reg_state[row], IMGSYNC_REGISTRY_FINISHED);
    ck_assert_int_eq(find_event(id, IMGSYNC_EVENT_TASK_STATE, -1, end + 1), -1); /* the end is told once */
    int last_progress = -1;
    for (int i = 0; i < ev.n; i++)
        if (ev.task[i] == id && ev.type[i] == IMGSYNC_EVENT_PROGRESS)
            last_progress = i;
    ck_assert_uint_eq(ev.found[last_progress], RS_BASE_ROWS);
    /* calls inside the callback */
    ck_assert_int_eq(ev.get_rc, 0);
    ck_assert_int_eq(ev.perform_rc, IMGSYNC_EBUSY);
    ck_assert_int_eq(ev.stop_rc, 0); /* no worker: nothing to stop */
    ck_assert_int_eq(ev.start_rc, 0);
    ck_assert(ev.started > id);
    ck_assert_int_eq(rs_task_state(ctx, ev.started), IMGSYNC_TASK_SUCCEEDED);
    ck_assert_int_ge(find_event(ev.started, IMGSYNC_EVENT_TASK_STATE, IMGSYNC_TASK_SUCCEEDED, 0), 0);
    ck_assert_int_eq(imgsync_ctx_set_event_callback(ctx, NULL, NULL), 0);
}
END_TEST

/* ---- a killed process -------------------------------------------------------------------------- */

/* In a child: open the database, sync once completely when `complete_first`, then start a sync
 * and drive it `steps` performs (0: not at all), then die by SIGKILL. */
static void child_killed(int complete_first, int steps)
{
    replay *r = rs_open(uri, NULL);
    if (!r)
        _exit(10);
    rs_script_base(r, complete_first ? 1 : 0);
    if (complete_first && replay_sync(r, NULL, NULL))
        _exit(11);
    rs_set_delay(r, 200);
    uint64_t id;
    if (imgsync_sync_start(replay_ctx(r), NULL, &id))
        _exit(12);
    for (int i = 0; i < steps; i++)
        imgsync_ctx_perform(replay_ctx(r), 200);
    raise(SIGKILL);
    _exit(13);
}

static void expect_interrupted(int complete_first, int steps)
{
    teardown();
    setup_sqlite();
    replay_free(R); /* the child opens the file alone */
    R = NULL;
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0)
        child_killed(complete_first, steps);
    int status = 0;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "child status %d", status);

    char err[256];
    imgsync_ctx *ctx = NULL;
    ck_assert_int_eq(imgsync_ctx_open(&ctx, uri, err, sizeof(err)), 0);
    imgsync_task *t = NULL;
    ck_assert_int_eq(imgsync_task_get_latest(&t, ctx), 0);
    ck_assert_int_eq(imgsync_task_state_of(t), IMGSYNC_TASK_FAILED);
    ck_assert_str_eq(imgsync_task_reason(t), "interrupted");
    ck_assert_int_eq(imgsync_task_registry_state(t, 0), IMGSYNC_REGISTRY_FAILED);
    ck_assert(imgsync_task_finished_ms(t) > 0);
    imgsync_task_free(t);
    if (complete_first)
        ck_assert_uint_eq(imgsync_inventory_count(ctx), RS_BASE_ROWS); /* the completed sync's rows */
    imgsync_iter *it = NULL;
    ck_assert_int_eq(imgsync_iter_new_stored(&it, ctx, NULL), 0);
    size_t n = 0;
    while (imgsync_iter_next(it))
        n++;
    imgsync_iter_free(it);
    ck_assert_uint_eq(n, imgsync_inventory_count(ctx));
    imgsync_ctx_free(ctx);

    ck_assert_ptr_nonnull(R = rs_open(uri, NULL)); /* and the database syncs on */
    sync_ok(R);
    ck_assert_uint_eq(imgsync_inventory_count(replay_ctx(R)), RS_BASE_ROWS);
}

START_TEST(test_killed_before_start) { expect_interrupted(0, 0); }
END_TEST
START_TEST(test_killed_mid_sync) { expect_interrupted(0, 4); }
END_TEST
START_TEST(test_killed_after_a_commit) { expect_interrupted(1, 3); }
END_TEST

/* ---- two contexts (as two processes) on one database --------------------------------------------- */

START_TEST(test_two_contexts_one_database)
{
    replay *r2 = rs_open(uri, NULL);
    ck_assert_ptr_nonnull(r2);
    uint64_t a = sync_ok(R), b = sync_ok(r2), c = sync_ok(R);
    ck_assert(a < b && b < c);
    imgsync_task_list *l = NULL;
    ck_assert_int_eq(imgsync_task_list_new(&l, replay_ctx(r2), -1, -1, 0), 0);
    ck_assert_uint_eq(imgsync_task_list_count(l), 3);
    ck_assert_uint_eq(imgsync_task_id(imgsync_task_list_at(l, 0)), c); /* the other context's task */
    imgsync_task_list_free(l);
    ck_assert_uint_eq(imgsync_inventory_count(replay_ctx(r2)), RS_BASE_ROWS);
    change_count n = count_changes(replay_ctx(r2), a, 0, NULL);
    ck_assert_int_eq(n.added, RS_BASE_ROWS);
    replay_free(r2);
}
END_TEST

Suite *tasks_suite(void)
{
    Suite *s = suite_create("tasks");
    const char *names[] = {"memory", "sqlite"};
    void (*setups[])(void) = {setup_memory, setup_sqlite};
    for (int i = 0; i < 2; i++) {
        TCase *tc = tcase_create(names[i]);
        tcase_add_checked_fixture(tc, setups[i], teardown);
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, test_history_list_and_get);
        tcase_add_test(tc, test_retention);
        tcase_add_test(tc, test_change_feed);
        tcase_add_test(tc, test_queue_behind_running_task);
        tcase_add_test(tc, test_cancel_keeps_inventory);
        tcase_add_test(tc, test_events);
        suite_add_tcase(s, tc);
    }
    TCase *tc = tcase_create("sqlite-only");
    tcase_add_checked_fixture(tc, setup_sqlite, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_killed_before_start);
    tcase_add_test(tc, test_killed_mid_sync);
    tcase_add_test(tc, test_killed_after_a_commit);
    tcase_add_test(tc, test_two_contexts_one_database);
    suite_add_tcase(s, tc);
    return s;
}

IMGSYNC_TEST_MAIN(tasks_suite)
