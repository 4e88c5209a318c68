"""CSV imports of accounts: every bad line reported at once, a row limit, passwords hashed off the caller's thread."""

from __future__ import annotations

import sqlite3
import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy.exc import OperationalError
from sqlmodel import func, select

from grader.models import AccountImport, AuditEvent, User, utcnow
from grader.services import account_imports, passwords, users
from grader.services.errors import BadLines, InvalidInput, Overloaded
from tests.factories import make_user

HEADER = "email,display_name,role,password\n"


def _count_users(session) -> int:
    session.expire_all()
    return session.exec(select(func.count()).select_from(User)).one()


def _wait_until_finished(session, import_id: int, seconds: float = 60) -> account_imports.Progress:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        session.expire_all()
        found = account_imports.progress(session=session, import_id=import_id)
        if found.finished:
            return found
        time.sleep(0.02)
    raise AssertionError(f"import {import_id} did not finish in {seconds} s")


@pytest.fixture
def runner(engine):
    runner = account_imports.ImportRunner(engine)
    yield runner
    runner.shutdown()


def test_every_bad_line_is_reported_at_once_and_nothing_is_stored(session):
    taken = make_user(session, email="taken@example.org")
    text = HEADER + "\n".join(
        [
            "ok@example.org,Ok,,",  # line 2
            "not-an-email,Bad,,",  # line 3
            "fine@example.org,Fine,instructor,",  # line 4
            "OK@example.org,Again,,",  # line 5: line 2's e-mail
            f"{taken.email},Taken,,",  # line 6
            "weak@example.org,Weak,,password",  # line 7
            "extra@example.org,Extra,,,surplus",  # line 8
            "role@example.org,Role,admin,",  # line 9
            "",  # a blank line is skipped
            "last@example.org,,,",  # line 11: no name
        ]
    )
    before = _count_users(session)
    with pytest.raises(BadLines) as refused:
        users.check_import(session=session, text=text)
    assert refused.value.message == "Nothing was imported: 7 lines of the CSV need fixing."
    problems = refused.value.problems
    assert [problem.split(":")[0] for problem in problems] == [f"Line {n}" for n in (3, 5, 6, 7, 8, 9, 11)]
    assert problems[0] == "Line 3: Enter a valid e-mail address."
    assert problems[1] == "Line 5: ok@example.org is also on line 2."
    assert problems[2] == "Line 6: an account with taken@example.org already exists."
    assert "harder to guess" in problems[3]
    assert problems[4] == "Line 8: it has more fields than the header row's 4."
    assert problems[5] == "Line 9: The role must be one of: learner, instructor."
    assert problems[6] == "Line 11: Enter a name (up to 120 characters)."
    assert _count_users(session) == before


def test_a_file_over_the_row_limit_is_refused_whole(session):
    rows = "".join(f"person{number}@example.org,Person {number},,\n" for number in range(4))
    with pytest.raises(InvalidInput, match="The CSV lists 4 accounts; at most 3 are imported at once") as refused:
        users.check_import(session=session, text=HEADER + rows, max_rows=3)
    assert not isinstance(refused.value, BadLines)
    assert len(users.check_import(session=session, text=HEADER + rows, max_rows=4)) == 4


def test_a_line_that_is_not_csv_at_all_is_reported(session):
    text = HEADER + "a@example.org,A,,\n" + 'b@example.org,"' + "x" * 140_000 + '",,\n'
    with pytest.raises(BadLines) as refused:
        users.check_import(session=session, text=text)
    assert refused.value.problems[0].startswith("Line 3: this line cannot be read as CSV")


def test_a_header_alone_lists_no_accounts(session):
    with pytest.raises(InvalidInput, match="lists no accounts"):
        users.check_import(session=session, text=HEADER)


