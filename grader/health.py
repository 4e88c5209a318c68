"""Liveness and readiness: what ``/healthz`` and ``/readyz`` report.

Ready means this process can do its work: the database answers, the queue's
storage answers, the sandbox self-test passed where this process grades (the
embedded worker), and the pre-started sandbox pool is filled where there is one.

The self-test runs before the web application exists (``autograder serve``
runs it first), so its outcome is kept here, process-wide. A sandbox pool
reports itself through ``register_pool``: it passes a function returning a
``PoolStatus`` and ``/readyz`` calls it on every request.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy import Engine, text

SelftestState = Literal["passed", "failed", "skipped", "not-run"]


@dataclass(frozen=True)
class PoolStatus:
    """A pool of pre-started sandboxes: ``ready`` of ``size`` are waiting for a submission."""

    size: int
    ready: int

    @property
    def filled(self) -> bool:
        return self.ready >= self.size


@dataclass
class _ProcessState:
    selftest: SelftestState = "not-run"
    selftest_detail: str = ""
    pool: Callable[[], PoolStatus] | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)


_state = _ProcessState()


def record_selftest(state: SelftestState, detail: str = "") -> None:
    """Remember the outcome of this process's sandbox self-test."""
    with _state.lock:
        _state.selftest, _state.selftest_detail = state, detail


def selftest_passed() -> None:
    """The sandbox self-test passed in this process."""
    record_selftest("passed")


def register_pool(status: Callable[[], PoolStatus] | None) -> None:
    """Report a sandbox pool's fill level on ``/readyz`` (None: this process has no pool)."""
    with _state.lock:
        _state.pool = status


@dataclass(frozen=True)
class Check:
    """One readiness check: ``ok``, and what was found."""

    name: str
    ok: bool
    detail: str

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "detail": self.detail}


def readiness(*, engine: Engine, queue_depth: Callable[[], int], grades_here: bool) -> list[Check]:
    """Every readiness check of this process; ready when all are ``ok``."""
    return [
        _database(engine),
        _queue(queue_depth),
        _selftest(grades_here),
        _pool(),
    ]


def _database(engine: Engine) -> Check:
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - any failure means "not ready", said in words
        return Check("database", False, f"unreachable: {type(exc).__name__}")
    return Check("database", True, f"{engine.dialect.name} answers")


def _queue(queue_depth: Callable[[], int]) -> Check:
    try:
        depth = queue_depth()
    except Exception as exc:  # noqa: BLE001
        return Check("queue", False, f"unreachable: {type(exc).__name__}")
    return Check("queue", True, f"{depth} task(s) waiting")


def _selftest(grades_here: bool) -> Check:
    with _state.lock:
        state, detail = _state.selftest, _state.selftest_detail
    if not grades_here:
        return Check("sandbox_selftest", True, "this process does not grade (workers run elsewhere)")
    if state == "passed":
        return Check("sandbox_selftest", True, "passed")
    if state == "skipped":
        return Check("sandbox_selftest", True, f"skipped by the operator{': ' + detail if detail else ''}")
    if state == "failed":
        return Check("sandbox_selftest", False, f"failed: {detail}")
    return Check("sandbox_selftest", False, "not run in this process")


def _pool() -> Check:
    with _state.lock:
        status_of = _state.pool
    if status_of is None:
        return Check("sandbox_pool", True, "no pool in this process")
    try:
        status = status_of()
    except Exception as exc:  # noqa: BLE001
        return Check("sandbox_pool", False, f"status unavailable: {type(exc).__name__}")
    return Check("sandbox_pool", status.filled, f"{status.ready} of {status.size} sandboxes ready")
