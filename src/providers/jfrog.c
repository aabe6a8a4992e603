/* Provider "jfrog": JFrog Artifactory Docker repositories (shared/reference/swr-jfrog-oci-api.md
 * sections 4, 4.1 and 5).
 *
 * GET {base}/api/system/ping -> GET {base}/api/repositories?packageType=docker, filtered by
 * repo_types / repos / the request's namespaces -> per repository key K the OCI distribution
 * walk (distribution.c) under {base}/api/docker/K/v2, rows named "K/{image}" in partition K,
 * namespace K; before a row is emitted its update time is read from the storage API (the
 * manifest file's lastModified: Docker API answers carry no time). {base} is the endpoint, plus
 * "/artifactory" when the endpoint has no path. A key whose listing fails fails alone.
 * AQL (mode aql, or auto while the account may search): per key a storage probe (AQL leaves out
 * what a user may not read), then POST api/search/aql for the manifest files, then the blob files
 * (sizes), paged with offset/limit, pages overlapping by one item (jfrog_aql.c builds and reads
 * the queries); rows equal to the walk's. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "imgsync/sys/provider.h"
#include "providers/common.h"
#include "providers/distribution.h"
#include "providers/jfrog_aql.h"
#include "providers/platform.h"
#include "util/buf.h"
#include "util/json.h"
#include "util/names.h"
#include "util/timeutil.h"
#include "util/url.h"

enum { K_PING = 1, K_REPOS, K_STORAGE, K_PROBE, K_AQL, K_LIST, K_WALK = 16 };
enum { T_LOCAL = 1, T_REMOTE = 2, T_VIRTUAL = 4, T_FEDERATED = 8 };
enum { M_AUTO = 0, M_AQL, M_V2 };

#define MAX_PAGE 1000
#define MT_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define MT_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define ACCEPT_MANIFESTS                                                                          \
    "Accept: application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, " \
    "application/vnd.docker.distribution.manifest.list.v2+json, "                                 \
    "application/vnd.docker.distribution.manifest.v2+json"

/* One selected repository key and its walk. */
typedef struct jf_key {
    struct jf_run *st;
    char *key;
    char *storage; /* where its files are: the key, or "{key}-cache" for a remote key (ref 4.1) */
    int virtual_key; /* stores nothing itself: AQL finds none of its images */
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
    /* the engine's: Basic (and the Docker API's Bearer challenges answered at the key's token
     * realm with it), or the access token as Bearer, also to that realm */
    st->rest_auth = token ? IMGSYNC_AUTH_BEARER : user ? IMGSYNC_AUTH_BASIC : IMGSYNC_AUTH_NONE;
    st->docker_auth = token ? IMGSYNC_AUTH_BEARER : IMGSYNC_AUTH_REGISTRY;
    if (st->mode == M_AUTO && !token && !user)
        st->mode = M_V2; /* AQL refuses anonymous callers (401, ref 4): no use asking */
    st->base = base_of(imgsync_run_endpoint(run));
    return st->base ? 0 : IMGSYNC_ENOMEM;
}

static int submit_rest(imgsync_run *run, const char *method, const char *url, int kind)
{
    jf_run *st = imgsync_run_data(run);
    imgsync__pv_job j = {method, url, kind, NULL, NULL, "Accept: application/json", st->rest_auth, NULL, NULL, NULL};
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
    if ((only && !in_list(only, key)) || !imgsync_run_wants_namespace(run, key))
        return 0;
    if (!imgsync__name_component_ok(key)) {
        /* rows are named "key/image" and repository names are lower-case OCI paths: a key such
         * as "Docker-Local" cannot name one; said, not skipped silently */
        imgsync_run_partition_fail(run, key, IMGSYNC_EUNSUPPORTED,
                                   "repository key is not a lower-case OCI path component; its images cannot be named");
        return 0;
    }
    return 1;
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
    k->virtual_key = bit == T_VIRTUAL;
    if (!k->key || !k->storage) {
        free(k->key);
        free(k->storage);
        return IMGSYNC_ENOMEM;
    }
    st->nkeys++;
    return 0;
}

/* 1 when the repository list holds an entry of that key. */
static int listed(yajl_val root, const char *key)
{
    for (size_t i = 0; i < root->u.array.len; i++) {
        const char *k = imgsync__json_string(root->u.array.values[i], "key");
        if (k && !strcmp(k, key))
            return 1;
    }
    return 0;
}

