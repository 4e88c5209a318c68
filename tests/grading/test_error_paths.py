"""Every descriptor and thread is given back when starting a sandbox fails midway.

Each test counts this process's open descriptors and threads, makes one step of
a start fail for real (a template that is closed or never answers, a cgroup
hierarchy that cannot be written, a launch whose exec fails), and counts again.
"""

from __future__ import annotations

import dataclasses
import os
import socket
import subprocess
import threading
import time
import types

import pytest

from grader.grading.sandbox import Sandbox, SandboxFailed, bubblewrap, template
from grader.grading.sandbox.command import rlimits
from grader.grading.sandbox.confinement import forked_steps
from grader.grading.sandbox.errors import TemplateFailed
from grader.grading.sandbox.pool import open_pools
from grader.grading.sandbox.template import SandboxTemplate


@pytest.fixture(autouse=True)
def quiet_pools() -> None:
    """The session's pools neither start nor tear down a sandbox while a test counts descriptors."""
    deadline = time.monotonic() + 60
    for pool in open_pools():
        while time.monotonic() < deadline:
            status = pool.status()
            if not status.starting and not status.closing and (status.ready >= status.kinds * status.size):
                break
            time.sleep(0.1)


def _open_fds() -> set[int]:
    return {int(fd) for fd in os.listdir("/proc/self/fd")}


def _settled(before_fds: set[int], before_threads: int) -> tuple[set[int], int]:
    """Descriptors opened since ``before_fds`` and threads beyond ``before_threads`` (0 if none), once settled.

    Other threads of the session (a pool's) may end meanwhile, so fewer threads count as none left.
    """
    deadline = time.monotonic() + 5
    while True:
        leaked = _open_fds() - before_fds
        threads = max(threading.active_count() - before_threads, 0)
        if (not leaked and not threads) or time.monotonic() > deadline:
            return leaked, threads
        time.sleep(0.05)


def _spawn(tmpl: SandboxTemplate, sandbox_config, message_echo) -> None:
    reader, writer = os.pipe()
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        tmpl.spawn(
            uid=sandbox_config.uid_base,
            limits=rlimits(message_echo.limits, own_uid=True),
            steps=forked_steps(sandbox_config.runtime.root, message_echo.limits),
            entry_point=message_echo.entry_point,
            listen_fd=listener.fileno(),
            status_fd=writer,
            cgroup_fds=[],
        )
    finally:
        listener.close()
        os.close(reader)
        os.close(writer)


def test_a_closed_template_gives_back_every_descriptor(sandbox_config, message_echo):
    tmpl = SandboxTemplate(sandbox_config)  # never started: it takes no request
    fds, threads = _open_fds(), threading.active_count()
    with pytest.raises(TemplateFailed, match="closed"):
        _spawn(tmpl, sandbox_config, message_echo)
    assert _settled(fds, threads) == (set(), 0)


def test_a_template_that_never_answers_leaves_no_descriptor_and_no_thread(sandbox_config, message_echo, monkeypatch):
    """The keeper's answer is awaited with poll() and a timeout: no thread is left blocked on the pipe."""
    monkeypatch.setattr(template, "SPAWN_SECONDS", 0.3)
    tmpl = SandboxTemplate(sandbox_config)
    ours, silent = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    tmpl._control = ours  # a template that takes the request and never answers
    silent.setblocking(False)
    try:
        fds, threads = _open_fds(), threading.active_count()
        for _ in range(3):
            with pytest.raises(TemplateFailed, match="no answer"):
                _spawn(tmpl, sandbox_config, message_echo)
            # What the silent template received holds copies of the descriptors: drop them.
            while True:
                try:
                    _, received, _, _ = socket.recv_fds(silent, 65536, 16)
                except BlockingIOError:
                    break
                for fd in received:
                    os.close(fd)
        assert _settled(fds, threads) == (set(), 0)
    finally:
        ours.close()
        silent.close()


@pytest.mark.sandbox
@pytest.mark.skipif(os.geteuid() != 0, reason="cgroups are made by a grader running as root")
def test_a_cgroup_error_leaves_no_descriptor_and_gives_the_slot_back(sandbox_config, message_echo, tmp_path):
    broken = tmp_path / "cgroups"
    for controller in ("memory", "pids"):
        (broken / controller).mkdir(parents=True)
        (broken / controller / "cgroup.procs").write_text("")
        (broken / controller / "grader").write_text("a file where the grader's cgroup folder should be")
    config = dataclasses.replace(sandbox_config, cgroup_root=broken, slots=1)
    fds, threads = _open_fds(), threading.active_count()
    for _ in range(2):  # the second start gets the slot: the first gave it back
        with pytest.raises(SandboxFailed):
            Sandbox(config, message_echo.limits, message_echo.entry_point).start()
    assert _settled(fds, threads) == (set(), 0)


@pytest.mark.sandbox
def test_a_launch_that_fails_at_exec_closes_the_filter_and_its_pipes(sandbox_config, message_echo, monkeypatch):
    def no_exec(*args, **kwargs):
        raise OSError(8, "Exec format error")

    # Only the launcher's exec fails: the module keeps its constants, the rest of the grader its subprocess.
    monkeypatch.setattr(bubblewrap, "subprocess", types.SimpleNamespace(Popen=no_exec, PIPE=subprocess.PIPE))
    fds, threads = _open_fds(), threading.active_count()
    with pytest.raises(SandboxFailed, match="Exec format error"):
        Sandbox(sandbox_config, message_echo.limits, message_echo.entry_point).start()
    assert _settled(fds, threads) == (set(), 0)
