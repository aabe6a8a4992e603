/*
 * Fuzz the "swr-enterprise" provider's on_response (src/providers/swr_ee.c) through the fake
 * transport (see provider.h for the input format).
 *
 * The low 4 bits of the first byte pick the run (a '\n' right after it is skipped too, so corpus
 * files start with a line "0".."9"; '8' and '9' have bit 3 set): bit 0 set = IAM password
 * authentication (a token from POST {iam_endpoint}/v3/auth/tokens), clear = AK/SK; bit 1 set =
 * include_untagged; bit 2 set = option instance_id "ee1" (ShowInstance instead of the instance
 * list); bit 3 set = no project_id (looked up in IAM first). The rest is the sections:
 *   0 POST /iam/v3/auth/tokens (IAM, password method only; expected 201 + X-Subject-Token)
 *   1 GET /v2/{project}/instances (every page)
 *   2 GET /v2/{project}/instances/{id} (ShowInstance)
 *   3 GET /v2/{project}/instances/{id}/[namespaces/{ns}/]repositories (every instance, page)
 *   4 GET …/namespaces/{ns}/repositories/{name}/artifacts (every repository, every page)
 *   5 GET /iam/v3/projects?name=cn-north-4 (the project id lookup)
 *   6 anything else
 * The endpoint is FZ_ENDPOINT, iam_endpoint FZ_ENDPOINT "/iam". page_size 2 so that paging and
 * totals are exercised; small listing limits keep every input fast (see fuzz_oci.c).
 */
#include "provider.h"

#define IAM_PATH "/iam/v3/auth/tokens"
#define PROJECTS_PATH "/iam/v3/projects"
#define PROJECT "0a1b2c3d4e5f60718293a4b5c6d7e8f9"
#define API FZ_ENDPOINT "/v2/" PROJECT "/instances"

static int ends_with(const char *s, size_t n, const char *suffix)
{
    size_t k = strlen(suffix);
    return n >= k && !memcmp(s + n - k, suffix, k);
}

static int route(const char *method, const char *url)
{
    size_t n = strcspn(url, "?");
    if (!strcmp(method, "POST") && n == strlen(FZ_ENDPOINT IAM_PATH) && !memcmp(url, FZ_ENDPOINT IAM_PATH, n))
        return 0;
    if (!strcmp(method, "GET") && n == strlen(FZ_ENDPOINT PROJECTS_PATH) && !memcmp(url, FZ_ENDPOINT PROJECTS_PATH, n))
        return 5;
    if (strncmp(url, API, strlen(API)) != 0)
        return 6;
    const char *rest = url + strlen(API);
    n -= strlen(API);
    if (n == 0)
        return 1;
    if (ends_with(rest, n, "/artifacts"))
        return 4;
    if (ends_with(rest, n, "/repositories"))
        return 3;
    return rest[0] == '/' && !memchr(rest + 1, '/', n - 1) ? 2 : 6;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *opts[32];
    size_t k = 0;
    static const char *const common[] = {"region",    "cn-north-4", "iam_endpoint",   FZ_ENDPOINT "/iam",
                                         "page_size", "2",          "max_list_pages", "20",
                                         "max_list_items", "16"};
    if (size == 0)
        return 0;
    unsigned mode = data[0];
    data++, size--;
    if (size && data[0] == '\n')
        data++, size--;
    for (size_t i = 0; i < sizeof(common) / sizeof(common[0]); i++)
        opts[k++] = common[i];
    if (mode & 1) {
        opts[k++] = "username", opts[k++] = "fuzz-user", opts[k++] = "password", opts[k++] = "secret";
        opts[k++] = "domain", opts[k++] = "fuzz-domain";
    } else {
        opts[k++] = "ak", opts[k++] = "FUZZAKEXAMPLE0000001", opts[k++] = "sk", opts[k++] = "fuzz-sk-0001";
    }
    if (mode & 2)
        opts[k++] = "include_untagged", opts[k++] = "true";
    if (mode & 4)
        opts[k++] = "instance_id", opts[k++] = "ee1";
    if (!(mode & 8))
        opts[k++] = "project_id", opts[k++] = PROJECT;
    opts[k] = NULL;
    fz_run_provider("swr-enterprise", opts, data, size, route, -1);
    return 0;
}
