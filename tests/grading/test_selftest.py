"""The confinement self-test: contained in the sandbox, and able to see an escape."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys

import pytest

from grader.config import PROJECT_ROOT
from grader.grading.runtime import LearnerRuntime
from grader.grading.sandbox import SandboxUnavailable
from grader.grading.selftest import CHECKS, SelftestResult, run_selftest

from .support import wait_for_no_sandbox_processes


@pytest.mark.sandbox
def test_every_builtin_program_is_contained(sandbox_config):
    """Started through bubblewrap, and forked from a template where this grader can (as root)."""
    results = run_selftest(sandbox_config)
    forked = [f"{name} (forked)" for name in CHECKS] if os.geteuid() == 0 else []
    assert [result.name for result in results] == [*CHECKS, *forked]
    assert len(results) >= 5
    for result in results:
        assert result.contained, f"{result.name}: {result.detail}"
        assert result.detail
    assert wait_for_no_sandbox_processes(sandbox_config) == []


@pytest.mark.sandbox
def test_the_checks_see_escapes_when_nothing_confines_the_programs(sandbox_config):
    """Without the sandbox the same programs succeed, so the checks can fail.

    Only programs that are harmless on the host run here: they reach a listener
    the check opened on 127.0.0.1, read a file the check wrote, and read the
    grader's environment. The writing and forking programs are left out.
    """
    unconfined = dataclasses.replace(sandbox_config, unsafe_no_sandbox=True)
    results = run_selftest(unconfined, names=["network", "read a host file", "environment leak"])
    assert [result.name for result in results] == ["network", "read a host file", "environment leak"]
    assert [result.contained for result in results] == [False, False, False], [r.detail for r in results]


def test_a_missing_runtime_stops_the_selftest(sandbox_config, tmp_path):
    missing = dataclasses.replace(sandbox_config, runtime=LearnerRuntime(tmp_path / "no-runtime"))
    with pytest.raises(SandboxUnavailable):
        run_selftest(missing)


def test_unknown_check_names_are_refused(sandbox_config):
    with pytest.raises(ValueError, match="nope"):
        run_selftest(sandbox_config, names=["nope"])


def test_result_is_plain_frozen_data():
    result = SelftestResult("network", True, "unreachable")
    assert result.to_dict() == {"name": "network", "contained": True, "detail": "unreachable"}
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.contained = False  # type: ignore[misc]


@pytest.mark.sandbox
def test_selftest_command_exits_0_with_json_results():
    done = subprocess.run(
        [sys.executable, "-m", "grader.cli", "selftest", "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=PROJECT_ROOT,
    )
    assert done.returncode == 0, (done.stdout, done.stderr)
    results = json.loads(done.stdout)
    forked = [f"{name} (forked)" for name in CHECKS] if os.geteuid() == 0 else []
    assert [item["name"] for item in results] == [*CHECKS, *forked]
    assert all(item["contained"] for item in results)


@pytest.mark.sandbox
def test_selftest_command_shows_the_pool_of_pre_started_sandboxes():
    done = subprocess.run(
        [sys.executable, "-m", "grader.cli", "selftest"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=PROJECT_ROOT,
    )
    assert done.returncode == 0, (done.stdout, done.stderr)
    [line] = [line for line in done.stdout.splitlines() if line.startswith("pool: ")]
    assert "per kind of exercise" in line and "the first was ready in" in line, line
    if os.geteuid() == 0:
        assert "forked from a template holding" in line, line
