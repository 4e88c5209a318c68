"""Cases the grader never sent: "not run", never "no reply".

A case is not sent when the grading's time ran out, the server was gone, or two
requests before it were stuck on the same line (those are folded into the stuck
line's diagnosis, see ``blocking``). What is left is told here: which cases were
not run, and why.
"""

from __future__ import annotations

from grader.grading.diagnose.wording import Context, Rule, Words, capitalised, count_cases


def _not_run(c: Context) -> Words:
    cases = c.cases
    why = (cases[0].problem or "").removeprefix("not run: ") or "the grading stopped before them"
    one = len(cases) == 1
    return Words(
        f"{capitalised(count_cases(cases))} {'was' if one else 'were'} not run",
        f"The grader never sent {'it' if one else 'them'}: {why}.",
        "Fix the mistake above; these cases run again on your next submission.",
        None,
    )


RULES: dict[str, Rule] = {"not_run": _not_run}
