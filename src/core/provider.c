/* Provider kinds (the process-wide registry) and configured providers. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/ctx.h"
#include "core/task.h"
#include "util/buf.h"
#include "util/url.h"

extern const imgsync_provider_vtable imgsync__oci_provider;
extern const imgsync_provider_vtable imgsync__harbor_provider;

#define MAX_KINDS 64

static pthread_mutex_t kinds_lock = PTHREAD_MUTEX_INITIALIZER;
static const imgsync_provider_vtable *kinds[MAX_KINDS];
static size_t nkinds;

static int kind_name_ok(const char *k)
{
    size_t n = k ? strlen(k) : 0;
    if (n == 0 || n > 32)
        return 0;
    for (; *k; k++)
        if (!((*k >= 'a' && *k <= 'z') || (*k >= '0' && *k <= '9') || *k == '_' || *k == '-'))
            return 0;
    return 1;
}

int imgsync_provider_register(const imgsync_provider_vtable *vt)
{
    if (!vt)
        return IMGSYNC_EINVAL;
    if (vt->version == 0 || vt->version > IMGSYNC_PROVIDER_VTABLE_VERSION)
        return IMGSYNC_EVERSION;
    if (!kind_name_ok(vt->kind) || !vt->start || !vt->on_response || !imgsync_type_registry_name(vt->type))
        return IMGSYNC_EINVAL;
    int rc = 0;
    pthread_mutex_lock(&kinds_lock);
    for (size_t i = 0; i < nkinds && !rc; i++)
        if (strcmp(kinds[i]->kind, vt->kind) == 0)
            rc = kinds[i] == vt ? 1 : IMGSYNC_EEXISTS;
    if (!rc && nkinds == MAX_KINDS)
        rc = IMGSYNC_ENOMEM;
    if (!rc)
        kinds[nkinds++] = vt;
    pthread_mutex_unlock(&kinds_lock);
    return rc == 1 ? 0 : rc;
}

static const imgsync_provider_vtable *kind_find(const char *kind)
{
    const imgsync_provider_vtable *vt = NULL;
    pthread_mutex_lock(&kinds_lock);
    for (size_t i = 0; i < nkinds && !vt; i++)
        if (strcmp(kinds[i]->kind, kind) == 0)
            vt = kinds[i];
    pthread_mutex_unlock(&kinds_lock);
    return vt;
}

static pthread_once_t builtin_once = PTHREAD_ONCE_INIT;

static void register_builtins(void)
{
    imgsync_provider_register(&imgsync__oci_provider);
    imgsync_provider_register(&imgsync__harbor_provider);
}

void imgsync__builtin_kinds(void) { pthread_once(&builtin_once, register_builtins); }

static int provider_name_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > 64)
        return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '.' || *s == '_' || *s == '-'))
            return 0;
    return 1;
}

int imgsync_provider_new(imgsync_provider **out, imgsync_ctx *ctx, const char *kind, const char *name)
{
    if (!out || !ctx || !kind)
        return IMGSYNC_EINVAL;
    *out = NULL;
    if (!provider_name_ok(name))
        return imgsync__ctx_fail(ctx, IMGSYNC_EINVAL, "provider name must be 1-64 of [A-Za-z0-9._-]");
    const imgsync_provider_vtable *vt = kind_find(kind);
    if (!vt)
        return imgsync__ctx_fail(ctx, IMGSYNC_ENOTFOUND, "unknown provider kind '%.32s'", kind);
    if (imgsync__ctx_provider(ctx, name))
        return imgsync__ctx_fail(ctx, IMGSYNC_EEXISTS, "provider '%s' already exists", name);
    imgsync_provider *p = calloc(1, sizeof(*p));
    imgsync_provider **arr = realloc(ctx->providers, (ctx->nproviders + 1) * sizeof(*arr));
    if (arr)
        ctx->providers = arr;
    if (!p || !arr || !(p->name = imgsync__strdup(name))) {
        free(p);
        return IMGSYNC_ENOMEM;
    }
    p->ctx = ctx;
    p->vt = vt;
    ctx->providers[ctx->nproviders++] = p;
    *out = p;
    imgsync__ctx_ok(ctx);
    return 0;
}

/* Validate an option common to every kind. 1 = known and valid, 0 = not a common key,
 * negative = bad value (ctx error set). */
static int check_common_option(imgsync_provider *p, const char *key, const char *value)
{
    static const char *plain[] = {"username", "password", "ca_file"};
    int b;
    for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++)
        if (!strcmp(key, plain[i]))
            return 1;
    if (!strcmp(key, "insecure") || !strcmp(key, "allow_http")) {
        if (value && imgsync__parse_bool(value, &b))
            return imgsync__ctx_fail(p->ctx, IMGSYNC_EINVAL, "provider '%s': option '%s' must be true or false",
                                     p->name, key);
        return 1;
    }
    if (!strcmp(key, "endpoint")) {
        imgsync__url u;
        if (value && imgsync__url_parse(&u, value))
            return imgsync__ctx_fail(p->ctx, IMGSYNC_EINVAL,
                                     "provider '%s': option 'endpoint' is not an http(s) URL without credentials",
                                     p->name);
        if (value) {
            int has_query = u.query != NULL;
            imgsync__url_clear(&u);
            if (has_query)
                return imgsync__ctx_fail(p->ctx, IMGSYNC_EINVAL, "provider '%s': endpoint must not have a query",
                                         p->name);
        }
        return 1;
    }
    return 0;
}

