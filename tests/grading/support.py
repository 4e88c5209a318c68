"""Helpers of the grading tests: reading corpora, probes, and looking at the host."""

from __future__ import annotations

import dataclasses
import fcntl
import hashlib
import json
import os
import re
import tempfile
import threading
import time
from collections.abc import Callable, Collection, Container
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader.config import PROJECT_ROOT, get_settings
from grader.grading.report import Report
from grader.grading.runtime import READY_MARK
from grader.grading.sandbox import CGROUP_ROOT, SandboxConfig, SandboxUnavailable, procfs
from grader.grading.sandbox.lease import MAX_UID, Lease, lease_uids
from grader.grading.sandbox.pool import SandboxPool, open_pools
from grader.grading.sandbox.procfs import ProcessInfo

SUBMISSIONS = Path(__file__).parent / "submissions"
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


# --- this test session's own sandboxes ------------------------------------------------

# Blocks of host uids for test sessions, away from the service's (61000 + N): each
# session claims one block for itself, so that its host checks count only its own
# sandboxes while other graders and other test runs work on the same machine.
TEST_UID_BLOCKS = range(62000, 65000, 32)
TEST_UID_BLOCK_SIZE = 32


@dataclass
class UidBlock:
    """A block of host uids claimed by this test session (held by a lease, or a lock file when not root)."""

    base: int
    _release: Callable[[], None] = field(repr=False)

    @property
    def spare_uid(self) -> int:
        """A uid of the block that no slot uses: for processes a submission must not reach."""
        return self.base + TEST_UID_BLOCK_SIZE - 1

    def release(self) -> None:
        self._release()


def claim_uid_block() -> UidBlock:
    """Claim a free block of test uids for this session, machine-wide.

    As root it is also the graders' own lease (``grading.sandbox.lease``), so no
    grader on the machine (a service, a service a test starts, another test
    session) ever runs a sandbox on these uids.
    """
    as_root = os.geteuid() == 0
    lock_dir = (
        Path("/run/grader/test-uid-blocks") if as_root else Path(tempfile.gettempdir()) / "grader-test-uid-blocks"
    )
    lock_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    for base in TEST_UID_BLOCKS:
        fd = os.open(lock_dir / f"{base}.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            continue
        if not as_root:
            return UidBlock(base, lambda fd=fd: os.close(fd))
        try:
            lease = lease_uids(base, TEST_UID_BLOCK_SIZE, step=MAX_UID)  # this block or none
        except SandboxUnavailable:
            os.close(fd)  # a grader runs sandboxes here: try the next block
            continue

        def release(fd: int = fd, lease: Lease = lease) -> None:
            lease.release()
            os.close(fd)

        return UidBlock(base, release)
    raise AssertionError("every block of test uids is claimed by another test session")


def session_sandbox_config(block: UidBlock, state_dir: Path, **changes: Any) -> SandboxConfig:
    """The service's sandbox configuration, moved to this session's uids and state folder."""
    config = get_settings().sandbox_config(lease=False)  # the session's block is its lease
    assert config.slots < TEST_UID_BLOCK_SIZE
    return dataclasses.replace(config, uid_base=block.base, state_dir=state_dir, **changes)


def session_environment(config: SandboxConfig) -> dict[str, str]:
    """Environment for an ``autograder`` subprocess that should grade with ``config``'s uids and state."""
    return {
        **os.environ,
        "GRADER_SANDBOX_UID_BASE": str(config.uid_base),
        "GRADER_SANDBOX_SLOTS": str(config.slots),
        "GRADER_SANDBOX_RUN_DIR": str(config.state_dir),
        "GRADER_SANDBOX_UID_LEASE": "false",  # the session's lease covers its own processes
    }


# --- looking at the host ------------------------------------------------------------


def session_pools(config: SandboxConfig | None) -> list[SandboxPool]:
    """The open pools of this process that run sandboxes on ``config``'s uids (all of them for None)."""
    return [pool for pool in open_pools() if config is None or pool.config.uid_base == config.uid_base]


def unused_pool_uids(config: SandboxConfig) -> set[int]:
    """The slot uids of the sandboxes this process's pools hold that no grading has had."""
    sandboxes = [sandbox for pool in session_pools(config) for sandbox in pool.unused()]
    return {sandbox.slot.uid for sandbox in sandboxes if sandbox.slot is not None and sandbox.slot.uid is not None}


def unused_pool_sandboxes(config: SandboxConfig | None) -> tuple[set[int], set[int]]:
    """(pids, uids) of the sandboxes this process's pools (on ``config``'s uids, or all) hold that no grading has had."""
    pids: set[int] = set()
    uids: set[int] = set()
    for sandbox in [sandbox for pool in session_pools(config) for sandbox in pool.unused()]:
        if sandbox.process is not None:
            pids |= procfs.descendants(sandbox.process.pid)
        if sandbox.cgroup is not None:
            pids |= sandbox.cgroup.pids()
        if sandbox.slot is not None and sandbox.slot.uid is not None:
            uids.add(sandbox.slot.uid)
    return pids, uids


def sandbox_processes(config: SandboxConfig, exclude: Collection[int] = frozenset()) -> list[ProcessInfo]:
    """Live (not zombie) processes running as one of ``config``'s slot uids, less the pools' unused sandboxes."""
    found = procfs.running_processes_of(config.slot_uids)
    unused, _ = unused_pool_sandboxes(config)  # read after the scan: a sandbox started since is caught next round
    return [p for p in found if p.pid not in exclude and p.pid not in unused]


def wait_for_no_sandbox_processes(
    config: SandboxConfig, timeout: float = 5.0, exclude: Collection[int] = frozenset()
) -> list[ProcessInfo]:
    """Processes of ``config``'s slot uids still alive after ``timeout`` (empty when all are gone)."""
    deadline = time.monotonic() + timeout
    while True:
        left = sandbox_processes(config, exclude)
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.1)


