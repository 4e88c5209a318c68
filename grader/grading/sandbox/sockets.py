"""Host-only folders for the sandboxes' listening sockets, and the sweep of those a dead grader left.

Each sandbox's socket is bound in a folder the sandbox never sees (see
docs/sandbox.md), in the system's temporary folder, or in ``/tmp`` when that
folder's path is too long for a Unix socket (108 bytes in all). Each folder is named after the grader process that made
it (its pid and start time), so folders left by a grader killed without warning
(SIGKILL, a crash) are recognised as a dead process's by the next grader on the
machine and removed the first time it starts a sandbox; a live grader's are
never touched.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
from pathlib import Path

from grader.grading.sandbox import procfs

PREFIX = "grader-sock-"
# The longest temporary folder that leaves room for "/grader-sock-<pid>-<start>-<8>/app.sock".
LONGEST_PARENT = 40

_swept: set[Path] = set()
_sweep_lock = threading.Lock()


def _owner_tag(pid: int) -> str | None:
    started = procfs.start_time(pid)
    return None if started is None else f"{pid}-{started}"


def socket_folder() -> Path:
    """A new 0700 folder for one sandbox's socket, named after this process; dead graders' folders swept first."""
    parent = Path(tempfile.gettempdir())
    if len(os.fsencode(parent)) > LONGEST_PARENT:
        parent = Path("/tmp")
    with _sweep_lock:
        if parent not in _swept:
            sweep(parent)
            _swept.add(parent)
    return Path(tempfile.mkdtemp(prefix=f"{PREFIX}{_owner_tag(os.getpid())}-", dir=parent))


def sweep(parent: Path) -> list[Path]:
    """Remove the socket folders under ``parent`` whose grader process is gone; the folders removed."""
    removed = []
    for entry in parent.glob(f"{PREFIX}*"):
        if not entry.is_dir() or entry.is_symlink() or entry.stat().st_uid != os.geteuid():
            continue
        parts = entry.name.removeprefix(PREFIX).split("-")
        if len(parts) < 3 or not parts[0].isdigit():
            continue
        if _owner_tag(int(parts[0])) != f"{parts[0]}-{parts[1]}":
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry)
    return removed
