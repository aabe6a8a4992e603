/* Writes of the SQLite store. A replace reads the scope's rows, diffs them against the new rows
 * (store.c, as the memory store does) and writes only the difference: a new or changed row is
 * upserted, a gone one deleted, an unchanged one gets its sync time; each change is recorded in
 * the change feed in the same transaction. */
#include <limits.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "inventory/sqlite.h"
#include "util/buf.h"

/* A change waiting for the scope's record: rows of the replace's caller or the scope's old rows,
 * alive until the replace ends. */
typedef struct pending_change {
    const struct imgsync_image *row;
    const char *old_digest;
    int64_t old_size;
    int kind;
    size_t ord; /* the order of recording: two changes of one key keep it */
} pending_change;

/* A scope being written: where the diff callbacks write. When every new row has the same sync
 * time (`uniform`, as the core commits a scope) and no stored row is kept unselected, the
 * unchanged rows get their sync time from one UPDATE of the scope at the end (`touch_scope`)
 * rather than one statement each. The changes are recorded at the end too, as one record. */
typedef struct scope_write {
    sqlite_store *s;
    const char *provider, *partition, *repository;
    int64_t id; /* the scope's id in table scopes; 0 while it has none */
    const struct imgsync_image *first; /* the scope's row with the smallest key after the write */
    int uniform, kept, touch_scope;
    int64_t sync_ms;
    pending_change *changes;
    size_t nchanges, cap;
} scope_write;

/* A row's key for binding: buf holds "@digest" of an untagged row, heap one too long for it. */
typedef struct key_tmp {
    char buf[IMGSYNC__KEY_BUF];
    char *heap;
} key_tmp;

/* Bind (scope id, key) at parameters 1 and 2; the key may live in *k: free k->heap after the
 * statement ran. 0 or ENOMEM. */
static int bind_key(const scope_write *w, sqlite3_stmt *st, const struct imgsync_image *im, key_tmp *k)
{
    const char *key = imgsync__image_key_tmp(im, k->buf, sizeof(k->buf), &k->heap);
    if (!key)
        return imgsync__sqlite_fail_code(w->s, IMGSYNC_ENOMEM, "writing a row");
    sqlite3_bind_int64(st, 1, w->id);
    sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
    return 0;
}

/* The first parameter after a row's key. */
#define AFTER_KEY 3

/* Bind the type and every stored field from parameter `first` on; returns the next one. */
static int bind_fields(sqlite3_stmt *st, int first, const struct imgsync_image *im)
{
    int col = first;
    sqlite3_bind_int(st, col++, im->type);
    for (int f = 0; f < IMGSYNC__NFIELDS; f++) {
        if (!imgsync__sqlite_stored(f))
            continue;
        if (imgsync__fields[f].kind == IMGSYNC__K_STRING)
            sqlite3_bind_text(st, col++, im->v[f].s, -1, SQLITE_STATIC);
        else
            sqlite3_bind_int64(st, col++, im->v[f].i);
    }
    return col;
}

/* Run q[i] with the row's key bound (and whatever the caller bound besides). */
static int run_keyed(const scope_write *w, int i, const struct imgsync_image *im, const char *what)
{
    key_tmp k;
    int rc = bind_key(w, w->s->q[i], im, &k);
    if (!rc)
        rc = imgsync__sqlite_run(w->s, i, what);
    free(k.heap);
    return rc;
}

/* Note one change of the current change task (none under task 0) for the scope's record. */
static int record(scope_write *w, int kind, const struct imgsync_image *row, const struct imgsync_image *prev)
{
    if (!w->s->change_task)
        return 0;
    if (w->nchanges == w->cap) {
        size_t cap = w->cap ? 2 * w->cap : 64;
        pending_change *grown = realloc(w->changes, cap * sizeof(*grown));
        if (!grown)
            return imgsync__sqlite_fail_code(w->s, IMGSYNC_ENOMEM, "recording a change");
        w->changes = grown;
        w->cap = cap;
    }
    w->changes[w->nchanges] = (pending_change){row, prev ? prev->v[IMGSYNC__F_digest].s : "",
                                               prev ? prev->v[IMGSYNC__F_size].i : -1, kind, w->nchanges};
    w->nchanges++;
    return 0;
}

/* The change record's buffer is kept between scopes up to this size. */
#define RECORD_KEEP (1u << 20)

