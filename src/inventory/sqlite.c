/* SQLite inventory store ("sqlite:PATH"): one table of rows, a column per stored field of the
 * row field table, and the change feed's table. This file opens the file, migrates its schema and
 * prepares the statements; sqlite_write.c writes, sqlite_query.c reads through cursors. */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inventory/sqlite.h"
#include "util/buf.h"

/* The fields of schema 1 (those before first_seen_ms; the field table is append-only) and 2. */
#define V1_NFIELDS IMGSYNC__F_first_seen_ms
#define V2_NFIELDS (IMGSYNC__F_first_seen_ms + 1)
/* The page cache of the store's connection: negative = KiB (16 MiB, whatever the inventory's size). */
#define CACHE_SIZE "-16384"

int imgsync__sqlite_stored(int f) { return imgsync__fields[f].role != IMGSYNC__R_DERIVED; }

int imgsync__sqlite_fail_code(sqlite_store *s, int code, const char *what)
{
    snprintf(s->base.errmsg, sizeof(s->base.errmsg), "sqlite store: %s: %s", what,
             s->db ? sqlite3_errmsg(s->db) : "out of memory");
    return code;
}

/* Map a SQLite result to a library code (busy and every other failure: ESTORE). */
int imgsync__sqlite_fail(sqlite_store *s, int rc, const char *what)
{
    return imgsync__sqlite_fail_code(s, rc == SQLITE_NOMEM ? IMGSYNC_ENOMEM : IMGSYNC_ESTORE, what);
}

static int fail(sqlite_store *s, int code, const char *what) { return imgsync__sqlite_fail_code(s, code, what); }
static int sql_fail(sqlite_store *s, int rc, const char *what) { return imgsync__sqlite_fail(s, rc, what); }

int imgsync__sqlite_append_columns(imgsync__buf *b, int with_types, int nfields)
{
    int rc = imgsync__buf_appends(b, with_types ? "type INTEGER NOT NULL" : "type");
    for (int f = 0; !rc && f < nfields; f++) {
        if (!imgsync__sqlite_stored(f))
            continue;
        const char *type = imgsync__fields[f].kind == IMGSYNC__K_STRING ? " TEXT NOT NULL" : " INTEGER NOT NULL";
        rc = imgsync__buf_printf(b, ", \"%s\"%s", imgsync__fields[f].name, with_types ? type : "");
    }
    return rc;
}

static int exec(sqlite_store *s, const char *sql, const char *what)
{
    int rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? 0 : sql_fail(s, rc, what);
}

/* Run the SQL built in b (freed), or fail with ENOMEM when building it failed. */
static int exec_built(sqlite_store *s, imgsync__buf *b, int built_rc, const char *what)
{
    int rc = built_rc ? fail(s, IMGSYNC_ENOMEM, "schema") : exec(s, imgsync__buf_str(b), what);
    imgsync__buf_free(b);
    return rc;
}

/* Schema 0 -> 1: the rows table and its key. */
static int create_v1(sqlite_store *s)
{
    imgsync__buf b;
    imgsync__buf_init(&b);
    int rc = imgsync__buf_appends(&b, "CREATE TABLE rows (k_provider TEXT NOT NULL, k_partition TEXT NOT NULL, "
                                      "k_repository TEXT NOT NULL, k_key TEXT NOT NULL, ");
    if (!rc)
        rc = imgsync__sqlite_append_columns(&b, 1, V1_NFIELDS);
    /* the unique key's prefix (provider, partition, repository) also serves scope look-ups */
    if (!rc)
        rc = imgsync__buf_appends(&b, "); CREATE UNIQUE INDEX rows_key ON rows(k_provider, k_partition, "
                                      "k_repository, k_key);");
    return exec_built(s, &b, rc, "creating the schema");
}

/* Schema 1 -> 2: first_seen (existing rows: their last sync) and the change feed. No index
 * beyond the unique key: its prefix (provider, partition, repository) gives the cursor order
 * (SQLite sorts only each repository's rows by tag) and serves registry filters; type,
 * namespace, glob and updated-since filters are evaluated in SQL on that walk. Secondary
 * indexes on type, namespace and update time tripled the CPU of storing a new row (inserts at
 * random places: 30.8 instead of 11.6 us per image in `make bench-million` at 200,000). */
