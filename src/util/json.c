/* JSON helpers over yajl's tree API. */
#include "json.h"

#include <stdio.h>
#include <string.h>

yajl_val imgsync__json_parse(const char *body, size_t len, char *err, size_t errlen)
{
    if (!body || strlen(body) != len) {
        snprintf(err, errlen, "body is not JSON text (embedded NUL)");
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
