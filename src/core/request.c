/* Sync requests: the builder API and the selection rules (types, providers, repositories, globs). */
#include "request.h"

#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/glob.h"

int imgsync_request_new(imgsync_request **out)
{
    if (!out)
        return IMGSYNC_EINVAL;
    *out = calloc(1, sizeof(**out));
    return *out ? 0 : IMGSYNC_ENOMEM;
}

void imgsync_request_free(imgsync_request *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->nproviders; i++)
        free(r->providers[i]);
    for (size_t i = 0; i < r->nrepos; i++) {
        free(r->repos[i].provider);
        free(r->repos[i].repository);
    }
    for (size_t i = 0; i < r->nfilters; i++)
        free(r->filters[i].pattern);
    free(r->types);
    free(r->providers);
    free(r->repos);
    free(r->filters);
    free(r);
}

/* Grow an array by one element; 0 or ENOMEM. */
static int grow(void **arr, size_t n, size_t elem)
{
    void *p = realloc(*arr, (n + 1) * elem);
    if (!p)
        return IMGSYNC_ENOMEM;
    *arr = p;
    return 0;
}

int imgsync_request_add_type(imgsync_request *r, int type)
{
    if (!r || !imgsync_type_registry_name(type))
        return IMGSYNC_EINVAL;
    for (size_t i = 0; i < r->ntypes; i++)
        if (r->types[i] == type)
            return 0;
    if (grow((void **)&r->types, r->ntypes, sizeof(int)))
        return IMGSYNC_ENOMEM;
    r->types[r->ntypes++] = type;
    return 0;
}

int imgsync_request_add_provider(imgsync_request *r, const char *provider)
{
    if (!r || !provider || !*provider)
        return IMGSYNC_EINVAL;
    for (size_t i = 0; i < r->nproviders; i++)
        if (strcmp(r->providers[i], provider) == 0)
            return 0;
    char *copy = imgsync__strdup(provider);
    if (!copy || grow((void **)&r->providers, r->nproviders, sizeof(char *))) {
        free(copy);
        return IMGSYNC_ENOMEM;
    }
    r->providers[r->nproviders++] = copy;
    return 0;
}

/* Repository paths: non-empty, no empty segment, no control characters, no leading '/'. */
static int repository_name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 255 || s[0] == '/' || s[n - 1] == '/' || strstr(s, "//"))
        return 0;
    for (; *s; s++)
        if ((unsigned char)*s <= 0x20 || *s == 0x7f)
            return 0;
    return 1;
}

int imgsync_request_add_repository(imgsync_request *r, const char *provider, const char *repository)
{
    if (!r || !provider || !*provider || !repository || !repository_name_ok(repository))
        return IMGSYNC_EINVAL;
    int rc = imgsync_request_add_provider(r, provider);
    if (rc)
        return rc;
    for (size_t i = 0; i < r->nrepos; i++)
        if (!strcmp(r->repos[i].provider, provider) && !strcmp(r->repos[i].repository, repository))
            return 0;
    char *p = imgsync__strdup(provider), *q = imgsync__strdup(repository);
    if (!p || !q || grow((void **)&r->repos, r->nrepos, sizeof(*r->repos))) {
        free(p);
        free(q);
        return IMGSYNC_ENOMEM;
    }
    r->repos[r->nrepos].provider = p;
    r->repos[r->nrepos].repository = q;
    r->nrepos++;
    return 0;
}

int imgsync_request_add_filter(imgsync_request *r, int field, const char *pattern, int mode)
{
    if (!r || !pattern || (field < IMGSYNC_FILTER_NAMESPACE || field > IMGSYNC_FILTER_TAG) ||
        (mode != IMGSYNC_INCLUDE && mode != IMGSYNC_EXCLUDE) || imgsync__glob_valid(pattern))
        return IMGSYNC_EINVAL;
    char *copy = imgsync__strdup(pattern);
    if (!copy || grow((void **)&r->filters, r->nfilters, sizeof(*r->filters))) {
        free(copy);
        return IMGSYNC_ENOMEM;
    }
    r->filters[r->nfilters].field = field;
    r->filters[r->nfilters].mode = mode;
    r->filters[r->nfilters].pattern = copy;
    r->nfilters++;
    return 0;
}

int imgsync_request_set_max_tags(imgsync_request *r, unsigned int n)
{
    if (!r)
        return IMGSYNC_EINVAL;
    r->max_tags = n;
    return 0;
}

int imgsync__request_clone(imgsync_request **out, const imgsync_request *src)
{
    imgsync_request *r;
    int rc = imgsync_request_new(&r);
    if (rc)
        return rc;
    if (src) {
        for (size_t i = 0; !rc && i < src->ntypes; i++)
            rc = imgsync_request_add_type(r, src->types[i]);
        for (size_t i = 0; !rc && i < src->nproviders; i++)
            rc = imgsync_request_add_provider(r, src->providers[i]);
        for (size_t i = 0; !rc && i < src->nrepos; i++)
            rc = imgsync_request_add_repository(r, src->repos[i].provider, src->repos[i].repository);
        for (size_t i = 0; !rc && i < src->nfilters; i++)
            rc = imgsync_request_add_filter(r, src->filters[i].field, src->filters[i].pattern,
                                            src->filters[i].mode);
        r->max_tags = src->max_tags;
        r->include_non_images = src->include_non_images;
        r->updated_since = src->updated_since;
    }
    if (rc) {
        imgsync_request_free(r);
        return rc;
    }
    *out = r;
    return 0;
}

