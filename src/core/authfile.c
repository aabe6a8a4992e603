/* Credentials from Docker/Podman auth files: which file, reading it, and asking its helper.
 * Runs at the start of a run, on the run's own copy of the options (providers do no I/O). */
#include "core/authfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/credhelper.h"
#include "core/kinds.h"
#include "imgsync/errors.h"
#include "util/buf.h"
#include "util/dockerauth.h"

/* A path as messages show it: at most 200 bytes, control characters as '?'. */
static void show_path(char *out, size_t outlen, const char *path)
{
    snprintf(out, outlen, "%.200s", path);
    for (char *p = out; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = '?';
}

static int readable_file(const char *path, char *err, size_t errlen)
{
    struct stat st;
    char shown[210];
    show_path(shown, sizeof(shown), path);
    if (stat(path, &st) || access(path, R_OK)) {
        snprintf(err, errlen, "auth file '%s': %s", shown, strerror(errno));
        return IMGSYNC_EINVAL;
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "auth file '%s': not a regular file", shown);
        return IMGSYNC_EINVAL;
    }
    return 0;
}

int imgsync__authfile_check_value(const char *value, char *err, size_t errlen)
{
    if (!strcmp(value, "default") || !strcmp(value, "none"))
        return 0;
    if (!value[0]) {
        snprintf(err, errlen, "auth_file must be a path, \"default\" or \"none\"");
        return IMGSYNC_EINVAL;
    }
    return readable_file(value, err, errlen);
}

/* ---- which file ------------------------------------------------------------------------------ */

/* dir + "/" + name when dir is set, malloc'd; NULL otherwise or on ENOMEM. */
static char *env_path(const char *var, const char *name)
{
    const char *dir = getenv(var);
    return dir && dir[0] ? imgsync__strjoin(dir, "/", name, (char *)NULL) : NULL;
}

/* The first file of skopeo's and regctl's search order that exists, malloc'd; NULL when none. */
static char *default_path(void)
{
    char *c[4] = {env_path("REGISTRY_AUTH_FILE", ""), env_path("XDG_RUNTIME_DIR", "containers/auth.json"),
                  getenv("DOCKER_CONFIG") && getenv("DOCKER_CONFIG")[0] ? env_path("DOCKER_CONFIG", "config.json")
                                                                        : env_path("HOME", ".docker/config.json"),
                  NULL};
    if (c[0]) /* "$REGISTRY_AUTH_FILE/" was made: the variable names the file itself */
        c[0][strlen(c[0]) - 1] = '\0';
    char *found = NULL;
    for (int i = 0; i < 3; i++) {
        if (!found && c[i] && access(c[i], F_OK) == 0)
            found = c[i];
        else
            free(c[i]);
    }
    return found;
}

/* ---- reading it ------------------------------------------------------------------------------ */

/* The whole file, malloc'd (the caller wipes it: it holds secrets). */
static int read_all(const char *path, char **text, size_t *len, char *err, size_t errlen)
{
    int rc = readable_file(path, err, errlen);
    if (rc)
        return rc;
    char shown[210];
    show_path(shown, sizeof(shown), path);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st)) {
        snprintf(err, errlen, "auth file '%s': %s", shown, strerror(errno));
        if (fd >= 0)
            close(fd);
        return IMGSYNC_EINVAL;
    }
    if (st.st_size > IMGSYNC__AUTHFILE_MAX_BYTES) {
        snprintf(err, errlen, "auth file '%s': larger than %d bytes", shown, IMGSYNC__AUTHFILE_MAX_BYTES);
        close(fd);
        return IMGSYNC_ETOOBIG;
    }
    char *buf = malloc((size_t)st.st_size + 1);
    size_t n = 0;
    ssize_t r = 1;
    while (buf && n < (size_t)st.st_size && (r = read(fd, buf + n, (size_t)st.st_size - n)) != 0)
        if (r > 0)
            n += (size_t)r;
        else if (errno != EINTR)
            break;
    close(fd);
    if (!buf || r < 0) {
        snprintf(err, errlen, "auth file '%s': %s", shown, buf ? strerror(errno) : "out of memory");
        imgsync__wipe(buf, n);
        free(buf);
        return buf ? IMGSYNC_EINVAL : IMGSYNC_ENOMEM;
    }
    *text = buf;
    *len = n;
    return 0;
}

