/* Records: rows under construction by a provider. The setters come from the field table; emit
 * validates the row (one set of rules for every provider) and applies the request's filters. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/kinds.h"
#include "core/run.h"
#include "util/buf.h"
#include "util/names.h"
#include "util/text.h"

struct imgsync_record {
    imgsync_run *run;
    struct imgsync_image *img;
};

imgsync_record *imgsync_record_new(imgsync_run *run, const char *repository, const char *tag)
{
    if (!run || !repository || !tag)
        return NULL;
    imgsync_record *r = calloc(1, sizeof(*r));
    if (!r)
        return NULL;
    r->run = run;
    r->img = imgsync__image_new(run->name, repository, tag, run->vt->type);
    char *ns = imgsync__namespace_of(repository);
    if (!r->img || !ns || imgsync__image_set_str(r->img, IMGSYNC__F_namespace, ns) ||
        imgsync__image_set_str(r->img, IMGSYNC__F_host, run->host)) {
        free(ns);
        imgsync_record_free(r);
        return NULL;
    }
    free(ns);
    return r;
}

void imgsync_record_free(imgsync_record *r)
{
    if (!r)
        return;
    imgsync__image_unref(r->img);
    free(r);
}

int imgsync_record_set_type(imgsync_record *r, int type)
{
    if (!r || !imgsync__kind_has_type(r->run->vt, type))
        return IMGSYNC_EINVAL;
    r->img->type = type;
    return 0;
}

/* ---- setters, generated from the table -------------------------------------------------- */

#define SET_STRING(name)                                                                          \
    int imgsync_record_set_##name(imgsync_record *r, const char *v)                               \
    {                                                                                             \
        return r ? imgsync__image_set_str(r->img, IMGSYNC__F_##name, v) : IMGSYNC_EINVAL;         \
    }
#define SET_SIZE(name)                                                                            \
    void imgsync_record_set_##name(imgsync_record *r, int64_t v)                                  \
    {                                                                                             \
        if (r)                                                                                    \
            imgsync__image_set_int(r->img, IMGSYNC__F_##name, v);                                 \
    }
#define SET_TIME(name) SET_SIZE(name)
#define SET_BOOL(name)                                                                            \
    void imgsync_record_set_##name(imgsync_record *r, int v)                                      \
    {                                                                                             \
        if (r)                                                                                    \
            imgsync__image_set_int(r->img, IMGSYNC__F_##name, v);                                 \
    }
#define SETTER_KEY(name, kind)
#define SETTER_DERIVED(name, kind)
#define SETTER_SYNC(name, kind)
#define SETTER_DATA(name, kind) SET_##kind(name)
#define SETTER_PART(name, kind) SET_##kind(name)
#define SETTER(name, key, kind, role) SETTER_##role(name, kind)
IMGSYNC__ROW_FIELDS(SETTER)
#undef SETTER

/* ---- emit ----------------------------------------------------------------------------------- */

/* Why the row cannot be stored, or NULL. Names go into URLs, keys and terminals. */
static const char *invalid(const imgsync_run *run, const struct imgsync_image *im)
{
    const char *tag = im->v[IMGSYNC__F_tag].s, *digest = im->v[IMGSYNC__F_digest].s;
    const char *part = im->v[IMGSYNC__F_partition].s, *ns = im->v[IMGSYNC__F_namespace].s;
    const char *repo = im->v[IMGSYNC__F_repository].s;
    /* the previous row's scope had its names checked: the rest of a repository's rows skip that */
    int known = imgsync__scope_names_known(run, part, repo);
    if (!known && !imgsync__name_repository_ok(repo))
        return "the registry gave an invalid repository name";
    if (tag[0] && !imgsync__name_tag_ok(tag))
        return "the registry gave an invalid tag";
    if ((digest[0] || !tag[0]) && !imgsync__name_digest_ok(digest))
        return "the registry gave an invalid digest";
    if (!known && part[0] && !imgsync__name_label_ok(part))
        return "the registry gave an invalid partition name";
    if (ns[0] && !imgsync__name_label_ok(ns))
        return "the registry gave an invalid namespace name";
    return NULL;
}

/* Free text fields: kept, but never with terminal controls. */
static void sanitize_text_fields(struct imgsync_image *im)
{
    for (int f = 0; f < IMGSYNC__NFIELDS; f++)
        if (imgsync__fields[f].kind == IMGSYNC__K_STRING && imgsync__fields[f].role == IMGSYNC__R_DATA &&
            im->v[f].s[0] && !imgsync__text_is_clean(im->v[f].s))
            imgsync__text_sanitize(im->v[f].s);
}

static int store_in_scope(imgsync_run *run, struct imgsync_image *im, imgsync_record *r)
{
    imgsync__scope *s = imgsync__scope_get(run, im->v[IMGSYNC__F_partition].s, im->v[IMGSYNC__F_repository].s, 1);
    if (!s)
        return IMGSYNC_ENOMEM;
    if (s->failed || s->committed)
        return 0;
    /* one row per tag; untagged artifacts are told apart by digest */
    char buf[IMGSYNC__KEY_BUF], *heap;
    const char *key = imgsync__image_key_tmp(im, buf, sizeof(buf), &heap);
    void *old = NULL;
    int rc = key ? imgsync__map_put(&s->records, key, im, &old) : IMGSYNC_ENOMEM;
    if (!rc) {
        imgsync__image_unref(old);
        r->img = NULL;
    }
    free(heap);
    return rc;
}

static int selected(const imgsync_run *run, const struct imgsync_image *im)
{
    const imgsync_request *req = run->task->req;
    return imgsync__request_selects_repository(req, run->name, im->v[IMGSYNC__F_namespace].s,
                                               im->v[IMGSYNC__F_repository].s) &&
           imgsync__request_selects_row(req, im->type, im->v[IMGSYNC__F_tag].s, im->v[IMGSYNC__F_artifact_type].s);
}

int imgsync_record_emit(imgsync_run *run, imgsync_record *r)
{
    if (!run || !r) {
        imgsync_record_free(r);
        return IMGSYNC_EINVAL;
    }
    struct imgsync_image *im = r->img;
    int rc = 0;
    const char *why;
    if (run->mode != IMGSYNC_RUN_SYNC || run->failed) {
        rc = 0;
    } else if (imgsync__task_expired(run->task)) {
        rc = imgsync__run_deadline(run);
    } else if ((why = invalid(run, im)) != NULL) {
        /* never stored under another name: the scope (or the unnamed item) fails */
        imgsync_run_scope_fail(run, im->v[IMGSYNC__F_partition].s, im->v[IMGSYNC__F_repository].s, IMGSYNC_EPROTOCOL,
                               why);
        rc = IMGSYNC_EPROTOCOL;
    } else if (selected(run, im)) {
        sanitize_text_fields(im);
        rc = store_in_scope(run, im, r);
    }
    imgsync_record_free(r);
    return rc;
}
