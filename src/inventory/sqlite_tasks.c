/* Tasks and schedules of the SQLite store: a table of tasks (a column per counter) with their
 * registry rows and errors in two child tables keyed (task_id, ord), and a table of schedules.
 * Ids come from AUTOINCREMENT, so no id is given twice, also after a prune or by another
 * process on the same file. Every operation is one transaction of its own (BEGIN IMMEDIATE for
 * writes, a plain BEGIN for reads), or a savepoint inside the caller's transaction: a failed
 * operation changes nothing either way. Statements are prepared once, parameters always bound. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inventory/sqlite.h"
#include "util/buf.h"

static const char history_ddl[] =
    "CREATE TABLE tasks (id INTEGER PRIMARY KEY AUTOINCREMENT, state INTEGER NOT NULL, "
    "trigger_kind INTEGER NOT NULL, schedule_id INTEGER NOT NULL, created_ms INTEGER NOT NULL, "
    "started_ms INTEGER NOT NULL, finished_ms INTEGER NOT NULL, repositories_total INTEGER NOT NULL, "
    "repositories_done INTEGER NOT NULL, repositories_failed INTEGER NOT NULL, images_found INTEGER NOT NULL, "
    "images_added INTEGER NOT NULL, images_updated INTEGER NOT NULL, images_removed INTEGER NOT NULL, "
    "requests INTEGER NOT NULL, retries INTEGER NOT NULL, reason TEXT NOT NULL, owner TEXT NOT NULL);"
    "CREATE INDEX tasks_by_state ON tasks(state, id);"
    "CREATE INDEX tasks_by_trigger ON tasks(trigger_kind, id);"
    "CREATE TABLE task_registries (task_id INTEGER NOT NULL REFERENCES tasks(id), ord INTEGER NOT NULL, "
    "name TEXT NOT NULL, type TEXT NOT NULL, state INTEGER NOT NULL, error INTEGER NOT NULL, "
    "reason TEXT NOT NULL, PRIMARY KEY (task_id, ord)) WITHOUT ROWID;"
    "CREATE TABLE task_errors (task_id INTEGER NOT NULL REFERENCES tasks(id), ord INTEGER NOT NULL, "
    "registry TEXT NOT NULL, repository TEXT NOT NULL, code INTEGER NOT NULL, message TEXT NOT NULL, "
    "PRIMARY KEY (task_id, ord)) WITHOUT ROWID;"
    "CREATE TABLE schedules (id INTEGER PRIMARY KEY AUTOINCREMENT, kind INTEGER NOT NULL, "
    "hour INTEGER NOT NULL, minute INTEGER NOT NULL, every_minutes INTEGER NOT NULL, request TEXT NOT NULL, "
    "created_ms INTEGER NOT NULL, next_ms INTEGER NOT NULL, last_task_id INTEGER NOT NULL);";

/* The task columns but the id, in the order bind_task binds them (?1..?17). */
#define TASK_COLUMNS                                                                                     \
    "state, trigger_kind, schedule_id, created_ms, started_ms, finished_ms, repositories_total, "        \
    "repositories_done, repositories_failed, images_found, images_added, images_updated, images_removed, " \
    "requests, retries, reason, owner"
#define NTASK_COLUMNS 17
#define SELECT_TASK "SELECT id, " TASK_COLUMNS " FROM tasks "
#define SCHEDULE_COLUMNS "kind, hour, minute, every_minutes, request, created_ms, next_ms, last_task_id"

enum {
    H_BEGIN, H_BEGIN_READ, H_COMMIT, H_ROLLBACK, H_SAVEPOINT, H_RELEASE, H_ROLLBACK_TO,
    H_TASK_INSERT, H_TASK_UPDATE, H_TASK_GET, H_TASK_DELETE,
    H_LIST_ANY, H_LIST_STATE, H_LIST_TRIGGER, H_LIST_BOTH, H_PRUNE_IDS,
    H_REG_INSERT, H_REG_SELECT, H_REG_DELETE, H_ERR_INSERT, H_ERR_SELECT, H_ERR_DELETE,
    H_SCHED_INSERT, H_SCHED_DELETE, H_SCHED_LIST, H_SCHED_CLAIM, H_SCHED_EXISTS,
    NH
};

