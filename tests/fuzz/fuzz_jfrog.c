/*
 * Fuzz the "jfrog" provider's on_response (src/providers/jfrog.c, jfrog_aql.c and the
 * distribution walk it drives) through the fake transport (see provider.h for the input format).
 *
 * The first byte of the input picks the run (a '\n' right after it is skipped too, so corpus
 * files start with a line "0".."3"): bit 0 set = mode aql, clear = mode v2; bit 1 set = an access
 * token (Bearer), clear = username/password (Basic). The rest is the sections:
 *   0 GET  {base}/api/system/ping
 *   1 GET  {base}/api/repositories (the Docker repository list)
 *   2 GET  {base}/api/docker/{key}/v2/_catalog (every key, every page)
 *   3 GET  {base}/api/docker/{key}/v2/{image}/tags/list (every image, every page)
 *   4 GET  {base}/api/docker/{key}/v2/{image}/manifests/{ref} (every manifest, lists included)
 *   5 GET  {base}/api/storage/... (the AQL probe of a key and the manifest files' times)
 *   6 POST {base}/api/search/aql (every page of both queries)
 *   7 anything else
 * {base} is FZ_ENDPOINT "/artifactory" (the endpoint has no path). page_size 3 so that catalog
 * Link paging and AQL offset paging are exercised; small listing limits keep every input fast.
 */
#include "provider.h"

#define BASE FZ_ENDPOINT "/artifactory/api/"

static int has_suffix(const char *url, size_t n, const char *suffix)
{
    size_t m = strlen(suffix);
    return n >= m && !memcmp(url + n - m, suffix, m);
}

static int route(const char *method, const char *url)
{
    size_t n = strcspn(url, "?");
    if (strncmp(url, BASE, strlen(BASE)) != 0)
        return 7;
    const char *path = url + strlen(BASE);
    if (!strcmp(method, "POST"))
        return !strncmp(path, "search/aql", 10) ? 6 : 7;
    if (!strncmp(path, "system/ping", 11))
        return 0;
    if (!strncmp(path, "repositories", 12))
        return 1;
    if (!strncmp(path, "storage/", 8))
        return 5;
    if (strncmp(path, "docker/", 7) != 0)
        return 7;
    if (has_suffix(url, n, "/_catalog"))
        return 2;
    if (has_suffix(url, n, "/tags/list"))
        return 3;
    return strstr(path, "/manifests/") ? 4 : 7;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const basic_v2[] = {"mode", "v2", "page_size", "3", "max_list_pages", "12",
                                           "max_list_items", "24", "username", "fuzz", "password", "secret", NULL};
    static const char *const basic_aql[] = {"mode", "aql", "page_size", "3", "max_list_pages", "12",
                                            "max_list_items", "24", "username", "fuzz", "password", "secret", NULL};
    static const char *const token_v2[] = {"mode", "v2", "page_size", "3", "max_list_pages", "12",
                                           "max_list_items", "24", "token", "fuzz-token", NULL};
    static const char *const token_aql[] = {"mode", "auto", "page_size", "3", "max_list_pages", "12",
                                            "max_list_items", "24", "token", "fuzz-token", NULL};
    static const char *const *const runs[] = {basic_v2, basic_aql, token_v2, token_aql};
    if (size == 0)
        return 0;
    unsigned mode = data[0] & 3;
    data++, size--;
    if (size && data[0] == '\n')
        data++, size--;
    fz_run_provider("jfrog", runs[mode], data, size, route, -1);
    return 0;
}
