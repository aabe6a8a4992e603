/* Jobs: the HTTP requests providers build (SPI). Submission is dispatch.c's. */
#include <stdlib.h>
#include <string.h>

#include "core/run.h"
#include "util/buf.h"
#include "util/url.h"

static int method_ok(const char *m)
{
    static const char *const methods[] = {"GET", "HEAD", "POST", "PUT", "DELETE"};
    for (size_t i = 0; m && i < sizeof(methods) / sizeof(methods[0]); i++)
        if (!strcmp(m, methods[i]))
            return 1;
    return 0;
}

imgsync_job *imgsync_job_new(imgsync_run *run, const char *method, const char *url)
{
    if (!run || !method_ok(method) || !url)
        return NULL;
    if (url[0] == '/' && !run->endpoint)
        return NULL; /* a path needs an endpoint to be joined to */
    imgsync_job *job = calloc(1, sizeof(*job));
    if (!job)
        return NULL;
    job->run = run;
    job->auth = run->vt->version < 2 ? IMGSYNC_AUTH_REGISTRY : IMGSYNC_AUTH_NONE;
    job->idempotent = strcmp(method, "POST") != 0;
    job->method = imgsync__strdup(method);
    job->url = url[0] == '/' ? imgsync__asprintf("%s%s", run->endpoint, url) : imgsync__strdup(url);
    imgsync__url u;
    if (!job->method || !job->url || imgsync__url_parse(&u, job->url)) {
        imgsync__job_free(job);
        return NULL;
    }
    imgsync__url_clear(&u);
    return job;
}

void imgsync__job_free(imgsync_job *job)
{
    if (!job)
        return;
    if (job->data_free && job->data)
        job->data_free(job->data);
    for (size_t i = 0; i < job->nheaders; i++)
        imgsync__wipe_free(job->headers[i]); /* X-Auth-Token and the like */
    free(job->headers);
    imgsync__wipe(job->body, job->body_len); /* an IAM login body holds a password */
    free(job->body);
    free(job->content_type);
    free(job->method);
    free(job->url);
    free(job->partition);
    free(job->repository);
    free(job);
}

void imgsync_job_free(imgsync_job *job) { imgsync__job_free(job); }

static int line_ok(const char *line)
{
    const char *colon = line ? strchr(line, ':') : NULL;
    return colon && colon > line && !strpbrk(line, "\r\n");
}

int imgsync_job_add_header(imgsync_job *job, const char *line)
{
    if (!job || !line_ok(line))
        return IMGSYNC_EINVAL;
    if (job->attempt) { /* inside prepare: this attempt only */
        char *name = imgsync__strndup(line, (size_t)(strchr(line, ':') - line));
        const char *v = strchr(line, ':') + 1;
        while (*v == ' ' || *v == '\t')
            v++;
        int rc = name ? imgsync__wire_add_header(job->attempt, name, v) : IMGSYNC_ENOMEM;
        free(name);
        return rc;
    }
    char **arr = realloc(job->headers, (job->nheaders + 1) * sizeof(*arr));
    if (!arr)
        return IMGSYNC_ENOMEM;
    job->headers = arr;
    if (!(arr[job->nheaders] = imgsync__strdup(line)))
        return IMGSYNC_ENOMEM;
    job->nheaders++;
    return 0;
}

int imgsync_job_set_body(imgsync_job *job, const char *content_type, const void *data, size_t len)
{
    if (!job || !content_type || strpbrk(content_type, "\r\n") || (!data && len) || !strcmp(job->method, "GET") ||
        !strcmp(job->method, "HEAD"))
        return IMGSYNC_EINVAL;
    void *copy = malloc(len ? len : 1);
    char *ct = imgsync__strdup(content_type);
    if (!copy || !ct) {
        free(copy);
        free(ct);
        return IMGSYNC_ENOMEM;
    }
    if (len)
        memcpy(copy, data, len);
    free(job->body);
    free(job->content_type);
    job->body = copy;
    job->body_len = len;
    job->content_type = ct;
    return 0;
}

int imgsync_job_set_auth(imgsync_job *job, int auth)
{
    if (!job || auth < IMGSYNC_AUTH_NONE || auth > IMGSYNC_AUTH_BEARER)
        return IMGSYNC_EINVAL;
    job->auth = auth;
    return 0;
}

void imgsync_job_set_anonymous(imgsync_job *job, int anonymous)
{
    if (job)
        job->auth = anonymous ? IMGSYNC_AUTH_NONE : IMGSYNC_AUTH_REGISTRY;
}

void imgsync_job_set_idempotent(imgsync_job *job, int idempotent)
{
    if (job)
        job->idempotent = idempotent ? 1 : 0;
}

int imgsync_job_set_scope(imgsync_job *job, const char *partition, const char *repository)
{
    if (!job)
        return IMGSYNC_EINVAL;
    char *p = imgsync__strdup(partition ? partition : "");
    char *r = repository ? imgsync__strdup(repository) : NULL;
    if (!p || (repository && !r)) {
        free(p);
        free(r);
        return IMGSYNC_ENOMEM;
    }
    free(job->partition);
    free(job->repository);
    job->partition = p;
    job->repository = r;
    return 0;
}

int imgsync_job_set_repository(imgsync_job *job, const char *repository)
{
    return imgsync_job_set_scope(job, "", repository);
}

void imgsync_job_set_kind(imgsync_job *job, int kind)
{
    if (job)
        job->kind = kind;
}

void imgsync_job_set_data(imgsync_job *job, void *data, void (*free_fn)(void *))
{
    if (!job)
        return;
    if (job->data_free && job->data)
        job->data_free(job->data);
    job->data = data;
    job->data_free = free_fn;
}

int imgsync_job_submit(imgsync_job *job)
{
    if (!job)
        return IMGSYNC_EINVAL;
    return imgsync__dispatch_submit(job->run, job);
}

int imgsync_job_kind(const imgsync_job *job) { return job->kind; }
void *imgsync_job_data(const imgsync_job *job) { return job->data; }
const char *imgsync_job_url(const imgsync_job *job) { return job->url; }
const char *imgsync_job_target_url(const imgsync_job *job)
{
    return job->attempt ? imgsync__wire_url(job->attempt) : job->url;
}
const char *imgsync_job_method(const imgsync_job *job) { return job->method; }
const char *imgsync_job_repository(const imgsync_job *job) { return job->repository; }
const char *imgsync_job_partition(const imgsync_job *job) { return job->partition ? job->partition : ""; }
int imgsync_job_auth(const imgsync_job *job) { return job->auth; }
