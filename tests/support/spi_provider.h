/*
 * Test provider kinds for the SPI suites (tests/unit/test_provider_spi*.c), registered through
 * the public imgsync_provider_register() like a third-party kind:
 *   SPI2_KIND  vtable version 2: default type SWR_PRIVATE, types {SWR_PRIVATE, SWR_SHARED},
 *              options "region", "api_key", "sk", "mode", secret option "api_key", a sign hook;
 *   SPI1_KIND  a version-1 vtable (only the version-1 members exist), type JFROG, a prepare hook.
 * What the kinds do is set per test with spi_hooks_set(); spi_state collects what the hooks saw.
 */
#ifndef IMGSYNC_TESTS_SPI_PROVIDER_H
#define IMGSYNC_TESTS_SPI_PROVIDER_H

#include <stddef.h>
#include <stdint.h>

#include "imgsync.h"
#include "imgsync/sys/provider.h"
#include "support/replay.h"

#define SPI2_KIND "spi2"
#define SPI1_KIND "spi1"

typedef struct spi_hooks {
    int (*start)(imgsync_run *run);
    int (*on_response)(imgsync_run *run, imgsync_job *job, const imgsync_response *resp);
    int (*sign)(imgsync_run *run, const imgsync_job *job, imgsync_attempt *a); /* NULL: 0 */
    int (*prepare)(imgsync_run *run, imgsync_job *job);                       /* NULL: 0 */
} spi_hooks;

/* Register both kinds (idempotent). 0 or the registration error. */
int spi_register_kinds(void);
/* The hooks of the next runs (must outlive them). */
void spi_hooks_set(const spi_hooks *h);

#define SPI_MAX_HEADERS 32
/* One call of the sign hook, copied (spi_note_sign). */
typedef struct spi_sign_note {
    int kind, attempt;
    char method[8], url[256];
    char content_type[64], x_project[32], host[64], user_agent[64], authorization[128], x_auth_token[64];
    char body[256];
    size_t body_len;
    size_t nheaders;
    char hnames[SPI_MAX_HEADERS][64];
    char hvalues[SPI_MAX_HEADERS][128];
} spi_sign_note;

#define SPI_MAX_SIGNS 16
typedef struct spi_state_t {
    int responses, last_status, last_error, prepare_calls;
    int statuses[16], errors[16];
    int nsigns;
    spi_sign_note signs[SPI_MAX_SIGNS];
    int phase;              /* set by tests to change what a provider does between syncs */
    long submitted, done;   /* jobs, for pending bounds */
    long max_pending;       /* largest submitted - done seen */
    long deferred_calls;
    int64_t ints[8];
    int rc[16];
} spi_state_t;
extern spi_state_t spi_state;

void spi_reset(void);
/* Copy what a sign hook sees into spi_state.signs (kind from imgsync_job_kind). */
void spi_note_sign(const imgsync_job *job, imgsync_attempt *a);

/* A task's status, copied. */
typedef struct spi_task {
    int state, registry_state, registry_error;
    char *registry_reason;
    size_t nregistries, nerrors;
    int error_code[32];
    char *error_message[32], *error_repository[32];
    uint64_t requests, retries, found, added, updated, removed, repos_total, repos_done, repos_failed;
} spi_task;
/* Snapshot of task id (the first registry row); state -1 when it cannot be read. */
spi_task spi_task_get(replay *r, uint64_t id);
void spi_task_clear(spi_task *t);
/* 1 when some error message or the registry reason contains needle. */
int spi_task_mentions(const spi_task *t, const char *needle);

/* The row (partition, repository, tag) of the inventory, or NULL; *it must be freed by the
 * caller with imgsync_iter_free (also when NULL is returned). */
const imgsync_image *spi_find_row(imgsync_iter **it, imgsync_ctx *ctx, const char *partition,
                                  const char *repository, const char *tag);
/* Number of inventory rows a request (NULL = all) selects. */
size_t spi_count_rows(imgsync_ctx *ctx, const imgsync_request *req);

#endif
