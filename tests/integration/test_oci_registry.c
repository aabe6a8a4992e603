/*
 * Integration tests of the "oci" provider against a real docker-registry (Debian package
 * docker-registry, CNCF distribution 2.8) started and seeded by tests/registry/registry.py.
 *
 * Each TCase that needs a registry starts its own once (unchecked fixture) in a temporary
 * directory, seeds stage "initial" (35 tags in 5 repositories) and stops it in the teardown.
 * Run from the repository root (as `make` does): ./build/tests/test_oci_registry
 */
#include <check.h>

#include <yajl/yajl_tree.h>

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "imgsync.h"
#include "support/registry_fixture.h"

Suite *oci_registry_suite(void);

#define PROVIDER "local"
#define AUTH_USER "imgsync"
#define PASSWORD_ENV "IMGSYNC_IT_PASSWORD"
#define CLI_PASSWORD_ENV "IMGSYNC_IT_CLI_PASSWORD"
#define WAIT_MS 30000
#define TCASE_TIMEOUT 60
#define INITIAL_ROWS 35
#define INITIAL_REPOS 5

/* ---- fixtures: one real registry per TCase ------------------------------------------------ */

typedef struct reg_case {
    const char *label;
    int auth;
    rf_registry reg;
    rf_rows initial; /* expected inventory of stage "initial" */
    char *password;  /* auth only; also in $IMGSYNC_IT_PASSWORD */
    int ok;
} reg_case;

static reg_case rc_update = {"update", 0, {0}, {0}, NULL, 0};
static reg_case rc_requests = {"requests", 0, {0}, {0}, NULL, 0};
static reg_case rc_auth = {"auth", 1, {0}, {0}, NULL, 0};
static reg_case rc_gone = {"gone", 0, {0}, {0}, NULL, 0};

static void note_secret(const char *secret);
static void forget_secret(const char *secret);
static char *mask_all(const char *text, const char *secret);

static void case_setup(reg_case *c)
{
    char path[4096];

    c->ok = 0;
    if (c->auth) {
        if ((c->password = ts_random_secret("It-Pw-")) == NULL ||
            setenv(PASSWORD_ENV, c->password, 1) != 0) {
            fprintf(stderr, "%s: cannot make a password\n", c->label);
            return;
        }
        note_secret(c->password);
    }
    if (rf_registry_start(&c->reg, c->label, c->auth ? AUTH_USER : NULL, c->auth ? PASSWORD_ENV : NULL))
        return;
    snprintf(path, sizeof path, "%s", rf_registry_path(&c->reg, "initial.json"));
    if (rf_registry_seed(&c->reg, "initial", path) != 0 || rf_rows_load(&c->initial, path) != 0)
        return;
    if (c->initial.n != INITIAL_ROWS || rf_rows_count_repositories(&c->initial) != INITIAL_REPOS) {
        fprintf(stderr, "%s: the harness wrote %zu rows in %zu repositories, expected %d in %d\n", c->label,
                c->initial.n, rf_rows_count_repositories(&c->initial), INITIAL_ROWS, INITIAL_REPOS);
        return;
    }
    c->ok = 1;
}

static void case_teardown(reg_case *c)
{
    rf_rows_free(&c->initial);
    rf_registry_destroy(&c->reg);
    if (c->password != NULL) {
        forget_secret(c->password);
        memset(c->password, 0, strlen(c->password));
        free(c->password);
        c->password = NULL;
        unsetenv(PASSWORD_ENV);
    }
    c->ok = 0;
}

static void update_setup(void) { case_setup(&rc_update); }
static void update_teardown(void) { case_teardown(&rc_update); }
static void requests_setup(void) { case_setup(&rc_requests); }
static void requests_teardown(void) { case_teardown(&rc_requests); }
static void auth_setup(void) { case_setup(&rc_auth); }
static void auth_teardown(void) { case_teardown(&rc_auth); }
static void gone_setup(void) { case_setup(&rc_gone); }
static void gone_teardown(void) { case_teardown(&rc_gone); }

#define REQUIRE(c) \
    ck_assert_msg((c).ok, "the registry fixture '%s' failed to start or seed (see stderr)", (c).label)

/* ---- helpers ------------------------------------------------------------------------------------ */

#define COUNTER(t, name) imgsync_task_counter((t), IMGSYNC_COUNT_##name)

static int64_t mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

    nanosleep(&ts, NULL);
}

static int contains(const char *haystack, const char *needle)
{
    return haystack != NULL && needle != NULL && *needle && strstr(haystack, needle) != NULL;
}

static int contains_nocase(const char *haystack, const char *needle)
{
    size_t n = strlen(needle);

    for (; haystack && *haystack; haystack++) {
        size_t i;
        for (i = 0; i < n && haystack[i] &&
                    tolower((unsigned char)haystack[i]) == tolower((unsigned char)needle[i]);
             i++)
            ;
        if (i == n)
            return 1;
    }
    return 0;
}

static imgsync_ctx *new_ctx(void)
{
    imgsync_ctx *ctx = NULL;

    ck_assert_int_eq(imgsync_ctx_new(&ctx, NULL), 0);
    ck_assert_ptr_nonnull(ctx);
    return ctx;
}

static void ctx_set(imgsync_ctx *ctx, const char *key, const char *value)
{
    int rc = imgsync_ctx_set(ctx, key, value);

    ck_assert_msg(rc == 0, "imgsync_ctx_set(%s, %s) = %d: %s", key, value, rc, imgsync_ctx_errmsg(ctx));
}

static void prov_set(imgsync_ctx *ctx, imgsync_provider *p, const char *key, const char *value)
{
    int rc = imgsync_provider_set(p, key, value);
    char *detail;

    if (rc == 0)
        return;
    /* the value is not printed, and neither is any secret in the detail: it may be a password */
    detail = mask_all(imgsync_ctx_errmsg(ctx), value);
    fprintf(stderr, "imgsync_provider_set(%s) = %d: %s\n", key, rc, detail ? detail : "");
    free(detail);
    ck_abort_msg("imgsync_provider_set(%s) failed with %d (detail on stderr)", key, rc);
}

/* An "oci" provider `name` at `endpoint`, with credentials when user is non-NULL. */
static imgsync_provider *add_provider(imgsync_ctx *ctx, const char *name, const char *endpoint,
                                      const char *user, const char *password)
{
    imgsync_provider *p = NULL;
    int rc = imgsync_provider_new(&p, ctx, "oci", name);

    ck_assert_msg(rc == 0, "imgsync_provider_new(%s) = %d: %s", name, rc, imgsync_ctx_errmsg(ctx));
    prov_set(ctx, p, "endpoint", endpoint);
    if (user != NULL)
        prov_set(ctx, p, "username", user);
    if (password != NULL)
        prov_set(ctx, p, "password", password);
    return p;
}

static imgsync_request *new_request(void)
{
    imgsync_request *req = NULL;

    ck_assert_int_eq(imgsync_request_new(&req), 0);
    return req;
}

/* Secrets of the running test, masked in everything dump_task() prints. */
static const char *known_secrets[4];

static void note_secret(const char *secret)
{
    size_t i;

    for (i = 0; i < sizeof known_secrets / sizeof known_secrets[0]; i++)
        if (known_secrets[i] == NULL || known_secrets[i] == secret) {
            known_secrets[i] = secret;
            return;
        }
    fprintf(stderr, "note_secret: no room: secrets may be printed unmasked\n");
}

static void forget_secret(const char *secret)
{
    size_t i;

    for (i = 0; i < sizeof known_secrets / sizeof known_secrets[0]; i++)
        if (known_secrets[i] == secret)
            known_secrets[i] = NULL;
}

