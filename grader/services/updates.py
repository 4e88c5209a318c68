"""Wake-ups: "submission N changed", "account N changed", sent from any thread or process, awaited in an event loop.

The grading worker announces a submission when it claims it and when it
stores a result; a quiz attempt announces ``COURSE``; signing out, a password
change and revoking tokens announce the account (``account_key``). A page's
event stream (or a long-polling API request) ``listen``s and waits for those
instead of asking the database over and over: while nothing changes, it reads
nothing but its own credentials (see ``grader.web.events``).

Inside one process ``submission_changes`` carries the wake-up. Between
processes (``autograder worker`` beside a web server) a ``Broadcast`` does:
Redis pub/sub when the queue is Redis, else PostgreSQL ``LISTEN``/``NOTIFY``
when the database is PostgreSQL (SQLite has neither). The worker ``publish``es
after its commit; each web process runs a ``Relay``, a thread subscribed to
the broadcast that hands what arrives to ``submission_changes``.

A wake-up only says "look again": the database stays the source of truth.
Where wake-ups from other processes may not arrive (SQLite without the
embedded worker, or a relay whose subscription is down), one ``DatabaseWatch``
per process reads a few counters of the database every fraction of a second
and wakes every waiter when they move, so a lost wake-up only ever delays an
update, never loses one, and the waiters never poll one by one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable, Hashable, Iterator
from typing import TYPE_CHECKING, Any, Protocol

from sqlmodel import Session, col, func, select

from grader.models import ChangeSequence, Submission

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from grader.config import Settings

log = logging.getLogger(__name__)

ANY_SUBMISSION = "any-submission"
"""The key notified for every submission, for pages that follow many (the dashboard)."""
COURSE = "course"
"""The key notified for the other changes the dashboard shows (quiz attempts)."""
EVERYTHING = "everything"
"""What a listener is told when every listener was woken at once (wake-ups may have been missed)."""

AccountKey = tuple[str, int]


def account_key(user_id: int) -> AccountKey:
    """The key notified when an account's sessions, tokens, password or role change."""
    return ("account", user_id)


class Listener:
    """One waiter's wake-up, registered for as long as it follows a key.

    A notification that arrives while its owner is busy (reading the database) is kept,
    so the next ``wait`` returns at once: nothing slips between a read and a wait.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._event = asyncio.Event()
        self._keys: set[Hashable] = set()

    def wake(self, key: Hashable = EVERYTHING) -> None:
        """Wake the waiter (from any thread), saying which key changed."""
        # A closed loop's waiter is gone with it.
        with contextlib.suppress(RuntimeError):
            self._loop.call_soon_threadsafe(self._woken, key)

    def _woken(self, key: Hashable) -> None:
        self._keys.add(key)
        self._event.set()

    async def wait(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for a wake-up; whether one came (it is used up)."""
        return bool(await self.wait_keys(timeout))

    async def wait_keys(self, timeout: float) -> frozenset[Hashable]:
        """Wait up to ``timeout`` seconds for wake-ups; the keys that changed since the last wait (used up).

        ``EVERYTHING`` among them means any key may have changed.
        """
        if not self._event.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._event.wait(), max(timeout, 0))
        keys = frozenset(self._keys)
        self._keys.clear()
        self._event.clear()
        return keys


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
            listener.wake(key)

    @contextlib.contextmanager
    def listen(self, *keys: Hashable) -> Iterator[Listener]:
        """One listener of every key in ``keys``, registered until the block ends; call it from the event loop."""
        listener = Listener(asyncio.get_running_loop())
        with self._lock:
            for key in keys:
                self._listeners.setdefault(key, set()).add(listener)
        try:
            yield listener
        finally:
            with self._lock:
                for key in keys:
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
            listeners = {listener for group in self._listeners.values() for listener in group}
        for listener in listeners:
            listener.wake(EVERYTHING)

    def waiting(self, key: Hashable) -> int:
        """How many listeners ``key`` has now (for tests and diagnostics)."""
        with self._lock:
            return len(self._listeners.get(key, ()))

    def listened(self) -> bool:
        """Whether anyone listens to anything now."""
        with self._lock:
            return bool(self._listeners)


submission_changes = Changes()
"""Keys: a submission id, ``ANY_SUBMISSION`` for all of them, ``COURSE`` and ``account_key(id)``."""


def submission_changed(submission_id: int) -> None:
    """Say that submission ``submission_id`` changed state (claimed, graded, requeued)."""
    submission_changes.notify(submission_id)
    submission_changes.notify(ANY_SUBMISSION)


def account_changed(user_id: int) -> None:
    """Say, here and to the other processes, that an account's sessions, tokens, password or role changed."""
    _announce(account_key(user_id))


def course_changed() -> None:
    """Say, here and to the other processes, that something the dashboard shows changed (a quiz attempt)."""
    _announce(COURSE)


def _announce(key: Hashable) -> None:
    submission_changes.notify(key)
    publisher = _publisher
    if publisher is None:
        return
    try:
        publisher.publish(encode_key(key))
    except Exception:  # noqa: BLE001 - the change is stored; the other processes' waiters check again soon
        log.warning("could not tell other processes that %s changed", key, exc_info=True)


_publisher: Broadcast | None = None


@contextlib.contextmanager
def publishing(broadcast: Broadcast | None) -> Iterator[None]:
    """Send this process's account and course changes on ``broadcast`` while the block runs (a web process's life)."""
    global _publisher  # noqa: PLW0603 - one broadcast per process, like ``submission_changes``
    previous, _publisher = _publisher, broadcast
    try:
        yield
    finally:
        _publisher = previous


