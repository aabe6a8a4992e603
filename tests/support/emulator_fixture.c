/* Emulator test fixture: see emulator_fixture.h. */
#include "emulator_fixture.h"

#include <curl/curl.h>
#include <yajl/yajl_tree.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#if defined(__linux__)
#include <sys/prctl.h>
#endif

#include "util/buf.h" /* the library's own string helpers (tests link it statically) */

#define START_TIMEOUT_MS 30000
#define STOP_TIMEOUT_MS 5000
#define HTTP_TIMEOUT_S 60L

void ef_error(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;

void ef_error(const char *fmt, ...)
{
    va_list ap;

    fputs("emulator_fixture: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    fflush(stderr);
}

static int64_t mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* ---- utilities ------------------------------------------------------------------------------------ */

char *ef_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL, *nbuf;
    size_t n = 0, cap = 0, got;

    if (f == NULL)
        return NULL;
    for (;;) {
        if (cap - n < 4096) {
            cap = cap ? cap * 2 : 8192;
            if ((nbuf = realloc(buf, cap)) == NULL) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = nbuf;
        }
        got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0)
            break;
    }
    if (ferror(f)) {
        free(buf);
        fclose(f);
        return NULL;
    }
    fclose(f);
    buf[n] = '\0';
    if (len != NULL)
        *len = n;
    return buf;
}

char *ef_temp_file(const char *label, const char *text)
{
    const char *tmp = getenv("TMPDIR");
    char *path;
    size_t len = strlen(text), off = 0;
    int fd;

    if (tmp == NULL || *tmp == '\0')
        tmp = "/tmp";
    if ((path = imgsync__asprintf("%s/imgsync-ef-%s-XXXXXX", tmp, label ? label : "x")) == NULL)
        return NULL;
    if ((fd = mkstemp(path)) < 0) {
        ef_error("mkstemp(%s): %s", path, strerror(errno));
        free(path);
        return NULL;
    }
    while (off < len) {
        ssize_t w = write(fd, text + off, len - off);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            ef_error("cannot write %s: %s", path, strerror(errno));
            close(fd);
            unlink(path);
            free(path);
            return NULL;
        }
        off += (size_t)w;
    }
    if (close(fd) != 0) {
        ef_error("cannot write %s: %s", path, strerror(errno));
        unlink(path);
        free(path);
        return NULL;
    }
    return path;
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian; H. Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    int64_t era, yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

int ef_parse_time_ms(const char *s, int64_t *ms)
{
    int y, mo, d, h, mi, sec, n = 0, frac_digits = 0;
    int64_t frac = 0, off_min = 0;
    const char *p;

    if (s == NULL || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6 || n != 19)
        return -1;
    p = s + n;
    if (*p == '.') {
        for (p++; *p >= '0' && *p <= '9'; p++, frac_digits++)
            if (frac_digits < 3)
                frac = frac * 10 + (*p - '0');
        while (frac_digits > 0 && frac_digits < 3) {
            frac *= 10;
            frac_digits++;
        }
    }
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int oh, om;
        if (sscanf(p + 1, "%2d:%2d", &oh, &om) != 2)
            return -1;
        off_min = (int64_t)(oh * 60 + om) * (*p == '-' ? -1 : 1);
        p += 6;
    } else {
        return -1;
    }
    if (*p != '\0' || mo < 1 || mo > 12 || d < 1 || d > 31)
        return -1;
    *ms = ((days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec) - off_min * 60) * 1000 + frac;
    return 0;
}

/* ---- emulator processes: tracking for exit and fatal signals ------------------------------------- */

#define MAX_TRACKED 16

static volatile sig_atomic_t tracked_pids[MAX_TRACKED];
static pid_t tracking_owner;
static int tracking_installed;
static struct sigaction old_actions[3];
static const int fatal_signals[3] = {SIGINT, SIGTERM, SIGHUP};

static void on_fatal_signal(int sig)
{
    size_t i;

    if (getpid() == tracking_owner)
        for (i = 0; i < MAX_TRACKED; i++)
            if (tracked_pids[i] > 0)
                kill((pid_t)tracked_pids[i], SIGTERM); /* our child: the pid cannot be reused yet */
    for (i = 0; i < 3; i++) {
        if (fatal_signals[i] != sig)
            continue;
        if (old_actions[i].sa_handler != SIG_DFL && old_actions[i].sa_handler != SIG_IGN &&
            !(old_actions[i].sa_flags & SA_SIGINFO))
            old_actions[i].sa_handler(sig); /* e.g. another fixture's or Check's */
    }
    signal(sig, SIG_DFL);
    raise(sig);
}

