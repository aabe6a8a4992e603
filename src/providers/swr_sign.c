/* Huawei Cloud "SDK-HMAC-SHA256" AK/SK signing (reference section 3.2): canonical URI, canonical
 * query, signed headers, canonical request, string to sign, HMAC-SHA256 with the SK as key. */
#include "providers/swr_sign.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/url.h"

#define ALGORITHM "SDK-HMAC-SHA256"
#define UNSIGNED_PAYLOAD "UNSIGNED-PAYLOAD"

static const char HEX_UPPER[] = "0123456789ABCDEF";
static const char HEX_LOWER[] = "0123456789abcdef";

/* ---- escaping ------------------------------------------------------------------------------- */

static int is_unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '_' || c == '.' || c == '~';
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* The SDK's escaping: every byte but the unreserved set as %XX (upper-case hex). */
static void escape_append(imgsync__buf *b, const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (is_unreserved(c)) {
            imgsync__buf_appendc(b, (char)c);
        } else {
            char e[3] = {'%', HEX_UPPER[c >> 4], HEX_UPPER[c & 15]};
            imgsync__buf_append(b, e, 3);
        }
    }
}

/* Percent-decode s[0..n) into a new string (*out malloc'd). '+' is a space when `plus` (query
 * form encoding). An escaped NUL is refused: it would cut the C string and change what is
 * signed. 0, IMGSYNC_EINVAL, IMGSYNC_ENOMEM. */
static int decode(const char *s, size_t n, int plus, char **out)
{
    *out = NULL;
    char *d = malloc(n + 1);
    if (!d)
        return IMGSYNC_ENOMEM;
    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '%') {
            int hi = i + 2 < n ? hex_value(s[i + 1]) : -1;
            int lo = i + 2 < n ? hex_value(s[i + 2]) : -1;
            if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
                free(d);
                return IMGSYNC_EINVAL;
            }
            d[j++] = (char)(hi * 16 + lo);
            i += 2;
        } else {
            d[j++] = (plus && c == '+') ? ' ' : c;
        }
    }
    d[j] = '\0';
    *out = d;
    return 0;
}

/* ---- canonical URI -------------------------------------------------------------------------- */

int imgsync__swr_canonical_uri(const char *raw_path, char **out)
{
    *out = NULL;
    if (!raw_path)
        raw_path = "";
    imgsync__buf b;
    imgsync__buf_init(&b);
    const char *p = raw_path;
    for (;;) {
        size_t n = strcspn(p, "/");
        char *seg;
        int rc = decode(p, n, 0, &seg);
        if (rc) {
            imgsync__buf_free(&b);
            return rc;
        }
        escape_append(&b, seg);
        free(seg);
        if (!p[n])
            break;
        imgsync__buf_appendc(&b, '/');
        p += n + 1;
    }
    /* the SDK always ends the canonical URI with '/' ("/path" and "/path/" sign alike) */
    if (b.len == 0 || b.data[b.len - 1] != '/')
        imgsync__buf_appendc(&b, '/');
    *out = imgsync__buf_steal(&b);
    return *out ? 0 : IMGSYNC_ENOMEM;
}

/* ---- canonical query ------------------------------------------------------------------------ */

typedef struct query_pair {
    char *key;
    char *value;
} query_pair;

typedef struct query_list {
    query_pair *items;
    size_t len;
} query_list;

static void query_list_free(query_list *l)
{
    for (size_t i = 0; i < l->len; i++) {
        free(l->items[i].key);
        free(l->items[i].value);
    }
    free(l->items);
    l->items = NULL;
    l->len = 0;
}

/* Keys, then values, in byte order of the decoded strings (Go's sort.Strings on the SDK's
 * parameter map). strcmp compares as unsigned char, i.e. by bytes. */
static int pair_cmp(const void *a, const void *b)
{
    const query_pair *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    return c ? c : strcmp(x->value, y->value);
}

/* Decode one "k=v" (or "k") of length n and append it to l (room already reserved). */
static int query_add(query_list *l, const char *s, size_t n)
{
    const char *eq = memchr(s, '=', n);
    size_t kn = eq ? (size_t)(eq - s) : n;
    query_pair *qp = &l->items[l->len];
    int rc = decode(s, kn, 1, &qp->key);
    if (rc)
        return rc;
    rc = eq ? decode(eq + 1, n - kn - 1, 1, &qp->value) : decode("", 0, 1, &qp->value);
    if (rc) {
        free(qp->key);
        return rc;
    }
    l->len++;
    return 0;
}

