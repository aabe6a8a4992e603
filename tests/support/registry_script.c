/* The scripted registry of registry_script.h. */
#include "support/registry_script.h"

#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MT_S2 "application/vnd.docker.distribution.manifest.v2+json"
#define API_HEADERS "Content-Type: application/json; charset=utf-8\nDocker-Distribution-Api-Version: registry/2.0\n"

static int64_t delay_ms;
static struct {
    replay *r;
    const char *ep;
    int variant;
} scripted[2];

/* The manifest of repo:tag (a:2 differs in variant 1). */
static void manifest(char *out, size_t len, const char *repo, const char *tag, int variant)
{
    int changed = variant && !strcmp(repo, "a") && !strcmp(tag, "2");
    unsigned sum = 0;
    for (const char *p = repo; *p; p++)
        sum = sum * 31 + (unsigned char)*p;
    for (const char *p = tag; *p; p++)
        sum = sum * 31 + (unsigned char)*p;
    snprintf(out, len,
             "{\"schemaVersion\":2,\"mediaType\":\"" MT_S2 "\",\"config\":{\"mediaType\":"
             "\"application/vnd.docker.container.image.v1+json\",\"size\":%u,\"digest\":"
             "\"sha256:%064u\"},\"layers\":[]}",
             1000 + sum % 1000 + (changed ? 7 : 0), sum + (changed ? 1 : 0));
}

static void sha256_hex(const char *body, char out[80])
{
    unsigned char md[SHA256_DIGEST_LENGTH];
    SHA256((const unsigned char *)body, strlen(body), md);
    memcpy(out, "sha256:", 8);
    for (int i = 0; i < SHA256_DIGEST_LENGTH; i++)
        snprintf(out + 7 + 2 * i, 3, "%02x", md[i]);
}

const char *rs_digest(const char *repo, const char *tag, int variant)
{
    static char d[80];
    char body[512];
    manifest(body, sizeof(body), repo, tag, variant);
    sha256_hex(body, d);
    return d;
}

int64_t rs_size(const char *repo, const char *tag, int variant)
{
    char body[512];
    unsigned size = 0;
    manifest(body, sizeof(body), repo, tag, variant);
    sscanf(strstr(body, "\"size\":") + 7, "%u", &size);
    return size;
}

static void reply(replay *r, const char *method, const char *url, const char *headers, const char *body)
{
    fake_reply rep = {0};
    rep.status = 200;
    rep.headers = headers;
    rep.body = body;
    rep.delay_ms = delay_ms;
    fake_set(replay_transport(r), method, url, &rep);
}

static void json(replay *r, const char *ep, const char *path, const char *body)
{
    char url[256];
    snprintf(url, sizeof(url), "%s%s", ep, path);
    reply(r, "GET", url, API_HEADERS, body);
}

static void add_manifest(replay *r, const char *ep, const char *repo, const char *tag, int variant)
{
    char url[256], body[512], headers[512], d[80];
    manifest(body, sizeof(body), repo, tag, variant);
    sha256_hex(body, d);
    snprintf(url, sizeof(url), "%s/v2/%s/manifests/%s", ep, repo, tag);
    snprintf(headers, sizeof(headers), "Content-Type: " MT_S2 "\nDocker-Content-Digest: %s\nContent-Length: %zu\n", d,
             strlen(body));
    reply(r, "GET", url, headers, body);
    reply(r, "HEAD", url, headers, NULL);
}

void rs_script_registry(replay *r, const char *ep, int variant)
{
    int slot = strcmp(ep, RS_EP) == 0 ? 0 : 1;
    scripted[slot].r = r;
    scripted[slot].ep = ep;
    scripted[slot].variant = variant;
    json(r, ep, "/v2/", "{}");
    json(r, ep, "/v2/_catalog?n=100", variant ? "{\"repositories\":[\"a\"]}" : "{\"repositories\":[\"a\",\"b\"]}");
    json(r, ep, "/v2/a/tags/list", variant ? "{\"name\":\"a\",\"tags\":[\"1\",\"2\",\"3\"]}" : "{\"name\":\"a\",\"tags\":[\"1\",\"2\"]}");
    add_manifest(r, ep, "a", "1", variant);
    add_manifest(r, ep, "a", "2", variant);
    if (variant) {
        add_manifest(r, ep, "a", "3", variant);
        json(r, ep, "/v2/b/tags/list", "{\"errors\":[{\"code\":\"NAME_UNKNOWN\",\"message\":\"gone\"}]}");
    } else {
        json(r, ep, "/v2/b/tags/list", "{\"name\":\"b\",\"tags\":[\"x\"]}");
        add_manifest(r, ep, "b", "x", variant);
    }
}

void rs_script_base(replay *r, int variant) { rs_script_registry(r, RS_EP, variant); }

void rs_set_delay(replay *r, int64_t ms)
{
    delay_ms = ms;
    for (int i = 0; i < 2; i++)
        if (scripted[i].r == r)
            rs_script_registry(r, scripted[i].ep, scripted[i].variant);
}

/* ---- fixtures ---- */

static char db_dir[64], db_uri[128];

const char *rs_db_make(const char *name)
{
    snprintf(db_dir, sizeof(db_dir), "/tmp/imgsync-rs-XXXXXX");
    if (!mkdtemp(db_dir))
        return NULL;
    snprintf(db_uri, sizeof(db_uri), "sqlite:%s/%s", db_dir, name);
    return db_uri;
}

void rs_db_remove(void)
{
    char cmd[160];
    if (!db_dir[0])
        return;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", db_dir);
    if (system(cmd) != 0)
        fprintf(stderr, "registry_script: cannot remove %s\n", db_dir);
    db_dir[0] = '\0';
}

replay *rs_open(const char *store_uri, imgsync_provider **provider)
{
    replay *r = replay_new_with_store(store_uri);
    imgsync_provider *p = r ? replay_add_provider(r, "oci", RS_PROV, RS_EP) : NULL;
    if (!p) {
        replay_free(r);
        return NULL;
    }
    rs_set_delay(r, 0);
    rs_script_base(r, 0);
    if (provider)
        *provider = p;
    return r;
}

int rs_task_state(imgsync_ctx *ctx, uint64_t id)
{
    imgsync_task *t = NULL;
    int s = imgsync_task_get(&t, ctx, id) == 0 ? imgsync_task_state_of(t) : -1;
    imgsync_task_free(t);
    return s;
}

size_t rs_count_tasks(imgsync_ctx *ctx, int state, int trigger)
{
    imgsync_task_list *l = NULL;
    if (imgsync_task_list_new(&l, ctx, state, trigger, 0) != 0)
        return (size_t)-1;
    size_t n = imgsync_task_list_count(l);
    imgsync_task_list_free(l);
    return n;
}
