/* imgsync: the task history - `tasks` (HSS's Manage Task view) and `task ID`. */
#include "cli/output.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* ---- JSON ---- */

static const struct {
    const char *key;
    int counter;
} counters[] = {
    {"repositories_total", IMGSYNC_COUNT_REPOSITORIES_TOTAL},
    {"repositories_done", IMGSYNC_COUNT_REPOSITORIES_DONE},
    {"repositories_failed", IMGSYNC_COUNT_REPOSITORIES_FAILED},
    {"images_found", IMGSYNC_COUNT_IMAGES_FOUND},
    {"images_added", IMGSYNC_COUNT_IMAGES_ADDED},
    {"images_updated", IMGSYNC_COUNT_IMAGES_UPDATED},
    {"images_removed", IMGSYNC_COUNT_IMAGES_REMOVED},
    {"requests", IMGSYNC_COUNT_REQUESTS},
    {"retries", IMGSYNC_COUNT_RETRIES},
};

static int json_counters(yajl_gen g, const imgsync_task *t)
{
    size_t i;
    int failed = json_str(g, "counters") != 0 || json_open_map(g) != 0;

    for (i = 0; i < sizeof counters / sizeof counters[0] && !failed; i++)
        failed = json_key_int(g, counters[i].key, (int64_t)imgsync_task_counter(t, counters[i].counter));
    return failed || json_close_map(g) != 0 ? -1 : 0;
}

static int json_registries(yajl_gen g, const imgsync_task *t)
{
    size_t i, n = imgsync_task_registry_count(t);
    int failed = json_str(g, "registries") != 0 || yajl_gen_array_open(g) != yajl_gen_status_ok;

    for (i = 0; i < n && !failed; i++) {
        int code = imgsync_task_registry_error(t, i);
        failed = json_open_map(g) != 0 ||
                 json_key_str(g, "name", imgsync_task_registry_name(t, i)) != 0 ||
                 json_key_str(g, "type", imgsync_task_registry_type(t, i)) != 0 ||
                 json_key_str(g, "state", registry_state_name(imgsync_task_registry_state(t, i))) != 0 ||
                 json_key_str(g, "reason", imgsync_task_registry_reason(t, i)) != 0 ||
                 json_key_str(g, "error", code ? imgsync_strerror(code) : "") != 0 ||
                 json_close_map(g) != 0;
    }
    return failed || yajl_gen_array_close(g) != yajl_gen_status_ok ? -1 : 0;
}

static int json_errors(yajl_gen g, const imgsync_task *t)
{
    size_t i, n = imgsync_task_error_count(t);
    int failed = json_str(g, "errors") != 0 || yajl_gen_array_open(g) != yajl_gen_status_ok;

    for (i = 0; i < n && !failed; i++) {
        const char *message = imgsync_task_error_message(t, i);
        int code = imgsync_task_error_code(t, i);
        failed = json_open_map(g) != 0 ||
                 json_key_str(g, "registry", imgsync_task_error_registry(t, i)) != 0 ||
                 json_key_str(g, "repository", imgsync_task_error_repository(t, i)) != 0 ||
                 json_key_str(g, "error", imgsync_strerror(code)) != 0 ||
                 json_key_str(g, "message", *message ? message : imgsync_strerror(code)) != 0 ||
                 json_close_map(g) != 0;
    }
    return failed || yajl_gen_array_close(g) != yajl_gen_status_ok ? -1 : 0;
}

int json_task(yajl_gen g, const imgsync_task *t)
{
    uint64_t schedule = imgsync_task_schedule_id(t);

    return json_open_map(g) != 0 || json_key_int(g, "id", (int64_t)imgsync_task_id(t)) != 0 ||
                   json_key_str(g, "state", state_name(imgsync_task_state_of(t))) != 0 ||
                   json_key_str(g, "trigger", trigger_name(imgsync_task_trigger(t))) != 0 ||
                   json_key_int(g, "schedule_id", schedule ? (int64_t)schedule : -1) != 0 ||
                   json_key_str(g, "reason", imgsync_task_reason(t)) != 0 ||
                   json_key_ms(g, "created", imgsync_task_created_ms(t)) != 0 ||
                   json_key_ms(g, "started", imgsync_task_started_ms(t)) != 0 ||
                   json_key_ms(g, "finished", imgsync_task_finished_ms(t)) != 0 ||
                   json_counters(g, t) != 0 || json_registries(g, t) != 0 ||
                   json_errors(g, t) != 0 || json_close_map(g) != 0
               ? -1
               : 0;
}

/* ---- tasks ---- */

