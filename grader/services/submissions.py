"""Exercises as learners see them, and the solutions they hand in.

An upload is checked in full before anything is stored; the limits are
checked under a lock on the learner's row, so simultaneous uploads cannot both
pass them, whatever web process each reaches:

* ``max_pending_per_learner``: a learner's uploads still queued or running
  (regrades, an instructor's doing, do not count) → ``StillGrading`` (429);
* ``submission_interval_seconds`` → ``RateLimited`` (429);
* ``max_queued``: uploads waiting for a grader, over every learner, checked
  under a service-wide lock → ``Overloaded`` (503).

Both Retry-After estimates come from the rate gradings finished at over the
last minutes. Once stored, its id is sent to the grading queue. If sending fails the
row stays ``queued`` and the worker's periodic sweep sends it again, so the
database stays the source of truth.
"""

from __future__ import annotations

import logging
import math
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import PurePosixPath, PureWindowsPath

from sqlalchemy import and_, or_
from sqlmodel import Session, col, func, select

from grader.config import Settings, get_settings
from grader.db import lock_for_update, lock_named
from grader.grading.spec import ExerciseSpec
from grader.grading.submission import SubmissionRejected, decode_submission
from grader.models import Exercise, Submission, User, utcnow
from grader.services import authority, courses, standings, storage
from grader.services.errors import InvalidInput, NotFound, NotOpen, Overloaded, RateLimited, StillGrading, TooLarge

log = logging.getLogger(__name__)

ALLOWED_SUFFIXES = (".py",)
MAX_FILENAME_LENGTH = 255  # the submissions.filename column
PENDING = ("queued", "running")
QUEUE_LOCK = "grader.submissions.queue"
RATE_WINDOW_SECONDS = 300
"""Gradings finished within this window give the rate that Retry-After estimates are made from."""
MIN_RETRY_SECONDS, MAX_RETRY_SECONDS = 2, 300
NO_RATE_RETRY_SECONDS = 30
"""Retry-After for a full queue when no grading finished lately to estimate from."""
PASTED_FILENAME = "solution.py"

Enqueue = Callable[[int], None]
"""Sends a submission id to the grading queue."""


def _default_enqueue(submission_id: int) -> None:
    from grader.jobs import enqueue_grading

    enqueue_grading(submission_id)


# --- exercises ------------------------------------------------------------------------


def list_exercises(*, session: Session) -> list[Exercise]:
    """The exercises learners can work on, by title."""
    return list(session.exec(select(Exercise).where(Exercise.active).order_by(Exercise.title, col(Exercise.id))))


def get_exercise(*, session: Session, slug: str) -> Exercise:
    """The active exercise with this slug, or ``NotFound``."""
    exercise = session.exec(select(Exercise).where(Exercise.slug == slug, Exercise.active)).first()
    if exercise is None:
        raise NotFound(f"There is no exercise called {slug!r}.")
    return exercise


def get_exercise_by_id(*, session: Session, exercise_id: int) -> Exercise:
    """The exercise with this id, active or not (old submissions keep theirs), or ``NotFound``."""
    exercise = session.get(Exercise, exercise_id)
    if exercise is None:
        raise NotFound("No such exercise.")
    return exercise


def exercise_spec(exercise: Exercise) -> ExerciseSpec:
    """The validated definition stored with the exercise row."""
    return ExerciseSpec.model_validate(exercise.spec)


# --- submitting -----------------------------------------------------------------------


def seconds_until_next(
    *, session: Session, user: User, settings: Settings | None = None, now: datetime | None = None
) -> int:
    """Whole seconds before ``user`` may start another grading (0 when allowed now)."""
    settings = settings or get_settings()
    now = now or utcnow()
    last = session.exec(
        select(Submission.created_at)
        .where(Submission.user_id == user.id, Submission.counts_toward_limit)
        .order_by(col(Submission.created_at).desc())
        .limit(1)
    ).first()
    if last is None:
        return 0
    remaining = (last + timedelta(seconds=settings.submission_interval_seconds) - now).total_seconds()
    return max(0, math.ceil(remaining))


