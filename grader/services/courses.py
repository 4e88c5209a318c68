"""Courses, their members, and assignments with due dates, late policies and extensions.

One installation serves many courses. Every account made outside a course (the first
instructor, the users page, the CLI) joins the default course, so a one-course
installation works without ever naming a course. An assignment places an exercise
and/or a quiz in a course; work made for it is judged against its dates:

- before ``opens_at``: refused (``NotOpen``);
- after the learner's due date (``due_at``, or their extension): refused under the ``none``
  late policy, or counted at a reduced share (``Submission.late_factor``,
  ``QuizAttempt.late_factor``) under ``penalty``.

Changing a due date, a policy or an extension recomputes the share of every submission and
quiz attempt it touches, and the standings of the learners whose share changed.
"""

from __future__ import annotations

import hmac
import math
import secrets
import zoneinfo
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import select as sa_select
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, func, select

from grader.config import Settings, get_settings
from grader.models import (
    COURSE_ROLES,
    DEFAULT_COURSE_ID,
    STAFF_ROLES,
    Assignment,
    Course,
    CourseMember,
    CourseRole,
    Exercise,
    Extension,
    Quiz,
    QuizAttempt,
    Submission,
    User,
    utcnow,
)
from grader.services import audit, standings, updates
from grader.services.errors import InvalidInput, NotFound, NotOpen, PermissionDenied

JOIN_CODE_BYTES = 6
PENALTY_UNITS: dict[str, timedelta] = {"hour": timedelta(hours=1), "day": timedelta(days=1)}
ASSIGNMENT_FIELDS = (
    "title",
    "opens_at",
    "due_at",
    "late_policy",
    "penalty_percent",
    "penalty_unit",
    "penalty_floor_percent",
    "reveal_answers",
    "published",
)


# --- courses and members ---------------------------------------------------------------


def default_course(*, session: Session) -> Course:
    """The default course (made by the migration; made again here if a database lacks it)."""
    course = session.get(Course, DEFAULT_COURSE_ID)
    if course is None:
        course = Course(id=DEFAULT_COURSE_ID, title="Course")
        session.add(course)
        session.flush()
    return course


def get(*, session: Session, course_id: int) -> Course:
    """The course with this id, or ``NotFound``."""
    course = session.get(Course, course_id)
    if course is None:
        raise NotFound("There is no such course.")
    return course


def create(*, session: Session, title: str, created_by: User) -> Course:
    """A new course with its own join code; its creator is its instructor."""
    if created_by.role != "instructor":
        raise PermissionDenied("Only instructors can create courses.")
    title = title.strip()
    if not 1 <= len(title) <= 200:
        raise InvalidInput("Give the course a title (up to 200 characters).", field="title")
    course = Course(title=title, join_code=new_join_code())
    session.add(course)
    session.flush()
    standings.start_sequence(session, course_id=course.id)
    session.add(CourseMember(course_id=course.id, user_id=created_by.id, role="instructor"))
    audit.record(
        session=session, actor=created_by, action="course.create", course_id=course.id, target=course_target(course)
    )
    session.commit()
    session.refresh(course)
    return course


def course_target(course: Course) -> str:
    """How the audit log names a course."""
    return f"course {course.id} ({course.title})"


def rename(*, session: Session, course_id: int, title: str, by: User) -> Course:
    """Give the course a new title. Commits."""
    course = get(session=session, course_id=course_id)
    require_role(session=session, user=by, course_id=course_id, roles=("instructor",))
    title = title.strip()
    if not 1 <= len(title) <= 200:
        raise InvalidInput("Give the course a title (up to 200 characters).", field="title")
    before = course.title
    course.title = title
    session.add(course)
    audit.record(
        session=session,
        actor=by,
        action="course.change",
        course_id=course.id,
        target=course_target(course),
        details={"was": before},
    )
    session.commit()
    session.refresh(course)
    return course


