/* imgsync: the JSON configuration file (loading, validation, lookups). */
#ifndef IMGSYNC_CLI_CONFIG_H
#define IMGSYNC_CLI_CONFIG_H

#include "cli/cli.h"

#include <yajl/yajl_tree.h>

#define MAX_CONFIG_BYTES (4u * 1024u * 1024u)
/* Arrays and objects nested deeper than this are refused before any tree is built. */
#define MAX_CONFIG_DEPTH 64

typedef struct config {
    const char *path;
    yajl_val root;
    yajl_val registries; /* array of objects, validated */
    yajl_val settings;   /* object or NULL */
} config;

/* Read, parse and validate; EXIT_USAGE after printing why. cfg is always safe to free. */
int config_load(config *cfg, const char *path);
void config_free(config *cfg);
/* "imgsync: config PATH: <message>" */
void config_error(const config *cfg, const char *fmt, ...) PRINTF_LIKE(2, 3);

/* The registry entry named `name`, or NULL. */
yajl_val config_registry(const config *cfg, const char *name);
/* "a, b, c" for error messages; the caller frees it (NULL when out of memory). */
char *config_registry_names(const config *cfg);
/* Name of the i-th registry entry. */
const char *config_registry_name(const config *cfg, size_t i);

/* Keys starting with '_' are comments ("_comment": "..."), since JSON has none. */
int is_comment_key(const char *key);
const char *member_string(yajl_val obj, const char *key);
/*
 * Option text of a scalar: strings as-is, numbers as written, booleans "true"/"false", and
 * NULL for JSON null (the option stays unset). -1 for objects and arrays.
 */
int scalar_text(yajl_val v, const char **out);

/*
 * Secret options: each X of secret_names ("password", "sk", "security_token", "token") may be
 * given as X (in the file, with a warning), X_env (an environment variable's name) or X_file (a
 * file), at most one of them; never on the command line.
 */
#define N_SECRETS 5
extern const char *const secret_names[N_SECRETS];
typedef enum secret_source { SECRET_NONE, SECRET_VALUE, SECRET_ENV, SECRET_FILE } secret_source;
/* How registry option `key` gives a secret (SECRET_NONE: it does not); *index into secret_names. */
secret_source secret_option(const char *key, size_t *index);

#endif
