"""Numbers in text a client sent (a query string, a form field): plain ASCII digits, bounded in length.

``int()`` reads more than a client means (``"٣"``, ``" 12_0 "``, ``"+3"``) and refuses more
than 4,300 digits with ``ValueError``; a long number is also slow to convert. So the text
is measured and checked before ``int()`` sees it.
"""

from __future__ import annotations

from grader.models import MAX_ROW_ID

MAX_DIGITS = len(str(MAX_ROW_ID))
"""The most digits an id, a cursor or a page number can have (19)."""


def plain_number(text: str) -> int | None:
    """The number ``text`` spells in at most ``MAX_DIGITS`` ASCII digits, else None."""
    if 0 < len(text) <= MAX_DIGITS and text.isascii() and text.isdigit():
        return int(text)
    return None


def shortened(text: str, length: int = 30) -> str:
    """``text`` cut to ``length`` characters for a message (an ellipsis marks the cut)."""
    return text if len(text) <= length else text[: length - 1] + "…"
