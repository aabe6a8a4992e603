/* The platforms of a multi-arch index: see platform.h. */
#include "platform.h"

#include <string.h>

#include "util/buf.h"

/* A part that would make the list ambiguous is not listed. */
static int part_ok(const char *s, int required)
{
    if (!s || !*s)
        return !required;
    return strpbrk(s, ",/") == NULL;
}

char *imgsync__pv_platforms(yajl_val children)
{
    imgsync__buf b;
    imgsync__buf_init(&b);
    imgsync__buf_appends(&b, "");
    for (size_t i = 0; children && YAJL_IS_ARRAY(children) && i < children->u.array.len; i++) {
        yajl_val p = imgsync__json_member(children->u.array.values[i], "platform");
        const char *os = imgsync__json_string(p, "os"), *arch = imgsync__json_string(p, "architecture");
        const char *variant = imgsync__json_string(p, "variant");
        if (!part_ok(os, 1) || !part_ok(arch, 1) || !part_ok(variant, 0))
            continue;
        imgsync__buf_printf(&b, "%s%s/%s%s%s", b.len ? "," : "", os, arch, variant && *variant ? "/" : "",
                            variant ? variant : "");
    }
    return imgsync__buf_steal(&b);
}
