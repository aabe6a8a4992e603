/* Responses: built by the transports through checks shared by all of them, read by the core. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/internal.h"
#include "imgsync/errors.h"
#include "util/buf.h"
#include "util/text.h"

#define MAX_HEADERS 256          /* per response; more is hostile */
#define MAX_HEADER_LINE 65536

static void free_headers(imgsync__eresp *r)
{
    for (size_t i = 0; i < r->n; i++) {
        free(r->h[i].name);
        free(r->h[i].value);
    }
    free(r->h);
    r->h = NULL;
    r->n = r->cap = 0;
}

void imgsync__eresp_reset(imgsync__eresp *r)
{
    free_headers(r);
    imgsync__buf_free(&r->body);
    free(r->url);
    size_t max = r->max_body;
    const char *request_url = r->request_url;
    memset(r, 0, sizeof(*r));
    r->max_body = max;
    r->request_url = request_url;
}

void imgsync__eresp_new_headers(imgsync__eresp *r) { free_headers(r); }

void imgsync__eresp_fail(imgsync__eresp *r, int code, int retry_class, const char *detail)
{
    if (r->error)
        return; /* the first reason (a limit a builder enforced) is the real one */
    r->status = 0;
    r->error = code;
    r->retry_class = retry_class;
    imgsync__text_copy(r->detail, sizeof(r->detail), detail ? detail : "");
}

void imgsync__eresp_set_status(imgsync__eresp *r, int status) { r->status = status; }

int imgsync__eresp_set_url(imgsync__eresp *r, const char *url)
{
    char *copy = imgsync__strdup(url);
    if (!copy)
        return IMGSYNC_ENOMEM;
    free(r->url);
    r->url = copy;
    return 0;
}

static void trim(const char **b, const char **e)
{
    while (*b < *e && (**b == ' ' || **b == '\t'))
        (*b)++;
    while (*e > *b && ((*e)[-1] == '\r' || (*e)[-1] == '\n' || (*e)[-1] == ' ' || (*e)[-1] == '\t'))
        (*e)--;
}

/* The one value a Content-Length field stands for: a list ("5, 5", RFC 9110 8.6) is accepted
 * when all its members are the same. 0 with [*v, *v + *n) that value; 1 when members differ. */
static int content_length_value(const char *field, const char **v, size_t *n)
{
    const char *first = NULL;
    size_t first_len = 0;
    for (const char *p = field;; p++) {
        while (*p == ' ' || *p == '\t')
            p++;
        const char *b = p;
        while (*p && *p != ',')
            p++;
        const char *e = p;
        while (e > b && (e[-1] == ' ' || e[-1] == '\t'))
            e--;
        if (!first) {
            first = b;
            first_len = (size_t)(e - b);
        } else if ((size_t)(e - b) != first_len || memcmp(b, first, first_len) != 0) {
            return 1;
        }
        if (!*p)
            break;
    }
    *v = first;
    *n = first_len;
    return 0;
}

/* Content-Length values that disagree (in two headers, or in one list) make the body length
 * ambiguous (libcurl takes the first number of a list, the last of several headers): refuse. */
static int content_length_conflict(const imgsync__eresp *r, const char *name, const char *value)
{
    if (!imgsync__strcaseeq(name, "Content-Length"))
        return 0;
    const char *v, *pv;
    size_t n, pn;
    if (content_length_value(value, &v, &n))
        return 1;
    const char *prev = imgsync__eresp_header(r, "Content-Length");
    if (!prev)
        return 0;
    if (content_length_value(prev, &pv, &pn))
        return 1;
    return n != pn || memcmp(v, pv, n) != 0;
}

static int push_header(imgsync__eresp *r, char *name, char *value)
{
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 16;
        imgsync__hdr *h = realloc(r->h, cap * sizeof(*h));
        if (!h)
            return IMGSYNC_ENOMEM;
        r->h = h;
        r->cap = cap;
    }
    r->h[r->n].name = name;
    r->h[r->n].value = value;
    r->n++;
    return 0;
}

int imgsync__eresp_header_line(imgsync__eresp *r, const char *line, size_t len)
{
    if (len >= 5 && memcmp(line, "HTTP/", 5) == 0) {
        imgsync__eresp_new_headers(r); /* a new response (redirect, 100 Continue) */
        return 0;
    }
    if (len > MAX_HEADER_LINE) {
        imgsync__eresp_fail(r, IMGSYNC_ETOOBIG, 0, "response header line larger than 64 KiB");
        return r->error;
    }
    const char *colon = memchr(line, ':', len);
    if (!colon)
        return 0; /* the blank line that ends the headers */
    if (r->n >= MAX_HEADERS) {
        /* dropping headers silently could lose a Link and end a listing early: refuse instead */
        imgsync__eresp_fail(r, IMGSYNC_EPROTOCOL, 0, "more than 256 response headers");
        return r->error;
    }
    const char *nb = line, *ne = colon, *vb = colon + 1, *ve = line + len;
    trim(&nb, &ne);
    trim(&vb, &ve);
    char *name = imgsync__strndup(nb, (size_t)(ne - nb));
    char *value = imgsync__strndup(vb, (size_t)(ve - vb));
    int rc = !name || !value ? IMGSYNC_ENOMEM : 0;
    if (!rc && content_length_conflict(r, name, value))
        rc = IMGSYNC_EPROTOCOL;
    if (!rc)
        rc = push_header(r, name, value);
    if (rc) {
        free(name);
        free(value);
        imgsync__eresp_fail(r, rc, 0, rc == IMGSYNC_EPROTOCOL ? "conflicting Content-Length headers" : "out of memory");
    }
    return rc;
}

int imgsync__eresp_append(imgsync__eresp *r, const void *p, size_t n)
{
    if (r->max_body && (r->body.len > r->max_body || n > r->max_body - r->body.len)) {
        char why[96];
        snprintf(why, sizeof(why), "response body larger than %zu bytes", r->max_body);
        imgsync__eresp_fail(r, IMGSYNC_ETOOBIG, 0, why);
        return r->error;
    }
    if (imgsync__buf_append(&r->body, p, n)) {
        imgsync__eresp_fail(r, IMGSYNC_ENOMEM, 0, "out of memory");
        return r->error;
    }
    return 0;
}

int imgsync__eresp_status(const imgsync__eresp *r) { return r->status; }
int imgsync__eresp_error(const imgsync__eresp *r) { return r->error; }
const char *imgsync__eresp_detail(const imgsync__eresp *r) { return r->detail; }
size_t imgsync__eresp_header_count(const imgsync__eresp *r) { return r->n; }
const char *imgsync__eresp_header_name(const imgsync__eresp *r, size_t i) { return i < r->n ? r->h[i].name : NULL; }
const char *imgsync__eresp_header_value(const imgsync__eresp *r, size_t i) { return i < r->n ? r->h[i].value : NULL; }

const char *imgsync__eresp_header(const imgsync__eresp *r, const char *name) { return imgsync__hdr_find(r->h, r->n, name); }

const char *imgsync__eresp_body(const imgsync__eresp *r, size_t *len)
{
    if (len)
        *len = r->body.len;
    return imgsync__buf_str(&r->body);
}

const char *imgsync__eresp_url(const imgsync__eresp *r) { return r->url ? r->url : r->request_url ? r->request_url : ""; }
const char *imgsync__eresp_request_url(const imgsync__eresp *r) { return r->request_url ? r->request_url : ""; }
