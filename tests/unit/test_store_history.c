/* Unit tests of the task history and schedules of the inventory stores (src/inventory/store.h,
 * "v2: task history and schedules"): every common test runs once per backend (memory_tasks.c,
 * and sqlite_tasks.c on a file in a fresh temporary directory), then checks proper to the SQLite
 * file (persistence, two handles on one file, busy database, the caller's transaction). Run under
 * valgrind to prove nothing leaks. */
#include <check.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "imgsync.h"
#include "inventory/sqlite.h"
#include "inventory/store.h"

Suite *store_history_suite(void);

static imgsync__store *S;
static char URI[512];   /* the store under test */
static char DIR_[256];  /* its temporary directory ("" for memory) */
static char PATH_[300]; /* the SQLite file */

static void open_store(void)
{
    S = NULL;
    ck_assert_int_eq(imgsync__store_open(&S, URI), 0);
    ck_assert_ptr_nonnull(S);
}

static void setup_memory(void)
{
    snprintf(URI, sizeof(URI), "memory:");
    DIR_[0] = PATH_[0] = '\0';
    open_store();
}

static void setup_sqlite(void)
{
    snprintf(DIR_, sizeof(DIR_), "/tmp/imgsync-history-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(DIR_));
    snprintf(PATH_, sizeof(PATH_), "%s/inventory.db", DIR_);
    snprintf(URI, sizeof(URI), "sqlite:%s", PATH_);
    open_store();
}

/* Remove the SQLite file, its WAL companions and the directory. */
static void remove_files(void)
{
    static const char *const suffixes[] = {"", "-wal", "-shm", "-journal"};
    char p[320];
    for (size_t i = 0; PATH_[0] && i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
        snprintf(p, sizeof(p), "%s%s", PATH_, suffixes[i]);
        unlink(p);
    }
    if (DIR_[0])
        rmdir(DIR_);
}

static void teardown(void)
{
    imgsync__store_close(S);
    S = NULL;
    remove_files();
}

/* ---- records ------------------------------------------------------------------------------- */

static const char ODD[] = "Grüße \"quoted\" 'single' \\ back\nslash ✓ 日本語 ; DROP TABLE tasks; --";

static char *xs(const char *s)
{
    char *d = strdup(s);
    ck_assert_ptr_nonnull(d);
    return d;
}

static char *xf(const char *fmt, int n)
{
    char buf[256];
    snprintf(buf, sizeof(buf), fmt, n);
    return xs(buf);
}

/* A full task: `seed` varies every field; nreg registries and nerr errors. */
static void make_task(imgsync__task_rec *r, int state, int trigger, int seed, size_t nreg, size_t nerr)
{
    memset(r, 0, sizeof(*r));
    r->state = state;
    r->trigger = trigger;
    r->schedule_id = trigger == IMGSYNC_TRIGGER_SCHEDULED ? (uint64_t)(100 + seed) : 0;
    r->created_ms = 1700000000000LL + seed;
    r->started_ms = 1700000000100LL + seed;
    r->finished_ms = state >= IMGSYNC_TASK_SUCCEEDED ? 1700000009999LL + seed : 0;
    for (int i = 0; i < 9; i++)
        r->counters[i] = (uint64_t)(seed * 10 + i) + (i == 8 ? 5000000000ULL : 0); /* one beyond 32 bits */
    r->reason = seed % 2 ? xs(ODD) : xs("");
    r->owner = xf("pid:%d:1700000000", 4000 + seed);
    r->nregistries = nreg;
    r->registries = nreg ? calloc(nreg, sizeof(*r->registries)) : NULL;
    for (size_t i = 0; i < nreg; i++) {
        r->registries[i].name = xf("prod-%d", (int)i + seed);
        r->registries[i].type = xs(i % 2 ? "Harbor" : "Oci");
        r->registries[i].state = (int)(i % 3);
        r->registries[i].error = i % 2 ? IMGSYNC_EAUTH : 0;
        r->registries[i].reason = i % 2 ? xs(ODD) : xs("");
    }
    r->nerrors = nerr;
    r->errors = nerr ? calloc(nerr, sizeof(*r->errors)) : NULL;
    for (size_t i = 0; i < nerr; i++) {
        r->errors[i].registry = xf("prod-%d", (int)i);
        r->errors[i].repository = xf("library/nginx-%d", (int)i + seed);
        r->errors[i].message = i % 2 ? xs(ODD) : xf("HTTP %d", 500 + (int)i);
        r->errors[i].code = IMGSYNC_EHTTP - (int)i;
    }
}

static void expect_task_eq(const imgsync__task_rec *a, const imgsync__task_rec *b)
{
    ck_assert_uint_eq(a->id, b->id);
    ck_assert_int_eq(a->state, b->state);
    ck_assert_int_eq(a->trigger, b->trigger);
    ck_assert_uint_eq(a->schedule_id, b->schedule_id);
    ck_assert_int_eq(a->created_ms, b->created_ms);
    ck_assert_int_eq(a->started_ms, b->started_ms);
    ck_assert_int_eq(a->finished_ms, b->finished_ms);
    for (int i = 0; i < 9; i++)
        ck_assert_uint_eq(a->counters[i], b->counters[i]);
    ck_assert_str_eq(a->reason, b->reason);
    ck_assert_str_eq(a->owner, b->owner);
    ck_assert_uint_eq(a->nregistries, b->nregistries);
    for (size_t i = 0; i < a->nregistries; i++) {
        ck_assert_str_eq(a->registries[i].name, b->registries[i].name);
        ck_assert_str_eq(a->registries[i].type, b->registries[i].type);
        ck_assert_int_eq(a->registries[i].state, b->registries[i].state);
        ck_assert_int_eq(a->registries[i].error, b->registries[i].error);
        ck_assert_str_eq(a->registries[i].reason, b->registries[i].reason);
    }
    ck_assert_uint_eq(a->nerrors, b->nerrors);
    for (size_t i = 0; i < a->nerrors; i++) {
        ck_assert_str_eq(a->errors[i].registry, b->errors[i].registry);
        ck_assert_str_eq(a->errors[i].repository, b->errors[i].repository);
        ck_assert_str_eq(a->errors[i].message, b->errors[i].message);
        ck_assert_int_eq(a->errors[i].code, b->errors[i].code);
    }
}

/* Insert a task of that state and trigger (registries and errors included); its id. */
static uint64_t add_task(imgsync__store *s, int state, int trigger)
{
    imgsync__task_rec r;
    make_task(&r, state, trigger, state * 7 + trigger, 2, 1);
    ck_assert_int_eq(imgsync__store_task_insert(s, &r), 0);
    ck_assert_uint_gt(r.id, 0);
    uint64_t id = r.id;
    imgsync__task_rec_clear(&r);
    return id;
}

/* The stored task `id` equals r (with r->id = id). */
static void expect_stored(uint64_t id, imgsync__task_rec *r)
{
    imgsync__task_rec got;
    ck_assert_int_eq(imgsync__store_task_get(S, id, &got), 0);
    r->id = id;
    expect_task_eq(&got, r);
    imgsync__task_rec_clear(&got);
}

static void free_list(imgsync__task_rec *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        imgsync__task_rec_clear(&v[i]);
    free(v);
}

/* The ids a list gives, as "3,2,1" (to compare in one assertion). */
static void expect_list(int state, int trigger, size_t limit, const char *want)
{
    imgsync__task_rec *v = NULL;
    size_t n = 99;
    char got[512] = "";
    ck_assert_int_eq(imgsync__store_task_list(S, state, trigger, limit, &v, &n), 0);
    ck_assert_ptr_nonnull(v);
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(got);
        snprintf(got + len, sizeof(got) - len, "%s%llu", i ? "," : "", (unsigned long long)v[i].id);
        ck_assert(state < 0 || v[i].state == state);
        ck_assert(trigger < 0 || v[i].trigger == trigger);
    }
    free_list(v, n);
    ck_assert_str_eq(got, want);
}

