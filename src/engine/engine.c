/* The HTTP engine: a curl multi handle driving provider jobs with global and per-host limits,
 * retries with backoff, Basic credentials and Bearer-token challenges. Vendor-neutral. */
#include "engine.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/task.h"
#include "engine/challenge.h"
#include "util/json.h"
#include "util/map.h"
#include "util/timeutil.h"
#include "util/url.h"

#define MAX_HEADERS 256      /* per response; more is hostile */
#define MAX_HEADER_BYTES 65536
#define SCAN_LIMIT 512       /* jobs of one host examined per scheduling pass */
#define EASY_POOL_MAX 64
#define MAX_REDIRECTS 5
#define MAX_TOKEN_LIFETIME_S 86400
#define TOKEN_MARGIN_MS 10000

typedef struct token {
    char *value;
    int64_t expires_mono;
} token;

/* One origin (scheme://host:port): its transfers in flight and its own FIFO of jobs to start, so
 * that a busy host never holds back the jobs of another one. (Named in job.h: jobs point to it.) */
typedef struct host_count {
    long inflight;
    imgsync_job *head, *tail;
} host_count;

struct imgsync__engine {
    CURLM *multi;
    imgsync__engine_opts o;
    imgsync_job *active;      /* in flight */
    size_t nqueue, nactive;   /* queued (over all hosts), in flight */
    imgsync__map hosts;       /* host key -> host_count */
    host_count **order;       /* every host, in creation order, for round-robin scheduling */
    size_t nhosts, rr;
    imgsync__map tokens;      /* run|realm|service|scope -> token */
    imgsync__map token_jobs;  /* same key -> internal job in flight */
    imgsync__map realms;      /* run|host key -> "realm|service" of its last Bearer challenge */
    CURL *pool[EASY_POOL_MAX];
    size_t npool;
    uint64_t rng;
};

void imgsync__engine_default_opts(imgsync__engine_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->max_connections = 16;
    o->max_host_connections = 8;
    o->request_timeout_ms = 30000;
    o->connect_timeout_ms = 10000;
    o->retry.max_retries = 4;
    o->retry.base_ms = 500;
    o->retry.max_ms = 30000;
    o->max_response_bytes = 64u << 20;
    snprintf(o->user_agent, sizeof(o->user_agent), "libimgsync/%s", IMGSYNC_VERSION_STRING);
}

int imgsync__engine_new(imgsync__engine **out, const imgsync__engine_opts *o)
{
    imgsync__engine *e = calloc(1, sizeof(*e));
    if (!e)
        return IMGSYNC_ENOMEM;
    e->multi = curl_multi_init();
    if (!e->multi) {
        free(e);
        return IMGSYNC_ENOMEM;
    }
    imgsync__engine_set_opts(e, o);
    imgsync__map_init(&e->hosts);
    imgsync__map_init(&e->tokens);
    imgsync__map_init(&e->token_jobs);
    imgsync__map_init(&e->realms);
    e->rng = (uint64_t)imgsync__mono_ms() * 6364136223846793005ULL + (uint64_t)(uintptr_t)e;
    *out = e;
    return 0;
}

void imgsync__engine_set_opts(imgsync__engine *e, const imgsync__engine_opts *o)
{
    e->o = *o;
    /* connections stay open for reuse; curl's own cap follows ours */
    curl_multi_setopt(e->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, o->max_connections);
    curl_multi_setopt(e->multi, CURLMOPT_MAX_HOST_CONNECTIONS, o->max_host_connections);
}

static void token_free(token *t)
{
    if (!t)
        return;
    memset(t->value, 0, strlen(t->value));
    free(t->value);
    free(t);
}

static void free_job_list(imgsync_job *j)
{
    while (j) {
        imgsync_job *next = j->next;
        free_job_list(j->waiters);
        j->waiters = NULL;
        imgsync__job_free(j);
        j = next;
    }
}