static void stop_tracked_at_exit(void)
{
    size_t i;
    ef_emulator e;

    if (getpid() != tracking_owner)
        return; /* a forked test child: the emulators belong to the parent */
    for (i = 0; i < MAX_TRACKED; i++) {
        if (tracked_pids[i] <= 0)
            continue;
        memset(&e, 0, sizeof e);
        e.pid = (int)tracked_pids[i];
        ef_error("stopping emulator pid %d, left running at exit", e.pid);
        ef_stop(&e);
    }
}

static void track_pid(pid_t pid)
{
    size_t i;

    if (!tracking_installed) {
        struct sigaction sa;
        tracking_owner = getpid();
        atexit(stop_tracked_at_exit);
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_fatal_signal;
        sigemptyset(&sa.sa_mask);
        for (i = 0; i < 3; i++)
            sigaction(fatal_signals[i], &sa, &old_actions[i]);
        tracking_installed = 1;
    }
    for (i = 0; i < MAX_TRACKED; i++)
        if (tracked_pids[i] <= 0) {
            tracked_pids[i] = pid;
            return;
        }
    ef_error("more than %d emulators: pid %d is not tracked for exit", MAX_TRACKED, (int)pid);
}

static void untrack_pid(pid_t pid)
{
    size_t i;

    for (i = 0; i < MAX_TRACKED; i++)
        if (tracked_pids[i] == pid)
            tracked_pids[i] = 0;
}

/* ---- starting and stopping ------------------------------------------------------------------------ */

/* Run argv (execvp) and wait; its exit status, or -1. */
static int run_argv(char *const argv[])
{
    pid_t pid, w;
    int st;

    fflush(stdout);
    fflush(stderr);
    if ((pid = fork()) < 0)
        return -1;
    if (pid == 0) {
        execvp(argv[0], argv);
        _exit(127);
    }
    while ((w = waitpid(pid, &st, 0)) < 0 && errno == EINTR)
        ;
    if (w != pid || !WIFEXITED(st))
        return -1;
    return WEXITSTATUS(st);
}

static const char merge_script[] =
    "import json, sys\n"
    "d = {}\n"
    "if sys.argv[1]:\n"
    "    with open(sys.argv[1], encoding='utf-8') as f:\n"
    "        d = json.load(f)\n"
    "o = json.loads(sys.argv[2])\n"
    "for k, v in o.items():\n"
    "    if isinstance(v, list) and isinstance(d.get(k), list):\n"
    "        d[k] = d[k] + v\n"
    "    else:\n"
    "        d[k] = v\n"
    "with open(sys.argv[3], 'w', encoding='utf-8') as f:\n"
    "    json.dump(d, f)\n";

static char *merged_dataset(const char *dataset, const char *overlay)
{
    char *path = ef_temp_file("dataset", "{}");
    char *argv[8];
    int st;

    if (path == NULL)
        return NULL;
    argv[0] = (char *)"python3";
    argv[1] = (char *)"-c";
    argv[2] = (char *)merge_script;
    argv[3] = (char *)(dataset ? dataset : "");
    argv[4] = (char *)overlay;
    argv[5] = path;
    argv[6] = NULL;
    if ((st = run_argv(argv)) != 0) {
        ef_error("merging the dataset overlay into %s failed (status %d)", dataset ? dataset : "{}", st);
        unlink(path);
        free(path);
        return NULL;
    }
    return path;
}