static void make_schedule(imgsync__schedule_rec *r, int kind, int seed)
{
    memset(r, 0, sizeof(*r));
    r->kind = kind;
    r->hour = kind == IMGSYNC_SCHEDULE_DAILY ? 1 + seed % 23 : 0;
    r->minute = kind == IMGSYNC_SCHEDULE_DAILY ? seed % 60 : 0;
    r->every_minutes = kind == IMGSYNC_SCHEDULE_EVERY ? 4000000000U : 0; /* beyond INT_MAX */
    r->request = seed % 2 ? xs("{\"providers\":[\"prod\"],\"tag\":\"v*\",\"note\":\"Grüße ✓\"}") : xs("{}");
    r->created_ms = 1700000000000LL + seed;
    r->next_ms = 1700003600000LL + seed;
    r->last_task_id = (uint64_t)seed;
}

static uint64_t add_schedule(imgsync__store *s, int kind, int seed)
{
    imgsync__schedule_rec r;
    make_schedule(&r, kind, seed);
    ck_assert_int_eq(imgsync__store_schedule_insert(s, &r), 0);
    ck_assert_uint_gt(r.id, 0);
    uint64_t id = r.id;
    imgsync__schedule_rec_clear(&r);
    return id;
}

/* The stored schedules, each as "id:next_ms:last_task_id" joined by ",". */
static void expect_schedules(imgsync__store *s, const char *want)
{
    imgsync__schedule_rec *v = NULL;
    size_t n = 99;
    char got[512] = "";
    ck_assert_int_eq(imgsync__store_schedule_list(s, &v, &n), 0);
    ck_assert_ptr_nonnull(v);
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(got);
        snprintf(got + len, sizeof(got) - len, "%s%llu:%lld:%llu", i ? "," : "", (unsigned long long)v[i].id,
                 (long long)v[i].next_ms, (unsigned long long)v[i].last_task_id);
        imgsync__schedule_rec_clear(&v[i]);
    }
    free(v);
    ck_assert_str_eq(got, want);
}

