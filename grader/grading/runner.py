"""Grading a submission: load it in a sandbox, send every case, score the answers.

Two steps, kept apart so that sandboxes can be started ahead of time:
``Sandbox.start`` (in the ``sandbox`` package, ``lifecycle.py``) and ``grade_in_sandbox`` here.
``grade_source`` does both and always returns a report: a failure of the grader
itself becomes an ``infra`` error instead of an exception or a lost result.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from grader.grading.cases import ConcreteCase, expand_cases
from grader.grading.compare import first_difference, json_type, key_differences
from grader.grading.diagnose import NOT_JSON, diagnose, endpoint_was_reached, fold_traceback, learner_first
from grader.grading.headers import CONTENT_TYPE, header_problem, media_type_problem
from grader.grading.report import CaseResult, GradingError, HttpExchange, Report
from grader.grading.sandbox import (
    CappedBuffer,
    LoadResult,
    Sandbox,
    SandboxConfig,
    SandboxError,
    SandboxUnavailable,
    started_sandbox,
)
from grader.grading.sandbox.pool import SandboxPool
from grader.grading.spec import ExerciseSpec, Limits
from grader.grading.stalls import BlockedLine, blocked_line

log = logging.getLogger(__name__)

SHOWN_BODY_CHARS = 2000
WATCHDOG_GRACE_SECONDS = 1.0
ERROR_OUTPUT_LINES = 12
# Response headers kept in every case result, because they explain the answer (with those the case checks).
KEPT_HEADERS = (CONTENT_TYPE, "location")
HEADER_CHARS = 300
# How long to wait for the traceback a server prints after it answered 500.
CRASH_OUTPUT_WAIT_SECONDS = 1.0
CASE_OUTPUT_CHARS = 4000


@dataclass
class Evidence:
    """What the host saw during a grading, beyond the report, for the diagnoses.

    load: how loading went (with the checked-later facts from inside the sandbox).
    bodies: case name -> (expected, received) JSON in full (the report shows them cut).
    """

    load: LoadResult | None = None
    bodies: dict[str, tuple[Any, Any]] = field(default_factory=dict)


def new_seed() -> int:
    """A fresh seed for the random cases."""
    return secrets.randbits(31)


def grade_source(
    spec: ExerciseSpec,
    source: str,
    *,
    seed: int | None = None,
    config: SandboxConfig,
    pool: SandboxPool | None = None,
) -> Report:
    """Grade ``source`` against ``spec`` in a fresh sandbox: one from ``pool`` if given, else one started now.

    A pooled sandbox is torn down in the background once the report is made; a
    sandbox started here is torn down before this returns.
    Raises ``SandboxUnavailable`` only when this machine cannot run sandboxes at
    all; every other failure ends up in the report.
    """
    report = Report(
        exercise=spec.slug,
        spec_hash=spec.spec_hash,
        seed=new_seed() if seed is None else seed,
        max_score=spec.max_score,
    )
    started = time.monotonic()
    sandbox: Sandbox | None = None
    evidence = Evidence()
    try:
        if pool is None:
            with started_sandbox(config, spec.limits, spec.entry_point) as sandbox:
                evidence = grade_in_sandbox(sandbox, spec, source, report)
        else:
            sandbox = pool.take(spec.limits, spec.entry_point)
            try:
                evidence = grade_in_sandbox(sandbox, spec, source, report)
            finally:
                sandbox.settle_output()
                pool.discard(sandbox)
    except SandboxUnavailable:
        raise
    except SandboxError as exc:
        report.error = GradingError("infra", f"the grader could not run the submission: {exc}")
    except Exception as exc:  # noqa: BLE001 - last resort: a grader bug must still produce a report
        log.exception("grading failed")
        report.error = GradingError("infra", f"internal grader error: {type(exc).__name__}: {exc}")
    if sandbox is not None:
        report.stdout = sandbox.stdout.text()
        report.stderr = sandbox.stderr.text()
        report.limits_not_applied = list(sandbox.limits_not_applied)
        if report.error is not None and report.error.kind in ("crash", "exit", "import"):
            report.error = _with_error_output(report.error, report.stderr)
    report.execution_time = time.monotonic() - started
    report.finish()
    add_diagnoses(report, spec, source, evidence)
    return report


def add_diagnoses(report: Report, spec: ExerciseSpec, source: str, evidence: Evidence) -> None:
    """Explain the report's mistakes (a grader bug here must not lose the report)."""
    try:
        report.diagnoses = diagnose(
            report,
            source,
            bodies=evidence.bodies,
            facts=evidence.load.facts if evidence.load is not None else None,
            facts_from_host=evidence.load.from_host if evidence.load is not None else False,
            packages=spec.packages,
            entry_point=spec.entry_point,
            feedback=spec.feedback,
        )
    except Exception:  # noqa: BLE001 - the score stands even if the explanation fails
        log.exception("diagnosing failed")
        report.diagnoses = []


