/* In-memory inventory store: (provider, partition, repository) -> rows of that scope. The
 * reference backend: the others count and select like it. */
#include <stdlib.h>
#include <string.h>

#include "inventory/memory.h"
#include "util/buf.h"

/* The scopes of one provider (created when `create`), or NULL. */
static imgsync__map *provider_scopes(memory_store *s, const char *provider, int create)
{
    imgsync__map *m = imgsync__map_get(&s->by_provider, provider);
    if (m || !create)
        return m;
    if (!(m = malloc(sizeof(*m))))
        return NULL;
    imgsync__map_init(m);
    if (imgsync__map_put(&s->by_provider, provider, m, NULL)) {
        free(m);
        return NULL;
    }
    return m;
}

static void provider_scopes_drop(memory_store *s, const char *provider)
{
    imgsync__map *m = imgsync__map_remove(&s->by_provider, provider);
    if (m) {
        imgsync__map_clear(m);
        free(m);
    }
}

static char *repo_key(const char *provider, const char *partition, const char *repository)
{
    return imgsync__asprintf("%s\x1f%s\x1f%s", provider, partition, repository);
}

static void repo_rows_free(repo_rows *r)
{
    for (size_t i = 0; i < r->n; i++)
        imgsync__image_unref(r->rows[i]);
    free(r->rows);
    free(r->provider);
    free(r->partition);
    free(r->repository);
    free(r);
}

static void memory_close(imgsync__store *base)
{
    memory_store *s = (memory_store *)base;
    size_t pos = 0;
    imgsync__map_entry *e;
    while ((e = imgsync__map_next(&s->repos, &pos)))
        repo_rows_free(e->value);
    imgsync__map_clear(&s->repos);
    pos = 0;
    while ((e = imgsync__map_next(&s->by_provider, &pos))) {
        imgsync__map_clear(e->value);
        free(e->value);
    }
    imgsync__map_clear(&s->by_provider);
    imgsync__memory_history_free(s);
    free(s);
}

/* A new repo_rows for the scope, rows not yet set. NULL on ENOMEM. */
static repo_rows *repo_rows_new(const char *provider, const char *partition, const char *repository)
{
    repo_rows *r = calloc(1, sizeof(*r));
    if (r && (!(r->provider = imgsync__strdup(provider)) || !(r->partition = imgsync__strdup(partition)) ||
              !(r->repository = imgsync__strdup(repository)))) {
        repo_rows_free(r);
        return NULL;
    }
    return r;
}

/* Put the scope's new content in both maps (or remove the scope when it is empty). */
static int memory_install(memory_store *s, const char *provider, const char *key, repo_rows *old, repo_rows *fresh)
{
    int rc = 0;
    imgsync__map *mine = provider_scopes(s, provider, fresh->n > 0);
    if (fresh->n == 0) {
        repo_rows_free(fresh);
        repo_rows *gone = imgsync__map_remove(&s->repos, key);
        if (gone)
            repo_rows_free(gone);
        if (mine)
            imgsync__map_remove(mine, key);
    } else if (!mine || (rc = imgsync__map_put(mine, key, fresh, NULL)) != 0 ||
               (rc = imgsync__map_put(&s->repos, key, fresh, NULL)) != 0) {
        if (mine && old) /* both maps keep pointing at the old rows */
            imgsync__map_put(mine, key, old, NULL); /* the key exists: replacing it cannot fail */
        else if (mine)
            imgsync__map_remove(mine, key);
        repo_rows_free(fresh);
        return rc ? rc : IMGSYNC_ENOMEM;
    } else if (old) {
        repo_rows_free(old);
    }
    return 0;
}

