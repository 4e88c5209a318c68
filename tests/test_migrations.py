"""The Alembic migrations build the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, inspect, text
from sqlmodel import Session

from alembic import command
from grader.config import PROJECT_ROOT
from grader.content import sync_content
from grader.db import alembic_config, create_db_engine, downgrade, migrate, normalize_url
from grader.models import SQLModel

POSTGRES_URL = os.environ.get("GRADER_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1/test")


def _differences(engine: Engine) -> list:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, SQLModel.metadata)


def test_migration_files_are_named_by_date_and_slug():
    script = ScriptDirectory.from_config(alembic_config())
    names = sorted(Path(revision.path).name for revision in script.walk_revisions())
    assert names, "no migrations found"
    for name in names:
        date, number, slug = name.removesuffix(".py").split("_", 2)
        assert len(date) == 8 and date.isdigit() and number.isdigit() and slug, name


def test_upgrade_builds_every_table_on_a_fresh_sqlite_database(tmp_path: Path):
    engine = create_db_engine(f"sqlite:///{tmp_path / 'fresh.sqlite3'}")
    migrate(engine)
    tables = set(inspect(engine).get_table_names())
    assert set(SQLModel.metadata.tables) <= tables
    assert _differences(engine) == []
    engine.dispose()


def test_sqlite_connections_enforce_foreign_keys_and_use_wal(engine: Engine):
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA busy_timeout")).scalar() > 0


def test_downgrade_to_base_removes_the_tables(tmp_path: Path):
    engine = create_db_engine(f"sqlite:///{tmp_path / 'down.sqlite3'}")
    migrate(engine)
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "base")
    assert set(inspect(engine).get_table_names()) & set(SQLModel.metadata.tables) == set()
    engine.dispose()


def test_a_sqlite_downgrade_that_rebuilds_a_table_keeps_the_rows_that_refer_to_it(tmp_path: Path):
    """0009's downgrade rebuilds ``questions``; enforced foreign keys once cascaded that into ``choices``."""
    engine = create_db_engine(f"sqlite:///{tmp_path / 'rows.sqlite3'}")
    migrate(engine)
    with Session(engine) as session:
        sync_content(session, PROJECT_ROOT / "exercises", PROJECT_ROOT / "quizzes")
        session.commit()

    def count(table: str) -> int:
        with engine.connect() as connection:
            return int(connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())

    choices = count("choices")
    assert choices > 0
    downgrade(engine, revision="0008")
    assert count("choices") == choices
    migrate(engine)
    assert count("choices") == choices
    with engine.connect() as connection:  # the pooled connection enforces foreign keys again
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
    engine.dispose()


