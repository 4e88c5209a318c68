"""Wake-ups inside one process: "submission N changed", sent from any thread, awaited in an event loop.

The grading worker calls ``notify`` when it claims a submission and when it
stores a result; a page's event stream ``listen``s and waits for that instead
of asking the database over and over. This only reaches waiters in the same process: a web
server whose gradings happen elsewhere still has to look at the database (see
``grader.web.events``), so a missed wake-up only ever delays an update, never
loses one.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Hashable, Iterator

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