static int query_parse(const char *q, query_list *l)
{
    size_t max = 1;
    for (const char *p = q; *p; p++)
        max += *p == '&';
    l->items = calloc(max, sizeof(*l->items));
    if (!l->items)
        return IMGSYNC_ENOMEM;
    for (const char *p = q;;) {
        size_t n = strcspn(p, "&");
        if (n) { /* "a=1&&b=2": empty pairs are skipped, as url.ParseQuery does */
            int rc = query_add(l, p, n);
            if (rc)
                return rc;
        }
        if (!p[n])
            return 0;
        p += n + 1;
    }
}

int imgsync__swr_canonical_query(const char *raw_query, char **out)
{
    *out = NULL;
    query_list l = {NULL, 0};
    int rc = query_parse(raw_query ? raw_query : "", &l);
    if (rc) {
        query_list_free(&l);
        return rc;
    }
    if (l.len > 1)
        qsort(l.items, l.len, sizeof(*l.items), pair_cmp);
    imgsync__buf b;
    imgsync__buf_init(&b);
    for (size_t i = 0; i < l.len; i++) {
        if (i)
            imgsync__buf_appendc(&b, '&');
        escape_append(&b, l.items[i].key);
        imgsync__buf_appendc(&b, '=');
        escape_append(&b, l.items[i].value);
    }
    query_list_free(&l);
    *out = imgsync__buf_steal(&b);
    return *out ? 0 : IMGSYNC_ENOMEM;
}

/* ---- X-Sdk-Date ----------------------------------------------------------------------------- */

/* Days since 1970-01-01 -> proleptic Gregorian y/m/d (the civil calendar in 400-year eras,
 * which keeps the arithmetic exact for negative days too). */
static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;                                    /* [0, 146096] */
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365; /* [0, 399] */
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);             /* [0, 365] */
    int64_t mp = (5 * doy + 2) / 153;                                  /* [0, 11], from March */
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

static void put_digits(char *p, int64_t v, int n)
{
    for (int i = n - 1; i >= 0; i--) {
        p[i] = (char)('0' + v % 10);
        v /= 10;
    }
}

int imgsync__swr_sdk_date(int64_t ms_since_epoch, char out[IMGSYNC__SWR_SDK_DATE_LEN + 1])
{
    out[0] = '\0';
    /* floor division: a time before the epoch still rounds down to its second */
    int64_t secs = ms_since_epoch / 1000 - (ms_since_epoch % 1000 < 0);
    int64_t days = secs / 86400 - (secs % 86400 < 0);
    int64_t sod = secs - days * 86400;
    int64_t y;
    int m, d;
    civil_from_days(days, &y, &m, &d);
    if (y < 0 || y > 9999)
        return IMGSYNC_EINVAL;
    put_digits(out, y, 4);
    put_digits(out + 4, m, 2);
    put_digits(out + 6, d, 2);
    out[8] = 'T';
    put_digits(out + 9, sod / 3600, 2);
    put_digits(out + 11, sod / 60 % 60, 2);
    put_digits(out + 13, sod % 60, 2);
    out[15] = 'Z';
    out[16] = '\0';
    return 0;
}

/* "YYYYMMDDTHHMMSSZ": the shape only (the server judges the time itself). */
static int sdk_date_valid(const char *s)
{
    if (!s || strlen(s) != IMGSYNC__SWR_SDK_DATE_LEN || s[8] != 'T' || s[15] != 'Z')
        return 0;
    for (int i = 0; i < 15; i++)
        if (i != 8 && (s[i] < '0' || s[i] > '9'))
            return 0;
    return 1;
}

/* ---- signed headers ------------------------------------------------------------------------- */

/* One header as it is signed: lower-cased name (owned), trimmed value (borrowed span). */
typedef struct sig_header {
    char *name;
    const char *value;
    size_t value_len;
    size_t order; /* position in the request: the last of a repeated name wins */
} sig_header;

typedef struct sig_headers {
    sig_header *items;
    size_t len;
    char *host;         /* a Host value derived from the URL, owned */
    int unsigned_body;  /* "X-Sdk-Content-Sha256: UNSIGNED-PAYLOAD" was sent */
} sig_headers;

