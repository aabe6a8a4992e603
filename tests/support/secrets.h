/* Test secrets: make them, and keep them out of what a test prints. */
#ifndef IMGSYNC_TESTS_SECRETS_H
#define IMGSYNC_TESTS_SECRETS_H

/* A random printable secret "<prefix><32 hex digits>" (from /dev/urandom), malloc'd, or NULL. */
char *ts_random_secret(const char *prefix);
/* Copy of text with every occurrence of secret replaced by "***" (malloc'd): safe to print. */
char *ts_mask(const char *text, const char *secret);
/* 1 when text holds some 8 bytes of secret (any window): a secret cut short is still found. */
int ts_holds_part_of(const char *text, const char *secret);

#endif
