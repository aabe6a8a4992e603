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

/* The file `path`, or stdin when `from_stdin`. */
static int read_from(const char *path, int from_stdin, size_t max, char **out, size_t *out_len)
{
    FILE *f = from_stdin ? stdin : fopen(path, "r");
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
        if (f != stdin)
            fclose(f);
        errno = saved;
        return -1;
    }
    if (f != stdin)
        fclose(f);
    buf[len] = '\0';
    *out = buf;
    *out_len = len;
    return 0;
}

int read_file(const char *path, size_t max, char **out, size_t *out_len)
{
    return read_from(path, 0, max, out, out_len);
}

int read_input(const char *path, size_t max, char **out, size_t *out_len)
{
    return read_from(path, strcmp(path, "-") == 0, max, out, out_len);
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

/* ---- times and intervals on the command line ---- */

/* n decimal digits at *s (advanced), or -1. */
static int digits(const char **s, int n)
{
    int v = 0;

    while (n-- > 0) {
        if (**s < '0' || **s > '9')
            return -1;
        v = v * 10 + (*(*s)++ - '0');
    }
    return v;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (no time zone involved). */
static int64_t days_from_civil(int y, int m, int d)
{
    int64_t era, yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int month_days(int y, int m)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

    return m == 2 && leap ? 29 : days[m - 1];
}

/* "+HH:MM", "-HH:MM", "Z": the offset east of UTC in minutes, or -1 after an error. */
static int zone_offset(const char *s, int *minutes)
{
    int sign, h, m;

    if ((s[0] == 'Z' || s[0] == 'z') && s[1] == '\0') {
        *minutes = 0;
        return 0;
    }
    if (s[0] != '+' && s[0] != '-')
        return -1;
    sign = s[0] == '-' ? -1 : 1;
    s++;
    if ((h = digits(&s, 2)) < 0 || *s++ != ':' || (m = digits(&s, 2)) < 0 || *s != '\0' ||
        h > 23 || m > 59)
        return -1;
    *minutes = sign * (h * 60 + m);
    return 0;
}

/* RFC 3339 date-time: YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM). */
static int parse_rfc3339(const char *s, int64_t *ms)
{
    int y, mo, d, h, mi, sec, frac = 0, scale = 100, offset;

    if ((y = digits(&s, 4)) < 0 || *s++ != '-' || (mo = digits(&s, 2)) < 0 || *s++ != '-' ||
        (d = digits(&s, 2)) < 0 || (*s != 'T' && *s != 't' && *s != ' ') || !*s++ ||
        (h = digits(&s, 2)) < 0 || *s++ != ':' || (mi = digits(&s, 2)) < 0 || *s++ != ':' ||
        (sec = digits(&s, 2)) < 0)
        return -1;
    if (mo < 1 || mo > 12 || d < 1 || d > month_days(y, mo) || h > 23 || mi > 59 || sec > 60)
        return -1;
    if (*s == '.') {
        if (*++s < '0' || *s > '9')
            return -1;
        for (; *s >= '0' && *s <= '9'; s++, scale /= 10)
            frac += (*s - '0') * scale;
    }
    if (zone_offset(s, &offset) != 0)
        return -1;
    *ms = ((days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec) - offset * 60) * 1000 +
          frac;
    return 0;
}

/* "90s", "30m", "24h", "7d", "2w" -> milliseconds. */
static int parse_duration_ms(const char *s, int64_t *ms)
{
    unsigned long n;
    int64_t unit;
    char number[24];
    size_t len = strlen(s);

    if (len < 2 || len >= sizeof number)
        return -1;
    switch (s[len - 1]) {
    case 's': unit = 1000; break;
    case 'm': unit = 60000; break;
    case 'h': unit = 3600000; break;
    case 'd': unit = 86400000; break;
    case 'w': unit = 7 * 86400000ll; break;
    default: return -1;
    }
    memcpy(number, s, len - 1);
    number[len - 1] = '\0';
    if (parse_number(number, 100000000ul, &n) != 0)
        return -1;
    *ms = (int64_t)n * unit;
    return 0;
}

int parse_time_arg(const char *s, int64_t now_ms, int64_t *out)
{
    int64_t v;

    if (parse_duration_ms(s, &v) == 0) {
        *out = now_ms - v > 1 ? now_ms - v : 1; /* 0 would mean "no restriction" */
        return 0;
    }
    if (parse_rfc3339(s, &v) != 0 || v < 0)
        return -1;
    *out = v > 0 ? v : 1;
    return 0;
}

int parse_clock_time(const char *s, int *hour, int *minute)
{
    int h, m;

    if ((h = digits(&s, 2)) < 0 || *s++ != ':' || (m = digits(&s, 2)) < 0 || *s != '\0' ||
        h > 23 || m > 59)
        return -1;
    *hour = h;
    *minute = m;
    return 0;
}

int parse_interval_minutes(const char *s, unsigned long *minutes)
{
    int64_t ms;

    if (s[0] != '\0' && s[strlen(s) - 1] != 's' && s[strlen(s) - 1] != 'w' &&
        parse_duration_ms(s, &ms) == 0 && ms >= 60000 && ms <= (int64_t)MAX_EVERY_MINUTES * 60000) {
        *minutes = (unsigned long)(ms / 60000);
        return 0;
    }
    return -1;
}

int parse_task_state(const char *s)
{
    int state;

    if (strcmp(s, "partial") == 0 || strcmp(s, "partially-succeeded") == 0 ||
        strcmp(s, "partially_succeeded") == 0)
        return IMGSYNC_TASK_PARTIAL;
    for (state = IMGSYNC_TASK_QUEUED; state <= IMGSYNC_TASK_SKIPPED; state++)
        if (strcmp(s, imgsync_task_state_name(state)) == 0)
            return state;
    return -1;
}

char *iso_time(int64_t ms)
{
    time_t secs = (time_t)(ms / 1000);
    struct tm tm;
    char buf[32];

    if (ms <= 0 || gmtime_r(&secs, &tm) == NULL ||
        strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        return format("-");
    return format("%s", buf);
}
