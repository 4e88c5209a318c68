"""Return values: what the endpoint returns is not the object the exercise asks for."""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass

from grader.grading.diagnose.responses import parse_body
from grader.grading.diagnose.source import Source
from grader.grading.diagnose.wording import (
    Context,
    Rule,
    Words,
    line_patch,
    quote_code,
    replaced_in_line,
    unwrapped_call,
)
from grader.grading.evidence import Return, Route
from grader.grading.report import FixPatch


def _null_body(c: Context) -> Words:
    reply = c.reply()
    text, path = c.text, c.path
    printed = text.in_endpoint(path, r"\bprint\s*\(")
    route = c.route
    looped = _return_in_loop(c)
    if looped is not None:
        return looped
    bare = next((r for r in route.function.returns if r.kind == "nothing"), None) if route is not None else None
    if bare is not None:
        built = _built_reply(c)
        value = built or reply
        return Words(
            "Your endpoint returns nothing",
            f"Line {bare.line} is a bare `return`: it ends the function with nothing, and FastAPI sends a function's "
            "None as the JSON value null. What follows `return` is what travels back to the client"
            + (f"; your reply is built in `{built}` and never returned." if built else "."),
            f"Return the reply: `return {value}`.",
            bare.line,
            line_patch(text, bare.line, f"return {value}"),
        )
    if printed:
        return Words(
            "Your endpoint prints the reply instead of returning it",
            "`print(...)` writes to the server's own log, which the client never sees. Your function returned "
            "nothing, and FastAPI sent that None as the JSON value null.",
            f"Replace the print with `return {reply}`.",
            printed,
            _print_to_return(c, printed),
        )
    returns_none = _returns_none(c)
    if returns_none is not None:
        return returns_none
    return Words(
        "Your endpoint returns nothing",
        "The reply was the JSON value null: your function ended without a `return`, and FastAPI sends a function's "
        "None as null. What the function returns is what travels back to the client.",
        f"End the function with `return {reply}`.",
        text.endpoint(path),
    )


def _returns_none(c: Context) -> Words | None:
    """A ``return`` that names None itself (``... if msg else None``, ``return None``): the null came from there."""
    route = c.route
    if route is None:
        return None
    named = ((r, _expression(r.text)) for r in route.function.returns)
    returned, tree = next(((r, tree) for r, tree in named if tree is not None and _holds_none(tree)), (None, None))
    if returned is None:
        return None
    reply, code = c.reply(), c.text.code(returned.line)
    sent = [parse_body(case.request.body) for case in c.cases]
    conditional = isinstance(tree, ast.IfExp) and _is_none(tree.orelse)
    if conditional and sent and all(message == {} for message in sent):
        why = (
            "An empty dict counts as false in Python, so for the message `{}` the `else None` part runs. An empty "
            "object is still a message to send back: the exercise expects it inside the reply like any other."
        )
        title = "An empty message gets null back"
    else:
        why = "For the messages of the cases below, that is the None it names."
        title = "Your endpoint can return None, sent as null"
    return Words(
        title,
        f"Line {returned.line} reads `{quote_code(code)}`, and FastAPI sends None as the JSON value null. {why}",
        f"Send the reply for every message: `return {reply}`.",
        returned.line,
        line_patch(c.text, returned.line, f"return {reply}"),
    )


def _not_json(c: Context) -> Words:
    text, path = c.text, c.path
    if any("nested far too deeply" in (case.problem or "") for case in c.cases):
        return Words(
            "The reply is nested too deeply to be read",
            "Your endpoint sent back brackets inside brackets thousands of levels deep; no JSON reader takes that.",
            f"Return only `{c.reply()}`.",
            text.returned(path),
        )
    returned = text.returned(path)
    code = text.code(returned)
    if "str(" in code or "repr(" in code:
        return Words(
            "The reply is not JSON: `str(` makes Python's text of the dict",
            f"Line {returned} sends `str(...)` of a dict: that is how Python prints it (single quotes, `True`, "
            "`None`), not JSON, so a JSON client cannot read it.",
            f"Return a dict and let FastAPI write the JSON: `return {c.reply()}`.",
            returned,
            line_patch(text, returned, f"return {c.reply()}"),
        )
    return Words(
        "The reply is not JSON",
        "The body your endpoint sent back is not JSON, so a client cannot read it as an object.",
        "Return a dict from the endpoint (FastAPI turns it into JSON), not a string or a plain-text response.",
        text.returned(path),
    )


