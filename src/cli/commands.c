/*
 * imgsync: the sync and check commands.
 *
 * cmd_sync() is also the reference example of driving the library from the caller's own loop:
 * imgsync_sync_start(), then imgsync_ctx_perform() until the task ends, with imgsync_task_get()
 * snapshots for progress.
 */
#include "cli/commands.h"
#include "cli/output.h"
#include "cli/registries.h"

#include <inttypes.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#define PERFORM_SLICE_MS 200
/* After a cancel, how long we keep driving the engine for the task to wind down. */
#define CANCEL_GRACE_MS 10000

/* ---- interrupts ---- */

static volatile sig_atomic_t interrupted; /* the signal that asked to stop, 0 = none */

static void on_interrupt(int sig)
{
    interrupted = sig;
}

/* First Ctrl-C cancels the sync (and still prints what we have); a second one kills. */
static void catch_interrupts(int on)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = on ? on_interrupt : SIG_DFL;
    sa.sa_flags = on ? SA_RESETHAND : 0;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

/* ---- driving the task ---- */

typedef struct runner {
    imgsync_ctx *ctx;
    uint64_t id;
    unsigned long timeout_ms; /* 0 = no limit */
    int64_t deadline;
    int64_t cancel_at; /* -1 until canceled */
    enum stop_reason why;
} runner;

static void cancel_task(runner *r, enum stop_reason reason)
{
    int rc = imgsync_task_cancel(r->ctx, r->id);

    if (rc != 0)
        lib_error(r->ctx, rc, "cannot cancel task %" PRIu64, r->id);
    r->why = reason;
    r->cancel_at = monotonic_ms();
}

/* Cancel on Ctrl-C or at the deadline; how long the next perform call may wait. */
static int next_slice(runner *r)
{
    int slice = PERFORM_SLICE_MS;
    int64_t left;

    if (r->cancel_at < 0 && interrupted)
        cancel_task(r, STOP_SIGNAL);
    if (r->cancel_at < 0 && r->timeout_ms > 0) {
        left = r->deadline - monotonic_ms();
        if (left <= 0)
            cancel_task(r, STOP_TIMEOUT);
        else if (left < slice)
            slice = (int)left;
    }
    return slice;
}

/* One round: perform, then a fresh snapshot in *snap. 1 to go on, 0 when done. */
static int run_step(runner *r, imgsync_task **snap)
{
    int rc;

    if ((rc = imgsync_ctx_perform(r->ctx, next_slice(r))) < 0) {
        lib_error(r->ctx, rc, "engine error");
        if (r->cancel_at < 0)
            cancel_task(r, STOP_ENGINE);
        return 0;
    }
    imgsync_task_free(*snap);
    *snap = NULL;
    if ((rc = imgsync_task_get(snap, r->ctx, r->id)) != 0) {
        lib_error(r->ctx, rc, "cannot read the status of task %" PRIu64, r->id);
        return 0;
    }
    if (task_ended(imgsync_task_state_of(*snap)))
        return 0;
    if (r->cancel_at >= 0 && monotonic_ms() - r->cancel_at > CANCEL_GRACE_MS) {
        errorf("task %" PRIu64 " did not stop within %d ms of being canceled", r->id,
               CANCEL_GRACE_MS);
        return 0;
    }
    return 1;
}

imgsync_task *run_task(imgsync_ctx *ctx, uint64_t id, unsigned long timeout_ms, enum output_format fmt,
                       enum stop_reason *why)
{
    runner r = {ctx, id, timeout_ms, monotonic_ms() + (int64_t)timeout_ms, -1, STOP_NONE};
    imgsync_task *snap = NULL;
    progress pg;

    progress_begin(&pg, fmt == FORMAT_TABLE);
    catch_interrupts(1);
    while (run_step(&r, &snap))
        progress_update(&pg, snap);
    catch_interrupts(0);
    if (snap == NULL)
        imgsync_task_get(&snap, ctx, id); /* last try, for the status report */
    progress_end(&pg, snap);
    *why = r.why;
    return snap;
}

