"""A stored report arranged for the result page: mistakes first, each with the cases it explains.

The page leads with the report's diagnoses (one per mistake), puts every
failing case under the diagnosis that names it, and folds the passing cases
away. Step 2 of each case says whether an endpoint function actually ran, in
the lesson's terms. A traceback the server printed while answering a case is
moved into that case, with the learner's own frames first and the library's
folded away; it is read by the grading core's one traceback parser
(``grader.grading.evidence``). Nothing here judges the submission: it only
arranges what the grading stored.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from grader.grading.evidence import ParsedTraceback, parse_traceback
from grader.grading.fixcheck import DiffLine, check_words, fix_diff
from grader.grading.headers import CONTENT_TYPE, JSON_MEDIA_TYPE, media_type_problem
from grader.grading.report import CaseResult, FixCheck, Report, error_kind_sentence

CONTEXT_LINES = 2
"""Lines shown above and below a diagnosis's line."""

_SERVER_ERROR = re.compile(r"^ERROR:\s+Exception in ASGI application\s*$")


def server_tracebacks(stderr: str) -> tuple[list[str], str]:
    """The server's "Exception in ASGI application" blocks in order, and the rest of ``stderr``."""
    blocks: list[list[str]] = []
    rest: list[str] = []
    for line in stderr.splitlines():
        if _SERVER_ERROR.match(line):
            blocks.append([])
        elif blocks and (line.startswith((" ", "Traceback")) or not _starts_log_line(line)):
            blocks[-1].append(line)
        else:
            rest.append(line)
    return ["\n".join(block) for block in blocks], "\n".join(rest).strip("\n")


def _starts_log_line(line: str) -> bool:
    return line.startswith(("INFO:", "WARNING:", "ERROR:", "DEBUG:", "CRITICAL:"))


def validation_refusal(body: str | None) -> bool:
    """Whether a 422 body is FastAPI's own validation error (so no endpoint function ran)."""
    try:
        data = json.loads(body or "")
    except ValueError:
        return False
    detail = data.get("detail") if isinstance(data, dict) else None
    return (
        isinstance(detail, list)
        and bool(detail)
        and all(isinstance(item, dict) and "loc" in item and "msg" in item for item in detail)
    )


def endpoint_step(case: CaseResult, traceback: ParsedTraceback | None) -> tuple[bool | None, str]:
    """Step 2 of the lesson's cycle for this case: whether an endpoint function ran, in words."""
    status = case.received.status
    route = f"{case.request.method} {case.request.path}"
    if not case.sent:
        return False, "Not run: the grader never sent this request."
    if status is None and case.blocked_line is not None:
        return True, (
            f"FastAPI called your endpoint function, and it was still running line {case.blocked_line} "
            "when the grader gave up waiting."
        )
    if status is None:
        return None, "No response came back: your app did not answer this request."
    if status == 404:
        return False, (
            f"No endpoint function ran: nothing in your app answers {route}, "
            "so FastAPI replied 404 Not Found on its own."
        )
    if status == 405:
        return False, (
            f"No endpoint function ran: your app has {case.request.path}, but not for {case.request.method}, "
            "so FastAPI replied 405 Method Not Allowed on its own."
        )
    if 300 <= status < 400:
        location = case.received.headers.get("location") or case.received.headers.get("Location")
        where = f" to {location}" if location else ""
        return False, (
            f"No endpoint function ran: FastAPI redirected the request{where} instead, because your route's "
            "path is not exactly the one requested (often a trailing slash)."
        )
    if status == 422 and validation_refusal(case.received.body):
        return False, (
            "No endpoint function ran: FastAPI checked the body against your function's parameter, "
            "refused it and replied 422 on its own, before calling your function."
        )
    if status >= 500:
        if traceback is not None and traceback.learner_frames:
            return True, "FastAPI called your endpoint function, and it stopped with an error (below)."
        return None, "Your app failed while handling the request, and answered with a server error."
    return True, "FastAPI called your endpoint function with the request's body as Python data."


