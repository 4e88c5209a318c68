"""Exceptions explained as a tutor would: what the message means in the learner's own code.

``explain_exception`` takes the exception's name and message, the learner's
innermost frame and the ``SourceModel``, and returns an ``Explanation`` (a cause
code, a title, what happened, what to change, the line, and an edit when the fix
is one) or None when the code does not support a cause. It never guesses: each
rule below checks the learner's line or the model for the evidence its cause
needs (``unhashable type: 'dict'`` is a comma where a colon goes only when the
line holds a set literal; ``UnboundLocalError`` is a missing ``global`` only when
the name is bound at the top level of the file).

The table ``RULES`` maps an exception family to its rules, tried in order, one
small function each (the way friendly-traceback keeps one module per family);
rules that hold for any exception (a coroutine used as data) come first.

An edit (``FixPatch``) is offered only when it changes the learner's line and
the file still parses with it; the grader checks it in the sandbox before it is
shown as code.

Cause codes: ``set_instead_of_dict``, ``dict_as_key``, ``called_not_callable``,
``missing_await``, ``missing_argument``, ``extra_argument``, ``unexpected_keyword``,
``json_loads_on_dict``, ``not_serializable``, ``string_indexed``, ``none_value``,
``mixed_types``, ``missing_global``, ``used_before_assignment``, ``endless_recursion``,
``name_typo``, ``json_literal``, ``missing_import``, ``attribute_typo``, ``attribute_on_dict``,
``missing_key``, ``empty_sequence``, ``json_decode``, ``bad_conversion``, ``input_in_handler``,
``response_model_refused``, ``invalid_field_type``, ``complex_parameter_from_url``, ``route_refused``,
``framework_raised``.
"""

from __future__ import annotations

import ast
import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass

from grader.grading.evidence.source import FASTAPI_STAR_NAMES, Function, Route, SourceModel
from grader.grading.evidence.tracebacks import Frame, ParsedTraceback, ValidationIssue
from grader.grading.report import FixPatch

MAX_SHOWN = 80
MAX_RENAMED_SPAN = 8
"""How far below an import a renamed name may still be used for one edit to rename it everywhere."""
COMMON_MODULES = ("json", "time", "random", "typing", "datetime", "os", "sys", "math", "re", "collections", "pydantic")
"""Standard modules beginners import, for "the module is `json`"."""
CLOSE_ENOUGH = 0.7
"""How alike two names must be (difflib's ratio) to suggest one for the other."""

ROUTE_ATTRIBUTES = (
    "get",
    "post",
    "put",
    "patch",
    "delete",
    "head",
    "options",
    "trace",
    "api_route",
    "route",
    "websocket",
    "include_router",
    "add_api_route",
    "middleware",
    "exception_handler",
    "on_event",
    "mount",
    "state",
    "router",
    "openapi",
)
"""What a FastAPI app or APIRouter offers that beginners reach for."""
REQUEST_ATTRIBUTES = (
    "json",
    "body",
    "form",
    "stream",
    "headers",
    "query_params",
    "path_params",
    "cookies",
    "method",
    "url",
    "client",
    "state",
    "app",
)
"""What Starlette's ``Request`` offers."""
TYPE_ATTRIBUTES: dict[str, tuple[str, ...]] = {
    "dict": tuple(name for name in dir(dict) if not name.startswith("_")),
    "list": tuple(name for name in dir(list) if not name.startswith("_")),
    "str": tuple(name for name in dir(str) if not name.startswith("_")),
    "int": tuple(name for name in dir(int) if not name.startswith("_")),
    "FastAPI": ROUTE_ATTRIBUTES,
    "APIRouter": ROUTE_ATTRIBUTES,
    "Request": REQUEST_ATTRIBUTES,
}
"""The attributes of the types whose names appear in AttributeError messages, as far as we know them."""
MODULE_ATTRIBUTES: dict[str, tuple[str, ...]] = {
    "json": ("dumps", "loads", "dump", "load", "JSONDecodeError"),
    "time": ("sleep", "time", "monotonic", "perf_counter", "strftime", "localtime", "gmtime"),
    "random": ("random", "randint", "choice", "shuffle", "uniform", "sample"),
    "fastapi": tuple(FASTAPI_STAR_NAMES),
    "datetime": ("datetime", "date", "time", "timedelta", "timezone"),
    "math": ("sqrt", "floor", "ceil", "pi", "pow", "isclose"),
}
"""The attributes of modules beginners import, for "did you mean" (never imported here)."""
VALUE_TYPES = {
    "int": "a whole number",
    "float": "a decimal number",
    "bool": "true or false",
    "NoneType": "null (None)",
    "dict": "an object (a dict)",
    "list": "a list",
}
"""The JSON values that are not strings, as their Python types are named in messages."""
STRING_METHODS = (
    frozenset(name for name in dir(str) if not name.startswith("_")) - frozenset(dir(dict)) - frozenset(dir(list))
)
"""Methods only strings have (a dict's ``.items`` or a list's ``.count`` are not evidence)."""
OWNER_WORDS = {
    "FastAPI": "your FastAPI app",
    "APIRouter": "a router",
    "Request": "the request",
    "dict": "a dict",
    "list": "a list",
    "str": "a string",
    "int": "a whole number",
}
"""Types named in AttributeError messages, in words."""
PYDANTIC_METHODS = ("model_dump", "model_dump_json", "model_copy", "model_fields", "dict", "json")
"""What a pydantic model offers besides its fields."""
IMPORTED_FROM = {
    **dict.fromkeys(FASTAPI_STAR_NAMES, "fastapi"),
    "JSONResponse": "fastapi.responses",
    "PlainTextResponse": "fastapi.responses",
    "HTMLResponse": "fastapi.responses",
    "RedirectResponse": "fastapi.responses",
    "BaseModel": "pydantic",
    "Field": "pydantic",
    "Any": "typing",
    "Dict": "typing",
    "List": "typing",
    "Optional": "typing",
    "Union": "typing",
    "Annotated": "typing",
    **{name: name for name in ("json", "time", "random", "datetime", "math", "os", "sys", "re", "uvicorn")},
}
"""Where a name a beginner forgets to import comes from."""
MESSAGE_NAMES = {"msg", "message", "data", "body", "payload", "item", "content", "json_data", "request_data", "m"}
"""Names learners give the message: one of them undefined beside a parameter of another name is that parameter."""
JSON_LITERALS = {"true": "True", "false": "False", "null": "None"}
FASTAPI_NAMES = set(FASTAPI_STAR_NAMES)


@dataclass(frozen=True)
class Explanation:
    """An exception explained in the learner's terms.

    cause: a stable code for the kind of mistake (see the module's docstring).
    title/explanation/fix: the words (a title, what happened and why, what to change).
    line: the learner's line it points at (the one that raised it, or the line that
        configured what the framework refused), when known.
    fix_patch: the fix as an edit of that line, when it is one.
    raised_by_framework: whether FastAPI/pydantic raised it with no line of the learner's
        running (then ``line`` is the route, model or parameter that set it up).
    """

    cause: str
    title: str
    explanation: str
    fix: str
    line: int | None = None
    fix_patch: FixPatch | None = None
    raised_by_framework: bool = False


@dataclass(frozen=True)
class _Evidence:
    """What a rule may read."""

    exception: str
    message: str
    frame: Frame | None
    model: SourceModel
    line: int | None
    code: str
    route: Route | None
    details: tuple[str, ...]
    issues: tuple[ValidationIssue, ...]

    @property
    def function(self) -> Function | None:
        return self.model.function_at(self.line) if self.line else (self.route.function if self.route else None)


