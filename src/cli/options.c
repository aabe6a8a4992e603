/* imgsync: the command line - which command, which options it accepts, their values. */
#include "cli/commands.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const filter_option filter_options[N_FILTER_OPTIONS] = {
    {"--namespace", IMGSYNC_FILTER_NAMESPACE, IMGSYNC_INCLUDE},
    {"--exclude-namespace", IMGSYNC_FILTER_NAMESPACE, IMGSYNC_EXCLUDE},
    {"--repo-glob", IMGSYNC_FILTER_REPOSITORY, IMGSYNC_INCLUDE},
    {"--exclude-repo", IMGSYNC_FILTER_REPOSITORY, IMGSYNC_EXCLUDE},
    {"--tag", IMGSYNC_FILTER_TAG, IMGSYNC_INCLUDE},
    {"--exclude-tag", IMGSYNC_FILTER_TAG, IMGSYNC_EXCLUDE},
};

/* Option groups a command accepts. */
#define OPT_CONFIG 0x001u  /* --config */
#define OPT_TIMEOUT 0x002u /* --timeout-ms */
#define OPT_SELECT 0x004u  /* --type --registry --repo and the globs */
#define OPT_MAXTAGS 0x008u /* --max-tags */
#define OPT_FORMAT 0x010u  /* --format table|json */
#define OPT_NDJSON 0x020u  /* --format ndjson too */
#define OPT_UPDATED 0x040u /* --updated-since */
#define OPT_TASKS 0x080u   /* --state --trigger --limit */
#define OPT_CHANGES 0x100u /* --task --since */
#define OPT_WHEN 0x200u    /* --daily --every */
#define OPT_NEEDS_CONFIG 0x400u
#define ARG_NAME 0x800u /* one positional NAME */
#define ARG_ID 0x1000u  /* one positional task or schedule ID */
#define OPT_ONESHOT 0x2000u /* --json --username --password-stdin --plain-http --insecure */
#define ARG_REF 0x4000u     /* one positional image reference */
#define OPT_DB 0x8000u      /* --db (every command but the one-shots) */

typedef struct command_def {
    const char *name, *sub; /* "schedule", "add" */
    enum command cmd;
    unsigned opts;
    const char *usage;
    const char *summary; /* what `imgsync CMD --help` says it does */
} command_def;