int imgsync__request_selects_type(const imgsync_request *r, int type)
{
    if (!r || r->ntypes == 0)
        return 1;
    for (size_t i = 0; i < r->ntypes; i++)
        if (r->types[i] == type)
            return 1;
    return 0;
}

int imgsync__request_selects_provider(const imgsync_request *r, const char *name, const int *types, size_t n)
{
    if (!r)
        return 1;
    int ok = r->ntypes == 0;
    for (size_t i = 0; !ok && i < n; i++)
        ok = imgsync__request_selects_type(r, types[i]);
    if (!ok)
        return 0;
    if (r->nproviders == 0)
        return 1;
    for (size_t i = 0; i < r->nproviders; i++)
        if (strcmp(r->providers[i], name) == 0)
            return 1;
    return 0;
}

/* Include/exclude evaluation for one field. */
static int field_selects(const imgsync_request *r, int field, const char *value)
{
    int has_include = 0, included = 0;
    for (size_t i = 0; r && i < r->nfilters; i++) {
        const imgsync__filter *f = &r->filters[i];
        if (f->field != field)
            continue;
        int m = imgsync__glob_match(f->pattern, value);
        if (f->mode == IMGSYNC_EXCLUDE && m)
            return 0;
        if (f->mode == IMGSYNC_INCLUDE) {
            has_include = 1;
            included |= m;
        }
    }
    return !has_include || included;
}

size_t imgsync__request_repo_count(const imgsync_request *r, const char *provider)
{
    size_t n = 0;
    for (size_t i = 0; r && i < r->nrepos; i++)
        n += strcmp(r->repos[i].provider, provider) == 0;
    return n;
}

const char *imgsync__request_repo_at(const imgsync_request *r, const char *provider, size_t idx)
{
    for (size_t i = 0; r && i < r->nrepos; i++)
        if (strcmp(r->repos[i].provider, provider) == 0 && idx-- == 0)
            return r->repos[i].repository;
    return NULL;
}

int imgsync__request_selects_namespace(const imgsync_request *r, const char *ns)
{
    return field_selects(r, IMGSYNC_FILTER_NAMESPACE, ns);
}

int imgsync__request_selects_repository(const imgsync_request *r, const char *provider,
                                        const char *ns, const char *repo)
{
    if (!r)
        return 1;
    size_t n = imgsync__request_repo_count(r, provider);
    if (n) {
        int listed = 0;
        for (size_t i = 0; i < n && !listed; i++)
            listed = strcmp(imgsync__request_repo_at(r, provider, i), repo) == 0;
        if (!listed)
            return 0;
    }
    return field_selects(r, IMGSYNC_FILTER_NAMESPACE, ns) &&
           field_selects(r, IMGSYNC_FILTER_REPOSITORY, repo);
}

int imgsync_request_set_updated_since(imgsync_request *r, int64_t ms)
{
    if (!r || ms < 0)
        return IMGSYNC_EINVAL;
    r->updated_since = ms;
    return 0;
}

int imgsync_request_set_include_non_images(imgsync_request *r, int include)
{
    if (!r)
        return IMGSYNC_EINVAL;
    r->include_non_images = include ? 1 : 0;
    return 0;
}

size_t imgsync__request_namespace_literals(const imgsync_request *r, const char ***out)
{
    *out = NULL;
    size_t n = 0;
    for (size_t i = 0; r && i < r->nfilters; i++) {
        const imgsync__filter *f = &r->filters[i];
        if (f->field != IMGSYNC_FILTER_NAMESPACE || f->mode != IMGSYNC_INCLUDE)
            continue;
        if (!imgsync__glob_is_literal(f->pattern))
            return 0;
        n++;
    }
    if (!n || !(*out = malloc(n * sizeof(**out))))
        return 0;
    size_t k = 0;
    for (size_t i = 0; i < r->nfilters; i++)
        if (r->filters[i].field == IMGSYNC_FILTER_NAMESPACE && r->filters[i].mode == IMGSYNC_INCLUDE)
            (*out)[k++] = r->filters[i].pattern;
    return k;
}

int imgsync__request_selects_tag(const imgsync_request *r, const char *tag)
{
    return field_selects(r, IMGSYNC_FILTER_TAG, tag);
}

int imgsync__request_selects_row(const imgsync_request *r, int type, const char *tag, const char *artifact_type)
{
    int image = !artifact_type || !artifact_type[0] || strcmp(artifact_type, "IMAGE") == 0;
    return (image || (r && r->include_non_images)) && imgsync__request_selects_type(r, type) &&
           imgsync__request_selects_tag(r, tag);
}

static int selector_row(const void *ud, const struct imgsync_image *im)
{
    return imgsync__request_selects_row(ud, im->type, im->v[IMGSYNC__F_tag].s, im->v[IMGSYNC__F_artifact_type].s);
}

static int selector_repository(const void *ud, const char *provider, const char *ns, const char *repo)
{
    return imgsync__request_selects_repository(ud, provider, ns, repo);
}

imgsync__selector imgsync__request_selector(const imgsync_request *r)
{
    imgsync__selector s = {selector_row, selector_repository, r};
    return s;
}

char *imgsync__namespace_of(const char *repository)
{
    const char *slash = strchr(repository, '/');
    return slash ? imgsync__strndup(repository, (size_t)(slash - repository)) : imgsync__strdup("");
}
