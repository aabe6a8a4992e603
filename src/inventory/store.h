/* Inventory stores behind one internal interface (internal). */
#ifndef IMGSYNC_INVENTORY_STORE_H
#define IMGSYNC_INVENTORY_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "inventory/image.h"
#include "util/map.h"

typedef struct imgsync__store imgsync__store;

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

/* Open a store from a URI: NULL or "memory:" -> in-memory. EUNSUPPORTED for other schemes. */
int imgsync__store_open(imgsync__store **out, const char *uri);
void imgsync__store_close(imgsync__store *s);
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
 * drops with imgsync__image_unref; *out freed with free(). */
int imgsync__store_snapshot(imgsync__store *s, struct imgsync_image ***out, size_t *n);
size_t imgsync__store_count(const imgsync__store *s);

#endif
