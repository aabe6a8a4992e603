/* Responses as providers see them (SPI), and the standard failure built from one. */
#include "core/response.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/run.h"
#include "util/buf.h"
#include "util/json.h"
#include "util/link.h"
#include "util/text.h"
#include "util/url.h"

void imgsync__response_init(imgsync_response *resp, const imgsync__eresp *r)
{
    memset(resp, 0, sizeof(*resp));
    resp->r = r;
}

void imgsync__response_clear(imgsync_response *resp)
{
    free(resp->next_url);
    resp->next_url = NULL;
}

int imgsync_response_status(const imgsync_response *resp) { return resp ? imgsync__eresp_status(resp->r) : 0; }

int imgsync_response_error(const imgsync_response *resp) { return resp ? imgsync__eresp_error(resp->r) : IMGSYNC_EINVAL; }

const char *imgsync_response_error_detail(const imgsync_response *resp)
{
    return resp ? imgsync__eresp_detail(resp->r) : "";
}

const char *imgsync_response_header(const imgsync_response *resp, const char *name)
{
    return resp && name ? imgsync__eresp_header(resp->r, name) : NULL;
}

const char *imgsync_response_body(const imgsync_response *resp, size_t *len)
{
    if (!resp) {
        if (len)
            *len = 0;
        return "";
    }
    return imgsync__eresp_body(resp->r, len);
}

const char *imgsync_response_url(const imgsync_response *resp) { return resp ? imgsync__eresp_url(resp->r) : ""; }

/* Every Link line joined: a server may send several, they form one comma-separated list. */
static int next_link(const imgsync__eresp *r, char **out)
{
    imgsync__buf all;
    imgsync__buf_init(&all);
    for (size_t i = 0; i < imgsync__eresp_header_count(r); i++) {
        if (!imgsync__strcaseeq(imgsync__eresp_header_name(r, i), "Link"))
            continue;
        if (all.len)
            imgsync__buf_appends(&all, ", ");
        imgsync__buf_appends(&all, imgsync__eresp_header_value(r, i));
    }
    int rc = all.oom ? IMGSYNC_ENOMEM : 0;
    *out = NULL;
    if (!rc && all.len)
        rc = imgsync__link_next(imgsync__buf_str(&all), imgsync__eresp_url(r), out);
    /* resolved against the response's URL, but it must stay where the credentials were sent */
    if (!rc && *out && !imgsync__url_same_origin(*out, imgsync__eresp_request_url(r))) {
        free(*out);
        *out = NULL;
        rc = IMGSYNC_EPROTOCOL;
    }
    imgsync__buf_free(&all);
    return rc;
}

int imgsync_response_next_url(const imgsync_response *cresp, const char **url)
{
    if (!cresp || !url)
        return IMGSYNC_EINVAL;
    imgsync_response *resp = (imgsync_response *)cresp; /* the cache is not observable state */
    if (!resp->next_done) {
        resp->next_rc = next_link(resp->r, &resp->next_url);
        resp->next_done = 1;
    }
    *url = resp->next_rc ? NULL : resp->next_url;
    return resp->next_rc;
}

/* ---- the standard failure ------------------------------------------------------------------ */

/* Path of a URL for messages: never the query (it could carry tokens on some registries). */
static void url_path_for_message(const char *url, char *out, size_t n)
{
    imgsync__url u;
    if (imgsync__url_parse(&u, url) == 0) {
        imgsync__text_copy(out, n, u.path);
        imgsync__url_clear(&u);
    } else {
        snprintf(out, n, "(bad URL)");
    }
}

/* A short error text from a registry's JSON error body (OCI "errors", Huawei "error_code"/
 * "error_msg", Harbor "errors", generic "code"/"message"). The secrets are taken out before the
 * texts are cut short: a secret cut in two would escape the redaction. */
static void registry_error_text(const imgsync_run *run, const imgsync_response *resp, char *out, size_t n)
{
    out[0] = '\0';
    size_t len = 0;
    const char *body = imgsync_response_body(resp, &len);
    if (len == 0 || len > 65536 || body[0] != '{')
        return;
    char err[64];
    yajl_val root = imgsync__json_parse(body, len, err, sizeof(err));
    if (!root)
        return;
    const char *code = NULL, *message = NULL;
    yajl_val errs = imgsync__json_array(root, "errors");
    if (errs && errs->u.array.len > 0) {
        code = imgsync__json_string(errs->u.array.values[0], "code");
        message = imgsync__json_string(errs->u.array.values[0], "message");
    } else if ((code = imgsync__json_string(root, "error_code")) || imgsync__json_string(root, "error_msg")) {
        message = imgsync__json_string(root, "error_msg");
    } else {
        code = imgsync__json_string(root, "code");
        message = imgsync__json_string(root, "message");
    }
    char c[48], m[128];
    char *code_clean = imgsync__run_clean(run, code ? code : "");
    char *message_clean = imgsync__run_clean(run, message ? message : "");
    imgsync__text_copy(c, sizeof(c), code_clean ? code_clean : "");
    imgsync__text_copy(m, sizeof(m), message_clean ? message_clean : "");
    free(code_clean);
    free(message_clean);
    if (c[0] || m[0])
        snprintf(out, n, "%s%s%s", c, c[0] && m[0] ? " " : "", m);
    imgsync__json_free(root);
}

int imgsync_run_fail_response(imgsync_run *run, const imgsync_job *job, const imgsync_response *resp)
{
    char path[256], detail[200], msg[700];
    url_path_for_message(job->url, path, sizeof(path));
    int status = imgsync_response_status(resp);
    const char *why = imgsync_response_error_detail(resp);
    int code;
    if (imgsync_response_error(resp)) {
        code = imgsync_response_error(resp);
        snprintf(msg, sizeof(msg), "%s %s: %s%s%s%s", job->method, path, imgsync_strerror(code), why[0] ? " (" : "",
                 why, why[0] ? ")" : "");
    } else {
        code = (status == 401 || status == 403) ? IMGSYNC_EAUTH : IMGSYNC_EHTTP;
        registry_error_text(run, resp, detail, sizeof(detail));
        snprintf(msg, sizeof(msg), "%s %s gave HTTP %d%s%s%s%s%s", job->method, path, status,
                 code == IMGSYNC_EAUTH ? " (credentials rejected or access denied)" : "", detail[0] ? ": " : "",
                 detail, why[0] ? "; " : "", why);
    }
    if (job->repository)
        imgsync_run_scope_fail(run, job->partition, job->repository, code, msg);
    else
        imgsync_run_fail(run, code, msg);
    return code;
}
