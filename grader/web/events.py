"""Server-Sent Events: push a page's updates down one long-lived response.

``stream`` turns a ``watch`` loop into a ``text/event-stream`` response. The
loop is bounded: it ends when the thing watched is finished, when the client
goes away, or after ``max_seconds`` (the browser's EventSource then reconnects
by itself if the page still wants updates). While it waits it holds no
database session: each look at the database is a short ``check`` run in a
worker thread, between which the loop sleeps on a wake-up
(``grader.services.updates``) or ``poll_seconds``, whichever comes first.
``wait_for`` is the same loop for one answer (an API request that long-polls).

Same-origin EventSource requests are allowed by the pages' ``connect-src 'self'``.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable
from typing import Any

import anyio.to_thread
from starlette.responses import StreamingResponse

from grader.services.updates import Changes

MEDIA_TYPE = "text/event-stream"
HEARTBEAT_SECONDS = 15.0
"""A comment line at least this often, so proxies and browsers keep an idle stream open."""
FAST_POLL_SECONDS = 0.25
"""How often a waiter reads the database while changes made elsewhere may not wake it."""
SAFETY_POLL_SECONDS = 2.0
"""How often it still reads the database while every change wakes it."""

PollSeconds = float | Callable[[], float]
"""A fixed pause between reads, or a function asked before each pause."""


def poll_seconds(app: Any) -> float:
    """How often waiters in ``app`` read the database: rarely while every grading's change wakes them.

    With a relay (``app.state.relay``) that is while its subscription is up; without one, when
    the gradings run in this process (the embedded worker).
    """
    relay = getattr(app.state, "relay", None)
    covered = relay.listening if relay is not None else app.state.settings.embedded_worker
    return SAFETY_POLL_SECONDS if covered else FAST_POLL_SECONDS


def _seconds(pause: PollSeconds) -> float:
    return pause() if callable(pause) else pause


def message(data: Any, *, event: str | None = None, retry_ms: int | None = None) -> str:
    """One event in the wire format: ``data`` (JSON-encoded unless a string) under ``event``."""
    text = data if isinstance(data, str) else json.dumps(data, separators=(",", ":"))
    lines = []
    if event:
        lines.append(f"event: {event}")
    if retry_ms is not None:
        lines.append(f"retry: {retry_ms}")
    # A data field may not contain a line break: each line of the text is its own field.
    lines.extend(f"data: {line}" for line in text.split("\n"))
    return "\n".join(lines) + "\n\n"


async def watch(
    *,
    check: Callable[[], Any],
    render: Callable[[Any], tuple[str, Any]],
    finished: Callable[[Any], bool],
    poll_seconds: PollSeconds,
    max_seconds: float,
    changes: Changes,
    key: Hashable,
) -> AsyncIterator[str]:
    """Events for a changing state: ``render(state)`` whenever ``check()`` returns a new state.

    check: reads the state (a blocking call, run in a thread; it opens and closes its own session).
    render: the state as (event name, data) for the client.
    finished: whether the state is final; the stream ends after sending it.
    changes, key: the in-process wake-ups to listen to (e.g. ``submission_changes`` and an id, or
    ``ANY_SUBMISSION``), listened to for the stream's whole life, so a change between two reads is
    never missed.
    """
    with changes.listen(key) as listener:
        async for item in _watch(check, render, finished, listener.wait, poll_seconds, max_seconds):
            yield item


async def _watch(
    check: Callable[[], Any],
    render: Callable[[Any], tuple[str, Any]],
    finished: Callable[[Any], bool],
    wake: Callable[[float], Awaitable[bool]],
    poll_seconds: PollSeconds,
    max_seconds: float,
) -> AsyncIterator[str]:
    deadline = time.monotonic() + max_seconds
    last: Any = object()
    last_sent = time.monotonic()
    # Sent at once so the browser knows the stream is open; asks it to reconnect after 1 s.
    yield "retry: 1000\n\n"
    while True:
        state = await anyio.to_thread.run_sync(check)
        if state != last:
            name, data = render(state)
            yield message(data, event=name)
            last, last_sent = state, time.monotonic()
            if finished(state):
                return
        # A client that goes away cancels this generator (StreamingResponse listens for it).
        now = time.monotonic()
        if now >= deadline:
            return
        if now - last_sent >= HEARTBEAT_SECONDS:
            yield ": still watching\n\n"
            last_sent = now
        # With ``changes``, listening started before the first read: a change made since the last
        # read wakes this at once.
        await wake(min(_seconds(poll_seconds), deadline - now))


async def wait_for(
    *,
    check: Callable[[], Any],
    done: Callable[[Any], bool],
    timeout: float,
    poll_seconds: PollSeconds,
    changes: Changes,
    key: Hashable,
) -> Any:
    """``check()``'s state once ``done(state)``, or its last state after ``timeout`` seconds.

    check: reads the state (a blocking call, run in a thread with a session of its own);
    changes, key: the wake-ups to listen to, from before the first read to the answer.
    """
    deadline = time.monotonic() + timeout
    with changes.listen(key) as listener:
        while True:
            state = await anyio.to_thread.run_sync(check)
            remaining = deadline - time.monotonic()
            if done(state) or remaining <= 0:
                return state
            await listener.wait(min(_seconds(poll_seconds), remaining))


def stream(events: AsyncIterator[str]) -> StreamingResponse:
    """A ``text/event-stream`` response that no cache or proxy buffers."""
    return StreamingResponse(
        events,
        media_type=MEDIA_TYPE,
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
