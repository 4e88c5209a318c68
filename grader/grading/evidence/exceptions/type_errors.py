"""TypeError, as a tutor reads it: a set where a dict was meant, a dict called like a function,
arguments missing or extra, ``json.loads`` on the dict FastAPI made, square brackets after a method."""

from __future__ import annotations

import ast
import re

from grader.grading.evidence.exceptions.common import (
    Evidence,
    Explanation,
    body_param_names,
    closest_name,
    quoted_names,
    replace_in_line,
    shown,
    statement,
    text_made_by,
    value_read_on_line,
)


def set_instead_of_dict(evidence: Evidence) -> Explanation | None:
    """``{"received", msg}`` is a set (a comma where a colon goes); a set cannot hold a dict."""
    if not evidence.message.startswith("unhashable type"):
        return None
    tree = statement(evidence.code)
    found = [node for node in ast.walk(tree) if isinstance(node, ast.Set)] if tree else []
    if not found:
        return None
    literal = found[0]
    kind = quoted_names(evidence.message)[0] if quoted_names(evidence.message) else "dict"
    patch, fixed = None, ""
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
            f"On line {evidence.line}, `{shown(evidence.code)}` writes `{{a, b}}` with a comma. With a comma Python "
            f"builds a set (a bag of separate values), not a dict (key: value pairs), and a set cannot hold a {kind}: "
            f"hence `TypeError: unhashable type: '{kind}'`."
        ),
        fix=f"Put a colon between each key and its value: `{shown(fixed)}`."
        if fixed
        else 'Put a colon between the key and its value: `{"received": msg}`.',
        line=evidence.line,
        fix_patch=patch,
    )


def dict_as_key(evidence: Evidence) -> Explanation | None:
    """``{msg: "received"}``: the message used as a key (key and value swapped)."""
    if not evidence.message.startswith("unhashable type"):
        return None
    tree = statement(evidence.code)
    dicts = [node for node in ast.walk(tree) if isinstance(node, ast.Dict)] if tree else []
    params = body_param_names(evidence)
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
                        f"hence `TypeError: {shown(evidence.message)}`."
                    ),
                    fix=f'Put the key first and the message after the colon: `{{"received": {key.id}}}`.',
                    line=evidence.line,
                    fix_patch=patch,
                )
    return None


def called_not_callable(evidence: Evidence) -> Explanation | None:
    match = re.match(r"'(\w+)' object is not callable", evidence.message)
    if not match:
        return None
    kind = match.group(1)
    tree = statement(evidence.code)
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
            f"On line {evidence.line}, `{shown(written)}` calls `{name}` with brackets `( )`, as if it were a "
            f"function. `{name}` holds a {kind}, and a {kind} cannot be called: {reading}."
        ),
        fix=f"Write `{replacement}` instead of `{shown(written)}`."
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


def class_not_called(evidence: Evidence) -> Explanation | None:
    """``app = FastAPI`` (no brackets): ``@app.post(...)`` then calls the class's method without an app."""
    match = re.match(
        r"(?P<cls>FastAPI|APIRouter)\.(?P<method>\w+)\(\) missing 1 required positional argument", evidence.message
    )
    if match is None:
        return None
    cls = match["cls"]
    binding = evidence.model.find(rf"^\s*(?P<name>[A-Za-z_]\w*)\s*=\s*(?:fastapi\.)?{cls}\s*(#.*)?$")
    if binding is None:
        return None
    written = evidence.model.line_text(binding)
    name = written.split("=", 1)[0].strip()
    return Explanation(
        cause="class_not_called",
        title=f"`{name} = {cls}` names the class: an app is made with `{cls}()`",
        explanation=(
            f"Line {binding} (`{shown(written)}`) gives `{name}` the class `{cls}` itself, not an application made "
            f"from it, so `@{name}.{match['method']}(...)` on line {evidence.line} calls the class's method with "
            "nothing to put the route on, and Python stopped while loading your file."
        ),
        fix=f"Add the brackets on line {binding}: `{name} = {cls}()`.",
        line=binding,
        fix_patch=replace_in_line(evidence.model, binding, cls, f"{cls}()", word=True),
    )


def argument_count(evidence: Evidence) -> Explanation | None:
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
                f"On line {evidence.line}, `{shown(evidence.code)}` calls `{name}()`{where} with fewer values than it "
                f"takes: nothing is given for {names}."
            ),
            fix=f"Give `{name}()` a value for {names} on line {evidence.line}, or call it the way it is defined.",
            line=evidence.line,
        )
    if match["keyword"]:
        keyword = match["keyword"]
        known = tuple(param.name for param in defined.params) if defined else ()
        nearest = closest_name(keyword, known)
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
            f"On line {evidence.line}, `{shown(evidence.code)}` gives `{name}()`{where} {match['given']} values; "
            f"it takes {match['takes']}."
        ),
        fix=f"Call `{name}()` with as many values as its definition has parameters.",
        line=evidence.line,
    )


