/* Docker credential helpers: `docker-credential-NAME get`, the server on stdin, a JSON answer on
 * stdout (docker-credential-helpers' protocol). Run without a shell, bounded in time and size. */
#define _GNU_SOURCE /* pipe2, posix_spawn_file_actions_addclosefrom_np */
#include "core/credhelper.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "imgsync/errors.h"
#include "util/buf.h"
#include "util/clock.h"

extern char **environ;

/* A helper's time limit is real time, like a thread wait: a child does not follow a fake clock. */
static long long mono_ms(void) { return imgsync__real_mono_ms(); }

/* Close-on-exec from the start: another thread's helper never inherits them. */
static int pipe_cloexec(int fd[2]) { return pipe2(fd, O_CLOEXEC); }

/* The helper's path on $PATH (an executable regular file), malloc'd; NULL when none. Looked up
 * here, not by posix_spawnp, so that "not found" is told apart from a helper that failed. */
static char *find_on_path(const char *prog)
{
    const char *path = getenv("PATH");
    if (!path || !*path)
        path = "/usr/local/bin:/usr/bin:/bin";
    while (*path) {
        size_t n = strcspn(path, ":");
        /* absolute entries only: "." or "bin" would run what the working directory holds
         * (docker refuses them too) */
        char *full = n && path[0] == '/' ? imgsync__asprintf("%.*s/%s", (int)n, path, prog) : NULL;
        struct stat st;
        if (full && !stat(full, &st) && S_ISREG(st.st_mode) && !access(full, X_OK))
            return full;
        free(full);
        path += n + (path[n] == ':');
    }
    return NULL;
}

