"""Assignment and Grade Services: a graded upload's counted score arrives at the LMS (lti1p3platform's AGS)."""

from __future__ import annotations

import re

import httpx
import pytest
from sqlmodel import Session, select

from grader.jobs import GradingWorker
from grader.models import (
    Assignment,
    Choice,
    LtiContext,
    LtiIdentity,
    LtiLineItem,
    LtiPlatform,
    LtiScoreSend,
    Question,
    Quiz,
    Submission,
    User,
)
from grader.services.lti import grades
from tests.factories import make_submission

from .conftest import Tool, post_launch, start_launch
from .platform import LEARNER, LaunchPlan, Lms
from .test_launch import default_assignment

SOLUTION = (
    "from fastapi import FastAPI\n\napp = FastAPI()\n\n\n"
    "@app.post('/message')\nasync def receive_message(msg: dict):\n    return {'received': msg}\n"
)
HALF_RIGHT = (
    "from fastapi import FastAPI\n\napp = FastAPI()\n\n\n"
    "@app.post('/message')\nasync def receive_message(msg: dict):\n    return {'received': msg, 'extra': 1}\n"
)


def _learner_session(tool: Tool, lms: Lms, session: Session) -> tuple[str, int]:
    """A learner's launch into the exercise; their session cookie and account id."""
    plan = LaunchPlan(
        user_id="learner-42",
        roles=[LEARNER],
        name="Lin Learner",
        custom={"assignment_id": str(default_assignment(session).id)},
    )
    with httpx.Client(timeout=30) as client:
        launched = post_launch(client, start_launch(client, lms.plan("grade", plan)))
    assert launched.status_code == 303
    cookie = next(h for h in launched.headers.get_list("set-cookie") if h.startswith("grader_lti_session="))
    session.expire_all()
    identity = session.get(LtiIdentity, (lms.base_url, "learner-42"))
    return cookie.split(";", 1)[0], identity.user_id


def _course_copy(session: Session) -> Assignment:
    """The LMS course's own assignment of the exercise (made by the learner's launch)."""
    context = session.exec(select(LtiContext)).one()
    return session.exec(select(Assignment).where(Assignment.course_id == context.course_id)).one()


def _graded(
    session: Session, user_id: int, assignment: Assignment, score: float, late_factor: float = 1.0
) -> Submission:
    """A graded submission of the learner to ``assignment``."""
    submission = make_submission(session, user=session.get(User, user_id), status="graded", score=score)
    submission.assignment_id, submission.late_factor = assignment.id, late_factor
    session.add(submission)
    session.commit()
    return submission


def _upload(tool: Tool, cookie: str, source: str) -> int:
    headers = {"Cookie": cookie}
    page = httpx.get(f"{tool.url}/exercises/message-echo", headers=headers)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    sent = httpx.post(
        f"{tool.url}/exercises/message-echo/submissions",
        data={"csrf_token": token, "code": source},
        headers=headers,
    )
    assert sent.status_code in (200, 303), sent.text
    return tool.enqueued[-1]


@pytest.mark.sandbox
def test_a_graded_upload_sends_the_counted_score_to_the_lms(tool: Tool, lms: Lms, session: Session):
    cookie, user_id = _learner_session(tool, lms, session)
    submission_id = _upload(tool, cookie, SOLUTION)
    due: list[tuple[int, int]] = []
    worker = GradingWorker.from_settings(tool.settings, engine=tool.engine)
    worker.request_score_send = lambda assignment_id, user: due.append((assignment_id, user))

    assert worker.run(submission_id).outcome == "graded"
    session.expire_all()
    submission = session.get(Submission, submission_id)
    assert submission.score == submission.max_score > 0
    assert due == [(submission.assignment_id, user_id)]

    # The job's body, as the queue runs it.
    row = grades.send(session=session, assignment_id=due[0][0], user_id=user_id, secret=tool.settings.secret_key)
    assert row.status == "sent", row.last_error

    # The assignment holds the exercise and the lesson's quiz: the column counts both, the quiz not yet taken.
    assignment = session.get(Assignment, submission.assignment_id)
    assert assignment.quiz_id is not None
    total = grades.maximum(session=session, assignment=assignment)
    assert total > submission.max_score
    (lineitem,) = lms.state.lineitems.values()
    assert lineitem["resourceId"] == str(submission.assignment_id)
    assert lineitem["scoreMaximum"] == total
    (score,) = lms.state.scores
    assert score["userId"] == "learner-42"
    assert score["scoreGiven"] == submission.max_score and score["scoreMaximum"] == total
    assert (score["activityProgress"], score["gradingProgress"]) == ("Completed", "FullyGraded")
    assert score["timestamp"] and score["lineitem"] == lineitem["id"]


