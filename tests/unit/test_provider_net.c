/* Unit tests of the provider options that shape connections (proxy, ca_dir, cert_file,
 * key_file): their checks, and that each reaches the wire of every attempt (the curl transport
 * turns them into CURLOPT_PROXY, CURLOPT_CAPATH, CURLOPT_SSLCERT and CURLOPT_SSLKEY). The
 * replay harness answers; no network. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "imgsync.h"
#include "support/replay.h"

Suite *provider_net_suite(void);

#define EP "https://reg.example.com"
#define PROXY_SECRET "pr0xy-pw"

/* A self-signed P-256 certificate, its key, and the key encrypted (passphrase "unit"). */
static const char CERT_PEM[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBhDCCASmgAwIBAgIUHcXGzREvOx3Ki5pTW890Iqcu1CgwCgYIKoZIzj0EAwIw\n"
    "FzEVMBMGA1UEAwwMaW1nc3luYy11bml0MB4XDTI2MTIwMzIwMzI1OFoXDTM2MTEz\n"
    "MDIwMzI1OFowFzEVMBMGA1UEAwwMaW1nc3luYy11bml0MFkwEwYHKoZIzj0CAQYI\n"
    "KoZIzj0DAQcDQgAEVLJuPXuuRf9kIzro5ZVTaGPiynQ601j06YCCYHbkcfNIh7E5\n"
    "kGlp/GOE0HzTFvp9VsaPXjNoY2S27bJbjdWSXKNTMFEwHQYDVR0OBBYEFL7GezHu\n"
    "1ODSzHBOzLd5NJikr9eIMB8GA1UdIwQYMBaAFL7GezHu1ODSzHBOzLd5NJikr9eI\n"
    "MA8GA1UdEwEB/wQFMAMBAf8wCgYIKoZIzj0EAwIDSQAwRgIhAJg6HkZ3wfxrnrCt\n"
    "4OSCLtNISCA6ium/50m68p51g1ZAAiEA0+Fabuzsws0JA59QtKvDQO4qmNv5NTJ+\n"
    "J4Tmz8jWvKg=\n"
    "-----END CERTIFICATE-----\n";
static const char KEY_PEM[] =
    "-----BEGIN EC PRIVATE KEY-----\n"
    "MHcCAQEEIKsgbWKRXcuXhD2hKjzyfAJnLMg/aHc4pNYaaa7drN7loAoGCCqGSM49\n"
    "AwEHoUQDQgAEVLJuPXuuRf9kIzro5ZVTaGPiynQ601j06YCCYHbkcfNIh7E5kGlp\n"
    "/GOE0HzTFvp9VsaPXjNoY2S27bJbjdWSXA==\n"
    "-----END EC PRIVATE KEY-----\n";
static const char ENCRYPTED_KEY_PEM[] =
    "-----BEGIN EC PRIVATE KEY-----\n"
    "Proc-Type: 4,ENCRYPTED\n"
    "DEK-Info: AES-256-CBC,B4BF7E28699235BE919B82D5555B2801\n"
    "\n"
    "/mF00AZCCG9Nn3YLW4+HxcNZVe9PhH0eMCcO39WwyzjHUSgYdSKk3zko04ytD+tg\n"
    "7qE+4ZkENNorGOebb/K6zWnAK/GyTAJTSPSw1zQ+buutwc3b4+94x3jbuk5HNMHu\n"
    "Musqp7SAQ5XMn8kBxkA0//1sIQPGRarlMu1yXU0f4lE=\n"
    "-----END EC PRIVATE KEY-----\n";

static char dir[64], cert_path[128], key_path[128], enc_path[128];

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(fputs(text, f) >= 0, 1);
    ck_assert_int_eq(fclose(f), 0);
}