/* ---- tasks (every backend) ----------------------------------------------------------------- */

START_TEST(test_task_round_trip)
{
    imgsync__task_rec r;
    make_task(&r, IMGSYNC_TASK_PARTIAL, IMGSYNC_TRIGGER_SCHEDULED, 3, 3, 2);
    r.id = 777; /* ignored: the store gives the id */
    ck_assert_int_eq(imgsync__store_task_insert(S, &r), 0);
    ck_assert_uint_eq(r.id, 1);
    expect_stored(r.id, &r);
    imgsync__task_rec_clear(&r);
    ck_assert_int_eq(imgsync__store_task_get(S, 2, &r), IMGSYNC_ENOTFOUND);
    ck_assert_int_eq(imgsync__store_task_get(S, 0, &r), IMGSYNC_ENOTFOUND);
}
END_TEST

/* NULL strings are stored as "" and every string read back is malloc'd, never NULL. */
START_TEST(test_task_null_strings_read_as_empty)
{
    imgsync__task_rec r, got;
    memset(&r, 0, sizeof(r));
    imgsync__task_rec_registry reg = {NULL, NULL, IMGSYNC_REGISTRY_RUNNING, 0, NULL};
    imgsync__task_rec_error err = {NULL, NULL, NULL, IMGSYNC_ENETWORK};
    r.registries = &reg;
    r.nregistries = 1;
    r.errors = &err;
    r.nerrors = 1;
    ck_assert_int_eq(imgsync__store_task_insert(S, &r), 0);
    ck_assert_int_eq(imgsync__store_task_get(S, r.id, &got), 0);
    ck_assert_str_eq(got.reason, "");
    ck_assert_str_eq(got.owner, "");
    ck_assert_uint_eq(got.nregistries, 1);
    ck_assert_str_eq(got.registries[0].name, "");
    ck_assert_str_eq(got.registries[0].type, "");
    ck_assert_str_eq(got.registries[0].reason, "");
    ck_assert_uint_eq(got.nerrors, 1);
    ck_assert_str_eq(got.errors[0].registry, "");
    ck_assert_str_eq(got.errors[0].repository, "");
    ck_assert_str_eq(got.errors[0].message, "");
    ck_assert_int_eq(got.errors[0].code, IMGSYNC_ENETWORK);
    imgsync__task_rec_clear(&got);
}
END_TEST

START_TEST(test_task_ids_increase_never_reused)
{
    uint64_t a = add_task(S, IMGSYNC_TASK_SUCCEEDED, 0);
    uint64_t b = add_task(S, IMGSYNC_TASK_FAILED, 0);
    uint64_t c = add_task(S, IMGSYNC_TASK_CANCELED, 1);
    ck_assert_uint_lt(a, b);
    ck_assert_uint_lt(b, c);
    size_t removed = 0;
    ck_assert_int_eq(imgsync__store_task_prune(S, 0, &removed), 0);
    ck_assert_uint_eq(removed, 3); /* the newest id is gone too */
    expect_list(-1, -1, 0, "");
    uint64_t d = add_task(S, IMGSYNC_TASK_QUEUED, 0);
    ck_assert_uint_gt(d, c);
}
END_TEST

START_TEST(test_task_update)
{
    uint64_t first = add_task(S, IMGSYNC_TASK_QUEUED, 0);
    uint64_t id = add_task(S, IMGSYNC_TASK_QUEUED, 1);
    imgsync__task_rec r;
    make_task(&r, IMGSYNC_TASK_FAILED, IMGSYNC_TRIGGER_SCHEDULED, 41, 4, 3); /* more children */
    r.id = id;
    ck_assert_int_eq(imgsync__store_task_update(S, &r), 0);
    expect_stored(id, &r);
    imgsync__task_rec_clear(&r);
    make_task(&r, IMGSYNC_TASK_SUCCEEDED, IMGSYNC_TRIGGER_MANUAL, 42, 1, 0); /* fewer children */
    r.id = id;
    ck_assert_int_eq(imgsync__store_task_update(S, &r), 0);
    expect_stored(id, &r);
    /* the other task is untouched */
    imgsync__task_rec other;
    make_task(&other, IMGSYNC_TASK_QUEUED, 0, IMGSYNC_TASK_QUEUED * 7, 2, 1);
    expect_stored(first, &other);
    imgsync__task_rec_clear(&other);
    r.id = id + 1;
    ck_assert_int_eq(imgsync__store_task_update(S, &r), IMGSYNC_ENOTFOUND);
    ck_assert_msg(imgsync__store_errmsg(S)[0] != '\0', "no message");
    r.id = 0;
    ck_assert_int_eq(imgsync__store_task_update(S, &r), IMGSYNC_ENOTFOUND);
    imgsync__task_rec_clear(&r);
    expect_list(-1, -1, 0, "2,1");
}
END_TEST

