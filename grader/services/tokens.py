"""Bearer tokens for the JSON API: signed, expiring, void once the password changes."""

from __future__ import annotations

import hashlib

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlmodel import Session

from grader.config import Settings, get_settings
from grader.models import User
from grader.services.errors import AuthenticationFailed

_SALT = "grader.api-token"


def _serializer(settings: Settings) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(settings.secret_key, salt=_SALT)


def _password_fingerprint(user: User) -> str:
    # Binding the token to the password hash makes a password change revoke old tokens.
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]


def issue(*, user: User, settings: Settings | None = None) -> str:
    """A bearer token for ``user``, valid for ``settings.api_token_seconds``."""
    settings = settings or get_settings()
    return _serializer(settings).dumps({"uid": user.id, "pw": _password_fingerprint(user)})


def authenticate(*, session: Session, token: str, settings: Settings | None = None) -> User:
    """The user a valid, unexpired token was issued to, or ``AuthenticationFailed``."""
    settings = settings or get_settings()
    try:
        payload = _serializer(settings).loads(token, max_age=settings.api_token_seconds)
    except SignatureExpired as exc:
        raise AuthenticationFailed("The token has expired; request a new one.") from exc
    except BadSignature as exc:
        raise AuthenticationFailed("The token is not valid.") from exc
    user = session.get(User, payload.get("uid")) if isinstance(payload, dict) else None
    if user is None or payload.get("pw") != _password_fingerprint(user):
        raise AuthenticationFailed("The token is not valid.")
    return user
