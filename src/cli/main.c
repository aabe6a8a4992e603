/*
 * imgsync - command-line front end of libimgsync.
 *
 *   imgsync sync  --config FILE [selection] [--format table|json|ndjson] [--timeout-ms N]
 *   imgsync check --config FILE [--timeout-ms N] NAME
 *   imgsync --version | --help
 *
 * Exit status: 0 success, 1 the sync or check did not succeed, 2 usage or configuration error,
 * 3 the sync partially succeeded, 128+N the sync was stopped by signal N.
 * Secrets: passwords come from the environment or a file named in the configuration; this
 * program never prints one, not even in an error message.
 */
#include "cli/commands.h"

#include <limits.h>
#include <string.h>

/* Returned by parse_options() when --help was printed: not an error, nothing more to do. */
#define PARSE_HELP (-1)

const filter_option filter_options[N_FILTER_OPTIONS] = {
    {"--namespace", IMGSYNC_FILTER_NAMESPACE, IMGSYNC_INCLUDE},
    {"--exclude-namespace", IMGSYNC_FILTER_NAMESPACE, IMGSYNC_EXCLUDE},
    {"--repo-glob", IMGSYNC_FILTER_REPOSITORY, IMGSYNC_INCLUDE},
    {"--exclude-repo", IMGSYNC_FILTER_REPOSITORY, IMGSYNC_EXCLUDE},
    {"--tag", IMGSYNC_FILTER_TAG, IMGSYNC_INCLUDE},
    {"--exclude-tag", IMGSYNC_FILTER_TAG, IMGSYNC_EXCLUDE},
};

static void print_help(FILE *f)
{
    fputs("usage: imgsync sync  --config FILE [options]\n"
          "       imgsync check --config FILE [--timeout-ms N] NAME\n"
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
          "  --timeout-ms N           cancel the sync after N milliseconds (default 3600000,\n"
          "                           one hour; 0 = no limit)\n"
          "\n"
          "check options:\n"
          "  --config FILE\n"
          "  --timeout-ms N           give up after N milliseconds (default 30000, or the\n"
          "                           settings' check_timeout_ms; 100..3600000, 0 = 3600000)\n"
          "\n"
          "Globs: * and ? stay within a path segment, ** crosses '/', [a-z], {a,b}.\n"
          "\n"
          "Configuration: {\"registries\": [{\"name\": ..., \"type\": \"oci\", \"endpoint\": ...,\n"
          "\"username\": ..., \"password_env\": VAR | \"password_file\": FILE, ...}],\n"
          "\"settings\": {\"max_connections\": \"16\", ...}}. Other registry keys are passed to\n"
          "the provider as options; keys starting with '_' are comments.\n"
          "\n"
          "Exit status: 0 success, 1 sync or check failed (or canceled at its deadline),\n"
          "2 usage or configuration error, 3 sync partially succeeded (some repositories or\n"
          "registries failed; the others were synced), 128+N sync stopped by signal N\n"
          "(130 Ctrl-C, 143 SIGTERM).\n",
          f);
}

void options_free(options *o)
{
    size_t i;

    strlist_free(&o->types);
    strlist_free(&o->registries);
    strlist_free(&o->repos);
    for (i = 0; i < N_FILTER_OPTIONS; i++)
        strlist_free(&o->filters[i]);
}

/* The command line being parsed. */
typedef struct args {
    int argc;
    char **argv;
    int i; /* the argument being looked at */
} args;

/*
 * Does the current argument name the option `name`, as "--name VALUE" or "--name=VALUE"?
 * Then *value is its value (NULL after a usage error: the value is missing).
 */
static int take_option(args *a, const char *name, const char **value)
{
    const char *arg = a->argv[a->i];
    size_t n = strlen(name);

    if (strncmp(arg, name, n) != 0 || (arg[n] != '\0' && arg[n] != '='))
        return 0;
    if (arg[n] == '=')
        *value = arg + n + 1;
    else if (a->i + 1 < a->argc)
        *value = a->argv[++a->i];
    else {
        usage_error("option %s needs a value", name);
        *value = NULL;
    }
    return 1;
}

/* Add the value of a repeatable option to list. */
static int add_value(strlist *list, const char *value)
{
    if (value == NULL)
        return EXIT_USAGE;
    if (strlist_add(list, value) != 0) {
        errorf("out of memory");
        return EXIT_FAIL;
    }
    return 0;
}

static int set_format(options *o, const char *val)
{
    if (val == NULL)
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
    return 0;
}

