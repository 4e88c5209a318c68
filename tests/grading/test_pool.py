"""Pre-started sandboxes: each serves one grading, nothing passes from one grading to the next.

The hostile corpus runs through the pool too (test_hostile.py runs every test
cold and pooled); these tests are about what only a pool could get wrong: a
sandbox used twice, a grading that changes the next one, a sandbox that sees
its neighbours, a tear-down that leaks.
"""

from __future__ import annotations

import dataclasses
import json
import os
import secrets
import signal
import threading
import time

import pytest

from grader.grading.sandbox import Sandbox, SandboxError, SandboxFailed, procfs
from grader.grading.sandbox.pool import SandboxPool, TemplateBackoff, open_pools, pool_status

from .support import ProcessWatcher, fill, find_probe, submission_text

pytestmark = pytest.mark.sandbox


def _failed_problems(report) -> dict[str, str | None]:
    return {case.name: case.problem for case in report.tests if not case.passed}


def test_each_pooled_sandbox_serves_one_grading_and_is_then_destroyed(sandbox_config, message_echo):
    with SandboxPool(sandbox_config, size=1, max_kinds=1) as pool:
        assert pool.wait_ready(message_echo.limits, message_echo.entry_point, timeout=60)
        first = pool.take(message_echo.limits, message_echo.entry_point)
        assert pool.wait_ready(message_echo.limits, message_echo.entry_point, timeout=60)
        second = pool.take(message_echo.limits, message_echo.entry_point)

        assert first is not second
        assert first.process.pid != second.process.pid
        assert first.slot.index != second.slot.index, "two live sandboxes never share a slot"
        assert first.load(submission_text("correct", "fastapi_async.py")).ready
        assert not first.waiting()
        pool.discard(first)
        pool.discard(second)
        assert pool.wait_closed()
        assert first.process.poll() is not None and second.process.poll() is not None
        assert first.cgroup is None or not first.cgroup.exists()
        status = pool.status()
        assert status.served == 2 and status.cold == 0 and status.closing == 0
        assert first not in pool.unused() and second not in pool.unused()


def test_a_sandbox_that_died_while_waiting_is_never_handed_out(sandbox_config, message_echo):
    with SandboxPool(sandbox_config, size=1, max_kinds=1) as pool:
        assert pool.wait_ready(message_echo.limits, message_echo.entry_point, timeout=60)
        [dead] = pool.unused()
        dead.abort("killed by the test")

        taken = pool.take(message_echo.limits, message_echo.entry_point)
        try:
            assert taken is not dead
            assert taken.waiting()
        finally:
            pool.discard(taken)


def test_the_pool_stops_filling_at_its_memory_bound(sandbox_config, message_echo):
    with SandboxPool(sandbox_config, size=3, max_kinds=1, max_memory_bytes=1) as pool:
        pool.prepare(message_echo.limits, message_echo.entry_point)
        assert not pool.wait_ready(message_echo.limits, message_echo.entry_point, timeout=8)
        status = pool.status()
        assert status.ready == 1, "one sandbox already holds more than a byte, so no second one is started"
        assert status.memory_bytes > 0


def test_a_kind_nobody_grades_stops_holding_sandboxes(sandbox_config, message_echo):
    with SandboxPool(sandbox_config, size=1, max_kinds=1, idle_seconds=1.0) as pool:
        assert pool.wait_ready(message_echo.limits, message_echo.entry_point, timeout=60)
        [waiting] = pool.unused()
        deadline = time.monotonic() + 10
        while pool.status().kinds and time.monotonic() < deadline:
            time.sleep(0.1)
        assert pool.wait_closed()
        status = pool.status()
        assert status.kinds == 0 and status.ready == 0 and status.starting == 0, status
        assert waiting.process.poll() is not None, "its sandbox was torn down, its slot given back"
        assert waiting.slot is not None and waiting.slot._lock_fd == -1


def test_a_closed_pool_refuses_gradings_and_leaves_nothing_running(sandbox_config, message_echo, host_snapshot):
    before = host_snapshot()
    pool = SandboxPool(sandbox_config, size=2, max_kinds=1)
    assert pool.wait_ready(message_echo.limits, message_echo.entry_point, timeout=60)
    waiting = pool.unused()
    pool.close()
    assert all(sandbox.process.poll() is not None for sandbox in waiting)
    assert pool not in open_pools()
    with pytest.raises(SandboxError):
        pool.take(message_echo.limits, message_echo.entry_point)
    problems = host_snapshot().problems_since(before)
    assert problems == [], problems


def test_pool_status_adds_up_this_processs_pools(sandbox_pool, pooled_grade, message_echo):
    pooled_grade(message_echo, submission_text("correct", "fastapi_async.py"))
    status = pool_status()
    assert status is not None
    assert status.served >= 1 and status.size >= 1
    assert set(status.to_dict()) >= {"size", "ready", "starting", "closing", "memory_bytes", "served", "cold"}