int imgsync_provider_set(imgsync_provider *p, const char *key, const char *value)
{
    if (!p || !key)
        return IMGSYNC_EINVAL;
    imgsync_ctx *ctx = p->ctx;
    if (p->runs)
        return imgsync__ctx_fail(ctx, IMGSYNC_EBUSY, "provider '%s' is used by a running task", p->name);
    int rc = check_common_option(p, key, value);
    if (rc < 0)
        return rc;
    if (rc == 0) {
        char err[200] = "";
        rc = p->vt->check_option ? p->vt->check_option(key, value ? value : "", err, sizeof(err))
                                 : IMGSYNC_ENOTFOUND;
        if (rc == IMGSYNC_ENOTFOUND)
            return imgsync__ctx_fail(ctx, IMGSYNC_EINVAL, "provider '%s' (%s): unknown option '%.64s'", p->name,
                                     p->vt->kind, key);
        if (rc && value) /* resetting a known option (NULL) is always fine */
            return imgsync__ctx_fail(ctx, IMGSYNC_EINVAL, "provider '%s': option '%s': %s", p->name, key,
                                     err[0] ? err : "bad value");
    }
    for (size_t i = 0; i < p->nopts; i++) {
        if (strcmp(p->opts[i].key, key) != 0)
            continue;
        if (!value) {
            free(p->opts[i].key);
            free(p->opts[i].value);
            p->opts[i] = p->opts[--p->nopts];
            imgsync__ctx_ok(ctx);
            return 0;
        }
        if (imgsync__replace_str(&p->opts[i].value, value))
            return IMGSYNC_ENOMEM;
        imgsync__ctx_ok(ctx);
        return 0;
    }
    if (!value)
        return 0;
    imgsync__option *arr = realloc(p->opts, (p->nopts + 1) * sizeof(*arr));
    if (!arr)
        return IMGSYNC_ENOMEM;
    p->opts = arr;
    char *k = imgsync__strdup(key), *v = imgsync__strdup(value);
    if (!k || !v) {
        free(k);
        free(v);
        return IMGSYNC_ENOMEM;
    }
    p->opts[p->nopts].key = k;
    p->opts[p->nopts].value = v;
    p->nopts++;
    imgsync__ctx_ok(ctx);
    return 0;
}

const char *imgsync_provider_name(const imgsync_provider *p) { return p ? p->name : ""; }

const char *imgsync_provider_kind(const imgsync_provider *p) { return p ? p->vt->kind : ""; }

int imgsync_provider_type(const imgsync_provider *p) { return p ? p->vt->type : 0; }

int imgsync_provider_free(imgsync_provider *p)
{
    if (!p)
        return 0;
    imgsync_ctx *ctx = p->ctx;
    if (p->runs)
        return imgsync__ctx_fail(ctx, IMGSYNC_EBUSY, "provider '%s' is used by a running task", p->name);
    for (size_t i = 0; i < ctx->nproviders; i++) {
        if (ctx->providers[i] == p) {
            memmove(&ctx->providers[i], &ctx->providers[i + 1], (ctx->nproviders - i - 1) * sizeof(p));
            ctx->nproviders--;
            break;
        }
    }
    imgsync__store_drop_provider(ctx->store, p->name);
    for (size_t i = 0; i < p->nopts; i++) {
        /* wipe secrets before giving the memory back */
        memset(p->opts[i].value, 0, strlen(p->opts[i].value));
        free(p->opts[i].key);
        free(p->opts[i].value);
    }
    free(p->opts);
    free(p->name);
    free(p);
    return 0;
}

int imgsync_provider_check(imgsync_provider *p)
{
    if (!p)
        return IMGSYNC_EINVAL;
    imgsync_ctx *ctx = p->ctx;
    if (ctx->in_perform)
        return imgsync__ctx_fail(ctx, IMGSYNC_EBUSY, "imgsync_provider_check called from a callback");
    imgsync__task *t;
    int rc = imgsync__task_new(&t, ctx, NULL, IMGSYNC_RUN_CHECK, p);
    if (rc)
        return rc;
    ctx->in_perform = 1;
    while (imgsync__task_step(t))
        imgsync__engine_perform(ctx->engine, 100);
    ctx->in_perform = 0;
    imgsync_run *run = t->nruns ? t->runs[0] : NULL;
    rc = run ? run->error : IMGSYNC_EINTERNAL;
    if (rc)
        imgsync__ctx_fail(ctx, rc, "%s", run && run->reason ? run->reason : "check failed");
    else
        imgsync__ctx_ok(ctx);
    imgsync__task_free(t);
    return rc;
}
