/*
 * Replay harness: drive a provider with recorded HTTP responses and no network.
 *
 * A replay owns a real context (in-memory store) whose engine runs on the scripted transport of
 * fake_transport.h and a fake clock: every request goes through the real engine (queues, headers,
 * credentials, redirects, Bearer challenges, the sign hook) but is answered from a table of
 * canned responses, and recorded exactly as it went on the wire. Retries are off (a canned 503
 * or transport error reaches the provider as it is) and one request is in flight at a time, so
 * requests are answered in the engine's queue order.
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
#include "support/fake_transport.h"

/* One request as it went out: method, url, headers (every one sent), body, unexpected; its job's
 * repository scope with replay_request_repository(). */
typedef fake_request replay_request;

typedef struct replay replay;

/* New replay with its own context (in-memory store, fake transport and clock). NULL on failure. */
replay *replay_new(void);
/* Same, with the context's store opened from `store_uri` (as imgsync_ctx_new takes it). */
replay *replay_new_with_store(const char *store_uri);
/* Free the replay and its context (accepts NULL). */
void replay_free(replay *r);
imgsync_ctx *replay_ctx(replay *r);
fake_transport *replay_transport(replay *r);
fake_clock *replay_clock(replay *r);

/* Create a provider of `kind` named `name` with option endpoint = `endpoint`. NULL on failure
 * (the context's error message explains). */
imgsync_provider *replay_add_provider(replay *r, const char *kind, const char *name, const char *endpoint);

/*
 * Add a canned response. `method` is "GET", "HEAD", "POST" ...; `url` absolute. `headers` is
 * NULL or "Name: value" lines separated by '\n'; `body` is NULL (empty) or a NUL-terminated
 * string. Everything is copied. 0 or IMGSYNC_ENOMEM.
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
 * imgsync_sync_start; or IMGSYNC_EINTERNAL when the task did not end once nothing was left to
 * answer, or after 100000 requests (the task is then canceled).
 */
int replay_sync(replay *r, const imgsync_request *req, uint64_t *task_id);

/* ---- the request log ------------------------------------------------------------------------ */
size_t replay_nrequests(const replay *r);
const replay_request *replay_request_at(const replay *r, size_t i);
/* The repository scope of the request's job, NULL for the registry scope. */
const char *replay_request_repository(const replay_request *q);
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
