/* The store interface: opening by URI, dispatch to the backend, and the selection and change
 * counting every backend shares (so that memory and SQLite agree row for row). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inventory/store.h"
#include "util/buf.h"
#include "util/glob.h"

char *imgsync__scope_key(const char *partition, const char *repository)
{
    return imgsync__strjoin(partition ? partition : "", "\x1f", repository, (char *)NULL);
}

/* Each thread keeps the detail of its own last failed store call: a reader failing on another
 * thread must not replace (or race with) the message the driving thread is about to report. */
static __thread const imgsync__store *err_store;
static __thread char err_msg[sizeof(((imgsync__store *)0)->errmsg)];

/* The stores whose explicit transaction this thread holds (and so their locks), linked through
 * tx_next: a thread may hold several (two contexts driven from one thread). Only the holding
 * thread touches a held store's tx_next. */
static __thread imgsync__store *tx_held;

static int holds_tx(const imgsync__store *s)
{
    for (const imgsync__store *p = tx_held; p; p = p->tx_next)
        if (p == s)
            return 1;
    return 0;
}

static void tx_push(imgsync__store *s)
{
    s->tx_next = tx_held;
    tx_held = s;
}

static void tx_pop(imgsync__store *s)
{
    for (imgsync__store **p = &tx_held; *p; p = &(*p)->tx_next)
        if (*p == s) {
            *p = s->tx_next;
            s->tx_next = NULL;
            return;
        }
}

/* Enter the backend: one thread at a time, with no failure recorded yet. */
static void enter(imgsync__store *s)
{
    if (!holds_tx(s))
        pthread_mutex_lock(&s->lock);
    s->errmsg[0] = '\0';
}

/* Leave it, keeping what the backend said for this thread. Returns rc. */
static int leave(imgsync__store *s, int rc)
{
    err_store = s;
    memcpy(err_msg, s->errmsg, sizeof(err_msg));
    if (!holds_tx(s))
        pthread_mutex_unlock(&s->lock);
    return rc;
}

static int open_backend(imgsync__store **out, const char *uri, char *msg, size_t len)
{
    if (!uri || strcmp(uri, "memory:") == 0)
        return imgsync__memory_open(out, msg, len);
    if (strncmp(uri, "sqlite:", 7) == 0 && uri[7])
        return imgsync__sqlite_open(out, uri + 7, msg, len);
    if (msg && len)
        snprintf(msg, len, "unsupported store URI (expected \"memory:\" or \"sqlite:PATH\")");
    return IMGSYNC_EUNSUPPORTED;
}

int imgsync__store_open_msg(imgsync__store **out, const char *uri, char *msg, size_t len)
{
    if (msg && len)
        msg[0] = '\0';
    if (!out)
        return IMGSYNC_EINVAL;
    *out = NULL;
    int rc = open_backend(out, uri, msg, len);
    if (!rc && pthread_mutex_init(&(*out)->lock, NULL) != 0) {
        (*out)->ops->close(*out);
        *out = NULL;
        rc = IMGSYNC_ENOMEM;
    }
    return rc;
}

int imgsync__store_open(imgsync__store **out, const char *uri) { return imgsync__store_open_msg(out, uri, NULL, 0); }

/* No other thread may use the store any more (the context is being freed). */
void imgsync__store_close(imgsync__store *s)
{
    if (!s)
        return;
    if (err_store == s)
        err_store = NULL; /* a later store at the same address starts without a message */
    if (holds_tx(s)) { /* closed inside a transaction (the backend rolls it back): let go of it, so
                        * that a later store at the same address is not taken for it */
        tx_pop(s);
        pthread_mutex_unlock(&s->lock);
    }
    pthread_mutex_destroy(&s->lock);
    s->ops->close(s);
}

const char *imgsync__store_errmsg(const imgsync__store *s) { return s && s == err_store ? err_msg : ""; }

int imgsync__store_replace(imgsync__store *s, const char *provider, const char *partition, const char *repository,
                           struct imgsync_image **rows, size_t n, const imgsync__selector *sel,
                           imgsync__store_counts *c)
{
    enter(s);
    return leave(s, s->ops->replace(s, provider, partition, repository, rows, n, sel, c));
}

int imgsync__store_prune(imgsync__store *s, const char *provider, const imgsync__map *seen,
                         const imgsync__map *failed_parts, const imgsync__map *failed_ns,
                         const imgsync__selector *sel, imgsync__store_counts *c)
{
    enter(s);
    return leave(s, s->ops->prune(s, provider, seen, failed_parts, failed_ns, sel, c));
}

