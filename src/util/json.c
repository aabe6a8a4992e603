/* JSON helpers over yajl's tree API. */
#include "json.h"

#include <stdio.h>
#include <string.h>

/* yajl has no nesting limit and frees its tree recursively: refuse deep documents before
 * parsing, so that a hostile body cannot exhaust the stack. */
static int nesting_ok(const char *s, size_t len)
{
    int depth = 0, in_string = 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (in_string) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_string = 0;
        } else if (c == '"') {
            in_string = 1;
        } else if (c == '[' || c == '{') {
            if (++depth > IMGSYNC__JSON_MAX_DEPTH)
                return 0;
        } else if (c == ']' || c == '}') {
            depth--;
        }
    }
    return 1;
}

yajl_val imgsync__json_parse(const char *body, size_t len, char *err, size_t errlen)
{
    if (!body || strlen(body) != len) {
        snprintf(err, errlen, "body is not JSON text (embedded NUL)");
        return NULL;
    }
    if (!nesting_ok(body, len)) {
        snprintf(err, errlen, "JSON nested deeper than %d levels", IMGSYNC__JSON_MAX_DEPTH);
        return NULL;
    }
    char yerr[128];
    yajl_val v = yajl_tree_parse(body, yerr, sizeof(yerr));
    if (!v)
        snprintf(err, errlen, "malformed JSON");
    return v;
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
