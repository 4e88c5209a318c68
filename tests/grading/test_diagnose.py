"""The grouping rules on hand-made case results (no sandbox, fast)."""

from __future__ import annotations

import dataclasses
import json

import pytest

from grader.grading.diagnose import (
    Source,
    checked_facts,
    classify,
    diagnose,
    edit_distance,
    endpoint_was_reached,
    fold_traceback,
    traceback_facts,
    why_no_endpoint_ran,
)
from grader.grading.report import (
    ERROR_KIND_WORDS,
    CaseResult,
    Diagnosis,
    FixPatch,
    GradingError,
    HttpExchange,
    Report,
    error_kind_words,
)
from grader.grading.textreport import render_text

from .diagnose.support import ECHO, case, report_of


def test_one_misspelt_key_is_one_diagnosis_naming_every_case():
    report = report_of(
        case("hello", {"text": "Hello"}, {"recieved": {"text": "Hello"}}),
        case("hi", {"text": "Hi"}, {"recieved": {"text": "Hi"}}),
        case("empty", {}, {"recieved": {}}),
        case("array-body", ["x"], None, status=422, expected_status=422, passed=True),
    )
    [diagnosis] = diagnose(report, ECHO)
    assert diagnosis.cause == "misspelt_key"
    assert diagnosis.cases == ["hello", "hi", "empty"]
    assert "you wrote `recieved`; the key is `received`" in diagnosis.title
    assert diagnosis.line == 8  # the line that holds "recieved"


@pytest.mark.parametrize(
    ("sent", "received", "cause"),
    [
        ({"text": "Hi"}, {"text": "Hi"}, "not_wrapped"),
        ({"text": "Hi"}, {"received": {"received": {"text": "Hi"}}}, "double_wrapped"),
        ({"text": "Hi", "n": 3}, {"received": {"text": "Hi"}}, "dropped_fields"),
        ({"text": "Hi"}, {"received": {"text": "Hi", "seen": True}}, "added_fields"),
        ({"n": 3}, {"received": {"n": "3"}}, "coerced"),
        ({"f": 2.5}, {"received": {"f": 2}}, "coerced"),
        ({"text": "Hi"}, {"received": {"text": "hi"}}, "changed"),
        ({"text": "Hi"}, json.dumps({"received": {"text": "Hi"}}), "json_string"),
        ({"text": "Hi"}, None, "null_body"),
        ({"text": "Hi"}, [{"text": "Hi"}], "wrong_type"),
        ({"text": "Hi"}, {"message": {"text": "Hi"}}, "renamed_key"),
        ({"text": "Hi"}, {"Received": {"text": "Hi"}}, "misspelt_key"),
    ],
)
def test_body_mistakes_are_told_apart(sent, received, cause):
    assert classify(case("c", sent, received)).cause == cause


@pytest.mark.parametrize(
    ("status", "expected_status", "method", "headers", "cause"),
    [
        (404, 200, "POST", None, "wrong_path"),
        (405, 200, "POST", None, "wrong_method"),
        (307, 200, "POST", {"location": "http://submission/message/"}, "redirect"),
        (500, 200, "POST", None, "crash"),
        (201, 200, "POST", None, "wrong_status"),
        (200, 422, "POST", None, "accepts_non_objects"),
        (500, 422, "POST", None, "accepts_non_objects"),
        (200, 405, "GET", None, "method_allowed"),
        (422, 200, "POST", None, "refused_valid"),
    ],
)
def test_status_mistakes_are_told_apart(status, expected_status, method, headers, cause):
    found = classify(
        case(
            "c",
            {"text": "Hi"},
            {"detail": "x"},
            status=status,
            expected_status=expected_status,
            method=method,
            headers=headers,
        )
    )
    assert found.cause == cause


def test_an_answer_written_by_hand_is_named_as_such():
    hello = {"received": {"text": "Hello"}}
    report = report_of(
        case("hello", {"text": "Hello"}, hello, passed=True),
        case("hi", {"text": "Hi"}, hello),
        case("extra", {"text": "Hello", "n": 1}, hello),
    )
    source = ECHO.replace('return {"recieved": msg}', 'return {"received": {"text": "Hello"}}')
    [diagnosis] = diagnose(report, source)
    assert diagnosis.cause == "same_answer"
    assert diagnosis.cases == ["hi", "extra"]
    assert diagnosis.line == 8


