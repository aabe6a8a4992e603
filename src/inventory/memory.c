/* In-memory inventory store: (provider, partition, repository) -> rows of that scope. */
#include <stdlib.h>
#include <string.h>

#include "inventory/store.h"
#include "util/buf.h"

/* Rows of one scope of one provider. */
typedef struct repo_rows {
    char *provider;
    char *partition;
    char *repository;
    struct imgsync_image **rows;
    size_t n;
} repo_rows;

struct imgsync__store {
    imgsync__map repos; /* "provider\x1fpartition\x1frepository" -> repo_rows */
    imgsync__map by_provider; /* provider -> imgsync__map of the same keys -> repo_rows (borrowed):
                               * a prune walks its own provider's scopes only, not every registry's */
    size_t count;
};

/* The scopes of one provider (created when `create`), or NULL. */
static imgsync__map *provider_scopes(imgsync__store *s, const char *provider, int create)
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

static void provider_scopes_drop(imgsync__store *s, const char *provider)
{
    imgsync__map *m = imgsync__map_remove(&s->by_provider, provider);
    if (m) {
        imgsync__map_clear(m);
        free(m);
    }
}

char *imgsync__scope_key(const char *partition, const char *repository)
{
    return imgsync__strjoin(partition ? partition : "", "\x1f", repository, (char *)NULL);
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

int imgsync__store_open(imgsync__store **out, const char *uri)
{
    if (uri && strcmp(uri, "memory:") != 0)
        return IMGSYNC_EUNSUPPORTED;
    imgsync__store *s = calloc(1, sizeof(*s));
    if (!s)
        return IMGSYNC_ENOMEM;
    imgsync__map_init(&s->repos);
    imgsync__map_init(&s->by_provider);
    *out = s;
    return 0;
}

void imgsync__store_close(imgsync__store *s)
{
    if (!s)
        return;
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
    free(s);
}

/* Index rows by their key within a repository (tag, or "@digest" when untagged) so a commit is
 * linear in the repository's size. 0 or ENOMEM. */
static int index_rows(imgsync__map *idx, struct imgsync_image **rows, size_t n)
{
    imgsync__map_init(idx);
    for (size_t i = 0; i < n; i++) {
        char *k = imgsync__image_key(rows[i]);
        int rc = k ? imgsync__map_put(idx, k, rows[i], NULL) : IMGSYNC_ENOMEM;
        free(k);
        if (rc) {
            imgsync__map_clear(idx);
            return rc;
        }
    }
    return 0;
}

static struct imgsync_image *find_row(const imgsync__map *idx, const struct imgsync_image *like)
{
    char *k = imgsync__image_key(like);
    struct imgsync_image *im = k ? imgsync__map_get(idx, k) : NULL;
    free(k);
    return im;
}

static int selected_row(const imgsync__selector *sel, const struct imgsync_image *im)
{
    return !sel || !sel->row || sel->row(sel->ud, im);
}

static int selected_repository(const imgsync__selector *sel, const char *provider, const char *ns, const char *repo)
{
    return !sel || !sel->repository || sel->repository(sel->ud, provider, ns, repo);
}

int imgsync__store_replace(imgsync__store *s, const char *provider, const char *partition, const char *repository,
                           struct imgsync_image **rows, size_t n, const imgsync__selector *sel,
                           imgsync__store_counts *c)
{
    char *key = repo_key(provider, partition, repository);
    if (!key)
        return IMGSYNC_ENOMEM;
    repo_rows *old = imgsync__map_get(&s->repos, key);
    size_t old_n = old ? old->n : 0;
    /* New content: the unselected old rows plus the new rows. */
    struct imgsync_image **merged = malloc((old_n + n + 1) * sizeof(*merged));
    repo_rows *fresh = calloc(1, sizeof(*fresh));
    if (!merged || !fresh || !(fresh->provider = imgsync__strdup(provider)) ||
        !(fresh->partition = imgsync__strdup(partition)) || !(fresh->repository = imgsync__strdup(repository))) {
        free(merged);
        if (fresh)
            repo_rows_free(fresh);
        free(key);
        return IMGSYNC_ENOMEM;
    }
    imgsync__map idx_old, idx_new;
    if (index_rows(&idx_new, rows, n) || index_rows(&idx_old, old ? old->rows : NULL, old_n)) {
        imgsync__map_clear(&idx_new);
        free(merged);
        repo_rows_free(fresh);
        free(key);
        return IMGSYNC_ENOMEM;
    }
    size_t m = 0;
    imgsync__store_counts delta = {0, 0, 0};
    for (size_t i = 0; i < old_n; i++) {
        struct imgsync_image *im = old->rows[i];
        int replaced = find_row(&idx_new, im) != NULL; /* e.g. a tag that moved from a chart to an image */
        if (!selected_row(sel, im) && !replaced)
            merged[m++] = imgsync__image_ref(im);
        else if (!find_row(&idx_new, im))
            delta.removed++;
    }
    for (size_t i = 0; i < n; i++) {
        struct imgsync_image *prev = find_row(&idx_old, rows[i]);
        if (!prev)
            delta.added++;
        else if (imgsync__image_differs(prev, rows[i]))
            delta.updated++;
        merged[m++] = imgsync__image_ref(rows[i]);
    }
    imgsync__map_clear(&idx_old);
    imgsync__map_clear(&idx_new);
    fresh->rows = merged;
    fresh->n = m;
    int rc = 0;
    imgsync__map *mine = provider_scopes(s, provider, m > 0);
    if (m == 0) {
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
        free(key);
        return rc ? rc : IMGSYNC_ENOMEM;
    } else if (old) {
        repo_rows_free(old);
    }
    s->count = s->count - old_n + m;
    c->added += delta.added;
    c->updated += delta.updated;
    c->removed += delta.removed;
    free(key);
    return 0;
}

/* Is a stored scope one that a complete catalog of this run says has gone? */
static int vanished(const repo_rows *r, const imgsync__map *seen, const imgsync__map *failed_parts,
                    const imgsync__map *failed_ns, const imgsync__selector *sel, int *oom)
{
    const char *ns = r->n ? r->rows[0]->v[IMGSYNC__F_namespace].s : "";
    char *sk = imgsync__scope_key(r->partition, r->repository);
    char *nk = imgsync__scope_key(r->partition, ns);
    int gone = 0;
    *oom = !sk || !nk;
    if (!*oom)
        gone = !imgsync__map_get(seen, sk) && !(failed_parts && imgsync__map_get(failed_parts, r->partition)) &&
               !(failed_ns && imgsync__map_get(failed_ns, nk)) &&
               selected_repository(sel, r->provider, ns, r->repository);
    free(sk);
    free(nk);
    return gone;
}

int imgsync__store_prune(imgsync__store *s, const char *provider, const imgsync__map *seen,
                         const imgsync__map *failed_parts, const imgsync__map *failed_ns,
                         const imgsync__selector *sel, imgsync__store_counts *c)
{
    size_t pos = 0;
    imgsync__map_entry *e;
    int rc = 0, oom = 0;
    imgsync__map *mine = provider_scopes(s, provider, 0);
    while (!rc && mine && (e = imgsync__map_next(mine, &pos))) {
        repo_rows *r = e->value;
        if (vanished(r, seen, failed_parts, failed_ns, sel, &oom))
            rc = imgsync__store_replace(s, provider, r->partition, r->repository, NULL, 0, sel, c);
        else if (oom)
            rc = IMGSYNC_ENOMEM;
    }
    return rc;
}

void imgsync__store_drop_provider(imgsync__store *s, const char *provider)
{
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

int imgsync__store_snapshot(imgsync__store *s, struct imgsync_image ***out, size_t *n)
{
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

size_t imgsync__store_count(const imgsync__store *s) { return s->count; }
