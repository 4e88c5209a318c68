"""Liveness and readiness: what ``/healthz`` and ``/readyz`` report.

Ready means this process can do its work: the database answers, the queue's
storage answers, the state folder has room to store uploads (at least the
``min_free_disk_mb`` setting), the sandbox self-test passed where this process
grades (the embedded worker), and the pre-started sandbox pool is filled where
there is one.

The self-test runs before the web application exists (``autograder serve``
runs it first), so its outcome is kept here, process-wide. The pools of
pre-started sandboxes this process keeps (``grading.sandbox.pool``) are read
at every request: filled means as many ready sandboxes as the pool keeps for
each kind of exercise it serves. ``register_pool`` replaces that reading (for a
pool kept some other way).
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
    """Pre-started sandboxes: ``ready`` of ``size`` wanted are waiting; ``last_error``: why a start failed."""

    size: int
    ready: int
    last_error: str | None = None

    @property
    def filled(self) -> bool:
        return self.ready >= self.size


@dataclass
class _ProcessState:
    selftest: SelftestState = "not-run"
    selftest_detail: str = ""
    pool: Callable[[], PoolStatus | None] | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)


_state = _ProcessState()


def record_selftest(state: SelftestState, detail: str = "") -> None:
    """Remember the outcome of this process's sandbox self-test."""
    with _state.lock:
        _state.selftest, _state.selftest_detail = state, detail


def selftest_passed() -> None:
    """The sandbox self-test passed in this process."""
    record_selftest("passed")


def register_pool(status: Callable[[], PoolStatus | None] | None) -> None:
    """Read a pool's fill level with ``status`` instead of this process's sandbox pools (None: back to those)."""
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


def readiness(
    *,
    engine: Engine,
    queue_depth: Callable[[], int],
    grades_here: bool,
    free_space: Callable[[], int | None] | None = None,
    min_free_bytes: int = 0,
) -> list[Check]:
    """Every readiness check of this process; ready when all are ``ok``.

    free_space: free bytes in the state folder (None: unreadable); ``min_free_bytes`` the least that is ready.
    """
    checks = [_database(engine), _queue(queue_depth)]
    if free_space is not None:
        checks.append(_disk(free_space, min_free_bytes))
    return [*checks, _selftest(grades_here), _pool()]


def _disk(free_space: Callable[[], int | None], min_free_bytes: int) -> Check:
    free = free_space()
    if free is None:
        return Check("disk", False, "the state folder's free space cannot be read")
    detail = f"{free // (1024 * 1024)} MB free in the state folder"
    if free < min_free_bytes:
        return Check("disk", False, f"{detail}, below the {min_free_bytes // (1024 * 1024)} MB needed to store uploads")
    return Check("disk", True, detail)


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


def _process_pools() -> PoolStatus | None:
    """The sandbox pools of this process, added up; None when it keeps none."""
    from grader.grading.sandbox.pool import pool_status

    status = pool_status()
    if status is None:
        return None
    return PoolStatus(size=status.size * status.kinds, ready=status.ready, last_error=status.last_error)


def _pool() -> Check:
    with _state.lock:
        status_of = _state.pool or _process_pools
    try:
        status = status_of()
    except Exception as exc:  # noqa: BLE001
        return Check("sandbox_pool", False, f"status unavailable: {type(exc).__name__}")
    if status is None:
        return Check("sandbox_pool", True, "no pool in this process")
    detail = f"{status.ready} of {status.size} sandboxes ready"
    if status.last_error:
        detail += f"; the last start failed: {status.last_error}"
    return Check("sandbox_pool", status.filled, detail)
