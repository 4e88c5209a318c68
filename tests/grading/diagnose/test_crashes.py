"""Crashes: the exception told in the learner's terms, from their own line (no sandbox)."""

from __future__ import annotations

from grader.grading.report import FixPatch

from .support import HELLO, HI, case, first_diagnosis, program, traceback


def crashed(name: str, sent: dict, output: str) -> object:
    return case(name, sent, {"detail": "Internal Server Error"}, status=500, output=output)


def test_a_set_literal_is_a_comma_where_the_colon_goes():
    source = program('@app.post("/message")', "def receive_message(msg: dict):", '    return {"received", msg}')
    output = traceback(8, 'return {"received", msg}', "TypeError: unhashable type: 'dict'")
    first, _ = first_diagnosis(source, crashed("hello", HELLO, output), crashed("hi", HI, output))
    assert first.cause == "set_literal" and first.line == 8
    assert first.fix_patch is not None and first.fix_patch.after.strip() == 'return {"received": msg}'
    assert "Fix the line the error points at" not in first.fix


def test_a_missing_global_is_named():
    source = program(
        "count = 0",
        "",
        "",
        '@app.post("/message")',
        "def receive_message(msg: dict):",
        "    count += 1",
        '    return {"received": msg}',
    )
    output = traceback(
        11,
        "count += 1",
        "UnboundLocalError: cannot access local variable 'count' where it is not associated with a value",
    )
    first, _ = first_diagnosis(source, crashed("hello", HELLO, output))
    assert first.cause == "missing_global" and first.line == 11 and "global" in first.fix


def test_an_error_the_framework_raised_is_not_blamed_on_the_function():
    source = program(
        '@app.post("/message", response_model=list)',
        "def receive_message(msg: dict):",
        '    return {"received": msg}',
    )
    output = (
        "Traceback (most recent call last):\n"
        "  … 12 frames inside uvicorn, starlette, fastapi …\n"
        "fastapi.exceptions.ResponseValidationError: 1 validation errors:\n"
        "  {'type': 'list_type', 'loc': ('response',), 'msg': 'Input should be a valid list', 'input': {}}\n"
    )
    first, _ = first_diagnosis(source, crashed("hello", HELLO, output))
    assert "your endpoint function raised" not in first.explanation.lower()
    assert first.line == 6 and first.cause == "response_model"


def test_an_exception_no_rule_explains_is_described_without_code():
    source = program('@app.post("/message")', "def receive_message(msg: dict):", '    return {"received": helper(msg)}')
    output = traceback(8, 'return {"received": helper(msg)}', "ZeroDivisionError: division by zero")
    first, _ = first_diagnosis(source, crashed("hello", HELLO, output))
    assert first.cause == "crash" and first.line == 8
    assert "ZeroDivisionError" in first.explanation
    assert first.fix_patch is None and "`" not in first.fix
    assert "Fix the line the error points at" not in first.fix


def test_the_message_under_another_name():
    source = program('@app.post("/message")', "def receive_message(payload: dict):", '    return {"received": msg}')
    output = traceback(8, 'return {"received": msg}', "NameError: name 'msg' is not defined")
    first, _ = first_diagnosis(source, crashed("hello", HELLO, output))
    assert first.cause == "misspelt_name" and "`payload`" in first.title
    assert first.fix_patch is not None and first.fix_patch.after == '    return {"received": payload}'


def test_a_module_of_the_standard_library_never_imported_is_not_the_message_misspelt():
    source = program(
        '@app.post("/message")', "def receive_message(msg: dict):", '    return {"received": copy.deepcopy(msg)}'
    )
    output = traceback(8, 'return {"received": copy.deepcopy(msg)}', "NameError: name 'copy' is not defined")
    first, _ = first_diagnosis(source, crashed("hello", HELLO, output))
    assert first.cause == "missing_import" and first.line == 8 and "`import copy`" in first.fix
    assert "`msg` instead of" not in first.fix
    assert first.fix_patch == FixPatch(1, "from fastapi import FastAPI", "import copy\nfrom fastapi import FastAPI")


def test_an_async_helper_called_without_await():
    source = program(
        "async def make_reply(msg: dict) -> dict:",
        '    return {"received": msg}',
        "",
        "",
        '@app.post("/message")',
        "async def receive_message(msg: dict):",
        "    return make_reply(msg)",
    )
    output = traceback(12, "return make_reply(msg)", "TypeError: 'coroutine' object is not iterable")
    first, _ = first_diagnosis(source, crashed("hello", HELLO, output))
    assert first.cause == "coroutine_not_awaited" and first.line == 12
    assert first.fix_patch is not None and first.fix_patch.after == "    return await make_reply(msg)"


def test_asyncio_run_inside_the_endpoint_becomes_await():
    source = program(
        "async def make_reply(msg: dict) -> dict:",
        '    return {"received": msg}',
        "",
        "",
        '@app.post("/message")',
        "async def receive_message(msg: dict):",
        "    reply = asyncio.run(make_reply(msg))",
        "    return reply",
        imports="import asyncio\nfrom fastapi import FastAPI",
    )
    output = traceback(
        13,
        "reply = asyncio.run(make_reply(msg))",
        "RuntimeError: asyncio.run() cannot be called from a running event loop",
    )
    first, _ = first_diagnosis(source, crashed("hello", HELLO, output))
    assert first.line == 13 and "RuntimeError" in first.explanation
    assert first.fix_patch is not None and first.fix_patch.after == "    reply = await make_reply(msg)"


def test_a_framework_error_no_rule_explains_is_not_blamed_on_the_function():
    source = program('@app.post("/message")', "def receive_message(msg: dict):", '    return {"received": msg}')
    output = (
        "Traceback (most recent call last):\n"
        "  … 12 frames inside uvicorn, starlette, fastapi …\n"
        "RuntimeError: something inside the framework\n"
    )
    first, _ = first_diagnosis(source, crashed("hello", HELLO, output))
    assert "your endpoint function raised" not in first.explanation.lower()
    assert "No line of yours was running" in first.explanation and first.fix_patch is None


def test_an_exception_raised_inside_a_library_the_line_calls_is_not_blamed_on_the_line_s_own_code():
    # A helper of another module (no rule knows it) is handed the dict and fails on `.encode`:
    # the line never reads `.encode`, so no "use brackets" advice; the call's arguments are the lead.
    source = program(
        "from helpers import pack",
        "",
        '@app.post("/message")',
        "def receive_message(msg: dict):",
        '    return pack({"received": msg})',
    )
    output = (
        "ERROR:    Exception in ASGI application\n"
        "Traceback (most recent call last):\n"
        "  … 9 frames inside uvicorn, starlette, fastapi …\n"
        '  File "solution.py", line 10, in receive_message\n'
        '    return pack({"received": msg})\n'
        "  … 2 frames inside helpers …\n"
        "AttributeError: 'dict' object has no attribute 'encode'\n"
    )
    first, _ = first_diagnosis(source, crashed("hello", HELLO, output), crashed("hi", HI, output))
    assert first.line == 10
    assert 'msg["encode"]' not in first.fix and "brackets" not in first.fix
    assert "given something it cannot take" in first.title and "values your line hands it" in first.explanation
