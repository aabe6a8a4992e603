/* Huawei Cloud authentication (AK/SK signing, IAM password token) and failure classification,
 * shared by the SWR providers: see huawei_auth.h. */
#include "providers/huawei_auth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "providers/common.h"
#include "providers/swr_sign.h"
#include "util/buf.h"
#include "util/json.h"
#include "util/timeutil.h"
#include "util/url.h"

#define TOKEN_MARGIN_MS (5 * 60 * 1000) /* a token is renewed 5 minutes before it expires */
#define KEPT_TOKEN "iam_token"          /* the token kept across syncs (imgsync_run_keep_secret) */

/* ---- options ------------------------------------------------------------------------------ */

static int dns_label_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 63 || s[0] == '-' || s[n - 1] == '-')
        return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '-'))
            return 0;
    return 1;
}

/* Bytes that may go in a header value or a header parameter (AK: no space, ',', ';', '='). */
static int token_chars_ok(const char *s, int strict)
{
    if (!*s)
        return 0;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c < 0x21 || c == 0x7f || (strict && (c == ',' || c == ';' || c == '=')))
            return 0;
    }
    return 1;
}

/* Each checker: NULL when the value is good, else the message. */
static const char *check_region(const char *value)
{
    return dns_label_ok(value) ? NULL : "must be a region name such as cn-north-4 (a DNS label)";
}

static const char *check_iam_endpoint(const char *value)
{
    imgsync__url u;
    if (imgsync__url_parse(&u, value))
        return "is not an http(s) URL without credentials";
    int has_query = u.query != NULL;
    imgsync__url_clear(&u);
    return has_query ? "must not have a query" : NULL;
}

static const char *check_project_id(const char *value)
{
    for (const char *p = value; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '-' ||
              *p == '_'))
            return "must be a project id (letters, digits, '-', '_')";
    return !*value || strlen(value) > 64 ? "must be 1 to 64 characters" : NULL;
}

static const char *check_ak(const char *value)
{
    return token_chars_ok(value, 1) ? NULL : "must be a non-empty access key without spaces, ',', ';' or '='";
}

static const char *check_security_token(const char *value)
{
    return token_chars_ok(value, 0) ? NULL : "must be non-empty, without spaces or control characters";
}

/* sk and domain: anything on one line (the SK is only ever an HMAC key). */
static const char *check_one_line(const char *value)
{
    return !*value || strpbrk(value, "\r\n") ? "must be non-empty, on one line" : NULL;
}

static const struct {
    const char *key;
    const char *(*check)(const char *value);
} option_checks[] = {
    {"region", check_region}, {"iam_endpoint", check_iam_endpoint},     {"project_id", check_project_id},
    {"ak", check_ak},         {"security_token", check_security_token}, {"sk", check_one_line},
    {"domain", check_one_line},
};

int imgsync__huawei_auth_check_option(const char *key, const char *value, char *err, size_t errlen)
{
    for (size_t i = 0; i < sizeof(option_checks) / sizeof(option_checks[0]); i++) {
        if (strcmp(key, option_checks[i].key) != 0)
            continue;
        const char *msg = option_checks[i].check(value);
        if (!msg)
            return 0;
        snprintf(err, errlen, "%s", msg);
        return IMGSYNC_EINVAL;
    }
    return IMGSYNC_ENOTFOUND;
}

/* ---- start -------------------------------------------------------------------------------- */

static const char *opt(const imgsync_run *run, const char *key)
{
    const char *v = imgsync_run_option(run, key);
    return v && *v ? v : NULL;
}

static int config_error(imgsync_run *run, const char *msg)
{
    char full[300];
    snprintf(full, sizeof(full), "registry '%s': %s", imgsync_run_name(run), msg);
    imgsync_run_fail(run, IMGSYNC_EINVAL, full);
    return IMGSYNC_EINVAL;
}

