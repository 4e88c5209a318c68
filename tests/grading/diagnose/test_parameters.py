"""Parameters: how the endpoint declares the message, told from its declaration (no sandbox)."""

from __future__ import annotations

from grader.grading.report import FixPatch

from .support import HELLO, HI, case, code_spans, first_diagnosis, program

REFUSED = {"detail": [{"type": "missing", "loc": ["body", "msg"], "msg": "Field required", "input": None}]}


def refused(name: str, sent: dict) -> object:
    return case(name, sent, REFUSED, status=422)


def test_body_embed_is_named_and_removed():
    """The headline case: no more "declare it as `msg: dict`" to a line that already says so."""
    source = program(
        '@app.post("/message")',
        "def echo(msg: dict = Body(embed=True)):",
        '    return {"received": msg}',
        imports="from fastapi import Body, FastAPI",
    )
    first, _ = first_diagnosis(source, refused("hello", HELLO), refused("hi", HI))
    assert first.cause == "body_embed" and first.line == 7
    said = first.title + first.explanation + first.fix
    assert "embed=True" in said and '{"msg": {...}}' in said
    assert "msg: dict" not in code_spans(first.fix)
    assert first.fix_patch == FixPatch(7, "def echo(msg: dict = Body(embed=True)):", "def echo(msg: dict = Body()):")


def test_a_simple_type_is_read_from_the_query_string():
    source = program('@app.post("/message")', "def echo(msg):", '    return {"received": msg}')
    first, _ = first_diagnosis(source, refused("hello", HELLO))
    assert first.cause == "query_parameter" and first.line == 7
    assert "query string" in first.explanation
    assert first.fix_patch == FixPatch(7, "def echo(msg):", "def echo(msg: dict):")


def test_a_narrow_annotation_is_quoted_and_widened():
    source = program('@app.post("/message")', "def echo(msg: dict[str, str]):", '    return {"received": msg}')
    first, _ = first_diagnosis(source, refused("every-json-type", {"n": 3}))
    assert first.cause == "wrong_annotation" and "`dict[str, str]`" in first.title
    assert first.fix_patch is not None and first.fix_patch.after == "def echo(msg: dict):"


def test_refusals_the_declaration_does_not_explain_get_no_code():
    """`msg: dict` already takes any object: no rule's evidence holds, so the symptom is told, without code."""
    source = program('@app.post("/message")', "def echo(msg: dict):", '    return {"received": msg}')
    odd = {"detail": [{"type": "value_error", "loc": ["body"], "msg": "something else", "input": None}]}
    first, _ = first_diagnosis(source, case("hello", HELLO, odd, status=422))
    assert first.cause == "refused_valid" and first.line == 7
    assert first.fix_patch is None and "`" not in first.fix


def test_a_request_body_read_by_hand_points_at_the_read():
    source = program(
        '@app.post("/message")',
        "async def echo(request: Request):",
        "    data = await request.json()",
        '    return {"received": data}',
        imports="from fastapi import FastAPI, Request",
    )
    array = case("array", [1, 2], {"received": [1, 2]}, expected_status=422)
    first, _ = first_diagnosis(source, array)
    assert first.cause == "accepts_non_objects" and first.line == 8


def test_a_dataclass_body_keeps_only_its_fields():
    source = program(
        "@dataclass",
        "class Message:",
        "    text: str",
        "",
        "",
        '@app.post("/message")',
        "async def echo(msg: Message):",
        '    return {"received": msg}',
        imports="from dataclasses import dataclass\n\nfrom fastapi import FastAPI",
    )
    missing = {"detail": [{"type": "missing", "loc": ["body", "text"], "msg": "Field required", "input": {}}]}
    dropped = case("extra", {"text": "Hi", "sender": "ada"}, {"received": {"text": "Hi"}})
    first, diagnoses = first_diagnosis(source, dropped, case("empty", {}, missing, status=422))
    assert first.cause == "model_fields" and len(diagnoses) == 1
    assert first.line == source.splitlines().index("class Message:") + 1
    assert "dataclass `Message`" in first.title and "declares only `text`" in first.explanation
    assert "refused 1 message" in first.explanation and "dropped the other fields" in first.explanation
    assert first.fix_patch is not None and first.fix_patch.after == "async def echo(msg: dict):"


def test_a_model_read_as_an_object_gets_no_edit():
    source = program(
        "class Message(BaseModel):",
        "    text: str",
        "",
        "",
        '@app.post("/message")',
        "async def echo(msg: Message):",
        '    return {"received": msg.model_dump()}',
        imports="from fastapi import FastAPI\nfrom pydantic import BaseModel",
    )
    first, _ = first_diagnosis(source, case("extra", {"text": "Hi", "sender": "ada"}, {"received": {"text": "Hi"}}))
    assert first.cause == "model_fields" and "pydantic model `Message`" in first.title
    assert first.fix_patch is None
