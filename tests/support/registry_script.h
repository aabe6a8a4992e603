/* A small OCI registry scripted on a replay (tests of tasks and schedules): repositories "a"
 * (tags 1, 2) and "b" (tag x) in variant 0; in variant 1 "a:2" has a new manifest, "a:3" is
 * pushed and "b" is deleted. Every reply may take fake time (rs_set_delay), so that tasks stay
 * running across perform calls. */
#ifndef IMGSYNC_TESTS_REGISTRY_SCRIPT_H
#define IMGSYNC_TESTS_REGISTRY_SCRIPT_H

#include <stdint.h>

#include "support/replay.h"

#define RS_PROV "reg"
#define RS_EP "https://reg.example.com"
#define RS_EP2 "https://reg2.example.com"
#define RS_BASE_ROWS 3 /* rows of either variant */

/* Script the registry at endpoint ep (RS_EP or RS_EP2) in `variant` (0, 1). */
void rs_script_registry(replay *r, const char *ep, int variant);
/* rs_script_registry(r, RS_EP, variant). */
void rs_script_base(replay *r, int variant);
/* Every reply scripted from now on, and those already scripted, takes ms of fake time. */
void rs_set_delay(replay *r, int64_t ms);
/* Digest ("sha256:...", static buffer) and size of repo:tag in a variant. */
const char *rs_digest(const char *repo, const char *tag, int variant);
int64_t rs_size(const char *repo, const char *tag, int variant);

/* ---- fixtures of the task and schedule suites ---- */

/* A new temporary directory for a database, and the store URI "sqlite:DIR/NAME" in it (static);
 * NULL when the directory cannot be made. rs_db_remove() removes it with what is inside. */
const char *rs_db_make(const char *name);
void rs_db_remove(void);
/* A replay on store_uri (NULL: memory) with provider RS_PROV at RS_EP scripted in variant 0,
 * no delay; *provider (may be NULL) gets the provider. NULL on failure. */
replay *rs_open(const char *store_uri, imgsync_provider **provider);
/* The state of task id (imgsync_task_state), -1 when it cannot be read. */
int rs_task_state(imgsync_ctx *ctx, uint64_t id);
/* Tasks in the history with this state and trigger (-1: any); (size_t)-1 on failure. */
size_t rs_count_tasks(imgsync_ctx *ctx, int state, int trigger);

#endif
