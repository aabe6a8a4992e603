/* Fuzz Link header parsing (src/util/link.h): the input is "header value\nrequest URL" (the URL
 * defaults to an OCI catalog page when the second line is empty); rel="next" and rel="prev" are
 * looked up and the next link resolved against the request URL. */
#include "common.h"

#include "util/link.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *header, *url, *out = NULL;
    fz_split2(data, size, &header, &url);
    const char *req = *url ? url : "https://reg.example.com/v2/_catalog?n=100";
    if (imgsync__link_find(header, "next", &out) == 0)
        free(out);
    out = NULL;
    if (imgsync__link_find(header, "prev", &out) == 0)
        free(out);
    out = NULL;
    if (imgsync__link_next(header, req, &out) == 0)
        free(out);
    free(header);
    free(url);
    return 0;
}
