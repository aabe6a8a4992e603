/* JFrog AQL queries and answers (see jfrog_aql.h). */
#include "jfrog_aql.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "imgsync.h"
#include "util/buf.h"
#include "util/json.h"
#include "util/names.h"
#include "util/timeutil.h"

char *imgsync__aql_query(int what, const char *repo, long offset, long limit)
{
    /* the key goes into a JSON string unescaped: only label characters may */
    if (!repo || !imgsync__name_label_ok(repo) || offset < 0 || limit < 1)
        return NULL;
    if (what == IMGSYNC__AQL_MANIFESTS)
        return imgsync__asprintf(
            "items.find({\"$and\":[{\"repo\":{\"$eq\":\"%s\"}},{\"$or\":[{\"name\":{\"$eq\":\"manifest.json\"}},"
            "{\"name\":{\"$eq\":\"list.manifest.json\"}}]}]})"
            ".include(\"repo\",\"path\",\"name\",\"size\",\"created\",\"modified\",\"updated\",\"sha256\",\"property\")"
            ".sort({\"$asc\":[\"path\",\"name\"]}).offset(%ld).limit(%ld)",
            repo, offset, limit);
    return imgsync__asprintf("items.find({\"$and\":[{\"repo\":{\"$eq\":\"%s\"}},{\"name\":{\"$match\":\"sha256__*\"}}]})"
                             ".include(\"repo\",\"path\",\"name\",\"size\")"
                             ".sort({\"$asc\":[\"path\",\"name\"]}).offset(%ld).limit(%ld)",
                             repo, offset, limit);
}

/* A size as a number or a numeric string (JFrog's samples show both); -1 otherwise. */
static int64_t size_of(yajl_val r)
{
    int64_t n;
    if (!imgsync__json_int(r, "size", &n))
        return n >= 0 ? n : -1;
    const char *s = imgsync__json_string(r, "size");
    long long v;
    return s && !imgsync__parse_i64(s, 0, INT64_MAX, &v) ? (int64_t)v : -1;
}

/* The docker.* properties the rows need. */
static void read_properties(yajl_val r, imgsync__aql_item *it)
{
    yajl_val props = imgsync__json_array(r, "properties");
    for (size_t i = 0; props && i < props->u.array.len; i++) {
        const char *k = imgsync__json_string(props->u.array.values[i], "key");
        const char *v = imgsync__json_string(props->u.array.values[i], "value");
        if (!k || !v)
            continue;
        if (!strcmp(k, "docker.manifest.digest"))
            it->digest = v;
        else if (!strcmp(k, "docker.manifest.type"))
            it->media_type = v;
    }
}

/* A time member in ms since the epoch; 0 when absent or not a time. */
static int64_t time_of(yajl_val r, const char *key)
{
    const char *t = imgsync__json_string(r, key);
    int64_t ms;
    return t && !imgsync__parse_rfc3339_ms(t, &ms) ? ms : 0;
}

static int read_item(yajl_val r, imgsync__aql_item *it)
{
    memset(it, 0, sizeof(*it));
    if (!YAJL_IS_OBJECT(r))
        return IMGSYNC_EPROTOCOL;
    it->path = imgsync__json_string(r, "path");
    it->name = imgsync__json_string(r, "name");
    if (!it->path || !it->name)
        return IMGSYNC_EPROTOCOL;
    it->size = size_of(r);
    it->modified_ms = time_of(r, "modified");
    it->created_ms = time_of(r, "created");
    it->sha256 = imgsync__json_string(r, "sha256");
    read_properties(r, it);
    return 0;
}

int imgsync__aql_parse(const char *body, size_t len, imgsync__aql_page *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof(*out));
    char jerr[64];
    yajl_val root = imgsync__json_parse(body, len, jerr, sizeof(jerr));
    yajl_val results = root ? imgsync__json_array(root, "results") : NULL;
    out->root = root;
    if (!results) {
        snprintf(err, errlen, "AQL answer has no results array");
        return IMGSYNC_EPROTOCOL;
    }
    size_t n = results->u.array.len;
    out->items = n ? calloc(n, sizeof(*out->items)) : NULL;
    if (n && !out->items)
        return IMGSYNC_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        if (read_item(results->u.array.values[i], &out->items[i])) {
            snprintf(err, errlen, "AQL result %zu is not an item with a path and a name", i);
            return IMGSYNC_EPROTOCOL;
        }
    }
    out->n = n;
    return 0;
}

void imgsync__aql_page_free(imgsync__aql_page *p)
{
    imgsync__json_free(p->root);
    free(p->items);
    memset(p, 0, sizeof(*p));
}
