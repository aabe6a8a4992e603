/* Fuzz timestamp parsing (src/util/timeutil.h): the whole input as an RFC 3339 date-time (Harbor,
 * OCI annotations) and as an HTTP-date (Retry-After). */
#include "common.h"

#include "util/timeutil.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fz_strndup(data, size);
    int64_t ms;
    (void)imgsync__parse_rfc3339_ms(s, &ms);
    (void)imgsync__parse_http_date(s, &ms);
    free(s);
    return 0;
}
