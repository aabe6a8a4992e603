/* Review of the Docker/Podman credentials feature: failing tests for the defects found
 * (credhelper.c, dockerauth.c). Each test names the defect it shows. */
#define _GNU_SOURCE
#include <check.h>
#if defined(__has_include)
#if __has_include(<valgrind/memcheck.h>)
#include <valgrind/memcheck.h>
#endif
#endif
#ifndef VALGRIND_MAKE_MEM_DEFINED
#define VALGRIND_MAKE_MEM_DEFINED(p, n) ((void)(p), (void)(n))
#endif
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check_main.h"
#include "core/credhelper.h"
#include "imgsync/errors.h"
#include "util/base64.h"
#include "util/dockerauth.h"

Suite *authfile_review_suite(void);

#define HOST "reg.example:5000"
#define SECRET "Pw-review-3b7e1d-never-shown"

static char tmpdir[256];
static char oldpath[8192];

/* tmpdir with tmpdir/bin first on PATH, for the helpers the tests write. */
static void make_tmp(void)
{
    snprintf(tmpdir, sizeof(tmpdir), "%s/imgsync-authrev-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
    char bin[512], path[8192 + 600];
    snprintf(bin, sizeof(bin), "%s/bin", tmpdir);
    ck_assert_int_eq(mkdir(bin, 0700), 0);
    snprintf(oldpath, sizeof(oldpath), "%s", getenv("PATH") ? getenv("PATH") : "/usr/bin:/bin");
    snprintf(path, sizeof(path), "%s:%s", bin, oldpath);
    setenv("PATH", path, 1);
}

static void remove_tmp(void)
{
    char cmd[512];
    setenv("PATH", oldpath, 1);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    ck_assert_int_eq(system(cmd), 0);
}

/* An executable tmpdir/rel holding script. */
static void script(const char *rel, const char *text)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s", tmpdir, rel);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
    ck_assert_int_eq(chmod(path, 0700), 0);
}

static long read_pid(const char *pidfile)
{
    long pid = 0;
    for (int tries = 0; tries < 200 && pid <= 0; tries++) {
        FILE *f = fopen(pidfile, "r");
        if (f) {
            if (fscanf(f, "%ld", &pid) != 1)
                pid = 0;
            fclose(f);
        }
        if (pid <= 0) {
            struct timespec ts = {0, 10 * 1000000L};
            nanosleep(&ts, NULL);
        }
    }
    return pid;
}

/* 1 when pid still runs (not gone, not a zombie), after up to 1 s for a SIGKILL to land. */
static int still_runs(long pid)
{
    char stat_path[64], stat[256];
    snprintf(stat_path, sizeof(stat_path), "/proc/%ld/stat", pid);
    for (int tries = 0; tries < 100; tries++) {
        FILE *f = fopen(stat_path, "r");
        if (!f)
            return 0;
        stat[0] = '\0';
        if (!fgets(stat, sizeof(stat), f))
            stat[0] = '\0';
        fclose(f);
        const char *state = strrchr(stat, ')');
        if (state && state[1] == ' ' && state[2] == 'Z')
            return 0;
        struct timespec ts = {0, 10 * 1000000L};
        nanosleep(&ts, NULL);
    }
    return 1;
}

/* ---- defect 1: write_server blocks without a deadline --------------------------------------- */

/* credhelper.c write_server(): the server is written to the helper's stdin with blocking
 * write()s before the deadline is looked at. The server is the credHelpers key that named the
 * host, and key_host() matches "reg.example:5000/<anything>", so an auth file (up to 4 MiB) can
 * make it far larger than a pipe's buffer. A helper that does not read its stdin and does not
 * exit then blocks the run forever: the 10 s limit never applies. */
