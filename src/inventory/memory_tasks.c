/* Tasks and schedules of the memory store: two arrays kept in id order (ids only grow, so an
 * insert appends), each entry a deep copy of the caller's record. Nothing is kept but what is
 * stored: the arrays shrink when records are removed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inventory/memory.h"
#include "util/buf.h"

struct memory_history {
    imgsync__task_rec *tasks; /* ascending id */
    size_t ntasks, task_cap;
    uint64_t last_task_id;    /* the greatest id ever given */
    imgsync__schedule_rec *schedules; /* ascending id */
    size_t nschedules, schedule_cap;
    uint64_t last_schedule_id;
};

/* The history of the store, created on first use when `create` (NULL: none yet, or ENOMEM). */
static struct memory_history *history(imgsync__store *s, int create)
{
    memory_store *ms = (memory_store *)s;
    if (!ms->history && create)
        ms->history = calloc(1, sizeof(*ms->history));
    return ms->history;
}

static void history_free(struct memory_history *h)
{
    if (!h)
        return;
    for (size_t i = 0; i < h->ntasks; i++)
        imgsync__task_rec_clear(&h->tasks[i]);
    for (size_t i = 0; i < h->nschedules; i++)
        imgsync__schedule_rec_clear(&h->schedules[i]);
    free(h->tasks);
    free(h->schedules);
    free(h);
}

void imgsync__memory_history_free(memory_store *ms)
{
    history_free(ms->history);
    ms->history = NULL;
}

/* ---- copies -------------------------------------------------------------------------------- */

/* A malloc'd copy of s, "" for NULL; sets *oom when the copy fails. */
static char *dup_str(const char *s, int *oom)
{
    char *d = imgsync__strdup(s ? s : "");
    if (!d)
        *oom = 1;
    return d;
}

static int copy_registries(imgsync__task_rec *d, const imgsync__task_rec *src)
{
    int oom = 0;
    if (!src->nregistries)
        return 0;
    if (!(d->registries = calloc(src->nregistries, sizeof(*d->registries))))
        return IMGSYNC_ENOMEM;
    d->nregistries = src->nregistries;
    for (size_t i = 0; i < src->nregistries; i++) {
        const imgsync__task_rec_registry *r = &src->registries[i];
        imgsync__task_rec_registry *o = &d->registries[i];
        o->name = dup_str(r->name, &oom);
        o->type = dup_str(r->type, &oom);
        o->reason = dup_str(r->reason, &oom);
        o->state = r->state;
        o->error = r->error;
    }
    return oom ? IMGSYNC_ENOMEM : 0;
}

static int copy_errors(imgsync__task_rec *d, const imgsync__task_rec *src)
{
    int oom = 0;
    if (!src->nerrors)
        return 0;
    if (!(d->errors = calloc(src->nerrors, sizeof(*d->errors))))
        return IMGSYNC_ENOMEM;
    d->nerrors = src->nerrors;
    for (size_t i = 0; i < src->nerrors; i++) {
        const imgsync__task_rec_error *e = &src->errors[i];
        imgsync__task_rec_error *o = &d->errors[i];
        o->registry = dup_str(e->registry, &oom);
        o->repository = dup_str(e->repository, &oom);
        o->message = dup_str(e->message, &oom);
        o->code = e->code;
    }
    return oom ? IMGSYNC_ENOMEM : 0;
}

/* *d = a deep copy of *src (strings never NULL). 0, or ENOMEM with *d cleared. */
static int task_copy(imgsync__task_rec *d, const imgsync__task_rec *src)
{
    int oom = 0;
    *d = *src;
    d->registries = NULL;
    d->errors = NULL;
    d->nregistries = d->nerrors = 0;
    d->reason = dup_str(src->reason, &oom);
    d->owner = dup_str(src->owner, &oom);
    if (oom || copy_registries(d, src) || copy_errors(d, src)) {
        imgsync__task_rec_clear(d);
        return IMGSYNC_ENOMEM;
    }
    return 0;
}

