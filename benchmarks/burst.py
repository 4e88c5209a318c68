"""Capacity on shared engines: time to drain a burst of uploads with 1 and 2 workers, and the web's p95.

Run by hand (not part of the test suite), with PostgreSQL and Redis running:

    .venv/bin/python benchmarks/burst.py --submissions 200 --workers 1 2

For each worker count it makes a fresh PostgreSQL database (dropped afterwards)
and a Redis queue name of its own, starts ``autograder serve`` without its
embedded worker and N ``autograder worker`` processes (``--threads`` gradings
each), then uploads ``--submissions`` copies of the reference solution, one per
learner, ``--clients`` at a time, through the API. It reports the time from the
first upload until every submission is graded, the upload latency, and the
latency of a learner's status request (``GET /api/v1/submissions/{id}``) made
every 100 ms while the queue drains.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._service import REFERENCE, Service, percentile, postgres_database, upload  # noqa: E402


def _count_graded(url: str, ids: list[int]) -> int:
    from sqlmodel import Session, func, select

    from grader.db import create_db_engine
    from grader.models import Submission

    engine = create_db_engine(url)
    with Session(engine) as session:
        graded = session.exec(
            select(func.count()).select_from(Submission).where(Submission.status == "graded", Submission.id.in_(ids))
        ).one()
    engine.dispose()
    return graded


def run(args, workers: int) -> dict:
    database_url, drop = postgres_database(args.postgres)
    queue_name = f"grader_bench_{uuid.uuid4().hex[:10]}"
    service = Service(
        environment={
            "GRADER_DATABASE_URL": database_url,
            "GRADER_QUEUE_URL": args.redis,
            "GRADER_QUEUE_NAME": queue_name,
            "GRADER_WORKER_THREADS": str(args.threads),
            "GRADER_MAX_QUEUED": str(args.submissions + 1),
        }
    )
    try:
        service.start_web(GRADER_EMBEDDED_WORKER="false")
        for _ in range(workers):
            service.start("worker", "--skip-selftest")
        tokens = service.learner_tokens(args.submissions)
        source = REFERENCE.read_bytes()
        # One grading first so that every worker's page cache is warm.
        with httpx.Client(timeout=120) as client:
            warm = service.learner_tokens(1)[0]
            warm_id = upload(client, service, warm, source)
            while _count_graded(database_url, [warm_id]) < 1:
                time.sleep(0.2)

        status_latencies: list[float] = []
        draining = threading.Event()

        def watch() -> None:
            with httpx.Client(timeout=60) as client:
                while not draining.is_set():
                    started = time.perf_counter()
                    client.get(
                        f"{service.url}/api/v1/submissions/{warm_id}", headers={"Authorization": f"Bearer {warm}"}
                    )
                    status_latencies.append(time.perf_counter() - started)
                    time.sleep(0.1)

        watcher = threading.Thread(target=watch)
        watcher.start()
        upload_latencies: list[float] = []
        started = time.perf_counter()

        def send(token: str) -> int:
            with httpx.Client(timeout=120) as client:
                began = time.perf_counter()
                submission_id = upload(client, service, token, source)
                upload_latencies.append(time.perf_counter() - began)
                return submission_id

        with ThreadPoolExecutor(max_workers=args.clients) as pool:
            ids = list(pool.map(send, tokens))
        uploaded = time.perf_counter() - started
        while _count_graded(database_url, ids) < len(ids):
            time.sleep(0.2)
        drained = time.perf_counter() - started
        draining.set()
        watcher.join()
    finally:
        service.stop()
        drop()
    return {
        "workers": workers,
        "drain": drained,
        "rate": len(ids) / drained,
        "uploaded": uploaded,
        "upload_p95": percentile(upload_latencies, 0.95),
        "status_median": statistics.median(status_latencies),
        "status_p95": percentile(status_latencies, 0.95),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submissions", type=int, default=200)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--threads", type=int, default=2, help="gradings at once per worker")
    parser.add_argument("--clients", type=int, default=20, help="uploads in flight at once")
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    args = parser.parse_args()
    rows = [run(args, workers) for workers in args.workers]
    print(
        f"{time.strftime('%Y-%m-%d %H:%M')}  {platform.node()}  {platform.machine()}  cpus={__import__('os').cpu_count()}"
    )
    print(
        f"{args.submissions} uploads of the reference solution, {args.clients} clients, {args.threads} threads/worker"
    )
    print(
        f"{'workers':>8}{'drain s':>9}{'graded/s':>10}{'uploads s':>11}{'upload p95':>12}{'status med':>12}{'status p95':>12}"
    )
    for row in rows:
        print(
            f"{row['workers']:>8}{row['drain']:>9.1f}{row['rate']:>10.2f}{row['uploaded']:>11.1f}"
            f"{row['upload_p95'] * 1000:>10.0f}ms{row['status_median'] * 1000:>10.0f}ms{row['status_p95'] * 1000:>10.0f}ms"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