/* Task lists: ?1 state, ?2 trigger, ?3 limit (-1 = all); a statement per filter so that each
 * walks an index in id order (a parameter a statement does not use is bound and ignored). */
static const char *const history_sql[NH] = {
    [H_BEGIN] = "BEGIN IMMEDIATE",
    [H_BEGIN_READ] = "BEGIN",
    [H_COMMIT] = "COMMIT",
    [H_ROLLBACK] = "ROLLBACK",
    [H_SAVEPOINT] = "SAVEPOINT imgsync_history",
    [H_RELEASE] = "RELEASE imgsync_history",
    [H_ROLLBACK_TO] = "ROLLBACK TO imgsync_history",
    [H_TASK_INSERT] = "INSERT INTO tasks(" TASK_COLUMNS ") VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, "
                      "?12, ?13, ?14, ?15, ?16, ?17)",
    [H_TASK_UPDATE] = "UPDATE tasks SET state = ?1, trigger_kind = ?2, schedule_id = ?3, created_ms = ?4, "
                      "started_ms = ?5, finished_ms = ?6, repositories_total = ?7, repositories_done = ?8, "
                      "repositories_failed = ?9, images_found = ?10, images_added = ?11, images_updated = ?12, "
                      "images_removed = ?13, requests = ?14, retries = ?15, reason = ?16, owner = ?17 "
                      "WHERE id = ?18",
    [H_TASK_GET] = SELECT_TASK "WHERE id = ?1",
    [H_TASK_DELETE] = "DELETE FROM tasks WHERE id = ?1",
    [H_LIST_ANY] = SELECT_TASK "ORDER BY id DESC LIMIT ?3",
    [H_LIST_STATE] = SELECT_TASK "WHERE state = ?1 ORDER BY id DESC LIMIT ?3",
    [H_LIST_TRIGGER] = SELECT_TASK "WHERE trigger_kind = ?2 ORDER BY id DESC LIMIT ?3",
    [H_LIST_BOTH] = SELECT_TASK "WHERE state = ?1 AND trigger_kind = ?2 ORDER BY id DESC LIMIT ?3",
    /* older than the ?1 newest, and neither queued (?2) nor running (?3) */
    [H_PRUNE_IDS] = "SELECT id FROM tasks WHERE state NOT IN (?2, ?3) AND id NOT IN "
                    "(SELECT id FROM tasks ORDER BY id DESC LIMIT ?1) ORDER BY id",
    [H_REG_INSERT] = "INSERT INTO task_registries(task_id, ord, name, type, state, error, reason) "
                     "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [H_REG_SELECT] = "SELECT name, type, state, error, reason FROM task_registries WHERE task_id = ?1 ORDER BY ord",
    [H_REG_DELETE] = "DELETE FROM task_registries WHERE task_id = ?1",
    [H_ERR_INSERT] = "INSERT INTO task_errors(task_id, ord, registry, repository, code, message) "
                     "VALUES(?1, ?2, ?3, ?4, ?5, ?6)",
    [H_ERR_SELECT] = "SELECT registry, repository, code, message FROM task_errors WHERE task_id = ?1 ORDER BY ord",
    [H_ERR_DELETE] = "DELETE FROM task_errors WHERE task_id = ?1",
    [H_SCHED_INSERT] = "INSERT INTO schedules(" SCHEDULE_COLUMNS ") VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    [H_SCHED_DELETE] = "DELETE FROM schedules WHERE id = ?1",
    [H_SCHED_LIST] = "SELECT id, " SCHEDULE_COLUMNS " FROM schedules ORDER BY id",
    [H_SCHED_CLAIM] = "UPDATE schedules SET next_ms = ?3, last_task_id = ?4 WHERE id = ?1 AND next_ms = ?2",
    [H_SCHED_EXISTS] = "SELECT 1 FROM schedules WHERE id = ?1",
};

struct sqlite_history {
    sqlite3_stmt *q[NH];
};

