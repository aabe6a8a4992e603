/* Tasks and schedules of the memory store. PLACEHOLDER: being written (issue 7); every call fails. */
#include "inventory/memory.h"

int imgsync__memory_task_insert(imgsync__store *s, imgsync__task_rec *r) { (void)s; (void)r; return IMGSYNC_EUNSUPPORTED; }
int imgsync__memory_task_update(imgsync__store *s, const imgsync__task_rec *r) { (void)s; (void)r; return IMGSYNC_EUNSUPPORTED; }
int imgsync__memory_task_get(imgsync__store *s, uint64_t id, imgsync__task_rec *r) { (void)s; (void)id; (void)r; return IMGSYNC_EUNSUPPORTED; }
int imgsync__memory_task_list(imgsync__store *s, int state, int trigger, size_t limit, imgsync__task_rec **out, size_t *n)
{ (void)s; (void)state; (void)trigger; (void)limit; (void)out; (void)n; return IMGSYNC_EUNSUPPORTED; }
int imgsync__memory_task_prune(imgsync__store *s, size_t keep, uint64_t **ids, size_t *n) { (void)s; (void)keep; (void)ids; (void)n; return IMGSYNC_EUNSUPPORTED; }
int imgsync__memory_schedule_insert(imgsync__store *s, imgsync__schedule_rec *r) { (void)s; (void)r; return IMGSYNC_EUNSUPPORTED; }
int imgsync__memory_schedule_remove(imgsync__store *s, uint64_t id) { (void)s; (void)id; return IMGSYNC_EUNSUPPORTED; }
int imgsync__memory_schedule_list(imgsync__store *s, imgsync__schedule_rec **out, size_t *n) { (void)s; (void)out; (void)n; return IMGSYNC_EUNSUPPORTED; }
int imgsync__memory_schedule_claim(imgsync__store *s, uint64_t id, int64_t due_ms, int64_t new_next_ms, uint64_t task_id, int *claimed)
{ (void)s; (void)id; (void)due_ms; (void)new_next_ms; (void)task_id; (void)claimed; return IMGSYNC_EUNSUPPORTED; }
void imgsync__memory_history_free(memory_store *ms) { (void)ms; }
