"""Request: which registries, types, repositories and tags a sync or an inventory read selects."""
import ctypes

from . import _lib
from ._lib import lib
from .constants import FilterField, FilterMode
from .errors import check
from .owned import Owned
from .strings import enc


class Request(Owned):
    """An imgsync_request (a plain value, copied by the calls that take it).

    Every keyword is optional; an empty Request selects everything:
        Request(types=[Type.OCI], providers=["prod"], repositories={"prod": ["library/nginx"]},
                filters=[(FilterField.TAG, "v*", FilterMode.INCLUDE)], max_tags=5,
                include_non_images=False, updated_since_ms=0)
    Builder methods return the request. Errors carry no errmsg (the C request has no context).
    """
    _free = lib.imgsync_request_free
    _what = "request"

    def __init__(self, types=(), providers=(), repositories=None, filters=(), max_tags=None,
                 include_non_images=None, updated_since_ms=None):
        self._ptr = ctypes.POINTER(_lib.Request)()
        check(lib.imgsync_request_new(ctypes.byref(self._ptr)))
        for t in types:
            self.add_type(t)
        for p in providers:
            self.add_provider(p)
        for provider, repos in (repositories or {}).items():
            for r in repos:
                self.add_repository(provider, r)
        for f in filters:
            self.add_filter(*f)
        if max_tags is not None:
            self.set_max_tags(max_tags)
        if include_non_images is not None:
            self.set_include_non_images(include_non_images)
        if updated_since_ms is not None:
            self.set_updated_since(updated_since_ms)

    def add_type(self, type_):
        check(lib.imgsync_request_add_type(self._handle(), int(type_)))
        return self

    def add_provider(self, name):
        check(lib.imgsync_request_add_provider(self._handle(), enc(name)))
        return self

    def add_repository(self, provider, repository):
        check(lib.imgsync_request_add_repository(self._handle(), enc(provider), enc(repository)))
        return self

    def add_filter(self, field, pattern, mode=FilterMode.INCLUDE):
        check(lib.imgsync_request_add_filter(self._handle(), int(FilterField(field)), enc(pattern), int(mode)))
        return self

    def set_max_tags(self, n):
        if not 0 <= n <= 0xFFFFFFFF:
            raise ValueError("max_tags must be 0..2**32-1")  # c_uint would wrap a negative value
        check(lib.imgsync_request_set_max_tags(self._handle(), n))
        return self

    def set_include_non_images(self, include=True):
        check(lib.imgsync_request_set_include_non_images(self._handle(), 1 if include else 0))
        return self

    def set_updated_since(self, ms):
        check(lib.imgsync_request_set_updated_since(self._handle(), ms))
        return self


def handle(req):
    """The C pointer for an optional Request argument (None = NULL = everything)."""
    return None if req is None else req._handle()
