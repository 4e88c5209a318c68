"""The grading worker: exclusive claims, expired leases graded again exactly once, infra retries."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta

import pytest
from huey import MemoryHuey
from huey.storage import SqliteStorage
from sqlmodel import Session

from grader.grading.report import Report
from grader.grading.spec import ExerciseSpec
from grader.jobs import GradingWorker, Queue, build_huey
from grader.models import Submission, utcnow
from grader.services import submissions
from tests.factories import make_report, make_submission, make_user


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class FakeGrader:
    """Returns the queued reports in turn and records what it was asked to grade."""

    def __init__(self, *reports: Report) -> None:
        self.reports = list(reports)
        self.calls: list[tuple[str, str, int]] = []

    def __call__(self, spec: ExerciseSpec, source: str, seed: int) -> Report:
        self.calls.append((spec.slug, source, seed))
        return self.reports.pop(0)


def _worker(engine, grade, clock: Clock, *, lease: int = 60, retries: int = 3) -> GradingWorker:
    return GradingWorker(engine=engine, grade=grade, lease_seconds=lease, max_infra_retries=retries, clock=clock)


def _reload(engine, submission_id: int) -> Submission:
    with Session(engine) as session:
        return session.get(Submission, submission_id)


@pytest.fixture
def queued(synced: Session) -> Submission:
    return make_submission(synced, user=make_user(synced), source="print('mine')\n")


def test_a_queued_submission_is_graded_and_its_report_stored(engine, queued):
    grader = FakeGrader(make_report(cases={"hello": True, "hi": False}, seed=queued.seed))
    result = _worker(engine, grader, Clock()).run(queued.id)

    assert result.outcome == "graded"
    assert grader.calls == [("message-echo", "print('mine')\n", queued.seed)]
    stored = _reload(engine, queued.id)
    assert (stored.status, stored.score, stored.max_score) == ("graded", 1.0, 2.0)
    assert Report.from_dict(stored.report).tests[1].status == "failed"
    assert stored.lease_token is None and stored.finished_at is not None
    assert stored.counts_toward_limit


def test_only_one_of_two_workers_can_claim_a_submission(engine, queued):
    clock = Clock()
    first, second = _worker(engine, FakeGrader(), clock), _worker(engine, FakeGrader(), clock)
    assert first.claim(queued.id) is not None
    assert second.claim(queued.id) is None
    assert _reload(engine, queued.id).status == "running"


def test_concurrent_claims_yield_exactly_one_winner(engine, queued):
    workers = [_worker(engine, FakeGrader(), Clock()) for _ in range(6)]
    barrier = threading.Barrier(len(workers))
    tokens: list[str | None] = []

    def claim(worker: GradingWorker) -> None:
        barrier.wait()
        tokens.append(worker.claim(queued.id))

    threads = [threading.Thread(target=claim, args=(worker,)) for worker in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len([token for token in tokens if token is not None]) == 1


def test_a_graded_submission_is_not_graded_again(engine, queued):
    clock = Clock()
    grader = FakeGrader(make_report(cases={"hello": True}))
    worker = _worker(engine, grader, clock)
    assert worker.run(queued.id).outcome == "graded"
    assert worker.run(queued.id).outcome == "not-claimed"
    assert len(grader.calls) == 1


def test_an_expired_lease_is_swept_and_graded_exactly_once(engine, queued):
    clock = Clock()
    crashed = _worker(engine, FakeGrader(), clock, lease=60)
    dead_token = crashed.claim(queued.id)  # this worker dies without storing anything
    rescuer_grader = FakeGrader(make_report(cases={"hello": True}))
    rescuer = _worker(engine, rescuer_grader, clock, lease=60)

    assert rescuer.sweep() == []  # lease still valid: nothing to resend
    assert rescuer.run(queued.id).outcome == "not-claimed"

    clock.advance(61)
    assert rescuer.sweep() == [queued.id]
    assert rescuer.run(queued.id).outcome == "graded"
    assert len(rescuer_grader.calls) == 1

    # The first worker wakes up late: its result must not replace the stored one.
    late = make_report(cases={"hello": False})
    assert crashed._store(queued.id, dead_token, late) is False
    stored = _reload(engine, queued.id)
    assert stored.status == "graded" and stored.score == 1.0
    assert rescuer.sweep() == []


def test_a_slow_worker_that_lost_its_lease_discards_its_result(engine, queued):
    clock = Clock()

    def slow_grade(spec, source, seed):
        # While this grading runs, its lease expires and another worker takes over and finishes.
        clock.advance(120)
        other = _worker(engine, FakeGrader(make_report(cases={"hello": True})), clock, lease=60)
        assert other.run(queued.id).outcome == "graded"
        return make_report(cases={"hello": False})

    result = _worker(engine, slow_grade, clock, lease=60).run(queued.id)
    assert result.outcome == "lease-lost"
    assert _reload(engine, queued.id).score == 1.0


def test_a_queued_submission_whose_task_never_arrived_is_resent(engine, synced):
    clock = Clock()
    user = make_user(synced)
    old = make_submission(synced, user=user, created_at=clock.now - timedelta(seconds=600))
    fresh = make_submission(synced, user=user, created_at=clock.now)
    worker = _worker(engine, FakeGrader(), clock, lease=60)
    assert worker.sweep() == [old.id]
    assert worker.sweep() == []  # resent once; not again until it is stale again
    assert _reload(engine, fresh.id).status == "queued"


def test_infra_failure_is_retried_with_backoff_and_never_counts(engine, synced, settings):
    clock = Clock()
    learner = make_user(synced)
    submission = make_submission(synced, user=learner, created_at=clock.now)
    grader = FakeGrader(
        make_report(cases={}, infra="sandbox did not start"),
        make_report(cases={}, infra="sandbox did not start"),
        make_report(cases={"hello": True}),
    )
    worker = _worker(engine, grader, clock)

    first = worker.run(submission.id)
    assert (first.outcome, first.retry_in) == ("retry", 5)
    stored = _reload(engine, submission.id)
    assert (stored.status, stored.infra_retries, stored.counts_toward_limit) == ("queued", 1, False)
    # The failed grading costs the learner nothing: they may submit again at once.
    assert submissions.seconds_until_next(session=synced, user=learner, settings=settings, now=clock.now) == 0
    assert worker.sweep() == []  # the scheduled retry is not due yet; the sweep leaves it alone

    second = worker.run(submission.id)
    assert (second.outcome, second.retry_in) == ("retry", 10)
    assert worker.run(submission.id).outcome == "graded"
    stored = _reload(engine, submission.id)
    assert (stored.status, stored.score, stored.infra_retries) == ("graded", 1.0, 2)
    assert stored.counts_toward_limit is False


def test_infra_failures_past_the_retry_limit_store_an_infra_report(engine, queued):
    grader = FakeGrader(*(make_report(cases={}, infra="no sandbox") for _ in range(2)))
    worker = _worker(engine, grader, Clock(), retries=1)
    assert worker.run(queued.id).outcome == "retry"
    assert worker.run(queued.id).outcome == "graded"
    stored = _reload(engine, queued.id)
    assert Report.from_dict(stored.report).is_infra_error
    assert stored.counts_toward_limit is False


def test_a_crashing_grader_still_ends_in_a_result(engine, queued):
    def broken(spec, source, seed):
        raise RuntimeError("disk full")

    worker = _worker(engine, broken, Clock(), retries=0)
    assert worker.run(queued.id).outcome == "graded"
    report = Report.from_dict(_reload(engine, queued.id).report)
    assert report.is_infra_error and "disk full" in report.error.message


def test_an_unknown_submission_id_is_ignored(engine):
    assert _worker(engine, FakeGrader(), Clock()).run(424242).outcome == "missing"


def test_the_huey_task_runs_the_worker_and_schedules_infra_retries(engine, queued, settings):
    grader = FakeGrader(make_report(cases={}, infra="flaky"), make_report(cases={"hello": True}))
    huey = MemoryHuey("test", immediate=True)
    queue = Queue(huey=huey, settings=settings, make_worker=lambda _: _worker(engine, grader, Clock()))

    queue.grade(queued.id)
    assert _reload(engine, queued.id).status == "queued"
    assert huey.scheduled_count() == 1  # the retry waits for its backoff delay

    queue.grade(queued.id)
    assert _reload(engine, queued.id).status == "graded"


def test_queue_urls_pick_the_matching_huey_storage(tmp_path):
    sqlite = build_huey(f"sqlite:///{tmp_path / 'q' / 'queue.sqlite3'}")
    assert isinstance(sqlite.storage, SqliteStorage) and (tmp_path / "q").is_dir()
    assert sqlite.storage.blocking  # woken by enqueue, never Huey's growing idle pause
    # WAL with synchronous NORMAL (1), not an fsync per commit under Huey's one lock.
    assert sqlite.storage.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert sqlite.storage.conn.execute("PRAGMA synchronous").fetchone()[0] == 1
    sqlite.storage.enqueue(b"task")
    assert sqlite.storage.dequeue() == b"task"
    redis = build_huey("redis://127.0.0.1:6379/0")
    assert type(redis).__name__ == "GraderRedisHuey" and redis.storage.blocking and redis.storage.priority
    with pytest.raises(ValueError, match="unsupported queue URL"):
        build_huey("amqp://elsewhere")


@pytest.mark.postgres
def test_postgresql_queue_url_uses_huey_postgres_storage(postgres_database):
    huey = build_huey(postgres_database())
    assert type(huey).__name__ == "PostgresHuey" and huey.storage.blocking
    huey.storage.enqueue(b"task")
    assert huey.storage.dequeue() == b"task"
    huey.storage.close()


@pytest.mark.sandbox
def test_the_real_engine_grades_a_stored_submission(engine, synced, settings):
    source = (
        "from fastapi import FastAPI\n\napp = FastAPI()\n\n\n"
        "@app.post('/message')\nasync def receive_message(msg: dict):\n    return {'received': msg}\n"
    )
    submission = make_submission(synced, user=make_user(synced), source=source)
    worker = GradingWorker.from_settings(settings, engine=engine)
    assert worker.run(submission.id).outcome == "graded"
    stored = _reload(engine, submission.id)
    assert stored.report["status"] == "passed", stored.report.get("output")
    assert stored.score == stored.max_score > 0


def test_an_enqueue_wakes_a_waiting_sqlite_worker_at_once(tmp_path):
    huey = build_huey(f"sqlite:///{tmp_path / 'queue.sqlite3'}")
    huey.storage.poll_seconds = 60  # only the wake-up can end the wait in time
    received: list[bytes | None] = []
    waiting = threading.Thread(target=lambda: received.append(huey.storage.dequeue()))
    waiting.start()
    time.sleep(0.2)
    assert waiting.is_alive() and received == []
    huey.storage.enqueue(b"task")
    waiting.join(timeout=10)
    assert received == [b"task"]


def test_tasks_starting_at_once_share_one_worker(settings):
    made: list[GradingWorker] = []

    def make(_settings):
        time.sleep(0.05)  # widen the window in which a second thread could build another
        made.append(GradingWorker(engine=None, grade=FakeGrader()))
        return made[-1]

    queue = Queue(huey=MemoryHuey("test"), settings=settings, make_worker=make)
    seen: list[GradingWorker] = []
    threads = [threading.Thread(target=lambda: seen.append(queue.worker)) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(made) == 1 and all(worker is made[0] for worker in seen)
