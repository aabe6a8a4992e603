/* Unit tests of the "oci" provider (src/providers/oci.c) on recorded docker-registry 2.8
 * responses, driven by the replay harness (tests/support/replay.c): no network. */
#include <check.h>
#include <openssl/sha.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "imgsync.h"
#include "support/replay.h"

Suite *oci_provider_suite(void);

/* ---- recorded registry ------------------------------------------------------------------------ */

#define EP "https://reg.example.com"
#define HOST "reg.example.com"
#define PROV "reg"

#define MT_S2 "application/vnd.docker.distribution.manifest.v2+json"
#define MT_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define MT_OCI "application/vnd.oci.image.manifest.v1+json"
#define MT_OCI_INDEX "application/vnd.oci.image.index.v1+json"

/* Headers docker-registry 2.8 sends with JSON API answers. */
#define API_HEADERS                                                                               \
    "Content-Type: application/json; charset=utf-8\n"                                             \
    "Docker-Distribution-Api-Version: registry/2.0\n"                                             \
    "X-Content-Type-Options: nosniff\n"                                                           \
    "Date: Tue, 26 Nov 2024 10:00:00 GMT\n"

#define ERR_UNAUTHORIZED                                                                          \
    "{\"errors\":[{\"code\":\"UNAUTHORIZED\",\"message\":\"authentication required\",\"detail\":null}]}\n"
#define ERR_NAME_UNKNOWN                                                                          \
    "{\"errors\":[{\"code\":\"NAME_UNKNOWN\",\"message\":\"repository name not known to registry\","  \
    "\"detail\":{\"name\":\"team/app\"}}]}\n"
#define ERR_MANIFEST_UNKNOWN                                                                      \
    "{\"errors\":[{\"code\":\"MANIFEST_UNKNOWN\",\"message\":\"manifest unknown\",\"detail\":{\"Tag\":\"latest\"}}]}\n"

/* a:1.0 and a:latest (same manifest): docker schema 2, as pushed by docker (3-space indent). */
static const char SCHEMA2_A[] =
    "{\n"
    "   \"schemaVersion\": 2,\n"
    "   \"mediaType\": \"application/vnd.docker.distribution.manifest.v2+json\",\n"
    "   \"config\": {\n"
    "      \"mediaType\": \"application/vnd.docker.container.image.v1+json\",\n"
    "      \"size\": 1470,\n"
    "      \"digest\": \"sha256:9c7a54a9a43cca047013b82af109fe963fde787f63f9e016fdc3384500c2823d\"\n"
    "   },\n"
    "   \"layers\": [\n"
    "      {\n"
    "         \"mediaType\": \"application/vnd.docker.image.rootfs.diff.tar.gzip\",\n"
    "         \"size\": 2814559,\n"
    "         \"digest\": \"sha256:31e352740f534f9ad170f75378a84fe453d6156e40700b882d737a8f4a6988a3\"\n"
    "      },\n"
    "      {\n"
    "         \"mediaType\": \"application/vnd.docker.image.rootfs.diff.tar.gzip\",\n"
    "         \"size\": 32,\n"
    "         \"digest\": \"sha256:4f4fb700ef54461cfa02571ae0db9a0dc1e0cdb5577484a6d75e68dc38e8acc1\"\n"
    "      }\n"
    "   ]\n"
    "}";
#define SIZE_A (1470 + 2814559 + 32)

/* team/app:v1: an OCI image manifest as buildkit pushes it (compact). */
static const char OCI_V1[] =
    "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
    "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\","
    "\"digest\":\"sha256:0e7f8a7d3c2b1a09f8e7d6c5b4a392817161514131211100f0e0d0c0b0a09080\",\"size\":1234},"
    "\"layers\":[{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\","
    "\"digest\":\"sha256:1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f809\",\"size\":3000000},"
    "{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\","
    "\"digest\":\"sha256:2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a\",\"size\":45000}],"
    "\"annotations\":{\"org.opencontainers.image.created\":\"2024-11-20T08:00:00Z\"}}";
#define SIZE_V1 (1234 + 3000000 + 45000)

/* team/app:v2: docker schema 2. */
static const char SCHEMA2_V2[] =
    "{\n"
    "   \"schemaVersion\": 2,\n"
    "   \"mediaType\": \"application/vnd.docker.distribution.manifest.v2+json\",\n"
    "   \"config\": {\n"
    "      \"mediaType\": \"application/vnd.docker.container.image.v1+json\",\n"
    "      \"size\": 1600,\n"
    "      \"digest\": \"sha256:3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b\"\n"
    "   },\n"
    "   \"layers\": [\n"
    "      {\n"
    "         \"mediaType\": \"application/vnd.docker.image.rootfs.diff.tar.gzip\",\n"
    "         \"size\": 3100000,\n"
    "         \"digest\": \"sha256:4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c\"\n"
    "      },\n"
    "      {\n"
    "         \"mediaType\": \"application/vnd.docker.image.rootfs.diff.tar.gzip\",\n"
    "         \"size\": 46000,\n"
    "         \"digest\": \"sha256:5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d\"\n"
    "      },\n"
    "      {\n"
    "         \"mediaType\": \"application/vnd.docker.image.rootfs.diff.tar.gzip\",\n"
    "         \"size\": 512,\n"
    "         \"digest\": \"sha256:6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e\"\n"
    "      }\n"
    "   ]\n"
    "}";
#define SIZE_V2 (1600 + 3100000 + 46000 + 512)

/* A changed team/app:v2 (for update counting). */
static const char SCHEMA2_V2_NEW[] =
    "{\n"
    "   \"schemaVersion\": 2,\n"
    "   \"mediaType\": \"application/vnd.docker.distribution.manifest.v2+json\",\n"
    "   \"config\": {\n"
    "      \"mediaType\": \"application/vnd.docker.container.image.v1+json\",\n"
    "      \"size\": 1601,\n"
    "      \"digest\": \"sha256:7a8192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f\"\n"
    "   },\n"
    "   \"layers\": [\n"
    "      {\n"
    "         \"mediaType\": \"application/vnd.docker.image.rootfs.diff.tar.gzip\",\n"
    "         \"size\": 3100001,\n"
    "         \"digest\": \"sha256:8b92a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f70\"\n"
    "      }\n"
    "   ]\n"
    "}";
#define SIZE_V2_NEW (1601 + 3100001)

/* The two platform images of org/team/app:multi. */
static const char CHILD_AMD64[] =
    "{\n"
    "   \"schemaVersion\": 2,\n"
    "   \"mediaType\": \"application/vnd.docker.distribution.manifest.v2+json\",\n"
    "   \"config\": {\n"
    "      \"mediaType\": \"application/vnd.docker.container.image.v1+json\",\n"
    "      \"size\": 1500,\n"
    "      \"digest\": \"sha256:a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90\"\n"
    "   },\n"
    "   \"layers\": [\n"
    "      {\n"
    "         \"mediaType\": \"application/vnd.docker.image.rootfs.diff.tar.gzip\",\n"
    "         \"size\": 2000000,\n"
    "         \"digest\": \"sha256:b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90a1\"\n"
    "      }\n"
    "   ]\n"
    "}";
#define SIZE_AMD64 (1500 + 2000000)

static const char CHILD_ARM64[] =
    "{\n"
    "   \"schemaVersion\": 2,\n"
    "   \"mediaType\": \"application/vnd.docker.distribution.manifest.v2+json\",\n"
    "   \"config\": {\n"
    "      \"mediaType\": \"application/vnd.docker.container.image.v1+json\",\n"
    "      \"size\": 1510,\n"
    "      \"digest\": \"sha256:c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2\"\n"
    "   },\n"
    "   \"layers\": [\n"
    "      {\n"
    "         \"mediaType\": \"application/vnd.docker.image.rootfs.diff.tar.gzip\",\n"
    "         \"size\": 1900000,\n"
    "         \"digest\": \"sha256:d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3\"\n"
    "      },\n"
    "      {\n"
    "         \"mediaType\": \"application/vnd.docker.image.rootfs.diff.tar.gzip\",\n"
    "         \"size\": 300,\n"
    "         \"digest\": \"sha256:e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4\"\n"
    "      }\n"
    "   ]\n"
    "}";
#define SIZE_ARM64 (1510 + 1900000 + 300)

/* Digests (computed from the bodies) and the manifest list, which embeds the children's. */
static struct {
    char d_a[72], d_v1[72], d_v2[72], d_v2_new[72], d_amd64[72], d_arm64[72], d_multi[72];
    char list_body[2048];
} fx;

static void sha256_digest(const char *body, size_t len, char out[72])
{
    unsigned char md[SHA256_DIGEST_LENGTH];
    SHA256((const unsigned char *)body, len, md);
    memcpy(out, "sha256:", 7);
    for (int i = 0; i < SHA256_DIGEST_LENGTH; i++)
        snprintf(out + 7 + 2 * i, 3, "%02x", md[i]);
}

static void fx_init(void)
{
    sha256_digest(SCHEMA2_A, strlen(SCHEMA2_A), fx.d_a);
    sha256_digest(OCI_V1, strlen(OCI_V1), fx.d_v1);
    sha256_digest(SCHEMA2_V2, strlen(SCHEMA2_V2), fx.d_v2);
    sha256_digest(SCHEMA2_V2_NEW, strlen(SCHEMA2_V2_NEW), fx.d_v2_new);
    sha256_digest(CHILD_AMD64, strlen(CHILD_AMD64), fx.d_amd64);
    sha256_digest(CHILD_ARM64, strlen(CHILD_ARM64), fx.d_arm64);
    snprintf(fx.list_body, sizeof(fx.list_body),
             "{\n"
             "   \"schemaVersion\": 2,\n"
             "   \"mediaType\": \"" MT_LIST "\",\n"
             "   \"manifests\": [\n"
             "      {\n"
             "         \"mediaType\": \"" MT_S2 "\",\n"
             "         \"size\": %zu,\n"
             "         \"digest\": \"%s\",\n"
             "         \"platform\": {\n"
             "            \"architecture\": \"amd64\",\n"
             "            \"os\": \"linux\"\n"
             "         }\n"
             "      },\n"
             "      {\n"
             "         \"mediaType\": \"" MT_S2 "\",\n"
             "         \"size\": %zu,\n"
             "         \"digest\": \"%s\",\n"
             "         \"platform\": {\n"
             "            \"architecture\": \"arm64\",\n"
             "            \"os\": \"linux\",\n"
             "            \"variant\": \"v8\"\n"
             "         }\n"
             "      }\n"
             "   ]\n"
             "}",
             strlen(CHILD_AMD64), fx.d_amd64, strlen(CHILD_ARM64), fx.d_arm64);
    sha256_digest(fx.list_body, strlen(fx.list_body), fx.d_multi);
}

/* How the Docker-Content-Digest header of a recorded manifest is written. */
enum { DIGEST_HEADER, DIGEST_MISSING, DIGEST_WRONG };