/* One key named in "repos" that is not synced: say why, unless the request's namespace filter
 * leaves it out anyway or wanted_repo already said it (a key that cannot name images). */
static void report_missing_key(imgsync_run *run, yajl_val root, const char *key)
{
    if (!imgsync_run_wants_namespace(run, key) || (imgsync__name_label_ok(key) &&
                                                   !imgsync__name_component_ok(key) && listed(root, key)))
        return;
    char msg[200];
    snprintf(msg, sizeof(msg), "repository key '%.100s' is not a Docker repository of the selected types", key);
    if (imgsync__name_label_ok(key))
        imgsync_run_partition_fail(run, key, IMGSYNC_ENOTFOUND, msg);
    else
        imgsync_run_fail(run, IMGSYNC_ENOTFOUND, msg);
}

/* Keys named in the "repos" option that the list did not give (their rows are kept). */
static int report_missing_keys(imgsync_run *run, const jf_run *st, yajl_val root)
{
    const char *list = imgsync_run_option(run, "repos");
    while (list && *list) {
        size_t m = strcspn(list, ", ");
        int found = 0;
        for (size_t i = 0; i < st->nkeys && !found; i++)
            found = strlen(st->keys[i].key) == m && !strncmp(st->keys[i].key, list, m);
        char *key = m && !found ? imgsync__strndup(list, m) : NULL;
        if (m && !found && !key)
            return IMGSYNC_ENOMEM;
        if (key)
            report_missing_key(run, root, key);
        free(key);
        list += m;
        list += strspn(list, ", ");
    }
    return 0;
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
    if (!rc && imgsync_run_mode_of(run) != IMGSYNC_RUN_CHECK)
        rc = report_missing_keys(run, st, root);
    imgsync__json_free(root);
    if (rc || imgsync_run_mode_of(run) == IMGSYNC_RUN_CHECK)
        return rc;
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
    c.rebase_root_links = 1;
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

/* A requested repository under no synced key fails alone, in its key's partition. */
static int named_missing(imgsync_run *run, const char *name, const char *slash)
{
    char *key = slash ? imgsync__strndup(name, (size_t)(slash - name)) : NULL;
    if (slash && !key)
        return IMGSYNC_ENOMEM;
    const char *part = key && imgsync__name_label_ok(key) ? key : "";
    imgsync_run_scope_fail(run, part, name, IMGSYNC_ENOTFOUND, "the repository is not under a synced repository key");
    free(key);
    return 0;
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
        else /* that repository alone fails (the others named are fetched) */
            rc = named_missing(run, name, slash);
    }
    return rc;
}

static int start_probe(imgsync_run *run, jf_key *k);

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
        rc = st->mode == M_V2 || st->keys[i].virtual_key ? imgsync__dist_catalog(run, st->keys[i].walk)
                                                          : start_probe(run, &st->keys[i]);
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
                             h, held_free, NULL};
        rc = imgsync__pv_submit(run, &j);
    } else {
        imgsync_record_free(rec);
    }
    free(url);
    free(scope);
    return rc;
}

static int64_t storage_time(yajl_val root, const char *key)
{
    const char *t = root ? imgsync__json_string(root, key) : NULL;
    int64_t ms;
    return t && !imgsync__parse_rfc3339_ms(t, &ms) ? ms : 0;
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
    /* the same two times as AQL's "modified" and "created", so that both modes agree */
    imgsync_record_set_update_ms(rec, storage_time(root, "lastModified"));
    imgsync_record_set_created_ms(rec, storage_time(root, "created"));
    imgsync__json_free(root);
    return imgsync_record_emit(run, rec);
}

/* ---- AQL mode ------------------------------------------------------------------------------ */

/* One manifest file found by AQL: a row to be. */
typedef struct mrow {
    char *image, *tag, *digest, *media_type;
    int64_t modified_ms, created_ms;
    int multi;
} mrow;

/* One key's AQL listing: manifests, then blob sizes per folder, then the rows. */
typedef struct aql_key {
    int refs;
    jf_key *k;        /* the run's (lives as long as the run's data) */
    int what;         /* IMGSYNC__AQL_MANIFESTS, then IMGSYNC__AQL_BLOBS */
    long offset;
    char *last;       /* "path/name" of the previous page's last item (pages overlap by one) */
    mrow *rows;
    size_t nrows;
    imgsync__map sizes; /* folder path -> int64_t* sum of its sha256__* files */
    imgsync__pager pager; /* the run's limits on pages and items (a server that never ends a
                           * page short must not page forever) */
} aql_key;

