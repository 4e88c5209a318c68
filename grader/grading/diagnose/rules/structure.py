"""Code structure: why a route the file declares does not answer (read from the source model).

A 404 says only that nothing answered; the learner's file says why: the app was
made again after its routes, a decorator without its brackets, a function with no
decorator, a router never included or included before its routes, a prefix added
on the way, a path parameter, two routes for one address.
"""

from __future__ import annotations

import re

from grader.grading.diagnose.rules.status import other
from grader.grading.diagnose.wording import Context, Rule, Words, quote_code
from grader.grading.evidence import AppBinding, CheckerFact, Route, SourceModel, checker_facts
from grader.grading.report import FixPatch

PREFIX = re.compile(r"""prefix\s*=\s*["'](?P<prefix>[^"']*)["']""")


def full_path(model: SourceModel, route: Route) -> str | None:
    """The address a route answers at: its router's prefix, the inclusion's prefix, its own path."""
    if route.path is None:
        return None
    binding = next((b for b in model.apps if b.name == route.owner and b.kind == "router"), None)
    if binding is None:
        return route.path
    own = PREFIX.search(binding.arguments)
    inclusion = next((i for i in model.inclusions if i.router == route.owner), None)
    added = PREFIX.search(inclusion.arguments) if inclusion is not None else None
    return (added.group("prefix") if added else "") + (own.group("prefix") if own else "") + route.path


def structural(c: Context) -> Words | None:
    """Why no route answered at the request's address, when the file's structure shows it."""
    for rule in (
        _app_rebound,
        _decorator_not_called,
        _missing_decorator,
        _router_not_included,
        _router_included_early,
        _prefix_added,
        _path_parameter,
    ):
        found = rule(c)
        if found is not None:
            return found
    return None


def _served(model: SourceModel) -> AppBinding | None:
    return next((b for b in reversed(model.apps) if b.kind == "app" and not b.function), None)


def _app_rebound(c: Context) -> Words | None:
    served = _served(c.model)
    if served is None:
        return None
    lost = c.model.lost_routes(served.name)
    if not lost:
        return None
    code = c.text.code(served.line)
    return Words(
        f"`{served.name}` is made again after its routes were put on it",
        f"Line {lost[0].line} puts your route on the `{served.name}` made first; line {served.line} "
        f"(`{quote_code(code)}`) then makes a new, empty application under the same name, and that one is what "
        "the grader serves, so nothing answers.",
        f"Make the application once, above the routes: delete line {served.line}, or move what it adds "
        f"(`{quote_code(code.split('=', 1)[-1].strip())}`) into the first `{served.name} = FastAPI(...)`.",
        served.line,
        FixPatch(served.line, c.text.lines[served.line - 1], ""),
        "app_rebound",
    )


def _decorator_not_called(c: Context) -> Words | None:
    route = next((r for r in c.model.routes if not r.called), None)
    if route is None:
        return None
    wanted = f'@{route.owner}.{route.method}("{c.path}")'
    return Words(
        f"`@{route.owner}.{route.method}` is missing its brackets and path",
        f'Line {route.line} writes `@{route.owner}.{route.method}` without `("{c.path}")`: the decorator is then '
        f"never called, so `{route.function.name}` is registered at no address and FastAPI answers 404.",
        f"Give the decorator its path: `{wanted}`.",
        route.line,
        _line_replaced(c, route.line, wanted),
        "decorator_not_called",
    )


def _line_replaced(c: Context, line: int, new: str) -> FixPatch | None:
    before = c.text.lines[line - 1]
    indent = before[: len(before) - len(before.lstrip())]
    return FixPatch(line, before, indent + new) if before.strip() != new else None


def _missing_decorator(c: Context) -> Words | None:
    if c.model.routes:
        return None
    served = _served(c.model)
    function = next((f for f in c.model.functions if f.body_params and f.line > (served.line if served else 0)), None)
    if served is None or function is None:
        return None
    decorator = f'@{served.name}.{c.method.lower()}("{c.path}")'
    before = c.text.lines[function.first_line - 1]
    return Words(
        f"`{function.name}` is not registered at any address",
        f"The function `{function.name}` (line {function.line}) is never put on `{served.name}`: without a route "
        f"decorator above it, FastAPI does not know it should answer {c.method} {c.path}, and answers 404.",
        f"Put the decorator on the line above it: `{decorator}`.",
        function.line,
        FixPatch(function.first_line, before, f"{decorator}\n{before}"),
        "missing_decorator",
    )


def _router_not_included(c: Context) -> Words | None:
    served = _served(c.model)
    for router in c.model.routers():
        if c.model.routes_on(router.name) and not c.model.included(router.name) and served is not None:
            statement = f"{served.name}.include_router({router.name})"
            last = len(c.text.lines)
            tail = c.text.lines[last - 1] if last else ""
            patch = FixPatch(last, tail, f"{tail}\n{statement}") if tail.strip() else None
            return Words(
                f"The router `{router.name}` is never included in `{served.name}`",
                f"Your route is put on `{router.name}` (line {router.line}), but the grader serves `{served.name}`, "
                f"and a router's routes reach the app only once it is included, so nothing answers {c.path}.",
                f"Include it after its routes, at the end of the file: `{statement}`.",
                router.line,
                patch,
                "router_not_included",
            )
    return None


