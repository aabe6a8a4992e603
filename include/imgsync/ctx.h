/* libimgsync: the context (one embedding: providers, tasks, HTTP engine, inventory store). */
#ifndef IMGSYNC_CTX_H
#define IMGSYNC_CTX_H

#include <stddef.h>

#include "export.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct imgsync_ctx imgsync_ctx;

/*
 * Create a context. `store_uri` is NULL or "memory:" (in-memory inventory, lost with the
 * context) or "sqlite:PATH": the inventory, the task history with its change feed, and the
 * schedules live in the SQLite file PATH (created when missing; WAL journal, so PATH-wal and
 * PATH-shm appear beside it), and a new context on the same file finds them again. Providers
 * are not stored: register them again. A task that was queued or running in a process that
 * ended without finishing it (crash, kill) is recorded as failed with reason "interrupted"
 * when the file is next opened. Several processes may open one file: readers never wait for a
 * writer; a writer waits up to 5 s for another one, then fails with ESTORE, changing nothing.
 * imgsync_provider_free() keeps the provider's rows in the file. The context owns an HTTP engine
 * (one curl multi handle); it starts no thread (see imgsync_ctx_start). Errors: EINVAL, ENOMEM,
 * EUNSUPPORTED (another scheme, or a file written by a newer libimgsync, left untouched),
 * ESTORE (PATH cannot be opened, created or written, or is not a database), ENETWORK (curl
 * initialisation failed). imgsync_ctx_open gives the reason too.
 */
IMGSYNC_EXTERN int imgsync_ctx_new(imgsync_ctx **out, const char *store_uri);
/*
 * Same as imgsync_ctx_new, and on failure a reason (no secret, NUL-terminated, truncated to
 * errbuf_len) in errbuf, e.g. "sqlite store: schema version 3 is newer than this library's (2):
 * not opened"; "" on success. errbuf may be NULL when errbuf_len is 0.
 */
IMGSYNC_EXTERN int imgsync_ctx_open(imgsync_ctx **out, const char *store_uri, char *errbuf, size_t errbuf_len);
/* Stop the worker (imgsync_ctx_stop), cancel running tasks (recorded as canceled), free every
 * provider, task and image of the context. Accepts NULL. Iterators, change iterators and lists
 * must be freed before. */
IMGSYNC_EXTERN void imgsync_ctx_free(imgsync_ctx *ctx);
/*
 * Detail of the calling thread's last call on this context or on one of its handles
 * (providers): the reason of a failure (e.g. "provider 'x': option 'endpoint' is not an http(s)
 * URL"), or "" when that call succeeded. Every call returning an error code that takes a context
 * or provider sets it, successful or not. Kept per thread (a thread keeps it for its last 4 contexts), so that
 * imgsync_task_get() on another thread does not overwrite it. Borrowed until the thread's next
 * call on ctx or on one of its providers, or until the thread has used 4 other contexts: copy it
 * right after the failing call. UTF-8, never NULL, never a secret.
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
 *   "task_retention"       tasks kept in the history with their change feed (default "100",
 *                          1..1000000)
 *   "schedule_catch_up"    "1" (default): a schedule time missed while no process ran it runs
 *                          once when the context is driven again; "0": it is not run
 *   "auth_file"            the Docker/Podman auth file of every provider that sets no
 *                          "auth_file" of its own: a path, "default" (the search order) or
 *                          "none"; "" = unset (the default: no file is read). See the provider
 *                          option "auth_file" (imgsync/provider.h); a path is checked when set
 * Errors: EINVAL (unknown key or bad value, detail in errmsg), EBUSY while a task runs.
 */
IMGSYNC_EXTERN int imgsync_ctx_set(imgsync_ctx *ctx, const char *key, const char *value);

/* Levels of log messages, from the most to the least severe. */
typedef enum imgsync_log_level {
    IMGSYNC_LOG_ERROR = 1, /* a task, or a registry of it, failed as a whole */
    IMGSYNC_LOG_WARN = 2,  /* a repository failed; a request gave up on a transient failure; a
                              task partially succeeded; a registry's run was canceled */
    IMGSYNC_LOG_INFO = 3,  /* a task or a registry of it started or ended, with its counts */
    IMGSYNC_LOG_DEBUG = 4  /* one line per HTTP attempt: method, URL, status or error, bytes,
                              time, attempt number, retry delay */
} imgsync_log_level;

/*
 * A log message: `level` is an imgsync_log_level, `message` one line (borrowed for the call) of
 * valid UTF-8 without control characters (server text has them replaced by '?'), at most
 * 1023 bytes, never a secret: URLs lose their userinfo and every query value but those of
 * known listing parameters (n, last, page, service, scope ...), which become "***"; the
 * provider's secrets and the tokens of the run are replaced by "***"; headers and bodies of
 * requests are never logged. e.g.
 *   "registry 'prod': GET https://reg.example/v2/_catalog?n=100 -> 200, 1532 bytes, 41 ms, attempt 1"
 */
