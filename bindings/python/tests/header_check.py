#!/usr/bin/env python3
"""Check the Python binding against the C headers.

    python3 bindings/python/tests/header_check.py [--root REPO]

Reads every IMGSYNC_EXTERN declaration, function-pointer typedef, enum and #define of the
headers in HEADERS, and reports (exit status 1):
  - a function of the headers that imgsync._lib.FUNCTIONS does not declare, or declares with
    another return or argument type (compared by ABI: width and signedness of integers, pointer
    depth, the opaque handle's C name, the callback's signature), or one the binding declares
    that no header has, or one the loaded library does not export;
  - an enumerator or #define constant whose value (printed by a small C program compiled
    against the headers with $CC, default cc) differs from imgsync.constants, or is missing
    there; an enum without its IntEnum in imgsync.constants.C_ENUMS.
The provider SPI (imgsync/sys/provider.h) is not bound and not checked.
"""
import argparse
import ctypes
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from imgsync import _lib, constants  # noqa: E402

DEFAULT_ROOT = os.path.normpath(os.path.join(HERE, "..", "..", ".."))
NOT_CONSTANTS = {"IMGSYNC_EXTERN"}


def headers(root):
    d = os.path.join(root, "include", "imgsync")
    files = sorted(os.path.join(d, f) for f in os.listdir(d) if f.endswith(".h"))
    return files + [os.path.join(d, "sys", "clock.h")]


def strip_comments(text):
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    return re.sub(r"//[^\n]*", " ", text)


def code_of(text):
    """The header without comments and preprocessor lines."""
    return "\n".join(l for l in strip_comments(text).splitlines() if not l.lstrip().startswith("#"))


# ---- C declarations --------------------------------------------------------------------------

DECL = re.compile(r"IMGSYNC_EXTERN\s+([^;(]*?)\b(imgsync_\w+)\s*\(([^;]*?)\)\s*;", re.S)
FN_TYPEDEF = re.compile(r"typedef\s+([^;(]*?)\(\s*\*\s*(imgsync_\w+)\s*\)\s*\(([^;]*?)\)\s*;", re.S)
ENUM = re.compile(r"typedef\s+enum\s+(\w+)\s*\{(.*?)\}\s*\w+\s*;", re.S)
DEFINE = re.compile(r"^\s*#\s*define\s+(IMGSYNC_\w+)[ \t]+(\S.*)$", re.M)


def split_params(params):
    params = " ".join(params.split())
    if params in ("", "void"):
        return []
    return [p.strip() for p in params.split(",")]


def param_type(p):
    """'const char *key' -> 'const char *'; 'uint64_t *schedule_id' -> 'uint64_t *'."""
    m = re.match(r"^(.*?[\s*])(\w+)$", p)
    if m and m.group(2) not in ("int", "char", "void", "size_t") and not m.group(2).startswith("imgsync_") \
            and not m.group(2).endswith("_t"):
        return m.group(1)
    return p


def parse(texts):
    """{name: (ret, [arg types])} of the IMGSYNC_EXTERN functions, {typedef: (ret, [args])} of
    the callback typedefs, {enum: [enumerators]}, {define: value text}."""
    funcs, fntypes, enums, defines = {}, {}, {}, {}
    for text in texts:
        code = code_of(text)
        for ret, name, params in DECL.findall(code):
            funcs[name] = (ret.strip(), [param_type(p) for p in split_params(params)])
        for ret, name, params in FN_TYPEDEF.findall(code):
            fntypes[name] = (ret.strip(), [param_type(p) for p in split_params(params)])
        for name, body in ENUM.findall(code):
            enums[name] = [e.split("=")[0].strip() for e in body.split(",") if e.strip()]
        for name, value in DEFINE.findall(strip_comments(text)):
            if name not in NOT_CONSTANTS and not name.endswith("_H"):
                defines[name] = value.strip()
    return funcs, fntypes, enums, defines


# ---- canonical ABI descriptions: "i32", "u64", "char*", "imgsync_ctx**", "fn(void;...)" -----

def _int_desc(t):
    code = t._type_
    return ("u" if code.isupper() or code in "BHILQ" else "i") + str(8 * ctypes.sizeof(t))


SCALARS = {"int": ctypes.c_int, "unsigned int": ctypes.c_uint, "size_t": ctypes.c_size_t,
           "uint64_t": ctypes.c_uint64, "int64_t": ctypes.c_int64}


def c_desc(ctype, fntypes):
    t = " ".join(ctype.replace("*", " * ").split())
    t = re.sub(r"\bconst\b", "", t)
    stars = t.count("*")
    base = " ".join(t.replace("*", " ").split())
    if base in SCALARS:
        d = _int_desc(SCALARS[base])
    elif base in ("void", "char"):
        d = base
    elif base in fntypes:
        ret, args = fntypes[base]
        d = "fn(" + c_desc(ret, fntypes) + ";" + ",".join(c_desc(a, fntypes) for a in args) + ")"
    else:
        d = base  # an opaque handle or a struct: compared by its C name
    return d + "*" * stars


