/* Every row of an internal store, for the store suites (the library reads rows only through
 * query cursors; this collects one into an array). */
#ifndef IMGSYNC_TESTS_STORE_ROWS_H
#define IMGSYNC_TESTS_STORE_ROWS_H

#include <stddef.h>

#include "inventory/store.h"

/* Every row in the inventory order, each with a reference of the caller's (dropped with
 * imgsync__image_unref), read through a query cursor that selects everything; *out malloc'd
 * (also when empty). 0 or the cursor's error (then *out holds the rows read before it). */
int store_rows(imgsync__store *s, struct imgsync_image ***out, size_t *n);

#endif
