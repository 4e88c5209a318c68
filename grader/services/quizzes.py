"""Quizzes for learners and their attempts.

A learner's view of a quiz carries no answers and no hints: which choice is
right is only ever read inside ``submit_attempt`` and ``get_attempt``. An
attempt is checked in full (every question answered once, with one of its own
choices) before it is stored, so a refused attempt leaves nothing behind. The
attempt limit is checked under a lock on the learner's row, so simultaneous
attempts cannot overshoot it.

Each opening of the quiz (a ``QuizStart``) draws a seed on the server, and
each question's options are shown in the order that seed gives, labelled A–D
in that order. The start stays open until an attempt is made from it, so a
reload or a second tab shows the same order; the attempt stores the order it
was shown. Grading goes by choice id, so the order never changes a score, and
the instructor's views keep the labels of the quiz file.

The right option is marked only once the learner's ``Reveal`` allows it:
after their last attempt or after the due date, as the quiz's assignment says.
The explanation of a question names the right value, so it waits for the reveal
too, as does the cell of the trace it comes from; before it the learner gets the
hint, the feedback of the option they picked (written never to name the right
one) and, after a wrong answer, the line of the trace to read along.

An attempt follows its assignment's late policy as a submission does: refused before the
assignment opens and, under ``none``, past the learner's due date; under ``penalty`` stored
with the share it counts (``QuizAttempt.late_factor``). What counts is the score times that
share, and the attempt that counts (best or last) is chosen on it.
"""

from __future__ import annotations

import random
import secrets
import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, TypeVar

from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, col, func, select

from grader.config import Settings, get_settings
from grader.db import lock_for_update
from grader.grading.report import format_points
from grader.models import (
    MAX_ROW_ID,
    Assignment,
    AttemptAnswer,
    Choice,
    Question,
    Quiz,
    QuizAttempt,
    QuizStart,
    RevealAnswers,
    User,
    utcnow,
)
from grader.services import authority, courses, standings, storage, updates
from grader.services.errors import AttemptLimitReached, InvalidInput, NotFound, NotOpen
from grader.services.numbers import plain_number, shortened

DEFAULT_REVEAL: RevealAnswers = "after_last_attempt"  # a quiz no course of the learner's assigns
SHOWN_LABELS = "ABCDEFGH"

_Option = TypeVar("_Option")


def shuffled(options: Sequence[_Option], *, seed: int, question_id: int) -> list[_Option]:
    """``options`` in the order ``seed`` draws for one question: the same seed always gives the same order."""
    order = list(options)
    # Not for secrecy: the seed is drawn with ``secrets``; this only turns it into an order, the same in every process.
    random.Random(f"{seed}:{question_id}").shuffle(order)
    return order


def draw_seed() -> int:
    """A new seed for a quiz start, drawn on the server."""
    return secrets.randbits(48)


@dataclass(frozen=True)
class Reveal:
    """When the right options of a quiz are marked for one learner, and whether they are now.

    released: the rule marks them now (attempts used up, or the due date passed); waits_for:
    what marks them (``"last_attempt"``, ``"due"``, or ``"never"`` when attempts are unlimited
    and there is no due date); due_at: the learner's due date (an extension applied), None
    without one; staff: the one looking teaches, so they are always marked for them.
    """

    released: bool
    waits_for: Literal["last_attempt", "due", "never"]
    due_at: datetime | None = None
    staff: bool = False

    @property
    def shown(self) -> bool:
        """Whether the right options are marked for the one looking."""
        return self.released or self.staff

    @property
    def closes_attempts(self) -> bool:
        """The due date has shown the learner the right answers, so an attempt now would mean nothing."""
        return self.released and self.waits_for == "due"

    @property
    def note_parts(self) -> tuple[str, datetime | None, str]:
        """The note as (words before the due date, the due date or None, words after), for a page to draw the date."""
        if self.staff:
            return ("You teach this quiz, so the right answers are always marked.", None, "")
        if self.waits_for == "never":
            return (
                "You may try as often as you like, so the right answers are never marked: each answer says why, "
                "and you can try again until every one is right.",
                None,
                "",
            )
        if self.waits_for == "due":
            if self.released:
                return ("The due date (", self.due_at, ") has passed, so the right answers are marked.")
            return ("The right answers appear after the due date, ", self.due_at, ".")
        if self.released:
            return ("You have used every attempt, so the right answers are marked.", None, "")
        return ("The right answers appear after your last attempt.", None, "")

    @property
    def note(self) -> str:
        """One sentence for the learner: when the right answers are marked, or what they get instead."""
        before, moment, after = self.note_parts
        return before + (_utc_text(moment) if moment is not None else "") + after


