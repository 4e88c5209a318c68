"""Statuses and missing answers, and the words for what no other rule explains."""

from __future__ import annotations

import re

from grader.grading.diagnose.source import Source
from grader.grading.diagnose.wording import Context, Rule, Words, capitalised, quote_code
from grader.grading.evidence import Raised
from grader.grading.report import FixPatch


def _wrong_status(c: Context) -> Words:
    found, text = c.found, c.text
    got, wanted = found.get("got"), found.get("wanted")
    setting = re.compile(rf"(?P<code>(\w+\.)?status_code\s*=\s*(status\.HTTP_{got}\w*|{got}))\b")
    told = (
        f"The grader expected {wanted} and received {got}. Which status a reply carries is part of the answer: "
        "a client reads it before the body."
    )
    raised = _raise_of(c, got)
    if raised is not None:
        written = setting.search(raised.text)
        return _raised_status(c, raised, written.group("code") if written else raised.text, told)
    line = text.find(setting)
    match = setting.search(text.lines[line - 1]) if line else None
    if line is None or match is None:
        # Nothing in the file sets that status: say what came back, and offer no code.
        return Words(
            f"Your endpoint answers with status {got} instead of {wanted}",
            told + " No line of your file sets that status, so look at what your endpoint raises or returns.",
            f"Make the endpoint answer {wanted}, FastAPI's default for a successful request.",
            c.route.line if c.route is not None else None,
        )
    code = match.group("code")
    return Words(
        f"Your endpoint answers with status {got} instead of {wanted}",
        f"{told} Line {line} sets it: `{quote_code(code)}`.",
        f"Remove `{quote_code(code)}`: without it FastAPI answers {wanted}.",
        line,
        _without_status(text, line, code),
    )


def _raise_of(c: Context, status: object) -> Raised | None:
    """The learner's ``raise`` that answers ``status``: in the endpoint first, else in any function of the file."""
    route = c.route
    functions = [route.function] if route is not None else []
    functions += [function for function in c.model.functions if function not in functions]
    return next((r for function in functions for r in function.raises if r.status == status), None)


def _raised_status(c: Context, raised: Raised, code: str, told: str) -> Words:
    """``raise HTTPException(status_code=400)`` for messages the exercise accepts: the condition is the mistake."""
    got = c.found.get("got")
    empty = any((case.request.body or "").strip() == "{}" for case in c.cases)
    when = f" when `{quote_code(raised.condition)}` (line {raised.condition_line}) holds" if raised.condition else ""
    own = ""
    if got == 422:
        # FastAPI's own refusal lists what failed its check; this body carries the endpoint's words.
        own = (
            " Your function ran: this 422 is your own answer, not FastAPI refusing the request, whose body would "
            "list the fields it checked."
        )
    removal = None
    if raised.removable is not None:
        first, last = raised.removable
        removal = FixPatch(first, "\n".join(c.text.lines[first - 1 : last]), "")
    which = "the check and its `raise`" if raised.condition else "the `raise`"
    return Words(
        f"Your endpoint answers with status {got} instead of {c.found.get('wanted')}",
        f"{told}{own} Line {raised.line} raises {_raised_with(raised, code)}{when}, and that holds for the messages of "
        "the cases below"
        + (", the empty object among them" if empty else "")
        + ". The exercise sends every JSON object back, whatever fields and values it has.",
        f"Remove {which}: every JSON object is a message to send back.",
        raised.line,
        removal,
    )


def _raised_with(raised: Raised, code: str) -> str:
    """The exception raised and its status, as the card quotes them (HTTPException with status_code=422)."""
    exception = re.match(r"raise\s+([\w.]+)\s*\(", raised.text)
    if exception is None or code == raised.text:
        return f"`{quote_code(code)}`"
    return f"`{exception.group(1)}` with `{quote_code(code)}`"


def _without_status(text: Source, line: int, code: str) -> FixPatch | None:
    """The line with the status setting taken out: an argument of the decorator, or a line of its own."""
    before = text.lines[line - 1]
    if before.strip().rstrip(",;") == code:
        return FixPatch(line, before, "")
    after = re.sub(rf"\s*,\s*{re.escape(code)}|{re.escape(code)}\s*,\s*", "", before, count=1)
    return FixPatch(line, before, after) if after != before else None


def other(c: Context) -> Words:
    cases = c.cases
    first = cases[0]
    problem = first.problem or "the reply differs from the expected one"
    return Words(
        f"{capitalised(problem.split(':')[0])}",
        f"{capitalised(problem)}.",
        first.hint or "Compare what was expected with what your app sent back in the cases below.",
        None,
    )


RULES: dict[str, Rule] = {
    "wrong_status": _wrong_status,
}
