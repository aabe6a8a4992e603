"""The binding declares every header function with the header's types, and every constant with
the header's value; and the check notices when that stops being true."""
import os

import header_check
from imgsync import _lib, constants
from imgsync.constants import Error


def test_binding_matches_headers():
    problems, nfuncs, nconsts = header_check.run()
    assert problems == []
    assert nfuncs == len(_lib.FUNCTIONS) and nfuncs > 100
    assert nconsts > 60


def _parsed():
    texts = []
    for h in header_check.headers(header_check.DEFAULT_ROOT):
        with open(h) as f:
            texts.append(f.read())
    return texts


def test_check_reports_a_function_added_to_a_header():
    texts = _parsed() + ["/* new */\nIMGSYNC_EXTERN int imgsync_thing_new(imgsync_ctx **out,\n"
                         "                                     const char *name);\n"]
    funcs, fntypes, _, _ = header_check.parse(texts)
    problems = header_check.check_functions(funcs, fntypes, _lib.FUNCTIONS)
    assert problems == ["imgsync_thing_new: in the header, not declared by the binding (imgsync/_lib.py FUNCTIONS)"]


def test_check_reports_a_changed_type():
    texts = [t.replace("int imgsync_ctx_perform(imgsync_ctx *ctx, int timeout_ms)",
                       "int imgsync_ctx_perform(imgsync_ctx *ctx, int64_t timeout_ms)") for t in _parsed()]
    funcs, fntypes, _, _ = header_check.parse(texts)
    assert header_check.check_functions(funcs, fntypes, _lib.FUNCTIONS) == \
        ["imgsync_ctx_perform: argument 2 is i64 in the header, i32 in the binding"]
    # a handle of the wrong kind is a difference too
    wrong = [(n, r, [_lib._p(_lib.Ctx)] if n == "imgsync_task_free" else a) for n, r, a in _lib.FUNCTIONS]
    funcs, fntypes, _, _ = header_check.parse(_parsed())
    assert header_check.check_functions(funcs, fntypes, wrong) == \
        ["imgsync_task_free: argument 1 is imgsync_task* in the header, imgsync_ctx* in the binding"]


def test_check_reports_a_callback_signature_change():
    texts = [t.replace("typedef void (*imgsync_event_fn)(const imgsync_event *ev, void *payload);",
                       "typedef int (*imgsync_event_fn)(const imgsync_event *ev, void *payload);") for t in _parsed()]
    funcs, fntypes, _, _ = header_check.parse(texts)
    problems = header_check.check_functions(funcs, fntypes, _lib.FUNCTIONS)
    assert len(problems) == 1 and problems[0].startswith("imgsync_ctx_set_event_callback: argument 2 is fn(i32;")


def test_check_reports_constant_differences():
    _, _, enums, defines = header_check.parse(_parsed())
    values = header_check.c_values(header_check.DEFAULT_ROOT, enums, defines)
    assert values["IMGSYNC_EAUTH"] == -5 and values["IMGSYNC_VERSION_STRING"] == constants.IMGSYNC_VERSION_STRING
    assert header_check.check_constants(enums, values) == []
    values["IMGSYNC_EAUTH"] = -50
    enums = dict(enums, imgsync_new_enum=["IMGSYNC_NEW_A"])
    values["IMGSYNC_NEW_A"] = 1
    problems = header_check.check_constants(enums, values)
    assert "IMGSYNC_EAUTH = -50: Error.EAUTH is -5" in problems
    assert "enum imgsync_new_enum: no IntEnum in imgsync/constants.py C_ENUMS" in problems
    assert "IMGSYNC_NEW_A = 1 in the header, 'missing' in imgsync.constants" in problems


def test_every_header_function_is_exported_and_typed():
    assert _lib.missing == []
    for name, restype, argtypes in _lib.FUNCTIONS:
        fn = getattr(_lib.lib, name)
        assert fn.restype is restype and fn.argtypes == argtypes, name


def test_c_names_of_constants():
    assert constants.IMGSYNC_EAUTH == Error.EAUTH == -5
    assert constants.IMGSYNC_TASK_PARTIAL == 3 and constants.IMGSYNC_EXCLUDE == 2
    assert os.path.isfile(header_check.headers(header_check.DEFAULT_ROOT)[-1])
