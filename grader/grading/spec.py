"""Exercise definitions: the data an instructor edits, validated on load.

An exercise lives in ``exercises/<slug>/exercise.toml``. Its cases are HTTP
requests with the response they must produce. TOML has no ``null``, so a JSON
body may also be given as JSON text (``json_text``). Inside an expected body the
string ``"$request"`` stands for the JSON body the case sent, which is how an
"echo" is expressed without repeating the request.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from grader.grading.headers import (
    ANY_MEDIA_TYPE,
    CONTENT_TYPE,
    HEADER_NAME_PATTERN,
    JSON_RULE,
    MEDIA_TYPE_PATTERN,
    expected_media_type,
)
from grader.grading.report import VISIBILITIES, Visibility

REQUEST_PLACEHOLDER = "$request"
EXERCISE_FILE = "exercise.toml"
RUNTIME_REQUIREMENTS = "runtime-requirements.txt"
# Keys of exercise.toml that change what learners are shown, not how they are graded.
NOT_GRADED = {"quiz", "feedback"}


class SpecError(ValueError):
    """An exercise definition is missing, malformed or inconsistent."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Limits(_Strict):
    """Resource bounds for one grading. Times in seconds, sizes in bytes."""

    startup_seconds: float = Field(10.0, gt=0, le=120)
    request_seconds: float = Field(5.0, gt=0, le=60)
    total_seconds: float = Field(60.0, gt=0, le=600)
    cpu_seconds: int = Field(20, gt=0, le=600)
    memory_bytes: int = Field(256 * 1024 * 1024, ge=32 * 1024 * 1024)
    processes: int = Field(32, ge=4, le=1024)
    file_size_bytes: int = Field(1024 * 1024, ge=0)
    tmpfs_bytes: int = Field(16 * 1024 * 1024, ge=1024 * 1024)
    open_files: int = Field(256, ge=32, le=4096)
    output_bytes: int = Field(8 * 1024, ge=256, description="Kept of each of stdout and stderr.")
    response_bytes: int = Field(64 * 1024, ge=1024, description="Read of each response body.")


class RequestSpec(_Strict):
    """One HTTP request a case sends."""

    method: str = "POST"
    path: str = "/message"
    headers: dict[str, str] = Field(default_factory=dict)
    json_body: Any = Field(None, alias="json")
    json_text: str | None = None
    raw: str | None = None
    raw_base64: str | None = Field(None, description="Raw body bytes that are not UTF-8 text, base64-encoded.")
    content_type: str | None = None

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @field_validator("method")
    @classmethod
    def _upper(cls, value: str) -> str:
        return value.upper()

    @field_validator("path")
    @classmethod
    def _absolute(cls, value: str) -> str:
        if not value.startswith("/"):
            raise ValueError("path must start with '/'")
        return value

    @model_validator(mode="after")
    def _one_body(self) -> RequestSpec:
        given = [self.json_body, self.json_text, self.raw, self.raw_base64]
        if sum(value is not None for value in given) > 1:
            raise ValueError("give at most one of json, json_text, raw and raw_base64")
        if self.raw_base64 is not None:
            try:
                base64.b64decode(self.raw_base64, validate=True)
            except ValueError as exc:
                raise ValueError(f"raw_base64 is not valid base64: {exc}") from exc
        if self.json_text is not None:
            try:
                json.loads(self.json_text)
            except ValueError as exc:
                raise ValueError(f"json_text is not valid JSON: {exc}") from exc
        return self

    def raw_bytes(self) -> bytes | None:
        """The raw body as bytes, if the body is raw."""
        if self.raw_base64 is not None:
            return base64.b64decode(self.raw_base64)
        if self.raw is not None:
            return self.raw.encode("utf-8")
        return None

    @property
    def has_json(self) -> bool:
        """Whether the body is JSON the expected body may refer to."""
        return self.json_body is not None or self.json_text is not None

    def body_value(self) -> Any:
        """The JSON value sent, or None when the body is raw or absent."""
        if self.json_text is not None:
            return json.loads(self.json_text)
        return self.json_body


def _media_type_rule(value: str) -> str:
    """A media-type rule as written in an exercise: ``json``, ``any`` or one media type."""
    rule = value.strip().lower()
    if rule in (JSON_RULE, ANY_MEDIA_TYPE) or MEDIA_TYPE_PATTERN.match(rule):
        return rule
    raise ValueError(f"media_type {value!r} is not 'json', 'any' or a media type such as 'application/problem+json'")