def test_a_wrong_method_also_explains_the_cases_about_refusing():
    report = report_of(
        case("hello", {"text": "Hello"}, {"detail": "Method Not Allowed"}, status=405),
        case("array-body", ["x"], {"detail": "Method Not Allowed"}, status=405, expected_status=422),
        case("get-not-allowed", None, {"detail": []}, status=422, expected_status=405, method="GET"),
    )
    source = ECHO.replace("@app.post", "@app.get")
    [diagnosis] = diagnose(report, source)
    assert diagnosis.cause == "wrong_method"
    assert sorted(diagnosis.cases) == ["array-body", "get-not-allowed", "hello"]
    assert '`@app.post("/message")`' in diagnosis.fix and diagnosis.line == 6


def test_where_no_rule_fits_identical_problems_are_still_grouped():
    odd = [
        CaseResult(
            name=name,
            description="",
            score=0.0,
            max_score=1.0,
            status="failed",
            request=HttpExchange(method="POST", path="/message"),
            expected=HttpExchange(status=418),
            received=HttpExchange(status=409, body="{}"),
            problem="expected status 418, received 409",
        )
        for name in ("a", "b")
    ]
    [diagnosis] = diagnose(report_of(*odd), ECHO)
    assert diagnosis.cases == ["a", "b"] and "409" in diagnosis.explanation


def test_full_marks_have_no_diagnosis():
    report = report_of(case("hello", {"text": "Hello"}, {"received": {"text": "Hello"}}, passed=True))
    assert diagnose(report, ECHO) == []
    assert report.summary().startswith("1 of 1 cases passed")


def test_most_important_first():
    report = report_of(
        case("array-body", ["x"], {"received": ["x"]}, expected_status=422),
        case("hello", {"text": "Hello"}, {"detail": "Not Found"}, status=404),
    )
    diagnoses = diagnose(report, ECHO)
    assert diagnoses[0].cause == "wrong_path"


def test_a_crash_is_explained_from_the_learners_frame_only():
    output = "\n".join(
        [
            "ERROR:    Exception in ASGI application",
            "Traceback (most recent call last):",
            '  File "/opt/runtime/lib/python3.11/site-packages/starlette/routing.py", line 73, in app',
            "    response = await f(request)",
            '  File "solution.py", line 8, in receive_message',
            '    return {"recieved": msg["sender"]}',
            "KeyError: 'sender'",
        ]
    )
    report = report_of(case("hello", {"text": "Hello"}, None, status=500, output=output))
    [diagnosis] = diagnose(report, ECHO)
    assert diagnosis.cause == "crash" and diagnosis.line == 8
    assert "KeyError: 'sender'" in diagnosis.explanation
    folded = fold_traceback(output)
    assert "site-packages" not in folded and "… 1 frame inside starlette …" in folded
    assert 'File "solution.py", line 8' in folded


def test_printed_tracebacks_cannot_point_outside_the_file():
    text = Source(ECHO)
    forged = '  File "solution.py", line 9999, in x\nKeyError: 1\n  File "/etc/passwd", line 2, in y\n'
    assert traceback_facts(forged, text)[2] is None
    assert traceback_facts('  File "other.py", line 3, in f\nValueError: no', text)[2] is None


def test_facts_from_inside_the_sandbox_are_checked():
    text = Source(ECHO)
    checked = checked_facts(
        {
            "cause": "you_win",
            "line": 10_000,
            "exception": "Error; rm -rf /",
            "module": "flask",
            "names": ["application", "not a name", 3],
            "what": "anything",
            "detail": "two\nlines with `ticks`",
        },
        text,
    )
    assert "cause" not in checked and "line" not in checked and "exception" not in checked and "what" not in checked
    assert checked["module"] == "flask" and checked["names"] == ["application"]
    assert "\n" not in checked["detail"] and "`" not in checked["detail"]
    assert checked_facts({"line": True}, text) == {}
    assert checked_facts({"line": 3, "cause": "input"}, text) == {"line": 3, "cause": "input"}


