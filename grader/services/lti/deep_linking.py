"""Deep Linking: an instructor launching from the LMS's "add content" picks an assignment, and the tool
answers with a signed LtiDeepLinkingResponse holding one LtiResourceLink to it.

The link carries the assignment id as a custom parameter (its launches open that assignment) and
a line item whose ``resourceId`` is the assignment id (the one the grade service looks for before
it creates a column), out of the assignment's maximum (its exercise's and its quiz's).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from pylti1p3.deep_link import DeepLink, TDeepLinkData
from pylti1p3.deep_link_resource import DeepLinkResource
from pylti1p3.lineitem import LineItem
from sqlmodel import Session, col, select

from grader.models import Assignment, CourseMember, LtiContext, User
from grader.services.errors import NotFound, PermissionDenied
from grader.services.lti import grades, keys, launches, platforms, store

SETTINGS_CLAIM = "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"


@dataclass(frozen=True)
class Answer:
    """The signed deep-linking response and where the browser posts it (field ``JWT``)."""

    return_url: str
    jwt: str
    title: str


@dataclass(frozen=True)
class Request:
    """A deep-linking request being answered: its claims and the course it came from."""

    body: dict[str, Any]
    context: LtiContext


def pending(*, session: Session, launch_id: str, user: User) -> Request:
    """The deep-linking launch ``launch_id``, if ``user`` made it and teaches in its course."""
    body = store.get_launch(session=session, launch_id=launch_id)
    if body is None or SETTINGS_CLAIM not in body:
        raise NotFound("This request to add content has expired. Start it again from your course.")
    context = session.exec(
        select(LtiContext).where(
            LtiContext.issuer == body.get("iss"),
            LtiContext.deployment_id == body.get(launches.DEPLOYMENT_CLAIM),
            LtiContext.context_id == str((body.get(launches.CONTEXT_CLAIM) or {}).get("id")),
        )
    ).first()
    member = session.get(CourseMember, (context.course_id, user.id)) if context is not None else None
    if context is None or member is None or member.role == "learner":
        raise PermissionDenied("Only the course's instructors and teaching assistants can add assignments to it.")
    return Request(body=body, context=context)


def choices(*, session: Session, request: Request) -> list[Assignment]:
    """The assignments that may be placed: the course's own, then those of other courses it may copy."""
    rows = list(session.exec(select(Assignment).order_by(col(Assignment.position), col(Assignment.id))))
    own = [row for row in rows if row.course_id == request.context.course_id]
    seen = {(row.exercise_id, row.quiz_id) for row in own}
    others: list[Assignment] = []
    for row in rows:
        if row.course_id != request.context.course_id and (row.exercise_id, row.quiz_id) not in seen:
            seen.add((row.exercise_id, row.quiz_id))
            others.append(row)
    return own + others


def answer(*, session: Session, request: Request, assignment_id: int, launch_url: str, secret: str) -> Answer:
    """The signed response placing the assignment (copied into the course first when it is another course's)."""
    assignment = launches.assignment_in_course(
        session, assignment_id=assignment_id, course_id=request.context.course_id
    )
    if assignment is None:
        raise NotFound("No such assignment.")
    session.commit()
    platform = platforms.get(session=session, platform_id=request.context.platform_id)
    registration = platforms.library_registration(platform, keys.signing_key(session=session, secret=secret))
    settings = cast(TDeepLinkData, request.body[SETTINGS_CLAIM])
    resource = (
        DeepLinkResource()
        .set_url(launch_url)
        .set_title(assignment.title)
        .set_custom_params({"assignment_id": str(assignment.id)})
    )
    resource.set_lineitem(
        LineItem()
        .set_label(assignment.title)
        .set_score_maximum(grades.maximum(session=session, assignment=assignment))
        .set_resource_id(str(assignment.id))
    )
    link = DeepLink(registration, str(request.body[launches.DEPLOYMENT_CLAIM]), settings)
    return Answer(
        return_url=settings["deep_link_return_url"], jwt=link.get_response_jwt([resource]), title=assignment.title
    )
