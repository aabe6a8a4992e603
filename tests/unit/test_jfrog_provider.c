/* Unit tests of the "jfrog" provider (src/providers/jfrog.c, jfrog_aql.c) and of the distribution
 * walk's options it uses (repo_prefix, skip_digest_tags, emit hook) on scripted Artifactory
 * responses (facts: shared/reference/swr-jfrog-oci-api.md §4, §4.1, §5), driven by the replay
 * harness (tests/support/replay.c): no network. */
#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "imgsync.h"
#include "imgsync/sys/provider.h"
#include "providers/common.h"
#include "providers/jfrog_aql.h"
#include "util/buf.h"
#include "support/provider_harness.h"
#include "support/replay.h"

Suite *jfrog_provider_suite(void);

#define EP "https://acme.jfrog.io"
#define ART EP "/artifactory"
#define HOST "acme.jfrog.io"
#define USER "admin"
#define PASS "admin-\"pass\\1"
#define TOKEN "atk-admin-3f8a2b6c4d"
#define H_JSON "Content-Type: application/json\n"
#define D ART "/api/docker/docker-local/v2"
#define H ART "/api/docker/hub/v2"
#define MT_V2 "application/vnd.docker.distribution.manifest.v2+json"
#define MT_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define HEX64 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define T_A "2024-02-01T13:00:00.123+03:00"
#define MS_A INT64_C(1706781600123)
#define T_B "2024-03-05T10:00:00.000Z"
#define MS_B INT64_C(1709632800000)

static replay *R;
static imgsync_provider *P;


static void respond(const char *method, const char *url, int status, const char *headers, const char *body)
{
    ck_assert_int_eq(replay_respond(R, method, url, status, headers, body), 0);
}

/* An image manifest of config `config` bytes and layers `l1`, `l2`. */
static const char *manifest(int config, int l1, int l2)
{
    return ph_printf("{\"schemaVersion\":2,\"mediaType\":\"" MT_V2 "\",\"config\":{\"mediaType\":"
                   "\"application/vnd.docker.container.image.v1+json\",\"size\":%d,\"digest\":\"sha256:" HEX64 "\"},"
                   "\"layers\":[{\"size\":%d,\"digest\":\"sha256:" HEX64 "\"},{\"size\":%d,\"digest\":\"sha256:" HEX64
                   "\"}]}",
                   config, l1, l2);
}

static const char *digest_of(const char *body)
{
    char d[72];
    imgsync__pv_sha256(body, strlen(body), d);
    return ph_printf("%s", d);
}

static void add_ping_repos(void)
{
    respond("GET", ART "/api/system/ping", 200, "Content-Type: text/plain\n", "OK");
    respond("GET", ART "/api/repositories?packageType=docker", 200, H_JSON,
            "[{\"key\":\"docker-local\",\"type\":\"LOCAL\",\"packageType\":\"Docker\"},"
            "{\"key\":\"hub\",\"type\":\"REMOTE\",\"packageType\":\"Docker\",\"url\":\"https://registry-1.docker.io\"},"
            "{\"key\":\"all\",\"type\":\"VIRTUAL\",\"packageType\":\"Docker\"},"
            "{\"key\":\"fed\",\"type\":\"FEDERATED\",\"packageType\":\"Docker\"},"
            "{\"key\":\"files\",\"type\":\"LOCAL\",\"packageType\":\"Generic\"}]");
}

static const char *M_APP, *M_DEEP, *M_REDIS;

/* docker-local: "app" (tag 1.0 plus two digest "tags") and "a/b/c/d" (v1); hub: library/redis:7
 * stored under hub-cache. */
static void add_v2_walk(void)
{
    M_APP = manifest(100, 1000, 23);
    M_DEEP = manifest(7, 8, 9);
    M_REDIS = manifest(50, 500, 5);
    respond("GET", D "/_catalog?n=100", 200, H_JSON, "{\"repositories\":[\"a/b/c/d\",\"app\"]}");
    respond("GET", D "/app/tags/list", 200, H_JSON,
            "{\"name\":\"app\",\"tags\":[\"1.0\",\"sha256__" HEX64 "\",\"sha256:" HEX64 "\"]}");
    respond("GET", D "/a/b/c/d/tags/list", 200, H_JSON, "{\"name\":\"a/b/c/d\",\"tags\":[\"v1\"]}");
    respond("GET", D "/app/manifests/1.0", 200, "Content-Type: " MT_V2 "\n", M_APP);
    respond("GET", D "/a/b/c/d/manifests/v1", 200, "Content-Type: " MT_V2 "\n", M_DEEP);
    respond("GET", H "/_catalog?n=100", 200, H_JSON, "{\"repositories\":[\"library/redis\"]}");
    respond("GET", H "/library/redis/tags/list", 200, H_JSON, "{\"name\":\"library/redis\",\"tags\":[\"7\"]}");
    respond("GET", H "/library/redis/manifests/7", 200, "Content-Type: " MT_V2 "\n", M_REDIS);
    respond("GET", ART "/api/storage/docker-local/app/1.0/manifest.json", 200, H_JSON,
            "{\"lastModified\":\"" T_A "\",\"size\":\"400\"}");
    respond("GET", ART "/api/storage/docker-local/a/b/c/d/v1/manifest.json", 200, H_JSON,
            "{\"lastModified\":\"" T_B "\"}");
    respond("GET", ART "/api/storage/hub-cache/library/redis/7/manifest.json", 200, H_JSON,
            "{\"lastModified\":\"" T_B "\"}");
}

typedef struct want_row {
    const char *partition, *repository, *tag;
    const char **body;
    int64_t size, ms;
} want_row;

