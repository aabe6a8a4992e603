/*
 * imgsync: the one-shot commands ls, inspect and catalog, on an image reference instead of a
 * configuration, as skopeo and crane have them. Each builds a context with an in-memory
 * inventory and one "oci" provider for the reference's registry, syncs what the reference
 * names through the request API, and prints the rows. Nothing is stored.
 */
#include "cli/credentials.h"
#include "cli/output.h"
#include "cli/reference.h"
#include "cli/registries.h"

#include <stdlib.h>
#include <string.h>

/* The provider's name: the host with the characters a name cannot hold made '-'. */
static void provider_name(const reference *r, char *name, size_t size)
{
    size_t i;

    snprintf(name, size, "%.64s", r->host);
    for (i = 0; name[i] != '\0'; i++)
        if (strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-", name[i]) == NULL)
            name[i] = '-';
}

/* --username with the password from stdin (trailing newlines stripped, wiped after use). */
static int set_login(const options *o, imgsync_ctx *ctx, imgsync_provider *p)
{
    char *text = NULL;
    size_t len = 0;
    int rc;

    if ((rc = imgsync_provider_set(p, "username", o->username)) != 0) {
        lib_error(ctx, rc, "--username");
        return EXIT_USAGE;
    }
    if (!o->password_stdin)
        return 0;
    if (read_input("-", MAX_SECRET_BYTES, &text, &len) != 0) {
        errorf("--password-stdin: cannot read the password from stdin");
        return EXIT_USAGE;
    }
    while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r'))
        text[--len] = '\0';
    rc = len > 0 ? imgsync_provider_set(p, "password", text) : IMGSYNC_EINVAL;
    wipe(text, len);
    free(text);
    if (rc != 0) {
        errorf("--password-stdin: %s", len ? imgsync_strerror(rc) : "the password is empty");
        return EXIT_USAGE;
    }
    return 0;
}

/* One provider option; a library refusal is a usage error naming the option. */
static int set_option(imgsync_ctx *ctx, imgsync_provider *p, const char *key, const char *value)
{
    int rc = imgsync_provider_set(p, key, value);

    if (rc != 0) {
        lib_error(ctx, rc, "%s", key);
        return config_status(rc);
    }
    return 0;
}

/* Credentials: --username, else the Docker/Podman auth files when this library knows the
 * "auth_file" option (EINVAL: it does not, or there are none to read: anonymous access). */
static int set_credentials(const options *o, imgsync_ctx *ctx, imgsync_provider *p)
{
    int rc;

    if (o->username != NULL)
        return set_login(o, ctx, p);
    if ((rc = imgsync_provider_set(p, "auth_file", "default")) == 0 || rc == IMGSYNC_EINVAL)
        return 0;
    lib_error(ctx, rc, "auth_file");
    return EXIT_FAIL;
}

/* The context and the provider of the reference's registry. */
static int oneshot_provider(const options *o, const reference *r, imgsync_ctx **ctx,
                            imgsync_provider **p, char *name, size_t name_size)
{
    int plain = o->plain_http || r->loopback, status, rc;
    char *endpoint;

    provider_name(r, name, name_size);
    if ((status = open_store(o, DB_MEMORY, ctx)) != 0) /* in memory, logging as -v asks */
        return status;
    if ((rc = imgsync_provider_new(p, *ctx, "oci", name)) != 0) {
        lib_error(*ctx, rc, "registry %s", r->host);
        return EXIT_FAIL;
    }
    if ((endpoint = format("%s://%s", plain ? "http" : "https", r->host)) == NULL) {
        errorf("out of memory");
        return EXIT_FAIL;
    }
    status = set_option(*ctx, *p, "endpoint", endpoint);
    free(endpoint);
    if (status == 0 && plain && !r->loopback)
        status = set_option(*ctx, *p, "allow_http", "true");
    if (status == 0 && o->insecure)
        status = set_option(*ctx, *p, "insecure", "true");
    if (status == 0 && o->cmd == CMD_CATALOG)
        status = set_option(*ctx, *p, "resolve", "none"); /* names only: no manifest fetched */
    if (status == 0)
        status = apply_tls_env(*ctx, *p, 0, 0);
    return status ? status : set_credentials(o, *ctx, *p);
}

/* What the reference selects: its repository (and tag), or the whole registry. */
static int oneshot_request(const reference *r, const char *name, imgsync_request **req)
{
    int rc = imgsync_request_new(req);

    if (rc == 0 && r->repository[0])
        rc = imgsync_request_add_repository(*req, name, r->repository);
    /* a tag holds no glob character: as a pattern it matches itself alone */
    if (rc == 0 && r->tag[0])
        rc = imgsync_request_add_filter(*req, IMGSYNC_FILTER_TAG, r->tag, IMGSYNC_INCLUDE);
    if (rc != 0)
        errorf("cannot build the request: %s", imgsync_strerror(rc));
    return rc ? EXIT_FAIL : 0;
}

/* Parse, build, sync and wait; *ctx holds the rows when it returns 0. */
static int oneshot_sync(const options *o, enum ref_kind kind, reference *r, imgsync_ctx **ctx)
{
    imgsync_provider *p = NULL;
    imgsync_request *req = NULL;
    imgsync_task *task = NULL;
    enum stop_reason why = STOP_NONE;
    const char *reason;
    char name[72];
    uint64_t id;
    int status, rc;

    if (reference_parse(r, o->ref, kind, &reason) != 0) {
        errorf("%s: invalid reference '%s': %s", o->name, o->ref, reason);
        return EXIT_USAGE;
    }
    if ((status = oneshot_provider(o, r, ctx, &p, name, sizeof name)) != 0 ||
        (status = oneshot_request(r, name, &req)) != 0)
        goto out;
    if ((rc = imgsync_sync_start(*ctx, req, &id)) != 0) {
        lib_error(*ctx, rc, "%s %s", o->name, o->ref);
        status = EXIT_FAIL;
        goto out;
    }
    task = run_task(*ctx, id, o->timeout_ms, o->format, &why);
    if (task == NULL || imgsync_task_state_of(task) != IMGSYNC_TASK_SUCCEEDED) {
        print_failure(task, why, o->timeout_ms);
        status = sync_status(task, why);
    }
out:
    imgsync_task_free(task);
    imgsync_request_free(req);
    return status;
}

/* Each command's printer: the rows are in ctx; 0 or an exit status. */
typedef int (*oneshot_print)(const options *o, imgsync_ctx *ctx, const reference *r);

static int oneshot(const options *o, enum ref_kind kind, oneshot_print print)
{
    imgsync_ctx *ctx = NULL;
    reference r;
    int status = oneshot_sync(o, kind, &r, &ctx);

    if (status == 0)
        status = print(o, ctx, &r);
    imgsync_ctx_free(ctx);
    return status;
}

/* Every row of the context's inventory (the one provider's). NULL after saying why. */
static imgsync_iter *all_rows(imgsync_ctx *ctx, const char *what)
{
    imgsync_iter *it = NULL;
    int rc = imgsync_iter_new(&it, ctx, NULL);

    if (rc != 0)
        lib_error(ctx, rc, "cannot read the %s", what);
    return rc ? NULL : it;
}

/* The end of printing `what`: 0, or EXIT_FAIL after saying why. */
static int printed(int failed, const char *what)
{
    if (failed)
        errorf("cannot print the %s: out of memory", what);
    return failed ? EXIT_FAIL : finish_stdout(what);
}

/* ---- ls ---- */

static int print_tags(const options *o, imgsync_ctx *ctx, const reference *r)
{
    static const char *const titles[] = {"TAG", "DIGEST", "SIZE", "MULTI_ARCH"};
    const imgsync_image *im;
    imgsync_iter *it;
    char *cell[4];
    table *t;
    int failed;

    (void)r;
    if (o->format != FORMAT_TABLE)
        return print_inventory(ctx, NULL, o->format, 0, 0);
    if ((it = all_rows(ctx, "tags")) == NULL)
        return EXIT_FAIL;
    failed = (t = table_new(4, titles, 1u << 2)) == NULL;
    while (!failed && (im = imgsync_iter_next(it)) != NULL) {
        cell[0] = format("%s", imgsync_image_tag(im));
        cell[1] = format("%s", imgsync_image_digest(im));
        cell[2] = human_size(imgsync_image_size(im));
        cell[3] = format("%s", imgsync_image_multi_arch(im) ? "yes" : "no");
        failed = table_row(t, cell) != 0;
    }
    table_end(t, !failed);
    imgsync_iter_free(it);
    return printed(failed, "tags");
}

int cmd_ls(const options *o)
{
    return oneshot(o, REF_REPOSITORY, print_tags);
}

/* ---- inspect ---- */

/* The row of the reference: its tag's, or the first with its digest. */
static const imgsync_image *find_image(imgsync_iter *it, const reference *r)
{
    const imgsync_image *im;

    while ((im = imgsync_iter_next(it)) != NULL)
        if (!r->digest[0] || strcmp(imgsync_image_digest(im), r->digest) == 0)
            return im;
    return NULL;
}

static int print_image_table(const imgsync_image *im)
{
    const char *platforms = imgsync_image_platforms(im);
    char *size = human_size(imgsync_image_size(im));

    emit(stdout, "reference:  %s/%s:%s", imgsync_image_host(im), imgsync_image_repository(im),
         imgsync_image_tag(im));
    emit(stdout, "digest:     %s", imgsync_image_digest(im));
    emit(stdout, "media type: %s", imgsync_image_media_type(im));
    emit(stdout, "size:       %lld (%s)", (long long)imgsync_image_size(im), size ? size : "?");
    emit(stdout, "multi-arch: %s", imgsync_image_multi_arch(im) ? "yes" : "no");
    emit(stdout, "platforms:  %s", *platforms ? platforms : "-");
    free(size);
    return printed(0, "image");
}

static int print_image_json(const imgsync_image *im)
{
    yajl_gen g = json_open(stdout, 1);
    int failed = g == NULL || json_open_map(g) != 0 || json_image_fields(g, im) != 0 ||
                 json_close_map(g) != 0;

    if (!failed)
        json_end_line(g, stdout, 1);
    if (g != NULL)
        yajl_gen_free(g);
    return printed(failed, "image");
}

static int print_image(const options *o, imgsync_ctx *ctx, const reference *r)
{
    imgsync_iter *it = all_rows(ctx, "image");
    const imgsync_image *im;
    int status = EXIT_FAIL;

    if (it == NULL)
        return EXIT_FAIL;
    if ((im = find_image(it, r)) == NULL)
        errorf("inspect %s: %s not found in %s/%s", o->ref,
               r->tag[0] && r->digest[0] ? "this tag with this digest"
               : r->tag[0]               ? "tag"
                                         : "no tag has this digest; digest",
               r->host, r->repository);
    else
        status = o->format == FORMAT_TABLE ? print_image_table(im) : print_image_json(im);
    imgsync_iter_free(it);
    return status;
}

int cmd_inspect(const options *o)
{
    return oneshot(o, REF_IMAGE, print_image);
}

/* ---- catalog ---- */

/* Each repository once (the rows come sorted by repository, one per tag). */
static int print_repositories(const options *o, imgsync_ctx *ctx, const reference *r)
{
    int json = o->format != FORMAT_TABLE, failed = 0;
    imgsync_iter *it = all_rows(ctx, "repositories");
    const imgsync_image *im;
    char *last = NULL;
    yajl_gen g = NULL;

    (void)r;
    if (it == NULL)
        return EXIT_FAIL;
    if (json)
        failed = (g = json_open(stdout, 1)) == NULL || yajl_gen_array_open(g) != yajl_gen_status_ok;
    while (!failed && (im = imgsync_iter_next(it)) != NULL) {
        const char *repo = imgsync_image_repository(im);
        if (last != NULL && strcmp(last, repo) == 0)
            continue;
        free(last);
        failed = (last = format("%s", repo)) == NULL || (json && json_str(g, repo) != 0);
        if (!failed && !json)
            emit(stdout, "%s", repo);
    }
    if (!failed && json && yajl_gen_array_close(g) == yajl_gen_status_ok)
        json_end_line(g, stdout, 1);
    if (g != NULL)
        yajl_gen_free(g);
    free(last);
    imgsync_iter_free(it);
    return printed(failed, "repositories");
}

int cmd_catalog(const options *o)
{
    return oneshot(o, REF_REGISTRY, print_repositories);
}
