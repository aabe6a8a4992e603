/* Helpers every provider needs: submitting, failing, paging, lazy lists. */
#include "common.h"

#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/timeutil.h"

int imgsync__pv_submit(imgsync_run *run, const imgsync__pv_job *j)
{
    imgsync_job *job = imgsync_job_new(run, j->method, j->url);
    if (!job) {
        if (j->free_fn && j->data)
            j->free_fn(j->data);
        return IMGSYNC_ENOMEM;
    }
    imgsync_job_set_kind(job, j->kind);
    imgsync_job_set_data(job, j->data, j->free_fn);
    int rc = imgsync_job_set_auth(job, j->auth);
    if (!rc && j->repository)
        rc = imgsync_job_set_scope(job, j->partition, j->repository);
    if (!rc && j->accept)
        rc = imgsync_job_add_header(job, j->accept);
    if (!rc && j->header)
        rc = imgsync_job_add_header(job, j->header);
    if (rc) {
        imgsync_job_free(job);
        return rc;
    }
    return imgsync_job_submit(job);
}

/* ---- paging --------------------------------------------------------------------------------- */

void imgsync__pager_init(imgsync__pager *p, const imgsync_run *run)
{
    memset(p, 0, sizeof(*p));
    imgsync__map_init(&p->seen);
    p->max_pages = imgsync_run_list_limit(run, IMGSYNC_LIMIT_PAGES);
    p->max_items = imgsync_run_list_limit(run, IMGSYNC_LIMIT_ITEMS);
}

void imgsync__pager_clear(imgsync__pager *p) { imgsync__map_clear(&p->seen); }

void imgsync__pager_restart(imgsync__pager *p) { imgsync__map_clear(&p->seen); }

int imgsync__pager_read(imgsync__pager *p, const char *url, size_t n, char *why, size_t whylen)
{
    /* the page just read counts as visited, so a link back to it is caught at once */
    if (!imgsync__map_get(&p->seen, url) && imgsync__map_put(&p->seen, url, (void *)1, NULL))
        return IMGSYNC_ENOMEM;
    p->pages++;
    p->items += n;
    if (p->pages > p->max_pages) {
        snprintf(why, whylen, "the listing takes more than %llu pages (max_list_pages)", (unsigned long long)p->max_pages);
        return IMGSYNC_ETOOBIG;
    }
    if (p->items > p->max_items) {
        snprintf(why, whylen, "the listing holds more than %llu items (max_list_items)", (unsigned long long)p->max_items);
        return IMGSYNC_ETOOBIG;
    }
    return 0;
}

int imgsync__pager_next(imgsync__pager *p, const imgsync_response *resp, const char **next, char *why,
                        size_t whylen)
{
    *next = NULL;
    const char *url = NULL;
    if (imgsync_response_next_url(resp, &url)) {
        snprintf(why, whylen, "the registry sent a malformed or cross-host Link header");
        return IMGSYNC_EPROTOCOL;
    }
    if (!url)
        return 0;
    /* a relative Link can make every next URL longer than the last ("<x/y>" on .../x/y gives
     * .../x/x/y): each page would be new, and remembering and sending them all costs the sum of
     * their lengths up to max_list_pages */
    if (strlen(url) > IMGSYNC__PAGER_MAX_URL) {
        snprintf(why, whylen, "the registry sent a Link to a URL longer than %d bytes", IMGSYNC__PAGER_MAX_URL);
        return IMGSYNC_EPROTOCOL;
    }
    if (imgsync__map_get(&p->seen, url)) {
        snprintf(why, whylen, "looping Link pagination: the next page is one already read");
        return IMGSYNC_EPROTOCOL;
    }
    if (imgsync__map_put(&p->seen, url, (void *)1, NULL))
        return IMGSYNC_ENOMEM;
    *next = url;
    return 0;
}

char *imgsync__offset_url(const char *base, long limit, long offset)
{
    return imgsync__asprintf("%s%climit=%ld&offset=%ld", base, strchr(base, '?') ? '&' : '?', limit, offset);
}

