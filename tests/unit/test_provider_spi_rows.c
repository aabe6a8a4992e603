/* Provider SPI v2, second part: what test providers registered through the public vtable put
 * into the inventory (row types, partitions, the new fields, validation), the redaction of
 * secrets, and the bounded job queue (imgsync_run_has_room / imgsync_run_defer). Driven by the
 * replay harness; the kinds are in tests/support/spi_provider.c. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "imgsync.h"
#include "imgsync/sys/provider.h"
#include "support/replay.h"
#include "support/spi_provider.h"

Suite *provider_spi_rows_suite(void);

#define EP "https://api.example.com"
#define D1 "sha256:1111111111111111111111111111111111111111111111111111111111111111"
#define D2 "sha256:2222222222222222222222222222222222222222222222222222222222222222"

static replay *R;

static void setup(void)
{
    R = replay_new();
    ck_assert_ptr_nonnull(R);
    spi_reset();
    ck_assert_int_eq(spi_register_kinds(), 0);
}

static void teardown(void)
{
    replay_free(R);
    R = NULL;
    spi_reset();
}

static int ignore_response(imgsync_run *run, imgsync_job *job, const imgsync_response *resp)
{
    (void)run;
    (void)job;
    (void)resp;
    spi_state.responses++;
    return 0;
}

/* Emit partition/repository:tag with a digest (NULL: none) and a type (0: the default). */
static int emit(imgsync_run *run, const char *partition, const char *repository, const char *tag, const char *digest,
                int type)
{
    imgsync_record *r = imgsync_record_new(run, repository, tag);
    ck_assert_ptr_nonnull(r);
    if (partition)
        ck_assert_int_eq(imgsync_record_set_partition(r, partition), 0);
    if (digest)
        ck_assert_int_eq(imgsync_record_set_digest(r, digest), 0);
    if (type)
        ck_assert_int_eq(imgsync_record_set_type(r, type), 0);
    return imgsync_record_emit(run, r);
}

static uint64_t sync_ok(const imgsync_request *req)
{
    uint64_t id = 0;
    ck_assert_int_eq(replay_sync(R, req, &id), 0);
    return id;
}

/* ---- row types ---------------------------------------------------------------------------------- */

static int types_start(imgsync_run *run)
{
    if (!strcmp(imgsync_run_name(run), "other")) { /* the version-1 kind: only its own type */
        imgsync_record *r = imgsync_record_new(run, "x/y", "1");
        ck_assert_ptr_nonnull(r);
        ck_assert_int_eq(imgsync_record_set_type(r, IMGSYNC_TYPE_SWR_SHARED), IMGSYNC_EINVAL);
        ck_assert_int_eq(imgsync_record_set_type(r, IMGSYNC_TYPE_JFROG), 0);
        ck_assert_int_eq(imgsync_record_emit(run, r), 0);
        return imgsync_run_repository_listed(run, "x/y");
    }
    imgsync_record *r = imgsync_record_new(run, "team/app", "bad");
    ck_assert_ptr_nonnull(r);
    ck_assert_int_eq(imgsync_record_set_type(r, IMGSYNC_TYPE_OCI), IMGSYNC_EINVAL);
    ck_assert_int_eq(imgsync_record_set_type(r, 0), IMGSYNC_EINVAL);
    ck_assert_int_eq(imgsync_record_set_type(r, 99), IMGSYNC_EINVAL);
    imgsync_record_free(r);
    if (spi_state.phase == 0) {
        ck_assert_int_eq(imgsync_run_wants_type(run, IMGSYNC_TYPE_SWR_PRIVATE), 1);
        ck_assert_int_eq(imgsync_run_wants_type(run, IMGSYNC_TYPE_SWR_SHARED), 1);
        ck_assert_int_eq(emit(run, NULL, "team/app", "p1", D1, 0), 0);
        ck_assert_int_eq(emit(run, NULL, "team/app", "s1", D1, IMGSYNC_TYPE_SWR_SHARED), 0);
    } else {
        ck_assert_int_eq(imgsync_run_wants_type(run, IMGSYNC_TYPE_SWR_PRIVATE), 0);
        ck_assert_int_eq(imgsync_run_wants_type(run, IMGSYNC_TYPE_SWR_SHARED), 1);
        ck_assert_int_eq(emit(run, NULL, "team/app", "p2", D2, IMGSYNC_TYPE_SWR_PRIVATE), 0);
        ck_assert_int_eq(emit(run, NULL, "team/app", "s2", D2, IMGSYNC_TYPE_SWR_SHARED), 0);
    }
    return imgsync_run_scope_listed(run, "", "team/app");
}

START_TEST(rows_carry_their_own_type)
{
    static const spi_hooks h = {types_start, ignore_response, NULL, NULL};
    spi_hooks_set(&h);
    imgsync_ctx *ctx = replay_ctx(R);
    ck_assert_ptr_nonnull(replay_add_provider(R, SPI2_KIND, "swr", EP));
    ck_assert_ptr_nonnull(replay_add_provider(R, SPI1_KIND, "other", "https://other.example.com"));
    uint64_t id = sync_ok(NULL);
    spi_task t = spi_task_get(R, id);
    ck_assert_int_eq(t.state, IMGSYNC_TASK_SUCCEEDED);
    ck_assert_uint_eq(t.nregistries, 2);
    spi_task_clear(&t);
    ck_assert_uint_eq(imgsync_inventory_count(ctx), 3);

    imgsync_iter *it;
    const imgsync_image *im = spi_find_row(&it, ctx, "", "team/app", "p1");
    ck_assert_ptr_nonnull(im);
    ck_assert_int_eq(imgsync_image_type(im), IMGSYNC_TYPE_SWR_PRIVATE);
    ck_assert_str_eq(imgsync_image_registry_type(im), "SwrPrivate");
    ck_assert_str_eq(imgsync_image_image_type(im), "private_image");
    imgsync_iter_free(it);
    im = spi_find_row(&it, ctx, "", "team/app", "s1");
    ck_assert_ptr_nonnull(im);
    ck_assert_int_eq(imgsync_image_type(im), IMGSYNC_TYPE_SWR_SHARED);
    ck_assert_str_eq(imgsync_image_registry_type(im), "SwrShared");
    ck_assert_str_eq(imgsync_image_image_type(im), "shared_image");
    imgsync_iter_free(it);
    im = spi_find_row(&it, ctx, "", "x/y", "1");
    ck_assert_ptr_nonnull(im);
    ck_assert_int_eq(imgsync_image_type(im), IMGSYNC_TYPE_JFROG);
    imgsync_iter_free(it);

    /* a sync of shared images only: that provider only, its shared rows only */
    imgsync_request *req;
    ck_assert_int_eq(imgsync_request_new(&req), 0);
    ck_assert_int_eq(imgsync_request_add_type(req, IMGSYNC_TYPE_SWR_SHARED), 0);
    spi_state.phase = 1;
    id = sync_ok(req);
    t = spi_task_get(R, id);
    ck_assert_int_eq(t.state, IMGSYNC_TASK_SUCCEEDED);
    ck_assert_uint_eq(t.nregistries, 1); /* "other" (JFROG only) was not selected */
    ck_assert_uint_eq(t.added, 1);
    ck_assert_uint_eq(t.removed, 1);
    spi_task_clear(&t);
    ck_assert_uint_eq(imgsync_inventory_count(ctx), 3);
    im = spi_find_row(&it, ctx, "", "team/app", "p1"); /* private: not selected, kept */
    ck_assert_ptr_nonnull(im);
    imgsync_iter_free(it);
    ck_assert_ptr_null(spi_find_row(&it, ctx, "", "team/app", "p2")); /* not selected: not stored */
    imgsync_iter_free(it);
    ck_assert_ptr_null(spi_find_row(&it, ctx, "", "team/app", "s1"));
    imgsync_iter_free(it);
    im = spi_find_row(&it, ctx, "", "team/app", "s2");
    ck_assert_ptr_nonnull(im);
    ck_assert_int_eq(imgsync_image_type(im), IMGSYNC_TYPE_SWR_SHARED);
    imgsync_iter_free(it);
    ck_assert_ptr_nonnull(spi_find_row(&it, ctx, "", "x/y", "1"));
    imgsync_iter_free(it);

    /* the iterator's type filter uses the row's type too */
    ck_assert_uint_eq(spi_count_rows(ctx, req), 1);
    imgsync_request_free(req);
    ck_assert_int_eq(imgsync_request_new(&req), 0);
    ck_assert_int_eq(imgsync_request_add_type(req, IMGSYNC_TYPE_SWR_PRIVATE), 0);
    ck_assert_uint_eq(spi_count_rows(ctx, req), 1);
    imgsync_request_free(req);
}
END_TEST

