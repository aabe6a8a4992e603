/* imgsync: reading the store - `images` (the stored inventory) and `changes` (the change feed).
 * Both stream: rows are printed as the iterator yields them, memory stays flat. */
#include "cli/output.h"

#include <inttypes.h>
#include <stdlib.h>

/* ---- images ---- */

int cmd_images(const options *o)
{
    strlist wanted = {NULL, 0, 0};
    imgsync_request *req = NULL;
    imgsync_ctx *ctx = NULL;
    config cfg;
    int status;

    if ((status = load_optional_config(o, &cfg)) == 0 &&
        (status = build_request(o, &cfg, &req, &wanted)) == 0 &&
        (status = open_store(o, DB_DEFAULT, &ctx)) == 0)
        status = print_inventory(ctx, req, o->format, 1, 0);
    strlist_free(&wanted);
    imgsync_request_free(req);
    imgsync_ctx_free(ctx);
    config_free(&cfg);
    return status;
}

/* ---- changes ---- */

static const char *change_kind_name(int kind)
{
    switch (kind) {
    case IMGSYNC_CHANGE_ADDED:
        return "added";
    case IMGSYNC_CHANGE_UPDATED:
        return "updated";
    case IMGSYNC_CHANGE_REMOVED:
        return "removed";
    default:
        return "unknown";
    }
}

#define CHANGE_COLUMNS (IMAGE_COLUMNS + 4)
static const char *const change_titles[CHANGE_COLUMNS] = {
    "KIND", "TASK", "REGISTRY", "TYPE", "REPOSITORY", "TAG", "DIGEST", "SIZE", "MULTI_ARCH",
    "UPDATED", "OLD_DIGEST", "OLD_SIZE",
};

static int change_row(table *tb, const imgsync_change *c)
{
    int updated = imgsync_change_kind_of(c) == IMGSYNC_CHANGE_UPDATED;
    char *cell[CHANGE_COLUMNS];

    cell[0] = format("%s", change_kind_name(imgsync_change_kind_of(c)));
    cell[1] = format("%" PRIu64, imgsync_change_task_id(c));
    image_cells(imgsync_change_image(c), cell + 2);
    cell[CHANGE_COLUMNS - 2] = updated ? short_digest(imgsync_change_old_digest(c)) : format("-");
    cell[CHANGE_COLUMNS - 1] = updated ? human_size(imgsync_change_old_size(c)) : format("-");
    return table_row(tb, cell);
}

static int print_changes_table(imgsync_changes *it)
{
    table *tb = table_new(CHANGE_COLUMNS, change_titles, (1u << 1) | (1u << 7) | (1u << 11));
    const imgsync_change *c;
    int failed = tb == NULL;

    while (!failed && (c = imgsync_changes_next(it)) != NULL)
        failed = change_row(tb, c) != 0;
    table_end(tb, !failed);
    return failed ? -1 : 0;
}

/* {"kind": ..., "task_id": ..., <the row's fields>, "old_digest": ..., "old_size": ...} */
static int json_change(yajl_gen g, const imgsync_change *c)
{
    int updated = imgsync_change_kind_of(c) == IMGSYNC_CHANGE_UPDATED;

    return json_open_map(g) != 0 ||
                   json_key_str(g, "kind", change_kind_name(imgsync_change_kind_of(c))) != 0 ||
                   json_key_int(g, "task_id", (int64_t)imgsync_change_task_id(c)) != 0 ||
                   json_image_fields(g, imgsync_change_image(c)) != 0 ||
                   json_key_str(g, "old_digest", updated ? imgsync_change_old_digest(c) : "") != 0 ||
                   json_key_int(g, "old_size", updated ? imgsync_change_old_size(c) : -1) != 0 ||
                   json_close_map(g) != 0
               ? -1
               : 0;
}

typedef struct change_cursor {
    imgsync_changes *it;
    const imgsync_change *c;
} change_cursor;

static int next_change(void *state)
{
    change_cursor *c = state;
    return (c->c = imgsync_changes_next(c->it)) != NULL;
}

static int json_change_item(yajl_gen g, void *state) { return json_change(g, ((change_cursor *)state)->c); }

static int print_changes_json(imgsync_changes *it, int ndjson)
{
    change_cursor c = {it, NULL};
    return json_print_items(&c, next_change, json_change_item, ndjson);
}

int cmd_changes(const options *o)
{
    imgsync_changes *it = NULL;
    imgsync_ctx *ctx = NULL;
    int rc, status, failed;

    if ((status = open_store(o, DB_DEFAULT, &ctx)) != 0)
        return status;
    rc = o->task_id ? imgsync_changes_new(&it, ctx, o->task_id, 0)
                    : imgsync_changes_new(&it, ctx, o->since_id, 1);
    if (rc != 0) {
        lib_error(ctx, rc, "cannot read the changes");
        imgsync_ctx_free(ctx);
        return EXIT_FAIL;
    }
    failed = o->format == FORMAT_TABLE ? print_changes_table(it)
                                       : print_changes_json(it, o->format == FORMAT_NDJSON);
    imgsync_changes_free(it);
    imgsync_ctx_free(ctx);
    if (failed) {
        errorf("cannot print the changes: out of memory");
        return EXIT_FAIL;
    }
    return finish_stdout("changes");
}
