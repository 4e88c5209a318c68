"""A tiny, safe Markdown subset for exercise instructions and hints.

Everything is escaped first; only then do a handful of patterns become tags:
paragraphs (blank lines), bullet lists (``* `` or ``- ``), ```` `code` ````,
``**bold**`` and fenced code blocks. No links, no raw HTML, no attributes,
so nothing an author writes can run in a learner's browser.
"""

from __future__ import annotations

import re

from markupsafe import Markup, escape

_CODE = re.compile(r"`([^`\n]+)`")
_BOLD = re.compile(r"\*\*([^*\n]+)\*\*")
_BULLET = re.compile(r"^\s*[*-]\s+")


def _inline(text: str) -> str:
    escaped = str(escape(text))
    pieces = _CODE.split(escaped)
    # Odd pieces sat between backticks: code, left alone; bold applies only outside code.
    for index, piece in enumerate(pieces):
        if index % 2:
            pieces[index] = f"<code>{piece}</code>"
        else:
            pieces[index] = _BOLD.sub(r"<strong>\1</strong>", piece)
    return "".join(pieces)


def render_inline(text: str) -> Markup:
    """One line of ``text`` as HTML: escaped, with only `code` and **bold** (no paragraphs)."""
    return Markup(_inline(" ".join(text.split())))


def plain_text(text: str) -> str:
    """One line of ``text`` with the Markdown marks taken out, for places that show no markup."""
    return _BOLD.sub(r"\1", _CODE.sub(r"\1", " ".join(text.split())))


def render_markdown(text: str) -> Markup:
    """``text`` as HTML: escaped, with the subset described in the module docstring."""
    blocks: list[str] = []
    lines = text.strip("\n").splitlines()
    paragraph: list[str] = []
    items: list[str] = []
    index = 0

    def flush() -> None:
        if paragraph:
            blocks.append("<p>" + _inline(" ".join(line.strip() for line in paragraph)) + "</p>")
            paragraph.clear()
        if items:
            blocks.append("<ul>" + "".join(f"<li>{_inline(item)}</li>" for item in items) + "</ul>")
            items.clear()

    while index < len(lines):
        line = lines[index]
        if line.strip().startswith("```"):
            flush()
            code: list[str] = []
            index += 1
            while index < len(lines) and not lines[index].strip().startswith("```"):
                code.append(lines[index])
                index += 1
            blocks.append("<pre><code>" + str(escape("\n".join(code))) + "</code></pre>")
        elif not line.strip():
            flush()
        elif _BULLET.match(line):
            if paragraph:
                flush()
            items.append(_BULLET.sub("", line, count=1))
        elif items and line.startswith((" ", "\t")):
            # An indented line continues the list item above it.
            items[-1] += " " + line.strip()
        else:
            if items:
                flush()
            paragraph.append(line)
        index += 1
    flush()
    return Markup("\n".join(blocks))
