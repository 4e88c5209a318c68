"""Upload → graded through the API, busy and after a quiet spell, beside the naive way of grading.

Run by hand (not part of the test suite):

    .venv/bin/python benchmarks/dispatch.py --runs 15 --idle-runs 5 [--project OTHER_CHECKOUT]

In one run it measures:
- "naive": a fresh unsandboxed Python that imports the reference solution and
  sends the exercise's cases with Starlette's TestClient (spawn to exit);
- "busy": ``autograder serve`` (embedded worker, SQLite database and queue, the
  real sandbox) taking uploads back to back through the API: upload → graded;
- "after idle": the same, each upload after ``--idle-seconds`` (12) of quiet;
- where the time goes, for both: the client's clock (upload sent, upload
  answered, result in hand) beside the row's timestamps (created, claimed,
  graded) and the worker's JSON log lines (grading started, result stored),
  all on this machine's clock; "dispatch" is created → claimed.
- "burst": ``--burst`` (30) learners upload at the same moment and each
  follows its result; gradings per second from the first upload to the last
  result, beside the naive way's with two fresh Pythons at a time (the
  machine's two cores), in the same run.
The client learns the result with the API's long poll (``?wait=``), as a
script following a submission would, so no polling interval is measured.
``--project`` runs the service from another checkout (e.g. an older commit) so
that before and after are measured on the same machine in the same hour. The
learner and its API token are made with this checkout's code, so the other
checkout must share its schema and token scheme (the README's "before" row was
measured against 70755f4, before API tokens were stored).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
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


STAGES = [
    ("upload sent → row created", "sent", "created"),
    ("row created → upload answered", "created", "answered"),
    ("row created → claimed (dispatch)", "created", "claimed"),
    ("claimed → grading starts", "claimed", "grading"),
    ("grading starts → graded (engine)", "grading", "finished"),
    ("graded → result stored (commit)", "finished", "stored"),
    ("result stored → client has it", "stored", "seen"),
]
"""Where the time from upload to result goes: stage name, from-mark, to-mark (see ``timeline``)."""


def through_api(service: Service, token: str, runs: int, idle: float) -> tuple[list[float], list[dict[str, float]]]:
    source = REFERENCE.read_bytes()
    latencies, timelines = [], []
    with httpx.Client(timeout=120) as client:
        for _ in range(runs):
            if idle:
                time.sleep(idle)
            sent = time.time()
            started = time.perf_counter()
            submission_id = upload(client, service, token, source)
            answered = time.time()
            graded = wait_graded(client, service, token, submission_id)
            latencies.append(time.perf_counter() - started)
            seen = time.time()
            if graded["report"]["status"] != "passed":
                raise SystemExit(f"the reference solution did not pass: {graded['report']}")
            timelines.append({"id": submission_id, "sent": sent, "answered": answered, "seen": seen})
    return latencies, timelines


def burst(service: Service, tokens: list[str]) -> tuple[float, list[float]]:
    """Every learner uploads at the same moment and follows its result: gradings/s, and each one's latency."""
    source = REFERENCE.read_bytes()
    barrier = threading.Barrier(len(tokens))
    latencies: list[float] = []

    def learner(token: str) -> float:
        with httpx.Client(timeout=300) as client:
            barrier.wait()
            started = time.perf_counter()
            graded = wait_graded(client, service, token, upload(client, service, token, source))
            if graded["report"]["status"] != "passed":
                raise SystemExit(f"the reference solution did not pass: {graded['report']}")
            latencies.append(time.perf_counter() - started)
            return time.perf_counter()

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=len(tokens)) as pool:
        finished = list(pool.map(learner, tokens))
    return len(tokens) / (max(finished) - started), latencies


def naive_burst(count: int, processes: int = 2) -> float:
    """Naive gradings/s: ``count`` gradings, ``processes`` fresh Pythons at a time."""
    cases = naive_cases()

    def one(_: int) -> None:
        subprocess.run([sys.executable, "-c", NAIVE_SCRIPT, str(REFERENCE)], input=cases, text=True, check=True)

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=processes) as pool:
        list(pool.map(one, range(count)))
    return count / (time.perf_counter() - started)


