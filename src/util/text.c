/* Text from servers made safe for messages and terminals; secrets taken out. */
#include "text.h"

#include <string.h>

/* Length of the valid UTF-8 sequence at p (1..4), or 0 when it is not one. */
static size_t utf8_len(const unsigned char *p)
{
    unsigned char c = p[0];
    size_t n;
    unsigned int min, cp;
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf) {
        n = 2;
        cp = c & 0x1f;
        min = 0x80;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        cp = c & 0x0f;
        min = 0x800;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        cp = c & 0x07;
        min = 0x10000;
    } else {
        return 0;
    }
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (p[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return n;
}

/* 1 when the sequence of n bytes at p is a character a terminal may be shown. */
static int printable(const unsigned char *p, size_t n)
{
    if (n == 1)
        return p[0] >= 0x20 && p[0] != 0x7f;
    return !(n == 2 && p[0] == 0xc2 && p[1] <= 0x9f); /* C1 controls */
}

char *imgsync__text_sanitize(char *s)
{
    if (!s)
        return s;
    unsigned char *r = (unsigned char *)s, *w = r;
    while (*r) {
        size_t n = utf8_len(r);
        if (n && printable(r, n)) {
            memmove(w, r, n);
            w += n;
            r += n;
        } else {
            *w++ = '?';
            r += n ? n : 1;
        }
    }
    *w = '\0';
    return s;
}

int imgsync__text_is_clean(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (p && *p) {
        if (*p >= 0x20 && *p < 0x7f) { /* printable ASCII, the common case: no decoding */
            p++;
            continue;
        }
        size_t n = utf8_len(p);
        if (!n || !printable(p, n))
            return 0;
        p += n;
    }
    return 1;
}

void imgsync__text_copy(char *out, size_t n, const char *src)
{
    if (!n)
        return;
    size_t len = 0;
    const unsigned char *p = (const unsigned char *)(src ? src : "");
    while (*p) {
        size_t k = utf8_len(p);
        if (!k)
            k = 1;
        if (len + k >= n)
            break;
        memcpy(out + len, p, k);
        len += k;
        p += k;
    }
    out[len] = '\0';
    imgsync__text_sanitize(out);
}

static int is_alnum(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

/* A short secret is only taken out where it stands alone: inside a word ("401" for the secret
 * "1") it reveals nothing, and masking it there would make every message unreadable. */
static int stands_alone(const char *s, const char *hit, size_t k)
{
    return (hit == s || !is_alnum(hit[-1])) && !is_alnum(hit[k]);
}

char *imgsync__text_redact(char *s, const char *secret)
{
    size_t k = secret ? strlen(secret) : 0;
    if (!s || !k)
        return s;
    size_t mask = k < 3 ? k : 3; /* the text never grows: it is redacted in place */
    char *hit;
    char *from = s;
    while ((hit = strstr(from, secret))) {
        if (k >= IMGSYNC__SECRET_WORD_LEN || stands_alone(s, hit, k)) {
            memset(hit, '*', mask);
            memmove(hit + mask, hit + k, strlen(hit + k) + 1);
            from = hit + mask;
        } else {
            from = hit + 1;
        }
    }
    return s;
}

static int is_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

/* The run at s + i is a digest's hex when an algorithm prefix ends just before it. */
static int after_digest_prefix(const char *s, size_t i)
{
    static const char *const prefixes[] = {"sha256:", "sha256__", "sha512:", "sha512__"};
    for (size_t k = 0; k < sizeof(prefixes) / sizeof(*prefixes); k++) {
        size_t n = strlen(prefixes[k]);
        if (i >= n && !strncmp(s + i - n, prefixes[k], n))
            return 1;
    }
    return 0;
}

char *imgsync__text_redact_hex(char *s)
{
    size_t i = 0, w = 0;
    while (s && s[i]) {
        size_t run = 0;
        while (is_hex(s[i + run]))
            run++;
        /* what precedes the run is looked at in the output (s[0..w)): it reads as the input did */
        int word_start = w == 0 || !is_alnum(s[w - 1]);
        if (run >= 64 && word_start && !is_alnum(s[i + run]) && !after_digest_prefix(s, w)) {
            memcpy(s + w, "***", 3);
            w += 3;
            i += run;
        } else if (run) {
            memmove(s + w, s + i, run);
            w += run;
            i += run;
        } else {
            s[w++] = s[i++];
        }
    }
    if (s)
        s[w] = '\0';
    return s;
}
