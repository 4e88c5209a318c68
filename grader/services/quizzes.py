"""Quizzes for learners and their attempts.

A learner's view of a quiz carries no answers and no hints: which choice is
right is only ever read inside ``submit_attempt``. An attempt is checked in
full (every question answered once, with one of its own choices) before it is
stored, so a refused attempt leaves nothing behind. The attempt limit is
checked under a lock on the learner's row, so simultaneous attempts cannot
overshoot it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, func, select

from grader.config import Settings, get_settings
from grader.db import lock_for_update
from grader.models import MAX_ROW_ID, AttemptAnswer, Choice, Question, Quiz, QuizAttempt, User, utcnow
from grader.services import courses, gradebook, updates
from grader.services.errors import AttemptLimitReached, InvalidInput, NotFound, NotOpen
from grader.services.numbers import plain_number, shortened


@dataclass(frozen=True)
class ChoiceView:
    """An option as a learner sees it: no hint of whether it is right."""

    id: int
    label: str
    text: str


@dataclass(frozen=True)
class QuestionView:
    """A question as a learner sees it before answering."""

    id: int
    key: str
    position: int
    prompt: str
    choices: list[ChoiceView]


@dataclass(frozen=True)
class QuizView:
    """A quiz with its visuals and questions, safe to send to a learner's browser."""

    id: int
    slug: str
    title: str
    intro: str
    visuals: dict[str, Any]
    questions: list[QuestionView]


@dataclass(frozen=True)
class QuestionFeedback:
    """How one question went in an attempt.

    hint: where in the trace to look; right_choice_id/right_label/right_text: the right
    option (None/empty when the question has no active right option); explanation: why it
    is right; evidence: the trace's cell that shows it (``{"table", "row", "column"}``, or
    None for content synced before it existed).
    """

    question_id: int
    position: int
    prompt: str
    choice_id: int
    choice_label: str
    choice_text: str
    correct: bool
    hint: str
    right_choice_id: int | None = None
    right_label: str = ""
    right_text: str = ""
    explanation: str = ""
    evidence: dict[str, Any] | None = None


@dataclass(frozen=True)
class AttemptResult:
    """A stored attempt: score out of ``max_score`` and feedback per question."""

    id: int
    quiz_slug: str
    user_id: int
    score: int
    max_score: int
    created_at: datetime
    questions: list[QuestionFeedback]


def list_quizzes(*, session: Session) -> list[Quiz]:
    """The quizzes learners can take, by title."""
    return list(session.exec(select(Quiz).where(Quiz.active).order_by(Quiz.title, col(Quiz.id))))


def get_quiz(*, session: Session, slug: str) -> Quiz:
    """The active quiz with this slug, or ``NotFound``."""
    quiz = session.exec(select(Quiz).where(Quiz.slug == slug, Quiz.active)).first()
    if quiz is None:
        raise NotFound(f"There is no quiz called {slug!r}.")
    return quiz


def _active_questions(session: Session, quiz: Quiz) -> list[Question]:
    return list(
        session.exec(
            select(Question).where(Question.quiz_id == quiz.id, Question.active).order_by(col(Question.position))
        )
    )


def _active_choices(session: Session, questions: list[Question]) -> dict[int, list[Choice]]:
    ids = [question.id for question in questions]
    by_question: dict[int, list[Choice]] = {question_id: [] for question_id in ids}
    if not ids:
        return by_question
    choices = session.exec(
        select(Choice).where(col(Choice.question_id).in_(ids), Choice.active).order_by(col(Choice.position))
    )
    for choice in choices:
        by_question[choice.question_id].append(choice)
    return by_question


def get_for_learner(*, session: Session, slug: str) -> QuizView:
    """The quiz ready to be taken: questions and options, without answers or hints."""
    quiz = get_quiz(session=session, slug=slug)
    questions = _active_questions(session, quiz)
    choices = _active_choices(session, questions)
    return QuizView(
        id=quiz.id,
        slug=quiz.slug,
        title=quiz.title,
        intro=quiz.intro,
        visuals=quiz.visuals,
        questions=[
            QuestionView(
                id=question.id,
                key=question.key,
                position=question.position,
                prompt=question.prompt,
                choices=[ChoiceView(id=c.id, label=c.label, text=c.text) for c in choices[question.id]],
            )
            for question in questions
        ],
    )