_Rule = Callable[[_Evidence], Explanation | None]


def explain_exception(
    exception: str,
    message: str,
    frame: Frame | None,
    model: SourceModel,
    *,
    details: tuple[str, ...] = (),
    issues: tuple[ValidationIssue, ...] = (),
    path: str | None = None,
    method: str | None = None,
) -> Explanation | None:
    """The exception explained from the learner's code, or None when the code supports no cause.

    exception: its class (``TypeError``, ``fastapi.exceptions.ResponseValidationError``).
    frame: the learner's innermost frame (None when the framework raised it on its own).
    path/method: the request that raised it, to find the route when no frame of theirs ran.
    """
    name = exception.rsplit(".", 1)[-1]
    line = model.valid_line(frame.line) if frame is not None else None
    route = _route_of(model, line, path, method)
    evidence = _Evidence(name, message, frame, model, line, model.code(line), route, details, issues)
    for rule in [*ANY_EXCEPTION, *RULES.get(name, ()), *LAST_RESORT]:
        found = rule(evidence)
        if found is not None:
            return checked(found, model)
    if frame is None or line is None:
        return checked(_framework_raised(evidence), model)
    return None


def explain_traceback(
    traceback: ParsedTraceback, model: SourceModel, *, path: str | None = None, method: str | None = None
) -> Explanation | None:
    """``explain_exception`` for a parsed traceback."""
    if not traceback.exception_type:
        return None
    return explain_exception(
        traceback.exception_type,
        traceback.message,
        traceback.learner_frame,
        model,
        details=traceback.details,
        issues=traceback.validation_issues,
        path=path,
        method=method,
    )


def _route_of(model: SourceModel, line: int | None, path: str | None, method: str | None) -> Route | None:
    if line is not None:
        route = model.route_of(model.function_at(line))
        if route is not None:
            return route
    if path is not None:
        return model.route_for(path, method)
    return model.routes[0] if len(model.routes) == 1 else None


def checked(found: Explanation | None, model: SourceModel) -> Explanation | None:
    """Drop an edit that repeats the learner's line, no longer matches it, or breaks the file."""
    if found is None or found.fix_patch is None:
        return found
    patch = found.fix_patch
    patched = patch.apply(model.text)
    fine = patch.after.rstrip("\n") != patch.before.rstrip("\n") and patched is not None
    if fine and model.parsed and patched is not None:
        try:
            ast.parse(patched)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            fine = False
    if fine:
        return found
    return Explanation(
        found.cause, found.title, found.explanation, found.fix, found.line, None, found.raised_by_framework
    )


# --- helpers the rules share ------------------------------------------------------------------


def _code(text: str) -> str:
    text = text.replace("`", "'").strip()
    return text if len(text) <= MAX_SHOWN else text[: MAX_SHOWN - 1] + "…"


def _quoted(message: str) -> list[str]:
    """The names a message quotes (``'dict'``, ``'count'``), in order."""
    return re.findall(r"'([^']{1,100})'", message)


def replace_in_line(model: SourceModel, line: int | None, old: str, new: str, *, word: bool = False) -> FixPatch | None:
    """An edit of ``line`` replacing ``old`` by ``new`` where it stands in code (not inside a string or
    comment); ``word``: only where it is a whole name. None when the line has no such place."""
    text = model.line_text(line)
    if line is None or not text or not old:
        return None
    pattern = re.escape(old)
    if word and (old[0].isalnum() or old[0] == "_"):
        pattern = r"(?<![\w.])" + pattern
    if word and (old[-1].isalnum() or old[-1] == "_"):
        pattern += r"(?!\w)"
    in_code = _code_positions(text)
    pieces, last = [], 0
    for match in re.finditer(pattern, text):
        if in_code[match.start()]:
            pieces += [text[last : match.start()], new]
            last = match.end()
    changed = "".join(pieces) + text[last:]
    if changed == text:
        return None
    return FixPatch(line=line, before=text, after=changed)


STRING_OR_COMMENT = re.compile(r"""(#.*$)|("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')""")


def _code_positions(text: str) -> list[bool]:
    """For each character of ``text``, whether it is code (not inside a string literal or the comment)."""
    positions = [True] * (len(text) + 1)
    for match in STRING_OR_COMMENT.finditer(text):
        for index in range(match.start() + 1, match.end()):
            positions[index] = False
        if match.group(1):
            positions[match.start()] = False
    return positions


def _statement(code: str) -> ast.Module | None:
    """One line of code parsed on its own (a compound statement's header gets a dummy body)."""
    for attempt in (code, code + " pass", code + "\n pass"):
        try:
            return ast.parse(attempt)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue
    return None


def _nearest(name: str, candidates: set[str] | tuple[str, ...]) -> str | None:
    """The candidate most like ``name`` (a typo's intended word), if one is close enough.

    Close enough: the same but for capitals, or one edit apart (two for longer names, a swap of
    neighbours counting as one), or alike by difflib's measure.
    """
    pool = sorted(candidate for candidate in candidates if candidate != name and not candidate.startswith("__"))
    lowered = {candidate.lower(): candidate for candidate in pool}
    if name.lower() in lowered:
        return lowered[name.lower()]
    allowed = 1 if len(name) <= 4 else 2
    scored = sorted(
        (_distance(name.lower(), candidate.lower()), candidate) for candidate in pool if len(candidate) < 60
    )
    if scored and scored[0][0] <= allowed:
        return scored[0][1]
    found = difflib.get_close_matches(name, pool, n=1, cutoff=CLOSE_ENOUGH)
    return found[0] if found else None


def _distance(left: str, right: str) -> int:
    """Edits between two short words, a swap of neighbours counting as one."""
    if abs(len(left) - len(right)) > 2 or len(left) > 60:
        return 99
    before: list[int] = []
    previous = list(range(len(right) + 1))
    for i, a in enumerate(left, start=1):
        current = [i] + [0] * len(right)
        for j, b in enumerate(right, start=1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a != b))
            if i > 1 and j > 1 and a == right[j - 2] and left[i - 2] == b:
                current[j] = min(current[j], before[j - 2] + 1)
        before, previous = previous, current
    return previous[-1]


def _body_param_names(evidence: _Evidence) -> set[str]:
    function = evidence.function
    return {param.name for param in function.body_params} if function else set()


# --- rules for any exception ------------------------------------------------------------------


UNAWAITED = re.compile(r"(?<!await )(?<!await\()\b(?P<call>[A-Za-z_]\w*\.(?:json|body|form)\(\))")


def _missing_await(evidence: _Evidence) -> Explanation | None:
    """A coroutine used as data: ``request.json()`` without ``await``."""
    if "coroutine" not in evidence.message:
        return None
    function = evidence.function
    start = function.line if function else 1
    end = function.end_line if function else None
    line = evidence.model.find(UNAWAITED, start, end)
    if line is None:
        return None
    call = UNAWAITED.search(evidence.model.line_text(line))
    assert call is not None
    patch = None
    if function is not None and function.is_async:
        patch = replace_in_line(evidence.model, line, call["call"], "await " + call["call"])
        fix = f"Write `await {call['call']}` on line {line}."
    else:
        fix = f"Make the endpoint `async def` and write `await {call['call']}` on line {line}."
    return Explanation(
        cause="missing_await",
        title=f"`{call['call']}` is not awaited",
        explanation=(
            f"`{call['call']}` on line {line} does not give the data straight away: it gives a coroutine, a "
            "promise of the data that only `await` fulfils. Your code then used that coroutine as if it were the "
            f"message, and Python stopped with `{evidence.exception}: {_code(evidence.message)}`."
        ),
        fix=fix + " Simpler still: declare the parameter `msg: dict` and let FastAPI read the body for you.",
        line=line,
        fix_patch=patch,
    )


