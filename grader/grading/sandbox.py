"""Starting, talking to and tearing down one sandboxed learner server.

A sandbox is a bubblewrap process tree in fresh user, PID, network, IPC, UTS and
mount namespaces. Its root is an empty read-only tmpfs holding only ``/usr``
(read-only), the learner runtime at ``/opt/runtime`` (read-only), a fresh
``/proc``, a minimal ``/dev`` (read-only) and small private tmpfs mounts at
``/tmp`` and ``/dev/shm``. Whole-tree limits on memory and process count come
from cgroups; per-process limits (CPU time, file size, open files, address space)
from rlimits. When the grader runs as root, each concurrent sandbox ("slot") runs
as a host uid of its own, so that bubblewrap never runs as root, RLIMIT_NPROC is
meaningful and every leftover process can be killed by uid.

The host creates, binds and listens on a Unix socket in a 0700 folder the sandbox
never sees and passes the listening socket in as a file descriptor; it then
connects to that socket by its host path. Nothing the sandbox can write is ever
opened, followed or deleted by the host.

Exceptions:

    SandboxError
    ├── SandboxUnavailable   this machine cannot run sandboxes (no bwrap, no runtime, ...)
    └── SandboxFailed        a sandbox could not start or be driven; the grader's fault
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import resource
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

from grader.grading import seccomp
from grader.grading.runtime import LearnerRuntime
from grader.grading.spec import Limits

SANDBOX_RUNTIME = "/opt/runtime"
STATUS_CAP = 256 * 1024
STATUS_EVENTS = frozenset({"waiting", "loaded", "ready", "error"})
MAX_STATUS_EVENTS = 16
PREPARE_SECONDS = 30.0
SHUTDOWN_SECONDS = 2.0


class SandboxError(Exception):
    """Base of the sandbox's errors."""


class SandboxUnavailable(SandboxError):
    """Sandboxes cannot run on this machine as configured; the message says what is missing."""


class SandboxFailed(SandboxError):
    """A sandbox failed for reasons that are not the submission's."""


@dataclass(frozen=True)
class SandboxConfig:
    """Where and as whom sandboxes run.

    runtime: the learner runtime mounted read-only at /opt/runtime.
    state_dir: host-only folder for slot locks (created 0700).
    uid_base/slots: slot N runs as host uid and gid uid_base + N (root only).
    unsafe_no_sandbox: run learner code directly on the host. Trusted local use only.
    """

    runtime: LearnerRuntime
    state_dir: Path
    uid_base: int = 61000
    slots: int = 8
    slot_wait_seconds: float = 120.0
    unsafe_no_sandbox: bool = False


# --- capped capture of the submission's output -------------------------------------


class CappedBuffer:
    """Keeps the head and the tail of a stream, never more than ``cap`` bytes in all."""

    def __init__(self, cap: int) -> None:
        self._head_cap = cap // 2
        self._tail_cap = cap - self._head_cap
        self._head = bytearray()
        self._tail = bytearray()
        self.dropped = 0

    def feed(self, chunk: bytes) -> None:
        room = self._head_cap - len(self._head)
        if room > 0:
            self._head += chunk[:room]
            chunk = chunk[room:]
        if chunk:
            self._tail += chunk
            overflow = len(self._tail) - self._tail_cap
            if overflow > 0:
                del self._tail[:overflow]
                self.dropped += overflow

    def text(self) -> str:
        head = self._head.decode("utf-8", errors="replace")
        tail = self._tail.decode("utf-8", errors="replace")
        if self.dropped:
            return f"{head}\n[… {self.dropped:,} bytes not kept …]\n{tail}"
        return head + tail


def _drain(stream, sink: CappedBuffer) -> None:
    try:
        while True:
            chunk = stream.read1(65536) if hasattr(stream, "read1") else stream.read(65536)
            if not chunk:
                break
            sink.feed(chunk)
    except (OSError, ValueError):
        pass
    finally:
        with suppress(OSError):
            stream.close()


# --- slots --------------------------------------------------------------------------


@dataclass
class Slot:
    """An exclusive claim on one sandbox identity, held by a lock file."""

    index: int
    uid: int | None
    _lock_fd: int = field(repr=False, default=-1)

    def release(self) -> None:
        if self._lock_fd >= 0:
            os.close(self._lock_fd)
            self._lock_fd = -1


def _private_dir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(path, 0o700)
    return path


MACHINE_LOCK_DIR = Path("/run/grader/slots")
CGROUP_ROOT = Path("/sys/fs/cgroup")


