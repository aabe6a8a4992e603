/* Cursors of the SQLite store. Each opens its own read-only connection to the file, begins a
 * read transaction (a WAL snapshot: later commits are not visible) and steps one prepared SELECT
 * whose WHERE clause is built from the query with bound parameters, so that the filters run in
 * SQLite and the cursor holds one row at a time. It never touches the store again: any thread
 * may use it, one at a time. */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inventory/sqlite.h"
#include "util/buf.h"
#include "util/glob.h"

/* the scopes in their unique key's order (registry, partition, repository), each scope's rows by
 * their key's prefix: SQLite sorts only within a repository */
#define ORDER_COLUMNS "k_provider, k_partition, k_repository, \"tag\", \"digest\""
/* the rows with their scope's names (no column name is in both tables) */
#define ROWS_OF_SCOPES " FROM scopes JOIN rows ON rows.scope = scopes.id"

/* A change of the scope being given, and its place in the scope's records (ties keep it). */
typedef struct group_entry {
    sqlite_change_entry e;
    size_t ord;
} group_entry;

typedef struct sqlite_cursor {
    imgsync__cursor base;
    sqlite3 *db;
    sqlite3_stmt *st;
    int step;                  /* result of the last sqlite3_step: the row to give next, or the end */
    int changes;               /* a change cursor: task, scope and record per row */
    struct imgsync_image *row; /* the last row given (query cursor) */
    group_entry *group;        /* change cursor: the changes of one task's scope, decoded */
    size_t ngroup, cap, at;    /* ... how many, room, the next to give */
    uint64_t group_task;
} sqlite_cursor;

/* imgsync_glob(pattern, text): util/glob.h matching, byte for byte. */
static void glob_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    const char *pattern = (const char *)sqlite3_value_text(argv[0]);
    const char *text = (const char *)sqlite3_value_text(argv[1]);
    (void)argc;
    sqlite3_result_int(ctx, pattern && text && imgsync__glob_match(pattern, text));
}

static int cursor_fail(sqlite_cursor *c, int rc, const char *what)
{
    snprintf(c->base.errmsg, sizeof(c->base.errmsg), "sqlite cursor: %s: %s", what,
             c->db ? sqlite3_errmsg(c->db) : "out of memory");
    return rc == SQLITE_NOMEM ? IMGSYNC_ENOMEM : IMGSYNC_ESTORE;
}

/* Advance to the row after the one just given. */
static void advance(sqlite_cursor *c) { c->step = sqlite3_step(c->st); }

static void group_clear(sqlite_cursor *c)
{
    for (size_t i = c->at ? c->at - 1 : 0; i < c->ngroup; i++)
        imgsync__sqlite_change_entry_clear(&c->group[i].e);
    c->ngroup = c->at = 0;
}

/* Decode the current row's record, appending its changes to the group. */
static int group_add_record(sqlite_cursor *c)
{
    const void *blob = sqlite3_column_blob(c->st, 4);
    size_t len = (size_t)sqlite3_column_bytes(c->st, 4), pos = 0;
    if (!blob && len)
        return IMGSYNC_ENOMEM;
    while (pos < len) {
        if (c->ngroup == c->cap) {
            size_t cap = c->cap ? 2 * c->cap : 64;
            group_entry *grown = realloc(c->group, cap * sizeof(*grown));
            if (!grown)
                return IMGSYNC_ENOMEM;
            c->group = grown;
            c->cap = cap;
        }
        group_entry *g = &c->group[c->ngroup];
        int rc = imgsync__sqlite_change_decode(blob, len, &pos, &g->e);
        if (rc)
            return rc;
        g->ord = c->ngroup++;
    }
    return 0;
}

static int same_scope(sqlite3_stmt *st, uint64_t task, const char *const key[3])
{
    if ((uint64_t)sqlite3_column_int64(st, 0) != task)
        return 0;
    for (int i = 0; i < 3; i++) {
        const char *v = (const char *)sqlite3_column_text(st, i + 1);
        if (!v || strcmp(v, key[i]) != 0)
            return 0;
    }
    return 1;
}

static int group_cmp(const void *pa, const void *pb)
{
    const group_entry *a = pa, *b = pb;
    int c = imgsync__sqlite_change_cmp(a->e.row, b->e.row);
    return c ? c : (a->ord > b->ord) - (a->ord < b->ord);
}