/* The record's order, then the order of recording. */
static int pending_cmp(const void *pa, const void *pb)
{
    const pending_change *a = pa, *b = pb;
    int c = imgsync__sqlite_change_cmp(a->row, b->row);
    return c ? c : (a->ord > b->ord) - (a->ord < b->ord);
}

/* Write the scope's noted changes as one record of the change task. */
static int record_scope(scope_write *w)
{
    sqlite_store *s = w->s;
    sqlite3_stmt *st = s->q[Q_CHANGE];
    if (!w->nchanges)
        return 0;
    qsort(w->changes, w->nchanges, sizeof(*w->changes), pending_cmp);
    s->record.len = 0;
    for (size_t i = 0; i < w->nchanges; i++) {
        const pending_change *c = &w->changes[i];
        if (imgsync__sqlite_change_append(&s->record, c->kind, c->row, c->old_digest, c->old_size))
            return imgsync__sqlite_fail_code(s, IMGSYNC_ENOMEM, "recording changes");
    }
    sqlite3_bind_int64(st, 1, (sqlite3_int64)s->change_task);
    sqlite3_bind_text(st, 2, w->provider, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, w->partition ? w->partition : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, w->repository, -1, SQLITE_STATIC);
    /* SQLite's length limit (1 GB by default) is below INT_MAX: its refusal is the error */
    int rc = s->record.len > INT_MAX ? SQLITE_TOOBIG
                                     : sqlite3_bind_blob(st, 5, s->record.data, (int)s->record.len, SQLITE_STATIC);
    rc = rc == SQLITE_OK ? imgsync__sqlite_run(s, Q_CHANGE, "recording changes")
                         : imgsync__sqlite_fail_code(s, IMGSYNC_ESTORE, "recording changes: the record is too large");
    if (s->record.cap > RECORD_KEEP) { /* a huge repository's record is not kept for the store's life */
        free(s->record.data);
        s->record = (sqlite_record_buf){NULL, 0, 0};
    }
    return rc;
}

/* 1 when the two rows differ in nothing stored but the sync time. */
static int same_but_sync(const struct imgsync_image *a, const struct imgsync_image *b)
{
    if (a->type != b->type)
        return 0;
    for (int f = 0; f < IMGSYNC__NFIELDS; f++) {
        if (!imgsync__sqlite_stored(f) || f == IMGSYNC__F_sync_ms)
            continue;
        if (imgsync__fields[f].kind == IMGSYNC__K_STRING ? strcmp(a->v[f].s, b->v[f].s) != 0 : a->v[f].i != b->v[f].i)
            return 0;
    }
    return 1;
}

/* Note a row the scope has after the write: the first by key gives the scope's namespace. */
static void note_row(scope_write *w, const struct imgsync_image *row)
{
    if (!w->first || imgsync__image_key_cmp(row, w->first) < 0)
        w->first = row;
}

static int write_keep(void *ud, struct imgsync_image *old)
{
    scope_write *w = ud;
    w->kept = 1;
    note_row(w, old);
    return 0;
}

/* An unchanged row: only its sync time, now or with the whole scope at the end. */
static int touch_row(scope_write *w, const struct imgsync_image *row, const struct imgsync_image *prev)
{
    int64_t sync_ms = row->v[IMGSYNC__F_sync_ms].i;
    if (prev->v[IMGSYNC__F_sync_ms].i == sync_ms)
        return 0;
    if (w->uniform && !w->kept) {
        w->touch_scope = 1;
        return 0;
    }
    sqlite3_bind_int64(w->s->q[Q_TOUCH], AFTER_KEY, sync_ms);
    return run_keyed(w, Q_TOUCH, row, "updating a sync time");
}

/* A row the scope did not have: a plain INSERT (no conflict clause to evaluate). Two new rows of
 * one key (a caller's list may repeat one) overwrite, as the upsert does. */
static int insert_row(scope_write *w, const struct imgsync_image *row)
{
    sqlite3_stmt *st = w->s->q[Q_INSERT];
    key_tmp k;
    int rc = bind_key(w, st, row, &k);
    if (rc)
        return rc;
    bind_fields(st, AFTER_KEY, row);
    int step = sqlite3_step(st);
    sqlite3_reset(st);
    if (step == SQLITE_CONSTRAINT) {
        bind_fields(w->s->q[Q_UPSERT], AFTER_KEY, row);
        rc = run_keyed(w, Q_UPSERT, row, "writing a row");
    } else if (step != SQLITE_DONE) {
        rc = imgsync__sqlite_fail(w->s, step, "writing a row");
    }
    free(k.heap);
    return rc;
}