/* ---- commands ---- */

/* Everything that can be checked without the network is checked before starting. */
static int start_sync(const options *o, const config *cfg, imgsync_request **req,
                      imgsync_ctx **ctx, uint64_t *id)
{
    strlist wanted = {NULL, 0, 0};
    int rc, status;

    if ((status = build_request(o, cfg, req, &wanted)) != 0 ||
        (status = open_store(o, DB_DEFAULT, ctx)) != 0 ||
        (status = apply_settings(*ctx, cfg)) != 0 ||
        (status = build_providers(*ctx, cfg, &wanted)) != 0)
        goto out;
    if ((rc = imgsync_sync_start(*ctx, *req, id)) != 0) {
        lib_error(*ctx, rc, "cannot start the sync");
        status = EXIT_FAIL;
    }
out:
    strlist_free(&wanted);
    return status;
}

/*
 * The request of the printed inventory: the sync's, limited to the configured registries when
 * it names none (the database may hold rows of registries another configuration synced). Of
 * those, cmd_sync prints the rows this sync confirmed, as when every run started empty: rows an
 * earlier sync stored are `imgsync images`' business (a rejected login shows no inventory).
 */
static int inventory_request(const options *o, const config *cfg, imgsync_request **out)
{
    strlist unused = {NULL, 0, 0};
    size_t i;
    int rc = 0, status = build_request(o, cfg, out, &unused);

    strlist_free(&unused);
    if (status != 0 || o->registries.len > 0 || o->repos.len > 0)
        return status;
    for (i = 0; i < cfg->registries->u.array.len && rc == 0; i++)
        rc = imgsync_request_add_provider(*out, config_registry_name(cfg, i));
    if (rc != 0) {
        errorf("cannot select the configured registries: %s", imgsync_strerror(rc));
        return EXIT_FAIL;
    }
    return 0;
}

int sync_status(const imgsync_task *task, enum stop_reason why)
{
    if (why == STOP_SIGNAL && interrupted > 0)
        return 128 + interrupted;
    if (task != NULL && imgsync_task_state_of(task) == IMGSYNC_TASK_PARTIAL)
        return EXIT_PARTIAL;
    return EXIT_FAIL;
}

/* sync --format json|ndjson: the task status as one JSON line on stderr. */
static void print_status_json(const imgsync_task *t)
{
    yajl_gen g = json_open(stderr, 0);

    clear_progress();
    if (g == NULL || json_task(g, t) != 0)
        errorf("cannot print the task status: out of memory");
    else
        json_end_line(g, stderr, 0);
    if (g != NULL)
        yajl_gen_free(g);
}

int cmd_sync(const options *o)
{
    config cfg;
    imgsync_request *req = NULL, *shown = NULL;
    imgsync_ctx *ctx = NULL;
    imgsync_task *task = NULL;
    enum stop_reason why = STOP_NONE;
    uint64_t id = 0;
    int64_t began = 0;
    int status;

    if ((status = config_load(&cfg, o->config_path)) != 0 ||
        (status = start_sync(o, &cfg, &req, &ctx, &id)) != 0)
        goto out;
    began = wall_ms();
    task = run_task(ctx, id, o->timeout_ms, o->format, &why);
    if (task != NULL && imgsync_task_created_ms(task) > 0)
        began = imgsync_task_created_ms(task); /* the library's clock, as the rows' sync times */
    /* The inventory is printed whatever happened: a partial or canceled sync still has rows. */
    if ((status = inventory_request(o, &cfg, &shown)) == 0)
        status = print_inventory(ctx, shown, o->format, 0, began);
    if (task != NULL && o->format == FORMAT_TABLE)
        print_status(task);
    else if (task != NULL)
        print_status_json(task);
    if (task == NULL || imgsync_task_state_of(task) != IMGSYNC_TASK_SUCCEEDED) {
        print_failure(task, why, o->timeout_ms);
        status = sync_status(task, why);
    }
out:
    imgsync_task_free(task);
    imgsync_request_free(shown);
    imgsync_request_free(req);
    imgsync_ctx_free(ctx);
    config_free(&cfg);
    return status;
}