def _utc_text(moment: datetime) -> str:
    """A moment in UTC with the zone named, as the pages write it: ``Fri 12 Dec 2026, 17:00 UTC``."""
    return moment.astimezone(UTC).strftime("%a %-d %b %Y, %H:%M UTC")


def reveal_rule(
    *, rule: RevealAnswers, attempts_left: int | None, due_at: datetime | None, now: datetime, staff: bool = False
) -> Reveal:
    """Whether the right options are marked, by the assignment's ``rule``.

    ``after_due`` with no due date falls back to the last attempt; ``after_last_attempt`` with
    unlimited attempts falls back to the due date; with neither, they are never marked.
    """
    waits_for: Literal["last_attempt", "due", "never"]
    if rule == "after_due" and due_at is not None:
        waits_for = "due"
    elif attempts_left is not None:
        waits_for = "last_attempt"
    elif due_at is not None:
        waits_for = "due"
    else:
        waits_for = "never"
    # Past the due date as the late policy counts it: work made at the due date itself is on time.
    released = (waits_for == "due" and due_at is not None and now > due_at) or (
        waits_for == "last_attempt" and attempts_left == 0
    )
    return Reveal(released=released, waits_for=waits_for, due_at=due_at, staff=staff)


@dataclass(frozen=True)
class ChoiceView:
    """An option as a learner sees it: no hint of whether it is right; ``label`` follows the shown order."""

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
    start_id: int | None = None


@dataclass(frozen=True)
class OptionFeedback:
    """One option of an answered question, where the learner saw it.

    label: A–D in the order shown; key: its label in the quiz file (what the instructor's
    views use); chosen: the learner picked it; right: whether it is the right one, None
    until the right answers may be shown.
    """

    id: int
    label: str
    key: str
    text: str
    chosen: bool
    right: bool | None


@dataclass(frozen=True)
class QuestionFeedback:
    """How one question went in an attempt.

    choice_label: the chosen option's label as shown to the learner; choice_key: its label in
    the quiz file; options: every option in the order shown; hint: where in the trace to look;
    choice_feedback: why the chosen option is or is not right, written never to name the right
    one (empty for content synced before it existed);
    right_choice_id/right_label/right_key/right_text: the right option, only once it may be
    shown (None/empty before, or when the question has no active right option); explanation:
    why it is right, only once the right option may be shown (empty before); evidence: once the
    right option may be shown, the trace's cell that shows it (``{"table", "row", "column"}``);
    before, for a wrong answer, the line through it to read along (``{"table", "row"}`` or
    ``{"table", "column"}``, see ``content.Evidence.before_reveal``); None otherwise, and for
    content synced before it existed.
    """

    question_id: int
    position: int
    prompt: str
    choice_id: int
    choice_label: str
    choice_key: str
    choice_text: str
    correct: bool
    hint: str
    options: list[OptionFeedback]
    choice_feedback: str = ""
    right_choice_id: int | None = None
    right_label: str = ""
    right_key: str = ""
    right_text: str = ""
    explanation: str = ""
    evidence: dict[str, Any] | None = None


