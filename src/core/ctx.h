/* The context: providers, tasks, engine and store of one embedding (internal). */
#ifndef IMGSYNC_CORE_CTX_H
#define IMGSYNC_CORE_CTX_H

#include <pthread.h>
#include <stdint.h>

#include "core/env.h"
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
    imgsync__task **tasks;
    size_t ntasks;
    uint64_t next_task_id;
    int in_perform;              /* re-entrancy guard */
    pthread_mutex_t status_lock; /* guards task status read by imgsync_task_get */
    uint64_t serial;             /* tells contexts apart in the per-thread error slots */
};

/* Record the detail of a failed call (printf-style, no secrets) and return `code`. */
int imgsync__ctx_fail(imgsync_ctx *ctx, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* The call succeeded: errmsg becomes "". Returns 0. */
int imgsync__ctx_ok(imgsync_ctx *ctx);
imgsync_provider *imgsync__ctx_provider(const imgsync_ctx *ctx, const char *name);
imgsync__task *imgsync__ctx_task(const imgsync_ctx *ctx, uint64_t id);
int imgsync__ctx_busy(const imgsync_ctx *ctx);
/* Add a task to the context (its id is set here). 0 or ENOMEM (then t is freed). */
int imgsync__ctx_add_task(imgsync_ctx *ctx, imgsync__task *t);
/* Replace the engine's transport (tests). 0, EBUSY, ENOMEM. */
int imgsync__ctx_set_transport(imgsync_ctx *ctx, imgsync__transport *t);
/* HTTP requests queued, waiting or in flight (tests: is anything left to answer?). */
size_t imgsync__ctx_pending_requests(const imgsync_ctx *ctx);

#endif