def _json_string(c: Context) -> Words:
    reply = c.reply()
    text, path = c.text, c.path
    line = text.find(r"json\.dumps\s*\(") or text.returned(path)
    return Words(
        "The reply is a JSON string, not a JSON object",
        "Your endpoint turned the reply into text itself (with `json.dumps`), then FastAPI encoded that text "
        'once more, so the client received one long string such as "{\\"received\\": ...}" instead of an object.',
        f"Return the dict itself and let FastAPI encode it: `return {reply}`, without `json.dumps`.",
        line,
        _without_call(c, line, ("json.dumps",)),
    )


def _not_wrapped(c: Context) -> Words:
    found, text, path = c.found, c.text, c.path
    key = found.get("key") or "received"
    return Words(
        f'The message is not wrapped in "{key}"',
        f"Your endpoint sent the message back as it came, but the exercise asks for it inside an object under the "
        f'key "{key}": {{"{key}": message}}.',
        f'Return `{{"{key}": {c.parameter}}}` instead of `{c.parameter}`.',
        text.returned(path),
        _wrapped_return(c, text.returned(path), key),
    )


def _double_wrapped(c: Context) -> Words:
    found, text, path = c.found, c.text, c.path
    key = found.get("key") or "received"
    where = found.get("where") or ""
    reply = c.reply()
    inside = f' under "{where}"' if where else ""
    if key in reply and not where:
        line = text.returned(path)
        return Words(
            f'The message is wrapped twice in "{key}"',
            f'Your reply holds the right answer inside one more "{key}" object: {{"{key}": {{"{key}": message}}}}. '
            "The exercise wraps the message once.",
            f"Return `{reply}` with `{c.parameter}` being the body your endpoint received, not an already "
            "wrapped reply.",
            line,
        )
    # The line that builds the extra object writes its key ("msg": or msg=); else the return statement.
    route = c.route
    written = c.model.written_at(key, route.function.line, route.function.end_line) if route is not None else None
    line = written or text.returned(path)
    return Words(
        f'The message sits one level too deep, inside an extra "{key}" object',
        f'Your reply puts the message{inside} inside {{"{key}": ...}}; the exercise expects the message itself '
        f"there, so every field it checks is one level further down than it looks.",
        f'Leave out the "{key}" object: return `{reply}`.',
        line,
    )


def _wrong_type(c: Context) -> Words:
    reply = c.reply()
    found, text, path = c.found, c.text, c.path
    wanted, got = found.get("wanted"), found.get("got")
    if (wanted, got) == ("object", "array"):
        listed = bracketed_message(c)
        if listed is not None:
            return listed
    if (wanted, got) == ("object", "string"):
        printed = _returns_printed_text(c)
        if printed is not None:
            return printed
    return Words(
        f"The reply is a JSON {got}, not a JSON {wanted}",
        f"The exercise expects the reply to be a JSON {wanted}; your endpoint returned a JSON {got}.",
        f"Return a dict: `return {reply}`.",
        text.returned(path),
    )


def _returns_printed_text(c: Context) -> Words | None:
    """``return str(reply)`` (or ``repr``): the whole reply made into Python's text of it before it is sent."""
    line = c.text.returned(c.path)
    code = c.text.code(line).strip()
    unwrapped = unwrapped_call(code, ("str", "repr"))
    if unwrapped is None or code != f"return {unwrapped[1]}":
        return None
    call = unwrapped[1]
    name = call.split("(", 1)[0].strip()
    return Words(
        f"`{name}(...)` turns the reply into text",
        f"Line {line} returns `{quote_code(call)}`: `{name}` makes the text Python would print for the dict "
        "(single quotes, `True`, `None`), and FastAPI sends a text as a JSON string, so the client gets one long "
        "string instead of an object it can read fields from.",
        f"Return the value itself and let FastAPI write the JSON: `{quote_code(unwrapped[0])}`.",
        line,
        line_patch(c.text, line, unwrapped[0]),
    )


