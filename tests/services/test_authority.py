"""Who may see and regrade a learner's work, and whose accounts an instructor manages: by course, not account role.

Course B places the lesson's exercise and quiz; Bea is its learner, Tim its TA (a learner
account), Tess its instructor, Pia another learner of it. Olga is an instructor account who
instructs course A (the default course, which places every exercise too) and not B: she must
see nothing of B's work, however it was made.
"""

from __future__ import annotations

import json

import pytest
from sqlmodel import select

from grader.models import (
    DEFAULT_COURSE_ID,
    Assignment,
    AuditEvent,
    Choice,
    CourseMember,
    Exercise,
    Quiz,
    QuizAttempt,
    Submission,
    User,
)
from grader.services import authority, courses, quizzes, regrade, submissions, users, visibility
from grader.services.errors import InvalidInput, NotFound, PermissionDenied
from grader.services.scope import CourseScope
from tests.factories import exercise, make_submission, make_user
from tests.grading.test_visibility import SECRET_SENT, restricted_report

QUIZ = "message-cycle"
VIEWERS = ("author", "ta", "instructor", "other_instructor", "peer")
STAFF = {"ta", "instructor"}


def _only_in(session, user: User, course_id: int, role: str) -> None:
    session.delete(session.get(CourseMember, (DEFAULT_COURSE_ID, user.id)))
    courses.add_member(session=session, course_id=course_id, user_id=user.id, role=role)
    session.commit()


@pytest.fixture
def course_b(synced):
    """Course B with its people, Olga of course A, and Bea's work made for B's assignment and for none."""
    tess = make_user(synced, role="instructor", name="Tess")
    made = courses.create(session=synced, title="Evening class", created_by=tess)
    synced.delete(synced.get(CourseMember, (DEFAULT_COURSE_ID, tess.id)))
    echo = synced.exec(select(Exercise).where(Exercise.slug == "message-echo")).one()
    quiz = synced.exec(select(Quiz).where(Quiz.slug == QUIZ)).one()
    placed = courses.place(session=synced, course_id=made.id, exercise=echo, quiz=quiz)
    synced.commit()
    people = {"instructor": tess, "other_instructor": make_user(synced, role="instructor", name="Olga")}
    for key, role, name in (("author", "learner", "Bea"), ("ta", "ta", "Tim"), ("peer", "learner", "Pia")):
        people[key] = make_user(synced, name=name)
        _only_in(synced, people[key], made.id, role)
    report = restricted_report("hidden").to_dict()
    assigned = make_submission(synced, user=people["author"], status="graded", score=1, report=report)
    assigned.assignment_id = placed.id
    synced.add(assigned)
    synced.commit()
    unassigned = make_submission(
        synced, user=people["author"], status="graded", score=1, report=report, unassigned=True
    )
    view = quizzes.get_for_learner(session=synced, slug=QUIZ)
    answers = {}
    for question in view.questions:
        choices = synced.exec(select(Choice).where(Choice.question_id == question.id)).all()
        answers[question.id] = next(choice.id for choice in choices if not choice.is_correct)
    attempt = quizzes.submit_attempt(session=synced, user=people["author"], slug=QUIZ, answers=answers)
    assert synced.get(QuizAttempt, attempt.id).assignment_id == placed.id
    return {
        "id": made.id,
        "assignment": placed,
        "people": people,
        "assigned": assigned.id,
        "unassigned": unassigned.id,
        "attempt": attempt.id,
    }


@pytest.mark.parametrize("viewer", VIEWERS)
@pytest.mark.parametrize("work", ["assigned", "unassigned"])
def test_the_author_and_the_courses_staff_see_the_work_and_no_one_else(synced, course_b, viewer, work):
    user = course_b["people"][viewer]
    submission_id = course_b[work]
    sees = viewer == "author" or viewer in STAFF
    assert authority.may_see_submission(session=synced, submission_id=submission_id, user=user) is sees
    assert authority.teaches_submission(session=synced, submission_id=submission_id, user=user) is (viewer in STAFF)
    if sees:
        assert submissions.get_for_user(session=synced, submission_id=submission_id, user=user).id == submission_id
        submissions.check_visible(session=synced, submission_id=submission_id, user=user)
        shown = visibility.report_for(synced, submission=synced.get(Submission, submission_id), viewer=user)
        # Staff read the hidden case's data; its author does not (nothing is released yet).
        assert (SECRET_SENT in json.dumps(shown)) is (viewer in STAFF)
    else:
        with pytest.raises(NotFound):
            submissions.get_for_user(session=synced, submission_id=submission_id, user=user)
        with pytest.raises(NotFound):
            submissions.check_visible(session=synced, submission_id=submission_id, user=user)


