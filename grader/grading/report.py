"""Grading results as plain data.

``Report.to_dict()`` is a superset of Gradescope's ``results.json``: the keys
Gradescope reads (``score``, ``execution_time``, ``output``, ``tests`` with
``name``/``score``/``max_score``/``status``/``output``) plus our own
(``max_score``, ``status``, ``error``, ``seed``, ``exercise``, ``spec_hash``,
``stdout``, ``stderr``, ``limits_not_applied``, ``diagnoses`` and structured
per-case data).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal, get_args

ErrorKind = Literal["syntax", "import", "exit", "timeout", "no_app", "not_asgi", "crash", "infra"]
LEARNER_ERROR_KINDS: tuple[ErrorKind, ...] = tuple(kind for kind in get_args(ErrorKind) if kind != "infra")

Visibility = Literal["visible", "hidden", "after_due_date", "after_published"]
"""When learners may see a case's data: always, never (staff only), once their due date has passed,
once the assignment's grades are published. A case counts in the score whatever it is."""
VISIBILITIES: tuple[Visibility, ...] = get_args(Visibility)


@dataclass(frozen=True)
class ErrorKindWording:
    """How an error kind is named to people (the codes themselves are for machines).

    phrase: a noun phrase to go inside a sentence ("Not graded: a syntax error.");
    sentence: a sentence that stands alone, as a result's heading, addressed to the learner.
    """

    phrase: str
    sentence: str


ERROR_KIND_WORDING: dict[str, ErrorKindWording] = {
    "syntax": ErrorKindWording("a syntax error", "Python could not read your file (a syntax error)"),
    "import": ErrorKindWording(
        "an error while the file was loading", "Your file stopped with an error while it was being loaded"
    ),
    "exit": ErrorKindWording(
        "the program ended before the server started", "Your program ended before its server could start"
    ),
    "timeout": ErrorKindWording("the file took too long to load", "Your app did not get ready in time"),
    "no_app": ErrorKindWording("no application named as the exercise asks", "No app was found in your file"),
    "not_asgi": ErrorKindWording(
        "the application is not one the grader can serve",
        "What your file calls the app is not a web app the grader can serve",
    ),
    "crash": ErrorKindWording("the server stopped", "Your app stopped while it was being tested"),
    "infra": ErrorKindWording(
        "a problem of the grader (not counted against you)",
        "The grader itself failed; this attempt does not count against you and will be retried",
    ),
}
UNKNOWN_ERROR_KIND = ErrorKindWording("an error", "Your file could not be graded")
"""The wording of a kind this version does not know (a report stored by a newer one)."""

ERROR_KIND_WORDS: dict[str, str] = {kind: wording.phrase for kind, wording in ERROR_KIND_WORDING.items()}
"""Each error kind as a phrase."""


def error_kind_words(kind: str) -> str:
    """An error kind in words a learner understands (never the code itself), to go inside a sentence."""
    return ERROR_KIND_WORDING.get(kind, UNKNOWN_ERROR_KIND).phrase


def error_kind_sentence(kind: str) -> str:
    """An error kind as a sentence addressed to the learner, standing alone (no final full stop)."""
    return ERROR_KIND_WORDING.get(kind, UNKNOWN_ERROR_KIND).sentence


@dataclass(frozen=True)
class GradingError:
    """Why the submission could not be graded case by case.

    kind: one of ``ErrorKind``; ``infra`` means the grader failed, not the learner.
    message: what happened, in words a learner can act on.
    """

    kind: ErrorKind
    message: str

    @property
    def is_infra(self) -> bool:
        """Whether the grader, not the submission, is at fault."""
        return self.kind == "infra"


