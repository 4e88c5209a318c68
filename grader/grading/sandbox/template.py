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
import select
import signal
import socket
import subprocess
import threading
import time
from contextlib import ExitStack, suppress
from typing import IO, Any

from grader.grading import seccomp
from grader.grading.sandbox import procfs
from grader.grading.sandbox.capture import CappedBuffer, OutputPipe
from grader.grading.sandbox.command import LAUNCHER_ENV, Rlimits
from grader.grading.sandbox.config import SandboxConfig
from grader.grading.sandbox.confinement import SANDBOX_RUNTIME, template_bwrap_arguments
from grader.grading.sandbox.errors import SandboxFailed, SandboxUnavailable, TemplateFailed
from grader.grading.sandbox.process import ProcessHandle

START_SECONDS = 30.0
SPAWN_SECONDS = 10.0
REPORT_CAP = 4096
STDERR_CAP = 64 * 1024
# What the keeper reports when the sandbox could not be completed (template_boot.SETUP_FAILED).
SETUP_FAILED_CODE = 125
KILL_WAIT_SECONDS = 2.0


def available(config: SandboxConfig) -> bool:
    """Whether sandboxes of ``config`` can be forked from a template here."""
    return os.geteuid() == 0 and not config.unsafe_no_sandbox and config.runtime.template_boot.is_file()


class ForkedProcess:
    """The host's handle on one forked sandbox (a ``SandboxProcess``).

    ``pid`` is the sandbox's PID 1 as the host sees it; killing it ends every
    process of the sandbox. The keeper names it with its start time, read before
    the keeper could reap it; the host opens a pidfd on it and keeps it only if
    the start time still matches, so a kill can never reach a recycled pid. The
    exit status comes from the keeper, which waits for that PID 1 outside the
    sandbox's reach.
    """

    def __init__(self, report: int, stdin: IO[bytes], stdout: IO[bytes], stderr: IO[bytes]) -> None:
        self.stdin: IO[bytes] | None = stdin
        self.stdout: IO[bytes] | None = stdout
        self.stderr: IO[bytes] | None = stderr
        self.pid = 0
        self.returncode: int | None = None
        self.setup_error: str | None = None
        self.handle: ProcessHandle | None = None
        self._report = report
        self._pending = b""
        self._ended = threading.Event()

    def read_start(self, timeout: float) -> None:
        """Wait for the keeper to name the sandbox's pid; raise if the sandbox could not be made.

        On any failure the report descriptor is closed before raising.
        """
        try:
            line = self._read_line(timeout)
            try:
                message = json.loads(line) if line else {}
            except ValueError:
                message = {}
            if not isinstance(message, dict) or not isinstance(message.get("pid"), int):
                error = message.get("setup_error") if isinstance(message, dict) else None
                raise TemplateFailed(f"the sandbox template could not make a sandbox: {error or 'no answer'}")
        except BaseException:
            os.close(self._report)
            raise
        self.pid = message["pid"]
        started = str(message.get("started"))
        self.handle = ProcessHandle.open(self.pid, lambda pid: procfs.start_time(pid, zombie=True) == started)
        threading.Thread(target=self._wait_for_end, name="sandbox-keeper", daemon=True).start()

    def _read_line(self, timeout: float) -> bytes:
        """One line from the keeper, or b"" if none came within ``timeout`` (no thread is left waiting)."""
        deadline = time.monotonic() + timeout
        poller = select.poll()
        poller.register(self._report, select.POLLIN)
        while b"\n" not in self._pending and len(self._pending) < REPORT_CAP:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not poller.poll(int(remaining * 1000) + 1):
                return b""
            chunk = os.read(self._report, REPORT_CAP)
            if not chunk:
                break
            self._pending += chunk
        line, _, self._pending = self._pending.partition(b"\n")
        return line

    def _wait_for_end(self) -> None:
        code = -signal.SIGKILL  # a keeper that vanished without a word: its sandbox was killed
        with os.fdopen(self._report, "rb") as report:
            lines = [self._pending, *iter(lambda: report.readline(REPORT_CAP), b"")]
            for line in lines:
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
        """Kill the sandbox's PID 1 (and so all of it) through its pidfd, and wait until it is gone."""
        if self.handle is not None:
            self.handle.kill()
            self.handle.wait_gone(KILL_WAIT_SECONDS)

    def release(self) -> None:
        """Close the pidfd (after ``kill``)."""
        if self.handle is not None:
            self.handle.close()


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
        steps: list[dict[str, Any]],
        entry_point: str,
        listen_fd: int,
        status_fd: int,
        cgroup_fds: list[int],
    ) -> ForkedProcess:
        """Fork a sandbox for one grading; the caller keeps (and closes) the descriptors it passed."""
        request: dict[str, Any] = {
            "uid": uid,
            "rlimits": limits,
            "steps": steps,
            "entry": entry_point,
            "seccomp": self.seccomp.hex() if self.seccomp is not None else None,
        }
        with ExitStack() as passed, ExitStack() as kept:
            # ``passed``: the template's ends, closed here once sent (it holds copies) or on failure;
            # ``kept``: ours, closed only if the spawn fails before they have an owner.
            ends: dict[str, int] = {}
            for name, ours_is_read in (("stdin", False), ("stdout", True), ("stderr", True), ("report", True)):
                read, write = os.pipe()
                ours, theirs = (read, write) if ours_is_read else (write, read)
                kept.callback(os.close, ours)
                passed.callback(os.close, theirs)
                ends[name], ends[f"{name}-theirs"] = ours, theirs
            sent = [ends[f"{name}-theirs"] for name in ("stdin", "stdout", "stderr")]
            sent += [status_fd, listen_fd, ends["report-theirs"], *cgroup_fds]
            with self._lock:
                if self._control is None:
                    raise TemplateFailed("the sandbox template is closed")
                try:
                    socket.send_fds(self._control, [json.dumps(request).encode()], sent)
                except OSError as exc:
                    raise TemplateFailed(f"the sandbox template does not answer: {exc}") from exc
            kept.pop_all()
        process = ForkedProcess(
            report=ends["report"],
            stdin=os.fdopen(ends["stdin"], "wb"),
            stdout=os.fdopen(ends["stdout"], "rb"),
            stderr=os.fdopen(ends["stderr"], "rb"),
        )
        try:
            process.read_start(SPAWN_SECONDS)  # closes the report descriptor if it raises
        except BaseException:
            for stream in (process.stdin, process.stdout, process.stderr):
                if stream is not None:
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
