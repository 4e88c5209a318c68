"""Evidence from the responses: what went wrong in each failed case, judged from what came back.

``classify`` reads one case (the status and body expected, the status and body
received) and names a ``Finding``: a cause plus the facts that set one instance
of it apart. It never reads the learner's code: the rules do that.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from grader.grading.compare import json_equal, json_type
from grader.grading.evidence.exceptions.common import edit_distance
from grader.grading.headers import CONTENT_TYPE, header_problem, media_type, media_type_problem
from grader.grading.report import CaseResult

NOT_JSON = object()

MAX_KEYS_COMPARED = 50


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
    if not case.sent:
        return finding("not_run")
    if got is None or wanted is None:
        return finding("no_answer", line=case.blocked_line)
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
        if case.reached_endpoint is True and not case.received.truncated:
            # Not FastAPI's list of validation errors: the endpoint ran and answered 422 itself.
            return finding("wrong_status", got=got, wanted=wanted)
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
        # The message one level too deep, further down than the top: {"received": {"wrapped": msg}}.
        if path and extra and len(received) == 1 and json_equal(next(iter(received.values())), expected):
            return finding("double_wrapped", key=next(iter(received)), where=_dotted(path))
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
