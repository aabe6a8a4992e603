/* The provider's view of one attempt (internal). */
#ifndef IMGSYNC_CORE_ATTEMPT_H
#define IMGSYNC_CORE_ATTEMPT_H

#include "engine/engine.h"
#include "imgsync/sys/provider.h"

struct imgsync_attempt {
    imgsync__wire *w;
};

#endif
