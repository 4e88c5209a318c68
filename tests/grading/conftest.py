"""Shared fixtures of the grading tests: exercises, the sandbox, and host checks.

Submissions under ``submissions/`` are data. The test process only reads their
text and hands it to ``grade_source``; it never imports or runs them itself, so
learner code only ever runs inside the sandbox.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from grader.config import PROJECT_ROOT, get_settings
from grader.grading import runtime
from grader.grading.report import Report
from grader.grading.sandbox import SandboxConfig
from grader.grading.spec import ExerciseSpec, load_exercises

from .support import HostSnapshot

# --- exercises and the sandbox ------------------------------------------------------


@pytest.fixture(scope="session")
def exercises() -> dict[str, ExerciseSpec]:
    """Every exercise of the repository, by slug."""
    return load_exercises(PROJECT_ROOT / "exercises")


@pytest.fixture(scope="session")
def message_echo(exercises) -> ExerciseSpec:
    """The /message exercise the corpora are written for."""
    return exercises["message-echo"]


@pytest.fixture(scope="session")
def quick_echo(message_echo) -> ExerciseSpec:
    """The /message exercise with short time limits, for submissions meant to hang.

    The limits are what is under test, not their values; shorter ones keep the
    suite fast on a 2-core machine.
    """
    limits = message_echo.limits.model_copy(
        update={"startup_seconds": 4.0, "request_seconds": 2.0, "total_seconds": 30.0}
    )
    return message_echo.model_copy(update={"limits": limits})


@pytest.fixture(scope="session")
def sandbox_config() -> SandboxConfig:
    """The sandbox configuration the service would use, with its runtime built."""
    settings = get_settings()
    runtime.build(settings.runtime_requirements, settings.learner_runtime_dir)
    config = settings.sandbox_config()
    assert not config.unsafe_no_sandbox, "the tests must never run submissions without the sandbox"
    return config


@pytest.fixture(scope="session")
def grade(sandbox_config) -> Callable[..., Report]:
    """``grade(spec, source, seed=None)``: grade a submission's text in the real sandbox."""
    from grader.grading.runner import grade_source

    def run(spec: ExerciseSpec, source: str, *, seed: int | None = None) -> Report:
        return grade_source(spec, source, seed=seed, config=sandbox_config)

    return run


@pytest.fixture
def host_snapshot(sandbox_config) -> Callable[[], HostSnapshot]:
    """``host_snapshot()`` records the host's state now (see ``HostSnapshot``)."""
    return lambda: HostSnapshot.take(sandbox_config)
