"""Statuses and missing answers, and the words for what no other rule explains."""

from __future__ import annotations

from grader.grading.diagnose.wording import Context, Rule, Words, capitalised


def _wrong_status(c: Context) -> Words:
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
    return Words(
        f"Your endpoint answers with status {got} instead of {wanted}",
        f"The grader expected {wanted} and received {got}. Which status a reply carries is part of the answer: "
        "a client reads it before the body.",
        fix,
        line,
    )


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