/* ops never change after open: no lock needed */
int imgsync__store_persistent(const imgsync__store *s) { return s && s->ops->persistent; }

void imgsync__store_drop_provider(imgsync__store *s, const char *provider)
{
    enter(s);
    s->ops->drop_provider(s, provider);
    leave(s, 0);
}

size_t imgsync__store_count(imgsync__store *s)
{
    enter(s);
    size_t n = s->ops->count(s);
    leave(s, 0);
    return n;
}

/* ---- v2 ------------------------------------------------------------------------------------ */

int imgsync__store_begin(imgsync__store *s)
{
    if (holds_tx(s))
        return IMGSYNC_EINTERNAL; /* not nested */
    enter(s);
    int rc = s->ops->begin(s);
    if (rc)
        return leave(s, rc);
    tx_push(s); /* the lock stays held until commit or rollback */
    return 0;
}

int imgsync__store_commit(imgsync__store *s)
{
    if (!holds_tx(s))
        return IMGSYNC_EINTERNAL;
    s->errmsg[0] = '\0';
    int rc = s->ops->commit(s);
    if (rc)
        s->ops->rollback(s);
    tx_pop(s);
    return leave(s, rc);
}

void imgsync__store_rollback(imgsync__store *s)
{
    if (!holds_tx(s))
        return;
    s->ops->rollback(s);
    tx_pop(s);
    leave(s, 0);
}

void imgsync__store_set_change_task(imgsync__store *s, uint64_t task_id)
{
    enter(s);
    if (s->ops->set_change_task)
        s->ops->set_change_task(s, task_id);
    leave(s, 0);
}

int imgsync__store_query(imgsync__store *s, const imgsync__query *q, imgsync__cursor **out)
{
    enter(s);
    return leave(s, s->ops->query(s, q, out));
}

int imgsync__store_changes(imgsync__store *s, uint64_t task_id, int since, imgsync__cursor **out)
{
    enter(s);
    return leave(s, s->ops->changes(s, task_id, since, out));
}

int imgsync__cursor_next(imgsync__cursor *c, imgsync__change_row *out) { return c->next(c, out); }
const char *imgsync__cursor_errmsg(const imgsync__cursor *c) { return c ? c->errmsg : ""; }
void imgsync__cursor_free(imgsync__cursor *c)
{
    if (c)
        c->free(c);
}

int imgsync__store_task_insert(imgsync__store *s, imgsync__task_rec *r)
{
    enter(s);
    return leave(s, s->ops->task_insert(s, r));
}

int imgsync__store_task_update(imgsync__store *s, const imgsync__task_rec *r)
{
    enter(s);
    return leave(s, s->ops->task_update(s, r));
}

int imgsync__store_task_get(imgsync__store *s, uint64_t id, imgsync__task_rec *r)
{
    enter(s);
    return leave(s, s->ops->task_get(s, id, r));
}

int imgsync__store_task_list(imgsync__store *s, int state, int trigger, size_t limit, imgsync__task_rec **out,
                             size_t *n)
{
    enter(s);
    return leave(s, s->ops->task_list(s, state, trigger, limit, out, n));
}

/* The task records (history backend) and their changes (inventory backend) go together. */
int imgsync__store_task_prune(imgsync__store *s, size_t keep, size_t *removed)
{
    uint64_t *ids = NULL;
    size_t n = 0;
    int own_tx = !holds_tx(s) && s->ops->begin; /* every backend has begin (NULL only while being written) */
    enter(s);
    int rc = own_tx ? s->ops->begin(s) : 0;
    if (!rc)
        rc = s->ops->task_prune(s, keep, &ids, &n);
    if (!rc && n && s->ops->changes_forget)
        rc = s->ops->changes_forget(s, ids, n);
    if (own_tx && !rc)
        rc = s->ops->commit(s);
    if (own_tx && rc)
        s->ops->rollback(s);
    free(ids);
    if (removed)
        *removed = rc ? 0 : n;
    return leave(s, rc);
}

int imgsync__store_schedule_insert(imgsync__store *s, imgsync__schedule_rec *r)
{
    enter(s);
    return leave(s, s->ops->schedule_insert(s, r));
}

int imgsync__store_schedule_remove(imgsync__store *s, uint64_t id)
{
    enter(s);
    return leave(s, s->ops->schedule_remove(s, id));
}

int imgsync__store_schedule_list(imgsync__store *s, imgsync__schedule_rec **out, size_t *n)
{
    enter(s);
    return leave(s, s->ops->schedule_list(s, out, n));
}