def bracketed_message(c: Context) -> Words | None:
    """An array where an object belongs, made by the learner's square brackets around the message (``[msg]``).

    Only a list the reply is built from counts: one in a ``return``, or assigned to a name a ``return`` reads.
    """
    route = c.route
    if route is None:
        return None
    function = route.function
    for listed in function.bracketed:
        returned = next((r for r in function.returns if r.line <= listed.line <= (r.end_line or r.line)), None)
        feeds = any(
            assignment.line == listed.line and any(assignment.name in r.names for r in function.returns)
            for assignment in function.assignments
        )
        if returned is None and not feeds:
            continue
        whole = returned is not None and returned.text == listed.code
        what = "message" if listed.bare else "reply"
        if whole and listed.bare:
            fix = f"Put the message in a dict, not in a list: `return {c.reply()}`."
            patch = line_patch(c.text, listed.line, f"return {c.reply()}")
        else:
            fix = f"Leave out the brackets: write `{quote_code(listed.inner)}` instead of `{quote_code(listed.code)}`."
            patch = replaced_in_line(c.text, listed.line, listed.code, listed.inner)
        expected = "a JSON object" if whole else "the message itself, a JSON object"
        return Words(
            f"`{quote_code(listed.code)}` puts the {what} in a list",
            f"Line {listed.line} writes `{quote_code(listed.code)}`: square brackets make a Python list, which "
            f"FastAPI sends as a JSON array, so the client gets an array holding the {what} where the exercise "
            f"expects {expected}.",
            fix,
            listed.line,
            patch,
            "wrong_type",
        )
    return None


def _too_large(c: Context) -> Words:
    reply = c.reply()
    text, path = c.text, c.path
    return Words(
        "The reply is far larger than the message",
        "The grader stopped reading the reply at its size limit: the endpoint sends much more than the message it got.",
        f"Return only `{reply}`.",
        text.returned(path),
    )