static const command_def commands[] = {
    {"sync", NULL, CMD_SYNC,
     OPT_DB | OPT_CONFIG | OPT_NEEDS_CONFIG | OPT_TIMEOUT | OPT_SELECT | OPT_MAXTAGS | OPT_FORMAT | OPT_NDJSON,
     "imgsync sync [--config FILE] [--db PATH] [selection] [--max-tags N] [--format table|json|ndjson] "
     "[--timeout-ms N]",
     "Synchronize the image lists of the configured registries, record the task in the database\n"
     "and print the inventory (stdout) and the task status (stderr)."},
    {"check", NULL, CMD_CHECK, OPT_DB | OPT_CONFIG | OPT_NEEDS_CONFIG | OPT_TIMEOUT | OPT_FORMAT | ARG_NAME,
     "imgsync check [--config FILE] [--db PATH] [--timeout-ms N] [--format table|json] NAME",
     "Test the connection and the credentials of the configured registry NAME."},
    {"images", NULL, CMD_IMAGES, OPT_DB | OPT_CONFIG | OPT_SELECT | OPT_UPDATED | OPT_FORMAT | OPT_NDJSON,
     "imgsync images [--db PATH] [--config FILE] [selection] [--updated-since TIME] "
     "[--format table|json|ndjson]",
     "Print the stored inventory (no network)."},
    {"tasks", NULL, CMD_TASKS, OPT_DB | OPT_TASKS | OPT_FORMAT,
     "imgsync tasks [--db PATH] [--state S] [--trigger manual|scheduled] [--limit N] "
     "[--format table|json]",
     "Print the task history, newest first."},
    {"task", NULL, CMD_TASK, OPT_DB | OPT_FORMAT | ARG_ID, "imgsync task [--db PATH] [--format table|json] ID",
     "Print one task with its registries and first errors."},
    {"changes", NULL, CMD_CHANGES, OPT_DB | OPT_CHANGES | OPT_FORMAT | OPT_NDJSON,
     "imgsync changes [--db PATH] [--task ID | --since ID] [--format table|json|ndjson]",
     "Print what syncs added, updated and removed."},
    {"schedule", "add", CMD_SCHEDULE_ADD, OPT_DB | OPT_CONFIG | OPT_SELECT | OPT_MAXTAGS | OPT_WHEN,
     "imgsync schedule add [--db PATH] [--config FILE] (--daily HH:MM | --every N{m,h,d}) "
     "[selection] [--max-tags N]",
     "Store a scheduled sync in the database (run by imgsync daemon)."},
    {"schedule", "list", CMD_SCHEDULE_LIST, OPT_DB | OPT_FORMAT,
     "imgsync schedule list [--db PATH] [--format table|json]", "Print the stored schedules."},
    {"schedule", "rm", CMD_SCHEDULE_RM, OPT_DB | ARG_ID, "imgsync schedule rm [--db PATH] ID",
     "Remove a stored schedule."},
    {"daemon", NULL, CMD_DAEMON, OPT_DB | OPT_CONFIG | OPT_NEEDS_CONFIG,
     "imgsync daemon [--config FILE] [--db PATH]",
     "Run the stored schedules until SIGTERM or SIGINT, logging each task on stderr."},
    {"ls", NULL, CMD_LS, OPT_ONESHOT | OPT_TIMEOUT | OPT_FORMAT | ARG_REF,
     "imgsync ls [options] [REGISTRY/]REPOSITORY",
     "List the tags of one repository with their digest and size (no configuration, nothing\n"
     "stored), e.g. imgsync ls localhost:5000/team/app, imgsync ls alpine."},
    {"inspect", NULL, CMD_INSPECT, OPT_ONESHOT | OPT_TIMEOUT | OPT_FORMAT | ARG_REF,
     "imgsync inspect [options] [REGISTRY/]REPOSITORY[:TAG][@DIGEST]",
     "Print the digest, size, media type and platforms of one image (default tag latest; an\n"
     "image named by digest alone must be tagged in its repository)."},
    {"catalog", NULL, CMD_CATALOG, OPT_ONESHOT | OPT_TIMEOUT | OPT_FORMAT | ARG_REF,
     "imgsync catalog [options] REGISTRY",
     "List the repositories of a registry (those holding at least one tag; registries such as\n"
     "Docker Hub refuse the catalog)."},
};
#define N_COMMANDS (sizeof commands / sizeof commands[0])

void options_free(options *o)
{
    size_t i;

    strlist_free(&o->types);
    strlist_free(&o->registries);
    strlist_free(&o->repos);
    free(o->config_default);
    o->config_default = NULL;
    for (i = 0; i < N_FILTER_OPTIONS; i++)
        strlist_free(&o->filters[i]);
}

/* The command line being parsed. */
typedef struct args {
    int argc;
    char **argv;
    int i; /* the argument being looked at */
    const command_def *def;
} args;

/* A usage error of the command: the message, its synopsis, and a pointer to --help. */
static int command_usage(const args *a, const char *fmt, const char *arg)
{
    errorf(fmt, arg);
    emit(stderr, "usage: %s", a->def->usage);
    fputs("Try 'imgsync --help'.\n", stderr);
    return EXIT_USAGE;
}

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
        command_usage(a, "option %s needs a value", name);
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

