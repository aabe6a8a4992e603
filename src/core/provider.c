/* Providers: configured registries of a context (name, kind, options). */
#include "core/provider.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/authfile.h"
#include "core/ctx.h"
#include "core/kinds.h"
#include "util/buf.h"
#include "util/tls.h"
#include "util/url.h"

static int provider_name_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > 64)
        return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '.' ||
              *s == '_' || *s == '-'))
            return 0;
    return 1;
}

int imgsync_provider_new(imgsync_provider **out, imgsync_ctx *ctx, const char *kind, const char *name)
{
    if (!ctx)
        return IMGSYNC_EINVAL;
    if (!out || !kind)
        return imgsync__ctx_fail(ctx, IMGSYNC_EINVAL, "imgsync_provider_new: out and kind are required");
    *out = NULL;
    if (!provider_name_ok(name))
        return imgsync__ctx_fail(ctx, IMGSYNC_EINVAL, "provider name must be 1-64 of [A-Za-z0-9._-]");
    const imgsync_provider_vtable *vt = imgsync__kind_find(kind);
    if (!vt)
        return imgsync__ctx_fail(ctx, IMGSYNC_ENOTFOUND, "unknown provider kind '%.32s'", kind);
    if (imgsync__ctx_provider(ctx, name))
        return imgsync__ctx_fail(ctx, IMGSYNC_EEXISTS, "provider '%s' already exists", name);
    imgsync_provider *p = calloc(1, sizeof(*p));
    imgsync_provider **arr = realloc(ctx->providers, (ctx->nproviders + 1) * sizeof(*arr));
    if (arr)
        ctx->providers = arr;
    if (!p || !arr || !(p->name = imgsync__strdup(name)) || imgsync__map_put(&ctx->provider_names, name, p, NULL)) {
        if (p)
            free(p->name);
        free(p);
        return imgsync__ctx_fail(ctx, IMGSYNC_ENOMEM, "out of memory");
    }
    p->ctx = ctx;
    p->vt = vt;
    ctx->providers[ctx->nproviders++] = p;
    *out = p;
    return imgsync__ctx_ok(ctx);
}

static int check_endpoint(imgsync_provider *p, const char *value)
{
    imgsync__url u;
    if (imgsync__url_parse(&u, value))
        return imgsync__ctx_fail(p->ctx, IMGSYNC_EINVAL,
                                 "provider '%s': option 'endpoint' is not an http(s) URL without credentials", p->name);
    int has_query = u.query != NULL;
    imgsync__url_clear(&u);
    if (has_query)
        return imgsync__ctx_fail(p->ctx, IMGSYNC_EINVAL, "provider '%s': endpoint must not have a query", p->name);
    return 1;
}

/* ca_file, cert_file, key_file, ca_dir: checked when set, so that a typo fails here and not as a
 * TLS error at the first connection. 1 = one of them and valid, 0 = not one, negative = bad. */
static int check_tls_file(imgsync_provider *p, const char *key, const char *value)
{
    static const struct {
        const char *key;
        int (*check)(const char *path, char *err, size_t errlen);
    } files[] = {{"ca_file", imgsync__tls_check_ca_file},
                 {"cert_file", imgsync__tls_check_ca_file},
                 {"key_file", imgsync__tls_check_key_file},
                 {"ca_dir", imgsync__tls_check_dir}};
    char err[200];
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        if (strcmp(key, files[i].key) != 0)
            continue;
        if (value && files[i].check(value, err, sizeof(err)))
            return imgsync__ctx_fail(p->ctx, IMGSYNC_EINVAL, "provider '%s': %s '%.200s': %s", p->name, key,
                                     value, err);
        return 1;
    }
    return 0;
}

/* "" and "none" (no proxy), or an http, https, socks5 or socks5h URL. The value is never echoed:
 * it may hold the proxy's password. */
static int check_proxy(imgsync_provider *p, const char *value)
{
    static const char *const schemes[] = {"http://", "https://", "socks5://", "socks5h://"};
    if (!*value || !strcmp(value, "none"))
        return 1;
    for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++) {
        size_t n = strlen(schemes[i]);
        if (!strncasecmp(value, schemes[i], n) && value[n] && !strpbrk(value, " \t\r\n"))
            return 1;
    }
    return imgsync__ctx_fail(p->ctx, IMGSYNC_EINVAL,
                             "provider '%s': option 'proxy' must be an http://, https://, socks5:// or socks5h:// "
                             "URL, \"\" or \"none\"", p->name);
}

/* "default", "none" or a readable file (named in the error when it is not). */
static int check_auth_file(imgsync_provider *p, const char *value)
{
    char err[300];
    if (imgsync__authfile_check_value(value, err, sizeof(err)))
        return imgsync__ctx_fail(p->ctx, IMGSYNC_EINVAL, "provider '%s': option 'auth_file': %s", p->name, err);
    return 1;
}

