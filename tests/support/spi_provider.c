/* Test provider kinds for the SPI suites: see spi_provider.h. */
#include "spi_provider.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

spi_state_t spi_state;
static const spi_hooks *hooks;

void spi_hooks_set(const spi_hooks *h) { hooks = h; }

void spi_reset(void)
{
    memset(&spi_state, 0, sizeof(spi_state));
    hooks = NULL;
}

static int vt_start(imgsync_run *run) { return hooks && hooks->start ? hooks->start(run) : 0; }

static int vt_on_response(imgsync_run *run, imgsync_job *job, const imgsync_response *resp)
{
    return hooks && hooks->on_response ? hooks->on_response(run, job, resp) : 0;
}

static int vt_prepare(imgsync_run *run, imgsync_job *job)
{
    return hooks && hooks->prepare ? hooks->prepare(run, job) : 0;
}

static int vt_sign(imgsync_run *run, const imgsync_job *job, imgsync_attempt *a)
{
    return hooks && hooks->sign ? hooks->sign(run, job, a) : 0;
}

static int spi2_check_option(const char *key, const char *value, char *err, size_t errlen)
{
    static const char *const known[] = {"region", "api_key", "sk", "mode"};
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
        if (!strcmp(key, known[i])) {
            if (!strcmp(key, "region") && strchr(value, '/')) {
                snprintf(err, errlen, "a region has no '/'");
                return IMGSYNC_EINVAL;
            }
            return 0;
        }
    return IMGSYNC_ENOTFOUND;
}

static const int spi2_types[] = {IMGSYNC_TYPE_SWR_PRIVATE, IMGSYNC_TYPE_SWR_SHARED, 0};
static const char *const spi2_secrets[] = {"api_key", NULL};

static const imgsync_provider_vtable spi2_vtable = {
    2, SPI2_KIND, IMGSYNC_TYPE_SWR_PRIVATE, spi2_check_option, vt_start, vt_on_response, NULL, vt_sign,
    spi2_types, spi2_secrets};

/* The version-1 layout, as a provider built against the version-1 header has it: the members
 * after `prepare` do not exist. */
typedef struct spi_v1_vtable {
    unsigned int version;
    const char *kind;
    int type;
    int (*check_option)(const char *key, const char *value, char *err, size_t errlen);
    int (*start)(imgsync_run *run);
    int (*on_response)(imgsync_run *run, imgsync_job *job, const imgsync_response *resp);
    int (*prepare)(imgsync_run *run, imgsync_job *job);
} spi_v1_vtable;

static const spi_v1_vtable spi1_vtable = {1, SPI1_KIND, IMGSYNC_TYPE_JFROG, NULL, vt_start, vt_on_response, vt_prepare};

int spi_register_kinds(void)
{
    int rc = imgsync_provider_register(&spi2_vtable);
    if (!rc)
        rc = imgsync_provider_register((const imgsync_provider_vtable *)(const void *)&spi1_vtable);
    return rc;
}

static void copy(char *dst, size_t n, const char *src)
{
    snprintf(dst, n, "%s", src ? src : "");
}

void spi_note_sign(const imgsync_job *job, imgsync_attempt *a)
{
    if (spi_state.nsigns >= SPI_MAX_SIGNS)
        return;
    spi_sign_note *s = &spi_state.signs[spi_state.nsigns++];
    s->kind = imgsync_job_kind(job);
    s->attempt = imgsync_attempt_number(a);
    copy(s->method, sizeof(s->method), imgsync_attempt_method(a));
    copy(s->url, sizeof(s->url), imgsync_attempt_url(a));
    copy(s->content_type, sizeof(s->content_type), imgsync_attempt_header(a, "Content-Type"));
    copy(s->x_project, sizeof(s->x_project), imgsync_attempt_header(a, "x-project-id"));
    copy(s->host, sizeof(s->host), imgsync_attempt_header(a, "Host"));
    copy(s->user_agent, sizeof(s->user_agent), imgsync_attempt_header(a, "User-Agent"));
    copy(s->authorization, sizeof(s->authorization), imgsync_attempt_header(a, "Authorization"));
    copy(s->x_auth_token, sizeof(s->x_auth_token), imgsync_attempt_header(a, "X-Auth-Token"));
    size_t len = 0;
    const void *body = imgsync_attempt_body(a, &len);
    s->body_len = len;
    memcpy(s->body, body, len < sizeof(s->body) - 1 ? len : sizeof(s->body) - 1);
    s->nheaders = imgsync_attempt_header_count(a);
    for (size_t i = 0; i < s->nheaders && i < SPI_MAX_HEADERS; i++) {
        copy(s->hnames[i], sizeof(s->hnames[i]), imgsync_attempt_header_name(a, i));
        copy(s->hvalues[i], sizeof(s->hvalues[i]), imgsync_attempt_header_value(a, i));
    }
}

