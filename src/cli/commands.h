/* imgsync: the command-line options and the commands. */
#ifndef IMGSYNC_CLI_COMMANDS_H
#define IMGSYNC_CLI_COMMANDS_H

#include "cli/config.h"

/* Default deadlines: a whole sync, and a connection check (0 on the command line: see help). */
#define DEFAULT_SYNC_TIMEOUT_MS 3600000ul
#define DEFAULT_CHECK_TIMEOUT_MS 30000ul
/* The library's largest check_timeout_ms, used for `check --timeout-ms 0`. */
#define MAX_CHECK_TIMEOUT_MS 3600000ul
/* ls, inspect, catalog */
#define DEFAULT_ONESHOT_TIMEOUT_MS 300000ul

enum command {
    CMD_SYNC,
    CMD_CHECK,
    CMD_IMAGES,
    CMD_TASKS,
    CMD_TASK,
    CMD_CHANGES,
    CMD_SCHEDULE_ADD,
    CMD_SCHEDULE_LIST,
    CMD_SCHEDULE_RM,
    CMD_DAEMON,
    CMD_LS,
    CMD_INSPECT,
    CMD_CATALOG
};
enum output_format { FORMAT_TABLE, FORMAT_JSON, FORMAT_NDJSON };

/* Glob options, each mapped to one imgsync_request_add_filter() field and mode. */
typedef struct filter_option {
    const char *name;
    int field;
    int mode;
} filter_option;

#define N_FILTER_OPTIONS 6
extern const filter_option filter_options[N_FILTER_OPTIONS];

typedef struct options {
    enum command cmd;
    const char *name; /* "sync", "schedule add" ... for messages */
    const char *config_path; /* --config, "-" = stdin, or the default file when it exists */
    char *config_default;    /* the default file's path (owned), NULL when not used */
    const char *db_path; /* --db; NULL = the command's default */
    strlist types, registries, repos;
    strlist filters[N_FILTER_OPTIONS];
    unsigned long max_tags;
    unsigned long timeout_ms; /* sync: 0 = no limit; check: 0 = the library's maximum */
    int timeout_given;        /* --timeout-ms was on the command line */
    enum output_format format;
    const char *check_name;
    int64_t updated_since_ms; /* images --updated-since; 0 = none */
    int state, trigger;       /* tasks --state / --trigger; -1 = any */
    unsigned long limit;      /* tasks --limit; 0 = all */
    uint64_t task_id;         /* task ID, changes --task, schedule rm ID */
    uint64_t since_id;        /* changes --since */
    int since_given;
    int daily_hour, daily_minute; /* schedule add --daily; -1 = not given */
    unsigned long every_minutes;  /* schedule add --every; 0 = not given */
    /* ls, inspect, catalog */
    const char *ref;      /* the image reference */
    const char *username; /* --username */
    int password_stdin;   /* --password-stdin */
    int plain_http;       /* --plain-http: http:// whatever the host */
    int insecure;         /* --insecure: no TLS verification */
    int verbosity;                /* -v: 1 (info), -vv or --debug: 2 (debug) */
} options;

void options_free(options *o);
/* main.c: parse argv into o (o->cmd and o->name set). 0, PARSE_HELP, or an exit status. */
#define PARSE_HELP (-1)
int parse_command_line(options *o, int argc, char **argv);
/* The help of one command (a command_def of options.c), which PARSE_HELP has printed. */
void command_help(const void *def, FILE *f);
/* -v, -vv, --verbose, --debug: how much more it makes o->verbosity, 0 for another argument. */
int verbosity_flag(const char *arg);

/* request.c: the request the selection options describe; `wanted` receives the registries to
 * create (none = all). cfg may be NULL (commands that need no configuration): registry names
 * are then not checked. 0, or an exit status after printing why. */
int build_request(const options *o, const config *cfg, imgsync_request **out, strlist *wanted);
/* "no registry 'x' in FILE (configured: a, b)"; returns EXIT_USAGE. */
int unknown_registry(const config *cfg, const char *option, const char *name);

/* store.c: a context on the --db database ("memory:" for :memory:); `fallback` is used when
 * --db is not given: DB_DEFAULT (the XDG data file, directories created) or DB_MEMORY.
 * 0, or EXIT_FAIL after printing the store's reason. */
enum db_fallback { DB_DEFAULT, DB_MEMORY };
int open_store(const options *o, enum db_fallback fallback, imgsync_ctx **ctx);
/* The optional --config of a command that can do without one: 0 (cfg->root NULL when none). */
int load_optional_config(const options *o, config *cfg);

/* Exit statuses of the commands. */
int cmd_sync(const options *o);    /* commands.c */
int cmd_check(const options *o);   /* commands.c */
int cmd_images(const options *o);  /* inventory.c */
int cmd_changes(const options *o); /* inventory.c */
int cmd_tasks(const options *o);   /* tasks.c */
int cmd_task(const options *o);    /* tasks.c */
int cmd_schedule_add(const options *o);  /* schedule.c */
int cmd_schedule_list(const options *o); /* schedule.c */
int cmd_schedule_rm(const options *o);   /* schedule.c */
int cmd_daemon(const options *o);        /* daemon.c */
int cmd_ls(const options *o);            /* oneshot.c */
int cmd_inspect(const options *o);       /* oneshot.c */
int cmd_catalog(const options *o);       /* oneshot.c */

#endif
