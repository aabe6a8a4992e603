/* The SQLite store's state, shared by its files (internal to src/inventory). */
#ifndef IMGSYNC_INVENTORY_SQLITE_H
#define IMGSYNC_INVENTORY_SQLITE_H

#include <sqlite3.h>

#include "inventory/store.h"

/* The schema this library writes; a file of a newer one is refused untouched. */
#define SCHEMA_VERSION 1
#define BUSY_TIMEOUT_MS 5000

enum { Q_SCOPE, Q_DEL_SCOPE, Q_INSERT, Q_SCOPES, Q_DEL_PROVIDER, Q_ALL, Q_COUNT, Q_BEGIN, Q_COMMIT, Q_ROLLBACK, NQ };

struct sqlite_history; /* prepared statements of the task and schedule tables (sqlite_tasks.c) */

typedef struct sqlite_store {
    imgsync__store base; /* first: the interface's header */
    sqlite3 *db;
    char *path;          /* for the read connections of cursors */
    sqlite3_stmt *q[NQ]; /* prepared once, for the life of the store */
    struct sqlite_history *history;
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

/* sqlite.c: the failure helpers both files use (the message goes to s->base.errmsg). */
int imgsync__sqlite_fail(sqlite_store *s, int rc, const char *what);

#endif
