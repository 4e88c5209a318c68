"""Requests that got no answer in time, and cases the grader never sent.

A request the grader gave up on names the learner's line it was still running or
waiting on, when the sandbox's sample of it passed the host's checks
(``CaseResult.blocked_line``, see ``grader.grading.stalls``). A case never sent
(the grading's time ran out, the server was gone, or two requests before it were
stuck on the same line) is "not run", never "no reply".
"""

from __future__ import annotations

from grader.grading.diagnose.wording import Context, Rule, Words, capitalised, count_cases


def _no_answer(c: Context) -> Words:
    cases = sorted(c.cases, key=lambda case: not case.sent)  # those sent first: the others were stopped
    problem = cases[0].problem or "no answer came back"
    line = c.text.valid_line(c.found.get("line"))
    if line is None:
        return Words(
            "Some requests got no answer",
            f"For {count_cases(cases)} the grader got no reply: {problem}.",
            "Make the endpoint answer straight away: no endless loop, no sleep, no waiting for input, "
            "and do not stop the program.",
            None,
        )
    answered = [case for case in cases if case.sent]
    not_run = len(cases) - len(answered)
    stopped = (
        f" The grader then stopped sending requests: the other {count_cases(cases[len(answered) :])} "
        f"{'was' if not_run == 1 else 'were'} not run."
        if not_run
        else ""
    )
    return Words(
        "Your endpoint got stuck before it could answer",
        f"For {count_cases(answered)} the grader got no reply: {problem}. While that line runs, your endpoint "
        f"cannot answer, and an async endpoint holds up every other request too.{stopped}",
        f"Make line {line} (`{c.text.code(line)}`) finish at once: no endless loop, no long sleep, "
        "no waiting for something that never comes.",
        line,
    )


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


RULES: dict[str, Rule] = {
    "no_answer": _no_answer,
    "not_run": _not_run,
}