@dataclass(frozen=True)
class CaseView:
    """A case as the page draws it.

    traceback: the error the server printed while answering this case, if any;
    printed: anything else the program printed meanwhile.
    """

    case: CaseResult
    endpoint_ran: bool | None
    endpoint_words: str
    traceback: ParsedTraceback | None = None
    printed: str = ""

    @property
    def content_type(self) -> str | None:
        """The Content-Type the response came with (None when none came, or the report predates keeping it)."""
        return self.case.received.headers.get(CONTENT_TYPE)

    @property
    def expected_media_type(self) -> str | None:
        """The media type the case asked for, in words, when the response's did not do."""
        if self.case.received.status is None or self.case.received.status != self.case.expected.status:
            return None  # another status is what failed
        if media_type_problem(self.case.expected.headers, self.case.received.headers) is None:
            return None
        wanted = self.case.expected.headers[CONTENT_TYPE]
        return f"{wanted} (or another type ending in +json)" if wanted == JSON_MEDIA_TYPE else wanted


@dataclass(frozen=True)
class CodeLine:
    """A line of the learner's code; ``marked`` for the one a diagnosis points at."""

    number: int
    text: str
    marked: bool


@dataclass
class DiagnosisView:
    """One mistake: what it is, what to change, where, and the failing cases it explains.

    fix_check: whether its proposed edit was graded on the learner's code (None: it proposes none);
    check_words: that check in a sentence; diff: the edit on the learner's lines, only once it passed.
    """

    title: str
    explanation: str
    fix: str
    line: int | None
    excerpt: list[CodeLine] = field(default_factory=list)
    cases: list[CaseView] = field(default_factory=list)
    fix_check: FixCheck | None = None
    check_words: str = ""
    diff: list[DiffLine] = field(default_factory=list)


@dataclass
class ReportView:
    """The whole result page's data; ``unexplained`` holds failing cases no diagnosis names."""

    report: Report
    diagnoses: list[DiagnosisView]
    unexplained: list[CaseView]
    passing: list[CaseView]
    error_words: str
    error_traceback: ParsedTraceback | None
    stdout: str
    stderr: str

    @property
    def failing_count(self) -> int:
        """How many cases failed."""
        return sum(1 for case in self.report.tests if not case.passed)

    @property
    def fixes_pending(self) -> bool:
        """Whether a proposed fix is still being checked (the page then listens for its outcome)."""
        return any(d.fix_check is not None and d.fix_check.status == "pending" for d in self.diagnoses)


def diagnosed_lines(report: dict[str, Any] | None) -> list[int]:
    """The lines of the learner's code that a stored report's diagnoses point at, in order."""
    lines = [item.get("line") for item in (report or {}).get("diagnoses") or [] if isinstance(item, dict)]
    return sorted({line for line in lines if isinstance(line, int) and not isinstance(line, bool) and line > 0})


def code_excerpt(source: str, line: int | None) -> list[CodeLine]:
    """The lines around ``line`` of ``source`` (empty when the line is not in the file)."""
    lines = source.splitlines()
    if line is None or not 1 <= line <= len(lines):
        return []
    first = max(1, line - CONTEXT_LINES)
    last = min(len(lines), line + CONTEXT_LINES)
    return [CodeLine(number=n, text=lines[n - 1], marked=n == line) for n in range(first, last + 1)]


def split_output(text: str) -> tuple[str, ParsedTraceback | None]:
    """A case's output as (what was printed, the traceback that follows it, if any)."""
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith("Traceback (most recent call last)")), None)
    if start is None:
        return text.strip("\n"), None
    printed = [line for line in lines[:start] if not _SERVER_ERROR.match(line)]
    return "\n".join(printed).strip("\n"), parse_traceback("\n".join(lines[start:]))