static const char v2_rows[] =
    "ALTER TABLE rows ADD COLUMN \"first_seen_ms\" INTEGER NOT NULL DEFAULT 0;"
    "UPDATE rows SET \"first_seen_ms\" = \"sync_ms\";";

/* The change feed: a changed row's key in columns (the cursor's order) and the rest in one
 * record (sqlite_record.c), which costs a fraction of a column per field to insert. */
static const char v2_changes[] =
    "CREATE TABLE changes (task_id INTEGER NOT NULL, kind INTEGER NOT NULL, k_provider TEXT NOT NULL, "
    "k_partition TEXT NOT NULL, k_repository TEXT NOT NULL, k_key TEXT NOT NULL, \"row\" BLOB NOT NULL);"
    "CREATE INDEX changes_task ON changes(task_id);";

static int migrate_v2(sqlite_store *s)
{
    int rc = exec(s, v2_rows, "adding first_seen and the query indexes");
    rc = rc ? rc : exec(s, v2_changes, "creating the change feed");
    return rc ? rc : imgsync__sqlite_history_schema(s); /* the task history and schedules */
}

/* Schema 2 -> 3: each repository (scope) gets a row of its own in `scopes` and an id, and the
 * rows are a WITHOUT ROWID table clustered on (scope id, row key). Ids are handed out in the
 * order scopes first get rows, so a first sync appends at the table's end instead of inserting
 * at a hundred places; a row no longer carries the scope's names, and pruning walks the scopes,
 * not every row. Schema 2 had a rowid table plus a unique key index on four text columns (two
 * B-trees, the key stored twice). The change feed becomes one row per scope a task changed,
 * instead of one per change (each insert costs SQLite more than encoding the scope's changes).
 * Callgrind, first sync of `make bench-million`: 60,500 -> 42,100 instructions per image (with
 * the emit fast path of the same day). */
static const char v3_scopes[] =
    "CREATE TABLE scopes (id INTEGER PRIMARY KEY, k_provider TEXT NOT NULL, k_partition TEXT NOT NULL, "
    "k_repository TEXT NOT NULL, k_namespace TEXT NOT NULL, UNIQUE (k_provider, k_partition, k_repository));"
    "INSERT INTO scopes (k_provider, k_partition, k_repository, k_namespace) "
    "SELECT k_provider, k_partition, k_repository, \"namespace\" FROM (SELECT k_provider, k_partition, "
    "k_repository, \"namespace\", MIN(k_key) FROM rows GROUP BY k_provider, k_partition, k_repository);";

static int migrate_v3_rows(sqlite_store *s)
{
    imgsync__buf b;
    imgsync__buf_init(&b);
    int rc = imgsync__buf_appends(&b, "CREATE TABLE rows_v3 (scope INTEGER NOT NULL, k_key TEXT NOT NULL, ") ||
             imgsync__sqlite_append_columns(&b, 1, V2_NFIELDS) ||
             imgsync__buf_appends(&b, ", PRIMARY KEY (" ROW_KEY ")) WITHOUT ROWID; INSERT INTO rows_v3 (" ROW_KEY ", ") ||
             imgsync__sqlite_append_columns(&b, 0, V2_NFIELDS) || imgsync__buf_appends(&b, ") SELECT scopes.id, k_key, ") ||
             imgsync__sqlite_append_columns(&b, 0, V2_NFIELDS) ||
             imgsync__buf_appends(&b, " FROM rows JOIN scopes USING (k_provider, k_partition, k_repository); "
                                      "DROP TABLE rows; ALTER TABLE rows_v3 RENAME TO rows;");
    return exec_built(s, &b, rc, "rebuilding the rows table");
}

/* The change feed: one row per scope a task changed, its changes in one record (sqlite_record.c),
 * sorted; a schema-2 change becomes a record of one entry (the cursor merges a scope's rows). A
 * rowid table with an index for the cursor's order: a record spans overflow pages, and SQLite
 * reads a cell's whole payload to compare it with a key of a clustered (WITHOUT ROWID) table,
 * which made every insert read other scopes' records back (2.6 times the file at 1,000,000). */
