"""The grader run by an ordinary user (a laptop) still sandboxes, and says what it could not limit.

The test starts the grading core as an unprivileged uid with the system Python
and the service environment's packages on ``PYTHONPATH``; the service's own
interpreter lives below ``/root``, which other users cannot enter.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

import pytest

from grader.config import PROJECT_ROOT
from grader.grading.sandbox.enforcement import HOST_USER, PROCESS_COUNT, WHOLE_MEMORY

pytestmark = [
    pytest.mark.sandbox,
    pytest.mark.skipif(os.geteuid() != 0, reason="needs root to switch to an unprivileged uid"),
]

NOBODY = 65534
SYSTEM_PYTHON = Path("/usr/bin/python3")

GRADE_AS_USER = """
import json, sys
from grader.config import Settings
from grader.grading.runner import grade_source
from grader.grading.spec import load_exercises

settings = Settings()
spec = load_exercises(settings.exercises_dir)["message-echo"]
report = grade_source(spec, sys.stdin.read(), config=settings.sandbox_config())
print(json.dumps(report.to_dict()))
"""

DAEMON = """
import os, time
from fastapi import FastAPI

if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        while True:
            time.sleep(0.2)
    os._exit(0)

app = FastAPI()

@app.post("/message")
async def receive(msg: dict):
    return {"received": msg}
"""


def _same_python_version() -> bool:
    probe = subprocess.run(
        [str(SYSTEM_PYTHON), "-c", "import sys; print(sys.version_info[:2])"], capture_output=True, text=True
    )
    return probe.stdout.strip() == str(sys.version_info[:2])


@pytest.fixture
def as_nobody(sandbox_config):
    """Run the grading core as uid 65534 on a given solution; returns the parsed report."""
    if not SYSTEM_PYTHON.exists() or not _same_python_version():
        pytest.skip("the system Python must match the service's version to share its packages")
    home = Path(tempfile.mkdtemp(prefix="grader-nobody-"))
    os.chown(home, NOBODY, NOBODY)

    def run(source: str) -> dict:
        env = {
            "PATH": "/usr/bin:/bin",
            "HOME": str(home),
            "PYTHONPATH": os.pathsep.join([str(PROJECT_ROOT), sysconfig.get_paths()["purelib"]]),
            "GRADER_STATE_DIR": str(home / "state"),
            "GRADER_LEARNER_RUNTIME_DIR": str(sandbox_config.runtime.root.parent),
        }
        done = subprocess.run(
            [str(SYSTEM_PYTHON), "-c", GRADE_AS_USER],
            user=NOBODY,
            group=NOBODY,
            extra_groups=[],
            env=env,
            cwd=str(home),
            input=source,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    yield run
    shutil.rmtree(home, ignore_errors=True)


def _processes_of(uid: int) -> dict[int, str]:
    """Live processes of ``uid``: pid → its stat line (zombies excluded: they run nothing)."""
    found = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                if entry.stat().st_uid != uid:
                    continue
                stat = Path(entry.path, "stat").read_text()
            except OSError:
                continue
            if stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X"):
                found[int(entry.name)] = stat
    return found


def test_an_unprivileged_grader_still_grades_in_a_sandbox_and_names_missing_limits(as_nobody):
    report = as_nobody((PROJECT_ROOT / "examples" / "solution.py").read_text())

    assert report["status"] == "passed", report
    # Exactly what a grader that is not root cannot do; the system-call filter still applies.
    assert report["limits_not_applied"] == [HOST_USER, PROCESS_COUNT, WHOLE_MEMORY]


def test_an_unprivileged_grader_leaves_no_daemon_behind(as_nobody):
    before = set(_processes_of(NOBODY))

    report = as_nobody(DAEMON)

    assert report["status"] == "passed", report
    after = _processes_of(NOBODY)
    assert {pid: after[pid] for pid in set(after) - before} == {}
    assert shutil.which("bwrap")
