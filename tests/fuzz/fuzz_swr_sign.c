/* Fuzz the SWR AK/SK signer (src/providers/swr_sign.h). The input is
 * "METHOD URL\nName: value\n...\n\nbody": the request line, headers up to an empty line, then the
 * body. Checks: no crash or leak; signing is deterministic; the canonical query and URI are fixed
 * points of their own canonicalization; a request that signs has parts and vice versa. */
#include "common.h"

#include "imgsync.h"
#include "providers/swr_sign.h"

#define MAX_HEADERS 16

typedef struct fz_req {
    char *line;
    char *names[MAX_HEADERS];
    char *values[MAX_HEADERS];
    size_t count;
} fz_req;

/* Split "Name: value" lines off *rest until an empty line or MAX_HEADERS; *rest moves past them. */
static void parse_headers(fz_req *r, const uint8_t **rest, size_t *left)
{
    while (*left && r->count < MAX_HEADERS) {
        const uint8_t *nl = memchr(*rest, '\n', *left);
        size_t n = nl ? (size_t)(nl - *rest) : *left;
        char *line = fz_strndup(*rest, n);
        *rest += nl ? n + 1 : n;
        *left -= nl ? n + 1 : n;
        if (!*line) {
            free(line);
            return;
        }
        char *colon = strchr(line, ':');
        r->values[r->count] = fz_strndup(colon ? colon + 1 : "", colon ? strlen(colon + 1) : 0);
        if (colon)
            *colon = '\0';
        r->names[r->count++] = line;
    }
}

/* canonical(canonical(x)) == canonical(x) */
static void check_fixed_point(int (*fn)(const char *, char **), const char *in)
{
    char *a = NULL, *b = NULL;
    if (fn(in, &a) == 0) {
        if (fn(a, &b) != 0 || strcmp(a, b) != 0)
            abort();
    }
    free(a);
    free(b);
}

static void check_sign(const imgsync__swr_sign_req *req)
{
    char *a1 = NULL, *a2 = NULL, *creq = NULL;
    int r1 = imgsync__swr_sign(req, &a1);
    int r2 = imgsync__swr_sign(req, &a2);
    int rp = imgsync__swr_sign_parts(req, &creq, NULL, NULL);
    if (r1 != r2 || r1 != rp || (r1 == 0) != (a1 != NULL) || (r1 == 0 && strcmp(a1, a2) != 0))
        abort();
    if (r1 == 0 && strstr(a1, req->sk))
        abort(); /* never the SK (it cannot occur in "SDK-HMAC-SHA256 Access=AK, ..." by chance) */
    free(a1);
    free(a2);
    free(creq);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_req r;
    memset(&r, 0, sizeof(r));
    const uint8_t *nl = size ? memchr(data, '\n', size) : NULL;
    size_t n = nl ? (size_t)(nl - data) : size;
    r.line = fz_strndup(data, n);
    const uint8_t *rest = data + (nl ? n + 1 : n);
    size_t left = size - (nl ? n + 1 : n);
    parse_headers(&r, &rest, &left);

    char *sp = strchr(r.line, ' ');
    const char *url = sp ? sp + 1 : r.line;
    if (sp)
        *sp = '\0';
    imgsync__swr_sign_req req = {
        .method = sp ? r.line : "GET",
        .url = url,
        .header_names = (const char *const *)r.names,
        .header_values = (const char *const *)r.values,
        .header_count = r.count,
        .body = rest,
        .body_len = left,
        .ak = "AK0123456789",
        .sk = "Zx9!SecretKeyForFuzzing",
        .sdk_date = "20240101T000000Z",
    };
    check_sign(&req);
    const char *q = strchr(url, '?');
    check_fixed_point(imgsync__swr_canonical_query, q ? q + 1 : url);
    check_fixed_point(imgsync__swr_canonical_uri, url);

    int64_t ms = 0;
    memcpy(&ms, data, size < sizeof(ms) ? size : sizeof(ms));
    char date[IMGSYNC__SWR_SDK_DATE_LEN + 1];
    if (imgsync__swr_sdk_date(ms, date) == 0 && strlen(date) != IMGSYNC__SWR_SDK_DATE_LEN)
        abort();

    free(r.line);
    for (size_t i = 0; i < r.count; i++) {
        free(r.names[i]);
        free(r.values[i]);
    }
    return 0;
}