/* Copy of text with `secret` and every noted secret replaced by "***" (malloc'd). */
static char *mask_all(const char *text, const char *secret)
{
    char *out = ts_mask(text, secret), *next;
    size_t i;

    for (i = 0; out != NULL && i < sizeof known_secrets / sizeof known_secrets[0]; i++) {
        if (known_secrets[i] == NULL)
            continue;
        next = ts_mask(out, known_secrets[i]);
        free(out);
        out = next;
    }
    return out;
}

/* Print a task's status (secrets masked) to make failures readable. */
static void dump_task(const imgsync_task *t, const char *secret)
{
    size_t i;

    fprintf(stderr, "task %" PRIu64 ": %s, repositories %" PRIu64 "/%" PRIu64 " (%" PRIu64 " failed), images %" PRIu64
                    " found +%" PRIu64 " ~%" PRIu64 " -%" PRIu64 ", %" PRIu64 " requests, %" PRIu64 " retries\n",
            imgsync_task_id(t), imgsync_task_state_name(imgsync_task_state_of(t)), COUNTER(t, REPOSITORIES_DONE),
            COUNTER(t, REPOSITORIES_TOTAL), COUNTER(t, REPOSITORIES_FAILED), COUNTER(t, IMAGES_FOUND),
            COUNTER(t, IMAGES_ADDED), COUNTER(t, IMAGES_UPDATED), COUNTER(t, IMAGES_REMOVED), COUNTER(t, REQUESTS),
            COUNTER(t, RETRIES));
    for (i = 0; i < imgsync_task_registry_count(t); i++) {
        char *reason = mask_all(imgsync_task_registry_reason(t, i), secret);
        fprintf(stderr, "  registry %s: state %d error %d reason: %s\n", imgsync_task_registry_name(t, i),
                imgsync_task_registry_state(t, i), imgsync_task_registry_error(t, i), reason ? reason : "?");
        free(reason);
    }
    for (i = 0; i < imgsync_task_error_count(t); i++) {
        char *msg = mask_all(imgsync_task_error_message(t, i), secret);
        fprintf(stderr, "  error %s [%s] %d: %s\n", imgsync_task_error_registry(t, i),
                imgsync_task_error_repository(t, i), imgsync_task_error_code(t, i), msg ? msg : "?");
        free(msg);
    }
}

/* Start a sync of req (NULL: everything), wait for its end and return its status snapshot. */
static imgsync_task *sync_wait(imgsync_ctx *ctx, const imgsync_request *req, uint64_t *id_out)
{
    imgsync_request *all = NULL;
    imgsync_task *t = NULL;
    uint64_t id = 0;
    int rc;

    if (req == NULL)
        req = all = new_request();
    rc = imgsync_sync_start(ctx, req, &id);
    imgsync_request_free(all);
    ck_assert_msg(rc == 0, "imgsync_sync_start = %d: %s", rc, imgsync_ctx_errmsg(ctx));
    ck_assert_uint_gt(id, 0);
    rc = imgsync_task_wait(ctx, id, WAIT_MS);
    ck_assert_msg(rc == 0, "imgsync_task_wait = %d (%s)", rc, imgsync_strerror(rc));
    ck_assert_int_eq(imgsync_task_get(&t, ctx, id), 0);
    ck_assert_uint_eq(imgsync_task_id(t), id);
    if (getenv("IMGSYNC_IT_VERBOSE") != NULL)
        dump_task(t, NULL);
    if (id_out != NULL)
        *id_out = id;
    return t;
}

/*
 * Task checks. Each *_problem() function returns NULL when the task is as expected, else what is
 * wrong (static text); the assert_* macros around them report the caller's line on failure.
 */
static char problem[512];

#define PROBLEM(...) (snprintf(problem, sizeof problem, __VA_ARGS__), (const char *)problem)

/* The task succeeded with one clean registry row named `provider`. */
static const char *succeeded_problem(const imgsync_task *t, const char *provider)
{
    if (imgsync_task_state_of(t) != IMGSYNC_TASK_SUCCEEDED)
        return PROBLEM("state is \"%s\", expected \"succeeded\"", imgsync_task_state_name(imgsync_task_state_of(t)));
    if (strcmp(imgsync_task_state_name(imgsync_task_state_of(t)), "succeeded") != 0)
        return PROBLEM("state name is \"%s\"", imgsync_task_state_name(imgsync_task_state_of(t)));
    if (imgsync_task_trigger(t) != IMGSYNC_TRIGGER_MANUAL)
        return PROBLEM("trigger %d, expected manual", imgsync_task_trigger(t));
    if (imgsync_task_registry_count(t) != 1)
        return PROBLEM("%zu registry rows, expected 1", imgsync_task_registry_count(t));
    if (strcmp(imgsync_task_registry_name(t, 0), provider) != 0 || strcmp(imgsync_task_registry_type(t, 0), "Oci"))
        return PROBLEM("registry row is %s (%s), expected %s (Oci)", imgsync_task_registry_name(t, 0),
                       imgsync_task_registry_type(t, 0), provider);
    if (imgsync_task_registry_state(t, 0) != IMGSYNC_REGISTRY_FINISHED)
        return PROBLEM("registry row state %d, expected finished", imgsync_task_registry_state(t, 0));
    if (imgsync_task_registry_error(t, 0) != 0 || imgsync_task_registry_reason(t, 0)[0] != '\0')
        return PROBLEM("the finished registry row has error %d and a reason", imgsync_task_registry_error(t, 0));
    if (imgsync_task_error_count(t) != 0 || COUNTER(t, REPOSITORIES_FAILED) != 0)
        return PROBLEM("%zu errors, %" PRIu64 " failed repositories", imgsync_task_error_count(t),
                       COUNTER(t, REPOSITORIES_FAILED));
    if (imgsync_task_created_ms(t) <= 0 || imgsync_task_started_ms(t) < imgsync_task_created_ms(t) ||
        imgsync_task_finished_ms(t) < imgsync_task_started_ms(t))
        return PROBLEM("times created %" PRId64 " started %" PRId64 " finished %" PRId64 " are not ordered",
                       imgsync_task_created_ms(t), imgsync_task_started_ms(t), imgsync_task_finished_ms(t));
    return NULL;
}

/* The task failed as a whole: one FAILED registry row with error `code` and a reason. */
static const char *failed_problem(const imgsync_task *t, const char *provider, int code)
{
    int err = imgsync_task_registry_count(t) ? imgsync_task_registry_error(t, 0) : 0;

    if (imgsync_task_state_of(t) != IMGSYNC_TASK_FAILED)
        return PROBLEM("state is \"%s\", expected \"failed\"", imgsync_task_state_name(imgsync_task_state_of(t)));
    if (imgsync_task_registry_count(t) != 1 || strcmp(imgsync_task_registry_name(t, 0), provider) != 0)
        return PROBLEM("%zu registry rows, expected one named %s", imgsync_task_registry_count(t), provider);
    if (imgsync_task_registry_state(t, 0) != IMGSYNC_REGISTRY_FAILED)
        return PROBLEM("registry row state %d, expected failed", imgsync_task_registry_state(t, 0));
    if (err != code)
        return PROBLEM("registry error %d (%s), expected %d (%s)", err, imgsync_strerror(err), code,
                       imgsync_strerror(code));
    if (imgsync_task_registry_reason(t, 0)[0] == '\0')
        return PROBLEM("the failed registry row has no reason");
    if (imgsync_task_error_count(t) < 1)
        return PROBLEM("the failed task lists no error");
    if (imgsync_task_finished_ms(t) <= 0)
        return PROBLEM("no finish time");
    if (COUNTER(t, IMAGES_ADDED) != 0)
        return PROBLEM("%" PRIu64 " images added by a failed task", COUNTER(t, IMAGES_ADDED));
    return NULL;
}