typedef void (*imgsync_log_callback)(imgsync_ctx *ctx, int level, const char *message, void *payload);

/*
 * Send ctx's messages of level <= max_level (IMGSYNC_LOG_ERROR..IMGSYNC_LOG_DEBUG) to
 * cb(ctx, level, message, payload); a NULL cb turns logging off (max_level is then ignored).
 * Without a callback, or below WARN, the cost per HTTP attempt is one branch. May be called
 * from any thread (like imgsync_task_cancel, it waits for the driver's current step); it applies
 * to the next message. The callback is called with the context's lock held, never on two
 * threads at once: on the thread that drives the context (inside imgsync_ctx_perform,
 * imgsync_task_wait, imgsync_provider_check, or on the worker thread of imgsync_ctx_start), in
 * the middle of the engine's work, or on a thread that cancels tasks (imgsync_task_cancel,
 * imgsync_ctx_stop, imgsync_ctx_free, before they return). It must only record the message and
 * return, and must not call libimgsync on ctx or on its handles: imgsync_ctx_perform and
 * imgsync_ctx_set_log_callback answer EBUSY there, other calls are not allowed (undefined).
 * 0, EINVAL (NULL ctx, max_level out of range with a cb), EBUSY (from the callback).
 */
IMGSYNC_EXTERN int imgsync_ctx_set_log_callback(imgsync_ctx *ctx, int max_level, imgsync_log_callback cb,
                                                void *payload);

/*
 * Drive the context: start due schedules and queued tasks, perform network I/O and provider
 * callbacks for at most `timeout_ms` milliseconds (0 = do what is ready without waiting; with no
 * task to run it returns at once). Returns the number of tasks still queued or running (>= 0),
 * or a negative error (EBUSY when called from inside a callback or while the worker of
 * imgsync_ctx_start runs). No hidden threads: call it from your own loop. Other threads may
 * call imgsync_sync_start, imgsync_task_cancel, imgsync_schedule_* and the status and inventory
 * reads meanwhile: they wake a perform that is waiting for the network.
 */
IMGSYNC_EXTERN int imgsync_ctx_perform(imgsync_ctx *ctx, int timeout_ms);

/*
 * Drive the context from one background thread instead: it runs tasks as they are started and
 * schedules when they come due, sleeping (not polling) in between. While it runs, other threads
 * may start, cancel and read tasks, add and remove schedules and read the inventory;
 * imgsync_ctx_perform answers EBUSY; providers and context options must not change. 0, EBUSY
 * (already started), ENOMEM / EINTERNAL (no thread).
 */
IMGSYNC_EXTERN int imgsync_ctx_start(imgsync_ctx *ctx);
/* Stop the worker: running and queued tasks are canceled (recorded as canceled, their
 * unfinished scopes keep the previous inventory), then the thread is joined. Not from an event
 * callback (EBUSY). 0 also when no worker ran. */
IMGSYNC_EXTERN int imgsync_ctx_stop(imgsync_ctx *ctx);

/* ---- driving from the embedder's event loop (epoll, libuv, ...) --------------------------------
 *
 * Instead of imgsync_ctx_perform, an embedder may wait for the network itself, the way
 * libcurl's curl_multi_socket_action works: the context tells a socket callback which file
 * descriptors to watch and a timer callback when it wants to act on its own time (queued tasks
 * starting, due schedules, retry backoffs and 429 pauses, timeouts), and the loop calls
 * imgsync_ctx_socket_action for each ready socket and when the timer fires. Nothing is polled.
 *
 * Thread rules: the thread that sets the socket callback and calls imgsync_ctx_socket_action is
 * the loop's thread; both callbacks are only called on it, from inside a call it makes on the
 * context (imgsync_ctx_socket_action, imgsync_ctx_set_*_callback, imgsync_sync_start,
 * imgsync_task_cancel, imgsync_schedule_*, imgsync_ctx_free, ...). Other threads may still call
 * imgsync_sync_start, imgsync_task_cancel, imgsync_schedule_* and the reads: the context then
 * wakes the loop through a descriptor of its own that the socket callback announced like any
 * other (the loop reports it readable with imgsync_ctx_socket_action as usual), and what those
 * calls change for the loop's sockets is told to the callback on the loop's thread then. While
 * a socket callback is set, imgsync_ctx_perform, imgsync_task_wait and imgsync_ctx_start answer
 * EBUSY. imgsync_provider_check still works (it blocks the loop while it runs). A callback must
 * not call imgsync_ctx_socket_action, imgsync_ctx_set_*_callback, imgsync_ctx_perform,
 * imgsync_provider_check (EBUSY) or imgsync_ctx_free on its context; the socket and timer
 * callbacks also get EBUSY from imgsync_sync_start, imgsync_task_cancel and imgsync_schedule_*
 * (libcurl cannot take transfers out while it calls them: do it after they return); they may
 * call imgsync_ctx_timeout and the reads. Callbacks run while the context is held: another thread's
 * call on it waits until they return, so they must not wait for such a thread.
 */
