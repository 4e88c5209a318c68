"""How a function copies the message on its way back, read from its syntax tree.

Two ways a copy changes what the client gets, which the responses show only as a symptom:

* ``KeyChange``: every key changed as the dict is copied (``{k.upper(): v for k, v in msg.items()}``,
  ``out[key.strip()] = value`` in a loop), which the responses show as keys "misspelt" one by one;
* ``Bracketed``: the message put inside square brackets (``[msg]``, ``[{"received": msg}]``), which
  the responses show as an array where an object belongs;
* ``Removal``: a field taken out of the message itself (``msg.pop("text")``, ``del msg["id"]``,
  ``msg.clear()``), which the responses show as fields missing from a reply that sends the message whole;
* ``TruthFilter``: a copy that keeps a field only when its value is true (``if value:`` in a loop
  over ``msg.items()``), which the responses show as the fields whose values are false, 0, null or
  empty missing.

And ``written_keys``: every text the file writes that can become a key (a string literal, a keyword
argument's name as in ``dict(msg=msg)``), so a diagnosis claims "you wrote X" only when the file does.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterable
from dataclasses import dataclass

KEY_METHODS = frozenset(
    {
        "upper",
        "lower",
        "title",
        "capitalize",
        "casefold",
        "swapcase",
        "strip",
        "lstrip",
        "rstrip",
        "replace",
        "removeprefix",
        "removesuffix",
    }
)
"""String methods that change a key, pure and safe to apply again to check what they do."""

MAX_ARGUMENT_CHARS = 100
"""A method's constant argument longer than this is not applied again (``replace`` could make huge text)."""

Segment = Callable[[ast.AST], str]


@dataclass(frozen=True)
class KeyChange:
    """Every key of a dict changed as it is copied.

    line: where the key is changed; key: the changed key as written (``k.upper()``); name: the
    loop's name for the key (``k``); methods: the string methods applied, innermost first, each
    with its constant arguments; source: the dict whose keys are copied (``msg``); copy: the whole
    comprehension as written when it copies ``source`` with only its keys changed (so ``source``
    itself can take its place), else ''.
    """

    line: int
    key: str
    name: str
    methods: tuple[tuple[str, tuple[str, ...]], ...]
    source: str
    copy: str = ""

    def applied(self, key: str) -> str:
        """What the change makes of ``key`` (the same string methods, with the same constant arguments)."""
        for method, arguments in self.methods:
            key = getattr(str, method)(key, *arguments)
        return key


@dataclass(frozen=True)
class Bracketed:
    """A list display of one item that holds a parameter: ``[msg]`` or ``[{"received": msg}]``.

    line: where it is; code: it as written; inner: the item as written; bare: whether the item is
    the parameter itself (not a dict around it).
    """

    line: int
    code: str
    inner: str
    bare: bool


def key_changes(nodes: Iterable[ast.AST], segment: Segment) -> tuple[KeyChange, ...]:
    """The key changes in a function's own nodes, in line order."""
    found: list[KeyChange] = []
    for node in nodes:
        if isinstance(node, ast.DictComp) and len(node.generators) == 1:
            generator = node.generators[0]
            loop = _loop_over_keys(generator.target, generator.iter)
            if loop is None:
                continue
            key_name, value_name, source = loop
            methods = _methods_on(node.key, key_name)
            if methods is None:
                continue
            plain = not generator.ifs and not generator.is_async and _is_value(node.value, value_name, source, key_name)
            single_line = node.lineno == node.end_lineno
            copy = segment(node) if plain and single_line else ""
            found.append(KeyChange(node.key.lineno, segment(node.key), key_name, methods, source, copy))
        elif isinstance(node, (ast.For, ast.AsyncFor)):
            loop = _loop_over_keys(node.target, node.iter)
            if loop is None:
                continue
            key_name, _, source = loop
            for statement in node.body:
                if not isinstance(statement, ast.Assign) or len(statement.targets) != 1:
                    continue
                target = statement.targets[0]
                if not isinstance(target, ast.Subscript):
                    continue
                methods = _methods_on(target.slice, key_name)
                if methods is not None:
                    found.append(KeyChange(statement.lineno, segment(target.slice), key_name, methods, source))
    return tuple(sorted(found, key=lambda change: change.line))


def _loop_over_keys(target: ast.AST, iterated: ast.AST) -> tuple[str, str | None, str] | None:
    """(key name, value name or None, dict name) of ``for k, v in d.items()`` or ``for k in d`` / ``d.keys()``."""
    call = iterated if isinstance(iterated, ast.Call) and not iterated.args and not iterated.keywords else None
    method = call.func if call is not None and isinstance(call.func, ast.Attribute) else None
    base = method.value if method is not None else None
    if method is not None and method.attr == "items" and isinstance(base, ast.Name):
        if isinstance(target, ast.Tuple) and len(target.elts) == 2:
            key, value = target.elts
            if isinstance(key, ast.Name) and isinstance(value, ast.Name):
                return key.id, value.id, base.id
        return None
    if method is not None and method.attr == "keys" and isinstance(base, ast.Name) and isinstance(target, ast.Name):
        return target.id, None, base.id
    if isinstance(iterated, ast.Name) and isinstance(target, ast.Name):
        return target.id, None, iterated.id
    return None