/* ---- schema, statements -------------------------------------------------------------------- */

int imgsync__sqlite_history_schema(sqlite_store *s)
{
    int rc = sqlite3_exec(s->db, history_ddl, NULL, NULL, NULL);
    return rc == SQLITE_OK ? 0 : imgsync__sqlite_fail(s, rc, "creating the task and schedule tables");
}

int imgsync__sqlite_history_prepare(sqlite_store *s)
{
    if (!(s->history = calloc(1, sizeof(*s->history))))
        return imgsync__sqlite_fail(s, SQLITE_NOMEM, "preparing the task statements");
    for (int i = 0; i < NH; i++) {
        int rc = sqlite3_prepare_v3(s->db, history_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &s->history->q[i], NULL);
        if (rc != SQLITE_OK)
            return imgsync__sqlite_fail(s, rc, "preparing the task statements");
    }
    return 0;
}

void imgsync__sqlite_history_free(sqlite_store *s)
{
    if (!s->history)
        return;
    for (int i = 0; i < NH; i++)
        sqlite3_finalize(s->history->q[i]);
    free(s->history);
    s->history = NULL;
}

/* ---- helpers ------------------------------------------------------------------------------- */

static sqlite3_stmt *stmt(sqlite_store *s, int i) { return s->history->q[i]; }

static int oom(sqlite_store *s, const char *what)
{
    snprintf(s->base.errmsg, sizeof(s->base.errmsg), "sqlite store: %s: out of memory", what);
    return IMGSYNC_ENOMEM;
}

static int not_found(sqlite_store *s, const char *what, uint64_t id)
{
    snprintf(s->base.errmsg, sizeof(s->base.errmsg), "sqlite store: no %s %llu", what, (unsigned long long)id);
    return IMGSYNC_ENOTFOUND;
}

/* Run a statement that returns no row (bindings kept, statement reset). */
static int step_done(sqlite_store *s, int i, const char *what)
{
    int rc = sqlite3_step(stmt(s, i));
    sqlite3_reset(stmt(s, i));
    return rc == SQLITE_DONE ? 0 : imgsync__sqlite_fail(s, rc, what);
}

/* Run a statement, keeping no message: for undoing after a failure already reported. */
static void step_quiet(sqlite_store *s, int i)
{
    sqlite3_step(stmt(s, i));
    sqlite3_reset(stmt(s, i));
}

/* A string of the caller's (NULL stored as ""), bound without a copy: cleared after the step. */
static void bind_str(sqlite3_stmt *st, int col, const char *v)
{
    sqlite3_bind_text(st, col, v ? v : "", -1, SQLITE_STATIC);
}
static void bind_u64(sqlite3_stmt *st, int col, uint64_t v) { sqlite3_bind_int64(st, col, (sqlite3_int64)v); }

/* A malloc'd copy of column `col` (NOT NULL: a NULL is a failed conversion); sets *bad on ENOMEM. */
static char *col_str(sqlite3_stmt *st, int col, int *bad)
{
    const char *v = (const char *)sqlite3_column_text(st, col);
    char *d = v ? imgsync__strdup(v) : NULL;
    if (!d)
        *bad = 1;
    return d;
}

/* ---- transactions -------------------------------------------------------------------------- */

enum { TX_NONE, TX_OWN, TX_SAVEPOINT };

/* Start this operation's transaction: its own when none is open (write: IMMEDIATE, so a busy
 * database fails here, before anything is read), else a savepoint in the caller's (writes) or
 * nothing (reads). */
static int tx_open(sqlite_store *s, int write, int *mode)
{
    int outer = sqlite3_get_autocommit(s->db) == 0;
    *mode = !outer ? TX_OWN : write ? TX_SAVEPOINT : TX_NONE;
    if (*mode == TX_OWN)
        return step_done(s, write ? H_BEGIN : H_BEGIN_READ, "starting a transaction");
    return *mode == TX_SAVEPOINT ? step_done(s, H_SAVEPOINT, "starting a savepoint") : 0;
}

