/* Unit tests of the inventory stores through src/inventory/store.h: the whole suite runs once per
 * backend (memory.c, and sqlite.c on a file in a fresh temporary directory), then checks proper
 * to the SQLite file. Reference counts are checked explicitly; run under valgrind to prove
 * nothing leaks. */
#include <check.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/request.h"
#include "imgsync.h"
#include "inventory/image.h"
#include "inventory/sqlite.h"
#include "inventory/store.h"
#include "support/store_rows.h"
#include "util/buf.h"
#include "util/map.h"

/* The core's selector for a request (NULL: every image row), as the store receives it. */
static const imgsync__selector *SEL(const imgsync_request *r)
{
    static imgsync__selector ring[4];
    static unsigned next;
    imgsync__selector *s = &ring[next++ % 4];
    *s = imgsync__request_selector(r);
    return s;
}

Suite *store_suite(void);

static imgsync__store *S;
static char URI[512];    /* the store under test */
static char DIR_[256];   /* its temporary directory ("" for memory) */
static char PATH_[300];  /* the SQLite file */
static int SHARED_ROWS;  /* the store keeps the caller's rows (memory) rather than copies */

static void open_store(void)
{
    S = NULL;
    ck_assert_int_eq(imgsync__store_open(&S, URI), 0);
    ck_assert_ptr_nonnull(S);
}

static void setup_memory(void)
{
    snprintf(URI, sizeof(URI), "memory:");
    DIR_[0] = PATH_[0] = '\0';
    SHARED_ROWS = 1;
    open_store();
}

static void setup_sqlite(void)
{
    snprintf(DIR_, sizeof(DIR_), "/tmp/imgsync-store-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(DIR_));
    snprintf(PATH_, sizeof(PATH_), "%s/inventory.db", DIR_);
    snprintf(URI, sizeof(URI), "sqlite:%s", PATH_);
    SHARED_ROWS = 0;
    open_store();
}

/* Remove the SQLite file, its WAL companions and the directory. */
static void remove_files(void)
{
    static const char *const suffixes[] = {"", "-wal", "-shm", "-journal"};
    char p[320];
    for (size_t i = 0; PATH_[0] && i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
        snprintf(p, sizeof(p), "%s%s", PATH_, suffixes[i]);
        unlink(p);
    }
    if (DIR_[0])
        rmdir(DIR_);
}

static void teardown(void)
{
    imgsync__store_close(S);
    S = NULL;
    remove_files();
}

/* A row with refs = 1 (the caller's). */
static struct imgsync_image *mk(const char *provider, const char *repo, const char *tag, const char *digest)
{
    struct imgsync_image *im = imgsync__image_new(provider, repo, tag, IMGSYNC_TYPE_OCI);
    ck_assert_ptr_nonnull(im);
    char *ns = imgsync__namespace_of(repo);
    ck_assert_ptr_nonnull(ns);
    ck_assert_int_eq(imgsync__image_set_str(im, IMGSYNC__F_namespace, ns), 0);
    free(ns);
    ck_assert_int_eq(imgsync__image_set_str(im, IMGSYNC__F_digest, digest), 0);
    ck_assert_int_eq(imgsync__image_set_str(im, IMGSYNC__F_media_type, "application/vnd.oci.image.manifest.v1+json"), 0);
    ck_assert_int_eq(imgsync__image_set_str(im, IMGSYNC__F_host, "reg.example.com"), 0);
    imgsync__image_set_int(im, IMGSYNC__F_size, 100);
    return im;
}

static void unref_all(struct imgsync_image **rows, size_t n)
{
    for (size_t i = 0; i < n; i++)
        imgsync__image_unref(rows[i]);
}

/* Replace (provider, repo) with rows; the caller's references are dropped afterwards. */
static imgsync__store_counts put(const char *provider, const char *repo, struct imgsync_image **rows, size_t n,
                                 const imgsync_request *sel)
{
    imgsync__store_counts c = {0, 0, 0};
    ck_assert_int_eq(imgsync__store_replace(S, provider, "", repo, rows, n, SEL(sel), &c), 0);
    unref_all(rows, n);
    return c;
}

/* Put tags "t1,t2,..." (digest "d-<tag>") into (provider, repo). */
static imgsync__store_counts put_tags(const char *provider, const char *repo, const char *tags,
                                      const imgsync_request *sel)
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
    return put(provider, repo, rows, n, sel);
}

/* The store as "provider/repo:tag@digest" lines, in snapshot order; malloc'd. Also checks that
 * the snapshot holds a reference on every row and that count agrees. */
static char *dump(void)
{
    struct imgsync_image **rows = NULL;
    size_t n = 0;
    ck_assert_int_eq(store_rows(S, &rows, &n), 0);
    ck_assert_ptr_nonnull(rows);
    ck_assert_uint_eq(n, imgsync__store_count(S));
    size_t cap = 64 + n * 160, len = 0;
    char *out = malloc(cap);
    ck_assert_ptr_nonnull(out);
    out[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        ck_assert_int_ge(rows[i]->refs, SHARED_ROWS ? 2 : 1); /* the store's (memory) and the snapshot's */
        len += (size_t)snprintf(out + len, cap - len, "%s/%s:%s@%s\n", imgsync__image_str(rows[i], IMGSYNC__F_registry), imgsync__image_str(rows[i], IMGSYNC__F_repository),
                                imgsync__image_str(rows[i], IMGSYNC__F_tag), imgsync__image_str(rows[i], IMGSYNC__F_digest));
    }
    unref_all(rows, n);
    free(rows);
    return out;
}

static void expect_dump(const char *want)
{
    char *got = dump();
    ck_assert_msg(!strcmp(got, want), "store:\n%s\nwant:\n%s", got, want);
    free(got);
}

static void expect_counts(imgsync__store_counts c, uint64_t added, uint64_t updated, uint64_t removed)
{
    ck_assert_msg(c.added == added && c.updated == updated && c.removed == removed,
                  "counts added %llu updated %llu removed %llu, want %llu %llu %llu", (unsigned long long)c.added,
                  (unsigned long long)c.updated, (unsigned long long)c.removed, (unsigned long long)added,
                  (unsigned long long)updated, (unsigned long long)removed);
}

static imgsync_request *tag_filter(const char *pattern, int mode)
{
    imgsync_request *r = NULL;
    ck_assert_int_eq(imgsync_request_new(&r), 0);
    ck_assert_int_eq(imgsync_request_add_filter(r, IMGSYNC_FILTER_TAG, pattern, mode), 0);
    return r;
}

/* ---- tests ---------------------------------------------------------------------------------- */

START_TEST(test_open)
{
    imgsync__store *s = NULL;
    ck_assert_int_eq(imgsync__store_open(&s, "memory:"), 0);
    ck_assert_ptr_nonnull(s);
    ck_assert_uint_eq(imgsync__store_count(s), 0);
    imgsync__store_close(s);
    s = NULL;
    ck_assert_int_eq(imgsync__store_open(&s, "postgres://db/inventory"), IMGSYNC_EUNSUPPORTED);
    ck_assert_ptr_null(s);
    ck_assert_int_eq(imgsync__store_open(&s, "sqlite:"), IMGSYNC_EUNSUPPORTED);
    ck_assert_ptr_null(s);
    ck_assert_int_eq(imgsync__store_open(&s, "memory"), IMGSYNC_EUNSUPPORTED);
    ck_assert_ptr_null(s);
    imgsync__store_close(NULL);
}
END_TEST

START_TEST(test_replace_counts)
{
    expect_counts(put_tags("p", "team/app", "v1,v2,latest", NULL), 3, 0, 0);
    ck_assert_uint_eq(imgsync__store_count(S), 3);
    /* identical content (new objects, another sync time) is not an update */
    struct imgsync_image *same[] = {mk("p", "team/app", "v1", "d-v1"), mk("p", "team/app", "v2", "d-v2"),
                                    mk("p", "team/app", "latest", "d-latest")};
    for (size_t i = 0; i < 3; i++)
        imgsync__image_set_int(same[i], IMGSYNC__F_sync_ms, 123456789);
    expect_counts(put("p", "team/app", same, 3, NULL), 0, 0, 0);
    /* each content field counts as an update */
    struct imgsync_image *changed[] = {mk("p", "team/app", "v1", "d-v1-new"), mk("p", "team/app", "v2", "d-v2"),
                                       mk("p", "team/app", "latest", "d-latest")};
    imgsync__image_set_int(changed[1], IMGSYNC__F_size, 101);
    imgsync__image_set_int(changed[2], IMGSYNC__F_multi_arch, 1);
    expect_counts(put("p", "team/app", changed, 3, NULL), 0, 3, 0);
    struct imgsync_image *upd[] = {mk("p", "team/app", "v1", "d-v1-new"), mk("p", "team/app", "v2", "d-v2"),
                                   mk("p", "team/app", "latest", "d-latest")};
    imgsync__image_set_int(upd[1], IMGSYNC__F_size, 101);
    imgsync__image_set_int(upd[2], IMGSYNC__F_multi_arch, 1);
    imgsync__image_set_int(upd[0], IMGSYNC__F_update_ms, 1700000000000);
    ck_assert_int_eq(imgsync__image_set_str(upd[1], IMGSYNC__F_media_type, "application/vnd.docker.distribution.manifest.v2+json"), 0);
    expect_counts(put("p", "team/app", upd, 3, NULL), 0, 2, 0);
    /* a tag gone, a tag new */
    expect_counts(put_tags("p", "team/app", "v1,v3", NULL), 1, 1, 2);
    expect_dump("p/team/app:v1@d-v1\np/team/app:v3@d-v3\n");
    /* counts are added to what *c already holds */
    imgsync__store_counts c = {10, 20, 30};
    struct imgsync_image *one = mk("p", "b", "1", "d");
    ck_assert_int_eq(imgsync__store_replace(S, "p", "", "b", &one, 1, SEL(NULL), &c), 0);
    imgsync__image_unref(one);
    expect_counts(c, 11, 20, 30);
    ck_assert_uint_eq(imgsync__store_count(S), 3);
}
END_TEST

START_TEST(test_refcounts)
{
    struct imgsync_image *a = mk("p", "r", "a", "d1"), *b = mk("p", "r", "b", "d1");
    struct imgsync_image *rows[] = {a, b};
    imgsync__store_counts c = {0, 0, 0};
    ck_assert_int_eq(imgsync__store_replace(S, "p", "", "r", rows, 2, SEL(NULL), &c), 0);
    /* the store took its own reference */
    ck_assert_int_eq(a->refs, 2);
    ck_assert_int_eq(b->refs, 2);
    /* a snapshot takes one more per row, given back by unref */
    struct imgsync_image **snap = NULL;
    size_t n = 0;
    ck_assert_int_eq(store_rows(S, &snap, &n), 0);
    ck_assert_uint_eq(n, 2);
    ck_assert_ptr_eq(snap[0], a);
    ck_assert_int_eq(a->refs, 3);
    /* replacing the repository releases the store's references on the old rows... */
    struct imgsync_image *a2 = mk("p", "r", "a", "d2");
    ck_assert_int_eq(imgsync__store_replace(S, "p", "", "r", &a2, 1, SEL(NULL), &c), 0);
    imgsync__image_unref(a2);
    ck_assert_int_eq(a->refs, 2);
    ck_assert_int_eq(b->refs, 2);
    /* ...while the snapshot still holds valid rows */
    ck_assert_str_eq(imgsync__image_str(snap[1], IMGSYNC__F_tag), "b");
    ck_assert_str_eq(imgsync__image_str(snap[0], IMGSYNC__F_digest), "d1");
    unref_all(snap, n);
    free(snap);
    ck_assert_int_eq(a->refs, 1);
    ck_assert_int_eq(b->refs, 1);
    imgsync__image_unref(a);
    imgsync__image_unref(b);
    /* the replacement row lives on in the store alone */
    expect_dump("p/r:a@d2\n");
    /* closing the store with rows in it releases them (valgrind checks) */
}
END_TEST

