"""Learner runtimes on disk: where they live and how old ones are pruned."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from grader.config import PROJECT_ROOT, get_settings
from grader.grading import runtime

from .test_cli import AUTOGRADER

TWO_DAYS = 2 * 24 * 3600


def _fake_runtime(parent: Path, name: str, *, used_ago: float) -> Path:
    root = parent / name
    (root / "bin").mkdir(parents=True)
    (root / runtime.READY_MARK).write_text(name)
    moment = time.time() - used_ago
    os.utime(root / runtime.READY_MARK, (moment, moment))
    return root


def _wait_until_named(pid: int, folder: Path, seconds: float = 30) -> None:
    """Until process ``pid`` names ``folder`` on its command line: a child shows its parent's until it execs."""
    deadline = time.monotonic() + seconds
    while str(folder).encode() not in Path(f"/proc/{pid}/cmdline").read_bytes():
        assert time.monotonic() < deadline, "the process never started"
        time.sleep(0.01)


def test_prune_keeps_the_current_one_those_in_use_and_those_used_lately(tmp_path):
    current = runtime.LearnerRuntime(_fake_runtime(tmp_path, "0123456789ab", used_ago=TWO_DAYS))
    old = _fake_runtime(tmp_path, "aaaaaaaaaaaa", used_ago=TWO_DAYS)
    recent = _fake_runtime(tmp_path, "bbbbbbbbbbbb", used_ago=60)
    busy = _fake_runtime(tmp_path, "cccccccccccc", used_ago=TWO_DAYS)
    half_built = _fake_runtime(tmp_path, ".build-x1y2z3", used_ago=TWO_DAYS)
    other = _fake_runtime(tmp_path, "not-a-runtime", used_ago=TWO_DAYS)
    # A process naming the folder on its command line, as a sandbox's bubblewrap does.
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", "--ro-bind", str(busy), "/x"])
    try:
        _wait_until_named(holder.pid, busy)
        removed = runtime.prune(tmp_path, keep=current)
    finally:
        holder.kill()
        holder.wait()
    assert sorted(removed) == sorted([old, half_built])
    assert not old.exists() and not half_built.exists()
    assert current.root.exists() and recent.exists() and busy.exists() and other.exists()


def test_a_grading_marks_its_runtime_used(tmp_path):
    root = _fake_runtime(tmp_path, "dddddddddddd", used_ago=TWO_DAYS)
    runtime.LearnerRuntime(root).mark_used()
    assert runtime.prune(tmp_path, keep=runtime.LearnerRuntime(tmp_path / "eeeeeeeeeeee")) == []


def test_marking_a_runtime_used_never_changes_the_runtime_itself(tmp_path):
    """The self-test and the hostile tests prove a grading wrote nothing into the runtime
    by comparing its files before and after; gradings running meanwhile must not disturb that."""
    root = _fake_runtime(tmp_path, "ffffffffffff", used_ago=TWO_DAYS)
    before = {path: path.stat().st_mtime_ns for path in [root, *root.rglob("*")]}
    runtime.LearnerRuntime(root).mark_used()
    assert {path: path.stat().st_mtime_ns for path in [root, *root.rglob("*")]} == before
    assert runtime.LearnerRuntime(root).used_mark.exists()


def test_prune_removes_the_use_mark_with_the_runtime(tmp_path):
    root = _fake_runtime(tmp_path, "abababababab", used_ago=TWO_DAYS)
    mark = runtime.LearnerRuntime(root).used_mark
    mark.touch()
    moment = time.time() - TWO_DAYS
    os.utime(mark, (moment, moment))
    assert runtime.prune(tmp_path, keep=runtime.LearnerRuntime(tmp_path / "eeeeeeeeeeee")) == [root]
    assert not mark.exists()


def test_the_runtime_folder_comes_from_the_settings():
    settings = get_settings()
    located = runtime.locate(settings.runtime_requirements, settings.learner_runtime_parent)
    assert located.root.parent == settings.learner_runtime_parent


def _autograder(*args: str, runtime_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "GRADER_LEARNER_RUNTIME_DIR": str(runtime_dir)}
    return subprocess.run([*AUTOGRADER, *args], capture_output=True, text=True, timeout=300, cwd=PROJECT_ROOT, env=env)


def test_runtime_prune_command_deletes_old_runtimes(tmp_path):
    old = _fake_runtime(tmp_path, "aaaaaaaaaaaa", used_ago=TWO_DAYS)
    recent = _fake_runtime(tmp_path, "bbbbbbbbbbbb", used_ago=3600)
    done = _autograder("runtime", "prune", runtime_dir=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"deleted old learner runtime: {old}\n"
    assert recent.exists()
    done = _autograder("runtime", "prune", "--unused-hours", "0", runtime_dir=tmp_path)
    assert done.stdout == f"deleted old learner runtime: {recent}\n"
    assert _autograder("runtime", "prune", runtime_dir=tmp_path).stdout == "no old learner runtime to delete\n"


def test_runtime_build_prunes_what_it_replaced(tmp_path):
    """The built runtime is copied in (building one from scratch takes a while), next to an old one."""
    settings = get_settings()
    built = runtime.build(settings.runtime_requirements, settings.learner_runtime_parent)
    shutil.copytree(built.root, tmp_path / built.root.name, symlinks=True)
    old = _fake_runtime(tmp_path, "aaaaaaaaaaaa", used_ago=TWO_DAYS)
    done = _autograder("runtime", "build", runtime_dir=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        f"learner runtime: {tmp_path / built.root.name}",
        f"deleted old learner runtime: {old}",
    ]
    assert (tmp_path / built.root.name / runtime.READY_MARK).exists()
