"""Blocking: requests that got no answer, told by the call or the loop the handler waits in.

The boot script samples a request that runs too long, and the host keeps the
learner's line it was stuck on once it has checked it (``CaseResult.blocked_line``,
see ``grader.grading.stalls``): the call or loop on that line is named. Without a
sample, the learner's code shows the call that waits (``time.sleep``, ``input()``,
an HTTP client) or a loop nothing inside it can end. Without either, the diagnosis
says what happened and names no line. Cases never sent because requests were stuck
on one line are folded into this diagnosis, which says they were not run.
"""

from __future__ import annotations

import re

from grader.grading.diagnose.wording import Context, Rule, Words, count_cases, quote_code
from grader.grading.evidence import BlockingCall, Function
from grader.grading.report import FixPatch

LOOP = re.compile(r"^\s*while\s+(?P<condition>.+?)\s*:\s*(#.*)?$")


def _no_answer(c: Context) -> Words:
    words = _from_sample(c) or _from_code(c)
    stopped = _not_run_words(c)
    return words._replace(explanation=f"{words.explanation} {stopped}") if stopped else words


def _from_sample(c: Context) -> Words | None:
    """Words from the line the request was stuck on, sampled in the sandbox and checked on the host."""
    line = c.text.valid_line(c.found.get("line"))
    function = c.model.function_at(line)
    if line is None or function is None:
        return None
    call = next((b for b in c.model.blocking_calls if b.line == line), None)
    if call is not None:
        return _blocking_call(c, function, call)
    loop = _endless_loop(c, function)
    if loop is not None and loop.line is not None and loop.line <= line <= c.text.endpoint_end(loop.line):
        return loop
    code = c.text.code(line)
    holds_up = (
        f"`{function.name}` is `async def`, so it runs on the server's only thread: while it is stuck, "
        "no other request gets an answer either."
        if function.is_async
        else "While it runs, the request gets no answer."
    )
    return Words(
        "Your endpoint got stuck before it could answer",
        f"When the grader gave up waiting, your app was still running line {line} (`{quote_code(code)}`) "
        f"in `{function.name}`. {holds_up}",
        f"Make line {line} finish at once: no loop that waits, no long computation, no waiting for "
        "something that never comes.",
        line,
        None,
        "blocking_call",
    )


def _not_run_words(c: Context) -> str:
    """What to say of the cases never sent because requests were stuck (folded into this diagnosis)."""
    not_run = [case for case in c.cases if not case.sent]
    if not not_run:
        return ""
    one = len(not_run) == 1
    return (
        f"After two requests were stuck on the same line the grader stopped sending requests: the other "
        f"{count_cases(not_run)} {'was' if one else 'were'} not run."
    )


def _from_code(c: Context) -> Words:
    """Words from the learner's code alone: the endpoint's blocking call or endless loop, if it shows one."""
    route = c.route
    function = route.function if route is not None else None
    if function is not None:
        call = next(
            (b for b in c.model.blocking_calls if function.line <= b.line <= function.end_line),
            None,
        )
        if call is not None:
            return _blocking_call(c, function, call)
        loop = _endless_loop(c, function)
        if loop is not None:
            return loop
    answered = [case for case in c.cases if case.sent] or c.cases
    problem = (answered[0].problem or "no answer came back").rstrip("?.")
    return Words(
        "Some requests got no answer",
        f"For {count_cases(answered)} the grader got no reply: {problem}. Nothing in your endpoint's code shows what "
        "it waited for.",
        "Make the endpoint answer straight away: no loop that waits, no sleep, no waiting for input.",
        None,
    )


def _blocking_call(c: Context, function: Function, call: BlockingCall) -> Words:
    code = c.text.code(call.line)
    alone = code == call.text and function.end_line - function.body_line >= 1
    if call.in_async:
        why = (
            f"`{function.name}` is `async def`, so it runs on the server's only thread: while `{quote_code(call.text)}` "
            "waits, the whole server waits, and no request gets an answer, not even the next one."
        )
        instead = " If it must wait, `await asyncio.sleep` (with the same seconds) waits without stopping the server."
    else:
        why = "Each request waits for it before the reply is sent, longer than the grader waits for an answer."
        instead = ""
    return Words(
        f"`{quote_code(call.text)}` keeps your endpoint from answering",
        f"Line {call.line} calls `{call.call}`, which blocks: it waits before anything else happens. {why}",
        f"Remove `{quote_code(call.text)}`: the reply needs no waiting.{instead}",
        call.line,
        FixPatch(call.line, c.text.lines[call.line - 1], "") if alone else None,
        "blocking_call",
    )


def _endless_loop(c: Context, function: Function) -> Words | None:
    line = c.model.find(LOOP, function.line, function.end_line)
    match = LOOP.match(c.text.lines[line - 1]) if line else None
    if line is None or match is None:
        return None
    condition = match.group("condition")
    names = set(re.findall(r"[A-Za-z_]\w*", condition)) - {"not", "and", "or", "True", "False", "None", "is"}
    body_end = c.text.endpoint_end(line)
    changed = any(
        c.model.find(rf"^\s*{re.escape(name)}\s*(\+|-)?=(?!=)", line + 1, body_end) for name in names
    ) or c.model.find(r"^\s*(break|return)\b", line + 1, body_end)
    if changed:
        return None
    return Words(
        f"`while {quote_code(condition)}` never ends",
        f"Line {line} loops for as long as `{quote_code(condition)}` holds, and nothing inside the loop changes "
        "it, so the loop never ends and the reply is never sent.",
        "Remove the loop: the reply needs nothing to wait for.",
        line,
        None,
        "blocking_call",
    )


RULES: dict[str, Rule] = {"no_answer": _no_answer}
