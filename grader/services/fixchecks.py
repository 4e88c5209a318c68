"""Checked fixes of stored submissions: which are waiting, what each check showed, and reading them back.

A grading's report is stored and shown first. In the same transaction, each of
its diagnoses that proposes an edit gets a ``fix_checks`` row: ``pending`` when
a check job will grade the changed file, ``not_checked`` when the graders are
too busy. The job (``grader.jobs``, queued below every learner's grading)
writes each outcome once. Pages and the API read a report with its checks
merged into its diagnoses (``report_with_checks``); the card shows a fix as
code only when its check passed.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, update
from sqlmodel import Session, col, select

from grader.grading.report import FixCheck
from grader.models import FixCheckRow, Submission, utcnow

STALE_AFTER = timedelta(minutes=10)
"""A check still pending this long after its grading was stored is read as not checked (its job was lost)."""

BUSY = "the graders were busy"
TURNED_OFF = "this grader is set not to check fixes"
LOST = "the check did not finish"


def proposed_fixes(report: dict[str, Any] | None) -> list[int]:
    """The places, in a stored report's diagnoses, of those that propose an edit."""
    diagnoses = (report or {}).get("diagnoses") or []
    return [index for index, item in enumerate(diagnoses) if isinstance(item, dict) and item.get("fix_patch")]


def record_for_result(
    session: Session, *, submission_id: int, report: dict[str, Any] | None, skipped: str | None, limit: int
) -> list[int]:
    """Replace the submission's checks with those of its new report; the diagnoses a job should check.

    skipped: why fixes are not checked now (``BUSY``, ``TURNED_OFF``), or None when they are:
    every fix is then recorded as not checked, with that reason. Beyond ``limit`` fixes, the
    rest are not checked either.
    """
    session.exec(delete(FixCheckRow).where(col(FixCheckRow.submission_id) == submission_id))
    wanted = proposed_fixes(report)
    queued = wanted[:limit] if skipped is None else []
    now = utcnow()
    for index in wanted:
        if index in queued:
            session.add(FixCheckRow(submission_id=submission_id, diagnosis=index, status="pending", created_at=now))
        else:
            reason = skipped or "the grader checks only the first fixes of a submission"
            session.add(
                FixCheckRow(
                    submission_id=submission_id,
                    diagnosis=index,
                    status="not_checked",
                    reason=reason,
                    created_at=now,
                    checked_at=now,
                )
            )
    return queued


def pending(session: Session, *, submission_id: int) -> list[tuple[int, int]]:
    """(row id, diagnosis place) of the submission's fixes that still wait for their check."""
    rows = session.exec(
        select(FixCheckRow.id, FixCheckRow.diagnosis)
        .where(col(FixCheckRow.submission_id) == submission_id, col(FixCheckRow.status) == "pending")
        .order_by(col(FixCheckRow.diagnosis))
    )
    return [(row_id, diagnosis) for row_id, diagnosis in rows]


def store_outcome(session: Session, *, row_id: int, outcome: FixCheck) -> bool:
    """Write a check's outcome over its pending row; False when the row is gone (regraded) or already decided."""
    statement = (
        update(FixCheckRow)
        .where(col(FixCheckRow.id) == row_id, col(FixCheckRow.status) == "pending")
        .values(status=outcome.status, cases=outcome.cases, reason=outcome.reason[:300], checked_at=utcnow())
    )
    return bool(session.exec(statement).rowcount == 1)


def for_submission(session: Session, *, submission_id: int, now: datetime | None = None) -> dict[int, FixCheck]:
    """The submission's checks by diagnosis place; a check pending for too long reads as not checked."""
    now = now or utcnow()
    rows = session.exec(select(FixCheckRow).where(col(FixCheckRow.submission_id) == submission_id))
    checks = {}
    for row in rows:
        if row.status == "pending" and now - row.created_at > STALE_AFTER:
            checks[row.diagnosis] = FixCheck("not_checked", reason=LOST)
        else:
            checks[row.diagnosis] = FixCheck(row.status, cases=row.cases, reason=row.reason)
    return checks


def report_with_checks(report: dict[str, Any] | None, checks: dict[int, FixCheck]) -> dict[str, Any] | None:
    """A stored report with each diagnosis's ``fix_check`` filled in (a proposed fix with no row: not checked)."""
    if report is None:
        return None
    diagnoses = []
    for index, item in enumerate(report.get("diagnoses") or []):
        if isinstance(item, dict) and item.get("fix_patch"):
            check = checks.get(index, FixCheck("not_checked", reason="it was proposed before fixes were checked"))
            item = {**item, "fix_check": {"status": check.status, "cases": check.cases, "reason": check.reason}}
        diagnoses.append(item)
    return {**report, "diagnoses": diagnoses}


def checked_report(session: Session, submission: Submission) -> dict[str, Any] | None:
    """The submission's stored report with its fix checks merged in (None until graded)."""
    if submission.report is None:
        return None
    return report_with_checks(submission.report, for_submission(session, submission_id=submission.id))


def any_pending(checks: dict[int, FixCheck]) -> bool:
    """Whether a check is still to come (a page keeps listening for it)."""
    return any(check.status == "pending" for check in checks.values())
