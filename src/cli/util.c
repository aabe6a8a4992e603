/* imgsync: small helpers (string lists, numbers, files, clocks, formatting). */
#include "cli/cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int strlist_add(strlist *l, const char *s)
{
    if (l->len == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 8;
        const char **items = realloc((void *)l->items, cap * sizeof *items);
        if (items == NULL)
            return -1;
        l->items = items;
        l->cap = cap;
    }
    l->items[l->len++] = s;
    return 0;
}

int strlist_has(const strlist *l, const char *s)
{
    size_t i;

    for (i = 0; i < l->len; i++)
        if (strcmp(l->items[i], s) == 0)
            return 1;
    return 0;
}

void strlist_free(strlist *l)
{
    free((void *)l->items);
    l->items = NULL;
    l->len = l->cap = 0;
}

void wipe(char *s, size_t n)
{
    volatile char *p = s;

    while (n--)
        *p++ = 0;
}

int parse_number(const char *s, unsigned long max, unsigned long *out)
{
    unsigned long v;
    char *end;

    if (s == NULL || *s < '0' || *s > '9')
        return -1;
    errno = 0;
    v = strtoul(s, &end, 10);
    if (errno != 0 || *end != '\0' || v > max)
        return -1;
    *out = v;
    return 0;
}

/* Make room for at least 2 more bytes, moving (and wiping) the old copy. */
static int read_grow(char **buf, size_t len, size_t *cap, size_t max)
{
    size_t ncap = *cap ? *cap * 2 : 4096;
    char *nbuf;

    if (*cap - len >= 2)
        return 0;
    if (*cap > max + 1) {
        errno = EFBIG;
        return -1;
    }
    if ((nbuf = malloc(ncap)) == NULL) {
        errno = ENOMEM;
        return -1;
    }
    if (*buf != NULL) {
        memcpy(nbuf, *buf, len);
        wipe(*buf, len);
        free(*buf);
    }
    *buf = nbuf;
    *cap = ncap;
    return 0;
}

/* Read f to the end into *buf: 0, or -1 with errno. */
static int read_all(FILE *f, size_t max, char **buf, size_t *len)
{
    size_t cap = 0, n;

    for (;;) {
        if (read_grow(buf, *len, &cap, max) != 0)
            return -1;
        errno = 0;
        n = fread(*buf + *len, 1, cap - *len - 1, f);
        *len += n;
        if (*len > max) {
            errno = EFBIG;
            return -1;
        }
        if (n == 0) {
            if (!ferror(f))
                return 0;
            if (errno == 0)
                errno = EIO;
            return -1;
        }
    }
}

int read_file(const char *path, size_t max, char **out, size_t *out_len)
{
    FILE *f = fopen(path, "r");
    char *buf = NULL;
    size_t len = 0;
    int saved;

    if (f == NULL)
        return -1;
    if (read_all(f, max, &buf, &len) != 0) {
        saved = errno;
        if (buf != NULL) {
            wipe(buf, len);
            free(buf);
        }
        fclose(f);
        errno = saved;
        return -1;
    }
    fclose(f);
    buf[len] = '\0';
    *out = buf;
    *out_len = len;
    return 0;
}

static int64_t clock_ms(clockid_t id)
{
    struct timespec ts;

    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t monotonic_ms(void)
{
    return clock_ms(CLOCK_MONOTONIC);
}

int64_t wall_ms(void)
{
    return clock_ms(CLOCK_REALTIME);
}

char *vformat(const char *fmt, va_list ap)
{
    va_list ap2;
    char *buf;
    int n;

    va_copy(ap2, ap);
    n = vsnprintf(NULL, 0, fmt, ap);
    if (n < 0 || (buf = malloc((size_t)n + 1)) == NULL) {
        va_end(ap2);
        return NULL;
    }
    vsnprintf(buf, (size_t)n + 1, fmt, ap2);
    va_end(ap2);
    return buf;
}

char *format(const char *fmt, ...)
{
    va_list ap;
    char *s;

    va_start(ap, fmt);
    s = vformat(fmt, ap);
    va_end(ap);
    return s;
}
