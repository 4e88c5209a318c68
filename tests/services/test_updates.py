"""Wake-ups between processes: a change published on one connection reaches the relays subscribed on others."""

from __future__ import annotations

import asyncio
import threading

import pytest

from grader.services import updates
from grader.services.updates import ANY_SUBMISSION, Announcer, Changes, PostgresBroadcast, RedisBroadcast, Relay


@pytest.fixture(params=["redis", pytest.param("postgresql", marks=pytest.mark.postgres)])
def make_broadcast(request):
    """Makes broadcasts on one channel, each with connections of its own (as separate processes would)."""
    if request.param == "redis":
        url, name = request.getfixturevalue("redis_queue")

        def make() -> updates.Broadcast:
            return RedisBroadcast(url, name=name)
    else:
        url = request.getfixturevalue("postgres_database")()

        def make() -> updates.Broadcast:
            return PostgresBroadcast(url)

    made: list[updates.Broadcast] = []

    def tracked() -> updates.Broadcast:
        made.append(make())
        return made[-1]

    yield tracked
    for broadcast in made:
        broadcast.close()


async def _woken(changes: Changes, key, action, timeout: float = 10) -> bool:
    """Whether ``action()`` (run in a thread once listening) wakes a listener of ``key``."""
    with changes.listen(key) as listener:
        await asyncio.to_thread(action)
        return await listener.wait(timeout)


def test_a_published_change_wakes_the_listeners_of_that_submission_and_of_all(make_broadcast):
    changes = Changes()
    relay = Relay(make_broadcast(), changes)
    relay.start()
    try:
        assert relay.wait_listening(10), "the relay never subscribed"
        publisher = make_broadcast()

        async def scenario() -> tuple[bool, bool, bool]:
            with changes.listen(41) as other, changes.listen(ANY_SUBMISSION) as every:
                mine = await _woken(changes, 42, lambda: publisher.publish(42))
                return mine, await every.wait(5), await other.wait(0.3)

        mine, every, other = asyncio.run(scenario())
        assert (mine, every, other) == (True, True, False)
    finally:
        relay.stop()
    assert not relay.listening


def test_what_is_not_an_id_is_ignored_and_the_relay_keeps_listening(make_broadcast):
    changes = Changes()
    broadcast = make_broadcast()
    relay = Relay(broadcast, changes)
    relay.start()
    try:
        assert relay.wait_listening(10)
        sender = make_broadcast()

        def send_garbage_then_an_id() -> None:
            if isinstance(sender, RedisBroadcast):
                sender._client.publish(sender.channel, "not an id")
            else:
                import psycopg

                with psycopg.connect(sender.url, autocommit=True) as connection:
                    connection.execute("SELECT pg_notify(%s, 'not an id')", (updates.POSTGRES_CHANNEL,))
            sender.publish(7)

        assert asyncio.run(_woken(changes, 7, send_garbage_then_an_id))
        assert relay.listening
    finally:
        relay.stop()


def test_the_announcer_wakes_this_process_and_publishes_for_the_others(make_broadcast):
    received: list[int] = []
    subscribed = threading.Event()
    stop = threading.Event()
    listener = make_broadcast()
    thread = threading.Thread(target=listener.subscribe, args=(received.append, subscribed.set, stop), daemon=True)
    thread.start()
    try:
        assert subscribed.wait(10)
        announce = Announcer(make_broadcast())
        woken = asyncio.run(_woken(updates.submission_changes, 5, lambda: announce(5)))
        assert woken, "the announcement must wake this process's listeners too"
        for _ in range(100):
            if received:
                break
            stop.wait(0.05)
        assert received == [5]
    finally:
        stop.set()
        thread.join(10)


def test_an_unreachable_server_costs_a_warning_not_the_announcement(caplog):
    announce = Announcer(RedisBroadcast("redis://127.0.0.1:1/0", name="nowhere"))
    woken = asyncio.run(_woken(updates.submission_changes, 9, lambda: announce(9)))
    assert woken
    assert "could not tell other processes" in caplog.text
    announce.broadcast.close()


def test_a_relay_that_cannot_subscribe_keeps_trying_and_says_it_is_not_listening():
    relay = Relay(RedisBroadcast("redis://127.0.0.1:1/0", name="nowhere"), Changes())
    relay.start()
    try:
        assert not relay.wait_listening(0.5)
    finally:
        relay.stop()


def test_which_broadcast_a_deployment_uses(tmp_path):
    from tests.conftest import make_settings

    sqlite_only = make_settings(tmp_path)
    assert updates.broadcast_for(sqlite_only) is None
    redis_queue = make_settings(tmp_path, queue_url="redis://127.0.0.1:6379/0", queue_name="course-a")
    broadcast = updates.broadcast_for(redis_queue)
    assert isinstance(broadcast, RedisBroadcast) and broadcast.channel == "course-a:submission-changes"
    broadcast.close()
    postgres = make_settings(tmp_path, database_url="postgresql+psycopg://postgres@127.0.0.1:5432/course")
    broadcast = updates.broadcast_for(postgres)
    assert isinstance(broadcast, PostgresBroadcast) and broadcast.url.startswith("postgresql://")


def test_an_account_change_made_in_one_process_wakes_the_streams_of_another(make_broadcast):
    # The web process where the learner signs out publishes; the relay of another web process
    # hands the change to the waiters of that account only.
    changes = Changes()
    relay = Relay(make_broadcast(), changes)
    relay.start()
    try:
        assert relay.wait_listening(10), "the relay never subscribed"

        async def scenario() -> tuple[frozenset, frozenset, bool]:
            with (
                changes.listen(updates.account_key(3)) as signed_out,
                changes.listen(updates.account_key(4)) as other,
                changes.listen(updates.COURSE) as course,
            ):
                with updates.publishing(make_broadcast()):
                    await asyncio.to_thread(updates.account_changed, 3)
                    await asyncio.to_thread(updates.course_changed)
                return await signed_out.wait_keys(10), await course.wait_keys(10), await other.wait(0.3)

        account_keys, course_keys, other_woken = asyncio.run(scenario())
        assert account_keys == {updates.account_key(3)}
        assert course_keys == {updates.COURSE}
        assert other_woken is False
    finally:
        relay.stop()


def test_keys_travel_as_text_and_nothing_else_is_taken_for_one():
    for key in (17, updates.account_key(5), updates.COURSE):
        assert updates.decode_key(updates.encode_key(key)) == key
    for text in ("", "account:", "account:-1", "user:5", "٣", "1" * 40, "course:1", "account:1:2"):
        assert updates.decode_key(text) is None, text
