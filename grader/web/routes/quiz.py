"""The take-quiz page and an attempt's result."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session

from grader.config import Settings
from grader.models import User
from grader.services import coursework, quizzes
from grader.services.errors import AttemptLimitReached, InvalidInput, NotFound, NotOpen
from grader.services.lti import grades as lti_grades
from grader.services.numbers import plain_number
from grader.web.deps import CurrentUser, RowId, SessionDep, SettingsDep
from grader.web.routes.exercises import AssignmentQuery, assignment_view, chosen_assignment
from grader.web.security import verify_csrf
from grader.web.templating import render

router = APIRouter(dependencies=[Depends(verify_csrf)], include_in_schema=False)

ANSWER_PREFIX = "answer-"


def valid_attempt(
    slug: str, attempt_id: RowId, user: CurrentUser, session: SessionDep, settings: SettingsDep
) -> quizzes.AttemptResult:
    """The attempt in the path if it is at this quiz and the user made it (or teaches); 404 otherwise."""
    attempt = quizzes.get_attempt(session=session, attempt_id=attempt_id, user=user, settings=settings)
    if attempt.quiz_slug != slug:
        raise NotFound("No such attempt.")
    return attempt


ValidAttempt = Annotated[quizzes.AttemptResult, Depends(valid_attempt)]


def quiz_page(
    request: Request,
    *,
    session: Session,
    settings: Settings,
    user: User,
    slug: str,
    error: str | None = None,
    chosen: dict[int, int] | None = None,
    status_code: int = 200,
    assignment_id: int | None = None,
) -> Response:
    """The quiz form; after a refused attempt it says why and keeps the choices made."""
    standing = quizzes.get_for_user(session=session, slug=slug, user=user, settings=settings, opening=True)
    quiz_row = quizzes.get_quiz(session=session, slug=slug)
    work = assignment_view(session, user, settings, quiz_id=quiz_row.id, assignment_id=assignment_id)
    context: dict[str, Any] = {
        "quiz": standing.quiz,
        "attempts": standing.attempts,
        "counted": standing.counted,
        "attempts_left": standing.attempts_left,
        "reveal": standing.reveal,
        "taking": standing.taking,
        "scoring": settings.quiz_scoring,
        "error": error,
        "chosen": chosen or {},
        "work": work,
        "policy_sentence": coursework.late_policy_sentence(work.assignment) if work else "",
    }
    return render(request, "quiz.html", context, status_code=status_code)


@router.get("/quizzes/{slug}", response_class=HTMLResponse)
def show_quiz(
    request: Request,
    slug: str,
    user: CurrentUser,
    session: SessionDep,
    settings: SettingsDep,
    assignment: AssignmentQuery = None,
) -> Response:
    """The questions with the lesson's visuals and the assignment's dates; one choice each."""
    return quiz_page(request, session=session, settings=settings, user=user, slug=slug, assignment_id=assignment)


async def answer_pairs(request: Request) -> list[tuple[str, str]]:
    """The form's ``answer-<question id>`` fields as (question id, choice id) pairs.

    Pairs, not a dict: a question answered twice must reach the service to be refused.
    """
    form = await request.form()
    return [
        (key.removeprefix(ANSWER_PREFIX), str(value))
        for key, value in form.multi_items()
        if key.startswith(ANSWER_PREFIX)
    ]


async def start_field(request: Request) -> str | None:
    """The form's ``start``: which opening of the quiz (and so which order of options) was answered."""
    value = (await request.form()).get("start")
    return value if isinstance(value, str) else None


@router.post("/quizzes/{slug}/attempts", response_class=HTMLResponse)
def submit_quiz(
    request: Request,
    slug: str,
    user: CurrentUser,
    session: SessionDep,
    settings: SettingsDep,
    pairs: Annotated[list[tuple[str, str]], Depends(answer_pairs)],
    start: Annotated[str | None, Depends(start_field)],
    assignment: Annotated[str, Form()] = "",
) -> Response:
    """Score an attempt for the assignment chosen and show its result; a refused attempt keeps the choices made."""
    assignment_id = chosen_assignment(assignment)
    try:
        result = quizzes.submit_attempt(
            session=session,
            user=user,
            slug=slug,
            answers=pairs,
            start_id=start,
            settings=settings,
            assignment_id=assignment_id,
        )
    except (InvalidInput, AttemptLimitReached, NotOpen) as exc:
        numbers = [(plain_number(q), plain_number(c)) for q, c in pairs]
        chosen = {q: c for q, c in numbers if q is not None and c is not None}
        status_code = 422 if isinstance(exc, InvalidInput) else 409
        return quiz_page(
            request,
            session=session,
            settings=settings,
            user=user,
            slug=slug,
            error=exc.message,
            chosen=chosen,
            status_code=status_code,
            assignment_id=assignment_id,
        )
    due = lti_grades.record_attempt(session=session, attempt_id=result.id, settings=settings)
    if due is not None:
        request.app.state.enqueue_score_send(*due)
    return RedirectResponse(f"/quizzes/{slug}/attempts/{result.id}", status_code=303)


@router.get("/quizzes/{slug}/attempts/{attempt_id}", response_class=HTMLResponse)
def show_attempt(
    request: Request, slug: str, attempt: ValidAttempt, session: SessionDep, settings: SettingsDep, user: CurrentUser
) -> Response:
    """Score x/N with, per question, right or wrong, the options as the learner saw them, and why."""
    standing = quizzes.get_for_user(session=session, slug=slug, user=user, settings=settings)
    return render(
        request,
        "quiz_result.html",
        {
            "quiz": standing.quiz,
            "attempt": attempt,
            "attempts_left": standing.attempts_left,
            "taking": standing.taking,
        },
    )