@pytest.mark.parametrize("viewer", VIEWERS)
def test_a_quiz_attempt_is_shown_to_its_author_and_the_courses_staff_with_the_answers_to_staff(
    synced, course_b, viewer
):
    user = course_b["people"][viewer]
    if viewer not in STAFF and viewer != "author":
        with pytest.raises(NotFound):
            quizzes.get_attempt(session=synced, attempt_id=course_b["attempt"], user=user)
        return
    result = quizzes.get_attempt(session=synced, attempt_id=course_b["attempt"], user=user)
    assert result.id == course_b["attempt"]
    # The author has attempts left, so the right options are not marked for them yet; staff always see them.
    assert result.reveal.shown is (viewer in STAFF)


def test_work_whose_assignment_was_removed_is_the_courses_while_it_places_the_exercise(synced, course_b):
    """Rule 2 alone, as the course's views count it: B's learner's work on what B places."""
    people = course_b["people"]
    synced.delete(synced.get(Assignment, course_b["assignment"].id))
    synced.commit()
    assert not authority.may_see_submission(session=synced, submission_id=course_b["assigned"], user=people["ta"])
    courses.place(session=synced, course_id=course_b["id"], exercise=exercise(synced))
    synced.commit()
    assert authority.may_see_submission(session=synced, submission_id=course_b["assigned"], user=people["ta"])
    assert not authority.may_see_submission(session=synced, submission_id=course_b["assigned"], user=people["peer"])


def test_an_author_who_left_the_course_leaves_the_work_made_for_it_to_its_staff(synced, course_b):
    people = course_b["people"]
    synced.delete(synced.get(CourseMember, (course_b["id"], people["author"].id)))
    synced.commit()
    # Made for B's assignment: still B's (rule 1); made for none: B no longer counts it (rule 2 needs a learner).
    assert authority.may_see_submission(session=synced, submission_id=course_b["assigned"], user=people["ta"])
    assert not authority.may_see_submission(session=synced, submission_id=course_b["unassigned"], user=people["ta"])
    assert authority.may_see_submission(session=synced, submission_id=course_b["unassigned"], user=people["author"])


def test_placing_an_exercise_in_a_course_of_ones_own_reveals_no_one_elses_work(synced, course_b):
    """Course A places the exercise too (every exercise is placed in the default course), but Bea is not in A."""
    olga = course_b["people"]["other_instructor"]
    own = courses.create(session=synced, title="Olga's own", created_by=olga)
    courses.place(session=synced, course_id=own.id, exercise=exercise(synced))
    synced.commit()
    for work in ("assigned", "unassigned"):
        assert not authority.may_see_submission(session=synced, submission_id=course_b[work], user=olga)
    # Once Bea is Olga's learner too, Olga's course counts Bea's work on what it places (as its views do).
    courses.add_member(
        session=synced, course_id=DEFAULT_COURSE_ID, user_id=course_b["people"]["author"].id, role="learner"
    )
    synced.commit()
    assert authority.may_see_submission(session=synced, submission_id=course_b["unassigned"], user=olga)


@pytest.mark.parametrize("viewer", VIEWERS)
def test_one_submission_is_regraded_by_the_courses_staff_only(synced, course_b, viewer):
    user = course_b["people"][viewer]
    sent: list[int] = []
    if viewer not in STAFF:
        # Its author is refused; to anyone else it does not exist.
        with pytest.raises(PermissionDenied if viewer == "author" else NotFound):
            regrade.regrade_submission(
                session=synced, submission_id=course_b["assigned"], requested_by=user, enqueue=sent.append
            )
        assert sent == []
        return
    batch = regrade.regrade_submission(
        session=synced,
        submission_id=course_b["assigned"],
        requested_by=user,
        enqueue=sent.append,
        scope=CourseScope(course_id=course_b["id"]),
    )
    assert sent == [course_b["assigned"]]
    regrade.check_follower(session=synced, batch_id=batch.id, user=user)
    other = course_b["people"]["ta" if viewer == "instructor" else "instructor"]
    regrade.check_follower(session=synced, batch_id=batch.id, user=other)
    for outsider in ("other_instructor", "peer", "author"):
        with pytest.raises(PermissionDenied):
            regrade.check_follower(session=synced, batch_id=batch.id, user=course_b["people"][outsider])


def test_another_courses_scope_does_not_reach_the_submission(synced, course_b):
    olga = course_b["people"]["other_instructor"]
    with pytest.raises(NotFound):
        regrade.regrade_submission(
            session=synced,
            submission_id=course_b["unassigned"],
            requested_by=olga,
            enqueue=lambda _: None,
            scope=CourseScope(course_id=DEFAULT_COURSE_ID),
        )
    assert (
        authority.regrading_course(session=synced, submission_id=course_b["unassigned"], user=course_b["people"]["ta"])
        == course_b["id"]
    )
    with pytest.raises(NotFound):
        authority.regrading_course(session=synced, submission_id=course_b["unassigned"], user=olga)


# --- accounts -----------------------------------------------------------------------------


