"""Regrades never hold up learners: on every queue storage a learner's upload is graded before the
regrades still waiting, and before them come the checks of proposed fixes.

Each test runs on the embedded SQLite queue, on Redis and on PostgreSQL (the queue and the database
both on PostgreSQL there, as in a shared deployment).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from huey import Huey
from sqlmodel import Session, col, select

from grader.grading.report import Report
from grader.grading.spec import ExerciseSpec
from grader.jobs import (
    CHECK_PRIORITY,
    GRADING_PRIORITY,
    REGRADE_PRIORITY,
    GradingConsumer,
    GradingWorker,
    Queue,
    build_huey,
)
from grader.models import Submission
from grader.services import regrade, submissions
from tests.factories import make_report, make_submission, make_user

ECHO = b"from fastapi import FastAPI\n\napp = FastAPI()\n\n\n@app.post('/message')\nasync def echo(msg: dict):\n    return {'received': msg}\n"
REGRADES = 4


@pytest.fixture(params=["sqlite", "redis", pytest.param("postgresql", marks=pytest.mark.postgres)])
def queue_kind(request: pytest.FixtureRequest) -> str:
    """Which storage the Huey queue uses."""
    return request.param


@pytest.fixture
def db_backend(queue_kind: str) -> str:
    """A PostgreSQL queue goes with a PostgreSQL database; the others with SQLite."""
    return "postgresql" if queue_kind == "postgresql" else "sqlite"


@pytest.fixture
def huey(queue_kind: str, tmp_path, request: pytest.FixtureRequest) -> Iterator[Huey]:
    """An empty queue of this test's own on the storage of ``queue_kind``."""
    if queue_kind == "sqlite":
        yield build_huey(f"sqlite:///{tmp_path / 'queue.sqlite3'}", name="order")
        return
    if queue_kind == "redis":
        url, name = request.getfixturevalue("redis_queue")
        made = build_huey(url, name=name)
        yield made
        made.storage.flush_queue()
        return
    made = build_huey(request.getfixturevalue("postgres_database")(), name="order")
    yield made
    made.storage.close()


def test_the_priorities_are_ordered_learners_first():
    assert GRADING_PRIORITY > CHECK_PRIORITY > REGRADE_PRIORITY


def test_the_storage_hands_out_gradings_then_checks_then_regrades(huey, settings):
    queue = Queue(huey=huey, settings=settings)
    queue.regrade(1)
    queue.regrade(2)
    queue.check(3)
    queue.grade(4)
    queue.regrade(5)
    queue.grade(6)
    taken = [huey.dequeue() for _ in range(6)]
    assert [(task.name, task.args[0]) for task in taken] == [
        ("grade_submission", 4),
        ("grade_submission", 6),
        ("check_fixes", 3),
        ("regrade_submission", 1),
        ("regrade_submission", 2),
        ("regrade_submission", 5),
    ]


class Fails:
    """A grading function whose grader fails (an infrastructure error) every time."""

    def __call__(self, spec: ExerciseSpec, source: str, seed: int) -> Report:
        return make_report(cases={}, infra="sandbox vanished")


def test_a_retried_regrade_and_a_resent_one_stay_below_learners(huey, settings, engine, synced):
    teacher = make_user(synced, role="instructor")
    learner = make_user(synced)
    regraded = make_submission(synced, user=learner, status="graded", score=2, report=make_report(cases={}).to_dict())
    upload = make_submission(synced, user=learner)
    regraded_id, upload_id = regraded.id, upload.id
    worker = GradingWorker(engine=engine, grade=Fails(), max_infra_retries=3)
    queue = Queue(huey=huey, settings=settings, make_worker=lambda _: worker)
    regrade.regrade_submission(session=synced, submission_id=regraded_id, requested_by=teacher, enqueue=queue.regrade)

    # The grader fails: the retry is scheduled as a regrade again.
    task = huey.dequeue()
    assert task.name == "regrade_submission"
    huey.execute(task)
    retry = huey.dequeue()  # Huey sends a delayed task at once; the consumer holds it until its time
    assert (retry.name, retry.args[0], retry.priority) == ("regrade_submission", regraded_id, REGRADE_PRIORITY)
    assert retry.eta is not None

    # A lost task is sent again by the sweep at the priority of what it is.
    queue.resend([regraded_id, upload_id])
    taken = [huey.dequeue() for _ in range(2)]
    assert [(task.name, task.args[0]) for task in taken] == [
        ("grade_submission", upload_id),
        ("regrade_submission", regraded_id),
    ]


