"""Grading latency, throughput and memory: the naive way, a cold sandbox and the warm (pooled) path, in one run.

Run by hand (not part of the test suite):

    .venv/bin/python benchmarks/grading.py --runs 20

It grades the bundled reference solution (our own code, never a learner's) with:
- "naive": what a grader without a sandbox does: a fresh Python process that
  imports the solution and sends the same cases with Starlette's TestClient;
- "cold sandbox": the engine starting a sandbox per grading (slot, cgroups,
  bubblewrap, interpreter and imports, uvicorn, every case, tear-down);
- "naive xN": the same, ``--runs`` gradings from ``--concurrency`` processes at once;
- "warm (pool)": the engine taking a sandbox a pool started ahead through
  bubblewrap (no template); the pool is given time to refill between gradings,
  as between learners' submissions;
- "burst xN (pool)": the same pool, ``--runs`` gradings sent at once from
  ``--concurrency`` threads, so the refill is on the critical path;
- "warm (forked)" and "burst xN (forked)": the same with the pool's sandboxes
  forked from a template (the worker's default when it runs as root).

Latency is per grading (median and 95th percentile); gradings/s is over the
wall time of the whole series. Memory: the peak of all the sandboxes' cgroups
added up, sampled every 20 ms, and the peak resident memory of the process that
grades (this one, or the naive child).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from grader.config import get_settings  # noqa: E402
from grader.grading.cases import expand_cases  # noqa: E402
from grader.grading.runner import grade_source  # noqa: E402
from grader.grading.sandbox import CGROUP_ROOT, SandboxConfig  # noqa: E402
from grader.grading.sandbox.pool import SandboxPool  # noqa: E402
from grader.grading.spec import ExerciseSpec, load_exercises  # noqa: E402

# The naive grader: trusted code only (the reference solution), never a submission.
NAIVE = r"""
import json, resource, sys
from starlette.testclient import TestClient
cases = json.loads(sys.stdin.read())
namespace = {"__name__": "solution"}
exec(compile(open(sys.argv[1]).read(), "solution.py", "exec"), namespace)
passed = 0
with TestClient(namespace["app"]) as client:
    for case in cases:
        body = None if case["body"] is None else case["body"].encode("latin-1")
        response = client.request(case["method"], case["path"], content=body, headers=case["headers"])
        ok = response.status_code == case["status"]
        if ok and case["checks_body"]:
            try:
                ok = response.json() == case["expected"]
            except ValueError:
                ok = False
        passed += ok
