/* Docker/Podman auth files and credential helpers: the parser (util/dockerauth.c), the helper
 * runner (core/credhelper.c, against tests/support/bin/docker-credential-fake put on PATH) and
 * the resolution of a run's credentials (core/authfile.c), with the search order's variables. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check_main.h"
#include "core/authfile.h"
#include "core/credhelper.h"
#include "core/kinds.h"
#include "engine/engine.h"
#include "imgsync.h"
#include "imgsync/errors.h"
#include "util/base64.h"
#include "util/buf.h"
#include "util/dockerauth.h"
#include "support/engine_harness.h"
#include "support/fake_transport.h"
#include "support/replay.h"

Suite *authfile_suite(void);

#define HOST "reg.example:5000"
#define SECRET "Pw-7f3a9c-never-shown"

static char tmpdir[256];

static void make_tmp(void)
{
    snprintf(tmpdir, sizeof(tmpdir), "%s/imgsync-authfile-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
    char bin[4096], path[8192];
    ck_assert_ptr_nonnull(realpath("tests/support/bin", bin));
    snprintf(path, sizeof(path), "%s:%s", bin, getenv("PATH") ? getenv("PATH") : "/usr/bin:/bin");
    setenv("PATH", path, 1);
    setenv("FAKE_HELPER_USER", "helper-user", 1);
    setenv("FAKE_HELPER_SECRET", SECRET, 1);
    unsetenv("FAKE_HELPER_MODE");
    unsetenv("REGISTRY_AUTH_FILE");
    unsetenv("XDG_RUNTIME_DIR");
    unsetenv("DOCKER_CONFIG");
    setenv("HOME", tmpdir, 1);
}

static void remove_tmp(void)
{
    char cmd[512];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    ck_assert_int_eq(system(cmd), 0);
}

/* tmpdir/rel (parents made), holding text; the path in a static buffer. */
static const char *put(const char *rel, const char *text)
{
    static char path[1024];
    snprintf(path, sizeof(path), "%s/%s", tmpdir, rel);
    for (char *s = strchr(path + strlen(tmpdir) + 1, '/'); s; s = strchr(s + 1, '/')) {
        *s = '\0';
        mkdir(path, 0700);
        *s = '/';
    }
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
    return path;
}

static char *b64(const char *s) { return imgsync__base64(s, strlen(s)); }

/* Look host up in text; the return code, out filled. */
static int look(imgsync__dcred *out, const char *text, const char *host, char *err)
{
    return imgsync__dockerauth_lookup(out, text, strlen(text), host, err, 200);
}

/* ---- the parser ------------------------------------------------------------------------------ */

START_TEST(base64_round_trip_and_refusals)
{
    size_t n = 0;
    char *d = imgsync__base64_decode("dXNlcjpwYTpzcw==", &n);
    ck_assert_ptr_nonnull(d);
    ck_assert_uint_eq(n, 10);
    ck_assert_str_eq(d, "user:pa:ss");
    free(d);
    d = imgsync__base64_decode("dXNlcjpwYTpzcw", &n); /* padding left out */
    ck_assert_ptr_nonnull(d);
    ck_assert_str_eq(d, "user:pa:ss");
    free(d);
    ck_assert_ptr_null(imgsync__base64_decode("dXNl cjpw", &n));
    ck_assert_ptr_null(imgsync__base64_decode("dXNlc", &n));
    ck_assert_ptr_null(imgsync__base64_decode("d===", &n));
    d = imgsync__base64_decode("", &n);
    ck_assert_ptr_nonnull(d);
    ck_assert_uint_eq(n, 0);
    free(d);
}
END_TEST

START_TEST(auth_base64_split_at_first_colon)
{
    char *a = b64("alice:pa:ss"), text[512], err[200] = "";
    snprintf(text, sizeof(text), "{\"auths\":{\"other:5000\":{\"auth\":\"eDp5\"},\"" HOST "\":{\"auth\":\"%s\"}}}", a);
    imgsync__dcred c;
    ck_assert_int_eq(look(&c, text, HOST, err), 0);
    ck_assert_int_eq(c.kind, IMGSYNC__DCRED_BASIC);
    ck_assert_str_eq(c.username, "alice");
    ck_assert_str_eq(c.secret, "pa:ss");
    imgsync__dcred_clear(&c);
    ck_assert_ptr_null(c.secret);
    /* a host without the port is another registry */
    ck_assert_int_eq(look(&c, text, "reg.example", err), 0);
    ck_assert_int_eq(c.kind, IMGSYNC__DCRED_NONE);
    free(a);
}
END_TEST

