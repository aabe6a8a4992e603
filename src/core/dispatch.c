/* Dispatch: the one place where provider jobs become engine requests and engine answers come
 * back to providers. A run owns one engine group; the group's hooks call the provider's
 * prepare/sign on every attempt, deliver responses to on_response and count requests. Jobs in
 * flight are bounded: deferred provider calls run as the run's jobs finish. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/attempt.h"
#include "core/kinds.h"
#include "core/log.h"
#include "core/response.h"
#include "core/run.h"
#include "util/buf.h"
#include "util/url.h"

#define HARD_PENDING_FACTOR 64 /* submits fail beyond this many times the soft bound */
#define STR_(x) #x
#define STR(x) STR_(x)

/* ---- hooks ---------------------------------------------------------------------------------- */

static int hook_sign(void *ud, imgsync__wire *w)
{
    imgsync_job *job = ud;
    imgsync_run *run = job->run;
    int rc = 0;
    int (*sign)(imgsync_run *, const imgsync_job *, imgsync_attempt *) = IMGSYNC__VT2(run->vt, sign);
    if (!run->vt->prepare && !sign)
        return 0;
    job->attempt = w;
    run->in_callback = 1;
    if (run->vt->prepare)
        rc = run->vt->prepare(run, job);
    if (!rc && !run->failed && sign) {
        imgsync_attempt a = {w};
        rc = sign(run, job, &a);
    }
    run->in_callback = 0;
    job->attempt = NULL;
    return run->failed ? IMGSYNC_ECANCELED : rc;
}

static void hook_event(void *ud, int event)
{
    imgsync_run *run = ud;
    imgsync__task_count(run->task, event == IMGSYNC__EV_SENT ? IMGSYNC_COUNT_REQUESTS : IMGSYNC_COUNT_RETRIES, 1);
}

/* "; retry in 500 ms" ...: what the engine does after the attempt. */
static void next_phrase(char *out, size_t n, const imgsync__trace *t)
{
    switch (t->next) {
    case IMGSYNC__NEXT_RETRY: snprintf(out, n, "; retry in %lld ms", (long long)t->retry_ms); break;
    case IMGSYNC__NEXT_REDIRECT: snprintf(out, n, "; redirected"); break;
    case IMGSYNC__NEXT_CHALLENGE: snprintf(out, n, "; answering the Bearer challenge"); break;
    case IMGSYNC__NEXT_GIVE_UP:
        snprintf(out, n, "; gave up after %d attempt%s", t->attempt, t->attempt == 1 ? "" : "s");
        break;
    default: out[0] = '\0';
    }
}

/* One line per attempt: DEBUG, or WARN when the request gave up on a transient failure. */
static void hook_trace(void *ud, const imgsync__trace *t)
{
    imgsync_run *run = ud;
    int level = t->next == IMGSYNC__NEXT_GIVE_UP ? IMGSYNC_LOG_WARN : IMGSYNC_LOG_DEBUG;
    if (!imgsync__log_wants(run->env->log, level))
        return;
    char outcome[320], next[64];
    if (t->error)
        snprintf(outcome, sizeof(outcome), "%s%s%s", imgsync_strerror(t->error), *t->detail ? ": " : "", t->detail);
    else
        snprintf(outcome, sizeof(outcome), "%d, %zu bytes", t->status, t->bytes);
    next_phrase(next, sizeof(next), t);
    char *url = imgsync__url_for_log(t->url);
    imgsync__run_log(run, level, "registry '%s': %s%s %s -> %s, %lld ms, attempt %d%s", run->name,
                     t->token ? "token " : "", t->method, url ? url : "(URL not shown: out of memory)", outcome,
                     (long long)t->elapsed_ms, t->attempt, next);
    free(url);
}

/* The failure text of a provider call that returned rc: what was refused when a job was
 * (run->refused, e.g. ETOOBIG from the hard bound on pending jobs, whose generic text
 * "response too large" would mislead), else the code's own text. */
static void provider_error(char *msg, size_t len, const imgsync_run *run, const char *where, int rc)
{
    snprintf(msg, len, "%s: %s", where, run->refused ? run->refused : imgsync_strerror(rc));
}