START_TEST(test_task_list_order_filters_limit)
{
    expect_list(-1, -1, 0, "");
    add_task(S, IMGSYNC_TASK_SUCCEEDED, IMGSYNC_TRIGGER_MANUAL);    /* 1 */
    add_task(S, IMGSYNC_TASK_FAILED, IMGSYNC_TRIGGER_SCHEDULED);    /* 2 */
    add_task(S, IMGSYNC_TASK_SUCCEEDED, IMGSYNC_TRIGGER_SCHEDULED); /* 3 */
    add_task(S, IMGSYNC_TASK_RUNNING, IMGSYNC_TRIGGER_MANUAL);      /* 4 */
    add_task(S, IMGSYNC_TASK_SUCCEEDED, IMGSYNC_TRIGGER_MANUAL);    /* 5 */
    add_task(S, IMGSYNC_TASK_QUEUED, IMGSYNC_TRIGGER_SCHEDULED);    /* 6 */
    expect_list(-1, -1, 0, "6,5,4,3,2,1");
    expect_list(IMGSYNC_TASK_SUCCEEDED, -1, 0, "5,3,1");
    expect_list(-1, IMGSYNC_TRIGGER_SCHEDULED, 0, "6,3,2");
    expect_list(IMGSYNC_TASK_SUCCEEDED, IMGSYNC_TRIGGER_MANUAL, 0, "5,1");
    expect_list(IMGSYNC_TASK_CANCELED, -1, 0, "");
    expect_list(-1, -1, 2, "6,5");
    expect_list(IMGSYNC_TASK_SUCCEEDED, -1, 2, "5,3");
    expect_list(-1, IMGSYNC_TRIGGER_MANUAL, 1, "5");
    expect_list(-1, -1, 100, "6,5,4,3,2,1");
    /* listed records are whole */
    imgsync__task_rec *v = NULL, want;
    size_t n = 0;
    ck_assert_int_eq(imgsync__store_task_list(S, IMGSYNC_TASK_FAILED, -1, 0, &v, &n), 0);
    ck_assert_uint_eq(n, 1);
    make_task(&want, IMGSYNC_TASK_FAILED, IMGSYNC_TRIGGER_SCHEDULED, IMGSYNC_TASK_FAILED * 7 + 1, 2, 1);
    want.id = 2;
    expect_task_eq(&v[0], &want);
    imgsync__task_rec_clear(&want);
    free_list(v, n);
}
END_TEST

START_TEST(test_task_prune_keeps_newest_and_active)
{
    static const int states[] = {IMGSYNC_TASK_SUCCEEDED, IMGSYNC_TASK_QUEUED,  IMGSYNC_TASK_FAILED,
                                 IMGSYNC_TASK_RUNNING,   IMGSYNC_TASK_CANCELED, IMGSYNC_TASK_PARTIAL,
                                 IMGSYNC_TASK_SUCCEEDED, IMGSYNC_TASK_SKIPPED};
    for (size_t i = 0; i < sizeof(states) / sizeof(states[0]); i++)
        add_task(S, states[i], (int)(i % 2));
    /* the backend's own operation gives the ids it removed */
    uint64_t *ids = NULL;
    size_t n = 99;
    ck_assert_int_eq(S->ops->task_prune(S, 3, &ids, &n), 0);
    ck_assert_uint_eq(n, 3);
    ck_assert_uint_eq(ids[0], 1);
    ck_assert_uint_eq(ids[1], 3);
    ck_assert_uint_eq(ids[2], 5);
    free(ids);
    expect_list(-1, -1, 0, "8,7,6,4,2");
    ck_assert_int_eq(imgsync__store_task_get(S, 3, &(imgsync__task_rec){0}), IMGSYNC_ENOTFOUND);
    /* nothing more to remove while keeping 3 */
    size_t removed = 99;
    ck_assert_int_eq(imgsync__store_task_prune(S, 3, &removed), 0);
    ck_assert_uint_eq(removed, 0);
    ck_assert_int_eq(imgsync__store_task_prune(S, 100, &removed), 0);
    ck_assert_uint_eq(removed, 0);
    /* keep none: the queued and running tasks stay anyway */
    ck_assert_int_eq(imgsync__store_task_prune(S, 0, &removed), 0);
    ck_assert_uint_eq(removed, 3);
    expect_list(-1, -1, 0, "4,2");
    ck_assert_int_eq(imgsync__store_task_prune(S, 0, NULL), 0);
    expect_list(-1, -1, 0, "4,2");
    /* once they end they can go */
    imgsync__task_rec r;
    ck_assert_int_eq(imgsync__store_task_get(S, 2, &r), 0);
    r.state = IMGSYNC_TASK_SUCCEEDED;
    ck_assert_int_eq(imgsync__store_task_update(S, &r), 0);
    imgsync__task_rec_clear(&r);
    ids = NULL;
    ck_assert_int_eq(S->ops->task_prune(S, 0, &ids, &n), 0);
    ck_assert_uint_eq(n, 1);
    ck_assert_uint_eq(ids[0], 2);
    free(ids);
    expect_list(-1, -1, 0, "4");
}
END_TEST

