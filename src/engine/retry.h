/* Retry policy: which outcomes are retried and how long to wait (internal, pure functions). */
#ifndef IMGSYNC_ENGINE_RETRY_H
#define IMGSYNC_ENGINE_RETRY_H

#include <stdint.h>

typedef struct imgsync__retry_policy {
    int max_retries;  /* retries after the first attempt */
    int64_t base_ms;  /* delay before the first retry, doubled each time */
    int64_t max_ms;   /* cap of any single delay, Retry-After included */
} imgsync__retry_policy;

/* 1 when an outcome may be retried: transport errors IMGSYNC_ENETWORK or IMGSYNC_ETIMEOUT
 * (status 0), or HTTP 429, 502, 503, 504. Never other 4xx/5xx, never IMGSYNC_ETOOBIG or
 * IMGSYNC_ECANCELED. */
int imgsync__retry_should(int status, int transport_error);
/*
 * Delay before retry number `attempt` (1 = first retry) in ms, or -1 when attempt exceeds
 * p->max_retries. When `retry_after` (the header value, may be NULL) is delta-seconds or an
 * HTTP-date in the future of now_ms, that delay is used, capped at max_ms. Otherwise exponential
 * backoff with equal jitter: d = min(max_ms, base_ms * 2^(attempt-1)); result = d/2 + rnd*d/2,
 * rnd in [0,1) supplied by the caller (so tests can fix it). Overflow-safe for any attempt.
 */
int64_t imgsync__retry_delay_ms(const imgsync__retry_policy *p, int attempt, const char *retry_after,
                                int64_t now_ms, double rnd);

#endif
