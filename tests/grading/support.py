"""Helpers of the grading tests: reading corpora, probes, and looking at the host."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader.config import PROJECT_ROOT
from grader.grading.report import Report
from grader.grading.sandbox import SandboxConfig

SUBMISSIONS = Path(__file__).parent / "submissions"
# Every uid a sandbox of this machine may run as (slots are uid_base + N).
SANDBOX_UID_RANGE = range(61000, 61100)
# Folders of the repository that legitimately change while tests run.
_VOLATILE_NAMES = {".git", ".state", "__pycache__", ".pytest_cache", "test-artifacts"}


def submission_text(group: str, name: str) -> str:
    """The text of ``submissions/<group>/<name>`` (never executed here)."""
    return (SUBMISSIONS / group / name).read_text(encoding="utf-8")


def submission_files(group: str) -> list[Path]:
    """The files of one corpus, in name order."""
    return sorted((SUBMISSIONS / group).glob("*.py"))


def header_values(source: str, key: str) -> list[str]:
    """Values of ``# key: value`` lines at the top of a corpus file."""
    pattern = re.compile(rf"^#\s*{re.escape(key)}:\s*(.*)$")
    return [match.group(1).strip() for line in source.splitlines() if (match := pattern.match(line))]


def case_status(report: Report) -> dict[str, str]:
    """Case name -> passed/failed."""
    return {case.name: case.status for case in report.tests}


# --- what a hostile submission reports about itself ------------------------------------

PROBE_MARK = "PROBE:"


def find_probe(report: Report) -> dict[str, Any] | None:
    """The JSON a hostile submission printed after ``PROBE:`` or returned as ``{"probe": ...}``.

    It tells what the submission tried and what happened; the host checks do not
    rely on it, but without it a test could pass because the submission never ran.
    """
    for stream in (report.stdout, report.stderr):
        for line in stream.splitlines():
            if line.startswith(PROBE_MARK):
                try:
                    return json.loads(line[len(PROBE_MARK) :])
                except ValueError:
                    continue
    for case in report.tests:
        body = case.received.body
        if body and body.startswith('{"probe"'):
            try:
                return json.loads(body)["probe"]
            except (ValueError, KeyError):
                continue
    return None


def fill(source: str, **values: object) -> str:
    """Replace ``{{NAME}}`` placeholders of a hostile submission with values."""
    for name, value in values.items():
        source = source.replace("{{" + name + "}}", str(value))
    leftover = re.findall(r"\{\{[A-Z_]+\}\}", source)
    assert not leftover, f"unfilled placeholders: {leftover}"
    return source


# --- looking at the host ------------------------------------------------------------


@dataclass(frozen=True)
class ProcessInfo:
    pid: int
    uid: int
    ppid: int
    cmdline: str
    state: str = "?"

    @property
    def running(self) -> bool:
        """False for zombies: dead processes waiting for their parent to collect them."""
        return self.state not in ("Z", "X")


def list_processes() -> list[ProcessInfo]:
    """Every process of the host, read from /proc."""
    found: list[ProcessInfo] = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            status = Path(entry.path, "status").read_text()
            cmdline = Path(entry.path, "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        try:
            uid = int(fields["Uid"].split()[0])
            ppid = int(fields["PPid"].strip())
            state = fields["State"].split()[0]
        except (KeyError, ValueError, IndexError):
            continue
        found.append(ProcessInfo(int(entry.name), uid, ppid, cmdline, state))
    return found


def sandbox_processes(exclude: set[int] = frozenset()) -> list[ProcessInfo]:
    """Live (not zombie) processes running as any sandbox uid."""
    return [p for p in list_processes() if p.uid in SANDBOX_UID_RANGE and p.running and p.pid not in exclude]


def wait_for_no_sandbox_processes(timeout: float = 5.0, exclude: set[int] = frozenset()) -> list[ProcessInfo]:
    """Sandbox-uid processes still alive after ``timeout`` (empty when all are gone).

    Waiting a little keeps a grading that another test process runs on this
    machine at the same moment from being mistaken for a leak; a real leak stays.
    """
    deadline = time.monotonic() + timeout
    while True:
        left = sandbox_processes(exclude)
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.1)


def tree_state(root: Path, *, skip: set[str] = frozenset()) -> dict[str, tuple]:
    """Path -> (size, mtime, mode, uid) for every file and folder below ``root``."""
    state: dict[str, tuple] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d not in skip]
        for name in [*dirnames, *filenames]:
            path = os.path.join(dirpath, name)
            try:
                st = os.lstat(path)
            except OSError:
                continue
            state[path] = (st.st_size, st.st_mtime_ns, st.st_mode, st.st_uid)
    return state


def file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def memory_available() -> int:
    """MemAvailable of the host, in bytes."""
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no MemAvailable in /proc/meminfo")


