"""Server-Sent Events and long polls: push a page's updates down one long-lived response.

``watch`` is the loop of a stream, ``wait_for`` of a long poll; ``stream`` turns
a ``watch`` into a ``text/event-stream`` response. Both are bounded: a stream
ends when the thing watched is finished, when the client goes away, or after
``max_seconds`` (the browser's EventSource then reconnects by itself if the
page still wants updates).

They read the database only when told something changed: each listens to the
wake-ups of ``grader.services.updates`` (the worker's claims and results, quiz
attempts, account changes, or the process's ``DatabaseWatch`` where wake-ups
from other processes may be missed) and reads the state again only when one of
its keys was woken. While nothing changes a stream reads one thing: whether its
session (or API token) still grants access, every ``Access.every`` seconds and
on every wake-up, so sign-out, a password change, revoked tokens, a role change
or a removed account close it within seconds. Each read is short, opens and
closes its own session, and runs on threads of the streams' own
(``StreamSlots.reads``), never on the pool that serves sign-ins and uploads.

``StreamSlots`` bounds how many streams and long polls one web process holds
(``GRADER_MAX_STREAMS``) and how many one account holds
(``GRADER_MAX_STREAMS_PER_ACCOUNT``): past the account's share the new one is
refused with 429 and ``Retry-After`` (the page then polls instead), past the
process's with 503; both below uvicorn's connection limit
(``GRADER_MAX_CONNECTIONS``), so the streams held never take the room of sign-ins,
uploads and ``/healthz``. ``StreamGate`` refuses what is over an account's or a
token's share before any other work, and every refusal closes its connection; a
flood of connections arriving faster than that can still fill uvicorn's limit for
a moment, which a per-address limit in the proxy answers (docs/deploy.md).

Same-origin EventSource requests are allowed by the pages' ``connect-src 'self'``.
"""

from __future__ import annotations

import base64
import json
import re
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Hashable
from dataclasses import dataclass
from http.cookies import CookieError, SimpleCookie
from typing import Any

import anyio
import anyio.to_thread
import itsdangerous
from starlette.datastructures import Headers, QueryParams
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from grader.services import tokens
from grader.services.errors import Overloaded, RateLimited
from grader.services.updates import EVERYTHING, Changes, account_key
from grader.web.errors import error_response, plain_error_response
from grader.web.security import SESSION_USER_KEY

MEDIA_TYPE = "text/event-stream"
HEARTBEAT_SECONDS = 15.0
"""A comment line at least this often, so proxies and browsers keep an idle stream open."""
RETRY_AFTER_SECONDS = 10
"""What a refused stream is told to wait before asking again."""
READ_THREADS = 4
"""Threads the streams of one process read the database on at once (apart from the requests' pool)."""
SIGNED_OUT_EVENT = "signed-out"
"""The last event of a stream whose session or token stopped granting access."""
SIGNED_OUT_MESSAGE = "You were signed out. Sign in again to follow this page."


@dataclass(frozen=True)
class Access:
    """Who a stream serves and how to ask again whether it still may.

    user_id: the account (its wake-ups, ``account_key``, make the stream ask at once).
    allowed: a blocking check with a session of its own: whether the credential the stream
        opened with still grants what it shows.
    every: the longest time between two checks, in seconds.
    """

    user_id: int
    allowed: Callable[[], bool]
    every: float


class Slot:
    """One held stream or long poll; ``release`` (or the end of a ``with`` block) gives it back."""

    def __init__(self, slots: StreamSlots, user_id: int, token: str | None) -> None:
        self._slots = slots
        self.user_id = user_id
        self.token = token
        self._released = False

    def release(self) -> None:
        """Give the slot back (only the first call counts)."""
        if not self._released:
            self._released = True
            self._slots._give_back(self.user_id, self.token)

    def __enter__(self) -> Slot:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.release()


