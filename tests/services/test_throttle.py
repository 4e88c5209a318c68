"""Growing delays counted in the database, on SQLite and PostgreSQL alike."""

from __future__ import annotations

from datetime import timedelta

import pytest

from grader.models import utcnow
from grader.services import throttle, users
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
    key = throttle.account_key("quiet@example.org", free=1)
    now = utcnow()
    for _ in range(3):
        throttle.record_failure(session=session, keys=[key], max_delay=60, now=now)
    later = now + throttle.FORGET_AFTER + timedelta(minutes=1)
    throttle.record_failure(session=session, keys=[key], max_delay=60, now=later)
    throttle.check(session=session, keys=[key], message=MESSAGE, now=later)  # one failure again: free


def test_sign_in_is_throttled_per_email_and_a_success_forgets(session, settings):
    user = make_user(session)
    for _ in range(settings.sign_in_free_failures):
        with pytest.raises(AuthenticationFailed):
            users.sign_in(
                session=session, email=user.email, password="wrong", client_address="192.0.2.1", settings=settings
            )
    # The next failure blocks; the blocked attempt is refused before any check of the password.
    with pytest.raises(AuthenticationFailed):
        users.sign_in(
            session=session, email=user.email, password="wrong", client_address="192.0.2.2", settings=settings
        )
    with pytest.raises(RateLimited, match="Too many failed sign-ins"):
        users.sign_in(
            session=session,
            email=user.email.upper(),
            password=DEFAULT_PASSWORD,
            client_address="192.0.2.3",
            settings=settings,
        )
    throttle.forget(session=session, key=throttle.account_key(user.email, free=0))
    assert (
        users.sign_in(
            session=session, email=user.email, password=DEFAULT_PASSWORD, client_address="192.0.2.3", settings=settings
        ).id
        == user.id
    )
