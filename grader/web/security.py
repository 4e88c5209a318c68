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
from starlette.middleware.sessions import SessionMiddleware
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


def framed_policy(origins: list[str], *, form_targets: list[str] | None = None) -> str:
    """The Content-Security-Policy of a page an LMS frames: ``frame-ancestors`` names its origins only.

    ``form_targets`` are origins a form of the page may post to besides this site (a deep-linking answer).
    """
    ancestors = " ".join(origins) or "'none'"
    directives = []
    for directive in CONTENT_SECURITY_POLICY.split("; "):
        if directive.startswith("frame-ancestors"):
            directive = f"frame-ancestors {ancestors}"
        elif directive.startswith("form-action") and form_targets:
            directive = f"form-action 'self' {' '.join(form_targets)}"
        directives.append(directive)
    return "; ".join(directives)


class SecurityHeadersMiddleware:
    """Adds ``SECURITY_HEADERS`` to every response, and keeps signed-in pages out of caches.

    A response that set its own Content-Security-Policy naming ``frame-ancestors`` (a page an
    LMS frames) gets no ``X-Frame-Options``, which would forbid what the policy allows.
    """

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
                framed = "frame-ancestors 'none'" not in headers.get(
                    "Content-Security-Policy", "frame-ancestors 'none'"
                )
                for name, value in SECURITY_HEADERS.items():
                    if not (framed and name == "X-Frame-Options"):
                        headers.setdefault(name, value)
                if not is_static:
                    headers.setdefault("Cache-Control", "no-store")
            await send(message)

        await self.app(scope, receive, send_with_headers)


LTI_SESSION_COOKIE = "grader_lti_session"
# Requests that start or continue an LMS launch: their session is the framed one.
LTI_SESSION_PATHS = frozenset({"/lti/launch", "/lti/continue"})
SESSION_FRAME_ORIGINS_KEY = "lti_origins"


class SessionCookies:
    """Starlette's signed session in one of two cookies: the site's own, or the one of a page an LMS frames.

    The site's cookie is ``SameSite=Lax``, which a browser does not send from inside another
    site's frame. A launch from an LMS (``LTI_SESSION_PATHS``), and every request that carries
    its cookie afterwards, uses the LTI cookie instead: ``SameSite=None; Secure; Partitioned``,
    kept by the browser per LMS site. Its responses may be framed by the LMS origins the launch
    stored in the session (``frame-ancestors``), and by no one else.
    """

    def __init__(self, app: ASGIApp, *, secret_key: str, session_cookie: str, max_age: int, https_only: bool) -> None:
        self.first_party = SessionMiddleware(
            app,
            secret_key=secret_key,
            session_cookie=session_cookie,
            max_age=max_age,
            same_site="lax",
            https_only=https_only,
        )
        self.framed = SessionMiddleware(
            app,
            secret_key=secret_key,
            session_cookie=LTI_SESSION_COOKIE,
            max_age=max_age,
            same_site="none",
            https_only=True,
            partitioned=True,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or not self._is_framed(scope):
            await self.first_party(scope, receive, send)
            return

        async def send_with_framing(message: Message) -> None:
            if message["type"] == "http.response.start":
                origins = scope.get("session", {}).get(SESSION_FRAME_ORIGINS_KEY)
                if isinstance(origins, list):
                    headers = MutableHeaders(scope=message)
                    headers.setdefault("Content-Security-Policy", framed_policy([str(o) for o in origins]))
            await send(message)

        await self.framed(scope, receive, send_with_framing)

    @staticmethod
    def _is_framed(scope: Scope) -> bool:
        if scope["path"] in LTI_SESSION_PATHS:
            return True
        cookie = dict(scope["headers"]).get(b"cookie", b"")
        return f"{LTI_SESSION_COOKIE}=".encode() in cookie


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