@dataclass(frozen=True)
class HttpExchange:
    """One side of a case, as shown to the learner.

    status: HTTP status code (None when no response came back).
    body: the body as text, cut to the response limit; ``truncated`` says whether it was cut.
    headers: the headers that matter for the case, by lower-case name: on the request side
        those sent; on the expected side those the case checks (``content-type:
        application/json`` standing for any JSON media type, see ``grading.headers``); on the
        received side ``content-type``, ``location`` and those the case checks.
    """

    status: int | None = None
    body: str | None = None
    truncated: bool = False
    method: str | None = None
    path: str | None = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class CaseResult:
    """The outcome of one case.

    name/description: which case, in the exercise's words.
    score/max_score: points earned and available.
    status: ``passed`` or ``failed``.
    request/expected/received: what was sent, what should have come back, what did.
    diff: where the received body first departs from the expected one.
    hint: what to fix, shown only when the case failed.
    reached_endpoint: whether the learner's endpoint function ran for this request:
        False when the app answered before calling it (404 no such path, 405 wrong
        method, a redirect, 422 from FastAPI's own validation), None when no
        answer came back at all.
    program_output: what the program printed (its output, then its error output) from the
        moment this case's request went out until its answer was in, and for a crash the
        traceback the server printed after it (learner's frames kept, library frames
        folded); None when it printed nothing.
    sent: False when the grader never sent the request (the grading ran out of time, the
        server was gone, or the cases before it were blocked on the same line): ``problem``
        says why; such a case is "not run", not "no reply".
    blocked_line: for a request that got no answer in time, the learner's line it was still
        running or waiting on when the grader gave up (sampled in the sandbox, checked on the host).
    visibility: when learners may see this case's data (see ``grading.visibility``); it counts
        in the score whatever it is.
    withheld: in a learner's view of a case whose data is not shown, why, in their words
        (None in a stored report, and whenever the data is shown).
    """

    name: str
    description: str
    score: float
    max_score: float
    status: Literal["passed", "failed"]
    request: HttpExchange
    expected: HttpExchange
    received: HttpExchange
    diff: str | None = None
    problem: str | None = None
    hint: str | None = None
    reached_endpoint: bool | None = None
    program_output: str | None = None
    sent: bool = True
    blocked_line: int | None = None
    visibility: Visibility = "visible"
    withheld: str | None = None

    @property
    def passed(self) -> bool:
        """Whether the case earned its points."""
        return self.status == "passed"

    @property
    def neutral(self) -> bool:
        """Whether this is a learner's view of a withheld case: its verdict and points, nothing of its data."""
        return self.withheld is not None and self.request.method is None

    def output(self) -> str:
        """The case rendered as text, for terminals and Gradescope."""
        if self.neutral:
            return f"{self.description}: {self.status}\n  {self.withheld}"
        lines = [f"{self.request.method} {self.request.path}"]
        if self.request.body is not None:
            lines.append(f"  sent:      {self.request.body}")
        expected_body = f" {self.expected.body}" if self.expected.body is not None else ""
        lines.append(f"  expected:  {self.expected.status}{expected_body}")
        # Headers only where they may be what failed: on a passed case they are noise.
        if not self.passed:
            lines.extend(f"             {_header_name(name)}: {value}" for name, value in self.expected.headers.items())
        if not self.sent:
            lines.append("  received:  not run")
        elif self.received.status is None:
            lines.append("  received:  no response")
        else:
            cut = " [cut]" if self.received.truncated else ""
            lines.append(f"  received:  {self.received.status} {self.received.body or ''}{cut}")
            if not self.passed:
                lines.extend(
                    f"             {_header_name(name)}: {value}" for name, value in self.received.headers.items()
                )
        if not self.passed:
            if self.problem:
                lines.append(f"  problem:   {self.problem}")
            if self.diff:
                lines.extend("  " + line for line in self.diff.splitlines())
            if self.hint:
                lines.append(f"  hint:      {self.hint}")
        return "\n".join(lines)


def _header_name(name: str) -> str:
    """A header's name as people write it (``content-type`` -> ``Content-Type``)."""
    return "-".join(part.capitalize() for part in name.split("-"))


