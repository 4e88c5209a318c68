"""Leases: each grader on a machine runs its sandboxes on a block of host uids of its own.

A grader (service, worker, command line, test session) running as root leases
a block of ``slots`` consecutive uids, from ``uid_base`` upward, before its first
sandbox: one lock file per uid in a machine-wide folder, held for the life of
the process and gone with it. A block taken by another grader is skipped, so
two graders never share a uid, a slot's cgroup (named after the uid) or what
their host checks count. When a grader takes a block, it first sweeps it: any
process left running as one of its uids is killed and any cgroup folder named
after one of them is removed, so what a grader killed mid-grading left behind
is cleaned by the next grader that uses those uids; ``sweep_unleased`` does the
same for every cgroup folder whose uid nobody leases.
"""

from __future__ import annotations

import dataclasses
import fcntl
import os
import re
import threading
from pathlib import Path

from grader.grading.sandbox import procfs
from grader.grading.sandbox.cgroups import CGROUP_ROOT, Cgroup
from grader.grading.sandbox.config import SandboxConfig
from grader.grading.sandbox.errors import SandboxUnavailable
from grader.grading.sandbox.slots import kill_uid, private_dir, try_slot_lock

LEASE_DIR = Path("/run/grader/leases")
# Below the subordinate id ranges that /etc/subuid usually hands out (from 100000 on).
MAX_UID = 100000
# Never a sandbox's: nobody, and the 16-bit "no uid".
RESERVED_UIDS = frozenset({65534, 65535})
_CGROUP_NAME = re.compile(r"^uid(\d+)$")


class Lease:
    """Locks held on a block of uids by this process."""

    def __init__(self, base: int, fds: list[int]) -> None:
        self.base = base
        self._fds = fds

    @property
    def uids(self) -> range:
        """The leased uids."""
        return range(self.base, self.base + len(self._fds))

    def release(self) -> None:
        """Give the block back (a process that ends gives it back anyway); safe to call twice."""
        for fd in self._fds:
            os.close(fd)
        self._fds = []


def lease_uids(
    first: int, count: int, *, step: int | None = None, lock_dir: Path = LEASE_DIR, cgroup_root: Path = CGROUP_ROOT
) -> Lease:
    """Lease ``count`` consecutive uids: at ``first`` if free, else the next free block (``step`` apart).

    Raises ``SandboxUnavailable`` when no block is free below ``MAX_UID``.
    """
    private_dir(lock_dir)
    step = step or count
    base = first
    while base + count <= MAX_UID:
        if RESERVED_UIDS & set(range(base, base + count)):
            base += step
            continue
        fds = _lock_all(lock_dir, range(base, base + count))
        if fds is not None:
            lease = Lease(base, fds)
            _sweep(lease.uids, cgroup_root)
            return lease
        base += step
    raise SandboxUnavailable(f"no block of {count} sandbox uids from {first} is free on this machine")


def _lock_all(lock_dir: Path, uids: range) -> list[int] | None:
    fds: list[int] = []
    for uid in uids:
        fd = os.open(lock_dir / f"uid{uid}.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            for held in fds:
                os.close(held)
            return None
        fds.append(fd)
    return fds


def _sweep(uids: range, cgroup_root: Path) -> None:
    """Kill what a former holder of these uids left running and remove its cgroup folders (v1 and v2).

    A uid whose slot is in use (its slot lock held, by a grader of any version) is left alone.
    """
    for uid in uids:
        slot_fd = try_slot_lock(uid)
        if slot_fd is None:
            continue
        try:
            if procfs.running_processes_of({uid}):
                kill_uid(uid)
            name = f"uid{uid}"
            Cgroup(0, [cgroup_root / "memory" / "grader" / name, cgroup_root / "pids" / "grader" / name]).remove()
            Cgroup(0, [cgroup_root / "grader" / name]).remove()
        finally:
            os.close(slot_fd)


def sweep_unleased(cgroup_root: Path, lock_dir: Path = LEASE_DIR) -> list[int]:
    """Remove every grader cgroup folder whose uid no grader leases now; the uids swept."""
    found = set()
    for parent in (cgroup_root / "memory" / "grader", cgroup_root / "pids" / "grader", cgroup_root / "grader"):
        if parent.is_dir():
            found |= {int(m.group(1)) for entry in parent.iterdir() if (m := _CGROUP_NAME.match(entry.name))}
    swept = []
    for uid in sorted(found):
        fds = _lock_all(private_dir(lock_dir), range(uid, uid + 1))
        if fds is None:
            continue  # leased: its grader is alive and owns the folder
        try:
            _sweep(range(uid, uid + 1), cgroup_root)
            swept.append(uid)
        finally:
            os.close(fds[0])
    return swept


_leases: dict[tuple[int, int], Lease] = {}
_leases_lock = threading.Lock()


def leased(config: SandboxConfig) -> SandboxConfig:
    """``config`` moved to a block of uids this process leases (the same block on every call).

    Only a grader running as root gives sandboxes uids of their own; otherwise
    ``config`` is returned as it is.
    """
    if os.geteuid() != 0 or config.unsafe_no_sandbox:
        return config
    key = (config.uid_base, config.slots)
    with _leases_lock:
        lease = _leases.get(key)
        if lease is None:
            lease = lease_uids(config.uid_base, config.slots, cgroup_root=config.cgroup_root)
            sweep_unleased(config.cgroup_root)
            _leases[key] = lease
    return dataclasses.replace(config, uid_base=lease.base)