@dataclass(frozen=True)
class AttemptResult:
    """A stored attempt: score out of ``max_score``, feedback per question, and whether right answers are marked.

    late_factor: the share of the score that counts (below 1 for a late attempt under a penalty);
    late_by: how long after the learner's due date it was made, None when it was on time.
    """

    id: int
    quiz_slug: str
    user_id: int
    score: int
    max_score: int
    created_at: datetime
    questions: list[QuestionFeedback]
    reveal: Reveal
    late_factor: float = 1.0
    late_by: timedelta | None = None

    @property
    def counted_score(self) -> float:
        """The score after the late policy."""
        return self.score * self.late_factor

    @property
    def late_note(self) -> str:
        """For a late attempt, one sentence on how late it was and what it counts; "" for one on time."""
        if self.late_factor >= 1.0:
            return ""
        when = f"Submitted {courses.lateness_words(self.late_by)} late" if self.late_by else "Submitted late"
        counted = f"{format_points(self.counted_score)} of {self.max_score}"
        if self.late_factor <= 0.0:
            return f"{when}, and the assignment now takes no late work: this attempt counts nothing ({counted})."
        return f"{when}: this attempt counts {self.late_factor * 100:g}% ({counted})."


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


def get_for_learner(*, session: Session, slug: str, start: QuizStart | None = None) -> QuizView:
    """The quiz ready to be taken, without answers or hints: options in ``start``'s order, or the file's."""
    quiz = get_quiz(session=session, slug=slug)
    questions = _active_questions(session, quiz)
    choices = _active_choices(session, questions)

    def shown(question: Question) -> list[Choice]:
        options = choices[question.id]
        return shuffled(options, seed=start.seed, question_id=question.id) if start else options

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
                choices=[
                    ChoiceView(id=choice.id, label=SHOWN_LABELS[index], text=choice.text)
                    for index, choice in enumerate(shown(question))
                ],
            )
            for question in questions
        ],
        start_id=start.id if start else None,
    )


def open_start(*, session: Session, user: User, quiz: Quiz) -> QuizStart | None:
    """``user``'s latest start at ``quiz`` if no attempt has been made from it yet."""
    latest = session.exec(
        select(QuizStart)
        .where(QuizStart.user_id == user.id, QuizStart.quiz_id == quiz.id)
        .order_by(col(QuizStart.id).desc())
        .limit(1)
    ).first()
    if latest is None:
        return None
    used = session.exec(select(QuizAttempt.id).where(QuizAttempt.start_id == latest.id).limit(1)).first()
    return None if used is not None else latest


def start(*, session: Session, user: User, quiz: Quiz, seed: int | None = None) -> QuizStart:
    """``user``'s open start at ``quiz``, or a new one with a seed drawn now (``seed`` only from tests and tools)."""
    current = open_start(session=session, user=user, quiz=quiz)
    if current is not None:
        return current
    # Two tabs opening at once take turns here, so they share one start (and one order).
    lock_for_update(session, User, user.id)
    current = open_start(session=session, user=user, quiz=quiz)
    if current is None:
        current = QuizStart(user_id=user.id, quiz_id=quiz.id, seed=draw_seed() if seed is None else seed)
        session.add(current)
    session.commit()
    return current


def _start_if_storable(session: Session, user: User, quiz: Quiz) -> QuizStart | None:
    """``start``, or None when a full disk or a busy database cannot keep one.

    The page still opens then, in the file's order; the attempt draws its order when it is stored.
    """
    try:
        return start(session=session, user=user, quiz=quiz)
    except (OSError, SQLAlchemyError, sqlite3.Error) as exc:  # SQLite's write lock is taken outside SQLAlchemy
        if storage.trouble(exc) is None:
            raise
        session.rollback()
        return None