void imgsync__engine_free(imgsync__engine *e)
{
    if (!e)
        return;
    for (imgsync_job *j = e->active; j; j = j->next) {
        curl_multi_remove_handle(e->multi, j->easy);
        curl_easy_cleanup(j->easy);
        j->easy = NULL;
    }
    free_job_list(e->active);
    for (size_t i = 0; i < e->nhosts; i++)
        free_job_list(e->order[i]->head);
    free(e->order);
    for (size_t i = 0; i < e->npool; i++)
        curl_easy_cleanup(e->pool[i]);
    size_t pos = 0;
    imgsync__map_entry *me;
    while ((me = imgsync__map_next(&e->hosts, &pos)))
        free(me->value);
    pos = 0;
    while ((me = imgsync__map_next(&e->tokens, &pos)))
        token_free(me->value);
    pos = 0;
    while ((me = imgsync__map_next(&e->realms, &pos)))
        free(me->value);
    imgsync__map_clear(&e->realms);
    imgsync__map_clear(&e->hosts);
    imgsync__map_clear(&e->tokens);
    imgsync__map_clear(&e->token_jobs);
    curl_multi_cleanup(e->multi);
    free(e);
}

/* ---- queue -------------------------------------------------------------------------------- */

static void queue_push(imgsync__engine *e, imgsync_job *j, int front)
{
    host_count *h = j->host;
    j->next = NULL;
    if (!h->head) {
        h->head = h->tail = j;
    } else if (front) {
        j->next = h->head;
        h->head = j;
    } else {
        h->tail->next = j;
        h->tail = j;
    }
    e->nqueue++;
}

/* Unlink j (whose predecessor in its host's queue is prev, or NULL) from that queue. */
static void queue_unlink(imgsync__engine *e, imgsync_job *prev, imgsync_job *j)
{
    host_count *h = j->host;
    if (prev)
        prev->next = j->next;
    else
        h->head = j->next;
    if (h->tail == j)
        h->tail = prev;
    j->next = NULL;
    e->nqueue--;
}

static char *host_key_of(const char *url)
{
    imgsync__url u;
    if (imgsync__url_parse(&u, url))
        return NULL;
    char *k = imgsync__asprintf("%s://%s:%d", u.scheme, u.host, imgsync__url_effective_port(&u));
    imgsync__url_clear(&u);
    return k;
}

static host_count *host_get(imgsync__engine *e, const char *key)
{
    host_count *h = imgsync__map_get(&e->hosts, key);
    if (h)
        return h;
    host_count **order = realloc(e->order, (e->nhosts + 1) * sizeof(*order));
    if (!order)
        return NULL;
    e->order = order;
    if (!(h = calloc(1, sizeof(*h))) || imgsync__map_put(&e->hosts, key, h, NULL)) {
        free(h);
        return NULL;
    }
    e->order[e->nhosts++] = h;
    return h;
}

int imgsync__engine_submit(imgsync__engine *e, imgsync_job *job)
{
    if (!job->host_key && !(job->host_key = host_key_of(job->url))) {
        imgsync__job_free(job);
        return IMGSYNC_EINVAL;
    }
    if (!(job->host = host_get(e, job->host_key))) {
        imgsync__job_free(job);
        return IMGSYNC_ENOMEM;
    }
    queue_push(e, job, job->internal);
    return 0;
}

