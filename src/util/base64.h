/* Base64 (RFC 4648, with padding) for Basic credentials (internal). */
#ifndef IMGSYNC_UTIL_BASE64_H
#define IMGSYNC_UTIL_BASE64_H

#include <stddef.h>

/* malloc'd NUL-terminated encoding of n bytes; NULL on ENOMEM. */
char *imgsync__base64(const void *data, size_t n);

#endif
