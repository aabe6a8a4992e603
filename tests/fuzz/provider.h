/*
 * Shared part of the provider harnesses (fuzz_oci.c, fuzz_harbor.c): the fuzz input becomes the
 * responses of a scripted registry, and one sync runs over them with the replay harness
 * (tests/support/replay.h: a real context on the fake transport and fake clock, no network).
 *
 * Input: sections separated by a line "--" (FZ_SEP). Section i answers every request that the
 * harness's route function maps to i, each time it is asked. A section is
 *   [a 3-digit status line]   (default 200)
 *   header lines "Name: value", a blank line, then the body;
 * a section without a blank line is all body, sent with a JSON Content-Type. In a section's
 * text, "@C@" is replaced by the sha256 digest of the body of section `child` (so an index can
 * name a child manifest that verifies) and "@S@" by the digest of its own body.
 */
#ifndef IMGSYNC_FUZZ_PROVIDER_H
#define IMGSYNC_FUZZ_PROVIDER_H

#include <openssl/sha.h>
#include <stdio.h>

#include "common.h"
#include "imgsync.h"
#include "support/replay.h"

#define FZ_SEP "\n--\n"
#define FZ_MAX_SECTIONS 8
#define FZ_ENDPOINT "https://reg.example.com"

typedef struct fz_section {
    int status;
    char *headers;
    char *body;
    size_t body_len;
} fz_section;

typedef struct fz_registry {
    fz_section s[FZ_MAX_SECTIONS];
    int (*route)(const char *method, const char *url); /* section index, or -1: not found */
} fz_registry;

static inline void fz_digest(const char *body, size_t len, char out[72])
{
    unsigned char md[SHA256_DIGEST_LENGTH];
    SHA256((const unsigned char *)body, len, md);
    memcpy(out, "sha256:", 7);
    for (int i = 0; i < SHA256_DIGEST_LENGTH; i++)
        snprintf(out + 7 + 2 * i, 3, "%02x", md[i]);
}

/* Replace every `token` in the n bytes at *p (malloc'd) by `value`; *n is updated. */
static inline void fz_subst(char **p, size_t *n, const char *token, const char *value)
{
    size_t tl = strlen(token), vl = strlen(value), count = 0;
    for (size_t i = 0; i + tl <= *n; i++)
        if (!memcmp(*p + i, token, tl))
            count++, i += tl - 1;
    if (!count)
        return;
    char *out = malloc(*n + count * vl + 1), *o = out;
    if (!out)
        abort();
    for (size_t i = 0; i < *n;) {
        if (i + tl <= *n && !memcmp(*p + i, token, tl)) {
            memcpy(o, value, vl), o += vl, i += tl;
        } else {
            *o++ = (*p)[i++];
        }
    }
    *o = '\0';
    free(*p);
    *p = out;
    *n = (size_t)(o - out);
}

