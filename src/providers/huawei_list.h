/* An offset/limit paged list of a Huawei API, walked one page at a time with the shared
 * authentication (internal to src/providers; used by SWR and SWR Enterprise Edition).
 *
 * A list is refcounted: the job of its page in flight holds a reference, and so does
 * huawei_auth while the page is parked for an IAM token. Only one page is in flight at a time,
 * so `offset` and `sent` are that page's. What a page's items are, and what the list is of (a
 * repository, an instance...), stay the provider's: its payload hangs on the list as `data`. */
#ifndef IMGSYNC_PROVIDERS_HUAWEI_LIST_H
#define IMGSYNC_PROVIDERS_HUAWEI_LIST_H

#include <stddef.h>
#include <stdint.h>

#include "imgsync/sys/provider.h"
#include "providers/common.h"
#include "providers/huawei_auth.h"

typedef struct imgsync__huawei_list {
    int refs;
    int kind;                  /* job kind of its pages */
    char *base;                /* URL without limit/offset */
    long limit;                /* page size; 0: one object, GET base as it is */
    long offset;
    imgsync__huawei_sent sent; /* token generation, replays after a 401 */
    int64_t total;             /* -1 unknown */
    int64_t first_total;       /* the total the first page gave, -1 unknown */
    imgsync__pager pager;
    imgsync__huawei_auth *auth; /* the run's (borrowed) */
    /* scope of its jobs, borrowed from data (NULL, NULL = the registry's) */
    const char *partition, *repository;
    void *data; /* the provider's payload, freed with data_free */
    void (*data_free)(void *);
} imgsync__huawei_list;

/* Check option page_size: an integer from 1 to max. 0 or EINVAL (message in err). */
int imgsync__huawei_list_check_page_size(const char *value, long max, char *err, size_t errlen);

/* The run's option page_size, max when unset. */
long imgsync__huawei_list_page_size(const imgsync_run *run, long max);

/* Start the authentication with the lists as its parked items (resumed by submitting their
 * page again). service and api_host as in imgsync__huawei_auth_config; token_kind is the job
 * kind of the IAM token request. The return of imgsync__huawei_auth_start. */
int imgsync__huawei_list_start(imgsync_run *run, imgsync__huawei_auth *auth, const char *service,
                               const char *api_host, int token_kind);

/* A list of `base` (taken; NULL = ENOMEM) with one reference, or NULL on ENOMEM. */
imgsync__huawei_list *imgsync__huawei_list_new(const imgsync_run *run, imgsync__huawei_auth *auth, int kind,
                                               char *base, long limit);

/* Hang data (taken: freed with data_free, at once when l is NULL) on l and set the scope of its
 * jobs (borrowed from data). Returns l. */
imgsync__huawei_list *imgsync__huawei_list_hold(imgsync__huawei_list *l, void *data, void (*data_free)(void *),
                                                const char *partition, const char *repository);

/* Drop a reference (a void * for huawei_auth and job data); l may be NULL. */
void imgsync__huawei_list_unref(void *l);

/* Submit the page at l->offset (the job holds a reference): a GET with limit/offset, JSON
 * headers, the provider's auth, on l's scope. With no usable IAM token it is parked instead and
 * sent when one comes. The return of imgsync__huawei_auth_get. */
int imgsync__huawei_list_submit(imgsync_run *run, imgsync__huawei_list *l);

/* Begin l's scope and submit its first page; takes the caller's reference (NULL = ENOMEM). */
int imgsync__huawei_list_begin(imgsync_run *run, imgsync__huawei_list *l);

/* After a page (at job's URL) of n items: 1 when the next page was submitted, 0 when the list is
 * done, negative on error (a paging limit's reason in why). */
int imgsync__huawei_list_next(imgsync_run *run, imgsync__huawei_list *l, const imgsync_job *job, size_t n,
                              char *why, size_t whylen);

/* imgsync__huawei_list_next for the list of one repository scope: when done the scope is listed,
 * a paging error fails the scope. 0, or ENOMEM / a submission error. */
int imgsync__huawei_list_scope_next(imgsync_run *run, imgsync__huawei_list *l, const imgsync_job *job, size_t n);

/* imgsync__huawei_list_next for a list the whole run depends on: a paging error fails the run
 * ("what: why"). 1 when the list is done, 0 (next page submitted, or run failed), or ENOMEM / a
 * submission error. */
int imgsync__huawei_list_run_next(imgsync_run *run, imgsync__huawei_list *l, const imgsync_job *job, size_t n,
                                  const char *what);

/* The answers a provider's on_response leaves to this module: the IAM token request's (a job of
 * the auth's token kind), and a page that was refused its IAM token for the first time (sent
 * again). 1 with *rc the on_response return; 0 when resp is the provider's to read. */
int imgsync__huawei_list_handled(imgsync_run *run, imgsync__huawei_auth *auth, imgsync_job *job,
                                 const imgsync_response *resp, int *rc);

/* The vtable's sign hook for a provider whose jobs are lists (and the token request). */
int imgsync__huawei_list_sign(imgsync_run *run, const imgsync_job *job, imgsync_attempt *a,
                              imgsync__huawei_auth *auth);

#endif