def acquire_slot(config: SandboxConfig) -> Slot:
    """Claim a free slot, waiting up to ``slot_wait_seconds``; locks work across processes.

    As root a slot is a host uid, which every grader on the machine shares
    whatever its state folder, so the lock is taken per uid in one machine-wide
    folder. Otherwise slots only bound this grader's concurrency.
    """
    as_root = os.geteuid() == 0
    lock_dir = _private_dir(MACHINE_LOCK_DIR if as_root else config.state_dir / "slots")
    deadline = time.monotonic() + config.slot_wait_seconds
    while True:
        for index in range(config.slots):
            name = f"uid{config.uid_base + index}" if as_root else str(index)
            fd = os.open(lock_dir / f"{name}.lock", os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                os.close(fd)
                if exc.errno in (errno.EAGAIN, errno.EACCES):
                    continue
                raise
            return Slot(index=index, uid=config.uid_base + index if as_root else None, _lock_fd=fd)
        if time.monotonic() > deadline:
            raise SandboxFailed(f"all {config.slots} sandbox slots stayed busy for {config.slot_wait_seconds:.0f} s")
        time.sleep(0.05)


def kill_uid(uid: int) -> None:
    """Kill every process of a slot's host uid (run as that uid, so nothing else is hit)."""
    for _ in range(3):
        subprocess.run(
            ["/bin/kill", "-KILL", "-1"],
            user=uid,
            group=uid,
            extra_groups=[],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env={},
            close_fds=True,
        )
        if not _uid_has_processes(uid):
            return
        time.sleep(0.01)


def _uid_has_processes(uid: int) -> bool:
    """Whether any live (non-zombie) process runs as ``uid``."""
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            if entry.stat().st_uid == uid and _start_time(int(entry.name)) is not None:
                return True
        except OSError:
            continue
    return False


# --- cgroups ------------------------------------------------------------------------


class Cgroup:
    """A cgroup (v1: one per controller; v2: one) bounding a whole sandbox."""

    def __init__(self, version: int, paths: list[Path]) -> None:
        self.version = version
        self.paths = paths

    @classmethod
    def create(cls, name: str, limits: Limits, root: Path = CGROUP_ROOT) -> Cgroup | None:
        """A fresh group for ``name`` with the limits set, or None where cgroups are not writable.

        The version is detected here: a unified (v2) hierarchy has
        ``cgroup.controllers`` at its root; v1 has one folder per controller.
        """
        if os.geteuid() != 0:
            return None
        if (root / "cgroup.controllers").is_file():
            return cls._create_v2(root, name, limits)
        memory, pids = root / "memory", root / "pids"
        if (memory / "cgroup.procs").is_file() and (pids / "cgroup.procs").is_file():
            return cls._create_v1(memory, pids, name, limits)
        return None

    @classmethod
    def _create_v1(cls, memory: Path, pids: Path, name: str, limits: Limits) -> Cgroup:
        paths = [memory / "grader" / name, pids / "grader" / name]
        group = cls(1, paths)
        group.remove()
        for path in paths:
            path.mkdir(parents=True, exist_ok=True)
        mem = paths[0]
        (mem / "memory.limit_in_bytes").write_text(str(limits.memory_bytes))
        if (mem / "memory.memsw.limit_in_bytes").exists():
            (mem / "memory.memsw.limit_in_bytes").write_text(str(limits.memory_bytes))
        (paths[1] / "pids.max").write_text(str(limits.processes))
        return group

    @classmethod
    def _create_v2(cls, root: Path, name: str, limits: Limits) -> Cgroup | None:
        available = (root / "cgroup.controllers").read_text().split()
        if "memory" not in available or "pids" not in available:
            return None
        parent = root / "grader"
        parent.mkdir(exist_ok=True)
        for level in (root, parent):
            try:
                (level / "cgroup.subtree_control").write_text("+memory +pids")
            except OSError:
                return None
        path = parent / name
        group = cls(2, [path])
        group.remove()
        path.mkdir()
        (path / "memory.max").write_text(str(limits.memory_bytes))
        if (path / "memory.swap.max").exists():
            (path / "memory.swap.max").write_text("0")
        (path / "pids.max").write_text(str(limits.processes))
        return group

    def procs_fds(self) -> list[int]:
        """Open ``cgroup.procs`` files, for the child to write itself into before exec."""
        return [os.open(path / "cgroup.procs", os.O_WRONLY) for path in self.paths]

    def pids(self) -> set[int]:
        found: set[int] = set()
        for path in self.paths:
            try:
                found.update(int(line) for line in (path / "cgroup.procs").read_text().split())
            except OSError:
                continue
        return found

    def kill_all(self) -> None:
        """Kill every process in the group, sweeping until it is empty."""
        if self.version == 2 and (self.paths[0] / "cgroup.kill").exists():
            with suppress(OSError):
                (self.paths[0] / "cgroup.kill").write_text("1")
        for _ in range(200):
            pids = self.pids()
            if not pids:
                return
            for pid in pids:
                with suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.005)

    def out_of_memory(self) -> bool:
        """Whether the kernel hit the memory limit and killed something."""
        try:
            if self.version == 1:
                stats = dict(line.split() for line in (self.paths[0] / "memory.oom_control").read_text().splitlines())
                return int(stats.get("oom_kill", "0")) > 0
            stats = dict(line.split() for line in (self.paths[0] / "memory.events").read_text().splitlines())
            return int(stats.get("oom_kill", "0")) > 0
        except (OSError, ValueError):
            return False

    def remove(self) -> None:
        for path in self.paths:
            if path.exists():
                for _ in range(100):
                    try:
                        path.rmdir()
                        break
                    except OSError as exc:
                        if exc.errno == errno.ENOENT:
                            break
                        for pid in _read_pids(path):
                            with suppress(ProcessLookupError):
                                os.kill(pid, signal.SIGKILL)
                        time.sleep(0.01)