def _with_error_output(error: GradingError, stderr: str) -> GradingError:
    tail = [line for line in stderr.strip().splitlines() if line.strip()][-ERROR_OUTPUT_LINES:]
    if not tail or error.kind == "import":
        return error
    return GradingError(error.kind, error.message + "\n\nLast lines of the error output:\n" + "\n".join(tail))


def grade_in_sandbox(sandbox: Sandbox, spec: ExerciseSpec, source: str, report: Report) -> Evidence:
    """Load ``source`` into a started sandbox and fill ``report`` with the case results."""
    loaded = sandbox.load(source)
    evidence = Evidence(load=loaded)
    if not loaded.ready:
        report.error = GradingError(loaded.kind or "crash", loaded.message)  # type: ignore[arg-type]
        return evidence
    limits = spec.limits
    deadline = time.monotonic() + limits.total_seconds
    # A fresh connection per case: a case the server broke off (a 500, a crash in
    # mid-response) must not make the next case fail on a dead pooled connection.
    # Plain HTTP over a Unix socket: no TLS, so no certificate store to load (~40 ms a grading).
    transport = httpx.HTTPTransport(
        uds=str(sandbox.socket_path), retries=0, verify=False, limits=httpx.Limits(max_keepalive_connections=0)
    )
    blocked = BlockedCount()
    with httpx.Client(transport=transport, base_url="http://submission") as client:
        for case in expand_cases(spec, report.seed):
            if blocked.stopped is not None:
                report.tests.append(_not_run(case, blocked.stopped))
                continue
            if time.monotonic() > deadline:
                report.tests.append(
                    _not_run(
                        case, f"the grading's {limits.total_seconds:g} s were used up before this case could be sent"
                    )
                )
                continue
            if not sandbox.alive():
                report.tests.append(
                    _not_run(case, f"the server was gone before this case could be sent: {sandbox.describe_exit()}")
                )
                continue
            # Read timeouts restart with every byte, so a response that trickles in
            # could last for ever: past the case's deadline the sandbox is stopped.
            case_deadline = min(time.monotonic() + limits.request_seconds, deadline)
            watchdog = threading.Timer(
                case_deadline - time.monotonic() + WATCHDOG_GRACE_SECONDS,
                sandbox.abort,
                args=(
                    f"no complete answer to {case.name} within {limits.request_seconds:g} s, so the grader stopped the server",
                ),
            )
            watchdog.daemon = True
            watchdog.start()
            # What was printed before this request went out is the earlier cases' (or the loading's).
            sandbox.settle_output()
            marks = (_mark(sandbox.stdout), _mark(sandbox.stderr))
            if case.visibility != "visible" and report.stdout_before_hidden is None:
                # From here on the program may print this case's data, even later, from a thread of its own.
                report.stdout_before_hidden = sandbox.stdout.text()
                report.stderr_before_hidden = sandbox.stderr.text()
            stalls = sandbox.stall_mark()
            try:
                result = run_case(client, case, limits, sandbox, bodies=evidence.bodies)
            finally:
                watchdog.cancel()
            # The program writes what a request makes it print through unbuffered pipes before the
            # response's last byte leaves: once the answer is in, taking in what waits in the pipes
            # gives this case all of its output, and nothing of the next one's.
            sandbox.settle_output()
            if result.received.status is None:
                result = blocked.explain(result, blocked_line(sandbox.stalls_since(stalls), source), limits)
            if result.received.status is None or result.received.status >= 500:
                _wait_for_crash_output(sandbox.stderr, marks[1])
                sandbox.settle_output()
            report.tests.append(
                dataclasses.replace(
                    result, program_output=_case_output(sandbox.stdout, marks[0], sandbox.stderr, marks[1], source)
                )
            )
    return evidence


