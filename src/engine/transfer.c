/* Attempts: build the request exactly as it goes on the wire (every header listed, so that a
 * signature covers what is sent), add credentials, let the group sign it, hand it to the
 * transport. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "engine/internal.h"
#include "imgsync/errors.h"
#include "util/base64.h"
#include "util/buf.h"
#include "util/url.h"

int imgsync__wire_put(imgsync__wire *w, const char *name, const char *value);

/* Split a provider's "Name: value" and append it; Host and Content-Length are the engine's
 * (refused as for the sign hook). */
static int put_line(imgsync__wire *w, const char *line)
{
    const char *colon = strchr(line, ':');
    if (!colon)
        return IMGSYNC_EINVAL;
    char *name = imgsync__strndup(line, (size_t)(colon - line));
    const char *v = colon + 1;
    while (*v == ' ' || *v == '\t')
        v++;
    int rc = name ? imgsync__wire_add_header(w, name, v) : IMGSYNC_ENOMEM;
    free(name);
    return rc;
}

static int has_line(const imgsync__ereq *r, const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 0; i < r->nlines; i++)
        if (!strncasecmp(r->lines[i], name, n) && r->lines[i][n] == ':')
            return 1;
    return 0;
}

/* Host, User-Agent, the provider's headers (only Accept across origins), defaults. */
static int put_headers(imgsync__engine *e, imgsync__ereq *r, imgsync__wire *w)
{
    char *host = imgsync__url_hostport(w->url);
    int rc = host ? imgsync__wire_put(w, "Host", host) : IMGSYNC_ENOMEM;
    free(host);
    if (!rc)
        rc = imgsync__wire_put(w, "User-Agent", e->o.user_agent);
    for (size_t i = 0; !rc && i < r->nlines; i++)
        if (!r->anonymous || !strncasecmp(r->lines[i], "Accept:", 7))
            rc = put_line(w, r->lines[i]);
    if (!rc && !has_line(r, "Accept"))
        rc = imgsync__wire_put(w, "Accept", "*/*");
    /* a header the provider set is not listed twice (a signature would cover both) */
    if (!rc && !imgsync__wire_header(w, "Accept-Encoding"))
        rc = imgsync__wire_put(w, "Accept-Encoding", "gzip, deflate");
    if (!rc && r->body && r->content_type && !imgsync__wire_header(w, "Content-Type"))
        rc = imgsync__wire_put(w, "Content-Type", r->content_type);
    /* the transport sends a body, and curl its Content-Length, exactly where one is listed */
    int sends_body = r->body || !strcmp(r->method, "POST") || !strcmp(r->method, "PUT");
    if (!rc && sends_body) {
        char len[32];
        snprintf(len, sizeof(len), "%zu", r->body_len);
        rc = imgsync__wire_put(w, "Content-Length", len);
    }
    return rc;
}

static int put_basic(imgsync__wire *w, const imgsync__group *g)
{
    char *pair = imgsync__asprintf("%s:%s", g->username, g->password ? g->password : "");
    char *b64 = pair ? imgsync__base64(pair, strlen(pair)) : NULL;
    char *value = b64 ? imgsync__asprintf("Basic %s", b64) : NULL;
    int rc = value ? imgsync__wire_put(w, "Authorization", value) : IMGSYNC_ENOMEM;
    imgsync__wipe_free(pair);
    imgsync__wipe_free(b64);
    imgsync__wipe_free(value);
    return rc;
}

static int put_bearer(imgsync__wire *w, const char *token)
{
    char *value = imgsync__asprintf("Bearer %s", token);
    int rc = value ? imgsync__wire_put(w, "Authorization", value) : IMGSYNC_ENOMEM;
    imgsync__wipe_free(value);
    return rc;
}

