/*
 * The HTTP engine (internal): requests in, responses out through hooks. It knows no provider,
 * run, task or store: the core hands it requests (method, URL, headers, body, the kind of
 * credentials, a group) and a policy per group (credentials, allowed origins, TLS, plain-http
 * permission, response body cap), and it answers through the group's hooks: `sign` before every attempt that
 * carries credentials, `done` exactly once per request, `event` for the counters.
 *
 * Requests have named states (engine/request.c) moved by one transition function. Queues are
 * per origin and served round-robin within a global and a per-origin limit. Redirects,
 * Bearer challenges (tokens cached per group, realm, service and scope) and retries with
 * backoff are the engine's. I/O goes through a transport (engine/transport.h): libcurl's
 * multi interface in production, a scripted one in tests.
 */
#ifndef IMGSYNC_ENGINE_ENGINE_H
#define IMGSYNC_ENGINE_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "engine/retry.h"
#include "imgsync/sys/clock.h"

typedef struct imgsync__engine imgsync__engine;
typedef struct imgsync__group imgsync__group;
typedef struct imgsync__wire imgsync__wire;   /* one attempt as it goes out */
typedef struct imgsync__eresp imgsync__eresp; /* the final response of a request */
typedef struct imgsync__transport imgsync__transport; /* engine/transport.h */

typedef struct imgsync__engine_opts {
    long max_connections;
    long max_host_connections;
    long request_timeout_ms;
    long connect_timeout_ms;
    long low_speed_bytes;   /* 0 = no low-speed check */
    long low_speed_time_ms;
    imgsync__retry_policy retry;
    size_t max_response_bytes;
    char user_agent[96];
} imgsync__engine_opts;

void imgsync__engine_default_opts(imgsync__engine_opts *o);
/* A new engine on transport t (taken over; NULL = libcurl) reading time from clock (copied;
 * NULL = system). 0, ENOMEM, ENETWORK (the transport could not start). */
int imgsync__engine_new(imgsync__engine **out, const imgsync__engine_opts *o, const imgsync_clock *clock,
                        imgsync__transport *t);
/* Free the engine. Groups must have been freed before; requests still left are freed without
 * any hook being called. Not from a hook. */
void imgsync__engine_free(imgsync__engine *e);
void imgsync__engine_set_opts(imgsync__engine *e, const imgsync__engine_opts *o);
void imgsync__engine_set_clock(imgsync__engine *e, const imgsync_clock *clock);
/* Call the groups' trace hooks (1) or not (0, the default: then an ended attempt costs one
 * branch more). */
void imgsync__engine_set_trace(imgsync__engine *e, int on);
/* Run transfers for up to timeout_ms: returns as soon as at least one request was delivered
 * (its done hook called), or when the time is up or nothing is left. Returns the number of
 * requests delivered. */
size_t imgsync__engine_perform(imgsync__engine *e, int timeout_ms);
/* From any thread: a perform waiting for the network returns soon (also the next one, when
 * none waits now). */
void imgsync__engine_wakeup(imgsync__engine *e);
/* ---- event-loop mode ------------------------------------------------------------------------ */
/* What a socket is waited for: the values of libcurl's CURL_POLL_* and of IMGSYNC_POLL_*. */
enum { IMGSYNC__IO_IN = 1, IMGSYNC__IO_OUT = 2, IMGSYNC__IO_REMOVE = 4 };
/* No socket: imgsync__engine_action only starts what is due. */
#define IMGSYNC__IO_NONE (-2)
/* Drive the transport from the caller's event loop: sock(ud, fd, what) is told which sockets to
 * wait for, the caller reports readiness through imgsync__engine_action. sock NULL: back to
 * imgsync__engine_perform (EBUSY while a transfer runs). 0, EUNSUPPORTED (the transport has no
 * event-loop mode), ENOMEM. */
int imgsync__engine_watch(imgsync__engine *e, void (*sock)(void *ud, int fd, int what), void *ud);
/* One event: socket fd ready for events (IMGSYNC__IO_IN / OUT), fd -1: timers due, or
 * IMGSYNC__IO_NONE; then start what is due, deliver what finished. 0, or EINVAL (fd unknown). */
int imgsync__engine_action(imgsync__engine *e, int fd, int events);
/* Start queued requests that may start and due retries, without waiting. */
void imgsync__engine_kick(imgsync__engine *e);
/* Milliseconds until imgsync__engine_action(e, -1, 0) has work, -1 when only sockets can bring
 * any. */
long imgsync__engine_timeout(const imgsync__engine *e);
/* Requests queued, waiting, in flight (all groups). */
size_t imgsync__engine_pending(const imgsync__engine *e);

