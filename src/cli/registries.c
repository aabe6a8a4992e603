/* imgsync: creating the context's providers and settings from the configuration. */
#include "cli/registries.h"
#include "cli/credentials.h"

#include <stdlib.h>
#include <string.h>

int config_status(int rc)
{
    return rc == IMGSYNC_EINVAL || rc == IMGSYNC_ENOTFOUND || rc == IMGSYNC_EEXISTS ||
                   rc == IMGSYNC_EUNSUPPORTED || rc == IMGSYNC_EINSECURE
               ? EXIT_USAGE
               : EXIT_FAIL;
}

int apply_settings(imgsync_ctx *ctx, const config *cfg)
{
    size_t i;
    int rc;

    /* a registry that gives no credentials takes them from the user's Docker/Podman login,
     * unless the settings say otherwise ("auth_file": a path or "none") */
    if ((rc = imgsync_ctx_set(ctx, "auth_file", "default")) != 0) {
        lib_error(ctx, rc, "cannot set the default auth file");
        return EXIT_FAIL;
    }
    if (cfg->settings == NULL)
        return 0;
    for (i = 0; i < cfg->settings->u.object.len; i++) {
        const char *key = cfg->settings->u.object.keys[i], *value = NULL;
        if (is_comment_key(key))
            continue;
        scalar_text(cfg->settings->u.object.values[i], &value); /* validated */
        if (value == NULL)
            continue; /* null: keep the default */
        if ((rc = imgsync_ctx_set(ctx, key, value)) != 0) {
            lib_error(ctx, rc, "config %s: settings \"%s\"", cfg->path, key);
            return config_status(rc);
        }
    }
    return 0;
}

/* One registry option: a secret's source (X_env, X_file), or a provider option as written. */
static int set_option(imgsync_ctx *ctx, const config *cfg, imgsync_provider *p, const char *name,
                      const char *key, yajl_val v)
{
    const char *value = NULL;
    secret_source from;
    size_t i;
    int rc;

    if (is_comment_key(key) || strcmp(key, "name") == 0 || strcmp(key, "type") == 0)
        return 0;
    from = secret_option(key, &i);
    if (from == SECRET_ENV || from == SECRET_FILE)
        return set_secret_from(ctx, cfg, p, name, key, YAJL_GET_STRING(v));
    /* Everything else, a plain secret included, is a provider option as written. */
    scalar_text(v, &value); /* validated */
    if (value == NULL)
        return 0; /* null: keep the default */
    if ((rc = imgsync_provider_set(p, key, value)) != 0) {
        lib_error(ctx, rc, "config %s: registry '%s': option \"%s\"", cfg->path, name, key);
        return config_status(rc);
    }
    return 0;
}

/* The CA variable `var` as provider option `key`; 0 or an exit status after saying why. */
static int tls_env_option(imgsync_ctx *ctx, imgsync_provider *p, const char *var, const char *key)
{
    const char *value = getenv(var);
    int rc;

    if (value == NULL || *value == '\0')
        return 0;
    if ((rc = imgsync_provider_set(p, key, value)) != 0) {
        lib_error(ctx, rc, "%s", var);
        return config_status(rc);
    }
    return 0;
}

int apply_tls_env(imgsync_ctx *ctx, imgsync_provider *p, int has_ca_file, int has_ca_dir)
{
    int status = 0;

    if (has_ca_file)
        return 0;
    if ((status = tls_env_option(ctx, p, "SSL_CERT_FILE", "ca_file")) != 0)
        return status;
    return has_ca_dir ? 0 : tls_env_option(ctx, p, "SSL_CERT_DIR", "ca_dir");
}

int build_provider(imgsync_ctx *ctx, const config *cfg, yajl_val reg, imgsync_provider **out)
{
    const char *name = member_string(reg, "name"), *kind = member_string(reg, "type");
    imgsync_provider *p = NULL;
    size_t i;
    int rc, status;

    if ((rc = imgsync_provider_new(&p, ctx, kind, name)) != 0) {
        lib_error(ctx, rc, "config %s: registry '%s' of type '%s'", cfg->path, name, kind);
        return config_status(rc);
    }
    for (i = 0; i < reg->u.object.len; i++)
        if ((status = set_option(ctx, cfg, p, name, reg->u.object.keys[i],
                                 reg->u.object.values[i])) != 0)
            return status;
    if ((status = apply_tls_env(ctx, p, member_string(reg, "ca_file") != NULL,
                                member_string(reg, "ca_dir") != NULL)) != 0)
        return status;
    if (out != NULL)
        *out = p;
    return 0;
}

int build_providers(imgsync_ctx *ctx, const config *cfg, const strlist *wanted)
{
    size_t i;
    int status;

    for (i = 0; i < cfg->registries->u.array.len; i++) {
        yajl_val reg = cfg->registries->u.array.values[i];
        if (wanted->len > 0 && !strlist_has(wanted, config_registry_name(cfg, i)))
            continue;
        if ((status = build_provider(ctx, cfg, reg, NULL)) != 0)
            return status;
    }
    return 0;
}
