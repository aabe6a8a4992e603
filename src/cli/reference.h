/* imgsync: image references as docker, skopeo and crane write them (self-contained: the unit
 * test and the fuzz harness link this file alone). */
#ifndef IMGSYNC_CLI_REFERENCE_H
#define IMGSYNC_CLI_REFERENCE_H

#define REF_MAX_HOST 256
#define REF_MAX_PATH 256 /* a repository path is at most 255 characters (distribution's limit) */
#define REF_MAX_TAG 129  /* 128 characters */
#define REF_MAX_DIGEST 200

/* What the argument must name. */
enum ref_kind {
    REF_REGISTRY,   /* host[:port] (catalog) */
    REF_REPOSITORY, /* [host[:port]/]path, no tag or digest (ls) */
    REF_IMAGE       /* [host[:port]/]path[:tag][@digest]; no tag and no digest means :latest */
};

typedef struct reference {
    char host[REF_MAX_HOST];       /* "registry-1.docker.io", "localhost:5000", "[::1]:5000" */
    char repository[REF_MAX_PATH]; /* "library/nginx"; "" for REF_REGISTRY */
    char tag[REF_MAX_TAG];         /* "" when none */
    char digest[REF_MAX_DIGEST];   /* "sha256:<64 hex>", "" when none */
    int loopback;                  /* localhost, 127.0.0.0/8 or [::1]: plain http by default */
} reference;

/*
 * Parse s. The first path component is the registry host when it holds a '.' or a ':', is
 * "localhost" or an [IPv6] address; otherwise the registry is Docker Hub. Docker Hub
 * ("docker.io", "index.docker.io") becomes registry-1.docker.io, and a one-component path there
 * gets "library/". Path components are lower-case [a-z0-9] runs joined by '.', '_', "__" or
 * dashes; tags [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}; digests algorithm:hex (sha256: 64, sha512: 128
 * lower-case hex digits). 0, or -1 with *why set to a static reason.
 */
int reference_parse(reference *out, const char *s, enum ref_kind kind, const char **why);

#endif