class ExpectSpec(_Strict):
    """What the response to a case must be. Without a body, only the status (and ``headers``) are checked.

    media_type: the Content-Type a JSON body must come with (see ``ExerciseSpec.media_type``);
        None takes the exercise's.
    headers: other response headers that must come back with exactly these values.
    """

    status: int = Field(200, ge=100, le=599)
    json_body: Any = Field(None, alias="json")
    json_text: str | None = None
    media_type: str | None = None
    headers: dict[str, str] = Field(default_factory=dict)

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @field_validator("media_type")
    @classmethod
    def _known_media_type(cls, value: str | None) -> str | None:
        return None if value is None else _media_type_rule(value)

    @field_validator("headers")
    @classmethod
    def _header_names(cls, value: dict[str, str]) -> dict[str, str]:
        names = {name.lower(): text for name, text in value.items()}
        for name in names:
            if not HEADER_NAME_PATTERN.match(name):
                raise ValueError(f"{name!r} is not a header name")
        if CONTENT_TYPE in names:
            raise ValueError("the content type is checked with media_type, not headers")
        return names

    @model_validator(mode="after")
    def _one_body(self) -> ExpectSpec:
        if self.json_body is not None and self.json_text is not None:
            raise ValueError("give at most one of json and json_text")
        if self.json_text is not None:
            json.loads(self.json_text)
        return self

    @property
    def checks_body(self) -> bool:
        """Whether the response body is compared at all."""
        return self.json_body is not None or self.json_text is not None

    def template(self) -> Any:
        """The expected body before ``$request`` is substituted."""
        if self.json_text is not None:
            return json.loads(self.json_text)
        return self.json_body


class CaseSpec(_Strict):
    """A fixed case, or with ``random`` set, a family generated from the grading's seed."""

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    description: str
    points: float = Field(1.0, ge=0)
    hint: str = ""
    request: RequestSpec = Field(default_factory=RequestSpec)
    expect: ExpectSpec = Field(default_factory=ExpectSpec)
    random: int = Field(0, ge=0, le=50, description="How many random JSON objects to generate.")
    visibility: Visibility = Field(
        "visible",
        description=(
            "When learners see this case's data (request, expected and received bodies, output): 'visible', "
            "'hidden' (never), 'after_due_date' or 'after_published'. It counts in the score either way."
        ),
    )

    @model_validator(mode="before")
    @classmethod
    def _known_visibility(cls, data: Any) -> Any:
        # Checked here rather than by the Literal so that the error names the case, not its index.
        if isinstance(data, dict) and "visibility" in data and data["visibility"] not in VISIBILITIES:
            allowed = ", ".join(repr(value) for value in VISIBILITIES)
            raise ValueError(
                f"case {data.get('name', '?')!r}: visibility {data['visibility']!r} is not one of {allowed}"
            )
        return data

    @model_validator(mode="after")
    def _random_needs_template(self) -> CaseSpec:
        if self.random and (self.request.has_json or self.request.raw_bytes() is not None):
            raise ValueError("a random case generates its own body; give no body")
        if REQUEST_PLACEHOLDER in json.dumps(self.expect.template()) and not (self.request.has_json or self.random):
            raise ValueError(f"'{REQUEST_PLACEHOLDER}' needs a JSON request body")
        return self