/* Exactly one complete set of credentials. 0 or EINVAL (after config_error). */
static int read_credentials(imgsync_run *run, imgsync__huawei_auth *auth)
{
    auth->ak = opt(run, "ak");
    auth->sk = opt(run, "sk");
    auth->security_token = opt(run, "security_token");
    auth->project_id = opt(run, "project_id");
    auth->username = opt(run, "username");
    auth->password = opt(run, "password");
    auth->domain = opt(run, "domain");
    int aksk = auth->ak || auth->sk, pw = auth->username || auth->password || auth->domain;
    if (aksk && pw)
        return config_error(run, "give either ak + sk or username + password + domain, not both");
    if (aksk && !(auth->ak && auth->sk))
        return config_error(run, "AK/SK authentication needs both 'ak' and 'sk'");
    if (pw && !(auth->username && auth->password && auth->domain))
        return config_error(run, "IAM password authentication needs 'username', 'password' and 'domain'");
    if (!aksk && !pw)
        return config_error(run, "no credentials: set ak + sk, or username + password + domain");
    if (auth->security_token && !aksk)
        return config_error(run, "'security_token' goes with temporary AK/SK ('ak' + 'sk')");
    auth->use_token = pw;
    return 0;
}

/* No endpoint given: the region's public one. */
static int default_endpoint(imgsync_run *run, const imgsync__huawei_auth *auth)
{
    if (imgsync_run_endpoint(run)[0])
        return 0;
    char *ep = imgsync__asprintf("https://%s.%s.myhuaweicloud.com", auth->cfg.api_host, auth->region);
    int rc = ep ? imgsync_run_set_endpoint(run, ep) : IMGSYNC_ENOMEM;
    free(ep);
    if (!rc || rc == IMGSYNC_ENOMEM)
        return rc;
    char msg[100];
    snprintf(msg, sizeof(msg), "cannot derive the %s endpoint from 'region'", auth->cfg.service);
    return config_error(run, msg);
}

/* {iam_endpoint}/v3/auth/tokens, whose origin credentialed jobs (the password) may go to. */
static int iam_url(imgsync_run *run, imgsync__huawei_auth *auth)
{
    const char *iam = opt(run, "iam_endpoint");
    char *base = iam ? imgsync__strdup(iam) : imgsync__asprintf("https://iam.%s.myhuaweicloud.com", auth->region);
    if (base) {
        size_t len = strlen(base);
        while (len && base[len - 1] == '/')
            base[--len] = '\0';
    }
    auth->iam_url = base ? imgsync__asprintf("%s/v3/auth/tokens", base) : NULL;
    free(base);
    if (!auth->iam_url)
        return IMGSYNC_ENOMEM;
    int rc = imgsync_run_allow_origin(run, auth->iam_url);
    if (rc == IMGSYNC_EINSECURE)
        return imgsync_run_fail(run, rc, "iam_endpoint: plain http is accepted only for loopback hosts or with "
                                         "allow_http=true"),
               rc;
    if (rc)
        return rc == IMGSYNC_ENOMEM ? rc : config_error(run, "option 'iam_endpoint' is not a usable URL");
    return 0;
}

static int token_fresh(const imgsync__huawei_auth *auth, int64_t now);

/* A token an earlier sync of this registry (same options) obtained and kept, while it has more
 * than the renewal margin left: IAM is asked again only when it runs out. */
static int reuse_token(imgsync_run *run, imgsync__huawei_auth *auth)
{
    int64_t expires = 0;
    const char *kept = imgsync_run_kept_secret(run, KEPT_TOKEN, &expires);
    imgsync__huawei_auth probe = {.token = (char *)kept, .token_expires_ms = expires};
    if (!kept || !token_fresh(&probe, imgsync_run_now_ms(run)))
        return 0;
    if (!(auth->token = imgsync__strdup(kept)))
        return IMGSYNC_ENOMEM;
    auth->token_expires_ms = expires;
    auth->token_gen++;
    return 0;
}