@pytest.mark.postgres
def test_upgrade_on_postgresql_matches_the_models():
    admin = create_engine(normalize_url(POSTGRES_URL), isolation_level="AUTOCOMMIT")
    schema = f"migrations_{uuid.uuid4().hex[:8]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = create_db_engine(POSTGRES_URL)
    try:
        with engine.begin() as connection:
            connection.execute(text(f'SET search_path TO "{schema}"'))
            config = alembic_config()
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, SQLModel.metadata) == []
            tables = set(inspect(connection).get_table_names(schema=schema))
            assert set(SQLModel.metadata.tables) <= tables
    finally:
        engine.dispose()
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _fill_with_previous_schema(engine: Engine) -> None:
    """Rows as the version before the derived tables stored them: graded, failed, errored, queued, regrading."""
    from sqlmodel import Session

    from grader.config import PROJECT_ROOT
    from grader.content import exercise_fields
    from grader.grading.spec import load_exercises
    from grader.models import Exercise

    # Only the exercises: the quiz tables gained columns after this version, so the
    # current models could not write them here.
    with Session(engine) as session:
        for slug, spec in load_exercises(PROJECT_ROOT / "exercises").items():
            session.add(Exercise(slug=slug, **exercise_fields(spec)))
        session.commit()
    typo = {
        "title": "Misspelt key `received`",
        "explanation": "e",
        "fix": "f",
        "cases": ["hi"],
        "line": 4,
        "cause": "misspelt_key",
    }
    # A report from before diagnoses named their cause: its diagnosis is stored as ``other``.
    unnamed = {"title": "The program could not start", "explanation": "e", "fix": "f", "cases": [], "line": None}

    def report(cases: dict[str, bool], *, error: str | None = None, diagnoses: list | None = None) -> str:
        body = {
            "score": float(sum(cases.values())),
            "error": {"kind": error, "message": "m"} if error else None,
            "tests": [{"name": name, "status": "passed" if ok else "failed"} for name, ok in cases.items()],
        }
        if diagnoses is not None:
            body["diagnoses"] = diagnoses
        return json.dumps(body)

    with engine.begin() as connection:
        exercise = connection.execute(text("SELECT id FROM exercises WHERE slug = 'message-echo'")).scalar_one()
        for number in (1, 2, 3):
            connection.execute(
                text(
                    "INSERT INTO users (id, email, display_name, role, password_hash, created_at, session_generation)"
                    " VALUES (:id, :email, :name, 'learner', 'x', :at, 0)"
                ),
                {"id": number, "email": f"p{number}@example.org", "name": f"P{number}", "at": "2026-11-20 10:00:00"},
            )
        rows = [
            (1, "graded", 1.0, report({"hello": True, "hi": False}, diagnoses=[typo]), "2026-11-20 10:01:00"),
            (1, "graded", 2.0, report({"hello": True, "hi": True}, diagnoses=[]), "2026-11-20 10:02:00"),
            (1, "queued", 1.0, report({"hello": True, "hi": False}), "2026-11-20 10:03:00"),  # being regraded
            (2, "graded", 0.0, report({}, error="syntax", diagnoses=[unnamed]), "2026-11-20 11:00:00"),
            (2, "queued", None, None, "2026-11-20 11:05:00"),
            (3, "graded", 2.0, report({"hello": True, "hi": True}), "2026-11-20 12:00:00"),
            (3, "graded", 2.0, report({"hello": True, "hi": True}), "2026-11-20 12:30:00"),
        ]
        for user_id, status, score, body, created in rows:
            connection.execute(
                text(
                    "INSERT INTO submissions (user_id, exercise_id, filename, source, status, score, max_score,"
                    " report, seed, created_at, infra_retries, counts_toward_limit)"
                    " VALUES (:user, :exercise, 's.py', 'x', :status, :score, 2, :report, 1, :created, 0, :counts)"
                ),
                {
                    "user": user_id,
                    "exercise": exercise,
                    "status": status,
                    "score": score,
                    "report": body,
                    "created": created,
                    "counts": True,
                },
            )


def _check_backfill(engine: Engine) -> None:
    from tests import oracle

    with engine.connect() as connection:
        found, wanted = oracle.stored(connection), oracle.expected(connection)
    assert found == wanted
    # The figures the oracle implies, spelled out once for this data set.
    assert {key[0]: value["best_score"] for key, value in found["standings"].items()} == {1: 2.0, 2: 0.0, 3: 2.0}
    assert {key[0]: value["latest_error_kind"] for key, value in found["standings"].items()} == {
        1: None,
        2: "syntax",
        3: None,
    }
    causes = sorted(diagnosis[3] for rows in found["diagnoses"].values() for diagnosis in rows)
    assert causes == ["misspelt_key", "other"]
    assert {key[0]: value["submissions"] for key, value in found["standings"].items()} == {1: 3, 2: 2, 3: 2}


def test_upgrade_backfills_the_derived_tables_on_sqlite(tmp_path: Path):
    engine = create_db_engine(f"sqlite:///{tmp_path / 'old.sqlite3'}")
    migrate(engine, revision="0002")
    _fill_with_previous_schema(engine)
    migrate(engine)
    _check_backfill(engine)
    engine.dispose()


