/*
 * libimgsync - keep an inventory of the images held in container registries.
 *
 * This umbrella header includes the whole public API (the headers in include/imgsync/); the provider SPI for
 * adding registry kinds is imgsync/sys/provider.h, the clock seam imgsync/sys/clock.h.
 *
 * The headers are the specification. Conventions:
 *  - opaque handles only; every fallible call returns 0 or a negative IMGSYNC_E* code;
 *  - out-parameters come first; `**out` results belong to the caller and are released with the
 *    matching `_free()`, which accepts NULL;
 *  - a returned `const char *` is borrowed (see "Strings and lifetimes" below);
 *  - thread rules are libcurl's: a handle is used by one thread at a time. Task snapshots are
 *    immutable and may be read from any thread; imgsync_task_get() may be called from any thread
 *    while another thread drives the context.
 *  - no call ever puts a password, token or secret key in an error message or status text.
 *
 * Strings and lifetimes (for callers and binding authors):
 *  - Every string given to or returned by the library is UTF-8 and NUL-terminated; there is no
 *    length argument, so a string cannot hold a NUL byte (a binding must refuse one rather than
 *    let C cut the string there). Input strings are copied before the call returns. Returned
 *    text is valid UTF-8 without control characters: text that came from a server is
 *    validated and sanitized first (registry names are ASCII in practice).
 *  - A returned `const char *` is never NULL unless its declaration says so (imgsync_type_*_name
 *    and imgsync_image_field_name past the end), is never freed by the caller, and stays valid:
 *      static text (imgsync_version, imgsync_strerror, imgsync_task_state_name,
 *        imgsync_type_registry_name / _image_name, imgsync_image_field_name): for the life of
 *        the process (while the library is loaded);
 *      imgsync_ctx_errmsg: until the calling thread's next call on that context or on one of
 *        its providers, or until that thread uses four other contexts (it lives in a small
 *        per-thread table). Copy it right after the failing call, on the same thread;
 *      imgsync_provider_name / _kind: until imgsync_provider_free or imgsync_ctx_free;
 *      an image from imgsync_iter_next and every string of it: until the next imgsync_iter_next
 *        or imgsync_iter_free on that iterator, whichever comes first;
 *      a change from imgsync_changes_next, its imgsync_change_image and their strings: until
 *        the next imgsync_changes_next or imgsync_changes_free;
 *      the strings of a task snapshot (imgsync_task_get / _get_latest): until imgsync_task_free
 *        of that snapshot (the snapshot is a copy: it stays valid after the task ends and after
 *        imgsync_ctx_free);
 *      a task of imgsync_task_list_at and its strings: until imgsync_task_list_free (never pass
 *        it to imgsync_task_free);
 *      imgsync_schedule_request_json: until imgsync_schedule_list_free;
 *      the event of an imgsync_event_fn and imgsync_event_registry: until the callback returns.
 *    A binding copies each row into its own objects before asking for the next one.
 *  - Iterators (imgsync_iter, imgsync_changes) and lists (task list, schedule list) must be
 *    freed before their context; handles returned through `**out` are the caller's.
 */
#ifndef IMGSYNC_H
#define IMGSYNC_H

#include "imgsync/export.h"
#include "imgsync/version.h"
#include "imgsync/errors.h"
#include "imgsync/ctx.h"
#include "imgsync/provider.h"
#include "imgsync/request.h"
#include "imgsync/task.h"
#include "imgsync/inventory.h"
#include "imgsync/schedule.h"
#include "imgsync/event.h"

#endif /* IMGSYNC_H */
