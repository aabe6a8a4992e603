/* Secrets a provider keeps across the runs of one registry (an IAM token valid for a day, say),
 * so that every sync does not log in again. In memory only, in the context, never in the store.
 * An entry is found again only by a run of the same registry name with exactly the same options:
 * their SHA-256 is part of the key, so a changed password or endpoint never reuses a token the
 * old one obtained. Values are wiped when replaced, forgotten, expired or the context ends. */
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "core/run.h"
#include "util/buf.h"
#include "util/map.h"

#define MAX_KEY 64 /* provider-chosen key names: short ASCII words */

typedef struct kept {
    char *value;
    int64_t expires_ms;
} kept;

static void kept_free(kept *k)
{
    if (k) {
        imgsync__wipe_free(k->value);
        free(k);
    }
}

static int cmp_option(const void *a, const void *b)
{
    return strcmp((*(const imgsync__option *const *)a)->key, (*(const imgsync__option *const *)b)->key);
}

/* SHA-256 over the registry name and its options sorted by key, each string with its NUL. */
static int options_digest(const imgsync_run *run, unsigned char md[32])
{
    const imgsync__option **v = malloc((run->opts.n + 1) * sizeof(*v));
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    int ok = v && c && EVP_DigestInit_ex(c, EVP_sha256(), NULL) &&
             EVP_DigestUpdate(c, run->name, strlen(run->name) + 1);
    for (size_t i = 0; ok && i < run->opts.n; i++)
        v[i] = &run->opts.v[i];
    if (ok)
        qsort(v, run->opts.n, sizeof(*v), cmp_option);
    for (size_t i = 0; ok && i < run->opts.n; i++)
        ok = EVP_DigestUpdate(c, v[i]->key, strlen(v[i]->key) + 1) &&
             EVP_DigestUpdate(c, v[i]->value, strlen(v[i]->value) + 1);
    unsigned len = 0;
    ok = ok && EVP_DigestFinal_ex(c, md, &len) && len == 32;
    EVP_MD_CTX_free(c);
    free(v);
    return ok ? 0 : IMGSYNC_ENOMEM;
}

/* "<hex digest>:<key>", or NULL (ENOMEM, or a key that is not a short word: *rc says which). */
static char *map_key(const imgsync_run *run, const char *key, int *rc)
{
    unsigned char md[32];
    size_t n = key ? strlen(key) : 0;
    *rc = IMGSYNC_EINVAL;
    if (!run || !n || n > MAX_KEY || key[strspn(key, "abcdefghijklmnopqrstuvwxyz0123456789_-.")])
        return NULL;
    if ((*rc = options_digest(run, md)) != 0)
        return NULL;
    char hex[65];
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
    char *out = imgsync__asprintf("%s:%s", hex, key);
    *rc = out ? 0 : IMGSYNC_ENOMEM;
    return out;
}

/* Drop expired entries (a context that runs for months keeps no dead tokens). */
static void prune(imgsync__map *m, int64_t now)
{
    size_t pos = 0;
    imgsync__map_entry *e;
    while ((e = imgsync__map_next(m, &pos)) != NULL) {
        kept *k = e->value;
        if (k->expires_ms <= now)
            kept_free(imgsync__map_remove(m, e->key)); /* the entry just returned: allowed */
    }
}

int imgsync_run_keep_secret(imgsync_run *run, const char *key, const char *value, int64_t expires_ms)
{
    int rc;
    char *mk = map_key(run, key, &rc);
    if (!mk)
        return rc;
    imgsync__map *m = run->env->kept;
    prune(m, imgsync__env_now(run->env));
    kept_free(imgsync__map_remove(m, mk));
    if (value && *value && expires_ms > imgsync__env_now(run->env)) {
        kept *k = calloc(1, sizeof(*k));
        rc = k && (k->value = imgsync__strdup(value)) ? 0 : IMGSYNC_ENOMEM;
        if (!rc)
            k->expires_ms = expires_ms;
        if (!rc && (rc = imgsync__map_put(m, mk, k, NULL)) != 0)
            rc = IMGSYNC_ENOMEM;
        if (rc)
            kept_free(k);
        if (!rc)
            rc = imgsync_run_add_secret(run, value);
    }
    free(mk);
    return rc;
}

const char *imgsync_run_kept_secret(imgsync_run *run, const char *key, int64_t *expires_ms)
{
    int rc;
    char *mk = map_key(run, key, &rc);
    if (!mk)
        return NULL;
    prune(run->env->kept, imgsync__env_now(run->env));
    kept *k = imgsync__map_get(run->env->kept, mk);
    free(mk);
    if (!k || imgsync_run_add_secret(run, k->value))
        return NULL;
    if (expires_ms)
        *expires_ms = k->expires_ms;
    return imgsync__run_secret(run, k->value);
}

void imgsync__kept_clear(imgsync__map *m)
{
    size_t pos = 0;
    imgsync__map_entry *e;
    while ((e = imgsync__map_next(m, &pos)) != NULL)
        kept_free(e->value);
    imgsync__map_clear(m);
}