/* End it: commit (release) when rc is 0, else undo everything the operation did. Returns rc, or
 * the commit's failure. */
static int tx_close(sqlite_store *s, int mode, int rc)
{
    if (mode == TX_OWN) {
        if (!rc)
            rc = step_done(s, H_COMMIT, "committing");
        if (rc && !sqlite3_get_autocommit(s->db))
            step_quiet(s, H_ROLLBACK);
    } else if (mode == TX_SAVEPOINT) {
        if (rc)
            step_quiet(s, H_ROLLBACK_TO);
        int r2 = step_done(s, H_RELEASE, "releasing a savepoint");
        rc = rc ? rc : r2;
    }
    return rc;
}

/* ---- task rows ----------------------------------------------------------------------------- */

/* Bind the task's columns to ?1..?17 of an INSERT or UPDATE. */
static void bind_task(sqlite3_stmt *st, const imgsync__task_rec *r)
{
    sqlite3_bind_int(st, 1, r->state);
    sqlite3_bind_int(st, 2, r->trigger);
    bind_u64(st, 3, r->schedule_id);
    sqlite3_bind_int64(st, 4, r->created_ms);
    sqlite3_bind_int64(st, 5, r->started_ms);
    sqlite3_bind_int64(st, 6, r->finished_ms);
    for (int i = 0; i < 9; i++)
        bind_u64(st, 7 + i, r->counters[i]);
    bind_str(st, 16, r->reason);
    bind_str(st, 17, r->owner);
}

/* The task at the current step of a SELECT_TASK statement into *r (children not read). */
static int read_task(sqlite3_stmt *st, imgsync__task_rec *r)
{
    int bad = 0;
    memset(r, 0, sizeof(*r));
    r->id = (uint64_t)sqlite3_column_int64(st, 0);
    r->state = sqlite3_column_int(st, 1);
    r->trigger = sqlite3_column_int(st, 2);
    r->schedule_id = (uint64_t)sqlite3_column_int64(st, 3);
    r->created_ms = sqlite3_column_int64(st, 4);
    r->started_ms = sqlite3_column_int64(st, 5);
    r->finished_ms = sqlite3_column_int64(st, 6);
    for (int i = 0; i < 9; i++)
        r->counters[i] = (uint64_t)sqlite3_column_int64(st, 7 + i);
    r->reason = col_str(st, 16, &bad);
    r->owner = col_str(st, 17, &bad);
    return bad ? IMGSYNC_ENOMEM : 0;
}

static int insert_registries(sqlite_store *s, uint64_t id, const imgsync__task_rec *r)
{
    sqlite3_stmt *st = stmt(s, H_REG_INSERT);
    int rc = 0;
    for (size_t i = 0; !rc && i < r->nregistries; i++) {
        const imgsync__task_rec_registry *g = &r->registries[i];
        bind_u64(st, 1, id);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)i);
        bind_str(st, 3, g->name);
        bind_str(st, 4, g->type);
        sqlite3_bind_int(st, 5, g->state);
        sqlite3_bind_int(st, 6, g->error);
        bind_str(st, 7, g->reason);
        rc = step_done(s, H_REG_INSERT, "recording a task's registries");
    }
    sqlite3_clear_bindings(st); /* no pointer into the caller's record outlives the call */
    return rc;
}

static int insert_errors(sqlite_store *s, uint64_t id, const imgsync__task_rec *r)
{
    sqlite3_stmt *st = stmt(s, H_ERR_INSERT);
    int rc = 0;
    for (size_t i = 0; !rc && i < r->nerrors; i++) {
        const imgsync__task_rec_error *e = &r->errors[i];
        bind_u64(st, 1, id);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)i);
        bind_str(st, 3, e->registry);
        bind_str(st, 4, e->repository);
        sqlite3_bind_int(st, 5, e->code);
        bind_str(st, 6, e->message);
        rc = step_done(s, H_ERR_INSERT, "recording a task's errors");
    }
    sqlite3_clear_bindings(st);
    return rc;
}

