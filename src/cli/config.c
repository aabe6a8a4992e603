/* imgsync: loading and validating the JSON configuration. */
#include "cli/config.h"

#include <yajl/yajl_parse.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void config_error(const config *cfg, const char *fmt, ...)
{
    va_list ap;
    char *what;

    va_start(ap, fmt);
    what = vformat(fmt, ap);
    va_end(ap);
    errorf("config %s: %s", cfg->path, what ? what : "error");
    free(what);
}

int is_comment_key(const char *key)
{
    return key[0] == '_';
}

static yajl_val member(yajl_val obj, const char *key)
{
    size_t i;

    for (i = 0; i < obj->u.object.len; i++)
        if (strcmp(obj->u.object.keys[i], key) == 0)
            return obj->u.object.values[i];
    return NULL;
}

const char *member_string(yajl_val obj, const char *key)
{
    return YAJL_GET_STRING(member(obj, key));
}

int scalar_text(yajl_val v, const char **out)
{
    if (YAJL_IS_STRING(v))
        *out = YAJL_GET_STRING(v);
    else if (YAJL_IS_NUMBER(v))
        *out = YAJL_GET_NUMBER(v);
    else if (YAJL_IS_TRUE(v))
        *out = "true";
    else if (YAJL_IS_FALSE(v))
        *out = "false";
    else if (YAJL_IS_NULL(v))
        *out = NULL;
    else
        return -1;
    return 0;
}

/* ---- syntax and nesting, with the event parser ---- */

/* Nesting depth seen by the event parser; it cancels the parse past MAX_CONFIG_DEPTH. */
typedef struct depth_state {
    unsigned depth;
    int too_deep;
} depth_state;

static int on_open(void *ctx)
{
    depth_state *d = ctx;

    if (++d->depth > MAX_CONFIG_DEPTH) {
        d->too_deep = 1;
        return 0; /* cancel */
    }
    return 1;
}

static int on_close(void *ctx)
{
    ((depth_state *)ctx)->depth--;
    return 1;
}

static const yajl_callbacks depth_callbacks = {
    NULL, NULL, NULL, NULL, NULL, NULL, on_open, NULL, on_close, on_open, on_close,
};

/* Line and column (from 1) of byte `offset` of text. */
static void text_position(const char *text, size_t len, size_t offset, size_t *line,
                          size_t *column)
{
    size_t i;

    *line = *column = 1;
    for (i = 0; i < offset && i < len; i++) {
        if (text[i] == '\n') {
            ++*line;
            *column = 1;
        } else {
            ++*column;
        }
    }
}

/* The syntax error of a failed parse, first line only (the next ones quote the text). */
static void report_parse_error(const config *cfg, yajl_handle h, const depth_state *d,
                               const char *text, size_t len, size_t offset)
{
    unsigned char *msg = NULL;
    size_t line, column;
    char *nl;

    if (d->too_deep) {
        /* the parser has consumed the bracket that went one level too deep */
        text_position(text, len, offset > 0 ? offset - 1 : 0, &line, &column);
        config_error(cfg, "nested too deeply (more than %d levels of arrays and objects) at "
                          "line %zu, column %zu",
                     MAX_CONFIG_DEPTH, line, column);
        return;
    }
    text_position(text, len, offset, &line, &column);
    msg = yajl_get_error(h, 0, NULL, 0);
    if (msg != NULL && (nl = strchr((char *)msg, '\n')) != NULL)
        *nl = '\0';
    config_error(cfg, "line %zu, column %zu: %s", line, column,
                 msg ? (const char *)msg : "invalid JSON");
    if (msg != NULL)
        yajl_free_error(h, msg);
}

/*
 * Check the syntax and the nesting depth with the event parser before any tree is built: a
 * tree of deeply nested arrays overflows the stack when yajl frees it (recursively), and unlike
 * yajl_tree_parse() the event parser tells where the error is without quoting the text around
 * it (which might be a password). 0 when fine, 1 after printing the error.
 */
static int json_syntax_error(const config *cfg, const char *text, size_t len)
{
    depth_state d = {0, 0};
    yajl_handle h = yajl_alloc(&depth_callbacks, NULL, &d);
    size_t offset = len;

    if (h == NULL) {
        errorf("out of memory");
        return 1;
    }
    yajl_config(h, yajl_allow_comments, 1); /* as yajl_tree_parse() does */
    if (yajl_parse(h, (const unsigned char *)text, len) != yajl_status_ok)
        offset = yajl_get_bytes_consumed(h);
    else if (yajl_complete_parse(h) == yajl_status_ok) {
        yajl_free(h);
        return 0;
    }
    report_parse_error(cfg, h, &d, text, len, offset);
    yajl_free(h);
    return 1;
}