/* A job's final answer: to the provider unless its run or scope is over. */
static void hook_done(void *ud, const imgsync__eresp *er)
{
    imgsync_job *job = ud;
    imgsync_run *run = job->run;
    imgsync__scope *s = job->scope;
    if (run->pending)
        run->pending--;
    if (s && s->pending)
        s->pending--;
    if (!run->failed && !run->ended && !(s && (s->failed || s->committed))) {
        imgsync_response resp;
        imgsync__response_init(&resp, er);
        run->in_callback = 1;
        run->refused = NULL;
        int rc = run->vt->on_response(run, job, &resp);
        run->in_callback = 0;
        imgsync__response_clear(&resp);
        if (rc && !run->failed) {
            char msg[200];
            provider_error(msg, sizeof(msg), run, "provider error", rc);
            if (s)
                imgsync__scope_fail(run, s, rc, msg);
            else
                imgsync_run_fail(run, rc, msg);
        }
        imgsync__scope_maybe_commit(run, s);
    }
    imgsync__job_free(job);
    imgsync__dispatch_resume(run);
    imgsync__run_maybe_end(run);
}

int imgsync__dispatch_open(imgsync_run *run)
{
    const imgsync__options *o = &run->opts;
    imgsync__policy p = {imgsync__options_get(o, "username"), imgsync__options_get(o, "password"),
                         imgsync__options_get(o, "ca_file"), imgsync__options_bool(o, "insecure"),
                         imgsync__options_bool(o, "allow_http"), 0 /* the context's max_response_bytes */,
                         imgsync__options_get(o, "token"), imgsync__options_get(o, "identity_token")};
    imgsync__hooks h = {hook_sign, hook_done, hook_event, hook_trace};
    const char *proxy = imgsync__options_get(o, "proxy");
    imgsync__net net = {imgsync__options_get(o, "ca_dir"), imgsync__options_get(o, "cert_file"),
                        imgsync__options_get(o, "key_file"), proxy && !strcmp(proxy, "none") ? "" : proxy};
    int rc = imgsync__group_new(&run->group, run->env->engine, &p, &h, run);
    if (!rc)
        rc = imgsync__group_set_net(run->group, &net);
    if (!rc && run->endpoint)
        rc = imgsync__group_allow_origin(run->group, run->endpoint);
    return rc == IMGSYNC_EINSECURE ? 0 : rc; /* the start reports plain http itself */
}

void imgsync__dispatch_close(imgsync_run *run)
{
    imgsync__group *g = run->group;
    run->group = NULL;
    imgsync__group_free(g);
}

/* ---- submission ---------------------------------------------------------------------------- */

static int cred_of(int auth)
{
    switch (auth) {
    case IMGSYNC_AUTH_BASIC: return IMGSYNC__CRED_BASIC;
    case IMGSYNC_AUTH_REGISTRY: return IMGSYNC__CRED_REGISTRY;
    case IMGSYNC_AUTH_PROVIDER: return IMGSYNC__CRED_PROVIDER;
    case IMGSYNC_AUTH_BEARER: return IMGSYNC__CRED_BEARER;
    default: return IMGSYNC__CRED_NONE;
    }
}

/* Why the job cannot be queued now, or 0. */
static int refusal(imgsync_run *run, imgsync_job *job)
{
    if (run->failed || run->ended || !run->group)
        return IMGSYNC_ECANCELED;
    if (imgsync__task_expired(run->task))
        return imgsync__run_deadline(run);
    if (run->pending >= run->env->max_pending * HARD_PENDING_FACTOR) {
        run->refused = "too many jobs pending (" STR(HARD_PENDING_FACTOR) " x max_pending_jobs): "
                       "the provider did not wait for room (imgsync_run_has_room)";
        return IMGSYNC_ETOOBIG;
    }
    if (job->repository) {
        if (!(job->scope = imgsync__scope_get(run, job->partition, job->repository, 1)))
            return IMGSYNC_ENOMEM;
        if (job->scope->committed)
            return IMGSYNC_EINVAL;
    }
    return 0;
}

