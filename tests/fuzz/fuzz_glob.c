/* Fuzz glob matching (src/util/glob.h): the input is "pattern\nsubject". Checks one documented
 * rule besides crashes: a malformed pattern matches nothing. */
#include "common.h"

#include "util/glob.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *pattern, *subject;
    fz_split2(data, size, &pattern, &subject);
    int valid = imgsync__glob_valid(pattern) == 0;
    (void)imgsync__glob_is_literal(pattern);
    int m = imgsync__glob_match(pattern, subject);
    if (m && !valid)
        abort(); /* documented: 0 for a malformed pattern */
    (void)imgsync__glob_match(pattern, pattern);
    free(pattern);
    free(subject);
    return 0;
}