START_TEST(username_password_fields)
{
    imgsync__dcred c;
    char err[200];
    ck_assert_int_eq(look(&c, "{\"auths\":{\"" HOST "\":{\"username\":\"bob\",\"password\":\"" SECRET "\"}}}", HOST, err), 0);
    ck_assert_int_eq(c.kind, IMGSYNC__DCRED_BASIC);
    ck_assert_str_eq(c.username, "bob");
    ck_assert_str_eq(c.secret, SECRET);
    imgsync__dcred_clear(&c);
    /* a username alone is no credential */
    ck_assert_int_eq(look(&c, "{\"auths\":{\"" HOST "\":{\"username\":\"bob\"}}}", HOST, err), 0);
    ck_assert_int_eq(c.kind, IMGSYNC__DCRED_NONE);
    imgsync__dcred_clear(&c);
}
END_TEST

START_TEST(identitytoken_entry)
{
    imgsync__dcred c;
    char err[200], text[256], *a = b64("carol:");
    snprintf(text, sizeof(text), "{\"auths\":{\"" HOST "\":{\"auth\":\"%s\",\"identitytoken\":\"tok-123\"}}}", a);
    ck_assert_int_eq(look(&c, text, HOST, err), 0);
    ck_assert_int_eq(c.kind, IMGSYNC__DCRED_IDENTITY);
    ck_assert_str_eq(c.username, "carol");
    ck_assert_str_eq(c.secret, "tok-123");
    imgsync__dcred_clear(&c);
    free(a);
}
END_TEST

START_TEST(url_form_keys)
{
    imgsync__dcred c;
    char err[200];
    const char *forms[] = {("https://" HOST "/v1/"), ("http://" HOST), "HTTPS://REG.EXAMPLE:5000/v2/", "Reg.Example:5000"};
    for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
        char text[256];
        snprintf(text, sizeof(text), "{\"auths\":{\"%s\":{\"username\":\"u%zu\",\"password\":\"p\"}}}", forms[i], i);
        ck_assert_int_eq(look(&c, text, HOST, err), 0);
        ck_assert_msg(c.kind == IMGSYNC__DCRED_BASIC, "key %s", forms[i]);
        imgsync__dcred_clear(&c);
    }
    /* the exact key wins over a URL form, whatever the order */
    ck_assert_int_eq(look(&c, "{\"auths\":{\"https://" HOST "/v1/\":{\"username\":\"url\",\"password\":\"p\"},\"" HOST
                              "\":{\"username\":\"exact\",\"password\":\"p\"}}}",
                          HOST, err),
                     0);
    ck_assert_str_eq(c.username, "exact");
    imgsync__dcred_clear(&c);
    /* a URL of another host, or a longer host, does not match */
    ck_assert_int_eq(look(&c, "{\"auths\":{\"https://" HOST ".evil/v1/\":{\"username\":\"u\",\"password\":\"p\"}}}", HOST, err), 0);
    ck_assert_int_eq(c.kind, IMGSYNC__DCRED_NONE);
}
END_TEST

START_TEST(docker_hub_aliases)
{
    imgsync__dcred c;
    char err[200];
    const char *text = "{\"auths\":{\"https://index.docker.io/v1/\":{\"username\":\"hub\",\"password\":\"p\"}}}";
    const char *hosts[] = {"registry-1.docker.io", "docker.io", "index.docker.io"};
    for (size_t i = 0; i < 3; i++) {
        ck_assert_int_eq(look(&c, text, hosts[i], err), 0);
        ck_assert_msg(c.kind == IMGSYNC__DCRED_BASIC, "host %s", hosts[i]);
        ck_assert_str_eq(c.username, "hub");
        imgsync__dcred_clear(&c);
    }
    ck_assert_int_eq(look(&c, text, "quay.io", err), 0);
    ck_assert_int_eq(c.kind, IMGSYNC__DCRED_NONE);
    /* a credsStore is asked for Docker Hub under docker login's key */
    ck_assert_int_eq(look(&c, "{\"credsStore\":\"fake\"}", "registry-1.docker.io", err), 0);
    ck_assert_int_eq(c.kind, IMGSYNC__DCRED_HELPER);
    ck_assert_str_eq(c.server, "https://index.docker.io/v1/");
    imgsync__dcred_clear(&c);
}
END_TEST

