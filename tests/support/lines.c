/* Sorted lists of text lines (see lines.h). */
#include "support/lines.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void lines_add(lines *l, char *s)
{
    char **grown = s ? realloc(l->v, (l->n + 1) * sizeof(*grown)) : NULL;
    if (!grown) {
        fprintf(stderr, "lines_add: out of memory\n");
        abort();
    }
    l->v = grown;
    l->v[l->n++] = s;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

void lines_sort(lines *l)
{
    if (l->n)
        qsort(l->v, l->n, sizeof(*l->v), cmp_str);
}

void lines_free(lines *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

size_t lines_first_difference(const lines *a, const lines *b)
{
    size_t i = 0;
    while (i < a->n && i < b->n && !strcmp(a->v[i], b->v[i]))
        i++;
    return i;
}