def clean_filename(filename: str | None) -> str:
    """The file's base name, checked for an allowed extension (``InvalidInput`` otherwise)."""
    name = (filename or "").strip()
    # Browsers on Windows may send a full path; keep only the last part either way.
    name = PureWindowsPath(PurePosixPath(name).name).name
    if not name:
        raise InvalidInput("Choose a .py file to upload, or paste your code.", field="file")
    if not name.lower().endswith(ALLOWED_SUFFIXES):
        raise InvalidInput(
            f"{name!r} is not a Python file; upload a file ending in {', '.join(ALLOWED_SUFFIXES)}.",
            field="file",
        )
    if len(name) > MAX_FILENAME_LENGTH:
        # Shorten the stem, never the suffix: the name still says what the file is.
        suffix = next(suffix for suffix in ALLOWED_SUFFIXES if name.lower().endswith(suffix))
        name = name[: MAX_FILENAME_LENGTH - len(suffix)] + name[-len(suffix) :]
    return name


def create(
    *,
    session: Session,
    user: User,
    exercise_slug: str,
    filename: str | None,
    data: bytes,
    settings: Settings | None = None,
    now: datetime | None = None,
    enqueue: Enqueue | None = None,
    assignment_id: int | None = None,
) -> Submission:
    """Store an uploaded solution and queue its grading; on any error nothing is stored.

    ``data`` may be cut off one byte past ``settings.max_upload_bytes``; anything
    longer than the limit is refused with ``TooLarge``. The submission counts for
    ``assignment_id`` (or the assignment of the exercise in the learner's courses), whose
    dates may refuse it (``NotOpen``) or count it at a late share.
    """
    settings = settings or get_settings()
    # Before anything is read or written: a disk about to fill refuses the upload whole.
    storage.refuse_when_low(settings)
    exercise = get_exercise(session=session, slug=exercise_slug)
    limit = settings.max_upload_bytes
    # Callers read at most one byte past the limit, so the real size may be larger
    # than ``len(data)``: the message says only that it is over.
    if len(data) > limit:
        raise TooLarge(
            f"The file is larger than the {limit:,}-byte limit; nothing was stored.", limit=limit, field="file"
        )
    name = clean_filename(filename)
    try:
        source = decode_submission(data, max_bytes=settings.max_upload_bytes)
    except SubmissionRejected as exc:
        raise InvalidInput(_sentence(str(exc)), field="file") from exc
    # Simultaneous uploads by one learner take turns from here to the commit,
    # so only one of them can pass the limits.
    lock_for_update(session, User, user.id)
    # Read the clock once the lock is ours: a request that waited for it is judged
    # by the time it was let in, after the submission it waited for.
    now = now or utcnow()
    try:
        assignment = courses.assignment_for(
            session=session, user=user, exercise_id=exercise.id, assignment_id=assignment_id, now=now
        )
        factor = 1.0
        if assignment is not None:
            factor = courses.check_open(session=session, assignment=assignment, user_id=user.id, now=now)
        _check_limits(session, user=user, settings=settings, now=now)
    except (RateLimited, Overloaded, NotOpen, NotFound):
        session.rollback()  # nothing was written; let go of the locks at once
        raise
    submission = Submission(
        assignment_id=assignment.id if assignment is not None else None,
        late_factor=factor,
        user_id=user.id,
        exercise_id=exercise.id,
        filename=name,
        source=source,
        status="queued",
        max_score=exercise.max_score,
        seed=secrets.randbelow(2**31),
        created_at=now,
        enqueued_at=now,
    )
    session.add(submission)
    standings.record_submission(session, submission=submission)
    session.commit()
    session.refresh(submission)
    send_to_queue(submission.id, enqueue)
    return submission


