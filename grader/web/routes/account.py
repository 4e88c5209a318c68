"""The signed-in person's own account: change the password, API tokens, sign out everywhere."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session

from grader.config import Settings
from grader.models import User
from grader.services import tokens, users
from grader.services.errors import InvalidInput, Overloaded, RateLimited
from grader.web.deps import CurrentUser, RowId, SessionDep, SettingsDep
from grader.web.routes.auth import refusal_status
from grader.web.security import client_address, end_session, start_session, verify_csrf
from grader.web.templating import render

router = APIRouter(prefix="/account", dependencies=[Depends(verify_csrf)], include_in_schema=False)

NOTICES = {
    "password": "Your password was changed. Every other browser and every API token were signed out.",
    "revoked": "The token was revoked: it no longer works.",
}

# A new token's secret waits in the session for the one page that shows it, never in a URL.
NEW_TOKEN_KEY = "new_token"


def account_page(
    request: Request,
    *,
    session: Session,
    settings: Settings,
    user: User,
    error: str | None = None,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
    form: dict[str, str] | None = None,
) -> Response:
    """The account page; a token created just before is shown this once (and then forgotten)."""
    new_token = request.session.pop(NEW_TOKEN_KEY, None)
    if new_token is not None:
        # The secret must not stay in any cache, nor come back with the browser's back button.
        headers = {**(headers or {}), "Cache-Control": "no-store"}
    context: dict[str, Any] = {
        "account": user,
        "tokens": tokens.list_for_user(session=session, user=user),
        "policy": users.PASSWORD_POLICY,
        "min_password": users.MIN_PASSWORD_LENGTH,
        "token_hours": settings.api_token_seconds // 3600,
        "notice": NOTICES.get(request.query_params.get("done", "")),
        "error": error,
        "new_token": new_token,
        "token_name_length": tokens.MAX_NAME_LENGTH,
        "form": form or {},
    }
    return render(request, "account.html", context, status_code=status_code, headers=headers)


def _refused(
    request: Request,
    exc: InvalidInput | RateLimited | Overloaded,
    *,
    session: Session,
    settings: Settings,
    user: User,
    form: dict[str, str] | None = None,
) -> Response:
    """The account page again, opening on why a form was refused."""
    status_code, headers = refusal_status(exc)
    return account_page(
        request,
        session=session,
        settings=settings,
        user=user,
        error=exc.message,
        status_code=status_code,
        headers=headers,
        form=form,
    )


@router.get("", response_class=HTMLResponse)
def show_account(request: Request, user: CurrentUser, session: SessionDep, settings: SettingsDep) -> Response:
    """Password change, API tokens and sign-out everywhere."""
    return account_page(request, session=session, settings=settings, user=user)


@router.post("/password", response_class=HTMLResponse)
def change_password(
    request: Request,
    user: CurrentUser,
    session: SessionDep,
    settings: SettingsDep,
    current_password: Annotated[str, Form()] = "",
    new_password: Annotated[str, Form()] = "",
) -> Response:
    """Replace the password; every other session and every token ends, this browser stays signed in."""
    try:
        users.change_password(
            session=session,
            user=user,
            current=current_password,
            new=new_password,
            client_address=client_address(request),
            settings=settings,
        )
    except (InvalidInput, RateLimited, Overloaded) as exc:
        return _refused(request, exc, session=session, settings=settings, user=user)
    start_session(request, user.id, users.session_stamp(user))
    return RedirectResponse("/account?done=password", status_code=303)


@router.post("/tokens", response_class=HTMLResponse)
def create_token(
    request: Request, user: CurrentUser, session: SessionDep, settings: SettingsDep, name: Annotated[str, Form()] = ""
) -> Response:
    """A new API token with the name given; the page it leads to shows its secret once."""
    try:
        label = tokens.token_name(name)
    except InvalidInput as exc:
        return _refused(request, exc, session=session, settings=settings, user=user, form={"name": name})
    issued = tokens.issue(session=session, user=user, label=label, settings=settings)
    request.session[NEW_TOKEN_KEY] = {"secret": issued.secret, "name": label}
    return RedirectResponse("/account#new-token-heading", status_code=303)


@router.post("/tokens/{token_id}/revoke")
def revoke_token(token_id: RowId, user: CurrentUser, session: SessionDep) -> Response:
    """Revoke one token (404 if it is not one of the user's)."""
    tokens.revoke(session=session, user=user, token_id=token_id)
    return RedirectResponse("/account?done=revoked", status_code=303)


@router.post("/sign-out-everywhere")
def sign_out_everywhere(request: Request, user: CurrentUser, session: SessionDep) -> Response:
    """End every session (this one too) and revoke every API token."""
    users.sign_out_everywhere(session=session, user=user)
    end_session(request)
    return RedirectResponse("/login", status_code=303)