@dataclass(frozen=True)
class FixPatch:
    """A concrete edit of the learner's file that a diagnosis proposes.

    line: the first line it replaces (1-based).
    before: the exact text of the lines it replaces, as the learner wrote them.
    after: what those lines become.
    """

    line: int
    before: str
    after: str

    def apply(self, source: str) -> str | None:
        """``source`` with the edit made, or None when its lines no longer read ``before``."""
        lines = source.splitlines(keepends=True)
        count = max(1, len(self.before.splitlines()))
        start = self.line - 1
        if start < 0 or start + count > len(lines):
            return None
        if "".join(lines[start : start + count]).rstrip("\r\n") != self.before.rstrip("\r\n"):
            return None
        replacement = self.after if self.after.endswith("\n") or not self.after else self.after + "\n"
        return "".join(lines[:start]) + replacement + "".join(lines[start + count :])


FixCheckStatus = Literal["pending", "passed", "failed", "not_checked"]


@dataclass(frozen=True)
class FixCheck:
    """Whether grading the file with a diagnosis's ``fix_patch`` made the cases it explains pass.

    status: ``pending`` (queued behind learners' gradings), ``passed`` (the fix may be shown
        as code), ``failed`` (it may not: the card keeps its words) or ``not_checked`` (the
        grader did not run it, see ``reason``; not shown as code either).
    cases: how many of the cases the diagnosis explains pass with the change.
    reason: why a fix failed or was not checked, in words a learner can read.
    """

    status: FixCheckStatus
    cases: int = 0
    reason: str = ""

    @property
    def shows_code(self) -> bool:
        """Whether the fix may be shown as code: only once grading the changed file proved it."""
        return self.status == "passed"


@dataclass(frozen=True)
class Diagnosis:
    """One mistake, explained once for every case it breaks.

    title: the mistake in a few words.
    explanation: what happened and why, in the lesson's terms.
    fix: what to change.
    cases: names of the cases it explains (empty for an error that stopped every case).
    line: the line of the learner's file it points at, when known.
    cause: a stable code for the kind of mistake, for grouping across learners (never shown).
    fix_patch: the fix as an edit of the learner's file, when it is one; shown as code
        only once grading the patched file has made its cases pass.
    fix_check: what grading the patched file showed (None until it is asked for).
    """

    title: str
    explanation: str
    fix: str
    cases: list[str] = field(default_factory=list)
    line: int | None = None
    cause: str = "other"
    fix_patch: FixPatch | None = None
    fix_check: FixCheck | None = None


