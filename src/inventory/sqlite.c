/* SQLite inventory store ("sqlite:PATH"): one table of rows, a column per stored field of the
 * row field table. Every change of a scope is the memory store's merge (store.c) applied to the
 * scope's rows as read from the file, written back in the same transaction. */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inventory/sqlite.h"
#include "util/buf.h"


/* Key columns first (the memory store's key: provider, partition, repository, row key). */
#define KEY_COLUMNS "k_provider, k_partition, k_repository, k_key"

/* Fields with storage of their own (derived ones are computed from the type). */
static int stored(int f) { return imgsync__fields[f].role != IMGSYNC__R_DERIVED; }

static int fail(sqlite_store *s, int code, const char *what)
{
    snprintf(s->base.errmsg, sizeof(s->base.errmsg), "sqlite store: %s: %s", what,
             s->db ? sqlite3_errmsg(s->db) : "out of memory");
    return code;
}

/* Map a SQLite result to a library code (busy and every other failure: ESTORE). */
static int sql_fail(sqlite_store *s, int rc, const char *what)
{
    return fail(s, rc == SQLITE_NOMEM ? IMGSYNC_ENOMEM : IMGSYNC_ESTORE, what);
}

int imgsync__sqlite_fail(sqlite_store *s, int rc, const char *what) { return sql_fail(s, rc, what); }

/* "type", then every stored field, each `"name"` plus `suffix` ("" or a column type). */
static int append_columns(imgsync__buf *b, int with_types)
{
    int rc = imgsync__buf_appends(b, with_types ? "type INTEGER NOT NULL" : "type");
    for (int f = 0; !rc && f < IMGSYNC__NFIELDS; f++) {
        if (!stored(f))
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

/* Schema 0 -> 1: the rows table and its key. */
static int create_v1(sqlite_store *s)
{
    imgsync__buf b;
    imgsync__buf_init(&b);
    int rc = imgsync__buf_appends(&b, "CREATE TABLE rows (k_provider TEXT NOT NULL, k_partition TEXT NOT NULL, "
                                      "k_repository TEXT NOT NULL, k_key TEXT NOT NULL, ");
    if (!rc)
        rc = append_columns(&b, 1);
    /* the unique key's prefix (provider, partition, repository) also serves scope look-ups */
    if (!rc)
        rc = imgsync__buf_appends(&b, "); CREATE UNIQUE INDEX rows_key ON rows(" KEY_COLUMNS ");");
    rc = rc ? fail(s, IMGSYNC_ENOMEM, "schema") : exec(s, imgsync__buf_str(&b), "creating the schema");
    imgsync__buf_free(&b);
    return rc ? rc : imgsync__sqlite_history_schema(s);
}

static int user_version(sqlite_store *s, int *v)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL);
    if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        *v = sqlite3_column_int(st, 0);
        rc = SQLITE_OK;
    }
    sqlite3_finalize(st);
    return rc == SQLITE_OK ? 0 : sql_fail(s, rc, "reading the schema version");
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

/* SELECT <type, fields> FROM rows<tail> */
static int prepare_select(sqlite_store *s, int i, const char *tail)
{
    imgsync__buf b;
    imgsync__buf_init(&b);
    int rc = imgsync__buf_appends(&b, "SELECT ") || append_columns(&b, 0) || imgsync__buf_appends(&b, " FROM rows") ||
             imgsync__buf_appends(&b, tail);
    rc = rc ? fail(s, IMGSYNC_ENOMEM, "statement") : prepare(s, i, imgsync__buf_str(&b));
    imgsync__buf_free(&b);
    return rc;
}

static int prepare_insert(sqlite_store *s)
{
    imgsync__buf b;
    imgsync__buf_init(&b);
    int rc = imgsync__buf_appends(&b, "INSERT INTO rows(" KEY_COLUMNS ", ") || append_columns(&b, 0) ||
             imgsync__buf_appends(&b, ") VALUES(?, ?, ?, ?, ?");
    for (int f = 0; !rc && f < IMGSYNC__NFIELDS; f++)
        if (stored(f))
            rc = imgsync__buf_appends(&b, ", ?");
    rc = rc || imgsync__buf_appends(&b, ")");
    rc = rc ? fail(s, IMGSYNC_ENOMEM, "statement") : prepare(s, Q_INSERT, imgsync__buf_str(&b));
    imgsync__buf_free(&b);
    return rc;
}

