"""Thousands of held streams and long polls beside normal traffic: does the service stay responsive?

Run by hand (not part of the test suite):

    .venv/bin/python benchmarks/held_streams.py [--streams 4000] [--accounts 1] [--hold-seconds 20] [--project OTHER]

``autograder serve`` (embedded worker, SQLite, as ``scripts/serve`` starts it)
runs in a temporary folder, on loopback. Then:

1. **before**: the latency of ``/healthz``, of a sign-in through the form
   (``GET /login`` and ``POST /login``) and of an upload through the API, each
   measured one after the other, and the web process's resident memory;
2. **held**: ``--streams`` connections are opened from ``--accounts`` learner
   accounts (one by default: one learner trying to stall the service), half
   ``GET /submissions/{id}/events`` with the session cookie, half
   ``GET /api/v1/submissions/{id}?wait=60`` with an API token, on a queued
   submission that no worker will take (the learners' own, made in the
   database). Each connection is held open as long as the server keeps it; the
   same latencies are measured while they are held, and the answers the held
   ones got are counted (200 held, 429, 503, refused connections);
3. **after**: every held connection is closed; after a few seconds, memory and
   latencies once more.

Learners and their sessions are made in the database directly (a session cookie
is signed with the service's secret as the sign-in form would), so that
thousands of accounts cost no password hashing. The uploads are the reference
solution, each from a fresh learner (the service lets one learner upload every
10 s); the embedded worker grades them meanwhile, as it would in class.
Everything stays on 127.0.0.1, the count of connections and every wait is
bounded. ``--project`` runs another checkout's service, for before/after.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import concurrent.futures
import json
import os
import platform
import resource
import statistics
import sys
import threading
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._service import (  # noqa: E402
    LEARNER_PASSWORD,
    REFERENCE,
    ROOT,
    Service,
    percentile,
    sign_in,
)

SECRET = "benchmark-secret-key-long-enough"


def rss_mib(pid: int) -> float:
    """The resident memory of process ``pid``, in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def seed(service: Service, accounts: int, extra_learners: int) -> tuple[list[dict], list[dict]]:
    """``accounts`` learners that hold streams (each with a queued submission, a session cookie and a
    token) and ``extra_learners`` that sign in and upload: their e-mails and tokens."""
    from itsdangerous import TimestampSigner
    from sqlmodel import Session, select

    from grader.db import create_db_engine
    from grader.models import Exercise, Submission, User
    from grader.services import users
    from grader.web.security import SESSION_STAMP_KEY, SESSION_USER_KEY

    made = service.learners(accounts + extra_learners)
    engine = create_db_engine(f"sqlite:///{service.folder / 'state' / 'grader.sqlite3'}")
    signer = TimestampSigner(SECRET)
    holders = []
    with Session(engine) as session:
        exercise = session.exec(select(Exercise).where(Exercise.slug == "message-echo")).one()
        for email, token in made[:accounts]:
            user = session.exec(select(User).where(User.email == email)).one()
            # Queued with a task that was never sent: no worker takes it, so every stream stays open.
            submission = Submission(
                user_id=user.id,
                exercise_id=exercise.id,
                filename="solution.py",
                source="pass\n",
                max_score=16,
                seed=1,
                enqueued_at=datetime(2999, 1, 1, tzinfo=UTC),
            )
            session.add(submission)
            session.commit()
            data = {SESSION_USER_KEY: user.id, SESSION_STAMP_KEY: users.session_stamp(user)}
            cookie = signer.sign(base64.b64encode(json.dumps(data).encode())).decode()
            holders.append({"submission": submission.id, "cookie": cookie, "token": token})
    engine.dispose()
    return holders, [{"email": email, "token": token} for email, token in made[accounts:]]


