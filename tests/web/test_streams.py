"""Held streams and long polls against the application under a real uvicorn, over real HTTP on loopback.

What one account may hold, what the process keeps for everyone else, and that revoking access
(sign-out, sign-out everywhere, a password change, a revoked token, a role change, a removed
account) ends what is already open within seconds.
"""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx
import pytest
import uvicorn
from sqlalchemy import delete, event, update
from sqlmodel import Session

from grader.cli import uvicorn_options
from grader.config import Settings
from grader.models import CourseMember, Submission, User
from grader.services.updates import submission_changes
from tests.factories import DEFAULT_PASSWORD, make_submission, make_user

RECHECK_SECONDS = 1.0
"""How often the streams of these tests check their session: revocation must show within a few of these."""
CLOSED_WITHIN = RECHECK_SECONDS + 2.0
"""The longest a stream may stay open after its access ended with no wake-up to say so."""


@pytest.fixture
def server(app, settings, monkeypatch) -> Iterator[str]:
    """The application served by uvicorn on a loopback port of its own, with the options ``serve`` uses."""
    monkeypatch.setattr(settings, "stream_recheck_seconds", RECHECK_SECONDS)
    monkeypatch.setattr(settings, "max_streams_per_account", 2)
    monkeypatch.setattr(settings, "max_streams", 5)
    monkeypatch.setattr(settings, "max_connections", 40)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    host, port = listener.getsockname()
    options = uvicorn_options(settings, host=host, port=port)
    assert options["limit_concurrency"] == 40
    config = uvicorn.Config(app, **options, log_level="warning", lifespan="on")
    served = uvicorn.Server(config)
    thread = threading.Thread(target=served.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not served.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.02)
    try:
        yield f"http://{host}:{port}"
    finally:
        while _streams:
            _streams.pop().close()
        while _clients:
            _clients.pop().close()
        served.should_exit = True
        thread.join(20)
        listener.close()


_clients: list[httpx.Client] = []
_streams: list[HeldStream] = []


def signed_in(base: str, user: User, password: str = DEFAULT_PASSWORD) -> httpx.Client:
    """A client signed in through the real form (cookie kept); closed with the server."""
    client = httpx.Client(base_url=base, timeout=10)
    _clients.append(client)
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text).group(1)
    response = client.post("/login", data={"email": user.email, "password": password, "csrf_token": token})
    assert response.status_code == 303, response.text
    return client


def csrf(client: httpx.Client, page: str = "/account") -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get(page).text).group(1)


def api_headers(base: str, user: User) -> dict[str, str]:
    response = httpx.post(f"{base}/api/v1/token", data={"username": user.email, "password": DEFAULT_PASSWORD})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


@dataclass
class HeldStream:
    """An event stream read in a thread over a socket of its own: its status, its events as they
    arrive, when it ended; ``close()`` goes away as a browser tab does."""

    connection: socket.socket
    status: int | None = None
    head: str = ""
    events: list[tuple[str, dict]] = field(default_factory=list)
    ended_at: float | None = None
    opened: threading.Event = field(default_factory=threading.Event)
    ended: threading.Event = field(default_factory=threading.Event)
    closing: threading.Event = field(default_factory=threading.Event)

    def names(self) -> list[str]:
        return [name for name, _ in self.events]

    def header(self, name: str) -> str:
        match = re.search(rf"^{name}: (.*)$", self.head, re.IGNORECASE | re.MULTILINE)
        assert match, f"no {name} header in {self.head!r}"
        return match.group(1).strip()

    def close(self) -> None:
        self.closing.set()
        self.ended.wait(5)

    def read(self) -> None:
        buffer = tail = b""
        try:
            while not self.closing.is_set():
                try:
                    chunk = self.connection.recv(65536)
                except TimeoutError:
                    continue
                if not chunk:
                    break
                buffer += chunk
                tail = (tail + chunk)[-7:]
                finished = tail == b"\r\n0\r\n\r\n"
                if self.status is None and b"\r\n\r\n" in buffer:
                    head, buffer = buffer.split(b"\r\n\r\n", 1)
                    self.head = head.decode()
                    self.status = int(self.head.split(" ", 2)[1])
                    self.opened.set()
                if self.status is not None:
                    buffer = self._take_events(buffer)
                # The body ends with an empty chunk.
                if finished or self.status not in (None, 200):
                    break
        finally:
            self.connection.close()
            self.ended_at = time.monotonic()
            self.opened.set()
            self.ended.set()

    def _take_events(self, buffer: bytes) -> bytes:
        # Each event is written as one chunk; chunk-size lines never start with "event: ".
        *lines, rest = buffer.split(b"\n")
        name = None
        for line in (raw.decode().rstrip("\r") for raw in lines):
            if line.startswith("event: "):
                name = line.removeprefix("event: ")
            elif line.startswith("data: ") and name:
                self.events.append((name, json.loads(line.removeprefix("data: "))))
                name = None
        return (b"event: " + name.encode() + b"\n" if name else b"") + rest