class StreamSlots:
    """The streams and long polls one web process holds, counted in all and per account."""

    def __init__(self, *, total: int, per_account: int) -> None:
        self.total = total
        self.per_account = per_account
        self._lock = threading.Lock()
        self._held: dict[int, int] = {}
        self._by_token: dict[str, int] = {}
        self._count = 0
        self.reads = anyio.CapacityLimiter(READ_THREADS)

    def take(self, user_id: int, *, token: str | None = None) -> Slot:
        """A slot for ``user_id`` (asking with the API token whose digest is ``token``, if any);
        ``RateLimited`` past the account's share, ``Overloaded`` past the process's."""
        with self._lock:
            self._refuse_if_full(self._held.get(user_id, 0))
            self._held[user_id] = self._held.get(user_id, 0) + 1
            if token is not None:
                self._by_token[token] = self._by_token.get(token, 0) + 1
            self._count += 1
        return Slot(self, user_id, token)

    def check(self, *, user_id: int | None = None, token: str | None = None) -> None:
        """Raise what ``take`` would for the account ``user_id``, or for the token whose digest is
        ``token`` (its account's share counted by that token alone), without taking: a refusal
        that costs no database read."""
        with self._lock:
            held = self._held.get(user_id, 0) if user_id is not None else self._by_token.get(token or "", 0)
            self._refuse_if_full(held)

    def _refuse_if_full(self, held: int) -> None:
        if held >= self.per_account:
            raise RateLimited(
                f"You already follow {self.per_account} pages or submissions live (other tabs or programs). "
                "Close one, or this page will check for updates without a live connection.",
                retry_after=RETRY_AFTER_SECONDS,
            )
        if self._count >= self.total:
            raise Overloaded(
                "The service follows as many live pages as it can right now; this page checks for updates instead.",
                retry_after=RETRY_AFTER_SECONDS,
            )

    def held(self, user_id: int | None = None) -> int:
        """How many slots are held now, by ``user_id`` or in all."""
        with self._lock:
            return self._count if user_id is None else self._held.get(user_id, 0)

    def _give_back(self, user_id: int, token: str | None) -> None:
        with self._lock:
            _count_down(self._held, user_id)
            if token is not None:
                _count_down(self._by_token, token)
            self._count -= 1


def _count_down(counts: dict[Any, int], key: Any) -> None:
    left = counts.get(key, 0) - 1
    if left > 0:
        counts[key] = left
    else:
        counts.pop(key, None)


def bearer_digest(authorization: str | None) -> str | None:
    """The digest of the bearer token in an ``Authorization`` header, if there is one."""
    scheme, _, secret = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        return None
    return tokens.digest(secret.strip())


STREAM_PATHS = re.compile(r"^/(?:submissions/[^/]+/events|instructor/events)$")
LONG_POLL_PATH = re.compile(r"^/api/v1/submissions/[^/]+$")


class StreamGate:
    """Refuses, before anything else runs, a stream or long poll whose account (named by its signed
    session cookie) or API token already holds its share, or that finds the process's streams full:
    429 or 503 with ``Retry-After``, the connection closed after it.

    Everything else, and every request it lets through, goes on to the application, which checks
    access fully and takes the slot. A client that opens thousands of streams at once costs a few
    microseconds each instead of a database read, a thread and a rendered page.
    """

    def __init__(self, app: ASGIApp, *, secret_key: str, session_cookie: str, max_age: int) -> None:
        self.app = app
        self.session_cookie = session_cookie
        self.max_age = max_age
        self.signer = itsdangerous.TimestampSigner(secret_key)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET":
            refusal = self._refusal(scope)
            if refusal is not None:
                await refusal(scope, receive, send)
                return
        await self.app(scope, receive, send)

    def _refusal(self, scope: Scope) -> Response | None:
        path: str = scope["path"]
        page = STREAM_PATHS.match(path) is not None
        if not page and not (LONG_POLL_PATH.match(path) and _waits(scope)):
            return None
        headers = Headers(scope=scope)
        slots = slots_of(scope["app"])
        try:
            if page:
                user_id = self._session_user(headers)
                if user_id is not None:
                    slots.check(user_id=user_id)
            else:
                token = bearer_digest(headers.get("authorization"))
                if token is not None:
                    slots.check(token=token)
        except (RateLimited, Overloaded) as exc:
            status_code = 429 if isinstance(exc, RateLimited) else 503
            refusal_headers = {"Retry-After": str(exc.retry_after), "Connection": "close"}
            return plain_error_response(path, status_code, str(exc), headers=refusal_headers)
        return None

    def _session_user(self, headers: Headers) -> int | None:
        try:
            cookie = SimpleCookie(headers.get("cookie", "")).get(self.session_cookie)
        except CookieError:
            return None
        if cookie is None:
            return None
        try:
            data = json.loads(base64.b64decode(self.signer.unsign(cookie.value, max_age=self.max_age)))
        except (itsdangerous.BadSignature, ValueError):
            return None
        user_id = data.get(SESSION_USER_KEY) if isinstance(data, dict) else None
        return user_id if isinstance(user_id, int) else None


