/* The SQLite store's state, shared by its files (internal to src/inventory). */
#ifndef IMGSYNC_INVENTORY_SQLITE_H
#define IMGSYNC_INVENTORY_SQLITE_H

#include <sqlite3.h>

#include "inventory/store.h"
#include "util/buf.h"

/* The schema this library writes; a file of a newer one is refused untouched. */
#define SCHEMA_VERSION 3
#define BUSY_TIMEOUT_MS 5000

/* A row's key: its scope's id (table scopes: provider, partition, repository) and the row key
 * within the scope (the memory store's key). */
#define ROW_KEY "scope, k_key"

/* The store's prepared statements (sqlite.c prepares them, sqlite_write.c runs most). */
enum {
    Q_SCOPE,        /* a scope's rows */
    Q_UPSERT,       /* insert a row or overwrite the one of its key */
    Q_INSERT,       /* insert a row the scope does not have */
    Q_TOUCH,        /* set the sync time of a row whose content is unchanged */
    Q_TOUCH_SCOPE,  /* set the sync time of every row of a scope (that has another) */
    Q_DEL_ROW,      /* delete a row by key */
    Q_SCOPES,       /* a provider's scopes */
    Q_SCOPE_ID,     /* a scope's id and namespace */
    Q_SCOPE_NEW,    /* list a scope that gets rows */
    Q_SCOPE_NS,     /* a scope's new namespace */
    Q_SCOPE_DEL,    /* forget a scope that has none left */
    Q_DEL_PROVIDER, /* delete a provider's rows */
    Q_DEL_PROVIDER_SCOPES,
    Q_COUNT,
    Q_BEGIN,
    Q_COMMIT,
    Q_ROLLBACK,
    Q_SAVEPOINT,    /* a write inside an explicit transaction: undone alone when it fails */
    Q_RELEASE,
    Q_ROLLBACK_TO,
    Q_CHANGE,     /* record a scope's changes */
    Q_FORGET, /* forget a task's changes */
    NQ
};

/* The change record being written (sqlite_record.c), reused from scope to scope. */
typedef struct sqlite_record_buf {
    unsigned char *data;
    size_t len, cap;
} sqlite_record_buf;

struct sqlite_history; /* prepared statements of the task and schedule tables (sqlite_tasks.c) */

typedef struct sqlite_store {
    imgsync__store base; /* first: the interface's header */
    sqlite3 *db;
    char *path;          /* for the read connections of cursors */
    sqlite3_stmt *q[NQ]; /* prepared once, for the life of the store */
    struct sqlite_history *history;
    int in_tx;            /* an explicit transaction is open (begin .. commit/rollback) */
    uint64_t change_task; /* replace/prune record changes under this task (0: none) */
    sqlite_record_buf record; /* the change record being written (reused) */
} sqlite_store;

/* sqlite_tasks.c: create the task and schedule tables (a migration step, inside its
 * transaction), prepare / finalize their statements, and the operations. */
int imgsync__sqlite_history_schema(sqlite_store *s);
int imgsync__sqlite_history_prepare(sqlite_store *s);
void imgsync__sqlite_history_free(sqlite_store *s);
int imgsync__sqlite_task_insert(imgsync__store *s, imgsync__task_rec *r);
int imgsync__sqlite_task_update(imgsync__store *s, const imgsync__task_rec *r);
int imgsync__sqlite_task_get(imgsync__store *s, uint64_t id, imgsync__task_rec *r);
int imgsync__sqlite_task_list(imgsync__store *s, int state, int trigger, size_t limit, imgsync__task_rec **out,
                              size_t *n);
int imgsync__sqlite_task_prune(imgsync__store *s, size_t keep, uint64_t **ids, size_t *n);
int imgsync__sqlite_schedule_insert(imgsync__store *s, imgsync__schedule_rec *r);
int imgsync__sqlite_schedule_remove(imgsync__store *s, uint64_t id);
int imgsync__sqlite_schedule_list(imgsync__store *s, imgsync__schedule_rec **out, size_t *n);
int imgsync__sqlite_schedule_claim(imgsync__store *s, uint64_t id, int64_t due_ms, int64_t new_next_ms,
                                   uint64_t task_id, int *claimed);

