/*
 * A scripted transport for engine and provider tests: no server, no sleeping.
 *
 * Replies are scripted per (method, absolute URL): fake_add() appends a reply to the key's
 * sequence (each attempt takes the next one; the last one repeats), fake_set() replaces the
 * sequence by one reply. A request without a script is answered by the fallback (default: a
 * registry-style 404) and counted as unexpected. Every attempt is recorded as it went on the
 * wire: method, URL, every header, body.
 *
 * Time: a reply may take `delay_ms` of fake time. When nothing is due, the transport's wait moves
 * the fake clock forward - to the next reply, or by the whole timeout when nothing is in flight -
 * so backoff and Retry-After are "waited" instantly and tests assert on the fake clock.
 *
 * The response goes through the engine's response builders, so header and body limits apply as
 * with libcurl.
 */
#ifndef IMGSYNC_TESTS_FAKE_TRANSPORT_H
#define IMGSYNC_TESTS_FAKE_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>

#include "engine/transport.h"
#include "support/fake_clock.h"

typedef struct fake_reply {
    int status;
    const char *headers;  /* "Name: value" lines separated by '\n' (NULL = none) */
    const char *body;     /* NULL = none */
    size_t body_len;      /* 0 with a body: strlen(body) */
    int error;            /* a transport failure instead (IMGSYNC_ENETWORK ...) */
    int retry_class;      /* IMGSYNC__RETRY_* of that failure */
    const char *detail;
    int64_t delay_ms;     /* fake time the transfer takes */
    const char *effective_url; /* as if redirected by the transport (NULL = the request URL) */
} fake_reply;

typedef struct fake_header {
    char *name;
    char *value;
} fake_header;

typedef struct fake_request {
    char *method;
    char *url;
    fake_header *headers;
    size_t nheaders;
    char *body;
    size_t body_len;
    int attempt;
    int unexpected;
    char *note; /* set by the observer (malloc'd), freed with the log */
} fake_request;

typedef struct fake_transport fake_transport;

/* New transport reading and moving clock (may be NULL: then nothing waits). The engine takes
 * the imgsync__transport (fake_base) and frees it; the fake_transport handle stays valid until
 * then. */
fake_transport *fake_new(fake_clock *clock);
imgsync__transport *fake_base(fake_transport *ft);

int fake_add(fake_transport *ft, const char *method, const char *url, const fake_reply *r);
int fake_set(fake_transport *ft, const char *method, const char *url, const fake_reply *r);
/* Shorthands for a plain reply. */
int fake_add_simple(fake_transport *ft, const char *method, const char *url, int status, const char *headers,
                    const char *body);
int fake_set_simple(fake_transport *ft, const char *method, const char *url, int status, const char *headers,
                    const char *body);
/* Every reply scripted for (method, url) looks redirected to `effective`. 0, IMGSYNC_ENOTFOUND,
 * IMGSYNC_ENOMEM. */
int fake_set_effective(fake_transport *ft, const char *method, const char *url, const char *effective);
/* Forget every script (the log stays). */
void fake_clear_scripts(fake_transport *ft);
/* Answer unscripted requests with fn (which fills *out; strings must outlive the call). */
void fake_set_fallback(fake_transport *ft, void (*fn)(void *ud, const fake_request *q, fake_reply *out), void *ud);

/* Called as each attempt is recorded, while its request is alive (w->ud is the core's job, NULL
 * for the engine's own token requests); may set q->note. */
void fake_set_observer(fake_transport *ft, void (*fn)(void *ctx, fake_request *q, const imgsync__wire *w), void *ctx);

size_t fake_nrequests(const fake_transport *ft);
const fake_request *fake_request_at(const fake_transport *ft, size_t i);
size_t fake_unexpected(const fake_transport *ft);
void fake_clear_log(fake_transport *ft);
/* Requests in flight now (for concurrency tests). */
size_t fake_inflight(const fake_transport *ft);
size_t fake_max_inflight(const fake_transport *ft);
/* Last value of a recorded header (case-insensitive), or NULL. */
const char *fake_request_header(const fake_request *q, const char *name);
/* Number of recorded requests with this method (NULL: any) and URL. */
size_t fake_count(const fake_transport *ft, const char *method, const char *url);

#endif