int imgsync__store_schedule_claim(imgsync__store *s, uint64_t id, int64_t due_ms, int64_t new_next_ms,
                                  uint64_t task_id, int *claimed)
{
    enter(s);
    return leave(s, s->ops->schedule_claim(s, id, due_ms, new_next_ms, task_id, claimed));
}

void imgsync__task_rec_clear(imgsync__task_rec *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->nregistries; i++) {
        free(r->registries[i].name);
        free(r->registries[i].type);
        free(r->registries[i].reason);
    }
    for (size_t i = 0; i < r->nerrors; i++) {
        free(r->errors[i].registry);
        free(r->errors[i].repository);
        free(r->errors[i].message);
    }
    free(r->registries);
    free(r->errors);
    free(r->reason);
    free(r->owner);
    memset(r, 0, sizeof(*r));
}

void imgsync__schedule_rec_clear(imgsync__schedule_rec *r)
{
    if (!r)
        return;
    free(r->request);
    memset(r, 0, sizeof(*r));
}

int imgsync__selected_row(const imgsync__selector *sel, const struct imgsync_image *im)
{
    return !sel || !sel->row || sel->row(sel->ud, im);
}

int imgsync__selected_repository(const imgsync__selector *sel, const char *provider, const char *ns,
                                 const char *repository)
{
    return !sel || !sel->repository || sel->repository(sel->ud, provider, ns, repository);
}

/* Index rows by their key within a scope (tag, or "@digest" when untagged) so a diff is
 * linear in the scope's size. 0 or ENOMEM. */
static int index_rows(imgsync__map *idx, struct imgsync_image **rows, size_t n)
{
    imgsync__map_init(idx);
    for (size_t i = 0; i < n; i++) {
        char buf[IMGSYNC__KEY_BUF], *heap;
        const char *k = imgsync__image_key_tmp(rows[i], buf, sizeof(buf), &heap);
        int rc = k ? imgsync__map_put(idx, k, rows[i], NULL) : IMGSYNC_ENOMEM;
        free(heap);
        if (rc) {
            imgsync__map_clear(idx);
            return rc;
        }
    }
    return 0;
}

static struct imgsync_image *find_row(const imgsync__map *idx, const struct imgsync_image *like)
{
    char buf[IMGSYNC__KEY_BUF], *heap;
    const char *k = imgsync__image_key_tmp(like, buf, sizeof(buf), &heap);
    struct imgsync_image *im = k ? imgsync__map_get(idx, k) : NULL;
    free(heap);
    return im;
}

/* The first_seen of a row about to be stored: that of the stored row it replaces, else its own
 * sync time. Written only when it changes (the row may be one a reader already holds). */
static void set_first_seen(struct imgsync_image *row, const struct imgsync_image *prev)
{
    int64_t v = prev ? prev->v[IMGSYNC__F_first_seen_ms].i : row->v[IMGSYNC__F_sync_ms].i;
    if (row->v[IMGSYNC__F_first_seen_ms].i != v)
        row->v[IMGSYNC__F_first_seen_ms].i = v;
}

/* The old rows' side of a diff: kept (unselected, not replaced) or removed. */
static int diff_old(const imgsync__map *idx_new, struct imgsync_image **old, size_t old_n,
                    const imgsync__selector *sel, const imgsync__diff_ops *ops, void *ud, imgsync__store_counts *delta)
{
    int rc = 0;
    for (size_t i = 0; !rc && i < old_n; i++) {
        int replaced = find_row(idx_new, old[i]) != NULL; /* e.g. a tag that moved from a chart to an image */
        if (replaced)
            continue;
        if (!imgsync__selected_row(sel, old[i])) {
            rc = ops->keep ? ops->keep(ud, old[i]) : 0;
        } else {
            delta->removed++;
            rc = ops->remove(ud, old[i]);
        }
    }
    return rc;
}

/* The new rows' side: each added, updated or the same as the stored row of its key. */
static int diff_new(const imgsync__map *idx_old, struct imgsync_image **rows, size_t n, const imgsync__diff_ops *ops,
                    void *ud, imgsync__store_counts *delta)
{
    int rc = 0;
    for (size_t i = 0; !rc && i < n; i++) {
        struct imgsync_image *prev = find_row(idx_old, rows[i]);
        int kind = !prev ? IMGSYNC__CHANGE_ADDED : imgsync__image_differs(prev, rows[i]) ? IMGSYNC__CHANGE_UPDATED : 0;
        if (kind == IMGSYNC__CHANGE_ADDED)
            delta->added++;
        else if (kind == IMGSYNC__CHANGE_UPDATED)
            delta->updated++;
        set_first_seen(rows[i], prev);
        rc = ops->put(ud, kind, rows[i], prev);
    }
    return rc;
}

