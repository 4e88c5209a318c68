"""Leases follow the work: a long grading keeps its lease, a dead worker's runs out, a stopping worker hands back."""

from __future__ import annotations

import threading
import time

import pytest
from sqlmodel import Session

from grader.jobs import GradingWorker
from grader.models import Submission
from tests.factories import make_report, make_submission, make_user

LEASE = 1.0


def _reload(engine, submission_id: int) -> Submission:
    with Session(engine) as session:
        return session.get(Submission, submission_id)


@pytest.fixture
def queued(synced: Session) -> Submission:
    return make_submission(synced, user=make_user(synced))


def test_a_grading_longer_than_the_lease_is_stored_once(engine, queued):
    other_grader_calls: list[int] = []

    def other_grade(spec, source, seed):
        other_grader_calls.append(seed)
        return make_report(cases={"hello": False})

    rival = GradingWorker(engine=engine, grade=other_grade, lease_seconds=LEASE)
    rival_outcomes: list[str] = []
    swept: list[list[int]] = []

    tried_at: list[float] = []

    def slow_grade(spec, source, seed):
        # Three leases long at least; meanwhile another worker sweeps and tries to take it over.
        deadline = time.monotonic() + 3 * LEASE
        while time.monotonic() < deadline or len(tried_at) < 5:
            swept.append(rival.sweep())
            rival_outcomes.append(rival.run(queued.id).outcome)
            tried_at.append(time.monotonic())
            time.sleep(0.1)
        return make_report(cases={"hello": True}, seed=seed)

    slow = GradingWorker(engine=engine, grade=slow_grade, lease_seconds=LEASE)
    started = time.monotonic()
    assert slow.run(queued.id).outcome == "graded"

    assert set(rival_outcomes) == {"not-claimed"}
    assert tried_at[-1] - started > 2 * LEASE  # tried long after the first lease would have run out
    assert all(ids == [] for ids in swept)
    assert other_grader_calls == []
    stored = _reload(engine, queued.id)
    assert (stored.status, stored.score) == ("graded", 1.0)


def test_a_dead_workers_lease_still_expires_within_one_lease(engine, queued):
    dead = GradingWorker(engine=engine, grade=lambda *_: make_report(cases={}), lease_seconds=LEASE)
    assert dead.claim(queued.id) is not None  # claimed, and then the process died: no heartbeat
    rescuer = GradingWorker(engine=engine, grade=lambda *_: make_report(cases={"hello": True}), lease_seconds=LEASE)
    assert rescuer.run(queued.id).outcome == "not-claimed"

    time.sleep(LEASE + 0.2)
    assert rescuer.sweep() == [queued.id]
    assert rescuer.run(queued.id).outcome == "graded"


def test_the_heartbeat_stops_when_the_lease_is_taken_away(engine, queued):
    release = threading.Event()
    started = threading.Event()

    def waiting_grade(spec, source, seed):
        started.set()
        release.wait(10)
        return make_report(cases={"hello": False})

    worker = GradingWorker(engine=engine, grade=waiting_grade, lease_seconds=LEASE)
    outcome: list[str] = []
    thread = threading.Thread(target=lambda: outcome.append(worker.run(queued.id).outcome))
    thread.start()
    assert started.wait(10)
    # An instructor's regrade voids the lease; the heartbeat must not bring it back.
    with Session(engine) as session:
        row = session.get(Submission, queued.id)
        row.status, row.lease_token, row.lease_expires_at = "queued", None, None
        session.add(row)
        session.commit()
    time.sleep(LEASE)
    assert _reload(engine, queued.id).lease_token is None
    release.set()
    thread.join(10)
    assert outcome == ["lease-lost"]
    assert _reload(engine, queued.id).status == "queued"


def test_a_stopping_worker_hands_back_what_it_grades(engine, queued):
    release = threading.Event()
    started = threading.Event()

    def waiting_grade(spec, source, seed):
        started.set()
        release.wait(10)
        return make_report(cases={"hello": False})

    worker = GradingWorker(engine=engine, grade=waiting_grade, lease_seconds=LEASE)
    outcome: list[str] = []
    thread = threading.Thread(target=lambda: outcome.append(worker.run(queued.id).outcome))
    thread.start()
    assert started.wait(10)

    assert worker.hand_back() == [queued.id]
    handed = _reload(engine, queued.id)
    assert (handed.status, handed.lease_token) == ("queued", None)
    # The next worker grades it; the first one's late result is discarded.
    successor = GradingWorker(engine=engine, grade=lambda *_: make_report(cases={"hello": True}), lease_seconds=LEASE)
    assert successor.run(queued.id).outcome == "graded"
    release.set()
    thread.join(10)
    assert outcome == ["lease-lost"]
    assert _reload(engine, queued.id).score == 1.0
    assert worker.hand_back() == []
