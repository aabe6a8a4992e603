/* Base64 (RFC 4648, with padding). */
#include "base64.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"

char *imgsync__base64(const void *data, size_t n)
{
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const unsigned char *p = data;
    if (n > (SIZE_MAX - 1) / 4 * 3 - 3)
        return NULL;
    char *out = malloc((n + 2) / 3 * 4 + 1), *w = out;
    if (!out)
        return NULL;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)p[i + 1] << 8;
        if (i + 2 < n)
            v |= p[i + 2];
        *w++ = alphabet[(v >> 18) & 63];
        *w++ = alphabet[(v >> 12) & 63];
        *w++ = i + 1 < n ? alphabet[(v >> 6) & 63] : '=';
        *w++ = i + 2 < n ? alphabet[v & 63] : '=';
    }
    *w = '\0';
    return out;
}

static int b64_value(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    return c == '+' ? 62 : c == '/' ? 63 : -1;
}

char *imgsync__base64_decode(const char *s, size_t *outlen)
{
    size_t n = strlen(s);
    while (n > 0 && s[n - 1] == '=' && n % 4 != 1) /* at most two '=' can follow real digits */
        n--;
    if (n % 4 == 1 || strlen(s) - n > 2)
        return NULL;
    char *out = malloc(n / 4 * 3 + 3), *w = out;
    if (!out)
        return NULL;
    uint32_t v = 0;
    for (size_t i = 0; i < n; i++) {
        int d = b64_value(s[i]);
        if (d < 0) {
            imgsync__wipe(out, n / 4 * 3 + 3); /* what was decoded may be a password */
            free(out);
            return NULL;
        }
        v = v << 6 | (uint32_t)d;
        if (i % 4 == 3) {
            *w++ = (char)(v >> 16);
            *w++ = (char)(v >> 8);
            *w++ = (char)v;
        }
    }
    if (n % 4 == 2)
        *w++ = (char)(v >> 4);
    else if (n % 4 == 3) {
        *w++ = (char)(v >> 10);
        *w++ = (char)(v >> 2);
    }
    *w = '\0';
    *outlen = (size_t)(w - out);
    return out;
}
