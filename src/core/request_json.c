/* A request as data: the store query it makes for inventory reads, and its JSON form (how a
 * schedule keeps its request in the store). */
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_gen.h>

#include "core/request.h"
#include "util/buf.h"
#include "util/json.h"

int imgsync__request_query(imgsync__query *q, const imgsync_request *r)
{
    memset(q, 0, sizeof(*q));
    if (!r)
        return 0;
    imgsync__query_repo *repos = calloc(r->nrepos + 1, sizeof(*repos));
    imgsync__query_glob *globs = calloc(r->nfilters + 1, sizeof(*globs));
    if (!repos || !globs) {
        free(repos);
        free(globs);
        return IMGSYNC_ENOMEM;
    }
    for (size_t i = 0; i < r->nrepos; i++)
        repos[i] = (imgsync__query_repo){r->repos[i].provider, r->repos[i].repository};
    for (size_t i = 0; i < r->nfilters; i++)
        globs[i] = (imgsync__query_glob){r->filters[i].field, r->filters[i].mode, r->filters[i].pattern};
    q->providers = (const char *const *)r->providers;
    q->nproviders = r->nproviders;
    q->types = r->types;
    q->ntypes = r->ntypes;
    q->repos = repos;
    q->nrepos = r->nrepos;
    q->globs = globs;
    q->nglobs = r->nfilters;
    q->updated_since = r->updated_since;
    return 0;
}

void imgsync__request_query_free(imgsync__query *q)
{
    free((void *)q->repos);
    free((void *)q->globs);
    memset(q, 0, sizeof(*q));
}

/* ---- JSON ---------------------------------------------------------------------------------- */

static const char *const field_names[] = {"", "namespace", "repository", "tag"};

static int gen_str(yajl_gen g, const char *s) { return yajl_gen_string(g, (const unsigned char *)s, strlen(s)) != yajl_gen_status_ok; }

static int gen_types(yajl_gen g, const imgsync_request *r)
{
    int rc = gen_str(g, "types") || yajl_gen_array_open(g);
    for (size_t i = 0; !rc && i < r->ntypes; i++)
        rc = gen_str(g, imgsync_type_registry_name(r->types[i]));
    return rc || yajl_gen_array_close(g);
}

static int gen_providers(yajl_gen g, const imgsync_request *r)
{
    int rc = gen_str(g, "providers") || yajl_gen_array_open(g);
    for (size_t i = 0; !rc && i < r->nproviders; i++)
        rc = gen_str(g, r->providers[i]);
    rc = rc || yajl_gen_array_close(g) || gen_str(g, "repositories") || yajl_gen_array_open(g);
    for (size_t i = 0; !rc && i < r->nrepos; i++)
        rc = yajl_gen_map_open(g) || gen_str(g, "registry") || gen_str(g, r->repos[i].provider) ||
             gen_str(g, "repository") || gen_str(g, r->repos[i].repository) || yajl_gen_map_close(g);
    return rc || yajl_gen_array_close(g);
}

static int gen_filters(yajl_gen g, const imgsync_request *r)
{
    int rc = gen_str(g, "filters") || yajl_gen_array_open(g);
    for (size_t i = 0; !rc && i < r->nfilters; i++) {
        const imgsync__filter *f = &r->filters[i];
        rc = yajl_gen_map_open(g) || gen_str(g, "field") || gen_str(g, field_names[f->field]) || gen_str(g, "mode") ||
             gen_str(g, f->mode == IMGSYNC_EXCLUDE ? "exclude" : "include") || gen_str(g, "pattern") ||
             gen_str(g, f->pattern) || yajl_gen_map_close(g);
    }
    return rc || yajl_gen_array_close(g);
}

char *imgsync__request_to_json(const imgsync_request *r)
{
    imgsync_request empty = {0};
    if (!r)
        r = &empty;
    yajl_gen g = yajl_gen_alloc(NULL);
    if (!g)
        return NULL;
    int rc = yajl_gen_map_open(g) || gen_types(g, r) || gen_providers(g, r) || gen_filters(g, r) ||
             gen_str(g, "include_non_images") || yajl_gen_bool(g, r->include_non_images) ||
             gen_str(g, "max_tags") || yajl_gen_integer(g, r->max_tags) || gen_str(g, "updated_since") ||
             yajl_gen_integer(g, r->updated_since) || yajl_gen_map_close(g);
    const unsigned char *buf;
    size_t len;
    char *out = NULL;
    if (!rc && yajl_gen_get_buf(g, &buf, &len) == yajl_gen_status_ok)
        out = imgsync__strndup((const char *)buf, len);
    yajl_gen_free(g);
    return out;
}