def _input_in_handler(evidence: _Evidence) -> Explanation | None:
    if evidence.exception != "EOFError" or "input(" not in evidence.code:
        return None
    return Explanation(
        cause="input_in_handler",
        title="`input()` waits for someone to type",
        explanation=(
            f"Line {evidence.line} calls `input()`, which waits for a person at a keyboard. Nobody types while "
            "the grader runs your app, so Python gave up with EOFError."
        ),
        fix="Remove the `input()` call: the message arrives as your endpoint's parameter.",
        line=evidence.line,
    )


# --- TypeError ----------------------------------------------------------------------------------


def _set_instead_of_dict(evidence: _Evidence) -> Explanation | None:
    """``{"received", msg}`` is a set (a comma where a colon goes); a set cannot hold a dict."""
    if not evidence.message.startswith("unhashable type"):
        return None
    tree = _statement(evidence.code)
    found = [node for node in ast.walk(tree) if isinstance(node, ast.Set)] if tree else []
    if not found:
        return None
    literal = found[0]
    kind = _quoted(evidence.message)[0] if _quoted(evidence.message) else "dict"
    patch = None
    if len(literal.elts) % 2 == 0:
        pairs = [(literal.elts[i], literal.elts[i + 1]) for i in range(0, len(literal.elts), 2)]
        written = ast.get_source_segment(evidence.code.strip(), literal) or ""
        fixed = (
            "{"
            + ", ".join(
                f"{ast.get_source_segment(evidence.code.strip(), key)}: {ast.get_source_segment(evidence.code.strip(), value)}"
                for key, value in pairs
            )
            + "}"
        )
        if written:
            patch = replace_in_line(evidence.model, evidence.line, written, fixed)
    return Explanation(
        cause="set_instead_of_dict",
        title="A comma where a colon goes: that is a set, not a dict",
        explanation=(
            f"On line {evidence.line}, `{_code(evidence.code)}` writes `{{a, b}}` with a comma. With a comma Python "
            f"builds a set (a bag of separate values), not a dict (key: value pairs), and a set cannot hold a {kind}: "
            f"hence `TypeError: unhashable type: '{kind}'`."
        ),
        fix='Put a colon between the key and its value: `{"received": msg}`.',
        line=evidence.line,
        fix_patch=patch,
    )


def _dict_as_key(evidence: _Evidence) -> Explanation | None:
    """``{msg: "received"}``: the message used as a key (key and value swapped)."""
    if not evidence.message.startswith("unhashable type"):
        return None
    tree = _statement(evidence.code)
    dicts = [node for node in ast.walk(tree) if isinstance(node, ast.Dict)] if tree else []
    params = _body_param_names(evidence)
    for literal in dicts:
        for key, value in zip(literal.keys, literal.values, strict=True):
            if isinstance(key, ast.Name) and key.id in params:
                code = evidence.code.strip()
                written = ast.get_source_segment(code, literal) or ""
                swapped = f"{{{ast.get_source_segment(code, value)}: {key.id}}}" if len(literal.keys) == 1 else ""
                patch = replace_in_line(evidence.model, evidence.line, written, swapped) if swapped else None
                return Explanation(
                    cause="dict_as_key",
                    title=f"`{key.id}` is used as a key",
                    explanation=(
                        f"On line {evidence.line} the message `{key.id}` stands before the colon, where a key goes. "
                        "A key must be a fixed value such as a string, and a dict cannot be one: "
                        f"hence `TypeError: {_code(evidence.message)}`."
                    ),
                    fix=f'Put the key first and the message after the colon: `{{"received": {key.id}}}`.',
                    line=evidence.line,
                    fix_patch=patch,
                )
    return None


def _called_not_callable(evidence: _Evidence) -> Explanation | None:
    match = re.match(r"'(\w+)' object is not callable", evidence.message)
    if not match:
        return None
    kind = match.group(1)
    tree = _statement(evidence.code)
    function = evidence.function
    names = set(function.local_names | {p.name for p in function.params}) if function else set()
    names |= set(evidence.model.module_names)
    called, name = None, ""
    for node in ast.walk(tree) if tree else ():
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in names:
            called, name = node, node.func.id
            break
    if called is None:
        return None
    code = evidence.code.strip()
    written = ast.get_source_segment(code, called) or ""
    if not called.args and not called.keywords:
        replacement = name
    elif len(called.args) == 1 and not called.keywords and kind == "dict":
        replacement = f"{name}[{ast.get_source_segment(code, called.args[0])}]"
    else:
        replacement = ""
    patch = replace_in_line(evidence.model, evidence.line, written, replacement) if replacement else None
    reading = 'its keys are read with square brackets, `msg["text"]`' if kind == "dict" else "it is used as it is"
    return Explanation(
        cause="called_not_callable",
        title=f"`{name}` is a {kind}, not a function",
        explanation=(
            f"On line {evidence.line}, `{_code(written)}` calls `{name}` with brackets `( )`, as if it were a "
            f"function. `{name}` holds a {kind}, and a {kind} cannot be called: {reading}."
        ),
        fix=f"Write `{replacement}` instead of `{_code(written)}`."
        if replacement
        else f"Remove the `( )` after `{name}`.",
        line=evidence.line,
        fix_patch=patch,
    )


ARGUMENT_COUNT = re.compile(
    r"^(?P<function>[\w.]+)\(\) (?:missing (?P<missing>\d+) required (?:positional|keyword-only) arguments?: (?P<names>.+)"
    r"|takes (?P<takes>.+?) but (?P<given>\d+) (?:positional arguments? )?(?:was|were) given"
    r"|got an unexpected keyword argument '(?P<keyword>\w+)')$"
)


def _argument_count(evidence: _Evidence) -> Explanation | None:
    match = ARGUMENT_COUNT.match(evidence.message)
    if not match or evidence.line is None:
        return None
    name = match["function"].rsplit(".", 1)[-1]
    defined = evidence.model.function_named(name)
    where = f" (defined on line {defined.line})" if defined else ""
    if match["missing"]:
        names = match["names"].replace(" and ", ", ").replace("'", "`")
        return Explanation(
            cause="missing_argument",
            title=f"`{name}()` is called without {names}",
            explanation=(
                f"On line {evidence.line}, `{_code(evidence.code)}` calls `{name}()`{where} with fewer values than it "
                f"takes: nothing is given for {names}."
            ),
            fix=f"Give `{name}()` a value for {names} on line {evidence.line}, or call it the way it is defined.",
            line=evidence.line,
        )
    if match["keyword"]:
        keyword = match["keyword"]
        known = tuple(param.name for param in defined.params) if defined else ()
        nearest = _nearest(keyword, known)
        patch = replace_in_line(evidence.model, evidence.line, f"{keyword}=", f"{nearest}=") if nearest else None
        return Explanation(
            cause="unexpected_keyword",
            title=f"`{name}()` has no parameter `{keyword}`",
            explanation=f"On line {evidence.line}, `{name}()`{where} is given `{keyword}=`, a name it does not take.",
            fix=f"Did you mean `{nearest}=`?" if nearest else f"Use the parameter names `{name}()` is defined with.",
            line=evidence.line,
            fix_patch=patch,
        )
    return Explanation(
        cause="extra_argument",
        title=f"`{name}()` is called with too many values",
        explanation=(
            f"On line {evidence.line}, `{_code(evidence.code)}` gives `{name}()`{where} {match['given']} values; "
            f"it takes {match['takes']}."
        ),
        fix=f"Call `{name}()` with as many values as its definition has parameters.",
        line=evidence.line,
    )


