"""Grading jobs: a Huey queue carrying submission ids, and the worker that grades them.

The database is the source of truth; the queue only says "look at submission N".

* Claiming: a worker takes a submission with one conditional UPDATE (queued, or
  running with an expired lease → running with a fresh lease token). Only one
  worker's UPDATE can match, so two workers never grade the same row at once.
* Storing: the result is written with ``WHERE lease_token = <mine>``. A worker
  that lost its lease (it was too slow and another took over) stores nothing,
  so each grading stores exactly one result.
* Huey does not redeliver a task whose worker died. ``sweep`` (a periodic task)
  resends submissions whose lease expired and queued ones whose task was
  never delivered; duplicates are harmless because of the claim. Harmless but
  not free: behind a long queue a task is only late, not lost, so a row is
  resent at most once per ``RESEND_AFTER_LEASES`` leases (``enqueued_at``
  records the last send), except once at the moment its lease expires.
* A report with an ``infra`` error (the grader's failure, not the learner's) is
  retried with backoff, and the submission stops counting toward the
  learner's rate limit.

``GradingWorker`` is plain Python with the grading function passed in, so tests
run it without Huey and without a sandbox.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from huey import Huey, RedisHuey, SqliteHuey, crontab
from sqlalchemy import Engine, and_, or_, update
from sqlmodel import Session, col, select

from grader.config import Settings, get_settings
from grader.grading.report import GradingError, Report
from grader.grading.spec import ExerciseSpec
from grader.models import Exercise, Submission, utcnow
from grader.services import gradebook
from grader.services.updates import submission_changed

if TYPE_CHECKING:
    from huey.consumer import Consumer

log = logging.getLogger(__name__)

GradeFunction = Callable[[ExerciseSpec, str, int], Report]
"""Grades ``source`` for ``spec`` with ``seed``: the engine's ``grade_source`` in production."""

RETRY_BASE_SECONDS = 5
SWEEP_EVERY_MINUTES = 1
RESEND_AFTER_LEASES = 5
"""A task sent this many leases ago and still not picked up is taken for lost and sent again."""

Outcome = Literal["graded", "retry", "not-claimed", "lease-lost", "missing"]


def sandbox_grader(settings: Settings) -> GradeFunction:
    """The production grading function: the engine's sandboxed ``grade_source``."""

    def grade(spec: ExerciseSpec, source: str, seed: int) -> Report:
        from grader.grading.runner import grade_source

        return grade_source(spec, source, seed=seed, config=settings.sandbox_config())

    return grade


def infra_report(spec: ExerciseSpec, seed: int, message: str) -> Report:
    """A report saying the grader itself failed; it never counts against the learner."""
    report = Report(exercise=spec.slug, spec_hash=spec.spec_hash, seed=seed, max_score=spec.max_score)
    report.error = GradingError("infra", message)
    return report.finish()


@dataclass(frozen=True)
class GradingResult:
    """What one run of the worker did; ``retry_in`` is set when the task must be sent again."""

    submission_id: int
    outcome: Outcome
    retry_in: int | None = None


