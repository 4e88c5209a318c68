"""The Jinja environment of the pages and the one function routes render with."""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from typing import Any

import jinja2
from fastapi import Request
from fastapi.templating import Jinja2Templates
from starlette.responses import Response

from grader.grading.report import error_kind_words, format_points
from grader.grading.visibility import STAFF_WORDS
from grader.web import report_view, times
from grader.web.assets import EDITOR_SHA256, integrity
from grader.web.markup import plain_text, render_inline, render_markdown
from grader.web.menu import site_menu
from grader.web.security import CSRF_FIELD, csrf_token

TEMPLATES_DIR = Path(__file__).parent / "templates"


def pretty_body(body: str | None) -> str:
    """A response or request body, indented when it is JSON; returned as text (still escaped on output)."""
    if body is None:
        return ""
    try:
        return json.dumps(json.loads(body), indent=2, ensure_ascii=False)
    except ValueError:
        return body


def percent(part: float | None, whole: float | None) -> int:
    """``part`` of ``whole`` as a whole percentage (0 when there is nothing to divide)."""
    if not part or not whole:
        return 0
    return round(100 * part / whole)


def _page_context(request: Request) -> dict[str, Any]:
    return {
        "current_user": getattr(request.state, "user", None),
        # Called by the menu alone, so a fragment or a page nobody is signed in to reads nothing.
        "site_menu": lambda: site_menu(request),
        "csrf_token": csrf_token(request),
        "csrf_field": CSRF_FIELD,
    }


def _build_templates() -> Jinja2Templates:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["markdown"] = render_markdown
    env.filters["inline_markdown"] = render_inline
    env.filters["plain_text"] = plain_text
    env.filters["shell_quote"] = shlex.quote
    env.filters["points"] = format_points
    env.filters["utc_text"] = times.utc_text
    env.filters["pretty_body"] = pretty_body
    env.filters["error_words"] = error_kind_words
    env.filters["visibility_words"] = STAFF_WORDS.__getitem__
    env.globals["percent"] = percent
    env.globals["when"] = times.when
    env.globals["date_field"] = times.date_field
    env.globals["arrange_report"] = report_view.build
    env.globals["diagnosed_lines"] = report_view.diagnosed_lines
    env.globals["editor_integrity"] = integrity(EDITOR_SHA256)
    return Jinja2Templates(env=env, context_processors=[_page_context])


templates = _build_templates()


def render(
    request: Request,
    name: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    """Render page ``name`` with ``context`` plus the signed-in user and the CSRF token."""
    return templates.TemplateResponse(request, name, context or {}, status_code=status_code, headers=headers)


def render_fragment(request: Request, name: str, context: dict[str, Any]) -> str:
    """Render a partial to a string with the same page context as ``render`` (for event streams)."""
    template = templates.env.get_template(name)
    return template.render({**_page_context(request), "request": request, **context})
