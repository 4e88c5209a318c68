"""The sandbox template: one pre-imported interpreter that forks a fresh sandbox per grading.

Starting a sandbox the usual way costs an interpreter and the imports of
FastAPI and uvicorn: about half a second of a core. The template pays that
once. It runs the runtime's ``template_boot.py`` as root, in a bubblewrap mount
namespace holding the same read-only view of ``/usr`` and the runtime that a
sandbox gets, and forks one child per request. Before any submission reaches
it, the child enters new mount, PID, network, IPC, UTS and cgroup namespaces,
joins the grading's cgroups, mounts its own ``/proc``, ``/tmp`` and
``/dev/shm``, drops every capability, becomes the slot's host uid, sets its
rlimits, ``no_new_privs`` and the seccomp filter (see ``template_boot.py``).
Each child serves one grading and dies with it; the template itself never runs
anything a submission sent, and holds nothing of any grading in its memory.

Only a grader running as root can use it (the child needs root to take a slot's
uid); ``available`` says whether this one can.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import threading
from contextlib import suppress
from typing import IO, Any

from grader.grading import seccomp
from grader.grading.sandbox import procfs
from grader.grading.sandbox.capture import CappedBuffer, OutputPipe
from grader.grading.sandbox.command import (
    LAUNCHER_ENV,
    PTYS_PER_SANDBOX,
    SANDBOX_RUNTIME,
    SHM_BYTES,
    Rlimits,
    template_bwrap_arguments,
)
from grader.grading.sandbox.config import SandboxConfig
from grader.grading.sandbox.errors import SandboxFailed, SandboxUnavailable

START_SECONDS = 30.0
SPAWN_SECONDS = 10.0
REPORT_CAP = 4096
STDERR_CAP = 64 * 1024
# What the keeper reports when the sandbox could not be completed (template_boot.SETUP_FAILED).
SETUP_FAILED_CODE = 125


def available(config: SandboxConfig) -> bool:
    """Whether sandboxes of ``config`` can be forked from a template here."""
    return os.geteuid() == 0 and not config.unsafe_no_sandbox and config.runtime.template_boot.is_file()


class ForkedProcess:
    """The host's handle on one forked sandbox, shaped like the ``subprocess.Popen`` it replaces.

    ``pid`` is the sandbox's PID 1 as the host sees it; killing it ends every
    process of the sandbox. The exit status comes from the keeper process, which
    waits for that PID 1 outside the sandbox's reach.
    """

    def __init__(self, report: IO[bytes], stdin: IO[bytes], stdout: IO[bytes], stderr: IO[bytes]) -> None:
        self.stdin = stdin
        self.stdout = stdout
        self.stderr = stderr
        self.pid = 0
        self.started: str | None = None
        self.returncode: int | None = None
        self.setup_error: str | None = None
        self._report = report
        self._ended = threading.Event()

    def read_start(self, timeout: float) -> None:
        """Wait for the keeper to name the sandbox's pid; raise if the sandbox could not be made."""
        line = _read_line(self._report, timeout)
        try:
            message = json.loads(line) if line else {}
        except ValueError:
            message = {}
        if not isinstance(message, dict) or not isinstance(message.get("pid"), int):
            error = message.get("setup_error") if isinstance(message, dict) else None
            raise SandboxFailed(f"the sandbox template could not make a sandbox: {error or 'no answer'}")
        self.pid = message["pid"]
        self.started = procfs.start_time(self.pid)
        threading.Thread(target=self._wait_for_end, name="sandbox-keeper", daemon=True).start()

    def _wait_for_end(self) -> None:
        code = -signal.SIGKILL  # a keeper that vanished without a word: its sandbox was killed
        with self._report:
            for line in iter(lambda: self._report.readline(REPORT_CAP), b""):
                with suppress(ValueError, TypeError, AttributeError):
                    message = json.loads(line)
                    if "setup_error" in message:
                        self.setup_error = f"the sandbox could not be set up: {str(message['setup_error'])[:500]}"
                        code = SETUP_FAILED_CODE
                    elif isinstance(message.get("exit"), int):
                        code = message["exit"]
        self.returncode = code
        self._ended.set()

    def poll(self) -> int | None:
        return self.returncode if self._ended.is_set() else None

    def wait(self, timeout: float | None = None) -> int:
        if not self._ended.wait(timeout):
            raise subprocess.TimeoutExpired("sandbox", timeout or 0)
        assert self.returncode is not None
        return self.returncode

    def kill(self) -> None:
        """Kill the sandbox's PID 1 (and so all of it), unless its pid now names another process."""
        if self.pid > 1 and self.started is not None and procfs.start_time(self.pid) == self.started:
            with suppress(ProcessLookupError, PermissionError):
                os.kill(self.pid, signal.SIGKILL)


def _read_line(stream: IO[bytes], timeout: float) -> bytes:
    """One line from a blocking pipe, or b"" if none came within ``timeout``."""
    result: list[bytes] = []
    reader = threading.Thread(target=lambda: result.append(stream.readline(REPORT_CAP)), daemon=True)
    reader.start()
    reader.join(timeout)
    return result[0] if result else b""


