"""Keys of the reply: misspelt, renamed, dropped or added."""

from __future__ import annotations

import re

from grader.grading.diagnose.wording import Context, Rule, Words, quote_code, replaced_string


def _misspelt_key(c: Context) -> Words:
    found, text, path = c.found, c.text, c.path
    wrong, right = found.get("wrong"), found.get("right")
    return Words(
        f"Misspelt key: you wrote `{quote_code(wrong)}`; the key is `{quote_code(right)}`",
        f'Your reply uses the key "{wrong}" where the exercise expects "{right}". To a program these are two '
        "different keys, so every reply that should hold it fails, although the message itself is right.",
        f'Write "{right}" instead of "{wrong}".',
        text.quoted(wrong) or text.returned(path),
        replaced_string(c.text, c.text.quoted(wrong), wrong, right),
    )


def _renamed_key(c: Context) -> Words:
    found, text, path = c.found, c.text, c.path
    wrong, right = found.get("wrong"), found.get("right")
    return Words(
        f"Wrong key: you wrote `{quote_code(wrong)}`; the key is `{quote_code(right)}`",
        f'Your reply puts the value under "{wrong}"; the exercise expects the key "{right}".',
        f'Use the key "{right}" instead of "{wrong}".',
        text.quoted(wrong) or text.returned(path),
        replaced_string(c.text, c.text.quoted(wrong), wrong, right),
    )


FILTERED = re.compile(r"\bfor\b[^\]}]*\bin\b[^\]}]*\bif\b(?P<condition>[^\]}]+)[\]}]")


def _dropped_fields(c: Context) -> Words:
    reply = c.reply()
    text, path = c.text, c.path
    route = c.route
    filtered = text.find(FILTERED, route.function.line, route.function.end_line) if route is not None else None
    match = FILTERED.search(text.lines[filtered - 1]) if filtered else None
    if filtered is not None and match is not None:
        condition = f"if {match.group('condition').strip()}"
        return Words(
            "Fields of the message are missing from the reply",
            f"Line {filtered} copies the message with `{quote_code(condition)}`, which leaves out every field whose "
            "value does not pass it: false, 0, null, an empty text or list. The message must come back whole.",
            f"Send the message itself: `return {reply}`, without the copy.",
            filtered,
        )
    return Words(
        "Fields of the message are missing from the reply",
        "Some fields the grader sent did not come back: your endpoint builds a new object from a few fields "
        "instead of sending back the whole message.",
        f"Return the whole message: `return {reply}`, without picking fields out of it.",
        text.returned(path),
    )


def _added_fields(c: Context) -> Words:
    found, text, path = c.found, c.text, c.path
    keys = ", ".join(f'"{key}"' for key in found.get("keys", ()))
    return Words(
        "The reply holds fields the message did not have",
        f"Your reply adds {keys or 'fields'} that the grader never sent; the message must come back exactly as it arrived.",
        "Send the message back unchanged: do not add fields to it.",
        text.quoted(found.get("keys", ("",))[0]) if found.get("keys") else text.returned(path),
    )


RULES: dict[str, Rule] = {
    "misspelt_key": _misspelt_key,
    "renamed_key": _renamed_key,
    "dropped_fields": _dropped_fields,
    "added_fields": _added_fields,
}
