"""The host's handle on a started sandbox, whichever way it was started.

Each way of starting a sandbox (bubblewrap, or a fork from the template) is a
launcher that returns a ``SandboxProcess``: its pipes, how it ended and how to
kill it. Killing never goes through a bare pid that could have been recycled:
the sandbox's PID 1 is held by a pidfd (``ProcessHandle``), opened once the
pid is known to name that process and signalled through it, so a signal can
only ever reach the process it was meant for, even after it has exited and
its pid was given to another.
"""

from __future__ import annotations

import os
import select
import signal
from collections.abc import Callable
from contextlib import suppress
from typing import IO, Protocol


class SandboxProcess(Protocol):
    """A started sandbox, shaped like the ``subprocess.Popen`` a launcher may wrap.

    pid: a host pid for reading ``/proc`` (the launcher's or the sandbox's PID 1); never signalled by number.
    """

    pid: int
    stdin: IO[bytes] | None
    stdout: IO[bytes] | None
    stderr: IO[bytes] | None

    def poll(self) -> int | None:
        """The exit status once the sandbox has ended, else None."""
        ...

    def wait(self, timeout: float | None = None) -> int:
        """Wait for the end (``subprocess.TimeoutExpired`` after ``timeout``); the exit status."""
        ...

    def kill(self) -> None:
        """Kill everything the launch started, and nothing else; waits until the sandbox's PID 1 is gone."""
        ...

    def release(self) -> None:
        """Close the host's handles on the sandbox (after ``kill``); safe to call twice."""
        ...


class ProcessHandle:
    """A pidfd on one process: signals through it reach that process or nobody."""

    def __init__(self, fd: int) -> None:
        self._fd: int | None = fd

    @classmethod
    def open(cls, pid: int, is_expected: Callable[[int], bool]) -> ProcessHandle | None:
        """A handle on ``pid`` if, once opened, it still names the expected process; else None.

        ``is_expected(pid)`` is asked after the pidfd is open: if the pid names the
        expected process then, the pidfd holds that process (a pid is recycled only
        after its process is gone, and a pidfd of a gone process reaches nobody).
        """
        if pid <= 1:
            return None
        try:
            fd = os.pidfd_open(pid)
        except (ProcessLookupError, OSError):
            return None
        if not is_expected(pid):
            os.close(fd)
            return None
        return cls(fd)

    def kill(self) -> None:
        """Send SIGKILL (nothing happens once the process has exited)."""
        if self._fd is not None:
            with suppress(ProcessLookupError, PermissionError):
                signal.pidfd_send_signal(self._fd, signal.SIGKILL)

    def wait_gone(self, timeout: float) -> bool:
        """Wait until the process has exited; whether it did within ``timeout``."""
        if self._fd is None:
            return True
        poller = select.poll()
        poller.register(self._fd, select.POLLIN)
        return bool(poller.poll(max(0, int(timeout * 1000))))

    def close(self) -> None:
        """Let go of the process; safe to call twice."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
