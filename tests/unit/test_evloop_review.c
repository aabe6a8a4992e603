/*
 * Review of the event-loop integration: failing tests, one per defect found.
 * Same loopback fixture as test_evloop.c: a listener that accepts and never answers.
 */
#include <check.h>

#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <fcntl.h>
#include <stdlib.h>
#include <spawn.h>
#include <sys/wait.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "core/ctx.h"
#include "imgsync.h"
#include "inventory/store.h"
#include "support/poll_loop.h"

Suite *evloop_review_suite(void);

static int listener = -1;
static char endpoint[64];
static imgsync_ctx *ctx;
static pl_loop loop;

static void setup(void)
{
    listener = pl_listen_silent(endpoint, sizeof(endpoint));
    ck_assert_int_ge(listener, 0);
    memset(&loop, 0, sizeof(loop));
    ck_assert_int_eq(imgsync_ctx_new(&ctx, NULL), 0);
    imgsync_provider *p = NULL;
    ck_assert_int_eq(imgsync_provider_new(&p, ctx, "oci", "silent"), 0);
    ck_assert_int_eq(imgsync_provider_set(p, "endpoint", endpoint), 0);
}

static void teardown(void)
{
    imgsync_ctx_free(ctx);
    ctx = NULL;
    close(listener);
}

static uint64_t start_sync(void)
{
    uint64_t id = 0;
    loop.ctx = ctx;
    int rc = pl_start_all(&loop, &id);
    ck_assert_msg(rc == 0, "imgsync_sync_start = %d: %s", rc, imgsync_ctx_errmsg(ctx));
    return id;
}

/* ---- events seen ------------------------------------------------------------------------------ */

static int ended_event; /* a TASK_STATE event with an ended state was delivered */

static void on_event(const imgsync_event *ev, void *payload)
{
    (void)payload;
    if (imgsync_event_type_of(ev) == IMGSYNC_EVENT_TASK_STATE && imgsync_event_task_state(ev) > IMGSYNC_TASK_RUNNING)
        ended_event = 1;
}

/* ---- defect 1: a cancel from the socket callback, inside curl_multi_socket_action ---------------- */

static int socket_cancel_armed;
static uint64_t socket_cancel_id;
static int socket_cancel_rc = 1;

static int socket_cancels(imgsync_ctx *c, int fd, int what, void *payload)
{
    pl_loop *l = payload;
    size_t i;
    for (i = 0; i < l->n && l->fds[i] != fd; i++) {
    }
    if (what == IMGSYNC_POLL_REMOVE) {
        if (i < l->n) {
            l->n--;
            l->fds[i] = l->fds[l->n];
            l->what[i] = l->what[l->n];
        }
        return 0;
    }
    if (i == l->n && l->n < PL_MAX_FDS)
        l->n++;
    l->fds[i] = fd;
    l->what[i] = what;
    if (socket_cancel_armed && socket_cancel_id) {
        socket_cancel_armed = 0;
        socket_cancel_rc = imgsync_task_cancel(c, socket_cancel_id);
    }
    return 0;
}

/* The socket callback runs inside curl_multi_socket_action (curl's CURLMOPT_SOCKETFUNCTION). A
 * cancel made there reaches ct_abort(), whose curl_multi_remove_handle() libcurl refuses
 * (CURLM_RECURSIVE_API_CALL) - the result is ignored and the easy handle is put back in the
 * pool while it is still in the multi handle, with CURLOPT_PRIVATE pointing at the freed
 * transfer. Either the call must be refused (EBUSY, like socket_action from a callback) or the
 * transfer must really be gone: the loop must end with no socket of the aborted transfer
 * watched, no crash, and a second sync must work. */