def new_join_code() -> str:
    """A fresh join code: short enough to read aloud, long enough not to guess."""
    return secrets.token_hex(JOIN_CODE_BYTES)


def join_code_of(course: Course, settings: Settings | None = None) -> str:
    """The code that lets someone sign up into ``course`` ("" when none does).

    The default course's empty code falls back to the ``join_code`` setting, so an operator
    can open sign-up from the environment; a code rotated in the app replaces it.
    """
    if course.join_code or course.id != DEFAULT_COURSE_ID:
        return course.join_code
    return (settings or get_settings()).join_code


def rotate_join_code(*, session: Session, course_id: int, by: User) -> Course:
    """Give the course a new join code; the old one stops working at once."""
    course = get(session=session, course_id=course_id)
    require_role(session=session, user=by, course_id=course_id, roles=("instructor",))
    course.join_code = new_join_code()
    session.add(course)
    audit.record(
        session=session,
        actor=by,
        action="course.change",
        course_id=course.id,
        target=course_target(course),
        details={"change": "new join code"},
    )
    session.commit()
    session.refresh(course)
    return course


def by_join_code(*, session: Session, code: str, settings: Settings | None = None) -> Course | None:
    """The course this join code opens, or None (compared in constant time per candidate)."""
    code = code.strip()
    if not code:
        return None
    found = None
    for course in session.exec(select(Course).where(col(Course.join_code) == code)):
        found = course
    default = default_course(session=session)
    configured = join_code_of(default, settings)
    if found is None and configured and hmac.compare_digest(code.encode(), configured.encode()):
        found = default
    return found


def add_member(*, session: Session, course_id: int, user_id: int, role: CourseRole) -> CourseMember:
    """Put an account in a course with ``role``, or change its role there (the caller commits)."""
    if role not in COURSE_ROLES:
        raise InvalidInput(f"The role must be one of: {', '.join(COURSE_ROLES)}.", field="role")
    member = session.get(CourseMember, (course_id, user_id))
    if member is None:
        member = CourseMember(course_id=course_id, user_id=user_id, role=role)
    else:
        member.role = role
    session.add(member)
    session.flush()
    return member


def role_in(*, session: Session, user: User, course_id: int) -> CourseRole | None:
    """The account's role in the course, or None when it is not a member."""
    member = session.get(CourseMember, (course_id, user.id))
    return member.role if member is not None else None


def require_role(*, session: Session, user: User, course_id: int, roles: Sequence[CourseRole]) -> CourseRole:
    """The account's role in the course when it is one of ``roles``; ``NotFound``/``PermissionDenied`` otherwise."""
    role = role_in(session=session, user=user, course_id=course_id)
    if role is None:
        raise NotFound("There is no such course.")
    if role not in roles:
        raise PermissionDenied("Your role in this course does not allow this.")
    return role


def is_staff(*, session: Session, user: User, course_id: int) -> bool:
    """Whether the account teaches the course (TA or instructor)."""
    return role_in(session=session, user=user, course_id=course_id) in STAFF_ROLES


def first_taught(*, session: Session, user: User) -> Course:
    """The oldest course the account teaches (TA or instructor); ``NotFound`` when it teaches none."""
    found = session.exec(
        select(Course)
        .join(CourseMember, col(CourseMember.course_id) == col(Course.id))
        .where(col(CourseMember.user_id) == user.id, col(CourseMember.role).in_(STAFF_ROLES))
        .order_by(col(Course.id))
    ).first()
    if found is None:
        raise NotFound("You teach no course yet: ask an instructor of one to add you to it.")
    return found


def instructed(*, session: Session, user: User) -> list[Course]:
    """The courses the account is an instructor of, oldest first (whose learners' accounts it manages)."""
    return list(
        session.exec(
            select(Course)
            .join(CourseMember, col(CourseMember.course_id) == col(Course.id))
            .where(col(CourseMember.user_id) == user.id, col(CourseMember.role) == "instructor")
            .order_by(col(Course.id))
        )
    )


