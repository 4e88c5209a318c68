"""The database restarts, the queue goes away: mid-burst, under ``autograder serve`` and a worker.

Learners keep uploading through the API as a careful client does (a 503 is
retried after its ``Retry-After``). The PostgreSQL server is restarted, or the
Redis queue stopped and started again empty, while they do. Every upload ends
accepted, nothing accepted is lost, every submission is graded exactly once,
and nothing is left queued or running. The servers are the test's own (see
``servers.py``), never the machine's shared ones.
"""

from __future__ import annotations

import os
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from grader.db import create_db_engine
from grader.models import Submission
from grader.services import tokens
from tests.factories import make_user

from .servers import OwnPostgres, OwnRedis, postgres_binaries, wait_ready
from .service import SUBMISSIONS, Service, free_port, processes_of_uids

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.sandbox,
    pytest.mark.timeout(600),
    pytest.mark.skipif(os.geteuid() != 0 or postgres_binaries() is None, reason="needs root and PostgreSQL's programs"),
]

LEARNERS = 16
CORRECT = (SUBMISSIONS / "correct" / "fastapi_sync.py").read_bytes()


@pytest.fixture
def own_postgres() -> Iterator[OwnPostgres]:
    server = OwnPostgres.create()
    yield server
    server.remove()


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[OwnRedis]:
    folder = tmp_path / "redis"
    folder.mkdir()
    server = OwnRedis(folder=folder, port=free_port())
    server.start()
    yield server
    server.stop()


def make_service(folder: Path, database_url: str, queue: dict[str, str], uids: range) -> Service:
    return Service(
        folder=folder,
        environment={
            "GRADER_ENVIRONMENT": "test",
            "GRADER_STATE_DIR": str(folder / "state"),
            "GRADER_DATABASE_URL": database_url,
            **queue,
            "GRADER_SECRET_KEY": "restart-test-secret-key-long-enough",
            "GRADER_FIRST_INSTRUCTOR_EMAIL": "teacher@example.org",
            "GRADER_FIRST_INSTRUCTOR_PASSWORD": "a long instructor password",
            "GRADER_GRADING_LEASE_SECONDS": "4",
            "GRADER_SWEEP_SECONDS": "1",
            "GRADER_WORKER_THREADS": "2",
            "GRADER_SUBMISSION_INTERVAL_SECONDS": "0",
            "GRADER_SANDBOX_SLOTS": str(len(uids)),
            "GRADER_SANDBOX_UID_BASE": str(uids.start),
            "GRADER_SANDBOX_UID_LEASE": "false",  # the test's block is leased for the service
            "GRADER_LOG_FORMAT": "json",
        },
    )


class Learners:
    """Learners uploading as a careful client does: a 503 or a dropped connection is tried again after a pause."""

    def __init__(self, service: Service, secrets: list[str]) -> None:
        self.service = service
        self.secrets = secrets
        self.accepted: list[int] = []
        self.statuses: Counter[int | str] = Counter()
        self.lock = threading.Lock()

    def upload(self, secret: str) -> int:
        deadline = time.monotonic() + 120
        while True:
            try:
                response = httpx.post(
                    f"{self.service.url}/api/v1/exercises/message-echo/submissions",
                    headers={"Authorization": f"Bearer {secret}"},
                    files={"file": ("solution.py", CORRECT, "text/x-python")},
                    timeout=30,
                )
            except httpx.HTTPError as exc:
                with self.lock:
                    self.statuses[type(exc).__name__] += 1
                pause = 0.5
            else:
                with self.lock:
                    self.statuses[response.status_code] += 1
                if response.status_code == 202:
                    with self.lock:
                        self.accepted.append(int(response.json()["id"]))
                    return int(response.json()["id"])
                assert response.status_code == 503, response.text
                assert int(response.headers["retry-after"]) >= 1
                pause = 0.5  # a test need not wait the whole Retry-After
            assert time.monotonic() < deadline, f"never accepted: {self.statuses}"
            time.sleep(pause)

    def burst(self, disrupt: Callable[[], None], after: int) -> None:
        """Every learner uploads once; ``disrupt`` runs once ``after`` uploads were accepted."""

        def disrupt_midway() -> None:
            while len(self.accepted) < after:
                time.sleep(0.01)
            disrupt()

        disruption = threading.Thread(target=disrupt_midway)
        disruption.start()
        with ThreadPoolExecutor(max_workers=4) as pool:
            list(pool.map(self.upload, self.secrets))
        disruption.join(timeout=120)
        assert not disruption.is_alive()


def learner_tokens(engine: Engine, count: int) -> list[str]:
    with Session(engine) as session:
        return [tokens.issue(session=session, user=make_user(session)).secret for _ in range(count)]


def wait_until_graded(engine: Engine, ids: list[int], timeout: float = 240) -> dict[int, Submission]:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with Session(engine) as session:
                rows = {row.id: row for row in session.exec(select(Submission))}
        except Exception:  # noqa: BLE001 - the database may still be coming back
            rows = {}
        if rows and all(row.status == "graded" for row in rows.values()) or time.monotonic() > deadline:
            return rows
        time.sleep(0.5)


