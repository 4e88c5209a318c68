"""Where a learner's file decides the media type of its reply, found by reading the source, never running it.

Starlette and FastAPI take a reply's ``Content-Type`` from, first to last:
a ``content-type`` entry of the ``headers`` given to a response; the
``media_type`` given to it; the response class's own ``media_type``
(``JSONResponse``: application/json, ``PlainTextResponse``: text/plain,
``HTMLResponse``: text/html, ``Response``: none at all, and a class the file
defines inherits it or sets its own); and, for a value returned that is not a
response, the route's ``response_class`` or the app's ``default_response_class``.

``response_site`` reads the file with ``ast`` (on the host, as text) and names
the place that gives the media type the server really sent, looking first in
the endpoint of the case's path and the file's functions it calls, then at its
route and app, then anywhere in the file. It names a place only when what is written there gives exactly that media
type: when the file does not show it (a value computed at run time, a class it
cannot see), there is no site, and the diagnosis says what the server sent
without pointing at a line.
"""

from __future__ import annotations

import ast
import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

from grader.grading.headers import CONTENT_TYPE, JSON_MEDIA_TYPE, media_type

# The media type each known response class sends ("" for none at all).
KNOWN_RESPONSE_CLASSES = {
    "Response": "",
    "StreamingResponse": "",
    "RedirectResponse": "",
    "JSONResponse": JSON_MEDIA_TYPE,
    "ORJSONResponse": JSON_MEDIA_TYPE,
    "UJSONResponse": JSON_MEDIA_TYPE,
    "PlainTextResponse": "text/plain",
    "HTMLResponse": "text/html",
}
ROUTE_METHODS = {"get", "post", "put", "patch", "delete", "head", "options", "api_route", "route"}
ROUTE_REGISTRATIONS = {"Route", "APIRoute", "add_route", "add_api_route"}
# Where Starlette's Response(content, status_code, headers, media_type) takes them positionally.
HEADERS_ARG, MEDIA_TYPE_ARG = 2, 3

How = Literal["class", "media_type", "header", "response_class", "default_response_class"]


@dataclass(frozen=True)
class ResponseSite:
    """The place in the learner's file that gives the reply its media type.

    line: the line where the reply is built (or the route or app that decides it).
    media_type: the media type written there ("" for none).
    how: what sets it: the response ``class`` itself, a ``media_type`` argument, a
        content-type ``header``, the route's ``response_class`` or the app's ``default_response_class``.
    class_name: the response class involved, as the file names it (None when none is).
    class_line: the line of that class's definition, when the file defines it.
    json_class: whether that class would send JSON were it not told otherwise.
    value: the text that sets the media type, as written (``"text/plain"`` with its quotes, or a name);
        for a class the file defines, what its body sets ``media_type`` to ('' when it inherits it).
    """

    line: int
    media_type: str
    how: How
    class_name: str | None = None
    class_line: int | None = None
    json_class: bool = False
    value: str = ""


@dataclass(frozen=True)
class _Class:
    media_type: str | None  # None: unknown
    line: int | None  # where the file defines it
    json_class: bool
    own_value: str = ""  # the file's class sets media_type itself, to this (as written)


