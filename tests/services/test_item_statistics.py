"""Quiz item statistics (facility, discrimination, notes) on small data sets worked out by hand."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from grader.models import DEFAULT_COURSE_ID, Choice
from grader.services import quizzes, stats
from grader.services.scope import CourseScope
from tests.factories import make_user

SCOPE = CourseScope(course_id=DEFAULT_COURSE_ID)
"""The default course: where the lesson's exercise and quiz and every factory-made account are."""

QUIZ = "message-cycle"


def _answer(session: Session, settings, pattern: str, *, role: str = "learner") -> None:
    """One attempt: ``pattern`` has one letter per question, R for the right option, W for the first wrong one."""
    user = make_user(session, role=role)
    view = quizzes.get_for_learner(session=session, slug=QUIZ)
    answers = {}
    for question, mark in zip(view.questions, pattern, strict=True):
        choices = session.exec(select(Choice).where(Choice.question_id == question.id).order_by(Choice.position)).all()
        wanted = [choice for choice in choices if choice.is_correct == (mark == "R")]
        answers[question.id] = wanted[0].id
    quizzes.submit_attempt(session=session, user=user, slug=QUIZ, answers=answers, settings=settings)


def test_facility_and_discrimination_match_the_hand_worked_figures(synced, settings):
    # Right (1) or wrong (0) per question, and the attempt's score:
    #   A 1 1 1 (3)   B 1 1 0 (2)   C 1 0 0 (1)   D 0 1 0 (1)   E 0 0 0 (0)
    # Question 1: x = 1 1 1 0 0, rest = score - x = 2 1 0 1 0.
    #   n=5, Σx=3, Σy=4, Σxy=3, Σy²=6: r = (5·3 − 3·4) / √((5·3 − 9)(5·6 − 16)) = 3/√84 = 0.3273
    # Question 2: x = 1 1 0 1 0, rest = 2 1 1 0 0: the same sums, r = 0.3273.
    # Question 3: x = 1 0 0 0 0, rest = 2 2 1 1 0.
    #   n=5, Σx=1, Σy=6, Σxy=2, Σy²=10: r = (10 − 6) / √((5 − 1)(50 − 36)) = 4/√56 = 0.5345
    for pattern in ("RRR", "RRW", "RWW", "WRW", "WWW"):
        _answer(synced, settings, pattern)
    _answer(synced, settings, "WWR", role="instructor")  # instructors trying the quiz never count

    first, second, third = stats.question_breakdowns(session=synced, scope=SCOPE, quiz_slug=QUIZ)
    assert [question.answers for question in (first, second, third)] == [5, 5, 5]
    assert (first.facility, second.facility, third.facility) == (0.6, 0.6, 0.2)
    assert first.discrimination == pytest.approx(0.3273, abs=1e-4)
    assert second.discrimination == pytest.approx(0.3273, abs=1e-4)
    assert third.discrimination == pytest.approx(0.5345, abs=1e-4)
    assert first.notes == second.notes == third.notes == []  # five answers are too few to judge a question by


def test_a_question_the_weaker_learners_get_right_is_flagged_and_so_is_a_distractor_nobody_picks(synced, settings):
    # Five learners get questions 1 and 2 right and 3 wrong (score 2); five the reverse (score 1).
    # Question 3: x = 0×5, 1×5; rest = 2×5, 0×5: n=10, Σx=5, Σy=10, Σxy=0, Σy²=20:
    #   r = (0 − 50) / √((50 − 25)(200 − 100)) = −1.
    # Question 1: the rest score is 1 for everyone, so there is no correlation to compute.
    for _ in range(5):
        _answer(synced, settings, "RRW")
    for _ in range(5):
        _answer(synced, settings, "WWR")

    first, _second, third = stats.question_breakdowns(session=synced, scope=SCOPE, quiz_slug=QUIZ)
    assert third.facility == 0.5 and third.discrimination == pytest.approx(-1.0)
    assert first.discrimination is None
    assert any("got this one wrong more often" in note for note in third.notes)
    # Every wrong answer took the first wrong option, so the others were never picked.
    unpicked = [option.label for option in third.options if not option.is_correct and option.count == 0]
    assert unpicked and any(
        f"Nobody picked option{'s' if len(unpicked) > 1 else ''} {', '.join(unpicked)}" in note for note in third.notes
    )
    assert not any("wrong more often" in note for note in first.notes)