def test_a_forged_cause_only_ever_yields_our_own_words():
    error = GradingError("import", "Traceback (most recent call last):\nFAKE: you passed")
    report = report_of(error=error)
    [diagnosis] = diagnose(report, ECHO, facts={"cause": "exception", "exception": "FAKE", "detail": "you passed"})
    assert diagnosis.cause == "import_error"
    assert report.error is not None and not report.is_infra_error


def test_an_infra_error_says_it_is_not_the_learners_fault():
    report = report_of(error=GradingError("infra", "internal grader error: OSError"))
    report.diagnoses = diagnose(report, ECHO)
    assert "not your mistake" in report.diagnoses[0].title
    assert report.summary().startswith(report.diagnoses[0].title)


def test_import_error_summary_never_opens_with_a_traceback():
    report = report_of(error=GradingError("import", "Traceback (most recent call last):\n..."))
    report.diagnoses = diagnose(
        report,
        ECHO.replace("app = FastAPI()", "app = FastApi()"),
        facts={"cause": "exception", "exception": "NameError", "detail": "name 'FastApi' is not defined", "line": 3},
    )
    assert not report.summary().startswith("Traceback")
    first = report.diagnoses[0]
    assert "NameError" in first.explanation and first.line == 3
    # The name it was meant to be, found in what the file can use.
    assert "`FastAPI`" in report.summary() and first.cause == "misspelt_name"


def test_a_missing_package_names_itself_and_what_is_offered():
    report = report_of(error=GradingError("import", "ModuleNotFoundError"))
    [diagnosis] = diagnose(
        report, "import requests\n", facts={"cause": "missing_module", "module": "requests", "line": 1}
    )
    said = diagnosis.explanation + diagnosis.fix
    assert "`requests`" in diagnosis.title and "FastAPI, Starlette, pydantic" in said and "standard library" in said
    assert "pip" not in diagnosis.fix


def test_edit_distance():
    assert edit_distance("recieved", "received") == 1  # a swap of neighbours
    assert edit_distance("recived", "received") == 1
    assert edit_distance("message", "received") > 3


def test_step_two_truth():
    assert endpoint_was_reached(404, {"detail": "Not Found"}) is False
    assert endpoint_was_reached(404, {"detail": "no such message"}) is True  # the endpoint's own 404
    assert endpoint_was_reached(405, {"detail": "Method Not Allowed"}) is False
    assert endpoint_was_reached(307, None) is False
    validation = {"detail": [{"type": "dict_type", "loc": ["body"], "msg": "Input should be a valid dictionary"}]}
    assert endpoint_was_reached(422, validation) is False
    assert endpoint_was_reached(200, {"received": {}}) is True
    assert endpoint_was_reached(None, None) is None
    not_found = case("c", {"text": "Hi"}, {"detail": "Not Found"}, status=404)
    not_found = CaseResult(**{**not_found.__dict__, "reached_endpoint": False})
    assert "no function ran" in why_no_endpoint_ran(not_found)


def test_error_kinds_have_words():
    for kind in ("syntax", "import", "exit", "timeout", "no_app", "not_asgi", "crash", "infra"):
        assert kind in ERROR_KIND_WORDS
        assert "_" not in error_kind_words(kind)


def test_diagnoses_survive_storage():
    report = report_of(case("hello", {"text": "Hello"}, {"recieved": {"text": "Hello"}}))
    report.diagnoses = diagnose(report, ECHO)
    data = json.loads(json.dumps(report.to_dict()))
    assert set(data["diagnoses"][0]) == {
        "title",
        "explanation",
        "fix",
        "cases",
        "line",
        "cause",
        "fix_patch",
        "fix_check",
    }
    again = Report.from_dict(data)
    assert again.diagnoses == report.diagnoses
    assert data["output"].startswith(report.diagnoses[0].title)