/* Run a one-parameter (?1 = id) statement that returns no row. */
static int run_id(sqlite_store *s, int i, uint64_t id, const char *what)
{
    bind_u64(stmt(s, i), 1, id);
    return step_done(s, i, what);
}

static int delete_children(sqlite_store *s, uint64_t id)
{
    int rc = run_id(s, H_REG_DELETE, id, "deleting a task's registries");
    return rc ? rc : run_id(s, H_ERR_DELETE, id, "deleting a task's errors");
}

/* Every row of a bound SELECT into a grown array *out of `size`-byte elements, each filled by
 * fill() (nonzero: ENOMEM); *n elements, also on failure (for the caller to free). The statement
 * is reset. */
static int read_array(sqlite_store *s, int i, size_t size, int (*fill)(sqlite3_stmt *, void *), const char *what,
                      void **out, size_t *n)
{
    sqlite3_stmt *st = stmt(s, i);
    int rc, bad = 0;
    size_t cap = 0;
    while (!bad && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == cap) {
            void *grown = realloc(*out, (cap = cap ? 2 * cap : 4) * size);
            if (!grown) {
                bad = 1;
                break;
            }
            *out = grown;
        }
        char *elem = (char *)*out + *n * size;
        memset(elem, 0, size);
        (*n)++; /* counted first: what fill() allocated is freed with the record */
        bad = fill(st, elem) != 0;
    }
    sqlite3_reset(st);
    if (bad)
        return oom(s, what);
    return rc == SQLITE_DONE ? 0 : imgsync__sqlite_fail(s, rc, what);
}

static int fill_registry(sqlite3_stmt *st, void *elem)
{
    imgsync__task_rec_registry *g = elem;
    int bad = 0;
    g->name = col_str(st, 0, &bad);
    g->type = col_str(st, 1, &bad);
    g->state = sqlite3_column_int(st, 2);
    g->error = sqlite3_column_int(st, 3);
    g->reason = col_str(st, 4, &bad);
    return bad;
}

static int fill_error(sqlite3_stmt *st, void *elem)
{
    imgsync__task_rec_error *e = elem;
    int bad = 0;
    e->registry = col_str(st, 0, &bad);
    e->repository = col_str(st, 1, &bad);
    e->code = sqlite3_column_int(st, 2);
    e->message = col_str(st, 3, &bad);
    return bad;
}

/* The registries and errors of r->id into r (what was read is in r even on failure). */
static int read_task_children(sqlite_store *s, imgsync__task_rec *r)
{
    void *v = NULL;
    bind_u64(stmt(s, H_REG_SELECT), 1, r->id);
    int rc =
        read_array(s, H_REG_SELECT, sizeof(*r->registries), fill_registry, "reading a task", &v, &r->nregistries);
    r->registries = v;
    if (rc)
        return rc;
    v = NULL;
    bind_u64(stmt(s, H_ERR_SELECT), 1, r->id);
    rc = read_array(s, H_ERR_SELECT, sizeof(*r->errors), fill_error, "reading a task", &v, &r->nerrors);
    r->errors = v;
    return rc;
}

/* ---- task operations ----------------------------------------------------------------------- */

static int task_insert_tx(sqlite_store *s, const imgsync__task_rec *r, uint64_t *id)
{
    bind_task(stmt(s, H_TASK_INSERT), r);
    int rc = step_done(s, H_TASK_INSERT, "recording a task");
    sqlite3_clear_bindings(stmt(s, H_TASK_INSERT));
    if (rc)
        return rc;
    *id = (uint64_t)sqlite3_last_insert_rowid(s->db);
    rc = insert_registries(s, *id, r);
    return rc ? rc : insert_errors(s, *id, r);
}

int imgsync__sqlite_task_insert(imgsync__store *base, imgsync__task_rec *r)
{
    sqlite_store *s = (sqlite_store *)base;
    uint64_t id = 0;
    int mode, rc = tx_open(s, 1, &mode);
    if (rc)
        return rc;
    rc = tx_close(s, mode, task_insert_tx(s, r, &id));
    if (!rc)
        r->id = id;
    return rc;
}