typedef enum imgsync_poll {
    IMGSYNC_POLL_IN = 1,    /* wait until fd is readable */
    IMGSYNC_POLL_OUT = 2,   /* ... writable */
    IMGSYNC_POLL_INOUT = 3, /* either */
    IMGSYNC_POLL_REMOVE = 4 /* stop watching fd (it may be closed right after the callback) */
} imgsync_poll;
/* The fd to give imgsync_ctx_socket_action when the timer fired (or to act on time alone). */
#define IMGSYNC_SOCKET_TIMEOUT (-1)

/* Watch fd for `what` (imgsync_poll) from now on, replacing what was asked for it before.
 * Return 0 (other values are reserved). */
typedef int (*imgsync_socket_callback)(imgsync_ctx *ctx, int fd, int what, void *payload);
/* Call imgsync_ctx_socket_action(ctx, IMGSYNC_SOCKET_TIMEOUT, 0) once in timeout_ms (0: as soon
 * as the loop can, not from inside this callback), replacing the timer asked for before;
 * timeout_ms -1: no timer is needed. Milliseconds are an int, as in imgsync_ctx_perform (a long
 * differs in size between platforms, which FFI bindings feel); at most INT_MAX. Return 0 (other
 * values are reserved). */
typedef int (*imgsync_timer_callback)(imgsync_ctx *ctx, int timeout_ms, void *payload);

/*
 * Drive ctx from an event loop: cb is told, on the loop's thread (this one), every socket to
 * watch, starting with the context's own wakeup descriptor (at once). cb NULL: back to
 * imgsync_ctx_perform; another cb replaces the first one for what is told from then on (the fds
 * told before stay watched); every fd told is removed first (cb gets IMGSYNC_POLL_REMOVE for each)
 * and a timer callback is told -1. payload is given back to cb. imgsync_ctx_free removes every
 * fd told as well (and a callback must then not use ctx). Errors: EINVAL
 * (ctx NULL), EBUSY (from a callback, while the worker of imgsync_ctx_start runs, or cb NULL -
 * or a first cb - while a task is queued or running: a loop must drive a task from its start), EUNSUPPORTED (the context's HTTP transport cannot be
 * driven so), ENETWORK (no descriptor for the wakeup), ENOMEM.
 */
IMGSYNC_EXTERN int imgsync_ctx_set_socket_callback(imgsync_ctx *ctx, imgsync_socket_callback cb, void *payload);
/*
 * cb is told when the context next wants imgsync_ctx_socket_action(ctx, IMGSYNC_SOCKET_TIMEOUT,
 * 0), on the loop's thread, whenever that time changes (at once with the current one when
 * set). NULL: none (the loop may ask imgsync_ctx_timeout before each wait instead). Errors:
 * EINVAL (ctx NULL), EBUSY (from a callback).
 */
IMGSYNC_EXTERN int imgsync_ctx_set_timer_callback(imgsync_ctx *ctx, imgsync_timer_callback cb, void *payload);
/*
 * fd became ready for `events` (IMGSYNC_POLL_IN and/or IMGSYNC_POLL_OUT; 0: let the context
 * look), or fd is IMGSYNC_SOCKET_TIMEOUT: the timer fired. Does the network work that is ready
 * and one driving step (schedules, tasks, records, event callbacks) without waiting, then tells
 * the callbacks what to watch next. Returns the number of tasks still queued or running (>= 0),
 * or a negative error: EINVAL (ctx NULL, no socket callback set, or fd is not a descriptor
 * the socket callback was told of and not removed since: an event for an fd removed while the
 * loop was collecting events ends so too and can be ignored), EBUSY (from a callback).
 */
IMGSYNC_EXTERN int imgsync_ctx_socket_action(imgsync_ctx *ctx, int fd, int events);
/*
 * Milliseconds until the context wants imgsync_ctx_socket_action(ctx, IMGSYNC_SOCKET_TIMEOUT,
 * 0) (0: now), or -1 when only its sockets (or a call from the embedder) can bring work, like
 * curl_multi_timeout. -1 too for ctx NULL. The loop's thread.
 */
IMGSYNC_EXTERN int imgsync_ctx_timeout(imgsync_ctx *ctx);
/*
 * From any thread (also one that never called the context before): an
 * imgsync_ctx_perform waiting for the network returns soon (or the next one, when none waits
 * now), also the worker's wait; with a socket callback set, the loop's wakeup descriptor
 * becomes readable. Nothing is canceled. Accepts NULL. Not after imgsync_ctx_free began.
 */
IMGSYNC_EXTERN void imgsync_ctx_wakeup(imgsync_ctx *ctx);

#ifdef __cplusplus
}
#endif
#endif /* IMGSYNC_CTX_H */
