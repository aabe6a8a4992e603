/*
 * imgsync: messages. Every line for stderr goes through emit() so that text which came from a
 * registry, the configuration or the command line (error messages, names) cannot smuggle
 * terminal escape sequences or break the line format.
 */
#include "cli/cli.h"

#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

/* Length of the valid UTF-8 sequence at s (its code point in *cp), or 0 when invalid. */
static size_t utf8_sequence(const unsigned char *s, unsigned long *cp)
{
    size_t n, i;
    unsigned long min;

    if (s[0] < 0x80) {
        *cp = s[0];
        return 1;
    }
    if (s[0] >= 0xc2 && s[0] <= 0xdf)
        n = 2, min = 0x80, *cp = s[0] & 0x1f;
    else if (s[0] >= 0xe0 && s[0] <= 0xef)
        n = 3, min = 0x800, *cp = s[0] & 0x0f;
    else if (s[0] >= 0xf0 && s[0] <= 0xf4)
        n = 4, min = 0x10000, *cp = s[0] & 0x07;
    else
        return 0;
    for (i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80) /* also stops at the NUL */
            return 0;
        *cp = (*cp << 6) | (s[i] & 0x3f);
    }
    if (*cp < min || *cp > 0x10ffff || (*cp >= 0xd800 && *cp <= 0xdfff))
        return 0;
    return n;
}

static int is_control(unsigned long cp, int keep_c0)
{
    if (cp >= 0x80 && cp <= 0x9f)
        return 1;
    return !keep_c0 && (cp < 0x20 || cp == 0x7f);
}

char *sanitize_text(char *s, int keep_c0)
{
    const unsigned char *in = (const unsigned char *)s;
    char *out = s;
    unsigned long cp;
    size_t n;

    while (*in) {
        n = utf8_sequence(in, &cp);
        if (n == 0 || is_control(cp, keep_c0)) {
            *out++ = '?';
            in += n ? n : 1;
            continue;
        }
        memmove(out, in, n);
        out += n;
        in += n;
    }
    *out = '\0';
    return s;
}

int text_is_clean(const char *s, int keep_c0)
{
    const unsigned char *in = (const unsigned char *)s;
    unsigned long cp;
    size_t n;

    for (; *in; in += n)
        if ((n = utf8_sequence(in, &cp)) == 0 || is_control(cp, keep_c0))
            return 0;
    return 1;
}

/* Set while a \r-updated progress line is on the terminal, so messages start on a clean line. */
static int progress_visible;
static char progress_last[256];

void clear_progress(void)
{
    if (progress_visible) {
        fputs("\r\033[K", stderr);
        progress_visible = 0;
    }
}

void show_progress_line(const char *line)
{
    if (progress_visible && strcmp(line, progress_last) == 0)
        return; /* unchanged: spare the terminal */
    fprintf(stderr, "\r%s\033[K", line);
    fflush(stderr);
    progress_visible = 1;
    snprintf(progress_last, sizeof progress_last, "%s", line);
}

/* One sanitized line: prefix + formatted text + newline. */
static void vemit(FILE *f, const char *prefix, const char *fmt, va_list ap)
{
    char *line = vformat(fmt, ap);

    if (f == stderr)
        clear_progress();
    if (line == NULL) {
        fprintf(f, "%s(out of memory formatting a message)\n", prefix);
        return;
    }
    sanitize_text(line, 0);
    fprintf(f, "%s%s\n", prefix, line);
    free(line);
}

void emit(FILE *f, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vemit(f, "", fmt, ap);
    va_end(ap);
}

void errorf(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vemit(stderr, "imgsync: ", fmt, ap);
    va_end(ap);
}

void warnf(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vemit(stderr, "imgsync: warning: ", fmt, ap);
    va_end(ap);
}

void usage_error(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vemit(stderr, "imgsync: ", fmt, ap);
    va_end(ap);
    fputs("Try 'imgsync --help'.\n", stderr);
}

/* The detail is read right away: it is only valid until the next call on ctx. The library
 * never puts secrets in it. */
void lib_error(const imgsync_ctx *ctx, int rc, const char *fmt, ...)
{
    const char *detail = ctx ? imgsync_ctx_errmsg(ctx) : "";
    va_list ap;
    char *what;

    va_start(ap, fmt);
    what = vformat(fmt, ap);
    va_end(ap);
    errorf("%s: %s%s%s", what ? what : "error", imgsync_strerror(rc), *detail ? ": " : "",
           detail);
    free(what);
}

void log_line(const char *fmt, ...)
{
    char stamp[40] = "";
    struct tm tm;
    time_t now = time(NULL);
    va_list ap;

    /* The journal stamps each line itself (systemd sets JOURNAL_STREAM for the service). */
    if (getenv("JOURNAL_STREAM") == NULL && gmtime_r(&now, &tm) != NULL)
        strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ imgsync: ", &tm);
    va_start(ap, fmt);
    vemit(stderr, stamp[0] ? stamp : "imgsync: ", fmt, ap);
    va_end(ap);
}

void log_to_stderr(imgsync_ctx *ctx, int level, const char *message, void *payload)
{
    static const char *const names[] = {"log", "error", "warning", "info", "debug"};
    static const char *const colors[] = {"", "\033[1;31m", "\033[33m", "\033[32m", "\033[2m"};
    static int tty = -1;
    char stamp[40] = "", *line = strdup(message);
    struct timeval tv;
    struct tm tm;
    int i = level >= 1 && level <= 4 ? level : 0;

    (void)ctx;
    (void)payload;
    if (tty < 0)
        tty = isatty(STDERR_FILENO);
    if (gettimeofday(&tv, NULL) == 0 && gmtime_r(&tv.tv_sec, &tm) != NULL) {
        size_t n = strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
        snprintf(stamp + n, sizeof stamp - n, ".%03dZ ", (int)(tv.tv_usec / 1000));
    }
    clear_progress();
    /* the library sends clean lines; sanitized again all the same: it reaches a terminal */
    fprintf(stderr, "%s%s%s:%s %s\n", stamp, tty ? colors[i] : "", names[i], tty ? "\033[0m" : "",
            line ? sanitize_text(line, 0) : "(out of memory)");
    free(line);
}