/* ---- groups ---------------------------------------------------------------------------------- */

/* The kinds of credentials a request carries. */
enum {
    IMGSYNC__CRED_NONE = 0,     /* none: may go to any origin the http policy allows */
    IMGSYNC__CRED_BASIC = 1,    /* Basic from the group's username/password */
    IMGSYNC__CRED_REGISTRY = 2, /* Basic when a username is set, Bearer challenges answered */
    IMGSYNC__CRED_PROVIDER = 3, /* the caller's own (headers, sign hook): nothing added */
    IMGSYNC__CRED_BEARER = 4    /* Bearer with the group's access token, Bearer challenges answered
                                 * with a token requested with it (from allowed origins only) */
};

typedef struct imgsync__policy {
    const char *username; /* NULL: no Basic credentials */
    const char *password;
    const char *ca_file;  /* NULL: the system bundle */
    int insecure;         /* no TLS verification */
    int allow_http;       /* plain http to hosts that are not loopback */
    size_t max_response_bytes; /* body cap of the group's responses; 0 = the engine's option */
    const char *token;    /* access token of IMGSYNC__CRED_BEARER; NULL: none */
    const char *refresh_token; /* an OAuth2 refresh token (Docker's identity token): the Bearer
                                * challenges of IMGSYNC__CRED_REGISTRY requests are answered with
                                * a token POSTed for with it (grant_type=refresh_token); NULL: none */
} imgsync__policy;

enum { IMGSYNC__EV_SENT = 1, IMGSYNC__EV_RETRY = 2 };

/* What the engine does after an attempt (imgsync__trace.next). */
enum {
    IMGSYNC__NEXT_DELIVER = 0,  /* the request ends with this answer */
    IMGSYNC__NEXT_GIVE_UP = 1,  /* it ends although the answer was transient: no retry left */
    IMGSYNC__NEXT_RETRY = 2,    /* another attempt after retry_ms */
    IMGSYNC__NEXT_REDIRECT = 3, /* it follows the Location */
    IMGSYNC__NEXT_CHALLENGE = 4 /* it answers a Bearer challenge first */
};

/* One attempt that ended, for logs. Strings borrowed for the trace hook's call; url may hold
 * query values that are secrets (the reader redacts), headers are never given. */
typedef struct imgsync__trace {
    const char *method, *url;
    int attempt;        /* 1 = first sending of this request */
    int status;         /* HTTP status, 0 when none arrived */
    int error;          /* transport error (IMGSYNC_E*), 0 when an answer arrived */
    const char *detail; /* sanitized reason of a transport error, or "" */
    int64_t elapsed_ms;
    size_t bytes;       /* body bytes received */
    int next;           /* IMGSYNC__NEXT_* */
    int64_t retry_ms;   /* NEXT_RETRY: the delay before the next attempt */
    int token;          /* a token request of the engine's own */
} imgsync__trace;

typedef struct imgsync__hooks {
    /* Before an attempt of a credentialed request that stays on its origin: may add headers to w.
     * A non-zero return fails the request with that code. May be NULL. */
    int (*sign)(void *req_ud, imgsync__wire *w);
    /* Exactly once per submitted request: its final response or failure. resp is borrowed for the
     * call. The hook may submit requests, cancel or free groups (also this request's). */
    void (*done)(void *req_ud, const imgsync__eresp *resp);
    /* Counters: IMGSYNC__EV_SENT per attempt (token requests included), IMGSYNC__EV_RETRY per
     * retry scheduled. It may only count: unlike done and sign it is called in the middle of a
     * transition and must not submit, cancel or free groups. May be NULL. */
    void (*event)(void *group_ud, int event);
    /* Each attempt that ended (token requests included), when the engine's tracing is on
     * (imgsync__engine_set_trace): before the request goes on or is delivered. It may only
     * read and log, like event. May be NULL. */
    void (*trace)(void *group_ud, const imgsync__trace *t);
} imgsync__hooks;

/* A group of requests sharing a policy, hooks and a token cache (one run). Strings copied.
 * 0, ENOMEM. */
int imgsync__group_new(imgsync__group **out, imgsync__engine *e, const imgsync__policy *p,
                       const imgsync__hooks *h, void *group_ud);
/* Cancel every request of the group (done with ECANCELED), forget its tokens, wipe its
 * secrets and free it. Accepts NULL. From a hook (also while the group is being canceled or
 * freed): the group refuses submissions at once and is freed when the cancel or signer running
 * that hook is done with it; freeing it again meanwhile does nothing. A request being signed is
 * delivered (ECANCELED) once its sign hook returns. */
