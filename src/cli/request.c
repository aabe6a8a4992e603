/* imgsync: the sync request from the selection options (--type, --registry, --repo, globs). */
#include "cli/commands.h"

#include <stdlib.h>
#include <string.h>

int unknown_registry(const config *cfg, const char *option, const char *name)
{
    char *names = config_registry_names(cfg);

    usage_error("%s: no registry '%s' in %s (configured: %s)", option, name, cfg->path,
                names ? names : "?");
    free(names);
    return EXIT_USAGE;
}

/* A configuration was loaded (commands like images can do without one). */
static int have_config(const config *cfg)
{
    return cfg != NULL && cfg->root != NULL;
}

/* The registry of a --repo without "REGISTRY:": the only selected or configured one. */
static int implied_registry(const options *o, const config *cfg, const char *arg, char **out)
{
    const char *name;

    if (o->registries.len == 1)
        name = o->registries.items[0];
    else if (o->registries.len == 0 && have_config(cfg) && cfg->registries->u.array.len == 1)
        name = config_registry_name(cfg, 0);
    else {
        usage_error("--repo %s: write it as REGISTRY:REPOSITORY (%s)", arg,
                    o->registries.len > 1  ? "several registries are selected"
                    : !have_config(cfg) ? "no --config names the registry"
                                           : "several registries are configured");
        return EXIT_USAGE;
    }
    if ((*out = format("%s", name)) == NULL) {
        errorf("out of memory");
        return EXIT_FAIL;
    }
    return 0;
}

/* --repo [REGISTRY:]REPOSITORY -> which registry (allocated), and the repository path. */
static int resolve_repo(const options *o, const config *cfg, const char *arg, char **registry,
                        const char **repository)
{
    const char *colon = strchr(arg, ':');
    int status;

    *repository = colon ? colon + 1 : arg;
    if (colon == NULL)
        status = implied_registry(o, cfg, arg, registry);
    else if ((*registry = format("%.*s", (int)(colon - arg), arg)) != NULL)
        status = 0;
    else {
        errorf("out of memory");
        status = EXIT_FAIL;
    }
    if (status != 0)
        return status;
    if (**registry == '\0' || **repository == '\0')
        usage_error("--repo %s: expected REGISTRY:REPOSITORY, e.g. local:team/app", arg);
    else if (strchr(*repository, ':') != NULL)
        usage_error("--repo %s: a repository has no ':' (select tags with --tag)", arg);
    else if (have_config(cfg) && config_registry(cfg, *registry) == NULL)
        unknown_registry(cfg, "--repo", *registry);
    else
        return 0;
    free(*registry);
    *registry = NULL;
    return EXIT_USAGE;
}

static int add_types(const options *o, imgsync_request *req)
{
    size_t i;
    int rc, type;

    for (i = 0; i < o->types.len; i++) {
        if (imgsync_type_from_string(&type, o->types.items[i]) != 0) {
            usage_error("--type %s: unknown type (Oci, Harbor, Jfrog, SwrPrivate, SwrShared, "
                        "SwrEnterprise)",
                        o->types.items[i]);
            return EXIT_USAGE;
        }
        if ((rc = imgsync_request_add_type(req, type)) != 0) {
            errorf("--type %s: %s", o->types.items[i], imgsync_strerror(rc));
            return EXIT_USAGE;
        }
    }
    return 0;
}

/* Remember a registry to create (a name from the config tree, which outlives the request). */
static int want(strlist *wanted, const char *name)
{
    if (strlist_has(wanted, name) || strlist_add(wanted, name) == 0)
        return 0;
    errorf("out of memory");
    return EXIT_FAIL;
}

static int add_registries(const options *o, const config *cfg, imgsync_request *req,
                          strlist *wanted, int by_name_only)
{
    size_t i;
    int rc;

    for (i = 0; i < o->registries.len; i++) {
        const char *name = o->registries.items[i];
        yajl_val reg = have_config(cfg) ? config_registry(cfg, name) : NULL;
        if (have_config(cfg) && reg == NULL)
            return unknown_registry(cfg, "--registry", name);
        if ((rc = imgsync_request_add_provider(req, name)) != 0) {
            errorf("--registry %s: %s", name, imgsync_strerror(rc));
            return EXIT_USAGE;
        }
        if (by_name_only && reg != NULL && want(wanted, member_string(reg, "name")) != 0)
            return EXIT_FAIL;
    }
    return 0;
}

static int add_repos(const options *o, const config *cfg, imgsync_request *req, strlist *wanted,
                     int by_name_only)
{
    const char *repository;
    char *registry;
    yajl_val reg;
    size_t i;
    int rc, status;

    for (i = 0; i < o->repos.len; i++) {
        if ((status = resolve_repo(o, cfg, o->repos.items[i], &registry, &repository)) != 0)
            return status;
        rc = imgsync_request_add_repository(req, registry, repository);
        reg = have_config(cfg) ? config_registry(cfg, registry) : NULL;
        free(registry);
        if (rc != 0) {
            usage_error("--repo %s: %s", o->repos.items[i], imgsync_strerror(rc));
            return EXIT_USAGE;
        }
        if (by_name_only && reg != NULL && want(wanted, member_string(reg, "name")) != 0)
            return EXIT_FAIL;
    }
    return 0;
}

static int add_filters(const options *o, imgsync_request *req)
{
    size_t i, f;
    int rc;

    for (f = 0; f < N_FILTER_OPTIONS; f++) {
        for (i = 0; i < o->filters[f].len; i++) {
            const char *glob = o->filters[f].items[i];
            rc = imgsync_request_add_filter(req, filter_options[f].field, glob,
                                            filter_options[f].mode);
            if (rc != 0) {
                usage_error("%s %s: %s", filter_options[f].name, glob,
                            rc == IMGSYNC_EINVAL ? "malformed pattern" : imgsync_strerror(rc));
                return EXIT_USAGE;
            }
        }
    }
    if (o->updated_since_ms > 0 &&
        (rc = imgsync_request_set_updated_since(req, o->updated_since_ms)) != 0) {
        usage_error("--updated-since: %s", imgsync_strerror(rc));
        return EXIT_USAGE;
    }
    if (o->max_tags > 0 &&
        (rc = imgsync_request_set_max_tags(req, (unsigned int)o->max_tags)) != 0) {
        usage_error("--max-tags %lu: %s", o->max_tags, imgsync_strerror(rc));
        return EXIT_USAGE;
    }
    return 0;
}

int build_request(const options *o, const config *cfg, imgsync_request **out, strlist *wanted)
{
    imgsync_request *req = NULL;
    int rc, status;
    int by_name_only = o->types.len == 0 && (o->registries.len > 0 || o->repos.len > 0);

    if ((rc = imgsync_request_new(&req)) != 0) {
        errorf("cannot create a request: %s", imgsync_strerror(rc));
        return EXIT_FAIL;
    }
    if ((status = add_types(o, req)) != 0 ||
        (status = add_registries(o, cfg, req, wanted, by_name_only)) != 0 ||
        (status = add_repos(o, cfg, req, wanted, by_name_only)) != 0 ||
        (status = add_filters(o, req)) != 0) {
        imgsync_request_free(req);
        return status;
    }
    *out = req;
    return 0;
}
