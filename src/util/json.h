/* JSON helpers over yajl (internal). */
#ifndef IMGSYNC_UTIL_JSON_H
#define IMGSYNC_UTIL_JSON_H

#include <stddef.h>
#include <stdint.h>
#include <yajl/yajl_tree.h>

/* Deepest nesting accepted: registry documents are a few levels deep. */
#define IMGSYNC__JSON_MAX_DEPTH 64

/*
 * Parse a whole body into a yajl tree built by our own callbacks: NULL on malformed JSON, invalid
 * UTF-8, a raw NUL byte, or nesting deeper than IMGSYNC__JSON_MAX_DEPTH; err gets a short reason
 * (never the body itself, which could hold secrets). A string value holding an escaped NUL
 * ("a\u0000b") is not cut short: its node has type yajl_t_any, which is neither a string nor
 * null, so it fails every type check of the item that holds it. An object key with a NUL makes
 * the document malformed. Free with imgsync__json_free (not yajl_tree_free) on the root: the
 * nodes of a document share its memory, so a node inside it is never freed on its own.
 */
yajl_val imgsync__json_parse(const char *body, size_t len, char *err, size_t errlen);
/* The same for a document holding secrets (an auth file, a credential helper's answer): its
 * memory is wiped when imgsync__json_free frees it (also when parsing fails). */
yajl_val imgsync__json_parse_secret(const char *body, size_t len, char *err, size_t errlen);
void imgsync__json_free(yajl_val v);
/* Member `key` of an object, or NULL (also when obj is not an object). */
yajl_val imgsync__json_member(yajl_val obj, const char *key);
/* String member, or NULL when absent or not a string. */
const char *imgsync__json_string(yajl_val obj, const char *key);
/* Integer member into *out: 0, or -1 when absent / not an integer. */
int imgsync__json_int(yajl_val obj, const char *key, int64_t *out);
/* Array member, or NULL when absent or not an array (JSON null counts as absent). */
yajl_val imgsync__json_array(yajl_val obj, const char *key);

/* A compact list of strings: one buffer, one offset per item. All zeros is an empty list. */
typedef struct imgsync__strlist {
    char *buf;
    size_t *off;
    size_t n;
    size_t invalid; /* items that were not strings or held a NUL: stored as "" */
    size_t len, cap, ncap; /* bytes of buf used and allocated, offsets allocated */
} imgsync__strlist;

/* Item i of the list (borrowed). */
const char *imgsync__strlist_at(const imgsync__strlist *l, size_t i);
/* Append the n bytes at p as one item (copied). 0 or IMGSYNC_ENOMEM. */
int imgsync__strlist_add(imgsync__strlist *l, const char *p, size_t n);
void imgsync__strlist_free(imgsync__strlist *l);

/*
 * Stream `body` (a JSON object) and collect the strings of its top-level member `key`, an array
 * of strings (or null: no items), without building a tree: memory is the strings themselves.
 * *present says whether the member was there. Items that are not strings or hold a NUL are kept
 * as "" and counted in out->invalid, so the caller can fail them. Returns 0, IMGSYNC_EPROTOCOL
 * (malformed, not an object, member not an array or null; reason in err), IMGSYNC_ETOOBIG (more
 * than max_items items: parsing stops there), IMGSYNC_ENOMEM. On error *out is empty.
 */
int imgsync__json_string_array(const char *body, size_t len, const char *key, size_t max_items,
                               imgsync__strlist *out, int *present, char *err, size_t errlen);

#endif