static int parse_types(imgsync_request *r, yajl_val doc)
{
    yajl_val a = imgsync__json_array(doc, "types");
    for (size_t i = 0; a && i < a->u.array.len; i++) {
        int type;
        const char *s = YAJL_IS_STRING(a->u.array.values[i]) ? a->u.array.values[i]->u.string : NULL;
        if (!s || imgsync_type_from_string(&type, s) || imgsync_request_add_type(r, type))
            return IMGSYNC_EINVAL;
    }
    return 0;
}

static int parse_providers(imgsync_request *r, yajl_val doc)
{
    yajl_val a = imgsync__json_array(doc, "providers");
    for (size_t i = 0; a && i < a->u.array.len; i++) {
        const char *s = YAJL_IS_STRING(a->u.array.values[i]) ? a->u.array.values[i]->u.string : NULL;
        if (!s || imgsync_request_add_provider(r, s))
            return IMGSYNC_EINVAL;
    }
    a = imgsync__json_array(doc, "repositories");
    for (size_t i = 0; a && i < a->u.array.len; i++) {
        const char *p = imgsync__json_string(a->u.array.values[i], "registry");
        const char *repo = imgsync__json_string(a->u.array.values[i], "repository");
        if (!p || !repo || imgsync_request_add_repository(r, p, repo))
            return IMGSYNC_EINVAL;
    }
    return 0;
}

static int parse_filters(imgsync_request *r, yajl_val doc)
{
    yajl_val a = imgsync__json_array(doc, "filters");
    for (size_t i = 0; a && i < a->u.array.len; i++) {
        const char *field = imgsync__json_string(a->u.array.values[i], "field");
        const char *mode = imgsync__json_string(a->u.array.values[i], "mode");
        const char *pattern = imgsync__json_string(a->u.array.values[i], "pattern");
        int f = 0;
        for (int k = 1; field && k <= IMGSYNC_FILTER_TAG; k++)
            f = strcmp(field, field_names[k]) ? f : k;
        if (!f || !mode || !pattern || (strcmp(mode, "include") && strcmp(mode, "exclude")))
            return IMGSYNC_EINVAL;
        if (imgsync_request_add_filter(r, f, pattern, strcmp(mode, "exclude") ? IMGSYNC_INCLUDE : IMGSYNC_EXCLUDE))
            return IMGSYNC_EINVAL;
    }
    return 0;
}

static int parse_scalars(imgsync_request *r, yajl_val doc)
{
    int64_t max_tags = 0, since = 0;
    yajl_val inc = imgsync__json_member(doc, "include_non_images");
    if ((imgsync__json_member(doc, "max_tags") && imgsync__json_int(doc, "max_tags", &max_tags)) ||
        (imgsync__json_member(doc, "updated_since") && imgsync__json_int(doc, "updated_since", &since)) ||
        max_tags < 0 || max_tags > 0xffffffffLL || (inc && !YAJL_IS_TRUE(inc) && !YAJL_IS_FALSE(inc)))
        return IMGSYNC_EINVAL;
    r->max_tags = (unsigned int)max_tags;
    r->include_non_images = inc && YAJL_IS_TRUE(inc);
    return imgsync_request_set_updated_since(r, since);
}

int imgsync__request_from_json(imgsync_request **out, const char *json)
{
    char err[128];
    yajl_val doc = json ? imgsync__json_parse(json, strlen(json), err, sizeof(err)) : NULL;
    imgsync_request *r = NULL;
    int rc = doc && YAJL_IS_OBJECT(doc) ? imgsync_request_new(&r) : IMGSYNC_EINVAL;
    if (!rc)
        rc = parse_types(r, doc);
    if (!rc)
        rc = parse_providers(r, doc);
    if (!rc)
        rc = parse_filters(r, doc);
    if (!rc)
        rc = parse_scalars(r, doc);
    imgsync__json_free(doc);
    if (rc) {
        imgsync_request_free(r);
        return rc == IMGSYNC_ENOMEM ? rc : IMGSYNC_EINVAL;
    }
    *out = r;
    return 0;
}