def test_the_best_counted_score_is_sent_and_the_line_item_found_before_one_is_created(
    tool: Tool, lms: Lms, session: Session
):
    _cookie, user_id = _learner_session(tool, lms, session)
    # The learner's work on the course's copy of the assignment: a full score made late (counts 60 %)
    # and a lower one on time (counts 3 of 4). The counted best is 3.
    copy = _course_copy(session)
    late = _graded(session, user_id, copy, 4.0, late_factor=0.6)
    on_time = _graded(session, user_id, copy, 3.0)

    assert grades.record(session=session, submission_id=on_time.id) == (copy.id, user_id)
    session.commit()
    first = grades.send(session=session, assignment_id=copy.id, user_id=user_id, secret=tool.settings.secret_key)
    assert first.status == "sent", first.last_error
    assert lms.state.scores[-1]["scoreGiven"] == 3.0
    # The same score again: nothing to send.
    assert grades.record(session=session, submission_id=on_time.id) is None

    # The column is found by its resourceId when the grader forgot it (a lost answer, a restored backup).
    session.delete(session.exec(select(LtiLineItem)).one())
    late.late_factor = 1.0
    session.add(late)
    session.commit()
    assert grades.record(session=session, submission_id=late.id) == (copy.id, user_id)
    session.commit()
    second = grades.send(session=session, assignment_id=copy.id, user_id=user_id, secret=tool.settings.secret_key)
    assert second.status == "sent", second.last_error
    assert len(lms.state.lineitems) == 1
    assert [score["scoreGiven"] for score in lms.state.scores] == [3.0, 4.0]


def test_an_lms_that_does_not_answer_leaves_the_score_pending_with_growing_waits(
    tool: Tool, lms: Lms, session: Session
):
    _cookie, user_id = _learner_session(tool, lms, session)
    copy = _course_copy(session)
    submission = _graded(session, user_id, copy, 2.0)
    platform = session.exec(select(LtiPlatform)).one()
    platform.auth_token_url = "http://127.0.0.1:9/token"  # nothing listens there
    session.add(platform)
    session.commit()
    assert grades.record(session=session, submission_id=submission.id) is not None
    session.commit()

    waits = []
    for _ in range(3):
        row = grades.send(session=session, assignment_id=copy.id, user_id=user_id, secret=tool.settings.secret_key)
        waits.append((row.next_try_at - row.updated_at).total_seconds())
        assert row.status == "pending" and "port=9" in row.last_error
    assert waits == [30.0, 60.0, 120.0]
    assert lms.state.scores == []
    row = session.get(LtiScoreSend, (copy.id, user_id))
    assert row.attempts == 3


def _answer_quiz(tool: Tool, cookie: str, session: Session, quiz: Quiz) -> int:
    """Answer every question of the quiz right through its page; how many questions there are."""
    page = httpx.get(f"{tool.url}/quizzes/{quiz.slug}", headers={"Cookie": cookie})
    assert page.status_code == 200
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    answers = {}
    for question in session.exec(select(Question).where(Question.quiz_id == quiz.id, Question.active)):
        right = session.exec(select(Choice).where(Choice.question_id == question.id, Choice.is_correct)).first()
        answers[f"answer-{question.id}"] = str(right.id)
    sent = httpx.post(
        f"{tool.url}/quizzes/{quiz.slug}/attempts", data={"csrf_token": token, **answers}, headers={"Cookie": cookie}
    )
    assert sent.status_code == 303, sent.text
    return len(answers)


def test_a_quiz_attempt_on_the_assignment_sends_the_exercise_and_quiz_total(tool: Tool, lms: Lms, session: Session):
    cookie, user_id = _learner_session(tool, lms, session)
    copy = _course_copy(session)
    questions = _answer_quiz(tool, cookie, session, session.get(Quiz, copy.quiz_id))
    assert tool.score_sends == [(copy.id, user_id)]

    row = grades.send(session=session, assignment_id=copy.id, user_id=user_id, secret=tool.settings.secret_key)
    assert row.status == "sent", row.last_error
    (score,) = lms.state.scores
    assert score["scoreGiven"] == questions
    assert score["scoreMaximum"] == grades.maximum(session=session, assignment=copy) > questions


def test_the_send_job_schedules_itself_again_after_a_failure_and_sends_once(tool: Tool, lms: Lms, session: Session):
    from huey import MemoryHuey

    from grader.jobs import Queue

    _cookie, user_id = _learner_session(tool, lms, session)
    copy = _course_copy(session)
    submission = _graded(session, user_id, copy, 5.0)
    platform = session.exec(select(LtiPlatform)).one()
    token_url, platform.auth_token_url = platform.auth_token_url, "http://127.0.0.1:9/token"
    session.add(platform)
    session.commit()
    assert grades.record(session=session, submission_id=submission.id) == (copy.id, user_id)
    session.commit()
    huey = MemoryHuey("lti-test", immediate=True)
    queue = Queue(huey=huey, settings=tool.settings)

    queue.send_score(copy.id, user_id)
    (again,) = huey.scheduled()
    assert again.args == (copy.id, user_id) and again.name == "lti_send_score"
    assert lms.state.scores == []

    platform = session.exec(select(LtiPlatform)).one()
    platform.auth_token_url = token_url
    session.add(platform)
    session.commit()
    queue.send_score(copy.id, user_id)
    queue.send_score(copy.id, user_id)  # a second run of the same job sends nothing more
    assert [score["scoreGiven"] for score in lms.state.scores] == [5.0]
    session.expire_all()
    assert session.get(LtiScoreSend, (copy.id, user_id)).status == "sent"