def test_an_instructor_resets_only_their_courses_learners_passwords(synced, course_b):
    people = course_b["people"]
    learner, password = users.reset_password(session=synced, user_id=people["author"].id, by=people["instructor"])
    assert users.authenticate(session=synced, email=learner.email, password=password).id == learner.id
    event = synced.exec(select(AuditEvent).where(AuditEvent.action == "account.change")).one()
    assert event.details == {
        "change": "password reset; signed out everywhere",
        "course": f"course {course_b['id']} (Evening class)",
    }
    # A TA manages no accounts; the other course's instructor does not find B's learner.
    with pytest.raises(PermissionDenied):
        users.resettable(session=synced, user_id=people["author"].id, by=people["ta"])
    with pytest.raises(NotFound):
        users.resettable(session=synced, user_id=people["author"].id, by=people["other_instructor"])
    # Never a TA's or an instructor's password, even in one's own course.
    with pytest.raises(PermissionDenied):
        users.resettable(session=synced, user_id=people["ta"].id, by=people["instructor"])
    courses.add_member(session=synced, course_id=course_b["id"], user_id=people["other_instructor"].id, role="learner")
    synced.commit()
    with pytest.raises(PermissionDenied):
        users.resettable(session=synced, user_id=people["other_instructor"].id, by=people["instructor"])


def test_a_learner_who_teaches_elsewhere_keeps_their_password_from_this_courses_instructor(synced, course_b):
    people = course_b["people"]
    courses.add_member(session=synced, course_id=DEFAULT_COURSE_ID, user_id=people["peer"].id, role="ta")
    synced.commit()
    with pytest.raises(PermissionDenied):
        users.resettable(session=synced, user_id=people["peer"].id, by=people["instructor"])


def test_the_users_list_holds_the_accounts_of_the_courses_one_instructs(synced, course_b):
    people = course_b["people"]
    listed = {account.user.id: account for account in users.list_managed(session=synced, by=people["instructor"])}
    assert set(listed) == {people[key].id for key in ("instructor", "author", "ta", "peer")}
    assert listed[people["ta"].id].courses == [("Evening class", "ta")] and not listed[people["ta"].id].resettable
    assert listed[people["author"].id].resettable
    olga = {account.user.id for account in users.list_managed(session=synced, by=people["other_instructor"])}
    assert people["author"].id not in olga and people["other_instructor"].id in olga
    assert users.list_managed(session=synced, by=people["ta"]) == []


def test_accounts_are_created_in_a_course_the_creator_instructs(synced, course_b):
    people = course_b["people"]
    data = {"email": "new@example.org", "display_name": "New", "role": "learner", "password": "a long passphrase"}
    made = users.create_in_course(session=synced, data=data, course_id=course_b["id"], by=people["instructor"])
    assert courses.role_in(session=synced, user=made, course_id=course_b["id"]) == "learner"
    assert courses.role_in(session=synced, user=made, course_id=DEFAULT_COURSE_ID) is None
    event = synced.exec(select(AuditEvent).where(AuditEvent.action == "account.create")).one()
    assert event.details == {"role": "learner", "course": f"course {course_b['id']} (Evening class)"}
    other = {**data, "email": "other@example.org"}
    with pytest.raises(NotFound):
        users.create_in_course(session=synced, data=other, course_id=DEFAULT_COURSE_ID, by=people["instructor"])
    with pytest.raises(PermissionDenied):
        users.create_in_course(session=synced, data=other, course_id=course_b["id"], by=people["ta"])
    # A course's instructor whose account is a learner's may not hand out the right to create courses.
    courses.add_member(session=synced, course_id=course_b["id"], user_id=people["ta"].id, role="instructor")
    synced.commit()
    with pytest.raises(InvalidInput):
        users.create_in_course(
            session=synced, data={**other, "role": "instructor"}, course_id=course_b["id"], by=people["ta"]
        )
    assert users.get_by_email(session=synced, email="other@example.org") is None
    assert users.managing_course(session=synced, by=people["ta"]).id == course_b["id"]


def test_work_made_for_one_course_stays_with_it_when_its_author_repeats_in_another(synced, course_b):
    """Bea also learns in course A, which places the same exercise: A's instructor reads only work made for no course."""
    people = course_b["people"]
    courses.add_member(session=synced, course_id=DEFAULT_COURSE_ID, user_id=people["author"].id, role="learner")
    synced.commit()
    olga = people["other_instructor"]
    assert not authority.may_see_submission(session=synced, submission_id=course_b["assigned"], user=olga)
    assert not authority.teaches_submission(session=synced, submission_id=course_b["assigned"], user=olga)
    with pytest.raises(NotFound):
        quizzes.get_attempt(session=synced, attempt_id=course_b["attempt"], user=olga)
    # Work made for no assignment belongs to every course of its author that places the exercise.
    assert authority.may_see_submission(session=synced, submission_id=course_b["unassigned"], user=olga)
    assert authority.may_see_submission(session=synced, submission_id=course_b["assigned"], user=people["ta"])
