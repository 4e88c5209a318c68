"""Learners' pages: the start page, an exercise with its upload form, a submission's live result."""

from __future__ import annotations

from collections.abc import Hashable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session

from grader.config import Settings
from grader.grading.report import Report
from grader.models import MAX_ROW_ID, Exercise, Quiz, Submission, User
from grader.services import courses, coursework, fixchecks, quizzes, submissions, users, visibility
from grader.services.errors import (
    InvalidInput,
    NotFound,
    NotOpen,
    Overloaded,
    RateLimited,
    StillGrading,
    TooLarge,
)
from grader.services.numbers import plain_number
from grader.services.updates import ANY_SUBMISSION, submission_changes
from grader.web import events
from grader.web.deps import (
    CurrentUser,
    RowId,
    SessionDep,
    SettingsDep,
    ValidExercise,
    ValidSubmission,
    page_stream_access,
)
from grader.web.report_view import diagnosed_lines
from grader.web.security import verify_csrf
from grader.web.templating import render, render_fragment

router = APIRouter(dependencies=[Depends(verify_csrf)], include_in_schema=False)

EVENTS_MAX_SECONDS = 300
"""A submission's event stream ends after this long; the browser then reconnects if it still waits."""


def progress_message(status: str, position: int | None) -> str:
    """What the progress box says for a submission that is ``status``."""
    if status == "queued":
        if position is None or position <= 1:
            return "Waiting in the queue: yours is next."
        ahead = position - 1
        return (
            f"Waiting in the queue: position {position} ({ahead} submission{'s' if ahead != 1 else ''} ahead of yours)."
        )
    if status == "running":
        return "Running: your app is starting and receiving the test requests."
    return "Graded."


def curl_command(base_url: str, slug: str, assignment_id: int | None = None) -> str:
    """The one line that submits ``solution.py`` to exercise ``slug`` (for the assignment, if one) from a terminal."""
    assignment = f"-F assignment_id={assignment_id} " if assignment_id is not None else ""
    return (
        f'curl -H "Authorization: Bearer $GRADER_TOKEN" -F file=@solution.py {assignment}'
        f"{base_url}api/v1/exercises/{slug}/submissions"
    )


@router.get("/", response_class=HTMLResponse)
def home(request: Request, user: CurrentUser, session: SessionDep, settings: SettingsDep) -> Response:
    """The user's assignments, course by course: dates in their zone, status and best counted scores."""
    rows = coursework.for_learner(session=session, user=user, settings=settings)
    by_course: dict[int, list[coursework.LearnerAssignment]] = {}
    for row in rows:
        by_course.setdefault(row.course.id, []).append(row)
    return render(
        request,
        "home.html",
        {
            "memberships": courses.for_user(session=session, user=user),
            "by_course": by_course,
        },
    )


def lesson_quiz_of(session: Session, exercise: Exercise) -> Quiz | None:
    """The quiz the exercise's content links to, if it is there to take."""
    slug = submissions.exercise_spec(exercise).quiz
    if slug is None:
        return None
    try:
        return quizzes.get_quiz(session=session, slug=slug)
    except NotFound:
        return None


def exercise_page(
    request: Request,
    *,
    session: Session,
    settings: Settings,
    user: User,
    exercise: Exercise,
    error: str | None = None,
    error_link: tuple[str, str] | None = None,
    code: str | None = None,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
    assignment_id: int | None = None,
) -> Response:
    """The exercise page; its editor holds the learner's last code, or after a refused upload the code they sent."""
    history = submissions.list_for_user(session=session, user=user, exercise_slug=exercise.slug)
    latest = history[0] if history and code is None else None
    # Its lines are marked as its result page marks them: from the report as this learner may see it.
    latest_report = visibility.report_for(session, submission=latest.submission, viewer=user) if latest else None
    work = assignment_view(session, user, settings, exercise_id=exercise.id, assignment_id=assignment_id)
    spec = submissions.exercise_spec(exercise)
    lesson_quiz = lesson_quiz_of(session, exercise)
    context: dict[str, Any] = {
        "exercise": exercise,
        "cases": visibility.listed_cases(session, exercise=exercise, cases=spec.cases, viewer=user),
        "visuals": lesson_quiz.visuals if lesson_quiz else None,
        "lesson_quiz": lesson_quiz,
        "history": history,
        "wait_seconds": submissions.seconds_until_next(session=session, user=user, settings=settings),
        "interval_seconds": settings.submission_interval_seconds,
        "max_upload_bytes": settings.max_upload_bytes,
        "token_hours": settings.api_token_seconds // 3600,
        "base_url": str(request.base_url),
        "curl_command": curl_command(
            str(request.base_url), exercise.slug, work.assignment.id if assignment_id is not None and work else None
        ),
        "error": error,
        "error_link": error_link,
        "latest": latest,
        "code": latest.submission.source if latest else (code or ""),
        "marked_lines": diagnosed_lines(latest_report) if latest else [],
        "work": work,
        "policy_sentence": coursework.late_policy_sentence(work.assignment) if work else "",
    }
    return render(request, "exercise.html", context, status_code=status_code, headers=headers)