/* ---- partitions ------------------------------------------------------------------------------- */

static void part_scope(imgsync_run *run, const char *partition, const char *repository, const char *tag)
{
    ck_assert_int_eq(imgsync_run_scope_begin(run, partition, repository), 0);
    if (tag)
        ck_assert_int_eq(emit(run, partition, repository, tag, D1, 0), 0);
    ck_assert_int_eq(imgsync_run_scope_listed(run, partition, repository), 0);
}

static int partitions_start(imgsync_run *run)
{
    switch (spi_state.phase) {
    case 0:
        part_scope(run, "inst-a", "team/app", "1.0");
        part_scope(run, "inst-b", "team/app", "1.0");
        part_scope(run, "inst-b", "ns1/x", "1");
        part_scope(run, "inst-b", "ns2/y", "1");
        break;
    case 1: /* inst-a's scope fails, inst-b's is replaced */
        ck_assert_int_eq(emit(run, "inst-a", "team/app", "9.9", D2, 0), 0);
        ck_assert_int_eq(imgsync_run_scope_fail(run, "inst-a", "team/app", IMGSYNC_EHTTP, "HTTP 500"), 0);
        part_scope(run, "inst-b", "team/app", "2.0");
        part_scope(run, "inst-b", "ns1/x", "1");
        part_scope(run, "inst-b", "ns2/y", "1");
        break;
    case 2: /* inst-a cannot be listed at all; inst-b's ns1 cannot be listed; ns2/y vanished */
        ck_assert_int_eq(imgsync_run_partition_fail(run, "inst-a", IMGSYNC_EHTTP, "instance is not running"), 0);
        ck_assert_int_eq(imgsync_run_scope_namespace_fail(run, "inst-b", "ns1", IMGSYNC_EAUTH, "denied"), 0);
        part_scope(run, "inst-b", "team/app", "2.0");
        break;
    case 3: /* a deliberate skip of inst-a keeps its rows without an error */
        ck_assert_int_eq(imgsync_run_partition_fail(run, "inst-a", 0, "instance inst-a skipped: frozen"), 0);
        part_scope(run, "inst-b", "team/app", "2.0");
        part_scope(run, "inst-b", "ns1/x", "1");
        break;
    default: /* inst-a and ns1/x are gone */
        part_scope(run, "inst-b", "team/app", "2.0");
        break;
    }
    return imgsync_run_catalog_complete(run);
}

static int has_row(const char *partition, const char *repository, const char *tag)
{
    imgsync_iter *it;
    int found = spi_find_row(&it, replay_ctx(R), partition, repository, tag) != NULL;
    imgsync_iter_free(it);
    return found;
}

START_TEST(partitions_are_scopes_of_their_own)
{
    static const spi_hooks h = {partitions_start, ignore_response, NULL, NULL};
    spi_hooks_set(&h);
    imgsync_ctx *ctx = replay_ctx(R);
    ck_assert_ptr_nonnull(replay_add_provider(R, SPI2_KIND, "ee", EP));

    uint64_t id = sync_ok(NULL);
    spi_task t = spi_task_get(R, id);
    ck_assert_int_eq(t.state, IMGSYNC_TASK_SUCCEEDED);
    ck_assert_uint_eq(t.repos_total, 4);
    ck_assert_uint_eq(t.repos_done, 4);
    ck_assert_uint_eq(t.added, 4);
    spi_task_clear(&t);
    ck_assert_uint_eq(imgsync_inventory_count(ctx), 4);
    ck_assert(has_row("inst-a", "team/app", "1.0"));
    ck_assert(has_row("inst-b", "team/app", "1.0"));
    imgsync_iter *it;
    const imgsync_image *im = spi_find_row(&it, ctx, "inst-b", "team/app", "1.0");
    ck_assert_str_eq(imgsync_image_partition(im), "inst-b");
    ck_assert_str_eq(imgsync_image_repository(im), "team/app");
    imgsync_iter_free(it);
    /* iteration order: registry, partition, repository, tag */
    ck_assert_int_eq(imgsync_iter_new(&it, ctx, NULL), 0);
    const char *order[][2] = {{"inst-a", "team/app"}, {"inst-b", "ns1/x"}, {"inst-b", "ns2/y"}, {"inst-b", "team/app"}};
    for (size_t i = 0; i < 4; i++) {
        im = imgsync_iter_next(it);
        ck_assert_ptr_nonnull(im);
        ck_assert_str_eq(imgsync_image_partition(im), order[i][0]);
        ck_assert_str_eq(imgsync_image_repository(im), order[i][1]);
    }
    ck_assert_ptr_null(imgsync_iter_next(it));
    imgsync_iter_free(it);

    spi_state.phase = 1;
    id = sync_ok(NULL);
    t = spi_task_get(R, id);
    ck_assert_int_eq(t.state, IMGSYNC_TASK_PARTIAL);
    ck_assert_uint_eq(t.repos_failed, 1);
    ck_assert_uint_ge(t.nerrors, 1);
    ck_assert_str_eq(t.error_repository[0], "inst-a/team/app");
    ck_assert_int_eq(t.error_code[0], IMGSYNC_EHTTP);
    spi_task_clear(&t);
    ck_assert(has_row("inst-a", "team/app", "1.0")); /* kept */
    ck_assert(!has_row("inst-a", "team/app", "9.9"));
    ck_assert(!has_row("inst-b", "team/app", "1.0")); /* replaced */
    ck_assert(has_row("inst-b", "team/app", "2.0"));
    ck_assert_uint_eq(imgsync_inventory_count(ctx), 4);

    spi_state.phase = 2;
    id = sync_ok(NULL);
    t = spi_task_get(R, id);
    ck_assert_int_eq(t.state, IMGSYNC_TASK_PARTIAL);
    ck_assert_int_ne(t.registry_error, 0);
    ck_assert_uint_eq(t.removed, 1);
    ck_assert(spi_task_mentions(&t, "instance is not running"));
    spi_task_clear(&t);
    ck_assert(has_row("inst-a", "team/app", "1.0")); /* failed partition: kept */
    ck_assert(has_row("inst-b", "ns1/x", "1"));      /* failed namespace: kept */
    ck_assert(!has_row("inst-b", "ns2/y", "1"));     /* vanished: removed */
    ck_assert_uint_eq(imgsync_inventory_count(ctx), 3);

    spi_state.phase = 3;
    id = sync_ok(NULL);
    t = spi_task_get(R, id);
    ck_assert_int_eq(t.state, IMGSYNC_TASK_SUCCEEDED);
    ck_assert_int_eq(t.registry_error, 0);
    ck_assert_uint_eq(t.nerrors, 0);
    ck_assert_uint_eq(t.removed, 0);
    ck_assert_msg(spi_task_mentions(&t, "skipped"), "reason '%s'", t.registry_reason);
    spi_task_clear(&t);
    ck_assert(has_row("inst-a", "team/app", "1.0"));
    ck_assert_uint_eq(imgsync_inventory_count(ctx), 3);

    spi_state.phase = 4;
    id = sync_ok(NULL);
    t = spi_task_get(R, id);
    ck_assert_int_eq(t.state, IMGSYNC_TASK_SUCCEEDED);
    ck_assert_uint_eq(t.removed, 2);
    spi_task_clear(&t);
    ck_assert(!has_row("inst-a", "team/app", "1.0"));
    ck_assert(!has_row("inst-b", "ns1/x", "1"));
    ck_assert(has_row("inst-b", "team/app", "2.0"));
    ck_assert_uint_eq(imgsync_inventory_count(ctx), 1);
}
END_TEST

