"""Exceptions: one ImgsyncError subclass per IMGSYNC_E* code."""
from ._lib import lib
from .constants import Error
from .strings import dec


class ImgsyncError(Exception):
    """A libimgsync call failed.

    code     the negative IMGSYNC_E* code (an Error member when known)
    name     its C name, e.g. "IMGSYNC_EAUTH"
    strerror imgsync_strerror(code), static English text
    message  imgsync_ctx_errmsg() read on the failing thread right after the call ("" for calls
             without a context, such as those on a Request)
    """

    def __init__(self, code, message=""):
        try:
            code = Error(code)
            name = "IMGSYNC_" + code.name
        except ValueError:
            name = f"IMGSYNC_E({code})"
        self.code, self.name, self.message = code, name, message
        self.strerror = dec(lib.imgsync_strerror(int(code)))
        super().__init__(f"{self.strerror}: {message}" if message else self.strerror)


class InvalidArgument(ImgsyncError, ValueError): pass        # noqa: E701 EINVAL
class OutOfMemory(ImgsyncError, MemoryError): pass           # noqa: E701 ENOMEM
class NotFound(ImgsyncError, LookupError): pass              # noqa: E701 ENOTFOUND
class AlreadyExists(ImgsyncError): pass                      # noqa: E701 EEXISTS
class AuthError(ImgsyncError): pass                          # noqa: E701 EAUTH
class NetworkError(ImgsyncError): pass                       # noqa: E701 ENETWORK
class Timeout(ImgsyncError, TimeoutError): pass              # noqa: E701 ETIMEOUT
class ProtocolError(ImgsyncError): pass                      # noqa: E701 EPROTOCOL
class HttpError(ImgsyncError): pass                          # noqa: E701 EHTTP
class TooBig(ImgsyncError): pass                             # noqa: E701 ETOOBIG
class Canceled(ImgsyncError): pass                           # noqa: E701 ECANCELED
class Unsupported(ImgsyncError): pass                        # noqa: E701 EUNSUPPORTED
class VersionError(ImgsyncError): pass                       # noqa: E701 EVERSION
class Busy(ImgsyncError): pass                               # noqa: E701 EBUSY
class StoreError(ImgsyncError): pass                         # noqa: E701 ESTORE
class InsecureError(ImgsyncError): pass                           # noqa: E701 EINSECURE
class PartialError(ImgsyncError): pass                            # noqa: E701 EPARTIAL
class InternalError(ImgsyncError): pass                      # noqa: E701 EINTERNAL


BY_CODE = {
    Error.EINVAL: InvalidArgument, Error.ENOMEM: OutOfMemory, Error.ENOTFOUND: NotFound,
    Error.EEXISTS: AlreadyExists, Error.EAUTH: AuthError, Error.ENETWORK: NetworkError,
    Error.ETIMEOUT: Timeout, Error.EPROTOCOL: ProtocolError, Error.EHTTP: HttpError,
    Error.ETOOBIG: TooBig, Error.ECANCELED: Canceled, Error.EUNSUPPORTED: Unsupported,
    Error.EVERSION: VersionError, Error.EBUSY: Busy, Error.ESTORE: StoreError,
    Error.EINSECURE: InsecureError, Error.EPARTIAL: PartialError, Error.EINTERNAL: InternalError,
}


def error(code, message=""):
    """The exception for a negative return code."""
    return BY_CODE.get(code, ImgsyncError)(code, message)


def check(rc, ctx_ptr=None):
    """Raise for a negative rc, with the context's errmsg (same thread, right after the call)."""
    if rc < 0:
        raise error(rc, dec(lib.imgsync_ctx_errmsg(ctx_ptr)) if ctx_ptr else "")
    return rc
