/* JSON helpers over yajl: a tree builder of our own on yajl's event parser (depth limit, NUL
 * strings refused without cutting them short) and a streaming string-array extractor. */
#include "json.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_parse.h>

#include "util/buf.h"

#include "imgsync/errors.h"

/* ---- arena -------------------------------------------------------------------------------- */

/*
 * Every node, string and member vector of one document comes from an arena: a few large blocks
 * released together by imgsync__json_free, instead of one malloc per node and a recursive free.
 *
 * Blocks double from ARENA_FIRST to ARENA_BLOCK_MAX and then stay there: 64 KiB stays under
 * glibc's mmap threshold (128 KiB), so the pages of a listing reuse the heap instead of paying an
 * mmap, a munmap and page faults per document, and a large document needs one block per 64 KiB
 * of tree. A request larger than a quarter of the next block (a long string, the vector of a
 * large array) gets a block of its own, so a full-size block is left with less than a quarter
 * unused. Sizing one block from the body length instead would have to assume the worst case
 * below, tens of times what registry pages need.
 *
 * Memory bound, for a body of len bytes (LP64): a document has at most (len + 1) / 2 values
 * (each takes a byte and a separator or a bracket). A value costs a 40-byte node, at most 7 bytes
 * of alignment, an 8-byte slot in its parent's vector and for an object member an 8-byte key
 * pointer; the texts of strings, numbers and keys are no longer than the body text they come
 * from, plus a NUL each. So the tree is under 34 * len + 64 bytes, and the arena, with the
 * unused quarters and the last, partly used, blocks, under 46 * len + 128 KiB. While parsing,
 * the members of the open containers wait on one pending stack (8 bytes per item, 16 per member,
 * doubling): under 16 * len more, freed before returning. The mallocs this replaces cost about
 * as much (a number node took a 64-byte chunk, its vector slot up to 16 bytes).
 */

/* Alignment of a node: that of its most demanding member. */
struct align_probe {
    char c;
    union {
        long long i;
        double d;
        void *p;
    } u;
};
#define ARENA_ALIGN offsetof(struct align_probe, u)
#define ARENA_ROUND(n) (((n) + ARENA_ALIGN - 1) & ~(ARENA_ALIGN - 1))
#define ARENA_FIRST ((size_t)4096)
#define ARENA_BLOCK_MAX ((size_t)65536)

/* A block after the first: its data follows the header. */
typedef struct block {
    struct block *next;
    size_t size; /* bytes, header included: wiped before a secret document is freed */
} block;

/* The arena lives at the start of its first block, and the document's root is the first thing
 * allocated after it: imgsync__json_free finds the arena right before the root. */
typedef struct arena {
    block *blocks;    /* the later blocks, newest first */
    char *pos, *end;  /* free space of the block being filled */
    size_t next_size; /* size of the next shared block */
    int secret;       /* the document holds secrets (a credentials file): wiped when freed */
} arena;

#define ARENA_HEADER ARENA_ROUND(sizeof(arena))
#define BLOCK_HEADER ARENA_ROUND(sizeof(block))

static arena *arena_new(void)
{
    arena *a = malloc(ARENA_FIRST);
    if (!a)
        return NULL;
    a->blocks = NULL;
    a->pos = (char *)a + ARENA_HEADER;
    a->end = (char *)a + ARENA_FIRST;
    a->next_size = 2 * ARENA_FIRST;
    a->secret = 0;
    return a;
}

static void arena_free(arena *a)
{
    block *b = a->blocks;
    while (b) {
        block *next = b->next;
        if (a->secret)
            imgsync__wipe(b, b->size);
        free(b);
        b = next;
    }
    if (a->secret)
        imgsync__wipe(a, ARENA_FIRST);
    free(a);
}

/* A new block for n bytes: a block of its own when n is large, else the next shared block. */
static void *arena_grow(arena *a, size_t n)
{
    if (n > SIZE_MAX - BLOCK_HEADER)
        return NULL;
    int own = n > a->next_size / 4;
    size_t size = own ? BLOCK_HEADER + n : a->next_size;
    block *b = malloc(size);
    if (!b)
        return NULL;
    b->next = a->blocks;
    b->size = size;
    a->blocks = b;
    char *data = (char *)b + BLOCK_HEADER;
    if (own)
        return data;
    if (a->next_size < ARENA_BLOCK_MAX)
        a->next_size *= 2;
    a->pos = data + n;
    a->end = (char *)b + size;
    return data; /* BLOCK_HEADER keeps it aligned for a node */
}