int ef_start(ef_emulator *e, const char *script, const char *dataset, const char *generate, const char *overlay,
             const char *const *extra_args)
{
    const char *argv[40];
    char line[64];
    size_t n = 0, len = 0, i;
    int fds[2], port = 0;
    pid_t pid, parent = getpid();
    int64_t deadline;

    memset(e, 0, sizeof *e);
    if (dataset == NULL && generate == NULL && overlay == NULL) {
        ef_error("ef_start: give a dataset, a --generate spec or an overlay");
        return -1;
    }
    if (access(script, R_OK) != 0) {
        ef_error("%s not found (run the tests from the repository root)", script);
        return -1;
    }
    if (overlay != NULL) {
        if ((e->dataset_copy = merged_dataset(dataset, overlay)) == NULL)
            return -1;
        dataset = e->dataset_copy;
    }
    argv[n++] = "python3";
    argv[n++] = script;
    if (dataset != NULL) {
        argv[n++] = "--dataset";
        argv[n++] = dataset;
    }
    if (generate != NULL) {
        argv[n++] = "--generate";
        argv[n++] = generate;
    }
    argv[n++] = "--port";
    argv[n++] = "0";
    argv[n++] = "--max-seconds";
    argv[n++] = "300";
    for (i = 0; extra_args != NULL && extra_args[i] != NULL && n < sizeof argv / sizeof argv[0] - 1; i++)
        argv[n++] = extra_args[i];
    argv[n] = NULL;

    if (pipe(fds) != 0) {
        ef_error("pipe: %s", strerror(errno));
        goto fail;
    }
    fflush(stdout);
    fflush(stderr);
    if ((pid = fork()) < 0) {
        ef_error("fork: %s", strerror(errno));
        close(fds[0]);
        close(fds[1]);
        goto fail;
    }
    if (pid == 0) {
#if defined(__linux__)
        prctl(PR_SET_PDEATHSIG, SIGTERM); /* the test process was killed: do not linger */
        if (getppid() != parent)
            _exit(126);
#endif
        close(fds[0]);
        if (dup2(fds[1], STDOUT_FILENO) < 0)
            _exit(127);
        close(fds[1]);
        execvp(argv[0], (char *const *)argv);
        _exit(127);
    }
    (void)parent;
    close(fds[1]);
    e->pid = (int)pid;
    track_pid(pid);

    /* The emulator prints its port once it listens. */
    deadline = mono_ms() + START_TIMEOUT_MS;
    for (;;) {
        struct pollfd pfd = {fds[0], POLLIN, 0};
        int64_t left = deadline - mono_ms();
        ssize_t r;
        int pr;
        if (left <= 0) {
            ef_error("the emulator printed no port within %d ms", START_TIMEOUT_MS);
            break;
        }
        pr = poll(&pfd, 1, (int)left);
        if (pr < 0 && errno == EINTR)
            continue;
        if (pr <= 0)
            continue;
        r = read(fds[0], line + len, sizeof line - 1 - len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            ef_error("the emulator exited before printing its port (see its messages above)");
            break;
        }
        len += (size_t)r;
        line[len] = '\0';
        if (strchr(line, '\n') != NULL) {
            port = atoi(line);
            break;
        }
        if (len == sizeof line - 1) {
            ef_error("unexpected output from the emulator: %s", line);
            break;
        }
    }
    close(fds[0]);
    if (port <= 0 || port > 65535)
        goto fail;
    e->port = port;
    snprintf(e->url, sizeof e->url, "http://127.0.0.1:%d", port);
    snprintf(e->host, sizeof e->host, "127.0.0.1:%d", port);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    return 0;
fail:
    ef_stop(e);
    memset(e, 0, sizeof *e);
    return -1;
}

int ef_stop(ef_emulator *e)
{
    int rc = 0, st;
    pid_t pid = (pid_t)e->pid, w = 0;
    int64_t deadline;

    if (pid > 0) {
        if (kill(pid, SIGTERM) != 0 && errno != ESRCH)
            ef_error("kill(%d, SIGTERM): %s", (int)pid, strerror(errno));
        deadline = mono_ms() + STOP_TIMEOUT_MS;
        while ((w = waitpid(pid, &st, WNOHANG)) == 0 && mono_ms() < deadline)
            sleep_ms(20);
        if (w == 0) {
            ef_error("emulator pid %d ignored SIGTERM for %d ms: SIGKILL", (int)pid, STOP_TIMEOUT_MS);
            kill(pid, SIGKILL);
            while ((w = waitpid(pid, &st, 0)) < 0 && errno == EINTR)
                ;
            rc = -1;
        }
        if (w < 0 && errno != ECHILD) {
            ef_error("waitpid(%d): %s", (int)pid, strerror(errno));
            rc = -1;
        }
        untrack_pid(pid);
        if (e->port > 0)
            curl_global_cleanup(); /* balances ef_start's curl_global_init */
    }
    if (e->dataset_copy != NULL) {
        unlink(e->dataset_copy);
        free(e->dataset_copy);
    }
    memset(e, 0, sizeof *e);
    return rc;
}

