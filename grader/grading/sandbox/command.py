"""The launcher's part of the sandbox: the rlimits, its last steps before exec, the boot command.

Bubblewrap's arguments come from the declared confinement steps (``confinement.py``).
"""

from __future__ import annotations

import os
import resource
from collections.abc import Callable

from grader.grading.spec import Limits

# Headroom over the memory limit for address space a process maps but never uses.
ADDRESS_SPACE_SLACK = 1024 * 1024 * 1024
# The environment bubblewrap itself runs with; the sandbox can read it in /proc/1/environ.
LAUNCHER_ENV = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}

Rlimits = list[tuple[int, tuple[int, int]]]


def rlimits(limits: Limits, own_uid: bool) -> Rlimits:
    """Per-process limits for every process of the sandbox."""
    address_space = limits.memory_bytes + ADDRESS_SPACE_SLACK
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


def preexec(cgroup_fds: list[int], limits: Rlimits, uid: int | None) -> Callable[[], None]:
    """What the child does between fork and exec: join the cgroups, set limits, drop root.

    It only makes system calls (no imports, no locks), since the grader may have
    other threads. Bubblewrap itself sets no_new_privs and drops capabilities.
    """

    def run() -> None:
        for fd in cgroup_fds:
            os.write(fd, b"0")
        for which, value in limits:
            resource.setrlimit(which, value)
        if uid is not None:
            os.setgroups([])
            os.setresgid(uid, uid, uid)
            os.setresuid(uid, uid, uid)

    return run


def server_command(python: str, boot: str, *, listen_fd: int, status_fd: int, entry_point: str) -> list[str]:
    """The boot script's command line: isolated mode, no bytecode written, unbuffered output."""
    return [
        python,
        "-I",
        "-B",
        "-u",
        boot,
        "--listen-fd",
        str(listen_fd),
        "--status-fd",
        str(status_fd),
        "--entry",
        entry_point,
    ]