def assert_each_graded_once(service: Service, rows: dict[int, Submission], accepted: list[int]) -> None:
    assert sorted(rows) == sorted(accepted), "an accepted upload is missing, or one was stored twice"
    assert {row.id: row.status for row in rows.values() if row.status != "graded"} == {}
    assert all(row.score == row.max_score and row.lease_token is None for row in rows.values())
    counts = service.stored_counts()
    assert {submission_id: counts[submission_id] for submission_id in accepted} == dict.fromkeys(accepted, 1)


def test_a_database_restart_mid_burst_loses_nothing(tmp_path, own_postgres, redis_queue, uids):
    url, name = redis_queue
    service = make_service(tmp_path, own_postgres.url, {"GRADER_QUEUE_URL": url, "GRADER_QUEUE_NAME": name}, uids)
    try:
        service.start_web()
        service.start_worker()
        wait_ready(service.url)
        engine = create_db_engine(own_postgres.url)
        learners = Learners(service, learner_tokens(engine, LEARNERS))

        def restart() -> None:
            own_postgres.stop("fast")
            time.sleep(2)
            own_postgres.start()

        learners.burst(restart, after=4)
        rows = wait_until_graded(engine, learners.accepted)
        assert_each_graded_once(service, rows, learners.accepted)
        # While the server was down, uploads were told to come back, never shown a crash.
        assert set(learners.statuses) <= {202, 503}, learners.statuses
        engine.dispose()
    finally:
        service.stop_all()
    assert processes_of_uids(uids) == []


def test_a_queue_that_goes_away_mid_burst_loses_nothing(
    tmp_path, own_redis, postgres_template, postgres_database, uids
):
    database_url = postgres_database(template=postgres_template)
    queue = {"GRADER_QUEUE_URL": own_redis.url, "GRADER_QUEUE_NAME": "grader"}
    service = make_service(tmp_path, database_url, queue, uids)
    try:
        service.start_web()
        service.start_worker()
        wait_ready(service.url)
        engine = create_db_engine(database_url)
        learners = Learners(service, learner_tokens(engine, LEARNERS))

        def away_and_back() -> None:
            own_redis.stop()
            time.sleep(3)
            own_redis.start()  # empty: the tasks it held are gone, the submissions table is the record

        learners.burst(away_and_back, after=4)
        rows = wait_until_graded(engine, learners.accepted)
        assert_each_graded_once(service, rows, learners.accepted)
        # The database is the record: uploads are accepted while the queue is away.
        assert set(learners.statuses) == {202}, learners.statuses
        engine.dispose()
    finally:
        service.stop_all()
    assert processes_of_uids(uids) == []


def test_a_postgresql_queue_that_restarts_mid_burst_loses_nothing(
    tmp_path, own_postgres, postgres_template, postgres_database, uids
):
    """The queue on a PostgreSQL server of its own, restarted mid-burst: the tasks it held may be gone."""
    database_url = postgres_database(template=postgres_template)
    queue = {"GRADER_QUEUE_URL": own_postgres.url, "GRADER_QUEUE_NAME": "grader"}
    service = make_service(tmp_path, database_url, queue, uids)
    try:
        service.start_web()
        service.start_worker()
        wait_ready(service.url)
        engine = create_db_engine(database_url)
        learners = Learners(service, learner_tokens(engine, LEARNERS))

        def restart() -> None:
            own_postgres.stop("fast")
            time.sleep(2)
            own_postgres.start()

        learners.burst(restart, after=4)
        rows = wait_until_graded(engine, learners.accepted)
        assert_each_graded_once(service, rows, learners.accepted)
        # The submissions table is the record: uploads are accepted while the queue is away.
        assert set(learners.statuses) == {202}, learners.statuses
        engine.dispose()
    finally:
        service.stop_all()
    assert processes_of_uids(uids) == []


def test_a_worker_started_while_its_postgresql_queue_is_down_waits_for_it(tmp_path, own_postgres, monkeypatch, caplog):
    """The worker reaches the queue once the server answers, instead of dying at start."""
    from grader import jobs
    from tests.conftest import make_settings

    settings = make_settings(tmp_path, queue_url=own_postgres.url, queue_name=f"wait{os.getpid()}")
    monkeypatch.setattr(jobs, "QUEUE_RETRY_SECONDS", (0.2,))
    own_postgres.stop("fast")
    reached: list[jobs.Queue] = []
    waiting = threading.Thread(target=lambda: reached.append(jobs._reach_queue(settings)), daemon=True)
    waiting.start()
    time.sleep(2)
    assert waiting.is_alive() and not reached  # still trying, not dead
    assert "the queue cannot be reached" in caplog.text
    own_postgres.start()
    waiting.join(timeout=60)
    assert reached and reached[0].huey.storage.queue_size() == 0
    for key in [key for key, queue in jobs._queues.items() if queue is reached[0]]:
        del jobs._queues[key]
    reached[0].huey.storage.conn.close()
