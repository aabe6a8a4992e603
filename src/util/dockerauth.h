/* Docker/Podman auth files (config.json, auth.json) and credential-helper answers: parsing
 * and the lookup of one registry host (internal). No I/O here: the caller reads the file and
 * runs the helper (src/core/authfile.c). */
#ifndef IMGSYNC_UTIL_DOCKERAUTH_H
#define IMGSYNC_UTIL_DOCKERAUTH_H

#include <stddef.h>

enum {
    IMGSYNC__DCRED_NONE = 0, /* the file has nothing for the host */
    IMGSYNC__DCRED_BASIC,    /* username + secret (a password) */
    IMGSYNC__DCRED_IDENTITY, /* secret is an identity token (an OAuth2 refresh token) */
    IMGSYNC__DCRED_HELPER    /* run docker-credential-<helper> get with `server` on stdin */
};

/* What an auth file or a helper gave for one host. Every string is malloc'd (or NULL); the
 * secret and the username are wiped by imgsync__dcred_clear. */
typedef struct imgsync__dcred {
    int kind;
    char *username;
    char *secret;
    char *helper; /* NAME of docker-credential-NAME, [A-Za-z0-9._-]{1,64} */
    char *server; /* what to ask the helper for: the key as the file wrote it, or the host */
} imgsync__dcred;

/*
 * Find the credentials of `host` (host[:port] of a registry endpoint) in the text of an auth
 * file: credHelpers[host] first, then auths[host] when it holds `auth` (base64 "user:password",
 * split at the first ':'), `username`/`password` or `identitytoken`, then credsStore. Keys match
 * as written (host[:port]) or as URLs ("https://host/v1/", "http://host"), case-insensitively;
 * registry-1.docker.io, docker.io and index.docker.io also match Docker Hub's
 * "https://index.docker.io/v1/". An exact key beats a URL-form one.
 * Returns 0 (out->kind NONE when nothing matched), IMGSYNC_EINVAL (malformed: a short reason in
 * err, never any part of the text), IMGSYNC_ENOMEM. out is cleared first and on error.
 */
int imgsync__dockerauth_lookup(imgsync__dcred *out, const char *text, size_t len, const char *host, char *err,
                               size_t errlen);

/*
 * A credential helper's answer to `get`: {"ServerURL","Username","Secret"}. Username "<token>"
 * means Secret is an identity token. 0 (kind BASIC or IDENTITY), IMGSYNC_EPROTOCOL (not such an
 * object, or an empty or control-character-holding field: reason in err), IMGSYNC_ENOMEM.
 */
int imgsync__dockerauth_helper_answer(imgsync__dcred *out, const char *text, size_t len, char *err, size_t errlen);

/* 1 when name can follow "docker-credential-" ([A-Za-z0-9._-], 1..64 chars, not "." or ".."). */
int imgsync__dockerauth_helper_name_ok(const char *name);

/* Wipe the secrets, free everything, zero *c (NULL-safe). */
void imgsync__dcred_clear(imgsync__dcred *c);

#endif