/* No status text of the task holds `secret`. */
static const char *secret_problem(const imgsync_task *t, const char *secret)
{
    size_t i;

    for (i = 0; i < imgsync_task_registry_count(t); i++)
        if (contains(imgsync_task_registry_reason(t, i), secret))
            return PROBLEM("registry row %zu's reason contains the password", i);
    for (i = 0; i < imgsync_task_error_count(t); i++)
        if (contains(imgsync_task_error_message(t, i), secret) || contains(imgsync_task_error_registry(t, i), secret) ||
            contains(imgsync_task_error_repository(t, i), secret))
            return PROBLEM("task error %zu contains the password", i);
    return NULL;
}

#define assert_succeeded(t, provider)                                    \
    do {                                                                 \
        const char *why_ = succeeded_problem((t), (provider));           \
        if (why_ != NULL)                                                \
            dump_task((t), NULL);                                        \
        ck_assert_msg(why_ == NULL, "task did not succeed: %s", why_);   \
    } while (0)

#define assert_failed(t, provider, code, secret)                         \
    do {                                                                 \
        const char *why_ = failed_problem((t), (provider), (code));      \
        if (why_ != NULL)                                                \
            dump_task((t), (secret));                                    \
        ck_assert_msg(why_ == NULL, "task did not fail as expected: %s", why_); \
    } while (0)

#define assert_no_secret_in_task(t, secret)                              \
    do {                                                                 \
        const char *why_ = secret_problem((t), (secret));                \
        ck_assert_msg(why_ == NULL, "%s", why_);                         \
    } while (0)

#define assert_inventory(ctx, host, expected, fields)                                             \
    do {                                                                                          \
        size_t diffs_ = rf_compare_inventory((ctx), PROVIDER, (host), (expected), (fields));     \
        ck_assert_msg(diffs_ == 0, "the inventory differs from the expected one in %zu place(s) " \
                                   "(diff on stderr)", diffs_);                                   \
    } while (0)

/* Expected rows narrowed by a predicate over the row. */
static rf_rows subset(const rf_rows *all, int (*keep)(const rf_row *row, void *arg), void *arg)
{
    rf_rows out;

    ck_assert_int_eq(rf_rows_filter(&out, all, keep, arg), 0);
    return out;
}

static int keep_repository(const rf_row *r, void *arg) { return strcmp(r->repository, (const char *)arg) == 0; }
static int keep_tag_prefix(const rf_row *r, void *arg)
{
    return strncmp(r->tag, (const char *)arg, strlen((const char *)arg)) == 0;
}
static int drop_tag_prefix(const rf_row *r, void *arg) { return !keep_tag_prefix(r, arg); }
static int drop_namespace_team(const rf_row *r, void *arg) { return strncmp(r->repository, "team/", 5) != 0; }
static int drop_repo_ending_app(const rf_row *r, void *arg)
{
    size_t n = strlen(r->repository);
    return !(n >= 4 && strcmp(r->repository + n - 4, "/app") == 0);
}

/* (repository, tag) -> sync time of every row of the provider, as a row set with size = sync_ms. */
static rf_rows sync_times(imgsync_ctx *ctx)
{
    rf_rows out = {NULL, 0};
    imgsync_request *req = new_request();
    imgsync_iter *it = NULL;
    const imgsync_image *im;

    ck_assert_int_eq(imgsync_request_add_provider(req, PROVIDER), 0);
    ck_assert_int_eq(imgsync_iter_new(&it, ctx, req), 0);
    while ((im = imgsync_iter_next(it)) != NULL)
        ck_assert_int_eq(rf_rows_add(&out, imgsync_image_repository(im), imgsync_image_tag(im), "", "",
                                     imgsync_image_sync_ms(im), 0),
                         0);
    imgsync_iter_free(it);
    imgsync_request_free(req);
    return out;
}

/* ---- a) full sync with catalog pagination, no-op resync, update ------------------------------- */

START_TEST(test_full_sync_and_update)
{
    reg_case *c = &rc_update;
    imgsync_ctx *ctx;
    imgsync_provider *p;
    imgsync_task *t1, *t2, *t3, *latest = NULL;
    imgsync_iter *it = NULL;
    const imgsync_image *im;
    rf_rows updated;
    char path[4096];
    uint64_t id1, id2, id3;

    REQUIRE(*c);
    ctx = new_ctx();
    p = add_provider(ctx, PROVIDER, c->reg.url, NULL, NULL);
    prov_set(ctx, p, "page_size", "2"); /* 5 repositories: 3 catalog pages */

    t1 = sync_wait(ctx, NULL, &id1);
    assert_succeeded(t1, PROVIDER);
    ck_assert_uint_eq(COUNTER(t1, IMAGES_ADDED), INITIAL_ROWS);
    ck_assert_uint_eq(COUNTER(t1, IMAGES_FOUND), INITIAL_ROWS);
    ck_assert_uint_eq(COUNTER(t1, IMAGES_UPDATED), 0);
    ck_assert_uint_eq(COUNTER(t1, IMAGES_REMOVED), 0);
    ck_assert_uint_eq(COUNTER(t1, REPOSITORIES_DONE), INITIAL_REPOS);
    ck_assert_uint_eq(COUNTER(t1, REPOSITORIES_TOTAL), INITIAL_REPOS);
    /* /v2/ + 3 catalog pages + 5 tag lists + 35 manifests + 4 children of the 2 indexes */
    ck_assert_uint_ge(COUNTER(t1, REQUESTS), 1 + 3 + 5 + 35 + 4);
    ck_assert_uint_eq(COUNTER(t1, RETRIES), 0);
    ck_assert_uint_eq(imgsync_inventory_count(ctx), INITIAL_ROWS);
    assert_inventory(ctx, c->reg.host, &c->initial, RF_ALL);

    /* OCI registries do not publish push times (README): update time 0, sync time set */
    ck_assert_int_eq(imgsync_iter_new(&it, ctx, NULL), 0);
    while ((im = imgsync_iter_next(it)) != NULL) {
        ck_assert_int_eq(imgsync_image_update_ms(im), 0);
        ck_assert_int_ge(imgsync_image_sync_ms(im), imgsync_task_started_ms(t1));
    }
    imgsync_iter_free(it);

    /* nothing changed: nothing added, updated or removed */
    t2 = sync_wait(ctx, NULL, &id2);
    assert_succeeded(t2, PROVIDER);
    ck_assert_uint_gt(id2, id1);
    ck_assert_uint_eq(COUNTER(t2, IMAGES_ADDED), 0);
    ck_assert_uint_eq(COUNTER(t2, IMAGES_UPDATED), 0);
    ck_assert_uint_eq(COUNTER(t2, IMAGES_REMOVED), 0);
    ck_assert_uint_eq(COUNTER(t2, IMAGES_FOUND), INITIAL_ROWS);
    ck_assert_uint_eq(COUNTER(t2, REPOSITORIES_DONE), INITIAL_REPOS);
    assert_inventory(ctx, c->reg.host, &c->initial, RF_ALL);

    /* stage update: alpine:3.18 deleted, team/app:v2 rebuilt, team/app:v3 and newrepo:1 added */
    snprintf(path, sizeof path, "%s", rf_registry_path(&c->reg, "update.json"));
    ck_assert_msg(rf_registry_seed(&c->reg, "update", path) == 0, "seeding stage update failed");
    ck_assert_int_eq(rf_rows_load(&updated, path), 0);
    ck_assert_uint_eq(updated.n, INITIAL_ROWS + 1);

    t3 = sync_wait(ctx, NULL, &id3);
    assert_succeeded(t3, PROVIDER);
    ck_assert_uint_eq(COUNTER(t3, IMAGES_ADDED), 2);
    ck_assert_uint_eq(COUNTER(t3, IMAGES_UPDATED), 1);
    ck_assert_uint_eq(COUNTER(t3, IMAGES_REMOVED), 1);
    ck_assert_uint_eq(COUNTER(t3, IMAGES_FOUND), INITIAL_ROWS + 1);
    ck_assert_uint_eq(COUNTER(t3, REPOSITORIES_DONE), INITIAL_REPOS + 1);
    ck_assert_uint_eq(imgsync_inventory_count(ctx), INITIAL_ROWS + 1);
    assert_inventory(ctx, c->reg.host, &updated, RF_ALL);

    /* the earlier snapshots are immutable; the latest task is the third */
    ck_assert_uint_eq(COUNTER(t1, IMAGES_ADDED), INITIAL_ROWS);
    ck_assert_int_eq(imgsync_task_get_latest(&latest, ctx), 0);
    ck_assert_uint_eq(imgsync_task_id(latest), id3);

    imgsync_task_free(latest);
    rf_rows_free(&updated);
    imgsync_task_free(t1);
    imgsync_task_free(t2);
    imgsync_task_free(t3);
    imgsync_ctx_free(ctx);
}
END_TEST

