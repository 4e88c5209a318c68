"""Sign in, sign up with the course's join code, sign out."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session

from grader.config import Settings
from grader.services import users
from grader.services.errors import AlreadyExists, AuthenticationFailed, InvalidInput, Overloaded, RateLimited
from grader.web.deps import OptionalUser, SessionDep, SettingsDep
from grader.web.security import client_address, end_session, start_session, verify_csrf
from grader.web.templating import render

router = APIRouter(dependencies=[Depends(verify_csrf)], include_in_schema=False)


def safe_next(target: str | None) -> str:
    """``target`` if it is a path on this site, else ``/`` (no open redirects)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, user: OptionalUser, next: str = "/") -> Response:
    """The sign-in form."""
    if user is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return render(request, "login.html", {"next_url": safe_next(next), "email": "", "error": None})


@router.post("/login", response_class=HTMLResponse)
def login(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    email: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    """Check the credentials (behind growing delays after failures) and start a session."""
    try:
        user = users.sign_in(
            session=session, email=email, password=password, client_address=client_address(request), settings=settings
        )
    except (AuthenticationFailed, RateLimited, Overloaded) as exc:
        context = {"next_url": safe_next(next), "email": email, "error": exc.message}
        status_code, headers = refusal_status(exc)
        return render(request, "login.html", context, status_code=status_code, headers=headers)
    start_session(request, user.id, users.session_stamp(user))
    return RedirectResponse(safe_next(next), status_code=303)


@router.get("/signup", response_class=HTMLResponse)
def signup_page(request: Request, user: OptionalUser, session: SessionDep, settings: SettingsDep) -> Response:
    """The sign-up form (closed when no course has a join code); ``?code=`` fills the code in."""
    if user is not None:
        return RedirectResponse("/", status_code=303)
    code = request.query_params.get("code", "")[:64]
    return render(request, "signup.html", _signup_context(session, settings, join_code=code))


@router.post("/signup", response_class=HTMLResponse)
def signup(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    email: Annotated[str, Form()] = "",
    display_name: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    join_code: Annotated[str, Form()] = "",
) -> Response:
    """Create a learner account and sign it in (refused guesses meet growing delays)."""
    data = {"email": email, "display_name": display_name.strip() or email.split("@")[0], "password": password}
    try:
        user = users.sign_up(
            session=session, data=data, join_code=join_code, settings=settings, client_address=client_address(request)
        )
    except (InvalidInput, RateLimited, Overloaded) as exc:
        context = _signup_context(session, settings, email=email, display_name=display_name, join_code=join_code)
        status_code, headers = refusal_status(exc)
        return render(
            request, "signup.html", {**context, "error": exc.message}, status_code=status_code, headers=headers
        )
    start_session(request, user.id, users.session_stamp(user))
    return RedirectResponse("/", status_code=303)


def refusal_status(exc: Exception) -> tuple[int, dict[str, str] | None]:
    """The status (and Retry-After) a refused sign-in or sign-up form is shown with."""
    if isinstance(exc, RateLimited | Overloaded):
        return (429 if isinstance(exc, RateLimited) else 503), {"Retry-After": str(max(1, exc.retry_after))}
    if isinstance(exc, AuthenticationFailed):
        return 401, None
    return (409 if isinstance(exc, AlreadyExists) else 422), None


def _signup_context(
    session: Session, settings: Settings, *, email: str = "", display_name: str = "", join_code: str = ""
) -> dict[str, Any]:
    return {
        "signup_open": users.sign_up_open(session=session, settings=settings),
        "email": email,
        "display_name": display_name,
        "join_code": join_code,
        "min_password": users.MIN_PASSWORD_LENGTH,
        "policy": users.PASSWORD_POLICY,
        "error": None,
    }


@router.post("/logout")
def logout(request: Request, user: OptionalUser, session: SessionDep) -> Response:
    """End the session, on the server too: a copy of the cookie stops working."""
    if user is not None:
        users.end_sessions(session=session, user=user)
    end_session(request)
    return RedirectResponse("/login", status_code=303)
