"""The Alembic migrations build the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, inspect, text

from alembic import command
from grader.db import alembic_config, create_db_engine, migrate, normalize_url
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
