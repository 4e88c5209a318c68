"""A full disk and a busy database are answers (507, 503, Retry-After), never crashes; nothing is half-stored.

The real full disk (a small tmpfs under a running service) is tests/e2e/test_full_disk.py;
here the decisions: the free-space floor, a database lock held by another
connection on both engines, and how each database error is read.
"""

from __future__ import annotations

import errno
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import exc as sa_exc
from sqlalchemy import text
from sqlmodel import Session, func, select

from grader.db import create_db_engine
from grader.models import QuizStart, Submission, User
from grader.services import quizzes, storage
from grader.web.app import create_app
from tests.factories import make_user
from tests.web.conftest import Browser, api_token

SOLUTION = b"from fastapi import FastAPI\n\napp = FastAPI()\n"
API_UPLOAD = "/api/v1/exercises/message-echo/submissions"
EXERCISE = "/exercises/message-echo"


def submissions_stored(engine) -> int:
    with Session(engine) as session:
        return session.exec(select(func.count()).select_from(Submission)).one()


def test_each_database_refusal_is_read_for_what_it_is():
    full = storage.trouble(sa_exc.OperationalError("INSERT", {}, sqlite3.OperationalError("database or disk is full")))
    assert full is not None and full.full and full.retry_after >= 1
    busy = storage.trouble(sa_exc.OperationalError("BEGIN", {}, sqlite3.OperationalError("database is locked")))
    assert busy is not None and not busy.full
    assert storage.trouble(OSError(errno.ENOSPC, "No space left on device")).full
    assert storage.trouble(sa_exc.TimeoutError("QueuePool limit reached")) is not None
    locked = storage.trouble(sa_exc.OperationalError("SELECT", {}, psycopg.errors.LockNotAvailable("lock timeout")))
    assert locked is not None and not locked.full
    disk = storage.trouble(sa_exc.OperationalError("INSERT", {}, psycopg.errors.DiskFull("could not extend file")))
    assert disk is not None and disk.full
    gone = storage.trouble(sa_exc.OperationalError("SELECT", {}, psycopg.errors.AdminShutdown("terminating")))
    assert gone is not None and "cannot reach" in gone.message
    refused = storage.trouble(sa_exc.OperationalError("connect", {}, psycopg.OperationalError("connection refused")))
    assert refused is not None and not refused.full
    # Bugs stay bugs: a missing table, a broken query or any other error is not "busy".
    assert storage.trouble(sa_exc.OperationalError("SELECT", {}, sqlite3.OperationalError("no such table: x"))) is None
    assert storage.trouble(sa_exc.ProgrammingError("SELECT", {}, psycopg.errors.SyntaxError("syntax"))) is None
    assert storage.trouble(OSError(errno.EACCES, "Permission denied")) is None
    assert storage.trouble(ValueError("x")) is None


def test_below_the_free_space_floor_uploads_get_507_and_readyz_says_why(settings, engine, synced, queued):
    low = settings.model_copy(update={"min_free_disk_mb": 10**9, "submission_interval_seconds": 0})
    app = create_app(low, engine=engine, enqueue=queued.append)
    client = TestClient(app)
    headers = api_token(client, make_user(synced))

    refused = client.post(API_UPLOAD, headers=headers, files={"file": ("solution.py", SOLUTION, "text/x-python")})
    assert refused.status_code == 507
    assert int(refused.headers["retry-after"]) >= 1
    assert "disk is full" in refused.json()["detail"] and "nothing of this request was kept" in refused.json()["detail"]
    browser = Browser(TestClient(app)).sign_in(make_user(synced))
    page = browser.post_form(
        f"{EXERCISE}/submissions", {}, page=EXERCISE, files={"file": ("solution.py", SOLUTION, "text/x-python")}
    )
    assert page.status_code == 507 and "disk is full" in page.text
    assert submissions_stored(engine) == 0 and queued == []
    # Reading goes on: the exercise list and the learner's pages still answer.
    assert client.get("/api/v1/exercises", headers=headers).status_code == 200
    assert browser.get(EXERCISE).status_code == 200

    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["checks"]["disk"]["ok"] is False
    assert "below the" in ready.json()["checks"]["disk"]["detail"]
    exposition = TestClient(app, client=("127.0.0.1", 50000)).get("/metrics").text
    free = next(line for line in exposition.splitlines() if line.startswith("grader_state_free_bytes "))
    assert float(free.split()[1]) == pytest.approx(storage.free_bytes(low.state_dir), rel=0.05)


