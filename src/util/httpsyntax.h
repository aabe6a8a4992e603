/* RFC 7230 header-value syntax shared by the Link and WWW-Authenticate parsers (internal). */
#ifndef IMGSYNC_UTIL_HTTPSYNTAX_H
#define IMGSYNC_UTIL_HTTPSYNTAX_H

#include <stddef.h>

#include "util/buf.h"

/* RFC 7230 tchar. */
int imgsync__http_is_tchar(unsigned char c);
/* Skip optional white space (spaces and tabs). */
void imgsync__http_skip_ows(const char **p);
/* ASCII case-insensitive: the n bytes at a equal the string b. */
int imgsync__http_ncaseeq(const char *a, size_t n, const char *b);
/* Read a quoted-string at *pp (pointing at '"') into b, unescaping quoted-pairs; *pp moves past
 * the closing quote. 0, IMGSYNC_EPROTOCOL (unterminated or control character), IMGSYNC_ENOMEM. */
int imgsync__http_read_quoted(const char **pp, imgsync__buf *b);

#endif