def _start_time(pid: int) -> str | None:
    """A running process's start time (clock ticks since boot); None once it has exited.

    A sandbox's PID 1 turns zombie only after the kernel has killed and reaped
    everything else in its PID namespace, so a zombie counts as gone.
    """
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()
    return None if fields[0] in ("Z", "X") else fields[19]


def _read_pids(path: Path) -> list[int]:
    try:
        return [int(line) for line in (path / "cgroup.procs").read_text().split()]
    except OSError:
        return []


# --- the sandbox --------------------------------------------------------------------


def _rlimits(limits: Limits, own_uid: bool) -> list[tuple[int, tuple[int, int]]]:
    address_space = limits.memory_bytes + 1024 * 1024 * 1024
    values = [
        (resource.RLIMIT_CPU, (limits.cpu_seconds, limits.cpu_seconds + 1)),
        (resource.RLIMIT_FSIZE, (limits.file_size_bytes, limits.file_size_bytes)),
        (resource.RLIMIT_NOFILE, (limits.open_files, limits.open_files)),
        (resource.RLIMIT_CORE, (0, 0)),
        (resource.RLIMIT_AS, (address_space, address_space)),
        (resource.RLIMIT_MEMLOCK, (0, 0)),
    ]
    if own_uid:
        # Counts every process and thread of the uid, so only meaningful with a uid per slot.
        values.append((resource.RLIMIT_NPROC, (limits.processes, limits.processes)))
    return values


def _preexec(cgroup_fds: list[int], rlimits, uid: int | None):
    """What the child does between fork and exec: join the cgroups, set limits, drop root.

    It only makes system calls (no imports, no locks), since the grader may have
    other threads. Bubblewrap itself sets no_new_privs and drops capabilities.
    """

    def run() -> None:
        for fd in cgroup_fds:
            os.write(fd, b"0")
        for which, value in rlimits:
            resource.setrlimit(which, value)
        if uid is not None:
            os.setgroups([])
            os.setresgid(uid, uid, uid)
            os.setresuid(uid, uid, uid)

    return run


def bwrap_arguments(runtime_root: Path, limits: Limits) -> list[str]:
    """The bubblewrap options: what the sandbox sees and which namespaces it gets."""
    return [
        "--unshare-all",
        "--unshare-user",
        "--disable-userns",
        "--die-with-parent",
        "--new-session",
        "--uid",
        "1000",
        "--gid",
        "1000",
        "--hostname",
        "sandbox",
        "--clearenv",
        "--setenv",
        "PATH",
        f"{SANDBOX_RUNTIME}/bin:/usr/bin:/bin",
        "--setenv",
        "HOME",
        "/tmp",
        "--setenv",
        "LANG",
        "C.UTF-8",
        "--ro-bind",
        "/usr",
        "/usr",
        "--symlink",
        "usr/lib",
        "/lib",
        "--symlink",
        "usr/lib64",
        "/lib64",
        "--symlink",
        "usr/bin",
        "/bin",
        "--ro-bind",
        str(runtime_root),
        SANDBOX_RUNTIME,
        "--proc",
        "/proc",
        "--dev",
        "/dev",
        "--size",
        str(limits.tmpfs_bytes),
        "--tmpfs",
        "/tmp",
        "--size",
        str(1024 * 1024),
        "--tmpfs",
        "/dev/shm",
        "--remount-ro",
        "/dev",
        "--remount-ro",
        "/",
        "--chdir",
        "/tmp",
    ]


