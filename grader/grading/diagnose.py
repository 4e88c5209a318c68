"""From case results to diagnoses: one explanation per mistake, in a beginner's words.

Everything here runs on the host, after grading, and reads only what the host
itself saw: the requests it sent, the responses it got, the learner's source
text (read as text, never run) and the program's captured error output. Facts
the boot script reported from inside the sandbox (``LoadResult.facts``) come from
the submission's own process, so each is checked (known cause, a line inside the
file, a plain identifier) before it is used; messages from inside are never
turned into diagnoses. A diagnosis only ever contains the grader's own wording
plus values it checked or extracted with fixed patterns.

``diagnose`` is the entry point. Failing cases are first classified one by one
(``classify``) into a ``Finding``: a cause plus the facts that distinguish one
instance of it from another. Findings with the same cause and facts are one
mistake and become one ``Diagnosis`` naming all their cases.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from grader.grading.compare import json_equal, json_type
from grader.grading.headers import (
    CONTENT_TYPE,
    JSON_MEDIA_TYPE,
    checked_content_type,
    header_problem,
    media_type,
    media_type_problem,
)
from grader.grading.report import CaseResult, Diagnosis, GradingError, Report
from grader.grading.response_source import response_site

FILE_NAME = "solution.py"
MAX_DETAIL = 200
MAX_KEYS_COMPARED = 50
SHOWN_VALUE = 60
IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_.]{0,99}$")
NOT_JSON = object()

# The order diagnoses are listed in: what stops every request first, then the
# shape of the reply, then its details, then the cases about refusing requests.
PRIORITY = {
    "infra": 0,
    "error": 0,
    "wrong_path": 1,
    "redirect": 1,
    "wrong_method": 1,
    "json_not_awaited": 1,
    "crash": 1,
    "no_answer": 1,
    "wrong_status": 1,
    "null_body": 2,
    "not_json": 2,
    "not_json_media_type": 2,
    "json_string": 2,
    "not_wrapped": 2,
    "double_wrapped": 2,
    "wrong_type": 2,
    "misspelt_key": 2,
    "renamed_key": 2,
    "model_fields": 2,
    "same_answer": 3,
    "dropped_fields": 3,
    "added_fields": 3,
    "coerced": 3,
    "changed": 3,
    "refused_valid": 3,
    "too_large": 3,
    "accepts_non_objects": 4,
    "method_allowed": 4,
    "other": 5,
}

HTTP_CLIENTS = {"requests", "httpx", "aiohttp", "urllib3"}
OTHER_FRAMEWORKS = {"flask": "Flask", "django": "Django", "bottle": "Bottle", "tornado": "Tornado", "sanic": "Sanic"}
ROUTE = re.compile(
    r"""^\s*@\s*([A-Za-z_]\w*)\.(get|post|put|patch|delete|head|options|api_route|route)\s*\(\s*(?:path\s*=\s*)?[rRuU]?(["'])(.*?)\3"""
)
FUNCTION = re.compile(r"^\s*(async\s+)?def\s+([A-Za-z_]\w*)\s*\(")
FRAME = re.compile(r'^\s*File "(?P<file>[^"]*)", line (?P<line>\d+), in (?P<name>\S+)')
EXCEPTION_LINE = re.compile(r"^(?P<type>[A-Za-z_][\w.]*)(?:: (?P<detail>.*))?$")


# --- what the grader saw ---------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    """What went wrong in one case: a cause and the facts that set this instance apart."""

    cause: str
    facts: tuple[tuple[str, Any], ...] = ()

    def get(self, name: str, default: Any = None) -> Any:
        """One fact by name."""
        return dict(self.facts).get(name, default)


def finding(cause: str, **facts: Any) -> Finding:
    """A ``Finding`` with hashable facts."""
    return Finding(cause, tuple(sorted((key, _hashable(value)) for key, value in facts.items())))


def _hashable(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_hashable(item) for item in value)
    if isinstance(value, dict):
        return tuple(sorted((key, _hashable(item)) for key, item in value.items()))
    return value


@dataclass
class Source:
    """The learner's file as text, with the few places a diagnosis points at."""

    text: str
    lines: list[str] = field(init=False)

    def __post_init__(self) -> None:
        self.lines = self.text.splitlines()

    def valid_line(self, value: Any) -> int | None:
        """``value`` if it is a line number inside this file, else None."""
        if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= len(self.lines):
            return value
        return None

    def code(self, line: int | None) -> str:
        """The text of a line, stripped ('' when unknown)."""
        return self.lines[line - 1].strip() if line is not None and 1 <= line <= len(self.lines) else ""

    def find(self, pattern: str | re.Pattern[str], start: int = 1, end: int | None = None) -> int | None:
        """The first line (from ``start``) matching ``pattern``, skipping comments."""
        regex = re.compile(pattern) if isinstance(pattern, str) else pattern
        stop = len(self.lines) if end is None else min(end, len(self.lines))
        for number in range(max(start, 1), stop + 1):
            text = self.lines[number - 1]
            if text.lstrip().startswith("#"):
                continue
            if regex.search(text):
                return number
        return None

    def routes(self) -> list[tuple[int, str, str]]:
        """(line, method, path) of every route decorator."""
        found = []
        for number, text in enumerate(self.lines, start=1):
            match = ROUTE.match(text)
            if match:
                found.append((number, match.group(2), match.group(4)))
        return found

    def route_for(self, path: str) -> tuple[int, str, str] | None:
        """The route decorator closest to ``path``: the same path, else the first one."""
        routes = self.routes()
        for route in routes:
            if route[2] == path:
                return route
        return routes[0] if routes else None

    def endpoint(self, path: str) -> int | None:
        """The ``def`` line of the function registered for ``path`` (or of the first endpoint)."""
        route = self.route_for(path)
        if route is None:
            return None
        return self.find(FUNCTION, route[0])

    def endpoint_end(self, start: int) -> int:
        """The last line of the function defined at ``start`` (by indentation)."""
        indent = len(self.lines[start - 1]) - len(self.lines[start - 1].lstrip())
        last = start
        for number in range(start + 1, len(self.lines) + 1):
            text = self.lines[number - 1]
            if not text.strip() or text.lstrip().startswith("#"):
                continue
            if len(text) - len(text.lstrip()) <= indent and not text.lstrip().startswith((")", "]", "}")):
                break
            last = number
        return last

    def in_endpoint(self, path: str, pattern: str) -> int | None:
        """The first line of the endpoint for ``path`` matching ``pattern``."""
        start = self.endpoint(path)
        if start is None:
            return None
        return self.find(pattern, start, self.endpoint_end(start))

    def returned(self, path: str) -> int | None:
        """The first ``return`` line of the endpoint for ``path``."""
        return self.in_endpoint(path, r"^\s*return\b")

    def quoted(self, word: str) -> int | None:
        """The first line holding ``word`` in quotes."""
        return self.find(re.compile(r"""["']""" + re.escape(word) + r"""["']"""))


# --- one case -----------------------------------------------------------------------------


def parse_body(text: str | None) -> Any:
    """A body shown in a report, parsed; ``NOT_JSON`` when it is not JSON."""
    if text is None:
        return NOT_JSON
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return NOT_JSON


def endpoint_was_reached(status: int | None, body: Any) -> bool | None:
    """Whether a response came from the endpoint function, judging by what the app sent.

    FastAPI and Starlette answer a few requests themselves, before any endpoint
    runs: an unknown path (404 ``Not Found``), a method the path does not take
    (405), a path that only exists with a trailing slash (a redirect) and a body
    that fails the parameter's validation (422 with FastAPI's list of errors).
    """
    if status is None:
        return None
    if status in (301, 302, 303, 307, 308):
        return False
    if status == 404 and body == {"detail": "Not Found"}:
        return False
    if status == 405 and body == {"detail": "Method Not Allowed"}:
        return False
    if status == 422 and isinstance(body, dict) and isinstance(body.get("detail"), list):
        items = body["detail"]
        if items and all(isinstance(item, dict) and "loc" in item and "msg" in item for item in items):
            return False
    return True


def why_no_endpoint_ran(case: CaseResult) -> str | None:
    """For a case whose endpoint never ran, why not, in the lesson's terms (else None)."""
    if case.reached_endpoint is not False:
        return None
    status = case.received.status
    method, path = case.request.method, case.request.path
    if status == 404:
        return f"Your app received the request, but no endpoint is registered at {path}, so no function ran (404 Not Found)."
    if status == 405:
        return f"Your app received the request, but the endpoint at {path} does not take {method}, so no function ran (405 Method Not Allowed)."
    if status in (301, 302, 303, 307, 308):
        where = case.received.headers.get("location", "another address")
        return f"Your app received the request and redirected it to {where} ({status}); no endpoint function ran."
    if status == 422:
        return "FastAPI checked the body against your endpoint's parameter and refused it (422) before calling your function."
    return "Your app answered without calling your endpoint function."


def classify(case: CaseResult, expected: Any = None, received: Any = None) -> Finding:
    """The cause of one failed case. ``expected``/``received``: the parsed bodies, when known."""
    if expected is None:
        expected = parse_body(case.expected.body)
    if received is None:
        received = parse_body(case.received.body)
    got, wanted = case.received.status, case.expected.status
    if got is None or wanted is None:
        return finding("no_answer")
    if got != wanted:
        return _status_finding(case, got, wanted)
    if header_problem(case.expected.headers, case.received.headers):
        return finding("other", problem=case.problem or "")
    if case.received.truncated:
        return finding("too_large")
    if received is NOT_JSON:
        return finding("not_json")
    if expected is NOT_JSON:
        return finding("other", problem=case.problem or "")
    if media_type_problem(case.expected.headers, case.received.headers):
        sent = media_type(case.received.headers.get(CONTENT_TYPE))
        return finding("not_json_media_type", sent=sent, wanted=media_type(case.expected.headers[CONTENT_TYPE]))
    return _body_finding(expected, received)


def _status_finding(case: CaseResult, got: int, wanted: int) -> Finding:
    if got == 404:
        return finding("wrong_path")
    if got in (301, 302, 303, 307, 308):
        return finding("redirect", location=case.received.headers.get("location", ""))
    if got == 405 and wanted != 405:
        return finding("wrong_method")
    if wanted == 422 and (200 <= got < 300 or got >= 500):
        # Refusing broken input is FastAPI's job once the parameter is a dict;
        # crashing on it is the same mistake as accepting it.
        return finding("accepts_non_objects")
    if got >= 500:
        return finding("crash")
    if wanted == 422 and 200 <= got < 300:
        return finding("accepts_non_objects")
    if wanted == 405:
        return finding("method_allowed")
    if got == 422 and 200 <= wanted < 300:
        return finding("refused_valid")
    if 200 <= wanted < 300:
        return finding("wrong_status", got=got, wanted=wanted)
    return finding("other", got=got, wanted=wanted)


def _body_finding(expected: Any, received: Any) -> Finding:
    if received is None and expected is not None:
        return finding("null_body")
    if isinstance(received, str) and not isinstance(expected, str):
        inner = parse_body(received)
        if inner is not NOT_JSON and (json_equal(expected, inner) or isinstance(inner, (dict, list))):
            return finding("json_string")
    if isinstance(expected, dict) and len(expected) == 1:
        key, inner = next(iter(expected.items()))
        if json_equal(inner, received):
            return finding("not_wrapped", key=key)
    if isinstance(received, dict) and len(received) == 1:
        outer, inner = next(iter(received.items()))
        if json_equal(inner, expected):
            return finding("double_wrapped", key=outer)
    if json_type(expected) != json_type(received):
        return finding("wrong_type", wanted=json_type(expected), got=json_type(received))
    return _walk(expected, received, [])


def _walk(expected: Any, received: Any, path: list[str]) -> Finding:
    """Follow the first difference down to the level where it is."""
    if isinstance(expected, dict) and isinstance(received, dict):
        missing = [key for key in expected if key not in received]
        extra = [key for key in received if key not in expected]
        if missing or extra:
            return _key_finding(missing, extra, path)
        for key in expected:
            if not json_equal(expected[key], received[key]):
                if json_type(expected[key]) != json_type(received[key]):
                    return _value_finding(expected[key], received[key], [*path, key])
                return _walk(expected[key], received[key], [*path, key])
    if isinstance(expected, list) and isinstance(received, list) and len(expected) == len(received):
        for index, (left, right) in enumerate(zip(expected, received, strict=True)):
            if not json_equal(left, right):
                return _walk(left, right, [*path, f"[{index}]"])
    return _value_finding(expected, received, path)


def _key_finding(missing: list[str], extra: list[str], path: list[str]) -> Finding:
    where = _dotted(path)
    pairs = _pair_misspellings(missing, extra)
    if pairs:
        wrong, right = pairs[0]
        return finding("misspelt_key", wrong=wrong, right=right, where=where)
    if len(missing) == 1 and len(extra) == 1:
        return finding("renamed_key", wrong=extra[0], right=missing[0], where=where)
    if extra and not missing:
        return finding("added_fields", where=where, keys=sorted(extra)[:5])
    # Fields lost (and maybe others invented): the reply is rebuilt instead of echoed.
    return finding("dropped_fields", where=where)


def _value_finding(expected: Any, received: Any, path: list[str]) -> Finding:
    if json_type(expected) != json_type(received):
        return finding("coerced", wanted=json_type(expected), got=json_type(received))
    return finding("changed", key=_last_key(path))


def _last_key(path: list[str]) -> str:
    for part in reversed(path):
        if not part.startswith("["):
            return part
    return ""


def _dotted(path: list[str]) -> str:
    return ".".join(path)


def edit_distance(left: str, right: str) -> int:
    """Levenshtein distance, counting a swap of two neighbours as one edit."""
    if len(left) > 100 or len(right) > 100:
        return max(len(left), len(right))
    previous_previous: list[int] = []
    previous = list(range(len(right) + 1))
    for i, a in enumerate(left, start=1):
        current = [i] + [0] * len(right)
        for j, b in enumerate(right, start=1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a != b))
            if i > 1 and j > 1 and a == right[j - 2] and left[i - 2] == b:
                current[j] = min(current[j], previous_previous[j - 2] + 1)
        previous_previous, previous = previous, current
    return previous[-1]


def _pair_misspellings(missing: list[str], extra: list[str]) -> list[tuple[str, str]]:
    """(wrong, right) pairs of keys close enough to be the same word misspelt."""
    pairs = []
    # A reply can hold any number of keys; a misspelling is among the first few.
    for right in missing[:MAX_KEYS_COMPARED]:
        best = None
        for wrong in extra[:MAX_KEYS_COMPARED]:
            distance = edit_distance(wrong.lower(), right.lower())
            allowed = 1 if len(right) <= 4 else 2 if len(right) <= 10 else 3
            if distance <= allowed and (best is None or distance < best[0]):
                best = (distance, wrong)
        if best is not None:
            pairs.append((best[1], right))
    return pairs


# --- tracebacks ----------------------------------------------------------------------------


def fold_traceback(output: str) -> str:
    """Error output with each run of library frames folded into one line.

    The learner's own frames (``solution.py``) stay, with their source lines; a
    run of frames from uvicorn, Starlette or FastAPI becomes
    ``  … 9 frames inside starlette, fastapi …``. Lines that are not part of a
    traceback are kept as they are.
    """
    lines = output.splitlines()
    out: list[str] = []
    index = 0
    while index < len(lines):
        match = FRAME.match(lines[index])
        if not match or match.group("file") == FILE_NAME:
            out.append(lines[index])
            index += 1
            continue
        indent = len(lines[index]) - len(lines[index].lstrip())
        count, packages = 0, []
        while index < len(lines):
            match = FRAME.match(lines[index])
            if not match or match.group("file") == FILE_NAME:
                break
            count += 1
            package = _package_of(match.group("file"))
            if package not in packages:
                packages.append(package)
            index += 1
            # The frame's source line and its ^^^ markers are indented deeper.
            while (
                index < len(lines)
                and not FRAME.match(lines[index])
                and len(lines[index]) - len(lines[index].lstrip()) > indent
            ):
                index += 1
        label = "frame" if count == 1 else "frames"
        out.append(" " * indent + f"… {count} {label} inside {', '.join(packages[:4])} …")
    return "\n".join(out)


def learner_first(output: str, source: str) -> str:
    """Error output headed by the exception and the learner's own line, when a traceback shows them.

    The line is taken from the learner's file (as the host holds it), and only
    when a frame of that file names a line that exists.
    """
    exception, detail, line = traceback_facts(output, Source(source))
    if exception is None or line is None:
        return output
    head = f"{exception}: {detail}" if detail else exception
    code = Source(source).code(line)
    return f"{head}\n  in {FILE_NAME}, line {line}: {code}\n\n{output}"


def _package_of(path: str) -> str:
    match = re.search(r"(?:site|dist)-packages/([^/]+)/", path)
    if match:
        return match.group(1)
    return path.rsplit("/", 1)[-1] or path


# --- grouping ------------------------------------------------------------------------------


@dataclass
class _Group:
    finding: Finding
    cases: list[CaseResult] = field(default_factory=list)


def diagnose(
    report: Report,
    source: str,
    *,
    bodies: dict[str, tuple[Any, Any]] | None = None,
    facts: dict[str, Any] | None = None,
    facts_from_host: bool = False,
    packages: Iterable[str] = ("fastapi", "starlette", "pydantic", "uvicorn"),
    entry_point: str = "app",
) -> list[Diagnosis]:
    """The report's mistakes, most important first; empty at full marks.

    bodies: case name -> (expected, received) parsed in full, when the caller has
        them (a report shows bodies cut to a few thousand characters).
    facts: what the boot script reported with a loading error (checked here).
    """
    text = Source(source)
    if report.error is not None:
        return [
            _error_diagnosis(
                report.error, text, _checked_facts(facts or {}, text), facts_from_host, report, packages, entry_point
            )
        ]
    failed = [case for case in report.tests if not case.passed]
    if not failed:
        return []
    bodies = bodies or {}
    groups: dict[Finding, _Group] = {}
    for case in failed:
        expected, received = bodies.get(case.name, (None, None))
        found = classify(case, expected, received)
        if found.cause == "crash":
            found = _crash_finding(case, text)
        groups.setdefault(found, _Group(found)).cases.append(case)
    _spot_same_answer(report, groups, bodies)
    _merge_related(groups, text)
    order = {case.name: index for index, case in enumerate(report.tests)}
    for group in groups.values():
        group.cases.sort(key=lambda case: order.get(case.name, 0))
    diagnoses = [_case_diagnosis(group, text, report.tests) for group in groups.values()]
    diagnoses = _merge_same_line(diagnoses)
    diagnoses.sort(key=lambda d: (PRIORITY.get(d.cause, 5), -len(d.cases), order.get(d.cases[0], 0) if d.cases else 0))
    return diagnoses


def _spot_same_answer(report: Report, groups: dict[Finding, _Group], bodies: dict[str, tuple[Any, Any]]) -> None:
    """Cases answered with the reply of another request: written out by hand (or remembered).

    It shows when a reply that passed for one request comes back for another and
    holds a value the other request never sent ("Hello" for a message saying "Hi").
    """
    shape_causes = {
        "null_body",
        "not_json",
        "not_json_media_type",
        "json_string",
        "not_wrapped",
        "double_wrapped",
        "wrong_type",
    }

    def bodies_of(case: CaseResult) -> tuple[Any, Any]:
        if case.name in bodies:
            return bodies[case.name]
        return parse_body(case.expected.body), parse_body(case.received.body)

    passed_answers = [
        bodies_of(case)[1]
        for case in report.tests
        if case.passed and case.expected.body is not None and case.received.body is not None
    ]
    candidates = [
        (case, *bodies_of(case))
        for found, group in groups.items()
        if found.cause not in shape_causes and PRIORITY.get(found.cause, 5) >= 2
        for case in group.cases
        if case.received.status == case.expected.status and case.expected.body is not None
    ]
    triggers = [
        answer
        for _, expected, answer in candidates
        if isinstance(answer, (dict, list))
        and any(json_equal(answer, passed) for passed in passed_answers)
        and _leaves(answer) - _leaves(expected)
    ]
    if not triggers:
        return
    same = [case for case, _, answer in candidates if any(json_equal(answer, trigger) for trigger in triggers)]
    moved = {case.name for case in same}
    for found in list(groups):
        group = groups[found]
        group.cases = [case for case in group.cases if case.name not in moved]
        if not group.cases:
            del groups[found]
    key = finding("same_answer")
    groups.setdefault(key, _Group(key)).cases.extend(same)


def _leaves(value: Any) -> set[tuple[str, str]]:
    """(path, value) of every scalar in a JSON value, for comparing what two values hold.

    Walked with a stack, not recursion: a reply can be nested very deep.
    """
    found: set[tuple[str, str]] = set()
    stack: list[tuple[str, Any]] = [("", value)]
    while stack:
        path, item = stack.pop()
        if isinstance(item, dict):
            stack.extend((f"{path}/{key}", inner) for key, inner in item.items())
        elif isinstance(item, list):
            stack.extend((f"{path}/{index}", inner) for index, inner in enumerate(item))
        elif item is not NOT_JSON:
            found.add((path, json.dumps(item)))
    return found


def _merge_related(groups: dict[Finding, _Group], text: Source) -> None:
    """Fold findings that are one mistake seen from several cases."""

    def fold(into: Finding, causes: set[str]) -> None:
        for found in list(groups):
            if found != into and found.cause in causes:
                groups[into].cases.extend(groups.pop(found).cases)

    by_cause: dict[str, Finding] = {}
    for found in groups:
        by_cause.setdefault(found.cause, found)
    # A route on the wrong path or method also explains the cases about refusing requests.
    for blocker in ("wrong_path", "redirect", "wrong_method"):
        if blocker in by_cause:
            fold(by_cause[blocker], {"method_allowed", "accepts_non_objects", "other"})
    # Every way of answering with another status is one wrong status, if the status is the same.
    # A pydantic model with only some fields drops the others and refuses objects without them.
    if text.find(r"class\s+\w+\s*\(\s*(pydantic\.)?BaseModel\s*\)") and (
        "dropped_fields" in by_cause or "refused_valid" in by_cause
    ):
        target = finding("model_fields")
        groups[target] = _Group(target)
        for found in list(groups):
            if found.cause in ("dropped_fields", "refused_valid"):
                groups[target].cases.extend(groups.pop(found).cases)
    # Values changed or converted in several places are one habit, told once.
    for cause in ("dropped_fields", "coerced", "changed"):
        same = [found for found in groups if found.cause == cause]
        for other in same[1:]:
            groups[same[0]].cases.extend(groups.pop(other).cases)
    # Picking fields out of the message both loses some and invents others (null for a missing one).
    dropped = next((found for found in groups if found.cause == "dropped_fields"), None)
    if dropped is not None:
        fold(dropped, {"added_fields"})
    # A crash whose traceback was not caught is most likely the crash seen elsewhere.
    crashes = [found for found in groups if found.cause in ("crash", "json_not_awaited")]
    unknown = [found for found in crashes if found.cause == "crash" and not found.get("exception")]
    known = [found for found in crashes if found not in unknown]
    if unknown and len(known) == 1:
        for found in unknown:
            groups[known[0]].cases.extend(groups.pop(found).cases)
    # A coroutine used as data crashes on broken input too; awaiting it (or a dict parameter) fixes both.
    awaited = next((found for found in groups if found.cause == "json_not_awaited"), None)
    refusing = next((found for found in groups if found.cause == "accepts_non_objects"), None)
    if awaited is not None and refusing is not None:
        crashed = [case for case in groups[refusing].cases if (case.received.status or 0) >= 500]
        groups[awaited].cases.extend(crashed)
        groups[refusing].cases = [case for case in groups[refusing].cases if case not in crashed]
        if not groups[refusing].cases:
            del groups[refusing]


def _crash_finding(case: CaseResult, text: Source) -> Finding:
    """A crash, told apart by its exception and the learner's line."""
    if _not_awaited([case], text):
        return finding("json_not_awaited")
    exception, _, line = traceback_facts(case.program_output or "", text)
    return finding("crash", exception=exception, line=line)


def _merge_same_line(diagnoses: list[Diagnosis]) -> list[Diagnosis]:
    """Two findings that point at the same line of the endpoint are one mistake (a crash included)."""
    merged: list[Diagnosis] = []
    for diagnosis in diagnoses:
        twin = next(
            (
                kept
                for kept in merged
                if diagnosis.line is not None
                and kept.line == diagnosis.line
                and {kept.cause, diagnosis.cause} & {"crash"}
                and {kept.cause, diagnosis.cause} & {"dropped_fields", "changed", "coerced", "model_fields"}
            ),
            None,
        )
        if twin is None:
            merged.append(diagnosis)
            continue
        index = merged.index(twin)
        keep, other = (twin, diagnosis) if twin.cause != "crash" else (diagnosis, twin)
        merged[index] = Diagnosis(
            title=keep.title,
            explanation=keep.explanation + " " + other.explanation,
            fix=keep.fix,
            cases=[*twin.cases, *diagnosis.cases],
            line=keep.line,
            cause=keep.cause,
        )
    return merged


# --- wording: cases -------------------------------------------------------------------------


class _Ctx(NamedTuple):
    """What the wording of a case diagnosis may use."""

    found: Finding
    cases: list[CaseResult]
    text: Source
    path: str
    method: str
    every_case: list[CaseResult]


_Words = tuple[str, str, str, int | None]


def _case_diagnosis(group: _Group, text: Source, every_case: list[CaseResult]) -> Diagnosis:
    found, cases = group.finding, group.cases
    first = cases[0]
    path = first.request.path or "/"
    method = first.request.method or "POST"
    names = [case.name for case in cases]
    words = _CASE_WORDING.get(found.cause, _other)
    title, explanation, fix, line = words(_Ctx(found, cases, text, path, method, every_case))
    return Diagnosis(
        title=title, explanation=explanation, fix=fix, cases=names, line=text.valid_line(line), cause=found.cause
    )


def _echoes(cases: list[CaseResult]) -> bool:
    """Whether these cases expect the request's body back, wrapped in an object."""
    return _reply(cases).endswith(": msg}")


def _reply(cases: list[CaseResult]) -> str:
    """The expression the endpoint should return, from what the cases expect.

    For an echo exercise it is ``{"received": msg}``; otherwise the expected
    object itself.
    """
    for case in cases:
        expected = parse_body(case.expected.body)
        sent = parse_body(case.request.body)
        if isinstance(expected, dict) and len(expected) == 1 and sent is not NOT_JSON:
            key, inner = next(iter(expected.items()))
            if json_equal(inner, sent):
                return "{" + json.dumps(key) + ": msg}"
    for case in cases:
        expected = parse_body(case.expected.body)
        if expected is not NOT_JSON:
            return _show(expected)
    return "the object the exercise describes"


def _show(value: Any) -> str:
    shown = json.dumps(value, ensure_ascii=False)
    return shown if len(shown) <= SHOWN_VALUE else shown[: SHOWN_VALUE - 1] + "…"


def _code(text: str) -> str:
    text = text.replace("`", "'")
    return text if len(text) <= 120 else text[:119] + "…"


def _at_line(text: Source, line: int | None) -> str:
    code = text.code(text.valid_line(line))
    return f" (line {line}: `{_code(code)}`)" if code else ""


def _count(cases: list[CaseResult]) -> str:
    return f"{len(cases)} case{'s' if len(cases) != 1 else ''}"


def _wrong_path(c: _Ctx) -> _Words:
    text, path, method = c.text, c.path, c.method
    route = text.route_for(path)
    other = [r for r in text.routes() if r[2] != path]
    if other:
        line, _, wrote = other[0]
        explanation = (
            f"The grader sent {method} {path}, but your route decorator says `{_code(wrote)}`, so nothing in your app "
            f"answers at {path} and FastAPI replied 404 Not Found before any endpoint function ran."
        )
        return (
            f"Nothing answers at {path}: your route is {wrote}",
            explanation,
            f'Change the path in the decorator to "{path}": `@app.{method.lower()}("{path}")`.',
            line,
        )
    return (
        f"Nothing answers at {path}",
        f"The grader sent {method} {path} and your app replied 404 Not Found: no endpoint is registered at that path, so no function ran.",
        f'Register your endpoint with `@app.{method.lower()}("{path}")`.',
        route[0] if route else None,
    )


def _redirect(c: _Ctx) -> _Words:
    found, cases, text, path, method = c.found, c.cases, c.text, c.path, c.method
    location = found.get("location") or ""
    shown_location = re.sub(r"^https?://[^/]+", "", location) or location or "another address"
    slash = shown_location.rstrip("/") == path.rstrip("/") and shown_location.endswith("/") and not path.endswith("/")
    line = text.find(
        re.compile(r"""@\s*\w+\.\w+\(\s*(?:path\s*=\s*)?["']""" + re.escape(path.rstrip("/")) + r"""/["']""")
    )
    if slash:
        return (
            f"Your route ends with a slash: {shown_location}",
            f"The grader sent {method} {path}; your endpoint is registered at {shown_location}, with a slash at the end, "
            f"so FastAPI answered with a redirect ({cases[0].received.status}, Location: {shown_location}) instead of calling your function. "
            "A client that follows the redirect may even drop the body.",
            f'Remove the trailing slash from the decorator: `@app.{method.lower()}("{path}")`.',
            line,
        )
    return (
        f"Your app redirects {path} elsewhere",
        f"The grader sent {method} {path} and got a redirect ({cases[0].received.status}) to {shown_location} instead of an answer.",
        f"Answer at {path} itself instead of redirecting.",
        line,
    )


def _wrong_method(c: _Ctx) -> _Words:
    text, path, method = c.text, c.path, c.method
    route = text.route_for(path)
    registered = route[1] if route else None
    if registered and registered not in ("api_route", "route"):
        return (
            f"Your endpoint takes {registered.upper()}, the exercise sends {method}",
            f"Your route decorator `@app.{registered}` registers {path} for {registered.upper()} requests only, so the "
            f"grader's {method} requests were refused with 405 Method Not Allowed before your function ran.",
            f'Use `@app.{method.lower()}("{path}")` instead of `@app.{registered}("{path}")`.',
            route[0] if route else None,
        )
    return (
        f"{path} does not take {method} requests",
        f"The grader's {method} requests to {path} were refused with 405 Method Not Allowed before your function ran.",
        f'Register the endpoint with `@app.{method.lower()}("{path}")`.',
        route[0] if route else None,
    )


def _no_answer(c: _Ctx) -> _Words:
    cases = c.cases
    problem = cases[0].problem or "no answer came back"
    return (
        "Some requests got no answer",
        f"For {_count(cases)} the grader got no reply: {problem}.",
        "Make the endpoint answer straight away: no endless loop, no sleep, no waiting for input, and do not stop the program.",
        None,
    )


def _wrong_status(c: _Ctx) -> _Words:
    found, text = c.found, c.text
    got, wanted = found.get("got"), found.get("wanted")
    line = text.find(rf"status_code\s*=\s*{got}\b")
    code = text.code(line)
    if line and code.startswith("@"):
        fix = f"Remove `status_code={got}` from the decorator on line {line}: FastAPI then answers {wanted}."
    elif line:
        fix = f"Answer with status {wanted}: change `status_code={got}` on line {line}."
    else:
        fix = f"Answer with status {wanted}, FastAPI's default for a successful request."
    return (
        f"Your endpoint answers with status {got} instead of {wanted}",
        f"The grader expected {wanted} and received {got}. Which status a reply carries is part of the answer: "
        "a client reads it before the body.",
        fix,
        line,
    )


def _crash(c: _Ctx) -> _Words:
    cases, text = c.cases, c.text
    exc, detail, line = _crash_facts(cases, text)
    what = f"`{exc}: {detail}`" if exc and detail else f"`{exc}`" if exc else "an exception"
    where = f" at line {line}: `{_code(text.code(line))}`" if line and text.code(line) else ""
    explanation = (
        f"Your endpoint function raised {what}{where}. When an endpoint raises an exception, "
        "FastAPI answers 500 Internal Server Error instead of your reply."
    )
    fix = _crash_fix(exc, detail, _reply(cases))
    title = f"Your endpoint crashed with {exc}" if exc else "Your endpoint crashed"
    return title, explanation, fix, line


def _crash_fix(exc: str | None, detail: str | None, reply: str) -> str:
    detail = detail or ""
    if exc == "KeyError":
        return f"A message does not always hold the key you read: echo the whole message (`return {reply}`) instead of picking fields out of it."
    if exc == "AttributeError" and "dict" in detail:
        attribute = re.search(r"has no attribute '(\w+)'", detail)
        name = attribute.group(1) if attribute else "text"
        return (
            f'The message is a dict: its fields are read with `msg["{name}"]`, not `msg.{name}`; '
            "but to send it back, return the whole dict."
        )
    if exc == "EOFError" and "input()" in detail:
        return "Remove the `input()` call: nobody can type while the grader runs your app, and the message arrives as your endpoint's parameter."
    if exc == "TypeError" and "coroutine" in detail:
        return "Put `await` before `request.json()`: it gives a coroutine, not the data, until it is awaited."
    return "Fix the line the error points at; the grader's requests are in the failed cases below, so you can send the same ones yourself."


def _crash_facts(cases: list[CaseResult], text: Source) -> tuple[str | None, str | None, int | None]:
    """(exception type, message, learner's line) from the error output of the crashed cases."""
    for case in cases:
        found = traceback_facts(case.program_output or "", text)
        if found[0] or found[2]:
            return found
    return None, None, None


def traceback_facts(output: str, text: Source) -> tuple[str | None, str | None, int | None]:
    """From a printed traceback: its exception, its message and the learner's innermost line.

    Only frames of the learner's file count, and only a line that exists in it.
    """
    lines = output.splitlines()
    learner_at = None
    line = None
    for index, raw in enumerate(lines):
        match = FRAME.match(raw)
        if match and match.group("file") == FILE_NAME:
            checked = text.valid_line(int(match.group("line")))
            if checked is not None:
                learner_at, line = index, checked
    exception = detail = None
    start = learner_at if learner_at is not None else 0
    for raw in lines[start:]:
        if (
            raw[:1].isspace()
            or not raw.strip()
            or raw.startswith(("Traceback", "ERROR", "INFO", "WARNING", "During", "The above", "+", "|"))
        ):
            continue
        match = EXCEPTION_LINE.match(raw.strip())
        if match and ("Error" in match.group("type") or "Exception" in match.group("type") or match.group("detail")):
            exception = match.group("type").rsplit(".", 1)[-1][:80]
            detail = (match.group("detail") or "")[:MAX_DETAIL]
            break
    return exception, detail, line


def _not_awaited(cases: list[CaseResult], text: Source) -> bool:
    output = "\n".join(case.program_output or "" for case in cases)
    if "coroutine" in output and ("never awaited" in output or "'coroutine' object" in output):
        return True
    return _unawaited_json_line(text) is not None and "coroutine" in output


def _unawaited_json_line(text: Source) -> int | None:
    return text.find(r"(?<!await )(?<!await\s\()\b\w+\.(json|body|form)\(\)")


def _json_not_awaited(c: _Ctx) -> _Words:
    text = c.text
    line = _unawaited_json_line(text)
    return (
        "`request.json()` is not awaited",
        "`request.json()` does not give the data straight away: it gives a coroutine, a promise of the data that "
        "only `await` fulfils. Your endpoint used that coroutine as if it were the message, so it crashed and "
        "FastAPI answered 500 Internal Server Error.",
        "Write `await request.json()`, or simpler: declare the parameter `msg: dict` and let FastAPI read the body.",
        line,
    )


def _accepts_non_objects(c: _Ctx) -> _Words:
    cases, text, path = c.cases, c.text, c.path
    line = text.endpoint(path)
    sent = ", ".join(sorted({_kind_of_body(case) for case in cases}))
    return (
        "Your endpoint accepts bodies that are not JSON objects",
        f"The grader sent {sent} and expected 422 Unprocessable Entity, the answer FastAPI gives by itself when a "
        "body does not fit the parameter's type. Your endpoint took them in instead.",
        "Declare the body parameter as a dict, `msg: dict`, and let FastAPI refuse everything else.",
        line,
    )


def _kind_of_body(case: CaseResult) -> str:
    parsed = parse_body(case.request.body)
    if parsed is NOT_JSON:
        return "broken JSON"
    return {"array": "an array", "string": "a bare string"}.get(json_type(parsed), f"a JSON {json_type(parsed)}")


def _method_allowed(c: _Ctx) -> _Words:
    cases, text, path, method = c.cases, c.text, c.path, c.method
    route = text.route_for(path)
    return (
        f"{path} answers {method} requests it should refuse",
        f"The grader sent {method} {path} and expected 405 Method Not Allowed; your app answered "
        f"{cases[0].received.status} instead, so it registers {path} for more methods than the exercise asks.",
        f'Register the endpoint with `@app.{_wanted_method(c).lower()}("{path}")` only (not `@app.api_route` with several methods, nor a second route).',
        route[0] if route else None,
    )


def _wanted_method(c: _Ctx) -> str:
    """The method the exercise's successful requests to this path use."""
    for case in c.every_case:
        wanted = case.expected.status or 0
        if case.request.path == c.path and 200 <= wanted < 300 and case.request.method:
            return case.request.method
    return "POST"


def _refused_valid(c: _Ctx) -> _Words:
    text, path = c.text, c.path
    line = text.endpoint(path)
    return (
        "Your endpoint refuses valid messages (422)",
        "FastAPI refused some of the grader's JSON objects with 422 before your function ran: the type of your "
        "endpoint's parameter does not accept every object.",
        "Declare the parameter as `msg: dict`, which takes any JSON object.",
        line,
    )


def _model_fields(c: _Ctx) -> _Words:
    text = c.text
    line = text.find(r"class\s+\w+\s*\(\s*(pydantic\.)?BaseModel\s*\)")
    return (
        "Your pydantic model keeps only the fields it declares",
        "Your endpoint reads the body through a pydantic model. A model keeps only the fields it declares and "
        "refuses (422) objects that lack one, so messages with other fields lose them and messages without "
        "them are refused. The exercise sends objects of any shape.",
        "Declare the parameter as `msg: dict` instead of the model, so every field comes back exactly as sent.",
        line,
    )


def _null_body(c: _Ctx) -> _Words:
    reply = _reply(c.cases)
    text, path = c.text, c.path
    printed = text.in_endpoint(path, r"\bprint\s*\(")
    if printed:
        return (
            "Your endpoint prints the reply instead of returning it",
            "`print(...)` writes to the server's own log, which the client never sees. Your function returned "
            "nothing, and FastAPI sent that None as the JSON value null.",
            f"Replace the print with `return {reply}`.",
            printed,
        )
    return (
        "Your endpoint returns nothing",
        "The reply was the JSON value null: your function ended without a `return`, and FastAPI sends a function's "
        "None as null. What the function returns is what travels back to the client.",
        f"End the function with `return {reply}`.",
        text.endpoint(path),
    )


def _not_json(c: _Ctx) -> _Words:
    text, path = c.text, c.path
    if any("nested far too deeply" in (case.problem or "") for case in c.cases):
        return (
            "The reply is nested too deeply to be read",
            "Your endpoint sent back brackets inside brackets thousands of levels deep; no JSON reader takes that.",
            f"Return only `{_reply(c.cases)}`.",
            text.returned(path),
        )
    return (
        "The reply is not JSON",
        "The body your endpoint sent back is not JSON, so a client cannot read it as an object.",
        "Return a dict from the endpoint (FastAPI turns it into JSON), not a string or a plain-text response.",
        text.returned(path),
    )


def _not_json_media_type(c: _Ctx) -> _Words:
    """JSON text sent under a media type a JSON client refuses, told from where the file sets it."""
    sent, wanted = c.found.get("sent") or "", c.found.get("wanted") or JSON_MEDIA_TYPE
    reply, text = _reply(c.cases), c.text
    content_type = checked_content_type(c.cases[0].received.headers.get(CONTENT_TYPE))
    kinds = {"text/plain": "plain text", "text/html": "a web page (HTML)"}
    if not sent:
        title, came = "The reply does not say it is JSON", "came with no `Content-Type` header at all"
    elif content_type is None:
        title, came = "The reply does not say it is JSON", "came with a `Content-Type` header that is not a media type"
    else:
        title = (
            f"The reply is sent as {kinds.get(sent, sent)}, not as {'JSON' if wanted == JSON_MEDIA_TYPE else wanted}"
        )
        came = f"came with `Content-Type: {content_type}`"
    if wanted == JSON_MEDIA_TYPE:
        why = (
            "A JSON client reads that header before the body, and only reads the body as JSON when it says "
            "`application/json` (or a type ending in `+json`), so it would refuse this reply."
        )
        target = JSON_MEDIA_TYPE
    else:
        why = f"The exercise asks for replies sent as `{wanted}`."
        target = wanted
    # A header that is not a media type is nothing a line of the file shows: none is claimed.
    site = response_site(text.text, c.path, sent) if content_type is not None or not sent else None
    plain_return = f"return the dict itself (`return {reply}`); FastAPI sends a dict as JSON"
    if site is not None and text.in_endpoint(c.path, re.escape(f"return {reply}")):
        plain_return = "let FastAPI send the dict your function returns (it sends a dict as JSON)"
    if text.find(r"\bFastAPI\s*\(") is None:  # Starlette or a bare ASGI app: nothing turns a dict into JSON
        plain_return = f"build the reply with `JSONResponse({reply})`"
    if target != JSON_MEDIA_TYPE:
        plain_return = f'build the reply with `JSONResponse(..., media_type="{target}")`'
    cls, value, line = (site.class_name, site.value, site.line) if site else (None, "", None)
    if site is None:
        where = ""
        fix = f'{_capitalised(plain_return)}. Or give your response `media_type="{target}"`.'
    elif site.how == "header":
        where = f" The `Content-Type` header your code sets to {value} decides it{_at_line(text, line)}."
        fix = f"Set that header to `{target}`, or leave it out and {plain_return}."
    elif site.how == "media_type" and site.json_class and target == JSON_MEDIA_TYPE:
        where = f" `media_type={value}` given to `{cls}` decides it{_at_line(text, line)}."
        fix = f"Remove `media_type={value}`: `{cls}` sends `{JSON_MEDIA_TYPE}` by itself."
    elif site.how == "media_type":
        where = f" `media_type={value}` given to `{cls}` decides it{_at_line(text, line)}."
        fix = f'Write `media_type="{target}"` instead of `media_type={value}`, or {plain_return}.'
    elif site.how in ("response_class", "default_response_class"):
        owner = "`FastAPI(...)`"
        if site.how == "response_class":
            owner = "the route decorator" if text.code(line).startswith("@") else "the route's registration"
        where = (
            f" `{site.how}={value}` in {owner}{_at_line(text, line)} makes FastAPI send what your function returns "
            f"as `{sent}`."
        )
        fix = f"Remove `{site.how}={value}` from {owner}, then {plain_return}."
    elif site.class_line is not None:
        says = f"says `media_type = {site.value}`" if site.value else "inherits its media type"
        where = f" Your class `{cls}` (line {site.class_line}) {says}, and the reply is built with it{_at_line(text, line)}."
        fix = f'In `{cls}`, write `media_type = "{target}"`, or {plain_return}.'
    else:
        sends = f"sends `{sent}`" if sent else "sends no `Content-Type` unless it is given a `media_type`"
        where = f" `{cls}` {sends}{_at_line(text, line)}."
        dropped = f"`{cls}` and `json.dumps`" if "json.dumps" in text.code(line) else f"`{cls}`"
        fix = f"Drop {dropped}, then {plain_return}."
        if target != JSON_MEDIA_TYPE:
            fix = f'Give `{cls}` `media_type="{target}"`.'
        elif not sent:
            fix = f'Give `{cls}` `media_type="{target}"`, or drop {dropped}, then {plain_return}.'
    return (
        title,
        f"Your endpoint's reply looks like JSON, but it {came}. {why}{where}",
        fix,
        line,
    )


def _json_string(c: _Ctx) -> _Words:
    reply = _reply(c.cases)
    text, path = c.text, c.path
    line = text.find(r"json\.dumps\s*\(") or text.returned(path)
    return (
        "The reply is a JSON string, not a JSON object",
        "Your endpoint turned the reply into text itself (with `json.dumps`), then FastAPI encoded that text "
        'once more, so the client received one long string such as "{\\"received\\": ...}" instead of an object.',
        f"Return the dict itself and let FastAPI encode it: `return {reply}`, without `json.dumps`.",
        line,
    )


def _not_wrapped(c: _Ctx) -> _Words:
    found, text, path = c.found, c.text, c.path
    key = found.get("key") or "received"
    return (
        f'The message is not wrapped in "{key}"',
        f"Your endpoint sent the message back as it came, but the exercise asks for it inside an object under the "
        f'key "{key}": {{"{key}": message}}.',
        f'Return `{{"{key}": msg}}` instead of `msg`.',
        text.returned(path),
    )


def _double_wrapped(c: _Ctx) -> _Words:
    found, text, path = c.found, c.text, c.path
    key = found.get("key") or "received"
    return (
        f'The message is wrapped twice in "{key}"',
        f'Your reply holds the right answer inside one more "{key}" object: {{"{key}": {{"{key}": message}}}}. '
        "The exercise wraps the message once.",
        f'Return `{{"{key}": msg}}` with `msg` being the body your endpoint received, not an already wrapped reply.',
        text.returned(path),
    )


def _wrong_type(c: _Ctx) -> _Words:
    reply = _reply(c.cases)
    found, text, path = c.found, c.text, c.path
    wanted, got = found.get("wanted"), found.get("got")
    return (
        f"The reply is a JSON {got}, not a JSON {wanted}",
        f"The exercise expects the reply to be a JSON {wanted}; your endpoint returned a JSON {got}.",
        f"Return a dict: `return {reply}`.",
        text.returned(path),
    )


def _misspelt_key(c: _Ctx) -> _Words:
    found, text, path = c.found, c.text, c.path
    wrong, right = found.get("wrong"), found.get("right")
    return (
        f"Misspelt key: you wrote `{_code(wrong)}`; the key is `{_code(right)}`",
        f'Your reply uses the key "{wrong}" where the exercise expects "{right}". To a program these are two '
        "different keys, so every reply that should hold it fails, although the message itself is right.",
        f'Write "{right}" instead of "{wrong}".',
        text.quoted(wrong) or text.returned(path),
    )


def _renamed_key(c: _Ctx) -> _Words:
    found, text, path = c.found, c.text, c.path
    wrong, right = found.get("wrong"), found.get("right")
    return (
        f"Wrong key: you wrote `{_code(wrong)}`; the key is `{_code(right)}`",
        f'Your reply puts the value under "{wrong}"; the exercise expects the key "{right}".',
        f'Use the key "{right}" instead of "{wrong}".',
        text.quoted(wrong) or text.returned(path),
    )


def _dropped_fields(c: _Ctx) -> _Words:
    reply = _reply(c.cases)
    text, path = c.text, c.path
    return (
        "Fields of the message are missing from the reply",
        "Some fields the grader sent did not come back: your endpoint builds a new object from a few fields "
        "instead of sending back the whole message.",
        f"Return the whole message: `return {reply}`, without picking fields out of it.",
        text.returned(path),
    )


def _added_fields(c: _Ctx) -> _Words:
    found, text, path = c.found, c.text, c.path
    keys = ", ".join(f'"{key}"' for key in found.get("keys", ()))
    return (
        "The reply holds fields the message did not have",
        f"Your reply adds {keys or 'fields'} that the grader never sent; the message must come back exactly as it arrived.",
        "Send the message back unchanged: do not add fields to it.",
        text.quoted(found.get("keys", ("",))[0]) if found.get("keys") else text.returned(path),
    )


def _coerced(c: _Ctx) -> _Words:
    cases, text, path = c.cases, c.text, c.path
    changes: list[str] = []
    for case in cases:
        found = classify(case)
        change = f"{found.get('wanted')} becomes {found.get('got')}"
        if found.cause == "coerced" and change not in changes:
            changes.append(change)
    example = _first_coercion(cases)
    return (
        f"Values change type on the way back ({', '.join(changes[:3]) or 'a value becomes another type'})",
        f"A value must come back with the type it was sent with: {example}"
        'JSON\'s types count, so `3` is not `"3"`, `2.5` is not `2` and `true` is not `1`.',
        "Send the values back as they arrived; do not convert them (no str(), int(), round() on them).",
        text.find(r"\b(str|int|float|round|bool)\s*\(") or text.returned(path),
    )


def _first_coercion(cases: list[CaseResult]) -> str:
    for case in cases:
        if case.diff:
            first = case.diff.splitlines()[0]
            if first.startswith("at "):
                return first.split(": ", 1)[-1] + ". "
    return ""


def _changed(c: _Ctx) -> _Words:
    found, cases, text, path = c.found, c.cases, c.text, c.path
    key = found.get("key")
    example = _first_coercion(cases)
    where = f" under {key!r}" if key else ""
    line = text.find(r"\.(lower|upper|strip|title|capitalize|replace)\s*\(") or text.returned(path)
    if not _echoes(cases):
        quoted = f'"{key}"' if key else "a value"
        return (
            f"The reply holds the wrong value{where}",
            f"The exercise expects another value{where}: {example}The reply must be exactly the object the exercise describes.",
            f"Return exactly `{_reply(cases)}`."
            if _reply(cases).startswith("{")
            else f"Check the value of {quoted} against the exercise.",
            text.quoted(key) if key else text.returned(path),
        )
    return (
        f"A value comes back changed{where}",
        f"The reply holds a different value{where} from the one sent: {example}The message must come back exactly as it arrived.",
        "Send the value back as it came: do not change, shorten or rewrite it.",
        line,
    )


def _same_answer(c: _Ctx) -> _Words:
    reply = _reply(c.cases)
    cases, text, path = c.cases, c.text, c.path
    names = ", ".join(case.name for case in cases[:3])
    line = None
    for case in cases:
        for value in _leaf_strings(parse_body(case.received.body)):
            line = text.quoted(value)
            if line:
                break
        if line:
            break
    return (
        "Your reply does not follow the request",
        f"The cases {names}{' and more' if len(cases) > 3 else ''} sent different messages but got back the same "
        "reply, one that fits another request. An answer written out by hand (or remembered from an earlier "
        "request) passes only for the message it was written for.",
        f"Build the reply from the message each time: `return {reply}`, where `msg` is your endpoint's parameter.",
        line or text.returned(path),
    )


def _leaf_strings(value: Any) -> list[str]:
    """The short strings a JSON value holds, outermost first (walked with a stack)."""
    found: list[str] = []
    stack = [value]
    while stack and len(found) < 50:
        item = stack.pop(0)
        if isinstance(item, str) and 0 < len(item) <= 80:
            found.append(item)
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return found


def _too_large(c: _Ctx) -> _Words:
    reply = _reply(c.cases)
    text, path = c.text, c.path
    return (
        "The reply is far larger than the message",
        "The grader stopped reading the reply at its size limit: the endpoint sends much more than the message it got.",
        f"Return only `{reply}`.",
        text.returned(path),
    )


def _other(c: _Ctx) -> _Words:
    cases = c.cases
    first = cases[0]
    problem = first.problem or "the reply differs from the expected one"
    return (
        f"{_capitalised(problem.split(':')[0])}",
        f"{_capitalised(problem)}.",
        first.hint or "Compare what was expected with what your app sent back in the cases below.",
        None,
    )


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


_CASE_WORDING = {
    "wrong_path": _wrong_path,
    "redirect": _redirect,
    "wrong_method": _wrong_method,
    "no_answer": _no_answer,
    "wrong_status": _wrong_status,
    "crash": _crash,
    "json_not_awaited": _json_not_awaited,
    "accepts_non_objects": _accepts_non_objects,
    "method_allowed": _method_allowed,
    "refused_valid": _refused_valid,
    "model_fields": _model_fields,
    "null_body": _null_body,
    "not_json": _not_json,
    "not_json_media_type": _not_json_media_type,
    "json_string": _json_string,
    "not_wrapped": _not_wrapped,
    "double_wrapped": _double_wrapped,
    "wrong_type": _wrong_type,
    "misspelt_key": _misspelt_key,
    "renamed_key": _renamed_key,
    "dropped_fields": _dropped_fields,
    "added_fields": _added_fields,
    "coerced": _coerced,
    "changed": _changed,
    "same_answer": _same_answer,
    "too_large": _too_large,
}


# --- wording: errors that stopped the grading ---------------------------------------------

LOAD_CAUSES = {
    "syntax",
    "server_start",
    "input",
    "exit",
    "missing_module",
    "exception",
    "no_app",
    "not_asgi",
    "lifespan",
}
APP_CATEGORIES = {"class", "function", "module", "value", "wsgi"}


def _checked_facts(raw: dict[str, Any], text: Source) -> dict[str, Any]:
    """The facts from inside the sandbox that pass the host's checks; the rest dropped."""
    checked: dict[str, Any] = {}
    if raw.get("cause") in LOAD_CAUSES:
        checked["cause"] = raw["cause"]
    line = text.valid_line(raw.get("line"))
    if line is not None:
        checked["line"] = line
    for key in ("exception", "module"):
        value = raw.get(key)
        if isinstance(value, str) and IDENTIFIER.match(value):
            checked[key] = value
    detail = raw.get("detail")
    if isinstance(detail, str):
        checked["detail"] = detail.replace("\n", " ").replace("`", "'")[:MAX_DETAIL]
    names = raw.get("names")
    if isinstance(names, list):
        checked["names"] = [name for name in names[:5] if isinstance(name, str) and IDENTIFIER.match(name)]
    if raw.get("what") in APP_CATEGORIES:
        checked["what"] = raw["what"]
    return checked


def _error_diagnosis(
    error: GradingError,
    text: Source,
    facts: dict[str, Any],
    from_host: bool,
    report: Report,
    packages: Iterable[str],
    entry: str,
) -> Diagnosis:
    kind = error.kind
    cause = facts.get("cause")
    line = facts.get("line")
    if kind == "infra":
        return Diagnosis(
            title="The grader had a problem of its own (not your mistake)",
            explanation="Something went wrong on the grading side, so your file was not judged. This attempt does not count against you.",
            fix="Submit the same file again in a moment; if this keeps happening, tell your instructor.",
            cause="infra",
        )
    if kind == "syntax":
        return _syntax(text, facts)
    if kind == "import" and cause == "server_start":
        return Diagnosis(
            title="Your file starts a server while it is being loaded",
            explanation=(
                f"The grader loads your file to find `{entry}` and then serves it itself. A call that starts a server"
                f"{_at_line(text, line)} runs as soon as the file is loaded, so loading would never finish."
            ),
            fix='Put the call under `if __name__ == "__main__":` (or delete it): it then runs only when you start the file yourself with `python`.',
            line=line,
            cause="server_start",
        )
    if kind == "import" and cause == "input":
        return Diagnosis(
            title="Your file waits for keyboard input while it is being loaded",
            explanation=(
                f"`input()`{_at_line(text, line)} waits for someone to type, and nobody can type during grading. "
                "Your endpoint gets its data from the request instead."
            ),
            fix="Remove the `input()` call: the message arrives as your endpoint's parameter.",
            line=line,
            cause="input",
        )
    if kind == "import" and cause == "missing_module" and facts.get("module"):
        return _missing_module(facts["module"], line, packages)
    if kind == "import":
        return _import_exception(text, facts)
    if kind == "exit":
        return Diagnosis(
            title="Your program ended before the server could start",
            explanation=(
                f"While the file was being loaded the program stopped{_at_line(text, line)}"
                + (f" ({_code(error.message)})" if from_host else "")
                + f". The grader needs the file to define `{entry}` and then stay loaded, so that it can serve it."
            ),
            fix='Remove the `exit()`/`sys.exit()`/`os._exit()` call, or put it under `if __name__ == "__main__":`.',
            line=line,
            cause="exit",
        )
    if kind == "timeout":
        sleeper = text.find(r"^(while\s+True|while\s+1|time\.sleep|sleep\s*\()")
        return Diagnosis(
            title="Your file did not finish loading in time",
            explanation=(
                "Loading your file runs every line at its top level; something there never finished"
                f"{_at_line(text, sleeper)}: an endless loop, a sleep or a call that waits for something."
            ),
            fix=f"Keep only definitions at the top level: the imports, `{entry} = FastAPI()` and your endpoint functions.",
            line=sleeper,
            cause="timeout",
        )
    if kind == "no_app":
        names = facts.get("names") or []
        if names:
            return Diagnosis(
                title=f"No application named `{entry}`",
                explanation=f"The grader looks for your application under the name `{entry}`; your file calls it `{names[0]}`.",
                fix=f"Rename it: `{entry} = FastAPI()` (and use `@{entry}.post(...)` for the endpoint).",
                line=text.find(rf"^{re.escape(names[0])}\s*="),
                cause="no_app",
            )
        return Diagnosis(
            title=f"No application named `{entry}`",
            explanation=f"The grader looks for a web application named `{entry}` in your file and found none.",
            fix=f"Create it at the top level of the file: `from fastapi import FastAPI` then `{entry} = FastAPI()`, and register your endpoint on it.",
            cause="no_app",
        )
    if kind == "not_asgi":
        what = facts.get("what")
        line = text.find(rf"^{re.escape(entry)}\s*=") or text.find(rf"^(async\s+)?def\s+{re.escape(entry)}\b")
        if what == "class":
            return Diagnosis(
                title=f"`{entry}` is the class itself, not an application",
                explanation=f"`{entry} = {facts.get('detail', 'FastAPI')}` names the class; an application is made by calling it.",
                fix=f"Add the brackets: `{entry} = {facts.get('detail', 'FastAPI')}()`.",
                line=line,
                cause="not_asgi",
            )
        if what == "wsgi":
            return _other_framework("a WSGI framework such as Flask", line, entry)
        return Diagnosis(
            title=f"`{entry}` is not a web application the grader can serve",
            explanation=f"The grader needs `{entry}` to be an ASGI application, which is what `FastAPI()` makes.",
            fix=f"Define `{entry} = FastAPI()` and register your endpoint on it with `@{entry}.post(...)`.",
            line=line,
            cause="not_asgi",
        )
    # crash while starting
    if cause == "lifespan":
        exc, detail, crash_line = traceback_facts(report.stderr, text)
        what = f" with `{exc}: {detail}`" if exc else ""
        return Diagnosis(
            title="Your app's start-up code failed",
            explanation=f"The code your app runs at start-up (its lifespan){_at_line(text, crash_line)} failed{what}, so the server stopped before it could answer.",
            fix="Make the start-up code work without anything outside your file (no database, no network), or remove it: the exercise needs none.",
            line=crash_line,
            cause="startup_crash",
        )
    message = error.message.splitlines()[0] if from_host and error.message else "it stopped unexpectedly"
    return Diagnosis(
        title="Your server stopped while starting",
        explanation=f"The server did not come up: {_code(message)}.",
        fix="Keep the top level of your file to the imports, the application and the endpoint functions; look at the program's output below for what happened.",
        cause="startup_crash",
    )


def _syntax(text: Source, facts: dict[str, Any]) -> Diagnosis:
    line = facts.get("line")
    detail = facts.get("detail") or "invalid syntax"
    code = text.code(line)
    explanation = "Before running anything, Python reads the whole file, and it could not read it"
    explanation += f": {detail} at line {line}" if line else f": {detail}"
    explanation += f" (`{_code(code)}`)." if code else "."
    if "expected ':'" in detail:
        fix = f"Add the missing `:` at the end of line {line}: `def`, `if`, `for` and `class` lines end with a colon."
    elif "indent" in detail:
        fix = f"Fix the indentation around line {line}: the body of a function is indented by the same amount (4 spaces) on every line."
    elif "never closed" in detail or "was not closed" in detail or "unterminated" in detail:
        fix = f"Close the bracket or quote opened on line {line}."
    else:
        fix = (
            f"Look at line {line} and the line just above it: a missing colon, bracket or quote is the usual cause."
            if line
            else "Look for a missing colon, bracket or quote."
        )
    return Diagnosis(
        title="Python cannot read your file",
        explanation=explanation,
        fix=fix,
        line=line,
        cause="syntax",
    )


def _missing_module(module: str, line: int | None, packages: Iterable[str]) -> Diagnosis:
    root = module.split(".")[0]
    offered = ", ".join(_package_name(name) for name in packages)
    where = f" on line {line}" if line else ""
    if root.lower() in OTHER_FRAMEWORKS:
        return _other_framework(OTHER_FRAMEWORKS[root.lower()], line, "app", module=root)
    explanation = (
        f"Your file imports `{root}`{where}, but the grading runtime does not have it. It offers only {offered} "
        "and Python's standard library; installing a package on your own computer does not install it here."
    )
    if root in HTTP_CLIENTS:
        fix = f"Remove `import {root}`: the grader sends requests to your app, and your endpoint does not need to send any."
    else:
        fix = f"Remove the import of `{root}` and do the work with what is offered: FastAPI gives your endpoint the message as its parameter."
    return Diagnosis(
        title=f"The package `{root}` is not available for grading",
        explanation=explanation,
        fix=fix,
        line=line,
        cause="missing_module",
    )


def _package_name(name: str) -> str:
    return {"fastapi": "FastAPI", "starlette": "Starlette", "pydantic": "pydantic", "uvicorn": "uvicorn"}.get(
        name, name
    )


def _other_framework(framework: str, line: int | None, entry: str, module: str | None = None) -> Diagnosis:
    imported = f"Your file builds its app with {framework}" + (f" (`import {module}`)" if module else "")
    return Diagnosis(
        title=f"This exercise expects a FastAPI app, not {framework}",
        explanation=f"{imported}. The exercise is graded as a FastAPI application, and {framework} is not part of the grading runtime.",
        fix=f"Build the app with FastAPI: `from fastapi import FastAPI`, `{entry} = FastAPI()`, and a decorator such as `@{entry}.post(...)` on your endpoint function.",
        line=line,
        cause="other_framework",
    )


def _import_exception(text: Source, facts: dict[str, Any]) -> Diagnosis:
    exc = facts.get("exception") or "an exception"
    detail = facts.get("detail") or ""
    line = facts.get("line")
    code = text.code(line)
    what = f"`{exc}: {detail}`" if detail else f"`{exc}`"
    explanation = (
        f"Python runs every top-level line of your file when it loads it, and one of them raised {what}"
        + (f" at line {line}: `{_code(code)}`" if code else "")
        + ". The server could not start."
    )
    if exc == "NameError":
        fix = (
            f"A name on line {line} is not defined: check its spelling, and that it is imported or assigned before this line."
            if line
            else "Check the spelling of the name and that it is imported or assigned before it is used."
        )
    elif exc == "ImportError":
        fix = "Check the name you import and the module it comes from (for example `from fastapi import FastAPI`)."
    elif code.startswith("@") or (line and text.code(line + 1).startswith(("def ", "async def "))):
        fix = f"FastAPI refused the endpoint declared at line {line}: check its parameters' types and the decorator's arguments."
    else:
        fix = (
            f"Fix line {line}: it runs while the file is loaded, before any request arrives."
            if line
            else "Fix the line the error points at."
        )
    return Diagnosis(
        title=f"Your file raised {exc} while loading",
        explanation=explanation,
        fix=fix,
        line=line,
        cause="import_error",
    )
