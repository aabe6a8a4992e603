/* Queues: one FIFO per origin served round-robin within the global and per-origin limits, and a
 * heap of requests backing off until their retry time. */
#include <stdlib.h>

#include "engine/internal.h"
#include "imgsync/errors.h"
#include "util/buf.h"
#include "util/url.h"

imgsync__host *imgsync__host_get(imgsync__engine *e, const char *url)
{
    char *origin = imgsync__url_origin(url);
    if (!origin)
        return NULL;
    imgsync__host *h = imgsync__map_get(&e->hosts, origin);
    if (h) {
        free(origin);
        return h;
    }
    imgsync__host **order = realloc(e->order, (e->nhosts + 1) * sizeof(*order));
    if (order)
        e->order = order;
    if (!order || !(h = calloc(1, sizeof(*h))) || imgsync__map_put(&e->hosts, origin, h, NULL)) {
        free(h);
        free(origin);
        return NULL;
    }
    h->origin = origin;
    e->order[e->nhosts++] = h;
    return h;
}

/* ---- the ring of origins with queued requests ------------------------------------------- */

static void ring_add(imgsync__engine *e, imgsync__host *h)
{
    if (!e->ring) {
        h->ring_prev = h->ring_next = h;
        e->ring = h;
        return;
    }
    /* just before the cursor: served last in this round */
    h->ring_next = e->ring;
    h->ring_prev = e->ring->ring_prev;
    h->ring_prev->ring_next = h;
    e->ring->ring_prev = h;
}

static void ring_remove(imgsync__engine *e, imgsync__host *h)
{
    if (h->ring_next == h) {
        e->ring = NULL;
    } else {
        h->ring_prev->ring_next = h->ring_next;
        h->ring_next->ring_prev = h->ring_prev;
        if (e->ring == h)
            e->ring = h->ring_next;
    }
    h->ring_prev = h->ring_next = NULL;
}

/* ---- origin FIFOs ------------------------------------------------------------------------- */

void imgsync__queue_push(imgsync__engine *e, imgsync__ereq *r)
{
    imgsync__host *h = r->host;
    r->prev = r->next = NULL;
    if (!h->head)
        ring_add(e, h);
    if (!h->head) {
        h->head = h->tail = r;
    } else if (r->front) {
        r->next = h->head;
        h->head->prev = r;
        h->head = r;
    } else {
        r->prev = h->tail;
        h->tail->next = r;
        h->tail = r;
    }
    r->front = 0;
    e->nqueue++;
    e->kick_wanted = 1;
}

void imgsync__queue_unlink(imgsync__engine *e, imgsync__ereq *r)
{
    imgsync__host *h = r->host;
    if (r->prev)
        r->prev->next = r->next;
    else
        h->head = r->next;
    if (r->next)
        r->next->prev = r->prev;
    else
        h->tail = r->prev;
    r->prev = r->next = NULL;
    e->nqueue--;
    if (!h->head)
        ring_remove(e, h);
}

/* The first request of h's queue its group's throttling lets start now, or NULL; *soonest is
 * lowered to the ms until a held-back one may. Usually the head: a throttled registry's requests
 * are passed over, so other registries on the same origin go on. */
static imgsync__ereq *startable(imgsync__host *h, int64_t now, int64_t *soonest)
{
    const imgsync__throttle *skipped = NULL;
    for (imgsync__ereq *r = h->head; r; r = r->next) {
        if (r->th && r->th == skipped)
            continue; /* the same registry as the last one held back */
        int64_t wait = imgsync__throttle_wait(r, now);
        if (!wait)
            return r;
        if (*soonest < 0 || wait < *soonest)
            *soonest = wait;
        skipped = r->th;
    }
    return NULL;
}

/* Start ready requests, one origin at a time in turn, over the ring of origins with queued
 * requests (so idle origins cost nothing). A started request may be delivered at once (a
 * failure), whose hook may queue or cancel others: each start looks at the ring afresh.
 * Requests held back by throttling are passed over; returns the ms until the first of them may
 * start, or -1. */
int64_t imgsync__queue_start_ready(imgsync__engine *e)
{
    int64_t now = imgsync__engine_mono(e), soonest = -1;
    while (e->ring && e->nactive < (size_t)e->o.max_connections) {
        imgsync__host *h = e->ring, *first = h;
        imgsync__ereq *r = NULL;
        soonest = -1;
        /* at most max_connections origins are full */
        while (h->inflight >= e->o.max_host_connections || !(r = startable(h, now, &soonest))) {
            h = h->ring_next;
            if (h == first)
                return soonest;
        }
        e->ring = h->ring_next; /* the next start serves the next origin */
        imgsync__throttle_started(r, now);
        imgsync__attempt_start(e, r);
    }
    return -1;
}

/* ---- backoff heap ------------------------------------------------------------------------- */

static void heap_set(imgsync__engine *e, size_t i, imgsync__ereq *r)
{
    e->heap[i] = r;
    r->heap_pos = i;
}

static void heap_up(imgsync__engine *e, size_t i)
{
    imgsync__ereq *r = e->heap[i];
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (e->heap[parent]->not_before <= r->not_before)
            break;
        heap_set(e, i, e->heap[parent]);
        i = parent;
    }
    heap_set(e, i, r);
}

static void heap_down(imgsync__engine *e, size_t i)
{
    imgsync__ereq *r = e->heap[i];
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= e->nheap)
            break;
        if (c + 1 < e->nheap && e->heap[c + 1]->not_before < e->heap[c]->not_before)
            c++;
        if (e->heap[c]->not_before >= r->not_before)
            break;
        heap_set(e, i, e->heap[c]);
        i = c;
    }
    heap_set(e, i, r);
}

int imgsync__heap_reserve(imgsync__engine *e)
{
    if (e->nheap < e->heapcap)
        return 0;
    size_t cap = e->heapcap ? e->heapcap * 2 : 64;
    imgsync__ereq **heap = realloc(e->heap, cap * sizeof(*heap));
    if (!heap)
        return IMGSYNC_ENOMEM;
    e->heap = heap;
    e->heapcap = cap;
    return 0;
}

void imgsync__heap_push(imgsync__engine *e, imgsync__ereq *r)
{
    heap_set(e, e->nheap++, r);
    heap_up(e, e->nheap - 1);
}

void imgsync__heap_remove(imgsync__engine *e, imgsync__ereq *r)
{
    size_t i = r->heap_pos;
    imgsync__ereq *last = e->heap[--e->nheap];
    if (i == e->nheap)
        return;
    heap_set(e, i, last);
    heap_up(e, i);
    heap_down(e, last->heap_pos);
}

int64_t imgsync__heap_promote(imgsync__engine *e)
{
    int64_t now = imgsync__engine_mono(e);
    while (e->nheap && e->heap[0]->not_before <= now)
        imgsync__req_set_state(e->heap[0], IMGSYNC__RS_QUEUED);
    return e->nheap ? e->heap[0]->not_before - now : -1;
}
