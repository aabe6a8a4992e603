/* imgsync: scheduled syncs kept in the database - `schedule add`, `schedule list`, `schedule rm`.
 * The daemon (daemon.c) runs them. */
#include "cli/output.h"

#include <yajl/yajl_tree.h>

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* ---- add ---- */

/* "30m", "6h", "2d": the largest unit that divides it. */
static const char *interval_text(char *buf, size_t len, unsigned long minutes)
{
    if (minutes % 1440 == 0)
        snprintf(buf, len, "%lud", minutes / 1440);
    else if (minutes % 60 == 0)
        snprintf(buf, len, "%luh", minutes / 60);
    else
        snprintf(buf, len, "%lum", minutes);
    return buf;
}

static int add_schedule(const options *o, imgsync_ctx *ctx, const imgsync_request *req)
{
    char buf[32];
    uint64_t id = 0;
    int rc;

    if (o->daily_hour >= 0)
        rc = imgsync_schedule_daily(ctx, req, o->daily_hour, o->daily_minute, &id);
    else
        rc = imgsync_schedule_every(ctx, req, (unsigned int)o->every_minutes, &id);
    if (rc != 0) {
        lib_error(ctx, rc, "cannot add the schedule");
        return rc == IMGSYNC_EINVAL ? EXIT_USAGE : EXIT_FAIL;
    }
    if (o->daily_hour >= 0)
        emit(stdout, "schedule %" PRIu64 ": daily at %02d:%02d", id, o->daily_hour, o->daily_minute);
    else
        emit(stdout, "schedule %" PRIu64 ": every %s", id, interval_text(buf, sizeof buf, o->every_minutes));
    return finish_stdout("schedule");
}

int cmd_schedule_add(const options *o)
{
    strlist wanted = {NULL, 0, 0};
    imgsync_request *req = NULL;
    imgsync_ctx *ctx = NULL;
    config cfg;
    int status;

    if ((status = load_optional_config(o, &cfg)) == 0 &&
        (status = build_request(o, &cfg, &req, &wanted)) == 0 &&
        (status = open_store(o, DB_DEFAULT, &ctx)) == 0)
        status = add_schedule(o, ctx, req);
    strlist_free(&wanted);
    imgsync_request_free(req);
    imgsync_ctx_free(ctx);
    config_free(&cfg);
    return status;
}

/* ---- list ---- */

static char *schedule_when(const imgsync_schedule_list *l, size_t i)
{
    char buf[32];

    if (imgsync_schedule_kind_of(l, i) == IMGSYNC_SCHEDULE_DAILY)
        return format("daily %02d:%02d", imgsync_schedule_hour(l, i), imgsync_schedule_minute(l, i));
    return format("every %s", interval_text(buf, sizeof buf, imgsync_schedule_every_minutes(l, i)));
}

static const char *const schedule_titles[5] = {"ID", "WHEN", "NEXT", "LAST_TASK", "REQUEST"};

static int print_schedule_table(const imgsync_schedule_list *l)
{
    table *tb = table_new(5, schedule_titles, 1u | (1u << 3));
    size_t i, n = imgsync_schedule_list_count(l);
    int failed = tb == NULL;

    for (i = 0; i < n && !failed; i++) {
        char *cell[5];
        uint64_t last = imgsync_schedule_last_task(l, i);
        cell[0] = format("%" PRIu64, imgsync_schedule_id(l, i));
        cell[1] = schedule_when(l, i);
        cell[2] = iso_time(imgsync_schedule_next_ms(l, i));
        cell[3] = last ? format("%" PRIu64, last) : format("-");
        cell[4] = format("%s", imgsync_schedule_request_json(l, i));
        failed = table_row(tb, cell) != 0;
    }
    table_end(tb, !failed);
    return failed ? -1 : 0;
}

/* A parsed JSON value again, through g (so that it is validated and sanitized like the rest).
 * Members holding an empty array ("no restriction") are left out: yajl would spread each over
 * three lines. */