/* ---- b) request types ------------------------------------------------------------------------------ */

/* A fresh context with one provider at the requests registry, synced with req; returns the task. */
static imgsync_task *fresh_sync(imgsync_ctx **ctx_out, const imgsync_request *req, const char *resolve)
{
    imgsync_ctx *ctx = new_ctx();
    imgsync_provider *p = add_provider(ctx, PROVIDER, rc_requests.reg.url, NULL, NULL);

    if (resolve != NULL)
        prov_set(ctx, p, "resolve", resolve);
    *ctx_out = ctx;
    return sync_wait(ctx, req, NULL);
}

START_TEST(test_single_repository)
{
    reg_case *c = &rc_requests;
    imgsync_ctx *ctx, *ctx2;
    imgsync_request *req;
    imgsync_task *t0, *t, *t2;
    rf_rows before, after, app;
    size_t i;
    const size_t app_rows = rf_rows_count_repository(&c->initial, "team/app");

    REQUIRE(*c);
    ck_assert_uint_eq(app_rows, 28);

    /* everything first, then only team/app: the other repositories' rows stay untouched */
    t0 = fresh_sync(&ctx, NULL, NULL);
    assert_succeeded(t0, PROVIDER);
    assert_inventory(ctx, c->reg.host, &c->initial, RF_ALL);
    before = sync_times(ctx);
    sleep_ms(20);

    req = new_request();
    ck_assert_int_eq(imgsync_request_add_repository(req, PROVIDER, "team/app"), 0);
    t = sync_wait(ctx, req, NULL);
    assert_succeeded(t, PROVIDER);
    ck_assert_uint_eq(COUNTER(t, REPOSITORIES_TOTAL), 1);
    ck_assert_uint_eq(COUNTER(t, REPOSITORIES_DONE), 1);
    ck_assert_uint_eq(COUNTER(t, IMAGES_FOUND), app_rows);
    ck_assert_uint_eq(COUNTER(t, IMAGES_ADDED), 0);
    ck_assert_uint_eq(COUNTER(t, IMAGES_UPDATED), 0);
    ck_assert_uint_eq(COUNTER(t, IMAGES_REMOVED), 0);
    assert_inventory(ctx, c->reg.host, &c->initial, RF_ALL);
    after = sync_times(ctx);
    ck_assert_uint_eq(after.n, before.n);
    for (i = 0; i < before.n; i++) {
        const rf_row *b = &before.v[i], *a = rf_rows_find(&after, b->repository, b->tag);
        ck_assert_ptr_nonnull(a);
        if (strcmp(b->repository, "team/app") == 0)
            ck_assert_msg(a->size > b->size, "%s:%s was not re-synced (sync time %" PRId64 " -> %" PRId64 ")",
                          b->repository, b->tag, b->size, a->size);
        else
            ck_assert_msg(a->size == b->size, "%s:%s was touched (sync time %" PRId64 " -> %" PRId64 ")",
                          b->repository, b->tag, b->size, a->size);
    }

    /* on an empty context it yields exactly team/app, without walking the catalog */
    t2 = fresh_sync(&ctx2, req, NULL);
    assert_succeeded(t2, PROVIDER);
    ck_assert_uint_eq(COUNTER(t2, REPOSITORIES_TOTAL), 1);
    ck_assert_uint_eq(COUNTER(t2, IMAGES_ADDED), app_rows);
    /* at most /v2/ + tags/list + one manifest per tag: no _catalog request */
    ck_assert_uint_le(COUNTER(t2, REQUESTS), 1 + 1 + app_rows);
    app = subset(&c->initial, keep_repository, "team/app");
    assert_inventory(ctx2, c->reg.host, &app, RF_ALL);

    rf_rows_free(&app);
    rf_rows_free(&before);
    rf_rows_free(&after);
    imgsync_request_free(req);
    imgsync_task_free(t0);
    imgsync_task_free(t);
    imgsync_task_free(t2);
    imgsync_ctx_free(ctx);
    imgsync_ctx_free(ctx2);
}
END_TEST

START_TEST(test_tag_filter_include)
{
    imgsync_ctx *ctx;
    imgsync_request *req;
    imgsync_task *t;
    rf_rows want;

    REQUIRE(rc_requests);
    want = subset(&rc_requests.initial, keep_tag_prefix, "v");
    ck_assert_uint_eq(want.n, 3); /* team/app v1, v1.1, v2 */
    req = new_request();
    ck_assert_int_eq(imgsync_request_add_filter(req, IMGSYNC_FILTER_TAG, "v*", IMGSYNC_INCLUDE), 0);
    t = fresh_sync(&ctx, req, NULL);
    assert_succeeded(t, PROVIDER);
    ck_assert_uint_eq(COUNTER(t, IMAGES_FOUND), want.n);
    ck_assert_uint_eq(COUNTER(t, IMAGES_ADDED), want.n);
    assert_inventory(ctx, rc_requests.reg.host, &want, RF_ALL);
    ck_assert_uint_eq(imgsync_inventory_count(ctx), want.n);

    rf_rows_free(&want);
    imgsync_request_free(req);
    imgsync_task_free(t);
    imgsync_ctx_free(ctx);
}
END_TEST

START_TEST(test_namespace_filter_include)
{
    imgsync_ctx *ctx;
    imgsync_request *req;
    imgsync_task *t;
    rf_rows want;

    REQUIRE(rc_requests);
    want = subset(&rc_requests.initial, keep_repository, "multi/arch");
    ck_assert_uint_eq(want.n, 2);
    req = new_request();
    ck_assert_int_eq(imgsync_request_add_filter(req, IMGSYNC_FILTER_NAMESPACE, "multi", IMGSYNC_INCLUDE), 0);
    t = fresh_sync(&ctx, req, NULL);
    assert_succeeded(t, PROVIDER);
    ck_assert_uint_eq(COUNTER(t, REPOSITORIES_TOTAL), 1); /* the others are not even listed */
    ck_assert_uint_eq(COUNTER(t, REPOSITORIES_DONE), 1);
    ck_assert_uint_eq(COUNTER(t, IMAGES_ADDED), want.n);
    assert_inventory(ctx, rc_requests.reg.host, &want, RF_ALL);

    rf_rows_free(&want);
    imgsync_request_free(req);
    imgsync_task_free(t);
    imgsync_ctx_free(ctx);
}
END_TEST

/* One exclude filter on a fresh context gives exactly the rows `keep` accepts (count `n`). */
static void check_exclude(int field, const char *pattern, int (*keep)(const rf_row *, void *), void *arg,
                          size_t n)
{
    imgsync_ctx *ctx;
    imgsync_request *req = new_request();
    imgsync_task *t;
    rf_rows want = subset(&rc_requests.initial, keep, arg);

    ck_assert_uint_eq(want.n, n);
    ck_assert_int_eq(imgsync_request_add_filter(req, field, pattern, IMGSYNC_EXCLUDE), 0);
    t = fresh_sync(&ctx, req, NULL);
    assert_succeeded(t, PROVIDER);
    ck_assert_uint_eq(COUNTER(t, IMAGES_ADDED), n);
    ck_assert_msg(rf_compare_inventory(ctx, PROVIDER, rc_requests.reg.host, &want, RF_ALL) == 0,
                  "exclude \"%s\": the inventory differs from the expected one (diff on stderr)", pattern);
    rf_rows_free(&want);
    imgsync_request_free(req);
    imgsync_task_free(t);
    imgsync_ctx_free(ctx);
}

