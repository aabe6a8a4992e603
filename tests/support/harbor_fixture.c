/* Harbor emulator test fixture: see harbor_fixture.h. */
#include "harbor_fixture.h"

#include <curl/curl.h>
#include <yajl/yajl_tree.h>

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h" /* the library's own string helpers (tests link it statically) */

#define DEFAULT_SCRIPT "tests/emulators/harbor_emulator.py"
#define MAX_DIFF_LINES 80
#define TAG_PAGE 100

int hf_start(ef_emulator *e, const char *dataset, const char *generate, const char *overlay,
             const char *const *extra_args)
{
    const char *s = getenv("IMGSYNC_HARBOR_EMULATOR");

    return ef_start(e, s && *s ? s : DEFAULT_SCRIPT, dataset, generate, overlay, extra_args);
}

int hf_push(const ef_emulator *e, const char *json) { return ef_control(e, "POST", "/_emulator/push", json, NULL); }

static void row_clear(hf_row *r)
{
    free(r->repository);
    free(r->tag);
    free(r->namespace_);
    free(r->digest);
    free(r->media_type);
    free(r->artifact_type);
}

int hf_rows_add(hf_rows *rows, const char *repository, const char *tag, const char *namespace_,
                const char *digest, const char *media_type, const char *artifact_type, int64_t size,
                int64_t update_ms, int multi_arch)
{
    hf_row *v = realloc(rows->v, (rows->n + 1) * sizeof *v), *row;

    if (v == NULL)
        return -1;
    rows->v = v;
    row = &v[rows->n];
    row->repository = imgsync__strdup(repository ? repository : "");
    row->tag = imgsync__strdup(tag ? tag : "");
    row->namespace_ = imgsync__strdup(namespace_ ? namespace_ : "");
    row->digest = imgsync__strdup(digest ? digest : "");
    row->media_type = imgsync__strdup(media_type ? media_type : "");
    row->artifact_type = imgsync__strdup(artifact_type ? artifact_type : "");
    row->size = size;
    row->update_ms = update_ms;
    row->multi_arch = multi_arch ? 1 : 0;
    if (!row->repository || !row->tag || !row->namespace_ || !row->digest || !row->media_type ||
        !row->artifact_type) {
        row_clear(row);
        return -1;
    }
    rows->n++;
    return 0;
}

void hf_rows_free(hf_rows *rows)
{
    size_t i;

    if (rows == NULL)
        return;
    for (i = 0; i < rows->n; i++)
        row_clear(&rows->v[i]);
    free(rows->v);
    rows->v = NULL;
    rows->n = 0;
}

int hf_rows_append(hf_rows *dst, const hf_rows *src, int (*keep)(const hf_row *row, void *arg), void *arg)
{
    size_t i;

    for (i = 0; i < src->n; i++) {
        const hf_row *r = &src->v[i];
        if (keep != NULL && !keep(r, arg))
            continue;
        if (hf_rows_add(dst, r->repository, r->tag, r->namespace_, r->digest, r->media_type, r->artifact_type,
                        r->size, r->update_ms, r->multi_arch) != 0) {
            ef_error("out of memory");
            return -1;
        }
    }
    return 0;
}

int hf_rows_filter(hf_rows *out, const hf_rows *in, int (*keep)(const hf_row *row, void *arg), void *arg)
{
    out->v = NULL;
    out->n = 0;
    if (hf_rows_append(out, in, keep, arg) != 0) {
        hf_rows_free(out);
        return -1;
    }
    return 0;
}

const hf_row *hf_rows_find(const hf_rows *rows, const char *repository, const char *tag)
{
    size_t i;

    for (i = 0; i < rows->n; i++)
        if (strcmp(rows->v[i].repository, repository) == 0 && strcmp(rows->v[i].tag, tag) == 0)
            return &rows->v[i];
    return NULL;
}

size_t hf_rows_count_repository(const hf_rows *rows, const char *repository)
{
    size_t i, n = 0;

    for (i = 0; i < rows->n; i++)
        n += strcmp(rows->v[i].repository, repository) == 0;
    return n;
}

size_t hf_rows_count_namespace(const hf_rows *rows, const char *namespace_)
{
    size_t i, n = 0;

    for (i = 0; i < rows->n; i++)
        n += strcmp(rows->v[i].namespace_, namespace_) == 0;
    return n;
}

