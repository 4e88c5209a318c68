"""State kept between requests: one card, naming the variable and its lines (no sandbox)."""

from __future__ import annotations

from .support import HELLO, HI, case, first_diagnosis, program

REMEMBERS = program(
    "latest = {}",
    "",
    "",
    '@app.post("/message")',
    "def echo(msg: dict):",
    "    latest.update(msg)",
    '    return {"received": latest}',
)


def test_state_is_one_card_naming_the_variable():
    first, diagnoses = first_diagnosis(
        REMEMBERS,
        case("hello", HELLO, {"received": HELLO}, passed=True),
        case("hi", HI, {"received": HI}, passed=True),
        case("fields", {"a": 1}, {"received": {"text": "Hi", "a": 1}}),
        case("other", {"b": 2}, {"received": {"text": "Hi", "a": 1, "b": 2}}),
        case("empty", {}, {"received": {"text": "Hi", "a": 1, "b": 2}}),
    )
    assert len(diagnoses) == 1
    assert first.cause == "kept_state" and first.line == 11
    assert "`latest`" in first.title and "line 6" in first.explanation
    assert sorted(first.cases) == ["empty", "fields", "other"]
    # It never claims the grader sent fields it did not.
    assert "never sent" not in first.explanation


def test_a_reply_written_by_hand_is_not_called_state():
    source = program('@app.post("/message")', "def echo(msg: dict):", '    return {"received": {"text": "Hello"}}')
    first, _ = first_diagnosis(
        source, case("hello", HELLO, {"received": HELLO}, passed=True), case("hi", HI, {"received": HELLO})
    )
    assert first.cause == "same_answer"