/* ---- HTTP ------------------------------------------------------------------------------------------ */

typedef struct buffer {
    char *data;
    size_t len, cap;
    int oom;
} buffer;

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    buffer *b = userdata;
    size_t n = size * nmemb;

    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        char *d;
        while (cap < b->len + n + 1)
            cap *= 2;
        if ((d = realloc(b->data, cap)) == NULL) {
            b->oom = 1;
            return 0;
        }
        b->data = d;
        b->cap = cap;
    }
    memcpy(b->data + b->len, ptr, n);
    b->len += n;
    b->data[b->len] = '\0';
    return n;
}

int ef_http(const ef_emulator *e, const char *method, const char *target, const char *json,
            const char *user, const char *password, const char *header, long *status, char **body)
{
    CURL *c;
    CURLcode cc;
    struct curl_slist *headers = NULL;
    buffer b = {NULL, 0, 0, 0};
    char *url;
    int rc = -1;

    *status = 0;
    if (body != NULL)
        *body = NULL;
    if (e->port <= 0) {
        ef_error("%s %s: the emulator is not running", method, target);
        return -1;
    }
    if ((url = imgsync__asprintf("%s%s", e->url, target)) == NULL || (c = curl_easy_init()) == NULL) {
        free(url);
        ef_error("out of memory");
        return -1;
    }
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, HTTP_TIMEOUT_S);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(c, CURLOPT_PROXY, ""); /* never a proxy from the environment */
    if (json != NULL) {
        headers = curl_slist_append(headers, "Content-Type: application/json");
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, json);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(json));
    }
    if (strcmp(method, "GET") == 0)
        curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    if (header != NULL)
        headers = curl_slist_append(headers, header);
    if (headers != NULL)
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    if (user != NULL) {
        curl_easy_setopt(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        curl_easy_setopt(c, CURLOPT_USERNAME, user);
        curl_easy_setopt(c, CURLOPT_PASSWORD, password ? password : "");
    }
    cc = curl_easy_perform(c);
    if (cc != CURLE_OK || b.oom) {
        /* the URL holds no credential: safe to print */
        ef_error("%s %s: %s", method, url, b.oom ? "out of memory" : curl_easy_strerror(cc));
    } else {
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
        rc = 0;
    }
    curl_easy_cleanup(c);
    curl_slist_free_all(headers);
    free(url);
    if (rc == 0 && body != NULL) {
        *body = b.data ? b.data : imgsync__strdup("");
        b.data = NULL;
        if (*body == NULL)
            rc = -1;
    }
    free(b.data);
    return rc;
}

int ef_control(const ef_emulator *e, const char *method, const char *path, const char *json, char **body)
{
    long status = 0;
    char *text = NULL;

    if (body != NULL)
        *body = NULL;
    if (ef_http(e, method, path, json, NULL, NULL, NULL, &status, &text) != 0)
        return -1;
    if (status != 200) {
        ef_error("%s %s gave HTTP %ld: %s", method, path, status, text ? text : "");
        free(text);
        return -1;
    }
    if (body != NULL)
        *body = text;
    else
        free(text);
    return 0;
}

int ef_reset(const ef_emulator *e) { return ef_control(e, "POST", "/_emulator/reset", "{}", NULL); }
int ef_faults_add(const ef_emulator *e, const char *json) { return ef_control(e, "POST", "/_emulator/faults", json, NULL); }
int ef_faults_clear(const ef_emulator *e) { return ef_control(e, "DELETE", "/_emulator/faults", NULL, NULL); }
int ef_config(const ef_emulator *e, const char *json) { return ef_control(e, "POST", "/_emulator/config", json, NULL); }
int ef_stats_reset(const ef_emulator *e) { return ef_control(e, "POST", "/_emulator/stats/reset", "{}", NULL); }

/* JSON string literal of s (malloc'd). */
static char *json_quote(const char *s)
{
    size_t n = 3;
    const char *p;
    char *out, *o;

    for (p = s; *p; p++)
        n += 6;
    if ((out = malloc(n)) == NULL)
        return NULL;
    o = out;
    *o++ = '"';
    for (p = s; *p; p++) {
        unsigned char ch = (unsigned char)*p;
        if (ch == '"' || ch == '\\') {
            *o++ = '\\';
            *o++ = (char)ch;
        } else if (ch < 0x20) {
            o += sprintf(o, "\\u%04x", ch);
        } else {
            *o++ = (char)ch;
        }
    }
    *o++ = '"';
    *o = '\0';
    return out;
}

