"""Routing: the request never reached the endpoint (wrong path, trailing slash, wrong method)."""

from __future__ import annotations

import re

from grader.grading.diagnose.rules.structure import full_path, structural
from grader.grading.diagnose.wording import Context, Rule, Words, quote_code, replaced_in_line, replaced_string


def _wrong_path(c: Context) -> Words:
    found = structural(c)
    if found is not None:
        return found
    text, path, method = c.text, c.path, c.method
    route = text.route_for(path)
    other = [r for r in text.routes() if r[2] != path]
    if other:
        line, _, wrote = other[0]
        explanation = (
            f"The grader sent {method} {path}, but your route decorator says `{quote_code(wrote)}`, so nothing in your app "
            f"answers at {path} and FastAPI replied 404 Not Found before any endpoint function ran."
        )
        return Words(
            f"Nothing answers at {path}: your route is {wrote}",
            explanation,
            f'Change the path in the decorator to "{path}": `@app.{method.lower()}("{path}")`.',
            line,
            replaced_string(text, line, wrote, path),
        )
    return Words(
        f"Nothing answers at {path}",
        f"The grader sent {method} {path} and your app replied 404 Not Found: no endpoint is registered at that path, so no function ran.",
        f'Register your endpoint with `@app.{method.lower()}("{path}")`.',
        route[0] if route else None,
    )


def _redirect(c: Context) -> Words:
    found, cases, text, path, method = c.found, c.cases, c.text, c.path, c.method
    location = found.get("location") or ""
    shown_location = re.sub(r"^https?://[^/]+", "", location) or location or "another address"
    slash = shown_location.rstrip("/") == path.rstrip("/") and shown_location.endswith("/") and not path.endswith("/")
    line = text.find(
        re.compile(r"""@\s*\w+\.\w+\(\s*(?:path\s*=\s*)?["']""" + re.escape(path.rstrip("/")) + r"""/["']""")
    )
    routed = next((r for r in c.model.routes if full_path(c.model, r) == path.rstrip("/") + "/"), None)
    if line is None and routed is not None and routed.path:
        line = routed.line
    if slash:
        return Words(
            f"Your route ends with a slash: {shown_location}",
            f"The grader sent {method} {path}; your endpoint is registered at {shown_location}, with a slash at the end, "
            f"so FastAPI answered with a redirect ({cases[0].received.status}, Location: {shown_location}) instead of calling your function. "
            "A client that follows the redirect may even drop the body.",
            f'Remove the trailing slash from the decorator: `@app.{method.lower()}("{path}")`.',
            line,
            replaced_string(text, line, path.rstrip("/") + "/", path)
            or (replaced_string(text, line, routed.path, routed.path[:-1]) if routed and routed.path else None),
        )
    return Words(
        f"Your app redirects {path} elsewhere",
        f"The grader sent {method} {path} and got a redirect ({cases[0].received.status}) to {shown_location} instead of an answer.",
        f"Answer at {path} itself instead of redirecting.",
        line,
    )


def _wrong_method(c: Context) -> Words:
    text, path, method = c.text, c.path, c.method
    route = text.route_for(path)
    registered = route[1] if route else None
    if registered and registered not in ("api_route", "route"):
        return Words(
            f"Your endpoint takes {registered.upper()}, the exercise sends {method}",
            f"Your route decorator `@app.{registered}` registers {path} for {registered.upper()} requests only, so the "
            f"grader's {method} requests were refused with 405 Method Not Allowed before your function ran.",
            f'Use `@app.{method.lower()}("{path}")` instead of `@app.{registered}("{path}")`.',
            route[0] if route else None,
            replaced_in_line(text, route[0] if route else None, f".{registered}(", f".{method.lower()}(")
            if _takes_the_body(c)
            else None,
        )
    if registered == "api_route" and route is not None:
        return Words(
            f"`@app.api_route` without `methods` takes only GET; the exercise sends {method}",
            f"Line {route[0]} registers {path} with `@app.api_route` and no `methods=`, and then FastAPI takes GET "
            f"requests only, so the grader's {method} requests were refused with 405 before your function ran.",
            f'Use `@app.{method.lower()}("{path}")`.',
            route[0],
            replaced_in_line(text, route[0], ".api_route(", f".{method.lower()}("),
        )
    return Words(
        f"{path} does not take {method} requests",
        f"The grader's {method} requests to {path} were refused with 405 Method Not Allowed before your function ran.",
        f'Register the endpoint with `@app.{method.lower()}("{path}")`.',
        route[0] if route else None,
    )


def _takes_the_body(c: Context) -> bool:
    """Whether the route's function declares the message as a dict or a model (so only its method is wrong)."""
    route = c.model.route_for(c.path)
    params = route.function.body_params if route is not None else ()
    return any(p.annotation == "dict" or c.model.class_named(p.annotation or "") for p in params)


def _method_allowed(c: Context) -> Words:
    cases, text, path, method = c.cases, c.text, c.path, c.method
    wanted = _wanted_method(c)
    answering = c.model.route_for(path, method)
    # A route of its own for the method to refuse, beside the one the exercise asks for.
    if (
        answering is not None
        and answering.path == path
        and method in answering.methods
        and wanted not in answering.methods
    ):
        function = answering.function
        return Words(
            f"A second endpoint answers {method} {path}",
            f"Line {answering.line} registers `{function.name}` (line {function.line}) for {method} {path}, "
            f"beside your {wanted} endpoint. The grader sent {method} {path} and expected 405 Method Not "
            f"Allowed, which FastAPI answers by itself when no route takes that method; your app answered "
            f"{cases[0].received.status} instead.",
            f"Remove the endpoint `{function.name}` (lines {function.first_line} to {function.end_line}): "
            f"{path} must answer {wanted} only.",
            answering.line,
        )
    route = text.route_for(path)
    return Words(
        f"{path} answers {method} requests it should refuse",
        f"The grader sent {method} {path} and expected 405 Method Not Allowed; your app answered "
        f"{cases[0].received.status} instead, so it registers {path} for more methods than the exercise asks.",
        f'Register the endpoint with `@app.{_wanted_method(c).lower()}("{path}")` only (not `@app.api_route` with several methods, nor a second route).',
        route[0] if route else None,
    )


def _wanted_method(c: Context) -> str:
    """The method the exercise's successful requests to this path use."""
    for case in c.every_case:
        wanted = case.expected.status or 0
        if case.request.path == c.path and 200 <= wanted < 300 and case.request.method:
            return case.request.method
    return "POST"


RULES: dict[str, Rule] = {
    "wrong_path": _wrong_path,
    "redirect": _redirect,
    "wrong_method": _wrong_method,
    "method_allowed": _method_allowed,
}