static void sig_headers_free(sig_headers *h)
{
    for (size_t i = 0; i < h->len; i++)
        free(h->items[i].name);
    free(h->items);
    free(h->host);
    memset(h, 0, sizeof(*h));
}

/* RFC 9110 token characters (header names and methods). */
static int is_tchar(unsigned char c)
{
    return is_unreserved(c) || (c && strchr("!#$%&'*+^`|", c));
}

static int is_token(const char *s)
{
    if (!s || !*s)
        return 0;
    for (; *s; s++)
        if (!is_tchar((unsigned char)*s))
            return 0;
    return 1;
}

/* Trim spaces and tabs (HTTP's optional whitespace) around a value; *len gets the length. */
static const char *trim(const char *v, size_t *len)
{
    while (*v == ' ' || *v == '\t')
        v++;
    size_t n = strlen(v);
    while (n && (v[n - 1] == ' ' || v[n - 1] == '\t'))
        n--;
    *len = n;
    return v;
}

static int span_eq(const char *p, size_t n, const char *s)
{
    return strlen(s) == n && memcmp(p, s, n) == 0;
}

/* The SDK leaves these out of SignedHeaders (section 3.2 step 2). */
static int excluded_name(const char *lname)
{
    return strncmp(lname, "content-type", 12) == 0 || strchr(lname, '_') != NULL;
}

static int header_cmp(const void *a, const void *b)
{
    const sig_header *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c ? c : (x->order > y->order) - (x->order < y->order);
}

/* Append one header (name lower-cased) to h; room is reserved by the caller. */
static int header_push(sig_headers *h, const char *name, const char *value, size_t vlen, size_t order)
{
    char *l = imgsync__strdup(name);
    if (!l)
        return IMGSYNC_ENOMEM;
    for (char *p = l; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    if (excluded_name(l)) {
        free(l);
        return 0;
    }
    h->items[h->len++] = (sig_header){l, value, vlen, order};
    return 0;
}

/* Check one request header and push it. A stray CR or LF would let a value end the header
 * line (and the canonical request's line) early. */
static int header_take(sig_headers *h, const char *name, const char *value, size_t order,
                       const char *sdk_date)
{
    if (!is_token(name) || !value || strpbrk(value, "\r\n"))
        return IMGSYNC_EINVAL;
    size_t vlen;
    const char *v = trim(value, &vlen);
    if (imgsync__strcaseeq(name, "x-sdk-date") && !span_eq(v, vlen, sdk_date))
        return IMGSYNC_EINVAL; /* the header sent and the date signed must be one */
    if (imgsync__strcaseeq(name, "x-sdk-content-sha256"))
        h->unsigned_body = span_eq(v, vlen, UNSIGNED_PAYLOAD);
    return header_push(h, name, v, vlen, order);
}

/* Keep the last of each run of equal names (the array is sorted by name, then order). */
static void dedupe_last(sig_headers *h)
{
    size_t w = 0;
    for (size_t i = 0; i < h->len; i++) {
        if (i + 1 < h->len && strcmp(h->items[i].name, h->items[i + 1].name) == 0) {
            free(h->items[i].name);
            continue;
        }
        h->items[w++] = h->items[i];
    }
    h->len = w;
}

/* What libcurl sends as Host: the URL's host, bracketed when IPv6, with the port unless it is
 * the scheme's default. */
static char *url_host_header(const imgsync__url *u)
{
    int v6 = strchr(u->host, ':') != NULL;
    int def = strcmp(u->scheme, "https") == 0 ? 443 : 80;
    imgsync__buf b;
    imgsync__buf_init(&b);
    imgsync__buf_appends(&b, v6 ? "[" : "");
    imgsync__buf_appends(&b, u->host);
    imgsync__buf_appends(&b, v6 ? "]" : "");
    if (u->port != -1 && u->port != def)
        imgsync__buf_printf(&b, ":%d", u->port);
    return imgsync__buf_steal(&b);
}

/* An empty Host header is filled in from the URL (the value the server will see). */
static int fill_host(sig_headers *h, const imgsync__url *u)
{
    for (size_t i = 0; i < h->len; i++) {
        sig_header *x = &h->items[i];
        if (strcmp(x->name, "host") != 0 || x->value_len)
            continue;
        h->host = url_host_header(u);
        if (!h->host)
            return IMGSYNC_ENOMEM;
        x->value = h->host;
        x->value_len = strlen(h->host);
    }
    return 0;
}

static int has_name(const imgsync__swr_sign_req *req, const char *name)
{
    for (size_t i = 0; i < req->header_count; i++)
        if (req->header_names[i] && imgsync__strcaseeq(req->header_names[i], name))
            return 1;
    return 0;
}

/* Section 3.2 step 2: the headers to sign, sorted and deduplicated; X-Sdk-Date is always one. */
static int collect_headers(const imgsync__swr_sign_req *req, const imgsync__url *u, sig_headers *h)
{
    memset(h, 0, sizeof(*h));
    h->items = calloc(req->header_count + 1, sizeof(*h->items));
    if (!h->items)
        return IMGSYNC_ENOMEM;
    if (req->header_count && (!req->header_names || !req->header_values))
        return IMGSYNC_EINVAL;
    for (size_t i = 0; i < req->header_count; i++) {
        int rc = header_take(h, req->header_names[i], req->header_values[i], i, req->sdk_date);
        if (rc)
            return rc;
    }
    if (!has_name(req, "x-sdk-date")) {
        int rc = header_push(h, "x-sdk-date", req->sdk_date, strlen(req->sdk_date), req->header_count);
        if (rc)
            return rc;
    }
    qsort(h->items, h->len, sizeof(*h->items), header_cmp);
    dedupe_last(h);
    return fill_host(h, u);
}

/* ---- canonical request and string to sign --------------------------------------------------- */

static void hex_append(imgsync__buf *b, const unsigned char *md, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char e[2] = {HEX_LOWER[md[i] >> 4], HEX_LOWER[md[i] & 15]};
        imgsync__buf_append(b, e, 2);
    }
}