/* ---- the new fields ------------------------------------------------------------------------------ */

static const char *field_value(int field, int variant)
{
    static char buf[6][64];
    static const char *const base[] = {"domain-x", "effective", "inst-123", "prod-ee", "linux/amd64,linux/arm64/v8"};
    static const char *const alt[] = {"domain-y", "expired", "inst-456", "prod-ee-2", "linux/amd64"};
    snprintf(buf[field], sizeof(buf[field]), "%s", variant ? alt[field] : base[field]);
    return buf[field];
}

/* phase 0: baseline; phase k (1..6): fields 0..k-1 changed, so that each sync changes one field
 * only; phase 7: as phase 6 (nothing changes) */
static int fields_start(imgsync_run *run)
{
    int changed = spi_state.phase < 6 ? spi_state.phase : 6; /* fields below this one have changed */
    imgsync_record *r = imgsync_record_new(run, "team/app", "full");
    ck_assert_ptr_nonnull(r);
    ck_assert_int_eq(imgsync_record_set_digest(r, D1), 0);
    imgsync_record_set_size(r, 42);
    imgsync_record_set_update_ms(r, 1700000001000);
    imgsync_record_set_multi_arch(r, 1);
    ck_assert_int_eq(imgsync_record_set_owner(r, field_value(0, changed > 0)), 0);
    ck_assert_int_eq(imgsync_record_set_share_status(r, field_value(1, changed > 1)), 0);
    ck_assert_int_eq(imgsync_record_set_instance_id(r, field_value(2, changed > 2)), 0);
    ck_assert_int_eq(imgsync_record_set_instance_name(r, field_value(3, changed > 3)), 0);
    ck_assert_int_eq(imgsync_record_set_platforms(r, field_value(4, changed > 4)), 0);
    imgsync_record_set_created_ms(r, changed > 5 ? 1700000000999 : 1700000000000);
    ck_assert_int_eq(imgsync_record_emit(run, r), 0);

    r = imgsync_record_new(run, "team/app", "bare");
    ck_assert_ptr_nonnull(r);
    ck_assert_int_eq(imgsync_record_set_owner(r, "someone"), 0);
    ck_assert_int_eq(imgsync_record_set_owner(r, NULL), 0); /* cleared again */
    imgsync_record_set_created_ms(r, -5);                  /* below 0 gives 0 */
    ck_assert_int_eq(imgsync_record_emit(run, r), 0);
    return imgsync_run_scope_listed(run, "", "team/app");
}

static size_t field_index(const char *name)
{
    for (size_t i = 0; i < imgsync_image_field_count(); i++)
        if (!strcmp(imgsync_image_field_name(i), name))
            return i;
    ck_abort_msg("no field named %s", name);
    return 0;
}

