/* Scopes: a repository of a partition. Commits to the store once listed and idle, failures that
 * keep the previous rows, and the prune of vanished scopes after a complete catalog. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/run.h"
#include "util/buf.h"
#include "util/names.h"

static void scope_free(imgsync__scope *s)
{
    size_t pos = 0;
    imgsync__map_entry *e;
    while ((e = imgsync__map_next(&s->records, &pos)))
        imgsync__image_unref(e->value);
    imgsync__map_clear(&s->records);
    free(s->partition);
    free(s->repository);
    free(s);
}

void imgsync__scopes_free(imgsync_run *run)
{
    size_t pos = 0;
    imgsync__map_entry *e;
    while ((e = imgsync__map_next(&run->scopes, &pos)))
        scope_free(e->value);
    imgsync__map_clear(&run->scopes);
    run->last_scope = NULL;
}

int imgsync__scope_is_last(const imgsync_run *run, const char *partition, const char *repository)
{
    const imgsync__scope *s = run->last_scope;
    return s && strcmp(s->repository, repository) == 0 && strcmp(s->partition, partition ? partition : "") == 0;
}

static int scope_names_ok(const char *partition, const char *repository);

int imgsync__scope_names_known(const imgsync_run *run, const char *partition, const char *repository)
{
    return imgsync__scope_is_last(run, partition, repository) && run->last_scope->names_ok;
}

imgsync__scope *imgsync__scope_get(imgsync_run *run, const char *partition, const char *repository, int create)
{
    if (imgsync__scope_is_last(run, partition, repository)) /* no key to build and look up */
        return run->last_scope;
    char *key = imgsync__scope_key(partition, repository);
    imgsync__scope *s = key ? imgsync__map_get(&run->scopes, key) : NULL;
    if (s || !create || !key) {
        free(key);
        return run->last_scope = s ? s : run->last_scope;
    }
    s = calloc(1, sizeof(*s));
    if (!s || !(s->partition = imgsync__strdup(partition ? partition : "")) ||
        !(s->repository = imgsync__strdup(repository))) {
        if (s)
            free(s->partition);
        free(s);
        free(key);
        return NULL;
    }
    imgsync__map_init(&s->records);
    s->names_ok = scope_names_ok(partition, repository); /* jobs and deferrals make scopes unchecked */
    int rc = imgsync__map_put(&run->scopes, key, s, NULL);
    free(key);
    if (rc) {
        scope_free(s);
        return NULL;
    }
    imgsync__task_count(run->task, IMGSYNC_COUNT_REPOSITORIES_TOTAL, 1);
    return run->last_scope = s;
}

/* "partition/repository" for messages, or the repository alone. */
static char *scope_name(const imgsync__scope *s)
{
    return s->partition[0] ? imgsync__asprintf("%s/%s", s->partition, s->repository) : imgsync__strdup(s->repository);
}

void imgsync__scope_fail(imgsync_run *run, imgsync__scope *s, int code, const char *message)
{
    if (s->failed || s->committed)
        return;
    s->failed = 1;
    run->scopes_failed++;
    imgsync__task_count(run->task, IMGSYNC_COUNT_REPOSITORIES_FAILED, 1);
    char *name = scope_name(s);
    imgsync__run_error(run, name ? name : s->repository, code, message);
    free(name);
}

/* Newest first: update time, then tag name (descending) so "v10" style ties are stable. */
static int newest_first(const void *pa, const void *pb)
{
    const struct imgsync_image *a = *(const struct imgsync_image *const *)pa;
    const struct imgsync_image *b = *(const struct imgsync_image *const *)pb;
    int64_t ua = a->v[IMGSYNC__F_update_ms].i, ub = b->v[IMGSYNC__F_update_ms].i;
    if (ua != ub)
        return ua > ub ? -1 : 1;
    return strcmp(b->v[IMGSYNC__F_tag].s, a->v[IMGSYNC__F_tag].s);
}

/* The newest max_tags tags; untagged rows (kept only on request) are not tags and stay. */
static size_t keep_newest(struct imgsync_image **rows, size_t m, unsigned int max)
{
    if (!max || m <= max)
        return m;
    qsort(rows, m, sizeof(*rows), newest_first);
    size_t kept = 0, tagged = 0;
    for (size_t i = 0; i < m; i++)
        if (!rows[i]->v[IMGSYNC__F_tag].s[0] || tagged++ < max)
            rows[kept++] = rows[i];
    return kept;
}

