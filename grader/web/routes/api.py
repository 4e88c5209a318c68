"""The JSON API under `/api/v1`: bearer tokens (OAuth2 password flow), exercises, submissions, quizzes, courses."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from functools import partial
from typing import Annotated, Any, Literal, NamedTuple

import anyio.to_thread
from fastapi import APIRouter, Depends, File, Form, Query, Request, Response, UploadFile, status
from fastapi.responses import StreamingResponse
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel, Field, StrictInt
from sqlmodel import Session

from grader.models import COURSE_ROLES, MAX_ROW_ID, ExercisePublic, Submission, SubmissionPublic, User
from grader.services import (
    audit,
    courses,
    coursework,
    quizzes,
    submissions,
    tokens,
    users,
    visibility,
)
from grader.services.errors import AuthenticationFailed, InvalidInput, Overloaded, RateLimited
from grader.services.gradebook import columns, export
from grader.services.scope import course_scope
from grader.services.updates import submission_changes
from grader.web import events
from grader.web.deps import (
    ApiCourseStaff,
    ApiUser,
    RowId,
    SessionDep,
    SettingsDep,
    ValidApiSubmission,
    ValidExercise,
    api_stream_access,
)
from grader.web.security import client_address

router = APIRouter(prefix="/api/v1", tags=["api"])


class Token(BaseModel):
    """A bearer token: send it as `Authorization: Bearer <access_token>`."""

    access_token: str
    token_type: str = "bearer"
    expires_in: int = Field(description="Seconds until the token stops working.")


class ExerciseOut(ExercisePublic):
    """An exercise a learner can submit to."""

    submit_url: str


class SubmissionCreated(BaseModel):
    """A stored submission waiting for a grader."""

    id: int
    status: str = Field(description="queued, running or graded.")
    url: str = Field(description="Where to follow its progress.")


class SubmissionOut(SubmissionPublic):
    """A submission and, once graded, the grader's full report."""

    exercise: str = Field(description="The exercise's slug.")
    attempt: int = Field(description="Which of its author's submissions to this exercise it is: 1 for the first.")
    queue_position: int | None = Field(description="1 when it is next; null unless queued.")


class QuizSummary(BaseModel):
    """A quiz in the list."""

    slug: str
    title: str
    url: str


class ChoiceOut(BaseModel):
    """An option; whether it is right is not part of it."""

    id: int
    label: str = Field(description="A, B, C or D in the order the options are shown (each opening shuffles them).")
    text: str


class QuestionOut(BaseModel):
    """A question and its options."""

    id: int
    position: int
    prompt: str
    choices: list[ChoiceOut]


class QuizOut(BaseModel):
    """A quiz to take: its visuals and questions, never the answers."""

    slug: str
    title: str
    intro: str
    visuals: dict[str, Any]
    questions: list[QuestionOut]
    attempts_left: int | None = Field(description="null when attempts are unlimited.")
    start_id: int | None = Field(
        description="This opening of the quiz (its order of options); send it back with the answers."
        " The same until an attempt is made from it. null when no attempts are left."
    )
    right_answers: str = Field(description="When the right answers are marked in the results.")


class AttemptIn(BaseModel):
    """One choice per question: `{"answers": {"<question id>": <choice id>, ...}, "start_id": <id>}`, optionally the assignment."""

    # Strict: JSON true or "3" is not a choice id (lax parsing would read true as 1).
    answers: dict[str, StrictInt]
    start_id: StrictInt | None = Field(
        None, description="The quiz's `start_id` the answers were given on; if left out, the open one."
    )
    assignment_id: StrictInt | None = Field(
        default=None,
        ge=1,
        le=MAX_ROW_ID,
        description="The assignment the attempt counts for; without it, the quiz's assignment in your first course.",
    )


class Answers(NamedTuple):
    """An attempt's answers as (question id, choice id) pairs, the start they were given on, and the assignment."""

    pairs: list[tuple[str, int]]
    start_id: int | None
    assignment_id: int | None


class CourseOut(BaseModel):
    """A course you belong to, with your role in it."""

    id: int
    title: str
    role: Literal["learner", "ta", "instructor"]
    assignments_url: str