static int memory_replace(imgsync__store *base, const char *provider, const char *partition, const char *repository,
                          struct imgsync_image **rows, size_t n, const imgsync__selector *sel,
                          imgsync__store_counts *c)
{
    memory_store *s = (memory_store *)base;
    char *key = repo_key(provider, partition, repository);
    repo_rows *fresh = key ? repo_rows_new(provider, partition, repository) : NULL;
    if (!fresh) {
        free(key);
        return IMGSYNC_ENOMEM;
    }
    repo_rows *old = imgsync__map_get(&s->repos, key);
    size_t old_n = old ? old->n : 0;
    imgsync__store_counts delta = {0, 0, 0};
    int rc = imgsync__store_merge(old ? old->rows : NULL, old_n, rows, n, sel, &fresh->rows, &fresh->n, &delta);
    if (rc) {
        repo_rows_free(fresh);
        free(key);
        return rc;
    }
    size_t m = fresh->n;
    rc = memory_install(s, provider, key, old, fresh);
    free(key);
    if (rc)
        return rc;
    s->count = s->count - old_n + m;
    c->added += delta.added;
    c->updated += delta.updated;
    c->removed += delta.removed;
    return 0;
}

static int memory_prune(imgsync__store *base, const char *provider, const imgsync__map *seen,
                        const imgsync__map *failed_parts, const imgsync__map *failed_ns, const imgsync__selector *sel,
                        imgsync__store_counts *c)
{
    memory_store *s = (memory_store *)base;
    size_t pos = 0;
    imgsync__map_entry *e;
    int rc = 0, oom = 0;
    imgsync__map *mine = provider_scopes(s, provider, 0);
    while (!rc && mine && (e = imgsync__map_next(mine, &pos))) {
        repo_rows *r = e->value;
        const char *ns = r->n ? r->rows[0]->v[IMGSYNC__F_namespace].s : "";
        if (imgsync__scope_vanished(provider, r->partition, r->repository, ns, seen, failed_parts, failed_ns, sel,
                                    &oom))
            rc = memory_replace(base, provider, r->partition, r->repository, NULL, 0, sel, c);
        else if (oom)
            rc = IMGSYNC_ENOMEM;
    }
    return rc;
}

static void memory_drop_provider(imgsync__store *base, const char *provider)
{
    memory_store *s = (memory_store *)base;
    size_t pos = 0;
    imgsync__map_entry *e;
    imgsync__map *mine = provider_scopes(s, provider, 0);
    while (mine && (e = imgsync__map_next(mine, &pos))) {
        repo_rows *r = e->value;
        s->count -= r->n;
        imgsync__map_remove(&s->repos, e->key);
        repo_rows_free(r);
    }
    provider_scopes_drop(s, provider);
}

static int memory_snapshot(imgsync__store *base, struct imgsync_image ***out, size_t *n)
{
    memory_store *s = (memory_store *)base;
    struct imgsync_image **all = malloc((s->count + 1) * sizeof(*all));
    if (!all)
        return IMGSYNC_ENOMEM;
    size_t m = 0, pos = 0;
    imgsync__map_entry *e;
    while ((e = imgsync__map_next(&s->repos, &pos))) {
        repo_rows *r = e->value;
        for (size_t i = 0; i < r->n && m < s->count; i++)
            all[m++] = imgsync__image_ref(r->rows[i]);
    }
    qsort(all, m, sizeof(*all), imgsync__image_cmp);
    *out = all;
    *n = m;
    return 0;
}

static size_t memory_count(const imgsync__store *base) { return ((const memory_store *)base)->count; }

static const imgsync__store_ops memory_ops = {
    .close = memory_close,
    .replace = memory_replace,
    .prune = memory_prune,
    .drop_provider = memory_drop_provider,
    .snapshot = memory_snapshot,
    .count = memory_count,
    .persistent = 0,
    /* v2: change feed and queries */
    /* v2: tasks and schedules */
    .task_insert = imgsync__memory_task_insert,
    .task_update = imgsync__memory_task_update,
    .task_get = imgsync__memory_task_get,
    .task_list = imgsync__memory_task_list,
    .task_prune = imgsync__memory_task_prune,
    .schedule_insert = imgsync__memory_schedule_insert,
    .schedule_remove = imgsync__memory_schedule_remove,
    .schedule_list = imgsync__memory_schedule_list,
    .schedule_claim = imgsync__memory_schedule_claim,
};

int imgsync__memory_open(imgsync__store **out, char *msg, size_t len)
{
    memory_store *s = calloc(1, sizeof(*s));
    if (!s)
        return IMGSYNC_ENOMEM;
    s->base.ops = &memory_ops;
    imgsync__map_init(&s->repos);
    imgsync__map_init(&s->by_provider);
    *out = &s->base;
    return 0;
}
