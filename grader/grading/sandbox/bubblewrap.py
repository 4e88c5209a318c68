"""Starting a sandbox through bubblewrap: the launcher for a sandbox of its own interpreter.

``launch`` runs ``bwrap`` with the arguments of ``command.py`` and returns a
``BubblewrapProcess``. Bubblewrap names the sandbox's PID 1 on its status
descriptor before anything of the submission runs; the host opens a pidfd on it
and keeps it only while that pid is still bubblewrap's child, so killing the
sandbox never reaches a recycled pid.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
from contextlib import ExitStack, suppress
from pathlib import Path

from grader.grading import seccomp
from grader.grading.sandbox import procfs
from grader.grading.sandbox.command import LAUNCHER_ENV, preexec, rlimits, server_command
from grader.grading.sandbox.confinement import SANDBOX_RUNTIME, bwrap_arguments
from grader.grading.sandbox.process import ProcessHandle
from grader.grading.spec import Limits

KILL_WAIT_SECONDS = 2.0


class BubblewrapProcess:
    """A sandbox started through bubblewrap (a ``SandboxProcess``): bwrap, and the PID 1 it made."""

    def __init__(self, popen: subprocess.Popen[bytes], status_fd: int | None) -> None:
        self.popen = popen
        self.pid = popen.pid
        self.stdin = popen.stdin
        self.stdout = popen.stdout
        self.stderr = popen.stderr
        self.init: ProcessHandle | None = None
        self._named = threading.Event()
        if status_fd is None:
            self._named.set()
        else:
            threading.Thread(target=self._read_status, args=(status_fd,), name="bwrap-status", daemon=True).start()

    def _read_status(self, fd: int) -> None:
        """Take the sandbox's PID 1 from bubblewrap's first status line, then drain the rest."""
        with os.fdopen(fd, "rb", buffering=0) as stream:
            first = stream.readline(4096)
            try:
                pid = int(json.loads(first)["child-pid"])
            except (ValueError, KeyError, TypeError):
                pid = 0
            self.init = ProcessHandle.open(pid, lambda pid: procfs.parent_of(pid) == self.popen.pid)
            self._named.set()
            while stream.read(4096):
                pass

    def poll(self) -> int | None:
        return self.popen.poll()

    def wait(self, timeout: float | None = None) -> int:
        return self.popen.wait(timeout)

    def kill(self) -> None:
        """Kill the sandbox's PID 1 (everything inside dies with it), then bubblewrap and its group."""
        self._named.wait(KILL_WAIT_SECONDS)
        if self.init is not None:
            self.init.kill()
            self.init.wait_gone(KILL_WAIT_SECONDS)
        if self.popen.poll() is None:
            # Our own child, not yet reaped: its pid and process group cannot have been given to another.
            with suppress(ProcessLookupError, PermissionError):
                os.killpg(self.popen.pid, signal.SIGKILL)
            with suppress(ProcessLookupError):
                self.popen.kill()

    def release(self) -> None:
        if self.init is not None:
            self.init.close()


def launch(
    *,
    runtime_root: Path,
    python: str | None,
    boot: str | None,
    limits: Limits,
    entry_point: str,
    uid: int | None,
    listen_fd: int,
    status_fd: int,
    cgroup_fds: list[int],
    sandboxed: bool = True,
) -> tuple[BubblewrapProcess, bool]:
    """Start the boot script in bubblewrap (or, not ``sandboxed``, straight on the host).

    Returns the process and whether the system-call filter was installed. The
    descriptors passed in stay the caller's; every one made here is closed here,
    whatever happens.
    """
    # ``made``: descriptors only the child needs, closed once it has them; ``ours``: closed only on failure.
    with ExitStack() as made, ExitStack() as ours:
        passed = [listen_fd, status_fd]
        filtered = False
        bwrap_status_read = None
        if sandboxed:
            python, boot = f"{SANDBOX_RUNTIME}/bin/python3", f"{SANDBOX_RUNTIME}/boot.py"
            prefix = ["bwrap", *bwrap_arguments(runtime_root, limits)]
            seccomp_fd = seccomp.filter_fd()
            if seccomp_fd is not None:
                made.callback(os.close, seccomp_fd)
                passed.append(seccomp_fd)
                prefix += ["--seccomp", str(seccomp_fd)]
                filtered = True
            bwrap_status_read, bwrap_status_write = os.pipe()
            made.callback(os.close, bwrap_status_write)
            ours.callback(os.close, bwrap_status_read)
            passed.append(bwrap_status_write)
            prefix += ["--json-status-fd", str(bwrap_status_write), "--"]
        else:
            prefix = []
        assert python is not None and boot is not None
        for fd in passed:
            os.set_inheritable(fd, True)
        command = [
            *prefix,
            *server_command(python, boot, listen_fd=listen_fd, status_fd=status_fd, entry_point=entry_point),
        ]
        popen = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            pass_fds=tuple(passed),
            close_fds=True,
            start_new_session=True,
            env=dict(LAUNCHER_ENV),
            cwd="/",
            preexec_fn=preexec(cgroup_fds, rlimits(limits, uid is not None), uid),
        )
        ours.pop_all()
        return BubblewrapProcess(popen, bwrap_status_read), filtered