def _check_limits(session: Session, *, user: User, settings: Settings, now: datetime) -> None:
    """Raise the first limit this upload would break (see the module's docstring)."""
    if settings.max_pending_per_learner:
        pending = list(
            session.exec(
                select(Submission.id)
                .where(
                    Submission.user_id == user.id,
                    col(Submission.status).in_(PENDING),
                    col(Submission.regrade_batch_id).is_(None),
                )
                .order_by(col(Submission.id))
            )
        )
        if len(pending) >= settings.max_pending_per_learner:
            estimate = _estimate_seconds(session, _queued_before(session, pending[0]) + 1, now)
            interval = seconds_until_next(session=session, user=user, settings=settings, now=now)
            wait = max(estimate or MIN_RETRY_SECONDS, interval)
            raise StillGrading(
                "Your previous submission is still being graded. "
                f"Send this one once it has its result (in about {wait} seconds); nothing was stored.",
                retry_after=wait,
                pending_id=pending[0],
            )
    wait = seconds_until_next(session=session, user=user, settings=settings, now=now)
    if wait > 0:
        raise RateLimited(f"You can submit again in {wait} second{'s' if wait != 1 else ''}.", retry_after=wait)
    if settings.max_queued:
        lock_named(session, QUEUE_LOCK)
        waiting = session.exec(
            select(func.count())
            .select_from(Submission)
            .where(Submission.status == "queued", col(Submission.regrade_batch_id).is_(None))
        ).one()
        if waiting >= settings.max_queued:
            wait = _estimate_seconds(session, waiting - settings.max_queued + 1, now) or NO_RATE_RETRY_SECONDS
            raise Overloaded(
                f"The graders are busy: {_waiting_words(waiting)}. Nothing was stored; "
                f"please try again in about {wait} seconds.",
                retry_after=wait,
            )


def _waiting_words(count: int) -> str:
    return "1 submission is waiting" if count == 1 else f"{count} submissions are waiting"


def _queued_before(session: Session, submission_id: int) -> int:
    return session.exec(
        select(func.count())
        .select_from(Submission)
        .where(Submission.status == "queued", col(Submission.id) < submission_id)
    ).one()


def _estimate_seconds(session: Session, gradings: int, now: datetime) -> int | None:
    """Whole seconds until ``gradings`` more gradings finish, at the rate of the last minutes (None: no rate)."""
    since = now - timedelta(seconds=RATE_WINDOW_SECONDS)
    finished = session.exec(
        select(func.count()).select_from(Submission).where(col(Submission.finished_at) >= since)
    ).one()
    if not finished:
        return None
    seconds = math.ceil(gradings * RATE_WINDOW_SECONDS / finished)
    return max(MIN_RETRY_SECONDS, min(MAX_RETRY_SECONDS, seconds))


def send_to_queue(submission_id: int, enqueue: Enqueue | None = None) -> None:
    """Send a stored submission to the grading queue; a failure is logged, the sweep resends it."""
    try:
        (enqueue or _default_enqueue)(submission_id)
    except Exception:
        # The row is stored and queued; the worker's sweep will send it again.
        log.exception("could not enqueue submission %s; the sweep will retry", submission_id)


def _sentence(message: str) -> str:
    message = message.strip()
    return message[:1].upper() + message[1:] + ("" if message.endswith(".") else ".")


# --- reading ---------------------------------------------------------------------------


def get(*, session: Session, submission_id: int) -> Submission:
    """The submission with this id, or ``NotFound``."""
    submission = session.get(Submission, submission_id)
    if submission is None:
        raise NotFound("No such submission.")
    return submission


def get_for_user(*, session: Session, submission_id: int, user: User) -> Submission:
    """The submission if ``user`` wrote it or teaches a course it belongs to (``authority``); ``NotFound`` otherwise."""
    # Someone else's submission is reported as missing, so ids reveal nothing.
    return authority.visible_submission(session=session, submission_id=submission_id, user=user)


def check_visible(*, session: Session, submission_id: int, user: User) -> None:
    """``NotFound`` unless ``user`` may see the submission (``get_for_user``), read without loading it."""
    if not authority.may_see_submission(session=session, submission_id=submission_id, user=user):
        raise NotFound("No such submission.")


