/* Retries: the policy (pure functions, no clock or randomness of their own: callers pass both
 * in), and the engine's scheduling of a retry (jitter from the engine's generator, the total
 * time cap, the retry event). */
#include "retry.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "engine/internal.h"
#include "imgsync/errors.h"
#include "util/timeutil.h"

int imgsync__retry_should(int status, int transport_class, int idempotent)
{
    if (status == 0)
        return transport_class == IMGSYNC__RETRY_SAFE || (transport_class == IMGSYNC__RETRY_IDEMPOTENT && idempotent);
    /* a request that is not idempotent (a login, a create) is never sent twice on an answer: even
     * a 503 may come after the server acted on it. 500 too: Harbor answers it for database
     * timeouts that pass. */
    return idempotent && (status == 429 || status == 500 || status == 502 || status == 503 || status == 504);
}

static int is_ows(char c) { return c == ' ' || c == '\t'; }

/* Retry-After, see retry.h: delta-seconds saturate, so any number of digits is safe. */
int imgsync__retry_after_ms(const char *v, int64_t now_ms, int64_t *ms)
{
    if (!v)
        return 0;
    while (is_ows(*v))
        v++;
    size_t n = strlen(v);
    while (n && is_ows(v[n - 1]))
        n--;
    if (!n)
        return 0;

    size_t digits = 0;
    while (digits < n && v[digits] >= '0' && v[digits] <= '9')
        digits++;
    if (digits == n) {
        int64_t secs = 0;
        for (size_t i = 0; i < n; i++) {
            int d = v[i] - '0';
            if (secs > (INT64_MAX - d) / 10) {
                secs = INT64_MAX;
                break;
            }
            secs = secs * 10 + d;
        }
        *ms = secs > INT64_MAX / 1000 ? INT64_MAX : secs * 1000;
        return 1;
    }

    /* Copy to NUL-terminate the trimmed value; every valid HTTP-date is well under 64 bytes. */
    char buf[64];
    if (n >= sizeof(buf))
        return 0;
    memcpy(buf, v, n);
    buf[n] = '\0';
    int64_t when;
    if (imgsync__parse_http_date(buf, &when))
        return 0;
    if (when <= now_ms)
        *ms = 0;
    else if (now_ms < when - INT64_MAX) /* when >= 0, so this bound itself cannot overflow */
        *ms = INT64_MAX;
    else
        *ms = when - now_ms;
    return 1;
}

int64_t imgsync__retry_delay_ms(const imgsync__retry_policy *p, int attempt, const char *retry_after,
                                int64_t now_ms, double rnd)
{
    /* attempt < 1 is not a retry at all; a negative max_retries allows none. */
    if (!p || attempt < 1 || attempt > p->max_retries)
        return -1;
    /* A negative cap or base is treated as 0 (no waiting) rather than trusted. */
    int64_t cap = p->max_ms > 0 ? p->max_ms : 0;

    int64_t ra;
    if (imgsync__retry_after_ms(retry_after, now_ms, &ra))
        return ra <= cap ? ra : -2;

    int64_t d = p->base_ms > 0 ? p->base_ms : 0;
    if (d > cap)
        d = cap;
    /* Double once per earlier retry, stopping at the cap (or at 0) so that even
     * attempt == INT_MAX costs at most ~63 iterations and never overflows. */
    for (int i = 1; i < attempt && d > 0 && d < cap; i++)
        d = d > cap / 2 ? cap : d * 2;

    /* Equal jitter: half fixed, half scaled by rnd. Out-of-range rnd (or NaN) is clamped to
     * [0, 1] so the result always stays within [d/2, d]. */
    if (!(rnd >= 0.0))
        rnd = 0.0;
    if (rnd > 1.0)
        rnd = 1.0;
    int64_t half = d / 2;
    int64_t jitter = (int64_t)(rnd * ((double)d / 2.0)); /* <= d/2 <= 2^62: the cast is safe */
    if (jitter > d - half) /* double rounding for d near 2^63 */
        jitter = d - half;
    return half + jitter;
}

/* ---- scheduling a request's retry ------------------------------------------------------- */

static uint64_t next_rand(imgsync__engine *e)
{
    e->rng ^= e->rng << 13;
    e->rng ^= e->rng >> 7;
    e->rng ^= e->rng << 17;
    return e->rng;
}

#define MAX_THROTTLED 32 /* 429 answers one request may retry */

int imgsync__retry_schedule(imgsync__engine *e, imgsync__ereq *r)
{
    const imgsync__retry_policy *p = &e->o.retry;
    if (!imgsync__retry_should(r->resp.status, r->resp.error ? r->resp.retry_class : 0, r->idempotent))
        return 0;
    /* A 429 paces the client rather than reporting a failure (throttle.c): it does not use up
     * max_retries (0 still means no retries), only retry_total_ms and at most MAX_THROTTLED. */
    int throttled = !r->resp.error && r->resp.status == 429;
    imgsync__retry_policy tp = *p;
    if (throttled && p->max_retries > 0)
        tp.max_retries = MAX_THROTTLED;
    double rnd = (double)(next_rand(e) >> 11) / 9007199254740992.0;
    int64_t delay = imgsync__retry_delay_ms(&tp, (throttled ? r->throttled : r->retries) + 1,
                                            imgsync__eresp_header(&r->resp, "Retry-After"), imgsync__engine_now(e), rnd);
    if (delay == -2 && !r->resp.error) {
        snprintf(r->resp.detail, sizeof(r->resp.detail), "the server asked to retry after more than %lld ms",
                 (long long)p->max_ms);
        return 0;
    }
    int64_t now = imgsync__engine_mono(e);
    if (delay < 0)
        return 0;
    if (p->total_ms > 0 && now + delay - r->first_ms > p->total_ms) {
        if (!r->resp.error) /* an answer, delivered as it is: say why it was not retried */
            snprintf(r->resp.detail, sizeof(r->resp.detail),
                     "not retried: the next attempt would start more than %lld ms after the first",
                     (long long)p->total_ms);
        return 0;
    }
    if (throttled) {
        r->throttled++;
        r->front = 1; /* back at the head of its queue: it already waited its turn once */
    } else {
        r->retries++;
    }
    r->not_before = now + delay;
    imgsync__req_set_state(r, IMGSYNC__RS_BACKOFF);
    if (!r->internal && r->g->hooks.event) /* last: r is in its place whatever the hook counts */
        r->g->hooks.event(r->g->ud, IMGSYNC__EV_RETRY);
    return 1;
}