START_TEST(new_fields_through_getters_and_field_api)
{
    static const spi_hooks h = {fields_start, ignore_response, NULL, NULL};
    spi_hooks_set(&h);
    imgsync_ctx *ctx = replay_ctx(R);
    ck_assert_ptr_nonnull(replay_add_provider(R, SPI2_KIND, "f", EP));
    uint64_t id = sync_ok(NULL);
    spi_task t = spi_task_get(R, id);
    ck_assert_uint_eq(t.added, 2);
    spi_task_clear(&t);

    imgsync_iter *it;
    const imgsync_image *im = spi_find_row(&it, ctx, "", "team/app", "full");
    ck_assert_ptr_nonnull(im);
    ck_assert_str_eq(imgsync_image_owner(im), "domain-x");
    ck_assert_str_eq(imgsync_image_share_status(im), "effective");
    ck_assert_str_eq(imgsync_image_instance_id(im), "inst-123");
    ck_assert_str_eq(imgsync_image_instance_name(im), "prod-ee");
    ck_assert_str_eq(imgsync_image_platforms(im), "linux/amd64,linux/arm64/v8");
    ck_assert_int_eq(imgsync_image_created_ms(im), 1700000000000);
    ck_assert_int_eq(imgsync_image_size(im), 42);
    ck_assert_int_eq(imgsync_image_multi_arch(im), 1);
    static const char *const strings[][2] = {{"owner", "domain-x"},
                                             {"share_status", "effective"},
                                             {"instance_id", "inst-123"},
                                             {"instance_name", "prod-ee"},
                                             {"platforms", "linux/amd64,linux/arm64/v8"},
                                             {"partition", ""},
                                             {"repository", "team/app"},
                                             {"tag", "full"},
                                             {"digest", D1},
                                             {"registry", "f"},
                                             {"registry_type", "SwrPrivate"},
                                             {"image_type", "private_image"}};
    for (size_t i = 0; i < sizeof(strings) / sizeof(strings[0]); i++) {
        size_t f = field_index(strings[i][0]);
        ck_assert_int_eq(imgsync_image_field_kind(f), IMGSYNC_FIELD_STRING);
        ck_assert_str_eq(imgsync_image_field_string(im, f), strings[i][1]);
        ck_assert_int_eq(imgsync_image_field_int(im, f), 0);
    }
    size_t created = field_index("created");
    ck_assert_int_eq(imgsync_image_field_kind(created), IMGSYNC_FIELD_INT);
    ck_assert_int_eq(imgsync_image_field_int(im, created), 1700000000000);
    ck_assert_str_eq(imgsync_image_field_string(im, created), "");
    ck_assert_int_eq(imgsync_image_field_kind(field_index("multi_arch")), IMGSYNC_FIELD_BOOL);
    ck_assert_int_eq(imgsync_image_field_int(im, field_index("multi_arch")), 1);
    ck_assert_int_eq(imgsync_image_field_int(im, field_index("size")), 42);
    ck_assert_int_eq(imgsync_image_field_int(im, field_index("latest_update_time")), 1700000001000);
    size_t n = imgsync_image_field_count();
    ck_assert_ptr_null(imgsync_image_field_name(n));
    ck_assert_int_eq(imgsync_image_field_kind(n), 0);
    ck_assert_str_eq(imgsync_image_field_string(im, n), "");
    ck_assert_str_eq(imgsync_image_field_string(NULL, field_index("owner")), "");
    imgsync_iter_free(it);

    /* unset: "" and 0 */
    im = spi_find_row(&it, ctx, "", "team/app", "bare");
    ck_assert_ptr_nonnull(im);
    ck_assert_str_eq(imgsync_image_owner(im), "");
    ck_assert_str_eq(imgsync_image_share_status(im), "");
    ck_assert_str_eq(imgsync_image_instance_id(im), "");
    ck_assert_str_eq(imgsync_image_instance_name(im), "");
    ck_assert_str_eq(imgsync_image_platforms(im), "");
    ck_assert_int_eq(imgsync_image_created_ms(im), 0);
    ck_assert_int_eq(imgsync_image_multi_arch(im), 0);
    ck_assert_str_eq(imgsync_image_field_string(im, field_index("owner")), "");
    ck_assert_int_eq(imgsync_image_field_int(im, created), 0);
    imgsync_iter_free(it);
    ck_assert_str_eq(imgsync_image_owner(NULL), "");
    ck_assert_int_eq(imgsync_image_created_ms(NULL), 0);

    /* each new field alone changes the row: one update, nothing added or removed */
    static const char *const names[] = {"owner", "share_status", "instance_id", "instance_name", "platforms", "created"};
    for (int k = 1; k <= 6; k++) {
        spi_state.phase = k;
        id = sync_ok(NULL);
        t = spi_task_get(R, id);
        ck_assert_msg(t.updated == 1, "change of %s: %llu updated", names[k - 1], (unsigned long long)t.updated);
        ck_assert_uint_eq(t.added, 0);
        ck_assert_uint_eq(t.removed, 0);
        ck_assert_uint_eq(t.found, 2);
        spi_task_clear(&t);
    }
    im = spi_find_row(&it, ctx, "", "team/app", "full");
    ck_assert_int_eq(imgsync_image_created_ms(im), 1700000000999);
    ck_assert_str_eq(imgsync_image_owner(im), "domain-y");
    ck_assert_str_eq(imgsync_image_share_status(im), "expired");
    ck_assert_str_eq(imgsync_image_platforms(im), "linux/amd64");
    imgsync_iter_free(it);
    spi_state.phase = 7; /* the same rows again */
    id = sync_ok(NULL);
    t = spi_task_get(R, id);
    ck_assert_uint_eq(t.updated, 0);
    ck_assert_uint_eq(t.found, 2);
    spi_task_clear(&t);
}
END_TEST

/* ---- validation ---------------------------------------------------------------------------------- */

static const struct {
    const char *repository, *tag, *digest;
} BAD_ROWS[] = {
    {"bad\nname", "1", D1},
    {"../etc", "1", D1},
    {"team/../etc", "1", D1},
    {"Upper/Case", "1", D1},
    {"ok/a", "t\r\nX", D1},
    {"ok/b", "t\x1b[31m", D1},
    {"ok/c", "1.0", "sha256:ABCDEF1111111111111111111111111111111111111111111111111111111111"},
    {"ok/d", "1.0", "md5:d41d8cd98f00b204e9800998ecf8427e"},
    {"ok/e", "", ""},
    {"ok/f", "1.0", "sha256:xyz"},
    {"ok/g", "", "sha256:"},
};
#define NBAD (sizeof(BAD_ROWS) / sizeof(BAD_ROWS[0]))

static int validation_start(imgsync_run *run)
{
    /* phase 0: good rows everywhere; phase 1: the bad rows */
    for (size_t i = 0; i < NBAD; i++) {
        const char *repo = BAD_ROWS[i].repository;
        if (!strncmp(repo, "ok/", 3)) {
            ck_assert_int_eq(imgsync_run_scope_begin(run, "", repo), 0);
            if (spi_state.phase == 0)
                ck_assert_int_eq(emit(run, NULL, repo, "good", D1, 0), 0);
            else
                ck_assert_int_eq(emit(run, NULL, repo, BAD_ROWS[i].tag, BAD_ROWS[i].digest, 0), IMGSYNC_EPROTOCOL);
            ck_assert_int_eq(imgsync_run_scope_listed(run, "", repo), 0);
        } else if (spi_state.phase == 1) {
            ck_assert_int_eq(imgsync_run_scope_begin(run, "", repo), IMGSYNC_EINVAL);
            ck_assert_int_eq(emit(run, NULL, repo, BAD_ROWS[i].tag, BAD_ROWS[i].digest, 0), IMGSYNC_EPROTOCOL);
            /* a second row of the same invalid repository is the same failed item */
            ck_assert_int_eq(emit(run, NULL, repo, "2", D2, 0), IMGSYNC_EPROTOCOL);
        }
    }
    /* a bad partition name */
    if (spi_state.phase == 1) {
        ck_assert_int_eq(imgsync_run_scope_begin(run, "in st/", "fine/repo"), IMGSYNC_EINVAL);
        ck_assert_int_eq(emit(run, "in st/", "fine/repo", "1", D1, 0), IMGSYNC_EPROTOCOL);
    }
    part_scope(run, "", "fine/one", "1.0");
    /* free text is kept, without terminal controls (C0, DEL, C1) */
    imgsync_record *r = imgsync_record_new(run, "fine/two", "1.0");
    ck_assert_ptr_nonnull(r);
    ck_assert_int_eq(imgsync_record_set_digest(r, D1), 0);
    ck_assert_int_eq(imgsync_record_set_instance_name(r, "prod\x1b[2Jee"), 0);
    ck_assert_int_eq(imgsync_record_set_owner(r, "dom\xc2\x9b" "31main"), 0);
    ck_assert_int_eq(imgsync_record_set_media_type(r, "application/x\x7f\ty"), 0);
    ck_assert_int_eq(imgsync_record_emit(run, r), 0);
    ck_assert_int_eq(imgsync_run_scope_listed(run, "", "fine/two"), 0);
    if (spi_state.phase == 1) { /* a namespace the provider set itself is validated too */
        r = imgsync_record_new(run, "fine/three", "1.0");
        ck_assert_ptr_nonnull(r);
        ck_assert_int_eq(imgsync_record_set_namespace(r, "bad ns\n"), 0);
        ck_assert_int_eq(imgsync_record_emit(run, r), IMGSYNC_EPROTOCOL);
        ck_assert_int_eq(imgsync_run_scope_fail(run, "", "fine/four", IMGSYNC_EHTTP, "server said \xc2\x9b" "2J\x1b[31mhi"),
                         0);
    }
    return imgsync_run_catalog_complete(run);
}