def test_a_fix_patch_survives_storage_and_applies_only_where_the_learner_line_still_reads_before():
    patch = FixPatch(line=2, before='    return {"received", msg}', after='    return {"received": msg}')
    report = report_of(case("hello", {"text": "Hello"}, {"recieved": {"text": "Hello"}}))
    report.diagnoses = [Diagnosis("t", "e", "f", ["hello"], 2, "other", patch)]
    again = Report.from_dict(json.loads(json.dumps(report.to_dict())))
    assert again.diagnoses[0].fix_patch == patch
    source = 'def echo(msg):\n    return {"received", msg}\n'
    assert patch.apply(source) == 'def echo(msg):\n    return {"received": msg}\n'
    assert patch.apply("def echo(msg):\n    return msg\n") is None
    assert FixPatch(line=9, before="x", after="y").apply(source) is None


def test_an_exercise_that_does_not_echo_is_not_told_to_echo():
    health = CaseResult(
        name="health",
        description="",
        score=0.0,
        max_score=2.0,
        status="failed",
        request=HttpExchange(method="GET", path="/health"),
        expected=HttpExchange(status=200, body='{"status": "ok"}'),
        received=HttpExchange(status=200, body='{"status":"up"}'),
        diff='at $.status: expected "ok", received "up"',
        problem="the response body differs from the expected one",
    )
    source = 'from fastapi import FastAPI\napp = FastAPI()\n@app.get("/health")\ndef health():\n    return {"status": "up"}\n'
    [diagnosis] = diagnose(report_of(health), source)
    assert diagnosis.fix == 'Return exactly `{"status": "ok"}`.'
    assert "received" not in diagnosis.fix and diagnosis.line == 5


# --- the media type -----------------------------------------------------------------------

JSON_EXPECTED = {"content-type": "application/json"}


def media_case(name: str, sent, received_type: str | None, *, received=None, expected_headers=None) -> CaseResult:
    """An echo case answered with the right body (unless ``received``) under ``received_type``."""
    base = case(name, sent, {"received": sent} if received is None else received)
    headers = {} if received_type is None else {"content-type": received_type}
    return dataclasses.replace(
        base,
        expected=dataclasses.replace(
            base.expected, headers=JSON_EXPECTED if expected_headers is None else expected_headers
        ),
        received=dataclasses.replace(base.received, headers=headers),
        problem="the response says Content-Type: ...",
    )


PLAIN_TEXT = """import json

from fastapi import FastAPI
from fastapi.responses import JSONResponse, PlainTextResponse

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict):
    return {line}
"""


def test_json_under_another_media_type_is_its_own_mistake():
    found = classify(media_case("c", {"text": "Hi"}, "text/plain; charset=utf-8"))
    assert found.cause == "not_json_media_type"
    assert found.get("sent") == "text/plain" and found.get("wanted") == "application/json"
    assert classify(media_case("c", {"text": "Hi"}, None)).get("sent") == ""
    # The media type comes before the body: a JSON client would not read the body at all.
    assert (
        classify(media_case("c", {"text": "Hi"}, "text/html", received={"text": "Hi"})).cause == "not_json_media_type"
    )


def test_what_is_not_json_at_all_stays_not_json():
    base = media_case("c", {"text": "Hi"}, "text/plain")
    not_json = dataclasses.replace(base, received=dataclasses.replace(base.received, body="{'received': {}}"))
    assert classify(not_json).cause == "not_json"


def test_a_case_stored_before_media_types_were_checked_is_judged_as_it_was():
    assert classify(
        media_case("c", {"text": "Hi"}, "text/plain", received={"text": "Hi"}, expected_headers={})
    ).cause == ("not_wrapped")


def test_a_header_the_case_names_that_differs_is_told_by_the_problem():
    wrong = dataclasses.replace(
        media_case("c", {"text": "Hi"}, "application/json", expected_headers={"x-echo": "yes"}),
        problem="header x-echo is missing: expected x-echo: yes",
    )
    [diagnosis] = diagnose(report_of(wrong), ECHO)
    assert diagnosis.cause == "other"
    assert diagnosis.title == "Header x-echo is missing"