static int set_format(options *o, const args *a, const char *val)
{
    int ndjson = (a->def->opts & OPT_NDJSON) != 0;

    if (val == NULL)
        return EXIT_USAGE;
    if (strcmp(val, "table") == 0)
        o->format = FORMAT_TABLE;
    else if (strcmp(val, "json") == 0)
        o->format = FORMAT_JSON;
    else if (ndjson && strcmp(val, "ndjson") == 0)
        o->format = FORMAT_NDJSON;
    else
        return command_usage(a, ndjson ? "--format must be table, json or ndjson, not '%s'"
                                       : "--format must be table or json, not '%s'",
                             val);
    return 0;
}

static int set_timeout(options *o, const args *a, const char *val)
{
    int check = o->cmd == CMD_CHECK;
    unsigned long max = check ? MAX_CHECK_TIMEOUT_MS : (unsigned long)INT_MAX;

    if (val == NULL)
        return EXIT_USAGE;
    if (parse_number(val, max, &o->timeout_ms) != 0 ||
        (check && o->timeout_ms > 0 && o->timeout_ms < 100))
        return command_usage(a,
                             check ? "--timeout-ms needs a number of milliseconds (100..3600000, "
                                     "or 0), not '%s'"
                                   : "--timeout-ms needs a number of milliseconds, not '%s'",
                             val);
    o->timeout_given = 1;
    return 0;
}

static int set_max_tags(options *o, const args *a, const char *val)
{
    if (val == NULL)
        return EXIT_USAGE;
    if (parse_number(val, UINT_MAX, &o->max_tags) != 0)
        return command_usage(a, "--max-tags needs a number, not '%s'", val);
    return 0;
}

/* A task or schedule id: a number > 0 (or >= 0 with zero_ok). */
static int set_id(const args *a, const char *what, const char *val, int zero_ok, uint64_t *out)
{
    unsigned long v;
    char msg[96];

    if (val == NULL)
        return EXIT_USAGE;
    if (parse_number(val, ULONG_MAX, &v) != 0 || (v == 0 && !zero_ok)) {
        snprintf(msg, sizeof msg, "%s must be a %snumber, not '%%s'", what,
                 zero_ok ? "" : "positive ");
        return command_usage(a, msg, val);
    }
    *out = (uint64_t)v;
    return 0;
}

static int set_updated_since(options *o, const args *a, const char *val)
{
    if (val == NULL)
        return EXIT_USAGE;
    if (parse_time_arg(val, wall_ms(), &o->updated_since_ms) != 0)
        return command_usage(a,
                             "--updated-since needs an RFC 3339 time (2026-12-01T00:00:00Z) or a "
                             "duration ago (30m, 24h, 7d), not '%s'",
                             val);
    return 0;
}

static int set_state(options *o, const args *a, const char *val)
{
    if (val == NULL)
        return EXIT_USAGE;
    if ((o->state = parse_task_state(val)) < 0)
        return command_usage(a,
                             "--state must be queued, running, succeeded, partial (partially "
                             "succeeded), failed, canceled or skipped, not '%s'",
                             val);
    return 0;
}

static int set_trigger(options *o, const args *a, const char *val)
{
    if (val == NULL)
        return EXIT_USAGE;
    if (strcmp(val, "manual") == 0)
        o->trigger = IMGSYNC_TRIGGER_MANUAL;
    else if (strcmp(val, "scheduled") == 0)
        o->trigger = IMGSYNC_TRIGGER_SCHEDULED;
    else
        return command_usage(a, "--trigger must be manual or scheduled, not '%s'", val);
    return 0;
}

static int set_limit(options *o, const args *a, const char *val)
{
    if (val == NULL)
        return EXIT_USAGE;
    if (parse_number(val, 1000000ul, &o->limit) != 0)
        return command_usage(a, "--limit needs a number of tasks (0 = all), not '%s'", val);
    return 0;
}

static int set_daily(options *o, const args *a, const char *val)
{
    if (val == NULL)
        return EXIT_USAGE;
    if (parse_clock_time(val, &o->daily_hour, &o->daily_minute) != 0)
        return command_usage(a, "--daily needs a time HH:MM from 00:00 to 23:59, not '%s'", val);
    return 0;
}

