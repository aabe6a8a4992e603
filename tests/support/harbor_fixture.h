/*
 * Helpers for integration tests of the "harbor" provider against the Harbor emulator
 * (tests/emulators/harbor_emulator.py): starting and stopping an emulator, its control endpoints
 * (faults, pushes, stats, config, reset), the expected inventory it publishes and a comparison of
 * a context's inventory with it.
 *
 * Conventions:
 *  - functions return 0 on success and -1 on failure, after printing the reason on stderr;
 *  - passwords are never printed: the fixture's own Harbor requests (tag push times) use the
 *    dataset's admin account and no message contains a credential;
 *  - the emulator script is tests/emulators/harbor_emulator.py relative to the current directory
 *    (the repository root when the tests run from `make`), or $IMGSYNC_HARBOR_EMULATOR;
 *  - the emulator is a child process (fork/exec, python3) started with --port 0 and
 *    --max-seconds 300; it is stopped with SIGTERM by hf_stop(), and also when the process that
 *    started it exits (atexit), dies on SIGINT/SIGTERM/SIGHUP, or is killed (PR_SET_PDEATHSIG).
 *    Forked Check test children never stop it: the emulator belongs to the process that started
 *    it (use unchecked fixtures).
 */
#ifndef IMGSYNC_TESTS_HARBOR_FIXTURE_H
#define IMGSYNC_TESTS_HARBOR_FIXTURE_H

#include "secrets.h" /* ts_random_secret, ts_mask */
#include <imgsync.h>

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* The sysadmin account of the sample dataset and of --generate (used for tag push times). */
#define HF_ADMIN_USER "admin"
#define HF_ADMIN_PASSWORD "Harbor12345"

/* ---- an emulator ------------------------------------------------------------------------------- */

typedef struct hf_emulator {
    int pid;             /* of the python3 process, 0 when not running */
    int port;            /* 0 while not started */
    char url[64];        /* "http://127.0.0.1:PORT" */
    char host[48];       /* "127.0.0.1:PORT" (what imgsync_image_host() reports) */
    char *dataset_copy;  /* temporary merged dataset (hf_start with an overlay), removed by hf_stop */
} hf_emulator;

/*
 * Start an emulator: `dataset` (a file, or NULL), `generate` (a --generate SPEC, or NULL; at least
 * one of the two), `overlay` (NULL, or a JSON object merged into the dataset first: list members
 * are appended to the dataset's lists, other members replace them; e.g. extra robots), and
 * `extra_args` (NULL-terminated further options such as "--api-version-404", or NULL).
 * Waits until the emulator printed its port (it listens by then). 0, or -1 (*e is then reset).
 */
int hf_start(hf_emulator *e, const char *dataset, const char *generate, const char *overlay,
             const char *const *extra_args);
/* Stop it with SIGTERM (SIGKILL after 5 s) and reap it; remove the merged dataset. Idempotent;
 * safe on a zeroed emulator. 0, or -1. */
int hf_stop(hf_emulator *e);

/* ---- HTTP -------------------------------------------------------------------------------------- */

/*
 * One request to the emulator: `method` "GET"/"POST"/"DELETE", `target` a path with an optional
 * query, `json` a request body (POST) or NULL, Basic credentials `user`/`password` or NULLs,
 * `header` one extra header line or NULL. *status gets the HTTP status; *body (when non-NULL) a
 * malloc'd NUL-terminated body. 0 when a response arrived (any status), -1 otherwise.
 */
int hf_http(const hf_emulator *e, const char *method, const char *target, const char *json,
            const char *user, const char *password, const char *header, long *status, char **body);

/* Control endpoints; each expects 200 (else prints the answer and returns -1). */
int hf_control(const hf_emulator *e, const char *method, const char *path, const char *json, char **body);
int hf_reset(const hf_emulator *e);                   /* POST /_emulator/reset: dataset, faults, stats, config */
int hf_faults_add(const hf_emulator *e, const char *json); /* POST /_emulator/faults: rule | [rules] */
int hf_faults_clear(const hf_emulator *e);            /* DELETE /_emulator/faults */
int hf_push(const hf_emulator *e, const char *json);  /* POST /_emulator/push */
int hf_config(const hf_emulator *e, const char *json);/* POST /_emulator/config */
int hf_stats_reset(const hf_emulator *e);             /* POST /_emulator/stats/reset */

/*
 * A probe: a "slow" fault rule with delay 0 that never expires, so it changes nothing but counts
 * the requests whose target (path?query) matches the regex `pattern`. Add probes before other
 * fault rules (a terminal rule earlier in the list would hide requests from them).
 */
int hf_probe(const hf_emulator *e, const char *pattern);
/* "seen" of the first fault rule whose pattern is exactly `pattern`, or -1 (error or none). */
long hf_rule_seen(const hf_emulator *e, const char *pattern);
/* "fired" of that rule, or -1. */
long hf_rule_fired(const hf_emulator *e, const char *pattern);

/* ---- request statistics (GET /_emulator/stats: counts per raw path, query excluded) --------------- */

typedef struct hf_stats {
    long total;
    size_t n;
    char **paths;
    long *counts;
} hf_stats;