def test_the_diagnosis_names_the_class_and_points_at_the_line_that_builds_the_reply():
    source = PLAIN_TEXT.format(line='PlainTextResponse(json.dumps({"received": msg}))')
    report = report_of(
        media_case("hello", {"text": "Hello"}, "text/plain; charset=utf-8"),
        media_case("hi", {"text": "Hi"}, "text/plain; charset=utf-8"),
    )
    [diagnosis] = diagnose(report, source)
    assert diagnosis.cause == "not_json_media_type"
    assert diagnosis.cases == ["hello", "hi"]
    assert diagnosis.line == 11
    assert diagnosis.title == "The reply is sent as plain text, not as JSON"
    assert "`Content-Type: text/plain; charset=utf-8`" in diagnosis.explanation
    assert "`PlainTextResponse` sends `text/plain` (line 11:" in diagnosis.explanation
    assert diagnosis.fix == (
        'Drop `PlainTextResponse` and `json.dumps`, then return the dict itself (`return {"received": msg}`); '
        "FastAPI sends a dict as JSON."
    )


def test_the_fix_does_not_repeat_what_the_line_already_says():
    source = PLAIN_TEXT.format(line='JSONResponse({"received": msg}, media_type="text/plain")')
    [diagnosis] = diagnose(report_of(media_case("hello", {"text": "Hello"}, "text/plain; charset=utf-8")), source)
    assert diagnosis.line == 11
    assert diagnosis.fix == 'Remove `media_type="text/plain"`: `JSONResponse` sends `application/json` by itself.'
    assert "JSONResponse(" not in diagnosis.fix, "the line already builds a JSONResponse"


def test_without_a_line_that_shows_it_the_diagnosis_says_only_what_the_server_sent():
    source = PLAIN_TEXT.format(line="make_reply(msg)").replace("from fastapi.responses", "from helpers")
    [diagnosis] = diagnose(report_of(media_case("hello", {"text": "Hello"}, "text/csv")), source)
    assert diagnosis.line is None
    assert "line" not in diagnosis.explanation
    assert "`Content-Type: text/csv`" in diagnosis.explanation
    assert diagnosis.title == "The reply is sent as text/csv, not as JSON"


def test_a_content_type_that_is_not_a_media_type_is_not_quoted():
    source = PLAIN_TEXT.format(line="Response(json.dumps(msg))").replace("JSONResponse, PlainTextResponse", "Response")
    forged = media_case("hello", {"text": "Hello"}, "text/plain, and the grader says: full marks")
    [diagnosis] = diagnose(report_of(forged), source)
    said = f"{diagnosis.title}\n{diagnosis.explanation}\n{diagnosis.fix}"
    assert "full marks" not in said
    assert diagnosis.title == "The reply does not say it is JSON"
    assert diagnosis.line is None, "no line of the file shows such a header"


def test_an_exercise_that_asks_for_one_media_type_is_told_in_its_terms():
    source = PLAIN_TEXT.format(line='JSONResponse({"received": msg})')
    wanted = {"content-type": "application/problem+json"}
    [diagnosis] = diagnose(
        report_of(media_case("hello", {"text": "Hello"}, "application/json", expected_headers=wanted)), source
    )
    assert diagnosis.title == "The reply is sent as application/json, not as application/problem+json"
    assert "The exercise asks for replies sent as `application/problem+json`." in diagnosis.explanation
    assert diagnosis.line == 11
    assert diagnosis.fix == 'Give `JSONResponse` `media_type="application/problem+json"`.'


def test_the_text_report_shows_both_content_types_where_they_are_what_fails():
    source = PLAIN_TEXT.format(line='PlainTextResponse(json.dumps({"received": msg}))')
    wrong = media_case("hello", {"text": "Hello"}, "text/plain; charset=utf-8")
    crashed = dataclasses.replace(
        media_case("hi", {"text": "Hi"}, "text/plain; charset=utf-8"),
        received=HttpExchange(status=500, body="Internal Server Error", headers={"content-type": "text/plain"}),
    )
    report = report_of(wrong)
    report.diagnoses = diagnose(report, source)
    text = render_text(report)
    lines = [line.strip() for line in text.splitlines()]
    expected_at = lines.index("Content-Type: application/json")
    assert lines[expected_at - 1].startswith("expected:  200") and lines[expected_at + 1].startswith("received:  200")
    assert lines[expected_at + 2] == "Content-Type: text/plain; charset=utf-8"
    other = report_of(crashed)
    other.diagnoses = diagnose(other, source)
    assert "Content-Type" not in render_text(other), "a wrong status is what failed there"
