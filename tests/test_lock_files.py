"""The lock files pin every package to one version and to the files' hashes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from grader.config import PROJECT_ROOT

LOCKS = [PROJECT_ROOT / "requirements.lock", PROJECT_ROOT / "exercises" / "runtime-requirements.txt"]
PIN = re.compile(r"^([A-Za-z0-9._-]+)==([^\s;\\]+)")


def _entries(path: Path) -> dict[str, list[str]]:
    """Each requirement of a pip-compile output: its first line and the hashes under it."""
    entries: dict[str, list[str]] = {}
    current = None
    for line in path.read_text(encoding="utf-8").splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.startswith("--hash=sha256:"):
            assert current is not None, f"{path.name}: a hash before any requirement"
            entries[current].append(stripped)
        else:
            current = stripped.rstrip(" \\")
            entries[current] = []
    return entries


@pytest.mark.parametrize("path", LOCKS, ids=lambda path: path.name)
def test_every_package_is_pinned_with_hashes(path: Path) -> None:
    entries = _entries(path)
    assert entries
    assert [line for line in entries if not PIN.match(line)] == []
    assert [line for line, hashes in entries.items() if not hashes] == []


def test_the_learner_runtime_lock_holds_what_its_source_asks() -> None:
    source = PROJECT_ROOT / "exercises" / "runtime-requirements.in"
    wanted = {line.strip().lower() for line in source.read_text(encoding="utf-8").splitlines() if "==" in line}
    locked = {line.lower() for line in _entries(LOCKS[1])}
    assert wanted and wanted <= locked