static int set_timeout(options *o, enum command cmd, const char *val)
{
    unsigned long max = cmd == CMD_CHECK ? MAX_CHECK_TIMEOUT_MS : (unsigned long)INT_MAX;

    if (val == NULL)
        return EXIT_USAGE;
    if (parse_number(val, max, &o->timeout_ms) != 0 ||
        (cmd == CMD_CHECK && o->timeout_ms > 0 && o->timeout_ms < 100)) {
        usage_error("--timeout-ms needs a number of milliseconds%s, not '%s'",
                    cmd == CMD_CHECK ? " (100..3600000, or 0)" : "", val);
        return EXIT_USAGE;
    }
    o->timeout_given = 1;
    return 0;
}

static int set_max_tags(options *o, const char *val)
{
    if (val == NULL)
        return EXIT_USAGE;
    if (parse_number(val, UINT_MAX, &o->max_tags) != 0) {
        usage_error("--max-tags needs a number, not '%s'", val);
        return EXIT_USAGE;
    }
    return 0;
}

/* An option only sync has (selection and output). *matched = 0 when it is none of them. */
static int parse_sync_option(options *o, args *a, int *matched)
{
    const char *val;
    size_t f;

    *matched = 1;
    for (f = 0; f < N_FILTER_OPTIONS; f++)
        if (take_option(a, filter_options[f].name, &val))
            return add_value(&o->filters[f], val);
    if (take_option(a, "--type", &val))
        return add_value(&o->types, val);
    if (take_option(a, "--registry", &val))
        return add_value(&o->registries, val);
    if (take_option(a, "--repo", &val))
        return add_value(&o->repos, val);
    if (take_option(a, "--max-tags", &val))
        return set_max_tags(o, val);
    if (take_option(a, "--format", &val))
        return set_format(o, val);
    *matched = 0;
    return 0;
}

/* One option argument (starting with '-'). */
static int parse_option(options *o, enum command cmd, args *a)
{
    const char *arg = a->argv[a->i], *val;
    int matched, status;

    if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
        print_help(stdout);
        return PARSE_HELP;
    }
    if (take_option(a, "--config", &val)) {
        o->config_path = val;
        return val ? 0 : EXIT_USAGE;
    }
    if (take_option(a, "--timeout-ms", &val))
        return set_timeout(o, cmd, val);
    if (cmd == CMD_SYNC && ((status = parse_sync_option(o, a, &matched)) != 0 || matched))
        return status;
    if (cmd == CMD_SYNC)
        usage_error("unknown option '%s'", arg);
    else
        usage_error("unknown option '%s' for check", arg);
    return EXIT_USAGE;
}

static int parse_options(options *o, enum command cmd, int argc, char **argv)
{
    args a = {argc, argv, 2};
    int only_positional = 0, status;

    for (; a.i < argc; a.i++) {
        const char *arg = argv[a.i];
        if (only_positional || arg[0] != '-' || arg[1] == '\0') {
            if (cmd == CMD_CHECK && o->check_name == NULL) {
                o->check_name = arg;
                continue;
            }
            usage_error("unexpected argument '%s'", arg);
            return EXIT_USAGE;
        }
        if (strcmp(arg, "--") == 0)
            only_positional = 1;
        else if ((status = parse_option(o, cmd, &a)) != 0)
            return status;
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
}

/* The first argument: a command, or --help / --version (then *status is the exit status). */
static int parse_command(int argc, char **argv, enum command *cmd, int *status)
{
    *status = EXIT_OK;
    if (argc < 2) {
        usage_error("missing command (sync or check)");
        *status = EXIT_USAGE;
    } else if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
               strcmp(argv[1], "help") == 0) {
        print_help(stdout);
    } else if (strcmp(argv[1], "--version") == 0) {
        printf("imgsync %s (libimgsync %s)\n", IMGSYNC_VERSION_STRING, imgsync_version());
    } else if (strcmp(argv[1], "sync") == 0) {
        *cmd = CMD_SYNC;
        return 1;
    } else if (strcmp(argv[1], "check") == 0) {
        *cmd = CMD_CHECK;
        return 1;
    } else {
        usage_error("unknown command '%s' (sync or check)", argv[1]);
        *status = EXIT_USAGE;
    }
    return 0;
}

int main(int argc, char **argv)
{
    options o;
    enum command cmd = CMD_SYNC;
    int status;

    if (!parse_command(argc, argv, &cmd, &status))
        return status;
    memset(&o, 0, sizeof o);
    o.format = FORMAT_TABLE;
    o.timeout_ms = cmd == CMD_SYNC ? DEFAULT_SYNC_TIMEOUT_MS : DEFAULT_CHECK_TIMEOUT_MS;
    status = parse_options(&o, cmd, argc, argv);
    if (status == PARSE_HELP)
        status = EXIT_OK;
    else if (status == 0)
        status = cmd == CMD_SYNC ? cmd_sync(&o) : cmd_check(&o);
    options_free(&o);
    return status;
}
