"""Turning an exercise into one grading's concrete requests."""

from __future__ import annotations

import json

from grader.grading.cases import NOT_CHECKED, case_descriptions, expand_cases
from grader.grading.spec import ExerciseSpec


def _spec(cases: list[dict]) -> ExerciseSpec:
    return ExerciseSpec.model_validate({"slug": "x", "title": "X", "instructions": "I", "cases": cases})


def test_the_same_seed_replays_the_same_random_bodies_and_another_seed_does_not(message_echo):
    first = [case.body for case in expand_cases(message_echo, 1234) if case.name.startswith("random-")]
    again = [case.body for case in expand_cases(message_echo, 1234) if case.name.startswith("random-")]
    other = [case.body for case in expand_cases(message_echo, 1235) if case.name.startswith("random-")]

    assert len(first) == 3
    assert first == again
    assert first != other


def test_random_bodies_are_objects_and_the_expected_body_echoes_them(message_echo):
    for case in expand_cases(message_echo, 99):
        if case.name.startswith("random-"):
            sent = json.loads(case.body)
            assert isinstance(sent, dict) and sent
            assert case.expected_body == {"received": sent}
            assert case.headers["content-type"] == "application/json"


def test_json_text_is_sent_exactly_as_written():
    spec = _spec(
        [
            {
                "name": "spaced",
                "description": "d",
                "request": {"json_text": '{"a":1.50,  "b": null}'},
                "expect": {"json": {"got": "$request"}},
            }
        ]
    )

    (case,) = expand_cases(spec, 0)

    assert case.body == b'{"a":1.50,  "b": null}'
    assert case.expected_body == {"got": {"a": 1.5, "b": None}}


def test_raw_base64_sends_bytes_that_are_not_text_and_only_the_status_is_checked():
    spec = _spec(
        [
            {
                "name": "latin1",
                "description": "d",
                "request": {"raw_base64": "eyJ0ZXh0IjogIv8ifQ==", "content_type": "application/json"},
                "expect": {"status": 400},
            }
        ]
    )

    (case,) = expand_cases(spec, 0)

    assert case.body == b'{"text": "\xff"}'
    assert case.headers["content-type"] == "application/json"
    assert case.expected_body is NOT_CHECKED


def test_a_request_without_body_sends_no_content_type(message_echo):
    (get,) = [case for case in expand_cases(message_echo, 0) if case.name == "get-not-allowed"]

    assert get.body is None
    assert "content-type" not in get.headers


def test_every_concrete_case_has_its_description_by_name(message_echo):
    described = case_descriptions(message_echo)
    assert list(described) == [case.name for case in expand_cases(message_echo, 7)]
    assert described["hello"] == 'The lesson\'s message: {"text": "Hello"}'
    assert described["random-3"] == "Objects the grader makes up for each submission (3 of 3)"


def test_a_correct_echo_through_fastapi_passes_every_random_body(message_echo):
    """The random bodies of 5,000 gradings come back unchanged from ``return {"received": msg}``.

    The way back is FastAPI's own: the body parsed as the request's JSON, the returned dict
    through ``jsonable_encoder`` and serialised as ``JSONResponse`` does. A key FastAPI alters
    (it drops keys that start with ``_sa``) once failed a right answer about one grading in two thousand.
    """
    from fastapi.encoders import jsonable_encoder
    from fastapi.responses import JSONResponse

    from grader.grading.compare import json_equal

    checked = 0
    for seed in range(5_000):
        for case in expand_cases(message_echo, seed):
            if not case.name.startswith("random-"):
                continue
            returned = {"received": json.loads(case.body)}
            answer = json.loads(JSONResponse(jsonable_encoder(returned)).body)
            assert json_equal(case.expected_body, answer), (seed, case.name, case.sent_json, answer)
            checked += 1
    assert checked == 15_000
