"""How long reading a submission's source for its diagnoses takes on the host, by file size.

Run by hand (not part of the test suite):

    .venv/bin/python benchmarks/evidence.py --runs 5

The files are our own: the bundled reference solution, and files made of N
copies of an endpoint that writes module-level state (so every part of the
source model has work to do), up to the largest file the model reads. For each
it times ``build_source_model`` (the syntax tree read into the model) and
``checker_facts`` (pyflakes), and ``parse_traceback`` on a case's output with a
long traceback. Nothing here runs the files.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from grader.grading.evidence import build_source_model, checker_facts, parse_traceback
from grader.grading.evidence.source import MAX_SOURCE_CHARS

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "examples" / "solution.py"
ENDPOINT = (
    "@app.post('/m{i}')\n"
    "async def handler_{i}(msg: dict):\n"
    "    global count\n"
    "    count += 1\n"
    "    seen['k{i}'] = msg\n"
    "    data = json.dumps(msg)\n"
    "    return {{'received': json.loads(data)}}\n\n"
)


def endpoints_file(size: int) -> str:
    """A file of about ``size`` characters: one app and as many endpoints as fit."""
    parts = ["import json\nfrom fastapi import FastAPI\n\napp = FastAPI()\ncount = 0\nseen = {}\n\n"]
    index = 0
    while sum(len(part) for part in parts) < size:
        parts.append(ENDPOINT.format(i=index))
        index += 1
    return "".join(parts)


def long_traceback(frames: int) -> str:
    lines = ["ERROR:    Exception in ASGI application", "Traceback (most recent call last):"]
    lines += ['  File "solution.py", line 7, in reply', "    return reply(msg)"] * frames
    lines += ["RecursionError: maximum recursion depth exceeded"]
    return "\n".join(lines)


def timed(work: Callable[[], object], runs: int) -> float:
    """The median of ``runs`` timings of ``work``, in milliseconds."""
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        work()
        times.append((time.perf_counter() - began) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    files = {"reference solution": REFERENCE.read_text(encoding="utf-8")}
    for size in (16 * 1024, 64 * 1024, MAX_SOURCE_CHARS):
        files[f"{size // 1024} KiB of endpoints"] = endpoints_file(size - 200)
    print(
        f"{time.strftime('%Y-%m-%d %H:%M')}, {platform.machine()}, Python {platform.python_version()}, median of {args.runs}"
    )
    print(f"{'file':24} {'chars':>8} {'source model':>14} {'pyflakes':>10}")
    for name, text in files.items():
        model = timed(lambda text=text: build_source_model(text), args.runs)
        checker = timed(lambda text=text: checker_facts(text), args.runs)
        print(f"{name:24} {len(text):8,} {model:11.1f} ms {checker:7.1f} ms")
    output = long_traceback(1000)
    print(
        f"{'traceback, 1,000 frames':24} {len(output):8,} {timed(lambda: parse_traceback(output), args.runs):11.1f} ms"
    )


if __name__ == "__main__":
    main()