/* Record GET and HEAD of /v2/<repo>/manifests/<ref> as registry 2.8 answers them. */
static void add_manifest(replay *r, const char *repo, const char *ref, const char *ctype, const char *body,
                         int digest_mode)
{
    char url[512], headers[1024], digest[72], wrong[72];
    snprintf(url, sizeof(url), EP "/v2/%s/manifests/%s", repo, ref);
    sha256_digest(body, strlen(body), digest);
    sha256_digest("something else", 14, wrong);
    const char *d = digest_mode == DIGEST_WRONG ? wrong : digest;
    if (digest_mode == DIGEST_MISSING)
        snprintf(headers, sizeof(headers),
                 "Content-Length: %zu\nContent-Type: %s\nDocker-Distribution-Api-Version: registry/2.0\n"
                 "X-Content-Type-Options: nosniff\n",
                 strlen(body), ctype);
    else
        snprintf(headers, sizeof(headers),
                 "Content-Length: %zu\nContent-Type: %s\nDocker-Content-Digest: %s\n"
                 "Docker-Distribution-Api-Version: registry/2.0\nEtag: \"%s\"\nX-Content-Type-Options: nosniff\n",
                 strlen(body), ctype, d, d);
    ck_assert_int_eq(replay_respond(r, "GET", url, 200, headers, body), 0);
    ck_assert_int_eq(replay_respond(r, "HEAD", url, 200, headers, NULL), 0);
}

static void add_json(replay *r, const char *url, int status, const char *extra_headers, const char *body)
{
    char headers[1024];
    snprintf(headers, sizeof(headers), API_HEADERS "Content-Length: %zu\n%s", strlen(body),
             extra_headers ? extra_headers : "");
    ck_assert_int_eq(replay_respond(r, "GET", url, status, headers, body), 0);
}

static void add_tags(replay *r, const char *repo, const char *body)
{
    char url[512];
    snprintf(url, sizeof(url), EP "/v2/%s/tags/list", repo);
    add_json(r, url, 200, NULL, body);
}

/* The whole base registry: a (1.0, latest), org/team/app (multi), team/app (v1, v2). */
static void add_base(replay *r)
{
    add_json(r, EP "/v2/", 200, NULL, "{}");
    add_json(r, EP "/v2/_catalog?n=100", 200, NULL, "{\"repositories\":[\"a\",\"org/team/app\",\"team/app\"]}\n");
    add_tags(r, "a", "{\"name\":\"a\",\"tags\":[\"1.0\",\"latest\"]}\n");
    add_tags(r, "team/app", "{\"name\":\"team/app\",\"tags\":[\"v1\",\"v2\"]}\n");
    add_tags(r, "org/team/app", "{\"name\":\"org/team/app\",\"tags\":[\"multi\"]}\n");
    add_manifest(r, "a", "1.0", MT_S2, SCHEMA2_A, DIGEST_HEADER);
    add_manifest(r, "a", "latest", MT_S2, SCHEMA2_A, DIGEST_HEADER);
    add_manifest(r, "team/app", "v1", MT_OCI, OCI_V1, DIGEST_HEADER);
    add_manifest(r, "team/app", "v2", MT_S2, SCHEMA2_V2, DIGEST_HEADER);
    add_manifest(r, "org/team/app", "multi", MT_LIST, fx.list_body, DIGEST_HEADER);
    add_manifest(r, "org/team/app", fx.d_amd64, MT_S2, CHILD_AMD64, DIGEST_HEADER);
    add_manifest(r, "org/team/app", fx.d_arm64, MT_S2, CHILD_ARM64, DIGEST_HEADER);
}

/* ---- expectations ------------------------------------------------------------------------------ */

typedef struct expect_row {
    const char *repository, *ns, *tag, *digest, *media_type;
    int64_t size;
    int multi_arch;
} expect_row;

static const expect_row BASE_ROWS[] = {
    {"a", "", "1.0", fx.d_a, MT_S2, SIZE_A, 0},
    {"a", "", "latest", fx.d_a, MT_S2, SIZE_A, 0},
    {"org/team/app", "org", "multi", fx.d_multi, MT_LIST, SIZE_AMD64 + SIZE_ARM64, 1},
    {"team/app", "team", "v1", fx.d_v1, MT_OCI, SIZE_V1, 0},
    {"team/app", "team", "v2", fx.d_v2, MT_S2, SIZE_V2, 0},
};
#define NBASE (sizeof(BASE_ROWS) / sizeof(BASE_ROWS[0]))

/* The inventory must hold exactly `want` (in iteration order: repository, tag). */
static void expect_inventory(imgsync_ctx *ctx, const expect_row *want, size_t n)
{
    imgsync_iter *it = NULL;
    ck_assert_int_eq(imgsync_iter_new(&it, ctx, NULL), 0);
    size_t i = 0;
    const imgsync_image *im;
    while ((im = imgsync_iter_next(it)) != NULL) {
        ck_assert_msg(i < n, "unexpected extra image %s:%s", imgsync_image_repository(im), imgsync_image_tag(im));
        const expect_row *w = &want[i];
        const char *where = w->tag;
        ck_assert_msg(!strcmp(imgsync_image_repository(im), w->repository) && !strcmp(imgsync_image_tag(im), w->tag),
                      "row %zu is %s:%s, want %s:%s", i, imgsync_image_repository(im), imgsync_image_tag(im),
                      w->repository, w->tag);
        ck_assert_str_eq(imgsync_image_registry(im), PROV);
        ck_assert_str_eq(imgsync_image_registry_type(im), "Oci");
        ck_assert_str_eq(imgsync_image_image_type(im), "oci");
        ck_assert_str_eq(imgsync_image_host(im), HOST);
        ck_assert_msg(!strcmp(imgsync_image_namespace(im), w->ns), "%s: namespace '%s', want '%s'", where,
                      imgsync_image_namespace(im), w->ns);
        ck_assert_msg(!strcmp(imgsync_image_digest(im), w->digest), "%s:%s digest %s, want %s", w->repository,
                      where, imgsync_image_digest(im), w->digest);
        ck_assert_msg(!strcmp(imgsync_image_media_type(im), w->media_type), "%s:%s media type %s, want %s",
                      w->repository, where, imgsync_image_media_type(im), w->media_type);
        ck_assert_msg(imgsync_image_size(im) == w->size, "%s:%s size %lld, want %lld", w->repository, where,
                      (long long)imgsync_image_size(im), (long long)w->size);
        ck_assert_msg(imgsync_image_multi_arch(im) == w->multi_arch, "%s:%s multi_arch %d", w->repository, where,
                      imgsync_image_multi_arch(im));
        ck_assert_msg(imgsync_image_sync_ms(im) > 0, "%s:%s has no sync time", w->repository, where);
        i++;
    }
    imgsync_iter_free(it);
    ck_assert_msg(i == n, "inventory has %zu images, want %zu", i, n);
    ck_assert_uint_eq(imgsync_inventory_count(ctx), n);
}

/* Copy BASE_ROWS without the rows of `repository` (NULL: none) into out; returns the count. */
static size_t base_without(expect_row *out, const char *repository)
{
    size_t m = 0;
    for (size_t i = 0; i < NBASE; i++)
        if (!repository || strcmp(BASE_ROWS[i].repository, repository) != 0)
            out[m++] = BASE_ROWS[i];
    return m;
}

/* ---- driving ------------------------------------------------------------------------------------ */

static replay *R;
static imgsync_provider *P;

static void setup(void)
{
    fx_init();
    R = replay_new();
    ck_assert_ptr_nonnull(R);
    P = replay_add_provider(R, "oci", PROV, EP);
    ck_assert_msg(P != NULL, "provider: %s", imgsync_ctx_errmsg(replay_ctx(R)));
}

static void teardown(void)
{
    replay_free(R);
    R = NULL;
    P = NULL;
}

/* Run one sync on the recorded responses; returns its status snapshot (caller frees). */
static imgsync_task *run_sync(const imgsync_request *req)
{
    uint64_t id = 0;
    int rc = replay_sync(R, req, &id);
    ck_assert_msg(rc == 0, "replay_sync: %s", imgsync_strerror(rc));
    imgsync_task *t = NULL;
    ck_assert_int_eq(imgsync_task_get(&t, replay_ctx(R), id), 0);
    ck_assert_uint_eq(imgsync_task_registry_count(t), 1);
    ck_assert_str_eq(imgsync_task_registry_name(t, 0), PROV);
    ck_assert_str_eq(imgsync_task_registry_type(t, 0), "Oci");
    return t;
}

static void expect_no_unexpected(void)
{
    if (replay_unexpected(R)) {
        char *log = replay_log_text(R);
        ck_abort_msg("requests without a recorded response:\n%s", log ? log : "");
        free(log);
    }
}

/* Every request went to the endpoint's origin. */
static void expect_only_endpoint(void)
{
    for (size_t i = 0; i < replay_nrequests(R); i++) {
        const replay_request *q = replay_request_at(R, i);
        ck_assert_msg(!strncmp(q->url, EP "/", strlen(EP "/")), "request to another origin: %s %s", q->method,
                      q->url);
    }
}

static void expect_state(const imgsync_task *t, int state)
{
    ck_assert_msg(imgsync_task_state_of(t) == state, "task is %s, want %s (row reason: '%s')",
                  imgsync_task_state_name(imgsync_task_state_of(t)), imgsync_task_state_name(state),
                  imgsync_task_registry_reason(t, 0));
}

/* Index of the first task error about `repository`, or -1. */
static long error_for(const imgsync_task *t, const char *repository)
{
    for (size_t i = 0; i < imgsync_task_error_count(t); i++)
        if (!strcmp(imgsync_task_error_repository(t, i), repository))
            return (long)i;
    return -1;
}

/* Run a full successful base sync (prefill). */
static void prefill(void)
{
    add_base(R);
    imgsync_task *t = run_sync(NULL);
    expect_state(t, IMGSYNC_TASK_SUCCEEDED);
    imgsync_task_free(t);
    expect_no_unexpected();
    expect_inventory(replay_ctx(R), BASE_ROWS, NBASE);
}

static char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static char *fmt(const char *f, ...)
{
    static char buf[4][512];
    static int k;
    char *b = buf[k++ & 3];
    va_list ap;
    va_start(ap, f);
    vsnprintf(b, sizeof(buf[0]), f, ap);
    va_end(ap);
    return b;
}

/* ---- happy path --------------------------------------------------------------------------------- */

