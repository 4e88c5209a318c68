"""Whole-sandbox limits on memory and process count, from cgroups (v1 or v2).

The launcher writes itself into the group's ``cgroup.procs`` before it execs
bubblewrap, so every process of the sandbox inherits the group. Tear-down kills
every member until the group is empty, then removes it.
"""

from __future__ import annotations

import errno
import functools
import logging
import os
import time
from collections.abc import Callable, Iterable
from contextlib import suppress
from pathlib import Path

from grader.grading.sandbox.process import ProcessHandle
from grader.grading.spec import Limits

log = logging.getLogger(__name__)

CGROUP_ROOT = Path("/sys/fs/cgroup")
KILL_SWEEPS = 200
REMOVE_TRIES = 100


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
        """Every process in the group (of any of its controllers)."""
        found: set[int] = set()
        for path in self.paths:
            found.update(_members(path))
        return found

    def kill_all(self) -> None:
        """Kill every process in the group, sweeping until it is empty."""
        if self.version == 2 and (self.paths[0] / "cgroup.kill").exists():
            with suppress(OSError):
                (self.paths[0] / "cgroup.kill").write_text("1")
        for _ in range(KILL_SWEEPS):
            pids = self.pids()
            if not pids:
                return
            _kill(pids, self.pids)
            time.sleep(0.005)

    def out_of_memory(self) -> bool:
        """Whether the kernel hit the memory limit and killed something."""
        events = "memory.oom_control" if self.version == 1 else "memory.events"
        try:
            lines = (self.paths[0] / events).read_text().splitlines()
            stats = dict(line.split() for line in lines)
            return int(stats.get("oom_kill", "0")) > 0
        except (OSError, ValueError):
            return False

    def memory_usage(self) -> int:
        """Memory the group's processes use now, as the kernel counts it (page cache included)."""
        usage = "memory.usage_in_bytes" if self.version == 1 else "memory.current"
        try:
            return int((self.paths[0] / usage).read_text())
        except (OSError, ValueError):
            return 0

    def remove(self) -> None:
        """Remove the group's folders, killing whatever still keeps one busy."""
        for path in self.paths:
            for _ in range(REMOVE_TRIES):
                try:
                    path.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError as exc:
                    if exc.errno != errno.EBUSY:
                        log.warning("cannot remove cgroup %s: %s", path, exc)
                        break
                    _kill(_members(path), functools.partial(_member_set, path))
                    time.sleep(0.01)

    def exists(self) -> bool:
        """Whether any of the group's folders is still there."""
        return any(path.exists() for path in self.paths)


def _members(path: Path) -> list[int]:
    try:
        return [int(line) for line in (path / "cgroup.procs").read_text().split()]
    except OSError:
        return []


def _member_set(path: Path) -> set[int]:
    return set(_members(path))


def _kill(pids: Iterable[int], members: Callable[[], set[int]]) -> None:
    """Kill each of ``pids`` through a pidfd, once it is open and the pid is still a member.

    A pid read from ``cgroup.procs`` may have ended and been given to a process
    outside the group since: a pidfd opened while the pid is still a member
    holds the member itself, so the signal can never reach another process.
    """
    for pid in pids:
        handle = ProcessHandle.open(pid, lambda pid: pid in members())
        if handle is not None:
            handle.kill()
            handle.close()
