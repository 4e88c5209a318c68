"""Upload + enqueue under load: 50 learners' clients uploading at once to ``autograder serve``, driven by wrk.

Needs wrk (an HTTP load generator written in C): ``apt-get install -y wrk`` on
Debian/Ubuntu, ``brew install wrk`` on macOS. Run by hand (not part of the
test suite):

    .venv/bin/python benchmarks/upload_load.py [--clients 50] [--seconds 20] [--think-ms 10000 2000 1000 0] [--project DIR]

The service runs as an operator starts it, on the default layout (SQLite
database and queue) without its embedded worker, so what is measured is the
upload path alone: bearer-token check, multipart parsing, the limits (per
learner and queue length, asked of the database), the row, its commit and the
queue's. The queue is only filled (every upload is graded elsewhere or not at
all), and the limits are set high enough to let every upload through while
still being checked.

wrk keeps ``--clients`` connections open, each one a learner (its own API
token) that uploads the reference solution, waits for the answer, then thinks
for a random time (exponential, mean ``--think-ms``) before the next upload; so
``--think-ms 0`` is the saturation throughput, where latency is the clients'
own queue (Little's law), and a think time gives an offered rate of about
clients / think time. 10 s is the most a learner can send by default (one
grading per ``GRADER_SUBMISSION_INTERVAL_SECONDS``, 10): 50 learners each
uploading as soon as the limit lets them offer about 5 uploads a second. (With a fixed think time the 50 clients, started
together, would stay in step and every upload would queue behind 49 others.) For each think
time it prints the uploads per second and the latency percentiles wrk
measured, and checks that every 202 made exactly one row.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._service import REFERENCE, ROOT, Service  # noqa: E402

BOUNDARY = "grader-benchmark-boundary"

LUA = r"""
local tokens = {%(tokens)s}
local body = %(body)s
local think = %(think)d
local counter = 0
local offset = 0
local threads = {}

function setup(thread)
   thread:set("offset", #threads * 7919)
   table.insert(threads, thread)
end

function init(args)
   counter = offset
   math.randomseed(offset + 1)
end

function request()
   counter = counter + 1
   local token = tokens[(counter %% #tokens) + 1]
   return wrk.format("POST", "/api/v1/exercises/message-echo/submissions", {
      ["Authorization"] = "Bearer " .. token,
      ["Content-Type"] = "multipart/form-data; boundary=%(boundary)s",
      -- A new connection per upload, as a learner's curl or browser form after a pause makes.
      ["Connection"] = "close",
   }, body)
end

function delay()
   -- Exponential think times: clients that happened to send at once drift apart, as people do.
   if think == 0 then return 0 end
   return math.floor(-think * math.log(1 - math.random()))
end

local statuses = {}
function response(status, headers, body)
   statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
   io.write(string.format("RESULT requests=%%d seconds=%%.3f connect=%%d read=%%d write=%%d timeout=%%d non2xx=%%d\n",
      summary.requests, summary.duration / 1e6, summary.errors.connect, summary.errors.read,
      summary.errors.write, summary.errors.timeout, summary.errors.status))
   for _, p in ipairs({50, 90, 95, 99}) do
      io.write(string.format("RESULT p%%d=%%.2f\n", p, latency:percentile(p) / 1000))
   end
   io.write(string.format("RESULT max=%%.2f mean=%%.2f\n", latency.max / 1000, latency.mean / 1000))
end
"""


def lua_string(data: bytes) -> str:
    """``data`` as a Lua string literal (decimal escapes, so any byte goes through)."""
    return '"' + "".join(f"\\{byte}" for byte in data) + '"'


def multipart(source: bytes) -> bytes:
    return (
        (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="solution.py"\r\n'
            f"Content-Type: text/x-python\r\n\r\n"
        ).encode()
        + source
        + f"\r\n--{BOUNDARY}--\r\n".encode()
    )


def rows(service: Service) -> int:
    connection = sqlite3.connect(service.folder / "state" / "grader.sqlite3")
    (count,) = connection.execute("SELECT count(*) FROM submissions").fetchone()
    connection.close()
    return count


def run_wrk(service: Service, script: Path, clients: int, seconds: int, threads: int) -> dict[str, float]:
    output = subprocess.run(
        ["wrk", f"-t{threads}", f"-c{clients}", f"-d{seconds}s", "--timeout", "30s", "-s", str(script), service.url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    values = dict(re.findall(r"(\w+)=([\d.]+)", " ".join(line for line in output.splitlines() if "RESULT" in line)))
    if not values:
        raise SystemExit(f"wrk printed no result:\n{output}")
    return {key: float(value) for key, value in values.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--think-ms", type=int, nargs="+", default=[10000, 2000, 1000, 0])
    parser.add_argument("--threads", type=int, default=1, help="wrk threads (it shares the machine with the service)")
    parser.add_argument("--project", type=Path, default=ROOT, help="checkout whose service is measured")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install -y wrk (Debian/Ubuntu) or brew install wrk (macOS)")

    service = Service(
        environment={
            "GRADER_SUBMISSION_INTERVAL_SECONDS": "0",
            "GRADER_MAX_PENDING_PER_LEARNER": "100000",
            "GRADER_MAX_QUEUED": "1000000",
        },
        project=args.project.resolve(),
    )
    results = []
    load_before = os.getloadavg()[0]
    try:
        service.start_web(GRADER_EMBEDDED_WORKER="false")
        tokens = service.learner_tokens(args.clients)
        body = multipart(REFERENCE.read_bytes())
        folder = Path(tempfile.mkdtemp(prefix="grader-wrk-"))
        for think in args.think_ms:
            script = folder / f"upload-{think}.lua"
            script.write_text(
                LUA
                % {
                    "tokens": ", ".join(f'"{token}"' for token in tokens),
                    "body": lua_string(body),
                    "think": think,
                    "boundary": BOUNDARY,
                }
            )
            before = rows(service)
            result = run_wrk(service, script, args.clients, args.seconds, args.threads)
            made = rows(service) - before
            results.append((think, result, made))
            time.sleep(2)
        shutil.rmtree(folder)
    finally:
        service.stop()

    print(f"{time.strftime('%Y-%m-%d %H:%M')}  {platform.node()}  {platform.machine()}  cpus={os.cpu_count()}")
    print(f"service from {args.project}; load average {load_before:.2f} before, {os.getloadavg()[0]:.2f} after")
    print(f"{args.clients} clients (one learner each), {args.seconds} s per row, wrk -t{args.threads}")
    print(f"{'think ms':>9}{'uploads/s':>11}{'p50 ms':>9}{'p90 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'max ms':>9}  check")
    for think, result, made in results:
        answered = int(result["requests"])
        failures = int(sum(result[kind] for kind in ("connect", "read", "write", "timeout", "non2xx")))
        # wrk counts answers; rows made for answers still in flight when it stopped are fine.
        check = (
            "ok"
            if failures == 0 and answered <= made <= answered + args.clients
            else f"{failures} failed ({', '.join(f'{kind} {result[kind]:.0f}' for kind in ('connect', 'read', 'write', 'timeout', 'non2xx') if result[kind])}), {made} rows"
        )
        print(
            f"{think:>9}{answered / result['seconds']:>11.1f}{result['p50']:>9.1f}{result['p90']:>9.1f}"
            f"{result['p95']:>9.1f}{result['p99']:>9.1f}{result['max']:>9.1f}  {check}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