class LatePolicyOut(BaseModel):
    """What happens to work sent after the due date."""

    policy: Literal["none", "penalty"] = Field(description="none: refused; penalty: graded, counted at a share.")
    penalty_percent: float = Field(description="Percent taken off per started unit late.")
    penalty_unit: Literal["hour", "day"]
    penalty_floor_percent: float = Field(description="Late work never counts less than this percent.")
    sentence: str = Field(description="The policy in one plain sentence.")


class AssignmentOut(BaseModel):
    """An assignment as you see it: your own dates, and (for a learner) where you stand."""

    id: int
    course_id: int
    title: str
    exercise: str | None = Field(description="The exercise's slug, or null.")
    quiz: str | None = Field(description="The quiz's slug, or null.")
    opens_at: datetime | None = Field(description="UTC; null when always open.")
    due_at: datetime | None = Field(description="Your due date in UTC (your extension's, when you have one).")
    extended: bool = Field(description="Whether `due_at` is an extension given to you.")
    late_policy: LatePolicyOut
    status: str | None = Field(
        description="For a learner: not_open, open, submitted, submitted_late, late, extended or closed; "
        "null for course staff."
    )
    best_score: float | None = Field(description="Your best counted score (after any late share), or null.")
    max_score: float | None = Field(description="The exercise's maximum, or null.")


class EvidenceOut(BaseModel):
    """Where the quiz's trace (its `visuals`) shows the right answer.

    Once the right answers are shown, the cell (`row` and `column`); before, for a wrong answer,
    only the line through it to read along (one of them, the other null).
    """

    table: Literal["execution_table", "variable_tracker"] = Field(description="Which table of the trace.")
    row: str | None = Field(
        default=None,
        description="In the execution_table, the step (the value of its first column);"
        " in the variable_tracker, the variable's name. Null when only a column is marked.",
    )
    column: str | None = Field(
        default=None,
        description="In the execution_table, a column; in the variable_tracker, a moment."
        " Null when only a row is marked.",
    )


class QuestionFeedbackOut(BaseModel):
    """How one question went: why the option chosen is or is not right, and, once they are revealed,
    the right answer, why, and the cell of the trace that shows it.

    Sent only once an attempt is stored: the quiz itself never carries them.
    """

    question_id: int
    choice_id: int = Field(description="The option chosen.")
    correct: bool = Field(description="Whether the option chosen is the right one.")
    choices: list[ChoiceOut] = Field(description="The options, labelled in the order they were shown.")
    hint: str = Field(description="Where in the trace to look.")
    choice_feedback: str = Field(
        description="Why the option chosen is or is not right (Markdown); never names the right option."
    )
    right_answer: ChoiceOut | None = Field(
        description="The right option; null until the right answers are marked (see `right_answers_shown`),"
        " or if the question no longer has one."
    )
    explanation: str = Field(
        description="Why the right option is right (Markdown); empty until the right answers are shown."
    )
    evidence: EvidenceOut | None = Field(
        description="Where the trace shows the right answer: the cell once the right answers are shown, the line"
        " to read along before (for a wrong answer; null for a right one); null for questions written before it"
        " was recorded."
    )


class AttemptOut(BaseModel):
    """A scored attempt."""

    id: int
    quiz: str = Field(validation_alias="quiz_slug", description="The quiz's slug.")
    score: int = Field(description="Right answers.")
    max_score: int
    late_factor: float = Field(
        description="The share of `score` that counts: 1 on time, less for a late attempt under a penalty."
    )
    counted_score: float = Field(description="`score` × `late_factor`: what the gradebook and the LMS count.")
    created_at: datetime
    questions: list[QuestionFeedbackOut]
    right_answers_shown: bool = Field(description="Whether `right_answer` is filled in.")
    right_answers: str = Field(description="When the right answers are marked, or why they are now.")


@router.post(
    "/token",
    response_model=Token,
    summary="Get a bearer token",
    responses={
        401: {"description": "Wrong e-mail or password."},
        429: {"description": "Too many failed sign-ins for this e-mail or from this address; see `Retry-After`."},
        503: {"description": "Too many sign-ins at once; see `Retry-After`."},
    },
)
def issue_token(
    request: Request,
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    session: SessionDep,
    settings: SettingsDep,
) -> Token:
    """Exchange e-mail (as `username`) and password for a bearer token; failures meet growing delays."""
    user = users.sign_in(
        session=session,
        email=form.username,
        password=form.password,
        client_address=client_address(request),
        settings=settings,
    )
    issued = tokens.issue(session=session, user=user, label=_token_label(request), settings=settings)
    return Token(access_token=issued.secret, expires_in=settings.api_token_seconds)