START_TEST(test_full_sync)
{
    add_base(R);
    imgsync_task *t = run_sync(NULL);
    expect_state(t, IMGSYNC_TASK_SUCCEEDED);
    ck_assert_int_eq(imgsync_task_registry_state(t, 0), IMGSYNC_REGISTRY_FINISHED);
    ck_assert_int_eq(imgsync_task_registry_error(t, 0), 0);
    ck_assert_str_eq(imgsync_task_registry_reason(t, 0), "");
    ck_assert_uint_eq(imgsync_task_error_count(t), 0);
    ck_assert_uint_eq(imgsync_task_counter(t, IMGSYNC_COUNT_REPOSITORIES_TOTAL), 3);
    ck_assert_uint_eq(imgsync_task_counter(t, IMGSYNC_COUNT_REPOSITORIES_DONE), 3);
    ck_assert_uint_eq(imgsync_task_counter(t, IMGSYNC_COUNT_REPOSITORIES_FAILED), 0);
    ck_assert_uint_eq(imgsync_task_counter(t, IMGSYNC_COUNT_IMAGES_FOUND), NBASE);
    ck_assert_uint_eq(imgsync_task_counter(t, IMGSYNC_COUNT_IMAGES_ADDED), NBASE);
    ck_assert_uint_eq(imgsync_task_counter(t, IMGSYNC_COUNT_IMAGES_UPDATED), 0);
    ck_assert_uint_eq(imgsync_task_counter(t, IMGSYNC_COUNT_IMAGES_REMOVED), 0);
    ck_assert_int_gt(imgsync_task_finished_ms(t), 0);
    imgsync_task_free(t);

    expect_no_unexpected();
    expect_only_endpoint();
    expect_inventory(replay_ctx(R), BASE_ROWS, NBASE);

    /* exactly these requests: ping, catalog, 3 tag lists, 5 manifests, 2 children */
    ck_assert_uint_eq(replay_nrequests(R), 12);
    ck_assert_uint_eq(replay_index_of(R, "GET", EP "/v2/"), 0);
    ck_assert_uint_eq(replay_index_of(R, "GET", EP "/v2/_catalog?n=100"), 1);
    ck_assert_uint_eq(replay_count(R, "GET", EP "/v2/a/tags/list"), 1);
    ck_assert_uint_eq(replay_count(R, "GET", EP "/v2/team/app/tags/list"), 1);
    ck_assert_uint_eq(replay_count(R, "GET", EP "/v2/org/team/app/tags/list"), 1);
    ck_assert_uint_eq(replay_count_containing(R, "GET", "/manifests/"), 7);
    ck_assert_uint_eq(replay_count_containing(R, "HEAD", "/"), 0);
    /* the manifest list's children are fetched by digest */
    ck_assert_uint_eq(replay_count(R, "GET", fmt(EP "/v2/org/team/app/manifests/%s", fx.d_amd64)), 1);
    ck_assert_uint_eq(replay_count(R, "GET", fmt(EP "/v2/org/team/app/manifests/%s", fx.d_arm64)), 1);

    /* Accept headers: JSON for the API, every supported manifest type for manifests */
    const char *acc = replay_request_header(replay_find(R, "GET", EP "/v2/_catalog?n=100"), "Accept");
    ck_assert_ptr_nonnull(acc);
    ck_assert_str_eq(acc, "application/json");
    acc = replay_request_header(replay_find(R, "GET", EP "/v2/team/app/tags/list"), "Accept");
    ck_assert_ptr_nonnull(acc);
    ck_assert_str_eq(acc, "application/json");
    for (size_t i = 0; i < replay_nrequests(R); i++) {
        const replay_request *q = replay_request_at(R, i);
        if (!strstr(q->url, "/manifests/"))
            continue;
        acc = replay_request_header(q, "Accept");
        ck_assert_msg(acc != NULL, "%s has no Accept", q->url);
        const char *types[] = {MT_S2, MT_LIST, MT_OCI, MT_OCI_INDEX};
        for (size_t k = 0; k < 4; k++)
            ck_assert_msg(strstr(acc, types[k]) != NULL, "%s: Accept '%s' lacks %s", q->url, acc, types[k]);
        ck_assert_ptr_nonnull(replay_request_repository(q));
    }
    /* no credentials were configured: none are sent */
    for (size_t i = 0; i < replay_nrequests(R); i++)
        ck_assert_ptr_null(replay_request_header(replay_request_at(R, i), "Authorization"));
}
END_TEST

START_TEST(test_resync_counts_updates)
{
    prefill();
    /* same content again: nothing added, updated or removed */
    imgsync_task *t = run_sync(NULL);
    expect_state(t, IMGSYNC_TASK_SUCCEEDED);
    ck_assert_uint_eq(imgsync_task_counter(t, IMGSYNC_COUNT_IMAGES_FOUND), NBASE);
    ck_assert_uint_eq(imgsync_task_counter(t, IMGSYNC_COUNT_IMAGES_ADDED), 0);
    ck_assert_uint_eq(imgsync_task_counter(t, IMGSYNC_COUNT_IMAGES_UPDATED), 0);
    ck_assert_uint_eq(imgsync_task_counter(t, IMGSYNC_COUNT_IMAGES_REMOVED), 0);
    imgsync_task_free(t);

    /* team/app:v2 was re-pushed, team/app:v3 is new */
    add_tags(R, "team/app", "{\"name\":\"team/app\",\"tags\":[\"v1\",\"v2\",\"v3\"]}\n");
    add_manifest(R, "team/app", "v2", MT_S2, SCHEMA2_V2_NEW, DIGEST_HEADER);
    add_manifest(R, "team/app", "v3", MT_S2, SCHEMA2_V2, DIGEST_HEADER);
    t = run_sync(NULL);
    expect_state(t, IMGSYNC_TASK_SUCCEEDED);
    ck_assert_uint_eq(imgsync_task_counter(t, IMGSYNC_COUNT_IMAGES_FOUND), NBASE + 1);
    ck_assert_uint_eq(imgsync_task_counter(t, IMGSYNC_COUNT_IMAGES_ADDED), 1);
    ck_assert_uint_eq(imgsync_task_counter(t, IMGSYNC_COUNT_IMAGES_UPDATED), 1);
    ck_assert_uint_eq(imgsync_task_counter(t, IMGSYNC_COUNT_IMAGES_REMOVED), 0);
    imgsync_task_free(t);
    expect_no_unexpected();
    expect_row want[NBASE + 1];
    memcpy(want, BASE_ROWS, sizeof(BASE_ROWS));
    want[4].digest = fx.d_v2_new;
    want[4].size = SIZE_V2_NEW;
    want[5] = (expect_row){"team/app", "team", "v3", fx.d_v2, MT_S2, SIZE_V2, 0};
    expect_inventory(replay_ctx(R), want, NBASE + 1);
}
END_TEST

/* ---- pagination -------------------------------------------------------------------------------- */

START_TEST(test_catalog_pagination)
{
    prefill(); /* org/team/app is in the inventory and must go: it is on no page */
    replay_clear_responses(R);
    ck_assert_int_eq(imgsync_provider_set(P, "page_size", "2"), 0);
    add_json(R, EP "/v2/", 200, NULL, "{}");
    add_json(R, EP "/v2/_catalog?n=2", 200, "Link: </v2/_catalog?last=b&n=2>; rel=\"next\"\n",
             "{\"repositories\":[\"a\",\"b\"]}\n");
    add_json(R, EP "/v2/_catalog?last=b&n=2", 200, NULL, "{\"repositories\":[\"team/app\"]}\n");
    add_tags(R, "a", "{\"name\":\"a\",\"tags\":[\"1.0\",\"latest\"]}\n");
    add_tags(R, "b", "{\"name\":\"b\",\"tags\":[\"1\"]}\n");
    add_tags(R, "team/app", "{\"name\":\"team/app\",\"tags\":[\"v1\",\"v2\"]}\n");
    add_manifest(R, "a", "1.0", MT_S2, SCHEMA2_A, DIGEST_HEADER);
    add_manifest(R, "a", "latest", MT_S2, SCHEMA2_A, DIGEST_HEADER);
    add_manifest(R, "b", "1", MT_OCI, OCI_V1, DIGEST_HEADER);
    add_manifest(R, "team/app", "v1", MT_OCI, OCI_V1, DIGEST_HEADER);
    add_manifest(R, "team/app", "v2", MT_S2, SCHEMA2_V2, DIGEST_HEADER);

    imgsync_task *t = run_sync(NULL);
    expect_state(t, IMGSYNC_TASK_SUCCEEDED);
    ck_assert_uint_eq(imgsync_task_counter(t, IMGSYNC_COUNT_REPOSITORIES_TOTAL), 3);
    ck_assert_uint_eq(imgsync_task_counter(t, IMGSYNC_COUNT_IMAGES_ADDED), 1);
    ck_assert_uint_eq(imgsync_task_counter(t, IMGSYNC_COUNT_IMAGES_REMOVED), 1);
    imgsync_task_free(t);
    expect_no_unexpected();
    expect_only_endpoint();
    /* the n of page_size is in the first catalog URL; the next page is the Link target */
    size_t first = replay_index_of(R, "GET", EP "/v2/_catalog?n=2");
    size_t second = replay_index_of(R, "GET", EP "/v2/_catalog?last=b&n=2");
    ck_assert_uint_ne(first, (size_t)-1);
    ck_assert_uint_ne(second, (size_t)-1);
    ck_assert_uint_lt(first, second);
    ck_assert_uint_eq(replay_count_containing(R, "GET", "/v2/_catalog"), 2);
    ck_assert_uint_eq(replay_count(R, "GET", EP "/v2/b/tags/list"), 1);

    expect_row want[] = {
        BASE_ROWS[0], BASE_ROWS[1], {"b", "", "1", fx.d_v1, MT_OCI, SIZE_V1, 0}, BASE_ROWS[3], BASE_ROWS[4],
    };
    expect_inventory(replay_ctx(R), want, 5);
}
END_TEST

START_TEST(test_replay_flags_unexpected)
{
    /* the harness itself: a request without a recorded answer gets a 404 and is reported */
    add_base(R);
    replay_clear_responses(R);
    add_json(R, EP "/v2/", 200, NULL, "{}");
    add_json(R, EP "/v2/_catalog?n=100", 200, NULL, "{\"repositories\":[\"a\"]}\n");
    imgsync_task *t = run_sync(NULL);
    imgsync_task_free(t);
    ck_assert_uint_eq(replay_nrequests(R), 3);
    ck_assert_uint_eq(replay_unexpected(R), 1);
    const replay_request *q = replay_request_at(R, 2);
    ck_assert_str_eq(q->method, "GET");
    ck_assert_str_eq(q->url, EP "/v2/a/tags/list");
    ck_assert_int_eq(q->unexpected, 1);
    ck_assert_int_eq(replay_request_at(R, 0)->unexpected, 0);
    char *log = replay_log_text(R);
    ck_assert_ptr_nonnull(log);
    ck_assert_ptr_nonnull(strstr(log, "GET " EP "/v2/a/tags/list (unexpected)\n"));
    free(log);
    /* the log restarts with every sync */
    t = run_sync(NULL);
    imgsync_task_free(t);
    ck_assert_uint_eq(replay_nrequests(R), 3);
    ck_assert_uint_eq(replay_unexpected(R), 1);
}
END_TEST

START_TEST(test_catalog_pagination_encoded_last)
{
    /* registry 2.8 percent-encodes the last repository of a page in its Link */
    ck_assert_int_eq(imgsync_provider_set(P, "page_size", "2"), 0);
    add_base(R);
    add_json(R, EP "/v2/_catalog?n=2", 200, "Link: </v2/_catalog?last=org%2Fteam%2Fapp&n=2>; rel=\"next\"\n",
             "{\"repositories\":[\"a\",\"org/team/app\"]}\n");
    add_json(R, EP "/v2/_catalog?last=org%2Fteam%2Fapp&n=2", 200, NULL, "{\"repositories\":[\"team/app\"]}\n");
    imgsync_task *t = run_sync(NULL);
    expect_state(t, IMGSYNC_TASK_SUCCEEDED);
    imgsync_task_free(t);
    expect_no_unexpected();
    ck_assert_uint_eq(replay_count(R, "GET", EP "/v2/_catalog?last=org%2Fteam%2Fapp&n=2"), 1);
    expect_inventory(replay_ctx(R), BASE_ROWS, NBASE);
}
END_TEST

