/* imgsync: secrets (password, sk, security_token, token) from the environment or a file. */
#include "cli/credentials.h"
#include "cli/registries.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Strip the trailing newline(s) an editor or `echo` leaves in a secret file. */
static void strip_newlines(char *s, size_t *len)
{
    while (*len > 0 && (s[*len - 1] == '\n' || s[*len - 1] == '\r'))
        s[--*len] = '\0';
}

static int secret_from_env(const config *cfg, imgsync_provider *p, const char *name,
                           const char *secret, const char *key, const char *var, int *rc)
{
    const char *value = getenv(var);

    if (value == NULL || *value == '\0') {
        config_error(cfg, "registry '%s': environment variable %s (%s) is %s", name, var, key,
                     value == NULL ? "not set" : "empty");
        return EXIT_USAGE;
    }
    *rc = imgsync_provider_set(p, secret, value);
    return 0;
}

static int secret_from_file(const config *cfg, imgsync_provider *p, const char *name,
                            const char *secret, const char *key, const char *path, int *rc)
{
    char *text = NULL;
    size_t len = 0;

    if (read_file(path, MAX_SECRET_BYTES, &text, &len) != 0) {
        config_error(cfg, "registry '%s': cannot read %s %s: %s", name, key, path,
                     strerror(errno));
        return EXIT_USAGE;
    }
    strip_newlines(text, &len);
    if (len == 0) {
        config_error(cfg, "registry '%s': %s %s is empty", name, key, path);
        free(text);
        return EXIT_USAGE;
    }
    *rc = imgsync_provider_set(p, secret, text);
    wipe(text, len); /* the library keeps its own copy */
    free(text);
    return 0;
}

int set_secret_from(imgsync_ctx *ctx, const config *cfg, imgsync_provider *p, const char *name,
                    const char *key, const char *source)
{
    int rc = 0, status;
    size_t i;
    secret_source from = secret_option(key, &i);

    if (from == SECRET_ENV)
        status = secret_from_env(cfg, p, name, secret_names[i], key, source, &rc);
    else if (from == SECRET_FILE)
        status = secret_from_file(cfg, p, name, secret_names[i], key, source, &rc);
    else
        return EXIT_USAGE; /* not a secret source: a caller's mistake */
    if (status != 0)
        return status;
    if (rc != 0) {
        lib_error(ctx, rc, "config %s: registry '%s': %s", cfg->path, name, key);
        return config_status(rc);
    }
    return 0;
}
