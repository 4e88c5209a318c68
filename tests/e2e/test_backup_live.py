"""Backing up the one-machine service while learners upload, then serving from the restored copy.

``autograder serve`` runs with its embedded worker on SQLite; learners upload
through the API while ``autograder backup`` copies it. The copy taken mid-burst
is restored into a new state folder and served: every submission it holds ends
graded, and the accounts' tokens and browser sessions still work there (the
secret came along). A second backup, taken once the burst is graded and the
service stopped, restores to a database equal table by table to the original.
"""

from __future__ import annotations

import re
import threading
import time
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
from tests.test_backup import table_contents

from .service import SUBMISSIONS, Service, processes_of_uids

pytestmark = [pytest.mark.sandbox, pytest.mark.timeout(600)]

LEARNERS = 24
SOURCES = [
    (SUBMISSIONS / "correct" / "fastapi_sync.py").read_bytes(),
    (SUBMISSIONS / "wrong" / "status_201.py").read_bytes(),
]
INSTRUCTOR = ("teacher@example.org", "a long instructor password")


def one_machine(folder: Path, state: Path, uids: range) -> Service:
    """The embedded default: SQLite and the SQLite queue in ``state``, a secret generated there."""
    return Service(
        folder=folder,
        environment={
            "GRADER_ENVIRONMENT": "test",
            "GRADER_STATE_DIR": str(state),
            "GRADER_FIRST_INSTRUCTOR_EMAIL": INSTRUCTOR[0],
            "GRADER_FIRST_INSTRUCTOR_PASSWORD": INSTRUCTOR[1],
            "GRADER_SWEEP_SECONDS": "1",
            "GRADER_SANDBOX_SLOTS": str(len(uids)),
            "GRADER_SANDBOX_UID_BASE": str(uids.start),
            "GRADER_SANDBOX_UID_LEASE": "false",  # the test's block is leased for the service
            "GRADER_LOG_FORMAT": "json",
        },
    )


@pytest.fixture
def services() -> list[Service]:
    started: list[Service] = []
    yield started
    for service in started:
        service.stop_all()


def upload(service: Service, token: str, source: bytes) -> int:
    response = service.upload(token, source)
    assert response.status_code == 202, response.text
    return int(response.json()["id"])


def wait_until_all_graded(engine: Engine, timeout: float = 240) -> list[Submission]:
    deadline = time.monotonic() + timeout
    while True:
        with Session(engine) as session:
            rows = list(session.exec(select(Submission)))
        if all(row.status == "graded" for row in rows) or time.monotonic() > deadline:
            return rows
        time.sleep(0.3)