int imgsync__huawei_auth_start(imgsync_run *run, imgsync__huawei_auth *auth, const imgsync__huawei_auth_config *cfg)
{
    auth->cfg = *cfg;
    auth->region = opt(run, "region");
    if (!auth->region)
        return config_error(run, "option 'region' is required (e.g. cn-north-4)");
    int rc = read_credentials(run, auth);
    if (!rc)
        rc = default_endpoint(run, auth);
    if (!rc && auth->use_token)
        rc = iam_url(run, auth);
    if (!rc && auth->use_token)
        rc = reuse_token(run, auth);
    return rc;
}

int imgsync__huawei_auth_projects_url(imgsync_run *run, imgsync__huawei_auth *auth, char **url)
{
    static const char tokens[] = "/v3/auth/tokens";
    *url = NULL;
    int rc = auth->iam_url ? 0 : iam_url(run, auth); /* AK/SK runs have none yet */
    if (rc)
        return rc;
    int n = (int)(strlen(auth->iam_url) - (sizeof(tokens) - 1));
    *url = imgsync__asprintf("%.*s/v3/projects?name=%s", n, auth->iam_url, auth->region);
    return *url ? 0 : IMGSYNC_ENOMEM;
}

void imgsync__huawei_auth_clear(imgsync__huawei_auth *auth)
{
    for (size_t i = 0; i < auth->nwaiting; i++)
        auth->cfg.release(auth->waiting[i]);
    free(auth->waiting);
    if (auth->token)
        imgsync__wipe_free(auth->token);
    free(auth->iam_url);
}

/* ---- signing ------------------------------------------------------------------------------ */

/* Sign the attempt as it stands (date and optional headers already added) with the AK/SK. */
static int add_aksk_authorization(imgsync_attempt *a, const imgsync__huawei_auth *auth, const char *date)
{
    size_t n = imgsync_attempt_header_count(a);
    const char **names = calloc(n ? n : 1, sizeof(*names));
    const char **values = calloc(n ? n : 1, sizeof(*values));
    char *authorization = NULL;
    int rc = names && values ? 0 : IMGSYNC_ENOMEM;
    for (size_t i = 0; !rc && i < n; i++) {
        names[i] = imgsync_attempt_header_name(a, i);
        values[i] = imgsync_attempt_header_value(a, i);
    }
    if (!rc) {
        size_t blen = 0;
        const void *body = imgsync_attempt_body(a, &blen);
        imgsync__swr_sign_req req = {imgsync_attempt_method(a), imgsync_attempt_url(a), names, values, n, body, blen,
                                     auth->ak, auth->sk, date};
        rc = imgsync__swr_sign(&req, &authorization);
    }
    if (!rc)
        rc = imgsync_attempt_add_header(a, "Authorization", authorization);
    if (authorization)
        imgsync__wipe_free(authorization);
    free(names);
    free(values);
    return rc;
}

static int sign_aksk(imgsync_run *run, imgsync_attempt *a, const imgsync__huawei_auth *auth)
{
    char date[IMGSYNC__SWR_SDK_DATE_LEN + 1];
    int rc = imgsync__swr_sdk_date(imgsync_run_now_ms(run), date);
    if (!rc)
        rc = imgsync_attempt_add_header(a, "X-Sdk-Date", date);
    if (!rc && auth->project_id)
        rc = imgsync_attempt_add_header(a, "X-Project-Id", auth->project_id);
    if (!rc && auth->security_token)
        rc = imgsync_attempt_add_header(a, "X-Security-Token", auth->security_token);
    return rc ? rc : add_aksk_authorization(a, auth, date);
}

int imgsync__huawei_auth_sign(imgsync_run *run, const imgsync_job *job, imgsync_attempt *a,
                              imgsync__huawei_auth *auth, imgsync__huawei_sent *sent)
{
    if (imgsync_job_kind(job) == auth->cfg.token_kind)
        return 0; /* the IAM request carries its credentials in the body */
    if (!auth->use_token)
        return sign_aksk(run, a, auth);
    if (sent)
        sent->gen = auth->token_gen; /* a 401 to an older token is not this token's fault */
    return auth->token ? imgsync_attempt_add_header(a, "X-Auth-Token", auth->token) : IMGSYNC_EAUTH;
}

