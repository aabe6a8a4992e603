/* imgsync: what the program prints (inventory, tasks, changes, schedules; status on stderr). */
#ifndef IMGSYNC_CLI_OUTPUT_H
#define IMGSYNC_CLI_OUTPUT_H

#include "cli/commands.h"

#include <yajl/yajl_gen.h>

/* Why run_task() canceled the task, if it did. */
enum stop_reason { STOP_NONE, STOP_TIMEOUT, STOP_SIGNAL, STOP_ENGINE };

/* table.c: a table streamed to stdout. table_row takes the ncols cells (allocated with format();
 * a NULL cell means out of memory), sanitizes them ("" becomes "-") and frees them. table_end
 * prints what is still held when `print`, and frees t. -1 when out of memory. */
typedef struct table table;
table *table_new(size_t ncols, const char *const *titles, unsigned right_aligned);
int table_row(table *t, char **cells);
int table_end(table *t, int print);

/* json.c */
yajl_gen json_open(FILE *f, int pretty);
int json_str(yajl_gen g, const char *s);
int json_key_str(yajl_gen g, const char *key, const char *value);
int json_key_int(yajl_gen g, const char *key, int64_t value); /* null when negative */
int json_key_ms(yajl_gen g, const char *key, int64_t ms);     /* null when 0 */
int json_open_map(yajl_gen g);
int json_close_map(yajl_gen g);
/* The library's row fields as keys and values (inside an open map). */
int json_image_fields(yajl_gen g, const imgsync_image *im);
void json_end_line(yajl_gen g, FILE *f, int pretty);
/* Items as one JSON array (indented) or, with ndjson, one compact object per line, streamed to
 * stdout: next(state) moves to the next item and says whether there is one; item(g, state)
 * writes it. 0, or -1 when out of memory. */
int json_print_items(void *state, int (*next)(void *state), int (*item)(yajl_gen g, void *state), int ndjson);
/* A position in a list of n items for json_print_items (start with i = 0, begun = 0). */
typedef struct json_list {
    const void *list;
    size_t i, n;
    int begun;
} json_list;
int json_list_next(void *state);

/* output.c: the rows `req` selects (stored: every stored registry, imgsync_iter_new_stored) that
 * a sync confirmed at or after min_sync_ms (0: every row), as a table, a JSON array or NDJSON.
 * 0 or EXIT_FAIL. */
int print_inventory(imgsync_ctx *ctx, const imgsync_request *req, enum output_format fmt, int stored,
                    int64_t min_sync_ms);
#define IMAGE_COLUMNS 8
/* The 8 table cells of an inventory row (allocated; NULL when out of memory). */
void image_cells(const imgsync_image *im, char **cell);
char *short_digest(const char *digest);
char *human_size(int64_t size);
/* Flush stdout: 0, or EXIT_FAIL after saying why. */
int finish_stdout(const char *what);

/* status.c */
int task_ended(int state);
const char *state_name(int state);
const char *trigger_name(int trigger);
const char *registry_state_name(int state);
/*
 * A task's progress on stderr. On a terminal: one line redrawn at most every
 * PROGRESS_REDRAW_MS ("syncing: 45% (9/20 repositories), 120 images, 35.2 images/s, ...");
 * elsewhere (a file, a pipe, a journal) nothing until progress_end() prints one summary line.
 */
#define PROGRESS_REDRAW_MS 250
typedef struct progress {
    int tty, summary;
    int64_t began, last_draw; /* monotonic ms */
    unsigned long draws;
} progress;
/* summary: print the summary line off a terminal (not when stderr carries JSON). */
void progress_begin(progress *p, int summary);
void progress_update(progress *p, const imgsync_task *t);
void progress_end(progress *p, const imgsync_task *t);
/* commands.c: drive the engine until task `id` ends (canceled at timeout_ms, 0 = none, or on
 * SIGINT/SIGTERM), showing its progress (the summary line only with fmt FORMAT_TABLE). The last
 * snapshot (NULL if none); *why says why we canceled it, if we did. */
imgsync_task *run_task(imgsync_ctx *ctx, uint64_t id, unsigned long timeout_ms, enum output_format fmt,
                       enum stop_reason *why);
/* The exit status of a task that did not succeed (128 + N after signal N, 3 partial, else 1). */
int sync_status(const imgsync_task *task, enum stop_reason why);
/* The task's summary, registries and errors (stderr). */
void print_status(const imgsync_task *t);
/* The one-line reason of a sync that did not succeed (stderr). */
void print_failure(const imgsync_task *t, enum stop_reason why, unsigned long timeout_ms);
/* The first failure reason of a task: its own, a registry's, or its first error ("" if none);
 * allocated, NULL when out of memory. */
char *task_first_reason(const imgsync_task *t);

/* tasks.c: a task as a JSON object (inside whatever g is writing). */
int json_task(yajl_gen g, const imgsync_task *t);

#endif
