"""Grading latency and throughput, beside a no-sandbox baseline measured in the same run.

Run by hand (not part of the test suite):

    .venv/bin/python benchmarks/grading.py --runs 20 --concurrency 2

It grades the bundled reference solution (our own code, never a learner's) with:
- "sandboxed": the real engine: slot, cgroups, bubblewrap, uvicorn, every case;
- "baseline": the same boot script and cases in a fresh Python process with no
  sandbox at all, i.e. the cost of Python, FastAPI and uvicorn alone.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from grader.config import get_settings  # noqa: E402
from grader.grading.runner import grade_source  # noqa: E402
from grader.grading.spec import load_exercises  # noqa: E402


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def measure(label: str, config, spec, source: str, runs: int, concurrency: int) -> dict:
    def one(_: int) -> float:
        started = time.perf_counter()
        report = grade_source(spec, source, config=config)
        elapsed = time.perf_counter() - started
        if report.status != "passed":
            raise SystemExit(f"{label}: the reference solution did not pass: {report.summary()}")
        return elapsed

    one(0)  # warm the page cache and the runtime's bytecode
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        latencies = list(pool.map(one, range(runs)))
    wall = time.perf_counter() - started
    return {
        "label": label,
        "median": statistics.median(latencies),
        "p95": _percentile(latencies, 0.95),
        "rate": runs / wall,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--exercise", default="message-echo")
    args = parser.parse_args()

    settings = get_settings()
    spec = load_exercises(settings.exercises_dir)[args.exercise]
    source = (ROOT / "examples" / "solution.py").read_text()
    rows = [
        measure(
            "baseline (no sandbox)",
            settings.sandbox_config(unsafe_no_sandbox=True),
            spec,
            source,
            args.runs,
            args.concurrency,
        ),
        measure("sandboxed", settings.sandbox_config(), spec, source, args.runs, args.concurrency),
    ]
    print(f"{time.strftime('%Y-%m-%d')}  {platform.node()}  {platform.machine()}  cpus={__import__('os').cpu_count()}")
    print(
        f"exercise={args.exercise} cases={sum(c.random or 1 for c in spec.cases)} runs={args.runs} concurrency={args.concurrency}"
    )
    print(f"{'':24}{'median s':>10}{'p95 s':>10}{'gradings/s':>12}")
    for row in rows:
        print(f"{row['label']:24}{row['median']:>10.3f}{row['p95']:>10.3f}{row['rate']:>12.2f}")
    overhead = rows[1]["median"] - rows[0]["median"]
    print(f"sandbox overhead (median): {overhead * 1000:+.0f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
