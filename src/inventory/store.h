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
 * "partition\x1fnamespace" is not a key of `failed_ns`. */
int imgsync__store_prune(imgsync__store *s, const char *provider, const imgsync__map *seen,
                         const imgsync__map *failed_parts, const imgsync__map *failed_ns,
                         const imgsync__selector *sel, imgsync__store_counts *c);
/* Remove every row of a provider (when it is deleted). */
void imgsync__store_drop_provider(imgsync__store *s, const char *provider);
/* All rows, sorted by registry, partition, repository, tag, each with a reference the caller
 * drops with imgsync__image_unref; *out freed with free(). Rows are immutable once stored: the
 * caller may read them without the store's lock, on any thread, after later commits. */
int imgsync__store_snapshot(imgsync__store *s, struct imgsync_image ***out, size_t *n);
size_t imgsync__store_count(imgsync__store *s);

/* One backend: the operations above with the same semantics (memory.c is the reference). */
struct imgsync__store_ops {
    void (*close)(imgsync__store *s);
    int (*replace)(imgsync__store *s, const char *provider, const char *partition, const char *repository,
                   struct imgsync_image **rows, size_t n, const imgsync__selector *sel, imgsync__store_counts *c);
    int (*prune)(imgsync__store *s, const char *provider, const imgsync__map *seen, const imgsync__map *failed_parts,
                 const imgsync__map *failed_ns, const imgsync__selector *sel, imgsync__store_counts *c);
    void (*drop_provider)(imgsync__store *s, const char *provider);
    int (*snapshot)(imgsync__store *s, struct imgsync_image ***out, size_t *n);
    size_t (*count)(const imgsync__store *s);
    int persistent; /* rows outlive the process: freeing a provider object keeps them */
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
/* The new content of a scope whose stored rows are old[0..old_n) after a replace by
 * rows[0..n): unselected old rows not replaced by a new row of the same key, then the new rows,
 * each with a new reference, into *merged (malloc'd, *m rows). Changes are added to *delta.
 * 0 or ENOMEM. */
int imgsync__store_merge(struct imgsync_image **old, size_t old_n, struct imgsync_image **rows, size_t n,
                         const imgsync__selector *sel, struct imgsync_image ***merged, size_t *m,
                         imgsync__store_counts *delta);
/* Is a stored scope (partition, repository, namespace ns) one that a complete catalog says has
 * gone (see imgsync__store_prune)? Sets *oom on ENOMEM. */
int imgsync__scope_vanished(const char *provider, const char *partition, const char *repository, const char *ns,
                            const imgsync__map *seen, const imgsync__map *failed_parts, const imgsync__map *failed_ns,
                            const imgsync__selector *sel, int *oom);

#endif
