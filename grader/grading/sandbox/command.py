"""What the sandbox is made of: bubblewrap's arguments, the rlimits, and the launcher's last steps.

Bubblewrap's protection is entirely what its arguments say; they apply in
order, so the private ``/tmp`` and ``/dev/shm`` are mounted before ``/dev`` and
``/`` are made read-only.
"""

from __future__ import annotations

import os
import resource
from collections.abc import Callable
from pathlib import Path

from grader.grading.spec import Limits

SANDBOX_RUNTIME = "/opt/runtime"
SHM_BYTES = 1024 * 1024
# Terminals a forked sandbox may open in its own /dev/pts (bubblewrap's /dev has its own, unbounded
# by count but by the open-files and process limits).
PTYS_PER_SANDBOX = 8
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
        *_file_view(runtime_root, limits.tmpfs_bytes),
        "--chdir",
        "/tmp",
    ]


def template_bwrap_arguments(runtime_root: Path) -> list[str]:
    """The bubblewrap options of the sandbox template: the sandbox's view of the files, as root.

    Only a mount namespace: each sandbox forked from the template makes its
    other namespaces, its ``/proc``, ``/tmp`` and ``/dev/shm`` itself, and
    drops root, before any submission reaches it (``template_boot.py``).
    """
    return [
        "--die-with-parent",
        "--new-session",
        *_file_view(runtime_root, SHM_BYTES),
        "--chdir",
        "/",
    ]


def _file_view(runtime_root: Path, tmpfs_bytes: int) -> list[str]:
    """An empty read-only root holding ``/usr``, the runtime, ``/proc``, a minimal ``/dev`` and small tmpfs mounts."""
    return [
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
        # Made explicitly: as root, bubblewrap would create the runtime's parent folder 0700.
        "--dir",
        str(Path(SANDBOX_RUNTIME).parent),
        "--ro-bind",
        str(runtime_root),
        SANDBOX_RUNTIME,
        "--proc",
        "/proc",
        "--dev",
        "/dev",
        "--size",
        str(tmpfs_bytes),
        "--tmpfs",
        "/tmp",
        "--size",
        str(SHM_BYTES),
        "--tmpfs",
        "/dev/shm",
        "--remount-ro",
        "/dev",
        "--remount-ro",
        "/",
    ]


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
