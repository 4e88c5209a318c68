"""The learner runtime: the interpreter environment a submission runs in.

It is a virtual environment of the system's Python holding only the packages
exercises allow (``exercises/runtime-requirements.txt``) and the sandbox's boot
script. None of the service's own packages are in it. Its folder name carries a
hash of its inputs, so a changed requirement or boot script builds a new one
beside the old instead of mutating a runtime a running grading may be using.
``prune`` deletes the old ones once no process uses them and none has for a while.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

BOOT_SCRIPT = Path(__file__).with_name("boot.py")
TEMPLATE_SCRIPT = Path(__file__).with_name("template_boot.py")
SYSTEM_PYTHON = Path("/usr/bin/python3")
READY_MARK = ".ready"
STAGING_PREFIX = ".build-"
USED_SUFFIX = ".used"
"""``<parent>/<name>.used``: touched when a grading starts, beside the runtime, never inside it.

A runtime's own files never change once built, so the sandbox self-test and the
hostile tests can prove that no grading wrote to it, even while other gradings run."""
RUNTIME_NAME = re.compile(r"[0-9a-f]{12}")
# A runtime nobody has graded with for this long is deleted by ``prune``: long
# enough for a grader started before an upgrade to finish and be restarted.
PRUNE_UNUSED_SECONDS = 24 * 3600


class RuntimeBuildError(Exception):
    """The learner runtime is missing or could not be built."""


@dataclass(frozen=True)
class LearnerRuntime:
    """A built runtime: ``root`` is mounted read-only at ``/opt/runtime`` in the sandbox."""

    root: Path

    @property
    def python(self) -> Path:
        """The interpreter inside the runtime (a link to the system Python)."""
        return self.root / "bin" / "python3"

    @property
    def boot(self) -> Path:
        """The boot script copied into the runtime."""
        return self.root / "boot.py"

    @property
    def template_boot(self) -> Path:
        """The sandbox template's script copied into the runtime (see sandbox.template)."""
        return self.root / TEMPLATE_SCRIPT.name

    @property
    def ready(self) -> bool:
        """Whether the build finished."""
        return (self.root / READY_MARK).is_file()

    @property
    def used_mark(self) -> Path:
        """The file whose modification time says when a grading last started with this runtime."""
        return self.root.with_name(self.root.name + USED_SUFFIX)

    def mark_used(self) -> None:
        """Note that a grading starts with this runtime: ``prune`` keeps recently used ones."""
        with suppress(OSError):  # a runtime this process may not write to is someone else's to prune
            self.used_mark.touch()


def runtime_key(requirements: Path) -> str:
    """A short hash of what goes into a runtime."""
    digest = hashlib.sha256()
    digest.update(requirements.read_bytes())
    digest.update(BOOT_SCRIPT.read_bytes())
    digest.update(TEMPLATE_SCRIPT.read_bytes())
    digest.update(str(SYSTEM_PYTHON.resolve()).encode())
    return digest.hexdigest()[:12]


def locate(requirements: Path, parent: Path) -> LearnerRuntime:
    """The runtime for these requirements in folder ``parent`` (built or not)."""
    return LearnerRuntime(parent / runtime_key(requirements))


def build(requirements: Path, parent: Path) -> LearnerRuntime:
    """Build the runtime for ``requirements`` unless it exists; return it."""
    runtime = locate(requirements, parent)
    if runtime.ready:
        return runtime
    if not SYSTEM_PYTHON.exists():
        raise RuntimeBuildError(f"{SYSTEM_PYTHON} is missing: install the system python3 package")
    parent_dir = runtime.root.parent
    parent_dir.mkdir(parents=True, exist_ok=True)
    os.chmod(parent_dir, 0o755)
    staging = Path(tempfile.mkdtemp(prefix=".build-", dir=parent_dir))
    try:
        subprocess.run([str(SYSTEM_PYTHON), "-m", "venv", "--without-pip", str(staging)], check=True)
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "--python",
                str(staging / "bin" / "python3"),
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "--no-compile",
                "--no-deps",
                "--require-hashes",
                "-r",
                str(requirements),
            ],
            check=True,
        )
        # Byte-compile now: the sandbox's file system is read-only, so Python could
        # not cache bytecode there and would recompile on every start.
        subprocess.run(
            [str(staging / "bin" / "python3"), "-m", "compileall", "-q", str(staging / "lib")],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        for script in (BOOT_SCRIPT, TEMPLATE_SCRIPT):
            shutil.copy2(script, staging / script.name)
            subprocess.run(
                [str(staging / "bin" / "python3"), "-m", "py_compile", str(staging / script.name)], check=True
            )
        _open_permissions(staging)
        (staging / READY_MARK).write_text(runtime.root.name)
        try:
            staging.rename(runtime.root)
        except OSError:
            if not runtime.ready:  # another process finished first: keep theirs
                raise
    except subprocess.CalledProcessError as exc:
        raise RuntimeBuildError(f"building the learner runtime failed: {exc}") from exc
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return runtime


def _open_permissions(root: Path) -> None:
    """Readable (and traversable) by everyone, writable by nobody but the owner."""
    for dirpath, _dirnames, filenames in os.walk(root):
        os.chmod(dirpath, 0o755)
        for name in filenames:
            path = Path(dirpath) / name
            if not path.is_symlink():
                mode = path.stat().st_mode
                path.chmod(0o755 if mode & 0o111 else 0o644)


def prune(parent: Path, *, keep: LearnerRuntime, unused_seconds: float = PRUNE_UNUSED_SECONDS) -> list[Path]:
    """Delete the runtimes in ``parent`` but ``keep`` that no process uses and none used lately; what was deleted.

    A runtime counts as used while a process names its folder (a sandbox's
    bubblewrap command mounts it) and for ``unused_seconds`` after its last
    grading started. Builds left half-done by a killed process go the same way.
    """
    now = time.time()
    candidates = [
        entry
        for entry in (parent.iterdir() if parent.is_dir() else [])
        if entry.is_dir()
        and not entry.is_symlink()
        and entry != keep.root
        and (RUNTIME_NAME.fullmatch(entry.name) or entry.name.startswith(STAGING_PREFIX))
        and now - _last_used(entry) >= unused_seconds
    ]
    busy = _named_by_a_process(candidates)
    removed = []
    for entry in candidates:
        if entry not in busy:
            shutil.rmtree(entry, ignore_errors=True)
            if not entry.exists():
                LearnerRuntime(entry).used_mark.unlink(missing_ok=True)
                removed.append(entry)
    return removed


def _last_used(root: Path) -> float:
    """When a grading last started with this runtime (or, never used, when it was built)."""
    for path in (LearnerRuntime(root).used_mark, root / READY_MARK, root):
        with suppress(OSError):
            return path.stat().st_mtime
    return 0.0


def _named_by_a_process(roots: list[Path]) -> set[Path]:
    # Imported here: the sandbox package imports this module when it loads.
    from grader.grading.sandbox import procfs

    if not roots:
        return set()
    commands = [process.cmdline for process in procfs.list_processes()]
    return {root for root in roots if any(_names(command, root) for command in commands)}


def _names(command: str, root: Path) -> bool:
    """Whether a command line mentions ``root`` itself or something inside it."""
    padded = f" {command} "
    return f" {root} " in padded or f" {root}/" in padded
