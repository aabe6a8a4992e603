/* Growable byte buffers and small string helpers. */
#include "buf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "imgsync.h"

/* Called through a volatile pointer: the compiler cannot know it is memset, nor drop the call. */
static void *(*const volatile wipe_fn)(void *, int, size_t) = memset;

void imgsync__wipe(void *p, size_t n)
{
    if (p && n)
        wipe_fn(p, 0, n);
}

void imgsync__wipe_free(char *s)
{
    if (s) {
        imgsync__wipe(s, strlen(s));
        free(s);
    }
}

void imgsync__buf_init(imgsync__buf *b) { memset(b, 0, sizeof(*b)); }

void imgsync__buf_free(imgsync__buf *b)
{
    if (b->secret)
        imgsync__wipe(b->data, b->cap);
    free(b->data);
    imgsync__buf_init(b);
}

void imgsync__buf_reset(imgsync__buf *b)
{
    if (b->secret)
        imgsync__wipe(b->data, b->len);
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

/* Growth of a secret buffer: a new block, the old one wiped (realloc would leave it as is). */
static char *secret_grow(imgsync__buf *b, size_t cap)
{
    char *p = malloc(cap);
    if (p && b->data) {
        memcpy(p, b->data, b->len + 1);
        imgsync__wipe(b->data, b->cap);
        free(b->data);
    }
    return p;
}

static int buf_reserve(imgsync__buf *b, size_t extra)
{
    if (b->oom)
        return IMGSYNC_ENOMEM;
    if (extra > (size_t)-1 / 2 - b->len) {
        b->oom = 1;
        return IMGSYNC_ENOMEM;
    }
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap *= 2;
    char *p = b->secret ? secret_grow(b, cap) : realloc(b->data, cap);
    if (!p) {
        b->oom = 1;
        return IMGSYNC_ENOMEM;
    }
    b->data = p;
    b->cap = cap;
    return 0;
}

int imgsync__buf_append(imgsync__buf *b, const void *p, size_t n)
{
    if (buf_reserve(b, n))
        return IMGSYNC_ENOMEM;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

int imgsync__buf_appends(imgsync__buf *b, const char *s) { return imgsync__buf_append(b, s, strlen(s)); }

int imgsync__buf_appendc(imgsync__buf *b, char c) { return imgsync__buf_append(b, &c, 1); }

int imgsync__buf_printf(imgsync__buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = imgsync__vasprintf(fmt, ap);
    va_end(ap);
    if (!s) {
        b->oom = 1;
        return IMGSYNC_ENOMEM;
    }
    int rc = imgsync__buf_appends(b, s);
    if (b->secret)
        imgsync__wipe_free(s);
    else
        free(s);
    return rc;
}

char *imgsync__buf_steal(imgsync__buf *b)
{
    char *out = NULL;
    if (!b->oom)
        out = b->data ? b->data : imgsync__strdup("");
    else
        imgsync__buf_free(b);
    imgsync__buf_init(b);
    return out;
}

const char *imgsync__buf_str(const imgsync__buf *b) { return b->data ? b->data : ""; }

char *imgsync__strdup(const char *s)
{
    if (!s)
        return NULL;
    return imgsync__strndup(s, strlen(s));
}

char *imgsync__strndup(const char *s, size_t n)
{
    char *p = malloc(n + 1);
    if (!p)
        return NULL;
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *imgsync__vasprintf(const char *fmt, va_list ap)
{
    va_list cp;
    va_copy(cp, ap);
    int n = vsnprintf(NULL, 0, fmt, cp);
    va_end(cp);
    if (n < 0)
        return NULL;
    char *p = malloc((size_t)n + 1);
    if (!p)
        return NULL;
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    return p;
}

char *imgsync__asprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *p = imgsync__vasprintf(fmt, ap);
    va_end(ap);
    return p;
}

char *imgsync__strjoin(const char *first, ...)
{
    va_list ap;
    size_t len = 0;
    va_start(ap, first);
    for (const char *s = first; s; s = va_arg(ap, const char *))
        len += strlen(s);
    va_end(ap);
    char *out = malloc(len + 1), *w = out;
    if (!out)
        return NULL;
    va_start(ap, first);
    for (const char *s = first; s; s = va_arg(ap, const char *)) {
        size_t n = strlen(s);
        memcpy(w, s, n);
        w += n;
    }
    va_end(ap);
    *w = '\0';
    return out;
}

int imgsync__strcaseeq(const char *a, const char *b)
{
    for (;; a++, b++) {
        char ca = *a, cb = *b;
        if (ca >= 'A' && ca <= 'Z')
            ca = (char)(ca - 'A' + 'a');
        if (cb >= 'A' && cb <= 'Z')
            cb = (char)(cb - 'A' + 'a');
        if (ca != cb)
            return 0;
        if (!ca)
            return 1;
    }
}

int imgsync__parse_i64(const char *s, long long min, long long max, long long *out)
{
    if (!s || !*s)
        return IMGSYNC_EINVAL;
    char *end = NULL;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end || v < min || v > max)
        return IMGSYNC_EINVAL;
    *out = v;
    return 0;
}

int imgsync__parse_bool(const char *s, int *out)
{
    static const char *yes[] = {"true", "1", "yes", "on"};
    static const char *no[] = {"false", "0", "no", "off"};
    if (!s)
        return IMGSYNC_EINVAL;
    for (size_t i = 0; i < 4; i++) {
        if (imgsync__strcaseeq(s, yes[i])) {
            *out = 1;
            return 0;
        }
        if (imgsync__strcaseeq(s, no[i])) {
            *out = 0;
            return 0;
        }
    }
    return IMGSYNC_EINVAL;
}
