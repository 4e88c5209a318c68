"""The suite's own sandbox gradings run beside an ``autograder serve`` on the same machine.

The service is started the way an operator starts it (its own state folder, a
loopback port, its default sandbox uids); it leases a block of uids of its own,
so while it grades, the suite's gradings and their host checks, which count
only this session's uids, go on undisturbed, and neither touches the other's
sandboxes.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from grader.config import PROJECT_ROOT
from grader.grading.sandbox import procfs

from .support import ProcessWatcher, descendants, find_probe, submission_text

pytestmark = [
    pytest.mark.sandbox,
    pytest.mark.skipif(os.geteuid() != 0, reason="sandbox uids of their own need graders running as root"),
]

INSTRUCTOR = ("beside@example.org", "a long password for the service beside")


@pytest.fixture
def service(tmp_path: Path):
    """``autograder serve`` on a free loopback port, with its embedded worker and its own state folder."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/root"),
        "GRADER_STATE_DIR": str(tmp_path / "state"),
        "GRADER_SECRET_KEY": "a-secret-key-for-the-service-beside-the-tests",
        "GRADER_FIRST_INSTRUCTOR_EMAIL": INSTRUCTOR[0],
        "GRADER_FIRST_INSTRUCTOR_PASSWORD": INSTRUCTOR[1],
        "GRADER_EXERCISES_DIR": str(PROJECT_ROOT / "exercises"),
        "GRADER_QUIZZES_DIR": str(PROJECT_ROOT / "quizzes"),
    }
    log = (tmp_path / "serve.log").open("wb")
    popen = subprocess.Popen(
        [sys.executable, "-m", "grader.cli", "serve", "--port", str(port), "--skip-selftest"],
        cwd=tmp_path,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            assert popen.poll() is None, (tmp_path / "serve.log").read_text()[-3000:]
            try:
                if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, (tmp_path / "serve.log").read_text()[-3000:]
            time.sleep(0.2)
        yield popen, url
    finally:
        if popen.poll() is None:
            popen.send_signal(signal.SIGTERM)
        try:
            popen.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(popen.pid, signal.SIGKILL)
            popen.wait(timeout=10)
        log.close()


def test_the_suite_and_a_service_grade_side_by_side(service, grade, message_echo, host_snapshot, sandbox_config):
    popen, url = service
    token = httpx.post(
        f"{url}/api/v1/token", data={"username": INSTRUCTOR[0], "password": INSTRUCTOR[1]}, timeout=30
    ).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    marker = f"beside-{secrets.token_hex(6)}"
    # The service's grading keeps a process running while the suite grades its own.
    slow = submission_text("hostile", "daemon.py").replace("{{MARKER}}", marker)
    before = host_snapshot()
    with ProcessWatcher(sandbox_config.slot_uids, watch_all=True) as watcher:
        sent = httpx.post(
            f"{url}/api/v1/exercises/message-echo/submissions",
            headers=headers,
            files={"file": ("solution.py", slow.encode(), "text/x-python")},
            timeout=60,
        )
        assert sent.status_code == 202, sent.text
        submission = sent.json()["id"]
        ours = [grade(message_echo, submission_text("hostile", "fork_bomb.py")) for _ in range(2)]
        result = httpx.get(f"{url}/api/v1/submissions/{submission}", params={"wait": 60}, headers=headers, timeout=90)
    assert result.json()["status"] == "graded", result.text
    assert result.json()["report"]["status"] == "passed", result.json()["report"]
    for report in ours:
        assert find_probe(report) is not None, (report.error, report.stdout[-300:])
    # The service's sandboxes ran on uids of its own, never on this session's.
    service_tree = descendants(watcher.parents, {popen.pid})
    service_uids = {p.uid for p in watcher.everything.values() if p.pid in service_tree and p.uid != 0}
    assert service_uids, "the service's sandbox was never seen"
    assert not service_uids & set(sandbox_config.slot_uids), service_uids
    # This session's host checks see only this session's sandboxes, while the service still runs.
    problems = host_snapshot().problems_since(before)
    assert problems == [], problems
    popen.send_signal(signal.SIGTERM)
    popen.wait(timeout=60)
    deadline = time.monotonic() + 10
    while procfs.running_processes_of(service_uids) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert procfs.running_processes_of(service_uids) == [], "the service left sandbox processes behind"