START_TEST(helpers_order)
{
    imgsync__dcred c;
    char err[200];
    /* credHelpers[host] beats auths and credsStore */
    ck_assert_int_eq(look(&c, "{\"credsStore\":\"store\",\"credHelpers\":{\"https://" HOST "\":\"per-host\"},"
                              "\"auths\":{\"" HOST "\":{\"username\":\"u\",\"password\":\"p\"}}}",
                          HOST, err),
                     0);
    ck_assert_int_eq(c.kind, IMGSYNC__DCRED_HELPER);
    ck_assert_str_eq(c.helper, "per-host");
    ck_assert_str_eq(c.server, "https://" HOST);
    imgsync__dcred_clear(&c);
    /* an entry holding credentials beats credsStore; an empty one ("{}", as docker login with a
     * store writes it) goes to the store, asked under that key */
    ck_assert_int_eq(look(&c, "{\"credsStore\":\"store\",\"auths\":{\"" HOST "\":{\"username\":\"u\",\"password\":\"p\"}}}", HOST, err), 0);
    ck_assert_int_eq(c.kind, IMGSYNC__DCRED_BASIC);
    imgsync__dcred_clear(&c);
    ck_assert_int_eq(look(&c, "{\"credsStore\":\"store\",\"auths\":{\"http://" HOST "\":{}}}", HOST, err), 0);
    ck_assert_int_eq(c.kind, IMGSYNC__DCRED_HELPER);
    ck_assert_str_eq(c.helper, "store");
    ck_assert_str_eq(c.server, "http://" HOST);
    imgsync__dcred_clear(&c);
    ck_assert_int_eq(look(&c, "{\"credsStore\":\"store\"}", HOST, err), 0);
    ck_assert_str_eq(c.server, HOST);
    imgsync__dcred_clear(&c);
}
END_TEST

/* A malformed file: EINVAL, a reason, and nothing of the file in it. */
static void expect_malformed(const char *text, size_t len, const char *why)
{
    imgsync__dcred c;
    char err[200] = "";
    ck_assert_msg(imgsync__dockerauth_lookup(&c, text, len, HOST, err, sizeof(err)) == IMGSYNC_EINVAL, "%s", why);
    ck_assert_msg(err[0] != '\0', "%s: no reason", why);
    ck_assert_msg(!strstr(err, SECRET) && !strstr(err, "c2VjcmV0"), "%s: the reason quotes the file: %s", why, err);
    ck_assert_int_eq(c.kind, IMGSYNC__DCRED_NONE);
    ck_assert_ptr_null(c.secret);
}

START_TEST(malformed_files)
{
    static const char *const bad[] = {
        "{\"auths\":{\"" HOST "\":{\"password\":\"" SECRET "\"",   /* cut short */
        "[\"" SECRET "\"]",                                         /* not an object */
        "{\"auths\":[\"" SECRET "\"]}",                             /* auths not an object */
        "{\"credHelpers\":\"" SECRET "\"}",
        "{\"credsStore\":17}",
        "{\"auths\":{\"" HOST "\":\"" SECRET "\"}}",                /* entry not an object */
        "{\"auths\":{\"" HOST "\":{\"auth\":\"c2VjcmV0!!\"}}}",     /* not base64 */
        "{\"auths\":{\"" HOST "\":{\"auth\":\"c2VjcmV0\"}}}",       /* "secret": no ':' */
        "{\"auths\":{\"" HOST "\":{\"auth\":\"dXNlcgA6cA==\"}}}",   /* "user\0:p" */
        "{\"auths\":{\"" HOST "\":{\"password\":[\"" SECRET "\"]}}}",
        "{\"credHelpers\":{\"" HOST "\":\"../../bin/sh\"}}",       /* not a helper name */
        "{\"credsStore\":\"\\u0000x\"}",
        "",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char why[32];
        snprintf(why, sizeof(why), "bad[%zu]", i);
        expect_malformed(bad[i], strlen(bad[i]), why);
    }
    /* not UTF-8, a raw NUL */
    expect_malformed("{\"auths\":{\"" HOST "\":{\"password\":\"\xff\xfe" SECRET "\"}}}", 40 + strlen(HOST), "latin-1");
    expect_malformed("{\"credsStore\":\"a\0b\"}", 20, "raw NUL");
}
END_TEST

START_TEST(huge_file_parses)
{
    imgsync__buf b;
    imgsync__buf_init(&b);
    imgsync__buf_appends(&b, "{\"auths\":{");
    for (int i = 0; i < 50000; i++)
        imgsync__buf_printf(&b, "\"host%d.example\":{\"username\":\"u%d\",\"password\":\"p%d\"},", i, i, i);
    imgsync__buf_appends(&b, "\"" HOST "\":{\"username\":\"last\",\"password\":\"p\"}}}");
    ck_assert_int_eq(b.oom, 0);
    imgsync__dcred c;
    char err[200];
    ck_assert_int_eq(imgsync__dockerauth_lookup(&c, b.data, b.len, HOST, err, sizeof(err)), 0);
    ck_assert_str_eq(c.username, "last");
    imgsync__dcred_clear(&c);
    imgsync__buf_free(&b);
}
END_TEST