static const char v3_changes[] =
    "CREATE TABLE changes_v3 (id INTEGER PRIMARY KEY, task_id INTEGER NOT NULL, k_provider TEXT NOT NULL, "
    "k_partition TEXT NOT NULL, k_repository TEXT NOT NULL, \"changes\" BLOB NOT NULL);"
    "INSERT INTO changes_v3 SELECT rowid, task_id, k_provider, k_partition, k_repository, "
    "imgsync_change_entry(kind, \"row\") FROM changes;"
    "DROP TABLE changes; ALTER TABLE changes_v3 RENAME TO changes;"
    "CREATE INDEX changes_by_scope ON changes (task_id, k_provider, k_partition, k_repository, id);";

static int migrate_v3(sqlite_store *s)
{
    int rc = exec(s, v3_scopes, "listing the scopes");
    rc = rc ? rc : migrate_v3_rows(s);
    return rc ? rc : exec(s, v3_changes, "rebuilding the change feed");
}

/* The schema version, and a refusal of a file that has version 0 but tables of its own (another
 * program's database: a typo in the URI must not make it ours). One statement, so one snapshot:
 * a store another process is creating shows either no tables or its version. */
static int user_version(sqlite_store *s, int *v)
{
    sqlite3_stmt *st = NULL;
    int foreign = 0, rc = sqlite3_prepare_v2(s->db, "SELECT user_version, EXISTS (SELECT 1 FROM sqlite_master) "
                                                    "FROM pragma_user_version",
                                             -1, &st, NULL);
    if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        *v = sqlite3_column_int(st, 0);
        foreign = *v == 0 && sqlite3_column_int(st, 1);
        rc = SQLITE_OK;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_OK)
        return sql_fail(s, rc, "reading the schema version");
    if (foreign) {
        snprintf(s->base.errmsg, sizeof(s->base.errmsg),
                 "sqlite store: the database has tables but no store schema version: not an inventory store");
        return IMGSYNC_ESTORE;
    }
    return 0;
}

static int refuse_newer(sqlite_store *s, int v)
{
    snprintf(s->base.errmsg, sizeof(s->base.errmsg),
             "sqlite store: schema version %d is newer than this library's (%d): not opened", v, SCHEMA_VERSION);
    return IMGSYNC_EUNSUPPORTED;
}

/* Bring the schema from version `from` up to SCHEMA_VERSION, one step at a time. */
static int migrate_step(sqlite_store *s, int from)
{
    switch (from) {
    case 0: return create_v1(s);
    case 1: return migrate_v2(s);
    case 2: return migrate_v3(s);
    default: return fail(s, IMGSYNC_EINTERNAL, "no migration");
    }
}

static int migrate(sqlite_store *s)
{
    int v = 0, rc = exec(s, "BEGIN IMMEDIATE", "starting the migration");
    if (rc)
        return rc;
    /* read again under the write lock: another process may have migrated meanwhile */
    if (!(rc = user_version(s, &v)) && v > SCHEMA_VERSION)
        rc = refuse_newer(s, v);
    for (; !rc && v < SCHEMA_VERSION; v++)
        rc = migrate_step(s, v);
    char sql[64];
    snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", SCHEMA_VERSION);
    if (!rc && !(rc = exec(s, sql, "setting the schema version")))
        rc = exec(s, "COMMIT", "committing the migration");
    if (rc)
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

static int prepare(sqlite_store *s, int i, const char *sql)
{
    int rc = sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s->q[i], NULL);
    return rc == SQLITE_OK ? 0 : sql_fail(s, rc, "preparing a statement");
}

/* Prepare the SQL built in b (freed), or fail with ENOMEM when building it failed. */
static int prepare_built(sqlite_store *s, int i, imgsync__buf *b, int built_rc)
{
    int rc = built_rc ? fail(s, IMGSYNC_ENOMEM, "statement") : prepare(s, i, imgsync__buf_str(b));
    imgsync__buf_free(b);
    return rc;
}

