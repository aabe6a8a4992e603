/*
 * Sorted lists of text lines, for integration tests that compare an inventory with what an
 * emulator publishes row by row (one line per row, fields joined by '|'): build both lists, sort
 * them, and name the first line where they differ.
 */
#ifndef IMGSYNC_TESTS_LINES_H
#define IMGSYNC_TESTS_LINES_H

#include <stddef.h>

typedef struct lines {
    char **v;
    size_t n;
} lines;

/* Append s (malloc'd; the list takes it). Aborts on NULL or out of memory: a test cannot go on. */
void lines_add(lines *l, char *s);
void lines_sort(lines *l);
void lines_free(lines *l);
/* Index of the first line where the sorted lists differ; equal lists give a->n (== b->n). */
size_t lines_first_difference(const lines *a, const lines *b);

#endif
