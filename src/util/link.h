/* RFC 8288 Link header parsing (internal). */
#ifndef IMGSYNC_UTIL_LINK_H
#define IMGSYNC_UTIL_LINK_H

/*
 * Find the first link whose rel parameter (a space-separated list, case-insensitive, quoted or
 * not) contains `rel` in a Link header value. The value may hold several comma-separated links,
 * including Harbor's `<a>; rel="prev" , <b>; rel="next"`; commas inside <...> or quoted strings
 * do not split. *out receives the malloc'd URI reference exactly as written between < and >, or
 * NULL when no link has that rel. Returns 0, IMGSYNC_EPROTOCOL for a malformed value (no '<',
 * unterminated '<' or quote), IMGSYNC_ENOMEM.
 */
int imgsync__link_find(const char *header, const char *rel, char **out);
/*
 * rel="next" of `header`, resolved against `request_url` (imgsync__url_resolve). *out is NULL
 * when there is none. IMGSYNC_EPROTOCOL when malformed or when the target is not on the same
 * scheme, host and port as request_url (credentials must not follow a link to another host).
 */
int imgsync__link_next(const char *header, const char *request_url, char **out);

#endif
