"""The instructor's derived tables stay equal to a recomputation from the raw rows, on SQLite and PostgreSQL.

Submissions go through the real service and the real worker (with a grading
function that returns prepared reports instead of running the sandbox):
gradings, infrastructure retries, regrades, a deleted learner and content
edits. After each step the tables kept up to date as results arrive
(standings, per-case outcomes, diagnoses, results) must equal what
``tests/oracle.py`` recomputes from the submissions and their reports.
"""

from __future__ import annotations

import shutil
from datetime import timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from grader.config import Settings
from grader.content import sync_content
from grader.grading.report import Report
from grader.jobs import GradingWorker
from grader.models import DEFAULT_COURSE_ID, Exercise, ExerciseStanding, User, utcnow
from grader.services import regrade, stats, submissions
from grader.services.gradebook import columns, table
from grader.services.scope import CourseScope
from tests import oracle
from tests.factories import make_report, make_user

SCOPE = CourseScope(course_id=DEFAULT_COURSE_ID)
"""The default course: where the lesson's exercise and quiz and every factory-made account are."""

SOURCE = b"from fastapi import FastAPI\napp = FastAPI()\n"


@pytest.fixture
def db(engine: Engine, settings: Settings) -> tuple[Engine, Settings]:
    """This test's fresh database (on SQLite and PostgreSQL, see conftest).

    The oracle uploads several submissions of one learner before grading them,
    so the cap on a learner's pending uploads is lifted here.
    """
    return engine, settings.model_copy(update={"max_pending_per_learner": 0})


class Grades:
    """A grading function that hands out prepared reports, in order, per submission."""

    def __init__(self, engine: Engine) -> None:
        self.plans: dict[int, list[Report]] = {}
        self.current: int | None = None
        self.worker = GradingWorker(engine=engine, grade=self, max_infra_retries=2)

    def plan(self, submission_id: int, *reports: Report) -> None:
        self.plans.setdefault(submission_id, []).extend(reports)

    def __call__(self, spec, source: str, seed: int) -> Report:
        return self.plans[self.current].pop(0)

    def run(self, submission_id: int) -> str:
        """Let the real worker claim, grade and store ``submission_id``; its outcome."""
        self.current = submission_id
        return self.worker.run(submission_id).outcome


def report(cases: dict[str, bool], *, diagnoses: list[dict] | None = None, infra: str | None = None) -> Report:
    made = make_report(cases=cases, infra=infra)
    if diagnoses is not None:
        to_dict = made.to_dict

        def with_diagnoses():
            return {**to_dict(), "diagnoses": diagnoses}

        made.to_dict = with_diagnoses  # type: ignore[method-assign]
    return made


def typo(cases: list[str]) -> dict:
    return {
        "title": "Misspelt key `received`",
        "explanation": "…",
        "fix": "Spell it `received`.",
        "cases": cases,
        "line": 5,
    }


def assert_consistent(engine: Engine) -> None:
    with engine.connect() as connection:
        assert oracle.stored(connection) == oracle.expected(connection)


def upload(session: Session, settings: Settings, user: User, when, sent: list[int], slug: str = "message-echo") -> int:
    made = submissions.create(
        session=session,
        user=user,
        exercise_slug=slug,
        filename="solution.py",
        data=SOURCE,
        settings=settings,
        now=when,
        enqueue=sent.append,
    )
    return made.id


