/* String-keyed hash map of pointers (internal). Keys are copied; values are borrowed. */
#ifndef IMGSYNC_UTIL_MAP_H
#define IMGSYNC_UTIL_MAP_H

#include <stddef.h>

typedef struct imgsync__map_entry {
    char *key;   /* NULL = empty slot */
    void *value;
    int dead;    /* removed (tombstone) */
} imgsync__map_entry;

typedef struct imgsync__map {
    imgsync__map_entry *slots;
    size_t cap;   /* power of two, 0 before the first put */
    size_t count; /* live entries */
    size_t used;  /* live + tombstones */
} imgsync__map;

void imgsync__map_init(imgsync__map *m);
/* Free the keys and the table; values are the caller's (free them first with map_foreach). */
void imgsync__map_clear(imgsync__map *m);
void *imgsync__map_get(const imgsync__map *m, const char *key);
/* Insert or replace; *old (may be NULL) receives the replaced value. 0 or IMGSYNC_ENOMEM. */
int imgsync__map_put(imgsync__map *m, const char *key, void *value, void **old);
/* Remove and return the value (NULL when absent). */
void *imgsync__map_remove(imgsync__map *m, const char *key);
/* Iterate: start with *pos = 0; returns the next live entry or NULL at the end. The map must not
 * be modified during the walk, except by removing the entry just returned. */
imgsync__map_entry *imgsync__map_next(const imgsync__map *m, size_t *pos);

#endif
