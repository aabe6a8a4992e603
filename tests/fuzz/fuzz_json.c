/* Fuzz the JSON helpers (src/util/json.h): the whole input is a response body given to the tree
 * parser, whose tree is then walked with every accessor (member, string, int, array), and to the
 * streaming string-array extractor with a member name and item limit taken from the first byte. */
#include "common.h"

#include "imgsync/errors.h"
#include "util/json.h"

static void walk(yajl_val v, int depth)
{
    if (!v || depth > IMGSYNC__JSON_MAX_DEPTH + 1)
        return;
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