static int set_every(options *o, const args *a, const char *val)
{
    if (val == NULL)
        return EXIT_USAGE;
    if (parse_interval_minutes(val, &o->every_minutes) != 0)
        return command_usage(a,
                             "--every needs an interval N followed by m, h or d, from 1m to 31d "
                             "(e.g. 30m, 6h, 1d), not '%s'",
                             val);
    return 0;
}

/* The selection options (sync, images, schedule add). *matched = 0 when it is none of them. */
static int parse_select_option(options *o, args *a, int *matched)
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
    *matched = 0;
    return 0;
}

/* The options of the history commands (tasks, changes, schedule add, images). */
static int parse_history_option(options *o, args *a, int *matched)
{
    unsigned opts = a->def->opts;
    const char *val;

    *matched = 1;
    if ((opts & OPT_UPDATED) && take_option(a, "--updated-since", &val))
        return set_updated_since(o, a, val);
    if ((opts & OPT_TASKS) && take_option(a, "--state", &val))
        return set_state(o, a, val);
    if ((opts & OPT_TASKS) && take_option(a, "--trigger", &val))
        return set_trigger(o, a, val);
    if ((opts & OPT_TASKS) && take_option(a, "--limit", &val))
        return set_limit(o, a, val);
    if ((opts & OPT_CHANGES) && take_option(a, "--task", &val))
        return set_id(a, "--task", val, 0, &o->task_id);
    if ((opts & OPT_CHANGES) && take_option(a, "--since", &val)) {
        o->since_given = 1;
        return set_id(a, "--since", val, 1, &o->since_id);
    }
    if ((opts & OPT_WHEN) && take_option(a, "--daily", &val))
        return set_daily(o, a, val);
    if ((opts & OPT_WHEN) && take_option(a, "--every", &val))
        return set_every(o, a, val);
    *matched = 0;
    return 0;
}

int verbosity_flag(const char *arg)
{
    if (strcmp(arg, "-v") == 0 || strcmp(arg, "--verbose") == 0)
        return 1;
    if (strcmp(arg, "-vv") == 0 || strcmp(arg, "--debug") == 0)
        return 2;
    return 0;
}

/* The options every command, or most, have. */
static int parse_common_option(options *o, args *a, int *matched)
{
    unsigned opts = a->def->opts;
    const char *val;
    int more = verbosity_flag(a->argv[a->i]);

    *matched = 1;
    if (more) {
        o->verbosity = o->verbosity + more > 2 ? 2 : o->verbosity + more;
        return 0;
    }
    if ((opts & OPT_DB) && take_option(a, "--db", &val)) {
        if (val != NULL && *val == '\0')
            return command_usage(a, "--db needs a file name (or :memory:)%s", "");
        o->db_path = val;
        return val ? 0 : EXIT_USAGE;
    }
    if ((opts & OPT_CONFIG) && take_option(a, "--config", &val)) {
        o->config_path = val;
        return val ? 0 : EXIT_USAGE;
    }
    if ((opts & OPT_TIMEOUT) && take_option(a, "--timeout-ms", &val))
        return set_timeout(o, a, val);
    if ((opts & OPT_MAXTAGS) && take_option(a, "--max-tags", &val))
        return set_max_tags(o, a, val);
    if ((opts & OPT_FORMAT) && take_option(a, "--format", &val))
        return set_format(o, a, val);
    *matched = 0;
    return 0;
}

/*
 * Is `arg` a secret option ("--sk", "--password-file=F", "--security_token_env", ...)? Secrets
 * are never taken from the command line (other users see it in ps, shells keep it in their
 * history), so these are refused with a pointer to the configuration, without echoing the
 * argument: its value may be the secret.
 */
