"""The sandbox's confinement as one declared list of named steps, followed by both launchers.

Like nsjail's ``contain.cc``, confinement is a flat run of small steps. The
list is written once, here; ``bwrap_arguments`` turns each step into
bubblewrap's arguments (arguments apply in order, so the private mounts come
before ``/dev`` and ``/`` are made read-only), and a sandbox forked from the
template gets the steps in its request and carries them out in the same order
(``template_boot.py``: one handler per step, or, for the steps that must sit
between its own moves, the named code that does them). A step no bubblewrap
argument expresses is done by the launcher (``LAUNCHER_STEPS``).
``tests/grading/test_confinement.py`` checks that every step is followed both
ways and compares what a probe finds in each kind of sandbox.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader.grading.spec import Limits

SANDBOX_RUNTIME = "/opt/runtime"
SHM_BYTES = 1024 * 1024
# Terminals a forked sandbox may open in its own /dev/pts (bubblewrap's /dev has its own, bounded
# by the open-files and process limits; bubblewrap has no option for a count).
PTYS_PER_SANDBOX = 8
HOSTNAME = "sandbox"
WORKING_FOLDER = "/tmp"
SANDBOX_ENV = {"PATH": f"{SANDBOX_RUNTIME}/bin:/usr/bin:/bin", "HOME": "/tmp", "LANG": "C.UTF-8"}
# Steps bubblewrap's arguments do not express: the launcher does them (the preexec function sets
# the rlimits and the slot uid; bubblewrap always sets no_new_privs; --seccomp takes a descriptor).
LAUNCHER_STEPS = frozenset({"rlimits", "host uid", "no_new_privs", "seccomp"})


@dataclass(frozen=True)
class Step:
    """One confinement step.

    name: what it does, the key of its handler in ``template_boot.py``.
    params: what a forked sandbox needs to carry it out (JSON-ready).
    bwrap: bubblewrap's arguments for it (empty for ``LAUNCHER_STEPS``).
    """

    name: str
    params: dict[str, Any] = field(default_factory=dict)
    bwrap: tuple[str, ...] = ()


def steps(runtime_root: Path, limits: Limits) -> list[Step]:
    """Every step that makes a sandbox, in the order both launchers follow."""
    return [
        Step(
            "namespaces",
            {"kinds": ["mount", "pid", "network", "ipc", "uts", "cgroup"]},
            ("--unshare-all", "--unshare-user", "--disable-userns"),
        ),
        Step("new session", {}, ("--new-session",)),
        Step("die with parent", {}, ("--die-with-parent",)),
        Step("hostname", {"name": HOSTNAME}, ("--hostname", HOSTNAME)),
        Step("file view", {}, _file_view(runtime_root)),
        Step("proc", {"target": "/proc"}, ("--proc", "/proc")),
        Step(
            "tmpfs",
            {"target": "/tmp", "size": limits.tmpfs_bytes},
            ("--size", str(limits.tmpfs_bytes), "--tmpfs", "/tmp"),
        ),
        Step("tmpfs", {"target": "/dev/shm", "size": SHM_BYTES}, ("--size", str(SHM_BYTES), "--tmpfs", "/dev/shm")),
        # bubblewrap's --dev (in the file view) already mounts a devpts instance of its own.
        Step("devpts", {"target": "/dev/pts", "max": PTYS_PER_SANDBOX}, ()),
        Step("read-only", {"targets": ["/dev", "/"]}, ("--remount-ro", "/dev", "--remount-ro", "/")),
        Step(
            "environment",
            {"variables": SANDBOX_ENV},
            ("--clearenv", *[arg for name, value in SANDBOX_ENV.items() for arg in ("--setenv", name, value)]),
        ),
        Step("working folder", {"path": WORKING_FOLDER}, ("--chdir", WORKING_FOLDER)),
        Step("rlimits"),
        Step("host uid"),
        Step("no_new_privs"),
        Step("seccomp"),
    ]


def bwrap_arguments(runtime_root: Path, limits: Limits) -> list[str]:
    """The bubblewrap options: every step's arguments, in order."""
    return [
        "--uid",
        "1000",
        "--gid",
        "1000",
        *[argument for step in steps(runtime_root, limits) for argument in step.bwrap],
    ]


def forked_steps(runtime_root: Path, limits: Limits) -> list[dict[str, Any]]:
    """The steps as a forked sandbox's request carries them: ``step`` (the name) and params, in order."""
    return [{"step": step.name, **step.params} for step in steps(runtime_root, limits)]


def _file_view(runtime_root: Path) -> tuple[str, ...]:
    """An empty root holding ``/usr``, the runtime and a minimal ``/dev``."""
    return (
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
        "--dev",
        "/dev",
    )


def template_bwrap_arguments(runtime_root: Path) -> list[str]:
    """The bubblewrap options of the sandbox template: the sandbox's file view, as root.

    Only a mount namespace. The template's own ``/proc``, ``/tmp`` and
    ``/dev/shm`` are covered in each forked sandbox by the steps above, carried
    out before any submission reaches it (``template_boot.py``).
    """
    view = [
        step
        for step in steps(runtime_root, Limits(tmpfs_bytes=SHM_BYTES))
        if step.name in ("file view", "proc", "tmpfs", "read-only")
    ]
    return [
        "--die-with-parent",
        "--new-session",
        *[argument for step in view for argument in step.bwrap],
        "--chdir",
        "/",
    ]