static int write_put(void *ud, int kind, struct imgsync_image *row, const struct imgsync_image *prev)
{
    scope_write *w = ud;
    int rc;
    note_row(w, row);
    if (prev && same_but_sync(prev, row)) {
        rc = touch_row(w, row, prev);
    } else if (!prev) {
        rc = insert_row(w, row);
    } else {
        bind_fields(w->s->q[Q_UPSERT], AFTER_KEY, row);
        rc = run_keyed(w, Q_UPSERT, row, "writing a row");
    }
    if (!rc && kind)
        rc = record(w, kind, row, kind == IMGSYNC__CHANGE_UPDATED ? prev : NULL);
    return rc;
}

static int write_remove(void *ud, struct imgsync_image *old)
{
    scope_write *w = ud;
    int rc = run_keyed(w, Q_DEL_ROW, old, "deleting a row");
    return rc ? rc : record(w, IMGSYNC__CHANGE_REMOVED, old, NULL);
}

static void bind_scope(sqlite_store *s, int i, const char *provider, const char *partition, const char *repository)
{
    sqlite3_bind_text(s->q[i], 1, provider, -1, SQLITE_STATIC);
    sqlite3_bind_text(s->q[i], 2, partition ? partition : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(s->q[i], 3, repository, -1, SQLITE_STATIC);
}

/* Do the new rows all have one sync time (then in w->sync_ms)? */
static void check_uniform(scope_write *w, struct imgsync_image **rows, size_t n)
{
    w->uniform = 1;
    w->sync_ms = n ? rows[0]->v[IMGSYNC__F_sync_ms].i : 0;
    for (size_t i = 1; w->uniform && i < n; i++)
        w->uniform = rows[i]->v[IMGSYNC__F_sync_ms].i == w->sync_ms;
}

/* The deferred sync time of the scope's unchanged rows. */
static int touch_scope(scope_write *w)
{
    sqlite_store *s = w->s;
    sqlite3_bind_int64(s->q[Q_TOUCH_SCOPE], 1, w->id);
    sqlite3_bind_int64(s->q[Q_TOUCH_SCOPE], 2, w->sync_ms);
    return imgsync__sqlite_run(s, Q_TOUCH_SCOPE, "updating sync times");
}

/* The scope's id and stored namespace (*ns, malloc'd), or id 0 when it has no rows. */
static int find_scope(scope_write *w, char **ns)
{
    sqlite_store *s = w->s;
    sqlite3_stmt *st = s->q[Q_SCOPE_ID];
    bind_scope(s, Q_SCOPE_ID, w->provider, w->partition, w->repository);
    int rc = sqlite3_step(st), oom = 0;
    if (rc == SQLITE_ROW) {
        w->id = sqlite3_column_int64(st, 0);
        const char *v = (const char *)sqlite3_column_text(st, 1);
        oom = !v || !(*ns = imgsync__strdup(v));
    }
    sqlite3_reset(st);
    if (oom)
        return imgsync__sqlite_fail_code(s, IMGSYNC_ENOMEM, "reading a scope");
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : imgsync__sqlite_fail(s, rc, "reading a scope");
}

/* List a scope that gets its first rows: its id comes next after every other scope's. */
static int new_scope(scope_write *w, const char *ns)
{
    sqlite_store *s = w->s;
    bind_scope(s, Q_SCOPE_NEW, w->provider, w->partition, w->repository);
    sqlite3_bind_text(s->q[Q_SCOPE_NEW], 4, ns, -1, SQLITE_STATIC);
    int rc = imgsync__sqlite_run(s, Q_SCOPE_NEW, "listing a scope");
    if (!rc)
        w->id = sqlite3_last_insert_rowid(s->db);
    return rc;
}

/* After the rows were written: the scope takes the namespace of its row with the smallest key
 * (as the memory store), and is forgotten when no row is left. */
static int settle_scope(scope_write *w, const char *ns)
{
    sqlite_store *s = w->s;
    const char *now = w->first ? w->first->v[IMGSYNC__F_namespace].s : NULL;
    int i = now ? Q_SCOPE_NS : Q_SCOPE_DEL;
    if (now && strcmp(ns, now) == 0)
        return 0;
    sqlite3_bind_int64(s->q[i], 1, w->id);
    if (now)
        sqlite3_bind_text(s->q[i], 2, now, -1, SQLITE_STATIC);
    return imgsync__sqlite_run(s, i, now ? "updating a scope" : "removing a scope");
}

/* replace() inside an open transaction; the changes are added to *delta. */
static int replace_in_tx(sqlite_store *s, const char *provider, const char *partition, const char *repository,
                         struct imgsync_image **rows, size_t n, const imgsync__selector *sel,
                         imgsync__store_counts *delta)
{
    static const imgsync__diff_ops ops = {write_keep, write_put, write_remove};
    scope_write w = {s, provider, partition, repository, 0, NULL, 0, 0, 0, 0, NULL, 0, 0};
    struct imgsync_image **old = NULL;
    size_t old_n = 0;
    char *ns = NULL;
    check_uniform(&w, rows, n);
    int rc = find_scope(&w, &ns);
    if (!rc && w.id) {
        sqlite3_bind_int64(s->q[Q_SCOPE], 1, w.id);
        rc = imgsync__sqlite_read_rows(s, Q_SCOPE, &old, &old_n);
    } else if (!rc && n) {
        rc = new_scope(&w, rows[0]->v[IMGSYNC__F_namespace].s);
        ns = rc ? NULL : imgsync__strdup(rows[0]->v[IMGSYNC__F_namespace].s);
        rc = rc ? rc : ns ? 0 : imgsync__sqlite_fail_code(s, IMGSYNC_ENOMEM, "listing a scope");
    }
    if (!rc && (rc = imgsync__store_diff(old, old_n, rows, n, sel, &ops, &w, delta)) == IMGSYNC_ENOMEM &&
        !s->base.errmsg[0])
        imgsync__sqlite_fail_code(s, rc, "comparing rows");
    if (!rc && w.touch_scope)
        rc = touch_scope(&w);
    if (!rc && ns)
        rc = settle_scope(&w, ns);
    if (!rc)
        rc = record_scope(&w);
    free(ns);
    free(w.changes);
    imgsync__sqlite_free_rows(old, old_n);
    return rc;
}

/* Roll the open transaction back; the message of the failure that led here stays. */
static void roll_back(sqlite_store *s)
{
    sqlite3_step(s->q[Q_ROLLBACK]);
    sqlite3_reset(s->q[Q_ROLLBACK]);
}

/* Open a transaction, or a savepoint inside the explicit one (then *own = 0): a write that fails
 * half-way changes nothing either way, as in the memory store, also when the caller goes on and
 * commits the transaction's other writes. */
static int start(sqlite_store *s, int *own)
{
    *own = !s->in_tx;
    return *own ? imgsync__sqlite_run(s, Q_BEGIN, "starting a transaction")
                : imgsync__sqlite_run(s, Q_SAVEPOINT, "starting a savepoint");
}

/* Undo the savepoint's writes and close it; the message of the failure that led here stays. */
static void undo_savepoint(sqlite_store *s)
{
    sqlite3_step(s->q[Q_ROLLBACK_TO]);
    sqlite3_reset(s->q[Q_ROLLBACK_TO]);
    sqlite3_step(s->q[Q_RELEASE]);
    sqlite3_reset(s->q[Q_RELEASE]);
}

/* End what start() opened: commit (release) when rc is 0, then add delta to *c; else undo it.
 * Inside an explicit transaction the counts are added at once (the caller commits or rolls
 * back). */
static int finish(sqlite_store *s, int own, int rc, const imgsync__store_counts *delta, imgsync__store_counts *c)
{
    if (!rc)
        rc = own ? imgsync__sqlite_run(s, Q_COMMIT, "committing") : imgsync__sqlite_run(s, Q_RELEASE, "releasing");
    if (own && rc)
        roll_back(s);
    else if (rc)
        undo_savepoint(s);
    if (rc)
        return rc;
    if (c) {
        c->added += delta->added;
        c->updated += delta->updated;
        c->removed += delta->removed;
    }
    return 0;
}

int imgsync__sqlite_replace(imgsync__store *base, const char *provider, const char *partition,
                            const char *repository, struct imgsync_image **rows, size_t n,
                            const imgsync__selector *sel, imgsync__store_counts *c)
{
    sqlite_store *s = (sqlite_store *)base;
    imgsync__store_counts delta = {0, 0, 0};
    int own = 0, rc = start(s, &own);
    if (rc)
        return rc;
    rc = replace_in_tx(s, provider, partition, repository, rows, n, sel, &delta);
    return finish(s, own, rc, &delta, c);
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
        return oom ? imgsync__sqlite_fail_code(s, IMGSYNC_ENOMEM, "reading scopes")
                   : imgsync__sqlite_fail(s, rc, "reading scopes");
    }
    *out = v;
    *n = m;
    return 0;
}