static const want_row ROWS[] = {
    {"docker-local", "docker-local/a/b/c/d", "v1", &M_DEEP, 24, MS_B},
    {"docker-local", "docker-local/app", "1.0", &M_APP, 1123, MS_A},
    {"hub", "hub/library/redis", "7", &M_REDIS, 555, MS_B},
};

static void expect_rows(void)
{
    imgsync_iter *it = NULL;
    ck_assert_int_eq(imgsync_iter_new(&it, replay_ctx(R), NULL), 0);
    size_t i = 0, n = sizeof(ROWS) / sizeof(ROWS[0]);
    const imgsync_image *im;
    while ((im = imgsync_iter_next(it)) != NULL) {
        ck_assert_msg(i < n, "extra row %s:%s", imgsync_image_repository(im), imgsync_image_tag(im));
        const want_row *w = &ROWS[i++];
        ck_assert_str_eq(imgsync_image_repository(im), w->repository);
        ck_assert_str_eq(imgsync_image_tag(im), w->tag);
        ck_assert_str_eq(imgsync_image_partition(im), w->partition);
        ck_assert_str_eq(imgsync_image_namespace(im), w->partition);
        ck_assert_str_eq(imgsync_image_digest(im), digest_of(*w->body));
        ck_assert_str_eq(imgsync_image_media_type(im), MT_V2);
        ck_assert_str_eq(imgsync_image_host(im), HOST);
        ck_assert_str_eq(imgsync_image_registry_type(im), "Jfrog");
        ck_assert_str_eq(imgsync_image_image_type(im), "jfrog");
        ck_assert_int_eq(imgsync_image_size(im), w->size);
        ck_assert_int_eq(imgsync_image_update_ms(im), w->ms);
        ck_assert_int_eq(imgsync_image_multi_arch(im), 0);
    }
    imgsync_iter_free(it);
    ck_assert_uint_eq(i, n);
}

/* ---- driving ------------------------------------------------------------------------------- */

static void setup(void) { R = ph_setup(); }

static void teardown(void)
{
    ph_teardown();
    R = NULL;
    P = NULL;
}



static void make(const char *endpoint, const char *mode, int token)
{
    P = replay_add_provider(R, "jfrog", "jf", endpoint);
    ck_assert_msg(P != NULL, "provider: %s", imgsync_ctx_errmsg(replay_ctx(R)));
    ck_assert_int_eq(imgsync_provider_set(P, "mode", mode), 0);
    if (token) {
        ck_assert_int_eq(imgsync_provider_set(P, "token", TOKEN), 0);
    } else {
        ck_assert_int_eq(imgsync_provider_set(P, "username", USER), 0);
        ck_assert_int_eq(imgsync_provider_set(P, "password", PASS), 0);
    }
}

/* Sync to the end; the task's state. */
static int run_sync(void)
{
    uint64_t id = 0;
    int rc = replay_sync(R, NULL, &id);
    ck_assert_msg(rc == 0, "replay_sync: %s", imgsync_strerror(rc));
    imgsync_task *t = NULL;
    ck_assert_int_eq(imgsync_task_get(&t, replay_ctx(R), id), 0);
    int state = imgsync_task_state_of(t);
    for (size_t i = 0; i < imgsync_task_error_count(t); i++) {
        ck_assert_ptr_null(strstr(imgsync_task_error_message(t, i), PASS));
        ck_assert_ptr_null(strstr(imgsync_task_error_message(t, i), TOKEN));
    }
    imgsync_task_free(t);
    return state;
}


/* ---- v2 mode --------------------------------------------------------------------------------- */

START_TEST(test_v2_basic)
{
    make(EP, "v2", 0);
    add_ping_repos();
    add_v2_walk();
    ck_assert_int_eq(run_sync(), IMGSYNC_TASK_SUCCEEDED);
    ph_expect_no_unexpected();
    expect_rows();
    /* virtual and federated keys are not synced by default; no "-cache" Docker API */
    ck_assert_uint_eq(replay_count_containing(R, NULL, "/api/docker/all/"), 0);
    ck_assert_uint_eq(replay_count_containing(R, NULL, "/api/docker/fed/"), 0);
    ck_assert_uint_eq(replay_count_containing(R, NULL, "/api/docker/hub-cache/"), 0);
    /* digest "tags" are never asked for */
    ck_assert_uint_eq(replay_count_containing(R, NULL, "sha256"), 0);
    const replay_request *q = replay_find(R, "GET", ART "/api/docker/docker-local/v2/app/tags/list");
    ck_assert_str_eq(replay_request_header(q, "Accept"), "application/json"); /* Artifactory 6.x: 406 else */
    ck_assert_ptr_nonnull(strstr(replay_request_header(q, "Authorization"), "Basic "));
    q = replay_find(R, "GET", ART "/api/repositories?packageType=docker");
    ck_assert_ptr_nonnull(strstr(replay_request_header(q, "Authorization"), "Basic "));
}
END_TEST

START_TEST(test_v2_token_bearer_everywhere)
{
    make(EP "/artifactory/", "v2", 1); /* an Artifactory URL: no second "/artifactory" */
    add_ping_repos();
    add_v2_walk();
    ck_assert_int_eq(run_sync(), IMGSYNC_TASK_SUCCEEDED);
    ph_expect_no_unexpected();
    expect_rows();
    for (size_t i = 0; i < replay_nrequests(R); i++) {
        const replay_request *q = replay_request_at(R, i);
        const char *auth = replay_request_header(q, "Authorization");
        ck_assert_msg(auth && !strcmp(auth, "Bearer " TOKEN), "%s: %s", q->url, auth ? "not the token" : "none");
    }
}
END_TEST

