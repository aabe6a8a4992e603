/* URL parsing, RFC 3986 reference resolution and escaping. */
#include "url.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "imgsync.h"
#include "util/buf.h"

/* A piece of a URI string; `present` distinguishes "absent" from "empty" (RFC 3986 5.2). */
typedef struct span {
    const char *p;
    size_t n;
    int present;
} span;

/* The components of a URI reference as written (the fragment is ignored). */
typedef struct uri_parts {
    span scheme, authority, path, query;
} uri_parts;

static int is_alpha(unsigned char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }
static int is_digit(unsigned char c) { return c >= '0' && c <= '9'; }
static char lower(char c) { return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c; }

/* Spaces and control characters never belong in a URL; rejecting them up front keeps header
 * injection and whitespace smuggling out of everything built from it. */
static int has_bad_byte(const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c <= 0x20 || c == 0x7f)
            return 1;
    }
    return 0;
}

static int span_caseeq(span s, const char *lit)
{
    size_t n = strlen(lit);
    if (s.n != n)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (lower(s.p[i]) != lit[i])
            return 0;
    return 1;
}

/* Split a URI reference into its components (RFC 3986 appendix B, without a regex). */
static void split_ref(const char *s, uri_parts *r)
{
    memset(r, 0, sizeof(*r));
    if (is_alpha((unsigned char)s[0])) {
        size_t i = 1;
        while (is_alpha((unsigned char)s[i]) || is_digit((unsigned char)s[i]) || s[i] == '+' ||
               s[i] == '-' || s[i] == '.')
            i++;
        if (s[i] == ':') {
            r->scheme = (span){s, i, 1};
            s += i + 1;
        }
    }
    if (s[0] == '/' && s[1] == '/') {
        s += 2;
        size_t n = strcspn(s, "/?#");
        r->authority = (span){s, n, 1};
        s += n;
    }
    size_t n = strcspn(s, "?#");
    r->path = (span){s, n, 1};
    s += n;
    if (*s == '?') {
        s++;
        n = strcspn(s, "#");
        r->query = (span){s, n, 1};
    }
}

static char *dup_lower(const char *s, size_t n)
{
    char *p = imgsync__strndup(s, n);
    if (p)
        for (size_t i = 0; i < n; i++)
            p[i] = lower(p[i]);
    return p;
}

/* Host name characters: unreserved only. No percent-escapes or sub-delims, so a host can never
 * smuggle '@', '\\' or anything a later parser might read differently. */
