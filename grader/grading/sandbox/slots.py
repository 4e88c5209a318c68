"""Slots: exclusive claims on a sandbox identity (a host uid when the grader is root).

A slot is held by an ``flock`` on a lock file, so claims hold across processes
and vanish with a crashed holder.
"""

from __future__ import annotations

import errno
import fcntl
import os
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from grader.grading.sandbox import procfs
from grader.grading.sandbox.config import SandboxConfig
from grader.grading.sandbox.errors import SlotsBusy

MACHINE_LOCK_DIR = Path("/run/grader/slots")
SLOT_POLL_SECONDS = 0.05


CLEAN = b"clean"
"""What a slot's lock file says when its last holder saw no process of its uid left."""


@dataclass
class Slot:
    """An exclusive claim on one sandbox identity, held by a lock file.

    clean: the last holder released it saying its sweep left no process of the
    uid, so there is nothing to kill before using it. The lock file says so
    only between a clean release and the next claim: a holder that crashes
    leaves it saying "in use", and the next one sweeps the uid.
    """

    index: int
    uid: int | None
    _lock_fd: int = field(repr=False, default=-1)
    clean: bool = False

    def release(self, *, clean: bool = False) -> None:
        """Give the slot back (``clean``: no process of its uid is left); safe to call twice."""
        if self._lock_fd >= 0:
            if clean:
                _mark(self._lock_fd, CLEAN)
            os.close(self._lock_fd)
            self._lock_fd = -1


def _mark(fd: int, state: bytes) -> None:
    os.ftruncate(fd, 0)
    os.pwrite(fd, state, 0)


def private_dir(path: Path) -> Path:
    """``path`` created if needed and made 0700."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(path, 0o700)
    return path


def acquire_slot(config: SandboxConfig) -> Slot:
    """Claim a free slot, waiting up to ``slot_wait_seconds``; locks work across processes.

    As root a slot is a host uid, which every grader on the machine shares
    whatever its state folder, so the lock is taken per uid in one machine-wide
    folder. Otherwise slots only bound this grader's concurrency.
    """
    as_root = os.geteuid() == 0
    lock_dir = private_dir(MACHINE_LOCK_DIR if as_root else config.state_dir / "slots")
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
            clean = os.pread(fd, len(CLEAN) + 1, 0) == CLEAN
            _mark(fd, b"in use")
            return Slot(index=index, uid=config.uid_base + index if as_root else None, _lock_fd=fd, clean=clean)
        if time.monotonic() > deadline:
            raise SlotsBusy(f"all {config.slots} sandbox slots stayed busy for {config.slot_wait_seconds:.0f} s")
        time.sleep(SLOT_POLL_SECONDS)


def try_slot_lock(uid: int) -> int | None:
    """The machine-wide slot lock of ``uid`` if nobody holds it now (the caller closes it), else None."""
    fd = os.open(private_dir(MACHINE_LOCK_DIR) / f"uid{uid}.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


def kill_uid(uid: int) -> bool:
    """Kill every process of a slot's host uid (run as that uid, so nothing else is hit).

    True once none is left; False if some still ran after three tries.
    """
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
        if not procfs.running_processes_of({uid}):
            return True
        time.sleep(0.01)
    return False