def _waits(scope: Scope) -> bool:
    wait = QueryParams(scope.get("query_string", b"")).get("wait", "")
    return wait not in ("", "0", "0.0")


def slots_of(app: Any) -> StreamSlots:
    """The application's stream slots (made from its settings on first use)."""
    slots: StreamSlots | None = getattr(app.state, "stream_slots", None)
    if slots is None:
        settings = app.state.settings
        slots = StreamSlots(total=settings.max_streams, per_account=settings.max_streams_per_account)
        app.state.stream_slots = slots
    return slots


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


class _Follower:
    """What ``watch`` and ``wait_for`` share: reads on the streams' threads, and when to ask about access."""

    def __init__(self, access: Access, reads: anyio.CapacityLimiter) -> None:
        self.access = access
        self.reads = reads
        self.next_check = time.monotonic() + access.every

    async def read(self, function: Callable[[], Any]) -> Any:
        return await anyio.to_thread.run_sync(function, limiter=self.reads)

    def pause(self, deadline: float) -> float:
        """Seconds until the next access check or ``deadline``, whichever is sooner."""
        return max(0.0, min(self.next_check, deadline) - time.monotonic())

    async def still_allowed(self, woken: Collection[Hashable], *, reading: bool) -> bool:
        """Whether access still holds: asked again before every read of the state, after the account's
        wake-up, and once ``every`` seconds passed since the last time."""
        account = account_key(self.access.user_id)
        if not reading and account not in woken and EVERYTHING not in woken and time.monotonic() < self.next_check:
            return True
        self.next_check = time.monotonic() + self.access.every
        allowed: bool = await self.read(self.access.allowed)
        return allowed


def _concerns(woken: Collection[Hashable], keys: Collection[Hashable]) -> bool:
    return EVERYTHING in woken or any(key in keys for key in woken)


async def watch(
    *,
    check: Callable[[], Any],
    render: Callable[[Any], tuple[str, Any]],
    finished: Callable[[Any], bool],
    keys: Collection[Hashable],
    access: Access,
    slots: StreamSlots,
    max_seconds: float,
    changes: Changes,
    reads_on: Callable[[Any], Collection[Hashable]] | None = None,
) -> AsyncIterator[str]:
    """Events for a changing state: ``render(state)`` whenever ``check()`` returns a new state.

    check: reads the state (a blocking call, run in a thread; it opens and closes its own session).
    render: the state as (event name, data) for the client.
    finished: whether the state is final; the stream ends after sending it.
    keys: the wake-ups (of ``changes``) to listen to, e.g. a submission's id and ``ANY_SUBMISSION``,
        from before the first read to the end, so a change between two reads is never missed.
    reads_on: given the last state, which of ``keys`` make it read again (all of them when None),
        e.g. ``ANY_SUBMISSION`` only while the submission waits in the queue.
    access: checked on every wake-up and every ``access.every`` seconds; the stream ends with a
        ``signed-out`` event once it fails.
    """
    follower = _Follower(access, slots.reads)
    deadline = time.monotonic() + max_seconds
    with changes.listen(*keys, account_key(access.user_id)) as listener:
        # Sent at once so the browser knows the stream is open; asks it to reconnect after 1 s.
        yield "retry: 1000\n\n"
        state = await follower.read(check)
        last: Any = object()
        last_sent = time.monotonic()
        while True:
            if state != last:
                name, data = render(state)
                yield message(data, event=name)
                last, last_sent = state, time.monotonic()
                if finished(state):
                    return
            now = time.monotonic()
            if now >= deadline:
                return
            if now - last_sent >= HEARTBEAT_SECONDS:
                yield ": still watching\n\n"
                last_sent = now
            woken = await listener.wait_keys(min(follower.pause(deadline), HEARTBEAT_SECONDS - (now - last_sent)))
            reading = _concerns(woken, keys if reads_on is None else reads_on(state))
            if not await follower.still_allowed(woken, reading=reading):
                yield message({"message": SIGNED_OUT_MESSAGE}, event=SIGNED_OUT_EVENT)
                return
            if reading:
                state = await follower.read(check)


