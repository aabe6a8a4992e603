/* Jobs and responses: the provider-facing accessors of the SPI. */
#include "job.h"

#include <stdlib.h>
#include <string.h>

#include "core/task.h"
#include "util/link.h"
#include "util/url.h"

imgsync_job *imgsync_job_new(imgsync_run *run, const char *method, const char *url)
{
    if (!run || !method || !url || (strcmp(method, "GET") && strcmp(method, "HEAD")))
        return NULL;
    imgsync_job *job = calloc(1, sizeof(*job));
    if (!job)
        return NULL;
    job->run = run;
    job->method = imgsync__strdup(method);
    job->url = url[0] == '/' ? imgsync__asprintf("%s%s", imgsync_run_endpoint(run), url) : imgsync__strdup(url);
    imgsync__buf_init(&job->resp.body);
    imgsync__url u;
    if (!job->method || !job->url || imgsync__url_parse(&u, job->url)) {
        imgsync__job_free(job);
        return NULL;
    }
    imgsync__url_clear(&u);
    return job;
}

void imgsync__response_reset(imgsync_response *r)
{
    for (size_t i = 0; i < r->nheaders; i++) {
        free(r->headers[i].name);
        free(r->headers[i].value);
    }
    free(r->headers);
    r->headers = NULL;
    r->nheaders = 0;
    imgsync__buf_reset(&r->body);
    free(r->url);
    r->url = NULL;
    free(r->next_url);
    r->next_url = NULL;
    r->next_done = 0;
    r->next_rc = 0;
    r->status = 0;
    r->error = 0;
    r->error_detail = NULL;
}

void imgsync__job_free(imgsync_job *job)
{
    if (!job)
        return;
    if (job->data_free && job->data)
        job->data_free(job->data);
    imgsync__response_reset(&job->resp);
    imgsync__buf_free(&job->resp.body);
    curl_slist_free_all(job->headers);
    curl_slist_free_all(job->sent_headers);
    free(job->method);
    free(job->url);
    free(job->target);
    free(job->repository);
    if (job->bearer) {
        memset(job->bearer, 0, strlen(job->bearer));
        free(job->bearer);
    }
    free(job->host_key);
    free(job->token_key);
    free(job);
}

void imgsync_job_free(imgsync_job *job) { imgsync__job_free(job); }

int imgsync_job_add_header(imgsync_job *job, const char *line)
{
    if (!job || !line || !strchr(line, ':') || strpbrk(line, "\r\n"))
        return IMGSYNC_EINVAL;
    struct curl_slist *l = curl_slist_append(job->headers, line);
    if (!l)
        return IMGSYNC_ENOMEM;
    job->headers = l;
    return 0;
}

int imgsync_job_set_repository(imgsync_job *job, const char *repository)
{
    if (!job)
        return IMGSYNC_EINVAL;
    return imgsync__replace_str(&job->repository, repository);
}

void imgsync_job_set_kind(imgsync_job *job, int kind) { job->kind = kind; }

void imgsync_job_set_data(imgsync_job *job, void *data, void (*free_fn)(void *))
{
    if (job->data_free && job->data)
        job->data_free(job->data);
    job->data = data;
    job->data_free = free_fn;
}

void imgsync_job_set_anonymous(imgsync_job *job, int anonymous) { job->anonymous = anonymous ? 1 : 0; }

int imgsync_job_kind(const imgsync_job *job) { return job->kind; }
void *imgsync_job_data(const imgsync_job *job) { return job->data; }
const char *imgsync_job_url(const imgsync_job *job) { return job->url; }
const char *imgsync_job_target_url(const imgsync_job *job) { return job->target ? job->target : job->url; }
const char *imgsync_job_method(const imgsync_job *job) { return job->method; }
const char *imgsync_job_repository(const imgsync_job *job) { return job->repository; }

int imgsync_response_status(const imgsync_response *r) { return r ? r->status : 0; }
int imgsync_response_error(const imgsync_response *r) { return r ? r->error : IMGSYNC_EINVAL; }

const char *imgsync_response_header(const imgsync_response *r, const char *name)
{
    if (!r || !name)
        return NULL;
    for (size_t i = r->nheaders; i-- > 0;)
        if (imgsync__strcaseeq(r->headers[i].name, name))
            return r->headers[i].value;
    return NULL;
}

const char *imgsync_response_body(const imgsync_response *r, size_t *len)
{
    if (len)
        *len = r ? r->body.len : 0;
    return r ? imgsync__buf_str(&r->body) : "";
}

const char *imgsync_response_url(const imgsync_response *r) { return r && r->url ? r->url : ""; }

int imgsync_response_next_url(const imgsync_response *cr, const char **url)
{
    if (!cr || !url)
        return IMGSYNC_EINVAL;
    imgsync_response *r = (imgsync_response *)cr; /* the cache is not part of the observable state */
    if (!r->next_done) {
        /* a server may send several Link lines: they form one comma-separated list */
        imgsync__buf all;
        imgsync__buf_init(&all);
        for (size_t i = 0; i < r->nheaders; i++) {
            if (!imgsync__strcaseeq(r->headers[i].name, "Link"))
                continue;
            if (all.len)
                imgsync__buf_appends(&all, ", ");
            imgsync__buf_appends(&all, r->headers[i].value);
        }
        if (all.oom)
            r->next_rc = IMGSYNC_ENOMEM;
        else
            r->next_rc = all.len ? imgsync__link_next(imgsync__buf_str(&all), imgsync_response_url(r), &r->next_url) : 0;
        /* resolved against the response's URL, but it must stay where the credentials were sent */
        if (!r->next_rc && r->next_url && r->request_url && !imgsync__url_same_origin(r->next_url, r->request_url)) {
            free(r->next_url);
            r->next_url = NULL;
            r->next_rc = IMGSYNC_EPROTOCOL;
        }
        imgsync__buf_free(&all);
        r->next_done = 1;
    }
    *url = r->next_rc ? NULL : r->next_url;
    return r->next_rc;
}
