"""What a regrade changed: each submission's score before is kept when it starts, the new one when the
worker stores it, and the summary counts scores up, down, unchanged and not graded."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from grader.grading.report import Report
from grader.grading.spec import ExerciseSpec
from grader.jobs import GradingWorker
from grader.models import RegradeItem
from grader.services import regrade, regrade_scores
from grader.services.errors import NotFound
from tests.factories import make_report, make_submission, make_user

FOUR_CASES = ("hello", "hi", "extra-fields", "unicode")


def _passing(count: int) -> Report:
    return make_report(cases={name: index < count for index, name in enumerate(FOUR_CASES)})


class BySource:
    """Grades each submission by its source: ``passes <n>`` passes n of four cases, ``infra`` fails the grader."""

    def __call__(self, spec: ExerciseSpec, source: str, seed: int) -> Report:
        if source == "infra":
            return make_report(cases={}, infra="sandbox vanished")
        return _passing(int(source.removeprefix("passes ")))


def _graded(session: Session, user, *, score: int, now_passes: int | str):
    source = now_passes if isinstance(now_passes, str) else f"passes {now_passes}"
    report = _passing(score).to_dict()
    return make_submission(session, user=user, status="graded", score=score, report=report, source=source)


def test_the_summary_counts_each_kind_of_change_with_old_and_new_scores(synced, engine):
    teacher = make_user(synced, role="instructor")
    ada, bob, cy, dee, eve = (make_user(synced, name=name) for name in ("Ada", "Bob", "Cy", "Dee", "Eve"))
    up = _graded(synced, ada, score=2, now_passes=4)
    down = _graded(synced, bob, score=4, now_passes=1)
    same = _graded(synced, cy, score=3, now_passes=3)
    first_score = make_submission(synced, user=dee, source="passes 2")  # still waiting for its first grading
    broken = _graded(synced, eve, score=4, now_passes="infra")
    ids = [up.id, down.id, same.id, first_score.id, broken.id]

    sent: list[int] = []
    batch = regrade.regrade_exercise(
        session=synced, exercise_slug="message-echo", requested_by=teacher, enqueue=sent.append
    )
    assert sorted(sent) == sorted(ids)
    before = {item.submission_id: (item.old_score, item.outcome) for item in synced.exec(select(RegradeItem))}
    assert before == {
        up.id: (2, "pending"),
        down.id: (4, "pending"),
        same.id: (3, "pending"),
        first_score.id: (None, "pending"),
        broken.id: (4, "pending"),
    }

    worker = GradingWorker(engine=engine, grade=BySource(), max_infra_retries=0)
    for submission_id in ids:
        assert worker.run(submission_id).outcome == "graded"

    summary = regrade_scores.summary(session=synced, batch_id=batch.id)
    assert (summary.up, summary.down, summary.unchanged, len(summary.not_graded), summary.superseded) == (2, 1, 1, 1, 0)
    changes = [(c.learner, c.old_score, c.new_score, c.went_up) for c in summary.changes]
    assert changes == [("Ada", 2, 4, True), ("Bob", 4, 1, False), ("Dee", None, 2, True)]
    assert all(change.new_max_score == 4 for change in summary.changes)
    (failed,) = summary.not_graded
    # The grader failed: the stored score (0) is not the learner's; the one before is still known.
    assert (failed.submission_id, failed.learner, failed.old_score, failed.new_score) == (broken.id, "Eve", 4, None)


def test_a_later_regrade_takes_over_and_leaves_the_earlier_summary_alone(synced, engine):
    teacher = make_user(synced, role="instructor")
    ada, bob = make_user(synced, name="Ada"), make_user(synced, name="Bob")
    taken_over = _graded(synced, ada, score=1, now_passes=3)
    kept = _graded(synced, bob, score=1, now_passes=2)
    worker = GradingWorker(engine=engine, grade=BySource())

    first = regrade.regrade_exercise(
        session=synced, exercise_slug="message-echo", requested_by=teacher, enqueue=lambda _: None
    )
    assert worker.run(kept.id).outcome == "graded"
    # Before the first regrade reaches Ada's submission, it is regraded on its own.
    second = regrade.regrade_submission(
        session=synced, submission_id=taken_over.id, requested_by=teacher, enqueue=lambda _: None
    )
    assert worker.run(taken_over.id).outcome == "graded"
    # And Bob's once more, after the first regrade graded it: the first regrade's record stays.
    third = regrade.regrade_submission(
        session=synced, submission_id=kept.id, requested_by=teacher, enqueue=lambda _: None
    )
    assert worker.run(kept.id).outcome == "graded"

    earlier = regrade_scores.summary(session=synced, batch_id=first.id)
    assert (earlier.up, earlier.down, earlier.unchanged, earlier.superseded) == (1, 0, 0, 1)
    assert [(c.learner, c.old_score, c.new_score) for c in earlier.changes] == [("Bob", 1, 2)]
    later = regrade_scores.summary(session=synced, batch_id=second.id)
    assert [(c.learner, c.old_score, c.new_score) for c in later.changes] == [("Ada", 1, 3)]
    again = regrade_scores.summary(session=synced, batch_id=third.id)
    assert (again.up, again.down, again.unchanged) == (0, 0, 1)


def test_a_summary_of_an_unknown_regrade_is_not_found(synced):
    with pytest.raises(NotFound):
        regrade_scores.summary(session=synced, batch_id=424242)