class Holder:
    """Opens and holds connections in an event loop of its own (a thread), counting what each got."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.answers: Counter[str] = Counter()
        self.writers: list[asyncio.StreamWriter] = []
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.readers: list[asyncio.Task[None]] = []

    def open(self, requests: list[bytes], batch: int = 200) -> concurrent.futures.Future[None]:
        """Start opening ``requests``, ``batch`` at a time; the future is done once all are answered."""
        return asyncio.run_coroutine_threadsafe(self._open_all(requests, batch), self.loop)

    async def _open_all(self, requests: list[bytes], batch: int) -> None:
        # Paced in batches so the listen backlog does not overflow; answers are read as they come.
        for start in range(0, len(requests), batch):
            await asyncio.gather(*(self._open(request) for request in requests[start : start + batch]))
            await asyncio.sleep(0.05)

    async def _open(self, request: bytes) -> None:
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", self.port), 30)
        except (OSError, TimeoutError):
            self.answers["connection refused"] += 1
            return
        self.writers.append(writer)
        writer.write(request)
        self.readers.append(asyncio.ensure_future(self._follow(reader)))

    async def _follow(self, reader: asyncio.StreamReader) -> None:
        # A held long poll answers only when it ends: until then it has no status line.
        try:
            status_line = await reader.readline()
        except OSError:
            status_line = b""
        parts = status_line.split()
        self.answers[parts[1].decode() if len(parts) > 1 else "closed"] += 1
        # Read what the server sends (events, heartbeats, a refusal's body) until it closes.
        try:
            while await reader.read(65536):
                pass
        except OSError:
            pass

    def unanswered(self) -> int:
        return len(self.readers) - sum(self.answers.values()) + self.answers["connection refused"]

    def still_open(self) -> int:
        return sum(1 for task in self.readers if not task.done())

    def close(self) -> None:
        async def close_all() -> None:
            for writer in self.writers:
                writer.close()
            for task in self.readers:
                task.cancel()
            await asyncio.gather(*self.readers, return_exceptions=True)

        asyncio.run_coroutine_threadsafe(close_all(), self.loop).result(timeout=120)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


def stream_requests(holders: list[dict], count: int) -> list[bytes]:
    """``count`` requests, alternately an event stream (cookie) and a long poll (token), over the holders."""
    requests = []
    for number in range(count):
        holder = holders[number % len(holders)]
        if number % 2 == 0:
            line = f"GET /submissions/{holder['submission']}/events HTTP/1.1"
            credential = f"Cookie: grader_session={holder['cookie']}"
        else:
            line = f"GET /api/v1/submissions/{holder['submission']}?wait=60 HTTP/1.1"
            credential = f"Authorization: Bearer {holder['token']}"
        requests.append(f"{line}\r\nHost: 127.0.0.1\r\n{credential}\r\n\r\n".encode())
    return requests


def timed(function) -> float | None:
    """Seconds ``function()`` took, or None when it failed (the failure is printed)."""
    started = time.perf_counter()
    try:
        function()
    except (httpx.HTTPError, SystemExit, AssertionError) as exc:
        print(f"    failed: {str(exc)[:160]}")
        return None
    return time.perf_counter() - started


def measure(service: Service, learners: list[dict], source: bytes, samples: int) -> dict[str, list[float | None]]:
    """Each kind of normal request ``samples`` times, one after the other."""
    timeout = httpx.Timeout(120)
    results: dict[str, list[float | None]] = {"healthz": [], "sign-in": [], "upload": []}
    with httpx.Client(timeout=timeout) as client:
        for _ in range(samples):

            def health() -> None:
                assert client.get(f"{service.url}/healthz").status_code == 200

            results["healthz"].append(timed(health))
    for _ in range(samples):
        learner = learners.pop()

        def sign_in_through_the_form(learner: dict = learner) -> None:
            with httpx.Client(timeout=timeout) as browser:
                sign_in(browser, service, learner["email"], LEARNER_PASSWORD)

        results["sign-in"].append(timed(sign_in_through_the_form))

        def upload(learner: dict = learner) -> None:
            with httpx.Client(timeout=timeout) as client:
                response = client.post(
                    f"{service.url}/api/v1/exercises/message-echo/submissions",
                    headers={"Authorization": f"Bearer {learner['token']}"},
                    files={"file": ("solution.py", source, "text/x-python")},
                )
                assert response.status_code == 202, f"{response.status_code} {response.text[:200]}"

        results["upload"].append(timed(upload))
    return results


def row(name: str, values: list[float | None]) -> str:
    done = [value for value in values if value is not None]
    failed = len(values) - len(done)
    if not done:
        return f"| {name} | — | — | {failed} of {len(values)} failed |"
    median = statistics.median(done) * 1000
    return f"| {name} | {median:,.0f} | {percentile(done, 0.95) * 1000:,.0f} | {failed or ''} |"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--streams", type=int, default=4000, help="connections held at once (at most 10,000)")
    parser.add_argument("--accounts", type=int, default=1, help="learner accounts the held connections come from")
    parser.add_argument("--hold-seconds", type=float, default=20, help="how long they are held (at most 120)")
    parser.add_argument("--settle-seconds", type=float, default=10, help="pause after closing them (at most 60)")
    parser.add_argument("--samples", type=int, default=10, help="requests of each kind per phase (at most 50)")
    parser.add_argument("--project", type=Path, default=ROOT, help="the checkout whose service is measured")
    args = parser.parse_args()
    streams, samples = min(args.streams, 10_000), min(args.samples, 50)
    hold_seconds, settle_seconds = min(args.hold_seconds, 120), min(args.settle_seconds, 60)

    # Thousands of sockets on each side: raise this process's descriptor limit (the service inherits it).
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = min(hard, streams * 2 + 1024)
    if soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))

    service = Service({"GRADER_SECRET_KEY": SECRET}, project=args.project.resolve())
    print(
        f"{datetime.now().astimezone():%Y-%m-%d %H:%M}, {platform.machine()}, {os.cpu_count()} cores, "
        f"load {os.getloadavg()[0]:.1f}; {streams} connections from {args.accounts} account(s); "
        f"service from {service.project}"
    )
    try:
        service.start_web()
        web_pid = service.processes[0].pid
        holders, learners = seed(service, args.accounts, extra_learners=4 * samples)
        source = REFERENCE.read_bytes()
        time.sleep(2)
        memory = {"start": rss_mib(web_pid)}
        phases = {"before": measure(service, learners, source, samples)}
        memory["before"] = rss_mib(web_pid)

        holder = Holder(service.port)
        opened = time.monotonic()
        opening = holder.open(stream_requests(holders, streams))
        # While the connections arrive, then while they are held.
        phases["opening"] = measure(service, learners, source, samples)
        opening.result(timeout=600)
        print(f"opened in {time.monotonic() - opened:.1f} s")
        memory["held"] = rss_mib(web_pid)
        phases["held"] = measure(service, learners, source, samples)
        remaining = hold_seconds - (time.monotonic() - opened)
        if remaining > 0:
            time.sleep(remaining)
        still, unanswered, answers = holder.still_open(), holder.unanswered(), dict(holder.answers)
        memory["held, end"] = rss_mib(web_pid)
        holder.close()
        time.sleep(settle_seconds)
        memory["after"] = rss_mib(web_pid)
        phases["after"] = measure(service, learners, source, samples)
        memory["after, end"] = rss_mib(web_pid)
    finally:
        service.stop()

    print()
    print(
        f"after {hold_seconds:.0f} s, of the {streams} requests: answered {answers}, "
        f"not answered yet {unanswered}; connections still open: {still}"
    )
    print()
    print("| phase | request | median ms | p95 ms | failed |")
    print("| --- | --- | --- | --- | --- |")
    for phase, results in phases.items():
        for name, values in results.items():
            print(row(f"{phase} | {name}", values))
    print()
    print("web process memory (MiB): " + ", ".join(f"{name} {value:.0f}" for name, value in memory.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
