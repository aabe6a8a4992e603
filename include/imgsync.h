/*
 * libimgsync - keep an inventory of the images held in container registries.
 *
 * This umbrella header includes the whole public API (the headers in include/imgsync/); the provider SPI for
 * adding registry kinds is imgsync/sys/provider.h, the clock seam imgsync/sys/clock.h.
 *
 * The headers are the specification. Conventions:
 *  - opaque handles only; every fallible call returns 0 or a negative IMGSYNC_E* code;
 *  - out-parameters come first; `**out` results belong to the caller and are released with the
 *    matching `_free()`, which accepts NULL;
 *  - a returned `const char *` is borrowed: valid until its parent handle is freed (or, for the
 *    error message, until the next call on the same context);
 *  - every string, given or returned, is UTF-8 (registry names are ASCII in practice); text that
 *    came from a server is returned as validated data, never with control characters;
 *  - thread rules are libcurl's: a handle is used by one thread at a time. Task snapshots are
 *    immutable and may be read from any thread; imgsync_task_get() may be called from any thread
 *    while another thread drives the context.
 *  - no call ever puts a password, token or secret key in an error message or status text.
 */
#ifndef IMGSYNC_H
#define IMGSYNC_H

#include "imgsync/export.h"
#include "imgsync/version.h"
#include "imgsync/errors.h"
#include "imgsync/ctx.h"
#include "imgsync/provider.h"
#include "imgsync/request.h"
#include "imgsync/task.h"
#include "imgsync/inventory.h"
#include "imgsync/schedule.h"
#include "imgsync/event.h"

#endif /* IMGSYNC_H */
