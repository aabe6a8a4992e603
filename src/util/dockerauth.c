/* Docker/Podman auth files and credential-helper answers (formats: docker/cli's config.json,
 * containers-auth.json(5), docker-credential-helpers' protocol). */
#include "dockerauth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "imgsync/errors.h"
#include "util/base64.h"
#include "util/buf.h"
#include "util/json.h"

#define DOCKER_HUB_KEY "https://index.docker.io/v1/"

void imgsync__dcred_clear(imgsync__dcred *c)
{
    if (!c)
        return;
    imgsync__wipe_free(c->username);
    imgsync__wipe_free(c->secret);
    free(c->helper);
    free(c->server);
    memset(c, 0, sizeof(*c));
}

int imgsync__dockerauth_helper_name_ok(const char *name)
{
    size_t n = name ? strlen(name) : 0;
    if (n == 0 || n > 64 || !strcmp(name, ".") || !strcmp(name, ".."))
        return 0;
    return strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") == n;
}

/* ---- keys ------------------------------------------------------------------------------------ */

/* The host[:port] part of a key written as a URL or a bare host, Docker Hub's names folded into
 * one, lower case, into out (empty when too long). */
static void key_host(const char *key, char *out, size_t outlen)
{
    if (!strncasecmp(key, "https://", 8))
        key += 8;
    else if (!strncasecmp(key, "http://", 7))
        key += 7;
    size_t n = strcspn(key, "/");
    out[0] = '\0';
    if (n >= outlen)
        return;
    for (size_t i = 0; i < n; i++)
        out[i] = (key[i] >= 'A' && key[i] <= 'Z') ? (char)(key[i] - 'A' + 'a') : key[i];
    out[n] = '\0';
    if (!strcmp(out, "registry-1.docker.io") || !strcmp(out, "docker.io"))
        snprintf(out, outlen, "index.docker.io");
}

/* Index of the member of obj whose key names host: an exact key first, else one that names it
 * as a URL or alias; -1 when none. */
static long find_key(yajl_val obj, const char *host)
{
    if (!YAJL_IS_OBJECT(obj))
        return -1;
    for (size_t i = 0; i < obj->u.object.len; i++)
        if (!strcmp(obj->u.object.keys[i], host))
            return (long)i;
    char want[300], got[300];
    key_host(host, want, sizeof(want));
    for (size_t i = 0; want[0] && i < obj->u.object.len; i++) {
        key_host(obj->u.object.keys[i], got, sizeof(got));
        if (!strcmp(got, want))
            return (long)i;
    }
    return -1;
}

/* ---- auth files ------------------------------------------------------------------------------ */

static int fail(char *err, size_t errlen, int code, const char *why)
{
    snprintf(err, errlen, "%s", why);
    return code;
}

/* A string member (NULL when absent, null or ""), or -1 in *bad when present but not a string. */
static const char *opt_string(yajl_val obj, const char *key, int *bad)
{
    yajl_val v = imgsync__json_member(obj, key);
    if (!v || YAJL_IS_NULL(v))
        return NULL;
    if (!YAJL_IS_STRING(v)) {
        *bad = 1;
        return NULL;
    }
    return v->u.string[0] ? v->u.string : NULL;
}

/* `auth`: base64 of "user:password", split at the first ':'. */
static int split_auth(imgsync__dcred *out, const char *auth, char *err, size_t errlen)
{
    size_t n = 0;
    char *plain = imgsync__base64_decode(auth, &n);
    if (!plain)
        return fail(err, errlen, IMGSYNC_EINVAL, "an \"auth\" value is not base64");
    char *colon = memchr(plain, ':', n);
    int rc = 0;
    if (!colon || memchr(plain, '\0', n))
        rc = fail(err, errlen, IMGSYNC_EINVAL, "an \"auth\" value is not base64 of user:password");
    else if (!(out->username = imgsync__strndup(plain, (size_t)(colon - plain))) ||
             !(out->secret = imgsync__strdup(colon + 1)))
        rc = IMGSYNC_ENOMEM;
    imgsync__wipe(plain, n);
    free(plain);
    return rc;
}

/* The credentials an auths entry holds, if any (out->kind stays NONE for "{}"). */
static int read_entry(imgsync__dcred *out, yajl_val entry, char *err, size_t errlen)
{
    if (!YAJL_IS_OBJECT(entry))
        return fail(err, errlen, IMGSYNC_EINVAL, "an \"auths\" entry is not an object");
    int bad = 0;
    const char *auth = opt_string(entry, "auth", &bad), *user = opt_string(entry, "username", &bad),
               *pass = opt_string(entry, "password", &bad), *token = opt_string(entry, "identitytoken", &bad);
    if (bad)
        return fail(err, errlen, IMGSYNC_EINVAL, "an \"auths\" entry has a field that is not a string");
    int rc = 0;
    if (auth)
        rc = split_auth(out, auth, err, errlen);
    else if (user && (pass || token))
        rc = (out->username = imgsync__strdup(user)) ? 0 : IMGSYNC_ENOMEM;
    if (!rc && token) {
        imgsync__wipe_free(out->secret);
        out->secret = imgsync__strdup(token);
        out->kind = out->secret ? IMGSYNC__DCRED_IDENTITY : 0;
        rc = out->secret ? 0 : IMGSYNC_ENOMEM;
    } else if (!rc && (auth || (user && pass))) {
        if (!out->secret && !(out->secret = imgsync__strdup(pass)))
            rc = IMGSYNC_ENOMEM;
        out->kind = IMGSYNC__DCRED_BASIC;
    }
    return rc;
}