def attempts_used(*, session: Session, user: User, quiz: Quiz) -> int:
    """How many attempts ``user`` has made at ``quiz``."""
    return session.exec(
        select(func.count())
        .select_from(QuizAttempt)
        .where(QuizAttempt.user_id == user.id, QuizAttempt.quiz_id == quiz.id)
    ).one()


def attempts_left(*, session: Session, user: User, quiz: Quiz, settings: Settings | None = None) -> int | None:
    """Attempts ``user`` may still make, or None when there is no limit."""
    settings = settings or get_settings()
    if settings.quiz_max_attempts <= 0:
        return None
    return max(0, settings.quiz_max_attempts - attempts_used(session=session, user=user, quiz=quiz))


@dataclass(frozen=True)
class QuizForLearner:
    """A quiz to take and where ``user`` stands on it.

    attempts: the learner's attempts, newest first; counted: the one that counts
    (per the quiz-scoring setting); attempts_left: None when attempts are unlimited.
    """

    quiz: QuizView
    attempts: list[QuizAttempt]
    counted: QuizAttempt | None
    attempts_left: int | None


def get_for_user(*, session: Session, slug: str, user: User, settings: Settings | None = None) -> QuizForLearner:
    """The quiz ready to be taken by ``user``, with their attempts and how many are left."""
    settings = settings or get_settings()
    quiz = get_quiz(session=session, slug=slug)
    attempts = list_attempts(session=session, user=user, quiz_slug=slug)
    return QuizForLearner(
        quiz=get_for_learner(session=session, slug=slug),
        attempts=attempts,
        counted=counted_attempt(attempts, scoring=settings.quiz_scoring),
        attempts_left=attempts_left(session=session, user=user, quiz=quiz, settings=settings),
    )