def test_a_lost_send_is_found_by_the_sweep(tool: Tool, lms: Lms, session: Session):
    from datetime import timedelta

    from grader.models import utcnow

    _cookie, user_id = _learner_session(tool, lms, session)
    copy = _course_copy(session)
    submission = _graded(session, user_id, copy, 1.0)
    session.commit()
    grades.record(session=session, submission_id=submission.id)
    session.commit()
    assert grades.lost_sends(session=session) == []  # just queued: not lost
    later = utcnow() + grades.LOST_AFTER + timedelta(seconds=1)
    assert grades.lost_sends(session=session, now=later) == [(copy.id, user_id)]
    grades.send(session=session, assignment_id=copy.id, user_id=user_id, secret=tool.settings.secret_key)
    assert grades.lost_sends(session=session, now=later) == []


def test_an_extension_that_lifts_a_late_penalty_sends_the_new_counted_score(tool: Tool, lms: Lms, session: Session):
    from datetime import timedelta

    from grader.services import courses
    from tests.factories import make_user

    _cookie, user_id = _learner_session(tool, lms, session)
    copy = _course_copy(session)
    teacher = make_user(session, role="instructor")
    courses.add_member(session=session, course_id=copy.course_id, user_id=teacher.id, role="instructor")
    session.commit()
    late = _graded(session, user_id, copy, 4.0)
    due = late.created_at - timedelta(hours=1)
    saved = courses.update_assignment(
        session=session, assignment_id=copy.id, by=teacher, due_at=due, late_policy="penalty", penalty_percent=50
    )
    assert saved.learners == (user_id,)  # the late share changed: 4 points now count 2
    assert grades.record_recomputed(session=session, assignment_id=copy.id, user_ids=saved.learners) == [
        (copy.id, user_id)
    ]
    sent = grades.send(session=session, assignment_id=copy.id, user_id=user_id, secret=tool.settings.secret_key)
    assert sent.status == "sent", sent.last_error
    assert lms.state.scores[-1]["scoreGiven"] == 2.0

    granted = courses.grant_extension(
        session=session, assignment_id=copy.id, user_id=user_id, due_at=due + timedelta(days=1), by=teacher
    )
    assert grades.record_recomputed(session=session, assignment_id=copy.id, user_ids=granted.learners) == [
        (copy.id, user_id)
    ]
    sent = grades.send(session=session, assignment_id=copy.id, user_id=user_id, secret=tool.settings.secret_key)
    assert sent.status == "sent", sent.last_error
    assert [score["scoreGiven"] for score in lms.state.scores] == [2.0, 4.0]


def test_a_late_quiz_attempt_sends_its_share_and_an_extension_the_whole(tool: Tool, lms: Lms, session: Session):
    from datetime import timedelta

    from grader.models import utcnow
    from grader.services import courses
    from tests.factories import make_user

    cookie, user_id = _learner_session(tool, lms, session)
    copy = _course_copy(session)
    teacher = make_user(session, role="instructor")
    courses.add_member(session=session, course_id=copy.course_id, user_id=teacher.id, role="instructor")
    session.commit()
    due = utcnow() - timedelta(minutes=90)  # two started hours ago: an attempt now counts 80%
    courses.update_assignment(
        session=session,
        assignment_id=copy.id,
        by=teacher,
        due_at=due,
        late_policy="penalty",
        penalty_percent=10,
        penalty_unit="hour",
    )
    questions = _answer_quiz(tool, cookie, session, session.get(Quiz, copy.quiz_id))
    assert tool.score_sends == [(copy.id, user_id)]
    sent = grades.send(session=session, assignment_id=copy.id, user_id=user_id, secret=tool.settings.secret_key)
    assert sent.status == "sent", sent.last_error
    assert lms.state.scores[-1]["scoreGiven"] == pytest.approx(questions * 0.8)

    granted = courses.grant_extension(
        session=session, assignment_id=copy.id, user_id=user_id, due_at=due + timedelta(days=1), by=teacher
    )
    assert granted.learners == (user_id,)
    assert grades.record_recomputed(session=session, assignment_id=copy.id, user_ids=granted.learners) == [
        (copy.id, user_id)
    ]
    sent = grades.send(session=session, assignment_id=copy.id, user_id=user_id, secret=tool.settings.secret_key)
    assert sent.status == "sent", sent.last_error
    assert [score["scoreGiven"] for score in lms.state.scores] == pytest.approx([questions * 0.8, questions])