@dataclass(frozen=True)
class LoadResult:
    """How loading the submission went: ready to serve, or the error the boot script saw."""

    ready: bool
    kind: str | None = None
    message: str = ""


class Sandbox:
    """One started sandbox: its process, socket, status channel and captured output.

    ``start`` launches it and waits until the server libraries are imported;
    ``load`` hands it a submission; ``close`` kills everything it started.
    """

    def __init__(self, config: SandboxConfig, limits: Limits, entry_point: str) -> None:
        self.config = config
        self.limits = limits
        self.entry_point = entry_point
        self.slot: Slot | None = None
        self.cgroup: Cgroup | None = None
        self.process: subprocess.Popen | None = None
        self.stdout = CappedBuffer(limits.output_bytes)
        self.stderr = CappedBuffer(limits.output_bytes)
        self.limits_not_applied: list[str] = []
        self._socket_dir: Path | None = None
        self._listener: socket.socket | None = None
        self._events: list[dict] = []
        self._event_seen = threading.Condition()
        self._threads: list[threading.Thread] = []
        self._closed = False
        self._loaded = False
        self._init_pid: int | None = None
        self._aborted: str | None = None
        self._init_started: str | None = None

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
            exited = self.process.poll() is not None
            self.close()
            detail = self.stderr.text().strip()[-500:] or f"exit status {self.process.poll()}"
            if exited and detail.startswith("bwrap:"):
                raise SandboxUnavailable(f"bubblewrap cannot create the sandbox here ({detail})")
            raise SandboxFailed(f"the sandbox did not start: {detail}")

    def _launch(self) -> None:
        self.slot = acquire_slot(self.config)
        own_uid = self.slot.uid is not None and not self.config.unsafe_no_sandbox
        if own_uid:
            kill_uid(self.slot.uid)  # whatever a crashed grader may have left behind
        else:
            self.limits_not_applied.append("separate host user per sandbox (the grader is not root)")
            self.limits_not_applied.append("process count (needs a separate host user or cgroups)")
        # Named by uid: the uid's lock is what makes the group this grading's alone.
        self.cgroup = Cgroup.create(f"uid{self.slot.uid}", self.limits) if own_uid else None
        if self.cgroup is None:
            self.limits_not_applied.append(
                "memory limit for the whole sandbox (no writable cgroups; only per-process address space is bounded)"
            )
        if self.config.unsafe_no_sandbox:
            self.limits_not_applied.insert(0, "NO SANDBOX: the submission ran directly on the host")

        self._socket_dir = Path(tempfile.mkdtemp(prefix="grader-sock-"))
        self._listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._listener.bind(str(self.socket_path))
        self._listener.listen(64)
        status_read, status_write = os.pipe()
        listen_fd = self._listener.fileno()
        os.set_inheritable(listen_fd, True)
        os.set_inheritable(status_write, True)

        runtime = self.config.runtime
        passed_fds = [listen_fd, status_write]
        our_ends = [status_read]
        if self.config.unsafe_no_sandbox:
            python, boot, prefix = str(runtime.python), str(runtime.boot), []
        else:
            python, boot = f"{SANDBOX_RUNTIME}/bin/python3", f"{SANDBOX_RUNTIME}/boot.py"
            prefix = ["bwrap", *bwrap_arguments(runtime.root, self.limits)]
            seccomp_fd = seccomp.filter_fd()
            if seccomp_fd is None:
                self.limits_not_applied.append("system-call filter (seccomp is described for x86-64 only)")
            else:
                os.set_inheritable(seccomp_fd, True)
                passed_fds.append(seccomp_fd)
                prefix += ["--seccomp", str(seccomp_fd)]
            bwrap_status_read, bwrap_status_write = os.pipe()
            our_ends.append(bwrap_status_read)
            os.set_inheritable(bwrap_status_write, True)
            passed_fds.append(bwrap_status_write)
            prefix += ["--json-status-fd", str(bwrap_status_write), "--"]
        command = [
            *prefix,
            python,
            "-I",
            "-B",
            "-u",
            boot,
            "--listen-fd",
            str(listen_fd),
            "--status-fd",
            str(status_write),
            "--entry",
            self.entry_point,
        ]
        cgroup_fds = self.cgroup.procs_fds() if self.cgroup else []
        try:
            self.process = subprocess.Popen(
                command,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                pass_fds=tuple(passed_fds),
                close_fds=True,
                start_new_session=True,
                env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"},
                cwd="/",
                preexec_fn=_preexec(cgroup_fds, _rlimits(self.limits, own_uid), self.slot.uid if own_uid else None),
            )
        except BaseException:
            for fd in our_ends:
                os.close(fd)
            raise
        finally:
            for fd in cgroup_fds:
                os.close(fd)
            for fd in passed_fds[1:]:
                os.close(fd)
        self._spawn(_drain, self.process.stdout, self.stdout)
        self._spawn(_drain, self.process.stderr, self.stderr)
        self._spawn(self._read_status, status_read)
        if not self.config.unsafe_no_sandbox:
            self._spawn(self._read_bwrap_status, bwrap_status_read)

    def _spawn(self, target, *args) -> None:
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

    def _read_bwrap_status(self, fd: int) -> None:
        """Learn the host pid of the sandbox's PID 1 from bubblewrap's first status line.

        Bubblewrap writes it before anything of the submission runs, so it can be
        trusted; its start time is kept too, so that a recycled pid is never killed.
        """
        with os.fdopen(fd, "rb", buffering=0) as stream:
            first = stream.readline(4096)
            try:
                pid = int(json.loads(first)["child-pid"])
            except (ValueError, KeyError, TypeError):
                pid = 0
            if pid > 1:
                self._init_pid, self._init_started = pid, _start_time(pid)
            while stream.read(4096):
                pass

    def _record(self, line: bytes) -> None:
        try:
            event = json.loads(line)
        except ValueError:
            return
        # The submission can write here too: keep only the few events the host
        # acts on, so a flood of lines costs it nothing but the reading.
        if not isinstance(event, dict) or event.get("event") not in STATUS_EVENTS:
            return
        with self._event_seen:
            if len(self._events) >= MAX_STATUS_EVENTS:
                return
            self._events.append(event)
            self._event_seen.notify_all()

    def _wait_for(self, wanted, timeout: float) -> dict | None:
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
        data = source.encode("utf-8")

        def feed() -> None:
            # Stdin stays open: closing it later asks the server to shut down.
            try:
                self.process.stdin.write(b"%d\n" % len(data) + data)
                self.process.stdin.flush()
            except (OSError, ValueError):
                pass

        self._spawn(feed)
        event = self._wait_for(lambda e: e.get("event") in ("ready", "error"), self.limits.startup_seconds)
        if event is not None and event.get("event") == "ready":
            self._loaded = True
            return LoadResult(ready=True)
        if event is not None:
            kind = event.get("kind")
            if kind not in ("syntax", "import", "exit", "no_app", "not_asgi", "crash"):
                kind = "crash"
            return LoadResult(ready=False, kind=kind, message=str(event.get("message", ""))[:4000])
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
        return LoadResult(ready=False, kind=self.exit_kind(), message=self.describe_exit())

    # -- state

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
        self._kill_pid_namespace()
        if self.config.unsafe_no_sandbox and self.process is not None:
            with suppress(ProcessLookupError, PermissionError):
                os.killpg(self.process.pid, signal.SIGKILL)

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
        self._shut_down_gracefully()
        if self.cgroup is not None:
            self.cgroup.kill_all()
        self._kill_pid_namespace()
        if self.process is not None:
            if self.process.poll() is None:
                with suppress(ProcessLookupError, PermissionError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                with suppress(ProcessLookupError):
                    self.process.kill()
            with suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=5)
        if self.slot is not None and self.slot.uid is not None and not self.config.unsafe_no_sandbox:
            kill_uid(self.slot.uid)
        if self.cgroup is not None:
            self.cgroup.remove()
        for thread in self._threads:
            thread.join(timeout=2)
        if self._listener is not None:
            self._listener.close()
        if self._socket_dir is not None:
            shutil.rmtree(self._socket_dir, ignore_errors=True)
        if self.slot is not None:
            self.slot.release()

    def _kill_pid_namespace(self) -> None:
        """Kill the sandbox's PID 1, which takes every process inside with it, and wait for that."""
        pid, started = self._init_pid, self._init_started
        if pid is None or started is None:
            return
        deadline = time.monotonic() + SHUTDOWN_SECONDS
        while _start_time(pid) == started and time.monotonic() < deadline:
            with suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
            time.sleep(0.005)

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

    def __exit__(self, *exc_info) -> None:
        self.close()


@contextmanager
def started_sandbox(config: SandboxConfig, limits: Limits, entry_point: str) -> Iterator[Sandbox]:
    """A started sandbox, closed on exit."""
    sandbox = Sandbox(config, limits, entry_point)
    try:
        sandbox.start()
        yield sandbox
    finally:
        sandbox.close()
