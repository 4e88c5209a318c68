"""What the learner's line handed to something that cannot take it: a value after ``await``, a dict as a
plain ``Response``'s content, a status code written as text. The exception is raised inside Python or
inside Starlette, below the learner's line; each rule blames the line only when the line itself shows
the value at fault (read from its syntax tree, never from the message alone)."""

from __future__ import annotations

import ast
import re

from grader.grading.evidence.exceptions.attributes import OWNER_WORDS
from grader.grading.evidence.exceptions.common import Evidence, Explanation, replace_in_line, shown, statement

NOT_AWAITABLE = re.compile(r"^object (?P<type>\w+) can't be used in 'await' expression$")


def awaits_plain_value(evidence: Evidence) -> Explanation | None:
    """``await reply`` where ``reply`` is a value the code already holds (a dict, a string...)."""
    match = NOT_AWAITABLE.match(evidence.message)
    if evidence.exception != "TypeError" or match is None or evidence.line is None:
        return None
    awaited = _only_await(evidence.code)
    if awaited is None:
        return None
    whole, value = awaited
    kind = OWNER_WORDS.get(match["type"], f"a `{match['type']}`")
    fixed = evidence.code.replace(whole, value, 1)
    return Explanation(
        cause="awaits_plain_value",
        title=f"`await` waits for async work, and `{shown(value)}` is {kind} already there",
        explanation=(
            f"On line {evidence.line}, `{shown(evidence.code)}` puts `await` before `{shown(value)}`, which holds "
            f"{kind}. `await` is for work that finishes later, such as `await request.json()`; a value your code "
            f"already has needs no waiting, so Python stopped with `TypeError: {evidence.message}`."
        ),
        fix=f"Remove `await` there: `{shown(fixed)}`.",
        line=evidence.line,
        fix_patch=replace_in_line(evidence.model, evidence.line, whole, value),
    )


def _only_await(code: str) -> tuple[str, str] | None:
    """(``await x`` as written, ``x`` as written) when the line holds exactly one ``await``."""
    tree = statement(code)
    if tree is None:
        return None
    awaits = [node for node in ast.walk(tree) if isinstance(node, ast.Await)]
    if len(awaits) != 1:
        return None
    whole = ast.get_source_segment(code, awaits[0])
    value = ast.get_source_segment(code, awaits[0].value)
    if not whole or not value:
        return None
    return whole, value


ENCODED = re.compile(r"^'(?P<type>\w+)' object has no attribute 'encode'$")
TEXT_RESPONSES = {"Response", "PlainTextResponse", "HTMLResponse"}


def response_content_not_text(evidence: Evidence) -> Explanation | None:
    """``Response(content={...})``: a plain response sends text or bytes as they are and cannot encode a dict."""
    match = ENCODED.match(evidence.message)
    if evidence.exception != "AttributeError" or not evidence.in_library or match is None:
        return None
    content = _response_content(evidence.code)
    if content is None:
        return None
    response, value = content
    kind = OWNER_WORDS.get(match["type"], f"a `{match['type']}`")
    labelled = (
        " Setting `media_type` to JSON only labels what is sent; it converts nothing."
        if "media_type" in evidence.code
        else ""
    )
    patch = None
    if evidence.code.startswith("return ") and match["type"] in ("dict", "list"):
        patch = replace_in_line(evidence.model, evidence.line, evidence.code, f"return {value}")
    return Explanation(
        cause="response_content_not_text",
        title=f"`{response}` sends text or bytes as they are; it does not turn {kind} into JSON",
        explanation=(
            f"Line {evidence.line} hands `{shown(value)}`, {kind}, to `{response}` as its content. `{response}` "
            f"sends its content unchanged, so the content must already be text or bytes; Starlette tried to turn "
            f"it into bytes with `.encode()` and failed with `AttributeError: {evidence.message}`.{labelled}"
        ),
        fix=(
            f"Return it as it is, and FastAPI turns it into JSON for you: `return {shown(value)}`."
            if match["type"] in ("dict", "list")
            else f"Give `{response}` text, or return a dict and let FastAPI send it as JSON."
        ),
        line=evidence.line,
        fix_patch=patch,
    )


def _response_content(code: str) -> tuple[str, str] | None:
    """(the response class, its content as written) of the one text response the line builds."""
    tree = statement(code)
    if tree is None:
        return None
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        if name not in TEXT_RESPONSES:
            continue
        given = next((kw.value for kw in node.keywords if kw.arg == "content"), node.args[0] if node.args else None)
        segment = ast.get_source_segment(code, given) if given is not None else None
        if segment:
            found.append((name, segment))
    return found[0] if len(found) == 1 else None


STATUS_AS_TEXT = re.compile(r"""\bstatus_code\s*=\s*(?P<quote>["'])(?P<code>\d{3})(?P=quote)""")
COMPARED_WITH_NUMBER = re.compile(r"not supported between instances of '(str|int)' and '(str|int)'")


def status_code_as_text(evidence: Evidence) -> Explanation | None:
    """``status_code="200"``: Starlette compares the status with numbers, and text cannot be compared."""
    if evidence.exception != "TypeError" or not COMPARED_WITH_NUMBER.search(evidence.message):
        return None
    found = STATUS_AS_TEXT.search(evidence.code)
    if found is None or evidence.line is None:
        return None
    code = found["code"]
    default = " (200 is what FastAPI sends anyway, so you may also leave it out)" if code == "200" else ""
    return Explanation(
        cause="status_code_as_text",
        title=f"A status code is a number: `status_code={code}`, without quotes",
        explanation=(
            f"Line {evidence.line} gives `{found[0]}`: in quotes, {code} is text, not a number. Starlette compares "
            f"the status with numbers while it builds the reply, and text cannot be compared with a number, so "
            f"Python stopped with `TypeError: {evidence.message}`."
        ),
        fix=f"Write the status without quotes: `status_code={code}`{default}.",
        line=evidence.line,
        fix_patch=replace_in_line(evidence.model, evidence.line, found[0], f"status_code={code}"),
    )
