/* Inventory stores behind one internal interface (internal). */
#ifndef IMGSYNC_INVENTORY_STORE_H
#define IMGSYNC_INVENTORY_STORE_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "inventory/image.h"
#include "util/map.h"

typedef struct imgsync__store imgsync__store;
typedef struct imgsync__store_ops imgsync__store_ops;

/* Every backend starts with this header; the functions below dispatch through `ops`.
 * Thread safety: every wrapper below holds `lock` around the backend call, so a backend is only
 * ever entered by one thread at a time (the SQLite backend's prepared statements included) and
 * may stay single-threaded. Inventory readers (imgsync_iter_new, imgsync_inventory_count) call
 * in from any thread while the driving thread commits and prunes. */
struct imgsync__store {
    const imgsync__store_ops *ops;
    pthread_mutex_t lock; /* set up by imgsync__store_open_msg, destroyed by imgsync__store_close */
    char errmsg[256];     /* detail of the backend's last failure; only touched under `lock` */
    imgsync__store *tx_next; /* the holding thread's next store in an explicit transaction (store.c) */
};

typedef struct imgsync__store_counts {
    uint64_t added, updated, removed;
} imgsync__store_counts;

/* Which stored rows a sync covers. The core decides (the store evaluates no request): `row` says
 * whether a stored row is one the sync selects (type, tag filters, non-image artifacts),
 * `repository` whether a stored scope is (explicit repositories, namespace and repository
 * filters). A NULL selector selects everything. */
typedef struct imgsync__selector {
    int (*row)(const void *ud, const struct imgsync_image *im);
    int (*repository)(const void *ud, const char *provider, const char *ns, const char *repository);
    const void *ud;
} imgsync__selector;

/* Key of a scope in the maps below: "partition\x1frepository" (malloc'd). */
char *imgsync__scope_key(const char *partition, const char *repository);

/* Open a store from a URI: NULL or "memory:" -> in-memory, "sqlite:PATH" -> SQLite file PATH
 * (created when missing). EUNSUPPORTED for other schemes or a database of a newer schema than
 * this library knows, ESTORE when the file cannot be opened, created or migrated, ENOMEM. */
int imgsync__store_open(imgsync__store **out, const char *uri);
/* Same, and on failure a reason in msg[0..len) ("" when none). */
int imgsync__store_open_msg(imgsync__store **out, const char *uri, char *msg, size_t len);
void imgsync__store_close(imgsync__store *s);
/* Detail of the failure of the calling thread's last call on this store, "" when none (a
 * failure on another thread never shows here). Never NULL; valid until the thread's next call. */
const char *imgsync__store_errmsg(const imgsync__store *s);
/*
 * Commit one scope: the rows of (provider, partition, repository) that `sel` selects are replaced by rows[0..n) (the store takes a
 * reference on each). Rows of that scope that the request does not select stay. Counts are added
 * to *c.
 */
int imgsync__store_replace(imgsync__store *s, const char *provider, const char *partition, const char *repository,
                           struct imgsync_image **rows, size_t n, const imgsync__selector *sel,
                           imgsync__store_counts *c);
/* After a complete catalog: remove the selected rows of scopes of `provider` that are not keys
 * of `seen` (scope keys), whose partition is not a key of `failed_parts` and whose
 * "partition\x1fnamespace" is not a key of `failed_ns`. A scope's namespace is that of its row
 * with the smallest key (imgsync__image_key_cmp; a scope's rows normally share one). */
int imgsync__store_prune(imgsync__store *s, const char *provider, const imgsync__map *seen,
                         const imgsync__map *failed_parts, const imgsync__map *failed_ns,
                         const imgsync__selector *sel, imgsync__store_counts *c);
/* Remove every row of a provider (when it is deleted). */
void imgsync__store_drop_provider(imgsync__store *s, const char *provider);
size_t imgsync__store_count(imgsync__store *s);

/* ---- v2: transactions, change feed, queries with pushed-down filters ------------------- */

/*
 * Explicit transaction: replace/prune/task calls between begin and commit are one transaction
 * (each opens its own otherwise). The store lock is held from begin to commit/rollback, so
 * other threads' calls on this store wait; readers through cursors do not (they read their own
 * snapshot). Not nested.
 */