class BlockedCount:
    """Requests that got no answer, by the learner's line they were blocked on.

    Once two were blocked on the same line the cause is clear: ``stopped`` then says why
    the remaining cases are not run, instead of waiting out each one's time limit.
    """

    def __init__(self) -> None:
        self.by_line: dict[int, int] = {}
        self.stopped: str | None = None

    def explain(self, result: CaseResult, blocked: BlockedLine | None, limits: Limits) -> CaseResult:
        """The unanswered ``result`` naming the line it was blocked on, when that is known."""
        if blocked is None:
            return result
        self.by_line[blocked.line] = self.by_line.get(blocked.line, 0) + 1
        if self.by_line[blocked.line] >= 2:
            self.stopped = (
                f"two requests before this one were stuck on {blocked.words()}, so the grader stopped sending requests"
            )
        problem = (
            f"no complete answer within {limits.request_seconds:g} s: "
            f"your app was still running {blocked.words()} when the grader gave up"
        )
        return dataclasses.replace(result, problem=problem, blocked_line=blocked.line)


def _not_run(case: ConcreteCase, why: str) -> CaseResult:
    """A case the grader never sent, and why: not run, which is not the same as no reply."""
    return dataclasses.replace(_unanswered(case, f"not run: {why}"), sent=False)


def _mark(buffer: CappedBuffer) -> int:
    return buffer.total


def _since(buffer: CappedBuffer, mark: int) -> str:
    """What ``buffer`` was fed since ``mark``, as far as it is kept."""
    return buffer.last(buffer.total - mark)


def _wait_for_crash_output(buffer: CappedBuffer, mark: int) -> None:
    """Give the server a moment to print the traceback it prints after answering 500."""
    deadline = time.monotonic() + CRASH_OUTPUT_WAIT_SECONDS
    size, still = buffer.total, 0
    while time.monotonic() < deadline:
        time.sleep(0.02)
        now = buffer.total
        still = still + 1 if now == size else 0
        if now > mark and still >= 3:
            return
        size = now


def _case_output(stdout: CappedBuffer, out_mark: int, stderr: CappedBuffer, err_mark: int, source: str) -> str | None:
    printed = _since(stdout, out_mark).strip("\n")
    errors = learner_first(fold_traceback(_since(stderr, err_mark).strip("\n")), source)
    text = "\n".join(part for part in (printed, errors) if part)
    if not text:
        return None
    return text if len(text) <= CASE_OUTPUT_CHARS else text[:CASE_OUTPUT_CHARS] + "\n[… cut …]"


def _request_exchange(case: ConcreteCase) -> HttpExchange:
    body = None if case.body is None else _shown(case.body.decode("utf-8", errors="replace"))
    return HttpExchange(method=case.method, path=case.path, body=body, headers=dict(case.headers))


def _expected_exchange(case: ConcreteCase) -> HttpExchange:
    body = json.dumps(case.expected_body, ensure_ascii=False) if case.checks_body else None
    return HttpExchange(
        status=case.expected_status, body=None if body is None else _shown(body), headers=dict(case.expected_headers)
    )


def _shown(text: str) -> str:
    return text if len(text) <= SHOWN_BODY_CHARS else text[:SHOWN_BODY_CHARS] + f"… [{len(text):,} characters in all]"


def _unanswered(case: ConcreteCase, problem: str) -> CaseResult:
    return CaseResult(
        name=case.name,
        description=case.description,
        score=0.0,
        max_score=case.points,
        status="failed",
        request=_request_exchange(case),
        expected=_expected_exchange(case),
        received=HttpExchange(),
        problem=problem,
        hint=case.hint or None,
        visibility=case.visibility,
    )


def _read_capped(response: httpx.Response, cap: int, deadline: float) -> tuple[bytes, bool]:
    body = bytearray()
    for chunk in response.iter_raw():
        body += chunk
        if len(body) > cap:
            return bytes(body[:cap]), True
        if time.monotonic() > deadline:
            raise httpx.ReadTimeout("response took too long")
    return bytes(body), False