int ef_probe(const ef_emulator *e, const char *pattern)
{
    char *q = json_quote(pattern), *rule;
    int rc;

    if (q == NULL)
        return -1;
    rule = imgsync__asprintf("{\"type\":\"slow\",\"delay_ms\":0,\"count\":-1,\"pattern\":%s}", q);
    free(q);
    if (rule == NULL)
        return -1;
    rc = ef_faults_add(e, rule);
    free(rule);
    return rc;
}

yajl_val ef_member(yajl_val obj, const char *key, yajl_type type)
{
    const char *path[] = {key, NULL};

    return obj != NULL ? yajl_tree_get(obj, path, type) : NULL;
}

const char *ef_str(yajl_val v)
{
    const char *s = v != NULL && YAJL_IS_STRING(v) ? v->u.string : NULL;

    return s != NULL ? s : "";
}

yajl_val ef_parse_json(const char *text, const char *what)
{
    char err[256];
    yajl_val v;

    err[0] = '\0';
    v = yajl_tree_parse(text, err, sizeof err);
    if (v == NULL)
        ef_error("%s: not JSON: %s", what, err);
    return v;
}

static long rule_number(const ef_emulator *e, const char *pattern, const char *key)
{
    char *text = NULL;
    yajl_val root;
    long result = -1;
    size_t i;

    if (ef_control(e, "GET", "/_emulator/faults", NULL, &text) != 0)
        return -1;
    root = ef_parse_json(text, "GET /_emulator/faults");
    free(text);
    for (i = 0; root != NULL && YAJL_IS_ARRAY(root) && i < root->u.array.len; i++) {
        yajl_val r = root->u.array.values[i], p = ef_member(r, "pattern", yajl_t_string), v = ef_member(r, key, yajl_t_number);
        if (p != NULL && v != NULL && strcmp(ef_str(p), pattern) == 0) {
            result = (long)YAJL_GET_INTEGER(v);
            break;
        }
    }
    if (result < 0)
        ef_error("no fault rule with pattern %s", pattern);
    yajl_tree_free(root);
    return result;
}

long ef_rule_seen(const ef_emulator *e, const char *pattern) { return rule_number(e, pattern, "seen"); }
long ef_rule_fired(const ef_emulator *e, const char *pattern) { return rule_number(e, pattern, "fired"); }

/* ---- stats ------------------------------------------------------------------------------------------ */

void ef_stats_free(ef_stats *s)
{
    size_t i;

    if (s == NULL)
        return;
    for (i = 0; i < s->n; i++)
        free(s->paths[i]);
    free(s->paths);
    free(s->counts);
    memset(s, 0, sizeof *s);
}

int ef_stats_get(const ef_emulator *e, ef_stats *out)
{
    char *text = NULL;
    yajl_val root, paths, total;
    size_t i;

    memset(out, 0, sizeof *out);
    if (ef_control(e, "GET", "/_emulator/stats", NULL, &text) != 0)
        return -1;
    root = ef_parse_json(text, "GET /_emulator/stats");
    free(text);
    paths = ef_member(root, "paths", yajl_t_object);
    total = ef_member(root, "total", yajl_t_number);
    if (paths == NULL || total == NULL) {
        ef_error("GET /_emulator/stats: no \"paths\" object or \"total\"");
        yajl_tree_free(root);
        return -1;
    }
    out->total = (long)YAJL_GET_INTEGER(total);
    out->paths = calloc(paths->u.object.len + 1, sizeof *out->paths);
    out->counts = calloc(paths->u.object.len + 1, sizeof *out->counts);
    if (out->paths == NULL || out->counts == NULL)
        goto oom;
    for (i = 0; i < paths->u.object.len; i++) {
        yajl_val v = paths->u.object.values[i];
        if ((out->paths[i] = imgsync__strdup(paths->u.object.keys[i])) == NULL)
            goto oom;
        out->counts[i] = YAJL_IS_INTEGER(v) ? (long)YAJL_GET_INTEGER(v) : 0;
        out->n++;
    }
    yajl_tree_free(root);
    return 0;
oom:
    ef_error("out of memory");
    yajl_tree_free(root);
    ef_stats_free(out);
    return -1;
}

