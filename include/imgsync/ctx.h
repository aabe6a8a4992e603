/* libimgsync: the context (one embedding: providers, tasks, HTTP engine, inventory store). */
#ifndef IMGSYNC_CTX_H
#define IMGSYNC_CTX_H

#include "export.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct imgsync_ctx imgsync_ctx;

/*
 * Create a context. `store_uri` is NULL or "memory:" (in-memory inventory, lost with the
 * context) or "sqlite:PATH": the inventory lives in the SQLite file PATH (created when missing;
 * WAL journal, so PATH-wal and PATH-shm appear beside it), and a new context on the same file
 * finds it again. Only the inventory is stored there: providers, tasks and schedules are not.
 * Another process writing the same file makes a commit wait up to 5 s, then fail with ESTORE.
 * imgsync_provider_free() removes the provider's rows from the file too. The context owns an
 * HTTP engine (one curl multi handle); it starts no thread. Errors: EINVAL, ENOMEM,
 * EUNSUPPORTED (another scheme, or a file written by a newer libimgsync, left untouched),
 * ESTORE (PATH cannot be opened, created or written, or is not a database), ENETWORK (curl
 * initialisation failed). There is no context to hold a message yet: a failure gives only the
 * code.
 */
IMGSYNC_EXTERN int imgsync_ctx_new(imgsync_ctx **out, const char *store_uri);
/* Cancel running tasks, free every provider, task and image of the context. Accepts NULL. */
IMGSYNC_EXTERN void imgsync_ctx_free(imgsync_ctx *ctx);
/*
 * Detail of the calling thread's last call on this context or on one of its handles
 * (providers): the reason of a failure (e.g. "provider 'x': option 'endpoint' is not an http(s)
 * URL"), or "" when that call succeeded. Every call returning an error code that takes a context
 * or provider sets it, successful or not. Kept per thread (a thread keeps it for its last 4 contexts), so that
 * imgsync_task_get() on another thread does not overwrite it. Borrowed until the thread's next
 * call on ctx. Never NULL, never a secret.
 */
IMGSYNC_EXTERN const char *imgsync_ctx_errmsg(const imgsync_ctx *ctx);

/*
 * Context-wide engine options (strings, like provider options):
 *   "max_connections"      global limit of requests in flight (default "16", 1..1024)
 *   "max_host_connections" per-origin limit (default "8", 1..1024)
 *   "request_timeout_ms"   one attempt, connect to last byte (default "30000")
 *   "connect_timeout_ms"   (default "10000")
 *   "low_speed_bytes"      an attempt slower than this many bytes/s ...
 *   "low_speed_time_ms"    ... for this long is aborted as a timeout (defaults "1024", "20000";
 *                          "0" bytes turns the check off; the time is counted in whole
 *                          seconds, rounded up)
 *   "task_timeout_ms"      whole sync task, 0 = none (default "0"; the imgsync CLI sets one)
 *   "check_timeout_ms"     imgsync_provider_check() as a whole (default "20000")
 *   "max_retries"          retries after the first attempt (default "4", 0..20)
 *   "retry_base_ms"        first backoff delay, doubled each attempt (default "500")
 *   "retry_max_ms"         cap of one backoff delay (default "30000"); a Retry-After asking for
 *                          longer is not waited for: the response is delivered as it is
 *   "retry_total_ms"       no retry starts later than this after the first attempt (default
 *                          "60000")
 *   "max_response_bytes"   body cap (default "67108864")
 *   "max_pending_jobs"     jobs one registry keeps queued before its listings pause (default
 *                          "4096", 16..1000000); bounds memory on huge listings
 *   "user_agent"           (default "libimgsync/VERSION")
 * Errors: EINVAL (unknown key or bad value, detail in errmsg), EBUSY while a task runs.
 */
IMGSYNC_EXTERN int imgsync_ctx_set(imgsync_ctx *ctx, const char *key, const char *value);

/*
 * Drive the engine: perform network I/O and provider callbacks for at most `timeout_ms`
 * milliseconds (0 = do what is ready without waiting). Returns the number of tasks still queued
 * or running (>= 0), or a negative error (EBUSY when called from inside a callback). No hidden
 * threads: call it from your own loop.
 */
IMGSYNC_EXTERN int imgsync_ctx_perform(imgsync_ctx *ctx, int timeout_ms);

#ifdef __cplusplus
}
#endif
#endif /* IMGSYNC_CTX_H */
