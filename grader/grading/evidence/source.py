"""A model of the learner's file, read from its syntax tree and never run.

``build_source_model(text)`` reads what a diagnosis may point at: the app
objects and every place one is bound, routers and whether they are included,
each route with its parameters and return statements, module-level state that
handlers write, blocking calls inside ``async def``, the imports and where they
come from, and lines that are not Python at all (``!pip install``, ``$ uvicorn``,
``>>>``). Every position is a 1-based line number of the learner's file.

A file that does not parse still gets a model: ``syntax_error`` says where and
why. When the only trouble is lines that are not Python (a notebook's ``!pip``,
a shell prompt), those lines are left out and the rest is read, so the routes
are still known. Hostile input (nesting deep enough to exhaust the parser, null
bytes, a huge file) gives a model whose ``unreadable`` says why, never an
exception.
"""

from __future__ import annotations

import ast
import bisect
import dataclasses
import re
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Literal

from grader.grading.evidence.copies import (
    Bracketed,
    KeyChange,
    Removal,
    TruthFilter,
    bracketed,
    key_changes,
    removals,
    truth_filters,
    written_keys,
)

MAX_SOURCE_CHARS = 256 * 1024
"""Longer files are not read: four times the default upload limit, and a few seconds of reading at most
(benchmarks/evidence.py); the model then says it could not read them."""
MAX_SEGMENT_CHARS = 300
"""The longest piece of source text kept in a fact."""
MAX_SEGMENT_LINES = 20
"""The most lines of one node read for its text (the text is cut to a few hundred characters anyway)."""
MAX_TRACE_DEPTH = 6
"""How many assignments back a returned name is followed."""

BYTE_ORDER_MARK = "\ufeff"
DEFAULT_PACKAGES = ("fastapi", "starlette", "pydantic", "uvicorn")
"""What the first exercise's runtime offers besides the standard library."""

ROUTE_METHODS = {
    "get": ("GET",),
    "post": ("POST",),
    "put": ("PUT",),
    "patch": ("PATCH",),
    "delete": ("DELETE",),
    "head": ("HEAD",),
    "options": ("OPTIONS",),
    "trace": ("TRACE",),
    "api_route": ("GET",),
    "route": ("GET",),
    "websocket": (),
    "add_api_route": ("GET",),
}
"""Decorator names that register a route (and ``add_api_route``, the call that does it without one), with
the methods they take by default."""

AppKind = Literal["app", "router", "other_framework", "other"]
StateHow = Literal["global", "mutation", "item", "attribute", "shadowed"]

APP_CLASSES: dict[str, AppKind] = {
    "fastapi.FastAPI": "app",
    "fastapi.applications.FastAPI": "app",
    "starlette.applications.Starlette": "app",
    "fastapi.APIRouter": "router",
    "fastapi.routing.APIRouter": "router",
    "flask.Flask": "other_framework",
    "django.Django": "other_framework",
    "bottle.Bottle": "other_framework",
    "sanic.Sanic": "other_framework",
}
"""Constructors whose result a file serves (or means to)."""
SHORT_APP_CLASSES: dict[str, AppKind] = {"FastAPI": "app", "APIRouter": "router", "Flask": "other_framework"}
"""The same by their last name, for a module the file reached another way."""

FASTAPI_STAR_NAMES = {
    "FastAPI": "fastapi.FastAPI",
    "APIRouter": "fastapi.APIRouter",
    "Body": "fastapi.Body",
    "Query": "fastapi.Query",
    "Path": "fastapi.Path",
    "Header": "fastapi.Header",
    "Cookie": "fastapi.Cookie",
    "Form": "fastapi.Form",
    "File": "fastapi.File",
    "Depends": "fastapi.Depends",
    "Request": "fastapi.Request",
    "Response": "fastapi.Response",
    "HTTPException": "fastapi.HTTPException",
    "UploadFile": "fastapi.UploadFile",
    "BackgroundTasks": "fastapi.BackgroundTasks",
    "WebSocket": "fastapi.WebSocket",
    "status": "fastapi.status",
}
"""What ``from fastapi import *`` binds that a diagnosis cares about."""

PARAMETER_SOURCES = {"Body", "Query", "Path", "Header", "Cookie", "Form", "File", "Depends", "Security"}
"""FastAPI's markers that say where a parameter's value comes from."""

CONVERSIONS = {
    "json.dumps",
    "json.loads",
    "str",
    "int",
    "float",
    "round",
    "bool",
    "repr",
    "list",
    "set",
    "tuple",
    "sorted",
    "dict.items",
    "jsonable_encoder",
}
"""Calls that turn a value into another type (``json.dumps``, ``str()``...)."""

CHANGING_METHODS = {"lower", "upper", "strip", "title", "capitalize", "replace", "split", "swapcase", "casefold"}
"""String methods that change a value the exercise wants back as it came."""

BLOCKING_CALLS = {
    "time.sleep",
    "input",
    "requests.get",
    "requests.post",
    "requests.put",
    "requests.patch",
    "requests.delete",
    "requests.head",
    "requests.request",
    "httpx.get",
    "httpx.post",
    "httpx.put",
    "httpx.delete",
    "httpx.request",
    "urllib.request.urlopen",
    "subprocess.run",
    "subprocess.call",
    "subprocess.check_output",
    "os.system",
    "socket.create_connection",
}
"""Calls that hold the server's only thread still when made inside ``async def``."""
BLOCKING_MODULES = {"requests", "urllib3"}
"""Modules every call of which waits on the network."""

MUTATING_METHODS = {
    "append",
    "extend",
    "insert",
    "update",
    "add",
    "pop",
    "popitem",
    "clear",
    "setdefault",
    "remove",
    "discard",
    "appendleft",
}
"""Methods that change a list, dict or set in place."""

LIKELY_LOCAL_MODULES = {
    "models",
    "schemas",
    "database",
    "db",
    "crud",
    "utils",
    "helpers",
    "config",
    "settings",
    "routers",
    "routes",
    "api",
    "main",
    "app",
    "services",
    "dependencies",
    "deps",
    "core",
    "model",
    "schema",
}
"""Module names tutorials have learners create beside ``main.py``."""

ShellKind = Literal["notebook_shell", "magic", "shell_prompt", "python_prompt", "command", "markdown_fence", "prose"]

SHELL_PATTERNS: tuple[tuple[ShellKind, re.Pattern[str]], ...] = (
    ("notebook_shell", re.compile(r"^!\s*\w")),
    ("magic", re.compile(r"^%%?[A-Za-z]")),
    ("shell_prompt", re.compile(r"^\$\s+\S")),
    ("python_prompt", re.compile(r"^(>>>|In \[\d*\]:)(\s|$)")),
    ("markdown_fence", re.compile(r"^```")),
    ("prose", re.compile(r"^[A-Z][a-z]*(?:\s+[A-Za-z'\u2019,]+){2,}\s*[.:!?]$")),
    (
        "command",
        re.compile(
            r"^(pip3?|python3?(\s+-m)?|py|uvicorn|fastapi|conda|poetry|uv|curl|cd|source|export|set|venv\\|\.venv)"
            r"(\s+(install|run|dev|main|-m|-[A-Za-z-]+|\S+\.py|\S+:\S+|http\S+|\S+/\S*))+\s*.*$"
        ),
    ),
)
"""Lines that are a terminal's or a notebook's, not Python (checked only where Python could not read)."""

SyntaxKind = Literal[
    "not_python",
    "missing_colon",
    "unclosed_bracket",
    "unmatched_bracket",
    "unterminated_string",
    "indentation",
    "tabs_and_spaces",
    "invalid_character",
    "missing_comma",
    "assign_in_expression",
    "python2_print",
    "other",
]


# --- the facts -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ShellLine:
    """A line that belongs to a terminal or a notebook, not to a Python file.

    kind: ``notebook_shell`` (``!pip install``), ``magic`` (``%run``), ``shell_prompt``
    (``$ uvicorn main:app``), ``python_prompt`` (``>>> x = 1``), ``command`` (``pip install
    fastapi``, ``uvicorn main:app --reload``), ``markdown_fence`` (```` ```python ````) or ``prose``
    (a sentence pasted with the code: ``Here is my code:``).
    """

    line: int
    text: str
    kind: ShellKind


