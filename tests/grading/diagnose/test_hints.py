"""Hint feedback: the cause and the line, no code and no patch (no sandbox)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from grader.grading.diagnose import diagnose
from grader.grading.diagnose.grouping import PRIORITY
from grader.grading.diagnose.hints import HINTS, KEPT_AS_THEY_ARE
from grader.grading.diagnose.rules import CASE_RULES
from grader.grading.diagnose.rules.load_time import LOAD_CAUSES
from grader.grading.report import FixPatch, GradingError
from grader.grading.spec import load_exercise

from .support import ECHO, case, report_of

CAUSES = Path(__file__).parents[1] / "submissions" / "mistakes" / "CAUSES.md"
CODE_MARKS = ("`", "(", ")", "{", "}", "=", '"', "@")
LOAD_TIME_CODES = {"import_error", "missing_module", "other_framework", "startup_crash", "syntax", "timeout"}


def test_every_cause_has_a_hint_without_code():
    causes = set(CASE_RULES) | (set(PRIORITY) - {"error"} - KEPT_AS_THEY_ARE) | LOAD_CAUSES | LOAD_TIME_CODES
    causes -= {"lifespan", "exception"}  # boot-script facts, never a diagnosis's cause
    causes |= set(re.findall(r"^- `(\w+)`", CAUSES.read_text(encoding="utf-8"), re.MULTILINE))
    assert causes - set(HINTS) == set()
    for cause, words in HINTS.items():
        assert not any(mark in words for mark in CODE_MARKS), (cause, words)


def test_a_hint_keeps_the_cause_and_line_and_drops_the_code():
    report = report_of(
        case("hello", {"text": "Hello"}, {"recieved": {"text": "Hello"}}),
        case("hi", {"text": "Hi"}, {"recieved": {"text": "Hi"}}),
    )
    fixed = diagnose(report, ECHO)[0]
    hinted = diagnose(report, ECHO, feedback="hint")[0]
    assert (hinted.cause, hinted.line, hinted.title, hinted.cases) == (
        fixed.cause,
        fixed.line,
        fixed.title,
        fixed.cases,
    )
    assert '"received"' in fixed.fix and fixed.fix_patch is not None
    assert hinted.fix == f"Look at line {fixed.line}: " + HINTS["misspelt_key"]
    assert hinted.fix_patch is None


def test_a_hint_never_carries_a_patch():
    report = report_of(case("hello", {"text": "Hello"}, {"text": "Hello"}))
    source = 'from fastapi import FastAPI\n\napp = FastAPI()\n\n\n@app.post("/message")\ndef echo(msg: dict):\n    return msg\n'
    for feedback, patched in (("fix", True), ("hint", False)):
        diagnosis = diagnose(report, source, feedback=feedback)[0]
        assert diagnosis.cause == "not_wrapped"
        assert (diagnosis.fix_patch is not None) is patched
    assert diagnose(report, source)[0].fix_patch == FixPatch(8, "    return msg", '    return {"received": msg}')


def test_a_load_error_hint_has_no_code():
    report = report_of(error=GradingError("syntax", "invalid syntax"))
    source = "from fastapi import FastAPI\napp = FastAPI()\ndef f()\n    pass\n"
    facts = {"cause": "syntax", "line": 3, "detail": "expected ':'"}
    hinted = diagnose(report, source, facts=facts, feedback="hint")[0]
    assert hinted.cause == "syntax" and hinted.line == 3
    assert hinted.fix == "Look at line 3: " + HINTS["syntax"]


def test_an_infra_error_keeps_its_words():
    report = report_of(error=GradingError("infra", "the sandbox failed"))
    hinted = diagnose(report, ECHO, feedback="hint")[0]
    assert hinted.cause == "infra" and "again" in hinted.fix


def _exercise(tmp_path: Path, feedback: str | None) -> Path:
    folder = tmp_path / "ping"
    folder.mkdir(parents=True)
    line = f'feedback = "{feedback}"\n' if feedback else ""
    (folder / "exercise.toml").write_text(
        'title = "Ping"\ninstructions = "Answer pings."\n'
        + line
        + '\n[[cases]]\nname = "ping"\ndescription = "a ping"\n',
        encoding="utf-8",
    )
    return folder


def test_the_exercise_chooses_fix_or_hint(tmp_path):
    assert load_exercise(_exercise(tmp_path / "a", None)).feedback == "fix"
    hint = load_exercise(_exercise(tmp_path / "b", "hint"))
    assert hint.feedback == "hint"
    # How much is shown is not how it is graded: the spec hash stays.
    assert hint.spec_hash == load_exercise(_exercise(tmp_path / "c", "fix")).spec_hash


def test_an_unknown_feedback_is_refused(tmp_path):
    with pytest.raises(ValueError, match="feedback"):
        load_exercise(_exercise(tmp_path, "answers"))
