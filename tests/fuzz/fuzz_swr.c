/*
 * Fuzz the "swr-private" and "swr-shared" providers' on_response (src/providers/swr.c) through
 * the fake transport (see provider.h for the input format).
 *
 * The first byte of the input picks the run (a '\n' right after it is skipped too, so corpus
 * files start with a line "0".."3"): bit 0 set = IAM password authentication
 * (username/password/domain, a token from POST {iam_endpoint}/v3/auth/tokens), clear = AK/SK;
 * bit 1 set = kind "swr-shared", clear = "swr-private". The rest is the sections:
 *   0 POST /iam/v3/auth/tokens (IAM, password method only; expected 201 + X-Subject-Token)
 *   1 GET /v2/manage/repos (every page)
 *   2 GET /v2/manage/shared-repositories (every page)
 *   3 GET /v2/manage/namespaces/{ns}/repos/{name}/tags (every repository, every page)
 *   4 anything else
 * The endpoint is FZ_ENDPOINT (set by replay_add_provider; without it the provider would derive
 * https://swr-api.{region}.myhuaweicloud.com) and iam_endpoint FZ_ENDPOINT "/iam" (else
 * https://iam.{region}.myhuaweicloud.com). page_size 2 so that paging and Content-Range /
 * total_range are exercised; small listing limits keep every input fast (see fuzz_oci.c).
 */
#include "provider.h"

#define IAM_PATH "/iam/v3/auth/tokens"

static int route(const char *method, const char *url)
{
    size_t n = strcspn(url, "?");
    if (!strcmp(method, "POST") && n == strlen(FZ_ENDPOINT IAM_PATH) && !memcmp(url, FZ_ENDPOINT IAM_PATH, n))
        return 0;
    const char *api = FZ_ENDPOINT "/v2/manage/";
    if (strncmp(url, api, strlen(api)) != 0)
        return 4;
    const char *path = url + strlen(api);
    n -= strlen(api);
    if (n == 5 && !memcmp(path, "repos", 5))
        return 1;
    if (n == 19 && !memcmp(path, "shared-repositories", 19))
        return 2;
    if (n > 11 && !memcmp(path, "namespaces/", 11) && n >= 5 && !memcmp(path + n - 5, "/tags", 5))
        return 3;
    return 4;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const aksk[] = {
        "region", "cn-north-4", "iam_endpoint", FZ_ENDPOINT "/iam", "page_size", "2", "max_list_pages", "20",
        "max_list_items", "16", "ak", "FUZZAKEXAMPLE0000001", "sk", "fuzz-sk-0001", "project_id",
        "0a1b2c3d4e5f60718293a4b5c6d7e8f9", NULL};
    static const char *const password[] = {
        "region", "cn-north-4", "iam_endpoint", FZ_ENDPOINT "/iam", "page_size", "2", "max_list_pages", "20",
        "max_list_items", "16", "username", "fuzz-user", "password", "secret", "domain", "fuzz-domain", NULL};
    if (size == 0)
        return 0;
    unsigned mode = data[0];
    data++, size--;
    if (size && data[0] == '\n')
        data++, size--;
    fz_run_provider(mode & 2 ? "swr-shared" : "swr-private", mode & 1 ? password : aksk, data, size, route, -1);
    return 0;
}
