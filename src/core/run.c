/* Runs: one provider's part of a task. Construction from a provider's configuration (copied:
 * the run never points back at the provider), start, failure, end, and the run's SPI getters. */
#include "core/run.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/authfile.h"
#include "core/kinds.h"
#include "core/log.h"
#include "core/provider.h"
#include "util/base64.h"
#include "util/buf.h"
#include "util/url.h"

#define DEFAULT_MAX_PAGES 10000
#define DEFAULT_MAX_ITEMS 1000000

/* ---- construction ----------------------------------------------------------------------- */

static char *normalized_endpoint(const char *ep)
{
    size_t n = strlen(ep);
    while (n > 0 && ep[n - 1] == '/')
        n--;
    return imgsync__strndup(ep, n);
}

static int set_endpoint(imgsync_run *run, const char *url)
{
    char *ep = normalized_endpoint(url);
    char *host = ep ? imgsync__url_hostport(ep) : NULL;
    if (!host) {
        free(ep);
        return ep ? IMGSYNC_EINVAL : IMGSYNC_ENOMEM;
    }
    free(run->endpoint);
    free(run->host);
    run->endpoint = ep;
    run->host = host;
    return 0;
}

static int add_secret(imgsync_run *run, const char *value)
{
    for (size_t i = 0; i < run->nsecrets; i++)
        if (!strcmp(run->secrets[i], value))
            return 0;
    char **arr = realloc(run->secrets, (run->nsecrets + 1) * sizeof(*arr));
    if (!arr)
        return IMGSYNC_ENOMEM;
    run->secrets = arr;
    char *copy = imgsync__strdup(value);
    if (!copy)
        return IMGSYNC_ENOMEM;
    /* longest first: a secret holding another is taken out whole before the shorter one */
    size_t at = 0, len = strlen(copy);
    while (at < run->nsecrets && strlen(arr[at]) >= len)
        at++;
    memmove(arr + at + 1, arr + at, (run->nsecrets - at) * sizeof(*arr));
    arr[at] = copy;
    run->nsecrets++;
    return 0;
}

int imgsync_run_add_secret(imgsync_run *run, const char *value)
{
    if (!run || !value || !*value)
        return IMGSYNC_EINVAL;
    return add_secret(run, value);
}

const char *imgsync__run_secret(const imgsync_run *run, const char *value)
{
    for (size_t i = 0; i < run->nsecrets; i++)
        if (!strcmp(run->secrets[i], value))
            return run->secrets[i];
    return NULL;
}

/* The credentials of a proxy URL ("http://u:p@host:3128") as messages might quote them: the
 * userinfo up to the last '@' (a password may hold '/', '?', '#' or '@') and its password. */
static int add_proxy_secret(imgsync_run *run, const char *proxy)
{
    const char *start = proxy ? strstr(proxy, "://") : NULL;
    const char *at = start ? strrchr(start + 3, '@') : NULL;
    if (!at || at == start + 3)
        return 0;
    start += 3;
    char *userinfo = imgsync__strndup(start, (size_t)(at - start));
    if (!userinfo)
        return IMGSYNC_ENOMEM;
    const char *colon = strchr(userinfo, ':');
    int rc = add_secret(run, userinfo);
    if (!rc && colon && colon[1])
        rc = add_secret(run, colon + 1);
    imgsync__wipe_free(userinfo);
    return rc;
}

/* The proxy option's credentials, else those of the proxy variables libcurl reads (their
 * upper-case forms too: a message must not show them whichever one is set). */
static int add_proxy_secrets(imgsync_run *run)
{
    const char *proxy = imgsync__options_get(&run->opts, "proxy");
    if (proxy)
        return add_proxy_secret(run, proxy);
    static const char *const vars[] = {"http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"};
    int rc = 0;
    for (size_t i = 0; !rc && i < sizeof(vars) / sizeof(*vars); i++)
        rc = add_proxy_secret(run, getenv(vars[i]));
    return rc;
}