int imgsync__store_begin(imgsync__store *s);
int imgsync__store_commit(imgsync__store *s);
void imgsync__store_rollback(imgsync__store *s);

/*
 * Change feed. replace/prune record one change per row they add, update or remove under the
 * store's current change task (imgsync__store_set_change_task; 0 = record nothing) - in the same
 * transaction as the rows. first_seen: a new row keeps the first_seen_ms of the stored row it
 * replaces (same key), else it gets its own sync_ms.
 */
enum { IMGSYNC__CHANGE_ADDED = 1, IMGSYNC__CHANGE_UPDATED = 2, IMGSYNC__CHANGE_REMOVED = 3 };
void imgsync__store_set_change_task(imgsync__store *s, uint64_t task_id);

/* What an inventory query selects; the core builds it from a request (the store sees no
 * request). A row is selected when every part says yes:
 *   providers[0..nproviders)  its registry is one of them (none = any)
 *   types[0..ntypes)          its type is one of them (none = any)
 *   repos[0..nrepos)          for a registry named by some repos entry, its repository is one
 *                             of that registry's entries (registries with no entry: any)
 *   globs[0..nglobs)          per field (IMGSYNC_FILTER_NAMESPACE/REPOSITORY/TAG of
 *                             imgsync/request.h): matches at least one INCLUDE glob of that
 *                             field (or the field has none) and no EXCLUDE glob of it
 *                             (util/glob.h semantics, byte for byte)
 *   updated_since             update_ms >= updated_since (0 = any)
 */
typedef struct imgsync__query_repo {
    const char *provider, *repository;
} imgsync__query_repo;
typedef struct imgsync__query_glob {
    int field, mode; /* imgsync_filter_field, imgsync_filter_mode */
    const char *pattern;
} imgsync__query_glob;
typedef struct imgsync__query {
    const char *const *providers;
    size_t nproviders;
    const int *types;
    size_t ntypes;
    const imgsync__query_repo *repos;
    size_t nrepos;
    const imgsync__query_glob *globs;
    size_t nglobs;
    int64_t updated_since;
} imgsync__query;

/* 1 when `im` is selected by q (NULL q selects all): the reference every backend agrees with. */
int imgsync__query_match(const imgsync__query *q, const struct imgsync_image *im);

/* A cursor: rows (or changes) read one at a time from a snapshot taken when it was opened;
 * belongs to the thread using it; never takes the store lock after it is open. */
typedef struct imgsync__cursor imgsync__cursor;
/* Rows selected by q (copied when needed; may be freed after the call), in the order of
 * imgsync__image_cmp. Opened inside an explicit transaction, whether a cursor sees that
 * transaction's writes is not specified (SQLite's reads the last commit, memory's sees them):
 * the core opens none there. */
int imgsync__store_query(imgsync__store *s, const imgsync__query *q, imgsync__cursor **out);
/* Changes of task `task_id` (since = 0) or of every task with a greater id (since = 1), ordered
 * by task id, then imgsync__image_cmp of the row. */
int imgsync__store_changes(imgsync__store *s, uint64_t task_id, int since, imgsync__cursor **out);
typedef struct imgsync__change_row {
    int kind;                /* IMGSYNC__CHANGE_* */
    uint64_t task_id;
    struct imgsync_image *row; /* the new row (added/updated) or the old one (removed) */
    const char *old_digest;  /* updated: before; "" otherwise */
    int64_t old_size;        /* updated: before; -1 otherwise */
} imgsync__change_row;
/* Next row / change: 0 and *row (borrowed until the next call) or NULL at the end; or an error
 * (ESTORE, ENOMEM) with the detail in imgsync__cursor_errmsg. A query cursor fills only `row`. */
int imgsync__cursor_next(imgsync__cursor *c, imgsync__change_row *out);
const char *imgsync__cursor_errmsg(const imgsync__cursor *c);
void imgsync__cursor_free(imgsync__cursor *c);

/* ---- v2: task history and schedules ------------------------------------------------------- */

