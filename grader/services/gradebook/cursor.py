"""Where a page stands in the sequence of changes: its cursor, and whether anything changed since.

A cursor is the number of the latest change a page has seen (``ChangeSequence``): every change
numbered up to it is committed, so a later read of the changes misses none.
"""

from __future__ import annotations

from sqlmodel import Session, col, select

from grader.models import ChangeSequence
from grader.services.numbers import plain_number

MAX_CURSOR = 2**63 - 1


def current_cursor(*, session: Session) -> str:
    """A cursor for ``changes``: the number of the latest change (every change up to it is committed)."""
    value = session.exec(select(col(ChangeSequence.value)).where(col(ChangeSequence.id) == 1)).first()
    return str(value or 0)


def cursor_number(cursor: str | None) -> int:
    """The change number a cursor stands for (0, the start, for anything the sequence never gave)."""
    # Anything but a number the sequence could have reached (a page from before the
    # sequence, whose cursor was a time; a made-up value) counts as the start: all is sent once.
    number = plain_number(cursor or "")
    return number if number is not None and number <= MAX_CURSOR else 0


def has_changed(*, session: Session, since: str | None) -> bool:
    """Whether anything the views show changed after ``since`` (one row read by its key)."""
    return int(current_cursor(session=session)) != cursor_number(since)