def own_rss() -> int:
    """The resident memory of this (the grader's) process, in bytes."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS in /proc/self/status")


def free_disk(path: str = "/") -> int:
    return shutil.disk_usage(path).free


def files_owned_by_sandbox_uids(*roots: Path) -> list[str]:
    """Files below ``roots`` owned by a sandbox uid: anything a submission wrote on the host."""
    found = []
    for root in roots:
        for dirpath, dirnames, filenames in os.walk(root):
            for name in [*dirnames, *filenames]:
                path = os.path.join(dirpath, name)
                try:
                    if os.lstat(path).st_uid in SANDBOX_UID_RANGE:
                        found.append(path)
                except OSError:
                    continue
    return found


# Host places a submission would write to if it could; scanned for files it owns.
WRITABLE_HOST_PLACES = [Path("/tmp"), Path("/var/tmp"), Path("/dev/shm")]


@dataclass
class HostSnapshot:
    """What a hostile grading must leave as it found: processes, files, disk, memory."""

    process_count: int
    sandbox_pids: set[int]
    free_disk: int
    memory_available: int
    grader_rss: int
    repo: dict[str, tuple]
    runtime: dict[str, tuple]
    runtime_digests: dict[str, str] = field(default_factory=dict)

    @classmethod
    def take(cls, config: SandboxConfig) -> HostSnapshot:
        runtime_root = config.runtime.root
        key_files = [
            runtime_root / "boot.py",
            *sorted(runtime_root.glob("lib/python3*/site-packages/fastapi/__init__.py")),
        ]
        return cls(
            process_count=len(list_processes()),
            sandbox_pids={p.pid for p in sandbox_processes()},
            free_disk=free_disk(),
            memory_available=memory_available(),
            grader_rss=own_rss(),
            repo=tree_state(PROJECT_ROOT, skip=_VOLATILE_NAMES),
            runtime=tree_state(runtime_root),
            runtime_digests={str(path): file_digest(path) for path in key_files},
        )

    def problems_since(
        self,
        before: HostSnapshot,
        *,
        disk_margin: int = 256 << 20,
        memory_margin: int = 1 << 30,
        rss_margin: int = 100 << 20,
        exclude_pids: set[int] = frozenset(),
    ) -> list[str]:
        """Every way the host differs from ``before`` that a submission could have caused."""
        problems: list[str] = []
        left = wait_for_no_sandbox_processes(exclude=exclude_pids)
        if left:
            problems.append(f"sandbox-uid processes left running: {[(p.pid, p.uid, p.cmdline[:80]) for p in left]}")
        if self.runtime != before.runtime:
            problems.append(f"learner runtime changed: {_changed(before.runtime, self.runtime)}")
        for path, digest in before.runtime_digests.items():
            if file_digest(Path(path)) != digest:
                problems.append(f"runtime file content changed: {path}")
        repo_changes = _changed(before.repo, self.repo)
        if repo_changes:
            problems.append(f"repository changed: {repo_changes}")
        owned = files_owned_by_sandbox_uids(*WRITABLE_HOST_PLACES, PROJECT_ROOT / ".state")
        if owned:
            problems.append(f"files owned by a sandbox uid on the host: {owned[:10]}")
        if before.free_disk - self.free_disk > disk_margin:
            problems.append(f"free disk fell by {(before.free_disk - self.free_disk) >> 20} MB")
        if before.memory_available - self.memory_available > memory_margin:
            problems.append(f"available memory fell by {(before.memory_available - self.memory_available) >> 20} MB")
        if self.grader_rss - before.grader_rss > rss_margin:
            problems.append(f"the grader's memory grew by {(self.grader_rss - before.grader_rss) >> 20} MB")
        if self.process_count - before.process_count > 20:
            problems.append(f"{self.process_count - before.process_count} more processes on the host than before")
        return problems


def _changed(before: dict[str, tuple], after: dict[str, tuple]) -> list[str]:
    added = sorted(set(after) - set(before))
    removed = sorted(set(before) - set(after))
    modified = sorted(path for path in set(before) & set(after) if before[path] != after[path])
    return [f"+{p}" for p in added[:5]] + [f"-{p}" for p in removed[:5]] + [f"~{p}" for p in modified[:5]]


class ProcessWatcher:
    """Polls /proc while a grading runs, recording the processes of the sandbox uids.

    Shows what ran inside the sandbox (its host uid, how many processes at once,
    whether a marked process ever started) without trusting anything it printed.
    """

    def __init__(
        self, marker: str | None = None, interval: float = 0.02, watch_all: bool = False, sample: str | None = None
    ) -> None:
        self.marker = marker
        self.sample = sample
        self.samples: list[list[ProcessInfo]] = []
        self.interval = interval
        self.watch_all = watch_all
        self.everything: dict[int, ProcessInfo] = {}
        self.seen: dict[int, ProcessInfo] = {}
        self.marked: dict[int, ProcessInfo] = {}
        self.max_at_once = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._own_cmdline = (
            Path("/proc/self/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
        )

    def _run(self) -> None:
        while not self._stop.is_set():
            processes = list_processes()
            in_sandbox = [p for p in processes if p.uid in SANDBOX_UID_RANGE and p.running]
            self.max_at_once = max(self.max_at_once, len(in_sandbox))
            for process in in_sandbox:
                self.seen.setdefault(process.pid, process)
            if self.sample:
                self.samples.append([p for p in processes if self.sample in p.cmdline and p.running])
            if self.watch_all:
                # Keep the latest view: a process changes uid and command line when it execs.
                self.everything.update((p.pid, p) for p in processes if p.cmdline != self._own_cmdline)
            if self.marker:
                for process in processes:
                    if self.marker in process.cmdline:
                        self.marked.setdefault(process.pid, process)
            self._stop.wait(self.interval)

    def __enter__(self) -> ProcessWatcher:
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
