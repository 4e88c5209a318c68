"""Conversions: values that come back with another type or another value."""

from __future__ import annotations

from grader.grading.diagnose.responses import classify
from grader.grading.diagnose.wording import Context, Rule, Words, echoes, first_difference, reply_expression


def _coerced(c: Context) -> Words:
    cases, text, path = c.cases, c.text, c.path
    changes: list[str] = []
    for case in cases:
        found = classify(case)
        change = f"{found.get('wanted')} becomes {found.get('got')}"
        if found.cause == "coerced" and change not in changes:
            changes.append(change)
    example = first_difference(cases)
    return Words(
        f"Values change type on the way back ({', '.join(changes[:3]) or 'a value becomes another type'})",
        f"A value must come back with the type it was sent with: {example}"
        'JSON\'s types count, so `3` is not `"3"`, `2.5` is not `2` and `true` is not `1`.',
        "Send the values back as they arrived; do not convert them (no str(), int(), round() on them).",
        text.find(r"\b(str|int|float|round|bool)\s*\(") or text.returned(path),
    )


def _changed(c: Context) -> Words:
    found, cases, text, path = c.found, c.cases, c.text, c.path
    key = found.get("key")
    example = first_difference(cases)
    where = f" under {key!r}" if key else ""
    line = text.find(r"\.(lower|upper|strip|title|capitalize|replace)\s*\(") or text.returned(path)
    if not echoes(cases):
        quoted = f'"{key}"' if key else "a value"
        return Words(
            f"The reply holds the wrong value{where}",
            f"The exercise expects another value{where}: {example}The reply must be exactly the object the exercise describes.",
            f"Return exactly `{reply_expression(cases)}`."
            if reply_expression(cases).startswith("{")
            else f"Check the value of {quoted} against the exercise.",
            text.quoted(key) if key else text.returned(path),
        )
    return Words(
        f"A value comes back changed{where}",
        f"The reply holds a different value{where} from the one sent: {example}The message must come back exactly as it arrived.",
        "Send the value back as it came: do not change, shorten or rewrite it.",
        line,
    )


RULES: dict[str, Rule] = {
    "coerced": _coerced,
    "changed": _changed,
}
