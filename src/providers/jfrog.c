/* Provider "jfrog": JFrog Artifactory Docker repositories (shared/reference/swr-jfrog-oci-api.md
 * sections 4, 4.1 and 5; design in JFROG_NOTES.md on the jfrog branch).
 *
 * GET {base}/api/system/ping -> GET {base}/api/repositories?packageType=docker, filtered by
 * repo_types / repos / the request's namespaces -> per repository key K the OCI distribution
 * walk (distribution.c) under {base}/api/docker/K/v2, rows named "K/{image}" in partition K,
 * namespace K; before a row is emitted its update time is read from the storage API (the
 * manifest file's lastModified: Docker API answers carry no time). {base} is the endpoint, plus
 * "/artifactory" when the endpoint has no path. A key whose listing fails fails alone. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "imgsync/sys/provider.h"
#include "providers/common.h"
#include "providers/distribution.h"
#include "util/buf.h"
#include "util/json.h"
#include "util/names.h"
#include "util/timeutil.h"
#include "util/url.h"

enum { K_PING = 1, K_REPOS, K_STORAGE, K_WALK = 16 };
enum { T_LOCAL = 1, T_REMOTE = 2, T_VIRTUAL = 4, T_FEDERATED = 8 };
enum { M_AUTO = 0, M_AQL, M_V2 };

#define MAX_PAGE 1000

/* One selected repository key and its walk. */
typedef struct jf_key {
    struct jf_run *st;
    char *key;
    char *storage; /* where its files are: the key, or "{key}-cache" for a remote key (ref 4.1) */
    imgsync__dist *walk;
} jf_key;

typedef struct jf_run {
    char *base;       /* {endpoint}[/artifactory] */
    int types;        /* T_* to sync */
    int mode;
    long page_size;   /* 0 = unset */
    int rest_auth;    /* imgsync_auth of REST jobs */
    int docker_auth;  /* imgsync_auth of Docker v2 jobs */
    jf_key *keys;
    size_t nkeys;
    size_t walking;   /* key catalogs not ended yet */
} jf_run;

/* ---- options ------------------------------------------------------------------------------ */

/* "local,remote" -> T_* bits; 0 on an unknown word or an empty list. */
static int parse_types(const char *v)
{
    static const char *const names[] = {"local", "remote", "virtual", "federated"};
    int bits = 0;
    while (*v) {
        size_t n = strcspn(v, ", ");
        int found = 0;
        for (size_t i = 0; i < 4 && n; i++)
            if (strlen(names[i]) == n && !strncasecmp(v, names[i], n))
                found = 1 << i;
        if (n && !found)
            return 0;
        bits |= found;
        v += n;
        v += strspn(v, ", ");
    }
    return bits;
}

static int parse_mode(const char *v)
{
    return !strcmp(v, "auto") ? M_AUTO : !strcmp(v, "aql") ? M_AQL : !strcmp(v, "v2") ? M_V2 : -1;
}

static int jfrog_check_option(const char *key, const char *value, char *err, size_t errlen)
{
    long long n;
    if (!strcmp(key, "token") || !strcmp(key, "repos"))
        return 0;
    if (!strcmp(key, "repo_types") && !parse_types(value))
        return snprintf(err, errlen, "must list local, remote, virtual or federated"), IMGSYNC_EINVAL;
    if (!strcmp(key, "mode") && parse_mode(value) < 0)
        return snprintf(err, errlen, "must be auto, aql or v2"), IMGSYNC_EINVAL;
    if (!strcmp(key, "page_size") && imgsync__parse_i64(value, 1, MAX_PAGE, &n))
        return snprintf(err, errlen, "must be an integer from 1 to %d", MAX_PAGE), IMGSYNC_EINVAL;
    if (!strcmp(key, "repo_types") || !strcmp(key, "mode") || !strcmp(key, "page_size"))
        return 0;
    return IMGSYNC_ENOTFOUND;
}

/* ---- run state ---------------------------------------------------------------------------- */

static void jf_run_free(void *p)
{
    jf_run *st = p;
    for (size_t i = 0; i < st->nkeys; i++) {
        imgsync__dist_unref(st->keys[i].walk);
        free(st->keys[i].key);
        free(st->keys[i].storage);
    }
    free(st->keys);
    free(st->base);
    free(st);
}

/* The Artifactory base: the endpoint, with "/artifactory" when it has no path (a platform URL). */
static char *base_of(const char *endpoint)
{
    const char *host = strstr(endpoint, "://");
    int has_path = host && strchr(host + 3, '/') != NULL;
    return imgsync__asprintf("%s%s", endpoint, has_path ? "" : "/artifactory");
}