static int secret_on_command_line(const options *o, const char *arg)
{
    char key[64];
    size_t n = 0, i;

    while (*arg == '-')
        arg++;
    for (; arg[n] != '\0' && arg[n] != '=' && n < sizeof key - 1; n++)
        key[n] = arg[n] == '-' ? '_' : arg[n];
    key[n] = '\0';
    if (secret_option(key, &i) == SECRET_NONE)
        return 0;
    errorf("%s: secrets are never given on the command line; set %s_env (an environment "
           "variable's name) or %s_file (a file) in the registry's entry of the configuration",
           o->name, secret_names[i], secret_names[i]);
    fputs("Try 'imgsync --help'.\n", stderr);
    return 1;
}

/* The options of ls, inspect and catalog. */
static int parse_oneshot_option(options *o, args *a, int *matched)
{
    const char *arg = a->argv[a->i], *val;

    *matched = 1;
    if (strcmp(arg, "--json") == 0)
        o->format = FORMAT_JSON;
    else if (strcmp(arg, "--password-stdin") == 0)
        o->password_stdin = 1;
    else if (strcmp(arg, "--plain-http") == 0)
        o->plain_http = 1;
    else if (strcmp(arg, "--insecure") == 0)
        o->insecure = 1;
    else if (take_option(a, "--username", &val)) {
        if (val != NULL && *val == '\0')
            return command_usage(a, "--username needs a name%s", "");
        o->username = val;
        return val ? 0 : EXIT_USAGE;
    } else
        *matched = 0;
    return 0;
}

/* One option argument (starting with '-'). */
static int parse_option(options *o, args *a)
{
    const char *arg = a->argv[a->i];
    int matched = 0, status;

    if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0)
        return PARSE_HELP;
    if ((status = parse_common_option(o, a, &matched)) != 0 || matched)
        return status;
    if ((a->def->opts & OPT_SELECT) && ((status = parse_select_option(o, a, &matched)) != 0 || matched))
        return status;
    if ((status = parse_history_option(o, a, &matched)) != 0 || matched)
        return status;
    if ((a->def->opts & OPT_ONESHOT) && ((status = parse_oneshot_option(o, a, &matched)) != 0 || matched))
        return status;
    if (secret_on_command_line(o, arg))
        return EXIT_USAGE;
    /* the name only: a misspelled secret option's value (--passwd=...) is never echoed */
    errorf("unknown option '%.*s' for %s", (int)strcspn(arg, "="), arg, o->name);
    emit(stderr, "usage: %s", a->def->usage);
    fputs("Try 'imgsync --help'.\n", stderr);
    return EXIT_USAGE;
}

/* A positional argument: check's NAME, task's or schedule rm's ID. */
static int parse_positional(options *o, args *a, int *seen)
{
    const char *arg = a->argv[a->i];

    if (*seen || !(a->def->opts & (ARG_NAME | ARG_ID | ARG_REF)))
        return command_usage(a, "unexpected argument '%s'", arg);
    *seen = 1;
    if (a->def->opts & ARG_REF) {
        o->ref = arg;
        return 0;
    }
    if (a->def->opts & ARG_NAME) {
        o->check_name = arg;
        return 0;
    }
    return set_id(a, "ID", arg, 0, &o->task_id);
}

/* $XDG_CONFIG_HOME/imgsync/config.json (an absolute XDG_CONFIG_HOME only, as the XDG spec
 * says), else ~/.config/imgsync/config.json; NULL without HOME or memory. */
static char *default_config_path(void)
{
    const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");

    if (xdg != NULL && xdg[0] == '/')
        return format("%s/imgsync/config.json", xdg);
    if (home != NULL && home[0] == '/')
        return format("%s/.config/imgsync/config.json", home);
    return NULL;
}

/* Without --config, a command that reads one uses the default file when it exists. */
static void use_default_config(options *o, const args *a)
{
    if (!(a->def->opts & OPT_CONFIG) || o->config_path != NULL)
        return;
    o->config_default = default_config_path();
    if (o->config_default != NULL && access(o->config_default, F_OK) == 0)
        o->config_path = o->config_default;
}

