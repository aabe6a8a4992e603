/* Unit tests for the imgsync program's image reference parser (src/cli/reference.c). */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "cli/reference.h"

Suite *reference_suite(void);

/* Parse s as kind; it must succeed with these parts. */
static void check_ok(const char *s, enum ref_kind kind, const char *host, const char *repo, const char *tag,
                     const char *digest, int loopback)
{
    reference r;
    const char *why = NULL;
    ck_assert_msg(reference_parse(&r, s, kind, &why) == 0, "'%s' refused: %s", s, why ? why : "?");
    ck_assert_msg(strcmp(r.host, host) == 0, "'%s': host '%s', want '%s'", s, r.host, host);
    ck_assert_msg(strcmp(r.repository, repo) == 0, "'%s': repository '%s', want '%s'", s, r.repository, repo);
    ck_assert_msg(strcmp(r.tag, tag) == 0, "'%s': tag '%s', want '%s'", s, r.tag, tag);
    ck_assert_msg(strcmp(r.digest, digest) == 0, "'%s': digest '%s', want '%s'", s, r.digest, digest);
    ck_assert_msg(r.loopback == loopback, "'%s': loopback %d, want %d", s, r.loopback, loopback);
}

/* Parse s as kind; it must fail with a reason. */
static void check_bad(const char *s, enum ref_kind kind)
{
    reference r;
    const char *why = NULL;
    ck_assert_msg(reference_parse(&r, s, kind, &why) == -1, "'%s' accepted (host '%s', repository '%s')",
                  s ? s : "(null)", r.host, r.repository);
    ck_assert_msg(why != NULL && *why != '\0', "'%s' refused without a reason", s ? s : "(null)");
}

#define D64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

START_TEST(test_docker_hub_short_names)
{
    check_ok("alpine", REF_IMAGE, "registry-1.docker.io", "library/alpine", "latest", "", 0);
    check_ok("alpine:3.19", REF_IMAGE, "registry-1.docker.io", "library/alpine", "3.19", "", 0);
    check_ok("bitnami/redis", REF_REPOSITORY, "registry-1.docker.io", "bitnami/redis", "", "", 0);
    check_ok("docker.io/nginx", REF_REPOSITORY, "registry-1.docker.io", "library/nginx", "", "", 0);
    check_ok("index.docker.io/library/nginx:1", REF_IMAGE, "registry-1.docker.io", "library/nginx", "1", "", 0);
    check_ok("docker.io", REF_REGISTRY, "registry-1.docker.io", "", "", "", 0);
}
END_TEST

START_TEST(test_registry_hosts)
{
    check_ok("localhost:5000/team/app", REF_REPOSITORY, "localhost:5000", "team/app", "", "", 1);
    check_ok("localhost/app", REF_REPOSITORY, "localhost", "app", "", "", 1);
    check_ok("127.0.0.1:5000/a/b/c:v1", REF_IMAGE, "127.0.0.1:5000", "a/b/c", "v1", "", 1);
    check_ok("[::1]:5000/app:v1", REF_IMAGE, "[::1]:5000", "app", "v1", "", 1);
    check_ok("ghcr.io/org/app", REF_REPOSITORY, "ghcr.io", "org/app", "", "", 0);
    check_ok("Registry.Example.com/app", REF_REPOSITORY, "Registry.Example.com", "app", "", "", 0);
    check_ok("myhost:443/app", REF_REPOSITORY, "myhost:443", "app", "", "", 0);
    check_ok("quay.io:443", REF_REGISTRY, "quay.io:443", "", "", "", 0);
    check_ok("localhost:5000/", REF_REGISTRY, "localhost:5000", "", "", "", 1);
    /* a first component without '.' or ':' is a Docker Hub namespace, not a host */
    check_ok("myhost/app", REF_REPOSITORY, "registry-1.docker.io", "myhost/app", "", "", 0);
}
END_TEST

START_TEST(test_tags_and_digests)
{
    check_ok("localhost:5000/app@sha256:" D64, REF_IMAGE, "localhost:5000", "app", "", "sha256:" D64, 1);
    check_ok("localhost:5000/app:v2@sha256:" D64, REF_IMAGE, "localhost:5000", "app", "v2", "sha256:" D64, 1);
    check_ok("a.io/x:_under.score-1", REF_IMAGE, "a.io", "x", "_under.score-1", "", 0);
    check_ok("a.io/x__y/a-b--c/d.e", REF_REPOSITORY, "a.io", "x__y/a-b--c/d.e", "", "", 0);
}
END_TEST

START_TEST(test_refused)
{
    static const char *const images[] = {
        "", "UPPER/case", "a.io/", "a.io//x", "a.io/x/", "a.io/-x", "a.io/x-", "a.io/x..y", "a.io/x___y",
        "a.io/x:", "a.io/x:-tag", "a.io/x:t@g", "a.io/x@sha256:abc", "a.io/x@sha256:" D64 "0",
        "a.io/x@SHA256:" D64, "a.io/x@sha256:0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef",
        "a.io/x@", "a.io/x@:" D64, "host:0/x", "host:65536/x", "host:12a/x", "-host.io/x", "ho_st.io/x",
        "[zz::1]:5000/x", "a.io/x y", "a.io/x\033[31m", "a.io/x\n", "a.io/é",
    };
    for (size_t i = 0; i < sizeof images / sizeof images[0]; i++)
        check_bad(images[i], REF_IMAGE);
    check_bad(NULL, REF_IMAGE);
    check_bad("a.io/x:v1", REF_REPOSITORY); /* ls takes no tag */
    check_bad("a.io/x@sha256:" D64, REF_REPOSITORY);
    check_bad("a.io/x", REF_REGISTRY);
    check_bad("", REF_REGISTRY);
    check_bad("host:99999", REF_REGISTRY);
}
END_TEST

START_TEST(test_limits)
{
    char long_tag[160], long_path[300], huge[2000];
    /* a 128-character tag is fine, 129 is not */
    memset(long_tag, 0, sizeof long_tag);
    strcpy(long_tag, "a.io/x:");
    memset(long_tag + 7, 't', 128);
    check_ok(long_tag, REF_IMAGE, "a.io", "x", long_tag + 7, "", 0);
    long_tag[7 + 128] = 't';
    check_bad(long_tag, REF_IMAGE);
    /* 255 characters of path are fine, 256 are not */
    memset(long_path, 0, sizeof long_path);
    strcpy(long_path, "a.io/");
    memset(long_path + 5, 'p', 255);
    check_ok(long_path, REF_REPOSITORY, "a.io", long_path + 5, "", "", 0);
    long_path[5 + 255] = 'p';
    check_bad(long_path, REF_REPOSITORY);
    memset(huge, 'a', sizeof huge - 1);
    huge[sizeof huge - 1] = '\0';
    check_bad(huge, REF_IMAGE);
}
END_TEST

Suite *reference_suite(void)
{
    Suite *s = suite_create("reference");
    TCase *tc = tcase_create("parse");
    tcase_add_test(tc, test_docker_hub_short_names);
    tcase_add_test(tc, test_registry_hosts);
    tcase_add_test(tc, test_tags_and_digests);
    tcase_add_test(tc, test_refused);
    tcase_add_test(tc, test_limits);
    suite_add_tcase(s, tc);
    return s;
}

#include "check_main.h"
IMGSYNC_TEST_MAIN(reference_suite)
