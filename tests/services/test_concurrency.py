"""Limits hold when one learner's requests arrive at the same moment (on both engines: see conftest).

Each race starts ``RACERS`` threads, each with its own session (as the web
server's threads have), held at a barrier and released together. Exactly the
allowed number of requests may succeed; the others get the domain error and
leave nothing behind.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from sqlalchemy import Engine
from sqlmodel import Session, func, select

from grader.config import Settings
from grader.models import Assignment, AttemptAnswer, AuditEvent, Choice, QuizAttempt, QuizStart, Submission, User
from grader.services import courses, quizzes, submissions, users
from grader.services.errors import (
    AlreadyExists,
    AttemptLimitReached,
    InvalidInput,
    Overloaded,
    RateLimited,
    StillGrading,
)
from tests.factories import exercise, make_user

RACERS = 6
QUIZ = "message-cycle"
SOURCE = b"from fastapi import FastAPI\napp = FastAPI()\n"

Action = Callable[[Session, User], object]


def race(engine: Engine, user_id: int, action: Action) -> list[object]:
    """Run ``action`` in ``RACERS`` threads at once; what each returned or raised."""
    barrier = threading.Barrier(RACERS, timeout=30)
    outcomes: list[object] = [None] * RACERS

    def run(index: int) -> None:
        with Session(engine) as session:
            user = session.get(User, user_id)
            barrier.wait()
            try:
                outcomes[index] = action(session, user)
            except Exception as exc:  # noqa: BLE001 - the test sorts outcomes by type
                outcomes[index] = exc

    threads = [threading.Thread(target=run, args=(index,)) for index in range(RACERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a racer never finished"
    return outcomes


def _count(engine: Engine, model, user_id: int) -> int:
    with Session(engine) as session:
        return session.exec(select(func.count()).select_from(model).where(model.user_id == user_id)).one()


def _answers(engine: Engine) -> dict[int, int]:
    with Session(engine) as session:
        view = quizzes.get_for_learner(session=session, slug=QUIZ)
        return {
            question.id: session.exec(select(Choice.id).where(Choice.question_id == question.id)).first()
            for question in view.questions
        }


def _answer_count(engine: Engine, user_id: int) -> int:
    with Session(engine) as session:
        return session.exec(
            select(func.count())
            .select_from(AttemptAnswer)
            .join(QuizAttempt, QuizAttempt.id == AttemptAnswer.attempt_id)
            .where(QuizAttempt.user_id == user_id)
        ).one()


def check_uploads_race(engine: Engine, settings: Settings, user_id: int, refusal: type[RateLimited]) -> None:
    sent: list[int] = []

    def upload(session: Session, user: User) -> Submission:
        return submissions.create(
            session=session,
            user=user,
            exercise_slug="message-echo",
            filename="solution.py",
            data=SOURCE,
            settings=settings,
            enqueue=sent.append,
        )

    outcomes = race(engine, user_id, upload)
    stored = [outcome for outcome in outcomes if isinstance(outcome, Submission)]
    refused = [outcome for outcome in outcomes if type(outcome) is refusal]
    assert (len(stored), len(refused)) == (1, RACERS - 1), outcomes
    if refusal is RateLimited:
        assert all(0 < error.retry_after <= settings.submission_interval_seconds for error in refused)
    assert _count(engine, Submission, user_id) == 1
    assert sent == [stored[0].id]


def check_queue_race(engine: Engine, settings: Settings) -> None:
    """Learners at once against a queue with room for two: exactly two get in."""
    with Session(engine) as session:
        learners = [make_user(session).id for _ in range(RACERS)]
    settings = settings.model_copy(update={"max_queued": 2})
    barrier = threading.Barrier(RACERS, timeout=30)
    outcomes: list[object] = [None] * RACERS

    def run(index: int) -> None:
        with Session(engine) as session:
            user = session.get(User, learners[index])
            barrier.wait()
            try:
                outcomes[index] = submissions.create(
                    session=session,
                    user=user,
                    exercise_slug="message-echo",
                    filename="solution.py",
                    data=SOURCE,
                    settings=settings,
                    enqueue=lambda _: None,
                )
            except Exception as exc:  # noqa: BLE001 - sorted by type below
                outcomes[index] = exc

    threads = [threading.Thread(target=run, args=(index,)) for index in range(RACERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    stored = [outcome for outcome in outcomes if isinstance(outcome, Submission)]
    refused = [outcome for outcome in outcomes if isinstance(outcome, Overloaded)]
    assert (len(stored), len(refused)) == (2, RACERS - 2), outcomes
    with Session(engine) as session:
        assert session.exec(select(func.count()).select_from(Submission)).one() == 2


def check_quiz_race(engine: Engine, settings: Settings, user_id: int) -> None:
    answers = _answers(engine)

    def attempt(session: Session, user: User) -> quizzes.AttemptResult:
        return quizzes.submit_attempt(session=session, user=user, slug=QUIZ, answers=answers, settings=settings)

    outcomes = race(engine, user_id, attempt)
    allowed = settings.quiz_max_attempts
    stored = [outcome for outcome in outcomes if isinstance(outcome, quizzes.AttemptResult)]
    refused = [outcome for outcome in outcomes if isinstance(outcome, AttemptLimitReached)]
    assert (len(stored), len(refused)) == (allowed, RACERS - allowed), outcomes
    assert _count(engine, QuizAttempt, user_id) == allowed
    assert _answer_count(engine, user_id) == allowed * len(answers)


def check_sign_up_race(engine: Engine, user_id: int) -> None:
    def sign_up(session: Session, _user: User) -> User:
        data = {"email": "Twin@example.org", "display_name": "Twin", "password": "a fine long passphrase"}
        return users.create(session=session, data=data)

    outcomes = race(engine, user_id, sign_up)
    made = [outcome for outcome in outcomes if isinstance(outcome, User)]
    refused = [outcome for outcome in outcomes if isinstance(outcome, AlreadyExists)]
    assert (len(made), len(refused)) == (1, RACERS - 1), outcomes
    with Session(engine) as session:
        assert len(session.exec(select(User).where(User.email == "twin@example.org")).all()) == 1


def test_simultaneous_uploads_start_one_grading(engine, synced, settings):
    interval_only = settings.model_copy(update={"max_pending_per_learner": 0})
    check_uploads_race(engine, interval_only, make_user(synced).id, RateLimited)


def test_simultaneous_uploads_leave_one_pending(engine, synced, settings):
    pending_only = settings.model_copy(update={"submission_interval_seconds": 0})
    check_uploads_race(engine, pending_only, make_user(synced).id, StillGrading)


def test_simultaneous_quiz_attempts_stop_at_the_limit(engine, synced, settings):
    assert settings.quiz_max_attempts < RACERS
    check_quiz_race(engine, settings, make_user(synced).id)


def test_simultaneous_sign_ups_with_one_email_make_one_account(engine, synced):
    check_sign_up_race(engine, make_user(synced).id)


def test_simultaneous_uploads_of_many_learners_stop_at_the_queue_limit(engine, synced, settings):
    check_queue_race(engine, settings)


def test_simultaneous_openings_of_the_quiz_share_one_start(engine, synced, settings):
    """Tabs opened at the same moment show one order: one start is made, and every tab gets it."""
    learner = make_user(synced)

    def open_quiz(session: Session, user: User) -> int | None:
        return quizzes.get_for_user(
            session=session, slug=QUIZ, user=user, settings=settings, opening=True
        ).quiz.start_id

    outcomes = race(engine, learner.id, open_quiz)
    assert all(isinstance(outcome, int) for outcome in outcomes), outcomes
    assert len(set(outcomes)) == 1
    assert _count(engine, QuizStart, learner.id) == 1


def test_simultaneous_placements_of_one_exercise_make_one_assignment(engine, synced, monkeypatch):
    """Every racer's check finds the course free; the unique index refuses all but one, in the check's words."""
    teacher = make_user(synced, role="instructor")
    course = courses.create(session=synced, title="Evening class", created_by=teacher)
    lesson_id = exercise(synced).id
    checked = threading.Barrier(RACERS, timeout=30)
    seen = threading.local()
    real_holder = courses._holder

    def holder_then_wait(session: Session, **where: object) -> Assignment | None:
        found = real_holder(session, **where)
        if not getattr(seen, "checked", False):  # the first check only: none inserts before all have checked
            seen.checked = True
            checked.wait()
        return found

    monkeypatch.setattr(courses, "_holder", holder_then_wait)
    titles = iter(f"Echo {number}" for number in range(RACERS))
    titles_lock = threading.Lock()

    def place(session: Session, user: User) -> Assignment:
        with titles_lock:
            title = next(titles)
        return courses.place_assignment(
            session=session, course_id=course.id, by=user, exercise_id=lesson_id, title=title
        )

    outcomes = race(engine, teacher.id, place)
    made = [outcome for outcome in outcomes if isinstance(outcome, Assignment)]
    refused = [outcome for outcome in outcomes if isinstance(outcome, InvalidInput)]
    assert (len(made), len(refused)) == (1, RACERS - 1), outcomes
    winner = made[0].title
    for refusal in refused:
        assert refusal.field == "exercise"
        assert f"already in this course, in the assignment “{winner}”" in refusal.message
    with Session(engine) as session:
        stored = session.exec(select(Assignment).where(Assignment.course_id == course.id)).all()
        assert [row.title for row in stored] == [winner]
        placed = session.exec(select(AuditEvent).where(AuditEvent.action == "assignment.place")).all()
        assert [event.target.split(" in course")[0] for event in placed] == [f"assignment {made[0].id} ({winner})"]