@dataclass
class GradingWorker:
    """Claims, grades and stores submissions; knows nothing of the queue."""

    engine: Engine
    grade: GradeFunction
    lease_seconds: int = 120
    max_infra_retries: int = 3
    clock: Callable[[], datetime] = field(default=utcnow)

    @classmethod
    def from_settings(cls, settings: Settings, *, engine: Engine | None = None) -> GradingWorker:
        """A worker grading in the sandbox, configured from ``settings``."""
        from grader.db import get_engine

        return cls(
            engine=engine or get_engine(settings),
            grade=sandbox_grader(settings),
            lease_seconds=settings.grading_lease_seconds,
            max_infra_retries=settings.grading_infra_retries,
        )

    def claim(self, submission_id: int) -> str | None:
        """Take the submission for grading; the new lease token, or None if another worker has it."""
        now = self.clock()
        token = uuid.uuid4().hex
        claimable = or_(
            col(Submission.status) == "queued",
            and_(col(Submission.status) == "running", col(Submission.lease_expires_at) < now),
        )
        statement = (
            update(Submission)
            .where(col(Submission.id) == submission_id, claimable)
            .values(
                status="running",
                lease_token=token,
                lease_expires_at=now + timedelta(seconds=self.lease_seconds),
                started_at=now,
            )
        )
        with Session(self.engine) as session:
            claimed = session.exec(statement).rowcount == 1
            session.commit()
        if claimed:
            submission_changed(submission_id)
        return token if claimed else None

    def run(self, submission_id: int) -> GradingResult:
        """Grade one submission end to end, storing at most one result."""
        with Session(self.engine) as session:
            if session.get(Submission, submission_id) is None:
                return GradingResult(submission_id, "missing")
        token = self.claim(submission_id)
        if token is None:
            return GradingResult(submission_id, "not-claimed")
        # Read what grading needs, then let go of the database while the sandbox runs.
        with Session(self.engine) as session:
            submission = session.get_one(Submission, submission_id)
            exercise = session.get_one(Exercise, submission.exercise_id)
            source, seed, retries = submission.source, submission.seed, submission.infra_retries
            spec = ExerciseSpec.model_validate(exercise.spec)
        try:
            report = self.grade(spec, source, seed)
        except Exception as exc:  # noqa: BLE001 - last resort: a crash must still end in a result
            log.exception("grading submission %s failed", submission_id)
            report = infra_report(spec, seed, f"the grader failed: {type(exc).__name__}: {exc}")
        if report.is_infra_error and retries < self.max_infra_retries:
            delay = RETRY_BASE_SECONDS * 2**retries
            if self._requeue(submission_id, token, delay):
                return GradingResult(submission_id, "retry", retry_in=delay)
            return GradingResult(submission_id, "lease-lost")
        if self._store(submission_id, token, report):
            return GradingResult(submission_id, "graded")
        return GradingResult(submission_id, "lease-lost")

    def _store(self, submission_id: int, token: str, report: Report) -> bool:
        values = {
            "status": "graded",
            "score": report.score,
            "max_score": report.max_score,
            "report": report.to_dict(),
            "spec_hash": report.spec_hash,
            "finished_at": self.clock(),
            "lease_token": None,
            "lease_expires_at": None,
        }
        if report.is_infra_error:
            values["counts_toward_limit"] = False
        return self._update_if_leased(submission_id, token, values)

    def _requeue(self, submission_id: int, token: str, delay: int) -> bool:
        return self._update_if_leased(
            submission_id,
            token,
            {
                "status": "queued",
                "lease_token": None,
                "lease_expires_at": None,
                "enqueued_at": self.clock() + timedelta(seconds=delay),
                "infra_retries": Submission.infra_retries + 1,
                # The grader failed, not the learner: this grading costs them nothing.
                "counts_toward_limit": False,
            },
        )

    def _update_if_leased(self, submission_id: int, token: str, values: dict[str, Any]) -> bool:
        statement = (
            update(Submission)
            .where(col(Submission.id) == submission_id, col(Submission.lease_token) == token)
            .values(**values)
        )
        with Session(self.engine) as session:
            stored = session.exec(statement).rowcount == 1
            if stored:
                gradebook.record_result(session, submission_id=submission_id, report=values.get("report"))
            session.commit()
        if stored:
            submission_changed(submission_id)
        else:
            log.warning("submission %s: lease lost before the result was stored; discarded", submission_id)
        return stored

    def sweep(self) -> list[int]:
        """Ids to send to the queue again: expired leases, and queued rows whose task went missing."""
        now = self.clock()
        # Behind a long queue a sent task may wait many leases before a worker
        # reaches it; sending it again every lease would only pile up duplicates.
        long_ago = now - timedelta(seconds=self.lease_seconds * RESEND_AFTER_LEASES)
        never_sent = col(Submission.enqueued_at).is_(None)
        sent_long_ago = col(Submission.enqueued_at) < long_ago
        expired = and_(
            col(Submission.status) == "running",
            col(Submission.lease_expires_at) < now,
            # Once as soon as the lease runs out, then only if that send is lost too.
            or_(never_sent, col(Submission.enqueued_at) < col(Submission.lease_expires_at), sent_long_ago),
        )
        undelivered = and_(col(Submission.status) == "queued", or_(never_sent, sent_long_ago))
        with Session(self.engine) as session:
            ids = list(
                session.exec(select(Submission.id).where(or_(expired, undelivered)).order_by(col(Submission.id)))
            )
            if ids:
                session.exec(update(Submission).where(col(Submission.id).in_(ids)).values(enqueued_at=now))
                session.commit()
        return ids


