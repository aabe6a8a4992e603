/* Review reproducers for the store interface v2 (src/inventory/store.h): each test states a
 * property of the contract that a backend or the wrappers broke. Run once per backend like
 * test_store.c, plus checks proper to the SQLite file. */
#include <check.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "imgsync.h"
#include "inventory/image.h"
#include "inventory/store.h"
#include "support/store_rows.h"
#include "util/buf.h"

Suite *review_store_suite(void);

static imgsync__store *S;
static char URI[512];
static char DIR_[256];
static char PATH_[300];

static void setup_memory(void)
{
    snprintf(URI, sizeof(URI), "memory:");
    DIR_[0] = PATH_[0] = '\0';
    ck_assert_int_eq(imgsync__store_open(&S, URI), 0);
}

static void setup_sqlite(void)
{
    snprintf(DIR_, sizeof(DIR_), "/tmp/imgsync-review-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(DIR_));
    snprintf(PATH_, sizeof(PATH_), "%s/inventory.db", DIR_);
    snprintf(URI, sizeof(URI), "sqlite:%s", PATH_);
    ck_assert_int_eq(imgsync__store_open(&S, URI), 0);
}

static void remove_files(const char *path)
{
    static const char *const suffixes[] = {"", "-wal", "-shm", "-journal"};
    char p[400];
    for (size_t i = 0; path[0] && i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
        snprintf(p, sizeof(p), "%s%s", path, suffixes[i]);
        unlink(p);
    }
}

static void teardown(void)
{
    imgsync__store_close(S);
    S = NULL;
    remove_files(PATH_);
    if (DIR_[0])
        rmdir(DIR_);
}

static struct imgsync_image *mk(const char *provider, const char *repo, const char *tag, const char *digest)
{
    struct imgsync_image *im = imgsync__image_new(provider, repo, tag, IMGSYNC_TYPE_OCI);
    ck_assert_ptr_nonnull(im);
    ck_assert_int_eq(imgsync__image_set_str(im, IMGSYNC__F_digest, digest), 0);
    imgsync__image_set_int(im, IMGSYNC__F_size, 100);
    return im;
}

/* Replace (provider, repo) with one row per tag of "a,b,..." (digest "d-<tag>"). */
static int put_tags_rc(imgsync__store *s, const char *provider, const char *repo, const char *tags)
{
    struct imgsync_image *rows[32];
    size_t n = 0;
    char buf[256];
    snprintf(buf, sizeof(buf), "%s", tags);
    for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        char digest[64];
        snprintf(digest, sizeof(digest), "d-%s", t);
        rows[n++] = mk(provider, repo, t, digest);
    }
    imgsync__store_counts c = {0, 0, 0};
    int rc = imgsync__store_replace(s, provider, "", repo, rows, n, NULL, &c);
    for (size_t i = 0; i < n; i++)
        imgsync__image_unref(rows[i]);
    return rc;
}

static void put_tags(const char *provider, const char *repo, const char *tags)
{
    ck_assert_int_eq(put_tags_rc(S, provider, repo, tags), 0);
}

/* Every row as "provider/repo:tag@digest" lines (malloc'd). */
static char *dump(void)
{
    struct imgsync_image **rows = NULL;
    size_t n = 0;
    imgsync__buf b;
    imgsync__buf_init(&b);
    ck_assert_int_eq(store_rows(S, &rows, &n), 0);
    for (size_t i = 0; i < n; i++) {
        ck_assert_int_eq(imgsync__buf_printf(&b, "%s/%s:%s@%s\n", imgsync__image_str(rows[i], IMGSYNC__F_registry),
                                             imgsync__image_str(rows[i], IMGSYNC__F_repository),
                                             imgsync__image_str(rows[i], IMGSYNC__F_tag),
                                             imgsync__image_str(rows[i], IMGSYNC__F_digest)),
                         0);
        imgsync__image_unref(rows[i]);
    }
    free(rows);
    char *out = imgsync__strdup(imgsync__buf_str(&b));
    imgsync__buf_free(&b);
    return out;
}

static void expect_dump(const char *want)
{
    char *got = dump();
    ck_assert_msg(!strcmp(got, want), "store:\n%s\nwant:\n%s", got, want);
    free(got);
}

