#!/usr/bin/env python3
"""Sync one OCI registry with the Python binding (bindings/python) and print its images.

    python3 examples/imgsync.py ENDPOINT [USERNAME]      (password in $IMGSYNC_PASSWORD)

Run it from the source tree after `make` (the package finds build/libimgsync.so.1), or with the
package installed and $IMGSYNC_LIBRARY or an installed libimgsync.so.1.
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "bindings", "python"))
import imgsync  # noqa: E402


def sync(endpoint, username=None, password=None):
    """Sync one OCI registry; return (task, [Image])."""
    with imgsync.Context() as ctx:
        options = {"endpoint": endpoint}
        if username:
            options.update(username=username, password=password or "")
        ctx.add_provider("oci", "registry", **options)
        task = ctx.sync()
        with ctx.images() as rows:
            return task, list(rows)


def main(argv):
    if len(argv) not in (2, 3):
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    try:
        task, images = sync(argv[1], argv[2] if len(argv) == 3 else None, os.environ.get("IMGSYNC_PASSWORD"))
    except imgsync.ImgsyncError as e:
        print(f"imgsync.py: {e}", file=sys.stderr)
        return 1
    for im in images:
        print(f"{im.repository}:{im.tag} {im.digest} {im.size}")
    print(f"libimgsync {imgsync.version()}: task {task.state_name}" +
          "".join(f"; {r.reason}" for r in task.registries if r.reason), file=sys.stderr)
    return 0 if task.state == imgsync.TaskState.SUCCEEDED else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
