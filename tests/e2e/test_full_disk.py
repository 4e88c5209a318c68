"""The one-machine service with its state folder on a small disk that fills up.

``autograder serve`` (embedded worker, SQLite) keeps its state on a tmpfs of a
few megabytes. A filler file takes the rest of the room: uploads are then
answered 507 with ``Retry-After`` (nothing stored), sign-ins and quiz attempts
either go through or get the same clear answer, pages keep answering, and
``/readyz`` says not ready and why. Once the filler is gone the service
resumes by itself: ready again, uploads accepted, and everything accepted
before the disk filled graded.
"""

from __future__ import annotations

import errno
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlmodel import Session, select

from grader.db import create_db_engine
from grader.models import Submission
from grader.services import tokens
from tests.factories import make_user

from .service import SUBMISSIONS, Service, processes_of_uids

pytestmark = [
    pytest.mark.sandbox,
    pytest.mark.timeout(600),
    pytest.mark.skipif(os.geteuid() != 0, reason="mounting a small tmpfs needs root"),
]

CORRECT = (SUBMISSIONS / "correct" / "fastapi_sync.py").read_bytes()
DISK_MB = 24
FLOOR_MB = 2


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A tmpfs of DISK_MB megabytes, unmounted afterwards."""
    mount_point = tmp_path / "state"
    mount_point.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={DISK_MB}m,mode=0700", "tmpfs", str(mount_point)], check=True)
    yield mount_point
    subprocess.run(["umount", "-l", str(mount_point)], check=False)


def fill(folder: Path) -> Path:
    """A file that takes every free byte of ``folder``'s file system."""
    filler = folder / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        for size in (256 * 1024, 4096, 512):  # big pieces, then the last crumbs
            while True:
                try:
                    os.write(fd, b"\0" * size)
                except OSError as exc:
                    assert exc.errno == errno.ENOSPC
                    break
    finally:
        os.close(fd)
    return filler


def upload(service: Service, token: str) -> httpx.Response:
    return service.upload(token, CORRECT)


def test_a_full_disk_is_answered_and_the_service_resumes(tmp_path: Path, small_disk: Path, uids: range):
    service = Service(
        folder=tmp_path,
        environment={
            "GRADER_ENVIRONMENT": "test",
            "GRADER_STATE_DIR": str(small_disk),
            "GRADER_FIRST_INSTRUCTOR_EMAIL": "teacher@example.org",
            "GRADER_FIRST_INSTRUCTOR_PASSWORD": "a long instructor password",
            "GRADER_SWEEP_SECONDS": "1",
            "GRADER_GRADING_LEASE_SECONDS": "4",
            "GRADER_SANDBOX_SLOTS": str(len(uids)),
            "GRADER_SANDBOX_UID_BASE": str(uids.start),
            "GRADER_SANDBOX_UID_LEASE": "false",  # the test's block is leased for the service
            "GRADER_MIN_FREE_DISK_MB": str(FLOOR_MB),
            "GRADER_SUBMISSION_INTERVAL_SECONDS": "0",
            "GRADER_LOG_FORMAT": "json",
        },
    )
    try:
        service.start_embedded()
        engine = create_db_engine(f"sqlite:///{small_disk / 'grader.sqlite3'}")
        with Session(engine) as session:
            learners = [tokens.issue(session=session, user=make_user(session)).secret for _ in range(12)]
        before = [upload(service, token) for token in learners[:2]]
        assert [response.status_code for response in before] == [202, 202]
        accepted = [response.json()["id"] for response in before]

        filler = fill(small_disk)
        answers = [upload(service, token) for token in learners[2:8]]
        assert {response.status_code for response in answers} == {507}
        for response in answers:
            assert int(response.headers["retry-after"]) >= 1
            assert "disk is full" in response.json()["detail"]
        quiz = httpx.get(f"{service.url}/api/v1/quizzes/message-cycle", headers=_bearer(learners[8]), timeout=30)
        assert quiz.status_code == 200
        answer = {str(q["id"]): q["choices"][0]["id"] for q in quiz.json()["questions"]}
        attempt = httpx.post(
            f"{service.url}/api/v1/quizzes/message-cycle/attempts",
            headers=_bearer(learners[8]),
            json={"answers": answer},
            timeout=30,
        )
        assert attempt.status_code in (201, 507), attempt.text
        sign_in = httpx.post(
            f"{service.url}/api/v1/token",
            data={"username": "teacher@example.org", "password": "a long instructor password"},
            timeout=30,
        )
        assert sign_in.status_code in (200, 507), sign_in.text
        assert httpx.get(f"{service.url}/login", timeout=30).status_code == 200
        assert httpx.get(f"{service.url}/healthz", timeout=30).status_code == 200
        ready = httpx.get(f"{service.url}/readyz", timeout=30)
        assert ready.status_code == 503
        assert ready.json()["checks"]["disk"]["ok"] is False
        with Session(engine) as session:
            assert set(session.exec(select(Submission.id))) == set(accepted)

        filler.unlink()
        deadline = time.monotonic() + 60
        while httpx.get(f"{service.url}/readyz", timeout=30).status_code != 200:
            assert time.monotonic() < deadline, "the service did not become ready again"
            time.sleep(0.5)
        after = upload(service, learners[9])
        assert after.status_code == 202, after.text
        accepted.append(after.json()["id"])
        deadline = time.monotonic() + 180
        while True:
            with Session(engine) as session:
                rows = list(session.exec(select(Submission)))
            if all(row.status == "graded" for row in rows) or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        assert {row.id: (row.status, row.score == row.max_score) for row in rows} == dict.fromkeys(
            accepted, ("graded", True)
        )
        engine.dispose()
    finally:
        service.stop_all()
    assert processes_of_uids(uids) == []
    log = "\n".join(path.read_text(errors="replace") for path in tmp_path.glob("web-*.log"))
    assert "Something went wrong on our side" not in log and '"status": 500' not in log


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
