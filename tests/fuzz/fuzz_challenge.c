/* Fuzz WWW-Authenticate parsing (src/engine/challenge.h): the whole input is one header value. */
#include "common.h"

#include "engine/challenge.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *value = fz_strndup(data, size);
    imgsync__challenge c;
    if (imgsync__challenge_parse(value, &c) == 0)
        imgsync__challenge_clear(&c);
    free(value);
    return 0;
}