/* Options into the run state. 0, EINVAL (after imgsync_run_fail), ENOMEM. */
static int configure(imgsync_run *run, jf_run *st)
{
    const char *v = imgsync_run_option(run, "repo_types");
    st->types = v ? parse_types(v) : T_LOCAL | T_REMOTE;
    v = imgsync_run_option(run, "mode");
    st->mode = v ? parse_mode(v) : M_AUTO;
    long long n;
    v = imgsync_run_option(run, "page_size");
    if (v && !imgsync__parse_i64(v, 1, MAX_PAGE, &n))
        st->page_size = (long)n;
    int token = imgsync_run_option(run, "token") != NULL, user = imgsync_run_option(run, "username") != NULL;
    if (token && user) {
        imgsync_run_fail(run, IMGSYNC_EINVAL, "set either token or username/password, not both");
        return IMGSYNC_EINVAL;
    }
    /* a token goes in our own header (sign); Basic is the engine's, which also answers the
     * Docker API's Bearer challenges at the key's token realm */
    st->rest_auth = token ? IMGSYNC_AUTH_PROVIDER : user ? IMGSYNC_AUTH_BASIC : IMGSYNC_AUTH_NONE;
    st->docker_auth = token ? IMGSYNC_AUTH_PROVIDER : IMGSYNC_AUTH_REGISTRY;
    st->base = base_of(imgsync_run_endpoint(run));
    return st->base ? 0 : IMGSYNC_ENOMEM;
}

static int submit_rest(imgsync_run *run, const char *method, const char *url, int kind)
{
    jf_run *st = imgsync_run_data(run);
    imgsync__pv_job j = {method, url, kind, NULL, NULL, "Accept: application/json", st->rest_auth, NULL, NULL};
    return imgsync__pv_submit(run, &j);
}

static int jfrog_start(imgsync_run *run)
{
    jf_run *st = calloc(1, sizeof(*st));
    if (!st)
        return IMGSYNC_ENOMEM;
    imgsync_run_set_data(run, st, jf_run_free);
    int rc = configure(run, st);
    if (rc)
        return rc;
    char *url = imgsync__asprintf("%s/api/system/ping", st->base);
    rc = url ? submit_rest(run, "GET", url, K_PING) : IMGSYNC_ENOMEM;
    free(url);
    return rc;
}

static int jfrog_sign(imgsync_run *run, const imgsync_job *job, imgsync_attempt *attempt)
{
    const char *token = imgsync_run_option(run, "token");
    if (imgsync_job_auth(job) != IMGSYNC_AUTH_PROVIDER || !token)
        return 0;
    char *h = imgsync__asprintf("Bearer %s", token);
    int rc = h ? imgsync_attempt_add_header(attempt, "Authorization", h) : IMGSYNC_ENOMEM;
    imgsync__wipe_free(h);
    return rc;
}

/* ---- ping and repository list ------------------------------------------------------------- */

static int on_ping(imgsync_run *run, const imgsync_job *job, const imgsync_response *resp)
{
    int status = imgsync_response_status(resp);
    if (!imgsync_response_error(resp) && status == 404) {
        imgsync_run_fail(run, IMGSYNC_EUNSUPPORTED,
                         "GET api/system/ping gave HTTP 404: not an Artifactory API (check the endpoint's path)");
        return 0;
    }
    if (imgsync_response_error(resp) || status != 200)
        return imgsync_run_fail_response(run, job, resp);
    jf_run *st = imgsync_run_data(run);
    char *url = imgsync__asprintf("%s/api/repositories?packageType=docker", st->base);
    int rc = url ? submit_rest(run, "GET", url, K_REPOS) : IMGSYNC_ENOMEM;
    free(url);
    return rc;
}

static int type_bit(const char *type)
{
    if (!type)
        return 0;
    return !strcasecmp(type, "local")       ? T_LOCAL
           : !strcasecmp(type, "remote")    ? T_REMOTE
           : !strcasecmp(type, "virtual")   ? T_VIRTUAL
           : !strcasecmp(type, "federated") ? T_FEDERATED
                                            : 0;
}

/* 1 when `key` is in the comma list `list`. */
static int in_list(const char *list, const char *key)
{
    size_t n = strlen(key);
    while (*list) {
        size_t m = strcspn(list, ", ");
        if (m == n && !strncmp(list, key, n))
            return 1;
        list += m;
        list += strspn(list, ", ");
    }
    return 0;
}

/* One entry of the repository list: kept when it is a Docker repository the run wants. */
static int wanted_repo(imgsync_run *run, const jf_run *st, yajl_val r, int *bit)
{
    const char *key = imgsync__json_string(r, "key");
    const char *pt = imgsync__json_string(r, "packageType");
    const char *only = imgsync_run_option(run, "repos");
    *bit = type_bit(imgsync__json_string(r, "type"));
    if (!key || !imgsync__name_label_ok(key) || !pt || strcasecmp(pt, "docker") || !(st->types & *bit))
        return 0;
    return (!only || in_list(only, key)) && imgsync_run_wants_namespace(run, key);
}

