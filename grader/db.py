"""Database engine and sessions, built from the settings.

SQLite (the embedded default) gets write-ahead logging, enforced foreign keys
and a busy timeout on every connection, so the web process and the grading
worker can share one file. PostgreSQL works through psycopg 3: a plain
``postgresql://`` URL is read as ``postgresql+psycopg://``.

``lock_for_update`` is how a service makes "check a limit, then insert" safe
when two requests arrive at once: both dialects, one call. On SQLite the
threads of one process take turns for the write lock in Python first (see
``_SqliteConnection``), so a waiting request wakes the moment the lock is free.
"""

from __future__ import annotations

import sqlite3
import threading
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import Engine, event
from sqlalchemy.engine import make_url
from sqlmodel import Session, col, create_engine, func, select

from grader.config import PROJECT_ROOT, Settings, get_settings

if TYPE_CHECKING:
    from alembic.config import Config

SQLITE_BUSY_TIMEOUT_MS = 30_000
SQLITE_POOL_SIZE = 20


def normalize_url(url: str) -> str:
    """The URL with the psycopg 3 driver chosen for PostgreSQL (the only one installed)."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url.removeprefix(prefix)
    return url


def is_sqlite(url: str) -> bool:
    """Whether the URL names an SQLite database."""
    return make_url(normalize_url(url)).get_backend_name() == "sqlite"


def create_db_engine(url: str, *, echo: bool = False, write_wait_seconds: float | None = None) -> Engine:
    """A new engine for ``url``, with SQLite tuned for a web process and workers side by side.

    ``write_wait_seconds``: how long a statement waits for a lock (SQLite's busy
    timeout and this process's write turn; PostgreSQL's ``lock_timeout``) and
    for a pooled connection before it fails, to be answered "busy, retry".
    """
    url = normalize_url(url)
    wait = SQLITE_BUSY_TIMEOUT_MS / 1000 if write_wait_seconds is None else write_wait_seconds
    if not is_sqlite(url):
        if write_wait_seconds is None:
            return create_engine(url, echo=echo, pool_pre_ping=True)
        return create_engine(
            url,
            echo=echo,
            pool_pre_ping=True,
            pool_timeout=wait,
            connect_args={"options": f"-c lock_timeout={int(wait * 1000)}"},
        )
    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    # One turn per engine: its connections write one at a time, in the order they asked.
    factory = type("SqliteConnection", (_SqliteConnection,), {"write_turn": threading.Lock(), "wait_seconds": wait})
    engine = create_engine(
        url,
        echo=echo,
        connect_args={"check_same_thread": False, "timeout": wait, "factory": factory},
        # A request holds its connection from its first query to its answer, across several
        # threadpool hops: with a bounded pool, requests holding connections could wait for
        # threads that wait for connections. An SQLite connection costs a file handle, so
        # there is no bound; SQLITE_POOL_SIZE of them stay open between requests.
        pool_size=SQLITE_POOL_SIZE,
        max_overflow=-1,
    )
    event.listen(engine, "connect", _configure_sqlite_connection)
    return engine


class _SqliteConnection(sqlite3.Connection):
    """An SQLite connection that waits for its engine's write turn before ``BEGIN IMMEDIATE``.

    SQLite's own wait for a busy write lock sleeps and retries with growing
    pauses (1, 2, 5 … 100 ms), so under many concurrent uploads a request could
    sleep long after the lock was free. Threads of one process instead queue on
    a Python lock, held from ``BEGIN IMMEDIATE`` to the commit or rollback, and
    the next one goes on at once; other processes still meet SQLite's wait.
    """

    write_turn: threading.Lock
    wait_seconds: float = SQLITE_BUSY_TIMEOUT_MS / 1000
    _has_turn = False

    def begin_immediate(self) -> None:
        """``BEGIN IMMEDIATE`` once this process's other writers are done."""
        # Never waits for ever: past the busy timeout SQLite's own wait (and its error) takes over.
        self._has_turn = self.write_turn.acquire(timeout=self.wait_seconds)
        try:
            self.execute("BEGIN IMMEDIATE")
        except BaseException:
            self._end_turn()
            raise

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            self._end_turn()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self._end_turn()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._end_turn()

    def _end_turn(self) -> None:
        if self._has_turn:
            self._has_turn = False
            self.write_turn.release()