START_TEST(test_tags_pagination)
{
    add_base(R);
    add_json(R, EP "/v2/team/app/tags/list", 200, "Link: </v2/team/app/tags/list?last=v1&n=1>; rel=\"next\"\n",
             "{\"name\":\"team/app\",\"tags\":[\"v1\"]}\n");
    add_json(R, EP "/v2/team/app/tags/list?last=v1&n=1", 200,
             "Link: <" EP "/v2/team/app/tags/list?last=v2&n=1>; rel=\"next\"\n",
             "{\"name\":\"team/app\",\"tags\":[\"v2\"]}\n");
    add_json(R, EP "/v2/team/app/tags/list?last=v2&n=1", 200, NULL, "{\"name\":\"team/app\",\"tags\":[]}\n");
    imgsync_task *t = run_sync(NULL);
    expect_state(t, IMGSYNC_TASK_SUCCEEDED);
    imgsync_task_free(t);
    expect_no_unexpected();
    ck_assert_uint_eq(replay_count_containing(R, "GET", "/v2/team/app/tags/list"), 3);
    const replay_request *q = replay_find(R, "GET", EP "/v2/team/app/tags/list?last=v2&n=1");
    ck_assert_ptr_nonnull(q);
    ck_assert_str_eq(replay_request_repository(q), "team/app");
    /* tags of every page, none lost by an early commit */
    expect_inventory(replay_ctx(R), BASE_ROWS, NBASE);
}
END_TEST

START_TEST(test_catalog_cross_host_link)
{
    prefill();
    ck_assert_int_eq(imgsync_provider_set(P, "page_size", "2"), 0);
    add_json(R, EP "/v2/_catalog?n=2", 200,
             "Link: <https://evil.example/v2/_catalog?n=2&last=b>; rel=\"next\"\n",
             "{\"repositories\":[\"a\",\"team/app\"]}\n");
    add_json(R, "https://evil.example/v2/_catalog?n=2&last=b", 200, NULL, "{\"repositories\":[]}\n");
    imgsync_task *t = run_sync(NULL);
    expect_state(t, IMGSYNC_TASK_FAILED);
    ck_assert_int_eq(imgsync_task_registry_state(t, 0), IMGSYNC_REGISTRY_FAILED);
    ck_assert_int_eq(imgsync_task_registry_error(t, 0), IMGSYNC_EPROTOCOL);
    ck_assert_msg(strstr(imgsync_task_registry_reason(t, 0), "Link") != NULL, "reason '%s'",
                  imgsync_task_registry_reason(t, 0));
    ck_assert_uint_eq(imgsync_task_counter(t, IMGSYNC_COUNT_IMAGES_REMOVED), 0);
    imgsync_task_free(t);
    expect_only_endpoint();
    ck_assert_uint_eq(replay_count_containing(R, NULL, "evil.example"), 0);
    /* nothing committed, nothing removed */
    expect_inventory(replay_ctx(R), BASE_ROWS, NBASE);
}
END_TEST

START_TEST(test_catalog_link_after_redirect)
{
    /* The endpoint redirects to its canonical host; the relative next link then resolves there.
     * provider.h: imgsync_response_next_url() gives EPROTOCOL when the link "leaves the host of
     * the request". Nothing may be sent there and the failure must say why (EPROTOCOL). */
    prefill();
    ck_assert_int_eq(imgsync_provider_set(P, "page_size", "2"), 0);
    add_json(R, EP "/v2/_catalog?n=2", 200, "Link: </v2/_catalog?last=b&n=2>; rel=\"next\"\n",
             "{\"repositories\":[\"a\",\"b\"]}\n");
    ck_assert_int_eq(replay_set_effective_url(R, "GET", EP "/v2/_catalog?n=2", "https://registry.example.com/v2/_catalog?n=2"), 0);
    imgsync_task *t = run_sync(NULL);
    ck_assert_int_eq(imgsync_task_registry_state(t, 0), IMGSYNC_REGISTRY_FAILED);
    ck_assert_msg(imgsync_task_registry_error(t, 0) == IMGSYNC_EPROTOCOL, "registry error %s, reason '%s'",
                  imgsync_strerror(imgsync_task_registry_error(t, 0)), imgsync_task_registry_reason(t, 0));
    ck_assert_uint_eq(imgsync_task_counter(t, IMGSYNC_COUNT_IMAGES_REMOVED), 0);
    imgsync_task_free(t);
    expect_only_endpoint();
    expect_inventory(replay_ctx(R), BASE_ROWS, NBASE);
}
END_TEST

START_TEST(test_tags_cross_host_link)
{
    prefill();
    add_json(R, EP "/v2/team/app/tags/list", 200, "Link: <https://evil.example/v2/team/app/tags/list?last=v1>; rel=\"next\"\n",
             "{\"name\":\"team/app\",\"tags\":[\"v1\"]}\n");
    imgsync_task *t = run_sync(NULL);
    expect_state(t, IMGSYNC_TASK_PARTIAL);
    ck_assert_int_eq(imgsync_task_registry_state(t, 0), IMGSYNC_REGISTRY_FAILED);
    long e = error_for(t, "team/app");
    ck_assert_int_ge(e, 0);
    ck_assert_int_eq(imgsync_task_error_code(t, (size_t)e), IMGSYNC_EPROTOCOL);
    ck_assert_uint_eq(imgsync_task_counter(t, IMGSYNC_COUNT_REPOSITORIES_FAILED), 1);
    ck_assert_uint_eq(imgsync_task_counter(t, IMGSYNC_COUNT_REPOSITORIES_DONE), 2);
    imgsync_task_free(t);
    expect_only_endpoint();
    ck_assert_uint_eq(replay_count_containing(R, NULL, "evil.example"), 0);
    /* team/app keeps its previous rows (v2 is not lost), the others are fresh */
    expect_inventory(replay_ctx(R), BASE_ROWS, NBASE);
}
END_TEST

/* ---- registry-level failures -------------------------------------------------------------------- */

START_TEST(test_ping_unauthorized)
{
    prefill();
    replay_clear_responses(R);
    add_base(R);
    /* what reaches the provider once the engine is done with challenges: a bare 401 */
    add_json(R, EP "/v2/", 401, NULL, ERR_UNAUTHORIZED);
    imgsync_task *t = run_sync(NULL);
    expect_state(t, IMGSYNC_TASK_FAILED);
    ck_assert_int_eq(imgsync_task_registry_state(t, 0), IMGSYNC_REGISTRY_FAILED);
    ck_assert_int_eq(imgsync_task_registry_error(t, 0), IMGSYNC_EAUTH);
    ck_assert_str_ne(imgsync_task_registry_reason(t, 0), "");
    ck_assert_uint_ge(imgsync_task_error_count(t), 1);
    ck_assert_int_eq(imgsync_task_error_code(t, 0), IMGSYNC_EAUTH);
    ck_assert_str_eq(imgsync_task_error_repository(t, 0), "");
    ck_assert_uint_eq(imgsync_task_counter(t, IMGSYNC_COUNT_IMAGES_REMOVED), 0);
    imgsync_task_free(t);
    /* nothing after the refused ping */
    ck_assert_uint_eq(replay_nrequests(R), 1);
    expect_inventory(replay_ctx(R), BASE_ROWS, NBASE);
}
END_TEST

START_TEST(test_ping_not_a_registry)
{
    add_base(R);
    add_json(R, EP "/v2/", 404, NULL, "404 page not found\n");
    imgsync_task *t = run_sync(NULL);
    expect_state(t, IMGSYNC_TASK_FAILED);
    ck_assert_int_eq(imgsync_task_registry_error(t, 0), IMGSYNC_EUNSUPPORTED);
    imgsync_task_free(t);
    ck_assert_uint_eq(replay_nrequests(R), 1);
    ck_assert_uint_eq(imgsync_inventory_count(replay_ctx(R)), 0);
}
END_TEST

START_TEST(test_catalog_malformed_json)
{
    static const char *bodies[] = {
        "{\"repositories\":[\"a\",",          /* truncated */
        "<html><body>proxy error</body></html>", /* not JSON */
        "{\"repositories\":\"a\"}",           /* not a list */
        "[\"a\",\"team/app\"]",               /* not an object */
    };
    prefill();
    for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
        add_json(R, EP "/v2/_catalog?n=100", 200, NULL, bodies[i]);
        imgsync_task *t = run_sync(NULL);
        ck_assert_msg(imgsync_task_state_of(t) == IMGSYNC_TASK_FAILED, "body %zu: task %s", i,
                      imgsync_task_state_name(imgsync_task_state_of(t)));
        ck_assert_int_eq(imgsync_task_registry_error(t, 0), IMGSYNC_EPROTOCOL);
        imgsync_task_free(t);
        ck_assert_uint_eq(replay_count_containing(R, NULL, "/tags/list"), 0);
        expect_inventory(replay_ctx(R), BASE_ROWS, NBASE);
    }
}
END_TEST

START_TEST(test_catalog_null_repositories)
{
    /* registry 2.8 answers an empty registry with "repositories": [] ; null must mean the same */
    prefill();
    add_json(R, EP "/v2/_catalog?n=100", 200, NULL, "{\"repositories\":null}\n");
    imgsync_task *t = run_sync(NULL);
    expect_state(t, IMGSYNC_TASK_SUCCEEDED);
    ck_assert_uint_eq(imgsync_task_counter(t, IMGSYNC_COUNT_IMAGES_REMOVED), NBASE);
    imgsync_task_free(t);
    ck_assert_uint_eq(imgsync_inventory_count(replay_ctx(R)), 0);
}
END_TEST

START_TEST(test_catalog_hostile_names)
{
    static const char *bad[] = {"../x", "A/B", "a b", "a%2Fb", "(invalid)"};
    add_base(R);
    add_json(R, EP "/v2/_catalog?n=100", 200, NULL,
             "{\"repositories\":[\"a\",42,\"../x\",\"A/B\",\"a b\",\"a%2Fb\",\"team/app\",\"org/team/app\"]}\n");
    imgsync_task *t = run_sync(NULL);
    /* the valid repositories synced, the invalid names failed: partial */
    expect_state(t, IMGSYNC_TASK_PARTIAL);
    ck_assert_int_eq(imgsync_task_registry_state(t, 0), IMGSYNC_REGISTRY_FAILED);
    ck_assert_uint_eq(imgsync_task_counter(t, IMGSYNC_COUNT_REPOSITORIES_DONE), 3);
    ck_assert_uint_eq(imgsync_task_counter(t, IMGSYNC_COUNT_REPOSITORIES_FAILED), 5);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        long e = error_for(t, bad[i]);
        ck_assert_msg(e >= 0, "no error recorded for '%s'", bad[i]);
        ck_assert_int_eq(imgsync_task_error_code(t, (size_t)e), IMGSYNC_EPROTOCOL);
    }
    imgsync_task_free(t);
    expect_no_unexpected();
    expect_only_endpoint();
    /* no request was built from a hostile name */
    ck_assert_uint_eq(replay_count_containing(R, NULL, ".."), 0);
    ck_assert_uint_eq(replay_count_containing(R, NULL, "A/B"), 0);
    ck_assert_uint_eq(replay_count_containing(R, NULL, "a b"), 0);
    ck_assert_uint_eq(replay_count_containing(R, NULL, "%2F"), 0);
    ck_assert_uint_eq(replay_count_containing(R, NULL, "/tags/list"), 3);
    expect_inventory(replay_ctx(R), BASE_ROWS, NBASE);
}
END_TEST