static void count_commit(imgsync_run *run, size_t found, const imgsync__store_counts *c)
{
    pthread_mutex_lock(run->env->status_lock);
    uint64_t *k = run->task->counters;
    k[IMGSYNC_COUNT_REPOSITORIES_DONE]++;
    k[IMGSYNC_COUNT_IMAGES_FOUND] += found;
    k[IMGSYNC_COUNT_IMAGES_ADDED] += c->added;
    k[IMGSYNC_COUNT_IMAGES_UPDATED] += c->updated;
    k[IMGSYNC_COUNT_IMAGES_REMOVED] += c->removed;
    run->task->committed_any = 1;
    pthread_mutex_unlock(run->env->status_lock);
}

static void scope_commit(imgsync_run *run, imgsync__scope *s)
{
    char *ns = imgsync__namespace_of(s->repository);
    int selected = !ns || imgsync__request_selects_repository(run->task->req, run->name, ns, s->repository);
    free(ns);
    if (!selected) {
        /* a provider listed a repository the request does not cover: its rows are not ours to
         * replace (emit dropped its records already) */
        s->committed = 1;
        return;
    }
    size_t n = s->records.count, m = 0, pos = 0;
    struct imgsync_image **rows = malloc((n + 1) * sizeof(*rows));
    if (!rows) {
        imgsync__scope_fail(run, s, IMGSYNC_ENOMEM, "out of memory while committing");
        return;
    }
    imgsync__map_entry *e;
    int64_t now = imgsync__env_now(run->env);
    while ((e = imgsync__map_next(&s->records, &pos))) {
        struct imgsync_image *im = e->value;
        im->v[IMGSYNC__F_sync_ms].i = now;
        rows[m++] = im;
    }
    m = keep_newest(rows, m, run->task->req->max_tags);
    imgsync__store_counts c = {0, 0, 0};
    imgsync__selector sel = imgsync__request_selector(run->task->req);
    imgsync__store_set_change_task(run->env->store, run->task->id); /* the change feed's task */
    int rc = imgsync__store_replace(run->env->store, run->name, s->partition, s->repository, rows, m, &sel, &c);
    free(rows);
    if (rc) {
        const char *why = imgsync__store_errmsg(run->env->store);
        char *msg =
            why[0] ? imgsync__strjoin("the inventory store refused the commit (", why, ")", (char *)NULL) : NULL;
        imgsync__scope_fail(run, s, IMGSYNC_ESTORE, msg ? msg : "the inventory store refused the commit");
        free(msg);
        return;
    }
    s->committed = 1;
    count_commit(run, m, &c);
    /* the records now live in the store; drop the scope's own references */
    pos = 0;
    while ((e = imgsync__map_next(&s->records, &pos)))
        imgsync__image_unref(e->value);
    imgsync__map_clear(&s->records);
}

void imgsync__scope_maybe_commit(imgsync_run *run, imgsync__scope *s)
{
    if (s && s->listed && !s->pending && !s->failed && !s->committed && !run->failed)
        scope_commit(run, s);
}

static void prune(imgsync_run *run)
{
    imgsync__store_counts c = {0, 0, 0};
    imgsync__selector sel = imgsync__request_selector(run->task->req);
    imgsync__store_set_change_task(run->env->store, run->task->id);
    if (imgsync__store_prune(run->env->store, run->name, &run->scopes, &run->failed_parts, &run->failed_ns, &sel,
                             &c) == 0)
        imgsync__task_count(run->task, IMGSYNC_COUNT_IMAGES_REMOVED, c.removed);
}

void imgsync__scopes_finish(imgsync_run *run)
{
    size_t pos = 0;
    imgsync__map_entry *e;
    while ((e = imgsync__map_next(&run->scopes, &pos))) {
        imgsync__scope *s = e->value;
        if (s->listed)
            imgsync__scope_maybe_commit(run, s);
        else if (!s->failed && !s->committed)
            imgsync__scope_fail(run, s, IMGSYNC_EINTERNAL, "the provider never completed this repository's listing");
    }
    if (run->catalog_complete && run->mode == IMGSYNC_RUN_SYNC)
        prune(run);
}

/* ---- SPI ------------------------------------------------------------------------------------ */

/* A scope name the inventory can hold: a valid repository and partition. */
static int scope_names_ok(const char *partition, const char *repository)
{
    return imgsync__name_repository_ok(repository) && (!partition || !*partition || imgsync__name_label_ok(partition));
}

int imgsync_run_scope_begin(imgsync_run *run, const char *partition, const char *repository)
{
    if (!run || !scope_names_ok(partition, repository))
        return IMGSYNC_EINVAL;
    return imgsync__scope_get(run, partition, repository, 1) ? 0 : IMGSYNC_ENOMEM;
}

