"""Grading jobs: a Huey queue carrying submission ids, and the worker that grades them.

The database is the source of truth; the queue only says "look at submission N".

* Claiming: a worker takes a submission with one conditional UPDATE (queued, or
  running with an expired lease → running with a fresh lease token). Only one
  worker's UPDATE can match, so two workers never grade the same row at once.
* Storing: the result is written with ``WHERE lease_token = <mine>``. A worker
  that lost its lease (it was too slow and another took over) stores nothing,
  so each grading stores exactly one result.
* Leases follow the work: while a grading runs, a heartbeat thread renews its
  lease every third of the lease, so a grading of any length is stored once,
  while a dead worker's lease (no heartbeat) runs out within one lease.
* Huey does not redeliver a task whose worker died. ``sweep`` (a periodic task,
  every ``sweep_seconds``) resends submissions whose lease expired and queued ones whose task was
  never delivered; duplicates are harmless because of the claim. Harmless but
  not free: behind a long queue a task is only late, not lost, so a row is
  resent at most once per ``RESEND_AFTER_LEASES`` leases (``enqueued_at``
  records the last send), except once at the moment its lease expires.
* A report with an ``infra`` error (the grader's failure, not the learner's) is
  retried with backoff, and the submission stops counting toward the
  learner's rate limit.

* Stopping (SIGTERM, or the web service shutting down): no new task is taken,
  gradings in progress get ``worker_shutdown_seconds`` to finish, and those
  still running are handed back (queued again and re-sent) before the process
  exits, taking its sandboxes with it.
* Priority: a learner's upload is graded before checks of proposed fixes
  (``CHECK_PRIORITY``), which go before regrades (``REGRADE_PRIORITY``), on
  every storage; a resent or retried task keeps its priority.
* Dispatch: Redis (``BRPOP``) and PostgreSQL (``LISTEN``/``NOTIFY``) storages
  block until a task arrives. The SQLite storage cannot, so the embedded queue
  wakes its waiting worker threads from ``enqueue`` in the same process, and
  polls every ``SQLITE_POLL_SECONDS`` for tasks sent by other processes.

``GradingWorker`` is plain Python with the grading function passed in, so tests
run it without Huey and without a sandbox.
"""

from __future__ import annotations

import itertools
import logging
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from huey import Huey, PriorityRedisHuey
from huey.consumer import Consumer
from huey.storage import PriorityRedisStorage, SqliteStorage
from sqlalchemy import Engine, and_, or_, update
from sqlmodel import Session, col, func, select

from grader import metrics
from grader.config import Settings, get_settings
from grader.grading.fixcheck import check_fix
from grader.grading.report import FixCheck, GradingError, Report
from grader.grading.spec import ExerciseSpec
from grader.logs import grading_submission
from grader.models import Exercise, Submission, utcnow
from grader.services import fixchecks, gradebook, regrade_scores
from grader.services.lti import grades as lti_grades
from grader.services.lti import roster as lti_roster
from grader.services.updates import Announcer, broadcast_for, submission_changed

log = logging.getLogger(__name__)

GradeFunction = Callable[[ExerciseSpec, str, int], Report]
"""Grades ``source`` for ``spec`` with ``seed``: the engine's ``grade_source`` in production."""

RETRY_BASE_SECONDS = 5
RESEND_AFTER_LEASES = 5
"""A task sent this many leases ago and still not picked up is taken for lost and sent again."""

Outcome = Literal["graded", "retry", "not-claimed", "lease-lost", "missing"]

GRADING_PRIORITY = 0
"""A learner's upload: its first grading goes before every other task."""
CHECK_PRIORITY = -10
"""Checks of proposed fixes wait behind every learner's grading on every queue storage."""
REGRADE_PRIORITY = -20
"""Regrades wait behind learners' gradings and behind checks of fixes.

A check finishes feedback a learner is reading now, and there are at most a few per upload
(none when the queue is deep); a regrade replaces a result the learner already has, and one
instructor's click can queue every submission of a class.
"""


