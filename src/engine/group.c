/* Groups: the requests of one run, with their policy (credentials, allowed origins, TLS, plain
 * http), hooks and token cache; cancellation. */
#include <stdlib.h>
#include <string.h>

#include "engine/internal.h"
#include "imgsync/errors.h"
#include "util/buf.h"
#include "util/text.h"
#include "util/url.h"

static void wipe_free(char *s)
{
    if (s) {
        memset(s, 0, strlen(s));
        free(s);
    }
}

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
    imgsync__map_init(&g->tokens);
    imgsync__map_init(&g->token_reqs);
    imgsync__map_init(&g->realms);
    int oom = (p->username && !(g->username = imgsync__strdup(p->username))) ||
              (p->password && !(g->password = imgsync__strdup(p->password))) ||
              (p->ca_file && !(g->ca_file = imgsync__strdup(p->ca_file)));
    if (oom) {
        wipe_free(g->username);
        wipe_free(g->password);
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

/* Take every request out of its container first, then deliver them: a hook called for one of
 * them may cancel again or submit, and finds consistent lists. A request being signed is
 * delivered by the signer once the hook returns. */
void imgsync__group_cancel(imgsync__group *g, int code)
{
    if (!g)
        return;
    imgsync__ereq *list = g->head, *keep = NULL;
    g->head = NULL;
    for (imgsync__ereq *r = list; r; r = r->gnext)
        if (r->state != IMGSYNC__RS_SIGNING)
            imgsync__req_set_state(r, IMGSYNC__RS_NEW); /* out of its container, still in no list */
    while (list) {
        imgsync__ereq *r = list;
        list = r->gnext;
        r->gprev = r->gnext = NULL;
        if (r->state == IMGSYNC__RS_SIGNING) {
            r->cancel_code = code;
            r->gnext = keep;
            keep = r;
            continue;
        }
        g->nreqs--;
        r->g = NULL;
        if (r->internal) {
            imgsync__map_remove(&g->token_reqs, r->token_key);
            imgsync__req_free(r);
            continue;
        }
        imgsync__eresp_fail(&r->resp, code, 0, "canceled");
        r->e->delivered++;
        if (g->hooks.done)
            g->hooks.done(r->ud, &r->resp);
        imgsync__req_free(r);
    }
    while (keep) { /* back into the group: the signer delivers them */
        imgsync__ereq *r = keep;
        keep = r->gnext;
        r->gnext = g->head;
        if (g->head)
            g->head->gprev = r;
        g->head = r;
    }
}

void imgsync__group_free(imgsync__group *g)
{
    if (!g)
        return;
    imgsync__group_cancel(g, IMGSYNC_ECANCELED);
    imgsync__engine *e = g->e;
    if (g->prev)
        g->prev->next = g->next;
    else
        e->groups = g->next;
    if (g->next)
        g->next->prev = g->prev;
    imgsync__bearer_forget(g);
    for (size_t i = 0; i < g->norigins; i++)
        free(g->origins[i]);
    free(g->origins);
    wipe_free(g->username);
    wipe_free(g->password);
    free(g->ca_file);
    free(g);
}

/* 0 when url is an absolute http(s) URL the group's plain-http rule allows; EINVAL, EINSECURE. */
static int scheme_allowed(const imgsync__group *g, const char *url)
{
    imgsync__url u;
    if (!url || imgsync__url_parse(&u, url))
        return IMGSYNC_EINVAL;
    int ok = !strcmp(u.scheme, "https") || imgsync__url_is_loopback_host(u.host) || g->allow_http;
    imgsync__url_clear(&u);
    return ok ? 0 : IMGSYNC_EINSECURE;
}

int imgsync__group_allow_origin(imgsync__group *g, const char *url)
{
    int rc = scheme_allowed(g, url);
    if (rc)
        return rc;
    char *origin = imgsync__origin_of(url);
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
    char *origin = imgsync__origin_of(url);
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
