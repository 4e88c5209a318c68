"""The response headers a case checks: the media type as a JSON client judges it, and others by name.

A JSON client (a browser's ``fetch(...).json()`` behind a framework, an API
client generated from an OpenAPI description) looks at ``Content-Type`` before
it reads the body: text sent as ``text/plain`` or ``text/html`` is not JSON to
it, however much it looks like JSON. So a case that checks a JSON body also
checks the media type, by the rule its exercise states (``json`` unless the
exercise or the case says otherwise).

On the expected side of a case, ``content-type: application/json`` stands for
"any JSON media type": ``application/json`` or a type with the ``+json`` suffix
(``application/problem+json``), parameters such as ``charset`` allowed. Any
other expected media type must be matched exactly (parameters aside). Every
other expected header must come back with exactly the value given.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

CONTENT_TYPE = "content-type"
JSON_MEDIA_TYPE = "application/json"
ANY_MEDIA_TYPE = "any"
JSON_RULE = "json"
# type "/" subtype, as RFC 9110 spells a media type (parameters are not part of it).
_TOKEN = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
MEDIA_TYPE_PATTERN = re.compile(rf"^{_TOKEN}/{_TOKEN}$")
HEADER_NAME_PATTERN = re.compile(rf"^{_TOKEN}$")
# A Content-Type as servers write it: a media type and simple parameters (charset=utf-8, boundary="x").
CONTENT_TYPE_PATTERN = re.compile(rf'^{_TOKEN}/{_TOKEN}(\s*;\s*{_TOKEN}=({_TOKEN}|"[^"\\\x00-\x1f]*"))*\s*$')
SHOWN_CHARS = 100


def media_type(content_type: str | None) -> str:
    """The media type of a ``Content-Type`` value, lower-cased, without parameters ('' when none)."""
    if not content_type:
        return ""
    return content_type.split(";", 1)[0].strip().lower()


def checked_content_type(value: str | None) -> str | None:
    """A received ``Content-Type`` fit to quote in feedback: well formed and short, else None.

    The submission writes its headers; feedback quotes only what has the shape of
    a media type, never free text a program chose to put there.
    """
    if value is None or len(value) > SHOWN_CHARS or not CONTENT_TYPE_PATTERN.match(value):
        return None
    return value


def is_json_media_type(value: str) -> bool:
    """Whether a media type is one a JSON client reads as JSON: application/json or any ``+json`` type."""
    kind = media_type(value)
    if kind == JSON_MEDIA_TYPE:
        return True
    subtype = kind.partition("/")[2]
    return bool(MEDIA_TYPE_PATTERN.match(kind)) and subtype.endswith("+json") and len(subtype) > len("+json")


def expected_media_type(rule: str) -> str | None:
    """What a case's expectation records for a media-type rule: None when it is not checked."""
    if rule == ANY_MEDIA_TYPE:
        return None
    if rule == JSON_RULE:
        return JSON_MEDIA_TYPE
    return media_type(rule)


def media_type_accepted(expected: str, received_content_type: str | None) -> bool:
    """Whether a response's ``Content-Type`` satisfies the expected media type (see the module's docstring)."""
    if media_type(expected) == JSON_MEDIA_TYPE:
        return is_json_media_type(received_content_type or "")
    return media_type(received_content_type) == media_type(expected)


def media_type_problem(expected: Mapping[str, str], received: Mapping[str, str]) -> str | None:
    """Why the response's media type fails the case, in words; None when it passes or is not checked."""
    wanted = expected.get(CONTENT_TYPE)
    if wanted is None:
        return None
    sent = received.get(CONTENT_TYPE)
    if media_type_accepted(wanted, sent):
        return None
    shown = checked_content_type(sent)
    if sent is None:
        came = "has no Content-Type header"
    elif shown is None:
        came = "has a Content-Type header that is not a media type"
    else:
        came = f"says Content-Type: {shown}"
    if media_type(wanted) == JSON_MEDIA_TYPE:
        needs = (
            "a JSON client needs application/json (or another type ending in +json) before it reads the body as JSON"
        )
    else:
        needs = f"the exercise asks for {wanted}"
    return f"the response {came}, but {needs}"


def header_problem(expected: Mapping[str, str], received: Mapping[str, str]) -> str | None:
    """The first header other than the media type that does not come back as expected, in words."""
    for name, value in expected.items():
        if name == CONTENT_TYPE:
            continue
        got = received.get(name)
        if got is None:
            return f"header {name} is missing: expected {name}: {value}"
        if got.strip() != value.strip():
            return f"header {name} differs: expected {name}: {value}, received {name}: {got}"
    return None
