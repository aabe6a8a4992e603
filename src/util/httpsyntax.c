/* RFC 7230 header-value syntax shared by the Link and WWW-Authenticate parsers. */
#include "httpsyntax.h"

#include <string.h>

#include "imgsync.h"

static char lower(char c) { return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c; }

int imgsync__http_is_tchar(unsigned char c)
{
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
        return 1;
    return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* Control characters never belong in a header value. */
static int is_ctl(unsigned char c) { return c < 0x20 || c == 0x7f; }

void imgsync__http_skip_ows(const char **p)
{
    while (**p == ' ' || **p == '\t')
        (*p)++;
}

int imgsync__http_ncaseeq(const char *a, size_t n, const char *b)
{
    if (strlen(b) != n)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (lower(a[i]) != lower(b[i]))
            return 0;
    return 1;
}

int imgsync__http_read_quoted(const char **pp, imgsync__buf *b)
{
    const char *p = *pp + 1;
    for (;;) {
        unsigned char c = (unsigned char)*p;
        if (c == '\0')
            return IMGSYNC_EPROTOCOL;
        if (c == '"')
            break;
        if (c == '\\') {
            c = (unsigned char)*++p;
            if (c == '\0')
                return IMGSYNC_EPROTOCOL;
        }
        if (is_ctl(c) && c != '\t')
            return IMGSYNC_EPROTOCOL;
        imgsync__buf_appendc(b, (char)c);
        p++;
    }
    *pp = p + 1;
    return b->oom ? IMGSYNC_ENOMEM : 0;
}
