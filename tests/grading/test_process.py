"""Signals reach the process they were meant for or nobody: pidfds, never a bare pid that may be recycled."""

from __future__ import annotations

import os
import signal
import subprocess

import pytest

from grader.grading.sandbox import procfs
from grader.grading.sandbox.process import ProcessHandle

from .support import submission_text


def _open_fds() -> set[int]:
    return set(os.listdir("/proc/self/fd"))


def test_a_handle_is_kept_only_while_the_pid_names_the_expected_process():
    child = subprocess.Popen(["sleep", "30"])
    try:
        started = procfs.start_time(child.pid)
        fds = _open_fds()
        assert ProcessHandle.open(child.pid, lambda pid: False) is None
        assert _open_fds() == fds, "a refused handle closes its pidfd"
        handle = ProcessHandle.open(child.pid, lambda pid: procfs.start_time(pid) == started)
        assert handle is not None
        assert not handle.wait_gone(0.05)
        handle.kill()
        assert handle.wait_gone(5), "the signal reached the process"
        assert child.wait(5) == -signal.SIGKILL
        handle.kill()  # the process is gone and reaped: its pidfd reaches nobody, whoever has its pid now
        handle.close()
        handle.close()
    finally:
        child.kill()
        child.wait()


@pytest.mark.sandbox
@pytest.mark.parametrize("how", ["cold", "forked"])
def test_no_sandbox_is_ever_signalled_by_a_bare_pid(how, grade, pooled_grade, message_echo, monkeypatch):
    """Through a whole grading and its tear-down, os.kill and os.killpg never name a sandbox's processes."""
    grading = {"cold": grade, "forked": pooled_grade}[how]
    by_pid: list[int] = []
    real_kill, real_killpg = os.kill, os.killpg

    def kill(pid: int, sig: int) -> None:
        by_pid.append(pid)
        real_kill(pid, sig)

    def killpg(pgid: int, sig: int) -> None:
        by_pid.append(pgid)
        real_killpg(pgid, sig)

    monkeypatch.setattr(os, "kill", kill)
    monkeypatch.setattr(os, "killpg", killpg)
    # Daemons that outlive the server: the tear-down has processes to kill besides PID 1.
    source = submission_text("hostile", "daemon.py").replace("{{MARKER}}", f"bare-pid-{os.getpid()}")
    report = grading(message_echo, source)
    if grading.pool is not None:
        assert grading.pool.wait_closed()
    assert report.status == "passed", report.error
    sandbox_pids = {p.pid for p in procfs.list_processes() if p.uid in grading.config.slot_uids}
    assert not set(by_pid) & sandbox_pids
    if how == "forked":
        assert by_pid == [], f"a forked sandbox is killed through pidfds only: {by_pid}"