int imgsync__sqlite_prune(imgsync__store *base, const char *provider, const imgsync__map *seen,
                          const imgsync__map *failed_parts, const imgsync__map *failed_ns,
                          const imgsync__selector *sel, imgsync__store_counts *c)
{
    sqlite_store *s = (sqlite_store *)base;
    imgsync__store_counts delta = {0, 0, 0};
    scope_ref *gone = NULL;
    size_t n = 0;
    int own = 0, rc = start(s, &own);
    if (rc)
        return rc;
    rc = vanished_scopes(s, provider, seen, failed_parts, failed_ns, sel, &gone, &n);
    for (size_t i = 0; !rc && i < n; i++)
        rc = replace_in_tx(s, provider, gone[i].partition, gone[i].repository, NULL, 0, sel, &delta);
    free_scopes(gone, n);
    return finish(s, own, rc, &delta, c);
}

void imgsync__sqlite_drop_provider(imgsync__store *base, const char *provider)
{
    sqlite_store *s = (sqlite_store *)base;
    int own = 0;
    if (start(s, &own)) /* rows and scopes go together */
        return;
    int rc = 0;
    sqlite3_bind_text(s->q[Q_DEL_PROVIDER], 1, provider, -1, SQLITE_STATIC);
    sqlite3_bind_text(s->q[Q_DEL_PROVIDER_SCOPES], 1, provider, -1, SQLITE_STATIC);
    rc = rc ? rc : imgsync__sqlite_run(s, Q_DEL_PROVIDER, "deleting a provider's rows");
    rc = rc ? rc : imgsync__sqlite_run(s, Q_DEL_PROVIDER_SCOPES, "deleting a provider's scopes");
    finish(s, own, rc, NULL, NULL); /* the message of a failure stays in errmsg */
}