class AccessEnded(Exception):
    """A long poll's session or token stopped granting access while it waited."""


async def wait_for(
    *,
    check: Callable[[], Any],
    done: Callable[[Any], bool],
    timeout: float,
    keys: Collection[Hashable],
    access: Access,
    slots: StreamSlots,
    changes: Changes,
) -> Any:
    """``check()``'s state once ``done(state)``, or its last state after ``timeout`` seconds.

    check: reads the state (a blocking call, run in a thread with a session of its own);
    keys: the wake-ups after which the state is read again, listened to from before the first read;
    access: checked on every wake-up and every ``access.every`` seconds: ``AccessEnded`` once it fails.
    """
    follower = _Follower(access, slots.reads)
    deadline = time.monotonic() + timeout
    with changes.listen(*keys, account_key(access.user_id)) as listener:
        state = await follower.read(check)
        while True:
            if done(state) or time.monotonic() >= deadline:
                return state
            woken = await listener.wait_keys(follower.pause(deadline))
            reading = _concerns(woken, keys)
            if not await follower.still_allowed(woken, reading=reading):
                raise AccessEnded()
            if reading:
                state = await follower.read(check)


class ClientGone(Exception):
    """The client of a long poll went away while it waited."""


async def while_connected(request: Request, wait: Callable[[], Awaitable[Any]]) -> Any:
    """``await wait()``, cut short with ``ClientGone`` as soon as the client disconnects, so a long
    poll nobody waits for any more gives its slot back at once."""
    outcome: list[tuple[bool, Any]] = []
    async with anyio.create_task_group() as group:

        async def until_disconnect() -> None:
            while (await request.receive())["type"] != "http.disconnect":
                pass
            group.cancel_scope.cancel()

        async def run() -> None:
            try:
                outcome.append((True, await wait()))
            except Exception as exc:  # noqa: BLE001 - raised again below, outside the task group
                outcome.append((False, exc))
            group.cancel_scope.cancel()

        group.start_soon(until_disconnect)
        group.start_soon(run)
    if not outcome:
        raise ClientGone()
    finished, value = outcome[0]
    if not finished:
        raise value
    return value


class HeldStream(StreamingResponse):
    """An event stream that holds a ``Slot`` until it ends, and ends as soon as the client goes away.

    The slot is given back however the response ends, even if it never starts. Uvicorn speaks
    ASGI 2.3 today, where Starlette already listens for the disconnect; this listens whatever the
    version, so a stream that has nothing to send never outlives its client.
    """

    def __init__(self, events: AsyncIterator[str], slot: Slot) -> None:
        super().__init__(
            events,
            media_type=MEDIA_TYPE,
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        )
        self.slot = slot

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            async with anyio.create_task_group() as group:

                async def until_disconnect() -> None:
                    while (await receive())["type"] != "http.disconnect":
                        pass
                    group.cancel_scope.cancel()

                group.start_soon(until_disconnect)
                try:
                    await self.stream_response(send)
                finally:
                    group.cancel_scope.cancel()
        finally:
            self.slot.release()
            aclose = getattr(self.body_iterator, "aclose", None)
            if aclose is not None:
                await aclose()


def refused(request: Request, exc: RateLimited | Overloaded) -> Response:
    """The answer to a stream or long poll refused a slot: 429 or 503 with ``Retry-After``, and the
    connection closed after it, so refused clients do not sit on the process's connections."""
    status_code = 429 if isinstance(exc, RateLimited) else 503
    headers = {"Retry-After": str(exc.retry_after), "Connection": "close"}
    return error_response(request, status_code, str(exc), headers=headers)


def stream(request: Request, events: AsyncIterator[str], *, slots: StreamSlots, user_id: int) -> Response:
    """A ``text/event-stream`` response that no cache or proxy buffers, holding one of ``user_id``'s
    slots while it lasts; ``refused`` when there is none."""
    try:
        slot = slots.take(user_id)
    except (RateLimited, Overloaded) as exc:
        return refused(request, exc)
    return HeldStream(events, slot)