/* ---- IAM token ---------------------------------------------------------------------------- */

static int token_fresh(const imgsync__huawei_auth *auth, int64_t now)
{
    return auth->token && !auth->token_stale &&
           (auth->token_expires_ms == 0 || now < auth->token_expires_ms - TOKEN_MARGIN_MS);
}

int imgsync__huawei_auth_ready(const imgsync_run *run, const imgsync__huawei_auth *auth)
{
    return !auth->use_token || token_fresh(auth, imgsync_run_now_ms(run));
}

/* JSON string literal of s (quotes included) appended to b. 0 or ENOMEM. Not yajl_gen (as
 * request_json.c): the IAM body holds the password, and only an imgsync__buf marked secret is
 * wiped when freed. */
static int json_quote(imgsync__buf *b, const char *s)
{
    int rc = imgsync__buf_appendc(b, '"');
    for (; !rc && *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            rc = imgsync__buf_appendc(b, '\\');
            if (!rc)
                rc = imgsync__buf_appendc(b, (char)c);
        } else if (c < 0x20 || c == 0x7f) {
            rc = imgsync__buf_printf(b, "\\u%04x", c);
        } else {
            rc = imgsync__buf_appendc(b, (char)c);
        }
    }
    if (!rc)
        rc = imgsync__buf_appendc(b, '"');
    return rc;
}

/* The password method's request body, scoped to the region's project, into b (marked secret):
 * JSON text around the four quoted values. */
static int token_body(imgsync__buf *b, const imgsync__huawei_auth *auth)
{
    static const char *const text[] = {
        "{\"auth\":{\"identity\":{\"methods\":[\"password\"],\"password\":{\"user\":{\"name\":",
        ",\"password\":", ",\"domain\":{\"name\":", "}}}},\"scope\":{\"project\":{\"name\":"};
    const char *const value[] = {auth->username, auth->password, auth->domain, auth->region};
    int rc = 0;
    for (size_t i = 0; i < 4 && !rc; i++) {
        rc = imgsync__buf_appends(b, text[i]);
        if (!rc)
            rc = json_quote(b, value[i]);
    }
    return rc ? rc : imgsync__buf_appends(b, "}}}}");
}

static int request_token(imgsync_run *run, imgsync__huawei_auth *auth)
{
    imgsync__buf b;
    imgsync__buf_init(&b);
    b.secret = 1; /* it holds the password */
    int rc = token_body(&b, auth);
    imgsync_job *job = rc ? NULL : imgsync_job_new(run, "POST", auth->iam_url);
    if (!job)
        rc = rc ? rc : IMGSYNC_ENOMEM;
    if (!rc) {
        imgsync_job_set_kind(job, auth->cfg.token_kind);
        imgsync_job_set_idempotent(job, 1); /* a token request may be retried */
        rc = imgsync_job_set_body(job, IMGSYNC__HUAWEI_CT_JSON, b.data, b.len);
        if (!rc)
            rc = imgsync_job_set_auth(job, IMGSYNC_AUTH_PROVIDER); /* the password only to IAM's origin */
        if (rc)
            imgsync_job_free(job);
        else
            rc = imgsync_job_submit(job);
    }
    imgsync__buf_free(&b);
    if (!rc)
        auth->token_pending = 1;
    return rc;
}

int imgsync__huawei_auth_park(imgsync_run *run, imgsync__huawei_auth *auth, void *item)
{
    if (auth->nwaiting == auth->capwaiting) {
        size_t cap = auth->capwaiting ? auth->capwaiting * 2 : 8;
        void **grown = realloc(auth->waiting, cap * sizeof(*grown));
        if (!grown) {
            auth->cfg.release(item);
            return IMGSYNC_ENOMEM;
        }
        auth->waiting = grown;
        auth->capwaiting = cap;
    }
    auth->waiting[auth->nwaiting++] = item;
    return auth->token_pending ? 0 : request_token(run, auth);
}