def assignment_view(
    session: Session,
    user: User,
    settings: Settings,
    *,
    exercise_id: int | None = None,
    quiz_id: int | None = None,
    assignment_id: int | None = None,
) -> coursework.LearnerAssignment | None:
    """The assignment the page's work counts for (the one asked for, else the one open to them now), as they see it."""
    assignment = courses.assignment_for(
        session=session, user=user, exercise_id=exercise_id, quiz_id=quiz_id, assignment_id=assignment_id
    )
    if assignment is None:
        return None
    return coursework.one_for_learner(session=session, user=user, assignment=assignment, settings=settings)


AssignmentQuery = Annotated[int | None, Query(ge=1, le=MAX_ROW_ID, description="The assignment the work counts for.")]


def chosen_assignment(text: str) -> int | None:
    """The form's ``assignment`` field as an id, or None when it is empty; anything else is ``NotFound``."""
    if not text.strip():
        return None
    number = plain_number(text.strip())
    if number is None or not 0 < number <= MAX_ROW_ID:
        raise NotFound("There is no such assignment.")
    return number


@router.get("/exercises/{slug}", response_class=HTMLResponse)
def show_exercise(
    request: Request,
    exercise: ValidExercise,
    user: CurrentUser,
    session: SessionDep,
    settings: SettingsDep,
    assignment: AssignmentQuery = None,
) -> Response:
    """Instructions, the lesson's visuals, the assignment's dates, the upload form and the learner's history."""
    return exercise_page(
        request, session=session, settings=settings, user=user, exercise=exercise, assignment_id=assignment
    )


@router.post("/exercises/{slug}/submissions", response_class=HTMLResponse)
def submit(
    request: Request,
    exercise: ValidExercise,
    user: CurrentUser,
    session: SessionDep,
    settings: SettingsDep,
    file: Annotated[UploadFile | None, File()] = None,
    code: Annotated[str, Form()] = "",
    assignment: Annotated[str, Form()] = "",
) -> Response:
    """Store an upload (or pasted code) for the assignment chosen and queue it; then show its progress."""
    assignment_id = chosen_assignment(assignment)

    def refused(
        error: str, status_code: int, *, link: tuple[str, str] | None = None, retry_after: int | None = None
    ) -> Response:
        return exercise_page(
            request,
            session=session,
            settings=settings,
            user=user,
            exercise=exercise,
            error=error,
            error_link=link,
            code=code,
            status_code=status_code,
            headers={"Retry-After": str(retry_after)} if retry_after is not None else None,
            assignment_id=assignment_id,
        )

    upload = file if file is not None and file.filename else None
    if upload is not None and code.strip():
        return refused("Upload a file or paste code, not both.", 422)
    if upload is not None:
        # Read one byte past the limit: enough to know the file is too big, never more.
        data = upload.file.read(settings.max_upload_bytes + 1)
        filename = upload.filename
    else:
        data = code.encode("utf-8")
        filename = submissions.PASTED_FILENAME if code.strip() else None
    try:
        submission = submissions.create(
            session=session,
            user=user,
            exercise_slug=exercise.slug,
            filename=filename,
            data=data,
            settings=settings,
            enqueue=request.app.state.enqueue,
            assignment_id=assignment_id,
        )
    except NotOpen as exc:
        return refused(exc.message, 409)
    except NotFound as exc:
        # Only the assignment can be unknown here (the exercise was found above); show the page without it.
        assignment_id = None
        return refused(exc.message, 404)
    except TooLarge as exc:
        return refused(exc.message, 413)
    except InvalidInput as exc:
        return refused(exc.message, 422)
    except StillGrading as exc:
        link = (f"/submissions/{exc.pending_id}", "Follow your previous submission.")
        return refused(exc.message, 429, link=link, retry_after=exc.retry_after)
    except RateLimited as exc:
        return refused(exc.message, 429, retry_after=exc.retry_after)
    except Overloaded as exc:
        return refused(exc.message, 503, retry_after=exc.retry_after)
    return RedirectResponse(f"/submissions/{submission.id}", status_code=303)