int imgsync__offset_next(imgsync__pager *p, const char *url, size_t n, long limit, int64_t total, long *offset,
                         char *why, size_t whylen)
{
    int rc = imgsync__pager_read(p, url, n, why, whylen);
    if (rc)
        return rc;
    if (n < (size_t)limit || (total >= 0 && *offset + (int64_t)n >= total))
        return 0;
    *offset += limit;
    return 1;
}

/* ---- lazy lists ----------------------------------------------------------------------------- */

typedef struct lazy {
    imgsync__strlist items;
    size_t next;
    imgsync__pv_item_fn fn;
    void *ctx;
    void (*ctx_free)(void *);
} lazy;

static void lazy_free(void *p)
{
    lazy *l = p;
    imgsync__strlist_free(&l->items);
    if (l->ctx_free)
        l->ctx_free(l->ctx);
    free(l);
}

/* 0 when every item was handled, 1 when the run has no room left, or the error of fn. */
static int lazy_step(imgsync_run *run, void *data)
{
    lazy *l = data;
    while (l->next < l->items.n) {
        if (!imgsync_run_has_room(run))
            return 1;
        int rc = l->fn(run, l->ctx, imgsync__strlist_at(&l->items, l->next++));
        if (rc)
            return rc;
    }
    return 0;
}

int imgsync__pv_foreach(imgsync_run *run, const char *partition, const char *repository, imgsync__strlist *items,
                        imgsync__pv_item_fn fn, void *ctx, void (*ctx_free)(void *))
{
    lazy *l = calloc(1, sizeof(*l));
    if (!l) {
        imgsync__strlist_free(items);
        if (ctx_free)
            ctx_free(ctx);
        return IMGSYNC_ENOMEM;
    }
    l->items = *items;
    memset(items, 0, sizeof(*items));
    l->fn = fn;
    l->ctx = ctx;
    l->ctx_free = ctx_free;
    int rc = lazy_step(run, l);
    if (rc == 1)
        return imgsync_run_defer(run, partition, repository, lazy_step, l, lazy_free);
    lazy_free(l);
    return rc;
}

yajl_val imgsync__pv_json_body(const imgsync_response *resp)
{
    size_t len;
    const char *body = imgsync_response_body(resp, &len);
    char err[64];
    return imgsync__json_parse(body, len, err, sizeof(err));
}

void imgsync__pv_sha256(const void *body, size_t len, char out[72])
{
    unsigned char md[SHA256_DIGEST_LENGTH];
    SHA256((const unsigned char *)body, len, md);
    static const char hex[] = "0123456789abcdef";
    memcpy(out, "sha256:", 7);
    for (int i = 0; i < SHA256_DIGEST_LENGTH; i++) {
        out[7 + 2 * i] = hex[md[i] >> 4];
        out[8 + 2 * i] = hex[md[i] & 15];
    }
    out[7 + 2 * SHA256_DIGEST_LENGTH] = '\0';
}

int64_t imgsync__pv_time_ms(const char *s)
{
    int64_t ms = 0;
    return s && !imgsync__parse_rfc3339_ms(s, &ms) ? ms : 0;
}

int imgsync__pv_split(char *item, char sep, char **f, int n)
{
    char *p = item;
    for (int i = 0; i < n; i++) {
        f[i] = p;
        p = strchr(p, sep);
        if (!p)
            return i == n - 1 ? 0 : IMGSYNC_EINTERNAL;
        *p++ = '\0';
    }
    return 0;
}

int imgsync__pv_scope_first(imgsync__map *seen, const char *partition, const char *repository)
{
    char *key = imgsync__asprintf("%s\t%s", partition, repository);
    if (!key)
        return IMGSYNC_ENOMEM;
    int rc = 0;
    if (!imgsync__map_get(seen, key))
        rc = imgsync__map_put(seen, key, (void *)1, NULL) ? IMGSYNC_ENOMEM : 1;
    free(key);
    return rc;
}

void imgsync__pv_catalog_broken(imgsync_run *run, int *broken, const char *message)
{
    if (!*broken)
        imgsync_run_partition_fail(run, "", IMGSYNC_EPROTOCOL, message);
    *broken = 1;
}

char *imgsync__pv_host_dup(const char *s, size_t n)
{
    if (n == 0 || n > 253)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-' ||
              c == ':'))
            return NULL;
    }
    return imgsync__strndup(s, n);
}