def encode_key(key: Hashable) -> str:
    """A key as the text a broadcast carries: a submission id, ``account:N`` or ``course``."""
    if isinstance(key, int):
        return str(key)
    if isinstance(key, tuple) and len(key) == 2 and key[0] == "account":
        return f"account:{key[1]}"
    if key == COURSE:
        return COURSE
    raise ValueError(f"not a key other processes know: {key!r}")


def decode_key(text: str) -> Hashable | None:
    """The key a broadcast's text names, or None for text that names none."""
    if text == COURSE:
        return COURSE
    kind, _, number = text.rpartition(":")
    if kind not in ("", "account") or not number.isascii() or not number.isdigit() or len(number) > 19:
        return None
    return int(number) if kind == "" else account_key(int(number))


# --- between processes -------------------------------------------------------------------

POSTGRES_CHANNEL = "grader_submission_changes"
RECEIVE_TIMEOUT_SECONDS = 1.0
"""How often a subscriber looks up from its connection to see whether it must stop."""
RECONNECT_SECONDS = 2.0
"""The pause before a relay that lost its connection subscribes again."""


class Broadcast(Protocol):
    """Changes (a submission id, or a key's text, see ``encode_key``) sent from one process to every subscribed one."""

    def publish(self, change: int | str) -> None:
        """Send ``change`` to every subscriber (raises if the server cannot be reached)."""

    def subscribe(
        self, deliver: Callable[[Hashable], None], subscribed: Callable[[], None], stop: threading.Event
    ) -> None:
        """Call ``subscribed()`` once listening, then ``deliver(key)`` for each change sent, until ``stop`` is set."""

    def close(self) -> None:
        """Let go of the publishing connection."""


class RedisBroadcast:
    """Redis pub/sub on a channel named after the queue (channels are server-wide, not per database)."""

    def __init__(self, url: str, *, name: str) -> None:
        import redis

        self.channel = f"{name}:submission-changes"
        self._client = redis.Redis.from_url(url)

    def publish(self, change: int | str) -> None:
        """Send ``change`` to every subscriber."""
        self._client.publish(self.channel, str(change))

    def subscribe(
        self, deliver: Callable[[Hashable], None], subscribed: Callable[[], None], stop: threading.Event
    ) -> None:
        """Listen on the channel until ``stop``; each message is a change."""
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

    def publish(self, change: int | str) -> None:
        """Send ``change`` to every subscriber (one connection, kept open, shared by the threads)."""
        import psycopg

        with self._lock:
            try:
                if self._connection is None or self._connection.closed:
                    self._connection = psycopg.connect(self.url, autocommit=True)
                self._connection.execute("SELECT pg_notify(%s, %s)", (POSTGRES_CHANNEL, str(change)))
            except psycopg.Error:
                self._drop()
                raise

    def subscribe(
        self, deliver: Callable[[Hashable], None], subscribed: Callable[[], None], stop: threading.Event
    ) -> None:
        """``LISTEN`` on a connection of its own until ``stop``; each payload is a change."""
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


def _deliver_text(deliver: Callable[[Hashable], None], data: bytes | str) -> None:
    text = data.decode(errors="replace") if isinstance(data, bytes) else data
    key = decode_key(text)
    if key is None:
        log.warning("ignored a change that names no submission or account: %r", text[:100])
        return
    deliver(key)


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

    def _deliver(self, key: Hashable) -> None:
        self.changes.notify(key)
        if isinstance(key, int):
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


# --- where wake-ups may be missed ------------------------------------------------------------

WATCH_SECONDS = 0.25
"""How often a ``DatabaseWatch`` reads the counters while wake-ups from other processes may be missed."""


def change_counters(session: Session) -> tuple[int, int, int, int]:
    """What moves whenever a submission or a dashboard changes: the courses' change numbers added up, the
    queued and running counts and the newest submission id (small reads of an index or a table, in one statement)."""
    latest_change = select(func.sum(col(ChangeSequence.value))).scalar_subquery()
    queued = select(func.count()).select_from(Submission).where(col(Submission.status) == "queued").scalar_subquery()
    running = select(func.count()).select_from(Submission).where(col(Submission.status) == "running").scalar_subquery()
    newest = select(func.max(Submission.id)).scalar_subquery()
    row = session.exec(select(latest_change, queued, running, newest)).one()
    return (row[0] or 0, row[1] or 0, row[2] or 0, row[3] or 0)


class DatabaseWatch:
    """One reader per process standing in for wake-ups that may not arrive: every waiter is woken when
    ``change_counters`` move, so no waiter reads the database on its own while nothing changed.

    It reads only while ``covered()`` is false (no embedded worker on SQLite, or the relay's
    subscription down) and someone listens.
    """

    def __init__(self, engine: Engine, covered: Callable[[], bool], changes: Changes | None = None) -> None:
        self.engine = engine
        self.covered = covered
        self.changes = changes or submission_changes
        self.reads = 0

    def read(self) -> tuple[int, int, int, int]:
        """The counters now (a blocking read)."""
        self.reads += 1
        with Session(self.engine) as session:
            return change_counters(session)

    async def run(self, *, seconds: float = WATCH_SECONDS) -> None:
        """Watch until cancelled."""
        import anyio.to_thread

        last: tuple[int, int, int, int] | None = None
        while True:
            await asyncio.sleep(seconds)
            if self.covered() or not self.changes.listened():
                # Wake-ups arrive (or nobody waits): the next uncovered read starts afresh.
                last = None
                continue
            try:
                counters = await anyio.to_thread.run_sync(self.read)
            except Exception:  # noqa: BLE001 - the database is away: the waiters keep what they have
                log.warning("could not read the change counters", exc_info=True)
                continue
            # The first read after a covered spell cannot tell what moved meanwhile: everyone looks again.
            if counters != last:
                self.changes.notify_all()
            last = counters
