"""Taking the quiz: no answers before submitting, every bad attempt refused with nothing stored."""

from __future__ import annotations

import dataclasses
import json

import pytest
from sqlmodel import func, select

from grader.models import AttemptAnswer, Choice, Question, QuizAttempt
from grader.services import quizzes
from grader.services.errors import AttemptLimitReached, InvalidInput, NotFound
from tests.factories import make_user

SLUG = "message-cycle"


def _stored(session) -> tuple[int, int]:
    return (
        session.exec(select(func.count()).select_from(QuizAttempt)).one(),
        session.exec(select(func.count()).select_from(AttemptAnswer)).one(),
    )


def _correct(session, view) -> dict[int, int]:
    return {
        question.id: session.exec(select(Choice.id).where(Choice.question_id == question.id, Choice.is_correct)).one()
        for question in view.questions
    }


def _wrong(session, view) -> dict[int, int]:
    return {
        question.id: session.exec(
            select(Choice.id).where(Choice.question_id == question.id, ~Choice.is_correct)
        ).first()
        for question in view.questions
    }


def test_the_learner_view_carries_no_answers_or_hints(synced):
    view = quizzes.get_for_learner(session=synced, slug=SLUG)
    assert len(view.questions) == 3 and all(len(q.choices) == 4 for q in view.questions)
    data = dataclasses.asdict(view)
    keys = {key for question in data["questions"] for key in question} | {
        key for question in data["questions"] for choice in question["choices"] for key in choice
    }
    assert keys.isdisjoint({"is_correct", "correct", "answer", "hint"})
    text = json.dumps(data)
    hints = synced.exec(select(Question.hint)).all()
    assert hints and not any(hint in text for hint in hints)
    assert view.visuals["execution_table"]["rows"][0]["step"] == 1


def test_a_perfect_attempt_scores_three_out_of_three(synced, settings):
    learner = make_user(synced)
    view = quizzes.get_for_learner(session=synced, slug=SLUG)
    result = quizzes.submit_attempt(
        session=synced, user=learner, slug=SLUG, answers=_correct(synced, view), settings=settings
    )
    assert (result.score, result.max_score) == (3, 3)
    assert all(feedback.correct and feedback.hint for feedback in result.questions)


def test_wrong_answers_are_marked_per_question_with_the_hint(synced, settings):
    learner = make_user(synced)
    view = quizzes.get_for_learner(session=synced, slug=SLUG)
    answers = _correct(synced, view)
    first = view.questions[0]
    answers[first.id] = _wrong(synced, view)[first.id]
    # JSON object keys arrive as strings; they are accepted.
    result = quizzes.submit_attempt(
        session=synced, user=learner, slug=SLUG, answers={str(k): str(v) for k, v in answers.items()}, settings=settings
    )
    assert result.score == 2
    assert [feedback.correct for feedback in result.questions] == [False, True, True]
    assert "After step 2" in result.questions[0].hint


@pytest.mark.parametrize("problem", ["unknown question", "foreign choice", "duplicate", "missing", "not an id"])
def test_bad_attempts_are_refused_and_nothing_is_stored(synced, settings, problem):
    learner = make_user(synced)
    view = quizzes.get_for_learner(session=synced, slug=SLUG)
    first, second = view.questions[0], view.questions[1]
    pairs = list(_correct(synced, view).items())
    if problem == "unknown question":
        pairs.append((999_999, first.choices[0].id))
    elif problem == "foreign choice":
        pairs[0] = (first.id, second.choices[0].id)
    elif problem == "duplicate":
        pairs.append((first.id, first.choices[1].id))
    elif problem == "missing":
        pairs = pairs[:2]
    else:
        pairs[0] = (first.id, "B")
    with pytest.raises(InvalidInput) as raised:
        quizzes.submit_attempt(session=synced, user=learner, slug=SLUG, answers=pairs, settings=settings)
    assert raised.value.field == "answers"
    assert _stored(synced) == (0, 0)