def _place_in_queue(session: Session, *, submission_id: int, regrading: bool) -> int:
    """1 for the next to be graded: counts only the queued gradings a worker takes before this one.

    Learners' first gradings go before every regrade (see ``grader.jobs``), so a learner's upload
    waits only for earlier uploads, while a regrade waits for every upload and the earlier regrades.
    """
    first_grading = col(Submission.regrade_batch_id).is_(None)
    earlier = col(Submission.id) < submission_id
    goes_before = or_(first_grading, earlier) if regrading else and_(first_grading, earlier)
    ahead = session.exec(
        select(func.count()).select_from(Submission).where(Submission.status == "queued", goes_before)
    ).one()
    return ahead + 1


def queue_position(*, session: Session, submission: Submission) -> int | None:
    """1 for the next to be graded; None when the submission is not waiting."""
    if submission.status != "queued":
        return None
    regrading = submission.regrade_batch_id is not None
    return _place_in_queue(session, submission_id=submission.id, regrading=regrading)


@dataclass(frozen=True)
class Progress:
    """Where a submission stands: its status and, while queued, its place (1 = next)."""

    status: str
    queue_position: int | None


def get_progress(*, session: Session, submission_id: int) -> Progress:
    """A submission's progress, read without loading its code or report (cheap enough to ask often)."""
    found = session.exec(
        select(Submission.status, Submission.regrade_batch_id).where(Submission.id == submission_id)
    ).first()
    if found is None:
        raise NotFound("No such submission.")
    status, batch_id = found
    if status != "queued":
        return Progress(status=status, queue_position=None)
    place = _place_in_queue(session, submission_id=submission_id, regrading=batch_id is not None)
    return Progress(status=status, queue_position=place)


def attempt_number(*, session: Session, submission: Submission) -> int:
    """Which of its author's submissions to the exercise this is: 1 for the first."""
    return session.exec(
        select(func.count())
        .select_from(Submission)
        .where(
            Submission.user_id == submission.user_id,
            Submission.exercise_id == submission.exercise_id,
            col(Submission.id) <= submission.id,
        )
    ).one()


@dataclass(frozen=True)
class SubmissionListItem:
    """A submission in a learner's history.

    attempt: which of the learner's submissions to that exercise it is (1 for the first).
    is_best: marks the best graded one per exercise.
    """

    submission: Submission
    exercise_slug: str
    exercise_title: str
    attempt: int
    is_best: bool


def list_for_user(*, session: Session, user: User, exercise_slug: str | None = None) -> list[SubmissionListItem]:
    """``user``'s submissions, newest first, with the best per exercise marked."""
    query = (
        select(Submission, Exercise)
        .join(Exercise, col(Exercise.id) == Submission.exercise_id)
        .where(Submission.user_id == user.id)
        .order_by(col(Submission.created_at).desc(), col(Submission.id).desc())
    )
    if exercise_slug is not None:
        query = query.where(Exercise.slug == exercise_slug)
    rows = list(session.exec(query))
    best = best_ids([submission for submission, _ in rows])
    attempts = attempt_numbers([submission for submission, _ in rows])
    return [
        SubmissionListItem(
            submission=submission,
            exercise_slug=exercise.slug,
            exercise_title=exercise.title,
            attempt=attempts[submission.id],
            is_best=submission.id in best,
        )
        for submission, exercise in rows
    ]


def attempt_numbers(submissions: list[Submission]) -> dict[int, int]:
    """Each submission's attempt number, by id, counted per author and exercise among ``submissions``."""
    seen: dict[tuple[int, int], int] = {}
    numbers: dict[int, int] = {}
    for submission in sorted(submissions, key=lambda item: item.id):
        key = (submission.user_id, submission.exercise_id)
        seen[key] = seen.get(key, 0) + 1
        numbers[submission.id] = seen[key]
    return numbers


def best_ids(submissions: list[Submission]) -> set[int]:
    """Ids of the best graded submission per exercise (the earliest of equal scores)."""
    # Per exercise, the smallest rank: the highest score, then the earliest.
    best: dict[int, tuple[float, datetime, int]] = {}
    for submission in submissions:
        if submission.status != "graded" or submission.score is None:
            continue
        rank = (-submission.score, submission.created_at, submission.id)
        current = best.get(submission.exercise_id)
        if current is None or rank < current:
            best[submission.exercise_id] = rank
    return {submission_id for _, _, submission_id in best.values()}
