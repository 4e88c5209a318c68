"""Shared fixtures: settings for a test, and a fresh database built by the migrations.

The migrations run once per test session into a template (an SQLite file, or a
PostgreSQL database used as ``TEMPLATE``); each test gets its own copy, so tests
never see each other's rows and services may commit. Which engine a test gets
is the ``db_backend`` fixture: SQLite unless a folder's conftest parametrizes it
(tests/services and tests/jobs run on both). PostgreSQL databases are named
``grader_test_<random>`` and dropped after the test; the server is the one at
``GRADER_TEST_POSTGRES_URL`` (default ``postgresql://postgres@127.0.0.1:5432``,
trust auth). Redis tests get a queue name of their own on ``GRADER_TEST_REDIS_URL``
(default ``redis://127.0.0.1:6379/0``), and its keys are deleted afterwards.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from argon2 import PasswordHasher, profiles
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlmodel import Session

from grader.config import PROJECT_ROOT, Settings
from grader.db import create_db_engine, migrate, normalize_url
from grader.services import users

# Production parameters cost about 130 ms a hash; tests sign in hundreds of times.
# (Servers the tests start in another process keep the production parameters.)
users.use_password_hasher(PasswordHasher.from_parameters(profiles.CHEAPEST))


@pytest.fixture
def real_hashing() -> Iterator[None]:
    """argon2id with the service's real parameters (the suite otherwise uses the cheapest)."""
    from grader.services import passwords

    cheap = passwords.current_hasher()
    passwords.use_hasher(PasswordHasher())
    yield
    passwords.use_hasher(cheap)


# Exercises that exist only for the tests (a second exercise beside the course's).
TEST_EXERCISES = PROJECT_ROOT / "tests" / "exercises"

POSTGRES_SERVER_URL = normalize_url(
    os.environ.get("GRADER_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
)
REDIS_URL = os.environ.get("GRADER_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


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
        # A worker test's pool gives its machine-wide slots back soon after its last grading.
        "sandbox_pool_idle_seconds": 5.0,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)


# --- PostgreSQL: a template database made once, a copy per test ----------------------------


class PostgresServer:
    """The test PostgreSQL server: creates databases (from a template) and drops them."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.admin = create_engine(url, isolation_level="AUTOCOMMIT")

    def database_url(self, name: str) -> str:
        """The URL of database ``name`` on this server."""
        return make_url(self.url).set(database=name).render_as_string(hide_password=False)

    def create(self, *, template: str | None = None) -> str:
        """A new empty (or copied) database; its name."""
        name = f"grader_test_{uuid.uuid4().hex[:12]}"
        clause = f' TEMPLATE "{template}"' if template else ""
        with self.admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"{clause}'))
        return name

    def drop(self, name: str) -> None:
        """Drop database ``name``, closing any connection still open to it."""
        with self.admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """The PostgreSQL server of the tests (skips the test when it cannot be reached)."""
    server = PostgresServer(POSTGRES_SERVER_URL)
    try:
        with server.admin.connect() as connection:
            connection.execute(text("SELECT 1"))
    except OperationalError as exc:
        server.admin.dispose()
        pytest.skip(f"PostgreSQL is not reachable at {POSTGRES_SERVER_URL}: {exc.orig}")
    yield server
    server.admin.dispose()


@pytest.fixture(scope="session")
def postgres_template(postgres_server: PostgresServer) -> Iterator[str]:
    """A PostgreSQL database with the schema built by the migrations (made once)."""
    name = postgres_server.create()
    engine = create_db_engine(postgres_server.database_url(name))
    try:
        migrate(engine)
    finally:
        engine.dispose()
    yield name
    postgres_server.drop(name)


@pytest.fixture
def postgres_database(postgres_server: PostgresServer) -> Iterator[Callable[..., str]]:
    """Makes fresh PostgreSQL databases (``template=`` copies a database); all dropped afterwards."""
    made: list[str] = []

    def make(*, template: str | None = None) -> str:
        name = postgres_server.create(template=template)
        made.append(name)
        return postgres_server.database_url(name)

    yield make
    for name in made:
        postgres_server.drop(name)


# --- the database of one test -----------------------------------------------------------


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
def db_backend() -> str:
    """Which database engine this test runs on; folders that test both parametrize it."""
    return "sqlite"


@pytest.fixture
def database_url(request: pytest.FixtureRequest, db_backend: str, tmp_path: Path) -> str:
    """The URL of this test's own migrated database."""
    if db_backend == "postgresql":
        template = request.getfixturevalue("postgres_template")
        return request.getfixturevalue("postgres_database")(template=template)
    shutil.copyfile(request.getfixturevalue("migrated_template"), tmp_path / "grader.sqlite3")
    return f"sqlite:///{tmp_path / 'grader.sqlite3'}"


@pytest.fixture
def settings(tmp_path: Path, exercises_dir: Path, database_url: str) -> Settings:
    """Settings pointing at this test's own state directory and database, with the test exercises too."""
    return make_settings(tmp_path, exercises_dir=exercises_dir, database_url=database_url)


@pytest.fixture
def engine(settings: Settings) -> Iterator[Engine]:
    """An engine on this test's fresh migrated database."""
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


# --- Redis: a queue name of one test's own --------------------------------------------------


@pytest.fixture
def redis_queue() -> Iterator[tuple[str, str]]:
    """``(url, queue name)`` on the test Redis server; the name's keys are deleted afterwards."""
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.exceptions.ConnectionError as exc:
        client.close()
        pytest.skip(f"Redis is not reachable at {REDIS_URL}: {exc}")
    name = f"grader_test_{uuid.uuid4().hex[:12]}"
    yield REDIS_URL, name
    keys = list(client.scan_iter(match=f"huey.*{name}*"))
    if keys:
        client.delete(*keys)
    client.close()