static int put_credentials(imgsync__ereq *r, imgsync__wire *w)
{
    const imgsync__group *g = r->g;
    if (r->anonymous || r->cred == IMGSYNC__CRED_NONE || r->cred == IMGSYNC__CRED_PROVIDER)
        return 0;
    int challenged = r->cred == IMGSYNC__CRED_REGISTRY || r->cred == IMGSYNC__CRED_BEARER;
    if (challenged && !r->internal) {
        if (!r->bearer)
            imgsync__bearer_attach_cached(r);
        if (r->bearer)
            return put_bearer(w, r->bearer);
    }
    /* the access token goes first as it is, and also to the realm for a registry token */
    if (r->cred == IMGSYNC__CRED_BEARER)
        return g->token ? put_bearer(w, g->token) : 0;
    return g->username ? put_basic(w, g) : 0;
}

static void prepare_wire(imgsync__engine *e, imgsync__ereq *r)
{
    imgsync__wire *w = &r->wire;
    imgsync__wire_reset(w);
    w->method = r->method;
    w->url = imgsync__req_current_url(r);
    w->body = r->body;
    w->body_len = r->body_len;
    w->attempt = ++r->attempts;
    w->ca_file = r->g->ca_file;
    w->ca_dir = r->g->ca_dir;
    w->cert_file = r->g->cert_file;
    w->key_file = r->g->key_file;
    w->proxy = r->g->proxy;
    w->insecure = r->g->insecure;
    w->timeout_ms = e->o.request_timeout_ms;
    w->connect_timeout_ms = e->o.connect_timeout_ms;
    w->low_speed_bytes = e->o.low_speed_bytes;
    w->low_speed_time_ms = e->o.low_speed_time_ms;
    /* the group's cap, else the engine's; token bodies are small whatever the cap */
    size_t cap = r->g->max_response_bytes ? r->g->max_response_bytes : e->o.max_response_bytes;
    w->max_body = r->internal ? (1u << 20) : cap;
    w->ud = r->ud;
    imgsync__eresp_reset(&r->resp);
    r->resp.request_url = r->url;
    r->resp.max_body = w->max_body;
    r->resp.body.secret = r->internal; /* a token: wiped when the response is freed */
}

/* Let the group sign the attempt. 0, or the request was delivered (1). */
static int sign(imgsync__ereq *r)
{
    imgsync__group *g = r->g;
    if (r->anonymous || r->internal || r->cred == IMGSYNC__CRED_NONE || !g->hooks.sign)
        return 0;
    imgsync__req_set_state(r, IMGSYNC__RS_SIGNING);
    imgsync__group_hold(g); /* the hook may free the group: it stays until r is delivered */
    int rc = g->hooks.sign(r->ud, &r->wire);
    if (r->cancel_code) /* the hook canceled or freed the group (failed its run) */
        rc = r->cancel_code;
    if (rc)
        imgsync__req_fail(r, rc, rc == IMGSYNC_ECANCELED ? "canceled" : "the request could not be signed");
    imgsync__group_release(g);
    return rc ? 1 : 0;
}

int imgsync__attempt_start(imgsync__engine *e, imgsync__ereq *r)
{
    if (r->first_ms < 0)
        r->first_ms = imgsync__engine_mono(e);
    prepare_wire(e, r);
    int rc = put_headers(e, r, &r->wire);
    if (!rc)
        rc = put_credentials(r, &r->wire);
    if (rc) {
        imgsync__req_fail(r, rc, rc == IMGSYNC_ENOMEM ? "out of memory" : "invalid request header");
        return 1;
    }
    if (sign(r))
        return 1;
    r->xfer.wire = &r->wire;
    r->xfer.resp = &r->resp;
    r->xfer.owner = r;
    r->xfer.tp = NULL;
    imgsync__req_set_state(r, IMGSYNC__RS_SENDING);
    rc = e->t->ops->start(e->t, &r->xfer);
    if (rc) {
        imgsync__req_fail(r, rc, "the transfer could not start");
        return 1;
    }
    r->xfer_open = 1;
    if (r->g->hooks.event)
        r->g->hooks.event(r->g->ud, IMGSYNC__EV_SENT);
    return 0;
}