/* ---- transfers ---------------------------------------------------------------------------- */

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
    imgsync_job *job = ud;
    imgsync_response *r = &job->resp;
    size_t len = size * n;
    if (len >= 5 && memcmp(p, "HTTP/", 5) == 0) {
        /* a new response (redirect, 100-continue): forget the previous headers */
        for (size_t i = 0; i < r->nheaders; i++) {
            free(r->headers[i].name);
            free(r->headers[i].value);
        }
        r->nheaders = 0;
        return len;
    }
    const char *colon = memchr(p, ':', len);
    if (!colon)
        return len; /* the blank line that ends the headers, or junk */
    if (r->nheaders >= MAX_HEADERS || len > MAX_HEADER_BYTES) {
        /* dropping headers silently could lose a Link and end a listing early: refuse instead */
        r->error = IMGSYNC_EPROTOCOL;
        r->error_detail = "too many or too long response headers";
        return 0;
    }
    const char *v = colon + 1, *end = p + len;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' ' || end[-1] == '\t'))
        end--;
    if (r->nheaders == 0 || (r->nheaders >= 8 && (r->nheaders & (r->nheaders - 1)) == 0)) { /* 8, 16, 32 ... */
        imgsync__header *arr = realloc(r->headers, (r->nheaders ? r->nheaders * 2 : 8) * sizeof(*arr));
        if (!arr)
            return 0;
        r->headers = arr;
    }
    char *name = imgsync__strndup(p, (size_t)(colon - p));
    char *value = imgsync__strndup(v, (size_t)(end - v));
    if (!name || !value) {
        free(name);
        free(value);
        return 0;
    }
    r->headers[r->nheaders].name = name;
    r->headers[r->nheaders].value = value;
    r->nheaders++;
    return len;
}

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
    imgsync_job *job = ud;
    size_t len = size * n;
    size_t cap = job->run->ctx->eopts.max_response_bytes;
    if (job->resp.body.len + len > cap) {
        job->resp.error = IMGSYNC_ETOOBIG;
        return 0;
    }
    return imgsync__buf_append(&job->resp.body, p, len) ? 0 : len;
}

static void attach_cached_token(imgsync__engine *e, imgsync_job *job);