def hold(client: httpx.Client, url: str) -> HeldStream:
    """Open ``url`` as an event stream with ``client``'s cookies and read it in a thread until it ends."""
    base = client.base_url
    connection = socket.create_connection((base.host, base.port), timeout=0.2)
    cookies = "; ".join(f"{name}={value}" for name, value in client.cookies.items())
    request = f"GET {url} HTTP/1.1\r\nHost: {base.host}:{base.port}\r\nAccept: text/event-stream\r\n"
    connection.sendall((request + (f"Cookie: {cookies}\r\n" if cookies else "") + "\r\n").encode())
    held = HeldStream(connection)
    _streams.append(held)
    threading.Thread(target=held.read, daemon=True).start()
    assert held.opened.wait(10), "the stream did not answer"
    return held


def wait_until(condition, timeout: float = 10, message: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, message or "timed out"
        time.sleep(0.02)


def dashboard_url(client: httpx.Client, synced) -> str:
    """The live stream of the default course's dashboard (which lists its table once it has a learner)."""
    make_user(synced, email=f"learner-{time.monotonic_ns()}@example.org")
    page = client.get("/courses/1/dashboard").text
    url = re.search(r'data-live-events="([^"]+)"', page).group(1).replace("&amp;", "&")
    cursor = re.search(r'data-cursor="([^"]+)"', page).group(1)
    return f"{url}&since={cursor}"


def assert_signed_out_soon(held: HeldStream, since: float, within: float) -> None:
    assert held.ended.wait(within + 5), "the stream went on after access ended"
    assert held.ended_at - since <= within, f"closed {held.ended_at - since:.1f}s after access ended: {held.events}"
    assert held.names()[-1] == "signed-out"
    assert "Sign in again" in held.events[-1][1]["message"]


# --- revocation reaches what is already open ------------------------------------------------


def test_sign_out_everywhere_closes_an_open_dashboard_stream_at_once(server, app, synced):
    teacher = make_user(synced, role="instructor", email="t@example.org")
    watching, other_browser = signed_in(server, teacher), signed_in(server, teacher)
    held = hold(watching, dashboard_url(watching, synced))
    assert held.status == 200 and held.header("content-type").startswith("text/event-stream")
    wait_until(lambda: held.names() == ["changes"], message="the stream never sent its first changes")

    signed_out = time.monotonic()
    response = other_browser.post("/account/sign-out-everywhere", data={"csrf_token": csrf(other_browser)})
    assert response.status_code == 303
    # The account's wake-up reaches the stream: no need to wait for the periodic check.
    assert_signed_out_soon(held, signed_out, within=1.0)
    wait_until(lambda: app.state.stream_slots.held(teacher.id) == 0, timeout=5, message="the slot was kept")
    # Opening it again is refused: the session is gone.
    assert watching.get("/courses/1/dashboard/events").status_code in (303, 401)


def test_a_role_change_made_in_the_database_closes_the_dashboard_stream_within_seconds(server, synced, engine):
    teacher = make_user(synced, role="instructor", email="t@example.org")
    watching = signed_in(server, teacher)
    held = hold(watching, dashboard_url(watching, synced))
    wait_until(lambda: held.names() == ["changes"])

    # An operator makes the teacher a learner of the course with SQL: nothing announces it, only the
    # periodic check sees it (the stream serves the course's staff, whatever the account's role).
    changed = time.monotonic()
    with Session(engine) as other:
        other.exec(update(CourseMember).where(CourseMember.user_id == teacher.id).values(role="learner"))
        other.commit()
    assert_signed_out_soon(held, changed, within=CLOSED_WITHIN)


def following_a_submission(server: str, synced, *, browsers: int = 1) -> tuple[Submission, HeldStream, list]:
    """A learner's queued submission, the learner signed in ``browsers`` times, the first following it."""
    learner = make_user(synced, email="l@example.org")
    submission = make_submission(synced, user=learner)
    clients = [signed_in(server, learner) for _ in range(browsers)]
    held = hold(clients[0], f"/submissions/{submission.id}/events")
    wait_until(lambda: held.names() == ["progress"], message="the stream never sent its progress")
    return submission, held, clients


def test_a_password_change_closes_the_open_submission_streams(server, synced):
    submission, held, (_first, second) = following_a_submission(server, synced, browsers=2)

    changed = time.monotonic()
    response = second.post(
        "/account/password",
        data={
            "current_password": DEFAULT_PASSWORD,
            "new_password": "a fresh long passphrase 42",
            "csrf_token": csrf(second),
        },
    )
    assert response.status_code == 303, response.text
    assert_signed_out_soon(held, changed, within=1.0)
    # The browser that changed it stays signed in and may follow the submission again.
    again = hold(second, f"/submissions/{submission.id}/events")
    assert again.status == 200
    wait_until(lambda: again.names() == ["progress"])
    again.close()


def test_a_removed_account_s_submission_stream_closes_within_seconds(server, synced, engine):
    submission, held, _browsers = following_a_submission(server, synced)

    removed = time.monotonic()
    with Session(engine) as other:
        other.exec(delete(Submission).where(Submission.user_id == submission.user_id))
        other.exec(delete(User).where(User.id == submission.user_id))
        other.commit()
    assert_signed_out_soon(held, removed, within=CLOSED_WITHIN)


def test_plain_sign_out_in_another_browser_closes_the_submission_stream(server, synced):
    _submission, held, (_watching, other) = following_a_submission(server, synced, browsers=2)
    signed_out = time.monotonic()
    assert other.post("/logout", data={"csrf_token": csrf(other, "/")}).status_code == 303
    assert_signed_out_soon(held, signed_out, within=1.0)


def _long_poll(base: str, url: str, headers: dict[str, str]) -> dict:
    result: dict = {}

    def run() -> None:
        started = time.monotonic()
        result["response"] = httpx.get(f"{base}{url}", headers=headers, timeout=70)
        result["seconds"] = time.monotonic() - started
        result["ended_at"] = time.monotonic()

    result["thread"] = threading.Thread(target=run, daemon=True)
    result["thread"].start()
    return result


@pytest.mark.parametrize("revoke", ["token", "everywhere"])
def test_revoking_the_token_ends_a_long_poll_with_401(server, synced, revoke):
    learner = make_user(synced, email="l@example.org")
    submission = make_submission(synced, user=learner)
    headers = api_headers(server, learner)
    polling = _long_poll(server, f"/api/v1/submissions/{submission.id}?wait=60", headers)
    wait_until(lambda: submission_changes.waiting(submission.id) == 1, message="the long poll never waited")

    revoked = time.monotonic()
    if revoke == "token":
        (token,) = httpx.get(f"{server}/api/v1/tokens", headers=headers).json()
        assert httpx.delete(f"{server}/api/v1/tokens/{token['id']}", headers=headers).status_code == 204
    else:
        assert httpx.post(f"{server}/api/v1/account/sign-out-everywhere", headers=headers).status_code == 204
    polling["thread"].join(10)
    assert not polling["thread"].is_alive(), "the long poll went on after its token was revoked"
    assert polling["ended_at"] - revoked <= 1.0
    response = polling["response"]
    assert response.status_code == 401
    assert "request a new one" in response.json()["detail"]


def test_an_expired_token_ends_a_long_poll_within_seconds(server, synced, engine):
    from grader.models import ApiToken, utcnow

    learner = make_user(synced, email="l@example.org")
    submission = make_submission(synced, user=learner)
    polling = _long_poll(server, f"/api/v1/submissions/{submission.id}?wait=60", api_headers(server, learner))
    wait_until(lambda: submission_changes.waiting(submission.id) == 1)
    expired = time.monotonic()
    with Session(engine) as other:
        other.exec(update(ApiToken).where(ApiToken.user_id == learner.id).values(expires_at=utcnow()))
        other.commit()
    polling["thread"].join(CLOSED_WITHIN + 5)
    assert polling["response"].status_code == 401
    assert polling["ended_at"] - expired <= CLOSED_WITHIN


# --- one account cannot hold the service ------------------------------------------------------


def test_one_account_holds_at_most_its_share_and_others_and_health_checks_still_get_in(server, app, synced):
    greedy = make_user(synced, email="greedy@example.org")
    other = make_user(synced, email="other@example.org")
    submission = make_submission(synced, user=greedy)
    browser = signed_in(server, greedy)
    url = f"/submissions/{submission.id}/events"
    held = [hold(browser, url) for _ in range(2)]
    assert [stream.status for stream in held] == [200, 200]

    refused = browser.get(url)
    assert refused.status_code == 429, refused.text
    assert int(refused.headers["retry-after"]) >= 1
    assert "Close one" in refused.text
    api = api_headers(server, greedy)
    poll = httpx.get(f"{server}/api/v1/submissions/{submission.id}?wait=30", headers=api, timeout=10)
    assert poll.status_code == 429 and "Close one" in poll.json()["detail"]
    # The streams already open go on.
    assert not any(stream.ended.is_set() for stream in held)

    # Another account, sign-ins and health checks are not held up.
    theirs = make_submission(synced, user=other)
    other_browser = signed_in(server, other)
    assert hold(other_browser, f"/submissions/{theirs.id}/events").status == 200
    assert httpx.get(f"{server}/healthz", timeout=5).status_code == 200

    # A stream whose client goes away gives its slot back at once.
    slots = app.state.stream_slots
    assert slots.held(greedy.id) == 2
    for stream in held:
        stream.close()
    wait_until(lambda: slots.held(greedy.id) == 0, timeout=5, message="closed streams kept their slots")
    assert submission_changes.waiting(submission.id) == 0
    again = hold(signed_in(server, greedy), url)
    assert again.status == 200


def test_past_the_process_budget_streams_get_503_but_sign_in_and_health_checks_do_not(server, app, synced):
    # Five streams in all (the fixture's budget): the sixth is refused though its account holds only one.
    accounts = [make_user(synced, email=f"l{number}@example.org") for number in range(4)]
    browsers = [signed_in(server, user) for user in accounts]
    submissions = [make_submission(synced, user=user) for user in accounts]
    held = []
    for browser, submission in zip(browsers[:3], submissions[:3], strict=True):
        for _ in range(2):
            response = hold(browser, f"/submissions/{submission.id}/events")
            held.append(response.status)
    assert held == [200, 200, 200, 200, 200, 503]
    refused = browsers[3].get(f"/submissions/{submissions[3].id}/events")
    assert refused.status_code == 503 and int(refused.headers["retry-after"]) >= 1

    assert httpx.get(f"{server}/healthz", timeout=5).status_code == 200
    late = signed_in(server, make_user(synced, email="late@example.org"))
    assert late.get("/").status_code == 200


def test_an_idle_stream_reads_nothing_but_its_session(server, synced, engine):
    learner = make_user(synced, email="l@example.org")
    submission = make_submission(synced, user=learner, status="running")
    browser = signed_in(server, learner)
    statements: list[str] = []

    def record(_connection, _cursor, statement, *_args) -> None:
        statements.append(statement)

    held = hold(browser, f"/submissions/{submission.id}/events")
    wait_until(lambda: held.names() == ["progress"])
    event.listen(engine, "before_cursor_execute", record)
    try:
        time.sleep(RECHECK_SECONDS * 3.5)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    # Every few seconds the session is checked (the account, and who wrote the submission); the
    # submission's status and place in the queue are not read again while nothing changed.
    reads = [statement for statement in statements if statement.lstrip().upper().startswith("SELECT")]
    assert 2 <= len(reads) <= 12, reads
    assert not [statement for statement in reads if "submissions.status" in statement], reads


def test_streams_over_the_settings_limits_are_refused_by_the_settings_themselves(tmp_path):
    with pytest.raises(ValueError, match="GRADER_MAX_STREAMS must be below GRADER_MAX_CONNECTIONS"):
        Settings(state_dir=tmp_path, max_streams=100, max_connections=100)


def test_where_wake_ups_may_be_missed_one_reader_stands_in_for_every_stream(server, app, settings, synced, engine):
    # No embedded worker on SQLite: results stored by other processes announce nothing here.
    settings.embedded_worker = False
    learners = [make_user(synced, email=f"l{number}@example.org") for number in range(2)]
    mine = [make_submission(synced, user=learner, status="running") for learner in learners for _ in range(2)]
    browsers = {learner.id: signed_in(server, learner) for learner in learners}
    held = [hold(browsers[submission.user_id], f"/submissions/{submission.id}/events") for submission in mine]
    wait_until(lambda: all(stream.names() == ["progress"] for stream in held))

    watch = app.state.database_watch
    # Its first read wakes every stream once (it cannot know what moved before it looked).
    wait_until(lambda: watch.reads >= 2, message="the database watch never read")
    statements: list[str] = []

    def record(_connection, _cursor, statement, *_args) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    reads_before = watch.reads
    time.sleep(1.0)
    # The watch read its counters a few times; no stream read its submission on its own.
    assert 2 <= watch.reads - reads_before <= 6
    assert not [statement for statement in statements if statement.startswith("SELECT submissions.status")]

    # Another process stores one result: the counters move, every stream looks, the right one ends.
    with Session(engine) as other:
        other.exec(update(Submission).where(Submission.id == mine[0].id).values(status="graded", score=1))
        other.commit()
    assert held[0].ended.wait(5)
    assert held[0].names()[-1] == "graded"
    assert not any(stream.ended.is_set() for stream in held[1:])
    event.remove(engine, "before_cursor_execute", record)


def test_a_stream_past_the_share_is_refused_before_any_database_read(server, settings, synced, engine):
    # The open long polls check their token only every minute here: any read seen comes from the refusals.
    settings.stream_recheck_seconds = 60
    learner = make_user(synced, email="l@example.org")
    submission = make_submission(synced, user=learner)
    browser = signed_in(server, learner)
    headers = api_headers(server, learner)
    url = f"/api/v1/submissions/{submission.id}?wait=30"
    polls = [_long_poll(server, url, headers) for _ in range(2)]
    wait_until(lambda: submission_changes.waiting(submission.id) == 2, message="the long polls never waited")

    statements: list[str] = []

    def record(_connection, _cursor, statement, *_args) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        page = browser.get(f"/submissions/{submission.id}/events")
        poll = httpx.get(f"{server}{url}", headers=headers, timeout=10)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert (page.status_code, poll.status_code) == (429, 429)
    assert page.headers["connection"] == poll.headers["connection"] == "close"
    assert "Close one" in page.text and "Close one" in poll.json()["detail"]
    assert statements == []
    for held in polls:
        assert held["thread"].is_alive(), "the refusal must leave the open long polls alone"


def test_a_long_poll_whose_client_goes_away_gives_its_slot_back_at_once(server, app, synced):
    learner = make_user(synced, email="l@example.org")
    submission = make_submission(synced, user=learner)
    headers = api_headers(server, learner)
    connection = socket.create_connection(("127.0.0.1", int(server.rsplit(":", 1)[1])), timeout=5)
    connection.sendall(
        f"GET /api/v1/submissions/{submission.id}?wait=60 HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Authorization: {headers['Authorization']}\r\n\r\n".encode()
    )
    wait_until(lambda: submission_changes.waiting(submission.id) == 1, message="the long poll never waited")
    slots = app.state.stream_slots
    assert slots.held(learner.id) == 1
    connection.close()
    wait_until(lambda: slots.held(learner.id) == 0, timeout=3, message="the long poll outlived its client")
    assert submission_changes.waiting(submission.id) == 0