/* ---- tag lists ------------------------------------------------------------------------------------ */

START_TEST(test_tags_malformed)
{
    static const char *bodies[] = {
        "{\"name\":\"team/app\",\"tags\":[\"v1\",",    /* truncated */
        "{\"name\":\"team/app\",\"tags\":\"v1\"}",     /* not a list */
        "{\"name\":\"team/app\",\"tags\":[\"v1\",7]}", /* a non-string tag */
        "{\"name\":\"team/app\",\"tags\":[\"-v1\"]}",  /* not a valid tag */
        "{\"name\":\"team/app\",\"tags\":[\"../../_catalog\"]}",
        "[\"v1\",\"v2\"]", /* not an object */
    };
    prefill();
    for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
        add_tags(R, "team/app", bodies[i]);
        imgsync_task *t = run_sync(NULL);
        ck_assert_msg(imgsync_task_state_of(t) == IMGSYNC_TASK_PARTIAL, "body %zu: task %s", i,
                      imgsync_task_state_name(imgsync_task_state_of(t)));
        long e = error_for(t, "team/app");
        ck_assert_msg(e >= 0, "body %zu: no error for team/app", i);
        ck_assert_int_eq(imgsync_task_error_code(t, (size_t)e), IMGSYNC_EPROTOCOL);
        ck_assert_uint_eq(imgsync_task_counter(t, IMGSYNC_COUNT_REPOSITORIES_FAILED), 1);
        ck_assert_uint_eq(imgsync_task_counter(t, IMGSYNC_COUNT_REPOSITORIES_DONE), 2);
        ck_assert_uint_eq(imgsync_task_counter(t, IMGSYNC_COUNT_IMAGES_REMOVED), 0);
        imgsync_task_free(t);
        /* no request was built from an invalid tag */
        ck_assert_uint_eq(replay_count_containing(R, NULL, ".."), 0);
        ck_assert_uint_eq(replay_count_containing(R, NULL, "/manifests/-v1"), 0);
        /* team/app keeps its previous rows */
        expect_inventory(replay_ctx(R), BASE_ROWS, NBASE);
    }
}
END_TEST

START_TEST(test_tags_null_empties_repository)
{
    prefill();
    add_tags(R, "team/app", "{\"name\":\"team/app\",\"tags\":null}\n");
    imgsync_task *t = run_sync(NULL);
    expect_state(t, IMGSYNC_TASK_SUCCEEDED);
    ck_assert_uint_eq(imgsync_task_counter(t, IMGSYNC_COUNT_IMAGES_REMOVED), 2);
    ck_assert_uint_eq(imgsync_task_counter(t, IMGSYNC_COUNT_REPOSITORIES_DONE), 3);
    imgsync_task_free(t);
    expect_no_unexpected();
    ck_assert_uint_eq(replay_count_containing(R, NULL, "/v2/team/app/manifests/"), 0);
    expect_row want[NBASE];
    size_t n = base_without(want, "team/app");
    expect_inventory(replay_ctx(R), want, n);
}
END_TEST

START_TEST(test_tags_404_lists_empty)
{
    prefill();
    add_json(R, EP "/v2/team/app/tags/list", 404, NULL, ERR_NAME_UNKNOWN);
    imgsync_task *t = run_sync(NULL);
    expect_state(t, IMGSYNC_TASK_SUCCEEDED);
    ck_assert_uint_eq(imgsync_task_counter(t, IMGSYNC_COUNT_IMAGES_REMOVED), 2);
    imgsync_task_free(t);
    expect_no_unexpected();
    expect_row want[NBASE];
    size_t n = base_without(want, "team/app");
    expect_inventory(replay_ctx(R), want, n);
}
END_TEST

START_TEST(test_tags_transport_error)
{
    prefill();
    ck_assert_int_eq(replay_respond_error(R, "GET", EP "/v2/team/app/tags/list", IMGSYNC_ENETWORK), 0);
    imgsync_task *t = run_sync(NULL);
    expect_state(t, IMGSYNC_TASK_PARTIAL);
    long e = error_for(t, "team/app");
    ck_assert_int_ge(e, 0);
    ck_assert_int_eq(imgsync_task_error_code(t, (size_t)e), IMGSYNC_ENETWORK);
    imgsync_task_free(t);
    expect_inventory(replay_ctx(R), BASE_ROWS, NBASE);
}
END_TEST

/* ---- manifests ------------------------------------------------------------------------------------ */

START_TEST(test_manifest_without_digest_header)
{
    add_base(R);
    add_manifest(R, "a", "1.0", MT_S2, SCHEMA2_A, DIGEST_MISSING);
    add_manifest(R, "team/app", "v1", MT_OCI, OCI_V1, DIGEST_MISSING);
    imgsync_task *t = run_sync(NULL);
    expect_state(t, IMGSYNC_TASK_SUCCEEDED);
    imgsync_task_free(t);
    expect_no_unexpected();
    /* the digest is the sha256 of the body */
    expect_inventory(replay_ctx(R), BASE_ROWS, NBASE);
}
END_TEST

START_TEST(test_manifest_digest_mismatch)
{
    prefill();
    add_manifest(R, "team/app", "v1", MT_OCI, OCI_V1, DIGEST_WRONG);
    imgsync_task *t = run_sync(NULL);
    expect_state(t, IMGSYNC_TASK_PARTIAL);
    ck_assert_int_eq(imgsync_task_registry_state(t, 0), IMGSYNC_REGISTRY_FAILED);
    long e = error_for(t, "team/app");
    ck_assert_int_ge(e, 0);
    ck_assert_int_eq(imgsync_task_error_code(t, (size_t)e), IMGSYNC_EPROTOCOL);
    ck_assert_uint_eq(imgsync_task_counter(t, IMGSYNC_COUNT_REPOSITORIES_FAILED), 1);
    imgsync_task_free(t);
    /* team/app keeps its previous rows (with the right digests) */
    expect_inventory(replay_ctx(R), BASE_ROWS, NBASE);
}
END_TEST

START_TEST(test_manifest_404_skips_tag)
{
    prefill();
    add_json(R, EP "/v2/a/manifests/latest", 404, NULL, ERR_MANIFEST_UNKNOWN);
    imgsync_task *t = run_sync(NULL);
    expect_state(t, IMGSYNC_TASK_SUCCEEDED);
    ck_assert_uint_eq(imgsync_task_counter(t, IMGSYNC_COUNT_IMAGES_FOUND), NBASE - 1);
    ck_assert_uint_eq(imgsync_task_counter(t, IMGSYNC_COUNT_IMAGES_REMOVED), 1);
    imgsync_task_free(t);
    expect_no_unexpected();
    expect_row want[NBASE];
    size_t n = 0;
    for (size_t i = 0; i < NBASE; i++)
        if (strcmp(BASE_ROWS[i].tag, "latest") != 0)
            want[n++] = BASE_ROWS[i];
    expect_inventory(replay_ctx(R), want, n);
}
END_TEST

START_TEST(test_manifest_unauthorized_fails_repository)
{
    prefill();
    add_json(R, EP "/v2/team/app/manifests/v2", 403, NULL,
             "{\"errors\":[{\"code\":\"DENIED\",\"message\":\"requested access to the resource is denied\"}]}\n");
    imgsync_task *t = run_sync(NULL);
    expect_state(t, IMGSYNC_TASK_PARTIAL);
    long e = error_for(t, "team/app");
    ck_assert_int_ge(e, 0);
    ck_assert_int_eq(imgsync_task_error_code(t, (size_t)e), IMGSYNC_EAUTH);
    imgsync_task_free(t);
    expect_inventory(replay_ctx(R), BASE_ROWS, NBASE);
}
END_TEST

START_TEST(test_manifest_list_child_missing)
{
    add_base(R);
    add_json(R, fmt(EP "/v2/org/team/app/manifests/%s", fx.d_arm64), 404, NULL, ERR_MANIFEST_UNKNOWN);
    imgsync_task *t = run_sync(NULL);
    expect_state(t, IMGSYNC_TASK_SUCCEEDED);
    imgsync_task_free(t);
    expect_no_unexpected();
    /* the index is listed with its digest, but its size is unknown */
    expect_row want[NBASE];
    memcpy(want, BASE_ROWS, sizeof(BASE_ROWS));
    want[2].size = -1;
    expect_inventory(replay_ctx(R), want, NBASE);
}
END_TEST

START_TEST(test_oci_index_from_content_type)
{
    /* an OCI index served with its Content-Type only (no mediaType member in the body) */
    char body[2048];
    snprintf(body, sizeof(body),
             "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"" MT_S2 "\",\"size\":%zu,\"digest\":\"%s\","
             "\"platform\":{\"architecture\":\"amd64\",\"os\":\"linux\"}}]}",
             strlen(CHILD_AMD64), fx.d_amd64);
    char digest[72];
    sha256_digest(body, strlen(body), digest);
    add_base(R);
    add_manifest(R, "org/team/app", "multi", MT_OCI_INDEX, body, DIGEST_HEADER);
    imgsync_task *t = run_sync(NULL);
    expect_state(t, IMGSYNC_TASK_SUCCEEDED);
    imgsync_task_free(t);
    expect_no_unexpected();
    expect_row want[NBASE];
    memcpy(want, BASE_ROWS, sizeof(BASE_ROWS));
    want[2] = (expect_row){"org/team/app", "org", "multi", digest, MT_OCI_INDEX, SIZE_AMD64, 1};
    expect_inventory(replay_ctx(R), want, NBASE);
    ck_assert_uint_eq(replay_count(R, "GET", fmt(EP "/v2/org/team/app/manifests/%s", fx.d_arm64)), 0);
}
END_TEST

START_TEST(test_media_type_sources)
{
    /* the body's mediaType wins over a generic Content-Type (a proxy or a static mirror) */
    add_base(R);
    add_manifest(R, "a", "1.0", "application/octet-stream", SCHEMA2_A, DIGEST_HEADER);
    /* an OCI manifest without a mediaType member: the Content-Type, without its parameters */
    static const char OCI_UNTYPED[] =
        "{\"schemaVersion\":2,\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\","
        "\"digest\":\"sha256:0e7f8a7d3c2b1a09f8e7d6c5b4a392817161514131211100f0e0d0c0b0a09080\",\"size\":10},"
        "\"layers\":[{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\","
        "\"digest\":\"sha256:1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f809\",\"size\":20}]}";
    char d_untyped[72];
    sha256_digest(OCI_UNTYPED, strlen(OCI_UNTYPED), d_untyped);
    add_manifest(R, "team/app", "v1", MT_OCI "; charset=utf-8", OCI_UNTYPED, DIGEST_HEADER);
    imgsync_task *t = run_sync(NULL);
    expect_state(t, IMGSYNC_TASK_SUCCEEDED);
    imgsync_task_free(t);
    expect_no_unexpected();
    expect_row want[NBASE];
    memcpy(want, BASE_ROWS, sizeof(BASE_ROWS));
    want[3] = (expect_row){"team/app", "team", "v1", d_untyped, MT_OCI, 30, 0};
    expect_inventory(replay_ctx(R), want, NBASE);
}
END_TEST

