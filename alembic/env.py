"""Alembic environment: the models' metadata, the URL from the service settings.

A caller may hand in an open connection as ``config.attributes["connection"]``
(the tests and ``grader.db.migrate`` do); otherwise the URL comes from
``sqlalchemy.url`` when set, else from the settings.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection
from sqlmodel.sql.sqltypes import AutoString

from alembic import context
from grader import models
from grader.config import get_settings
from grader.db import create_db_engine, is_sqlite

config = context.config
target_metadata = models.SQLModel.metadata


def render_item(type_: str, obj: Any, _autogen_context: Any) -> str | bool:
    """Write our column types as plain SQLAlchemy ones, so migrations never import the models."""
    if type_ != "type":
        return False
    if isinstance(obj, models.UTCDateTime):
        return "sa.DateTime(timezone=True)"
    if isinstance(obj, AutoString):
        return f"sa.String(length={obj.length})" if obj.length else "sa.String()"
    return False


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        render_item=render_item,
        compare_type=True,
    )


def run_migrations_offline() -> None:
    """Emit SQL to stdout instead of running it (``alembic upgrade --sql``)."""
    url = config.get_main_option("sqlalchemy.url") or get_settings().effective_database_url
    context.configure(
        url=url,
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=is_sqlite(url),
        render_item=render_item,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Run the migrations on a live connection."""
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    url = config.get_main_option("sqlalchemy.url") or get_settings().effective_database_url
    engine = create_db_engine(url)
    try:
        with engine.connect() as connection:
            _configure(connection)
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
