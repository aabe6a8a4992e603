/* String-keyed hash map: open addressing with linear probing and tombstones. */
#include "map.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "imgsync.h"
#include "util/buf.h"

/* FNV-1a: small, good enough spread for names, no dependency. */
static size_t hash_key(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return (size_t)(h ^ (h >> 29));
}

void imgsync__map_init(imgsync__map *m) { memset(m, 0, sizeof(*m)); }

void imgsync__map_clear(imgsync__map *m)
{
    for (size_t i = 0; i < m->cap; i++)
        free(m->slots[i].key);
    free(m->slots);
    imgsync__map_init(m);
}

static imgsync__map_entry *find_slot(const imgsync__map *m, const char *key)
{
    if (!m->cap)
        return NULL;
    size_t mask = m->cap - 1;
    for (size_t i = hash_key(key) & mask, n = 0; n < m->cap; i = (i + 1) & mask, n++) {
        imgsync__map_entry *e = &m->slots[i];
        if (!e->key && !e->dead)
            return NULL;
        if (e->key && strcmp(e->key, key) == 0)
            return e;
    }
    return NULL;
}

void *imgsync__map_get(const imgsync__map *m, const char *key)
{
    imgsync__map_entry *e = find_slot(m, key);
    return e ? e->value : NULL;
}

static int map_grow(imgsync__map *m)
{
    size_t cap = m->cap ? m->cap * 2 : 16;
    if (m->count * 4 < m->cap) /* mostly tombstones: rehash at the same size */
        cap = m->cap;
    imgsync__map_entry *slots = calloc(cap, sizeof(*slots));
    if (!slots)
        return IMGSYNC_ENOMEM;
    for (size_t i = 0; i < m->cap; i++) {
        imgsync__map_entry *e = &m->slots[i];
        if (!e->key)
            continue;
        size_t j = hash_key(e->key) & (cap - 1);
        while (slots[j].key)
            j = (j + 1) & (cap - 1);
        slots[j].key = e->key;
        slots[j].value = e->value;
    }
    free(m->slots);
    m->slots = slots;
    m->cap = cap;
    m->used = m->count;
    return 0;
}

int imgsync__map_put(imgsync__map *m, const char *key, void *value, void **old)
{
    imgsync__map_entry *e = find_slot(m, key);
    if (old)
        *old = e ? e->value : NULL;
    if (e) {
        e->value = value;
        return 0;
    }
    if ((m->used + 1) * 4 > m->cap * 3 && map_grow(m))
        return IMGSYNC_ENOMEM;
    char *copy = imgsync__strdup(key);
    if (!copy)
        return IMGSYNC_ENOMEM;
    size_t mask = m->cap - 1;
    size_t i = hash_key(key) & mask;
    while (m->slots[i].key)
        i = (i + 1) & mask;
    if (!m->slots[i].dead)
        m->used++;
    m->slots[i].key = copy;
    m->slots[i].value = value;
    m->slots[i].dead = 0;
    m->count++;
    return 0;
}

void *imgsync__map_remove(imgsync__map *m, const char *key)
{
    imgsync__map_entry *e = find_slot(m, key);
    if (!e)
        return NULL;
    void *v = e->value;
    free(e->key);
    e->key = NULL;
    e->value = NULL;
    e->dead = 1;
    m->count--;
    return v;
}

imgsync__map_entry *imgsync__map_next(const imgsync__map *m, size_t *pos)
{
    while (*pos < m->cap) {
        imgsync__map_entry *e = &m->slots[(*pos)++];
        if (e->key)
            return e;
    }
    return NULL;
}
