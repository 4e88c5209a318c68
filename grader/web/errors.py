"""One error handler for the whole service: an HTML page for browsers, JSON under ``/api/``.

What reaches it::

    starlette HTTPException        -> its own status (404 for unknown paths, 405, ...)
      RequestTooLarge              -> 413, raised while the body streams in
    RequestValidationError         -> 422 with the fields that were wrong; 404 when only the
                                      path is wrong (an id that no row can have)
    CsrfError                      -> 403, the form must be reloaded
    LoginRequired                  -> pages redirect to sign-in; the API answers 401
    StorageUnavailable             -> 507 (disk full) or 503 (database busy or down), Retry-After
    a database or OS error         -> the same, when ``services.storage.trouble`` recognises a full
                                      disk or a busy or unreachable database; else 500
    any other exception            -> 500, with the security headers (and no-store) added by hand
    services.errors.ServiceError   -> by subclass, see ``domain_error_statuses``

Services raise domain errors and never know about HTTP; this module is the only
place that turns them into status codes.
"""

from __future__ import annotations

import html
import logging
import sqlite3
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy import exc as sa_exc
from starlette.exceptions import HTTPException
from starlette.types import Scope

from grader.services import errors, storage
from grader.web.security import SECURITY_HEADERS, CsrfError
from grader.web.templating import render

API_PREFIX = "/api/"

log = logging.getLogger(__name__)

_TITLES = {
    400: "Bad request",
    401: "Sign-in needed",
    403: "Not allowed",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Too large",
    422: "Invalid input",
    429: "Too many requests",
    500: "Server error",
    503: "Busy",
    507: "Storage full",
}


class LoginRequired(Exception):
    """The route needs a signed-in user and there is none (or the token is invalid)."""


def wants_json(path: str) -> bool:
    """Whether errors on ``path`` are answered as JSON rather than as a page."""
    return path.startswith(API_PREFIX) or path == "/openapi.json"


def error_response(
    request: Request, status_code: int, message: str, *, headers: dict[str, str] | None = None
) -> Response:
    """The error as JSON ``{"detail": message}`` for the API, as a page otherwise."""
    if wants_json(request.url.path):
        return JSONResponse({"detail": message}, status_code=status_code, headers=headers)
    return render(
        request,
        "error.html",
        {"status_code": status_code, "title": _TITLES.get(status_code, "Error"), "message": message},
        status_code=status_code,
        headers=headers,
    )


def plain_error_response(
    path: str, status_code: int, message: str, *, headers: dict[str, str] | None = None
) -> Response:
    """An error answered without templates or session, for failures outside the normal flow."""
    if wants_json(path):
        return JSONResponse({"detail": message}, status_code=status_code, headers=headers)
    title = html.escape(_TITLES.get(status_code, "Error"))
    body = (
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{title}</title>"
        f"<link rel='stylesheet' href='/static/app.css'></head><body><main><h1>{title}</h1>"
        f"<p>{html.escape(message)}</p><p><a href='/'>Back to the start page</a></p></main></body></html>"
    )
    return Response(body, status_code=status_code, media_type="text/html; charset=utf-8", headers=headers)


def too_large_response(scope: Scope, limit: int) -> Response:
    """413 for a body refused before the app saw it."""
    message = f"The request is larger than the {limit:,}-byte limit. Go back and choose a smaller file."
    return plain_error_response(scope["path"], 413, message)