static void aql_unref(void *p)
{
    aql_key *a = p;
    if (!a || --a->refs > 0)
        return;
    for (size_t i = 0; i < a->nrows; i++) {
        free(a->rows[i].image);
        free(a->rows[i].tag);
        free(a->rows[i].digest);
        free(a->rows[i].media_type);
    }
    free(a->rows);
    size_t pos = 0;
    imgsync__map_entry *e;
    while ((e = imgsync__map_next(&a->sizes, &pos)) != NULL)
        free(e->value);
    imgsync__map_clear(&a->sizes);
    imgsync__pager_clear(&a->pager);
    free(a->last);
    free(a);
}

/* A key's listing ended (complete or failed alone): the catalog is complete after the last. */
static void key_done(imgsync_run *run, jf_key *k) { key_catalog_done(run, k, 1); }

static void key_fail(imgsync_run *run, jf_key *k, const imgsync_response *resp, const char *what)
{
    int status = imgsync_response_status(resp), err = imgsync_response_error(resp);
    int code = err ? err : (status == 401 || status == 403) ? IMGSYNC_EAUTH : IMGSYNC_EHTTP;
    char msg[200];
    snprintf(msg, sizeof(msg), "repository key %s: %s gave %s %d", k->key, what, err ? "error" : "HTTP",
             err ? err : status);
    imgsync_run_partition_fail(run, k->key, code, msg);
    key_done(run, k);
}

/* AQL drops the items a user may not read without a word: a key is first probed through the
 * storage API, so that an unreadable key fails (its rows kept) instead of looking empty. */
static int start_probe(imgsync_run *run, jf_key *k)
{
    char *url = imgsync__asprintf("%s/api/storage/%s", k->st->base, k->storage);
    imgsync__pv_job j = {"GET", url, K_PROBE, NULL, NULL, "Accept: application/json", k->st->rest_auth, NULL, NULL,
                         NULL};
    int rc = url ? imgsync__pv_submit(run, &j) : IMGSYNC_ENOMEM; /* its URL names its key */
    free(url);
    return rc;
}

/* At least 2: consecutive pages overlap by one item (see on_aql). */
static long aql_limit(const jf_run *st) { return st->page_size > 2 ? st->page_size : st->page_size ? 2 : 1000; }

static int submit_aql(imgsync_run *run, aql_key *a)
{
    jf_run *st = a->k->st;
    char *q = imgsync__aql_query(a->what, a->k->storage, a->offset, aql_limit(st));
    char *url = imgsync__asprintf("%s/api/search/aql", st->base);
    imgsync_job *job = q && url ? imgsync_job_new(run, "POST", url) : NULL;
    int rc = job ? imgsync_job_set_body(job, "text/plain", q, strlen(q)) : IMGSYNC_ENOMEM;
    free(q);
    free(url);
    if (!rc)
        rc = imgsync_job_set_auth(job, st->rest_auth);
    if (rc) {
        imgsync_job_free(job);
        return rc;
    }
    imgsync_job_set_idempotent(job, 1); /* a search: safe to send again */
    imgsync_job_set_kind(job, K_AQL);
    a->refs++;
    imgsync_job_set_data(job, a, aql_unref);
    return imgsync_job_submit(job);
}

static jf_key *key_of_probe(jf_run *st, const imgsync_job *job)
{
    const char *url = imgsync_job_url(job);
    for (size_t i = 0; i < st->nkeys; i++) {
        size_t n = strlen(st->base) + strlen("/api/storage/");
        if (strlen(url) > n && !strcmp(url + n, st->keys[i].storage))
            return &st->keys[i];
    }
    return NULL;
}

static int on_probe(imgsync_run *run, const imgsync_job *job, const imgsync_response *resp)
{
    jf_run *st = imgsync_run_data(run);
    jf_key *k = key_of_probe(st, job);
    int status = imgsync_response_status(resp);
    if (!k)
        return IMGSYNC_EINTERNAL;
    if (!imgsync_response_error(resp) && status == 404 && strcmp(k->storage, k->key))
        return key_done(run, k), 0; /* a remote key with nothing cached yet: no rows */
    if (imgsync_response_error(resp) || status != 200)
        return key_fail(run, k, resp, "GET api/storage"), 0;
    aql_key *a = calloc(1, sizeof(*a));
    if (!a)
        return IMGSYNC_ENOMEM;
    a->refs = 1;
    a->k = k;
    imgsync__map_init(&a->sizes);
    imgsync__pager_init(&a->pager, run);
    int rc = submit_aql(run, a);
    aql_unref(a);
    return rc;
}

