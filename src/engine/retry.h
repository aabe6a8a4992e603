/* Retry policy: which outcomes are retried and how long to wait (internal, pure functions; the
 * engine schedules a request's retry with them in retry.c, imgsync__retry_schedule). */
#ifndef IMGSYNC_ENGINE_RETRY_H
#define IMGSYNC_ENGINE_RETRY_H

#include <stdint.h>

typedef struct imgsync__retry_policy {
    int max_retries;  /* retries after the first attempt */
    int64_t base_ms;  /* delay before the first retry, doubled each time */
    int64_t max_ms;   /* cap of any single delay; a longer Retry-After is not waited for */
    int64_t total_ms; /* no retry starts later than this after the first attempt (0 = no cap) */
} imgsync__retry_policy;

/* How a transport failure may be retried. */
enum {
    IMGSYNC__RETRY_NEVER = 0,     /* DNS, TLS, too big, protocol: retrying cannot help */
    IMGSYNC__RETRY_IDEMPOTENT = 1, /* the request may have reached the server (reset, timeout) */
    IMGSYNC__RETRY_SAFE = 2        /* nothing was sent (connection refused) */
};

/* 1 when an outcome may be retried. A transport failure (status 0) by its class; HTTP 429, 500,
 * 502, 503 and 504 for idempotent requests only (DESIGN.md; provider.h: a POST only when marked
 * idempotent). Never other statuses. */
int imgsync__retry_should(int status, int transport_class, int idempotent);
/*
 * Interpret a Retry-After value. Returns 1 with *ms set when it is usable, 0 when it is absent or
 * malformed (the caller then falls back to backoff). Surrounding whitespace is ignored.
 * - delta-seconds (1*DIGIT): "0" means 0 ms; a sign or a fraction ("-5", "+5", "1.5") is not
 *   delta-seconds and counts as malformed.
 * - HTTP-date: the time left until then; a date at or before now_ms gives 0 ms, i.e. retry
 *   at once (the server said the resource is available again already), not the backoff.
 */
int imgsync__retry_after_ms(const char *v, int64_t now_ms, int64_t *ms);
/*
 * Delay before retry number `attempt` (1 = first retry) in ms; -1 when attempt exceeds
 * p->max_retries; -2 when `retry_after` (the header value, may be NULL) asks for longer than
 * max_ms (the server will not be ready in time: give up now). When retry_after is delta-seconds
 * or an HTTP-date relative to now_ms, that delay is used. Otherwise exponential backoff with
 * equal jitter: d = min(max_ms, base_ms * 2^(attempt-1)); result = d/2 + rnd*d/2, rnd in [0,1)
 * supplied by the caller (so tests can fix it). Overflow-safe for any attempt.
 */
int64_t imgsync__retry_delay_ms(const imgsync__retry_policy *p, int attempt, const char *retry_after,
                                int64_t now_ms, double rnd);

#endif
