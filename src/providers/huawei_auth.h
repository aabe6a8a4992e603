/* Huawei Cloud authentication, shared by the SWR providers (internal to src/providers; see
 * shared/reference/swr-jfrog-oci-api.md section 3).
 *
 * Either AK/SK ("SDK-HMAC-SHA256", signed in the sign hook over each attempt's final URL,
 * headers and body, swr_sign.h) or an IAM token obtained with username/password/domain
 * (POST {iam_endpoint}/v3/auth/tokens, answer 201 + X-Subject-Token) and sent as X-Auth-Token.
 * The token is renewed 5 minutes before it expires, and once more when the service answers 401
 * (the refused job is sent again). Jobs that need a token while none is usable are parked by the
 * provider and handed back through the config's resume callback when one arrives: this module
 * knows nothing of what a provider lists.
 *
 * Options: region (required), endpoint (default https://{api_host}.{region}.myhuaweicloud.com),
 * project_id, ak + sk (+ security_token) or username + password + domain (+ iam_endpoint,
 * default https://iam.{region}.myhuaweicloud.com). */
#ifndef IMGSYNC_PROVIDERS_HUAWEI_AUTH_H
#define IMGSYNC_PROVIDERS_HUAWEI_AUTH_H

#include <stddef.h>
#include <stdint.h>

#include "imgsync/sys/provider.h"

#define IMGSYNC__HUAWEI_CT_JSON "application/json;charset=utf-8"

/* What a provider tells the module at start (strings borrowed for the run's lifetime). */
typedef struct imgsync__huawei_auth_config {
    const char *service;  /* "SWR": named in failures ("not authorized for SWR") */
    const char *api_host; /* "swr-api": first label of the default endpoint's host */
    int token_kind;       /* job kind of the IAM token request (dispatch it to _on_token) */
    /* Submit a parked item again (it may park again); the module then releases it. */
    int (*resume)(imgsync_run *run, void *item);
    /* Drop the reference the module holds on a parked item. */
    void (*release)(void *item);
} imgsync__huawei_auth_config;

/* What a job that may be refused for its token remembers (in the provider's job data): the token
 * generation it was last signed with, and how often it was sent again after a 401. */
typedef struct imgsync__huawei_sent {
    unsigned gen;
    int replays;
} imgsync__huawei_sent;

/* The state, embedded in a provider's run state. Options are borrowed from the run. */
typedef struct imgsync__huawei_auth {
    imgsync__huawei_auth_config cfg;
    const char *region;
    const char *ak, *sk, *security_token, *project_id;
    const char *username, *password, *domain;
    int use_token;            /* IAM password authentication */
    char *iam_url;            /* {iam_endpoint}/v3/auth/tokens */
    char *token;              /* X-Auth-Token (also a run secret) */
    int64_t token_expires_ms; /* 0 = unknown */
    int token_stale;          /* the service refused it: new jobs wait for the next one */
    unsigned token_gen;       /* tokens obtained so far */
    int token_pending;        /* a token request is in flight */
    void **waiting;           /* parked items, each holding a reference */
    size_t nwaiting, capwaiting;
} imgsync__huawei_auth;

/* Check one of the shared option keys (region, iam_endpoint, project_id, ak, sk, security_token,
 * domain). 0, IMGSYNC_EINVAL (message in err), IMGSYNC_ENOTFOUND when the key is not one. */
int imgsync__huawei_auth_check_option(const char *key, const char *value, char *err, size_t errlen);

/* Read and check the options, set the run's endpoint when none is given, allow the IAM origin.
 * 0; EINVAL or EINSECURE after imgsync_run_fail (the message names the registry); ENOMEM. */
int imgsync__huawei_auth_start(imgsync_run *run, imgsync__huawei_auth *auth, const imgsync__huawei_auth_config *cfg);

/* The URL of the project id lookup, {iam_endpoint}/v3/projects?name={region} (reference 3.1), in
 * *url (malloc'd), for a service whose paths hold the project id when the option is not set; the
 * IAM origin is allowed to the run's credentialed jobs (the lookup is signed, or carries the
 * token). 0; EINVAL or EINSECURE after imgsync_run_fail; ENOMEM. */
int imgsync__huawei_auth_projects_url(imgsync_run *run, imgsync__huawei_auth *auth, char **url);

/* Release parked items, wipe the token. auth may be zeroed (never started). */
void imgsync__huawei_auth_clear(imgsync__huawei_auth *auth);

/* The vtable's sign hook: X-Auth-Token, or X-Sdk-Date (+ X-Project-Id, X-Security-Token) and the
 * AK/SK Authorization. sent (may be NULL) records the token generation. The token request itself
 * is left unsigned (its credentials are in the body). */
int imgsync__huawei_auth_sign(imgsync_run *run, const imgsync_job *job, imgsync_attempt *a,
                              imgsync__huawei_auth *auth, imgsync__huawei_sent *sent);

/* 1 when a job can be submitted now (AK/SK, or a token not about to expire nor refused), else 0:
 * then park it. */
int imgsync__huawei_auth_ready(const imgsync_run *run, const imgsync__huawei_auth *auth);

/* Park an item until a token arrives, asking for one unless a request is in flight. Takes the
 * caller's reference on item (released at once when it cannot be parked). 0, ENOMEM, or the
 * error of submitting the token request. */
int imgsync__huawei_auth_park(imgsync_run *run, imgsync__huawei_auth *auth, void *item);

/* Submit a GET of the service at url (JSON Content-Type and Accept; credentials added by the
 * sign hook) of provider kind `kind` on the scope (partition, repository; repository NULL = the
 * registry scope), with `item` as its data (released with cfg.release); or, when no token is
 * usable, park item (to be resumed). Takes the caller's reference on item, also on failure.
 * The return of imgsync_job_submit, or of parking. */
int imgsync__huawei_auth_get(imgsync_run *run, imgsync__huawei_auth *auth, const char *url, int kind, void *item,
                             const char *partition, const char *repository);

/* The answer to the token request (a job of cfg.token_kind): keep the token, resume the parked
 * items. The on_response return. */
int imgsync__huawei_auth_on_token(imgsync_run *run, imgsync__huawei_auth *auth, const imgsync_job *job,
                                  const imgsync_response *resp);

/* 1 when resp is the service refusing an IAM token for the first time for this job: submit it
 * again (it waits for a new token unless a newer one came meanwhile); else 0. */
int imgsync__huawei_auth_refused(imgsync__huawei_auth *auth, const imgsync_response *resp,
                                 imgsync__huawei_sent *sent);

/* A 401/403 from the service or IAM, or any other unexpected answer, for `what` ("GET tags").
 * 401 fails the run (wrong credentials fail everything: "rejected the credentials"); 403 or an
 * SVCSTG.SWR.403xx error_code fails the job's repository scope, or the run for a job without
 * one ("not authorized for <service>"); anything else as imgsync_run_fail_response. Only the
 * error_code's [A-Za-z0-9._-] is quoted, never the server's text. Returns 0. */
int imgsync__huawei_auth_fail_http(imgsync_run *run, const imgsync_job *job, const imgsync_response *resp,
                                   const char *what, const char *service);

/* The same classification without failing anything, for a provider that fails a part of the
 * registry itself (an SWR EE instance): the code (EAUTH for 401/403 and SVCSTG.SWR.403xx, the
 * transport error, else EHTTP) and a message into msg ("not authorized for <service>: <what>
 * answered HTTP 403, error_code '...'"; only the error_code is quoted). */
int imgsync__huawei_auth_describe(const imgsync_response *resp, const char *what, const char *service, char *msg,
                                  size_t msglen);

#endif