@dataclass(frozen=True)
class SyntaxProblem:
    """Why Python could not read the file.

    line/column: where Python stopped (1-based; None when it did not say).
    message: Python's own words (``expected ':'``).
    kind: the mistake in a word (``missing_colon``, ``not_python``...).
    text: the line as the learner wrote it.
    not_python: the terminal or notebook line Python stopped at, when it is one.
    """

    line: int | None
    column: int | None
    message: str
    kind: SyntaxKind
    text: str = ""
    not_python: ShellLine | None = None


@dataclass(frozen=True)
class Call:
    """A call in the learner's code: ``name`` is the callee with imports resolved (``json.dumps``,
    ``time.sleep``, ``.lower`` for a method of something unknown), ``text`` the call as written."""

    name: str
    line: int
    text: str


@dataclass(frozen=True)
class Param:
    """One parameter of a function.

    annotation/default: as written (``dict``, ``Body(embed=True)``), or None.
    marker: FastAPI's marker saying where the value comes from (``Body``, ``Query``,
        ``Depends``...), from the default or from ``Annotated[...]``; None when there is none.
    marker_keywords: the marker's keyword arguments as written (``(("embed", "True"),)``).
    kind: ``positional``, ``keyword_only``, ``var_positional`` (``*args``) or ``var_keyword``.
    """

    name: str
    line: int
    annotation: str | None = None
    default: str | None = None
    marker: str | None = None
    marker_keywords: tuple[tuple[str, str], ...] = ()
    kind: Literal["positional", "keyword_only", "var_positional", "var_keyword"] = "positional"
    annotation_type: str | None = None

    @property
    def embedded(self) -> bool:
        """Whether the body is expected wrapped in an object under the parameter's name (``Body(embed=True)``)."""
        return self.marker == "Body" and dict(self.marker_keywords).get("embed") == "True"

    @property
    def is_request(self) -> bool:
        """Whether the parameter is Starlette's ``Request`` (the raw request, not the message)."""
        return (self.annotation_type or "").rsplit(".", 1)[-1] == "Request"


@dataclass(frozen=True)
class Assignment:
    """A local name bound in a function: ``name = text`` at ``line``, with the calls on its right-hand side."""

    name: str
    line: int
    text: str
    calls: tuple[Call, ...] = ()


@dataclass(frozen=True)
class Return:
    """A ``return`` statement and what it returns.

    kind: ``nothing`` (bare ``return``), ``dict``, ``set``, ``tuple``, ``list``, ``string``,
        ``fstring``, ``constant``, ``name``, ``call``, ``await`` or ``other``.
    text: the returned expression as written ('' for a bare return).
    keys: the string keys of a dict literal, in order; values: its values as written.
    wraps: for a call, the callee (``json.dumps``, ``JSONResponse``, ``str``).
    names: the names the expression reads.
    conversions: calls that change a value's type or text (``json.dumps``, ``str()``,
        ``.lower()``), in the expression itself or in the assignments of the names it
        returns, each with its own line (``data = json.dumps(msg)`` two lines above).
    """

    line: int
    text: str
    kind: str
    keys: tuple[str, ...] = ()
    wraps: str | None = None
    names: tuple[str, ...] = ()
    conversions: tuple[Call, ...] = ()
    end_line: int = 0
    values: tuple[str, ...] = ()


@dataclass(frozen=True)
class Raised:
    """A ``raise`` statement of a function.

    status: the HTTP status it answers with (``HTTPException(status_code=422)``, ``HTTPException(422)``,
        ``status.HTTP_422_UNPROCESSABLE_ENTITY``), else None.
    condition, condition_line: the test of the ``if`` it sits in (as written) and that ``if``'s line; '' and 0
        when it is not in the body of an ``if``.
    removable: the first and last lines of the statement that holds nothing but this ``raise`` (the ``if``
        around it, the loop around that ``if``), which can be deleted whole; None when deleting it would leave
        a block empty.
    """

    line: int
    text: str
    status: int | None = None
    condition: str = ""
    condition_line: int = 0
    removable: tuple[int, int] | None = None


@dataclass(frozen=True)
class Function:
    """A function definition.

    line: the ``def`` line; first_line: its first decorator's line; end_line: its last line.
    assignments: local names bound in it (``x = ...``, ``x += ...``), in order.
    globals_declared: names it declares ``global``.
    endless_loops: the lines of ``while`` loops that never end: ``while True:`` with no ``break``,
        ``return`` or ``raise`` inside, or ``while not ready:`` with nothing inside that could change ``ready``.
    body_line: the line of its first statement.
    return_annotation: its ``-> type`` as written (FastAPI checks the reply against it), or None.
    ends_without_return: whether running off its end returns None (the last statement
        is not a ``return`` or a ``raise``).
    key_changes: the keys it changes while copying a dict (``{k.upper(): v for k, v in msg.items()}``).
    bracketed: the one-item lists it builds around a parameter (``[msg]``).
    removals: the fields it takes out of a parameter's dict in place (``msg.pop("text")``, ``del msg["id"]``).
    truth_filters: the loops that copy a dict's field only when its value is true (``if value: out[key] = value``).
    """

    name: str
    line: int
    first_line: int
    end_line: int
    is_async: bool
    params: tuple[Param, ...] = ()
    returns: tuple[Return, ...] = ()
    calls: tuple[Call, ...] = ()
    assignments: tuple[Assignment, ...] = ()
    globals_declared: tuple[str, ...] = ()
    local_names: frozenset[str] = frozenset()
    ends_without_return: bool = False
    prints: tuple[Call, ...] = ()
    body_line: int = 0
    endless_loops: tuple[int, ...] = ()
    return_annotation: str | None = None
    key_changes: tuple[KeyChange, ...] = ()
    bracketed: tuple[Bracketed, ...] = ()
    raises: tuple[Raised, ...] = ()
    awaits: tuple[int, ...] = ()
    removals: tuple[Removal, ...] = ()
    truth_filters: tuple[TruthFilter, ...] = ()

    def param(self, name: str) -> Param | None:
        """The parameter called ``name``, if any."""
        return next((param for param in self.params if param.name == name), None)

    @property
    def body_params(self) -> tuple[Param, ...]:
        """The parameters FastAPI may fill from the body (not the raw ``Request``, not a dependency)."""
        return tuple(
            param
            for param in self.params
            if not param.is_request and param.marker not in {"Depends", "Security", "Query", "Path", "Header"}
        )


@dataclass(frozen=True)
class Route:
    """A route decorator and the function it registers.

    line/end_line: the decorator's lines (a decorator may be spread over several).
    owner: what the decorator is on (``app``, ``router``); owner_line: where that name was
        last bound before the decorator (None when the file never binds it).
    method: the decorator's name (``post``, ``api_route``); methods: the HTTP methods it takes.
    path: the path as written, or None when it is not a plain string.
    response_model/status_code/response_class: the decorator's arguments as written.
    called: False for ``@app.post`` without brackets (which registers nothing).
    """

    line: int
    end_line: int
    owner: str
    method: str
    methods: tuple[str, ...]
    path: str | None
    function: Function
    response_model: str | None = None
    status_code: str | None = None
    response_class: str | None = None
    called: bool = True
    owner_line: int | None = None
    text: str = ""
    """The decorator's expression on one line (without its ``@``)."""

    def response_declaration(self) -> tuple[str, int] | None:
        """What FastAPI checks and filters the reply through, as written, with its line.

        ``response_model=Reply`` on the decorator's line, else the function's ``-> Reply`` on its
        ``def`` line (FastAPI takes the return annotation as the response model); None when there is
        neither, or ``response_model=None`` turns it off.
        """
        if self.response_model is not None and self.response_model != "None":
            return f"response_model={self.response_model}", self.line
        if self.response_model is None and self.function.return_annotation is not None:
            return f"-> {self.function.return_annotation}", self.function.line
        return None

    @property
    def written(self) -> str:
        """The decorator as the learner wrote it, ``@`` included (or the ``add_api_route`` call)."""
        return self.text if self.method == "add_api_route" else "@" + self.text

    @property
    def path_parameters(self) -> tuple[str, ...]:
        """The names in braces in the path (``/message/{msg}`` -> ``("msg",)``)."""
        return tuple(re.findall(r"\{(\w+)(?::\w+)?\}", self.path or ""))


