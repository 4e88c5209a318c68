"""Instructors' course pages: create a course; its settings and members; its assignments, dates and extensions.

Dates are typed in a ``datetime-local`` field together with a ``zone`` the form sends (the
browser's, set by ``static/times.js``; UTC without script, as the page then says) and are
stored in UTC.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session

from grader.models import COURSE_ROLES, Assignment, Course, User
from grader.services import courses, coursework, members, quizzes, submissions
from grader.services.errors import InvalidInput, NotFound
from grader.services.lti import grades as lti_grades
from grader.services.numbers import plain_number
from grader.web.deps import CourseInstructor, CurrentUser, RowId, SessionDep
from grader.web.security import verify_csrf
from grader.web.templating import render

router = APIRouter(prefix="/courses", dependencies=[Depends(verify_csrf)], include_in_schema=False)

CONFIRMED = "yes"
ROLE_WORDS = {"learner": "Learner", "ta": "TA", "instructor": "Instructor"}
TextField = Annotated[str, Form()]


def managed_course(access: CourseInstructor) -> Course:
    """The course in the path, for its instructor (``deps.course_instructor`` decides who that is)."""
    return access.course


ManagedCourse = Annotated[Course, Depends(managed_course)]


def course_assignment(assignment_id: RowId, course: ManagedCourse, session: SessionDep) -> Assignment:
    """The assignment in the path if it belongs to the course in the path; 404 otherwise."""
    assignment = courses.get_assignment(session=session, assignment_id=assignment_id)
    if assignment.course_id != course.id:
        raise NotFound("There is no such assignment.")
    return assignment


CourseAssignment = Annotated[Assignment, Depends(course_assignment)]


# --- the list of courses ------------------------------------------------------------------


@router.get("", response_class=HTMLResponse)
def list_courses(request: Request, user: CurrentUser, session: SessionDep) -> Response:
    """The courses the user belongs to, and (for instructors) a form to create one."""
    return _courses_page(request, session, user)


def _courses_page(
    request: Request, session: Session, user: User, *, error: str | None = None, title: str = "", status_code: int = 200
) -> Response:
    context = {
        "memberships": courses.for_user(session=session, user=user),
        "role_words": ROLE_WORDS,
        "error": error,
        "title": title,
    }
    return render(request, "courses/list.html", context, status_code=status_code)


@router.post("", response_class=HTMLResponse)
def create_course(request: Request, user: CurrentUser, session: SessionDep, title: TextField = "") -> Response:
    """Create a course with its own join code; its creator teaches it."""
    try:
        course = courses.create(session=session, title=title, created_by=user)
    except InvalidInput as exc:
        return _courses_page(request, session, user, error=exc.message, title=title, status_code=422)
    return RedirectResponse(f"/courses/{course.id}/assignments", status_code=303)


# --- settings and members -------------------------------------------------------------------


def _settings_page(
    request: Request,
    session: Session,
    course: Course,
    *,
    error: str | None = None,
    error_field: str | None = None,
    notice: str | None = None,
    form: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    context = {
        "course": course,
        "join_code": courses.join_code_of(course, request.app.state.settings),
        "members": members.members(session=session, course_id=course.id),
        "roles": COURSE_ROLES,
        "role_words": ROLE_WORDS,
        "error": error,
        "error_field": error_field,
        "notice": notice,
        "form": form or {"title": course.title, "email": "", "role": "learner"},
        "section": "settings",
    }
    return render(request, "courses/settings.html", context, status_code=status_code)


@router.get("/{course_id}/settings", response_class=HTMLResponse)
def show_settings(request: Request, course: ManagedCourse, session: SessionDep) -> Response:
    """The course's title, join code and members."""
    return _settings_page(request, session, course)


@router.post("/{course_id}/settings", response_class=HTMLResponse)
def save_title(
    request: Request, course: ManagedCourse, user: CurrentUser, session: SessionDep, title: TextField = ""
) -> Response:
    """Rename the course."""
    try:
        course = courses.rename(session=session, course_id=course.id, title=title, by=user)
    except InvalidInput as exc:
        form = {"title": title, "email": "", "role": "learner"}
        return _settings_page(
            request, session, course, error=exc.message, error_field=exc.field, form=form, status_code=422
        )
    return _settings_page(request, session, course, notice="Saved the course's title.")


@router.post("/{course_id}/join-code", response_class=HTMLResponse)
def rotate_join_code(request: Request, course: ManagedCourse, user: CurrentUser, session: SessionDep) -> Response:
    """Give the course a new join code; the old one stops working."""
    course = courses.rotate_join_code(session=session, course_id=course.id, by=user)
    return _settings_page(request, session, course, notice="A new join code is in force; the old one no longer works.")


@router.post("/{course_id}/members", response_class=HTMLResponse)
def set_member(
    request: Request,
    course: ManagedCourse,
    user: CurrentUser,
    session: SessionDep,
    email: TextField = "",
    role: TextField = "learner",
) -> Response:
    """Add an account to the course by its e-mail, or change a member's role."""
    try:
        member = members.set_member(session=session, course_id=course.id, email=email, role=role, by=user)
    except InvalidInput as exc:
        form = {"title": course.title, "email": email, "role": role}
        return _settings_page(
            request, session, course, error=exc.message, error_field=exc.field, form=form, status_code=422
        )
    account = session.get_one(User, member.user_id)
    words = ROLE_WORDS[member.role]
    return _settings_page(request, session, course, notice=f"{account.display_name} is now {words} in this course.")