def reveal_for(
    *,
    session: Session,
    user: User,
    quiz: Quiz,
    staff: bool | None = None,
    assignment_id: int | None = None,
    settings: Settings | None = None,
    now: datetime | None = None,
) -> Reveal:
    """Whether ``quiz``'s right options are marked for ``user``'s attempts now, and when they will be.

    The rule and the due date (``user``'s extension applied) are the assignment's: the one
    named, else the one that assigns the quiz to ``user``. staff: whether whoever looks teaches the
    work (staff always see the right options); left out, whether ``user`` teaches the assignment's course.
    """
    now = now or utcnow()
    left = attempts_left(session=session, user=user, quiz=quiz, settings=settings)
    assignment = session.get(Assignment, assignment_id) if assignment_id is not None else None
    if assignment is None:
        assignment = courses.assignment_for(session=session, user=user, quiz_id=quiz.id)
    if staff is None:
        staff = assignment is not None and courses.is_staff(session=session, user=user, course_id=assignment.course_id)
    if assignment is None:
        return reveal_rule(rule=DEFAULT_REVEAL, attempts_left=left, due_at=None, now=now, staff=staff)
    due = courses.deadline_state(session=session, assignment=assignment, user_id=user.id, now=now).due_at
    return reveal_rule(rule=assignment.reveal_answers, attempts_left=left, due_at=due, now=now, staff=staff)


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
    (per the quiz-scoring setting); attempts_left: None when attempts are unlimited;
    reveal: when the right answers are marked; taking: another attempt would be accepted
    (attempts left, and the right answers not yet shown by the due date).
    """

    quiz: QuizView
    attempts: list[QuizAttempt]
    counted: QuizAttempt | None
    attempts_left: int | None
    reveal: Reveal
    taking: bool = True


def get_for_user(
    *, session: Session, slug: str, user: User, settings: Settings | None = None, opening: bool = False
) -> QuizForLearner:
    """``user``'s standing on the quiz, its options in the order of their open start (else the file's).

    opening: the learner is opening the quiz to answer it, so a start is made if none is open
    (unless no attempt would be accepted).
    """
    settings = settings or get_settings()
    quiz = get_quiz(session=session, slug=slug)
    left = attempts_left(session=session, user=user, quiz=quiz, settings=settings)
    reveal = reveal_for(session=session, user=user, quiz=quiz, settings=settings)
    taking = left != 0 and not reveal.closes_attempts
    if opening and taking:
        current = _start_if_storable(session, user, quiz)
    else:
        current = open_start(session=session, user=user, quiz=quiz) if taking else None
    attempts = list_attempts(session=session, user=user, quiz_slug=slug)
    return QuizForLearner(
        quiz=get_for_learner(session=session, slug=slug, start=current),
        attempts=attempts,
        counted=counted_attempt(attempts, scoring=settings.quiz_scoring),
        attempts_left=left,
        reveal=reveal,
        taking=taking,
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
    start_id: Any = None,
    settings: Settings | None = None,
    assignment_id: int | None = None,
    now: datetime | None = None,
) -> AttemptResult:
    """Score and store an attempt: ``answers`` maps question id → choice id, one per question.

    Pairs (rather than a mapping) may be given so that a question answered twice is caught.
    start_id: the start the page was opened with (another tab may have answered it already:
    the order shown is still that start's); without it, the learner's open start, or a new one.
    """
    settings = settings or get_settings()
    quiz = get_quiz(session=session, slug=slug)
    questions = _active_questions(session, quiz)
    choices = _active_choices(session, questions)
    pairs = _pairs(answers)
    given_start = _given_start(session, user, quiz, start_id)

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

    now = now or utcnow()
    assignment = courses.assignment_for(
        session=session, user=user, quiz_id=quiz.id, assignment_id=assignment_id, now=now
    )
    factor = 1.0
    if assignment is not None:
        try:
            # As a submission: refused before it opens and, under "none", past due; a share under "penalty".
            factor = courses.check_open(session=session, assignment=assignment, user_id=user.id, now=now)
        except NotOpen:
            session.rollback()
            raise
    reveal = reveal_for(
        session=session,
        user=user,
        quiz=quiz,
        assignment_id=assignment.id if assignment is not None else None,
        settings=settings,
        now=now,
    )
    if reveal.closes_attempts:  # by the rule alone, whoever the learner is
        session.rollback()
        raise AttemptLimitReached(
            "The due date has passed and the right answers are shown, so this quiz takes no more attempts."
        )
    shown_with = given_start or open_start(session=session, user=user, quiz=quiz)
    if shown_with is None:  # answered without opening the quiz (the API allows it): an order is drawn all the same
        shown_with = QuizStart(user_id=user.id, quiz_id=quiz.id, seed=draw_seed())
        session.add(shown_with)
        session.flush()
    attempt = QuizAttempt(
        assignment_id=assignment.id if assignment is not None else None,
        user_id=user.id,
        quiz_id=quiz.id,
        score=sum(1 for choice in chosen.values() if choice.is_correct),
        max_score=len(questions),
        created_at=now,
        late_factor=factor,
        start_id=shown_with.id,
        choice_order={
            str(question.id): [
                choice.id for choice in shuffled(choices[question.id], seed=shown_with.seed, question_id=question.id)
            ]
            for question in questions
        },
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
    standings.record_attempt(session, attempt=attempt)
    session.commit()
    updates.course_changed()
    return get_attempt(session=session, attempt_id=attempt.id, user=user, settings=settings)


def _given_start(session: Session, user: User, quiz: Quiz, start_id: Any) -> QuizStart | None:
    """The start an answer names, if it is ``user``'s at ``quiz``; a stale or foreign one is refused."""
    if start_id is None or start_id == "":
        return None
    number = _as_id(start_id, "Start")
    given = session.get(QuizStart, number) if 0 < number <= MAX_ROW_ID else None
    if given is None or given.user_id != user.id or given.quiz_id != quiz.id:
        raise InvalidInput("This copy of the quiz is out of date: open the quiz again and answer there.", field="start")
    return given


def _options_shown(session: Session, attempt: QuizAttempt, questions: list[Question]) -> dict[int, list[Choice]]:
    """Per question, its options in the order the attempt showed them (the file's for older attempts)."""
    order = attempt.choice_order or {}
    ids = [choice_id for question in questions for choice_id in order.get(str(question.id), [])]
    stored = (
        {choice.id: choice for choice in session.exec(select(Choice).where(col(Choice.id).in_(ids)))} if ids else {}
    )
    in_file_order = _active_choices(session, [q for q in questions if str(q.id) not in order])
    shown: dict[int, list[Choice]] = {}
    for question in questions:
        if str(question.id) in order:
            # An option the quiz file has dropped since may be gone; the rest keep their places.
            shown[question.id] = [stored[i] for i in order[str(question.id)] if i in stored]
        else:
            shown[question.id] = in_file_order[question.id]
    return shown


def get_attempt(
    *, session: Session, attempt_id: int, user: User, settings: Settings | None = None, now: datetime | None = None
) -> AttemptResult:
    """An attempt with its feedback, if ``user`` made it or teaches a course it belongs to (``authority``).

    ``NotFound`` for anyone else. The options come in the order the learner saw them; the right
    one is named only once the learner's ``Reveal`` allows it (the course's staff always see it).
    """
    attempt, staff = authority.visible_attempt(session=session, attempt_id=attempt_id, user=user)
    quiz = session.get_one(Quiz, attempt.quiz_id)
    rows = session.exec(
        select(AttemptAnswer, Question, Choice)
        .join(Question, col(Question.id) == AttemptAnswer.question_id)
        .join(Choice, col(Choice.id) == AttemptAnswer.choice_id)
        .where(AttemptAnswer.attempt_id == attempt.id)
        .order_by(col(Question.position))
    ).all()
    owner = user if attempt.user_id == user.id else session.get_one(User, attempt.user_id)
    reveal = reveal_for(
        session=session,
        user=owner,
        quiz=quiz,
        staff=staff,
        assignment_id=attempt.assignment_id,
        settings=settings,
        now=now,
    )
    shown = _options_shown(session, attempt, [question for _, question, _ in rows])
    # The right options, read only for an attempt whose learner may now see them.
    right: dict[int, Choice] = {}
    if reveal.shown:
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
            _feedback(question, answer, choice, shown[question.id], right.get(question.id), reveal)
            for answer, question, choice in rows
        ],
        reveal=reveal,
        late_factor=attempt.late_factor,
        late_by=_late_by(attempt, reveal.due_at),
    )