int hf_stats_get(const hf_emulator *e, hf_stats *out);
/* Requests of exactly `path` (raw, e.g. "/api/v2.0/projects"). */
long hf_stats_path(const hf_stats *s, const char *path);
/* Requests of paths starting with `prefix` and (when non-NULL) containing `infix` / ending with
 * `suffix`. */
long hf_stats_sum(const hf_stats *s, const char *prefix, const char *infix, const char *suffix);
void hf_stats_print(const hf_stats *s, FILE *f);
void hf_stats_free(hf_stats *s);

/* ---- inventory rows ------------------------------------------------------------------------------ */

typedef struct hf_row {
    char *repository; /* full name "project/a/b" */
    char *tag;
    char *namespace_; /* the project */
    char *digest;
    char *media_type; /* the artifact's manifest media type */
    char *artifact_type; /* Harbor's artifact type: "IMAGE", "CHART" ... */
    int64_t size;
    int64_t update_ms; /* the tag's push_time */
    int multi_arch;
} hf_row;

typedef struct hf_rows {
    hf_row *v;
    size_t n;
} hf_rows;

/*
 * The expected inventory of an admin sync with default options: one row per tag of every artifact
 * of GET /_emulator/inventory that Harbor's default artifact list shows ("listed") and whose type
 * is IMAGE (untagged artifacts give no row); multi_arch for an OCI index / Docker manifest list.
 * The tags' push times come from Harbor's project artifact list, read as admin: these requests
 * appear in the emulator's stats and pass through its fault rules, so read stats and clear faults
 * first. 0, or -1.
 */
int hf_expected(const hf_emulator *e, hf_rows *out);
/* Same, widened by `flags`: HF_NON_IMAGES also lists artifacts of other types (CHART, WASM ...,
 * as imgsync_request_set_include_non_images asks), HF_UNTAGGED adds one row with tag "" per
 * untagged listed artifact (the provider option include_untagged=true), its update time the
 * artifact's push_time. */
enum { HF_NON_IMAGES = 1, HF_UNTAGGED = 2 };
int hf_expected_ex(const hf_emulator *e, hf_rows *out, unsigned flags);

int hf_rows_add(hf_rows *rows, const char *repository, const char *tag, const char *namespace_,
                const char *digest, const char *media_type, const char *artifact_type, int64_t size,
                int64_t update_ms, int multi_arch);
/* Append (deep copies of) the rows of `src` that `keep` accepts (NULL: all) to *dst. 0, or -1. */
int hf_rows_append(hf_rows *dst, const hf_rows *src, int (*keep)(const hf_row *row, void *arg), void *arg);
/* *out = the rows of `in` that `keep` accepts. 0, or -1. */
int hf_rows_filter(hf_rows *out, const hf_rows *in, int (*keep)(const hf_row *row, void *arg), void *arg);
/* First row of (repository, tag), or NULL. */
const hf_row *hf_rows_find(const hf_rows *rows, const char *repository, const char *tag);
size_t hf_rows_count_repository(const hf_rows *rows, const char *repository);
size_t hf_rows_count_namespace(const hf_rows *rows, const char *namespace_);
size_t hf_rows_count_repositories(const hf_rows *rows);
void hf_rows_free(hf_rows *rows);

/* Predicates for hf_rows_filter / hf_rows_append. `arg` is a NULL-terminated array of project
 * names (const char *const *) for the namespace ones, a repository name (const char *) for the
 * repository ones. */
int hf_in_namespaces(const hf_row *row, void *arg);
int hf_not_in_namespaces(const hf_row *row, void *arg);
int hf_in_repository(const hf_row *row, void *arg);
int hf_not_in_repository(const hf_row *row, void *arg);

/* Rows of `provider` in ctx (no checks). 0, or -1. */
int hf_rows_from_ctx(hf_rows *out, imgsync_ctx *ctx, const char *provider);

/*
 * Compare two row sets by (repository, tag) (and digest for untagged rows, tag ""): each key at most once, equal namespace, digest,
 * size, media type, multi-arch flag and update time. Prints every difference on stderr prefixed
 * with `label`; returns the number of differences.
 */
size_t hf_rows_diff(const hf_rows *expected, const hf_rows *actual, const char *label);

/*
 * Read the inventory of `provider` from ctx (imgsync_iter_new() restricted to it) and compare it
 * with `expected` as hf_rows_diff() does; also checks every row: iteration order (repository,
 * tag), registry == provider, registry_type "Harbor", image_type "harbor", host == `host` (unless
 * NULL), sync time > 0. Returns the number of differences (0 = equal).
 */
size_t hf_compare_inventory(imgsync_ctx *ctx, const char *provider, const char *host, const hf_rows *expected);

/* ---- small utilities ------------------------------------------------------------------------------- */

/* "2024-03-05T10:00:03.000Z" (RFC 3339, UTC or offset) -> ms since the epoch. 0, or -1. */
int hf_parse_time_ms(const char *s, int64_t *ms);
/* mkstemp() of "$TMPDIR/imgsync-hf-<label>-XXXXXX" holding `text`; malloc'd path, or NULL. */
char *hf_temp_file(const char *label, const char *text);
/* Whole file as a NUL-terminated malloc'd string, or NULL. */
char *hf_read_file(const char *path);

#endif
