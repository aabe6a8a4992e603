/* Provider kinds: the process-wide registry that built-in and third-party vtables join. */
#include "kinds.h"

#include <pthread.h>
#include <string.h>

extern const imgsync_provider_vtable imgsync__oci_provider;
extern const imgsync_provider_vtable imgsync__harbor_provider;
extern const imgsync_provider_vtable imgsync__swr_private_provider;
extern const imgsync_provider_vtable imgsync__swr_shared_provider;
extern const imgsync_provider_vtable imgsync__swr_enterprise_provider;
extern const imgsync_provider_vtable imgsync__jfrog_provider;

#define MAX_KINDS 64
#define MAX_TYPES 16

static pthread_mutex_t kinds_lock = PTHREAD_MUTEX_INITIALIZER;
static const imgsync_provider_vtable *kinds[MAX_KINDS];
static size_t nkinds;

static int kind_name_ok(const char *k)
{
    size_t n = k ? strlen(k) : 0;
    if (n == 0 || n > 32)
        return 0;
    for (; *k; k++)
        if (!((*k >= 'a' && *k <= 'z') || (*k >= '0' && *k <= '9') || *k == '_' || *k == '-'))
            return 0;
    return 1;
}

/* The types list of a version-2 vtable: known types, at most MAX_TYPES, holding `type`. */
static int types_ok(const imgsync_provider_vtable *vt)
{
    const int *types = IMGSYNC__VT2(vt, types);
    if (!types)
        return 1;
    size_t n = 0;
    int has_default = 0;
    for (; types[n]; n++) {
        if (n >= MAX_TYPES || !imgsync_type_registry_name(types[n]))
            return 0;
        has_default |= types[n] == vt->type;
    }
    return has_default;
}

int imgsync_provider_register(const imgsync_provider_vtable *vt)
{
    if (!vt)
        return IMGSYNC_EINVAL;
    if (vt->version == 0 || vt->version > IMGSYNC_PROVIDER_VTABLE_VERSION)
        return IMGSYNC_EVERSION;
    if (!kind_name_ok(vt->kind) || !vt->start || !vt->on_response || !imgsync_type_registry_name(vt->type) ||
        !types_ok(vt))
        return IMGSYNC_EINVAL;
    int rc = 0;
    pthread_mutex_lock(&kinds_lock);
    for (size_t i = 0; i < nkinds && !rc; i++)
        if (strcmp(kinds[i]->kind, vt->kind) == 0)
            rc = kinds[i] == vt ? 1 : IMGSYNC_EEXISTS;
    if (!rc && nkinds == MAX_KINDS)
        rc = IMGSYNC_ENOMEM;
    if (!rc)
        kinds[nkinds++] = vt;
    pthread_mutex_unlock(&kinds_lock);
    return rc == 1 ? 0 : rc;
}

const imgsync_provider_vtable *imgsync__kind_find(const char *kind)
{
    const imgsync_provider_vtable *vt = NULL;
    pthread_mutex_lock(&kinds_lock);
    for (size_t i = 0; kind && i < nkinds && !vt; i++)
        if (strcmp(kinds[i]->kind, kind) == 0)
            vt = kinds[i];
    pthread_mutex_unlock(&kinds_lock);
    return vt;
}

static pthread_once_t builtin_once = PTHREAD_ONCE_INIT;

static void register_builtins(void)
{
    imgsync_provider_register(&imgsync__oci_provider);
    imgsync_provider_register(&imgsync__harbor_provider);
    imgsync_provider_register(&imgsync__swr_private_provider);
    imgsync_provider_register(&imgsync__swr_shared_provider);
    imgsync_provider_register(&imgsync__swr_enterprise_provider);
    imgsync_provider_register(&imgsync__jfrog_provider);
}

void imgsync__builtin_kinds(void) { pthread_once(&builtin_once, register_builtins); }

size_t imgsync__kind_types(const imgsync_provider_vtable *vt, int *out, size_t max)
{
    const int *types = IMGSYNC__VT2(vt, types);
    if (!types) {
        if (max)
            out[0] = vt->type;
        return 1;
    }
    size_t n = 0;
    for (; types[n]; n++)
        if (n < max)
            out[n] = types[n];
    return n;
}

int imgsync__kind_has_type(const imgsync_provider_vtable *vt, int type)
{
    int types[MAX_TYPES];
    size_t n = imgsync__kind_types(vt, types, MAX_TYPES);
    for (size_t i = 0; i < n && i < MAX_TYPES; i++)
        if (types[i] == type)
            return 1;
    return 0;
}

int imgsync__kind_secret_option(const imgsync_provider_vtable *vt, const char *key)
{
    static const char *const common[] = {"password", "token", "sk", "security_token", "identity_token"};
    for (size_t i = 0; i < sizeof(common) / sizeof(common[0]); i++)
        if (!strcmp(key, common[i]))
            return 1;
    const char *const *extra = IMGSYNC__VT2(vt, secret_options);
    for (size_t i = 0; extra && extra[i]; i++)
        if (!strcmp(key, extra[i]))
            return 1;
    return 0;
}