def _token_label(request: Request) -> str:
    """What the owner will recognise a token by in their list: the program that asked for it."""
    agent = request.headers.get("user-agent", "").strip()
    return f"POST /api/v1/token ({agent})" if agent else "POST /api/v1/token"


class TokenOut(BaseModel):
    """One of your API tokens (never its secret)."""

    id: int
    label: str = Field(
        description="The name its owner gave it on the account page, or the program that asked for it, as it named itself."
    )
    created_at: datetime
    expires_at: datetime
    last_used_at: datetime | None = Field(description="To the minute; null if never used.")
    current: bool = Field(description="Whether this request was made with it.")


@router.get("/tokens", response_model=list[TokenOut], summary="List your API tokens")
def list_tokens(request: Request, user: ApiUser, session: SessionDep) -> list[TokenOut]:
    """Your tokens still in force, newest first."""
    current = getattr(request.state, "api_token_id", None)
    return [
        TokenOut.model_validate({**row.model_dump(), "current": row.id == current})
        for row in tokens.list_for_user(session=session, user=user)
    ]


@router.delete(
    "/tokens/{token_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Revoke one of your API tokens",
    responses={404: {"description": "No such token of yours."}},
)
def revoke_token(token_id: RowId, user: ApiUser, session: SessionDep) -> Response:
    """The token stops working at once (revoking the one in use signs this program out)."""
    tokens.revoke(session=session, user=user, token_id=token_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/account/sign-out-everywhere",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Sign out everywhere",
)
def sign_out_everywhere(user: ApiUser, session: SessionDep) -> Response:
    """End your session in every browser and revoke every API token, the one in use included (as the account page does)."""
    users.sign_out_everywhere(session=session, user=user)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/exercises", response_model=list[ExerciseOut], summary="List exercises")
def list_exercises(request: Request, user: ApiUser, session: SessionDep) -> list[ExerciseOut]:
    """Every exercise open for submissions."""
    return [
        ExerciseOut(
            id=exercise.id,
            slug=exercise.slug,
            title=exercise.title,
            summary=exercise.summary,
            max_score=exercise.max_score,
            instructions=exercise.instructions,
            submit_url=str(request.url_for("create_submission", slug=exercise.slug)),
        )
        for exercise in submissions.list_exercises(session=session)
    ]


@router.post(
    "/exercises/{slug}/submissions",
    response_model=SubmissionCreated,
    status_code=status.HTTP_202_ACCEPTED,
    summary="Submit a solution file",
    responses={
        404: {"description": "No such exercise, or no such assignment of yours."},
        409: {"description": "The assignment is not open yet, or past due and takes no late work."},
        413: {"description": "The file is over the size limit."},
        429: {"description": "Too soon after the last submission, or the previous one is still being graded."},
        503: {"description": "The grading queue is full; try again after Retry-After seconds."},
    },
)
def create_submission(
    request: Request,
    exercise: ValidExercise,
    user: ApiUser,
    session: SessionDep,
    settings: SettingsDep,
    file: Annotated[UploadFile, File(description="The solution, a UTF-8 .py file.")],
    assignment_id: Annotated[
        int | None,
        Form(
            ge=1,
            le=MAX_ROW_ID,
            description="The assignment it counts for; without it, the exercise's assignment in your first course.",
        ),
    ] = None,
) -> SubmissionCreated:
    """Store the file and queue its grading; follow it at the returned `url`."""
    # One byte past the limit is enough for the service to refuse it (413), never more.
    data = file.file.read(settings.max_upload_bytes + 1)
    submission = submissions.create(
        session=session,
        user=user,
        exercise_slug=exercise.slug,
        filename=file.filename,
        data=data,
        settings=settings,
        enqueue=request.app.state.enqueue,
        assignment_id=assignment_id,
    )
    return SubmissionCreated(
        id=submission.id,
        status=submission.status,
        url=str(request.url_for("get_submission", submission_id=submission.id)),
    )


