/* libimgsync: providers (one configured registry each). */
#ifndef IMGSYNC_PROVIDER_H
#define IMGSYNC_PROVIDER_H

#include "ctx.h"
#include "export.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct imgsync_provider imgsync_provider;

/*
 * Create a provider of `kind` named `name` (unique in ctx; [A-Za-z0-9._-], 1..64 chars). Built-in
 * kinds: "oci" (any OCI distribution registry) and "harbor" (Harbor 2.x REST API); others can be
 * added with imgsync_provider_register() (imgsync/sys/provider.h). The provider belongs to ctx and
 * is freed with it or with imgsync_provider_free(). `*out` is borrowed from ctx.
 * Errors: EINVAL (bad name), ENOTFOUND (unknown kind), EEXISTS (name taken), ENOMEM.
 */
IMGSYNC_EXTERN int imgsync_provider_new(imgsync_provider **out, imgsync_ctx *ctx, const char *kind,
                                        const char *name);
/*
 * Set a string option (UTF-8). Options common to every kind:
 *   "endpoint"    registry base URL (https://host[:port][/path], no query, no credentials);
 *                 required by "oci" and "harbor"
 *   "username", "password"  credentials; how they are used is the kind's business (Basic and
 *                 Bearer tokens for "oci" and "harbor"); a username with ':' is EINVAL (Basic
 *                 could not carry it)
 *   "ca_file"     PEM file of CA certificates that REPLACES the system bundle for this provider
 *                 (pinning a private CA); checked when set: EINVAL naming the path when it is
 *                 missing, unreadable or holds no PEM certificate
 *   "ca_dir"      directory (or ":"-separated directories) of CA certificates named by their
 *                 hash (`openssl rehash DIR`),
 *                 searched in addition to "ca_file" or the system bundle (CURLOPT_CAPATH);
 *                 checked when set: EINVAL naming the path when it is not a readable directory
 *   "cert_file", "key_file"  PEM client certificate and its unencrypted private key, for
 *                 registries that require mutual TLS (key_file may be left out when cert_file
 *                 holds the key too); checked when set like ca_file (EINVAL naming the path)
 *   "proxy"       proxy for every request of the provider: "http://[user:password@]host:port",
 *                 "https://...", "socks5://..." or "socks5h://..." (host names resolved by the
 *                 proxy); it is used for every host, whatever no_proxy says. "" or "none": no
 *                 proxy, even when the environment names one. Unset: libcurl's environment
 *                 rules: http_proxy (lower case only: HTTP_PROXY is ignored, as a CGI program's
 *                 request header could set it) for http:// URLs, https_proxy or HTTPS_PROXY for
 *                 https://, else ALL_PROXY or all_proxy; no_proxy or NO_PROXY lists hosts,
 *                 domain suffixes and IP addresses reached directly ("*" = all). Credentials in
 *                 the URL are secrets: never echoed (the value is not quoted in errors).
 *                 An https:// proxy's certificate is checked against the system bundle.
 *   "insecure"    "true" turns TLS verification off (must be explicit); "false" (default)
 *   "allow_http"  "true" accepts http:// for non-loopback hosts; "false" (default)
 *   "max_list_pages"  pages one listing may take before its scope fails (default "10000")
 *   "max_list_items"  items one listing may hold before its scope fails (default "1000000")
 *   "auth_file"   credentials from a Docker/Podman auth file when the provider sets none of its
 *                 own (no "username" and no secret option such as "password" or "token"): a
 *                 path; "default" = the first existing file of $REGISTRY_AUTH_FILE,
 *                 $XDG_RUNTIME_DIR/containers/auth.json, $DOCKER_CONFIG/config.json (else
 *                 $HOME/.docker/config.json); "none" = no file even when the context option
 *                 "auth_file" (imgsync_ctx_set) names one. Unset = that context option. A path is
 *                 checked when set (EINVAL naming it when missing or unreadable). The file is
 *                 read when a task or check starts: the entry of the endpoint's host[:port] (also
 *                 written as a URL, and Docker Hub's "https://index.docker.io/v1/" for
 *                 registry-1.docker.io / docker.io) gives "username" and "password" (`auth`
 *                 base64 or `username`/`password`); credHelpers[host], else credsStore when the
 *                 entry holds nothing, runs `docker-credential-NAME get` (found on PATH; no shell;
 *                 killed after 10 s; its answer is never logged), which blocks the driving thread
 *                 meanwhile. An `identitytoken` entry (or a helper's "<token>" answer) is used as
 *                 Docker does, as an OAuth2 refresh token: the registry's Bearer challenges are
 *                 answered by POSTing it to the token realm (grant_type=refresh_token; the
 *                 distribution token API, so for the registry API of "oci" and "jfrog", not
 *                 Harbor's REST API). A missing or malformed file (EINVAL) or a failing helper
 *                 (ETIMEOUT, EAUTH, ENOTFOUND when not on PATH, EPROTOCOL) fails the run with a
 *                 reason naming the file or helper, never the content. Meant for kinds whose
 *                 credentials are "username"/"password" ("oci", "harbor", "jfrog").
 *   (booleans also accept 1/0, yes/no, on/off)
 * Kind "oci": "resolve" = "full" (default: digest and size from each manifest) | "digest" (HEAD
 * only, no size) | "none" (tags only); "page_size" (catalog page, 1..1000, default "100").
 * Kind "harbor": "page_size" (1..100, default "100"); "include_untagged" (untagged artifacts as
 * rows with an empty tag, default "false").
 * A NULL value resets the option. Values are copied. Secrets are never echoed anywhere. A task
 * works on a copy of the options taken when it was started: setting an option while a task runs
 * affects later tasks only.
 * Errors: EINVAL (unknown key or bad value, detail in errmsg), ENOMEM.
 */
