"""Prometheus metrics (the official ``prometheus_client``), every series named ``grader_…``.

Counters and histograms live in the process that does the work: a web process
counts its HTTP requests, a worker process (or the web process's embedded
worker) its gradings. Queue depth is read from the database at each scrape, so
any process reports the whole service's. ``autograder worker`` serves its own
``/metrics`` when ``GRADER_WORKER_METRICS_PORT`` is set.
"""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Counter, Gauge, Histogram, generate_latest

from grader.grading.report import Report

GRADINGS = Counter(
    "grader_gradings",
    "Gradings finished by this process, by outcome (passed, failed, error: the learner's; infra: the grader's).",
    ["outcome"],
)
GRADING_DURATION = Histogram(
    "grader_grading_duration_seconds",
    "Time to grade one submission, from the worker's claim to the report (slot wait and sandbox included).",
    buckets=(0.1, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0),
)
SANDBOX_FAILURES = Counter(
    "grader_sandbox_failures",
    "Gradings the grader itself could not carry out, by kind (never the learner's fault).",
    ["kind"],
)
HTTP_LATENCY = Histogram(
    "grader_http_request_duration_seconds",
    "Time to answer an HTTP request, by method, route template and status code.",
    ["method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
SUBMISSIONS = Gauge(
    "grader_submissions",
    "Submissions waiting for a grader (queued) or being graded (running), read from the database.",
    ["status"],
)
QUEUE_DEPTH = Gauge("grader_queue_depth", "Submissions waiting for a grader (status queued), read from the database.")
STATE_FREE_BYTES = Gauge(
    "grader_state_free_bytes", "Free space in the state folder (database, queue, sandboxes' run files), read at scrape."
)

# Infra errors carry the sandbox's message; these phrases name the kind of failure.
_FAILURE_KINDS = (
    ("slots stayed busy", "slots_busy"),
    ("did not start", "start"),
    ("could not launch", "launch"),
    ("could not enter the sandbox's limits", "limits"),
    ("cannot be set up", "unavailable"),
    ("internal grader error", "internal"),
)


def failure_kind(message: str) -> str:
    """The kind of a grader failure, from its message (``other`` when none matches)."""
    for phrase, kind in _FAILURE_KINDS:
        if phrase in message:
            return kind
    return "other"


def record_grading(report: Report, seconds: float) -> None:
    """Count one finished grading: its outcome, its duration, and a sandbox failure if it was one."""
    if report.is_infra_error:
        GRADINGS.labels(outcome="infra").inc()
        SANDBOX_FAILURES.labels(kind=failure_kind(report.error.message if report.error else "")).inc()
    else:
        GRADINGS.labels(outcome=report.status).inc()
    GRADING_DURATION.observe(seconds)


def exposition(
    *, queued: int | None = None, running: int | None = None, state_free_bytes: int | None = None
) -> tuple[bytes, str]:
    """The metrics in Prometheus text format, with the queue counts and free space read just now; (body, type)."""
    if state_free_bytes is not None:
        STATE_FREE_BYTES.set(state_free_bytes)
    if queued is not None:
        SUBMISSIONS.labels(status="queued").set(queued)
        QUEUE_DEPTH.set(queued)
    if running is not None:
        SUBMISSIONS.labels(status="running").set(running)
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
