/* Redirects, followed by the engine itself so that it decides what goes to the new location:
 * on the same origin the request goes on unchanged; to another origin it goes on without
 * credentials and without the provider's headers (Accept excepted), and never to plain http
 * unless the group allows it (not even to loopback from https). A request with a body follows only 307/308 on its own origin. */
#include <stdlib.h>
#include <string.h>

#include "engine/internal.h"
#include "imgsync/errors.h"
#include "util/buf.h"
#include "util/url.h"

static int is_redirect(int st) { return st == 301 || st == 302 || st == 303 || st == 307 || st == 308; }

static void drop_bearer(imgsync__ereq *r)
{
    imgsync__wipe_free(r->bearer);
    r->bearer = NULL;
}

int imgsync__redirect_follow(imgsync__engine *e, imgsync__ereq *r)
{
    int st = r->resp.status;
    const char *loc = imgsync__eresp_header(&r->resp, "Location");
    if (r->resp.error || !is_redirect(st) || !loc || r->redirects >= IMGSYNC__MAX_REDIRECTS)
        return 0;
    const char *current = imgsync__req_current_url(r);
    char *target = imgsync__url_resolve(current, loc);
    if (!target)
        return 0;
    int same = imgsync__url_same_origin(target, current);
    if (r->body && (!same || (st != 307 && st != 308))) {
        free(target); /* a body (credentials, a query) is not sent anywhere it was not meant for */
        return 0;
    }
    /* loopback plain http is allowed where asked for on purpose, never as a downgrade from
     * https (a remote server sending the client to a local service) unless http is allowed */
    int downgrade = imgsync__url_is_https(current) && imgsync__url_is_http(target) && !r->g->allow_http;
    if (downgrade || imgsync__group_check_url(r->g, target, 0)) {
        free(target);
        imgsync__eresp_fail(&r->resp, IMGSYNC_EINSECURE, 0, "redirected to plain http");
        return 0;
    }
    imgsync__host *h = imgsync__host_get(e, target);
    if (!h) {
        free(target);
        return 0;
    }
    if (!same) {
        r->anonymous = 1;
        drop_bearer(r);
    }
    free(r->target);
    r->target = target;
    r->host = h;
    r->th = imgsync__throttle_of(r->g, h);
    r->redirects++;
    r->front = 1;
    imgsync__req_set_state(r, IMGSYNC__RS_QUEUED);
    return 1;
}