static void sha256_hex_append(imgsync__buf *b, const void *data, size_t len)
{
    unsigned char md[SHA256_DIGEST_LENGTH];
    SHA256(len ? (const unsigned char *)data : (const unsigned char *)"", len, md);
    hex_append(b, md, sizeof(md));
}

/* METHOD \n URI \n QUERY \n "name:value\n"... \n SIGNED \n BODYHASH: the canonical headers end
 * in '\n' themselves, hence the SDK's empty line before SignedHeaders. */
static void build_canonical(imgsync__buf *b, const imgsync__swr_sign_req *req, const char *uri,
                            const char *query, const sig_headers *h, const char *signed_list)
{
    imgsync__buf_appends(b, req->method);
    imgsync__buf_appendc(b, '\n');
    imgsync__buf_appends(b, uri);
    imgsync__buf_appendc(b, '\n');
    imgsync__buf_appends(b, query);
    imgsync__buf_appendc(b, '\n');
    for (size_t i = 0; i < h->len; i++) {
        imgsync__buf_appends(b, h->items[i].name);
        imgsync__buf_appendc(b, ':');
        imgsync__buf_append(b, h->items[i].value, h->items[i].value_len);
        imgsync__buf_appendc(b, '\n');
    }
    imgsync__buf_appendc(b, '\n');
    imgsync__buf_appends(b, signed_list);
    imgsync__buf_appendc(b, '\n');
    if (h->unsigned_body)
        imgsync__buf_appends(b, UNSIGNED_PAYLOAD);
    else
        sha256_hex_append(b, req->body, req->body_len);
}

static char *join_names(const sig_headers *h)
{
    imgsync__buf b;
    imgsync__buf_init(&b);
    for (size_t i = 0; i < h->len; i++) {
        if (i)
            imgsync__buf_appendc(&b, ';');
        imgsync__buf_appends(&b, h->items[i].name);
    }
    return imgsync__buf_steal(&b);
}

static char *build_string_to_sign(const char *sdk_date, const char *creq)
{
    imgsync__buf b;
    imgsync__buf_init(&b);
    imgsync__buf_appends(&b, ALGORITHM "\n");
    imgsync__buf_appends(&b, sdk_date);
    imgsync__buf_appendc(&b, '\n');
    sha256_hex_append(&b, creq, strlen(creq));
    return imgsync__buf_steal(&b);
}

/* Everything the signature covers, with the URL already parsed. */
typedef struct sign_work {
    imgsync__url url;
    char *uri;
    char *query;
    sig_headers headers;
    char *signed_list;
    char *creq;
    char *sts;
} sign_work;