# --- assignments ------------------------------------------------------------------------------


def _assignments_page(
    request: Request,
    session: Session,
    course: Course,
    *,
    error: str | None = None,
    notice: str | None = None,
    status_code: int = 200,
) -> Response:
    context = {
        "course": course,
        "assignments": courses.assignments(session=session, course_id=course.id),
        "exercises": submissions.list_exercises(session=session),
        "quizzes": quizzes.list_quizzes(session=session),
        "error": error,
        "notice": notice,
        "section": "assignments",
    }
    return render(request, "courses/assignments.html", context, status_code=status_code)


@router.get("/{course_id}/assignments", response_class=HTMLResponse)
def show_assignments(request: Request, course: ManagedCourse, session: SessionDep) -> Response:
    """The course's assignments in order, and a form to place an exercise or quiz."""
    return _assignments_page(request, session, course)


def _chosen_id(value: str, what: str) -> int | None:
    """A select's id, or None for its empty choice; anything else is refused."""
    if not value.strip():
        return None
    number = plain_number(value.strip())
    if number is None:
        raise InvalidInput(f"Choose {what} from the list.", field=what.split()[-1])
    return number


@router.post("/{course_id}/assignments", response_class=HTMLResponse)
def place_assignment(
    request: Request,
    course: ManagedCourse,
    user: CurrentUser,
    session: SessionDep,
    exercise: TextField = "",
    quiz: TextField = "",
    title: TextField = "",
) -> Response:
    """Place an exercise and/or a quiz at the end of the course; then open its dates."""
    try:
        assignment = courses.place_assignment(
            session=session,
            course_id=course.id,
            by=user,
            exercise_id=_chosen_id(exercise, "an exercise"),
            quiz_id=_chosen_id(quiz, "a quiz"),
            title=title.strip() or None,
        )
    except InvalidInput as exc:
        session.rollback()
        return _assignments_page(request, session, course, error=exc.message, status_code=422)
    return RedirectResponse(f"/courses/{course.id}/assignments/{assignment.id}", status_code=303)


@router.post("/{course_id}/assignments/{assignment_id}/move", response_class=HTMLResponse)
def move_assignment(
    request: Request,
    course: ManagedCourse,
    assignment: CourseAssignment,
    user: CurrentUser,
    session: SessionDep,
    step: TextField = "",
) -> Response:
    """Move an assignment one place up or down."""
    steps = {"up": -1, "down": 1}
    try:
        if step not in steps:
            raise InvalidInput("An assignment moves up or down.", field="step")
        courses.move_assignment(session=session, assignment_id=assignment.id, by=user, step=steps[step])
    except InvalidInput as exc:
        return _assignments_page(request, session, course, error=exc.message, status_code=422)
    return RedirectResponse(f"/courses/{course.id}/assignments", status_code=303)


@router.get("/{course_id}/assignments/{assignment_id}/remove", response_class=HTMLResponse)
def confirm_remove(request: Request, course: ManagedCourse, assignment: CourseAssignment) -> Response:
    """Ask before removing an assignment."""
    page = f"/courses/{course.id}/assignments"
    context = {
        "title": f"Remove “{assignment.title}” from {course.title}?",
        "lines": [
            "Learners no longer see it on their start page, and its extensions are deleted.",
            "Work already made for it stays, with the share it counted at; it no longer belongs to an assignment.",
        ],
        "action": f"{page}/{assignment.id}/remove",
        "button": f"Remove “{assignment.title}”",
        "cancel": (page, "Keep it and go back to the assignments"),
    }
    return render(request, "confirm.html", context)


@router.post("/{course_id}/assignments/{assignment_id}/remove", response_class=HTMLResponse)
def remove(
    request: Request,
    course: ManagedCourse,
    assignment: CourseAssignment,
    user: CurrentUser,
    session: SessionDep,
    confirm: TextField = "",
) -> Response:
    """Remove an assignment (after the confirmation page)."""
    if confirm != CONFIRMED:
        return RedirectResponse(f"/courses/{course.id}/assignments/{assignment.id}/remove", status_code=303)
    title = assignment.title
    courses.remove_assignment(session=session, assignment_id=assignment.id, by=user)
    return _assignments_page(request, session, course, notice=f"Removed “{title}”.")


# --- one assignment: dates, policies, extensions ------------------------------------------------


