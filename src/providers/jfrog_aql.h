/* JFrog AQL for the "jfrog" provider (internal to src/providers): the queries it sends and the
 * parsing of one page of answers (shared/reference/swr-jfrog-oci-api.md section 4, 4.1).
 * Pure functions: no run, no job, so that they can be fuzzed and tested alone. */
#ifndef IMGSYNC_PROVIDERS_JFROG_AQL_H
#define IMGSYNC_PROVIDERS_JFROG_AQL_H

#include <stddef.h>
#include <stdint.h>

enum { IMGSYNC__AQL_MANIFESTS = 0, IMGSYNC__AQL_BLOBS = 1 };

/* The AQL text (POST api/search/aql, text/plain) selecting, in repository `repo` (a storage key:
 * [A-Za-z0-9._-] only), the manifest files (manifest.json, list.manifest.json) with their
 * times, checksum and properties, or the blob files (sha256__*) with their sizes; sorted by
 * path and name, page at offset/limit. Only documented operators ($and, $or, $eq, $match;
 * ref 4.1: $in is not AQL). malloc'd, NULL on ENOMEM or an unusable repo. */
char *imgsync__aql_query(int what, const char *repo, long offset, long limit);

/* One result of a page. Strings borrowed from the parsed page. */
typedef struct imgsync__aql_item {
    const char *path;       /* folder, e.g. "team/app/1.0" */
    const char *name;       /* file name */
    int64_t size;           /* -1 when absent */
    int64_t modified_ms;    /* 0 when absent or not a time */
    int64_t created_ms;     /* likewise */
    const char *sha256;     /* hex, or NULL */
    const char *digest;     /* property docker.manifest.digest, or NULL */
    const char *media_type; /* property docker.manifest.type, or NULL */
} imgsync__aql_item;

typedef struct imgsync__aql_page {
    void *root;               /* the parsed document */
    imgsync__aql_item *items;
    size_t n;                 /* results in this page (range.total counts only these, ref 4.1) */
} imgsync__aql_page;

/* Parse an AQL answer {"results":[...],"range":{...}}. Results that are not objects or lack
 * path/name are EPROTOCOL (a page that cannot be read whole is not a page). 0, EPROTOCOL (reason
 * in err), ENOMEM. Free with imgsync__aql_page_free (also after an error). */
int imgsync__aql_parse(const char *body, size_t len, imgsync__aql_page *out, char *err, size_t errlen);
void imgsync__aql_page_free(imgsync__aql_page *p);

#endif
