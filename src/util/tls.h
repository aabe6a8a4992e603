/* TLS file checks (internal). */
#ifndef IMGSYNC_UTIL_TLS_H
#define IMGSYNC_UTIL_TLS_H

#include <stddef.h>

/* 0 when `path` is a readable PEM file holding at least one X.509 certificate; else
 * IMGSYNC_EINVAL with a reason in err ("cannot open: No such file or directory", "no PEM
 * certificate in it"). */
int imgsync__tls_check_ca_file(const char *path, char *err, size_t errlen);
/* The same for a PEM private key (unencrypted: nothing could type its passphrase): EINVAL with
 * "cannot open: ..." or "no unencrypted PEM private key in it". */
int imgsync__tls_check_key_file(const char *path, char *err, size_t errlen);
/* 0 when `path` is a directory we may read (CA certificates named by their hash, as
 * `openssl rehash` leaves them); else IMGSYNC_EINVAL with a reason in err. */
int imgsync__tls_check_dir(const char *path, char *err, size_t errlen);

#endif
