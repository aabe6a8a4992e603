/* The context: providers, tasks, engine and store of one embedding (internal). */
#ifndef IMGSYNC_CORE_CTX_H
#define IMGSYNC_CORE_CTX_H

#include <pthread.h>
#include <stdint.h>

#include "engine/engine.h"
#include "imgsync/sys/provider.h"
#include "store/store.h"

struct imgsync__task;

typedef struct imgsync__option {
    char *key;
    char *value;
} imgsync__option;

struct imgsync_provider {
    imgsync_ctx *ctx;
    const imgsync_provider_vtable *vt;
    char *name;
    imgsync__option *opts;
    size_t nopts;
    int runs; /* runs currently using it */
};

struct imgsync_ctx {
    imgsync__engine *engine;
    imgsync__engine_opts eopts;
    int64_t task_timeout_ms;
    imgsync__store *store;
    imgsync_provider **providers;
    size_t nproviders;
    struct imgsync__task **tasks;
    size_t ntasks;
    uint64_t next_task_id;
    int in_perform;                 /* re-entrancy guard */
    pthread_mutex_t status_lock;    /* guards task status read by imgsync_task_get */
    char errmsg[512];
};

/* Record the detail of a failed call (printf-style, no secrets) and return `code`. */
int imgsync__ctx_fail(imgsync_ctx *ctx, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void imgsync__ctx_ok(imgsync_ctx *ctx);
imgsync_provider *imgsync__ctx_provider(const imgsync_ctx *ctx, const char *name);
/* image_type string of an imgsync_type ("" when unknown). */
const char *imgsync__type_image_name(int type);
/* Register the built-in kinds once. */
void imgsync__builtin_kinds(void);

#endif