START_TEST(test_resolve_digest_uses_head)
{
    ck_assert_int_eq(imgsync_provider_set(P, "resolve", "digest"), 0);
    add_base(R);
    imgsync_task *t = run_sync(NULL);
    expect_state(t, IMGSYNC_TASK_SUCCEEDED);
    imgsync_task_free(t);
    expect_no_unexpected();
    ck_assert_uint_eq(replay_count_containing(R, "HEAD", "/manifests/"), 5);
    ck_assert_uint_eq(replay_count_containing(R, "GET", "/manifests/"), 0);
    for (size_t i = 0; i < replay_nrequests(R); i++) {
        const replay_request *q = replay_request_at(R, i);
        if (!strcmp(q->method, "HEAD")) {
            const char *acc = replay_request_header(q, "Accept");
            ck_assert_msg(acc && strstr(acc, MT_LIST) && strstr(acc, MT_OCI_INDEX), "%s: Accept %s", q->url,
                          acc ? acc : "(none)");
        }
    }
    /* the header digest is taken; sizes are not resolved */
    expect_row want[NBASE];
    memcpy(want, BASE_ROWS, sizeof(BASE_ROWS));
    for (size_t i = 0; i < NBASE; i++)
        want[i].size = -1;
    expect_inventory(replay_ctx(R), want, NBASE);
}
END_TEST

START_TEST(test_resolve_digest_head_without_header)
{
    ck_assert_int_eq(imgsync_provider_set(P, "resolve", "digest"), 0);
    add_base(R);
    add_manifest(R, "team/app", "v1", MT_OCI, OCI_V1, DIGEST_MISSING);
    imgsync_task *t = run_sync(NULL);
    expect_state(t, IMGSYNC_TASK_SUCCEEDED);
    imgsync_task_free(t);
    expect_no_unexpected();
    size_t head = replay_index_of(R, "HEAD", EP "/v2/team/app/manifests/v1");
    size_t get = replay_index_of(R, "GET", EP "/v2/team/app/manifests/v1");
    ck_assert_uint_ne(head, (size_t)-1);
    ck_assert_uint_ne(get, (size_t)-1);
    ck_assert_uint_lt(head, get);
    ck_assert_uint_eq(replay_count_containing(R, "GET", "/manifests/"), 1);
    ck_assert_str_eq(replay_request_repository(replay_request_at(R, get)), "team/app");
    expect_row want[NBASE];
    memcpy(want, BASE_ROWS, sizeof(BASE_ROWS));
    for (size_t i = 0; i < NBASE; i++)
        if (strcmp(want[i].tag, "v1") != 0)
            want[i].size = -1;
    /* v1 was fetched: its digest is the body's hash */
    expect_inventory(replay_ctx(R), want, NBASE);
}
END_TEST

START_TEST(test_resolve_none)
{
    ck_assert_int_eq(imgsync_provider_set(P, "resolve", "none"), 0);
    add_base(R);
    imgsync_task *t = run_sync(NULL);
    expect_state(t, IMGSYNC_TASK_SUCCEEDED);
    ck_assert_uint_eq(imgsync_task_counter(t, IMGSYNC_COUNT_IMAGES_FOUND), NBASE);
    imgsync_task_free(t);
    expect_no_unexpected();
    ck_assert_uint_eq(replay_count_containing(R, NULL, "/manifests/"), 0);
    ck_assert_uint_eq(replay_nrequests(R), 5);
    expect_row want[NBASE];
    for (size_t i = 0; i < NBASE; i++)
        want[i] = (expect_row){BASE_ROWS[i].repository, BASE_ROWS[i].ns, BASE_ROWS[i].tag, "", "", -1, 0};
    expect_inventory(replay_ctx(R), want, NBASE);
}
END_TEST

/* ---- request filters ------------------------------------------------------------------------------- */

START_TEST(test_filters_limit_requests)
{
    prefill();
    /* a now also has v9 (the only tag of a the filter selects) */
    add_tags(R, "a", "{\"name\":\"a\",\"tags\":[\"1.0\",\"latest\",\"v9\"]}\n");
    add_manifest(R, "a", "v9", MT_OCI, OCI_V1, DIGEST_HEADER);
    /* org/team/app is excluded; it now answers something that would change it if fetched */
    add_tags(R, "org/team/app", "{\"name\":\"org/team/app\",\"tags\":null}\n");
    imgsync_request *req = NULL;
    ck_assert_int_eq(imgsync_request_new(&req), 0);
    ck_assert_int_eq(imgsync_request_add_filter(req, IMGSYNC_FILTER_TAG, "v*", IMGSYNC_INCLUDE), 0);
    ck_assert_int_eq(imgsync_request_add_filter(req, IMGSYNC_FILTER_REPOSITORY, "org/**", IMGSYNC_EXCLUDE), 0);
    imgsync_task *t = run_sync(req);
    imgsync_request_free(req);
    expect_state(t, IMGSYNC_TASK_SUCCEEDED);
    ck_assert_uint_eq(imgsync_task_counter(t, IMGSYNC_COUNT_IMAGES_FOUND), 3);
    ck_assert_uint_eq(imgsync_task_counter(t, IMGSYNC_COUNT_IMAGES_ADDED), 1);
    ck_assert_uint_eq(imgsync_task_counter(t, IMGSYNC_COUNT_IMAGES_REMOVED), 0);
    imgsync_task_free(t);
    expect_no_unexpected();
    /* nothing at all for the excluded repository, no manifest for unselected tags */
    ck_assert_uint_eq(replay_count_containing(R, NULL, "/v2/org/"), 0);
    ck_assert_uint_eq(replay_count_containing(R, NULL, "/manifests/1.0"), 0);
    ck_assert_uint_eq(replay_count_containing(R, NULL, "/manifests/latest"), 0);
    ck_assert_uint_eq(replay_count_containing(R, NULL, "/manifests/"), 3);
    ck_assert_uint_eq(replay_count(R, "GET", EP "/v2/a/manifests/v9"), 1);
    /* unselected rows (a:1.0, a:latest, org/team/app) are kept as they were */
    expect_row want[NBASE + 1];
    memcpy(want, BASE_ROWS, 2 * sizeof(expect_row));
    want[2] = (expect_row){"a", "", "v9", fx.d_v1, MT_OCI, SIZE_V1, 0};
    memcpy(want + 3, BASE_ROWS + 2, 3 * sizeof(expect_row));
    expect_inventory(replay_ctx(R), want, NBASE + 1);
}
END_TEST

START_TEST(test_namespace_filter)
{
    add_base(R);
    imgsync_request *req = NULL;
    ck_assert_int_eq(imgsync_request_new(&req), 0);
    ck_assert_int_eq(imgsync_request_add_filter(req, IMGSYNC_FILTER_NAMESPACE, "team", IMGSYNC_INCLUDE), 0);
    imgsync_task *t = run_sync(req);
    imgsync_request_free(req);
    expect_state(t, IMGSYNC_TASK_SUCCEEDED);
    imgsync_task_free(t);
    expect_no_unexpected();
    ck_assert_uint_eq(replay_count_containing(R, NULL, "/tags/list"), 1);
    ck_assert_uint_eq(replay_count(R, "GET", EP "/v2/team/app/tags/list"), 1);
    expect_inventory(replay_ctx(R), BASE_ROWS + 3, 2);
}
END_TEST

START_TEST(test_add_repository_skips_catalog)
{
    prefill();
    add_tags(R, "team/app", "{\"name\":\"team/app\",\"tags\":[\"v1\"]}\n");
    imgsync_request *req = NULL;
    ck_assert_int_eq(imgsync_request_new(&req), 0);
    ck_assert_int_eq(imgsync_request_add_repository(req, PROV, "team/app"), 0);
    imgsync_task *t = run_sync(req);
    imgsync_request_free(req);
    expect_state(t, IMGSYNC_TASK_SUCCEEDED);
    ck_assert_uint_eq(imgsync_task_counter(t, IMGSYNC_COUNT_REPOSITORIES_TOTAL), 1);
    ck_assert_uint_eq(imgsync_task_counter(t, IMGSYNC_COUNT_IMAGES_REMOVED), 1);
    imgsync_task_free(t);
    expect_no_unexpected();
    ck_assert_uint_eq(replay_count_containing(R, NULL, "_catalog"), 0);
    ck_assert_uint_eq(replay_count_containing(R, NULL, "/tags/list"), 1);
    ck_assert_uint_eq(replay_count(R, "GET", EP "/v2/team/app/tags/list"), 1);
    ck_assert_uint_eq(replay_count_containing(R, NULL, "/manifests/"), 1);
    /* v2 is gone from team/app; the other repositories are untouched (no catalog: no pruning) */
    expect_row want[NBASE];
    memcpy(want, BASE_ROWS, sizeof(BASE_ROWS));
    expect_inventory(replay_ctx(R), want, NBASE - 1);
}
END_TEST

START_TEST(test_add_repository_missing)
{
    /* a repository asked for by name that does not exist is an error, not an empty listing */
    prefill();
    add_json(R, EP "/v2/team/app/tags/list", 404, NULL, ERR_NAME_UNKNOWN);
    imgsync_request *req = NULL;
    ck_assert_int_eq(imgsync_request_new(&req), 0);
    ck_assert_int_eq(imgsync_request_add_repository(req, PROV, "team/app"), 0);
    imgsync_task *t = run_sync(req);
    imgsync_request_free(req);
    expect_state(t, IMGSYNC_TASK_FAILED);
    long e = error_for(t, "team/app");
    ck_assert_int_ge(e, 0);
    ck_assert_int_eq(imgsync_task_error_code(t, (size_t)e), IMGSYNC_ENOTFOUND);
    ck_assert_uint_eq(imgsync_task_counter(t, IMGSYNC_COUNT_IMAGES_REMOVED), 0);
    imgsync_task_free(t);
    expect_no_unexpected();
    expect_inventory(replay_ctx(R), BASE_ROWS, NBASE);
}
END_TEST

START_TEST(test_add_repository_invalid_name)
{
    add_base(R);
    imgsync_request *req = NULL;
    ck_assert_int_eq(imgsync_request_new(&req), 0);
    ck_assert_int_eq(imgsync_request_add_repository(req, PROV, "Team/App"), 0); /* valid path, not OCI */
    ck_assert_int_eq(imgsync_request_add_repository(req, PROV, "a"), 0);
    imgsync_task *t = run_sync(req);
    imgsync_request_free(req);
    expect_state(t, IMGSYNC_TASK_PARTIAL);
    long e = error_for(t, "Team/App");
    ck_assert_int_ge(e, 0);
    ck_assert_int_eq(imgsync_task_error_code(t, (size_t)e), IMGSYNC_EINVAL);
    imgsync_task_free(t);
    ck_assert_uint_eq(replay_count_containing(R, NULL, "Team"), 0);
    expect_inventory(replay_ctx(R), BASE_ROWS, 2);
}
END_TEST

/* ---- removal ---------------------------------------------------------------------------------------- */

