"""Conversions: the call that changes the message is named on the learner's line (no sandbox)."""

from __future__ import annotations

from grader.grading.report import FixPatch

from .support import HELLO, case, first_diagnosis, program


def test_json_dumps_of_the_message_is_named_at_its_line():
    """The headline case: not "no str(), int(), round()", but the learner's own json.dumps."""
    source = program(
        '@app.post("/message")',
        "def echo(msg: dict):",
        '    return {"received": json.dumps(msg)}',
        imports="import json\nfrom fastapi import FastAPI",
    )
    first, _ = first_diagnosis(source, case("hello", HELLO, {"received": '{"text": "Hello"}'}))
    assert first.cause == "json_dumps_value" and first.line == 9
    assert "`json.dumps(msg)`" in first.title and "round()" not in first.fix
    assert first.fix_patch == FixPatch(9, '    return {"received": json.dumps(msg)}', '    return {"received": msg}')


def test_converted_values_name_the_call():
    source = program(
        '@app.post("/message")',
        "def echo(msg: dict):",
        '    return {"received": {key: str(value) for key, value in msg.items()}}',
    )
    first, _ = first_diagnosis(source, case("numbers", {"n": 3}, {"received": {"n": "3"}}))
    assert first.cause == "coerced" and first.line == 8
    assert "`str(value)`" in first.explanation


def test_a_change_no_code_explains_is_described_without_code():
    source = program('@app.post("/message")', "def echo(msg: dict):", '    return {"received": msg}')
    first, _ = first_diagnosis(source, case("numbers", {"n": 3}, {"received": {"n": "3"}}))
    assert first.cause == "coerced" and first.line == 8
    assert first.fix_patch is None and "`" not in first.fix


def test_a_slice_is_named_as_the_change():
    source = program(
        '@app.post("/message")',
        "def echo(msg: dict):",
        '    msg["text"] = msg["text"][:3]',
        '    return {"received": msg}',
    )
    first, _ = first_diagnosis(source, case("hello", HELLO, {"received": {"text": "Hel"}}))
    assert first.cause == "changed" and first.line == 8 and "`[:3]`" in first.fix


def test_a_loop_that_only_converts_values_is_deleted_not_kept_as_self_assignment():
    """Without ``str``, ``msg[key] = msg[key]`` would do nothing: the edit deletes the loop."""
    source = program(
        '@app.post("/message")',
        "def echo(msg: dict):",
        "    for key in msg:",
        "        msg[key] = str(msg[key])",
        '    return {"received": msg}',
    )
    first, _ = first_diagnosis(source, case("numbers", {"n": 3}, {"received": {"n": "3"}}))
    assert first.cause == "coerced" and first.line == 9
    assert first.fix_patch == FixPatch(8, "    for key in msg:\n        msg[key] = str(msg[key])", "")
    assert "delete the loop" in first.fix and "lines 8–9" in first.fix
    patched = first.fix_patch.apply(source)
    assert patched is not None and "for key" not in patched and 'return {"received": msg}' in patched


def test_a_conversion_line_beside_others_is_deleted_alone():
    source = program(
        '@app.post("/message")',
        "def echo(msg: dict):",
        '    msg["n"] = str(msg["n"])',
        '    return {"received": msg}',
    )
    first, _ = first_diagnosis(source, case("numbers", {"n": 3}, {"received": {"n": "3"}}))
    assert first.fix_patch == FixPatch(8, '    msg["n"] = str(msg["n"])', "")
    assert "delete the line" in first.fix


def test_a_conversion_into_another_name_keeps_the_line():
    source = program(
        '@app.post("/message")',
        "def echo(msg: dict):",
        '    text = str(msg["n"])',
        '    return {"received": {"n": text}}',
    )
    first, _ = first_diagnosis(source, case("numbers", {"n": 3}, {"received": {"n": "3"}}))
    assert first.fix_patch == FixPatch(8, '    text = str(msg["n"])', '    text = msg["n"]')