# --- the queue ----------------------------------------------------------------------------


def build_huey(url: str, *, name: str = "grader") -> Huey:
    """A Huey instance for ``url``: ``sqlite:///path``, ``redis://…`` or ``postgresql://…``."""
    if url.startswith("sqlite:///"):
        from pathlib import Path

        path = Path(url.removeprefix("sqlite:///"))
        path.parent.mkdir(parents=True, exist_ok=True)
        return SqliteHuey(name, filename=str(path), results=False)
    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisHuey(name, url=url, results=False)
    if url.startswith(("postgresql://", "postgres://", "postgresql+psycopg://")):
        from huey import PostgresHuey

        return PostgresHuey(name, dsn=url.replace("postgresql+psycopg://", "postgresql://", 1), results=False)
    raise ValueError(f"unsupported queue URL {url!r}: use sqlite:///…, redis://… or postgresql://…")


@dataclass
class Queue:
    """The Huey instance with the grading tasks registered on it."""

    huey: Huey
    settings: Settings
    make_worker: Callable[[Settings], GradingWorker] = GradingWorker.from_settings
    grade: Callable[..., Any] = field(init=False)
    sweep: Callable[..., Any] = field(init=False)
    _worker: GradingWorker | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.grade, self.sweep = _register(self)

    @property
    def worker(self) -> GradingWorker:
        """The worker the tasks run (built on first use, so enqueuing never needs the sandbox)."""
        if self._worker is None:
            self._worker = self.make_worker(self.settings)
        return self._worker


def _register(queue: Queue) -> tuple[Callable[..., Any], Callable[..., Any]]:
    huey = queue.huey

    @huey.task(name="grade_submission")
    def grade_task(submission_id: int) -> str:
        result = queue.worker.run(submission_id)
        if result.retry_in is not None:
            grade_task.schedule(args=(submission_id,), delay=result.retry_in)
        return result.outcome

    @huey.periodic_task(crontab(minute=f"*/{SWEEP_EVERY_MINUTES}"), name="sweep_submissions")
    def sweep_task() -> int:
        ids = queue.worker.sweep()
        for submission_id in ids:
            grade_task(submission_id)
        if ids:
            log.info("sweep re-sent %d submission(s): %s", len(ids), ids)
        return len(ids)

    return grade_task, sweep_task


_queues: dict[str, Queue] = {}
_queues_lock = threading.Lock()


def get_queue(settings: Settings | None = None) -> Queue:
    """The process-wide queue for ``settings.effective_queue_url``."""
    settings = settings or get_settings()
    url = settings.effective_queue_url
    with _queues_lock:
        if url not in _queues:
            _queues[url] = Queue(huey=build_huey(url), settings=settings)
        return _queues[url]


def enqueue_grading(submission_id: int, *, settings: Settings | None = None) -> None:
    """Ask a worker to grade ``submission_id``."""
    get_queue(settings).grade(submission_id)


def start_consumer(settings: Settings | None = None, *, workers: int | None = None, embedded: bool = False) -> Consumer:
    """A Huey consumer (threads): ``embedded`` starts it here, leaving signals to the host; otherwise call ``run()``."""
    from huey.consumer import Consumer

    settings = settings or get_settings()

    class _EmbeddedConsumer(Consumer):
        def _set_signal_handlers(self) -> None:
            # uvicorn owns SIGINT/SIGTERM in ``serve``; it stops us on shutdown.
            pass

    consumer_class = _EmbeddedConsumer if embedded else Consumer
    queue = get_queue(settings)
    consumer = consumer_class(
        queue.huey, workers=workers or settings.worker_threads, worker_type="thread", periodic=True
    )
    if embedded:
        consumer.start()
    return consumer