def test_summaries_match_the_raw_rows_through_grading_retries_regrades_deletion_and_edits(db, tmp_path):
    engine, settings = db
    grades = Grades(engine)
    sent: list[int] = []
    start = utcnow() - timedelta(hours=3)
    with Session(engine) as session:
        sync_content(session, settings.exercises_dir, settings.quizzes_dir)
        session.commit()
        ada, bob = make_user(session, name="Ada"), make_user(session, name="Bob")
        teacher = make_user(session, role="instructor", name="Teacher")
        ada_id, bob_id = ada.id, bob.id

        # Uploads count at once, before any grading.
        first = upload(session, settings, ada, start, sent)
        second = upload(session, settings, ada, start + timedelta(minutes=1), sent)
        third = upload(session, settings, bob, start + timedelta(minutes=2), sent)
        assert_consistent(engine)
        standing = session.get(ExerciseStanding, (ada_id, DEFAULT_COURSE_ID, _exercise_id(session)))
        assert standing.submissions == 2 and standing.best_score is None

        # Gradings, one after an infrastructure failure that is retried.
        grades.plan(first, report({"hello": True, "hi": False}, diagnoses=[typo(["hi"])]))
        grades.plan(second, report({}, infra="sandbox vanished"), report({"hello": True, "hi": True}, diagnoses=[]))
        grades.plan(third, report({"hello": False, "hi": False}, diagnoses=[typo(["hello", "hi"])]))
        assert grades.run(first) == "graded"
        assert grades.run(second) == "retry"
        assert_consistent(engine)
        assert grades.run(second) == "graded"
        assert grades.run(third) == "graded"
        assert_consistent(engine)
        session.expire_all()
        standing = session.get(ExerciseStanding, (ada_id, DEFAULT_COURSE_ID, _exercise_id(session)))
        assert (standing.best_score, standing.latest_score, standing.latest_submission_id) == (2.0, 2.0, second)

        # An infrastructure failure that outlasts the retries is stored; it is what the rows say.
        fourth = upload(session, settings, bob, start + timedelta(minutes=3), sent)
        grades.plan(fourth, *[report({}, infra="down")] * 3)
        outcomes = [grades.run(fourth) for _ in range(3)]
        assert outcomes == ["retry", "retry", "graded"]
        assert_consistent(engine)

        # A regrade: scores stay while queued, then the new results replace outcomes and diagnoses.
        batch = regrade.regrade_exercise(
            session=session, exercise_slug="message-echo", requested_by=teacher, enqueue=sent.append
        )
        assert_consistent(engine)
        grades.plan(first, report({"hello": False, "hi": False}, diagnoses=[typo(["hello", "hi"])]))
        grades.plan(second, report({"hello": True, "hi": True}, diagnoses=[]))
        grades.plan(third, report({"hello": True, "hi": True}, diagnoses=[]))
        grades.plan(fourth, report({"hello": True, "hi": False}, diagnoses=[typo(["hi"])]))
        for submission_id in (first, second, third):
            assert grades.run(submission_id) == "graded"
            assert_consistent(engine)
        assert grades.run(fourth) == "graded"
        assert regrade.progress(session=session, batch_id=batch.id).finished
        assert_consistent(engine)
        session.expire_all()
        bob_standing = session.get(ExerciseStanding, (bob_id, DEFAULT_COURSE_ID, _exercise_id(session)))
        assert (bob_standing.best_score, bob_standing.latest_score) == (2.0, 1.0)

        # A content edit: the exercise file changes and is synced; a regrade then reports other case names.
        edited = tmp_path / "exercises"
        shutil.copytree(settings.exercises_dir, edited)
        spec_file = edited / "message-echo" / "exercise.toml"
        spec_file.write_text(spec_file.read_text().replace('title = "', 'title = "Edited: ', 1))
        sync_content(session, edited, settings.quizzes_dir)
        session.commit()
        regrade.regrade_submission(session=session, submission_id=first, requested_by=teacher, enqueue=sent.append)
        grades.plan(first, report({"greeting": True, "reply": True, "unicode": False}, diagnoses=[]))
        assert grades.run(first) == "graded"
        assert_consistent(engine)

        # A deleted learner takes their rows with them.
        session.delete(session.get(User, bob_id))
        session.commit()
        assert_consistent(engine)
        session.expire_all()
        assert session.get(ExerciseStanding, (bob_id, DEFAULT_COURSE_ID, _exercise_id(session))) is None

        # The views read the same figures: the gradebook row and the case failures.
        (row,) = columns.rows_for(
            session=session, user_ids=[ada_id], cols=columns.columns(session=session, scope=SCOPE), settings=settings
        )
        assert (row.exercises["message-echo"].best, row.exercises["message-echo"].latest, row.submission_count) == (
            2.0,
            2.0,
            2,
        )
        figures = stats.dashboard(session=session, scope=SCOPE, exercise_slug="message-echo")
        assert {case.name: (case.failed, case.total) for case in figures.case_failures} == {
            "hello": (0, 1),
            "hi": (0, 1),
        }
        # The page reads its figures side by side, on connections of their own where the
        # database is a server: the same figures.
        assert stats.dashboard(session=session, scope=SCOPE, exercise_slug="message-echo", concurrent=True) == figures
        cols = columns.columns(session=session, scope=SCOPE)
        query = table.table_query(session=session, cols=cols)
        here = table.table(session=session, query=query, cols=cols, settings=settings)
        aside = stats.read_aside(
            session, lambda own: table.table(session=own, query=query, cols=cols, settings=settings)
        )()
        assert (aside.rows, aside.matching, aside.learners, aside.cursor) == (
            here.rows,
            here.matching,
            here.learners,
            here.cursor,
        )
        assert here.rows  # the comparison is of a table with learners in it


def _exercise_id(session: Session) -> int:
    return session.exec(select(Exercise.id).where(Exercise.slug == "message-echo")).one()