/* Read the records of the next (task, scope): one normally (written sorted), several when a
 * task wrote the scope more than once (merged into the cursor's order). */
static int group_load(sqlite_cursor *c)
{
    char *key[3] = {NULL, NULL, NULL};
    int rc = 0, records = 0;
    c->group_task = (uint64_t)sqlite3_column_int64(c->st, 0);
    for (int i = 0; !rc && i < 3; i++) {
        const char *v = (const char *)sqlite3_column_text(c->st, i + 1);
        if (!v || !(key[i] = imgsync__strdup(v)))
            rc = IMGSYNC_ENOMEM;
    }
    while (!rc && c->step == SQLITE_ROW && same_scope(c->st, c->group_task, (const char *const *)key)) {
        rc = group_add_record(c);
        records++;
        if (!rc)
            advance(c);
    }
    for (int i = 0; i < 3; i++)
        free(key[i]);
    if (!rc && c->step != SQLITE_ROW && c->step != SQLITE_DONE)
        return cursor_fail(c, c->step, "reading");
    if (!rc && records > 1)
        qsort(c->group, c->ngroup, sizeof(*c->group), group_cmp);
    if (rc) {
        group_clear(c);
        snprintf(c->base.errmsg, sizeof(c->base.errmsg), "sqlite cursor: reading: %s",
                 rc == IMGSYNC_ENOMEM ? "out of memory" : "malformed change record");
    }
    return rc;
}

static int next_change(sqlite_cursor *c, imgsync__change_row *out)
{
    if (c->at && c->at < c->ngroup)
        imgsync__sqlite_change_entry_clear(&c->group[c->at - 1].e); /* given last time */
    while (c->at == c->ngroup) { /* a record of no change (another writer's): the next scope */
        group_clear(c);
        if (c->step == SQLITE_DONE)
            return 0;
        if (c->step != SQLITE_ROW)
            return cursor_fail(c, c->step, "reading");
        int rc = group_load(c);
        if (rc)
            return rc;
    }
    const sqlite_change_entry *e = &c->group[c->at++].e;
    *out = (imgsync__change_row){e->kind, c->group_task, e->row, e->old_digest, e->old_size};
    return 0;
}

static int cursor_next(imgsync__cursor *base, imgsync__change_row *out)
{
    sqlite_cursor *c = (sqlite_cursor *)base;
    *out = (imgsync__change_row){0, 0, NULL, "", -1};
    if (c->changes)
        return next_change(c, out);
    imgsync__image_unref(c->row);
    c->row = NULL;
    if (c->step == SQLITE_DONE)
        return 0;
    if (c->step != SQLITE_ROW)
        return cursor_fail(c, c->step, "reading");
    if (!(c->row = imgsync__sqlite_read_row(c->st, 0)))
        return cursor_fail(c, SQLITE_NOMEM, "reading");
    out->row = c->row;
    advance(c);
    return 0;
}

static void cursor_free(imgsync__cursor *base)
{
    sqlite_cursor *c = (sqlite_cursor *)base;
    imgsync__image_unref(c->row);
    group_clear(c);
    free(c->group);
    sqlite3_finalize(c->st);
    sqlite3_close(c->db); /* ends the read transaction */
    free(c);
}

/* A cursor with its own read-only connection to the store's file, inside a read transaction. */
static int cursor_open(sqlite_store *s, sqlite_cursor **out)
{
    sqlite_cursor *c = calloc(1, sizeof(*c));
    if (!c)
        return imgsync__sqlite_fail_code(s, IMGSYNC_ENOMEM, "opening a cursor");
    c->base.next = cursor_next;
    c->base.free = cursor_free;
    int rc = sqlite3_open_v2(s->path, &c->db, SQLITE_OPEN_READONLY, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_busy_timeout(c->db, BUSY_TIMEOUT_MS);
        rc = sqlite3_create_function_v2(c->db, "imgsync_glob", 2, SQLITE_UTF8 | SQLITE_DETERMINISTIC, NULL, glob_fn,
                                        NULL, NULL, NULL);
    }
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(c->db, "BEGIN", NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        snprintf(s->base.errmsg, sizeof(s->base.errmsg), "sqlite store: opening a cursor: %s",
                 c->db ? sqlite3_errmsg(c->db) : "out of memory");
        cursor_free(&c->base);
        return rc == SQLITE_NOMEM ? IMGSYNC_ENOMEM : IMGSYNC_ESTORE;
    }
    *out = c;
    return 0;
}

