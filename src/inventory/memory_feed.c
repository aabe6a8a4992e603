/* The memory store's change feed and its cursors: both read from an array of references taken
 * under the store lock when the cursor opens (later commits do not change what it reads). */
#include <stdlib.h>
#include <string.h>

#include "inventory/memory.h"
#include "util/buf.h"

void imgsync__memory_change_clear(memory_change *c)
{
    imgsync__image_unref(c->row);
    free(c->old_digest);
    c->row = NULL;
    c->old_digest = NULL;
}

int imgsync__memory_feed_reserve(memory_store *ms, size_t more)
{
    memory_feed *f = &ms->feed;
    if (f->cap - f->n >= more)
        return 0;
    size_t cap = f->cap ? f->cap : 64;
    while (cap - f->n < more)
        cap *= 2;
    memory_change *grown = realloc(f->v, cap * sizeof(*grown));
    if (!grown)
        return IMGSYNC_ENOMEM;
    f->v = grown;
    f->cap = cap;
    return 0;
}

void imgsync__memory_feed_append(memory_store *ms, memory_change *v, size_t n)
{
    memory_feed *f = &ms->feed;
    for (size_t i = 0; i < n; i++) {
        v[i].seq = f->next_seq++;
        f->v[f->n++] = v[i];
    }
}

void imgsync__memory_feed_truncate(memory_store *ms, size_t mark)
{
    memory_feed *f = &ms->feed;
    while (f->n > mark)
        imgsync__memory_change_clear(&f->v[--f->n]);
    for (size_t i = 0; i < f->n; i++)
        f->v[i].forgotten = 0;
}

void imgsync__memory_feed_compact(memory_store *ms)
{
    memory_feed *f = &ms->feed;
    size_t k = 0;
    for (size_t i = 0; i < f->n; i++) {
        if (f->v[i].forgotten)
            imgsync__memory_change_clear(&f->v[i]);
        else
            f->v[k++] = f->v[i];
    }
    f->n = k;
}

void imgsync__memory_feed_free(memory_store *ms)
{
    imgsync__memory_feed_truncate(ms, 0);
    free(ms->feed.v);
    memset(&ms->feed, 0, sizeof(ms->feed));
}

void imgsync__memory_set_change_task(imgsync__store *s, uint64_t task_id) { ((memory_store *)s)->feed.task = task_id; }

static int has_id(const uint64_t *ids, size_t n, uint64_t id)
{
    for (size_t i = 0; i < n; i++)
        if (ids[i] == id)
            return 1;
    return 0;
}

/* Inside a transaction the changes are only marked: a rollback brings them back. */
int imgsync__memory_changes_forget(imgsync__store *s, const uint64_t *ids, size_t n)
{
    memory_store *ms = (memory_store *)s;
    for (size_t i = 0; i < ms->feed.n; i++)
        if (has_id(ids, n, ms->feed.v[i].task_id))
            ms->feed.v[i].forgotten = 1;
    if (!ms->tx.open)
        imgsync__memory_feed_compact(ms);
    return 0;
}

/* ---- cursors -------------------------------------------------------------------------------- */

typedef struct memory_cursor {
    imgsync__cursor base;
    memory_change *v; /* owned copies: a reference per row, old digests copied */
    size_t n, pos;
} memory_cursor;

static int cursor_next(imgsync__cursor *base, imgsync__change_row *out)
{
    memory_cursor *c = (memory_cursor *)base;
    if (c->pos == c->n) {
        out->row = NULL;
        return 0;
    }
    memory_change *e = &c->v[c->pos++];
    *out = (imgsync__change_row){e->kind, e->task_id, e->row, e->old_digest ? e->old_digest : "", e->old_size};
    return 0;
}

static void cursor_free(imgsync__cursor *base)
{
    memory_cursor *c = (memory_cursor *)base;
    for (size_t i = 0; i < c->n; i++)
        imgsync__memory_change_clear(&c->v[i]);
    free(c->v);
    free(c);
}

/* A cursor with room for `cap` entries. NULL on ENOMEM. */
static memory_cursor *cursor_new(size_t cap)
{
    memory_cursor *c = calloc(1, sizeof(*c));
    if (c && !(c->v = malloc((cap + 1) * sizeof(*c->v)))) {
        free(c);
        return NULL;
    }
    if (c) {
        c->base.next = cursor_next;
        c->base.free = cursor_free;
    }
    return c;
}

static int cmp_rows(const void *a, const void *b)
{
    return imgsync__image_cmp(&((const memory_change *)a)->row, &((const memory_change *)b)->row);
}

int imgsync__memory_query(imgsync__store *s, const imgsync__query *q, imgsync__cursor **out)
{
    memory_store *ms = (memory_store *)s;
    memory_cursor *c = cursor_new(ms->count);
    if (!c)
        return IMGSYNC_ENOMEM;
    size_t pos = 0;
    imgsync__map_entry *e;
    while ((e = imgsync__map_next(&ms->repos, &pos))) {
        repo_rows *r = e->value;
        for (size_t i = 0; i < r->n && c->n < ms->count; i++)
            if (imgsync__query_match(q, r->rows[i]))
                c->v[c->n++] = (memory_change){0, 0, 0, 0, imgsync__image_ref(r->rows[i]), NULL, -1};
    }
    qsort(c->v, c->n, sizeof(*c->v), cmp_rows);
    *out = &c->base;
    return 0;
}

static int cmp_changes(const void *pa, const void *pb)
{
    const memory_change *a = pa, *b = pb;
    if (a->task_id != b->task_id)
        return a->task_id < b->task_id ? -1 : 1;
    int r = cmp_rows(a, b);
    return r ? r : a->seq < b->seq ? -1 : a->seq > b->seq;
}

int imgsync__memory_changes(imgsync__store *s, uint64_t task_id, int since, imgsync__cursor **out)
{
    memory_store *ms = (memory_store *)s;
    memory_cursor *c = cursor_new(ms->feed.n);
    if (!c)
        return IMGSYNC_ENOMEM;
    for (size_t i = 0; i < ms->feed.n; i++) {
        memory_change e = ms->feed.v[i];
        if (e.forgotten || (since ? e.task_id <= task_id : e.task_id != task_id))
            continue;
        if (e.old_digest && !(e.old_digest = imgsync__strdup(e.old_digest))) {
            cursor_free(&c->base);
            return IMGSYNC_ENOMEM;
        }
        imgsync__image_ref(e.row);
        c->v[c->n++] = e;
    }
    qsort(c->v, c->n, sizeof(*c->v), cmp_changes);
    *out = &c->base;
    return 0;
}
