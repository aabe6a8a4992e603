/*
 * imgsync - command-line front end of libimgsync.
 *
 *   imgsync sync  [--config FILE] [--db PATH] [selection] [--format table|json|ndjson] [--timeout-ms N]
 *   imgsync check [--config FILE] [--timeout-ms N] [--format table|json] NAME
 *   imgsync images | tasks | task ID | changes | schedule add|list|rm | daemon  [--db PATH] ...
 *   imgsync ls REPO | inspect IMAGE | catalog REGISTRY  [--json] ...   (no configuration)
 *   imgsync --version | --help
 *
 * Exit status: 0 success, 1 failure (a sync or check that did not succeed, a database error, an
 * unknown task or schedule), 2 usage or configuration error, 3 the sync partially succeeded,
 * 128+N the sync or the daemon was stopped by signal N.
 * Secrets (password, sk, security_token, token) come from the environment or a file named in
 * the configuration (X_env, X_file), never from the command line; this program never prints
 * one, not even in an error message.
 */
#include "cli/commands.h"

#include <string.h>

static void print_help(FILE *f)
{
    fputs("usage: imgsync sync  [--config FILE] [--db PATH] [selection] [--max-tags N]\n"
          "                     [--format table|json|ndjson] [--timeout-ms N]\n"
          "       imgsync check [--config FILE] [--timeout-ms N] [--format table|json] NAME\n"
          "       imgsync images [--config FILE] [selection] [--updated-since TIME]\n"
          "                      [--format table|json|ndjson]\n"
          "       imgsync tasks [--state S] [--trigger manual|scheduled] [--limit N]\n"
          "                     [--format table|json]\n"
          "       imgsync task [--format table|json] ID\n"
          "       imgsync changes [--task ID | --since ID] [--format table|json|ndjson]\n"
          "       imgsync schedule add (--daily HH:MM | --every N{m,h,d}) [--config FILE]\n"
          "                            [selection] [--max-tags N]\n"
          "       imgsync schedule list [--format table|json]\n"
          "       imgsync schedule rm ID\n"
          "       imgsync daemon [--config FILE] [--db PATH]\n"
          "       imgsync ls [options] [REGISTRY/]REPOSITORY\n"
          "       imgsync inspect [options] [REGISTRY/]REPOSITORY[:TAG][@DIGEST]\n"
          "       imgsync catalog [options] REGISTRY\n"
          "       imgsync --version | --help | COMMAND --help\n"
          "Every command: [-v | -vv | --verbose | --debug]\n"
          "\n"
          "sync: synchronize the image lists of the registries configured in FILE, record the\n"
          "task in the database and print the inventory (stdout) and the task status (stderr).\n"
          "check: test the connection and credentials of the configured registry NAME.\n"
          "images: print the stored inventory (no network; the registries need not be\n"
          "configured). tasks: the task history, newest first. task: one task with its\n"
          "registries and first errors. changes: what syncs added, updated and removed (all\n"
          "retained changes, those of one task, or of the tasks after ID). schedule: scheduled\n"
          "syncs kept in the database. daemon: run the stored schedules until SIGTERM or\n"
          "SIGINT, logging each task's start and end on stderr (SIGHUP is logged and ignored).\n"
          "ls, inspect, catalog: one-shot listings of an image reference, without configuration\n"
          "or database: the tags of a repository with digest and size, one image's digest, size,\n"
          "media type and platforms, a registry's repositories (imgsync COMMAND --help).\n"
          "\n"
          "Progress: on a terminal, stderr shows one line redrawn at most 4 times a second\n"
          "(percentage of repositories done, images/s); otherwise one summary line at the end\n"
          "(with --format table).\n"
          "\n"
          "Every command but ls, inspect and catalog takes --db PATH, the SQLite database of\n"
          "the inventory, the task history and the schedules: default\n"
          "$XDG_DATA_HOME/imgsync/imgsync.db, else ~/.local/share/imgsync/imgsync.db\n"
          "(directories created with mode 0700);\n"
          "--db :memory: for a throw-away run. check opens a database only when --db is given.\n"
          "Every command also takes, before or after its name, -v (--verbose): the library's\n"
          "log on stderr (each task and registry started and ended, failures), or -vv\n"
          "(--debug): also one line per HTTP request (method, URL without credentials or\n"
          "secret query values, status, bytes, time, attempt, retry delay). Lines start with\n"
          "a UTC timestamp and the level; no header, password, token or key is ever shown.\n"
          "\n"
          "selection (sync, images, schedule add; options marked + may be repeated):\n"
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
          "\n"
          "other options:\n"
          "  --config FILE            JSON configuration (see examples/config.example.json);\n"
          "                           '-' reads it from stdin. Default: the file\n"
          "                           $XDG_CONFIG_HOME/imgsync/config.json, else\n"
          "                           ~/.config/imgsync/config.json, when it exists\n"
          "  --max-tags N             keep the N newest tags of each repository (0 = all)\n"
          "  --format F               table (default), json or ndjson; sync --format json|ndjson\n"
          "                           also prints the task status as one JSON object on stderr\n"
          "  --timeout-ms N           sync: cancel the sync after N milliseconds\n"
          "                           (default 3600000, one hour; 0 = no limit)\n"
          "                           check: give up after N milliseconds (default 30000,\n"
          "                           or the settings' check_timeout_ms; 100..3600000,\n"
          "                           0 = 3600000)\n"
          "  --updated-since TIME     rows updated at or after TIME: RFC 3339\n"
          "                           (2026-12-01T00:00:00Z) or a duration ago (90s, 30m, 24h, 7d)\n"
          "  --state S                queued, running, succeeded, partial, failed, canceled, skipped\n"
          "  --trigger T              manual or scheduled\n"
          "  --limit N                at most N tasks (default: every retained task)\n"
          "  --task ID | --since ID   the changes of task ID | of the tasks after ID\n"
          "  --daily HH:MM            every day at HH:MM local time (00:00..23:59)\n"
          "  --every N{m,h,d}         every N minutes, hours or days (1m..31d)\n"
          "\n"
          "Globs: * and ? stay within a path segment, ** crosses '/', [a-z], {a,b}.\n"
          "\n"
          "Configuration: {\"registries\": [{\"name\": ..., \"type\": \"oci\", \"endpoint\": ...,\n"
          "\"username\": ..., \"password_env\": VAR | \"password_file\": FILE, ...}],\n"
          "\"settings\": {\"max_connections\": \"16\", ...}}. Other registry keys are passed to\n"
          "the provider as options; keys starting with '_' are comments.\n"
          "Secrets: every secret option X (password, sk, security_token, token) is also\n"
          "accepted as X_env (an environment variable's name) and X_file (a file; trailing\n"
          "newlines stripped), at most one of the three; a plain X prints a warning, and an\n"
          "empty value, variable or file is refused. Never on the command line.\n"
          "TLS and proxies: SSL_CERT_FILE and SSL_CERT_DIR (as the curl tool reads them) serve\n"
          "as ca_file and ca_dir of a registry that sets no ca_file; registry options cert_file\n"
          "and key_file give a client certificate (mutual TLS); \"proxy\" (http://, https://,\n"
          "socks5://, socks5h:// URL; \"none\" = no proxy) overrides the environment, where\n"
          "libcurl reads http_proxy (lower case only), https_proxy or HTTPS_PROXY, ALL_PROXY\n"
          "and no_proxy.\n"
          "\n"
          "Exit status (every command): 0 success, 1 failure (sync or check failed or was\n"
          "canceled at its deadline; database error; unknown task or schedule), 2 usage or\n"
          "configuration error, 3 sync partially succeeded (some repositories or registries\n"
          "failed; the others were synced), 128+N sync or daemon stopped by signal N (130\n"
          "SIGINT/Ctrl-C, 143 SIGTERM; the running task is recorded as canceled).\n",
          f);
}