/* A deferral (or a job) makes its scope without checking the name; the rows emitted for it are
 * still checked, also when it is the scope of the previous row. */
static int deferred_nothing(imgsync_run *run, void *data)
{
    (void)run;
    (void)data;
    return 0;
}

static int deferred_emit(imgsync_run *run, void *data)
{
    (void)data;
    /* another deferral of that scope: it is the last one looked up when the row comes */
    ck_assert_int_eq(imgsync_run_defer(run, "", "Upper/Case", deferred_nothing, NULL, NULL), 0);
    ck_assert_int_eq(emit(run, NULL, "Upper/Case", "1", D1, 0), IMGSYNC_EPROTOCOL);
    ck_assert_int_eq(emit(run, NULL, "Upper/Case", "2", D2, 0), IMGSYNC_EPROTOCOL);
    return 0;
}

static int unchecked_scope_start(imgsync_run *run)
{
    ck_assert_int_eq(imgsync_run_defer(run, "", "Upper/Case", deferred_emit, NULL, NULL), 0);
    part_scope(run, "", "fine/one", "1.0");
    return imgsync_run_catalog_complete(run);
}

START_TEST(rows_of_an_unchecked_scope_are_checked)
{
    static const spi_hooks h = {unchecked_scope_start, ignore_response, NULL, NULL};
    spi_hooks_set(&h);
    imgsync_ctx *ctx = replay_ctx(R);
    ck_assert_ptr_nonnull(replay_add_provider(R, SPI2_KIND, "v", EP));
    uint64_t id = sync_ok(NULL);
    ck_assert_uint_eq(imgsync_inventory_count(ctx), 1); /* fine/one:1.0 only */
    spi_task t = spi_task_get(R, id);
    ck_assert_int_eq(t.state, IMGSYNC_TASK_PARTIAL);
    ck_assert_uint_ge(t.nerrors, 1);
    ck_assert_int_eq(t.error_code[0], IMGSYNC_EPROTOCOL);
    spi_task_clear(&t);
}
END_TEST

START_TEST(invalid_names_tags_digests_fail_their_scope)
{
    static const spi_hooks h = {validation_start, ignore_response, NULL, NULL};
    spi_hooks_set(&h);
    imgsync_ctx *ctx = replay_ctx(R);
    ck_assert_ptr_nonnull(replay_add_provider(R, SPI2_KIND, "v", EP));
    uint64_t id = sync_ok(NULL);
    size_t good_rows = imgsync_inventory_count(ctx);
    ck_assert_uint_eq(good_rows, 9); /* ok/a..ok/g:good, fine/one:1.0, fine/two:1.0 */
    imgsync_iter *it;
    const imgsync_image *im = spi_find_row(&it, ctx, "", "fine/two", "1.0");
    ck_assert_ptr_nonnull(im);
    ck_assert_ptr_null(strpbrk(imgsync_image_instance_name(im), "\x1b"));
    ck_assert_ptr_nonnull(strstr(imgsync_image_instance_name(im), "prod"));
    ck_assert_ptr_null(strstr(imgsync_image_owner(im), "\xc2\x9b"));
    ck_assert_ptr_nonnull(strstr(imgsync_image_owner(im), "dom"));
    ck_assert_ptr_null(strchr(imgsync_image_media_type(im), 0x7f));
    imgsync_iter_free(it);

    spi_state.phase = 1;
    id = sync_ok(NULL);
    spi_task t = spi_task_get(R, id);
    ck_assert_int_eq(t.state, IMGSYNC_TASK_PARTIAL);
    ck_assert_uint_eq(t.repos_failed, NBAD + 3);
    ck_assert_uint_eq(t.nerrors, NBAD + 3);
    /* 11 scopes (ok/a..g, fine/one..four) and 5 items whose names cannot be scopes: the
     * failures are counted among the repositories, never more failed than there are */
    ck_assert_uint_eq(t.repos_total, 16);
    ck_assert_msg(!strncmp(t.registry_reason, "14 of 16 repositories failed", 28), "reason '%s'", t.registry_reason);
    for (size_t i = 0; i < t.nerrors; i++)
        ck_assert_msg(t.error_code[i] == (strcmp(t.error_repository[i], "fine/four") ? IMGSYNC_EPROTOCOL : IMGSYNC_EHTTP),
                      "error %zu: %d %s", i, t.error_code[i], t.error_message[i]);
    /* no terminal control reached the status */
    for (size_t i = 0; i < t.nerrors; i++) {
        ck_assert_ptr_null(strpbrk(t.error_message[i], "\r\n\x1b"));
        ck_assert_ptr_null(strpbrk(t.error_repository[i], "\r\n\x1b"));
        ck_assert_ptr_null(strstr(t.error_message[i], "\xc2\x9b"));
    }
    spi_task_clear(&t);

    /* the previous good rows are kept, nothing stored under another name */
    ck_assert_uint_eq(imgsync_inventory_count(ctx), good_rows);
    ck_assert_int_eq(imgsync_iter_new(&it, ctx, NULL), 0);
    while ((im = imgsync_iter_next(it))) {
        const char *tag = imgsync_image_tag(im);
        ck_assert_msg(!strcmp(tag, "good") || !strcmp(tag, "1.0"), "row %s:%s", imgsync_image_repository(im), tag);
        ck_assert_str_eq(imgsync_image_digest(im), D1);
        ck_assert_int_eq(strncmp(imgsync_image_repository(im), "ok/", 3) && strncmp(imgsync_image_repository(im), "fine/", 5), 0);
    }
    imgsync_iter_free(it);
}
END_TEST

/* ---- secrets ---------------------------------------------------------------------------------- */

#define PW "pw-SECRET-1"
#define SK "sk-SECRET-2"
#define AK "ak-SECRET-3"
#define BASIC_B64 "YWxpY2U6cHctU0VDUkVULTE=" /* base64("alice:pw-SECRET-1") */
#define TOKEN "tok-SECRET-4"
#define ECHO_BODY                                                                                  \
    "{\"errors\":[{\"code\":\"DENIED\",\"message\":\"bad login " PW " sk=" SK " key " AK           \
    " auth Basic " BASIC_B64 "\"}]}"
/* after the engine obtained the token (team/app is answered before that) */
#define ECHO_TOKEN_BODY "{\"errors\":[{\"code\":\"DENIED\",\"message\":\"token " TOKEN " pw " PW "\"}]}"

static int secrets_start(imgsync_run *run)
{
    if (spi_state.phase == 1) { /* the options of this task: api_key was changed meanwhile */
        char msg[256];
        snprintf(msg, sizeof(msg), "login with %s / %s / %s / %s refused", imgsync_run_option(run, "password"),
                 imgsync_run_option(run, "api_key"), imgsync_run_option(run, "sk"), BASIC_B64);
        ck_assert_str_eq(imgsync_run_option(run, "api_key"), "ak-NEWER");
        return imgsync_run_fail(run, IMGSYNC_EAUTH, msg);
    }
    static const struct {
        const char *repo, *path;
        int auth;
    } jobs[] = {{"team/app", "/v2/team/app/tags/list", IMGSYNC_AUTH_BASIC},
                {"team/tok", "/v2/team/tok/tags/list", IMGSYNC_AUTH_REGISTRY}};
    for (size_t i = 0; i < 2; i++) {
        ck_assert_int_eq(imgsync_run_scope_begin(run, "", jobs[i].repo), 0);
        imgsync_job *job = imgsync_job_new(run, "GET", jobs[i].path);
        ck_assert_ptr_nonnull(job);
        ck_assert_int_eq(imgsync_job_set_auth(job, jobs[i].auth), 0);
        ck_assert_int_eq(imgsync_job_set_scope(job, "", jobs[i].repo), 0);
        char line[128];
        snprintf(line, sizeof(line), "X-Api-Key: %s", imgsync_run_option(run, "api_key"));
        ck_assert_int_eq(imgsync_job_add_header(job, line), 0);
        ck_assert_int_eq(imgsync_job_submit(job), 0);
    }
    ck_assert_int_eq(imgsync_run_scope_fail(run, "", "team/direct", IMGSYNC_EHTTP, "server said " PW " and " SK), 0);
    return 0;
}

