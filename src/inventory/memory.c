/* In-memory inventory store: (provider, partition, repository) -> rows of that scope. The
 * reference backend: the others count and select like it. */
#include <stdio.h>
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

static void memory_rollback(imgsync__store *base);

static void memory_close(imgsync__store *base)
{
    memory_store *s = (memory_store *)base;
    memory_rollback(base); /* a transaction left open is not committed */
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
    imgsync__memory_feed_free(s);
    imgsync__memory_history_free(s);
    free(s);
}

/* A new repo_rows for the scope with room for `cap` rows. NULL on ENOMEM. */
static repo_rows *repo_rows_new(const char *provider, const char *partition, const char *repository, size_t cap)
{
    repo_rows *r = calloc(1, sizeof(*r));
    if (r && (!(r->provider = imgsync__strdup(provider)) || !(r->partition = imgsync__strdup(partition)) ||
              !(r->repository = imgsync__strdup(repository)) || !(r->rows = malloc((cap + 1) * sizeof(*r->rows))))) {
        repo_rows_free(r);
        return NULL;
    }
    return r;
}

/* Put the scope's new content in both maps in place of `old` (or remove the scope when `fresh`
 * is empty; fresh is then freed). On failure fresh is freed and the maps still hold old. `old`
 * itself is left to the caller (see retire). */
static int memory_install(memory_store *s, const char *provider, const char *key, repo_rows *old, repo_rows *fresh)
{
    int rc = 0;
    imgsync__map *mine = provider_scopes(s, provider, fresh->n > 0);
    if (fresh->n == 0) {
        repo_rows_free(fresh);
        imgsync__map_remove(&s->repos, key);
        if (mine)
            imgsync__map_remove(mine, key);
        return 0;
    }
    if (!mine || (rc = imgsync__map_put(mine, key, fresh, NULL)) != 0 ||
        (rc = imgsync__map_put(&s->repos, key, fresh, NULL)) != 0) {
        if (mine && old) /* both maps keep pointing at the old rows */
            imgsync__map_put(mine, key, old, NULL); /* the key exists: replacing it cannot fail */
        else if (mine)
            imgsync__map_remove(mine, key);
        repo_rows_free(fresh);
        return rc ? rc : IMGSYNC_ENOMEM;
    }
    return 0;
}

/* Room for one more undo entry when a transaction is open. 0 or ENOMEM. */
static int undo_reserve(memory_store *s)
{
    memory_tx *tx = &s->tx;
    if (!tx->open || tx->nundo < tx->cap)
        return 0;
    size_t cap = tx->cap ? 2 * tx->cap : 16;
    memory_undo *grown = realloc(tx->undo, cap * sizeof(*grown));
    if (!grown)
        return IMGSYNC_ENOMEM;
    tx->undo = grown;
    tx->cap = cap;
    return 0;
}

/* A scope's content was replaced by a change: keep the old one for a rollback when a
 * transaction is open (room reserved by undo_reserve), else free it. Takes `key`. */
static void retire(memory_store *s, char *key, repo_rows *old)
{
    if (s->tx.open) {
        s->tx.undo[s->tx.nundo++] = (memory_undo){key, old};
        return;
    }
    free(key);
    if (old)
        repo_rows_free(old);
}

/* imgsync__store_diff callbacks: the scope's new rows and the changes to record. */
typedef struct memory_diff {
    repo_rows *fresh;
    memory_change *pending; /* room for every old and new row */
    size_t npending;
    uint64_t task;
} memory_diff;

static int record(memory_diff *d, int kind, struct imgsync_image *row, const struct imgsync_image *prev)
{
    if (!d->task || !kind)
        return 0;
    memory_change *c = &d->pending[d->npending];
    *c = (memory_change){d->task, 0, kind, 0, NULL, NULL, -1};
    if (kind == IMGSYNC__CHANGE_UPDATED) {
        if (!(c->old_digest = imgsync__strdup(prev->v[IMGSYNC__F_digest].s)))
            return IMGSYNC_ENOMEM;
        c->old_size = prev->v[IMGSYNC__F_size].i;
    }
    c->row = imgsync__image_ref(row);
    d->npending++;
    return 0;
}

static int diff_keep(void *ud, struct imgsync_image *old)
{
    repo_rows *fresh = ((memory_diff *)ud)->fresh;
    fresh->rows[fresh->n++] = imgsync__image_ref(old);
    return 0;
}

static int diff_put(void *ud, int kind, struct imgsync_image *row, const struct imgsync_image *prev)
{
    diff_keep(ud, row);
    return record(ud, kind, row, prev);
}

static int diff_remove(void *ud, struct imgsync_image *old) { return record(ud, IMGSYNC__CHANGE_REMOVED, old, NULL); }

static void pending_free(memory_diff *d)
{
    for (size_t i = 0; i < d->npending; i++)
        imgsync__memory_change_clear(&d->pending[i]);
    free(d->pending);
}

/* Diff the scope's rows into d (fresh content and pending changes), reserve what installing
 * them needs. 0 or ENOMEM. */
static int memory_prepare(memory_store *s, repo_rows *old, struct imgsync_image **rows, size_t n,
                          const imgsync__selector *sel, memory_diff *d, imgsync__store_counts *delta)
{
    static const imgsync__diff_ops ops = {diff_keep, diff_put, diff_remove};
    size_t old_n = old ? old->n : 0;
    if (d->task && !(d->pending = malloc((old_n + n + 1) * sizeof(*d->pending))))
        return IMGSYNC_ENOMEM;
    int rc = imgsync__store_diff(old ? old->rows : NULL, old_n, rows, n, sel, &ops, d, delta);
    if (!rc)
        rc = imgsync__memory_feed_reserve(s, d->npending);
    return rc ? rc : undo_reserve(s);
}