int imgsync__store_diff(struct imgsync_image **old, size_t old_n, struct imgsync_image **rows, size_t n,
                        const imgsync__selector *sel, const imgsync__diff_ops *ops, void *ud,
                        imgsync__store_counts *delta)
{
    imgsync__map idx_old, idx_new;
    if (index_rows(&idx_new, rows, n))
        return IMGSYNC_ENOMEM;
    if (index_rows(&idx_old, old, old_n)) {
        imgsync__map_clear(&idx_new);
        return IMGSYNC_ENOMEM;
    }
    int rc = diff_old(&idx_new, old, old_n, sel, ops, ud, delta);
    if (!rc)
        rc = diff_new(&idx_old, rows, n, ops, ud, delta);
    imgsync__map_clear(&idx_old);
    imgsync__map_clear(&idx_new);
    return rc;
}

int imgsync__scope_vanished(const char *provider, const char *partition, const char *repository, const char *ns,
                            const imgsync__map *seen, const imgsync__map *failed_parts, const imgsync__map *failed_ns,
                            const imgsync__selector *sel, int *oom)
{
    char *sk = imgsync__scope_key(partition, repository);
    char *nk = imgsync__scope_key(partition, ns);
    int gone = 0;
    *oom = !sk || !nk;
    if (!*oom)
        gone = !imgsync__map_get(seen, sk) && !(failed_parts && imgsync__map_get(failed_parts, partition)) &&
               !(failed_ns && imgsync__map_get(failed_ns, nk)) &&
               imgsync__selected_repository(sel, provider, ns, repository);
    free(sk);
    free(nk);
    return gone;
}

/* ---- queries -------------------------------------------------------------------------------- */

static int one_of_strings(const char *const *v, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(v[i], s) == 0)
            return 1;
    return n == 0;
}

static int one_of_ints(const int *v, size_t n, int x)
{
    for (size_t i = 0; i < n; i++)
        if (v[i] == x)
            return 1;
    return n == 0;
}

/* The repos rule: a registry named by some entry keeps only its entries' repositories. */
static int repos_match(const imgsync__query *q, const struct imgsync_image *im)
{
    const char *reg = im->v[IMGSYNC__F_registry].s, *repo = im->v[IMGSYNC__F_repository].s;
    int named = 0;
    for (size_t i = 0; i < q->nrepos; i++) {
        if (strcmp(q->repos[i].provider, reg) != 0)
            continue;
        if (strcmp(q->repos[i].repository, repo) == 0)
            return 1;
        named = 1;
    }
    return !named;
}

int imgsync__query_glob_column(int field)
{
    switch (field) {
    case IMGSYNC_FILTER_NAMESPACE: return IMGSYNC__F_namespace;
    case IMGSYNC_FILTER_REPOSITORY: return IMGSYNC__F_repository;
    case IMGSYNC_FILTER_TAG: return IMGSYNC__F_tag;
    default: return -1;
    }
}

/* The globs of one filter field: some INCLUDE matches (or there is none), no EXCLUDE does. */
static int globs_match_field(const imgsync__query *q, int field, const char *text)
{
    int includes = 0, included = 0;
    for (size_t i = 0; i < q->nglobs; i++) {
        const imgsync__query_glob *g = &q->globs[i];
        if (g->field != field)
            continue;
        int hit = imgsync__glob_match(g->pattern, text);
        if (g->mode == IMGSYNC_EXCLUDE && hit)
            return 0;
        if (g->mode == IMGSYNC_INCLUDE) {
            includes = 1;
            included |= hit;
        }
    }
    return !includes || included;
}

static int globs_match(const imgsync__query *q, const struct imgsync_image *im)
{
    static const int fields[] = {IMGSYNC_FILTER_NAMESPACE, IMGSYNC_FILTER_REPOSITORY, IMGSYNC_FILTER_TAG};
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
        if (!globs_match_field(q, fields[i], im->v[imgsync__query_glob_column(fields[i])].s))
            return 0;
    return 1;
}

int imgsync__query_match(const imgsync__query *q, const struct imgsync_image *im)
{
    if (!q)
        return 1;
    return one_of_strings(q->providers, q->nproviders, im->v[IMGSYNC__F_registry].s) &&
           one_of_ints(q->types, q->ntypes, im->type) && repos_match(q, im) && globs_match(q, im) &&
           (q->updated_since <= 0 || im->v[IMGSYNC__F_update_ms].i >= q->updated_since);
}
