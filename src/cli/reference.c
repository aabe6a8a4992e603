/* imgsync: parsing image references (grammar of the distribution project's reference package). */
#include "cli/reference.h"

#include <stdio.h>
#include <string.h>

#define DOCKER_HUB "registry-1.docker.io"

static int is_lower_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static int is_alnum(char c)
{
    return is_lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

static int is_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* Copy s[0..n) to a buffer of `size` bytes; -1 when it does not fit. */
static int copy_part(char *dst, size_t size, const char *s, size_t n)
{
    if (n >= size)
        return -1;
    memcpy(dst, s, n);
    dst[n] = '\0';
    return 0;
}

/* One path component: [a-z0-9]+ joined by '.', '_', "__" or one or more '-'. */
static int component_ok(const char *s, size_t n)
{
    size_t i = 0, run;

    if (n == 0 || !is_lower_alnum(s[0]) || !is_lower_alnum(s[n - 1]))
        return 0;
    while (i < n) {
        if (is_lower_alnum(s[i])) {
            i++;
            continue;
        }
        for (run = 0; i + run < n && s[i + run] == '-'; run++)
            ;
        if (run == 0) {
            run = (s[i] == '_' && i + 1 < n && s[i + 1] == '_') ? 2 : 1;
            if (s[i] != '.' && s[i] != '_')
                return 0;
        }
        i += run;
        if (i >= n || !is_lower_alnum(s[i]))
            return 0;
    }
    return 1;
}

static int path_ok(const char *s, size_t n)
{
    size_t start = 0, i;

    for (i = 0; i <= n; i++) {
        if (i == n || s[i] == '/') {
            if (!component_ok(s + start, i - start))
                return 0;
            start = i + 1;
        }
    }
    return 1;
}

/* A DNS name's labels: [A-Za-z0-9] runs with inner dashes, joined by '.'. */
static int hostname_ok(const char *s, size_t n)
{
    size_t i, label = 0;

    for (i = 0; i < n; i++) {
        if (s[i] == '.') {
            if (label == 0 || s[i - 1] == '-')
                return 0;
            label = 0;
        } else if (is_alnum(s[i]) || (s[i] == '-' && label > 0)) {
            label++;
        } else {
            return 0;
        }
    }
    return label > 0 && s[n - 1] != '-';
}

/* "[hex:...]" with at least two colons (an IPv6 literal as a URL holds it). */
static int ipv6_ok(const char *s, size_t n)
{
    size_t i, colons = 0;

    if (n < 4 || s[0] != '[' || s[n - 1] != ']')
        return 0;
    for (i = 1; i + 1 < n; i++) {
        if (s[i] == ':')
            colons++;
        else if (!is_hex(s[i]) && s[i] != '.')
            return 0;
    }
    return colons >= 2;
}

/* host[:port], port 1..65535. */
static int domain_ok(const char *s, size_t n)
{
    const char *colon = NULL;
    size_t i, hostlen;
    unsigned long port = 0;

    for (i = 0; i < n; i++)
        if (s[i] == ':' && (s[0] != '[' || (i > 0 && s[i - 1] == ']')))
            colon = s + i;
    hostlen = colon ? (size_t)(colon - s) : n;
    if (colon) {
        if (colon + 1 == s + n || (size_t)(s + n - colon - 1) > 5)
            return 0;
        for (i = hostlen + 1; i < n; i++) {
            if (s[i] < '0' || s[i] > '9')
                return 0;
            port = port * 10 + (unsigned long)(s[i] - '0');
        }
        if (port == 0 || port > 65535)
            return 0;
    }
    return s[0] == '[' ? ipv6_ok(s, hostlen) : hostname_ok(s, hostlen);
}

static int tag_ok(const char *s)
{
    size_t i, n = strlen(s);

    if (n == 0 || n > 128 || !(is_alnum(s[0]) || s[0] == '_'))
        return 0;
    for (i = 1; i < n; i++)
        if (!(is_alnum(s[i]) || s[i] == '_' || s[i] == '.' || s[i] == '-'))
            return 0;
    return 1;
}

/* algorithm:hex; the registered algorithms have a fixed length of lower-case hex. */
static int digest_ok(const char *s)
{
    const char *colon = strchr(s, ':'), *hex;
    size_t i, alg, n, want = 0;

    if (colon == NULL || colon == s)
        return 0;
    alg = (size_t)(colon - s);
    for (i = 0; i < alg; i++)
        if (!is_lower_alnum(s[i]) && !(i > 0 && i + 1 < alg && strchr("+._-", s[i]) &&
                                        is_lower_alnum(s[i + 1])))
            return 0;
    hex = colon + 1;
    n = strlen(hex);
    if (alg == 6 && strncmp(s, "sha256", 6) == 0)
        want = 64;
    else if (alg == 6 && strncmp(s, "sha512", 6) == 0)
        want = 128;
    if (n < 32 || (want && n != want))
        return 0;
    for (i = 0; i < n; i++)
        if (!is_hex(hex[i]) || (want && hex[i] >= 'A' && hex[i] <= 'F'))
            return 0;
    return 1;
}

static int is_loopback(const char *host)
{
    size_t n = strcspn(host, host[0] == '[' ? "]" : ":");

    if (host[0] == '[')
        return strncmp(host, "[::1]", 5) == 0;
    return (n == 9 && strncmp(host, "localhost", 9) == 0) || strncmp(host, "127.", 4) == 0;
}

/* Does the first path component name a registry rather than Docker Hub's namespace? */
static int names_domain(const char *s, size_t n)
{
    return memchr(s, '.', n) != NULL || memchr(s, ':', n) != NULL || s[0] == '[' ||
           (n == 9 && strncmp(s, "localhost", 9) == 0);
}

/* host and repository from a name without tag or digest. */
static int split_name(reference *r, const char *s, size_t n, const char **why)
{
    const char *slash = memchr(s, '/', n), *path = s;
    size_t first = slash ? (size_t)(slash - s) : n, plen = n;
    int hub;

    if (slash && names_domain(s, first)) {
        if (!domain_ok(s, first) || copy_part(r->host, sizeof r->host, s, first) != 0)
            return *why = "invalid registry host[:port]", -1;
        path = slash + 1;
        plen = n - first - 1;
    } else {
        strcpy(r->host, "docker.io");
    }
    if (plen == 0 || !path_ok(path, plen))
        return *why = "invalid repository (lower-case letters, digits and separators . _ __ -, "
                      "components joined by '/')", -1;
    hub = strcmp(r->host, "docker.io") == 0 || strcmp(r->host, "index.docker.io") == 0;
    if (hub)
        strcpy(r->host, DOCKER_HUB);
    if (hub && memchr(path, '/', plen) == NULL) {
        if (plen + 8 >= sizeof r->repository)
            return *why = "repository name too long", -1;
        snprintf(r->repository, sizeof r->repository, "library/%.*s", (int)plen, path);
    } else if (copy_part(r->repository, sizeof r->repository, path, plen) != 0) {
        return *why = "repository name too long (at most 255 characters)", -1;
    }
    return 0;
}

static int parse_registry(reference *r, const char *s, const char **why)
{
    size_t n = strlen(s);

    if (n > 0 && s[n - 1] == '/')
        n--; /* "host:5000/" */
    if (n == 0 || !domain_ok(s, n) || copy_part(r->host, sizeof r->host, s, n) != 0)
        return *why = "invalid registry (expected host[:port])", -1;
    if (strcmp(r->host, "docker.io") == 0 || strcmp(r->host, "index.docker.io") == 0)
        strcpy(r->host, DOCKER_HUB);
    r->loopback = is_loopback(r->host);
    return 0;
}

/* The tag is after the last ':' that follows the last '/' (a port's ':' comes before it). */
static const char *tag_colon(const char *s, size_t n)
{
    const char *slash = NULL, *colon = NULL;
    size_t i;

    for (i = 0; i < n; i++) {
        if (s[i] == '/')
            slash = s + i, colon = NULL;
        else if (s[i] == ':')
            colon = s + i;
    }
    return colon != NULL && (slash == NULL || colon > slash) ? colon : NULL;
}

int reference_parse(reference *r, const char *s, enum ref_kind kind, const char **why)
{
    const char *at, *colon;
    size_t n;

    memset(r, 0, sizeof *r);
    *why = "empty reference";
    if (s == NULL || *s == '\0')
        return -1;
    if (strlen(s) > 1024)
        return *why = "reference too long", -1;
    if (kind == REF_REGISTRY)
        return parse_registry(r, s, why);
    at = strchr(s, '@');
    n = at ? (size_t)(at - s) : strlen(s);
    if (at && (kind != REF_IMAGE || !digest_ok(at + 1) ||
               copy_part(r->digest, sizeof r->digest, at + 1, strlen(at + 1)) != 0))
        return *why = kind != REF_IMAGE ? "a repository takes no @digest"
                                        : "invalid digest (expected sha256:<64 lower-case hex digits>)",
               -1;
    if ((colon = tag_colon(s, n)) != NULL) {
        if (kind != REF_IMAGE)
            return *why = "a repository takes no :tag", -1;
        if (copy_part(r->tag, sizeof r->tag, colon + 1, (size_t)(s + n - colon - 1)) != 0 ||
            !tag_ok(r->tag))
            return *why = "invalid tag ([A-Za-z0-9_][A-Za-z0-9_.-]*, at most 128 characters)", -1;
        n = (size_t)(colon - s);
    }
    if (split_name(r, s, n, why) != 0)
        return -1;
    if (kind == REF_IMAGE && !r->tag[0] && !r->digest[0])
        strcpy(r->tag, "latest");
    r->loopback = is_loopback(r->host);
    return 0;
}