def test_an_answer_for_another_quiz_is_refused(synced, settings):
    from grader.models import Quiz

    other = Quiz(slug="other", title="Other", visuals={}, content_hash="x")
    synced.add(other)
    synced.commit()
    foreign = Question(quiz_id=other.id, key="q", position=1, prompt="?")
    synced.add(foreign)
    synced.commit()
    view = quizzes.get_for_learner(session=synced, slug=SLUG)
    answers = list(_correct(synced, view).items()) + [(foreign.id, 1)]
    with pytest.raises(InvalidInput, match="another quiz"):
        quizzes.submit_attempt(session=synced, user=make_user(synced), slug=SLUG, answers=answers, settings=settings)
    assert _stored(synced) == (0, 0)


def test_no_attempt_past_the_limit(synced, settings):
    learner = make_user(synced)
    view = quizzes.get_for_learner(session=synced, slug=SLUG)
    quiz = quizzes.get_quiz(session=synced, slug=SLUG)
    for _ in range(settings.quiz_max_attempts):
        quizzes.submit_attempt(session=synced, user=learner, slug=SLUG, answers=_wrong(synced, view), settings=settings)
    assert quizzes.attempts_left(session=synced, user=learner, quiz=quiz, settings=settings) == 0
    with pytest.raises(AttemptLimitReached):
        quizzes.submit_attempt(
            session=synced, user=learner, slug=SLUG, answers=_correct(synced, view), settings=settings
        )
    assert _stored(synced) == (3, 9)
    unlimited = settings.model_copy(update={"quiz_max_attempts": 0})
    assert quizzes.attempts_left(session=synced, user=learner, quiz=quiz, settings=unlimited) is None


def test_attempts_are_private_to_their_learner(synced, settings):
    owner, other = make_user(synced), make_user(synced)
    view = quizzes.get_for_learner(session=synced, slug=SLUG)
    result = quizzes.submit_attempt(
        session=synced, user=owner, slug=SLUG, answers=_correct(synced, view), settings=settings
    )
    with pytest.raises(NotFound):
        quizzes.get_attempt(session=synced, attempt_id=result.id, user=other)
    instructor = make_user(synced, role="instructor")
    assert quizzes.get_attempt(session=synced, attempt_id=result.id, user=instructor).score == 3


def test_best_or_last_attempt_counts_per_setting(synced, settings):
    learner = make_user(synced)
    view = quizzes.get_for_learner(session=synced, slug=SLUG)
    quizzes.submit_attempt(session=synced, user=learner, slug=SLUG, answers=_correct(synced, view), settings=settings)
    quizzes.submit_attempt(session=synced, user=learner, slug=SLUG, answers=_wrong(synced, view), settings=settings)
    attempts = quizzes.list_attempts(session=synced, user=learner)
    assert quizzes.counted_attempt(attempts, scoring="best").score == 3
    assert quizzes.counted_attempt(attempts, scoring="last").score == 0
    assert quizzes.counted_attempt([], scoring="best") is None


def test_a_learners_standing_counts_attempts_and_names_the_one_that_counts(synced, settings):
    learner = make_user(synced)
    view = quizzes.get_for_learner(session=synced, slug=SLUG)
    fresh = quizzes.get_for_user(session=synced, slug=SLUG, user=learner, settings=settings)
    assert fresh.attempts == [] and fresh.counted is None
    assert fresh.attempts_left == settings.quiz_max_attempts
    quizzes.submit_attempt(session=synced, user=learner, slug=SLUG, answers=_correct(synced, view), settings=settings)
    quizzes.submit_attempt(session=synced, user=learner, slug=SLUG, answers=_wrong(synced, view), settings=settings)
    standing = quizzes.get_for_user(session=synced, slug=SLUG, user=learner, settings=settings)
    assert [attempt.score for attempt in standing.attempts] == [0, 3]  # newest first
    assert standing.counted.score == 3 and standing.attempts_left == settings.quiz_max_attempts - 2
    assert standing.quiz == view