enum { T_ID, T_TRIGGER, T_STATE, T_CREATED, T_STARTED, T_FINISHED, T_REPOS, T_IMAGES, T_REGISTRIES, T_COLS };
static const char *const task_titles[T_COLS] = {
    "ID", "TRIGGER", "STATE", "CREATED", "STARTED", "FINISHED", "REPOSITORIES",
    "IMAGES (FOUND +ADDED ~UPDATED -REMOVED)", "REGISTRIES",
};

/* "a, b (failed)" */
static char *registry_names(const imgsync_task *t)
{
    size_t i, n = imgsync_task_registry_count(t);
    char *s = format("%s", ""), *next;

    for (i = 0; i < n && s != NULL; i++) {
        int failed = imgsync_task_registry_state(t, i) == IMGSYNC_REGISTRY_FAILED;
        next = format("%s%s%s%s", s, i ? ", " : "", imgsync_task_registry_name(t, i),
                      failed ? " (failed)" : "");
        free(s);
        s = next;
    }
    return s;
}

static int task_row(table *tb, const imgsync_task *t)
{
    char *cell[T_COLS];

    cell[T_ID] = format("%" PRIu64, imgsync_task_id(t));
    cell[T_TRIGGER] = format("%s", trigger_name(imgsync_task_trigger(t)));
    cell[T_STATE] = format("%s", state_name(imgsync_task_state_of(t)));
    cell[T_CREATED] = iso_time(imgsync_task_created_ms(t));
    cell[T_STARTED] = iso_time(imgsync_task_started_ms(t));
    cell[T_FINISHED] = iso_time(imgsync_task_finished_ms(t));
    cell[T_REPOS] = format("%" PRIu64 "/%" PRIu64 " (%" PRIu64 " failed)",
                           imgsync_task_counter(t, IMGSYNC_COUNT_REPOSITORIES_DONE),
                           imgsync_task_counter(t, IMGSYNC_COUNT_REPOSITORIES_TOTAL),
                           imgsync_task_counter(t, IMGSYNC_COUNT_REPOSITORIES_FAILED));
    cell[T_IMAGES] = format("%" PRIu64 " +%" PRIu64 " ~%" PRIu64 " -%" PRIu64,
                            imgsync_task_counter(t, IMGSYNC_COUNT_IMAGES_FOUND),
                            imgsync_task_counter(t, IMGSYNC_COUNT_IMAGES_ADDED),
                            imgsync_task_counter(t, IMGSYNC_COUNT_IMAGES_UPDATED),
                            imgsync_task_counter(t, IMGSYNC_COUNT_IMAGES_REMOVED));
    cell[T_REGISTRIES] = registry_names(t);
    return table_row(tb, cell);
}

static int print_task_table(const imgsync_task_list *l)
{
    table *tb = table_new(T_COLS, task_titles, 1u << T_ID);
    size_t i, n = imgsync_task_list_count(l);
    int failed = tb == NULL;

    for (i = 0; i < n && !failed; i++)
        failed = task_row(tb, imgsync_task_list_at(l, i)) != 0;
    table_end(tb, !failed);
    return failed ? -1 : 0;
}

static int json_task_item(yajl_gen g, void *state)
{
    const json_list *p = state;
    return json_task(g, imgsync_task_list_at(p->list, p->i));
}

static int print_task_json(const imgsync_task_list *l)
{
    json_list p = {l, 0, imgsync_task_list_count(l), 0};
    return json_print_items(&p, json_list_next, json_task_item, 0);
}

int cmd_tasks(const options *o)
{
    imgsync_task_list *l = NULL;
    imgsync_ctx *ctx = NULL;
    int rc, status;

    if ((status = open_store(o, DB_DEFAULT, &ctx)) != 0)
        return status;
    if ((rc = imgsync_task_list_new(&l, ctx, o->state, o->trigger, o->limit)) != 0) {
        lib_error(ctx, rc, "cannot read the task list");
        status = EXIT_FAIL;
    } else if ((o->format == FORMAT_TABLE ? print_task_table(l) : print_task_json(l)) != 0) {
        errorf("cannot print the task list: out of memory");
        status = EXIT_FAIL;
    } else {
        status = finish_stdout("task list");
    }
    imgsync_task_list_free(l);
    imgsync_ctx_free(ctx);
    return status;
}

/* ---- task ID ---- */

