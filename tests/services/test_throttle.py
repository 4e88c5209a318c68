"""Growing delays counted in the database, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import sqlite3
from datetime import timedelta

import pytest
from sqlalchemy.exc import OperationalError
from sqlmodel import select, update

from grader.models import KnownSignIn, Throttle, utcnow
from grader.services import passwords, throttle, users
from grader.services.errors import AuthenticationFailed, RateLimited
from tests.factories import DEFAULT_PASSWORD, make_user

MESSAGE = "Wait {wait}."


def test_failures_past_the_free_ones_block_for_twice_as_long_each_time(session):
    key = throttle.address_key("203.0.113.7", free=2)
    now = utcnow()
    for _ in range(2):
        throttle.record_failure(session=session, keys=[key], max_delay=60, now=now)
        throttle.check(session=session, keys=[key], message=MESSAGE, now=now)
    waits = []
    for step in range(8):
        moment = now + timedelta(hours=0, seconds=200 * step)
        throttle.record_failure(session=session, keys=[key], max_delay=60, now=moment)
        with pytest.raises(RateLimited) as blocked:
            throttle.check(session=session, keys=[key], message=MESSAGE, now=moment)
        waits.append(blocked.value.retry_after)
    assert waits == [1, 2, 4, 8, 16, 32, 60, 60]


def test_an_hour_without_failures_starts_the_count_again(session):
    key = throttle.pair_key("quiet@example.org", "198.51.100.4", free=1)
    now = utcnow()
    for _ in range(3):
        throttle.record_failure(session=session, keys=[key], max_delay=60, now=now)
    later = now + throttle.FORGET_AFTER + timedelta(minutes=1)
    throttle.record_failure(session=session, keys=[key], max_delay=60, now=later)
    throttle.check(session=session, keys=[key], message=MESSAGE, now=later)  # one failure again: free


STRANGER = "203.0.113.66"
OWNER = "192.0.2.10"
CLASSROOM = "198.51.100.20"


def _sign_in(session, settings, email: str, password: str, address: str):
    return users.sign_in(session=session, email=email, password=password, client_address=address, settings=settings)


def _fail(session, settings, email: str, address: str, times: int) -> None:
    for _ in range(times):
        with pytest.raises(AuthenticationFailed):
            _sign_in(session, settings, email, "wrong password", address)


def _unblock(session) -> None:
    """Let every blocked key try again now (as if its wait had passed)."""
    session.execute(update(Throttle).values(blocked_until=utcnow() - timedelta(seconds=1)))
    session.commit()


def test_a_stranger_cannot_keep_the_owner_out(session, settings):
    owner = make_user(session, role="instructor")
    _fail(session, settings, owner.email, STRANGER, settings.sign_in_free_failures + 1)
    # Blocked from the stranger's address, even with the right password, before any hashing.
    gate = passwords.gate()
    before = gate.total
    with pytest.raises(RateLimited, match="Too many failed sign-ins. Wait"):
        _sign_in(session, settings, owner.email.upper(), DEFAULT_PASSWORD, STRANGER)
    assert gate.total == before
    # The owner, from an address that has not been failing, signs in at once.
    assert _sign_in(session, settings, owner.email, DEFAULT_PASSWORD, OWNER).id == owner.id
    # The owner's success forgets the owner's pair only: the stranger stays blocked.
    with pytest.raises(RateLimited):
        _sign_in(session, settings, owner.email, "another guess", STRANGER)


def test_the_stranger_keeps_meeting_growing_delays_while_the_owner_signs_in(session, settings):
    owner = make_user(session)
    _fail(session, settings, owner.email, STRANGER, settings.sign_in_free_failures)
    waits = []
    for _ in range(4):
        _fail(session, settings, owner.email, STRANGER, 1)
        with pytest.raises(RateLimited) as blocked:
            _sign_in(session, settings, owner.email, DEFAULT_PASSWORD, STRANGER)
        waits.append(blocked.value.retry_after)
        assert _sign_in(session, settings, owner.email, DEFAULT_PASSWORD, OWNER).id == owner.id
        _unblock(session)
    assert waits == [1, 2, 4, 8]


def test_failures_at_one_email_hold_back_only_that_email_from_that_address(session, settings):
    first, second = make_user(session), make_user(session)
    _fail(session, settings, first.email, CLASSROOM, settings.sign_in_free_failures + 1)
    with pytest.raises(RateLimited):
        _sign_in(session, settings, first.email, DEFAULT_PASSWORD, CLASSROOM)
    # A neighbour behind the same address signs in to another account.
    assert _sign_in(session, settings, second.email, DEFAULT_PASSWORD, CLASSROOM).id == second.id


def test_the_address_ceiling_holds_back_only_emails_not_known_there(session, settings):
    settings = settings.model_copy(update={"sign_in_free_failures_per_address": 3})
    regular, newcomer = make_user(session), make_user(session)
    assert _sign_in(session, settings, regular.email, DEFAULT_PASSWORD, CLASSROOM).id == regular.id
    # A neighbour guesses at many accounts from the classroom's address, past its ceiling.
    for number in range(4):
        _fail(session, settings, f"guess{number}@example.org", CLASSROOM, 1)
    # Someone who signed in from here lately is not held back by the neighbour's failures.
    assert _sign_in(session, settings, regular.email, DEFAULT_PASSWORD, CLASSROOM).id == regular.id
    # An e-mail never used from here waits, with words that say why; from elsewhere it signs in.
    with pytest.raises(RateLimited, match="from this network"):
        _sign_in(session, settings, newcomer.email, DEFAULT_PASSWORD, CLASSROOM)
    assert _sign_in(session, settings, newcomer.email, DEFAULT_PASSWORD, OWNER).id == newcomer.id
    with pytest.raises(RateLimited, match="from this network"):
        _sign_in(session, settings, "another-guess@example.org", "wrong", CLASSROOM)


def test_a_known_email_still_meets_its_own_pair_limit(session, settings):
    settings = settings.model_copy(update={"sign_in_free_failures_per_address": 3})
    learner = make_user(session)
    _sign_in(session, settings, learner.email, DEFAULT_PASSWORD, CLASSROOM)
    # Guessing at a known e-mail is not let past the pair's own growing delays.
    _fail(session, settings, learner.email, CLASSROOM, settings.sign_in_free_failures + 1)
    with pytest.raises(RateLimited, match="Too many failed sign-ins. Wait"):
        _sign_in(session, settings, learner.email, "one more guess", CLASSROOM)


def test_signing_in_to_ones_own_account_does_not_reset_the_address_ceiling(session, settings):
    settings = settings.model_copy(update={"sign_in_free_failures_per_address": 3})
    own = make_user(session)
    for number in range(3):
        _fail(session, settings, f"victim{number}@example.org", STRANGER, 1)
        assert _sign_in(session, settings, own.email, DEFAULT_PASSWORD, STRANGER).id == own.id
    _fail(session, settings, "victim9@example.org", STRANGER, 1)
    with pytest.raises(RateLimited, match="from this network"):
        _sign_in(session, settings, "victim10@example.org", "guess", STRANGER)


def test_a_known_sign_in_is_forgotten_after_the_days_set(session, settings):
    learner = make_user(session)
    known_for = timedelta(days=settings.sign_in_known_days)
    now = utcnow()
    throttle.remember(session=session, email=learner.email, address=CLASSROOM, known_for=known_for, now=now)
    assert throttle.is_known(session=session, email=learner.email.upper(), address=CLASSROOM, known_for=known_for)
    assert not throttle.is_known(session=session, email=learner.email, address=OWNER, known_for=known_for)
    later = now + known_for + timedelta(minutes=1)
    assert not throttle.is_known(
        session=session, email=learner.email, address=CLASSROOM, known_for=known_for, now=later
    )


def test_nothing_readable_is_stored_about_who_tried_what(session, settings):
    learner = make_user(session)
    _fail(session, settings, learner.email, STRANGER, 2)
    _sign_in(session, settings, learner.email, DEFAULT_PASSWORD, OWNER)
    stored = [row.key for row in session.exec(select(Throttle))] + [
        row.key for row in session.exec(select(KnownSignIn))
    ]
    assert stored and not [key for key in stored if learner.email in key or "example.org" in key or OWNER in key]


@pytest.mark.parametrize(
    ("address", "counted_as"),
    [
        ("192.0.2.7", "192.0.2.7"),
        ("2001:db8:1:2:aaaa:bbbb:cccc:dddd", "2001:db8:1:2::/64"),
        ("2001:db8:1:2::1", "2001:db8:1:2::/64"),
        ("::ffff:192.0.2.7", "192.0.2.7"),
        (None, "unknown"),
        ("testclient", "testclient"),
    ],
)
def test_an_ipv6_client_is_counted_by_its_network(address, counted_as):
    assert throttle.network(address) == counted_as


def test_a_right_password_signs_in_when_its_success_cannot_be_noted(session, settings, monkeypatch):
    learner = make_user(session)

    def locked(**_kwargs):
        # What SQLAlchemy raises when SQLite's busy timeout passes.
        raise OperationalError("INSERT INTO known_sign_ins", {}, sqlite3.OperationalError("database is locked"))

    monkeypatch.setattr(throttle, "remember", locked)
    assert _sign_in(session, settings, learner.email, DEFAULT_PASSWORD, OWNER).id == learner.id
    monkeypatch.setattr(throttle, "remember", lambda **_kwargs: (_ for _ in ()).throw(RuntimeError("a bug")))
    with pytest.raises(RuntimeError):
        _sign_in(session, settings, learner.email, DEFAULT_PASSWORD, OWNER)