/* Validate an option common to every kind. 1 = known and valid, 0 = not a common key,
 * negative = bad value (ctx error set). A NULL value (reset) is always valid. */
static int check_common_option(imgsync_provider *p, const char *key, const char *value)
{
    if (!strcmp(key, "username")) /* Basic splits "user:password" at the first ':' (RFC 7617) */
        return value && strchr(value, ':')
                   ? imgsync__ctx_fail(p->ctx, IMGSYNC_EINVAL, "provider '%s': username must not contain ':'", p->name)
                   : 1;
    if (!strcmp(key, "password"))
        return 1;
    int b;
    long long n;
    if (!strcmp(key, "insecure") || !strcmp(key, "allow_http")) {
        if (value && imgsync__parse_bool(value, &b))
            return imgsync__ctx_fail(p->ctx, IMGSYNC_EINVAL, "provider '%s': option '%s' must be true or false",
                                     p->name, key);
        return 1;
    }
    if (!strcmp(key, "max_list_pages") || !strcmp(key, "max_list_items")) {
        if (value && imgsync__parse_i64(value, 1, 1000000000, &n))
            return imgsync__ctx_fail(p->ctx, IMGSYNC_EINVAL,
                                     "provider '%s': option '%s' must be an integer from 1 to 1000000000", p->name, key);
        return 1;
    }
    int rc = check_tls_file(p, key, value);
    if (rc)
        return rc;
    if (!strcmp(key, "proxy"))
        return value ? check_proxy(p, value) : 1;
    if (!strcmp(key, "endpoint"))
        return value ? check_endpoint(p, value) : 1;
    if (!strcmp(key, "auth_file"))
        return value ? check_auth_file(p, value) : 1;
    return 0;
}

static int check_kind_option(imgsync_provider *p, const char *key, const char *value)
{
    char err[200] = "";
    int rc = p->vt->check_option ? p->vt->check_option(key, value ? value : "", err, sizeof(err)) : IMGSYNC_ENOTFOUND;
    if (rc == IMGSYNC_ENOTFOUND)
        return imgsync__ctx_fail(p->ctx, IMGSYNC_EINVAL, "provider '%s' (%s): unknown option '%.64s'", p->name,
                                 p->vt->kind, key);
    if (rc && value) /* resetting a known option (NULL) is always fine */
        return imgsync__ctx_fail(p->ctx, IMGSYNC_EINVAL, "provider '%s': option '%s': %s", p->name, key,
                                 err[0] ? err : "bad value");
    return 0;
}

int imgsync_provider_set(imgsync_provider *p, const char *key, const char *value)
{
    if (!p)
        return IMGSYNC_EINVAL;
    if (!key)
        return imgsync__ctx_fail(p->ctx, IMGSYNC_EINVAL, "provider '%s': option key is required", p->name);
    int rc = check_common_option(p, key, value);
    if (rc == 0)
        rc = check_kind_option(p, key, value);
    if (rc < 0)
        return rc;
    if (imgsync__options_set(&p->opts, key, value))
        return imgsync__ctx_fail(p->ctx, IMGSYNC_ENOMEM, "out of memory");
    return imgsync__ctx_ok(p->ctx);
}

const char *imgsync_provider_name(const imgsync_provider *p) { return p ? p->name : ""; }

const char *imgsync_provider_kind(const imgsync_provider *p) { return p ? p->vt->kind : ""; }

int imgsync_provider_type(const imgsync_provider *p) { return p ? p->vt->type : 0; }

const char *imgsync_provider_credential_source(const imgsync_provider *p)
{
    return p && p->cred_source ? p->cred_source : "";
}

void imgsync__provider_destroy(imgsync_provider *p)
{
    imgsync__options_wipe(&p->opts);
    free(p->cred_source);
    free(p->name);
    free(p);
}

int imgsync_provider_free(imgsync_provider *p)
{
    if (!p)
        return 0;
    imgsync_ctx *ctx = p->ctx;
    for (size_t i = 0; i < ctx->ntasks; i++)
        if (imgsync__task_uses(ctx->tasks[i], p->name))
            return imgsync__ctx_fail(ctx, IMGSYNC_EBUSY, "provider '%s' is used by a running task", p->name);
    for (size_t i = 0; i < ctx->nproviders; i++) {
        if (ctx->providers[i] == p) {
            memmove(&ctx->providers[i], &ctx->providers[i + 1], (ctx->nproviders - i - 1) * sizeof(p));
            ctx->nproviders--;
            break;
        }
    }
    imgsync__map_remove(&ctx->provider_names, p->name);
    /* the rows describe the registry, not this object: a persistent inventory keeps them */
    if (!imgsync__store_persistent(ctx->store))
        imgsync__store_drop_provider(ctx->store, p->name);
    imgsync__provider_destroy(p);
    return imgsync__ctx_ok(ctx);
}
