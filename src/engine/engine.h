/* The HTTP engine: one curl multi handle, a job queue with limits, retries and auth (internal). */
#ifndef IMGSYNC_ENGINE_ENGINE_H
#define IMGSYNC_ENGINE_ENGINE_H

#include <stddef.h>

#include "engine/job.h"
#include "engine/retry.h"

typedef struct imgsync__engine imgsync__engine;

typedef struct imgsync__engine_opts {
    long max_connections;
    long max_host_connections;
    long request_timeout_ms;
    long connect_timeout_ms;
    imgsync__retry_policy retry;
    size_t max_response_bytes;
    char user_agent[96];
} imgsync__engine_opts;

void imgsync__engine_default_opts(imgsync__engine_opts *o);
int imgsync__engine_new(imgsync__engine **out, const imgsync__engine_opts *o);
/* Frees every job still queued or in flight without calling back. */
void imgsync__engine_free(imgsync__engine *e);
void imgsync__engine_set_opts(imgsync__engine *e, const imgsync__engine_opts *o);
/* Queue a job (ownership passes to the engine). 0, EINVAL, ENOMEM. */
int imgsync__engine_submit(imgsync__engine *e, imgsync_job *job);
/* Run transfers for up to timeout_ms; finished jobs are handed to imgsync__run_job_finished(). */
int imgsync__engine_perform(imgsync__engine *e, int timeout_ms);
/* Drop (free, no callback) every job of a run. */
void imgsync__engine_drop_run(imgsync__engine *e, imgsync_run *run);
/* Take the first queued job out of the engine without sending it (replay tests feed providers
 * recorded responses this way); NULL when the queue is empty. */
imgsync_job *imgsync__engine_take(imgsync__engine *e);

#endif