static inline void fz_section_parse(fz_section *s, const uint8_t *p, size_t n)
{
    s->status = 200;
    if (n >= 4 && p[0] >= '1' && p[0] <= '5' && p[1] >= '0' && p[1] <= '9' && p[2] >= '0' && p[2] <= '9' &&
        p[3] == '\n') {
        s->status = (p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0');
        p += 4, n -= 4;
    }
    size_t blank = n;
    for (size_t i = 0; i + 1 < n && blank == n; i++)
        if (p[i] == '\n' && p[i + 1] == '\n')
            blank = i;
    if (blank < n) {
        s->headers = fz_strndup(p, blank);
        p += blank + 2, n -= blank + 2;
    } else {
        s->headers = fz_strndup("Content-Type: application/json; charset=utf-8", 46);
    }
    s->body = fz_strndup(p, n);
    s->body_len = n;
}

/* Fill reg->s from the input; section `child` is the one "@C@" refers to (-1: none). */
static inline void fz_registry_parse(fz_registry *reg, const uint8_t *data, size_t size, int child)
{
    size_t seplen = strlen(FZ_SEP), start = 0;
    int k = 0;
    while (k < FZ_MAX_SECTIONS) {
        size_t end = start;
        while (end < size && !(end + seplen <= size && !memcmp(data + end, FZ_SEP, seplen)))
            end++;
        fz_section_parse(&reg->s[k++], data + start, end - start);
        if (end >= size)
            break;
        start = end + seplen;
    }
    for (; k < FZ_MAX_SECTIONS; k++) /* missing sections: 404 */
        fz_section_parse(&reg->s[k], (const uint8_t *)"404\n\n", 5);
    char d[72];
    if (child >= 0) {
        fz_digest(reg->s[child].body, reg->s[child].body_len, d);
        for (int i = 0; i < FZ_MAX_SECTIONS; i++)
            if (i != child)
                fz_subst(&reg->s[i].body, &reg->s[i].body_len, "@C@", d);
    }
    for (int i = 0; i < FZ_MAX_SECTIONS; i++) {
        size_t hl = strlen(reg->s[i].headers);
        fz_digest(reg->s[i].body, reg->s[i].body_len, d);
        fz_subst(&reg->s[i].headers, &hl, "@S@", d);
    }
}

static inline void fz_registry_free(fz_registry *reg)
{
    for (int i = 0; i < FZ_MAX_SECTIONS; i++) {
        free(reg->s[i].headers);
        free(reg->s[i].body);
    }
}

/* The fake transport's answer for every request (none is scripted): the routed section. */
static inline void fz_answer(void *ud, const fake_request *q, fake_reply *out)
{
    const fz_registry *reg = ud;
    int i = reg->route(q->method, q->url);
    if (i < 0 || i >= FZ_MAX_SECTIONS) {
        out->status = 404;
        out->headers = "Content-Type: application/json";
        out->body = "{\"errors\":[{\"code\":\"NAME_UNKNOWN\",\"message\":\"not known\"}]}";
        return;
    }
    const fz_section *s = &reg->s[i];
    out->status = s->status;
    out->headers = s->headers;
    out->body = s->body_len ? s->body : NULL;
    out->body_len = s->body_len;
}

/* One sync of a provider of `kind` over the input (options: NULL-terminated key, value pairs). */
static inline void fz_run_provider(const char *kind, const char *const *options, const uint8_t *data, size_t size,
                                   int (*route)(const char *, const char *), int child)
{
    fz_registry reg;
    memset(&reg, 0, sizeof(reg));
    reg.route = route;
    fz_registry_parse(&reg, data, size, child);
    replay *r = replay_new();
    if (!r)
        abort();
    imgsync_provider *p = replay_add_provider(r, kind, "fz", FZ_ENDPOINT);
    if (!p)
        abort();
    for (size_t i = 0; options && options[i]; i += 2)
        if (imgsync_provider_set(p, options[i], options[i + 1]) != 0)
            abort();
    fake_set_fallback(replay_transport(r), fz_answer, &reg);
    uint64_t id = 0;
    (void)replay_sync(r, NULL, &id);
    /* read the inventory back, as an application would */
    int debug = getenv("FUZZ_DEBUG") != NULL; /* to check what a corpus file reaches */
    imgsync_iter *it = NULL;
    if (imgsync_iter_new(&it, replay_ctx(r), NULL) == 0) {
        const imgsync_image *im;
        while ((im = imgsync_iter_next(it)) != NULL) {
            (void)strlen(imgsync_image_digest(im));
            if (debug)
                fprintf(stderr, "row %s:%s %s\n", imgsync_image_repository(im), imgsync_image_tag(im),
                        imgsync_image_digest(im));
        }
        imgsync_iter_free(it);
    }
    if (debug) {
        char *log = replay_log_text(r);
        imgsync_task *t = NULL;
        if (imgsync_task_get(&t, replay_ctx(r), id) == 0 && imgsync_task_registry_count(t) > 0)
            fprintf(stderr, "registry: %s\n", imgsync_task_registry_reason(t, 0));
        imgsync_task_free(t);
        fprintf(stderr, "%s", log ? log : "");
        free(log);
    }
    replay_free(r);
    fz_registry_free(&reg);
}

#endif