def _json_loads_on_dict(evidence: _Evidence) -> Explanation | None:
    if not evidence.message.startswith("the JSON object must be str, bytes or bytearray"):
        return None
    match = re.search(r"json\.loads\(\s*(?P<arg>[A-Za-z_]\w*)\s*\)", evidence.code)
    kind = evidence.message.rsplit("not ", 1)[-1]
    if match is None:
        return None
    patch = replace_in_line(evidence.model, evidence.line, match.group(0), match["arg"])
    return Explanation(
        cause="json_loads_on_dict",
        title="The message is already Python data: `json.loads` is not needed",
        explanation=(
            f"FastAPI has already turned the request's JSON into a Python {kind} before your function runs. "
            f"`json.loads` on line {evidence.line} expects JSON text, so it refused the {kind}."
        ),
        fix=f"Use `{match['arg']}` as it is: write `{match['arg']}` instead of `{match.group(0)}`.",
        line=evidence.line,
        fix_patch=patch,
    )


def _not_serializable(evidence: _Evidence) -> Explanation | None:
    match = re.match(r"Object of type '?(\w+)'? is not JSON serializable", evidence.message)
    if not match:
        return None
    kind = match.group(1)
    hint = {
        "set": "A set has no JSON form: a `{a, b}` with a comma makes a set; a dict needs `key: value`.",
        "coroutine": "A coroutine is a result not awaited yet: put `await` before the call.",
        "bytes": "Bytes are not text: decode them first, or return the parsed message.",
    }.get(kind, f"A {kind} has no JSON form.")
    return Explanation(
        cause="not_serializable",
        title=f"A {kind} cannot be turned into JSON",
        explanation=f"JSON holds objects, arrays, strings, numbers, true/false and null. {hint}",
        fix="Return plain data: a dict, with lists, strings and numbers inside.",
        line=evidence.line,
        raised_by_framework=evidence.frame is None,
    )


def _string_indexed(evidence: _Evidence) -> Explanation | None:
    if not evidence.message.startswith("string indices must be integers"):
        return None
    return Explanation(
        cause="string_indexed",
        title="A string is read as if it were a dict",
        explanation=(
            f"On line {evidence.line}, `{_code(evidence.code)}` reads a key with square brackets from a value that "
            "is text (a string), not a dict. A string's brackets take positions (0, 1, 2), not keys. Text where a dict "
            "was expected often comes from `json.dumps` or `str()`, or from a parameter declared as `str`."
        ),
        fix="Keep the message as the dict FastAPI gives you (`msg: dict`), and read keys from that dict.",
        line=evidence.line,
    )


def _none_value(evidence: _Evidence) -> Explanation | None:
    if "'NoneType'" not in evidence.message or evidence.line is None:
        return None
    return Explanation(
        cause="none_value",
        title="A value is None where data was expected",
        explanation=(
            f"On line {evidence.line}, `{_code(evidence.code)}` uses a value that is None: `{_code(evidence.message)}`. "
            "None comes from a function that returns nothing, from `.get()` on a missing key, or from a variable never set."
        ),
        fix="Find where that value comes from and make sure it holds the data (a function must `return` it).",
        line=evidence.line,
    )


def _mixed_types(evidence: _Evidence) -> Explanation | None:
    if not re.match(
        r"(can only concatenate|unsupported operand type|can't multiply|must be str, not)", evidence.message
    ):
        return None
    if evidence.line is None:
        return None
    return Explanation(
        cause="mixed_types",
        title="Two values of different types are combined",
        explanation=(
            f"On line {evidence.line}, `{_code(evidence.code)}` combines values Python cannot combine: "
            f"`{_code(evidence.message)}`. Text and a dict, for example, cannot be added together."
        ),
        fix="Keep the message as the dict it is and put it in the reply whole, without adding anything to it.",
        line=evidence.line,
    )


# --- UnboundLocalError and NameError --------------------------------------------------------


def _missing_global(evidence: _Evidence) -> Explanation | None:
    quoted = _quoted(evidence.message)
    function = evidence.function
    if not quoted or function is None:
        return None
    name = quoted[0]
    defined = evidence.model.module_names.get(name)
    if defined is None:
        return Explanation(
            cause="used_before_assignment",
            title=f"`{name}` is used before it is given a value",
            explanation=(
                f"On line {evidence.line}, `{_code(evidence.code)}` reads `{name}`, but in `{function.name}` it only "
                "gets a value further down (or on a path that did not run)."
            ),
            fix=f"Give `{name}` a value before line {evidence.line}.",
            line=evidence.line,
        )
    body = function.body_line
    first = evidence.model.line_text(body)
    indent = first[: len(first) - len(first.lstrip())]
    patch = None
    if body > function.line and first.strip() and not evidence.model.line_text(function.line).rstrip().endswith(";"):
        patch = FixPatch(line=body, before=first, after=f"{indent}global {name}\n{first}")
    return Explanation(
        cause="missing_global",
        title=f"`{name}` needs `global {name}` inside `{function.name}`",
        explanation=(
            f"`{name}` is created at the top of your file (line {defined}), but line {evidence.line} "
            f"(`{_code(evidence.code)}`) assigns to it inside the function `{function.name}`. Assigning makes Python "
            f"treat `{name}` as a new local variable of the function, which has no value yet when it is read: "
            "UnboundLocalError."
        ),
        fix=(
            f"Add `global {name}` as the first line of `{function.name}`. Keep in mind that a value kept between "
            "requests is shared by every client and lost when the server restarts."
        ),
        line=evidence.line,
        fix_patch=patch,
    )


def _name_error(evidence: _Evidence) -> Explanation | None:
    match = re.match(r"name '(\w+)' is not defined", evidence.message)
    if not match:
        return None
    name = match.group(1)
    model, line = evidence.model, evidence.line
    if not re.search(rf"(?<![\w.]){name}\b", evidence.code):
        return None  # the line does not use the name: no evidence to point at
    if name in JSON_LITERALS:
        right = JSON_LITERALS[name]
        return Explanation(
            cause="json_literal",
            title=f"`{name}` is JSON; Python writes `{right}`",
            explanation=f"Line {line} writes `{name}`, JSON's spelling. In Python the value is `{right}`, with a capital.",
            fix=f"Write `{right}` instead of `{name}`.",
            line=line,
            fix_patch=replace_in_line(model, line, name, right, word=True),
        )
    if name in IMPORTED_FROM:
        return _missing_import(evidence, name)
    nearest = _nearest(name, model.names_in_scope(line))
    if nearest is None:
        return _parameter_named_otherwise(evidence, name)
    return Explanation(
        cause="name_typo",
        title=f"`{name}` is not defined: did you mean `{nearest}`?",
        explanation=(
            f"Line {line} uses the name `{name}`, which your code never defines. The closest name that exists "
            f"there is `{nearest}`."
        ),
        fix=f"Write `{nearest}` instead of `{name}` on line {line}.",
        line=line,
        fix_patch=replace_in_line(model, line, name, nearest, word=True),
    )