static int start_transfer(imgsync__engine *e, imgsync_job *job)
{
    imgsync_run *run = job->run;
    CURL *h = e->npool ? e->pool[--e->npool] : curl_easy_init();
    if (!h)
        return IMGSYNC_ENOMEM;
    curl_easy_reset(h);
    imgsync__response_reset(&job->resp);
    job->resp.request_url = job->url;
    curl_slist_free_all(job->sent_headers);
    job->sent_headers = NULL;

    if (!job->bearer && !job->anonymous && !job->internal)
        attach_cached_token(e, job);
    /* headers: the provider's, a Bearer token if we hold one, then the prepare hook's */
    struct curl_slist *hdrs = NULL;
    int oom = 0;
    for (struct curl_slist *l = job->headers; l && !oom; l = l->next) {
        struct curl_slist *n = curl_slist_append(hdrs, l->data);
        oom = !n;
        if (n)
            hdrs = n;
    }
    if (!oom && job->bearer) {
        char *line = imgsync__asprintf("Authorization: Bearer %s", job->bearer);
        struct curl_slist *n = line ? curl_slist_append(hdrs, line) : NULL;
        if (line) {
            memset(line, 0, strlen(line));
            free(line);
        }
        oom = !n;
        if (n)
            hdrs = n;
    }
    if (!oom && !job->internal && !job->anonymous) {
        struct curl_slist *orig = job->headers;
        job->headers = hdrs;
        int rc = imgsync__run_prepare(run, job);
        hdrs = job->headers;
        job->headers = orig;
        if (!rc && run->failed)
            rc = IMGSYNC_ECANCELED; /* prepare failed the run: its other jobs are gone already */
        if (rc) {
            curl_slist_free_all(hdrs);
            curl_easy_cleanup(h);
            return rc;
        }
    }
    if (oom) {
        curl_slist_free_all(hdrs);
        curl_easy_cleanup(h);
        return IMGSYNC_ENOMEM;
    }
    job->sent_headers = hdrs;

    const imgsync__engine_opts *o = &e->o;
    curl_easy_setopt(h, CURLOPT_URL, job->target ? job->target : job->url);
    curl_easy_setopt(h, CURLOPT_PRIVATE, job);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h, CURLOPT_USERAGENT, o->user_agent);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, o->request_timeout_ms);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, o->connect_timeout_ms);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    /* redirects are followed by complete(), which decides what may go to the new location */
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, job);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, job);
    /* multiplexing can only be known on TLS (ALPN); waiting for it over plain http would queue
     * every request behind the first one */
    if (strncmp(job->url, "https:", 6) == 0)
        curl_easy_setopt(h, CURLOPT_PIPEWAIT, 1L);
    if (strcmp(job->method, "HEAD") == 0)
        curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    const char *ca = imgsync__run_ca_file(run);
    if (ca)
        curl_easy_setopt(h, CURLOPT_CAINFO, ca);
    if (imgsync__run_insecure(run)) {
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    const char *user = imgsync__run_username(run);
    if (user && !job->anonymous && !job->bearer) {
        /* curl sends these only to the original host, never across redirects */
        curl_easy_setopt(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        curl_easy_setopt(h, CURLOPT_USERNAME, user);
        const char *pw = imgsync__run_password(run);
        curl_easy_setopt(h, CURLOPT_PASSWORD, pw ? pw : "");
    }
    if (curl_multi_add_handle(e->multi, h) != CURLM_OK) {
        curl_easy_cleanup(h);
        return IMGSYNC_ENOMEM;
    }
    job->easy = h;
    job->host->inflight++;
    job->next = e->active;
    e->active = job;
    e->nactive++;
    imgsync__run_count(run, IMGSYNC_COUNT_REQUESTS);
    return 0;
}

/* Deliver a job that cannot even start, as a transport failure. */
static void deliver(imgsync__engine *e, imgsync_job *job);

/* First job of a host's queue that is due (not backing off), unlinked; NULL when none is. */
static imgsync_job *take_due(imgsync__engine *e, host_count *h, int64_t now)
{
    imgsync_job *prev = NULL;
    size_t scanned = 0;
    for (imgsync_job *j = h->head; j && scanned++ < SCAN_LIMIT; prev = j, j = j->next) {
        if (j->not_before <= now) {
            queue_unlink(e, prev, j);
            return j;
        }
    }
    return NULL;
}

/* Start due jobs, one host at a time in turn, within the global and per-host limits. */
static void start_ready(imgsync__engine *e)
{
    int64_t now = imgsync__mono_ms();
    int progress = 1;
    while (progress && e->nqueue && e->nactive < (size_t)e->o.max_connections) {
        progress = 0;
        for (size_t k = 0; k < e->nhosts && e->nactive < (size_t)e->o.max_connections; k++) {
            host_count *h = e->order[(e->rr + k) % e->nhosts];
            if (!h->head || h->inflight >= e->o.max_host_connections)
                continue;
            imgsync_job *j = take_due(e, h, now);
            if (!j)
                continue;
            progress = 1;
            int rc = start_transfer(e, j);
            if (rc == IMGSYNC_ECANCELED) {
                imgsync__job_free(j); /* its run failed while the job was being prepared */
            } else if (rc) {
                j->resp.error = rc;
                deliver(e, j);
            }
            /* a callback may have changed the queues: take the next host afresh */
            e->rr = (e->rr + k + 1) % e->nhosts;
            break;
        }
    }
}

static void release_transfer(imgsync__engine *e, imgsync_job *job)
{
    imgsync_job **pp = &e->active;
    while (*pp && *pp != job)
        pp = &(*pp)->next;
    if (*pp) {
        *pp = job->next;
        e->nactive--;
    }
    job->next = NULL;
    if (job->host && job->host->inflight > 0)
        job->host->inflight--;
    if (job->easy) {
        curl_multi_remove_handle(e->multi, job->easy);
        if (e->npool < EASY_POOL_MAX)
            e->pool[e->npool++] = job->easy;
        else
            curl_easy_cleanup(job->easy);
        job->easy = NULL;
    }
}

static int map_curl_error(CURLcode c, int *retryable)
{
    *retryable = 0;
    switch (c) {
    case CURLE_OPERATION_TIMEDOUT:
        *retryable = 1;
        return IMGSYNC_ETIMEOUT;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
        *retryable = 1;
        return IMGSYNC_ENETWORK;
    case CURLE_OUT_OF_MEMORY:
        return IMGSYNC_ENOMEM;
    default:
        return IMGSYNC_ENETWORK; /* TLS verification and the like: retrying will not help */
    }
}

/* ---- tokens ------------------------------------------------------------------------------- */

static char *token_key(const imgsync_job *job, const imgsync__challenge *c)
{
    return imgsync__asprintf("%p|%s|%s|%s", (void *)job->run, c->realm, c->service ? c->service : "",
                             c->scope ? c->scope : "");
}

/* The scope a distribution registry will ask for on this URL: registry:catalog:* for the
 * catalog, repository:NAME:pull under /v2/NAME/{tags,manifests,blobs}/. NULL when unknown. */
static char *guess_scope(const char *url)
{
    imgsync__url u;
    if (imgsync__url_parse(&u, url))
        return NULL;
    char *scope = NULL;
    const char *v2 = strstr(u.path, "/v2/");
    if (v2) {
        const char *name = v2 + 4;
        static const char *const marks[] = {"/tags/list", "/manifests/", "/blobs/"};
        if (strcmp(name, "_catalog") == 0)
            scope = imgsync__strdup("registry:catalog:*");
        for (size_t i = 0; !scope && i < sizeof(marks) / sizeof(marks[0]); i++) {
            const char *m = strstr(name, marks[i]);
            if (m && m > name)
                scope = imgsync__asprintf("repository:%.*s:pull", (int)(m - name), name);
        }
    }
    imgsync__url_clear(&u);
    return scope;
}

/* Reuse a token this run already holds for the scope the URL will need, which saves the 401
 * round trip on every request after the first of each scope. */
static void attach_cached_token(imgsync__engine *e, imgsync_job *job)
{
    char *rkey = imgsync__asprintf("%p|%s", (void *)job->run, job->host_key);
    const char *realm_service = rkey ? imgsync__map_get(&e->realms, rkey) : NULL;
    char *scope = realm_service ? guess_scope(job->url) : NULL;
    char *key = scope ? imgsync__asprintf("%p|%s|%s", (void *)job->run, realm_service, scope) : NULL;
    token *tok = key ? imgsync__map_get(&e->tokens, key) : NULL;
    if (tok && tok->expires_mono > imgsync__mono_ms())
        job->bearer = imgsync__strdup(tok->value);
    free(rkey);
    free(scope);
    free(key);
}

static void remember_realm(imgsync__engine *e, const imgsync_job *job, const imgsync__challenge *c)
{
    char *rkey = imgsync__asprintf("%p|%s", (void *)job->run, job->host_key);
    char *val = imgsync__asprintf("%s|%s", c->realm, c->service ? c->service : "");
    void *old = NULL;
    if (!rkey || !val || imgsync__map_put(&e->realms, rkey, val, &old))
        free(val);
    else
        free(old);
    free(rkey);
}

static void requeue_waiters(imgsync__engine *e, imgsync_job *tj, const char *value)
{
    imgsync_job *w = tj->waiters;
    tj->waiters = NULL;
    while (w) {
        imgsync_job *next = w->next;
        free(w->bearer);
        w->bearer = value ? imgsync__strdup(value) : NULL;
        queue_push(e, w, 1);
        w = next;
    }
}

static void token_job_done(imgsync__engine *e, imgsync_job *tj)
{
    imgsync__map_remove(&e->token_jobs, tj->token_key);
    char *value = NULL;
    int64_t expires_in = 60;
    if (!tj->resp.error && tj->resp.status == 200) {
        char err[64];
        yajl_val root = imgsync__json_parse(imgsync__buf_str(&tj->resp.body), tj->resp.body.len, err, sizeof(err));
        const char *t = imgsync__json_string(root, "token");
        if (!t || !*t)
            t = imgsync__json_string(root, "access_token");
        /* it goes into a header line: visible ASCII only, or it could inject headers */
        int printable = t && *t;
        for (const char *c = t; printable && *c; c++)
            printable = *c > 0x20 && *c < 0x7f;
        if (printable)
            value = imgsync__strdup(t);
        if (imgsync__json_int(root, "expires_in", &expires_in) || expires_in < 1)
            expires_in = 60;
        if (expires_in > MAX_TOKEN_LIFETIME_S)
            expires_in = MAX_TOKEN_LIFETIME_S;
        if (root)
            yajl_tree_free(root);
    }
    if (value) {
        token *tok = calloc(1, sizeof(*tok));
        if (tok) {
            tok->value = imgsync__strdup(value);
            tok->expires_mono = imgsync__mono_ms() + expires_in * 1000 - TOKEN_MARGIN_MS;
            void *old = NULL;
            if (!tok->value || imgsync__map_put(&e->tokens, tj->token_key, tok, &old)) {
                free(tok->value);
                free(tok);
            } else {
                token_free(old);
            }
        }
    }
    /* without a token the waiters are sent again as they were and their 401 is delivered */
    requeue_waiters(e, tj, value);
    if (value) {
        memset(value, 0, strlen(value));
        free(value);
    }
    imgsync__job_free(tj);
}

/* Handle a Bearer challenge. 1 when the job was taken over (requeued or waiting), 0 to deliver. */
static int answer_challenge(imgsync__engine *e, imgsync_job *job)
{
    if (job->resp.status != 401 || job->auth_tried || job->anonymous || job->internal)
        return 0;
    /* a challenge from a host we were redirected to is not ours to answer with the credentials */
    if (job->resp.url && !imgsync__url_same_origin(job->resp.url, job->url))
        return 0;
    const char *www = imgsync_response_header(&job->resp, "WWW-Authenticate");
    imgsync__challenge c;
    if (!www || imgsync__challenge_parse(www, &c))
        return 0;
    int taken = 0;
    char *key = NULL;
    if (strcmp(c.scheme, "bearer") != 0 || !c.realm || !(key = token_key(job, &c)))
        goto out;
    job->auth_tried = 1;
    remember_realm(e, job, &c);
    token *tok = imgsync__map_get(&e->tokens, key);
    if (tok && tok->expires_mono > imgsync__mono_ms() && (!job->bearer || strcmp(job->bearer, tok->value))) {
        free(job->bearer);
        job->bearer = imgsync__strdup(tok->value);
        queue_push(e, job, 1);
        taken = 1;
        goto out;
    }
    imgsync_job *tj = imgsync__map_get(&e->token_jobs, key);
    if (!tj) {
        imgsync__buf url;
        imgsync__buf_init(&url);
        imgsync__buf_appends(&url, c.realm);
        char sep = strchr(c.realm, '?') ? '&' : '?';
        if (c.service) {
            char *s = imgsync__url_escape(c.service, NULL);
            imgsync__buf_printf(&url, "%cservice=%s", sep, s ? s : "");
            free(s);
            sep = '&';
        }
        if (c.scope) {
            char *s = imgsync__url_escape(c.scope, NULL);
            imgsync__buf_printf(&url, "%cscope=%s", sep, s ? s : "");
            free(s);
        }
        char *u = imgsync__buf_steal(&url);
        /* a realm on plain http would expose the credentials: only where the endpoint itself is
         * plain http (loopback or allow_http), never below an https endpoint */
        if (!u || imgsync__run_url_allowed(job->run, u) ||
            (strncmp(u, "http:", 5) == 0 && strncmp(imgsync_run_endpoint(job->run), "http:", 5) != 0)) {
            free(u);
            goto out;
        }
        tj = imgsync_job_new(job->run, "GET", u);
        free(u);
        if (!tj)
            goto out;
        tj->internal = 1;
        tj->token_key = imgsync__strdup(key);
        tj->host_key = host_key_of(tj->url);
        tj->host = tj->host_key ? host_get(e, tj->host_key) : NULL;
        if (!tj->token_key || !tj->host || imgsync__map_put(&e->token_jobs, key, tj, NULL)) {
            imgsync__job_free(tj);
            goto out;
        }
        queue_push(e, tj, 1);
    }
    job->next = tj->waiters;
    tj->waiters = job;
    taken = 1;
out:
    free(key);
    imgsync__challenge_clear(&c);
    return taken;
}

/* ---- redirects ---------------------------------------------------------------------------- */

/* Only Accept headers are not secret: keep those for another origin. */
static void keep_only_accept_headers(imgsync_job *job)
{
    struct curl_slist *kept = NULL;
    for (struct curl_slist *l = job->headers; l; l = l->next) {
        if (strncasecmp(l->data, "Accept:", 7) != 0)
            continue;
        struct curl_slist *n = curl_slist_append(kept, l->data);
        if (n)
            kept = n;
    }
    curl_slist_free_all(job->headers);
    job->headers = kept;
}

/* Follow a 3xx with a Location. 1 when the job was requeued for the new URL, 0 to deliver the
 * response as it is (or as the EINSECURE failure set here). Same origin: the request goes on
 * unchanged. Another origin: it goes on anonymous, without the provider's headers or hook. */
static int follow_redirect(imgsync__engine *e, imgsync_job *job)
{
    int st = job->resp.status;
    if (job->resp.error || (st != 301 && st != 302 && st != 303 && st != 307 && st != 308))
        return 0;
    const char *loc = imgsync_response_header(&job->resp, "Location");
    if (!loc || job->redirects >= MAX_REDIRECTS)
        return 0;
    const char *current = job->target ? job->target : job->url;
    char *target = imgsync__url_resolve(current, loc);
    if (!target)
        return 0;
    if (imgsync__run_url_allowed(job->run, target)) {
        free(target);
        job->resp.status = 0;
        job->resp.error = IMGSYNC_EINSECURE;
        job->resp.error_detail = "redirected to plain http";
        return 0;
    }
    char *key = host_key_of(target);
    host_count *h = key ? host_get(e, key) : NULL;
    if (!h) {
        free(target);
        free(key);
        return 0;
    }
    if (!imgsync__url_same_origin(target, current)) {
        job->anonymous = 1;
        keep_only_accept_headers(job);
        if (job->bearer) {
            memset(job->bearer, 0, strlen(job->bearer));
            free(job->bearer);
            job->bearer = NULL;
        }
    }
    free(job->target);
    job->target = target;
    free(job->host_key);
    job->host_key = key;
    job->host = h;
    job->redirects++;
    queue_push(e, job, 1);
    return 1;
}

/* ---- completion --------------------------------------------------------------------------- */

static void deliver(imgsync__engine *e, imgsync_job *job)
{
    if (job->internal) {
        token_job_done(e, job);
        return;
    }
    imgsync__run_job_finished(job->run, job);
}

static uint64_t next_rand(imgsync__engine *e)
{
    e->rng ^= e->rng << 13;
    e->rng ^= e->rng >> 7;
    e->rng ^= e->rng << 17;
    return e->rng;
}

static void complete(imgsync__engine *e, imgsync_job *job, CURLcode cc)
{
    int retryable = 0;
    char *eff = NULL;
    curl_easy_getinfo(job->easy, CURLINFO_EFFECTIVE_URL, &eff);
    job->resp.url = imgsync__strdup(eff ? eff : job->url);
    if (cc == CURLE_OK) {
        long status = 0;
        curl_easy_getinfo(job->easy, CURLINFO_RESPONSE_CODE, &status);
        job->resp.status = (int)status;
        job->resp.error = 0;
    } else if (job->resp.error != IMGSYNC_ETOOBIG && job->resp.error != IMGSYNC_EPROTOCOL) {
        job->resp.error = map_curl_error(cc, &retryable);
        job->resp.error_detail = curl_easy_strerror(cc); /* static, names no URL or secret */
        job->resp.status = 0;
    }
    release_transfer(e, job);

    if (follow_redirect(e, job) || answer_challenge(e, job))
        return;
    int status = job->resp.status;
    int transport = retryable ? job->resp.error : 0;
    if (imgsync__retry_should(status, transport) && job->attempt < e->o.retry.max_retries) {
        int64_t delay = imgsync__retry_delay_ms(&e->o.retry, job->attempt + 1,
                                                imgsync_response_header(&job->resp, "Retry-After"),
                                                imgsync__now_ms(), (double)(next_rand(e) >> 11) / 9007199254740992.0);
        if (delay >= 0) {
            job->attempt++;
            job->not_before = imgsync__mono_ms() + delay;
            if (!job->internal)
                imgsync__run_count(job->run, IMGSYNC_COUNT_RETRIES);
            queue_push(e, job, 0);
            return;
        }
    }
    deliver(e, job);
}

/* Time until the earliest delayed (backing-off) job is due, or -1 when none is. Jobs that are
 * ready but held back by a connection limit need no timer: a finishing transfer wakes the poll. */
static int64_t next_due_ms(const imgsync__engine *e, int64_t now)
{
    int64_t best = -1;
    for (size_t k = 0; k < e->nhosts; k++) {
        size_t scanned = 0;
        for (const imgsync_job *j = e->order[k]->head; j && scanned++ < SCAN_LIMIT; j = j->next)
            if (j->not_before > now && (best < 0 || j->not_before - now < best))
                best = j->not_before - now;
    }
    return best;
}

int imgsync__engine_perform(imgsync__engine *e, int timeout_ms)
{
    int64_t deadline = imgsync__mono_ms() + timeout_ms;
    for (;;) {
        start_ready(e);
        int running = 0;
        curl_multi_perform(e->multi, &running);
        int done = 0, left = 0;
        CURLMsg *m;
        while ((m = curl_multi_info_read(e->multi, &left))) {
            if (m->msg != CURLMSG_DONE)
                continue;
            imgsync_job *job = NULL;
            CURLcode cc = m->data.result;
            curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&job);
            if (!job)
                continue;
            complete(e, job, cc);
            done++;
        }
        int64_t now = imgsync__mono_ms();
        if (done || now >= deadline || (!e->nactive && !e->nqueue))
            return 0;
        int64_t wait = deadline - now;
        int64_t due = next_due_ms(e, now);
        if (due >= 0 && due < wait)
            wait = due;
        if (!e->nactive) {
            /* nothing in flight: only delayed jobs; sleep until one is due */
            if (wait > 0)
                curl_multi_poll(e->multi, NULL, 0, (int)wait, NULL);
            continue;
        }
        curl_multi_poll(e->multi, NULL, 0, (int)(wait > 0 ? wait : 0), NULL);
    }
}