def leftover_cgroups(config: SandboxConfig) -> list[str]:
    """Cgroup folders of ``config``'s slots still on the host (each held a sandbox's memory), less the pool's unused."""
    roots = [CGROUP_ROOT / "memory" / "grader", CGROUP_ROOT / "pids" / "grader", CGROUP_ROOT / "grader"]
    _, unused_uids = unused_pool_sandboxes(config)
    return [
        str(root / f"uid{uid}")
        for root in roots
        for uid in config.slot_uids
        if uid not in unused_uids and (root / f"uid{uid}").exists()
    ]


def own_children(exclude: Collection[int] = frozenset()) -> list[ProcessInfo]:
    """Processes whose parent is this (the grader's) process, zombies included: a child never reaped leaks too."""
    me = os.getpid()
    return [p for p in procfs.list_processes() if p.ppid == me and p.pid not in exclude]


def tree_state(root: Path, *, skip: Collection[str] = frozenset()) -> dict[str, tuple]:
    """Path -> (size, mtime, mode, uid) for every file and folder below ``root`` (less the ``skip`` ones)."""
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


def own_rss() -> int:
    """The resident memory of this (the grader's) process, in bytes."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS in /proc/self/status")


def files_owned_by(uids: Container[int], *roots: Path) -> list[str]:
    """Files below ``roots`` owned by one of ``uids``: anything such a sandbox wrote on the host."""
    found = []
    for root in roots:
        for dirpath, dirnames, filenames in os.walk(root):
            for name in [*dirnames, *filenames]:
                path = os.path.join(dirpath, name)
                try:
                    if os.lstat(path).st_uid in uids:
                        found.append(path)
                except OSError:
                    continue
    return found


# Host places a submission would write to if it could; scanned for files it owns.
WRITABLE_HOST_PLACES = [Path("/tmp"), Path("/var/tmp"), Path("/dev/shm")]


@dataclass
class HostSnapshot:
    """What a hostile grading must leave as it found, counting only this session's sandboxes.

    Host-wide counts (all processes, free memory, free disk) move whenever anything
    else on the machine works, so they are not compared. What is compared belongs
    to this session alone: processes and files of its slot uids, the cgroups that
    held its sandboxes' memory, the children and memory of this process, and the
    repository and learner runtime, which no grading may change.
    """

    config: SandboxConfig
    children: set[int]
    grader_rss: int
    repo: dict[str, tuple]
    runtime: dict[str, tuple]
    runtime_digests: dict[str, str] = field(default_factory=dict)

    @classmethod
    def take(cls, config: SandboxConfig) -> HostSnapshot:
        runtime_root = config.runtime.root
        key_files = [
            runtime_root / READY_MARK,
            runtime_root / "boot.py",
            *sorted(runtime_root.glob("lib/python3*/site-packages/fastapi/__init__.py")),
        ]
        for pool in session_pools(config):
            pool.wait_closed()
        return cls(
            config=config,
            children={p.pid for p in own_children()},
            grader_rss=own_rss(),
            repo=tree_state(PROJECT_ROOT, skip=_VOLATILE_NAMES),
            runtime=tree_state(runtime_root),
            runtime_digests={str(path): file_digest(path) for path in key_files},
        )

    def problems_since(
        self,
        before: HostSnapshot,
        *,
        rss_margin: int = 100 << 20,
        exclude_pids: Collection[int] = frozenset(),
    ) -> list[str]:
        """Every way the host differs from ``before`` that one of this session's gradings could have caused."""
        config = self.config
        problems: list[str] = []
        if not all(pool.wait_closed() for pool in session_pools(config)):
            problems.append("the pool's tear-downs did not finish")
        left = wait_for_no_sandbox_processes(config, exclude=exclude_pids)
        if left:
            problems.append(f"sandbox-uid processes left running: {[(p.pid, p.uid, p.cmdline[:80]) for p in left]}")
        groups = leftover_cgroups(config)
        if groups:
            problems.append(f"cgroups of this session's sandboxes left behind: {groups}")
        unused, _ = unused_pool_sandboxes(None)  # any pool of this process: its sandboxes are its children
        children = [p for p in own_children(exclude_pids) if p.pid not in before.children and p.pid not in unused]
        if children:
            problems.append(
                f"child processes of the grader left behind: {[(p.pid, p.state, p.cmdline[:80]) for p in children]}"
            )
        if self.runtime != before.runtime:
            problems.append(f"learner runtime changed: {_changed(before.runtime, self.runtime)}")
        for path, digest in before.runtime_digests.items():
            if file_digest(Path(path)) != digest:
                problems.append(f"runtime file content changed: {path}")
        repo_changes = _changed(before.repo, self.repo)
        if repo_changes:
            problems.append(f"repository changed: {repo_changes}")
        owned = files_owned_by(config.slot_uids, *WRITABLE_HOST_PLACES, PROJECT_ROOT / ".state", config.state_dir)
        if owned:
            problems.append(f"files owned by a sandbox uid on the host: {owned[:10]}")
        if self.grader_rss - before.grader_rss > rss_margin:
            problems.append(f"the grader's memory grew by {(self.grader_rss - before.grader_rss) >> 20} MB")
        return problems