static int schedule_copy(imgsync__schedule_rec *d, const imgsync__schedule_rec *src)
{
    int oom = 0;
    *d = *src;
    d->request = dup_str(src->request, &oom);
    return oom ? IMGSYNC_ENOMEM : 0;
}

/* The array `arr` (n used of *cap elements of `size` bytes) with room for one more: arr itself,
 * or a moved copy, or NULL on ENOMEM (arr unchanged). */
static void *reserve(void *arr, size_t n, size_t *cap, size_t size)
{
    if (n < *cap)
        return arr;
    size_t want = *cap ? 2 * *cap : 8;
    void *grown = realloc(arr, want * size);
    if (grown)
        *cap = want;
    return grown;
}

/* After removals, give memory back: the capacity stays within twice the count (plus 8). Returns
 * the array (moved or not). */
static void *shrink(void *arr, size_t n, size_t *cap, size_t size)
{
    if (*cap <= 2 * n + 8)
        return arr;
    void *smaller = realloc(arr, (n + 8) * size);
    if (!smaller)
        return arr;
    *cap = n + 8;
    return smaller;
}

/* ---- transactions -------------------------------------------------------------------------- */

/* A deep copy of h, NULL on ENOMEM. */
static struct memory_history *history_copy(const struct memory_history *h)
{
    struct memory_history *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    c->last_task_id = h->last_task_id;
    c->last_schedule_id = h->last_schedule_id;
    c->tasks = malloc((h->ntasks + 1) * sizeof(*c->tasks));
    c->schedules = malloc((h->nschedules + 1) * sizeof(*c->schedules));
    int bad = !c->tasks || !c->schedules;
    c->task_cap = c->tasks ? h->ntasks + 1 : 0;
    c->schedule_cap = c->schedules ? h->nschedules + 1 : 0;
    for (size_t i = 0; !bad && i < h->ntasks; i++, c->ntasks++)
        bad = task_copy(&c->tasks[i], &h->tasks[i]) != 0;
    for (size_t i = 0; !bad && i < h->nschedules; i++, c->nschedules++)
        bad = schedule_copy(&c->schedules[i], &h->schedules[i]) != 0;
    if (bad) {
        history_free(c);
        return NULL;
    }
    return c;
}

/* Before the first task or schedule change of an open transaction, keep the history as it is
 * for a rollback (the rows keep an undo log; the history is small: the retention's tasks and
 * the schedules). 0, or ENOMEM with nothing changed. */
static int history_save(imgsync__store *s)
{
    memory_store *ms = (memory_store *)s;
    if (!ms->tx.open || ms->tx.history_saved)
        return 0;
    struct memory_history *copy = ms->history ? history_copy(ms->history) : NULL;
    if (ms->history && !copy)
        return IMGSYNC_ENOMEM;
    ms->tx.history_before = copy;
    ms->tx.history_saved = 1;
    return 0;
}

void imgsync__memory_history_end(memory_store *ms, int rollback)
{
    if (!ms->tx.history_saved)
        return;
    if (rollback) {
        history_free(ms->history);
        ms->history = ms->tx.history_before;
    } else {
        history_free(ms->tx.history_before);
    }
    ms->tx.history_before = NULL;
    ms->tx.history_saved = 0;
}

/* ---- tasks --------------------------------------------------------------------------------- */