/* SELECT <type, fields> FROM rows<tail> */
static int prepare_select(sqlite_store *s, int i, const char *tail)
{
    imgsync__buf b;
    imgsync__buf_init(&b);
    int rc = imgsync__buf_appends(&b, "SELECT ") || imgsync__sqlite_append_columns(&b, 0, IMGSYNC__NFIELDS) ||
             imgsync__buf_appends(&b, " FROM rows") || imgsync__buf_appends(&b, tail);
    return prepare_built(s, i, &b, rc);
}

/* ", ?" once per stored field (after the type's "?"). */
static int append_field_params(imgsync__buf *b)
{
    int rc = 0;
    for (int f = 0; !rc && f < IMGSYNC__NFIELDS; f++)
        if (imgsync__sqlite_stored(f))
            rc = imgsync__buf_appends(b, ", ?");
    return rc;
}

/* Insert a row (Q_INSERT), or (Q_UPSERT) overwrite every column of the row of its key. */
static int prepare_insert(sqlite_store *s, int i)
{
    imgsync__buf b;
    imgsync__buf_init(&b);
    int rc = imgsync__buf_appends(&b, "INSERT INTO rows(" ROW_KEY ", ") ||
             imgsync__sqlite_append_columns(&b, 0, IMGSYNC__NFIELDS) ||
             imgsync__buf_appends(&b, ") VALUES(?, ?, ?") || append_field_params(&b) || imgsync__buf_appends(&b, ")");
    if (!rc && i == Q_UPSERT)
        rc = imgsync__buf_appends(&b, " ON CONFLICT(" ROW_KEY ") DO UPDATE SET type = excluded.type");
    for (int f = 0; !rc && i == Q_UPSERT && f < IMGSYNC__NFIELDS; f++)
        if (imgsync__sqlite_stored(f))
            rc = imgsync__buf_printf(&b, ", \"%s\" = excluded.\"%s\"", imgsync__fields[f].name,
                                     imgsync__fields[f].name);
    return prepare_built(s, i, &b, rc);
}

#define SCOPE_WHERE " WHERE k_provider = ?1 AND k_partition = ?2 AND k_repository = ?3"
#define KEY_WHERE " WHERE scope = ?1 AND k_key = ?2"

/* The statements of the scopes table. */
static int prepare_scopes(sqlite_store *s)
{
    int rc = prepare(s, Q_SCOPE_ID, "SELECT id, k_namespace FROM scopes" SCOPE_WHERE);
    rc = rc ? rc
            : prepare(s, Q_SCOPE_NEW, "INSERT INTO scopes (k_provider, k_partition, k_repository, k_namespace) "
                                      "VALUES (?1, ?2, ?3, ?4)");
    rc = rc ? rc : prepare(s, Q_SCOPE_NS, "UPDATE scopes SET k_namespace = ?2 WHERE id = ?1");
    rc = rc ? rc : prepare(s, Q_SCOPE_DEL, "DELETE FROM scopes WHERE id = ?1");
    rc = rc ? rc : prepare(s, Q_SCOPES, "SELECT k_partition, k_repository, k_namespace FROM scopes WHERE k_provider = ?1");
    rc = rc ? rc
            : prepare(s, Q_DEL_PROVIDER, "DELETE FROM rows WHERE scope IN (SELECT id FROM scopes WHERE k_provider = ?1)");
    return rc ? rc : prepare(s, Q_DEL_PROVIDER_SCOPES, "DELETE FROM scopes WHERE k_provider = ?1");
}

