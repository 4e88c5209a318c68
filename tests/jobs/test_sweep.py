"""The sweep resends lost tasks without piling duplicates on a long queue."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session

from grader.jobs import RESEND_AFTER_LEASES, GradingWorker
from grader.models import Submission, utcnow
from tests.factories import make_submission, make_user

LEASE = 60
WINDOW = LEASE * RESEND_AFTER_LEASES
SWEEP_SECONDS = 15


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def _worker(engine, clock: Clock) -> GradingWorker:
    def never(spec, source, seed):
        raise AssertionError("the sweep grades nothing")

    return GradingWorker(engine=engine, grade=never, lease_seconds=LEASE, clock=clock)


def _sweeps_within_the_window(worker: GradingWorker, clock: Clock) -> list[list[int]]:
    """What each periodic sweep returns from now until just before the window ends."""
    results = []
    for _ in range(WINDOW // SWEEP_SECONDS - 1):
        clock.advance(SWEEP_SECONDS)
        results.append(worker.sweep())
    return results


def test_a_queued_submission_is_not_resent_within_the_window(engine, synced):
    clock = Clock()
    waiting = make_submission(synced, user=make_user(synced), created_at=clock.now)  # sent at upload
    worker = _worker(engine, clock)

    # A long queue: no worker reaches it for several leases, and nothing is sent twice meanwhile.
    assert all(ids == [] for ids in _sweeps_within_the_window(worker, clock))
    clock.now = waiting.enqueued_at + timedelta(seconds=WINDOW + 1)
    assert worker.sweep() == [waiting.id]  # unanswered so long that the task is taken for lost
    assert all(ids == [] for ids in _sweeps_within_the_window(worker, clock))


def test_an_expired_lease_is_resent_once_then_only_after_the_window(engine, synced):
    clock = Clock()
    running = make_submission(synced, user=make_user(synced), created_at=clock.now)
    worker = _worker(engine, clock)
    assert worker.claim(running.id) is not None  # and this worker dies

    clock.advance(LEASE + 1)
    assert worker.sweep() == [running.id]
    resent_at = clock.now
    # Behind a long queue the resent task waits; the row stays expired but is not resent again.
    assert all(ids == [] for ids in _sweeps_within_the_window(worker, clock))
    clock.now = resent_at + timedelta(seconds=WINDOW + 1)
    assert worker.sweep() == [running.id]
    with Session(engine) as session:
        assert session.get(Submission, running.id).enqueued_at == clock.now
