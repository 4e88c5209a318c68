"""The tool's RSA signing keys: one signs, retired ones stay published a while, none is stored in the clear.

The private key is encrypted (Fernet) with a key derived from the service's secret
(``settings.secret_key``, kept in the state folder when not given), so the database
alone, or a backup of it, signs nothing. Changing the secret makes the stored keys
unusable: rotate after such a change (``autograder lti keys rotate``).
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from jwcrypto.jwk import JWK  # type: ignore[import-untyped]
from sqlmodel import Session, col, select

from grader.models import LtiKey, utcnow
from grader.services.errors import InvalidInput

# A retired key is still published this long: platforms cache a tool's JWKS, and a
# message signed just before the rotation must still verify.
RETIRED_KEY_PUBLISHED_FOR = timedelta(days=7)
KEY_BITS = 2048


@dataclass(frozen=True)
class SigningKey:
    """The key that signs the tool's messages now: its ``kid`` and private PEM."""

    kid: str
    private_pem: str


def _fernet(secret: str) -> Fernet:
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"grader lti signing keys").derive(
        secret.encode()
    )
    return Fernet(base64.urlsafe_b64encode(derived))


def _public_jwk(private_pem: str) -> dict[str, Any]:
    jwk = JWK.from_pem(private_pem.encode())
    public: dict[str, Any] = json.loads(jwk.export_public())
    public.update(alg="RS256", use="sig")
    return public


def create(*, session: Session, secret: str) -> LtiKey:
    """A new signing key, active at once; the key that signed until now is retired (still published a while)."""
    private = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = _public_jwk(pem)
    now = utcnow()
    for old in session.exec(select(LtiKey).where(col(LtiKey.retired_at).is_(None))):
        old.retired_at = now
        session.add(old)
    key = LtiKey(
        kid=public["kid"],
        private_key=_fernet(secret).encrypt(pem.encode()).decode(),
        public_jwk=public,
        created_at=now,
    )
    session.add(key)
    session.commit()
    session.refresh(key)
    return key


def rotate(*, session: Session, secret: str, now: datetime | None = None) -> LtiKey:
    """Replace the signing key; keys retired longer ago than ``RETIRED_KEY_PUBLISHED_FOR`` are deleted."""
    now = now or utcnow()
    for expired in session.exec(select(LtiKey).where(col(LtiKey.retired_at) < now - RETIRED_KEY_PUBLISHED_FOR)).all():
        session.delete(expired)
    return create(session=session, secret=secret)


def signing_key(*, session: Session, secret: str) -> SigningKey:
    """The active key, created on first use."""
    key = session.exec(select(LtiKey).where(col(LtiKey.retired_at).is_(None)).order_by(col(LtiKey.id).desc())).first()
    if key is None:
        key = create(session=session, secret=secret)
    try:
        pem = _fernet(secret).decrypt(key.private_key.encode()).decode()
    except InvalidToken as exc:
        raise InvalidInput(
            "The LTI signing key was stored under another secret key; run `autograder lti keys rotate`."
        ) from exc
    return SigningKey(kid=key.kid, private_pem=pem)


def published(*, session: Session, now: datetime | None = None) -> dict[str, list[dict[str, Any]]]:
    """The JWKS: the active key and the keys retired less than ``RETIRED_KEY_PUBLISHED_FOR`` ago."""
    now = now or utcnow()
    rows = session.exec(
        select(LtiKey)
        .where((col(LtiKey.retired_at).is_(None)) | (col(LtiKey.retired_at) >= now - RETIRED_KEY_PUBLISHED_FOR))
        .order_by(col(LtiKey.id))
    )
    return {"keys": [row.public_jwk for row in rows]}
