/* imgsync: what the program prints about a sync (inventory on stdout, status on stderr). */
#ifndef IMGSYNC_CLI_OUTPUT_H
#define IMGSYNC_CLI_OUTPUT_H

#include "cli/commands.h"

/* Why run_task() canceled the task, if it did. */
enum stop_reason { STOP_NONE, STOP_TIMEOUT, STOP_SIGNAL, STOP_ENGINE };

/* output.c: the rows `req` selects, as a table, a JSON array or NDJSON. 0 or EXIT_FAIL. */
int print_inventory(imgsync_ctx *ctx, const imgsync_request *req, enum output_format fmt);

/* status.c */
int task_ended(int state);
/* "syncing: repositories 3/10, ..." on a terminal's stderr. */
void show_progress(const imgsync_task *t);
/* The task's summary, registries and errors (stderr). */
void print_status(const imgsync_task *t);
/* The one-line reason of a sync that did not succeed (stderr). */
void print_failure(const imgsync_task *t, enum stop_reason why, unsigned long timeout_ms);

#endif