def is_staff_anywhere(*, session: Session, user_id: int) -> bool:
    """Whether the account is a TA or instructor of any course."""
    found = session.exec(
        select(col(CourseMember.course_id))
        .where(col(CourseMember.user_id) == user_id, col(CourseMember.role).in_(STAFF_ROLES))
        .limit(1)
    ).first()
    return found is not None


def course_teaching(*, session: Session, staff: User, learner_id: int) -> Course:
    """The oldest course ``staff`` teaches that has this learner; ``NotFound`` when there is none."""
    taught = aliased(CourseMember)
    found = session.exec(
        select(Course)
        .join(CourseMember, col(CourseMember.course_id) == col(Course.id))
        .join(taught, col(taught.course_id) == col(Course.id))
        .where(
            col(CourseMember.user_id) == learner_id,
            col(CourseMember.role) == "learner",
            col(taught.user_id) == staff.id,
            col(taught.role).in_(STAFF_ROLES),
        )
        .order_by(col(Course.id))
    ).first()
    if found is None:
        raise NotFound("No course you teach has this learner.")
    return found


def overview(*, session: Session) -> list[tuple[Course, dict[str, int]]]:
    """Every course, oldest first, with how many members it has in each role (instructors first)."""
    counts: dict[int, dict[str, int]] = {}
    grouped = select(CourseMember.course_id, CourseMember.role, func.count()).group_by(
        col(CourseMember.course_id), col(CourseMember.role)
    )
    for course_id, role, number in session.exec(grouped).all():
        counts.setdefault(course_id, {})[role] = number
    rows: list[tuple[Course, dict[str, int]]] = []
    for course in session.exec(select(Course).order_by(col(Course.id))):
        found = counts.get(course.id, {})
        rows.append((course, {role: found[role] for role in reversed(COURSE_ROLES) if role in found}))
    return rows


def for_user(*, session: Session, user: User) -> list[tuple[Course, CourseRole]]:
    """The courses the account belongs to, with its role in each, oldest first."""
    rows = session.exec(
        select(Course, CourseMember.role)
        .join(CourseMember, col(CourseMember.course_id) == col(Course.id))
        .where(col(CourseMember.user_id) == user.id)
        .order_by(col(Course.id))
    ).all()
    return [(course, cast(CourseRole, role)) for course, role in rows]


# --- assignments -----------------------------------------------------------------------


def assignments(*, session: Session, course_id: int) -> list[Assignment]:
    """The course's assignments in their order."""
    return list(
        session.exec(
            select(Assignment)
            .where(col(Assignment.course_id) == course_id)
            .order_by(col(Assignment.position), col(Assignment.id))
        )
    )


def get_assignment(*, session: Session, assignment_id: int) -> Assignment:
    """The assignment with this id, or ``NotFound``."""
    assignment = session.get(Assignment, assignment_id)
    if assignment is None:
        raise NotFound("There is no such assignment.")
    return assignment


def assignment_for(
    *,
    session: Session,
    user: User,
    exercise_id: int | None = None,
    quiz_id: int | None = None,
    assignment_id: int | None = None,
    now: datetime | None = None,
) -> Assignment | None:
    """The assignment work by ``user`` on this exercise or quiz is made for.

    An explicit ``assignment_id`` must be one of the user's courses' and hold that work
    (``NotFound`` otherwise). Without one, of the assignments holding it in the user's courses:
    the one open to them at ``now`` (opened, and not past their due date, an extension counted,
    unless its policy takes late work), in the newest course when several are; when none is
    open, the one in the newest course (whose dates then refuse the work, saying why). None
    when no course of theirs assigns it. So a learner repeating a course hands in for this
    term's assignment, never for last term's.
    """
    statement = select(Assignment).join(
        CourseMember,
        (col(CourseMember.course_id) == col(Assignment.course_id)) & (col(CourseMember.user_id) == user.id),
    )
    if exercise_id is not None:
        statement = statement.where(col(Assignment.exercise_id) == exercise_id)
    if quiz_id is not None:
        statement = statement.where(col(Assignment.quiz_id) == quiz_id)
    if assignment_id is not None:
        found = session.exec(statement.where(col(Assignment.id) == assignment_id)).first()
        if found is None:
            raise NotFound("There is no such assignment.")
        return found
    candidates = list(
        session.exec(statement.order_by(col(Assignment.course_id).desc(), col(Assignment.position), col(Assignment.id)))
    )
    moment = now or utcnow()
    for candidate in candidates:
        if deadline_state(session=session, assignment=candidate, user_id=user.id, now=moment).is_open:
            return candidate
    return candidates[0] if candidates else None


