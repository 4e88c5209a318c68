"""Growing delays after repeated failures (sign-in, join code), counted in the database.

Each failure is counted under one or more keys: the account tried (a digest of
the e-mail, whether or not such an account exists, so a refusal reveals
nothing) and the client address. A key may fail ``free`` times; after that each
further failure blocks it for twice as long as the one before (1 s, 2 s, 4 s …
up to ``max_delay``). While a key is blocked, attempts are refused with
``RateLimited`` before any password is hashed. A key is forgotten after an hour
without failures, and an account's key as soon as its owner signs in.

The counts live in the ``throttles`` table, so every web process (and every
machine sharing the database) sees the same ones. The ``limits`` library was
considered: it has no SQL storage (the default deployment has no Redis) and
counts fixed windows, not growing delays.
"""

from __future__ import annotations

import hashlib
import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Table, case, delete, or_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, SQLModel, col, select

from grader.models import Throttle, utcnow
from grader.services.errors import RateLimited

FORGET_AFTER = timedelta(hours=1)
PURGE_ONE_IN = 50


@dataclass(frozen=True)
class Key:
    """One thing failures are counted against, and how many are free."""

    name: str
    free: int


def account_key(email: str, free: int, *, action: str = "sign-in") -> Key:
    """The key of an e-mail address (stored as a digest: no e-mail of a stranger is kept)."""
    digest = hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]
    return Key(f"{action}:account:{digest}", free)


def address_key(address: str | None, free: int, *, action: str = "sign-in") -> Key:
    """The key of a client address."""
    return Key(f"{action}:address:{address or 'unknown'}"[:200], free)


def check(*, session: Session, keys: list[Key], message: str, now: datetime | None = None) -> None:
    """``RateLimited`` (with the longest wait) if any of ``keys`` is blocked now."""
    now = now or utcnow()
    names = [key.name for key in keys]
    rows = session.exec(select(Throttle).where(col(Throttle.key).in_(names))).all()
    waits = [(row.blocked_until - now).total_seconds() for row in rows if row.blocked_until is not None]
    wait = max(waits, default=0)
    if wait > 0:
        seconds = math.ceil(wait)
        raise RateLimited(message.format(wait=_duration(seconds)), retry_after=seconds)


def record_failure(*, session: Session, keys: list[Key], max_delay: int, now: datetime | None = None) -> None:
    """Count one failure under each key; a key past its free failures is blocked, longer each time."""
    now = now or utcnow()
    for key in keys:
        failures = _increment(session, key.name, now)
        over = failures - key.free
        if over > 0:
            delay = min(2 ** min(over - 1, 30), max_delay)
            until = now + timedelta(seconds=delay)
            session.execute(update(Throttle).where(col(Throttle.key) == key.name).values(blocked_until=until))
    session.commit()
    # Guessing many e-mails leaves a row each; now and then the stale ones go.
    if secrets.randbelow(PURGE_ONE_IN) == 0:
        purge_stale(session=session, now=now)


def purge_stale(*, session: Session, now: datetime | None = None) -> int:
    """Delete the keys that are forgotten anyway (quiet for an hour, not blocked); how many went."""
    now = now or utcnow()
    result = session.execute(
        delete(Throttle).where(
            col(Throttle.last_failure_at) < now - FORGET_AFTER,
            or_(col(Throttle.blocked_until).is_(None), col(Throttle.blocked_until) < now),
        )
    )
    session.commit()
    return int(getattr(result, "rowcount", 0) or 0)


def forget(*, session: Session, key: Key) -> None:
    """Forget the failures counted under ``key`` (its owner proved who they are)."""
    session.execute(delete(Throttle).where(col(Throttle.key) == key.name))
    session.commit()


def _increment(session: Session, name: str, now: datetime) -> int:
    """Add one failure to ``name`` in a single statement (safe when processes count at once); the new count."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    table: Table = SQLModel.metadata.tables[Throttle.__tablename__]
    values = insert(table).values(key=name, failures=1, last_failure_at=now, blocked_until=None)
    stale = table.c.last_failure_at < now - FORGET_AFTER
    statement = values.on_conflict_do_update(
        index_elements=[table.c.key],
        set_={
            # A key quiet for an hour starts again from one failure.
            "failures": case((stale, 1), else_=table.c.failures + 1),
            "blocked_until": case((stale, None), else_=table.c.blocked_until),
            "last_failure_at": now,
        },
    ).returning(table.c.failures)
    return int(session.execute(statement).scalar_one())


def _duration(seconds: int) -> str:
    if seconds < 90:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    minutes = math.ceil(seconds / 60)
    return f"{minutes} minutes"
