/* TLS file checks with OpenSSL's PEM reader. */
#include "tls.h"

#include <errno.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <string.h>

#include "imgsync/errors.h"

int imgsync__tls_check_ca_file(const char *path, char *err, size_t errlen)
{
    FILE *f = path ? fopen(path, "r") : NULL;
    if (!f) {
        snprintf(err, errlen, "cannot open: %s", path ? strerror(errno) : "no path");
        return IMGSYNC_EINVAL;
    }
    X509 *cert = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    if (!cert) {
        ERR_clear_error(); /* leave OpenSSL's error queue as it was for libcurl */
        snprintf(err, errlen, "no PEM certificate in it");
        return IMGSYNC_EINVAL;
    }
    X509_free(cert);
    return 0;
}
