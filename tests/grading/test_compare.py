"""Type-exact comparison of JSON values."""

from __future__ import annotations

import json

import pytest

from grader.grading.compare import first_difference, json_equal, json_type


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
    assert "$.received.a[2]" in where
    assert "integer" in where and "string" in where


def test_missing_and_unexpected_keys_are_named():
    assert '"text"' in first_difference({"text": "Hi"}, {})
    assert '"extra"' in first_difference({}, {"extra": 1})


def test_odd_keys_are_quoted_in_the_path():
    where = first_difference({"clé à": 1}, {"clé à": 2})
    assert '"clé à"' in where


@pytest.mark.parametrize(
    ("value", "name"),
    [(None, "null"), (True, "boolean"), (1, "integer"), (1.5, "float"), ("", "string"), ([], "array"), ({}, "object")],
)
def test_json_type_names(value, name):
    assert json_type(value) == name
