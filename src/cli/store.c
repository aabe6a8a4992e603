/* imgsync: the database (--db) every command opens, and the optional configuration. */
#include "cli/commands.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define DB_SUBPATH "imgsync/imgsync.db"

/* mkdir -p of the directories of `path` (not its last component), mode 0700. */
static int make_parents(char *path)
{
    char *p;

    for (p = strchr(path + 1, '/'); p != NULL; p = strchr(p + 1, '/')) {
        *p = '\0';
        if (mkdir(path, 0700) != 0 && errno != EEXIST) {
            errorf("cannot create the directory %s: %s", path, strerror(errno));
            *p = '/';
            return -1;
        }
        *p = '/';
    }
    return 0;
}

/* $XDG_DATA_HOME/imgsync/imgsync.db (an absolute XDG_DATA_HOME only, as the XDG spec says),
 * else ~/.local/share/imgsync/imgsync.db; its directories are created. NULL after an error. */
static char *default_db_path(void)
{
    const char *xdg = getenv("XDG_DATA_HOME"), *home = getenv("HOME");
    char *path;

    if (xdg != NULL && xdg[0] == '/')
        path = format("%s/%s", xdg, DB_SUBPATH);
    else if (home != NULL && home[0] == '/')
        path = format("%s/.local/share/%s", home, DB_SUBPATH);
    else {
        errorf("no database: HOME and XDG_DATA_HOME are not set; give --db PATH");
        return NULL;
    }
    if (path == NULL)
        errorf("out of memory");
    else if (make_parents(path) != 0) {
        free(path);
        path = NULL;
    }
    return path;
}

/* The store URI of --db (or of the fallback); *shown is what messages call it. */
static char *store_uri(const options *o, enum db_fallback fallback, char **shown)
{
    char *path = NULL, *uri;

    if (o->db_path != NULL && strcmp(o->db_path, ":memory:") == 0)
        return *shown = format("memory:"), format("memory:");
    if (o->db_path == NULL && fallback == DB_MEMORY)
        return *shown = format("memory:"), format("memory:");
    if (o->db_path != NULL)
        path = format("%s", o->db_path);
    else if ((path = default_db_path()) == NULL)
        return NULL;
    if (path == NULL || (uri = format("sqlite:%s", path)) == NULL) {
        errorf("out of memory");
        free(path);
        return NULL;
    }
    *shown = path;
    return uri;
}

int open_store(const options *o, enum db_fallback fallback, imgsync_ctx **ctx)
{
    char errbuf[512], *shown = NULL, *uri = store_uri(o, fallback, &shown);
    int rc, status = 0;

    *ctx = NULL;
    if (uri == NULL || shown == NULL) {
        free(uri);
        free(shown);
        return EXIT_FAIL;
    }
    errbuf[0] = '\0';
    if ((rc = imgsync_ctx_open(ctx, uri, errbuf, sizeof errbuf)) != 0) {
        errorf("database %s: %s", shown, errbuf[0] ? errbuf : imgsync_strerror(rc));
        *ctx = NULL;
        status = EXIT_FAIL;
    } else if (o->verbosity > 0) {
        imgsync_ctx_set_log_callback(*ctx, o->verbosity > 1 ? IMGSYNC_LOG_DEBUG : IMGSYNC_LOG_INFO, log_to_stderr,
                                     NULL);
    }
    free(uri);
    free(shown);
    return status;
}

int load_optional_config(const options *o, config *cfg)
{
    if (o->config_path != NULL)
        return config_load(cfg, o->config_path);
    memset(cfg, 0, sizeof *cfg);
    return 0;
}