static void sign_work_free(sign_work *w)
{
    imgsync__url_clear(&w->url);
    free(w->uri);
    free(w->query);
    sig_headers_free(&w->headers);
    free(w->signed_list);
    free(w->creq);
    free(w->sts);
    memset(w, 0, sizeof(*w));
}

static int sign_work_build(sign_work *w, const imgsync__swr_sign_req *req)
{
    memset(w, 0, sizeof(*w));
    if (!is_token(req->method) || !sdk_date_valid(req->sdk_date) || !req->url ||
        (req->body_len && !req->body))
        return IMGSYNC_EINVAL;
    int rc = imgsync__url_parse(&w->url, req->url);
    if (!rc)
        rc = imgsync__swr_canonical_uri(w->url.path, &w->uri);
    if (!rc)
        rc = imgsync__swr_canonical_query(w->url.query, &w->query);
    if (!rc)
        rc = collect_headers(req, &w->url, &w->headers);
    if (rc)
        return rc;
    w->signed_list = join_names(&w->headers);
    if (!w->signed_list)
        return IMGSYNC_ENOMEM;
    imgsync__buf b;
    imgsync__buf_init(&b);
    build_canonical(&b, req, w->uri, w->query, &w->headers, w->signed_list);
    w->creq = imgsync__buf_steal(&b);
    w->sts = w->creq ? build_string_to_sign(req->sdk_date, w->creq) : NULL;
    return w->sts ? 0 : IMGSYNC_ENOMEM;
}

static char *take(char **p)
{
    char *s = *p;
    *p = NULL;
    return s;
}

int imgsync__swr_sign_parts(const imgsync__swr_sign_req *req, char **canonical_request,
                            char **string_to_sign, char **signed_headers)
{
    sign_work w;
    int rc = sign_work_build(&w, req);
    if (canonical_request)
        *canonical_request = rc ? NULL : take(&w.creq);
    if (string_to_sign)
        *string_to_sign = rc ? NULL : take(&w.sts);
    if (signed_headers)
        *signed_headers = rc ? NULL : take(&w.signed_list);
    sign_work_free(&w);
    return rc;
}

/* ---- signature ------------------------------------------------------------------------------ */

/* The AK goes verbatim into "Access=AK,": nothing that could end or split the parameter. */
static int ak_valid(const char *ak)
{
    if (!ak || !*ak)
        return 0;
    for (; *ak; ak++) {
        unsigned char c = (unsigned char)*ak;
        if (c <= 0x20 || c == 0x7f || c == ',' || c == ';' || c == '=')
            return 0;
    }
    return 1;
}

/* Lower-case hex HMAC-SHA256(key = SK bytes, StringToSign) appended to b (step 8: no key
 * derivation). The MAC is wiped: it is the only SK-derived buffer this module owns. */
static int hmac_hex_append(imgsync__buf *b, const char *sk, const char *sts)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    if (!HMAC(EVP_sha256(), sk, (int)strlen(sk), (const unsigned char *)sts, strlen(sts), md, &mdlen))
        return IMGSYNC_ENOMEM;
    hex_append(b, md, mdlen);
    imgsync__wipe(md, sizeof(md));
    return 0;
}

int imgsync__swr_sign(const imgsync__swr_sign_req *req, char **authorization)
{
    *authorization = NULL;
    if (!ak_valid(req->ak) || !req->sk || !*req->sk || strlen(req->sk) > INT32_MAX)
        return IMGSYNC_EINVAL;
    sign_work w;
    int rc = sign_work_build(&w, req);
    if (rc) {
        sign_work_free(&w);
        return rc;
    }
    imgsync__buf b;
    imgsync__buf_init(&b);
    imgsync__buf_appends(&b, ALGORITHM " Access=");
    imgsync__buf_appends(&b, req->ak);
    imgsync__buf_appends(&b, ", SignedHeaders=");
    imgsync__buf_appends(&b, w.signed_list);
    imgsync__buf_appends(&b, ", Signature=");
    rc = hmac_hex_append(&b, req->sk, w.sts);
    sign_work_free(&w);
    if (rc) {
        imgsync__buf_free(&b);
        return rc;
    }
    *authorization = imgsync__buf_steal(&b);
    return *authorization ? 0 : IMGSYNC_ENOMEM;
}
