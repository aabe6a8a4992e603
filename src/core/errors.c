/* Error texts, version numbers and registry type names. */
#include <string.h>

#include "core/ctx.h"
#include "imgsync.h"
#include "util/buf.h"

const char *imgsync_version(void) { return IMGSYNC_VERSION_STRING; }

int imgsync_version_num(void) { return IMGSYNC_VERSION_NUM; }

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

/* registry_type and image_type of each imgsync_type, indexed by type. */
static const struct {
    const char *registry_type;
    const char *image_type;
} type_names[] = {
    {NULL, NULL},
    {"SwrPrivate", "private_image"},
    {"SwrShared", "shared_image"},
    {"SwrEnterprise", "instance_image"},
    {"Harbor", "harbor"},
    {"Jfrog", "jfrog"},
    {"Oci", "oci"},
};

const char *imgsync_type_registry_name(int type)
{
    if (type < IMGSYNC_TYPE_SWR_PRIVATE || type > IMGSYNC_TYPE_OCI)
        return NULL;
    return type_names[type].registry_type;
}

const char *imgsync__type_image_name(int type)
{
    if (type < IMGSYNC_TYPE_SWR_PRIVATE || type > IMGSYNC_TYPE_OCI)
        return "";
    return type_names[type].image_type;
}

int imgsync_type_from_string(int *out, const char *s)
{
    if (!out || !s)
        return IMGSYNC_EINVAL;
    for (int t = IMGSYNC_TYPE_SWR_PRIVATE; t <= IMGSYNC_TYPE_OCI; t++) {
        if (imgsync__strcaseeq(s, type_names[t].registry_type) ||
            imgsync__strcaseeq(s, type_names[t].image_type)) {
            *out = t;
            return 0;
        }
    }
    return IMGSYNC_ENOTFOUND;
}
