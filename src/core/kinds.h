/* The process-wide registry of provider kinds (internal). */
#ifndef IMGSYNC_CORE_KINDS_H
#define IMGSYNC_CORE_KINDS_H

#include <stddef.h>

#include "imgsync/sys/provider.h"

/* Register the built-in kinds once. */
void imgsync__builtin_kinds(void);
/* The vtable of a kind, or NULL. */
const imgsync_provider_vtable *imgsync__kind_find(const char *kind);
/* The types a kind's rows may carry (its vtable's `types`, or just `type`); returns how many
 * (at most max are written). */
size_t imgsync__kind_types(const imgsync_provider_vtable *vt, int *out, size_t max);
int imgsync__kind_has_type(const imgsync_provider_vtable *vt, int type);
/* 1 when the option key of this kind holds a secret. */
int imgsync__kind_secret_option(const imgsync_provider_vtable *vt, const char *key);
/* The member of a version-2 vtable, or NULL for an older one. */
#define IMGSYNC__VT2(vt, member) ((vt)->version >= 2 ? (vt)->member : NULL)

#endif
