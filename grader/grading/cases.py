"""Turning an exercise's cases into the concrete requests of one grading.

Random cases draw their bodies from the grading's seed, so the same seed always
replays the same requests, and a different seed gives objects no submission can
know in advance.
"""

from __future__ import annotations

import json
import random
import string
from dataclasses import dataclass
from typing import Any

from grader.grading.report import Visibility
from grader.grading.spec import REQUEST_PLACEHOLDER, CaseSpec, ExerciseSpec

NOT_CHECKED = object()
_KEY_ALPHABET = string.ascii_lowercase + "_"
_FRAMEWORK_DROPPED_PREFIX = "_sa"
_TEXT_ALPHABET = string.ascii_letters + string.digits + " .,!?-_" + "éüßçñ漢字ё🙂✓"


@dataclass(frozen=True)
class ConcreteCase:
    """One request to send and the response it must get.

    body: the exact bytes sent (None for no body).
    sent_json: the JSON value sent, if the body is JSON.
    expected_body: the parsed JSON expected, or ``NOT_CHECKED``.
    expected_headers: response headers checked, by lower-case name; ``content-type`` holds a media
        type (``application/json`` standing for any JSON one, see ``grading.headers``).
    """

    name: str
    description: str
    points: float
    hint: str
    method: str
    path: str
    headers: dict[str, str]
    body: bytes | None
    sent_json: Any
    expected_status: int
    expected_body: Any
    expected_headers: dict[str, str]
    visibility: Visibility = "visible"

    @property
    def checks_body(self) -> bool:
        return self.expected_body is not NOT_CHECKED


def expand_cases(spec: ExerciseSpec, seed: int) -> list[ConcreteCase]:
    """The grading's cases in order, random families expanded from ``seed``."""
    concrete: list[ConcreteCase] = []
    for case in spec.cases:
        if case.random:
            for number in range(1, case.random + 1):
                rng = random.Random(f"{seed}:{case.name}:{number}")
                concrete.append(_concrete(spec, case, f"{case.name}-{number}", random_object(rng)))
        else:
            sent_json = case.request.body_value() if case.request.has_json else None
            concrete.append(_concrete(spec, case, case.name, sent_json))
    return concrete


def case_descriptions(spec: ExerciseSpec) -> dict[str, str]:
    """What each concrete case checks, by its name; a random family's members are numbered."""
    return {
        name: f"{case.description} ({number} of {case.random})" if case.random else case.description
        for name, case, number in _concrete_names(spec)
    }


def case_visibilities(spec: ExerciseSpec) -> dict[str, Visibility]:
    """When learners see each concrete case's data, by its name, as the exercise says now."""
    return {name: case.visibility for name, case, _ in _concrete_names(spec)}


def _concrete_names(spec: ExerciseSpec) -> list[tuple[str, CaseSpec, int]]:
    """Each concrete case's name, the case it comes from and its number in a random family (0 outside one)."""
    named: list[tuple[str, CaseSpec, int]] = []
    for case in spec.cases:
        if case.random:
            named += [(f"{case.name}-{number}", case, number) for number in range(1, case.random + 1)]
        else:
            named.append((case.name, case, 0))
    return named


def _concrete(spec: ExerciseSpec, case: CaseSpec, name: str, sent_json: Any) -> ConcreteCase:
    request = case.request
    headers = dict(request.headers)
    body, content_type = _body(case, sent_json)
    if body is not None:
        headers.setdefault("content-type", request.content_type or content_type)
    expected: Any = NOT_CHECKED
    if case.expect.checks_body:
        expected = _substitute(case.expect.template(), sent_json)
    return ConcreteCase(
        name=name,
        description=case.description,
        points=case.points,
        hint=case.hint,
        method=request.method,
        path=request.path,
        headers=headers,
        body=body,
        sent_json=sent_json,
        expected_status=case.expect.status,
        expected_body=expected,
        expected_headers=spec.expected_headers(case),
        visibility=case.visibility,
    )


def _body(case: CaseSpec, sent_json: Any) -> tuple[bytes | None, str]:
    """The bytes a case sends and their default content type."""
    raw = case.request.raw_bytes()
    if raw is not None:
        return raw, "application/octet-stream"
    if case.request.json_text is not None:
        # Sent exactly as written, so its spacing and number formats are part of the case.
        return case.request.json_text.encode("utf-8"), "application/json"
    if sent_json is not None or case.random:
        return json.dumps(sent_json, ensure_ascii=False).encode("utf-8"), "application/json"
    return None, ""


def _substitute(template: Any, sent: Any) -> Any:
    if template == REQUEST_PLACEHOLDER:
        return sent
    if isinstance(template, dict):
        return {key: _substitute(value, sent) for key, value in template.items()}
    if isinstance(template, list):
        return [_substitute(value, sent) for value in template]
    return template


def random_object(rng: random.Random, depth: int = 0) -> dict[str, Any]:
    """A JSON object with 1-5 keys whose values cover every JSON type."""
    keys = {_random_key(rng) for _ in range(rng.randint(1, 5))}
    return {key: _random_value(rng, depth + 1) for key in sorted(keys, key=lambda _: rng.random())}


def _random_key(rng: random.Random) -> str:
    """A key a correct echo sends back as it came.

    FastAPI's ``jsonable_encoder`` drops every key that starts with ``_sa`` (it takes them
    for SQLAlchemy's state), so ``return {"received": msg}`` would lose such a key and a
    right answer would fail: those keys are drawn again.
    """
    while True:
        key = "".join(rng.choice(_KEY_ALPHABET) for _ in range(rng.randint(1, 10)))
        if not key.startswith(_FRAMEWORK_DROPPED_PREFIX):
            return key


def _random_value(rng: random.Random, depth: int) -> Any:
    kinds = ["string", "integer", "float", "boolean", "null"]
    if depth < 3:
        kinds += ["array", "object"]
    kind = rng.choice(kinds)
    if kind == "string":
        return "".join(rng.choice(_TEXT_ALPHABET) for _ in range(rng.randint(0, 24)))
    if kind == "integer":
        return rng.randint(-(10**9), 10**9)
    if kind == "float":
        return round(rng.uniform(-1e4, 1e4), rng.randint(1, 4)) + 0.5 ** rng.randint(1, 8)
    if kind == "boolean":
        return rng.random() < 0.5
    if kind == "null":
        return None
    if kind == "array":
        return [_random_value(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    return random_object(rng, depth)