def _late_by(attempt: QuizAttempt, due_at: datetime | None) -> timedelta | None:
    """How long after ``due_at`` (the learner's due date now) the attempt was made; None when it was not late."""
    if due_at is None or attempt.created_at <= due_at:
        return None
    return attempt.created_at - due_at


def _feedback(
    question: Question,
    answer: AttemptAnswer,
    chosen: Choice,
    shown: list[Choice],
    right: Choice | None,
    reveal: Reveal,
) -> QuestionFeedback:
    if chosen.id not in {choice.id for choice in shown}:
        shown = [*shown, chosen]  # an attempt from before its order was stored, at an option since retired
    labels = {choice.id: SHOWN_LABELS[index] for index, choice in enumerate(shown)}
    return QuestionFeedback(
        question_id=question.id,
        position=question.position,
        prompt=question.prompt,
        choice_id=chosen.id,
        choice_label=labels[chosen.id],
        choice_key=chosen.label,
        choice_text=chosen.text,
        correct=answer.correct,
        hint=question.hint,
        options=[
            OptionFeedback(
                id=choice.id,
                label=labels[choice.id],
                key=choice.label,
                text=choice.text,
                chosen=choice.id == chosen.id,
                right=(right is not None and choice.id == right.id) if reveal.shown else None,
            )
            for choice in shown
        ],
        choice_feedback=chosen.feedback,
        right_choice_id=right.id if right else None,
        right_label=labels.get(right.id, "") if right else "",
        right_key=right.label if right else "",
        right_text=right.text if right else "",
        explanation=question.explanation if reveal.shown else "",
        evidence=_evidence_shown(question.evidence, revealed=reveal.shown, correct=answer.correct),
    )