def _missing_import(evidence: _Evidence, name: str) -> Explanation:
    """A name of FastAPI, pydantic, typing or the standard library used without its import."""
    model, line = evidence.model, evidence.line
    module = IMPORTED_FROM[name]
    statement = f"import {name}" if module == name else f"from {module} import {name}"
    existing = model.find(rf"^from\s+{re.escape(module)}\s+import\s+[\w\s,]+$") if module != name else None
    patch = None
    if existing is not None:
        # Add the name to the import the file already has from that module.
        written = model.line_text(existing)
        patch = FixPatch(line=existing, before=written, after=f"{written.rstrip()}, {name}")
        statement = patch.after.strip()
    else:
        first = next((i.line for i in model.imports), None) or next(
            (n for n in range(1, len(model.lines) + 1) if model.code(n) and not model.code(n).startswith("#")), None
        )
        if first is not None and line is not None:
            written = model.line_text(first)
            patch = FixPatch(line=first, before=written, after=f"{statement}\n{written}")
    return Explanation(
        cause="missing_import",
        title=f"`{name}` is used but never imported",
        explanation=f"Line {line} uses `{name}`, but your file never imports it, so Python does not know the name.",
        fix=f"Import it at the top of your file: `{statement}`.",
        line=line,
        fix_patch=patch,
    )


def _parameter_named_otherwise(evidence: _Evidence, name: str) -> Explanation | None:
    """``def echo(payload: dict): return {"received": msg}``: the message is used under another name."""
    function = evidence.function
    if function is None or evidence.model.route_of(function) is None:
        return None
    body = function.body_params
    if len(body) != 1 or name in evidence.model.module_names or name.lower() not in MESSAGE_NAMES:
        return None
    param = body[0]
    return Explanation(
        cause="parameter_named_otherwise",
        title=f"The message is called `{param.name}` here, not `{name}`",
        explanation=(
            f"Line {evidence.line} uses `{name}`, which is defined nowhere. The message your endpoint receives is its "
            f"parameter, and in `{function.name}` (line {function.line}) you called it `{param.name}`: the name in the "
            "`def` line is the one to use inside the function."
        ),
        fix=f"Write `{param.name}` instead of `{name}` on line {evidence.line} (or rename the parameter `{name}`).",
        line=evidence.line,
        fix_patch=replace_in_line(evidence.model, evidence.line, name, param.name, word=True),
    )


# --- RecursionError ---------------------------------------------------------------------------


def _endless_recursion(evidence: _Evidence) -> Explanation | None:
    function = evidence.function
    if function is None or not any(call.name == function.name for call in function.calls):
        return None
    call = next(call for call in function.calls if call.name == function.name)
    return Explanation(
        cause="endless_recursion",
        title=f"`{function.name}` calls itself without end",
        explanation=(
            f"Line {call.line} (`{_code(call.text)}`) calls `{function.name}` from inside `{function.name}`, which "
            "calls it again, and again, until Python gives up (RecursionError). A function that calls itself needs "
            "a case where it stops."
        ),
        fix=(
            f"Do not call `{function.name}` inside itself; if you meant another function or a value with a similar "
            "name, give them different names."
        ),
        line=call.line,
    )


# --- AttributeError -------------------------------------------------------------------------


OBJECT_ATTRIBUTE = re.compile(r"^'(?P<type>\w+)' object has no attribute '(?P<name>\w+)'")
MODULE_ATTRIBUTE = re.compile(r"^module '(?P<module>[\w.]+)' has no attribute '(?P<name>\w+)'")


def _attribute_error(evidence: _Evidence) -> Explanation | None:
    match = OBJECT_ATTRIBUTE.match(evidence.message) or MODULE_ATTRIBUTE.match(evidence.message)
    if not match:
        return None
    name = match["name"]
    if not re.search(rf"\.\s*{name}\b", evidence.code):
        return None  # the line does not read it: some other code did, and this line cannot be blamed
    owner = match.groupdict().get("type") or match.groupdict().get("module") or ""
    known = TYPE_ATTRIBUTES.get(owner) or MODULE_ATTRIBUTES.get(owner) or _class_attributes(evidence.model, owner)
    nearest = _nearest(name, known)
    line = evidence.line
    if owner == "dict" and nearest is None:
        base = re.search(r"(?P<base>[A-Za-z_]\w*)\." + re.escape(name) + r"\b(?!\s*\()", evidence.code)
        patch = None
        if base:
            patch = replace_in_line(evidence.model, line, f"{base['base']}.{name}", f'{base["base"]}["{name}"]')
        return Explanation(
            cause="attribute_on_dict",
            title=f'A dict\'s keys are read with brackets: `["{name}"]`, not `.{name}`',
            explanation=(
                f"On line {line}, `{_code(evidence.code)}` reads `.{name}` from a dict. A dict holds keys, read as "
                f'`msg["{name}"]`; a dot reads an attribute, and a dict has no attribute `{name}`.'
            ),
            fix=f'Write `["{name}"]` instead of `.{name}`.',
            line=line,
            fix_patch=patch,
        )
    if nearest is None:
        return None
    what = f"the module `{owner}`" if "module" in match.groupdict() else OWNER_WORDS.get(owner, f"a `{owner}`")
    return Explanation(
        cause="attribute_typo",
        title=f"`.{name}` does not exist on {what}: did you mean `.{nearest}`?",
        explanation=(
            f"On line {line}, `{_code(evidence.code)}` asks {what} for `{name}`, which it does not have. "
            f"Python's names are exact, capitals included; the closest one it has is `{nearest}`."
        ),
        fix=f"Write `.{nearest}` instead of `.{name}`.",
        line=line,
        fix_patch=replace_in_line(evidence.model, line, f".{name}", f".{nearest}", word=True),
    )


def _class_attributes(model: SourceModel, name: str) -> tuple[str, ...]:
    """What an object of the file's own class ``name`` has, as far as its source shows."""
    declared = model.class_named(name)
    if declared is None:
        return ()
    fields = tuple(field for field, _, _ in declared.fields)
    return fields + (PYDANTIC_METHODS if declared.pydantic else ())


# --- KeyError, IndexError, ValueError, json errors ----------------------------------------


def _missing_key(evidence: _Evidence) -> Explanation | None:
    quoted = re.fullmatch(r"""(['"])(?P<key>.{1,100})\1""", evidence.message.strip())
    if quoted is None:
        return None
    key = quoted["key"]
    tree = _statement(evidence.code)
    reads = [
        node
        for node in (ast.walk(tree) if tree else ())
        if isinstance(node, ast.Subscript)
        and isinstance(node.ctx, ast.Load)
        and isinstance(node.slice, ast.Constant)
        and node.slice.value == key
    ]
    if not reads:
        return None
    read = reads[0]
    code = evidence.code.strip()
    written = ast.get_source_segment(code, read) or ""
    holder = ast.get_source_segment(code, read.value) or "the dict"
    is_message = isinstance(read.value, ast.Name) and read.value.id in _body_param_names(evidence)
    what = "the message the grader sent" if is_message else f"`{_code(holder)}`"
    patch = replace_in_line(evidence.model, evidence.line, written, f'{holder}.get("{key}")') if written else None
    return Explanation(
        cause="missing_key",
        title=f'The key "{key}" is not always there',
        explanation=(
            f'On line {evidence.line}, `{_code(written)}` reads the key "{key}", and {what} has no such key: '
            "reading a missing key with square brackets stops with KeyError."
            + (" The grader sends messages of every shape, so no key can be counted on." if is_message else "")
        ),
        fix=f'Read it with `{holder}.get("{key}")`, which gives None when the key is missing, or do not read it at all.',
        line=evidence.line,
        fix_patch=patch,
    )


