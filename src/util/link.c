/* RFC 8288 Link header parsing. */
#include "link.h"

#include <stdlib.h>
#include <string.h>

#include "imgsync.h"
#include "util/buf.h"
#include "util/httpsyntax.h"
#include "util/url.h"

/* 1 when the space-separated relation list `v` holds `rel` (ASCII case-insensitive). */
static int rel_list_has(const char *v, size_t n, const char *rel)
{
    size_t i = 0;
    while (i < n) {
        while (i < n && (v[i] == ' ' || v[i] == '\t'))
            i++;
        size_t start = i;
        while (i < n && v[i] != ' ' && v[i] != '\t')
            i++;
        if (i > start && imgsync__http_ncaseeq(v + start, i - start, rel))
            return 1;
    }
    return 0;
}

/*
 * Parse the parameters after a link's '>' up to the ',' that ends the link (or the end):
 * *( OWS ";" OWS token [ BWS "=" BWS ( token / quoted-string ) ] ). *match is set when the
 * first rel parameter lists `rel` (RFC 8288 3.3: later rel parameters are ignored).
 */
static int parse_params(const char **pp, const char *rel, int *match)
{
    const char *p = *pp;
    int rel_seen = 0;
    int rc = 0;
    imgsync__buf val;
    imgsync__buf_init(&val);
    *match = 0;
    for (;;) {
        imgsync__http_skip_ows(&p);
        if (*p != ';')
            break;
        p++;
        imgsync__http_skip_ows(&p);
        const char *name = p;
        while (imgsync__http_is_tchar((unsigned char)*p))
            p++;
        size_t namen = (size_t)(p - name);
        if (namen == 0) {
            rc = IMGSYNC_EPROTOCOL;
            break;
        }
        imgsync__http_skip_ows(&p);
        imgsync__buf_reset(&val);
        int has_value = 0;
        if (*p == '=') {
            p++;
            imgsync__http_skip_ows(&p);
            if (*p == '"') {
                if ((rc = imgsync__http_read_quoted(&p, &val)) != 0)
                    break;
            } else {
                /* Unquoted: be lenient beyond tchar, but stop at delimiters. */
                const char *v = p;
                while ((unsigned char)*p > 0x20 && *p != 0x7f && *p != ',' && *p != ';' && *p != '"')
                    p++;
                if (p == v) {
                    rc = IMGSYNC_EPROTOCOL;
                    break;
                }
                if (imgsync__buf_append(&val, v, (size_t)(p - v))) {
                    rc = IMGSYNC_ENOMEM;
                    break;
                }
            }
            has_value = 1;
        }
        if (!rel_seen && imgsync__http_ncaseeq(name, namen, "rel")) {
            rel_seen = 1;
            *match = has_value && rel_list_has(imgsync__buf_str(&val), val.len, rel);
        }
    }
    imgsync__buf_free(&val);
    if (rc == 0 && *p != '\0' && *p != ',')
        rc = IMGSYNC_EPROTOCOL; /* junk after the link */
    *pp = p;
    return rc;
}

int imgsync__link_find(const char *header, const char *rel, char **out)
{
    if (!out)
        return IMGSYNC_EINVAL;
    *out = NULL;
    if (!rel || !*rel)
        return IMGSYNC_EINVAL;
    if (!header)
        return 0; /* no Link header: no such link */

    const char *found = NULL;
    size_t found_n = 0;
    const char *p = header;
    /* The whole value is checked even after a match, so a malformed header is rejected the same
     * way whatever order its links come in. */
    for (;;) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++; /* empty list elements are allowed (RFC 7230 7) */
        if (*p == '\0')
            break;
        if (*p != '<')
            return IMGSYNC_EPROTOCOL;
        const char *uri = p + 1;
        const char *gt = strchr(uri, '>');
        if (!gt)
            return IMGSYNC_EPROTOCOL;
        p = gt + 1;
        int match = 0;
        int rc = parse_params(&p, rel, &match);
        if (rc)
            return rc;
        if (match && !found) {
            found = uri;
            found_n = (size_t)(gt - uri);
        }
    }
    if (found && !(*out = imgsync__strndup(found, found_n)))
        return IMGSYNC_ENOMEM;
    return 0;
}

int imgsync__link_next(const char *header, const char *request_url, char **out)
{
    if (!out)
        return IMGSYNC_EINVAL;
    *out = NULL;
    imgsync__url req;
    if (imgsync__url_parse(&req, request_url))
        return IMGSYNC_EINVAL; /* the caller's own URL: not the server's fault */
    imgsync__url_clear(&req);

    char *raw = NULL;
    int rc = imgsync__link_find(header, "next", &raw);
    if (rc || !raw)
        return rc;
    /* Harbor writes the query of its links unescaped (spaces, quotes, braces): encode what may
     * not appear in a URL, keeping existing %XX escapes, as Harbor's own client re-encodes it. */
    for (const char *p = raw; *p; p++) {
        if ((unsigned char)*p < 0x20 || *p == 0x7f) { /* never valid, never repaired */
            free(raw);
            return IMGSYNC_EPROTOCOL;
        }
    }
    char *ref = imgsync__url_escape(raw, "%:/?#[]@!$&'()*+,;=");
    free(raw);
    if (!ref)
        return IMGSYNC_ENOMEM;
    /* NULL here means the reference does not resolve to a valid http(s) URL (or, rarely, OOM). */
    char *target = imgsync__url_resolve(request_url, ref);
    free(ref);
    if (!target)
        return IMGSYNC_EPROTOCOL;
    /* Credentials are sent to the next page: it must stay on the same origin. */
    if (!imgsync__url_same_origin(request_url, target)) {
        free(target);
        return IMGSYNC_EPROTOCOL;
    }
    *out = target;
    return 0;
}
