"""LTI 1.3: the OIDC login, the launch, its continuation in a new window, the tool's public keys.

The LMS posts to these paths from another site, so they carry no CSRF token of ours: the
launch is proven by the state and nonce stored at its login and by the LMS's signature.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from grader.models import STAFF_ROLES
from grader.services import courses, users
from grader.services.errors import LaunchRefused
from grader.services.lti import deep_linking, keys, launches, overview, platforms, store, tool_urls
from grader.web import lti as adapter
from grader.web.deps import CurrentUser, Instructor, RowId, SessionDep, SettingsDep
from grader.web.security import SESSION_FRAME_ORIGINS_KEY, framed_policy, start_session, verify_csrf
from grader.web.templating import render

router = APIRouter(prefix="/lti", include_in_schema=False)

LAUNCH_PATH = "/lti/launch"
STAFF = tuple(sorted(STAFF_ROLES))


def launch_url(request: Request) -> str:
    """The launch URL the LMS must send its answer to (the public URL's, never the Host header's)."""
    return str(request.url.replace(path=LAUNCH_PATH, query="", fragment=""))


async def lti_params(request: Request) -> dict[str, str]:
    """The LTI message's parameters: the form of a POST, the query of a GET."""
    if request.method == "POST":
        form = await request.form()
        return {name: value for name, value in form.items() if isinstance(value, str)}
    return dict(request.query_params)


# Read here, on the event loop; the routes are plain functions, so their database work and
# the LMS key fetches run on the thread pool, never blocking other requests.
LtiParams = Annotated[dict[str, str], Depends(lti_params)]


@router.get("/login")
@router.post("/login")
def login(request: Request, session: SessionDep, settings: SettingsDep, params: LtiParams) -> Response:
    """Start a launch: check the LMS is registered, store state and nonce, redirect to its authorization endpoint."""
    return adapter.login_redirect(
        session=session,
        secret=settings.secret_key,
        params=params,
        cookies=request.cookies,
        secure=request.url.scheme == "https",
        launch_url=launch_url(request),
    )


@router.post("/launch")
def launch(request: Request, session: SessionDep, settings: SettingsDep, params: LtiParams) -> Response:
    """Check the LMS's launch, link its user, course and link here, sign the user in and open the assignment."""
    origins = platforms.origins(session=session)
    try:
        valid = adapter.validate_launch(
            session=session,
            secret=settings.secret_key,
            params=params,
            cookies=request.cookies,
            secure=request.url.scheme == "https",
        )
        launched = launches.apply(session=session, body=valid.body)
    except LaunchRefused as exc:
        session.rollback()
        # Shown inside the LMS's frame, so the LMS may frame it.
        # The library's own messages end without a full stop.
        reason = exc.message.strip()
        reason += "" if reason.endswith((".", "!", "?")) else "."
        message = f"Your course's launch was refused: {reason} Open the link from your course again; if this keeps happening, tell your instructor."
        return render(
            request,
            "error.html",
            {"status_code": 400, "title": "Launch refused", "message": message},
            status_code=400,
            headers={"Content-Security-Policy": framed_policy(origins)},
        )
    target = launches.landing_path(session=session, launched=launched, launch_id=valid.launch_id)
    if valid.cookie_missing:
        code = store.issue_code(session=session, value={"user_id": launched.user_id, "target": target})
        session.commit()
        return render(
            request,
            "lti_new_window.html",
            {"continue_url": f"/lti/continue?code={code}"},
            headers={"Content-Security-Policy": framed_policy(origins)},
        )
    session.commit()
    _sign_in(request, session, launched.user_id, origins)
    return RedirectResponse(target, status_code=303, headers={"Content-Security-Policy": framed_policy(origins)})


