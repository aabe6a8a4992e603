/* Bearer tokens (distribution token auth): a 401 with a Bearer challenge is answered once per
 * request by fetching a token from the realm (with the group's Basic credentials, if any, or by
 * POSTing its refresh token: Docker's identity token, the OAuth2 grant of distribution) and
 * sending the request again with it. Tokens are cached per group, realm, service and scope; a
 * request whose scope can be guessed from its URL reuses a cached token up front. Requests that
 * ask for the same token while it is being fetched wait for the one token request. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/challenge.h"
#include "engine/internal.h"
#include "imgsync/errors.h"
#include "util/buf.h"
#include "util/json.h"
#include "util/text.h"
#include "util/url.h"

#define MAX_TOKEN_BYTES 16384
#define MAX_TOKEN_LIFETIME_S 86400
#define TOKEN_MARGIN_MS 10000

static void token_free(imgsync__token *t)
{
    if (!t)
        return;
    imgsync__wipe_free(t->value);
    free(t);
}

void imgsync__bearer_forget(imgsync__group *g)
{
    size_t pos = 0;
    imgsync__map_entry *me;
    while ((me = imgsync__map_next(&g->tokens, &pos)))
        token_free(me->value);
    pos = 0;
    while ((me = imgsync__map_next(&g->realms, &pos)))
        free(me->value);
    imgsync__map_clear(&g->tokens);
    imgsync__map_clear(&g->realms);
    imgsync__map_clear(&g->token_reqs);
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

/* Tokens and token requests are kept apart by the credential they were asked with: a token the
 * realm gave the registry flow (Basic or anonymous) is not the access token's, and the other way
 * round. */
static char cred_mark(const imgsync__ereq *r) { return r->cred == IMGSYNC__CRED_BEARER ? 'b' : 'r'; }

static const imgsync__token *live_token(const imgsync__group *g, const char *key)
{
    const imgsync__token *t = imgsync__map_get(&g->tokens, key);
    return t && t->expires_mono > imgsync__engine_mono(g->e) ? t : NULL;
}

/* Reuse a token this group already holds for the scope the URL will need, which saves the 401
 * round trip on every request after the first of each scope. */
void imgsync__bearer_attach_cached(imgsync__ereq *r)
{
    const char *realm_service = imgsync__map_get(&r->g->realms, r->host->origin);
    char *scope = realm_service ? guess_scope(imgsync__req_current_url(r)) : NULL;
    char *key = scope ? imgsync__asprintf("%c|%s|%s", cred_mark(r), realm_service, scope) : NULL;
    const imgsync__token *t = key ? live_token(r->g, key) : NULL;
    if (t)
        r->bearer = imgsync__strdup(t->value);
    free(scope);
    free(key);
}

static void remember_realm(imgsync__group *g, const char *origin, const imgsync__challenge *c)
{
    char *val = imgsync__asprintf("%s|%s", c->realm, c->service ? c->service : "");
    void *old = NULL;
    if (!val || imgsync__map_put(&g->realms, origin, val, &old))
        free(val);
    else
        free(old);
}

/* A refresh token is POSTed (distribution's OAuth2 token flow): the realm as it is, the form in
 * the body. Otherwise GET realm?service=..&scope=... */
static int refresh_flow(const imgsync__ereq *r) { return r->g->refresh_token && r->cred == IMGSYNC__CRED_REGISTRY; }

/* grant_type=refresh_token&refresh_token=..&service=..&scope=..&client_id=libimgsync, malloc'd
 * (a secret: the caller wipes it); NULL on ENOMEM. */
static char *refresh_form(const imgsync__group *g, const imgsync__challenge *c)
{
    imgsync__buf b;
    imgsync__buf_init(&b);
    b.secret = 1;
    const char *names[] = {"refresh_token", "service", "scope"}, *values[] = {g->refresh_token, c->service, c->scope};
    imgsync__buf_appends(&b, "grant_type=refresh_token");
    for (int i = 0; i < 3; i++) {
        char *s = values[i] ? imgsync__url_escape(values[i], NULL) : NULL;
        if (s)
            imgsync__buf_printf(&b, "&%s=%s", names[i], s);
        else if (values[i])
            b.oom = 1;
        imgsync__wipe_free(s);
    }
    imgsync__buf_appends(&b, "&client_id=libimgsync");
    return b.oom ? (imgsync__buf_free(&b), NULL) : imgsync__buf_steal(&b);
}

