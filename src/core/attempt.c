/* Attempts as the sign hook sees them (SPI): a view of the engine's wire request. */
#include "core/attempt.h"

const char *imgsync_attempt_method(const imgsync_attempt *a) { return imgsync__wire_method(a->w); }
const char *imgsync_attempt_url(const imgsync_attempt *a) { return imgsync__wire_url(a->w); }
int imgsync_attempt_number(const imgsync_attempt *a) { return imgsync__wire_attempt(a->w); }
size_t imgsync_attempt_header_count(const imgsync_attempt *a) { return imgsync__wire_header_count(a->w); }

const char *imgsync_attempt_header_name(const imgsync_attempt *a, size_t i)
{
    return imgsync__wire_header_name(a->w, i);
}

const char *imgsync_attempt_header_value(const imgsync_attempt *a, size_t i)
{
    return imgsync__wire_header_value(a->w, i);
}

const char *imgsync_attempt_header(const imgsync_attempt *a, const char *name)
{
    return imgsync__wire_header(a->w, name);
}

const void *imgsync_attempt_body(const imgsync_attempt *a, size_t *len) { return imgsync__wire_body(a->w, len); }

int imgsync_attempt_add_header(imgsync_attempt *a, const char *name, const char *value)
{
    return a ? imgsync__wire_add_header(a->w, name, value) : IMGSYNC_EINVAL;
}
