/*
 * imgsync - command-line front end of libimgsync.
 *
 *   imgsync sync  --config FILE [selection] [--format table|json|ndjson] [--timeout-ms N]
 *   imgsync check --config FILE NAME
 *   imgsync --version | --help
 *
 * Besides being the CLI, this file is the reference example of driving the library from the
 * caller's own loop: imgsync_sync_start(), then imgsync_ctx_perform() until the task ends, with
 * imgsync_task_get() snapshots for progress. It uses only <imgsync.h> and yajl.
 *
 * Exit status: 0 success, 1 the sync or check did not succeed, 2 usage or configuration error.
 * Secrets: passwords come from the environment or a file named in the configuration; this
 * program never prints one, not even in an error message.
 */
#include <imgsync.h>

#include <yajl/yajl_gen.h>
#include <yajl/yajl_parse.h>
#include <yajl/yajl_tree.h>

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define EXIT_OK 0
#define EXIT_FAIL 1
#define EXIT_USAGE 2

/* Returned by parse_options() when --help was printed: not an error, nothing more to do. */
#define PARSE_HELP (-1)

#define MAX_CONFIG_BYTES (4u * 1024u * 1024u)
#define MAX_PASSWORD_BYTES (64u * 1024u)
#define PERFORM_SLICE_MS 200
/* After a cancel, how long we keep driving the engine for the task to wind down. */
#define CANCEL_GRACE_MS 10000

#if defined(__GNUC__)
#define PRINTF_LIKE(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define PRINTF_LIKE(fmt, args)
#endif

/* ------------------------------------------------------------------------------------------
 * Messages. Every line for stderr goes through emit() so that text which came from a registry
 * (error messages, names) cannot smuggle terminal escape sequences or break the line format.
 * ---------------------------------------------------------------------------------------- */

/* Set while a \r-updated progress line is on the terminal, so messages start on a clean line. */
static int progress_visible;

static void clear_progress(void)
{
    if (progress_visible) {
        fputs("\r\033[K", stderr);
        progress_visible = 0;
    }
}

static void sanitize(char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c < 0x20 || c == 0x7f)
            *s = '?';
    }
}

/* printf into a new buffer; NULL when out of memory. */
static char *vformat(const char *fmt, va_list ap)
{
    va_list ap2;
    char *buf;
    int n;

    va_copy(ap2, ap);
    n = vsnprintf(NULL, 0, fmt, ap);
    if (n < 0 || (buf = malloc((size_t)n + 1)) == NULL) {
        va_end(ap2);
        return NULL;
    }
    vsnprintf(buf, (size_t)n + 1, fmt, ap2);
    va_end(ap2);
    return buf;
}

static char *format(const char *fmt, ...) PRINTF_LIKE(1, 2);
static char *format(const char *fmt, ...)
{
    va_list ap;
    char *s;

    va_start(ap, fmt);
    s = vformat(fmt, ap);
    va_end(ap);
    return s;
}

/* One sanitized line: prefix + formatted text + newline. */
static void vemit(FILE *f, const char *prefix, const char *fmt, va_list ap)
{
    char *line = vformat(fmt, ap);

    if (f == stderr)
        clear_progress();
    if (line == NULL) {
        fprintf(f, "%s(out of memory formatting a message)\n", prefix);
        return;
    }
    sanitize(line);
    fprintf(f, "%s%s\n", prefix, line);
    free(line);
}

static void emit(FILE *f, const char *fmt, ...) PRINTF_LIKE(2, 3);
static void emit(FILE *f, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vemit(f, "", fmt, ap);
    va_end(ap);
}

static void errorf(const char *fmt, ...) PRINTF_LIKE(1, 2);
static void errorf(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vemit(stderr, "imgsync: ", fmt, ap);
    va_end(ap);
}

static void warnf(const char *fmt, ...) PRINTF_LIKE(1, 2);
static void warnf(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vemit(stderr, "imgsync: warning: ", fmt, ap);
    va_end(ap);
}

static void usage_error(const char *fmt, ...) PRINTF_LIKE(1, 2);
static void usage_error(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vemit(stderr, "imgsync: ", fmt, ap);
    va_end(ap);
    fputs("Try 'imgsync --help'.\n", stderr);
}

/*
 * "imgsync: WHAT: <strerror(rc)>: <ctx errmsg>". The detail is read right away because it is
 * only valid until the next call on ctx. The library never puts secrets in it.
 */
static void lib_error(const imgsync_ctx *ctx, int rc, const char *fmt, ...) PRINTF_LIKE(3, 4);
static void lib_error(const imgsync_ctx *ctx, int rc, const char *fmt, ...)
{
    const char *detail = ctx ? imgsync_ctx_errmsg(ctx) : "";
    va_list ap;
    char *what;

    va_start(ap, fmt);
    what = vformat(fmt, ap);
    va_end(ap);
    errorf("%s: %s%s%s", what ? what : "error", imgsync_strerror(rc), *detail ? ": " : "",
           detail);
    free(what);
}

static void print_help(FILE *f)
{
    fputs("usage: imgsync sync  --config FILE [options]\n"
          "       imgsync check --config FILE NAME\n"
          "       imgsync --version | --help\n"
          "\n"
          "Synchronize the image lists of the container registries configured in FILE and\n"
          "print the inventory (stdout) and the task status (stderr). `check` tests the\n"
          "connection and credentials of the registry NAME.\n"
          "\n"
          "sync options (those marked + may be repeated):\n"
          "  --config FILE            JSON configuration (see examples/config.example.json)\n"
          "  --type T +               only registries of type T (Oci, Harbor, Jfrog, SwrPrivate,\n"
          "                           SwrShared, SwrEnterprise)\n"
          "  --registry NAME +        only the configured registry NAME\n"
          "  --repo [REGISTRY:]REPO + only repository REPO, e.g. local:team/app; REGISTRY may be\n"
          "                           left out when one registry is configured or selected\n"
          "  --namespace GLOB +       only namespaces (first path segment) matching GLOB\n"
          "  --exclude-namespace GLOB +\n"
          "  --repo-glob GLOB +       only repositories whose full path matches GLOB\n"
          "  --exclude-repo GLOB +\n"
          "  --tag GLOB +             only tags matching GLOB\n"
          "  --exclude-tag GLOB +     skip tags matching GLOB\n"
          "  --max-tags N             keep the N newest tags of each repository (0 = all)\n"
          "  --format F               table (default), json or ndjson\n"
          "  --timeout-ms N           cancel the sync after N milliseconds (0 = no limit)\n"
          "\n"
          "Globs: * and ? stay within a path segment, ** crosses '/', [a-z], {a,b}.\n"
          "\n"
          "Configuration: {\"registries\": [{\"name\": ..., \"type\": \"oci\", \"endpoint\": ...,\n"
          "\"username\": ..., \"password_env\": VAR | \"password_file\": FILE, ...}],\n"
          "\"settings\": {\"max_connections\": \"16\", ...}}. Other registry keys are passed to\n"
          "the provider as options; keys starting with '_' are comments.\n"
          "\n"
          "Exit status: 0 success, 1 sync or check failed (or partial, canceled),\n"
          "2 usage or configuration error.\n",
          f);
}