/* The token URL, or NULL when that URL may not carry the credentials. */
static char *token_url(const imgsync__ereq *r, const imgsync__challenge *c)
{
    imgsync__buf url;
    imgsync__buf_init(&url);
    imgsync__buf_appends(&url, c->realm);
    char sep = strchr(c->realm, '?') ? '&' : '?';
    const char *names[] = {"service", "scope"}, *values[] = {c->service, c->scope};
    for (int i = 0; i < 2 && !refresh_flow(r); i++) {
        if (!values[i])
            continue;
        char *s = imgsync__url_escape(values[i], NULL);
        imgsync__buf_printf(&url, "%c%s=%s", sep, names[i], s ? s : "");
        free(s);
        sep = '&';
    }
    char *u = imgsync__buf_steal(&url);
    /* a realm on plain http would expose the credentials: only where the request itself is on
     * plain http (loopback or allow_http), never below an https registry. An access token (a
     * platform credential, unlike registry Basic) goes to the run's allowed origins only. */
    if (!u || imgsync__group_check_url(r->g, u, r->cred == IMGSYNC__CRED_BEARER) ||
        (imgsync__url_is_http(u) && !imgsync__url_is_http(imgsync__req_current_url(r)))) {
        free(u);
        return NULL;
    }
    return u;
}

/* The token request for key, started if needed. NULL when none can be made. */
static imgsync__ereq *token_request(imgsync__ereq *r, const imgsync__challenge *c, const char *key)
{
    imgsync__group *g = r->g;
    imgsync__ereq *tr = imgsync__map_get(&g->token_reqs, key);
    if (tr)
        return tr;
    char *url = token_url(r, c);
    if (!url)
        return NULL;
    int cred = r->cred == IMGSYNC__CRED_BEARER ? IMGSYNC__CRED_BEARER : IMGSYNC__CRED_BASIC;
    imgsync__ereq_spec spec = {"GET", url, NULL, 0, NULL, 0, NULL, cred, 1, NULL};
    const char *accept = "Accept: application/json";
    spec.headers = &accept;
    spec.nheaders = 1;
    char *form = NULL;
    if (refresh_flow(r)) {
        if (!(form = refresh_form(g, c))) {
            free(url);
            return NULL;
        }
        spec.method = "POST";
        spec.body = form;
        spec.body_len = strlen(form);
        spec.content_type = "application/x-www-form-urlencoded";
        spec.cred = IMGSYNC__CRED_NONE; /* the token is in the body; the URL was checked above */
    }
    tr = imgsync__req_new(g, &spec);
    imgsync__wipe_free(form);
    free(url);
    if (!tr)
        return NULL;
    tr->internal = 1;
    if (!(tr->token_key = imgsync__strdup(key)) || imgsync__map_put(&g->token_reqs, key, tr, NULL)) {
        imgsync__req_drop(tr);
        return NULL;
    }
    tr->front = 1;
    imgsync__req_set_state(tr, IMGSYNC__RS_QUEUED);
    return tr;
}

/* 1 when r was taken over. */
static int answer(imgsync__ereq *r, const imgsync__challenge *c)
{
    imgsync__group *g = r->g;
    char *key = imgsync__asprintf("%c|%s|%s|%s", cred_mark(r), c->realm, c->service ? c->service : "",
                                  c->scope ? c->scope : "");
    if (!key)
        return 0;
    r->auth_tried = 1;
    remember_realm(g, r->host->origin, c);
    const imgsync__token *t = live_token(g, key);
    int taken = 0;
    if (t && (!r->bearer || strcmp(r->bearer, t->value))) {
        imgsync__wipe_free(r->bearer);
        r->bearer = imgsync__strdup(t->value);
        r->front = 1;
        imgsync__req_set_state(r, IMGSYNC__RS_QUEUED);
        taken = 1;
    } else {
        imgsync__ereq *tr = token_request(r, c, key);
        if (tr) {
            r->token_req = tr;
            imgsync__req_set_state(r, IMGSYNC__RS_TOKEN_WAIT);
            taken = 1;
        }
    }
    free(key);
    return taken;
}

int imgsync__bearer_answer(imgsync__engine *e, imgsync__ereq *r)
{
    (void)e;
    if (r->resp.error || r->resp.status != 401 || r->auth_tried || r->anonymous || r->internal ||
        (r->cred != IMGSYNC__CRED_REGISTRY && r->cred != IMGSYNC__CRED_BEARER))
        return 0;
    const char *www = imgsync__eresp_header(&r->resp, "WWW-Authenticate");
    imgsync__challenge c;
    if (!www || imgsync__challenge_parse(www, &c))
        return 0;
    int taken = !strcmp(c.scheme, "bearer") && c.realm && answer(r, &c);
    imgsync__challenge_clear(&c);
    return taken;
}