def _submission_context(session: Session, submission: Submission, viewer: User) -> dict[str, Any]:
    exercise = submissions.get_exercise_by_id(session=session, exercise_id=submission.exercise_id)
    position = submissions.queue_position(session=session, submission=submission)
    quiz = lesson_quiz_of(session, exercise)
    shown = visibility.report_for(session, submission=submission, viewer=viewer)
    return {
        "submission": submission,
        "attempt": submissions.attempt_number(session=session, submission=submission),
        "exercise": exercise,
        "report": Report.from_dict(shown) if shown else None,
        "checked_report": shown,
        "progress_message": progress_message(submission.status, position),
        "quiz_url": f"/quizzes/{quiz.slug}" if quiz else None,
        # Its author edits the code in place and sends it again; an instructor only reads it.
        "resubmit": submission.user_id == viewer.id,
    }


@router.get("/submissions/{submission_id}", response_class=HTMLResponse)
def show_submission(
    request: Request, submission: ValidSubmission, user: CurrentUser, session: SessionDep, settings: SettingsDep
) -> Response:
    """A submission: live progress until graded, then every case, and its code to edit and send again."""
    context = _submission_context(session, submission, user)
    if context["resubmit"]:
        context |= {
            "code": submission.source,
            "marked_lines": diagnosed_lines(context["checked_report"]),
            "wait_seconds": submissions.seconds_until_next(session=session, user=user, settings=settings),
            "interval_seconds": settings.submission_interval_seconds,
            "max_upload_bytes": settings.max_upload_bytes,
            "error": None,
            # Sent again, it counts for the same assignment (while the learner is still in its course).
            "work": _resubmitted_for(session, user, settings, submission),
        }
    return render(request, "submission.html", context)


def _resubmitted_for(
    session: Session, user: User, settings: Settings, submission: Submission
) -> coursework.LearnerAssignment | None:
    if submission.assignment_id is None:
        return None
    try:
        return assignment_view(
            session, user, settings, exercise_id=submission.exercise_id, assignment_id=submission.assignment_id
        )
    except NotFound:
        return None


@router.get("/submissions/{submission_id}/status")
def submission_status(submission: ValidSubmission, session: SessionDep) -> dict[str, Any]:
    """Progress as JSON, polled by the submission page's script."""
    position = submissions.queue_position(session=session, submission=submission)
    return {
        "id": submission.id,
        "status": submission.status,
        "queue_position": position,
        "message": progress_message(submission.status, position),
        "score": submission.score,
        "max_score": submission.max_score,
    }


@router.get("/submissions/{submission_id}/result", response_class=HTMLResponse)
def submission_result(
    request: Request, submission: ValidSubmission, user: CurrentUser, session: SessionDep
) -> Response:
    """The graded part of the submission page alone, for the script to insert."""
    return render(request, "_result.html", _submission_context(session, submission, user))


def _event_name(state: dict[str, Any]) -> str:
    """``progress`` until graded, ``graded`` with the result, ``fixes-checked`` once its fixes' checks are all in."""
    if state["status"] != "graded":
        return "progress"
    return "fixes-checked" if state["fixes"] == "checked" else "graded"


@router.get("/submissions/{submission_id}/events")
async def submission_events(request: Request, submission_id: RowId) -> Response:
    """Progress pushed as Server-Sent Events (``progress``, ``graded`` with the result's HTML, ``fixes-checked``)."""
    engine = request.app.state.engine

    def visible(session: Session, user: User) -> None:
        submissions.check_visible(session=session, submission_id=submission_id, user=user)

    slots = events.slots_of(request.app)
    try:
        access = await page_stream_access(request, visible, slots)
    except (RateLimited, Overloaded) as exc:
        return events.refused(request, exc)

    def check() -> dict[str, Any]:
        with Session(engine) as session:
            progress = submissions.get_progress(session=session, submission_id=submission_id)
            state: dict[str, Any] = {
                "status": progress.status,
                "queue_position": progress.queue_position,
                "message": progress_message(progress.status, progress.queue_position),
                "fixes": "none",
            }
            if progress.status == "graded":
                submission = submissions.get(session=session, submission_id=submission_id)
                checks = fixchecks.for_submission(session, submission_id=submission_id)
                if checks:
                    state["fixes"] = "pending" if fixchecks.any_pending(checks) else "checked"
                viewer = users.get(session=session, user_id=access.user_id)
                state["html"] = render_fragment(
                    request, "_result.html", _submission_context(session, submission, viewer)
                )
            return state

    def reads_on(state: dict[str, Any]) -> tuple[Hashable, ...]:
        # While it waits, any other submission's claim may move it up the queue.
        return (submission_id, ANY_SUBMISSION) if state["status"] == "queued" else (submission_id,)

    return events.stream(
        request,
        events.watch(
            check=check,
            render=lambda state: (_event_name(state), state),
            finished=lambda state: state["status"] == "graded" and state["fixes"] != "pending",
            keys=(submission_id, ANY_SUBMISSION),
            reads_on=reads_on,
            access=access,
            slots=slots,
            changes=submission_changes,
            max_seconds=EVENTS_MAX_SECONDS,
        ),
        slots=slots,
        user_id=access.user_id,
    )