START_TEST(test_tag_filtered_replace)
{
    put_tags("p", "team/app", "v1,v2,latest,stable", NULL);
    struct imgsync_image **before = NULL;
    size_t nb = 0;
    ck_assert_int_eq(store_rows(S, &before, &nb), 0);
    ck_assert_uint_eq(nb, 4);
    ck_assert_str_eq(imgsync__image_str(before[0], IMGSYNC__F_tag), "latest");

    imgsync_request *sel = tag_filter("v*", IMGSYNC_INCLUDE);
    struct imgsync_image *rows[] = {mk("p", "team/app", "v1", "d-v1-new"), mk("p", "team/app", "v3", "d-v3")};
    /* v1 updated, v2 removed, v3 added; latest and stable are not selected and stay */
    expect_counts(put("p", "team/app", rows, 2, sel), 1, 1, 1);
    expect_dump("p/team/app:latest@d-latest\np/team/app:stable@d-stable\np/team/app:v1@d-v1-new\n"
                "p/team/app:v3@d-v3\n");
    /* the kept rows are the very same objects (memory), or the same content (SQLite) */
    struct imgsync_image **after = NULL;
    size_t na = 0;
    ck_assert_int_eq(store_rows(S, &after, &na), 0);
    for (int i = 0; i < 2; i++) {
        if (SHARED_ROWS)
            ck_assert_ptr_eq(after[i], before[i]);
        else
            ck_assert_int_eq(imgsync__image_differs(after[i], before[i]), 0);
    }
    unref_all(after, na);
    free(after);
    unref_all(before, nb);
    free(before);

    /* zero selected rows: only the selected tags go; the repository stays */
    expect_counts(put("p", "team/app", NULL, 0, sel), 0, 0, 2);
    expect_dump("p/team/app:latest@d-latest\np/team/app:stable@d-stable\n");
    imgsync_request_free(sel);

    /* an exclude filter selects everything else */
    sel = tag_filter("latest", IMGSYNC_EXCLUDE);
    expect_counts(put_tags("p", "team/app", "v9", sel), 1, 0, 1);
    expect_dump("p/team/app:latest@d-latest\np/team/app:v9@d-v9\n");
    imgsync_request_free(sel);
}
END_TEST

START_TEST(test_replace_zero_rows_deletes)
{
    put_tags("p", "a", "1,2", NULL);
    put_tags("p", "b", "1", NULL);
    expect_counts(put("p", "a", NULL, 0, NULL), 0, 0, 2);
    ck_assert_uint_eq(imgsync__store_count(S), 1);
    expect_dump("p/b:1@d-1\n");
    /* the repository is really gone: its next rows are all new */
    expect_counts(put_tags("p", "a", "1", NULL), 1, 0, 0);
    /* zero rows for an unknown repository is a no-op */
    expect_counts(put("p", "nothing", NULL, 0, NULL), 0, 0, 0);
    expect_counts(put("q", "a", NULL, 0, NULL), 0, 0, 0);
    expect_dump("p/a:1@d-1\np/b:1@d-1\n");
}
END_TEST

/* A map of seen repository names (values are unused but non-NULL). */
static void seen_init(imgsync__map *m, const char *const *names, size_t n)
{
    imgsync__map_init(m);
    for (size_t i = 0; i < n; i++)
    {
        char *key = imgsync__scope_key("", names[i]); /* partition "" */
        ck_assert_ptr_nonnull(key);
        ck_assert_int_eq(imgsync__map_put(m, key, (void *)names[i], NULL), 0);
        free(key);
    }
}

START_TEST(test_prune)
{
    put_tags("p", "a", "1", NULL);
    put_tags("p", "b", "1,2", NULL);
    put_tags("p", "team/c", "1", NULL);
    put_tags("q", "b", "1", NULL);
    imgsync__map seen;
    const char *names[] = {"a"};
    seen_init(&seen, names, 1);

    /* selected by a repository filter: only b goes */
    imgsync_request *sel = NULL;
    ck_assert_int_eq(imgsync_request_new(&sel), 0);
    ck_assert_int_eq(imgsync_request_add_filter(sel, IMGSYNC_FILTER_REPOSITORY, "b", IMGSYNC_INCLUDE), 0);
    imgsync__store_counts c = {0, 0, 0};
    ck_assert_int_eq(imgsync__store_prune(S, "p", &seen, NULL, NULL, SEL(sel), &c), 0);
    expect_counts(c, 0, 0, 2);
    expect_dump("p/a:1@d-1\np/team/c:1@d-1\nq/b:1@d-1\n");
    imgsync_request_free(sel);

    /* a namespace filter that does not select team: nothing goes */
    ck_assert_int_eq(imgsync_request_new(&sel), 0);
    ck_assert_int_eq(imgsync_request_add_filter(sel, IMGSYNC_FILTER_NAMESPACE, "org", IMGSYNC_INCLUDE), 0);
    c = (imgsync__store_counts){0, 0, 0};
    ck_assert_int_eq(imgsync__store_prune(S, "p", &seen, NULL, NULL, SEL(sel), &c), 0);
    expect_counts(c, 0, 0, 0);
    imgsync_request_free(sel);

    /* no selection: every unseen repository of p goes, q is untouched */
    c = (imgsync__store_counts){0, 0, 0};
    ck_assert_int_eq(imgsync__store_prune(S, "p", &seen, NULL, NULL, SEL(NULL), &c), 0);
    expect_counts(c, 0, 0, 1);
    expect_dump("p/a:1@d-1\nq/b:1@d-1\n");
    imgsync__map_clear(&seen);

    /* an unknown provider: nothing */
    imgsync__map empty;
    imgsync__map_init(&empty);
    c = (imgsync__store_counts){0, 0, 0};
    ck_assert_int_eq(imgsync__store_prune(S, "nobody", &empty, NULL, NULL, SEL(NULL), &c), 0);
    expect_counts(c, 0, 0, 0);
    ck_assert_uint_eq(imgsync__store_count(S), 2);
}
END_TEST

START_TEST(test_prune_tag_filter_and_repository_list)
{
    put_tags("p", "a", "v1,latest", NULL);
    put_tags("p", "b", "v1,latest", NULL);
    put_tags("p", "c", "v1", NULL);
    imgsync__map seen;
    seen_init(&seen, NULL, 0);

    /* a tag-filtered request removes only the selected tags of unseen repositories */
    imgsync_request *sel = tag_filter("v*", IMGSYNC_INCLUDE);
    ck_assert_int_eq(imgsync_request_add_repository(sel, "p", "a"), 0);
    ck_assert_int_eq(imgsync_request_add_repository(sel, "p", "c"), 0);
    /* explicit repositories: b is not selectable */
    imgsync__store_counts c = {0, 0, 0};
    ck_assert_int_eq(imgsync__store_prune(S, "p", &seen, NULL, NULL, SEL(sel), &c), 0);
    expect_counts(c, 0, 0, 2);
    expect_dump("p/a:latest@d-latest\np/b:latest@d-latest\np/b:v1@d-v1\n");
    imgsync_request_free(sel);
    imgsync__map_clear(&seen);
}
END_TEST

START_TEST(test_prune_keeps_failed_namespaces)
{
    put_tags("p", "team/a", "1", NULL);
    put_tags("p", "team/b", "1", NULL);
    put_tags("p", "org/c", "1", NULL);
    put_tags("p", "d", "1", NULL);
    imgsync__map seen, failed;
    seen_init(&seen, NULL, 0);
    const char *bad[] = {"team", ""};
    seen_init(&failed, bad, 1);
    /* namespace team could not be listed: its repositories are kept */
    imgsync__store_counts c = {0, 0, 0};
    ck_assert_int_eq(imgsync__store_prune(S, "p", &seen, NULL, &failed, SEL(NULL), &c), 0);
    expect_counts(c, 0, 0, 2);
    expect_dump("p/team/a:1@d-1\np/team/b:1@d-1\n");
    imgsync__map_clear(&failed);
    /* the namespace of a top-level repository is "" */
    put_tags("p", "d", "1", NULL);
    seen_init(&failed, bad + 1, 1);
    c = (imgsync__store_counts){0, 0, 0};
    ck_assert_int_eq(imgsync__store_prune(S, "p", &seen, NULL, &failed, SEL(NULL), &c), 0);
    expect_counts(c, 0, 0, 2);
    expect_dump("p/d:1@d-1\n");
    imgsync__map_clear(&failed);
    imgsync__map_clear(&seen);
}
END_TEST

START_TEST(test_untagged_rows_keyed_by_digest)
{
    /* two untagged artifacts and a tag in one repository */
    struct imgsync_image *rows[] = {mk("p", "r", "", "sha256:aa"), mk("p", "r", "", "sha256:bb"),
                                    mk("p", "r", "v1", "sha256:cc")};
    expect_counts(put("p", "r", rows, 3, NULL), 3, 0, 0);
    ck_assert_uint_eq(imgsync__store_count(S), 3);
    /* the same again: nothing changes (each untagged row matched by its digest) */
    struct imgsync_image *again[] = {mk("p", "r", "", "sha256:bb"), mk("p", "r", "", "sha256:aa"),
                                     mk("p", "r", "v1", "sha256:cc")};
    expect_counts(put("p", "r", again, 3, NULL), 0, 0, 0);
    /* one untagged artifact deleted, another pushed: not an update of a shared "" key */
    struct imgsync_image *next[] = {mk("p", "r", "", "sha256:aa"), mk("p", "r", "", "sha256:dd"),
                                    mk("p", "r", "v1", "sha256:cc")};
    expect_counts(put("p", "r", next, 3, NULL), 1, 0, 1);
    char *got = dump();
    ck_assert_msg(strstr(got, "p/r:@sha256:aa\n") && strstr(got, "p/r:@sha256:dd\n") && !strstr(got, "sha256:bb"),
                  "store:\n%s", got);
    free(got);
    /* a tag filter does not select untagged rows: they stay */
    imgsync_request *sel = tag_filter("v*", IMGSYNC_INCLUDE);
    expect_counts(put("p", "r", NULL, 0, sel), 0, 0, 1);
    imgsync_request_free(sel);
    ck_assert_uint_eq(imgsync__store_count(S), 2);
}
END_TEST

START_TEST(test_prune_many)
{
    /* many repositories removed in one walk (the walk deletes while it iterates) */
    char repo[32];
    for (int i = 0; i < 300; i++) {
        snprintf(repo, sizeof(repo), "ns%d/repo%d", i % 7, i);
        put_tags("p", repo, "1,2", NULL);
        if (i % 3 == 0)
            put_tags("q", repo, "1", NULL);
    }
    ck_assert_uint_eq(imgsync__store_count(S), 700);
    imgsync__map seen;
    const char *keep[] = {"ns0/repo0", "ns1/repo1", "ns5/repo299"};
    seen_init(&seen, keep, 3);
    imgsync__store_counts c = {0, 0, 0};
    ck_assert_int_eq(imgsync__store_prune(S, "p", &seen, NULL, NULL, SEL(NULL), &c), 0);
    imgsync__map_clear(&seen);
    expect_counts(c, 0, 0, 594);
    ck_assert_uint_eq(imgsync__store_count(S), 106);
    struct imgsync_image **rows = NULL;
    size_t n = 0;
    ck_assert_int_eq(store_rows(S, &rows, &n), 0);
    ck_assert_uint_eq(n, 106);
    size_t from_p = 0;
    for (size_t i = 0; i < n; i++) {
        if (!strcmp(imgsync__image_str(rows[i], IMGSYNC__F_registry), "p")) {
            from_p++;
            ck_assert_msg(!strcmp(imgsync__image_str(rows[i], IMGSYNC__F_repository), "ns0/repo0") || !strcmp(imgsync__image_str(rows[i], IMGSYNC__F_repository), "ns1/repo1") ||
                              !strcmp(imgsync__image_str(rows[i], IMGSYNC__F_repository), "ns5/repo299"),
                          "p/%s survived the prune", imgsync__image_str(rows[i], IMGSYNC__F_repository));
        }
    }
    ck_assert_uint_eq(from_p, 6);
    unref_all(rows, n);
    free(rows);
}
END_TEST

START_TEST(test_snapshot_order)
{
    put_tags("zeta", "a", "1", NULL);
    put_tags("p", "team/app", "v2,v10,v1", NULL);
    put_tags("p", "team-app", "x", NULL);
    put_tags("p", "B", "1", NULL);
    put_tags("p", "a", "latest,Latest", NULL);
    put_tags("P", "a", "1", NULL);
    /* registry, repository, tag, each in byte order */
    expect_dump("P/a:1@d-1\n"
                "p/B:1@d-1\n"
                "p/a:Latest@d-Latest\n"
                "p/a:latest@d-latest\n"
                "p/team-app:x@d-x\n"
                "p/team/app:v1@d-v1\n"
                "p/team/app:v10@d-v10\n"
                "p/team/app:v2@d-v2\n"
                "zeta/a:1@d-1\n");
    /* the empty store gives an empty snapshot */
    imgsync__store *s = NULL;
    ck_assert_int_eq(imgsync__store_open(&s, NULL), 0);
    struct imgsync_image **rows = NULL;
    size_t n = 99;
    ck_assert_int_eq(store_rows(s, &rows, &n), 0);
    ck_assert_uint_eq(n, 0);
    free(rows);
    imgsync__store_close(s);
}
END_TEST