/* The rows of a query cursor as dump() lines (malloc'd), or NULL when it cannot be opened. */
static char *query_dump(const imgsync__query *q, int *rc)
{
    imgsync__cursor *cur = NULL;
    imgsync__change_row ch;
    imgsync__buf b;
    if ((*rc = imgsync__store_query(S, q, &cur)) != 0)
        return NULL;
    imgsync__buf_init(&b);
    while ((*rc = imgsync__cursor_next(cur, &ch)) == 0 && ch.row)
        ck_assert_int_eq(imgsync__buf_printf(&b, "%s/%s:%s\n", imgsync__image_str(ch.row, IMGSYNC__F_registry),
                                             imgsync__image_str(ch.row, IMGSYNC__F_repository),
                                             imgsync__image_str(ch.row, IMGSYNC__F_tag)),
                         0);
    imgsync__cursor_free(cur);
    char *out = imgsync__strdup(imgsync__buf_str(&b));
    imgsync__buf_free(&b);
    return out;
}

/* ---- the query: as many entries as the reference takes ---------------------------------- */

#define MANY 1500

/* A request naming MANY repositories of one registry selects those (the repos rule); the
 * SQLite cursor must not refuse what imgsync__query_match selects. */
START_TEST(test_query_many_repositories)
{
    put_tags("p", "r7", "a");
    put_tags("p", "zz", "a");
    put_tags("q", "r1", "a");
    imgsync__query_repo *repos = calloc(MANY, sizeof(*repos));
    char(*names)[16] = calloc(MANY, sizeof(*names));
    ck_assert(repos && names);
    for (size_t i = 0; i < MANY; i++) {
        snprintf(names[i], sizeof(names[i]), "r%zu", i);
        repos[i] = (imgsync__query_repo){"p", names[i]};
    }
    imgsync__query q = {0};
    q.repos = repos;
    q.nrepos = MANY;
    int rc = 0;
    char *got = query_dump(&q, &rc);
    ck_assert_msg(rc == 0, "query of %d repositories: %d (%s)", MANY, rc, imgsync__store_errmsg(S));
    ck_assert_str_eq(got, "p/r7:a\nq/r1:a\n");
    free(got);
    free(repos);
    free(names);
}
END_TEST

/* Many include and exclude globs of one field: the same. */
START_TEST(test_query_many_globs)
{
    put_tags("p", "r", "x7,keep,y");
    imgsync__query_glob *globs = calloc(2 * MANY, sizeof(*globs));
    char(*pats)[16] = calloc(2 * MANY, sizeof(*pats));
    ck_assert(globs && pats);
    for (size_t i = 0; i < MANY; i++) {
        snprintf(pats[i], sizeof(pats[i]), "x%zu", i);
        globs[i] = (imgsync__query_glob){IMGSYNC_FILTER_TAG, IMGSYNC_INCLUDE, pats[i]};
        snprintf(pats[MANY + i], sizeof(pats[0]), "z%zu*", i);
        globs[MANY + i] = (imgsync__query_glob){IMGSYNC_FILTER_TAG, IMGSYNC_EXCLUDE, pats[MANY + i]};
    }
    globs[MANY - 1].pattern = "keep";
    imgsync__query q = {0};
    q.globs = globs;
    q.nglobs = 2 * MANY;
    int rc = 0;
    char *got = query_dump(&q, &rc);
    ck_assert_msg(rc == 0, "query of %d globs: %d (%s)", 2 * MANY, rc, imgsync__store_errmsg(S));
    ck_assert_str_eq(got, "p/r:keep\np/r:x7\n");
    free(got);
    free(globs);
    free(pats);
}
END_TEST

/* ---- explicit transactions --------------------------------------------------------------- */

static void insert_task(int state, uint64_t *id)
{
    imgsync__task_rec r;
    memset(&r, 0, sizeof(r));
    r.state = state;
    r.trigger = IMGSYNC_TRIGGER_MANUAL;
    r.reason = imgsync__strdup("");
    r.owner = imgsync__strdup("");
    ck_assert_int_eq(imgsync__store_task_insert(S, &r), 0);
    *id = r.id;
    imgsync__task_rec_clear(&r);
}

static int task_exists(uint64_t id)
{
    imgsync__task_rec r;
    memset(&r, 0, sizeof(r));
    int rc = imgsync__store_task_get(S, id, &r);
    imgsync__task_rec_clear(&r);
    ck_assert(rc == 0 || rc == IMGSYNC_ENOTFOUND);
    return rc == 0;
}

/* "replace/prune/task calls between begin and commit are one transaction": a rollback undoes
 * the task and schedule calls too, as it undoes the rows and the change feed. */
