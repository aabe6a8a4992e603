/* Structures shared by the engine's files (internal to src/engine). */
#ifndef IMGSYNC_ENGINE_INTERNAL_H
#define IMGSYNC_ENGINE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "engine/engine.h"
#include "engine/transport.h"
#include "util/map.h"

#define IMGSYNC__MAX_REDIRECTS 5

/*
 * Request states. Each state but SIGNING and DONE has one container the request is linked in;
 * imgsync__req_set_state() is the only place that moves a request between them.
 *   QUEUED      ready, in its origin's FIFO, waiting for a connection slot
 *   BACKOFF     waiting for a retry time, in the engine's heap
 *   TOKEN_WAIT  waiting for the Bearer token request it asked for (its waiter list)
 *   SIGNING     its attempt is being built and signed (the hook may cancel the group)
 *   SENDING     an attempt is in the transport, in the engine's active list
 *   FINISHED    the transport is done with it, in the engine's finished list
 *   DONE        delivered (or dropped): in no container, out of its group
 */
enum {
    IMGSYNC__RS_NEW = 0,
    IMGSYNC__RS_QUEUED,
    IMGSYNC__RS_BACKOFF,
    IMGSYNC__RS_TOKEN_WAIT,
    IMGSYNC__RS_SIGNING,
    IMGSYNC__RS_SENDING,
    IMGSYNC__RS_FINISHED,
    IMGSYNC__RS_DONE
};

typedef struct imgsync__host imgsync__host;
typedef struct imgsync__throttle imgsync__throttle;
typedef struct imgsync__ereq imgsync__ereq;

struct imgsync__ereq {
    int state;
    imgsync__engine *e;
    imgsync__group *g;
    /* what was asked */
    char *method, *url;
    char **lines; /* provider header lines */
    size_t nlines;
    void *body;
    size_t body_len;
    char *content_type;
    int cred, idempotent;
    int internal; /* a token request of the engine's own */
    void *ud;
    /* progress */
    char *target;    /* current URL (redirects), NULL = url */
    int attempts;    /* attempts sent */
    int retries, redirects, auth_tried;
    int throttled;   /* 429 answers retried (not counted in retries) */
    int64_t sent_ms; /* mono ms the current attempt started */
    imgsync__throttle *th; /* its group's throttling towards r->host (NULL: out of memory, none) */
    int anonymous;   /* redirected to another origin: no credentials, no provider headers */
    int front;       /* requeue at the head of its origin's queue */
    int cancel_code; /* set while SIGNING: deliver with this code once the hook returns */
    int xfer_open;   /* the transport holds the attempt */
    int64_t first_ms, not_before;
    char *bearer;
    imgsync__host *host;
    /* containers */
    imgsync__ereq *prev, *next;   /* origin queue, active list, finished list or waiter list */
    imgsync__ereq *gprev, *gnext; /* the group's list */
    size_t heap_pos;
    imgsync__ereq *token_req;     /* TOKEN_WAIT: the token request waited for */
    imgsync__ereq *waiters;       /* a token request: the requests waiting for it */
    char *token_key;              /* a token request: its cache key */
    /* the current attempt */
    imgsync__wire wire;
    imgsync__xfer xfer;
    imgsync__eresp resp;
};

/* One origin (scheme://host:port): its transfers in flight and its FIFO of ready requests. An
 * origin with queued requests is in the engine's ring of ready origins, served round-robin. */
struct imgsync__host {
    char *origin;
    long inflight;
    imgsync__ereq *head, *tail;
    imgsync__host *ring_prev, *ring_next; /* in the ready ring while head != NULL */
};

/* What a 429 taught about one group (a registry, an account) towards one origin (throttle.c):
 * accounts that share an origin (SWR's API host of a region) are throttled apart. */
struct imgsync__throttle {
    int64_t paused_until;  /* mono ms: no attempt starts before */
    double rate;           /* attempts per second allowed (0 = not paced) */
    double next_start_ms;  /* paced: mono ms of the earliest next start */
    int64_t window_ms;     /* mono ms the current run of answers began (after a pause) */
    long window_ok;        /* answers other than 429 since window_ms */
    int64_t slowed_ms;     /* mono ms of the last rate decrease */
};

typedef struct imgsync__token {
    char *value;
    int64_t expires_mono;
} imgsync__token;

struct imgsync__group {
    imgsync__engine *e;
    char *username, *password, *token, *refresh_token, *ca_file;
    char *ca_dir, *cert_file, *key_file, *proxy; /* imgsync__group_set_net */
    int insecure, allow_http;
    size_t max_response_bytes; /* 0 = the engine's option */
    char **origins;
    size_t norigins;
    imgsync__hooks hooks;
    void *ud;
    imgsync__ereq *head; /* every request of the group not yet delivered */
    size_t nreqs;
    int busy;   /* cancels and signers running hooks for the group: it stays allocated */
    int doomed; /* group_free was called: no submissions; freed when busy drops to 0 */
    imgsync__map tokens;     /* realm|service|scope -> imgsync__token */
    imgsync__map token_reqs; /* same key -> token request in progress */
    imgsync__map realms;     /* origin -> "realm|service" of its last Bearer challenge */
    imgsync__map throttles;  /* origin -> imgsync__throttle (throttle.c) */
    imgsync__group *prev, *next;
};

