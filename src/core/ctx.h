/* The context: providers, tasks, engine and store of one embedding (internal). */
#ifndef IMGSYNC_CORE_CTX_H
#define IMGSYNC_CORE_CTX_H

#include <pthread.h>
#include <stdint.h>

#include "core/env.h"
#include "core/log.h"
#include "core/provider.h"
#include "core/task.h"
#include "engine/engine.h"
#include "imgsync/sys/clock.h"
#include "inventory/store.h"
#include "util/map.h"

struct imgsync_ctx {
    imgsync__env env;
    imgsync__engine_opts eopts;
    imgsync_clock clock;
    imgsync__store *store;
    imgsync__engine *engine;
    imgsync_provider **providers;
    size_t nproviders;
    imgsync__map provider_names; /* name -> provider */
    imgsync__map kept;           /* secrets providers keep across runs (kept.c) */
    imgsync__task **tasks;
    size_t ntasks;
    int in_perform;              /* re-entrancy guard */
    pthread_mutex_t status_lock; /* guards task status read by imgsync_task_get */
    uint64_t serial;             /* tells contexts apart in the per-thread error slots */
    char owner[64];              /* this process in task records */
    size_t retention;            /* tasks kept in the history */
    int catch_up;                /* run schedule times missed while not driven */
    char *auth_file;             /* ctx option "auth_file", NULL = unset (env.auth_file points here) */
    /* driving from several threads (worker.c) */
    pthread_mutex_t api_lock;    /* held by whoever drives or changes the context */
    pthread_cond_t api_cond;     /* signalled when a caller leaves: the idle worker looks again */
    int waiters;                 /* callers waiting for api_lock (atomic) */
    uintptr_t holder;            /* the thread holding api_lock (worker.c; atomic), 0 = none */
    int hold_depth;              /* its nested enters (the holder's) */
    pthread_t worker;
    int worker_running, stopping;
    /* events (events.c) */
    void (*event_fn)(const struct imgsync_event *ev, void *payload);
    void *event_payload;
    int in_event;
    imgsync__log log; /* log.c */
    /* the scheduler (schedule.c) */
    struct imgsync__sched *sched;
    /* driven by the embedder's event loop (evloop.c) */
    imgsync_socket_callback socket_fn;
    void *socket_payload;
    imgsync_timer_callback timer_fn;
    void *timer_payload;
    int in_io;                /* a socket or timer callback runs */
    pthread_t loop_thread;    /* the thread the callbacks are called on */
    int64_t timer_told;       /* real mono ms last given to timer_fn; -1 none, -2 to be told */
    int wake_rd, wake_wr;     /* the loop's wakeup pipe, -1 when closed (wake_wr: atomic) */
    struct imgsync__io_change *io_queue; /* socket changes made on other threads, for the loop */
    size_t nio, iocap;
};

/* Take / release the right to change the context from any thread: wakes a driver waiting for
 * the network first. A thread that already holds it (the driving thread, inside callbacks)
 * passes through. */
void imgsync__ctx_enter(imgsync_ctx *ctx);
void imgsync__ctx_leave(imgsync_ctx *ctx);
/* The thread calling holds api_lock (it drives, or entered). */
int imgsync__ctx_held(const imgsync_ctx *ctx);
/* EBUSY (errmsg naming `what`) when called from the event loop's socket or timer callback,
 * where libcurl cannot take transfers out and the context's time is being told; else 0. */
int imgsync__evloop_refuse(imgsync_ctx *ctx, const char *what);
/* The network part of a driving step: a wait (perform), or one event of the embedder's loop.
 * `active` tasks are queued or running; returns 1 when it did something. */
typedef int (*imgsync__io_fn)(imgsync_ctx *ctx, int active, void *arg);
/* One driving step (api_lock held) with io as its network part: schedules, tasks, io, events,
 * records. Returns the number of active tasks. */
int imgsync__ctx_step(imgsync_ctx *ctx, imgsync__io_fn io, void *arg);
/* One driving step (api_lock held): schedules, tasks, network for up to timeout_ms, events,
 * records. Returns the number of active tasks. */
int imgsync__ctx_drive(imgsync_ctx *ctx, int timeout_ms);
/* Milliseconds until the scheduler next needs to look (for an idle worker), capped. */
int64_t imgsync__sched_idle_ms(imgsync_ctx *ctx);
/* Milliseconds until the scheduler has work (0: schedules to read again), -1 when it has no
 * schedule. */
int64_t imgsync__sched_next_ms(imgsync_ctx *ctx);
/* Start due schedules (api_lock held). */
void imgsync__sched_tick(imgsync_ctx *ctx);
void imgsync__sched_free(imgsync_ctx *ctx);
/* Driving starts again after a pause (the worker was stopped): due times before it were missed. */
void imgsync__sched_restart(imgsync_ctx *ctx);
/* Tell the event callback what changed in the live tasks (api_lock held, between steps). */
void imgsync__events_deliver(imgsync_ctx *ctx);
/* Tell the callback of a task recorded as ended without ever being live (a skipped run). */
void imgsync__events_tell_record(imgsync_ctx *ctx, uint64_t id, int state);
/* Select the providers of req and make a task (not yet added). */
int imgsync__ctx_new_task(imgsync_ctx *ctx, const imgsync_request *req, imgsync__task **out);

/* evloop.c: the last leave of the api lock by a thread (api_lock still held): the loop's thread
 * tells the timer callback what changed, another thread wakes the loop. */
void imgsync__evloop_left(imgsync_ctx *ctx);
/* The context ends: every fd told is removed, the wakeup pipe closed. */
void imgsync__evloop_free(imgsync_ctx *ctx);
/* Record the detail of a failed call (printf-style, no secrets) and return `code`. */
int imgsync__ctx_fail(imgsync_ctx *ctx, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* The call succeeded: errmsg becomes "". Returns 0. */
int imgsync__ctx_ok(imgsync_ctx *ctx);
imgsync_provider *imgsync__ctx_provider(const imgsync_ctx *ctx, const char *name);
imgsync__task *imgsync__ctx_task(const imgsync_ctx *ctx, uint64_t id);
int imgsync__ctx_busy(const imgsync_ctx *ctx);
/* Forget ended tasks once their last state is recorded and told. */
void imgsync__ctx_reap(imgsync_ctx *ctx);
/* Add a task to the context and record it (its id comes from the store). 0, ESTORE or ENOMEM
 * (then t is freed). */
int imgsync__ctx_add_task(imgsync_ctx *ctx, imgsync__task *t);
/* Replace the engine's transport (tests). 0, EBUSY, ENOMEM. */
int imgsync__ctx_set_transport(imgsync_ctx *ctx, imgsync__transport *t);
/* HTTP requests queued, waiting or in flight (tests: is anything left to answer?). */
size_t imgsync__ctx_pending_requests(const imgsync_ctx *ctx);

#endif
