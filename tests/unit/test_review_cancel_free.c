/* Review reproducer: engine.h promises that a done hook "may submit requests, cancel or free
 * groups (also this request's)". imgsync__group_cancel() keeps using the group after each done
 * hook (g->nreqs--, g->hooks.done, g->token_reqs, g->head in the keep loop), so a done hook that
 * frees the group while it is being canceled is a use-after-free. Run under ASan. */
#include <check.h>
#include <stdlib.h>

#include "check_main.h"
#include "engine/engine.h"
#include "imgsync.h"
#include "support/fake_clock.h"
#include "support/fake_transport.h"

Suite *review_cancel_free_suite(void);

typedef struct state {
    imgsync__group *g;
    int done_calls;
} state;

static state st;

static void on_done(void *ud, const imgsync__eresp *resp)
{
    (void)ud;
    (void)resp;
    st.done_calls++;
    if (st.g) { /* the owner tears its group down from the first done: allowed by engine.h */
        imgsync__group *g = st.g;
        st.g = NULL;
        imgsync__group_free(g);
    }
}

START_TEST(test_done_hook_frees_group_during_cancel)
{
    fake_clock fc;
    fake_clock_init(&fc);
    fake_transport *ft = fake_new(&fc);
    imgsync__engine_opts o;
    imgsync__engine_default_opts(&o);
    imgsync__engine *e = NULL;
    ck_assert_int_eq(imgsync__engine_new(&e, &o, &fc.clock, fake_base(ft)), 0);
    imgsync__policy p = {NULL, NULL, NULL, 0, 0};
    imgsync__hooks h = {NULL, on_done, NULL};
    ck_assert_int_eq(imgsync__group_new(&st.g, e, &p, &h, NULL), 0);
    static const char *const urls[] = {"https://reg.example/v2/a/tags/list", "https://reg.example/v2/b/tags/list",
                                       "https://reg.example/v2/c/tags/list"};
    for (int i = 0; i < 3; i++) {
        imgsync__ereq_spec s = {"GET", urls[i], NULL, 0, NULL, 0, NULL, IMGSYNC__CRED_NONE, 1, NULL};
        ck_assert_int_eq(imgsync__group_submit(st.g, &s), 0);
    }
    imgsync__group_cancel(st.g, IMGSYNC_ECANCELED); /* first done frees the group: UAF after it */
    ck_assert_int_eq(st.done_calls, 3);
    imgsync__engine_free(e);
}
END_TEST

Suite *review_cancel_free_suite(void)
{
    Suite *s = suite_create("review_cancel_free");
    TCase *tc = tcase_create("engine");
    tcase_add_test(tc, test_done_hook_frees_group_during_cancel);
    suite_add_tcase(s, tc);
    return s;
}

IMGSYNC_TEST_MAIN(review_cancel_free_suite)