/* What must be there, and what does not go together. */
static int check_required(options *o, const args *a, int positional)
{
    unsigned opts = a->def->opts;

    use_default_config(o, a);
    if ((opts & OPT_NEEDS_CONFIG) && o->config_path == NULL) {
        errorf("%s needs --config FILE (no default configuration %s)", o->name,
               o->config_default ? o->config_default : "$XDG_CONFIG_HOME/imgsync/config.json");
        return command_usage(a, "%s", "(--config - reads it from stdin)");
    }
    if ((opts & ARG_REF) && !positional)
        return command_usage(a, "%s needs an image reference", o->name);
    if (o->password_stdin && o->username == NULL)
        return command_usage(a, "%s: --password-stdin needs --username", o->name);
    if ((opts & ARG_NAME) && !positional)
        return command_usage(a, "%s needs the NAME of a configured registry", o->name);
    if ((opts & ARG_ID) && !positional)
        return command_usage(a, "%s needs an ID", o->name);
    if (o->task_id && o->since_given)
        return command_usage(a, "%s: --task and --since do not go together", o->name);
    if ((opts & OPT_WHEN) && (o->daily_hour >= 0) == (o->every_minutes > 0))
        return command_usage(a, "%s needs either --daily HH:MM or --every N{m,h,d}", o->name);
    return 0;
}

/* ---- imgsync CMD --help: the synopsis, what it does, and the options it takes ---- */

static const struct {
    unsigned opt;
    const char *text;
} option_help[] = {
    {OPT_CONFIG, "  --config FILE            JSON configuration; '-' reads it from stdin. Default:\n"
                 "                           $XDG_CONFIG_HOME/imgsync/config.json, else\n"
                 "                           ~/.config/imgsync/config.json (when it exists)\n"},
    {OPT_DB, "  --db PATH                the SQLite database (default $XDG_DATA_HOME/imgsync/imgsync.db,\n"
             "                           else ~/.local/share/imgsync/imgsync.db; :memory: = none)\n"},
    {OPT_SELECT, "  --type T, --registry NAME, --repo [REGISTRY:]REPO, --namespace GLOB,\n"
                 "  --exclude-namespace GLOB, --repo-glob GLOB, --exclude-repo GLOB, --tag GLOB,\n"
                 "  --exclude-tag GLOB        the selection (repeatable; see imgsync --help)\n"},
    {OPT_MAXTAGS, "  --max-tags N             keep the N newest tags of each repository (0 = all)\n"},
    {OPT_TIMEOUT, "  --timeout-ms N           give up after N milliseconds: sync default 3600000 (one\n"
                  "                           hour, 0 = no limit); check default 30000 (100..3600000,\n"
                  "                           0 = 3600000); ls, inspect, catalog default 300000\n"},
    {OPT_FORMAT, "  --format F               table (default) or json\n"},
    {OPT_NDJSON, "                           (or ndjson: one JSON object per line)\n"},
    {OPT_UPDATED, "  --updated-since TIME     rows updated since TIME (RFC 3339, or 90s, 30m, 24h, 7d ago)\n"},
    {OPT_TASKS, "  --state S, --trigger manual|scheduled, --limit N\n"},
    {OPT_CHANGES, "  --task ID | --since ID   the changes of task ID | of the tasks after ID\n"},
    {OPT_WHEN, "  --daily HH:MM | --every N{m,h,d}   when it runs\n"},
    {OPT_ONESHOT, "  --json                   JSON instead of a table (= --format json)\n"
                  "  --username USER --password-stdin   credentials (the password is read from\n"
                  "                           stdin); else the Docker/Podman auth files\n"
                  "  --plain-http             http:// (the default for localhost and 127.0.0.0/8)\n"
                  "  --insecure               no TLS certificate verification\n"
                  "  REGISTRY is host[:port] (a first component with '.' or ':', or localhost);\n"
                  "  without it, Docker Hub (alpine = registry-1.docker.io/library/alpine).\n"
                  "  SSL_CERT_FILE and SSL_CERT_DIR name the CA certificates to trust; the\n"
                  "  proxy comes from http_proxy, https_proxy, ALL_PROXY and no_proxy.\n"},
};

