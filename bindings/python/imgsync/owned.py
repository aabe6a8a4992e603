"""Owned: a Python object that owns one C handle and frees it exactly once."""


class Owned:
    """Freed by close(), at the end of a with block, or when collected. Subclasses set _ptr,
    _free (the C destructor) and _what (for the error on use after close)."""
    _ptr = None
    _free = None
    _what = "object"

    def _handle(self):
        if not self._ptr:
            raise ValueError(f"the {self._what} is closed")
        return self._ptr

    def close(self):
        ptr, self._ptr = self._ptr, None
        if ptr:
            self._free(ptr)

    def __del__(self):
        self.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