/* ------------------------------------------------------------------------------------------
 * Small helpers
 * ---------------------------------------------------------------------------------------- */

typedef struct strlist {
    const char **items; /* borrowed strings (argv or the config tree) */
    size_t len, cap;
} strlist;

static int strlist_add(strlist *l, const char *s)
{
    if (l->len == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 8;
        const char **items = realloc((void *)l->items, cap * sizeof *items);
        if (items == NULL)
            return -1;
        l->items = items;
        l->cap = cap;
    }
    l->items[l->len++] = s;
    return 0;
}

static int strlist_has(const strlist *l, const char *s)
{
    size_t i;

    for (i = 0; i < l->len; i++)
        if (strcmp(l->items[i], s) == 0)
            return 1;
    return 0;
}

static void strlist_free(strlist *l)
{
    free((void *)l->items);
    l->items = NULL;
    l->len = l->cap = 0;
}

/* Overwrite memory that held a secret; volatile so the stores are not optimized away. */
static void wipe(char *s, size_t n)
{
    volatile char *p = s;

    while (n--)
        *p++ = 0;
}

/* Decimal number without sign, <= max. */
static int parse_number(const char *s, unsigned long max, unsigned long *out)
{
    unsigned long v;
    char *end;

    if (s == NULL || *s < '0' || *s > '9')
        return -1;
    errno = 0;
    v = strtoul(s, &end, 10);
    if (errno != 0 || *end != '\0' || v > max)
        return -1;
    *out = v;
    return 0;
}

/*
 * Read a whole file (NUL-terminated). Growing copies are wiped because the file may hold a
 * password. Returns 0, or -1 with errno set (EFBIG when larger than max).
 */
static int read_file(const char *path, size_t max, char **out, size_t *out_len)
{
    FILE *f = fopen(path, "r");
    char *buf = NULL;
    size_t len = 0, cap = 0, n;
    int saved;

    if (f == NULL)
        return -1;
    for (;;) {
        if (cap - len < 2) {
            size_t ncap = cap ? cap * 2 : 4096;
            char *nbuf;
            if (cap > max + 1) {
                errno = EFBIG;
                goto fail;
            }
            if ((nbuf = malloc(ncap)) == NULL) {
                errno = ENOMEM;
                goto fail;
            }
            if (buf != NULL) {
                memcpy(nbuf, buf, len);
                wipe(buf, len);
                free(buf);
            }
            buf = nbuf;
            cap = ncap;
        }
        errno = 0;
        n = fread(buf + len, 1, cap - len - 1, f);
        len += n;
        if (len > max) {
            errno = EFBIG;
            goto fail;
        }
        if (n == 0) {
            if (ferror(f)) {
                if (errno == 0)
                    errno = EIO;
                goto fail;
            }
            break;
        }
    }
    fclose(f);
    buf[len] = '\0';
    *out = buf;
    *out_len = len;
    return 0;
fail:
    saved = errno;
    if (buf != NULL) {
        wipe(buf, len);
        free(buf);
    }
    fclose(f);
    errno = saved;
    return -1;
}

static int64_t monotonic_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t wall_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ------------------------------------------------------------------------------------------
 * Command line
 * ---------------------------------------------------------------------------------------- */

enum command { CMD_SYNC, CMD_CHECK };
enum output_format { FORMAT_TABLE, FORMAT_JSON, FORMAT_NDJSON };

/* Glob options, each mapped to one imgsync_request_add_filter() field and mode. */
static const struct filter_option {
    const char *name;
    int field;
    int mode;
} filter_options[] = {
    {"--namespace", IMGSYNC_FILTER_NAMESPACE, IMGSYNC_INCLUDE},
    {"--exclude-namespace", IMGSYNC_FILTER_NAMESPACE, IMGSYNC_EXCLUDE},
    {"--repo-glob", IMGSYNC_FILTER_REPOSITORY, IMGSYNC_INCLUDE},
    {"--exclude-repo", IMGSYNC_FILTER_REPOSITORY, IMGSYNC_EXCLUDE},
    {"--tag", IMGSYNC_FILTER_TAG, IMGSYNC_INCLUDE},
    {"--exclude-tag", IMGSYNC_FILTER_TAG, IMGSYNC_EXCLUDE},
};
#define N_FILTER_OPTIONS (sizeof filter_options / sizeof filter_options[0])

typedef struct options {
    const char *config_path;
    strlist types, registries, repos;
    strlist filters[N_FILTER_OPTIONS];
    unsigned long max_tags;
    unsigned long timeout_ms; /* 0 = no limit */
    enum output_format format;
    const char *check_name;
} options;

static void options_free(options *o)
{
    size_t i;

    strlist_free(&o->types);
    strlist_free(&o->registries);
    strlist_free(&o->repos);
    for (i = 0; i < N_FILTER_OPTIONS; i++)
        strlist_free(&o->filters[i]);
}

/* Does arg name the option `name`, as "--name" or "--name=VALUE"? */
static int is_option(const char *arg, const char *name, const char **inline_value)
{
    size_t n = strlen(name);

    if (strncmp(arg, name, n) != 0)
        return 0;
    if (arg[n] == '\0') {
        *inline_value = NULL;
        return 1;
    }
    if (arg[n] == '=') {
        *inline_value = arg + n + 1;
        return 1;
    }
    return 0;
}

/* The value of an option: after '=' or the next argument. */
static const char *option_value(int argc, char **argv, int *i, const char *name,
                                const char *inline_value)
{
    if (inline_value != NULL)
        return inline_value;
    if (*i + 1 < argc)
        return argv[++*i];
    usage_error("option %s needs a value", name);
    return NULL;
}