/* The secret option values, and the Basic form of username:password as a server may echo it. */
static int collect_secrets(imgsync_run *run)
{
    int rc = 0;
    for (size_t i = 0; !rc && i < run->opts.n; i++)
        if (imgsync__kind_secret_option(run->vt, run->opts.v[i].key) && run->opts.v[i].value[0])
            rc = add_secret(run, run->opts.v[i].value);
    const char *user = imgsync__options_get(&run->opts, "username");
    const char *pass = imgsync__options_get(&run->opts, "password");
    if (!rc && user && pass) {
        char *pair = imgsync__asprintf("%s:%s", user, pass);
        char *b64 = pair ? imgsync__base64(pair, strlen(pair)) : NULL;
        rc = b64 ? add_secret(run, b64) : IMGSYNC_ENOMEM;
        imgsync__wipe_free(pair);
        imgsync__wipe_free(b64);
    }
    return rc ? rc : add_proxy_secrets(run);
}

int imgsync__run_new(imgsync_run **out, imgsync__task *t, const imgsync_provider *p, int mode)
{
    imgsync_run *run = calloc(1, sizeof(*run));
    if (!run)
        return IMGSYNC_ENOMEM;
    run->task = t;
    run->env = t->env;
    run->vt = p->vt;
    run->mode = mode;
    run->row_state = IMGSYNC_REGISTRY_RUNNING;
    imgsync__map_init(&run->scopes);
    imgsync__map_init(&run->failed_parts);
    imgsync__map_init(&run->failed_ns);
    imgsync__map_init(&run->failed_items);
    run->nns_hints = imgsync__request_namespace_literals(t->req, &run->ns_hints);
    const char *ep = imgsync__options_get(&p->opts, "endpoint");
    int rc = (run->name = imgsync__strdup(p->name)) ? 0 : IMGSYNC_ENOMEM;
    if (!rc)
        rc = imgsync__options_copy(&run->opts, &p->opts);
    if (!rc && ep)
        rc = set_endpoint(run, ep);
    if (!rc)
        rc = collect_secrets(run);
    if (rc) {
        imgsync__run_free(run);
        return rc;
    }
    *out = run;
    return 0;
}

static void release_provider_data(imgsync_run *run)
{
    void *data = run->data;
    void (*free_fn)(void *) = run->data_free;
    run->data = NULL;
    run->data_free = NULL;
    if (free_fn && data)
        free_fn(data);
}

/* Everything a finished run no longer needs; secrets are wiped here, when the run ends, not
 * when the context goes. */
static void release(imgsync_run *run)
{
    imgsync__dispatch_close(run);
    imgsync__deferrals_free(run);
    release_provider_data(run);
    imgsync__scopes_free(run);
    imgsync__options_wipe(&run->opts);
    for (size_t i = 0; i < run->nsecrets; i++)
        imgsync__wipe_free(run->secrets[i]);
    free(run->secrets);
    run->secrets = NULL;
    run->nsecrets = 0;
}

void imgsync__run_free(imgsync_run *run)
{
    if (!run)
        return;
    release(run);
    imgsync__map_clear(&run->failed_parts);
    imgsync__map_clear(&run->failed_ns);
    imgsync__map_clear(&run->failed_items);
    free(run->ns_hints);
    free(run->name);
    free(run->endpoint);
    free(run->host);
    free(run->reason);
    free(run->notes);
    free(run->cred_source);
    free(run);
}

/* ---- lifecycle ------------------------------------------------------------------------------ */

/* "registry 'x': finished, 12 repositories listed" or "... failed ...: reason". */
static void log_end(const imgsync_run *run)
{
    int ok = run->row_state != IMGSYNC_REGISTRY_FAILED;
    /* a run that failed as a whole said so (ERROR, or WARN when canceled); one whose every
     * repository failed has only its WARN lines per repository: this line is its ERROR */
    int level = ok || run->failed ? IMGSYNC_LOG_INFO : IMGSYNC_LOG_ERROR;
    imgsync__run_log(run, level, "registry '%s': %s, %zu repositories listed, %llu failed%s%s", run->name,
                     ok ? "finished" : "failed", run->scopes.count, (unsigned long long)run->scopes_failed,
                     run->reason ? ": " : "", run->reason ? run->reason : "");
}