class SandboxTemplate:
    """A started template: ``spawn`` forks a sandbox from it; ``close`` ends it (not its sandboxes)."""

    def __init__(self, config: SandboxConfig) -> None:
        self.config = config
        self.process: subprocess.Popen[bytes] | None = None
        self._control: socket.socket | None = None
        self._lock = threading.Lock()
        self.seccomp = seccomp.build_filter()
        self.stderr = CappedBuffer(STDERR_CAP)
        self._stderr_pipe: OutputPipe | None = None

    def start(self) -> None:
        """Launch the template and wait until its imports are done."""
        if not available(self.config):
            raise SandboxUnavailable("a sandbox template needs a grader running as root and a built runtime")
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        runtime = self.config.runtime
        command = [
            "bwrap",
            *template_bwrap_arguments(runtime.root),
            "--",
            f"{SANDBOX_RUNTIME}/bin/python3",
            "-I",
            "-B",
            "-u",
            f"{SANDBOX_RUNTIME}/{runtime.template_boot.name}",
            "--control-fd",
            str(theirs.fileno()),
        ]
        try:
            self.process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                pass_fds=(theirs.fileno(),),
                close_fds=True,
                start_new_session=True,
                env=dict(LAUNCHER_ENV),
                cwd="/",
            )
        except OSError as exc:
            ours.close()
            raise SandboxFailed(f"could not launch the sandbox template: {exc}") from exc
        finally:
            theirs.close()
        assert self.process.stderr is not None
        # Drained all along, so that a keeper's traceback can never block the template.
        self._stderr_pipe = OutputPipe(self.process.stderr, self.stderr)
        threading.Thread(target=self._stderr_pipe.run, name="sandbox-template-stderr", daemon=True).start()
        ours.settimeout(START_SECONDS)
        try:
            hello = ours.recv(256)
        except OSError:
            hello = b""
        if b'"ready"' not in hello:
            self._control = ours
            detail = self._stderr_tail()
            self.close()
            raise SandboxFailed(f"the sandbox template did not start: {detail or 'no answer'}")
        ours.settimeout(SPAWN_SECONDS)
        self._control = ours

    def _stderr_tail(self) -> str:
        if self.process is None:
            return ""
        self.process.kill()
        with suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=2)
        if self._stderr_pipe is not None:
            self._stderr_pipe.settle()
        return self.stderr.last(500).strip()

    def alive(self) -> bool:
        """Whether the template runs and takes requests."""
        return self.process is not None and self.process.poll() is None and self._control is not None

    def memory_bytes(self) -> int:
        """Resident memory of bubblewrap and the template's interpreter (not of the sandboxes forked from it)."""
        if self.process is None or self.process.poll() is not None:
            return 0
        launcher = self.process.pid
        interpreters = [info.pid for info in procfs.list_processes() if info.ppid == launcher]
        return sum(procfs.resident_bytes(pid) for pid in [launcher, *interpreters])

    def spawn(
        self,
        *,
        uid: int,
        limits: Rlimits,
        tmpfs_bytes: int,
        entry_point: str,
        listen_fd: int,
        status_fd: int,
        cgroup_fds: list[int],
    ) -> ForkedProcess:
        """Fork a sandbox for one grading; the caller keeps (and closes) the descriptors it passed."""
        request: dict[str, Any] = {
            "uid": uid,
            "rlimits": limits,
            "tmpfs_bytes": tmpfs_bytes,
            "shm_bytes": SHM_BYTES,
            "ptys": PTYS_PER_SANDBOX,
            "entry": entry_point,
            "seccomp": self.seccomp.hex() if self.seccomp is not None else None,
        }
        stdin_read, stdin_write = os.pipe()
        stdout_read, stdout_write = os.pipe()
        stderr_read, stderr_write = os.pipe()
        report_read, report_write = os.pipe()
        theirs = [stdin_read, stdout_write, stderr_write, status_fd, listen_fd, report_write, *cgroup_fds]
        try:
            with self._lock:
                if self._control is None:
                    raise SandboxFailed("the sandbox template is closed")
                try:
                    socket.send_fds(self._control, [json.dumps(request).encode()], theirs)
                except OSError as exc:
                    raise SandboxFailed(f"the sandbox template does not answer: {exc}") from exc
        except BaseException:
            for fd in (stdin_write, stdout_read, stderr_read, report_read):
                os.close(fd)
            raise
        finally:
            for fd in (stdin_read, stdout_write, stderr_write, report_write):
                os.close(fd)
        process = ForkedProcess(
            report=os.fdopen(report_read, "rb"),
            stdin=os.fdopen(stdin_write, "wb"),
            stdout=os.fdopen(stdout_read, "rb"),
            stderr=os.fdopen(stderr_read, "rb"),
        )
        try:
            process.read_start(SPAWN_SECONDS)
        except BaseException:
            for stream in (process.stdin, process.stdout, process.stderr):
                stream.close()
            raise
        return process

    def close(self, grace: float = 2.0) -> None:
        """End the template: it takes no more requests and ends when the sandboxes it forked have.

        Those it still holds after ``grace`` seconds are killed with it.
        """
        with self._lock:
            if self._control is not None:
                self._control.close()
                self._control = None
        if self.process is not None:
            with suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=grace)
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait(timeout=5)