START_TEST(helper_answers)
{
    imgsync__dcred c;
    char err[200];
    const char *ok = "{\"ServerURL\":\"" HOST "\",\"Username\":\"u\",\"Secret\":\"" SECRET "\"}";
    ck_assert_int_eq(imgsync__dockerauth_helper_answer(&c, ok, strlen(ok), err, sizeof(err)), 0);
    ck_assert_int_eq(c.kind, IMGSYNC__DCRED_BASIC);
    ck_assert_str_eq(c.secret, SECRET);
    imgsync__dcred_clear(&c);
    const char *tok = "{\"Username\":\"<token>\",\"Secret\":\"rt\"}";
    ck_assert_int_eq(imgsync__dockerauth_helper_answer(&c, tok, strlen(tok), err, sizeof(err)), 0);
    ck_assert_int_eq(c.kind, IMGSYNC__DCRED_IDENTITY);
    imgsync__dcred_clear(&c);
    static const char *const bad[] = {"{}", "{\"Username\":\"u\"}", "{\"Username\":\"u\",\"Secret\":\"\"}",
                                      "{\"Username\":\"u\\n\",\"Secret\":\"s\"}", "null", ("garbage " SECRET)};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ck_assert_int_eq(imgsync__dockerauth_helper_answer(&c, bad[i], strlen(bad[i]), err, sizeof(err)), IMGSYNC_EPROTOCOL);
        ck_assert_ptr_null(strstr(err, SECRET));
    }
}
END_TEST

/* ---- the helper runner ----------------------------------------------------------------------- */

static int helper(imgsync__dcred *c, const char *mode, int timeout_ms, char *err)
{
    setenv("FAKE_HELPER_MODE", mode, 1);
    return imgsync__credhelper_get(c, "fake", HOST, timeout_ms, err, 300);
}

START_TEST(helper_found_and_told_the_server)
{
    make_tmp();
    char log[600], err[300] = "";
    snprintf(log, sizeof(log), "%s/server.log", tmpdir);
    setenv("FAKE_HELPER_LOG", log, 1);
    imgsync__dcred c;
    ck_assert_int_eq(helper(&c, "ok", 5000, err), 0);
    ck_assert_int_eq(c.kind, IMGSYNC__DCRED_BASIC);
    ck_assert_str_eq(c.username, "helper-user");
    ck_assert_str_eq(c.secret, SECRET);
    imgsync__dcred_clear(&c);
    FILE *f = fopen(log, "r");
    ck_assert_ptr_nonnull(f);
    char got[128] = "";
    ck_assert_ptr_nonnull(fgets(got, sizeof(got), f));
    fclose(f);
    ck_assert_str_eq(got, HOST); /* the server on stdin, nothing else */
    unsetenv("FAKE_HELPER_LOG");
    ck_assert_int_eq(helper(&c, "token", 5000, err), 0);
    ck_assert_int_eq(c.kind, IMGSYNC__DCRED_IDENTITY);
    imgsync__dcred_clear(&c);
    remove_tmp();
}
END_TEST

START_TEST(helper_failures)
{
    make_tmp();
    imgsync__dcred c;
    char err[300] = "";
    ck_assert_int_eq(helper(&c, "notfound", 5000, err), 0);
    ck_assert_int_eq(c.kind, IMGSYNC__DCRED_NONE);
    ck_assert_int_eq(helper(&c, "fail", 5000, err), IMGSYNC_EAUTH);
    ck_assert_ptr_nonnull(strstr(err, "exit status 3"));
    ck_assert_ptr_null(strstr(err, SECRET));
    ck_assert_int_eq(helper(&c, "unknown-mode", 5000, err), IMGSYNC_EAUTH);
    ck_assert_ptr_nonnull(strstr(err, "exit status 2"));
    ck_assert_int_eq(helper(&c, "garbage", 5000, err), IMGSYNC_EPROTOCOL);
    ck_assert_ptr_nonnull(strstr(err, "docker-credential-fake"));
    ck_assert_ptr_null(strstr(err, SECRET));
    ck_assert_int_eq(helper(&c, "huge", 5000, err), IMGSYNC_ETOOBIG);
    ck_assert_int_eq(c.kind, IMGSYNC__DCRED_NONE);
    ck_assert_int_eq(imgsync__credhelper_get(&c, "not-installed-xyz", HOST, 5000, err, sizeof(err)), IMGSYNC_ENOTFOUND);
    ck_assert_ptr_nonnull(strstr(err, "not found on PATH"));
    ck_assert_int_eq(imgsync__credhelper_get(&c, "../fake", HOST, 5000, err, sizeof(err)), IMGSYNC_EINVAL);
    remove_tmp();
}
END_TEST

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