def place(
    *,
    session: Session,
    course_id: int,
    title: str | None = None,
    exercise: Exercise | None = None,
    quiz: Quiz | None = None,
    **fields: Any,
) -> Assignment:
    """Add an assignment of ``exercise`` and/or ``quiz`` at the end of the course (the caller commits).

    A course places an exercise (and a quiz) at most once: the gradebook has one column for
    each, and a learner's standing on it is one per course. Placing it again is ``InvalidInput``.
    When a simultaneous placement of the same work wins the race, the database's unique index
    refuses this one: the session is rolled back, so nothing of the caller's transaction is
    stored, and the same ``InvalidInput`` names the assignment that won.
    """
    if exercise is None and quiz is None:
        raise InvalidInput("An assignment needs an exercise or a quiz.", field="exercise")
    works = [(field, work) for field, work in (("exercise", exercise), ("quiz", quiz)) if work is not None]
    _refuse_placed_twice(session, course_id=course_id, works=works)
    last = session.exec(
        select(Assignment.position)
        .where(col(Assignment.course_id) == course_id)
        .order_by(col(Assignment.position).desc())
    ).first()
    name = title or (exercise.title if exercise is not None else quiz.title if quiz is not None else "")
    assignment = Assignment(
        course_id=course_id,
        title=name,
        exercise_id=exercise.id if exercise is not None else None,
        quiz_id=quiz.id if quiz is not None else None,
        position=(last + 1) if last is not None else 0,
    )
    _apply(assignment, fields)
    session.add(assignment)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        # Read again after the rollback: the placement that won is committed and shows.
        _refuse_placed_twice(session, course_id=course_id, works=works)
        raise
    return assignment


def _refuse_placed_twice(session: Session, *, course_id: int, works: Sequence[tuple[str, Exercise | Quiz]]) -> None:
    """``InvalidInput`` naming the field when an assignment of the course already holds one of ``works``."""
    for field, work in works:
        held_by = col(Assignment.exercise_id) if field == "exercise" else col(Assignment.quiz_id)
        taken = _holder(session, course_id=course_id, held_by=held_by, work_id=work.id)
        if taken is not None:
            raise InvalidInput(
                f"“{work.title}” is already in this course, in the assignment “{taken.title}”: a course places "
                f"each {field} once. Change that assignment's dates instead.",
                field=field,
            )


def _holder(session: Session, *, course_id: int, held_by: Any, work_id: int) -> Assignment | None:
    """The course's assignment whose ``held_by`` column (exercise or quiz) is ``work_id``, if any."""
    return session.exec(select(Assignment).where(col(Assignment.course_id) == course_id, held_by == work_id)).first()


@dataclass(frozen=True)
class Saved:
    """What a change to an assignment or an extension came to.

    assignment: the assignment as stored now; recomputed: how many submissions' and quiz attempts'
    counted share changed; learners: whose counted scores those are (an LMS may have to hear of them).
    """

    assignment: Assignment
    recomputed: int
    learners: tuple[int, ...] = ()


