"""From a result stored to the result on the learner's page, in each layout of the service.

Run by hand (not part of the test suite), with PostgreSQL and Redis running for
the shared layouts:

    .venv/bin/python benchmarks/live.py --runs 15 [--layouts embedded redis postgresql] [--project OTHER_CHECKOUT]

A learner signs in through the login form (as a browser does), uploads the
reference solution and opens its submission page's event stream
(``/submissions/{id}/events``, what the page's EventSource reads) at once. The
benchmark notes when the ``graded`` event, carrying the result's HTML, arrives
and compares it with when the result was stored, both on this machine's clock:

- "from graded": the row's ``finished_at``, taken when the engine's report is
  in hand, before the result's transaction (an upper bound of the delay);
- "from stored": the worker's ``result stored`` log line (JSON, to the
  millisecond), written once the transaction is committed and announced.

Layouts: ``embedded`` (``autograder serve`` with its worker, SQLite: wake-ups
within the process); ``redis`` (PostgreSQL database, Redis queue) and
``postgresql`` (PostgreSQL database and queue), each with
``GRADER_EMBEDDED_WORKER=false`` and one ``autograder worker`` process, so the
result is stored in another process than the page's. ``--project`` runs
another checkout's service (e.g. one whose pages poll the database every 0.25 s
when the worker is elsewhere), so before and after are measured side by side.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._service import (  # noqa: E402
    REFERENCE,
    ROOT,
    Service,
    percentile,
    postgres_database,
    sign_in,
    upload,
)


def epoch(text: str) -> float:
    moment = datetime.fromisoformat(text)
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def follow(client: httpx.Client, service: Service, submission_id: int) -> tuple[float, list[str]]:
    """Read the page's event stream until ``graded``: when that event arrived, and the events' names."""
    names: list[str] = []
    with client.stream("GET", f"{service.url}/submissions/{submission_id}/events") as response:
        name = None
        for line in response.iter_lines():
            if line.startswith("event: "):
                name = line.removeprefix("event: ")
            elif line == "" and name:
                names.append(name)
                if name == "graded":
                    return time.time(), names
                name = None
    raise SystemExit(f"the stream of submission {submission_id} ended before its result: {names}")


def stored_marks(service: Service, database_url: str | None, ids: list[int]) -> dict[int, tuple[float, float]]:
    """Each submission's (finished_at, result-stored log line) on the epoch clock."""
    logged: dict[int, float] = {}
    for path in service.folder.glob("*.log"):
        for line in path.read_text(errors="replace").splitlines():
            if line.startswith("{"):
                entry = json.loads(line)
                if entry.get("event") == "result-stored" and "submission_id" in entry:
                    logged[entry["submission_id"]] = epoch(entry["time"])
    from sqlalchemy import text

    from grader.db import create_db_engine

    url = database_url or f"sqlite:///{service.folder / 'state' / 'grader.sqlite3'}"
    engine = create_db_engine(url)
    marks = {}
    with engine.connect() as connection:
        for submission_id in ids:
            finished = connection.execute(
                text("SELECT finished_at FROM submissions WHERE id = :id"), {"id": submission_id}
            ).scalar_one()
            finished_text = finished if isinstance(finished, str) else finished.isoformat()
            marks[submission_id] = (epoch(finished_text), logged.get(submission_id, float("nan")))
    engine.dispose()
    return marks


def run(args: argparse.Namespace, layout: str) -> dict:
    environment = {"GRADER_SUBMISSION_INTERVAL_SECONDS": "0", "GRADER_LOG_FORMAT": "json"}
    drops = []
    database_url = None
    if layout != "embedded":
        database_url, drop = postgres_database(args.postgres)
        drops.append(drop)
        environment["GRADER_DATABASE_URL"] = database_url
        if layout == "redis":
            environment["GRADER_QUEUE_URL"] = args.redis
            environment["GRADER_QUEUE_NAME"] = f"grader_bench_{uuid.uuid4().hex[:10]}"
        else:
            queue_url, drop_queue = postgres_database(args.postgres)
            drops.append(drop_queue)
            environment["GRADER_QUEUE_URL"] = queue_url
    service = Service(environment=environment, project=args.project.resolve())
    arrivals: dict[int, float] = {}
    streams_opened_in_time = 0
    try:
        if layout == "embedded":
            service.start_web()
        else:
            service.start_web(GRADER_EMBEDDED_WORKER="false")
            service.start("worker", "--skip-selftest")
        ((email, token),) = service.learners(1)
        source = REFERENCE.read_bytes()
        with httpx.Client(timeout=120) as client:
            sign_in(client, service, email)
            for number in range(args.runs + 2):
                submission_id = upload(client, service, token, source)
                arrived, names = follow(client, service, submission_id)
                if number >= 2:  # the first two warm the worker's sandboxes and page cache
                    arrivals[submission_id] = arrived
                    streams_opened_in_time += names[0] != "graded"
                time.sleep(args.pause)
    finally:
        service.stop()
        marks = stored_marks(service, database_url, list(arrivals)) if arrivals else {}
        for drop in drops:
            drop()
    from_graded = [arrivals[key] - marks[key][0] for key in arrivals]
    from_stored = [arrivals[key] - marks[key][1] for key in arrivals]
    return {
        "layout": layout,
        "from_graded": from_graded,
        "from_stored": from_stored,
        "in_time": streams_opened_in_time,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--layouts", nargs="+", default=["embedded", "redis", "postgresql"])
    parser.add_argument("--pause", type=float, default=0.5, help="seconds between one result and the next upload")
    parser.add_argument("--project", type=Path, default=ROOT, help="checkout whose service is measured")
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    rows = [run(args, layout) for layout in args.layouts]
    print(f"{time.strftime('%Y-%m-%d %H:%M')}  {platform.node()}  {platform.machine()}  cpus={os.cpu_count()}")
    print(f"service from {args.project}; load average {load_before:.2f} before, {os.getloadavg()[0]:.2f} after")
    print(f"{args.runs} results each; the page's stream was open before the result in the runs counted as such")
    print(
        f"{'layout':<12}{'from graded: median':>21}{'p95':>7}{'max':>7}{'from stored: median':>22}{'p95':>7}  open first"
    )
    for row in rows:
        graded, stored = row["from_graded"], row["from_stored"]
        print(
            f"{row['layout']:<12}{statistics.median(graded) * 1000:>18.0f} ms{percentile(graded, 0.95) * 1000:>7.0f}"
            f"{max(graded) * 1000:>7.0f}{statistics.median(stored) * 1000:>19.0f} ms{percentile(stored, 0.95) * 1000:>7.0f}"
            f"  {row['in_time']}/{len(graded)}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
