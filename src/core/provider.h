/* Configured providers (internal). */
#ifndef IMGSYNC_CORE_PROVIDER_H
#define IMGSYNC_CORE_PROVIDER_H

#include "core/options.h"
#include "imgsync/sys/provider.h"

struct imgsync_provider {
    imgsync_ctx *ctx; /* the owner, for error messages */
    const imgsync_provider_vtable *vt;
    char *name;
    imgsync__options opts;
    char *cred_source; /* where the last check's credentials came from (never a secret), or NULL */
};

/* Free a provider's memory (its options wiped); the caller unlinked it. */
void imgsync__provider_destroy(imgsync_provider *p);

#endif