static void print_task_summary(const imgsync_task *t)
{
    uint64_t schedule = imgsync_task_schedule_id(t);
    char *created = iso_time(imgsync_task_created_ms(t)), *started = iso_time(imgsync_task_started_ms(t));
    char *finished = iso_time(imgsync_task_finished_ms(t));
    const char *reason = imgsync_task_reason(t);

    emit(stdout, "task %" PRIu64 ": %s (%s%s%.0" PRIu64 ")", imgsync_task_id(t),
         state_name(imgsync_task_state_of(t)), trigger_name(imgsync_task_trigger(t)),
         schedule ? ", schedule " : "", schedule);
    emit(stdout, "created %s, started %s, finished %s", created ? created : "-",
         started ? started : "-", finished ? finished : "-");
    free(created);
    free(started);
    free(finished);
    if (*reason)
        emit(stdout, "reason: %s", reason);
    emit(stdout,
         "repositories %" PRIu64 "/%" PRIu64 " (%" PRIu64 " failed), images %" PRIu64
         " found, %" PRIu64 " added, %" PRIu64 " updated, %" PRIu64 " removed, %" PRIu64
         " requests, %" PRIu64 " retries",
         imgsync_task_counter(t, IMGSYNC_COUNT_REPOSITORIES_DONE),
         imgsync_task_counter(t, IMGSYNC_COUNT_REPOSITORIES_TOTAL),
         imgsync_task_counter(t, IMGSYNC_COUNT_REPOSITORIES_FAILED),
         imgsync_task_counter(t, IMGSYNC_COUNT_IMAGES_FOUND),
         imgsync_task_counter(t, IMGSYNC_COUNT_IMAGES_ADDED),
         imgsync_task_counter(t, IMGSYNC_COUNT_IMAGES_UPDATED),
         imgsync_task_counter(t, IMGSYNC_COUNT_IMAGES_REMOVED),
         imgsync_task_counter(t, IMGSYNC_COUNT_REQUESTS),
         imgsync_task_counter(t, IMGSYNC_COUNT_RETRIES));
}

static const char *const registry_titles[4] = {"REGISTRY", "TYPE", "STATE", "REASON"};

static int print_task_registries(const imgsync_task *t)
{
    size_t i, n = imgsync_task_registry_count(t);
    table *tb;
    int failed;

    if (n == 0)
        return 0;
    fputc('\n', stdout);
    if ((tb = table_new(4, registry_titles, 0)) == NULL)
        return -1;
    for (i = 0, failed = 0; i < n && !failed; i++) {
        char *cell[4];
        int code = imgsync_task_registry_error(t, i);
        const char *reason = imgsync_task_registry_reason(t, i);
        cell[0] = format("%s", imgsync_task_registry_name(t, i));
        cell[1] = format("%s", imgsync_task_registry_type(t, i));
        cell[2] = format("%s", registry_state_name(imgsync_task_registry_state(t, i)));
        cell[3] = format("%s", *reason ? reason : code ? imgsync_strerror(code) : "");
        failed = table_row(tb, cell) != 0;
    }
    table_end(tb, !failed);
    return failed ? -1 : 0;
}

static void print_task_errors(const imgsync_task *t)
{
    size_t i, n = imgsync_task_error_count(t);

    if (n > 0)
        fputs("\nfirst errors:\n", stdout);
    for (i = 0; i < n; i++) {
        const char *repository = imgsync_task_error_repository(t, i);
        const char *message = imgsync_task_error_message(t, i);
        emit(stdout, "  %s%s%s: %s", imgsync_task_error_registry(t, i), *repository ? " " : "",
             repository, *message ? message : imgsync_strerror(imgsync_task_error_code(t, i)));
    }
}

static int print_one_task(const options *o, const imgsync_task *t)
{
    yajl_gen g;
    int failed;

    if (o->format == FORMAT_TABLE) {
        print_task_summary(t);
        if (print_task_registries(t) != 0)
            return -1;
        print_task_errors(t);
        return 0;
    }
    if ((g = json_open(stdout, 1)) == NULL)
        return -1;
    failed = json_task(g, t);
    yajl_gen_free(g);
    return failed;
}

int cmd_task(const options *o)
{
    imgsync_task *t = NULL;
    imgsync_ctx *ctx = NULL;
    int rc, status;

    if ((status = open_store(o, DB_DEFAULT, &ctx)) != 0)
        return status;
    if ((rc = imgsync_task_get(&t, ctx, o->task_id)) == IMGSYNC_ENOTFOUND) {
        errorf("task %" PRIu64 ": no such task in the database (it may be older than the "
               "retention)",
               o->task_id);
        status = EXIT_FAIL;
    } else if (rc != 0) {
        lib_error(ctx, rc, "cannot read task %" PRIu64, o->task_id);
        status = EXIT_FAIL;
    } else if (print_one_task(o, t) != 0) {
        errorf("cannot print the task: out of memory");
        status = EXIT_FAIL;
    } else {
        status = finish_stdout("task");
    }
    imgsync_task_free(t);
    imgsync_ctx_free(ctx);
    return status;
}
