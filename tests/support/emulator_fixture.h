/*
 * Helpers for integration tests against the API emulators under tests/emulators/ (Harbor, SWR,
 * ...): starting and stopping an emulator, its HTTP control endpoints (/_emulator/reset, faults,
 * stats, config), probes and request statistics. What each vendor's rows look like stays in that
 * vendor's fixture (harbor_fixture.h) or test.
 *
 * Conventions:
 *  - functions return 0 on success and -1 on failure, after printing the reason on stderr;
 *  - no message contains a credential;
 *  - an emulator script is given relative to the current directory (the repository root when
 *    the tests run from `make`);
 *  - the emulator is a child process (fork/exec, python3) started with --port 0 and
 *    --max-seconds 300; it is stopped with SIGTERM by ef_stop(), and also when the process that
 *    started it exits (atexit), dies on SIGINT/SIGTERM/SIGHUP, or is killed (PR_SET_PDEATHSIG).
 *    Forked Check test children never stop it: the emulator belongs to the process that started
 *    it (use unchecked fixtures).
 */
#ifndef IMGSYNC_TESTS_EMULATOR_FIXTURE_H
#define IMGSYNC_TESTS_EMULATOR_FIXTURE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <yajl/yajl_tree.h>

/* Print "emulator_fixture: <message>" on stderr (for fixtures built on this one). */
void ef_error(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;

/* ---- an emulator ------------------------------------------------------------------------------- */

typedef struct ef_emulator {
    int pid;             /* of the python3 process, 0 when not running */
    int port;            /* 0 while not started */
    char url[64];        /* "http://127.0.0.1:PORT" */
    char host[48];       /* "127.0.0.1:PORT" (what imgsync_image_host() reports) */
    char *dataset_copy;  /* temporary merged dataset (ef_start with an overlay), removed by ef_stop */
} ef_emulator;

/*
 * Start the emulator `script` (e.g. "tests/emulators/swr_emulator.py"): `dataset` (a file, or NULL), `generate` (a --generate SPEC, or NULL; at least
 * one of the two), `overlay` (NULL, or a JSON object merged into the dataset first: list members
 * are appended to the dataset's lists, other members replace them; e.g. extra robots), and
 * `extra_args` (NULL-terminated further options such as "--api-version-404", or NULL).
 * Waits until the emulator printed its port (it listens by then). 0, or -1 (*e is then reset).
 */
int ef_start(ef_emulator *e, const char *script, const char *dataset, const char *generate, const char *overlay,
             const char *const *extra_args);
/* Stop it with SIGTERM (SIGKILL after 5 s) and reap it; remove the merged dataset. Idempotent;
 * safe on a zeroed emulator. 0, or -1. */
int ef_stop(ef_emulator *e);

/* ---- HTTP -------------------------------------------------------------------------------------- */

/*
 * One request to the emulator: `method` "GET"/"POST"/"DELETE", `target` a path with an optional
 * query, `json` a request body (POST) or NULL, Basic credentials `user`/`password` or NULLs,
 * `header` one extra header line or NULL. *status gets the HTTP status; *body (when non-NULL) a
 * malloc'd NUL-terminated body. 0 when a response arrived (any status), -1 otherwise.
 */
int ef_http(const ef_emulator *e, const char *method, const char *target, const char *json,
            const char *user, const char *password, const char *header, long *status, char **body);

/* Control endpoints; each expects 200 (else prints the answer and returns -1). */
int ef_control(const ef_emulator *e, const char *method, const char *path, const char *json, char **body);
int ef_reset(const ef_emulator *e);                   /* POST /_emulator/reset: dataset, faults, stats, config */
int ef_faults_add(const ef_emulator *e, const char *json); /* POST /_emulator/faults: rule | [rules] */
int ef_faults_clear(const ef_emulator *e);            /* DELETE /_emulator/faults */
int ef_config(const ef_emulator *e, const char *json);/* POST /_emulator/config */
int ef_stats_reset(const ef_emulator *e);             /* POST /_emulator/stats/reset */

/*
 * A probe: a "slow" fault rule with delay 0 that never expires, so it changes nothing but counts
 * the requests whose target (path?query) matches the regex `pattern`. Add probes before other
 * fault rules (a terminal rule earlier in the list would hide requests from them).
 */
int ef_probe(const ef_emulator *e, const char *pattern);
/* "seen" of the first fault rule whose pattern is exactly `pattern`, or -1 (error or none). */
long ef_rule_seen(const ef_emulator *e, const char *pattern);
/* "fired" of that rule, or -1. */
long ef_rule_fired(const ef_emulator *e, const char *pattern);

/* ---- request statistics (GET /_emulator/stats: counts per raw path, query excluded) --------------- */

typedef struct ef_stats {
    long total;
    size_t n;
    char **paths;
    long *counts;
} ef_stats;

int ef_stats_get(const ef_emulator *e, ef_stats *out);
/* Requests of exactly `path` (raw, e.g. "/api/v2.0/projects"). */
long ef_stats_path(const ef_stats *s, const char *path);
/* Requests of paths starting with `prefix` and (when non-NULL) containing `infix` / ending with
 * `suffix`. */
long ef_stats_sum(const ef_stats *s, const char *prefix, const char *infix, const char *suffix);
void ef_stats_print(const ef_stats *s, FILE *f);
void ef_stats_free(ef_stats *s);

/* A number of GET /_emulator/stats: stats[key] or stats[key][sub] (sub may be NULL), 0 when it is
 * absent or not an integer, -1 when the stats cannot be read. */
long ef_stats_number(const ef_emulator *e, const char *key, const char *sub);
/* Requests of exactly `path` so far (stats), or -1. */
long ef_requests_of(const ef_emulator *e, const char *path);
/* Secrets the emulator saw where they do not belong (the length of stats "leaks"); -2 when the
 * emulator does not check (no "leaks"), -1 on error. */
long ef_leaks(const ef_emulator *e);

/* ---- row sets as text lines (one line per inventory row, its fields joined) ------------------ */

typedef struct ef_lines {
    char **v;
    size_t n;
} ef_lines;

/* Append `line` (malloc'd, taken; NULL counts as out of memory). 0, or -1. */
int ef_lines_add(ef_lines *l, char *line);
/* Sort both sets and compare them; prints the number of lines of each and the first difference
 * on stderr (prefixed with label) when they differ. Returns 0 when equal, else 1. */
int ef_lines_diff(ef_lines *want, ef_lines *got, const char *label);
void ef_lines_free(ef_lines *l);

/* ---- JSON (yajl trees) ----------------------------------------------------------------------------- */

/* Parse text; NULL after printing "<what>: not JSON: ..." on stderr. */
yajl_val ef_parse_json(const char *text, const char *what);
/* obj[key] when obj is an object holding a value of `type` (yajl_t_any: any), else NULL. */
yajl_val ef_member(yajl_val obj, const char *key, yajl_type type);
/* The string of a yajl string value; "" for anything else (NULL included). */
const char *ef_str(yajl_val v);

/* ---- small utilities ------------------------------------------------------------------------------- */

/* "2024-03-05T10:00:03.000Z" (RFC 3339, UTC or offset) -> ms since the epoch. 0, or -1. */
int ef_parse_time_ms(const char *s, int64_t *ms);
/* mkstemp() of "$TMPDIR/imgsync-ef-<label>-XXXXXX" holding `text`; malloc'd path, or NULL. */
char *ef_temp_file(const char *label, const char *text);
/* Whole file as a NUL-terminated malloc'd string (its length in *len when len is not NULL),
 * or NULL. */
char *ef_read_file(const char *path, size_t *len);

#endif