START_TEST(test_repository_removed_from_catalog)
{
    prefill();
    add_json(R, EP "/v2/_catalog?n=100", 200, NULL, "{\"repositories\":[\"org/team/app\",\"team/app\"]}\n");
    imgsync_task *t = run_sync(NULL);
    expect_state(t, IMGSYNC_TASK_SUCCEEDED);
    ck_assert_uint_eq(imgsync_task_counter(t, IMGSYNC_COUNT_IMAGES_REMOVED), 2);
    ck_assert_uint_eq(imgsync_task_counter(t, IMGSYNC_COUNT_IMAGES_ADDED), 0);
    imgsync_task_free(t);
    expect_no_unexpected();
    ck_assert_uint_eq(replay_count_containing(R, NULL, "/v2/a/"), 0);
    expect_row want[NBASE];
    size_t n = base_without(want, "a");
    expect_inventory(replay_ctx(R), want, n);
}
END_TEST

START_TEST(test_failing_catalog_removes_nothing)
{
    prefill();
    add_json(R, EP "/v2/_catalog?n=100", 500, NULL,
             "{\"errors\":[{\"code\":\"UNKNOWN\",\"message\":\"unknown error\",\"detail\":{}}]}\n");
    imgsync_task *t = run_sync(NULL);
    expect_state(t, IMGSYNC_TASK_FAILED);
    ck_assert_int_eq(imgsync_task_registry_error(t, 0), IMGSYNC_EHTTP);
    ck_assert_uint_eq(imgsync_task_counter(t, IMGSYNC_COUNT_IMAGES_REMOVED), 0);
    imgsync_task_free(t);
    expect_inventory(replay_ctx(R), BASE_ROWS, NBASE);
}
END_TEST

START_TEST(test_failing_second_catalog_page_removes_nothing)
{
    prefill();
    ck_assert_int_eq(imgsync_provider_set(P, "page_size", "1"), 0);
    add_json(R, EP "/v2/_catalog?n=1", 200, "Link: </v2/_catalog?last=a&n=1>; rel=\"next\"\n",
             "{\"repositories\":[\"a\"]}\n");
    ck_assert_int_eq(replay_respond_error(R, "GET", EP "/v2/_catalog?last=a&n=1", IMGSYNC_ETIMEOUT), 0);
    imgsync_task *t = run_sync(NULL);
    ck_assert_int_eq(imgsync_task_registry_state(t, 0), IMGSYNC_REGISTRY_FAILED);
    ck_assert_int_eq(imgsync_task_registry_error(t, 0), IMGSYNC_ETIMEOUT);
    ck_assert_uint_eq(imgsync_task_counter(t, IMGSYNC_COUNT_IMAGES_REMOVED), 0);
    imgsync_task_free(t);
    expect_no_unexpected();
    /* team/app and org/team/app, on the page that never came, are kept */
    expect_inventory(replay_ctx(R), BASE_ROWS, NBASE);
}
END_TEST

START_TEST(test_catalog_malformed_link)
{
    prefill();
    add_json(R, EP "/v2/_catalog?n=100", 200, "Link: </v2/_catalog?last=b&n=2; rel=\"next\"\n",
             "{\"repositories\":[\"a\",\"org/team/app\",\"team/app\"]}\n");
    imgsync_task *t = run_sync(NULL);
    expect_state(t, IMGSYNC_TASK_FAILED);
    ck_assert_int_eq(imgsync_task_registry_error(t, 0), IMGSYNC_EPROTOCOL);
    ck_assert_uint_eq(imgsync_task_counter(t, IMGSYNC_COUNT_IMAGES_REMOVED), 0);
    imgsync_task_free(t);
    expect_inventory(replay_ctx(R), BASE_ROWS, NBASE);
}
END_TEST

START_TEST(test_catalog_repeats_repository)
{
    /* A catalog whose pages overlap (a registry listing while repositories are pushed) names
     * "b" twice; b has no tags, so its scope is already committed when page 2 arrives. The
     * repeat must be ignored, not fail the whole run. */
    ck_assert_int_eq(imgsync_provider_set(P, "page_size", "2"), 0);
    add_base(R);
    add_json(R, EP "/v2/_catalog?n=2", 200, "Link: </v2/_catalog?last=b&n=2>; rel=\"next\"\n",
             "{\"repositories\":[\"a\",\"b\"]}\n");
    add_json(R, EP "/v2/_catalog?last=b&n=2", 200, NULL, "{\"repositories\":[\"b\",\"team/app\"]}\n");
    add_tags(R, "b", "{\"name\":\"b\",\"tags\":null}\n");
    imgsync_task *t = run_sync(NULL);
    expect_state(t, IMGSYNC_TASK_SUCCEEDED);
    ck_assert_int_eq(imgsync_task_registry_error(t, 0), 0);
    imgsync_task_free(t);
    expect_no_unexpected();
    expect_row want[NBASE];
    size_t n = base_without(want, "org/team/app");
    expect_inventory(replay_ctx(R), want, n);
}
END_TEST

START_TEST(test_manifest_list_child_denied)
{
    prefill();
    add_json(R, fmt(EP "/v2/org/team/app/manifests/%s", fx.d_amd64), 401, NULL, ERR_UNAUTHORIZED);
    imgsync_task *t = run_sync(NULL);
    expect_state(t, IMGSYNC_TASK_PARTIAL);
    long e = error_for(t, "org/team/app");
    ck_assert_int_ge(e, 0);
    ck_assert_int_eq(imgsync_task_error_code(t, (size_t)e), IMGSYNC_EAUTH);
    ck_assert_uint_eq(imgsync_task_counter(t, IMGSYNC_COUNT_REPOSITORIES_DONE), 2);
    imgsync_task_free(t);
    /* the other child was still answered (and dropped): the index keeps its previous row */
    ck_assert_uint_eq(replay_count(R, "GET", fmt(EP "/v2/org/team/app/manifests/%s", fx.d_arm64)), 1);
    expect_inventory(replay_ctx(R), BASE_ROWS, NBASE);
}
END_TEST

START_TEST(test_max_tags)
{
    add_base(R);
    imgsync_request *req = NULL;
    ck_assert_int_eq(imgsync_request_new(&req), 0);
    ck_assert_int_eq(imgsync_request_set_max_tags(req, 1), 0);
    imgsync_task *t = run_sync(req);
    imgsync_request_free(req);
    expect_state(t, IMGSYNC_TASK_SUCCEEDED);
    ck_assert_uint_eq(imgsync_task_counter(t, IMGSYNC_COUNT_IMAGES_FOUND), 3);
    imgsync_task_free(t);
    /* no update times from this registry: ties are broken by tag name, newest = greatest */
    expect_row want[] = {BASE_ROWS[1], BASE_ROWS[2], BASE_ROWS[4]};
    expect_inventory(replay_ctx(R), want, 3);
}
END_TEST

/* ---- options ---------------------------------------------------------------------------------------- */

START_TEST(test_bad_option_values)
{
    static const struct {
        const char *key, *value;
    } bad[] = {
        {"resolve", "bogus"}, {"resolve", ""},     {"resolve", "FULL"}, {"page_size", "0"},
        {"page_size", "-1"},  {"page_size", "1001"}, {"page_size", "ten"}, {"page_size", "5x"},
        {"page_size", ""},    {"colour", "blue"},
    };
    imgsync_ctx *ctx = replay_ctx(R);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int rc = imgsync_provider_set(P, bad[i].key, bad[i].value);
        ck_assert_msg(rc == IMGSYNC_EINVAL, "%s=%s gave %d", bad[i].key, bad[i].value, rc);
        ck_assert_msg(strstr(imgsync_ctx_errmsg(ctx), bad[i].key) != NULL, "%s=%s: errmsg '%s'", bad[i].key,
                      bad[i].value, imgsync_ctx_errmsg(ctx));
    }
    static const char *good[][2] = {{"resolve", "full"}, {"resolve", "digest"}, {"resolve", "none"},
                                    {"page_size", "1"},  {"page_size", "1000"}};
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        ck_assert_int_eq(imgsync_provider_set(P, good[i][0], good[i][1]), 0);
        ck_assert_str_eq(imgsync_ctx_errmsg(ctx), "");
    }
    /* a rejected value leaves the previous one in force: page_size is still 1000 (the most registry 2.8 accepts) */
    ck_assert_int_eq(imgsync_provider_set(P, "resolve", "full"), 0);
    ck_assert_int_eq(imgsync_provider_set(P, "page_size", "0"), IMGSYNC_EINVAL);
    add_base(R);
    add_json(R, EP "/v2/_catalog?n=1000", 200, NULL, "{\"repositories\":[\"a\",\"org/team/app\",\"team/app\"]}\n");
    imgsync_task *t = run_sync(NULL);
    expect_state(t, IMGSYNC_TASK_SUCCEEDED);
    imgsync_task_free(t);
    ck_assert_uint_eq(replay_count(R, "GET", EP "/v2/_catalog?n=1000"), 1);
    expect_no_unexpected();
}
END_TEST

/* ---- hostile pagination and bodies -------------------------------------------------------------- */

/* Every catalog page, whatever its URL: a relative Link that makes each next URL longer. */
#define GROWING_SEGMENT "segment-of-a-link-that-grows-the-path-on-every-page-0123456789"
static void growing_catalog(void *ud, const fake_request *q, fake_reply *out)
{
    (void)ud;
    (void)q;
    out->status = 200;
    out->headers = API_HEADERS "Link: <" GROWING_SEGMENT "/_catalog?n=2>; rel=\"next\"\n";
    out->body = "{\"repositories\":[\"a\",\"org/team/app\"]}\n";
}

START_TEST(test_catalog_link_grows)
{
    /* found by fuzzing (tests/fuzz/fuzz_oci.c): "<seg/_catalog?n=2>" resolved against
     * /v2/seg/_catalog?n=2 gives /v2/seg/seg/_catalog?n=2, and so on: every page is new, so the
     * walk ran to max_list_pages while remembering and sending URLs of up to 64 bytes x pages
     * (10000 pages by default: 1.5 GB of URLs). A next URL longer than any registry accepts
     * fails the scope at once. */
    prefill();
    ck_assert_int_eq(imgsync_provider_set(P, "page_size", "2"), 0);
    ck_assert_int_eq(imgsync_provider_set(P, "max_list_pages", "1000"), 0);
    add_json(R, EP "/v2/_catalog?n=2", 200, "Link: <" GROWING_SEGMENT "/_catalog?n=2>; rel=\"next\"\n",
             "{\"repositories\":[\"a\",\"org/team/app\"]}\n");
    fake_set_fallback(replay_transport(R), growing_catalog, NULL);
    imgsync_task *t = run_sync(NULL);
    ck_assert_int_eq(imgsync_task_registry_state(t, 0), IMGSYNC_REGISTRY_FAILED);
    ck_assert_msg(imgsync_task_registry_error(t, 0) == IMGSYNC_EPROTOCOL, "registry error %s, reason '%s'",
                  imgsync_strerror(imgsync_task_registry_error(t, 0)), imgsync_task_registry_reason(t, 0));
    ck_assert_msg(strstr(imgsync_task_registry_reason(t, 0), "longer than") != NULL, "reason '%s'",
                  imgsync_task_registry_reason(t, 0));
    ck_assert_uint_eq(imgsync_task_counter(t, IMGSYNC_COUNT_IMAGES_REMOVED), 0);
    imgsync_task_free(t);
    size_t pages = replay_count_containing(R, "GET", "/_catalog");
    ck_assert_msg(pages < 300, "%zu catalog requests", pages);
    expect_inventory(replay_ctx(R), BASE_ROWS, NBASE);
}
END_TEST