def _validation_message(exc: RequestValidationError) -> str:
    parts = []
    for error in exc.errors():
        location = ".".join(str(item) for item in error.get("loc", ()) if item not in ("body", "query", "path"))
        text = "is required" if error.get("type") == "missing" else error.get("msg", "is invalid")
        parts.append(f"{location or 'input'} {text}".strip())
    return "; ".join(parts) or "the request is invalid"


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers described in this module's docstring."""

    @app.exception_handler(HTTPException)
    async def _http_error(request: Request, exc: HTTPException) -> Response:
        return error_response(request, exc.status_code, str(exc.detail), headers=getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> Response:
        if exc.errors() and all(error.get("loc", ("",))[0] == "path" for error in exc.errors()):
            # /submissions/abc or an id too large for any row: the address names nothing.
            return error_response(request, 404, "There is nothing at this address.")
        if wants_json(request.url.path):
            detail: Any = [
                {"loc": list(error.get("loc", ())), "msg": error.get("msg"), "type": error.get("type")}
                for error in exc.errors()
            ]
            return JSONResponse({"detail": detail}, status_code=422)
        return error_response(request, 422, _validation_message(exc))

    @app.exception_handler(CsrfError)
    async def _csrf_error(request: Request, _exc: CsrfError) -> Response:
        return error_response(
            request,
            403,
            "This form has expired or did not come from this site. Go back, reload the page and try again.",
        )

    @app.exception_handler(LoginRequired)
    async def _login_required(request: Request, _exc: LoginRequired) -> Response:
        if wants_json(request.url.path):
            return JSONResponse(
                {"detail": "Not authenticated"}, status_code=401, headers={"WWW-Authenticate": "Bearer"}
            )
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)

    for error_class, status_code in domain_error_statuses().items():
        app.add_exception_handler(error_class, _domain_handler(status_code))

    async def _storage_error(request: Request, exc: Exception) -> Response:
        found = exc if isinstance(exc, errors.StorageUnavailable) else storage.trouble(exc)
        if found is None:
            log.error("unexpected error answering %s %s", request.method, request.url.path, exc_info=exc)
            return _server_error_response(request.url.path)
        log.warning("%s %s: %s", request.method, request.url.path, "disk full" if found.full else "database busy")
        # Without templates or session: rendering a page may itself need the disk or the database.
        return plain_error_response(
            request.url.path,
            507 if found.full else 503,
            found.message,
            headers={"Retry-After": str(found.retry_after), "Cache-Control": "no-store"},
        )

    for error_class in (errors.StorageUnavailable, sa_exc.DBAPIError, sa_exc.TimeoutError, sqlite3.Error, OSError):
        app.add_exception_handler(error_class, _storage_error)

    @app.exception_handler(Exception)
    async def _server_error(request: Request, _exc: Exception) -> Response:
        # Starlette answers this one outside every middleware, so the security
        # headers are added here; the exception is still logged by the server.
        return _server_error_response(request.url.path)


def _server_error_response(path: str) -> Response:
    message = "Something went wrong on our side. Nothing you did caused it; try again in a moment."
    headers = {**SECURITY_HEADERS, "Cache-Control": "no-store"}
    return plain_error_response(path, 500, message, headers=headers)


def _domain_handler(status_code: int) -> Callable[[Request, Exception], Awaitable[Response]]:
    async def handle(request: Request, exc: Exception) -> Response:
        headers = None
        if isinstance(exc, (errors.RateLimited, errors.Overloaded)):
            headers = {"Retry-After": str(max(1, exc.retry_after))}
        if isinstance(exc, errors.AuthenticationFailed) and wants_json(request.url.path):
            headers = {"WWW-Authenticate": "Bearer"}
        return error_response(request, status_code, str(exc), headers=headers)

    return handle


def domain_error_statuses() -> dict[type[Exception], int]:
    """Each domain error class the services raise, with the HTTP status it becomes.

    Starlette picks the handler of the closest class, so ``AlreadyExists`` (409)
    and ``TooLarge`` (413) win over their parent ``InvalidInput`` (422).
    """
    return {
        errors.NotFound: 404,
        errors.PermissionDenied: 403,
        errors.AuthenticationFailed: 401,
        errors.InvalidInput: 422,
        errors.AlreadyExists: 409,
        errors.TooLarge: 413,
        errors.RateLimited: 429,
        errors.Overloaded: 503,
        errors.AttemptLimitReached: 409,
        errors.NotOpen: 409,
        errors.ServiceError: 400,
    }
