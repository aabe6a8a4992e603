/* Option lists of providers and of the runs that copy them (internal). */
#ifndef IMGSYNC_CORE_OPTIONS_H
#define IMGSYNC_CORE_OPTIONS_H

#include <stddef.h>

typedef struct imgsync__option {
    char *key;
    char *value;
} imgsync__option;

typedef struct imgsync__options {
    imgsync__option *v;
    size_t n;
} imgsync__options;

/* Value of key, or NULL. */
const char *imgsync__options_get(const imgsync__options *o, const char *key);
/* 1 when key holds a true boolean ("true", "1", "yes", "on"). */
int imgsync__options_bool(const imgsync__options *o, const char *key);
/* Set (copy) or, with value NULL, remove. The old value is wiped. 0 or ENOMEM. */
int imgsync__options_set(imgsync__options *o, const char *key, const char *value);
/* Deep copy into an empty dst. 0 or ENOMEM (dst left empty). */
int imgsync__options_copy(imgsync__options *dst, const imgsync__options *src);
/* Wipe every value (secrets) and free the list; o is left empty. */
void imgsync__options_wipe(imgsync__options *o);

#endif