def _empty_sequence(evidence: _Evidence) -> Explanation | None:
    if "index out of range" not in evidence.message or evidence.line is None:
        return None
    return Explanation(
        cause="empty_sequence",
        title="A position is read that is not there",
        explanation=(
            f"On line {evidence.line}, `{_code(evidence.code)}` reads an item by its position, and there are fewer "
            "items than that: an empty message has no first key, for example."
        ),
        fix="Do not count on a message having any particular field or length: send it back whole.",
        line=evidence.line,
    )


def _json_decode(evidence: _Evidence) -> Explanation | None:
    if evidence.exception != "JSONDecodeError" and not evidence.message.startswith("Expecting"):
        return None
    stringified = re.search(r"json\.loads\(\s*str\(\s*(?P<arg>[A-Za-z_]\w*)\s*\)\s*\)", evidence.code)
    if stringified:
        return Explanation(
            cause="json_decode",
            title="`str()` of a dict is not JSON",
            explanation=(
                f"On line {evidence.line}, `str({stringified['arg']})` writes the dict the way Python prints it (with "
                "single quotes), which is not JSON, so `json.loads` cannot read it back. And it does not need to: "
                "the message is already a dict."
            ),
            fix=f"Use `{stringified['arg']}` itself instead of `{stringified.group(0)}`.",
            line=evidence.line,
            fix_patch=replace_in_line(evidence.model, evidence.line, stringified.group(0), stringified["arg"]),
        )
    if "json.loads" not in evidence.code and "json.load(" not in evidence.code:
        return None
    return Explanation(
        cause="json_decode",
        title="`json.loads` was given text that is not JSON",
        explanation=(
            f"On line {evidence.line}, `json.loads` could not read its text as JSON: `{_code(evidence.message)}`. "
            "FastAPI already reads the request's JSON for you when the parameter is declared `msg: dict`."
        ),
        fix="Declare the parameter `msg: dict` and use it as it is, without `json.loads`.",
        line=evidence.line,
    )


def _bad_conversion(evidence: _Evidence) -> Explanation | None:
    match = re.match(r"invalid literal for (?P<kind>int|float)\(\)", evidence.message)
    if not match or evidence.line is None:
        return None
    return Explanation(
        cause="bad_conversion",
        title=f"`{match['kind']}()` was given text that is not a number",
        explanation=(
            f"On line {evidence.line}, `{_code(evidence.code)}` turns a value into a number, and the value was not one: "
            f"`{_code(evidence.message)}`."
        ),
        fix="Send the values back as they arrived; do not convert them.",
        line=evidence.line,
    )


def _brackets_for_call(evidence: _Evidence) -> Explanation | None:
    """``msg.get["text"]``: square brackets after a method, where round ones call it."""
    if not re.match(r"'(builtin_function_or_method|method|function)' object is not subscriptable", evidence.message):
        return None
    code = evidence.code.strip()
    tree = _statement(code)
    for node in ast.walk(tree) if tree else ():
        if isinstance(node, ast.Subscript) and isinstance(node.value, (ast.Attribute, ast.Name)):
            written = ast.get_source_segment(code, node) or ""
            callee = ast.get_source_segment(code, node.value) or ""
            inside = ast.get_source_segment(code, node.slice) or ""
            if not written or not callee:
                continue
            return Explanation(
                cause="brackets_for_call",
                title=f"`{callee}` is called with round brackets: `{callee}({inside})`",
                explanation=(
                    f"On line {evidence.line}, `{_code(written)}` puts square brackets after `{callee}`, a function. "
                    "Square brackets read an item of a dict or list; a function is called with round brackets."
                ),
                fix=f"Write `{callee}({inside})` instead of `{_code(written)}`.",
                line=evidence.line,
                fix_patch=replace_in_line(evidence.model, evidence.line, written, f"{callee}({inside})"),
            )
    return None


def _string_method_on_value(evidence: _Evidence) -> Explanation | None:
    """``value.strip()`` on every value: numbers, booleans, null and nested values have no string methods."""
    match = OBJECT_ATTRIBUTE.match(evidence.message)
    if not match or match["type"] not in VALUE_TYPES or match["name"] not in STRING_METHODS:
        return None
    if not re.search(rf"\.{match['name']}\b", evidence.code):
        return None
    kind, method = VALUE_TYPES[match["type"]], match["name"]
    return Explanation(
        cause="string_method_on_value",
        title=f"`.{method}()` is a string's method, and not every value is a string",
        explanation=(
            f"On line {evidence.line}, `{_code(evidence.code)}` calls `.{method}()` on a value that was {kind}. "
            "A message's values can be numbers, true/false, null, lists or objects as well as strings, and only "
            f"strings have `.{method}()`."
        ),
        fix="Send the values back as they came, without calling string methods on them.",
        line=evidence.line,
    )


def _json_method_on_dict(evidence: _Evidence) -> Explanation | None:
    """``msg.json()`` on the dict FastAPI already made (as on a ``requests`` response)."""
    match = re.match(r"'dict' object has no attribute '(json|body|text|content)'", evidence.message)
    if not match:
        return None
    call = re.search(r"(?P<name>[A-Za-z_]\w*)\." + match.group(1) + r"\(\s*\)", evidence.code)
    if call is None:
        return None
    return Explanation(
        cause="method_on_message",
        title=f"`{call['name']}` is already the message: it has no `.{match.group(1)}()`",
        explanation=(
            f"On line {evidence.line}, `{call.group(0)}` asks the message for `.{match.group(1)}()`, as one does with "
            f"a response from `requests` or with FastAPI's `Request`. Your parameter `{call['name']}` is already the "
            "request's JSON turned into a dict by FastAPI, and a dict has no such method."
        ),
        fix=f"Use `{call['name']}` itself instead of `{call.group(0)}`.",
        line=evidence.line,
        fix_patch=replace_in_line(evidence.model, evidence.line, call.group(0), call["name"]),
    )


def _form_without_parser(evidence: _Evidence) -> Explanation | None:
    """Forms need python-multipart, which the runtime does not have; and the grader sends JSON."""
    if "python-multipart" not in evidence.message:
        return None
    route = evidence.route or _route_at(evidence.model, evidence.line)
    form = None
    if route is not None:
        form = next((p for p in route.function.params if p.marker in ("Form", "File")), None)
    line = form.line if form is not None else evidence.line
    what = f"`{form.name}: {form.annotation} = {form.default}`" if form is not None else f"`{_code(evidence.code)}`"
    return Explanation(
        cause="form_not_json",
        title="The message is JSON, not a form",
        explanation=(
            f"{what} on line {line} reads an HTML form. The grader sends JSON, and forms need the package "
            "python-multipart, which the grading runtime does not have, so FastAPI stopped."
        ),
        fix="Take the message as JSON: one parameter `msg: dict`, and return it.",
        line=line,
        raised_by_framework=form is not None,
    )


