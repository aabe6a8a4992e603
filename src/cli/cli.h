/*
 * imgsync - the command-line program of libimgsync: what its files share (internal).
 *
 *   main.c         help, dispatch                     options.c   the command line, per command
 *   commands.c     sync, check, driving the task      store.c     --db, the optional --config
 *   inventory.c    images, changes (streamed)         tasks.c     tasks, task ID, task JSON
 *   schedule.c     schedule add / list / rm           daemon.c    the worker, signals, task log
 *   config.c       loading + validating the JSON      registries.c  settings and providers
 *   credentials.c  password_env / password_file        request.c   the selection options
 *   output.c       inventory table / json / ndjson    status.c    task status and failure
 *   table.c        streamed tables                    json.c      JSON helpers (yajl)
 *   messages.c     every line for stderr, sanitized   util.c      lists, files, clocks, times
 *
 * It links only the public API (<imgsync.h>) and yajl.
 */
#ifndef IMGSYNC_CLI_H
#define IMGSYNC_CLI_H

#include <imgsync.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Exit statuses (documented in --help and the README); a sync stopped by signal N exits 128 + N,
 * as a shell reports a process killed by it. */
#define EXIT_OK 0
#define EXIT_FAIL 1
#define EXIT_USAGE 2
#define EXIT_PARTIAL 3

#if defined(__GNUC__)
#define PRINTF_LIKE(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define PRINTF_LIKE(fmt, args)
#endif

/* ---- util.c ---- */

typedef struct strlist {
    const char **items; /* borrowed strings (argv or the config tree) */
    size_t len, cap;
} strlist;

int strlist_add(strlist *l, const char *s);
int strlist_has(const strlist *l, const char *s);
void strlist_free(strlist *l);

/* Overwrite memory that held a secret (stores not optimized away). */
void wipe(char *s, size_t n);
/* Decimal number without sign, <= max: 0, or -1. */
int parse_number(const char *s, unsigned long max, unsigned long *out);
/* Read a whole file (NUL-terminated), wiping growing copies: 0, or -1 with errno
 * (EFBIG). */
int read_file(const char *path, size_t max, char **out, size_t *out_len);
/* read_file, but "-" is stdin (--config -, --password-stdin); a file named "-" is "./-". */
int read_input(const char *path, size_t max, char **out, size_t *out_len);
int64_t monotonic_ms(void);
int64_t wall_ms(void);
/* printf into a new buffer; NULL when out of memory. */
char *vformat(const char *fmt, va_list ap);
char *format(const char *fmt, ...) PRINTF_LIKE(1, 2);
/* "2026-12-01T10:00:00Z" (UTC), or "-" for 0; NULL when out of memory. */
char *iso_time(int64_t ms);

/* Command-line values: 0, or -1 when malformed. */
#define MAX_EVERY_MINUTES 44640u /* 31 days, the library's limit */
/* RFC 3339 date-time, or a duration ago ("30m", "24h", "7d"): ms since the epoch (> 0). */
int parse_time_arg(const char *s, int64_t now_ms, int64_t *out);
/* Strict "HH:MM", 00:00..23:59. */
int parse_clock_time(const char *s, int *hour, int *minute);
/* "N" followed by m, h or d: 1 minute .. 31 days. */
int parse_interval_minutes(const char *s, unsigned long *minutes);
/* A task state name as imgsync_task_state_name() gives it ("partial" too), or -1. */
int parse_task_state(const char *s);

/* ---- messages.c ---- */

/*
 * Make text safe for a terminal, in place: C0 controls, DEL, C1 controls (U+0080..U+009F,
 * which terminals obey like ESC sequences) and each byte of invalid UTF-8 become '?'.
 * keep_c0 leaves C0 and DEL alone (for JSON, where yajl escapes them). The string can only
 * get shorter. Returns s.
 */
char *sanitize_text(char *s, int keep_c0);
/* 1 when sanitize_text(s, keep_c0) would change nothing. */
int text_is_clean(const char *s, int keep_c0);

/* Lines for stderr (or stdout): sanitized, starting on a clean line after a progress line. */
void emit(FILE *f, const char *fmt, ...) PRINTF_LIKE(2, 3);
void errorf(const char *fmt, ...) PRINTF_LIKE(1, 2);
void warnf(const char *fmt, ...) PRINTF_LIKE(1, 2);
/* The daemon's log: "2026-12-03T01:00:00Z imgsync: ..." on stderr (no time under systemd's
 * journal, which has its own). */
void log_line(const char *fmt, ...) PRINTF_LIKE(1, 2);
/* The library's log callback (-v, --debug): "2026-12-03T01:00:00.123Z debug: GET ..." on stderr,
 * the level coloured on a terminal, plain text otherwise. */
void log_to_stderr(imgsync_ctx *ctx, int level, const char *message, void *payload);
/* errorf + "Try 'imgsync --help'." */
void usage_error(const char *fmt, ...) PRINTF_LIKE(1, 2);
/* "imgsync: WHAT: <strerror(rc)>: <ctx errmsg>" */
void lib_error(const imgsync_ctx *ctx, int rc, const char *fmt, ...) PRINTF_LIKE(3, 4);
/* The \r-updated progress line on stderr (only drawn when it changed); clear_progress ends it. */
void show_progress_line(const char *line);
void clear_progress(void);

#endif
