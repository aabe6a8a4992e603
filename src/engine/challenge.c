/* WWW-Authenticate challenge parsing (RFC 7235 section 4.1). */
#include "challenge.h"

#include <stdlib.h>
#include <string.h>

#include "imgsync.h"
#include "util/buf.h"
#include "util/httpsyntax.h"

static int is_alnum(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* RFC 7235 token68 characters (before the trailing '=' padding). */
static int is_t68char(unsigned char c) { return is_alnum(c) || (c && strchr("-._~+/", c)); }

/* When a token68 (then OWS, then ',' or the end) starts at p, return the position after it. */
static const char *token68_end(const char *p)
{
    const char *q = p;
    while (is_t68char((unsigned char)*q))
        q++;
    if (q == p)
        return NULL;
    while (*q == '=')
        q++;
    imgsync__http_skip_ows(&q);
    return (*q == ',' || *q == '\0') ? q : NULL;
}

/* Slot for a parameter we keep, or NULL for the ones we ignore. */
static char **param_slot(imgsync__challenge *c, const char *name, size_t n)
{
    if (imgsync__http_ncaseeq(name, n, "realm"))
        return &c->realm;
    if (imgsync__http_ncaseeq(name, n, "service"))
        return &c->service;
    if (imgsync__http_ncaseeq(name, n, "scope"))
        return &c->scope;
    if (imgsync__http_ncaseeq(name, n, "error"))
        return &c->error;
    return NULL;
}

/* Parse `#auth-param` at *pp into c, stopping at the end or where the next challenge starts. */
static int parse_params(const char **pp, imgsync__challenge *c)
{
    const char *p = *pp;
    imgsync__buf val;
    imgsync__buf_init(&val);
    int first = 1;
    int rc = 0;
    for (;;) {
        const char *name = p;
        while (imgsync__http_is_tchar((unsigned char)*p))
            p++;
        size_t namen = (size_t)(p - name);
        if (namen == 0) {
            rc = IMGSYNC_EPROTOCOL;
            break;
        }
        const char *q = p;
        imgsync__http_skip_ows(&q);
        if (*q != '=') {
            if (first) {
                rc = IMGSYNC_EPROTOCOL; /* `Bearer foo bar` */
                break;
            }
            p = name; /* the next challenge's scheme */
            break;
        }
        p = q + 1;
        imgsync__http_skip_ows(&p);
        imgsync__buf_reset(&val);
        if (*p == '"') {
            if ((rc = imgsync__http_read_quoted(&p, &val)) != 0)
                break;
        } else {
            /* RFC says token; accept any visible run so an unquoted realm URL still works. */
            const char *v = p;
            while ((unsigned char)*p > 0x20 && *p != 0x7f && *p != ',' && *p != '"')
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
        char **slot = param_slot(c, name, namen);
        /* A parameter must occur once (RFC 7235 2.1); keep the first if a server repeats it. */
        if (slot && !*slot && !(*slot = imgsync__strdup(imgsync__buf_str(&val)))) {
            rc = IMGSYNC_ENOMEM;
            break;
        }
        first = 0;
        imgsync__http_skip_ows(&p);
        if (*p == '\0')
            break;
        if (*p != ',') {
            rc = IMGSYNC_EPROTOCOL;
            break;
        }
        while (*p == ',' || *p == ' ' || *p == '\t')
            p++; /* empty list elements are allowed */
        if (*p == '\0')
            break;
    }
    imgsync__buf_free(&val);
    *pp = p;
    return rc;
}

/*
 * Parse one challenge starting at its auth-scheme. Commas separate both parameters and
 * challenges, so after a comma a token followed by '=' is another parameter and anything else
 * starts the next challenge; *pp is left there (or at the end).
 */
static int parse_challenge(const char **pp, imgsync__challenge *c)
{
    const char *p = *pp;
    const char *scheme = p;
    while (imgsync__http_is_tchar((unsigned char)*p))
        p++;
    if (p == scheme)
        return IMGSYNC_EPROTOCOL;
    if (!(c->scheme = imgsync__strndup(scheme, (size_t)(p - scheme))))
        return IMGSYNC_ENOMEM;
    for (char *s = c->scheme; *s; s++)
        if (*s >= 'A' && *s <= 'Z')
            *s = (char)(*s - 'A' + 'a');

    if (*p == '\0' || *p == ',') {
        *pp = p; /* scheme without parameters */
        return 0;
    }
    if (*p != ' ' && *p != '\t')
        return IMGSYNC_EPROTOCOL; /* e.g. `Bearer"x"` or `Bearer=x` */
    imgsync__http_skip_ows(&p);
    const char *t68 = token68_end(p);
    if (t68) {
        *pp = t68; /* tolerated; a token68 carries nothing we use */
        return 0;
    }
    *pp = p;
    return (*p == '\0' || *p == ',') ? 0 : parse_params(pp, c);
}

int imgsync__challenge_parse(const char *value, imgsync__challenge *c)
{
    if (!c)
        return IMGSYNC_EINVAL;
    memset(c, 0, sizeof(*c));
    if (!value)
        return IMGSYNC_EPROTOCOL;

    const char *p = value;
    for (;;) {
        while (*p == ',' || *p == ' ' || *p == '\t')
            p++;
        if (*p == '\0')
            break;
        imgsync__challenge t;
        memset(&t, 0, sizeof(t));
        int rc = parse_challenge(&p, &t);
        if (rc) {
            imgsync__challenge_clear(&t);
            imgsync__challenge_clear(c);
            return rc;
        }
        /* Keep the first Bearer challenge, else the first one; still parse the rest so a
         * malformed value is rejected whatever the order. */
        if (!c->scheme || (strcmp(c->scheme, "bearer") != 0 && strcmp(t.scheme, "bearer") == 0)) {
            imgsync__challenge_clear(c);
            *c = t;
        } else {
            imgsync__challenge_clear(&t);
        }
    }
    return c->scheme ? 0 : IMGSYNC_EPROTOCOL;
}

void imgsync__challenge_clear(imgsync__challenge *c)
{
    if (!c)
        return;
    free(c->scheme);
    free(c->realm);
    free(c->service);
    free(c->scope);
    free(c->error);
    memset(c, 0, sizeof(*c));
}
