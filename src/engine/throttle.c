/* Throttling: what the engine does when an origin answers 429 Too Many Requests.
 *
 * Registries that throttle per account (SWR, Docker Hub, Artifactory behind a gateway) refuse
 * every request over their rate; retrying each one on its own after Retry-After sends the whole
 * burst again a second later. So a 429 pauses the group (the registry, the account) that got it
 * towards that origin: none of its attempts starts there before the Retry-After (or the retry
 * backoff when there is none), while other registries on the same origin - other accounts on
 * SWR's API host of a region - go on. Then the group is paced there: attempts start at most
 * `rate` per second, half the rate its last run of answers came at, and the rate grows by one
 * attempt per second with each answer that is not a 429 (additive increase, multiplicative
 * decrease), so a sync settles just under the server's limit instead of bouncing off it. */
#include <stdlib.h>

#include "engine/internal.h"
#include "engine/retry.h"
#include "util/map.h"

#define MIN_WINDOW_MS 100   /* a rate measured over less time is too noisy */
#define MIN_RATE 1.0        /* attempts per second: never slower */
#define MAX_RATE 100000.0   /* faster than any registry answers: pacing ends */

imgsync__throttle *imgsync__throttle_of(imgsync__group *g, const imgsync__host *h)
{
    imgsync__throttle *th = imgsync__map_get(&g->throttles, h->origin);
    if (th)
        return th;
    if (!(th = calloc(1, sizeof(*th))) || imgsync__map_put(&g->throttles, h->origin, th, NULL)) {
        free(th);
        return NULL;
    }
    return th;
}

void imgsync__throttle_forget(imgsync__group *g)
{
    size_t pos = 0;
    imgsync__map_entry *me;
    while ((me = imgsync__map_next(&g->throttles, &pos)) != NULL)
        free(me->value);
    imgsync__map_clear(&g->throttles);
}

int64_t imgsync__throttle_wait(const imgsync__ereq *r, int64_t now)
{
    const imgsync__throttle *th = r->th;
    if (!th)
        return 0;
    int64_t wait = th->paused_until > now ? th->paused_until - now : 0;
    if (th->rate > 0 && th->next_start_ms > (double)now) {
        int64_t paced = (int64_t)(th->next_start_ms - (double)now) + 1;
        if (paced > wait)
            wait = paced;
    }
    return wait;
}

void imgsync__throttle_started(imgsync__ereq *r, int64_t now)
{
    imgsync__throttle *th = r->th;
    r->sent_ms = now;
    if (!th)
        return;
    if (!th->window_ms)
        th->window_ms = now;
    if (th->rate > 0) {
        double from = th->next_start_ms > (double)now ? th->next_start_ms : (double)now;
        th->next_start_ms = from + 1000.0 / th->rate;
    }
}

/* How long the group rests after a 429: its Retry-After when usable and not above the retry
 * cap (a longer one fails the request in retry.c anyway), else the first retry's backoff. */
static int64_t pause_ms(const imgsync__engine *e, const imgsync__ereq *r)
{
    int64_t ms;
    if (imgsync__retry_after_ms(imgsync__eresp_header(&r->resp, "Retry-After"), imgsync__engine_now(e), &ms))
        return ms < e->o.retry.max_ms ? ms : e->o.retry.max_ms;
    return e->o.retry.base_ms;
}

static void throttled(imgsync__engine *e, imgsync__throttle *th, const imgsync__ereq *r, int64_t now)
{
    /* Once per burst: 429s to attempts sent before the last decrease tell nothing new. */
    if (r->sent_ms > th->slowed_ms || !th->slowed_ms) {
        int64_t span = now - th->window_ms;
        double measured = (double)th->window_ok * 1000.0 / (double)(span > MIN_WINDOW_MS ? span : MIN_WINDOW_MS);
        double rate = th->rate > 0 && th->rate < measured ? th->rate : measured;
        th->rate = rate / 2 > MIN_RATE ? rate / 2 : MIN_RATE;
        th->slowed_ms = now;
    }
    int64_t until = now + pause_ms(e, r);
    if (until > th->paused_until)
        th->paused_until = until;
    th->next_start_ms = (double)th->paused_until;
    th->window_ms = th->paused_until;
    th->window_ok = 0;
}

void imgsync__throttle_answer(imgsync__engine *e, imgsync__ereq *r)
{
    imgsync__throttle *th = r->th;
    if (!th)
        return;
    int64_t now = imgsync__engine_mono(e);
    if (r->resp.status == 429) {
        throttled(e, th, r, now);
        return;
    }
    th->window_ok++;
    if (th->rate > 0 && (th->rate += 1.0) > MAX_RATE)
        th->rate = 0;
}