void imgsync__group_free(imgsync__group *g);
/* Deliver every request of the group now with error `code` (done hooks called); the group stays
 * usable: what a done hook submits meanwhile is kept and served. A request being signed is
 * delivered with `code` once its sign hook returns. */
void imgsync__group_cancel(imgsync__group *g, int code);
/* Add the origin of url to those credentialed requests may go to. EINVAL, EINSECURE, ENOMEM. */
int imgsync__group_allow_origin(imgsync__group *g, const char *url);

/* How a group's connections are made beyond the policy's TLS basics (strings copied; NULL = the
 * default). proxy "" = no proxy, whatever the environment says; NULL = libcurl's environment
 * rules (http_proxy, https_proxy, ALL_PROXY, no_proxy). 0 or IMGSYNC_ENOMEM. */
typedef struct imgsync__net {
    const char *ca_dir;    /* directory of hashed CA certificates (CURLOPT_CAPATH) */
    const char *cert_file; /* PEM client certificate (mTLS) */
    const char *key_file;  /* PEM private key of cert_file; NULL = in cert_file */
    const char *proxy;     /* proxy URL, or "" for none */
} imgsync__net;
int imgsync__group_set_net(imgsync__group *g, const imgsync__net *n);
/* May a request (credentialed or not) go to url? 0; EINVAL (not an absolute http(s) URL, or a
 * credentialed request to an origin not allowed); EINSECURE (plain http not allowed). */
int imgsync__group_check_url(const imgsync__group *g, const char *url, int credentialed);
/* Requests of the group not yet delivered. */
size_t imgsync__group_pending(const imgsync__group *g);
/* Replace, in place, every token the group holds that occurs in text with "***". */
void imgsync__group_redact(const imgsync__group *g, char *text);

typedef struct imgsync__ereq_spec {
    const char *method;             /* GET, HEAD, POST, PUT, DELETE */
    const char *url;                /* absolute */
    const char *const *headers;     /* "Name: value" lines */
    size_t nheaders;
    const void *body;               /* copied; NULL = none */
    size_t body_len;
    const char *content_type;       /* with a body */
    int cred;                       /* IMGSYNC__CRED_* */
    int idempotent;                 /* retried on transient failures */
    void *ud;                       /* given to the hooks */
} imgsync__ereq_spec;

/* Queue a request (everything copied). 0, or EINVAL / EINSECURE (see check_url), ENOMEM,
 * ECANCELED (the group is being freed): then no hook is called. */
int imgsync__group_submit(imgsync__group *g, const imgsync__ereq_spec *spec);

/* ---- attempts (inside the sign hook) ------------------------------------------------------- */
const char *imgsync__wire_method(const imgsync__wire *w);
const char *imgsync__wire_url(const imgsync__wire *w);
int imgsync__wire_attempt(const imgsync__wire *w);
size_t imgsync__wire_header_count(const imgsync__wire *w);
const char *imgsync__wire_header_name(const imgsync__wire *w, size_t i);
const char *imgsync__wire_header_value(const imgsync__wire *w, size_t i);
/* Last value of a header (case-insensitive), or NULL. */
const char *imgsync__wire_header(const imgsync__wire *w, const char *name);
const void *imgsync__wire_body(const imgsync__wire *w, size_t *len);
/* Add a header (copied). EINVAL (CR, LF or NUL, empty or malformed name, Host or
 * Content-Length), ENOMEM. */
int imgsync__wire_add_header(imgsync__wire *w, const char *name, const char *value);

/* ---- responses ------------------------------------------------------------------------------- */
int imgsync__eresp_status(const imgsync__eresp *r);
/* Transport error (ENETWORK, ETIMEOUT, ETOOBIG, EPROTOCOL, EINSECURE, ECANCELED, ...), 0 when a
 * response arrived. */
int imgsync__eresp_error(const imgsync__eresp *r);
/* Short reason of a transport error ("" when none); sanitized, never a secret. */
const char *imgsync__eresp_detail(const imgsync__eresp *r);
size_t imgsync__eresp_header_count(const imgsync__eresp *r);
const char *imgsync__eresp_header_name(const imgsync__eresp *r, size_t i);
const char *imgsync__eresp_header_value(const imgsync__eresp *r, size_t i);
/* Last value of a header (case-insensitive), or NULL. */
const char *imgsync__eresp_header(const imgsync__eresp *r, const char *name);
/* Body, NUL-terminated ("" for none). */
const char *imgsync__eresp_body(const imgsync__eresp *r, size_t *len);
/* Where the response came from (after redirects); the request URL when none arrived. */
const char *imgsync__eresp_url(const imgsync__eresp *r);
/* The URL the request was submitted with. */
const char *imgsync__eresp_request_url(const imgsync__eresp *r);

#endif
