"""Browser-facing protections: security headers, CSRF tokens, sessions and request size limits.

Pages keep who is signed in inside Starlette's signed session cookie (HttpOnly,
SameSite=Lax, Secure in production). Every form carries the session's CSRF token,
checked by ``verify_csrf`` before any page route that changes state. The JSON API
does not read the cookie at all: it takes a bearer token, issued and checked by
``services.tokens``, which a browser never sends on its own, so it needs no CSRF token.

This module imports nothing else of the web layer: ``errors`` and ``templating``
build on it, and the body-size middleware is handed the response it refuses with.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from urllib.parse import urlsplit

from fastapi import Request
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSRF_FIELD = "csrf_token"
CSRF_SESSION_KEY = "csrf"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

# Our pages load only our own files: no inline script or style, no third-party
# origin, no framing. Inline SVG charts use presentation attributes, not style.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "font-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "object-src 'none'",
    ]
)

SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
}


class CsrfError(Exception):
    """A form arrived without the token of the session that displayed it."""


class RequestTooLarge(HTTPException):
    """The request body is larger than any request this service accepts.

    An ``HTTPException`` so that FastAPI's body parsing passes it on unchanged
    instead of turning it into a generic 400.
    """

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"The request is larger than the {limit:,}-byte limit.")
        self.limit = limit


class SecurityHeadersMiddleware:
    """Adds ``SECURITY_HEADERS`` to every response, and keeps signed-in pages out of caches."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        is_static = scope["path"].startswith("/static/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
                if not is_static:
                    headers.setdefault("Cache-Control", "no-store")
            await send(message)

        await self.app(scope, receive, send_with_headers)


class PublicUrlMiddleware:
    """Makes every URL the application builds start with the public URL, whatever Host was sent.

    ``request.url``, ``request.base_url``, ``url_for`` and Starlette's own redirects
    (``/static`` to ``/static/``) read the scheme and the Host header from the scope;
    this sets both from the settings before anything reads them. Which Host values
    are answered at all is Starlette's ``TrustedHostMiddleware``, placed outside this one.
    """

    def __init__(self, app: ASGIApp, *, public_url: str) -> None:
        self.app = app
        parts = urlsplit(public_url)
        self.scheme = parts.scheme
        self.host_header = parts.netloc.encode("latin-1")
        self.server = (parts.hostname, parts.port or (443 if parts.scheme == "https" else 80))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            headers = [(name, value) for name, value in scope["headers"] if name != b"host"]
            headers.append((b"host", self.host_header))
            scheme = self.scheme if scope["type"] == "http" else {"https": "wss", "http": "ws"}[self.scheme]
            scope = {**scope, "scheme": scheme, "server": self.server, "headers": headers}
        await self.app(scope, receive, send)


class BodySizeLimitMiddleware:
    """Refuses request bodies above ``max_bytes`` while they stream in, never buffering more.

    A declared Content-Length over the limit is answered at once with
    ``refusal(scope, max_bytes)`` (a 413); a body without one is counted as it
    arrives and ``RequestTooLarge`` is raised from ``receive`` so the error
    handler answers 413 the same way.
    """

    def __init__(self, app: ASGIApp, *, max_bytes: int, refusal: Callable[[Scope, int], Response]) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.refusal = refusal

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(scope, receive, send)
            return
        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise RequestTooLarge(self.max_bytes)
            return message

        await self.app(scope, counting_receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = self.refusal(scope, self.max_bytes)
        await response(scope, receive, send)


def csrf_token(request: Request) -> str:
    """The session's CSRF token, created on first use."""
    token = request.session.get(CSRF_SESSION_KEY)
    if not token:
        token = secrets.token_urlsafe(32)
        request.session[CSRF_SESSION_KEY] = token
    return token


async def verify_csrf(request: Request) -> None:
    """Dependency for page routes: a state-changing request must echo the session's token."""
    if request.method in SAFE_METHODS:
        return
    expected = request.session.get(CSRF_SESSION_KEY)
    form = await request.form()
    sent = form.get(CSRF_FIELD)
    if not expected or not isinstance(sent, str) or not secrets.compare_digest(sent, expected):
        raise CsrfError("the form is missing its security token or it has expired")


SESSION_USER_KEY = "user_id"
SESSION_STAMP_KEY = "stamp"


def start_session(request: Request, user_id: int, stamp: str) -> None:
    """Sign a user in: a fresh session (and CSRF token) so nothing from before carries over.

    ``stamp`` is ``users.session_stamp`` of the account: the cookie is honoured only
    while it still matches, so a sign-out or a password change ends it on the server.
    """
    request.session.clear()
    request.session[SESSION_USER_KEY] = user_id
    request.session[SESSION_STAMP_KEY] = stamp
    request.session[CSRF_SESSION_KEY] = secrets.token_urlsafe(32)


def end_session(request: Request) -> None:
    """Forget everything the cookie held (the server side is ``users.end_sessions``)."""
    request.session.clear()


def client_address(request: Request) -> str | None:
    """The client's address as the server saw it (uvicorn reads X-Forwarded-For only from trusted proxies)."""
    return request.client.host if request.client else None