int imgsync__huawei_auth_get(imgsync_run *run, imgsync__huawei_auth *auth, const char *url, int kind, void *item,
                             const char *partition, const char *repository)
{
    if (!imgsync__huawei_auth_ready(run, auth))
        return imgsync__huawei_auth_park(run, auth, item);
    imgsync__pv_job j = {"GET", url, kind, partition, repository, "Accept: application/json", IMGSYNC_AUTH_PROVIDER,
                         item, auth->cfg.release, "Content-Type: " IMGSYNC__HUAWEI_CT_JSON};
    return imgsync__pv_submit(run, &j);
}

/* Keep the token of a 201 (registered as a run secret) and its expiry. */
static int keep_token(imgsync_run *run, imgsync__huawei_auth *auth, const imgsync_response *resp, const char *tok)
{
    int rc = imgsync_run_add_secret(run, tok);
    if (rc)
        return rc;
    if (auth->token)
        imgsync__wipe_free(auth->token);
    if (!(auth->token = imgsync__strdup(tok)))
        return IMGSYNC_ENOMEM;
    auth->token_expires_ms = 0;
    auth->token_stale = 0;
    auth->token_gen++;
    yajl_val root = imgsync__pv_json_body(resp);
    int64_t ms;
    const char *exp = imgsync__json_string(imgsync__json_member(root, "token"), "expires_at");
    if (exp && !imgsync__parse_rfc3339_ms(exp, &ms))
        auth->token_expires_ms = ms;
    imgsync__json_free(root);
    /* a token already expired (clock skew): use it once rather than loop asking for new ones */
    if (auth->token_expires_ms && !token_fresh(auth, imgsync_run_now_ms(run)))
        auth->token_expires_ms = 0;
    /* kept for the next syncs only when its end is known; a refused one is replaced by the next */
    return imgsync_run_keep_secret(run, KEPT_TOKEN, auth->token, auth->token_expires_ms);
}

/* Hand every parked item back to the provider (they may park again: a new list is started). */
static int resume_parked(imgsync_run *run, imgsync__huawei_auth *auth)
{
    void **waiting = auth->waiting;
    size_t n = auth->nwaiting;
    auth->waiting = NULL;
    auth->nwaiting = auth->capwaiting = 0;
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        if (!rc)
            rc = auth->cfg.resume(run, waiting[i]);
        auth->cfg.release(waiting[i]);
    }
    free(waiting);
    return rc;
}

int imgsync__huawei_auth_on_token(imgsync_run *run, imgsync__huawei_auth *auth, const imgsync_job *job,
                                  const imgsync_response *resp)
{
    auth->token_pending = 0;
    if (imgsync_response_error(resp) || imgsync_response_status(resp) != 201)
        return imgsync__huawei_auth_fail_http(run, job, resp, "IAM (POST /v3/auth/tokens)", auth->cfg.service);
    const char *tok = imgsync_response_header(resp, "X-Subject-Token");
    if (!tok || !token_chars_ok(tok, 0)) {
        imgsync_run_fail(run, IMGSYNC_EPROTOCOL, "IAM answered 201 without a usable X-Subject-Token header");
        return 0;
    }
    int rc = keep_token(run, auth, resp, tok);
    return rc ? rc : resume_parked(run, auth);
}

int imgsync__huawei_auth_refused(imgsync__huawei_auth *auth, const imgsync_response *resp,
                                 imgsync__huawei_sent *sent)
{
    if (!auth->use_token || imgsync_response_error(resp) || imgsync_response_status(resp) != 401 ||
        sent->replays != 0)
        return 0;
    sent->replays++;
    /* a newer token came meanwhile: the job is just sent again with it; else jobs already queued
     * keep the old token and replay the same way */
    if (sent->gen == auth->token_gen)
        auth->token_stale = 1;
    return 1;
}

/* ---- failures ----------------------------------------------------------------------------- */