def response_site(source: str, path: str, sent: str) -> ResponseSite | None:
    """The place in ``source`` that gives replies on ``path`` the media type ``sent`` ('' for none), if it shows."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    reader = _Reader(tree, source)
    wanted = media_type(sent)
    for site in reader.candidates(path):
        if site.media_type == wanted:
            return site
    return None


class _Reader:
    """What the file says about responses: its classes, string constants, import aliases and routes."""

    def __init__(self, tree: ast.Module, source: str) -> None:
        self.tree = tree
        self.source = source
        self.aliases = _import_aliases(tree)
        self.strings = _string_constants(tree)
        self.functions = {
            node.name: node for node in ast.walk(tree) if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
        }
        self.classes: dict[str, _Class] = {}
        self.classes = self._response_classes()

    # -- names and values

    def name(self, node: ast.expr) -> str | None:
        """The name a call or class refers to (the last part of ``a.b.Name``), import aliases undone."""
        if isinstance(node, ast.Name):
            return self.aliases.get(node.id, node.id)
        if isinstance(node, ast.Attribute):
            return node.attr
        return None

    def written(self, node: ast.expr) -> str:
        """An expression as the file writes it."""
        return ast.get_source_segment(self.source, node) or ast.unparse(node)

    def string(self, node: ast.expr | None) -> str | None:
        """A string written as a literal, or as a name bound once to one."""
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return node.value
        if isinstance(node, ast.Name):
            return self.strings.get(node.id)
        return None

    def response_class(self, name: str | None) -> _Class | None:
        if name is None:
            return None
        if name in self.classes:
            return self.classes[name]
        if name in KNOWN_RESPONSE_CLASSES:
            known = KNOWN_RESPONSE_CLASSES[name]
            return _Class(known, None, json_class=known == JSON_MEDIA_TYPE)
        if name.endswith("Response"):
            return _Class(None, None, json_class=False)  # FileResponse and the like: not known here
        return None

    def _response_classes(self) -> dict[str, _Class]:
        """The file's own response classes (subclasses of a known one, however deep), with their media types."""
        found: dict[str, _Class] = {}
        definitions = [node for node in ast.walk(self.tree) if isinstance(node, ast.ClassDef)]
        changed = True
        while changed:
            changed = False
            for node in definitions:
                if node.name in found:
                    continue
                bases = [self.name(base) for base in node.bases]
                parent = next(
                    (
                        found.get(base) or self.response_class(base)
                        for base in bases
                        if base is not None and (base in found or base in KNOWN_RESPONSE_CLASSES)
                    ),
                    None,
                )
                if parent is None:
                    continue
                written = _class_media_type(node)
                if written is None:
                    found[node.name] = _Class(parent.media_type, node.lineno, parent.json_class)
                else:
                    text = self.string(written)
                    own = None if text is None else media_type(text)
                    found[node.name] = _Class(own, node.lineno, parent.json_class, own_value=self.written(written))
                changed = True
        return found

    # -- where replies are built

    def candidates(self, path: str) -> Iterator[ResponseSite]:
        """Every place that gives replies a media type, the endpoint of ``path`` first."""
        endpoints, route_calls = self._endpoints(path)
        for function in self._reached_from(endpoints):
            yield from self._calls_in(function)
        for call in route_calls:
            yield from self._keyword_class(call, "response_class")
        for node in ast.walk(self.tree):
            if isinstance(node, ast.Call):
                yield from self._keyword_class(node, "default_response_class")
        yield from self._calls_in(self.tree)

    def _reached_from(self, endpoints: list[ast.AST]) -> list[ast.AST]:
        """The endpoints, then the file's functions they call (and those call), nearest first."""
        reached = list(endpoints)
        for function in reached:
            for node in ast.walk(function):
                if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                    called = self.functions.get(node.func.id)
                    if called is not None and called not in reached:
                        reached.append(called)
        return reached

    def _calls_in(self, node: ast.AST) -> Iterator[ResponseSite]:
        calls = [inner for inner in ast.walk(node) if isinstance(inner, ast.Call)]
        for call in sorted(calls, key=lambda call: (call.lineno, call.col_offset)):
            site = self._built_response(call)
            if site is not None:
                yield site

    def _built_response(self, call: ast.Call) -> ResponseSite | None:
        """What a call that builds a response sends, when the source says it."""
        class_name = self.name(call.func)
        known = self.response_class(class_name)
        if known is None:
            return None

        def site(media: str, how: How, value: ast.expr | None = None) -> ResponseSite:
            return ResponseSite(
                line=call.lineno if value is None else value.lineno,  # the argument's own line in a long call
                media_type=media_type(media) if media else "",
                how=how,
                class_name=class_name,
                class_line=known.line,
                json_class=known.json_class,
                value="" if value is None else self.written(value),
            )

        headers = _argument(call, "headers", HEADERS_ARG)
        if isinstance(headers, ast.Dict):
            for key, value in zip(headers.keys, headers.values, strict=True):
                name = None if key is None else self.string(key)
                text = self.string(value)
                if name is not None and name.lower() == CONTENT_TYPE and text is not None:
                    return site(text, "header", value)
        given = _argument(call, "media_type", MEDIA_TYPE_ARG)
        if isinstance(given, ast.Constant) and given.value is None:
            given = None  # media_type=None: the class's own
        if given is not None:
            text = self.string(given)
            # A media type computed at run time: the file does not show it.
            return None if text is None else site(text, "media_type", given)
        if known.media_type is None:
            return None
        return dataclasses.replace(site(known.media_type, "class"), value=known.own_value)

    def _keyword_class(self, call: ast.Call, keyword: How) -> Iterator[ResponseSite]:
        given = next((item.value for item in call.keywords if item.arg == keyword), None)
        if given is None:
            return
        class_name = self.name(given)
        known = self.response_class(class_name)
        if known is not None and known.media_type is not None:
            yield ResponseSite(
                call.lineno,
                known.media_type,
                keyword,
                class_name=class_name,
                class_line=known.line,
                json_class=known.json_class,
                value=self.written(given),
            )

    def _endpoints(self, path: str) -> tuple[list[ast.AST], list[ast.Call]]:
        """The functions registered for ``path`` and the calls that register them."""
        functions: list[ast.AST] = []
        registrations: list[ast.Call] = []
        for function in self.functions.values():
            for decorator in function.decorator_list:
                if (
                    isinstance(decorator, ast.Call)
                    and isinstance(decorator.func, ast.Attribute)
                    and decorator.func.attr in ROUTE_METHODS
                    and self.string(_argument(decorator, "path", 0)) == path
                ):
                    functions.append(function)
                    registrations.append(decorator)
        for node in ast.walk(self.tree):
            if (
                isinstance(node, ast.Call)
                and self.name(node.func) in ROUTE_REGISTRATIONS
                and self.string(_argument(node, "path", 0)) == path
            ):
                registrations.append(node)
                target = _argument(node, "endpoint", 1)
                if isinstance(target, ast.Name) and target.id in self.functions:
                    functions.append(self.functions[target.id])
        return functions, registrations


