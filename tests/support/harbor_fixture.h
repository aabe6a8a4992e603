/*
 * Helpers for integration tests of the "harbor" provider against the Harbor emulator
 * (tests/emulators/harbor_emulator.py), on top of emulator_fixture.h (processes, control
 * endpoints, stats): pushes, the expected inventory the emulator publishes and a comparison of a
 * context's inventory with it.
 *
 * Functions return 0 on success and -1 on failure, after printing the reason on stderr.
 * Passwords are never printed: the fixture's own Harbor requests (tag push times) use the
 * dataset's admin account and no message contains a credential.
 */
#ifndef IMGSYNC_TESTS_HARBOR_FIXTURE_H
#define IMGSYNC_TESTS_HARBOR_FIXTURE_H

#include "emulator_fixture.h"
#include "secrets.h" /* ts_random_secret, ts_mask */
#include <imgsync.h>

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* The sysadmin account of the sample dataset and of --generate (used for tag push times). */
#define HF_ADMIN_USER "admin"
#define HF_ADMIN_PASSWORD "Harbor12345"

/* ---- a Harbor emulator -------------------------------------------------------------------------- */

/*
 * Start tests/emulators/harbor_emulator.py (or $IMGSYNC_HARBOR_EMULATOR) as ef_start() does, e.g.
 * with extra_args {"--api-version-404", NULL}. 0, or -1.
 */
int hf_start(ef_emulator *e, const char *dataset, const char *generate, const char *overlay,
             const char *const *extra_args);
int hf_push(const ef_emulator *e, const char *json); /* POST /_emulator/push */

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
int hf_expected(const ef_emulator *e, hf_rows *out);
/* Same, widened by `flags`: HF_NON_IMAGES also lists artifacts of other types (CHART, WASM ...,
 * as imgsync_request_set_include_non_images asks), HF_UNTAGGED adds one row with tag "" per
 * untagged listed artifact (the provider option include_untagged=true), its update time the
 * artifact's push_time. */
enum { HF_NON_IMAGES = 1, HF_UNTAGGED = 2 };
int hf_expected_ex(const ef_emulator *e, hf_rows *out, unsigned flags);

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

#endif