static int add_key(jf_run *st, const char *key, int bit)
{
    jf_key *arr = realloc(st->keys, (st->nkeys + 1) * sizeof(*arr));
    if (!arr)
        return IMGSYNC_ENOMEM;
    st->keys = arr;
    jf_key *k = &arr[st->nkeys];
    memset(k, 0, sizeof(*k));
    k->st = st;
    k->key = imgsync__strdup(key);
    k->storage = imgsync__asprintf("%s%s", key, bit == T_REMOTE ? "-cache" : "");
    if (!k->key || !k->storage) {
        free(k->key);
        free(k->storage);
        return IMGSYNC_ENOMEM;
    }
    st->nkeys++;
    return 0;
}

/* A key named in the "repos" option that the list did not give: say so (its rows are kept). */
static void report_missing_keys(imgsync_run *run, const jf_run *st)
{
    const char *list = imgsync_run_option(run, "repos");
    while (list && *list) {
        size_t m = strcspn(list, ", ");
        int found = 0;
        for (size_t i = 0; i < st->nkeys && !found; i++)
            found = strlen(st->keys[i].key) == m && !strncmp(st->keys[i].key, list, m);
        if (m && !found) {
            char msg[200];
            snprintf(msg, sizeof(msg), "repository key '%.*s' is not a Docker repository of the selected types",
                     (int)(m > 100 ? 100 : m), list);
            char *key = imgsync__strndup(list, m);
            if (key && imgsync__name_label_ok(key))
                imgsync_run_partition_fail(run, key, IMGSYNC_ENOTFOUND, msg);
            else
                imgsync_run_fail(run, IMGSYNC_ENOTFOUND, msg);
            free(key);
        }
        list += m;
        list += strspn(list, ", ");
    }
}

static int start_walks(imgsync_run *run);

static int on_repos(imgsync_run *run, const imgsync_job *job, const imgsync_response *resp)
{
    if (imgsync_response_error(resp) || imgsync_response_status(resp) != 200)
        return imgsync_run_fail_response(run, job, resp);
    jf_run *st = imgsync_run_data(run);
    yajl_val root = imgsync__pv_json_body(resp);
    if (!root || !YAJL_IS_ARRAY(root)) {
        imgsync__json_free(root);
        imgsync_run_fail(run, IMGSYNC_EPROTOCOL, "GET api/repositories: not a JSON array (is this Artifactory?)");
        return 0;
    }
    int rc = 0;
    for (size_t i = 0; i < root->u.array.len && !rc; i++) {
        int bit;
        if (wanted_repo(run, st, root->u.array.values[i], &bit))
            rc = add_key(st, imgsync__json_string(root->u.array.values[i], "key"), bit);
    }
    imgsync__json_free(root);
    if (rc || imgsync_run_mode_of(run) == IMGSYNC_RUN_CHECK)
        return rc;
    report_missing_keys(run, st);
    return start_walks(run);
}

/* ---- v2 walks ----------------------------------------------------------------------------- */

static void key_catalog_done(imgsync_run *run, void *ud, int complete)
{
    jf_run *st = ((jf_key *)ud)->st;
    /* an incomplete key catalog was reported as a failed partition by the walk: its rows are
     * kept by catalog_complete, so the other keys may still prune */
    if (st->walking && --st->walking == 0)
        imgsync_run_catalog_complete(run);
}

static int emit_with_time(imgsync_run *run, void *ud, imgsync_record *rec, const char *image, const char *tag,
                          int multi_arch);

static int new_walk(imgsync_run *run, jf_run *st, jf_key *k)
{
    imgsync__dist_config c;
    memset(&c, 0, sizeof(c));
    char *base = imgsync__asprintf("%s/api/docker/%s/v2", st->base, k->key);
    char *prefix = imgsync__asprintf("%s/", k->key);
    c.base = base;
    c.partition = k->key;
    c.ns = k->key;
    c.repo_prefix = prefix;
    c.auth = st->docker_auth;
    c.resolve = IMGSYNC__RESOLVE_FULL; /* size = config + layers needs the manifest */
    c.page_size = st->page_size ? st->page_size : 100;
    c.kind_base = K_WALK;
    c.catalog_done = key_catalog_done;
    c.ud = k;
    c.skip_digest_tags = 1;
    c.emit = emit_with_time;
    k->walk = base && prefix ? imgsync__dist_new(&c) : NULL;
    free(base);
    free(prefix);
    return k->walk ? 0 : IMGSYNC_ENOMEM;
}