def _assignment_page(
    request: Request,
    session: Session,
    course: Course,
    assignment: Assignment,
    *,
    error: str | None = None,
    error_field: str | None = None,
    notice: str | None = None,
    form: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Response:
    people = members.members(session=session, course_id=course.id)
    context = {
        "course": course,
        "assignment": assignment,
        "policy_sentence": coursework.late_policy_sentence(assignment),
        "extensions": courses.extensions(session=session, assignment_id=assignment.id),
        "learners": [member for member, role in people if role == "learner"],
        "error": error,
        "error_field": error_field,
        "notice": notice,
        "form": form,
        "section": "assignments",
    }
    return render(request, "courses/assignment.html", context, status_code=status_code)


@router.get("/{course_id}/assignments/{assignment_id}", response_class=HTMLResponse)
def show_assignment(
    request: Request, course: ManagedCourse, assignment: CourseAssignment, session: SessionDep
) -> Response:
    """An assignment's title, dates, late policy and extensions, to change."""
    return _assignment_page(request, session, course, assignment)


def _percent(text: str, field: str) -> float:
    text = text.strip()
    if not text:
        return 0.0
    try:
        value = float(text)
    except ValueError:
        raise InvalidInput(f"{text!r} is not a number; a percentage is a number from 0 to 100.", field=field) from None
    return value


@router.post("/{course_id}/assignments/{assignment_id}", response_class=HTMLResponse)
def save_assignment(
    request: Request,
    course: ManagedCourse,
    assignment: CourseAssignment,
    user: CurrentUser,
    session: SessionDep,
    title: TextField = "",
    opens_at: TextField = "",
    due_at: TextField = "",
    zone: TextField = "UTC",
    late_policy: TextField = "none",
    penalty_percent: TextField = "",
    penalty_unit: TextField = "day",
    penalty_floor_percent: TextField = "",
    reveal_answers: TextField = "after_last_attempt",
    published: TextField = "",
) -> Response:
    """Save an assignment's title, dates and policies; says how many scores that recomputed."""
    form = {
        "title": title,
        "opens_at": opens_at,
        "due_at": due_at,
        "zone": zone,
        "late_policy": late_policy,
        "penalty_percent": penalty_percent,
        "penalty_unit": penalty_unit,
        "penalty_floor_percent": penalty_floor_percent,
        "reveal_answers": reveal_answers,
        "published": bool(published),
    }
    try:
        saved = courses.update_assignment(
            session=session,
            assignment_id=assignment.id,
            by=user,
            title=title.strip(),
            opens_at=courses.moment_in_zone(opens_at, zone, field="opens_at"),
            due_at=courses.moment_in_zone(due_at, zone, field="due_at"),
            late_policy=late_policy,
            penalty_percent=_percent(penalty_percent, "penalty_percent"),
            penalty_unit=penalty_unit,
            penalty_floor_percent=_percent(penalty_floor_percent, "penalty_floor_percent"),
            reveal_answers=reveal_answers,
            published=bool(published),
        )
    except InvalidInput as exc:
        session.rollback()
        session.refresh(assignment)
        return _assignment_page(
            request, session, course, assignment, error=exc.message, error_field=exc.field, form=form, status_code=422
        )
    _tell_the_lms(request, session, saved)
    return _assignment_page(request, session, course, saved.assignment, notice=_saved_words(saved.recomputed))


def _tell_the_lms(request: Request, session: Session, saved: courses.Saved) -> None:
    """Send the LMS the counted scores a change of dates or policy recomputed (LTI-linked assignments only)."""
    if not saved.learners:
        return
    due = lti_grades.record_recomputed(session=session, assignment_id=saved.assignment.id, user_ids=saved.learners)
    for assignment_id, user_id in due:
        request.app.state.enqueue_score_send(assignment_id, user_id)


def _saved_words(recomputed: int) -> str:
    if not recomputed:
        return "Saved. No score changed."
    return f"Saved. {recomputed} score{'s' if recomputed != 1 else ''} changed."


@router.post("/{course_id}/assignments/{assignment_id}/extensions", response_class=HTMLResponse)
def grant_extension(
    request: Request,
    course: ManagedCourse,
    assignment: CourseAssignment,
    user: CurrentUser,
    session: SessionDep,
    learner: TextField = "",
    due_at: TextField = "",
    zone: TextField = "UTC",
    remove: TextField = "",
) -> Response:
    """Give a learner their own due date, change it, or take it back (``remove``)."""
    try:
        learner_id = _chosen_id(learner, "a learner")
        if learner_id is None:
            raise InvalidInput("Choose the learner the extension is for.", field="learner")
        if remove:
            moment = None
        else:
            moment = courses.moment_in_zone(due_at, zone, field="extension_due_at")
            if moment is None:
                raise InvalidInput("Give the learner's new due date.", field="extension_due_at")
        saved = courses.grant_extension(
            session=session, assignment_id=assignment.id, user_id=learner_id, due_at=moment, by=user
        )
    except (InvalidInput, NotFound) as exc:
        session.rollback()
        field = exc.field if isinstance(exc, InvalidInput) else "learner"
        form = {"learner": learner, "extension_due_at": due_at, "zone": zone}
        return _assignment_page(
            request,
            session,
            course,
            assignment,
            error=exc.message,
            error_field=field,
            form=form,
            status_code=422,
        )
    _tell_the_lms(request, session, saved)
    words = "Extension removed." if remove else "Extension saved."
    changed = _saved_words(saved.recomputed).removeprefix("Saved. ")
    return _assignment_page(request, session, course, saved.assignment, notice=f"{words} {changed}")
