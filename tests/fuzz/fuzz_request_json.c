/* Fuzz the JSON form of a request (src/core/request_json.c: how a schedule keeps its request in
 * the store, which another process or an older library may have written). Checks a documented
 * rule besides crashes: a text that parses gives a request whose JSON parses again to the same
 * JSON (the round trip is stable). */
#include "common.h"

#include <string.h>

#include "core/request.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fz_strndup(data, size);
    imgsync_request *req = NULL;
    if (imgsync__request_from_json(&req, text) == 0) {
        char *once = imgsync__request_to_json(req);
        imgsync_request *again = NULL;
        if (!once || imgsync__request_from_json(&again, once) != 0)
            abort();
        char *twice = imgsync__request_to_json(again);
        if (!twice || strcmp(once, twice) != 0)
            abort();
        imgsync__query q;
        if (imgsync__request_query(&q, again) == 0)
            imgsync__request_query_free(&q);
        free(twice);
        free(once);
        imgsync_request_free(again);
    }
    imgsync_request_free(req);
    free(text);
    return 0;
}