/* ---- structure and value types, so mistakes are reported before any network traffic ---- */

static int validate_top(config *cfg)
{
    yajl_val root = cfg->root;
    size_t i;

    if (!YAJL_IS_OBJECT(root)) {
        config_error(cfg, "the top level must be a JSON object");
        return EXIT_USAGE;
    }
    for (i = 0; i < root->u.object.len; i++) {
        const char *key = root->u.object.keys[i];
        yajl_val v = root->u.object.values[i];
        if (is_comment_key(key))
            continue;
        if (strcmp(key, "registries") == 0 && YAJL_IS_ARRAY(v)) {
            cfg->registries = v;
        } else if (strcmp(key, "settings") == 0 && YAJL_IS_OBJECT(v)) {
            cfg->settings = v;
        } else if (strcmp(key, "registries") == 0 || strcmp(key, "settings") == 0) {
            config_error(cfg, "\"%s\" must be %s", key,
                         key[0] == 'r' ? "an array of objects" : "an object");
            return EXIT_USAGE;
        } else {
            config_error(cfg, "unknown key \"%s\" (expected \"registries\" and \"settings\")", key);
            return EXIT_USAGE;
        }
    }
    if (cfg->registries == NULL || cfg->registries->u.array.len == 0) {
        config_error(cfg, "no registries configured (\"registries\" is missing or empty)");
        return EXIT_USAGE;
    }
    return 0;
}

/* ---- secret options ---- */

/* "proxy" too: its URL may hold the proxy's user:password (proxy_env, proxy_file) */
const char *const secret_names[N_SECRETS] = {"password", "sk", "security_token", "token", "proxy"};

secret_source secret_option(const char *key, size_t *index)
{
    static const struct {
        const char *suffix;
        secret_source source;
    } forms[] = {{"", SECRET_VALUE}, {"_env", SECRET_ENV}, {"_file", SECRET_FILE}};
    size_t i, j, n;

    for (i = 0; i < N_SECRETS; i++) {
        n = strlen(secret_names[i]);
        if (strncmp(key, secret_names[i], n) != 0)
            continue;
        for (j = 0; j < sizeof forms / sizeof forms[0]; j++) {
            if (strcmp(key + n, forms[j].suffix) == 0) {
                *index = i;
                return forms[j].source;
            }
        }
    }
    return SECRET_NONE;
}

/* A secret option X, X_env or X_file of registry `name`; counts the sources of X in secrets[]. */
static int validate_secret_key(const config *cfg, const char *name, const char *key, yajl_val v,
                               int secrets[N_SECRETS])
{
    size_t i;
    secret_source source = secret_option(key, &i);

    if (source == SECRET_VALUE) {
        /* a plain proxy is a secret only when it holds credentials; "" means no proxy */
        int proxy = strcmp(secret_names[i], "proxy") == 0;
        if (!YAJL_IS_STRING(v)) {
            config_error(cfg, "registry '%s': \"%s\" must be a string", name, key);
            return EXIT_USAGE;
        }
        if (*YAJL_GET_STRING(v) == '\0' && !proxy) {
            config_error(cfg, "registry '%s': \"%s\" is empty", name, key);
            return EXIT_USAGE;
        }
        const char *text = YAJL_GET_STRING(v);
        if (!proxy || (text != NULL && strchr(text, '@') != NULL))
            warnf("config %s: registry '%s' has a plain \"%s\"; secrets belong in %s_env or %s_file",
                  cfg->path, name, key, key, key);
    } else if (!YAJL_IS_STRING(v) || *YAJL_GET_STRING(v) == '\0') {
        config_error(cfg, "registry '%s': \"%s\" must be a non-empty string", name, key);
        return EXIT_USAGE;
    }
    ++secrets[i];
    return 0;
}

/* One option of registry `name`; counts the sources of each secret in secrets[]. */
static int validate_registry_key(const config *cfg, const char *name, const char *key,
                                 yajl_val v, int secrets[N_SECRETS])
{
    const char *text;
    size_t i;

    if (is_comment_key(key) || strcmp(key, "name") == 0 || strcmp(key, "type") == 0)
        return 0;
    if (secret_option(key, &i) != SECRET_NONE)
        return validate_secret_key(cfg, name, key, v, secrets);
    if (scalar_text(v, &text) != 0) {
        config_error(cfg, "registry '%s': \"%s\" must be a string, number or boolean", name, key);
        return EXIT_USAGE;
    }
    return 0;
}