def test_a_grading_cannot_change_the_next_one(pooled_grade, message_echo, sandbox_pool, host_snapshot):
    token, marker = secrets.token_hex(6), f"pool-pollution-{secrets.token_hex(6)}"
    before = host_snapshot()
    with ProcessWatcher(pooled_grade.config.slot_uids, marker) as watcher:
        polluter = pooled_grade(
            message_echo, fill(submission_text("hostile", "pool_pollution.py"), TOKEN=token, MARKER=marker)
        )
    probe = find_probe(polluter)
    assert probe is not None, (polluter.error, polluter.stderr[-800:])
    assert all(value is True for value in probe["written"].values()), probe
    assert watcher.marked, "the lingering process never started, so the test proves nothing"
    # Its own misspelt answers came out right: the patch worked inside its own sandbox.
    assert polluter.status == "passed", _failed_problems(polluter)

    misspelt = pooled_grade(message_echo, submission_text("wrong", "wrong_key.py"))
    correct = pooled_grade(message_echo, submission_text("correct", "fastapi_async.py"))
    neighbours = find_probe(
        pooled_grade(message_echo, fill(submission_text("hostile", "pool_neighbours.py"), TOKEN=token, TARGETS="[]"))
    )

    assert misspelt.status == "failed"
    assert "hello" in _failed_problems(misspelt) and "hi" in _failed_problems(misspelt)
    assert correct.status == "passed", _failed_problems(correct)
    assert neighbours is not None
    assert neighbours["files"] == dict.fromkeys(neighbours["files"], False)
    assert neighbours["json_dumps_module"] == "json" and neighbours["dumps_output"] == '{"message": 1}'
    assert not any(marker in command for command in neighbours["commands"].values())
    assert sandbox_pool.wait_closed()
    assert procfs.running_processes_with(marker) == []
    problems = host_snapshot().problems_since(before)
    assert problems == [], problems


@pytest.mark.parametrize("template", [False, True], ids=["bwrap", "forked"])
def test_a_grading_cannot_see_or_reach_a_neighbouring_sandbox(sandbox_config, message_echo, host_snapshot, template):
    """Nor, when sandboxes are forked from a template, the template or the keepers between them."""
    if template and os.geteuid() != 0:
        pytest.skip("a sandbox template needs a grader running as root")
    before = host_snapshot()
    with SandboxPool(sandbox_config, size=2, max_kinds=1, template=template) as pool:
        assert pool.wait_ready(message_echo.limits, message_echo.entry_point, timeout=60)
        assert pool.status().template is template
        neighbours = {pid for sandbox in pool.unused() for pid in _host_pids(sandbox)}
        assert len(neighbours) >= (2 if template else 4), "two sandboxes of one or several processes each"
        targets = sorted(neighbours)
        if template:
            assert pool._template is not None and pool._template.process is not None
            # bubblewrap, the template's interpreter, and a keeper above each waiting sandbox
            ancestry = procfs.descendants(pool._template.process.pid) - neighbours
            assert len(ancestry) >= 4, ancestry
            targets = sorted(neighbours | ancestry)
        source = fill(submission_text("hostile", "pool_neighbours.py"), TOKEN="none", TARGETS=json.dumps(targets))
        from grader.grading.runner import grade_source

        report = grade_source(message_echo, source, config=sandbox_config, pool=pool)
        probe = find_probe(report)
        assert probe is not None, (report.error, report.stderr[-800:])
        assert pool.status().served == 1
        # Its own PID namespace: a handful of small pids, none of the host's.
        assert max(probe["visible"]) < 50 and len(probe["visible"]) <= 6, probe["visible"]
        for pid, outcome in probe["neighbours"].items():
            assert outcome["signal"] == "No such process", (pid, outcome)
            for name in ("status", "mem", "environ"):
                assert outcome[name] != "read", (pid, name, outcome)
    problems = host_snapshot().problems_since(before)
    assert problems == [], problems


def _host_pids(sandbox: Sandbox) -> set[int]:
    assert sandbox.process is not None
    pids = procfs.descendants(sandbox.process.pid)
    if sandbox.cgroup is not None:
        pids |= sandbox.cgroup.pids()
    return pids


@pytest.fixture
def template_pool(sandbox_config, message_echo, host_snapshot):
    """A pool of one sandbox forked from a running template; the host is checked once it is closed."""
    if os.geteuid() != 0:
        pytest.skip("a sandbox template needs a grader running as root")
    before = host_snapshot()
    with SandboxPool(sandbox_config, size=1, max_kinds=1, template=True) as pool:
        assert pool.wait_template(timeout=60)
        assert pool.wait_ready(message_echo.limits, message_echo.entry_point, timeout=60)
        assert pool._template is not None and pool._template.process is not None
        yield pool
    problems = host_snapshot().problems_since(before)
    assert problems == [], problems


