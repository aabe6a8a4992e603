/* Groups: the requests of one run, with their policy (credentials, allowed origins, TLS, plain
 * http), hooks and token cache; cancellation. */
#include <stdlib.h>
#include <string.h>

#include "engine/internal.h"
#include "imgsync/errors.h"
#include "util/buf.h"
#include "util/text.h"
#include "util/url.h"

int imgsync__group_new(imgsync__group **out, imgsync__engine *e, const imgsync__policy *p,
                       const imgsync__hooks *h, void *group_ud)
{
    imgsync__group *g = calloc(1, sizeof(*g));
    if (!g)
        return IMGSYNC_ENOMEM;
    g->e = e;
    g->hooks = *h;
    g->ud = group_ud;
    g->insecure = p->insecure;
    g->allow_http = p->allow_http;
    g->max_response_bytes = p->max_response_bytes;
    imgsync__map_init(&g->tokens);
    imgsync__map_init(&g->token_reqs);
    imgsync__map_init(&g->realms);
    imgsync__map_init(&g->throttles);
    int oom = (p->username && !(g->username = imgsync__strdup(p->username))) ||
              (p->password && !(g->password = imgsync__strdup(p->password))) ||
              (p->token && !(g->token = imgsync__strdup(p->token))) ||
              (p->refresh_token && !(g->refresh_token = imgsync__strdup(p->refresh_token))) ||
              (p->ca_file && !(g->ca_file = imgsync__strdup(p->ca_file)));
    if (oom) {
        imgsync__wipe_free(g->username);
        imgsync__wipe_free(g->password);
        imgsync__wipe_free(g->token);
        imgsync__wipe_free(g->refresh_token);
        free(g->ca_file);
        free(g);
        return IMGSYNC_ENOMEM;
    }
    g->next = e->groups;
    if (e->groups)
        e->groups->prev = g;
    e->groups = g;
    *out = g;
    return 0;
}

/* A group stays allocated while a cancel or a signer runs hooks for it (g->busy): a hook that
 * frees it then only marks it doomed, and the last of those frames frees it. */
static void group_destroy(imgsync__group *g)
{
    imgsync__engine *e = g->e;
    if (g->prev)
        g->prev->next = g->next;
    else
        e->groups = g->next;
    if (g->next)
        g->next->prev = g->prev;
    imgsync__bearer_forget(g);
    imgsync__throttle_forget(g);
    for (size_t i = 0; i < g->norigins; i++)
        free(g->origins[i]);
    free(g->origins);
    imgsync__wipe_free(g->username);
    imgsync__wipe_free(g->password);
    imgsync__wipe_free(g->token);
    imgsync__wipe_free(g->refresh_token);
    free(g->ca_file);
    free(g->ca_dir);
    free(g->cert_file);
    free(g->key_file);
    imgsync__wipe_free(g->proxy); /* may hold the proxy's credentials */
    free(g);
}

/* Replace *dst with a copy of src (NULL stays NULL). 0 or -1 when out of memory. */
static int set_copy(char **dst, const char *src, int secret)
{
    char *copy = src ? imgsync__strdup(src) : NULL;
    if (src && !copy)
        return -1;
    if (secret)
        imgsync__wipe_free(*dst);
    else
        free(*dst);
    *dst = copy;
    return 0;
}

int imgsync__group_set_net(imgsync__group *g, const imgsync__net *n)
{
    if (set_copy(&g->ca_dir, n->ca_dir, 0) || set_copy(&g->cert_file, n->cert_file, 0) ||
        set_copy(&g->key_file, n->key_file, 0) || set_copy(&g->proxy, n->proxy, 1))
        return IMGSYNC_ENOMEM;
    return 0;
}

void imgsync__group_hold(imgsync__group *g) { g->busy++; }

void imgsync__group_release(imgsync__group *g)
{
    if (--g->busy == 0 && g->doomed)
        group_destroy(g);
}

/* Take every request out of the group and out of its container first, then call the hooks:
 * a hook called for one of them may cancel again, submit or free the group, and finds
 * consistent lists; the loop uses nothing of the group once the hooks run but the hold that
 * keeps it allocated. A request being signed stays in the group: the signer delivers it with
 * this code once the sign hook returns. */