START_TEST(test_exclude_filters)
{
    REQUIRE(rc_requests);
    /* 35 - 25 build tags */
    check_exclude(IMGSYNC_FILTER_TAG, "build-*", drop_tag_prefix, "build-", 10);
    /* namespace "team" is team/app only; org/team/app has namespace "org" */
    check_exclude(IMGSYNC_FILTER_NAMESPACE, "team", drop_namespace_team, NULL, 7);
    /* ** crosses '/': team/app and org/team/app */
    check_exclude(IMGSYNC_FILTER_REPOSITORY, "**/app", drop_repo_ending_app, NULL, 6);
}
END_TEST

START_TEST(test_max_tags)
{
    static const char *const newest_app[] = {"v2", "v1.1", "v1", "build-025", "build-024"};
    reg_case *c = &rc_requests;
    imgsync_ctx *ctx;
    imgsync_request *req;
    imgsync_task *t;
    rf_rows got, want = {NULL, 0};
    size_t i;

    REQUIRE(*c);
    req = new_request();
    ck_assert_int_eq(imgsync_request_set_max_tags(req, 5), 0);
    t = fresh_sync(&ctx, req, NULL);
    assert_succeeded(t, PROVIDER);
    ck_assert_int_eq(rf_rows_from_ctx(&got, ctx, PROVIDER), 0);

    /* repositories with <= 5 tags are complete; team/app keeps 5. All update times are equal
     * (OCI: 0), so "newest" falls back to the tag name: the 5 greatest names. */
    for (i = 0; i < c->initial.n; i++) {
        const rf_row *r = &c->initial.v[i];
        size_t k, keep = strcmp(r->repository, "team/app") != 0;
        for (k = 0; !keep && k < 5; k++)
            keep = strcmp(r->tag, newest_app[k]) == 0;
        if (keep)
            ck_assert_int_eq(rf_rows_add(&want, r->repository, r->tag, r->digest, r->media_type, r->size,
                                         r->multi_arch),
                             0);
    }
    ck_assert_uint_eq(want.n, 12);
    ck_assert_uint_eq(rf_rows_count_repository(&got, "team/app"), 5);
    ck_assert_uint_eq(COUNTER(t, IMAGES_FOUND), 12);
    assert_inventory(ctx, c->reg.host, &want, RF_ALL);

    rf_rows_free(&got);
    rf_rows_free(&want);
    imgsync_request_free(req);
    imgsync_task_free(t);
    imgsync_ctx_free(ctx);
}
END_TEST

START_TEST(test_resolve_digest)
{
    imgsync_ctx *ctx;
    imgsync_task *t;
    rf_rows want;
    size_t i;

    REQUIRE(rc_requests);
    want = subset(&rc_requests.initial, NULL, NULL);
    for (i = 0; i < want.n; i++)
        want.v[i].size = -1; /* HEAD only: no size */
    t = fresh_sync(&ctx, NULL, "digest");
    assert_succeeded(t, PROVIDER);
    ck_assert_uint_eq(COUNTER(t, IMAGES_ADDED), INITIAL_ROWS);
    assert_inventory(ctx, rc_requests.reg.host, &want, RF_ALL);

    rf_rows_free(&want);
    imgsync_task_free(t);
    imgsync_ctx_free(ctx);
}
END_TEST

START_TEST(test_resolve_none)
{
    imgsync_ctx *ctx;
    imgsync_task *t;
    rf_rows want;
    size_t i;

    REQUIRE(rc_requests);
    want = subset(&rc_requests.initial, NULL, NULL);
    for (i = 0; i < want.n; i++) {
        want.v[i].digest[0] = '\0'; /* tags only */
        want.v[i].size = -1;
    }
    t = fresh_sync(&ctx, NULL, "none");
    assert_succeeded(t, PROVIDER);
    ck_assert_uint_eq(COUNTER(t, IMAGES_ADDED), INITIAL_ROWS);
    /* /v2/ + catalog + 5 tag lists, no manifest */
    ck_assert_uint_le(COUNTER(t, REQUESTS), 1 + 1 + 5);
    assert_inventory(ctx, rc_requests.reg.host, &want, RF_DIGEST | RF_SIZE);

    rf_rows_free(&want);
    imgsync_task_free(t);
    imgsync_ctx_free(ctx);
}
END_TEST

/* ---- c) Basic authentication (htpasswd) --------------------------------------------------------- */

START_TEST(test_auth_right_credentials)
{
    reg_case *c = &rc_auth;
    imgsync_ctx *ctx;
    imgsync_provider *p;
    imgsync_task *t;

    REQUIRE(*c);
    ctx = new_ctx();
    p = add_provider(ctx, PROVIDER, c->reg.url, AUTH_USER, c->password);
    ck_assert_int_eq(imgsync_provider_check(p), 0);
    ck_assert_str_eq(imgsync_ctx_errmsg(ctx), "");
    t = sync_wait(ctx, NULL, NULL);
    assert_succeeded(t, PROVIDER);
    ck_assert_uint_eq(COUNTER(t, IMAGES_ADDED), INITIAL_ROWS);
    assert_inventory(ctx, c->reg.host, &c->initial, RF_ALL);
    assert_no_secret_in_task(t, c->password);

    imgsync_task_free(t);
    imgsync_ctx_free(ctx);
}
END_TEST

START_TEST(test_auth_wrong_password)
{
    reg_case *c = &rc_auth;
    imgsync_ctx *ctx;
    imgsync_provider *p;
    imgsync_task *t, *t_ok, *t_again;
    char *wrong;
    int rc;

    REQUIRE(*c);
    wrong = ts_random_secret("It-Wrong-");
    ck_assert_ptr_nonnull(wrong);
    note_secret(wrong);
    ctx = new_ctx();
    p = add_provider(ctx, PROVIDER, c->reg.url, AUTH_USER, wrong);

    rc = imgsync_provider_check(p);
    ck_assert_msg(rc == IMGSYNC_EAUTH, "provider_check with a wrong password = %d (%s)", rc, imgsync_strerror(rc));
    ck_assert_msg(imgsync_ctx_errmsg(ctx)[0] != '\0', "no detail after a failed check");
    ck_assert_msg(!contains(imgsync_ctx_errmsg(ctx), wrong), "errmsg contains the wrong password");
    ck_assert_msg(!contains(imgsync_ctx_errmsg(ctx), c->password), "errmsg contains the password");

    /* never an empty success */
    t = sync_wait(ctx, NULL, NULL);
    ck_assert_msg(!contains(imgsync_ctx_errmsg(ctx), wrong), "errmsg contains the wrong password");
    assert_failed(t, PROVIDER, IMGSYNC_EAUTH, wrong);
    assert_no_secret_in_task(t, wrong);
    assert_no_secret_in_task(t, c->password);
    ck_assert_uint_eq(imgsync_inventory_count(ctx), 0);

    /* with the right password it syncs; a later rejection keeps those rows */
    prov_set(ctx, p, "password", c->password);
    t_ok = sync_wait(ctx, NULL, NULL);
    assert_succeeded(t_ok, PROVIDER);
    prov_set(ctx, p, "password", wrong);
    t_again = sync_wait(ctx, NULL, NULL);
    assert_failed(t_again, PROVIDER, IMGSYNC_EAUTH, wrong);
    assert_no_secret_in_task(t_again, wrong);
    assert_no_secret_in_task(t_again, c->password);
    assert_inventory(ctx, c->reg.host, &c->initial, RF_ALL);
    ck_assert_msg(!contains(imgsync_ctx_errmsg(ctx), wrong) && !contains(imgsync_ctx_errmsg(ctx), c->password),
                  "errmsg contains a password");

    imgsync_task_free(t);
    imgsync_task_free(t_ok);
    imgsync_task_free(t_again);
    imgsync_ctx_free(ctx);
    forget_secret(wrong);
    free(wrong);
}
END_TEST