@dataclass(frozen=True)
class AppBinding:
    """A place a name is bound to an app or a router (or rebound to something else).

    kind: ``app`` (``FastAPI()``), ``router`` (``APIRouter()``), ``other_framework``
        (``Flask(__name__)``) or ``other`` (the name bound to anything else later).
    call: the constructor as written (``FastAPI``), '' for ``other``.
    function: the function it is bound in ('' at the top level of the file).
    arguments: the constructor's arguments as written (``prefix="/api"``).
    """

    name: str
    line: int
    kind: AppKind
    call: str = ""
    function: str = ""
    arguments: str = ""


@dataclass(frozen=True)
class Inclusion:
    """``app.include_router(router)`` at ``line`` (with its arguments as written)."""

    app: str
    router: str
    line: int
    arguments: str = ""


@dataclass(frozen=True)
class StateWrite:
    """A function writing a module-level variable, so its value outlives the request.

    how: ``global`` (assigned under a ``global`` statement), ``mutation`` (``items.append(x)``),
        ``item`` (``seen[key] = x``), ``attribute`` (``state.count = x``) or ``shadowed``
        (``count += 1`` without ``global``: Python makes it a new local, UnboundLocalError).
    defined_line: where the variable is bound at the top level of the file.
    handler: whether the function is a route's.
    """

    name: str
    line: int
    function: str
    how: StateHow
    defined_line: int | None = None
    handler: bool = False
    text: str = ""


@dataclass(frozen=True)
class BlockingCall:
    """A call that waits (``time.sleep``, ``requests.get``, ``input``) in ``function``.

    in_async: whether ``function`` is ``async def``: there it stops the server's only thread.
    """

    call: str
    line: int
    function: str
    in_async: bool
    text: str = ""


@dataclass(frozen=True)
class Import:
    """An import statement's module.

    module: as written (``fastapi``, ``fastapi.responses``; ``.models`` for a relative import).
    names: what ``from ... import`` takes (``("*",)`` for a star import); empty for ``import x``.
    origin: ``stdlib``, ``runtime`` (a package the grading runtime offers), ``relative``
        (``from .models import X``) or ``other`` (neither: not available when graded).
    """

    module: str
    names: tuple[str, ...]
    line: int
    origin: Literal["stdlib", "runtime", "relative", "other"]

    @property
    def root(self) -> str:
        """The top-level package (``fastapi`` for ``fastapi.responses``)."""
        return self.module.lstrip(".").split(".")[0]

    @property
    def available(self) -> bool:
        """Whether the grading runtime can import it."""
        return self.origin in ("stdlib", "runtime")

    @property
    def likely_local(self) -> bool:
        """Whether it is most likely a file of the learner's own project that was not uploaded."""
        return self.origin == "relative" or (self.origin == "other" and self.root in LIKELY_LOCAL_MODULES)


@dataclass(frozen=True)
class ModelClass:
    """A class the file defines, with the fields it declares (``text: str`` at ``line``).

    bases: the base classes as written (``BaseModel``); pydantic: whether one of them is pydantic's.
    """

    name: str
    line: int
    end_line: int
    bases: tuple[str, ...]
    fields: tuple[tuple[str, str, int], ...] = ()
    decorators: tuple[str, ...] = ()

    @property
    def pydantic(self) -> bool:
        """Whether the class is a pydantic model (FastAPI validates against its fields)."""
        return any(base.rsplit(".", 1)[-1] in ("BaseModel", "SQLModel") for base in self.bases)

    @property
    def kind(self) -> str | None:
        """What FastAPI reads a body of this class as, keeping only the declared fields: ``pydantic model``,
        ``dataclass`` or ``TypedDict``; None for any other class."""
        if self.pydantic:
            return "pydantic model"
        if any(decorator.rsplit(".", 1)[-1] == "dataclass" for decorator in self.decorators):
            return "dataclass"
        if any(base.rsplit(".", 1)[-1] == "TypedDict" for base in self.bases):
            return "TypedDict"
        return None

    def field_line(self, name: str) -> int | None:
        """The line declaring field ``name``, if the class declares it."""
        return next((line for field_name, _, line in self.fields if field_name == name), None)