/* n bytes aligned to align (1 or ARENA_ALIGN), or NULL when out of memory. */
static void *arena_alloc(arena *a, size_t n, size_t align)
{
    uintptr_t p = ((uintptr_t)a->pos + align - 1) & ~(uintptr_t)(align - 1);
    if (p <= (uintptr_t)a->end && n <= (uintptr_t)a->end - p) {
        a->pos = (char *)p + n;
        return (void *)p;
    }
    return arena_grow(a, n);
}

/* ---- tree --------------------------------------------------------------------------------- */

/* A container being filled: its members wait on the pending stack from `base` until it closes. */
typedef struct frame {
    yajl_val node;
    size_t base;
    char *key; /* object: key waiting for its value */
} frame;

/* One entry of the pending stack: an array item, or an object member as a key then its value. */
typedef union pending {
    yajl_val v;
    const char *key;
} pending;

typedef struct builder {
    frame stack[IMGSYNC__JSON_MAX_DEPTH];
    int depth;
    yajl_val root;
    arena *arena;
    pending *pend; /* one stack for every open container, so a vector is copied once, sized */
    size_t npend, pend_cap;
    const char *why; /* reason of a refusal by a callback */
} builder;

/* Out of memory: stop the parse with that reason. */
static int oom(builder *b)
{
    b->why = "out of memory";
    return 0;
}

static yajl_val node_new(builder *b, yajl_type t)
{
    yajl_val v = arena_alloc(b->arena, sizeof(*v), ARENA_ALIGN);
    if (v) {
        memset(v, 0, sizeof(*v));
        v->type = t;
    }
    return v;
}

/* A copy of len bytes and a NUL in the arena. */
static char *text_new(builder *b, const void *s, size_t len)
{
    char *text = arena_alloc(b->arena, len + 1, 1);
    if (text) {
        memcpy(text, s, len);
        text[len] = '\0';
    }
    return text;
}

/* A string or number node. The node first: the root must be the arena's first allocation. */
static yajl_val node_with_text(builder *b, yajl_type t, const void *s, size_t len)
{
    yajl_val v = node_new(b, t);
    char *text = v ? text_new(b, s, len) : NULL;
    if (!text)
        return NULL;
    if (t == yajl_t_string)
        v->u.string = text;
    else
        v->u.number.r = text;
    return v;
}

/* The whole document: its arena sits right before the root (only the root may be given). */
void imgsync__json_free(yajl_val v)
{
    if (v)
        arena_free((arena *)((char *)v - ARENA_HEADER));
}

/* Room for `more` entries on the pending stack (doubling: no quadratic copy). 0 or -1. */
static int pend_reserve(builder *b, size_t more)
{
    if (b->pend_cap - b->npend >= more)
        return 0;
    size_t cap = b->pend_cap ? b->pend_cap : 256;
    while (cap - b->npend < more) {
        if (cap > SIZE_MAX / 2 / sizeof(pending))
            return -1;
        cap *= 2;
    }
    pending *p = realloc(b->pend, cap * sizeof(*p));
    if (!p)
        return -1;
    b->pend = p;
    b->pend_cap = cap;
    return 0;
}

/* Hang a finished or just-opened value under the current container. 1 to go on, 0 to stop. */
static int attach(builder *b, yajl_val v)
{
    if (!v)
        return oom(b);
    if (b->depth == 0) {
        b->root = v;
        return 1;
    }
    frame *f = &b->stack[b->depth - 1];
    int member = f->node->type == yajl_t_object;
    if (pend_reserve(b, 2))
        return oom(b);
    if (member)
        b->pend[b->npend++].key = f->key;
    b->pend[b->npend++].v = v;
    f->key = NULL;
    return 1;
}

static int on_null(void *ctx) { return attach(ctx, node_new(ctx, yajl_t_null)); }

static int on_bool(void *ctx, int b) { return attach(ctx, node_new(ctx, b ? yajl_t_true : yajl_t_false)); }

/* The integer of at most 15 digits in s[0..len), or 0 when s is anything else. strtoll and
 * strtod cost about 800 instructions a number, and registry pages are full of small integers
 * (sizes, ids, counts); below 2^53 the double is exact, so both values are what they would
 * give. "-0" is left to strtod, whose double keeps the sign. */
