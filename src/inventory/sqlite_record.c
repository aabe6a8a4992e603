/* The change feed's compact record: a scope's changes of one task as one BLOB (one row to write
 * per scope instead of one per change, and one column instead of one per field). Each entry is
 * the kind, the changed row's type and stored fields, and the previous digest and size; every
 * number is a zigzag varint (kinds, types, sizes and times), every string its varint length and
 * its bytes, in field order. The format is private to this file. */
#include <limits.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "inventory/sqlite.h"

static unsigned char *put_uvarint(unsigned char *p, uint64_t v)
{
    while (v >= 0x80) {
        *p++ = (unsigned char)(v | 0x80);
        v >>= 7;
    }
    *p++ = (unsigned char)v;
    return p;
}

static unsigned char *put_int(unsigned char *p, int64_t v)
{
    return put_uvarint(p, ((uint64_t)v << 1) ^ (uint64_t)(v < 0 ? -1 : 0));
}

static unsigned char *put_str(unsigned char *p, const char *s, size_t n)
{
    p = put_uvarint(p, n);
    memcpy(p, s, n);
    return p + n;
}

/* Room for the record: 10 bytes per number or string length (a varint's most) and the strings. */
static int reserve(sqlite_record_buf *b, size_t need)
{
    if (need <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap *= 2;
    unsigned char *grown = realloc(b->data, cap);
    if (!grown)
        return IMGSYNC_ENOMEM;
    b->data = grown;
    b->cap = cap;
    return 0;
}

int imgsync__sqlite_change_append(sqlite_record_buf *b, int kind, const struct imgsync_image *row,
                                  const char *old_digest, int64_t old_size)
{
    size_t lens[IMGSYNC__NFIELDS], dlen = strlen(old_digest), need = b->len + 10 * (IMGSYNC__NFIELDS + 4) + dlen;
    for (int f = 0; f < IMGSYNC__NFIELDS; f++)
        if (imgsync__fields[f].kind == IMGSYNC__K_STRING && imgsync__sqlite_stored(f))
            need += lens[f] = strlen(row->v[f].s);
    if (reserve(b, need))
        return IMGSYNC_ENOMEM;
    unsigned char *p = put_int(b->data + b->len, kind);
    p = put_int(p, row->type);
    for (int f = 0; f < IMGSYNC__NFIELDS; f++) {
        if (!imgsync__sqlite_stored(f))
            continue;
        p = imgsync__fields[f].kind == IMGSYNC__K_STRING ? put_str(p, row->v[f].s, lens[f]) : put_int(p, row->v[f].i);
    }
    p = put_str(p, old_digest, dlen);
    p = put_int(p, old_size);
    b->len = (size_t)(p - b->data);
    return 0;
}

typedef struct reader {
    const unsigned char *p, *end;
    int bad;
} reader;

static uint64_t get_uvarint(reader *r)
{
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (r->p >= r->end)
            break;
        unsigned char c = *r->p++;
        v |= (uint64_t)(c & 0x7f) << shift;
        if (!(c & 0x80))
            return v;
    }
    r->bad = 1;
    return 0;
}

static int64_t get_int(reader *r)
{
    uint64_t u = get_uvarint(r);
    return (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
}

/* The next string, a malloc'd copy; NULL when malformed (r->bad) or on ENOMEM. */
static char *get_str(reader *r)
{
    uint64_t n = get_uvarint(r);
    if (r->bad || n > (uint64_t)(r->end - r->p)) {
        r->bad = 1;
        return NULL;
    }
    char *s = imgsync__strndup((const char *)r->p, (size_t)n);
    r->p += n;
    return s;
}

/* The row's stored fields, in field order, into *im. */
static int get_fields(reader *r, struct imgsync_image *im)
{
    int rc = 0;
    for (int f = 0; !rc && f < IMGSYNC__NFIELDS; f++) {
        if (!imgsync__sqlite_stored(f))
            continue;
        if (imgsync__fields[f].kind != IMGSYNC__K_STRING) {
            int64_t v = get_int(r);
            rc = r->bad ? IMGSYNC_ESTORE : 0;
            if (!rc)
                imgsync__image_set_int(im, f, v);
            continue;
        }
        char *s = get_str(r);
        if (!s)
            rc = r->bad ? IMGSYNC_ESTORE : IMGSYNC_ENOMEM;
        else
            rc = imgsync__image_set_str(im, f, s);
        free(s);
    }
    return rc;
}

int imgsync__sqlite_change_cmp(const struct imgsync_image *a, const struct imgsync_image *b)
{
    int c = strcmp(a->v[IMGSYNC__F_tag].s, b->v[IMGSYNC__F_tag].s);
    return c ? c : strcmp(a->v[IMGSYNC__F_digest].s, b->v[IMGSYNC__F_digest].s);
}

void imgsync__sqlite_change_entry_clear(sqlite_change_entry *e)
{
    imgsync__image_unref(e->row);
    free(e->old_digest);
    *e = (sqlite_change_entry){0, NULL, NULL, -1};
}

int imgsync__sqlite_change_decode(const void *blob, size_t len, size_t *pos, sqlite_change_entry *e)
{
    reader r = {(const unsigned char *)blob + *pos, (const unsigned char *)blob + len, 0};
    *e = (sqlite_change_entry){0, NULL, NULL, -1};
    int64_t kind = get_int(&r), type = r.bad ? 0 : get_int(&r);
    if (r.bad || kind < 1 || kind > 3 || type < INT_MIN || type > INT_MAX)
        return IMGSYNC_ESTORE;
    e->kind = (int)kind;
    if (!(e->row = imgsync__image_new("", "", "", (int)type)))
        return IMGSYNC_ENOMEM;
    int rc = get_fields(&r, e->row);
    if (!rc && !(e->old_digest = get_str(&r)))
        rc = r.bad ? IMGSYNC_ESTORE : IMGSYNC_ENOMEM;
    if (!rc)
        e->old_size = get_int(&r);
    if (!rc && r.bad)
        rc = IMGSYNC_ESTORE;
    if (rc) {
        imgsync__sqlite_change_entry_clear(e);
        return rc;
    }
    *pos = (size_t)(r.p - (const unsigned char *)blob);
    return 0;
}

/* imgsync_change_entry(kind, record): the kind's varint, then the schema-2 record's bytes. */
static void change_entry_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    (void)argc;
    int n = sqlite3_value_bytes(argv[1]);
    const unsigned char *rec = sqlite3_value_blob(argv[1]);
    unsigned char *out = sqlite3_malloc(n + 10);
    if (!out || (n && !rec)) {
        sqlite3_free(out);
        sqlite3_result_error_nomem(ctx);
        return;
    }
    unsigned char *p = put_int(out, sqlite3_value_int64(argv[0]));
    if (n)
        memcpy(p, rec, (size_t)n);
    sqlite3_result_blob(ctx, out, (int)(p - out) + n, sqlite3_free);
}

int imgsync__sqlite_register_migration_fn(sqlite3 *db)
{
    return sqlite3_create_function_v2(db, "imgsync_change_entry", 2, SQLITE_UTF8 | SQLITE_DETERMINISTIC, NULL,
                                      change_entry_fn, NULL, NULL, NULL);
}