/* ---- the WHERE clause of a query --------------------------------------------------------- */

typedef struct param {
    const char *text; /* NULL: the number */
    int64_t num;
} param;

typedef struct where {
    imgsync__buf sql;
    param *v;
    size_t n, cap;
    int oom;
} where;

static void w_sql(where *w, const char *sql) { w->oom |= imgsync__buf_appends(&w->sql, sql) != 0; }

static void w_param(where *w, const char *text, int64_t num)
{
    if (w->n == w->cap) {
        size_t cap = w->cap ? 2 * w->cap : 16;
        param *grown = realloc(w->v, cap * sizeof(*grown));
        if (!grown) {
            w->oom = 1;
            return;
        }
        w->v = grown;
        w->cap = cap;
    }
    w->v[w->n++] = (param){text, num};
    w_sql(w, "?");
}

/* " AND <column> IN (?, ...)" over strings or numbers (none: nothing). */
static void w_in_texts(where *w, const char *column, const char *const *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        w_sql(w, i ? ", " : " AND ");
        if (!i) {
            w_sql(w, column);
            w_sql(w, " IN (");
        }
        w_param(w, v[i], 0);
    }
    if (n)
        w_sql(w, ")");
}

static void w_in_ints(where *w, const char *column, const int *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        w_sql(w, i ? ", " : " AND ");
        if (!i) {
            w_sql(w, column);
            w_sql(w, " IN (");
        }
        w_param(w, NULL, v[i]);
    }
    if (n)
        w_sql(w, ")");
}

/* One term of an OR: the i-th of the caller's list. */
typedef void (*w_term_fn)(where *w, const void *ud, size_t i);

/* Terms lo..hi-1 (hi > lo) joined by OR as a balanced tree: SQLite refuses an expression deeper
 * than 1000, and a chain of n ORs is n deep (a request may name thousands of repositories). */
static void w_or(where *w, w_term_fn term, const void *ud, size_t lo, size_t hi)
{
    if (hi - lo == 1) {
        term(w, ud, lo);
        return;
    }
    size_t mid = lo + (hi - lo) / 2;
    w_sql(w, "(");
    w_or(w, term, ud, lo, mid);
    w_sql(w, " OR ");
    w_or(w, term, ud, mid, hi);
    w_sql(w, ")");
}

static void w_repo_term(where *w, const void *ud, size_t i)
{
    const imgsync__query_repo *r = &((const imgsync__query *)ud)->repos[i];
    w_sql(w, "(k_provider = ");
    w_param(w, r->provider, 0);
    w_sql(w, " AND \"repository\" = ");
    w_param(w, r->repository, 0);
    w_sql(w, ")");
}

/* The repos rule: a registry not named by any entry, or one of the entries itself. */
static void w_repos(where *w, const imgsync__query *q)
{
    if (!q->nrepos)
        return;
    w_sql(w, " AND (k_provider NOT IN (");
    for (size_t i = 0; i < q->nrepos; i++) {
        w_sql(w, i ? ", " : "");
        w_param(w, q->repos[i].provider, 0);
    }
    w_sql(w, ") OR ");
    w_or(w, w_repo_term, q, 0, q->nrepos);
    w_sql(w, ")");
}

/* The globs of one field and mode, for w_glob_term. */
typedef struct glob_list {
    const imgsync__query_glob **v;
    size_t n;
    const char *column;
} glob_list;

static void w_glob_term(where *w, const void *ud, size_t i)
{
    const glob_list *l = ud;
    w_sql(w, "imgsync_glob(");
    w_param(w, l->v[i]->pattern, 0);
    w_sql(w, ", ");
    w_sql(w, l->column);
    w_sql(w, ")");
}

/* " AND <prefix>(glob OR ...)" over the globs of `field` with `mode` (none: nothing). */
static void w_globs_mode(where *w, const imgsync__query *q, int field, int mode, const char *prefix)
{
    char column[64];
    snprintf(column, sizeof(column), "\"%s\"", imgsync__fields[imgsync__query_glob_column(field)].name);
    glob_list l = {malloc((q->nglobs + 1) * sizeof(*l.v)), 0, column};
    if (!l.v) {
        w->oom = 1;
        return;
    }
    for (size_t i = 0; i < q->nglobs; i++)
        if (q->globs[i].field == field && q->globs[i].mode == mode)
            l.v[l.n++] = &q->globs[i];
    if (l.n) {
        w_sql(w, prefix);
        w_or(w, w_glob_term, &l, 0, l.n);
    }
    free(l.v);
}

