/* Glob matching with doublestar semantics (internal). */
#ifndef IMGSYNC_UTIL_GLOB_H
#define IMGSYNC_UTIL_GLOB_H

// Syntax: `*` any run of characters except '/'; `**` any run including '/' (so "a/**" matches
// "a/b/c", and "**" alone matches everything; "a/**" does not match "a" itself); `?` one character
// except '/'; `[abc]`, `[a-z]`, `[!a-z]` / `[^a-z]` one character (never '/') of a class; `{a,b}`
// alternatives (may nest and contain other globs); `\x` the literal x. An empty pattern matches
// only the empty string. Matching is case-sensitive and never recurses without bound.
/* 1 when `text` matches `pattern`, 0 otherwise (also for a malformed pattern). */
int imgsync__glob_match(const char *pattern, const char *text);
/* 0 when the pattern is well formed; IMGSYNC_EINVAL for an unclosed '[' or '{', a '}' or ','
 * outside braces is literal, a trailing '\\', or a pattern longer than 1024 bytes. */
int imgsync__glob_valid(const char *pattern);
/* 1 when the pattern has no special character (it names exactly one string), else 0. */
int imgsync__glob_is_literal(const char *pattern);

#endif