static char *dup(const char *s)
{
    char *d = malloc(strlen(s ? s : "") + 1);
    if (d)
        strcpy(d, s ? s : "");
    return d;
}

spi_task spi_task_get(replay *r, uint64_t id)
{
    spi_task out;
    memset(&out, 0, sizeof(out));
    out.state = -1;
    imgsync_task *t = NULL;
    if (imgsync_task_get(&t, replay_ctx(r), id))
        return out;
    out.state = imgsync_task_state_of(t);
    out.nregistries = imgsync_task_registry_count(t);
    if (out.nregistries) {
        out.registry_state = imgsync_task_registry_state(t, 0);
        out.registry_error = imgsync_task_registry_error(t, 0);
        out.registry_reason = dup(imgsync_task_registry_reason(t, 0));
    }
    out.nerrors = imgsync_task_error_count(t);
    for (size_t i = 0; i < out.nerrors && i < 32; i++) {
        out.error_code[i] = imgsync_task_error_code(t, i);
        out.error_message[i] = dup(imgsync_task_error_message(t, i));
        out.error_repository[i] = dup(imgsync_task_error_repository(t, i));
    }
    out.requests = imgsync_task_counter(t, IMGSYNC_COUNT_REQUESTS);
    out.retries = imgsync_task_counter(t, IMGSYNC_COUNT_RETRIES);
    out.found = imgsync_task_counter(t, IMGSYNC_COUNT_IMAGES_FOUND);
    out.added = imgsync_task_counter(t, IMGSYNC_COUNT_IMAGES_ADDED);
    out.updated = imgsync_task_counter(t, IMGSYNC_COUNT_IMAGES_UPDATED);
    out.removed = imgsync_task_counter(t, IMGSYNC_COUNT_IMAGES_REMOVED);
    out.repos_total = imgsync_task_counter(t, IMGSYNC_COUNT_REPOSITORIES_TOTAL);
    out.repos_done = imgsync_task_counter(t, IMGSYNC_COUNT_REPOSITORIES_DONE);
    out.repos_failed = imgsync_task_counter(t, IMGSYNC_COUNT_REPOSITORIES_FAILED);
    imgsync_task_free(t);
    return out;
}

void spi_task_clear(spi_task *t)
{
    free(t->registry_reason);
    for (size_t i = 0; i < t->nerrors && i < 32; i++) {
        free(t->error_message[i]);
        free(t->error_repository[i]);
    }
    memset(t, 0, sizeof(*t));
}

int spi_task_mentions(const spi_task *t, const char *needle)
{
    if (t->registry_reason && strstr(t->registry_reason, needle))
        return 1;
    for (size_t i = 0; i < t->nerrors && i < 32; i++)
        if ((t->error_message[i] && strstr(t->error_message[i], needle)) ||
            (t->error_repository[i] && strstr(t->error_repository[i], needle)))
            return 1;
    return 0;
}

const imgsync_image *spi_find_row(imgsync_iter **it, imgsync_ctx *ctx, const char *partition,
                                  const char *repository, const char *tag)
{
    *it = NULL;
    if (imgsync_iter_new(it, ctx, NULL))
        return NULL;
    const imgsync_image *im;
    while ((im = imgsync_iter_next(*it)))
        if (!strcmp(imgsync_image_partition(im), partition) && !strcmp(imgsync_image_repository(im), repository) &&
            !strcmp(imgsync_image_tag(im), tag))
            return im;
    return NULL;
}

size_t spi_count_rows(imgsync_ctx *ctx, const imgsync_request *req)
{
    imgsync_iter *it = NULL;
    size_t n = 0;
    if (imgsync_iter_new(&it, ctx, req))
        return (size_t)-1;
    while (imgsync_iter_next(it))
        n++;
    imgsync_iter_free(it);
    return n;
}
