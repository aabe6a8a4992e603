/* The platforms of a multi-arch index, from the list its body already holds (internal to
 * src/providers): an OCI index's "manifests", Harbor's "references". */
#ifndef IMGSYNC_PROVIDERS_PLATFORM_H
#define IMGSYNC_PROVIDERS_PLATFORM_H

#include "util/json.h"

/* "os/arch[/variant]" of each child that names one, comma-separated, in the list's order; ""
 * when none does; NULL on ENOMEM. Each child is an object with a "platform" object holding
 * "os", "architecture" and optionally "variant"; a part holding ',' or '/' is skipped. */
char *imgsync__pv_platforms(yajl_val children);

#endif