def _misspelt_module(evidence: _Evidence) -> Explanation | None:
    """``from FastAPI import FastAPI``: a module's name written another way than it is."""
    match = re.match(r"No module named '(?P<module>[\w.]+)'", evidence.message)
    if not match:
        return None
    module = match["module"].split(".")[0]
    nearest = _nearest(module, evidence.model.packages + COMMON_MODULES)
    if nearest is None:
        return None
    line = evidence.line
    patch = None
    written = re.match(rf"^(\s*(?:from|import)\s+){re.escape(module)}\b", evidence.model.line_text(line))
    if written is not None:
        patch = replace_in_line(evidence.model, line, written.group(0), written.group(1) + nearest)
    return Explanation(
        cause="misspelt_module",
        title=f"The module is `{nearest}`, not `{module}`",
        explanation=(
            f"Line {line} imports `{module}`, and no module has that name: Python's names are exact, capitals included. "
            f"The package is `{nearest}`."
        ),
        fix=f"Write `{nearest}` instead of `{module}` on line {line}.",
        line=line,
        fix_patch=patch,
    )


def _misspelt_import_name(evidence: _Evidence) -> Explanation | None:
    """``from fastapi import fastapi``: a name the module does not have, close to one it has."""
    match = re.match(r"cannot import name '(?P<name>\w+)' from '(?P<module>[\w.]+)'", evidence.message)
    if not match:
        return None
    name, module = match["name"], match["module"]
    nearest = _nearest(name, MODULE_ATTRIBUTES.get(module.split(".")[0], ()))
    if nearest is None:
        return None
    return Explanation(
        cause="misspelt_import",
        title=f"`{module}` has no `{name}`: did you mean `{nearest}`?",
        explanation=(
            f"Line {evidence.line} imports `{name}` from `{module}`, which has no such name. Python's names are exact, "
            f"capitals included: the class is `{nearest}`."
        ),
        fix=f"Import `{nearest}` instead of `{name}`, and use `{nearest}` wherever you wrote `{name}`.",
        line=evidence.line,
        fix_patch=_renamed_everywhere(evidence.model, evidence.line, name, nearest),
    )


def _renamed_everywhere(model: SourceModel, line: int | None, old: str, new: str) -> FixPatch | None:
    """One edit renaming ``old`` to ``new`` among the names the import ``line`` takes and in every later
    use, when the uses sit close below it (else None)."""
    head, _, names = model.line_text(line).partition(" import ")
    if line is None or not names:
        return None
    renamed_names = re.sub(rf"(?<![\w.]){re.escape(old)}(?!\w)", new, names)
    after = [f"{head} import {renamed_names}"]
    last = line
    for number in range(line + 1, len(model.lines) + 1):
        renamed = replace_in_line(model, number, old, new, word=True)
        if renamed is not None:
            last = number
    if last - line > MAX_RENAMED_SPAN:
        return None
    for number in range(line + 1, last + 1):
        renamed = replace_in_line(model, number, old, new, word=True)
        after.append(renamed.after if renamed is not None else model.line_text(number))
    before = "\n".join(model.line_text(number) for number in range(line, last + 1))
    return FixPatch(line=line, before=before, after="\n".join(after))


# --- raised by the framework ----------------------------------------------------------------


INPUT_TYPES = {"dict": "dict", "list": "list", "str": "str", "int": "int", "float": "float", "bool": "bool"}


def _response_model_refused(evidence: _Evidence) -> Explanation | None:
    """The 500 after a handler returned what its ``response_model`` (or its ``-> type``) refuses.

    When the refused value is a field the model declares with another type, the edit gives the
    field the type returned; when the reply lacks the model's fields altogether (the model
    describes something else, often the incoming message), the edit removes the declaration.
    """
    if evidence.exception != "ResponseValidationError":
        return None
    route = evidence.route
    if route is None:
        return None
    function = route.function
    if route.response_model is not None and route.response_model != "None":
        declared_as, declared_line = f"response_model={route.response_model}", route.line
    elif route.response_model is None and function.return_annotation is not None:
        declared_as, declared_line = f"-> {function.return_annotation}", function.line
    else:
        return None
    model_name = declared_as.split("=", 1)[-1].removeprefix("-> ").rsplit(".", 1)[-1]
    declared = evidence.model.class_named(model_name)
    issue = evidence.issues[0] if evidence.issues else None
    field = str(issue.loc[1]) if issue is not None and len(issue.loc) > 1 else None
    field_line = declared.field_line(field) if declared is not None and field else None
    said = (
        f" (pydantic: {issue.msg.lower()} at {'.'.join(str(p) for p in issue.loc[1:]) or 'the reply'})" if issue else ""
    )
    returned = function.returns[-1] if function.returns else None
    retype = field_line is not None and issue is not None and issue.type != "missing"
    if retype and declared is not None and issue is not None and field is not None and field_line is not None:
        # The field's value was refused (or something inside it): give the field the type returned.
        kind = ("dict" if isinstance(issue.loc[2], str) else "list") if len(issue.loc) > 2 else issue.input_kind
        annotation = next((a for _, a, line in declared.fields if line == field_line), "")
        patch = None
        if kind in INPUT_TYPES and annotation and annotation != kind:
            patch = replace_in_line(evidence.model, field_line, f"{field}: {annotation}", f"{field}: {kind}")
        where = f"the field `{field}` of `{model_name}` (line {field_line}: `{_code(evidence.model.code(field_line))}`)"
        fix = (
            f"Declare `{field}` with the type you return: `{field}: {kind}` on line {field_line}."
            if kind in INPUT_TYPES
            else f"Declare `{field}` on line {field_line} with the type of what you return."
        )
        line = field_line
    else:
        patch = _without_declaration(evidence.model, route, declared_as)
        where = f"`{_code(declared_as)}` on line {declared_line}"
        fix = (
            f"Remove `{_code(declared_as)}` from line {declared_line}: FastAPI checks the reply against it, and your "
            "reply is not what it describes."
        )
        line = declared_line
    return Explanation(
        cause="response_model_refused",
        title=f"Your reply does not fit `{_code(declared_as)}`",
        explanation=(
            f"Your function `{function.name}` returned"
            + (f" `{_code(returned.text)}` (line {returned.line})" if returned else " its reply")
            + f", then FastAPI checked it against {where} and refused it{said}. No line of yours was running: "
            "FastAPI raised the error itself and answered 500 Internal Server Error."
        ),
        fix=fix,
        line=line,
        fix_patch=patch,
        raised_by_framework=True,
    )


def _without_declaration(model: SourceModel, route: Route, declared_as: str) -> FixPatch | None:
    """The edit that removes ``response_model=...`` from the decorator, or ``-> type`` from the ``def`` line."""
    if declared_as.startswith("->"):
        return replace_in_line(model, route.function.line, f" {declared_as}", "")
    for written in (f", {declared_as}", f",{declared_as}", f"{declared_as}, ", declared_as):
        patch = replace_in_line(model, route.line, written, "")
        if patch is not None:
            return patch
    return None


