"""A validated launch's claims applied to the grader: the account, the course, the membership, the assignment.

Nothing is trusted to match by e-mail: an LMS user is the issuer and subject of their
launches (``LtiIdentity``), and an e-mail another account already holds is not taken
over. The caller commits, after the launch's state and nonce were used up in the same
transaction, or rolls everything back.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

from sqlmodel import Session, col, false, or_, select

from grader.models import (
    Assignment,
    Course,
    CourseRole,
    Exercise,
    LtiContext,
    LtiIdentity,
    LtiPlatform,
    LtiResourceLink,
    Quiz,
    User,
)
from grader.services import courses
from grader.services.errors import InvalidInput, LaunchRefused
from grader.services.lti import platforms

CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"
ROLES_CLAIM = CLAIM + "roles"
CONTEXT_CLAIM = CLAIM + "context"
RESOURCE_LINK_CLAIM = CLAIM + "resource_link"
DEPLOYMENT_CLAIM = CLAIM + "deployment_id"
MESSAGE_TYPE_CLAIM = CLAIM + "message_type"
CUSTOM_CLAIM = CLAIM + "custom"
TARGET_LINK_CLAIM = CLAIM + "target_link_uri"
AGS_CLAIM = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
NRPS_CLAIM = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"

LIS = "http://purl.imsglobal.org/vocab/lis/v2/"
# LIS role URIs → course role, first match wins: a course (membership) role before an
# institution or system one, and the teaching assistant sub-role before its principal
# role (Instructor), which platforms send beside it.
ROLE_RULES: tuple[tuple[str, CourseRole], ...] = (
    (LIS + "membership#Administrator", "instructor"),
    (LIS + "membership/Instructor#TeachingAssistant", "ta"),
    (LIS + "membership#Instructor", "instructor"),
    (LIS + "membership#Learner", "learner"),
    (LIS + "institution/person#Administrator", "instructor"),
    (LIS + "system/person#Administrator", "instructor"),
    # The simple names LTI 1.3 still allows (deprecated) for context roles.
    ("Administrator", "instructor"),
    ("TeachingAssistant", "ta"),
    ("Instructor", "instructor"),
    ("Learner", "learner"),
)
# An account made by a launch has no password: it signs in through its LMS only.
NO_PASSWORD = "!lti"


@dataclass(frozen=True)
class Launched:
    """What a launch came to.

    user_id: the account signed in. course_id/role: the course and the user's role in it.
    assignment_id: the assignment the link opens, None for a link to the course itself.
    deep_linking: the launch asks the instructor to pick an assignment to place in the LMS.
    """

    user_id: int
    course_id: int
    role: CourseRole
    assignment_id: int | None
    deep_linking: bool
    platform_id: int


def course_role(roles: list[str]) -> CourseRole:
    """The course role that the LIS roles of a launch give (``learner`` when none is known)."""
    for uri, role in ROLE_RULES:
        if uri in roles:
            return role
    return "learner"


def apply(*, session: Session, body: dict[str, Any]) -> Launched:
    """Link the launch's user, context and resource link to an account, a course and an assignment."""
    issuer, client_id = str(body["iss"]), _client_id(body)
    platform = platforms.find(session=session, issuer=issuer, client_id=client_id)
    if platform is None:
        raise LaunchRefused("The LMS that sent this launch is not registered.")
    context_claim = body.get(CONTEXT_CLAIM) or {}
    if not context_claim.get("id"):
        raise LaunchRefused("The launch names no course (its context claim is missing).")
    role = course_role(list(body.get(ROLES_CLAIM) or []))
    user = link_account(session=session, issuer=issuer, claims=body)
    context = _context(
        session, platform=platform, deployment_id=str(body[DEPLOYMENT_CLAIM]), claim=context_claim, body=body
    )
    courses.add_member(session=session, course_id=context.course_id, user_id=user.id, role=role)
    deep_linking = body.get(MESSAGE_TYPE_CLAIM) == "LtiDeepLinkingRequest"
    assignment_id = None if deep_linking else _assignment(session, context=context, body=body)
    session.flush()
    return Launched(
        user_id=user.id,
        course_id=context.course_id,
        role=role,
        assignment_id=assignment_id,
        deep_linking=deep_linking,
        platform_id=platform.id,
    )


