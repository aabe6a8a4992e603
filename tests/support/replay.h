/*
 * Replay harness: drive a provider with recorded HTTP responses and no network.
 *
 * A replay owns a real context (in-memory store). A sync is started with imgsync_sync_start(),
 * then stepped by hand: the task is started with imgsync__task_step() (which calls the
 * providers' start), every job the providers queue is taken out of the engine with
 * imgsync__engine_take() before it could be sent, answered from the table of canned responses,
 * recorded, and handed back with imgsync__run_job_finished(); a last imgsync__task_step()
 * finishes the task. Jobs are answered in queue (FIFO) order, as an engine with one connection
 * would.
 *
 * Canned responses are keyed by (method, absolute URL), compared exactly; when the same key is
 * added twice the later one wins, so a test can override one response of a base fixture. A
 * request with no canned response is answered 404 (a registry-style NAME_UNKNOWN body) and
 * recorded as unexpected.
 */
#ifndef IMGSYNC_TESTS_REPLAY_H
#define IMGSYNC_TESTS_REPLAY_H

#include <stddef.h>
#include <stdint.h>

#include "imgsync.h"

typedef struct replay_header {
    char *name;
    char *value;
} replay_header;

/* One request the providers made, in the order they were taken from the engine. */
typedef struct replay_request {
    char *method;
    char *url;
    char *repository;       /* the job's repository scope, NULL for the registry scope */
    replay_header *headers; /* the provider's headers (and its prepare hook's), in order */
    size_t nheaders;
    int unexpected;         /* no canned response matched: it was answered 404 */
} replay_request;

typedef struct replay replay;

/* New replay with its own context (in-memory store). NULL on failure. */
replay *replay_new(void);
/* Free the replay and its context (accepts NULL). */
void replay_free(replay *r);
imgsync_ctx *replay_ctx(replay *r);

/* Create a provider of `kind` named `name` with option endpoint = `endpoint`. NULL on failure
 * (the context's error message explains). */
imgsync_provider *replay_add_provider(replay *r, const char *kind, const char *name, const char *endpoint);

/*
 * Add a canned response. `method` is "GET" or "HEAD"; `url` absolute. `headers` is NULL or
 * "Name: value" lines separated by '\n' (a trailing '\r' on a line is ignored); `body` is NULL
 * (empty) or a NUL-terminated string. Everything is copied. 0 or IMGSYNC_ENOMEM.
 */
int replay_respond(replay *r, const char *method, const char *url, int status, const char *headers,
                   const char *body);
/* Same, with a body of `len` bytes (may hold NUL bytes). */
int replay_respond_n(replay *r, const char *method, const char *url, int status, const char *headers,
                     const char *body, size_t len);
/* A transport failure (status 0, imgsync_response_error() == `error`, e.g. IMGSYNC_ENETWORK). */
int replay_respond_error(replay *r, const char *method, const char *url, int error);
/* Make the latest canned response for (method, url) look redirected: imgsync_response_url()
 * gives `effective` instead of the request URL. 0, IMGSYNC_ENOTFOUND (no such response), ENOMEM. */
int replay_set_effective_url(replay *r, const char *method, const char *url, const char *effective);
/* Forget every canned response. */
void replay_clear_responses(replay *r);
/* Forget the request log (also done at the start of every replay_sync). */
void replay_clear_log(replay *r);

/*
 * Start a sync of `req` (NULL = everything) and drive it to its end on canned responses.
 * *task_id (may be NULL) receives the task id. Returns 0 when the task ended; the error of
 * imgsync_sync_start; or IMGSYNC_EINTERNAL when the task did not end once no job was left, or
 * when more than 100000 jobs were taken (the task is then canceled).
 */
int replay_sync(replay *r, const imgsync_request *req, uint64_t *task_id);

/* ---- the request log ------------------------------------------------------------------------ */
size_t replay_nrequests(const replay *r);
const replay_request *replay_request_at(const replay *r, size_t i);
/* Number of requests that had no canned response. */
size_t replay_unexpected(const replay *r);
/* Number of requests with this method (NULL: any) and exactly this URL. */
size_t replay_count(const replay *r, const char *method, const char *url);
/* Number of requests with this method (NULL: any) whose URL contains `needle`. */
size_t replay_count_containing(const replay *r, const char *method, const char *needle);
/* First request with this method (NULL: any) and URL, or NULL. */
const replay_request *replay_find(const replay *r, const char *method, const char *url);
/* Index of that request in the log, or (size_t)-1. */
size_t replay_index_of(const replay *r, const char *method, const char *url);
/* Last value of a request header (case-insensitive name), or NULL. */
const char *replay_request_header(const replay_request *q, const char *name);
/* The log as text, one "METHOD URL[ (unexpected)]" line per request; malloc'd (for assertion
 * messages), NULL on ENOMEM. */
char *replay_log_text(const replay *r);

#endif
