"""Content type: JSON text sent under a media type a JSON client refuses, told from where the file sets it."""

from __future__ import annotations

import re

from grader.grading.diagnose.wording import Context, Rule, Words, at_line, capitalised
from grader.grading.headers import CONTENT_TYPE, JSON_MEDIA_TYPE, checked_content_type
from grader.grading.response_source import response_site


def _not_json_media_type(c: Context) -> Words:
    """JSON text sent under a media type a JSON client refuses, told from where the file sets it."""
    sent, wanted = c.found.get("sent") or "", c.found.get("wanted") or JSON_MEDIA_TYPE
    reply, text = c.reply(), c.text
    content_type = checked_content_type(c.cases[0].received.headers.get(CONTENT_TYPE))
    kinds = {"text/plain": "plain text", "text/html": "a web page (HTML)"}
    if not sent:
        title, came = "The reply does not say it is JSON", "came with no `Content-Type` header at all"
    elif content_type is None:
        title, came = "The reply does not say it is JSON", "came with a `Content-Type` header that is not a media type"
    else:
        title = (
            f"The reply is sent as {kinds.get(sent, sent)}, not as {'JSON' if wanted == JSON_MEDIA_TYPE else wanted}"
        )
        came = f"came with `Content-Type: {content_type}`"
    if wanted == JSON_MEDIA_TYPE:
        why = (
            "A JSON client reads that header before the body, and only reads the body as JSON when it says "
            "`application/json` (or a type ending in `+json`), so it would refuse this reply."
        )
        target = JSON_MEDIA_TYPE
    else:
        why = f"The exercise asks for replies sent as `{wanted}`."
        target = wanted
    # A header that is not a media type is nothing a line of the file shows: none is claimed.
    site = response_site(text.text, c.path, sent) if content_type is not None or not sent else None
    plain_return = f"return the dict itself (`return {reply}`); FastAPI sends a dict as JSON"
    if site is not None and text.in_endpoint(c.path, re.escape(f"return {reply}")):
        plain_return = "let FastAPI send the dict your function returns (it sends a dict as JSON)"
    if text.find(r"\bFastAPI\s*\(") is None:  # Starlette or a bare ASGI app: nothing turns a dict into JSON
        plain_return = f"build the reply with `JSONResponse({reply})`"
    if target != JSON_MEDIA_TYPE:
        plain_return = f'build the reply with `JSONResponse(..., media_type="{target}")`'
    cls, value, line = (site.class_name, site.value, site.line) if site else (None, "", None)
    if site is None:
        where = ""
        fix = f'{capitalised(plain_return)}. Or give your response `media_type="{target}"`.'
    elif site.how == "header":
        where = f" The `Content-Type` header your code sets to {value} decides it{at_line(text, line)}."
        fix = f"Set that header to `{target}`, or leave it out and {plain_return}."
    elif site.how == "media_type" and site.json_class and target == JSON_MEDIA_TYPE:
        where = f" `media_type={value}` given to `{cls}` decides it{at_line(text, line)}."
        fix = f"Remove `media_type={value}`: `{cls}` sends `{JSON_MEDIA_TYPE}` by itself."
    elif site.how == "media_type":
        where = f" `media_type={value}` given to `{cls}` decides it{at_line(text, line)}."
        fix = f'Write `media_type="{target}"` instead of `media_type={value}`, or {plain_return}.'
    elif site.how in ("response_class", "default_response_class"):
        owner = "`FastAPI(...)`"
        if site.how == "response_class":
            owner = "the route decorator" if text.code(line).startswith("@") else "the route's registration"
        where = (
            f" `{site.how}={value}` in {owner}{at_line(text, line)} makes FastAPI send what your function returns "
            f"as `{sent}`."
        )
        fix = f"Remove `{site.how}={value}` from {owner}, then {plain_return}."
    elif site.class_line is not None:
        says = f"says `media_type = {site.value}`" if site.value else "inherits its media type"
        where = (
            f" Your class `{cls}` (line {site.class_line}) {says}, and the reply is built with it{at_line(text, line)}."
        )
        fix = f'In `{cls}`, write `media_type = "{target}"`, or {plain_return}.'
    else:
        sends = f"sends `{sent}`" if sent else "sends no `Content-Type` unless it is given a `media_type`"
        where = f" `{cls}` {sends}{at_line(text, line)}."
        dropped = f"`{cls}` and `json.dumps`" if "json.dumps" in text.code(line) else f"`{cls}`"
        fix = f"Drop {dropped}, then {plain_return}."
        if target != JSON_MEDIA_TYPE:
            fix = f'Give `{cls}` `media_type="{target}"`.'
        elif not sent:
            fix = f'Give `{cls}` `media_type="{target}"`, or drop {dropped}, then {plain_return}.'
    return Words(
        title,
        f"Your endpoint's reply looks like JSON, but it {came}. {why}{where}",
        fix,
        line,
    )


RULES: dict[str, Rule] = {"not_json_media_type": _not_json_media_type}
