/*
 * Doublestar glob matching.
 *
 * The pattern is compiled into a small automaton whose states are byte positions in the pattern,
 * and the text is run through it one character at a time while tracking the set of live states
 * (a Thompson-style simulation). Braces become epsilon edges, so alternatives are tried in
 * parallel instead of by backtracking: the work is O(strlen(text) * strlen(pattern)) for any
 * pattern, with no recursion and no allocation (patterns are capped at GLOB_MAX_LEN bytes, so
 * every table lives on the stack).
 */
#include "glob.h"

#include <stdint.h>
#include <string.h>

#include "imgsync.h"

#define GLOB_MAX_LEN 1024

/* What the token starting at a pattern position does. Positions inside a token (the second byte
 * of "\x", the body of a class, the tail of a star run) are never states. */
enum glob_kind {
    GK_LIT,    /* one literal byte (possibly escaped); a1 = next position */
    GK_ANY,    /* '?'; a1 = next position */
    GK_CLASS,  /* '[...]'; a1 = position after ']' */
    GK_STAR,   /* '*': loops on non-'/' bytes; a1 = position after the star */
    GK_DSTAR,  /* '**' (or longer run): loops on any byte; a1 = position after the run */
    GK_LBRACE, /* '{': epsilon to each alternative; a1 = first separator, a2 = matching '}' */
    GK_COMMA,  /* ',' inside braces: end of an alternative; a1 = next separator, a2 = '}' */
    GK_RBRACE, /* '}' closing a brace: epsilon to the next position */
    GK_END     /* end of pattern: accepting state */
};

typedef struct glob_prog {
    const unsigned char *pat;
    size_t len;
    unsigned char kind[GLOB_MAX_LEN + 1];
    uint16_t a1[GLOB_MAX_LEN + 1];
    uint16_t a2[GLOB_MAX_LEN + 1];
} glob_prog;

/*
 * Position after the ']' closing the class that opens at pat[p] == '[', or 0 when unclosed.
 * A ']' right after '[' or '[!' / '[^' is a literal member (so "[]]" and "[!]]" are classes),
 * and '\' escapes the next byte inside a class too.
 */
static size_t class_end(const unsigned char *pat, size_t p)
{
    size_t q = p + 1;
    if (pat[q] == '!' || pat[q] == '^')
        q++;
    if (pat[q] == ']')
        q++;
    for (;;) {
        if (pat[q] == '\0')
            return 0;
        if (pat[q] == '\\') {
            if (pat[q + 1] == '\0')
                return 0;
            q += 2;
            continue;
        }
        if (pat[q] == ']')
            return q + 1;
        q++;
    }
}

/* Build the state tables; 0 or IMGSYNC_EINVAL for a malformed pattern. */
static int glob_compile(glob_prog *g, const char *pattern)
{
    if (!pattern)
        return IMGSYNC_EINVAL;
    /* strnlen: never walk a huge pattern just to reject it. */
    size_t len = strnlen(pattern, GLOB_MAX_LEN + 1);
    if (len > GLOB_MAX_LEN)
        return IMGSYNC_EINVAL;
    const unsigned char *pat = (const unsigned char *)pattern;
    g->pat = pat;
    g->len = len;

    /* For each open brace: its position and the last separator seen, to chain the separators. */
    uint16_t open[GLOB_MAX_LEN];
    uint16_t prev[GLOB_MAX_LEN];
    size_t depth = 0;

    size_t p = 0;
    while (p < len) {
        size_t q;
        switch (pat[p]) {
        case '\\':
            if (p + 1 >= len)
                return IMGSYNC_EINVAL; /* trailing backslash escapes nothing */
            g->kind[p] = GK_LIT;
            g->a1[p] = (uint16_t)(p + 2);
            p += 2;
            break;
        case '?':
            g->kind[p] = GK_ANY;
            g->a1[p] = (uint16_t)(p + 1);
            p++;
            break;
        case '[':
            q = class_end(pat, p);
            if (!q)
                return IMGSYNC_EINVAL;
            g->kind[p] = GK_CLASS;
            g->a1[p] = (uint16_t)q;
            p = q;
            break;
        case '*':
            for (q = p; q < len && pat[q] == '*'; q++)
                ;
            g->kind[p] = q - p >= 2 ? GK_DSTAR : GK_STAR;
            g->a1[p] = (uint16_t)q;
            p = q;
            break;
        case '{':
            open[depth] = (uint16_t)p;
            prev[depth] = (uint16_t)p;
            depth++;
            g->kind[p] = GK_LBRACE;
            p++;
            break;
        case ',':
            if (depth) {
                g->kind[p] = GK_COMMA;
                g->a1[prev[depth - 1]] = (uint16_t)p;
                prev[depth - 1] = (uint16_t)p;
            } else {
                g->kind[p] = GK_LIT; /* ',' outside braces is an ordinary byte */
                g->a1[p] = (uint16_t)(p + 1);
            }
            p++;
            break;
        case '}':
            if (depth) {
                depth--;
                g->a1[prev[depth]] = (uint16_t)p;
                /* Tell the '{' and every ',' of this brace where it closes. */
                for (q = open[depth]; q != p; q = g->a1[q])
                    g->a2[q] = (uint16_t)p;
                g->kind[p] = GK_RBRACE;
            } else {
                g->kind[p] = GK_LIT;
                g->a1[p] = (uint16_t)(p + 1);
            }
            p++;
            break;
        default:
            g->kind[p] = GK_LIT;
            g->a1[p] = (uint16_t)(p + 1);
            p++;
            break;
        }
    }
    if (depth)
        return IMGSYNC_EINVAL; /* unclosed '{' */
    g->kind[len] = GK_END;
    return 0;
}