static int small_integer(const char *s, size_t len, long long *out)
{
    size_t neg = len && s[0] == '-';
    if (len - neg == 0 || len - neg > 15)
        return 0;
    long long v = 0;
    for (size_t k = neg; k < len; k++) {
        if (s[k] < '0' || s[k] > '9')
            return 0;
        v = v * 10 + (s[k] - '0');
    }
    if (neg && v == 0)
        return 0;
    *out = neg ? -v : v;
    return 1;
}

/* Integer and double values of a number node, each flagged when its text converts whole. */
static void number_values(yajl_val v, size_t len)
{
    const char *r = v->u.number.r;
    long long i;
    if (small_integer(r, len, &i)) {
        v->u.number.i = i;
        v->u.number.d = (double)i;
        v->u.number.flags = YAJL_NUMBER_INT_VALID | YAJL_NUMBER_DOUBLE_VALID;
        return;
    }
    char *end;
    errno = 0;
    i = strtoll(r, &end, 10);
    if (!errno && *end == '\0') {
        v->u.number.i = i;
        v->u.number.flags |= YAJL_NUMBER_INT_VALID;
    }
    errno = 0;
    double d = strtod(r, &end);
    if (!errno && *end == '\0') {
        v->u.number.d = d;
        v->u.number.flags |= YAJL_NUMBER_DOUBLE_VALID;
    }
}

static int on_number(void *ctx, const char *s, size_t len)
{
    yajl_val v = node_with_text(ctx, yajl_t_number, s, len);
    if (!v)
        return oom(ctx);
    number_values(v, len);
    return attach(ctx, v);
}

static int on_string(void *ctx, const unsigned char *s, size_t len)
{
    if (memchr(s, 0, len)) /* never hand out a shortened string: a node of no usable type */
        return attach(ctx, node_new(ctx, yajl_t_any));
    return attach(ctx, node_with_text(ctx, yajl_t_string, s, len));
}

static int open_container(builder *b, yajl_type t)
{
    if (b->depth >= IMGSYNC__JSON_MAX_DEPTH) {
        b->why = "JSON nested too deeply";
        return 0;
    }
    yajl_val v = node_new(b, t);
    if (!attach(b, v))
        return 0;
    frame *f = &b->stack[b->depth++];
    f->node = v;
    f->base = b->npend;
    f->key = NULL;
    return 1;
}

static int on_start_map(void *ctx) { return open_container(ctx, yajl_t_object); }
static int on_start_array(void *ctx) { return open_container(ctx, yajl_t_array); }

/* A vector of n pointers in the arena, or NULL (also for n == 0, as yajl leaves it). */
static void *vector_new(builder *b, size_t n, size_t size)
{
    return n ? arena_alloc(b->arena, n * size, ARENA_ALIGN) : NULL;
}

/* Move a closing object's members from the pending stack into its key and value vectors. */
static int close_object(builder *b, yajl_val n, const pending *p, size_t count)
{
    const char **keys = vector_new(b, count, sizeof(*keys));
    yajl_val *values = vector_new(b, count, sizeof(*values));
    if (count && (!keys || !values))
        return oom(b);
    for (size_t i = 0; i < count; i++) {
        keys[i] = p[2 * i].key;
        values[i] = p[2 * i + 1].v;
    }
    n->u.object.keys = keys;
    n->u.object.values = values;
    n->u.object.len = count;
    return 1;
}

static int close_array(builder *b, yajl_val n, const pending *p, size_t count)
{
    yajl_val *values = vector_new(b, count, sizeof(*values));
    if (count && !values)
        return oom(b);
    for (size_t i = 0; i < count; i++)
        values[i] = p[i].v;
    n->u.array.values = values;
    n->u.array.len = count;
    return 1;
}

static int on_end(void *ctx)
{
    builder *b = ctx;
    frame *f = &b->stack[--b->depth];
    size_t n = b->npend - f->base;
    const pending *p = n ? b->pend + f->base : NULL; /* no stack yet for a first empty document */
    b->npend = f->base;
    if (f->node->type == yajl_t_object)
        return close_object(b, f->node, p, n / 2);
    return close_array(b, f->node, p, n);
}

static int on_key(void *ctx, const unsigned char *s, size_t len)
{
    builder *b = ctx;
    frame *f = &b->stack[b->depth - 1];
    if (memchr(s, 0, len)) {
        b->why = "object key with a NUL character";
        return 0;
    }
    if (!(f->key = text_new(b, s, len)))
        return oom(b);
    return 1;
}

static const yajl_callbacks tree_callbacks = {
    on_null, on_bool, NULL, NULL, on_number, on_string, on_start_map, on_key, on_end, on_start_array, on_end,
};

