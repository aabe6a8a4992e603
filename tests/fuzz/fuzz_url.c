/* Fuzz URL handling (src/util/url.h): the input is "base\nreference"; the base is parsed, both
 * are resolved, compared for origin, turned into host:port, escaped and shown as logs show them. */
#include "common.h"

#include "util/url.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *base, *ref;
    fz_split2(data, size, &base, &ref);
    imgsync__url u;
    if (imgsync__url_parse(&u, base) == 0) {
        (void)imgsync__url_effective_port(&u);
        (void)imgsync__url_is_loopback_host(u.host);
        imgsync__url_clear(&u);
    }
    char *r = imgsync__url_resolve(base, ref);
    if (r) {
        (void)imgsync__url_same_origin(base, r);
        free(r);
    }
    (void)imgsync__url_same_origin(base, ref);
    free(imgsync__url_hostport(base));
    free(imgsync__url_hostport(ref));
    (void)imgsync__url_is_loopback_host(ref);
    free(imgsync__url_escape(base, ref));
    free(imgsync__url_escape_segment(ref));
    /* a log line's URL: a server's Location or Link may be anything */
    char *shown = imgsync__url_for_log(ref);
    if (shown && strlen(shown) > 4 * strlen(ref) + 8) /* every value becomes at most "***" */
        abort();
    free(shown);
    free(imgsync__url_for_log(base));
    free(base);
    free(ref);
    return 0;
}
