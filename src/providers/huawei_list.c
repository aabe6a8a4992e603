/* An offset/limit paged list of a Huawei API, walked one page at a time with the shared
 * authentication (see huawei_list.h). */
#include "providers/huawei_list.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"

int imgsync__huawei_list_check_page_size(const char *value, long max, char *err, size_t errlen)
{
    long long n;
    if (!imgsync__parse_i64(value, 1, max, &n))
        return 0;
    snprintf(err, errlen, "must be an integer from 1 to %ld", max);
    return IMGSYNC_EINVAL;
}

long imgsync__huawei_list_page_size(const imgsync_run *run, long max)
{
    const char *v = imgsync_run_option(run, "page_size");
    long long n;
    if (v && *v && !imgsync__parse_i64(v, 1, max, &n))
        return (long)n;
    return max;
}

/* huawei_auth's resume callback: a parked list's page, now that a token came. */
static int resume_list(imgsync_run *run, void *item)
{
    return imgsync__huawei_list_submit(run, item);
}

int imgsync__huawei_list_start(imgsync_run *run, imgsync__huawei_auth *auth, const char *service,
                               const char *api_host, int token_kind)
{
    imgsync__huawei_auth_config cfg = {service, api_host, token_kind, resume_list, imgsync__huawei_list_unref};
    return imgsync__huawei_auth_start(run, auth, &cfg);
}

imgsync__huawei_list *imgsync__huawei_list_new(const imgsync_run *run, imgsync__huawei_auth *auth, int kind,
                                               char *base, long limit)
{
    imgsync__huawei_list *l = base ? calloc(1, sizeof(*l)) : NULL;
    if (!l) {
        free(base);
        return NULL;
    }
    l->refs = 1;
    l->kind = kind;
    l->base = base;
    l->limit = limit;
    l->total = l->first_total = -1;
    l->auth = auth;
    imgsync__pager_init(&l->pager, run);
    return l;
}

imgsync__huawei_list *imgsync__huawei_list_hold(imgsync__huawei_list *l, void *data, void (*data_free)(void *),
                                                const char *partition, const char *repository)
{
    if (!l) {
        data_free(data);
        return NULL;
    }
    l->data = data;
    l->data_free = data_free;
    l->partition = partition;
    l->repository = repository;
    return l;
}

void imgsync__huawei_list_unref(void *p)
{
    imgsync__huawei_list *l = p;
    if (!l || --l->refs > 0)
        return;
    imgsync__pager_clear(&l->pager);
    if (l->data_free)
        l->data_free(l->data);
    free(l->base);
    free(l);
}

int imgsync__huawei_list_submit(imgsync_run *run, imgsync__huawei_list *l)
{
    char *url = l->limit ? imgsync__offset_url(l->base, l->limit, l->offset) : imgsync__strdup(l->base);
    if (!url)
        return IMGSYNC_ENOMEM;
    l->refs++;
    int rc = imgsync__huawei_auth_get(run, l->auth, url, l->kind, l, l->partition, l->repository);
    free(url);
    return rc;
}

int imgsync__huawei_list_begin(imgsync_run *run, imgsync__huawei_list *l)
{
    int rc = l ? imgsync_run_scope_begin(run, l->partition, l->repository) : IMGSYNC_ENOMEM;
    if (!rc)
        rc = imgsync__huawei_list_submit(run, l);
    imgsync__huawei_list_unref(l);
    return rc;
}

/* An offset-paged list that changed while it was walked is not complete: a deletion moves later
 * items back onto a page already read, and they would be missed and their rows removed. The
 * totals tell: one lower than the first page's, a page past the total, a short page before it.
 * (A list without totals cannot tell.) EPROTOCOL with the reason in why, or 0. */
static int changed_while_walked(imgsync__huawei_list *l, size_t n, char *why, size_t whylen)
{
    if (l->total < 0)
        return 0;
    if (l->first_total < 0)
        l->first_total = l->total;
    const char *what = l->total < l->first_total                        ? "it shrank"
                       : l->offset + (int64_t)n > l->total               ? "a page goes past its total"
                       : n < (size_t)l->limit && l->offset + (int64_t)n < l->total ? "a page ended before its total"
                                                                                   : NULL;
    if (!what)
        return 0;
    snprintf(why, whylen, "the list changed while it was read (%s: total %lld, then %lld at offset %ld): not complete",
             what, (long long)l->first_total, (long long)l->total, l->offset);
    return IMGSYNC_EPROTOCOL;
}

int imgsync__huawei_list_next(imgsync_run *run, imgsync__huawei_list *l, const imgsync_job *job, size_t n,
                              char *why, size_t whylen)
{
    if (l->limit > 0 && changed_while_walked(l, n, why, whylen))
        return IMGSYNC_EPROTOCOL;
    int rc = imgsync__offset_next(&l->pager, imgsync_job_url(job), n, l->limit, l->total, &l->offset, why, whylen);
    if (rc <= 0)
        return rc;
    l->sent.replays = 0; /* a new page: it may be refused its token once, too */
    rc = imgsync__huawei_list_submit(run, l);
    return rc ? rc : 1;
}

int imgsync__huawei_list_scope_next(imgsync_run *run, imgsync__huawei_list *l, const imgsync_job *job, size_t n)
{
    char why[300] = "";
    int rc = imgsync__huawei_list_next(run, l, job, n, why, sizeof(why));
    if (rc < 0 && rc != IMGSYNC_ENOMEM) {
        imgsync_run_scope_fail(run, l->partition, l->repository, rc, why);
        return 0;
    }
    if (rc < 0)
        return rc;
    return rc == 0 ? imgsync_run_scope_listed(run, l->partition, l->repository) : 0;
}

int imgsync__huawei_list_run_next(imgsync_run *run, imgsync__huawei_list *l, const imgsync_job *job, size_t n,
                                  const char *what)
{
    char why[300] = "";
    int rc = imgsync__huawei_list_next(run, l, job, n, why, sizeof(why));
    if (rc < 0 && rc != IMGSYNC_ENOMEM) {
        char msg[400];
        snprintf(msg, sizeof(msg), "%s: %s", what, why);
        imgsync_run_fail(run, rc, msg);
        return 0;
    }
    return rc < 0 ? rc : !rc;
}

int imgsync__huawei_list_handled(imgsync_run *run, imgsync__huawei_auth *auth, imgsync_job *job,
                                 const imgsync_response *resp, int *rc)
{
    if (imgsync_job_kind(job) == auth->cfg.token_kind) {
        *rc = imgsync__huawei_auth_on_token(run, auth, job, resp);
        return 1;
    }
    imgsync__huawei_list *l = imgsync_job_data(job);
    /* an IAM token refused: get a new one once and send the page again */
    if (!imgsync__huawei_auth_refused(auth, resp, &l->sent))
        return 0;
    *rc = imgsync__huawei_list_submit(run, l);
    return 1;
}

int imgsync__huawei_list_sign(imgsync_run *run, const imgsync_job *job, imgsync_attempt *a,
                              imgsync__huawei_auth *auth)
{
    imgsync__huawei_list *l = imgsync_job_kind(job) == auth->cfg.token_kind ? NULL : imgsync_job_data(job);
    return imgsync__huawei_auth_sign(run, job, a, auth, l ? &l->sent : NULL);
}
