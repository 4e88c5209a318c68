"""Whole-sandbox limits from cgroups: the real v1 hierarchy of this machine, and v2's layout."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from grader.grading.sandbox import CGROUP_ROOT, Cgroup, Sandbox
from grader.grading.spec import Limits

root_only = pytest.mark.skipif(os.geteuid() != 0, reason="cgroups are writable by root only")


@root_only
@pytest.mark.sandbox
def test_a_running_sandbox_sits_in_its_own_limited_groups_which_go_away_after(sandbox_config, message_echo):
    sandbox = Sandbox(sandbox_config, message_echo.limits, "app")
    try:
        sandbox.start()
        group = sandbox.cgroup
        if group is None:
            pytest.skip("no writable memory and pids cgroups on this machine")
        assert sandbox.process.pid in group.pids()
        if group.version == 1:
            memory, pids = group.paths
            assert int((memory / "memory.limit_in_bytes").read_text()) == message_echo.limits.memory_bytes
            assert (pids / "pids.max").read_text().strip() == str(message_echo.limits.processes)
        else:
            assert int((group.paths[0] / "memory.max").read_text()) == message_echo.limits.memory_bytes
    finally:
        sandbox.close()
    assert not any(path.exists() for path in group.paths)


def _fake_v2(tmp_path: Path, controllers: str) -> Path:
    (tmp_path / "cgroup.controllers").write_text(controllers)
    (tmp_path / "cgroup.subtree_control").write_text("")
    return tmp_path


@root_only
def test_v2_enables_the_controllers_and_writes_the_limits(tmp_path):
    # A real unified hierarchy cannot be mounted beside this machine's v1 controllers,
    # so this checks the files v2 would be given, in a folder laid out like one.
    root = _fake_v2(tmp_path, "cpuset cpu io memory pids")
    limits = Limits(memory_bytes=64 * 1024 * 1024, processes=20)

    group = Cgroup.create("uid61005", limits, root=root)

    assert group is not None and group.version == 2
    assert group.paths == [root / "grader" / "uid61005"]
    assert (root / "cgroup.subtree_control").read_text() == "+memory +pids"
    assert (root / "grader" / "cgroup.subtree_control").read_text() == "+memory +pids"
    assert (group.paths[0] / "memory.max").read_text() == str(64 * 1024 * 1024)
    assert (group.paths[0] / "pids.max").read_text() == "20"


@root_only
def test_v2_without_memory_or_pids_controllers_gives_no_group(tmp_path):
    root = _fake_v2(tmp_path, "cpuset cpu io")

    assert Cgroup.create("uid61005", Limits(), root=root) is None


def test_this_machine_has_a_hierarchy_the_sandbox_understands():
    v2 = (CGROUP_ROOT / "cgroup.controllers").is_file()
    v1 = (CGROUP_ROOT / "memory" / "cgroup.procs").is_file() and (CGROUP_ROOT / "pids" / "cgroup.procs").is_file()
    assert v1 or v2