class ExerciseSpec(_Strict):
    """An exercise as loaded from its folder."""

    slug: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    title: str
    summary: str = ""
    instructions: str
    entry_point: str = Field("app", pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    packages: list[str] = Field(
        default_factory=lambda: ["fastapi", "starlette", "pydantic", "uvicorn"],
        description="What the feedback tells learners they may import; each must be in the learner runtime.",
    )
    limits: Limits = Field(default_factory=Limits)
    media_type: str = Field(
        JSON_RULE,
        description=(
            "The Content-Type a response must have in a case that checks a JSON body, unless the case says "
            "otherwise: 'json' (application/json or any +json type, as a JSON client requires), 'any' (not "
            "checked), or one media type such as 'application/problem+json'."
        ),
    )
    cases: list[CaseSpec] = Field(min_length=1)
    quiz: str | None = Field(
        None,
        pattern=r"^[a-z0-9][a-z0-9-]*$",
        description="Slug of the quiz on this exercise's lesson; not part of grading, so not in spec_hash.",
    )
    feedback: Literal["fix", "hint"] = Field(
        "fix",
        description=(
            "How much a diagnosis shows: 'fix' names the cause, the line and the change to make (as code when it "
            "is a concrete edit); 'hint' names the cause and the line only, never code. Not part of grading, so "
            "not in spec_hash."
        ),
    )
    spec_hash: str = ""

    @field_validator("media_type")
    @classmethod
    def _known_media_type(cls, value: str) -> str:
        return _media_type_rule(value)

    @model_validator(mode="after")
    def _unique_names(self) -> ExerciseSpec:
        names = [case.name for case in self.cases]
        duplicated = sorted({name for name in names if names.count(name) > 1})
        if duplicated:
            raise ValueError(f"case names must be unique; repeated: {', '.join(duplicated)}")
        return self

    @model_validator(mode="after")
    def _hidden_cases_last(self) -> ExerciseSpec:
        # What a program answers after a hidden case may carry that case's data, so learners are not
        # shown it (grading.visibility): with hidden cases last, no visible case ever loses its answer.
        first = next((index for index, case in enumerate(self.cases) if case.visibility != "visible"), None)
        later = [] if first is None else [case.name for case in self.cases[first:] if case.visibility == "visible"]
        if first is not None and later:
            raise ValueError(
                f"case {later[0]!r} is visible but comes after case {self.cases[first].name!r}, which is not: "
                "put the cases whose visibility is not 'visible' after every visible case"
            )
        return self

    def expected_headers(self, case: CaseSpec) -> dict[str, str]:
        """The response headers ``case`` checks: its own, and the media type when it checks a JSON body."""
        headers = dict(case.expect.headers)
        wanted = expected_media_type(case.expect.media_type or self.media_type)
        if case.expect.checks_body and wanted is not None:
            headers[CONTENT_TYPE] = wanted
        return headers

    @property
    def max_score(self) -> float:
        """Points available: a random case is worth its points once per generated object."""
        return sum(case.points * (case.random or 1) for case in self.cases)


def content_hash(data: Any) -> str:
    """A short, stable hash of JSON-ready content (key order does not matter)."""
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def read_toml(path: Path, error: type[Exception] = SpecError) -> dict[str, Any]:
    """A TOML file's data, or ``error`` with the path and the reason."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise error(f"{path}: no such file") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise error(f"{path}: {exc}") from exc


def load_exercise(folder: Path) -> ExerciseSpec:
    """Load and validate ``folder/exercise.toml``; the slug is the folder's name."""
    path = folder / EXERCISE_FILE
    data = read_toml(path)
    if "slug" in data and data["slug"] != folder.name:
        raise SpecError(f"{path}: slug {data['slug']!r} differs from folder name {folder.name!r}")
    data["slug"] = folder.name
    # What the grading depends on: the quiz link and who sees a case only decide what the pages show.
    spec_hash = content_hash({key: value for key, value in data.items() if key not in NOT_GRADED} | _graded_cases(data))
    try:
        return ExerciseSpec.model_validate({**data, "spec_hash": spec_hash})
    except ValueError as exc:
        raise SpecError(f"{path}: {exc}") from exc


def _graded_cases(data: dict[str, Any]) -> dict[str, Any]:
    """The cases as far as grading depends on them: a case's visibility changes what learners see, not its score."""
    cases = data.get("cases")
    if not isinstance(cases, list):
        return {}
    return {
        "cases": [
            {key: value for key, value in case.items() if key != "visibility"} if isinstance(case, dict) else case
            for case in cases
        ]
    }


def load_exercises(root: Path) -> dict[str, ExerciseSpec]:
    """Every exercise below ``root``, by slug, in name order."""
    if not root.is_dir():
        raise SpecError(f"{root}: not a directory")
    folders = sorted(p for p in root.iterdir() if (p / EXERCISE_FILE).is_file())
    exercises = {folder.name: load_exercise(folder) for folder in folders}
    runtime = root / RUNTIME_REQUIREMENTS
    if runtime.is_file():
        available = runtime_packages(runtime)
        for slug, spec in exercises.items():
            missing = [name for name in spec.packages if _package_key(name) not in available]
            if missing:
                raise SpecError(
                    f"{root / slug / EXERCISE_FILE}: packages {', '.join(missing)} are not in the learner runtime "
                    f"({RUNTIME_REQUIREMENTS}); add them to runtime-requirements.in and run scripts/lock"
                )
    return exercises


def runtime_packages(requirements: Path) -> set[str]:
    """The names of the packages a pinned requirements file installs (normalized)."""
    names = set()
    for line in requirements.read_text(encoding="utf-8").splitlines():
        match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*==", line)
        if match:
            names.add(_package_key(match.group(1)))
    return names


def _package_key(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()