def _submission_out(session: Session, submission: Submission, viewer: User) -> SubmissionOut:
    return SubmissionOut(
        id=submission.id,
        user_id=submission.user_id,
        exercise_id=submission.exercise_id,
        exercise=submissions.get_exercise_by_id(session=session, exercise_id=submission.exercise_id).slug,
        attempt=submissions.attempt_number(session=session, submission=submission),
        filename=submission.filename,
        status=submission.status,
        queue_position=submissions.queue_position(session=session, submission=submission),
        score=submission.score,
        max_score=submission.max_score,
        created_at=submission.created_at,
        started_at=submission.started_at,
        finished_at=submission.finished_at,
        report=(
            visibility.report_for(session, submission=submission, viewer=viewer)
            if submission.status == "graded"
            else None
        ),
    )


WAIT_MAX_SECONDS = 60.0
"""The longest a request may wait for a grading to end (``?wait=``)."""


@router.get(
    "/submissions/{submission_id}",
    response_model=SubmissionOut,
    summary="Follow a submission",
    responses={
        401: {"description": "The token was revoked, or the account signed out everywhere, while waiting."},
        429: {"description": "This account already holds as many long polls and live pages as allowed."},
        503: {"description": "This server holds as many long polls and live pages as it can."},
    },
)
async def get_submission(
    request: Request,
    user: ApiUser,
    submission: ValidApiSubmission,
    session: SessionDep,
    wait: Annotated[
        float,
        Query(
            ge=0,
            le=WAIT_MAX_SECONDS,
            description="Seconds to wait for the grading to end before answering (a long poll); 0 answers at once.",
        ),
    ] = 0,
) -> SubmissionOut | Response:
    """Status (queued, running, graded), score, and the report once graded. Only your own."""
    if wait and submission.status != "graded":
        submission_id = submission.id
        # No connection is held while waiting: each look is a short read of its own.
        await anyio.to_thread.run_sync(session.close)
        engine = request.app.state.engine

        def read_status() -> str:
            with Session(engine) as reading:
                return submissions.get_progress(session=reading, submission_id=submission_id).status

        def visible(reading: Session, holder: User) -> None:
            submissions.check_visible(session=reading, submission_id=submission_id, user=holder)

        slots = events.slots_of(request.app)
        try:
            slot = slots.take(user.id, token=events.bearer_digest(request.headers.get("authorization")))
        except (RateLimited, Overloaded) as exc:
            return events.refused(request, exc)
        with slot:
            try:
                await events.while_connected(
                    request,
                    partial(
                        events.wait_for,
                        check=read_status,
                        done=lambda state: state == "graded",
                        timeout=wait,
                        keys=(submission_id,),
                        access=api_stream_access(request, user, visible),
                        slots=slots,
                        changes=submission_changes,
                    ),
                )
            except events.ClientGone:
                # Nobody reads the answer; the slot is free again.
                return Response(status_code=status.HTTP_204_NO_CONTENT)
            except events.AccessEnded:
                raise AuthenticationFailed(
                    "This token stopped working while waiting (revoked, signed out everywhere, or the password "
                    "changed); request a new one."
                ) from None
        submission = await anyio.to_thread.run_sync(
            partial(submissions.get, session=session, submission_id=submission_id)
        )
    return await anyio.to_thread.run_sync(_submission_out, session, submission, user)


@router.get("/quizzes", response_model=list[QuizSummary], summary="List quizzes")
def list_quizzes(request: Request, user: ApiUser, session: SessionDep) -> list[QuizSummary]:
    """Every quiz that can be taken."""
    return [
        QuizSummary(slug=quiz.slug, title=quiz.title, url=str(request.url_for("get_quiz", slug=quiz.slug)))
        for quiz in quizzes.list_quizzes(session=session)
    ]


@router.get("/quizzes/{slug}", response_model=QuizOut, summary="Get a quiz (no answers)")
def get_quiz(slug: str, user: ApiUser, session: SessionDep, settings: SettingsDep) -> QuizOut:
    """Questions and options to answer; which option is right is not sent."""
    standing = quizzes.get_for_user(session=session, slug=slug, user=user, settings=settings, opening=True)
    return QuizOut.model_validate(
        {**vars(standing.quiz), "attempts_left": standing.attempts_left, "right_answers": standing.reveal.note},
        from_attributes=True,
    )


