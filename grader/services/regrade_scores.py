"""Each regraded submission's score before and after, and what a regrade changed.

When a regrade starts, every submission of its batch gets a ``RegradeItem`` with
the score it had; the worker writes the new one beside it when it stores the
result (in the same transaction), so a batch's summary (scores up, down,
unchanged, not graded) survives later gradings and regrades. A submission taken
into a later regrade before this one graded it is marked ``superseded`` here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, select

from grader.models import RegradeBatch, RegradeItem, Submission, User
from grader.services.errors import NotFound


def record_before(session: Session, *, batch_id: int, submission_ids: list[int]) -> None:
    """Keep the submissions' current scores as the batch's "before" (an earlier batch's waiting ones are superseded)."""
    # An earlier regrade still waiting for one of these will never store its result: the new batch takes them.
    session.exec(
        update(RegradeItem)
        .where(col(RegradeItem.submission_id).in_(submission_ids), col(RegradeItem.outcome) == "pending")
        .values(outcome="superseded")
    )
    before = session.exec(
        select(Submission.id, Submission.score, Submission.max_score).where(col(Submission.id).in_(submission_ids))
    )
    session.add_all(
        RegradeItem(batch_id=batch_id, submission_id=submission_id, old_score=score, old_max_score=max_score)
        for submission_id, score, max_score in before
    )


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
