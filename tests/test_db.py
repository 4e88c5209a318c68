"""SQLite writers of one process take turns in Python: the next waiter goes on as soon as the lock is free."""

from __future__ import annotations

import threading

import pytest
from sqlmodel import Session

from grader.db import create_db_engine, lock_for_update, lock_named
from grader.models import User


@pytest.fixture
def engine(tmp_path):
    engine = create_db_engine(f"sqlite:///{tmp_path / 'turns.sqlite3'}")
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE users (id INTEGER PRIMARY KEY, note TEXT)")
        connection.exec_driver_sql("INSERT INTO users (id, note) VALUES (1, '')")
    yield engine
    engine.dispose()


def _turn(engine) -> threading.Lock:
    with engine.connect() as connection:
        return type(connection.connection.dbapi_connection).write_turn


def test_a_writer_holds_the_turn_until_it_commits_and_the_next_one_then_goes_on(engine):
    turn = _turn(engine)
    order: list[str] = []
    first_in = threading.Event()

    def write(name: str, started: threading.Event | None) -> None:
        with Session(engine) as session:
            lock_for_update(session, User, 1)
            order.append(f"{name} in")
            if started is not None:
                started.set()
                # The second writer is waiting for the turn by now, not sleeping in SQLite.
                for _ in range(200):
                    if second_waiting.is_set():
                        break
                    threading.Event().wait(0.01)
            session.connection().exec_driver_sql(f"UPDATE users SET note = note || '{name}' WHERE id = 1")
            session.commit()
            order.append(f"{name} out")

    second_waiting = threading.Event()
    first = threading.Thread(target=write, args=("a", first_in))
    first.start()
    assert first_in.wait(10)
    assert turn.locked(), "the first writer holds the turn from BEGIN IMMEDIATE on"
    second = threading.Thread(target=write, args=("b", None))
    second.start()
    second_waiting.set()
    first.join(10)
    second.join(10)
    assert order == ["a in", "a out", "b in", "b out"]
    assert not turn.locked()
    with engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT note FROM users").scalar_one() == "ab"


def test_the_turn_is_given_back_on_rollback_on_close_and_when_a_limit_is_refused(engine):
    turn = _turn(engine)
    with Session(engine) as session:
        lock_named(session, "queue")
        assert turn.locked()
        session.rollback()
        assert not turn.locked()
    with Session(engine) as session:
        lock_for_update(session, User, 1)
        lock_named(session, "queue")  # the same transaction: no second turn
        assert turn.locked()
    assert not turn.locked(), "a session closed without commit gives the turn back"