struct imgsync__engine {
    imgsync__engine_opts o;
    imgsync_clock clock;
    imgsync__transport *t;
    int woken; /* set by imgsync__engine_wakeup from any thread (atomic) */
    int trace; /* call the trace hooks */
    imgsync__map hosts; /* origin -> imgsync__host */
    imgsync__host **order; /* every origin, in creation order */
    size_t nhosts;
    imgsync__host *ring;   /* next origin with queued requests to serve */
    size_t nqueue, nactive;
    imgsync__ereq *active;
    imgsync__ereq *finished, *finished_tail;
    imgsync__ereq **heap; /* BACKOFF, by not_before */
    size_t nheap, heapcap;
    imgsync__group *groups;
    size_t delivered;
    uint64_t rng;
    int watched;          /* event-loop mode (imgsync__engine_watch) */
    int kick_wanted;      /* requests queued since the last imgsync__engine_kick */
    int64_t throttle_due; /* mono ms a throttled origin may start again, -1 none (event loop) */
};

/* group.c: keep g allocated across hooks that may free it (group_free then only dooms it). */
void imgsync__group_hold(imgsync__group *g);
/* Let go; frees g when it was doomed meanwhile and nothing else holds it. */
void imgsync__group_release(imgsync__group *g);

/* request.c */
imgsync__ereq *imgsync__req_new(imgsync__group *g, const imgsync__ereq_spec *spec);
void imgsync__req_free(imgsync__ereq *r);
/* The transition function, the only place a request's state changes: unlink r from its state's
 * container, link it into the new one. BACKOFF without memory for the heap becomes QUEUED (retry
 * at once rather than lose the request). */
void imgsync__req_set_state(imgsync__ereq *r, int state);
/* Deliver: DONE, out of the group, done hook (not for token requests), freed. */
void imgsync__req_deliver(imgsync__ereq *r);
/* Forget r without any hook (out of every container and of its group). */
void imgsync__req_drop(imgsync__ereq *r);
/* Deliver with a transport failure. */
void imgsync__req_fail(imgsync__ereq *r, int code, const char *detail);
const char *imgsync__req_current_url(const imgsync__ereq *r);
int64_t imgsync__engine_mono(const imgsync__engine *e);
int64_t imgsync__engine_now(const imgsync__engine *e);

/* throttle.c: a group whose requests an origin answers 429 is paused there for its Retry-After,
 * then paced at half the rate that was refused, the rate growing again with each answer that is
 * not a 429. */
/* The group's state towards h, made on first use; NULL when out of memory (then no throttling). */
imgsync__throttle *imgsync__throttle_of(imgsync__group *g, const imgsync__host *h);
/* Free the group's states (the group ends). */
void imgsync__throttle_forget(imgsync__group *g);
/* 0 when r's attempt may start now, else the ms until it may. */
int64_t imgsync__throttle_wait(const imgsync__ereq *r, int64_t now);
/* Attempt r starts on its origin. */
void imgsync__throttle_started(imgsync__ereq *r, int64_t now);
/* An attempt of r got an HTTP answer (not a transport failure). */
void imgsync__throttle_answer(imgsync__engine *e, imgsync__ereq *r);

/* queue.c */
imgsync__host *imgsync__host_get(imgsync__engine *e, const char *url);
void imgsync__queue_push(imgsync__engine *e, imgsync__ereq *r);
void imgsync__queue_unlink(imgsync__engine *e, imgsync__ereq *r);
/* Room for one more request in the backoff heap: 0 or ENOMEM. */
int imgsync__heap_reserve(imgsync__engine *e);
/* Into the heap (room reserved). */
void imgsync__heap_push(imgsync__engine *e, imgsync__ereq *r);
void imgsync__heap_remove(imgsync__engine *e, imgsync__ereq *r);
/* Move due BACKOFF requests to their queues; ms until the next one is due, or -1. */
int64_t imgsync__heap_promote(imgsync__engine *e);
/* Start queued requests round-robin over origins within the limits; ms until an origin held
 * back by throttling may start again, or -1. */
int64_t imgsync__queue_start_ready(imgsync__engine *e);

/* transfer.c */
/* Build, sign and hand the attempt to the transport. 0 (SENDING), or the request was already
 * delivered (failure or cancellation): returns 1. */
int imgsync__attempt_start(imgsync__engine *e, imgsync__ereq *r);

/* retry.c: 1 when r was put in backoff for another attempt (its outcome may be retried, within
 * the retry count and the total time cap). */
int imgsync__retry_schedule(imgsync__engine *e, imgsync__ereq *r);

/* redirect.c: 1 when r was requeued for its Location. */
int imgsync__redirect_follow(imgsync__engine *e, imgsync__ereq *r);

/* bearer.c */
void imgsync__bearer_attach_cached(imgsync__ereq *r);
/* 1 when r was taken over to answer its Bearer challenge. */
int imgsync__bearer_answer(imgsync__engine *e, imgsync__ereq *r);
/* A token request finished: cache its token and release its waiters. Frees tr. */
void imgsync__bearer_token_done(imgsync__engine *e, imgsync__group *g, imgsync__ereq *tr);
void imgsync__bearer_forget(imgsync__group *g);

/* wire.c / response.c */
void imgsync__wire_reset(imgsync__wire *w);
void imgsync__eresp_reset(imgsync__eresp *r);

#endif