static int prepare_all(sqlite_store *s)
{
    int rc = prepare_select(s, Q_SCOPE, " WHERE scope = ?1 ORDER BY k_key");
    rc = rc ? rc : prepare_insert(s, Q_UPSERT);
    rc = rc ? rc : prepare_insert(s, Q_INSERT);
    rc = rc ? rc
            : prepare(s, Q_CHANGE, "INSERT INTO changes(task_id, k_provider, k_partition, k_repository, "
                                   "\"changes\") VALUES(?1, ?2, ?3, ?4, ?5)");
    rc = rc ? rc : prepare(s, Q_TOUCH, "UPDATE rows SET \"sync_ms\" = ?3" KEY_WHERE);
    rc = rc ? rc : prepare(s, Q_TOUCH_SCOPE, "UPDATE rows SET \"sync_ms\" = ?2 WHERE scope = ?1 AND \"sync_ms\" <> ?2");
    rc = rc ? rc : prepare(s, Q_DEL_ROW, "DELETE FROM rows" KEY_WHERE);
    rc = rc ? rc : prepare_scopes(s);
    rc = rc ? rc : prepare(s, Q_COUNT, "SELECT COUNT(*) FROM rows");
    rc = rc ? rc : prepare(s, Q_FORGET, "DELETE FROM changes WHERE task_id = ?1");
    rc = rc ? rc : prepare(s, Q_BEGIN, "BEGIN IMMEDIATE");
    rc = rc ? rc : prepare(s, Q_COMMIT, "COMMIT");
    rc = rc ? rc : prepare(s, Q_ROLLBACK, "ROLLBACK");
    rc = rc ? rc : prepare(s, Q_SAVEPOINT, "SAVEPOINT imgsync_write");
    rc = rc ? rc : prepare(s, Q_RELEASE, "RELEASE imgsync_write");
    rc = rc ? rc : prepare(s, Q_ROLLBACK_TO, "ROLLBACK TO imgsync_write");
    return rc ? rc : imgsync__sqlite_history_prepare(s);
}

static void sqlite_close(imgsync__store *base)
{
    sqlite_store *s = (sqlite_store *)base;
    for (int i = 0; i < NQ; i++)
        sqlite3_finalize(s->q[i]);
    imgsync__sqlite_history_free(s);
    free(s->record.data);
    sqlite3_close(s->db); /* an open transaction is rolled back */
    free(s->path);
    free(s);
}

int imgsync__sqlite_run(sqlite_store *s, int i, const char *what)
{
    int rc = sqlite3_step(s->q[i]);
    sqlite3_reset(s->q[i]);
    return rc == SQLITE_DONE ? 0 : sql_fail(s, rc, what);
}

struct imgsync_image *imgsync__sqlite_read_row(sqlite3_stmt *st, int col)
{
    struct imgsync_image *im = imgsync__image_new("", "", "", sqlite3_column_int(st, col++));
    for (int f = 0; im && f < IMGSYNC__NFIELDS; f++) {
        if (!imgsync__sqlite_stored(f))
            continue;
        if (imgsync__fields[f].kind != IMGSYNC__K_STRING) {
            imgsync__image_set_int(im, f, sqlite3_column_int64(st, col++));
        } else if (imgsync__image_set_str(im, f, (const char *)sqlite3_column_text(st, col++))) {
            imgsync__image_unref(im);
            im = NULL;
        }
    }
    return im;
}

void imgsync__sqlite_free_rows(struct imgsync_image **rows, size_t n)
{
    for (size_t i = 0; i < n; i++)
        imgsync__image_unref(rows[i]);
    free(rows);
}

int imgsync__sqlite_read_rows(sqlite_store *s, int i, struct imgsync_image ***out, size_t *n)
{
    sqlite3_stmt *st = s->q[i];
    struct imgsync_image **rows = NULL;
    size_t m = 0, cap = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (m == cap) {
            cap = cap ? 2 * cap : 16;
            struct imgsync_image **grown = realloc(rows, cap * sizeof(*rows));
            if (!grown)
                break;
            rows = grown;
        }
        if (!(rows[m] = imgsync__sqlite_read_row(st, 0)))
            break;
        m++;
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        imgsync__sqlite_free_rows(rows, m);
        return rc == SQLITE_ROW ? fail(s, IMGSYNC_ENOMEM, "reading rows") : sql_fail(s, rc, "reading rows");
    }
    *out = rows;
    *n = m;
    return 0;
}

static size_t sqlite_count(const imgsync__store *base)
{
    const sqlite_store *s = (const sqlite_store *)base;
    sqlite3_stmt *st = s->q[Q_COUNT];
    size_t n = sqlite3_step(st) == SQLITE_ROW ? (size_t)sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    return n;
}