void imgsync__group_cancel(imgsync__group *g, int code)
{
    if (!g)
        return;
    imgsync__group_hold(g);
    imgsync__ereq *list = NULL, *next;
    for (imgsync__ereq *r = g->head; r; r = next) {
        next = r->gnext;
        if (r->state == IMGSYNC__RS_SIGNING) {
            r->cancel_code = code;
            continue;
        }
        if (r->internal)
            imgsync__map_remove(&g->token_reqs, r->token_key);
        imgsync__req_set_state(r, IMGSYNC__RS_DONE); /* out of its container and of the group */
        r->gnext = list;
        list = r;
    }
    void (*done)(void *, const imgsync__eresp *) = g->hooks.done;
    while (list) {
        imgsync__ereq *r = list;
        list = r->gnext;
        r->gnext = NULL;
        if (!r->internal) {
            imgsync__eresp_fail(&r->resp, code, 0, "canceled");
            r->e->delivered++;
            if (done)
                done(r->ud, &r->resp);
        }
        imgsync__req_free(r);
    }
    imgsync__group_release(g);
}

void imgsync__group_free(imgsync__group *g)
{
    if (!g || g->doomed)
        return; /* already being freed (a hook called during that): nothing more to do */
    g->doomed = 1; /* no more submissions */
    imgsync__group_cancel(g, IMGSYNC_ECANCELED); /* frees g unless a signer still holds it */
}

/* Is the proxy (any scheme, maybe with user:password) on this machine? */
static int proxy_is_local(const char *proxy)
{
    const char *auth = strstr(proxy, "://");
    auth = auth ? auth + 3 : proxy;
    size_t n = strcspn(auth, "/?#");
    const char *host = auth;
    for (const char *c = auth; c < auth + n; c++)
        if (*c == '@')
            host = c + 1;
    char *url = imgsync__asprintf("http://%.*s/", (int)(n - (size_t)(host - auth)), host);
    imgsync__url u;
    int local = url && !imgsync__url_parse(&u, url) && imgsync__url_is_loopback_host(u.host);
    if (local)
        imgsync__url_clear(&u);
    free(url);
    return local;
}

/* 0 when url is an absolute http(s) URL the group's plain-http rule allows; EINVAL, EINSECURE. */
static int scheme_allowed(const imgsync__group *g, const char *url)
{
    imgsync__url u;
    if (!url || imgsync__url_parse(&u, url))
        return IMGSYNC_EINVAL;
    /* loopback is local only without a proxy or through one on this machine: through another,
     * plain http crosses the network */
    int local = imgsync__url_is_loopback_host(u.host) && (!g->proxy || !*g->proxy || proxy_is_local(g->proxy));
    int ok = !strcmp(u.scheme, "https") || local || g->allow_http;
    imgsync__url_clear(&u);
    return ok ? 0 : IMGSYNC_EINSECURE;
}

int imgsync__group_allow_origin(imgsync__group *g, const char *url)
{
    int rc = scheme_allowed(g, url);
    if (rc)
        return rc;
    char *origin = imgsync__url_origin(url);
    char **arr = origin ? realloc(g->origins, (g->norigins + 1) * sizeof(*arr)) : NULL;
    if (!arr) {
        free(origin);
        return IMGSYNC_ENOMEM;
    }
    g->origins = arr;
    g->origins[g->norigins++] = origin;
    return 0;
}

int imgsync__group_check_url(const imgsync__group *g, const char *url, int credentialed)
{
    int rc = scheme_allowed(g, url);
    if (rc || !credentialed)
        return rc;
    char *origin = imgsync__url_origin(url);
    int allowed = 0;
    for (size_t i = 0; origin && i < g->norigins && !allowed; i++)
        allowed = !strcmp(g->origins[i], origin);
    free(origin);
    return allowed ? 0 : IMGSYNC_EINVAL;
}

int imgsync__group_submit(imgsync__group *g, const imgsync__ereq_spec *spec)
{
    if (!g || !spec || !spec->method || !spec->url)
        return IMGSYNC_EINVAL;
    if (g->doomed)
        return IMGSYNC_ECANCELED;
    int rc = imgsync__group_check_url(g, spec->url, spec->cred != IMGSYNC__CRED_NONE);
    if (rc)
        return rc;
    imgsync__ereq *r = imgsync__req_new(g, spec);
    if (!r)
        return IMGSYNC_ENOMEM;
    imgsync__req_set_state(r, IMGSYNC__RS_QUEUED);
    return 0;
}

size_t imgsync__group_pending(const imgsync__group *g) { return g ? g->nreqs : 0; }

void imgsync__group_redact(const imgsync__group *g, char *text)
{
    size_t pos = 0;
    imgsync__map_entry *me;
    while (g && text && (me = imgsync__map_next(&g->tokens, &pos)))
        imgsync__text_redact(text, ((const imgsync__token *)me->value)->value);
}