/* Run a yajl parse of the whole body with these callbacks. 0, or -1 with *why set. */
static int run_parser(const yajl_callbacks *cb, void *ctx, const char *body, size_t len, const char **why)
{
    yajl_handle h = yajl_alloc(cb, NULL, ctx);
    if (!h) {
        *why = "out of memory";
        return -1;
    }
    yajl_status st = yajl_parse(h, (const unsigned char *)body, len);
    if (st == yajl_status_ok)
        st = yajl_complete_parse(h);
    yajl_free(h);
    if (st == yajl_status_ok)
        return 0;
    if (st != yajl_status_client_canceled || !*why)
        *why = "malformed JSON";
    return -1;
}

static yajl_val parse(const char *body, size_t len, int secret, char *err, size_t errlen)
{
    builder b;
    memset(&b, 0, sizeof(b));
    if (!body) {
        snprintf(err, errlen, "no body");
        return NULL;
    }
    int rc = -1;
    if (!(b.arena = arena_new())) {
        b.why = "out of memory";
    } else {
        b.arena->secret = secret;
        rc = run_parser(&tree_callbacks, &b, body, len, &b.why);
    }
    free(b.pend);
    if (rc || !b.root) {
        if (b.arena)
            arena_free(b.arena);
        snprintf(err, errlen, "%s", b.why ? b.why : "malformed JSON");
        return NULL;
    }
    return b.root;
}

yajl_val imgsync__json_parse(const char *body, size_t len, char *err, size_t errlen)
{
    return parse(body, len, 0, err, errlen);
}

yajl_val imgsync__json_parse_secret(const char *body, size_t len, char *err, size_t errlen)
{
    return parse(body, len, 1, err, errlen);
}

yajl_val imgsync__json_member(yajl_val obj, const char *key)
{
    if (!obj || !YAJL_IS_OBJECT(obj))
        return NULL;
    for (size_t i = 0; i < obj->u.object.len; i++)
        if (strcmp(obj->u.object.keys[i], key) == 0)
            return obj->u.object.values[i];
    return NULL;
}

const char *imgsync__json_string(yajl_val obj, const char *key)
{
    yajl_val v = imgsync__json_member(obj, key);
    return v && YAJL_IS_STRING(v) ? YAJL_GET_STRING(v) : NULL;
}

int imgsync__json_int(yajl_val obj, const char *key, int64_t *out)
{
    yajl_val v = imgsync__json_member(obj, key);
    if (!v || !YAJL_IS_INTEGER(v))
        return -1;
    *out = (int64_t)YAJL_GET_INTEGER(v);
    return 0;
}

yajl_val imgsync__json_array(yajl_val obj, const char *key)
{
    yajl_val v = imgsync__json_member(obj, key);
    return v && YAJL_IS_ARRAY(v) ? v : NULL;
}

/* ---- streaming string array ---------------------------------------------------------------- */

enum { SA_BEFORE, SA_EXPECT, SA_IN_ARRAY, SA_DONE };

typedef struct scanner {
    const char *key;
    size_t max_items;
    int depth;       /* containers open */
    int state;
    int skip_depth;  /* > 0: inside a container item of the array (an invalid item) */
    int present;
    int object; /* the document is an object */
    int rc;
    const char *why;
    imgsync__strlist *out;
} scanner;

static int sa_fail(scanner *s, int rc, const char *why)
{
    s->rc = rc;
    s->why = why;
    return 0;
}

/* Append one item ("" and counted invalid when bad). */
static int sa_item(scanner *s, const char *p, size_t n, int bad)
{
    imgsync__strlist *l = s->out;
    if (l->n >= s->max_items)
        return sa_fail(s, IMGSYNC_ETOOBIG, "too many items");
    if (bad)
        l->invalid++;
    if (imgsync__strlist_add(l, p, bad ? 0 : n))
        return sa_fail(s, IMGSYNC_ENOMEM, "out of memory");
    return 1;
}

/* A scalar value. */
static int sa_scalar(scanner *s, const char *p, size_t n, int is_string)
{
    if (s->skip_depth)
        return 1;
    if (s->state == SA_EXPECT) {
        s->state = SA_DONE;
        return is_string || p ? sa_fail(s, IMGSYNC_EPROTOCOL, "the list member is not an array") : 1;
    }
    if (s->state == SA_IN_ARRAY && s->depth == 2)
        return sa_item(s, p ? p : "", p ? n : 0, !is_string || (p && memchr(p, 0, n)));
    return 1;
}

