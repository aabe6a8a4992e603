/* Text from servers, made safe for messages and terminals; secrets taken out (internal). */
#ifndef IMGSYNC_UTIL_TEXT_H
#define IMGSYNC_UTIL_TEXT_H

#include <stddef.h>

/* Replace, in place, every C0 control character, DEL, C1 control (U+0080..U+009F, which
 * terminals obey as CSI and the like) and byte of invalid UTF-8 with '?'. The string can only
 * get shorter. Returns s. */
char *imgsync__text_sanitize(char *s);
/* 1 when s is valid UTF-8 without C0, DEL or C1 controls. */
int imgsync__text_is_clean(const char *s);
/* Copy at most n-1 bytes of src into out, sanitized and never cutting a UTF-8 sequence. */
void imgsync__text_copy(char *out, size_t n, const char *src);
/* Secrets shorter than this are only redacted where they stand alone (not inside a word). */
#define IMGSYNC__SECRET_WORD_LEN 4
/* Replace, in place, every occurrence of `secret` in s with "***" (as many '*' as the secret has
 * bytes when it has fewer than 3: the text never grows); a secret shorter than
 * IMGSYNC__SECRET_WORD_LEN only where no letter or digit touches it. Returns s. */
char *imgsync__text_redact(char *s, const char *secret);
/* Replace, in place, every run of 64 or more hex digits that is not a digest ("sha256:<hex>",
 * "sha256__<hex>") with "***": in a server's text such a run is a request signature (SWR's
 * HMAC-SHA256 of the very request it quotes back) or a key, not something to read. Returns s. */
char *imgsync__text_redact_hex(char *s);

#endif
