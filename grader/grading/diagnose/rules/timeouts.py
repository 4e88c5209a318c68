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
    title, why, fix = _stuck_on(c, line)
    return Words(
        title,
        f"For {count_cases(answered)} the grader got no reply: {problem}. {why}{stopped}",
        fix,
        line,
        cause="blocking_call",
    )


def _stuck_on(c: Context, line: int) -> tuple[str, str, str]:
    """(title, why, fix) for a request stuck on ``line``, from what that line holds."""
    code = c.text.code(line)
    function = c.model.function_at(line)
    in_async = function is not None and function.is_async
    holds_up = (
        "An `async def` endpoint runs on the server's only thread, so while it waits no other request is answered."
        if in_async
        else "While it waits, the request gets no answer."
    )
    call = next((call for call in c.model.blocking_calls if call.line == line), None)
    if call is not None and call.call.endswith("sleep"):
        fix = (
            f"Remove the `{call.call}` on line {line}: an endpoint should answer at once. If it must wait, "
            "use `await asyncio.sleep` instead, which lets the server answer other requests meanwhile."
            if in_async
            else f"Remove the `{call.call}` on line {line}: the client gives up long before it ends."
        )
        return f"`{call.call}` keeps your endpoint from answering", holds_up, fix
    if call is not None:
        return (
            f"Your endpoint waits on `{call.call}` and never answers",
            f"Line {line} (`{code}`) waits for something that never comes while the grader runs your app. {holds_up}",
            f"Take the `{call.call}` call out of the endpoint: build the reply from the request alone.",
        )
    if code.startswith("while "):
        loop = code.removesuffix(":").strip()
        return (
            "A loop in your endpoint never ends",
            f"`{loop}` keeps running: nothing inside it changes what it waits for, so it never finishes. {holds_up}",
            f"Remove the loop on line {line}, or make sure its condition becomes false.",
        )
    return (
        "Your endpoint got stuck before it could answer",
        f"It was still running line {line} (`{code}`). {holds_up}",
        f"Make line {line} (`{code}`) finish at once: no endless loop, no long sleep, "
        "no waiting for something that never comes.",
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
