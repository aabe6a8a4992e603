/* review2 reproducer: engine.h allows a hook to free its group ("From a hook ... the group
 * refuses submissions at once and is freed when the cancel or signer running that hook is done
 * with it"), and group_cancel/sign hold the group for that. The event hook is not covered:
 * imgsync__retry_schedule calls hooks.event(EV_RETRY) while the request is still FINISHED and
 * then moves it to BACKOFF. An event hook that frees the group (as a done or sign hook may)
 * cancels and frees that very request, and retry_schedule then uses it (heap-use-after-free). */
#include <check.h>
#include <stdlib.h>

#include "check_main.h"
#include "engine/engine.h"
#include "imgsync/errors.h"
#include "support/engine_harness.h"

Suite *review2_event_free_suite(void);

#define A "https://a.example"

static imgsync__group *G;
static int dones;

static void on_done(void *ud, const imgsync__eresp *resp)
{
    (void)ud;
    (void)resp;
    dones++;
}

static void on_event(void *ud, int ev)
{
    (void)ud;
    if (ev == IMGSYNC__EV_RETRY && G) { /* e.g. a run that gives up on its first retry */
        imgsync__group *g = G;
        G = NULL;
        imgsync__group_free(g);
    }
}

START_TEST(event_hook_frees_group_on_retry)
{
    eh h;
    eh_init(&h, NULL);
    static const imgsync__policy p = {NULL, NULL, NULL, 0, 0, 0};
    imgsync__hooks hooks = {NULL, on_done, on_event};
    ck_assert_int_eq(imgsync__group_new(&G, h.e, &p, &hooks, NULL), 0);
    fake_set_simple(h.ft, "GET", A "/busy", 503, NULL, "busy");
    imgsync__ereq_spec spec = {"GET", A "/busy", NULL, 0, NULL, 0, NULL, IMGSYNC__CRED_NONE, 1, NULL};
    ck_assert_int_eq(imgsync__group_submit(G, &spec), 0);
    for (int i = 0; i < 20 && dones == 0; i++)
        imgsync__engine_perform(h.e, 1000); /* ASan: heap-use-after-free in retry_schedule */
    ck_assert_int_eq(dones, 1);
    ck_assert_ptr_null(G);
    eh_free(&h);
}
END_TEST

Suite *review2_event_free_suite(void)
{
    Suite *s = suite_create("review2_event_free");
    TCase *tc = tcase_create("event");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, event_hook_frees_group_on_retry);
    suite_add_tcase(s, tc);
    return s;
}

IMGSYNC_TEST_MAIN(review2_event_free_suite)
