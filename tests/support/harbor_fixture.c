/* Harbor emulator test fixture: see harbor_fixture.h. */
#include "harbor_fixture.h"

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

#define DEFAULT_SCRIPT "tests/emulators/harbor_emulator.py"
#define MAX_DIFF_LINES 80
#define START_TIMEOUT_MS 30000
#define STOP_TIMEOUT_MS 5000
#define HTTP_TIMEOUT_S 60L
#define TAG_PAGE 100

static void hf_error(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;

static void hf_error(const char *fmt, ...)
{
    va_list ap;

    fputs("harbor_fixture: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    fflush(stderr);
}

static const char *script_path(void)
{
    const char *s = getenv("IMGSYNC_HARBOR_EMULATOR");

    return s && *s ? s : DEFAULT_SCRIPT;
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

char *hf_read_file(const char *path)
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
    return buf;
}

char *hf_temp_file(const char *label, const char *text)
{
    const char *tmp = getenv("TMPDIR");
    char *path;
    size_t len = strlen(text), off = 0;
    int fd;

    if (tmp == NULL || *tmp == '\0')
        tmp = "/tmp";
    if ((path = imgsync__asprintf("%s/imgsync-hf-%s-XXXXXX", tmp, label ? label : "x")) == NULL)
        return NULL;
    if ((fd = mkstemp(path)) < 0) {
        hf_error("mkstemp(%s): %s", path, strerror(errno));
        free(path);
        return NULL;
    }
    while (off < len) {
        ssize_t w = write(fd, text + off, len - off);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            hf_error("cannot write %s: %s", path, strerror(errno));
            close(fd);
            unlink(path);
            free(path);
            return NULL;
        }
        off += (size_t)w;
    }
    if (close(fd) != 0) {
        hf_error("cannot write %s: %s", path, strerror(errno));
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

int hf_parse_time_ms(const char *s, int64_t *ms)
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
    hf_emulator e;

    if (getpid() != tracking_owner)
        return; /* a forked test child: the emulators belong to the parent */
    for (i = 0; i < MAX_TRACKED; i++) {
        if (tracked_pids[i] <= 0)
            continue;
        memset(&e, 0, sizeof e);
        e.pid = (int)tracked_pids[i];
        hf_error("stopping emulator pid %d, left running at exit", e.pid);
        hf_stop(&e);
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
    hf_error("more than %d emulators: pid %d is not tracked for exit", MAX_TRACKED, (int)pid);
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
    char *path = hf_temp_file("dataset", "{}");
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
        hf_error("merging the dataset overlay into %s failed (status %d)", dataset ? dataset : "{}", st);
        unlink(path);
        free(path);
        return NULL;
    }
    return path;
}

int hf_start(hf_emulator *e, const char *dataset, const char *generate, const char *overlay,
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
        hf_error("hf_start: give a dataset, a --generate spec or an overlay");
        return -1;
    }
    if (access(script_path(), R_OK) != 0) {
        hf_error("%s not found (run the tests from the repository root or set IMGSYNC_HARBOR_EMULATOR)",
                 script_path());
        return -1;
    }
    if (overlay != NULL) {
        if ((e->dataset_copy = merged_dataset(dataset, overlay)) == NULL)
            return -1;
        dataset = e->dataset_copy;
    }
    argv[n++] = "python3";
    argv[n++] = script_path();
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
        hf_error("pipe: %s", strerror(errno));
        goto fail;
    }
    fflush(stdout);
    fflush(stderr);
    if ((pid = fork()) < 0) {
        hf_error("fork: %s", strerror(errno));
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
            hf_error("the emulator printed no port within %d ms", START_TIMEOUT_MS);
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
            hf_error("the emulator exited before printing its port (see its messages above)");
            break;
        }
        len += (size_t)r;
        line[len] = '\0';
        if (strchr(line, '\n') != NULL) {
            port = atoi(line);
            break;
        }
        if (len == sizeof line - 1) {
            hf_error("unexpected output from the emulator: %s", line);
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
    hf_stop(e);
    memset(e, 0, sizeof *e);
    return -1;
}

int hf_stop(hf_emulator *e)
{
    int rc = 0, st;
    pid_t pid = (pid_t)e->pid, w = 0;
    int64_t deadline;

    if (pid > 0) {
        if (kill(pid, SIGTERM) != 0 && errno != ESRCH)
            hf_error("kill(%d, SIGTERM): %s", (int)pid, strerror(errno));
        deadline = mono_ms() + STOP_TIMEOUT_MS;
        while ((w = waitpid(pid, &st, WNOHANG)) == 0 && mono_ms() < deadline)
            sleep_ms(20);
        if (w == 0) {
            hf_error("emulator pid %d ignored SIGTERM for %d ms: SIGKILL", (int)pid, STOP_TIMEOUT_MS);
            kill(pid, SIGKILL);
            while ((w = waitpid(pid, &st, 0)) < 0 && errno == EINTR)
                ;
            rc = -1;
        }
        if (w < 0 && errno != ECHILD) {
            hf_error("waitpid(%d): %s", (int)pid, strerror(errno));
            rc = -1;
        }
        untrack_pid(pid);
        if (e->port > 0)
            curl_global_cleanup(); /* balances hf_start's curl_global_init */
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

int hf_http(const hf_emulator *e, const char *method, const char *target, const char *json,
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
        hf_error("%s %s: the emulator is not running", method, target);
        return -1;
    }
    if ((url = imgsync__asprintf("%s%s", e->url, target)) == NULL || (c = curl_easy_init()) == NULL) {
        free(url);
        hf_error("out of memory");
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
        hf_error("%s %s: %s", method, url, b.oom ? "out of memory" : curl_easy_strerror(cc));
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

int hf_control(const hf_emulator *e, const char *method, const char *path, const char *json, char **body)
{
    long status = 0;
    char *text = NULL;

    if (body != NULL)
        *body = NULL;
    if (hf_http(e, method, path, json, NULL, NULL, NULL, &status, &text) != 0)
        return -1;
    if (status != 200) {
        hf_error("%s %s gave HTTP %ld: %s", method, path, status, text ? text : "");
        free(text);
        return -1;
    }
    if (body != NULL)
        *body = text;
    else
        free(text);
    return 0;
}

int hf_reset(const hf_emulator *e) { return hf_control(e, "POST", "/_emulator/reset", "{}", NULL); }
int hf_faults_add(const hf_emulator *e, const char *json) { return hf_control(e, "POST", "/_emulator/faults", json, NULL); }
int hf_faults_clear(const hf_emulator *e) { return hf_control(e, "DELETE", "/_emulator/faults", NULL, NULL); }
int hf_push(const hf_emulator *e, const char *json) { return hf_control(e, "POST", "/_emulator/push", json, NULL); }
int hf_config(const hf_emulator *e, const char *json) { return hf_control(e, "POST", "/_emulator/config", json, NULL); }
int hf_stats_reset(const hf_emulator *e) { return hf_control(e, "POST", "/_emulator/stats/reset", "{}", NULL); }

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

int hf_probe(const hf_emulator *e, const char *pattern)
{
    char *q = json_quote(pattern), *rule;
    int rc;

    if (q == NULL)
        return -1;
    rule = imgsync__asprintf("{\"type\":\"slow\",\"delay_ms\":0,\"count\":-1,\"pattern\":%s}", q);
    free(q);
    if (rule == NULL)
        return -1;
    rc = hf_faults_add(e, rule);
    free(rule);
    return rc;
}

static yajl_val member(yajl_val obj, const char *key, yajl_type type)
{
    const char *path[] = {key, NULL};

    return obj != NULL ? yajl_tree_get(obj, path, type) : NULL;
}

/* The string of a yajl string value; "" for anything else. */
static const char *str_of(yajl_val v)
{
    const char *s = v != NULL && YAJL_IS_STRING(v) ? v->u.string : NULL;

    return s != NULL ? s : "";
}

static yajl_val parse_json(const char *text, const char *what)
{
    char err[256];
    yajl_val v;

    err[0] = '\0';
    v = yajl_tree_parse(text, err, sizeof err);
    if (v == NULL)
        hf_error("%s: not JSON: %s", what, err);
    return v;
}

static long rule_number(const hf_emulator *e, const char *pattern, const char *key)
{
    char *text = NULL;
    yajl_val root;
    long result = -1;
    size_t i;

    if (hf_control(e, "GET", "/_emulator/faults", NULL, &text) != 0)
        return -1;
    root = parse_json(text, "GET /_emulator/faults");
    free(text);
    for (i = 0; root != NULL && YAJL_IS_ARRAY(root) && i < root->u.array.len; i++) {
        yajl_val r = root->u.array.values[i], p = member(r, "pattern", yajl_t_string), v = member(r, key, yajl_t_number);
        if (p != NULL && v != NULL && strcmp(str_of(p), pattern) == 0) {
            result = (long)YAJL_GET_INTEGER(v);
            break;
        }
    }
    if (result < 0)
        hf_error("no fault rule with pattern %s", pattern);
    yajl_tree_free(root);
    return result;
}

long hf_rule_seen(const hf_emulator *e, const char *pattern) { return rule_number(e, pattern, "seen"); }
long hf_rule_fired(const hf_emulator *e, const char *pattern) { return rule_number(e, pattern, "fired"); }

/* ---- stats ------------------------------------------------------------------------------------------ */

void hf_stats_free(hf_stats *s)
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

int hf_stats_get(const hf_emulator *e, hf_stats *out)
{
    char *text = NULL;
    yajl_val root, paths, total;
    size_t i;

    memset(out, 0, sizeof *out);
    if (hf_control(e, "GET", "/_emulator/stats", NULL, &text) != 0)
        return -1;
    root = parse_json(text, "GET /_emulator/stats");
    free(text);
    paths = member(root, "paths", yajl_t_object);
    total = member(root, "total", yajl_t_number);
    if (paths == NULL || total == NULL) {
        hf_error("GET /_emulator/stats: no \"paths\" object or \"total\"");
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
    hf_error("out of memory");
    yajl_tree_free(root);
    hf_stats_free(out);
    return -1;
}

long hf_stats_path(const hf_stats *s, const char *path)
{
    size_t i;

    for (i = 0; i < s->n; i++)
        if (strcmp(s->paths[i], path) == 0)
            return s->counts[i];
    return 0;
}

long hf_stats_sum(const hf_stats *s, const char *prefix, const char *infix, const char *suffix)
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

void hf_stats_print(const hf_stats *s, FILE *f)
{
    size_t i;

    fprintf(f, "emulator stats: %ld requests\n", s->total);
    for (i = 0; i < s->n; i++)
        fprintf(f, "  %5ld %s\n", s->counts[i], s->paths[i]);
    fflush(f);
}

/* ---- rows ------------------------------------------------------------------------------------------ */

static void row_clear(hf_row *r)
{
    free(r->repository);
    free(r->tag);
    free(r->namespace_);
    free(r->digest);
    free(r->media_type);
    free(r->artifact_type);
}

int hf_rows_add(hf_rows *rows, const char *repository, const char *tag, const char *namespace_,
                const char *digest, const char *media_type, const char *artifact_type, int64_t size,
                int64_t update_ms, int multi_arch)
{
    hf_row *v = realloc(rows->v, (rows->n + 1) * sizeof *v), *row;

    if (v == NULL)
        return -1;
    rows->v = v;
    row = &v[rows->n];
    row->repository = imgsync__strdup(repository ? repository : "");
    row->tag = imgsync__strdup(tag ? tag : "");
    row->namespace_ = imgsync__strdup(namespace_ ? namespace_ : "");
    row->digest = imgsync__strdup(digest ? digest : "");
    row->media_type = imgsync__strdup(media_type ? media_type : "");
    row->artifact_type = imgsync__strdup(artifact_type ? artifact_type : "");
    row->size = size;
    row->update_ms = update_ms;
    row->multi_arch = multi_arch ? 1 : 0;
    if (!row->repository || !row->tag || !row->namespace_ || !row->digest || !row->media_type ||
        !row->artifact_type) {
        row_clear(row);
        return -1;
    }
    rows->n++;
    return 0;
}

void hf_rows_free(hf_rows *rows)
{
    size_t i;

    if (rows == NULL)
        return;
    for (i = 0; i < rows->n; i++)
        row_clear(&rows->v[i]);
    free(rows->v);
    rows->v = NULL;
    rows->n = 0;
}

int hf_rows_append(hf_rows *dst, const hf_rows *src, int (*keep)(const hf_row *row, void *arg), void *arg)
{
    size_t i;

    for (i = 0; i < src->n; i++) {
        const hf_row *r = &src->v[i];
        if (keep != NULL && !keep(r, arg))
            continue;
        if (hf_rows_add(dst, r->repository, r->tag, r->namespace_, r->digest, r->media_type, r->artifact_type,
                        r->size, r->update_ms, r->multi_arch) != 0) {
            hf_error("out of memory");
            return -1;
        }
    }
    return 0;
}

int hf_rows_filter(hf_rows *out, const hf_rows *in, int (*keep)(const hf_row *row, void *arg), void *arg)
{
    out->v = NULL;
    out->n = 0;
    if (hf_rows_append(out, in, keep, arg) != 0) {
        hf_rows_free(out);
        return -1;
    }
    return 0;
}

const hf_row *hf_rows_find(const hf_rows *rows, const char *repository, const char *tag)
{
    size_t i;

    for (i = 0; i < rows->n; i++)
        if (strcmp(rows->v[i].repository, repository) == 0 && strcmp(rows->v[i].tag, tag) == 0)
            return &rows->v[i];
    return NULL;
}

size_t hf_rows_count_repository(const hf_rows *rows, const char *repository)
{
    size_t i, n = 0;

    for (i = 0; i < rows->n; i++)
        n += strcmp(rows->v[i].repository, repository) == 0;
    return n;
}

size_t hf_rows_count_namespace(const hf_rows *rows, const char *namespace_)
{
    size_t i, n = 0;

    for (i = 0; i < rows->n; i++)
        n += strcmp(rows->v[i].namespace_, namespace_) == 0;
    return n;
}

size_t hf_rows_count_repositories(const hf_rows *rows)
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

static int name_listed(const char *name, const char *const *names)
{
    size_t i;

    for (i = 0; names != NULL && names[i] != NULL; i++)
        if (strcmp(names[i], name) == 0)
            return 1;
    return 0;
}

int hf_in_namespaces(const hf_row *row, void *arg) { return name_listed(row->namespace_, (const char *const *)arg); }
int hf_not_in_namespaces(const hf_row *row, void *arg) { return !hf_in_namespaces(row, arg); }
int hf_in_repository(const hf_row *row, void *arg) { return strcmp(row->repository, (const char *)arg) == 0; }
int hf_not_in_repository(const hf_row *row, void *arg) { return !hf_in_repository(row, arg); }

/* ---- the expected inventory ------------------------------------------------------------------------ */

#define MT_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define MT_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define NO_TIME INT64_MIN

/* Push times of the tags of one project, from GET /api/v2.0/projects/{p}/artifacts (admin). */
static int fill_tag_times(const hf_emulator *e, const char *project, hf_rows *rows)
{
    CURL *c = curl_easy_init();
    char *esc = c ? curl_easy_escape(c, project, 0) : NULL;
    int page, rc = -1;

    if (esc == NULL) {
        hf_error("out of memory");
        goto out;
    }
    for (page = 1; page < 10000; page++) {
        char *target = imgsync__asprintf("/api/v2.0/projects/%s/artifacts?page=%d&page_size=%d&with_tag=true", esc, page,
                                   TAG_PAGE);
        char *text = NULL;
        long status = 0;
        yajl_val root;
        size_t i, j, k, len;
        if (target == NULL) {
            hf_error("out of memory");
            goto out;
        }
        if (hf_http(e, "GET", target, NULL, HF_ADMIN_USER, HF_ADMIN_PASSWORD, "X-Is-Resource-Name: true", &status,
                    &text) != 0 ||
            status != 200) {
            hf_error("GET %s (as admin) gave HTTP %ld: %.300s", target, status, text ? text : "");
            free(target);
            free(text);
            goto out;
        }
        root = parse_json(text, target);
        free(text);
        if (root == NULL || !YAJL_IS_ARRAY(root)) {
            hf_error("GET %s: not a JSON array", target);
            free(target);
            yajl_tree_free(root);
            goto out;
        }
        free(target);
        len = root->u.array.len;
        for (i = 0; i < len; i++) {
            yajl_val a = root->u.array.values[i], repo = member(a, "repository_name", yajl_t_string);
            yajl_val tags = member(a, "tags", yajl_t_array);
            for (j = 0; repo != NULL && tags != NULL && j < tags->u.array.len; j++) {
                yajl_val t = tags->u.array.values[j], name = member(t, "name", yajl_t_string);
                yajl_val pt = member(t, "push_time", yajl_t_string);
                int64_t ms;
                if (name == NULL || pt == NULL || hf_parse_time_ms(str_of(pt), &ms) != 0)
                    continue;
                for (k = 0; k < rows->n; k++)
                    if (strcmp(rows->v[k].repository, str_of(repo)) == 0 &&
                        strcmp(rows->v[k].tag, str_of(name)) == 0)
                        rows->v[k].update_ms = ms;
            }
        }
        yajl_tree_free(root);
        if (len < TAG_PAGE)
            break;
    }
    rc = 0;
out:
    curl_free(esc);
    if (c != NULL)
        curl_easy_cleanup(c);
    return rc;
}

int hf_expected(const hf_emulator *e, hf_rows *out) { return hf_expected_ex(e, out, 0); }

int hf_expected_ex(const hf_emulator *e, hf_rows *out, unsigned flags)
{
    char *text = NULL;
    yajl_val root;
    size_t i, j;

    out->v = NULL;
    out->n = 0;
    if (hf_control(e, "GET", "/_emulator/inventory", NULL, &text) != 0)
        return -1;
    root = parse_json(text, "GET /_emulator/inventory");
    free(text);
    if (root == NULL || !YAJL_IS_ARRAY(root)) {
        hf_error("GET /_emulator/inventory: not a JSON array");
        yajl_tree_free(root);
        return -1;
    }
    for (i = 0; i < root->u.array.len; i++) {
        yajl_val a = root->u.array.values[i];
        yajl_val repo = member(a, "repository", yajl_t_string), digest = member(a, "digest", yajl_t_string);
        yajl_val type = member(a, "type", yajl_t_string), mt = member(a, "media_type", yajl_t_string);
        yajl_val size = member(a, "size", yajl_t_number), listed = member(a, "listed", yajl_t_any);
        yajl_val tags = member(a, "tags", yajl_t_array), pushed = member(a, "push_time", yajl_t_string);
        const char *r, *slash, *m;
        char *ns;
        int64_t push_ms = NO_TIME;
        int multi;
        if (repo == NULL || digest == NULL || type == NULL || tags == NULL || listed == NULL) {
            hf_error("GET /_emulator/inventory: element %zu lacks repository, digest, type, tags or listed", i);
            goto fail;
        }
        if (!YAJL_IS_TRUE(listed) || (!(flags & HF_NON_IMAGES) && strcmp(str_of(type), "IMAGE") != 0))
            continue;
        r = str_of(repo);
        m = mt ? str_of(mt) : "";
        slash = strchr(r, '/');
        if (slash == NULL || (ns = malloc((size_t)(slash - r) + 1)) == NULL) {
            hf_error("GET /_emulator/inventory: bad repository %s (or out of memory)", r);
            goto fail;
        }
        memcpy(ns, r, (size_t)(slash - r));
        ns[slash - r] = '\0';
        multi = strcmp(m, MT_OCI_INDEX) == 0 || strcmp(m, MT_DOCKER_LIST) == 0;
        if ((flags & HF_UNTAGGED) && tags->u.array.len == 0) {
            if (hf_parse_time_ms(str_of(pushed), &push_ms) != 0 ||
                hf_rows_add(out, r, "", ns, str_of(digest), m, str_of(type),
                            size && YAJL_IS_INTEGER(size) ? (int64_t)YAJL_GET_INTEGER(size) : 0, push_ms, multi) != 0) {
                free(ns);
                hf_error("GET /_emulator/inventory: bad push_time of %s@%s (or out of memory)", r, str_of(digest));
                goto fail;
            }
        }
        for (j = 0; j < tags->u.array.len; j++) {
            yajl_val t = tags->u.array.values[j];
            if (!YAJL_IS_STRING(t) || *str_of(t) == '\0')
                continue;
            if (hf_rows_add(out, r, str_of(t), ns, str_of(digest), m, str_of(type),
                            size && YAJL_IS_INTEGER(size) ? (int64_t)YAJL_GET_INTEGER(size) : 0, NO_TIME, multi) != 0) {
                free(ns);
                hf_error("out of memory");
                goto fail;
            }
        }
        free(ns);
    }
    yajl_tree_free(root);
    root = NULL;

    /* the tags' push times: once per project */
    for (i = 0; i < out->n; i++) {
        for (j = 0; j < i; j++)
            if (strcmp(out->v[j].namespace_, out->v[i].namespace_) == 0)
                break;
        if (j == i && fill_tag_times(e, out->v[i].namespace_, out) != 0)
            goto fail;
    }
    for (i = 0; i < out->n; i++)
        if (out->v[i].update_ms == NO_TIME) {
            hf_error("emulator inconsistency: %s:%s is in /_emulator/inventory but not in the project's "
                     "artifact list",
                     out->v[i].repository, out->v[i].tag);
            goto fail;
        }
    return 0;
fail:
    yajl_tree_free(root);
    hf_rows_free(out);
    return -1;
}

/* ---- comparison ------------------------------------------------------------------------------------- */

/* (repository, tag); untagged rows (tag "") are told apart by digest, as the core does */
static int row_key_cmp(const hf_row *a, const hf_row *b)
{
    int c = strcmp(a->repository, b->repository);

    if (c == 0)
        c = strcmp(a->tag, b->tag);
    if (c == 0 && a->tag[0] == '\0')
        c = strcmp(a->digest, b->digest);
    return c;
}

static int row_ptr_cmp(const void *pa, const void *pb)
{
    return row_key_cmp(*(const hf_row *const *)pa, *(const hf_row *const *)pb);
}

static const hf_row **sorted_ptrs(const hf_rows *rows)
{
    const hf_row **p = malloc((rows->n + 1) * sizeof *p);
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

static void describe(const hf_row *r, char *buf, size_t n)
{
    snprintf(buf, n,
             "namespace=%s digest=%.19s... size=%" PRId64 " media_type=%s artifact_type=%s multi_arch=%d update_ms=%" PRId64,
             r->namespace_, r->digest, r->size, r->media_type, r->artifact_type, r->multi_arch, r->update_ms);
}

static void compare_fields(differ *d, const hf_row *want, const hf_row *got)
{
    const char *k1 = want->repository, *k2 = want->tag;

    if (strcmp(want->namespace_, got->namespace_) != 0)
        diff_line(d, "%s:%s namespace is \"%s\", expected \"%s\"", k1, k2, got->namespace_, want->namespace_);
    if (strcmp(want->digest, got->digest) != 0)
        diff_line(d, "%s:%s digest is \"%s\", expected \"%s\"", k1, k2, got->digest, want->digest);
    if (want->size != got->size)
        diff_line(d, "%s:%s size is %" PRId64 ", expected %" PRId64, k1, k2, got->size, want->size);
    if (strcmp(want->media_type, got->media_type) != 0)
        diff_line(d, "%s:%s media_type is \"%s\", expected \"%s\"", k1, k2, got->media_type, want->media_type);
    if (strcmp(want->artifact_type, got->artifact_type) != 0)
        diff_line(d, "%s:%s artifact_type is \"%s\", expected \"%s\"", k1, k2, got->artifact_type,
                  want->artifact_type);
    if (want->multi_arch != got->multi_arch)
        diff_line(d, "%s:%s multi_arch is %d, expected %d", k1, k2, got->multi_arch, want->multi_arch);
    if (want->update_ms != got->update_ms)
        diff_line(d, "%s:%s update time is %" PRId64 " ms, expected %" PRId64 " (the tag's push_time)", k1, k2,
                  got->update_ms, want->update_ms);
}

static void diff_rows(differ *d, const hf_rows *expected, const hf_rows *actual)
{
    const hf_row **e = sorted_ptrs(expected), **a = sorted_ptrs(actual);
    size_t i = 0, j;
    char desc[512];

    if (e == NULL || a == NULL) {
        diff_line(d, "out of memory while comparing");
        free((void *)e);
        free((void *)a);
        return;
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
            compare_fields(d, e[i], a[j]);
            i++;
            for (j++; j < actual->n && row_key_cmp(a[j - 1], a[j]) == 0; j++)
                ;
        }
    }
    free((void *)e);
    free((void *)a);
}

static void diff_footer(const differ *d, const hf_rows *expected, const hf_rows *actual)
{
    if (d->count > 0)
        fprintf(stderr, "%s: %zu difference(s) above (expected %zu rows, got %zu)\n", d->label, d->count,
                expected->n, actual->n);
    fflush(stderr);
}

size_t hf_rows_diff(const hf_rows *expected, const hf_rows *actual, const char *label)
{
    differ d = {label ? label : "rows", 0};

    diff_rows(&d, expected, actual);
    diff_footer(&d, expected, actual);
    return d.count;
}

static int provider_iter(imgsync_iter **it, imgsync_ctx *ctx, const char *provider)
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

int hf_rows_from_ctx(hf_rows *out, imgsync_ctx *ctx, const char *provider)
{
    imgsync_iter *it = NULL;
    const imgsync_image *im;
    int rc = provider_iter(&it, ctx, provider);

    out->v = NULL;
    out->n = 0;
    if (rc != 0) {
        hf_error("imgsync_iter_new(%s): %s: %s", provider ? provider : "NULL", imgsync_strerror(rc),
                 imgsync_ctx_errmsg(ctx));
        return -1;
    }
    while ((im = imgsync_iter_next(it)) != NULL) {
        if (hf_rows_add(out, imgsync_image_repository(im), imgsync_image_tag(im), imgsync_image_namespace(im),
                        imgsync_image_digest(im), imgsync_image_media_type(im), imgsync_image_artifact_type(im),
                        imgsync_image_size(im), imgsync_image_update_ms(im), imgsync_image_multi_arch(im)) != 0) {
            imgsync_iter_free(it);
            hf_rows_free(out);
            return -1;
        }
    }
    imgsync_iter_free(it);
    return 0;
}

size_t hf_compare_inventory(imgsync_ctx *ctx, const char *provider, const char *host, const hf_rows *expected)
{
    char label[160];
    differ d;
    imgsync_iter *it = NULL;
    const imgsync_image *im;
    hf_rows actual = {NULL, 0};
    int rc;

    snprintf(label, sizeof label, "inventory of '%s'", provider);
    d.label = label;
    d.count = 0;
    if ((rc = provider_iter(&it, ctx, provider)) != 0) {
        diff_line(&d, "imgsync_iter_new: %s: %s", imgsync_strerror(rc), imgsync_ctx_errmsg(ctx));
        return d.count;
    }
    while ((im = imgsync_iter_next(it)) != NULL) {
        const char *repo = imgsync_image_repository(im), *tag = imgsync_image_tag(im);

        if (actual.n > 0) {
            const hf_row *prev = &actual.v[actual.n - 1];
            int c = strcmp(prev->repository, repo);
            if (c > 0 || (c == 0 && strcmp(prev->tag, tag) > 0) ||
                (c == 0 && strcmp(prev->tag, tag) == 0 && (tag[0] != '\0' || strcmp(prev->digest, imgsync_image_digest(im)) == 0)))
                diff_line(&d, "%s:%s comes after %s:%s (order must be repository, tag)", repo, tag, prev->repository,
                          prev->tag);
        }
        if (strcmp(imgsync_image_registry(im), provider) != 0)
            diff_line(&d, "%s:%s registry is \"%s\", expected \"%s\"", repo, tag, imgsync_image_registry(im), provider);
        if (strcmp(imgsync_image_registry_type(im), "Harbor") != 0)
            diff_line(&d, "%s:%s registry_type is \"%s\", expected \"Harbor\"", repo, tag,
                      imgsync_image_registry_type(im));
        if (strcmp(imgsync_image_image_type(im), "harbor") != 0)
            diff_line(&d, "%s:%s image_type is \"%s\", expected \"harbor\"", repo, tag, imgsync_image_image_type(im));
        if (host != NULL && strcmp(imgsync_image_host(im), host) != 0)
            diff_line(&d, "%s:%s host is \"%s\", expected \"%s\"", repo, tag, imgsync_image_host(im), host);
        if (imgsync_image_sync_ms(im) <= 0)
            diff_line(&d, "%s:%s sync time is %" PRId64 ", expected > 0", repo, tag, imgsync_image_sync_ms(im));
        if (hf_rows_add(&actual, repo, tag, imgsync_image_namespace(im), imgsync_image_digest(im),
                        imgsync_image_media_type(im), imgsync_image_artifact_type(im), imgsync_image_size(im),
                        imgsync_image_update_ms(im), imgsync_image_multi_arch(im)) != 0) {
            diff_line(&d, "out of memory");
            break;
        }
    }
    imgsync_iter_free(it);
    diff_rows(&d, expected, &actual);
    diff_footer(&d, expected, &actual);
    hf_rows_free(&actual);
    return d.count;
}
