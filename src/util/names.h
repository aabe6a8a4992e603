/* Validation of the names, tags and digests a registry hands out (internal). One set of rules
 * for every provider: what fails here is refused, never stored or put in a URL. */
#ifndef IMGSYNC_UTIL_NAMES_H
#define IMGSYNC_UTIL_NAMES_H

/* OCI distribution repository name: 1..255 bytes of lower-case path components
 * [a-z0-9]+([._-]+[a-z0-9]+)* joined by '/'. So no "." or ".." segment, no empty segment, no
 * upper case, space or control character. 1 when valid. */
int imgsync__name_repository_ok(const char *s);
/* One path component of that grammar (a Harbor project, an OCI namespace). */
int imgsync__name_component_ok(const char *s);
/* A label such as a namespace of a non-OCI registry, a partition (SWR EE instance id, JFrog
 * repository key, SWR owner account): 1..128 bytes of [A-Za-z0-9._-], not "." or "..", not
 * starting with '-' or '.'. */
int imgsync__name_label_ok(const char *s);
/* Tag: [A-Za-z0-9_][A-Za-z0-9._-]{0,127}. */
int imgsync__name_tag_ok(const char *s);
/* Digest: "sha256:" + 64 or "sha512:" + 128 lower-case hex digits. */
int imgsync__name_digest_ok(const char *s);

#endif
