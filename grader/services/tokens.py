"""Bearer tokens for the JSON API: random secrets, kept as digests in ``api_tokens``, revocable.

A token is checked against the table on every request, so the owner can list and
revoke them, and "sign out everywhere" or a password change ends them at once
(``revoke_all``). They also expire after ``settings.api_token_seconds``.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, col, select

from grader.config import Settings, get_settings
from grader.models import ApiToken, User, utcnow
from grader.services import storage, updates
from grader.services.errors import AuthenticationFailed, InvalidInput, NotFound

# A token's last use is written at most this often, not on every request.
LAST_USED_PRECISION = timedelta(minutes=1)
MAX_LABEL_LENGTH = 200
# A name its owner gives a token on the account page, to tell it apart in the list.
MAX_NAME_LENGTH = 80


@dataclass(frozen=True)
class IssuedToken:
    """A new token: ``secret`` is shown once and never stored; ``row`` is what is kept."""

    secret: str
    row: ApiToken


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def digest(secret: str) -> str:
    """What is stored of a token: its SHA-256 digest (also what names it without revealing it)."""
    return _digest(secret)


def issue(*, session: Session, user: User, label: str = "", settings: Settings | None = None) -> IssuedToken:
    """A new bearer token for ``user``, valid for ``settings.api_token_seconds``."""
    settings = settings or get_settings()
    now = utcnow()
    # The owner's expired tokens are of no use to anyone: drop them while here.
    session.execute(delete(ApiToken).where(col(ApiToken.user_id) == user.id, col(ApiToken.expires_at) <= now))
    secret = secrets.token_urlsafe(32)
    row = ApiToken(
        user_id=user.id,
        digest=_digest(secret),
        label=label[:MAX_LABEL_LENGTH],
        created_at=now,
        expires_at=now + timedelta(seconds=settings.api_token_seconds),
    )
    session.add(row)
    session.commit()
    session.refresh(row)
    return IssuedToken(secret=secret, row=row)


def token_name(name: str) -> str:
    """A token's name as given on the account page, checked: not empty, one line, not too long."""
    name = " ".join(name.split())
    if not name:
        raise InvalidInput("Give the token a name, such as the computer or program that will use it.", field="name")
    if len(name) > MAX_NAME_LENGTH:
        raise InvalidInput(f"Keep the token's name to {MAX_NAME_LENGTH} characters or fewer.", field="name")
    return name


def authenticate(*, session: Session, token: str, now: datetime | None = None) -> tuple[User, ApiToken]:
    """The user a live token belongs to, and the token's row; ``AuthenticationFailed`` otherwise."""
    now = now or utcnow()
    row = session.exec(select(ApiToken).where(ApiToken.digest == _digest(token))).first()
    if row is None:
        raise AuthenticationFailed("The token is not valid (it may have been revoked); request a new one.")
    if row.expires_at <= now:
        raise AuthenticationFailed("The token has expired; request a new one.")
    user = session.get(User, row.user_id)
    if user is None:
        raise AuthenticationFailed("The token is not valid.")
    if row.last_used_at is None or now - row.last_used_at >= LAST_USED_PRECISION:
        _mark_used(session, row, now)
    return user, row


def user_of(*, session: Session, token_id: int, now: datetime | None = None) -> User | None:
    """The user of token ``token_id`` while it is in force (not revoked, not expired); None otherwise."""
    row = session.get(ApiToken, token_id)
    if row is None or row.expires_at <= (now or utcnow()):
        return None
    return session.get(User, row.user_id)


def _mark_used(session: Session, row: ApiToken, now: datetime) -> None:
    """Note when the token was last used; bookkeeping that a full disk or a busy database may skip."""
    row.last_used_at = now
    session.add(row)
    try:
        session.commit()
    except (OSError, SQLAlchemyError) as exc:
        if storage.trouble(exc) is None:
            raise
        session.rollback()
    session.refresh(row)


def list_for_user(*, session: Session, user: User) -> list[ApiToken]:
    """The user's tokens still in force, newest first."""
    query = (
        select(ApiToken)
        .where(ApiToken.user_id == user.id, col(ApiToken.expires_at) > utcnow())
        .order_by(col(ApiToken.created_at).desc(), col(ApiToken.id).desc())
    )
    return list(session.exec(query))


def revoke(*, session: Session, user: User, token_id: int) -> None:
    """End one of the user's tokens; ``NotFound`` if it is not theirs (or gone already)."""
    row = session.get(ApiToken, token_id)
    if row is None or row.user_id != user.id:
        raise NotFound("No such token.")
    session.delete(row)
    session.commit()
    updates.account_changed(user.id)


def revoke_all(*, session: Session, user: User) -> int:
    """End every token of the user; how many there were."""
    result = session.execute(delete(ApiToken).where(col(ApiToken.user_id) == user.id))
    session.commit()
    updates.account_changed(user.id)
    return int(getattr(result, "rowcount", 0) or 0)