/* ---- token responses ---------------------------------------------------------------------- */

typedef struct token_result {
    char *value;        /* the token, or NULL */
    int64_t expires_in; /* seconds */
    int code;           /* failure: error code for the waiters (0: send them again as they were) */
    char why[300];
} token_result;

static void parse_token(const imgsync__eresp *resp, token_result *out)
{
    char err[64];
    size_t len;
    const char *body = imgsync__eresp_body(resp, &len);
    yajl_val root = imgsync__json_parse(body, len, err, sizeof(err));
    const char *t = imgsync__json_string(root, "token");
    if (!t || !*t)
        t = imgsync__json_string(root, "access_token");
    /* it goes into a header line: visible ASCII only, or it could inject headers */
    int printable = t && *t;
    for (const char *p = t; printable && *p; p++)
        printable = *p > 0x20 && *p < 0x7f;
    if (t && strlen(t) > MAX_TOKEN_BYTES) {
        out->code = IMGSYNC_ETOOBIG;
        snprintf(out->why, sizeof(out->why), "the registry's token is larger than %d bytes", MAX_TOKEN_BYTES);
    } else if (!printable) {
        out->code = IMGSYNC_EPROTOCOL;
        snprintf(out->why, sizeof(out->why), "the token endpoint's answer holds no usable token");
    } else {
        out->value = imgsync__strdup(t);
    }
    if (imgsync__json_int(root, "expires_in", &out->expires_in) || out->expires_in < 1)
        out->expires_in = 60;
    if (out->expires_in > MAX_TOKEN_LIFETIME_S)
        out->expires_in = MAX_TOKEN_LIFETIME_S;
    /* the parsed tree holds copies of the token: wipe them before it is freed */
    static const char *const keys[] = {"token", "access_token"};
    for (size_t i = 0; i < 2; i++) {
        const char *s = imgsync__json_string(root, keys[i]);
        if (s)
            imgsync__wipe((char *)s, strlen(s));
    }
    imgsync__json_free(root);
}

static void judge(const imgsync__eresp *resp, token_result *out)
{
    int st = resp->status;
    if (resp->error) {
        out->code = resp->error;
        snprintf(out->why, sizeof(out->why), "token endpoint: %s", resp->detail[0] ? resp->detail : imgsync_strerror(resp->error));
    } else if (st == 401 || st == 403) {
        out->code = 0; /* the credentials were refused: the waiters' own 401 tells it */
    } else if (st != 200) {
        out->code = IMGSYNC_EAUTH;
        snprintf(out->why, sizeof(out->why), "the token endpoint answered HTTP %d", st);
    } else {
        parse_token(resp, out);
    }
}

static void cache_token(imgsync__group *g, const char *key, const token_result *res)
{
    imgsync__token *t = calloc(1, sizeof(*t));
    if (!t || !(t->value = imgsync__strdup(res->value))) {
        free(t);
        return;
    }
    t->expires_mono = imgsync__engine_mono(g->e) + res->expires_in * 1000 - TOKEN_MARGIN_MS;
    void *old = NULL;
    if (imgsync__map_put(&g->tokens, key, t, &old))
        token_free(t);
    else
        token_free(old);
}

static void release_waiters(imgsync__ereq *tr, const token_result *res)
{
    while (tr->waiters) {
        imgsync__ereq *w = tr->waiters;
        if (res->code) {
            imgsync__req_fail(w, res->code, res->why);
            continue;
        }
        imgsync__wipe_free(w->bearer);
        w->bearer = res->value ? imgsync__strdup(res->value) : NULL;
        w->front = 1;
        imgsync__req_set_state(w, IMGSYNC__RS_QUEUED);
    }
}

void imgsync__bearer_token_done(imgsync__engine *e, imgsync__group *g, imgsync__ereq *tr)
{
    (void)e;
    token_result res;
    memset(&res, 0, sizeof(res));
    if (g) {
        imgsync__map_remove(&g->token_reqs, tr->token_key);
        judge(&tr->resp, &res);
        if (res.value)
            cache_token(g, tr->token_key, &res);
    }
    release_waiters(tr, &res);
    imgsync__wipe_free(res.value);
    imgsync__req_free(tr);
}