def timeline(service: Service, marks: list[dict[str, float]]) -> list[dict[str, float]]:
    """Add the service's marks to the client's: the row's timestamps and the worker's log lines (JSON)."""
    import sqlite3
    from datetime import UTC, datetime

    def epoch(text: str) -> float:
        moment = datetime.fromisoformat(text)
        return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()

    logged: dict[tuple[int, str], float] = {}
    for path in service.folder.glob("serve-*.log"):
        for line in path.read_text(errors="replace").splitlines():
            if not line.startswith("{"):
                continue
            entry = json.loads(line)
            if "submission_id" in entry and entry.get("event") in ("grading-started", "result-stored"):
                logged[(entry["submission_id"], entry["event"])] = epoch(entry["time"])
    connection = sqlite3.connect(service.folder / "state" / "grader.sqlite3")
    for mark in marks:
        created, started, finished = connection.execute(
            "SELECT created_at, started_at, finished_at FROM submissions WHERE id = ?", (mark["id"],)
        ).fetchone()
        mark.update(created=epoch(created), claimed=epoch(started), finished=epoch(finished))
        mark["grading"] = logged.get((int(mark["id"]), "grading-started"), float("nan"))
        mark["stored"] = logged.get((int(mark["id"]), "result-stored"), float("nan"))
    connection.close()
    return marks


def print_stages(title: str, marks: list[dict[str, float]]) -> None:
    print(f"  {title} (median / p95 ms; log lines are to the millisecond)")
    for name, start, end in STAGES:
        spans = [mark[end] - mark[start] for mark in marks]
        print(f"    {name:<36} {summary(spans)}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--idle-runs", type=int, default=5)
    parser.add_argument("--idle-seconds", type=float, default=12.0)
    parser.add_argument("--burst", type=int, default=30, help="learners uploading at once (0: no burst)")
    parser.add_argument("--project", type=Path, default=ROOT, help="checkout whose service is measured")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="GRADER_NAME=VALUE",
        help="a setting of the service (repeatable), e.g. GRADER_WORKER_THREADS=3",
    )
    args = parser.parse_args()
    settings = dict(item.split("=", 1) for item in args.set)

    load_before = os.getloadavg()[0]
    service = Service(
        environment={"GRADER_SUBMISSION_INTERVAL_SECONDS": "0", "GRADER_LOG_FORMAT": "json", **settings},
        project=args.project.resolve(),
    )
    try:
        service.start_web()
        (token,) = service.learner_tokens(1)
        through_api(service, token, 2, 0)  # warm up: runtime bytecode, first sandbox
        busy, busy_marks = through_api(service, token, args.runs, 0)
        quiet, quiet_marks = through_api(service, token, args.idle_runs, args.idle_seconds)
        busy_marks, quiet_marks = timeline(service, busy_marks), timeline(service, quiet_marks)
        burst_rate, burst_latencies = burst(service, service.learner_tokens(args.burst)) if args.burst else (0, [])
    finally:
        service.stop()
    baseline = naive(args.runs)
    naive_rate = naive_burst(args.burst) if args.burst else 0

    print(
        f"{time.strftime('%Y-%m-%d %H:%M')}  {platform.node()}  {platform.machine()}  cpus={__import__('os').cpu_count()}"
    )
    if settings:
        print("settings: " + ", ".join(f"{name}={value}" for name, value in settings.items()))
    print(f"service from {args.project}; load average {load_before:.2f} before, {os.getloadavg()[0]:.2f} after")
    print(f"naive (fresh python + TestClient)  {summary(baseline)}")
    for label, times in (("busy", busy), ("after idle", quiet)):
        if times:
            ratio = statistics.median(times) / statistics.median(baseline)
            print(f"API upload → graded, {label:<12} {summary(times)}   ({ratio:.2f} × naive)")
    if args.burst:
        print(
            f"burst of {args.burst} learners through the API  {burst_rate:5.2f} gradings/s   "
            f"(naive, 2 processes at a time: {naive_rate:5.2f} gradings/s)   each learner: {summary(burst_latencies)}"
        )
    print_stages("where the time goes, busy", busy_marks)
    if quiet_marks:
        print_stages("where the time goes, after idle", quiet_marks)
    return 0


if __name__ == "__main__":
    sys.exit(main())
