/* Option lists; values are wiped before their memory is given back (some are secrets). */
#include "options.h"

#include <stdlib.h>
#include <string.h>

#include "imgsync/errors.h"
#include "util/buf.h"

const char *imgsync__options_get(const imgsync__options *o, const char *key)
{
    for (size_t i = 0; o && key && i < o->n; i++)
        if (!strcmp(o->v[i].key, key))
            return o->v[i].value;
    return NULL;
}

int imgsync__options_bool(const imgsync__options *o, const char *key)
{
    int b = 0;
    const char *v = imgsync__options_get(o, key);
    return v && imgsync__parse_bool(v, &b) == 0 && b;
}

int imgsync__options_set(imgsync__options *o, const char *key, const char *value)
{
    for (size_t i = 0; i < o->n; i++) {
        if (strcmp(o->v[i].key, key) != 0)
            continue;
        if (!value) {
            free(o->v[i].key);
            imgsync__wipe_free(o->v[i].value);
            o->v[i] = o->v[--o->n];
            return 0;
        }
        char *copy = imgsync__strdup(value);
        if (!copy)
            return IMGSYNC_ENOMEM;
        imgsync__wipe_free(o->v[i].value);
        o->v[i].value = copy;
        return 0;
    }
    if (!value)
        return 0;
    imgsync__option *arr = realloc(o->v, (o->n + 1) * sizeof(*arr));
    if (!arr)
        return IMGSYNC_ENOMEM;
    o->v = arr;
    char *k = imgsync__strdup(key), *v = imgsync__strdup(value);
    if (!k || !v) {
        free(k);
        imgsync__wipe_free(v);
        return IMGSYNC_ENOMEM;
    }
    o->v[o->n].key = k;
    o->v[o->n].value = v;
    o->n++;
    return 0;
}

int imgsync__options_copy(imgsync__options *dst, const imgsync__options *src)
{
    dst->v = NULL;
    dst->n = 0;
    for (size_t i = 0; i < src->n; i++) {
        if (imgsync__options_set(dst, src->v[i].key, src->v[i].value)) {
            imgsync__options_wipe(dst);
            return IMGSYNC_ENOMEM;
        }
    }
    return 0;
}

void imgsync__options_wipe(imgsync__options *o)
{
    for (size_t i = 0; i < o->n; i++) {
        free(o->v[i].key);
        imgsync__wipe_free(o->v[i].value);
    }
    free(o->v);
    o->v = NULL;
    o->n = 0;
}