static int task_update_tx(sqlite_store *s, const imgsync__task_rec *r)
{
    sqlite3_stmt *st = stmt(s, H_TASK_UPDATE);
    bind_task(st, r);
    bind_u64(st, NTASK_COLUMNS + 1, r->id);
    int rc = step_done(s, H_TASK_UPDATE, "updating a task");
    sqlite3_clear_bindings(st);
    if (!rc && sqlite3_changes(s->db) == 0)
        rc = not_found(s, "task", r->id);
    rc = rc ? rc : delete_children(s, r->id);
    rc = rc ? rc : insert_registries(s, r->id, r);
    return rc ? rc : insert_errors(s, r->id, r);
}

int imgsync__sqlite_task_update(imgsync__store *base, const imgsync__task_rec *r)
{
    sqlite_store *s = (sqlite_store *)base;
    int mode, rc = tx_open(s, 1, &mode);
    return rc ? rc : tx_close(s, mode, task_update_tx(s, r));
}

static int task_get_tx(sqlite_store *s, uint64_t id, imgsync__task_rec *r)
{
    sqlite3_stmt *st = stmt(s, H_TASK_GET);
    bind_u64(st, 1, id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        rc = read_task(st, r) ? oom(s, "reading a task") : 0;
    else
        rc = rc == SQLITE_DONE ? not_found(s, "task", id) : imgsync__sqlite_fail(s, rc, "reading a task");
    sqlite3_reset(st);
    return rc ? rc : read_task_children(s, r);
}

int imgsync__sqlite_task_get(imgsync__store *base, uint64_t id, imgsync__task_rec *r)
{
    sqlite_store *s = (sqlite_store *)base;
    memset(r, 0, sizeof(*r)); /* cleared below on failure: never what the caller left there */
    int mode, rc = tx_open(s, 0, &mode);
    if (!rc)
        rc = tx_close(s, mode, task_get_tx(s, id, r));
    if (rc)
        imgsync__task_rec_clear(r);
    return rc;
}

static void free_tasks(imgsync__task_rec *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        imgsync__task_rec_clear(&v[i]);
    free(v);
}

/* The list statement for the filters, bound. */
static int list_statement(sqlite_store *s, int state, int trigger, size_t limit)
{
    int i = state < 0 ? (trigger < 0 ? H_LIST_ANY : H_LIST_TRIGGER) : (trigger < 0 ? H_LIST_STATE : H_LIST_BOTH);
    sqlite3_bind_int(stmt(s, i), 1, state);
    sqlite3_bind_int(stmt(s, i), 2, trigger);
    sqlite3_bind_int64(stmt(s, i), 3, limit && limit <= INT64_MAX ? (sqlite3_int64)limit : -1);
    return i;
}

/* Append the task at the current step of st to *v (*n of *cap), with its children. */
static int push_task(sqlite_store *s, sqlite3_stmt *st, imgsync__task_rec **v, size_t *n, size_t *cap)
{
    if (*n == *cap) {
        size_t want = *cap ? 2 * *cap : 8;
        imgsync__task_rec *grown = realloc(*v, want * sizeof(**v));
        if (!grown)
            return oom(s, "listing tasks");
        *v = grown;
        *cap = want;
    }
    imgsync__task_rec *r = &(*v)[(*n)++];
    if (read_task(st, r))
        return oom(s, "listing tasks");
    return read_task_children(s, r);
}

static int task_list_tx(sqlite_store *s, int state, int trigger, size_t limit, imgsync__task_rec **v, size_t *n)
{
    int i = list_statement(s, state, trigger, limit), rc, bad = 0;
    size_t cap = 0;
    while (!bad && (rc = sqlite3_step(stmt(s, i))) == SQLITE_ROW)
        bad = push_task(s, stmt(s, i), v, n, &cap);
    sqlite3_reset(stmt(s, i));
    if (bad)
        return bad;
    if (rc != SQLITE_DONE)
        return imgsync__sqlite_fail(s, rc, "listing tasks");
    if (!*v && !(*v = malloc(sizeof(**v)))) /* an array even when empty, like the memory store */
        return oom(s, "listing tasks");
    return 0;
}

int imgsync__sqlite_task_list(imgsync__store *base, int state, int trigger, size_t limit, imgsync__task_rec **out,
                              size_t *n)
{
    sqlite_store *s = (sqlite_store *)base;
    imgsync__task_rec *v = NULL;
    size_t m = 0;
    int mode, rc = tx_open(s, 0, &mode);
    if (!rc)
        rc = tx_close(s, mode, task_list_tx(s, state, trigger, limit, &v, &m));
    if (rc) {
        free_tasks(v, m);
        return rc;
    }
    *out = v;
    *n = m;
    return 0;
}

/* The ids prune removes, ascending, into *ids (malloc'd, NULL when none). */
static int prune_ids(sqlite_store *s, size_t keep, uint64_t **ids, size_t *n)
{
    sqlite3_stmt *st = stmt(s, H_PRUNE_IDS);
    size_t cap = 0;
    int rc;
    sqlite3_bind_int64(st, 1, keep <= INT64_MAX ? (sqlite3_int64)keep : -1);
    sqlite3_bind_int(st, 2, IMGSYNC_TASK_QUEUED);
    sqlite3_bind_int(st, 3, IMGSYNC_TASK_RUNNING);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == cap) {
            uint64_t *grown = realloc(*ids, (cap = cap ? 2 * cap : 16) * sizeof(**ids));
            if (!grown)
                break;
            *ids = grown;
        }
        (*ids)[(*n)++] = (uint64_t)sqlite3_column_int64(st, 0);
    }
    sqlite3_reset(st);
    if (rc == SQLITE_ROW)
        return oom(s, "pruning tasks");
    return rc == SQLITE_DONE ? 0 : imgsync__sqlite_fail(s, rc, "pruning tasks");
}

