"""Uploading solutions: checks before storing, the rate limit, the queue, ownership, best marked."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import func, select

from grader.models import Submission, utcnow
from grader.services import regrade, submissions
from grader.services.errors import InvalidInput, NotFound, Overloaded, RateLimited, StillGrading, TooLarge
from tests.factories import make_report, make_submission, make_user

SOURCE = b"from fastapi import FastAPI\napp = FastAPI()\n"


def _count(session) -> int:
    return session.exec(select(func.count()).select_from(Submission)).one()


def _upload(session, settings, user, *, data=SOURCE, filename="solution.py", now=None, sent=None):
    return submissions.create(
        session=session,
        user=user,
        exercise_slug="message-echo",
        filename=filename,
        data=data,
        settings=settings,
        now=now,
        enqueue=(sent if sent is not None else []).append,
    )


def test_an_upload_is_stored_queued_and_sent_to_the_queue(synced, settings):
    learner = make_user(synced)
    sent: list[int] = []
    submission = _upload(synced, settings, learner, filename="C:\\Users\\me\\echo.py", sent=sent)
    assert sent == [submission.id]
    assert (submission.status, submission.filename, submission.source) == ("queued", "echo.py", SOURCE.decode())
    assert submission.max_score > 0 and submission.seed >= 0


@pytest.mark.parametrize(
    "data, filename, complaint",
    [
        (SOURCE, "solution.txt", "not a Python file"),
        (SOURCE, "", "Choose a .py file"),
        (b"", "solution.py", "empty"),
        (b"   \n", "solution.py", "empty"),
        (b"print(1)\x00\x01", "solution.py", "binary"),
        (b"print('\xff\xfe')", "solution.py", "UTF-8"),
        (b"#" * (64 * 1024 + 1), "solution.py", "limit"),
    ],
)
def test_bad_uploads_are_refused_and_nothing_is_stored(synced, settings, data, filename, complaint):
    learner = make_user(synced)
    sent: list[int] = []
    with pytest.raises(InvalidInput, match=complaint) as raised:
        _upload(synced, settings, learner, data=data, filename=filename, sent=sent)
    assert raised.value.field == "file"
    assert _count(synced) == 0 and sent == []


def test_an_upload_over_the_limit_is_too_large_and_nothing_is_stored(synced, settings):
    learner = make_user(synced)
    sent: list[int] = []
    limit = settings.max_upload_bytes
    # What a route passes on: the file cut off one byte past the limit, whatever its real size.
    with pytest.raises(TooLarge) as raised:
        _upload(synced, settings, learner, data=b"#" * (limit + 1), filename="notes.txt", sent=sent)
    assert raised.value.limit == limit and raised.value.field == "file"
    assert raised.value.message == f"The file is larger than the {limit:,}-byte limit; nothing was stored."
    assert _count(synced) == 0 and sent == []
    # Exactly at the limit is accepted.
    assert _upload(synced, settings, learner, data=b"#" * (limit - len(SOURCE)) + SOURCE, sent=sent).id == sent[0]


def test_an_unknown_exercise_is_not_found(synced, settings):
    with pytest.raises(NotFound):
        submissions.create(
            session=synced,
            user=make_user(synced),
            exercise_slug="nope",
            filename="a.py",
            data=SOURCE,
            settings=settings,
            enqueue=lambda _: None,
        )


def test_one_grading_per_interval_with_the_wait_reported(synced, settings):
    settings = settings.model_copy(update={"max_pending_per_learner": 0})
    learner = make_user(synced)
    now = utcnow()
    _upload(synced, settings, learner, now=now)
    assert submissions.seconds_until_next(session=synced, user=learner, settings=settings, now=now) == 10
    with pytest.raises(RateLimited) as raised:
        _upload(synced, settings, learner, now=now + timedelta(seconds=3.5))
    assert raised.value.retry_after == 7
    assert _count(synced) == 1
    _upload(synced, settings, learner, now=now + timedelta(seconds=10))
    assert _count(synced) == 2


def test_the_rate_limit_is_per_learner(synced, settings):
    now = utcnow()
    _upload(synced, settings, make_user(synced), now=now)
    _upload(synced, settings, make_user(synced), now=now)
    assert _count(synced) == 2


def test_a_submission_lost_to_an_infrastructure_failure_does_not_count(synced, settings):
    learner = make_user(synced)
    now = utcnow()
    submission = _upload(synced, settings, learner, now=now)
    submission.counts_toward_limit = False  # what the worker records on an infra error
    synced.add(submission)
    synced.commit()
    assert submissions.seconds_until_next(session=synced, user=learner, settings=settings, now=now) == 0


def test_a_failure_to_enqueue_keeps_the_submission_for_the_sweep(synced, settings):
    def broken(_: int) -> None:
        raise ConnectionError("queue is down")

    submission = submissions.create(
        session=synced,
        user=make_user(synced),
        exercise_slug="message-echo",
        filename="a.py",
        data=SOURCE,
        settings=settings,
        enqueue=broken,
    )
    assert synced.get(Submission, submission.id).status == "queued"


def test_queue_position_counts_the_submissions_ahead(synced):
    learner = make_user(synced)
    first = make_submission(synced, user=learner)
    second = make_submission(synced, user=learner)
    done = make_submission(synced, user=learner, status="graded", score=1)
    assert submissions.queue_position(session=synced, submission=first) == 1
    assert submissions.queue_position(session=synced, submission=second) == 2
    assert submissions.queue_position(session=synced, submission=done) is None


def test_learners_see_only_their_own_submissions(synced):
    owner, other, instructor = make_user(synced), make_user(synced), make_user(synced, role="instructor")
    submission = make_submission(synced, user=owner)
    assert submissions.get_for_user(session=synced, submission_id=submission.id, user=owner).id == submission.id
    assert submissions.get_for_user(session=synced, submission_id=submission.id, user=instructor).id == submission.id
    with pytest.raises(NotFound):
        submissions.get_for_user(session=synced, submission_id=submission.id, user=other)
    assert submissions.list_for_user(session=synced, user=other) == []


def test_history_is_newest_first_with_the_best_marked(synced):
    learner = make_user(synced)
    start = utcnow() - timedelta(hours=1)
    low = make_submission(synced, user=learner, status="graded", score=3, created_at=start)
    high = make_submission(synced, user=learner, status="graded", score=9, created_at=start + timedelta(minutes=1))
    tie = make_submission(synced, user=learner, status="graded", score=9, created_at=start + timedelta(minutes=2))
    pending = make_submission(synced, user=learner, created_at=start + timedelta(minutes=3))
    other = make_submission(
        synced, user=learner, slug="health-check", status="graded", score=0, created_at=start - timedelta(minutes=1)
    )

    items = submissions.list_for_user(session=synced, user=learner)
    assert [item.submission.id for item in items] == [pending.id, tie.id, high.id, low.id, other.id]
    assert {item.submission.id for item in items if item.is_best} == {high.id, other.id}
    only_echo = submissions.list_for_user(session=synced, user=learner, exercise_slug="message-echo")
    assert other.id not in [item.submission.id for item in only_echo]


def test_attempts_are_numbered_per_learner_and_exercise(synced):
    learner, other = make_user(synced), make_user(synced)
    first = make_submission(synced, user=learner)
    make_submission(synced, user=other)
    elsewhere = make_submission(synced, user=learner, slug="health-check")
    second = make_submission(synced, user=learner)

    assert [submissions.attempt_number(session=synced, submission=row) for row in (first, elsewhere, second)] == [
        1,
        1,
        2,
    ]
    listed = {item.submission.id: item.attempt for item in submissions.list_for_user(session=synced, user=learner)}
    assert listed == {first.id: 1, elsewhere.id: 1, second.id: 2}
    only_echo = submissions.list_for_user(session=synced, user=learner, exercise_slug="message-echo")
    assert [item.attempt for item in only_echo] == [2, 1]


def test_an_exercise_is_found_by_id_even_once_retired(synced):
    from grader.models import Exercise

    row = synced.exec(select(Exercise).where(Exercise.slug == "health-check")).one()
    row.active = False
    synced.add(row)
    synced.commit()
    assert submissions.get_exercise_by_id(session=synced, exercise_id=row.id).slug == "health-check"
    with pytest.raises(NotFound):
        submissions.get_exercise(session=synced, slug="health-check")
    with pytest.raises(NotFound):
        submissions.get_exercise_by_id(session=synced, exercise_id=987654)


# --- backpressure: one upload waiting per learner, and a bounded queue ---------------------


def _set_status(session, submission: Submission, status: str) -> None:
    submission.status = status
    submission.finished_at = utcnow() if status == "graded" else None
    session.add(submission)
    session.commit()


@pytest.mark.parametrize("status", ["queued", "running"])
def test_a_learner_whose_upload_is_still_being_graded_is_told_so(synced, settings, status):
    learner = make_user(synced)
    now = utcnow()
    first = _upload(synced, settings, learner, now=now)
    _set_status(synced, first, status)
    sent: list[int] = []
    with pytest.raises(StillGrading, match="previous submission is still being graded") as raised:
        _upload(synced, settings, learner, now=now + timedelta(seconds=60), sent=sent)
    assert raised.value.pending_id == first.id
    assert 0 < raised.value.retry_after <= submissions.MAX_RETRY_SECONDS
    assert (_count(synced), sent) == (1, [])

    _set_status(synced, first, "graded")
    _upload(synced, settings, learner, now=now + timedelta(seconds=60))
    assert _count(synced) == 2


def test_the_pending_limit_is_a_setting_and_regrades_do_not_count(synced, settings):
    from grader.services import regrade

    learner, teacher = make_user(synced), make_user(synced, role="instructor")
    now = utcnow()
    first = _upload(synced, settings, learner, now=now)
    _set_status(synced, first, "graded")
    regrade.regrade_submission(session=synced, submission_id=first.id, requested_by=teacher, enqueue=lambda _: None)
    # Back in the queue by the instructor's doing: the learner may still upload.
    second = _upload(synced, settings, learner, now=now + timedelta(seconds=60))
    roomier = settings.model_copy(update={"max_pending_per_learner": 2})
    _upload(synced, roomier, learner, now=now + timedelta(seconds=120))
    with pytest.raises(StillGrading) as raised:
        _upload(synced, roomier, learner, now=now + timedelta(seconds=180))
    assert raised.value.pending_id == second.id


def test_a_full_queue_refuses_uploads_with_an_estimate_of_the_wait(synced, settings):
    settings = settings.model_copy(update={"max_queued": 2})
    assert submissions._waiting_words(1) == "1 submission is waiting"
    now = utcnow()
    # Twenty gradings finished in the last five minutes: one every fifteen seconds.
    done = make_user(synced)
    for minute in range(20):
        make_submission(synced, user=done, status="graded", score=1, created_at=now - timedelta(seconds=10 * minute))
    _upload(synced, settings, make_user(synced), now=now)
    _upload(synced, settings, make_user(synced), now=now)
    sent: list[int] = []
    with pytest.raises(Overloaded, match="2 submissions are waiting") as raised:
        _upload(synced, settings, make_user(synced), now=now, sent=sent)
    assert raised.value.retry_after == 15
    assert (_count(synced), sent) == (22, [])
    unlimited = settings.model_copy(update={"max_queued": 0})
    _upload(synced, unlimited, make_user(synced), now=now)


def test_waiting_regrades_are_not_counted_ahead_of_a_learners_upload(synced, settings):
    teacher = make_user(synced, role="instructor")
    report = make_report(cases={"hello": True}).to_dict()
    regraded = [
        make_submission(synced, user=make_user(synced), status="graded", score=1, report=report) for _ in range(3)
    ]
    regrade.regrade_exercise(session=synced, exercise_slug="message-echo", requested_by=teacher, enqueue=lambda _: None)
    earlier_upload = make_submission(synced, user=make_user(synced))
    fresh = _upload(synced, settings, make_user(synced))
    # The upload waits only for the earlier upload; the regrades (older ids) go after it.
    assert submissions.get_progress(session=synced, submission_id=fresh.id).queue_position == 2
    assert submissions.queue_position(session=synced, submission=fresh) == 2
    # A regrade waits for every upload and for the regrades queued before it.
    synced.refresh(regraded[2])
    assert submissions.get_progress(session=synced, submission_id=regraded[2].id).queue_position == 2 + 2 + 1
    assert submissions.queue_position(session=synced, submission=regraded[2]) == 5
    assert submissions.get_progress(session=synced, submission_id=earlier_upload.id).queue_position == 1