def _expression(text: str) -> ast.expr | None:
    """A returned expression parsed (None when it does not parse on its own)."""
    try:
        return ast.parse(text, mode="eval").body
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def _is_none(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and node.value is None


def _holds_none(tree: ast.expr) -> bool:
    """Whether the expression names None itself (not the text "None" inside a string)."""
    return any(_is_none(node) for node in ast.walk(tree))


@dataclass(frozen=True)
class LoopReturn:
    """The only ``return`` of an endpoint, inside a ``for`` loop.

    loop_line: the ``for`` line; names: the names the loop binds; alone: whether the loop
    holds nothing but that ``return`` (so the whole loop can be replaced).
    """

    returned: Return
    loop_line: int
    names: frozenset[str]
    alone: bool

    @property
    def first_pass(self) -> bool:
        """Whether the reply is built from what the loop's first pass binds: the function ends there."""
        return bool(self.names & set(self.returned.names))


def loop_return(text: Source, route: Route | None) -> LoopReturn | None:
    """The endpoint's only ``return``, when it sits inside a ``for`` loop (read from indentation)."""
    if route is None or len(route.function.returns) != 1:
        return None
    returned = route.function.returns[0]
    indent = _indent(text.lines[returned.line - 1])
    for number in range(returned.line - 1, route.function.line, -1):
        code = text.lines[number - 1]
        if not code.strip() or code.lstrip().startswith("#") or _indent(code) >= indent:
            continue
        loop = re.match(r"\s*(async\s+)?for\s+(?P<names>.+?)\s+in\b", code)
        if loop is None:
            return None
        between = [
            line
            for line in text.lines[number : returned.line - 1]
            if line.strip() and not line.lstrip().startswith("#")
        ]
        after = [
            line
            for line in text.lines[returned.end_line or returned.line : route.function.end_line]
            if line.strip() and not line.lstrip().startswith("#")
        ]
        alone = not between and (not after or (_indent(after[0]) <= _indent(code) and not _is_else(after[0])))
        names = frozenset(re.findall(r"[A-Za-z_]\w*", loop.group("names")))
        return LoopReturn(returned, number, names, alone)
    return None


def _return_in_loop(c: Context) -> Words | None:
    """The only return sits inside a ``for`` loop: a message with nothing to loop over never reaches it."""
    loop = loop_return(c.text, c.route)
    if loop is None:
        return None
    line, number = loop.returned.line, loop.loop_line
    if not loop.first_pass:
        return Words(
            "Your endpoint returns only from inside a loop",
            f"The `return` on line {line} is inside the `for` loop of line {number}: it runs only "
            "if the loop runs, so a message with nothing to loop over (the empty object) ends the function "
            "without a reply, and FastAPI sends None as the JSON value null.",
            f"Take the `return` out of the loop: indent it like the `for` of line {number}, so it runs "
            "once, after the loop.",
            number,
        )
    reply = c.reply()
    last = loop.returned.end_line or line
    patch = None
    if loop.alone:
        before = "\n".join(c.text.lines[number - 1 : last])
        indent = c.text.lines[number - 1][: _indent(c.text.lines[number - 1])]
        patch = FixPatch(number, before, f"{indent}return {reply}")
    bound = ", ".join(f"`{name}`" for name in sorted(loop.names & set(loop.returned.names)))
    return Words(
        "Your endpoint returns on the first pass of its loop",
        f"The `return` on line {line} is inside the `for` loop of line {number} and builds the reply from "
        f"{bound}, which the loop sets: the function ends on the loop's first pass, so the reply holds only what "
        "that first pass gives, never the whole message. For a message with nothing to loop over (the empty "
        "object) the `return` never runs, and FastAPI sends None as the JSON value null.",
        f"Send the whole message, without the loop: replace lines {number}–{last} with `return {reply}`."
        if loop.alone
        else f"Send the whole message once, after the loop: `return {reply}`, indented like the `for` of line {number}.",
        number,
        patch,
    )


def _is_else(code: str) -> bool:
    """Whether a line opens the ``else:`` of a loop (which belongs to the loop, so goes with it)."""
    return re.match(r"\s*else\s*:", code) is not None


def _indent(code: str) -> int:
    return len(code) - len(code.lstrip())


def _built_reply(c: Context) -> str | None:
    """The name of a dict the endpoint builds (``reply = {...}``) and does not return."""
    route = c.route
    if route is None:
        return None
    for assignment in route.function.assignments:
        if re.match(rf"^{re.escape(assignment.name)}\s*=\s*\{{", c.text.code(assignment.line)):
            return assignment.name
    return None


def _print_to_return(c: Context, line: int | None) -> FixPatch | None:
    """``print(reply)`` becomes ``return reply`` when the print holds one expression."""
    code = c.text.code(line)
    unwrapped = unwrapped_call(code, ("print",))
    if unwrapped is None or not code.startswith("print"):
        return None
    return line_patch(c.text, line, "return " + unwrapped[0])


def _without_call(c: Context, line: int | None, names: tuple[str, ...]) -> FixPatch | None:
    """The line with the call to one of ``names`` replaced by its argument."""
    unwrapped = unwrapped_call(c.text.code(line), names)
    return line_patch(c.text, line, unwrapped[0]) if unwrapped else None


def _wrapped_return(c: Context, line: int | None, key: str) -> FixPatch | None:
    """``return value`` becomes ``return {"key": value}``."""
    match = re.match(r"^return\s+(?P<value>[A-Za-z_][\w.]*(?:\[[^\]]*\])*)\s*(?:#.*)?$", c.text.code(line))
    if match is None:
        return None
    return line_patch(c.text, line, f"return {{{json.dumps(key)}: {match.group('value')}}}")


RULES: dict[str, Rule] = {
    "null_body": _null_body,
    "not_json": _not_json,
    "json_string": _json_string,
    "not_wrapped": _not_wrapped,
    "double_wrapped": _double_wrapped,
    "wrong_type": _wrong_type,
    "too_large": _too_large,
}
