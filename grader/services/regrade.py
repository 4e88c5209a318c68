"""Grading submissions again, e.g. after an exercise's definition changed.

A regrade puts submissions back in the queue as one batch, at a priority below
learners' uploads: a learner's new submission is graded before the regrade's
remaining ones. Each keeps its seed, so random cases are replayed exactly, and
keeps its old result on show until the new one replaces it. Progress is read
from the batch's submissions: those still queued or running are pending. A
regrade never touches the learner's rate limit (that counts uploads, not
gradings).

Each submission of a batch has a ``RegradeItem`` holding its score before the
regrade; the worker writes the new one beside it when it stores the result, so
the batch's summary (scores up, down, unchanged, not graded) survives later
gradings and regrades.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, func, select

from grader.models import Exercise, RegradeBatch, RegradeItem, Submission, User, utcnow
from grader.services import audit
from grader.services.errors import InvalidInput, NotFound, PermissionDenied
from grader.services.submissions import Enqueue, get_exercise, send_to_queue


def _default_enqueue(submission_id: int) -> None:
    from grader.jobs import enqueue_regrade

    enqueue_regrade(submission_id)


@dataclass(frozen=True)
class RegradeProgress:
    """How far a batch has come: ``done`` of ``total`` graded again, of the exercise ``exercise_title``."""

    batch_id: int
    total: int
    done: int
    exercise_title: str | None = None

    @property
    def pending(self) -> int:
        """Submissions still waiting or being graded."""
        return self.total - self.done

    @property
    def finished(self) -> bool:
        """Whether every submission of the batch has its new result."""
        return self.done >= self.total


def _require_instructor(user: User) -> None:
    if user.role != "instructor":
        raise PermissionDenied("Only instructors can regrade.")


def _start(
    session: Session,
    *,
    ids: list[int],
    exercise_id: int | None,
    requested_by: User,
    enqueue: Enqueue | None,
    target: str,
) -> RegradeBatch:
    now = utcnow()
    batch = RegradeBatch(exercise_id=exercise_id, requested_by=requested_by.id, total=len(ids), created_at=now)
    session.add(batch)
    session.flush()
    if ids:
        # An earlier regrade still waiting for one of these will never store its result (see below).
        session.exec(
            update(RegradeItem)
            .where(col(RegradeItem.submission_id).in_(ids), col(RegradeItem.outcome) == "pending")
            .values(outcome="superseded")
        )
        before = session.exec(
            select(Submission.id, Submission.score, Submission.max_score).where(col(Submission.id).in_(ids))
        )
        session.add_all(
            RegradeItem(batch_id=batch.id, submission_id=submission_id, old_score=score, old_max_score=max_score)
            for submission_id, score, max_score in before
        )
        # Clearing the lease also voids any grading in progress: its result will not be stored.
        session.exec(
            update(Submission)
            .where(col(Submission.id).in_(ids))
            .values(
                status="queued",
                lease_token=None,
                lease_expires_at=None,
                infra_retries=0,
                enqueued_at=now,
                regrade_batch_id=batch.id,
            )
        )
    audit.record(
        session=session,
        actor=requested_by,
        action="regrade",
        target=target,
        details={"batch": batch.id, "submissions": len(ids)},
    )
    session.commit()
    session.refresh(batch)
    for submission_id in ids:
        send_to_queue(submission_id, enqueue or _default_enqueue)
    return batch


def regrade_submission(
    *, session: Session, submission_id: int, requested_by: User, enqueue: Enqueue | None = None
) -> RegradeBatch:
    """Queue one submission for grading again; a batch of one."""
    _require_instructor(requested_by)
    submission = session.get(Submission, submission_id)
    if submission is None:
        raise NotFound("No such submission.")
    return _start(
        session,
        ids=[submission_id],
        exercise_id=submission.exercise_id,
        requested_by=requested_by,
        enqueue=enqueue,
        target=f"submission {submission_id}",
    )


@dataclass(frozen=True)
class ExerciseRegradePlan:
    """What regrading an exercise would do: how many submissions go back in the queue."""

    exercise_slug: str
    exercise_title: str
    submissions: int
    learners: int


def plan_exercise(*, session: Session, exercise_slug: str, requested_by: User) -> ExerciseRegradePlan:
    """What a regrade of every submission of an exercise would touch, before anything is queued."""
    _require_instructor(requested_by)
    exercise = get_exercise(session=session, slug=exercise_slug)
    submissions, learners = session.exec(
        select(func.count(), func.count(func.distinct(Submission.user_id))).where(Submission.exercise_id == exercise.id)
    ).one()
    return ExerciseRegradePlan(
        exercise_slug=exercise.slug, exercise_title=exercise.title, submissions=submissions, learners=learners
    )


def regrade_exercise(
    *, session: Session, exercise_slug: str, requested_by: User, enqueue: Enqueue | None = None
) -> RegradeBatch:
    """Queue every submission of an exercise for grading again."""
    _require_instructor(requested_by)
    exercise = get_exercise(session=session, slug=exercise_slug)
    ids = list(
        session.exec(select(Submission.id).where(Submission.exercise_id == exercise.id).order_by(col(Submission.id)))
    )
    if not ids:
        raise InvalidInput("This exercise has no submissions to regrade.", field="exercise")
    return _start(
        session,
        ids=ids,
        exercise_id=exercise.id,
        requested_by=requested_by,
        enqueue=enqueue,
        target=f"exercise {exercise.slug}",
    )


def progress(*, session: Session, batch_id: int) -> RegradeProgress:
    """The batch's progress; submissions moved to a later batch count as done here."""
    batch = session.get(RegradeBatch, batch_id)
    if batch is None:
        raise NotFound("No such regrade.")
    pending = session.exec(
        select(func.count())
        .select_from(Submission)
        .where(Submission.regrade_batch_id == batch.id, col(Submission.status).in_(("queued", "running")))
    ).one()
    exercise = session.get(Exercise, batch.exercise_id) if batch.exercise_id is not None else None
    return RegradeProgress(
        batch_id=batch.id,
        total=batch.total,
        done=batch.total - pending,
        exercise_title=exercise.title if exercise is not None else None,
    )


