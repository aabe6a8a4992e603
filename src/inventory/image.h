/* Image rows: immutable and reference-counted once committed (internal). Fields are those of
 * inventory/fields.h, stored by field number. */
#ifndef IMGSYNC_INVENTORY_IMAGE_H
#define IMGSYNC_INVENTORY_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "imgsync.h"
#include "inventory/fields.h"

typedef union imgsync__value {
    char *s;   /* STRING fields: never NULL ("" shared) */
    int64_t i; /* SIZE, TIME, BOOL */
} imgsync__value;

struct imgsync_image {
    int refs;
    int type; /* imgsync_type */
    imgsync__value v[IMGSYNC__NFIELDS];
};

/* New row with refs = 1: registry, repository, tag copied, other strings "", size -1, numbers 0.
 * NULL on ENOMEM. */
struct imgsync_image *imgsync__image_new(const char *registry, const char *repository, const char *tag, int type);
struct imgsync_image *imgsync__image_ref(struct imgsync_image *im);
void imgsync__image_unref(struct imgsync_image *im);
/* Set a STRING field to a copy of s (NULL gives ""). 0, EINVAL (not a stored string field),
 * ENOMEM. */
int imgsync__image_set_str(struct imgsync_image *im, int field, const char *s);
/* Set a number field, normalized by kind: SIZE < 0 -> -1, TIME < 0 -> 0, BOOL -> 0/1. */
void imgsync__image_set_int(struct imgsync_image *im, int field, int64_t v);
/* Field values ("" / 0 for another kind); derived fields computed. */
const char *imgsync__image_str(const struct imgsync_image *im, int field);
int64_t imgsync__image_int(const struct imgsync_image *im, int field);
/* 1 when the content (type and DATA fields) of two rows differs. */
int imgsync__image_differs(const struct imgsync_image *a, const struct imgsync_image *b);
/* Order: registry, partition, repository, tag. For qsort over struct imgsync_image *. */
int imgsync__image_cmp(const void *a, const void *b);
/* Byte order of the rows' keys within a scope (SQLite's order of k_key). */
int imgsync__image_key_cmp(const struct imgsync_image *a, const struct imgsync_image *b);
/* Key of the row within its scope: the tag, or "@digest" when untagged. malloc'd, NULL on
 * ENOMEM. */
char *imgsync__image_key(const struct imgsync_image *im);
/* The same key without an allocation in the common case: the tag itself, or "@digest" written
 * into buf (cap bytes) or, when it does not fit, into *heap (malloc'd, for the caller to free;
 * else set to NULL). NULL on ENOMEM. */
const char *imgsync__image_key_tmp(const struct imgsync_image *im, char *buf, size_t cap, char **heap);
/* A size for the buf of imgsync__image_key_tmp that fits a "@" + sha512 digest. */
#define IMGSYNC__KEY_BUF 160

#endif
