/* Throttling: what the engine does when an origin answers 429 Too Many Requests.
 *
 * Registries that throttle per account (SWR, Docker Hub, Artifactory behind a gateway) refuse
 * every request over their rate; retrying each one on its own after Retry-After sends the whole
 * burst again a second later. So a 429 pauses the origin: no attempt starts there before its
 * Retry-After (or the retry backoff when it has none). Then the origin is paced: attempts start at
 * most `rate` per second, half the rate its last run of answers came at, and the rate grows by one
 * attempt per second with each answer that is not a 429 (additive increase, multiplicative decrease), so
 * a sync settles just under the server's limit instead of bouncing off it. */
#include "engine/internal.h"
#include "engine/retry.h"

#define MIN_WINDOW_MS 100   /* a rate measured over less time is too noisy */
#define MIN_RATE 1.0        /* attempts per second: never slower */
#define MAX_RATE 100000.0   /* faster than any registry answers: pacing ends */

int64_t imgsync__throttle_wait(const imgsync__host *h, int64_t now)
{
    int64_t wait = h->paused_until > now ? h->paused_until - now : 0;
    if (h->rate > 0 && h->next_start_ms > (double)now) {
        int64_t paced = (int64_t)(h->next_start_ms - (double)now) + 1;
        if (paced > wait)
            wait = paced;
    }
    return wait;
}

void imgsync__throttle_started(imgsync__ereq *r, int64_t now)
{
    imgsync__host *h = r->host;
    r->sent_ms = now;
    if (!h->window_ms)
        h->window_ms = now;
    if (h->rate > 0) {
        double from = h->next_start_ms > (double)now ? h->next_start_ms : (double)now;
        h->next_start_ms = from + 1000.0 / h->rate;
    }
}

/* How long the origin rests after a 429: its Retry-After when usable and not above the retry
 * cap (a longer one fails the request in retry.c anyway), else the first retry's backoff. */
static int64_t pause_ms(const imgsync__engine *e, const imgsync__ereq *r)
{
    int64_t ms;
    if (imgsync__retry_after_ms(imgsync__eresp_header(&r->resp, "Retry-After"), imgsync__engine_now(e), &ms))
        return ms < e->o.retry.max_ms ? ms : e->o.retry.max_ms;
    return e->o.retry.base_ms;
}

static void throttled(imgsync__engine *e, imgsync__host *h, const imgsync__ereq *r, int64_t now)
{
    /* Once per burst: 429s to attempts sent before the last decrease tell nothing new. */
    if (r->sent_ms > h->slowed_ms || !h->slowed_ms) {
        int64_t span = now - h->window_ms;
        double measured = (double)h->window_ok * 1000.0 / (double)(span > MIN_WINDOW_MS ? span : MIN_WINDOW_MS);
        double rate = h->rate > 0 && h->rate < measured ? h->rate : measured;
        h->rate = rate / 2 > MIN_RATE ? rate / 2 : MIN_RATE;
        h->slowed_ms = now;
    }
    int64_t until = now + pause_ms(e, r);
    if (until > h->paused_until)
        h->paused_until = until;
    h->next_start_ms = (double)h->paused_until;
    h->window_ms = h->paused_until;
    h->window_ok = 0;
}

void imgsync__throttle_answer(imgsync__engine *e, imgsync__ereq *r)
{
    imgsync__host *h = r->host;
    int64_t now = imgsync__engine_mono(e);
    if (r->resp.status == 429) {
        throttled(e, h, r, now);
        return;
    }
    h->window_ok++;
    if (h->rate > 0 && (h->rate += 1.0) > MAX_RATE)
        h->rate = 0;
}
