/* imgsync: the command-line options and the two commands. */
#ifndef IMGSYNC_CLI_COMMANDS_H
#define IMGSYNC_CLI_COMMANDS_H

#include "cli/config.h"

/* Default deadlines: a whole sync, and a connection check (0 on the command line: see help). */
#define DEFAULT_SYNC_TIMEOUT_MS 3600000ul
#define DEFAULT_CHECK_TIMEOUT_MS 30000ul
/* The library's largest check_timeout_ms, used for `check --timeout-ms 0`. */
#define MAX_CHECK_TIMEOUT_MS 3600000ul

enum command { CMD_SYNC, CMD_CHECK };
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
    const char *config_path;
    strlist types, registries, repos;
    strlist filters[N_FILTER_OPTIONS];
    unsigned long max_tags;
    unsigned long timeout_ms; /* sync: 0 = no limit; check: 0 = the library's maximum */
    int timeout_given;        /* --timeout-ms was on the command line */
    enum output_format format;
    const char *check_name;
} options;

void options_free(options *o);

/* request.c: the request the selection options describe; `wanted` receives the registries to
 * create (none = all). 0, or an exit status after printing why. */
int build_request(const options *o, const config *cfg, imgsync_request **out, strlist *wanted);
/* "no registry 'x' in FILE (configured: a, b)"; returns EXIT_USAGE. */
int unknown_registry(const config *cfg, const char *option, const char *name);

/* commands.c: exit statuses. */
int cmd_sync(const options *o);
int cmd_check(const options *o);

#endif
