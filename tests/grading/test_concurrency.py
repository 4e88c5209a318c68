"""Several gradings at once: from several processes, and from graders with different state folders."""

from __future__ import annotations

import dataclasses
import subprocess
import threading
import time

import pytest

from grader.config import PROJECT_ROOT

from .support import SUBMISSIONS, ProcessWatcher, descendants, session_environment, submission_text
from .test_cli import AUTOGRADER, one_json_object

pytestmark = pytest.mark.sandbox


def test_concurrent_gradings_from_several_processes_each_get_a_slot(sandbox_config):
    """Four ``autograder grade`` processes at once: all correct, never two sandboxes on one uid at a time."""
    config = sandbox_config
    path = SUBMISSIONS / "concurrency" / "slow_start.py"
    shared_uids: list[tuple] = []

    server = "/opt/runtime/boot.py"
    with ProcessWatcher(config.slot_uids, watch_all=True, interval=0.05, sample=server) as watcher:
        began = time.monotonic()
        procs = [
            subprocess.Popen(
                [*AUTOGRADER, "grade", str(path), "--json"],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                cwd=PROJECT_ROOT,
                env=session_environment(config),
            )
            for _ in range(4)
        ]
        outputs = [proc.communicate(timeout=120) for proc in procs]
        elapsed = time.monotonic() - began
    for proc, (stdout, stderr) in zip(procs, outputs, strict=False):
        assert proc.returncode == 0, stderr
        report = one_json_object(stdout)
        assert report["status"] == "passed", (
            report["error"],
            [t["problem"] for t in report["tests"] if t["status"] != "passed"],
        )
    # Only the sandboxes these four processes started: other graders may run on this machine.
    ours = descendants(watcher.parents, {proc.pid for proc in procs})
    servers = [
        p for p in watcher.everything.values() if p.pid in ours and server in p.cmdline and "bwrap" not in p.cmdline
    ]
    uids = {p.uid for p in servers}
    assert len(uids) >= 2 and uids <= set(config.slot_uids), uids
    most_at_once = 0
    for sample in watcher.samples:
        by_uid: dict[int, int] = {}
        for process in sample:
            if process.pid in ours and "bwrap" not in process.cmdline:
                by_uid[process.uid] = by_uid.get(process.uid, 0) + 1
        shared_uids += [(uid, count) for uid, count in by_uid.items() if count > 1]
        most_at_once = max(most_at_once, len(by_uid))
    assert shared_uids == []
    assert most_at_once >= 2, "the gradings did overlap"
    assert elapsed < 4 * 2 + 30


def test_graders_with_different_state_folders_do_not_kill_each_others_sandboxes(
    grade, message_echo, sandbox_config, tmp_path
):
    """Two graders on one machine (say the service and a test run) may keep their slot locks in
    different folders; the host uids and cgroups they use are the machine's, so one must never
    tear down the other's running sandbox."""
    source = submission_text("concurrency", "slow_start.py")
    first_config = dataclasses.replace(sandbox_config, state_dir=tmp_path / "first")
    second_config = dataclasses.replace(sandbox_config, state_dir=tmp_path / "second")
    from grader.grading.runner import grade_source

    reports: dict = {}

    def run(name, config):
        reports[name] = grade_source(message_echo, source, config=config)

    first = threading.Thread(target=run, args=("first", first_config))
    first.start()
    time.sleep(0.8)  # the first sandbox is loading (it sleeps 2 s at import)
    run("second", second_config)
    first.join(60)
    for name, report in reports.items():
        assert report.status == "passed", (name, report.error)