#define SCOPE_WHERE " WHERE k_provider = ?1 AND k_partition = ?2 AND k_repository = ?3"

static int prepare_all(sqlite_store *s)
{
    int rc = prepare_select(s, Q_SCOPE, SCOPE_WHERE " ORDER BY rowid");
    rc = rc ? rc : prepare_select(s, Q_ALL, "");
    rc = rc ? rc : prepare_insert(s);
    rc = rc ? rc : prepare(s, Q_DEL_SCOPE, "DELETE FROM rows" SCOPE_WHERE);
    /* a scope's namespace is that of its first row, as in the memory store */
    rc = rc ? rc
            : prepare(s, Q_SCOPES, "SELECT k_partition, k_repository, \"namespace\", MIN(rowid) FROM rows "
                                   "WHERE k_provider = ?1 GROUP BY k_partition, k_repository");
    rc = rc ? rc : prepare(s, Q_DEL_PROVIDER, "DELETE FROM rows WHERE k_provider = ?1");
    rc = rc ? rc : prepare(s, Q_COUNT, "SELECT COUNT(*) FROM rows");
    rc = rc ? rc : prepare(s, Q_BEGIN, "BEGIN IMMEDIATE");
    rc = rc ? rc : prepare(s, Q_COMMIT, "COMMIT");
    rc = rc ? rc : prepare(s, Q_ROLLBACK, "ROLLBACK");
    return rc ? rc : imgsync__sqlite_history_prepare(s);
}

static void sqlite_close(imgsync__store *base)
{
    sqlite_store *s = (sqlite_store *)base;
    for (int i = 0; i < NQ; i++)
        sqlite3_finalize(s->q[i]);
    imgsync__sqlite_history_free(s);
    sqlite3_close(s->db);
    free(s);
}

/* Run a statement that returns no row; it is reset either way. */
static int run(sqlite_store *s, int i, const char *what)
{
    int rc = sqlite3_step(s->q[i]);
    sqlite3_reset(s->q[i]);
    return rc == SQLITE_DONE ? 0 : sql_fail(s, rc, what);
}