/* A manifest item "{image}/{tag}/manifest.json" into a row to be (digest folders give none). */
static int add_mrow(aql_key *a, const imgsync__aql_item *it)
{
    const char *slash = strrchr(it->path, '/');
    int multi = !strcmp(it->name, "list.manifest.json");
    if (!slash || imgsync__dist_is_digest_tag(slash + 1) || (!multi && strcmp(it->name, "manifest.json")))
        return 0;
    mrow *grown = realloc(a->rows, (a->nrows + 1) * sizeof(*grown));
    if (!grown)
        return IMGSYNC_ENOMEM;
    a->rows = grown;
    mrow *r = &a->rows[a->nrows];
    memset(r, 0, sizeof(*r));
    r->image = imgsync__strndup(it->path, (size_t)(slash - it->path));
    r->tag = imgsync__strdup(slash + 1);
    r->digest = it->digest ? imgsync__strdup(it->digest)
                           : it->sha256 ? imgsync__asprintf("sha256:%s", it->sha256) : imgsync__strdup("");
    r->media_type = imgsync__strdup(it->media_type ? it->media_type : "");
    r->modified_ms = it->modified_ms;
    r->created_ms = it->created_ms;
    r->multi = multi;
    a->nrows++; /* counted before the check: aql_unref frees what was allocated */
    return r->image && r->tag && r->digest && r->media_type ? 0 : IMGSYNC_ENOMEM;
}

/* A blob file: its size counts for its folder. */
static int add_blob(aql_key *a, const imgsync__aql_item *it)
{
    if (strncmp(it->name, "sha256__", 8)) /* only config and layer files make the image size */
        return 0;
    int64_t *sum = imgsync__map_get(&a->sizes, it->path);
    if (!sum) {
        if (!(sum = calloc(1, sizeof(*sum))) || imgsync__map_put(&a->sizes, it->path, sum, NULL)) {
            free(sum);
            return IMGSYNC_ENOMEM;
        }
    }
    if (it->size < 0 || *sum < 0 || *sum > INT64_MAX - it->size)
        *sum = -1; /* unknown stays unknown */
    else
        *sum += it->size;
    return 0;
}

static int aql_finish(imgsync_run *run, aql_key *a);

/* AQL pages by offset: an item deleted (or added) before the page boundary between two pages
 * shifts the rest, and an item would be missed (its rows removed). So each page after the first
 * starts at the previous page's last item: when that is not the first item any more, the results
 * changed and the key is not complete. 0 when the page continues the previous one (its first
 * item then skipped: *from = 1), 1 when the results changed. */
static int overlap_check(const aql_key *a, const imgsync__aql_page *page, size_t *from)
{
    *from = 0;
    if (!a->last)
        return 0;
    *from = 1;
    if (!page->n)
        return 1;
    const imgsync__aql_item *it = &page->items[0];
    size_t pl = strlen(it->path);
    return !(strncmp(a->last, it->path, pl) == 0 && a->last[pl] == '/' && !strcmp(a->last + pl + 1, it->name));
}

static int remember_last(aql_key *a, const imgsync__aql_page *page)
{
    const imgsync__aql_item *it = &page->items[page->n - 1];
    char *last = imgsync__asprintf("%s/%s", it->path, it->name);
    if (!last)
        return IMGSYNC_ENOMEM;
    free(a->last);
    a->last = last;
    return 0;
}

/* One page's items into the key's rows and sizes (from the item after the overlap). */
static int aql_take(aql_key *a, const imgsync__aql_page *page, size_t from)
{
    int rc = 0;
    for (size_t i = from; !rc && i < page->n; i++)
        rc = a->what == IMGSYNC__AQL_MANIFESTS ? add_mrow(a, &page->items[i]) : add_blob(a, &page->items[i]);
    return rc || page->n <= from ? rc : remember_last(a, page);
}

/* After a page of n results: the next page of the query, the blob query, or the rows. */
static int aql_next(imgsync_run *run, aql_key *a, size_t n)
{
    /* range.total counts this page only (ref 4.1): a full page means "maybe more" */
    if ((long)n == aql_limit(a->k->st)) {
        a->offset += (long)n - 1; /* the next page starts at this one's last item */
        return submit_aql(run, a);
    }
    if (a->what == IMGSYNC__AQL_MANIFESTS) {
        a->what = IMGSYNC__AQL_BLOBS;
        a->offset = 0;
        free(a->last);
        a->last = NULL;
        return submit_aql(run, a);
    }
    return aql_finish(run, a);
}