@router.get("/continue")
def continue_launch(request: Request, session: SessionDep, code: str = "") -> Response:
    """Finish, in a window of its own, a launch whose frame could keep no cookie (one-time code)."""
    value = store.take_code(session=session, code=code) if code else None
    if value is None:
        raise LaunchRefused("This link was already used or has expired. Open the assignment from your course again.")
    session.commit()
    _sign_in(request, session, int(value["user_id"]), platforms.origins(session=session))
    return RedirectResponse(str(value["target"]), status_code=303)


def _sign_in(request: Request, session: SessionDep, user_id: int, origins: list[str]) -> None:
    user = users.get(session=session, user_id=user_id)
    start_session(request, user.id, users.session_stamp(user))
    request.session[SESSION_FRAME_ORIGINS_KEY] = origins


@router.get("/deep-link/{launch_id}")
def deep_link_page(launch_id: str, request: Request, session: SessionDep, user: CurrentUser) -> Response:
    """The instructor's choice of the assignment to place in the LMS course."""
    pending = deep_linking.pending(session=session, launch_id=launch_id, user=user)
    choices = deep_linking.choices(session=session, request=pending)
    return render(
        request,
        "lti_deep_link.html",
        {
            "launch_id": launch_id,
            "choices": choices,
            "course_id": pending.context.course_id,
            "course_title": pending.context.title,
        },
    )


@router.post("/deep-link/{launch_id}", dependencies=[Depends(verify_csrf)])
def deep_link_answer(
    launch_id: str,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: CurrentUser,
    assignment_id: Annotated[int, Form()],
) -> Response:
    """The signed answer to the LMS placing the chosen assignment, posted back by the instructor's browser."""
    pending = deep_linking.pending(session=session, launch_id=launch_id, user=user)
    answer = deep_linking.answer(
        session=session,
        request=pending,
        assignment_id=assignment_id,
        launch_url=launch_url(request),
        secret=settings.secret_key,
    )
    target = urlsplit(answer.return_url)
    policy = framed_policy(platforms.origins(session=session), form_targets=[f"{target.scheme}://{target.netloc}"])
    return render(request, "lti_deep_link_answer.html", {"answer": answer}, headers={"Content-Security-Policy": policy})


@router.get("/courses/{course_id}")
def linked_course(
    course_id: RowId, request: Request, session: SessionDep, user: CurrentUser, synced: int = 0
) -> Response:
    """An LMS-linked course for its staff: the LMS courses it maps, its roster, the scores sent to the LMS."""
    courses.require_role(session=session, user=user, course_id=course_id, roles=STAFF)
    context = {
        "course": courses.get(session=session, course_id=course_id),
        "linked": overview.linked_course(session=session, course_id=course_id),
        "synced": synced,
    }
    return render(request, "lti_course.html", context)


@router.post("/courses/{course_id}/roster", dependencies=[Depends(verify_csrf)])
def sync_roster(course_id: RowId, request: Request, session: SessionDep, user: CurrentUser) -> Response:
    """Read the roster of every LMS course mapped to this course (a job), then come back to the course page."""
    courses.require_role(session=session, user=user, course_id=course_id, roles=STAFF)
    linked = overview.linked_course(session=session, course_id=course_id)
    started = 0
    for context, _platform in linked.contexts:
        if context.memberships_url:
            request.app.state.enqueue_roster_sync(context.id)
            started += 1
    return RedirectResponse(f"/lti/courses/{course_id}?synced={started}", status_code=303)


@router.get("/registrations")
def registrations(request: Request, session: SessionDep, settings: SettingsDep, user: Instructor) -> Response:
    """The registered LMSs and the tool's URLs to paste into an LMS."""
    context = {
        "registrations": platforms.list_all(session=session),
        "tool_urls": tool_urls(settings.effective_public_url),
    }
    return render(request, "lti_registrations.html", context)


@router.get("/jwks")
def jwks(session: SessionDep, settings: SettingsDep) -> JSONResponse:
    """The tool's public keys (JWKS): the LMS checks the tool's signed messages with them."""
    keys.signing_key(session=session, secret=settings.secret_key)
    return JSONResponse(keys.published(session=session), headers={"Cache-Control": "public, max-age=300"})