@dataclass(frozen=True)
class SourceModel:
    """What the learner's file declares, read without running it (see the module's docstring).

    unreadable: why the file could not be read at all (``too_large``, ``null_bytes``,
        ``too_deep``, ``unparsable``), else None; then every other fact is empty.
    syntax_error: why Python cannot read it, else None.
    read_without: when only terminal or notebook lines stop Python, those lines (left out, or a
        ``>>>`` prompt taken off), and the facts are read from the rest.
    module_names: every name bound at the top level of the file, with its first line.
    written: every text the file writes that can become a key (a string literal, a keyword
        argument's name), with the lines it is written on.
    packages: the packages the grading runtime offers besides the standard library.
    """

    text: str
    lines: tuple[str, ...]
    unreadable: str | None = None
    syntax_error: SyntaxProblem | None = None
    shell_lines: tuple[ShellLine, ...] = ()
    read_without: tuple[int, ...] = ()
    imports: tuple[Import, ...] = ()
    apps: tuple[AppBinding, ...] = ()
    inclusions: tuple[Inclusion, ...] = ()
    routes: tuple[Route, ...] = ()
    functions: tuple[Function, ...] = ()
    state_writes: tuple[StateWrite, ...] = ()
    blocking_calls: tuple[BlockingCall, ...] = ()
    module_names: dict[str, int] = field(default_factory=dict)
    star_imports: tuple[str, ...] = ()
    classes: tuple[ModelClass, ...] = ()
    packages: tuple[str, ...] = DEFAULT_PACKAGES
    written: dict[str, tuple[int, ...]] = field(default_factory=dict)

    # --- the file's state ---------------------------------------------------------------

    @property
    def parsed(self) -> bool:
        """Whether Python can read the file as it is."""
        return self.unreadable is None and self.syntax_error is None

    @property
    def has_facts(self) -> bool:
        """Whether the facts below were read (the file parsed, or did once its non-Python lines were left out)."""
        return self.unreadable is None and (self.syntax_error is None or bool(self.read_without))

    # --- lines --------------------------------------------------------------------------

    def valid_line(self, value: object) -> int | None:
        """``value`` if it is a line number inside this file, else None."""
        if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= len(self.lines):
            return value
        return None

    def line_text(self, line: int | None) -> str:
        """The line as written, without its line break ('' when it is not in the file)."""
        checked = self.valid_line(line)
        return self.lines[checked - 1] if checked is not None else ""

    def code(self, line: int | None) -> str:
        """The line's code, stripped ('' when it is not in the file)."""
        return self.line_text(line).strip()

    def find(self, pattern: str | re.Pattern[str], start: int = 1, end: int | None = None) -> int | None:
        """The first line from ``start`` to ``end`` matching ``pattern``, comments skipped."""
        regex = re.compile(pattern) if isinstance(pattern, str) else pattern
        stop = len(self.lines) if end is None else min(end, len(self.lines))
        for number in range(max(start, 1), stop + 1):
            text = self.lines[number - 1]
            if not text.lstrip().startswith("#") and regex.search(text):
                return number
        return None

    def written_at(self, text: str, start: int = 1, end: int | None = None) -> int | None:
        """The first line from ``start`` to ``end`` where the file writes ``text`` as a string or a keyword."""
        stop = len(self.lines) if end is None else end
        return next((line for line in self.written.get(text, ()) if start <= line <= stop), None)

    # --- apps and routes ----------------------------------------------------------------

    def app_bindings(self, name: str) -> tuple[AppBinding, ...]:
        """Every top-level binding of ``name`` that is an app, a router or a later rebinding."""
        return tuple(binding for binding in self.apps if binding.name == name and not binding.function)

    def served_binding(self, name: str) -> AppBinding | None:
        """The binding of ``name`` the grader finds once the file is loaded (its last top-level one)."""
        bindings = self.app_bindings(name)
        return bindings[-1] if bindings else None

    def routes_on(self, owner: str) -> tuple[Route, ...]:
        """The routes registered on the object named ``owner``."""
        return tuple(route for route in self.routes if route.owner == owner)

    def lost_routes(self, name: str) -> tuple[Route, ...]:
        """Routes registered on ``name`` before it was bound again: the served object does not have them."""
        served = self.served_binding(name)
        if served is None:
            return ()
        return tuple(
            route for route in self.routes_on(name) if route.owner_line is not None and route.owner_line < served.line
        )

    def routers(self) -> tuple[AppBinding, ...]:
        """The routers the file creates."""
        return tuple(binding for binding in self.apps if binding.kind == "router")

    def included(self, router: str) -> bool:
        """Whether ``router`` is included in an app (``app.include_router(router)``)."""
        return any(inclusion.router == router for inclusion in self.inclusions)

    def included_early(self, router: str) -> tuple[Route, ...]:
        """Routes added to ``router`` after its first ``include_router``: FastAPI copied it before they existed."""
        lines = [inclusion.line for inclusion in self.inclusions if inclusion.router == router]
        if not lines:
            return ()
        return tuple(route for route in self.routes_on(router) if route.line > min(lines))

    def duplicate_routes(self) -> tuple[tuple[Route, Route], ...]:
        """Pairs (first, later) of routes on the same object, path and method: FastAPI only ever calls the first."""
        found = []
        for index, later in enumerate(self.routes):
            for first in self.routes[:index]:
                same = first.owner == later.owner and first.path == later.path and first.path is not None
                if same and set(first.methods) & set(later.methods):
                    found.append((first, later))
                    break
        return tuple(found)

    def route_for(self, path: str, method: str | None = None) -> Route | None:
        """The route answering ``path`` (and ``method``), else one at ``path``, else the only route."""
        same_path = [route for route in self.routes if route.path == path]
        if method:
            exact = [route for route in same_path if method.upper() in route.methods]
            if exact:
                return exact[-1]
        if same_path:
            return same_path[-1]
        return self.routes[0] if len(self.routes) == 1 else None

    # --- functions and names ------------------------------------------------------------

    def class_named(self, name: str) -> ModelClass | None:
        """The last class defined with ``name`` (a ``response_model=Reply`` is looked up here)."""
        found = [cls for cls in self.classes if cls.name == name]
        return found[-1] if found else None

    def body_model(self, route: Route | None) -> tuple[Param, ModelClass] | None:
        """The route's only body parameter and the class of this file it is typed with, when FastAPI reads the
        body through that class and keeps only its declared fields (see ``ModelClass.kind``)."""
        body = [p for p in route.function.body_params if p.marker in (None, "Body")] if route is not None else []
        if len(body) != 1:
            return None
        declared = self.class_named((body[0].annotation_type or "").rsplit(".", 1)[-1])
        if declared is None or declared.kind is None or not declared.fields:
            return None
        return body[0], declared

    def function_named(self, name: str) -> Function | None:
        """The last function defined with ``name`` (the one Python keeps)."""
        found = [function for function in self.functions if function.name == name]
        return found[-1] if found else None

    def function_at(self, line: int | None) -> Function | None:
        """The innermost function whose lines hold ``line``."""
        holding = [f for f in self.functions if line is not None and f.first_line <= line <= f.end_line]
        return min(holding, key=lambda f: f.end_line - f.first_line) if holding else None

    def route_of(self, function: Function | None) -> Route | None:
        """The route that registers ``function``, if any."""
        if function is None:
            return None
        return next((route for route in self.routes if route.function.line == function.line), None)

    def names_in_scope(self, line: int | None = None) -> set[str]:
        """The names a line can use: builtins, the file's top-level names, and the enclosing function's own."""
        names = set(dir(__builtins__)) if not isinstance(__builtins__, dict) else set(__builtins__)
        names |= set(self.module_names)
        for star in self.star_imports:
            if star == "fastapi":
                names |= set(FASTAPI_STAR_NAMES)
        function = self.function_at(line)
        if function is not None:
            names |= function.local_names
            names |= {param.name for param in function.params}
        return names

    def imports_of(self, root: str) -> tuple[Import, ...]:
        """The imports of package ``root``."""
        return tuple(found for found in self.imports if found.root == root)

    def unavailable_imports(self) -> tuple[Import, ...]:
        """Imports the grading runtime cannot satisfy, in order."""
        return tuple(found for found in self.imports if not found.available)


# --- building the model ----------------------------------------------------------------------


def build_source_model(text: str, *, packages: Iterable[str] = DEFAULT_PACKAGES) -> SourceModel:
    """Read ``text`` into a ``SourceModel`` without running it; never raises on any input.

    A byte order mark at the start (Notepad writes one) is left out, as Python does when it loads the file.
    """
    original, text = text, text.removeprefix(BYTE_ORDER_MARK)
    lines = tuple(text.splitlines())
    if len(text) > MAX_SOURCE_CHARS:
        return SourceModel(text=text, lines=lines, unreadable="too_large")
    if "\x00" in text:
        return SourceModel(text=text, lines=lines, unreadable="null_bytes")
    offered = _normal_packages(packages)
    try:
        built = _build(text, lines, offered)
        return dataclasses.replace(built, packages=tuple(sorted(offered)), text=original)
    except (RecursionError, MemoryError):
        return SourceModel(text=text, lines=lines, unreadable="too_deep")
    except (ValueError, TypeError, OverflowError):
        # ast refuses what it cannot represent (a literal too large, odd bytes): no facts.
        return SourceModel(text=text, lines=lines, unreadable="unparsable")


def _normal_packages(packages: Iterable[str]) -> frozenset[str]:
    return frozenset(name.lower().replace("-", "_") for name in packages)


def _build(text: str, lines: tuple[str, ...], packages: frozenset[str]) -> SourceModel:
    tree, problem = _parse(text)
    if problem is None and tree is not None:
        return _Reader(text, lines, tree, packages).model()
    assert problem is not None
    shell = shell_lines(lines)
    if problem.line is not None:
        at = next((found for found in shell if found.line == problem.line), None)
        if at is not None:
            problem = SyntaxProblem(problem.line, problem.column, problem.message, "not_python", problem.text, at)
    if shell:
        cleaned, left_out = without_shell_lines(lines, shell)
        cleaned_tree, still = _parse(cleaned)
        if still is None and cleaned_tree is not None:
            read = _Reader(cleaned, lines, cleaned_tree, packages).model()
            return _replace_model(read, text, problem, shell, left_out)
    return SourceModel(text=text, lines=lines, syntax_error=problem, shell_lines=shell)


def _replace_model(
    read: SourceModel, text: str, problem: SyntaxProblem, shell: tuple[ShellLine, ...], left_out: tuple[int, ...]
) -> SourceModel:
    return SourceModel(
        text=text,
        lines=read.lines,
        syntax_error=problem,
        shell_lines=shell,
        read_without=left_out,
        imports=read.imports,
        apps=read.apps,
        inclusions=read.inclusions,
        routes=read.routes,
        functions=read.functions,
        state_writes=read.state_writes,
        blocking_calls=read.blocking_calls,
        module_names=read.module_names,
        star_imports=read.star_imports,
        classes=read.classes,
        written=read.written,
    )


def _parse(text: str) -> tuple[ast.Module | None, SyntaxProblem | None]:
    try:
        return ast.parse(text, filename="solution.py"), None
    except SyntaxError as error:
        return None, _syntax_problem(error, text)


def _syntax_problem(error: SyntaxError, text: str) -> SyntaxProblem:
    line = error.lineno if isinstance(error.lineno, int) and error.lineno >= 1 else None
    lines = text.splitlines()
    if line is not None and line > len(lines):
        line = len(lines) or None
    column = error.offset if isinstance(error.offset, int) and error.offset >= 1 else None
    message = str(error.msg or "invalid syntax")[:MAX_SEGMENT_CHARS]
    written = lines[line - 1] if line is not None else ""
    return SyntaxProblem(line, column, message, _syntax_kind(error, message), written[:MAX_SEGMENT_CHARS])