START_TEST(test_drop_provider)
{
    for (int i = 0; i < 40; i++) {
        char repo[16];
        snprintf(repo, sizeof(repo), "r%d", i);
        put_tags("p", repo, "1,2", NULL);
    }
    put_tags("q", "r1", "1", NULL);
    put_tags("pp", "r1", "1", NULL);
    ck_assert_uint_eq(imgsync__store_count(S), 82);
    imgsync__store_drop_provider(S, "p");
    ck_assert_uint_eq(imgsync__store_count(S), 2);
    expect_dump("pp/r1:1@d-1\nq/r1:1@d-1\n");
    imgsync__store_drop_provider(S, "nobody");
    ck_assert_uint_eq(imgsync__store_count(S), 2);
    /* p can come back */
    expect_counts(put_tags("p", "r1", "1", NULL), 1, 0, 0);
    ck_assert_uint_eq(imgsync__store_count(S), 3);
}
END_TEST

START_TEST(test_provider_and_repository_keys_distinct)
{
    /* provider/repository pairs that concatenate to the same text stay apart */
    put_tags("p", "a/b", "1", NULL);
    put_tags("p/a", "b", "2", NULL);
    ck_assert_uint_eq(imgsync__store_count(S), 2);
    expect_counts(put("p", "a/b", NULL, 0, NULL), 0, 0, 1);
    expect_dump("p/a/b:2@d-2\n");
}
END_TEST

/* A row of the given artifact type ("IMAGE", "CHART", "" for unknown). */
static struct imgsync_image *mk_typed(const char *repo, const char *tag, const char *digest, const char *type)
{
    struct imgsync_image *im = mk("p", repo, tag, digest);
    ck_assert_int_eq(imgsync__image_set_str(im, IMGSYNC__F_artifact_type, type), 0);
    return im;
}

static imgsync_request *non_images(int include)
{
    imgsync_request *r = NULL;
    ck_assert_int_eq(imgsync_request_new(&r), 0);
    ck_assert_int_eq(imgsync_request_set_include_non_images(r, include), 0);
    return r;
}

START_TEST(test_non_image_rows_replaced_only_when_included)
{
    imgsync_request *with = non_images(1), *without = non_images(0);
    /* a sync that included non-images: an image, a chart, a row of unknown type (an image) */
    struct imgsync_image *first[] = {mk_typed("r", "1.0", "d-img", "IMAGE"), mk_typed("r", "0.1.0", "d-chart", "CHART"),
                                     mk_typed("r", "2.0", "d-old", "")};
    expect_counts(put("p", "r", first, 3, with), 3, 0, 0);
    /* an image-only sync replaces the image rows (2.0 is gone) and keeps the chart, uncounted */
    struct imgsync_image *images[] = {mk_typed("r", "1.0", "d-img", "IMAGE")};
    expect_counts(put("p", "r", images, 1, without), 0, 0, 1);
    expect_dump("p/r:0.1.0@d-chart\np/r:1.0@d-img\n");
    /* even with no image row at all the repository stays, with its chart */
    expect_counts(put("p", "r", NULL, 0, without), 0, 0, 1);
    expect_dump("p/r:0.1.0@d-chart\n");
    ck_assert_uint_eq(imgsync__store_count(S), 1);
    /* a sync that includes non-images replaces the chart like any row */
    struct imgsync_image *again[] = {mk_typed("r", "1.0", "d-img", "IMAGE"), mk_typed("r", "0.2.0", "d-chart2", "CHART")};
    expect_counts(put("p", "r", again, 2, with), 2, 0, 1);
    expect_dump("p/r:0.2.0@d-chart2\np/r:1.0@d-img\n");
    expect_counts(put("p", "r", NULL, 0, with), 0, 0, 2);
    ck_assert_uint_eq(imgsync__store_count(S), 0);

    /* prune (a repository that disappeared) follows the same rule */
    struct imgsync_image *charts[] = {mk_typed("charts", "1", "d-1", "CHART"), mk_typed("charts", "img", "d-2", "IMAGE")};
    expect_counts(put("p", "charts", charts, 2, with), 2, 0, 0);
    imgsync__map seen;
    seen_init(&seen, NULL, 0);
    imgsync__store_counts c = {0, 0, 0};
    ck_assert_int_eq(imgsync__store_prune(S, "p", &seen, NULL, NULL, SEL(without), &c), 0);
    expect_counts(c, 0, 0, 1);
    expect_dump("p/charts:1@d-1\n");
    c = (imgsync__store_counts){0, 0, 0};
    ck_assert_int_eq(imgsync__store_prune(S, "p", &seen, NULL, NULL, SEL(with), &c), 0);
    expect_counts(c, 0, 0, 1);
    ck_assert_uint_eq(imgsync__store_count(S), 0);
    imgsync__map_clear(&seen);
    imgsync_request_free(with);
    imgsync_request_free(without);
}
END_TEST

START_TEST(test_kept_non_image_row_yields_to_same_tag)
{
    /* The chart p/r:0.1.0 was stored by a sync that included non-images; the tag now names an
     * image. The image-only sync's row for that tag must take its place: a repository holds one
     * row per tag, never two rows p/r:0.1.0. */
    imgsync_request *with = non_images(1), *without = non_images(0);
    struct imgsync_image *first[] = {mk_typed("r", "0.1.0", "d-chart", "CHART"), mk_typed("r", "1.0", "d-img", "IMAGE")};
    expect_counts(put("p", "r", first, 2, with), 2, 0, 0);
    struct imgsync_image *images[] = {mk_typed("r", "0.1.0", "d-moved", "IMAGE"), mk_typed("r", "1.0", "d-img", "IMAGE")};
    put("p", "r", images, 2, without);
    expect_dump("p/r:0.1.0@d-moved\np/r:1.0@d-img\n");
    ck_assert_uint_eq(imgsync__store_count(S), 2);
    imgsync_request_free(with);
    imgsync_request_free(without);
}
END_TEST

/* ---- v2: change feed, first_seen, transactions, queries ----------------------------------- */

/* The changes of a cursor as "kind task provider/repo:tag@digest old-digest old-size" lines
 * (malloc'd); the cursor is freed. */
static char *dump_cursor_changes(imgsync__cursor *cur)
{
    size_t cap = 1 << 16, len = 0;
    char *out = malloc(cap);
    ck_assert_ptr_nonnull(out);
    out[0] = '\0';
    imgsync__change_row ch;
    for (;;) {
        ck_assert_int_eq(imgsync__cursor_next(cur, &ch), 0);
        if (!ch.row)
            break;
        ck_assert_uint_lt(len + 256, cap);
        len += (size_t)snprintf(out + len, cap - len, "%d %llu %s/%s:%s@%s %s %lld\n", ch.kind,
                                (unsigned long long)ch.task_id, imgsync__image_str(ch.row, IMGSYNC__F_registry),
                                imgsync__image_str(ch.row, IMGSYNC__F_repository),
                                imgsync__image_str(ch.row, IMGSYNC__F_tag),
                                imgsync__image_str(ch.row, IMGSYNC__F_digest), ch.old_digest, (long long)ch.old_size);
    }
    imgsync__cursor_free(cur);
    return out;
}

static void expect_changes(uint64_t task, int since, const char *want)
{
    imgsync__cursor *cur = NULL;
    ck_assert_int_eq(imgsync__store_changes(S, task, since, &cur), 0);
    ck_assert_ptr_nonnull(cur);
    char *got = dump_cursor_changes(cur);
    ck_assert_msg(!strcmp(got, want), "changes of %llu (since %d):\n%s\nwant:\n%s", (unsigned long long)task, since,
                  got, want);
    free(got);
}

/* The rows of a query cursor as dump() lines (malloc'd); the cursor is freed. */
static char *dump_cursor_rows(imgsync__cursor *cur)
{
    size_t cap = 1 << 16, len = 0;
    char *out = malloc(cap);
    ck_assert_ptr_nonnull(out);
    out[0] = '\0';
    imgsync__change_row ch;
    for (;;) {
        ck_assert_int_eq(imgsync__cursor_next(cur, &ch), 0);
        if (!ch.row)
            break;
        ck_assert_uint_lt(len + 256, cap);
        len += (size_t)snprintf(out + len, cap - len, "%s/%s:%s@%s\n", imgsync__image_str(ch.row, IMGSYNC__F_registry),
                                imgsync__image_str(ch.row, IMGSYNC__F_repository),
                                imgsync__image_str(ch.row, IMGSYNC__F_tag), imgsync__image_str(ch.row, IMGSYNC__F_digest));
    }
    imgsync__cursor_free(cur);
    return out;
}

static char *query_dump(const imgsync__query *q)
{
    imgsync__cursor *cur = NULL;
    ck_assert_int_eq(imgsync__store_query(S, q, &cur), 0);
    ck_assert_ptr_nonnull(cur);
    return dump_cursor_rows(cur);
}

/* What imgsync__query_match selects of a snapshot of every row, as dump() lines. */
static char *reference_dump(const imgsync__query *q)
{
    struct imgsync_image **rows = NULL;
    size_t n = 0, len = 0, cap = 1 << 16;
    ck_assert_int_eq(store_rows(S, &rows, &n), 0);
    char *out = malloc(cap);
    ck_assert_ptr_nonnull(out);
    out[0] = '\0';
    for (size_t i = 0; i < n; i++)
        if (imgsync__query_match(q, rows[i]))
            len += (size_t)snprintf(out + len, cap - len, "%s/%s:%s@%s\n",
                                    imgsync__image_str(rows[i], IMGSYNC__F_registry),
                                    imgsync__image_str(rows[i], IMGSYNC__F_repository),
                                    imgsync__image_str(rows[i], IMGSYNC__F_tag),
                                    imgsync__image_str(rows[i], IMGSYNC__F_digest));
    unref_all(rows, n);
    free(rows);
    return out;
}

/* The backend's cursor agrees with the reference, which selects `want` lines. */
static void expect_query(const imgsync__query *q, size_t want_lines, const char *want)
{
    char *got = query_dump(q), *ref = reference_dump(q);
    ck_assert_msg(!strcmp(got, ref), "cursor:\n%s\nreference:\n%s", got, ref);
    size_t lines = 0;
    for (const char *p = got; *p; p++)
        lines += *p == '\n';
    ck_assert_msg(lines == want_lines, "%zu rows selected, want %zu:\n%s", lines, want_lines, got);
    if (want)
        ck_assert_msg(!strcmp(got, want), "cursor:\n%s\nwant:\n%s", got, want);
    free(got);
    free(ref);
}

static void count_kinds(uint64_t task, imgsync__store_counts *k)
{
    imgsync__cursor *cur = NULL;
    imgsync__change_row ch;
    *k = (imgsync__store_counts){0, 0, 0};
    ck_assert_int_eq(imgsync__store_changes(S, task, 0, &cur), 0);
    while (imgsync__cursor_next(cur, &ch) == 0 && ch.row) {
        ck_assert_uint_eq(ch.task_id, task);
        if (ch.kind == IMGSYNC__CHANGE_ADDED)
            k->added++;
        else if (ch.kind == IMGSYNC__CHANGE_UPDATED)
            k->updated++;
        else
            k->removed++;
    }
    imgsync__cursor_free(cur);
}

START_TEST(test_changes_recorded)
{
    imgsync__store_set_change_task(S, 7);
    expect_counts(put_tags("p", "a", "v1,v2", NULL), 2, 0, 0);
    expect_changes(7, 0, "1 7 p/a:v1@d-v1  -1\n1 7 p/a:v2@d-v2  -1\n");
    imgsync__store_set_change_task(S, 8);
    struct imgsync_image *rows[] = {mk("p", "a", "v1", "d-v1-new"), mk("p", "a", "v3", "d-v3")};
    imgsync__image_set_int(rows[0], IMGSYNC__F_size, 250);
    expect_counts(put("p", "a", rows, 2, NULL), 1, 1, 1);
    expect_changes(8, 0, "2 8 p/a:v1@d-v1-new d-v1 100\n3 8 p/a:v2@d-v2  -1\n1 8 p/a:v3@d-v3  -1\n");
    /* an unchanged re-sync records nothing */
    struct imgsync_image *same[] = {mk("p", "a", "v1", "d-v1-new"), mk("p", "a", "v3", "d-v3")};
    imgsync__image_set_int(same[0], IMGSYNC__F_size, 250);
    expect_counts(put("p", "a", same, 2, NULL), 0, 0, 0);
    expect_changes(7, 1, "2 8 p/a:v1@d-v1-new d-v1 100\n3 8 p/a:v2@d-v2  -1\n1 8 p/a:v3@d-v3  -1\n");
    /* prune records its removals under the current task */
    put_tags("p", "b", "x", NULL);
    imgsync__store_set_change_task(S, 9);
    imgsync__map seen;
    const char *names[] = {"a"};
    seen_init(&seen, names, 1);
    imgsync__store_counts c = {0, 0, 0};
    ck_assert_int_eq(imgsync__store_prune(S, "p", &seen, NULL, NULL, SEL(NULL), &c), 0);
    imgsync__map_clear(&seen);
    expect_counts(c, 0, 0, 1);
    expect_changes(9, 0, "3 9 p/b:x@d-x  -1\n");
    imgsync__store_counts k;
    count_kinds(9, &k);
    expect_counts(k, 0, 0, 1);
    /* the p/b:x added under task 8 came before */
    expect_changes(8, 1, "3 9 p/b:x@d-x  -1\n");
    /* task 0 records nothing */
    imgsync__store_set_change_task(S, 0);
    expect_counts(put_tags("p", "c", "1,2", NULL), 2, 0, 0);
    expect_counts(put("p", "c", NULL, 0, NULL), 0, 0, 2);
    expect_changes(0, 0, "");
    expect_changes(9, 1, "");
    expect_changes(8, 0, "2 8 p/a:v1@d-v1-new d-v1 100\n3 8 p/a:v2@d-v2  -1\n1 8 p/a:v3@d-v3  -1\n"
                         "1 8 p/b:x@d-x  -1\n");
}
END_TEST