START_TEST(helper_not_reading_a_big_server_hangs_past_the_deadline)
{
    make_tmp();
    char pidfile[600], text[900];
    snprintf(pidfile, sizeof(pidfile), "%s/helper.pid", tmpdir);
    snprintf(text, sizeof(text), "#!/bin/sh\necho $$ >'%s'\nexec sleep 30\n", pidfile);
    script("bin/docker-credential-deaf", text);

    /* such a server comes out of an auth file */
    size_t pad = 1 << 20;
    char *file = malloc(pad + 200), *key = malloc(pad + 100);
    ck_assert_ptr_nonnull(file);
    ck_assert_ptr_nonnull(key);
    int n = snprintf(key, pad + 100, "%s/", HOST);
    memset(key + n, 'a', pad);
    key[n + pad] = '\0';
    snprintf(file, pad + 200, "{\"credHelpers\":{\"%s\":\"deaf\"}}", key);
    imgsync__dcred c;
    char err[300] = "";
    ck_assert_int_eq(imgsync__dockerauth_lookup(&c, file, strlen(file), HOST, err, sizeof(err)), 0);
    ck_assert_int_eq(c.kind, IMGSYNC__DCRED_HELPER);
    ck_assert_uint_gt(strlen(c.server), (size_t)pad);

    long long t0 = 0;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    t0 = (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    int rcpipe[2];
    ck_assert_int_eq(pipe(rcpipe), 0);
    pid_t child = fork();
    ck_assert_int_ge(child, 0);
    if (child == 0) {
        imgsync__dcred a;
        char e[300];
        int rc = imgsync__credhelper_get(&a, "deaf", c.server, 400, e, sizeof(e));
        imgsync__dcred_clear(&c); /* the child's own copies: no leak report from a checker */
        free(file);
        free(key);
        _exit(write(rcpipe[1], &rc, sizeof(rc)) == (ssize_t)sizeof(rc) ? 0 : 1);
    }
    int status = 0, done = 0;
    for (int tries = 0; tries < 500 && !done; tries++) { /* 5 s for a 400 ms limit */
        done = waitpid(child, &status, WNOHANG) == child;
        if (!done) {
            struct timespec w = {0, 10 * 1000000L};
            nanosleep(&w, NULL);
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &ts);
    long long took = (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 - t0;
    if (!done) {
        kill(child, SIGKILL);
        waitpid(child, NULL, 0);
    }
    long helper_pid = read_pid(pidfile);
    if (helper_pid > 1)
        kill((pid_t)helper_pid, SIGKILL);
    imgsync__dcred_clear(&c);
    free(file);
    free(key);
    remove_tmp();
    ck_assert_msg(done, "imgsync__credhelper_get still blocked after %lld ms (timeout 400 ms): write_server() "
                        "has no deadline", took);
    int got = 0;
    ssize_t r = read(rcpipe[0], &got, sizeof(got));
    close(rcpipe[0]);
    close(rcpipe[1]);
    ck_assert_msg(r == (ssize_t)sizeof(got) && got == IMGSYNC_ETIMEOUT, "not ETIMEOUT (%d)", got);
}
END_TEST

/* ---- defect 2: SIGCHLD ignored by the embedding program ------------------------------------- */

/* credhelper.c reap(): with SIGCHLD set to SIG_IGN (common in daemons) the kernel reaps the
 * helper itself; waitpid() then fails with ECHILD, reap() returns 0 ("killed") and a helper
 * that answered correctly and exited 0 is reported as "no answer within 5000 ms (killed)". */
START_TEST(helper_answer_lost_when_sigchld_is_ignored)
{
    make_tmp();
    char text[300];
    snprintf(text, sizeof(text),
             "#!/bin/sh\ncat >/dev/null\nprintf '{\"Username\":\"u\",\"Secret\":\"%s\"}\\n'\n", SECRET);
    script("bin/docker-credential-good", text);
    imgsync__dcred c;
    char err[300] = "";
    ck_assert_int_eq(imgsync__credhelper_get(&c, "good", HOST, 5000, err, sizeof(err)), 0);
    ck_assert_int_eq(c.kind, IMGSYNC__DCRED_BASIC);
    imgsync__dcred_clear(&c);

    struct sigaction ign, old;
    memset(&ign, 0, sizeof(ign));
    ign.sa_handler = SIG_IGN;
    sigaction(SIGCHLD, &ign, &old);
    err[0] = '\0';
    int rc = imgsync__credhelper_get(&c, "good", HOST, 5000, err, sizeof(err));
    sigaction(SIGCHLD, &old, NULL);
    int kind = c.kind;
    imgsync__dcred_clear(&c);
    remove_tmp();
    ck_assert_msg(rc == 0 && kind == IMGSYNC__DCRED_BASIC, "with SIGCHLD ignored: rc %d (%s), kind %d", rc, err,
                  kind);
}
END_TEST

/* ---- defect 3: a helper that exits leaves its child running ---------------------------------- */

/* credhelper.c reap()/imgsync__credhelper_get(): on a timeout the process group is killed only
 * when the helper itself is still alive. A helper that exits at once but leaves a child holding
 * stdout open makes read_answer() time out; reap() then reaps the exited helper (returns 1)
 * and never runs kill(-pid): the child keeps running, though the error says "(killed)". */
START_TEST(helper_child_survives_when_the_helper_exits_first)
{
    make_tmp();
    char pidfile[600], text[900];
    snprintf(pidfile, sizeof(pidfile), "%s/child.pid", tmpdir);
    snprintf(text, sizeof(text), "#!/bin/sh\ncat >/dev/null\nsleep 30 &\necho $! >'%s'\nexit 0\n", pidfile);
    script("bin/docker-credential-daemonish", text);
    imgsync__dcred c;
    char err[300] = "";
    int rc = imgsync__credhelper_get(&c, "daemonish", HOST, 400, err, sizeof(err));
    imgsync__dcred_clear(&c);
    long child = read_pid(pidfile);
    ck_assert_int_gt(child, 1);
    int runs = still_runs(child);
    if (runs)
        kill((pid_t)child, SIGKILL);
    remove_tmp();
    ck_assert_int_eq(rc, IMGSYNC_ETIMEOUT);
    ck_assert_msg(!runs, "the helper's child %ld still runs after \"%s\"", child, err);
}
END_TEST

/* ---- defect 4: secrets left in freed memory -------------------------------------------------- */

/* 1 when one of a few fresh blocks of the arena's first size still holds s. */
static int freed_memory_holds(const char *s)
{
    void *blocks[8] = {0};
    int found = 0;
    for (int i = 0; i < 8; i++) {
        blocks[i] = malloc(4096);
        if (blocks[i])
            VALGRIND_MAKE_MEM_DEFINED(blocks[i], 4096); /* what free() left is read on purpose */
        const volatile char *b = blocks[i]; /* reading what free() left is the point */
        size_t n = strlen(s);
        for (size_t at = 0; b && !found && at + n <= 4096; at++) {
            size_t k = 0;
            while (k < n && b[at + k] == s[k])
                k++;
            found = k == n;
        }
    }
    for (int i = 0; i < 8; i++)
        free(blocks[i]);
    return found;
}

/* dockerauth.c imgsync__dockerauth_lookup() / imgsync__dockerauth_helper_answer(): the parsed
 * JSON tree (util/json.c's arena: the "password", "auth", "identitytoken" and helper "Secret"
 * strings) is released with imgsync__json_free(), which free()s the blocks without wiping
 * them; the secrets stay in freed heap memory (while the base64-decoded copy is wiped). */
START_TEST(parsed_secrets_left_in_freed_memory)
{
    imgsync__dcred c;
    char err[300] = "";
    const char *file = "{\"auths\":{\"" HOST "\":{\"username\":\"u\",\"password\":\"" SECRET "-file\"}}}";
    /* no ck_assert between a call and the scan: Check's location marks allocate */
    int rc1 = imgsync__dockerauth_lookup(&c, file, strlen(file), HOST, err, sizeof(err)), kind1 = c.kind;
    imgsync__dcred_clear(&c);
    int in_file_tree = freed_memory_holds(SECRET "-file");

    const char *answer = "{\"Username\":\"u\",\"Secret\":\"" SECRET "-helper\"}";
    int rc2 = imgsync__dockerauth_helper_answer(&c, answer, strlen(answer), err, sizeof(err)), kind2 = c.kind;
    imgsync__dcred_clear(&c);
    int in_answer_tree = freed_memory_holds(SECRET "-helper");
    ck_assert_int_eq(rc1, 0);
    ck_assert_int_eq(kind1, IMGSYNC__DCRED_BASIC);
    ck_assert_int_eq(rc2, 0);
    ck_assert_int_eq(kind2, IMGSYNC__DCRED_BASIC);
    ck_assert_msg(!in_file_tree && !in_answer_tree, "still in freed heap memory: the auth file's password %d, the helper's Secret %d", in_file_tree, in_answer_tree);
    ck_assert_msg(!in_answer_tree, "the helper's Secret is still in freed heap memory");
}
END_TEST

/* base64.c imgsync__base64_decode(): a bad digit after the first quads (an "auth" value with a
 * trailing '*', URL-safe '-'/'_' or a stray character) frees the buffer already holding the
 * decoded "user:password" prefix without wiping it (split_auth() wipes only what it gets back). */
START_TEST(base64_decode_failure_leaves_the_decoded_password)
{
    const char *plain = "u:" SECRET "-b64-tail-0123456789";
    char *enc = imgsync__base64(plain, strlen(plain));
    ck_assert_ptr_nonnull(enc);
    size_t n = strlen(enc);
    while (n > 0 && enc[n - 1] == '=')
        enc[--n] = '\0';
    n -= n % 4; /* whole quads, then one bad digit: 4k+1 digits would be refused before decoding */
    enc[n] = '\0';
    size_t cap = (n + 4) / 4 * 3 + 3; /* the decoder's buffer for n + 4 digits */
    char *bad = malloc(n + 5);
    ck_assert_ptr_nonnull(bad);
    snprintf(bad, n + 5, "%sAA*A", enc);
    size_t outlen = 0;
    /* no ck_assert between the decode and the malloc: Check's location marks allocate */
    char *decoded = imgsync__base64_decode(bad, &outlen);
    char *again = malloc(cap);
    ck_assert_ptr_null(decoded);
    ck_assert_ptr_nonnull(again);
    VALGRIND_MAKE_MEM_DEFINED(again, cap); /* what free() left is read on purpose */
    const volatile char *b = again;
    const char *tail = "never-shown-b64-tail"; /* past what free-list pointers overwrite */
    size_t tn = strlen(tail);
    int found = 0;
    for (size_t at = 0; !found && at + tn <= cap; at++) {
        size_t k = 0;
        while (k < tn && b[at + k] == tail[k])
            k++;
        found = k == tn;
    }
    free(again);
    free(bad);
    free(enc);
    ck_assert_msg(!found, "the decoded password is still in the freed decode buffer");
}
END_TEST

/* ---- defect 5: helpers found through relative PATH entries ------------------------------------ */

/* credhelper.c find_on_path(): a relative PATH entry ("bin", ".") is joined as it is, so the
 * helper, which is handed the registry and whose answer becomes the credentials, is whatever
 * docker-credential-NAME the current directory (e.g. a checked-out repository) holds. Docker's
 * exec.LookPath refuses such results (Go >= 1.19, ErrDot); the empty entry is already skipped. */
START_TEST(helper_run_from_a_relative_path_entry)
{
    make_tmp();
    char reldir[600];
    snprintf(reldir, sizeof(reldir), "%s/rel", tmpdir);
    ck_assert_int_eq(mkdir(reldir, 0700), 0);
    char text[300];
    snprintf(text, sizeof(text), "#!/bin/sh\ncat >/dev/null\nprintf '{\"Username\":\"planted\",\"Secret\":\"x\"}\\n'\n");
    script("rel/docker-credential-planted", text);
    char cwd[4096];
    ck_assert_ptr_nonnull(getcwd(cwd, sizeof(cwd)));
    ck_assert_int_eq(chdir(tmpdir), 0);
    char path[8300];
    snprintf(path, sizeof(path), "rel:%s", oldpath);
    setenv("PATH", path, 1);
    imgsync__dcred c;
    char err[300] = "";
    int rc = imgsync__credhelper_get(&c, "planted", HOST, 5000, err, sizeof(err));
    int kind = c.kind;
    imgsync__dcred_clear(&c);
    ck_assert_int_eq(chdir(cwd), 0);
    remove_tmp();
    ck_assert_msg(rc == IMGSYNC_ENOTFOUND, "rel/docker-credential-planted was run (rc %d, kind %d)", rc, kind);
}
END_TEST

/* ---- defect 6: descriptors inherited by the helper ------------------------------------------- */

/* credhelper.c spawn(): only stdin/stdout/stderr are set up; every other descriptor of the
 * process that lacks FD_CLOEXEC (the embedding program's, a store's; the engine does not
 * ask libcurl for close-on-exec sockets either) is inherited by the helper, a third-party
 * program. Docker's helpers (Go's os/exec) get 0-2 only. Also the pipes themselves are made
 * with pipe()+fcntl(), leaving a window in which another thread's helper inherits them. */
START_TEST(helper_inherits_descriptors)
{
    make_tmp();
    int fd = open("/dev/null", O_RDONLY); /* as an embedding program's or libcurl's socket */
    ck_assert_int_ge(fd, 3);
    char text[400];
    snprintf(text, sizeof(text),
             "#!/bin/sh\ncat >/dev/null\nif [ -e /proc/$$/fd/%d ]; then u=leaked; else u=clean; fi\n"
             "printf '{\"Username\":\"%%s\",\"Secret\":\"x\"}\\n' \"$u\"\n",
             fd);
    script("bin/docker-credential-fds", text);
    imgsync__dcred c;
    char err[300] = "";
    int rc = imgsync__credhelper_get(&c, "fds", HOST, 5000, err, sizeof(err));
    char user[32] = "";
    snprintf(user, sizeof(user), "%s", c.username ? c.username : "");
    imgsync__dcred_clear(&c);
    close(fd);
    remove_tmp();
    ck_assert_int_eq(rc, 0);
    ck_assert_msg(!strcmp(user, "clean"), "descriptor %d was inherited by the helper (%s)", fd, user);
}
END_TEST

/* ---- defect 7: a helper that leaves its process group cannot be killed ------------------------ */

/* credhelper.c reap(): on a timeout only the process group is signalled (kill(-pid, SIGKILL)),
 * then waitpid(pid, .., 0) waits without a limit. A helper that moved itself into another
 * process group of its session (setpgid, allowed to any process) is not in group pid: kill()
 * fails with ESRCH, nothing is killed and the blocking waitpid() waits as long as the helper
 * likes (here an hour): the 10 s limit does not hold. The helper's pid itself is never sent the
 * signal. */
START_TEST(helper_leaving_its_process_group_hangs_the_reap)
{
    make_tmp();
    char pidfile[600], text[900];
    snprintf(pidfile, sizeof(pidfile), "%s/helper.pid", tmpdir);
    snprintf(text, sizeof(text),
             "#!/usr/bin/perl\n"
             "open(my $f, '>', '%s') or die; print $f $$; close $f;\n"
             "my $c = fork(); if (!$c) { sleep 3600; exit 0; }\n"
             "setpgrp($c, $c) or die; setpgrp(0, $c) or die; sleep 3600;\n",
             pidfile);
    script("bin/docker-credential-escaper", text);
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    long long t0 = (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    int rcpipe[2];
    ck_assert_int_eq(pipe(rcpipe), 0);
    pid_t child = fork();
    ck_assert_int_ge(child, 0);
    if (child == 0) {
        imgsync__dcred a;
        char e[300];
        int rc = imgsync__credhelper_get(&a, "escaper", HOST, 400, e, sizeof(e));
        _exit(write(rcpipe[1], &rc, sizeof(rc)) == (ssize_t)sizeof(rc) ? 0 : 1);
    }
    int status = 0, done = 0;
    for (int tries = 0; tries < 500 && !done; tries++) { /* 5 s for a 400 ms limit */
        done = waitpid(child, &status, WNOHANG) == child;
        if (!done) {
            struct timespec w = {0, 10 * 1000000L};
            nanosleep(&w, NULL);
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &ts);
    long long took = (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 - t0;
    long helper_pid = read_pid(pidfile);
    if (helper_pid > 1) {
        pid_t pg = getpgid((pid_t)helper_pid);
        if (pg > 1)
            kill(-pg, SIGKILL);
        kill((pid_t)helper_pid, SIGKILL);
    }
    if (!done) {
        kill(child, SIGKILL);
        waitpid(child, NULL, 0);
    }
    remove_tmp();
    ck_assert_msg(done, "imgsync__credhelper_get still blocked after %lld ms (timeout 400 ms): the helper left "
                        "its process group, kill(-pid) missed it and waitpid() blocks", took);
    int got = 0;
    ssize_t r = read(rcpipe[0], &got, sizeof(got));
    close(rcpipe[0]);
    close(rcpipe[1]);
    ck_assert_msg(r == (ssize_t)sizeof(got) && got == IMGSYNC_ETIMEOUT, "not ETIMEOUT (%d)", got);
}
END_TEST

Suite *authfile_review_suite(void)
{
    Suite *s = suite_create("authfile_review");
    TCase *tc = tcase_create("review");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, helper_not_reading_a_big_server_hangs_past_the_deadline);
    tcase_add_test(tc, helper_answer_lost_when_sigchld_is_ignored);
    tcase_add_test(tc, helper_child_survives_when_the_helper_exits_first);
    tcase_add_test(tc, parsed_secrets_left_in_freed_memory);
    tcase_add_test(tc, base64_decode_failure_leaves_the_decoded_password);
    tcase_add_test(tc, helper_run_from_a_relative_path_entry);
    tcase_add_test(tc, helper_inherits_descriptors);
    tcase_add_test(tc, helper_leaving_its_process_group_hangs_the_reap);
    suite_add_tcase(s, tc);
    return s;
}

IMGSYNC_TEST_MAIN(authfile_review_suite)