SYNTAX_KINDS: tuple[tuple[re.Pattern[str], SyntaxKind], ...] = (
    (re.compile(r"expected ':'"), "missing_colon"),
    (re.compile(r"was never closed|unexpected EOF"), "unclosed_bracket"),
    (re.compile(r"unmatched|does not match opening"), "unmatched_bracket"),
    (re.compile(r"unterminated (triple-quoted )?string"), "unterminated_string"),
    (re.compile(r"invalid character|invalid non-printable"), "invalid_character"),
    (re.compile(r"Perhaps you forgot a comma"), "missing_comma"),
    (re.compile(r"Maybe you meant '==' or ':='"), "assign_in_expression"),
    (re.compile(r"Missing parentheses in call to 'print'"), "python2_print"),
    (re.compile(r"indent"), "indentation"),
)
"""Python's syntax messages, by the mistake they mean (first match wins)."""


def _syntax_kind(error: SyntaxError, message: str) -> SyntaxKind:
    if isinstance(error, TabError) or "inconsistent use of tabs" in message:
        return "tabs_and_spaces"
    if isinstance(error, IndentationError):
        return "indentation"
    for pattern, kind in SYNTAX_KINDS:
        if pattern.search(message):
            return kind
    return "other"


def shell_lines(lines: Iterable[str]) -> tuple[ShellLine, ...]:
    """The lines that belong to a terminal or a notebook rather than to Python."""
    found = []
    inside: str | None = None  # the triple quote of a string the line is in, if any
    for number, raw in enumerate(lines, start=1):
        stripped = raw.strip()
        starts_inside = inside is not None
        inside = _triple_quote_after(raw, inside)
        if starts_inside or stripped.startswith("#"):
            continue
        for kind, pattern in SHELL_PATTERNS:
            if pattern.match(stripped):
                found.append(ShellLine(number, stripped[:MAX_SEGMENT_CHARS], kind))
                break
    return tuple(found)


def _triple_quote_after(line: str, inside: str | None) -> str | None:
    """Whether a triple-quoted string is still open after ``line`` (and with which quotes), given ``inside``."""
    for match in re.finditer(r'"""|\'\'\'', line):
        if inside is None:
            inside = match.group(0)
        elif match.group(0) == inside:
            inside = None
    return inside


def without_shell_lines(lines: tuple[str, ...], shell: tuple[ShellLine, ...]) -> tuple[str, tuple[int, ...]]:
    """The file with its terminal lines blanked (a ``>>>`` prompt only loses the prompt)."""
    kept = list(lines)
    left_out = []
    for found in shell:
        raw = kept[found.line - 1]
        if found.kind == "python_prompt":
            kept[found.line - 1] = re.sub(r"^\s*(>>>|In \[\d*\]:)\s?", "", raw)
        else:
            kept[found.line - 1] = ""
        left_out.append(found.line)
    return "\n".join(kept) + "\n", tuple(left_out)


def dotted_name(node: ast.AST) -> str | None:
    """``a.b.c`` for a chain of attributes on a name, else None (iterative: chains can be long)."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return ".".join(reversed(parts))


def own_nodes(function: ast.FunctionDef | ast.AsyncFunctionDef) -> Iterator[ast.AST]:
    """The nodes of ``function``'s body, not those of functions, lambdas or classes inside it."""
    stack: list[ast.AST] = list(reversed(function.body))
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            continue
        stack.extend(reversed(list(ast.iter_child_nodes(node))))


def _http_status(exc: ast.expr | None) -> int | None:
    """The status a raised ``HTTPException(...)`` answers with, when written as a number or a ``status`` constant."""
    if not isinstance(exc, ast.Call):
        return None
    given = next((kw.value for kw in exc.keywords if kw.arg == "status_code"), exc.args[0] if exc.args else None)
    if isinstance(given, ast.Constant) and isinstance(given.value, int) and not isinstance(given.value, bool):
        return given.value
    if isinstance(given, ast.Attribute):
        named = re.match(r"HTTP_(\d{3})_", given.attr)
        return int(named.group(1)) if named else None
    return None


def top_level_statements(tree: ast.Module) -> Iterator[ast.stmt]:
    """Statements run when the file loads: the module's, and those inside its ``if``/``try``/``with``."""
    stack: list[ast.stmt] = list(reversed(tree.body))
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, (ast.If, ast.For, ast.While)):
            stack.extend(reversed(node.body + node.orelse))
        elif isinstance(node, ast.Try):
            nested = node.body + [s for handler in node.handlers for s in handler.body] + node.orelse + node.finalbody
            stack.extend(reversed(nested))
        elif isinstance(node, ast.With):
            stack.extend(reversed(node.body))


