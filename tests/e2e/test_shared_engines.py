"""The service on shared engines: PostgreSQL, a shared queue, separate worker processes.

A burst of learners uploads through the real API while one of two workers is
killed with SIGKILL and started again; every submission must end graded,
exactly once, with the verdict its code deserves. A worker stopped with SIGTERM
finishes or hands back its grading and leaves no sandbox process behind.
"""

from __future__ import annotations

import random
import signal
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from grader.db import create_db_engine
from grader.models import Submission
from grader.services import tokens
from tests.factories import make_user

from .service import SUBMISSIONS, Service, free_port, leased_uids, processes_of_uids

pytestmark = [pytest.mark.postgres, pytest.mark.sandbox, pytest.mark.timeout(600)]

LEARNERS = 60
SLOTS = 4
SOURCES = {
    "passed": (SUBMISSIONS / "correct" / "fastapi_sync.py").read_bytes(),
    "failed": (SUBMISSIONS / "wrong" / "status_201.py").read_bytes(),
    "error": (SUBMISSIONS / "broken" / "syntax_error.py").read_bytes(),
}
SLOW_CORRECT = b"import time\ntime.sleep(%d)\n" + SOURCES["passed"]


@pytest.fixture(params=["redis", "postgresql"])
def queue_settings(request, redis_queue, postgres_database) -> dict[str, str]:
    """The shared queue: a Redis key prefix of this test's own, or a fresh PostgreSQL database."""
    if request.param == "redis":
        url, name = redis_queue
        return {"GRADER_QUEUE_URL": url, "GRADER_QUEUE_NAME": name}
    return {"GRADER_QUEUE_URL": postgres_database(), "GRADER_QUEUE_NAME": "grader"}


@pytest.fixture
def uid_range() -> Iterator[range]:
    """Sandbox uids no other grader on this machine uses, so leftovers can be counted.

    Leased by the test for the service's processes, which share it (they are told not to lease their own).
    """
    with leased_uids(62000 + random.randrange(0, 400) * 8, SLOTS) as uids:
        yield uids


@pytest.fixture
def service(tmp_path, postgres_template, postgres_database, queue_settings, uid_range):
    service = Service(
        folder=tmp_path,
        environment={
            "GRADER_ENVIRONMENT": "test",
            "GRADER_STATE_DIR": str(tmp_path / "state"),
            "GRADER_DATABASE_URL": postgres_database(template=postgres_template),
            **queue_settings,
            "GRADER_SECRET_KEY": "end-to-end-secret-key-long-enough",
            "GRADER_FIRST_INSTRUCTOR_EMAIL": "teacher@example.org",
            "GRADER_FIRST_INSTRUCTOR_PASSWORD": "a long instructor password",
            "GRADER_GRADING_LEASE_SECONDS": "4",
            "GRADER_SWEEP_SECONDS": "1",
            "GRADER_WORKER_THREADS": "2",
            "GRADER_SANDBOX_SLOTS": str(SLOTS),
            "GRADER_SANDBOX_UID_BASE": str(uid_range.start),
            "GRADER_SANDBOX_UID_LEASE": "false",
            "GRADER_LOG_FORMAT": "json",
        },
    )
    yield service
    service.stop_all()


@pytest.fixture
def database(service: Service) -> Engine:
    engine = create_db_engine(service.environment["GRADER_DATABASE_URL"])
    yield engine
    engine.dispose()


def _tokens(engine: Engine, service: Service, count: int) -> list[str]:
    """API tokens of ``count`` new learners, issued in the database (the sign-in throttle is not under test)."""
    with Session(engine) as session:
        return [tokens.issue(session=session, user=make_user(session)).secret for _ in range(count)]


def _upload(service: Service, token: str, source: bytes) -> int:
    response = httpx.post(
        f"{service.url}/api/v1/exercises/message-echo/submissions",
        headers={"Authorization": f"Bearer {token}"},
        files={"file": ("solution.py", source, "text/x-python")},
        timeout=60,
    )
    assert response.status_code == 202, response.text
    return response.json()["id"]


def _wait_until_graded(engine: Engine, ids: list[int], timeout: float) -> dict[int, Submission]:
    deadline = time.monotonic() + timeout
    while True:
        with Session(engine) as session:
            rows = {row.id: row for row in session.exec(select(Submission).where(Submission.id.in_(ids)))}
        if all(row.status == "graded" for row in rows.values()) or time.monotonic() > deadline:
            return rows
        time.sleep(0.5)


