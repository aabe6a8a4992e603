/* URL parsing, resolution and escaping (internal). */
#ifndef IMGSYNC_UTIL_URL_H
#define IMGSYNC_UTIL_URL_H

/* Parts of an absolute http(s) URL. All strings malloc'd; `port` is -1 when not given. */
typedef struct imgsync__url {
    char *scheme; /* lower-cased "http" or "https" */
    char *host;   /* lower-cased; IPv6 without brackets */
    int port;
    char *path;   /* as written, "/" when empty */
    char *query;  /* without '?', NULL when absent */
} imgsync__url;

/* Parse an absolute http/https URL (userinfo is rejected: credentials never go in URLs; a
 * fragment is dropped). 0, IMGSYNC_EINVAL, IMGSYNC_ENOMEM. On error *u is left cleared. */
int imgsync__url_parse(imgsync__url *u, const char *s);
void imgsync__url_clear(imgsync__url *u);
/* Port in effect: the explicit one, else 80/443. */
int imgsync__url_effective_port(const imgsync__url *u);
/* Resolve a URI reference (absolute, "//host/x", "/abs", "rel", "?q") against an absolute base
 * per RFC 3986 section 5.2 (with dot-segment removal). malloc'd result, NULL on error. */
char *imgsync__url_resolve(const char *base, const char *ref);
/* 1 when both absolute URLs have the same scheme, host and effective port; 0 otherwise
 * (also when either does not parse). */
int imgsync__url_same_origin(const char *a, const char *b);
/* The origin "scheme://host:port" of an absolute URL, the port always written ("[::1]" for
 * IPv6), so that two URLs have the same origin when their origins are equal strings; malloc'd;
 * NULL when the URL does not parse. */
char *imgsync__url_origin(const char *url);
/* "host" or "host:port" when a port is written in the URL ("[::1]:5000" for IPv6); malloc'd;
 * NULL when the URL does not parse. */
char *imgsync__url_hostport(const char *url);
/* 1 when the URL's scheme is http (plain) or https, in any case ("HTTP://" is plain http to
 * curl and to imgsync__url_parse too); 0 otherwise. */
int imgsync__url_is_http(const char *url);
int imgsync__url_is_https(const char *url);
/* 1 for "localhost", "*.localhost", 127.0.0.0/8 and ::1; 0 otherwise. */
int imgsync__url_is_loopback_host(const char *host);
/* Percent-encode every byte except ALPHA / DIGIT / "-._~" and the bytes in `keep` (may be NULL),
 * with upper-case hex. malloc'd, NULL on ENOMEM. */
char *imgsync__url_escape(const char *s, const char *keep);
/* imgsync__url_escape for one path segment: also "." and ".." become "%2E" and "%2E%2E", so that
 * no dot-segment removal (RFC 3986 5.2.4, done by libcurl) can move the request elsewhere. */
char *imgsync__url_escape_segment(const char *s);
/* A URL as logs may show it: without userinfo and fragment, each query value replaced by "***"
 * unless its name is a known listing parameter (n, last, page, page_size, limit, offset,
 * service, scope ...: a token realm's service and scope, a registry's paging); SWR's signed
 * requests and token requests keep nothing secret in their URLs that way. malloc'd, NULL on
 * ENOMEM. */
char *imgsync__url_for_log(const char *url);

#endif
