/* libimgsync: the inventory (image rows) and its iterator. */
#ifndef IMGSYNC_INVENTORY_H
#define IMGSYNC_INVENTORY_H

#include <stddef.h>
#include <stdint.h>

#include "ctx.h"
#include "export.h"
#include "request.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct imgsync_image imgsync_image;
typedef struct imgsync_iter imgsync_iter;

/*
 * Iterate over the inventory rows that `req` selects (NULL = every row): its providers, types,
 * repositories, namespace/repository/tag filters and updated-since apply; include_non_images and
 * max_tags do not (rows of non-image artifacts kept from earlier syncs are shown). Order:
 * registry, partition, repository, tag. The iterator reads a consistent snapshot: later syncs do
 * not change what it yields, and it sees each repository's rows either before or after a sync's
 * commit of that repository, never half of it. With a SQLite store the filters run in SQL and
 * rows are read as they are asked for (memory stays flat for any inventory size; the snapshot
 * is a read transaction of its own, which never blocks a writer).
 * Errors: EINVAL, ENOMEM, ESTORE, ENOTFOUND (a provider named by req does not exist in ctx -
 * use imgsync_iter_new_stored to read the rows of registries not registered in this process).
 * Threads: safe from any thread, also while another thread drives the context; not beside
 * imgsync_ctx_free, nor beside creating or freeing a provider (req's provider names are looked
 * up).
 */
IMGSYNC_EXTERN int imgsync_iter_new(imgsync_iter **out, imgsync_ctx *ctx, const imgsync_request *req);
/* The same without checking that req's providers exist in ctx: reads whatever the store holds
 * (e.g. the imgsync CLI's `images` beside a daemon that owns the providers). */
IMGSYNC_EXTERN int imgsync_iter_new_stored(imgsync_iter **out, imgsync_ctx *ctx, const imgsync_request *req);
/* Next image (borrowed until the next call or iter_free), or NULL at the end. An iterator and its
 * images belong to the thread using them (one thread at a time), independent of the context's
 * driving thread; later syncs do not change it. */
IMGSYNC_EXTERN const imgsync_image *imgsync_iter_next(imgsync_iter *it);
IMGSYNC_EXTERN void imgsync_iter_free(imgsync_iter *it);
/* Number of rows in the inventory (0 for NULL). Safe from any thread, like imgsync_iter_new. */
IMGSYNC_EXTERN size_t imgsync_inventory_count(imgsync_ctx *ctx);

/*
 * Image getters. Strings are UTF-8, borrowed from the image, "" when unknown or not applicable,
 * never NULL (also for a NULL image); numbers are 0 when unknown unless said otherwise.
 */
IMGSYNC_EXTERN const char *imgsync_image_registry(const imgsync_image *im);      /* provider name */
IMGSYNC_EXTERN const char *imgsync_image_registry_type(const imgsync_image *im); /* "Oci", "SwrShared" ... */
IMGSYNC_EXTERN const char *imgsync_image_image_type(const imgsync_image *im);    /* "oci", "shared_image" ... */
/* The row's imgsync_type (the kind's default unless the provider typed the row). */
IMGSYNC_EXTERN int imgsync_image_type(const imgsync_image *im);
IMGSYNC_EXTERN const char *imgsync_image_host(const imgsync_image *im);          /* "host[:port]" to pull from */
/* Scope partition inside the registry: an SWR EE instance, a shared image's owner, a JFrog
 * repository key; "" for registries without partitions (OCI, Harbor). */
IMGSYNC_EXTERN const char *imgsync_image_partition(const imgsync_image *im);
IMGSYNC_EXTERN const char *imgsync_image_namespace(const imgsync_image *im);
IMGSYNC_EXTERN const char *imgsync_image_repository(const imgsync_image *im);
IMGSYNC_EXTERN const char *imgsync_image_tag(const imgsync_image *im); /* "" for an untagged artifact */
IMGSYNC_EXTERN const char *imgsync_image_digest(const imgsync_image *im);   /* "sha256:..." */
/* Size in bytes, -1 when not resolved. */
IMGSYNC_EXTERN int64_t imgsync_image_size(const imgsync_image *im);
/* Push / last update time, ms since the epoch (UTC); 0 when the registry does not say. */
IMGSYNC_EXTERN int64_t imgsync_image_update_ms(const imgsync_image *im);
/* When this row was last confirmed by a sync, ms since the epoch (UTC). */
IMGSYNC_EXTERN int64_t imgsync_image_sync_ms(const imgsync_image *im);
/* When a sync first stored this row (tag) - kept across updates of its digest. */
IMGSYNC_EXTERN int64_t imgsync_image_first_seen_ms(const imgsync_image *im);
IMGSYNC_EXTERN const char *imgsync_image_media_type(const imgsync_image *im);
/* Artifact kind where the registry types artifacts (Harbor: "IMAGE", "CHART", ...), else "". */
IMGSYNC_EXTERN const char *imgsync_image_artifact_type(const imgsync_image *im);
/* 1 for a manifest list / OCI index, 0 otherwise. */
IMGSYNC_EXTERN int imgsync_image_multi_arch(const imgsync_image *im);
/* SWR shared images: the owner account (domain) and "effective" / "expired". */
IMGSYNC_EXTERN const char *imgsync_image_owner(const imgsync_image *im);
IMGSYNC_EXTERN const char *imgsync_image_share_status(const imgsync_image *im);
/* SWR Enterprise Edition: the instance holding the image. */
IMGSYNC_EXTERN const char *imgsync_image_instance_id(const imgsync_image *im);
IMGSYNC_EXTERN const char *imgsync_image_instance_name(const imgsync_image *im);
/* Multi-arch images: "os/arch[/variant]" of each child, comma-separated, in index order (e.g.
 * "linux/amd64,linux/arm64/v8"); "" for single-arch images or when unknown. */