static int memory_replace(imgsync__store *base, const char *provider, const char *partition, const char *repository,
                          struct imgsync_image **rows, size_t n, const imgsync__selector *sel,
                          imgsync__store_counts *c)
{
    memory_store *s = (memory_store *)base;
    char *key = repo_key(provider, partition, repository);
    repo_rows *old = key ? imgsync__map_get(&s->repos, key) : NULL;
    size_t old_n = old ? old->n : 0;
    memory_diff d = {key ? repo_rows_new(provider, partition, repository, old_n + n) : NULL, NULL, 0, s->feed.task};
    imgsync__store_counts delta = {0, 0, 0};
    int rc = d.fresh ? memory_prepare(s, old, rows, n, sel, &d, &delta) : IMGSYNC_ENOMEM;
    if (rc && d.fresh)
        repo_rows_free(d.fresh);
    size_t m = rc ? 0 : d.fresh->n; /* read before installing: an empty scope's rows are freed */
    if (!rc)
        rc = memory_install(s, provider, key, old, d.fresh);
    if (rc) {
        pending_free(&d);
        free(key);
        return rc;
    }
    retire(s, key, old);
    imgsync__memory_feed_append(s, d.pending, d.npending);
    free(d.pending);
    s->count = s->count - old_n + m;
    c->added += delta.added;
    c->updated += delta.updated;
    c->removed += delta.removed;
    return 0;
}

/* The scope's namespace: that of its row with the smallest key (as the SQLite store). */
static const char *first_row_namespace(const repo_rows *r)
{
    const struct imgsync_image *first = NULL;
    for (size_t i = 0; i < r->n; i++)
        if (!first || imgsync__image_key_cmp(r->rows[i], first) < 0)
            first = r->rows[i];
    return first ? first->v[IMGSYNC__F_namespace].s : "";
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
        const char *ns = first_row_namespace(r);
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
        char *key = s->tx.open ? imgsync__strdup(e->key) : NULL;
        s->count -= r->n;
        imgsync__map_remove(&s->repos, e->key);
        if (key && !undo_reserve(s)) {
            retire(s, key, r);
        } else {
            if (s->tx.open) /* out of memory: a rollback cannot bring this scope back */
                snprintf(base->errmsg, sizeof(base->errmsg), "memory store: out of memory keeping an undo entry");
            free(key);
            repo_rows_free(r);
        }
    }
    provider_scopes_drop(s, provider);
}

static size_t memory_count(const imgsync__store *base) { return ((const memory_store *)base)->count; }

/* ---- explicit transactions ----------------------------------------------------------------- */

static int memory_begin(imgsync__store *base)
{
    memory_store *s = (memory_store *)base;
    if (s->tx.open)
        return IMGSYNC_EINTERNAL;
    s->tx.open = 1;
    s->tx.feed_mark = s->feed.n;
    s->tx.count_mark = s->count;
    s->tx.nundo = 0;
    return 0;
}

/* Remove whatever the scope `key` holds now from both maps. */
static void unset_scope(memory_store *s, const char *key)
{
    repo_rows *cur = imgsync__map_remove(&s->repos, key);
    if (!cur)
        return;
    imgsync__map *mine = provider_scopes(s, cur->provider, 0);
    if (mine)
        imgsync__map_remove(mine, key);
    repo_rows_free(cur);
}

/* Give the scope `key` its content from before the transaction. */
static void restore_scope(memory_store *s, memory_undo *u)
{
    unset_scope(s, u->key);
    if (!u->old)
        return;
    imgsync__map *mine = provider_scopes(s, u->old->provider, 1);
    if (!mine || imgsync__map_put(mine, u->key, u->old, NULL) || imgsync__map_put(&s->repos, u->key, u->old, NULL)) {
        if (mine) /* out of memory: the scope is lost (never left half in the maps) */
            imgsync__map_remove(mine, u->key);
        repo_rows_free(u->old);
    }
}

static void memory_rollback(imgsync__store *base)
{
    memory_store *s = (memory_store *)base;
    if (!s->tx.open)
        return;
    for (size_t i = s->tx.nundo; i-- > 0;) {
        restore_scope(s, &s->tx.undo[i]);
        free(s->tx.undo[i].key);
    }
    imgsync__memory_feed_truncate(s, s->tx.feed_mark);
    imgsync__memory_history_end(s, 1);
    s->count = s->tx.count_mark;
    free(s->tx.undo);
    memset(&s->tx, 0, sizeof(s->tx));
}

static int memory_commit(imgsync__store *base)
{
    memory_store *s = (memory_store *)base;
    if (!s->tx.open)
        return IMGSYNC_EINTERNAL;
    for (size_t i = 0; i < s->tx.nundo; i++) {
        free(s->tx.undo[i].key);
        if (s->tx.undo[i].old)
            repo_rows_free(s->tx.undo[i].old);
    }
    free(s->tx.undo);
    imgsync__memory_history_end(s, 0);
    memset(&s->tx, 0, sizeof(s->tx));
    imgsync__memory_feed_compact(s);
    return 0;
}

static const imgsync__store_ops memory_ops = {
    .close = memory_close,
    .replace = memory_replace,
    .prune = memory_prune,
    .drop_provider = memory_drop_provider,
    .count = memory_count,
    .persistent = 0,
    /* v2: change feed and queries */
    .begin = memory_begin,
    .commit = memory_commit,
    .rollback = memory_rollback,
    .set_change_task = imgsync__memory_set_change_task,
    .query = imgsync__memory_query,
    .changes = imgsync__memory_changes,
    .changes_forget = imgsync__memory_changes_forget,
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