def test_a_template_that_dies_is_replaced_and_gradings_go_on(template_pool, sandbox_config, message_echo):
    """Its waiting sandboxes die with it; the next grading is served all the same, and a new template starts."""
    from grader.grading.runner import grade_source

    pool = template_pool
    correct = submission_text("correct", "fastapi_async.py")
    first = pool._template
    waiting = {pid for sandbox in pool.unused() for pid in _host_pids(sandbox)}
    interpreters = [info.pid for info in procfs.list_processes() if info.ppid == first.process.pid]
    assert len(interpreters) == 1, interpreters
    os.kill(interpreters[0], signal.SIGKILL)
    first.process.wait(timeout=10)
    deadline = time.monotonic() + 10
    while any(procfs.start_time(pid) is not None for pid in waiting) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(procfs.start_time(pid) is not None for pid in waiting), "its waiting sandboxes outlived it"

    report = grade_source(message_echo, correct, config=sandbox_config, pool=pool)
    assert report.status == "passed", _failed_problems(report)
    assert pool.wait_template(timeout=60), pool.status()
    assert pool._template is not first
    assert pool.wait_ready(message_echo.limits, message_echo.entry_point, timeout=60)
    report = grade_source(message_echo, correct, config=sandbox_config, pool=pool)
    assert report.status == "passed", _failed_problems(report)
    assert pool.status().template


def test_a_grading_under_way_outlives_the_template_it_was_forked_from(template_pool, message_echo):
    """A template taken out of service stops forking but ends only when its sandboxes have."""
    from grader.grading.report import Report
    from grader.grading.runner import grade_in_sandbox
    from grader.grading.sandbox import SandboxFailed

    pool = template_pool
    template = pool._template
    sandbox = pool.take(message_echo.limits, message_echo.entry_point)
    try:
        pool._template_failed(template, SandboxFailed("a fork failed"))
        time.sleep(0.5)  # the template has been told to stop
        assert template.process.poll() is None, "it ended while a sandbox it forked was grading"
        report = Report(
            exercise=message_echo.slug, spec_hash=message_echo.spec_hash, seed=1, max_score=message_echo.max_score
        )
        grade_in_sandbox(sandbox, message_echo, submission_text("correct", "fastapi_async.py"), report)
        assert report.error is None and all(case.passed for case in report.tests), _failed_problems(report)
    finally:
        pool.discard(sandbox)
    assert pool.wait_closed()
    template.process.wait(timeout=30)  # its last sandbox gone, it ends by itself
    assert pool.wait_template(timeout=60) and pool._template is not template


def test_a_cgroup_error_does_not_retire_the_template(sandbox_config, message_echo, tmp_path, host_snapshot):
    """Only a template's own failures take it out of service; a grading whose cgroup cannot be made fails alone."""
    if os.geteuid() != 0:
        pytest.skip("a sandbox template needs a grader running as root")
    broken = tmp_path / "cgroups"
    for controller in ("memory", "pids"):
        (broken / controller).mkdir(parents=True)
        (broken / controller / "cgroup.procs").write_text("")
        (broken / controller / "grader").write_text("a file where the grader's cgroup folder should be")
    config = dataclasses.replace(sandbox_config, cgroup_root=broken)
    before = host_snapshot()
    with SandboxPool(config, size=1, max_kinds=1, template=True) as pool:
        assert pool.wait_template(timeout=60)
        template = pool._template
        with pytest.raises(SandboxFailed, match="grader"):
            pool.take(message_echo.limits, message_echo.entry_point)
        time.sleep(1.5)  # the refill thread meets the same error meanwhile
        assert pool._template is template and template.alive()
        assert pool.status().template
    assert host_snapshot().problems_since(before) == []


def test_template_back_off_doubles_until_a_template_proves_stable():
    backoff = TemplateBackoff(first=1.0, maximum=30.0, stable_seconds=300.0)
    assert [backoff.failed(ran_for=5.0) for _ in range(7)] == [1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0]
    assert backoff.failed(ran_for=None) == 30.0, "a template that never started proves nothing"
    assert backoff.failed(ran_for=600.0) == 1.0, "one that served for a long while starts the count afresh"
    assert backoff.failed(ran_for=5.0) == 2.0


def test_pool_status_never_holds_the_lock_that_gradings_need(template_pool, message_echo):
    """Reading memory (cgroup files, /proc) happens after the lock is let go, so /readyz never delays a take."""
    pool = template_pool
    template = pool._template
    reading = threading.Event()
    release = threading.Event()
    real_memory = template.memory_bytes

    def slow_memory() -> int:
        reading.set()
        release.wait(10)
        return real_memory()

    template.memory_bytes = slow_memory  # type: ignore[method-assign]
    status = threading.Thread(target=pool.status)
    status.start()
    try:
        assert reading.wait(10)
        began = time.monotonic()
        sandbox = pool.take(message_echo.limits, message_echo.entry_point)
        took = time.monotonic() - began
        pool.discard(sandbox)
        assert status.is_alive() and took < 5, "take waited for the status read"
    finally:
        release.set()
        status.join(10)
        del template.memory_bytes