START_TEST(test_changes_counts_agree)
{
    /* a tag filter, a kept chart replaced by an image, untagged rows: changes match the counts */
    imgsync_request *with = non_images(1), *sel = tag_filter("v*", IMGSYNC_INCLUDE);
    imgsync__store_set_change_task(S, 3);
    struct imgsync_image *first[] = {mk_typed("r", "v1", "d-1", "IMAGE"), mk_typed("r", "x", "d-x", "CHART"),
                                     mk_typed("r", "", "sha256:u", "IMAGE")};
    imgsync__store_counts c = put("p", "r", first, 3, with), k;
    count_kinds(3, &k);
    expect_counts(k, c.added, c.updated, c.removed);
    imgsync__store_set_change_task(S, 4);
    struct imgsync_image *second[] = {mk_typed("r", "v1", "d-2", "IMAGE"), mk_typed("r", "v2", "d-3", "IMAGE")};
    c = put("p", "r", second, 2, sel);
    count_kinds(4, &k);
    expect_counts(c, 1, 1, 0);
    expect_counts(k, c.added, c.updated, c.removed);
    imgsync_request_free(with);
    imgsync_request_free(sel);
}
END_TEST

START_TEST(test_changes_forget)
{
    for (uint64_t t = 1; t <= 3; t++) {
        char repo[8];
        snprintf(repo, sizeof(repo), "r%llu", (unsigned long long)t);
        imgsync__store_set_change_task(S, t);
        put_tags("p", repo, "a", NULL);
    }
    uint64_t ids[] = {3, 1};
    ck_assert_int_eq(S->ops->changes_forget(S, ids, 2), 0);
    expect_changes(0, 1, "1 2 p/r2:a@d-a  -1\n");
    ck_assert_uint_eq(imgsync__store_count(S), 3); /* rows stay */
    /* inside a transaction, a rollback brings them back; a commit makes it final */
    ck_assert_int_eq(imgsync__store_begin(S), 0);
    uint64_t two = 2;
    ck_assert_int_eq(S->ops->changes_forget(S, &two, 1), 0);
    imgsync__store_rollback(S);
    expect_changes(0, 1, "1 2 p/r2:a@d-a  -1\n");
    ck_assert_int_eq(imgsync__store_begin(S), 0);
    ck_assert_int_eq(S->ops->changes_forget(S, &two, 1), 0);
    ck_assert_int_eq(imgsync__store_commit(S), 0);
    expect_changes(0, 1, "");
}
END_TEST

static int64_t first_seen_of(const char *repo, const char *tag)
{
    struct imgsync_image **rows = NULL;
    size_t n = 0;
    int64_t v = -1;
    ck_assert_int_eq(store_rows(S, &rows, &n), 0);
    for (size_t i = 0; i < n; i++)
        if (!strcmp(imgsync__image_str(rows[i], IMGSYNC__F_repository), repo) &&
            !strcmp(imgsync__image_str(rows[i], IMGSYNC__F_tag), tag))
            v = imgsync__image_int(rows[i], IMGSYNC__F_first_seen_ms);
    unref_all(rows, n);
    free(rows);
    return v;
}

static struct imgsync_image *mk_at(const char *tag, const char *digest, int64_t sync_ms)
{
    struct imgsync_image *im = mk("p", "r", tag, digest);
    imgsync__image_set_int(im, IMGSYNC__F_sync_ms, sync_ms);
    return im;
}

START_TEST(test_first_seen)
{
    struct imgsync_image *a[] = {mk_at("v1", "d1", 1000)};
    put("p", "r", a, 1, NULL);
    ck_assert_int_eq(first_seen_of("r", "v1"), 1000);
    /* same content later: kept */
    struct imgsync_image *b[] = {mk_at("v1", "d1", 2000), mk_at("v2", "d2", 2000)};
    put("p", "r", b, 2, NULL);
    ck_assert_int_eq(first_seen_of("r", "v1"), 1000);
    ck_assert_int_eq(first_seen_of("r", "v2"), 2000);
    /* updated: kept too */
    struct imgsync_image *c[] = {mk_at("v1", "d1-new", 3000), mk_at("v2", "d2", 3000)};
    imgsync__store_set_change_task(S, 1);
    put("p", "r", c, 2, NULL);
    ck_assert_int_eq(first_seen_of("r", "v1"), 1000);
    ck_assert_int_eq(first_seen_of("r", "v2"), 2000);
    imgsync__cursor *cur = NULL;
    imgsync__change_row ch;
    ck_assert_int_eq(imgsync__store_changes(S, 1, 0, &cur), 0);
    ck_assert_int_eq(imgsync__cursor_next(cur, &ch), 0);
    ck_assert_ptr_nonnull(ch.row);
    ck_assert_int_eq(imgsync__image_int(ch.row, IMGSYNC__F_first_seen_ms), 1000);
    ck_assert_int_eq(imgsync__image_int(ch.row, IMGSYNC__F_sync_ms), 3000);
    imgsync__cursor_free(cur);
    /* gone, then back: new again */
    struct imgsync_image *d[] = {mk_at("v2", "d2", 4000)};
    put("p", "r", d, 1, NULL);
    ck_assert_int_eq(first_seen_of("r", "v1"), -1);
    struct imgsync_image *e[] = {mk_at("v1", "d1", 5000), mk_at("v2", "d2", 5000)};
    put("p", "r", e, 2, NULL);
    ck_assert_int_eq(first_seen_of("r", "v1"), 5000);
    ck_assert_int_eq(first_seen_of("r", "v2"), 2000);
}
END_TEST

static int64_t sync_of(const char *repo, const char *tag)
{
    struct imgsync_image **rows = NULL;
    size_t n = 0;
    int64_t v = -1;
    ck_assert_int_eq(store_rows(S, &rows, &n), 0);
    for (size_t i = 0; i < n; i++)
        if (!strcmp(imgsync__image_str(rows[i], IMGSYNC__F_repository), repo) &&
            !strcmp(imgsync__image_str(rows[i], IMGSYNC__F_tag), tag))
            v = imgsync__image_int(rows[i], IMGSYNC__F_sync_ms);
    unref_all(rows, n);
    free(rows);
    return v;
}

START_TEST(test_sync_time_of_unchanged_rows)
{
    struct imgsync_image *a[] = {mk_at("v1", "d1", 1000), mk_at("v2", "d2", 1000), mk_at("x", "dx", 1000)};
    put("p", "r", a, 3, NULL);
    /* a whole scope unchanged, one sync time */
    struct imgsync_image *b[] = {mk_at("v1", "d1", 2000), mk_at("v2", "d2", 2000), mk_at("x", "dx", 2000)};
    expect_counts(put("p", "r", b, 3, NULL), 0, 0, 0);
    ck_assert_int_eq(sync_of("r", "v1"), 2000);
    ck_assert_int_eq(sync_of("r", "x"), 2000);
    /* an unselected row keeps its sync time, the selected unchanged ones get the new one */
    imgsync_request *sel = tag_filter("v*", IMGSYNC_INCLUDE);
    struct imgsync_image *c[] = {mk_at("v1", "d1", 3000), mk_at("v2", "d2-new", 3000)};
    expect_counts(put("p", "r", c, 2, sel), 0, 1, 0);
    imgsync_request_free(sel);
    ck_assert_int_eq(sync_of("r", "v1"), 3000);
    ck_assert_int_eq(sync_of("r", "v2"), 3000);
    ck_assert_int_eq(sync_of("r", "x"), 2000);
    /* rows of one scope with different sync times keep each its own */
    struct imgsync_image *d[] = {mk_at("v1", "d1", 4000), mk_at("v2", "d2-new", 5000), mk_at("x", "dx", 6000)};
    expect_counts(put("p", "r", d, 3, NULL), 0, 0, 0);
    ck_assert_int_eq(sync_of("r", "v1"), 4000);
    ck_assert_int_eq(sync_of("r", "v2"), 5000);
    ck_assert_int_eq(sync_of("r", "x"), 6000);
    ck_assert_int_eq(first_seen_of("r", "x"), 1000);
}
END_TEST

START_TEST(test_transaction_rollback)
{
    put_tags("p", "a", "1,2", NULL);
    put_tags("p", "b", "1", NULL);
    put_tags("q", "c", "1", NULL);
    imgsync__store_set_change_task(S, 5);
    ck_assert_int_eq(imgsync__store_begin(S), 0);
    ck_assert_int_eq(imgsync__store_begin(S), IMGSYNC_EINTERNAL); /* not nested */
    expect_counts(put_tags("p", "a", "2,3", NULL), 1, 0, 1);
    expect_counts(put_tags("p", "new", "1", NULL), 1, 0, 0);
    imgsync__map seen;
    const char *names[] = {"a", "new"};
    seen_init(&seen, names, 2);
    imgsync__store_counts c = {0, 0, 0};
    ck_assert_int_eq(imgsync__store_prune(S, "p", &seen, NULL, NULL, SEL(NULL), &c), 0);
    expect_counts(c, 0, 0, 1);
    imgsync__store_drop_provider(S, "q");
    /* the transaction counts its own writes (what a cursor opened inside it reads is not
     * specified: the SQLite one reads the last commit; the core never reads inside one) */
    ck_assert_uint_eq(imgsync__store_count(S), 3);
    imgsync__store_rollback(S);
    expect_dump("p/a:1@d-1\np/a:2@d-2\np/b:1@d-1\nq/c:1@d-1\n");
    ck_assert_uint_eq(imgsync__store_count(S), 4);
    expect_changes(5, 0, "");
    /* the same, committed */
    ck_assert_int_eq(imgsync__store_begin(S), 0);
    put_tags("p", "a", "2,3", NULL);
    ck_assert_int_eq(imgsync__store_prune(S, "p", &seen, NULL, NULL, SEL(NULL), &c), 0);
    ck_assert_int_eq(imgsync__store_commit(S), 0);
    imgsync__map_clear(&seen);
    expect_dump("p/a:2@d-2\np/a:3@d-3\nq/c:1@d-1\n");
    expect_changes(5, 0, "3 5 p/a:1@d-1  -1\n1 5 p/a:3@d-3  -1\n3 5 p/b:1@d-1  -1\n");
    /* a commit or rollback without begin */
    ck_assert_int_eq(imgsync__store_commit(S), IMGSYNC_EINTERNAL);
    imgsync__store_rollback(S);
    expect_dump("p/a:2@d-2\np/a:3@d-3\nq/c:1@d-1\n");
}
END_TEST

/* A row of the query data set. */
static void put_row(const char *provider, const char *repo, const char *tag, int type, int64_t update_ms)
{
    char digest[128];
    snprintf(digest, sizeof(digest), "d-%s-%s", repo, tag);
    struct imgsync_image *im = mk(provider, repo, tag, digest);
    im->type = type;
    imgsync__image_set_int(im, IMGSYNC__F_update_ms, update_ms);
    /* a scope per row: the rows stay */
    imgsync__store_counts c = {0, 0, 0};
    imgsync__selector none = {NULL, NULL, NULL};
    imgsync_request *only_tag = tag_filter(tag[0] ? tag : "no-such", IMGSYNC_INCLUDE);
    ck_assert_int_eq(imgsync__store_replace(S, provider, "", repo, &im, 1, tag[0] ? SEL(only_tag) : &none, &c), 0);
    imgsync_request_free(only_tag);
    imgsync__image_unref(im);
}