def landing_path(*, session: Session, launched: Launched, launch_id: str) -> str:
    """Where a launch lands: the picker of a deep-linking request; for staff, the course's results;
    for learners, the assignment (its exercise, else its quiz), or their start page without one.
    """
    if launched.deep_linking:
        return f"/lti/deep-link/{launch_id}"
    if launched.role != "learner":
        return f"/courses/{launched.course_id}/dashboard"
    assignment = session.get(Assignment, launched.assignment_id) if launched.assignment_id else None
    if assignment is not None and assignment.exercise_id is not None:
        exercise = session.get(Exercise, assignment.exercise_id)
        if exercise is not None:
            return f"/exercises/{exercise.slug}"
    if assignment is not None and assignment.quiz_id is not None:
        quiz = session.get(Quiz, assignment.quiz_id)
        if quiz is not None:
            return f"/quizzes/{quiz.slug}"
    return "/"


def _client_id(body: dict[str, Any]) -> str:
    audience = body.get("aud")
    if isinstance(audience, list):
        return str(body.get("azp") or (audience[0] if audience else ""))
    return str(audience or "")


def link_account(*, session: Session, issuer: str, claims: dict[str, Any]) -> User:
    """The account of an LMS user (``sub``, ``name``, ``email`` claims), created on first sight."""
    subject = str(claims.get("sub") or "")
    if not subject:
        raise LaunchRefused("The launch names no user (anonymous launches are not supported).")
    identity = session.get(LtiIdentity, (issuer, subject))
    if identity is not None:
        # The identity goes with its account (ON DELETE CASCADE): the account exists.
        user = session.get(User, identity.user_id)
        assert user is not None
        _refresh_name(user, claims)
        return user
    user = User(
        email=_email(session, issuer=issuer, subject=subject, claimed=str(claims.get("email") or "")),
        display_name=_display_name(claims, subject),
        role="learner",
        password_hash=f"{NO_PASSWORD}{secrets.token_hex(8)}",
    )
    session.add(user)
    session.flush()
    session.add(LtiIdentity(issuer=issuer, subject=subject, user_id=user.id))
    return user


def _display_name(body: dict[str, Any], subject: str) -> str:
    name = str(body.get("name") or " ".join(str(body.get(part) or "") for part in ("given_name", "family_name")))
    return (name.strip() or f"LMS user {subject}")[:120]


def _refresh_name(user: User, body: dict[str, Any]) -> None:
    name = _display_name(body, "")
    if name and not name.startswith("LMS user") and name != user.display_name:
        user.display_name = name


def _email(session: Session, *, issuer: str, subject: str, claimed: str) -> str:
    claimed = claimed.strip().lower()
    if claimed and "@" in claimed and len(claimed) <= 254:
        taken = session.exec(select(User.id).where(User.email == claimed)).first()
        if taken is None:
            return claimed
    # No e-mail, or one another account holds: an address of the LMS's own that reaches no one.
    digest = hashlib.sha256(f"{issuer}\n{subject}".encode()).hexdigest()[:20]
    host = urlsplit(issuer).hostname or "lms"
    return f"lti-{digest}@{host}.invalid"


def _context(
    session: Session, *, platform: LtiPlatform, deployment_id: str, claim: dict[str, Any], body: dict[str, Any]
) -> LtiContext:
    context = session.exec(
        select(LtiContext).where(
            LtiContext.issuer == platform.issuer,
            LtiContext.deployment_id == deployment_id,
            LtiContext.context_id == str(claim["id"]),
        )
    ).first()
    title = str(claim.get("title") or claim.get("label") or f"Course {claim['id']}")[:500]
    if context is None:
        # An LMS course's members come from the LMS: the course has no join code of its own.
        course = Course(title=title[:200], join_code="")
        session.add(course)
        session.flush()
        context = LtiContext(
            platform_id=platform.id,
            issuer=platform.issuer,
            deployment_id=deployment_id,
            context_id=str(claim["id"]),
            course_id=course.id,
            title=title,
        )
    context.platform_id = platform.id
    context.title = title
    # The service URLs may change between launches; the latest one is the one to use.
    memberships = (body.get(NRPS_CLAIM) or {}).get("context_memberships_url")
    if memberships:
        context.memberships_url = str(memberships)
    ags = body.get(AGS_CLAIM) or {}
    if ags.get("lineitems"):
        context.lineitems_url = str(ags["lineitems"])
        context.ags_scopes = [str(scope) for scope in ags.get("scope") or []]
    session.add(context)
    session.flush()
    return context


