"""Reports tell the truth about the limits: exactly what was not in force, nothing more.

Each missing capability is brought about for real (a cgroup hierarchy that is
not there, a machine the filter is not described for, a grader that is not
root), and the report must name it and only it.
"""

from __future__ import annotations

import dataclasses
import os

import pytest

from grader.grading import seccomp
from grader.grading.runner import grade_source
from grader.grading.sandbox.enforcement import (
    HOST_USER,
    NO_SANDBOX,
    PROCESS_COUNT,
    SYSTEM_CALLS,
    WHOLE_MEMORY,
    Enforcement,
)
from grader.grading.selftest import judge_fork_bomb

from .support import submission_text

as_root = pytest.mark.skipif(os.geteuid() != 0, reason="the full set of limits needs a grader running as root")


@pytest.fixture(params=["cold", "pooled", "forked"])
def any_grade(request, grade, pooled_grade, bwrap_pooled_grade):
    return {"cold": grade, "pooled": bwrap_pooled_grade, "forked": pooled_grade}[request.param]


@as_root
@pytest.mark.sandbox
def test_as_root_with_cgroups_every_limit_is_in_force(any_grade, message_echo):
    report = any_grade(message_echo, submission_text("correct", "fastapi_async.py"))
    assert report.status == "passed", report.error
    assert report.limits_not_applied == []


@as_root
@pytest.mark.sandbox
def test_without_writable_cgroups_only_the_whole_sandbox_memory_limit_is_missing(
    sandbox_config, message_echo, tmp_path
):
    no_cgroups = dataclasses.replace(sandbox_config, cgroup_root=tmp_path / "no-cgroup-hierarchy")
    report = grade_source(message_echo, submission_text("correct", "fastapi_async.py"), config=no_cgroups)
    assert report.status == "passed", report.error
    assert report.limits_not_applied == [WHOLE_MEMORY]


@as_root
@pytest.mark.sandbox
def test_on_a_machine_the_filter_is_not_written_for_only_the_filter_is_missing(
    sandbox_config, message_echo, monkeypatch
):
    monkeypatch.setattr(seccomp.platform, "machine", lambda: "riscv64")
    assert seccomp.build_filter() is None
    report = grade_source(message_echo, submission_text("correct", "fastapi_async.py"), config=sandbox_config)
    assert report.status == "passed", report.error
    assert report.limits_not_applied == [SYSTEM_CALLS]


def test_every_missing_capability_has_its_own_entry():
    everything = Enforcement(sandboxed=True, own_uid=True, cgroup=True, seccomp=True)
    assert everything.not_applied() == []
    assert everything.process_limit
    # A slot uid alone bounds the process count (RLIMIT_NPROC), cgroups or not.
    assert dataclasses.replace(everything, cgroup=False).not_applied() == [WHOLE_MEMORY]
    assert dataclasses.replace(everything, seccomp=False).not_applied() == [SYSTEM_CALLS]
    not_root = Enforcement(sandboxed=True, own_uid=False, cgroup=False, seccomp=True)
    assert not_root.not_applied() == [HOST_USER, PROCESS_COUNT, WHOLE_MEMORY]
    assert not not_root.process_limit
    unsandboxed = Enforcement(sandboxed=False, own_uid=False, cgroup=False, seccomp=False)
    assert unsandboxed.not_applied() == [NO_SANDBOX, HOST_USER, PROCESS_COUNT, WHOLE_MEMORY, SYSTEM_CALLS]


def test_the_selftest_holds_a_fork_bomb_to_the_limit_whenever_it_is_in_force():
    judge = {"error": "Resource temporarily unavailable", "limit": 32}
    assert judge_fork_bomb(forked=20, in_force=True, reported_missing=False, **judge)[0]
    assert not judge_fork_bomb(forked=200, in_force=True, reported_missing=False, **judge)[0]
    # A report claiming the limit was missing where it must be in force is itself a failure.
    contained, detail = judge_fork_bomb(forked=200, in_force=True, reported_missing=True, **judge)
    assert not contained and "report" in detail
    assert not judge_fork_bomb(forked=20, in_force=True, reported_missing=True, **judge)[0]
    # Without a process limit (not root) the bomb is only swept, and the check says so.
    contained, detail = judge_fork_bomb(forked=200, in_force=False, reported_missing=True, **judge)
    assert contained and "no process limit" in detail