def test_the_runner_hashes_in_the_background_then_stores_every_account(session, runner):
    requester = make_user(session, role="instructor")
    lines = users.check_import(session=session, text=HEADER + "a@example.org,A,,\nb@example.org,B,instructor,\n")
    gate = passwords.gate()
    # Every hashing slot is taken: the import must still be accepted at once, hashing nothing yet.
    for _ in range(gate.slots):
        gate._slots.acquire()
    try:
        row = runner.start(session=session, lines=lines, requested_by=requester)
        started = account_imports.progress(session=session, import_id=row.id)
        assert (started.status, started.hashed, started.total) == ("running", 0, 2)
        assert started.message == "0 of 2 passwords set; the accounts are stored when all are."
        time.sleep(gate.wait_seconds / 10)
        assert _count_users(session) == 1  # nothing is stored before every password is hashed
    finally:
        for _ in range(gate.slots):
            gate._slots.release()
    done = _wait_until_finished(session, row.id)
    assert (done.status, done.hashed, done.message) == ("done", 2, "Done: 2 accounts created.")
    for line in lines:
        assert users.authenticate(session=session, email=line.email, password=line.password).role == line.role
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "account.import")).one()
    assert event.actor_id == requester.id
    assert event.details == {"emails": "a@example.org, b@example.org", "course": "course 1 (Course)"}


def test_an_email_taken_during_the_import_stores_none_of_it(session, runner):
    requester = make_user(session, role="instructor")
    lines = users.check_import(session=session, text=HEADER + "a@example.org,A,,\nb@example.org,B,,\n")
    make_user(session, email="b@example.org")  # after the check, before the accounts are stored
    row = runner.start(session=session, lines=lines, requested_by=requester)
    failed = _wait_until_finished(session, row.id)
    assert failed.status == "failed"
    assert failed.message == "Line 3: an account with b@example.org was created meanwhile. Nothing was imported."
    assert session.exec(select(User).where(User.email == "a@example.org")).first() is None


def test_an_import_that_stopped_moving_reads_as_interrupted(session):
    row = AccountImport(total=5, hashed=2, updated_at=utcnow() - account_imports.INTERRUPTED_AFTER - timedelta(1))
    session.add(row)
    session.commit()
    found = account_imports.progress(session=session, import_id=row.id)
    assert found.finished and found.status == "failed" and "interrupted" in found.message


def test_a_stopping_runner_ends_its_imports_as_interrupted_and_stores_nothing(session, engine):
    requester = make_user(session, role="instructor")
    lines = users.check_import(session=session, text=HEADER + "a@example.org,A,,\n")
    runner = account_imports.ImportRunner(engine)
    gate = passwords.gate()
    for _ in range(gate.slots):
        gate._slots.acquire()
    try:
        row = runner.start(session=session, lines=lines, requested_by=requester)
        stopping = threading.Thread(target=runner.shutdown)
        stopping.start()
        time.sleep(0.2)
    finally:
        for _ in range(gate.slots):
            gate._slots.release()
    stopping.join(timeout=30)
    found = _wait_until_finished(session, row.id)
    assert found.status == "failed" and "interrupted" in found.message
    assert session.exec(select(User).where(User.email == "a@example.org")).first() is None
    with pytest.raises(Overloaded, match="restarting"):
        runner.start(session=session, lines=lines, requested_by=requester)


def test_imports_waiting_behind_one_another_are_bounded(session, engine):
    requester = make_user(session, role="instructor")
    runner = account_imports.ImportRunner(engine, max_waiting=1)
    gate = passwords.gate()
    for _ in range(gate.slots):
        gate._slots.acquire()
    try:
        first = users.check_import(session=session, text=HEADER + "a@example.org,A,,\n")
        second = users.check_import(session=session, text=HEADER + "b@example.org,B,,\n")
        ids = [runner.start(session=session, lines=lines, requested_by=requester).id for lines in (first, second)]
        with pytest.raises(Overloaded, match="Other imports are still being set up"):
            runner.start(session=session, lines=second, requested_by=requester)
    finally:
        for _ in range(gate.slots):
            gate._slots.release()
    assert [_wait_until_finished(session, import_id).status for import_id in ids] == ["done", "done"]
    runner.shutdown()


