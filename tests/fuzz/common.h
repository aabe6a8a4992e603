/* Small helpers shared by the libFuzzer harnesses (tests/fuzz/fuzz_*.c). */
#ifndef IMGSYNC_FUZZ_COMMON_H
#define IMGSYNC_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* malloc'd NUL-terminated copy of n bytes (an embedded NUL simply ends the C string early). */
static inline char *fz_strndup(const void *p, size_t n)
{
    char *s = malloc(n + 1);
    if (!s)
        abort();
    if (n)
        memcpy(s, p, n);
    s[n] = '\0';
    return s;
}

/* Split data at the first '\n': *a gets what is before it, *b what follows ("" when there is no
 * newline). Both malloc'd. */
static inline void fz_split2(const uint8_t *data, size_t size, char **a, char **b)
{
    const uint8_t *nl = size ? memchr(data, '\n', size) : NULL;
    size_t n = nl ? (size_t)(nl - data) : size;
    *a = fz_strndup(data, n);
    *b = nl ? fz_strndup(nl + 1, size - n - 1) : fz_strndup("", 0);
}

#endif
