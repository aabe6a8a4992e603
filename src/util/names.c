/* Validation of registry names, tags and digests. */
#include "names.h"

#include <string.h>

static int is_lower_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

static int is_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }

/* Component of n bytes at s: [a-z0-9]+([._-]+[a-z0-9]+)*. */
static int component_ok(const char *s, size_t n)
{
    if (n == 0 || !is_lower_alnum(s[0]) || !is_lower_alnum(s[n - 1]))
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!is_lower_alnum(s[i]) && s[i] != '.' && s[i] != '_' && s[i] != '-')
            return 0;
    return 1;
}

int imgsync__name_component_ok(const char *s) { return s && strlen(s) <= 255 && component_ok(s, strlen(s)); }

int imgsync__name_repository_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > 255)
        return 0;
    for (const char *p = s;;) {
        const char *slash = strchr(p, '/');
        size_t len = slash ? (size_t)(slash - p) : strlen(p);
        if (!component_ok(p, len))
            return 0;
        if (!slash)
            return 1;
        p = slash + 1;
    }
}

int imgsync__name_label_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > 128 || s[0] == '-' || s[0] == '.')
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'A' && c <= 'Z') || is_lower_alnum(c) || c == '.' || c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

int imgsync__name_tag_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > 128)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        int ok = (c >= 'A' && c <= 'Z') || is_lower_alnum(c) || c == '_' || (i > 0 && (c == '.' || c == '-'));
        if (!ok)
            return 0;
    }
    return 1;
}

int imgsync__name_digest_ok(const char *s)
{
    size_t hex;
    if (!s)
        return 0;
    if (!strncmp(s, "sha256:", 7))
        hex = 64;
    else if (!strncmp(s, "sha512:", 7))
        hex = 128;
    else
        return 0;
    if (strlen(s + 7) != hex)
        return 0;
    for (const char *p = s + 7; *p; p++)
        if (!is_hex(*p))
            return 0;
    return 1;
}
