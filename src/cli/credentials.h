/* imgsync: secrets from X_env / X_file (X a secret option); never printed, wiped after use. */
#ifndef IMGSYNC_CLI_CREDENTIALS_H
#define IMGSYNC_CLI_CREDENTIALS_H

#include "cli/config.h"

#define MAX_SECRET_BYTES (64u * 1024u)

/*
 * Set the provider's secret option X from `source`, the value of the registry option `key`
 * ("X_env": a variable name, "X_file": a path; X one of secret_names). 0, or an exit status
 * after printing why (naming the registry and the option, never the secret).
 */
int set_secret_from(imgsync_ctx *ctx, const config *cfg, imgsync_provider *p, const char *name,
                    const char *key, const char *source);

#endif
