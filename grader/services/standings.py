"""The write side of the instructor's views: what a stored submission or result comes to, per learner.

When a submission is made or graded, the same transaction records what the views
need (``record_submission``, ``record_result``): per-case outcomes, the report's
diagnoses, what the grading came to, and the learner's standing on the exercise
(best, latest, count, last activity). Every such write takes the next number in
the course's sequence of changes (``next_change``), which its live views follow. The read
models over these rows are in the ``gradebook`` package.

A standing belongs to one course: it counts the learner's submissions made for
that course's assignments only, so a learner who repeats a course keeps last
term's work out of this term's views. A submission made for no assignment counts
in no course's standing.

A standing counts every submission with a score: a submission being regraded
keeps its old score until the new one replaces it.
"""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import delete, func, literal, true, update
from sqlalchemy import select as sa_select
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from grader.db import lock_for_update
from grader.models import (
    Assignment,
    CaseOutcome,
    ChangeSequence,
    DiagnosisRow,
    ExerciseStanding,
    QuizAttempt,
    Submission,
    SubmissionResult,
    User,
    utcnow,
)


def record_result(session: Session, *, submission_id: int, report: dict[str, Any] | None) -> None:
    """Record what the views need from a result just stored, in the caller's transaction.

    ``report`` is the stored report (None when only the status changed, e.g. a
    grading sent back to the queue). Per-case outcomes and diagnoses replace any
    from an earlier grading of the same submission; the learner's standing is
    recomputed. The caller commits.
    """
    submission = session.exec(select(Submission).where(col(Submission.id) == submission_id)).one()
    if report is not None:
        _replace_outcomes(session, submission_id, report)
    _refresh_for(session, submission)


def record_submission(session: Session, *, submission: Submission) -> None:
    """Count a new submission in its learner's standing in its assignment's course (the caller commits)."""
    session.flush()
    _refresh_for(session, submission)


def _refresh_for(session: Session, submission: Submission) -> None:
    """Refresh the standing the submission counts in: its assignment's course's (none without an assignment)."""
    if submission.assignment_id is None:
        return
    assignment = session.get(Assignment, submission.assignment_id)
    if assignment is None:
        return
    refresh_standing(
        session, user_id=submission.user_id, course_id=assignment.course_id, exercise_id=submission.exercise_id
    )


def _replace_outcomes(session: Session, submission_id: int, report: dict[str, Any]) -> None:
    for model in (CaseOutcome, DiagnosisRow, SubmissionResult):
        session.exec(delete(model).where(col(model.submission_id) == submission_id))
    cases = [case for case in report.get("tests") or [] if isinstance(case, dict)]
    passed = [case.get("status") == "passed" for case in cases]
    error = report.get("error") or {}
    session.add(
        SubmissionResult(
            submission_id=submission_id,
            error_kind=str(error.get("kind"))[:32] if error else None,
            cases_passed=sum(passed),
            cases_total=len(cases),
        )
    )
    session.add_all(
        CaseOutcome(submission_id=submission_id, name=str(case.get("name", ""))[:200], passed=ok)
        for case, ok in zip(cases, passed, strict=True)
    )
    for position, diagnosis in enumerate(report.get("diagnoses") or []):
        if not isinstance(diagnosis, dict) or not diagnosis.get("title"):
            continue
        line = diagnosis.get("line")
        session.add(
            DiagnosisRow(
                submission_id=submission_id,
                position=position,
                title=str(diagnosis["title"]),
                explanation=str(diagnosis.get("explanation") or ""),
                fix=str(diagnosis.get("fix") or ""),
                cases=[str(name) for name in diagnosis.get("cases") or []],
                line=line if isinstance(line, int) and not isinstance(line, bool) else None,
                cause=str(diagnosis.get("cause") or "other")[:64],
            )
        )


