/* Registry types and their names (a leaf: every layer may use them). */
#include "imgsync/errors.h"
#include "imgsync/request.h"
#include "util/buf.h"

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

const char *imgsync_type_image_name(int type)
{
    if (type < IMGSYNC_TYPE_SWR_PRIVATE || type > IMGSYNC_TYPE_OCI)
        return NULL;
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
