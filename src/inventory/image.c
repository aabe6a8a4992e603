/* Image rows, their public getters and the generic field API, all from the field table. */
#include "image.h"

#include <stdlib.h>
#include <string.h>

#include "util/buf.h"

static char empty[] = "";

#define KIND(k) IMGSYNC__K_##k
#define ROLE(r) IMGSYNC__R_##r
const imgsync__field imgsync__fields[IMGSYNC__NFIELDS] = {
#define IMGSYNC__FIELD_ROW(name, key, kind, role) {#name, key, KIND(kind), ROLE(role)},
    IMGSYNC__ROW_FIELDS(IMGSYNC__FIELD_ROW)
#undef IMGSYNC__FIELD_ROW
};

static int stored_string(int f)
{
    return f >= 0 && f < IMGSYNC__NFIELDS && imgsync__fields[f].kind == IMGSYNC__K_STRING &&
           imgsync__fields[f].role != IMGSYNC__R_DERIVED;
}

static int number(int f) { return f >= 0 && f < IMGSYNC__NFIELDS && imgsync__fields[f].kind != IMGSYNC__K_STRING; }

static void free_str(char *s)
{
    if (s != empty)
        free(s);
}

struct imgsync_image *imgsync__image_new(const char *registry, const char *repository, const char *tag, int type)
{
    struct imgsync_image *im = calloc(1, sizeof(*im));
    if (!im)
        return NULL;
    im->refs = 1;
    im->type = type;
    for (int f = 0; f < IMGSYNC__NFIELDS; f++)
        if (stored_string(f))
            im->v[f].s = empty;
    im->v[IMGSYNC__F_size].i = -1;
    if (imgsync__image_set_str(im, IMGSYNC__F_registry, registry) ||
        imgsync__image_set_str(im, IMGSYNC__F_repository, repository) ||
        imgsync__image_set_str(im, IMGSYNC__F_tag, tag)) {
        imgsync__image_unref(im);
        return NULL;
    }
    return im;
}

int imgsync__image_set_str(struct imgsync_image *im, int field, const char *s)
{
    if (!stored_string(field))
        return IMGSYNC_EINVAL;
    char *copy = (s && *s) ? imgsync__strdup(s) : empty;
    if (!copy)
        return IMGSYNC_ENOMEM;
    free_str(im->v[field].s);
    im->v[field].s = copy;
    return 0;
}

void imgsync__image_set_int(struct imgsync_image *im, int field, int64_t v)
{
    if (!number(field))
        return;
    switch (imgsync__fields[field].kind) {
    case IMGSYNC__K_SIZE: v = v < 0 ? -1 : v; break;
    case IMGSYNC__K_TIME: v = v < 0 ? 0 : v; break;
    default: v = v ? 1 : 0; break;
    }
    im->v[field].i = v;
}

const char *imgsync__image_str(const struct imgsync_image *im, int field)
{
    if (!im)
        return "";
    if (field == IMGSYNC__F_registry_type || field == IMGSYNC__F_image_type) {
        const char *s = field == IMGSYNC__F_registry_type ? imgsync_type_registry_name(im->type)
                                                          : imgsync_type_image_name(im->type);
        return s ? s : "";
    }
    return stored_string(field) ? im->v[field].s : "";
}

int64_t imgsync__image_int(const struct imgsync_image *im, int field)
{
    return im && number(field) ? im->v[field].i : 0;
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
    for (int f = 0; f < IMGSYNC__NFIELDS; f++)
        if (stored_string(f))
            free_str(im->v[f].s);
    free(im);
}

int imgsync__image_differs(const struct imgsync_image *a, const struct imgsync_image *b)
{
    if (a->type != b->type)
        return 1;
    for (int f = 0; f < IMGSYNC__NFIELDS; f++) {
        if (imgsync__fields[f].role != IMGSYNC__R_DATA)
            continue;
        if (stored_string(f) ? strcmp(a->v[f].s, b->v[f].s) != 0 : a->v[f].i != b->v[f].i)
            return 1;
    }
    return 0;
}