void command_help(const void *def, FILE *f)
{
    const command_def *d = def;
    size_t i;

    fprintf(f, "usage: %s\n\n%s\n\noptions:\n", d->usage, d->summary);
    for (i = 0; i < sizeof option_help / sizeof option_help[0]; i++)
        if (d->opts & option_help[i].opt)
            fputs(option_help[i].text, f);
    fputs("  -v, -vv, --verbose, --debug   log what the library does on stderr (-vv, --debug:\n"
          "                           every request)\n"
          "  --help                   this text\n\nSee imgsync --help for the exit statuses and "
          "the configuration.\n",
          f);
}

static int parse_options(options *o, args *a)
{
    int only_positional = 0, positional = 0, status;

    for (; a->i < a->argc; a->i++) {
        const char *arg = a->argv[a->i];
        if (only_positional || arg[0] != '-' || arg[1] == '\0') {
            if ((status = parse_positional(o, a, &positional)) != 0)
                return status;
        } else if (strcmp(arg, "--") == 0) {
            only_positional = 1;
        } else if ((status = parse_option(o, a)) != 0) {
            return status;
        }
    }
    return check_required(o, a, positional);
}

/* The command named by argv[1] (and argv[2] for schedule); NULL after a usage error. */
static const command_def *find_command(int argc, char **argv, int *first_option)
{
    size_t i;
    int has_sub = argc > 2;

    for (i = 0; i < N_COMMANDS; i++) {
        if (strcmp(commands[i].name, argv[1]) != 0)
            continue;
        if (commands[i].sub == NULL) {
            *first_option = 2;
            return &commands[i];
        }
        if (has_sub && strcmp(commands[i].sub, argv[2]) == 0) {
            *first_option = 3;
            return &commands[i];
        }
    }
    if (strcmp(argv[1], "schedule") == 0)
        usage_error("schedule needs add, list or rm%s%s", has_sub ? ", not " : "",
                    has_sub ? argv[2] : "");
    else
        usage_error("unknown command '%s' (sync, check, images, tasks, task, changes, schedule, "
                    "daemon, ls, inspect, catalog)",
                    argv[1]);
    return NULL;
}

/* "imgsync schedule --help": the help of each schedule subcommand. */
static int schedule_help(int argc, char **argv)
{
    size_t i;

    if (argc < 3 || strcmp(argv[1], "schedule") != 0 ||
        (strcmp(argv[2], "--help") != 0 && strcmp(argv[2], "-h") != 0))
        return 0;
    for (i = 0; i < N_COMMANDS; i++)
        if (strcmp(commands[i].name, "schedule") == 0) {
            command_help(&commands[i], stdout);
            fputc('\n', stdout);
        }
    return 1;
}

int parse_command_line(options *o, int argc, char **argv)
{
    args a = {argc, argv, 2, NULL};
    static char name[32];
    int status;

    if (schedule_help(argc, argv))
        return PARSE_HELP;
    if ((a.def = find_command(argc, argv, &a.i)) == NULL)
        return EXIT_USAGE;
    snprintf(name, sizeof name, "%s%s%s", a.def->name, a.def->sub ? " " : "",
             a.def->sub ? a.def->sub : "");
    o->cmd = a.def->cmd;
    o->name = name;
    o->format = FORMAT_TABLE;
    o->timeout_ms = o->cmd == CMD_CHECK                   ? DEFAULT_CHECK_TIMEOUT_MS
                    : (a.def->opts & OPT_ONESHOT) != 0 ? DEFAULT_ONESHOT_TIMEOUT_MS
                                                       : DEFAULT_SYNC_TIMEOUT_MS;
    o->state = o->trigger = -1;
    o->daily_hour = o->daily_minute = -1;
    status = parse_options(o, &a);
    if (status == PARSE_HELP)
        command_help(a.def, stdout);
    return status;
}