def run_case(
    client: httpx.Client,
    case: ConcreteCase,
    limits: Limits,
    sandbox: Sandbox,
    *,
    bodies: dict[str, tuple[Any, Any]] | None = None,
) -> CaseResult:
    """Send one case's request and judge the response (``bodies`` collects the parsed JSON)."""
    headers = {"accept-encoding": "identity", **case.headers}
    deadline = time.monotonic() + limits.request_seconds
    try:
        with client.stream(
            case.method, case.path, content=case.body, headers=headers, timeout=limits.request_seconds
        ) as response:
            raw, truncated = _read_capped(response, limits.response_bytes, deadline)
            status = response.status_code
            encoding = response.headers.get("content-encoding", "identity").lower()
            names = dict.fromkeys([*KEPT_HEADERS, *case.expected_headers])
            kept = {name: response.headers[name][:HEADER_CHARS] for name in names if name in response.headers}
    except httpx.TimeoutException:
        return _unanswered(
            case,
            f"no complete answer within {limits.request_seconds:g} s: does the endpoint loop, sleep or wait for something?",
        )
    except httpx.HTTPError as exc:
        if not sandbox.alive():
            return _unanswered(case, sandbox.describe_exit())
        return _unanswered(case, f"no answer: the connection failed ({type(exc).__name__})")

    text = raw.decode("utf-8", errors="replace")
    received = HttpExchange(status=status, body=_shown(text), truncated=truncated, headers=kept)
    problem, diff = _judge(case, status, kept, raw, truncated, encoding, limits)
    passed = problem is None
    parsed = _parsed(raw) if not truncated and encoding == "identity" else NOT_JSON
    if bodies is not None and case.checks_body:
        bodies[case.name] = (case.expected_body, parsed)
    return CaseResult(
        name=case.name,
        description=case.description,
        score=case.points if passed else 0.0,
        max_score=case.points,
        status="passed" if passed else "failed",
        request=_request_exchange(case),
        expected=_expected_exchange(case),
        received=received,
        diff=diff,
        problem=problem,
        hint=None if passed else _relevant_hint(case, status),
        reached_endpoint=endpoint_was_reached(status, parsed),
        visibility=case.visibility,
    )


def _parsed(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):
        return NOT_JSON


def _relevant_hint(case: ConcreteCase, status: int) -> str | None:
    """The case's hint, unless it speaks of a body the wrong status never got to.

    A case that expects a success but got another status is explained by the
    status problem alone; the hint about the body would only mislead.
    """
    if status != case.expected_status and 200 <= case.expected_status < 300:
        return None
    return case.hint or None


def _judge(
    case: ConcreteCase,
    status: int,
    headers: dict[str, str],
    raw: bytes,
    truncated: bool,
    encoding: str,
    limits: Limits,
) -> tuple[str | None, str | None]:
    """(problem, diff): both None when the response is right.

    A body that is JSON under a media type the case does not accept fails as a
    JSON client would refuse it; the diff still says where the body differs, if it does.
    """
    if status != case.expected_status:
        return _status_problem(case, status), None
    wrong_header = header_problem(case.expected_headers, headers)
    if wrong_header is not None:
        return wrong_header, None
    if not case.checks_body:
        return None, None
    if truncated:
        return f"the response body is larger than {limits.response_bytes // 1024} KB, far more than expected", None
    if encoding != "identity":
        return f"the response is compressed ({encoding}) although the grader asked for plain JSON", None
    try:
        received: Any = json.loads(raw)
    except RecursionError:
        # Thousands of nested brackets: a submission must not make the grader fail.
        return "the response body is nested far too deeply to be read as JSON", None
    except ValueError:
        return "the response body is not valid JSON: return a dict (or a JSONResponse) from the endpoint", None
    difference = first_difference(case.expected_body, received)
    diff = None if difference is None else _diff_text(case.expected_body, received, difference)
    wrong_media_type = media_type_problem(case.expected_headers, headers)
    if wrong_media_type is not None:
        return wrong_media_type, diff
    if diff is None:
        return None, None
    return "the response body differs from the expected one", diff


def _diff_text(expected: Any, received: Any, difference: str) -> str:
    lines = [difference]
    missing, extra = key_differences(expected, received)
    if missing:
        lines.append("missing keys: " + ", ".join(json.dumps(k, ensure_ascii=False) for k in missing))
    if extra:
        lines.append("unexpected keys: " + ", ".join(json.dumps(k, ensure_ascii=False) for k in extra))
    if json_type(expected) != json_type(received):
        lines.append(f"the body should be a JSON {json_type(expected)}, not a JSON {json_type(received)}")
    return "\n".join(lines)


def _status_problem(case: ConcreteCase, status: int) -> str:
    wanted = case.expected_status
    base = f"expected status {wanted}, received {status}"
    if status == 404:
        return f"{base}: nothing answers at {case.path}; check the path in the route decorator"
    if status == 405 and wanted != 405:
        return (
            f"{base}: {case.path} exists but does not accept {case.method}; register it with @app.{case.method.lower()}"
        )
    if status >= 500:
        return f"{base}: the endpoint raised an exception; the error output below shows where"
    if wanted == 422 and 200 <= status < 300:
        return f"{base}: the endpoint accepted a body it should refuse; declare the parameter as a dict so FastAPI validates it"
    if wanted == 405:
        return f"{base}: {case.method} {case.path} should not be allowed"
    if status == 422 and 200 <= wanted < 300:
        return f"{base}: the request was refused as invalid; check the type of the endpoint's parameter"
    return base
