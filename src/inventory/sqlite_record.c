/* The change feed's compact record: a changed row's type, stored fields and the previous digest
 * and size, as one BLOB (one column to write instead of one per field). Every number is a
 * zigzag varint (types, sizes and times), every string its varint length and its bytes, in field
 * order; the format is private to this file. */
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

int imgsync__sqlite_change_encode(sqlite_record_buf *b, const struct imgsync_image *row, const char *old_digest,
                                  int64_t old_size)
{
    size_t lens[IMGSYNC__NFIELDS], dlen = strlen(old_digest), need = 10 * (IMGSYNC__NFIELDS + 3) + dlen;
    for (int f = 0; f < IMGSYNC__NFIELDS; f++)
        if (imgsync__fields[f].kind == IMGSYNC__K_STRING && imgsync__sqlite_stored(f))
            need += lens[f] = strlen(row->v[f].s);
    if (reserve(b, need))
        return IMGSYNC_ENOMEM;
    unsigned char *p = put_int(b->data, row->type);
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

int imgsync__sqlite_change_decode(const void *blob, size_t len, struct imgsync_image **row, char **old_digest,
                                  int64_t *old_size)
{
    reader r = {blob, (const unsigned char *)blob + len, 0};
    *row = NULL;
    *old_digest = NULL;
    int64_t type = get_int(&r);
    struct imgsync_image *im = r.bad ? NULL : imgsync__image_new("", "", "", (int)type);
    if (!im)
        return r.bad ? IMGSYNC_ESTORE : IMGSYNC_ENOMEM;
    int rc = 0;
    for (int f = 0; !rc && f < IMGSYNC__NFIELDS; f++) {
        if (!imgsync__sqlite_stored(f))
            continue;
        if (imgsync__fields[f].kind != IMGSYNC__K_STRING) {
            int64_t v = get_int(&r);
            rc = r.bad ? IMGSYNC_ESTORE : 0;
            if (!rc)
                imgsync__image_set_int(im, f, v);
            continue;
        }
        char *s = get_str(&r);
        if (!s)
            rc = r.bad ? IMGSYNC_ESTORE : IMGSYNC_ENOMEM;
        else
            rc = imgsync__image_set_str(im, f, s);
        free(s);
    }
    char *d = rc ? NULL : get_str(&r);
    if (!rc && !d)
        rc = r.bad ? IMGSYNC_ESTORE : IMGSYNC_ENOMEM;
    int64_t size = rc ? 0 : get_int(&r);
    if (!rc && (r.bad || r.p != r.end))
        rc = IMGSYNC_ESTORE;
    if (rc) {
        imgsync__image_unref(im);
        free(d);
        return rc;
    }
    *row = im;
    *old_digest = d;
    *old_size = size;
    return 0;
}