size_t hf_rows_count_repositories(const hf_rows *rows)
{
    size_t i, j, n = 0;

    for (i = 0; i < rows->n; i++) {
        for (j = 0; j < i; j++)
            if (strcmp(rows->v[j].repository, rows->v[i].repository) == 0)
                break;
        n += j == i;
    }
    return n;
}

static int name_listed(const char *name, const char *const *names)
{
    size_t i;

    for (i = 0; names != NULL && names[i] != NULL; i++)
        if (strcmp(names[i], name) == 0)
            return 1;
    return 0;
}

int hf_in_namespaces(const hf_row *row, void *arg) { return name_listed(row->namespace_, (const char *const *)arg); }
int hf_not_in_namespaces(const hf_row *row, void *arg) { return !hf_in_namespaces(row, arg); }
int hf_in_repository(const hf_row *row, void *arg) { return strcmp(row->repository, (const char *)arg) == 0; }
int hf_not_in_repository(const hf_row *row, void *arg) { return !hf_in_repository(row, arg); }

/* ---- the expected inventory ------------------------------------------------------------------------ */

#define MT_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define MT_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define NO_TIME INT64_MIN

/* Push times of the tags of one project, from GET /api/v2.0/projects/{p}/artifacts (admin). */
static int fill_tag_times(const ef_emulator *e, const char *project, hf_rows *rows)
{
    CURL *c = curl_easy_init();
    char *esc = c ? curl_easy_escape(c, project, 0) : NULL;
    int page, rc = -1;

    if (esc == NULL) {
        ef_error("out of memory");
        goto out;
    }
    for (page = 1; page < 10000; page++) {
        char *target = imgsync__asprintf("/api/v2.0/projects/%s/artifacts?page=%d&page_size=%d&with_tag=true", esc, page,
                                   TAG_PAGE);
        char *text = NULL;
        long status = 0;
        yajl_val root;
        size_t i, j, k, len;
        if (target == NULL) {
            ef_error("out of memory");
            goto out;
        }
        if (ef_http(e, "GET", target, NULL, HF_ADMIN_USER, HF_ADMIN_PASSWORD, "X-Is-Resource-Name: true", &status,
                    &text) != 0 ||
            status != 200) {
            ef_error("GET %s (as admin) gave HTTP %ld: %.300s", target, status, text ? text : "");
            free(target);
            free(text);
            goto out;
        }
        root = ef_parse_json(text, target);
        free(text);
        if (root == NULL || !YAJL_IS_ARRAY(root)) {
            ef_error("GET %s: not a JSON array", target);
            free(target);
            yajl_tree_free(root);
            goto out;
        }
        free(target);
        len = root->u.array.len;
        for (i = 0; i < len; i++) {
            yajl_val a = root->u.array.values[i], repo = ef_member(a, "repository_name", yajl_t_string);
            yajl_val tags = ef_member(a, "tags", yajl_t_array);
            for (j = 0; repo != NULL && tags != NULL && j < tags->u.array.len; j++) {
                yajl_val t = tags->u.array.values[j], name = ef_member(t, "name", yajl_t_string);
                yajl_val pt = ef_member(t, "push_time", yajl_t_string);
                int64_t ms;
                if (name == NULL || pt == NULL || ef_parse_time_ms(ef_str(pt), &ms) != 0)
                    continue;
                for (k = 0; k < rows->n; k++)
                    if (strcmp(rows->v[k].repository, ef_str(repo)) == 0 &&
                        strcmp(rows->v[k].tag, ef_str(name)) == 0)
                        rows->v[k].update_ms = ms;
            }
        }
        yajl_tree_free(root);
        if (len < TAG_PAGE)
            break;
    }
    rc = 0;
out:
    curl_free(esc);
    if (c != NULL)
        curl_easy_cleanup(c);
    return rc;
}

int hf_expected(const ef_emulator *e, hf_rows *out) { return hf_expected_ex(e, out, 0); }