IMGSYNC_EXTERN int imgsync_provider_set(imgsync_provider *p, const char *key, const char *value);
/* Name and kind (borrowed for the provider's lifetime; "" for NULL). */
IMGSYNC_EXTERN const char *imgsync_provider_name(const imgsync_provider *p);
IMGSYNC_EXTERN const char *imgsync_provider_kind(const imgsync_provider *p);
/* The kind's default imgsync_type (what imgsync_request_add_type selects on; a kind may also
 * emit rows of other types, see imgsync_image_type()). 0 for NULL. */
IMGSYNC_EXTERN int imgsync_provider_type(const imgsync_provider *p);
/*
 * Test the connection and the authorization of the credentials, blocking at most the context's
 * "check_timeout_ms" (drives the context's engine internally; do not call while another thread
 * performs). Returns 0 when the registry answered and accepted the credentials; EAUTH when it did
 * not authorize access; ENETWORK / ETIMEOUT / EPROTOCOL / EHTTP / EINSECURE otherwise (detail in
 * imgsync_ctx_errmsg()).
 */
IMGSYNC_EXTERN int imgsync_provider_check(imgsync_provider *p);
/*
 * Where the credentials of the last imgsync_provider_check() came from, never a secret:
 * "options" (the provider's own), "auth file PATH", "credential helper docker-credential-NAME
 * (auth file PATH)", "none" or "none (why: no auth file found, no entry for HOST in PATH, the
 * helper has none)"; "" before the first check, when that check failed before looking, or for
 * NULL. A PATH is cut at 200 bytes, control characters shown as '?'. Borrowed until the next
 * check of p or its free; same thread rules as p.
 */
IMGSYNC_EXTERN const char *imgsync_provider_credential_source(const imgsync_provider *p);
/* Remove a provider from its context. With the in-memory inventory its rows go too; a persistent
 * inventory ("sqlite:PATH") keeps them, as they describe the registry and a provider of the same
 * name finds them again. EBUSY while a running task uses it. Accepts NULL (returns 0). */
IMGSYNC_EXTERN int imgsync_provider_free(imgsync_provider *p);

#ifdef __cplusplus
}
#endif
#endif /* IMGSYNC_PROVIDER_H */
