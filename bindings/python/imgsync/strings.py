"""UTF-8 conversion at the C boundary.

In: str is encoded UTF-8 (strict: a lone surrogate raises UnicodeEncodeError); bytes pass as
they are. A NUL character raises ValueError: C would silently cut the string there (a password
"a\\0b" must not become "a").
Out: bytes are decoded UTF-8 with errors="surrogateescape". The library only returns valid
UTF-8 (server text is validated), so this never alters text; should it ever meet an invalid
byte, the value still round-trips to the same bytes instead of raising in the middle of an
iteration.
"""


def enc(s):
    """str/bytes/None -> bytes/None for a `const char *` argument."""
    if s is None:
        return None
    if isinstance(s, str):
        s = s.encode("utf-8")
    elif not isinstance(s, bytes):
        raise TypeError(f"expected str, bytes or None, not {type(s).__name__}")
    if b"\0" in s:
        raise ValueError("string contains a NUL character")
    return s


def dec(b):
    """bytes/None (a returned `const char *`, copied by ctypes) -> str/None."""
    return None if b is None else b.decode("utf-8", "surrogateescape")