def test_the_floor_applies_only_where_the_state_folder_stores_the_database_or_queue(settings):
    assert storage.stores_in_state_folder(settings)
    shared = settings.model_copy(
        update={"database_url": "postgresql://db.invalid/grader", "queue_url": "redis://queue.invalid:6379/0"}
    )
    assert not storage.stores_in_state_folder(shared)
    storage.refuse_when_low(shared.model_copy(update={"min_free_disk_mb": 10**9}))  # nothing there to fill


def test_above_the_floor_readyz_reports_the_free_space(app, client):
    ready = client.get("/readyz").json()
    assert ready["checks"]["disk"]["ok"] is True
    assert "MB free in the state folder" in ready["checks"]["disk"]["detail"]


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_backend(request) -> str:
    return request.param


@contextmanager
def lock_held(settings, db_backend: str, user_id: int) -> Iterator[None]:
    """Another connection's open transaction holding the lock a write for ``user_id`` needs (SQLite: the database's)."""
    holder = create_db_engine(settings.effective_database_url)
    with holder.connect() as held:
        if db_backend == "sqlite":
            held.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            held.execute(text("SELECT id FROM users WHERE id = :id FOR UPDATE"), {"id": user_id})
        yield
        held.rollback()
    holder.dispose()


def test_a_write_that_meets_another_writers_lock_gets_503_in_bounded_time(settings, synced, queued, db_backend):
    quick = settings.model_copy(update={"database_write_wait_seconds": 0.5, "submission_interval_seconds": 0})
    engine = create_db_engine(settings.effective_database_url, write_wait_seconds=0.5)
    app = create_app(quick, engine=engine, enqueue=queued.append)
    client = TestClient(app)
    learner = make_user(synced)
    headers = api_token(client, learner)
    upload = {"file": ("solution.py", SOLUTION, "text/x-python")}

    # Another process's transaction, as an operator's shell left open, holds the lock the upload needs.
    with lock_held(settings, db_backend, learner.id):
        began = time.monotonic()
        refused = client.post(API_UPLOAD, headers=headers, files=upload)
        waited = time.monotonic() - began
        assert refused.status_code == 503, refused.text
        assert int(refused.headers["retry-after"]) >= 1
        assert "database is busy" in refused.json()["detail"]
        # Bounded by the setting, not by SQLite's 30 s or a row lock held for ever.
        assert waited < 10

    assert submissions_stored(engine) == 0 and queued == []
    accepted = client.post(API_UPLOAD, headers=headers, files=upload)
    assert accepted.status_code == 202, accepted.text
    assert submissions_stored(engine) == 1
    with Session(engine) as session:
        assert session.get(User, learner.id) is not None
    engine.dispose()


def test_the_quiz_opens_while_another_writer_holds_the_lock_in_the_files_order(settings, synced, db_backend):
    quick = settings.model_copy(update={"database_write_wait_seconds": 0.5})
    engine = create_db_engine(settings.effective_database_url, write_wait_seconds=0.5)
    client = TestClient(create_app(quick, engine=engine))
    learner = make_user(synced)
    headers = api_token(client, learner)
    in_file_order = [
        [choice.id for choice in question.choices]
        for question in quizzes.get_for_learner(session=synced, slug="message-cycle").questions
    ]

    with lock_held(settings, db_backend, learner.id):
        began = time.monotonic()
        opened = client.get("/api/v1/quizzes/message-cycle", headers=headers)
        assert time.monotonic() - began < 10
        # The quiz still opens, in the file's order, with no start it could not keep.
        assert opened.status_code == 200, opened.text
        body = opened.json()
        assert body["start_id"] is None
        assert [[c["id"] for c in q["choices"]] for q in body["questions"]] == in_file_order

    with Session(engine) as session:
        assert session.exec(select(func.count()).select_from(QuizStart)).one() == 0
    again = client.get("/api/v1/quizzes/message-cycle", headers=headers).json()
    assert again["start_id"] is not None
    engine.dispose()
