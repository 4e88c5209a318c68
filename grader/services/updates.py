"""Wake-ups inside one process: "submission N changed", sent from any thread, awaited in an event loop.

The grading worker calls ``notify`` when it claims a submission and when it
stores a result; a page's event stream awaits ``wait`` instead of asking the
database over and over. This only reaches waiters in the same process: a web
server whose gradings happen elsewhere still has to look at the database (see
``grader.web.events``), so a missed wake-up only ever delays an update, never
loses one.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Hashable

ANY_SUBMISSION = "any-submission"
"""The key notified for every submission, for pages that follow many (the dashboard)."""


class Changes:
    """Per-key wake-ups: ``notify`` from any thread, ``wait`` from a coroutine."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiters: dict[Hashable, set[tuple[asyncio.AbstractEventLoop, asyncio.Event]]] = {}

    def notify(self, key: Hashable) -> None:
        """Wake everything waiting on ``key``."""
        with self._lock:
            waiters = list(self._waiters.get(key, ()))
        for loop, event in waiters:
            # A closed loop's waiter is gone with it.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(event.set)

    async def wait(self, key: Hashable, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for ``notify(key)``; whether it came."""
        waiter = (asyncio.get_running_loop(), asyncio.Event())
        with self._lock:
            self._waiters.setdefault(key, set()).add(waiter)
        try:
            await asyncio.wait_for(waiter[1].wait(), timeout)
            return True
        except TimeoutError:
            return False
        finally:
            with self._lock:
                remaining = self._waiters.get(key)
                if remaining is not None:
                    remaining.discard(waiter)
                    if not remaining:
                        del self._waiters[key]

    def waiting(self, key: Hashable) -> int:
        """How many waiters ``key`` has now (for tests and diagnostics)."""
        with self._lock:
            return len(self._waiters.get(key, ()))


submission_changes = Changes()
"""Keys: a submission id, and ``ANY_SUBMISSION`` for all of them."""


def submission_changed(submission_id: int) -> None:
    """Say that submission ``submission_id`` changed state (claimed, graded, requeued)."""
    submission_changes.notify(submission_id)
    submission_changes.notify(ANY_SUBMISSION)