START_TEST(test_repo_types_and_repos)
{
    make(EP, "v2", 0);
    ck_assert_int_eq(imgsync_provider_set(P, "repo_types", "remote,virtual"), 0);
    ck_assert_int_eq(imgsync_provider_set(P, "repos", "hub,nope"), 0);
    add_ping_repos();
    add_v2_walk();
    ck_assert_int_eq(run_sync(), IMGSYNC_TASK_PARTIAL); /* "nope" is reported as not found */
    ph_expect_no_unexpected();
    ck_assert_uint_eq(replay_count_containing(R, NULL, "/api/docker/docker-local/"), 0);
    ck_assert_uint_eq(replay_count_containing(R, NULL, "/api/docker/all/"), 0); /* not in repos */
    ck_assert_uint_eq(imgsync_inventory_count(replay_ctx(R)), 1);
}
END_TEST

START_TEST(test_wrong_credentials_eauth)
{
    make(EP, "v2", 0);
    respond("GET", ART "/api/system/ping", 401, H_JSON "WWW-Authenticate: Basic realm=\"Artifactory Realm\"\n",
            "{\"errors\":[{\"status\":401,\"message\":\"Bad credentials\"}]}");
    ck_assert_int_eq(run_sync(), IMGSYNC_TASK_FAILED);
    ck_assert_uint_eq(imgsync_inventory_count(replay_ctx(R)), 0);
    ck_assert_int_eq(imgsync_provider_check(P), IMGSYNC_EAUTH);
    ck_assert_ptr_null(strstr(imgsync_ctx_errmsg(replay_ctx(R)), PASS));
}
END_TEST

START_TEST(test_not_artifactory_404)
{
    make(EP, "v2", 0);
    ck_assert_int_eq(imgsync_provider_check(P), IMGSYNC_EUNSUPPORTED);
}
END_TEST

START_TEST(test_check_lists_keys_only)
{
    make(EP, "v2", 0);
    add_ping_repos();
    ck_assert_int_eq(imgsync_provider_check(P), 0);
    ck_assert_uint_eq(replay_nrequests(R), 2);
}
END_TEST

START_TEST(test_token_and_user_refused)
{
    make(EP, "v2", 0);
    ck_assert_int_eq(imgsync_provider_set(P, "token", TOKEN), 0);
    ck_assert_int_eq(run_sync(), IMGSYNC_TASK_FAILED);
    ck_assert_uint_eq(replay_nrequests(R), 0);
}
END_TEST

/* A key whose catalog is refused fails alone; its rows from the previous sync are kept. */
START_TEST(test_key_403_fails_alone)
{
    make(EP, "v2", 0);
    add_ping_repos();
    add_v2_walk();
    ck_assert_int_eq(run_sync(), IMGSYNC_TASK_SUCCEEDED);
    respond("GET", ART "/api/docker/docker-local/v2/_catalog?n=100", 403, H_JSON,
            "{\"errors\":[{\"code\":\"DENIED\",\"message\":\"forbidden\"}]}");
    ck_assert_int_eq(run_sync(), IMGSYNC_TASK_PARTIAL);
    expect_rows();
}
END_TEST

/* A key with upper-case letters cannot prefix OCI repository names: it fails, the others sync. */
START_TEST(test_uppercase_key_fails_alone)
{
    make(EP, "v2", 0);
    add_ping_repos();
    add_v2_walk();
    respond("GET", ART "/api/repositories?packageType=docker", 200, H_JSON,
            "[{\"key\":\"docker-local\",\"type\":\"LOCAL\",\"packageType\":\"Docker\"},"
            "{\"key\":\"Team-Local\",\"type\":\"LOCAL\",\"packageType\":\"Docker\"}]");
    ck_assert_int_eq(run_sync(), IMGSYNC_TASK_PARTIAL);
    ck_assert_uint_eq(imgsync_inventory_count(replay_ctx(R)), 2);
    ck_assert_uint_eq(replay_count_containing(R, NULL, "Team-Local"), 0);
}
END_TEST

/* Artifactory 6.x Link headers point at the host's /v2/ root: followed under the key's API. */
START_TEST(test_v6_root_link_rebased)
{
    make(EP, "v2", 0);
    add_ping_repos();
    add_v2_walk();
    respond("GET", D "/_catalog?n=100", 200,
            H_JSON "Link: </v2/_catalog?last=a%2Fb%2Fc%2Fd&n=100>; rel=\"next\"\n", "{\"repositories\":[\"a/b/c/d\"]}");
    respond("GET", D "/_catalog?last=a%2Fb%2Fc%2Fd&n=100", 200, H_JSON, "{\"repositories\":[\"app\"]}");
    ck_assert_int_eq(run_sync(), IMGSYNC_TASK_SUCCEEDED);
    ph_expect_no_unexpected();
    expect_rows();
    ck_assert_uint_eq(replay_count_containing(R, NULL, EP "/v2/"), 0);
}
END_TEST

/* A storage answer of 404 (the manifest file is elsewhere) keeps the row, without a time. */
START_TEST(test_storage_404_keeps_row)
{
    make(EP, "v2", 0);
    add_ping_repos();
    add_v2_walk();
    respond("GET", ART "/api/storage/hub-cache/library/redis/7/manifest.json", 404, H_JSON,
            "{\"errors\":[{\"status\":404,\"message\":\"Unable to find item\"}]}");
    ck_assert_int_eq(run_sync(), IMGSYNC_TASK_SUCCEEDED);
    ck_assert_uint_eq(imgsync_inventory_count(replay_ctx(R)), 3);
}
END_TEST