static int lookup_file(imgsync__dcred *cred, const char *path, const char *host, char *err, size_t errlen)
{
    char *text = NULL;
    size_t len = 0;
    int rc = read_all(path, &text, &len, err, errlen);
    if (rc)
        return rc;
    char why[160], shown[210];
    rc = imgsync__dockerauth_lookup(cred, text, len, host, why, sizeof(why));
    imgsync__wipe(text, len);
    free(text);
    show_path(shown, sizeof(shown), path);
    if (rc == IMGSYNC_EINVAL)
        snprintf(err, errlen, "auth file '%s': %s", shown, why);
    return rc;
}

/* ---- using what it gave ---------------------------------------------------------------------- */

static int own_credentials(const imgsync__options *opts, const imgsync_provider_vtable *vt)
{
    for (size_t i = 0; i < opts->n; i++)
        if (!strcmp(opts->v[i].key, "username") || imgsync__kind_secret_option(vt, opts->v[i].key))
            return 1;
    return 0;
}

/* Basic credentials become "username"/"password"; an identity token (an OAuth2 refresh token)
 * the run's internal "identity_token", which the engine POSTs to the token realm. */
static int apply(imgsync__options *opts, const imgsync__dcred *cred)
{
    int rc = cred->kind == IMGSYNC__DCRED_IDENTITY
                 ? imgsync__options_set(opts, "identity_token", cred->secret)
                 : imgsync__options_set(opts, "username", cred->username ? cred->username : "") ||
                       imgsync__options_set(opts, "password", cred->secret);
    return rc ? IMGSYNC_ENOMEM : 0;
}

static int resolve_file(imgsync__options *opts, const char *path, const char *host, char **source, char *err,
                        size_t errlen)
{
    imgsync__dcred cred = {0}, answer = {0};
    char shown[210], from[320];
    show_path(shown, sizeof(shown), path);
    int rc = lookup_file(&cred, path, host, err, errlen);
    if (!rc && cred.kind == IMGSYNC__DCRED_HELPER) {
        snprintf(from, sizeof(from), "credential helper docker-credential-%s (auth file %s)", cred.helper, shown);
        rc = imgsync__credhelper_get(&answer, cred.helper, cred.server, IMGSYNC__CREDHELPER_TIMEOUT_MS, err, errlen);
        if (!rc && answer.kind)
            rc = apply(opts, &answer);
        if (!rc)
            *source = answer.kind ? imgsync__strdup(from)
                                  : imgsync__asprintf("none (docker-credential-%s has no credentials for %s)",
                                                      cred.helper, host);
        imgsync__dcred_clear(&answer);
    } else if (!rc) {
        snprintf(from, sizeof(from), "auth file %s", shown);
        if (cred.kind)
            rc = apply(opts, &cred);
        if (!rc)
            *source = cred.kind ? imgsync__strdup(from) : imgsync__asprintf("none (no entry for %s in %s)", host, shown);
    }
    imgsync__dcred_clear(&cred);
    return !rc && !*source ? IMGSYNC_ENOMEM : rc;
}

int imgsync__authfile_resolve(imgsync__options *opts, const imgsync_provider_vtable *vt, const char *ctx_default,
                              const char *host, char **source, char *err, size_t errlen)
{
    *source = NULL;
    const char *setting = imgsync__options_get(opts, "auth_file");
    if (!setting)
        setting = ctx_default;
    if (own_credentials(opts, vt))
        *source = imgsync__strdup("options");
    else if (!setting || !strcmp(setting, "none") || !host)
        *source = imgsync__strdup("none");
    else if (strcmp(setting, "default") != 0)
        return resolve_file(opts, setting, host, source, err, errlen);
    else {
        char *path = default_path();
        if (!path)
            *source = imgsync__strdup("none (no auth file found)");
        else {
            int rc = resolve_file(opts, path, host, source, err, errlen);
            free(path);
            return rc;
        }
    }
    return *source ? 0 : IMGSYNC_ENOMEM;
}
