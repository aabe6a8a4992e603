/* Huawei Cloud "SDK-HMAC-SHA256" AK/SK request signing (internal to src/providers; see
 * shared/reference/swr-jfrog-oci-api.md section 3.2).
 *
 * A pure module: no I/O and no clock (the X-Sdk-Date value is an input), so that every retry or
 * redirect can be signed afresh over its final URL and the reference's vectors can be checked
 * bit for bit. Errors never contain the SK. */
#ifndef IMGSYNC_PROVIDERS_SWR_SIGN_H
#define IMGSYNC_PROVIDERS_SWR_SIGN_H

#include <stddef.h>
#include <stdint.h>

#include "imgsync/sys/provider.h"

/* Length of an X-Sdk-Date value "YYYYMMDDTHHMMSSZ" without its NUL. */
#define IMGSYNC__SWR_SDK_DATE_LEN 16

/* One request about to be sent, exactly as it goes on the wire. Everything is borrowed. */
typedef struct imgsync__swr_sign_req {
    const char *method;               /* "GET", "POST" ... (used as given) */
    const char *url;                  /* absolute http(s) URL, path and query as sent */
    const char *const *header_names;  /* the headers about to be sent (any case) */
    const char *const *header_values;
    size_t header_count;
    const void *body;                 /* may be NULL when body_len is 0 */
    size_t body_len;
    const char *ak;
    const char *sk;
    const char *sdk_date;             /* the X-Sdk-Date value, "YYYYMMDDTHHMMSSZ" */
} imgsync__swr_sign_req;

/* ms since the epoch -> "YYYYMMDDTHHMMSSZ" (UTC) in out. 0, or IMGSYNC_EINVAL for a time
 * outside the years 0000..9999 (out is then ""). */
int imgsync__swr_sdk_date(int64_t ms_since_epoch, char out[IMGSYNC__SWR_SDK_DATE_LEN + 1]);

/* Canonical query string (section 3.2 step 4) of a query as on the wire (without '?', NULL or ""
 * for none): pairs split on '&' (empty pairs skipped, a pair without '=' has the value ""),
 * keys and values percent-decoded with '+' read as a space (form encoding, as Go's
 * url.ParseQuery reads it), keys sorted, each key's values sorted (byte order of the decoded
 * strings), "esc(k)=esc(v)" joined by '&', esc leaving only A-Z a-z 0-9 - _ . ~ unescaped
 * (upper-case hex). *out malloc'd ("" for no query). 0, IMGSYNC_EINVAL (a bad escape, an
 * escaped NUL), IMGSYNC_ENOMEM; *out is NULL on error. */
int imgsync__swr_canonical_query(const char *raw_query, char **out);

/* Canonical URI (section 3.2 step 3) of a path as on the wire: split on '/', each segment
 * percent-decoded on its own (so "%2F" stays inside its segment) and escaped again like a query
 * value, rejoined, '/' appended unless already last ("" -> "/"). *out malloc'd. 0,
 * IMGSYNC_EINVAL (a bad escape, an escaped NUL), IMGSYNC_ENOMEM; *out is NULL on error. */
int imgsync__swr_canonical_uri(const char *raw_path, char **out);

/*
 * The intermediate strings of a signature (no secret is needed for them): the canonical request
 * (section 3.2 step 6), the string to sign (step 7) and the SignedHeaders list. Signed headers:
 * every header of the request, names lower-cased, sorted and deduplicated (a repeated name is
 * signed with its last value, as the SDK's header map keeps it), except names starting with
 * "content-type" and names containing '_'; "x-sdk-date" always (with req->sdk_date; a
 * X-Sdk-Date header, when given, must carry that value). "host" only when the request has a Host
 * header: its trimmed value, or when that is empty the URL's host with a non-default port (what
 * libcurl sends). Values trimmed of spaces and tabs. The body hash is hex SHA-256 of the body,
 * or the literal UNSIGNED-PAYLOAD when the request has "X-Sdk-Content-Sha256: UNSIGNED-PAYLOAD".
 * Any out-parameter may be NULL; the others are malloc'd. 0, IMGSYNC_EINVAL (a bad URL, method,
 * header name, a value with NUL/CR/LF, a bad escape, a bad or conflicting X-Sdk-Date),
 * IMGSYNC_ENOMEM; all outs NULL on error.
 */
int imgsync__swr_sign_parts(const imgsync__swr_sign_req *req, char **canonical_request,
                            char **string_to_sign, char **signed_headers);

/* The Authorization header value "SDK-HMAC-SHA256 Access=AK, SignedHeaders=h1;h2,
 * Signature=hex" (malloc'd into *authorization, NULL on error). Errors as
 * imgsync__swr_sign_parts, plus IMGSYNC_EINVAL for an empty SK or an empty AK or one with bytes
 * that cannot go in a header parameter (controls, space, ',', ';', '='). */
int imgsync__swr_sign(const imgsync__swr_sign_req *req, char **authorization);

#endif