static const imgsync__store_ops sqlite_ops = {
    .close = sqlite_close,
    .replace = imgsync__sqlite_replace,
    .prune = imgsync__sqlite_prune,
    .drop_provider = imgsync__sqlite_drop_provider,
    .count = sqlite_count,
    .persistent = 1,
    /* v2: change feed and queries */
    .begin = imgsync__sqlite_begin,
    .commit = imgsync__sqlite_commit,
    .rollback = imgsync__sqlite_rollback,
    .set_change_task = imgsync__sqlite_set_change_task,
    .query = imgsync__sqlite_query,
    .changes = imgsync__sqlite_changes,
    .changes_forget = imgsync__sqlite_changes_forget,
    /* v2: tasks and schedules */
    .task_insert = imgsync__sqlite_task_insert,
    .task_update = imgsync__sqlite_task_update,
    .task_get = imgsync__sqlite_task_get,
    .task_list = imgsync__sqlite_task_list,
    .task_prune = imgsync__sqlite_task_prune,
    .schedule_insert = imgsync__sqlite_schedule_insert,
    .schedule_remove = imgsync__sqlite_schedule_remove,
    .schedule_list = imgsync__sqlite_schedule_list,
    .schedule_claim = imgsync__sqlite_schedule_claim,
};

/* Cursors open the file again later, by s->path: keep the absolute name SQLite resolved, so that
 * a relative path still names this file after the process changed its working directory. */
static int use_full_path(sqlite_store *s)
{
    const char *full = sqlite3_db_filename(s->db, "main");
    if (!full || !*full)
        return 0;
    char *copy = imgsync__strdup(full);
    if (!copy)
        return fail(s, IMGSYNC_ENOMEM, "opening");
    free(s->path);
    s->path = copy;
    return 0;
}

/* Open the file, check and migrate its schema, prepare the statements. */
static int sqlite_setup(sqlite_store *s, const char *path)
{
    if (!(s->path = imgsync__strdup(path)))
        return fail(s, IMGSYNC_ENOMEM, "opening");
    /* no SQLite mutex: the store lock already serializes every use of this connection */
    int v = 0, rc = sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK)
        return sql_fail(s, rc, "cannot open the database");
    if ((rc = use_full_path(s)) != 0)
        return rc;
    sqlite3_busy_timeout(s->db, BUSY_TIMEOUT_MS);
    if (sqlite3_db_readonly(s->db, "main") == 1)
        return fail(s, IMGSYNC_ESTORE, "the database is not writable");
    /* the version is checked before anything writes: a newer file is left as it is */
    if ((rc = user_version(s, &v)) != 0)
        return rc;
    if (v > SCHEMA_VERSION)
        return refuse_newer(s, v);
    rc = exec(s, "PRAGMA journal_mode=WAL", "setting the journal mode");
    /* WAL + NORMAL: a commit survives the process being killed at any moment (the WAL is
     * written before COMMIT returns); a power loss may lose the last commits, never corrupt the
     * file. FULL would add an fsync to every repository's commit. */
    if (!rc)
        rc = exec(s, "PRAGMA synchronous=NORMAL", "setting the sync mode");
    if (!rc) /* a fixed page cache (bytes, not rows): large scopes are read and written without misses */
        rc = exec(s, "PRAGMA cache_size=" CACHE_SIZE, "setting the cache size");
    if (!rc && v < SCHEMA_VERSION && imgsync__sqlite_register_migration_fn(s->db) != SQLITE_OK)
        rc = sql_fail(s, SQLITE_NOMEM, "preparing the migration");
    if (!rc && v < SCHEMA_VERSION)
        rc = migrate(s);
    return rc ? rc : prepare_all(s);
}

int imgsync__sqlite_open(imgsync__store **out, const char *path, char *msg, size_t len)
{
    sqlite_store *s = calloc(1, sizeof(*s));
    if (!s)
        return IMGSYNC_ENOMEM;
    s->base.ops = &sqlite_ops;
    int rc = sqlite_setup(s, path);
    if (rc) {
        if (msg && len)
            snprintf(msg, len, "%s", s->base.errmsg);
        sqlite_close(&s->base);
        return rc;
    }
    *out = &s->base;
    return 0;
}