static void setup(void)
{
    strcpy(dir, "/tmp/imgsync-net.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(cert_path, sizeof cert_path, "%s/cert.pem", dir);
    snprintf(key_path, sizeof key_path, "%s/key.pem", dir);
    snprintf(enc_path, sizeof enc_path, "%s/enc.pem", dir);
    write_file(cert_path, CERT_PEM);
    write_file(key_path, KEY_PEM);
    write_file(enc_path, ENCRYPTED_KEY_PEM);
}

static void teardown(void)
{
    unlink(cert_path);
    unlink(key_path);
    unlink(enc_path);
    rmdir(dir);
}

/* What the attempts carried: each field is "(null)" until one attempt had it, then must stay. */
typedef struct seen_wire {
    size_t attempts, mismatches;
    const char *proxy, *ca_dir, *cert_file, *key_file; /* expected */
} seen_wire;

static int same(const char *a, const char *b)
{
    return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static void observe(void *ctx, fake_request *q, const imgsync__wire *w)
{
    seen_wire *s = ctx;
    (void)q;
    s->attempts++;
    if (!same(w->proxy, s->proxy) || !same(w->ca_dir, s->ca_dir) || !same(w->cert_file, s->cert_file) ||
        !same(w->key_file, s->key_file))
        s->mismatches++;
}

/* Sync a registry with an empty catalog; every attempt must carry `want`. */
static void sync_expecting(replay *r, seen_wire *want)
{
    uint64_t id = 0;
    imgsync_task *t = NULL;
    fake_set_observer(replay_transport(r), observe, want);
    ck_assert_int_eq(replay_respond(r, "GET", EP "/v2/", 200, NULL, "{}"), 0);
    ck_assert_int_eq(replay_respond(r, "GET", EP "/v2/_catalog?n=100", 200, "Content-Type: application/json",
                                    "{\"repositories\":[]}"),
                     0);
    ck_assert_int_eq(replay_sync(r, NULL, &id), 0);
    ck_assert_int_eq(imgsync_task_get(&t, replay_ctx(r), id), 0);
    ck_assert_int_eq(imgsync_task_state_of(t), IMGSYNC_TASK_SUCCEEDED);
    imgsync_task_free(t);
    ck_assert_uint_ge(want->attempts, 2);
    ck_assert_uint_eq(want->mismatches, 0);
}

START_TEST(test_options_reach_the_wire)
{
    replay *r = replay_new();
    imgsync_provider *p = replay_add_provider(r, "oci", "reg", EP);
    ck_assert_ptr_nonnull(p);
    ck_assert_int_eq(imgsync_provider_set(p, "proxy", "socks5h://u:" PROXY_SECRET "@proxy.example:1080"), 0);
    ck_assert_int_eq(imgsync_provider_set(p, "ca_dir", dir), 0);
    ck_assert_int_eq(imgsync_provider_set(p, "cert_file", cert_path), 0);
    ck_assert_int_eq(imgsync_provider_set(p, "key_file", key_path), 0);
    seen_wire want = {0, 0, "socks5h://u:" PROXY_SECRET "@proxy.example:1080", dir, cert_path, key_path};
    sync_expecting(r, &want);
    replay_free(r);
}
END_TEST

/* "none" and "" turn the environment's proxy off (an empty CURLOPT_PROXY); unset leaves it. */
START_TEST(test_proxy_none_and_unset)
{
    static const char *const none[] = {"none", ""};
    for (size_t i = 0; i < 2; i++) {
        replay *r = replay_new();
        imgsync_provider *p = replay_add_provider(r, "oci", "reg", EP);
        ck_assert_int_eq(imgsync_provider_set(p, "proxy", none[i]), 0);
        seen_wire want = {0, 0, "", NULL, NULL, NULL};
        sync_expecting(r, &want);
        replay_free(r);
    }
    replay *r = replay_new();
    imgsync_provider *p = replay_add_provider(r, "oci", "reg", EP);
    ck_assert_int_eq(imgsync_provider_set(p, "proxy", "http://proxy.example:3128"), 0);
    ck_assert_int_eq(imgsync_provider_set(p, "proxy", NULL), 0); /* reset */
    seen_wire want = {0, 0, NULL, NULL, NULL, NULL};
    sync_expecting(r, &want);
    replay_free(r);
}
END_TEST

/* Bad values are refused with EINVAL; the proxy's value (it may hold a password) is not quoted. */
START_TEST(test_proxy_refused)
{
    static const char *const bad[] = {
        "ftp://u:" PROXY_SECRET "@h:21", "http://", "proxy.example:3128", "http://u:" PROXY_SECRET "@h x",
        "http://h\n:" PROXY_SECRET, "socks4://u:" PROXY_SECRET "@h",
    };
    replay *r = replay_new();
    imgsync_provider *p = replay_add_provider(r, "oci", "reg", EP);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ck_assert_int_eq(imgsync_provider_set(p, "proxy", bad[i]), IMGSYNC_EINVAL);
        const char *msg = imgsync_ctx_errmsg(replay_ctx(r));
        ck_assert_msg(strstr(msg, "option 'proxy' must be") != NULL, "message: %s", msg);
        ck_assert_msg(strstr(msg, PROXY_SECRET) == NULL, "the proxy value is quoted: %s", msg);
    }
    replay_free(r);
}
END_TEST

/* A username Basic could not carry ("a:b" + password reads as user "a") is refused at once. */
START_TEST(test_username_with_colon_refused)
{
    replay *r = replay_new();
    imgsync_provider *p = replay_add_provider(r, "oci", "reg", EP);
    ck_assert_int_eq(imgsync_provider_set(p, "username", "a:b"), IMGSYNC_EINVAL);
    ck_assert_ptr_nonnull(strstr(imgsync_ctx_errmsg(replay_ctx(r)), "username must not contain ':'"));
    ck_assert_int_eq(imgsync_provider_set(p, "username", "robot$ci"), 0);
    ck_assert_int_eq(imgsync_provider_set(p, "username", NULL), 0);
    replay_free(r);
}
END_TEST

/* Checked when set, like ca_file: EINVAL naming the path and why. */
static void expect_refused(imgsync_provider *p, imgsync_ctx *ctx, const char *key, const char *path,
                           const char *why)
{
    ck_assert_int_eq(imgsync_provider_set(p, key, path), IMGSYNC_EINVAL);
    const char *msg = imgsync_ctx_errmsg(ctx);
    ck_assert_msg(strstr(msg, key) != NULL && strstr(msg, path) != NULL && strstr(msg, why) != NULL,
                  "%s=%s: message '%s' lacks the option, the path or '%s'", key, path, msg, why);
}

START_TEST(test_tls_files_checked)
{
    char missing[160];
    snprintf(missing, sizeof missing, "%s/missing.pem", dir);
    replay *r = replay_new();
    imgsync_ctx *ctx = replay_ctx(r);
    imgsync_provider *p = replay_add_provider(r, "oci", "reg", EP);
    expect_refused(p, ctx, "cert_file", missing, "cannot open");
    expect_refused(p, ctx, "cert_file", key_path, "no PEM certificate");
    expect_refused(p, ctx, "key_file", missing, "cannot open");
    expect_refused(p, ctx, "key_file", cert_path, "no unencrypted PEM private key");
    /* an encrypted key is refused at once: nothing may prompt for its passphrase */
    expect_refused(p, ctx, "key_file", enc_path, "no unencrypted PEM private key");
    expect_refused(p, ctx, "ca_dir", missing, "cannot open the directory");
    expect_refused(p, ctx, "ca_dir", cert_path, "cannot open the directory");
    /* a key and a certificate in one file serve as both */
    char both[160];
    snprintf(both, sizeof both, "%s/both.pem", dir);
    write_file(both, KEY_PEM);
    FILE *f = fopen(both, "a");
    ck_assert_ptr_nonnull(f);
    fputs(CERT_PEM, f);
    fclose(f);
    ck_assert_int_eq(imgsync_provider_set(p, "cert_file", both), 0);
    ck_assert_int_eq(imgsync_provider_set(p, "key_file", both), 0);
    unlink(both);
    ck_assert_int_eq(imgsync_provider_set(p, "cert_file", NULL), 0);
    replay_free(r);
}
END_TEST

/* A transport error quoting the proxy's credentials: the task status does not repeat them. */
START_TEST(test_proxy_credentials_not_in_status)
{
    replay *r = replay_new();
    imgsync_provider *p = replay_add_provider(r, "oci", "reg", EP);
    ck_assert_int_eq(imgsync_provider_set(p, "proxy", "http://alice:" PROXY_SECRET "@proxy.example:3128"), 0);
    fake_reply fail = {0};
    fail.error = IMGSYNC_ENETWORK;
    fail.detail = "Failed to connect via http://alice:" PROXY_SECRET "@proxy.example:3128";
    ck_assert_int_eq(fake_set(replay_transport(r), "GET", EP "/v2/", &fail), 0);
    uint64_t id = 0;
    imgsync_task *t = NULL;
    ck_assert_int_eq(replay_sync(r, NULL, &id), 0);
    ck_assert_int_eq(imgsync_task_get(&t, replay_ctx(r), id), 0);
    ck_assert_int_eq(imgsync_task_state_of(t), IMGSYNC_TASK_FAILED);
    const char *reason = imgsync_task_registry_reason(t, 0);
    ck_assert_msg(strstr(reason, "proxy.example") != NULL, "reason: %s", reason);
    ck_assert_msg(strstr(reason, PROXY_SECRET) == NULL, "the proxy password is in the status: %s", reason);
    imgsync_task_free(t);
    replay_free(r);
}
END_TEST

Suite *provider_net_suite(void)
{
    Suite *s = suite_create("provider_net");
    TCase *tc = tcase_create("options");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_options_reach_the_wire);
    tcase_add_test(tc, test_proxy_none_and_unset);
    tcase_add_test(tc, test_proxy_refused);
    tcase_add_test(tc, test_username_with_colon_refused);
    tcase_add_test(tc, test_tls_files_checked);
    tcase_add_test(tc, test_proxy_credentials_not_in_status);
    suite_add_tcase(s, tc);
    return s;
}

#include "check_main.h"
IMGSYNC_TEST_MAIN(provider_net_suite)