def _wait_until_graded(engine, ids: list[int], *, timeout: float = 240) -> list[Submission]:
    deadline = time.monotonic() + timeout
    rows: list[Submission] = []
    while time.monotonic() < deadline:
        with Session(engine) as session:
            rows = list(session.exec(select(Submission).where(col(Submission.id).in_(ids))))
        if all(row.status == "graded" for row in rows):
            return rows
        time.sleep(0.2)
    raise AssertionError(f"not all of {ids} were graded in {timeout} s: {[(r.id, r.status) for r in rows]}")


@pytest.mark.sandbox
@pytest.mark.timeout(600)
def test_a_learners_upload_is_graded_before_the_remaining_regrades(huey, settings, engine, synced):
    """A real worker (one thread, the sandbox) is busy with a regrade when a learner uploads."""
    teacher = make_user(synced, role="instructor")
    learners = [make_user(synced) for _ in range(REGRADES + 1)]
    old_report = make_report(cases={"hello": True, "hi": False}).to_dict()
    regraded = [
        make_submission(synced, user=learner, status="graded", score=2, report=old_report, source=ECHO.decode())
        for learner in learners[:REGRADES]
    ]
    regraded_ids = [row.id for row in regraded]

    worker = GradingWorker.from_settings(settings, engine=engine)
    worker.check_fixes = False
    sandbox_grade = worker.grade
    busy, uploaded = threading.Event(), threading.Event()

    def grade(spec: ExerciseSpec, source: str, seed: int) -> Report:
        # The first regrade holds the worker until the learner's upload is in the queue.
        busy.set()
        assert uploaded.wait(120), "the upload never came"
        return sandbox_grade(spec, source, seed)

    worker.grade = grade
    queue = Queue(huey=huey, settings=settings, make_worker=lambda _: worker)
    consumer = GradingConsumer(queue, workers=1, embedded=True)
    consumer.start()
    try:
        regrade.regrade_exercise(
            session=synced, exercise_slug="message-echo", requested_by=teacher, enqueue=queue.regrade
        )
        assert busy.wait(120), "the worker never started the regrade"
        fresh = submissions.create(
            session=synced,
            user=learners[-1],
            exercise_slug="message-echo",
            filename="solution.py",
            data=ECHO,
            settings=settings,
            enqueue=queue.grade,
        )
        fresh_id = fresh.id
        # Behind the regrade in progress only: the waiting regrades are not ahead of the learner.
        assert submissions.get_progress(session=synced, submission_id=fresh_id).queue_position == 1
        uploaded.set()
        rows = {row.id: row for row in _wait_until_graded(engine, [*regraded_ids, fresh_id])}
    finally:
        uploaded.set()
        consumer.stop(graceful=True)

    learner_row = rows.pop(fresh_id)
    assert learner_row.report["status"] == "passed", learner_row.report.get("output")
    first = min(rows.values(), key=lambda row: row.started_at)
    rest = [row for row in rows.values() if row.id != first.id]
    assert len(rest) == REGRADES - 1
    # One worker thread: the learner's grading started once the first regrade finished, and ended
    # before any of the other regrades started.
    assert first.finished_at <= learner_row.started_at
    assert all(learner_row.finished_at <= row.started_at for row in rest), (
        learner_row.finished_at,
        sorted(row.started_at for row in rest),
    )
    assert all(row.report["status"] == "passed" for row in rows.values())


def test_waiting_regrades_do_not_make_the_graders_too_busy_to_check_fixes(huey, settings, engine, synced, monkeypatch):
    teacher = make_user(synced, role="instructor")
    report = make_report(cases={"hello": True}).to_dict()
    for _ in range(3):
        make_submission(synced, user=make_user(synced), status="graded", score=1, report=report)
    queue = Queue(huey=huey, settings=settings, make_worker=lambda _: GradingWorker(engine=engine, grade=Fails()))
    assert queue.worker is not None
    monkeypatch.setattr(settings, "fix_check_max_queue_depth", 1)
    regrade.regrade_exercise(session=synced, exercise_slug="message-echo", requested_by=teacher, enqueue=queue.regrade)
    assert queue.depth() == 3 and not queue.busy()  # the checks would go before all three
    queue.grade(make_submission(synced, user=make_user(synced)).id)
    assert not queue.busy()
    queue.grade(make_submission(synced, user=make_user(synced)).id)
    assert queue.busy()  # two learners' gradings ahead of any check
