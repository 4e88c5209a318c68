"""Checked fixes in the service: the result first, then a low-priority check per proposed edit."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
from sqlmodel import Session, select

from grader.grading.report import Diagnosis, FixCheck, FixPatch, Report
from grader.grading.spec import ExerciseSpec
from grader.jobs import CHECK_PRIORITY, GradingWorker, Queue, build_huey
from grader.models import FixCheckRow, Submission, utcnow
from grader.services import fixchecks
from tests.factories import make_report, make_submission, make_user

SOURCE = 'from fastapi import FastAPI\napp = FastAPI()\n@app.post("/message")\ndef f(msg: dict):\n    return {"received", msg}\n'
PATCH = FixPatch(line=5, before='    return {"received", msg}', after='    return {"received": msg}')


def _learner_report(seed: int) -> Report:
    report = make_report(cases={"hello": False, "hi": False, "empty": True}, seed=seed)
    diagnosis = Diagnosis(title="Comma", explanation="", fix="A colon", cases=["hello", "hi"], fix_patch=PATCH)
    return dataclasses.replace(report, diagnoses=[diagnosis, Diagnosis(title="Words only", explanation="", fix="")])


class Grader:
    """The learner's report for the learner's file, a passing one for the changed file; records each call."""

    def __init__(self, seed: int, *, fixed: Report | None = None) -> None:
        self.learner = _learner_report(seed)
        self.fixed = fixed or make_report(cases={"hello": True, "hi": True, "empty": True}, seed=seed)
        self.calls: list[tuple[str, int]] = []

    def __call__(self, spec: ExerciseSpec, source: str, seed: int) -> Report:
        self.calls.append((source, seed))
        return self.learner if source == SOURCE else self.fixed


@pytest.fixture
def submission(synced: Session) -> Submission:
    return make_submission(synced, user=make_user(synced), source=SOURCE)


def _worker(engine, grader: Grader, *, busy: bool = False) -> tuple[GradingWorker, list[int], list[int]]:
    requested: list[int] = []
    announced: list[int] = []
    worker = GradingWorker(
        engine=engine,
        grade=grader,
        check_fixes=True,
        busy=lambda: busy,
        request_checks=requested.append,
        announce=announced.append,
    )
    return worker, requested, announced


def _rows(engine, submission_id: int) -> list[FixCheckRow]:
    with Session(engine) as session:
        return list(session.exec(select(FixCheckRow).where(FixCheckRow.submission_id == submission_id)))


def test_the_result_is_stored_first_and_its_fix_is_checked_after_with_the_same_seed(engine, submission):
    grader = Grader(submission.seed)
    worker, requested, announced = _worker(engine, grader)
    assert worker.run(submission.id).outcome == "graded"
    # Stored, announced and the check queued; only the learner's file was graded so far.
    assert grader.calls == [(SOURCE, submission.seed)]
    assert requested == [submission.id]
    assert [(row.diagnosis, row.status) for row in _rows(engine, submission.id)] == [(0, "pending")]
    with Session(engine) as session:
        stored = session.get(Submission, submission.id)
        assert stored.status == "graded"
        shown = fixchecks.checked_report(session, stored)
    assert shown["diagnoses"][0]["fix_check"] == {"status": "pending", "cases": 0, "reason": ""}
    assert shown["diagnoses"][1]["fix_check"] is None

    before = len(announced)
    assert worker.check(submission.id) == 1
    assert grader.calls[1] == (PATCH.apply(SOURCE), submission.seed)
    assert [(row.status, row.cases) for row in _rows(engine, submission.id)] == [("passed", 2)]
    assert announced[before:] == [submission.id]  # the page is woken for the checked fix
    assert worker.check(submission.id) == 0  # checked once


def test_a_fix_that_does_not_fix_its_cases_is_recorded_failed(engine, submission):
    grader = Grader(submission.seed, fixed=make_report(cases={"hello": True, "hi": False, "empty": True}))
    worker, _, _ = _worker(engine, grader)
    worker.run(submission.id)
    worker.check(submission.id)
    [row] = _rows(engine, submission.id)
    assert (row.status, row.cases) == ("failed", 1) and "still fail" in row.reason


def test_busy_graders_record_fixes_as_not_checked_and_queue_nothing(engine, submission):
    grader = Grader(submission.seed)
    worker, requested, _ = _worker(engine, grader, busy=True)
    worker.run(submission.id)
    assert requested == []
    [row] = _rows(engine, submission.id)
    assert (row.status, row.reason) == ("not_checked", fixchecks.BUSY)


def test_graders_busy_by_the_time_the_check_runs_do_not_grade_it(engine, submission):
    grader = Grader(submission.seed)
    worker, _, _ = _worker(engine, grader)
    worker.run(submission.id)
    worker.busy = lambda: True
    worker.check(submission.id)
    assert len(grader.calls) == 1
    assert [(row.status, row.reason) for row in _rows(engine, submission.id)] == [("not_checked", fixchecks.BUSY)]


def test_a_regrade_replaces_the_checks_and_an_older_check_writes_nothing(engine, submission):
    grader = Grader(submission.seed)
    worker, _, _ = _worker(engine, grader)
    worker.run(submission.id)
    with Session(engine) as session:
        old = fixchecks.pending(session, submission_id=submission.id)
        session.get(Submission, submission.id).status = "queued"
        session.commit()
    worker.run(submission.id)  # regraded: new rows
    with Session(engine) as session:
        assert not fixchecks.store_outcome(session, row_id=old[0][0], outcome=FixCheck("passed", cases=2))
        session.commit()
    assert [row.status for row in _rows(engine, submission.id)] == ["pending"]


def test_a_check_whose_job_was_lost_reads_as_not_checked(engine, submission):
    worker, _, _ = _worker(engine, Grader(submission.seed))
    worker.run(submission.id)
    with Session(engine) as session:
        later = utcnow() + fixchecks.STALE_AFTER + timedelta(seconds=1)
        checks = fixchecks.for_submission(session, submission_id=submission.id, now=later)
    assert checks == {0: FixCheck("not_checked", reason=fixchecks.LOST)}


def test_without_checks_turned_on_no_fix_waits(engine, submission):
    grader = Grader(submission.seed)
    worker, requested, _ = _worker(engine, grader)
    worker.check_fixes = False
    worker.run(submission.id)
    assert requested == []
    assert [(row.status, row.reason) for row in _rows(engine, submission.id)] == [("not_checked", fixchecks.TURNED_OFF)]


def _first_task_name(huey) -> str:
    message = huey.dequeue()
    return message.name


def _queue_order(huey, settings) -> list[str]:
    queue = Queue(huey=huey, settings=settings)
    queue.check(1)
    queue.check(2)
    queue.grade(3)
    return [_first_task_name(huey) for _ in range(3)]


def test_checks_wait_behind_gradings_on_the_sqlite_queue(tmp_path, settings):
    huey = build_huey(f"sqlite:///{tmp_path / 'queue.sqlite3'}", name="order")
    assert _queue_order(huey, settings) == ["grade_submission", "check_fixes", "check_fixes"]
    assert CHECK_PRIORITY < 0


def test_checks_wait_behind_gradings_on_the_redis_queue(redis_queue, settings):
    url, name = redis_queue
    huey = build_huey(url, name=name)
    try:
        assert _queue_order(huey, settings) == ["grade_submission", "check_fixes", "check_fixes"]
    finally:
        huey.storage.flush_queue()


@pytest.mark.postgres
def test_checks_wait_behind_gradings_on_the_postgresql_queue(postgres_database, settings):
    huey = build_huey(postgres_database(), name="order")
    try:
        assert _queue_order(huey, settings) == ["grade_submission", "check_fixes", "check_fixes"]
    finally:
        huey.storage.close()


def test_the_queue_is_busy_beyond_the_set_depth(tmp_path, settings, monkeypatch):
    huey = build_huey(f"sqlite:///{tmp_path / 'queue.sqlite3'}", name="depth")
    queue = Queue(huey=huey, settings=settings)
    monkeypatch.setattr(settings, "fix_check_max_queue_depth", 1)
    queue.grade(1)
    assert not queue.busy()
    queue.grade(2)
    assert queue.busy()
