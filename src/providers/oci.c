/* Provider "oci": any OCI distribution / Docker Registry HTTP API v2 registry. GET /v2/ checks
 * the connection and the credentials; the distribution walk (distribution.c) does the rest. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "imgsync/sys/provider.h"
#include "providers/common.h"
#include "providers/distribution.h"
#include "util/buf.h"

enum { K_PING = 1, K_WALK = 16 };

static int oci_check_option(const char *key, const char *value, char *err, size_t errlen)
{
    if (!strcmp(key, "resolve")) {
        int r;
        if (imgsync__dist_parse_resolve(value, &r)) {
            snprintf(err, errlen, "must be full, digest or none");
            return IMGSYNC_EINVAL;
        }
        return 0;
    }
    if (!strcmp(key, "page_size")) {
        long long n;
        if (imgsync__parse_i64(value, 1, 1000, &n)) { /* registry 2.8 refuses n above 1000 */
            snprintf(err, errlen, "must be an integer from 1 to 1000");
            return IMGSYNC_EINVAL;
        }
        return 0;
    }
    return IMGSYNC_ENOTFOUND;
}

static void walk_free(void *p) { imgsync__dist_unref(p); }

static int oci_start(imgsync_run *run)
{
    imgsync__dist_config c;
    memset(&c, 0, sizeof(c));
    c.partition = "";
    c.auth = IMGSYNC_AUTH_REGISTRY;
    c.resolve = IMGSYNC__RESOLVE_FULL;
    c.page_size = 100;
    c.kind_base = K_WALK;
    const char *v = imgsync_run_option(run, "resolve");
    if (v)
        imgsync__dist_parse_resolve(v, &c.resolve);
    long long n;
    v = imgsync_run_option(run, "page_size");
    if (v && !imgsync__parse_i64(v, 1, 1000, &n))
        c.page_size = (long)n;
    char *base = imgsync__asprintf("%s/v2", imgsync_run_endpoint(run));
    c.base = base;
    imgsync__dist *d = base ? imgsync__dist_new(&c) : NULL;
    free(base);
    if (!d)
        return IMGSYNC_ENOMEM;
    imgsync_run_set_data(run, d, walk_free);
    imgsync__pv_job ping = {"GET", "/v2/", K_PING, NULL, NULL, NULL, IMGSYNC_AUTH_REGISTRY, NULL, NULL, NULL};
    return imgsync__pv_submit(run, &ping);
}

static int on_ping(imgsync_run *run, const imgsync_job *job, const imgsync_response *resp)
{
    int status = imgsync_response_status(resp);
    if (imgsync_response_error(resp) || status == 401 || status == 403)
        return imgsync_run_fail_response(run, job, resp);
    if (status != 200) {
        char msg[160];
        snprintf(msg, sizeof(msg), "GET /v2/ gave HTTP %d: not an OCI distribution registry endpoint", status);
        imgsync_run_fail(run, status == 404 ? IMGSYNC_EUNSUPPORTED : IMGSYNC_EHTTP, msg);
        return 0;
    }
    if (imgsync_run_mode_of(run) == IMGSYNC_RUN_CHECK)
        return 0;
    imgsync__dist *d = imgsync_run_data(run);
    size_t n = imgsync_run_repository_count(run);
    if (!n)
        return imgsync__dist_catalog(run, d);
    for (size_t i = 0; i < n; i++) { /* specific repositories: no catalog walk */
        int rc = imgsync__dist_repository(run, d, imgsync_run_repository(run, i));
        if (rc)
            return rc;
    }
    return 0;
}

static int oci_on_response(imgsync_run *run, imgsync_job *job, const imgsync_response *resp)
{
    int rc;
    if (imgsync_job_kind(job) == K_PING)
        return on_ping(run, job, resp);
    if (imgsync__dist_on_response(run, job, resp, K_WALK, &rc))
        return rc;
    return IMGSYNC_EINTERNAL;
}

const imgsync_provider_vtable imgsync__oci_provider = {
    .version = IMGSYNC_PROVIDER_VTABLE_VERSION,
    .kind = "oci",
    .type = IMGSYNC_TYPE_OCI,
    .check_option = oci_check_option,
    .start = oci_start,
    .on_response = oci_on_response,
};
