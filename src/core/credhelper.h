/* Running a Docker credential helper (internal). */
#ifndef IMGSYNC_CORE_CREDHELPER_H
#define IMGSYNC_CORE_CREDHELPER_H

#include "util/dockerauth.h"

/* Largest answer read from a helper, and how long one may take. */
#define IMGSYNC__CREDHELPER_MAX_OUTPUT (64 * 1024)
#define IMGSYNC__CREDHELPER_TIMEOUT_MS 10000

/*
 * Run `docker-credential-NAME get` (the first executable file of that name on $PATH, no shell, in its own process group, stderr
 * discarded) with `server` on stdin and parse its answer into out (kind BASIC or IDENTITY).
 * At timeout_ms, or past IMGSYNC__CREDHELPER_MAX_OUTPUT bytes, the group is killed and reaped.
 * Blocks the calling thread for at most timeout_ms (plus the reaping). Returns 0 (out->kind NONE
 * when the helper answered "credentials not found"), EINVAL (bad name), ENOTFOUND (not on PATH),
 * ETIMEOUT, ETOOBIG, EAUTH (the helper failed: exit status or signal), EPROTOCOL (garbage),
 * ENOMEM; err gets a reason naming the helper, never what it printed. Buffers that held its
 * answer are wiped.
 */
int imgsync__credhelper_get(imgsync__dcred *out, const char *name, const char *server, int timeout_ms, char *err,
                            size_t errlen);

#endif