/* registries[i]: an object with a unique "name", a "type" and scalar options. */
static int validate_registry(const config *cfg, size_t i)
{
    yajl_val reg = cfg->registries->u.array.values[i];
    const char *name, *kind;
    int secrets[N_SECRETS] = {0}, status;
    size_t j;

    if (!YAJL_IS_OBJECT(reg)) {
        config_error(cfg, "registries[%zu] must be an object", i);
        return EXIT_USAGE;
    }
    name = member_string(reg, "name");
    kind = member_string(reg, "type");
    if (name == NULL || *name == '\0') {
        config_error(cfg, "registries[%zu]: \"name\" (a non-empty string) is required", i);
        return EXIT_USAGE;
    }
    if (kind == NULL || *kind == '\0') {
        config_error(cfg, "registry '%s': \"type\" (a non-empty string, e.g. \"oci\") is required",
                     name);
        return EXIT_USAGE;
    }
    for (j = 0; j < i; j++) {
        if (strcmp(config_registry_name(cfg, j), name) == 0) {
            config_error(cfg, "registry name '%s' is used twice", name);
            return EXIT_USAGE;
        }
    }
    for (j = 0; j < reg->u.object.len; j++)
        if ((status = validate_registry_key(cfg, name, reg->u.object.keys[j],
                                            reg->u.object.values[j], secrets)) != 0)
            return status;
    for (j = 0; j < N_SECRETS; j++) {
        if (secrets[j] > 1) {
            config_error(cfg, "registry '%s': give only one of %s_env, %s_file and %s", name,
                         secret_names[j], secret_names[j], secret_names[j]);
            return EXIT_USAGE;
        }
    }
    return 0;
}

static int validate_settings(const config *cfg)
{
    yajl_val s = cfg->settings;
    const char *text;
    size_t j;

    for (j = 0; s != NULL && j < s->u.object.len; j++) {
        if (!is_comment_key(s->u.object.keys[j]) && scalar_text(s->u.object.values[j], &text) != 0) {
            config_error(cfg, "settings \"%s\" must be a string, number or boolean",
                         s->u.object.keys[j]);
            return EXIT_USAGE;
        }
    }
    return 0;
}

static int config_validate(config *cfg)
{
    size_t i;
    int status;

    if ((status = validate_top(cfg)) != 0)
        return status;
    for (i = 0; i < cfg->registries->u.array.len; i++)
        if ((status = validate_registry(cfg, i)) != 0)
            return status;
    return validate_settings(cfg);
}

/* ---- loading ---- */

void config_free(config *cfg)
{
    yajl_tree_free(cfg->root);
    cfg->root = cfg->registries = cfg->settings = NULL;
}

int config_load(config *cfg, const char *path)
{
    char errbuf[256], *text, *nl;
    size_t len;

    memset(cfg, 0, sizeof *cfg);
    cfg->path = strcmp(path, "-") == 0 ? "(stdin)" : path;
    if (read_input(path, MAX_CONFIG_BYTES, &text, &len) != 0) {
        errorf("cannot read config %s: %s", cfg->path, strerror(errno));
        return EXIT_USAGE;
    }
    if (json_syntax_error(cfg, text, len)) {
        wipe(text, len);
        free(text);
        return EXIT_USAGE;
    }
    errbuf[0] = '\0';
    cfg->root = yajl_tree_parse(text, errbuf, sizeof errbuf);
    wipe(text, len); /* it may hold a plain "password" */
    free(text);
    if (cfg->root == NULL) {
        /* Only the first line: the next ones quote the text around the error. */
        if ((nl = strchr(errbuf, '\n')) != NULL)
            *nl = '\0';
        config_error(cfg, "%s", errbuf[0] ? errbuf : "cannot parse");
        return EXIT_USAGE;
    }
    return config_validate(cfg);
}

/* ---- lookups ---- */

const char *config_registry_name(const config *cfg, size_t i)
{
    return member_string(cfg->registries->u.array.values[i], "name");
}

yajl_val config_registry(const config *cfg, const char *name)
{
    size_t i;

    for (i = 0; i < cfg->registries->u.array.len; i++)
        if (strcmp(config_registry_name(cfg, i), name) == 0)
            return cfg->registries->u.array.values[i];
    return NULL;
}

char *config_registry_names(const config *cfg)
{
    size_t i, len = 1;
    char *s;

    for (i = 0; i < cfg->registries->u.array.len; i++)
        len += strlen(config_registry_name(cfg, i)) + 2;
    if ((s = malloc(len)) == NULL)
        return NULL;
    s[0] = '\0';
    for (i = 0; i < cfg->registries->u.array.len; i++) {
        if (i > 0)
            strcat(s, ", ");
        strcat(s, config_registry_name(cfg, i));
    }
    return s;
}
