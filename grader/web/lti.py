"""The LTI library (pylti1p3) on Starlette: its request, cookie service, session service, redirect,
OIDC login and message launch, with the launch's state kept in the database.

The library ships Django and Flask adapters only. Ours differs from them in where a launch's
state lives: the OIDC login stores the state with the nonce it issued (``services/lti/store``),
and the launch must bring back that state, unexpired and unused, with that nonce in its token.
The state cookie is then only a second check: when the browser refused it (third-party cookies
blocked inside the LMS's frame), the launch is still proven, and it continues in a new window
with a one-time code instead of a session cookie the frame could not keep.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pylti1p3.cookie import CookieService
from pylti1p3.exception import LtiException, LtiKeyException, OIDCException
from pylti1p3.message_launch import MessageLaunch
from pylti1p3.oidc_login import OIDCLogin
from pylti1p3.redirect import Redirect
from pylti1p3.registration import TKeySet
from pylti1p3.request import Request
from pylti1p3.session import SessionService, TJwtBody, TStateParams
from sqlmodel import Session
from starlette.responses import RedirectResponse, Response

from grader.services.errors import LaunchRefused
from grader.services.lti import keys, store
from grader.services.lti.connector import CachingServiceConnector
from grader.services.lti.platforms import DatabaseToolConfig

COOKIE_PREFIX = "lti1p3"


class StarletteLtiRequest(Request):
    """One request's parameters (query or form) and cookies, read before the library sees them."""

    def __init__(self, *, params: Mapping[str, str], cookies: Mapping[str, str], secure: bool) -> None:
        self.params = dict(params)
        self.cookies = dict(cookies)
        self.secure = secure

    @property
    def session(self) -> Any:
        raise NotImplementedError("launch state is kept in the database, not in a session")

    def is_secure(self) -> bool:
        return self.secure

    def get_param(self, key: str) -> str:
        return self.params.get(key)  # type: ignore[return-value]  # the library checks for None

    def get_cookie(self, key: str) -> str | None:
        return self.cookies.get(key)


class StarletteCookieService(CookieService):
    """The library's cookies, set on the response as ``SameSite=None; Secure; Partitioned`` (they live in a frame)."""

    def __init__(self, request: StarletteLtiRequest) -> None:
        self.request = request
        self.to_set: dict[str, tuple[str, int | None]] = {}

    def _key(self, name: str) -> str:
        return f"{COOKIE_PREFIX}-{name}"

    def get_cookie(self, name: str) -> str | None:
        return self.request.get_cookie(self._key(name))

    def set_cookie(self, name: str, value: str | int, exp: int | None = 3600) -> None:
        self.to_set[self._key(name)] = (str(value), exp)

    def update_response(self, response: Response) -> None:
        """Write the cookies the library set onto ``response``."""
        for key, (value, max_age) in self.to_set.items():
            # Written by hand: Starlette's set_cookie knows Partitioned only on Python 3.14.
            lifetime = f"; Max-Age={max_age}" if max_age is not None else ""
            response.headers.append(
                "set-cookie", f"{key}={value}{lifetime}; Path=/lti/; HttpOnly; Secure; SameSite=None; Partitioned"
            )


class DatabaseSessionService(SessionService):
    """The library's session service on ``services/lti/store``: a state is stored with the nonce issued with it."""

    def __init__(self, session: Session) -> None:
        # The library's own __init__ binds a cookie-session storage; nothing here uses one.
        self.db = session
        self.nonce: str | None = None

    def save_nonce(self, nonce: str) -> None:
        # The login saves the nonce, then the state: the two are stored as one row.
        self.nonce = nonce

    def check_nonce(self, nonce: str) -> bool:
        raise NotImplementedError("StarletteMessageLaunch.validate_nonce checks the nonce against its state")

    def save_state_params(self, state: str, params: TStateParams) -> None:
        if self.nonce is None:
            raise OIDCException("the nonce must be issued before the state")
        store.save_state(session=self.db, state=state, nonce=self.nonce, params=dict(params))

    def get_state_params(self, state: str) -> TStateParams:
        raise NotImplementedError("a state is read once, by the launch")

    def set_state_valid(self, state: str, id_token_hash: str) -> None:
        # The library's way to let a launch be posted again without its cookie; ours is the one-time code.
        return None

    def check_state_is_valid(self, state: str, id_token_hash: str) -> bool:
        return False

    def save_launch_data(self, key: str, jwt_body: TJwtBody) -> None:
        store.save_launch(session=self.db, launch_id=key, body=dict(jwt_body))

    def get_launch_data(self, key: str) -> TJwtBody:
        return store.get_launch(session=self.db, launch_id=key) or {}


class StarletteRedirect(Redirect[Response]):
    """A redirect response carrying the cookies the library set."""

    def __init__(self, location: str, cookies: StarletteCookieService) -> None:
        self.location = location
        self.cookies = cookies

    def do_redirect(self) -> Response:
        response = RedirectResponse(self.location, status_code=302)
        self.cookies.update_response(response)
        return response

    def do_js_redirect(self) -> Response:
        # Our pages run no inline script (Content-Security-Policy); a plain redirect does the same.
        return self.do_redirect()

    def set_redirect_url(self, location: str) -> None:
        self.location = location

    def get_redirect_url(self) -> str:
        return self.location


class StarletteOidcLogin(
    OIDCLogin[StarletteLtiRequest, DatabaseToolConfig, DatabaseSessionService, StarletteCookieService, Response]
):
    """The OIDC third-party-initiated login: checks the registration, stores state and nonce, redirects to the LMS."""

    def get_redirect(self, url: str) -> Redirect[Response]:
        return StarletteRedirect(url, self._cookie_service)


