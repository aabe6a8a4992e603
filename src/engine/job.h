/* HTTP jobs and responses shared by the engine and the core (internal). */
#ifndef IMGSYNC_ENGINE_JOB_H
#define IMGSYNC_ENGINE_JOB_H

#include <curl/curl.h>
#include <stdint.h>

#include "imgsync/sys/provider.h"
#include "util/buf.h"

typedef struct imgsync__header {
    char *name;
    char *value;
} imgsync__header;

struct imgsync_response {
    int status;
    int error;            /* transport error code, 0 when an HTTP response arrived */
    const char *error_detail; /* static text from curl for a transport error, or NULL */
    char *url;            /* effective URL */
    imgsync__header *headers;
    size_t nheaders;
    imgsync__buf body;
    const char *request_url; /* the URL as requested (borrowed from the job): links stay on its origin */
    char *next_url;       /* cache for imgsync_response_next_url */
    int next_rc;
    int next_done;
};

struct imgsync__token_wait; /* engine-private */

struct imgsync_job {
    imgsync_run *run;
    char *method;
    char *url;
    struct curl_slist *headers; /* provider headers */
    char *repository;
    int kind;
    void *data;
    void (*data_free)(void *);
    int anonymous;
    int submitted;

    /* engine state */
    int internal;            /* token request made by the engine itself */
    int attempt;             /* retries done so far */
    int64_t not_before;      /* monotonic ms */
    int auth_tried;          /* a Bearer challenge was answered once already */
    int redirects;           /* redirects followed so far */
    char *target;            /* where a redirect sent the job (NULL: url itself) */
    char *bearer;            /* token to send */
    char *host_key;          /* scheme://host:port of url */
    struct host_count *host; /* engine's in-flight counter for host_key (owned by the engine) */
    CURL *easy;
    struct curl_slist *sent_headers;
    imgsync_response resp;
    struct imgsync_job *next; /* queue / list link */
    struct imgsync_job *waiters; /* internal token job: jobs waiting for the token */
    char *token_key;
};

/* Free a job and its provider data (whether or not it was submitted). */
void imgsync__job_free(imgsync_job *job);
/* Reset the response part before a new attempt. */
void imgsync__response_reset(imgsync_response *r);

#endif