static int parse_options(options *o, enum command cmd, int argc, char **argv)
{
    int i, only_positional = 0;
    size_t f;

    for (i = 2; i < argc; i++) {
        const char *arg = argv[i], *inl = NULL, *val;
        int matched = 0;

        if (only_positional || arg[0] != '-' || arg[1] == '\0') {
            if (cmd == CMD_CHECK && o->check_name == NULL) {
                o->check_name = arg;
                continue;
            }
            usage_error("unexpected argument '%s'", arg);
            return EXIT_USAGE;
        }
        if (strcmp(arg, "--") == 0) {
            only_positional = 1;
            continue;
        }
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            print_help(stdout);
            return PARSE_HELP;
        }
        if (is_option(arg, "--config", &inl)) {
            if ((val = option_value(argc, argv, &i, "--config", inl)) == NULL)
                return EXIT_USAGE;
            o->config_path = val;
            continue;
        }
        if (cmd != CMD_SYNC) {
            usage_error("unknown option '%s' for check", arg);
            return EXIT_USAGE;
        }

        for (f = 0; f < N_FILTER_OPTIONS && !matched; f++) {
            if (is_option(arg, filter_options[f].name, &inl)) {
                if ((val = option_value(argc, argv, &i, filter_options[f].name, inl)) == NULL)
                    return EXIT_USAGE;
                if (strlist_add(&o->filters[f], val) != 0)
                    goto oom;
                matched = 1;
            }
        }
        if (matched)
            continue;

        if (is_option(arg, "--type", &inl)) {
            if ((val = option_value(argc, argv, &i, "--type", inl)) == NULL)
                return EXIT_USAGE;
            if (strlist_add(&o->types, val) != 0)
                goto oom;
        } else if (is_option(arg, "--registry", &inl)) {
            if ((val = option_value(argc, argv, &i, "--registry", inl)) == NULL)
                return EXIT_USAGE;
            if (strlist_add(&o->registries, val) != 0)
                goto oom;
        } else if (is_option(arg, "--repo", &inl)) {
            if ((val = option_value(argc, argv, &i, "--repo", inl)) == NULL)
                return EXIT_USAGE;
            if (strlist_add(&o->repos, val) != 0)
                goto oom;
        } else if (is_option(arg, "--max-tags", &inl)) {
            if ((val = option_value(argc, argv, &i, "--max-tags", inl)) == NULL)
                return EXIT_USAGE;
            if (parse_number(val, UINT_MAX, &o->max_tags) != 0) {
                usage_error("--max-tags needs a number, not '%s'", val);
                return EXIT_USAGE;
            }
        } else if (is_option(arg, "--timeout-ms", &inl)) {
            if ((val = option_value(argc, argv, &i, "--timeout-ms", inl)) == NULL)
                return EXIT_USAGE;
            if (parse_number(val, INT_MAX, &o->timeout_ms) != 0) {
                usage_error("--timeout-ms needs a number of milliseconds, not '%s'", val);
                return EXIT_USAGE;
            }
        } else if (is_option(arg, "--format", &inl)) {
            if ((val = option_value(argc, argv, &i, "--format", inl)) == NULL)
                return EXIT_USAGE;
            if (strcmp(val, "table") == 0)
                o->format = FORMAT_TABLE;
            else if (strcmp(val, "json") == 0)
                o->format = FORMAT_JSON;
            else if (strcmp(val, "ndjson") == 0)
                o->format = FORMAT_NDJSON;
            else {
                usage_error("--format must be table, json or ndjson, not '%s'", val);
                return EXIT_USAGE;
            }
        } else {
            usage_error("unknown option '%s'", arg);
            return EXIT_USAGE;
        }
    }

    if (o->config_path == NULL) {
        usage_error("--config FILE is required");
        return EXIT_USAGE;
    }
    if (cmd == CMD_CHECK && o->check_name == NULL) {
        usage_error("check needs the NAME of a configured registry");
        return EXIT_USAGE;
    }
    return 0;
oom:
    errorf("out of memory");
    return EXIT_FAIL;
}

/* ------------------------------------------------------------------------------------------
 * Configuration file
 * ---------------------------------------------------------------------------------------- */

typedef struct config {
    const char *path;
    yajl_val root;
    yajl_val registries; /* array of objects, validated */
    yajl_val settings;   /* object or NULL */
} config;

static void config_error(const config *cfg, const char *fmt, ...) PRINTF_LIKE(2, 3);
static void config_error(const config *cfg, const char *fmt, ...)
{
    va_list ap;
    char *what;

    va_start(ap, fmt);
    what = vformat(fmt, ap);
    va_end(ap);
    errorf("config %s: %s", cfg->path, what ? what : "error");
    free(what);
}

/* Keys starting with '_' are comments ("_comment": "..."), since JSON has none. */
static int is_comment_key(const char *key)
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

static const char *member_string(yajl_val obj, const char *key)
{
    return YAJL_GET_STRING(member(obj, key));
}

/*
 * Option text of a scalar: strings as-is, numbers as written, booleans "true"/"false", and
 * NULL for JSON null (the option stays unset). -1 for objects and arrays.
 */
static int scalar_text(yajl_val v, const char **out)
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

/*
 * Check the syntax with the event parser first: unlike yajl_tree_parse() it tells where the
 * error is, and its message does not quote the text around it (which might be a password).
 */
static int json_syntax_error(const config *cfg, const char *text, size_t len)
{
    yajl_handle h = yajl_alloc(NULL, NULL, NULL);
    size_t offset, i, line = 1, column = 1;
    unsigned char *msg;
    char *nl;

    if (h == NULL) {
        errorf("out of memory");
        return 1;
    }
    yajl_config(h, yajl_allow_comments, 1); /* as yajl_tree_parse() does */
    if (yajl_parse(h, (const unsigned char *)text, len) == yajl_status_ok) {
        if (yajl_complete_parse(h) == yajl_status_ok) {
            yajl_free(h);
            return 0;
        }
        offset = len;
    } else {
        offset = yajl_get_bytes_consumed(h);
    }
    for (i = 0; i < offset && i < len; i++) {
        if (text[i] == '\n') {
            line++;
            column = 1;
        } else {
            column++;
        }
    }
    msg = yajl_get_error(h, 0, NULL, 0);
    if (msg != NULL && (nl = strchr((char *)msg, '\n')) != NULL)
        *nl = '\0';
    config_error(cfg, "line %zu, column %zu: %s", line, column,
                 msg ? (const char *)msg : "invalid JSON");
    if (msg != NULL)
        yajl_free_error(h, msg);
    yajl_free(h);
    return 1;
}

static void config_free(config *cfg)
{
    yajl_tree_free(cfg->root);
    cfg->root = cfg->registries = cfg->settings = NULL;
}

/* Structure and value types, so mistakes are reported before any network traffic. */
static int config_validate(config *cfg)
{
    yajl_val root = cfg->root;
    size_t i, j, k;

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

    for (i = 0; i < cfg->registries->u.array.len; i++) {
        yajl_val reg = cfg->registries->u.array.values[i];
        const char *name, *kind;
        int secrets = 0;

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
            config_error(cfg,
                         "registry '%s': \"type\" (a non-empty string, e.g. \"oci\") is required",
                         name);
            return EXIT_USAGE;
        }
        for (k = 0; k < i; k++) {
            if (strcmp(member_string(cfg->registries->u.array.values[k], "name"), name) == 0) {
                config_error(cfg, "registry name '%s' is used twice", name);
                return EXIT_USAGE;
            }
        }
        for (j = 0; j < reg->u.object.len; j++) {
            const char *key = reg->u.object.keys[j], *text;
            yajl_val v = reg->u.object.values[j];

            if (is_comment_key(key) || strcmp(key, "name") == 0 || strcmp(key, "type") == 0)
                continue;
            if (strcmp(key, "password_env") == 0 || strcmp(key, "password_file") == 0) {
                if (!YAJL_IS_STRING(v) || *YAJL_GET_STRING(v) == '\0') {
                    config_error(cfg, "registry '%s': \"%s\" must be a non-empty string", name,
                                 key);
                    return EXIT_USAGE;
                }
                secrets++;
            } else if (strcmp(key, "password") == 0) {
                if (!YAJL_IS_STRING(v)) {
                    config_error(cfg, "registry '%s': \"password\" must be a string", name);
                    return EXIT_USAGE;
                }
                secrets++;
                warnf("config %s: registry '%s' has a plain \"password\"; secrets belong in "
                      "password_env or password_file",
                      cfg->path, name);
            } else if (scalar_text(v, &text) != 0) {
                config_error(cfg, "registry '%s': \"%s\" must be a string, number or boolean",
                             name, key);
                return EXIT_USAGE;
            }
        }
        if (secrets > 1) {
            config_error(cfg, "registry '%s': give only one of password_env, password_file and "
                              "password",
                         name);
            return EXIT_USAGE;
        }
    }

    if (cfg->settings != NULL) {
        for (j = 0; j < cfg->settings->u.object.len; j++) {
            const char *text;
            if (!is_comment_key(cfg->settings->u.object.keys[j]) &&
                scalar_text(cfg->settings->u.object.values[j], &text) != 0) {
                config_error(cfg, "settings \"%s\" must be a string, number or boolean",
                             cfg->settings->u.object.keys[j]);
                return EXIT_USAGE;
            }
        }
    }
    return 0;
}