/* ---- schedules (every backend) ------------------------------------------------------------- */

START_TEST(test_schedule_insert_list_remove)
{
    expect_schedules(S, "");
    imgsync__schedule_rec r;
    make_schedule(&r, IMGSYNC_SCHEDULE_DAILY, 7);
    r.id = 55; /* ignored */
    ck_assert_int_eq(imgsync__store_schedule_insert(S, &r), 0);
    ck_assert_uint_eq(r.id, 1);
    uint64_t b = add_schedule(S, IMGSYNC_SCHEDULE_EVERY, 8);
    uint64_t c = add_schedule(S, IMGSYNC_SCHEDULE_DAILY, 9);
    ck_assert_uint_lt(r.id, b);
    ck_assert_uint_lt(b, c);
    /* every field read back */
    imgsync__schedule_rec *v = NULL;
    size_t n = 0;
    ck_assert_int_eq(imgsync__store_schedule_list(S, &v, &n), 0);
    ck_assert_uint_eq(n, 3);
    imgsync__schedule_rec want[3];
    make_schedule(&want[0], IMGSYNC_SCHEDULE_DAILY, 7);
    make_schedule(&want[1], IMGSYNC_SCHEDULE_EVERY, 8);
    make_schedule(&want[2], IMGSYNC_SCHEDULE_DAILY, 9);
    for (size_t i = 0; i < 3; i++) {
        ck_assert_uint_eq(v[i].id, i + 1);
        ck_assert_int_eq(v[i].kind, want[i].kind);
        ck_assert_int_eq(v[i].hour, want[i].hour);
        ck_assert_int_eq(v[i].minute, want[i].minute);
        ck_assert_uint_eq(v[i].every_minutes, want[i].every_minutes);
        ck_assert_str_eq(v[i].request, want[i].request);
        ck_assert_int_eq(v[i].created_ms, want[i].created_ms);
        ck_assert_int_eq(v[i].next_ms, want[i].next_ms);
        ck_assert_uint_eq(v[i].last_task_id, want[i].last_task_id);
        imgsync__schedule_rec_clear(&v[i]);
        imgsync__schedule_rec_clear(&want[i]);
    }
    free(v);
    ck_assert_int_eq(imgsync__store_schedule_remove(S, b), 0);
    expect_schedules(S, "1:1700003600007:7,3:1700003600009:9");
    ck_assert_int_eq(imgsync__store_schedule_remove(S, b), IMGSYNC_ENOTFOUND);
    ck_assert_int_eq(imgsync__store_schedule_remove(S, 0), IMGSYNC_ENOTFOUND);
    ck_assert_int_eq(imgsync__store_schedule_remove(S, c), 0); /* the newest: its id is not given again */
    uint64_t d = add_schedule(S, IMGSYNC_SCHEDULE_EVERY, 10);
    ck_assert_uint_gt(d, c);
    expect_schedules(S, "1:1700003600007:7,4:1700003600010:10");
    imgsync__schedule_rec_clear(&r);
}
END_TEST

