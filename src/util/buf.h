/* Growable byte buffers and small string helpers (internal). */
#ifndef IMGSYNC_UTIL_BUF_H
#define IMGSYNC_UTIL_BUF_H

#include <stdarg.h>
#include <stddef.h>

/* A NUL-terminated growable buffer. After a failed allocation `oom` is set and every later
 * append is a no-op, so callers can append several pieces and check once. */
typedef struct imgsync__buf {
    char *data;  /* NULL until the first append */
    size_t len;
    size_t cap;
    int oom;
    int secret;  /* the content is a secret: memory given back (growth, reset, free) is wiped */
} imgsync__buf;

void imgsync__buf_init(imgsync__buf *b);
void imgsync__buf_free(imgsync__buf *b);
void imgsync__buf_reset(imgsync__buf *b); /* len = 0, keeps memory */
/* 0 or IMGSYNC_ENOMEM (also when b->oom was already set). */
int imgsync__buf_append(imgsync__buf *b, const void *p, size_t n);
int imgsync__buf_appends(imgsync__buf *b, const char *s);
int imgsync__buf_appendc(imgsync__buf *b, char c);
int imgsync__buf_printf(imgsync__buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Give the content away (malloc'd, NUL-terminated, "" when empty); NULL after an OOM.
 * The buffer is left empty either way. */
char *imgsync__buf_steal(imgsync__buf *b);
/* Content as a string ("" when empty); borrowed. */
const char *imgsync__buf_str(const imgsync__buf *b);

/* Overwrite n bytes of p with zeros (NULL-safe), in a way the compiler cannot drop as a dead
 * store when p is freed right after (a plain memset before free may be optimized away). */
void imgsync__wipe(void *p, size_t n);
/* Wipe a string and free it (NULL-safe). */
void imgsync__wipe_free(char *s);

/* NULL-safe strdup. */
char *imgsync__strdup(const char *s);
char *imgsync__strndup(const char *s, size_t n);
char *imgsync__asprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *imgsync__vasprintf(const char *fmt, va_list ap);
/* The strings up to a NULL, joined (malloc'd); NULL on ENOMEM. For hot paths: a format costs
 * ten times as much. */
char *imgsync__strjoin(const char *first, ...);
/* ASCII case-insensitive equality of two NUL-terminated strings. */
int imgsync__strcaseeq(const char *a, const char *b);
/* Parse a decimal integer in [min, max] covering the whole string; 0 or IMGSYNC_EINVAL. */
int imgsync__parse_i64(const char *s, long long min, long long max, long long *out);
/* "true"/"1"/"yes"/"on" -> 1, "false"/"0"/"no"/"off" -> 0; anything else IMGSYNC_EINVAL. */
int imgsync__parse_bool(const char *s, int *out);

#endif
