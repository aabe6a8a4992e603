/* JSON helpers over yajl's tree API (internal). */
#ifndef IMGSYNC_UTIL_JSON_H
#define IMGSYNC_UTIL_JSON_H

#include <stddef.h>
#include <stdint.h>
#include <yajl/yajl_tree.h>

/* Deepest nesting accepted: registry documents are a few levels deep. */
#define IMGSYNC__JSON_MAX_DEPTH 64

/* Parse a whole body. NULL on malformed JSON, an embedded NUL or nesting deeper than
 * IMGSYNC__JSON_MAX_DEPTH; err gets a short reason
 * (never the body itself, which could hold secrets). Free with yajl_tree_free. */
yajl_val imgsync__json_parse(const char *body, size_t len, char *err, size_t errlen);
/* Member `key` of an object, or NULL (also when obj is not an object). */
yajl_val imgsync__json_member(yajl_val obj, const char *key);
/* String member, or NULL when absent or not a string. */
const char *imgsync__json_string(yajl_val obj, const char *key);
/* Integer member into *out: 0, or -1 when absent / not an integer. */
int imgsync__json_int(yajl_val obj, const char *key, int64_t *out);
/* Array member, or NULL when absent or not an array (JSON null counts as absent). */
yajl_val imgsync__json_array(yajl_val obj, const char *key);

#endif