def requested_assignment(body: dict[str, Any]) -> int | None:
    """The assignment a link asks for: its custom ``assignment_id`` (set by deep linking) or ``?assignment=`` in its target."""
    custom = body.get(CUSTOM_CLAIM) or {}
    candidates = [custom.get("assignment_id")]
    target = str(body.get(TARGET_LINK_CLAIM) or "")
    candidates += parse_qs(urlsplit(target).query).get("assignment", [])
    for candidate in candidates:
        if candidate is not None and str(candidate).isdigit():
            return int(candidate)
    return None


def _assignment(session: Session, *, context: LtiContext, body: dict[str, Any]) -> int | None:
    claim = body.get(RESOURCE_LINK_CLAIM) or {}
    link_id = str(claim.get("id") or "")
    if not link_id:
        return None
    link = session.exec(
        select(LtiResourceLink).where(
            LtiResourceLink.context_id == context.id, LtiResourceLink.resource_link_id == link_id
        )
    ).first()
    lineitem = str((body.get(AGS_CLAIM) or {}).get("lineitem") or "")
    if link is not None:
        if lineitem and link.lineitem_url != lineitem:
            link.lineitem_url = lineitem
            session.add(link)
        return link.assignment_id
    wanted = requested_assignment(body)
    if wanted is None:
        return None
    assignment = assignment_in_course(session, assignment_id=wanted, course_id=context.course_id)
    if assignment is None:
        return None
    session.add(
        LtiResourceLink(
            context_id=context.id, resource_link_id=link_id, assignment_id=assignment.id, lineitem_url=lineitem
        )
    )
    return assignment.id


def assignment_in_course(session: Session, *, assignment_id: int, course_id: int) -> Assignment | None:
    """The assignment if it is the course's; for another course's, the course's own copy (made on first use)."""
    source = session.get(Assignment, assignment_id)
    if source is None:
        return None
    if source.course_id == course_id:
        return source
    # A link copied into another LMS course (or placed from the default course): the same
    # exercise or quiz, assigned in this course, with this course's own deadline settings.
    copy = session.exec(
        select(Assignment).where(
            Assignment.course_id == course_id,
            Assignment.exercise_id == source.exercise_id,
            Assignment.quiz_id == source.quiz_id,
        )
    ).first()
    if copy is not None:
        return copy
    exercise = session.get(Exercise, source.exercise_id) if source.exercise_id is not None else None
    quiz = session.get(Quiz, source.quiz_id) if source.quiz_id is not None else None
    # The course may already hold the exercise or the quiz, paired otherwise: a copy would place it twice.
    holder = session.exec(
        select(Assignment).where(
            Assignment.course_id == course_id,
            or_(
                col(Assignment.exercise_id) == source.exercise_id if exercise is not None else false(),
                col(Assignment.quiz_id) == source.quiz_id if quiz is not None else false(),
            ),
        )
    ).first()
    if holder is not None:
        raise LaunchRefused(
            f"This link was made for the assignment “{source.title}” of another course, and this course already "
            f"has its own assignment “{holder.title}” with part of that work. An instructor of the course can "
            "link the right assignment again from the LMS (edit the link and pick it in the grader's list)."
        )
    try:
        return courses.place(session=session, course_id=course_id, title=source.title, exercise=exercise, quiz=quiz)
    except InvalidInput as exc:  # another launch set the copy up at the same moment, and its work was rolled back
        raise LaunchRefused("The course's copy of this assignment was being set up by another launch.") from exc


def contexts_of_course(*, session: Session, course_id: int) -> list[LtiContext]:
    """The LMS courses mapped to a grader course."""
    return list(session.exec(select(LtiContext).where(LtiContext.course_id == course_id).order_by(col(LtiContext.id))))


def identity_exists(*, session: Session, issuer: str, subject: str) -> bool:
    """Whether the LMS user already has an account here."""
    return session.get(LtiIdentity, (issuer, subject)) is not None
