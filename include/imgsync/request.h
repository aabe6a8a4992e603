/* libimgsync: sync requests (the three HSS sync types: all, by type, by repositories and
 * conditions) and the registry types. */
#ifndef IMGSYNC_REQUEST_H
#define IMGSYNC_REQUEST_H

#include <stdint.h>

#include "export.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum imgsync_type {
    IMGSYNC_TYPE_SWR_PRIVATE = 1,    /* registry_type "SwrPrivate", image_type "private_image" */
    IMGSYNC_TYPE_SWR_SHARED = 2,     /* "SwrShared", "shared_image" */
    IMGSYNC_TYPE_SWR_ENTERPRISE = 3, /* "SwrEnterprise", "instance_image" */
    IMGSYNC_TYPE_HARBOR = 4,         /* "Harbor", "harbor" */
    IMGSYNC_TYPE_JFROG = 5,          /* "Jfrog", "jfrog" */
    IMGSYNC_TYPE_OCI = 6             /* "Oci", "oci" */
} imgsync_type;

/* "SwrPrivate", "Oci", ... (static); NULL for an unknown value. */
IMGSYNC_EXTERN const char *imgsync_type_registry_name(int type);
/* "private_image", "oci", ... (static); NULL for an unknown value. */
IMGSYNC_EXTERN const char *imgsync_type_image_name(int type);
/* Parse "Oci", "oci", "harbor", "SwrShared", "shared_image" ... (ASCII case-insensitive) into a
 * type; ENOTFOUND, EINVAL for NULL. */
IMGSYNC_EXTERN int imgsync_type_from_string(int *out, const char *s);

typedef enum imgsync_filter_field {
    IMGSYNC_FILTER_NAMESPACE = 1,  /* first path segment / project / organization */
    IMGSYNC_FILTER_REPOSITORY = 2, /* full repository path, e.g. "team/app" */
    IMGSYNC_FILTER_TAG = 3
} imgsync_filter_field;

typedef enum imgsync_filter_mode {
    IMGSYNC_INCLUDE = 1,
    IMGSYNC_EXCLUDE = 2
} imgsync_filter_mode;

typedef struct imgsync_request imgsync_request;

/*
 * An empty request syncs every registry of the context completely. Restrictions of different
 * kinds combine with AND (a provider must match the types, if any, and the names, if any);
 * several values of one kind combine with OR. ENOMEM.
 * Calls on a request report only a code (a request has no context for a message). A request is
 * a plain value: it may be used from any thread that owns it.
 */
IMGSYNC_EXTERN int imgsync_request_new(imgsync_request **out);
IMGSYNC_EXTERN void imgsync_request_free(imgsync_request *req);
/* Restrict to rows of the given type and to the providers that can emit it (may be called
 * several times: union). EINVAL for an unknown type. */
IMGSYNC_EXTERN int imgsync_request_add_type(imgsync_request *req, int type);
/* Restrict to the named provider (union with other names). EINVAL. */
IMGSYNC_EXTERN int imgsync_request_add_provider(imgsync_request *req, const char *provider);
/*
 * Restrict `provider` to one repository (exact full path); the provider fetches it directly
 * without walking the catalog. Implies add_provider(provider). EINVAL.
 */
IMGSYNC_EXTERN int imgsync_request_add_repository(imgsync_request *req, const char *provider,
                                                  const char *repository);
/*
 * Add a glob filter. Glob syntax: `*` any run of characters except '/', `**` any run including
 * '/', `?` one character except '/', `[a-z]`/`[!a-z]` a class, `{a,b}` alternatives.
 * An item is selected when it matches at least one INCLUDE filter of the field (or the field has
 * none) and no EXCLUDE filter of the field. EINVAL for a malformed pattern.
 */
IMGSYNC_EXTERN int imgsync_request_add_filter(imgsync_request *req, int field, const char *pattern,
                                              int mode);
/* Also list artifacts that are not container images (Helm charts, CNAB, WASM ... on registries
 * that type their artifacts, such as Harbor). Off by default: such rows are then neither listed
 * nor replaced nor removed by the sync (rows kept from an earlier sync that included them stay,
 * and the inventory iterator shows them). EINVAL. */
IMGSYNC_EXTERN int imgsync_request_set_include_non_images(imgsync_request *req, int include);
/* Keep only the newest `n` tags per repository (by update time, then tag name descending);
 * 0 = all. Applied when a sync commits; the inventory iterator does not apply it again. */
IMGSYNC_EXTERN int imgsync_request_set_max_tags(imgsync_request *req, unsigned int n);

/* Select only rows whose latest_update_time is at or after `ms` (ms since the epoch, UTC; 0 =
 * no restriction). Applies to inventory reads (imgsync_iter_new); a sync ignores it. EINVAL for
 * a negative value. */
IMGSYNC_EXTERN int imgsync_request_set_updated_since(imgsync_request *req, int64_t ms);

#ifdef __cplusplus
}
#endif
#endif /* IMGSYNC_REQUEST_H */