static int config_load(config *cfg, const char *path)
{
    char errbuf[256], *text, *nl;
    size_t len;

    memset(cfg, 0, sizeof *cfg);
    cfg->path = path;
    if (read_file(path, MAX_CONFIG_BYTES, &text, &len) != 0) {
        errorf("cannot read config %s: %s", path, strerror(errno));
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

static yajl_val config_registry(const config *cfg, const char *name)
{
    size_t i;

    for (i = 0; i < cfg->registries->u.array.len; i++) {
        yajl_val reg = cfg->registries->u.array.values[i];
        if (strcmp(member_string(reg, "name"), name) == 0)
            return reg;
    }
    return NULL;
}

/* "a, b, c" for error messages; the caller frees it. */
static char *config_registry_names(const config *cfg)
{
    size_t i, len = 1;
    char *s;

    for (i = 0; i < cfg->registries->u.array.len; i++)
        len += strlen(member_string(cfg->registries->u.array.values[i], "name")) + 2;
    if ((s = malloc(len)) == NULL)
        return NULL;
    s[0] = '\0';
    for (i = 0; i < cfg->registries->u.array.len; i++) {
        if (i > 0)
            strcat(s, ", ");
        strcat(s, member_string(cfg->registries->u.array.values[i], "name"));
    }
    return s;
}

/* Errors that come from the configuration's content exit with 2, the others with 1. */
static int config_status(int rc)
{
    return rc == IMGSYNC_EINVAL || rc == IMGSYNC_ENOTFOUND || rc == IMGSYNC_EEXISTS ||
                   rc == IMGSYNC_EUNSUPPORTED || rc == IMGSYNC_EINSECURE
               ? EXIT_USAGE
               : EXIT_FAIL;
}

static int apply_settings(imgsync_ctx *ctx, const config *cfg)
{
    size_t i;
    int rc;

    if (cfg->settings == NULL)
        return 0;
    for (i = 0; i < cfg->settings->u.object.len; i++) {
        const char *key = cfg->settings->u.object.keys[i], *value = NULL;
        if (is_comment_key(key))
            continue;
        scalar_text(cfg->settings->u.object.values[i], &value); /* validated */
        if (value == NULL)
            continue; /* null: keep the default */
        if ((rc = imgsync_ctx_set(ctx, key, value)) != 0) {
            lib_error(ctx, rc, "config %s: settings \"%s\"", cfg->path, key);
            return config_status(rc);
        }
    }
    return 0;
}

/* Strip the trailing newline(s) an editor or `echo` leaves in a password file. */
static void strip_newlines(char *s, size_t *len)
{
    while (*len > 0 && (s[*len - 1] == '\n' || s[*len - 1] == '\r'))
        s[--*len] = '\0';
}

/* Set "password" from password_env or password_file. Never prints the value. */
static int set_password_from(imgsync_ctx *ctx, const config *cfg, imgsync_provider *p,
                             const char *name, const char *key, const char *source)
{
    char *secret = NULL;
    size_t len = 0;
    int rc;

    if (strcmp(key, "password_env") == 0) {
        const char *value = getenv(source);
        if (value == NULL || *value == '\0') {
            config_error(cfg, "registry '%s': environment variable %s (password_env) is %s", name,
                         source, value == NULL ? "not set" : "empty");
            return EXIT_USAGE;
        }
        rc = imgsync_provider_set(p, "password", value);
    } else {
        if (read_file(source, MAX_PASSWORD_BYTES, &secret, &len) != 0) {
            config_error(cfg, "registry '%s': cannot read password_file %s: %s", name, source,
                         strerror(errno));
            return EXIT_USAGE;
        }
        strip_newlines(secret, &len);
        if (len == 0) {
            config_error(cfg, "registry '%s': password_file %s is empty", name, source);
            free(secret);
            return EXIT_USAGE;
        }
        rc = imgsync_provider_set(p, "password", secret);
        wipe(secret, len); /* the library keeps its own copy */
        free(secret);
    }
    if (rc != 0) {
        lib_error(ctx, rc, "config %s: registry '%s': %s", cfg->path, name, key);
        return config_status(rc);
    }
    return 0;
}

/* Create the provider of one (validated) registry entry and set its options. */
static int build_provider(imgsync_ctx *ctx, const config *cfg, yajl_val reg,
                          imgsync_provider **out)
{
    const char *name = member_string(reg, "name"), *kind = member_string(reg, "type");
    imgsync_provider *p = NULL;
    size_t i;
    int rc, status;

    if ((rc = imgsync_provider_new(&p, ctx, kind, name)) != 0) {
        lib_error(ctx, rc, "config %s: registry '%s' of type '%s'", cfg->path, name, kind);
        return config_status(rc);
    }
    for (i = 0; i < reg->u.object.len; i++) {
        const char *key = reg->u.object.keys[i], *value = NULL;
        yajl_val v = reg->u.object.values[i];

        if (is_comment_key(key) || strcmp(key, "name") == 0 || strcmp(key, "type") == 0)
            continue;
        if (strcmp(key, "password_env") == 0 || strcmp(key, "password_file") == 0) {
            if ((status = set_password_from(ctx, cfg, p, name, key, YAJL_GET_STRING(v))) != 0)
                return status;
            continue;
        }
        /* Everything else, "password" included, is a provider option as written. */
        scalar_text(v, &value); /* validated */
        if (value == NULL)
            continue; /* null: keep the default */
        if ((rc = imgsync_provider_set(p, key, value)) != 0) {
            lib_error(ctx, rc, "config %s: registry '%s': option \"%s\"", cfg->path, name, key);
            return config_status(rc);
        }
    }
    if (out != NULL)
        *out = p;
    return 0;
}

/* All registries of the config, or only those in `wanted` when it is not empty. */
static int build_providers(imgsync_ctx *ctx, const config *cfg, const strlist *wanted)
{
    size_t i;
    int status;

    for (i = 0; i < cfg->registries->u.array.len; i++) {
        yajl_val reg = cfg->registries->u.array.values[i];
        if (wanted->len > 0 && !strlist_has(wanted, member_string(reg, "name")))
            continue;
        if ((status = build_provider(ctx, cfg, reg, NULL)) != 0)
            return status;
    }
    return 0;
}

/* ------------------------------------------------------------------------------------------
 * Request
 * ---------------------------------------------------------------------------------------- */

static int unknown_registry(const config *cfg, const char *option, const char *name)
{
    char *names = config_registry_names(cfg);

    usage_error("%s: no registry '%s' in %s (configured: %s)", option, name, cfg->path,
                names ? names : "?");
    free(names);
    return EXIT_USAGE;
}

/* --repo [REGISTRY:]REPOSITORY -> which registry, and the repository path. */
static int resolve_repo(const options *o, const config *cfg, const char *arg, char **registry,
                        const char **repository)
{
    const char *colon = strchr(arg, ':');

    *registry = NULL;
    if (colon != NULL) {
        *repository = colon + 1;
        *registry = format("%.*s", (int)(colon - arg), arg);
    } else {
        *repository = arg;
        if (o->registries.len == 1)
            *registry = format("%s", o->registries.items[0]);
        else if (o->registries.len == 0 && cfg->registries->u.array.len == 1)
            *registry = format("%s", member_string(cfg->registries->u.array.values[0], "name"));
        else {
            usage_error("--repo %s: write it as REGISTRY:REPOSITORY (%s)", arg,
                        o->registries.len > 1 ? "several registries are selected"
                                              : "several registries are configured");
            return EXIT_USAGE;
        }
    }
    if (*registry == NULL) {
        errorf("out of memory");
        return EXIT_FAIL;
    }
    if (**registry == '\0' || **repository == '\0') {
        usage_error("--repo %s: expected REGISTRY:REPOSITORY, e.g. local:team/app", arg);
        goto fail;
    }
    if (strchr(*repository, ':') != NULL) {
        usage_error("--repo %s: a repository has no ':' (select tags with --tag)", arg);
        goto fail;
    }
    if (config_registry(cfg, *registry) == NULL) {
        unknown_registry(cfg, "--repo", *registry);
        goto fail;
    }
    return 0;
fail:
    free(*registry);
    *registry = NULL;
    return EXIT_USAGE;
}

/*
 * Build the request from the options. `wanted` receives the registries to create: those named
 * with --registry/--repo, or none (= all) when the selection is not by name only.
 */
static int build_request(const options *o, const config *cfg, imgsync_request **out,
                         strlist *wanted)
{
    imgsync_request *req = NULL;
    size_t i, f;
    int rc, type, status = EXIT_USAGE;
    int by_name_only = o->types.len == 0 && (o->registries.len > 0 || o->repos.len > 0);

    if ((rc = imgsync_request_new(&req)) != 0) {
        errorf("cannot create a request: %s", imgsync_strerror(rc));
        return EXIT_FAIL;
    }
    for (i = 0; i < o->types.len; i++) {
        if (imgsync_type_from_string(&type, o->types.items[i]) != 0) {
            usage_error("--type %s: unknown type (Oci, Harbor, Jfrog, SwrPrivate, SwrShared, "
                        "SwrEnterprise)",
                        o->types.items[i]);
            goto fail;
        }
        if ((rc = imgsync_request_add_type(req, type)) != 0) {
            errorf("--type %s: %s", o->types.items[i], imgsync_strerror(rc));
            goto fail;
        }
    }
    for (i = 0; i < o->registries.len; i++) {
        const char *name = o->registries.items[i];
        if (config_registry(cfg, name) == NULL) {
            unknown_registry(cfg, "--registry", name);
            goto fail;
        }
        if ((rc = imgsync_request_add_provider(req, name)) != 0) {
            errorf("--registry %s: %s", name, imgsync_strerror(rc));
            goto fail;
        }
        if (by_name_only && !strlist_has(wanted, name) && strlist_add(wanted, name) != 0)
            goto oom;
    }
    for (i = 0; i < o->repos.len; i++) {
        const char *repository;
        char *registry;
        yajl_val reg;

        if ((status = resolve_repo(o, cfg, o->repos.items[i], &registry, &repository)) != 0)
            goto fail;
        status = EXIT_USAGE;
        rc = imgsync_request_add_repository(req, registry, repository);
        reg = config_registry(cfg, registry);
        free(registry);
        if (rc != 0) {
            usage_error("--repo %s: %s", o->repos.items[i], imgsync_strerror(rc));
            goto fail;
        }
        /* The name from the config tree outlives `registry`: keep that one in `wanted`. */
        if (by_name_only && !strlist_has(wanted, member_string(reg, "name")) &&
            strlist_add(wanted, member_string(reg, "name")) != 0)
            goto oom;
    }
    for (f = 0; f < N_FILTER_OPTIONS; f++) {
        for (i = 0; i < o->filters[f].len; i++) {
            const char *glob = o->filters[f].items[i];
            rc = imgsync_request_add_filter(req, filter_options[f].field, glob,
                                            filter_options[f].mode);
            if (rc != 0) {
                usage_error("%s %s: %s", filter_options[f].name, glob,
                            rc == IMGSYNC_EINVAL ? "malformed pattern" : imgsync_strerror(rc));
                goto fail;
            }
        }
    }
    if (o->max_tags > 0 &&
        (rc = imgsync_request_set_max_tags(req, (unsigned int)o->max_tags)) != 0) {
        usage_error("--max-tags %lu: %s", o->max_tags, imgsync_strerror(rc));
        goto fail;
    }
    *out = req;
    return 0;
oom:
    errorf("out of memory");
    status = EXIT_FAIL;
fail:
    imgsync_request_free(req);
    return status;
}

/* ------------------------------------------------------------------------------------------
 * Running the task
 * ---------------------------------------------------------------------------------------- */

enum stop_reason { STOP_NONE, STOP_TIMEOUT, STOP_SIGNAL, STOP_ENGINE };

static volatile sig_atomic_t interrupted;

static void on_interrupt(int sig)
{
    interrupted = 1;
}

/* First Ctrl-C cancels the sync (and still prints what we have); a second one kills. */
static void catch_interrupts(int on)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = on ? on_interrupt : SIG_DFL;
    sa.sa_flags = on ? SA_RESETHAND : 0;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

static int task_ended(int state)
{
    return state == IMGSYNC_TASK_SUCCEEDED || state == IMGSYNC_TASK_PARTIAL ||
           state == IMGSYNC_TASK_FAILED || state == IMGSYNC_TASK_CANCELED;
}

static void show_progress(const imgsync_task *t, char *last, size_t size)
{
    char line[256];

    snprintf(line, sizeof line,
             "syncing: repositories %" PRIu64 "/%" PRIu64 ", images %" PRIu64 " found, %" PRIu64
             " requests",
             imgsync_task_counter(t, IMGSYNC_COUNT_REPOSITORIES_DONE),
             imgsync_task_counter(t, IMGSYNC_COUNT_REPOSITORIES_TOTAL),
             imgsync_task_counter(t, IMGSYNC_COUNT_IMAGES_FOUND),
             imgsync_task_counter(t, IMGSYNC_COUNT_REQUESTS));
    if (progress_visible && strcmp(line, last) == 0)
        return; /* unchanged: spare the terminal */
    fprintf(stderr, "\r%s\033[K", line);
    fflush(stderr);
    progress_visible = 1;
    snprintf(last, size, "%s", line);
}

static void cancel_task(imgsync_ctx *ctx, uint64_t id, enum stop_reason reason,
                        enum stop_reason *why, int64_t *cancel_at)
{
    int rc = imgsync_task_cancel(ctx, id);

    if (rc != 0)
        lib_error(ctx, rc, "cannot cancel task %" PRIu64, id);
    *why = reason;
    *cancel_at = monotonic_ms();
}

/*
 * Drive the engine until the task ends, canceling it on timeout or Ctrl-C. Returns the last
 * snapshot of the task (NULL if none could be taken); *why says why we canceled, if we did.
 */
static imgsync_task *run_task(imgsync_ctx *ctx, uint64_t id, unsigned long timeout_ms,
                              enum stop_reason *why)
{
    int show = isatty(STDERR_FILENO);
    int64_t deadline = monotonic_ms() + (int64_t)timeout_ms, cancel_at = -1;
    imgsync_task *snap = NULL;
    char last[256] = "";
    int rc;

    *why = STOP_NONE;
    catch_interrupts(1);
    for (;;) {
        int slice = PERFORM_SLICE_MS;

        if (cancel_at < 0 && interrupted)
            cancel_task(ctx, id, STOP_SIGNAL, why, &cancel_at);
        if (cancel_at < 0 && timeout_ms > 0) {
            int64_t left = deadline - monotonic_ms();
            if (left <= 0)
                cancel_task(ctx, id, STOP_TIMEOUT, why, &cancel_at);
            else if (left < slice)
                slice = (int)left;
        }
        if ((rc = imgsync_ctx_perform(ctx, slice)) < 0) {
            lib_error(ctx, rc, "engine error");
            if (cancel_at < 0)
                cancel_task(ctx, id, STOP_ENGINE, why, &cancel_at);
            break;
        }
        imgsync_task_free(snap);
        snap = NULL;
        if ((rc = imgsync_task_get(&snap, ctx, id)) != 0) {
            lib_error(ctx, rc, "cannot read the status of task %" PRIu64, id);
            break;
        }
        if (task_ended(imgsync_task_state_of(snap)))
            break;
        if (cancel_at >= 0 && monotonic_ms() - cancel_at > CANCEL_GRACE_MS) {
            errorf("task %" PRIu64 " did not stop within %d ms of being canceled", id,
                   CANCEL_GRACE_MS);
            break;
        }
        if (show)
            show_progress(snap, last, sizeof last);
    }
    catch_interrupts(0);
    clear_progress();
    if (snap == NULL)
        imgsync_task_get(&snap, ctx, id); /* last try, for the status report */
    return snap;
}

/* ------------------------------------------------------------------------------------------
 * Inventory output (stdout)
 * ---------------------------------------------------------------------------------------- */

enum column {
    COL_REGISTRY,
    COL_TYPE,
    COL_REPOSITORY,
    COL_TAG,
    COL_DIGEST,
    COL_SIZE,
    COL_MULTI_ARCH,
    COL_UPDATED,
    NCOLS
};

static const char *const column_titles[NCOLS] = {
    "REGISTRY", "TYPE", "REPOSITORY", "TAG", "DIGEST", "SIZE", "MULTI_ARCH", "UPDATED",
};

typedef struct table_row {
    char *cell[NCOLS];
} table_row;

/* A table cell: "-" for unknown values, control characters replaced. */
static char *cell_text(const char *s)
{
    char *c = format("%s", *s ? s : "-");

    if (c != NULL)
        sanitize(c);
    return c;
}

/* "sha256:0123456789ab": the algorithm and the first 12 hex digits are enough to tell apart. */
static char *short_digest(const char *digest)
{
    const char *colon = strchr(digest, ':');

    if (colon == NULL || strlen(colon + 1) <= 12)
        return cell_text(digest);
    return format("%.*s%.12s", (int)(colon - digest + 1), digest, colon + 1);
}

static char *human_size(int64_t size)
{
    static const char *const units[] = {"KiB", "MiB", "GiB", "TiB"};
    double v = (double)size;
    int u = -1;

    if (size < 0)
        return format("-");
    if (size < 1024)
        return format("%" PRId64 " B", size);
    while (v >= 1024.0 && u < 3) {
        v /= 1024.0;
        u++;
    }
    return format("%.1f %s", v, units[u]);
}

static char *iso_time(int64_t ms)
{
    time_t secs = (time_t)(ms / 1000);
    struct tm tm;
    char buf[32];

    if (ms <= 0 || gmtime_r(&secs, &tm) == NULL ||
        strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        return format("-");
    return format("%s", buf);
}

static void row_free(table_row *r)
{
    int c;

    for (c = 0; c < NCOLS; c++)
        free(r->cell[c]);
}

static int row_from_image(table_row *r, const imgsync_image *im)
{
    int c;

    r->cell[COL_REGISTRY] = cell_text(imgsync_image_registry(im));
    r->cell[COL_TYPE] = cell_text(imgsync_image_registry_type(im));
    r->cell[COL_REPOSITORY] = cell_text(imgsync_image_repository(im));
    r->cell[COL_TAG] = cell_text(imgsync_image_tag(im));
    r->cell[COL_DIGEST] = short_digest(imgsync_image_digest(im));
    if (r->cell[COL_DIGEST] != NULL)
        sanitize(r->cell[COL_DIGEST]);
    r->cell[COL_SIZE] = human_size(imgsync_image_size(im));
    r->cell[COL_MULTI_ARCH] = format("%s", imgsync_image_multi_arch(im) ? "yes" : "no");
    r->cell[COL_UPDATED] = iso_time(imgsync_image_update_ms(im));
    for (c = 0; c < NCOLS; c++) {
        if (r->cell[c] == NULL) {
            row_free(r);
            return -1;
        }
    }
    return 0;
}

static void print_row(const char *const cell[NCOLS], const size_t width[NCOLS])
{
    int c;

    for (c = 0; c < NCOLS; c++) {
        if (c == NCOLS - 1)
            printf("%s\n", cell[c]); /* no trailing blanks */
        else if (c == COL_SIZE)
            printf("%*s  ", (int)width[c], cell[c]); /* numbers align right */
        else
            printf("%-*s  ", (int)width[c], cell[c]);
    }
}

/* Rows are collected first: column widths depend on every row. */
static int print_table(imgsync_iter *it)
{
    table_row *rows = NULL;
    size_t n = 0, cap = 0, i, width[NCOLS];
    const imgsync_image *im;
    int c, status = 0;

    while ((im = imgsync_iter_next(it)) != NULL) {
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 64;
            table_row *nrows = realloc(rows, ncap * sizeof *nrows);
            if (nrows == NULL) {
                status = -1;
                break;
            }
            rows = nrows;
            cap = ncap;
        }
        if (row_from_image(&rows[n], im) != 0) {
            status = -1;
            break;
        }
        n++;
    }
    if (status == 0) {
        for (c = 0; c < NCOLS; c++)
            width[c] = strlen(column_titles[c]);
        for (i = 0; i < n; i++)
            for (c = 0; c < NCOLS; c++)
                if (strlen(rows[i].cell[c]) > width[c])
                    width[c] = strlen(rows[i].cell[c]);
        print_row(column_titles, width);
        for (i = 0; i < n; i++)
            print_row((const char *const *)rows[i].cell, width);
    }
    for (i = 0; i < n; i++)
        row_free(&rows[i]);
    free(rows);
    return status;
}

static void print_to_file(void *file, const char *s, size_t len)
{
    fwrite(s, 1, len, (FILE *)file);
}

/* A string as JSON; bytes that are not UTF-8 become '?' rather than invalid JSON. */
static int gen_string(yajl_gen g, const char *s)
{
    size_t len = strlen(s);
    yajl_gen_status st = yajl_gen_string(g, (const unsigned char *)s, len);

    if (st == yajl_gen_invalid_string) {
        char *copy = format("%s", s), *p;
        if (copy == NULL)
            return -1;
        for (p = copy; *p; p++)
            if ((unsigned char)*p >= 0x80)
                *p = '?';
        st = yajl_gen_string(g, (const unsigned char *)copy, len);
        free(copy);
    }
    return st == yajl_gen_status_ok ? 0 : -1;
}

static int gen_key_string(yajl_gen g, const char *key, const char *value)
{
    return gen_string(g, key) || gen_string(g, value) ? -1 : 0;
}

static int gen_key_integer(yajl_gen g, const char *key, int64_t value)
{
    return gen_string(g, key) || yajl_gen_integer(g, (long long)value) != yajl_gen_status_ok
               ? -1
               : 0;
}

static int gen_image(yajl_gen g, const imgsync_image *im)
{
    int64_t size = imgsync_image_size(im);
    int failed = 0;

    failed |= yajl_gen_map_open(g) != yajl_gen_status_ok;
    failed |= gen_key_string(g, "registry", imgsync_image_registry(im));
    failed |= gen_key_string(g, "registry_type", imgsync_image_registry_type(im));
    failed |= gen_key_string(g, "image_type", imgsync_image_image_type(im));
    failed |= gen_key_string(g, "host", imgsync_image_host(im));
    failed |= gen_key_string(g, "namespace", imgsync_image_namespace(im));
    failed |= gen_key_string(g, "repository", imgsync_image_repository(im));
    failed |= gen_key_string(g, "tag", imgsync_image_tag(im));
    failed |= gen_key_string(g, "digest", imgsync_image_digest(im));
    failed |= gen_string(g, "size");
    /* -1 means "not resolved": null, so that nobody adds it up as a size */
    failed |= (size < 0 ? yajl_gen_null(g) : yajl_gen_integer(g, (long long)size)) !=
              yajl_gen_status_ok;
    failed |= gen_key_integer(g, "latest_update_time", imgsync_image_update_ms(im));
    failed |= gen_key_integer(g, "latest_sync_time", imgsync_image_sync_ms(im));
    failed |= gen_key_string(g, "media_type", imgsync_image_media_type(im));
    failed |= gen_key_string(g, "artifact_type", imgsync_image_artifact_type(im));
    failed |= gen_string(g, "multi_arch");
    failed |= yajl_gen_bool(g, imgsync_image_multi_arch(im) != 0) != yajl_gen_status_ok;
    failed |= yajl_gen_map_close(g) != yajl_gen_status_ok;
    return failed ? -1 : 0;
}

/* json: one array (indented); ndjson: one compact object per line. Streamed to stdout. */
static int print_json(imgsync_iter *it, int ndjson)
{
    const imgsync_image *im = imgsync_iter_next(it);
    yajl_gen g;
    int failed = 0;

    if (!ndjson && im == NULL) {
        fputs("[]\n", stdout); /* yajl would spread an empty array over three lines */
        return 0;
    }
    if ((g = yajl_gen_alloc(NULL)) == NULL)
        return -1;
    yajl_gen_config(g, yajl_gen_print_callback, print_to_file, (void *)stdout);
    yajl_gen_config(g, yajl_gen_validate_utf8, 1);
    if (!ndjson) {
        yajl_gen_config(g, yajl_gen_beautify, 1);
        yajl_gen_config(g, yajl_gen_indent_string, "  ");
        failed |= yajl_gen_array_open(g) != yajl_gen_status_ok;
    }
    for (; im != NULL && !failed; im = imgsync_iter_next(it)) {
        failed |= gen_image(g, im);
        if (ndjson)
            yajl_gen_reset(g, "\n"); /* ends the line, ready for the next object */
    }
    if (!ndjson && !failed)
        failed |= yajl_gen_array_close(g) != yajl_gen_status_ok; /* beautify adds the '\n' */
    yajl_gen_free(g);
    return failed ? -1 : 0;
}

static int print_inventory(imgsync_ctx *ctx, const imgsync_request *req, enum output_format fmt)
{
    imgsync_iter *it = NULL;
    int rc = imgsync_iter_new(&it, ctx, req), failed;

    if (rc != 0) {
        lib_error(ctx, rc, "cannot read the inventory");
        return EXIT_FAIL;
    }
    failed = fmt == FORMAT_TABLE ? print_table(it) : print_json(it, fmt == FORMAT_NDJSON);
    imgsync_iter_free(it);
    if (failed) {
        errorf("cannot print the inventory: out of memory");
        return EXIT_FAIL;
    }
    if (fflush(stdout) != 0 || ferror(stdout)) {
        errorf("cannot write the inventory: %s", strerror(errno));
        return EXIT_FAIL;
    }
    return 0;
}

/* ------------------------------------------------------------------------------------------
 * Task status (stderr)
 * ---------------------------------------------------------------------------------------- */

static const char *registry_state_name(int state)
{
    switch (state) {
    case IMGSYNC_REGISTRY_RUNNING:
        return "running";
    case IMGSYNC_REGISTRY_FINISHED:
        return "finished";
    case IMGSYNC_REGISTRY_FAILED:
        return "failed";
    default:
        return "unknown";
    }
}

static const char *state_name(int state)
{
    const char *s = imgsync_task_state_name(state);

    return s ? s : "unknown";
}

static void print_status(const imgsync_task *t)
{
    int64_t started = imgsync_task_started_ms(t), finished = imgsync_task_finished_ms(t);
    int64_t elapsed = 0;
    size_t i, n;

    if (started > 0)
        elapsed = (finished >= started ? finished : wall_ms()) - started;
    emit(stderr,
         "task %" PRIu64 " %s in %" PRId64 " ms: repositories %" PRIu64 "/%" PRIu64 " (%" PRIu64
         " failed), images %" PRIu64 " found, %" PRIu64 " added, %" PRIu64 " updated, %" PRIu64
         " removed, %" PRIu64 " requests, %" PRIu64 " retries",
         imgsync_task_id(t), state_name(imgsync_task_state_of(t)), elapsed,
         imgsync_task_counter(t, IMGSYNC_COUNT_REPOSITORIES_DONE),
         imgsync_task_counter(t, IMGSYNC_COUNT_REPOSITORIES_TOTAL),
         imgsync_task_counter(t, IMGSYNC_COUNT_REPOSITORIES_FAILED),
         imgsync_task_counter(t, IMGSYNC_COUNT_IMAGES_FOUND),
         imgsync_task_counter(t, IMGSYNC_COUNT_IMAGES_ADDED),
         imgsync_task_counter(t, IMGSYNC_COUNT_IMAGES_UPDATED),
         imgsync_task_counter(t, IMGSYNC_COUNT_IMAGES_REMOVED),
         imgsync_task_counter(t, IMGSYNC_COUNT_REQUESTS),
         imgsync_task_counter(t, IMGSYNC_COUNT_RETRIES));

    n = imgsync_task_registry_count(t);
    for (i = 0; i < n; i++) {
        const char *reason = imgsync_task_registry_reason(t, i);
        emit(stderr, "  registry %s (%s): %s%s%s", imgsync_task_registry_name(t, i),
             imgsync_task_registry_type(t, i),
             registry_state_name(imgsync_task_registry_state(t, i)), *reason ? ": " : "", reason);
    }

    n = imgsync_task_error_count(t);
    for (i = 0; i < n; i++) {
        const char *repository = imgsync_task_error_repository(t, i);
        const char *message = imgsync_task_error_message(t, i);
        emit(stderr, "  error %s%s%s: %s", imgsync_task_error_registry(t, i),
             *repository ? " " : "", repository,
             *message ? message : imgsync_strerror(imgsync_task_error_code(t, i)));
    }
}

/* The one-line reason of a sync that did not succeed. */
static void print_failure(const imgsync_task *t, enum stop_reason why, unsigned long timeout_ms)
{
    const char *state;
    size_t i, n;

    if (t == NULL) {
        errorf("sync failed: the task status is not available");
        return;
    }
    if (!task_ended(imgsync_task_state_of(t))) {
        errorf("sync did not finish (state %s)", state_name(imgsync_task_state_of(t)));
        return;
    }
    state = state_name(imgsync_task_state_of(t));
    if (why == STOP_TIMEOUT) {
        errorf("sync %s: timed out after %lu ms (--timeout-ms)", state, timeout_ms);
        return;
    }
    if (why == STOP_SIGNAL) {
        errorf("sync %s: interrupted", state);
        return;
    }
    n = imgsync_task_registry_count(t);
    for (i = 0; i < n; i++) {
        const char *reason = imgsync_task_registry_reason(t, i);
        int code = imgsync_task_registry_error(t, i);
        if (*reason || code != 0) {
            errorf("sync %s: registry '%s': %s", state, imgsync_task_registry_name(t, i),
                   *reason ? reason : imgsync_strerror(code));
            return;
        }
    }
    if (imgsync_task_error_count(t) > 0) {
        const char *repository = imgsync_task_error_repository(t, 0);
        const char *message = imgsync_task_error_message(t, 0);
        errorf("sync %s: registry '%s'%s%s%s: %s", state, imgsync_task_error_registry(t, 0),
               *repository ? " repository '" : "", repository, *repository ? "'" : "",
               *message ? message : imgsync_strerror(imgsync_task_error_code(t, 0)));
        return;
    }
    errorf("sync %s", state);
}

/* ------------------------------------------------------------------------------------------
 * Commands
 * ---------------------------------------------------------------------------------------- */

static int cmd_sync(const options *o)
{
    config cfg;
    strlist wanted = {NULL, 0, 0};
    imgsync_request *req = NULL;
    imgsync_ctx *ctx = NULL;
    imgsync_task *task = NULL;
    enum stop_reason why = STOP_NONE;
    uint64_t id = 0;
    int rc, status;

    /* Everything that can be checked without the network is checked before starting. */
    if ((status = config_load(&cfg, o->config_path)) != 0)
        goto out;
    if ((status = build_request(o, &cfg, &req, &wanted)) != 0)
        goto out;
    if ((rc = imgsync_ctx_new(&ctx, NULL)) != 0) {
        errorf("cannot create a context: %s", imgsync_strerror(rc));
        status = EXIT_FAIL;
        goto out;
    }
    if ((status = apply_settings(ctx, &cfg)) != 0)
        goto out;
    if ((status = build_providers(ctx, &cfg, &wanted)) != 0)
        goto out;
    if ((rc = imgsync_sync_start(ctx, req, &id)) != 0) {
        lib_error(ctx, rc, "cannot start the sync");
        status = EXIT_FAIL;
        goto out;
    }

    task = run_task(ctx, id, o->timeout_ms, &why);
    /* The inventory is printed whatever happened: a partial or canceled sync still has rows. */
    status = print_inventory(ctx, req, o->format);
    if (task != NULL)
        print_status(task);
    if (task == NULL || imgsync_task_state_of(task) != IMGSYNC_TASK_SUCCEEDED) {
        print_failure(task, why, o->timeout_ms);
        status = EXIT_FAIL;
    }
out:
    imgsync_task_free(task);
    imgsync_request_free(req);
    imgsync_ctx_free(ctx);
    strlist_free(&wanted);
    config_free(&cfg);
    return status;
}

static int cmd_check(const options *o)
{
    const char *name = o->check_name;
    imgsync_provider *p = NULL;
    imgsync_ctx *ctx = NULL;
    config cfg;
    yajl_val reg;
    int rc, status;

    if ((status = config_load(&cfg, o->config_path)) != 0)
        goto out;
    if ((reg = config_registry(&cfg, name)) == NULL) {
        status = unknown_registry(&cfg, "check", name);
        goto out;
    }
    if ((rc = imgsync_ctx_new(&ctx, NULL)) != 0) {
        errorf("cannot create a context: %s", imgsync_strerror(rc));
        status = EXIT_FAIL;
        goto out;
    }
    /* Only this registry is created: others' missing secrets must not fail its check. */
    if ((status = apply_settings(ctx, &cfg)) != 0 ||
        (status = build_provider(ctx, &cfg, reg, &p)) != 0)
        goto out;
    if ((rc = imgsync_provider_check(p)) != 0) {
        lib_error(ctx, rc, "check %s", name);
        status = EXIT_FAIL;
        goto out;
    }
    emit(stdout, "registry %s: OK", name);
    if (fflush(stdout) != 0)
        status = EXIT_FAIL;
out:
    imgsync_ctx_free(ctx);
    config_free(&cfg);
    return status;
}

int main(int argc, char **argv)
{
    options o;
    enum command cmd;
    int status;

    if (argc < 2) {
        usage_error("missing command (sync or check)");
        return EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        print_help(stdout);
        return EXIT_OK;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("imgsync %s (libimgsync %s)\n", IMGSYNC_VERSION_STRING, imgsync_version());
        return EXIT_OK;
    }
    if (strcmp(argv[1], "sync") == 0) {
        cmd = CMD_SYNC;
    } else if (strcmp(argv[1], "check") == 0) {
        cmd = CMD_CHECK;
    } else {
        usage_error("unknown command '%s' (sync or check)", argv[1]);
        return EXIT_USAGE;
    }

    memset(&o, 0, sizeof o);
    o.format = FORMAT_TABLE;
    status = parse_options(&o, cmd, argc, argv);
    if (status == PARSE_HELP)
        status = EXIT_OK;
    else if (status == 0)
        status = cmd == CMD_SYNC ? cmd_sync(&o) : cmd_check(&o);
    options_free(&o);
    return status;
}