/* A tag list that is not JSON fails that repository only. */
START_TEST(test_bad_tags_fails_scope)
{
    make(EP, "v2", 0);
    add_ping_repos();
    add_v2_walk();
    respond("GET", ART "/api/docker/docker-local/v2/app/tags/list", 200, H_JSON, "{\"tags\":[1,");
    ck_assert_int_eq(run_sync(), IMGSYNC_TASK_PARTIAL);
    ck_assert_uint_eq(imgsync_inventory_count(replay_ctx(R)), 2);
}
END_TEST

/* ---- AQL mode ------------------------------------------------------------------------------- */

static const char *aql_url(void) { return ART "/api/search/aql"; }

static const char *aql_item(const char *path, const char *name, int size, const char *modified, const char *digest)
{
    if (!digest)
        return ph_printf("{\"repo\":\"docker-local\",\"path\":\"%s\",\"name\":\"%s\",\"type\":\"file\",\"size\":%d}", path,
                       name, size);
    return ph_printf("{\"repo\":\"docker-local\",\"path\":\"%s\",\"name\":\"%s\",\"type\":\"file\",\"size\":%d,"
                   "\"modified\":\"%s\",\"sha256\":\"%s\",\"properties\":[{\"key\":\"docker.manifest.digest\","
                   "\"value\":\"%s\"},{\"key\":\"docker.manifest.type\",\"value\":\"" MT_V2 "\"}]}",
                   path, name, size, modified, digest + 7, digest);
}

/* The replay keys canned answers by method and URL: every AQL POST gets the same answer. So
 * AQL tests script one key (repos=docker-local) whose manifests and blobs come in one answer,
 * which is a short page for both queries; digest folders and foreign names give no row. */
static void add_aql_one_answer(void)
{
    respond("GET", ART "/api/storage/docker-local", 200, H_JSON, "{\"repo\":\"docker-local\",\"path\":\"/\"}");
    const char *body = ph_printf(
        "{\"results\":[%s,%s,%s,%s,%s,%s],\"range\":{\"start_pos\":0,\"end_pos\":6,\"total\":6}}",
        aql_item("app/1.0", "manifest.json", 400, T_A, digest_of(M_APP)),
        aql_item("app/1.0", "sha256__" HEX64, 100, NULL, NULL), aql_item("app/1.0", "sha256__b", 1023, NULL, NULL),
        aql_item("app/sha256__" HEX64, "manifest.json", 400, T_A, "sha256:" HEX64),
        aql_item("a/b/c/d/v1", "manifest.json", 300, T_B, digest_of(M_DEEP)),
        aql_item("a/b/c/d/v1", "sha256__c", 24, NULL, NULL));
    respond("POST", aql_url(), 200, H_JSON, body);
}

START_TEST(test_aql_rows_and_query)
{
    make(EP, "aql", 0);
    ck_assert_int_eq(imgsync_provider_set(P, "repos", "docker-local"), 0);
    M_APP = manifest(100, 1000, 23);
    M_DEEP = manifest(7, 8, 9);
    add_ping_repos();
    add_aql_one_answer();
    ck_assert_int_eq(run_sync(), IMGSYNC_TASK_SUCCEEDED);
    ph_expect_no_unexpected();
    ck_assert_uint_eq(replay_count(R, "POST", aql_url()), 2); /* manifests, then blobs */
    const replay_request *q = replay_find(R, "POST", aql_url());
    ck_assert_str_eq(replay_request_header(q, "Content-Type"), "text/plain");
    char *body = imgsync__strndup(q->body, q->body_len);
    ck_assert_ptr_nonnull(strstr(body, "\"repo\":{\"$eq\":\"docker-local\"}"));
    ck_assert_ptr_nonnull(strstr(body, ".offset(0).limit(1000)"));
    ck_assert_ptr_null(strstr(body, "$in"));
    free(body);
    imgsync_iter *it = NULL;
    ck_assert_int_eq(imgsync_iter_new(&it, replay_ctx(R), NULL), 0);
    const imgsync_image *im = imgsync_iter_next(it);
    ck_assert_str_eq(imgsync_image_repository(im), "docker-local/a/b/c/d");
    ck_assert_int_eq(imgsync_image_size(im), 24);
    ck_assert_int_eq(imgsync_image_update_ms(im), MS_B);
    im = imgsync_iter_next(it);
    ck_assert_str_eq(imgsync_image_repository(im), "docker-local/app");
    ck_assert_str_eq(imgsync_image_digest(im), digest_of(M_APP));
    ck_assert_str_eq(imgsync_image_media_type(im), MT_V2);
    ck_assert_int_eq(imgsync_image_size(im), 1123); /* the blob files, not manifest.json's 400 */
    ck_assert_int_eq(imgsync_image_update_ms(im), MS_A);
    ck_assert_ptr_null(imgsync_iter_next(it));
    imgsync_iter_free(it);
}
END_TEST

/* A full page asks for the next offset (range.total counts the page only). */
START_TEST(test_aql_full_page_asks_more)
{
    make(EP, "aql", 0);
    ck_assert_int_eq(imgsync_provider_set(P, "repos", "docker-local"), 0);
    ck_assert_int_eq(imgsync_provider_set(P, "page_size", "6"), 0);
    M_APP = manifest(100, 1000, 23);
    M_DEEP = manifest(7, 8, 9);
    add_ping_repos();
    add_aql_one_answer(); /* 6 results = a full page, every time: the walk must not go on forever */
    ck_assert_int_eq(imgsync_provider_set(P, "max_list_pages", "3"), 0);
    int state = run_sync();
    /* the second page does not continue the first (pages overlap by one item): the key stops */
    ck_assert_uint_ge(replay_count(R, "POST", aql_url()), 2);
    ck_assert_uint_le(replay_count(R, "POST", aql_url()), 3);
    ck_assert_int_ne(state, IMGSYNC_TASK_SUCCEEDED);
}
END_TEST

