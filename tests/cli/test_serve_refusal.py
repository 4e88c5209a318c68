"""The service refuses to start grading where the sandbox cannot confine submissions."""

from __future__ import annotations

import os
import subprocess
import sys

from grader.config import PROJECT_ROOT


def _run_cli(*args: str, env_extra: dict[str, str]) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items() if not key.startswith("GRADER_")}
    env.update(env_extra)
    return subprocess.run(
        [sys.executable, "-m", "grader.cli", *args],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_serve_refuses_without_a_learner_runtime_and_stores_nothing(tmp_path):
    state = tmp_path / "state"
    done = _run_cli(
        "serve",
        "--port",
        "1",
        env_extra={"GRADER_STATE_DIR": str(state), "GRADER_LEARNER_RUNTIME_DIR": str(tmp_path / "no-runtime")},
    )

    assert done.returncode == 3, done.stderr
    assert "refusing to grade" in done.stderr
    assert "runtime build" in done.stderr
    assert not (state / "grader.sqlite3").exists()


def test_worker_refuses_too(tmp_path):
    done = _run_cli(
        "worker",
        env_extra={"GRADER_STATE_DIR": str(tmp_path), "GRADER_LEARNER_RUNTIME_DIR": str(tmp_path / "no-runtime")},
    )

    assert done.returncode == 3, done.stderr
    assert "refusing to grade" in done.stderr