/* Start the helper in its own process group (so that a timeout kills what it started too). */
static int spawn(pid_t *pid, const char *file, int in[2], int out[2])
{
    const char *base = strrchr(file, '/');
    char *argv[] = {(char *)(base ? base + 1 : file), "get", NULL};
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    sigset_t none, dfl;
    sigemptyset(&none);
    sigemptyset(&dfl);
    sigaddset(&dfl, SIGPIPE);
    posix_spawn_file_actions_init(&fa);
    posix_spawnattr_init(&at);
    posix_spawn_file_actions_adddup2(&fa, in[0], 0);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addclosefrom_np(&fa, 3); /* nothing of ours but stdin/stdout */
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    posix_spawnattr_setpgroup(&at, 0);
    posix_spawnattr_setsigmask(&at, &none);
    posix_spawnattr_setsigdefault(&at, &dfl);
    int rc = posix_spawn(pid, file, &fa, &at, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    return rc;
}

/* Write the server without letting a helper that exited early kill us with SIGPIPE: the signal
 * is blocked in this thread and a pending one taken back, so the process's disposition stays. */
static void write_server(int fd, const char *server, long long deadline)
{
    sigset_t pipe_set, old, pending;
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
    sigpending(&pending);
    int was_pending = sigismember(&pending, SIGPIPE);
    size_t n = strlen(server), off = 0;
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK); /* a helper that does not read: no hang */
    while (off < n) {
        ssize_t w = write(fd, server + off, n - off);
        if (w < 0 && errno == EAGAIN) {
            long long left = deadline - mono_ms();
            struct pollfd p = {fd, POLLOUT, 0};
            if (left <= 0 || poll(&p, 1, (int)left) == 0)
                break; /* the answer's wait then times out too */
            continue;
        }
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break;
        off += (size_t)w;
    }
    sigpending(&pending);
    if (!was_pending && sigismember(&pending, SIGPIPE)) {
        struct timespec zero = {0, 0};
        sigtimedwait(&pipe_set, NULL, &zero);
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
}

/* Read stdout until EOF, the deadline or the cap. 0, ETIMEOUT or ETOOBIG. */
static int read_answer(int fd, char *buf, size_t cap, size_t *len, long long deadline)
{
    *len = 0;
    for (;;) {
        long long left = deadline - mono_ms();
        if (left <= 0)
            return IMGSYNC_ETIMEOUT;
        struct pollfd p = {fd, POLLIN, 0};
        int r = poll(&p, 1, (int)left);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return r == 0 ? IMGSYNC_ETIMEOUT : IMGSYNC_EPROTOCOL;
        ssize_t n = read(fd, buf + *len, cap - *len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return 0;
        *len += (size_t)n;
        if (*len == cap)
            return IMGSYNC_ETOOBIG;
    }
}

/* Kill the helper and what it started (its group; the helper itself too, should it have left
 * the group), then collect it. */
static void kill_helper(pid_t pid, int *status)
{
    kill(-pid, SIGKILL);
    kill(pid, SIGKILL);
    while (waitpid(pid, status, 0) < 0 && errno == EINTR)
        ;
}

/* Wait for the exit until the deadline; then kill. 1 = exited (status set), 2 = exited but its
 * status is unknown (the embedder ignores SIGCHLD or reaps children itself: ECHILD), 0 = killed. */
static int reap(pid_t pid, int *status, long long deadline)
{
    for (;;) {
        pid_t r = waitpid(pid, status, WNOHANG);
        if (r == pid)
            return 1;
        if (r < 0 && errno == ECHILD)
            return 2;
        if (r < 0 && errno != EINTR)
            break;
        if (mono_ms() >= deadline)
            break;
        struct timespec ts = {0, 5 * 1000000L};
        nanosleep(&ts, NULL);
    }
    kill_helper(pid, status);
    return 0;
}

/* What the helper's exit and answer mean. */
static int judge(imgsync__dcred *out, const char *prog, int status, int known, const char *buf, size_t len,
                 char *err, size_t errlen)
{
    /* an unknown status: the answer tells (a JSON answer, or the "not found" text) */
    if (!known && len < 4096 && strstr(buf, "credentials not found"))
        return 0;
    if (!known || (WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
        char why[160];
        int rc = imgsync__dockerauth_helper_answer(out, buf, len, why, sizeof(why));
        if (rc)
            snprintf(err, errlen, "credential helper %s: %s", prog, why);
        return rc;
    }
    /* the protocol's "not found" answer; its text is fixed, not a secret */
    if (WIFEXITED(status) && len < 4096 && strstr(buf, "credentials not found"))
        return 0;
    if (WIFEXITED(status))
        snprintf(err, errlen, "credential helper %s failed (exit status %d)", prog, WEXITSTATUS(status));
    else
        snprintf(err, errlen, "credential helper %s failed (signal %d)", prog, WTERMSIG(status));
    return IMGSYNC_EAUTH;
}

int imgsync__credhelper_get(imgsync__dcred *out, const char *name, const char *server, int timeout_ms, char *err,
                            size_t errlen)
{
    memset(out, 0, sizeof(*out));
    if (!imgsync__dockerauth_helper_name_ok(name)) {
        snprintf(err, errlen, "credential helper name is not 1-64 of [A-Za-z0-9._-]");
        return IMGSYNC_EINVAL;
    }
    char prog[96];
    snprintf(prog, sizeof(prog), "docker-credential-%s", name);
    char *file = find_on_path(prog);
    if (!file) {
        snprintf(err, errlen, "cannot run %s: not found on PATH", prog);
        return IMGSYNC_ENOTFOUND;
    }
    char *buf = malloc(IMGSYNC__CREDHELPER_MAX_OUTPUT + 1);
    int in[2] = {-1, -1}, outp[2] = {-1, -1};
    if (!buf || pipe_cloexec(in) || pipe_cloexec(outp)) {
        snprintf(err, errlen, "cannot run %s: out of memory or file descriptors", prog);
        free(buf);
        free(file);
        for (int i = 0; i < 2; i++)
            if (in[i] >= 0)
                close(in[i]);
        return IMGSYNC_ENOMEM;
    }
    long long deadline = mono_ms() + timeout_ms;
    pid_t pid;
    int rc = spawn(&pid, file, in, outp);
    free(file);
    close(in[0]);
    close(outp[1]);
    if (rc) {
        snprintf(err, errlen, "cannot run %s: %s", prog, strerror(rc));
        close(in[1]);
        close(outp[0]);
        free(buf);
        return IMGSYNC_EAUTH;
    }
    write_server(in[1], server, deadline);
    close(in[1]);
    size_t len = 0;
    rc = read_answer(outp[0], buf, IMGSYNC__CREDHELPER_MAX_OUTPUT + 1, &len, deadline);
    close(outp[0]);
    buf[len < IMGSYNC__CREDHELPER_MAX_OUTPUT ? len : IMGSYNC__CREDHELPER_MAX_OUTPUT] = '\0';
    int status = 0;
    int exited = reap(pid, &status, rc ? 0 : deadline);
    if (rc && exited) /* it exited, but something it started kept the answer's pipe open */
        kill(-pid, SIGKILL);
    if (rc == IMGSYNC_ETOOBIG)
        snprintf(err, errlen, "credential helper %s: answer longer than %d bytes", prog, IMGSYNC__CREDHELPER_MAX_OUTPUT);
    else if (rc || !exited) {
        rc = rc == IMGSYNC_EPROTOCOL ? rc : IMGSYNC_ETIMEOUT;
        snprintf(err, errlen, "credential helper %s: no answer within %d ms (killed)", prog, timeout_ms);
    } else
        rc = judge(out, prog, status, exited == 1, buf, len, err, errlen);
    imgsync__wipe(buf, IMGSYNC__CREDHELPER_MAX_OUTPUT + 1);
    free(buf);
    return rc;
}
