/* store_rows.h */
#include "support/store_rows.h"

#include <stdlib.h>

int store_rows(imgsync__store *s, struct imgsync_image ***out, size_t *n)
{
    imgsync__cursor *c = NULL;
    int rc = imgsync__store_query(s, NULL, &c);
    struct imgsync_image **rows = malloc(sizeof(*rows));
    size_t m = 0;
    imgsync__change_row r;
    while (!rc && rows && !(rc = imgsync__cursor_next(c, &r)) && r.row) {
        struct imgsync_image **grown = realloc(rows, (m + 2) * sizeof(*rows));
        if (!grown) {
            rc = IMGSYNC_ENOMEM;
            break;
        }
        rows = grown;
        rows[m++] = imgsync__image_ref(r.row);
    }
    imgsync__cursor_free(c);
    if (!rows)
        rc = IMGSYNC_ENOMEM;
    *out = rows;
    *n = m;
    return rc;
}
