"""Wake-ups: "submission N changed", sent from any thread or process, awaited in an event loop.

The grading worker announces a submission when it claims it and when it
stores a result; a page's event stream (or a long-polling API request)
``listen``s and waits for that instead of asking the database over and over.

Inside one process ``submission_changes`` carries the wake-up. Between
processes (``autograder worker`` beside a web server) a ``Broadcast`` does:
Redis pub/sub when the queue is Redis, else PostgreSQL ``LISTEN``/``NOTIFY``
when the database is PostgreSQL (SQLite has neither). The worker ``publish``es
after its commit; each web process runs a ``Relay``, a thread subscribed to
the broadcast that hands what arrives to ``submission_changes``.

A wake-up only says "look again": the database stays the source of truth, and
every waiter still reads it now and then (slowly while wake-ups are known to
arrive, every fraction of a second when they may not), so a lost wake-up only
ever delays an update, never loses one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable, Hashable, Iterator
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from grader.config import Settings

log = logging.getLogger(__name__)

ANY_SUBMISSION = "any-submission"
"""The key notified for every submission, for pages that follow many (the dashboard)."""


class Listener:
    """One waiter's wake-up, registered for as long as it follows a key.

    A notification that arrives while its owner is busy (reading the database) is kept,
    so the next ``wait`` returns at once: nothing slips between a read and a wait.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._event = asyncio.Event()

    def wake(self) -> None:
        """Wake the waiter (from any thread)."""
        # A closed loop's waiter is gone with it.
        with contextlib.suppress(RuntimeError):
            self._loop.call_soon_threadsafe(self._event.set)

    async def wait(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for a wake-up; whether one came (it is used up)."""
        try:
            await asyncio.wait_for(self._event.wait(), timeout)
            return True
        except TimeoutError:
            return False
        finally:
            self._event.clear()


class Changes:
    """Per-key wake-ups: ``notify`` from any thread, ``listen`` from a coroutine."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._listeners: dict[Hashable, set[Listener]] = {}

    def notify(self, key: Hashable) -> None:
        """Wake every listener of ``key``."""
        with self._lock:
            listeners = list(self._listeners.get(key, ()))
        for listener in listeners:
            listener.wake()

    @contextlib.contextmanager
    def listen(self, key: Hashable) -> Iterator[Listener]:
        """A listener of ``key``, registered until the block ends; call it from the event loop."""
        listener = Listener(asyncio.get_running_loop())
        with self._lock:
            self._listeners.setdefault(key, set()).add(listener)
        try:
            yield listener
        finally:
            with self._lock:
                remaining = self._listeners.get(key)
                if remaining is not None:
                    remaining.discard(listener)
                    if not remaining:
                        del self._listeners[key]

    async def wait(self, key: Hashable, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for ``notify(key)``; whether it came.

        Only a notification sent during the wait counts: a loop that reads and then waits
        should ``listen`` for its whole life instead, so nothing slips in between.
        """
        with self.listen(key) as listener:
            return await listener.wait(timeout)

    def notify_all(self) -> None:
        """Wake every listener of every key (after wake-ups may have been missed)."""
        with self._lock:
            listeners = [listener for group in self._listeners.values() for listener in group]
        for listener in listeners:
            listener.wake()

    def waiting(self, key: Hashable) -> int:
        """How many listeners ``key`` has now (for tests and diagnostics)."""
        with self._lock:
            return len(self._listeners.get(key, ()))


submission_changes = Changes()
"""Keys: a submission id, and ``ANY_SUBMISSION`` for all of them."""


def submission_changed(submission_id: int) -> None:
    """Say that submission ``submission_id`` changed state (claimed, graded, requeued)."""
    submission_changes.notify(submission_id)
    submission_changes.notify(ANY_SUBMISSION)


# --- between processes -------------------------------------------------------------------

POSTGRES_CHANNEL = "grader_submission_changes"
RECEIVE_TIMEOUT_SECONDS = 1.0
"""How often a subscriber looks up from its connection to see whether it must stop."""
RECONNECT_SECONDS = 2.0
"""The pause before a relay that lost its connection subscribes again."""


class Broadcast(Protocol):
    """Submission ids sent from one process to every subscribed one."""

    def publish(self, submission_id: int) -> None:
        """Send ``submission_id`` to every subscriber (raises if the server cannot be reached)."""

    def subscribe(self, deliver: Callable[[int], None], subscribed: Callable[[], None], stop: threading.Event) -> None:
        """Call ``subscribed()`` once listening, then ``deliver(id)`` for each id sent, until ``stop`` is set."""

    def close(self) -> None:
        """Let go of the publishing connection."""


class RedisBroadcast:
    """Redis pub/sub on a channel named after the queue (channels are server-wide, not per database)."""

    def __init__(self, url: str, *, name: str) -> None:
        import redis

        self.channel = f"{name}:submission-changes"
        self._client = redis.Redis.from_url(url)

    def publish(self, submission_id: int) -> None:
        """Send ``submission_id`` to every subscriber."""
        self._client.publish(self.channel, str(submission_id))

    def subscribe(self, deliver: Callable[[int], None], subscribed: Callable[[], None], stop: threading.Event) -> None:
        """Listen on the channel until ``stop``; each message is an id."""
        pubsub = self._client.pubsub()  # type: ignore[no-untyped-call]
        try:
            pubsub.subscribe(self.channel)
            while not stop.is_set():
                message = pubsub.get_message(timeout=RECEIVE_TIMEOUT_SECONDS)
                if message is None:
                    continue
                # The server confirms the subscription with a message of its own: from then on nothing is missed.
                if message["type"] == "subscribe":
                    subscribed()
                elif message["type"] == "message":
                    _deliver_text(deliver, message["data"])
        finally:
            pubsub.close()

    def close(self) -> None:
        """Let go of the client's connections."""
        self._client.close()


class PostgresBroadcast:
    """PostgreSQL ``NOTIFY`` on one channel of the database (notifications stay within a database)."""

    def __init__(self, url: str) -> None:
        from sqlalchemy.engine import make_url

        # psycopg speaks libpq URLs: no SQLAlchemy driver suffix.
        self.url = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        self._lock = threading.Lock()
        self._connection: Any = None

    def publish(self, submission_id: int) -> None:
        """Send ``submission_id`` to every subscriber (one connection, kept open, shared by the threads)."""
        import psycopg

        with self._lock:
            try:
                if self._connection is None or self._connection.closed:
                    self._connection = psycopg.connect(self.url, autocommit=True)
                self._connection.execute("SELECT pg_notify(%s, %s)", (POSTGRES_CHANNEL, str(submission_id)))
            except psycopg.Error:
                self._drop()
                raise

    def subscribe(self, deliver: Callable[[int], None], subscribed: Callable[[], None], stop: threading.Event) -> None:
        """``LISTEN`` on a connection of its own until ``stop``; each payload is an id."""
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as connection:
            connection.execute(f"LISTEN {POSTGRES_CHANNEL}")
            subscribed()
            while not stop.is_set():
                for notification in connection.notifies(timeout=RECEIVE_TIMEOUT_SECONDS):
                    _deliver_text(deliver, notification.payload)
                    if stop.is_set():
                        break

    def close(self) -> None:
        """Close the publishing connection."""
        with self._lock:
            self._drop()

    def _drop(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(Exception):
                self._connection.close()
            self._connection = None


def _deliver_text(deliver: Callable[[int], None], data: bytes | str) -> None:
    text = data.decode() if isinstance(data, bytes) else data
    try:
        submission_id = int(text)
    except ValueError:
        log.warning("ignored a submission change that is not an id: %r", text[:100])
        return
    deliver(submission_id)


def broadcast_for(settings: Settings) -> Broadcast | None:
    """The broadcast between this deployment's processes: Redis if the queue is, else PostgreSQL, else none."""
    queue_url = settings.effective_queue_url
    if queue_url.startswith(("redis://", "rediss://", "unix://")):
        return RedisBroadcast(queue_url, name=settings.queue_name)
    if settings.effective_database_url.startswith(("postgresql", "postgres://")):
        return PostgresBroadcast(settings.effective_database_url)
    return None


class Announcer:
    """What the grading worker calls when a submission changes: wakes this process, then the others."""

    def __init__(self, broadcast: Broadcast | None) -> None:
        self.broadcast = broadcast

    def __call__(self, submission_id: int) -> None:
        submission_changed(submission_id)
        if self.broadcast is None:
            return
        try:
            self.broadcast.publish(submission_id)
        except Exception:  # noqa: BLE001 - the result is stored; the pages will see it when they next look
            log.warning("could not tell other processes that submission %s changed", submission_id, exc_info=True)


class Relay:
    """A thread handing a broadcast's ids to ``submission_changes`` in this process, reconnecting when cut off.

    ``listening`` says whether wake-ups from other processes arrive now; waiters that find it
    false read the database often. Each (re)subscription wakes every waiter once, so what
    changed while nobody listened is read at once.
    """

    def __init__(self, broadcast: Broadcast, changes: Changes | None = None) -> None:
        self.broadcast = broadcast
        self.changes = changes or submission_changes
        self._stop = threading.Event()
        self._listening = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def listening(self) -> bool:
        """Whether the subscription is up."""
        return self._listening.is_set()

    def start(self) -> None:
        """Subscribe in a background thread; ``wait_listening`` tells when it is up."""
        self._thread = threading.Thread(target=self._run, name="submission-changes-relay", daemon=True)
        self._thread.start()

    def wait_listening(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for the subscription; whether it is up."""
        return self._listening.wait(timeout)

    def stop(self) -> None:
        """Unsubscribe and end the thread (within about a second)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=RECEIVE_TIMEOUT_SECONDS * 5)
        self.broadcast.close()

    def _deliver(self, submission_id: int) -> None:
        self.changes.notify(submission_id)
        self.changes.notify(ANY_SUBMISSION)

    def _subscribed(self) -> None:
        self._listening.set()
        self.changes.notify_all()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.broadcast.subscribe(self._deliver, self._subscribed, self._stop)
            except Exception:  # noqa: BLE001 - the server is away: poll meanwhile, subscribe again
                if not self._stop.is_set():
                    log.warning("lost the submission-change subscription; retrying", exc_info=True)
            self._listening.clear()
            self._stop.wait(RECONNECT_SECONDS)