static int secrets_on_response(imgsync_run *run, imgsync_job *job, const imgsync_response *resp)
{
    spi_state.responses++;
    ck_assert_int_eq(imgsync_response_status(resp), 403);
    return imgsync_run_fail_response(run, job, resp) == IMGSYNC_EAUTH ? 0 : IMGSYNC_EINTERNAL;
}

static void assert_no_secret(const spi_task *t)
{
    static const char *const secrets[] = {PW, SK, AK, BASIC_B64, TOKEN, "ak-NEWER"};
    for (size_t i = 0; i < sizeof(secrets) / sizeof(secrets[0]); i++)
        for (size_t j = 0; j < t->nerrors; j++)
            ck_assert_msg(!strstr(t->error_message[j], secrets[i]) && !strstr(t->error_repository[j], secrets[i]),
                          "%s in error %zu: %s", secrets[i], j, t->error_message[j]);
    for (size_t i = 0; i < sizeof(secrets) / sizeof(secrets[0]); i++)
        ck_assert_msg(!spi_task_mentions(t, secrets[i]), "%s in the registry reason: %s", secrets[i],
                      t->registry_reason);
}

START_TEST(secrets_never_reach_the_status)
{
    static const spi_hooks h = {secrets_start, secrets_on_response, NULL, NULL};
    spi_hooks_set(&h);
    imgsync_ctx *ctx = replay_ctx(R);
    imgsync_provider *p = replay_add_provider(R, SPI2_KIND, "sec", EP);
    ck_assert_ptr_nonnull(p);
    ck_assert_int_eq(imgsync_provider_set(p, "username", "alice"), 0);
    ck_assert_int_eq(imgsync_provider_set(p, "password", PW), 0);
    ck_assert_int_eq(imgsync_provider_set(p, "sk", SK), 0);
    ck_assert_int_eq(imgsync_provider_set(p, "api_key", AK), 0);
    fake_transport *ft = replay_transport(R);
    ck_assert_int_eq(replay_respond(R, "GET", EP "/v2/team/app/tags/list", 403, "Content-Type: application/json",
                                    ECHO_BODY),
                     0);
    ck_assert_int_eq(fake_add_simple(ft, "GET", EP "/v2/team/tok/tags/list", 401,
                                     "WWW-Authenticate: Bearer realm=\"" EP "/token\",service=\"reg\"", NULL),
                     0);
    ck_assert_int_eq(fake_add_simple(ft, "GET", EP "/v2/team/tok/tags/list", 403, "Content-Type: application/json",
                                     ECHO_TOKEN_BODY),
                     0);
    ck_assert_int_eq(replay_respond(R, "GET", EP "/token?service=reg", 200, NULL, "{\"token\":\"" TOKEN "\"}"), 0);

    /* the task works on a copy of the options: changing one while it runs is fine */
    uint64_t id;
    ck_assert_int_eq(imgsync_sync_start(ctx, NULL, &id), 0);
    ck_assert_int_eq(imgsync_provider_set(p, "api_key", "ak-NEW"), 0);
    ck_assert_int_eq(imgsync_ctx_perform(ctx, 0), 1); /* started, still running */
    ck_assert_int_eq(imgsync_provider_set(p, "api_key", "ak-NEWER"), 0);
    ck_assert_int_eq(imgsync_provider_free(p), IMGSYNC_EBUSY);
    ck_assert_int_eq(imgsync_ctx_set(ctx, "max_retries", "1"), IMGSYNC_EBUSY); /* context options do wait */
    ck_assert_int_eq(imgsync_task_wait(ctx, id, 60000), 0);
    ck_assert_pstr_eq(replay_request_header(replay_find(R, "GET", EP "/v2/team/app/tags/list"), "X-Api-Key"), AK);
    ck_assert_int_eq(spi_state.responses, 2);

    spi_task t = spi_task_get(R, id);
    ck_assert_int_eq(t.state, IMGSYNC_TASK_FAILED);
    ck_assert_uint_eq(t.nerrors, 3);
    for (size_t i = 0; i < t.nerrors; i++)
        ck_assert_msg(strlen(t.error_message[i]) > 10, "message '%s'", t.error_message[i]);
    ck_assert(spi_task_mentions(&t, "403"));
    ck_assert(spi_task_mentions(&t, "DENIED"));
    assert_no_secret(&t);
    spi_task_clear(&t);

    /* the run's failure text (the registry row's reason) too */
    spi_state.phase = 1;
    id = sync_ok(NULL);
    t = spi_task_get(R, id);
    ck_assert_int_eq(t.state, IMGSYNC_TASK_FAILED);
    ck_assert_int_eq(t.registry_error, IMGSYNC_EAUTH);
    ck_assert(spi_task_mentions(&t, "refused"));
    assert_no_secret(&t);
    spi_task_clear(&t);
    ck_assert_ptr_null(strstr(imgsync_ctx_errmsg(ctx), PW));

    /* the next task takes the options as they are now */
    spi_state.phase = 0;
    (void)sync_ok(NULL);
    ck_assert_pstr_eq(replay_request_header(replay_find(R, "GET", EP "/v2/team/app/tags/list"), "X-Api-Key"),
                      "ak-NEWER");
    ck_assert_int_eq(imgsync_provider_free(p), 0);
}
END_TEST

/* A token the provider obtained itself (an IAM login, say) and sends as X-Auth-Token. */
#define IAM_TOKEN "MIIT-iam-token-SECRET-5"

static int own_secret_start(imgsync_run *run)
{
    ck_assert_int_eq(imgsync_run_add_secret(run, NULL), IMGSYNC_EINVAL);
    ck_assert_int_eq(imgsync_run_add_secret(run, ""), IMGSYNC_EINVAL);
    ck_assert_int_eq(imgsync_run_add_secret(run, IAM_TOKEN), 0);
    ck_assert_int_eq(imgsync_run_add_secret(run, IAM_TOKEN), 0); /* twice is fine */
    ck_assert_int_eq(imgsync_run_scope_begin(run, "", "team/app"), 0);
    imgsync_job *job = imgsync_job_new(run, "GET", "/v2/team/app/tags/list");
    ck_assert_ptr_nonnull(job);
    ck_assert_int_eq(imgsync_job_set_auth(job, IMGSYNC_AUTH_PROVIDER), 0);
    ck_assert_int_eq(imgsync_job_set_scope(job, "", "team/app"), 0);
    ck_assert_int_eq(imgsync_job_add_header(job, "X-Auth-Token: " IAM_TOKEN), 0);
    return imgsync_job_submit(job);
}