def _configure_sqlite_connection(dbapi_connection: Any, _connection_record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        busy_ms = int(getattr(dbapi_connection, "wait_seconds", SQLITE_BUSY_TIMEOUT_MS / 1000) * 1000)
        cursor.execute(f"PRAGMA busy_timeout={busy_ms}")
        cursor.execute("PRAGMA synchronous=NORMAL")
    finally:
        cursor.close()


@lru_cache
def _engine_for(url: str, write_wait_seconds: float) -> Engine:
    return create_db_engine(url, write_wait_seconds=write_wait_seconds)


def get_engine(settings: Settings | None = None) -> Engine:
    """The process-wide engine for the configured database (one per URL and write wait)."""
    settings = settings or get_settings()
    return _engine_for(settings.effective_database_url, settings.database_write_wait_seconds)


@contextmanager
def session_scope(engine: Engine | None = None) -> Iterator[Session]:
    """A session that commits when the block succeeds and rolls back when it raises."""
    with Session(engine or get_engine()) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


class HasId(Protocol):
    """A table whose primary key is ``id``."""

    id: int


def lock_for_update(session: Session, model: type[HasId], row_id: int) -> None:
    """Lock one row until ``session``'s transaction ends; others locking it wait until then.

    Call it before reading what a limit depends on: the second of two
    simultaneous requests then waits for the first to commit and sees its rows.
    PostgreSQL locks the row (``SELECT … FOR UPDATE``; statements after it see
    what the first request committed under the default READ COMMITTED).
    SQLite has no row locks: it takes the database's write lock now
    (``BEGIN IMMEDIATE``) rather than at the first write. That serializes this
    transaction with every writer, not only this row's, but SQLite admits one
    writer at a time anyway. The caller should end the transaction promptly,
    committing or rolling back, so the lock is not held longer than needed.
    """
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        session.exec(select(model.id).where(col(model.id) == row_id).with_for_update()).first()
        return
    _begin_immediate(connection)


def lock_named(session: Session, name: str) -> None:
    """Hold a lock called ``name`` until ``session``'s transaction ends (for limits over many rows).

    PostgreSQL: a transaction-level advisory lock. SQLite: the database's write
    lock, as in ``lock_for_update``. Take it after any row lock, always in that
    order, so that two transactions never wait for each other.
    """
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        key = zlib.crc32(name.encode()) - 2**31  # a signed 32-bit key, stable across processes
        session.exec(select(func.pg_advisory_xact_lock(key))).first()
        return
    _begin_immediate(connection)


def _begin_immediate(connection: Any) -> None:
    # pysqlite (legacy transaction control) opens a transaction only before the
    # first INSERT/UPDATE/DELETE; if one is already open this connection has
    # written, so it holds the write lock already.
    dbapi_connection = connection.connection.dbapi_connection
    if dbapi_connection is None or dbapi_connection.in_transaction:
        return
    if isinstance(dbapi_connection, _SqliteConnection):
        dbapi_connection.begin_immediate()
    else:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def alembic_config(url: str | None = None) -> Config:
    """Alembic's configuration for this project, optionally aimed at ``url``."""
    from alembic.config import Config

    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "alembic"))
    if url is not None:
        config.set_main_option("sqlalchemy.url", normalize_url(url).replace("%", "%%"))
    return config


def migrate(engine: Engine | None = None, *, revision: str = "head") -> None:
    """Bring the database up to ``revision`` with the Alembic migrations."""
    from alembic import command

    _run_migrations(engine or get_engine(), command.upgrade, revision)


def downgrade(engine: Engine, *, revision: str) -> None:
    """Take the database back to ``revision`` with the migrations' downgrades, keeping its rows."""
    from alembic import command

    _run_migrations(engine, command.downgrade, revision)


def _run_migrations(engine: Engine, action: Callable[[Config, str], None], revision: str) -> None:
    """Run ``action`` (Alembic's upgrade or downgrade) to ``revision`` in one transaction.

    On SQLite, altering a table in batch mode rebuilds it: the old table is dropped
    and a copy renamed. With foreign keys enforced, the drop would cascade into every
    table that refers to it (a quiz's choices, the answers of attempts), so they are
    off while the migrations run and on again before the connection goes back to
    the pool. SQLite ignores the pragma inside a transaction, hence the commits.
    """
    config = alembic_config()
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()
        try:
            with connection.begin():
                config.attributes["connection"] = connection
                action(config, revision)
        finally:
            if sqlite:
                connection.exec_driver_sql("PRAGMA foreign_keys=ON")
                connection.commit()
