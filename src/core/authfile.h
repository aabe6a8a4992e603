/* Credentials from Docker/Podman auth files and credential helpers, for runs whose provider
 * sets none of its own (internal). */
#ifndef IMGSYNC_CORE_AUTHFILE_H
#define IMGSYNC_CORE_AUTHFILE_H

#include <stddef.h>

#include "core/options.h"
#include "imgsync/sys/provider.h"

/* Largest auth file read. */
#define IMGSYNC__AUTHFILE_MAX_BYTES (4 * 1024 * 1024)

/* Validate an "auth_file" value when it is set: "default", "none", or a path to a readable
 * file. 0, or EINVAL with the reason (naming the path) in err. */
int imgsync__authfile_check_value(const char *value, char *err, size_t errlen);

/*
 * Fill "username"/"password" of a run's option copy from the auth file its "auth_file" option
 * names, else ctx_default (NULL = none), for the registry `host` (host[:port]; NULL = nothing
 * to look up). Nothing is read when the options hold credentials of their own (username or a
 * secret option of vt). May run a credential helper (blocks up to its timeout).
 * *source gets what was used, malloc'd, never a secret: "options", "auth file PATH",
 * "credential helper docker-credential-NAME (auth file PATH)", or "none" (with why in
 * parentheses when a file was read). An identity token goes to the internal option
 * "identity_token" (the engine's refresh token), with no username or password.
 * Returns 0, or EINVAL (missing or malformed file), ETOOBIG (a file over the limit), ETIMEOUT /
 * EAUTH / ENOTFOUND / EPROTOCOL / ETOOBIG (the helper), ENOMEM; err names the file or helper,
 * never its content.
 */
int imgsync__authfile_resolve(imgsync__options *opts, const imgsync_provider_vtable *vt, const char *ctx_default,
                              const char *host, char **source, char *err, size_t errlen);

#endif