static int task_prune_tx(sqlite_store *s, size_t keep, uint64_t **ids, size_t *n)
{
    int rc = prune_ids(s, keep, ids, n);
    for (size_t i = 0; !rc && i < *n; i++) {
        rc = delete_children(s, (*ids)[i]);
        rc = rc ? rc : run_id(s, H_TASK_DELETE, (*ids)[i], "deleting a task");
    }
    return rc;
}

int imgsync__sqlite_task_prune(imgsync__store *base, size_t keep, uint64_t **ids, size_t *n)
{
    sqlite_store *s = (sqlite_store *)base;
    uint64_t *v = NULL;
    size_t m = 0;
    int mode, rc = tx_open(s, 1, &mode);
    if (!rc)
        rc = tx_close(s, mode, task_prune_tx(s, keep, &v, &m));
    if (rc) {
        free(v);
        v = NULL;
        m = 0;
    }
    *ids = v;
    *n = m;
    return rc;
}

/* ---- schedules ----------------------------------------------------------------------------- */

static int schedule_insert_tx(sqlite_store *s, const imgsync__schedule_rec *r, uint64_t *id)
{
    sqlite3_stmt *st = stmt(s, H_SCHED_INSERT);
    sqlite3_bind_int(st, 1, r->kind);
    sqlite3_bind_int(st, 2, r->hour);
    sqlite3_bind_int(st, 3, r->minute);
    sqlite3_bind_int64(st, 4, r->every_minutes);
    bind_str(st, 5, r->request);
    sqlite3_bind_int64(st, 6, r->created_ms);
    sqlite3_bind_int64(st, 7, r->next_ms);
    bind_u64(st, 8, r->last_task_id);
    int rc = step_done(s, H_SCHED_INSERT, "recording a schedule");
    sqlite3_clear_bindings(st);
    *id = (uint64_t)sqlite3_last_insert_rowid(s->db);
    return rc;
}

int imgsync__sqlite_schedule_insert(imgsync__store *base, imgsync__schedule_rec *r)
{
    sqlite_store *s = (sqlite_store *)base;
    uint64_t id = 0;
    int mode, rc = tx_open(s, 1, &mode);
    if (rc)
        return rc;
    rc = tx_close(s, mode, schedule_insert_tx(s, r, &id));
    if (!rc)
        r->id = id;
    return rc;
}

