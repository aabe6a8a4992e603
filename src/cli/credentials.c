/* imgsync: passwords from the environment or a file. */
#include "cli/credentials.h"
#include "cli/registries.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Strip the trailing newline(s) an editor or `echo` leaves in a password file. */
static void strip_newlines(char *s, size_t *len)
{
    while (*len > 0 && (s[*len - 1] == '\n' || s[*len - 1] == '\r'))
        s[--*len] = '\0';
}

static int password_from_env(const config *cfg, imgsync_provider *p, const char *name,
                             const char *var, int *rc)
{
    const char *value = getenv(var);

    if (value == NULL || *value == '\0') {
        config_error(cfg, "registry '%s': environment variable %s (password_env) is %s", name, var,
                     value == NULL ? "not set" : "empty");
        return EXIT_USAGE;
    }
    *rc = imgsync_provider_set(p, "password", value);
    return 0;
}

static int password_from_file(const config *cfg, imgsync_provider *p, const char *name,
                              const char *path, int *rc)
{
    char *secret = NULL;
    size_t len = 0;

    if (read_file(path, MAX_PASSWORD_BYTES, &secret, &len) != 0) {
        config_error(cfg, "registry '%s': cannot read password_file %s: %s", name, path,
                     strerror(errno));
        return EXIT_USAGE;
    }
    strip_newlines(secret, &len);
    if (len == 0) {
        config_error(cfg, "registry '%s': password_file %s is empty", name, path);
        free(secret);
        return EXIT_USAGE;
    }
    *rc = imgsync_provider_set(p, "password", secret);
    wipe(secret, len); /* the library keeps its own copy */
    free(secret);
    return 0;
}

int set_password_from(imgsync_ctx *ctx, const config *cfg, imgsync_provider *p, const char *name,
                      const char *key, const char *source)
{
    int rc = 0, status;

    if (strcmp(key, "password_env") == 0)
        status = password_from_env(cfg, p, name, source, &rc);
    else
        status = password_from_file(cfg, p, name, source, &rc);
    if (status != 0)
        return status;
    if (rc != 0) {
        lib_error(ctx, rc, "config %s: registry '%s': %s", cfg->path, name, key);
        return config_status(rc);
    }
    return 0;
}
