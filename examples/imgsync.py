#!/usr/bin/env python3
"""A small Python ctypes binding of libimgsync, and a command that syncs one registry with it.

    python3 examples/imgsync.py ENDPOINT [USERNAME]      (password in $IMGSYNC_PASSWORD)

It shows that the C API binds through FFI without a compiler: opaque handles, int return
codes, getters instead of struct fields, no varargs.
"""
import ctypes
import ctypes.util
import os
import sys


def load_library():
    here = os.path.dirname(os.path.abspath(__file__))
    for path in (os.environ.get("IMGSYNC_LIBRARY"),
                 os.path.join(here, "..", "build", "libimgsync.so.1"),
                 ctypes.util.find_library("imgsync")):
        if path and (os.path.exists(path) or not os.path.isabs(path)):
            try:
                return ctypes.CDLL(path)
            except OSError:
                continue
    raise OSError("libimgsync.so.1 not found (set IMGSYNC_LIBRARY)")


lib = load_library()
P, S, I, U64, I64 = ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int, ctypes.c_uint64, ctypes.c_int64
for name, res, args in [
    ("imgsync_version", S, []),
    ("imgsync_strerror", S, [I]),
    ("imgsync_ctx_new", I, [ctypes.POINTER(P), S]),
    ("imgsync_ctx_free", None, [P]),
    ("imgsync_ctx_errmsg", S, [P]),
    ("imgsync_provider_new", I, [ctypes.POINTER(P), P, S, S]),
    ("imgsync_provider_set", I, [P, S, S]),
    ("imgsync_request_new", I, [ctypes.POINTER(P)]),
    ("imgsync_request_free", None, [P]),
    ("imgsync_sync_start", I, [P, P, ctypes.POINTER(U64)]),
    ("imgsync_task_wait", I, [P, U64, I]),
    ("imgsync_task_get", I, [ctypes.POINTER(P), P, U64]),
    ("imgsync_task_free", None, [P]),
    ("imgsync_task_state_of", I, [P]),
    ("imgsync_task_state_name", S, [I]),
    ("imgsync_task_registry_count", ctypes.c_size_t, [P]),
    ("imgsync_task_registry_reason", S, [P, ctypes.c_size_t]),
    ("imgsync_iter_new", I, [ctypes.POINTER(P), P, P]),
    ("imgsync_iter_next", P, [P]),
    ("imgsync_iter_free", None, [P]),
    ("imgsync_image_repository", S, [P]),
    ("imgsync_image_tag", S, [P]),
    ("imgsync_image_digest", S, [P]),
    ("imgsync_image_size", I64, [P]),
]:
    fn = getattr(lib, name)
    fn.restype, fn.argtypes = res, args


class ImgsyncError(Exception):
    pass


def check(rc, ctx=None):
    if rc < 0:
        detail = lib.imgsync_ctx_errmsg(ctx).decode() if ctx else ""
        raise ImgsyncError(f"{lib.imgsync_strerror(rc).decode()}: {detail}")
    return rc


def sync(endpoint, username=None, password=None):
    """Sync one OCI registry; return (state name, reasons, [(repo, tag, digest, size)])."""
    ctx, prov, req, task = P(), P(), P(), P()
    check(lib.imgsync_ctx_new(ctypes.byref(ctx), None))
    try:
        check(lib.imgsync_provider_new(ctypes.byref(prov), ctx, b"oci", b"registry"), ctx)
        check(lib.imgsync_provider_set(prov, b"endpoint", endpoint.encode()), ctx)
        if username:
            check(lib.imgsync_provider_set(prov, b"username", username.encode()), ctx)
            check(lib.imgsync_provider_set(prov, b"password", (password or "").encode()), ctx)
        check(lib.imgsync_request_new(ctypes.byref(req)))
        tid = U64()
        check(lib.imgsync_sync_start(ctx, req, ctypes.byref(tid)), ctx)
        check(lib.imgsync_task_wait(ctx, tid, -1), ctx)
        check(lib.imgsync_task_get(ctypes.byref(task), ctx, tid), ctx)
        state = lib.imgsync_task_state_name(lib.imgsync_task_state_of(task)).decode()
        reasons = [lib.imgsync_task_registry_reason(task, i).decode()
                   for i in range(lib.imgsync_task_registry_count(task))]
        images, it = [], P()
        check(lib.imgsync_iter_new(ctypes.byref(it), ctx, None), ctx)
        while True:
            im = lib.imgsync_iter_next(it)
            if not im:
                break
            images.append((lib.imgsync_image_repository(im).decode(), lib.imgsync_image_tag(im).decode(),
                           lib.imgsync_image_digest(im).decode(), lib.imgsync_image_size(im)))
        lib.imgsync_iter_free(it)
        return state, reasons, images
    finally:
        lib.imgsync_task_free(task)
        lib.imgsync_request_free(req)
        lib.imgsync_ctx_free(ctx)


def main(argv):
    if len(argv) not in (2, 3):
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    state, reasons, images = sync(argv[1], argv[2] if len(argv) == 3 else None,
                                  os.environ.get("IMGSYNC_PASSWORD"))
    for repo, tag, digest, size in images:
        print(f"{repo}:{tag} {digest} {size}")
    print(f"libimgsync {lib.imgsync_version().decode()}: task {state}" +
          "".join(f"; {r}" for r in reasons if r), file=sys.stderr)
    return 0 if state == "succeeded" else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
