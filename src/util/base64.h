/* Base64 (RFC 4648, with padding) for Basic credentials (internal). */
#ifndef IMGSYNC_UTIL_BASE64_H
#define IMGSYNC_UTIL_BASE64_H

#include <stddef.h>

/* malloc'd NUL-terminated encoding of n bytes; NULL on ENOMEM. */
char *imgsync__base64(const void *data, size_t n);
/* Decode standard base64 (padding optional, no whitespace) into a malloc'd buffer with a NUL
 * after its *outlen bytes; NULL when s is not base64 or on ENOMEM. */
char *imgsync__base64_decode(const char *s, size_t *outlen);

#endif