def _argument(call: ast.Call, keyword: str, position: int) -> ast.expr | None:
    for item in call.keywords:
        if item.arg == keyword:
            return item.value
    if position < len(call.args) and not any(isinstance(arg, ast.Starred) for arg in call.args[: position + 1]):
        return call.args[position]
    return None


def _class_media_type(node: ast.ClassDef) -> ast.expr | None:
    """What a class body sets ``media_type`` to, if it sets it."""
    for statement in node.body:
        if isinstance(statement, ast.Assign):
            targets, value = statement.targets, statement.value
        elif isinstance(statement, ast.AnnAssign) and statement.value is not None:
            targets, value = [statement.target], statement.value
        else:
            continue
        if any(isinstance(target, ast.Name) and target.id == "media_type" for target in targets):
            return value
    return None


def _import_aliases(tree: ast.Module) -> dict[str, str]:
    """``from x import Name as Other``: Other -> Name."""
    return {
        alias.asname: alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
        if alias.asname
    }


def _string_constants(tree: ast.Module) -> dict[str, str]:
    """Names bound to a string literal exactly once in the file (a name bound twice is not known)."""
    bound: dict[str, list[object]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    bound.setdefault(target.id, []).append(
                        node.value.value if isinstance(node.value, ast.Constant) else None
                    )
    return {name: values[0] for name, values in bound.items() if len(values) == 1 and isinstance(values[0], str)}
