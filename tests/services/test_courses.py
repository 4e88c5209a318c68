"""Courses, members, assignments: join codes, dates, late penalties, extensions and recomputed scores."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from grader.content import sync_content
from grader.models import (
    DEFAULT_COURSE_ID,
    Assignment,
    CourseMember,
    Exercise,
    ExerciseStanding,
    Submission,
    utcnow,
)
from grader.services import audit, courses, quizzes, standings, submissions, users
from grader.services.errors import InvalidInput, NotFound, NotOpen, PermissionDenied
from tests.factories import exercise, make_user

SOURCE = b"from fastapi import FastAPI\napp = FastAPI()\n"
DUE = datetime(2026, 12, 11, 17, 0, tzinfo=UTC)


def _assignment(session) -> Assignment:
    """The default course's assignment of the lesson's exercise (placed by the content sync)."""
    row = exercise(session)
    return session.exec(
        select(Assignment).where(Assignment.course_id == DEFAULT_COURSE_ID, Assignment.exercise_id == row.id)
    ).one()


def _upload(session, settings, user, *, now, assignment_id=None) -> Submission:
    return submissions.create(
        session=session,
        user=user,
        exercise_slug="message-echo",
        filename="solution.py",
        data=SOURCE,
        settings=settings.model_copy(update={"submission_interval_seconds": 0}),
        now=now,
        enqueue=[].append,
        assignment_id=assignment_id,
    )


def _grade(session, submission: Submission, score: float) -> None:
    """Store a score as a worker would, with what the views derive from it."""
    submission.status, submission.score = "graded", score
    session.add(submission)
    standings.record_result(session, submission_id=submission.id, report={"tests": []})
    session.commit()


def _standing(session, user) -> ExerciseStanding:
    return _standing_in(session, user, DEFAULT_COURSE_ID)


def _standing_in(session, user, course_id: int) -> ExerciseStanding:
    session.expire_all()
    return session.get(ExerciseStanding, (user.id, course_id, exercise(session).id))


def test_the_sync_places_the_exercise_with_its_lesson_quiz_in_the_default_course(synced, settings):
    placed = courses.assignments(session=synced, course_id=DEFAULT_COURSE_ID)
    lesson = _assignment(synced)
    assert lesson in placed and lesson.quiz_id is not None
    # The quiz is not placed a second time on its own, and a second sync places nothing new.
    assert [row.quiz_id for row in placed].count(lesson.quiz_id) == 1
    sync_content(synced, settings.exercises_dir, settings.quizzes_dir)
    assert len(courses.assignments(session=synced, course_id=DEFAULT_COURSE_ID)) == len(placed)


def test_accounts_made_outside_a_course_join_the_default_course_with_their_role(session):
    data = {"email": "teach@example.org", "display_name": "T", "password": "a long enough secret", "role": "instructor"}
    user = users.create(session=session, data=data)
    assert courses.role_in(session=session, user=user, course_id=DEFAULT_COURSE_ID) == "instructor"
    assert [(course.id, role) for course, role in courses.for_user(session=session, user=user)] == [
        (DEFAULT_COURSE_ID, "instructor")
    ]


def test_sign_up_joins_the_course_whose_code_it_gives(session, settings):
    teacher = make_user(session, role="instructor")
    other = courses.create(session=session, title="Evening class", created_by=teacher)
    data = {"email": "eve@example.org", "display_name": "Eve", "password": "a long enough secret"}
    learner = users.sign_up(session=session, data=data, join_code=f"  {other.join_code} ", settings=settings)
    assert courses.role_in(session=session, user=learner, course_id=other.id) == "learner"
    assert courses.role_in(session=session, user=learner, course_id=DEFAULT_COURSE_ID) is None
    # The configured code still opens the default course.
    data = {**data, "email": "dan@example.org"}
    default_learner = users.sign_up(session=session, data=data, join_code="JOIN-ME", settings=settings)
    assert courses.role_in(session=session, user=default_learner, course_id=DEFAULT_COURSE_ID) == "learner"


def test_a_rotated_code_replaces_the_configured_one_at_once(session, settings):
    teacher = make_user(session, role="instructor")
    course = courses.rotate_join_code(session=session, course_id=DEFAULT_COURSE_ID, by=teacher)
    assert course.join_code and course.join_code != "JOIN-ME"
    data = {"email": "late@example.org", "display_name": "L", "password": "a long enough secret"}
    with pytest.raises(InvalidInput) as raised:
        users.sign_up(session=session, data=data, join_code="JOIN-ME", settings=settings)
    assert raised.value.field == "join_code"
    users.sign_up(session=session, data=data, join_code=course.join_code, settings=settings)


def test_only_the_course_instructor_rotates_codes_and_changes_assignments(synced):
    ta = make_user(synced)
    courses.add_member(session=synced, course_id=DEFAULT_COURSE_ID, user_id=ta.id, role="ta")
    synced.commit()
    outsider = make_user(synced, role="instructor")
    synced.delete(synced.get(CourseMember, (DEFAULT_COURSE_ID, outsider.id)))
    synced.commit()
    with pytest.raises(PermissionDenied):
        courses.rotate_join_code(session=synced, course_id=DEFAULT_COURSE_ID, by=ta)
    with pytest.raises(PermissionDenied):
        courses.update_assignment(session=synced, assignment_id=_assignment(synced).id, by=ta, due_at=DUE)
    # Not a member at all: the course is not theirs to know about.
    with pytest.raises(NotFound):
        courses.update_assignment(session=synced, assignment_id=_assignment(synced).id, by=outsider, due_at=DUE)
    assert courses.is_staff(session=synced, user=ta, course_id=DEFAULT_COURSE_ID)


@pytest.mark.parametrize(
    ("late_by", "percent", "unit", "floor", "share"),
    [
        (timedelta(0), 10, "day", 0, 1.0),
        (timedelta(seconds=1), 10, "day", 0, 0.9),  # a started day counts
        (timedelta(days=1), 10, "day", 0, 0.9),
        (timedelta(days=1, seconds=1), 10, "day", 0, 0.8),
        (timedelta(hours=3, minutes=1), 5, "hour", 0, 0.8),
        (timedelta(days=30), 10, "day", 40, 0.4),  # never below the floor
        (timedelta(days=30), 10, "day", 0, 0.0),
    ],
)
def test_the_late_share_per_started_unit_down_to_the_floor(late_by, percent, unit, floor, share):
    assignment = Assignment(
        course_id=1,
        title="t",
        exercise_id=1,
        due_at=DUE,
        late_policy="penalty",
        penalty_percent=percent,
        penalty_unit=unit,
        penalty_floor_percent=floor,
    )
    assert courses.late_factor(assignment, due_at=DUE, made_at=DUE + late_by) == pytest.approx(share)


def test_late_work_is_refused_under_no_late_policy_and_nothing_is_stored(synced, settings):
    teacher = make_user(synced, role="instructor")
    learner = make_user(synced)
    courses.update_assignment(session=synced, assignment_id=_assignment(synced).id, by=teacher, due_at=DUE)
    with pytest.raises(NotOpen, match="takes no late work"):
        _upload(synced, settings, learner, now=DUE + timedelta(minutes=1))
    assert synced.exec(select(Submission)).all() == []
    on_time = _upload(synced, settings, learner, now=DUE - timedelta(minutes=1))
    assert (on_time.assignment_id, on_time.late_factor) == (_assignment(synced).id, 1.0)


def test_work_before_the_opening_is_refused(synced, settings):
    teacher = make_user(synced, role="instructor")
    learner = make_user(synced)
    opens = utcnow() + timedelta(days=1)  # the quiz is judged by the clock
    courses.update_assignment(session=synced, assignment_id=_assignment(synced).id, by=teacher, opens_at=opens)
    with pytest.raises(NotOpen, match="opens on"):
        _upload(synced, settings, learner, now=opens - timedelta(seconds=1))
    quiz_id = _assignment(synced).quiz_id
    slug = next(row.slug for row in quizzes.list_quizzes(session=synced) if row.id == quiz_id)
    view = quizzes.get_for_learner(session=synced, slug=slug)
    answers = {question.id: question.choices[0].id for question in view.questions}
    with pytest.raises(NotOpen):
        quizzes.submit_attempt(session=synced, user=learner, slug=slug, answers=answers)
    assert quizzes.attempts_used(session=synced, user=learner, quiz=quizzes.get_quiz(session=synced, slug=slug)) == 0
    assert _upload(synced, settings, learner, now=opens).late_factor == 1.0


def test_a_penalty_counts_late_work_at_its_share_and_the_standing_follows(synced, settings):
    teacher = make_user(synced, role="instructor")
    learner = make_user(synced)
    courses.update_assignment(
        session=synced,
        assignment_id=_assignment(synced).id,
        by=teacher,
        due_at=DUE,
        late_policy="penalty",
        penalty_percent=25,
        penalty_unit="day",
    )
    late = _upload(synced, settings, learner, now=DUE + timedelta(hours=2))
    assert late.late_factor == pytest.approx(0.75)
    _grade(synced, late, 16.0)
    assert _standing(synced, learner).best_score == pytest.approx(12.0)
    assert late.counted_score == pytest.approx(12.0)


def test_moving_the_due_date_or_granting_an_extension_recomputes_the_scores(synced, settings):
    teacher = make_user(synced, role="instructor")
    learner, other = make_user(synced), make_user(synced)
    assignment_id = _assignment(synced).id
    courses.update_assignment(
        session=synced, assignment_id=assignment_id, by=teacher, due_at=DUE, late_policy="penalty", penalty_percent=50
    )
    for person in (learner, other):
        _grade(synced, _upload(synced, settings, person, now=DUE + timedelta(hours=1)), 10.0)
    assert _standing(synced, learner).best_score == pytest.approx(5.0)

    # One learner's extension: only their work counts whole again.
    courses.grant_extension(
        session=synced, assignment_id=assignment_id, user_id=learner.id, due_at=DUE + timedelta(days=2), by=teacher
    )
    assert _standing(synced, learner).best_score == pytest.approx(10.0)
    assert _standing(synced, other).best_score == pytest.approx(5.0)
    state = courses.deadline_state(
        session=synced, assignment=_assignment(synced), user_id=learner.id, now=DUE + timedelta(days=1)
    )
    assert state.extended and not state.due_passed and state.is_open

    # The due date moves for everyone: the other learner's work is on time now.
    courses.update_assignment(session=synced, assignment_id=assignment_id, by=teacher, due_at=DUE + timedelta(days=1))
    assert _standing(synced, other).best_score == pytest.approx(10.0)

    # Back to no late work at all, the due date back too: late work taken earlier counts nothing.
    courses.update_assignment(session=synced, assignment_id=assignment_id, by=teacher, due_at=DUE, late_policy="none")
    assert _standing(synced, other).best_score == pytest.approx(0.0)
    assert _standing(synced, learner).best_score == pytest.approx(10.0)  # still within the extension

    courses.grant_extension(session=synced, assignment_id=assignment_id, user_id=learner.id, due_at=None, by=teacher)
    assert _standing(synced, learner).best_score == pytest.approx(0.0)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"due_at": DUE, "opens_at": DUE + timedelta(days=1)}, "due_at"),
        ({"due_at": datetime(2026, 12, 11, 17, 0)}, "due_at"),
        ({"penalty_percent": 150}, "penalty_percent"),
        ({"penalty_floor_percent": float("nan")}, "penalty_floor_percent"),
        ({"late_policy": "sometimes"}, "late_policy"),
        ({"title": "   "}, "title"),
    ],
)
def test_bad_assignment_settings_are_refused_and_nothing_changes(synced, fields, field):
    teacher = make_user(synced, role="instructor")
    before = _assignment(synced).model_dump()
    with pytest.raises(InvalidInput) as raised:
        courses.update_assignment(session=synced, assignment_id=before["id"], by=teacher, **fields)
    assert raised.value.field == field
    synced.rollback()
    synced.expire_all()
    assert _assignment(synced).model_dump() == before


def test_an_explicit_assignment_must_be_one_of_the_learners_courses(synced, settings):
    teacher = make_user(synced, role="instructor")
    other = courses.create(session=synced, title="Other", created_by=teacher)
    placed = courses.place(session=synced, course_id=other.id, exercise=exercise(synced))
    synced.commit()
    learner = make_user(synced)
    with pytest.raises(NotFound):
        _upload(synced, settings, learner, now=DUE, assignment_id=placed.id)
    courses.add_member(session=synced, course_id=other.id, user_id=learner.id, role="learner")
    synced.commit()
    made = _upload(synced, settings, learner, now=DUE, assignment_id=placed.id)
    assert made.assignment_id == placed.id


# --- managing a course: members, placing, ordering, removing, the audit log ----------------


def _audit_actions(session, viewer) -> list[str]:
    return [event.action for event, _course in audit.recent(session=session, viewer=viewer)]


def test_placing_moving_and_removing_assignments(synced, settings):
    teacher = make_user(synced, role="instructor")
    course = courses.create(session=synced, title="Evening class", created_by=teacher)
    lesson = exercise(synced)
    quiz = quizzes.list_quizzes(session=synced)[0]
    first = courses.place_assignment(session=synced, course_id=course.id, by=teacher, exercise_id=lesson.id)
    second = courses.place_assignment(
        session=synced, course_id=course.id, by=teacher, quiz_id=quiz.id, title="Check yourself"
    )
    assert [row.title for row in courses.assignments(session=synced, course_id=course.id)] == [
        lesson.title,
        "Check yourself",
    ]
    order = courses.move_assignment(session=synced, assignment_id=second.id, by=teacher, step=-1)
    assert [row.id for row in order] == [second.id, first.id]
    with pytest.raises(InvalidInput, match="already first"):
        courses.move_assignment(session=synced, assignment_id=second.id, by=teacher, step=-1)
    with pytest.raises(InvalidInput) as raised:
        courses.place_assignment(session=synced, course_id=course.id, by=teacher, exercise_id=987654)
    assert raised.value.field == "exercise"
    synced.rollback()
    with pytest.raises(InvalidInput, match="needs an exercise or a quiz"):
        courses.place_assignment(session=synced, course_id=course.id, by=teacher)
    synced.rollback()
    learner = make_user(synced)
    courses.add_member(session=synced, course_id=course.id, user_id=learner.id, role="learner")
    synced.commit()
    made = _upload(synced, settings, learner, now=DUE, assignment_id=first.id)
    assert _standing_in(synced, learner, course.id).submissions == 1
    courses.remove_assignment(session=synced, assignment_id=first.id, by=teacher)
    synced.expire_all()
    assert synced.get(ExerciseStanding, (learner.id, course.id, lesson.id)) is None  # counted for no assignment
    assert [row.id for row in courses.assignments(session=synced, course_id=course.id)] == [second.id]
    assert synced.get(Submission, made.id).assignment_id is None  # the work stays
    assert _audit_actions(synced, teacher)[:4] == [
        "assignment.remove",
        "assignment.change",
        "assignment.place",
        "assignment.place",
    ]


def test_a_change_reports_how_many_scores_it_recomputed_and_is_audited(synced, settings):
    teacher = make_user(synced, role="instructor")
    learner = make_user(synced)
    assignment_id = _assignment(synced).id
    _grade(synced, _upload(synced, settings, learner, now=DUE + timedelta(hours=1)), 10.0)
    saved = courses.update_assignment(
        session=synced, assignment_id=assignment_id, by=teacher, due_at=DUE, late_policy="penalty", penalty_percent=20
    )
    assert saved.recomputed == 1
    assert (
        courses.update_assignment(session=synced, assignment_id=assignment_id, by=teacher, due_at=DUE).recomputed == 0
    )
    granted = courses.grant_extension(
        session=synced, assignment_id=assignment_id, user_id=learner.id, due_at=DUE + timedelta(days=1), by=teacher
    )
    assert granted.recomputed == 1
    events = [event for event, _course in audit.recent(session=synced, viewer=teacher)]
    assert [event.action for event in events[:2]] == ["extension.change", "assignment.change"]
    assert events[0].details["learner"] == learner.email and events[0].details["scores recomputed"] == 1
    assert events[1].details["late_policy"] == "penalty" and events[1].details["scores recomputed"] == 1


@pytest.mark.parametrize(
    ("text", "zone", "expected"),
    [
        ("2026-12-11T18:00", "Europe/Berlin", datetime(2026, 12, 11, 17, 0, tzinfo=UTC)),
        ("2026-07-11T18:00", "Europe/Berlin", datetime(2026, 7, 11, 16, 0, tzinfo=UTC)),
        ("2026-12-11T18:00", "", datetime(2026, 12, 11, 18, 0, tzinfo=UTC)),
        ("  ", "UTC", None),
    ],
)
def test_a_date_typed_in_a_zone_is_stored_in_utc(text, zone, expected):
    assert courses.moment_in_zone(text, zone, field="due_at") == expected


@pytest.mark.parametrize(
    ("text", "zone", "words"),
    [
        ("tomorrow", "UTC", "not a date and time"),
        ("2026-12-11T18:00", "Mars/Olympus", "not a time zone"),
        ("2026-12-11T18:00", "../../etc/passwd", "not a time zone"),
        ("2026-12-11T18:00+01:00", "UTC", "without a zone"),
        ("9999-12-31T23:59", "America/Los_Angeles", "too far"),
        ("0001-01-01T00:01", "Asia/Tokyo", "too far"),
    ],
)
def test_a_wrong_date_or_zone_is_refused_naming_the_field(text, zone, words):
    with pytest.raises(InvalidInput) as raised:
        courses.moment_in_zone(text, zone, field="due_at")
    assert raised.value.field == "due_at" and words in raised.value.message


def test_a_course_places_an_exercise_or_a_quiz_once(synced):
    teacher = make_user(synced, role="instructor")
    course = courses.create(session=synced, title="Evening class", created_by=teacher)
    lesson = exercise(synced)
    quiz = quizzes.list_quizzes(session=synced)[0]
    first = courses.place_assignment(session=synced, course_id=course.id, by=teacher, exercise_id=lesson.id)
    courses.place_assignment(session=synced, course_id=course.id, by=teacher, quiz_id=quiz.id, title="Check")
    for work, field in (({"exercise_id": lesson.id}, "exercise"), ({"quiz_id": quiz.id}, "quiz")):
        with pytest.raises(InvalidInput, match="already in this course") as raised:
            courses.place_assignment(session=synced, course_id=course.id, by=teacher, title="Again", **work)
        assert raised.value.field == field
        synced.rollback()
    assert [row.title for row in courses.assignments(session=synced, course_id=course.id)] == [lesson.title, "Check"]
    # The sync placed the lesson in the default course: placing it there again is refused too.
    with pytest.raises(InvalidInput, match=f"in the assignment “{_assignment(synced).title}”"):
        courses.place(session=synced, course_id=DEFAULT_COURSE_ID, exercise=lesson)
    synced.rollback()
    # Once removed, it may be placed again.
    courses.remove_assignment(session=synced, assignment_id=first.id, by=teacher)
    again = courses.place_assignment(session=synced, course_id=course.id, by=teacher, exercise_id=lesson.id)
    assert again.exercise_id == lesson.id


def test_the_database_refuses_a_placement_the_check_missed_in_the_same_words(synced, monkeypatch):
    """As when a simultaneous placement commits between the check and the insert: nothing of it is stored."""
    teacher = make_user(synced, role="instructor")
    course = courses.create(session=synced, title="Evening class", created_by=teacher)
    lesson = exercise(synced)
    quiz = quizzes.list_quizzes(session=synced)[0]
    courses.place_assignment(session=synced, course_id=course.id, by=teacher, exercise_id=lesson.id, title="Echo")
    courses.place_assignment(session=synced, course_id=course.id, by=teacher, quiz_id=quiz.id, title="Check")
    real_holder = courses._holder
    for work, field, winner in (
        ({"exercise_id": lesson.id}, "exercise", "Echo"),
        ({"quiz_id": quiz.id}, "quiz", "Check"),
    ):
        missed = iter([True])  # the first look misses the row; the look after the refusal finds it

        def holder_once_blind(session, missed=missed, **where):
            return None if next(missed, False) else real_holder(session, **where)

        monkeypatch.setattr(courses, "_holder", holder_once_blind)
        with pytest.raises(InvalidInput, match=f"already in this course, in the assignment “{winner}”") as raised:
            courses.place_assignment(session=synced, course_id=course.id, by=teacher, title="Again", **work)
        assert raised.value.field == field
    synced.expire_all()
    assert [row.title for row in courses.assignments(session=synced, course_id=course.id)] == ["Echo", "Check"]
    placed = [event.target for event, _course in audit.recent(session=synced, viewer=teacher)]
    assert any("(Echo)" in target for target in placed) and any("(Check)" in target for target in placed)
    assert not any("(Again)" in target for target in placed)


def test_the_database_places_each_exercise_and_quiz_once_per_course(synced):
    """Assignments without a quiz (or without an exercise) are many; another course may place the same work."""
    teacher = make_user(synced, role="instructor")
    course = courses.create(session=synced, title="Evening class", created_by=teacher)
    other = courses.create(session=synced, title="Morning class", created_by=teacher)
    lesson = exercise(synced)
    second = Exercise(slug="second", title="Second", max_score=1, instructions="", spec={}, spec_hash="0" * 64)
    synced.add(second)
    synced.flush()
    quiz = quizzes.list_quizzes(session=synced)[0]
    for row in (
        Assignment(course_id=course.id, title="Echo", exercise_id=lesson.id, position=0),
        Assignment(course_id=course.id, title="Second", exercise_id=second.id, position=1),  # two without a quiz
        Assignment(course_id=course.id, title="Check", quiz_id=quiz.id, position=2),
        Assignment(course_id=other.id, title="Echo", exercise_id=lesson.id, quiz_id=quiz.id, position=0),
    ):
        synced.add(row)
    synced.commit()
    for twice in (
        Assignment(course_id=course.id, title="Echo again", exercise_id=lesson.id, position=2),
        Assignment(course_id=course.id, title="Check again", quiz_id=quiz.id, position=2),
    ):
        synced.add(twice)
        with pytest.raises(IntegrityError):
            synced.flush()
        synced.rollback()


def test_work_sent_without_an_assignment_counts_for_the_open_one_then_the_newest_course(synced, settings):
    """A learner repeating a course: last term's assignment (course A, the oldest) and this term's (course B)."""
    teacher = make_user(synced, role="instructor")
    learner = make_user(synced)
    spring = courses.create(session=synced, title="Spring", created_by=teacher)
    fall = _assignment(synced)  # the default course's: the older course
    this_term = courses.place(session=synced, course_id=spring.id, exercise=exercise(synced))
    courses.add_member(session=synced, course_id=spring.id, user_id=learner.id, role="learner")
    synced.commit()
    lesson = exercise(synced).id

    def chosen(now: datetime) -> int | None:
        found = courses.assignment_for(session=synced, user=learner, exercise_id=lesson, now=now)
        return found.id if found is not None else None

    # Both open: the newest course's.
    assert chosen(DUE) == this_term.id
    # Last term's closed (no late work): this term's, open.
    courses.update_assignment(session=synced, assignment_id=fall.id, by=teacher, due_at=DUE - timedelta(days=90))
    assert chosen(DUE) == this_term.id
    # This term's not open yet, last term's open again (late work at a penalty): last term's.
    courses.update_assignment(
        session=synced, assignment_id=fall.id, by=teacher, late_policy="penalty", penalty_percent=10
    )
    courses.update_assignment(session=synced, assignment_id=this_term.id, by=teacher, opens_at=DUE + timedelta(days=1))
    assert chosen(DUE) == fall.id
    # An extension on a closed assignment opens it for that learner alone.
    courses.update_assignment(session=synced, assignment_id=fall.id, by=teacher, late_policy="none")
    assert chosen(DUE) == this_term.id  # none open: the newest course's, whose dates refuse the work
    courses.grant_extension(
        session=synced, assignment_id=fall.id, user_id=learner.id, due_at=DUE + timedelta(hours=1), by=teacher
    )
    assert chosen(DUE) == fall.id
    # The upload follows the same choice at its own moment; none open is refused with this term's dates.
    on_time = _upload(synced, settings, learner, now=DUE)
    assert on_time.assignment_id == fall.id
    _grade(synced, on_time, 1.0)
    with pytest.raises(NotOpen, match="opens on"):
        _upload(synced, settings, learner, now=DUE + timedelta(hours=2))
    made = _upload(synced, settings, learner, now=DUE + timedelta(days=2))
    assert made.assignment_id == this_term.id
    # An explicit assignment is taken as it is.
    explicit = courses.assignment_for(session=synced, user=learner, exercise_id=lesson, assignment_id=fall.id, now=DUE)
    assert explicit is not None and explicit.id == fall.id
