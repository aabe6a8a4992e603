/* imgsync: inventory rows on stdout, as a table, a JSON array or NDJSON, streamed. */
#include "cli/output.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* ---- table cells ---- */

static const char *const image_titles[IMAGE_COLUMNS] = {
    "REGISTRY", "TYPE", "REPOSITORY", "TAG", "DIGEST", "SIZE", "MULTI_ARCH", "UPDATED",
};

/* "sha256:0123456789ab": the algorithm and the first 12 hex digits are enough to tell apart. */
char *short_digest(const char *digest)
{
    const char *colon = strchr(digest, ':');

    if (colon == NULL || strlen(colon + 1) <= 12)
        return format("%s", digest);
    return format("%.*s%.12s", (int)(colon - digest + 1), digest, colon + 1);
}

char *human_size(int64_t size)
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

void image_cells(const imgsync_image *im, char **cell)
{
    cell[0] = format("%s", imgsync_image_registry(im));
    cell[1] = format("%s", imgsync_image_registry_type(im));
    cell[2] = format("%s", imgsync_image_repository(im));
    cell[3] = format("%s", imgsync_image_tag(im));
    cell[4] = short_digest(imgsync_image_digest(im));
    cell[5] = human_size(imgsync_image_size(im));
    cell[6] = format("%s", imgsync_image_multi_arch(im) ? "yes" : "no");
    cell[7] = iso_time(imgsync_image_update_ms(im));
}

/* The next row the caller wants: one a sync confirmed at or after min_sync_ms (0 = any). */
static const imgsync_image *next_row(imgsync_iter *it, int64_t min_sync_ms)
{
    const imgsync_image *im;

    while ((im = imgsync_iter_next(it)) != NULL && imgsync_image_sync_ms(im) < min_sync_ms)
        ;
    return im;
}

static int print_table(imgsync_iter *it, int64_t min_sync_ms)
{
    table *t = table_new(IMAGE_COLUMNS, image_titles, 1u << 5);
    char *cell[IMAGE_COLUMNS];
    const imgsync_image *im;
    int failed = t == NULL;

    while (!failed && (im = next_row(it, min_sync_ms)) != NULL) {
        image_cells(im, cell);
        failed = table_row(t, cell) != 0;
    }
    table_end(t, !failed);
    return failed ? -1 : 0;
}

/* ---- json / ndjson: one key per field of the library's row field table ---- */

/* The rows for json_print_items. */
typedef struct row_cursor {
    imgsync_iter *it;
    int64_t min_sync_ms;
    const imgsync_image *im;
} row_cursor;

static int next_image(void *state)
{
    row_cursor *c = state;
    return (c->im = next_row(c->it, c->min_sync_ms)) != NULL;
}

static int json_image(yajl_gen g, void *state)
{
    const imgsync_image *im = ((row_cursor *)state)->im;
    return json_open_map(g) != 0 || json_image_fields(g, im) != 0 || json_close_map(g) != 0 ? -1 : 0;
}

/* json: one array (indented); ndjson: one compact object per line. Streamed to stdout. */
static int print_json(imgsync_iter *it, int ndjson, int64_t min_sync_ms)
{
    row_cursor c = {it, min_sync_ms, NULL};
    return json_print_items(&c, next_image, json_image, ndjson);
}

int finish_stdout(const char *what)
{
    if (fflush(stdout) != 0 || ferror(stdout)) {
        errorf("cannot write the %s: %s", what, strerror(errno));
        return EXIT_FAIL;
    }
    return 0;
}

int print_inventory(imgsync_ctx *ctx, const imgsync_request *req, enum output_format fmt, int stored,
                    int64_t min_sync_ms)
{
    imgsync_iter *it = NULL;
    int rc = stored ? imgsync_iter_new_stored(&it, ctx, req) : imgsync_iter_new(&it, ctx, req);
    int failed;

    if (rc != 0) {
        lib_error(ctx, rc, "cannot read the inventory");
        return EXIT_FAIL;
    }
    failed = fmt == FORMAT_TABLE ? print_table(it, min_sync_ms)
                                 : print_json(it, fmt == FORMAT_NDJSON, min_sync_ms);
    imgsync_iter_free(it);
    if (failed) {
        errorf("cannot print the inventory: out of memory");
        return EXIT_FAIL;
    }
    return finish_stdout("inventory");
}
