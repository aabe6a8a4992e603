/*
 * The transport seam (internal to the engine layer): what moves one attempt's bytes. The engine
 * builds the attempt (imgsync__wire: method, final URL, every header, body, TLS and timeout
 * settings) and hands it to the transport with an empty response; the transport fills the
 * response through the imgsync__eresp_* builders (which enforce the header and body limits the
 * same way for every transport) and reports the end of the transfer through `done`.
 *
 * Production uses libcurl's multi interface (engine/curl_transport.c); tests use a scripted
 * transport (tests/support/fake_transport.c) that answers without a server or sleeping.
 */
#ifndef IMGSYNC_ENGINE_TRANSPORT_H
#define IMGSYNC_ENGINE_TRANSPORT_H

#include <stddef.h>

#include "engine/engine.h"
#include "util/buf.h"

typedef struct imgsync__hdr {
    char *name;
    char *value;
} imgsync__hdr;

/* Last value of a header named `name` (ASCII case-insensitive) among h[0..n), or NULL. */
const char *imgsync__hdr_find(const imgsync__hdr *h, size_t n, const char *name);

/* One attempt as it goes out. */
struct imgsync__wire {
    const char *method;
    const char *url;
    imgsync__hdr *h;
    size_t n, cap;
    const void *body; /* NULL = none */
    size_t body_len;
    int attempt;      /* 1 = first sending */
    const char *ca_file;
    const char *ca_dir, *cert_file, *key_file; /* NULL = none */
    const char *proxy; /* NULL = libcurl's environment rules, "" = no proxy */
    int insecure;
    long timeout_ms, connect_timeout_ms, low_speed_bytes, low_speed_time_ms;
    size_t max_body;
    void *ud; /* the request's user data (the core's job), for a test transport's records */
};

/* The response under construction, then the final one. */
struct imgsync__eresp {
    int status;
    int error;         /* transport error code, 0 when a response arrived */
    int retry_class;   /* IMGSYNC__RETRY_* of a transport error */
    char detail[256];
    char *url;         /* effective URL */
    const char *request_url;
    imgsync__hdr *h;
    size_t n, cap;
    imgsync__buf body;
    size_t max_body;
};

/* One transfer: the attempt and its response, with a slot for the transport's own state. */
typedef struct imgsync__xfer {
    const imgsync__wire *wire;
    imgsync__eresp *resp;
    void *tp;    /* transport's data */
    void *owner; /* engine's */
} imgsync__xfer;

typedef struct imgsync__transport_ops {
    /* Begin the transfer; 0, or an error code (then done is never called for it). */
    int (*start)(imgsync__transport *t, imgsync__xfer *x);
    /* Abandon a started transfer; done is not called for it afterwards. */
    void (*abort)(imgsync__transport *t, imgsync__xfer *x);
    /* Make progress, report finished transfers through t->done, and wait up to timeout_ms for
     * activity when nothing finished. */
    void (*wait)(imgsync__transport *t, int timeout_ms);
    /* Connection limits (global, per origin). */
    void (*set_limits)(imgsync__transport *t, long total, long per_host);
    void (*free)(imgsync__transport *t);
    /* From any thread: make a wait in progress (or the next one) return early; NULL when the
     * transport never blocks. */
    void (*wakeup)(imgsync__transport *t);
    /* Event-loop mode; NULL when the transport has none (the scripted one). watch: from now on
     * tell sock(ud, fd, what) which sockets to wait for (IMGSYNC__IO_* in `what`) and make
     * progress only in `action`; sock NULL: back to `wait`, after a REMOVE for every socket still
     * told. 0 or ENOMEM. */
    int (*watch)(imgsync__transport *t, void (*sock)(void *ud, int fd, int what), void *ud);
    /* Socket fd is ready for `events` (IMGSYNC__IO_IN / OUT), or fd < 0: the transport's timers
     * are due. Reports finished transfers through done. 0, or EINVAL (fd is not a socket told). */
    int (*action)(imgsync__transport *t, int fd, int events);
    /* Milliseconds until action(-1) is due, -1 when no timer runs. */
    long (*timeout)(imgsync__transport *t);
} imgsync__transport_ops;

struct imgsync__transport {
    const imgsync__transport_ops *ops;
    void (*done)(void *owner, imgsync__xfer *x); /* set by the engine */
    void *owner;
};

/* libcurl's multi interface. NULL on failure. */
imgsync__transport *imgsync__curl_transport_new(void);
/* Record libcurl's failure `code` (a CURLcode) in r as an engine error and retry class; errbuf
 * is the transfer's CURLOPT_ERRORBUFFER ("" when libcurl said nothing), in_headers 1 when it
 * happened after the status line and before the end of the response headers. */
void imgsync__curl_map_error(int code, const char *errbuf, int in_headers, imgsync__eresp *r);

/* ---- response builders for transports --------------------------------------------------------- */
/* A new response begins (a redirect or 100 Continue was followed by the transport): forget the
 * headers so far. */
void imgsync__eresp_new_headers(imgsync__eresp *r);
/* One header line as received ("Name: value\r\n"; lines without ':' are ignored). 0, or an error
 * already recorded in r (too many headers, a line over 64 KiB, conflicting Content-Length):
 * the transport must stop the transfer. */
int imgsync__eresp_header_line(imgsync__eresp *r, const char *line, size_t len);
/* Body bytes. 0, or ETOOBIG / ENOMEM recorded in r. */
int imgsync__eresp_append(imgsync__eresp *r, const void *p, size_t n);
void imgsync__eresp_set_status(imgsync__eresp *r, int status);
/* A transport failure: code, IMGSYNC__RETRY_* class, short reason (sanitized, copied). Keeps an
 * error a builder recorded first. */
void imgsync__eresp_fail(imgsync__eresp *r, int code, int retry_class, const char *detail);
/* 0 or ENOMEM. */
int imgsync__eresp_set_url(imgsync__eresp *r, const char *url);

#endif
