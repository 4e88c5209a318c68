"""A bulk regrade from the instructor's side: the question, the progress, then what changed.

The scores are real: the submissions are graded in the sandbox, the exercise's points are moved
between two cases, and the regrade grades them again, so one score goes up, one down and one stays.
"""

from __future__ import annotations

import re
import shutil

import pytest
from sqlmodel import Session

from grader.content import sync_content
from grader.grading.report import format_points
from grader.jobs import GradingWorker
from grader.models import Submission
from tests.factories import make_submission, make_user

from .conftest import CONFIRM

HEAD = "from fastapi import FastAPI\n\napp = FastAPI()\n\n\n@app.post('/message')\nasync def echo(msg: dict):\n"
CORRECT = HEAD + "    return {'received': msg}\n"
ONLY_HELLO = HEAD + "    return {'received': {'text': 'Hello'}}\n"
ONLY_HI = HEAD + "    return {'received': {'text': 'Hi'}}\n"

HELLO_POINTS = "points = 2\nhint = \"Return {'received': msg}"
HI_POINTS = 'points = 2\nhint = "The reply must be built'


def _move_points(settings, synced: Session, tmp_path) -> None:
    """The exercise as edited: 'hello' now worth 3 points and 'hi' 1 (the same total)."""
    edited = tmp_path / "edited-exercises"
    shutil.copytree(settings.exercises_dir, edited)
    spec_file = edited / "message-echo" / "exercise.toml"
    text = spec_file.read_text()
    assert HELLO_POINTS in text and HI_POINTS in text
    text = text.replace(HELLO_POINTS, HELLO_POINTS.replace("2", "3", 1)).replace(
        HI_POINTS, HI_POINTS.replace("2", "1", 1)
    )
    spec_file.write_text(text)
    sync_content(synced, edited, settings.quizzes_dir)
    synced.commit()


def _score(engine, submission_id: int) -> tuple[float, float]:
    with Session(engine) as session:
        row = session.get_one(Submission, submission_id)
        return row.score, row.max_score


@pytest.mark.sandbox
def test_a_finished_regrade_says_what_went_up_down_and_stayed(
    as_instructor, synced, engine, settings, queued, tmp_path
):
    ada, bob, cy = (make_user(synced, name=name) for name in ("Ada", "Bob", "Cy"))
    rows = {
        "same": make_submission(synced, user=ada, source=CORRECT),
        "up": make_submission(synced, user=bob, source=ONLY_HELLO),
        "down": make_submission(synced, user=cy, source=ONLY_HI),
    }
    ids = {kind: row.id for kind, row in rows.items()}
    worker = GradingWorker.from_settings(settings, engine=engine)
    worker.check_fixes = False
    for submission_id in ids.values():
        assert worker.run(submission_id).outcome == "graded"
    before = {kind: _score(engine, submission_id) for kind, submission_id in ids.items()}
    assert before["up"][0] == before["down"][0] > 0  # hello alone and hi alone: the same points so far

    _move_points(settings, synced, tmp_path)
    question = as_instructor.get("/instructor/exercises/message-echo/regrade").text
    assert "3 submissions from 3 learners go back in the grading queue" in question
    started = as_instructor.post_form("/instructor/exercises/message-echo/regrade", CONFIRM, page="/instructor")
    page_url = started.headers["location"]
    waiting = as_instructor.get(page_url).text
    assert "0 of 3 graded again" in waiting and "What changed" not in waiting
    assert '<meta http-equiv="refresh" content="3">' in waiting  # without script, the page reloads itself

    assert sorted(queued) == sorted(ids.values())
    for submission_id in queued:
        assert worker.run(submission_id).outcome == "graded"
    after = {kind: _score(engine, submission_id) for kind, submission_id in ids.items()}
    assert after["same"] == before["same"]
    assert after["up"][0] > before["up"][0] and after["down"][0] < before["down"][0]

    status = as_instructor.get(page_url + "/status").json()
    assert status["finished"] and status["done"] == status["total"] == 3
    page = as_instructor.get(page_url).text
    assert "Done: all 3 submissions graded again." in page and 'http-equiv="refresh"' not in page
    for sentence in (
        "<strong>1</strong> score went up",
        "<strong>1</strong> score went down",
        "<strong>1</strong> unchanged",
        "<strong>0</strong> could not be graded",
    ):
        assert sentence in page, sentence
    table = page.split('id="regrade-changes-caption"')[1].split("</table>")[0]
    changed = re.findall(
        r'<th scope="row">(\w+)</th>\s*<td data-label="Submission"><a href="/submissions/(\d+)">.*?</a></td>\s*'
        r'<td data-label="Before">([^<]+)</td>\s*<td data-label="After">([^<]+)</td>\s*<td data-label="Change">(\w+)</td>',
        table,
    )

    def shown(score: tuple[float, float]) -> str:
        return f"{format_points(score[0])} / {format_points(score[1])}"

    assert changed == [
        ("Bob", str(ids["up"]), shown(before["up"]), shown(after["up"]), "up"),
        ("Cy", str(ids["down"]), shown(before["down"]), shown(after["down"]), "down"),
    ]
    assert "Ada" not in table

    fragment = as_instructor.get(page_url + "/summary").text
    assert "<html" not in fragment and "What changed" in fragment and f'href="/submissions/{ids["up"]}"' in fragment
    audit = as_instructor.get("/instructor/audit").text
    assert "exercise message-echo" in audit and "submissions: 3" in audit