int hf_expected_ex(const ef_emulator *e, hf_rows *out, unsigned flags)
{
    char *text = NULL;
    yajl_val root;
    size_t i, j;

    out->v = NULL;
    out->n = 0;
    if (ef_control(e, "GET", "/_emulator/inventory", NULL, &text) != 0)
        return -1;
    root = ef_parse_json(text, "GET /_emulator/inventory");
    free(text);
    if (root == NULL || !YAJL_IS_ARRAY(root)) {
        ef_error("GET /_emulator/inventory: not a JSON array");
        yajl_tree_free(root);
        return -1;
    }
    for (i = 0; i < root->u.array.len; i++) {
        yajl_val a = root->u.array.values[i];
        yajl_val repo = ef_member(a, "repository", yajl_t_string), digest = ef_member(a, "digest", yajl_t_string);
        yajl_val type = ef_member(a, "type", yajl_t_string), mt = ef_member(a, "media_type", yajl_t_string);
        yajl_val size = ef_member(a, "size", yajl_t_number), listed = ef_member(a, "listed", yajl_t_any);
        yajl_val tags = ef_member(a, "tags", yajl_t_array), pushed = ef_member(a, "push_time", yajl_t_string);
        const char *r, *slash, *m;
        char *ns;
        int64_t push_ms = NO_TIME;
        int multi;
        if (repo == NULL || digest == NULL || type == NULL || tags == NULL || listed == NULL) {
            ef_error("GET /_emulator/inventory: element %zu lacks repository, digest, type, tags or listed", i);
            goto fail;
        }
        if (!YAJL_IS_TRUE(listed) || (!(flags & HF_NON_IMAGES) && strcmp(ef_str(type), "IMAGE") != 0))
            continue;
        r = ef_str(repo);
        m = mt ? ef_str(mt) : "";
        slash = strchr(r, '/');
        if (slash == NULL || (ns = malloc((size_t)(slash - r) + 1)) == NULL) {
            ef_error("GET /_emulator/inventory: bad repository %s (or out of memory)", r);
            goto fail;
        }
        memcpy(ns, r, (size_t)(slash - r));
        ns[slash - r] = '\0';
        multi = strcmp(m, MT_OCI_INDEX) == 0 || strcmp(m, MT_DOCKER_LIST) == 0;
        if ((flags & HF_UNTAGGED) && tags->u.array.len == 0) {
            if (ef_parse_time_ms(ef_str(pushed), &push_ms) != 0 ||
                hf_rows_add(out, r, "", ns, ef_str(digest), m, ef_str(type),
                            size && YAJL_IS_INTEGER(size) ? (int64_t)YAJL_GET_INTEGER(size) : 0, push_ms, multi) != 0) {
                free(ns);
                ef_error("GET /_emulator/inventory: bad push_time of %s@%s (or out of memory)", r, ef_str(digest));
                goto fail;
            }
        }
        for (j = 0; j < tags->u.array.len; j++) {
            yajl_val t = tags->u.array.values[j];
            if (!YAJL_IS_STRING(t) || *ef_str(t) == '\0')
                continue;
            if (hf_rows_add(out, r, ef_str(t), ns, ef_str(digest), m, ef_str(type),
                            size && YAJL_IS_INTEGER(size) ? (int64_t)YAJL_GET_INTEGER(size) : 0, NO_TIME, multi) != 0) {
                free(ns);
                ef_error("out of memory");
                goto fail;
            }
        }
        free(ns);
    }
    yajl_tree_free(root);
    root = NULL;

    /* the tags' push times: once per project */
    for (i = 0; i < out->n; i++) {
        for (j = 0; j < i; j++)
            if (strcmp(out->v[j].namespace_, out->v[i].namespace_) == 0)
                break;
        if (j == i && fill_tag_times(e, out->v[i].namespace_, out) != 0)
            goto fail;
    }
    for (i = 0; i < out->n; i++)
        if (out->v[i].update_ms == NO_TIME) {
            ef_error("emulator inconsistency: %s:%s is in /_emulator/inventory but not in the project's "
                     "artifact list",
                     out->v[i].repository, out->v[i].tag);
            goto fail;
        }
    return 0;
fail:
    yajl_tree_free(root);
    hf_rows_free(out);
    return -1;
}

/* ---- comparison ------------------------------------------------------------------------------------- */

/* (repository, tag); untagged rows (tag "") are told apart by digest, as the core does */
static int row_key_cmp(const hf_row *a, const hf_row *b)
{
    int c = strcmp(a->repository, b->repository);

    if (c == 0)
        c = strcmp(a->tag, b->tag);
    if (c == 0 && a->tag[0] == '\0')
        c = strcmp(a->digest, b->digest);
    return c;
}

static int row_ptr_cmp(const void *pa, const void *pb)
{
    return row_key_cmp(*(const hf_row *const *)pa, *(const hf_row *const *)pb);
}

static const hf_row **sorted_ptrs(const hf_rows *rows)
{
    const hf_row **p = malloc((rows->n + 1) * sizeof *p);
    size_t i;

    if (p == NULL)
        return NULL;
    for (i = 0; i < rows->n; i++)
        p[i] = &rows->v[i];
    qsort((void *)p, rows->n, sizeof *p, row_ptr_cmp);
    return p;
}