/* Index of task `id` in h (ascending ids), or h->ntasks when absent. */
static size_t task_index(const struct memory_history *h, uint64_t id)
{
    size_t lo = 0, hi = h ? h->ntasks : 0;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (h->tasks[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return h && lo < h->ntasks && h->tasks[lo].id == id ? lo : (h ? h->ntasks : 0);
}

static int not_found(imgsync__store *s, const char *what, uint64_t id)
{
    snprintf(s->errmsg, sizeof(s->errmsg), "memory store: no %s %llu", what, (unsigned long long)id);
    return IMGSYNC_ENOTFOUND;
}

static int out_of_memory(imgsync__store *s, const char *what)
{
    snprintf(s->errmsg, sizeof(s->errmsg), "memory store: out of memory %s", what);
    return IMGSYNC_ENOMEM;
}

int imgsync__memory_task_insert(imgsync__store *s, imgsync__task_rec *r)
{
    if (history_save(s))
        return out_of_memory(s, "recording a task");
    struct memory_history *h = history(s, 1);
    imgsync__task_rec *v = h ? reserve(h->tasks, h->ntasks, &h->task_cap, sizeof(*v)) : NULL;
    if (!v)
        return out_of_memory(s, "recording a task");
    h->tasks = v;
    imgsync__task_rec *slot = &v[h->ntasks];
    if (task_copy(slot, r))
        return out_of_memory(s, "recording a task");
    slot->id = r->id = ++h->last_task_id;
    h->ntasks++;
    return 0;
}

int imgsync__memory_task_update(imgsync__store *s, const imgsync__task_rec *r)
{
    if (history_save(s))
        return out_of_memory(s, "updating a task");
    struct memory_history *h = history(s, 0);
    size_t i = task_index(h, r->id);
    if (!h || i == h->ntasks)
        return not_found(s, "task", r->id);
    imgsync__task_rec fresh;
    if (task_copy(&fresh, r))
        return out_of_memory(s, "updating a task");
    imgsync__task_rec_clear(&h->tasks[i]);
    h->tasks[i] = fresh;
    return 0;
}

int imgsync__memory_task_get(imgsync__store *s, uint64_t id, imgsync__task_rec *r)
{
    struct memory_history *h = history(s, 0);
    size_t i = task_index(h, id);
    if (!h || i == h->ntasks)
        return not_found(s, "task", id);
    return task_copy(r, &h->tasks[i]) ? out_of_memory(s, "reading a task") : 0;
}

static int task_selected(const imgsync__task_rec *t, int state, int trigger)
{
    return (state < 0 || t->state == state) && (trigger < 0 || t->trigger == trigger);
}

static void free_tasks(imgsync__task_rec *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        imgsync__task_rec_clear(&v[i]);
    free(v);
}

int imgsync__memory_task_list(imgsync__store *s, int state, int trigger, size_t limit, imgsync__task_rec **out,
                              size_t *n)
{
    struct memory_history *h = history(s, 0);
    size_t total = h ? h->ntasks : 0, m = 0;
    size_t want = limit && limit < total ? limit : total;
    imgsync__task_rec *v = calloc(want ? want : 1, sizeof(*v));
    if (!v)
        return out_of_memory(s, "listing tasks");
    for (size_t i = total; i-- > 0 && m < want;) {
        if (!task_selected(&h->tasks[i], state, trigger))
            continue;
        if (task_copy(&v[m], &h->tasks[i])) {
            free_tasks(v, m);
            return out_of_memory(s, "listing tasks");
        }
        m++;
    }
    *out = v;
    *n = m;
    return 0;
}

static int task_active(const imgsync__task_rec *t)
{
    return t->state == IMGSYNC_TASK_QUEUED || t->state == IMGSYNC_TASK_RUNNING;
}

/* The ids of the tasks prune removes: older than the `keep` newest and not active. */
static int prune_victims(const struct memory_history *h, size_t keep, uint64_t **ids, size_t *n)
{
    size_t older = h && h->ntasks > keep ? h->ntasks - keep : 0, m = 0;
    *ids = NULL;
    *n = 0;
    if (!older)
        return 0;
    uint64_t *v = malloc(older * sizeof(*v));
    if (!v)
        return IMGSYNC_ENOMEM;
    for (size_t i = 0; i < older; i++)
        if (!task_active(&h->tasks[i]))
            v[m++] = h->tasks[i].id;
    if (!m) {
        free(v);
        v = NULL;
    }
    *ids = v;
    *n = m;
    return 0;
}

/* Remove tasks ids[0..n) (ascending, all stored) and compact the array. */
static void remove_tasks(struct memory_history *h, const uint64_t *ids, size_t n)
{
    size_t k = 0, j = 0;
    for (size_t i = 0; i < h->ntasks; i++) {
        if (j < n && h->tasks[i].id == ids[j]) {
            imgsync__task_rec_clear(&h->tasks[i]);
            j++;
        } else {
            h->tasks[k++] = h->tasks[i];
        }
    }
    h->ntasks = k;
    h->tasks = shrink(h->tasks, h->ntasks, &h->task_cap, sizeof(*h->tasks));
}

int imgsync__memory_task_prune(imgsync__store *s, size_t keep, uint64_t **ids, size_t *n)
{
    *ids = NULL;
    *n = 0;
    if (history_save(s))
        return out_of_memory(s, "pruning tasks");
    struct memory_history *h = history(s, 0);
    if (prune_victims(h, keep, ids, n))
        return out_of_memory(s, "pruning tasks");
    if (*n)
        remove_tasks(h, *ids, *n);
    return 0;
}

/* ---- schedules ----------------------------------------------------------------------------- */

static imgsync__schedule_rec *schedule_find(struct memory_history *h, uint64_t id)
{
    for (size_t i = 0; h && i < h->nschedules; i++)
        if (h->schedules[i].id == id)
            return &h->schedules[i];
    return NULL;
}

int imgsync__memory_schedule_insert(imgsync__store *s, imgsync__schedule_rec *r)
{
    if (history_save(s))
        return out_of_memory(s, "recording a schedule");
    struct memory_history *h = history(s, 1);
    imgsync__schedule_rec *v = h ? reserve(h->schedules, h->nschedules, &h->schedule_cap, sizeof(*v)) : NULL;
    if (!v)
        return out_of_memory(s, "recording a schedule");
    h->schedules = v;
    imgsync__schedule_rec *slot = &v[h->nschedules];
    if (schedule_copy(slot, r))
        return out_of_memory(s, "recording a schedule");
    slot->id = r->id = ++h->last_schedule_id;
    h->nschedules++;
    return 0;
}

int imgsync__memory_schedule_remove(imgsync__store *s, uint64_t id)
{
    if (history_save(s))
        return out_of_memory(s, "removing a schedule");
    struct memory_history *h = history(s, 0);
    imgsync__schedule_rec *r = schedule_find(h, id);
    if (!r)
        return not_found(s, "schedule", id);
    imgsync__schedule_rec_clear(r);
    size_t i = (size_t)(r - h->schedules);
    memmove(r, r + 1, (h->nschedules - i - 1) * sizeof(*r));
    h->nschedules--;
    h->schedules = shrink(h->schedules, h->nschedules, &h->schedule_cap, sizeof(*h->schedules));
    return 0;
}

int imgsync__memory_schedule_list(imgsync__store *s, imgsync__schedule_rec **out, size_t *n)
{
    struct memory_history *h = history(s, 0);
    size_t total = h ? h->nschedules : 0;
    imgsync__schedule_rec *v = calloc(total ? total : 1, sizeof(*v));
    if (!v)
        return out_of_memory(s, "listing schedules");
    for (size_t i = 0; i < total; i++) {
        if (schedule_copy(&v[i], &h->schedules[i])) {
            for (size_t j = 0; j <= i; j++)
                imgsync__schedule_rec_clear(&v[j]);
            free(v);
            return out_of_memory(s, "listing schedules");
        }
    }
    *out = v;
    *n = total;
    return 0;
}

int imgsync__memory_schedule_claim(imgsync__store *s, uint64_t id, int64_t due_ms, int64_t new_next_ms,
                                   uint64_t task_id, int *claimed)
{
    *claimed = 0;
    if (history_save(s))
        return out_of_memory(s, "claiming a schedule");
    imgsync__schedule_rec *r = schedule_find(history(s, 0), id);
    if (!r)
        return not_found(s, "schedule", id);
    if (r->next_ms != due_ms)
        return 0;
    r->next_ms = new_next_ms;
    r->last_task_id = task_id;
    *claimed = 1;
    return 0;
}
