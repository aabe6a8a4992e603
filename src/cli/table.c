/*
 * imgsync: tables on stdout, streamed. The column widths come from the first TABLE_SAMPLE rows
 * (kept in memory until then); later rows are printed as they come, so that memory stays flat
 * for any number of rows (a longer cell further down only shifts the rest of its line).
 */
#include "cli/output.h"

#include <stdlib.h>
#include <string.h>

#define TABLE_SAMPLE 1000

struct table {
    size_t ncols;
    const char *const *titles;
    unsigned right; /* bit c: column c aligns right (numbers) */
    size_t *width;
    char **cells; /* up to TABLE_SAMPLE rows of ncols cells */
    size_t n;
    int streaming; /* the header and the sample are out */
};

table *table_new(size_t ncols, const char *const *titles, unsigned right_aligned)
{
    table *t = calloc(1, sizeof *t);
    size_t c;

    if (t == NULL)
        return NULL;
    t->ncols = ncols;
    t->titles = titles;
    t->right = right_aligned;
    t->width = calloc(ncols, sizeof *t->width);
    t->cells = calloc(ncols * TABLE_SAMPLE, sizeof *t->cells);
    if (t->width == NULL || t->cells == NULL) {
        table_end(t, 0);
        return NULL;
    }
    for (c = 0; c < ncols; c++)
        t->width[c] = strlen(titles[c]);
    return t;
}

static void print_line(const table *t, const char *const *cell)
{
    size_t c;

    for (c = 0; c < t->ncols; c++) {
        if (c == t->ncols - 1)
            printf("%s\n", cell[c]); /* no trailing blanks */
        else if (t->right & (1u << c))
            printf("%*s  ", (int)t->width[c], cell[c]);
        else
            printf("%-*s  ", (int)t->width[c], cell[c]);
    }
}

static void free_cells(char **cells, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        free(cells[i]);
}

/* Header and sample rows, with the sample's widths. */
static void flush_sample(table *t)
{
    size_t i;

    print_line(t, t->titles);
    for (i = 0; i < t->n; i++)
        print_line(t, (const char *const *)&t->cells[i * t->ncols]);
    free_cells(t->cells, t->n * t->ncols);
    t->n = 0;
    t->streaming = 1;
}

int table_row(table *t, char **cells)
{
    size_t c;
    int failed = 0;

    for (c = 0; c < t->ncols; c++) {
        if (cells[c] == NULL)
            failed = 1;
        else if (*sanitize_text(cells[c], 0) == '\0') {
            free(cells[c]);
            cells[c] = format("-");
            failed |= cells[c] == NULL;
        }
    }
    if (failed) {
        free_cells(cells, t->ncols);
        return -1;
    }
    if (t->streaming) {
        print_line(t, (const char *const *)cells);
        free_cells(cells, t->ncols);
        return 0;
    }
    for (c = 0; c < t->ncols; c++) {
        if (strlen(cells[c]) > t->width[c])
            t->width[c] = strlen(cells[c]);
        t->cells[t->n * t->ncols + c] = cells[c];
    }
    if (++t->n == TABLE_SAMPLE)
        flush_sample(t);
    return 0;
}

int table_end(table *t, int print)
{
    if (t == NULL)
        return -1;
    if (print && !t->streaming)
        flush_sample(t);
    if (t->cells != NULL)
        free_cells(t->cells, t->n * t->ncols);
    free(t->cells);
    free(t->width);
    free(t);
    return 0;
}
