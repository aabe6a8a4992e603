/* Shared main() for Check test programs: run one suite, exit non-zero on any failure. */
#ifndef IMGSYNC_TESTS_CHECK_MAIN_H
#define IMGSYNC_TESTS_CHECK_MAIN_H

#include <check.h>
#include <stdlib.h>

#define IMGSYNC_TEST_MAIN(suite_fn)                                  \
    int main(void)                                                   \
    {                                                                \
        SRunner *sr = srunner_create(suite_fn());                    \
        srunner_run_all(sr, CK_NORMAL);                              \
        int failed = srunner_ntests_failed(sr);                      \
        srunner_free(sr);                                            \
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;                 \
    }

#endif