/* Does byte c belong to the (well-formed) class starting at pat[p] == '['? Never for '/'. */
static int class_match(const unsigned char *pat, size_t p, unsigned char c)
{
    if (c == '/')
        return 0;
    size_t q = p + 1;
    int negate = 0;
    if (pat[q] == '!' || pat[q] == '^') {
        negate = 1;
        q++;
    }
    int hit = 0;
    int first = 1; /* a leading ']' is a member, not the end */
    while (first || pat[q] != ']') {
        first = 0;
        unsigned char lo = pat[q];
        if (lo == '\\')
            lo = pat[++q];
        q++;
        unsigned char hi = lo;
        /* "a-z" is a range; a '-' just before the closing ']' is a literal member. */
        if (pat[q] == '-' && pat[q + 1] != ']') {
            hi = pat[++q];
            if (hi == '\\')
                hi = pat[++q];
            q++;
        }
        if (lo <= c && c <= hi)
            hit = 1;
    }
    return hit != negate;
}

/* Working storage for one match: two state lists, a closure stack and membership marks. */
typedef struct glob_sets {
    uint16_t list[2][GLOB_MAX_LEN + 1];
    uint16_t stack[GLOB_MAX_LEN + 1];
    unsigned char mark[GLOB_MAX_LEN + 1];
} glob_sets;

/* Add state p and everything reachable from it without consuming input to list/n.
 * mark[] keeps each state in the list at most once, which also bounds the stack. */
static void add_state(const glob_prog *g, glob_sets *s, uint16_t *list, size_t *n, size_t p)
{
    size_t sp = 0;
#define GLOB_PUSH(x)                                                                               \
    do {                                                                                           \
        size_t x_ = (x);                                                                           \
        if (!s->mark[x_]) {                                                                        \
            s->mark[x_] = 1;                                                                       \
            s->stack[sp++] = (uint16_t)x_;                                                         \
        }                                                                                          \
    } while (0)

    GLOB_PUSH(p);
    while (sp) {
        size_t q = s->stack[--sp];
        list[(*n)++] = (uint16_t)q;
        switch (g->kind[q]) {
        case GK_STAR:
        case GK_DSTAR:
            GLOB_PUSH(g->a1[q]); /* a star may match the empty run */
            break;
        case GK_LBRACE:
            /* Alternatives start right after the '{' and after each ','. */
            GLOB_PUSH(q + 1);
            for (size_t sep = g->a1[q]; sep != g->a2[q]; sep = g->a1[sep])
                GLOB_PUSH(sep + 1);
            break;
        case GK_COMMA:
            GLOB_PUSH((size_t)g->a2[q] + 1); /* an alternative ended: continue after the '}' */
            break;
        case GK_RBRACE:
            GLOB_PUSH(q + 1);
            break;
        default:
            break;
        }
    }
#undef GLOB_PUSH
}

static void clear_marks(glob_sets *s, const uint16_t *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        s->mark[list[i]] = 0;
}

int imgsync__glob_match(const char *pattern, const char *text)
{
    glob_prog g;
    glob_sets s;
    if (!text || glob_compile(&g, pattern))
        return 0;
    memset(s.mark, 0, g.len + 1);

    uint16_t *cur = s.list[0];
    uint16_t *next = s.list[1];
    size_t ncur = 0;
    add_state(&g, &s, cur, &ncur, 0);
    clear_marks(&s, cur, ncur);

    for (const unsigned char *t = (const unsigned char *)text; *t; t++) {
        unsigned char c = *t;
        size_t nnext = 0;
        for (size_t i = 0; i < ncur; i++) {
            size_t q = cur[i];
            unsigned char lit;
            switch (g.kind[q]) {
            case GK_LIT:
                lit = g.pat[q] == '\\' ? g.pat[q + 1] : g.pat[q];
                if (lit == c)
                    add_state(&g, &s, next, &nnext, g.a1[q]);
                break;
            case GK_ANY:
                if (c != '/')
                    add_state(&g, &s, next, &nnext, g.a1[q]);
                break;
            case GK_CLASS:
                if (class_match(g.pat, q, c))
                    add_state(&g, &s, next, &nnext, g.a1[q]);
                break;
            case GK_STAR:
                if (c != '/')
                    add_state(&g, &s, next, &nnext, q);
                break;
            case GK_DSTAR:
                add_state(&g, &s, next, &nnext, q);
                break;
            default: /* epsilon-only states and the end consume nothing */
                break;
            }
        }
        clear_marks(&s, next, nnext);
        if (!nnext)
            return 0; /* no live state: no suffix can match */
        uint16_t *tmp = cur;
        cur = next;
        next = tmp;
        ncur = nnext;
    }
    for (size_t i = 0; i < ncur; i++)
        if (cur[i] == g.len)
            return 1;
    return 0;
}

int imgsync__glob_valid(const char *pattern)
{
    glob_prog g;
    return glob_compile(&g, pattern) ? IMGSYNC_EINVAL : 0;
}

int imgsync__glob_is_literal(const char *pattern)
{
    if (!pattern)
        return 0;
    /* A '\' makes the pattern non-literal even though "\x" names one string: callers use a
     * literal pattern verbatim as a name, which would keep the backslash. Over-long patterns
     * match nothing, so they do not name a string either. */
    size_t len = strnlen(pattern, GLOB_MAX_LEN + 1);
    if (len > GLOB_MAX_LEN)
        return 0;
    return strpbrk(pattern, "*?[{\\") == NULL;
}