START_TEST(provider_obtained_secret_redacted)
{
    static const spi_hooks h = {own_secret_start, secrets_on_response, NULL, NULL};
    spi_hooks_set(&h);
    ck_assert_ptr_nonnull(replay_add_provider(R, SPI2_KIND, "own", EP));
    ck_assert_int_eq(replay_respond(R, "GET", EP "/v2/team/app/tags/list", 403, "Content-Type: application/json",
                                    "{\"errors\":[{\"code\":\"DENIED\",\"message\":\"token " IAM_TOKEN " expired\"}]}"),
                     0);
    uint64_t id = sync_ok(NULL);
    ck_assert_pstr_eq(replay_request_header(replay_find(R, "GET", EP "/v2/team/app/tags/list"), "X-Auth-Token"),
                      IAM_TOKEN);
    spi_task t = spi_task_get(R, id);
    ck_assert_uint_eq(t.nerrors, 1);
    ck_assert_msg(strstr(t.error_message[0], "token *** expired") != NULL, "%s", t.error_message[0]);
    ck_assert_msg(!strstr(t.error_message[0], "iam-token"), "%s", t.error_message[0]);
    spi_task_clear(&t);
}
END_TEST

/* ---- bounded pending jobs ------------------------------------------------------------------------ */

#define NTAGS 3000
#define MAX_PENDING 16

typedef struct walk {
    int next, total;
    const char *repo;
} walk;

static void walk_free(void *p)
{
    spi_state.ints[0]++; /* deferral data freed */
    free(p);
}

static void note_pending(void)
{
    long pending = spi_state.submitted - spi_state.done;
    if (pending > spi_state.max_pending)
        spi_state.max_pending = pending;
}

static int walk_step(imgsync_run *run, void *data)
{
    walk *w = data;
    spi_state.deferred_calls++;
    ck_assert_int_eq(imgsync_run_has_room(run), 1); /* called only when there is room */
    while (w->next < w->total && imgsync_run_has_room(run)) {
        char path[64];
        snprintf(path, sizeof(path), "/m/%d", w->next);
        imgsync_job *job = imgsync_job_new(run, "GET", path);
        ck_assert_ptr_nonnull(job);
        ck_assert_int_eq(imgsync_job_set_scope(job, "", w->repo), 0);
        imgsync_job_set_kind(job, 2);
        ck_assert_int_eq(imgsync_job_submit(job), 0);
        spi_state.submitted++;
        note_pending();
        w->next++;
    }
    return w->next < w->total ? 1 : 0;
}

static int failing_step(imgsync_run *run, void *data)
{
    (void)run;
    (void)data;
    spi_state.ints[1]++;
    return IMGSYNC_EPROTOCOL;
}

static int defer_start(imgsync_run *run)
{
    ck_assert_int_eq(imgsync_run_scope_begin(run, "", "big/repo"), 0);
    imgsync_job *job = imgsync_job_new(run, "GET", "/v2/big/repo/tags/list");
    ck_assert_ptr_nonnull(job);
    ck_assert_int_eq(imgsync_job_set_scope(job, "", "big/repo"), 0);
    imgsync_job_set_kind(job, 1);
    ck_assert_int_eq(imgsync_job_submit(job), 0);
    spi_state.submitted++;

    /* refused deferrals free their data too */
    walk *w = calloc(1, sizeof(*w));
    ck_assert_int_eq(imgsync_run_defer(run, "", "big/repo", NULL, w, walk_free), IMGSYNC_EINVAL);
    ck_assert_int_eq(spi_state.ints[0], 1);

    if (spi_state.phase == 0) {
        part_scope(run, "", "small/fail", "1");
        return 0;
    }
    /* phase 1: small/fail's listing step fails: the scope fails, its row is kept */
    ck_assert_int_eq(imgsync_run_scope_begin(run, "", "small/fail"), 0);
    ck_assert_int_eq(emit(run, NULL, "small/fail", "2", D1, 0), 0);
    ck_assert_int_eq(imgsync_run_defer(run, "", "small/fail", failing_step, NULL, NULL), 0);
    return imgsync_run_scope_listed(run, "", "small/fail");
}

static int defer_on_response(imgsync_run *run, imgsync_job *job, const imgsync_response *resp)
{
    spi_state.done++;
    ck_assert_int_eq(imgsync_response_status(resp), 200);
    if (imgsync_job_kind(job) == 1) { /* the tag list: far too many tags to submit at once */
        walk *w = calloc(1, sizeof(*w));
        ck_assert_ptr_nonnull(w);
        w->total = spi_state.phase == 0 ? NTAGS : 40;
        w->repo = "big/repo";
        ck_assert_int_eq(imgsync_run_defer(run, "", "big/repo", walk_step, w, walk_free), 0);
        return imgsync_run_scope_listed(run, "", "big/repo");
    }
    /* the scope is listed, yet not committed while jobs or deferred calls are pending */
    ck_assert_uint_eq(imgsync_inventory_count(replay_ctx(R)), spi_state.ints[2]);
    const char *url = imgsync_job_url(job);
    imgsync_record *r = imgsync_record_new(run, "big/repo", strrchr(url, '/') + 1);
    ck_assert_ptr_nonnull(r);
    ck_assert_int_eq(imgsync_record_set_digest(r, D2), 0);
    return imgsync_record_emit(run, r);
}

static void answer_manifests(void *ud, const fake_request *q, fake_reply *out)
{
    (void)ud;
    (void)q;
    out->status = 200;
    out->body = "{}";
}

START_TEST(deferred_listing_stays_within_max_pending)
{
    static const spi_hooks h = {defer_start, defer_on_response, NULL, NULL};
    spi_hooks_set(&h);
    imgsync_ctx *ctx = replay_ctx(R);
    char n[16];
    snprintf(n, sizeof(n), "%d", MAX_PENDING);
    ck_assert_int_eq(imgsync_ctx_set(ctx, "max_pending_jobs", n), 0);
    ck_assert_int_eq(imgsync_ctx_set(ctx, "max_connections", "4"), 0);
    ck_assert_ptr_nonnull(replay_add_provider(R, SPI2_KIND, "big", EP));
    ck_assert_int_eq(replay_respond(R, "GET", EP "/v2/big/repo/tags/list", 200, NULL, "{}"), 0);
    fake_set_fallback(replay_transport(R), answer_manifests, NULL);

    spi_state.ints[2] = 1; /* small/fail commits at once: the inventory holds its row only */
    uint64_t id = sync_ok(NULL);
    spi_task t = spi_task_get(R, id);
    ck_assert_int_eq(t.state, IMGSYNC_TASK_SUCCEEDED);
    ck_assert_uint_eq(t.requests, NTAGS + 1);
    ck_assert_uint_eq(t.repos_done, 2);
    spi_task_clear(&t);
    ck_assert_int_eq(spi_state.done, NTAGS + 1);
    ck_assert_msg(spi_state.max_pending <= MAX_PENDING, "%ld jobs pending", spi_state.max_pending);
    ck_assert_int_ge(spi_state.max_pending, MAX_PENDING - 1); /* the room was used */
    ck_assert_int_ge(spi_state.deferred_calls, NTAGS / MAX_PENDING);
    ck_assert_int_eq(spi_state.ints[0], 2); /* the refused data and the walk's */
    ck_assert_uint_le(fake_max_inflight(replay_transport(R)), 4);
    ck_assert_uint_eq(imgsync_inventory_count(ctx), NTAGS + 1); /* committed after the last deferred job */

    /* a failing deferred step fails its scope (previous row kept); the other scope commits */
    spi_state.phase = 1;
    spi_state.submitted = spi_state.done = spi_state.max_pending = 0;
    spi_state.ints[0] = 0;
    spi_state.ints[2] = NTAGS + 1;
    id = sync_ok(NULL);
    t = spi_task_get(R, id);
    ck_assert_int_eq(t.state, IMGSYNC_TASK_PARTIAL);
    ck_assert_uint_eq(t.repos_failed, 1);
    ck_assert_uint_ge(t.nerrors, 1);
    ck_assert_int_eq(t.error_code[0], IMGSYNC_EPROTOCOL);
    ck_assert_str_eq(t.error_repository[0], "small/fail");
    spi_task_clear(&t);
    ck_assert_int_eq(spi_state.ints[1], 1);
    ck_assert(has_row("", "small/fail", "1"));
    ck_assert(!has_row("", "small/fail", "2"));
    ck_assert_uint_eq(imgsync_inventory_count(ctx), 40 + 1);
}
END_TEST