@pytest.mark.postgres
def test_upgrade_backfills_the_derived_tables_on_postgresql():
    admin = create_engine(normalize_url(POSTGRES_URL), isolation_level="AUTOCOMMIT")
    name = f"grader_upgrade_{uuid.uuid4().hex[:8]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine = create_db_engine(f"{normalize_url(POSTGRES_URL).rsplit('/', 1)[0]}/{name}")
    try:
        migrate(engine, revision="0002")
        _fill_with_previous_schema(engine)
        migrate(engine)
        _check_backfill(engine)
    finally:
        engine.dispose()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_fix_checks_upgrade_from_the_previous_revision_and_back(tmp_path: Path):
    """0013 adds ``fix_checks`` to a database in use: its rows go with their submission, ids are never reused."""
    from grader.models import FixCheckRow
    from tests.factories import make_submission, make_user

    engine = create_db_engine(f"sqlite:///{tmp_path / 'checks.sqlite3'}")
    migrate(engine, revision="0012")
    assert "fix_checks" not in inspect(engine).get_table_names()
    migrate(engine)
    assert _differences(engine) == []
    with Session(engine) as session:
        sync_content(session, PROJECT_ROOT / "exercises", PROJECT_ROOT / "quizzes")
        submission = make_submission(session, user=make_user(session))
        first = FixCheckRow(submission_id=submission.id, diagnosis=0)
        session.add(first)
        session.commit()
        first_id = first.id
        session.delete(first)
        session.commit()
        again = FixCheckRow(submission_id=submission.id, diagnosis=0, status="passed", cases=3)
        session.add(again)
        session.commit()
        assert again.id != first_id
        session.delete(submission)
        session.commit()
        assert session.exec(text("SELECT count(*) FROM fix_checks")).scalar_one() == 0
    downgrade(engine, revision="0012")
    assert "fix_checks" not in inspect(engine).get_table_names()
    engine.dispose()


