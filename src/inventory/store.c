/* The store interface: opening by URI, dispatch to the backend, and the selection and change
 * counting every backend shares (so that memory and SQLite agree row for row). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inventory/store.h"
#include "util/buf.h"

char *imgsync__scope_key(const char *partition, const char *repository)
{
    return imgsync__strjoin(partition ? partition : "", "\x1f", repository, (char *)NULL);
}

int imgsync__store_open_msg(imgsync__store **out, const char *uri, char *msg, size_t len)
{
    if (msg && len)
        msg[0] = '\0';
    if (!out)
        return IMGSYNC_EINVAL;
    *out = NULL;
    if (!uri || strcmp(uri, "memory:") == 0)
        return imgsync__memory_open(out, msg, len);
    if (strncmp(uri, "sqlite:", 7) == 0 && uri[7])
        return imgsync__sqlite_open(out, uri + 7, msg, len);
    if (msg && len)
        snprintf(msg, len, "unsupported store URI (expected \"memory:\" or \"sqlite:PATH\")");
    return IMGSYNC_EUNSUPPORTED;
}

int imgsync__store_open(imgsync__store **out, const char *uri) { return imgsync__store_open_msg(out, uri, NULL, 0); }

void imgsync__store_close(imgsync__store *s)
{
    if (s)
        s->ops->close(s);
}

const char *imgsync__store_errmsg(const imgsync__store *s) { return s ? s->errmsg : ""; }

int imgsync__store_replace(imgsync__store *s, const char *provider, const char *partition, const char *repository,
                           struct imgsync_image **rows, size_t n, const imgsync__selector *sel,
                           imgsync__store_counts *c)
{
    s->errmsg[0] = '\0';
    return s->ops->replace(s, provider, partition, repository, rows, n, sel, c);
}

int imgsync__store_prune(imgsync__store *s, const char *provider, const imgsync__map *seen,
                         const imgsync__map *failed_parts, const imgsync__map *failed_ns,
                         const imgsync__selector *sel, imgsync__store_counts *c)
{
    s->errmsg[0] = '\0';
    return s->ops->prune(s, provider, seen, failed_parts, failed_ns, sel, c);
}

int imgsync__store_persistent(const imgsync__store *s) { return s && s->ops->persistent; }

void imgsync__store_drop_provider(imgsync__store *s, const char *provider)
{
    s->errmsg[0] = '\0';
    s->ops->drop_provider(s, provider);
}

int imgsync__store_snapshot(imgsync__store *s, struct imgsync_image ***out, size_t *n)
{
    s->errmsg[0] = '\0';
    return s->ops->snapshot(s, out, n);
}

size_t imgsync__store_count(const imgsync__store *s) { return s->ops->count(s); }

int imgsync__selected_row(const imgsync__selector *sel, const struct imgsync_image *im)
{
    return !sel || !sel->row || sel->row(sel->ud, im);
}

int imgsync__selected_repository(const imgsync__selector *sel, const char *provider, const char *ns,
                                 const char *repository)
{
    return !sel || !sel->repository || sel->repository(sel->ud, provider, ns, repository);
}

/* Index rows by their key within a scope (tag, or "@digest" when untagged) so a merge is
 * linear in the scope's size. 0 or ENOMEM. */
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

int imgsync__store_merge(struct imgsync_image **old, size_t old_n, struct imgsync_image **rows, size_t n,
                         const imgsync__selector *sel, struct imgsync_image ***merged, size_t *m,
                         imgsync__store_counts *delta)
{
    struct imgsync_image **out = malloc((old_n + n + 1) * sizeof(*out));
    imgsync__map idx_old, idx_new;
    if (!out || index_rows(&idx_new, rows, n)) {
        free(out);
        return IMGSYNC_ENOMEM;
    }
    if (index_rows(&idx_old, old, old_n)) {
        imgsync__map_clear(&idx_new);
        free(out);
        return IMGSYNC_ENOMEM;
    }
    size_t k = 0;
    for (size_t i = 0; i < old_n; i++) {
        int replaced = find_row(&idx_new, old[i]) != NULL; /* e.g. a tag that moved from a chart to an image */
        if (!imgsync__selected_row(sel, old[i]) && !replaced)
            out[k++] = imgsync__image_ref(old[i]);
        else if (!replaced)
            delta->removed++;
    }
    for (size_t i = 0; i < n; i++) {
        struct imgsync_image *prev = find_row(&idx_old, rows[i]);
        if (!prev)
            delta->added++;
        else if (imgsync__image_differs(prev, rows[i]))
            delta->updated++;
        out[k++] = imgsync__image_ref(rows[i]);
    }
    imgsync__map_clear(&idx_old);
    imgsync__map_clear(&idx_new);
    *merged = out;
    *m = k;
    return 0;
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
