"""Options shuffled per opening: a seed stored on the server, the same order until an attempt uses it."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from sqlmodel import func, select

from grader.models import DEFAULT_COURSE_ID, Choice, Question, QuizAttempt, QuizStart
from grader.services import quizzes, stats
from grader.services.errors import InvalidInput
from grader.services.scope import CourseScope
from tests.factories import make_user, seeds_with_different_orders

SLUG = "message-cycle"


def _order(view: quizzes.QuizView) -> list[list[int]]:
    return [[choice.id for choice in question.choices] for question in view.questions]


def _file_order(session) -> list[list[int]]:
    questions = session.exec(select(Question).where(Question.active).order_by(Question.position)).all()
    return [
        list(session.exec(select(Choice.id).where(Choice.question_id == q.id).order_by(Choice.position)).all())
        for q in questions
    ]


def _right(session) -> dict[int, int]:
    return dict(session.exec(select(Choice.question_id, Choice.id).where(Choice.is_correct)).all())


def _seeds_with_different_orders(session) -> tuple[int, int]:
    return seeds_with_different_orders(list(session.exec(select(Question.id).where(Question.active)).all()))


def _starts(session) -> int:
    return session.exec(select(func.count()).select_from(QuizStart)).one()


def test_the_same_seed_gives_the_same_order_in_every_process():
    options = ["A", "B", "C", "D"]
    here = [quizzes.shuffled(options, seed=seed, question_id=7) for seed in range(20)]
    assert all(sorted(order) == options for order in here)
    assert len({tuple(order) for order in here}) > 1  # the seed matters
    code = (
        "from grader.services import quizzes\n"
        "print([quizzes.shuffled(['A', 'B', 'C', 'D'], seed=s, question_id=7) for s in range(20)])"
    )
    for hash_seed in ("0", "12345"):
        out = subprocess.run(
            [sys.executable, "-c", code],
            env={**os.environ, "PYTHONHASHSEED": hash_seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        assert out.strip() == repr(here)


def test_opening_the_quiz_stores_one_start_and_every_reload_shows_its_order(synced, settings):
    learner = make_user(synced)
    assert _starts(synced) == 0
    first = quizzes.get_for_user(session=synced, slug=SLUG, user=learner, settings=settings, opening=True)
    assert first.quiz.start_id is not None and _starts(synced) == 1
    stored = synced.get(QuizStart, first.quiz.start_id)
    expected = [
        [
            c.id
            for c in quizzes.shuffled(
                synced.exec(select(Choice).where(Choice.question_id == q.id).order_by(Choice.position)).all(),
                seed=stored.seed,
                question_id=q.id,
            )
        ]
        for q in first.quiz.questions
    ]
    assert _order(first.quiz) == expected
    # A reload, a second tab, the API: the same start, the same order.
    for _ in range(3):
        again = quizzes.get_for_user(session=synced, slug=SLUG, user=learner, settings=settings, opening=True)
        assert again.quiz.start_id == first.quiz.start_id and _order(again.quiz) == _order(first.quiz)
    assert _starts(synced) == 1
    # Labels follow the order shown, whatever the file called the options.
    assert all([c.label for c in q.choices] == ["A", "B", "C", "D"] for q in first.quiz.questions)
    # Looking without opening (the result page) makes no start.
    other = make_user(synced)
    looked = quizzes.get_for_user(session=synced, slug=SLUG, user=other, settings=settings)
    assert looked.quiz.start_id is None and _order(looked.quiz) == _file_order(synced)
    assert _starts(synced) == 1


def test_each_attempt_stores_the_order_it_was_shown_and_the_next_opening_draws_again(synced, settings):
    learner = make_user(synced)
    quiz = quizzes.get_quiz(session=synced, slug=SLUG)
    one, two = _seeds_with_different_orders(synced)
    quizzes.start(session=synced, user=learner, quiz=quiz, seed=one)
    shown = quizzes.get_for_user(session=synced, slug=SLUG, user=learner, settings=settings, opening=True).quiz
    right = _right(synced)
    result = quizzes.submit_attempt(
        session=synced,
        user=learner,
        slug=SLUG,
        answers={q.id: right[q.id] for q in shown.questions},
        start_id=shown.start_id,
        settings=settings,
    )
    attempt = synced.get(QuizAttempt, result.id)
    assert attempt.start_id == shown.start_id
    assert attempt.choice_order == {str(q.id): [c.id for c in q.choices] for q in shown.questions}
    # The result lists the options where the learner saw them, with the labels they saw.
    assert [[o.id for o in f.options] for f in result.questions] == _order(shown)
    for feedback, question in zip(result.questions, shown.questions, strict=True):
        assert [(o.label, o.text) for o in feedback.options] == [(c.label, c.text) for c in question.choices]
        seen = next(c for c in question.choices if c.id == feedback.choice_id)
        assert feedback.choice_label == seen.label
        assert feedback.choice_key == synced.get(Choice, feedback.choice_id).label  # the file's label
    # The used start is closed: the next opening is a new start with its own order.
    quizzes.start(session=synced, user=learner, quiz=quiz, seed=two)
    second = quizzes.get_for_user(session=synced, slug=SLUG, user=learner, settings=settings, opening=True).quiz
    assert second.start_id != shown.start_id
    assert all(a != b for a, b in zip(_order(second), _order(shown), strict=True))


def test_the_order_never_changes_a_score(synced, settings):
    unlimited = settings.model_copy(update={"quiz_max_attempts": 0})
    learner = make_user(synced)
    quiz = quizzes.get_quiz(session=synced, slug=SLUG)
    right = _right(synced)
    first_wrong = {}
    for seed in range(8):
        quizzes.start(session=synced, user=learner, quiz=quiz, seed=seed)
        view = quizzes.get_for_user(session=synced, slug=SLUG, user=learner, settings=unlimited, opening=True).quiz
        # The same choice ids, wherever they are shown: always right, and one fixed wrong choice always wrong.
        first_wrong = first_wrong or {
            view.questions[0].id: next(c.id for c in view.questions[0].choices if c.id != right[view.questions[0].id])
        }
        answers = {q.id: right[q.id] for q in view.questions} | first_wrong
        result = quizzes.submit_attempt(session=synced, user=learner, slug=SLUG, answers=answers, settings=unlimited)
        assert (result.score, result.max_score) == (2, 3)
        assert [f.correct for f in result.questions] == [False, True, True]


def test_a_second_tab_answering_the_same_start_keeps_its_order(synced, settings):
    learner = make_user(synced)
    tab_one = quizzes.get_for_user(session=synced, slug=SLUG, user=learner, settings=settings, opening=True).quiz
    tab_two = quizzes.get_for_user(session=synced, slug=SLUG, user=learner, settings=settings, opening=True).quiz
    right = _right(synced)
    answers = {q.id: right[q.id] for q in tab_one.questions}
    first = quizzes.submit_attempt(
        session=synced, user=learner, slug=SLUG, answers=answers, start_id=tab_one.start_id, settings=settings
    )
    second = quizzes.submit_attempt(
        session=synced, user=learner, slug=SLUG, answers=answers, start_id=str(tab_two.start_id), settings=settings
    )
    assert [[o.id for o in f.options] for f in second.questions] == _order(tab_two) == _order(tab_one)
    assert first.score == second.score == 3


@pytest.mark.parametrize("whose", ["another learner's", "unknown", "not an id"])
def test_an_answer_on_a_start_that_is_not_the_learners_is_refused(synced, settings, whose):
    learner, other = make_user(synced), make_user(synced)
    theirs = quizzes.get_for_user(session=synced, slug=SLUG, user=other, settings=settings, opening=True).quiz
    right = _right(synced)
    start_id = {"another learner's": theirs.start_id, "unknown": 999_999, "not an id": "x"}[whose]
    with pytest.raises(InvalidInput, match="out of date|not an id") as raised:
        quizzes.submit_attempt(
            session=synced,
            user=learner,
            slug=SLUG,
            answers={q.id: right[q.id] for q in theirs.questions},
            start_id=start_id,
            settings=settings,
        )
    assert raised.value.field in {"start", "answers"}
    assert synced.exec(select(func.count()).select_from(QuizAttempt)).one() == 0


def test_an_attempt_without_opening_the_quiz_still_stores_an_order(synced, settings):
    learner = make_user(synced)
    right = _right(synced)
    result = quizzes.submit_attempt(session=synced, user=learner, slug=SLUG, answers=right, settings=settings)
    attempt = synced.get(QuizAttempt, result.id)
    assert attempt.start_id is not None and set(attempt.choice_order) == {str(q) for q in right}
    assert result.score == 3


def test_an_attempt_from_before_shuffling_shows_the_files_order(synced, settings):
    learner = make_user(synced)
    result = quizzes.submit_attempt(session=synced, user=learner, slug=SLUG, answers=_right(synced), settings=settings)
    attempt = synced.get(QuizAttempt, result.id)
    attempt.start_id, attempt.choice_order = None, None
    synced.add(attempt)
    synced.commit()
    again = quizzes.get_attempt(session=synced, attempt_id=result.id, user=learner, settings=settings)
    assert [[o.id for o in f.options] for f in again.questions] == _file_order(synced)
    assert all(f.choice_label == f.choice_key for f in again.questions)


def test_item_statistics_count_by_the_files_label_whatever_the_order_shown(synced, settings):
    quiz = quizzes.get_quiz(session=synced, slug=SLUG)
    one, two = _seeds_with_different_orders(synced)
    picked: dict[int, int] = {}
    seen_as = []
    for seed in (one, two):
        learner = make_user(synced)
        quizzes.start(session=synced, user=learner, quiz=quiz, seed=seed)
        view = quizzes.get_for_user(session=synced, slug=SLUG, user=learner, settings=settings, opening=True).quiz
        # Both pick the same options (by id), shown to each under other letters.
        picked = picked or {q.id: q.choices[0].id for q in view.questions}
        result = quizzes.submit_attempt(session=synced, user=learner, slug=SLUG, answers=picked, settings=settings)
        seen_as.append([f.choice_label for f in result.questions])
    assert seen_as[0] == ["A", "A", "A"] and seen_as[1] != seen_as[0]
    for breakdown in stats.question_breakdowns(session=synced, scope=CourseScope(DEFAULT_COURSE_ID), quiz_slug=SLUG):
        counts = {option.label: option.count for option in breakdown.options}
        chosen = synced.get(Choice, picked[breakdown.question_id])
        assert counts[chosen.label] == 2 and sum(counts.values()) == 2