def sandbox_grader(settings: Settings) -> GradeFunction:
    """The production grading function: the engine's sandboxed ``grade_source``, with pre-started sandboxes."""
    config, pool = settings.sandbox_config(), settings.sandbox_pool()

    def grade(spec: ExerciseSpec, source: str, seed: int) -> Report:
        from grader.grading.runner import grade_source

        return grade_source(spec, source, seed=seed, config=config, pool=pool)

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
    lease_seconds: float = 30
    max_infra_retries: int = 3
    clock: Callable[[], datetime] = field(default=utcnow)
    heartbeat_seconds: float | None = None
    """How often a running grading renews its lease; a third of the lease when None."""
    announce: Callable[[int], None] = submission_changed
    """Called after a submission's change is committed (claimed, graded, requeued): wakes whoever follows it."""
    check_fixes: bool = False
    """Whether a stored result's proposed fixes are checked (``request_checks`` then queues the job)."""
    fixes_per_submission: int = 3
    busy: Callable[[], bool] = field(default=lambda: False)
    """Whether the graders are too busy for checks now (the queue is deep): fixes are then not checked."""
    request_checks: Callable[[int], None] | None = None
    """Queues the check job of a submission whose fixes wait (``Queue`` sets it to its low-priority task)."""
    request_score_send: Callable[[int, int], None] | None = None
    """Queues the job that posts a learner's counted score (assignment id, user id) to the LMS (``Queue`` sets it)."""
    _in_flight: dict[int, str] = field(default_factory=dict, init=False, repr=False)
    _in_flight_lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    @classmethod
    def from_settings(cls, settings: Settings, *, engine: Engine | None = None) -> GradingWorker:
        """A worker grading in the sandbox, configured from ``settings``."""
        from grader.db import get_engine

        return cls(
            engine=engine or get_engine(settings),
            grade=sandbox_grader(settings),
            lease_seconds=settings.grading_lease_seconds,
            max_infra_retries=settings.grading_infra_retries,
            announce=Announcer(broadcast_for(settings)),
            check_fixes=settings.fix_checks,
            fixes_per_submission=settings.fix_checks_per_submission,
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
            self.announce(submission_id)
        return token if claimed else None

    def run(self, submission_id: int) -> GradingResult:
        """Grade one submission end to end, storing at most one result."""
        with grading_submission(submission_id):
            result = self._run(submission_id)
            log.info("grading %s", result.outcome, extra={"event": f"grading-{result.outcome}"})
            return result

    def _run(self, submission_id: int) -> GradingResult:
        # Claimed first: the common case then costs one statement; why a claim failed is asked only when it did.
        token = self.claim(submission_id)
        if token is None:
            with Session(self.engine) as session:
                exists = session.exec(select(Submission.id).where(col(Submission.id) == submission_id)).first()
            return GradingResult(submission_id, "not-claimed" if exists is not None else "missing")
        with self._held(submission_id, token):
            return self._grade_claimed(submission_id, token)

    def _grade_claimed(self, submission_id: int, token: str) -> GradingResult:
        # Read what grading needs, then let go of the database while the sandbox runs.
        with Session(self.engine) as session:
            submission = session.get_one(Submission, submission_id)
            exercise = session.get_one(Exercise, submission.exercise_id)
            source, seed, retries = submission.source, submission.seed, submission.infra_retries
            spec = ExerciseSpec.model_validate(exercise.spec)
        log.info("grading started (exercise %s)", spec.slug, extra={"event": "grading-started"})
        started = time.monotonic()
        try:
            report = self.grade(spec, source, seed)
        except Exception as exc:  # noqa: BLE001 - last resort: a crash must still end in a result
            log.exception("grading submission %s failed", submission_id)
            metrics.SANDBOX_FAILURES.labels(kind=f"exception:{type(exc).__name__}").inc()
            report = infra_report(spec, seed, f"the grader failed: {type(exc).__name__}: {exc}")
        metrics.record_grading(report, time.monotonic() - started)
        if report.is_infra_error and retries < self.max_infra_retries:
            delay = RETRY_BASE_SECONDS * 2**retries
            if self._requeue(submission_id, token, delay):
                reason = report.error.message if report.error else "unknown"
                log.warning("the grader failed (%s); retrying in %s s", reason, delay)
                return GradingResult(submission_id, "retry", retry_in=delay)
            return GradingResult(submission_id, "lease-lost")
        if self._store(submission_id, token, report):
            log.info(
                "result stored: %s, %s/%s",
                report.status,
                f"{report.score:g}",
                f"{report.max_score:g}",
                extra={"event": "result-stored"},
            )
            return GradingResult(submission_id, "graded")
        return GradingResult(submission_id, "lease-lost")

    # -- the lease while a grading runs

    @contextmanager
    def _held(self, submission_id: int, token: str) -> Iterator[None]:
        """While the block runs, the lease is renewed and the submission can be handed back."""
        with self._in_flight_lock:
            self._in_flight[submission_id] = token
        stop = threading.Event()
        interval = self.heartbeat_seconds or self.lease_seconds / 3
        heartbeat = threading.Thread(
            target=self._beat, args=(submission_id, token, interval, stop), name=f"lease-{submission_id}", daemon=True
        )
        heartbeat.start()
        try:
            yield
        finally:
            stop.set()
            heartbeat.join()
            with self._in_flight_lock:
                self._in_flight.pop(submission_id, None)

    def _beat(self, submission_id: int, token: str, interval: float, stop: threading.Event) -> None:
        with grading_submission(submission_id):
            while not stop.wait(interval):
                try:
                    renewed = self.renew(submission_id, token)
                except Exception:  # noqa: BLE001 - a database hiccup: the next beat tries again
                    log.warning("could not renew the lease", exc_info=True)
                    continue
                if not renewed:
                    log.warning("lease lost while grading (regraded or handed back); its result will be discarded")
                    return

    def renew(self, submission_id: int, token: str) -> bool:
        """Push the lease's expiry one lease ahead; False once the lease is no longer ours."""
        statement = (
            update(Submission)
            .where(col(Submission.id) == submission_id, col(Submission.lease_token) == token)
            .values(lease_expires_at=self.clock() + timedelta(seconds=self.lease_seconds))
        )
        with Session(self.engine) as session:
            renewed = session.exec(statement).rowcount == 1
            session.commit()
        return renewed

    def hand_back(self) -> list[int]:
        """Give up every grading in progress (the process is stopping); the ids to send again."""
        with self._in_flight_lock:
            held = dict(self._in_flight)
        returned = []
        for submission_id, token in held.items():
            released = self._update_if_leased(
                submission_id,
                token,
                {"status": "queued", "lease_token": None, "lease_expires_at": None, "enqueued_at": self.clock()},
                quiet=True,
            )
            if released:
                with grading_submission(submission_id):
                    log.warning("handed back unfinished: the worker is stopping", extra={"event": "handed-back"})
                returned.append(submission_id)
        return returned

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

    def _update_if_leased(self, submission_id: int, token: str, values: dict[str, Any], *, quiet: bool = False) -> bool:
        statement = (
            update(Submission)
            .where(col(Submission.id) == submission_id, col(Submission.lease_token) == token)
            .values(**values)
        )
        checks: list[int] = []
        score_due: tuple[int, int] | None = None
        with Session(self.engine) as session:
            stored = session.exec(statement).rowcount == 1
            if stored:
                gradebook.record_result(session, submission_id=submission_id, report=values.get("report"))
                if values.get("status") == "graded":
                    regrade_scores.record_result(session, submission_id=submission_id, report=values.get("report"))
                    # An LTI-linked assignment's counted score goes to the LMS once this commits.
                    score_due = lti_grades.record(session=session, submission_id=submission_id)
                    checks = fixchecks.record_for_result(
                        session,
                        submission_id=submission_id,
                        report=values.get("report"),
                        skipped=self._why_not_check(values.get("report")),
                        limit=self.fixes_per_submission,
                    )
            session.commit()
        if stored:
            self.announce(submission_id)
            if checks and self.request_checks is not None:
                self._request_checks(submission_id)
            if score_due is not None and self.request_score_send is not None:
                self.request_score_send(*score_due)
        elif not quiet:
            log.warning("lease lost before the result was stored; discarded", extra={"event": "result-discarded"})
        return stored

    # -- checking proposed fixes, after the result is stored

    def _why_not_check(self, report: dict[str, Any] | None) -> str | None:
        """Why the report's fixes are not checked now, or None when a check job is to be queued."""
        if not self.check_fixes or self.request_checks is None:
            return fixchecks.TURNED_OFF
        if not fixchecks.proposed_fixes(report):
            return None  # nothing to check: no row is written
        return fixchecks.BUSY if self._busy_now() else None

    def _request_checks(self, submission_id: int) -> None:
        assert self.request_checks is not None
        try:
            self.request_checks(submission_id)
        except Exception:  # noqa: BLE001 - the result is stored; its fixes read as not checked once stale
            log.exception("could not queue the check of submission %s's fixes", submission_id)

    def check(self, submission_id: int) -> int:
        """Grade the submission's changed files for the fixes that wait; how many outcomes were stored.

        Runs below every learner's grading in priority. When the graders became busy since the
        result was stored, the fixes are recorded as not checked instead of graded.
        """
        with grading_submission(submission_id), Session(self.engine) as session:
            submission = session.get(Submission, submission_id)
            waiting = fixchecks.pending(session, submission_id=submission_id)
            if submission is None or submission.report is None or not waiting:
                return 0
            exercise = session.get_one(Exercise, submission.exercise_id)
            spec = ExerciseSpec.model_validate(exercise.spec)
            stored_report, source = Report.from_dict(submission.report), submission.source
        busy = self._busy_now()
        stored = 0
        for row_id, place in waiting:
            if busy:
                outcome = FixCheck("not_checked", reason=fixchecks.BUSY)
            elif place >= len(stored_report.diagnoses):
                outcome = FixCheck("not_checked", reason="the mistake is no longer in the report")
            else:
                outcome = check_fix(
                    source,
                    stored_report,
                    stored_report.diagnoses[place],
                    lambda changed: self.grade(spec, changed, stored_report.seed),
                )
            with Session(self.engine) as session:
                written = fixchecks.store_outcome(session, row_id=row_id, outcome=outcome)
                session.commit()
            if written:
                stored += 1
                log.info("fix checked: %s", outcome.status, extra={"event": f"fix-{outcome.status}"})
                self.announce(submission_id)
        return stored

    def _busy_now(self) -> bool:
        try:
            return self.busy()
        except Exception:  # noqa: BLE001 - when in doubt, learners' gradings come first
            log.warning("could not read the queue's depth; fixes not checked", exc_info=True)
            return True

    def queued_regrades(self) -> int:
        """Submissions waiting for a regrade (their tasks are behind learners' gradings and checks)."""
        with Session(self.engine) as session:
            return session.exec(
                select(func.count())
                .select_from(Submission)
                .where(col(Submission.status) == "queued", col(Submission.regrade_batch_id).is_not(None))
            ).one()

    def regrades_among(self, ids: list[int]) -> set[int]:
        """Those of ``ids`` waiting for a regrade (not a learner's first grading)."""
        with Session(self.engine) as session:
            return set(
                session.exec(
                    select(Submission.id).where(
                        col(Submission.id).in_(ids), col(Submission.regrade_batch_id).is_not(None)
                    )
                )
            )

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

SQLITE_POLL_SECONDS = 0.2
"""How often the SQLite queue looks for tasks sent by another process (this process's wake at once)."""


class WakeableSqliteStorage(SqliteStorage):
    """Huey's SQLite storage, blocking: ``dequeue`` waits until a task is enqueued in this process.

    SQLite has no notifications, and Huey's consumer polls an empty non-blocking
    queue with a growing pause (up to 10 s), so a submission arriving after a
    quiet spell waited for it. Here an ``enqueue`` in the same process (the web
    service and its embedded worker) wakes the waiting threads at once; tasks
    from other processes are found by polling every ``poll_seconds``.
    """

    blocking = True

    def __init__(self, *args: Any, poll_seconds: float = SQLITE_POLL_SECONDS, **kwargs: Any) -> None:
        self.poll_seconds = poll_seconds
        self._arrived = threading.Condition()
        self._generation = 0
        super().__init__(*args, **kwargs)

    def _create_connection(self) -> sqlite3.Connection:
        connection: sqlite3.Connection = super()._create_connection()
        # Huey leaves SQLite's default, an fsync at every commit, with its one lock
        # held: uploads queued behind one another's disk flushes. In WAL mode NORMAL
        # stays consistent after any crash and may lose only the last commits on a
        # power loss, and the submissions table is the record: the sweep sends a
        # queued submission whose task went missing again.
        connection.execute("PRAGMA synchronous=NORMAL")
        return connection

    def enqueue(self, data: bytes, priority: float | None = None) -> None:
        super().enqueue(data, priority)
        with self._arrived:
            self._generation += 1
            self._arrived.notify_all()

    def dequeue(self) -> bytes | None:
        with self._arrived:
            seen = self._generation
        data: bytes | None = super().dequeue()
        if data is not None:
            return data
        with self._arrived:
            self._arrived.wait_for(lambda: self._generation != seen, timeout=self.poll_seconds)
        data = super().dequeue()
        return data


class WakeableSqliteHuey(Huey):
    """A Huey on ``WakeableSqliteStorage``."""

    storage_class = WakeableSqliteStorage


class PriorityRedisQueueStorage(PriorityRedisStorage):
    """Huey's Redis storage with task priority, its queue under a key of its own.

    The plain Redis storage keeps a list at ``huey.redis.<name>``, where this one keeps a sorted
    set: a new key, so tasks a previous version left in the list never meet a command of the
    wrong type. The submissions they named are queued rows, which the sweep sends again.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.queue_key = f"huey.priority.{self.name}"


class GraderRedisHuey(PriorityRedisHuey):
    """A Huey on ``PriorityRedisQueueStorage``."""

    storage_class = PriorityRedisQueueStorage


def build_huey(url: str, *, name: str = "grader") -> Huey:
    """A Huey instance for ``url``: ``sqlite:///path``, ``redis://…`` or ``postgresql://…``.

    ``name`` keeps queues apart on one server (Redis key prefix, PostgreSQL queue column).
    """
    if url.startswith("sqlite:///"):
        from pathlib import Path

        path = Path(url.removeprefix("sqlite:///"))
        path.parent.mkdir(parents=True, exist_ok=True)
        return WakeableSqliteHuey(name, filename=str(path), results=False)
    if url.startswith(("redis://", "rediss://", "unix://")):
        # Blocking pops (BZPOPMIN on a sorted set, Redis 5 or later): a waiting worker gets a new
        # task as soon as it is pushed, learners' gradings before checks of fixes.
        return GraderRedisHuey(name, url=url, results=False, blocking=True)
    if url.startswith(("postgresql://", "postgres://", "postgresql+psycopg://")):
        from huey import PostgresHuey

        # Blocking: workers LISTEN and each enqueue NOTIFYs them.
        return PostgresHuey(
            name, dsn=url.replace("postgresql+psycopg://", "postgresql://", 1), results=False, blocking=True
        )
    raise ValueError(f"unsupported queue URL {url!r}: use sqlite:///…, redis://… or postgresql://…")


@dataclass
class Queue:
    """The Huey instance with the grading tasks registered on it."""

    huey: Huey
    settings: Settings
    make_worker: Callable[[Settings], GradingWorker] = GradingWorker.from_settings
    grade: Callable[..., Any] = field(init=False)
    regrade: Callable[..., Any] = field(init=False)
    check: Callable[..., Any] = field(init=False)
    sweep: Callable[..., Any] = field(init=False)
    send_score: Callable[..., Any] = field(init=False)
    sync_roster: Callable[..., Any] = field(init=False)
    _worker: GradingWorker | None = field(default=None, init=False)
    _worker_lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def __post_init__(self) -> None:
        self.grade, self.regrade, self.check, self.sweep = _register(self)
        self.send_score, self.sync_roster = _register_lti(self)

    @property
    def worker(self) -> GradingWorker:
        """The worker the tasks run (built on first use, so enqueuing never needs the sandbox)."""
        # Tasks start in several threads at once; they must share one worker (its in-flight list).
        with self._worker_lock:
            if self._worker is None:
                worker = self.make_worker(self.settings)
                if worker.request_checks is None:
                    worker.request_checks = self.check
                    worker.busy = self.busy
                if worker.request_score_send is None:
                    worker.request_score_send = self.send_score
                self._worker = worker
            return self._worker

    def busy(self) -> bool:
        """Whether so many tasks wait ahead of checks that proposed fixes are not checked now."""
        limit = self.settings.fix_check_max_queue_depth
        waiting = self.depth()
        if waiting > limit and self._worker is not None:
            # Regrades wait behind checks: a bulk regrade alone does not make the graders busy for them.
            waiting -= self._worker.queued_regrades()
        return waiting > limit

    def depth(self) -> int:
        """Tasks waiting in the queue's storage (not the database's count of queued submissions)."""
        return int(self.huey.pending_count())

    def hand_back(self) -> list[int]:
        """Release the gradings this process still runs and send them to the queue again."""
        if self._worker is None:
            return []
        ids = self._worker.hand_back()
        self.resend(ids)
        return ids

    def resend(self, ids: list[int]) -> None:
        """Send submissions to the queue again, each at its priority (a regrade stays a regrade)."""
        if not ids:
            return
        try:
            regrades = self.worker.regrades_among(ids)
        except Exception:  # noqa: BLE001 - sent as first gradings: late regrades beat lost ones
            log.exception("could not tell regrades apart; re-sending at the gradings' priority")
            regrades = set()
        for submission_id in ids:
            try:
                (self.regrade if submission_id in regrades else self.grade)(submission_id)
            except Exception:  # noqa: BLE001 - the row is queued; the sweep sends it again
                log.exception("could not re-send submission %s; the sweep will", submission_id)


def _always(_now: datetime) -> bool:
    return True


def _register(queue: Queue) -> tuple[Callable[..., Any], Callable[..., Any], Callable[..., Any], Callable[..., Any]]:
    huey = queue.huey

    def run(task: Any, submission_id: int) -> str:
        result = queue.worker.run(submission_id)
        if result.retry_in is not None:
            # A retry stays at its task's priority: a regrade's never overtakes learners' uploads.
            task.schedule(args=(submission_id,), delay=result.retry_in)
        return result.outcome

    @huey.task(name="grade_submission", priority=GRADING_PRIORITY)
    def grade_task(submission_id: int) -> str:
        return run(grade_task, submission_id)

    # The same work as a learner's grading, below it and below checks of fixes in every storage.
    @huey.task(name="regrade_submission", priority=REGRADE_PRIORITY)
    def regrade_task(submission_id: int) -> str:
        return run(regrade_task, submission_id)

    @huey.task(name="check_fixes", priority=CHECK_PRIORITY)
    def check_task(submission_id: int) -> int:
        return queue.worker.check(submission_id)

    # Runs every time the consumer's scheduler checks periodic tasks: every
    # ``sweep_seconds`` (see ``GradingConsumer``), not Huey's once a minute.
    @huey.periodic_task(_always, name="sweep_submissions")
    def sweep_task() -> int:
        ids = queue.worker.sweep()
        queue.resend(ids)
        if ids:
            log.info("sweep re-sent %d submission(s): %s", len(ids), ids)
        return len(ids)

    return grade_task, regrade_task, check_task, sweep_task


def _register_lti(queue: Queue) -> tuple[Callable[..., Any], Callable[..., Any]]:
    """The LTI jobs: a learner's score to the LMS (retried with growing waits), an LMS course's roster."""
    huey = queue.huey

    @huey.task(name="lti_send_score")
    def send_score_task(assignment_id: int, user_id: int) -> str:
        from grader.db import get_engine

        with Session(get_engine(queue.settings)) as session:
            row = lti_grades.send(
                session=session, assignment_id=assignment_id, user_id=user_id, secret=queue.settings.secret_key
            )
            if row is None:
                return "gone"
            if row.status == "pending" and row.next_try_at is not None:
                delay = max(1, int((row.next_try_at - utcnow()).total_seconds()))
                log.warning("LMS refused the score; trying again in %d s: %s", delay, row.last_error)
                send_score_task.schedule(args=(assignment_id, user_id), delay=delay)
            return row.status

    @huey.task(name="lti_sync_roster")
    def sync_roster_task(context_id: int) -> int:
        from grader.db import get_engine

        with Session(get_engine(queue.settings)) as session:
            return lti_roster.sync(session=session, context_id=context_id, secret=queue.settings.secret_key).created

    # Beside the grading sweep: a score whose send was lost (the queue refused it, a worker died) goes again.
    @huey.periodic_task(_always, name="lti_resend_lost_scores")
    def resend_task() -> int:
        from grader.db import get_engine

        with Session(get_engine(queue.settings)) as session:
            lost = lti_grades.lost_sends(session=session)
        for assignment_id, user_id in lost:
            send_score_task(assignment_id, user_id)
        return len(lost)

    return send_score_task, sync_roster_task


_queues: dict[tuple[str, str], Queue] = {}
_queues_lock = threading.Lock()


def get_queue(settings: Settings | None = None) -> Queue:
    """The process-wide queue for ``settings.effective_queue_url`` and ``settings.queue_name``."""
    settings = settings or get_settings()
    key = (settings.effective_queue_url, settings.queue_name)
    with _queues_lock:
        if key not in _queues:
            _queues[key] = Queue(huey=build_huey(key[0], name=key[1]), settings=settings)
        return _queues[key]


def enqueue_grading(submission_id: int, *, settings: Settings | None = None) -> None:
    """Ask a worker to grade ``submission_id`` (a learner's upload: before everything else)."""
    get_queue(settings).grade(submission_id)


def enqueue_regrade(submission_id: int, *, settings: Settings | None = None) -> None:
    """Ask a worker to grade ``submission_id`` again, behind learners' gradings and checks of fixes."""
    get_queue(settings).regrade(submission_id)


class GradingConsumer(Consumer):
    """Huey's consumer with the sweep every ``sweep_seconds`` and a stop that hands work back.

    SIGTERM is the graceful signal (Huey's default is SIGINT): a service manager
    stopping a worker lets its gradings finish, for ``shutdown_timeout`` at most.
    ``embedded`` leaves signals to the host process (uvicorn owns them in ``serve``).
    """

    def __init__(self, queue: Queue, *, workers: int, embedded: bool = False) -> None:
        self.queue = queue
        self.embedded = embedded
        settings = queue.settings
        super().__init__(
            queue.huey,
            workers=workers,
            worker_type="thread",
            periodic=True,
            graceful_signal="TERM",
            shutdown_timeout=settings.worker_shutdown_seconds,
        )

    def _create_scheduler(self) -> Any:
        scheduler = super()._create_scheduler()
        scheduler.periodic_task_seconds = self.queue.settings.sweep_seconds
        return scheduler

    def _set_signal_handlers(self) -> None:
        if not self.embedded:
            super()._set_signal_handlers()

    def stop(self, graceful: bool = False) -> None:
        """Stop taking tasks; wait for gradings in progress if ``graceful``; hand back the rest."""
        super().stop(graceful=graceful)
        handed = self.queue.hand_back()
        if handed:
            log.warning("handed back %d unfinished grading(s): %s", len(handed), handed)


QUEUE_RETRY_SECONDS = (1.0, 2.0, 4.0, 8.0, 15.0)
"""Pauses between tries to reach the queue's server when a worker starts; the last one repeats."""


def _reach_queue(settings: Settings) -> Queue:
    """The queue, once its server answers: a worker started while it restarts waits instead of dying."""
    for attempt in itertools.count():
        try:
            return get_queue(settings)
        except Exception as exc:  # noqa: BLE001 - every storage raises its own connection errors
            pause = QUEUE_RETRY_SECONDS[min(attempt, len(QUEUE_RETRY_SECONDS) - 1)]
            log.warning("the queue cannot be reached (%s); trying again in %.0f s", type(exc).__name__, pause)
            time.sleep(pause)
    raise AssertionError("unreachable")


def start_consumer(
    settings: Settings | None = None, *, workers: int | None = None, embedded: bool = False
) -> GradingConsumer:
    """A grading consumer (threads); ``embedded`` starts it now and leaves signals to the host process."""
    settings = settings or get_settings()
    queue = get_queue(settings) if embedded else _reach_queue(settings)
    consumer = GradingConsumer(queue, workers=workers or settings.worker_threads, embedded=embedded)
    if embedded:
        consumer.start()
    return consumer