def _methods_on(node: ast.AST, name: str) -> tuple[tuple[str, tuple[str, ...]], ...] | None:
    """The string methods a key expression applies to ``name`` (``name.strip().lower()``), innermost first."""
    methods: list[tuple[str, tuple[str, ...]]] = []
    while True:
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in KEY_METHODS:
            arguments = [arg.value for arg in node.args if isinstance(arg, ast.Constant) and isinstance(arg.value, str)]
            if node.keywords or len(arguments) != len(node.args):
                return None
            if any(len(argument) > MAX_ARGUMENT_CHARS for argument in arguments):
                return None
            methods.append((node.func.attr, tuple(arguments)))
            node = node.func.value
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "str":
            if len(node.args) != 1 or node.keywords:
                return None
            node = node.args[0]
        else:
            break
    if not (isinstance(node, ast.Name) and node.id == name and methods):
        return None
    return tuple(reversed(methods))


def _is_value(node: ast.AST, value_name: str | None, source: str, key_name: str) -> bool:
    """Whether a comprehension's value is the copied dict's own value (``v``, or ``d[k]``)."""
    if value_name is not None:
        return isinstance(node, ast.Name) and node.id == value_name
    return (
        isinstance(node, ast.Subscript)
        and isinstance(node.value, ast.Name)
        and node.value.id == source
        and isinstance(node.slice, ast.Name)
        and node.slice.id == key_name
    )


def bracketed(nodes: Iterable[ast.AST], names: set[str], segment: Segment) -> tuple[Bracketed, ...]:
    """The one-item lists of a function's own nodes that hold one of ``names`` (its parameters)."""
    found = []
    for node in nodes:
        if not isinstance(node, ast.List) or len(node.elts) != 1:
            continue
        item = node.elts[0]
        bare = isinstance(item, ast.Name) and item.id in names
        around = isinstance(item, ast.Dict) and any(
            isinstance(value, ast.Name) and value.id in names for value in item.values
        )
        if bare or around:
            found.append(Bracketed(node.lineno, segment(node), segment(item), bare))
    return tuple(sorted(found, key=lambda listed: listed.line))


@dataclass(frozen=True)
class Removal:
    """A call or statement that takes fields out of a parameter's dict in place.

    line: where it is; name: the parameter; how: ``pop``, ``popitem``, ``clear`` or ``del``;
    code: the call or the ``del`` statement as written; used: whether the call's value is used
    (``text = msg.pop("text")``), not a statement of its own.
    """

    line: int
    name: str
    how: str
    code: str
    used: bool = False


REMOVING_METHODS = frozenset({"pop", "popitem", "clear"})
"""Methods of a dict that take fields out of it."""


def removals(nodes: Iterable[ast.AST], names: set[str], segment: Segment) -> tuple[Removal, ...]:
    """The removals from one of ``names`` (a function's parameters) among its own nodes, in line order."""
    nodes = list(nodes)
    statements = {id(node.value) for node in nodes if isinstance(node, ast.Expr)}
    found = []
    for node in nodes:
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner = node.func.value
            if node.func.attr in REMOVING_METHODS and isinstance(owner, ast.Name) and owner.id in names:
                found.append(Removal(node.lineno, owner.id, node.func.attr, segment(node), id(node) not in statements))
        elif isinstance(node, ast.Delete):
            for target in node.targets:
                if (
                    isinstance(target, ast.Subscript)
                    and isinstance(target.value, ast.Name)
                    and target.value.id in names
                ):
                    found.append(Removal(node.lineno, target.value.id, "del", segment(node)))
    return tuple(sorted(found, key=lambda removal: removal.line))


@dataclass(frozen=True)
class TruthFilter:
    """An ``if`` in a loop over a dict's fields that copies a field only when its value is true.

    line: the ``if``'s line; condition: its test as written (``value``, ``msg[key]``); source: the
    dict whose fields are copied (``msg``).
    """

    line: int
    condition: str
    source: str


def truth_filters(nodes: Iterable[ast.AST], segment: Segment) -> tuple[TruthFilter, ...]:
    """The loops among a function's own nodes that copy a field only when its value is true, in line order.

    The ``if`` must test the value itself (``if value:``, ``if msg[key]:``) and hold the copy
    (``out[key] = ...``); a test of anything else (``if value is not None``) is not one.
    """
    found = []
    for node in nodes:
        if not isinstance(node, (ast.For, ast.AsyncFor)):
            continue
        loop = _loop_over_keys(node.target, node.iter)
        if loop is None:
            continue
        key_name, value_name, source = loop
        for statement in node.body:
            if (
                isinstance(statement, ast.If)
                and not statement.orelse
                and _is_value(statement.test, value_name, source, key_name)
                and any(_copies_a_field(inner, key_name) for inner in statement.body)
            ):
                found.append(TruthFilter(statement.lineno, segment(statement.test), source))
    return tuple(sorted(found, key=lambda truth: truth.line))


def _copies_a_field(statement: ast.stmt, key_name: str) -> bool:
    """Whether ``statement`` is ``out[key] = ...`` with the loop's key."""
    if not isinstance(statement, ast.Assign) or len(statement.targets) != 1:
        return False
    target = statement.targets[0]
    return isinstance(target, ast.Subscript) and isinstance(target.slice, ast.Name) and target.slice.id == key_name


def written_keys(tree: ast.AST) -> dict[str, tuple[int, ...]]:
    """Every text the file writes that can become a key, with the lines it is written on.

    A string literal (``"recieved"``) or a keyword argument's name (``dict(recieved=msg)``).
    """
    found: dict[str, list[int]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            found.setdefault(node.value, []).append(node.lineno)
        elif isinstance(node, ast.keyword) and node.arg is not None:
            found.setdefault(node.arg, []).append(node.lineno)
    return {text: tuple(sorted(set(lines))) for text, lines in found.items()}