void imgsync__run_maybe_end(imgsync_run *run)
{
    if (run->ended || !run->started || run->pending || run->deferred || run->in_callback)
        return;
    if (!run->failed)
        imgsync__scopes_finish(run);
    run->ended = 1;
    if (run->failed)
        imgsync__run_set_row(run, IMGSYNC_REGISTRY_FAILED, NULL);
    else
        imgsync__run_summarize(run);
    log_end(run); /* before release: the secrets are still known to redact */
    release(run);
    imgsync__task_run_ended(run->task);
}

int imgsync__run_allowed_url(const imgsync_run *run, const char *url)
{
    imgsync__url u;
    if (!url || imgsync__url_parse(&u, url))
        return IMGSYNC_EINVAL;
    int ok = strcmp(u.scheme, "https") == 0 || imgsync__url_is_loopback_host(u.host) ||
             imgsync__options_bool(&run->opts, "allow_http");
    imgsync__url_clear(&u);
    return ok ? 0 : IMGSYNC_EINSECURE;
}

static const char *http_refusal = "plain http is accepted only for loopback hosts or with allow_http=true";

/* Credentials from an auth file when the provider set none: read now, when the run starts,
 * into its own copy of the options (and its secrets, so that they are redacted). 0, or the
 * error with its reason in err. */
static int resolve_credentials(imgsync_run *run, char *err, size_t errlen)
{
    int rc = imgsync__authfile_resolve(&run->opts, run->vt, run->env->auth_file, run->host, &run->cred_source, err,
                                       errlen);
    if (!rc)
        rc = collect_secrets(run);
    /* said only when an auth file was looked for: the provider's own options, or none at all,
     * are the configuration's business */
    const char *src = run->cred_source;
    if (!rc && src && strcmp(src, "none") && strcmp(src, "options") &&
        imgsync__log_wants(run->env->log, IMGSYNC_LOG_INFO))
        imgsync__run_log(run, IMGSYNC_LOG_INFO, "registry '%s': credentials: %s", run->name, src);
    return rc;
}

/* "registry 'x' (oci, https://reg.example): started" */
static void log_start(const imgsync_run *run)
{
    if (!imgsync__log_wants(run->env->log, IMGSYNC_LOG_INFO))
        return;
    char *ep = run->endpoint ? imgsync__url_for_log(run->endpoint) : NULL;
    imgsync__run_log(run, IMGSYNC_LOG_INFO, "registry '%s' (%s%s%s): %s started", run->name, run->vt->kind,
                     ep ? ", " : "", ep ? ep : "", run->mode == IMGSYNC_RUN_CHECK ? "check" : "sync");
    free(ep);
}

void imgsync__run_start(imgsync_run *run)
{
    run->started = 1;
    char why[400] = "";
    int creds = resolve_credentials(run, why, sizeof(why));
    int rc = creds ? 0 : imgsync__dispatch_open(run);
    log_start(run);
    if (creds) {
        imgsync_run_fail(run, creds, why[0] ? why : imgsync_strerror(creds));
    } else if (rc) {
        imgsync_run_fail(run, rc, "cannot set up the registry's connections");
    } else if (!run->endpoint && run->vt->version < 2) {
        imgsync_run_fail(run, IMGSYNC_EINVAL, "option 'endpoint' is required");
    } else if (run->endpoint && imgsync__run_allowed_url(run, run->endpoint)) {
        imgsync_run_fail(run, IMGSYNC_EINSECURE, http_refusal);
    } else {
        run->in_callback = 1;
        rc = run->vt->start(run);
        run->in_callback = 0;
        if (rc && !run->failed)
            imgsync_run_fail(run, rc, run->refused ? run->refused : "the provider could not start");
        imgsync__dispatch_resume(run);
    }
    imgsync__run_maybe_end(run);
}

void imgsync__run_abort(imgsync_run *run, int code, const char *why)
{
    if (run->ended)
        return;
    run->started = 1;
    imgsync_run_fail(run, code, why);
    imgsync__run_maybe_end(run);
}

int imgsync__run_deadline(imgsync_run *run)
{
    imgsync_run_fail(run, IMGSYNC_ETIMEOUT, "task timeout reached");
    return IMGSYNC_ETIMEOUT;
}