START_TEST(test_auth_no_credentials)
{
    reg_case *c = &rc_auth;
    imgsync_ctx *ctx;
    imgsync_provider *p;
    imgsync_task *t;
    int rc;

    REQUIRE(*c);
    ctx = new_ctx();
    p = add_provider(ctx, PROVIDER, c->reg.url, NULL, NULL);
    rc = imgsync_provider_check(p);
    ck_assert_msg(rc == IMGSYNC_EAUTH, "provider_check without credentials = %d (%s)", rc, imgsync_strerror(rc));
    ck_assert_msg(imgsync_ctx_errmsg(ctx)[0] != '\0', "no detail after a failed check");
    t = sync_wait(ctx, NULL, NULL);
    assert_failed(t, PROVIDER, IMGSYNC_EAUTH, NULL);
    ck_assert_uint_eq(imgsync_inventory_count(ctx), 0);

    /* a user without a password is rejected the same way */
    prov_set(ctx, p, "username", AUTH_USER);
    rc = imgsync_provider_check(p);
    ck_assert_msg(rc == IMGSYNC_EAUTH, "provider_check with a user and no password = %d (%s)", rc,
                  imgsync_strerror(rc));
    ck_assert_msg(!contains(imgsync_ctx_errmsg(ctx), c->password), "errmsg contains the password");

    imgsync_task_free(t);
    imgsync_ctx_free(ctx);
}
END_TEST

/* ---- g) the imgsync command line (auth registry) ---------------------------------------------------- */

static const char *cli_path(void)
{
    const char *s = getenv("IMGSYNC_CLI");

    return s && *s ? s : "build/imgsync";
}

/* Write the CLI configuration for the auth registry; returns its path (static). */
static const char *write_cli_config(void)
{
    static char path[4096];
    char text[1024];

    snprintf(path, sizeof path, "%s", rf_registry_path(&rc_auth.reg, "cli-config.json"));
    snprintf(text, sizeof text,
             "{\"registries\": [{\"name\": \"%s\", \"type\": \"oci\", \"endpoint\": \"%s\",\n"
             "  \"username\": \"%s\", \"password_env\": \"%s\", \"page_size\": 2}],\n"
             " \"settings\": {\"max_retries\": 1, \"retry_base_ms\": 10}}\n",
             PROVIDER, rc_auth.reg.url, AUTH_USER, CLI_PASSWORD_ENV);
    ck_assert_int_eq(rf_write_file(path, text), 0);
    return path;
}

/* Run `imgsync ARGS --config CONFIG [TAIL]` with stdout and stderr captured; the exit status. */
static int run_cli(const char *command, const char *config, const char *tail, char **out, char **err)
{
    char *qcli = rf_shell_quote(cli_path()), *qcfg = rf_shell_quote(config), *qout, *qerr, *cmd;
    char outp[4096], errp[4096];
    size_t n;
    int st;

    ck_assert_msg(access(cli_path(), X_OK) == 0, "%s is not built (make build/imgsync)", cli_path());
    snprintf(outp, sizeof outp, "%s", rf_registry_path(&rc_auth.reg, "cli.out"));
    snprintf(errp, sizeof errp, "%s", rf_registry_path(&rc_auth.reg, "cli.err"));
    qout = rf_shell_quote(outp);
    qerr = rf_shell_quote(errp);
    ck_assert(qcli != NULL && qcfg != NULL && qout != NULL && qerr != NULL);
    n = strlen(qcli) + strlen(qcfg) + strlen(command) + strlen(tail) + strlen(qout) + strlen(qerr) + 64;
    cmd = malloc(n);
    ck_assert_ptr_nonnull(cmd);
    /* the password reaches imgsync through the environment only, never the command line */
    snprintf(cmd, n, "%s %s --config %s %s >%s 2>%s </dev/null", qcli, command, qcfg, tail, qout, qerr);
    st = rf_run(cmd);
    free(cmd);
    free(qcli);
    free(qcfg);
    free(qout);
    free(qerr);
    *out = rf_read_file(outp, NULL);
    *err = rf_read_file(errp, NULL);
    ck_assert_ptr_nonnull(*out);
    ck_assert_ptr_nonnull(*err);
    return st;
}

static size_t count_lines(const char *s)
{
    size_t n = 0;

    for (; *s; s++)
        n += *s == '\n';
    return n;
}

/* Lines of s that start with prefix. */
static size_t count_prefixed_lines(const char *s, const char *prefix)
{
    size_t n = 0, plen = strlen(prefix);
    const char *line = s;

    while (*line) {
        const char *nl = strchr(line, '\n');
        n += strncmp(line, prefix, plen) == 0;
        if (nl == NULL)
            break;
        line = nl + 1;
    }
    return n;
}

static yajl_val member(yajl_val obj, const char *key, yajl_type type)
{
    const char *path[] = {key, NULL};

    return yajl_tree_get(obj, path, type);
}

