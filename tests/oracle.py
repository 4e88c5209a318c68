"""What the instructor's derived tables should hold, recomputed from the raw rows (submissions and their reports).

Written independently of ``grader.services.gradebook``: tests compare the tables
kept up to date as results arrive with this plain recomputation.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.engine import Connection


def _utc_key(value) -> str:
    # SQLite hands back text or naive datetimes, PostgreSQL aware ones: compare as UTC text to the second.
    if value is None:
        return ""
    if isinstance(value, str):
        return value.replace("T", " ")[:19]
    if value.tzinfo is not None:
        from datetime import UTC

        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.isoformat(sep=" ")[:19]


def _report(value):
    if isinstance(value, str):
        import json

        return json.loads(value)
    return value or {}


def expected(connection: Connection) -> dict:
    """Standings, case outcomes, diagnoses and results as the raw rows imply them.

    A standing is per learner, course and exercise: the submissions made for that course's
    assignments, scored at their late share; a submission made for no assignment has none.
    """
    rows = connection.execute(
        text(
            "SELECT s.id, s.user_id, s.exercise_id, s.score * s.late_factor AS score, s.created_at, s.report,"
            " a.course_id FROM submissions s LEFT JOIN assignments a ON a.id = s.assignment_id ORDER BY s.id"
        )
    ).all()
    groups: dict[tuple[int, int, int], list] = {}
    for row in rows:
        if row.course_id is not None:
            groups.setdefault((row.user_id, row.course_id, row.exercise_id), []).append(row)
    standings = {}
    for key, mine in groups.items():
        scored = [row for row in mine if row.score is not None]
        ordered = sorted(scored, key=lambda row: (_utc_key(row.created_at), row.id))
        best = None
        for row in ordered:
            if best is None or row.score > best.score:
                best = row
        latest = ordered[-1] if ordered else None
        latest_error = (_report(latest.report).get("error") or {}).get("kind") if latest else None
        standings[key] = {
            "submissions": len(mine),
            "last_activity": max(_utc_key(row.created_at) for row in mine),
            "best_score": best.score if best else None,
            "best_submission_id": best.id if best else None,
            "latest_score": latest.score if latest else None,
            "latest_submission_id": latest.id if latest else None,
            "latest_error_kind": latest_error,
        }
    outcomes, diagnoses, results = {}, {}, {}
    for row in rows:
        if row.score is None or row.report is None:
            continue
        report = _report(row.report)
        cases = report.get("tests") or []
        outcomes[row.id] = sorted((case["name"], case["status"] == "passed") for case in cases)
        diagnoses[row.id] = [
            (d["title"], list(d.get("cases") or []), d.get("line"), d.get("cause") or "other")
            for d in report.get("diagnoses") or []
        ]
        error = report.get("error") or {}
        results[row.id] = (error.get("kind"), sum(case["status"] == "passed" for case in cases), len(cases))
    return {"standings": standings, "outcomes": outcomes, "diagnoses": diagnoses, "results": results}


def stored(connection: Connection) -> dict:
    """The same, as the derived tables hold it."""
    standings = {
        (row.user_id, row.course_id, row.exercise_id): {
            "submissions": row.submissions,
            "last_activity": _utc_key(row.last_activity),
            "best_score": row.best_score,
            "best_submission_id": row.best_submission_id,
            "latest_score": row.latest_score,
            "latest_submission_id": row.latest_submission_id,
            "latest_error_kind": row.latest_error_kind,
        }
        for row in connection.execute(text("SELECT * FROM exercise_standings")).all()
    }
    outcomes: dict[int, list] = {}
    for row in connection.execute(text("SELECT submission_id, name, passed FROM case_outcomes")).all():
        outcomes.setdefault(row.submission_id, []).append((row.name, bool(row.passed)))
    results = {
        row.submission_id: (row.error_kind, row.cases_passed, row.cases_total)
        for row in connection.execute(text("SELECT * FROM submission_results")).all()
    }
    for submission_id in results:
        outcomes.setdefault(submission_id, [])
    diagnoses: dict[int, list] = {submission_id: [] for submission_id in results}
    for row in connection.execute(
        text("SELECT submission_id, title, cases, line, cause FROM diagnoses ORDER BY submission_id, position")
    ).all():
        cases = _report(row.cases) if isinstance(row.cases, str) else row.cases
        diagnoses.setdefault(row.submission_id, []).append((row.title, list(cases), row.line, row.cause))
    return {
        "standings": standings,
        "outcomes": {key: sorted(value) for key, value in outcomes.items()},
        "diagnoses": diagnoses,
        "results": results,
    }
