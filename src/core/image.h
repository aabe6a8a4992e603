/* Image rows: immutable, reference-counted once committed (internal). */
#ifndef IMGSYNC_CORE_IMAGE_H
#define IMGSYNC_CORE_IMAGE_H

#include <stdint.h>

#include "imgsync.h"

struct imgsync_image {
    int refs;
    char *registry;      /* provider name */
    const char *registry_type; /* static strings */
    const char *image_type;
    char *host;
    char *namespace_;
    char *repository;
    char *tag;
    char *digest;
    char *media_type;
    char *artifact_type; /* "IMAGE", "CHART" ... where the registry says */
    int64_t size;        /* -1 unknown */
    int64_t update_ms;
    int64_t sync_ms;
    int multi_arch;
};

/* New row with refs = 1 and every string "" (registry, repository, tag copied). NULL on ENOMEM. */
struct imgsync_image *imgsync__image_new(const char *registry, const char *repository, const char *tag);
struct imgsync_image *imgsync__image_ref(struct imgsync_image *im);
void imgsync__image_unref(struct imgsync_image *im);
/* Replace one of the row's string fields with a copy of s (NULL gives ""). 0 or ENOMEM. */
int imgsync__image_set(char **slot, const char *s);
/* 1 when the content (everything but sync time) of two rows differs. */
int imgsync__image_differs(const struct imgsync_image *a, const struct imgsync_image *b);
/* Order: registry, repository, tag. For qsort over struct imgsync_image *. */
int imgsync__image_cmp(const void *a, const void *b);

#endif