/* The check's deadline: the library's "check_timeout_ms", which the settings may also set. */
static int set_check_timeout(imgsync_ctx *ctx, unsigned long ms)
{
    char value[32];
    int rc;

    snprintf(value, sizeof value, "%lu", ms ? ms : MAX_CHECK_TIMEOUT_MS);
    if ((rc = imgsync_ctx_set(ctx, "check_timeout_ms", value)) != 0) {
        lib_error(ctx, rc, "--timeout-ms %lu", ms);
        return EXIT_USAGE;
    }
    return 0;
}

/* Context with the settings and the check deadline: ours by default, the settings' if they
 * name one, the command line's above all. */
static int check_context(const options *o, const config *cfg, imgsync_ctx **ctx)
{
    int status;

    if ((status = open_store(o, DB_MEMORY, ctx)) != 0 ||
        (status = set_check_timeout(*ctx, DEFAULT_CHECK_TIMEOUT_MS)) != 0 ||
        (status = apply_settings(*ctx, cfg)) != 0)
        return status;
    return o->timeout_given ? set_check_timeout(*ctx, o->timeout_ms) : 0;
}

/* check's verdict on stdout: "registry NAME: OK (credentials: SOURCE)", or a JSON object;
 * the source names where the credentials came from, never what they are. */
static int print_check(const options *o, imgsync_ctx *ctx, const imgsync_provider *p, int rc)
{
    const char *source = imgsync_provider_credential_source(p);
    yajl_gen g;
    int failed;

    if (o->format == FORMAT_TABLE) {
        if (rc == 0)
            emit(stdout, "registry %s: OK (credentials: %s)", o->check_name, source[0] ? source : "none");
        return finish_stdout("check result");
    }
    if ((g = json_open(stdout, 1)) == NULL)
        return EXIT_FAIL;
    failed = json_open_map(g) != 0 || json_key_str(g, "registry", o->check_name) != 0 ||
             json_str(g, "ok") != 0 || yajl_gen_bool(g, rc == 0) != yajl_gen_status_ok ||
             json_key_str(g, "error", rc ? imgsync_strerror(rc) : "") != 0 ||
             json_key_str(g, "message", rc ? imgsync_ctx_errmsg(ctx) : "") != 0 ||
             json_key_str(g, "credentials", source) != 0 ||
             json_close_map(g) != 0;
    yajl_gen_free(g);
    if (failed)
        errorf("cannot print the check result: out of memory");
    return failed ? EXIT_FAIL : finish_stdout("check result");
}

int cmd_check(const options *o)
{
    const char *name = o->check_name;
    imgsync_provider *p = NULL;
    imgsync_ctx *ctx = NULL;
    config cfg;
    yajl_val reg;
    int rc, status;

    if ((status = config_load(&cfg, o->config_path)) != 0)
        goto out;
    if ((reg = config_registry(&cfg, name)) == NULL) {
        status = unknown_registry(&cfg, "check", name);
        goto out;
    }
    /* Only this registry is created: others' missing secrets must not fail its check. */
    if ((status = check_context(o, &cfg, &ctx)) != 0 ||
        (status = build_provider(ctx, &cfg, reg, &p)) != 0)
        goto out;
    if ((rc = imgsync_provider_check(p)) != 0) {
        if (o->format == FORMAT_JSON)
            print_check(o, ctx, p, rc); /* before the message: it reads the context's detail */
        lib_error(ctx, rc, "check %s", name);
        status = EXIT_FAIL;
        goto out;
    }
    status = print_check(o, ctx, p, 0);
out:
    imgsync_ctx_free(ctx);
    config_free(&cfg);
    return status;
}
