/*
 * Fuzz the "harbor" provider's on_response through the fake transport (see provider.h for the
 * input format). Sections: 0 GET /api/version, 1 /api/v2.0/systeminfo, 2 the project list (every
 * page), 3 a project's repository list, 4 a repository's artifact list, 5 anything else. One sync
 * with username and password set.
 */
#include "provider.h"

static int route(const char *method, const char *url)
{
    (void)method;
    size_t n = strcspn(url, "?");
    const char *api = FZ_ENDPOINT "/api/v2.0/";
    if (!strcmp(url, FZ_ENDPOINT "/api/version"))
        return 0;
    if (strncmp(url, api, strlen(api)) != 0)
        return 5;
    const char *path = url + strlen(api);
    n -= strlen(api);
    if (n == 10 && !memcmp(path, "systeminfo", 10))
        return 1;
    if (n == 8 && !memcmp(path, "projects", 8))
        return 2;
    if (n >= 13 && !memcmp(path + n - 13, "/repositories", 13))
        return 3;
    if (n >= 10 && !memcmp(path + n - 10, "/artifacts", 10))
        return 4;
    return 5;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* small listing limits keep every input fast (see fuzz_oci.c) */
    static const char *const options[] = {"username",       "fuzz", "password",       "secret",
                                          "max_list_pages", "20",   "max_list_items", "16", NULL};
    fz_run_provider("harbor", options, data, size, route, -1);
    return 0;
}