def _as_id(value: Any, what: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    number = plain_number(value.strip()) if isinstance(value, str) else None
    if number is None:
        # int() reads "١٢", " 12_0 " or 5,000 digits too (the last with ValueError); an id is plain ASCII digits.
        raise InvalidInput(f"{what} {shortened(repr(value))} is not an id.", field="answers")
    return number


def _pairs(answers: Mapping[Any, Any] | Iterable[tuple[Any, Any]]) -> list[tuple[int, int]]:
    items = answers.items() if isinstance(answers, Mapping) else answers
    return [(_as_id(question, "Question"), _as_id(choice, "Choice")) for question, choice in items]


def submit_attempt(
    *,
    session: Session,
    user: User,
    slug: str,
    answers: Mapping[Any, Any] | Iterable[tuple[Any, Any]],
    settings: Settings | None = None,
    assignment_id: int | None = None,
) -> AttemptResult:
    """Score and store an attempt: ``answers`` maps question id → choice id, one per question.

    Pairs (rather than a mapping) may be given so that a question answered twice is caught.
    """
    settings = settings or get_settings()
    quiz = get_quiz(session=session, slug=slug)
    questions = _active_questions(session, quiz)
    choices = _active_choices(session, questions)
    pairs = _pairs(answers)

    by_id = {question.id: question for question in questions}
    chosen: dict[int, Choice] = {}
    for question_id, choice_id in pairs:
        question = by_id.get(question_id)
        if question is None:
            # An id no row can have is simply not a question of this quiz (and must not reach the database).
            other = session.get(Question, question_id) if 0 < question_id <= MAX_ROW_ID else None
            if other is not None and other.quiz_id != quiz.id:
                raise InvalidInput(f"Question {question_id} belongs to another quiz.", field="answers")
            raise InvalidInput(f"There is no question {question_id} in this quiz.", field="answers")
        if question_id in chosen:
            raise InvalidInput(f"Question {question.position} was answered more than once.", field="answers")
        choice = next((c for c in choices[question_id] if c.id == choice_id), None)
        if choice is None:
            raise InvalidInput(f"Choice {choice_id} is not an option of question {question.position}.", field="answers")
        chosen[question_id] = choice
    missing = [question.position for question in questions if question.id not in chosen]
    if missing:
        listed = ", ".join(str(position) for position in missing)
        raise InvalidInput(f"Answer every question; missing: {listed}.", field="answers")

    # Simultaneous attempts by one learner take turns from here to the commit,
    # so they cannot all count the same attempts used and pass the limit.
    lock_for_update(session, User, user.id)
    left = attempts_left(session=session, user=user, quiz=quiz, settings=settings)
    if left == 0:
        session.rollback()  # nothing was written; let go of the lock at once
        raise AttemptLimitReached(f"You have used all {settings.quiz_max_attempts} attempts at this quiz.")

    now = utcnow()
    assignment = courses.assignment_for(session=session, user=user, quiz_id=quiz.id, assignment_id=assignment_id)
    if assignment is not None:
        try:
            # A quiz takes no penalty: it is refused before it opens and, under "none", past due.
            courses.check_open(session=session, assignment=assignment, user_id=user.id, now=now)
        except NotOpen:
            session.rollback()
            raise
    attempt = QuizAttempt(
        assignment_id=assignment.id if assignment is not None else None,
        user_id=user.id,
        quiz_id=quiz.id,
        score=sum(1 for choice in chosen.values() if choice.is_correct),
        max_score=len(questions),
        created_at=now,
    )
    session.add(attempt)
    session.flush()
    for question in questions:
        choice = chosen[question.id]
        session.add(
            AttemptAnswer(
                attempt_id=attempt.id, question_id=question.id, choice_id=choice.id, correct=choice.is_correct
            )
        )
    gradebook.record_attempt(session, attempt=attempt)
    session.commit()
    updates.course_changed()
    return get_attempt(session=session, attempt_id=attempt.id, user=user)


def get_attempt(*, session: Session, attempt_id: int, user: User) -> AttemptResult:
    """An attempt with its feedback, if ``user`` made it or is an instructor; ``NotFound`` otherwise."""
    attempt = session.get(QuizAttempt, attempt_id)
    if attempt is None or (user.role != "instructor" and attempt.user_id != user.id):
        raise NotFound("No such attempt.")
    quiz = session.get_one(Quiz, attempt.quiz_id)
    rows = session.exec(
        select(AttemptAnswer, Question, Choice)
        .join(Question, col(Question.id) == AttemptAnswer.question_id)
        .join(Choice, col(Choice.id) == AttemptAnswer.choice_id)
        .where(AttemptAnswer.attempt_id == attempt.id)
        .order_by(col(Question.position))
    ).all()
    # The right options, read only now that the attempt is stored (a learner's quiz never carries them).
    right = {
        choice.question_id: choice
        for choice in session.exec(
            select(Choice).where(
                col(Choice.question_id).in_([q.id for _, q, _ in rows]), Choice.is_correct, Choice.active
            )
        )
    }
    return AttemptResult(
        id=attempt.id,
        quiz_slug=quiz.slug,
        user_id=attempt.user_id,
        score=attempt.score,
        max_score=attempt.max_score,
        created_at=attempt.created_at,
        questions=[
            QuestionFeedback(
                question_id=question.id,
                position=question.position,
                prompt=question.prompt,
                choice_id=choice.id,
                choice_label=choice.label,
                choice_text=choice.text,
                correct=answer.correct,
                hint=question.hint,
                right_choice_id=right[question.id].id if question.id in right else None,
                right_label=right[question.id].label if question.id in right else "",
                right_text=right[question.id].text if question.id in right else "",
                explanation=question.explanation,
                evidence=question.evidence,
            )
            for answer, question, choice in rows
        ],
    )


def list_attempts(*, session: Session, user: User, quiz_slug: str | None = None) -> list[QuizAttempt]:
    """``user``'s attempts, newest first, optionally at one quiz."""
    query = (
        select(QuizAttempt)
        .where(QuizAttempt.user_id == user.id)
        .order_by(col(QuizAttempt.created_at).desc(), col(QuizAttempt.id).desc())
    )
    if quiz_slug is not None:
        query = query.join(Quiz, col(Quiz.id) == QuizAttempt.quiz_id).where(Quiz.slug == quiz_slug)
    return list(session.exec(query))


def counted_attempt(attempts: list[QuizAttempt], *, scoring: str) -> QuizAttempt | None:
    """The attempt that counts: the best (earliest of equals) or the last, per ``scoring``."""
    if not attempts:
        return None
    ordered = sorted(attempts, key=lambda attempt: (attempt.created_at, attempt.id))
    if scoring == "last":
        return ordered[-1]
    best = ordered[0]
    for attempt in ordered[1:]:
        if attempt.score > best.score:
            best = attempt
    return best
