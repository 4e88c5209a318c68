"""Dependencies shared by the routes: the database session, who is asking, and what they may see.

Pages know the user from the signed session cookie; the API from a bearer token.
Existence and ownership checks live here (``valid_exercise``, ``valid_submission``
...) so that a route receives only things the caller may see, and another
learner's submission is simply "not found". A course's pages take the course from
the path and the caller's role in it (``CourseStaff``, ``CourseInstructor``): a
course the caller is not a member of is "not found", whatever their account's role.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Annotated

import anyio.to_thread
from fastapi import Depends, Path, Query, Request
from fastapi.security import OAuth2PasswordBearer
from sqlmodel import Session

from grader.config import Settings
from grader.models import MAX_ROW_ID, STAFF_ROLES, Course, CourseRole, Exercise, Submission, User
from grader.services import courses, submissions, tokens, users
from grader.services.errors import NotFound, PermissionDenied, ServiceError
from grader.web.errors import LoginRequired
from grader.web.events import Access, StreamSlots
from grader.web.security import SESSION_STAMP_KEY, SESSION_USER_KEY


def get_db(request: Request) -> Iterator[Session]:
    """A database session for one request; routes commit through the services."""
    with Session(request.app.state.engine) as session:
        yield session


def get_app_settings(request: Request) -> Settings:
    """The settings the application was built with."""
    settings: Settings = request.app.state.settings
    return settings


SessionDep = Annotated[Session, Depends(get_db)]

# An id in a path: a number outside what an id column holds is answered 404 like any
# unknown id (see ``errors.install_error_handlers``), never passed to the database.
RowId = Annotated[int, Path(ge=1, le=MAX_ROW_ID)]
SettingsDep = Annotated[Settings, Depends(get_app_settings)]
RowIdQuery = Annotated[int | None, Query(ge=1, le=MAX_ROW_ID, description="A course's id.")]


# --- pages: the session cookie ---------------------------------------------------------


def optional_user(request: Request, session: SessionDep) -> User | None:
    """The signed-in user, or None; also made available to templates."""
    user_id = request.session.get(SESSION_USER_KEY)
    if not isinstance(user_id, int):
        return None
    try:
        user = users.get(session=session, user_id=user_id)
    except NotFound:
        user = None
    if user is None or request.session.get(SESSION_STAMP_KEY) != users.session_stamp(user):
        # The account is gone, or it signed out or changed its password since: forget the cookie.
        request.session.clear()
        return None
    request.state.user = user
    return user


OptionalUser = Annotated[User | None, Depends(optional_user)]


def current_user(user: OptionalUser) -> User:
    """The signed-in user; anyone else is sent to the sign-in page."""
    if user is None:
        raise LoginRequired()
    return user


CurrentUser = Annotated[User, Depends(current_user)]


def _only_instructors(user: User, refusal: str) -> User:
    if user.role != "instructor":
        raise PermissionDenied(refusal)
    return user


def require_instructor(user: CurrentUser) -> User:
    """The signed-in user if an instructor, else 403."""
    return _only_instructors(user, "Only instructors can open this page.")


Instructor = Annotated[User, Depends(require_instructor)]


def account_manager(user: CurrentUser, session: SessionDep) -> User:
    """The signed-in user if ``users.may_manage_accounts``; else 403."""
    if not users.may_manage_accounts(user, courses.staff_roles(session=session, user_id=user.id).values()):
        raise PermissionDenied("Only a course's instructors manage accounts.")
    return user


AccountManager = Annotated[User, Depends(account_manager)]


# --- a course in the path, and the caller's role there ------------------------------------


@dataclass(frozen=True)
class CourseAccess:
    """The course a page is about, who asks, and their role in it."""

    course: Course
    user: User
    role: CourseRole

    @property
    def is_instructor(self) -> bool:
        """Whether the caller may change the course's settings and manage its learners' accounts."""
        return self.role == "instructor"


def _course_access(session: Session, user: User, course_id: int, roles: tuple[CourseRole, ...]) -> CourseAccess:
    role = courses.require_role(session=session, user=user, course_id=course_id, roles=roles)
    return CourseAccess(course=courses.get(session=session, course_id=course_id), user=user, role=role)


STAFF: tuple[CourseRole, ...] = tuple(sorted(STAFF_ROLES))


def taught_course_id(session: Session, user: User) -> int:
    """The oldest course the user teaches; 403 for someone who teaches none and is no instructor, else 404."""
    try:
        return courses.first_taught(session=session, user=user).id
    except NotFound:
        if user.role != "instructor":
            raise PermissionDenied("Only a course's instructors and TAs can open this.") from None
        raise


def course_staff(course_id: RowId, user: CurrentUser, session: SessionDep) -> CourseAccess:
    """The course in the path if the signed-in user teaches it (TA or instructor); 404 for others, 403 for learners."""
    return _course_access(session, user, course_id, STAFF)


def course_instructor(course_id: RowId, user: CurrentUser, session: SessionDep) -> CourseAccess:
    """The course in the path if the signed-in user is its instructor; 404 for non-members, 403 for TAs and learners."""
    return _course_access(session, user, course_id, ("instructor",))


CourseStaff = Annotated[CourseAccess, Depends(course_staff)]
CourseInstructor = Annotated[CourseAccess, Depends(course_instructor)]


def course_staff_grant(course_id: int) -> Grant:
    """A stream's grant: the user still teaches the course."""

    def grant(session: Session, user: User) -> object:
        return courses.require_role(session=session, user=user, course_id=course_id, roles=STAFF)

    return grant