/* The globs of one filter field: some include matches (when there is one), no exclude does. */
static void w_globs_field(where *w, const imgsync__query *q, int field)
{
    w_globs_mode(w, q, field, IMGSYNC_INCLUDE, " AND ");
    w_globs_mode(w, q, field, IMGSYNC_EXCLUDE, " AND NOT ");
}

static void w_query(where *w, const imgsync__query *q)
{
    static const int fields[] = {IMGSYNC_FILTER_NAMESPACE, IMGSYNC_FILTER_REPOSITORY, IMGSYNC_FILTER_TAG};
    w_sql(w, " WHERE 1");
    if (!q)
        return;
    w_in_texts(w, "k_provider", q->providers, q->nproviders);
    w_in_ints(w, "type", q->types, q->ntypes);
    w_repos(w, q);
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
        w_globs_field(w, q, fields[i]);
    if (q->updated_since > 0) {
        w_sql(w, " AND \"update_ms\" >= ");
        w_param(w, NULL, q->updated_since);
    }
}

/* Prepare the cursor's SELECT and bind its parameters (copied: the query may go). */
static int cursor_prepare(sqlite_cursor *c, const where *w)
{
    int rc = sqlite3_prepare_v2(c->db, imgsync__buf_str(&w->sql), -1, &c->st, NULL);
    for (size_t i = 0; rc == SQLITE_OK && i < w->n; i++) {
        int p = (int)i + 1;
        rc = w->v[i].text ? sqlite3_bind_text(c->st, p, w->v[i].text, -1, SQLITE_TRANSIENT)
                          : sqlite3_bind_int64(c->st, p, w->v[i].num);
    }
    return rc;
}

/* Open a cursor on the SELECT in w: the first step takes the read snapshot. */
static int cursor_start(sqlite_store *s, const where *w, int changes, imgsync__cursor **out)
{
    if (w->oom)
        return imgsync__sqlite_fail_code(s, IMGSYNC_ENOMEM, "building a query");
    sqlite_cursor *c = NULL;
    int rc = cursor_open(s, &c);
    if (rc)
        return rc;
    c->changes = changes;
    if ((rc = cursor_prepare(c, w)) == SQLITE_OK)
        advance(c);
    if (rc != SQLITE_OK || (c->step != SQLITE_ROW && c->step != SQLITE_DONE)) {
        snprintf(s->base.errmsg, sizeof(s->base.errmsg), "sqlite store: querying: %s", sqlite3_errmsg(c->db));
        rc = rc == SQLITE_OK ? c->step : rc;
        cursor_free(&c->base);
        return rc == SQLITE_NOMEM ? IMGSYNC_ENOMEM : IMGSYNC_ESTORE;
    }
    *out = &c->base;
    return 0;
}

static void where_free(where *w)
{
    imgsync__buf_free(&w->sql);
    free(w->v);
}

int imgsync__sqlite_query(imgsync__store *base, const imgsync__query *q, imgsync__cursor **out)
{
    where w = {.oom = 0};
    imgsync__buf_init(&w.sql);
    w_sql(&w, "SELECT ");
    w.oom |= imgsync__sqlite_append_columns(&w.sql, 0, IMGSYNC__NFIELDS) != 0;
    w_sql(&w, ROWS_OF_SCOPES);
    w_query(&w, q);
    w_sql(&w, " ORDER BY " ORDER_COLUMNS);
    int rc = cursor_start((sqlite_store *)base, &w, 0, out);
    where_free(&w);
    return rc;
}

int imgsync__sqlite_changes(imgsync__store *base, uint64_t task_id, int since, imgsync__cursor **out)
{
    where w = {.oom = 0};
    imgsync__buf_init(&w.sql);
    w_sql(&w, "SELECT task_id, k_provider, k_partition, k_repository, \"changes\"");
    w_sql(&w, since ? " FROM changes WHERE task_id > " : " FROM changes WHERE task_id = ");
    w_param(&w, NULL, (int64_t)task_id);
    /* the table's key order: each record is sorted, several of one scope are merged */
    w_sql(&w, " ORDER BY task_id, k_provider, k_partition, k_repository, id");
    int rc = cursor_start((sqlite_store *)base, &w, 1, out);
    where_free(&w);
    return rc;
}
