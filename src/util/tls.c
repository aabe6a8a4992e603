/* TLS file checks with OpenSSL's PEM reader. */
#include "tls.h"

#include <dirent.h>
#include <errno.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <string.h>

#include "imgsync/errors.h"

/* The file to read, or NULL with the reason in err. */
static FILE *open_pem(const char *path, char *err, size_t errlen)
{
    FILE *f = path ? fopen(path, "r") : NULL;
    if (!f)
        snprintf(err, errlen, "cannot open: %s", path ? strerror(errno) : "no path");
    return f;
}

int imgsync__tls_check_ca_file(const char *path, char *err, size_t errlen)
{
    FILE *f = open_pem(path, err, errlen);
    if (!f)
        return IMGSYNC_EINVAL;
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

/* Encrypted keys: refuse instead of letting OpenSSL prompt on the terminal. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
    (void)buf, (void)size, (void)rwflag, (void)u;
    return -1;
}

int imgsync__tls_check_key_file(const char *path, char *err, size_t errlen)
{
    FILE *f = open_pem(path, err, errlen);
    if (!f)
        return IMGSYNC_EINVAL;
    EVP_PKEY *key = PEM_read_PrivateKey(f, NULL, no_passphrase, NULL);
    fclose(f);
    if (!key) {
        ERR_clear_error();
        snprintf(err, errlen, "no unencrypted PEM private key in it");
        return IMGSYNC_EINVAL;
    }
    EVP_PKEY_free(key);
    return 0;
}

/* One directory of the list, n bytes at path. */
static int check_one_dir(const char *path, size_t n, char *err, size_t errlen)
{
    char dir[4096];
    if (n == 0 || n >= sizeof(dir)) {
        snprintf(err, errlen, "an empty or overlong directory in the list");
        return IMGSYNC_EINVAL;
    }
    memcpy(dir, path, n);
    dir[n] = '\0';
    DIR *d = opendir(dir);
    if (!d) {
        snprintf(err, errlen, "cannot open the directory: %s", strerror(errno));
        return IMGSYNC_EINVAL;
    }
    closedir(d);
    return 0;
}

/* A directory, or a ':'-separated list of them as OpenSSL's CA path takes it. */
int imgsync__tls_check_dir(const char *path, char *err, size_t errlen)
{
    if (!path) {
        snprintf(err, errlen, "no path");
        return IMGSYNC_EINVAL;
    }
    for (const char *p = path;; ) {
        size_t n = strcspn(p, ":");
        int rc = check_one_dir(p, n, err, errlen);
        if (rc || !p[n])
            return rc;
        p += n + 1;
    }
}