/* The first argument alone: --help, --version, or nothing. 1 when it was one of them. */
static int global_option(int argc, char **argv, int *status)
{
    *status = EXIT_OK;
    if (argc < 2) {
        usage_error("missing command (sync, check, images, tasks, task, changes, schedule, "
                    "daemon, ls, inspect, catalog)");
        *status = EXIT_USAGE;
    } else if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
               strcmp(argv[1], "help") == 0) {
        print_help(stdout);
    } else if (strcmp(argv[1], "--version") == 0) {
        printf("imgsync %s (libimgsync %s)\n", IMGSYNC_VERSION_STRING, imgsync_version());
    } else {
        return 0;
    }
    return 1;
}

static int run_command(const options *o)
{
    switch (o->cmd) {
    case CMD_SYNC:
        return cmd_sync(o);
    case CMD_CHECK:
        return cmd_check(o);
    case CMD_IMAGES:
        return cmd_images(o);
    case CMD_TASKS:
        return cmd_tasks(o);
    case CMD_TASK:
        return cmd_task(o);
    case CMD_CHANGES:
        return cmd_changes(o);
    case CMD_SCHEDULE_ADD:
        return cmd_schedule_add(o);
    case CMD_SCHEDULE_LIST:
        return cmd_schedule_list(o);
    case CMD_SCHEDULE_RM:
        return cmd_schedule_rm(o);
    case CMD_DAEMON:
        return cmd_daemon(o);
    case CMD_LS:
        return cmd_ls(o);
    case CMD_INSPECT:
        return cmd_inspect(o);
    case CMD_CATALOG:
        return cmd_catalog(o);
    }
    return EXIT_USAGE;
}

/* -v / -vv / --debug before the command: counted and taken out of argv. */
static int leading_verbosity(int *argc, char **argv)
{
    int v = 0, more;

    while (*argc > 1 && (more = verbosity_flag(argv[1])) != 0) {
        v += more;
        memmove(argv + 1, argv + 2, (size_t)(*argc - 1) * sizeof *argv); /* with argv[argc] NULL */
        (*argc)--;
    }
    return v;
}

int main(int argc, char **argv)
{
    options o;
    int status, verbosity = leading_verbosity(&argc, argv);

    if (global_option(argc, argv, &status))
        return status;
    memset(&o, 0, sizeof o);
    o.verbosity = verbosity > 2 ? 2 : verbosity;
    status = parse_command_line(&o, argc, argv);
    if (status == PARSE_HELP) {
        status = EXIT_OK; /* the command's help is printed */
    } else if (status == 0) {
        status = run_command(&o);
    }
    options_free(&o);
    return status;
}
