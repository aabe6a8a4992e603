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

struct memory_changes;  /* the change feed (memory.c) */
struct memory_history;  /* tasks and schedules (memory_tasks.c) */

typedef struct memory_store {
    imgsync__store base; /* first: the interface's header */
    imgsync__map repos;       /* "provider\x1fpartition\x1frepository" -> repo_rows */
    imgsync__map by_provider; /* provider -> imgsync__map of the same keys -> repo_rows (borrowed):
                               * a prune walks its own provider's scopes only, not every registry's */
    size_t count;
    struct memory_changes *changes;
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

#endif
