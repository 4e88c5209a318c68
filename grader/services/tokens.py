"""Bearer tokens for the JSON API: signed, expiring, void once the password changes."""

from __future__ import annotations

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlmodel import Session

from grader.config import Settings, get_settings
from grader.models import User
from grader.services.errors import AuthenticationFailed
from grader.services.users import password_fingerprint

_SALT = "grader.api-token"


def _serializer(settings: Settings) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(settings.secret_key, salt=_SALT)


def issue(*, user: User, settings: Settings | None = None) -> str:
    """A bearer token for ``user``, valid for ``settings.api_token_seconds``."""
    settings = settings or get_settings()
    # Bound to the password alone: signing out in a browser leaves a terminal's token
    # working, while a password change ends both.
    return _serializer(settings).dumps({"uid": user.id, "pw": password_fingerprint(user)})


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
    if user is None or payload.get("pw") != password_fingerprint(user):
        raise AuthenticationFailed("The token is not valid.")
    return user
