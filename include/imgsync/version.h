/* libimgsync: product version of the headers and of the loaded library. */
#ifndef IMGSYNC_VERSION_H
#define IMGSYNC_VERSION_H

#include "export.h"

#ifdef __cplusplus
extern "C" {
#endif

#define IMGSYNC_VERSION_MAJOR 0
#define IMGSYNC_VERSION_MINOR 1
#define IMGSYNC_VERSION_PATCH 0
#define IMGSYNC_VERSION_STRING "0.1.0"
/* MAJOR*10000 + MINOR*100 + PATCH, comparable with imgsync_version_num(). */
#define IMGSYNC_VERSION_NUM (IMGSYNC_VERSION_MAJOR * 10000 + IMGSYNC_VERSION_MINOR * 100 + IMGSYNC_VERSION_PATCH)

/* Product version of the library actually loaded, e.g. "0.1.0" (static string). Any thread. */
IMGSYNC_EXTERN const char *imgsync_version(void);
/* Same, as IMGSYNC_VERSION_NUM of the loaded library. Any thread. */
IMGSYNC_EXTERN int imgsync_version_num(void);

#ifdef __cplusplus
}
#endif
#endif /* IMGSYNC_VERSION_H */