START_TEST(test_cli_sync_ndjson_and_check)
{
    static const char *const keys[] = {"registry", "registry_type", "image_type", "host", "namespace",
                                       "repository", "tag", "digest", "size", "latest_update_time",
                                       "latest_sync_time", "media_type", "artifact_type", "multi_arch"};
    const size_t nkeys = sizeof keys / sizeof keys[0];
    reg_case *c = &rc_auth;
    const char *config;
    char *out, *err, *line, *save = NULL;
    rf_rows got = {NULL, 0};
    size_t k, diffs;
    int st;

    REQUIRE(*c);
    config = write_cli_config();
    ck_assert_int_eq(setenv(CLI_PASSWORD_ENV, c->password, 1), 0);

    st = run_cli("sync", config, "--format ndjson", &out, &err);
    ck_assert_msg(!contains(out, c->password) && !contains(err, c->password), "the CLI printed the password");
    if (st != 0) {
        char *masked = mask_all(err, NULL);
        fprintf(stderr, "imgsync sync stderr:\n%s", masked ? masked : "");
        free(masked);
    }
    ck_assert_int_eq(st, 0);
    ck_assert_uint_eq(count_lines(out), INITIAL_ROWS);
    for (line = strtok_r(out, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
        char perr[128];
        yajl_val o = yajl_tree_parse(line, perr, sizeof perr), size, multi;
        ck_assert_msg(o != NULL && YAJL_IS_OBJECT(o), "not a JSON object: %s", line);
        /* one key per field of the library's row table, the historical ones among them */
        ck_assert_msg(o->u.object.len == imgsync_image_field_count(), "%zu keys, expected %zu: %s",
                      o->u.object.len, imgsync_image_field_count(), line);
        for (k = 0; k < imgsync_image_field_count(); k++)
            ck_assert_str_eq(o->u.object.keys[k], imgsync_image_field_name(k));
        for (k = 0; k < nkeys; k++)
            ck_assert_msg(member(o, keys[k], yajl_t_any) != NULL, "key %s missing: %s", keys[k], line);
        ck_assert_str_eq(YAJL_GET_STRING(member(o, "registry", yajl_t_string)), PROVIDER);
        ck_assert_str_eq(YAJL_GET_STRING(member(o, "registry_type", yajl_t_string)), "Oci");
        ck_assert_str_eq(YAJL_GET_STRING(member(o, "image_type", yajl_t_string)), "oci");
        ck_assert_str_eq(YAJL_GET_STRING(member(o, "host", yajl_t_string)), c->reg.host);
        ck_assert_ptr_nonnull(member(o, "namespace", yajl_t_string));
        ck_assert_msg(YAJL_IS_INTEGER(member(o, "latest_update_time", yajl_t_number)), "%s", line);
        ck_assert_msg(YAJL_IS_INTEGER(member(o, "latest_sync_time", yajl_t_number)) &&
                          YAJL_GET_INTEGER(member(o, "latest_sync_time", yajl_t_number)) > 0,
                      "latest_sync_time: %s", line);
        size = member(o, "size", yajl_t_number);
        multi = member(o, "multi_arch", yajl_t_any);
        ck_assert_msg(size != NULL && YAJL_IS_INTEGER(size), "size is not an integer: %s", line);
        ck_assert_msg(multi != NULL && (YAJL_IS_TRUE(multi) || YAJL_IS_FALSE(multi)), "multi_arch: %s", line);
        ck_assert_ptr_nonnull(member(o, "repository", yajl_t_string));
        ck_assert_ptr_nonnull(member(o, "tag", yajl_t_string));
        ck_assert_ptr_nonnull(member(o, "digest", yajl_t_string));
        ck_assert_ptr_nonnull(member(o, "media_type", yajl_t_string));
        ck_assert_int_eq(rf_rows_add(&got, YAJL_GET_STRING(member(o, "repository", yajl_t_string)),
                                     YAJL_GET_STRING(member(o, "tag", yajl_t_string)),
                                     YAJL_GET_STRING(member(o, "digest", yajl_t_string)),
                                     YAJL_GET_STRING(member(o, "media_type", yajl_t_string)),
                                     (int64_t)YAJL_GET_INTEGER(size), YAJL_IS_TRUE(multi)),
                         0);
        yajl_tree_free(o);
    }
    diffs = rf_rows_diff(&c->initial, &got, RF_ALL, "imgsync sync --format ndjson");
    ck_assert_msg(diffs == 0, "the CLI's rows differ from the expected inventory (%zu)", diffs);
    free(out);
    free(err);

    st = run_cli("check", config, PROVIDER, &out, &err);
    if (st != 0) {
        char *masked = mask_all(err, NULL);
        fprintf(stderr, "imgsync check stderr:\n%s", masked ? masked : "");
        free(masked);
    }
    ck_assert_int_eq(st, 0);
    ck_assert_str_eq(out, "registry " PROVIDER ": OK (credentials: options)\n");
    ck_assert_msg(!contains(out, c->password) && !contains(err, c->password), "the CLI printed the password");

    rf_rows_free(&got);
    free(out);
    free(err);
    unsetenv(CLI_PASSWORD_ENV);
}
END_TEST

START_TEST(test_cli_wrong_password)
{
    reg_case *c = &rc_auth;
    const char *config;
    char *out, *err, *wrong, *masked;
    int st;

    REQUIRE(*c);
    config = write_cli_config();
    wrong = ts_random_secret("It-Wrong-");
    ck_assert_ptr_nonnull(wrong);
    note_secret(wrong);
    ck_assert_int_eq(setenv(CLI_PASSWORD_ENV, wrong, 1), 0);

    /* check: non-zero, exactly one line on stderr, nothing on stdout */
    st = run_cli("check", config, PROVIDER, &out, &err);
    masked = mask_all(err, wrong);
    ck_assert_msg(!contains(err, wrong) && !contains(out, wrong), "imgsync check printed the password");
    ck_assert_msg(st != 0, "imgsync check with a wrong password exited 0");
    ck_assert_msg(count_lines(err) == 1 && strncmp(err, "imgsync: ", 9) == 0 && strlen(err) > 10,
                  "stderr of check is not a one-line reason: %s", masked);
    ck_assert_msg(contains(err, PROVIDER), "the reason does not name the registry: %s", masked);
    ck_assert_str_eq(out, "");
    free(masked);
    free(out);
    free(err);

    /* sync: non-zero, no inventory, one "imgsync: " reason line among the status lines */
    st = run_cli("sync", config, "--format ndjson", &out, &err);
    masked = mask_all(err, wrong);
    ck_assert_msg(!contains(err, wrong) && !contains(out, wrong), "imgsync sync printed the password");
    ck_assert_msg(!contains(err, c->password) && !contains(out, c->password), "imgsync sync printed a password");
    ck_assert_msg(st != 0, "imgsync sync with a wrong password exited 0");
    ck_assert_str_eq(out, "");
    ck_assert_msg(count_prefixed_lines(err, "imgsync: ") == 1, "not one reason line on stderr:\n%s", masked);
    ck_assert_msg(contains(err, "imgsync: sync failed"), "no failure reason on stderr:\n%s", masked);

    free(masked);
    free(out);
    free(err);
    forget_secret(wrong);
    free(wrong);
    unsetenv(CLI_PASSWORD_ENV);
}
END_TEST

/* ---- d) the registry goes away in the middle of a sync -------------------------------------------- */

START_TEST(test_registry_goes_away)
{
    reg_case *c = &rc_gone;
    imgsync_ctx *ctx;
    imgsync_task *t0, *t = NULL;
    uint64_t id = 0;
    int64_t deadline;
    uint64_t done = 0, requests = 0;
    int state, rc;
    imgsync_request *all;

    REQUIRE(*c);
    ctx = new_ctx();
    add_provider(ctx, PROVIDER, c->reg.url, NULL, NULL);
    t0 = sync_wait(ctx, NULL, NULL);
    assert_succeeded(t0, PROVIDER);
    assert_inventory(ctx, c->reg.host, &c->initial, RF_ALL);

    ctx_set(ctx, "max_connections", "1");
    ctx_set(ctx, "max_host_connections", "1");
    ctx_set(ctx, "max_retries", "1");
    ctx_set(ctx, "retry_base_ms", "10");

    all = new_request();
    ck_assert_int_eq(imgsync_sync_start(ctx, all, &id), 0);
    imgsync_request_free(all);
    deadline = mono_ms() + 20000;
    for (;;) {
        rc = imgsync_ctx_perform(ctx, 10);
        ck_assert_msg(rc >= 0, "imgsync_ctx_perform = %d", rc);
        ck_assert_int_eq(imgsync_task_get(&t, ctx, id), 0);
        done = COUNTER(t, REPOSITORIES_DONE);
        requests = COUNTER(t, REQUESTS);
        state = imgsync_task_state_of(t);
        imgsync_task_free(t);
        t = NULL;
        ck_assert_msg(state == IMGSYNC_TASK_QUEUED || state == IMGSYNC_TASK_RUNNING,
                      "the sync ended (%s) before the registry could be stopped", imgsync_task_state_name(state));
        if (done >= 1)
            break;
        ck_assert_msg(mono_ms() < deadline, "no repository done after 20 s (%" PRIu64 " requests)", requests);
    }
    ck_assert_msg(done < INITIAL_REPOS, "every repository was already done");

    ck_assert_int_eq(rf_registry_stop(&c->reg), 0);

    rc = imgsync_task_wait(ctx, id, WAIT_MS);
    ck_assert_msg(rc == 0, "imgsync_task_wait = %d (%s)", rc, imgsync_strerror(rc));
    ck_assert_int_eq(imgsync_task_get(&t, ctx, id), 0);
    state = imgsync_task_state_of(t);
    if ((state != IMGSYNC_TASK_PARTIAL && state != IMGSYNC_TASK_FAILED) || getenv("IMGSYNC_IT_VERBOSE"))
        dump_task(t, NULL);
    ck_assert_msg(state == IMGSYNC_TASK_PARTIAL || state == IMGSYNC_TASK_FAILED, "task state %s",
                  imgsync_task_state_name(state));
    ck_assert_uint_eq(imgsync_task_registry_count(t), 1);
    ck_assert_int_eq(imgsync_task_registry_state(t, 0), IMGSYNC_REGISTRY_FAILED);
    ck_assert_msg(imgsync_task_registry_error(t, 0) == IMGSYNC_ENETWORK, "registry error %d (%s)",
                  imgsync_task_registry_error(t, 0), imgsync_strerror(imgsync_task_registry_error(t, 0)));
    ck_assert_msg(contains_nocase(imgsync_task_registry_reason(t, 0), "network"),
                  "the reason does not mention the network error: \"%s\"", imgsync_task_registry_reason(t, 0));
    ck_assert_uint_ge(COUNTER(t, REPOSITORIES_DONE), 1);
    ck_assert_uint_ge(COUNTER(t, REPOSITORIES_FAILED), 1);
    ck_assert_uint_eq(COUNTER(t, REPOSITORIES_DONE) + COUNTER(t, REPOSITORIES_FAILED), INITIAL_REPOS);
    ck_assert_uint_ge(COUNTER(t, RETRIES), 1);
    ck_assert_uint_eq(COUNTER(t, IMAGES_REMOVED), 0);
    /* failed repositories keep their previous rows; the done ones did not change */
    assert_inventory(ctx, c->reg.host, &c->initial, RF_ALL);

    imgsync_task_free(t);
    imgsync_task_free(t0);
    imgsync_ctx_free(ctx);
}
END_TEST

/* ---- e) a dead server ------------------------------------------------------------------------------- */

START_TEST(test_dead_server)
{
    imgsync_ctx *ctx = new_ctx();
    imgsync_provider *p;
    imgsync_task *t;
    char endpoint[64];
    int port = rf_closed_port(), rc;
    int64_t t0;

    ck_assert_int_gt(port, 0);
    snprintf(endpoint, sizeof endpoint, "http://127.0.0.1:%d", port);
    ctx_set(ctx, "max_retries", "1");
    ctx_set(ctx, "retry_base_ms", "10");
    p = add_provider(ctx, PROVIDER, endpoint, NULL, NULL);

    t0 = mono_ms();
    t = sync_wait(ctx, NULL, NULL);
    assert_failed(t, PROVIDER, IMGSYNC_ENETWORK, NULL);
    ck_assert_uint_eq(COUNTER(t, RETRIES), 1); /* max_retries=1: one retry after the first attempt */
    ck_assert_uint_eq(imgsync_inventory_count(ctx), 0);

    rc = imgsync_provider_check(p);
    ck_assert_msg(rc == IMGSYNC_ENETWORK, "provider_check = %d (%s)", rc, imgsync_strerror(rc));
    ck_assert_msg(contains_nocase(imgsync_ctx_errmsg(ctx), "network"),
                  "errmsg does not give the network error: \"%s\"", imgsync_ctx_errmsg(ctx));
    ck_assert_msg(mono_ms() - t0 < 10000, "took %" PRId64 " ms", mono_ms() - t0);

    imgsync_task_free(t);
    imgsync_ctx_free(ctx);
}
END_TEST

/* ---- f) plain http to a remote host; credentials in the endpoint ------------------------------------ */

START_TEST(test_plain_http_remote_refused)
{
    imgsync_ctx *ctx = new_ctx();
    imgsync_provider *p = add_provider(ctx, PROVIDER, "http://registry.invalid", NULL, NULL);
    imgsync_task *t;
    int rc;
    int64_t t0 = mono_ms();

    ctx_set(ctx, "max_retries", "1");
    ctx_set(ctx, "retry_base_ms", "10");
    t = sync_wait(ctx, NULL, NULL);
    assert_failed(t, PROVIDER, IMGSYNC_EINSECURE, NULL);
    ck_assert_uint_eq(COUNTER(t, REQUESTS), 0); /* refused before any network access */
    ck_assert_uint_eq(COUNTER(t, RETRIES), 0);
    ck_assert_uint_eq(imgsync_inventory_count(ctx), 0);

    rc = imgsync_provider_check(p);
    ck_assert_msg(rc == IMGSYNC_EINSECURE, "provider_check = %d (%s)", rc, imgsync_strerror(rc));
    ck_assert_msg(mono_ms() - t0 < 2000, "took %" PRId64 " ms: was the network used?", mono_ms() - t0);

    imgsync_task_free(t);
    imgsync_ctx_free(ctx);
}
END_TEST

START_TEST(test_endpoint_with_credentials_refused)
{
    static const char *const urls[] = {
        "http://robot:It-Url-Secret-42@127.0.0.1:5000",
        "https://robot:It-Url-Secret-42@registry.example.com/v2",
        "https://robot@registry.example.com",
    };
    imgsync_ctx *ctx = new_ctx();
    imgsync_provider *p = NULL;
    size_t i;

    ck_assert_int_eq(imgsync_provider_new(&p, ctx, "oci", PROVIDER), 0);
    for (i = 0; i < sizeof urls / sizeof urls[0]; i++) {
        int rc = imgsync_provider_set(p, "endpoint", urls[i]);
        ck_assert_msg(rc == IMGSYNC_EINVAL, "endpoint #%zu with credentials: %d, expected EINVAL", i, rc);
        ck_assert_msg(imgsync_ctx_errmsg(ctx)[0] != '\0', "no detail for endpoint #%zu", i);
        ck_assert_msg(!contains(imgsync_ctx_errmsg(ctx), "It-Url-Secret-42"),
                      "the error message repeats the password of endpoint #%zu", i);
    }
    /* the same URL without credentials is accepted */
    ck_assert_int_eq(imgsync_provider_set(p, "endpoint", "https://registry.example.com/v2"), 0);
    imgsync_ctx_free(ctx);
}
END_TEST

/* ---- suite ------------------------------------------------------------------------------------------- */

static TCase *registry_tcase(const char *name, void (*setup)(void), void (*teardown)(void))
{
    TCase *tc = tcase_create(name);

    if (setup != NULL)
        tcase_add_unchecked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, TCASE_TIMEOUT);
    return tc;
}