def place_assignment(
    *,
    session: Session,
    course_id: int,
    by: User,
    exercise_id: int | None = None,
    quiz_id: int | None = None,
    title: str | None = None,
    **fields: Any,
) -> Assignment:
    """Place an exercise and/or a quiz in the course as a new last assignment. Commits."""
    course = get(session=session, course_id=course_id)
    require_role(session=session, user=by, course_id=course_id, roles=("instructor",))
    exercise = session.get(Exercise, exercise_id) if exercise_id is not None else None
    if exercise_id is not None and (exercise is None or not exercise.active):
        raise InvalidInput("There is no such exercise.", field="exercise")
    quiz = session.get(Quiz, quiz_id) if quiz_id is not None else None
    if quiz_id is not None and (quiz is None or not quiz.active):
        raise InvalidInput("There is no such quiz.", field="quiz")
    assignment = place(session=session, course_id=course_id, title=title, exercise=exercise, quiz=quiz, **fields)
    audit.record(
        session=session,
        actor=by,
        action="assignment.place",
        course_id=course.id,
        target=f"{_assignment_target(assignment)} in {course_target(course)}",
    )
    session.commit()
    session.refresh(assignment)
    return assignment


def _assignment_target(assignment: Assignment) -> str:
    return f"assignment {assignment.id} ({assignment.title})"


def update_assignment(*, session: Session, assignment_id: int, by: User, **fields: Any) -> Saved:
    """Change an assignment's title, dates or policies; scores it touches are recomputed. Commits."""
    assignment = get_assignment(session=session, assignment_id=assignment_id)
    require_role(session=session, user=by, course_id=assignment.course_id, roles=("instructor",))
    before = {name: getattr(assignment, name) for name in fields}
    _apply(assignment, fields)
    session.add(assignment)
    session.flush()
    changed, learners = recompute_late_factors(session=session, assignment=assignment)
    differences = {
        name: _audit_value(getattr(assignment, name)) for name in fields if before[name] != getattr(assignment, name)
    }
    if differences:
        if changed:
            differences["scores recomputed"] = changed
        audit.record(
            session=session,
            actor=by,
            action="assignment.change",
            course_id=assignment.course_id,
            target=_assignment_target(assignment),
            details=differences,
        )
    session.commit()
    if changed:
        updates.course_changed()
    session.refresh(assignment)
    return Saved(assignment=assignment, recomputed=changed, learners=learners)