START_TEST(helper_timeout_kills_and_reaps)
{
    make_tmp();
    imgsync__dcred c;
    char err[300] = "";
    const char *modes[] = {"sleep", "hang"}; /* the helper itself sleeps; a child of it does */
    char pidfile[600];
    snprintf(pidfile, sizeof(pidfile), "%s/child.pid", tmpdir);
    setenv("FAKE_HELPER_PIDFILE", pidfile, 1);
    for (int i = 0; i < 2; i++) {
        long long t0 = now_ms();
        ck_assert_int_eq(helper(&c, modes[i], 400, err), IMGSYNC_ETIMEOUT);
        long long took = now_ms() - t0;
        ck_assert_msg(took >= 350 && took < 5000, "%s: %lld ms", modes[i], took);
        ck_assert_ptr_nonnull(strstr(err, "killed"));
        /* reaped: no child of ours is left, not even a zombie */
        ck_assert_int_eq(waitpid(-1, NULL, WNOHANG), -1);
        ck_assert_int_eq(errno, ECHILD);
    }
    /* the "hang" helper's sleep was in its process group: killed too (gone, or a zombie that
     * init has not reaped yet) */
    FILE *f = fopen(pidfile, "r");
    ck_assert_ptr_nonnull(f);
    long child = 0;
    ck_assert_int_eq(fscanf(f, "%ld", &child), 1);
    fclose(f);
    ck_assert_int_gt(child, 1);
    char stat_path[64], stat[256] = "";
    snprintf(stat_path, sizeof(stat_path), "/proc/%ld/stat", child);
    for (int tries = 0; tries < 100; tries++) { /* SIGKILL is delivered asynchronously */
        f = fopen(stat_path, "r");
        stat[0] = '\0';
        if (f) {
            if (!fgets(stat, sizeof(stat), f))
                stat[0] = '\0';
            fclose(f);
        }
        const char *state = strrchr(stat, ')');
        if (!f || (state && state[1] == ' ' && state[2] == 'Z'))
            break;
        stat[0] = 'R';
        struct timespec ts = {0, 10 * 1000000L};
        nanosleep(&ts, NULL);
    }
    ck_assert_msg(stat[0] != 'R', "the helper's child %ld still runs: %s", child, stat);
    unsetenv("FAKE_HELPER_PIDFILE");
    remove_tmp();
}
END_TEST

/* ---- resolution ------------------------------------------------------------------------------ */

static const imgsync_provider_vtable *oci(void)
{
    imgsync__builtin_kinds();
    return imgsync__kind_find("oci");
}

/* Resolve for HOST with these options and ctx default; the code, *source kept in src. */
static int resolve(imgsync__options *o, const char *ctx_default, char *src, char *err)
{
    char *source = NULL;
    int rc = imgsync__authfile_resolve(o, oci(), ctx_default, HOST, &source, err, 300);
    snprintf(src, 400, "%s", source ? source : "(null)");
    free(source);
    return rc;
}

static const char *basic_file(const char *user)
{
    static char text[256];
    snprintf(text, sizeof(text), "{\"auths\":{\"" HOST "\":{\"username\":\"%s\",\"password\":\"" SECRET "\"}}}", user);
    return text;
}

START_TEST(resolve_own_credentials_first)
{
    make_tmp();
    imgsync__options o = {0};
    char src[400], err[300] = "";
    const char *path = put("a.json", basic_file("file-user"));
    ck_assert_int_eq(imgsync__options_set(&o, "token", "t"), 0);
    ck_assert_int_eq(imgsync__options_set(&o, "auth_file", path), 0);
    ck_assert_int_eq(resolve(&o, NULL, src, err), 0);
    ck_assert_str_eq(src, "options");
    ck_assert_ptr_null(imgsync__options_get(&o, "username"));
    imgsync__options_set(&o, "token", NULL);
    ck_assert_int_eq(resolve(&o, NULL, src, err), 0);
    ck_assert_str_eq(imgsync__options_get(&o, "username"), "file-user");
    ck_assert_str_eq(imgsync__options_get(&o, "password"), SECRET);
    char want[600];
    snprintf(want, sizeof(want), "auth file %s", path);
    ck_assert_str_eq(src, want);
    imgsync__options_wipe(&o);
    /* nothing set anywhere, or "none": no file is read */
    ck_assert_int_eq(resolve(&o, NULL, src, err), 0);
    ck_assert_str_eq(src, "none");
    imgsync__options_set(&o, "auth_file", "none");
    ck_assert_int_eq(resolve(&o, path, src, err), 0);
    ck_assert_str_eq(src, "none");
    ck_assert_ptr_null(imgsync__options_get(&o, "password"));
    imgsync__options_wipe(&o);
    /* the ctx default */
    ck_assert_int_eq(resolve(&o, path, src, err), 0);
    ck_assert_str_eq(src, want);
    imgsync__options_wipe(&o);
    remove_tmp();
}
END_TEST

/* The default search finds a file whose entry names `user`. */
static void expect_found_user(const char *user)
{
    imgsync__options o = {0};
    char src[400], err[300] = "";
    ck_assert_int_eq(resolve(&o, "default", src, err), 0);
    ck_assert_msg(imgsync__options_get(&o, "username") && !strcmp(imgsync__options_get(&o, "username"), user),
                  "source %s, not %s's file", src, user);
    imgsync__options_wipe(&o);
}