/* A task as stored: plain data, strings malloc'd (freed by imgsync__task_rec_clear). */
typedef struct imgsync__task_rec_registry {
    char *name, *type; /* provider name, registry type name ("Oci") */
    int state, error;  /* imgsync_registry_state, error code */
    char *reason;
} imgsync__task_rec_registry;
typedef struct imgsync__task_rec_error {
    char *registry, *repository, *message;
    int code;
} imgsync__task_rec_error;
typedef struct imgsync__task_rec {
    uint64_t id;
    int state, trigger;            /* imgsync_task_state, imgsync_trigger */
    uint64_t schedule_id;          /* 0: manual */
    int64_t created_ms, started_ms, finished_ms;
    uint64_t counters[9];          /* imgsync_counter order */
    char *reason;                  /* task-level reason, "" when none */
    char *owner;                   /* the process running it ("pid:start-time"), "" once ended */
    imgsync__task_rec_registry *registries;
    size_t nregistries;
    imgsync__task_rec_error *errors;
    size_t nerrors;
} imgsync__task_rec;
void imgsync__task_rec_clear(imgsync__task_rec *r);

/* Record a new task: r->id is set to an id greater than any task id the store ever gave. */
int imgsync__store_task_insert(imgsync__store *s, imgsync__task_rec *r);
/* Replace the stored record of r->id (everything but the id). ENOTFOUND when it is not stored. */
int imgsync__store_task_update(imgsync__store *s, const imgsync__task_rec *r);
/* Read one task into *r (cleared by the caller). ENOTFOUND. */
int imgsync__store_task_get(imgsync__store *s, uint64_t id, imgsync__task_rec *r);
/* Tasks newest first (highest id first), state / trigger -1 = any, limit 0 = all: *out is a
 * malloc'd array of *n records (each cleared, then the array freed, by the caller). */
int imgsync__store_task_list(imgsync__store *s, int state, int trigger, size_t limit, imgsync__task_rec **out,
                             size_t *n);
/* Keep the `keep` newest tasks; remove older ones that are not queued or running, with their
 * registries, errors and changes (one transaction). *removed (may be NULL) gets the number
 * removed. */
int imgsync__store_task_prune(imgsync__store *s, size_t keep, size_t *removed);

typedef struct imgsync__schedule_rec {
    uint64_t id;
    int kind;              /* imgsync_schedule_kind */
    int hour, minute;      /* daily */
    unsigned int every_minutes;
    char *request;         /* the request as JSON (opaque to the store) */
    int64_t created_ms, next_ms;
    uint64_t last_task_id;
} imgsync__schedule_rec;
void imgsync__schedule_rec_clear(imgsync__schedule_rec *r);
/* Record a new schedule (r->id set, > any id given before). */
int imgsync__store_schedule_insert(imgsync__store *s, imgsync__schedule_rec *r);
/* Remove one. ENOTFOUND. */
int imgsync__store_schedule_remove(imgsync__store *s, uint64_t id);
/* Every schedule in id order (*out malloc'd, each cleared then freed by the caller). */
int imgsync__store_schedule_list(imgsync__store *s, imgsync__schedule_rec **out, size_t *n);
/* Claim the due time `due_ms` of schedule `id` for this process: when its stored next_ms is
 * still due_ms, set next_ms = new_next_ms and last_task_id = task_id and set *claimed = 1
 * (atomically: of several processes claiming one due time, exactly one gets it); else
 * *claimed = 0. ENOTFOUND when the schedule is gone. */
int imgsync__store_schedule_claim(imgsync__store *s, uint64_t id, int64_t due_ms, int64_t new_next_ms,
                                  uint64_t task_id, int *claimed);

