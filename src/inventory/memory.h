/* The in-memory store's state, shared by its files (internal to src/inventory). */
#ifndef IMGSYNC_INVENTORY_MEMORY_H
#define IMGSYNC_INVENTORY_MEMORY_H

#include "inventory/store.h"

/* Rows of one scope of one provider. */
typedef struct repo_rows {
    char *provider;
    char *partition;
    char *repository;
    struct imgsync_image **rows;
    size_t n;
} repo_rows;

/* One recorded change (also an entry of a memory cursor, with kind 0 for a query row). */
typedef struct memory_change {
    uint64_t task_id, seq; /* seq: order of recording, the last sort key */
    int kind;              /* IMGSYNC__CHANGE_*, 0 in a query cursor */
    int forgotten;         /* changes_forget inside the open transaction: dropped at commit */
    struct imgsync_image *row; /* a reference */
    char *old_digest;      /* updated: malloc'd; NULL otherwise */
    int64_t old_size;      /* updated: before; -1 otherwise */
} memory_change;

/* The change feed: every recorded change in recording order. */
typedef struct memory_feed {
    memory_change *v;
    size_t n, cap;
    uint64_t next_seq;
    uint64_t task; /* the current change task, 0 = record nothing */
} memory_feed;

/* A scope's content before the open transaction changed it (old NULL: there was none). */
typedef struct memory_undo {
    char *key;
    repo_rows *old;
} memory_undo;

typedef struct memory_tx {
    int open;
    size_t feed_mark, count_mark; /* feed length and row count at begin */
    memory_undo *undo;
    size_t nundo, cap;
    int history_saved;                     /* history_before holds the history as at begin */
    struct memory_history *history_before; /* (NULL: there was none) */
} memory_tx;

struct memory_history;  /* tasks and schedules (memory_tasks.c) */

typedef struct memory_store {
    imgsync__store base; /* first: the interface's header */
    imgsync__map repos;       /* "provider\x1fpartition\x1frepository" -> repo_rows */
    imgsync__map by_provider; /* provider -> imgsync__map of the same keys -> repo_rows (borrowed):
                               * a prune walks its own provider's scopes only, not every registry's */
    size_t count;
    memory_feed feed;
    memory_tx tx;
    struct memory_history *history;
} memory_store;

/* memory_tasks.c: the task and schedule operations, and freeing their state at close. */
int imgsync__memory_task_insert(imgsync__store *s, imgsync__task_rec *r);
int imgsync__memory_task_update(imgsync__store *s, const imgsync__task_rec *r);
int imgsync__memory_task_get(imgsync__store *s, uint64_t id, imgsync__task_rec *r);
int imgsync__memory_task_list(imgsync__store *s, int state, int trigger, size_t limit, imgsync__task_rec **out,
                              size_t *n);
int imgsync__memory_task_prune(imgsync__store *s, size_t keep, uint64_t **ids, size_t *n);
int imgsync__memory_schedule_insert(imgsync__store *s, imgsync__schedule_rec *r);
int imgsync__memory_schedule_remove(imgsync__store *s, uint64_t id);
int imgsync__memory_schedule_list(imgsync__store *s, imgsync__schedule_rec **out, size_t *n);
int imgsync__memory_schedule_claim(imgsync__store *s, uint64_t id, int64_t due_ms, int64_t new_next_ms,
                                   uint64_t task_id, int *claimed);
void imgsync__memory_history_free(memory_store *ms);
/* The end of a transaction for the history: a rollback gives it back as it was at begin. */
void imgsync__memory_history_end(memory_store *ms, int rollback);

/* memory_feed.c: the change feed and the cursors. */
void imgsync__memory_change_clear(memory_change *c);
/* Room for `more` changes, so that appending them cannot fail. 0 or ENOMEM. */
int imgsync__memory_feed_reserve(memory_store *ms, size_t more);
/* Move v[0..n) to the feed (room reserved before); each gets its seq. */
void imgsync__memory_feed_append(memory_store *ms, memory_change *v, size_t n);
/* Drop the changes from index `mark` on, and un-forget the others (a rollback). */
void imgsync__memory_feed_truncate(memory_store *ms, size_t mark);
/* Remove the changes marked forgotten (outside a transaction, or at its commit). */
void imgsync__memory_feed_compact(memory_store *ms);
void imgsync__memory_feed_free(memory_store *ms);
void imgsync__memory_set_change_task(imgsync__store *s, uint64_t task_id);
int imgsync__memory_query(imgsync__store *s, const imgsync__query *q, imgsync__cursor **out);
int imgsync__memory_changes(imgsync__store *s, uint64_t task_id, int since, imgsync__cursor **out);
int imgsync__memory_changes_forget(imgsync__store *s, const uint64_t *ids, size_t n);

#endif