imgsync_job *imgsync__engine_take(imgsync__engine *e)
{
    for (size_t k = 0; k < e->nhosts; k++) {
        imgsync_job *j = e->order[k]->head;
        if (j) {
            queue_unlink(e, NULL, j);
            return j;
        }
    }
    return NULL;
}

/* ---- dropping a run's jobs ---------------------------------------------------------------- */

static imgsync_job *drop_from_list(imgsync__engine *e, imgsync_job *list, imgsync_run *run, size_t *count)
{
    imgsync_job *keep = NULL, **tail = &keep;
    while (list) {
        imgsync_job *next = list->next;
        if (list->run == run) {
            free_job_list(list->waiters);
            list->waiters = NULL;
            if (list->token_key)
                imgsync__map_remove(&e->token_jobs, list->token_key);
            list->next = NULL;
            imgsync__job_free(list);
            (*count)--;
        } else {
            *tail = list;
            tail = &list->next;
        }
        list = next;
    }
    *tail = NULL;
    return keep;
}

void imgsync__engine_drop_run(imgsync__engine *e, imgsync_run *run)
{
    for (imgsync_job *j = e->active, *next; j; j = next) {
        next = j->next;
        if (j->run != run)
            continue;
        release_transfer(e, j);
        free_job_list(j->waiters);
        j->waiters = NULL;
        if (j->token_key)
            imgsync__map_remove(&e->token_jobs, j->token_key);
        imgsync__job_free(j);
    }
    for (size_t k = 0; k < e->nhosts; k++) {
        host_count *h = e->order[k];
        h->head = drop_from_list(e, h->head, run, &e->nqueue);
        h->tail = h->head;
        while (h->tail && h->tail->next)
            h->tail = h->tail->next;
    }
    /* tokens obtained for this run are not kept beyond it */
    char prefix[32];
    snprintf(prefix, sizeof(prefix), "%p|", (void *)run);
    size_t pos = 0, plen = strlen(prefix);
    imgsync__map_entry *me;
    while ((me = imgsync__map_next(&e->tokens, &pos))) {
        if (strncmp(me->key, prefix, plen) == 0) {
            token *t = imgsync__map_remove(&e->tokens, me->key);
            token_free(t);
        }
    }
    pos = 0;
    while ((me = imgsync__map_next(&e->realms, &pos)))
        if (strncmp(me->key, prefix, plen) == 0)
            free(imgsync__map_remove(&e->realms, me->key));
}