def json_loads_on_dict(evidence: Evidence) -> Explanation | None:
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


def not_serializable(evidence: Evidence) -> Explanation | None:
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


def string_indexed(evidence: Evidence) -> Explanation | None:
    """A key read from text: the message turned into a string (``json.dumps``) or declared ``str``."""
    if not evidence.message.startswith("string indices must be integers"):
        return None
    return text_where_dict(evidence, f"reads a key with square brackets from `{value_read_on_line(evidence.code)}`")


def text_where_dict(evidence: Evidence, what: str) -> Explanation:
    """Words for a string used as a dict, naming the line that made it text when the function shows one."""
    name = value_read_on_line(evidence.code) or ""
    made = text_made_by(evidence, name) if name else None
    function = evidence.function
    param = function.param(name) if function is not None and name else None
    if made is not None:
        line, call, argument = made
        patch = replace_in_line(evidence.model, line, call, argument) if argument else None
        return Explanation(
            cause="text_where_dict",
            title=f"`{shown(call)}` on line {line} turned the message into text",
            explanation=(
                f"On line {evidence.line}, `{shown(evidence.code)}` {what}, which holds text: line {line} made it "
                f"with `{shown(call)}`, which writes a value out as a string. A string has no keys; the dict did."
            ),
            fix=f"Keep the dict: write `{argument}` instead of `{shown(call)}` on line {line}."
            if argument
            else f"Do not turn the message into text on line {line}.",
            line=line,
            fix_patch=patch,
        )
    if param is not None and (param.annotation_type or "").rsplit(".", 1)[-1] == "str":
        return Explanation(
            cause="text_where_dict",
            title=f"`{name}: str` makes the message text, not a dict",
            explanation=(
                f"On line {evidence.line}, `{shown(evidence.code)}` {what}. Your parameter is declared "
                f"`{name}: str` (line {param.line}), so it holds text, and text has no keys."
            ),
            fix=f"Declare the parameter `{name}: dict`.",
            line=param.line,
        )
    return Explanation(
        cause="string_indexed",
        title="A string is read as if it were a dict",
        explanation=(
            f"On line {evidence.line}, `{shown(evidence.code)}` {what}, a value that is text (a string), not a dict. "
            "A string's brackets take positions (0, 1, 2), not keys. Text where a dict was expected often comes from "
            "`json.dumps` or `str()`, or from a parameter declared as `str`."
        ),
        fix="Keep the message as the dict FastAPI gives you (`msg: dict`), and read keys from that dict.",
        line=evidence.line,
    )


def none_value(evidence: Evidence) -> Explanation | None:
    if "'NoneType'" not in evidence.message or evidence.line is None:
        return None
    return Explanation(
        cause="none_value",
        title="A value is None where data was expected",
        explanation=(
            f"On line {evidence.line}, `{shown(evidence.code)}` uses a value that is None: `{shown(evidence.message)}`. "
            "None comes from a function that returns nothing, from `.get()` on a missing key, or from a variable never set."
        ),
        fix="Find where that value comes from and make sure it holds the data (a function must `return` it).",
        line=evidence.line,
    )


def mixed_types(evidence: Evidence) -> Explanation | None:
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
            f"On line {evidence.line}, `{shown(evidence.code)}` combines values Python cannot combine: "
            f"`{shown(evidence.message)}`. Text and a dict, for example, cannot be added together."
        ),
        fix="Keep the message as the dict it is and put it in the reply whole, without adding anything to it.",
        line=evidence.line,
    )


def brackets_for_call(evidence: Evidence) -> Explanation | None:
    """``msg.get["text"]``: square brackets after a method, where round ones call it."""
    if not re.match(r"'(builtin_function_or_method|method|function)' object is not subscriptable", evidence.message):
        return None
    code = evidence.code.strip()
    tree = statement(code)
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
                    f"On line {evidence.line}, `{shown(written)}` puts square brackets after `{callee}`, a function. "
                    "Square brackets read an item of a dict or list; a function is called with round brackets."
                ),
                fix=f"Write `{callee}({inside})` instead of `{shown(written)}`.",
                line=evidence.line,
                fix_patch=replace_in_line(evidence.model, evidence.line, written, f"{callee}({inside})"),
            )
    return None