async def answer_pairs(request: Request, attempt: AttemptIn) -> Answers:
    """The answers as pairs, refusing a question id given twice (JSON parsers keep only the last)."""
    body = json.loads(await request.body(), object_pairs_hook=_keep_pairs)
    answers = body.get("answers") if isinstance(body, dict) else None
    if isinstance(answers, _Pairs):
        keys = [key for key, _ in answers.pairs]
        repeated = sorted({key for key in keys if keys.count(key) > 1})
        if repeated:
            raise InvalidInput(f"Question {', '.join(repeated)} was answered more than once.", field="answers")
    return Answers(pairs=list(attempt.answers.items()), start_id=attempt.start_id, assignment_id=attempt.assignment_id)


class _Pairs(dict[str, Any]):
    """A parsed JSON object that remembers every key/value pair, repeated keys included."""

    def __init__(self, pairs: list[tuple[str, Any]]) -> None:
        super().__init__(pairs)
        self.pairs = pairs


def _keep_pairs(pairs: list[tuple[str, Any]]) -> _Pairs:
    return _Pairs(pairs)


@router.post(
    "/quizzes/{slug}/attempts",
    response_model=AttemptOut,
    status_code=status.HTTP_201_CREATED,
    summary="Answer a quiz",
    responses={
        404: {"description": "No such quiz, or no such assignment of yours."},
        409: {"description": "No attempts left, or the assignment is not open (not yet, or past due)."},
        422: {"description": "Unknown, repeated or missing answers."},
    },
)
def submit_attempt(
    slug: str,
    answers: Annotated[Answers, Depends(answer_pairs)],
    user: ApiUser,
    session: SessionDep,
    settings: SettingsDep,
) -> AttemptOut:
    """Score an attempt: per question right or wrong and why, then the right option and its cell once they may be shown."""
    result = quizzes.submit_attempt(
        session=session,
        user=user,
        slug=slug,
        answers=answers.pairs,
        start_id=answers.start_id,
        settings=settings,
        assignment_id=answers.assignment_id,
    )
    return AttemptOut(
        id=result.id,
        quiz_slug=result.quiz_slug,
        score=result.score,
        max_score=result.max_score,
        late_factor=result.late_factor,
        counted_score=result.counted_score,
        created_at=result.created_at,
        questions=[_feedback_out(question) for question in result.questions],
        right_answers_shown=result.reveal.shown,
        right_answers=result.reveal.note,
    )


@router.get("/courses", response_model=list[CourseOut], summary="List your courses")
def list_courses(request: Request, user: ApiUser, session: SessionDep) -> list[CourseOut]:
    """The courses you belong to, oldest first, with your role in each."""
    return [
        CourseOut(
            id=course.id,
            title=course.title,
            role=role,
            assignments_url=str(request.url_for("list_course_assignments", course_id=course.id)),
        )
        for course, role in courses.for_user(session=session, user=user)
    ]


@router.get(
    "/courses/{course_id}/assignments",
    response_model=list[AssignmentOut],
    summary="List a course's assignments",
    responses={404: {"description": "No such course of yours."}},
)
def list_course_assignments(
    course_id: RowId, user: ApiUser, session: SessionDep, settings: SettingsDep
) -> list[AssignmentOut]:
    """The course's assignments in order, with your own due date and (for a learner) your status."""
    courses.require_role(session=session, user=user, course_id=course_id, roles=COURSE_ROLES)
    rows = coursework.for_learner(session=session, user=user, course_id=course_id, settings=settings)
    return [_assignment_out(row) for row in rows]


@router.get("/assignments", response_model=list[AssignmentOut], summary="List your assignments")
def list_assignments(user: ApiUser, session: SessionDep, settings: SettingsDep) -> list[AssignmentOut]:
    """Your assignments across your courses, course by course, with your own due dates."""
    return [_assignment_out(row) for row in coursework.for_learner(session=session, user=user, settings=settings)]


def _assignment_out(row: coursework.LearnerAssignment) -> AssignmentOut:
    assignment = row.assignment
    learner = row.role == "learner"
    return AssignmentOut(
        id=assignment.id,
        course_id=assignment.course_id,
        title=assignment.title,
        exercise=row.exercise.slug if row.exercise else None,
        quiz=row.quiz.slug if row.quiz else None,
        opens_at=row.deadline.opens_at,
        due_at=row.deadline.due_at,
        extended=row.deadline.extended,
        late_policy=LatePolicyOut(
            policy=assignment.late_policy,
            penalty_percent=assignment.penalty_percent,
            penalty_unit=assignment.penalty_unit,
            penalty_floor_percent=assignment.penalty_floor_percent,
            sentence=coursework.late_policy_sentence(assignment),
        ),
        status=row.status if learner else None,
        best_score=row.best.counted_score if learner and row.best else None,
        max_score=row.exercise.max_score if row.exercise else None,
    )