int imgsync_run_fail(imgsync_run *run, int code, const char *message)
{
    if (!run || run->failed || run->ended)
        return 0;
    run->failed = 1;
    if (!code)
        code = IMGSYNC_EINTERNAL;
    imgsync__run_error(run, NULL, code, message);
    imgsync__run_set_row(run, IMGSYNC_REGISTRY_RUNNING, message ? message : imgsync_strerror(code));
    imgsync__deferrals_free(run);
    imgsync__group_cancel(run->group, IMGSYNC_ECANCELED); /* their done hooks see the run failed */
    return 0;
}

/* ---- SPI: run ------------------------------------------------------------------------------- */

int imgsync_run_mode_of(const imgsync_run *run) { return run->mode; }

const char *imgsync_run_name(const imgsync_run *run) { return run->name; }

const char *imgsync_run_option(const imgsync_run *run, const char *key) { return imgsync__options_get(&run->opts, key); }

const char *imgsync_run_endpoint(const imgsync_run *run) { return run->endpoint ? run->endpoint : ""; }

int imgsync_run_set_endpoint(imgsync_run *run, const char *url)
{
    imgsync__url u;
    if (!run || !url || imgsync__url_parse(&u, url))
        return IMGSYNC_EINVAL;
    int has_query = u.query != NULL;
    imgsync__url_clear(&u);
    if (has_query)
        return IMGSYNC_EINVAL;
    int rc = imgsync__run_allowed_url(run, url);
    if (!rc)
        rc = set_endpoint(run, url);
    if (!rc && run->group)
        rc = imgsync__group_allow_origin(run->group, run->endpoint);
    return rc;
}

int imgsync_run_allow_origin(imgsync_run *run, const char *url)
{
    if (!run || !run->group)
        return IMGSYNC_EINVAL;
    return imgsync__group_allow_origin(run->group, url);
}

int64_t imgsync_run_now_ms(const imgsync_run *run) { return imgsync__env_now(run->env); }

void imgsync_run_set_data(imgsync_run *run, void *data, void (*free_fn)(void *))
{
    release_provider_data(run);
    run->data = data;
    run->data_free = free_fn;
}

void *imgsync_run_data(const imgsync_run *run) { return run->data; }

size_t imgsync_run_repository_count(const imgsync_run *run)
{
    return imgsync__request_repo_count(run->task->req, run->name);
}

const char *imgsync_run_repository(const imgsync_run *run, size_t i)
{
    return imgsync__request_repo_at(run->task->req, run->name, i);
}

int imgsync_run_wants_repository(const imgsync_run *run, const char *repository)
{
    char *ns = repository ? imgsync__namespace_of(repository) : NULL;
    if (!ns)
        return 1; /* out of memory: list it; the core filters the rows it gets anyway */
    int r = imgsync__request_selects_repository(run->task->req, run->name, ns, repository);
    free(ns);
    return r;
}

int imgsync_run_wants_namespace(const imgsync_run *run, const char *ns)
{
    return imgsync__request_selects_namespace(run->task->req, ns ? ns : "");
}

int imgsync_run_wants_tag(const imgsync_run *run, const char *tag)
{
    return imgsync__request_selects_tag(run->task->req, tag ? tag : "");
}

int imgsync_run_wants_type(const imgsync_run *run, int type) { return imgsync__request_selects_type(run->task->req, type); }

size_t imgsync_run_namespace_hint_count(const imgsync_run *run) { return run->nns_hints; }

const char *imgsync_run_namespace_hint(const imgsync_run *run, size_t i)
{
    return i < run->nns_hints ? run->ns_hints[i] : NULL;
}

int imgsync_run_include_non_images(const imgsync_run *run) { return run->task->req->include_non_images; }

uint64_t imgsync_run_list_limit(const imgsync_run *run, int limit)
{
    const char *key = limit == IMGSYNC_LIMIT_PAGES ? "max_list_pages" : limit == IMGSYNC_LIMIT_ITEMS ? "max_list_items" : NULL;
    if (!key)
        return 0;
    long long v;
    const char *s = imgsync__options_get(&run->opts, key);
    if (s && !imgsync__parse_i64(s, 1, 1000000000, &v))
        return (uint64_t)v;
    return limit == IMGSYNC_LIMIT_PAGES ? DEFAULT_MAX_PAGES : DEFAULT_MAX_ITEMS;
}