START_TEST(test_auto_falls_back_on_400)
{
    make(EP, "auto", 0);
    add_ping_repos();
    add_v2_walk();
    respond("GET", ART "/api/storage/docker-local", 200, H_JSON, "{}");
    respond("GET", ART "/api/storage/hub-cache", 200, H_JSON, "{}");
    respond("POST", aql_url(), 400, H_JSON, "{\"errors\":[{\"status\":400,\"message\":\"Failed to parse query\"}]}");
    ck_assert_int_eq(run_sync(), IMGSYNC_TASK_SUCCEEDED);
    ph_expect_no_unexpected();
    expect_rows();
}
END_TEST

START_TEST(test_aql_unreadable_key_fails_alone)
{
    make(EP, "aql", 0);
    ck_assert_int_eq(imgsync_provider_set(P, "repos", "docker-local"), 0);
    add_ping_repos();
    respond("GET", ART "/api/storage/docker-local", 403, H_JSON, "{\"errors\":[{\"status\":403,\"message\":\"Forbidden\"}]}");
    ck_assert_int_eq(run_sync(), IMGSYNC_TASK_FAILED); /* its only key failed */
    ck_assert_uint_eq(replay_count(R, "POST", aql_url()), 0);
}
END_TEST

/* ---- review10: defects and added coverage -------------------------------------------------- */

/* Was a defect (review): AQL mode: one manifest item with an invalid tag (a folder name that is no OCI tag, here
 * "bad tag") makes imgsync_record_emit answer EPROTOCOL; emit_mrow returns it, aql_finish stops
 * its loop there, so the key's later images are never emitted nor listed and the code is
 * returned from on_response. Expected: that image's scope fails alone (the walk's behaviour in
 * v2 mode for an invalid tag), the other images of the key get their rows. */
START_TEST(test_aql_invalid_tag_fails_only_its_image)
{
    make(EP, "aql", 0);
    ck_assert_int_eq(imgsync_provider_set(P, "repos", "docker-local"), 0);
    M_APP = manifest(100, 1000, 23);
    M_DEEP = manifest(7, 8, 9);
    add_ping_repos();
    respond("GET", ART "/api/storage/docker-local", 200, H_JSON, "{\"repo\":\"docker-local\",\"path\":\"/\"}");
    const char *body = ph_printf(
        "{\"results\":[%s,%s,%s,%s,%s,%s],\"range\":{\"start_pos\":0,\"end_pos\":6,\"total\":6}}",
        aql_item("a/b/c/d/v1", "manifest.json", 300, T_B, digest_of(M_DEEP)),
        aql_item("a/b/c/d/v1", "sha256__c", 24, NULL, NULL),
        aql_item("aa/bad tag", "manifest.json", 300, T_B, digest_of(M_DEEP)),
        aql_item("aa/bad tag", "sha256__c", 24, NULL, NULL),
        aql_item("app/1.0", "manifest.json", 400, T_A, digest_of(M_APP)),
        aql_item("app/1.0", "sha256__" HEX64, 1123, NULL, NULL));
    respond("POST", aql_url(), 200, H_JSON, body);
    ck_assert_int_eq(run_sync(), IMGSYNC_TASK_PARTIAL);
    ck_assert_uint_eq(imgsync_inventory_count(replay_ctx(R)), 2); /* a/b/c/d:v1 and app:1.0 */
}
END_TEST

/* AQL paging with offset/limit while items change between pages: a dynamic AQL answer computed
 * from the query's .offset()/.limit() (and a {"path":{"$gt":...}} bound if a fix pages by key)
 * over a dataset of images i0..i4 (tag "1" each); after the first manifests page has been served
 * in the second sync, i0 is deleted, so every later item moves one position forward. */
static int AQL_MUTATE;  /* 1: delete i0 once the first manifests page was served */
static int AQL_DELETED; /* i0 is gone */
static const char *AQL_DG;

static long num_after(const char *s, const char *key)
{
    const char *p = strstr(s, key);
    return p ? strtol(p + strlen(key), NULL, 10) : -1;
}

static void aql_fallback(void *ud, const fake_request *q, fake_reply *out)
{
    (void)ud;
    memset(out, 0, sizeof(*out));
    if (strcmp(q->method, "POST") || strcmp(q->url, ART "/api/search/aql")) {
        out->status = 404;
        return;
    }
    char *body = imgsync__strndup(q->body, q->body_len);
    ck_assert_ptr_nonnull(body);
    int manifests = strstr(body, "\"manifest.json\"") != NULL;
    long offset = num_after(body, ".offset("), limit = num_after(body, ".limit(");
    if (offset < 0)
        offset = 0;
    const char *gt = strstr(body, "\"path\":{\"$gt\":\"");
    char after[64] = "";
    if (gt)
        sscanf(gt + strlen("\"path\":{\"$gt\":\""), "%63[^\"]", after);
    free(body);
    char *res = imgsync__strdup("");
    long seen = 0, n = 0;
    for (int i = AQL_DELETED ? 1 : 0; i < 5; i++) {
        char path[16];
        snprintf(path, sizeof(path), "i%d/1", i);
        if (after[0] && strcmp(path, after) <= 0)
            continue;
        if (seen++ < offset || (limit > 0 && n >= limit))
            continue;
        const char *item = manifests ? aql_item(path, "manifest.json", 300, T_B, AQL_DG)
                                     : aql_item(path, "sha256__c", 24, NULL, NULL);
        char *grown = imgsync__asprintf("%s%s%s", res, n ? "," : "", item);
        free(res);
        res = grown;
        n++;
    }
    out->status = 200;
    out->headers = H_JSON;
    out->body = ph_printf("{\"results\":[%s],\"range\":{\"start_pos\":%ld,\"end_pos\":%ld,\"total\":%ld}}", res, offset,
                        offset + n, n);
    free(res);
    if (manifests && AQL_MUTATE)
        AQL_DELETED = 1;
}

