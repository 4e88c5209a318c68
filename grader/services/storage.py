"""Whether the service can store anything now: free space, and the database's refusals put in words.

A full disk and a busy or restarting database are not bugs: they are answered
with ``StorageUnavailable`` (507 for a full disk, 503 otherwise, both with
``Retry-After``) instead of a crash, and nothing is half-stored, since every
write happens in one transaction that the failure rolls back. ``refuse_when_low``
turns uploads away before the disk fills (below ``min_free_disk_mb`` in the state
folder), so the database never runs out of room in the middle of a write; the
readiness check says the same to the load balancer.
"""

from __future__ import annotations

import errno
import os
import sqlite3
from pathlib import Path

from sqlalchemy import exc as sa_exc

from grader.config import Settings
from grader.db import is_sqlite
from grader.services.errors import StorageUnavailable

FULL_RETRY_SECONDS = 60
BUSY_RETRY_SECONDS = 5

FULL_MESSAGE = (
    "The grader's disk is full, so nothing could be saved; nothing of this request was kept. "
    "Your work is safe on your side: try again in a few minutes."
)
BUSY_MESSAGE = (
    "The grader's database is busy right now, so nothing could be saved; nothing of this request was kept. "
    "Try again in a few seconds."
)
DOWN_MESSAGE = (
    "The grader cannot reach its database right now, so nothing could be saved; nothing of this request was kept. "
    "Try again in a few seconds."
)

_FULL_ERRNOS = {errno.ENOSPC, errno.EDQUOT}
_SQLITE_FULL = ("database or disk is full", "disk i/o error")
_SQLITE_BUSY = ("database is locked", "database table is locked")
# PostgreSQL: lock_timeout (55P03), a full disk (53100), a server starting or stopping (57P0x), no connection (08xxx).
_PG_BUSY_STATES = {"55P03", "57014"}
_PG_FULL_STATES = {"53100"}


def free_bytes(path: Path) -> int:
    """Bytes an unprivileged writer may still use on the file system holding ``path``."""
    stats = os.statvfs(path)
    return stats.f_bavail * stats.f_frsize


def stores_in_state_folder(settings: Settings) -> bool:
    """Whether the database or the queue is an SQLite file in the state folder (the one-machine layout)."""
    return is_sqlite(settings.effective_database_url) or settings.effective_queue_url.startswith("sqlite:")


def state_free_bytes(settings: Settings) -> int | None:
    """Free bytes in the state folder, or None when it cannot be read."""
    try:
        return free_bytes(settings.state_dir)
    except OSError:
        return None


def refuse_when_low(settings: Settings) -> None:
    """Raise ``StorageUnavailable`` when the state folder has less free space than the setting allows."""
    if settings.min_free_disk_mb <= 0 or not stores_in_state_folder(settings):
        return
    free = state_free_bytes(settings)
    if free is not None and free < settings.min_free_disk_mb * 1024 * 1024:
        raise StorageUnavailable(FULL_MESSAGE, FULL_RETRY_SECONDS, full=True)


def trouble(exc: BaseException) -> StorageUnavailable | None:
    """The ``StorageUnavailable`` an exception amounts to, or None when it is something else (a bug)."""
    seen: set[int] = set()
    waiting: list[BaseException] = [exc]
    while waiting:
        current = waiting.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        found = _one(current)
        if found is not None:
            return found
        # SQLAlchemy keeps the driver's own error in ``orig``; Python chains the rest.
        original = current.orig if isinstance(current, sa_exc.DBAPIError) else None
        waiting.extend(e for e in (original, current.__cause__, current.__context__) if isinstance(e, BaseException))
    return None


def _one(exc: BaseException) -> StorageUnavailable | None:
    if isinstance(exc, OSError) and exc.errno in _FULL_ERRNOS:
        return StorageUnavailable(FULL_MESSAGE, FULL_RETRY_SECONDS, full=True)
    if isinstance(exc, sqlite3.OperationalError):
        text = str(exc).lower()
        if any(phrase in text for phrase in _SQLITE_FULL):
            return StorageUnavailable(FULL_MESSAGE, FULL_RETRY_SECONDS, full=True)
        if any(phrase in text for phrase in _SQLITE_BUSY):
            return StorageUnavailable(BUSY_MESSAGE, BUSY_RETRY_SECONDS, full=False)
        return None
    if isinstance(exc, sa_exc.TimeoutError):  # no pooled connection came free in time
        return StorageUnavailable(BUSY_MESSAGE, BUSY_RETRY_SECONDS, full=False)
    state = getattr(exc, "sqlstate", None)
    if isinstance(state, str):
        if state in _PG_FULL_STATES:
            return StorageUnavailable(FULL_MESSAGE, FULL_RETRY_SECONDS, full=True)
        if state in _PG_BUSY_STATES:
            return StorageUnavailable(BUSY_MESSAGE, BUSY_RETRY_SECONDS, full=False)
        if state.startswith(("08", "57P")):
            return StorageUnavailable(DOWN_MESSAGE, BUSY_RETRY_SECONDS, full=False)
    if isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated:
        return StorageUnavailable(DOWN_MESSAGE, BUSY_RETRY_SECONDS, full=False)
    refused = getattr(getattr(exc, "orig", None), "sqlstate", "") is None  # the server refused or dropped us
    if isinstance(exc, sa_exc.OperationalError) and type(exc.orig).__module__.startswith("psycopg") and refused:
        return StorageUnavailable(DOWN_MESSAGE, BUSY_RETRY_SECONDS, full=False)
    return None
