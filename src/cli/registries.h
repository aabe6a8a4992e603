/* imgsync: the configuration applied to a context (settings, providers). */
#ifndef IMGSYNC_CLI_REGISTRIES_H
#define IMGSYNC_CLI_REGISTRIES_H

#include "cli/config.h"

/* Exit status of a library error: 2 when it comes from the configuration's content, else 1. */
int config_status(int rc);
/* The "settings" object as context options. */
int apply_settings(imgsync_ctx *ctx, const config *cfg);
/* Create the provider of one (validated) registry entry and set its options; *out may be NULL. */
int build_provider(imgsync_ctx *ctx, const config *cfg, yajl_val reg, imgsync_provider **out);
/* Like the curl tool, the program (not libcurl, which keeps its built-in bundle) honours
 * SSL_CERT_FILE as ca_file and SSL_CERT_DIR as ca_dir for a registry that names no ca_file
 * (and, for SSL_CERT_DIR, no ca_dir). 0 or an exit status after saying why. */
int apply_tls_env(imgsync_ctx *ctx, imgsync_provider *p, int has_ca_file, int has_ca_dir);
/* All registries of the config, or only those in `wanted` when it is not empty. */
int build_providers(imgsync_ctx *ctx, const config *cfg, const strlist *wanted);

#endif