static int use_helper(imgsync__dcred *out, const char *name, const char *server, char *err, size_t errlen)
{
    if (!imgsync__dockerauth_helper_name_ok(name))
        return fail(err, errlen, IMGSYNC_EINVAL, "a credential helper name is not 1-64 of [A-Za-z0-9._-]");
    out->kind = IMGSYNC__DCRED_HELPER;
    out->helper = imgsync__strdup(name);
    out->server = imgsync__strdup(server);
    return out->helper && out->server ? 0 : IMGSYNC_ENOMEM;
}

/* The server a credsStore is asked for: the auths key that named the host, else the host
 * (Docker Hub under the key docker login gives it). */
static const char *store_server(yajl_val auths, long at, const char *host)
{
    if (at >= 0)
        return auths->u.object.keys[at];
    char h[300];
    key_host(host, h, sizeof(h));
    return strcmp(h, "index.docker.io") ? host : DOCKER_HUB_KEY;
}

static int lookup(imgsync__dcred *out, yajl_val root, const char *host, char *err, size_t errlen)
{
    if (!YAJL_IS_OBJECT(root))
        return fail(err, errlen, IMGSYNC_EINVAL, "the top level is not a JSON object");
    yajl_val auths = imgsync__json_member(root, "auths"), helpers = imgsync__json_member(root, "credHelpers");
    if ((auths && !YAJL_IS_NULL(auths) && !YAJL_IS_OBJECT(auths)) ||
        (helpers && !YAJL_IS_NULL(helpers) && !YAJL_IS_OBJECT(helpers)))
        return fail(err, errlen, IMGSYNC_EINVAL, "\"auths\" or \"credHelpers\" is not an object");
    int bad = 0;
    const char *store = opt_string(root, "credsStore", &bad);
    if (bad)
        return fail(err, errlen, IMGSYNC_EINVAL, "\"credsStore\" is not a string");
    long at = find_key(helpers, host);
    if (at >= 0) {
        yajl_val name = helpers->u.object.values[at];
        return use_helper(out, YAJL_IS_STRING(name) ? name->u.string : "", helpers->u.object.keys[at], err, errlen);
    }
    at = find_key(auths, host);
    if (at >= 0) {
        int rc = read_entry(out, auths->u.object.values[at], err, errlen);
        if (rc || out->kind)
            return rc;
    }
    return store ? use_helper(out, store, store_server(auths, at, host), err, errlen) : 0;
}

int imgsync__dockerauth_lookup(imgsync__dcred *out, const char *text, size_t len, const char *host, char *err,
                               size_t errlen)
{
    memset(out, 0, sizeof(*out));
    char why[64];
    yajl_val root = imgsync__json_parse_secret(text, len, why, sizeof(why));
    if (!root) {
        snprintf(err, errlen, "not valid JSON (%s)", why);
        return IMGSYNC_EINVAL;
    }
    int rc = lookup(out, root, host ? host : "", err, errlen);
    imgsync__json_free(root);
    if (rc)
        imgsync__dcred_clear(out);
    return rc;
}

/* ---- helper answers -------------------------------------------------------------------------- */

static int has_control(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return 1;
    return 0;
}

int imgsync__dockerauth_helper_answer(imgsync__dcred *out, const char *text, size_t len, char *err, size_t errlen)
{
    memset(out, 0, sizeof(*out));
    char why[64];
    yajl_val root = imgsync__json_parse_secret(text, len, why, sizeof(why));
    const char *user = imgsync__json_string(root, "Username"), *secret = imgsync__json_string(root, "Secret");
    int rc = 0;
    if (!root || !user || !secret || !user[0] || !secret[0] || has_control(user) || has_control(secret)) {
        rc = fail(err, errlen, IMGSYNC_EPROTOCOL,
                  "the answer is not a JSON object with a Username and a Secret (non-empty, no control characters)");
    } else if (!strcmp(user, "<token>")) {
        out->kind = IMGSYNC__DCRED_IDENTITY;
        rc = (out->secret = imgsync__strdup(secret)) ? 0 : IMGSYNC_ENOMEM;
    } else {
        out->kind = IMGSYNC__DCRED_BASIC;
        out->username = imgsync__strdup(user);
        out->secret = imgsync__strdup(secret);
        rc = out->username && out->secret ? 0 : IMGSYNC_ENOMEM;
    }
    imgsync__json_free(root);
    if (rc)
        imgsync__dcred_clear(out);
    return rc;
}