def _audit_value(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def remove_assignment(*, session: Session, assignment_id: int, by: User) -> Assignment:
    """Take an assignment out of its course; work made for it stays, no longer counted for it. Commits.

    The course's standings on its exercise are recomputed without that work (gone when nothing else counts).
    """
    assignment = get_assignment(session=session, assignment_id=assignment_id)
    require_role(session=session, user=by, course_id=assignment.course_id, roles=("instructor",))
    audit.record(
        session=session,
        actor=by,
        action="assignment.remove",
        course_id=assignment.course_id,
        target=_assignment_target(assignment),
    )
    course_id, exercise_id = assignment.course_id, assignment.exercise_id
    learners = session.exec(
        select(col(Submission.user_id)).where(col(Submission.assignment_id) == assignment.id).distinct()
    ).all()
    session.delete(assignment)
    session.flush()
    if exercise_id is not None:
        for user_id in sorted(learners):
            standings.refresh_standing(session, user_id=user_id, course_id=course_id, exercise_id=exercise_id)
    session.commit()
    updates.course_changed()
    return assignment


def move_assignment(*, session: Session, assignment_id: int, by: User, step: int) -> list[Assignment]:
    """Move an assignment ``step`` places (-1 up, +1 down) in its course's order; returns the new order. Commits."""
    assignment = get_assignment(session=session, assignment_id=assignment_id)
    require_role(session=session, user=by, course_id=assignment.course_id, roles=("instructor",))
    if step not in (-1, 1):
        raise InvalidInput("An assignment moves one place up or down.", field="step")
    order = assignments(session=session, course_id=assignment.course_id)
    index = next(number for number, row in enumerate(order) if row.id == assignment.id)
    target = index + step
    if not 0 <= target < len(order):
        raise InvalidInput(f"“{assignment.title}” is already {'first' if step < 0 else 'last'}.", field="step")
    order[index], order[target] = order[target], order[index]
    for position, row in enumerate(order):
        row.position = position
        session.add(row)
    audit.record(
        session=session,
        actor=by,
        action="assignment.change",
        course_id=assignment.course_id,
        target=_assignment_target(assignment),
        details={"position": target + 1},
    )
    session.commit()
    return assignments(session=session, course_id=assignment.course_id)


def _apply(assignment: Assignment, fields: dict[str, Any]) -> None:
    unknown = set(fields) - set(ASSIGNMENT_FIELDS)
    if unknown:
        raise TypeError(f"not assignment fields: {sorted(unknown)}")
    for name, value in fields.items():
        setattr(assignment, name, value)
    _check(assignment)


def _check(assignment: Assignment) -> None:
    if not 1 <= len(assignment.title.strip()) <= 200:
        raise InvalidInput("Give the assignment a title (up to 200 characters).", field="title")
    for name in ("opens_at", "due_at"):
        moment = getattr(assignment, name)
        if moment is not None and moment.tzinfo is None:
            raise InvalidInput("A date needs its time zone.", field=name)
    if assignment.opens_at and assignment.due_at and assignment.due_at <= assignment.opens_at:
        raise InvalidInput("The due date must come after the opening date.", field="due_at")
    if assignment.late_policy not in ("none", "penalty"):
        raise InvalidInput("The late policy is either none or penalty.", field="late_policy")
    if assignment.penalty_unit not in PENALTY_UNITS:
        raise InvalidInput("The penalty is counted per hour or per day.", field="penalty_unit")
    for name in ("penalty_percent", "penalty_floor_percent"):
        value = getattr(assignment, name)
        if not (isinstance(value, int | float) and math.isfinite(value) and 0 <= value <= 100):
            raise InvalidInput("A percentage is a number from 0 to 100.", field=name)
    if assignment.reveal_answers not in ("after_last_attempt", "after_due"):
        raise InvalidInput("Answers are shown after the last attempt or after the due date.", field="reveal_answers")


# --- deadlines ------------------------------------------------------------------------


@dataclass(frozen=True)
class DeadlineState:
    """An assignment's dates as they apply to one learner at one moment.

    due_at: their due date (the extension's, when they have one); extended: whether it is one.
    is_open: work is taken now (opened, and not past a due date that takes no late work).
    due_passed: their due date has passed. late_factor: the share a submission made now counts,
    or None when it would be refused.
    """

    opens_at: datetime | None
    due_at: datetime | None
    extended: bool
    is_open: bool
    due_passed: bool
    late_factor: float | None


def extension_for(*, session: Session, assignment_id: int, user_id: int) -> Extension | None:
    """The learner's extension on the assignment, if any."""
    return session.get(Extension, (assignment_id, user_id))


def deadline_state(
    *, session: Session, assignment: Assignment, user_id: int, now: datetime | None = None
) -> DeadlineState:
    """Where the learner stands against the assignment's dates at ``now``."""
    now = now or utcnow()
    extension = extension_for(session=session, assignment_id=assignment.id, user_id=user_id)
    due = extension.due_at if extension is not None else assignment.due_at
    factor = late_factor(assignment, due_at=due, made_at=now)
    opened = assignment.opens_at is None or now >= assignment.opens_at
    return DeadlineState(
        opens_at=assignment.opens_at,
        due_at=due,
        extended=extension is not None,
        is_open=opened and factor is not None,
        due_passed=due is not None and now > due,
        late_factor=factor,
    )


def late_factor(assignment: Assignment, *, due_at: datetime | None, made_at: datetime) -> float | None:
    """The share of the score that counts for work made at ``made_at``; None when late work is refused.

    Each started hour or day past the due date takes ``penalty_percent``, down to
    ``penalty_floor_percent``.
    """
    if due_at is None or made_at <= due_at:
        return 1.0
    if assignment.late_policy == "none":
        return None
    units = math.ceil((made_at - due_at) / PENALTY_UNITS[assignment.penalty_unit])
    share = 1.0 - units * assignment.penalty_percent / 100
    return max(assignment.penalty_floor_percent / 100, min(1.0, share))


def check_open(*, session: Session, assignment: Assignment, user_id: int, now: datetime) -> float:
    """The late factor for work made now, or ``NotOpen`` saying why it is refused."""
    state = deadline_state(session=session, assignment=assignment, user_id=user_id, now=now)
    if state.opens_at is not None and now < state.opens_at:
        raise NotOpen(f"“{assignment.title}” opens on {_when(state.opens_at)}; nothing was stored. Come back then.")
    if state.late_factor is None:
        raise NotOpen(
            f"“{assignment.title}” was due on {_when(state.due_at)} and takes no late work; nothing was "
            "stored. Ask your instructor if you need an extension."
        )
    return state.late_factor


def moment_in_zone(text: str, zone: str, *, field: str) -> datetime | None:
    """A date and time typed in ``zone`` (``2026-12-11T18:00``, as a datetime-local field sends it) in UTC.

    Empty text is no date (None); a wrong date or an unknown zone is ``InvalidInput`` naming ``field``.
    """
    text = text.strip()
    if not text:
        return None
    try:
        where = zoneinfo.ZoneInfo(zone.strip() or "UTC")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(
            f"{zone!r} is not a time zone this server knows (for example Europe/Berlin).", field=field
        ) from None
    try:
        typed = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"{text!r} is not a date and time like 2026-12-11T18:00.", field=field) from None
    if typed.tzinfo is not None:
        raise InvalidInput("Give the date and time without a zone; the zone is chosen separately.", field=field)
    try:
        return typed.replace(tzinfo=where).astimezone(UTC)
    except OverflowError:
        raise InvalidInput(f"{text!r} is too far in the future or the past.", field=field) from None