/* The error_code of an SWR/IAM error body (also IAM's {"error":{"code"}}), copied to out
 * ("" when none; only [A-Za-z0-9._-] kept, so nothing of the server's text leaks through). */
static void error_code_of(const imgsync_response *resp, char *out, size_t outlen)
{
    out[0] = '\0';
    yajl_val root = imgsync__pv_json_body(resp);
    const char *code = imgsync__json_string(root, "error_code");
    if (!code)
        code = imgsync__json_string(imgsync__json_member(root, "error"), "code");
    if (!code)
        code = imgsync__json_string(root, "code");
    size_t n = 0;
    for (; code && *code && n + 1 < outlen; code++) {
        char c = *code;
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
            c == '-')
            out[n++] = c;
    }
    out[n] = '\0';
    imgsync__json_free(root);
}

/* 401 or 403 (an SVCSTG.SWR.403xx error_code counts as 403 whatever the status), else 0. */
static int auth_status(const imgsync_response *resp, const char *code)
{
    if (imgsync_response_error(resp))
        return 0;
    int status = imgsync_response_status(resp);
    if (status == 401 || status == 403)
        return status;
    return strncmp(code, "SVCSTG.SWR.403", 14) == 0 ? 403 : 0;
}

/* Wrong credentials fail everything. */
static void fail_credentials(imgsync_run *run, const char *what, const char *code)
{
    char msg[400];
    snprintf(msg, sizeof(msg), "registry '%s': %s rejected the credentials (HTTP 401%s%s%s); check the %s",
             imgsync_run_name(run), what, code[0] ? ", error_code '" : "", code, code[0] ? "'" : "",
             opt(run, "ak") ? "AK/SK" : "username, password and domain");
    imgsync_run_fail(run, IMGSYNC_EAUTH, msg);
}

/* Credentials without the permission: the job's repository alone, or the registry. */
static void fail_permission(imgsync_run *run, const imgsync_job *job, const imgsync_response *resp,
                            const char *what, const char *service, const char *code)
{
    const char *repo = imgsync_job_repository(job);
    char msg[400];
    snprintf(msg, sizeof(msg), "registry '%s' is not authorized for %s: %s answered HTTP %d%s%s%s%s%s",
             imgsync_run_name(run), service, what, imgsync_response_status(resp), code[0] ? ", error_code '" : "",
             code, code[0] ? "'" : "", repo ? " for repository " : "", repo ? repo : "");
    if (repo)
        imgsync_run_scope_fail(run, imgsync_job_partition(job), repo, IMGSYNC_EAUTH, msg);
    else
        imgsync_run_fail(run, IMGSYNC_EAUTH, msg);
}

int imgsync__huawei_auth_fail_http(imgsync_run *run, const imgsync_job *job, const imgsync_response *resp,
                                   const char *what, const char *service)
{
    char code[80];
    error_code_of(resp, code, sizeof(code));
    int status = auth_status(resp, code);
    if (status == 401)
        fail_credentials(run, what, code);
    else if (status == 403)
        fail_permission(run, job, resp, what, service, code);
    else
        imgsync_run_fail_response(run, job, resp);
    return 0;
}

int imgsync__huawei_auth_describe(const imgsync_response *resp, const char *what, const char *service, char *msg,
                                  size_t msglen)
{
    int err = imgsync_response_error(resp);
    if (err) {
        snprintf(msg, msglen, "%s failed: %s", what, imgsync_response_error_detail(resp));
        return err;
    }
    char code[80];
    error_code_of(resp, code, sizeof(code));
    int status = auth_status(resp, code);
    snprintf(msg, msglen, "%s%s%s%s answered HTTP %d%s%s%s", status ? "not authorized for " : "",
             status ? service : "", status ? ": " : "", what, imgsync_response_status(resp),
             code[0] ? ", error_code '" : "", code, code[0] ? "'" : "");
    return status ? IMGSYNC_EAUTH : IMGSYNC_EHTTP;
}