def _changed(before: dict[str, tuple], after: dict[str, tuple]) -> list[str]:
    added = sorted(set(after) - set(before))
    removed = sorted(set(before) - set(after))
    modified = sorted(path for path in set(before) & set(after) if before[path] != after[path])
    return [f"+{p}" for p in added[:5]] + [f"-{p}" for p in removed[:5]] + [f"~{p}" for p in modified[:5]]


class ProcessWatcher:
    """Polls /proc while a grading runs, recording the processes of the given sandbox uids.

    Shows what ran inside the sandbox (its host uid, how many processes at once,
    whether a marked process ever started) without trusting anything it printed.
    """

    def __init__(
        self,
        uids: Container[int],
        marker: str | None = None,
        ignore_uids: Callable[[], Container[int]] = frozenset,
        interval: float = 0.02,
        watch_all: bool = False,
        sample: str | None = None,
    ) -> None:
        self.uids = uids
        self.ignore_uids = ignore_uids
        self.marker = marker
        self.sample = sample
        self.samples: list[list[ProcessInfo]] = []
        self.interval = interval
        self.watch_all = watch_all
        self.everything: dict[int, ProcessInfo] = {}
        # Every parent each process was seen with: an orphan's parent changes when it is reparented.
        self.parents: dict[int, set[int]] = {}
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
            ignored = self.ignore_uids()
            processes = procfs.list_processes()
            in_sandbox = [p for p in processes if p.uid in self.uids and p.uid not in ignored and p.running]
            self.max_at_once = max(self.max_at_once, len(in_sandbox))
            for process in in_sandbox:
                self.seen.setdefault(process.pid, process)
            if self.sample:
                self.samples.append([p for p in processes if self.sample in p.cmdline and p.running])
            if self.watch_all:
                # Keep the latest view: a process changes uid and command line when it execs.
                self.everything.update((p.pid, p) for p in processes if p.cmdline != self._own_cmdline)
                for process in processes:
                    self.parents.setdefault(process.pid, set()).add(process.ppid)
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


def descendants(parents: dict[int, set[int]], roots: set[int]) -> set[int]:
    """The pids that descend from one of ``roots``, given every parent each pid was seen with."""
    found = set(roots)
    grew = True
    while grew:
        grew = False
        for pid, seen_parents in parents.items():
            if pid not in found and seen_parents & found:
                found.add(pid)
                grew = True
    return found