static int on_aql(imgsync_run *run, const imgsync_job *job, const imgsync_response *resp)
{
    aql_key *a = imgsync_job_data(job);
    int status = imgsync_response_status(resp);
    int refused = !imgsync_response_error(resp) && (status == 403 || status == 400);
    if (refused && a->k->st->mode == M_AUTO && a->what == IMGSYNC__AQL_MANIFESTS && a->offset == 0)
        return imgsync__dist_catalog(run, a->k->walk); /* no AQL for this account: the v2 walk */
    if (imgsync_response_error(resp) || status != 200)
        return key_fail(run, a->k, resp, "POST api/search/aql"), 0;
    size_t len, from = 0;
    const char *body = imgsync_response_body(resp, &len);
    imgsync__aql_page page;
    char why[160];
    int rc = imgsync__aql_parse(body, len, &page, why, sizeof(why));
    if (!rc && overlap_check(a, &page, &from)) {
        snprintf(why, sizeof(why), "the AQL results changed while they were paged: not complete");
        rc = IMGSYNC_EPROTOCOL;
    }
    if (!rc)
        rc = aql_take(a, &page, from);
    size_t n = page.n;
    imgsync__aql_page_free(&page);
    char at[64]; /* the page's identity for the pager: query and offset */
    snprintf(at, sizeof(at), "aql:%d:%ld", a->what, a->offset);
    if (!rc)
        rc = imgsync__pager_read(&a->pager, at, n, why, sizeof(why));
    if (rc == IMGSYNC_EPROTOCOL || rc == IMGSYNC_ETOOBIG) {
        imgsync_run_partition_fail(run, a->k->key, rc, why);
        return key_done(run, a->k), 0;
    }
    return rc ? rc : aql_next(run, a, n);
}

/* The sum of the blob files of folder image/name; -1 when unknown. */
static int64_t folder_size(const aql_key *a, const char *image, const char *name)
{
    char *path = imgsync__asprintf("%s/%s", image, name);
    int64_t *sum = path ? imgsync__map_get(&a->sizes, path) : NULL;
    free(path);
    return sum ? *sum : -1;
}

static imgsync_record *row_record(imgsync_run *run, const aql_key *a, const mrow *r, const char *repo)
{
    imgsync_record *rec = imgsync_record_new(run, repo, r->tag);
    if (!rec)
        return NULL;
    imgsync_record_set_partition(rec, a->k->key);
    imgsync_record_set_namespace(rec, a->k->key);
    imgsync_record_set_digest(rec, r->digest);
    imgsync_record_set_media_type(rec, r->media_type);
    imgsync_record_set_multi_arch(rec, r->multi);
    imgsync_record_set_update_ms(rec, r->modified_ms);
    imgsync_record_set_created_ms(rec, r->created_ms);
    return rec;
}

/* Job data of a list manifest's GET: the row and the sizes of its children's folders. */
typedef struct list_job {
    aql_key *a;
    imgsync_record *rec;
    char *image;
    char *digest;
} list_job;

static void list_job_free(void *p)
{
    list_job *l = p;
    aql_unref(l->a);
    imgsync_record_free(l->rec);
    free(l->image);
    free(l->digest);
    free(l);
}

/* A list's size is its children's: AQL does not hold the list's content, the Docker API does. */
static int submit_list(imgsync_run *run, aql_key *a, const mrow *r, const char *repo, imgsync_record *rec)
{
    list_job *l = calloc(1, sizeof(*l));
    char *url = imgsync__asprintf("%s/api/docker/%s/v2/%s/manifests/%s", a->k->st->base, a->k->key, r->image, r->tag);
    if (!l || !url || !(l->image = imgsync__strdup(r->image)) || !(l->digest = imgsync__strdup(r->digest))) {
        if (l)
            free(l->image);
        free(l);
        free(url);
        imgsync_record_free(rec);
        return IMGSYNC_ENOMEM;
    }
    l->a = a;
    a->refs++;
    l->rec = rec;
    imgsync__pv_job j = {"GET", url, K_LIST, a->k->key, repo, ACCEPT_MANIFESTS, a->k->st->docker_auth, l, list_job_free,
                         NULL};
    int rc = imgsync__pv_submit(run, &j);
    free(url);
    return rc;
}

