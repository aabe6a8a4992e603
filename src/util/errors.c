/* Error texts (a leaf: every layer may use them). */
#include "imgsync/errors.h"

const char *imgsync_strerror(int code)
{
    switch (code) {
    case IMGSYNC_OK: return "success";
    case IMGSYNC_EINVAL: return "invalid argument";
    case IMGSYNC_ENOMEM: return "out of memory";
    case IMGSYNC_ENOTFOUND: return "not found";
    case IMGSYNC_EEXISTS: return "already exists";
    case IMGSYNC_EAUTH: return "registry did not authorize access";
    case IMGSYNC_ENETWORK: return "network error";
    case IMGSYNC_ETIMEOUT: return "timed out";
    case IMGSYNC_EPROTOCOL: return "malformed or unexpected response";
    case IMGSYNC_EHTTP: return "unexpected HTTP status";
    case IMGSYNC_ETOOBIG: return "response too large";
    case IMGSYNC_ECANCELED: return "canceled";
    case IMGSYNC_EUNSUPPORTED: return "not supported";
    case IMGSYNC_EVERSION: return "unsupported version";
    case IMGSYNC_EBUSY: return "busy";
    case IMGSYNC_ESTORE: return "inventory store error";
    case IMGSYNC_EINSECURE: return "insecure connection not allowed";
    case IMGSYNC_EPARTIAL: return "partially failed";
    case IMGSYNC_EINTERNAL: return "internal error";
    default: return "unknown error";
    }
}