def _when(moment: datetime | None) -> str:
    return moment.strftime("%a %-d %b %Y, %H:%M UTC") if moment is not None else "an unknown date"


def lateness_words(late_by: timedelta) -> str:
    """How late work was, in words: "40 minutes", "2 hours", "1 day and 3 hours" (rounded down)."""
    minutes = int(late_by.total_seconds() // 60)
    if minutes < 1:
        return "less than a minute"
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return _counted(days, "day") + (f" and {_counted(hours, 'hour')}" if hours else "")
    if hours:
        return _counted(hours, "hour") + (f" and {_counted(minutes, 'minute')}" if minutes else "")
    return _counted(minutes, "minute")


def _counted(number: int, unit: str) -> str:
    return f"{number} {unit}{'s' if number != 1 else ''}"


def grant_extension(*, session: Session, assignment_id: int, user_id: int, due_at: datetime | None, by: User) -> Saved:
    """Give one learner a later due date (None takes it back); their scores are recomputed. Commits."""
    assignment = get_assignment(session=session, assignment_id=assignment_id)
    require_role(session=session, user=by, course_id=assignment.course_id, roles=("instructor",))
    if session.get(CourseMember, (assignment.course_id, user_id)) is None:
        raise NotFound("That learner is not in this course.")
    extension = extension_for(session=session, assignment_id=assignment_id, user_id=user_id)
    if due_at is None:
        if extension is not None:
            session.delete(extension)
    else:
        if due_at.tzinfo is None:
            raise InvalidInput("A date needs its time zone.", field="due_at")
        if extension is None:
            extension = Extension(assignment_id=assignment_id, user_id=user_id, due_at=due_at, granted_by=by.id)
        extension.due_at = due_at
        extension.granted_by = by.id
        session.add(extension)
    session.flush()
    changed, learners = recompute_late_factors(session=session, assignment=assignment, user_ids=[user_id])
    learner = session.get_one(User, user_id)
    details: dict[str, Any] = {"learner": learner.email, "due": due_at.isoformat() if due_at else "removed"}
    if changed:
        details["scores recomputed"] = changed
    audit.record(
        session=session,
        actor=by,
        action="extension.change",
        course_id=assignment.course_id,
        target=_assignment_target(assignment),
        details=details,
    )
    session.commit()
    if changed:
        updates.course_changed()
    return Saved(assignment=assignment, recomputed=changed, learners=learners)


def extensions(*, session: Session, assignment_id: int) -> list[tuple[Extension, User]]:
    """The assignment's extensions with their learners, earliest due first."""
    rows = session.exec(
        select(Extension, User)
        .join(User, col(User.id) == col(Extension.user_id))
        .where(col(Extension.assignment_id) == assignment_id)
        .order_by(col(Extension.due_at), col(User.display_name))
    ).all()
    return [(extension, user) for extension, user in rows]


def recompute_late_factors(
    *, session: Session, assignment: Assignment, user_ids: Sequence[int] | None = None
) -> tuple[int, tuple[int, ...]]:
    """Set the late factor of the assignment's submissions and quiz attempts from its current dates.

    Returns how many of them changed and whose they are; the standings of those learners in the
    assignment's course are refreshed (another course's standings never count this work) and their
    changed attempts numbered anew, so the live views show them (the caller commits).
    Late work taken under an earlier policy counts nothing once the policy takes no late work.
    """
    due_dates = {
        row.user_id: row.due_at
        for row in session.exec(select(Extension).where(col(Extension.assignment_id) == assignment.id))
    }

    def share(user_id: int, made_at: datetime) -> float:
        return late_factor(assignment, due_at=due_dates.get(user_id, assignment.due_at), made_at=made_at) or 0.0

    submissions = _changed_factors(
        session, Submission, col(Submission.exercise_id), assignment_id=assignment.id, user_ids=user_ids, share=share
    )
    attempts = _changed_factors(
        session, QuizAttempt, col(QuizAttempt.quiz_id), assignment_id=assignment.id, user_ids=user_ids, share=share
    )
    for submission_id, _user_id, _exercise_id, factor in submissions:
        session.execute(update(Submission).where(col(Submission.id) == submission_id).values(late_factor=factor))
    for user_id, exercise_id in sorted({(user_id, exercise_id) for _, user_id, exercise_id, _ in submissions}):
        standings.refresh_standing(session, user_id=user_id, course_id=assignment.course_id, exercise_id=exercise_id)
    for attempt_id, _user_id, _quiz_id, factor in attempts:
        attempt = session.get_one(QuizAttempt, attempt_id)
        attempt.late_factor = factor
        standings.record_attempt(session, attempt=attempt)  # numbered anew: the live views show it
    learners = {row[1] for row in submissions} | {row[1] for row in attempts}
    return len(submissions) + len(attempts), tuple(sorted(learners))


def _changed_factors(
    session: Session,
    table: type[Submission] | type[QuizAttempt],
    work: Any,
    *,
    assignment_id: int,
    user_ids: Sequence[int] | None,
    share: Callable[[int, datetime], float],
) -> list[tuple[int, int, int, float]]:
    """(id, learner, ``work`` (the exercise or quiz), new factor) of the assignment's rows whose share changes."""
    statement = sa_select(col(table.id), col(table.user_id), work, col(table.created_at), col(table.late_factor)).where(
        col(table.assignment_id) == assignment_id
    )
    if user_ids is not None:
        statement = statement.where(col(table.user_id).in_(user_ids))
    changed: list[tuple[int, int, int, float]] = []
    for row_id, user_id, work_id, created_at, current in session.execute(statement).all():
        factor = share(user_id, created_at)
        if not math.isclose(factor, current):
            changed.append((row_id, user_id, work_id, factor))
    return changed