def _evidence_shown(evidence: dict[str, Any] | None, *, revealed: bool, correct: bool) -> dict[str, Any] | None:
    """The part of a question's trace cell its feedback may mark: the cell after the reveal, a line through it before.

    Before the reveal only a wrong answer marks anything, and only the line the quiz file chose
    (``before_reveal``); evidence stored without that choice marks nothing until the reveal.
    """
    if evidence is None:
        return None
    if revealed:
        return {key: evidence[key] for key in ("table", "row", "column")}
    line = evidence.get("before_reveal")
    if correct or line not in ("row", "column"):
        return None
    return {"table": evidence["table"], line: evidence[line]}


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


def question_count(*, session: Session, quiz_id: int) -> int:
    """How many active questions the quiz has (its maximum score)."""
    return len(session.exec(select(Question.id).where(Question.quiz_id == quiz_id, col(Question.active))).all())


def counted_attempt(attempts: list[QuizAttempt], *, scoring: str) -> QuizAttempt | None:
    """The attempt that counts: the best counted score (earliest of equals) or the last, per ``scoring``.

    "Best" is after the late policy, as the gradebook's ``_counted_attempts`` chooses: a late
    3/3 counted at 50% loses to an on-time 2/3.
    """
    if not attempts:
        return None
    ordered = sorted(attempts, key=lambda attempt: (attempt.created_at, attempt.id))
    if scoring == "last":
        return ordered[-1]
    best = ordered[0]
    for attempt in ordered[1:]:
        if attempt.counted_score > best.counted_score:
            best = attempt
    return best