static jf_key *find_key(jf_run *st, const char *key, size_t n)
{
    for (size_t i = 0; i < st->nkeys; i++)
        if (strlen(st->keys[i].key) == n && !strncmp(st->keys[i].key, key, n))
            return &st->keys[i];
    return NULL;
}

/* Repositories the request names ("key/image"): listed directly, no catalog. */
static int start_named(imgsync_run *run, jf_run *st)
{
    int rc = 0;
    for (size_t i = 0; i < imgsync_run_repository_count(run) && !rc; i++) {
        const char *name = imgsync_run_repository(run, i);
        const char *slash = strchr(name, '/');
        jf_key *k = slash ? find_key(st, name, (size_t)(slash - name)) : NULL;
        if (k)
            rc = imgsync__dist_repository(run, k->walk, slash + 1);
        else
            imgsync_run_fail(run, IMGSYNC_ENOTFOUND, "a requested repository is not under a synced repository key");
    }
    return rc;
}

static int start_walks(imgsync_run *run)
{
    jf_run *st = imgsync_run_data(run);
    int rc = 0;
    for (size_t i = 0; i < st->nkeys && !rc; i++)
        rc = new_walk(run, st, &st->keys[i]);
    if (rc || imgsync_run_repository_count(run))
        return rc ? rc : start_named(run, st);
    if (st->nkeys == 0)
        return imgsync_run_catalog_complete(run);
    st->walking = st->nkeys;
    for (size_t i = 0; i < st->nkeys && !rc; i++)
        rc = imgsync__dist_catalog(run, st->keys[i].walk);
    return rc;
}

/* ---- update times (storage API) ------------------------------------------------------------ */

/* A row waiting for its time (taken out when the answer comes, freed with the job otherwise). */
typedef struct held_row {
    imgsync_record *rec;
} held_row;

static void held_free(void *p)
{
    held_row *h = p;
    imgsync_record_free(h->rec);
    free(h);
}

/* The walk finished a row: read its manifest file's time before emitting it (the job is on the
 * row's scope, so the scope waits for it). */
static int emit_with_time(imgsync_run *run, void *ud, imgsync_record *rec, const char *image, const char *tag,
                          int multi_arch)
{
    jf_key *k = ud;
    char *url = imgsync__asprintf("%s/api/storage/%s/%s/%s/%s", k->st->base, k->storage, image, tag,
                                  multi_arch ? "list.manifest.json" : "manifest.json");
    char *scope = imgsync__asprintf("%s/%s", k->key, image);
    held_row *h = url && scope ? calloc(1, sizeof(*h)) : NULL;
    int rc = IMGSYNC_ENOMEM;
    if (h) {
        h->rec = rec;
        imgsync__pv_job j = {"GET", url, K_STORAGE, k->key, scope, "Accept: application/json", k->st->rest_auth,
                             h, held_free};
        rc = imgsync__pv_submit(run, &j);
    } else {
        imgsync_record_free(rec);
    }
    free(url);
    free(scope);
    return rc;
}

static int on_storage(imgsync_run *run, imgsync_job *job, const imgsync_response *resp)
{
    int status = imgsync_response_status(resp);
    /* 404: the file is not where Artifactory's layout puts it; the row is still a row */
    if (imgsync_response_error(resp) || (status != 200 && status != 404))
        return imgsync_run_fail_response(run, job, resp), 0;
    held_row *h = imgsync_job_data(job);
    imgsync_record *rec = h->rec;
    h->rec = NULL; /* the row goes to the core */
    yajl_val root = status == 200 ? imgsync__pv_json_body(resp) : NULL;
    const char *t = root ? imgsync__json_string(root, "lastModified") : NULL;
    int64_t ms = 0;
    if (t && !imgsync__parse_rfc3339_ms(t, &ms))
        imgsync_record_set_update_ms(rec, ms);
    imgsync__json_free(root);
    return imgsync_record_emit(run, rec);
}

static int jfrog_on_response(imgsync_run *run, imgsync_job *job, const imgsync_response *resp)
{
    int rc;
    switch (imgsync_job_kind(job)) {
    case K_PING: return on_ping(run, job, resp);
    case K_REPOS: return on_repos(run, job, resp);
    case K_STORAGE: return on_storage(run, job, resp);
    default: break;
    }
    if (imgsync__dist_on_response(run, job, resp, K_WALK, &rc))
        return rc;
    return IMGSYNC_EINTERNAL;
}

const imgsync_provider_vtable imgsync__jfrog_provider = {
    .version = IMGSYNC_PROVIDER_VTABLE_VERSION,
    .kind = "jfrog",
    .type = IMGSYNC_TYPE_JFROG,
    .check_option = jfrog_check_option,
    .start = jfrog_start,
    .on_response = jfrog_on_response,
    .sign = jfrog_sign,
};