START_TEST(test_cancel_from_socket_callback)
{
    ck_assert_int_eq(imgsync_ctx_set(ctx, "low_speed_bytes", "0"), 0);
    ck_assert_int_eq(imgsync_ctx_set_event_callback(ctx, on_event, NULL), 0);
    ck_assert_int_eq(pl_attach(&loop, ctx), 0);
    ck_assert_int_eq(imgsync_ctx_set_socket_callback(ctx, socket_cancels, &loop), 0);
    uint64_t id = start_sync();
    socket_cancel_id = id;
    socket_cancel_armed = 1; /* the first socket curl announces (connect: POLL_OUT) */
    int64_t end = pl_mono_ms() + 3000;
    while (socket_cancel_armed && pl_mono_ms() < end)
        ck_assert_int_ge(pl_run_once(&loop, 100), 0);
    ck_assert_msg(!socket_cancel_armed, "no socket was announced");
    if (socket_cancel_rc == IMGSYNC_EBUSY)
        return; /* refused clearly: fine */
    ck_assert_int_eq(socket_cancel_rc, 0);
    end = pl_mono_ms() + 3000;
    while (!ended_event && pl_mono_ms() < end)
        ck_assert_int_ge(pl_run_once(&loop, 200), 0);
    ck_assert_msg(ended_event, "the canceled task did not end");
    /* the aborted transfer is gone from curl: its socket is no longer watched */
    for (int k = 0; k < 10; k++)
        ck_assert_int_ge(pl_run_once(&loop, 100), 0);
    ck_assert_msg(loop.n == 1, "%zu descriptors still watched after the cancel (only the wakeup one expected)", loop.n);
    /* and the context still works: another sync gets a request out and is canceled cleanly */
    ended_event = 0;
    uint64_t id2 = start_sync();
    ck_assert_msg(pl_run_until_watching(&loop, 2, 5000) == 0, "the second sync got no request out");
    ck_assert_int_eq(imgsync_task_cancel(ctx, id2), 0);
    ck_assert_int_eq(pl_run_task(&loop, id2, 5000), IMGSYNC_TASK_CANCELED);
}
END_TEST


/* ---- defect 2: imgsync_ctx_wakeup writes into a descriptor closed (and reused) meanwhile ---------- */

/* write() of the whole program, passing through, except that the waking thread is held between
 * wake_loop()'s load of wake_wr and its write(): the window any thread scheduler may open. */
static pthread_t waker;
static int hold_waker;        /* armed by the waking thread itself */
static volatile int waker_in; /* the waker is inside write(), fd below */
static volatile int waker_fd = -1;
static volatile int release_waker;

ssize_t write(int fd, const void *buf, size_t n)
{
    if (__atomic_load_n(&hold_waker, __ATOMIC_ACQUIRE) && pthread_equal(pthread_self(), waker)) {
        waker_fd = fd;
        __atomic_store_n(&waker_in, 1, __ATOMIC_RELEASE);
        while (!__atomic_load_n(&release_waker, __ATOMIC_ACQUIRE)) {
            struct timespec ts = {0, 1000000};
            nanosleep(&ts, NULL);
        }
    }
    return syscall(SYS_write, fd, buf, n);
}

static void *wake_thread(void *arg)
{
    waker = pthread_self();
    __atomic_store_n(&hold_waker, 1, __ATOMIC_RELEASE);
    imgsync_ctx_wakeup(arg);
    return NULL;
}

/* imgsync_ctx_wakeup is documented "from any thread" (only not after imgsync_ctx_free began),
 * and takes no lock: wake_loop() loads wake_wr atomically, then write()s to it. Meanwhile the
 * loop's thread may set the socket callback to NULL, which closes the pipe (pipe_close), and the
 * process may open a file that gets the same descriptor number: the wakeup's byte then lands in
 * that unrelated file (or socket). */
