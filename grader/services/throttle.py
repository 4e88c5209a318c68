"""Growing delays after repeated failures (sign-in, join code), counted in the database.

Each failure is counted under one or more keys. A key may fail ``free`` times; after
that each further failure blocks it for twice as long as the one before (1 s, 2 s,
4 s … up to ``max_delay``). While a key is blocked, attempts under it are refused
with ``RateLimited`` before any password is hashed. A key is forgotten after an hour
without failures.

Sign-in counts under two keys, as OWASP's authentication guidance suggests, so that
nobody can lock an account's owner out (a per-account lock would let any stranger
keep ``instructor@…`` out):

- the pair of the e-mail tried (a digest of it, whether or not such an account
  exists, so a refusal reveals nothing) and the client address: failures from one
  address block that address's tries at that e-mail, never the owner's tries from
  elsewhere. The pair is forgotten when its right password is given.
- the client address alone, a ceiling on failures at any e-mail (password spraying
  from one address). A classroom shares one address, so the ceiling does not apply
  to an e-mail that signed in from that address within the last days (a *known*
  sign-in, ``remember``): a neighbour's failures do not lock out those who sign in there.

An IPv6 client is counted by its /64 network, which one machine can change addresses within.

The counts live in the ``throttles`` table, so every web process (and every
machine sharing the database) sees the same ones. The ``limits`` library was
considered: it has no SQL storage (the default deployment has no Redis) and
counts fixed windows, not growing delays.
"""

from __future__ import annotations

import hashlib
import ipaddress
import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Table, case, delete, or_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, SQLModel, col, select

from grader.models import KnownSignIn, Throttle, utcnow
from grader.services.errors import RateLimited

FORGET_AFTER = timedelta(hours=1)
PURGE_ONE_IN = 50


@dataclass(frozen=True)
class Key:
    """One thing failures are counted against, and how many are free."""

    name: str
    free: int


def network(address: str | None) -> str:
    """What a client address is counted as: an IPv4 address itself, an IPv6 address's /64 network."""
    if not address:
        return "unknown"
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address[:100]
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.IPv6Network((parsed, 64), strict=False))
    return str(parsed)


def _digest(*parts: str) -> str:
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:32]


def _email(email: str) -> str:
    return email.strip().lower()


def pair_key(email: str, address: str | None, free: int, *, action: str = "sign-in") -> Key:
    """The key of an e-mail tried from a client address (a digest: no e-mail of a stranger is kept)."""
    return Key(f"{action}:pair:{_digest(_email(email), network(address))}", free)


def address_key(address: str | None, free: int, *, action: str = "sign-in") -> Key:
    """The key of a client address (its network, for IPv6)."""
    return Key(f"{action}:address:{network(address)}"[:200], free)


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


def remember(
    *, session: Session, email: str, address: str | None, known_for: timedelta, now: datetime | None = None
) -> None:
    """Note that ``email`` signed in from ``address`` (its right password): see ``is_known``."""
    now = now or utcnow()
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    table: Table = SQLModel.metadata.tables[KnownSignIn.__tablename__]
    statement = insert(table).values(key=_known_key(email, address), last_success_at=now)
    session.execute(statement.on_conflict_do_update(index_elements=[table.c.key], set_={"last_success_at": now}))
    session.commit()
    if secrets.randbelow(PURGE_ONE_IN) == 0:
        session.execute(delete(KnownSignIn).where(col(KnownSignIn.last_success_at) < now - known_for))
        session.commit()


def is_known(
    *, session: Session, email: str, address: str | None, known_for: timedelta, now: datetime | None = None
) -> bool:
    """Whether ``email`` signed in from ``address`` (its network) within ``known_for``."""
    now = now or utcnow()
    found = session.exec(
        select(KnownSignIn.key).where(
            col(KnownSignIn.key) == _known_key(email, address), col(KnownSignIn.last_success_at) >= now - known_for
        )
    ).first()
    return found is not None


def _known_key(email: str, address: str | None) -> str:
    # A digest of its own (not the pair key's): a row of one table says nothing about the other.
    return _digest("known", _email(email), network(address))


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