def _router_included_early(c: Context) -> Words | None:
    for inclusion in c.model.inclusions:
        routes = c.model.routes_on(inclusion.router)
        if routes and all(route.line > inclusion.line for route in routes):
            return Words(
                f"`{inclusion.router}` is included before its routes exist",
                f"Line {inclusion.line} includes `{inclusion.router}` in `{inclusion.app}`, which copies the routes it "
                f"holds at that moment: none yet, since they are put on it further down (line {routes[0].line}).",
                f"Delete line {inclusion.line}, `{quote_code(c.text.code(inclusion.line))}`, and write it again after "
                "the routes, at the end of the file.",
                inclusion.line,
                _moved_to_the_end(c, inclusion.line),
                "router_included_early",
            )
    return None


def _moved_to_the_end(c: Context, line: int) -> FixPatch | None:
    """The file from ``line`` on, with that line moved to the end (a patch of every line after it)."""
    rest = c.text.lines[line - 1 :]
    if len(rest) < 2 or rest[0][:1].isspace():
        return None
    return FixPatch(line, "\n".join(rest), "\n".join([*rest[1:], rest[0]]))


def _prefix_added(c: Context) -> Words | None:
    for route in c.model.routes:
        inclusion = next((i for i in c.model.inclusions if i.router == route.owner), None)
        added = PREFIX.search(inclusion.arguments) if inclusion is not None else None
        address = full_path(c.model, route)
        if inclusion is None or added is None or address == c.path:
            continue
        return Words(
            f"Your route answers at {address}, not {c.path}",
            f'Line {inclusion.line} includes the router with `prefix="{added.group("prefix")}"`, which goes in '
            f"front of every path it holds: `{route.path}` becomes {address}, and the grader sends {c.path}.",
            f"Include the router without that prefix: `{inclusion.app}.include_router({inclusion.router})`.",
            inclusion.line,
            _without_prefix(c, inclusion.line),
            "wrong_path",
        )
    return None


def _without_prefix(c: Context, line: int) -> FixPatch | None:
    code = c.text.lines[line - 1]
    fixed = re.sub(r"""\s*,\s*prefix\s*=\s*["'][^"']*["']""", "", code)
    return FixPatch(line, code, fixed) if fixed != code else None


def _path_parameter(c: Context) -> Words | None:
    route = next(
        (r for r in c.model.routes if r.path and "{" in r.path and r.path.split("{")[0].rstrip("/") == c.path), None
    )
    if route is None or route.path is None:
        return None
    parameter = route.path[route.path.index("{") :].split("/")[0]
    return Words(
        f"`{parameter}` makes the message part of the address",
        f"Line {route.line} registers `{route.path}`: the `{parameter}` part is a path parameter, read from the "
        f"address itself (`{c.path}/Hello`). The grader sends its message in the body to {c.path}, an address "
        "this route does not have.",
        f"Register the route at `{c.path}` and take the message from the body as one parameter, `msg: dict`.",
        route.line,
        None,
        "path_parameter",
    )


def duplicate_routes(model: SourceModel) -> tuple[Route, Route] | None:
    """The first two routes registered for the same method and address, if any."""
    seen: dict[tuple[str, str], Route] = {}
    for route in model.routes:
        address = full_path(model, route)
        for method in route.methods:
            if address is None:
                continue
            first = seen.setdefault((method, address), route)
            if first is not route:
                return first, route
    return None


def _duplicate_route(c: Context) -> Words:
    pair = duplicate_routes(c.model)
    if pair is None:
        return other(c)
    first, second = pair
    return Words(
        f"Two routes answer {first.methods[0]} {full_path(c.model, first)}; only the first one ever runs",
        f"Your file registers `{first.path}` two times, on lines {first.line} and {second.line}. FastAPI calls the first route that "
        f"matches, `{first.function.name}` on line {first.function.line}, so the function under line {second.line} "
        "never runs, whatever it returns.",
        f"Keep one route for `{first.path}`: delete the one you no longer want (with its function).",
        first.line,
        None,
        "duplicate_route",
    )


def redefined_helper(model: SourceModel, path: str, method: str) -> CheckerFact | None:
    """A function the route calls that the file defines twice (pyflakes's redefinition): the second one is used."""
    route = model.route_for(path, method)
    if route is None:
        return None
    called = {call.name for call in route.function.calls} - {route.function.name}
    return next(
        (fact for fact in checker_facts(model.text) if fact.kind == "redefinition" and fact.name in called),
        None,
    )


def _redefined_function(c: Context) -> Words:
    fact = redefined_helper(c.model, c.path, c.method)
    if fact is None:
        return other(c)
    return Words(
        f"`{fact.name}` is defined twice, and the second one is the one your endpoint calls",
        f"Your file defines `{fact.name}` on line {fact.other_line} and again on line {fact.line}. A second `def` "
        f"with the same name replaces the first, so your endpoint calls the one on line {fact.line}, whatever the "
        "first one does.",
        f"Keep one `{fact.name}`: delete the one you do not want, or give it another name.",
        fact.line,
        None,
        "redefined_function",
    )


RULES: dict[str, Rule] = {"duplicate_route": _duplicate_route, "redefined_function": _redefined_function}