print(json.dumps({"passed": passed, "cases": len(cases), "rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"""


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


class MemorySampler:
    """Samples the memory of every cgroup of ``config``'s slots, keeping the peak of their sum."""

    def __init__(self, config: SandboxConfig) -> None:
        self.files = [
            CGROUP_ROOT / "memory" / "grader" / f"uid{uid}" / "memory.usage_in_bytes" for uid in config.slot_uids
        ] + [CGROUP_ROOT / "grader" / f"uid{uid}" / "memory.current" for uid in config.slot_uids]
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            total = 0
            for path in self.files:
                try:
                    total += int(path.read_text())
                except (OSError, ValueError):
                    continue
            self.peak = max(self.peak, total)
            self._stop.wait(0.02)

    def __enter__(self) -> MemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()


def series(label: str, one: Callable[[int], float], runs: int, concurrency: int, before_each=None) -> dict:
    """Run ``one`` ``runs`` times; ``before_each`` (untimed) runs before each grading when sequential."""
    latencies: list[float] = []
    wall = 0.0
    if concurrency == 1:
        for index in range(runs):
            if before_each is not None:
                before_each()
            started = time.perf_counter()
            latencies.append(one(index))
            wall += time.perf_counter() - started
    else:
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=concurrency) as executor:
            latencies = list(executor.map(one, range(runs)))
        wall = time.perf_counter() - started
    return {
        "label": label,
        "median": statistics.median(latencies),
        "p95": _percentile(latencies, 0.95),
        "rate": runs / wall,
    }


def naive_one(spec: ExerciseSpec, solution: Path, peak: list[int]) -> Callable[[int], float]:
    def one(index: int) -> float:
        cases = [
            {
                "method": case.method,
                "path": case.path,
                "headers": case.headers,
                "body": None if case.body is None else case.body.decode("latin-1"),
                "status": case.expected_status,
                "checks_body": case.checks_body,
                "expected": case.expected_body if case.checks_body else None,
            }
            for case in expand_cases(spec, index)
        ]
        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-c", NAIVE, str(solution)],
            input=json.dumps(cases),
            capture_output=True,
            text=True,
            check=True,
        )
        elapsed = time.perf_counter() - started
        result = json.loads(done.stdout)
        if result["passed"] != result["cases"]:
            raise SystemExit(f"naive: the reference solution passed {result['passed']}/{result['cases']} cases")
        peak.append(result["rss"] * 1024)
        return elapsed

    return one


def engine_one(label: str, spec: ExerciseSpec, source: str, config: SandboxConfig, pool: SandboxPool | None):
    def one(index: int) -> float:
        started = time.perf_counter()
        report = grade_source(spec, source, seed=index, config=config, pool=pool)
        elapsed = time.perf_counter() - started
        if report.status != "passed":
            raise SystemExit(f"{label}: the reference solution did not pass: {report.summary()}")
        return elapsed

    return one


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--concurrency", type=int, default=2, help="threads of the burst series")
    parser.add_argument("--pool-size", type=int, default=2)
    parser.add_argument("--exercise", default="message-echo")
    parser.add_argument("--uid-base", type=int, default=63968, help="host uids of the benchmark's own slots")
    args = parser.parse_args()

    settings = get_settings()
    spec = load_exercises(settings.exercises_dir)[args.exercise]
    solution = ROOT / "examples" / "solution.py"
    source = solution.read_text()
    config = dataclasses.replace(settings.sandbox_config(), uid_base=args.uid_base)
    rows = []

    naive_peaks: list[int] = []
    naive = naive_one(spec, solution, naive_peaks)
    naive(0)  # warm the page cache
    rows.append({**series("naive (no sandbox)", naive, args.runs, 1), "memory": max(naive_peaks)})
    rows.append(
        {**series(f"naive x{args.concurrency}", naive, args.runs, args.concurrency), "memory": max(naive_peaks)}
    )

    cold = engine_one("cold", spec, source, config, None)
    cold(0)
    with MemorySampler(config) as sampler:
        rows.append({**series("cold sandbox", cold, args.runs, 1), "memory": sampler.peak})

    first_graded: dict[str, float] = {}
    first_ready: dict[str, float] = {}
    statuses = {}
    for template in (False, True):
        kind = "forked" if template else "pool"
        began = time.perf_counter()
        with SandboxPool(config, size=args.pool_size, template=template) as pool:
            warm = engine_one(kind, spec, source, config, pool)
            warm(0)  # a submission arriving as the worker starts: the pool has nothing ready yet
            first_graded[kind] = time.perf_counter() - began
            if template and not pool.wait_template(60):
                print(f"no sandbox template here ({pool.status().last_error or 'not root'}): forked rows skipped")
                continue
            pool.wait_ready(spec.limits, spec.entry_point, 60)
            first_ready[kind] = time.perf_counter() - began

            def refill(pool: SandboxPool = pool) -> None:
                pool.wait_ready(spec.limits, spec.entry_point, 60)

            with MemorySampler(config) as sampler:
                rows.append(
                    {**series(f"warm ({kind})", warm, args.runs, 1, before_each=refill), "memory": sampler.peak}
                )
            refill()
            with MemorySampler(config) as sampler:
                rows.append(
                    {
                        **series(f"burst x{args.concurrency} ({kind})", warm, args.runs, args.concurrency),
                        "memory": sampler.peak,
                    }
                )
            statuses[kind] = pool.status()

    print(f"{time.strftime('%Y-%m-%d %H:%M')}  {platform.node()}  {platform.machine()}  cpus={os.cpu_count()}")
    print(f"load average (1 min) at the end: {os.getloadavg()[0]:.1f}")
    print(
        f"exercise={args.exercise} cases={len(expand_cases(spec, 0))} runs={args.runs} "
        f"burst concurrency={args.concurrency} pool size={args.pool_size}"
    )
    print(f"{'':22}{'median ms':>10}{'p95 ms':>10}{'gradings/s':>12}{'peak MB':>10}")
    for row in rows:
        print(
            f"{row['label']:22}{row['median'] * 1000:>10.0f}{row['p95'] * 1000:>10.0f}"
            f"{row['rate']:>12.2f}{row['memory'] / 2**20:>10.0f}"
        )
    print("peak MB: naive = the child's peak resident memory; engine rows = all sandboxes' cgroups at once")
    for kind, status in statuses.items():
        print(
            f"{kind}: first grading done {first_graded[kind]:.2f} s after the pool opened; "
            f"{args.pool_size} sandboxes ready after {first_ready[kind]:.2f} s; "
            f"served {status.served}, started on demand {status.cold}"
            + (f"; template {status.template_memory_bytes / 2**20:.0f} MB resident" if status.template else "")
        )
    print(f"grader process peak resident memory: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    by_label = {row["label"]: row for row in rows}
    naive_row, naive_burst = rows[0], rows[1]
    for kind in statuses:
        warm_row, burst_row = by_label[f"warm ({kind})"], by_label[f"burst x{args.concurrency} ({kind})"]
        print(
            f"{kind}: warm median / naive median {warm_row['median'] / naive_row['median']:.2f}; "
            f"burst throughput / naive x{args.concurrency} throughput {burst_row['rate'] / naive_burst['rate']:.2f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
