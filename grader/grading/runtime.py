"""The learner runtime: the interpreter environment a submission runs in.

It is a virtual environment of the system's Python holding only the packages
exercises allow (``exercises/runtime-requirements.txt``) and the sandbox's boot
script. None of the service's own packages are in it. Its folder name carries a
hash of its inputs, so a changed requirement or boot script builds a new one
beside the old instead of mutating a runtime a running grading may be using.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

BOOT_SCRIPT = Path(__file__).with_name("boot.py")
SYSTEM_PYTHON = Path("/usr/bin/python3")
READY_MARK = ".ready"


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
    def ready(self) -> bool:
        """Whether the build finished."""
        return (self.root / READY_MARK).is_file()


def runtime_key(requirements: Path) -> str:
    """A short hash of what goes into a runtime."""
    digest = hashlib.sha256()
    digest.update(requirements.read_bytes())
    digest.update(BOOT_SCRIPT.read_bytes())
    digest.update(str(SYSTEM_PYTHON.resolve()).encode())
    return digest.hexdigest()[:12]


def default_runtime_parent() -> Path:
    """Where runtimes are kept: a system folder for root, the user's cache otherwise.

    The folder must be readable by the unprivileged sandbox uids, so it is never
    below a home directory when the grader runs as root.
    """
    if os.geteuid() == 0:
        return Path("/opt/grader-runtime")
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "grader-runtime"


def locate(requirements: Path, parent: Path | None = None) -> LearnerRuntime:
    """The runtime for these requirements (built or not)."""
    return LearnerRuntime((parent or default_runtime_parent()) / runtime_key(requirements))


def build(requirements: Path, parent: Path | None = None) -> LearnerRuntime:
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
        shutil.copy2(BOOT_SCRIPT, staging / "boot.py")
        subprocess.run([str(staging / "bin" / "python3"), "-m", "py_compile", str(staging / "boot.py")], check=True)
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
