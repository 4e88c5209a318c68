"""The right answers are marked after the learner's last attempt or the due date, never before."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from grader.models import Assignment, Choice, Question, utcnow
from grader.services import courses, quizzes
from grader.services.errors import AttemptLimitReached
from tests.factories import make_user

SLUG = "message-cycle"
NOW = datetime(2026, 12, 12, 12, 0, tzinfo=UTC)
DUE = datetime(2026, 12, 12, 17, 0, tzinfo=UTC)


def _right(session) -> dict[int, int]:
    return dict(session.exec(select(Choice.question_id, Choice.id).where(Choice.is_correct)).all())


def _wrong(session) -> dict[int, int]:
    wrong: dict[int, int] = {}
    for question_id, choice_id in session.exec(select(Choice.question_id, Choice.id).where(~Choice.is_correct)):
        wrong.setdefault(question_id, choice_id)
    return wrong


@pytest.mark.parametrize(
    ("rule", "left", "due", "now", "shown", "waits_for", "words"),
    [
        ("after_last_attempt", 2, None, NOW, False, "last_attempt", "appear after your last attempt"),
        ("after_last_attempt", 0, None, NOW, True, "last_attempt", "used every attempt"),
        # A due date does not matter while attempts are counted ...
        ("after_last_attempt", 1, DUE, DUE + timedelta(hours=1), False, "last_attempt", "after your last attempt"),
        # ... but with unlimited attempts it is the only moment there is.
        ("after_last_attempt", None, DUE, NOW, False, "due", "after the due date, Sat 12 Dec 2026, 17:00 UTC"),
        ("after_last_attempt", None, DUE, DUE, False, "due", "after the due date"),  # the due moment is on time
        ("after_last_attempt", None, DUE, DUE + timedelta(seconds=1), True, "due", "has passed"),
        ("after_last_attempt", None, None, NOW, False, "never", "as often as you like"),
        ("after_due", 0, DUE, NOW, False, "due", "after the due date, Sat 12 Dec 2026, 17:00 UTC"),
        ("after_due", 2, DUE, DUE + timedelta(seconds=1), True, "due", "has passed"),
        # With no due date, after_due falls back to the last attempt.
        ("after_due", 0, None, NOW, True, "last_attempt", "used every attempt"),
        ("after_due", None, None, NOW, False, "never", "as often as you like"),
    ],
)
def test_the_reveal_rules(rule, left, due, now, shown, waits_for, words):
    reveal = quizzes.reveal_rule(rule=rule, attempts_left=left, due_at=due, now=now)
    assert (reveal.shown, reveal.waits_for) == (shown, waits_for)
    assert words in reveal.note
    staff = quizzes.reveal_rule(rule=rule, attempts_left=left, due_at=due, now=now, staff=True)
    assert staff.shown and "always" in staff.note


def test_a_due_date_in_another_zone_is_named_in_utc():
    in_berlin = DUE.astimezone(ZoneInfo("Europe/Berlin"))
    reveal = quizzes.reveal_rule(rule="after_due", attempts_left=3, due_at=in_berlin, now=NOW)
    assert reveal.note == "The right answers appear after the due date, Sat 12 Dec 2026, 17:00 UTC."


def test_the_right_option_is_named_only_after_the_last_attempt(synced, settings):
    learner = make_user(synced)
    right = _right(synced)
    first = quizzes.submit_attempt(session=synced, user=learner, slug=SLUG, answers=_wrong(synced), settings=settings)
    assert not first.reveal.shown and first.reveal.note == "The right answers appear after your last attempt."
    for feedback in first.questions:
        assert not feedback.correct
        assert (feedback.right_choice_id, feedback.right_label, feedback.right_key, feedback.right_text) == (
            None,
            "",
            "",
            "",
        )
        assert all(option.right is None for option in feedback.options)
        # Why the chosen option does not hold, but not yet the explanation, which names the right value.
        assert feedback.choice_feedback == synced.get(Choice, feedback.choice_id).feedback != ""
        assert feedback.explanation == ""
    for _ in range(settings.quiz_max_attempts - 2):
        quizzes.submit_attempt(session=synced, user=learner, slug=SLUG, answers=_wrong(synced), settings=settings)
    still = quizzes.get_attempt(session=synced, attempt_id=first.id, user=learner, settings=settings)
    assert not still.reveal.shown and all(f.right_choice_id is None for f in still.questions)

    last = quizzes.submit_attempt(session=synced, user=learner, slug=SLUG, answers=_wrong(synced), settings=settings)
    assert last.reveal.shown and "used every attempt" in last.reveal.note
    # Now every attempt names it, the earlier ones too, with the label the learner saw it under.
    earlier = quizzes.get_attempt(session=synced, attempt_id=first.id, user=learner, settings=settings)
    for result in (last, earlier):
        for feedback in result.questions:
            assert feedback.right_choice_id == right[feedback.question_id]
            marked = [option for option in feedback.options if option.right]
            assert [option.id for option in marked] == [feedback.right_choice_id]
            assert feedback.right_label == marked[0].label and feedback.right_text == marked[0].text
            assert feedback.right_key == synced.get(Choice, feedback.right_choice_id).label
            assert feedback.explanation == synced.get(Question, feedback.question_id).explanation != ""


def test_unlimited_attempts_never_name_the_right_option(synced, settings):
    unlimited = settings.model_copy(update={"quiz_max_attempts": 0})
    learner = make_user(synced)
    for _ in range(4):
        result = quizzes.submit_attempt(
            session=synced, user=learner, slug=SLUG, answers=_wrong(synced), settings=unlimited
        )
    assert not result.reveal.shown and result.reveal.waits_for == "never"
    assert "as often as you like" in result.reveal.note
    assert all(f.right_choice_id is None and f.choice_feedback and not f.explanation for f in result.questions)
    standing = quizzes.get_for_user(session=synced, slug=SLUG, user=learner, settings=unlimited)
    assert standing.reveal == result.reveal


def test_an_instructor_sees_the_right_option_of_a_learners_attempt(synced, settings):
    learner, instructor = make_user(synced), make_user(synced, role="instructor")
    result = quizzes.submit_attempt(session=synced, user=learner, slug=SLUG, answers=_wrong(synced), settings=settings)
    assert result.questions[0].right_choice_id is None
    seen = quizzes.get_attempt(session=synced, attempt_id=result.id, user=instructor, settings=settings)
    assert seen.reveal.shown and seen.reveal.staff
    assert {f.question_id: f.right_choice_id for f in seen.questions} == _right(synced)
    # The learner's own view is unchanged by it.
    again = quizzes.get_attempt(session=synced, attempt_id=result.id, user=learner, settings=settings)
    assert all(f.right_choice_id is None for f in again.questions)


def _quiz_assignment(session) -> Assignment:
    """The default course's assignment holding the lesson's quiz (placed by the content sync)."""
    quiz = quizzes.get_quiz(session=session, slug=SLUG)
    return session.exec(select(Assignment).where(Assignment.quiz_id == quiz.id)).one()


def test_after_due_waits_for_the_learners_due_date_and_then_takes_no_more_attempts(synced, settings):
    teacher, learner, other = make_user(synced, role="instructor"), make_user(synced), make_user(synced)
    assignment = _quiz_assignment(synced)
    due = utcnow() + timedelta(days=2)
    courses.update_assignment(
        session=synced,
        assignment_id=assignment.id,
        by=teacher,
        due_at=due,
        reveal_answers="after_due",
        late_policy="penalty",  # late work is taken, so only the reveal closes the quiz
    )
    for _ in range(settings.quiz_max_attempts):
        result = quizzes.submit_attempt(
            session=synced, user=learner, slug=SLUG, answers=_wrong(synced), settings=settings
        )
    # Every attempt used, but the due date has not passed: still nothing named.
    assert not result.reveal.shown and result.reveal.waits_for == "due"
    assert result.reveal.note == f"The right answers appear after the due date, {due:%a %-d %b %Y, %H:%M} UTC."
    assert all(f.right_choice_id is None for f in result.questions)

    later = due + timedelta(minutes=1)
    seen = quizzes.get_attempt(session=synced, attempt_id=result.id, user=learner, settings=settings, now=later)
    assert seen.reveal.shown and "has passed" in seen.reveal.note
    assert {f.question_id: f.right_choice_id for f in seen.questions} == _right(synced)

    # Another learner's extension moves their moment; past the due date no attempt is taken.
    courses.grant_extension(
        session=synced, assignment_id=assignment.id, user_id=other.id, due_at=due + timedelta(days=1), by=teacher
    )
    quiz = quizzes.get_quiz(session=synced, slug=SLUG)
    theirs = quizzes.reveal_for(session=synced, user=other, quiz=quiz, settings=settings, now=later)
    assert not theirs.shown and theirs.due_at == due + timedelta(days=1)
    mine = quizzes.reveal_for(session=synced, user=learner, quiz=quiz, settings=settings, now=later)
    assert mine.closes_attempts
    with pytest.raises(AttemptLimitReached, match="takes no more attempts"):
        quizzes.submit_attempt(
            session=synced,
            user=make_user(synced),
            slug=SLUG,
            answers=_right(synced),
            settings=settings,
            now=later,
        )
