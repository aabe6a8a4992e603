/* libimgsync: error codes. */
#ifndef IMGSYNC_ERRORS_H
#define IMGSYNC_ERRORS_H

#include "export.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Every fallible call returns 0 or one of these negative codes. Append-only: values are never
 * renumbered or reused. */
typedef enum imgsync_error {
    IMGSYNC_OK = 0,
    IMGSYNC_EINVAL = -1,        /* invalid argument or option value */
    IMGSYNC_ENOMEM = -2,        /* out of memory */
    IMGSYNC_ENOTFOUND = -3,     /* no such provider, task, kind or resource */
    IMGSYNC_EEXISTS = -4,       /* name already in use */
    IMGSYNC_EAUTH = -5,         /* the registry rejected the credentials or denied access */
    IMGSYNC_ENETWORK = -6,      /* connection, DNS or TLS failure */
    IMGSYNC_ETIMEOUT = -7,      /* a request, a task or a wait timed out */
    IMGSYNC_EPROTOCOL = -8,     /* malformed or unexpected response */
    IMGSYNC_EHTTP = -9,         /* unexpected HTTP status */
    IMGSYNC_ETOOBIG = -10,      /* a response, header, token or listing over its limit */
    IMGSYNC_ECANCELED = -11,    /* canceled by the caller */
    IMGSYNC_EUNSUPPORTED = -12, /* not supported by this registry or build */
    IMGSYNC_EVERSION = -13,     /* vtable or structure version not supported */
    IMGSYNC_EBUSY = -14,        /* handle in use (e.g. provider referenced by a running task) */
    IMGSYNC_ESTORE = -15,       /* inventory store failure */
    IMGSYNC_EINSECURE = -16,    /* plain http or disabled TLS verification not explicitly allowed */
    IMGSYNC_EPARTIAL = -17,     /* some scopes failed; the others completed */
    IMGSYNC_EINTERNAL = -18     /* a bug in libimgsync */
} imgsync_error;

/* Static English text for an error code; never NULL ("unknown error" for unknown codes). Any
 * thread. */
IMGSYNC_EXTERN const char *imgsync_strerror(int code);

#ifdef __cplusplus
}
#endif
#endif /* IMGSYNC_ERRORS_H */
