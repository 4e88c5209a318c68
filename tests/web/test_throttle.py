"""Sign-in, tokens and sign-up meet growing delays after repeated failures, counted in the database."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from grader.models import Throttle, User, utcnow
from grader.services import passwords
from grader.web.app import create_app
from tests.factories import DEFAULT_PASSWORD

from .conftest import Browser

FREE = 5  # settings.sign_in_free_failures by default


def _form_sign_in(browser: Browser, email: str, password: str):
    token = browser.token_for("/login")
    return browser.client.post(
        "/login", data={"email": email, "password": password, "csrf_token": token}, follow_redirects=False
    )


def _token(client: TestClient, email: str, password: str):
    return client.post("/api/v1/token", data={"username": email, "password": password})


def _unblock(session) -> None:
    """Let every blocked key try again now (as if its wait had passed)."""
    session.expire_all()
    for row in session.exec(select(Throttle)):
        row.blocked_until = utcnow() - timedelta(seconds=1)
        session.add(row)
    session.commit()


def _account_wait(session) -> float:
    session.expire_all()
    rows = [row for row in session.exec(select(Throttle)) if ":pair:" in row.key]
    assert len(rows) == 1
    return (rows[0].blocked_until - utcnow()).total_seconds()


def _address_wait(session, address: str) -> float:
    session.expire_all()
    row = session.get(Throttle, f"sign-in:address:{address}")
    assert row is not None and row.blocked_until is not None
    return (row.blocked_until - utcnow()).total_seconds()


def test_wrong_passwords_on_the_form_meet_growing_delays(anonymous, learner, synced):
    statuses = [_form_sign_in(anonymous, learner.email, "wrong password").status_code for _ in range(FREE + 1)]
    assert statuses == [401] * (FREE + 1)

    refused = _form_sign_in(anonymous, learner.email, "wrong password")
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) >= 1
    assert "Too many failed sign-ins. Wait 1 second before trying again." in refused.text
    assert 'role="alert"' in refused.text
    # While blocked, even the right password is not looked at.
    assert _form_sign_in(anonymous, learner.email, DEFAULT_PASSWORD).status_code == 429

    waits = []
    for _ in range(3):
        _unblock(synced)
        assert _form_sign_in(anonymous, learner.email, "wrong password").status_code == 401
        waits.append(_account_wait(synced))
    assert [round(wait) for wait in waits] == [2, 4, 8]

    _unblock(synced)
    assert _form_sign_in(anonymous, learner.email, DEFAULT_PASSWORD).status_code == 303
    synced.expire_all()
    assert not [row for row in synced.exec(select(Throttle)) if ":pair:" in row.key]


def _client_at(app, address: str) -> TestClient:
    """A client whose requests come from ``address``."""
    return TestClient(app, client=(address, 50000))


def test_a_stranger_cannot_lock_the_instructor_out(app, instructor, synced):
    stranger = _client_at(app, "203.0.113.66")
    for _ in range(FREE + 3):
        assert _token(stranger, instructor.email, "guess").status_code in (401, 429)
    refused = _token(stranger, instructor.email, DEFAULT_PASSWORD)
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) >= 1
    # The instructor, from an address that has not been failing, signs in on the page and gets a token.
    owner = Browser(_client_at(app, "192.0.2.10"))
    assert _form_sign_in(owner, instructor.email, DEFAULT_PASSWORD).status_code == 303
    assert _token(owner.client, instructor.email, DEFAULT_PASSWORD).status_code == 200
    assert _token(stranger, instructor.email, DEFAULT_PASSWORD).status_code == 429


def test_a_classroom_is_not_locked_out_by_a_neighbour(app, settings, learner, other_learner, synced):
    classroom = "198.51.100.20"
    ada = Browser(_client_at(app, classroom))
    assert _form_sign_in(ada, learner.email, DEFAULT_PASSWORD).status_code == 303
    # A neighbour fails far past the address's ceiling, at accounts of others and at made-up ones.
    # (Each time the address is made to wait, the wait is skipped, so the delays keep growing.)
    neighbour = _client_at(app, classroom)
    failures = 0
    while failures < settings.sign_in_free_failures_per_address + 5:
        target = other_learner.email if failures % 2 else f"someone{failures}@example.org"
        status = _token(neighbour, target, "guess").status_code
        failures += status == 401
        if status == 429:
            _unblock(synced)
    assert _address_wait(synced, classroom) >= 8
    # Ada signed in from this classroom before: she still signs in, on the page and for a token.
    again = Browser(_client_at(app, classroom))
    assert _form_sign_in(again, learner.email, DEFAULT_PASSWORD).status_code == 303
    assert _token(again.client, learner.email, DEFAULT_PASSWORD).status_code == 200
    # Someone new to this address waits, and is told it is the network's failures.
    newcomer = _form_sign_in(Browser(_client_at(app, classroom)), "new@example.org", "whatever it is")
    assert newcomer.status_code == 429
    assert "Too many failed sign-ins from this network." in newcomer.text
    assert int(newcomer.headers["retry-after"]) >= 1


def test_the_token_endpoint_shares_the_count_with_the_form(client, anonymous, learner):
    for _ in range(FREE + 1):
        assert _token(client, learner.email, "wrong").status_code == 401
    refused = _token(client, learner.email, DEFAULT_PASSWORD)
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) >= 1
    assert refused.json()["detail"].startswith("Too many failed sign-ins")
    assert _form_sign_in(anonymous, learner.email, DEFAULT_PASSWORD).status_code == 429


def test_an_unknown_email_is_throttled_exactly_like_a_known_one(client, learner):
    def run(email: str) -> list[tuple[int, str]]:
        results = []
        for _ in range(FREE + 2):
            response = _token(client, email, "wrong")
            results.append((response.status_code, response.json()["detail"]))
        return results

    assert run(learner.email) == run("nobody@example.org")


def test_many_emails_from_one_address_are_throttled_together(settings, engine, synced, learner):
    app = create_app(settings.model_copy(update={"sign_in_free_failures_per_address": 3}), engine=engine)
    client = TestClient(app)
    for number in range(4):
        assert _token(client, f"guess{number}@example.org", "wrong").status_code == 401
    # A fresh e-mail, even the right credentials: this address must wait.
    assert _token(client, learner.email, DEFAULT_PASSWORD).status_code == 429


def test_the_count_is_shared_by_two_web_processes(settings, engine, synced, learner):
    first, second = (TestClient(create_app(settings, engine=engine)) for _ in range(2))
    for client in [first, second] * 3:
        assert _token(client, learner.email, "wrong").status_code == 401
    assert _token(second, learner.email, "wrong").status_code == 429


def _sign_up(browser: Browser, **fields):
    data = {"email": "new@example.org", "display_name": "New", "password": "long enough pw", "join_code": "JOIN-ME"}
    return browser.post_form("/signup", {**data, **fields}, page="/signup")


def test_join_code_guesses_meet_growing_delays(anonymous, synced):
    for number in range(FREE + 1):
        assert _sign_up(anonymous, join_code=f"guess-{number}").status_code == 422
    refused = _sign_up(anonymous)  # even the right code, now
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) >= 1
    assert "Too many wrong join codes from here" in refused.text
    assert 'name="join_code"' in refused.text
    synced.expire_all()
    assert synced.exec(select(User).where(User.email == "new@example.org")).first() is None
    _unblock(synced)
    assert _sign_up(anonymous).status_code == 303


def test_a_flood_of_token_requests_is_bounded_by_the_hashing_slots(settings, engine, synced, real_hashing):
    app = create_app(
        settings.model_copy(update={"password_hash_slots": 1, "password_hash_wait_seconds": 0.5}), engine=engine
    )
    gate = passwords.gate()
    racers = 24
    barrier = threading.Barrier(racers, timeout=30)
    responses: list = [None] * racers

    def flood(index: int) -> None:
        client = TestClient(app)
        barrier.wait()
        responses[index] = _token(client, f"unknown{index}@example.org", "whatever")

    threads = [threading.Thread(target=flood, args=(index,)) for index in range(racers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    statuses = [response.status_code for response in responses]
    assert set(statuses) <= {401, 503}, statuses
    assert 503 in statuses and 401 in statuses
    busy = next(response for response in responses if response.status_code == 503)
    assert int(busy.headers["retry-after"]) >= 1
    assert "busy" in busy.json()["detail"]
    assert gate.peak == 1
    assert gate.total == statuses.count(401)


@pytest.mark.parametrize("known", [True, False])
def test_a_failed_sign_in_costs_one_hash_whether_or_not_the_account_exists(client, learner, known):
    gate = passwords.gate()
    before = gate.total
    assert _token(client, learner.email if known else "nobody@example.org", "wrong").status_code == 401
    assert gate.total == before + 1


def test_stale_keys_are_purged_and_blocked_ones_kept(synced):
    from grader.services import throttle

    now = utcnow()
    old = now - throttle.FORGET_AFTER - timedelta(minutes=1)
    synced.add(Throttle(key="sign-in:address:stale", failures=3, last_failure_at=old))
    synced.add(
        Throttle(
            key="sign-in:address:blocked", failures=40, last_failure_at=old, blocked_until=now + timedelta(minutes=5)
        )
    )
    synced.add(Throttle(key="sign-in:address:recent", failures=1, last_failure_at=now))
    synced.commit()
    assert throttle.purge_stale(session=synced, now=now) == 1
    synced.expire_all()
    assert sorted(row.key for row in synced.exec(select(Throttle))) == [
        "sign-in:address:blocked",
        "sign-in:address:recent",
    ]
