/* Inventory stores behind one internal interface (internal). */
#ifndef IMGSYNC_STORE_STORE_H
#define IMGSYNC_STORE_STORE_H

#include <stddef.h>

#include "core/image.h"
#include "core/request.h"
#include "util/map.h"

typedef struct imgsync__store imgsync__store;

typedef struct imgsync__store_counts {
    uint64_t added, updated, removed;
} imgsync__store_counts;

/* Open a store from a URI: NULL or "memory:" -> in-memory. EUNSUPPORTED for other schemes. */
int imgsync__store_open(imgsync__store **out, const char *uri);
void imgsync__store_close(imgsync__store *s);
/*
 * Commit one repository scope: the rows of (provider, repository) that `sel` selects (tag
 * filters, non-image artifacts only when included) are
 * replaced by rows[0..n) (the store takes a reference on each). Rows of that repository that the
 * request does not select stay. Counts are added to *c.
 */
int imgsync__store_replace(imgsync__store *s, const char *provider, const char *repository,
                           struct imgsync_image **rows, size_t n, const imgsync_request *sel,
                           imgsync__store_counts *c);
/* After a complete catalog: remove the selected rows of repositories of `provider` that are not
 * keys of `seen`, whose namespace is not a key of `failed_ns` (may be NULL), and that `sel`
 * selects. */
int imgsync__store_prune(imgsync__store *s, const char *provider, const imgsync__map *seen,
                         const imgsync__map *failed_ns, const imgsync_request *sel, imgsync__store_counts *c);

/* Remove every row of a provider (when it is deleted). */
void imgsync__store_drop_provider(imgsync__store *s, const char *provider);
/* All rows, sorted by registry, repository, tag, each with a reference the caller drops with
 * imgsync__image_unref; *out freed with free(). */
int imgsync__store_snapshot(imgsync__store *s, struct imgsync_image ***out, size_t *n);
size_t imgsync__store_count(const imgsync__store *s);

#endif