Suite *oci_registry_suite(void)
{
    Suite *s = suite_create("oci_registry");
    TCase *tc;

    tc = registry_tcase("sync_and_update", update_setup, update_teardown);
    tcase_add_test(tc, test_full_sync_and_update);
    suite_add_tcase(s, tc);

    tc = registry_tcase("requests", requests_setup, requests_teardown);
    tcase_add_test(tc, test_single_repository);
    tcase_add_test(tc, test_tag_filter_include);
    tcase_add_test(tc, test_namespace_filter_include);
    tcase_add_test(tc, test_exclude_filters);
    tcase_add_test(tc, test_max_tags);
    tcase_add_test(tc, test_resolve_digest);
    tcase_add_test(tc, test_resolve_none);
    suite_add_tcase(s, tc);

    tc = registry_tcase("basic_auth_and_cli", auth_setup, auth_teardown);
    tcase_add_test(tc, test_auth_right_credentials);
    tcase_add_test(tc, test_auth_wrong_password);
    tcase_add_test(tc, test_auth_no_credentials);
    tcase_add_test(tc, test_cli_sync_ndjson_and_check);
    tcase_add_test(tc, test_cli_wrong_password);
    suite_add_tcase(s, tc);

    tc = registry_tcase("registry_goes_away", gone_setup, gone_teardown);
    tcase_add_test(tc, test_registry_goes_away);
    suite_add_tcase(s, tc);

    tc = registry_tcase("no_registry", NULL, NULL);
    tcase_add_test(tc, test_dead_server);
    tcase_add_test(tc, test_plain_http_remote_refused);
    tcase_add_test(tc, test_endpoint_with_credentials_refused);
    suite_add_tcase(s, tc);

    return s;
}

#include "check_main.h"
IMGSYNC_TEST_MAIN(oci_registry_suite)
