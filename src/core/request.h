/* Sync requests and the selection rules every provider's output goes through (internal). */
#ifndef IMGSYNC_CORE_REQUEST_H
#define IMGSYNC_CORE_REQUEST_H

#include <stddef.h>
#include <stdint.h>

#include "imgsync.h"
#include "inventory/store.h"

typedef struct imgsync__filter {
    int field;
    int mode;
    char *pattern;
} imgsync__filter;

typedef struct imgsync__repo_ref {
    char *provider;
    char *repository;
} imgsync__repo_ref;

struct imgsync_request {
    int *types;
    size_t ntypes;
    char **providers;
    size_t nproviders;
    imgsync__repo_ref *repos;
    size_t nrepos;
    imgsync__filter *filters;
    size_t nfilters;
    unsigned int max_tags;
    int include_non_images;
    int64_t updated_since; /* inventory reads only */
};

/* Deep copy (NULL src gives an empty request). */
int imgsync__request_clone(imgsync_request **out, const imgsync_request *src);
/* Does the request select a provider with this name whose rows may have these types (types[0..n))? */
int imgsync__request_selects_provider(const imgsync_request *r, const char *name, const int *types, size_t n);
/* Does it select rows of this imgsync_type (no type restriction selects all)? */
int imgsync__request_selects_type(const imgsync_request *r, int type);
/* Can the request select repository `repo` of `provider` (namespace, repository filters and the
 * explicit repository list)? */
int imgsync__request_selects_repository(const imgsync_request *r, const char *provider,
                                        const char *ns, const char *repo);
int imgsync__request_selects_namespace(const imgsync_request *r, const char *ns);
int imgsync__request_selects_tag(const imgsync_request *r, const char *tag);
/* A row of that type, tag and artifact type ("" or "IMAGE" for images): type restriction, tag
 * filters, and non-image artifacts only when the request includes them. */
int imgsync__request_selects_row(const imgsync_request *r, int type, const char *tag, const char *artifact_type);
/* The store's view of what the request selects (r borrowed; NULL selects every image row). */
imgsync__selector imgsync__request_selector(const imgsync_request *r);
/* Number of explicit repositories for a provider, and the i-th of them. */
size_t imgsync__request_repo_count(const imgsync_request *r, const char *provider);
const char *imgsync__request_repo_at(const imgsync_request *r, const char *provider, size_t i);
/* Literal namespace names when every namespace include filter is a literal (no glob
 * character): *out gets a malloc'd array of borrowed pointers; 0 names when any include is a
 * pattern or there is none. */
size_t imgsync__request_namespace_literals(const imgsync_request *r, const char ***out);
/* The store query that selects what the request selects of stored rows (the iterator's rules:
 * providers, types, repositories, filters, updated-since). Borrows from r; the arrays are
 * malloc'd into *q and freed by imgsync__request_query_free. 0 or ENOMEM. */
int imgsync__request_query(imgsync__query *q, const imgsync_request *r);
void imgsync__request_query_free(imgsync__query *q);
/* The request as JSON (malloc'd; NULL on ENOMEM) and back (EINVAL for a text that is not one). */
char *imgsync__request_to_json(const imgsync_request *r);
int imgsync__request_from_json(imgsync_request **out, const char *json);

/* First path segment of a repository (malloc'd; "" for none); NULL on ENOMEM. */
char *imgsync__namespace_of(const char *repository);

#endif
