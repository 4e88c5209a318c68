"""Starting, talking to and tearing down one sandboxed learner server.

``Sandbox`` composes the other modules of this package: it claims a slot,
creates the cgroups, launches bubblewrap with the command of ``command.py``,
captures the output and reads the boot script's status events. ``start`` waits
until the server libraries are imported; ``load`` hands over a submission;
``close`` kills everything the sandbox started and gives its slot back.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader.grading.report import LEARNER_ERROR_KINDS
from grader.grading.sandbox import bubblewrap, procfs
from grader.grading.sandbox.capture import CappedBuffer, OutputPipe
from grader.grading.sandbox.cgroups import Cgroup
from grader.grading.sandbox.command import rlimits
from grader.grading.sandbox.config import SandboxConfig
from grader.grading.sandbox.confinement import forked_steps
from grader.grading.sandbox.enforcement import Enforcement
from grader.grading.sandbox.errors import SandboxError, SandboxFailed, SandboxUnavailable
from grader.grading.sandbox.process import SandboxProcess
from grader.grading.sandbox.slots import Slot, acquire_slot, kill_uid
from grader.grading.sandbox.sockets import socket_folder
from grader.grading.sandbox.template import ForkedProcess, SandboxTemplate
from grader.grading.spec import Limits

STATUS_CAP = 256 * 1024
STATUS_EVENTS = frozenset({"waiting", "loaded", "ready", "error"})
MAX_STATUS_EVENTS = 16
MAX_STALL_EVENTS = 256
"""Samples of stalled requests kept (the boot script sends a few per stalled request)."""
# Facts an error event may carry; grading.diagnose checks what they say before using them.
ERROR_FACTS = ("cause", "line", "exception", "detail", "module", "names", "what")
EXIT_GRACE_SECONDS = 1.0
PREPARE_SECONDS = 30.0
SHUTDOWN_SECONDS = 2.0

# What the boot script may report when loading fails; anything else it sends counts as a crash.
# (It cannot report a timeout: the host decides that.)
BOOT_ERROR_KINDS = frozenset(LEARNER_ERROR_KINDS) - {"timeout"}


@dataclass(frozen=True)
class LoadResult:
    """How loading the submission went: ready to serve, or the error the boot script saw."""

    ready: bool
    kind: str | None = None
    message: str = ""
    facts: dict[str, object] = field(default_factory=dict)
    from_host: bool = False


class Sandbox:
    """One started sandbox: its process, socket, status channel and captured output.

    ``start`` launches it and waits until the server libraries are imported;
    ``load`` hands it a submission; ``close`` kills everything it started.
    With a ``template``, the sandbox is forked from it (its imports already
    done) instead of launched through bubblewrap; see ``sandbox.template``.
    """

    def __init__(
        self, config: SandboxConfig, limits: Limits, entry_point: str, template: SandboxTemplate | None = None
    ) -> None:
        self.config = config
        self.limits = limits
        self.entry_point = entry_point
        self.template = template
        self.slot: Slot | None = None
        self.cgroup: Cgroup | None = None
        self.process: SandboxProcess | None = None
        self.stdout = CappedBuffer(limits.output_bytes)
        self.stderr = CappedBuffer(limits.output_bytes)
        self.enforcement: Enforcement | None = None
        self._socket_dir: Path | None = None
        self._listener: socket.socket | None = None
        self._events: list[dict[str, Any]] = []
        self._stalls: list[dict[str, Any]] = []
        self._event_seen = threading.Condition()
        self._threads: list[threading.Thread] = []
        self._closed = False
        self._swept = False  # the sweep at tear-down found no process of the slot's uid left
        self._loaded = False
        self._fed = False
        self._pipes: list[OutputPipe] = []
        self._aborted: str | None = None

    # -- start-up

    @property
    def socket_path(self) -> Path:
        assert self._socket_dir is not None
        return self._socket_dir / "app.sock"

    def start(self) -> None:
        """Launch the sandbox and wait until it asks for a submission."""
        runtime = self.config.runtime
        if not runtime.ready:
            raise SandboxUnavailable(
                f"the learner runtime is not built ({runtime.root}); run 'autograder runtime build'"
            )
        runtime.mark_used()
        if not self.config.unsafe_no_sandbox and shutil.which("bwrap") is None:
            raise SandboxUnavailable("bubblewrap (bwrap) is not installed; install the 'bubblewrap' package")
        try:
            self._launch()
        except SandboxError:
            self.close()
            raise
        except OSError as exc:
            self.close()
            raise SandboxFailed(f"could not launch the sandbox: {exc}") from exc
        except subprocess.SubprocessError as exc:
            self.close()
            raise SandboxFailed(f"could not enter the sandbox's limits: {exc}") from exc
        if not self._wait_for(lambda e: e.get("event") == "waiting", PREPARE_SECONDS):
            # No submission has been sent yet, so everything here is the machine's doing.
            assert self.process is not None  # _launch started it or raised
            exited = self.process.poll() is not None
            self.close()
            detail = self.stderr.text().strip()[-500:] or f"exit status {self.process.poll()}"
            if isinstance(self.process, ForkedProcess) and self.process.setup_error:
                detail = self.process.setup_error
            if exited and detail.startswith("bwrap:"):
                raise SandboxUnavailable(f"bubblewrap cannot create the sandbox here ({detail})")
            raise SandboxFailed(f"the sandbox did not start: {detail}")

    def _launch(self) -> None:
        self.slot = acquire_slot(self.config)
        sandbox_uid = None if self.config.unsafe_no_sandbox else self.slot.uid
        if sandbox_uid is not None and not self.slot.clean:
            kill_uid(sandbox_uid)  # whatever a crashed grader may have left behind
        # Named by uid: the uid's lock is what makes the group this grading's alone.
        if sandbox_uid is not None:
            self.cgroup = Cgroup.create(f"uid{sandbox_uid}", self.limits, self.config.cgroup_root)
        self._socket_dir = socket_folder()
        self._listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._listener.bind(str(self.socket_path))
        self._listener.listen(64)
        # ``passed``: what the sandbox gets, closed here once it has them; ``ours``: closed only on failure.
        with ExitStack() as passed, ExitStack() as ours:
            status_read, status_write = os.pipe()
            ours.callback(os.close, status_read)
            passed.callback(os.close, status_write)
            cgroup_fds = self.cgroup.procs_fds() if self.cgroup else []
            for fd in cgroup_fds:
                passed.callback(os.close, fd)
            if self.template is not None and sandbox_uid is not None:
                self.process = self.template.spawn(
                    uid=sandbox_uid,
                    limits=rlimits(self.limits, own_uid=True),
                    steps=forked_steps(self.config.runtime.root, self.limits),
                    entry_point=self.entry_point,
                    listen_fd=self._listener.fileno(),
                    status_fd=status_write,
                    cgroup_fds=cgroup_fds,
                )
                filtered = self.template.seccomp is not None
            else:
                runtime = self.config.runtime
                self.process, filtered = bubblewrap.launch(
                    runtime_root=runtime.root,
                    python=str(runtime.python),
                    boot=str(runtime.boot),
                    limits=self.limits,
                    entry_point=self.entry_point,
                    uid=sandbox_uid,
                    listen_fd=self._listener.fileno(),
                    status_fd=status_write,
                    cgroup_fds=cgroup_fds,
                    sandboxed=not self.config.unsafe_no_sandbox,
                )
            ours.pop_all()
        self.enforcement = Enforcement(
            sandboxed=not self.config.unsafe_no_sandbox,
            own_uid=sandbox_uid is not None,
            cgroup=self.cgroup is not None,
            seccomp=filtered,
        )
        self._read_outputs(status_read)

    def _read_outputs(self, status_read: int) -> None:
        assert self.process is not None and self.process.stdout is not None and self.process.stderr is not None
        self._pipes = [OutputPipe(self.process.stdout, self.stdout), OutputPipe(self.process.stderr, self.stderr)]
        for pipe in self._pipes:
            self._spawn(pipe.run)
        self._spawn(self._read_status, status_read)

    def _spawn(self, target: Callable[..., object], *args: object) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        thread.start()
        self._threads.append(thread)

    def _read_status(self, fd: int) -> None:
        budget = STATUS_CAP
        with os.fdopen(fd, "rb", buffering=0) as stream:
            pending = b""
            while budget > 0:
                try:
                    chunk = stream.read(4096)
                except OSError:
                    break
                if not chunk:
                    break
                budget -= len(chunk)
                pending += chunk
                *lines, pending = pending.split(b"\n")
                for line in lines:
                    self._record(line)
            if budget <= 0:
                # Keep draining so the writer never blocks, but keep nothing more.
                while stream.read(65536):
                    pass
        with self._event_seen:
            self._events.append({"event": "closed"})
            self._event_seen.notify_all()

    def _record(self, line: bytes) -> None:
        try:
            event = json.loads(line)
        except (ValueError, RecursionError):  # a line nested too deep must not end the reader
            return
        # The submission can write here too: keep only the few events the host
        # acts on, so a flood of lines costs it nothing but the reading.
        if isinstance(event, dict) and event.get("event") == "stall":
            with self._event_seen:
                if len(self._stalls) < MAX_STALL_EVENTS:
                    self._stalls.append(event)
            return
        if not isinstance(event, dict) or event.get("event") not in STATUS_EVENTS:
            return
        with self._event_seen:
            if len(self._events) >= MAX_STATUS_EVENTS:
                return
            self._events.append(event)
            self._event_seen.notify_all()

    def _wait_for(self, wanted: Callable[[dict[str, Any]], bool], timeout: float) -> dict[str, Any] | None:
        """The first event matching ``wanted``, or None at timeout or when the channel closed."""
        deadline = time.monotonic() + timeout
        with self._event_seen:
            while True:
                for event in self._events:
                    if wanted(event):
                        return event
                    if event.get("event") == "closed":
                        return None
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                self._event_seen.wait(min(remaining, 0.1))

    # -- loading a submission

    def load(self, source: str) -> LoadResult:
        """Send the submission and wait until its server is ready or loading failed."""
        assert self.process is not None and self.process.stdin is not None
        stdin = self.process.stdin
        data = source.encode("utf-8")
        self._fed = True

        def feed() -> None:
            # Stdin stays open: closing it later asks the server to shut down. A
            # server that died before reading it is reported by the wait below.
            with suppress(OSError, ValueError):
                stdin.write(b"%d\n" % len(data) + data)
                stdin.flush()

        self._spawn(feed)
        event = self._wait_for(lambda e: e.get("event") in ("ready", "error"), self.limits.startup_seconds)
        if event is not None and event.get("event") == "ready":
            self._loaded = True
            return LoadResult(ready=True)
        if event is not None:
            kind = event.get("kind")
            if kind not in BOOT_ERROR_KINDS:
                kind = "crash"
            facts = {key: event[key] for key in ERROR_FACTS if key in event}
            return LoadResult(ready=False, kind=kind, message=str(event.get("message", ""))[:4000], facts=facts)
        # The status channel closes as the program ends; give the process a moment
        # to be reaped, so that an exit is reported as one and not as a timeout.
        with self._event_seen:
            closed = any(e.get("event") == "closed" for e in self._events)
        if closed:
            with suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=EXIT_GRACE_SECONDS)
        code = self.process.poll()
        if code is None:
            return LoadResult(
                ready=False,
                kind="timeout",
                message=(
                    f"the server was not ready within {self.limits.startup_seconds:g} s: "
                    "is there an endless loop, a sleep or a blocking call when the file is loaded?"
                ),
            )
        return LoadResult(ready=False, kind=self.exit_kind(), message=self.describe_exit(), from_host=True)

    # -- state

    @property
    def limits_not_applied(self) -> list[str]:
        """The limits this sandbox went without, in words for the report (empty when all are in force)."""
        return self.enforcement.not_applied() if self.enforcement is not None else []

    def stall_mark(self) -> int:
        """A mark for ``stalls_since``: how many stall samples arrived until now."""
        with self._event_seen:
            return len(self._stalls)

    def stalls_since(self, mark: int) -> list[dict[str, Any]]:
        """The stall samples the boot script sent since ``mark``, oldest first, unchecked (the sandbox wrote them)."""
        with self._event_seen:
            return list(self._stalls[mark:])

    def waiting(self) -> bool:
        """Whether this sandbox is started, has been handed no submission yet and still runs."""
        return (
            self.process is not None
            and not self._closed
            and not self._fed
            and self._aborted is None
            and self.process.poll() is None
        )

    def settle_output(self) -> None:
        """Make sure the captured output holds everything the sandbox printed until now."""
        for pipe in self._pipes:
            pipe.settle()

    def memory_bytes(self) -> int:
        """Memory held by the sandbox's processes now: its cgroup's count, else their resident memory."""
        if self.cgroup is not None:
            return self.cgroup.memory_usage()
        if self.process is None or self.process.poll() is not None:
            return 0
        return sum(procfs.resident_bytes(pid) for pid in procfs.descendants(self.process.pid))

    def alive(self) -> bool:
        """Whether the server may still answer: started, not exited, not stopped by the grader."""
        return self.process is not None and self._aborted is None and self.process.poll() is None

    def exit_kind(self) -> str:
        code = self.process.poll() if self.process else None
        return "crash" if code is not None and (code < 0 or code > 128) else "exit"

    def abort(self, reason: str) -> None:
        """Stop everything in the sandbox now (from any thread); ``reason`` explains it later."""
        self._aborted = reason
        if self.cgroup is not None:
            self.cgroup.kill_all()
        if self.process is not None:
            self.process.kill()

    def describe_exit(self) -> str:
        """Why the server is gone, in words."""
        if self._aborted:
            return self._aborted
        code = self.process.poll() if self.process else None
        if code is None:
            return "the server is still running"
        if self.cgroup is not None and self.cgroup.out_of_memory():
            return f"the server was killed for using more than {self.limits.memory_bytes // (1024 * 1024)} MB of memory"
        signum = -code if code < 0 else code - 128 if code > 128 else 0
        if signum:
            try:
                name = signal.Signals(signum).name
            except ValueError:
                name = f"signal {signum}"
            if signum == signal.SIGXCPU:
                return f"the server used more than {self.limits.cpu_seconds} s of CPU time and was stopped"
            return f"the server was killed by {name}"
        return f"the server exited with status {code}"

    # -- tear-down

    def close(self) -> None:
        """Kill every process of the sandbox and release its slot; safe to call twice."""
        if self._closed:
            return
        self._closed = True
        try:
            self._shut_down_gracefully()
            self._kill_everything()
        finally:
            # Even after a failed sweep: whoever claims the slot next kills its uid first.
            if self._listener is not None:
                self._listener.close()
            if self._socket_dir is not None:
                shutil.rmtree(self._socket_dir, ignore_errors=True)
            if self.slot is not None:
                self.slot.release(clean=self._swept)

    def _kill_everything(self) -> None:
        if self.cgroup is not None:
            self.cgroup.kill_all()
        if self.process is not None:
            self.process.kill()  # each launcher kills what it started, through pidfds, never a bare pid
            with suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=5)
            self.process.release()
        if self.slot is not None and self.slot.uid is not None and not self.config.unsafe_no_sandbox:
            self._swept = kill_uid(self.slot.uid)
        if self.cgroup is not None:
            self.cgroup.remove()
        for thread in self._threads:
            thread.join(timeout=2)

    def _shut_down_gracefully(self) -> None:
        """Let a loaded server run its shutdown (lifespan) as a real server would, briefly."""
        if self.process is None or self.process.stdin is None:
            return
        with suppress(OSError):
            self.process.stdin.close()
        if self._loaded and self.process.poll() is None:
            with suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=SHUTDOWN_SECONDS)

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


@contextmanager
def started_sandbox(
    config: SandboxConfig, limits: Limits, entry_point: str, template: SandboxTemplate | None = None
) -> Iterator[Sandbox]:
    """A started sandbox, closed on exit."""
    sandbox = Sandbox(config, limits, entry_point, template)
    try:
        sandbox.start()
        yield sandbox
    finally:
        sandbox.close()
