/* Test secrets: make them, and keep them out of what a test prints. */
#include "secrets.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"

char *ts_mask(const char *text, const char *secret)
{
    size_t slen = secret ? strlen(secret) : 0, n = 0;
    const char *p;
    char *out, *o;

    if (text == NULL)
        return imgsync__strdup("(null)");
    if (slen == 0)
        return imgsync__strdup(text);
    for (p = text; (p = strstr(p, secret)) != NULL; p += slen)
        n++;
    if ((out = malloc(strlen(text) + n * 3 + 1)) == NULL)
        return NULL;
    for (o = out, p = text; *p;) {
        if (strncmp(p, secret, slen) == 0) {
            memcpy(o, "***", 3);
            o += 3;
            p += slen;
        } else {
            *o++ = *p++;
        }
    }
    *o = '\0';
    return out;
}

int ts_holds_part_of(const char *text, const char *secret)
{
    size_t n = strlen(secret);
    for (size_t i = 0; i + 8 <= n; i++) {
        char window[9];
        memcpy(window, secret + i, 8);
        window[8] = '\0';
        if (strstr(text, window))
            return 1;
    }
    return 0;
}

char *ts_random_secret(const char *prefix)
{
    unsigned char raw[16];
    char *out;
    size_t plen = strlen(prefix), i;
    FILE *f = fopen("/dev/urandom", "rb");

    if (f == NULL)
        return NULL;
    if (fread(raw, 1, sizeof raw, f) != sizeof raw) {
        fclose(f);
        return NULL;
    }
    fclose(f);
    if ((out = malloc(plen + 2 * sizeof raw + 1)) == NULL)
        return NULL;
    memcpy(out, prefix, plen);
    for (i = 0; i < sizeof raw; i++)
        snprintf(out + plen + 2 * i, 3, "%02x", raw[i]);
    return out;
}