def wait_until_fixes_checked(engine: Engine, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while True:
        with engine.connect() as connection:
            pending = connection.exec_driver_sql("SELECT count(*) FROM fix_checks WHERE status = 'pending'").scalar()
        if pending == 0:
            return
        assert time.monotonic() < deadline, f"{pending} fix checks still pending"
        time.sleep(0.3)


def instructor_cookies(service: Service) -> httpx.Cookies:
    with httpx.Client(base_url=service.url, timeout=30) as client:
        page = client.get("/login")
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert csrf, page.text[:500]
        response = client.post(
            "/login",
            data={"email": INSTRUCTOR[0], "password": INSTRUCTOR[1], "next": "/", "csrf_token": csrf.group(1)},
        )
        assert response.status_code == 303, response.text[:500]
        return client.cookies


def test_a_backup_under_uploads_restores_and_serves(tmp_path: Path, uids: range, services: list[Service]):
    original = one_machine(tmp_path / "original", tmp_path / "original" / "state", uids)
    (tmp_path / "original").mkdir()
    services.append(original)
    original.start_embedded()
    engine = create_db_engine(f"sqlite:///{tmp_path / 'original' / 'state' / 'grader.sqlite3'}")
    with Session(engine) as session:
        learners = [tokens.issue(session=session, user=make_user(session)).secret for _ in range(LEARNERS)]
    cookies = instructor_cookies(original)

    accepted: list[int] = []
    backups: list[str] = []

    def back_up_mid_burst() -> None:
        while len(accepted) < LEARNERS // 3:
            time.sleep(0.01)
        result = original.run("backup", str(tmp_path / "mid-burst"))
        backups.append(result.stdout + result.stderr)
        assert result.returncode == 0, result.stderr

    backing_up = threading.Thread(target=back_up_mid_burst)
    backing_up.start()
    with ThreadPoolExecutor(max_workers=6) as pool:
        for submission_id in pool.map(
            lambda pair: upload(original, pair[0], SOURCES[pair[1] % 2]),
            [(token, index) for index, token in enumerate(learners)],
        ):
            accepted.append(submission_id)
    backing_up.join(timeout=120)
    assert backups and "backed up grader.sqlite3, queue.sqlite3, secret_key" in backups[0], backups

    rows = wait_until_all_graded(engine)
    assert {row.id for row in rows if row.status == "graded"} == set(accepted)
    wait_until_fixes_checked(engine)  # the last writes a grading leads to
    settled = original.run("backup", str(tmp_path / "settled"))
    assert settled.returncode == 0, settled.stderr
    original.stop_all()
    engine.dispose()
    assert processes_of_uids(uids) == []

    # The settled copy restores to the same rows, table by table.
    restored = one_machine(tmp_path / "restored", tmp_path / "restored" / "state", uids)
    (tmp_path / "restored").mkdir()
    result = restored.run("restore", str(tmp_path / "settled"))
    assert result.returncode == 0, result.stderr
    assert table_contents(tmp_path / "restored" / "state" / "grader.sqlite3") == table_contents(
        tmp_path / "original" / "state" / "grader.sqlite3"
    )
    # Restoring over it again is refused: a live installation is never overwritten.
    again = restored.run("restore", str(tmp_path / "settled"))
    assert again.returncode != 0 and "not empty" in again.stderr

    # The mid-burst copy is served: what it had accepted is graded there, and the same
    # tokens and browser session work, since the secret came along.
    mid = one_machine(tmp_path / "mid", tmp_path / "mid" / "state", uids)
    (tmp_path / "mid").mkdir()
    services.append(mid)
    result = mid.run("restore", str(tmp_path / "mid-burst"))
    assert result.returncode == 0, result.stderr
    mid.start_embedded()
    mid_engine = create_db_engine(f"sqlite:///{tmp_path / 'mid' / 'state' / 'grader.sqlite3'}")
    rows = wait_until_all_graded(mid_engine)
    held = {row.id for row in rows}
    assert LEARNERS // 3 <= len(held) <= LEARNERS
    assert held <= set(accepted)
    assert all(row.status == "graded" and row.report is not None for row in rows)
    first = min(held)
    owner = learners[accepted.index(first)]
    followed = httpx.get(
        f"{mid.url}/api/v1/submissions/{first}", headers={"Authorization": f"Bearer {owner}"}, timeout=30
    )
    assert followed.status_code == 200, followed.text
    assert followed.json()["status"] == "graded"
    dashboard = httpx.get(f"{mid.url}/courses/1/dashboard", cookies=cookies, timeout=30, follow_redirects=False)
    assert dashboard.status_code == 200, dashboard.status_code
    new_id = upload(mid, learners[-1], SOURCES[0])
    # A new upload takes an id the restored copy does not hold. The original went on numbering
    # after the backup, so the same number may name another upload there: a restore rolls back.
    assert new_id not in held
    rows = wait_until_all_graded(mid_engine)
    assert (
        next(row for row in rows if row.id == new_id).score == next(row for row in rows if row.id == new_id).max_score
    )
    mid.stop_all()
    mid_engine.dispose()
    assert processes_of_uids(uids) == []