START_TEST(resolve_default_search_order)
{
    make_tmp();
    imgsync__options o = {0};
    char src[400], err[300] = "", dir[600];
    ck_assert_int_eq(resolve(&o, "default", src, err), 0);
    ck_assert_str_eq(src, "none (no auth file found)");
    put(".docker/config.json", basic_file("home"));
    expect_found_user("home");
    put("dc/config.json", basic_file("docker-config"));
    snprintf(dir, sizeof(dir), "%s/dc", tmpdir);
    setenv("DOCKER_CONFIG", dir, 1);
    expect_found_user("docker-config");
    put("run/containers/auth.json", basic_file("podman"));
    snprintf(dir, sizeof(dir), "%s/run", tmpdir);
    setenv("XDG_RUNTIME_DIR", dir, 1);
    expect_found_user("podman");
    setenv("REGISTRY_AUTH_FILE", put("explicit.json", basic_file("registry-auth-file")), 1);
    expect_found_user("registry-auth-file");
    /* the first existing file wins even when it has no entry for the host */
    setenv("REGISTRY_AUTH_FILE", put("other.json", "{\"auths\":{}}"), 1);
    ck_assert_int_eq(resolve(&o, "default", src, err), 0);
    ck_assert_ptr_nonnull(strstr(src, "none (no entry for " HOST " in "));
    ck_assert_ptr_nonnull(strstr(src, "other.json"));
    ck_assert_ptr_null(imgsync__options_get(&o, "password"));
    imgsync__options_wipe(&o);
    remove_tmp();
}
END_TEST

START_TEST(resolve_errors)
{
    make_tmp();
    imgsync__options o = {0};
    char src[400], err[300] = "", missing[600];
    snprintf(missing, sizeof(missing), "%s/missing.json", tmpdir);
    ck_assert_int_eq(resolve(&o, missing, src, err), IMGSYNC_EINVAL);
    ck_assert_ptr_nonnull(strstr(err, missing));
    ck_assert_int_eq(resolve(&o, put("bad.json", "{\"auths\":{\"" HOST "\":{\"password\":\"" SECRET), src, err),
                     IMGSYNC_EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "bad.json"));
    ck_assert_ptr_nonnull(strstr(err, "not valid JSON"));
    ck_assert_ptr_null(strstr(err, SECRET));
    ck_assert_int_eq(resolve(&o, tmpdir, src, err), IMGSYNC_EINVAL); /* a directory */
    /* over the size limit */
    char big[600];
    snprintf(big, sizeof(big), "%s/big.json", tmpdir);
    FILE *f = fopen(big, "w");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(fseek(f, IMGSYNC__AUTHFILE_MAX_BYTES + 1, SEEK_SET), 0);
    fputc('}', f);
    fclose(f);
    ck_assert_int_eq(resolve(&o, big, src, err), IMGSYNC_ETOOBIG);
    ck_assert_ptr_null(imgsync__options_get(&o, "password"));
    remove_tmp();
}
END_TEST

START_TEST(resolve_through_helpers)
{
    make_tmp();
    imgsync__options o = {0};
    char src[400], err[300] = "";
    const char *path = put("h.json", "{\"credHelpers\":{\"" HOST "\":\"fake\"}}");
    char p[600];
    snprintf(p, sizeof(p), "%s", path);
    ck_assert_int_eq(resolve(&o, p, src, err), 0);
    ck_assert_str_eq(imgsync__options_get(&o, "username"), "helper-user");
    ck_assert_str_eq(imgsync__options_get(&o, "password"), SECRET);
    ck_assert_ptr_nonnull(strstr(src, "credential helper docker-credential-fake (auth file "));
    ck_assert_ptr_null(strstr(src, SECRET));
    imgsync__options_wipe(&o);
    setenv("FAKE_HELPER_MODE", "notfound", 1);
    ck_assert_int_eq(resolve(&o, p, src, err), 0);
    ck_assert_str_eq(src, "none (docker-credential-fake has no credentials for " HOST ")");
    setenv("FAKE_HELPER_MODE", "token", 1);
    ck_assert_int_eq(resolve(&o, p, src, err), 0);
    ck_assert_str_eq(imgsync__options_get(&o, "identity_token"), SECRET);
    ck_assert_ptr_null(imgsync__options_get(&o, "password"));
    imgsync__options_wipe(&o);
    setenv("FAKE_HELPER_MODE", "fail", 1);
    ck_assert_int_eq(resolve(&o, p, src, err), IMGSYNC_EAUTH);
    ck_assert_ptr_null(strstr(err, SECRET));
    ck_assert_ptr_null(imgsync__options_get(&o, "password"));
    remove_tmp();
}
END_TEST

/* ---- identity tokens ------------------------------------------------------------------------- */

/* An identity token in the file becomes the run's internal "identity_token" (a secret of every
 * kind), with no username or password. */