static int json_value(yajl_gen g, yajl_val v)
{
    size_t i;
    int failed = 0;

    if (YAJL_IS_OBJECT(v)) {
        failed = json_open_map(g);
        for (i = 0; i < v->u.object.len && !failed; i++) {
            yajl_val member = v->u.object.values[i];
            if (YAJL_IS_ARRAY(member) && member->u.array.len == 0)
                continue;
            failed = json_str(g, v->u.object.keys[i]) != 0 || json_value(g, member) != 0;
        }
        return failed || json_close_map(g) != 0 ? -1 : 0;
    }
    if (YAJL_IS_ARRAY(v)) {
        failed = yajl_gen_array_open(g) != yajl_gen_status_ok;
        for (i = 0; i < v->u.array.len && !failed; i++)
            failed = json_value(g, v->u.array.values[i]);
        return failed || yajl_gen_array_close(g) != yajl_gen_status_ok ? -1 : 0;
    }
    if (YAJL_IS_STRING(v))
        return json_str(g, YAJL_GET_STRING(v));
    if (YAJL_IS_NUMBER(v))
        return yajl_gen_number(g, YAJL_GET_NUMBER(v), strlen(YAJL_GET_NUMBER(v))) == yajl_gen_status_ok ? 0 : -1;
    if (YAJL_IS_TRUE(v) || YAJL_IS_FALSE(v))
        return yajl_gen_bool(g, YAJL_IS_TRUE(v)) == yajl_gen_status_ok ? 0 : -1;
    return yajl_gen_null(g) == yajl_gen_status_ok ? 0 : -1;
}

/* "request": the schedule's request as an object (its JSON text if it does not parse). */
static int json_request(yajl_gen g, const char *text)
{
    yajl_val v = yajl_tree_parse(text, NULL, 0);
    int failed = json_str(g, "request") != 0 || (v != NULL ? json_value(g, v) : json_str(g, text)) != 0;

    yajl_tree_free(v);
    return failed ? -1 : 0;
}

static int json_schedule(yajl_gen g, const imgsync_schedule_list *l, size_t i)
{
    int daily = imgsync_schedule_kind_of(l, i) == IMGSYNC_SCHEDULE_DAILY;
    uint64_t last = imgsync_schedule_last_task(l, i);
    char at[8];

    snprintf(at, sizeof at, "%02d:%02d", imgsync_schedule_hour(l, i) % 100,
             imgsync_schedule_minute(l, i) % 100);
    return json_open_map(g) != 0 || json_key_int(g, "id", (int64_t)imgsync_schedule_id(l, i)) != 0 ||
                   json_key_str(g, "kind", daily ? "daily" : "every") != 0 ||
                   (daily ? json_key_str(g, "time", at)
                          : json_key_int(g, "every_minutes", imgsync_schedule_every_minutes(l, i))) != 0 ||
                   json_key_ms(g, "next", imgsync_schedule_next_ms(l, i)) != 0 ||
                   json_key_int(g, "last_task", last ? (int64_t)last : -1) != 0 ||
                   json_request(g, imgsync_schedule_request_json(l, i)) != 0 || json_close_map(g) != 0
               ? -1
               : 0;
}

static int json_schedule_item(yajl_gen g, void *state)
{
    const json_list *p = state;
    return json_schedule(g, p->list, p->i);
}

static int print_schedule_json(const imgsync_schedule_list *l)
{
    json_list p = {l, 0, imgsync_schedule_list_count(l), 0};
    return json_print_items(&p, json_list_next, json_schedule_item, 0);
}

int cmd_schedule_list(const options *o)
{
    imgsync_schedule_list *l = NULL;
    imgsync_ctx *ctx = NULL;
    int rc, status;

    if ((status = open_store(o, DB_DEFAULT, &ctx)) != 0)
        return status;
    if ((rc = imgsync_schedule_list_new(&l, ctx)) != 0) {
        lib_error(ctx, rc, "cannot read the schedules");
        status = EXIT_FAIL;
    } else if ((o->format == FORMAT_TABLE ? print_schedule_table(l) : print_schedule_json(l)) != 0) {
        errorf("cannot print the schedules: out of memory");
        status = EXIT_FAIL;
    } else {
        status = finish_stdout("schedules");
    }
    imgsync_schedule_list_free(l);
    imgsync_ctx_free(ctx);
    return status;
}

/* ---- rm ---- */

int cmd_schedule_rm(const options *o)
{
    imgsync_ctx *ctx = NULL;
    int rc, status;

    if ((status = open_store(o, DB_DEFAULT, &ctx)) != 0)
        return status;
    if ((rc = imgsync_schedule_remove(ctx, o->task_id)) == IMGSYNC_ENOTFOUND) {
        errorf("schedule %" PRIu64 ": no such schedule in the database", o->task_id);
        status = EXIT_FAIL;
    } else if (rc != 0) {
        lib_error(ctx, rc, "cannot remove schedule %" PRIu64, o->task_id);
        status = EXIT_FAIL;
    } else {
        emit(stdout, "schedule %" PRIu64 " removed", o->task_id);
        status = finish_stdout("schedule");
    }
    imgsync_ctx_free(ctx);
    return status;
}