def _feedback_out(question: quizzes.QuestionFeedback) -> QuestionFeedbackOut:
    right = None
    if question.right_choice_id is not None:
        right = ChoiceOut(id=question.right_choice_id, label=question.right_label, text=question.right_text)
    return QuestionFeedbackOut(
        question_id=question.question_id,
        choice_id=question.choice_id,
        correct=question.correct,
        choices=[ChoiceOut(id=option.id, label=option.label, text=option.text) for option in question.options],
        hint=question.hint,
        choice_feedback=question.choice_feedback,
        right_answer=right,
        explanation=question.explanation,
        evidence=EvidenceOut.model_validate(question.evidence) if question.evidence is not None else None,
    )


class ExerciseStandingOut(BaseModel):
    """A learner on one exercise."""

    best: float | None
    latest: float | None
    max_score: float
    submissions: int


class QuizStandingOut(BaseModel):
    """A learner on one quiz: the attempt that counts."""

    score: float | None = Field(description="The counted attempt's score after the late policy; null before any.")
    max_score: int | None
    attempts: int


class GradebookRowOut(BaseModel):
    """One learner's results, by exercise and quiz slug."""

    user_id: int
    email: str
    display_name: str
    exercises: dict[str, ExerciseStandingOut]
    quizzes: dict[str, QuizStandingOut]
    submissions: int = Field(validation_alias="submission_count", description="Submissions to every exercise.")
    last_activity: datetime | None


class GradebookPage(BaseModel):
    """A page of the gradebook: learners in id order, and where the next page is."""

    rows: list[GradebookRowOut]
    next: str | None = Field(description="URL of the next page; null on the last one.")


GRADEBOOK_PAGE_DEFAULT = 100
GRADEBOOK_PAGE_MAX = 1000


@router.get(
    "/gradebook",
    response_model=GradebookPage,
    summary="A course's gradebook (its instructors and TAs), a page at a time",
    responses={
        403: {"description": "Only a course's instructors and TAs may read its gradebook."},
        404: {"description": "No course of yours has this id (or this assignment)."},
    },
)
def get_gradebook(
    request: Request,
    course: ApiCourseStaff,
    session: SessionDep,
    settings: SettingsDep,
    after: Annotated[
        int,
        Query(
            ge=0,
            le=MAX_ROW_ID,
            description="Cursor: the id of the last learner of the previous page (0 for the first).",
        ),
    ] = 0,
    limit: Annotated[
        int, Query(ge=1, le=GRADEBOOK_PAGE_MAX, description="Learners per page.")
    ] = GRADEBOOK_PAGE_DEFAULT,
    assignment: Annotated[
        int | None, Query(ge=1, le=MAX_ROW_ID, description="Only this assignment's exercise and quiz.")
    ] = None,
) -> StreamingResponse:
    """One row per learner of the course, in id order: best and latest score per exercise, the counted quiz score.

    `course_id` names the course (without it, the oldest course you teach); its learners are its members
    with the role learner, its columns the exercises and quizzes its assignments place. Follow `next` until
    it is null to read every learner; the body is sent as it is read.
    """
    scope = course_scope(session=session, course_id=course.course.id, assignment_id=assignment)
    if after == 0:  # the first page starts an export; its follow-ups are the same one
        target = f"gradebook of course {scope.course_id} (API)"
        audit.record(
            session=session, actor=course.user, action="gradebook.export", course_id=scope.course_id, target=target
        )
        session.commit()
    page = export.api_page(session=session, scope=scope, after=after, limit=limit, settings=settings)
    next_url = str(request.url.include_query_params(after=page.next_after, limit=limit)) if page.next_after else None
    return StreamingResponse(_gradebook_json(page.rows, next_url), media_type="application/json")


def _gradebook_json(rows: list[columns.GradebookRow], next_url: str | None) -> Iterator[str]:
    yield '{"rows":['
    for index, row in enumerate(rows):
        text = GradebookRowOut.model_validate(row, from_attributes=True).model_dump_json()
        yield text if index == 0 else "," + text
    yield '],"next":' + json.dumps(next_url) + "}"
