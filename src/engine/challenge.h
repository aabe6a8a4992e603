/* WWW-Authenticate challenge parsing (internal). */
#ifndef IMGSYNC_ENGINE_CHALLENGE_H
#define IMGSYNC_ENGINE_CHALLENGE_H

typedef struct imgsync__challenge {
    char *scheme;  /* lower-cased auth scheme: "bearer", "basic", ... */
    char *realm;   /* parameters, unquoted and unescaped; NULL when absent */
    char *service;
    char *scope;
    char *error;
} imgsync__challenge;

/*
 * Parse a WWW-Authenticate header value (RFC 7235): `Bearer realm="https://a/token",
 * service="registry.docker.io",scope="repository:x/y:pull,push"`; parameter names are
 * case-insensitive, values token or quoted-string (with \" escapes, commas inside quotes kept).
 * When the value lists several challenges, the first Bearer one is chosen, else the first.
 * 0, IMGSYNC_EPROTOCOL (empty or malformed), IMGSYNC_ENOMEM. On error *c is left cleared.
 */
int imgsync__challenge_parse(const char *value, imgsync__challenge *c);
void imgsync__challenge_clear(imgsync__challenge *c);

#endif
