/* Fuzz the change feed's compact record (src/inventory/sqlite_record.c), which the SQLite store
 * reads back from a file another process, an older library or a damaged disk may have written.
 * Checks besides crashes and leaks: the entries that decode encode again to a record that
 * decodes to the same entries (kind, row, digest and size). */
#include "common.h"

#include "inventory/sqlite.h"

#define MAX_ENTRIES 64

static int same_entry(const sqlite_change_entry *a, const sqlite_change_entry *b)
{
    return a->kind == b->kind && a->old_size == b->old_size && strcmp(a->old_digest, b->old_digest) == 0 &&
           !imgsync__image_differs(a->row, b->row);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sqlite_change_entry got[MAX_ENTRIES];
    size_t n = 0, pos = 0;
    while (pos < size && n < MAX_ENTRIES && imgsync__sqlite_change_decode(data, size, &pos, &got[n]) == 0)
        n++;
    sqlite_record_buf b = {0};
    for (size_t i = 0; i < n; i++)
        if (imgsync__sqlite_change_append(&b, got[i].kind, got[i].row, got[i].old_digest, got[i].old_size) != 0)
            abort();
    size_t again_pos = 0;
    for (size_t i = 0; i < n; i++) {
        sqlite_change_entry e;
        if (imgsync__sqlite_change_decode(b.data, b.len, &again_pos, &e) != 0 || !same_entry(&got[i], &e))
            abort();
        imgsync__sqlite_change_entry_clear(&e);
    }
    if (again_pos != b.len)
        abort();
    for (size_t i = 0; i < n; i++)
        imgsync__sqlite_change_entry_clear(&got[i]);
    free(b.data);
    return 0;
}