def test_sign_ins_go_first_while_an_import_hashes(session, engine, real_hashing):
    """With one hashing slot, a sign-in during a long import waits for one hash at most, not for the import."""
    passwords.configure(slots=1, wait_seconds=5.0)
    requester = make_user(session, role="instructor")
    learner = make_user(session)
    learner.password_hash = users.hash_password("a long enough passphrase")
    session.add(learner)
    session.commit()
    rows = "".join(f"bulk{number}@example.org,Bulk {number},,\n" for number in range(40))
    lines = users.check_import(session=session, text=HEADER + rows)
    runner = account_imports.ImportRunner(engine)
    row = runner.start(session=session, lines=lines, requested_by=requester)
    try:
        signed_in = []
        for _ in range(3):
            user = users.authenticate(session=session, email=learner.email, password="a long enough passphrase")
            session.expire_all()
            signed_in.append((user.id, account_imports.progress(session=session, import_id=row.id).status))
        # Each sign-in was answered (no 503 from the gate) while the import was still hashing.
        assert signed_in == [(learner.id, "running")] * 3
    finally:
        runner.shutdown()
        passwords.configure(slots=0, wait_seconds=5.0)


def test_an_email_another_import_is_creating_is_a_wrong_line(session, runner):
    requester = make_user(session, role="instructor")
    text = HEADER + "a@example.org,A,,\nb@example.org,B,,\n"
    gate = passwords.gate()
    for _ in range(gate.slots):
        gate._slots.acquire()
    try:
        row = runner.start(
            session=session,
            lines=account_imports.check(session=session, text=text, max_rows=10),
            requested_by=requester,
        )
        # The same file again (a reloaded page sends it twice) while the first is under way.
        with pytest.raises(BadLines) as refused:
            account_imports.check(session=session, text=text + "c@example.org,C,,\n", max_rows=10)
    finally:
        for _ in range(gate.slots):
            gate._slots.release()
    assert refused.value.problems == [
        "Line 2: a@example.org is being created by another import under way.",
        "Line 3: b@example.org is being created by another import under way.",
    ]
    assert _wait_until_finished(session, row.id).status == "done"
    with pytest.raises(BadLines, match="2 lines") as again:
        account_imports.check(session=session, text=text, max_rows=10)
    assert again.value.problems[0] == "Line 2: an account with a@example.org already exists."
    # An import that stopped moving holds no e-mail back.
    stale = AccountImport(total=1, emails="d@example.org", updated_at=utcnow() - account_imports.INTERRUPTED_AFTER * 2)
    session.add(stale)
    session.commit()
    assert [
        line.email for line in account_imports.check(session=session, text=HEADER + "d@example.org,D,,\n", max_rows=10)
    ] == ["d@example.org"]


def test_an_import_started_as_the_runner_stops_is_ended_at_once(session, engine):
    requester = make_user(session, role="instructor")
    lines = users.check_import(session=session, text=HEADER + "a@example.org,A,,\n")
    runner = account_imports.ImportRunner(engine)
    runner._executor.shutdown()  # the thread is gone, the stop not yet announced
    with pytest.raises(Overloaded, match="restarting"):
        runner.start(session=session, lines=lines, requested_by=requester)
    row = session.exec(select(AccountImport)).one()
    found = account_imports.progress(session=session, import_id=row.id)
    assert found.status == "failed" and "interrupted" in found.message
    # Its e-mails are not held back from the next import.
    assert account_imports.check(session=session, text=HEADER + "a@example.org,A,,\n", max_rows=10)


@pytest.mark.parametrize(
    ("error", "words"),
    [
        (OperationalError("INSERT INTO users", {}, sqlite3.OperationalError("database is locked")), "database is busy"),
        (RuntimeError("a bug"), "Something went wrong on our side while importing"),
    ],
)
def test_an_import_that_cannot_store_its_accounts_says_why_and_stores_none(session, runner, monkeypatch, error, words):
    requester = make_user(session, role="instructor")
    lines = users.check_import(session=session, text=HEADER + "a@example.org,A,,\n")

    def refuse(**_kwargs):
        raise error

    monkeypatch.setattr(users, "add_imported", refuse)
    row = runner.start(session=session, lines=lines, requested_by=requester)
    found = _wait_until_finished(session, row.id)
    assert found.status == "failed" and words in found.message
    assert session.exec(select(User).where(User.email == "a@example.org")).first() is None