typedef struct differ {
    const char *label;
    size_t count;
} differ;

static void diff_line(differ *d, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

static void diff_line(differ *d, const char *fmt, ...)
{
    va_list ap;

    d->count++;
    if (d->count > MAX_DIFF_LINES) {
        if (d->count == MAX_DIFF_LINES + 1)
            fprintf(stderr, "  %s: ... (more differences not shown)\n", d->label);
        return;
    }
    fprintf(stderr, "  %s: ", d->label);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

static void describe(const hf_row *r, char *buf, size_t n)
{
    snprintf(buf, n,
             "namespace=%s digest=%.19s... size=%" PRId64 " media_type=%s artifact_type=%s multi_arch=%d update_ms=%" PRId64,
             r->namespace_, r->digest, r->size, r->media_type, r->artifact_type, r->multi_arch, r->update_ms);
}

static void compare_fields(differ *d, const hf_row *want, const hf_row *got)
{
    const char *k1 = want->repository, *k2 = want->tag;

    if (strcmp(want->namespace_, got->namespace_) != 0)
        diff_line(d, "%s:%s namespace is \"%s\", expected \"%s\"", k1, k2, got->namespace_, want->namespace_);
    if (strcmp(want->digest, got->digest) != 0)
        diff_line(d, "%s:%s digest is \"%s\", expected \"%s\"", k1, k2, got->digest, want->digest);
    if (want->size != got->size)
        diff_line(d, "%s:%s size is %" PRId64 ", expected %" PRId64, k1, k2, got->size, want->size);
    if (strcmp(want->media_type, got->media_type) != 0)
        diff_line(d, "%s:%s media_type is \"%s\", expected \"%s\"", k1, k2, got->media_type, want->media_type);
    if (strcmp(want->artifact_type, got->artifact_type) != 0)
        diff_line(d, "%s:%s artifact_type is \"%s\", expected \"%s\"", k1, k2, got->artifact_type,
                  want->artifact_type);
    if (want->multi_arch != got->multi_arch)
        diff_line(d, "%s:%s multi_arch is %d, expected %d", k1, k2, got->multi_arch, want->multi_arch);
    if (want->update_ms != got->update_ms)
        diff_line(d, "%s:%s update time is %" PRId64 " ms, expected %" PRId64 " (the tag's push_time)", k1, k2,
                  got->update_ms, want->update_ms);
}

static void diff_rows(differ *d, const hf_rows *expected, const hf_rows *actual)
{
    const hf_row **e = sorted_ptrs(expected), **a = sorted_ptrs(actual);
    size_t i = 0, j;
    char desc[512];

    if (e == NULL || a == NULL) {
        diff_line(d, "out of memory while comparing");
        free((void *)e);
        free((void *)a);
        return;
    }
    for (j = 1; j < actual->n; j++)
        if (row_key_cmp(a[j - 1], a[j]) == 0)
            diff_line(d, "%s:%s appears more than once", a[j]->repository, a[j]->tag);
    j = 0;
    while (i < expected->n || j < actual->n) {
        int c = i >= expected->n ? 1 : j >= actual->n ? -1 : row_key_cmp(e[i], a[j]);
        if (c < 0) {
            describe(e[i], desc, sizeof desc);
            diff_line(d, "missing    %s:%s (expected %s)", e[i]->repository, e[i]->tag, desc);
            i++;
        } else if (c > 0) {
            describe(a[j], desc, sizeof desc);
            diff_line(d, "unexpected %s:%s (%s)", a[j]->repository, a[j]->tag, desc);
            j++;
        } else {
            compare_fields(d, e[i], a[j]);
            i++;
            for (j++; j < actual->n && row_key_cmp(a[j - 1], a[j]) == 0; j++)
                ;
        }
    }
    free((void *)e);
    free((void *)a);
}

static void diff_footer(const differ *d, const hf_rows *expected, const hf_rows *actual)
{
    if (d->count > 0)
        fprintf(stderr, "%s: %zu difference(s) above (expected %zu rows, got %zu)\n", d->label, d->count,
                expected->n, actual->n);
    fflush(stderr);
}

size_t hf_rows_diff(const hf_rows *expected, const hf_rows *actual, const char *label)
{
    differ d = {label ? label : "rows", 0};

    diff_rows(&d, expected, actual);
    diff_footer(&d, expected, actual);
    return d.count;
}

static int provider_iter(imgsync_iter **it, imgsync_ctx *ctx, const char *provider)
{
    imgsync_request *req = NULL;
    int rc = imgsync_request_new(&req);

    if (rc == 0 && provider != NULL)
        rc = imgsync_request_add_provider(req, provider);
    if (rc == 0)
        rc = imgsync_iter_new(it, ctx, req);
    imgsync_request_free(req);
    return rc;
}

int hf_rows_from_ctx(hf_rows *out, imgsync_ctx *ctx, const char *provider)
{
    imgsync_iter *it = NULL;
    const imgsync_image *im;
    int rc = provider_iter(&it, ctx, provider);

    out->v = NULL;
    out->n = 0;
    if (rc != 0) {
        ef_error("imgsync_iter_new(%s): %s: %s", provider ? provider : "NULL", imgsync_strerror(rc),
                 imgsync_ctx_errmsg(ctx));
        return -1;
    }
    while ((im = imgsync_iter_next(it)) != NULL) {
        if (hf_rows_add(out, imgsync_image_repository(im), imgsync_image_tag(im), imgsync_image_namespace(im),
                        imgsync_image_digest(im), imgsync_image_media_type(im), imgsync_image_artifact_type(im),
                        imgsync_image_size(im), imgsync_image_update_ms(im), imgsync_image_multi_arch(im)) != 0) {
            imgsync_iter_free(it);
            hf_rows_free(out);
            return -1;
        }
    }
    imgsync_iter_free(it);
    return 0;
}

size_t hf_compare_inventory(imgsync_ctx *ctx, const char *provider, const char *host, const hf_rows *expected)
{
    char label[160];
    differ d;
    imgsync_iter *it = NULL;
    const imgsync_image *im;
    hf_rows actual = {NULL, 0};
    int rc;

    snprintf(label, sizeof label, "inventory of '%s'", provider);
    d.label = label;
    d.count = 0;
    if ((rc = provider_iter(&it, ctx, provider)) != 0) {
        diff_line(&d, "imgsync_iter_new: %s: %s", imgsync_strerror(rc), imgsync_ctx_errmsg(ctx));
        return d.count;
    }
    while ((im = imgsync_iter_next(it)) != NULL) {
        const char *repo = imgsync_image_repository(im), *tag = imgsync_image_tag(im);

        if (actual.n > 0) {
            const hf_row *prev = &actual.v[actual.n - 1];
            int c = strcmp(prev->repository, repo);
            if (c > 0 || (c == 0 && strcmp(prev->tag, tag) > 0) ||
                (c == 0 && strcmp(prev->tag, tag) == 0 && (tag[0] != '\0' || strcmp(prev->digest, imgsync_image_digest(im)) == 0)))
                diff_line(&d, "%s:%s comes after %s:%s (order must be repository, tag)", repo, tag, prev->repository,
                          prev->tag);
        }
        if (strcmp(imgsync_image_registry(im), provider) != 0)
            diff_line(&d, "%s:%s registry is \"%s\", expected \"%s\"", repo, tag, imgsync_image_registry(im), provider);
        if (strcmp(imgsync_image_registry_type(im), "Harbor") != 0)
            diff_line(&d, "%s:%s registry_type is \"%s\", expected \"Harbor\"", repo, tag,
                      imgsync_image_registry_type(im));
        if (strcmp(imgsync_image_image_type(im), "harbor") != 0)
            diff_line(&d, "%s:%s image_type is \"%s\", expected \"harbor\"", repo, tag, imgsync_image_image_type(im));
        if (host != NULL && strcmp(imgsync_image_host(im), host) != 0)
            diff_line(&d, "%s:%s host is \"%s\", expected \"%s\"", repo, tag, imgsync_image_host(im), host);
        if (imgsync_image_sync_ms(im) <= 0)
            diff_line(&d, "%s:%s sync time is %" PRId64 ", expected > 0", repo, tag, imgsync_image_sync_ms(im));
        if (hf_rows_add(&actual, repo, tag, imgsync_image_namespace(im), imgsync_image_digest(im),
                        imgsync_image_media_type(im), imgsync_image_artifact_type(im), imgsync_image_size(im),
                        imgsync_image_update_ms(im), imgsync_image_multi_arch(im)) != 0) {
            diff_line(&d, "out of memory");
            break;
        }
    }
    imgsync_iter_free(it);
    diff_rows(&d, expected, &actual);
    diff_footer(&d, expected, &actual);
    hf_rows_free(&actual);
    return d.count;
}
