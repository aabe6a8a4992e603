/* Engine requests: creation from a spec, the one state transition function, delivery. */
#include <stdlib.h>
#include <string.h>

#include "engine/internal.h"
#include "imgsync/errors.h"
#include "util/buf.h"
#include "util/clock.h"

int64_t imgsync__engine_mono(const imgsync__engine *e) { return imgsync__clock_mono(&e->clock); }
int64_t imgsync__engine_now(const imgsync__engine *e) { return imgsync__clock_now(&e->clock); }

void imgsync__req_free(imgsync__ereq *r)
{
    if (!r)
        return;
    free(r->method);
    free(r->url);
    free(r->target);
    for (size_t i = 0; i < r->nlines; i++)
        imgsync__wipe_free(r->lines[i]); /* provider headers may hold tokens */
    free(r->lines);
    if (r->body) {
        imgsync__wipe(r->body, r->body_len); /* an IAM login body holds a password */
        free(r->body);
    }
    free(r->content_type);
    imgsync__wipe_free(r->bearer);
    free(r->token_key);
    imgsync__wire_reset(&r->wire);
    imgsync__eresp_reset(&r->resp);
    free(r);
}

static int copy_spec(imgsync__ereq *r, const imgsync__ereq_spec *s)
{
    r->method = imgsync__strdup(s->method);
    r->url = imgsync__strdup(s->url);
    r->content_type = s->content_type ? imgsync__strdup(s->content_type) : NULL;
    if (!r->method || !r->url || (s->content_type && !r->content_type))
        return IMGSYNC_ENOMEM;
    if (s->nheaders && !(r->lines = calloc(s->nheaders, sizeof(*r->lines))))
        return IMGSYNC_ENOMEM;
    for (; r->nlines < s->nheaders; r->nlines++)
        if (!(r->lines[r->nlines] = imgsync__strdup(s->headers[r->nlines])))
            return IMGSYNC_ENOMEM;
    if (s->body) {
        if (!(r->body = malloc(s->body_len ? s->body_len : 1)))
            return IMGSYNC_ENOMEM;
        memcpy(r->body, s->body, s->body_len);
        r->body_len = s->body_len;
    }
    return 0;
}

imgsync__ereq *imgsync__req_new(imgsync__group *g, const imgsync__ereq_spec *spec)
{
    imgsync__ereq *r = calloc(1, sizeof(*r));
    if (!r)
        return NULL;
    r->e = g->e;
    r->g = g;
    r->cred = spec->cred;
    r->idempotent = spec->idempotent;
    r->ud = spec->ud; /* state IMGSYNC__RS_NEW (0), in no container */
    if (copy_spec(r, spec) || !(r->host = imgsync__host_get(g->e, r->url))) {
        imgsync__req_free(r);
        return NULL;
    }
    r->th = imgsync__throttle_of(g, r->host);
    r->first_ms = -1;
    /* into the group's list: cancellation finds every request there */
    r->gnext = g->head;
    if (g->head)
        g->head->gprev = r;
    g->head = r;
    g->nreqs++;
    return r;
}

const char *imgsync__req_current_url(const imgsync__ereq *r) { return r->target ? r->target : r->url; }

/* Doubly linked list helpers for the active, finished and waiter lists. */
static void list_push(imgsync__ereq **head, imgsync__ereq *r)
{
    r->prev = NULL;
    r->next = *head;
    if (*head)
        (*head)->prev = r;
    *head = r;
}

static void list_unlink(imgsync__ereq **head, imgsync__ereq *r)
{
    if (r->prev)
        r->prev->next = r->next;
    else if (*head == r)
        *head = r->next;
    if (r->next)
        r->next->prev = r->prev;
    r->prev = r->next = NULL;
}

static void finished_append(imgsync__engine *e, imgsync__ereq *r)
{
    r->next = NULL;
    r->prev = e->finished_tail;
    if (e->finished_tail)
        e->finished_tail->next = r;
    else
        e->finished = r;
    e->finished_tail = r;
}

static void finished_unlink(imgsync__engine *e, imgsync__ereq *r)
{
    if (e->finished_tail == r)
        e->finished_tail = r->prev;
    list_unlink(&e->finished, r);
}

static void leave(imgsync__ereq *r)
{
    imgsync__engine *e = r->e;
    switch (r->state) {
    case IMGSYNC__RS_QUEUED:
        imgsync__queue_unlink(e, r);
        break;
    case IMGSYNC__RS_BACKOFF:
        imgsync__heap_remove(e, r);
        break;
    case IMGSYNC__RS_TOKEN_WAIT:
        list_unlink(&r->token_req->waiters, r);
        r->token_req = NULL;
        break;
    case IMGSYNC__RS_SENDING:
        if (r->xfer_open)
            e->t->ops->abort(e->t, &r->xfer);
        r->xfer_open = 0;
        list_unlink(&e->active, r);
        e->nactive--;
        r->host->inflight--;
        break;
    case IMGSYNC__RS_FINISHED:
        finished_unlink(e, r);
        break;
    default:
        break;
    }
}

static void group_unlink(imgsync__ereq *r)
{
    imgsync__group *g = r->g;
    if (!g)
        return;
    if (r->gprev)
        r->gprev->gnext = r->gnext;
    else if (g->head == r)
        g->head = r->gnext;
    if (r->gnext)
        r->gnext->gprev = r->gprev;
    r->gprev = r->gnext = NULL;
    g->nreqs--;
    r->g = NULL;
}

static void enter(imgsync__ereq *r, int state)
{
    imgsync__engine *e = r->e;
    switch (state) {
    case IMGSYNC__RS_QUEUED:
        imgsync__queue_push(e, r);
        break;
    case IMGSYNC__RS_BACKOFF:
        imgsync__heap_push(e, r);
        break;
    case IMGSYNC__RS_TOKEN_WAIT:
        list_push(&r->token_req->waiters, r);
        break;
    case IMGSYNC__RS_SENDING:
        list_push(&e->active, r);
        e->nactive++;
        r->host->inflight++;
        break;
    case IMGSYNC__RS_FINISHED:
        finished_append(e, r);
        break;
    case IMGSYNC__RS_DONE:
        group_unlink(r); /* delivered or dropped: no longer the group's */
        break;
    default:
        break;
    }
}

void imgsync__req_set_state(imgsync__ereq *r, int state)
{
    if (state == IMGSYNC__RS_BACKOFF && imgsync__heap_reserve(r->e))
        state = IMGSYNC__RS_QUEUED; /* cannot wait without memory: retry at once */
    leave(r);
    r->state = state;
    enter(r, state);
}

void imgsync__req_deliver(imgsync__ereq *r)
{
    imgsync__group *g = r->g;
    imgsync__req_set_state(r, IMGSYNC__RS_DONE);
    r->e->delivered++;
    if (r->internal)
        imgsync__bearer_token_done(r->e, g, r); /* frees r */
    else {
        if (!r->resp.url)
            imgsync__eresp_set_url(&r->resp, imgsync__req_current_url(r));
        /* the hook may free g (and with it anything else of the run): nothing of g after it */
        if (g && g->hooks.done)
            g->hooks.done(r->ud, &r->resp);
        imgsync__req_free(r);
    }
}

void imgsync__req_drop(imgsync__ereq *r)
{
    imgsync__req_set_state(r, IMGSYNC__RS_DONE);
    imgsync__req_free(r);
}

void imgsync__req_fail(imgsync__ereq *r, int code, const char *detail)
{
    imgsync__eresp_fail(&r->resp, code, 0, detail);
    imgsync__req_deliver(r);
}