@dataclass
class Report:
    """Everything one grading produced.

    status: ``passed`` (full marks), ``failed``, or ``error`` (see ``error``; score 0).
    seed: the seed random cases were drawn from; regrading with it replays them exactly.
    stdout/stderr: the submission's own output, capped; never read for the score.
    limits_not_applied: limits this host could not enforce (e.g. cgroups when not root).
    diagnoses: the mistakes found, most important first (empty at full marks).
    stdout_before_hidden/stderr_before_hidden: the program's output as it stood when the first case
        whose data learners may not see was sent (None when no such case was sent): what a learner is
        shown while that case is withheld, since anything printed during or after it may quote its data.
    """

    exercise: str
    spec_hash: str
    seed: int
    max_score: float
    score: float = 0.0
    status: Literal["passed", "failed", "error"] = "error"
    error: GradingError | None = None
    tests: list[CaseResult] = field(default_factory=list)
    execution_time: float = 0.0
    stdout: str = ""
    stderr: str = ""
    limits_not_applied: list[str] = field(default_factory=list)
    diagnoses: list[Diagnosis] = field(default_factory=list)
    stdout_before_hidden: str | None = None
    stderr_before_hidden: str | None = None

    @property
    def is_infra_error(self) -> bool:
        """Whether this grading failed for reasons that are not the learner's."""
        return self.error is not None and self.error.is_infra

    def finish(self) -> Report:
        """Derive score and status from the case results and the error."""
        if self.error is not None:
            self.score = 0.0
            self.status = "error"
            return self
        self.score = round(sum(case.score for case in self.tests), 6)
        self.status = "passed" if self.score >= self.max_score else "failed"
        return self

    def score_line(self) -> str:
        """The score in one line."""
        if self.error is not None:
            return f"Not graded: {error_kind_words(self.error.kind)}."
        passed = sum(1 for case in self.tests if case.passed)
        return f"{passed} of {len(self.tests)} cases passed: {format_points(self.score)}/{format_points(self.max_score)} points"

    def summary(self) -> str:
        """What a learner reads first: the main mistake and its fix, then the score."""
        if not self.diagnoses:
            return self.score_line()
        first = self.diagnoses[0]
        return f"{first.title}. {first.fix}\n{self.score_line()}"

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-ready data (a superset of Gradescope's results.json)."""
        return {
            "score": self.score,
            "max_score": self.max_score,
            "status": self.status,
            "output": self.summary(),
            "error": asdict(self.error) if self.error else None,
            "exercise": self.exercise,
            "spec_hash": self.spec_hash,
            "seed": self.seed,
            "execution_time": round(self.execution_time, 3),
            "stdout": self.stdout,
            "stderr": self.stderr,
            "stdout_visibility": "visible",
            "limits_not_applied": list(self.limits_not_applied),
            "stdout_before_hidden": self.stdout_before_hidden,
            "stderr_before_hidden": self.stderr_before_hidden,
            "diagnoses": [asdict(diagnosis) for diagnosis in self.diagnoses],
            "tests": [
                {
                    "name": case.name,
                    "number": str(index),
                    "description": case.description,
                    "score": case.score,
                    "max_score": case.max_score,
                    "status": case.status,
                    "output": case.output(),
                    "request": asdict(case.request),
                    "expected": asdict(case.expected),
                    "received": asdict(case.received),
                    "diff": case.diff,
                    "problem": case.problem,
                    "hint": case.hint,
                    "reached_endpoint": case.reached_endpoint,
                    "program_output": case.program_output,
                    "sent": case.sent,
                    "blocked_line": case.blocked_line,
                    "visibility": case.visibility,
                    "withheld": case.withheld,
                }
                for index, case in enumerate(self.tests, start=1)
            ],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Report:
        """Rebuild a report stored with ``to_dict``."""
        error = GradingError(**data["error"]) if data.get("error") else None
        tests = [
            CaseResult(
                name=t["name"],
                description=t.get("description", ""),
                score=t["score"],
                max_score=t["max_score"],
                status=t["status"],
                request=HttpExchange(**t["request"]),
                expected=HttpExchange(**t["expected"]),
                received=HttpExchange(**t["received"]),
                diff=t.get("diff"),
                problem=t.get("problem"),
                hint=t.get("hint"),
                reached_endpoint=t.get("reached_endpoint"),
                program_output=t.get("program_output"),
                sent=t.get("sent", True),
                blocked_line=t.get("blocked_line"),
                visibility=t.get("visibility", "visible"),
                withheld=t.get("withheld"),
            )
            for t in data.get("tests", [])
        ]
        return cls(
            exercise=data["exercise"],
            spec_hash=data["spec_hash"],
            seed=data["seed"],
            max_score=data["max_score"],
            score=data["score"],
            status=data["status"],
            error=error,
            tests=tests,
            execution_time=data.get("execution_time", 0.0),
            stdout=data.get("stdout", ""),
            stderr=data.get("stderr", ""),
            limits_not_applied=list(data.get("limits_not_applied", [])),
            diagnoses=[_diagnosis_from_dict(d) for d in data.get("diagnoses", [])],
            stdout_before_hidden=data.get("stdout_before_hidden"),
            stderr_before_hidden=data.get("stderr_before_hidden"),
        )


def _diagnosis_from_dict(data: dict[str, Any]) -> Diagnosis:
    patch, check = data.get("fix_patch"), data.get("fix_check")
    return Diagnosis(
        **{**data, "fix_patch": FixPatch(**patch) if patch else None, "fix_check": FixCheck(**check) if check else None}
    )


def format_points(value: float | None, *, missing: str = "—") -> str:
    """Points without a pointless ``.0`` (3, 2.5), or ``missing`` when there is no value."""
    if value is None:
        return missing
    return str(int(value)) if float(value).is_integer() else f"{value:g}"
