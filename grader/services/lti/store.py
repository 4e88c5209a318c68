"""What an LTI launch keeps on the server between its requests: states, nonces, launches, one-time codes.

Nothing here trusts a cookie alone. The OIDC login stores its ``state`` with the nonce it
issued; the launch must bring back a state that is stored and unexpired, whose nonce
is the token's, and both are used up by it (in the caller's transaction, so a launch
refused later leaves them as they were). A browser that refuses the tool's cookies inside
the LMS's frame continues in a new window with a one-time code.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, col, delete

from grader.models import LtiLaunchData, LtiUsedNonce, utcnow

STATE_LIFETIME = timedelta(minutes=10)
LAUNCH_LIFETIME = timedelta(hours=2)
CODE_LIFETIME = timedelta(minutes=5)
# Platforms sign id tokens valid for minutes; a nonce is remembered well past that.
NONCE_REMEMBERED_FOR = timedelta(hours=2)


def _put(session: Session, key: str, value: dict[str, Any], lifetime: timedelta) -> None:
    row = session.get(LtiLaunchData, key) or LtiLaunchData(key=key, value={}, expires_at=utcnow())
    row.value = value
    row.expires_at = utcnow() + lifetime
    session.add(row)


def _take(session: Session, key: str) -> dict[str, Any] | None:
    row = session.get(LtiLaunchData, key)
    if row is None:
        return None
    session.delete(row)
    if row.expires_at <= utcnow():
        return None
    return dict(row.value)


def _read(session: Session, key: str) -> dict[str, Any] | None:
    row = session.get(LtiLaunchData, key)
    if row is None or row.expires_at <= utcnow():
        return None
    return dict(row.value)


def save_state(*, session: Session, state: str, nonce: str, params: dict[str, Any] | None = None) -> None:
    """Remember a state issued by the OIDC login with its nonce (the caller commits); expired rows go first."""
    _purge(session, utcnow())
    _put(session, f"state-{state}", {"nonce": nonce, **(params or {})}, STATE_LIFETIME)


def take_state(*, session: Session, state: str) -> dict[str, Any] | None:
    """The stored state's values (its ``nonce``), used up; None when unknown, used or expired."""
    return _take(session, f"state-{state}")


def use_nonce(*, session: Session, issuer: str, nonce: str) -> bool:
    """Record a launch's nonce as used; False when it already was (a replay). The caller commits."""
    if session.get(LtiUsedNonce, (issuer, nonce)) is not None:
        return False
    session.add(LtiUsedNonce(issuer=issuer, nonce=nonce, expires_at=utcnow() + NONCE_REMEMBERED_FOR))
    session.flush()
    return True


def save_launch(*, session: Session, launch_id: str, body: dict[str, Any]) -> None:
    """Keep a validated launch's claims for the requests that follow it (deep linking)."""
    _put(session, f"launch-{launch_id}", body, LAUNCH_LIFETIME)


def get_launch(*, session: Session, launch_id: str) -> dict[str, Any] | None:
    """A launch's claims while kept, or None."""
    return _read(session, f"launch-{launch_id}")


def issue_code(*, session: Session, value: dict[str, Any]) -> str:
    """A one-time code that continues a launch in a new window (the caller commits)."""
    code = secrets.token_urlsafe(32)
    _put(session, f"code-{code}", value, CODE_LIFETIME)
    return code


def take_code(*, session: Session, code: str) -> dict[str, Any] | None:
    """What a one-time code stands for, used up; None when unknown, used or expired."""
    return _take(session, f"code-{code}")


def _purge(session: Session, now: datetime) -> None:
    # Every login clears what expired (an indexed range): nothing else has to run for it.
    session.exec(delete(LtiLaunchData).where(col(LtiLaunchData.expires_at) <= now))
    session.exec(delete(LtiUsedNonce).where(col(LtiUsedNonce.expires_at) <= now))
