"""The instructors' course pages: every form with good input, bad input and the wrong person; the start page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from grader.models import (
    DEFAULT_COURSE_ID,
    Assignment,
    AuditEvent,
    Course,
    CourseMember,
    Extension,
    QuizAttempt,
    Submission,
    utcnow,
)
from grader.services import courses
from tests.factories import exercise, make_report, make_submission, make_user
from tests.web.conftest import CONFIRM, Browser

SOLUTION = b"from fastapi import FastAPI\napp = FastAPI()\n"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_backend(request) -> str:
    """Each test once on SQLite and once on PostgreSQL."""
    return request.param


def _lesson(session) -> Assignment:
    session.expire_all()
    return session.exec(select(Assignment).where(Assignment.exercise_id == exercise(session).id)).one()


def _page(assignment: Assignment) -> str:
    return f"/courses/{assignment.course_id}/assignments/{assignment.id}"


def _ta(app, synced) -> Browser:
    ta = make_user(synced, email="ta@example.org", name="Tess")
    courses.add_member(session=synced, course_id=DEFAULT_COURSE_ID, user_id=ta.id, role="ta")
    synced.commit()
    return Browser(TestClient(app)).sign_in(ta)


def _audit(session) -> list[str]:
    session.expire_all()
    return [row.action for row in session.exec(select(AuditEvent).order_by(AuditEvent.id)).all()]


# --- creating a course ----------------------------------------------------------------------------


def test_an_instructor_creates_a_course_and_becomes_its_instructor(as_instructor, instructor, synced):
    response = as_instructor.post_form("/courses", {"title": "  Evening class "}, page="/courses")
    assert response.status_code == 303
    course = synced.exec(select(Course).where(Course.title == "Evening class")).one()
    assert response.headers["location"] == f"/courses/{course.id}/assignments"
    assert courses.role_in(session=synced, user=instructor, course_id=course.id) == "instructor"
    page = as_instructor.get(f"/courses/{course.id}/settings").text
    assert course.join_code and course.join_code in page
    assert "course.create" in _audit(synced)
    listing = as_instructor.get("/courses").text
    assert "Evening class" in listing and f'href="/courses/{course.id}/assignments"' in listing


def test_a_course_without_a_title_is_refused_and_nothing_is_stored(as_instructor, synced):
    before = len(synced.exec(select(Course)).all())
    response = as_instructor.post_form("/courses", {"title": "   "}, page="/courses")
    assert response.status_code == 422
    assert "Give the course a title" in response.text and 'aria-invalid="true"' in response.text
    assert len(synced.exec(select(Course)).all()) == before


def test_a_learner_cannot_create_a_course(as_learner, synced):
    before = len(synced.exec(select(Course)).all())
    assert "Create a course" not in as_learner.get("/courses").text
    response = as_learner.post_form("/courses", {"title": "Mine"}, page="/courses")
    assert response.status_code == 403 and "Only instructors can create courses" in response.text
    assert len(synced.exec(select(Course)).all()) == before


# --- settings and members -----------------------------------------------------------------------------


def test_members_are_added_by_email_and_roles_changed(as_instructor, learner, synced):
    url = f"/courses/{DEFAULT_COURSE_ID}/settings"
    page = as_instructor.get(url).text
    assert "Ada" in page and "JOIN-ME" in page  # the default course's code comes from the setting
    newcomer = make_user(synced, email="new@example.org", name="Nina")
    synced.delete(synced.get(CourseMember, (DEFAULT_COURSE_ID, newcomer.id)))
    synced.commit()
    response = as_instructor.post_form(
        f"/courses/{DEFAULT_COURSE_ID}/members", {"email": "new@example.org", "role": "ta"}, page=url
    )
    assert response.status_code == 200 and "Nina is now TA in this course." in response.text
    assert courses.role_in(session=synced, user=newcomer, course_id=DEFAULT_COURSE_ID) == "ta"
    response = as_instructor.post_form(
        f"/courses/{DEFAULT_COURSE_ID}/members", {"email": learner.email, "role": "instructor"}, page=url
    )
    assert "Ada is now Instructor" in response.text
    assert _audit(synced).count("course.member") == 2


@pytest.mark.parametrize(
    ("form", "words"),
    [
        ({"email": "nobody@example.org", "role": "ta"}, "No account uses the e-mail"),
        ({"email": "", "role": "ta"}, "Give the e-mail address"),
        ({"email": "ada@example.org", "role": "owner"}, "The role must be one of"),
        ({"email": "teacher@example.org", "role": "learner"}, "only instructor"),
    ],
)
def test_a_wrong_member_form_says_why_and_changes_nothing(as_instructor, learner, synced, form, words):
    url = f"/courses/{DEFAULT_COURSE_ID}/settings"
    before = sorted((row.user_id, row.role) for row in synced.exec(select(CourseMember)).all())
    response = as_instructor.post_form(f"/courses/{DEFAULT_COURSE_ID}/members", form, page=url)
    assert response.status_code == 422 and words in response.text
    assert 'aria-invalid="true"' in response.text
    synced.expire_all()
    assert sorted((row.user_id, row.role) for row in synced.exec(select(CourseMember)).all()) == before
    assert "course.member" not in _audit(synced)


def test_the_join_code_is_rotated_and_the_title_changed(as_instructor, synced):
    url = f"/courses/{DEFAULT_COURSE_ID}/settings"
    response = as_instructor.post_form(f"/courses/{DEFAULT_COURSE_ID}/join-code", page=url)
    code = synced.get(Course, DEFAULT_COURSE_ID).join_code
    assert response.status_code == 200 and code and code in response.text and "JOIN-ME" not in response.text
    response = as_instructor.post_form(url, {"title": "Web apps 101"}, page=url)
    assert "Saved the course" in response.text
    synced.expire_all()
    assert synced.get(Course, DEFAULT_COURSE_ID).title == "Web apps 101"
    response = as_instructor.post_form(url, {"title": "x" * 201}, page=url)
    assert response.status_code == 422 and "up to 200 characters" in response.text
    synced.expire_all()
    assert synced.get(Course, DEFAULT_COURSE_ID).title == "Web apps 101"


def test_a_ta_and_a_learner_cannot_change_settings_or_members(app, as_learner, synced, learner):
    ta = _ta(app, synced)
    for browser, status in ((ta, 403), (as_learner, 403)):
        assert browser.get(f"/courses/{DEFAULT_COURSE_ID}/settings").status_code == status
        response = browser.post_form(
            f"/courses/{DEFAULT_COURSE_ID}/members", {"email": learner.email, "role": "instructor"}, page="/courses"
        )
        assert response.status_code == status
        assert browser.post_form(f"/courses/{DEFAULT_COURSE_ID}/join-code", page="/courses").status_code == status
    assert courses.role_in(session=synced, user=learner, course_id=DEFAULT_COURSE_ID) == "learner"
    assert synced.get(Course, DEFAULT_COURSE_ID).join_code == ""


def test_someone_outside_a_course_gets_not_found(app, as_instructor, as_learner, synced):
    other = as_instructor.post_form("/courses", {"title": "Private"}, page="/courses")
    course_id = int(other.headers["location"].split("/")[2])
    for url in (f"/courses/{course_id}/settings", f"/courses/{course_id}/assignments"):
        assert as_learner.get(url).status_code == 404
    assert as_learner.get("/courses/999999/settings").status_code == 404


# --- assignments -------------------------------------------------------------------------------------------


def test_an_assignment_is_placed_dated_in_the_instructors_zone_and_saved(as_instructor, synced):
    created = as_instructor.post_form("/courses", {"title": "Evening"}, page="/courses")
    course_url = created.headers["location"]
    response = as_instructor.post_form(course_url, {"exercise": str(exercise(synced).id)}, page=course_url)
    assert response.status_code == 303
    page_url = response.headers["location"]
    page = as_instructor.get(page_url).text
    assert 'type="datetime-local"' in page and 'name="zone" value="UTC"' in page
    assert "Dates are in the time zone <strong data-zone-name>UTC</strong>" in page
    form = {
        "title": "Echo, week 1",
        "opens_at": "2026-12-01T09:00",
        "due_at": "2026-12-11T18:00",
        "zone": "Europe/Berlin",
        "late_policy": "penalty",
        "penalty_percent": "10",
        "penalty_unit": "day",
        "penalty_floor_percent": "50",
        "reveal_answers": "after_due",
        "published": "yes",
    }
    response = as_instructor.post_form(page_url, form, page=page_url)
    assert response.status_code == 200 and "Saved. No score changed." in response.text
    saved = synced.get(Assignment, int(page_url.rsplit("/", 1)[1]))
    synced.refresh(saved)
    assert saved.title == "Echo, week 1"
    assert saved.due_at == datetime(2026, 12, 11, 17, 0, tzinfo=UTC)  # 18:00 in Berlin is 17:00 UTC
    assert saved.opens_at == datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    assert (saved.late_policy, saved.penalty_percent, saved.penalty_floor_percent) == ("penalty", 10, 50)
    assert (saved.reveal_answers, saved.published) == ("after_due", True)
    # The form shows the stored dates for the browser to put in its own zone.
    assert 'data-utc="2026-12-11T17:00:00+00:00"' in response.text
    assert "each started day late takes 10% off" in response.text
    assert "assignment.change" in _audit(synced)


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"title": " "}, "title", "Give the assignment a title"),
        ({"due_at": "soon"}, "due_at", "is not a date and time"),
        ({"opens_at": "2026-12-12T09:00", "due_at": "2026-12-11T09:00"}, "due_at", "must come after the opening"),
        ({"zone": "Atlantis/Capital", "due_at": "2026-12-11T09:00"}, "due_at", "not a time zone"),
        ({"late_policy": "sometimes"}, "late_policy", "either none or penalty"),
        ({"penalty_percent": "ten"}, "penalty_percent", "is not a number"),
        ({"penalty_percent": "150"}, "penalty_percent", "from 0 to 100"),
        ({"penalty_floor_percent": "nan"}, "penalty_floor_percent", "from 0 to 100"),
        ({"penalty_unit": "week"}, "penalty_unit", "per hour or per day"),
        ({"reveal_answers": "never"}, "reveal_answers", "after the last attempt or after the due date"),
    ],
)
def test_a_wrong_assignment_field_says_why_and_nothing_is_stored(as_instructor, synced, change, field, words):
    lesson = _lesson(synced)
    before = lesson.model_dump()
    form = {"title": lesson.title, "late_policy": "none", "penalty_unit": "day", "zone": "UTC", **change}
    form.setdefault("reveal_answers", "after_last_attempt")
    response = as_instructor.post_form(_page(lesson), form, page=_page(lesson))
    assert response.status_code == 422 and words in response.text
    assert "Saved" not in response.text
    # The form comes back as typed, in the zone it was typed in.
    assert f'name="zone" value="{form["zone"]}"' in response.text
    assert _lesson(synced).model_dump() == before
    assert "assignment.change" not in _audit(synced)


def test_saving_says_how_many_scores_were_recomputed(as_instructor, synced, learner, other_learner):
    lesson = _lesson(synced)
    due = utcnow() - timedelta(days=2)
    for person in (learner, other_learner):
        late = make_submission(
            synced, user=person, status="graded", score=10, report=make_report(cases={"a": True}).to_dict()
        )
        late.assignment_id, late.created_at = lesson.id, due + timedelta(hours=1)
        synced.add(late)
    synced.commit()
    form = {
        "title": lesson.title,
        "due_at": due.strftime("%Y-%m-%dT%H:%M"),
        "zone": "UTC",
        "late_policy": "penalty",
        "penalty_percent": "20",
        "penalty_unit": "day",
        "reveal_answers": "after_last_attempt",
    }
    response = as_instructor.post_form(_page(lesson), form, page=_page(lesson))
    assert "Saved. 2 scores changed." in response.text


def test_an_extension_is_granted_changed_and_removed(as_instructor, synced, learner):
    lesson = _lesson(synced)
    url = f"{_page(lesson)}/extensions"
    response = as_instructor.post_form(
        url, {"learner": str(learner.id), "due_at": "2026-12-20T12:00", "zone": "America/New_York"}, page=_page(lesson)
    )
    assert response.status_code == 200 and "Extension saved." in response.text
    synced.expire_all()
    extension = synced.get(Extension, (lesson.id, learner.id))
    assert extension.due_at == datetime(2026, 12, 20, 17, 0, tzinfo=UTC)
    assert "2026-12-20T17:00:00+00:00" in response.text and "Ada" in response.text
    response = as_instructor.post_form(url, {"learner": str(learner.id), "remove": "yes"}, page=_page(lesson))
    assert "Extension removed." in response.text
    synced.expire_all()
    assert synced.get(Extension, (lesson.id, learner.id)) is None
    assert _audit(synced).count("extension.change") == 2


@pytest.mark.parametrize(
    ("form", "words"),
    [
        ({"learner": "", "due_at": "2026-12-20T12:00"}, "Choose the learner"),
        ({"learner": "LEARNER", "due_at": ""}, "Give the learner&#39;s new due date"),
        ({"learner": "LEARNER", "due_at": "2026-13-40T12:00"}, "is not a date and time"),
        ({"learner": "abc", "due_at": "2026-12-20T12:00"}, "Choose a learner from the list"),
        ({"learner": "999999", "due_at": "2026-12-20T12:00"}, "not in this course"),
    ],
)
def test_a_wrong_extension_says_why_and_nothing_is_stored(as_instructor, synced, learner, form, words):
    lesson = _lesson(synced)
    form = {**form, "learner": form["learner"].replace("LEARNER", str(learner.id)), "zone": "UTC"}
    response = as_instructor.post_form(f"{_page(lesson)}/extensions", form, page=_page(lesson))
    assert response.status_code == 422 and words in response.text
    synced.expire_all()
    assert synced.exec(select(Extension)).all() == []


def test_a_course_places_a_quiz_once_and_the_form_says_where_it_is(as_instructor, synced):
    lesson = _lesson(synced)
    listing = f"/courses/{DEFAULT_COURSE_ID}/assignments"
    before = len(synced.exec(select(Assignment)).all())
    for form in ({"quiz": str(lesson.quiz_id)}, {"exercise": str(lesson.exercise_id), "title": "Twice"}):
        response = as_instructor.post_form(listing, form, page=listing)
        assert response.status_code == 422
        assert f"already in this course, in the assignment “{lesson.title}”" in response.text
    synced.expire_all()
    assert len(synced.exec(select(Assignment)).all()) == before


def test_a_placement_that_loses_a_race_gets_the_forms_error_and_stores_nothing(as_instructor, synced, monkeypatch):
    """The check missed the assignment (it was committed just after): the database refuses, the form says where."""
    lesson = _lesson(synced)
    listing = f"/courses/{DEFAULT_COURSE_ID}/assignments"
    before = len(synced.exec(select(Assignment)).all())
    real_holder = courses._holder
    missed = iter([True])
    monkeypatch.setattr(
        courses, "_holder", lambda session, **where: None if next(missed, False) else real_holder(session, **where)
    )
    response = as_instructor.post_form(listing, {"exercise": str(lesson.exercise_id), "title": "Twice"}, page=listing)
    assert response.status_code == 422
    assert f"already in this course, in the assignment “{lesson.title}”" in response.text
    synced.expire_all()
    assert len(synced.exec(select(Assignment)).all()) == before


def test_assignments_are_reordered_and_removed_after_a_confirmation(as_instructor, synced, instructor):
    lesson = _lesson(synced)
    quiz_id = lesson.quiz_id
    listing = f"/courses/{DEFAULT_COURSE_ID}/assignments"
    # A course places a quiz once: the lesson's assignment goes first, its quiz then has one of its own.
    courses.remove_assignment(session=synced, assignment_id=lesson.id, by=instructor)
    placed = as_instructor.post_form(listing, {"quiz": str(quiz_id), "title": "Quiz again"}, page=listing)
    assert placed.status_code == 303
    again = synced.exec(select(Assignment).where(Assignment.title == "Quiz again")).one()

    def order() -> list[int]:
        synced.expire_all()
        return [row.id for row in courses.assignments(session=synced, course_id=DEFAULT_COURSE_ID)]

    assert order()[-1] == again.id
    while order()[0] != again.id:
        place = order().index(again.id)
        moved = as_instructor.post_form(f"{_page(again)}/move", {"step": "up"}, page=listing)
        assert moved.status_code == 303 and order().index(again.id) == place - 1
    refused = as_instructor.post_form(f"{_page(again)}/move", {"step": "up"}, page=listing)
    assert refused.status_code == 422 and "already first" in refused.text
    question = as_instructor.get(f"{_page(again)}/remove").text
    assert "Remove “Quiz again”" in question and "Work already made for it stays" in question
    # Without the confirmation nothing is removed.
    assert as_instructor.post_form(f"{_page(again)}/remove", page=listing).status_code == 303
    assert synced.get(Assignment, again.id) is not None
    again_id, again_url = again.id, _page(again)
    removed = as_instructor.post_form(f"{again_url}/remove", CONFIRM, page=listing)
    assert removed.status_code == 200 and "Removed “Quiz again”." in removed.text
    assert again_id not in order()
    assert {"assignment.place", "assignment.change", "assignment.remove"} <= set(_audit(synced))


@pytest.mark.parametrize(
    ("form", "words"),
    [
        ({}, "needs an exercise or a quiz"),
        ({"exercise": "x1"}, "Choose an exercise"),
        ({"quiz": "424242"}, "no such quiz"),
    ],
)
def test_placing_nothing_or_an_unknown_exercise_is_refused(as_instructor, synced, form, words):
    listing = f"/courses/{DEFAULT_COURSE_ID}/assignments"
    before = len(synced.exec(select(Assignment)).all())
    response = as_instructor.post_form(listing, form, page=listing)
    assert response.status_code == 422 and words in response.text
    synced.expire_all()
    assert len(synced.exec(select(Assignment)).all()) == before


def test_a_ta_and_a_learner_cannot_change_assignments(app, as_learner, synced, learner):
    ta = _ta(app, synced)
    lesson = _lesson(synced)
    before = lesson.model_dump()
    for browser in (ta, as_learner):
        assert browser.get(_page(lesson)).status_code == 403
        form = {"title": "Mine", "late_policy": "none", "penalty_unit": "day", "reveal_answers": "after_due"}
        assert browser.post_form(_page(lesson), form, page="/courses").status_code == 403
        assert browser.post_form(f"{_page(lesson)}/move", {"step": "down"}, page="/courses").status_code == 403
        assert browser.post_form(f"{_page(lesson)}/remove", CONFIRM, page="/courses").status_code == 403
        extension = {"learner": str(learner.id), "due_at": "2026-12-20T12:00"}
        assert browser.post_form(f"{_page(lesson)}/extensions", extension, page="/courses").status_code == 403
    assert _lesson(synced).model_dump() == before
    assert synced.exec(select(Extension)).all() == []


def test_an_assignment_of_another_course_is_not_found_under_this_one(as_instructor, synced):
    other = as_instructor.post_form("/courses", {"title": "Other"}, page="/courses")
    course_id = int(other.headers["location"].split("/")[2])
    assert as_instructor.get(f"/courses/{course_id}/assignments/{_lesson(synced).id}").status_code == 404


# --- the learner's side: the start page, the exercise and quiz pages ---------------------------------------


def _date(session, assignment_id: int, **fields) -> None:
    teacher = make_user(session, role="instructor")
    courses.update_assignment(session=session, assignment_id=assignment_id, by=teacher, **fields)


def test_a_learner_in_no_course_is_told_what_to_do(as_learner, synced, learner):
    synced.delete(synced.get(CourseMember, (DEFAULT_COURSE_ID, learner.id)))
    synced.commit()
    html = as_learner.get("/").text
    assert "You are in no course yet" in html and "Ask your instructor to add your e-mail" in html


def test_a_course_with_no_assignments_says_so(as_learner, synced, learner):
    for row in synced.exec(select(Assignment)).all():
        synced.delete(row)
    synced.commit()
    assert "Nothing is assigned in this course yet" in as_learner.get("/").text


def test_the_start_page_shows_due_dates_extensions_status_and_the_late_share(as_learner, synced, learner):
    lesson = _lesson(synced)
    due = (utcnow() - timedelta(hours=2)).replace(microsecond=0)
    _date(synced, lesson.id, due_at=due, late_policy="penalty", penalty_percent=25, penalty_unit="day")
    late = make_submission(
        synced, user=learner, status="graded", score=16, report=make_report(cases={"a": True}).to_dict()
    )
    late.assignment_id, late.late_factor = lesson.id, 0.75
    synced.add(late)
    synced.commit()
    html = as_learner.get("/").text
    assert f'<time datetime="{due.isoformat()}">' in html
    assert "submitted late" in html and "12/16" in html and "(late: 75% counts)" in html
    teacher = make_user(synced, role="instructor")
    courses.grant_extension(
        session=synced, assignment_id=lesson.id, user_id=learner.id, due_at=due + timedelta(days=3), by=teacher
    )
    html = as_learner.get("/").text
    assert "extended to <time" in html and "16/16" in html and "late:" not in html


def test_the_exercise_page_states_the_due_date_and_policy_and_carries_the_assignment(as_learner, synced):
    lesson = _lesson(synced)
    due = utcnow() + timedelta(days=2)
    _date(synced, lesson.id, due_at=due, late_policy="penalty", penalty_percent=10, penalty_floor_percent=50)
    html = as_learner.get(f"/exercises/message-echo?assignment={lesson.id}").text
    assert "Due <time" in html and "each started day late takes 10% off what it counts, down to 50%" in html
    assert f'name="assignment" value="{lesson.id}"' in html
    assert f"-F file=@solution.py -F assignment_id={lesson.id} http://" in html
    response = as_learner.post_form(
        "/exercises/message-echo/submissions",
        {"code": SOLUTION.decode(), "assignment": str(lesson.id)},
        page=f"/exercises/message-echo?assignment={lesson.id}",
    )
    assert response.status_code == 303
    synced.expire_all()
    made = synced.exec(select(Submission)).one()
    assert (made.assignment_id, made.late_factor) == (lesson.id, 1.0)
    # Its result page sends the edited code again for the same assignment.
    assert f'name="assignment" value="{lesson.id}"' in as_learner.get(f"/submissions/{made.id}").text


def test_past_due_without_late_work_the_pages_refuse_clearly_and_store_nothing(as_learner, synced, learner):
    lesson = _lesson(synced)
    _date(synced, lesson.id, due_at=utcnow() - timedelta(minutes=5), late_policy="none")
    page = f"/exercises/message-echo?assignment={lesson.id}"
    html = as_learner.get(page).text
    assert "takes no late work, so nothing more can be sent" in html and 'id="submit-form"' not in html
    response = as_learner.post_form(
        "/exercises/message-echo/submissions", {"code": SOLUTION.decode(), "assignment": str(lesson.id)}, page=page
    )
    assert response.status_code == 409 and "takes no late work; nothing was stored" in response.text
    quiz_page = f"/quizzes/message-cycle?assignment={lesson.id}"
    html = as_learner.get(quiz_page).text
    assert "Submit answers" not in html and "nothing more can be sent" in html
    response = as_learner.post_form(
        "/quizzes/message-cycle/attempts", {"answer-1": "1", "assignment": str(lesson.id)}, page=quiz_page
    )
    assert response.status_code in (409, 422)
    synced.expire_all()
    assert synced.exec(select(Submission)).all() == []
    assert synced.exec(select(QuizAttempt)).all() == []


def test_an_assignment_of_a_course_the_learner_is_not_in_is_not_found(as_learner, synced):
    teacher = make_user(synced, role="instructor")
    course = courses.create(session=synced, title="Private", created_by=teacher)
    placed = courses.place_assignment(session=synced, course_id=course.id, by=teacher, exercise_id=exercise(synced).id)
    assert as_learner.get(f"/exercises/message-echo?assignment={placed.id}").status_code == 404
    assert as_learner.get("/exercises/message-echo?assignment=abc").status_code == 422
    response = as_learner.post_form(
        "/exercises/message-echo/submissions",
        {"code": SOLUTION.decode(), "assignment": str(placed.id)},
        page="/exercises/message-echo",
    )
    assert response.status_code == 404
    synced.expire_all()
    assert synced.exec(select(Submission)).all() == []