/* One backend: the operations above with the same semantics (memory.c is the reference). */
struct imgsync__store_ops {
    void (*close)(imgsync__store *s);
    int (*replace)(imgsync__store *s, const char *provider, const char *partition, const char *repository,
                   struct imgsync_image **rows, size_t n, const imgsync__selector *sel, imgsync__store_counts *c);
    int (*prune)(imgsync__store *s, const char *provider, const imgsync__map *seen, const imgsync__map *failed_parts,
                 const imgsync__map *failed_ns, const imgsync__selector *sel, imgsync__store_counts *c);
    void (*drop_provider)(imgsync__store *s, const char *provider);
    size_t (*count)(const imgsync__store *s);
    int persistent; /* rows outlive the process: freeing a provider object keeps them */
    /* v2 */
    int (*begin)(imgsync__store *s);
    int (*commit)(imgsync__store *s);
    void (*rollback)(imgsync__store *s);
    void (*set_change_task)(imgsync__store *s, uint64_t task_id);
    int (*query)(imgsync__store *s, const imgsync__query *q, imgsync__cursor **out);
    int (*changes)(imgsync__store *s, uint64_t task_id, int since, imgsync__cursor **out);
    int (*task_insert)(imgsync__store *s, imgsync__task_rec *r);
    int (*task_update)(imgsync__store *s, const imgsync__task_rec *r);
    int (*task_get)(imgsync__store *s, uint64_t id, imgsync__task_rec *r);
    int (*task_list)(imgsync__store *s, int state, int trigger, size_t limit, imgsync__task_rec **out, size_t *n);
    /* removes the task records only; *ids gets the removed ids (malloc'd, *n of them) */
    int (*task_prune)(imgsync__store *s, size_t keep, uint64_t **ids, size_t *n);
    /* forget the changes recorded under tasks ids[0..n) */
    int (*changes_forget)(imgsync__store *s, const uint64_t *ids, size_t n);
    int (*schedule_insert)(imgsync__store *s, imgsync__schedule_rec *r);
    int (*schedule_remove)(imgsync__store *s, uint64_t id);
    int (*schedule_list)(imgsync__store *s, imgsync__schedule_rec **out, size_t *n);
    int (*schedule_claim)(imgsync__store *s, uint64_t id, int64_t due_ms, int64_t new_next_ms, uint64_t task_id,
                          int *claimed);
};

/* A cursor's own interface (backends implement it; the wrappers above dispatch). */
struct imgsync__cursor {
    int (*next)(imgsync__cursor *c, imgsync__change_row *out);
    void (*free)(imgsync__cursor *c);
    char errmsg[256];
};
/* 1 when the store keeps rows beyond the process (sqlite:), 0 for the in-memory one. */
int imgsync__store_persistent(const imgsync__store *s);

/* Backends: open one (msg gets the reason of a failure). */
int imgsync__memory_open(imgsync__store **out, char *msg, size_t len);
int imgsync__sqlite_open(imgsync__store **out, const char *path, char *msg, size_t len);

/* Helpers shared by the backends so that they count and select alike. */
int imgsync__selected_row(const imgsync__selector *sel, const struct imgsync_image *im);
int imgsync__selected_repository(const imgsync__selector *sel, const char *provider, const char *ns,
                                 const char *repository);
/* How a backend applies a replace: imgsync__store_diff walks the stored rows old[0..old_n) of a
 * scope against the new rows[0..n) and calls, in this order, `keep` for every unselected old row
 * that stays (may be NULL), `remove` for every old row that goes, then `put` for every new row
 * with kind IMGSYNC__CHANGE_ADDED, IMGSYNC__CHANGE_UPDATED or 0 (same content) and the stored
 * row of its key (NULL when added). Before `put`, the row's first_seen_ms is set (the stored
 * row's, else its own sync_ms). Counts go to *delta. 0, ENOMEM or a callback's failure. */
typedef struct imgsync__diff_ops {
    int (*keep)(void *ud, struct imgsync_image *old);
    int (*put)(void *ud, int kind, struct imgsync_image *row, const struct imgsync_image *prev);
    int (*remove)(void *ud, struct imgsync_image *old);
} imgsync__diff_ops;
int imgsync__store_diff(struct imgsync_image **old, size_t old_n, struct imgsync_image **rows, size_t n,
                        const imgsync__selector *sel, const imgsync__diff_ops *ops, void *ud,
                        imgsync__store_counts *delta);
/* The row field a query glob of filter field `field` (IMGSYNC_FILTER_*) matches, -1 for none. */
int imgsync__query_glob_column(int field);
/* Is a stored scope (partition, repository, namespace ns) one that a complete catalog says has
 * gone (see imgsync__store_prune)? Sets *oom on ENOMEM. */
int imgsync__scope_vanished(const char *provider, const char *partition, const char *repository, const char *ns,
                            const imgsync__map *seen, const imgsync__map *failed_parts, const imgsync__map *failed_ns,
                            const imgsync__selector *sel, int *oom);

#endif