static int sa_null(void *ctx) { return sa_scalar(ctx, NULL, 0, 0); }
static int sa_bool(void *ctx, int b)
{
    (void)b;
    return sa_scalar(ctx, "", 0, 0);
}
static int sa_number(void *ctx, const char *p, size_t n) { return sa_scalar(ctx, p, n, 0); }
static int sa_string(void *ctx, const unsigned char *p, size_t n) { return sa_scalar(ctx, (const char *)p, n, 1); }

static int sa_open(scanner *s, int is_array)
{
    if (++s->depth > IMGSYNC__JSON_MAX_DEPTH)
        return sa_fail(s, IMGSYNC_EPROTOCOL, "JSON nested too deeply");
    if (s->depth == 1 && is_array)
        return sa_fail(s, IMGSYNC_EPROTOCOL, "not a JSON object");
    if (s->depth == 1)
        s->object = 1;
    if (s->skip_depth) {
        s->skip_depth++;
    } else if (s->state == SA_EXPECT) {
        if (!is_array)
            return sa_fail(s, IMGSYNC_EPROTOCOL, "the list member is not an array");
        s->state = SA_IN_ARRAY;
    } else if (s->state == SA_IN_ARRAY && s->depth == 3) {
        s->skip_depth = 1; /* an object or array where a string belongs */
        if (!sa_item(s, "", 0, 1))
            return 0;
    }
    return 1;
}

static int sa_start_map(void *ctx) { return sa_open(ctx, 0); }
static int sa_start_array(void *ctx) { return sa_open(ctx, 1); }

static int sa_close(void *ctx)
{
    scanner *s = ctx;
    if (s->skip_depth)
        s->skip_depth--;
    else if (s->state == SA_IN_ARRAY && s->depth == 2)
        s->state = SA_DONE;
    s->depth--;
    return 1;
}

static int sa_key(void *ctx, const unsigned char *p, size_t n)
{
    scanner *s = ctx;
    if (s->depth == 1 && s->state == SA_BEFORE && strlen(s->key) == n && !memcmp(p, s->key, n)) {
        s->state = SA_EXPECT;
        s->present = 1;
    }
    return 1;
}

static const yajl_callbacks scan_callbacks = {
    sa_null, sa_bool, NULL, NULL, sa_number, sa_string, sa_start_map, sa_key, sa_close, sa_start_array, sa_close,
};

int imgsync__json_string_array(const char *body, size_t len, const char *key, size_t max_items,
                               imgsync__strlist *out, int *present, char *err, size_t errlen)
{
    memset(out, 0, sizeof(*out));
    *present = 0;
    scanner s;
    memset(&s, 0, sizeof(s));
    s.key = key;
    s.max_items = max_items;
    s.out = out;
    const char *why = NULL;
    int rc = run_parser(&scan_callbacks, &s, body ? body : "", body ? len : 0, &why);
    if (!rc && !s.object)
        rc = sa_fail(&s, IMGSYNC_EPROTOCOL, "not a JSON object") - 1;
    if (rc) {
        rc = s.rc ? s.rc : IMGSYNC_EPROTOCOL;
        snprintf(err, errlen, "%s", s.why ? s.why : why);
        imgsync__strlist_free(out);
        return rc;
    }
    *present = s.present;
    return 0;
}

const char *imgsync__strlist_at(const imgsync__strlist *l, size_t i) { return i < l->n ? l->buf + l->off[i] : NULL; }

int imgsync__strlist_add(imgsync__strlist *l, const char *p, size_t n)
{
    if (l->n == l->ncap) {
        size_t ncap = l->ncap ? l->ncap * 2 : 64;
        size_t *off = realloc(l->off, ncap * sizeof(*off));
        if (!off)
            return IMGSYNC_ENOMEM;
        l->off = off;
        l->ncap = ncap;
    }
    if (l->len + n + 1 > l->cap) {
        size_t cap = l->cap ? l->cap : 1024;
        while (cap < l->len + n + 1)
            cap *= 2;
        char *buf = realloc(l->buf, cap);
        if (!buf)
            return IMGSYNC_ENOMEM;
        l->buf = buf;
        l->cap = cap;
    }
    if (n)
        memcpy(l->buf + l->len, p, n);
    l->buf[l->len + n] = '\0';
    l->off[l->n++] = l->len;
    l->len += n + 1;
    return 0;
}

void imgsync__strlist_free(imgsync__strlist *l)
{
    free(l->buf);
    free(l->off);
    memset(l, 0, sizeof(*l));
}