def latest_batch(*, session: Session, exercise_slug: str) -> RegradeBatch | None:
    """The most recent regrade of an exercise, if any."""
    exercise = get_exercise(session=session, slug=exercise_slug)
    return session.exec(
        select(RegradeBatch)
        .where(RegradeBatch.exercise_id == exercise.id)
        .order_by(col(RegradeBatch.created_at).desc(), col(RegradeBatch.id).desc())
    ).first()


def record_result(session: Session, *, submission_id: int, report: dict[str, Any] | None) -> None:
    """Write a stored result beside the score it replaced, when the submission was being regraded."""
    batch_id = select(Submission.regrade_batch_id).where(Submission.id == submission_id).scalar_subquery()
    error = (report or {}).get("error") or {}
    not_graded = report is None or error.get("kind") == "infra"
    session.exec(
        update(RegradeItem)
        .where(
            col(RegradeItem.submission_id) == submission_id,
            col(RegradeItem.batch_id) == batch_id,
            col(RegradeItem.outcome) == "pending",
        )
        .values(
            outcome="not_graded" if not_graded else "graded",
            new_score=None if not_graded or report is None else report.get("score"),
            new_max_score=None if report is None else report.get("max_score"),
        )
    )


@dataclass(frozen=True)
class RegradedScore:
    """One submission's score before and after a regrade (None: no score before / not graded)."""

    submission_id: int
    learner: str
    old_score: float | None
    old_max_score: float
    new_score: float | None
    new_max_score: float | None

    @property
    def went_up(self) -> bool:
        """Higher than before; a first score counts as higher."""
        return self.new_score is not None and (self.old_score is None or self.new_score > self.old_score)


@dataclass(frozen=True)
class RegradeSummary:
    """What a regrade changed, over the submissions that have their new result.

    unchanged: how many scores stayed the same.
    changes: every changed score (``went_up`` or down), by learner name.
    not_graded: the grader itself failed on these; their stored score says nothing of the learner.
    superseded: how many a later regrade took over before this one graded them.
    """

    unchanged: int
    changes: list[RegradedScore]
    not_graded: list[RegradedScore]
    superseded: int

    @property
    def up(self) -> int:
        """Scores higher than before."""
        return sum(1 for change in self.changes if change.went_up)

    @property
    def down(self) -> int:
        """Scores lower than before."""
        return len(self.changes) - self.up


def summary(*, session: Session, batch_id: int) -> RegradeSummary:
    """How the batch's new scores compare with those before it, with each changed submission."""
    if session.get(RegradeBatch, batch_id) is None:
        raise NotFound("No such regrade.")
    rows = session.exec(
        select(RegradeItem, User.display_name)
        .join(Submission, col(Submission.id) == RegradeItem.submission_id)
        .join(User, col(User.id) == Submission.user_id)
        .where(RegradeItem.batch_id == batch_id, RegradeItem.outcome != "pending")
        .order_by(col(User.display_name), col(RegradeItem.submission_id))
    ).all()
    changes: list[RegradedScore] = []
    not_graded: list[RegradedScore] = []
    unchanged = superseded = 0
    for item, learner in rows:
        scored = RegradedScore(
            submission_id=item.submission_id,
            learner=learner,
            old_score=item.old_score,
            old_max_score=item.old_max_score,
            new_score=item.new_score,
            new_max_score=item.new_max_score,
        )
        if item.outcome == "superseded":
            superseded += 1
        elif item.outcome == "not_graded":
            not_graded.append(scored)
        elif item.old_score is not None and item.new_score == item.old_score:
            unchanged += 1
        else:
            changes.append(scored)
    return RegradeSummary(unchanged=unchanged, changes=changes, not_graded=not_graded, superseded=superseded)