START_TEST(resolve_identity_token)
{
    make_tmp();
    imgsync__options o = {0};
    char src[400], err[300] = "";
    const char *path = put("tok.json", "{\"auths\":{\"" HOST "\":{\"auth\":\"dTo=\",\"identitytoken\":\"" SECRET "\"}}}");
    char want[600];
    snprintf(want, sizeof(want), "auth file %s", path);
    ck_assert_int_eq(resolve(&o, want + strlen("auth file "), src, err), 0);
    ck_assert_str_eq(src, want);
    ck_assert_str_eq(imgsync__options_get(&o, "identity_token"), SECRET);
    ck_assert_ptr_null(imgsync__options_get(&o, "username"));
    ck_assert_ptr_null(imgsync__options_get(&o, "password"));
    ck_assert(imgsync__kind_secret_option(oci(), "identity_token"));
    imgsync__options_wipe(&o);
    remove_tmp();
}
END_TEST

#define REG "https://reg.example"
#define TAGS REG "/v2/app/tags/list"
#define REFRESH "rt-" SECRET

/* The engine answers a Bearer challenge with distribution's OAuth2 refresh-token grant: a POST
 * of the form to the realm as it is, never the token in a header or URL, then the access token. */
START_TEST(engine_posts_the_refresh_token)
{
    eh h;
    eh_init(&h, NULL);
    imgsync__policy p = {NULL, NULL, NULL, 0, 0, 0, NULL, REFRESH};
    ck_assert_int_eq(eh_group(&h, &p), 0);
    ck_assert_int_eq(imgsync__group_allow_origin(h.g, REG), 0);
    fake_add_simple(h.ft, "GET", TAGS, 401,
                    "WWW-Authenticate: Bearer realm=\"https://auth.example/token\",service=\"reg.example\","
                    "scope=\"repository:app:pull\"",
                    "{}");
    fake_add_simple(h.ft, "GET", TAGS, 200, "Content-Type: application/json", "{\"tags\":[]}");
    fake_add_simple(h.ft, "POST", "https://auth.example/token", 200, "Content-Type: application/json",
                    "{\"access_token\":\"at-1\",\"expires_in\":300,\"scope\":\"repository:app:pull\"}");
    eh_req r = EH_REQ_INIT;
    ck_assert_int_eq(eh_get(&h, &r, TAGS, IMGSYNC__CRED_REGISTRY), 0);
    eh_run(&h);
    ck_assert_int_eq(r.status, 200);
    ck_assert_uint_eq(fake_nrequests(h.ft), 3);
    ck_assert_uint_eq(fake_unexpected(h.ft), 0);
    const fake_request *q0 = fake_request_at(h.ft, 0), *q1 = fake_request_at(h.ft, 1), *q2 = fake_request_at(h.ft, 2);
    ck_assert_ptr_null(fake_request_header(q0, "Authorization"));
    ck_assert_str_eq(q1->method, "POST");
    ck_assert_str_eq(q1->url, "https://auth.example/token");
    ck_assert_ptr_null(fake_request_header(q1, "Authorization"));
    ck_assert_str_eq(fake_request_header(q1, "Content-Type"), "application/x-www-form-urlencoded");
    ck_assert_ptr_nonnull(q1->body);
    ck_assert_str_eq(q1->body, "grant_type=refresh_token&refresh_token=" REFRESH
                               "&service=reg.example&scope=repository%3Aapp%3Apull&client_id=libimgsync");
    ck_assert_str_eq(fake_request_header(q2, "Authorization"), "Bearer at-1");
    /* a request without registry credentials never carries it */
    eh_req n = EH_REQ_INIT;
    fake_add_simple(h.ft, "GET", REG "/v2/", 401, "WWW-Authenticate: Bearer realm=\"https://auth.example/token\"", "{}");
    ck_assert_int_eq(eh_get(&h, &n, REG "/v2/", IMGSYNC__CRED_NONE), 0);
    eh_run(&h);
    ck_assert_int_eq(n.status, 401);
    ck_assert_uint_eq(fake_nrequests(h.ft), 4);
    eh_req_clear(&r);
    eh_req_clear(&n);
    eh_free(&h);
}
END_TEST

/* The whole way: an "oci" provider with only an auth file holding an identity token checks a
 * registry whose challenge is answered by the refresh-token grant. */
