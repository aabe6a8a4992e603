/* The engine: construction, the perform loop, and what happens when an attempt ends (redirect,
 * Bearer challenge, retry or delivery: each decided in its own file). */
#include "engine.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/internal.h"
#include "imgsync/errors.h"
#include "imgsync/version.h"
#include "util/buf.h"
#include "util/clock.h"

void imgsync__engine_default_opts(imgsync__engine_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->max_connections = 16;
    o->max_host_connections = 8;
    o->request_timeout_ms = 30000;
    o->connect_timeout_ms = 10000;
    o->low_speed_bytes = 1024;
    o->low_speed_time_ms = 20000;
    o->retry.max_retries = 4;
    o->retry.base_ms = 500;
    o->retry.max_ms = 30000;
    o->retry.total_ms = 60000;
    o->max_response_bytes = 64u << 20;
    snprintf(o->user_agent, sizeof(o->user_agent), "libimgsync/%s", IMGSYNC_VERSION_STRING);
}

/* The transport finished an attempt: queue it for completion, outside the transport's loop. */
static void on_transfer_done(void *owner, imgsync__xfer *x)
{
    (void)owner;
    imgsync__ereq *r = x->owner;
    r->xfer_open = 0;
    imgsync__req_set_state(r, IMGSYNC__RS_FINISHED);
}

int imgsync__engine_new(imgsync__engine **out, const imgsync__engine_opts *o, const imgsync_clock *clock,
                        imgsync__transport *t)
{
    imgsync__engine *e = calloc(1, sizeof(*e));
    if (!t)
        t = imgsync__curl_transport_new();
    if (!e || !t) {
        free(e);
        if (t)
            t->ops->free(t);
        return e ? IMGSYNC_ENETWORK : IMGSYNC_ENOMEM;
    }
    e->t = t;
    e->throttle_due = -1;
    t->done = on_transfer_done;
    t->owner = e;
    imgsync__map_init(&e->hosts);
    imgsync__engine_set_clock(e, clock);
    imgsync__engine_set_opts(e, o);
    e->rng = (uint64_t)imgsync__engine_mono(e) * 6364136223846793005ULL + (uint64_t)(uintptr_t)e;
    *out = e;
    return 0;
}

void imgsync__engine_set_clock(imgsync__engine *e, const imgsync_clock *clock)
{
    e->clock = clock ? *clock : imgsync__system_clock;
}

void imgsync__engine_set_trace(imgsync__engine *e, int on) { e->trace = on; }

void imgsync__engine_set_opts(imgsync__engine *e, const imgsync__engine_opts *o)
{
    e->o = *o;
    e->t->ops->set_limits(e->t, o->max_connections, o->max_host_connections);
}

/* Every request left in a container (a leak of the core's: its groups are gone). */
static void drop_everything(imgsync__engine *e)
{
    while (e->groups) {
        imgsync__group *g = e->groups;
        g->hooks.done = NULL; /* the core that owns the hooks is being torn down */
        g->hooks.sign = NULL;
        g->hooks.event = NULL;
        g->hooks.trace = NULL;
        imgsync__group_free(g);
    }
}

void imgsync__engine_free(imgsync__engine *e)
{
    if (!e)
        return;
    drop_everything(e);
    for (size_t i = 0; i < e->nhosts; i++) {
        free(e->order[i]->origin);
        free(e->order[i]);
    }
    free(e->order);
    imgsync__map_clear(&e->hosts);
    free(e->heap);
    e->t->ops->free(e->t);
    free(e);
}

size_t imgsync__engine_pending(const imgsync__engine *e)
{
    size_t n = 0;
    for (const imgsync__group *g = e->groups; g; g = g->next)
        n += g->nreqs;
    return n;
}

/* ---- completion --------------------------------------------------------------------------- */

/* What happens after r's attempt: IMGSYNC__NEXT_*; r is requeued unless DELIVER. */
static int decide(imgsync__engine *e, imgsync__ereq *r)
{
    if (imgsync__redirect_follow(e, r))
        return IMGSYNC__NEXT_REDIRECT;
    if (imgsync__bearer_answer(e, r))
        return IMGSYNC__NEXT_CHALLENGE;
    return imgsync__retry_schedule(e, r) ? IMGSYNC__NEXT_RETRY : IMGSYNC__NEXT_DELIVER;
}

/* decide(), telling the trace hook first. The attempt is described from copies: a redirect
 * replaces r's URL and a retry or challenge resets its response. */