static int is_host_char(unsigned char c)
{
    return is_alpha(c) || is_digit(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

/* Decimal port 1..65535, digits only (leading zeros allowed). -1 when invalid. */
static int parse_port(const char *s, size_t n)
{
    if (n == 0)
        return -1;
    long v = 0;
    for (size_t i = 0; i < n; i++) {
        if (!is_digit((unsigned char)s[i]))
            return -1;
        v = v * 10 + (s[i] - '0');
        if (v > 65535)
            return -1;
    }
    return v >= 1 ? (int)v : -1;
}

/* Fill u->host and u->port from an authority; 0, IMGSYNC_EINVAL or IMGSYNC_ENOMEM. */
static int parse_authority(imgsync__url *u, span a)
{
    const char *host;
    size_t hostn;
    const char *rest; /* after the host: "" or ":port" */
    const char *end = a.p + a.n;

    if (memchr(a.p, '@', a.n))
        return IMGSYNC_EINVAL; /* userinfo: credentials never travel in URLs */
    if (a.n > 0 && a.p[0] == '[') {
        const char *close = memchr(a.p, ']', a.n);
        if (!close)
            return IMGSYNC_EINVAL;
        host = a.p + 1;
        hostn = (size_t)(close - host);
        rest = close + 1;
        char tmp[64];
        struct in6_addr addr;
        if (hostn == 0 || hostn >= sizeof(tmp))
            return IMGSYNC_EINVAL;
        memcpy(tmp, host, hostn);
        tmp[hostn] = '\0';
        if (inet_pton(AF_INET6, tmp, &addr) != 1)
            return IMGSYNC_EINVAL; /* also rejects zone ids and IPvFuture */
    } else {
        const char *colon = memchr(a.p, ':', a.n);
        host = a.p;
        hostn = colon ? (size_t)(colon - a.p) : a.n;
        rest = a.p + hostn;
        if (hostn == 0)
            return IMGSYNC_EINVAL;
        for (size_t i = 0; i < hostn; i++)
            if (!is_host_char((unsigned char)host[i]))
                return IMGSYNC_EINVAL;
    }
    if (rest < end) {
        if (*rest != ':')
            return IMGSYNC_EINVAL;
        u->port = parse_port(rest + 1, (size_t)(end - rest - 1));
        if (u->port < 0)
            return IMGSYNC_EINVAL;
    }
    u->host = dup_lower(host, hostn);
    return u->host ? 0 : IMGSYNC_ENOMEM;
}

int imgsync__url_parse(imgsync__url *u, const char *s)
{
    if (!u)
        return IMGSYNC_EINVAL;
    memset(u, 0, sizeof(*u));
    u->port = -1;
    if (!s || has_bad_byte(s))
        return IMGSYNC_EINVAL;

    uri_parts r;
    split_ref(s, &r);
    if (!r.scheme.present || !(span_caseeq(r.scheme, "http") || span_caseeq(r.scheme, "https")))
        return IMGSYNC_EINVAL;
    if (!r.authority.present)
        return IMGSYNC_EINVAL;

    int rc = parse_authority(u, r.authority);
    if (rc == 0) {
        u->scheme = dup_lower(r.scheme.p, r.scheme.n);
        u->path = r.path.n ? imgsync__strndup(r.path.p, r.path.n) : imgsync__strdup("/");
        if (r.query.present)
            u->query = imgsync__strndup(r.query.p, r.query.n);
        if (!u->scheme || !u->path || (r.query.present && !u->query))
            rc = IMGSYNC_ENOMEM;
    }
    if (rc)
        imgsync__url_clear(u);
    return rc;
}

void imgsync__url_clear(imgsync__url *u)
{
    if (!u)
        return;
    free(u->scheme);
    free(u->host);
    free(u->path);
    free(u->query);
    memset(u, 0, sizeof(*u));
    u->port = -1;
}

int imgsync__url_effective_port(const imgsync__url *u)
{
    if (!u || !u->scheme)
        return -1;
    if (u->port > 0)
        return u->port;
    if (strcmp(u->scheme, "https") == 0)
        return 443;
    if (strcmp(u->scheme, "http") == 0)
        return 80;
    return -1;
}

/* RFC 3986 5.2.4. The output is never longer than the input, so one allocation suffices. */
static char *remove_dot_segments(const char *path, size_t n)
{
    char *in = imgsync__strndup(path, n);
    char *out = malloc(n + 1);
    if (!in || !out) {
        free(in);
        free(out);
        return NULL;
    }
    size_t ol = 0;
    char *p = in;
    while (*p) {
        int pop = 0;
        if (strncmp(p, "../", 3) == 0) {
            p += 3;
        } else if (strncmp(p, "./", 2) == 0) {
            p += 2;
        } else if (strncmp(p, "/./", 3) == 0) {
            p += 2;
        } else if (strcmp(p, "/.") == 0) {
            p += 1; /* "/." -> "/": reuse the '.' slot for the '/' */
            *p = '/';
        } else if (strncmp(p, "/../", 4) == 0) {
            p += 3;
            pop = 1;
        } else if (strcmp(p, "/..") == 0) {
            p += 2;
            *p = '/';
            pop = 1;
        } else if (strcmp(p, ".") == 0 || strcmp(p, "..") == 0) {
            p += strlen(p);
        } else {
            /* Move the first segment (with its leading '/', if any) to the output. */
            size_t i = (*p == '/') ? 1 : 0;
            while (p[i] && p[i] != '/')
                i++;
            memcpy(out + ol, p, i);
            ol += i;
            p += i;
        }
        if (pop) {
            /* Drop the last output segment and the '/' before it. */
            while (ol > 0 && out[ol - 1] != '/')
                ol--;
            if (ol > 0)
                ol--;
        }
    }
    out[ol] = '\0';
    free(in);
    return out;
}

static void append_span(imgsync__buf *b, span s) { imgsync__buf_append(b, s.p, s.n); }

/* Append remove_dot_segments(path) to b. */
static void append_clean_path(imgsync__buf *b, const char *path, size_t n)
{
    char *clean = remove_dot_segments(path, n);
    if (!clean) {
        b->oom = 1;
        return;
    }
    imgsync__buf_appends(b, clean);
    free(clean);
}

char *imgsync__url_resolve(const char *base, const char *ref)
{
    if (!base || !ref || has_bad_byte(ref))
        return NULL;
    imgsync__url check;
    if (imgsync__url_parse(&check, base))
        return NULL;
    imgsync__url_clear(&check);

    uri_parts b, r;
    split_ref(base, &b);
    split_ref(ref, &r);

    /* RFC 3986 5.2.2 (strict: a scheme in the reference always makes it absolute). */
    span scheme = r.scheme.present ? r.scheme : b.scheme;
    span authority, query;
    imgsync__buf path;
    imgsync__buf_init(&path);
    if (r.scheme.present || r.authority.present) {
        authority = r.authority;
        append_clean_path(&path, r.path.p, r.path.n);
        query = r.query;
    } else {
        authority = b.authority;
        if (r.path.n == 0) {
            imgsync__buf_append(&path, b.path.p, b.path.n);
            query = r.query.present ? r.query : b.query;
        } else {
            if (r.path.p[0] == '/') {
                append_clean_path(&path, r.path.p, r.path.n);
            } else {
                /* Merge (5.2.3): base path up to its last '/', then the reference. */
                imgsync__buf merged;
                imgsync__buf_init(&merged);
                if (b.authority.present && b.path.n == 0) {
                    imgsync__buf_appendc(&merged, '/');
                } else {
                    size_t keep = b.path.n;
                    while (keep > 0 && b.path.p[keep - 1] != '/')
                        keep--;
                    imgsync__buf_append(&merged, b.path.p, keep);
                }
                imgsync__buf_append(&merged, r.path.p, r.path.n);
                if (merged.oom)
                    path.oom = 1;
                else
                    append_clean_path(&path, merged.data, merged.len);
                imgsync__buf_free(&merged);
            }
            query = r.query;
        }
    }

    imgsync__buf out;
    imgsync__buf_init(&out);
    append_span(&out, scheme);
    imgsync__buf_appendc(&out, ':');
    if (authority.present) {
        imgsync__buf_appends(&out, "//");
        append_span(&out, authority);
    }
    if (path.oom)
        out.oom = 1;
    else
        imgsync__buf_appends(&out, imgsync__buf_str(&path));
    if (query.present) {
        imgsync__buf_appendc(&out, '?');
        append_span(&out, query);
    }
    imgsync__buf_free(&path);

    char *result = imgsync__buf_steal(&out);
    /* The target must itself be a valid absolute http(s) URL (no userinfo, sane host/port). */
    if (result && imgsync__url_parse(&check, result) != 0) {
        free(result);
        return NULL;
    }
    imgsync__url_clear(&check);
    return result;
}

int imgsync__url_same_origin(const char *a, const char *b)
{
    imgsync__url ua, ub;
    if (imgsync__url_parse(&ua, a))
        return 0;
    if (imgsync__url_parse(&ub, b)) {
        imgsync__url_clear(&ua);
        return 0;
    }
    int same = strcmp(ua.scheme, ub.scheme) == 0 && strcmp(ua.host, ub.host) == 0 &&
               imgsync__url_effective_port(&ua) == imgsync__url_effective_port(&ub);
    imgsync__url_clear(&ua);
    imgsync__url_clear(&ub);
    return same;
}

char *imgsync__url_origin(const char *url)
{
    imgsync__url u;
    if (imgsync__url_parse(&u, url))
        return NULL;
    int v6 = strchr(u.host, ':') != NULL;
    char port[16];
    snprintf(port, sizeof(port), "%d", imgsync__url_effective_port(&u));
    char *o = imgsync__strjoin(u.scheme, "://", v6 ? "[" : "", u.host, v6 ? "]:" : ":", port, (char *)NULL);
    imgsync__url_clear(&u);
    return o;
}

char *imgsync__url_hostport(const char *url)
{
    imgsync__url u;
    if (imgsync__url_parse(&u, url))
        return NULL;
    int v6 = strchr(u.host, ':') != NULL;
    imgsync__buf b;
    imgsync__buf_init(&b);
    if (v6)
        imgsync__buf_printf(&b, "[%s]", u.host);
    else
        imgsync__buf_appends(&b, u.host);
    if (u.port > 0)
        imgsync__buf_printf(&b, ":%d", u.port);
    imgsync__url_clear(&u);
    return imgsync__buf_steal(&b);
}

int imgsync__url_is_loopback_host(const char *host)
{
    if (!host || !*host)
        return 0;
    size_t n = strlen(host);
    if (n > 0 && host[n - 1] == '.')
        n--; /* "localhost." is the same name */
    static const char lh[] = "localhost";
    const size_t lhn = sizeof(lh) - 1;
    if (n >= lhn) {
        const char *tail = host + n - lhn;
        size_t i = 0;
        while (i < lhn && lower(tail[i]) == lh[i])
            i++;
        /* "localhost" itself or any "*.localhost" (RFC 6761 6.3). */
        if (i == lhn && (n == lhn || tail[-1] == '.'))
            return 1;
    }

    char tmp[64];
    n = strlen(host);
    if (n >= 2 && host[0] == '[' && host[n - 1] == ']') {
        host++;
        n -= 2;
    }
    if (n >= sizeof(tmp))
        return 0;
    memcpy(tmp, host, n);
    tmp[n] = '\0';
    struct in_addr a4;
    struct in6_addr a6;
    if (inet_pton(AF_INET, tmp, &a4) == 1)
        return ((const unsigned char *)&a4.s_addr)[0] == 127;
    if (inet_pton(AF_INET6, tmp, &a6) == 1) {
        if (IN6_IS_ADDR_LOOPBACK(&a6))
            return 1;
        /* ::ffff:127.x.y.z is an IPv4 loopback address in IPv6 clothing. */
        return IN6_IS_ADDR_V4MAPPED(&a6) && a6.s6_addr[12] == 127;
    }
    return 0;
}

char *imgsync__url_escape(const char *s, const char *keep)
{
    static const char hex[] = "0123456789ABCDEF";
    if (!s)
        return NULL;
    imgsync__buf b;
    imgsync__buf_init(&b);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (is_alpha(c) || is_digit(c) || c == '-' || c == '.' || c == '_' || c == '~' ||
            (keep && strchr(keep, c))) {
            imgsync__buf_appendc(&b, (char)c);
        } else {
            char e[3] = {'%', hex[c >> 4], hex[c & 15]};
            imgsync__buf_append(&b, e, 3);
        }
    }
    return imgsync__buf_steal(&b);
}

char *imgsync__url_escape_segment(const char *s)
{
    if (s && (!strcmp(s, ".") || !strcmp(s, "..")))
        return imgsync__strdup(s[1] ? "%2E%2E" : "%2E");
    return imgsync__url_escape(s, NULL);
}

int imgsync__url_is_http(const char *url) { return url && !strncasecmp(url, "http:", 5); }

int imgsync__url_is_https(const char *url) { return url && !strncasecmp(url, "https:", 6); }

/* ---- URLs for logs -------------------------------------------------------------------------- */

/* Query parameters whose values say what is listed, never who asks: kept in logs. */
static const char *const listing_params[] = {
    "n", "last", "page", "page_size", "limit", "offset", "marker", "service", "scope", "with_tag",
    "with_detail", "name", "namespace", "filter", "q", "sort", "order_column", "order_type", "center",
    NULL};

static int is_listing_param(const char *name, size_t n)
{
    for (size_t i = 0; listing_params[i]; i++)
        if (strlen(listing_params[i]) == n && !strncmp(listing_params[i], name, n))
            return 1;
    return 0;
}

/* Append the query q (without '?') with the values of other parameters replaced; '&' and ';'
 * both separate parameters (many servers take either). */
static void append_log_query(imgsync__buf *b, const char *q)
{
    while (*q) {
        size_t len = strcspn(q, "&;");
        const char *eq = memchr(q, '=', len);
        size_t name = eq ? (size_t)(eq - q) : len;
        if (!eq || is_listing_param(q, name))
            imgsync__buf_append(b, q, len);
        else
            imgsync__buf_printf(b, "%.*s=***", (int)name, q);
        q += len;
        if (*q)
            imgsync__buf_appendc(b, *q++);
    }
}

/* Append the path p (n bytes) with the values of its parameters (";jsessionid=..." of servlet
 * containers: a session id is a credential) replaced. */
static void append_log_path(imgsync__buf *b, const char *p, size_t n)
{
    const char *end = p + n;
    while (p < end) {
        const char *semi = memchr(p, ';', (size_t)(end - p));
        if (!semi) {
            imgsync__buf_append(b, p, (size_t)(end - p));
            return;
        }
        imgsync__buf_append(b, p, (size_t)(semi - p) + 1);
        const char *param = semi + 1, *stop = param;
        while (stop < end && *stop != '/' && *stop != ';')
            stop++;
        const char *eq = memchr(param, '=', (size_t)(stop - param));
        if (eq)
            imgsync__buf_append(b, param, (size_t)(eq - param) + 1);
        imgsync__buf_appends(b, "***");
        p = stop;
    }
}

char *imgsync__url_for_log(const char *url)
{
    imgsync__buf b;
    imgsync__buf_init(&b);
    const char *s = url ? url : "";
    const char *auth = strstr(s, "://");
    auth = auth ? auth + 3 : s;
    const char *auth_end = auth + strcspn(auth, "/?#");
    const char *at = NULL; /* the last '@' of the authority ends the userinfo */
    for (const char *p = auth; p < auth_end; p++)
        if (*p == '@')
            at = p;
    imgsync__buf_append(&b, s, (size_t)(auth - s));
    const char *rest = at ? at + 1 : auth;
    size_t path = strcspn(rest, "?#");
    append_log_path(&b, rest, path);
    if (rest[path] == '?') {
        char *q = imgsync__strndup(rest + path + 1, strcspn(rest + path + 1, "#"));
        imgsync__buf_appends(&b, "?");
        if (q)
            append_log_query(&b, q);
        free(q);
    }
    return imgsync__buf_steal(&b);
}