/* sqlite.c: the failure helpers every file uses (the message goes to s->base.errmsg): a SQLite
 * result code mapped to a library code, or a library code with a message. */
int imgsync__sqlite_fail(sqlite_store *s, int rc, const char *what);
int imgsync__sqlite_fail_code(sqlite_store *s, int code, const char *what);
/* Fields with storage of their own (derived ones are computed from the type). */
int imgsync__sqlite_stored(int f);
/* Append "type" and the columns of the stored fields numbered below nfields, each `"name"` and,
 * with_types, its SQL type. 0 or ENOMEM. */
int imgsync__sqlite_append_columns(imgsync__buf *b, int with_types, int nfields);
/* The row at the current step of a SELECT whose column `col` is the type, followed by every
 * stored field. NULL on ENOMEM. */
struct imgsync_image *imgsync__sqlite_read_row(sqlite3_stmt *st, int col);
/* Every row the bound SELECT q[i] (of type and fields) gives, into *out (malloc'd, *n rows).
 * The statement is reset. */
int imgsync__sqlite_read_rows(sqlite_store *s, int i, struct imgsync_image ***out, size_t *n);
void imgsync__sqlite_free_rows(struct imgsync_image **rows, size_t n);
/* Run statement q[i], which returns no row; it is reset either way. */
int imgsync__sqlite_run(sqlite_store *s, int i, const char *what);

/* sqlite_record.c: the change feed's record (the `changes` BLOB of table changes): a scope's
 * changes of one task, one entry after the other, each the change's kind, the changed row and
 * the previous digest and size. Append an entry to b: 0 or ENOMEM. Decode the entry at *pos of
 * blob[0..len) and move *pos past it: 0, ENOMEM or ESTORE (malformed); on success *row (refs 1)
 * and *old_digest (malloc'd) are the caller's. */
typedef struct sqlite_change_entry {
    int kind;
    struct imgsync_image *row;
    char *old_digest;
    int64_t old_size;
} sqlite_change_entry;
int imgsync__sqlite_change_append(sqlite_record_buf *b, int kind, const struct imgsync_image *row,
                                  const char *old_digest, int64_t old_size);
int imgsync__sqlite_change_decode(const void *blob, size_t len, size_t *pos, sqlite_change_entry *e);
/* The order of a record's entries: imgsync__image_cmp within one scope (tag, then digest). */
int imgsync__sqlite_change_cmp(const struct imgsync_image *a, const struct imgsync_image *b);
void imgsync__sqlite_change_entry_clear(sqlite_change_entry *e);
/* The SQL function imgsync_change_entry(kind, record) of the schema 2 -> 3 migration: a schema-2
 * change (kind column, record BLOB without the kind) as one entry. */
int imgsync__sqlite_register_migration_fn(sqlite3 *db);

/* sqlite_write.c: the inventory writes, transactions and the change feed. */
int imgsync__sqlite_replace(imgsync__store *s, const char *provider, const char *partition, const char *repository,
                            struct imgsync_image **rows, size_t n, const imgsync__selector *sel,
                            imgsync__store_counts *c);
int imgsync__sqlite_prune(imgsync__store *s, const char *provider, const imgsync__map *seen,
                          const imgsync__map *failed_parts, const imgsync__map *failed_ns, const imgsync__selector *sel,
                          imgsync__store_counts *c);
void imgsync__sqlite_drop_provider(imgsync__store *s, const char *provider);
int imgsync__sqlite_begin(imgsync__store *s);
int imgsync__sqlite_commit(imgsync__store *s);
void imgsync__sqlite_rollback(imgsync__store *s);
void imgsync__sqlite_set_change_task(imgsync__store *s, uint64_t task_id);
int imgsync__sqlite_changes_forget(imgsync__store *s, const uint64_t *ids, size_t n);

/* sqlite_query.c: cursors, each on a read-only connection of its own. */
int imgsync__sqlite_query(imgsync__store *s, const imgsync__query *q, imgsync__cursor **out);
int imgsync__sqlite_changes(imgsync__store *s, uint64_t task_id, int since, imgsync__cursor **out);

#endif