long ef_stats_path(const ef_stats *s, const char *path)
{
    size_t i;

    for (i = 0; i < s->n; i++)
        if (strcmp(s->paths[i], path) == 0)
            return s->counts[i];
    return 0;
}

long ef_stats_sum(const ef_stats *s, const char *prefix, const char *infix, const char *suffix)
{
    size_t i, plen = prefix ? strlen(prefix) : 0, slen = suffix ? strlen(suffix) : 0;
    long n = 0;

    for (i = 0; i < s->n; i++) {
        const char *p = s->paths[i];
        size_t len = strlen(p);
        if (plen && strncmp(p, prefix, plen) != 0)
            continue;
        if (infix != NULL && strstr(p + plen, infix) == NULL)
            continue;
        if (slen && (len < plen + slen || strcmp(p + len - slen, suffix) != 0))
            continue;
        n += s->counts[i];
    }
    return n;
}

void ef_stats_print(const ef_stats *s, FILE *f)
{
    size_t i;

    fprintf(f, "emulator stats: %ld requests\n", s->total);
    for (i = 0; i < s->n; i++)
        fprintf(f, "  %5ld %s\n", s->counts[i], s->paths[i]);
    fflush(f);
}

/* ---- rows ------------------------------------------------------------------------------------------ */


/* ---- stats shortcuts ------------------------------------------------------------------------ */

long ef_stats_number(const ef_emulator *e, const char *key, const char *sub)
{
    char *text = NULL;
    if (ef_control(e, "GET", "/_emulator/stats", NULL, &text) != 0)
        return -1;
    yajl_val root = ef_parse_json(text, "GET /_emulator/stats");
    free(text);
    if (root == NULL)
        return -1;
    yajl_val v = ef_member(root, key, yajl_t_any);
    if (sub != NULL)
        v = ef_member(v, sub, yajl_t_any);
    long n = v != NULL && YAJL_IS_INTEGER(v) ? (long)YAJL_GET_INTEGER(v) : 0;
    yajl_tree_free(root);
    return n;
}

long ef_requests_of(const ef_emulator *e, const char *path)
{
    ef_stats s;
    if (ef_stats_get(e, &s) != 0)
        return -1;
    long n = ef_stats_path(&s, path);
    ef_stats_free(&s);
    return n;
}

long ef_leaks(const ef_emulator *e)
{
    char *text = NULL;
    if (ef_control(e, "GET", "/_emulator/stats", NULL, &text) != 0)
        return -1;
    yajl_val root = ef_parse_json(text, "GET /_emulator/stats");
    yajl_val leaks = ef_member(root, "leaks", yajl_t_array);
    long n = leaks != NULL ? (long)leaks->u.array.len : root != NULL ? -2 : -1;
    if (n > 0)
        ef_error("secrets seen where they do not belong: %s", text);
    free(text);
    yajl_tree_free(root);
    return n;
}

/* ---- row sets as text lines ------------------------------------------------------------------ */

int ef_lines_add(ef_lines *l, char *line)
{
    char **grown = line != NULL ? realloc(l->v, (l->n + 1) * sizeof(*grown)) : NULL;
    if (grown == NULL) {
        free(line);
        ef_error("out of memory");
        return -1;
    }
    l->v = grown;
    l->v[l->n++] = line;
    return 0;
}

static int cmp_line(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

int ef_lines_diff(ef_lines *want, ef_lines *got, const char *label)
{
    size_t i = 0;
    if (want->n)
        qsort(want->v, want->n, sizeof(*want->v), cmp_line);
    if (got->n)
        qsort(got->v, got->n, sizeof(*got->v), cmp_line);
    while (i < want->n && i < got->n && strcmp(want->v[i], got->v[i]) == 0)
        i++;
    if (i == want->n && i == got->n)
        return 0;
    ef_error("%s: %zu rows expected, %zu found; first difference: want '%s', got '%s'", label, want->n, got->n,
             i < want->n ? want->v[i] : "(none)", i < got->n ? got->v[i] : "(none)");
    return 1;
}

void ef_lines_free(ef_lines *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    l->v = NULL;
    l->n = 0;
}