/* ---- explicit transactions and the change feed ------------------------------------------------ */

int imgsync__sqlite_begin(imgsync__store *base)
{
    sqlite_store *s = (sqlite_store *)base;
    if (s->in_tx)
        return IMGSYNC_EINTERNAL;
    int rc = imgsync__sqlite_run(s, Q_BEGIN, "starting a transaction");
    s->in_tx = !rc;
    return rc;
}

int imgsync__sqlite_commit(imgsync__store *base)
{
    sqlite_store *s = (sqlite_store *)base;
    if (!s->in_tx)
        return IMGSYNC_EINTERNAL;
    int rc = imgsync__sqlite_run(s, Q_COMMIT, "committing");
    if (!rc)
        s->in_tx = 0; /* else still open: the caller rolls back */
    return rc;
}

void imgsync__sqlite_rollback(imgsync__store *base)
{
    sqlite_store *s = (sqlite_store *)base;
    if (!s->in_tx)
        return;
    roll_back(s);
    s->in_tx = 0;
}

void imgsync__sqlite_set_change_task(imgsync__store *base, uint64_t task_id)
{
    ((sqlite_store *)base)->change_task = task_id;
}

int imgsync__sqlite_changes_forget(imgsync__store *base, const uint64_t *ids, size_t n)
{
    sqlite_store *s = (sqlite_store *)base;
    int own = 0, rc = start(s, &own);
    if (rc)
        return rc;
    for (size_t i = 0; !rc && i < n; i++) {
        sqlite3_bind_int64(s->q[Q_FORGET], 1, (sqlite3_int64)ids[i]);
        rc = imgsync__sqlite_run(s, Q_FORGET, "forgetting changes");
    }
    return finish(s, own, rc, NULL, NULL);
}