int imgsync_run_scope_listed(imgsync_run *run, const char *partition, const char *repository)
{
    if (!run || !scope_names_ok(partition, repository))
        return IMGSYNC_EINVAL;
    imgsync__scope *s = imgsync__scope_get(run, partition, repository, 1);
    if (!s)
        return IMGSYNC_ENOMEM;
    s->listed = 1;
    imgsync__scope_maybe_commit(run, s);
    return 0;
}

/* A failure of an item whose name cannot be a scope: counted once per name (among the
 * repositories, so that no more fail than there are) and recorded, nothing stored. Items with no
 * name at all (a name holding a NUL comes as "") cannot be told apart: each counts. */
static int fail_unnamed(imgsync_run *run, const char *partition, const char *name, int code, const char *message)
{
    if (name && *name) {
        char *key = imgsync__scope_key(partition ? partition : "", name);
        if (!key)
            return IMGSYNC_ENOMEM;
        int rc = imgsync__map_get(&run->failed_items, key) ? 1 : imgsync__map_put(&run->failed_items, key, (void *)1, NULL);
        free(key);
        if (rc)
            return rc == 1 ? 0 : rc;
    } else {
        run->nameless_failed++;
    }
    run->scopes_failed++;
    imgsync__task_count(run->task, IMGSYNC_COUNT_REPOSITORIES_TOTAL, 1);
    imgsync__task_count(run->task, IMGSYNC_COUNT_REPOSITORIES_FAILED, 1);
    imgsync__run_error(run, name && *name ? name : "(invalid)", code, message);
    return 0;
}

int imgsync_run_scope_fail(imgsync_run *run, const char *partition, const char *repository, int code,
                           const char *message)
{
    if (!run || !repository)
        return IMGSYNC_EINVAL;
    if (!code)
        code = IMGSYNC_EINTERNAL;
    if (!scope_names_ok(partition, repository))
        return fail_unnamed(run, partition, repository, code, message);
    imgsync__scope *s = imgsync__scope_get(run, partition, repository, 1);
    if (!s)
        return IMGSYNC_ENOMEM;
    imgsync__scope_fail(run, s, code, message);
    return 0;
}

int imgsync_run_scope_namespace_fail(imgsync_run *run, const char *partition, const char *ns, int code,
                                     const char *message)
{
    if (!run || !ns)
        return IMGSYNC_EINVAL;
    char *key = imgsync__scope_key(partition, ns);
    if (!key)
        return IMGSYNC_ENOMEM;
    int rc = imgsync__map_get(&run->failed_ns, key) ? 1 : imgsync__map_put(&run->failed_ns, key, (void *)1, NULL);
    free(key);
    if (rc)
        return rc == 1 ? 0 : rc;
    run->ns_failed++;
    imgsync__task_count(run->task, IMGSYNC_COUNT_REPOSITORIES_TOTAL, 1); /* failed <= total */
    imgsync__task_count(run->task, IMGSYNC_COUNT_REPOSITORIES_FAILED, 1);
    imgsync__run_error(run, ns, code ? code : IMGSYNC_EINTERNAL, message);
    return 0;
}

int imgsync_run_partition_fail(imgsync_run *run, const char *partition, int code, const char *message)
{
    if (!run || !partition)
        return IMGSYNC_EINVAL;
    if (!imgsync__map_get(&run->failed_parts, partition) && imgsync__map_put(&run->failed_parts, partition, (void *)1, NULL))
        return IMGSYNC_ENOMEM;
    if (!code) { /* a deliberate skip: noted, not an error */
        imgsync__run_note(run, message ? message : partition);
        return 0;
    }
    run->parts_failed++;
    imgsync__run_error(run, partition, code, message);
    return 0;
}

int imgsync_run_repository_begin(imgsync_run *run, const char *repository)
{
    return imgsync_run_scope_begin(run, "", repository);
}

int imgsync_run_repository_listed(imgsync_run *run, const char *repository)
{
    return imgsync_run_scope_listed(run, "", repository);
}

int imgsync_run_repository_fail(imgsync_run *run, const char *repository, int code, const char *message)
{
    return imgsync_run_scope_fail(run, "", repository, code, message);
}

int imgsync_run_namespace_fail(imgsync_run *run, const char *ns, int code, const char *message)
{
    return imgsync_run_scope_namespace_fail(run, "", ns, code, message);
}

int imgsync_run_catalog_complete(imgsync_run *run)
{
    if (!run)
        return IMGSYNC_EINVAL;
    run->catalog_complete = 1;
    return 0;
}