int imgsync__image_cmp(const void *pa, const void *pb)
{
    const struct imgsync_image *a = *(const struct imgsync_image *const *)pa;
    const struct imgsync_image *b = *(const struct imgsync_image *const *)pb;
    static const int order[] = {IMGSYNC__F_registry, IMGSYNC__F_partition, IMGSYNC__F_repository, IMGSYNC__F_tag};
    for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
        int c = strcmp(a->v[order[i]].s, b->v[order[i]].s);
        if (c)
            return c;
    }
    return strcmp(a->v[IMGSYNC__F_digest].s, b->v[IMGSYNC__F_digest].s);
}

/* A key's byte at i ('@' then the digest for an untagged row); 0 past its end. */
static unsigned char key_at(const struct imgsync_image *im, size_t i)
{
    const char *tag = im->v[IMGSYNC__F_tag].s;
    if (tag[0])
        return (unsigned char)tag[i];
    return i == 0 ? '@' : (unsigned char)im->v[IMGSYNC__F_digest].s[i - 1];
}

int imgsync__image_key_cmp(const struct imgsync_image *a, const struct imgsync_image *b)
{
    for (size_t i = 0;; i++) {
        unsigned char x = key_at(a, i), y = key_at(b, i);
        if (x != y || !x)
            return (x > y) - (x < y);
    }
}

char *imgsync__image_key(const struct imgsync_image *im)
{
    const char *tag = im->v[IMGSYNC__F_tag].s;
    return tag[0] ? imgsync__strdup(tag) : imgsync__asprintf("@%s", im->v[IMGSYNC__F_digest].s);
}

const char *imgsync__image_key_tmp(const struct imgsync_image *im, char *buf, size_t cap, char **heap)
{
    const char *tag = im->v[IMGSYNC__F_tag].s, *digest = im->v[IMGSYNC__F_digest].s;
    *heap = NULL;
    if (tag[0])
        return tag;
    size_t n = strlen(digest);
    if (n + 2 > cap)
        return *heap = imgsync__asprintf("@%s", digest);
    buf[0] = '@';
    memcpy(buf + 1, digest, n + 1);
    return buf;
}

/* ---- public getters, generated from the table ------------------------------------------- */

#define GET_STRING(name)                                                                        \
    const char *imgsync_image_##name(const imgsync_image *im) { return imgsync__image_str(im, IMGSYNC__F_##name); }
#define GET_SIZE(name)                                                                          \
    int64_t imgsync_image_##name(const imgsync_image *im) { return im ? im->v[IMGSYNC__F_##name].i : -1; }
#define GET_TIME(name)                                                                          \
    int64_t imgsync_image_##name(const imgsync_image *im) { return imgsync__image_int(im, IMGSYNC__F_##name); }
#define GET_BOOL(name)                                                                          \
    int imgsync_image_##name(const imgsync_image *im) { return (int)imgsync__image_int(im, IMGSYNC__F_##name); }
#define GETTER(name, key, kind, role) GET_##kind(name)
IMGSYNC__ROW_FIELDS(GETTER)
#undef GETTER

int imgsync_image_type(const imgsync_image *im) { return im ? im->type : 0; }

/* ---- the generic field API ------------------------------------------------------------------ */

size_t imgsync_image_field_count(void) { return IMGSYNC__NFIELDS; }

const char *imgsync_image_field_name(size_t i) { return i < IMGSYNC__NFIELDS ? imgsync__fields[i].key : NULL; }

int imgsync_image_field_kind(size_t i)
{
    if (i >= IMGSYNC__NFIELDS)
        return 0;
    switch (imgsync__fields[i].kind) {
    case IMGSYNC__K_STRING: return IMGSYNC_FIELD_STRING;
    case IMGSYNC__K_BOOL: return IMGSYNC_FIELD_BOOL;
    default: return IMGSYNC_FIELD_INT;
    }
}

const char *imgsync_image_field_string(const imgsync_image *im, size_t i)
{
    return i < IMGSYNC__NFIELDS ? imgsync__image_str(im, (int)i) : "";
}

int64_t imgsync_image_field_int(const imgsync_image *im, size_t i)
{
    return i < IMGSYNC__NFIELDS ? imgsync__image_int(im, (int)i) : 0;
}
