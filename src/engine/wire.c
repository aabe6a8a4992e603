/* Attempts as they go out: the header list the sign hook sees and the transport sends. */
#include <stdlib.h>
#include <string.h>

#include "engine/internal.h"
#include "imgsync/errors.h"
#include "util/buf.h"
#include "util/httpsyntax.h"

void imgsync__wire_reset(imgsync__wire *w)
{
    for (size_t i = 0; i < w->n; i++) {
        /* an Authorization value is a secret: do not leave it in freed memory */
        free(w->h[i].name);
        imgsync__wipe_free(w->h[i].value);
    }
    free(w->h);
    memset(w, 0, sizeof(*w));
}

static int name_ok(const char *name)
{
    if (!name || !*name)
        return 0;
    for (const char *p = name; *p; p++)
        if (!imgsync__http_is_tchar((unsigned char)*p))
            return 0;
    return 1;
}

static int value_ok(const char *v)
{
    for (const unsigned char *p = (const unsigned char *)v; *p; p++)
        if ((*p < 0x20 && *p != '\t') || *p == 0x7f)
            return 0;
    return 1;
}

/* Append without the reserved-name check (the engine's own Host, Content-Length). */
static int wire_append(imgsync__wire *w, const char *name, const char *value)
{
    if (!name_ok(name) || !value || !value_ok(value))
        return IMGSYNC_EINVAL;
    if (w->n == w->cap) {
        size_t cap = w->cap ? w->cap * 2 : 16;
        imgsync__hdr *h = realloc(w->h, cap * sizeof(*h));
        if (!h)
            return IMGSYNC_ENOMEM;
        w->h = h;
        w->cap = cap;
    }
    char *n = imgsync__strdup(name), *v = imgsync__strdup(value);
    if (!n || !v) {
        free(n);
        free(v);
        return IMGSYNC_ENOMEM;
    }
    w->h[w->n].name = n;
    w->h[w->n].value = v;
    w->n++;
    return 0;
}

int imgsync__wire_add_header(imgsync__wire *w, const char *name, const char *value)
{
    if (!w || !name || imgsync__strcaseeq(name, "Host") || imgsync__strcaseeq(name, "Content-Length"))
        return IMGSYNC_EINVAL;
    return wire_append(w, name, value);
}

/* For the engine: the reserved names too. */
int imgsync__wire_put(imgsync__wire *w, const char *name, const char *value);
int imgsync__wire_put(imgsync__wire *w, const char *name, const char *value) { return wire_append(w, name, value); }

const char *imgsync__wire_method(const imgsync__wire *w) { return w->method; }
const char *imgsync__wire_url(const imgsync__wire *w) { return w->url; }
int imgsync__wire_attempt(const imgsync__wire *w) { return w->attempt; }
size_t imgsync__wire_header_count(const imgsync__wire *w) { return w->n; }
const char *imgsync__wire_header_name(const imgsync__wire *w, size_t i) { return i < w->n ? w->h[i].name : NULL; }
const char *imgsync__wire_header_value(const imgsync__wire *w, size_t i) { return i < w->n ? w->h[i].value : NULL; }

const char *imgsync__hdr_find(const imgsync__hdr *h, size_t n, const char *name)
{
    for (size_t i = n; name && i-- > 0;)
        if (imgsync__strcaseeq(h[i].name, name))
            return h[i].value;
    return NULL;
}

const char *imgsync__wire_header(const imgsync__wire *w, const char *name) { return imgsync__hdr_find(w->h, w->n, name); }

const void *imgsync__wire_body(const imgsync__wire *w, size_t *len)
{
    if (len)
        *len = w->body ? w->body_len : 0;
    return w->body ? w->body : "";
}
