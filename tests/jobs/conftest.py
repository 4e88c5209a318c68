"""The job tests run on SQLite and on PostgreSQL: each test once per engine."""

from __future__ import annotations

import pytest


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_backend(request: pytest.FixtureRequest) -> str:
    """SQLite (the embedded default) and PostgreSQL (the shared database)."""
    return request.param