def _wait_for_status(engine: Engine, submission_id: int, status: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with Session(engine) as session:
            if session.get(Submission, submission_id).status == status:
                return
        time.sleep(0.1)
    raise AssertionError(f"submission {submission_id} never became {status}")


def test_a_burst_survives_a_killed_worker(service, database, uid_range):
    service.start_web()
    ready = httpx.get(f"{service.url}/readyz", timeout=10)
    assert ready.status_code == 200, ready.text
    workers = [service.start_worker(), service.start_worker()]
    learner_tokens = _tokens(database, service, LEARNERS)
    kinds = [("passed", "failed", "error")[index % 3] for index in range(LEARNERS)]

    expected: dict[int, str] = {}
    with ThreadPoolExecutor(max_workers=12) as pool:
        futures = [
            (kind, pool.submit(_upload, service, token, SOURCES[kind]))
            for token, kind in zip(learner_tokens, kinds, strict=True)
        ]
        # Mid-burst: the first worker dies without warning while it grades.
        _wait_for_any_running(database)
        assert workers[0].stop(signal.SIGKILL) == -signal.SIGKILL
        for kind, future in futures:
            expected[future.result()] = kind
    time.sleep(3)
    service.start_worker()

    rows = _wait_until_graded(database, list(expected), timeout=300)
    unfinished = {row.id: row.status for row in rows.values() if row.status != "graded"}
    assert unfinished == {}, unfinished
    verdicts = {submission_id: rows[submission_id].report["status"] for submission_id in expected}
    assert verdicts == expected
    for submission_id, kind in expected.items():
        row = rows[submission_id]
        assert row.lease_token is None
        if kind == "passed":
            assert row.score == row.max_score
        elif kind == "error":
            assert row.report["error"]["kind"] == "syntax"
    # Exactly once: each result was stored by one worker, one time.
    counts = service.stored_counts()
    assert {submission_id: counts[submission_id] for submission_id in expected} == dict.fromkeys(expected, 1)

    service.stop_all()
    assert processes_of_uids(uid_range) == []


def _wait_for_any_running(engine: Engine, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with Session(engine) as session:
            if session.exec(select(Submission.id).where(Submission.status == "running")).first():
                return
        time.sleep(0.05)
    raise AssertionError("no grading started")


def test_sigterm_lets_a_grading_finish(service, database, uid_range):
    service.start_web()
    worker = service.start_worker(GRADER_WORKER_SHUTDOWN_SECONDS="60")
    (token,) = _tokens(database, service, 1)
    submission_id = _upload(service, token, SLOW_CORRECT % 3)
    _wait_for_status(database, submission_id, "running")

    assert worker.stop(signal.SIGTERM, timeout=90) == 0
    with Session(database) as session:
        row = session.get(Submission, submission_id)
        assert (row.status, row.report["status"]) == ("graded", "passed")
    assert service.stored_counts()[submission_id] == 1
    assert processes_of_uids(uid_range) == []


def test_sigterm_hands_back_a_grading_that_does_not_finish_in_time(service, database, uid_range):
    service.start_web()
    worker = service.start_worker(GRADER_WORKER_SHUTDOWN_SECONDS="1")
    (token,) = _tokens(database, service, 1)
    submission_id = _upload(service, token, SLOW_CORRECT % 6)
    _wait_for_status(database, submission_id, "running")

    assert worker.stop(signal.SIGTERM, timeout=30) == 0
    assert any(record.get("event") == "handed-back" for record in worker.events())
    time.sleep(0.5)  # the process is gone: so must its sandbox be
    assert processes_of_uids(uid_range) == []
    with Session(database) as session:
        row = session.get(Submission, submission_id)
        assert (row.status, row.lease_token) == ("queued", None)

    metrics_port = free_port()
    service.start_worker(GRADER_WORKER_METRICS_PORT=str(metrics_port))
    rows = _wait_until_graded(database, [submission_id], timeout=120)
    assert rows[submission_id].report["status"] == "passed"
    assert service.stored_counts()[submission_id] == 1
    # The worker counts what it graded on its own /metrics.
    scraped = httpx.get(f"http://127.0.0.1:{metrics_port}/metrics", timeout=10).text
    assert 'grader_gradings_total{outcome="passed"} 1.0' in scraped
    assert "grader_grading_duration_seconds_count 1.0" in scraped