START_TEST(test_rollback_undoes_task_calls)
{
    uint64_t old = 0, fresh = 0;
    insert_task(IMGSYNC_TASK_SUCCEEDED, &old);
    imgsync__store_set_change_task(S, old);
    put_tags("p", "r", "a");
    ck_assert_int_eq(imgsync__store_begin(S), 0);
    insert_task(IMGSYNC_TASK_RUNNING, &fresh);
    imgsync__schedule_rec sr;
    memset(&sr, 0, sizeof(sr));
    sr.request = imgsync__strdup("{}");
    ck_assert_int_eq(imgsync__store_schedule_insert(S, &sr), 0);
    imgsync__schedule_rec_clear(&sr);
    size_t removed = 0;
    ck_assert_int_eq(imgsync__store_task_prune(S, 0, &removed), 0);
    ck_assert_uint_eq(removed, 1);
    imgsync__store_rollback(S);
    /* the change feed came back (it does) ... */
    imgsync__cursor *cur = NULL;
    imgsync__change_row ch;
    ck_assert_int_eq(imgsync__store_changes(S, old, 0, &cur), 0);
    ck_assert_int_eq(imgsync__cursor_next(cur, &ch), 0);
    ck_assert_ptr_nonnull(ch.row);
    imgsync__cursor_free(cur);
    /* ... and so must the task it belongs to; the new task and schedule must be gone */
    ck_assert_msg(task_exists(old), "the pruned task is still gone after the rollback");
    ck_assert_msg(!task_exists(fresh), "the task inserted in the rolled-back transaction stays");
    imgsync__schedule_rec *v = NULL;
    size_t n = 0;
    ck_assert_int_eq(imgsync__store_schedule_list(S, &v, &n), 0);
    for (size_t i = 0; i < n; i++)
        imgsync__schedule_rec_clear(&v[i]);
    free(v);
    ck_assert_msg(n == 0, "the schedule inserted in the rolled-back transaction stays");
}
END_TEST

/* One thread, two stores (two contexts on one thread, say), each in a transaction: each commits. */
START_TEST(test_transactions_on_two_stores)
{
    imgsync__store *other = NULL;
    ck_assert_int_eq(imgsync__store_open(&other, "memory:"), 0);
    ck_assert_int_eq(imgsync__store_begin(S), 0);
    put_tags("p", "r", "a");
    ck_assert_int_eq(imgsync__store_begin(other), 0);
    ck_assert_int_eq(put_tags_rc(other, "p", "r", "b"), 0);
    ck_assert_int_eq(imgsync__store_commit(other), 0);
    ck_assert_int_eq(imgsync__store_commit(S), 0); /* not "not in a transaction", its lock left held */
    /* and neither lock is left held: both stores can begin again */
    ck_assert_int_eq(imgsync__store_begin(S), 0);
    ck_assert_int_eq(imgsync__store_commit(S), 0);
    ck_assert_int_eq(imgsync__store_begin(other), 0);
    ck_assert_int_eq(imgsync__store_commit(other), 0);
    imgsync__store_close(other);
    expect_dump("p/r:a@d-a\n");
}
END_TEST

/* Closing a store inside a transaction (an error path) leaves nothing behind on the thread: the
 * next store, very likely at the same address, starts unlocked and out of any transaction. */
START_TEST(test_close_inside_transaction)
{
    for (int i = 0; i < 4; i++) {
        ck_assert_int_eq(imgsync__store_begin(S), 0);
        put_tags("p", "r", "a");
        imgsync__store_close(S);
        S = NULL;
        remove_files(PATH_);
        ck_assert_int_eq(imgsync__store_open(&S, URI), 0);
        ck_assert_int_eq(imgsync__store_begin(S), 0);
        ck_assert_int_eq(imgsync__store_commit(S), 0);
    }
}
END_TEST

/* ---- SQLite only ------------------------------------------------------------------------- */