/* Was a defect (review): AQL offset paging silently skips an item when an earlier one is deleted between pages
 * (i2 moves from offset 2 to offset 1, after the first page ended at offset 2): i2's row is
 * removed although i2 still exists. Expected: i2's row kept (listed, or the key failed alone
 * with its rows kept). */
START_TEST(test_aql_items_shift_between_pages)
{
    make(EP, "aql", 0);
    ck_assert_int_eq(imgsync_provider_set(P, "repos", "docker-local"), 0);
    ck_assert_int_eq(imgsync_provider_set(P, "page_size", "2"), 0);
    M_DEEP = manifest(7, 8, 9);
    AQL_DG = digest_of(M_DEEP);
    AQL_MUTATE = AQL_DELETED = 0;
    add_ping_repos();
    respond("GET", ART "/api/storage/docker-local", 200, H_JSON, "{\"repo\":\"docker-local\",\"path\":\"/\"}");
    fake_set_fallback(replay_transport(R), aql_fallback, NULL);
    ck_assert_int_eq(run_sync(), IMGSYNC_TASK_SUCCEEDED);
    ck_assert_uint_eq(imgsync_inventory_count(replay_ctx(R)), 5);
    AQL_MUTATE = 1;
    run_sync();
    int have_i2 = 0;
    imgsync_iter *it = NULL;
    ck_assert_int_eq(imgsync_iter_new(&it, replay_ctx(R), NULL), 0);
    const imgsync_image *im;
    while ((im = imgsync_iter_next(it)) != NULL)
        have_i2 |= !strcmp(imgsync_image_repository(im), "docker-local/i2");
    imgsync_iter_free(it);
    ck_assert_msg(have_i2, "docker-local/i2:1 still exists but its row was removed");
}
END_TEST

/* Was a defect (review): a key named in the `repos` option that the request's namespace filter leaves out is
 * reported by report_missing_keys as "not a Docker repository of the selected types" (a failed
 * partition, ENOTFOUND): syncing one namespace of a provider with `repos` ends PARTIAL although
 * every selected key synced. Expected: SUCCEEDED, no error. */
START_TEST(test_repos_with_namespace_filter_no_false_failure)
{
    make(EP, "v2", 0);
    ck_assert_int_eq(imgsync_provider_set(P, "repos", "docker-local,hub"), 0);
    add_ping_repos();
    add_v2_walk();
    imgsync_request *req = NULL;
    ck_assert_int_eq(imgsync_request_new(&req), 0);
    ck_assert_int_eq(imgsync_request_add_filter(req, IMGSYNC_FILTER_NAMESPACE, "hub", IMGSYNC_INCLUDE), 0);
    uint64_t id = 0;
    ck_assert_int_eq(replay_sync(R, req, &id), 0);
    imgsync_request_free(req);
    imgsync_task *t = NULL;
    ck_assert_int_eq(imgsync_task_get(&t, replay_ctx(R), id), 0);
    int state = imgsync_task_state_of(t);
    const char *first = imgsync_task_error_count(t) ? imgsync_task_error_message(t, 0) : "";
    char msg[300];
    snprintf(msg, sizeof(msg), "%s", first);
    imgsync_task_free(t);
    ck_assert_uint_eq(replay_count_containing(R, NULL, "/api/docker/docker-local/"), 0);
    ck_assert_uint_eq(imgsync_inventory_count(replay_ctx(R)), 1);
    ck_assert_msg(state == IMGSYNC_TASK_SUCCEEDED, "state %d: %s", state, msg);
}
END_TEST

/* Passes (coverage): a catalog Link to another host (with a /v2/ path that rebase_root_links
 * would otherwise take under the key's base) is refused: no request leaves the endpoint's origin,
 * the key fails alone and keeps its rows. */
START_TEST(test_cross_host_link_refused)
{
    make(EP, "v2", 1);
    add_ping_repos();
    add_v2_walk();
    ck_assert_int_eq(run_sync(), IMGSYNC_TASK_SUCCEEDED);
    respond("GET", D "/_catalog?n=100", 200,
            H_JSON "Link: <https://evil.example/v2/_catalog?last=a%2Fb%2Fc%2Fd&n=100>; rel=\"next\"\n",
            "{\"repositories\":[\"a/b/c/d\"]}");
    ck_assert_int_eq(run_sync(), IMGSYNC_TASK_PARTIAL);
    ck_assert_uint_eq(replay_count_containing(R, NULL, "evil.example"), 0);
    ck_assert_uint_eq(replay_count_containing(R, NULL, "last=a%2Fb%2Fc%2Fd"), 0);
    expect_rows();
}
END_TEST

/* Was a defect (review): a requested repository ("key/image") whose key is not synced (unknown key here) makes
 * start_named call imgsync_run_fail: the whole run fails and the other requested repository,
 * which exists, gets no row. Expected: that one repository fails (ENOTFOUND), the others sync
 * (PARTIAL), as the walk does for a named repository that answers 404. */
START_TEST(test_named_repo_unknown_key_fails_alone)
{
    make(EP, "v2", 0);
    add_ping_repos();
    add_v2_walk();
    imgsync_request *req = NULL;
    ck_assert_int_eq(imgsync_request_new(&req), 0);
    ck_assert_int_eq(imgsync_request_add_repository(req, "jf", "hub/library/redis"), 0);
    ck_assert_int_eq(imgsync_request_add_repository(req, "jf", "gone-local/app"), 0);
    uint64_t id = 0;
    ck_assert_int_eq(replay_sync(R, req, &id), 0);
    imgsync_request_free(req);
    imgsync_task *t = NULL;
    ck_assert_int_eq(imgsync_task_get(&t, replay_ctx(R), id), 0);
    int state = imgsync_task_state_of(t);
    imgsync_task_free(t);
    ck_assert_int_eq(state, IMGSYNC_TASK_PARTIAL);
    ck_assert_uint_eq(imgsync_inventory_count(replay_ctx(R)), 1); /* hub/library/redis:7 */
}
END_TEST

