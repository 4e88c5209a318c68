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


# The stall this prevents: 2 slots, 2 grading threads and a pool of 2 sandboxes kept ahead waited 120 s for slots.
TOO_FEW_SLOTS = {"GRADER_SANDBOX_SLOTS": "2", "GRADER_WORKER_THREADS": "2", "GRADER_SANDBOX_POOL_SIZE": "2"}


def test_serve_refuses_fewer_sandbox_slots_than_threads_and_pool(tmp_path):
    state = tmp_path / "state"
    done = _run_cli("serve", "--port", "1", env_extra={"GRADER_STATE_DIR": str(state), **TOO_FEW_SLOTS})

    assert done.returncode == 2, done.stderr
    assert "refusing to grade: GRADER_SANDBOX_SLOTS is 2" in done.stderr
    assert "4 sandboxes at once (2 worker thread(s) + a pool of 2)" in done.stderr
    assert "Raise GRADER_SANDBOX_SLOTS to at least 4" in done.stderr
    assert not (state / "grader.sqlite3").exists()


def test_worker_counts_its_own_threads_against_the_slots(tmp_path):
    env = {"GRADER_STATE_DIR": str(tmp_path), **TOO_FEW_SLOTS}
    done = _run_cli("worker", "--threads", "3", "--skip-selftest", env_extra=env)

    assert done.returncode == 2, done.stderr
    assert "5 sandboxes at once (3 worker thread(s) + a pool of 2)" in done.stderr


def test_enough_slots_or_no_sandbox_pass_the_check(tmp_path):
    from grader.cli import _slots_refusal
    from tests.conftest import make_settings

    exactly = make_settings(tmp_path, sandbox_slots=4, worker_threads=2, sandbox_pool_size=2)
    assert _slots_refusal(exactly, threads=2) is None
    assert _slots_refusal(exactly, threads=3) == 2
    no_pool = make_settings(tmp_path, sandbox_slots=2, sandbox_pool_size=0)
    assert _slots_refusal(no_pool, threads=2) is None
