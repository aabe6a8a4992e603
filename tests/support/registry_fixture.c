/* Real-registry test fixture: see registry_fixture.h. */
#include "registry_fixture.h"
#include "emulator_fixture.h"

#include <yajl/yajl_tree.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "util/buf.h" /* the library's own string helpers (tests link it statically) */

#define DEFAULT_SCRIPT "tests/registry/registry.py"
#define MAX_DIFF_LINES 60

static void fx_error(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;

static void fx_error(const char *fmt, ...)
{
    va_list ap;

    fputs("registry_fixture: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    fflush(stderr);
}

static const char *script_path(void)
{
    const char *s = getenv("IMGSYNC_REGISTRY_PY");

    return s && *s ? s : DEFAULT_SCRIPT;
}

/* ---- utilities ------------------------------------------------------------------------------ */

char *rf_shell_quote(const char *s)
{
    size_t n = 3, i;
    char *out, *p;

    for (i = 0; s[i]; i++)
        n += s[i] == '\'' ? 4 : 1;
    if ((out = malloc(n)) == NULL)
        return NULL;
    p = out;
    *p++ = '\'';
    for (i = 0; s[i]; i++) {
        if (s[i] == '\'') {
            memcpy(p, "'\\''", 4);
            p += 4;
        } else {
            *p++ = s[i];
        }
    }
    *p++ = '\'';
    *p = '\0';
    return out;
}

int rf_run(const char *command)
{
    int st;

    fflush(stdout);
    fflush(stderr);
    st = system(command);
    if (st == -1 || !WIFEXITED(st))
        return -1;
    return WEXITSTATUS(st);
}

char *rf_read_file(const char *path, size_t *len) { return ef_read_file(path, len); }

int rf_write_file(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    size_t len = strlen(text), off = 0;

    if (fd < 0) {
        fx_error("cannot create %s: %s", path, strerror(errno));
        return -1;
    }
    while (off < len) {
        ssize_t w = write(fd, text + off, len - off);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            fx_error("cannot write %s: %s", path, strerror(errno));
            close(fd);
            return -1;
        }
        off += (size_t)w;
    }
    if (close(fd) != 0) {
        fx_error("cannot write %s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

int rf_closed_port(void)
{
    struct sockaddr_in a;
    socklen_t alen = sizeof a;
    int fd = socket(AF_INET, SOCK_STREAM, 0), port;

    if (fd < 0)
        return -1;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &alen) != 0) {
        close(fd);
        return -1;
    }
    port = ntohs(a.sin_port);
    close(fd); /* never listened: connections to it are refused */
    return port;
}

/* ---- temporary directories ------------------------------------------------------------------ */

char *rf_tempdir(const char *label)
{
    const char *tmp = getenv("TMPDIR");
    char *path;

    if (tmp == NULL || *tmp == '\0')
        tmp = "/tmp";
    path = imgsync__asprintf("%s/imgsync-it-%s-XXXXXX", tmp, label ? label : "x");
    if (path == NULL)
        return NULL;
    if (mkdtemp(path) == NULL) {
        fx_error("mkdtemp(%s): %s", path, strerror(errno));
        free(path);
        return NULL;
    }
    return path;
}

static int rmtree_at(const char *path)
{
    struct stat st;
    DIR *d;
    struct dirent *e;
    int rc = 0;

    if (lstat(path, &st) != 0)
        return errno == ENOENT ? 0 : -1;
    if (!S_ISDIR(st.st_mode))
        return unlink(path) == 0 || errno == ENOENT ? 0 : -1;
    if ((d = opendir(path)) == NULL)
        return -1;
    while ((e = readdir(d)) != NULL) {
        char *child;
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if ((child = imgsync__asprintf("%s/%s", path, e->d_name)) == NULL) {
            rc = -1;
            break;
        }
        if (rmtree_at(child) != 0)
            rc = -1;
        free(child);
    }
    closedir(d);
    if (rmdir(path) != 0 && errno != ENOENT)
        rc = -1;
    return rc;
}

int rf_rmtree(const char *path)
{
    if (path == NULL || *path == '\0')
        return 0;
    if (strcmp(path, "/") == 0) {
        fx_error("refusing to remove /");
        return -1;
    }
    if (rmtree_at(path) != 0) {
        fx_error("cannot remove %s completely: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

/* ---- registry processes: tracking for atexit / fatal signals ---------------------------------- */

/*
 * Every registry directory made by this process, with the registry's pid while it runs. At exit
 * (normal or by SIGINT/SIGTERM/SIGHUP) of the process that made them, the registries still
 * running are stopped and the directories removed. Forked test children never act on them.
 */
#define MAX_TRACKED 16

static struct tracked {
    int used;
    pid_t pid; /* 0 when not running */
    char dir[PATH_MAX];
} tracked[MAX_TRACKED];
static pid_t tracking_owner;
static int tracking_installed;
static struct sigaction old_actions[3];
static const int fatal_signals[3] = {SIGINT, SIGTERM, SIGHUP};

/* Does pid run `docker-registry serve DIR/config.yml`? Only open/read/close: async-signal-safe. */
static int pid_is_registry_of(pid_t pid, const char *dir)
{
    char path[64], buf[4096];
    size_t dlen = strlen(dir), i;
    ssize_t n;
    int fd, k;

    if (pid <= 0 || dlen == 0)
        return 0;
    /* "/proc/<pid>/cmdline" without snprintf */
    {
        char digits[24];
        int nd = 0;
        pid_t v = pid;
        memcpy(path, "/proc/", 6);
        while (v > 0 && nd < (int)sizeof digits) {
            digits[nd++] = (char)('0' + v % 10);
            v /= 10;
        }
        for (k = 0; k < nd; k++)
            path[6 + k] = digits[nd - 1 - k];
        memcpy(path + 6 + nd, "/cmdline", 9);
    }
    if ((fd = open(path, O_RDONLY)) < 0)
        return 0;
    n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return 0; /* gone, or a zombie (empty command line) */
    for (i = 0; i + dlen <= (size_t)n; i++)
        if (memcmp(buf + i, dir, dlen) == 0 && (i + dlen == (size_t)n || buf[i + dlen] == '/'))
            return 1;
    return 0;
}

static void on_fatal_signal(int sig)
{
    size_t i;

    if (getpid() == tracking_owner) {
        for (i = 0; i < MAX_TRACKED; i++)
            if (tracked[i].used && pid_is_registry_of(tracked[i].pid, tracked[i].dir))
                kill(tracked[i].pid, SIGKILL);
        for (i = 0; i < MAX_TRACKED; i++) {
            pid_t c;
            if (!tracked[i].used)
                continue;
            if ((c = fork()) == 0) { /* rm -rf DIR: fork, execve and waitpid are async-signal-safe */
                execl("/bin/rm", "rm", "-rf", "--", tracked[i].dir, (char *)NULL);
                _exit(127);
            }
            while (c > 0 && waitpid(c, NULL, 0) < 0 && errno == EINTR)
                ;
        }
    }
    for (i = 0; i < 3; i++) {
        if (fatal_signals[i] != sig)
            continue;
        if (old_actions[i].sa_handler != SIG_DFL && old_actions[i].sa_handler != SIG_IGN &&
            !(old_actions[i].sa_flags & SA_SIGINFO))
            old_actions[i].sa_handler(sig); /* e.g. Check's, which kills the test child */
    }
    signal(sig, SIG_DFL);
    raise(sig);
}

static void cleanup_tracked_at_exit(void)
{
    size_t i;
    rf_registry r;

    if (getpid() != tracking_owner)
        return; /* a forked test child: the registries belong to the parent */
    for (i = 0; i < MAX_TRACKED; i++) {
        if (!tracked[i].used)
            continue;
        memset(&r, 0, sizeof r);
        if ((r.dir = imgsync__strdup(tracked[i].dir)) == NULL)
            continue;
        r.pid = tracked[i].pid;
        r.running = r.pid > 0;
        fx_error("cleaning up %s, left behind at exit", r.dir);
        rf_registry_destroy(&r); /* stops, removes, untracks */
    }
}

static void track_dir(const char *dir)
{
    size_t i;

    if (!tracking_installed) {
        struct sigaction sa;
        tracking_owner = getpid();
        atexit(cleanup_tracked_at_exit);
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_fatal_signal;
        sigemptyset(&sa.sa_mask);
        for (i = 0; i < 3; i++)
            sigaction(fatal_signals[i], &sa, &old_actions[i]);
        tracking_installed = 1;
    }
    for (i = 0; i < MAX_TRACKED; i++) {
        if (!tracked[i].used) {
            snprintf(tracked[i].dir, sizeof tracked[i].dir, "%s", dir);
            tracked[i].pid = 0;
            tracked[i].used = 1;
            return;
        }
    }
    fx_error("more than %d registries: %s is not tracked for exit", MAX_TRACKED, dir);
}

static struct tracked *find_tracked(const char *dir)
{
    size_t i;

    for (i = 0; dir != NULL && i < MAX_TRACKED; i++)
        if (tracked[i].used && strcmp(tracked[i].dir, dir) == 0)
            return &tracked[i];
    return NULL;
}

static void track_pid(const char *dir, pid_t pid)
{
    struct tracked *t = find_tracked(dir);

    if (t != NULL)
        t->pid = pid;
}

static void untrack_dir(const char *dir)
{
    struct tracked *t = find_tracked(dir);

    if (t != NULL)
        memset(t, 0, sizeof *t);
}

/* ---- registry ---------------------------------------------------------------------------------- */

const char *rf_registry_path(const rf_registry *r, const char *name)
{
    static char buf[PATH_MAX];

    snprintf(buf, sizeof buf, "%s/%s", r->dir ? r->dir : ".", name);
    return buf;
}

static int read_pid_file(const rf_registry *r)
{
    char *text = rf_read_file(rf_registry_path(r, "registry.pid"), NULL);
    int pid = text ? atoi(text) : 0;

    free(text);
    return pid;
}

int rf_registry_start(rf_registry *r, const char *label, const char *user, const char *password_env)
{
    char *qscript = NULL, *qdir = NULL, *qauth = NULL, *cmd = NULL, line[64];
    const char *password = NULL;
    FILE *p;
    int st, port = 0;

    memset(r, 0, sizeof *r);
    if (access(script_path(), R_OK) != 0) {
        fx_error("%s not found (run the tests from the repository root or set IMGSYNC_REGISTRY_PY)",
                 script_path());
        return -1;
    }
    if (user != NULL) {
        if (password_env == NULL || (password = getenv(password_env)) == NULL || *password == '\0') {
            fx_error("the password variable %s is not set", password_env ? password_env : "(null)");
            return -1;
        }
        snprintf(r->user, sizeof r->user, "%s", user);
        snprintf(r->password_env, sizeof r->password_env, "%s", password_env);
    }
    if ((r->dir = rf_tempdir(label)) == NULL)
        return -1;
    track_dir(r->dir);

    qscript = rf_shell_quote(script_path());
    qdir = rf_shell_quote(r->dir);
    if (user != NULL) {
        char *spec = imgsync__asprintf("%s:%s", user, password);
        qauth = spec ? rf_shell_quote(spec) : NULL;
        if (spec != NULL) {
            memset(spec, 0, strlen(spec));
            free(spec);
        }
    }
    if (qscript == NULL || qdir == NULL || (user != NULL && qauth == NULL))
        goto oom;
    cmd = imgsync__asprintf("exec python3 %s start --dir %s%s%s", qscript, qdir, qauth ? " --htpasswd " : "",
                      qauth ? qauth : "");
    if (cmd == NULL)
        goto oom;

    /* The command holds the password: it is never printed, only passed to sh. */
    fflush(stdout);
    fflush(stderr);
    if ((p = popen(cmd, "r")) == NULL) {
        fx_error("cannot run registry.py start: %s", strerror(errno));
        goto fail;
    }
    while (fgets(line, sizeof line, p) != NULL)
        if (port == 0)
            port = atoi(line);
    st = pclose(p);
    if (st == -1 || !WIFEXITED(st) || WEXITSTATUS(st) != 0 || port <= 0 || port > 65535) {
        fx_error("registry.py start --dir %s%s failed (status %d, port %d)", r->dir,
                 user ? " --htpasswd USER:***" : "", st, port);
        goto fail;
    }
    r->port = port;
    r->pid = read_pid_file(r);
    r->running = 1;
    snprintf(r->url, sizeof r->url, "http://127.0.0.1:%d", port);
    snprintf(r->host, sizeof r->host, "127.0.0.1:%d", port);
    track_pid(r->dir, r->pid);
    if (r->pid <= 0)
        fx_error("warning: no pid in %s", rf_registry_path(r, "registry.pid"));
    st = 0;
    goto out;
oom:
    fx_error("out of memory");
fail:
    st = -1;
    /* a half-started registry is stopped by registry.py itself; make sure anyway */
    if (read_pid_file(r) > 0) {
        r->running = 1;
        rf_registry_stop(r);
    }
out:
    if (qauth != NULL)
        memset(qauth, 0, strlen(qauth));
    if (cmd != NULL)
        memset(cmd, 0, strlen(cmd));
    free(qscript);
    free(qdir);
    free(qauth);
    free(cmd);
    return st;
}

int rf_registry_seed(rf_registry *r, const char *stage, const char *out_path)
{
    char *qscript = rf_shell_quote(script_path()), *qout = rf_shell_quote(out_path);
    char *quser = rf_shell_quote(r->user), *qenv = rf_shell_quote(r->password_env);
    char *qstage = rf_shell_quote(stage), *qlog = NULL, *cmd = NULL, *log;
    int rc = -1, st;

    if (!r->running) {
        fx_error("seed %s: the registry is not running", stage);
        goto out;
    }
    qlog = rf_shell_quote(rf_registry_path(r, "seed.log"));
    if (!qscript || !qout || !quser || !qenv || !qstage || !qlog)
        goto out;
    if (r->user[0])
        cmd = imgsync__asprintf("python3 %s seed --url %s --user %s --password-env %s --out %s --stage %s 2>%s",
                          qscript, r->url, quser, qenv, qout, qstage, qlog);
    else
        cmd = imgsync__asprintf("python3 %s seed --url %s --out %s --stage %s 2>%s", qscript, r->url, qout,
                          qstage, qlog);
    if (cmd == NULL)
        goto out;
    st = rf_run(cmd);
    if (st != 0) {
        /* the harness never prints a password, so its log can be shown */
        log = rf_read_file(rf_registry_path(r, "seed.log"), NULL);
        fx_error("registry.py seed --stage %s failed (status %d):\n%s", stage, st, log ? log : "");
        free(log);
        goto out;
    }
    rc = 0;
out:
    free(qscript);
    free(qout);
    free(quser);
    free(qenv);
    free(qstage);
    free(qlog);
    free(cmd);
    return rc;
}

int rf_registry_stop(rf_registry *r)
{
    char *qscript, *qdir, *cmd;
    int st, i, pid;

    if (r->dir == NULL)
        return 0;
    pid = r->pid > 0 ? r->pid : read_pid_file(r);
    if (!r->running && !pid_is_registry_of(pid, r->dir)) {
        track_pid(r->dir, 0);
        return 0;
    }
    qscript = rf_shell_quote(script_path());
    qdir = rf_shell_quote(r->dir);
    cmd = qscript && qdir ? imgsync__asprintf("python3 %s stop --dir %s", qscript, qdir) : NULL;
    st = cmd ? rf_run(cmd) : -1;
    free(qscript);
    free(qdir);
    free(cmd);
    if (st != 0)
        fx_error("registry.py stop --dir %s failed (status %d)", r->dir, st);
    /* registry.py waits for the process to go; double-check with our own pid, and only ever
     * signal it while its command line still names our directory (pids get reused) */
    for (i = 0; i < 100 && pid_is_registry_of(pid, r->dir); i++) {
        struct timespec ts = {0, 50 * 1000 * 1000};
        if (i == 60)
            kill(pid, SIGKILL);
        nanosleep(&ts, NULL);
    }
    if (pid_is_registry_of(pid, r->dir)) {
        fx_error("registry pid %d in %s is still alive", pid, r->dir);
        return -1;
    }
    r->running = 0;
    track_pid(r->dir, 0);
    return st == 0 ? 0 : -1;
}

void rf_registry_destroy(rf_registry *r)
{
    if (r->dir != NULL) {
        rf_registry_stop(r);
        rf_rmtree(r->dir);
        untrack_dir(r->dir);
        free(r->dir);
    }
    memset(r, 0, sizeof *r);
}

/* ---- rows --------------------------------------------------------------------------------------- */

int rf_rows_add(rf_rows *rows, const char *repository, const char *tag, const char *digest,
                const char *media_type, int64_t size, int multi_arch)
{
    rf_row *v = realloc(rows->v, (rows->n + 1) * sizeof *v), *row;

    if (v == NULL)
        return -1;
    rows->v = v;
    row = &v[rows->n];
    row->repository = imgsync__strdup(repository ? repository : "");
    row->tag = imgsync__strdup(tag ? tag : "");
    row->digest = imgsync__strdup(digest ? digest : "");
    row->media_type = imgsync__strdup(media_type ? media_type : "");
    row->size = size;
    row->multi_arch = multi_arch ? 1 : 0;
    if (!row->repository || !row->tag || !row->digest || !row->media_type) {
        free(row->repository);
        free(row->tag);
        free(row->digest);
        free(row->media_type);
        return -1;
    }
    rows->n++;
    return 0;
}

void rf_rows_free(rf_rows *rows)
{
    size_t i;

    if (rows == NULL)
        return;
    for (i = 0; i < rows->n; i++) {
        free(rows->v[i].repository);
        free(rows->v[i].tag);
        free(rows->v[i].digest);
        free(rows->v[i].media_type);
    }
    free(rows->v);
    rows->v = NULL;
    rows->n = 0;
}

int rf_rows_load(rf_rows *out, const char *path)
{
    static const char *const str_keys[] = {"repository", "tag", "digest", "media_type"};
    char err[256], *text = rf_read_file(path, NULL);
    yajl_val root;
    size_t i, k;

    out->v = NULL;
    out->n = 0;
    if (text == NULL) {
        fx_error("cannot read %s: %s", path, strerror(errno));
        return -1;
    }
    err[0] = '\0';
    root = yajl_tree_parse(text, err, sizeof err);
    free(text);
    if (root == NULL || !YAJL_IS_ARRAY(root)) {
        fx_error("%s: not a JSON array: %s", path, err);
        yajl_tree_free(root);
        return -1;
    }
    for (i = 0; i < root->u.array.len; i++) {
        yajl_val o = root->u.array.values[i], v[4], size, multi;
        const char *size_path[] = {"size", NULL}, *multi_path[] = {"multi_arch", NULL};
        if (!YAJL_IS_OBJECT(o))
            goto bad;
        for (k = 0; k < 4; k++) {
            const char *p[] = {str_keys[k], NULL};
            v[k] = yajl_tree_get(o, p, yajl_t_string);
            if (v[k] == NULL)
                goto bad;
        }
        size = yajl_tree_get(o, size_path, yajl_t_number);
        multi = yajl_tree_get(o, multi_path, yajl_t_any);
        if (size == NULL || !YAJL_IS_INTEGER(size) || multi == NULL ||
            !(YAJL_IS_TRUE(multi) || YAJL_IS_FALSE(multi)))
            goto bad;
        if (rf_rows_add(out, YAJL_GET_STRING(v[0]), YAJL_GET_STRING(v[1]), YAJL_GET_STRING(v[2]),
                        YAJL_GET_STRING(v[3]), (int64_t)YAJL_GET_INTEGER(size), YAJL_IS_TRUE(multi)) != 0) {
            fx_error("out of memory");
            goto fail;
        }
    }
    yajl_tree_free(root);
    return 0;
bad:
    fx_error("%s: element %zu is not {repository, tag, digest, size, media_type, multi_arch}", path, i);
fail:
    yajl_tree_free(root);
    rf_rows_free(out);
    return -1;
}

int rf_rows_filter(rf_rows *out, const rf_rows *in, int (*keep)(const rf_row *row, void *arg), void *arg)
{
    size_t i;

    out->v = NULL;
    out->n = 0;
    for (i = 0; i < in->n; i++) {
        const rf_row *r = &in->v[i];
        if (keep != NULL && !keep(r, arg))
            continue;
        if (rf_rows_add(out, r->repository, r->tag, r->digest, r->media_type, r->size, r->multi_arch)) {
            rf_rows_free(out);
            return -1;
        }
    }
    return 0;
}

const rf_row *rf_rows_find(const rf_rows *rows, const char *repository, const char *tag)
{
    size_t i;

    for (i = 0; i < rows->n; i++)
        if (strcmp(rows->v[i].repository, repository) == 0 && strcmp(rows->v[i].tag, tag) == 0)
            return &rows->v[i];
    return NULL;
}

size_t rf_rows_count_repository(const rf_rows *rows, const char *repository)
{
    size_t i, n = 0;

    for (i = 0; i < rows->n; i++)
        n += strcmp(rows->v[i].repository, repository) == 0;
    return n;
}

size_t rf_rows_count_repositories(const rf_rows *rows)
{
    size_t i, j, n = 0;

    for (i = 0; i < rows->n; i++) {
        for (j = 0; j < i; j++)
            if (strcmp(rows->v[j].repository, rows->v[i].repository) == 0)
                break;
        n += j == i;
    }
    return n;
}

static int row_key_cmp(const rf_row *a, const rf_row *b)
{
    int c = strcmp(a->repository, b->repository);

    return c ? c : strcmp(a->tag, b->tag);
}

static int row_ptr_cmp(const void *pa, const void *pb)
{
    return row_key_cmp(*(const rf_row *const *)pa, *(const rf_row *const *)pb);
}

static const rf_row **sorted_ptrs(const rf_rows *rows)
{
    const rf_row **p = malloc((rows->n + 1) * sizeof *p);
    size_t i;

    if (p == NULL)
        return NULL;
    for (i = 0; i < rows->n; i++)
        p[i] = &rows->v[i];
    qsort((void *)p, rows->n, sizeof *p, row_ptr_cmp);
    return p;
}

typedef struct differ {
    const char *label;
    size_t count;
} differ;

static void diff_line(differ *d, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

static void diff_line(differ *d, const char *fmt, ...)
{
    va_list ap;

    d->count++;
    if (d->count > MAX_DIFF_LINES) {
        if (d->count == MAX_DIFF_LINES + 1)
            fprintf(stderr, "  %s: ... (more differences not shown)\n", d->label);
        return;
    }
    fprintf(stderr, "  %s: ", d->label);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

static void describe(const rf_row *r, char *buf, size_t n)
{
    snprintf(buf, n, "digest=%s size=%" PRId64 " media_type=%s multi_arch=%d",
             r->digest[0] ? r->digest : "\"\"", r->size, r->media_type[0] ? r->media_type : "\"\"",
             r->multi_arch);
}

static void compare_fields(differ *d, const rf_row *want, const rf_row *got, unsigned fields)
{
    if ((fields & RF_DIGEST) && strcmp(want->digest, got->digest) != 0)
        diff_line(d, "%s:%s digest is \"%s\", expected \"%s\"", want->repository, want->tag, got->digest,
                  want->digest);
    if ((fields & RF_SIZE) && want->size != got->size)
        diff_line(d, "%s:%s size is %" PRId64 ", expected %" PRId64, want->repository, want->tag, got->size,
                  want->size);
    if ((fields & RF_MEDIA_TYPE) && strcmp(want->media_type, got->media_type) != 0)
        diff_line(d, "%s:%s media_type is \"%s\", expected \"%s\"", want->repository, want->tag,
                  got->media_type, want->media_type);
    if ((fields & RF_MULTI_ARCH) && want->multi_arch != got->multi_arch)
        diff_line(d, "%s:%s multi_arch is %d, expected %d", want->repository, want->tag, got->multi_arch,
                  want->multi_arch);
}

static size_t diff_rows(differ *d, const rf_rows *expected, const rf_rows *actual, unsigned fields)
{
    const rf_row **e = sorted_ptrs(expected), **a = sorted_ptrs(actual);
    size_t i = 0, j = 0;
    char desc[512];

    if (e == NULL || a == NULL) {
        diff_line(d, "out of memory while comparing");
        free((void *)e);
        free((void *)a);
        return d->count;
    }
    for (j = 1; j < actual->n; j++)
        if (row_key_cmp(a[j - 1], a[j]) == 0)
            diff_line(d, "%s:%s appears more than once", a[j]->repository, a[j]->tag);
    j = 0;
    while (i < expected->n || j < actual->n) {
        int c = i >= expected->n ? 1 : j >= actual->n ? -1 : row_key_cmp(e[i], a[j]);
        if (c < 0) {
            describe(e[i], desc, sizeof desc);
            diff_line(d, "missing    %s:%s (expected %s)", e[i]->repository, e[i]->tag, desc);
            i++;
        } else if (c > 0) {
            describe(a[j], desc, sizeof desc);
            diff_line(d, "unexpected %s:%s (%s)", a[j]->repository, a[j]->tag, desc);
            j++;
        } else {
            compare_fields(d, e[i], a[j], fields);
            i++;
            /* skip duplicates of the same key (reported above) */
            for (j++; j < actual->n && row_key_cmp(a[j - 1], a[j]) == 0; j++)
                ;
        }
    }
    free((void *)e);
    free((void *)a);
    return d->count;
}

static void diff_header(const char *label, size_t count, const rf_rows *expected, const rf_rows *actual)
{
    if (count > 0)
        fprintf(stderr, "%s: %zu difference(s) above (expected %zu rows, got %zu)\n", label, count,
                expected->n, actual->n);
    fflush(stderr);
}

size_t rf_rows_diff(const rf_rows *expected, const rf_rows *actual, unsigned fields, const char *label)
{
    differ d = {label ? label : "rows", 0};

    diff_rows(&d, expected, actual, fields);
    diff_header(d.label, d.count, expected, actual);
    return d.count;
}

static int new_provider_iter(imgsync_iter **it, imgsync_ctx *ctx, const char *provider)
{
    imgsync_request *req = NULL;
    int rc = imgsync_request_new(&req);

    if (rc == 0 && provider != NULL)
        rc = imgsync_request_add_provider(req, provider);
    if (rc == 0)
        rc = imgsync_iter_new(it, ctx, req);
    imgsync_request_free(req);
    return rc;
}

int rf_rows_from_ctx(rf_rows *out, imgsync_ctx *ctx, const char *provider)
{
    imgsync_iter *it = NULL;
    const imgsync_image *im;
    int rc = new_provider_iter(&it, ctx, provider);

    out->v = NULL;
    out->n = 0;
    if (rc != 0) {
        fx_error("imgsync_iter_new(%s): %s: %s", provider ? provider : "NULL", imgsync_strerror(rc),
                 imgsync_ctx_errmsg(ctx));
        return -1;
    }
    while ((im = imgsync_iter_next(it)) != NULL) {
        if (rf_rows_add(out, imgsync_image_repository(im), imgsync_image_tag(im), imgsync_image_digest(im),
                        imgsync_image_media_type(im), imgsync_image_size(im),
                        imgsync_image_multi_arch(im)) != 0) {
            imgsync_iter_free(it);
            rf_rows_free(out);
            return -1;
        }
    }
    imgsync_iter_free(it);
    return 0;
}

size_t rf_compare_inventory(imgsync_ctx *ctx, const char *provider, const char *host,
                            const rf_rows *expected, unsigned fields)
{
    char label[160];
    differ d;
    imgsync_iter *it = NULL;
    const imgsync_image *im;
    rf_rows actual = {NULL, 0};
    int rc;

    snprintf(label, sizeof label, "inventory of '%s'", provider);
    d.label = label;
    d.count = 0;
    rc = new_provider_iter(&it, ctx, provider);
    if (rc != 0) {
        diff_line(&d, "imgsync_iter_new: %s: %s", imgsync_strerror(rc), imgsync_ctx_errmsg(ctx));
        return d.count;
    }
    while ((im = imgsync_iter_next(it)) != NULL) {
        const char *repo = imgsync_image_repository(im), *tag = imgsync_image_tag(im);
        const char *slash = strchr(repo, '/');
        size_t nslen = slash ? (size_t)(slash - repo) : 0;
        const char *ns = imgsync_image_namespace(im);

        if (actual.n > 0) {
            const rf_row *prev = &actual.v[actual.n - 1];
            int c = strcmp(prev->repository, repo);
            if (c > 0 || (c == 0 && strcmp(prev->tag, tag) >= 0))
                diff_line(&d, "%s:%s comes after %s:%s (order must be repository, tag)", repo, tag,
                          prev->repository, prev->tag);
        }
        if (strcmp(imgsync_image_registry(im), provider) != 0)
            diff_line(&d, "%s:%s registry is \"%s\", expected \"%s\"", repo, tag, imgsync_image_registry(im),
                      provider);
        if (strcmp(imgsync_image_registry_type(im), "Oci") != 0)
            diff_line(&d, "%s:%s registry_type is \"%s\", expected \"Oci\"", repo, tag,
                      imgsync_image_registry_type(im));
        if (strcmp(imgsync_image_image_type(im), "oci") != 0)
            diff_line(&d, "%s:%s image_type is \"%s\", expected \"oci\"", repo, tag, imgsync_image_image_type(im));
        if (strlen(ns) != nslen || strncmp(ns, repo, nslen) != 0)
            diff_line(&d, "%s:%s namespace is \"%s\", expected \"%.*s\"", repo, tag, ns, (int)nslen, repo);
        if (host != NULL && strcmp(imgsync_image_host(im), host) != 0)
            diff_line(&d, "%s:%s host is \"%s\", expected \"%s\"", repo, tag, imgsync_image_host(im), host);
        if (imgsync_image_sync_ms(im) <= 0)
            diff_line(&d, "%s:%s sync time is %" PRId64 ", expected > 0", repo, tag, imgsync_image_sync_ms(im));
        if (rf_rows_add(&actual, repo, tag, imgsync_image_digest(im), imgsync_image_media_type(im),
                        imgsync_image_size(im), imgsync_image_multi_arch(im)) != 0) {
            diff_line(&d, "out of memory");
            break;
        }
    }
    imgsync_iter_free(it);
    diff_rows(&d, expected, &actual, fields);
    diff_header(d.label, d.count, expected, &actual);
    rf_rows_free(&actual);
    return d.count;
}