IMGSYNC_EXTERN const char *imgsync_image_platforms(const imgsync_image *im);
/* Creation time where the registry says (ms since the epoch, UTC), else 0. */
IMGSYNC_EXTERN int64_t imgsync_image_created_ms(const imgsync_image *im);

/*
 * The same fields by number, for bindings and generic output (the imgsync CLI's JSON keys come
 * from here). Field numbers are stable: new fields are only appended.
 */
typedef enum imgsync_field_kind {
    IMGSYNC_FIELD_STRING = 1, /* imgsync_image_field_string */
    IMGSYNC_FIELD_INT = 2,    /* imgsync_image_field_int */
    IMGSYNC_FIELD_BOOL = 3    /* imgsync_image_field_int, 0 or 1 */
} imgsync_field_kind;

/* Number of fields. */
IMGSYNC_EXTERN size_t imgsync_image_field_count(void);
/* JSON key of field i ("registry", "latest_update_time", ...; static), NULL past the end. */
IMGSYNC_EXTERN const char *imgsync_image_field_name(size_t i);
/* imgsync_field_kind of field i, 0 past the end. */
IMGSYNC_EXTERN int imgsync_image_field_kind(size_t i);
/* Value of a string field ("" for other kinds, past the end, or a NULL image). */
IMGSYNC_EXTERN const char *imgsync_image_field_string(const imgsync_image *im, size_t i);
/* Value of an int or bool field (0 for other kinds, past the end, or a NULL image). */
IMGSYNC_EXTERN int64_t imgsync_image_field_int(const imgsync_image *im, size_t i);

/*
 * The change feed: what each completed scope commit of a sync changed, row by row, kept with the
 * task history (task_retention). A caller scans exactly the new images of a sync by iterating its
 * ADDED and UPDATED changes.
 */
typedef enum imgsync_change_kind {
    IMGSYNC_CHANGE_ADDED = 1,   /* a row (tag) that was not in the inventory */
    IMGSYNC_CHANGE_UPDATED = 2, /* a row whose content changed (digest, size, media type ...) */
    IMGSYNC_CHANGE_REMOVED = 3  /* a row the registry no longer has */
} imgsync_change_kind;

typedef struct imgsync_change imgsync_change;
typedef struct imgsync_changes imgsync_changes;

/*
 * Iterate the changes of task `task_id` (since = 0), or of every task with an id greater than
 * `task_id` (since = 1; 0 gives all retained changes), ordered by task, then registry, partition,
 * repository, tag. A snapshot like imgsync_iter_new; any thread. Errors: EINVAL, ENOMEM, ESTORE
 * (no ENOTFOUND: a task without changes, or unknown, gives an empty iteration).
 */
IMGSYNC_EXTERN int imgsync_changes_new(imgsync_changes **out, imgsync_ctx *ctx, uint64_t task_id, int since);
/* Next change (borrowed until the next call or changes_free), NULL at the end. */
IMGSYNC_EXTERN const imgsync_change *imgsync_changes_next(imgsync_changes *it);
IMGSYNC_EXTERN void imgsync_changes_free(imgsync_changes *it);
IMGSYNC_EXTERN int imgsync_change_kind_of(const imgsync_change *c); /* imgsync_change_kind */
IMGSYNC_EXTERN uint64_t imgsync_change_task_id(const imgsync_change *c);
/* The row: as the sync stored it (added, updated) or as it was before (removed). Borrowed like
 * the change; every imgsync_image_* getter applies. */
IMGSYNC_EXTERN const imgsync_image *imgsync_change_image(const imgsync_change *c);
/* UPDATED: the digest and size before ("" / -1 for the other kinds). */
IMGSYNC_EXTERN const char *imgsync_change_old_digest(const imgsync_change *c);
IMGSYNC_EXTERN int64_t imgsync_change_old_size(const imgsync_change *c);

#ifdef __cplusplus
}
#endif
#endif /* IMGSYNC_INVENTORY_H */
