/* TLS file checks (internal). */
#ifndef IMGSYNC_UTIL_TLS_H
#define IMGSYNC_UTIL_TLS_H

#include <stddef.h>

/* 0 when `path` is a readable PEM file holding at least one X.509 certificate; else
 * IMGSYNC_EINVAL with a reason in err ("cannot open: No such file or directory", "no PEM
 * certificate in it"). */
int imgsync__tls_check_ca_file(const char *path, char *err, size_t errlen);

#endif
