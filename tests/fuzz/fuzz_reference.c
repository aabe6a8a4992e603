/* Fuzz the imgsync program's image reference parser (src/cli/reference.c): the input is parsed
 * as a registry, a repository and an image; what it accepts must hold within its buffers and
 * parse again to the same parts. */
#include "common.h"

#include <stdio.h>

#include "cli/reference.h"

static void parse_again(const reference *r, enum ref_kind kind)
{
    char text[REF_MAX_HOST + REF_MAX_PATH + REF_MAX_TAG + REF_MAX_DIGEST + 8];
    reference again;
    const char *why;

    if (kind == REF_REGISTRY)
        snprintf(text, sizeof text, "%s", r->host);
    else
        snprintf(text, sizeof text, "%s/%s%s%s%s%s", r->host, r->repository, r->tag[0] ? ":" : "", r->tag,
                 r->digest[0] ? "@" : "", r->digest);
    if (reference_parse(&again, text, kind, &why) != 0 || strcmp(again.host, r->host) != 0 ||
        strcmp(again.repository, r->repository) != 0 || strcmp(again.tag, r->tag) != 0 ||
        strcmp(again.digest, r->digest) != 0 || again.loopback != r->loopback)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fz_strndup(data, size);
    static const enum ref_kind kinds[] = {REF_REGISTRY, REF_REPOSITORY, REF_IMAGE};
    reference r;
    const char *why;

    for (size_t i = 0; i < 3; i++) {
        if (reference_parse(&r, s, kinds[i], &why) == 0)
            parse_again(&r, kinds[i]);
        else if (why == NULL || *why == '\0')
            abort();
    }
    free(s);
    return 0;
}
