/* Fuzz the JSON helpers (src/util/json.h): the whole input is a response body given to the tree
 * parser, whose tree is then walked with every accessor (member, string, int, array) and its
 * numbers checked against strtoll and strtod, and to the
 * streaming string-array extractor with a member name and item limit taken from the first byte. */
#include "common.h"

#include <errno.h>

#include "imgsync/errors.h"
#include "util/json.h"

/* A number node holds what strtoll and strtod make of its text (the builder takes a shortcut
 * for small integers): the same values, flagged the same way. */
static void check_number(yajl_val v)
{
    const char *r = v->u.number.r;
    char *end;
    errno = 0;
    long long i = strtoll(r, &end, 10);
    int int_ok = !errno && *end == '\0';
    errno = 0;
    double d = strtod(r, &end);
    int double_ok = !errno && *end == '\0';
    if (int_ok != !!(v->u.number.flags & YAJL_NUMBER_INT_VALID) || (int_ok && i != v->u.number.i))
        abort();
    if (double_ok != !!(v->u.number.flags & YAJL_NUMBER_DOUBLE_VALID) ||
        (double_ok && memcmp(&d, &v->u.number.d, sizeof(d))))
        abort();
}

static void walk(yajl_val v, int depth)
{
    if (!v || depth > IMGSYNC__JSON_MAX_DEPTH + 1)
        return;
    if (YAJL_IS_NUMBER(v))
        check_number(v);
    if (YAJL_IS_OBJECT(v)) {
        for (size_t i = 0; i < v->u.object.len; i++) {
            const char *key = v->u.object.keys[i];
            int64_t n;
            (void)imgsync__json_string(v, key);
            (void)imgsync__json_int(v, key, &n);
            (void)imgsync__json_array(v, key);
            walk(imgsync__json_member(v, key), depth + 1);
        }
        (void)imgsync__json_member(v, "name");
    } else if (YAJL_IS_ARRAY(v)) {
        for (size_t i = 0; i < v->u.array.len; i++)
            walk(v->u.array.values[i], depth + 1);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const keys[] = {"repositories", "tags", "manifests", ""};
    char err[128];
    yajl_val root = imgsync__json_parse((const char *)data, size, err, sizeof(err));
    walk(root, 0);
    imgsync__json_free(root);

    if (!size)
        return 0;
    imgsync__strlist l;
    int present = 0;
    const char *key = keys[data[0] & 3];
    size_t max_items = (data[0] & 4) ? 3 : 100000;
    int rc = imgsync__json_string_array((const char *)data + 1, size - 1, key, max_items, &l, &present, err,
                                        sizeof(err));
    if (rc == 0) {
        for (size_t i = 0; i < l.n; i++)
            (void)strlen(imgsync__strlist_at(&l, i));
        imgsync__strlist_free(&l);
    }
    return 0;
}