START_TEST(test_schedule_claim)
{
    uint64_t a = add_schedule(S, IMGSYNC_SCHEDULE_DAILY, 1);
    uint64_t b = add_schedule(S, IMGSYNC_SCHEDULE_EVERY, 2);
    int64_t due = 1700003600001LL;
    int claimed = -1;
    ck_assert_int_eq(imgsync__store_schedule_claim(S, a, due, due + 86400000, 31, &claimed), 0);
    ck_assert_int_eq(claimed, 1);
    expect_schedules(S, "1:1700090000001:31,2:1700003600002:2");
    /* the same due time again: already claimed, nothing changes */
    ck_assert_int_eq(imgsync__store_schedule_claim(S, a, due, due + 2 * 86400000, 32, &claimed), 0);
    ck_assert_int_eq(claimed, 0);
    /* a stale or future due time: not claimed */
    ck_assert_int_eq(imgsync__store_schedule_claim(S, b, 1700003600001LL, 1, 33, &claimed), 0);
    ck_assert_int_eq(claimed, 0);
    ck_assert_int_eq(imgsync__store_schedule_claim(S, a, due + 2 * 86400000, 1, 34, &claimed), 0);
    ck_assert_int_eq(claimed, 0);
    expect_schedules(S, "1:1700090000001:31,2:1700003600002:2");
    /* the next due time is claimable */
    ck_assert_int_eq(imgsync__store_schedule_claim(S, a, due + 86400000, due + 2 * 86400000, 35, &claimed), 0);
    ck_assert_int_eq(claimed, 1);
    expect_schedules(S, "1:1700176400001:35,2:1700003600002:2");
    ck_assert_int_eq(imgsync__store_schedule_remove(S, a), 0);
    claimed = -1;
    ck_assert_int_eq(imgsync__store_schedule_claim(S, a, due + 2 * 86400000, 1, 36, &claimed), IMGSYNC_ENOTFOUND);
    ck_assert_int_eq(claimed, 0);
    ck_assert_int_eq(imgsync__store_schedule_claim(S, 99, 0, 1, 36, &claimed), IMGSYNC_ENOTFOUND);
    expect_schedules(S, "2:1700003600002:2");
}
END_TEST

/* ---- SQLite only --------------------------------------------------------------------------- */

START_TEST(test_sqlite_history_persists)
{
    imgsync__task_rec r;
    make_task(&r, IMGSYNC_TASK_PARTIAL, IMGSYNC_TRIGGER_SCHEDULED, 5, 2, 2);
    ck_assert_int_eq(imgsync__store_task_insert(S, &r), 0);
    uint64_t last = add_task(S, IMGSYNC_TASK_SUCCEEDED, 0);
    uint64_t sa = add_schedule(S, IMGSYNC_SCHEDULE_DAILY, 1);
    uint64_t sb = add_schedule(S, IMGSYNC_SCHEDULE_EVERY, 2);
    imgsync__store_close(S);
    open_store();
    expect_stored(r.id, &r);
    expect_list(-1, -1, 0, "2,1");
    expect_schedules(S, "1:1700003600001:1,2:1700003600002:2");
    /* after removing the newest task and schedule and reopening, their ids are not given again */
    size_t removed = 0;
    ck_assert_int_eq(imgsync__store_task_prune(S, 0, &removed), 0);
    ck_assert_uint_eq(removed, 2);
    ck_assert_int_eq(imgsync__store_schedule_remove(S, sb), 0);
    imgsync__store_close(S);
    open_store();
    ck_assert_uint_gt(add_task(S, IMGSYNC_TASK_QUEUED, 0), last);
    ck_assert_uint_gt(add_schedule(S, IMGSYNC_SCHEDULE_DAILY, 3), sb);
    ck_assert_int_eq(imgsync__store_schedule_remove(S, sa), 0);
    imgsync__task_rec_clear(&r);
}
END_TEST

/* Two handles on one file (as two processes would have): one due time is claimed once, and
 * ids never collide. */
START_TEST(test_sqlite_two_handles)
{
    imgsync__store *t = NULL;
    ck_assert_int_eq(imgsync__store_open(&t, URI), 0);
    uint64_t id = add_schedule(S, IMGSYNC_SCHEDULE_EVERY, 1);
    int64_t due = 1700003600001LL;
    int c1 = -1, c2 = -1;
    ck_assert_int_eq(imgsync__store_schedule_claim(S, id, due, due + 60000, 10, &c1), 0);
    ck_assert_int_eq(imgsync__store_schedule_claim(t, id, due, due + 60000, 11, &c2), 0);
    ck_assert_int_eq(c1 + c2, 1);
    ck_assert_int_eq(c1, 1);
    due += 60000;
    ck_assert_int_eq(imgsync__store_schedule_claim(t, id, due, due + 60000, 12, &c2), 0);
    ck_assert_int_eq(imgsync__store_schedule_claim(S, id, due, due + 60000, 13, &c1), 0);
    ck_assert_int_eq(c2, 1);
    ck_assert_int_eq(c1, 0);
    expect_schedules(S, "1:1700003720001:12");
    expect_schedules(t, "1:1700003720001:12");
    /* interleaved inserts: distinct, increasing ids; each handle reads the other's */
    uint64_t prev = 0;
    for (int i = 0; i < 6; i++) {
        uint64_t got = add_task(i % 2 ? t : S, IMGSYNC_TASK_QUEUED, 0);
        ck_assert_uint_gt(got, prev);
        prev = got;
    }
    expect_list(-1, -1, 0, "6,5,4,3,2,1");
    imgsync__task_rec r;
    ck_assert_int_eq(imgsync__store_task_get(t, 1, &r), 0);
    imgsync__task_rec_clear(&r);
    ck_assert_uint_gt(add_schedule(t, IMGSYNC_SCHEDULE_DAILY, 2), id);
    imgsync__store_close(t);
}
END_TEST

