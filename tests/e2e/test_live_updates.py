"""Wake-ups across processes: a separate ``autograder worker``'s results reach the web process at once.

The web service runs without its embedded worker, so a grading happens in
another process; the worker announces each change on Redis (when the queue is
Redis) or with PostgreSQL ``NOTIFY`` (when the database is PostgreSQL), and the
web process, subscribed, wakes the requests waiting for that submission.
"""

from __future__ import annotations

import random
import time
from collections.abc import Hashable

import httpx
import pytest
import redis
from sqlalchemy import text
from sqlmodel import Session

from grader.db import create_db_engine
from grader.services import tokens, updates
from grader.services.updates import Changes, Relay
from tests.factories import make_user

from .service import SUBMISSIONS, Service, leased_uids

pytestmark = [pytest.mark.postgres, pytest.mark.sandbox, pytest.mark.timeout(300)]

SLOTS = 2


@pytest.fixture(params=["redis", "postgresql"])
def layout(request, postgres_template, postgres_database) -> dict[str, str]:
    """A PostgreSQL database, and a queue on Redis (wake-ups by pub/sub) or on PostgreSQL (by NOTIFY)."""
    database_url = postgres_database(template=postgres_template)
    if request.param == "redis":
        url, name = request.getfixturevalue("redis_queue")
        return {"GRADER_DATABASE_URL": database_url, "GRADER_QUEUE_URL": url, "GRADER_QUEUE_NAME": name}
    return {"GRADER_DATABASE_URL": database_url, "GRADER_QUEUE_URL": postgres_database(), "GRADER_QUEUE_NAME": "g"}


@pytest.fixture
def service(tmp_path, layout):
    # The test leases the uids for the service's processes, which share them.
    with leased_uids(62000 + random.randrange(400, 800) * 8, SLOTS) as uids:
        base = uids.start
        service = Service(
            folder=tmp_path,
            environment={
                "GRADER_ENVIRONMENT": "test",
                "GRADER_STATE_DIR": str(tmp_path / "state"),
                **layout,
                "GRADER_SECRET_KEY": "end-to-end-secret-key-long-enough",
                "GRADER_FIRST_INSTRUCTOR_EMAIL": "teacher@example.org",
                "GRADER_FIRST_INSTRUCTOR_PASSWORD": "a long instructor password",
                "GRADER_WORKER_THREADS": "1",
                # One grading and one sandbox started ahead: a slot each, as the worker's start checks.
                "GRADER_SANDBOX_POOL_SIZE": "1",
                "GRADER_SANDBOX_SLOTS": str(SLOTS),
                "GRADER_SANDBOX_UID_BASE": str(base),
                "GRADER_SANDBOX_UID_LEASE": "false",
                "GRADER_LOG_FORMAT": "json",
            },
        )
        yield service
        service.stop_all()


class RecordingChanges(Changes):
    """Wake-ups that also keep the keys they were given."""

    def __init__(self) -> None:
        super().__init__()
        self.keys: list[object] = []

    def notify(self, key: Hashable) -> None:
        self.keys.append(key)
        super().notify(key)


def _subscribers(service: Service) -> int:
    """How many connections listen for this deployment's submission changes, asked of the server."""
    queue_url = service.environment["GRADER_QUEUE_URL"]
    if queue_url.startswith("redis://"):
        client = redis.Redis.from_url(queue_url)
        channel = f"{service.environment['GRADER_QUEUE_NAME']}:submission-changes"
        count = dict(client.pubsub_numsub(channel))[channel.encode()]
        client.close()
        return int(count)
    engine = create_db_engine(service.environment["GRADER_DATABASE_URL"])
    with engine.connect() as connection:
        count = connection.execute(
            text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND query = :listen"),
            {"listen": f"LISTEN {updates.POSTGRES_CHANNEL}"},
        ).scalar_one()
    engine.dispose()
    return int(count)


def test_a_separate_workers_result_wakes_the_web_process(service):
    service.start_web()
    service.start_worker()
    # The web process subscribed to the changes (the test's own relay comes next).
    assert _subscribers(service) == 1

    from grader.config import Settings

    settings = Settings(
        _env_file=None,
        secret_key="end-to-end-secret-key-long-enough",
        database_url=service.environment["GRADER_DATABASE_URL"],
        queue_url=service.environment["GRADER_QUEUE_URL"],
        queue_name=service.environment["GRADER_QUEUE_NAME"],
    )
    broadcast = updates.broadcast_for(settings)
    assert broadcast is not None
    changes = RecordingChanges()
    relay = Relay(broadcast, changes)
    relay.start()
    engine = create_db_engine(settings.database_url)
    try:
        assert relay.wait_listening(10)
        with Session(engine) as session:
            token = tokens.issue(session=session, user=make_user(session)).secret
        headers = {"Authorization": f"Bearer {token}"}
        created = httpx.post(
            f"{service.url}/api/v1/exercises/message-echo/submissions",
            headers=headers,
            files={"file": ("solution.py", (SUBMISSIONS / "correct" / "fastapi_sync.py").read_bytes())},
            timeout=60,
        )
        assert created.status_code == 202, created.text
        submission_id = created.json()["id"]

        answer = httpx.get(f"{service.url}/api/v1/submissions/{submission_id}?wait=60", headers=headers, timeout=90)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert (body["status"], body["report"]["status"]) == ("graded", "passed")
        # What the worker process announced for this submission (claimed, graded) reached this process too.
        for _ in range(100):
            if changes.keys.count(submission_id) >= 2:
                break
            time.sleep(0.05)
        assert changes.keys.count(submission_id) == 2, changes.keys
    finally:
        relay.stop()
        engine.dispose()
    web_log = service.processes[0].log_path.read_text()
    assert "lost the submission-change subscription" not in web_log
