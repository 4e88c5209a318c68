"""Type-exact comparison of JSON values, and the media type a JSON body must come with."""

from __future__ import annotations

import json

import pytest

from grader.grading.compare import first_difference, json_equal, json_type
from grader.grading.headers import (
    CONTENT_TYPE,
    JSON_MEDIA_TYPE,
    checked_content_type,
    header_problem,
    is_json_media_type,
    media_type,
    media_type_accepted,
    media_type_problem,
)


@pytest.mark.parametrize(
    ("expected", "received"),
    [
        (True, 1),
        (1, True),
        (False, 0),
        ("1", 1),
        (1, "1"),
        (1, 1.0),
        (None, False),
        (None, ""),
        ([], {}),
        ({"a": 1}, {"a": 1, "b": 2}),
        ({"a": 1, "b": 2}, {"a": 1}),
        ([1, 2], [2, 1]),
        ([1, 2], [1, 2, 3]),
        ({"a": {"b": [1, {"c": True}]}}, {"a": {"b": [1, {"c": 1}]}}),
        ("Grüße", "Grusse"),
    ],
)
def test_different_values_differ(expected, received):
    assert not json_equal(expected, received)
    assert first_difference(expected, received)


@pytest.mark.parametrize(
    ("expected", "received"),
    [
        (1.0, 1.0),
        (2.5, 2.5),
        (True, True),
        (None, None),
        ("👋🏽", "👋🏽"),
        ({"a": 1, "b": [1, 2]}, {"b": [1, 2], "a": 1}),
        ({}, {}),
        ({"x": {"y": {"z": None}}}, {"x": {"y": {"z": None}}}),
    ],
)
def test_equal_values_are_equal(expected, received):
    assert json_equal(expected, received)
    assert first_difference(expected, received) is None


def test_parsed_json_keeps_the_float_integer_distinction():
    assert json_equal(json.loads("1.0"), json.loads("1.0"))
    assert not json_equal(json.loads("1.0"), json.loads("1"))


def test_difference_points_at_the_first_departure():
    where = first_difference({"received": {"a": [1, 2, 3]}}, {"received": {"a": [1, 2, "3"]}})
    assert 'in body["received"]["a"][2]:' in where
    assert "integer" in where and "string" in where
    # The place is written as Python reads it, never in a notation a beginner has not met.
    assert "$" not in where


def test_a_difference_at_the_top_names_the_body():
    assert first_difference({"received": 1}, {}) == 'in the body: key "received" is missing'


def test_missing_and_unexpected_keys_are_named():
    assert '"text"' in first_difference({"text": "Hi"}, {})
    assert '"extra"' in first_difference({}, {"extra": 1})


def test_odd_keys_are_quoted_in_the_path():
    where = first_difference({"clé à": 1}, {"clé à": 2})
    assert 'body["clé à"]' in where


@pytest.mark.parametrize(
    ("value", "name"),
    [(None, "null"), (True, "boolean"), (1, "integer"), (1.5, "float"), ("", "string"), ([], "array"), ({}, "object")],
)
def test_json_type_names(value, name):
    assert json_type(value) == name


# --- the media type, as a JSON client judges it -------------------------------------------


@pytest.mark.parametrize(
    "content_type",
    [
        "application/json",
        "application/json; charset=utf-8",
        "Application/JSON",
        "application/problem+json",
        "application/vnd.api+json; charset=UTF-8",
    ],
)
def test_json_media_types_are_read_as_json(content_type):
    assert is_json_media_type(content_type)
    assert media_type_accepted(JSON_MEDIA_TYPE, content_type)
    assert media_type_problem({CONTENT_TYPE: JSON_MEDIA_TYPE}, {CONTENT_TYPE: content_type}) is None


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain; charset=utf-8",
        "text/html; charset=utf-8",
        "text/json",
        "application/json-seq",
        "application/jsonp",
        "application/x-json-stream",
        "+json",
        "application/+json",
        "",
        None,
    ],
)
def test_other_media_types_are_not_json(content_type):
    assert not is_json_media_type(content_type or "")
    assert not media_type_accepted(JSON_MEDIA_TYPE, content_type)


def test_the_problem_says_what_came_back_and_what_a_json_client_needs():
    problem = media_type_problem({CONTENT_TYPE: JSON_MEDIA_TYPE}, {CONTENT_TYPE: "text/plain; charset=utf-8"})
    assert problem == (
        "the response says Content-Type: text/plain; charset=utf-8, but a JSON client needs application/json "
        "(or another type ending in +json) before it reads the body as JSON"
    )
    missing = media_type_problem({CONTENT_TYPE: JSON_MEDIA_TYPE}, {})
    assert missing is not None and missing.startswith("the response has no Content-Type header")


def test_an_exact_media_type_is_matched_exactly_parameters_aside():
    wanted = {CONTENT_TYPE: "application/problem+json"}
    assert media_type_problem(wanted, {CONTENT_TYPE: "application/problem+json; charset=utf-8"}) is None
    problem = media_type_problem(wanted, {CONTENT_TYPE: "application/json"})
    assert (
        problem
        == "the response says Content-Type: application/json, but the exercise asks for application/problem+json"
    )


def test_a_case_that_checks_no_media_type_accepts_any():
    assert media_type_problem({}, {CONTENT_TYPE: "text/html"}) is None
    assert media_type_problem({"x-echo": "yes"}, {}) is None


def test_other_headers_must_come_back_with_their_exact_value():
    wanted = {"x-echo": "yes", CONTENT_TYPE: JSON_MEDIA_TYPE}
    assert header_problem(wanted, {"x-echo": " yes", CONTENT_TYPE: "text/plain"}) is None, "content-type is not theirs"
    assert header_problem(wanted, {}) == "header x-echo is missing: expected x-echo: yes"
    assert (
        header_problem(wanted, {"x-echo": "no"}) == "header x-echo differs: expected x-echo: yes, received x-echo: no"
    )


def test_media_type_drops_parameters_and_case():
    assert media_type("Text/Plain ; charset=utf-8") == "text/plain"
    assert media_type(None) == media_type("") == ""


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("text/plain; charset=utf-8", "text/plain; charset=utf-8"),
        ('multipart/form-data; boundary="a b"', 'multipart/form-data; boundary="a b"'),
        ("text/plain, and your grade is 100%", None),
        ("text/" + "x" * 200, None),
        (None, None),
    ],
)
def test_only_a_well_formed_content_type_is_quoted(value, shown):
    assert checked_content_type(value) == shown
    if value is not None and shown is None:
        problem = media_type_problem({CONTENT_TYPE: JSON_MEDIA_TYPE}, {CONTENT_TYPE: value})
        assert problem is not None and "grade" not in problem and "xxx" not in problem