/* A complete catalog of a type-restricted sync removes only rows of that type. */
static int typed_prune_start(imgsync_run *run)
{
    if (spi_state.phase == 0) {
        ck_assert_int_eq(emit(run, NULL, "team/private", "1", D1, IMGSYNC_TYPE_SWR_PRIVATE), 0);
        ck_assert_int_eq(imgsync_run_scope_listed(run, "", "team/private"), 0);
        ck_assert_int_eq(emit(run, NULL, "team/mixed", "p", D1, IMGSYNC_TYPE_SWR_PRIVATE), 0);
        ck_assert_int_eq(emit(run, NULL, "team/mixed", "s", D1, IMGSYNC_TYPE_SWR_SHARED), 0);
        ck_assert_int_eq(imgsync_run_scope_listed(run, "", "team/mixed"), 0);
        ck_assert_int_eq(emit(run, "owner-1", "team/shared", "1", D1, IMGSYNC_TYPE_SWR_SHARED), 0);
        ck_assert_int_eq(imgsync_run_scope_listed(run, "owner-1", "team/shared"), 0);
    }
    /* phase 1 (shared only): nothing listed at all, the catalog is complete */
    return imgsync_run_catalog_complete(run);
}

START_TEST(prune_respects_the_request_types)
{
    static const spi_hooks h = {typed_prune_start, ignore_response, NULL, NULL};
    spi_hooks_set(&h);
    imgsync_ctx *ctx = replay_ctx(R);
    ck_assert_ptr_nonnull(replay_add_provider(R, SPI2_KIND, "swr", EP));
    (void)sync_ok(NULL);
    ck_assert_uint_eq(imgsync_inventory_count(ctx), 4);
    imgsync_request *req;
    ck_assert_int_eq(imgsync_request_new(&req), 0);
    ck_assert_int_eq(imgsync_request_add_type(req, IMGSYNC_TYPE_SWR_SHARED), 0);
    spi_state.phase = 1;
    uint64_t id = sync_ok(req);
    imgsync_request_free(req);
    spi_task t = spi_task_get(R, id);
    ck_assert_int_eq(t.state, IMGSYNC_TASK_SUCCEEDED);
    ck_assert_uint_eq(t.removed, 2);
    spi_task_clear(&t);
    ck_assert_uint_eq(imgsync_inventory_count(ctx), 2);
    ck_assert(has_row("", "team/private", "1"));
    ck_assert(has_row("", "team/mixed", "p"));
    ck_assert(!has_row("", "team/mixed", "s"));
    ck_assert(!has_row("owner-1", "team/shared", "1"));
}
END_TEST


/* A request naming repositories: the provider is told, and rows of other repositories are
 * neither stored nor removed. */
static int named_start(imgsync_run *run)
{
    if (spi_state.phase == 1) {
        ck_assert_uint_eq(imgsync_run_repository_count(run), 1);
        ck_assert_str_eq(imgsync_run_repository(run, 0), "team/app");
        ck_assert_int_eq(imgsync_run_wants_repository(run, "team/app"), 1);
        ck_assert_int_eq(imgsync_run_wants_repository(run, "team/other"), 0);
    } else {
        ck_assert_uint_eq(imgsync_run_repository_count(run), 0);
    }
    const char *tag = spi_state.phase ? "2" : "1";
    part_scope(run, "", "team/app", tag);
    part_scope(run, "", "team/other", tag);
    return imgsync_run_catalog_complete(run);
}

START_TEST(named_repositories_limit_what_is_replaced)
{
    static const spi_hooks h = {named_start, ignore_response, NULL, NULL};
    spi_hooks_set(&h);
    imgsync_ctx *ctx = replay_ctx(R);
    ck_assert_ptr_nonnull(replay_add_provider(R, SPI2_KIND, "n", EP));
    (void)sync_ok(NULL);
    ck_assert_uint_eq(imgsync_inventory_count(ctx), 2);
    imgsync_request *req;
    ck_assert_int_eq(imgsync_request_new(&req), 0);
    ck_assert_int_eq(imgsync_request_add_repository(req, "n", "team/app"), 0);
    spi_state.phase = 1;
    uint64_t id = sync_ok(req);
    imgsync_request_free(req);
    spi_task t = spi_task_get(R, id);
    ck_assert_int_eq(t.state, IMGSYNC_TASK_SUCCEEDED);
    ck_assert_uint_eq(t.added, 1);
    ck_assert_uint_eq(t.removed, 1);
    spi_task_clear(&t);
    ck_assert(has_row("", "team/app", "2"));
    ck_assert(!has_row("", "team/app", "1"));
    ck_assert(has_row("", "team/other", "1"));
    ck_assert(!has_row("", "team/other", "2"));
    ck_assert_uint_eq(imgsync_inventory_count(ctx), 2);
}
END_TEST

Suite *provider_spi_rows_suite(void)
{
    Suite *s = suite_create("provider_spi_rows");
    TCase *tc = tcase_create("rows");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, rows_carry_their_own_type);
    tcase_add_test(tc, partitions_are_scopes_of_their_own);
    tcase_add_test(tc, prune_respects_the_request_types);
    tcase_add_test(tc, named_repositories_limit_what_is_replaced);
    tcase_add_test(tc, new_fields_through_getters_and_field_api);
    tcase_add_test(tc, invalid_names_tags_digests_fail_their_scope);
    tcase_add_test(tc, rows_of_an_unchecked_scope_are_checked);
    tcase_add_test(tc, secrets_never_reach_the_status);
    tcase_add_test(tc, provider_obtained_secret_redacted);
    tcase_add_test(tc, deferred_listing_stays_within_max_pending);
    suite_add_tcase(s, tc);
    return s;
}

IMGSYNC_TEST_MAIN(provider_spi_rows_suite)