static int emit_mrow(imgsync_run *run, aql_key *a, const mrow *r, const char *repo)
{
    imgsync_record *rec = row_record(run, a, r, repo);
    if (!rec)
        return IMGSYNC_ENOMEM;
    if (r->multi)
        return submit_list(run, a, r, repo, rec);
    imgsync_record_set_size(rec, folder_size(a, r->image, r->tag));
    return imgsync_record_emit(run, rec);
}

/* Every row of the key: scopes begun, rows emitted (lists once their children are sized), then
 * every scope listed. */
static int aql_finish(imgsync_run *run, aql_key *a)
{
    const char *key = a->k->key;
    imgsync__map scopes;
    imgsync__map_init(&scopes);
    int rc = 0;
    for (size_t i = 0; i < a->nrows && !rc; i++) {
        char *repo = imgsync__asprintf("%s/%s", key, a->rows[i].image);
        if (!repo)
            rc = IMGSYNC_ENOMEM;
        else if (!imgsync__name_repository_ok(repo) || !imgsync_run_wants_repository(run, repo))
            rc = 0; /* not a name a row may carry, or not asked for */
        else if (!(rc = imgsync_run_scope_begin(run, key, repo)) && !(rc = imgsync__map_put(&scopes, repo, NULL, NULL)))
            rc = imgsync_run_wants_tag(run, a->rows[i].tag) ? emit_mrow(run, a, &a->rows[i], repo) : 0;
        if (rc == IMGSYNC_EPROTOCOL)
            rc = 0; /* an invalid row (tag, digest): the core failed its scope, the others go on */
        free(repo);
    }
    size_t pos = 0;
    imgsync__map_entry *e;
    while (!rc && (e = imgsync__map_next(&scopes, &pos)) != NULL)
        rc = imgsync_run_scope_listed(run, key, e->key);
    imgsync__map_clear(&scopes);
    key_done(run, a->k);
    return rc;
}

/* Sum of the children folders of a list (the body was checked against the row's digest). */
static int64_t children_size(const list_job *l, yajl_val children)
{
    int64_t total = 0;
    for (size_t i = 0; children && i < children->u.array.len; i++) {
        const char *dg = imgsync__json_string(children->u.array.values[i], "digest");
        int64_t s = dg && imgsync__name_digest_ok(dg) ? folder_size(l->a, l->image, dg) : -1;
        if (s < 0 || total > INT64_MAX - s)
            return -1;
        total += s;
    }
    return total;
}

static int on_list(imgsync_run *run, const imgsync_job *job, const imgsync_response *resp)
{
    list_job *l = imgsync_job_data(job);
    int status = imgsync_response_status(resp);
    if (!imgsync_response_error(resp) && status == 404)
        return 0; /* the tag went away since the search */
    if (imgsync_response_error(resp) || status != 200)
        return imgsync_run_fail_response(run, job, resp), 0;
    size_t len;
    const char *body = imgsync_response_body(resp, &len);
    char digest[72], err[64];
    imgsync__pv_sha256(body, len, digest);
    yajl_val m = imgsync__json_parse(body, len, err, sizeof(err));
    yajl_val children = m ? imgsync__json_array(m, "manifests") : NULL;
    int same = !strcmp(digest, l->digest);
    char *platforms = same && children ? imgsync__pv_platforms(children) : NULL;
    if (platforms)
        imgsync_record_set_platforms(l->rec, platforms);
    free(platforms);
    /* a list pushed again since the search: its children are not those sized */
    imgsync_record_set_size(l->rec, same ? children_size(l, children) : -1);
    imgsync__json_free(m);
    imgsync_record *rec = l->rec;
    l->rec = NULL;
    int rc = imgsync_record_emit(run, rec);
    return rc == IMGSYNC_EPROTOCOL ? 0 : rc; /* an invalid row failed its scope alone */
}

static int jfrog_on_response(imgsync_run *run, imgsync_job *job, const imgsync_response *resp)
{
    int rc;
    switch (imgsync_job_kind(job)) {
    case K_PING: return on_ping(run, job, resp);
    case K_REPOS: return on_repos(run, job, resp);
    case K_STORAGE: return on_storage(run, job, resp);
    case K_PROBE: return on_probe(run, job, resp);
    case K_AQL: return on_aql(run, job, resp);
    case K_LIST: return on_list(run, job, resp);
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
};
