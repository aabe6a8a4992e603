/* imgsync: JSON on stdout or stderr (yajl generators writing as they go). */
#include "cli/output.h"

#include <stdlib.h>
#include <string.h>

static void print_to_file(void *file, const char *s, size_t len)
{
    fwrite(s, 1, len, (FILE *)file);
}

yajl_gen json_open(FILE *f, int pretty)
{
    yajl_gen g = yajl_gen_alloc(NULL);

    if (g == NULL)
        return NULL;
    yajl_gen_config(g, yajl_gen_print_callback, print_to_file, (void *)f);
    yajl_gen_config(g, yajl_gen_validate_utf8, 1);
    if (pretty) {
        yajl_gen_config(g, yajl_gen_beautify, 1);
        yajl_gen_config(g, yajl_gen_indent_string, "  ");
    }
    return g;
}

/*
 * A string as JSON. yajl escapes C0 controls; C1 controls and bytes that are not UTF-8 become
 * '?' as on the terminal, so that the output is valid JSON and safe to display.
 */
int json_str(yajl_gen g, const char *s)
{
    yajl_gen_status st;
    char *copy;

    if (text_is_clean(s, 1))
        return yajl_gen_string(g, (const unsigned char *)s, strlen(s)) == yajl_gen_status_ok ? 0 : -1;
    if ((copy = format("%s", s)) == NULL)
        return -1;
    sanitize_text(copy, 1);
    st = yajl_gen_string(g, (const unsigned char *)copy, strlen(copy));
    free(copy);
    return st == yajl_gen_status_ok ? 0 : -1;
}

int json_key_str(yajl_gen g, const char *key, const char *value)
{
    return json_str(g, key) != 0 || json_str(g, value) != 0 ? -1 : 0;
}

/* An integer; null when negative ("not known"). */
int json_key_int(yajl_gen g, const char *key, int64_t value)
{
    if (json_str(g, key) != 0)
        return -1;
    return (value < 0 ? yajl_gen_null(g) : yajl_gen_integer(g, (long long)value)) ==
                   yajl_gen_status_ok
               ? 0
               : -1;
}

/* A time in ms since the epoch; null for 0 (not reached, not known). */
int json_key_ms(yajl_gen g, const char *key, int64_t ms)
{
    return json_key_int(g, key, ms > 0 ? ms : -1);
}

int json_open_map(yajl_gen g)
{
    return yajl_gen_map_open(g) == yajl_gen_status_ok ? 0 : -1;
}

int json_close_map(yajl_gen g)
{
    return yajl_gen_map_close(g) == yajl_gen_status_ok ? 0 : -1;
}

/* Field i of the image: a string, an integer (null when negative: "not known", e.g. a size
 * that was not resolved, so that nobody adds it up), or a boolean. */
static int gen_field(yajl_gen g, const imgsync_image *im, size_t i)
{
    const char *key = imgsync_image_field_name(i);

    switch (imgsync_image_field_kind(i)) {
    case IMGSYNC_FIELD_STRING:
        return json_key_str(g, key, imgsync_image_field_string(im, i));
    case IMGSYNC_FIELD_INT:
        return json_key_int(g, key, imgsync_image_field_int(im, i));
    case IMGSYNC_FIELD_BOOL:
        return json_str(g, key) != 0 ||
                       yajl_gen_bool(g, imgsync_image_field_int(im, i) != 0) != yajl_gen_status_ok
                   ? -1
                   : 0;
    default:
        return json_str(g, key) != 0 || yajl_gen_null(g) != yajl_gen_status_ok ? -1 : 0;
    }
}

int json_image_fields(yajl_gen g, const imgsync_image *im)
{
    size_t i, n = imgsync_image_field_count();

    for (i = 0; i < n; i++)
        if (gen_field(g, im, i) != 0)
            return -1;
    return 0;
}

/* Ends a compact top-level value with a newline (beautify adds its own). */
void json_end_line(yajl_gen g, FILE *f, int pretty)
{
    (void)f;
    if (!pretty)
        yajl_gen_reset(g, "\n"); /* ends the line, ready for the next value */
}

int json_print_items(void *state, int (*next)(void *state), int (*item)(yajl_gen g, void *state), int ndjson)
{
    int more = next(state), failed = 0;
    yajl_gen g;

    if (!ndjson && !more) {
        fputs("[]\n", stdout); /* yajl would spread an empty array over three lines */
        return 0;
    }
    if ((g = json_open(stdout, !ndjson)) == NULL)
        return -1;
    if (!ndjson)
        failed = yajl_gen_array_open(g) != yajl_gen_status_ok;
    for (; more && !failed; more = next(state)) {
        failed = item(g, state) != 0;
        if (ndjson)
            json_end_line(g, stdout, 0);
    }
    if (!ndjson && !failed)
        failed = yajl_gen_array_close(g) != yajl_gen_status_ok; /* beautify adds the '\n' */
    yajl_gen_free(g);
    return failed ? -1 : 0;
}

int json_list_next(void *state)
{
    json_list *l = state;

    if (l->begun)
        l->i++;
    l->begun = 1;
    return l->i < l->n;
}
