/*
 * Helpers for integration tests against a real docker-registry (tests/registry/registry.py):
 * temporary directories, starting / seeding / stopping a registry, loading the expected
 * inventory the harness writes, and comparing a context's inventory with it.
 *
 * Conventions:
 *  - functions return 0 on success and -1 on failure, after printing the reason on stderr;
 *  - passwords are never printed: they reach registry.py through an environment variable
 *    (--password-env) or, for `start --htpasswd`, only in its argument vector;
 *  - the harness script is tests/registry/registry.py relative to the current directory (the
 *    repository root when the tests run from `make`), or $IMGSYNC_REGISTRY_PY;
 *  - should a test forget rf_registry_destroy() or die on SIGINT/SIGTERM/SIGHUP, the process
 *    that started a registry stops it and removes its directory at exit (atexit / the signal);
 *    SIGINT is ignored while system() runs, as POSIX wants.
 */
#ifndef IMGSYNC_TESTS_REGISTRY_FIXTURE_H
#define IMGSYNC_TESTS_REGISTRY_FIXTURE_H

#include "secrets.h" /* ts_random_secret, ts_mask */
#include <imgsync.h>

#include <stddef.h>
#include <stdint.h>

/* ---- temporary directories ----------------------------------------------------------------- */

/* mkdtemp() of "$TMPDIR/imgsync-it-<label>-XXXXXX" (TMPDIR defaults to /tmp). Returns a malloc'd
 * path, or NULL. */
char *rf_tempdir(const char *label);
/* Remove a directory tree (no symlink is followed). 0, or -1. Accepts NULL (0). */
int rf_rmtree(const char *path);

/* ---- a registry ------------------------------------------------------------------------------- */

typedef struct rf_registry {
    char *dir;             /* temporary directory holding config, data, logs and expected files */
    int port;              /* 0 while not started */
    int pid;               /* of docker-registry, from DIR/registry.pid (0 when unknown) */
    char url[64];          /* "http://127.0.0.1:PORT" */
    char host[48];         /* "127.0.0.1:PORT" (what imgsync_image_host() reports) */
    char user[64];         /* htpasswd user, "" without authentication */
    char password_env[64]; /* name of the environment variable holding the password, or "" */
    int running;
} rf_registry;

/*
 * Make a temporary directory and start a registry in it. With `user` non-NULL the registry
 * requires Basic authentication (htpasswd) for `user` with the password held by the environment
 * variable `password_env` (it must be set). 0, or -1 (r->dir may still need rf_registry_destroy).
 */
int rf_registry_start(rf_registry *r, const char *label, const char *user, const char *password_env);
/* Seed stage "initial" or "update" and write the expected inventory to `out_path`. */
int rf_registry_seed(rf_registry *r, const char *stage, const char *out_path);
/* Stop the registry (idempotent; waits until the process is gone). 0, or -1. */
int rf_registry_stop(rf_registry *r);
/* Stop it, remove its directory and reset *r. Safe on a zeroed or half-started registry. */
void rf_registry_destroy(rf_registry *r);
/* "DIR/NAME" in a static buffer overwritten by the next call. */
const char *rf_registry_path(const rf_registry *r, const char *name);

/* ---- inventory rows --------------------------------------------------------------------------- */

typedef struct rf_row {
    char *repository;
    char *tag;
    char *digest;     /* "" when not resolved */
    char *media_type; /* "" when not resolved */
    int64_t size;     /* -1 when not resolved */
    int multi_arch;
} rf_row;

typedef struct rf_rows {
    rf_row *v;
    size_t n;
} rf_rows;

/* Fields compared by rf_rows_diff() besides the (repository, tag) key. */
enum {
    RF_DIGEST = 1,
    RF_SIZE = 2,
    RF_MEDIA_TYPE = 4,
    RF_MULTI_ARCH = 8,
    RF_ALL = RF_DIGEST | RF_SIZE | RF_MEDIA_TYPE | RF_MULTI_ARCH
};

/* Load the expected inventory JSON written by `registry.py seed` (yajl). 0, or -1. */
int rf_rows_load(rf_rows *out, const char *path);
/* Append one row (strings copied). 0, or -1 when out of memory. */
int rf_rows_add(rf_rows *rows, const char *repository, const char *tag, const char *digest,
                const char *media_type, int64_t size, int multi_arch);
/* Deep copy of the rows `keep` accepts (keep NULL: all). 0, or -1. */
int rf_rows_filter(rf_rows *out, const rf_rows *in, int (*keep)(const rf_row *row, void *arg),
                   void *arg);
/* Row of (repository, tag), or NULL. */
const rf_row *rf_rows_find(const rf_rows *rows, const char *repository, const char *tag);
/* Rows of one repository. */
size_t rf_rows_count_repository(const rf_rows *rows, const char *repository);
/* Number of distinct repositories. */
size_t rf_rows_count_repositories(const rf_rows *rows);
void rf_rows_free(rf_rows *rows);

/*
 * Compare two row sets: same (repository, tag) keys, each at most once, and equal `fields`.
 * Prints every difference on stderr, prefixed with `label`. Returns the number of differences.
 */
size_t rf_rows_diff(const rf_rows *expected, const rf_rows *actual, unsigned fields,
                    const char *label);

/*
 * Read the inventory rows of `provider` from ctx (imgsync_iter_new() restricted to the provider,
 * then the getters) and compare them with `expected` as rf_rows_diff() does. Also checks, and
 * reports as differences, what must hold for every row of a synced OCI registry: the iteration
 * order (repository, tag), registry == provider, registry_type "Oci", image_type "oci",
 * namespace (first path segment, "" for single-segment names), host == `host` (unless NULL) and
 * a sync time > 0. Returns the number of differences (0 = equal); an iterator failure counts 1.
 */
size_t rf_compare_inventory(imgsync_ctx *ctx, const char *provider, const char *host,
                            const rf_rows *expected, unsigned fields);

/* Rows of `provider` in the inventory of ctx (no checks). 0, or -1. */
int rf_rows_from_ctx(rf_rows *out, imgsync_ctx *ctx, const char *provider);

/* ---- small utilities ---------------------------------------------------------------------------- */

/* Free port on 127.0.0.1 with nothing listening on it (bound then closed), or -1. */
int rf_closed_port(void);
/* Whole file as a NUL-terminated malloc'd string (NULL on error); *len may be NULL. */
char *rf_read_file(const char *path, size_t *len);
/* Write a string to a file (mode 0600). 0, or -1. */
int rf_write_file(const char *path, const char *text);
/* Run `sh -c command`; the exit status (0..255), or -1 when it did not exit normally. */
int rf_run(const char *command);
/* Shell single-quoted copy of s (malloc'd), or NULL. */
char *rf_shell_quote(const char *s);

#endif
