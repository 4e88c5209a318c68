"""The web process killed (SIGKILL) while upload bodies are still arriving.

Nothing half-stored: the submissions whose bodies had not all arrived leave no
row, the database passes SQLite's checks, no temporary file of the uploads is
left behind (the process's temporary folder is one of the test's own, so any
leftover would be seen), the socket folders of its sandboxes are swept by the
service started again on the same machine, which serves and grades as before.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import sqlite3
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import Session, select

from grader.db import create_db_engine
from grader.models import Submission
from grader.services import tokens
from tests.factories import make_user

from .service import SUBMISSIONS, Service, processes_of_uids

pytestmark = [pytest.mark.sandbox, pytest.mark.timeout(300)]

CORRECT = (SUBMISSIONS / "correct" / "fastapi_sync.py").read_bytes()
BOUNDARY = "grader-test-boundary"


def half_sent_upload(port: int, token: str) -> socket.socket:
    """A connection that has sent the headers and part of a multipart upload, and is left open."""
    padding = b"# " + b"x" * 60 + b"\n"
    body = (
        (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="solution.py"\r\n'
            f"Content-Type: text/x-python\r\n\r\n"
        ).encode()
        + CORRECT
        + padding * 200
        + f"\r\n--{BOUNDARY}--\r\n".encode()
    )
    head = (
        f"POST /api/v1/exercises/message-echo/submissions HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Authorization: Bearer {token}\r\nContent-Type: multipart/form-data; boundary={BOUNDARY}\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()
    connection = socket.create_connection(("127.0.0.1", port), timeout=10)
    connection.sendall(head + body[: len(body) * 2 // 3])
    return connection


def one_machine(folder: Path, uids: range, temporary: Path, **settings: str) -> Service:
    """``autograder serve`` with its embedded worker, its state in ``folder`` and ``temporary`` as its TMPDIR."""
    return Service(
        folder=folder,
        environment={
            "GRADER_ENVIRONMENT": "test",
            "GRADER_STATE_DIR": str(folder / "state"),
            "GRADER_SANDBOX_SLOTS": str(len(uids)),
            "GRADER_SANDBOX_UID_BASE": str(uids.start),
            "GRADER_SANDBOX_UID_LEASE": "false",  # the test's block is leased for the service
            "GRADER_LOG_FORMAT": "json",
            "TMPDIR": str(temporary),
            **settings,
        },
    )


@pytest.fixture
def short_temporary_folder() -> Iterator[Path]:
    """The service's TMPDIR: a folder of this test's own, short enough for the sandboxes' socket paths."""
    folder = Path(tempfile.mkdtemp(prefix="grader-test-", dir="/tmp"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def test_a_web_process_killed_mid_upload_leaves_nothing_half_stored(
    tmp_path: Path, uids: range, short_temporary_folder: Path
):
    state = tmp_path / "state"
    temporary = short_temporary_folder
    service = one_machine(
        tmp_path, uids, temporary, GRADER_SUBMISSION_INTERVAL_SECONDS="0", GRADER_MAX_UPLOAD_BYTES="65536"
    )
    try:
        web = service.start_embedded()
        engine = create_db_engine(f"sqlite:///{state / 'grader.sqlite3'}")
        with Session(engine) as session:
            secrets = [tokens.issue(session=session, user=make_user(session)).secret for _ in range(4)]
        whole = service.upload(secrets[0], CORRECT)
        assert whole.status_code == 202, whole.text
        open_uploads = [half_sent_upload(service.port, secret) for secret in secrets[1:]]
        time.sleep(0.5)  # the bodies are part-way in when the process dies
        web.popen.send_signal(signal.SIGKILL)
        web.popen.wait(timeout=30)
        for connection in open_uploads:
            connection.close()
        engine.dispose()

        check = sqlite3.connect(state / "grader.sqlite3")
        assert check.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert check.execute("SELECT id FROM submissions").fetchall() == [(whole.json()["id"],)]
        check.close()
        # Only the dead process's sandbox socket folders remain (the restarted service sweeps them): no upload spool.
        dead = f"grader-sock-{web.popen.pid}-"
        assert [entry.name for entry in temporary.iterdir() if not entry.name.startswith(dead)] == []

        service.start_embedded()
        engine = create_db_engine(f"sqlite:///{state / 'grader.sqlite3'}")
        again = service.upload(secrets[1], CORRECT)
        assert again.status_code == 202, again.text
        deadline = time.monotonic() + 120
        while True:
            with Session(engine) as session:
                rows = list(session.exec(select(Submission)))
            if all(row.status == "graded" for row in rows) or time.monotonic() > deadline:
                break
            time.sleep(0.3)
        assert sorted((row.id, row.status, row.score == row.max_score) for row in rows) == [
            (whole.json()["id"], "graded", True),
            (again.json()["id"], "graded", True),
        ]
        engine.dispose()
    finally:
        service.stop_all()
    deadline = time.monotonic() + 10
    while processes_of_uids(uids) and time.monotonic() < deadline:
        time.sleep(0.2)
    left = processes_of_uids(uids)
    details = [
        Path(f"/proc/{entry.split()[0]}/status").read_text()[:400]
        for entry in left
        if Path(f"/proc/{entry.split()[0]}").exists()
    ]
    assert left == [], details
    assert os.listdir(temporary) == []


def test_sigterm_to_serve_lets_its_grading_finish_and_tears_its_sandboxes_down(
    tmp_path: Path, uids: range, short_temporary_folder: Path
):
    state = tmp_path / "state"
    temporary = short_temporary_folder
    service = one_machine(tmp_path, uids, temporary, GRADER_WORKER_SHUTDOWN_SECONDS="60")
    try:
        web = service.start_embedded()
        engine = create_db_engine(f"sqlite:///{state / 'grader.sqlite3'}")
        with Session(engine) as session:
            secret = tokens.issue(session=session, user=make_user(session)).secret
        slow = b"import time\ntime.sleep(3)\n" + CORRECT
        response = service.upload(secret, slow)
        assert response.status_code == 202, response.text
        deadline = time.monotonic() + 60
        while True:
            with Session(engine) as session:
                row = session.get(Submission, response.json()["id"])
                assert row is not None
                if row.status == "running":
                    break
            assert time.monotonic() < deadline, "the grading never started"
            time.sleep(0.05)
        # As a service manager stops it: the server stops, the grading under way finishes, the pool goes.
        assert web.stop(signal.SIGTERM, timeout=90) == 0
        with Session(engine) as session:
            row = session.get(Submission, response.json()["id"])
            assert row is not None and (row.status, row.score == row.max_score) == ("graded", True)
        engine.dispose()
    finally:
        service.stop_all()
    assert processes_of_uids(uids) == []
    assert os.listdir(temporary) == []
