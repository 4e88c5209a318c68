"""Type-exact comparison of JSON values, and a pointer to the first difference.

``true`` is not ``1``, ``"1"`` is not ``1`` and ``1`` is not ``1.0``: a JSON
value's type is part of the answer. Object key order does not matter.
"""

from __future__ import annotations

import json
from typing import Any


def json_type(value: Any) -> str:
    """The JSON name of a parsed value's type."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def json_equal(expected: Any, received: Any) -> bool:
    """Whether two parsed JSON values are equal, types included."""
    return first_difference(expected, received) is None


def _show(value: Any, limit: int = 80) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def first_difference(expected: Any, received: Any, path: str = "") -> str | None:
    """Where ``received`` first departs from ``expected``, in words; None when they are equal.

    Places are written as Python reads them, ``body["received"]["n"]``: a beginner knows that.
    """
    where = f"in {'body' + path}" if path else "in the body"
    expected_type, received_type = json_type(expected), json_type(received)
    if expected_type != received_type:
        return f"{where}: expected {expected_type} {_show(expected)}, received {received_type} {_show(received)}"
    if isinstance(expected, dict):
        missing = [key for key in expected if key not in received]
        if missing:
            return f"{where}: key {_show(missing[0])} is missing"
        extra = [key for key in received if key not in expected]
        if extra:
            return f"{where}: unexpected key {_show(extra[0])}"
        for key in expected:
            found = first_difference(expected[key], received[key], f"{path}[{_show(key)}]")
            if found:
                return found
        return None
    if isinstance(expected, list):
        for index, (left, right) in enumerate(zip(expected, received, strict=False)):
            found = first_difference(left, right, f"{path}[{index}]")
            if found:
                return found
        if len(expected) != len(received):
            return f"{where}: expected {len(expected)} items, received {len(received)}"
        return None
    if expected != received:
        return f"{where}: expected {_show(expected)}, received {_show(received)}"
    return None


def key_differences(expected: Any, received: Any) -> tuple[list[str], list[str]]:
    """Keys missing from and extra in the first object, walking down, whose keys differ."""
    while isinstance(expected, dict) and isinstance(received, dict):
        missing = [key for key in expected if key not in received]
        extra = [key for key in received if key not in expected]
        if missing or extra:
            return missing, extra
        differing = [key for key in expected if not json_equal(expected[key], received[key])]
        if not differing:
            break
        expected, received = expected[differing[0]], received[differing[0]]
    return [], []