static void exec_sql(const char *sql)
{
    sqlite3 *db = NULL;
    ck_assert_int_eq(sqlite3_open(PATH_, &db), SQLITE_OK);
    ck_assert_int_eq(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    ck_assert_int_eq(sqlite3_close(db), SQLITE_OK);
}

/* A replace that fails half-way inside an explicit transaction changes nothing (as in the memory
 * store, and as the SQLite task calls do with their savepoint): a caller that goes on and commits
 * the others must not commit half a scope and changes of rows that were never stored. */
START_TEST(test_sqlite_failed_replace_in_transaction_leaves_nothing)
{
    put_tags("p", "r", "a");
    /* a write failure on the second row of the scope (a full disk, say) */
    exec_sql("CREATE TRIGGER boom BEFORE INSERT ON rows WHEN NEW.tag = 'boom' BEGIN SELECT RAISE(ABORT, 'boom'); END;");
    imgsync__store_set_change_task(S, 3);
    ck_assert_int_eq(imgsync__store_begin(S), 0);
    struct imgsync_image *rows[] = {mk("p", "r", "a", "d-a2"), mk("p", "r", "boom", "d-b")};
    imgsync__store_counts c = {0, 0, 0};
    ck_assert_int_eq(imgsync__store_replace(S, "p", "", "r", rows, 2, NULL, &c), IMGSYNC_ESTORE);
    imgsync__image_unref(rows[0]);
    imgsync__image_unref(rows[1]);
    put_tags("p", "other", "x");
    ck_assert_int_eq(imgsync__store_commit(S), 0);
    expect_dump("p/other:x@d-x\np/r:a@d-a\n");
    imgsync__cursor *cur = NULL;
    imgsync__change_row ch;
    ck_assert_int_eq(imgsync__store_changes(S, 3, 0, &cur), 0);
    ck_assert_int_eq(imgsync__cursor_next(cur, &ch), 0);
    ck_assert_ptr_nonnull(ch.row);
    ck_assert_str_eq(imgsync__image_str(ch.row, IMGSYNC__F_repository), "other");
    ck_assert_int_eq(imgsync__cursor_next(cur, &ch), 0);
    ck_assert_ptr_null(ch.row);
    imgsync__cursor_free(cur);
}
END_TEST

/* A store opened by a relative path keeps reading its own file after the process changes its
 * working directory (cursors open their connections later, by path). */
START_TEST(test_sqlite_relative_path_after_chdir)
{
    char cwd[PATH_MAX];
    ck_assert_ptr_nonnull(getcwd(cwd, sizeof(cwd)));
    imgsync__store_close(S);
    remove_files(PATH_);
    ck_assert_int_eq(chdir(DIR_), 0);
    ck_assert_int_eq(imgsync__store_open(&S, "sqlite:inventory.db"), 0);
    put_tags("p", "r", "a");
    ck_assert_int_eq(chdir("/"), 0);
    int rc = 0;
    char *got = query_dump(NULL, &rc);
    ck_assert_int_eq(chdir(cwd), 0);
    ck_assert_msg(rc == 0, "query after chdir: %d (%s)", rc, imgsync__store_errmsg(S));
    ck_assert_str_eq(got, "p/r:a\n");
    free(got);
}
END_TEST

static char *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    char *buf = malloc(1 << 20);
    ck_assert_ptr_nonnull(buf);
    *n = fread(buf, 1, 1 << 20, f);
    fclose(f);
    return buf;
}

/* "sqlite:PATH" naming another program's database (schema version 0, tables of its own: a typo
 * in a configuration, say) is refused, and the file is left as it was: neither switched to WAL
 * nor given the store's tables. */
START_TEST(test_sqlite_foreign_database_refused)
{
    imgsync__store_close(S);
    S = NULL;
    remove_files(PATH_);
    exec_sql("CREATE TABLE accounts (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO accounts VALUES (1, 'x');");
    size_t before_n = 0, after_n = 0;
    char *before = slurp(PATH_, &before_n), msg[256];
    imgsync__store *s = NULL;
    int rc = imgsync__store_open_msg(&s, URI, msg, sizeof(msg));
    imgsync__store_close(s);
    char *after = slurp(PATH_, &after_n);
    int same = before_n == after_n && memcmp(before, after, before_n) == 0;
    free(before);
    free(after);
    ck_assert_msg(rc == IMGSYNC_ESTORE, "opening another program's database: %d", rc);
    ck_assert_msg(same, "the foreign database was changed");
}
END_TEST

static void add_common(TCase *tc)
{
    tcase_add_test(tc, test_query_many_repositories);
    tcase_add_test(tc, test_query_many_globs);
    tcase_add_test(tc, test_rollback_undoes_task_calls);
    tcase_add_test(tc, test_transactions_on_two_stores);
    tcase_add_test(tc, test_close_inside_transaction);
}

Suite *review_store_suite(void)
{
    Suite *s = suite_create("review_store");
    TCase *mem = tcase_create("memory");
    tcase_add_checked_fixture(mem, setup_memory, teardown);
    add_common(mem);
    suite_add_tcase(s, mem);
    TCase *sql = tcase_create("sqlite");
    tcase_add_checked_fixture(sql, setup_sqlite, teardown);
    add_common(sql);
    tcase_add_test(sql, test_sqlite_failed_replace_in_transaction_leaves_nothing);
    tcase_add_test(sql, test_sqlite_relative_path_after_chdir);
    tcase_add_test(sql, test_sqlite_foreign_database_refused);
    tcase_set_timeout(sql, 30);
    suite_add_tcase(s, sql);
    return s;
}

#include "check_main.h"
IMGSYNC_TEST_MAIN(review_store_suite)
