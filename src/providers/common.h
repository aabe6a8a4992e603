/* Helpers every provider needs (internal to src/providers): submitting jobs, paging with loop
 * and size limits, and expanding long lists lazily (failing a scope from a response is the SPI's
 * imgsync_run_fail_response). */
#ifndef IMGSYNC_PROVIDERS_COMMON_H
#define IMGSYNC_PROVIDERS_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include "imgsync/sys/provider.h"
#include "util/json.h"
#include "util/map.h"

/* One job: method, URL (absolute or endpoint path), provider kind, scope (repository NULL =
 * registry scope), an Accept header (NULL = none), the auth mode, data (freed with free_fn, also
 * on failure). The return of imgsync_job_submit. */
typedef struct imgsync__pv_job {
    const char *method;
    const char *url;
    int kind;
    const char *partition;
    const char *repository;
    const char *accept;
    int auth;
    void *data;
    void (*free_fn)(void *);
    const char *header; /* one more header line (NULL = none) */
} imgsync__pv_job;
int imgsync__pv_submit(imgsync_run *run, const imgsync__pv_job *j);

/* A paged listing: pages already read (a Link that loops back is refused) and the run's limits
 * on pages and items. */
typedef struct imgsync__pager {
    imgsync__map seen;
    uint64_t pages, items, max_pages, max_items;
} imgsync__pager;

void imgsync__pager_init(imgsync__pager *p, const imgsync_run *run);
void imgsync__pager_clear(imgsync__pager *p);
/* Forget the pages read (a new pass over the same listing), keep the counts. */
void imgsync__pager_restart(imgsync__pager *p);
/* A page at url with n items was read. 0, ETOOBIG (over a limit: message in why), ENOMEM. */
int imgsync__pager_read(imgsync__pager *p, const char *url, size_t n, char *why, size_t whylen);
/* Longest next-page URL accepted (servers refuse far shorter request lines). */
#define IMGSYNC__PAGER_MAX_URL 16384
/* The page's rel="next" (borrowed from resp) in *next, NULL at the end. 0; EPROTOCOL (malformed,
 * cross-origin, looping or over-long Link: message in why); ENOMEM. */
int imgsync__pager_next(imgsync__pager *p, const imgsync_response *resp, const char **next, char *why,
                        size_t whylen);

/* Offset paging (SWR, SWR EE: offset a multiple of limit, the total from the server):
 * "base?limit=L&offset=O" ('&' when base has a query already), or NULL on ENOMEM. */
char *imgsync__offset_url(const char *base, long limit, long offset);
/* After a page at url of n items (counted by the pager): 1 when a next page exists (*offset
 * advanced by limit), 0 when the listing is done (a short page, or total >= 0 reached),
 * ETOOBIG / ENOMEM (message in why). */
int imgsync__offset_next(imgsync__pager *p, const char *url, size_t n, long limit, int64_t total, long *offset,
                         char *why, size_t whylen);

/* Call fn(run, ctx, item) for each item of a list, only while the run has room for more jobs;
 * the rest is deferred (imgsync_run_defer) on the scope (partition, repository). Takes the list.
 * ctx is released with ctx_free (may be NULL) once every item was handled or on failure. Returns
 * 0 or the first error of fn (the rest is then dropped). */
typedef int (*imgsync__pv_item_fn)(imgsync_run *run, void *ctx, const char *item);
int imgsync__pv_foreach(imgsync_run *run, const char *partition, const char *repository, imgsync__strlist *items,
                        imgsync__pv_item_fn fn, void *ctx, void (*ctx_free)(void *));

/* The response body parsed as JSON (NULL when it is not JSON); free with imgsync__json_free. */
yajl_val imgsync__pv_json_body(const imgsync_response *resp);

/* ms since the epoch of an RFC 3339 time (with or without fraction); 0 when NULL or not one. */
int64_t imgsync__pv_time_ms(const char *s);

/* Split item in place at each sep into exactly n fields (f[0..n)). 0, or EINTERNAL when there
 * are fewer (lazy-list items are the provider's own strings). */
int imgsync__pv_split(char *item, char sep, char **f, int n);

/* 1 the first time the scope (partition, repository) is asked about in the run (remembered in
 * seen: a repeated or shifted page, or two hinted lists, can name a repository again), 0
 * afterwards, ENOMEM. */
int imgsync__pv_scope_first(imgsync__map *seen, const char *partition, const char *repository);

/* An item of the catalog listing is unusable: the listing is not known to be complete, so
 * *broken is set (nothing is to be pruned) and the registry partition fails, once, with the
 * first message (EPROTOCOL). */
void imgsync__pv_catalog_broken(imgsync_run *run, int *broken, const char *message);

/* s[0..n) as a registry host (1 to 253 letters, digits, '.', '-', ':'), malloc'd; NULL when it
 * is not one (or on ENOMEM): the host of a row, as a listing item gives it. */
char *imgsync__pv_host_dup(const char *s, size_t n);

/* "sha256:<hex>" of a body, into out (72 bytes). */
void imgsync__pv_sha256(const void *body, size_t len, char out[72]);

#endif