# The LMSs' key sets, by URL, until they are this old: a launch then costs no request to the LMS.
KEY_SET_KEPT_SECONDS = 300
_key_sets: dict[str, tuple[float, TKeySet]] = {}
_key_sets_lock = threading.Lock()


class StarletteMessageLaunch(
    MessageLaunch[StarletteLtiRequest, DatabaseToolConfig, DatabaseSessionService, StarletteCookieService]
):
    """A launch checked against the state stored at its login; ``cookie_missing`` tells the browser refused the state cookie."""

    cookie_missing = False
    _state_nonce: str | None = None

    def _get_request_param(self, key: str) -> str:
        return self._request.get_param(key)

    def fetch_public_key(self, key_set_url: str) -> TKeySet:
        with _key_sets_lock:
            kept = _key_sets.get(key_set_url)
        if kept is not None and kept[0] > time.monotonic():
            return kept[1]
        key_set = super().fetch_public_key(key_set_url)
        with _key_sets_lock:
            _key_sets[key_set_url] = (time.monotonic() + KEY_SET_KEPT_SECONDS, key_set)
        return key_set

    def get_public_key(self) -> tuple[str, str]:
        try:
            return super().get_public_key()
        except LtiKeyException:
            # A key id not in the kept set: the LMS may have rotated its keys. Ask it once more.
            assert self._registration is not None
            with _key_sets_lock:
                _key_sets.pop(self._registration.get_key_set_url() or "", None)
            self._registration.set_key_set(None)
            return super().get_public_key()

    def validate_state(self) -> StarletteMessageLaunch:
        state = self._get_request_param("state")
        if not state:
            raise LaunchRefused("The launch carries no state.")
        stored = store.take_state(session=self._session_service.db, state=state)
        if stored is None:
            raise LaunchRefused("This launch has expired or was already used.")
        cookie = self._cookie_service.get_cookie(state)
        if cookie is None:
            self.cookie_missing = True
        elif cookie != state:
            raise LaunchRefused("This launch was started in another browser.")
        self._state_nonce = str(stored["nonce"])
        return self

    def validate_nonce(self) -> StarletteMessageLaunch:
        body = self._get_jwt_body()
        nonce = body.get("nonce")
        if not nonce or nonce != self._state_nonce:
            raise LaunchRefused("The launch's nonce is not the one issued for it.")
        if not store.use_nonce(session=self._session_service.db, issuer=str(body.get("iss", "")), nonce=nonce):
            raise LaunchRefused("This launch was already used (its nonce was seen before).")
        return self


@dataclass(frozen=True)
class ValidLaunch:
    """A launch whose token checked out.

    body: the token's claims. launch_id: where they are kept for the requests that follow.
    cookie_missing: the browser refused the state cookie (it runs in a frame that may keep none).
    """

    body: dict[str, Any]
    launch_id: str
    cookie_missing: bool


def _adapters(
    session: Session, secret: str, params: Mapping[str, str], cookies: Mapping[str, str], secure: bool
) -> tuple[StarletteLtiRequest, DatabaseToolConfig, DatabaseSessionService, StarletteCookieService]:
    # A key created now is committed before the launch's own transaction begins.
    keys.signing_key(session=session, secret=secret)
    request = StarletteLtiRequest(params=params, cookies=cookies, secure=secure)
    return (
        request,
        DatabaseToolConfig(session=session, secret=secret),
        DatabaseSessionService(session),
        StarletteCookieService(request),
    )


def login_redirect(
    *,
    session: Session,
    secret: str,
    params: Mapping[str, str],
    cookies: Mapping[str, str],
    secure: bool,
    launch_url: str,
) -> Response:
    """The redirect of an OIDC login to the LMS's authorization endpoint, the state stored (and committed)."""
    request, config, sessions, cookie_service = _adapters(session, secret, params, cookies, secure)
    login = StarletteOidcLogin(request, config, session_service=sessions, cookie_service=cookie_service)
    try:
        # The LMS answers at our one launch URL whatever target the login named; the state
        # is stored (with its nonce) only when the login passes parameters to the launch.
        response: Response = login.pass_params_to_launch({"launch_url": launch_url}).redirect(launch_url)
    except (OIDCException, LtiException) as exc:
        session.rollback()
        raise LaunchRefused(f"The sign-in from your course could not start: {exc}") from exc
    session.commit()
    return response


def validate_launch(
    *, session: Session, secret: str, params: Mapping[str, str], cookies: Mapping[str, str], secure: bool
) -> ValidLaunch:
    """Check a launch (state, nonce, registration, signature, deployment, message); nothing is committed.

    The state and nonce it uses up are in the session's transaction: the caller commits
    them with what the launch creates, or rolls everything back when it refuses.
    """
    request, config, sessions, cookie_service = _adapters(session, secret, params, cookies, secure)
    launch = StarletteMessageLaunch(
        request,
        config,
        session_service=sessions,
        cookie_service=cookie_service,
        service_connector_cls=CachingServiceConnector,
    )
    try:
        launch.validate()
    except LaunchRefused:
        session.rollback()
        raise
    except (LtiException, OIDCException) as exc:
        session.rollback()
        raise LaunchRefused(str(exc)) from exc
    return ValidLaunch(
        body=dict(launch.get_launch_data()), launch_id=launch.get_launch_id(), cookie_missing=launch.cookie_missing
    )
