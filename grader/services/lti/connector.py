"""The LTI library's service connector (AGS, NRPS calls) with access tokens kept in this process until they expire."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable

from pylti1p3.service_connector import ServiceConnector

# Tokens are asked for by a hash of the issuer and scopes; a few seconds' margin keeps
# one that is about to expire from being sent.
_EXPIRY_MARGIN_SECONDS = 10


class CachingServiceConnector(ServiceConnector):
    """Asks the platform for an access token once per issuer and scopes, then reuses it until it expires."""

    _tokens: dict[str, tuple[str, float]] = {}
    _lock = threading.Lock()

    def _scope_key(self, scopes: Iterable[str]) -> str:
        # The library keys tokens by issuer and scopes; two registrations of one issuer (two client
        # ids) must not share a token, so the client id is part of the key too.
        return f"{self._registration.get_client_id()}|{super()._scope_key(scopes)}"

    def _get_cached_access_token(self, scope_key: str) -> str | None:
        with self._lock:
            cached = self._tokens.get(scope_key)
        if cached is not None and cached[1] > time.monotonic():
            return cached[0]
        return None

    def _cache_access_token(self, scope_key: str, access_token: str, expires_in: float) -> None:
        with self._lock:
            self._tokens[scope_key] = (access_token, time.monotonic() + float(expires_in) - _EXPIRY_MARGIN_SECONDS)
