"""Shared fixtures: settings for a test, and a fresh SQLite database built by the migrations.

The migrations run once per test session into a template file; each test gets
its own copy, so tests never see each other's rows and services may commit.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from argon2 import PasswordHasher, profiles
from sqlalchemy import Engine
from sqlmodel import Session

from grader.config import PROJECT_ROOT, Settings
from grader.db import create_db_engine, migrate
from grader.services import users

# Production parameters cost about 130 ms a hash; tests sign in hundreds of times.
# (Servers the tests start in another process keep the production parameters.)
users.use_password_hasher(PasswordHasher.from_parameters(profiles.CHEAPEST))


# Exercises that exist only for the tests (a second exercise beside the course's).
TEST_EXERCISES = PROJECT_ROOT / "tests" / "exercises"


def make_settings(state_dir: Path, **overrides) -> Settings:
    """Settings for a test: state in ``state_dir``, a fixed secret, the repository's content."""
    values = {
        "environment": "test",
        "state_dir": state_dir,
        "database_url": f"sqlite:///{state_dir / 'grader.sqlite3'}",
        "queue_url": f"sqlite:///{state_dir / 'queue.sqlite3'}",
        "secret_key": "test-secret-key-that-is-long-enough",
        "join_code": "JOIN-ME",
        "exercises_dir": PROJECT_ROOT / "exercises",
        "quizzes_dir": PROJECT_ROOT / "quizzes",
        "submission_interval_seconds": 10,
        "quiz_max_attempts": 3,
        "quiz_scoring": "best",
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An SQLite file with the schema built by the Alembic migrations (made once)."""
    path = tmp_path_factory.mktemp("template") / "grader.sqlite3"
    engine = create_db_engine(f"sqlite:///{path}")
    migrate(engine)
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def exercises_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The course's exercises and the test-only ones side by side, as the service reads them."""
    folder = tmp_path_factory.mktemp("exercises")
    for source in (PROJECT_ROOT / "exercises", TEST_EXERCISES):
        for entry in source.iterdir():
            (folder / entry.name).symlink_to(entry)
    return folder


@pytest.fixture
def settings(tmp_path: Path, exercises_dir: Path) -> Settings:
    """Settings pointing at this test's own state directory, with the test exercises too."""
    return make_settings(tmp_path, exercises_dir=exercises_dir)


@pytest.fixture
def engine(settings: Settings, migrated_template: Path) -> Iterator[Engine]:
    """An engine on a fresh copy of the migrated database."""
    shutil.copyfile(migrated_template, settings.state_dir / "grader.sqlite3")
    engine = create_db_engine(settings.effective_database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session on this test's database."""
    with Session(engine) as session:
        yield session


@pytest.fixture
def synced(session: Session, settings: Settings) -> Session:
    """The session, after the repository's exercises and quizzes were synced into it."""
    from grader.content import sync_content

    sync_content(session, settings.exercises_dir, settings.quizzes_dir)
    return session