int imgsync__dispatch_submit(imgsync_run *run, imgsync_job *job)
{
    int rc = refusal(run, job);
    if (!rc) {
        imgsync__ereq_spec spec = {job->method, job->url, (const char *const *)job->headers, job->nheaders,
                                   job->body, job->body_len, job->content_type, cred_of(job->auth),
                                   job->idempotent, job};
        rc = imgsync__group_submit(run->group, &spec);
        if (rc == IMGSYNC_EINVAL)
            run->refused = job->auth != IMGSYNC_AUTH_NONE ? "a credentialed job to an origin the run does not allow"
                                                         : "a job with a URL the engine cannot send";
        else if (rc == IMGSYNC_EINSECURE)
            run->refused = "a job to a plain http URL (set allow_http=true to allow it)";
    }
    if (rc) {
        imgsync__job_free(job);
        return rc;
    }
    run->pending++;
    if (job->scope)
        job->scope->pending++;
    return 0;
}

/* ---- deferred calls ------------------------------------------------------------------------ */

int imgsync_run_has_room(const imgsync_run *run) { return run && run->pending < run->env->max_pending; }

int imgsync_run_defer(imgsync_run *run, const char *partition, const char *repository,
                      int (*fn)(imgsync_run *run, void *data), void *data, void (*free_fn)(void *))
{
    imgsync__deferral *d = run && fn ? calloc(1, sizeof(*d)) : NULL;
    imgsync__scope *s = d && repository ? imgsync__scope_get(run, partition, repository, 1) : NULL;
    if (!d || (repository && !s) || run->failed || run->ended) {
        int rc = !run || !fn ? IMGSYNC_EINVAL : (run->failed || run->ended) ? IMGSYNC_ECANCELED : IMGSYNC_ENOMEM;
        free(d);
        if (free_fn && data)
            free_fn(data);
        return rc;
    }
    d->scope = s;
    d->fn = fn;
    d->data = data;
    d->free_fn = free_fn;
    if (run->deferred_tail)
        run->deferred_tail->next = d;
    else
        run->deferred = d;
    run->deferred_tail = d;
    if (s)
        s->pending++;
    return 0;
}

static void deferral_free(imgsync__deferral *d)
{
    if (d->free_fn && d->data)
        d->free_fn(d->data);
    free(d);
}

static imgsync__deferral *pop(imgsync_run *run)
{
    imgsync__deferral *d = run->deferred;
    if (d) {
        run->deferred = d->next;
        if (!run->deferred)
            run->deferred_tail = NULL;
    }
    return d;
}

/* Put a deferral back at the head: it is not finished. */
static void push_front(imgsync_run *run, imgsync__deferral *d)
{
    d->next = run->deferred;
    run->deferred = d;
    if (!run->deferred_tail)
        run->deferred_tail = d;
}

void imgsync__dispatch_resume(imgsync_run *run)
{
    if (run->in_callback)
        return; /* the provider is running: its own call ends first */
    imgsync__deferral *d;
    while (!run->failed && !run->ended && imgsync_run_has_room(run) && (d = pop(run))) {
        imgsync__scope *s = d->scope;
        size_t before = run->pending;
        run->in_callback = 1;
        run->refused = NULL;
        int rc = s && (s->failed || s->committed) ? 0 : d->fn(run, d->data);
        run->in_callback = 0;
        if (rc == 1 && imgsync_run_has_room(run) && run->pending == before)
            rc = IMGSYNC_EINTERNAL; /* "call me again" without using the room: it would spin */
        if (rc == 1 && !run->failed) {
            push_front(run, d);
            if (!imgsync_run_has_room(run))
                break;
            continue; /* it stopped with room left: call it again now */
        }
        if (s && s->pending)
            s->pending--;
        deferral_free(d);
        if (rc < 0 && !run->failed) {
            char msg[200];
            provider_error(msg, sizeof(msg), run, "provider error in a deferred listing step", rc);
            if (s)
                imgsync__scope_fail(run, s, rc, msg);
            else
                imgsync_run_fail(run, rc, msg);
        }
        imgsync__scope_maybe_commit(run, s);
    }
}

void imgsync__deferrals_free(imgsync_run *run)
{
    imgsync__deferral *d;
    while ((d = pop(run))) {
        if (d->scope && d->scope->pending)
            d->scope->pending--;
        deferral_free(d);
    }
}