/* Passes (coverage): hostile AQL items: a path with a terminal escape, a size of the wrong type,
 * properties that are not an array, a repo field naming another key, a range.total that is not
 * a number: the item with the escape gives no row (and does not fail the run); the valid image
 * keeps its row, its size unknown because one of its blobs has no numeric size. */
START_TEST(test_aql_hostile_items)
{
    make(EP, "aql", 0);
    ck_assert_int_eq(imgsync_provider_set(P, "repos", "docker-local"), 0);
    M_APP = manifest(100, 1000, 23);
    add_ping_repos();
    respond("GET", ART "/api/storage/docker-local", 200, H_JSON, "{\"repo\":\"docker-local\",\"path\":\"/\"}");
    const char *body = ph_printf(
        "{\"results\":[{\"repo\":\"x\",\"path\":\"\\u001b[31mevil/1.0\",\"name\":\"manifest.json\",\"size\":[1],"
        "\"properties\":{\"a\":1}},%s,%s,{\"repo\":\"docker-local\",\"path\":\"app/1.0\",\"name\":\"sha256__z\","
        "\"size\":true}],\"range\":{\"total\":\"x\"}}",
        aql_item("app/1.0", "manifest.json", 400, T_A, digest_of(M_APP)),
        aql_item("app/1.0", "sha256__" HEX64, 1123, NULL, NULL));
    respond("POST", aql_url(), 200, H_JSON, body);
    int state = run_sync();
    ck_assert_int_ne(state, IMGSYNC_TASK_FAILED);
    imgsync_iter *it = NULL;
    ck_assert_int_eq(imgsync_iter_new(&it, replay_ctx(R), NULL), 0);
    const imgsync_image *im = imgsync_iter_next(it);
    ck_assert_ptr_nonnull(im);
    ck_assert_str_eq(imgsync_image_repository(im), "docker-local/app");
    ck_assert_int_eq(imgsync_image_size(im), -1); /* one blob of unknown size: unknown */
    ck_assert_ptr_null(imgsync_iter_next(it));
    imgsync_iter_free(it);
}
END_TEST

/* The Docker API of a key answering a Bearer challenge to an access token: the challenge is to be
 * answered at the key's token endpoint (issue 10: "Bearer challenges answered at the key's token
 * endpoint"). */
static char token_request_auth[128];

static void challenge_fallback(void *ud, const fake_request *q, fake_reply *out)
{
    const char *realm = ud;
    memset(out, 0, sizeof(*out));
    const char *auth = fake_request_header(q, "Authorization");
    if (!strncmp(q->url, realm, strlen(realm))) {
        snprintf(token_request_auth, sizeof(token_request_auth), "%s", auth ? auth : "");
        out->status = 200;
        out->headers = H_JSON;
        out->body = "{\"token\":\"docker-registry-token\",\"expires_in\":3600}";
        return;
    }
    if (strncmp(q->url, D "/", strlen(D "/"))) {
        out->status = 404;
        return;
    }
    if (!auth || strcmp(auth, "Bearer docker-registry-token")) {
        out->status = 401;
        out->headers = ph_printf(H_JSON "WWW-Authenticate: Bearer realm=\"%s\",service=\"" HOST "\","
                                        "scope=\"repository:app:pull\"\n", realm);
        out->body = "{\"errors\":[{\"code\":\"UNAUTHORIZED\",\"message\":\"authentication required\"}]}";
        return;
    }
    out->status = 200;
    if (strstr(q->url, "/_catalog")) {
        out->headers = H_JSON;
        out->body = "{\"repositories\":[\"app\"]}";
    } else if (strstr(q->url, "/tags/list")) {
        out->headers = H_JSON;
        out->body = "{\"name\":\"app\",\"tags\":[\"1.0\"]}";
    } else {
        out->headers = "Content-Type: " MT_V2 "\n";
        out->body = M_APP;
    }
}

static void add_token_challenge_key(const char *realm)
{
    make(EP, "v2", 1);
    ck_assert_int_eq(imgsync_provider_set(P, "repos", "docker-local"), 0);
    M_APP = manifest(100, 1000, 23);
    add_ping_repos();
    respond("GET", ART "/api/storage/docker-local/app/1.0/manifest.json", 200, H_JSON,
            "{\"lastModified\":\"" T_A "\"}");
    token_request_auth[0] = '\0';
    fake_set_fallback(replay_transport(R), challenge_fallback, (void *)realm);
}

/* With `token`, a Docker API answering the access token with a Bearer challenge gets a registry
 * token from the key's realm, requested with the access token (the engine's bearer credential). */
START_TEST(test_token_docker_bearer_challenge_answered)
{
    add_token_challenge_key(D "/token");
    ck_assert_int_eq(run_sync(), IMGSYNC_TASK_SUCCEEDED);
    ck_assert_uint_eq(imgsync_inventory_count(replay_ctx(R)), 1);
    ck_assert_str_eq(token_request_auth, "Bearer " TOKEN);
    /* the access token goes to the endpoint's origin only */
    for (size_t i = 0; i < replay_nrequests(R); i++)
        ck_assert_ptr_nonnull(strstr(replay_request_at(R, i)->url, EP "/"));
}
END_TEST

