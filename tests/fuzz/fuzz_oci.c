/*
 * Fuzz the "oci" provider's on_response through the fake transport (see provider.h for the input
 * format). Sections: 0 GET /v2/, 1 the catalog (every page), 2 tags/list (every repository),
 * 3 a manifest by tag (GET and HEAD), 4 a manifest by digest (an index's child; "@C@" elsewhere is
 * its digest), 5 anything else (a Bearer token realm). One sync, with username and password set
 * so that a 401 challenge leads to a token request.
 */
#include "provider.h"

static int ends_with(const char *s, size_t n, const char *suffix)
{
    size_t k = strlen(suffix);
    return n >= k && !memcmp(s + n - k, suffix, k);
}

static int route(const char *method, const char *url)
{
    (void)method;
    size_t n = strcspn(url, "?");
    if (strncmp(url, FZ_ENDPOINT "/v2/", strlen(FZ_ENDPOINT "/v2/")) != 0)
        return 5;
    if (ends_with(url, n, "/v2/"))
        return 0;
    if (ends_with(url, n, "/v2/_catalog"))
        return 1;
    if (ends_with(url, n, "/tags/list"))
        return 2;
    const char *m = strstr(url, "/manifests/");
    if (m)
        return strncmp(m + 11, "sha256:", 7) ? 3 : 4;
    return -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* small listing limits keep every input fast: a Link that grows the URL on every page is
     * refused only at 16 KiB (hundreds of pages), and a 4 KB catalog could name 800 repositories
     * that each list the same tags */
    static const char *const options[] = {"username", "fuzz", "password", "secret", "page_size", "2",
                                          "max_list_pages", "20", "max_list_items", "16", NULL};
    fz_run_provider("oci", options, data, size, route, 4);
    return 0;
}
