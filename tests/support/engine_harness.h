/*
 * A harness for the engine's unit tests: an engine on the fake transport and the fake clock, one
 * group whose hooks record what the engine reports (done per request, sign calls, events).
 *
 *   eh h;
 *   eh_init(&h, NULL);                      // default engine options
 *   eh_group(&h, &policy);                  // h.g with the recording hooks
 *   imgsync__group_allow_origin(h.g, "https://reg.example");
 *   fake_set_simple(h.ft, "GET", "https://reg.example/v2/", 200, NULL, "{}");
 *   eh_req r = EH_REQ_INIT;
 *   ck_assert_int_eq(eh_get(&h, &r, "https://reg.example/v2/", IMGSYNC__CRED_NONE), 0);
 *   eh_run(&h);                             // perform until nothing is pending
 *   ck_assert_int_eq(r.done_calls, 1);
 *   eh_free(&h);
 *
 * Nothing sleeps: the fake transport moves the fake clock while the engine waits.
 */
#ifndef IMGSYNC_TESTS_ENGINE_HARNESS_H
#define IMGSYNC_TESTS_ENGINE_HARNESS_H

#include <stddef.h>
#include <stdint.h>

#include "engine/engine.h"
#include "support/fake_clock.h"
#include "support/fake_transport.h"

typedef struct eh eh;

/* One submitted request: what its done hook saw, and how its sign hook behaves. */
typedef struct eh_req {
    eh *h;
    /* done */
    int done_calls;
    int status, error;
    char detail[256];
    char url[512];
    char *body; /* malloc'd copy of the response body */
    size_t body_len;
    char *headers;  /* the response headers, "name: value\n" each (malloc'd) */
    int64_t done_mono; /* fake monotonic time of the (last) done call */
    /* sign */
    int sign_calls;
    int sign_rc;              /* returned by the sign hook (0 = go on) */
    const char *sign_header;  /* when set, the sign hook adds "<sign_header>: sig-<attempt>" */
    /* a test's own reaction to done (cancel, free, submit ...) */
    void (*on_done)(struct eh_req *r);
    void (*on_sign)(struct eh_req *r);
    void *extra;
} eh_req;

#define EH_REQ_INIT {0}

/* One call of the sign hook, as the hook saw the attempt. */
typedef struct eh_sign {
    eh_req *req;
    char *method, *url;
    int attempt;
    char *headers; /* "Name: value\n" each, in wire order */
    char *body;
    size_t body_len;
} eh_sign;

struct eh {
    fake_clock fc;
    fake_transport *ft;
    imgsync__engine *e;
    imgsync__group *g;
    imgsync__engine_opts o;
    int ev_sent, ev_retry;
    eh_sign *signs;
    size_t nsigns;
    int64_t start_mono; /* the fake clock when eh_init returned */
};

/* Engine with options o (NULL: defaults) on a fresh fake transport and fake clock. */
void eh_init(eh *h, const imgsync__engine_opts *o);
/* h->g = a group with the recording hooks. Returns group_new's code. */
int eh_group(eh *h, const imgsync__policy *p);
/* Free the group (if any), the engine and every record. */
void eh_free(eh *h);
/* Submit spec (ud is set to r). Returns group_submit's code. */
int eh_submit(eh *h, eh_req *r, imgsync__ereq_spec *spec);
/* GET url with credentials cred (idempotent). */
int eh_get(eh *h, eh_req *r, const char *url, int cred);
/* Perform until the engine has nothing pending (bounded: fails the test on a runaway loop). */
void eh_run(eh *h);
/* Free what a request record holds (not the record itself). */
void eh_req_clear(eh_req *r);
/* Milliseconds of fake time since eh_init. */
int64_t eh_elapsed(const eh *h);
/* 1 when a "Name: value\n" dump contains a line starting "name:" (case-insensitive). */
int eh_dump_has(const char *dump, const char *name);
/* The value of header `name` in a dump (static buffer), or NULL. */
const char *eh_dump_value(const char *dump, const char *name);

#endif