static int decide_traced(imgsync__engine *e, imgsync__ereq *r)
{
    int64_t now = imgsync__engine_mono(e);
    imgsync__trace t = {r->method, NULL, r->attempts, r->resp.status, r->resp.error, NULL,
                        now - r->sent_ms, r->resp.body.len, 0, 0, r->internal};
    char *url = imgsync__strdup(imgsync__req_current_url(r));
    char *detail = imgsync__strdup(r->resp.detail);
    int next = decide(e, r);
    if (next == IMGSYNC__NEXT_DELIVER &&
        imgsync__retry_should(r->resp.status, r->resp.error ? r->resp.retry_class : 0, r->idempotent))
        next = IMGSYNC__NEXT_GIVE_UP; /* transient, but no retry was left */
    t.url = url ? url : "?";
    t.detail = detail ? detail : "";
    t.next = next;
    if (next == IMGSYNC__NEXT_RETRY)
        t.retry_ms = r->not_before > now ? r->not_before - now : 0;
    imgsync__group *g = r->g;
    if (g && g->hooks.trace)
        g->hooks.trace(g->ud, &t);
    free(url);
    free(detail);
    return next;
}

static void complete(imgsync__engine *e, imgsync__ereq *r)
{
    if (!r->resp.url)
        imgsync__eresp_set_url(&r->resp, imgsync__req_current_url(r));
    if (!r->resp.error)
        imgsync__throttle_answer(e, r);
    int next = e->trace ? decide_traced(e, r) : decide(e, r);
    if (next == IMGSYNC__NEXT_DELIVER || next == IMGSYNC__NEXT_GIVE_UP)
        imgsync__req_deliver(r);
}

static void process_finished(imgsync__engine *e)
{
    while (e->finished)
        complete(e, e->finished);
}

size_t imgsync__engine_perform(imgsync__engine *e, int timeout_ms)
{
    size_t before = e->delivered;
    int64_t deadline = imgsync__engine_mono(e) + (timeout_ms > 0 ? timeout_ms : 0);
    for (;;) {
        int64_t due = imgsync__heap_promote(e);
        int64_t ready = imgsync__queue_start_ready(e);
        if (ready >= 0 && (due < 0 || ready < due))
            due = ready;
        process_finished(e);
        if (e->delivered != before || (!e->nactive && !e->nqueue && !e->nheap))
            return e->delivered - before;
        int64_t wait = deadline - imgsync__engine_mono(e);
        if (due >= 0 && due < wait)
            wait = due;
        /* at least one pass of the transport, so that a zero timeout still does ready I/O */
        e->t->ops->wait(e->t, (int)(wait > 0 ? wait : 0));
        process_finished(e);
        if (e->delivered != before || imgsync__engine_mono(e) >= deadline ||
            __atomic_exchange_n(&e->woken, 0, __ATOMIC_ACQ_REL))
            return e->delivered - before;
    }
}

void imgsync__engine_wakeup(imgsync__engine *e)
{
    __atomic_store_n(&e->woken, 1, __ATOMIC_RELEASE);
    if (e->t->ops->wakeup)
        e->t->ops->wakeup(e->t);
}

/* ---- event-loop mode: the embedder's loop waits, the engine only acts ------------------------ */

int imgsync__engine_watch(imgsync__engine *e, void (*sock)(void *ud, int fd, int what), void *ud)
{
    if (!e->t->ops->watch)
        return IMGSYNC_EUNSUPPORTED;
    if (!sock && e->nactive)
        return IMGSYNC_EBUSY; /* the loop would never hear of the sockets of those transfers again */
    int rc = e->t->ops->watch(e->t, sock, ud);
    if (!rc)
        e->watched = sock != NULL;
    return rc;
}

void imgsync__engine_kick(imgsync__engine *e)
{
    imgsync__heap_promote(e);
    int64_t ready = imgsync__queue_start_ready(e);
    e->throttle_due = ready < 0 ? -1 : imgsync__engine_mono(e) + ready;
    /* what is still queued now waits for a slot or its throttle time, not for another kick
     * (cleared after the promotion, whose requeues set it: else a paused queue spins) */
    e->kick_wanted = 0;
    process_finished(e);
}

int imgsync__engine_action(imgsync__engine *e, int fd, int events)
{
    int rc = 0;
    if (fd != IMGSYNC__IO_NONE && e->watched)
        rc = e->t->ops->action(e->t, fd, events);
    process_finished(e);
    imgsync__engine_kick(e);
    return rc;
}

static long until(int64_t due, int64_t now) { return due <= now ? 0 : (long)(due - now); }

long imgsync__engine_timeout(const imgsync__engine *e)
{
    if (e->finished || e->kick_wanted)
        return 0;
    int64_t now = imgsync__engine_mono(e);
    long best = e->watched ? e->t->ops->timeout(e->t) : -1;
    if (e->nheap && (best < 0 || until(e->heap[0]->not_before, now) < best))
        best = until(e->heap[0]->not_before, now);
    if (e->nqueue && e->throttle_due >= 0 && (best < 0 || until(e->throttle_due, now) < best))
        best = until(e->throttle_due, now);
    return best;
}