START_TEST(check_with_an_identity_token)
{
    make_tmp();
    replay *R = replay_new();
    ck_assert_ptr_nonnull(R);
    imgsync_provider *p = replay_add_provider(R, "oci", "reg", REG);
    ck_assert_ptr_nonnull(p);
    const char *path = put("tok.json", "{\"auths\":{\"https://reg.example/v1/\":{\"identitytoken\":\"" REFRESH "\"}}}");
    ck_assert_int_eq(imgsync_provider_set(p, "auth_file", path), 0);
    fake_transport *ft = replay_transport(R);
    fake_add_simple(ft, "GET", REG "/v2/", 401, "WWW-Authenticate: Bearer realm=\"https://auth.example/token\",service=\"reg.example\"", "{}");
    fake_add_simple(ft, "GET", REG "/v2/", 200, "Content-Type: application/json", "{}");
    fake_add_simple(ft, "POST", "https://auth.example/token", 200, "Content-Type: application/json", "{\"access_token\":\"at-2\"}");
    ck_assert_msg(imgsync_provider_check(p) == 0, "%s", imgsync_ctx_errmsg(replay_ctx(R)));
    char want[700];
    snprintf(want, sizeof(want), "auth file %s", path);
    ck_assert_str_eq(imgsync_provider_credential_source(p), want);
    ck_assert_uint_eq(replay_nrequests(R), 3);
    const replay_request *q = replay_request_at(R, 1);
    ck_assert_str_eq(q->method, "POST");
    ck_assert_ptr_nonnull(strstr(q->body, "grant_type=refresh_token&refresh_token=" REFRESH "&service=reg.example"));
    ck_assert_str_eq(fake_request_header(replay_request_at(R, 2), "Authorization"), "Bearer at-2");
    replay_free(R);
    remove_tmp();
}
END_TEST

/* ---- the options ----------------------------------------------------------------------------- */

START_TEST(options_checked_when_set)
{
    make_tmp();
    imgsync_ctx *ctx = NULL;
    imgsync_provider *p = NULL;
    ck_assert_int_eq(imgsync_ctx_new(&ctx, NULL), 0);
    ck_assert_int_eq(imgsync_provider_new(&p, ctx, "oci", "r"), 0);
    char missing[600];
    snprintf(missing, sizeof(missing), "%s/missing.json", tmpdir);
    ck_assert_int_eq(imgsync_provider_set(p, "auth_file", missing), IMGSYNC_EINVAL);
    ck_assert_ptr_nonnull(strstr(imgsync_ctx_errmsg(ctx), missing));
    ck_assert_int_eq(imgsync_provider_set(p, "auth_file", ""), IMGSYNC_EINVAL);
    ck_assert_int_eq(imgsync_provider_set(p, "auth_file", "default"), 0);
    ck_assert_int_eq(imgsync_provider_set(p, "auth_file", "none"), 0);
    ck_assert_int_eq(imgsync_provider_set(p, "auth_file", put("a.json", "{}")), 0);
    ck_assert_int_eq(imgsync_provider_set(p, "auth_file", NULL), 0);
    ck_assert_int_eq(imgsync_ctx_set(ctx, "auth_file", missing), IMGSYNC_EINVAL);
    ck_assert_ptr_nonnull(strstr(imgsync_ctx_errmsg(ctx), "auth_file"));
    ck_assert_int_eq(imgsync_ctx_set(ctx, "auth_file", "default"), 0);
    ck_assert_int_eq(imgsync_ctx_set(ctx, "auth_file", ""), 0);
    ck_assert_str_eq(imgsync_provider_credential_source(p), "");
    ck_assert_str_eq(imgsync_provider_credential_source(NULL), "");
    imgsync_ctx_free(ctx);
    remove_tmp();
}
END_TEST

Suite *authfile_suite(void)
{
    Suite *s = suite_create("authfile");
    TCase *tc = tcase_create("parser");
    tcase_add_test(tc, base64_round_trip_and_refusals);
    tcase_add_test(tc, auth_base64_split_at_first_colon);
    tcase_add_test(tc, username_password_fields);
    tcase_add_test(tc, identitytoken_entry);
    tcase_add_test(tc, url_form_keys);
    tcase_add_test(tc, docker_hub_aliases);
    tcase_add_test(tc, helpers_order);
    tcase_add_test(tc, malformed_files);
    tcase_add_test(tc, huge_file_parses);
    tcase_add_test(tc, helper_answers);
    suite_add_tcase(s, tc);
    tc = tcase_create("helper");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, helper_found_and_told_the_server);
    tcase_add_test(tc, helper_failures);
    tcase_add_test(tc, helper_timeout_kills_and_reaps);
    suite_add_tcase(s, tc);
    tc = tcase_create("resolve");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, resolve_own_credentials_first);
    tcase_add_test(tc, resolve_default_search_order);
    tcase_add_test(tc, resolve_errors);
    tcase_add_test(tc, resolve_through_helpers);
    tcase_add_test(tc, options_checked_when_set);
    tcase_add_test(tc, resolve_identity_token);
    tcase_add_test(tc, engine_posts_the_refresh_token);
    tcase_add_test(tc, check_with_an_identity_token);
    suite_add_tcase(s, tc);
    return s;
}

IMGSYNC_TEST_MAIN(authfile_suite)
