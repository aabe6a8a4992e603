/* imgsync: passwords from password_env / password_file; never printed, wiped after use. */
#ifndef IMGSYNC_CLI_CREDENTIALS_H
#define IMGSYNC_CLI_CREDENTIALS_H

#include "cli/config.h"

#define MAX_PASSWORD_BYTES (64u * 1024u)

/*
 * Set the provider's "password" from `source`, the value of the registry option `key`
 * ("password_env": a variable name, "password_file": a path). 0, or an exit status after
 * printing why (without the secret).
 */
int set_password_from(imgsync_ctx *ctx, const config *cfg, imgsync_provider *p, const char *name,
                      const char *key, const char *source);

#endif