static int schedule_remove_tx(sqlite_store *s, uint64_t id)
{
    int rc = run_id(s, H_SCHED_DELETE, id, "removing a schedule");
    return !rc && sqlite3_changes(s->db) == 0 ? not_found(s, "schedule", id) : rc;
}

int imgsync__sqlite_schedule_remove(imgsync__store *base, uint64_t id)
{
    sqlite_store *s = (sqlite_store *)base;
    int mode, rc = tx_open(s, 1, &mode);
    return rc ? rc : tx_close(s, mode, schedule_remove_tx(s, id));
}

static int fill_schedule(sqlite3_stmt *st, void *elem)
{
    imgsync__schedule_rec *r = elem;
    int bad = 0;
    r->id = (uint64_t)sqlite3_column_int64(st, 0);
    r->kind = sqlite3_column_int(st, 1);
    r->hour = sqlite3_column_int(st, 2);
    r->minute = sqlite3_column_int(st, 3);
    r->every_minutes = (unsigned int)sqlite3_column_int64(st, 4);
    r->request = col_str(st, 5, &bad);
    r->created_ms = sqlite3_column_int64(st, 6);
    r->next_ms = sqlite3_column_int64(st, 7);
    r->last_task_id = (uint64_t)sqlite3_column_int64(st, 8);
    return bad;
}

static int schedule_list_tx(sqlite_store *s, imgsync__schedule_rec **out, size_t *n)
{
    void *v = NULL;
    int rc = read_array(s, H_SCHED_LIST, sizeof(**out), fill_schedule, "listing schedules", &v, n);
    if (!rc && !v && !(v = malloc(sizeof(**out)))) /* an array even when empty */
        rc = oom(s, "listing schedules");
    *out = v;
    return rc;
}

int imgsync__sqlite_schedule_list(imgsync__store *base, imgsync__schedule_rec **out, size_t *n)
{
    sqlite_store *s = (sqlite_store *)base;
    imgsync__schedule_rec *v = NULL;
    size_t m = 0;
    int mode, rc = tx_open(s, 0, &mode);
    if (!rc)
        rc = tx_close(s, mode, schedule_list_tx(s, &v, &m));
    if (rc) {
        for (size_t i = 0; i < m; i++)
            imgsync__schedule_rec_clear(&v[i]);
        free(v);
        return rc;
    }
    *out = v;
    *n = m;
    return 0;
}

/* The compare-and-set itself is the UPDATE's WHERE: of several connections claiming one due
 * time, only the first changes the row; the others find next_ms moved on and change nothing. */
static int schedule_claim_tx(sqlite_store *s, uint64_t id, int64_t due_ms, int64_t new_next_ms, uint64_t task_id,
                             int *claimed)
{
    sqlite3_stmt *st = stmt(s, H_SCHED_CLAIM);
    bind_u64(st, 1, id);
    sqlite3_bind_int64(st, 2, due_ms);
    sqlite3_bind_int64(st, 3, new_next_ms);
    bind_u64(st, 4, task_id);
    int rc = step_done(s, H_SCHED_CLAIM, "claiming a schedule");
    if (rc || (*claimed = sqlite3_changes(s->db) == 1))
        return rc;
    st = stmt(s, H_SCHED_EXISTS);
    bind_u64(st, 1, id);
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc == SQLITE_ROW)
        return 0;
    return rc == SQLITE_DONE ? not_found(s, "schedule", id) : imgsync__sqlite_fail(s, rc, "claiming a schedule");
}

int imgsync__sqlite_schedule_claim(imgsync__store *base, uint64_t id, int64_t due_ms, int64_t new_next_ms,
                                   uint64_t task_id, int *claimed)
{
    sqlite_store *s = (sqlite_store *)base;
    int mode, rc = tx_open(s, 1, &mode);
    *claimed = 0;
    if (!rc)
        rc = tx_close(s, mode, schedule_claim_tx(s, id, due_ms, new_next_ms, task_id, claimed));
    if (rc)
        *claimed = 0;
    return rc;
}