START_TEST(test_catalog_link_loop)
{
    /* page 2 links back to page 1: refused as a protocol error after a bounded number of
     * requests, not walked forever; the incomplete catalog removes nothing */
    prefill();
    ck_assert_int_eq(imgsync_provider_set(P, "page_size", "2"), 0);
    add_json(R, EP "/v2/_catalog?n=2", 200, "Link: </v2/_catalog?last=org%2Fteam%2Fapp&n=2>; rel=\"next\"\n",
             "{\"repositories\":[\"a\",\"org/team/app\"]}\n");
    add_json(R, EP "/v2/_catalog?last=org%2Fteam%2Fapp&n=2", 200, "Link: </v2/_catalog?n=2>; rel=\"next\"\n",
             "{\"repositories\":[\"team/app\"]}\n");
    imgsync_task *t = run_sync(NULL);
    ck_assert_int_eq(imgsync_task_registry_state(t, 0), IMGSYNC_REGISTRY_FAILED);
    ck_assert_msg(imgsync_task_registry_error(t, 0) == IMGSYNC_EPROTOCOL, "registry error %s, reason '%s'",
                  imgsync_strerror(imgsync_task_registry_error(t, 0)), imgsync_task_registry_reason(t, 0));
    ck_assert_msg(strstr(imgsync_task_registry_reason(t, 0), "loop") != NULL, "reason '%s'",
                  imgsync_task_registry_reason(t, 0));
    ck_assert_uint_eq(imgsync_task_counter(t, IMGSYNC_COUNT_IMAGES_REMOVED), 0);
    imgsync_task_free(t);
    expect_no_unexpected();
    size_t pages = replay_count_containing(R, "GET", "/v2/_catalog");
    ck_assert_msg(pages >= 2 && pages <= 3, "%zu catalog requests", pages);
    ck_assert_uint_le(replay_nrequests(R), 20);
    expect_inventory(replay_ctx(R), BASE_ROWS, NBASE);
}
END_TEST

START_TEST(test_tags_link_loop)
{
    /* a tag list whose second page links back to the first: that repository fails (its rows
     * are kept), the others sync */
    prefill();
    add_json(R, EP "/v2/team/app/tags/list", 200, "Link: </v2/team/app/tags/list?last=v1&n=1>; rel=\"next\"\n",
             "{\"name\":\"team/app\",\"tags\":[\"v1\"]}\n");
    add_json(R, EP "/v2/team/app/tags/list?last=v1&n=1", 200, "Link: </v2/team/app/tags/list>; rel=\"next\"\n",
             "{\"name\":\"team/app\",\"tags\":[\"v2\"]}\n");
    imgsync_task *t = run_sync(NULL);
    expect_state(t, IMGSYNC_TASK_PARTIAL);
    long e = error_for(t, "team/app");
    ck_assert_msg(e >= 0, "no error for team/app");
    ck_assert_int_eq(imgsync_task_error_code(t, (size_t)e), IMGSYNC_EPROTOCOL);
    ck_assert_msg(strstr(imgsync_task_error_message(t, (size_t)e), "loop") != NULL, "message '%s'",
                  imgsync_task_error_message(t, (size_t)e));
    ck_assert_uint_eq(imgsync_task_counter(t, IMGSYNC_COUNT_REPOSITORIES_FAILED), 1);
    ck_assert_uint_eq(imgsync_task_counter(t, IMGSYNC_COUNT_REPOSITORIES_DONE), 2);
    ck_assert_uint_eq(imgsync_task_counter(t, IMGSYNC_COUNT_IMAGES_REMOVED), 0);
    imgsync_task_free(t);
    expect_no_unexpected();
    size_t pages = replay_count_containing(R, "GET", "/v2/team/app/tags/list");
    ck_assert_msg(pages >= 2 && pages <= 3, "%zu tag list requests for team/app", pages);
    ck_assert_uint_le(replay_nrequests(R), 30);
    expect_inventory(replay_ctx(R), BASE_ROWS, NBASE);
}
END_TEST

START_TEST(test_catalog_deeply_nested)
{
    /* 100000 nested arrays: refused as malformed (no stack exhaustion parsing or freeing it) */
    enum { DEPTH = 100000 };
    char *body = malloc(2 * DEPTH + 1);
    ck_assert_ptr_nonnull(body);
    memset(body, '[', DEPTH);
    memset(body + DEPTH, ']', DEPTH);
    body[2 * DEPTH] = '\0';
    prefill();
    add_json(R, EP "/v2/_catalog?n=100", 200, NULL, body);
    /* and inside an otherwise valid catalog */
    char *wrapped = malloc(2 * DEPTH + 64);
    ck_assert_ptr_nonnull(wrapped);
    snprintf(wrapped, 2 * DEPTH + 64, "{\"repositories\":[\"a\"],\"x\":%s}", body);
    free(body);
    for (int round = 0; round < 2; round++) {
        if (round == 1)
            add_json(R, EP "/v2/_catalog?n=100", 200, NULL, wrapped);
        imgsync_task *t = run_sync(NULL);
        ck_assert_msg(imgsync_task_state_of(t) == IMGSYNC_TASK_FAILED &&
                          imgsync_task_registry_error(t, 0) == IMGSYNC_EPROTOCOL,
                      "%s body: task %s, registry error %s", round ? "wrapped" : "bare",
                      imgsync_task_state_name(imgsync_task_state_of(t)),
                      imgsync_strerror(imgsync_task_registry_error(t, 0)));
        ck_assert_uint_eq(imgsync_task_counter(t, IMGSYNC_COUNT_IMAGES_REMOVED), 0);
        imgsync_task_free(t);
        ck_assert_uint_eq(replay_count_containing(R, NULL, "/tags/list"), 0);
        expect_inventory(replay_ctx(R), BASE_ROWS, NBASE);
    }
    free(wrapped);
}
END_TEST

/* ---- a persistent store ------------------------------------------------------------------------ */

/* A new replay on the store at `uri` with the provider of setup(). */
static void reopen(const char *uri)
{
    replay_free(R);
    R = replay_new_with_store(uri);
    ck_assert_ptr_nonnull(R);
    P = replay_add_provider(R, "oci", PROV, EP);
    ck_assert_msg(P != NULL, "provider: %s", imgsync_ctx_errmsg(replay_ctx(R)));
}

START_TEST(test_sqlite_store_survives_reopen)
{
    char dir[] = "/tmp/imgsync-oci-XXXXXX", path[64], uri[80];
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/inventory.db", dir);
    snprintf(uri, sizeof(uri), "sqlite:%s", path);
    reopen(uri);
    prefill();
    /* a new context on the same file: the inventory is there before any sync */
    reopen(uri);
    expect_inventory(replay_ctx(R), BASE_ROWS, NBASE);
    add_base(R);
    imgsync_task *t = run_sync(NULL);
    expect_state(t, IMGSYNC_TASK_SUCCEEDED);
    ck_assert_uint_eq(imgsync_task_counter(t, IMGSYNC_COUNT_IMAGES_FOUND), NBASE);
    ck_assert_uint_eq(imgsync_task_counter(t, IMGSYNC_COUNT_IMAGES_ADDED), 0);
    ck_assert_uint_eq(imgsync_task_counter(t, IMGSYNC_COUNT_IMAGES_UPDATED), 0);
    ck_assert_uint_eq(imgsync_task_counter(t, IMGSYNC_COUNT_IMAGES_REMOVED), 0);
    imgsync_task_free(t);
    expect_no_unexpected();
    expect_inventory(replay_ctx(R), BASE_ROWS, NBASE);
    /* freeing the provider object keeps a persistent inventory */
    ck_assert_int_eq(imgsync_provider_free(P), 0);
    P = NULL;
    expect_inventory(replay_ctx(R), BASE_ROWS, NBASE);
    reopen(uri);
    expect_inventory(replay_ctx(R), BASE_ROWS, NBASE);
    replay_free(R);
    R = NULL;
    const char *suffixes[] = {"", "-wal", "-shm"};
    for (size_t i = 0; i < 3; i++) {
        char p[96];
        snprintf(p, sizeof(p), "%s%s", path, suffixes[i]);
        unlink(p);
    }
    ck_assert_int_eq(rmdir(dir), 0);
}
END_TEST

Suite *oci_provider_suite(void)
{
    Suite *s = suite_create("oci_provider");
    TCase *tc = tcase_create("sync");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_full_sync);
    tcase_add_test(tc, test_resync_counts_updates);
    tcase_add_test(tc, test_catalog_pagination);
    tcase_add_test(tc, test_replay_flags_unexpected);
    tcase_add_test(tc, test_catalog_pagination_encoded_last);
    tcase_add_test(tc, test_tags_pagination);
    tcase_add_test(tc, test_catalog_cross_host_link);
    tcase_add_test(tc, test_catalog_link_after_redirect);
    tcase_add_test(tc, test_tags_cross_host_link);
    tcase_add_test(tc, test_ping_unauthorized);
    tcase_add_test(tc, test_ping_not_a_registry);
    tcase_add_test(tc, test_catalog_malformed_json);
    tcase_add_test(tc, test_catalog_null_repositories);
    tcase_add_test(tc, test_catalog_hostile_names);
    tcase_add_test(tc, test_tags_malformed);
    tcase_add_test(tc, test_tags_null_empties_repository);
    tcase_add_test(tc, test_tags_404_lists_empty);
    tcase_add_test(tc, test_tags_transport_error);
    tcase_add_test(tc, test_manifest_without_digest_header);
    tcase_add_test(tc, test_manifest_digest_mismatch);
    tcase_add_test(tc, test_manifest_404_skips_tag);
    tcase_add_test(tc, test_manifest_unauthorized_fails_repository);
    tcase_add_test(tc, test_manifest_list_child_missing);
    tcase_add_test(tc, test_oci_index_from_content_type);
    tcase_add_test(tc, test_media_type_sources);
    tcase_add_test(tc, test_resolve_digest_uses_head);
    tcase_add_test(tc, test_resolve_digest_head_without_header);
    tcase_add_test(tc, test_resolve_none);
    tcase_add_test(tc, test_filters_limit_requests);
    tcase_add_test(tc, test_namespace_filter);
    tcase_add_test(tc, test_add_repository_skips_catalog);
    tcase_add_test(tc, test_add_repository_missing);
    tcase_add_test(tc, test_add_repository_invalid_name);
    tcase_add_test(tc, test_repository_removed_from_catalog);
    tcase_add_test(tc, test_failing_catalog_removes_nothing);
    tcase_add_test(tc, test_failing_second_catalog_page_removes_nothing);
    tcase_add_test(tc, test_catalog_malformed_link);
    tcase_add_test(tc, test_catalog_repeats_repository);
    tcase_add_test(tc, test_manifest_list_child_denied);
    tcase_add_test(tc, test_max_tags);
    tcase_add_test(tc, test_bad_option_values);
    tcase_add_test(tc, test_catalog_link_loop);
    tcase_add_test(tc, test_catalog_link_grows);
    tcase_add_test(tc, test_tags_link_loop);
    tcase_add_test(tc, test_catalog_deeply_nested);
    tcase_add_test(tc, test_sqlite_store_survives_reopen);
    suite_add_tcase(s, tc);
    return s;
}

#include "check_main.h"
IMGSYNC_TEST_MAIN(oci_provider_suite)
