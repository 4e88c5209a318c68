"""Upload → graded through the API, busy and after a quiet spell, beside the naive way of grading.

Run by hand (not part of the test suite):

    .venv/bin/python benchmarks/dispatch.py --runs 15 --idle-runs 5 [--project OTHER_CHECKOUT]

In one run it measures:
- "naive": a fresh unsandboxed Python that imports the reference solution and
  sends the exercise's cases with Starlette's TestClient (spawn to exit);
- "busy": ``autograder serve`` (embedded worker, SQLite database and queue, the
  real sandbox) taking uploads back to back through the API: upload → graded;
- "after idle": the same, each upload after ``--idle-seconds`` (12) of quiet;
- "dispatch": for both, the time from the row's creation to a worker's claim
  (``started_at - created_at``), i.e. what the queue adds.
``--project`` runs the service from another checkout (e.g. an older commit) so
that before and after are measured on the same machine in the same hour. The
learner and its API token are made with this checkout's code, so the other
checkout must share its schema and token scheme (the README's "before" row was
measured against 70755f4, before API tokens were stored).
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._service import REFERENCE, ROOT, Service, summary, upload, wait_graded  # noqa: E402

NAIVE_SCRIPT = r"""
import importlib.util, json, sys
cases = json.loads(sys.stdin.read())
spec = importlib.util.spec_from_file_location("solution", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
from starlette.testclient import TestClient
with TestClient(module.app) as client:
    for case in cases:
        body = bytes.fromhex(case["body"]) if case["body"] is not None else None
        response = client.request(case["method"], case["path"], headers=case["headers"], content=body)
        assert response.status_code == case["status"], (case["name"], response.status_code)
"""


def naive_cases() -> str:
    from grader.grading.cases import expand_cases
    from grader.grading.spec import load_exercises

    spec = load_exercises(ROOT / "exercises")["message-echo"]
    return json.dumps(
        [
            {
                "name": case.name,
                "method": case.method,
                "path": case.path,
                "headers": case.headers,
                "body": case.body.hex() if case.body is not None else None,
                "status": case.expected_status,
            }
            for case in expand_cases(spec, 1234)
        ]
    )


def naive(runs: int) -> list[float]:
    cases = naive_cases()
    times = []
    for _ in range(runs + 1):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", NAIVE_SCRIPT, str(REFERENCE)], input=cases, text=True, check=True)
        times.append(time.perf_counter() - started)
    return times[1:]  # the first warms the page cache


def through_api(service: Service, token: str, runs: int, idle: float) -> tuple[list[float], list[float]]:
    source = REFERENCE.read_bytes()
    latencies, dispatch = [], []
    with httpx.Client(timeout=120) as client:
        for _ in range(runs):
            if idle:
                time.sleep(idle)
            started = time.perf_counter()
            submission_id = upload(client, service, token, source)
            graded = wait_graded(client, service, token, submission_id)
            latencies.append(time.perf_counter() - started)
            if graded["report"]["status"] != "passed":
                raise SystemExit(f"the reference solution did not pass: {graded['report']}")
            dispatch.append(claim_delay(service, submission_id))
    return latencies, dispatch


def claim_delay(service: Service, submission_id: int) -> float:
    import sqlite3

    connection = sqlite3.connect(service.folder / "state" / "grader.sqlite3")
    created, started = connection.execute(
        "SELECT created_at, started_at FROM submissions WHERE id = ?", (submission_id,)
    ).fetchone()
    connection.close()
    from datetime import datetime

    return (datetime.fromisoformat(started) - datetime.fromisoformat(created)).total_seconds()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--idle-runs", type=int, default=5)
    parser.add_argument("--idle-seconds", type=float, default=12.0)
    parser.add_argument("--project", type=Path, default=ROOT, help="checkout whose service is measured")
    args = parser.parse_args()

    service = Service(environment={"GRADER_SUBMISSION_INTERVAL_SECONDS": "0"}, project=args.project.resolve())
    try:
        service.start_web()
        (token,) = service.learner_tokens(1)
        through_api(service, token, 2, 0)  # warm up: runtime bytecode, first sandbox
        busy, busy_dispatch = through_api(service, token, args.runs, 0)
        quiet, quiet_dispatch = through_api(service, token, args.idle_runs, args.idle_seconds)
    finally:
        service.stop()
    baseline = naive(args.runs)

    print(
        f"{time.strftime('%Y-%m-%d %H:%M')}  {platform.node()}  {platform.machine()}  cpus={__import__('os').cpu_count()}"
    )
    print(f"service from {args.project}")
    print(f"naive (fresh python + TestClient)  {summary(baseline)}")
    print(
        f"API upload → graded, busy         {summary(busy)}   ({statistics.median(busy) / statistics.median(baseline):.2f} × naive)"
    )
    print(
        f"API upload → graded, after idle   {summary(quiet)}   ({statistics.median(quiet) / statistics.median(baseline):.2f} × naive)"
    )
    print(f"dispatch (created → claimed), busy       {summary(busy_dispatch)}")
    print(f"dispatch (created → claimed), after idle {summary(quiet_dispatch)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