static void query_data(void)
{
    put_row("p1", "team/app", "v1", IMGSYNC_TYPE_OCI, 1000);
    put_row("p1", "team/app", "v2", IMGSYNC_TYPE_OCI, 2000);
    put_row("p1", "team/app", "latest", IMGSYNC_TYPE_OCI, 3000);
    put_row("p1", "team/db", "v1", IMGSYNC_TYPE_HARBOR, 1500);
    put_row("p1", "lib/nginx", "1.25", IMGSYNC_TYPE_OCI, 500);
    put_row("p1", "lib/nginx", "stable", IMGSYNC_TYPE_OCI, 4000);
    put_row("p2", "team/app", "v1", IMGSYNC_TYPE_HARBOR, 2500);
    put_row("p2", "org/sub/tool", "v1.0", IMGSYNC_TYPE_OCI, 100);
    put_row("p2", "org/sub/tool", "v2.0", IMGSYNC_TYPE_OCI, 5000);
    put_row("p2", "single", "", IMGSYNC_TYPE_JFROG, 2000);
    ck_assert_uint_eq(imgsync__store_count(S), 10);
}

START_TEST(test_query_parts)
{
    query_data();
    expect_query(NULL, 10, NULL);
    imgsync__query q;
    memset(&q, 0, sizeof(q));
    expect_query(&q, 10, NULL);

    const char *p2[] = {"p2"}, *both[] = {"p1", "p2"}, *nobody[] = {"p3"};
    q.providers = p2, q.nproviders = 1;
    expect_query(&q, 4, NULL);
    q.providers = nobody;
    expect_query(&q, 0, "");
    q.providers = both, q.nproviders = 2;
    expect_query(&q, 10, NULL);
    memset(&q, 0, sizeof(q));

    int harbor[] = {IMGSYNC_TYPE_HARBOR}, two[] = {IMGSYNC_TYPE_HARBOR, IMGSYNC_TYPE_JFROG};
    q.types = harbor, q.ntypes = 1;
    expect_query(&q, 2, "p1/team/db:v1@d-team/db-v1\np2/team/app:v1@d-team/app-v1\n");
    q.types = two, q.ntypes = 2;
    expect_query(&q, 3, NULL);
    memset(&q, 0, sizeof(q));

    /* p1 limited to two repositories, p2 (no entry) whole */
    imgsync__query_repo repos[] = {{"p1", "team/db"}, {"p1", "lib/nginx"}};
    q.repos = repos, q.nrepos = 2;
    expect_query(&q, 7, NULL);
    imgsync__query_repo one[] = {{"p2", "single"}};
    q.repos = one, q.nrepos = 1;
    expect_query(&q, 7, NULL);
    memset(&q, 0, sizeof(q));

    q.updated_since = 2000;
    expect_query(&q, 6, NULL);
    memset(&q, 0, sizeof(q));
}
END_TEST

static void expect_globs(const imgsync__query_glob *g, size_t n, size_t want_lines, const char *want)
{
    imgsync__query q;
    memset(&q, 0, sizeof(q));
    q.globs = g, q.nglobs = n;
    expect_query(&q, want_lines, want);
}

START_TEST(test_query_globs)
{
    query_data();
    enum { NS = IMGSYNC_FILTER_NAMESPACE, REPO = IMGSYNC_FILTER_REPOSITORY, TAG = IMGSYNC_FILTER_TAG };
    enum { IN = IMGSYNC_INCLUDE, EX = IMGSYNC_EXCLUDE };
    imgsync__query_glob ns_team[] = {{NS, IN, "team"}};
    expect_globs(ns_team, 1, 5, NULL);
    imgsync__query_glob doublestar[] = {{REPO, IN, "org/**"}};
    expect_globs(doublestar, 1, 2, "p2/org/sub/tool:v1.0@d-org/sub/tool-v1.0\np2/org/sub/tool:v2.0@d-org/sub/tool-v2.0\n");
    imgsync__query_glob star[] = {{REPO, IN, "org/*"}}; /* '*' stops at '/' */
    expect_globs(star, 1, 0, "");
    imgsync__query_glob suffix[] = {{REPO, IN, "**/app"}};
    expect_globs(suffix, 1, 4, NULL);
    imgsync__query_glob braces[] = {{TAG, IN, "v{1,2}"}, {TAG, EX, "v2"}};
    expect_globs(braces, 2, 3, "p1/team/app:v1@d-team/app-v1\np1/team/db:v1@d-team/db-v1\np2/team/app:v1@d-team/app-v1\n");
    imgsync__query_glob two_includes[] = {{TAG, IN, "v*"}, {TAG, IN, "latest"}, {NS, EX, "lib"}};
    expect_globs(two_includes, 3, 7, NULL);
    imgsync__query_glob classes[] = {{TAG, IN, "[0-9]*"}, {TAG, IN, "v?.0"}};
    expect_globs(classes, 2, 3, NULL);
    imgsync__query_glob exclude_only[] = {{REPO, EX, "team/*"}};
    expect_globs(exclude_only, 1, 5, NULL);
    imgsync__query_glob untagged[] = {{TAG, IN, ""}}; /* the empty pattern matches the empty tag */
    expect_globs(untagged, 1, 1, "p2/single:@d-single-\n");
    imgsync__query_glob literal[] = {{NS, IN, "o'r\"g"}, {NS, IN, "org"}}; /* quotes are data, not SQL */
    expect_globs(literal, 2, 2, NULL);
}
END_TEST

START_TEST(test_query_combined)
{
    query_data();
    const char *both[] = {"p1", "p2"};
    int oci[] = {IMGSYNC_TYPE_OCI};
    imgsync__query_repo repos[] = {{"p2", "org/sub/tool"}};
    imgsync__query_glob globs[] = {{IMGSYNC_FILTER_TAG, IMGSYNC_INCLUDE, "v*"},
                                   {IMGSYNC_FILTER_NAMESPACE, IMGSYNC_EXCLUDE, "lib"}};
    imgsync__query q = {both, 2, oci, 1, repos, 1, globs, 2, 1000};
    expect_query(&q, 3, "p1/team/app:v1@d-team/app-v1\np1/team/app:v2@d-team/app-v2\n"
                        "p2/org/sub/tool:v2.0@d-org/sub/tool-v2.0\n");
    /* the cursor copied the query: it may be freed before the rows are read */
    imgsync__query *heap = malloc(sizeof(*heap));
    char *pattern = imgsync__strdup("latest");
    ck_assert_ptr_nonnull(heap);
    imgsync__query_glob g = {IMGSYNC_FILTER_TAG, IMGSYNC_INCLUDE, pattern};
    *heap = (imgsync__query){NULL, 0, NULL, 0, NULL, 0, &g, 1, 0};
    imgsync__cursor *cur = NULL;
    ck_assert_int_eq(imgsync__store_query(S, heap, &cur), 0);
    memset(pattern, 'x', strlen(pattern));
    free(pattern);
    free(heap);
    char *got = dump_cursor_rows(cur);
    ck_assert_str_eq(got, "p1/team/app:latest@d-team/app-latest\n");
    free(got);
}
END_TEST

START_TEST(test_query_order)
{
    /* registry, then partition, then repository, tag, digest: not the order of writing */
    struct imgsync_image *z = mk("p", "z", "1", "d"), *a = mk("p", "a", "1", "d"), *q = mk("a", "m", "2", "d");
    ck_assert_int_eq(imgsync__image_set_str(z, IMGSYNC__F_partition, "east"), 0);
    ck_assert_int_eq(imgsync__image_set_str(a, IMGSYNC__F_partition, "west"), 0);
    imgsync__store_counts c = {0, 0, 0};
    ck_assert_int_eq(imgsync__store_replace(S, "p", "west", "a", &a, 1, SEL(NULL), &c), 0);
    ck_assert_int_eq(imgsync__store_replace(S, "p", "east", "z", &z, 1, SEL(NULL), &c), 0);
    ck_assert_int_eq(imgsync__store_replace(S, "a", "", "m", &q, 1, SEL(NULL), &c), 0);
    imgsync__image_unref(z);
    imgsync__image_unref(a);
    imgsync__image_unref(q);
    put_tags("p", "b", "v10,v2,V1,v1", NULL);
    char *got = query_dump(NULL);
    ck_assert_str_eq(got, "a/m:2@d\np/b:V1@d-V1\np/b:v1@d-v1\np/b:v10@d-v10\np/b:v2@d-v2\np/z:1@d\np/a:1@d\n");
    char *snap = dump();
    ck_assert_str_eq(got, snap);
    free(got);
    free(snap);
}
END_TEST

START_TEST(test_cursor_snapshot)
{
    put_tags("p", "a", "1,2", NULL);
    imgsync__cursor *cur = NULL, *changes = NULL;
    imgsync__store_set_change_task(S, 1);
    put_tags("p", "b", "1", NULL);
    ck_assert_int_eq(imgsync__store_query(S, NULL, &cur), 0);
    ck_assert_int_eq(imgsync__store_changes(S, 0, 1, &changes), 0);
    /* commits after the cursors opened */
    put_tags("p", "a", "3", NULL);
    put_tags("p", "c", "1", NULL);
    imgsync__store_drop_provider(S, "p");
    char *got = dump_cursor_rows(cur);
    ck_assert_str_eq(got, "p/a:1@d-1\np/a:2@d-2\np/b:1@d-1\n");
    free(got);
    got = dump_cursor_changes(changes);
    ck_assert_str_eq(got, "1 1 p/b:1@d-1  -1\n");
    free(got);
    ck_assert_uint_eq(imgsync__store_count(S), 0);
    /* an empty store: a cursor that ends at once, and stays at the end */
    ck_assert_int_eq(imgsync__store_query(S, NULL, &cur), 0);
    imgsync__change_row ch;
    ck_assert_int_eq(imgsync__cursor_next(cur, &ch), 0);
    ck_assert_ptr_null(ch.row);
    ck_assert_int_eq(imgsync__cursor_next(cur, &ch), 0);
    ck_assert_ptr_null(ch.row);
    imgsync__cursor_free(cur);
    imgsync__cursor_free(NULL);
}
END_TEST

/* ---- SQLite only ---------------------------------------------------------------------------- */

/* The whole file at `path` (malloc'd, *n bytes), NULL when it cannot be read. */
static char *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = malloc(1 << 20);
    *n = buf ? fread(buf, 1, 1 << 20, f) : 0;
    fclose(f);
    return buf;
}