static void bind_scope(sqlite_store *s, int i, const char *provider, const char *partition, const char *repository)
{
    sqlite3_bind_text(s->q[i], 1, provider, -1, SQLITE_STATIC);
    sqlite3_bind_text(s->q[i], 2, partition ? partition : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(s->q[i], 3, repository, -1, SQLITE_STATIC);
}

/* The row at the current step of a SELECT of prepare_select. NULL on ENOMEM. */
static struct imgsync_image *read_row(sqlite3_stmt *st)
{
    struct imgsync_image *im = imgsync__image_new("", "", "", sqlite3_column_int(st, 0));
    int col = 1;
    for (int f = 0; im && f < IMGSYNC__NFIELDS; f++) {
        if (!stored(f))
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

static void free_rows(struct imgsync_image **rows, size_t n)
{
    for (size_t i = 0; i < n; i++)
        imgsync__image_unref(rows[i]);
    free(rows);
}

/* Every row a bound SELECT gives, into *out (malloc'd, *n rows). The statement is reset. */
static int read_rows(sqlite_store *s, int i, struct imgsync_image ***out, size_t *n)
{
    struct imgsync_image **rows = NULL;
    size_t m = 0, cap = 0;
    int rc;
    while ((rc = sqlite3_step(s->q[i])) == SQLITE_ROW) {
        if (m == cap) {
            cap = cap ? 2 * cap : 16;
            struct imgsync_image **grown = realloc(rows, cap * sizeof(*rows));
            if (!grown)
                break;
            rows = grown;
        }
        if (!(rows[m] = read_row(s->q[i])))
            break;
        m++;
    }
    sqlite3_reset(s->q[i]);
    if (rc != SQLITE_DONE) {
        free_rows(rows, m);
        return rc == SQLITE_ROW ? fail(s, IMGSYNC_ENOMEM, "reading rows") : sql_fail(s, rc, "reading rows");
    }
    *out = rows;
    *n = m;
    return 0;
}

static int insert_row(sqlite_store *s, const char *provider, const char *partition, const char *repository,
                      const struct imgsync_image *im)
{
    sqlite3_stmt *st = s->q[Q_INSERT];
    char *key = imgsync__image_key(im);
    if (!key)
        return fail(s, IMGSYNC_ENOMEM, "inserting a row");
    bind_scope(s, Q_INSERT, provider, partition, repository);
    sqlite3_bind_text(st, 4, key, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 5, im->type);
    int col = 6;
    for (int f = 0; f < IMGSYNC__NFIELDS; f++) {
        if (!stored(f))
            continue;
        if (imgsync__fields[f].kind == IMGSYNC__K_STRING)
            sqlite3_bind_text(st, col++, im->v[f].s, -1, SQLITE_STATIC);
        else
            sqlite3_bind_int64(st, col++, im->v[f].i);
    }
    int rc = run(s, Q_INSERT, "inserting a row");
    free(key);
    return rc;
}

/* replace() inside an open transaction; the changes are added to *delta. */
static int replace_in_tx(sqlite_store *s, const char *provider, const char *partition, const char *repository,
                         struct imgsync_image **rows, size_t n, const imgsync__selector *sel,
                         imgsync__store_counts *delta)
{
    struct imgsync_image **old = NULL, **merged = NULL;
    size_t old_n = 0, m = 0;
    bind_scope(s, Q_SCOPE, provider, partition, repository);
    int rc = read_rows(s, Q_SCOPE, &old, &old_n);
    if (!rc && imgsync__store_merge(old, old_n, rows, n, sel, &merged, &m, delta))
        rc = fail(s, IMGSYNC_ENOMEM, "merging rows");
    if (!rc) {
        bind_scope(s, Q_DEL_SCOPE, provider, partition, repository);
        rc = run(s, Q_DEL_SCOPE, "deleting a repository's rows");
    }
    for (size_t i = 0; !rc && i < m; i++)
        rc = insert_row(s, provider, partition, repository, merged[i]);
    free_rows(old, old_n);
    free_rows(merged, m);
    return rc;
}

/* End the transaction: commit when rc is 0 (then add delta to *c), else roll back. */
static int finish(sqlite_store *s, int rc, const imgsync__store_counts *delta, imgsync__store_counts *c)
{
    if (!rc)
        rc = run(s, Q_COMMIT, "committing");
    if (rc) {
        run(s, Q_ROLLBACK, "rolling back");
        return rc;
    }
    if (c) {
        c->added += delta->added;
        c->updated += delta->updated;
        c->removed += delta->removed;
    }
    return 0;
}

static int sqlite_replace(imgsync__store *base, const char *provider, const char *partition, const char *repository,
                          struct imgsync_image **rows, size_t n, const imgsync__selector *sel,
                          imgsync__store_counts *c)
{
    sqlite_store *s = (sqlite_store *)base;
    imgsync__store_counts delta = {0, 0, 0};
    int rc = run(s, Q_BEGIN, "starting a transaction");
    if (rc)
        return rc;
    rc = replace_in_tx(s, provider, partition, repository, rows, n, sel, &delta);
    return finish(s, rc, &delta, c);
}

typedef struct scope_ref {
    char *partition, *repository;
} scope_ref;

static void free_scopes(scope_ref *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(v[i].partition);
        free(v[i].repository);
    }
    free(v);
}

/* Append a copy of (partition, repository) to v[0..*n). 0 or ENOMEM (v unchanged). */
static int push_scope(scope_ref **v, size_t *n, const char *partition, const char *repository)
{
    scope_ref *grown = realloc(*v, (*n + 1) * sizeof(**v));
    if (!grown)
        return IMGSYNC_ENOMEM;
    *v = grown;
    scope_ref r = {imgsync__strdup(partition), imgsync__strdup(repository)};
    if (!r.partition || !r.repository) {
        free(r.partition);
        free(r.repository);
        return IMGSYNC_ENOMEM;
    }
    grown[(*n)++] = r;
    return 0;
}

/* The provider's scopes that have vanished, all read before any is changed. */
static int vanished_scopes(sqlite_store *s, const char *provider, const imgsync__map *seen,
                           const imgsync__map *failed_parts, const imgsync__map *failed_ns,
                           const imgsync__selector *sel, scope_ref **out, size_t *n)
{
    sqlite3_stmt *st = s->q[Q_SCOPES];
    scope_ref *v = NULL;
    size_t m = 0;
    int rc = SQLITE_OK, oom = 0;
    sqlite3_bind_text(st, 1, provider, -1, SQLITE_STATIC);
    while (!oom && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *part = (const char *)sqlite3_column_text(st, 0);
        const char *repo = (const char *)sqlite3_column_text(st, 1);
        const char *ns = (const char *)sqlite3_column_text(st, 2);
        if (!part || !repo || !ns)
            oom = 1; /* the columns are NOT NULL: only a failed conversion gives NULL */
        else if (imgsync__scope_vanished(provider, part, repo, ns, seen, failed_parts, failed_ns, sel, &oom))
            oom = push_scope(&v, &m, part, repo) != 0;
    }
    sqlite3_reset(st);
    if (oom || rc != SQLITE_DONE) {
        free_scopes(v, m);
        return oom ? fail(s, IMGSYNC_ENOMEM, "reading scopes") : sql_fail(s, rc, "reading scopes");
    }
    *out = v;
    *n = m;
    return 0;
}

static int sqlite_prune(imgsync__store *base, const char *provider, const imgsync__map *seen,
                        const imgsync__map *failed_parts, const imgsync__map *failed_ns, const imgsync__selector *sel,
                        imgsync__store_counts *c)
{
    sqlite_store *s = (sqlite_store *)base;
    imgsync__store_counts delta = {0, 0, 0};
    scope_ref *gone = NULL;
    size_t n = 0;
    int rc = run(s, Q_BEGIN, "starting a transaction");
    if (rc)
        return rc;
    rc = vanished_scopes(s, provider, seen, failed_parts, failed_ns, sel, &gone, &n);
    for (size_t i = 0; !rc && i < n; i++)
        rc = replace_in_tx(s, provider, gone[i].partition, gone[i].repository, NULL, 0, sel, &delta);
    free_scopes(gone, n);
    return finish(s, rc, &delta, c);
}

static void sqlite_drop_provider(imgsync__store *base, const char *provider)
{
    sqlite_store *s = (sqlite_store *)base;
    sqlite3_bind_text(s->q[Q_DEL_PROVIDER], 1, provider, -1, SQLITE_STATIC);
    run(s, Q_DEL_PROVIDER, "deleting a provider's rows"); /* the message stays in errmsg */
}

static int sqlite_snapshot(imgsync__store *base, struct imgsync_image ***out, size_t *n)
{
    sqlite_store *s = (sqlite_store *)base;
    int rc = read_rows(s, Q_ALL, out, n);
    if (!rc && !*out && !(*out = malloc(sizeof(**out)))) /* callers expect an array even when empty */
        rc = fail(s, IMGSYNC_ENOMEM, "snapshot");
    if (!rc)
        qsort(*out, *n, sizeof(**out), imgsync__image_cmp); /* the memory store's order, byte for byte */
    return rc;
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
    .replace = sqlite_replace,
    .prune = sqlite_prune,
    .drop_provider = sqlite_drop_provider,
    .snapshot = sqlite_snapshot,
    .count = sqlite_count,
    .persistent = 1,
    /* v2: change feed and queries */
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

/* Open the file, check and migrate its schema, prepare the statements. */
static int sqlite_setup(sqlite_store *s, const char *path)
{
    int v = 0, rc = sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
    if (rc != SQLITE_OK)
        return sql_fail(s, rc, "cannot open the database");
    sqlite3_busy_timeout(s->db, BUSY_TIMEOUT_MS);
    if (sqlite3_db_readonly(s->db, "main") == 1)
        return fail(s, IMGSYNC_ESTORE, "the database is not writable");
    /* the version is checked before anything writes: a newer file is left as it is */
    if ((rc = user_version(s, &v)) != 0)
        return rc;
    if (v > SCHEMA_VERSION)
        return refuse_newer(s, v);
    rc = exec(s, "PRAGMA journal_mode=WAL", "setting the journal mode");
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
