/* Image rows and their public getters. */
#include "image.h"

#include <stdlib.h>
#include <string.h>

#include "util/buf.h"

static char empty[] = "";

static void free_str(char *s)
{
    if (s != empty)
        free(s);
}

struct imgsync_image *imgsync__image_new(const char *registry, const char *repository, const char *tag)
{
    struct imgsync_image *im = calloc(1, sizeof(*im));
    if (!im)
        return NULL;
    im->refs = 1;
    im->registry = imgsync__strdup(registry ? registry : "");
    im->repository = imgsync__strdup(repository ? repository : "");
    im->tag = imgsync__strdup(tag ? tag : "");
    im->host = im->namespace_ = im->digest = im->media_type = im->artifact_type = empty;
    im->registry_type = im->image_type = "";
    im->size = -1;
    if (!im->registry || !im->repository || !im->tag) {
        imgsync__image_unref(im);
        return NULL;
    }
    return im;
}

int imgsync__image_set(char **slot, const char *s)
{
    char *copy = (s && *s) ? imgsync__strdup(s) : empty;
    if (!copy)
        return IMGSYNC_ENOMEM;
    free_str(*slot);
    *slot = copy;
    return 0;
}

/* Atomic: an iterator's snapshot may be freed on another thread than the one syncing. */
struct imgsync_image *imgsync__image_ref(struct imgsync_image *im)
{
    if (im)
        __atomic_add_fetch(&im->refs, 1, __ATOMIC_RELAXED);
    return im;
}

void imgsync__image_unref(struct imgsync_image *im)
{
    if (!im || __atomic_sub_fetch(&im->refs, 1, __ATOMIC_ACQ_REL) > 0)
        return;
    free(im->registry);
    free(im->repository);
    free(im->tag);
    free_str(im->host);
    free_str(im->namespace_);
    free_str(im->digest);
    free_str(im->media_type);
    free_str(im->artifact_type);
    free(im);
}

int imgsync__image_differs(const struct imgsync_image *a, const struct imgsync_image *b)
{
    return strcmp(a->digest, b->digest) || strcmp(a->media_type, b->media_type) ||
           strcmp(a->artifact_type, b->artifact_type) ||
           strcmp(a->host, b->host) || strcmp(a->namespace_, b->namespace_) || a->size != b->size ||
           a->update_ms != b->update_ms || a->multi_arch != b->multi_arch;
}

int imgsync__image_cmp(const void *pa, const void *pb)
{
    const struct imgsync_image *a = *(const struct imgsync_image *const *)pa;
    const struct imgsync_image *b = *(const struct imgsync_image *const *)pb;
    int c = strcmp(a->registry, b->registry);
    if (!c)
        c = strcmp(a->repository, b->repository);
    if (!c)
        c = strcmp(a->tag, b->tag);
    return c;
}

const char *imgsync_image_registry(const imgsync_image *im) { return im ? im->registry : ""; }
const char *imgsync_image_registry_type(const imgsync_image *im) { return im ? im->registry_type : ""; }
const char *imgsync_image_image_type(const imgsync_image *im) { return im ? im->image_type : ""; }
const char *imgsync_image_host(const imgsync_image *im) { return im ? im->host : ""; }
const char *imgsync_image_namespace(const imgsync_image *im) { return im ? im->namespace_ : ""; }
const char *imgsync_image_repository(const imgsync_image *im) { return im ? im->repository : ""; }
const char *imgsync_image_tag(const imgsync_image *im) { return im ? im->tag : ""; }
const char *imgsync_image_digest(const imgsync_image *im) { return im ? im->digest : ""; }
const char *imgsync_image_media_type(const imgsync_image *im) { return im ? im->media_type : ""; }
const char *imgsync_image_artifact_type(const imgsync_image *im) { return im ? im->artifact_type : ""; }
int64_t imgsync_image_size(const imgsync_image *im) { return im ? im->size : -1; }
int64_t imgsync_image_update_ms(const imgsync_image *im) { return im ? im->update_ms : 0; }
int64_t imgsync_image_sync_ms(const imgsync_image *im) { return im ? im->sync_ms : 0; }
int imgsync_image_multi_arch(const imgsync_image *im) { return im ? im->multi_arch : 0; }