def _invalid_field_type(evidence: _Evidence) -> Explanation | None:
    """FastAPI refusing, while the file loads, a type it cannot read a body into or write a reply from."""
    match = re.search(
        r"check that <class '(?:solution\.)?(?P<name>[\w.]+)'> is a valid Pydantic field type", evidence.message
    )
    if not match:
        return None
    name = match["name"].rsplit(".", 1)[-1]
    declared = evidence.model.class_named(name)
    route = evidence.route or _route_at(evidence.model, evidence.line)
    if declared is None or route is None or declared.pydantic:
        return None
    line = route.line
    patch = None
    if "BaseModel" in evidence.model.names_in_scope() and not declared.bases:
        patch = replace_in_line(evidence.model, declared.line, f"class {name}:", f"class {name}(BaseModel):")
    return Explanation(
        cause="invalid_field_type",
        title=f"`{name}` is a plain class; FastAPI needs a pydantic model or a dict",
        explanation=(
            f"While your file was loading, FastAPI refused the route on line {route.line}: `{name}` (line "
            f"{declared.line}) is a plain Python class, so FastAPI does not know how to read a request's JSON into it. "
            "It reads bodies into a `dict` or into a pydantic model (`class Message(BaseModel)`)."
        ),
        fix=f"Declare the parameter as `msg: dict`, or make `{name}` a model: `class {name}(BaseModel):`.",
        line=line,
        fix_patch=patch,
        raised_by_framework=True,
    )


def _route_at(model: SourceModel, line: int | None) -> Route | None:
    """The route whose decorator holds ``line`` (FastAPI raises there while the file loads)."""
    return next((route for route in model.routes if line is not None and route.line <= line <= route.end_line), None)


URL_MARKERS = {"Query": "the URL's query string (`?msg=...`)", "Path": "the URL's path", "Header": "a header"}


def _complex_from_url(evidence: _Evidence) -> Explanation | None:
    """``msg: dict = Query()``: a dict cannot come from the URL; FastAPI refuses the route at load."""
    route = _route_at(evidence.model, evidence.line)
    if route is None:
        return None
    for param in route.function.params:
        kind = (param.annotation_type or "").rsplit(".", 1)[-1]
        declared = evidence.model.class_named(kind)
        complex_type = kind in {"dict", "Dict", "list", "List"} or (declared is not None and declared.pydantic)
        if param.marker not in URL_MARKERS or not complex_type:
            continue
        patch = None
        if param.default and param.default == f"{param.marker}()":
            patch = replace_in_line(evidence.model, param.line, f" = {param.default}", "") or replace_in_line(
                evidence.model, param.line, f"={param.default}", ""
            )
        return Explanation(
            cause="complex_parameter_from_url",
            title=f"`{param.name}: {param.annotation}` cannot come from {URL_MARKERS[param.marker].split(' (')[0]}",
            explanation=(
                f"`{param.default}` on line {param.line} tells FastAPI to read `{param.name}` from "
                f"{URL_MARKERS[param.marker]}, which holds only plain text values, never a {kind}. FastAPI refused the "
                f"route on line {route.line} while your file was loading. The message comes in the request's body."
            ),
            fix=f"Remove `= {param.default}`: `{param.name}: {param.annotation}` alone makes FastAPI read it from the body.",
            line=param.line,
            fix_patch=patch,
            raised_by_framework=True,
        )
    return None


def _route_refused(evidence: _Evidence) -> Explanation | None:
    """Any other error FastAPI raised while registering a route as the file loaded."""
    route = _route_at(evidence.model, evidence.line)
    if route is None or evidence.exception not in LOAD_TIME_FRAMEWORK_ERRORS:
        return None
    said = f" (`{evidence.exception}: {_code(evidence.message)}`)" if evidence.message else f" (`{evidence.exception}`)"
    return Explanation(
        cause="route_refused",
        title=f"FastAPI refused the route declared on line {route.line}",
        explanation=(
            f"While your file was loading, FastAPI checked the route `{_code(route.text)}` and the parameters of "
            f"`{route.function.name}` (line {route.function.line}), and refused them{said}. The error comes from FastAPI, "
            "not from a line of yours that ran."
        ),
        fix=(
            f"Check the decorator's arguments and the parameters of `{route.function.name}`: for this exercise "
            '`@app.post("/message")` and one parameter `msg: dict` are all it takes.'
        ),
        line=route.line,
        raised_by_framework=True,
    )


LOAD_TIME_FRAMEWORK_ERRORS = {
    "AssertionError",
    "FastAPIError",
    "PydanticSchemaGenerationError",
    "PydanticUserError",
    "ValueError",
    "TypeError",
    "RuntimeError",
}
"""What FastAPI and pydantic raise when they refuse a route's declaration."""


def _returns_request(evidence: _Evidence) -> Explanation | None:
    """The ``Request`` object returned (or put in the reply): FastAPI cannot turn it into JSON."""
    route = evidence.route
    if route is None or evidence.frame is not None:
        return None
    requests = {param.name for param in route.function.params if param.is_request}
    returned = next(
        (r for r in route.function.returns if r.text in requests or any(v in requests for v in r.values)), None
    )
    if returned is None:
        return None
    return Explanation(
        cause="returns_request",
        title="The reply holds the request object, not the message",
        explanation=(
            f"Line {returned.line} returns `{_code(returned.text)}`: FastAPI's `Request` is the whole incoming request "
            "(headers, connection, a body still to be read), and FastAPI cannot turn it into JSON, so it failed after "
            "your function returned and answered 500."
        ),
        fix='Return the message itself: declare the parameter `msg: dict` and return `{"received": msg}`.',
        line=returned.line,
        raised_by_framework=True,
    )


def _framework_raised(evidence: _Evidence) -> Explanation | None:
    """Raised with no line of the learner's running: say so, and point at the route that set it up."""
    route = evidence.route
    if route is None:
        return None
    return Explanation(
        cause="framework_raised",
        title=f"FastAPI raised {evidence.exception} while handling your route",
        explanation=(
            f"No line of yours was running when `{evidence.exception}: {_code(evidence.message)}` was raised: FastAPI "
            f"raised it itself, before calling `{route.function.name}` or after it returned, while following what "
            f"your route declares (line {route.line}: `{_code(route.text)}`)."
        ),
        fix="Check what the decorator and the parameters declare against what the function receives and returns.",
        line=route.line,
        raised_by_framework=True,
    )


ANY_EXCEPTION: tuple[_Rule, ...] = (_missing_await, _input_in_handler, _form_without_parser)
"""Rules tried whatever the exception."""

RULES: dict[str, tuple[_Rule, ...]] = {
    "TypeError": (
        _set_instead_of_dict,
        _brackets_for_call,
        _dict_as_key,
        _called_not_callable,
        _argument_count,
        _json_loads_on_dict,
        _not_serializable,
        _string_indexed,
        _none_value,
        _mixed_types,
    ),
    "ValueError": (_not_serializable, _bad_conversion),
    "UnboundLocalError": (_missing_global,),
    "NameError": (_name_error,),
    "RecursionError": (_endless_recursion,),
    "AttributeError": (_json_method_on_dict, _string_method_on_value, _attribute_error, _none_value),
    "ModuleNotFoundError": (_misspelt_module,),
    "ImportError": (_misspelt_import_name,),
    "KeyError": (_missing_key,),
    "IndexError": (_empty_sequence,),
    "JSONDecodeError": (_json_decode,),
    "ResponseValidationError": (_response_model_refused,),
    "FastAPIError": (_invalid_field_type,),
    "AssertionError": (_complex_from_url,),
}
LAST_RESORT: tuple[_Rule, ...] = (_complex_from_url, _route_refused, _returns_request)
"""Rules tried when the family's own found nothing: what FastAPI refuses while the file loads."""
"""Each exception family's rules, tried in order; the first that finds its evidence explains it."""
