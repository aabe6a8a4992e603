/*
 * imgsync: `daemon` - run the stored schedules with the library's worker thread
 * (imgsync_ctx_start) until SIGTERM or SIGINT.
 *
 * The three signals are blocked in every thread (before the worker starts, so it inherits the
 * mask) and taken with sigwait() in the main thread: no handler runs inside the library. Each
 * task's start and end are logged on stderr from the event callback, sanitized by emit().
 */
#include "cli/output.h"
#include "cli/registries.h"

#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

/* Scheduled syncs get the same deadline as `imgsync sync`, unless the settings say otherwise. */
#define DAEMON_TASK_TIMEOUT "3600000"

static void log_task_start(const imgsync_task *t)
{
    uint64_t schedule = imgsync_task_schedule_id(t);

    log_line("task %" PRIu64 " started (%s%s%.0" PRIu64 ")", imgsync_task_id(t),
             trigger_name(imgsync_task_trigger(t)), schedule ? ", schedule " : "", schedule);
}

static void log_task_end(const imgsync_task *t)
{
    char *reason = task_first_reason(t);

    log_line("task %" PRIu64 " %s (%s): repositories %" PRIu64 "/%" PRIu64 " (%" PRIu64
             " failed), images %" PRIu64 " found, %" PRIu64 " added, %" PRIu64 " updated, %" PRIu64
             " removed%s%s",
             imgsync_task_id(t), state_name(imgsync_task_state_of(t)),
             trigger_name(imgsync_task_trigger(t)),
             imgsync_task_counter(t, IMGSYNC_COUNT_REPOSITORIES_DONE),
             imgsync_task_counter(t, IMGSYNC_COUNT_REPOSITORIES_TOTAL),
             imgsync_task_counter(t, IMGSYNC_COUNT_REPOSITORIES_FAILED),
             imgsync_task_counter(t, IMGSYNC_COUNT_IMAGES_FOUND),
             imgsync_task_counter(t, IMGSYNC_COUNT_IMAGES_ADDED),
             imgsync_task_counter(t, IMGSYNC_COUNT_IMAGES_UPDATED),
             imgsync_task_counter(t, IMGSYNC_COUNT_IMAGES_REMOVED), reason && *reason ? ": " : "",
             reason ? reason : "");
    free(reason);
}

/* The last state logged of the most recent tasks, so that a state is logged once per task even
 * if it is told again. Only the worker thread (the event callback) uses it. */
#define LOGGED_TASKS 64
static struct {
    uint64_t id;
    int state;
} logged[LOGGED_TASKS];

/* 1 when this task's state was logged already; else remember it. */
static int already_logged(uint64_t id, int state)
{
    static size_t next;
    size_t i;

    for (i = 0; i < LOGGED_TASKS; i++) {
        if (logged[i].id != id)
            continue;
        if (logged[i].state == state)
            return 1;
        logged[i].state = state;
        return 0;
    }
    logged[next].id = id;
    logged[next].state = state;
    next = (next + 1) % LOGGED_TASKS;
    return 0;
}

/* On the worker thread, between network steps: keep it short. */
static void on_event(const imgsync_event *ev, void *payload)
{
    imgsync_ctx *ctx = payload;
    imgsync_task *t = NULL;
    int state = imgsync_event_task_state(ev);

    if (imgsync_event_type_of(ev) != IMGSYNC_EVENT_TASK_STATE ||
        (state != IMGSYNC_TASK_RUNNING && !task_ended(state)) ||
        already_logged(imgsync_event_task_id(ev), state))
        return;
    if (imgsync_task_get(&t, ctx, imgsync_event_task_id(ev)) != 0) {
        log_line("task %" PRIu64 " %s", imgsync_event_task_id(ev), state_name(state));
        return;
    }
    if (state == IMGSYNC_TASK_RUNNING)
        log_task_start(t);
    else
        log_task_end(t);
    imgsync_task_free(t);
}

/* Block the three signals (every thread started later inherits the mask), then give them their
 * default action: a shell starts a background job with SIGINT ignored, and an ignored signal may
 * be discarded even while blocked, so sigwait() would never see it. */
static void daemon_signals(sigset_t *set)
{
    struct sigaction sa;

    sigemptyset(set);
    sigaddset(set, SIGTERM);
    sigaddset(set, SIGINT);
    sigaddset(set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, set, NULL);
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = SIG_DFL;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
}

/* The context: store, deadline, settings, every configured registry, the event log. */
static int daemon_context(const options *o, const config *cfg, imgsync_ctx **ctx)
{
    strlist all = {NULL, 0, 0};
    int rc, status;

    if ((status = open_store(o, DB_DEFAULT, ctx)) != 0)
        return status;
    if ((rc = imgsync_ctx_set(*ctx, "task_timeout_ms", DAEMON_TASK_TIMEOUT)) != 0) {
        lib_error(*ctx, rc, "cannot set the task deadline");
        return EXIT_FAIL;
    }
    if ((status = apply_settings(*ctx, cfg)) != 0 || (status = build_providers(*ctx, cfg, &all)) != 0)
        return status;
    if ((rc = imgsync_ctx_set_event_callback(*ctx, on_event, *ctx)) != 0) {
        lib_error(*ctx, rc, "cannot set the event callback");
        return EXIT_FAIL;
    }
    return 0;
}

static void log_schedules(imgsync_ctx *ctx, const config *cfg)
{
    imgsync_schedule_list *l = NULL;
    int rc = imgsync_schedule_list_new(&l, ctx);
    size_t n = rc == 0 ? imgsync_schedule_list_count(l) : 0;

    if (rc != 0)
        lib_error(ctx, rc, "cannot read the schedules");
    log_line("daemon started: %zu registries, %zu schedules", cfg->registries->u.array.len, n);
    if (rc == 0 && n == 0)
        log_line("warning: no schedule in the database: add one with 'imgsync schedule add'");
    imgsync_schedule_list_free(l);
}

/* Wait for SIGTERM or SIGINT (SIGHUP is logged and ignored); the signal number. */
static int wait_for_stop(const sigset_t *set)
{
    int sig = 0;

    for (;;) {
        if (sigwait(set, &sig) != 0)
            continue;
        if (sig != SIGHUP)
            return sig;
        log_line("warning: SIGHUP ignored: restart the daemon to read the configuration again");
    }
}

int cmd_daemon(const options *o)
{
    imgsync_ctx *ctx = NULL;
    sigset_t set;
    config cfg;
    int rc, sig, status;

    daemon_signals(&set);
    if ((status = config_load(&cfg, o->config_path)) != 0 ||
        (status = daemon_context(o, &cfg, &ctx)) != 0)
        goto out;
    if ((rc = imgsync_ctx_start(ctx)) != 0) {
        lib_error(ctx, rc, "cannot start the worker");
        status = EXIT_FAIL;
        goto out;
    }
    log_schedules(ctx, &cfg);
    sig = wait_for_stop(&set);
    log_line("%s received: stopping (a running task is canceled)",
             sig == SIGTERM ? "SIGTERM" : "SIGINT");
    if ((rc = imgsync_ctx_stop(ctx)) != 0)
        lib_error(ctx, rc, "cannot stop the worker");
    log_line("daemon stopped");
    status = 128 + sig;
out:
    imgsync_ctx_free(ctx);
    config_free(&cfg);
    return status;
}