# --- API: bearer tokens ---------------------------------------------------------------

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/token", auto_error=False)


def api_user(
    request: Request,
    token: Annotated[str | None, Depends(oauth2_scheme)],
    session: SessionDep,
) -> User:
    """The user a live bearer token belongs to; 401 otherwise. The token's id is kept in ``request.state``."""
    if not token:
        raise LoginRequired()
    user, row = tokens.authenticate(session=session, token=token)
    request.state.api_token_id = row.id
    return user


ApiUser = Annotated[User, Depends(api_user)]


def api_instructor(user: ApiUser) -> User:
    """The token's user if an instructor, else 403."""
    return _only_instructors(user, "Only instructors may use this endpoint.")


ApiInstructor = Annotated[User, Depends(api_instructor)]


def api_course_staff(user: ApiUser, session: SessionDep, course_id: RowIdQuery = None) -> CourseAccess:
    """The course of the query's ``course_id`` (the first the user teaches without one) if the token's user teaches it.

    404 for a course they are not a member of, 403 for a learner.
    """
    if course_id is None:
        course_id = taught_course_id(session, user)
    return _course_access(session, user, course_id, STAFF)


ApiCourseStaff = Annotated[CourseAccess, Depends(api_course_staff)]


# --- things the caller may see ----------------------------------------------------------


def valid_exercise(slug: str, session: SessionDep) -> Exercise:
    """The active exercise named in the path, or 404."""
    return submissions.get_exercise(session=session, slug=slug)


def valid_submission(submission_id: RowId, user: CurrentUser, session: SessionDep) -> Submission:
    """The submission in the path if the signed-in user wrote it or teaches; 404 otherwise."""
    return submissions.get_for_user(session=session, submission_id=submission_id, user=user)


def valid_api_submission(submission_id: RowId, user: ApiUser, session: SessionDep) -> Submission:
    """The submission in the path if the token's user wrote it or teaches; 404 otherwise."""
    return submissions.get_for_user(session=session, submission_id=submission_id, user=user)


# --- streams: who they serve, asked again while they run -----------------------------------

Grant = Callable[[Session, User], object]
"""Raises the domain error (``NotFound``, ``PermissionDenied``) when ``user`` may not see what a stream shows."""


async def page_stream_access(request: Request, grant: Grant, slots: StreamSlots) -> Access:
    """The signed-in user of a page's stream if ``grant`` lets them (else its error, or ``LoginRequired``).

    The ``Access`` returned asks the same again, on a session of its own each time: the cookie's
    account still exists, its session generation and password are those it was signed in with, and
    ``grant`` still holds (a role change or a removed account counts). An account that already holds
    its share of ``slots`` (the cookie is signed, so its user id is known before any read) is refused
    at once; the reads run on the streams' own threads.
    """
    engine = request.app.state.engine
    claimed = request.session.get(SESSION_USER_KEY)
    if isinstance(claimed, int):
        slots.check(user_id=claimed)

    def user_id() -> int:
        # A session of its own, closed before the stream starts: nothing stays open while it waits.
        with Session(engine) as session:
            user = optional_user(request, session)
            if user is None:
                raise LoginRequired()
            grant(session, user)
            return user.id

    def allowed() -> bool:
        try:
            user_id()
        except (LoginRequired, ServiceError):
            return False
        return True

    found = await anyio.to_thread.run_sync(user_id, limiter=slots.reads)
    return Access(user_id=found, allowed=allowed, every=request.app.state.settings.stream_recheck_seconds)


def api_stream_access(request: Request, user: User, grant: Grant) -> Access:
    """Who an API long poll serves: ``user``, while the bearer token it came with is in force and ``grant`` holds."""
    engine = request.app.state.engine
    token_id: int = request.state.api_token_id

    def allowed() -> bool:
        with Session(engine) as session:
            holder = tokens.user_of(session=session, token_id=token_id)
            if holder is None or holder.id != user.id:
                return False
            try:
                grant(session, holder)
            except ServiceError:
                return False
            return True

    return Access(user_id=user.id, allowed=allowed, every=request.app.state.settings.stream_recheck_seconds)


ValidExercise = Annotated[Exercise, Depends(valid_exercise)]
ValidSubmission = Annotated[Submission, Depends(valid_submission)]
ValidApiSubmission = Annotated[Submission, Depends(valid_api_submission)]