def py_desc(t):
    if t is None:
        return "void"
    if t is ctypes.c_char_p:
        return "char*"
    if t is ctypes.c_void_p:
        return "void*"
    if t is ctypes.c_char:
        return "char"
    if hasattr(t, "_c_name"):
        return t._c_name
    if isinstance(t, type) and issubclass(t, ctypes._Pointer):
        return py_desc(t._type_) + "*"
    if hasattr(t, "_flags_") and hasattr(t, "_argtypes_"):  # a CFUNCTYPE
        return "fn(" + py_desc(t._restype_) + ";" + ",".join(py_desc(a) for a in t._argtypes_) + ")"
    return _int_desc(t)


def check_functions(funcs, fntypes, declared):
    """Problems between the header declarations and the binding's (name, restype, argtypes)."""
    problems = []
    names = [n for n, _, _ in declared]
    by_name = {n: (r, a) for n, r, a in declared}
    for n in sorted({n for n in names if names.count(n) > 1}):
        problems.append(f"{n}: declared twice in the binding")
    for name in sorted(funcs):
        if name not in by_name:
            problems.append(f"{name}: in the header, not declared by the binding (imgsync/_lib.py FUNCTIONS)")
            continue
        ret, args = funcs[name]
        pret, pargs = by_name[name]
        want = [c_desc(ret, fntypes)] + [c_desc(a, fntypes) for a in args]
        got = [py_desc(pret)] + [py_desc(a) for a in pargs]
        if len(want) != len(got):
            problems.append(f"{name}: {len(args)} arguments in the header, {len(pargs)} in the binding")
            continue
        for i, (w, g) in enumerate(zip(want, got)):
            if w != g:
                what = "return type" if i == 0 else f"argument {i}"
                problems.append(f"{name}: {what} is {w} in the header, {g} in the binding")
    for name in sorted(set(by_name) - set(funcs)):
        problems.append(f"{name}: declared by the binding, in no header")
    return problems


# ---- constants ----------------------------------------------------------------------------------

def c_values(root, enums, defines, cc=None):
    """{name: value} as the C compiler sees them (ints, and strings for string macros)."""
    names = [n for ns in enums.values() for n in ns] + sorted(defines)
    lines = []
    for n in names:
        if defines.get(n, "").startswith('"'):
            lines.append(f'    printf("S %s %s\\n", "{n}", {n});')
        else:
            lines.append(f'    printf("I %s %lld\\n", "{n}", (long long)({n}));')
    prog = ("#include <stdio.h>\n#include <imgsync.h>\n#include <imgsync/sys/clock.h>\n"
            "int main(void)\n{\n" + "\n".join(lines) + "\n    return 0;\n}\n")
    with tempfile.TemporaryDirectory(prefix="imgsync-hdr-") as d:
        src, exe = os.path.join(d, "values.c"), os.path.join(d, "values")
        with open(src, "w") as f:
            f.write(prog)
        cc = cc or os.environ.get("CC") or "cc"
        subprocess.run([cc, "-std=c99", "-Wall", "-Werror", "-I", os.path.join(root, "include"), "-o", exe, src],
                       check=True)
        out = subprocess.run([exe], check=True, capture_output=True, text=True).stdout
    values = {}
    for line in out.splitlines():
        kind, name, value = line.split(" ", 2)
        values[name] = int(value) if kind == "I" else value
    return values


def check_constants(enums, values, mod=constants):
    problems = []
    for enum, members in sorted(enums.items()):
        if enum not in mod.C_ENUMS:
            problems.append(f"enum {enum}: no IntEnum in imgsync/constants.py C_ENUMS")
            continue
        cls, prefix = mod.C_ENUMS[enum]
        for name in members:
            short = name[len(prefix):] if name.startswith(prefix) else None
            member = cls.__members__.get(short) if short else None
            if member is None or int(member) != values[name]:
                problems.append(f"{name} = {values[name]}: {cls.__name__}.{short} is "
                                f"{'missing' if member is None else int(member)}")
        if len(cls) != len(members):
            problems.append(f"enum {enum}: {len(members)} enumerators in the header, {len(cls)} in {cls.__name__}")
    for enum in sorted(set(mod.C_ENUMS) - set(enums)):
        problems.append(f"enum {enum}: in imgsync/constants.py C_ENUMS, in no header")
    for name, value in sorted(values.items()):
        if getattr(mod, name, None) != value:
            problems.append(f"{name} = {value!r} in the header, {getattr(mod, name, 'missing')!r} in imgsync.constants")
    return problems


def run(root=DEFAULT_ROOT):
    texts = []
    for h in headers(root):
        with open(h) as f:
            texts.append(f.read())
    funcs, fntypes, enums, defines = parse(texts)
    problems = check_functions(funcs, fntypes, _lib.FUNCTIONS)
    problems += [f"{n}: not exported by {_lib.path}" for n in _lib.missing]
    problems += check_constants(enums, c_values(root, enums, defines))
    return problems, len(funcs), sum(map(len, enums.values())) + len(defines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--root", default=DEFAULT_ROOT, help="repository root (holding include/)")
    a = ap.parse_args()
    problems, nfuncs, nconsts = run(a.root)
    for p in problems:
        print(f"header_check: {p}", file=sys.stderr)
    print(f"header_check: {nfuncs} functions, {nconsts} constants, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