def refresh_standing(session: Session, *, user_id: int, course_id: int, exercise_id: int) -> None:
    """Recompute one learner's standing on one exercise in one course from their submissions for its assignments."""
    # Two results for one learner stored at once take turns here, so neither
    # computes from rows the other is about to change.
    lock_for_update(session, User, user_id)
    rows = session.execute(
        sa_select(
            col(Submission.id),
            (col(Submission.score) * col(Submission.late_factor)).label("score"),
            col(Submission.created_at),
        )
        .join(Assignment, col(Assignment.id) == col(Submission.assignment_id))
        .where(
            col(Submission.user_id) == user_id,
            col(Submission.exercise_id) == exercise_id,
            col(Assignment.course_id) == course_id,
        )
    ).all()
    standing = session.get(ExerciseStanding, (user_id, course_id, exercise_id))
    if not rows:  # the last submission went with its learner, exercise or assignment
        if standing is not None:
            session.delete(standing)
        return
    scored = sorted((row for row in rows if row.score is not None), key=lambda row: (row.created_at, row.id))
    best: Any = None
    for row in scored:
        if best is None or row.score > best.score:
            best = row
    latest = scored[-1] if scored else None
    values = {
        "submissions": len(rows),
        "last_activity": max(row.created_at for row in rows),
        "best_score": best.score if best else None,
        "best_submission_id": best.id if best else None,
        "latest_score": latest.score if latest else None,
        "latest_submission_id": latest.id if latest else None,
        "latest_error_kind": _error_kind(session, latest.id) if latest else None,
        "updated_at": utcnow(),
        # Last: the number holds the course's other writers back until this transaction ends.
        "change": next_change(session, course_id=course_id),
    }
    if standing is None:
        session.add(ExerciseStanding(user_id=user_id, course_id=course_id, exercise_id=exercise_id, **values))
    else:
        for key, value in values.items():
            setattr(standing, key, value)
        session.add(standing)
    session.flush()


def next_change(session: Session, *, course_id: int) -> int:
    """The next number in the course's sequence of changes, for a row of it this transaction changes.

    Take it as late as possible: the course's row of the sequence stays locked until the
    commit (see ``ChangeSequence``).
    """
    taken = _take_change(session, course_id)
    if taken is None:  # the course's first change since each course has its own sequence
        start_sequence(session, course_id=course_id)
        taken = _take_change(session, course_id)
    return int(cast(int, taken))


def _take_change(session: Session, course_id: int) -> int | None:
    return session.execute(
        update(ChangeSequence)
        .where(col(ChangeSequence.id) == course_id)
        .values(value=col(ChangeSequence.value) + 1)
        .returning(col(ChangeSequence.value))
    ).scalar_one_or_none()


def start_sequence(session: Session, *, course_id: int) -> None:
    """Give the course its row of the sequence, unless it has one, at the highest number any row has reached.

    No cursor a page of the course was given (by the sequence all courses once shared, or
    by ``current_cursor`` before the row existed) is then ahead of it. Two transactions
    starting it at once make one row: the second waits for the first and adds none.
    """
    highest = sa_select(literal(course_id), func.coalesce(func.max(col(ChangeSequence.value)), 0)).where(true())
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    session.execute(
        insert(ChangeSequence)
        .from_select(["id", "value"], highest)
        .on_conflict_do_nothing(index_elements=[col(ChangeSequence.id)])
    )


def record_attempt(session: Session, *, attempt: QuizAttempt) -> None:
    """Number a new quiz attempt in its course's sequence of changes, as its transaction's last step.

    An attempt made for no assignment shows in no course's views and takes no number (the caller commits).
    """
    if attempt.assignment_id is not None:
        course_id = session.exec(
            select(col(Assignment.course_id)).where(col(Assignment.id) == attempt.assignment_id)
        ).one()
        attempt.change = next_change(session, course_id=course_id)
    session.add(attempt)
    session.flush()


def _error_kind(session: Session, submission_id: int) -> str | None:
    result = session.get(SubmissionResult, submission_id)
    return result.error_kind if result else None
