/* Clocks and timestamp parsing (internal). */
#ifndef IMGSYNC_UTIL_TIMEUTIL_H
#define IMGSYNC_UTIL_TIMEUTIL_H

#include <stdint.h>

/* The system's wall clock (ms since the epoch, UTC) and monotonic clock (ms). Only the system
 * clock object (util/clock.c) calls these: everything else reads time through a clock. */
int64_t imgsync__system_now_ms(void);
int64_t imgsync__system_mono_ms(void);
/*
 * RFC 3339 / ISO 8601 date-time to ms since the epoch: "2020-06-11T15:08:50.890Z",
 * "2017-09-11T03:00:02.542841141Z" (any number of fraction digits, truncated to ms),
 * "2020-06-25T10:21:17.488+03:00", "2018-07-06T06:18:55Z", 't'/'z' and a space instead of 'T'
 * accepted. Year 1 ("0001-01-01T00:00:00Z", Harbor's "never") gives *out = 0.
 * 0 or IMGSYNC_EINVAL (out untouched) for anything else, including out-of-range fields.
 */
int imgsync__parse_rfc3339_ms(const char *s, int64_t *out);
/* HTTP-date (IMF-fixdate "Sun, 06 Nov 1994 08:49:37 GMT"; also RFC 850 and asctime forms) to
 * ms since the epoch. 0 or IMGSYNC_EINVAL. */
int imgsync__parse_http_date(const char *s, int64_t *out);

#endif
