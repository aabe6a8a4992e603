/* The provider-facing view of an engine response (internal). */
#ifndef IMGSYNC_CORE_RESPONSE_H
#define IMGSYNC_CORE_RESPONSE_H

#include "engine/engine.h"
#include "imgsync/sys/provider.h"

struct imgsync_response {
    const imgsync__eresp *r;
    char *next_url; /* cache of imgsync_response_next_url */
    int next_rc;
    int next_done;
};

void imgsync__response_init(imgsync_response *resp, const imgsync__eresp *r);
void imgsync__response_clear(imgsync_response *resp);

#endif
