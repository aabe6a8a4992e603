/* imgsync: the inventory on stdout, as a table, a JSON array or NDJSON. */
#include "cli/output.h"

#include <yajl/yajl_gen.h>

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- table: fixed columns ---- */

enum column {
    COL_REGISTRY,
    COL_TYPE,
    COL_REPOSITORY,
    COL_TAG,
    COL_DIGEST,
    COL_SIZE,
    COL_MULTI_ARCH,
    COL_UPDATED,
    NCOLS
};

static const char *const column_titles[NCOLS] = {
    "REGISTRY", "TYPE", "REPOSITORY", "TAG", "DIGEST", "SIZE", "MULTI_ARCH", "UPDATED",
};

typedef struct table_row {
    char *cell[NCOLS];
} table_row;

/* A table cell: "-" for unknown values, control characters and invalid UTF-8 replaced. */
static char *cell_text(const char *s)
{
    char *c = format("%s", *s ? s : "-");

    return c ? sanitize_text(c, 0) : NULL;
}

/* "sha256:0123456789ab": the algorithm and the first 12 hex digits are enough to tell apart. */
static char *short_digest(const char *digest)
{
    const char *colon = strchr(digest, ':');
    char *c;

    if (colon == NULL || strlen(colon + 1) <= 12)
        return cell_text(digest);
    c = format("%.*s%.12s", (int)(colon - digest + 1), digest, colon + 1);
    return c ? sanitize_text(c, 0) : NULL;
}

static char *human_size(int64_t size)
{
    static const char *const units[] = {"KiB", "MiB", "GiB", "TiB"};
    double v = (double)size;
    int u = -1;

    if (size < 0)
        return format("-");
    if (size < 1024)
        return format("%" PRId64 " B", size);
    while (v >= 1024.0 && u < 3) {
        v /= 1024.0;
        u++;
    }
    return format("%.1f %s", v, units[u]);
}

