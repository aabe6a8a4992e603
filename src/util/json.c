/* JSON helpers over yajl: a tree builder of our own on yajl's event parser (depth limit, NUL
 * strings refused without cutting them short) and a streaming string-array extractor. */
#include "json.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_parse.h>

#include "imgsync/errors.h"

/* ---- tree --------------------------------------------------------------------------------- */

typedef struct frame {
    yajl_val node;
    size_t cap;
    char *key; /* object: key waiting for its value */
} frame;

typedef struct builder {
    frame stack[IMGSYNC__JSON_MAX_DEPTH];
    int depth;
    yajl_val root;
    const char *why; /* reason of a refusal by a callback */
} builder;

/* A string or number node is allocated with its text right behind it (one malloc, not two). */
static char *inline_text(yajl_val v) { return (char *)(v + 1); }

static yajl_val node_with_text(yajl_type t, const void *s, size_t len)
{
    yajl_val v = malloc(sizeof(*v) + len + 1);
    if (!v)
        return NULL;
    memset(v, 0, sizeof(*v));
    v->type = t;
    char *text = inline_text(v);
    memcpy(text, s, len);
    text[len] = '\0';
    if (t == yajl_t_string)
        v->u.string = text;
    else
        v->u.number.r = text;
    return v;
}

void imgsync__json_free(yajl_val v)
{
    if (!v)
        return;
    if (v->type == yajl_t_string) {
        if (v->u.string != inline_text(v))
            free(v->u.string);
    } else if (v->type == yajl_t_number) {
        if (v->u.number.r != inline_text(v))
            free(v->u.number.r);
    } else if (v->type == yajl_t_object) {
        for (size_t i = 0; i < v->u.object.len; i++) {
            free((char *)v->u.object.keys[i]);
            imgsync__json_free(v->u.object.values[i]);
        }
        free(v->u.object.keys);
        free(v->u.object.values);
    } else if (v->type == yajl_t_array) {
        for (size_t i = 0; i < v->u.array.len; i++)
            imgsync__json_free(v->u.array.values[i]);
        free(v->u.array.values);
    }
    free(v);
}

static yajl_val node_new(yajl_type t)
{
    yajl_val v = calloc(1, sizeof(*v));
    if (v)
        v->type = t;
    return v;
}

/* Grow a frame's arrays to hold one more item. 0 or -1 (out of memory). */
static int frame_grow(frame *f)
{
    yajl_val n = f->node;
    size_t len = n->type == yajl_t_array ? n->u.array.len : n->u.object.len;
    if (len < f->cap)
        return 0;
    size_t cap = f->cap ? f->cap * 2 : 4;
    if (n->type == yajl_t_array) {
        yajl_val *vals = realloc(n->u.array.values, cap * sizeof(*vals));
        if (!vals)
            return -1;
        n->u.array.values = vals;
    } else {
        yajl_val *vals = realloc(n->u.object.values, cap * sizeof(*vals));
        if (!vals)
            return -1;
        n->u.object.values = vals;
        const char **keys = realloc((void *)n->u.object.keys, cap * sizeof(*keys));
        if (!keys)
            return -1;
        n->u.object.keys = keys;
    }
    f->cap = cap;
    return 0;
}

/* Hang a finished or just-opened value under the current container. 1 to go on, 0 to stop. */
static int attach(builder *b, yajl_val v)
{
    if (!v) {
        b->why = "out of memory";
        return 0;
    }
    if (b->depth == 0) {
        b->root = v;
        return 1;
    }
    frame *f = &b->stack[b->depth - 1];
    if (frame_grow(f)) {
        imgsync__json_free(v);
        b->why = "out of memory";
        return 0;
    }
    yajl_val n = f->node;
    if (n->type == yajl_t_array) {
        n->u.array.values[n->u.array.len++] = v;
    } else {
        n->u.object.keys[n->u.object.len] = f->key;
        n->u.object.values[n->u.object.len++] = v;
        f->key = NULL;
    }
    return 1;
}

static int on_null(void *ctx) { return attach(ctx, node_new(yajl_t_null)); }

static int on_bool(void *ctx, int b) { return attach(ctx, node_new(b ? yajl_t_true : yajl_t_false)); }

static int on_number(void *ctx, const char *s, size_t len)
{
    yajl_val v = node_with_text(yajl_t_number, s, len);
    if (!v)
        return attach(ctx, NULL);
    const char *r = v->u.number.r;
    char *end;
    errno = 0;
    long long i = strtoll(r, &end, 10);
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
    return attach(ctx, v);
}

static int on_string(void *ctx, const unsigned char *s, size_t len)
{
    if (memchr(s, 0, len)) /* never hand out a shortened string: a node of no usable type */
        return attach(ctx, node_new(yajl_t_any));
    return attach(ctx, node_with_text(yajl_t_string, s, len));
}

static int open_container(builder *b, yajl_type t)
{
    if (b->depth >= IMGSYNC__JSON_MAX_DEPTH) {
        b->why = "JSON nested too deeply";
        return 0;
    }
    yajl_val v = node_new(t);
    if (!attach(b, v))
        return 0;
    frame *f = &b->stack[b->depth++];
    f->node = v;
    f->cap = 0;
    f->key = NULL;
    return 1;
}

static int on_start_map(void *ctx) { return open_container(ctx, yajl_t_object); }
static int on_start_array(void *ctx) { return open_container(ctx, yajl_t_array); }

static int on_end(void *ctx)
{
    builder *b = ctx;
    b->depth--;
    return 1;
}

static int on_key(void *ctx, const unsigned char *s, size_t len)
{
    builder *b = ctx;
    frame *f = &b->stack[b->depth - 1];
    if (memchr(s, 0, len)) {
        b->why = "object key with a NUL character";
        return 0;
    }
    free(f->key);
    if (!(f->key = malloc(len + 1))) {
        b->why = "out of memory";
        return 0;
    }
    memcpy(f->key, s, len);
    f->key[len] = '\0';
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

yajl_val imgsync__json_parse(const char *body, size_t len, char *err, size_t errlen)
{
    builder b;
    memset(&b, 0, sizeof(b));
    const char *why = NULL;
    if (!body) {
        snprintf(err, errlen, "no body");
        return NULL;
    }
    int rc = run_parser(&tree_callbacks, &b, body, len, &b.why);
    why = b.why;
    for (int i = 0; i < IMGSYNC__JSON_MAX_DEPTH; i++)
        free(b.stack[i].key);
    if (rc || !b.root) {
        imgsync__json_free(b.root);
        snprintf(err, errlen, "%s", why ? why : "malformed JSON");
        return NULL;
    }
    return b.root;
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
