"""Reading processes from ``/proc``: the one place the grader, its self-test and its tests look.

Only reads; a process may exit between two reads, so every reader treats a
vanished ``/proc/<pid>`` as "not there" rather than as an error.
"""

from __future__ import annotations

import os
from collections.abc import Container, Iterator
from dataclasses import dataclass
from pathlib import Path

PROC = Path("/proc")
GONE_STATES = frozenset({"Z", "X"})
STATUS_READ_BYTES = 4096  # State, PPid and Uid are among the first lines of ``status``


@dataclass(frozen=True)
class ProcessInfo:
    """One process as ``/proc`` showed it.

    uid: its real uid; state: the one-letter state of ``/proc/<pid>/stat``.
    """

    pid: int
    uid: int
    ppid: int
    cmdline: str
    state: str = "?"

    @property
    def running(self) -> bool:
        """False for zombies: dead processes waiting for their parent to collect them."""
        return self.state not in GONE_STATES


def pids() -> Iterator[int]:
    """Every pid of the host."""
    for name in os.listdir(PROC):
        if name.isdigit():
            yield int(name)


def start_time(pid: int, *, zombie: bool = False) -> str | None:
    """A running process's start time (clock ticks since boot); None once it has exited.

    A sandbox's PID 1 turns zombie only after the kernel has killed and reaped
    everything else in its PID namespace, so a zombie counts as gone (unless
    ``zombie``: a zombie's pid is not yet free, so it still names that process).
    With the pid, the start time names a process for good: a recycled pid has another.
    """
    try:
        stat = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()
    return None if fields[0] in GONE_STATES and not zombie else fields[19]


def parent_of(pid: int) -> int | None:
    """The parent pid of ``pid``, or None once it is gone."""
    found = _status(pid)
    return found[1] if found is not None else None


def read_process(pid: int) -> ProcessInfo | None:
    """The process ``pid`` (its real uid from ``status``, which a non-dumpable process cannot hide), or None."""
    found = _status(pid)
    if found is None:
        return None
    try:
        cmdline = (PROC / str(pid) / "cmdline").read_bytes()
    except OSError:
        return None
    uid, ppid, state = found
    text = cmdline.replace(b"\0", b" ").decode(errors="replace").strip()
    return ProcessInfo(pid, uid, ppid, text, state)


def _status(pid: int) -> tuple[int, int, str] | None:
    """The real uid, parent and state of ``pid`` from its ``status`` file, or None once it is gone.

    Read with plain system calls: a scan of the host reads one of these per
    process, and the grader scans at every sandbox's start and end.
    """
    try:
        fd = os.open(f"/proc/{pid}/status", os.O_RDONLY)
    except OSError:
        return None
    try:
        data = os.read(fd, STATUS_READ_BYTES)
    except OSError:
        return None
    finally:
        os.close(fd)
    try:
        state = data[data.index(b"\nState:") + 7 :].split(None, 1)[0].decode()
        ppid = int(data[data.index(b"\nPPid:") + 6 :].split(None, 1)[0])
        uid = int(data[data.index(b"\nUid:") + 5 :].split(None, 1)[0])
    except (ValueError, IndexError):
        return None
    return uid, ppid, state


def resident_bytes(pid: int) -> int:
    """The resident memory of ``pid`` (0 once it is gone)."""
    try:
        status = (PROC / str(pid) / "status").read_text()
    except OSError:
        return 0
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def descendants(pid: int) -> set[int]:
    """``pid`` and every live process below it."""
    children: dict[int, list[int]] = {}
    for info in list_processes():
        children.setdefault(info.ppid, []).append(info.pid)
    found: set[int] = set()
    todo = [pid]
    while todo:
        current = todo.pop()
        if current not in found:
            found.add(current)
            todo.extend(children.get(current, []))
    return found


def list_processes() -> list[ProcessInfo]:
    """Every process of the host."""
    return [info for pid in pids() if (info := read_process(pid)) is not None]


def running_processes_of(uids: Container[int]) -> list[ProcessInfo]:
    """Live (not zombie) processes whose real uid is one of ``uids``."""
    found = []
    for pid in pids():
        status = _status(pid)
        if status is not None and status[0] in uids and status[2] not in GONE_STATES:
            info = read_process(pid)  # the command line, for those few only
            if info is not None and info.running:
                found.append(info)
    return found


def running_processes_with(marker: str) -> list[ProcessInfo]:
    """Live processes whose command line holds ``marker``."""
    return [info for info in list_processes() if marker in info.cmdline and info.running]
