/* Fuzz the change feed's compact record (src/inventory/sqlite_record.c), which the SQLite store
 * reads back from a file another process, an older library or a damaged disk may have written.
 * Checks besides crashes and leaks: a record that decodes encodes again to a record that decodes
 * to the same row, digest and size. */
#include "common.h"

#include "inventory/sqlite.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct imgsync_image *row = NULL;
    char *old_digest = NULL;
    int64_t old_size = 0;
    if (imgsync__sqlite_change_decode(data, size, &row, &old_digest, &old_size) != 0)
        return 0;
    sqlite_record_buf b = {0};
    if (imgsync__sqlite_change_encode(&b, row, old_digest, old_size) != 0)
        abort();
    struct imgsync_image *again = NULL;
    char *d2 = NULL;
    int64_t s2 = 0;
    if (imgsync__sqlite_change_decode(b.data, b.len, &again, &d2, &s2) != 0 || strcmp(d2, old_digest) != 0 ||
        s2 != old_size || imgsync__image_differs(row, again))
        abort();
    free(b.data);
    free(d2);
    free(old_digest);
    imgsync__image_unref(again);
    imgsync__image_unref(row);
    return 0;
}
