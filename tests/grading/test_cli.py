"""The ``autograder`` command, run as a subprocess the way an operator runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from grader.config import PROJECT_ROOT, get_settings

from .support import SUBMISSIONS

AUTOGRADER = [sys.executable, "-m", "grader.cli"]
"""The command line as this interpreter runs it, whichever environment the tests run from."""


def autograder(*args: str, timeout: float = 120, exercises_dir: Path | None = None) -> subprocess.CompletedProcess:
    """The command's result; ``exercises_dir`` replaces the course's exercises (GRADER_EXERCISES_DIR)."""
    env = dict(os.environ)
    if exercises_dir is not None:
        env["GRADER_EXERCISES_DIR"] = str(exercises_dir)
    return subprocess.run(
        [*AUTOGRADER, *args], capture_output=True, text=True, timeout=timeout, cwd=PROJECT_ROOT, env=env
    )


def one_json_object(stdout: str) -> dict:
    """The whole of stdout parsed as exactly one JSON object (json.loads refuses anything more)."""
    data = json.loads(stdout)
    assert isinstance(data, dict)
    return data


def one_line_reason(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("autograder: ")
    return lines[0]


@pytest.mark.sandbox
@pytest.mark.parametrize(
    ("path", "status"),
    [
        (SUBMISSIONS / "correct" / "fastapi_async.py", "passed"),
        (SUBMISSIONS / "correct" / "noisy_prints.py", "passed"),
        (SUBMISSIONS / "wrong" / "wrong_key.py", "failed"),
        (SUBMISSIONS / "broken" / "syntax_error.py", "error"),
        (SUBMISSIONS / "hostile" / "fake_report.py", "failed"),
    ],
    ids=lambda value: value if isinstance(value, str) else value.stem,
)
def test_grade_json_prints_one_report_and_exits_0(path, status):
    done = autograder("grade", str(path), "--json", "--seed", "42")
    assert done.returncode == 0, done.stderr
    report = one_json_object(done.stdout)
    assert report["status"] == status
    assert report["seed"] == 42
    assert report["exercise"] == "message-echo"
    assert {"score", "max_score", "tests", "stdout", "stderr", "error", "spec_hash", "execution_time"} <= set(report)
    if path.stem == "noisy_prints":
        assert "loading the app" in report["stdout"] and "a warning on stderr" in report["stderr"]


@pytest.mark.sandbox
def test_grade_text_report_names_cases_and_score():
    done = autograder("grade", str(SUBMISSIONS / "wrong" / "hardcoded.py"))
    assert done.returncode == 0, done.stderr
    assert "FAIL  hi" in done.stdout and "PASS  hello" in done.stdout
    assert "Score: " in done.stdout


@pytest.mark.sandbox
def test_grade_other_exercise_by_slug(exercises_dir):
    done = autograder(
        "grade",
        str(SUBMISSIONS / "health_check" / "correct.py"),
        "--exercise",
        "health-check",
        "--json",
        exercises_dir=exercises_dir,
    )
    assert done.returncode == 0, done.stderr
    report = one_json_object(done.stdout)
    assert (report["exercise"], report["status"]) == ("health-check", "passed")


def test_unknown_exercise_is_a_usage_error():
    done = autograder(
        "grade", str(SUBMISSIONS / "correct" / "fastapi_async.py"), "--exercise", "no-such-thing", "--json"
    )
    assert done.returncode == 2
    assert "no-such-thing" in one_line_reason(done.stderr)
    assert done.stdout == ""


@pytest.mark.parametrize(
    ("content", "phrase"),
    [
        (None, "cannot read"),
        (b"\xff\xfe not utf-8 \xe9\n", "UTF-8"),
        (b"app = 1\n\x00\x01\x02binary", "binary"),
        (b"x = 1\n" * 20_000, "limit"),
        (b"   \n\n", "empty"),
    ],
    ids=["missing", "not-utf8", "binary", "oversize", "empty"],
)
def test_unreadable_files_are_usage_errors(tmp_path, content, phrase):
    path = tmp_path / "solution.py"
    if content is not None:
        path.write_bytes(content)
    done = autograder("grade", str(path), "--json")
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert phrase in one_line_reason(done.stderr)
    assert done.stdout == ""


def test_oversize_limit_is_the_settings_one(tmp_path):
    limit = get_settings().max_upload_bytes
    path = tmp_path / "solution.py"
    path.write_bytes(b"#" * (limit + 1))
    done = autograder("grade", str(path))
    assert done.returncode == 2
    assert f"{limit:,}" in one_line_reason(done.stderr)


def test_with_several_exercises_grade_asks_which(exercises_dir):
    done = autograder("grade", str(SUBMISSIONS / "correct" / "fastapi_async.py"), exercises_dir=exercises_dir)
    assert done.returncode == 2
    assert one_line_reason(done.stderr) == (
        "autograder: several exercises exist; pick one with --exercise (health-check, message-echo)"
    )
    assert done.stdout == ""


def test_the_course_offers_no_test_exercise():
    done = autograder("exercises")
    assert done.returncode == 0, done.stderr
    assert "message-echo" in done.stdout and "health-check" not in done.stdout


def test_exercises_lists_every_case(exercises_dir):
    done = autograder("exercises", exercises_dir=exercises_dir)
    assert done.returncode == 0, done.stderr
    for name in [
        "message-echo",
        "health-check",
        "hello",
        "hi",
        "extra-fields",
        "every-json-type",
        "unicode",
        "empty-object",
        "long-text",
        "random",
        "malformed-json",
        "array-body",
        "string-body",
        "get-not-allowed",
        "health",
        "post-not-allowed",
    ]:
        assert f"{name}" in done.stdout, name


@pytest.mark.parametrize("command", [[], ["grade"], ["runtime"], ["runtime", "prune"], ["serve"], ["create-user"]])
def test_help_is_plain_text(command):
    done = autograder(*command, "--help")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"usage: autograder {' '.join(command)}".rstrip())
    assert "`" not in done.stdout


@pytest.mark.sandbox
def test_grade_checks_a_fix_before_printing_it_as_a_diff():
    path = SUBMISSIONS / "mistakes" / "api_prefix.py"
    lines = path.read_text().splitlines()
    line = next(n for n, text in enumerate(lines, start=1) if text.startswith('@app.post("/api/message")'))
    done = autograder("grade", str(path), "--seed", "42")
    assert done.returncode == 0, done.stderr
    assert "Checked: with this change the" in done.stdout
    assert f'- {line:>4} | @app.post("/api/message")' in done.stdout
    assert f'+ {line:>4} | @app.post("/message")' in done.stdout
    report = one_json_object(autograder("grade", str(path), "--json", "--seed", "42").stdout)
    first = report["diagnoses"][0]
    assert first["fix_patch"]["after"] == '@app.post("/message")'
    assert first["fix_check"]["status"] == "passed" and first["fix_check"]["cases"] > 0


def test_exercises_says_which_cases_learners_do_not_see(tmp_path):
    from tests.web.test_visibility import EXERCISE, SLUG

    folder = tmp_path / "exercises"
    (folder / SLUG).mkdir(parents=True)
    (folder / SLUG / "exercise.toml").write_text(EXERCISE, encoding="utf-8")
    done = autograder("exercises", exercises_dir=folder)
    assert done.returncode == 0, done.stderr
    assert "  - pelican-never: A message learners never see [1] (hidden from learners)" in done.stdout
    assert (
        "  - ostrich-after-due: A message shown once the due date has passed [1] (shown to learners after"
        in done.stdout
    )
    assert "  - hello: The lesson's message [1]\n" in done.stdout
