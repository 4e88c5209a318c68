"""Parameters: how the endpoint takes the request's body."""

from __future__ import annotations

from grader.grading.compare import json_type
from grader.grading.diagnose.responses import NOT_JSON, parse_body
from grader.grading.diagnose.source import Source
from grader.grading.diagnose.wording import Context, Rule, Words
from grader.grading.report import CaseResult


def _accepts_non_objects(c: Context) -> Words:
    cases, text, path = c.cases, c.text, c.path
    line = text.endpoint(path)
    sent = ", ".join(sorted({_kind_of_body(case) for case in cases}))
    return Words(
        "Your endpoint accepts bodies that are not JSON objects",
        f"The grader sent {sent} and expected 422 Unprocessable Entity, the answer FastAPI gives by itself when a "
        "body does not fit the parameter's type. Your endpoint took them in instead.",
        "Declare the body parameter as a dict, `msg: dict`, and let FastAPI refuse everything else.",
        line,
    )


def _kind_of_body(case: CaseResult) -> str:
    parsed = parse_body(case.request.body)
    if parsed is NOT_JSON:
        return "broken JSON"
    return {"array": "an array", "string": "a bare string"}.get(json_type(parsed), f"a JSON {json_type(parsed)}")


def _refused_valid(c: Context) -> Words:
    text, path = c.text, c.path
    line = text.endpoint(path)
    return Words(
        "Your endpoint refuses valid messages (422)",
        "FastAPI refused some of the grader's JSON objects with 422 before your function ran: the type of your "
        "endpoint's parameter does not accept every object.",
        "Declare the parameter as `msg: dict`, which takes any JSON object.",
        line,
    )


def _model_fields(c: Context) -> Words:
    text = c.text
    line = text.find(r"class\s+\w+\s*\(\s*(pydantic\.)?BaseModel\s*\)")
    return Words(
        "Your pydantic model keeps only the fields it declares",
        "Your endpoint reads the body through a pydantic model. A model keeps only the fields it declares and "
        "refuses (422) objects that lack one, so messages with other fields lose them and messages without "
        "them are refused. The exercise sends objects of any shape.",
        "Declare the parameter as `msg: dict` instead of the model, so every field comes back exactly as sent.",
        line,
    )


def _json_not_awaited(c: Context) -> Words:
    text = c.text
    line = unawaited_json_line(text)
    return Words(
        "`request.json()` is not awaited",
        "`request.json()` does not give the data straight away: it gives a coroutine, a promise of the data that "
        "only `await` fulfils. Your endpoint used that coroutine as if it were the message, so it crashed and "
        "FastAPI answered 500 Internal Server Error.",
        "Write `await request.json()`, or simpler: declare the parameter `msg: dict` and let FastAPI read the body.",
        line,
    )


def not_awaited(cases: list[CaseResult], text: Source) -> bool:
    output = "\n".join(case.program_output or "" for case in cases)
    if "coroutine" in output and ("never awaited" in output or "'coroutine' object" in output):
        return True
    return unawaited_json_line(text) is not None and "coroutine" in output


def unawaited_json_line(text: Source) -> int | None:
    return text.find(r"(?<!await )(?<!await\s\()\b\w+\.(json|body|form)\(\)")


RULES: dict[str, Rule] = {
    "accepts_non_objects": _accepts_non_objects,
    "refused_valid": _refused_valid,
    "model_fields": _model_fields,
    "json_not_awaited": _json_not_awaited,
}