/* A realm on another origin never sees the access token: the key fails, nothing is sent there. */
START_TEST(test_token_not_sent_to_foreign_realm)
{
    add_token_challenge_key("https://auth.example.net/token");
    ck_assert_int_ne(run_sync(), IMGSYNC_TASK_SUCCEEDED);
    ck_assert_uint_eq(imgsync_inventory_count(replay_ctx(R)), 0);
    ck_assert_str_eq(token_request_auth, "");
    ck_assert_uint_eq(replay_count_containing(R, NULL, "auth.example.net"), 0);
}
END_TEST

/* ---- AQL helpers ------------------------------------------------------------------------------ */

START_TEST(test_aql_query_text)
{
    char *q = imgsync__aql_query(IMGSYNC__AQL_BLOBS, "hub-cache", 20, 10);
    ck_assert_ptr_nonnull(q);
    ck_assert_ptr_nonnull(strstr(q, "{\"name\":{\"$match\":\"sha256__*\"}}"));
    ck_assert_ptr_nonnull(strstr(q, ".offset(20).limit(10)"));
    free(q);
    ck_assert_ptr_null(imgsync__aql_query(IMGSYNC__AQL_MANIFESTS, "bad\"key", 0, 10));
    ck_assert_ptr_null(imgsync__aql_query(IMGSYNC__AQL_MANIFESTS, "k", 0, 0));
}
END_TEST

START_TEST(test_aql_parse)
{
    imgsync__aql_page p;
    char err[160];
    const char *ok = "{\"results\":[{\"path\":\"a/1\",\"name\":\"manifest.json\",\"size\":\"12\",\"modified\":\"" T_B
                     "\",\"sha256\":\"ab\"}],\"range\":{\"total\":1}}";
    ck_assert_int_eq(imgsync__aql_parse(ok, strlen(ok), &p, err, sizeof(err)), 0);
    ck_assert_uint_eq(p.n, 1);
    ck_assert_int_eq(p.items[0].size, 12); /* a size as a string, too */
    ck_assert_int_eq(p.items[0].modified_ms, MS_B);
    ck_assert_ptr_null(p.items[0].digest);
    imgsync__aql_page_free(&p);
    const char *bad[] = {"", "[]", "{\"results\":{}}", "{\"results\":[1]}", "{\"results\":[{\"path\":\"a\"}]}"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ck_assert_int_eq(imgsync__aql_parse(bad[i], strlen(bad[i]), &p, err, sizeof(err)), IMGSYNC_EPROTOCOL);
        imgsync__aql_page_free(&p);
    }
}
END_TEST

/* ---- options --------------------------------------------------------------------------------- */

START_TEST(test_option_values)
{
    P = replay_add_provider(R, "jfrog", "jf", EP);
    ck_assert_ptr_nonnull(P);
    ck_assert_int_eq(imgsync_provider_set(P, "repo_types", "local, federated"), 0);
    ck_assert_int_eq(imgsync_provider_set(P, "repo_types", "local,docker"), IMGSYNC_EINVAL);
    ck_assert_int_eq(imgsync_provider_set(P, "repo_types", ""), IMGSYNC_EINVAL);
    ck_assert_int_eq(imgsync_provider_set(P, "mode", "v2"), 0);
    ck_assert_int_eq(imgsync_provider_set(P, "mode", "fast"), IMGSYNC_EINVAL);
    ck_assert_int_eq(imgsync_provider_set(P, "page_size", "1000"), 0);
    ck_assert_int_eq(imgsync_provider_set(P, "page_size", "0"), IMGSYNC_EINVAL);
    ck_assert_int_eq(imgsync_provider_set(P, "resolve", "full"), IMGSYNC_EINVAL); /* not a jfrog option */
}
END_TEST

Suite *jfrog_provider_suite(void)
{
    Suite *s = suite_create("jfrog_provider");
    TCase *tc = tcase_create("scripted");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_v2_basic);
    tcase_add_test(tc, test_v2_token_bearer_everywhere);
    tcase_add_test(tc, test_repo_types_and_repos);
    tcase_add_test(tc, test_wrong_credentials_eauth);
    tcase_add_test(tc, test_not_artifactory_404);
    tcase_add_test(tc, test_check_lists_keys_only);
    tcase_add_test(tc, test_token_and_user_refused);
    tcase_add_test(tc, test_key_403_fails_alone);
    tcase_add_test(tc, test_storage_404_keeps_row);
    tcase_add_test(tc, test_uppercase_key_fails_alone);
    tcase_add_test(tc, test_v6_root_link_rebased);
    tcase_add_test(tc, test_bad_tags_fails_scope);
    tcase_add_test(tc, test_aql_rows_and_query);
    tcase_add_test(tc, test_aql_full_page_asks_more);
    tcase_add_test(tc, test_auto_falls_back_on_400);
    tcase_add_test(tc, test_aql_unreadable_key_fails_alone);
    tcase_add_test(tc, test_aql_query_text);
    tcase_add_test(tc, test_aql_parse);
    tcase_add_test(tc, test_option_values);
    tcase_add_test(tc, test_token_docker_bearer_challenge_answered);
    tcase_add_test(tc, test_token_not_sent_to_foreign_realm);
    tcase_add_test(tc, test_aql_invalid_tag_fails_only_its_image);
    tcase_add_test(tc, test_aql_items_shift_between_pages);
    tcase_add_test(tc, test_repos_with_namespace_filter_no_false_failure);
    tcase_add_test(tc, test_cross_host_link_refused);
    tcase_add_test(tc, test_named_repo_unknown_key_fails_alone);
    tcase_add_test(tc, test_aql_hostile_items);
    suite_add_tcase(s, tc);
    return s;
}

#include "check_main.h"
IMGSYNC_TEST_MAIN(jfrog_provider_suite)