static void set_user_version(int v)
{
    sqlite3 *db = NULL;
    char sql[64];
    snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", v);
    ck_assert_int_eq(sqlite3_open(PATH_, &db), SQLITE_OK);
    ck_assert_int_eq(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    ck_assert_int_eq(sqlite3_close(db), SQLITE_OK);
}

/* Opening the store at URI fails with `code`, says something containing `want`, and leaves the
 * file's bytes as they were. */
static void expect_refused(int code, const char *want)
{
    size_t before_n = 0, after_n = 0;
    char *before = slurp(PATH_, &before_n), msg[256];
    imgsync__store *s = NULL;
    ck_assert_int_eq(imgsync__store_open_msg(&s, URI, msg, sizeof(msg)), code);
    ck_assert_ptr_null(s);
    ck_assert_msg(strstr(msg, want) != NULL, "message \"%s\" lacks \"%s\"", msg, want);
    char *after = slurp(PATH_, &after_n);
    ck_assert_ptr_nonnull(before);
    ck_assert_ptr_nonnull(after);
    ck_assert_uint_eq(before_n, after_n);
    ck_assert_int_eq(memcmp(before, after, before_n), 0);
    free(before);
    free(after);
}

START_TEST(test_sqlite_reopen_keeps_rows)
{
    struct imgsync_image *full = mk("p", "team/chart", "1.0", "d-chart");
    full->type = IMGSYNC_TYPE_HARBOR;
    imgsync__image_set_int(full, IMGSYNC__F_update_ms, 1700000000123);
    imgsync__image_set_int(full, IMGSYNC__F_multi_arch, 1);
    ck_assert_int_eq(imgsync__image_set_str(full, IMGSYNC__F_platforms, "linux/amd64,linux/arm64"), 0);
    ck_assert_int_eq(imgsync__image_set_str(full, IMGSYNC__F_partition, "cn-north-4"), 0);
    imgsync__store_counts c = {0, 0, 0};
    ck_assert_int_eq(imgsync__store_replace(S, "p", "cn-north-4", "team/chart", &full, 1, SEL(NULL), &c), 0);
    put_tags("p", "team/app", "v1,v2", NULL);
    imgsync__store_close(S);
    open_store();
    expect_dump("p/team/app:v1@d-v1\np/team/app:v2@d-v2\np/team/chart:1.0@d-chart\n");
    /* every field came back: replacing with the same content changes nothing */
    struct imgsync_image **rows = NULL;
    size_t n = 0;
    ck_assert_int_eq(store_rows(S, &rows, &n), 0);
    ck_assert_uint_eq(n, 3);
    ck_assert_int_eq(imgsync__image_differs(rows[2], full), 0);
    ck_assert_int_eq(imgsync__image_int(rows[2], IMGSYNC__F_sync_ms), imgsync__image_int(full, IMGSYNC__F_sync_ms));
    unref_all(rows, n);
    free(rows);
    c = (imgsync__store_counts){0, 0, 0};
    ck_assert_int_eq(imgsync__store_replace(S, "p", "cn-north-4", "team/chart", &full, 1, SEL(NULL), &c), 0);
    expect_counts(c, 0, 0, 0);
    imgsync__image_unref(full);
    expect_counts(put_tags("p", "team/app", "v1,v2", NULL), 0, 0, 0);
}
END_TEST

START_TEST(test_sqlite_rows_are_copies)
{
    struct imgsync_image *a = mk("p", "r", "a", "d1");
    imgsync__store_counts c = {0, 0, 0};
    ck_assert_int_eq(imgsync__store_replace(S, "p", "", "r", &a, 1, SEL(NULL), &c), 0);
    ck_assert_int_eq(a->refs, 1); /* the file holds the row, not the caller's object */
    struct imgsync_image **snap = NULL;
    size_t n = 0;
    ck_assert_int_eq(store_rows(S, &snap, &n), 0);
    ck_assert_uint_eq(n, 1);
    ck_assert_ptr_ne(snap[0], a);
    ck_assert_int_eq(snap[0]->refs, 1);
    imgsync__image_unref(a);
    ck_assert_str_eq(imgsync__image_str(snap[0], IMGSYNC__F_digest), "d1");
    unref_all(snap, n);
    free(snap);
}
END_TEST

START_TEST(test_sqlite_newer_schema_refused)
{
    put_tags("p", "r", "a", NULL);
    imgsync__store_close(S);
    S = NULL;
    set_user_version(4);
    expect_refused(IMGSYNC_EUNSUPPORTED, "newer");
    set_user_version(3); /* the rows are still there for this library */
    open_store();
    expect_dump("p/r:a@d-a\n");
}
END_TEST

START_TEST(test_sqlite_not_a_database)
{
    imgsync__store_close(S);
    S = NULL;
    remove_files();
    ck_assert_int_eq(mkdir(DIR_, 0700), 0);
    FILE *f = fopen(PATH_, "wb");
    ck_assert_ptr_nonnull(f);
    for (int i = 0; i < 200; i++)
        fputs("this is not a database, only text\n", f);
    fclose(f);
    expect_refused(IMGSYNC_ESTORE, "not a database");
}
END_TEST

START_TEST(test_sqlite_unwritable_path)
{
    imgsync__store *s = NULL;
    char msg[256], uri[400];
    snprintf(uri, sizeof(uri), "sqlite:%s/missing-dir/inventory.db", DIR_);
    ck_assert_int_eq(imgsync__store_open_msg(&s, uri, msg, sizeof(msg)), IMGSYNC_ESTORE);
    ck_assert_ptr_null(s);
    ck_assert_msg(strstr(msg, "cannot open") != NULL, "message: %s", msg);
    snprintf(uri, sizeof(uri), "sqlite:%s", DIR_); /* a directory */
    ck_assert_int_eq(imgsync__store_open_msg(&s, uri, msg, sizeof(msg)), IMGSYNC_ESTORE);
    ck_assert_ptr_null(s);
    ck_assert_msg(msg[0] != '\0', "no message");
}
END_TEST

START_TEST(test_sqlite_busy_is_estore)
{
    put_tags("p", "r", "a", NULL);
    sqlite3 *other = NULL;
    ck_assert_int_eq(sqlite3_open(PATH_, &other), SQLITE_OK);
    ck_assert_int_eq(sqlite3_exec(other, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    /* another writer holds the lock past the busy timeout: a clean failure, nothing changed */
    struct imgsync_image *b = mk("p", "r", "b", "d-b");
    imgsync__store_counts c = {0, 0, 0};
    ck_assert_int_eq(imgsync__store_replace(S, "p", "", "r", &b, 1, SEL(NULL), &c), IMGSYNC_ESTORE);
    ck_assert_msg(strstr(imgsync__store_errmsg(S), "locked") != NULL, "message: %s", imgsync__store_errmsg(S));
    expect_counts(c, 0, 0, 0);
    ck_assert_int_eq(sqlite3_exec(other, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
    ck_assert_int_eq(sqlite3_close(other), SQLITE_OK);
    expect_dump("p/r:a@d-a\n");
    ck_assert_int_eq(imgsync__store_replace(S, "p", "", "r", &b, 1, SEL(NULL), &c), 0);
    imgsync__image_unref(b);
    expect_counts(c, 1, 0, 1);
}
END_TEST

/* The public entry: imgsync_ctx_new on a store URI. */
START_TEST(test_sqlite_ctx_new)
{
    put_tags("p", "r", "a,b", NULL);
    imgsync_ctx *ctx = NULL;
    ck_assert_int_eq(imgsync_ctx_new(&ctx, URI), 0); /* a second connection beside S */
    ck_assert_uint_eq(imgsync_inventory_count(ctx), 2);
    imgsync_ctx_free(ctx);
    char uri[400];
    snprintf(uri, sizeof(uri), "sqlite:%s/missing-dir/inventory.db", DIR_);
    ck_assert_int_eq(imgsync_ctx_new(&ctx, uri), IMGSYNC_ESTORE);
    ck_assert_ptr_null(ctx);
    ck_assert_int_eq(imgsync_ctx_new(&ctx, "mysql://db"), IMGSYNC_EUNSUPPORTED);
    ck_assert_ptr_null(ctx);
}
END_TEST

/* The schema-1 DDL of the library before schema 2 (sqlite.c at HEAD~3, create_v1, expanded). */
static const char v1_ddl[] =
    "CREATE TABLE rows (k_provider TEXT NOT NULL, k_partition TEXT NOT NULL, k_repository TEXT NOT NULL, "
    "k_key TEXT NOT NULL, type INTEGER NOT NULL, \"registry\" TEXT NOT NULL, \"host\" TEXT NOT NULL, "
    "\"namespace\" TEXT NOT NULL, \"repository\" TEXT NOT NULL, \"tag\" TEXT NOT NULL, \"digest\" TEXT NOT NULL, "
    "\"size\" INTEGER NOT NULL, \"update_ms\" INTEGER NOT NULL, \"sync_ms\" INTEGER NOT NULL, "
    "\"media_type\" TEXT NOT NULL, \"artifact_type\" TEXT NOT NULL, \"multi_arch\" INTEGER NOT NULL, "
    "\"partition\" TEXT NOT NULL, \"owner\" TEXT NOT NULL, \"share_status\" TEXT NOT NULL, "
    "\"instance_id\" TEXT NOT NULL, \"instance_name\" TEXT NOT NULL, \"platforms\" TEXT NOT NULL, "
    "\"created_ms\" INTEGER NOT NULL); "
    "CREATE UNIQUE INDEX rows_key ON rows(k_provider, k_partition, k_repository, k_key);"
    "INSERT INTO rows VALUES('p', '', 'team/app', 'v1', 6, 'p', 'reg.example.com', 'team', 'team/app', 'v1', 'd1', "
    "100, 50, 111, 'application/vnd.oci.image.manifest.v1+json', '', 0, '', '', '', '', '', '', 0);"
    "INSERT INTO rows VALUES('p', '', 'team/app', 'v2', 6, 'p', 'reg.example.com', 'team', 'team/app', 'v2', 'd2', "
    "100, 60, 222, 'application/vnd.oci.image.manifest.v1+json', '', 0, '', '', '', '', '', '', 0);"
    "PRAGMA user_version = 1;";

/* One integer from a SQL query on a connection of the test's own. */
static long long sql_int(const char *sql)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    ck_assert_int_eq(sqlite3_open(PATH_, &db), SQLITE_OK);
    ck_assert_int_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
    long long v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    ck_assert_int_eq(sqlite3_close(db), SQLITE_OK);
    return v;
}

static void exec_sql(const char *sql)
{
    sqlite3 *db = NULL;
    ck_assert_int_eq(sqlite3_open(PATH_, &db), SQLITE_OK);
    ck_assert_int_eq(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    ck_assert_int_eq(sqlite3_close(db), SQLITE_OK);
}

START_TEST(test_sqlite_migration_from_v1)
{
    imgsync__store_close(S);
    S = NULL;
    remove_files();
    ck_assert_int_eq(mkdir(DIR_, 0700), 0);
    exec_sql(v1_ddl);
    ck_assert_int_eq(sql_int("PRAGMA user_version"), 1);
    open_store();
    ck_assert_int_eq(sql_int("PRAGMA user_version"), 3);
    expect_dump("p/team/app:v1@d1\np/team/app:v2@d2\n");
    ck_assert_int_eq(first_seen_of("team/app", "v1"), 111);
    ck_assert_int_eq(first_seen_of("team/app", "v2"), 222);
    /* schema 3: the rows clustered on their key with no other index; the change records (which
     * overflow) in a rowid table with one index */
    ck_assert_int_eq(sql_int("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'rows' "
                             "AND sql LIKE '%WITHOUT ROWID'"),
                     1);
    ck_assert_int_eq(sql_int("SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND tbl_name = 'rows' "
                             "AND sql IS NOT NULL"),
                     0);
    ck_assert_int_eq(sql_int("SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND tbl_name = 'changes' "
                             "AND name = 'changes_by_scope'"),
                     1);
    /* every field came through: the same content is no update, first_seen stays */
    struct imgsync_image *same[] = {mk("p", "team/app", "v1", "d1"), mk("p", "team/app", "v2", "d2-new")};
    imgsync__image_set_int(same[0], IMGSYNC__F_update_ms, 50);
    imgsync__image_set_int(same[1], IMGSYNC__F_update_ms, 60);
    imgsync__image_set_int(same[0], IMGSYNC__F_sync_ms, 999);
    imgsync__image_set_int(same[1], IMGSYNC__F_sync_ms, 999);
    imgsync__store_set_change_task(S, 1);
    expect_counts(put("p", "team/app", same, 2, NULL), 0, 1, 0);
    ck_assert_int_eq(first_seen_of("team/app", "v1"), 111);
    ck_assert_int_eq(first_seen_of("team/app", "v2"), 222);
    expect_changes(1, 0, "2 1 p/team/app:v2@d2-new d2 100\n");
    /* reopening a schema-3 file changes nothing */
    imgsync__store_close(S);
    open_store();
    ck_assert_int_eq(sql_int("PRAGMA user_version"), 3);
    expect_changes(1, 0, "2 1 p/team/app:v2@d2-new d2 100\n");
}
END_TEST

/* A schema-2 file as the library before schema 3 wrote it (its sqlite_master and rows, from a
 * program on that library, 1449b26): task 1 added three rows in two scopes, task 2 wrote scope
 * team/app twice (v2 removed and v1 updated, then v3 added), one change row each. */
static const char v2_file[] =
    "CREATE TABLE rows (k_provider TEXT NOT NULL, k_partition TEXT NOT NULL, k_repository TEXT NOT NULL, "
    "k_key TEXT NOT NULL, type INTEGER NOT NULL, \"registry\" TEXT NOT NULL, \"host\" TEXT NOT NULL, "
    "\"namespace\" TEXT NOT NULL, \"repository\" TEXT NOT NULL, \"tag\" TEXT NOT NULL, \"digest\" TEXT "
    "NOT NULL, \"size\" INTEGER NOT NULL, \"update_ms\" INTEGER NOT NULL, \"sync_ms\" INTEGER NOT NULL, "
    "\"media_type\" TEXT NOT NULL, \"artifact_type\" TEXT NOT NULL, \"multi_arch\" INTEGER NOT NULL, "
    "\"partition\" TEXT NOT NULL, \"owner\" TEXT NOT NULL, \"share_status\" TEXT NOT NULL, "
    "\"instance_id\" TEXT NOT NULL, \"instance_name\" TEXT NOT NULL, \"platforms\" TEXT NOT NULL, "
    "\"created_ms\" INTEGER NOT NULL, \"first_seen_ms\" INTEGER NOT NULL DEFAULT 0);"
    "CREATE UNIQUE INDEX rows_key ON rows(k_provider, k_partition, k_repository, k_key);"
    "CREATE TABLE changes (task_id INTEGER NOT NULL, kind INTEGER NOT NULL, k_provider TEXT NOT NULL, "
    "k_partition TEXT NOT NULL, k_repository TEXT NOT NULL, k_key TEXT NOT NULL, \"row\" BLOB NOT NULL);"
    "CREATE INDEX changes_task ON changes(task_id);"
    "CREATE TABLE tasks (id INTEGER PRIMARY KEY AUTOINCREMENT, state INTEGER NOT NULL, trigger_kind "
    "INTEGER NOT NULL, schedule_id INTEGER NOT NULL, created_ms INTEGER NOT NULL, started_ms INTEGER NOT "
    "NULL, finished_ms INTEGER NOT NULL, repositories_total INTEGER NOT NULL, repositories_done INTEGER "
    "NOT NULL, repositories_failed INTEGER NOT NULL, images_found INTEGER NOT NULL, images_added INTEGER "
    "NOT NULL, images_updated INTEGER NOT NULL, images_removed INTEGER NOT NULL, requests INTEGER NOT "
    "NULL, retries INTEGER NOT NULL, reason TEXT NOT NULL, owner TEXT NOT NULL);"
    "CREATE INDEX tasks_by_state ON tasks(state, id);"
    "CREATE INDEX tasks_by_trigger ON tasks(trigger_kind, id);"
    "CREATE TABLE task_registries (task_id INTEGER NOT NULL REFERENCES tasks(id), ord INTEGER NOT NULL, "
    "name TEXT NOT NULL, type TEXT NOT NULL, state INTEGER NOT NULL, error INTEGER NOT NULL, reason TEXT "
    "NOT NULL, PRIMARY KEY (task_id, ord)) WITHOUT ROWID;"
    "CREATE TABLE task_errors (task_id INTEGER NOT NULL REFERENCES tasks(id), ord INTEGER NOT NULL, "
    "registry TEXT NOT NULL, repository TEXT NOT NULL, code INTEGER NOT NULL, message TEXT NOT NULL, "
    "PRIMARY KEY (task_id, ord)) WITHOUT ROWID;"
    "CREATE TABLE schedules (id INTEGER PRIMARY KEY AUTOINCREMENT, kind INTEGER NOT NULL, hour INTEGER "
    "NOT NULL, minute INTEGER NOT NULL, every_minutes INTEGER NOT NULL, request TEXT NOT NULL, "
    "created_ms INTEGER NOT NULL, next_ms INTEGER NOT NULL, last_task_id INTEGER NOT NULL);"
    "INSERT INTO rows VALUES('p', '', 'team/app', 'v1', 6, 'p', 'reg.example.com', 'team', 'team/app', "
    "'v1', 'd1-new', 100, 0, 222, '', '', 0, '', '', '', '', '', '', 0, 111);"
    "INSERT INTO rows VALUES('p', '', 'team/db', '@d9', 6, 'p', 'reg.example.com', 'team', 'team/db', "
    "'', 'd9', 100, 0, 111, '', '', 0, '', '', '', '', '', '', 0, 111);"
    "INSERT INTO rows VALUES('p', '', 'team/app', 'v3', 6, 'p', 'reg.example.com', 'team', 'team/app', "
    "'v3', 'd3', 100, 0, 222, '', '', 0, '', '', '', '', '', '', 0, 222);"
    "INSERT INTO changes VALUES(1, 1, 'p', '', 'team/app', 'v2', "
    "X'0C01700F7265672E6578616D706C652E636F6D047465616D087465616D2F617070027632026432C80100DE010000000000"
    "0000000000DE010001');"
    "INSERT INTO changes VALUES(1, 1, 'p', '', 'team/app', 'v1', "
    "X'0C01700F7265672E6578616D706C652E636F6D047465616D087465616D2F617070027631026431C80100DE010000000000"
    "0000000000DE010001');"
    "INSERT INTO changes VALUES(1, 1, 'p', '', 'team/db', '@d9', "
    "X'0C01700F7265672E6578616D706C652E636F6D047465616D077465616D2F646200026439C80100DE010000000000000000"
    "0000DE010001');"
    "INSERT INTO changes VALUES(2, 3, 'p', '', 'team/app', 'v2', "
    "X'0C01700F7265672E6578616D706C652E636F6D047465616D087465616D2F617070027632026432C80100DE010000000000"
    "0000000000DE010001');"
    "INSERT INTO changes VALUES(2, 2, 'p', '', 'team/app', 'v1', "
    "X'0C01700F7265672E6578616D706C652E636F6D047465616D087465616D2F6170700276310664312D6E6577C80100BC0300"
    "000000000000000000DE01026431C801');"
    "INSERT INTO changes VALUES(2, 1, 'p', '', 'team/app', 'v3', "
    "X'0C01700F7265672E6578616D706C652E636F6D047465616D087465616D2F617070027633026433C80100BC030000000000"
    "0000000000BC030001');"
    "PRAGMA user_version = 2;";

START_TEST(test_sqlite_migration_from_v2)
{
    imgsync__store_close(S);
    S = NULL;
    remove_files();
    ck_assert_int_eq(mkdir(DIR_, 0700), 0);
    exec_sql(v2_file);
    open_store();
    ck_assert_int_eq(sql_int("PRAGMA user_version"), 3);
    expect_dump("p/team/app:v1@d1-new\np/team/app:v3@d3\np/team/db:@d9\n");
    ck_assert_int_eq(first_seen_of("team/app", "v1"), 111);
    ck_assert_int_eq(first_seen_of("team/app", "v3"), 222);
    ck_assert_int_eq(sql_int("SELECT COUNT(*) FROM scopes WHERE k_namespace = 'team'"), 2);
    /* one record per old change row; those of one scope are merged in the cursor's order */
    ck_assert_int_eq(sql_int("SELECT COUNT(*) FROM changes"), 6);
    expect_changes(1, 0, "1 1 p/team/app:v1@d1  -1\n1 1 p/team/app:v2@d2  -1\n1 1 p/team/db:@d9  -1\n");
    expect_changes(2, 0, "2 2 p/team/app:v1@d1-new d1 100\n3 2 p/team/app:v2@d2  -1\n1 2 p/team/app:v3@d3  -1\n");
    /* new records go after the migrated ones and are merged with them */
    struct imgsync_image *rows[] = {mk("p", "team/app", "v0", "d0"), mk("p", "team/app", "v3", "d3")};
    imgsync__store_set_change_task(S, 2);
    expect_counts(put("p", "team/app", rows, 2, NULL), 1, 1, 1);
    expect_changes(2, 0, "1 2 p/team/app:v0@d0  -1\n2 2 p/team/app:v1@d1-new d1 100\n3 2 p/team/app:v1@d1-new  -1\n"
                         "3 2 p/team/app:v2@d2  -1\n1 2 p/team/app:v3@d3  -1\n2 2 p/team/app:v3@d3 d3 100\n");
}
END_TEST

START_TEST(test_sqlite_damaged_change_record)
{
    struct imgsync_image *rows[] = {mk("p", "r", "a", "d-a"), mk("p", "r", "b", "d-b")};
    imgsync__store_set_change_task(S, 7);
    expect_counts(put("p", "r", rows, 2, NULL), 2, 0, 0);
    ck_assert_int_eq(sql_int("SELECT COUNT(*) FROM changes"), 1); /* one record per scope */
    /* a truncated record (another program, a damaged disk): a clear error, no crash, no leak */
    exec_sql("UPDATE changes SET \"changes\" = substr(\"changes\", 1, 70)");
    imgsync__cursor *cur = NULL;
    ck_assert_int_eq(imgsync__store_changes(S, 7, 0, &cur), 0);
    imgsync__change_row ch;
    ck_assert_int_eq(imgsync__cursor_next(cur, &ch), IMGSYNC_ESTORE);
    ck_assert_ptr_nonnull(strstr(imgsync__cursor_errmsg(cur), "malformed change record"));
    imgsync__cursor_free(cur);
    /* a record of no change is skipped */
    exec_sql("UPDATE changes SET \"changes\" = X''");
    expect_changes(7, 0, "");
}
END_TEST

/* The scopes table lists exactly the scopes that have rows. */
static void expect_scopes_follow_rows(int want)
{
    ck_assert_int_eq(sql_int("SELECT COUNT(*) FROM scopes"), want);
    ck_assert_int_eq(sql_int("SELECT COUNT(*) FROM (SELECT scope FROM rows EXCEPT SELECT id FROM scopes)"), 0);
    ck_assert_int_eq(sql_int("SELECT COUNT(*) FROM (SELECT id FROM scopes EXCEPT SELECT scope FROM rows)"), 0);
    /* each scope's names are those of its rows */
    ck_assert_int_eq(sql_int("SELECT COUNT(*) FROM rows JOIN scopes ON scopes.id = rows.scope WHERE "
                             "k_provider <> \"registry\" OR k_repository <> \"repository\" OR k_partition <> \"partition\""),
                     0);
}

START_TEST(test_sqlite_scopes_follow_rows)
{
    put_tags("p", "team/a", "1,2", NULL);
    put_tags("p", "team/b", "1", NULL);
    put_tags("p", "org/c", "1", NULL);
    put_tags("q", "team/a", "1", NULL);
    expect_scopes_follow_rows(4);
    ck_assert_int_eq(sql_int("SELECT COUNT(*) FROM scopes WHERE k_repository = 'org/c' AND k_namespace = 'org'"), 1);
    /* ids in the order scopes got their first rows: a first sync appends */
    ck_assert_int_eq(sql_int("SELECT COUNT(*) FROM scopes a JOIN scopes b ON a.k_repository = 'team/a' AND "
                             "a.k_provider = 'p' AND b.k_repository = 'team/b' AND a.id < b.id"),
                     1);
    /* a selective replace that keeps unselected rows keeps the scope */
    imgsync_request *sel = NULL;
    ck_assert_int_eq(imgsync_request_new(&sel), 0);
    ck_assert_int_eq(imgsync_request_add_filter(sel, IMGSYNC_FILTER_TAG, "1", IMGSYNC_INCLUDE), 0);
    expect_counts(put("p", "team/a", NULL, 0, sel), 0, 0, 1);
    expect_scopes_follow_rows(4);
    imgsync_request_free(sel);
    /* an empty replace removes it */
    expect_counts(put("p", "team/a", NULL, 0, NULL), 0, 0, 1);
    expect_scopes_follow_rows(3);
    /* pruning: b is seen, c vanished */
    imgsync__map seen;
    const char *names[] = {"team/b"};
    seen_init(&seen, names, 1);
    imgsync__store_counts c = {0, 0, 0};
    ck_assert_int_eq(imgsync__store_prune(S, "p", &seen, NULL, NULL, SEL(NULL), &c), 0);
    imgsync__map_clear(&seen);
    expect_counts(c, 0, 0, 1);
    expect_scopes_follow_rows(2);
    imgsync__store_drop_provider(S, "p");
    expect_scopes_follow_rows(1);
}
END_TEST

START_TEST(test_sqlite_resync_writes_only_changes)
{
    put_tags("p", "r", "a,b,c", NULL);
    /* a log of the rows SQLite deletes (a REPLACE conflict would delete and insert again) */
    exec_sql("CREATE TABLE deleted_log (tag TEXT); CREATE TRIGGER log_delete AFTER DELETE ON rows "
             "BEGIN INSERT INTO deleted_log VALUES (old.tag); END;");
    /* b changes, c goes, d comes, a is unchanged with a new sync time */
    struct imgsync_image *rows[] = {mk("p", "r", "a", "d-a"), mk("p", "r", "b", "d-b2"), mk("p", "r", "d", "d-d")};
    for (int i = 0; i < 3; i++)
        imgsync__image_set_int(rows[i], IMGSYNC__F_sync_ms, 4242);
    expect_counts(put("p", "r", rows, 3, NULL), 1, 1, 1);
    /* the unchanged and the updated row stay where they were: nothing deleted and re-inserted */
    ck_assert_int_eq(sql_int("SELECT COUNT(*) FROM deleted_log WHERE tag IN ('a', 'b')"), 0);
    ck_assert_int_eq(sql_int("SELECT COUNT(*) FROM deleted_log WHERE tag = 'c'"), 1);
    ck_assert_int_eq(sql_int("SELECT sync_ms FROM rows WHERE tag = 'a'"), 4242);
    ck_assert_int_eq(sql_int("SELECT COUNT(*) FROM rows"), 3);
    expect_dump("p/r:a@d-a\np/r:b@d-b2\np/r:d@d-d\n");
}
END_TEST

typedef struct reader_arg {
    imgsync__cursor *cur;
    char *out;
} reader_arg;

static void *read_on_thread(void *p)
{
    reader_arg *a = p;
    a->out = dump_cursor_rows(a->cur);
    return NULL;
}

START_TEST(test_sqlite_cursor_beside_other_writer)
{
    put_tags("p", "r", "a,b", NULL);
    imgsync__cursor *cur = NULL;
    ck_assert_int_eq(imgsync__store_query(S, NULL, &cur), 0);
    /* another connection (another process, say) deletes everything and commits */
    exec_sql("DELETE FROM rows");
    ck_assert_uint_eq(imgsync__store_count(S), 0);
    /* the store is written meanwhile too: the cursor holds no lock */
    put_tags("p", "s", "x", NULL);
    /* read on another thread than the one that opened it */
    reader_arg arg = {cur, NULL};
    pthread_t t;
    ck_assert_int_eq(pthread_create(&t, NULL, read_on_thread, &arg), 0);
    ck_assert_int_eq(pthread_join(t, NULL), 0);
    ck_assert_str_eq(arg.out, "p/r:a@d-a\np/r:b@d-b\n");
    free(arg.out);
    char *now = query_dump(NULL);
    ck_assert_str_eq(now, "p/s:x@d-x\n");
    free(now);
}
END_TEST

START_TEST(test_sqlite_query_uses_indexes)
{
    /* the filters run in SQL: a registry filter searches the scopes' key, each scope's rows are
     * found by the rows' key (the table is clustered on it), no full scan or sort */
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    ck_assert_int_eq(sqlite3_open(PATH_, &db), SQLITE_OK);
    ck_assert_int_eq(sqlite3_prepare_v2(db, "EXPLAIN QUERY PLAN SELECT rows.* FROM scopes JOIN rows ON rows.scope = "
                                            "scopes.id WHERE 1 AND k_provider IN ('p') ORDER BY k_provider, "
                                            "k_partition, k_repository, \"tag\", \"digest\"",
                                        -1, &st, NULL),
                     SQLITE_OK);
    int searched = 0, full_sort = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *plan = (const char *)sqlite3_column_text(st, 3);
        searched += strstr(plan, "SEARCH scopes USING COVERING INDEX") != NULL;
        searched += strstr(plan, "SEARCH rows USING PRIMARY KEY (scope=?)") != NULL;
        /* only "RIGHT PART OF ORDER BY" may be sorted: memory stays bounded by one repository */
        full_sort |= strstr(plan, "TEMP B-TREE FOR ORDER BY") != NULL;
    }
    ck_assert(searched == 2 && !full_sort);
    sqlite3_finalize(st);
    /* the change cursor walks the index in its order: no sort of the (large) records */
    ck_assert_int_eq(sqlite3_prepare_v2(db, "EXPLAIN QUERY PLAN SELECT task_id, k_provider, k_partition, "
                                            "k_repository, \"changes\" FROM changes WHERE task_id > 0 ORDER BY "
                                            "task_id, k_provider, k_partition, k_repository, id",
                                        -1, &st, NULL),
                     SQLITE_OK);
    searched = full_sort = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *plan = (const char *)sqlite3_column_text(st, 3);
        searched += strstr(plan, "SEARCH changes USING INDEX changes_by_scope") != NULL;
        full_sort |= strstr(plan, "TEMP B-TREE") != NULL;
    }
    ck_assert(searched == 1 && !full_sort);
    sqlite3_finalize(st);
    ck_assert_int_eq(sqlite3_close(db), SQLITE_OK);
}
END_TEST

/* ---- review of schema 3: the scope's namespace, as the memory store keeps it ------------------ */

/* A row of (p, r) with an explicit namespace. */
static struct imgsync_image *mk_ns(const char *tag, const char *ns)
{
    char digest[64];
    snprintf(digest, sizeof(digest), "d-%s", tag);
    struct imgsync_image *im = mk("p", "r", tag, digest);
    ck_assert_int_eq(imgsync__image_set_str(im, IMGSYNC__F_namespace, ns), 0);
    return im;
}

/* Prune provider p with nothing seen and namespace ns of partition "" failed. */
static imgsync__store_counts prune_failed_ns(const char *ns)
{
    imgsync__map seen, failed;
    seen_init(&seen, NULL, 0);
    seen_init(&failed, &ns, 1);
    imgsync__store_counts c = {0, 0, 0};
    ck_assert_int_eq(imgsync__store_prune(S, "p", &seen, NULL, &failed, SEL(NULL), &c), 0);
    imgsync__map_clear(&failed);
    imgsync__map_clear(&seen);
    return c;
}

/* A selective replace keeps an unselected row: the scope's namespace is that of its row with the
 * smallest key (the kept one), not that of the replace's first new row. */
START_TEST(test_scope_namespace_after_selective_replace)
{
    struct imgsync_image *rows[] = {mk_ns("a", "x"), mk_ns("b", "x")};
    expect_counts(put("p", "r", rows, 2, NULL), 2, 0, 0);
    imgsync_request *sel = tag_filter("b", IMGSYNC_INCLUDE);
    struct imgsync_image *b[] = {mk_ns("b", "y")};
    expect_counts(put("p", "r", b, 1, sel), 0, 1, 0);
    imgsync_request_free(sel);
    /* namespace x could not be listed: the scope (namespace x, its first row's) is kept */
    expect_counts(prune_failed_ns("x"), 0, 0, 0);
    expect_dump("p/r:a@d-a\np/r:b@d-b\n");
}
END_TEST

/* A selective replace with no new row removes the scope's first row: the namespace is now that
 * of the row with the smallest key left. */
START_TEST(test_scope_namespace_after_first_row_removed)
{
    struct imgsync_image *rows[] = {mk_ns("a", "x"), mk_ns("b", "y")};
    expect_counts(put("p", "r", rows, 2, NULL), 2, 0, 0);
    imgsync_request *sel = tag_filter("a", IMGSYNC_INCLUDE);
    expect_counts(put("p", "r", NULL, 0, sel), 0, 0, 1);
    imgsync_request_free(sel);
    /* the scope's namespace is y (its only row's): a failure of namespace x does not keep it */
    expect_counts(prune_failed_ns("x"), 0, 0, 1);
    expect_dump("");
}
END_TEST

/* The migration gives a scope the namespace of its row with the smallest key, the stores' rule
 * (schema 2 took its first row's, by rowid). */
START_TEST(test_sqlite_migration_keeps_scope_namespace)
{
    imgsync__store_close(S);
    S = NULL;
    remove_files();
    ck_assert_int_eq(mkdir(DIR_, 0700), 0);
    exec_sql(v2_file);
    /* a later row of team/app (rowid 4) in another namespace, its key sorting first */
    exec_sql("INSERT INTO rows VALUES('p', '', 'team/app', 'a0', 6, 'p', 'reg.example.com', 'other', 'team/app', "
             "'a0', 'd0', 100, 0, 222, '', '', 0, '', '', '', '', '', '', 0, 222);");
    open_store();
    ck_assert_int_eq(sql_int("PRAGMA user_version"), 3);
    ck_assert_int_eq(sql_int("SELECT COUNT(*) FROM scopes WHERE k_repository = 'team/app' AND "
                             "k_namespace = 'other'"),
                     1);
    /* namespace team could not be listed: only team/db is in it and kept */
    expect_counts(prune_failed_ns("team"), 0, 0, 3);
    expect_dump("p/team/db:@d9\n");
}
END_TEST

/* Two connections to one file (two contexts, two processes) record changes under one task: every
 * record is kept, in the order written (a first schema 3 counted sequence numbers per connection
 * and the second record of a scope collided). */
START_TEST(test_sqlite_two_connections_one_task)
{
    imgsync__store *T = NULL;
    ck_assert_int_eq(imgsync__store_open(&T, URI), 0);
    imgsync__store_set_change_task(S, 5);
    imgsync__store_set_change_task(T, 5);
    put_tags("p", "r", "a", NULL);
    imgsync__store_counts c = {0, 0, 0};
    struct imgsync_image *b[] = {mk("p", "r", "b", "d-b")};
    ck_assert_int_eq(imgsync__store_replace(T, "p", "", "r", b, 1, NULL, &c), 0);
    unref_all(b, 1);
    imgsync__store_close(T);
    struct imgsync_image *again[] = {mk("p", "r", "c", "d-c")};
    int rc = imgsync__store_replace(S, "p", "", "r", again, 1, NULL, &c);
    unref_all(again, 1);
    ck_assert_msg(rc == 0, "replace: %d %s", rc, imgsync__store_errmsg(S));
    expect_dump("p/r:c@d-c\n");
    expect_changes(5, 0, "1 5 p/r:a@d-a  -1\n3 5 p/r:a@d-a  -1\n1 5 p/r:b@d-b  -1\n3 5 p/r:b@d-b  -1\n"
                         "1 5 p/r:c@d-c  -1\n");
}
END_TEST

/* A change record above SQLite's length limit fails the replace with a clear error, and the
 * scope is as it was (the rows' writes are undone with it). */
START_TEST(test_sqlite_record_too_large)
{
    put_tags("p", "r", "a", NULL);
    sqlite3_limit(((sqlite_store *)S)->db, SQLITE_LIMIT_LENGTH, 1000);
    imgsync__store_set_change_task(S, 3);
    struct imgsync_image *rows[30];
    char tag[16];
    for (int i = 0; i < 30; i++) {
        snprintf(tag, sizeof(tag), "t%d", i);
        rows[i] = mk("p", "r", tag, "d-t");
    }
    imgsync__store_counts c = {0, 0, 0};
    ck_assert_int_eq(imgsync__store_replace(S, "p", "", "r", rows, 30, NULL, &c), IMGSYNC_ESTORE);
    unref_all(rows, 30);
    ck_assert_ptr_nonnull(strstr(imgsync__store_errmsg(S), "too large"));
    expect_dump("p/r:a@d-a\n");
    expect_changes(3, 0, "");
}
END_TEST

static void add_sqlite_only(TCase *tc)
{
    tcase_add_test(tc, test_sqlite_ctx_new);
    tcase_add_test(tc, test_sqlite_migration_from_v1);
    tcase_add_test(tc, test_sqlite_migration_from_v2);
    tcase_add_test(tc, test_sqlite_migration_keeps_scope_namespace);
    tcase_add_test(tc, test_sqlite_two_connections_one_task);
    tcase_add_test(tc, test_sqlite_damaged_change_record);
    tcase_add_test(tc, test_sqlite_record_too_large);
    tcase_add_test(tc, test_sqlite_scopes_follow_rows);
    tcase_add_test(tc, test_sqlite_resync_writes_only_changes);
    tcase_add_test(tc, test_sqlite_cursor_beside_other_writer);
    tcase_add_test(tc, test_sqlite_query_uses_indexes);
    tcase_add_test(tc, test_sqlite_busy_is_estore);
    tcase_add_test(tc, test_sqlite_reopen_keeps_rows);
    tcase_add_test(tc, test_sqlite_rows_are_copies);
    tcase_add_test(tc, test_sqlite_newer_schema_refused);
    tcase_add_test(tc, test_sqlite_not_a_database);
    tcase_add_test(tc, test_sqlite_unwritable_path);
}

/* The tests every backend passes alike. */
static void add_common(TCase *tc)
{
    tcase_add_test(tc, test_changes_recorded);
    tcase_add_test(tc, test_changes_counts_agree);
    tcase_add_test(tc, test_changes_forget);
    tcase_add_test(tc, test_first_seen);
    tcase_add_test(tc, test_sync_time_of_unchanged_rows);
    tcase_add_test(tc, test_transaction_rollback);
    tcase_add_test(tc, test_query_parts);
    tcase_add_test(tc, test_query_globs);
    tcase_add_test(tc, test_query_combined);
    tcase_add_test(tc, test_query_order);
    tcase_add_test(tc, test_cursor_snapshot);
    tcase_add_test(tc, test_open);
    tcase_add_test(tc, test_replace_counts);
    tcase_add_test(tc, test_tag_filtered_replace);
    tcase_add_test(tc, test_replace_zero_rows_deletes);
    tcase_add_test(tc, test_prune);
    tcase_add_test(tc, test_prune_tag_filter_and_repository_list);
    tcase_add_test(tc, test_prune_keeps_failed_namespaces);
    tcase_add_test(tc, test_untagged_rows_keyed_by_digest);
    tcase_add_test(tc, test_prune_many);
    tcase_add_test(tc, test_snapshot_order);
    tcase_add_test(tc, test_drop_provider);
    tcase_add_test(tc, test_provider_and_repository_keys_distinct);
    tcase_add_test(tc, test_non_image_rows_replaced_only_when_included);
    tcase_add_test(tc, test_kept_non_image_row_yields_to_same_tag);
    tcase_add_test(tc, test_scope_namespace_after_selective_replace);
    tcase_add_test(tc, test_scope_namespace_after_first_row_removed);
}

Suite *store_suite(void)
{
    Suite *s = suite_create("store");
    TCase *mem = tcase_create("memory");
    tcase_add_checked_fixture(mem, setup_memory, teardown);
    add_common(mem);
    tcase_add_test(mem, test_refcounts); /* the memory store shares the caller's rows */
    suite_add_tcase(s, mem);
    TCase *sql = tcase_create("sqlite");
    tcase_add_checked_fixture(sql, setup_sqlite, teardown);
    add_common(sql);
    add_sqlite_only(sql);
    tcase_set_timeout(sql, 30); /* the busy test waits out the store's 5 s busy timeout */
    suite_add_tcase(s, sql);
    return s;
}

#include "check_main.h"
IMGSYNC_TEST_MAIN(store_suite)
