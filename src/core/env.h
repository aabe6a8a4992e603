/* What tasks and runs need of their context, without the context itself (internal): so that
 * core objects below the context never reach back up to it. */
#ifndef IMGSYNC_CORE_ENV_H
#define IMGSYNC_CORE_ENV_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/engine.h"
#include "imgsync/sys/clock.h"
#include "inventory/store.h"

typedef struct imgsync__env {
    imgsync__store *store;
    imgsync__engine *engine;
    const imgsync_clock *clock;
    pthread_mutex_t *status_lock; /* guards what imgsync_task_get reads from other threads */
    int64_t task_timeout_ms;      /* 0 = none */
    int64_t check_timeout_ms;
    size_t max_pending;           /* jobs a run keeps pending before it defers (soft bound) */
    const char *owner;            /* this process in task records ("pid:start-time") */
    struct imgsync__map *kept;    /* secrets providers keep across runs (kept.c) */
    const char *auth_file;        /* ctx option "auth_file" (the context's copy), NULL = none */
    struct imgsync__log *log;     /* the context's log (log.c) */
} imgsync__env;

int64_t imgsync__env_now(const imgsync__env *env);
int64_t imgsync__env_mono(const imgsync__env *env);

#endif