def _case_views(report: Report, stored: list[dict[str, Any]]) -> list[CaseView]:
    per_case = any("program_output" in extra for extra in stored)
    tracebacks: dict[int, str] = {}
    if not per_case:
        # Older reports keep only the whole output. Cases run one after another, so the n-th
        # server traceback belongs to the n-th crashed case; when the counts disagree (output
        # cut in the middle) nothing is moved and the output stays whole at the end of the page.
        blocks, _ = server_tracebacks(report.stderr)
        crashed = [index for index, case in enumerate(report.tests) if (case.received.status or 0) >= 500]
        if len(crashed) == len(blocks):
            tracebacks = dict(zip(crashed, blocks, strict=True))
    views = []
    for index, case in enumerate(report.tests):
        extra = stored[index] if index < len(stored) else {}
        printed, traceback = "", None
        if per_case:
            printed, traceback = split_output(str(extra.get("program_output") or ""))
        elif index in tracebacks:
            traceback = parse_traceback(tracebacks[index])
        ran, words = endpoint_step(case, traceback)
        reached = extra.get("reached_endpoint")
        if isinstance(reached, bool) and reached != ran:
            ran = reached  # the grading knew better than the status code
            if ran:
                words = "FastAPI called your endpoint function with the request's body as Python data."
            else:
                words = "No endpoint function ran: FastAPI answered this request on its own."
        views.append(CaseView(case=case, endpoint_ran=ran, endpoint_words=words, traceback=traceback, printed=printed))
    return views


def _fallback_diagnoses(failing: list[CaseView]) -> list[dict[str, Any]]:
    """One group per problem, for reports stored before diagnoses existed."""
    groups: dict[str, list[CaseView]] = {}
    for view in failing:
        groups.setdefault(view.case.problem or "This case failed", []).append(view)
    found = []
    for problem, views in groups.items():
        hints = [view.case.hint for view in views if view.case.hint]
        found.append(
            {
                "title": problem[:1].upper() + problem[1:],
                "explanation": "",
                "fix": max(set(hints), key=hints.count) if hints else "",
                "cases": [view.case.name for view in views],
                "line": None,
            }
        )
    return found


def build(data: dict[str, Any], source: str) -> ReportView:
    """Arrange a stored report (``Report.to_dict`` data, with its ``diagnoses``) for the page."""
    report = Report.from_dict(data)
    cases = _case_views(report, list(data.get("tests") or []))
    failing = [view for view in cases if not view.case.passed]
    stored = list(data.get("diagnoses") or [])
    if not stored and failing:
        stored = _fallback_diagnoses(failing)
    by_name = {view.case.name: view for view in failing}
    diagnoses: list[DiagnosisView] = []
    claimed: set[str] = set()
    for index, item in enumerate(stored):
        line = item.get("line") if isinstance(item.get("line"), int) else None
        names = [name for name in item.get("cases") or [] if name in by_name and name not in claimed]
        claimed.update(names)
        view = DiagnosisView(
            title=str(item.get("title") or ""),
            explanation=str(item.get("explanation") or ""),
            fix=str(item.get("fix") or ""),
            line=line,
            excerpt=code_excerpt(source, line),
            cases=[by_name[name] for name in names],
        )
        diagnosis = report.diagnoses[index] if index < len(report.diagnoses) else None
        if diagnosis is not None and diagnosis.fix_patch is not None and diagnosis.fix_check is not None:
            view.fix_check = diagnosis.fix_check
            view.check_words = check_words(diagnosis.fix_check, after_error=report.error is not None)
            if diagnosis.fix_check.shows_code:
                view.diff = fix_diff(source, diagnosis.fix_patch)
        diagnoses.append(view)
    _, rest = server_tracebacks(report.stderr)
    attributed = any(view.traceback for view in cases) and not any(
        "program_output" in t for t in data.get("tests") or []
    )
    error = report.error
    return ReportView(
        report=report,
        diagnoses=diagnoses,
        unexplained=[view for view in failing if view.case.name not in claimed],
        passing=[view for view in cases if view.case.passed],
        error_words=error_kind_sentence(error.kind) if error else "",
        error_traceback=parse_traceback(error.message) if error else None,
        stdout=report.stdout,
        stderr=rest if attributed else report.stderr,
    )