@pytest.mark.parametrize("engine_name", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_quiz_starts_upgrade_from_the_previous_revision_and_back(
    tmp_path: Path, request: pytest.FixtureRequest, engine_name: str
):
    """0017 adds ``quiz_starts`` and the order an attempt showed; attempts stored before keep the file's order."""
    from tests.factories import make_user

    # The revision before it, whichever that is once the branches are chained.
    previous = ScriptDirectory.from_config(alembic_config()).get_revision("0017").down_revision
    assert isinstance(previous, str)

    if engine_name == "sqlite":
        url = f"sqlite:///{tmp_path / 'starts.sqlite3'}"
    else:
        url = request.getfixturevalue("postgres_database")()
    engine = create_db_engine(url)
    try:
        migrate(engine, revision=previous)
        with Session(engine) as session:
            sync_content(session, PROJECT_ROOT / "exercises", PROJECT_ROOT / "quizzes")
            session.commit()
            user_id = make_user(session).id
        with engine.begin() as connection:
            quiz_id = connection.execute(text("SELECT id FROM quizzes")).scalar_one()
            connection.execute(
                text(
                    "INSERT INTO quiz_attempts (user_id, quiz_id, score, max_score, created_at, change)"
                    " VALUES (:user, :quiz, 2, 3, CURRENT_TIMESTAMP, 0)"
                ),
                {"user": user_id, "quiz": quiz_id},
            )
        migrate(engine)
        assert _differences(engine) == []
        with engine.begin() as connection:
            row = connection.execute(text("SELECT start_id, choice_order, score FROM quiz_attempts")).one()
            assert tuple(row) == (None, None, 2)
            connection.execute(
                text(
                    "INSERT INTO quiz_starts (user_id, quiz_id, seed, started_at) VALUES (:u, :q, :s, CURRENT_TIMESTAMP)"
                ),
                {"u": user_id, "q": quiz_id, "s": 2**47},
            )
            start_id = connection.execute(text("SELECT id FROM quiz_starts")).scalar_one()
            connection.execute(
                text("UPDATE quiz_attempts SET start_id = :s, choice_order = :o"),
                {"s": start_id, "o": json.dumps({"1": [3, 1, 4, 2]})},
            )
            assert connection.execute(text("SELECT seed FROM quiz_starts")).scalar_one() == 2**47
        downgrade(engine, revision=previous)
        assert "quiz_starts" not in inspect(engine).get_table_names()
        assert {c["name"] for c in inspect(engine).get_columns("quiz_attempts")}.isdisjoint(
            {"start_id", "choice_order"}
        )
        with engine.connect() as connection:  # the attempt itself stays
            assert connection.execute(text("SELECT score FROM quiz_attempts")).scalar_one() == 2
        migrate(engine)
        assert _differences(engine) == []
    finally:
        engine.dispose()


def _fill_before_courses(engine: Engine) -> dict[str, int]:
    """Rows as revision 0013 stored them: two accounts, the lesson's exercise and quiz, work on both."""
    from grader.content import exercise_fields
    from grader.grading.spec import load_exercises
    from grader.models import Exercise, Quiz

    # The current models of these two tables match 0013's; the content sync would write courses too.
    with Session(engine) as session:
        for slug, spec in load_exercises(PROJECT_ROOT / "exercises").items():
            session.add(Exercise(slug=slug, **exercise_fields(spec)))
        session.add(Quiz(slug="message-cycle", title="The message cycle", visuals={}, content_hash="0" * 64))
        session.commit()
    with engine.begin() as connection:
        ids = {
            "exercise": connection.execute(text("SELECT id FROM exercises WHERE slug = 'message-echo'")).scalar_one(),
            "quiz": connection.execute(text("SELECT id FROM quizzes WHERE slug = 'message-cycle'")).scalar_one(),
        }
        for number, role in ((1, "learner"), (2, "instructor")):
            connection.execute(
                text(
                    "INSERT INTO users (id, email, display_name, role, password_hash, created_at, session_generation)"
                    " VALUES (:id, :email, :name, :role, 'x', '2026-12-01 10:00:00', 0)"
                ),
                {"id": number, "email": f"u{number}@example.org", "name": f"U{number}", "role": role},
            )
        connection.execute(
            text(
                "INSERT INTO submissions (user_id, exercise_id, filename, source, status, score, max_score,"
                " seed, created_at, infra_retries, counts_toward_limit)"
                " VALUES (1, :exercise, 's.py', 'x', 'graded', 2.0, 16, 1, '2026-12-01 10:05:00', 0, :counts)"
            ),
            {"exercise": ids["exercise"], "counts": True},
        )
        connection.execute(
            text(
                "INSERT INTO quiz_attempts (user_id, quiz_id, score, max_score, created_at, change)"
                " VALUES (1, :quiz, 2, 3, '2026-12-01 10:06:00', 1)"
            ),
            {"quiz": ids["quiz"]},
        )
    return ids


def _check_default_course(engine: Engine, ids: dict[str, int]) -> None:
    with engine.connect() as connection:
        assert connection.execute(text("SELECT id, join_code FROM courses")).all() == [(1, "")]
        members = connection.execute(text("SELECT user_id, role FROM course_members ORDER BY user_id")).all()
        assert members == [(1, "learner"), (2, "instructor")]
        placed = connection.execute(text("SELECT id, exercise_id, quiz_id, course_id FROM assignments")).all()
        # The exercise is placed with its lesson's quiz: one assignment, not two.
        assert [(row.exercise_id, row.quiz_id, row.course_id) for row in placed] == [(ids["exercise"], ids["quiz"], 1)]
        assignment = placed[0].id
        assert connection.execute(text("SELECT assignment_id, late_factor FROM submissions")).all() == [
            (assignment, 1.0)
        ]
        assert connection.execute(text("SELECT assignment_id FROM quiz_attempts")).scalars().all() == [assignment]


def _courses_round_trip(engine: Engine) -> None:
    migrate(engine, revision="0013")
    ids = _fill_before_courses(engine)
    migrate(engine, revision="0014")
    _check_default_course(engine, ids)
    downgrade(engine, revision="0013")
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM submissions")).scalar() == 1
        assert connection.execute(text("SELECT count(*) FROM quiz_attempts")).scalar() == 1
        assert "courses" not in inspect(connection).get_table_names()
    migrate(engine, revision="0014")
    _check_default_course(engine, ids)


def test_courses_upgrade_moves_a_filled_database_into_the_default_course_on_sqlite(tmp_path: Path):
    engine = create_db_engine(f"sqlite:///{tmp_path / 'courses.sqlite3'}")
    try:
        _courses_round_trip(engine)
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_courses_upgrade_moves_a_filled_database_into_the_default_course_on_postgresql(postgres_database):
    engine = create_db_engine(postgres_database())
    try:
        _courses_round_trip(engine)
        # The default course took id 1 explicitly; the next course still gets a fresh id.
        with engine.begin() as connection:
            new = connection.execute(
                text("INSERT INTO courses (title, join_code, created_at) VALUES ('B', 'b', now()) RETURNING id")
            ).scalar_one()
        assert new == 2
    finally:
        engine.dispose()


@pytest.mark.parametrize("engine_name", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_standings_per_course_upgrade_splits_a_repeater_and_back(
    tmp_path: Path, request: pytest.FixtureRequest, engine_name: str
):
    """0022 keys standings by course: a learner in two courses gets one standing in each, from that course's work."""
    from tests import oracle

    engine, previous = _filled_before("0022", tmp_path, request, engine_name)
    try:
        with engine.begin() as connection:
            echo = connection.execute(text("SELECT id FROM exercises WHERE slug = 'message-echo'")).scalar_one()
            fall = connection.execute(
                text("SELECT id FROM assignments WHERE course_id = 1 AND exercise_id = :e"), {"e": echo}
            ).scalar_one()
            _ray(connection)
            _spring_course(connection)
            for course in (1, 2):
                connection.execute(
                    text(
                        "INSERT INTO course_members (course_id, user_id, role, created_at)"
                        " VALUES (:c, 1, 'learner', '2026-12-02 10:00:00')"
                    ),
                    {"c": course},
                )
            spring = _spring_assignment(connection, echo)
            made = [  # (assignment, score, late share, when)
                (fall, 16.0, 1.0, "2026-12-01 11:00:00"),
                (fall, 4.0, 1.0, "2026-12-01 12:00:00"),
                (spring, 8.0, 0.5, "2026-12-03 11:00:00"),
                (None, 12.0, 1.0, "2026-12-04 11:00:00"),  # made for no assignment: no course's
            ]
            for assignment, score, share, when in made:
                connection.execute(
                    text(
                        "INSERT INTO submissions (user_id, exercise_id, filename, source, status, score, max_score,"
                        " seed, created_at, infra_retries, counts_toward_limit, assignment_id, late_factor)"
                        " VALUES (1, :e, 's.py', 'x', 'graded', :score, 16, 1, :at, 0, :yes, :a, :share)"
                    ),
                    {"e": echo, "score": score, "at": when, "yes": True, "a": assignment, "share": share},
                )

        def standings() -> dict:
            with engine.connect() as connection:
                found, wanted = oracle.stored(connection), oracle.expected(connection)
                assert found == wanted
                newest = connection.execute(text("SELECT value FROM change_sequence")).scalar_one()
                changes = set(connection.execute(text("SELECT change FROM exercise_standings")).scalars())
                assert changes == {newest}  # pages open before the upgrade are sent every row again
            return {
                key: (row["best_score"], row["latest_score"], row["submissions"])
                for key, row in found["standings"].items()
            }

        migrate(engine)
        assert _differences(engine) == []
        split = {(1, 1, echo): (16.0, 4.0, 2), (1, 2, echo): (4.0, 4.0, 1)}
        assert standings() == split
        downgrade(engine, revision=previous)
        with engine.connect() as connection:
            rows = connection.execute(
                text("SELECT user_id, exercise_id, best_score, latest_score, submissions FROM exercise_standings")
            ).all()
        assert [tuple(row) for row in rows] == [(1, echo, 16.0, 12.0, 4)]  # every submission, as before 0022
        migrate(engine)
        assert standings() == split
    finally:
        engine.dispose()


@pytest.mark.parametrize("engine_name", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_placed_once_upgrade_stops_on_a_course_placing_work_twice_and_goes_up_and_down(
    tmp_path: Path, request: pytest.FixtureRequest, engine_name: str
):
    """0024 adds unique (course, exercise) and (course, quiz) indexes; a course already placing work twice stops it."""
    from sqlalchemy.exc import IntegrityError

    engine, previous = _filled_before("0024", tmp_path, request, engine_name)

    def place(connection, title: str, *, exercise: int | None = None, quiz: int | None = None) -> int:
        return connection.execute(
            text(
                "INSERT INTO assignments (course_id, title, exercise_id, quiz_id, late_policy, penalty_percent,"
                " penalty_unit, penalty_floor_percent, reveal_answers, published, position, created_at)"
                " VALUES (1, :t, :e, :q, 'none', 0, 'day', 0, 'after_last_attempt', :no, 9, :at) RETURNING id"
            ),
            {"t": title, "e": exercise, "q": quiz, "no": False, "at": "2026-12-07 10:00:00"},
        ).scalar_one()

    try:
        with engine.begin() as connection:
            echo = connection.execute(text("SELECT id FROM exercises WHERE slug = 'message-echo'")).scalar_one()
            cycle = connection.execute(text("SELECT id FROM quizzes WHERE slug = 'message-cycle'")).scalar_one()
            lesson = connection.execute(
                text("SELECT id, title FROM assignments WHERE course_id = 1 AND exercise_id = :e"), {"e": echo}
            ).one()
            _spring_course(connection)
            _spring_assignment(connection, echo)  # once in another course: allowed
            _ray(connection)
            again = place(connection, "Echo again", exercise=echo)
            quiz_again = place(connection, "Cycle again", quiz=cycle)
            submission = connection.execute(
                text(
                    "INSERT INTO submissions (user_id, exercise_id, filename, source, status, max_score, seed,"
                    " created_at, infra_retries, counts_toward_limit, assignment_id)"
                    " VALUES (:u, :e, 's.py', 'x', 'queued', 16, 1, :at, 0, :yes, :a) RETURNING id"
                ),
                {"u": 1, "e": echo, "at": "2026-12-07 10:00:00", "yes": True, "a": again},
            ).scalar_one()

        with pytest.raises(Exception, match="Cannot upgrade") as stopped:
            migrate(engine)
        message = str(stopped.value)
        assert (
            f"course 1 “Course” places the exercise message-echo in the assignments {lesson.id} “{lesson.title}”, "
            f"{again} “Echo again”" in message
        )
        assert (
            f"places the quiz message-cycle in the assignments {lesson.id} “{lesson.title}”, "
            f"{quiz_again} “Cycle again”" in message
        )
        assert "Spring" not in message and "Nothing was changed" in message
        with engine.connect() as connection:  # nothing was changed, nothing deleted
            assert connection.execute(text("SELECT version_num FROM alembic_version")).scalar_one() == previous
            assert connection.execute(text("SELECT count(*) FROM assignments")).scalar_one() == 4
            assert (
                connection.execute(
                    text("SELECT assignment_id FROM submissions WHERE id = :s"), {"s": submission}
                ).scalar_one()
                == again
            )

        with engine.begin() as connection:  # as an instructor would: take the extra placements out
            connection.execute(text("DELETE FROM assignments WHERE id IN (:a, :b)"), {"a": again, "b": quiz_again})
        migrate(engine)
        assert _differences(engine) == []
        for work in ({"exercise": echo}, {"quiz": cycle}):
            with pytest.raises(IntegrityError), engine.begin() as connection:
                place(connection, "Twice", **work)
        downgrade(engine, revision=previous)
        with engine.begin() as connection:  # without the indexes the database takes it again
            twice = place(connection, "Twice", exercise=echo)
            connection.execute(text("DELETE FROM assignments WHERE id = :a"), {"a": twice})
        migrate(engine)
        assert _differences(engine) == []
        with pytest.raises(IntegrityError), engine.begin() as connection:
            place(connection, "Twice", exercise=echo)
    finally:
        engine.dispose()


@pytest.mark.parametrize("engine_name", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_audit_course_upgrade_gives_old_entries_the_course_their_words_name_and_back(
    tmp_path: Path, request: pytest.FixtureRequest, engine_name: str
):
    """0025 names each audit entry's course; entries stored before get the one their target or details name."""
    engine, previous = _filled_before("0025", tmp_path, request, engine_name)
    try:
        with engine.begin() as connection:
            echo = connection.execute(text("SELECT id FROM exercises WHERE slug = 'message-echo'")).scalar_one()
            _spring_course(connection)
            spring = _spring_assignment(connection, echo)
            _ray(connection)
            submission = connection.execute(
                text(
                    "INSERT INTO submissions (user_id, exercise_id, filename, source, status, score, max_score,"
                    " seed, created_at, infra_retries, counts_toward_limit, assignment_id, late_factor)"
                    " VALUES (1, :e, 's.py', 'x', 'graded', 16, 16, 1, :at, 0, :yes, :a, 1.0) RETURNING id"
                ),
                {"e": echo, "at": "2026-12-03 10:00:00", "yes": True, "a": spring},
            ).scalar_one()
            entries = [  # (target, details, the course it must get)
                ("course 2 (Spring)", None, 2),
                ("r@example.org in course 1 (Course)", None, 1),
                (f"assignment {spring} (Echo)", json.dumps({"position": 1}), 2),
                ("gradebook of course 2 (CSV)", None, 2),
                (f"submission {submission}", json.dumps({"batch": 1}), 2),
                ("r@example.org", json.dumps({"change": "password reset", "course": "course 2 (Spring)"}), 2),
                ("exercise message-echo", json.dumps({"batch": 2}), None),
                ("course 99 (Gone)", None, None),
            ]
            for number, (target, details, _) in enumerate(entries):
                connection.execute(
                    text(
                        "INSERT INTO audit_events (created_at, actor_email, action, target, details)"
                        " VALUES (:at, 'teacher@example.org', 'course.change', :target, :details)"
                    ),
                    {"at": f"2026-12-04 10:00:0{number}", "target": target, "details": details},
                )

        def courses_named() -> list:
            with engine.connect() as connection:
                return list(connection.execute(text("SELECT course_id FROM audit_events ORDER BY id")).scalars())

        migrate(engine)
        assert _differences(engine) == []
        assert courses_named() == [course for _, _, course in entries]
        downgrade(engine, revision=previous)
        with engine.connect() as connection:
            assert "course_id" not in {column["name"] for column in inspect(connection).get_columns("audit_events")}
            assert connection.execute(text("SELECT count(*) FROM audit_events")).scalar_one() == len(entries)
        migrate(engine)
        assert courses_named() == [course for _, _, course in entries]
    finally:
        engine.dispose()


def _ray(connection) -> None:
    """A learner account, id 1, written as the schema of the revision under test takes it."""
    connection.execute(
        text(
            "INSERT INTO users (id, email, display_name, role, password_hash, created_at, session_generation)"
            " VALUES (1, 'r@example.org', 'Ray', 'learner', 'x', '2026-12-01 10:00:00', 0)"
        )
    )


def _spring_course(connection) -> None:
    """Course 2, "Spring", beside the default course."""
    connection.execute(
        text("INSERT INTO courses (id, title, join_code, created_at) VALUES (2, 'Spring', 's', :at)"),
        {"at": "2026-12-02 10:00:00"},
    )


def _spring_assignment(connection, echo: int) -> int:
    """Spring's assignment of the exercise ``echo``: its id."""
    return connection.execute(
        text(
            "INSERT INTO assignments (course_id, title, exercise_id, late_policy, penalty_percent,"
            " penalty_unit, penalty_floor_percent, reveal_answers, published, position, created_at)"
            " VALUES (2, 'Echo', :e, 'none', 0, 'day', 0, 'after_last_attempt', :no, 0, :at) RETURNING id"
        ),
        {"e": echo, "no": False, "at": "2026-12-02 10:00:00"},
    ).scalar_one()


def _filled_before(
    revision: str, tmp_path: Path, request: pytest.FixtureRequest, engine_name: str
) -> tuple[Engine, str]:
    """A database of ``engine_name`` at the revision before ``revision``, with the content loaded, and that revision."""
    previous = ScriptDirectory.from_config(alembic_config()).get_revision(revision).down_revision
    assert isinstance(previous, str)
    url = (
        f"sqlite:///{tmp_path / f'before-{revision}.sqlite3'}"
        if engine_name == "sqlite"
        else request.getfixturevalue("postgres_database")()
    )
    engine = create_db_engine(url)
    migrate(engine, revision=previous)
    with Session(engine) as session:
        sync_content(session, PROJECT_ROOT / "exercises", PROJECT_ROOT / "quizzes")
        session.commit()
    return engine, previous