static char *iso_time(int64_t ms)
{
    time_t secs = (time_t)(ms / 1000);
    struct tm tm;
    char buf[32];

    if (ms <= 0 || gmtime_r(&secs, &tm) == NULL ||
        strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        return format("-");
    return format("%s", buf);
}

static void row_free(table_row *r)
{
    int c;

    for (c = 0; c < NCOLS; c++)
        free(r->cell[c]);
}

static int row_from_image(table_row *r, const imgsync_image *im)
{
    int c;

    r->cell[COL_REGISTRY] = cell_text(imgsync_image_registry(im));
    r->cell[COL_TYPE] = cell_text(imgsync_image_registry_type(im));
    r->cell[COL_REPOSITORY] = cell_text(imgsync_image_repository(im));
    r->cell[COL_TAG] = cell_text(imgsync_image_tag(im));
    r->cell[COL_DIGEST] = short_digest(imgsync_image_digest(im));
    r->cell[COL_SIZE] = human_size(imgsync_image_size(im));
    r->cell[COL_MULTI_ARCH] = format("%s", imgsync_image_multi_arch(im) ? "yes" : "no");
    r->cell[COL_UPDATED] = iso_time(imgsync_image_update_ms(im));
    for (c = 0; c < NCOLS; c++) {
        if (r->cell[c] == NULL) {
            row_free(r);
            return -1;
        }
    }
    return 0;
}

static void print_row(const char *const cell[NCOLS], const size_t width[NCOLS])
{
    int c;

    for (c = 0; c < NCOLS; c++) {
        if (c == NCOLS - 1)
            printf("%s\n", cell[c]); /* no trailing blanks */
        else if (c == COL_SIZE)
            printf("%*s  ", (int)width[c], cell[c]); /* numbers align right */
        else
            printf("%-*s  ", (int)width[c], cell[c]);
    }
}

typedef struct table {
    table_row *rows;
    size_t n, cap;
} table;

static int table_add(table *t, const imgsync_image *im)
{
    if (t->n == t->cap) {
        size_t ncap = t->cap ? t->cap * 2 : 64;
        table_row *nrows = realloc(t->rows, ncap * sizeof *nrows);
        if (nrows == NULL)
            return -1;
        t->rows = nrows;
        t->cap = ncap;
    }
    if (row_from_image(&t->rows[t->n], im) != 0)
        return -1;
    t->n++;
    return 0;
}

static void table_print(const table *t)
{
    size_t i, width[NCOLS];
    int c;

    for (c = 0; c < NCOLS; c++)
        width[c] = strlen(column_titles[c]);
    for (i = 0; i < t->n; i++)
        for (c = 0; c < NCOLS; c++)
            if (strlen(t->rows[i].cell[c]) > width[c])
                width[c] = strlen(t->rows[i].cell[c]);
    print_row(column_titles, width);
    for (i = 0; i < t->n; i++)
        print_row((const char *const *)t->rows[i].cell, width);
}

/* Rows are collected first: column widths depend on every row. */
static int print_table(imgsync_iter *it)
{
    table t = {NULL, 0, 0};
    const imgsync_image *im;
    int status = 0;
    size_t i;

    while (status == 0 && (im = imgsync_iter_next(it)) != NULL)
        status = table_add(&t, im);
    if (status == 0)
        table_print(&t);
    for (i = 0; i < t.n; i++)
        row_free(&t.rows[i]);
    free(t.rows);
    return status;
}

/* ---- json / ndjson: one key per field of the library's row field table ---- */

static void print_to_file(void *file, const char *s, size_t len)
{
    fwrite(s, 1, len, (FILE *)file);
}

/*
 * A string as JSON. yajl escapes C0 controls; C1 controls and bytes that are not UTF-8 become
 * '?' as on the terminal, so that the output is valid JSON and safe to display.
 */
static int gen_string(yajl_gen g, const char *s)
{
    yajl_gen_status st;
    char *copy;

    if (text_is_clean(s, 1))
        return yajl_gen_string(g, (const unsigned char *)s, strlen(s)) == yajl_gen_status_ok ? 0 : -1;
    if ((copy = format("%s", s)) == NULL)
        return -1;
    sanitize_text(copy, 1);
    st = yajl_gen_string(g, (const unsigned char *)copy, strlen(copy));
    free(copy);
    return st == yajl_gen_status_ok ? 0 : -1;
}

/* Field i of the image: a string, an integer (null when negative: "not known", e.g. a size
 * that was not resolved, so that nobody adds it up), or a boolean. */
static int gen_field(yajl_gen g, const imgsync_image *im, size_t i)
{
    int64_t v;

    switch (imgsync_image_field_kind(i)) {
    case IMGSYNC_FIELD_STRING:
        return gen_string(g, imgsync_image_field_string(im, i));
    case IMGSYNC_FIELD_INT:
        v = imgsync_image_field_int(im, i);
        return (v < 0 ? yajl_gen_null(g) : yajl_gen_integer(g, (long long)v)) != yajl_gen_status_ok;
    case IMGSYNC_FIELD_BOOL:
        return yajl_gen_bool(g, imgsync_image_field_int(im, i) != 0) != yajl_gen_status_ok;
    default:
        return yajl_gen_null(g) != yajl_gen_status_ok;
    }
}

static int gen_image(yajl_gen g, const imgsync_image *im)
{
    size_t i, n = imgsync_image_field_count();
    int failed = 0;

    failed |= yajl_gen_map_open(g) != yajl_gen_status_ok;
    for (i = 0; i < n && !failed; i++) {
        failed |= gen_string(g, imgsync_image_field_name(i));
        failed |= gen_field(g, im, i) != 0;
    }
    failed |= yajl_gen_map_close(g) != yajl_gen_status_ok;
    return failed ? -1 : 0;
}

/* json: one array (indented); ndjson: one compact object per line. Streamed to stdout. */
static int print_json(imgsync_iter *it, int ndjson)
{
    const imgsync_image *im = imgsync_iter_next(it);
    yajl_gen g;
    int failed = 0;

    if (!ndjson && im == NULL) {
        fputs("[]\n", stdout); /* yajl would spread an empty array over three lines */
        return 0;
    }
    if ((g = yajl_gen_alloc(NULL)) == NULL)
        return -1;
    yajl_gen_config(g, yajl_gen_print_callback, print_to_file, (void *)stdout);
    yajl_gen_config(g, yajl_gen_validate_utf8, 1);
    if (!ndjson) {
        yajl_gen_config(g, yajl_gen_beautify, 1);
        yajl_gen_config(g, yajl_gen_indent_string, "  ");
        failed |= yajl_gen_array_open(g) != yajl_gen_status_ok;
    }
    for (; im != NULL && !failed; im = imgsync_iter_next(it)) {
        failed |= gen_image(g, im);
        if (ndjson)
            yajl_gen_reset(g, "\n"); /* ends the line, ready for the next object */
    }
    if (!ndjson && !failed)
        failed |= yajl_gen_array_close(g) != yajl_gen_status_ok; /* beautify adds the '\n' */
    yajl_gen_free(g);
    return failed ? -1 : 0;
}

int print_inventory(imgsync_ctx *ctx, const imgsync_request *req, enum output_format fmt)
{
    imgsync_iter *it = NULL;
    int rc = imgsync_iter_new(&it, ctx, req), failed;

    if (rc != 0) {
        lib_error(ctx, rc, "cannot read the inventory");
        return EXIT_FAIL;
    }
    failed = fmt == FORMAT_TABLE ? print_table(it) : print_json(it, fmt == FORMAT_NDJSON);
    imgsync_iter_free(it);
    if (failed) {
        errorf("cannot print the inventory: out of memory");
        return EXIT_FAIL;
    }
    if (fflush(stdout) != 0 || ferror(stdout)) {
        errorf("cannot write the inventory: %s", strerror(errno));
        return EXIT_FAIL;
    }
    return 0;
}