START_TEST(test_wakeup_races_pipe_close)
{
    ck_assert_int_eq(pl_attach(&loop, ctx), 0);
    ck_assert_int_eq(pl_run_once(&loop, 0), 0);
    pthread_t th;
    ck_assert_int_eq(pthread_create(&th, NULL, wake_thread, ctx), 0);
    int64_t end = pl_mono_ms() + 3000;
    while (!__atomic_load_n(&waker_in, __ATOMIC_ACQUIRE) && pl_mono_ms() < end) {
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    ck_assert_msg(waker_in, "the waking thread did not reach write() (test harness)");
    int fd = waker_fd;
    /* the loop goes back to imgsync_ctx_perform: the wakeup pipe is closed */
    ck_assert_int_eq(imgsync_ctx_set_socket_callback(ctx, NULL, NULL), 0);
    ck_assert_int_eq(imgsync_ctx_set_timer_callback(ctx, NULL, NULL), 0);
    /* the embedder opens its own files: none may get the wakeup descriptor's number (the fix
     * keeps the pipe open until the context is freed) */
    char path[] = "/tmp/imgsync-evloop-review-XXXXXX";
    int files[8], nfiles = 0, mine = -1;
    while (nfiles < 8) {
        int f = nfiles == 0 ? mkstemp(path) : open(path, O_RDWR);
        ck_assert_int_ge(f, 0);
        files[nfiles++] = f;
        if (f == fd)
            mine = f;
    }
    __atomic_store_n(&release_waker, 1, __ATOMIC_RELEASE);
    pthread_join(th, NULL);
    __atomic_store_n(&hold_waker, 0, __ATOMIC_RELEASE);
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    for (int i = 0; i < nfiles; i++)
        close(files[i]);
    unlink(path);
    ck_assert_msg(mine < 0, "the wakeup descriptor %d was closed while imgsync_ctx_wakeup could still write to it", fd);
    ck_assert_msg(st.st_size == 0,
                  "imgsync_ctx_wakeup wrote %lld byte(s) into the embedder's file that reused the closed wakeup "
                  "descriptor %d",
                  (long long)st.st_size, fd);
}
END_TEST

/* ---- defect 3: the loop takes over a sync that imgsync_ctx_perform started -------------------- */

/* imgsync_ctx_set_socket_callback refuses cb NULL while a task runs, but accepts a cb then: the
 * socket of a request already in flight (opened under imgsync_ctx_perform, when libcurl had no
 * socket function) is never told to the callback, so the loop cannot see its answer and sleeps
 * until libcurl's own timeout (seconds; the request then fails as timed out). Either EBUSY or
 * the sockets in use must be told. */
START_TEST(test_attach_mid_sync_loses_socket)
{
    ck_assert_int_eq(imgsync_ctx_set(ctx, "low_speed_bytes", "0"), 0);
    uint64_t id = start_sync();
    for (int i = 0; i < 5; i++)
        ck_assert_int_eq(imgsync_ctx_perform(ctx, 100), 1); /* the request is out, unanswered */
    int rc = pl_attach(&loop, ctx);
    if (rc == IMGSYNC_EBUSY) { /* refused clearly: fine */
        ck_assert_int_eq(imgsync_task_cancel(ctx, id), 0);
        return;
    }
    ck_assert_int_eq(rc, 0);
    for (int i = 0; i < 5; i++)
        ck_assert_int_ge(pl_run_once(&loop, 200), 0);
    int64_t left = loop.timer_due < 0 ? -1 : loop.timer_due - pl_mono_ms();
    ck_assert_msg(loop.n >= 2,
                  "a request is in flight but the loop watches %zu descriptor(s) (only the wakeup one): its answer "
                  "would be seen only at the timer, in %lld ms",
                  loop.n, (long long)left);
    ck_assert_int_eq(imgsync_task_cancel(ctx, id), 0);
    ck_assert_int_eq(pl_run_task(&loop, id, 5000), IMGSYNC_TASK_CANCELED);
}
END_TEST

/* ---- defect 4: the wakeup pipe is created without O_CLOEXEC ------------------------------------- */

extern char **environ;
static int spawn_in_pipe;   /* armed by the test */
static int leaked_fds = -1; /* how many of the pipe's descriptors an exec'd child held */

/* Does a program exec'd now (posix_spawn, as another thread of the embedder may do at any time)
 * hold fd? */
static int child_holds(int fd)
{
    char script[96];
    snprintf(script, sizeof(script), "test -e /proc/$$/fd/%d", fd);
    char *argv[] = {"sh", "-c", script, NULL};
    pid_t pid;
    if (posix_spawn(&pid, "/bin/sh", NULL, NULL, argv, environ) != 0)
        return -1;
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

/* pipe() of the whole program; when armed, another thread's fork+exec is simulated right after
 * the descriptors exist - the window between pipe() and the fcntl(FD_CLOEXEC) of pipe_open(). */
int pipe(int p[2])
{
    int rc = (int)syscall(SYS_pipe2, p, 0);
    if (rc == 0 && __atomic_exchange_n(&spawn_in_pipe, 0, __ATOMIC_ACQ_REL))
        leaked_fds = child_holds(p[0]) + child_holds(p[1]);
    return rc;
}

/* pipe_open() makes the wakeup pipe with pipe() and sets FD_CLOEXEC (and O_NONBLOCK) with
 * fcntl() afterwards: a program exec'd by another thread of the embedder in between inherits
 * both ends (a leaked descriptor, and a reader that can steal the wakeups). pipe2(O_CLOEXEC |
 * O_NONBLOCK) has no such window. */
START_TEST(test_wakeup_pipe_not_cloexec_at_creation)
{
    __atomic_store_n(&spawn_in_pipe, 1, __ATOMIC_RELEASE);
    ck_assert_int_eq(pl_attach(&loop, ctx), 0);
    if (__atomic_exchange_n(&spawn_in_pipe, 0, __ATOMIC_ACQ_REL)) {
        /* not made by pipe(): pipe2(O_CLOEXEC) has no window; the told descriptor is close-on-exec */
        ck_assert_uint_ge(loop.n, 1);
        ck_assert_msg(child_holds(loop.fds[0]) == 0, "a program exec'd now inherits the wakeup descriptor");
        return;
    }
    ck_assert_int_ge(leaked_fds, 0);
    ck_assert_msg(leaked_fds == 0, "a program exec'd while the wakeup pipe was being made inherited %d of its 2 descriptors",
                  leaked_fds);
}
END_TEST

/* ---- defect 5: schedules of another process are never seen by a loop that had none -------------- */

/* Two contexts share one SQLite store (a daemon driven by an event loop, and the imgsync CLI adding
 * a schedule). The worker re-reads the schedules every RELOAD_MS (5 s) also when it has none
 * (imgsync__sched_idle_ms), but the loop's timeout uses imgsync__sched_next_ms, which answers -1
 * when the list read is empty: the loop's timer is never armed, the list is never read again, and
 * the new schedule never runs in the loop-driven daemon. */
START_TEST(test_schedule_of_other_process_never_seen)
{
    char dir[] = "/tmp/imgsync-evloop-review-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char uri[256], db[128];
    snprintf(db, sizeof(db), "%s/inv.db", dir);
    snprintf(uri, sizeof(uri), "sqlite:%s", db);
    imgsync_ctx *daemon = NULL, *cli = NULL;
    ck_assert_int_eq(imgsync_ctx_new(&daemon, uri), 0);
    pl_loop dl;
    memset(&dl, 0, sizeof(dl));
    ck_assert_int_eq(pl_attach(&dl, daemon), 0);
    for (int i = 0; i < 3; i++)
        ck_assert_int_ge(pl_run_once(&dl, 10), 0);
    /* another process (here a second context) adds a schedule every minute */
    ck_assert_int_eq(imgsync_ctx_new(&cli, uri), 0);
    imgsync_request *req = NULL;
    ck_assert_int_eq(imgsync_request_new(&req), 0);
    uint64_t sid = 0;
    ck_assert_int_eq(imgsync_schedule_every(cli, req, 1, &sid), 0);
    imgsync_request_free(req);
    imgsync_ctx_free(cli);
    /* the daemon's loop runs for 6 s, more than the 5 s the worker takes to read it again */
    int64_t end = pl_mono_ms() + 6000;
    while (pl_mono_ms() < end)
        ck_assert_int_ge(pl_run_once(&dl, (int)(end - pl_mono_ms())), 0);
    int64_t due = dl.timer_due;
    long actions = dl.actions;
    imgsync_ctx_free(daemon);
    unlink(db);
    char side[160];
    snprintf(side, sizeof(side), "%s-wal", db);
    unlink(side);
    snprintf(side, sizeof(side), "%s-shm", db);
    unlink(side);
    rmdir(dir);
    ck_assert_msg(due >= 0, "after 6 s the loop's timer is still unarmed (%ld actions): the schedule added by another "
                            "process will never run here",
                  actions);
}
END_TEST

/* ---- defect 6: a sync started from the timer callback is never announced ------------------------ */

static int start_in_timer; /* armed by the test */
static uint64_t started_in_timer;
static int start_in_timer_rc = 1;

static int timer_starts(imgsync_ctx *c, int timeout_ms, void *payload)
{
    pl_loop *l = payload;
    l->timer_calls++;
    l->timer_due = timeout_ms < 0 ? -1 : pl_mono_ms() + timeout_ms;
    if (start_in_timer) {
        start_in_timer = 0;
        imgsync_request *req = NULL;
        start_in_timer_rc = imgsync_request_new(&req);
        if (!start_in_timer_rc)
            start_in_timer_rc = imgsync_sync_start(c, req, &started_in_timer);
        imgsync_request_free(req);
    }
    return 0;
}

/* imgsync_sync_start is not refused in a callback (answers 0), but tell_timer() computed the
 * timeout before calling the callback and stored it in timer_told, and the nested
 * imgsync__ctx_leave() of sync_start returns before imgsync__evloop_left() (hold_depth > 1;
 * evloop_left would also stop at in_io); on the loop's thread nothing is written to the wakeup
 * pipe either: the loop keeps the timer it was just told (-1 for an idle context) and the new
 * task stays queued for ever. The same holds for imgsync_task_cancel and imgsync_schedule_* from
 * the timer callback. */
START_TEST(test_start_from_timer_callback_lost_wakeup)
{
    ck_assert_int_eq(pl_attach(&loop, ctx), 0);
    ck_assert_int_eq(pl_run_once(&loop, 0), 0);
    ck_assert_int_eq(loop.timer_due, -1); /* idle */
    start_in_timer = 1;
    ck_assert_int_eq(imgsync_ctx_set_timer_callback(ctx, timer_starts, &loop), 0); /* told at once */
    ck_assert_int_eq(start_in_timer, 0);
    if (start_in_timer_rc == IMGSYNC_EBUSY) /* refused clearly, as from the socket callback: fine */
        return;
    ck_assert_int_eq(start_in_timer_rc, 0);
    int64_t end = pl_mono_ms() + 2000;
    while (loop.n < 2 && pl_mono_ms() < end)
        ck_assert_int_ge(pl_run_once(&loop, (int)(end - pl_mono_ms())), 0);
    ck_assert_msg(loop.n >= 2, "the task started in the timer callback got no request out in 2 s (timer %s)",
                  loop.timer_due < 0 ? "unarmed" : "armed");
    ck_assert_int_eq(imgsync_task_cancel(ctx, started_in_timer), 0);
    ck_assert_int_eq(pl_run_task(&loop, started_in_timer, 5000), IMGSYNC_TASK_CANCELED);
}
END_TEST

/* ---- defect 7: a task record the store refuses makes the loop spin ------------------------------ */

static int refuse_update(imgsync__store *s, const imgsync__task_rec *r)
{
    (void)s;
    (void)r;
    return IMGSYNC_ESTORE; /* SQLITE_FULL / SQLITE_READONLY fail at once, without the busy wait */
}

/* next_timeout() answers 0 while a task's state differs from rec_state, "a change to record".
 * When the store refuses the update (a full disk, a read-only database), history_persist keeps
 * the task dirty and rec_state unchanged, so every round asks for a 0 ms timer again: the loop
 * spins at full CPU for as long as the store refuses (imgsync_ctx_perform instead waits, and
 * with no task active returns). Here the store refuses task updates after a cancel; the loop is
 * then watched for 1 s. */
START_TEST(test_refused_record_spins_loop)
{
    ck_assert_int_eq(imgsync_ctx_set(ctx, "low_speed_bytes", "0"), 0);
    ck_assert_int_eq(pl_attach(&loop, ctx), 0);
    uint64_t id = start_sync();
    ck_assert_msg(pl_run_until_watching(&loop, 2, 5000) == 0, "no request in flight");
    static imgsync__store_ops refusing;
    const imgsync__store_ops *saved = ctx->store->ops;
    refusing = *saved;
    refusing.task_update = refuse_update;
    ctx->store->ops = &refusing;
    ck_assert_int_eq(imgsync_task_cancel(ctx, id), 0);
    long actions = loop.actions, zeros = loop.zero_timers;
    int64_t end = pl_mono_ms() + 1000;
    while (pl_mono_ms() < end)
        ck_assert_int_ge(pl_run_once(&loop, (int)(end - pl_mono_ms())), 0);
    actions = loop.actions - actions;
    zeros = loop.zero_timers - zeros;
    ctx->store->ops = saved;
    ck_assert_msg(actions < 50, "%ld loop rounds (%ld zero-ms timers) in 1 s while the store refused the record", actions,
                  zeros);
}
END_TEST

static int refuse_list(imgsync__store *s, imgsync__schedule_rec **out, size_t *n)
{
    (void)s;
    *out = NULL;
    *n = 0;
    return IMGSYNC_ESTORE;
}

/* The same with the schedules: imgsync__sched_next_ms answers 0 while the list was never read
 * (loaded == 0), and reload() keeps loaded at 0 when the store refuses: an idle loop with no
 * task spins while the store cannot be read (the worker waits RELOAD_MS there). */
START_TEST(test_refused_schedule_read_spins_loop)
{
    static imgsync__store_ops refusing;
    const imgsync__store_ops *saved = ctx->store->ops;
    refusing = *saved;
    refusing.schedule_list = refuse_list;
    ctx->store->ops = &refusing;
    ck_assert_int_eq(pl_attach(&loop, ctx), 0);
    long actions = loop.actions, zeros = loop.zero_timers;
    int64_t end = pl_mono_ms() + 1000;
    while (pl_mono_ms() < end)
        ck_assert_int_ge(pl_run_once(&loop, (int)(end - pl_mono_ms())), 0);
    actions = loop.actions - actions;
    zeros = loop.zero_timers - zeros;
    ctx->store->ops = saved;
    ck_assert_msg(actions < 50, "%ld loop rounds (%ld zero-ms timers) in 1 s of an idle context whose store refused the "
                                "schedule list",
                  actions, zeros);
}
END_TEST

Suite *evloop_review_suite(void)
{
    Suite *s = suite_create("evloop_review");
    TCase *tc = tcase_create("loopback");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_wakeup_races_pipe_close);
    tcase_add_test(tc, test_attach_mid_sync_loses_socket);
    tcase_add_test(tc, test_wakeup_pipe_not_cloexec_at_creation);
    tcase_add_test(tc, test_schedule_of_other_process_never_seen);
    tcase_add_test(tc, test_start_from_timer_callback_lost_wakeup);
    tcase_add_test(tc, test_refused_record_spins_loop);
    tcase_add_test(tc, test_refused_schedule_read_spins_loop);
    tcase_add_test(tc, test_cancel_from_socket_callback); /* last: it crashes the process under CK_FORK=no */
    suite_add_tcase(s, tc);
    return s;
}

#include "check_main.h"
IMGSYNC_TEST_MAIN(evloop_review_suite)