/* Another writer holds the file past the busy timeout: ESTORE with the reason, nothing changed. */
START_TEST(test_sqlite_busy_is_estore)
{
    uint64_t sid = add_schedule(S, IMGSYNC_SCHEDULE_DAILY, 1);
    sqlite3 *other = NULL;
    ck_assert_int_eq(sqlite3_open(PATH_, &other), SQLITE_OK);
    ck_assert_int_eq(sqlite3_exec(other, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    imgsync__task_rec r;
    make_task(&r, IMGSYNC_TASK_QUEUED, 0, 1, 1, 1);
    ck_assert_int_eq(imgsync__store_task_insert(S, &r), IMGSYNC_ESTORE);
    ck_assert_msg(strstr(imgsync__store_errmsg(S), "locked") != NULL, "message: %s", imgsync__store_errmsg(S));
    ck_assert_uint_eq(r.id, 0);
    int claimed = -1;
    ck_assert_int_eq(imgsync__store_schedule_claim(S, sid, 1700003600001LL, 1, 9, &claimed), IMGSYNC_ESTORE);
    ck_assert_int_eq(claimed, 0);
    expect_list(-1, -1, 0, ""); /* reads do not wait for the writer */
    ck_assert_int_eq(sqlite3_exec(other, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
    ck_assert_int_eq(sqlite3_close(other), SQLITE_OK);
    expect_schedules(S, "1:1700003600001:1");
    ck_assert_int_eq(imgsync__store_task_insert(S, &r), 0);
    ck_assert_uint_eq(r.id, 1);
    imgsync__task_rec_clear(&r);
}
END_TEST

/* Inside the caller's transaction an operation neither begins nor commits: the caller's rollback
 * undoes it; a failed operation undoes only itself and leaves the transaction open. */
START_TEST(test_sqlite_inside_callers_transaction)
{
    sqlite3 *db = ((sqlite_store *)S)->db;
    ck_assert_int_eq(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    uint64_t a = add_task(S, IMGSYNC_TASK_QUEUED, 0);
    imgsync__task_rec r;
    make_task(&r, IMGSYNC_TASK_FAILED, 0, 9, 1, 1);
    r.id = a + 1;
    ck_assert_int_eq(imgsync__store_task_update(S, &r), IMGSYNC_ENOTFOUND);
    ck_assert_int_eq(sqlite3_get_autocommit(db), 0); /* still the caller's */
    expect_list(-1, -1, 0, "1");
    ck_assert_int_eq(sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
    expect_list(-1, -1, 0, "");
    ck_assert_int_eq(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    ck_assert_int_eq(imgsync__store_task_insert(S, &r), 0);
    ck_assert_int_eq(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    expect_stored(r.id, &r);
    imgsync__task_rec_clear(&r);
}
END_TEST

/* Processes racing on one file: each claims every due time it sees (a successful claim moves
 * next_ms on by exactly 1) and records tasks. No due time is claimed twice (the claims add up to
 * the final next_ms) and no task id is given twice (every insert succeeds, all are listed). */
enum { RACERS = 3, ROUNDS = 60 };

static int racer(uint64_t sid)
{
    imgsync__store *t = NULL;
    int claims = 0;
    if (imgsync__store_open(&t, URI))
        return 255;
    for (int k = 0; k < ROUNDS; k++) {
        imgsync__task_rec r;
        memset(&r, 0, sizeof(r));
        int claimed = 0;
        if (imgsync__store_task_insert(t, &r) || imgsync__store_schedule_claim(t, sid, k, k + 1, r.id, &claimed)) {
            claims = 255;
            break;
        }
        claims += claimed;
    }
    imgsync__store_close(t);
    return claims;
}

START_TEST(test_sqlite_processes_race)
{
    imgsync__schedule_rec sr;
    make_schedule(&sr, IMGSYNC_SCHEDULE_EVERY, 0);
    sr.next_ms = 0;
    ck_assert_int_eq(imgsync__store_schedule_insert(S, &sr), 0);
    imgsync__schedule_rec_clear(&sr);
    imgsync__store_close(S); /* no connection is carried across fork */
    S = NULL;
    pid_t pids[RACERS];
    for (int i = 0; i < RACERS; i++) {
        ck_assert_int_ge(pids[i] = fork(), 0);
        if (pids[i] == 0)
            _exit(racer(1));
    }
    int total = 0;
    for (int i = 0; i < RACERS; i++) {
        int status = 0;
        ck_assert_int_eq(waitpid(pids[i], &status, 0), pids[i]);
        ck_assert(WIFEXITED(status));
        ck_assert_int_lt(WEXITSTATUS(status), 255);
        total += WEXITSTATUS(status);
    }
    open_store();
    imgsync__schedule_rec *v = NULL;
    size_t n = 0;
    ck_assert_int_eq(imgsync__store_schedule_list(S, &v, &n), 0);
    ck_assert_uint_eq(n, 1);
    ck_assert_int_gt(total, 0);
    ck_assert_int_eq(v[0].next_ms, total);
    imgsync__schedule_rec_clear(&v[0]);
    free(v);
    imgsync__task_rec *tasks = NULL;
    ck_assert_int_eq(imgsync__store_task_list(S, -1, -1, 0, &tasks, &n), 0);
    ck_assert_uint_eq(n, RACERS * ROUNDS);
    for (size_t i = 0; i < n; i++)
        ck_assert_uint_eq(tasks[i].id, n - i); /* 1..n, each once */
    free_list(tasks, n);
}
END_TEST

static long long count_rows(const char *sql)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    ck_assert_int_eq(sqlite3_open(PATH_, &db), SQLITE_OK);
    ck_assert_int_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
    long long n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}

/* A task's registry and error rows go with it (prune) and are replaced by an update. */
START_TEST(test_sqlite_child_rows_follow_their_task)
{
    add_task(S, IMGSYNC_TASK_SUCCEEDED, 0); /* 2 registries, 1 error each */
    add_task(S, IMGSYNC_TASK_RUNNING, 0);
    add_task(S, IMGSYNC_TASK_FAILED, 0);
    ck_assert_int_eq(count_rows("SELECT COUNT(*) FROM task_registries"), 6);
    ck_assert_int_eq(count_rows("SELECT COUNT(*) FROM task_errors"), 3);
    imgsync__task_rec r;
    make_task(&r, IMGSYNC_TASK_FAILED, 0, 3, 5, 4);
    r.id = 3;
    ck_assert_int_eq(imgsync__store_task_update(S, &r), 0);
    imgsync__task_rec_clear(&r);
    ck_assert_int_eq(count_rows("SELECT COUNT(*) FROM task_registries WHERE task_id = 3"), 5);
    ck_assert_int_eq(count_rows("SELECT COUNT(*) FROM task_errors WHERE task_id = 3"), 4);
    ck_assert_int_eq(imgsync__store_task_prune(S, 0, NULL), 0);
    ck_assert_int_eq(count_rows("SELECT COUNT(*) FROM task_registries WHERE task_id <> 2"), 0);
    ck_assert_int_eq(count_rows("SELECT COUNT(*) FROM task_errors WHERE task_id <> 2"), 0);
    ck_assert_int_eq(count_rows("SELECT COUNT(*) FROM task_registries"), 2);
    ck_assert_int_eq(count_rows("SELECT COUNT(*) FROM tasks"), 1);
}
END_TEST

static void add_common(TCase *tc)
{
    tcase_add_test(tc, test_task_round_trip);
    tcase_add_test(tc, test_task_null_strings_read_as_empty);
    tcase_add_test(tc, test_task_ids_increase_never_reused);
    tcase_add_test(tc, test_task_update);
    tcase_add_test(tc, test_task_list_order_filters_limit);
    tcase_add_test(tc, test_task_prune_keeps_newest_and_active);
    tcase_add_test(tc, test_schedule_insert_list_remove);
    tcase_add_test(tc, test_schedule_claim);
}

static void add_sqlite_only(TCase *tc)
{
    tcase_add_test(tc, test_sqlite_history_persists);
    tcase_add_test(tc, test_sqlite_two_handles);
    tcase_add_test(tc, test_sqlite_processes_race);
    tcase_add_test(tc, test_sqlite_busy_is_estore);
    tcase_add_test(tc, test_sqlite_inside_callers_transaction);
    tcase_add_test(tc, test_sqlite_child_rows_follow_their_task);
}

Suite *store_history_suite(void)
{
    Suite *s = suite_create("store_history");
    TCase *mem = tcase_create("memory");
    tcase_add_checked_fixture(mem, setup_memory, teardown);
    add_common(mem);
    suite_add_tcase(s, mem);
    TCase *sql = tcase_create("sqlite");
    tcase_add_checked_fixture(sql, setup_sqlite, teardown);
    add_common(sql);
    add_sqlite_only(sql);
    tcase_set_timeout(sql, 60); /* the busy test waits out the store's 5 s busy timeout twice */
    suite_add_tcase(s, sql);
    return s;
}

#include "check_main.h"
IMGSYNC_TEST_MAIN(store_history_suite)
