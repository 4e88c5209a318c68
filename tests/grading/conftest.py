"""Shared fixtures of the grading tests: exercises, the sandbox, and host checks.

Submissions under ``submissions/`` are data. The test process only reads their
text and hands it to ``grade_source``; it never imports or runs them itself, so
learner code only ever runs inside the sandbox.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from grader.config import get_settings
from grader.grading import runtime
from grader.grading.report import Report
from grader.grading.sandbox import SandboxConfig
from grader.grading.sandbox.pool import SandboxPool
from grader.grading.spec import ExerciseSpec, load_exercises

from .corpus import CorpusFile, Graded, corpus_files, grade_all, quick_limits
from .support import HostSnapshot, UidBlock, claim_uid_block, session_sandbox_config

# --- exercises and the sandbox ------------------------------------------------------


@pytest.fixture(scope="session")
def exercises(exercises_dir: Path) -> dict[str, ExerciseSpec]:
    """Every exercise of the course and of the tests, by slug."""
    return load_exercises(exercises_dir)


@pytest.fixture(scope="session")
def message_echo(exercises) -> ExerciseSpec:
    """The /message exercise the corpora are written for."""
    return exercises["message-echo"]


@pytest.fixture(scope="session")
def quick_echo(message_echo) -> ExerciseSpec:
    """The /message exercise with short time limits, for submissions meant to hang (see ``quick_limits``)."""
    return quick_limits(message_echo)


@pytest.fixture(scope="session")
def uid_block() -> Iterator[UidBlock]:
    """A block of host uids that only this test session's sandboxes run as."""
    block = claim_uid_block()
    yield block
    block.release()


@pytest.fixture(scope="session")
def sandbox_config(uid_block, tmp_path_factory) -> SandboxConfig:
    """The sandbox configuration the service would use, with its runtime built, on this session's own uids.

    Its own uids and state folder let the host checks count this session's
    sandboxes only, while other graders run on the same machine.
    """
    settings = get_settings()
    runtime.build(settings.runtime_requirements, settings.learner_runtime_parent)
    config = session_sandbox_config(uid_block, tmp_path_factory.mktemp("sandbox-state"))
    assert not config.unsafe_no_sandbox, "the tests must never run submissions without the sandbox"
    return config


class Grade:
    """``grade(spec, source, seed=None)``: grade a submission's text in the real sandbox of ``config``.

    With a ``pool``, every grading takes a pre-started sandbox from it (the pool
    is given time to fill first, and the test fails if the grading started one
    of its own), the way the worker grades.
    """

    def __init__(self, config: SandboxConfig, pool: SandboxPool | None = None) -> None:
        self.config = config
        self.pool = pool

    def __call__(self, spec: ExerciseSpec, source: str, *, seed: int | None = None) -> Report:
        from grader.grading.runner import grade_source

        if self.pool is None:
            return grade_source(spec, source, seed=seed, config=self.config)
        assert self.pool.wait_ready(spec.limits, spec.entry_point, timeout=60), self.pool.status()
        served = self.pool.status().served
        report = grade_source(spec, source, seed=seed, config=self.config, pool=self.pool)
        assert self.pool.status().served == served + 1, "the grading did not get a pre-started sandbox"
        return report


@pytest.fixture(scope="session")
def grade(sandbox_config) -> Grade:
    """Grades in a fresh sandbox of this session's configuration (see ``Grade``)."""
    return Grade(sandbox_config)


@pytest.fixture(scope="session")
def sandbox_pool(sandbox_config) -> Iterator[SandboxPool]:
    """A pool of sandboxes forked ahead from a template, on this session's uids, as the worker keeps them."""
    with SandboxPool(sandbox_config, size=1, max_kinds=2) as pool:
        yield pool


@pytest.fixture(scope="session")
def bwrap_pool(sandbox_config) -> Iterator[SandboxPool]:
    """A pool of sandboxes started ahead through bubblewrap, one interpreter each (no template)."""
    with SandboxPool(sandbox_config, size=1, max_kinds=2, template=False) as pool:
        yield pool


@pytest.fixture(scope="session")
def pooled_grade(sandbox_config, sandbox_pool) -> Grade:
    """Grades in a sandbox forked ahead from the pool's template, as the worker does."""
    if os.geteuid() == 0:
        assert sandbox_pool.wait_template(timeout=60), sandbox_pool.status()
    return Grade(sandbox_config, sandbox_pool)


@pytest.fixture(scope="session")
def bwrap_pooled_grade(sandbox_config, bwrap_pool) -> Grade:
    """Grades in a sandbox started ahead through bubblewrap, as the worker does without a template."""
    return Grade(sandbox_config, bwrap_pool)


@pytest.fixture
def host_snapshot(sandbox_config) -> Callable[[], HostSnapshot]:
    """``host_snapshot()`` records the host's state now (see ``HostSnapshot``)."""
    return lambda: HostSnapshot.take(sandbox_config)


# --- the mistake corpus ------------------------------------------------------------------


class CorpusReports:
    """``corpus_reports.group("mistakes")``: every file of a corpus group graded once per session, two at a time."""

    def __init__(self, grade: Grade, message_echo: ExerciseSpec, quick_echo: ExerciseSpec) -> None:
        self._grade = grade
        self._specs = {False: message_echo, True: quick_echo}
        self._groups: dict[str, dict[str, Graded]] = {}

    def spec_for(self, file: CorpusFile) -> ExerciseSpec:
        """The exercise a corpus file is graded against (short limits for files meant to hang)."""
        return self._specs[file.quick]

    def group(self, group: str) -> dict[str, Graded]:
        """The reports of one group's files, by file name."""
        if group not in self._groups:
            jobs = [(file.name, self.spec_for(file), file.source) for file in corpus_files(group)]
            self._groups[group] = grade_all(self._grade, jobs)
        return self._groups[group]


@pytest.fixture(scope="session")
def corpus_reports(grade, message_echo, quick_echo) -> CorpusReports:
    """The corpus's reports, graded at most once per test session (see ``CorpusReports``)."""
    return CorpusReports(grade, message_echo, quick_echo)