class _Reader:
    """Reads one parsed file into a ``SourceModel``."""

    def __init__(self, text: str, lines: tuple[str, ...], tree: ast.Module, packages: frozenset[str]) -> None:
        self.text = text
        self.lines = lines
        self.tree = tree
        self.packages = packages
        self.aliases: dict[str, str] = {}
        self.star_imports: list[str] = []
        self.source_lines = SOURCE_LINE.findall(text)
        self.nodes = list(ast.walk(tree))
        self._own: dict[int, list[ast.AST]] = {}
        self.imports = self._imports()
        self.module_names = self._module_names()
        self.owner_lines = self._owner_lines()
        self.plain_state = self._plain_state()

    def model(self) -> SourceModel:
        functions, routes = self._functions_and_routes()
        return SourceModel(
            text=self.text,
            lines=self.lines,
            imports=self.imports,
            apps=self._apps(),
            inclusions=self._inclusions(),
            routes=routes,
            functions=functions,
            state_writes=self._state_writes(functions, routes),
            blocking_calls=self._blocking(functions),
            module_names=self.module_names,
            star_imports=tuple(self.star_imports),
            classes=self._classes(),
            written=written_keys(self.tree),
        )

    def _classes(self) -> tuple[ModelClass, ...]:
        found = []
        for node in self.nodes:
            if not isinstance(node, ast.ClassDef):
                continue
            fields = tuple(
                (stmt.target.id, self.segment(stmt.annotation), stmt.lineno)
                for stmt in node.body
                if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name)
            )
            bases = tuple(self.qualified(base) or self.segment(base) for base in node.bases)
            decorators = tuple(
                self.qualified(called) or self.segment(called)
                for called in (d.func if isinstance(d, ast.Call) else d for d in node.decorator_list)
            )
            end = node.end_lineno or node.lineno
            found.append(ModelClass(node.name, node.lineno, end, bases, fields, decorators))
        return tuple(sorted(found, key=lambda cls: cls.line))

    # --- text and names -----------------------------------------------------------------

    def own(self, function: ast.FunctionDef | ast.AsyncFunctionDef) -> list[ast.AST]:
        """``own_nodes(function)``, listed once per function."""
        if id(function) not in self._own:
            self._own[id(function)] = list(own_nodes(function))
        return self._own[id(function)]

    def segment(self, node: ast.AST) -> str:
        """The source of ``node`` on one line, cut to ``MAX_SEGMENT_CHARS``.

        What ``ast.get_source_segment`` gives, from lines split once: that function splits the
        whole file at every call, which makes reading a large file take minutes.
        """
        first, last = getattr(node, "lineno", None), getattr(node, "end_lineno", None)
        start, end = getattr(node, "col_offset", None), getattr(node, "end_col_offset", None)
        if first is None or last is None or start is None or end is None or last > len(self.source_lines):
            return ""
        last = min(last, first + MAX_SEGMENT_LINES)
        pieces = [line.encode() for line in self.source_lines[first - 1 : last]]
        if len(pieces) == 1:
            pieces = [pieces[0][start:end]]
        else:
            if last == getattr(node, "end_lineno", None):
                pieces[-1] = pieces[-1][:end]
            pieces[0] = pieces[0][start:]
        found = " ".join(piece.decode(errors="replace").strip() for piece in pieces)
        return found if len(found) <= MAX_SEGMENT_CHARS else found[: MAX_SEGMENT_CHARS - 1] + "…"

    def qualified(self, node: ast.AST) -> str | None:
        """The callee with imports resolved: ``sleep`` -> ``time.sleep``, ``t.sleep`` -> ``time.sleep``.

        A method of a value the file made (``msg.lower``) is known only by its name: ``.lower``.
        """
        name = dotted_name(node)
        if name is None:
            return "." + node.attr if isinstance(node, ast.Attribute) else None
        head, _, rest = name.partition(".")
        if head in self.aliases:
            base = self.aliases[head]
        elif head in FASTAPI_STAR_NAMES and "fastapi" in self.star_imports and head not in self.module_names:
            base = FASTAPI_STAR_NAMES[head]
        elif rest:
            return "." + name.rsplit(".", 1)[1]
        else:
            return head
        return f"{base}.{rest}" if rest else base

    def _imports(self) -> tuple[Import, ...]:
        found = []
        for node in self.nodes:
            if isinstance(node, ast.Import):
                for alias in node.names:
                    local = alias.asname or alias.name.split(".")[0]
                    self.aliases[local] = alias.name if alias.asname else alias.name.split(".")[0]
                    found.append(Import(alias.name, (), node.lineno, self._origin(alias.name, 0)))
            elif isinstance(node, ast.ImportFrom):
                module = "." * node.level + (node.module or "")
                names = tuple(alias.name for alias in node.names)
                for alias in node.names:
                    if alias.name == "*":
                        self.star_imports.append(module)
                    else:
                        self.aliases[alias.asname or alias.name] = f"{module}.{alias.name}".lstrip(".")
                found.append(Import(module, names, node.lineno, self._origin(node.module or "", node.level)))
        return tuple(sorted(found, key=lambda item: item.line))

    def _origin(self, module: str, level: int) -> Literal["stdlib", "runtime", "relative", "other"]:
        root = module.split(".")[0]
        if level:
            return "relative"
        if root in sys.stdlib_module_names or root == "__future__":
            return "stdlib"
        if root.lower() in self.packages:
            return "runtime"
        return "other"

    def _module_names(self) -> dict[str, int]:
        names: dict[str, int] = {}
        for node in top_level_statements(self.tree):
            for name in _bound_names(node):
                names.setdefault(name, node.lineno)
        return names

    # --- apps ---------------------------------------------------------------------------

    def _app_kind(self, value: ast.AST | None) -> tuple[AppKind, str, str] | None:
        """(kind, constructor, arguments) when ``value`` constructs an app or router."""
        if not isinstance(value, ast.Call):
            return None
        name = self.qualified(value.func) or ""
        kind = APP_CLASSES.get(name)
        if kind is None:
            short = name.rsplit(".", 1)[-1]
            kind = SHORT_APP_CLASSES.get(short)
        if kind is None:
            return None
        arguments = self.segment(value)[len(self.segment(value.func)) :].strip()[1:-1]
        return kind, self.segment(value.func), arguments

    def _apps(self) -> tuple[AppBinding, ...]:
        found: list[AppBinding] = []
        app_names: set[str] = set()
        top = set(map(id, top_level_statements(self.tree)))
        functions = {
            id(inner): node.name
            for node in self.nodes
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
            for inner in self.own(node)
        }
        assignments = sorted(
            (node for node in self.nodes if isinstance(node, (ast.Assign, ast.AnnAssign))),
            key=lambda node: node.lineno,
        )
        for node in assignments:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names = [target.id for target in targets if isinstance(target, ast.Name)]
            made = self._app_kind(node.value)
            where = "" if id(node) in top else functions.get(id(node), "")
            if id(node) not in top and not where:
                continue  # inside a class body: not a binding the grader sees
            for name in names:
                if made is not None:
                    kind, call, arguments = made
                    app_names.add(name)
                    found.append(AppBinding(name, node.lineno, kind, call, where, arguments))
                elif name in app_names and not where:
                    found.append(AppBinding(name, node.lineno, "other", "", "", self.segment(node.value or node)))
        # A name defined again by ``def app`` or ``class app`` after it held an app is a rebinding too.
        for statement in top_level_statements(self.tree):
            if (
                isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
                and statement.name in app_names
            ):
                found.append(AppBinding(statement.name, statement.lineno, "other", "", "", f"def {statement.name}"))
        return tuple(sorted(found, key=lambda binding: binding.line))

    def _inclusions(self) -> tuple[Inclusion, ...]:
        found = []
        for node in self.nodes:
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "include_router"
                and node.args
            ):
                owner = dotted_name(node.func.value) or ""
                router = dotted_name(node.args[0]) or self.segment(node.args[0])
                arguments = ", ".join(self.segment(arg) for arg in [*node.args, *node.keywords])
                found.append(Inclusion(owner, router, node.lineno, arguments))
        return tuple(sorted(found, key=lambda item: item.line))

    # --- functions and routes -----------------------------------------------------------

    def _functions_and_routes(self) -> tuple[tuple[Function, ...], tuple[Route, ...]]:
        functions: list[Function] = []
        routes: list[Route] = []
        for node in self.nodes:
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            function = self._function(node)
            functions.append(function)
            for decorator in node.decorator_list:
                route = self._route(decorator, function)
                if route is not None:
                    routes.append(route)
        by_name = {function.name: function for function in functions}
        for node in self.nodes:
            # app.add_api_route("/message", echo, methods=["POST"]): a route without a decorator.
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "add_api_route"
            ):
                endpoint = (
                    node.args[1]
                    if len(node.args) > 1
                    else next((kw.value for kw in node.keywords if kw.arg == "endpoint"), None)
                )
                if isinstance(endpoint, ast.Name) and endpoint.id in by_name:
                    route = self._route(node, by_name[endpoint.id])
                    if route is not None:
                        routes.append(route)
        functions.sort(key=lambda f: f.line)
        routes.sort(key=lambda r: r.line)
        return tuple(functions), tuple(routes)

    def _function(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> Function:
        first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
        nodes = self.own(node)
        calls = tuple(
            Call(self.qualified(call.func) or "", call.lineno, self.segment(call))
            for call in nodes
            if isinstance(call, ast.Call)
        )
        declared = tuple(name for stmt in nodes if isinstance(stmt, ast.Global) for name in stmt.names)
        assignments = tuple(self._assignments(nodes))
        params = self._params(node.args)
        local_names = {a.name for a in assignments if a.name not in declared}
        local_names |= {
            name
            for n in nodes
            if isinstance(n, (ast.With, ast.AsyncWith, ast.comprehension, ast.NamedExpr, ast.ExceptHandler))
            for name in _bound_by(n)
        }
        local_names -= set(declared)
        returns = tuple(self._return(stmt, assignments) for stmt in nodes if isinstance(stmt, ast.Return))
        last = node.body[-1] if node.body else None
        return Function(
            name=node.name,
            line=node.lineno,
            first_line=first,
            end_line=node.end_lineno or node.lineno,
            is_async=isinstance(node, ast.AsyncFunctionDef),
            params=params,
            returns=tuple(sorted(returns, key=lambda r: r.line)),
            calls=tuple(sorted(calls, key=lambda c: c.line)),
            assignments=assignments,
            globals_declared=declared,
            local_names=frozenset(local_names),
            ends_without_return=not isinstance(last, (ast.Return, ast.Raise)),
            prints=tuple(call for call in calls if call.name == "print"),
            body_line=node.body[0].lineno if node.body else node.lineno,
            endless_loops=tuple(loop.lineno for loop in nodes if isinstance(loop, ast.While) and _endless(loop)),
            return_annotation=self.segment(node.returns) if node.returns is not None else None,
            key_changes=key_changes(nodes, self.segment),
            bracketed=bracketed(nodes, {param.name for param in params}, self.segment),
            raises=tuple(self._raises(node)),
            awaits=tuple(sorted({n.lineno for n in nodes if isinstance(n, (ast.Await, ast.AsyncFor, ast.AsyncWith))})),
            removals=removals(nodes, {param.name for param in params}, self.segment),
            truth_filters=truth_filters(nodes, self.segment),
        )

    def _raises(self, function: ast.FunctionDef | ast.AsyncFunctionDef) -> Iterator[Raised]:
        """The function's own ``raise`` statements, each with the ``if`` it is in and the block that holds only it."""
        # Each statement with the chain of (statement, block holding it) from the function's body down.
        stack: list[tuple[ast.stmt, list[tuple[ast.AST, list[ast.stmt]]]]] = [
            (stmt, [(function, function.body)]) for stmt in reversed(function.body)
        ]
        while stack:
            stmt, chain = stack.pop()
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                continue
            if isinstance(stmt, ast.Raise):
                yield self._raised(stmt, chain)
            blocks = [getattr(stmt, name, None) for name in ("body", "orelse", "finalbody")]
            blocks += [handler.body for handler in getattr(stmt, "handlers", [])]
            for block in blocks:
                if isinstance(block, list):
                    stack.extend((inner, [*chain, (stmt, block)]) for inner in reversed(block))

    def _raised(self, stmt: ast.Raise, chain: list[tuple[ast.AST, list[ast.stmt]]]) -> Raised:
        parent, block = chain[-1]
        condition, condition_line = "", 0
        if isinstance(parent, ast.If) and block is parent.body:
            condition, condition_line = self.segment(parent.test), parent.lineno
        # Climb while the block holds only this statement and the statement around it is an if or a loop.
        removed: ast.stmt = stmt
        level = len(chain) - 1
        while level > 0 and len(chain[level][1]) == 1:
            around, holding = chain[level]
            if not isinstance(around, (ast.If, ast.For, ast.While)) or around.orelse or holding is not around.body:
                break
            removed, level = around, level - 1
        emptied = len(chain[level][1]) == 1
        span = (removed.lineno, removed.end_lineno or removed.lineno)
        return Raised(
            line=stmt.lineno,
            text=self.segment(stmt),
            status=_http_status(stmt.exc),
            condition=condition,
            condition_line=condition_line,
            removable=None if emptied else span,
        )

    def _assignments(self, nodes: list[ast.AST]) -> Iterator[Assignment]:
        for stmt in nodes:
            targets: list[ast.expr] = []
            value: ast.AST | None = None
            if isinstance(stmt, ast.Assign):
                targets, value = stmt.targets, stmt.value
            elif isinstance(stmt, (ast.AugAssign, ast.AnnAssign)):
                targets, value = [stmt.target], stmt.value
            elif isinstance(stmt, (ast.For, ast.AsyncFor)):
                targets, value = [stmt.target], stmt.iter
            if value is None:
                continue
            calls = self._calls_in(value)
            line = getattr(stmt, "lineno", 0)
            for target in targets:
                for name in _target_names(target):
                    yield Assignment(name, line, self.segment(stmt), calls)

    def _calls_in(self, node: ast.AST) -> tuple[Call, ...]:
        return tuple(
            Call(self.qualified(call.func) or "", call.lineno, self.segment(call))
            for call in ast.walk(node)
            if isinstance(call, ast.Call)
        )

    def _params(self, args: ast.arguments) -> tuple[Param, ...]:
        positional = [*args.posonlyargs, *args.args]
        defaults: list[ast.expr | None] = [None] * (len(positional) - len(args.defaults)) + list(args.defaults)
        found = [self._param(arg, default, "positional") for arg, default in zip(positional, defaults, strict=True)]
        if args.vararg is not None:
            found.append(self._param(args.vararg, None, "var_positional"))
        found += [
            self._param(arg, default, "keyword_only")
            for arg, default in zip(args.kwonlyargs, args.kw_defaults, strict=True)
        ]
        if args.kwarg is not None:
            found.append(self._param(args.kwarg, None, "var_keyword"))
        return tuple(found)

    def _param(
        self,
        arg: ast.arg,
        default: ast.expr | None,
        kind: Literal["positional", "keyword_only", "var_positional", "var_keyword"],
    ) -> Param:
        annotation = arg.annotation
        marker_call = default if isinstance(default, ast.Call) else None
        annotation_type = annotation
        if isinstance(annotation, ast.Subscript) and (self.qualified(annotation.value) or "").endswith("Annotated"):
            inner = annotation.slice.elts if isinstance(annotation.slice, ast.Tuple) else [annotation.slice]
            annotation_type = inner[0] if inner else None
            marker_call = marker_call or next((m for m in inner[1:] if isinstance(m, ast.Call)), None)
        marker = None
        keywords: tuple[tuple[str, str], ...] = ()
        if marker_call is not None:
            short = (self.qualified(marker_call.func) or "").rsplit(".", 1)[-1]
            if short in PARAMETER_SOURCES:
                marker = short
                keywords = tuple((kw.arg, self.segment(kw.value)) for kw in marker_call.keywords if kw.arg)
        return Param(
            name=arg.arg,
            line=arg.lineno,
            annotation=self.segment(annotation) if annotation is not None else None,
            default=self.segment(default) if default is not None else None,
            marker=marker,
            marker_keywords=keywords,
            kind=kind,
            annotation_type=(self.qualified(annotation_type) or self.segment(annotation_type))
            if annotation_type is not None
            else None,
        )

    def _return(self, node: ast.Return, assignments: tuple[Assignment, ...]) -> Return:
        value = node.value
        if value is None:
            return Return(node.lineno, "", "nothing", end_line=node.end_lineno or node.lineno)
        names = tuple(dict.fromkeys(n.id for n in ast.walk(value) if isinstance(n, ast.Name)))
        own = [call for call in self._calls_in(value) if _converts(call.name)]
        traced = self._traced_conversions(names, node.lineno, assignments)
        keys: tuple[str, ...] = ()
        values: tuple[str, ...] = ()
        if isinstance(value, ast.Dict):
            keys = tuple(k.value for k in value.keys if isinstance(k, ast.Constant) and isinstance(k.value, str))
            values = tuple(self.segment(item) for item in value.values)
        wraps = self.qualified(value.func) if isinstance(value, ast.Call) else None
        return Return(
            line=node.lineno,
            text=self.segment(value),
            kind=_return_kind(value),
            keys=keys,
            wraps=wraps,
            names=names,
            conversions=tuple(dict.fromkeys([*own, *traced])),
            end_line=node.end_lineno or node.lineno,
            values=values,
        )

    def _traced_conversions(
        self, names: tuple[str, ...], before: int, assignments: tuple[Assignment, ...]
    ) -> list[Call]:
        """Conversions in the assignments the returned names come from, followed a few steps back."""
        found: list[Call] = []
        seen: set[tuple[str, int]] = set()
        frontier = [(name, before) for name in names]
        for _ in range(MAX_TRACE_DEPTH):
            following = []
            for name, line in frontier:
                earlier = [a for a in assignments if a.name == name and a.line < line]
                if not earlier or (name, earlier[-1].line) in seen:
                    continue
                source = earlier[-1]
                seen.add((name, source.line))
                found += [call for call in source.calls if _converts(call.name)]
                following += [(word, source.line) for word in _names_in_text(source.text) if word != name]
            frontier = following
        return found

    def _route(self, decorator: ast.expr, function: Function) -> Route | None:
        call = decorator if isinstance(decorator, ast.Call) else None
        target = call.func if call is not None else decorator
        if not isinstance(target, ast.Attribute) or target.attr not in ROUTE_METHODS:
            return None
        owner = dotted_name(target.value) or self.segment(target.value)
        keywords = {kw.arg: kw.value for kw in call.keywords if kw.arg} if call is not None else {}
        path_node = call.args[0] if call is not None and call.args else keywords.get("path")
        path = path_node.value if isinstance(path_node, ast.Constant) and isinstance(path_node.value, str) else None
        methods = ROUTE_METHODS[target.attr]
        if "methods" in keywords and isinstance(keywords["methods"], (ast.List, ast.Tuple, ast.Set)):
            methods = tuple(
                str(item.value).upper()
                for item in keywords["methods"].elts
                if isinstance(item, ast.Constant) and isinstance(item.value, str)
            )

        def written(name: str) -> str | None:
            return self.segment(keywords[name]) if name in keywords else None

        bound = self.owner_lines.get(owner.split(".")[0], [])
        before = bisect.bisect_right(bound, decorator.lineno)
        return Route(
            line=decorator.lineno,
            end_line=decorator.end_lineno or decorator.lineno,
            owner=owner,
            method=target.attr,
            methods=methods,
            path=path,
            function=function,
            response_model=written("response_model"),
            status_code=written("status_code"),
            response_class=written("response_class"),
            called=call is not None,
            owner_line=bound[before - 1] if before else None,
            text=self.segment(decorator),
        )

    def _owner_lines(self) -> dict[str, list[int]]:
        """Every top-level name with the lines it is bound at, in order."""
        found: dict[str, list[int]] = {}
        for node in top_level_statements(self.tree):
            for name in _bound_names(node):
                found.setdefault(name, []).append(node.lineno)
        for lines in found.values():
            lines.sort()
        return found

    # --- state and blocking calls -------------------------------------------------------

    def _state_writes(self, functions: tuple[Function, ...], routes: tuple[Route, ...]) -> tuple[StateWrite, ...]:
        handlers = {route.function.line for route in routes}
        by_line = {
            node.lineno: node for node in self.nodes if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
        }
        found: list[StateWrite] = []
        for function in functions:
            node = by_line.get(function.line)
            if node is None:
                continue
            found += self._writes_in(node, function, function.line in handlers)
        return tuple(sorted(found, key=lambda write: write.line))

    def _writes_in(
        self, node: ast.FunctionDef | ast.AsyncFunctionDef, function: Function, handler: bool
    ) -> list[StateWrite]:
        module = self.module_names
        params = {param.name for param in function.params}
        declared = set(function.globals_declared)
        local = (function.local_names | params) - declared
        found: list[StateWrite] = []

        def write(name: str, line: int, how: StateHow, text: str) -> None:
            found.append(StateWrite(name, line, function.name, how, module.get(name), handler, text))

        first_read: dict[str, int] = {}
        for name in self.own(node):
            if isinstance(name, ast.Name) and isinstance(name.ctx, ast.Load):
                first_read[name.id] = min(first_read.get(name.id, name.lineno), name.lineno)
        for stmt in self.own(node):
            if isinstance(stmt, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
                targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
                for target in targets:
                    if isinstance(target, ast.Name) and target.id in declared:
                        write(target.id, stmt.lineno, "global", self.segment(stmt))
                    elif (
                        isinstance(target, ast.Name)
                        and target.id in module
                        and target.id not in params
                        and (
                            isinstance(stmt, ast.AugAssign) or first_read.get(target.id, stmt.lineno + 1) <= stmt.lineno
                        )
                    ):
                        write(target.id, stmt.lineno, "shadowed", self.segment(stmt))
                    elif isinstance(target, ast.Subscript):
                        base = _base_name(target.value)
                        if base and base in module and base not in local:
                            write(base, stmt.lineno, "item", self.segment(stmt))
                    elif isinstance(target, ast.Attribute):
                        base = _base_name(target.value)
                        if base and base in module and base not in local and base in self.plain_state:
                            write(base, stmt.lineno, "attribute", self.segment(stmt))
            elif isinstance(stmt, ast.Call) and isinstance(stmt.func, ast.Attribute):
                base = _base_name(stmt.func.value)
                mutates = stmt.func.attr in MUTATING_METHODS and base is not None and base not in self.aliases
                if mutates and base in module and base not in local:
                    write(str(base), stmt.lineno, "mutation", self.segment(stmt))
        return found

    def _plain_state(self) -> set[str]:
        """Top-level names bound to plain data or objects, not modules, functions or apps."""
        skip = set(self.aliases)
        for node in top_level_statements(self.tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                skip.add(node.name)
            if isinstance(node, ast.Assign) and self._app_kind(node.value) is not None:
                skip |= {t.id for t in node.targets if isinstance(t, ast.Name)}
        return set(self.module_names) - skip

    def _blocking(self, functions: tuple[Function, ...]) -> tuple[BlockingCall, ...]:
        found = [
            BlockingCall(call.name, call.line, function.name, function.is_async, call.text)
            for function in functions
            for call in function.calls
            if call.name in BLOCKING_CALLS
            or (call.name.split(".")[0] in BLOCKING_MODULES and call.name.rsplit(".", 1)[-1][:1].islower())
        ]
        return tuple(sorted(found, key=lambda item: item.line))


def _endless(loop: ast.While) -> bool:
    """Whether a ``while`` loop runs forever: no way out inside, and a test that stays true
    (a constant, or names nothing inside the loop can change: no call, no await, no assignment)."""
    constant = isinstance(loop.test, ast.Constant) and bool(loop.test.value)
    tested = {node.id for node in ast.walk(loop.test) if isinstance(node, ast.Name)}
    if not constant and (not tested or any(isinstance(node, (ast.Call, ast.Await)) for node in ast.walk(loop.test))):
        return False
    stack: list[ast.AST] = list(loop.body)
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.Break, ast.Return, ast.Raise)):
            return False
        if not constant and isinstance(node, (ast.Call, ast.Await, ast.Yield, ast.YieldFrom, ast.Global)):
            return False
        if not constant and isinstance(node, ast.Name) and node.id in tested and not isinstance(node.ctx, ast.Load):
            return False
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            stack.extend(ast.iter_child_nodes(node))
    return True


def _converts(name: str) -> bool:
    return name in CONVERSIONS or (name.startswith(".") and name[1:] in CHANGING_METHODS) or name.endswith(".dumps")


def _return_kind(value: ast.expr) -> str:
    kinds: dict[type[ast.AST], str] = {
        ast.Dict: "dict",
        ast.DictComp: "dict",
        ast.Set: "set",
        ast.SetComp: "set",
        ast.Tuple: "tuple",
        ast.List: "list",
        ast.ListComp: "list",
        ast.JoinedStr: "fstring",
        ast.Name: "name",
        ast.Call: "call",
        ast.Await: "await",
    }
    if isinstance(value, ast.Constant):
        if value.value is None:
            return "none"
        return "string" if isinstance(value.value, str) else "constant"
    return kinds.get(type(value), "other")


def _bound_names(node: ast.stmt) -> list[str]:
    """The names a top-level statement binds."""
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return [node.name]
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return [alias.asname or alias.name.split(".")[0] for alias in node.names if alias.name != "*"]
    targets: list[ast.AST] = []
    if isinstance(node, ast.Assign):
        targets = list(node.targets)
    elif isinstance(node, (ast.AugAssign, ast.AnnAssign, ast.For, ast.AsyncFor)):
        targets = [node.target]
    elif isinstance(node, ast.With):
        targets = [item.optional_vars for item in node.items if item.optional_vars is not None]
    names = []
    for target in targets:
        names += _target_names(target)
    return names


def _target_names(target: ast.AST) -> list[str]:
    """The names an assignment target binds (``a, b = ...``), not those it only reads (``a[k] = ...``)."""
    names: list[str] = []
    stack = [target]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Name):
            names.append(node.id)
        elif isinstance(node, (ast.Tuple, ast.List)):
            stack.extend(node.elts)
        elif isinstance(node, ast.Starred):
            stack.append(node.value)
    return names


def _bound_by(node: ast.AST) -> list[str]:
    """The names a ``with``, comprehension, walrus or ``except ... as`` binds."""
    if isinstance(node, (ast.With, ast.AsyncWith)):
        return [name for item in node.items if item.optional_vars for name in _target_names(item.optional_vars)]
    if isinstance(node, ast.comprehension):
        return _target_names(node.target)
    if isinstance(node, ast.NamedExpr):
        return _target_names(node.target)
    if isinstance(node, ast.ExceptHandler) and node.name:
        return [node.name]
    return []


def _base_name(node: ast.AST) -> str | None:
    """The name at the bottom of ``a.b[c].d`` (``a``)."""
    while isinstance(node, (ast.Attribute, ast.Subscript)):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


SOURCE_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")
"""A line as Python's parser counts them (ends at \\r\\n, \\r or \\n; a form feed does not end one)."""
IDENTIFIER_IN_TEXT = re.compile(r"[A-Za-z_]\w*")


def _names_in_text(text: str) -> list[str]:
    right = text.split("=", 1)[1] if "=" in text else text
    return IDENTIFIER_IN_TEXT.findall(right)
