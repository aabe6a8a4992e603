/*
 * The row field table (internal): one line per field of an image row. It drives the row
 * storage, the public imgsync_image_* getters and the generic field API, the provider's
 * imgsync_record_set_* setters, the change comparison and the JSON keys (and later the SQL
 * columns), so that a field is added in one place. Append only: the public field numbers are
 * the positions here.
 *
 * X(name, json_key, kind, role)
 *   kind  STRING, SIZE (int64, -1 = unknown), TIME (ms since the epoch, >= 0), BOOL (0/1)
 *   role  KEY      part of the row's identity, set when the row is created
 *         PART     the scope partition: identity, set by the provider
 *         DERIVED  computed from the row's type (no storage of its own)
 *         DATA     content set by the provider; compared to detect updates
 *         SYNC     set by the core at commit; not compared
 */
#ifndef IMGSYNC_INVENTORY_FIELDS_H
#define IMGSYNC_INVENTORY_FIELDS_H

#define IMGSYNC__ROW_FIELDS(X)                                   \
    X(registry, "registry", STRING, KEY)                         \
    X(registry_type, "registry_type", STRING, DERIVED)           \
    X(image_type, "image_type", STRING, DERIVED)                 \
    X(host, "host", STRING, DATA)                                \
    X(namespace, "namespace", STRING, DATA)                      \
    X(repository, "repository", STRING, KEY)                     \
    X(tag, "tag", STRING, KEY)                                   \
    X(digest, "digest", STRING, DATA)                            \
    X(size, "size", SIZE, DATA)                                  \
    X(update_ms, "latest_update_time", TIME, DATA)               \
    X(sync_ms, "latest_sync_time", TIME, SYNC)                   \
    X(media_type, "media_type", STRING, DATA)                    \
    X(artifact_type, "artifact_type", STRING, DATA)              \
    X(multi_arch, "multi_arch", BOOL, DATA)                      \
    X(partition, "partition", STRING, PART)                      \
    X(owner, "owner", STRING, DATA)                              \
    X(share_status, "share_status", STRING, DATA)                \
    X(instance_id, "instance_id", STRING, DATA)                  \
    X(instance_name, "instance_name", STRING, DATA)              \
    X(platforms, "platforms", STRING, DATA)                      \
    X(created_ms, "created", TIME, DATA)                         \
    X(first_seen_ms, "first_seen_time", TIME, SYNC)

/* Field numbers: IMGSYNC__F_registry, IMGSYNC__F_host, ... */
enum {
#define IMGSYNC__FIELD_ENUM(name, key, kind, role) IMGSYNC__F_##name,
    IMGSYNC__ROW_FIELDS(IMGSYNC__FIELD_ENUM)
#undef IMGSYNC__FIELD_ENUM
    IMGSYNC__NFIELDS
};

enum { IMGSYNC__K_STRING = 1, IMGSYNC__K_SIZE, IMGSYNC__K_TIME, IMGSYNC__K_BOOL };
enum { IMGSYNC__R_KEY = 1, IMGSYNC__R_PART, IMGSYNC__R_DERIVED, IMGSYNC__R_DATA, IMGSYNC__R_SYNC };

typedef struct imgsync__field {
    const char *name; /* C name: imgsync_image_<name> */
    const char *key;  /* JSON key */
    int kind;         /* IMGSYNC__K_* */
    int role;         /* IMGSYNC__R_* */
} imgsync__field;

/* The table as data, indexed by field number. */
extern const imgsync__field imgsync__fields[IMGSYNC__NFIELDS];

#endif
